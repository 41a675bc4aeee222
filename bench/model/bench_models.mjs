// The model section's GGUF files, all written by nibble_make_bench_model
// (tools/make_bench_model.cpp: seeded random weights in a real model's
// shape, quantized by our own quantizer) into build/bench/, made on first use.
//
//   id            what                                                     issue
//   smollm2-q4_0  SmolLM2-135M's shape, Q4_0 (the main model: both builds, #4, #14
//                 64- and 512-token prompts, W4A4 beside W4A8)
//   smollm2-q4_k_m  the same weights as llama-quantize's Q4_K_M mix       #11 item 5
//                 (mostly Q5_0: 576 is not a multiple of 256; both builds)
//   qwen2.5-0.5b-q4_k_m  Qwen2.5-0.5B's shape, Q4_K_M mix (mostly Q5_0,   #12 item 5
//                 151,936-token vocabulary; ~400 MB, ~20 s to write)
//
// bos: the vocabulary adds BOS (wllama's prompt text depends on it).
// simdBuild: the plain SIMD build runs beside the default one (issue #11:
// within 1.5× of relaxed); baselineBuild: the W4A4 comparison too.
// weights: loadModel()'s option for nibble (undefined: the file's types).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import path from 'node:path';

export const BENCH_MODELS = [
  {
    id: 'smollm2-q4_0', file: 'bench_model.gguf', args: ['--seed', '1'], title: 'SmolLM2-135M-shaped Q4_0',
    weights: 'q4_0', prompts: [64, 512], baselineBuild: true, simdBuild: true, bos: true,
  },
  {
    id: 'smollm2-q4_k_m', file: 'bench_model_q4_k_m.gguf', args: ['--seed', '1', '--mix', 'q4_k_m'],
    title: 'SmolLM2-135M-shaped Q4_K_M (same weights)', prompts: [64], simdBuild: true, bos: true,
  },
  {
    id: 'qwen2.5-0.5b-q4_k_m', file: 'bench_qwen2.5-0.5b_q4_k_m.gguf', args: ['--seed', '1', '--shape', 'qwen2.5-0.5b'],
    title: 'Qwen2.5-0.5B-shaped Q4_K_M', prompts: [64], bos: false,
  },
];

// ids ("a,b" from the command line, or null for all) -> the models, in table order.
export function selectBenchModels(ids) {
  if (!ids) return BENCH_MODELS;
  const unknown = ids.filter((id) => !BENCH_MODELS.some((m) => m.id === id));
  if (unknown.length) {
    throw new Error(`unknown bench model ${unknown.join(', ')}; models: ${BENCH_MODELS.map((m) => m.id).join(', ')}`);
  }
  return BENCH_MODELS.filter((m) => ids.includes(m.id));
}

// The model's file, written first if missing (under another name until
// complete, so that an interrupted write is not taken for the model).
export function benchModelFile(model, repoRoot, log) {
  const file = path.join(repoRoot, 'build/bench', model.file);
  if (existsSync(file)) return file;
  const tool = path.join(repoRoot, 'build/native/tools/nibble_make_bench_model');
  if (!existsSync(tool)) throw new Error(`${tool} is missing: run bash tools/build.sh --extras --only native`);
  mkdirSync(path.dirname(file), { recursive: true });
  log(`writing ${model.file} (${model.title}, random weights, seed 1) ...`);
  execFileSync(tool, [`${file}.partial`, ...model.args], { stdio: ['ignore', 'ignore', 'inherit'] });
  renameSync(`${file}.partial`, file);
  return file;
}
