// Section "threads": speed-up of 2 threads over 1 in the wasm SIMD + pthreads
// build, measured in this run.
//   matmul  nibble_threads_bench (bench/threads_bench.cpp) in Node: Q4_0 W4A8
//           4096×4096 GEMV (M = 1) and GEMM (M = 64) with the weights in
//           cache ("hot") and, for the GEMV, read from memory ("cold": the
//           next of 96 MiB of copies each call, as in a model), plus the GEMV
//           shapes of the model benchmark's SmolLM2-135M-shaped file (what
//           one decoded token runs). Thread counts alternate in rounds; medians.
//   decode  the JS API in Node: loadModel(file, { threads: 1 | 2 }) on the
//           threads build, greedy generation, tokens/s, runs alternating.
//           Skipped until loadModel takes a threads option (and reports it as
//           model.info.threads) or when the model file is missing.
// Target (issue #5): ≥ 1.7× on 2 cores for the 4096×4096 GEMV and for decode.
//
// Binaries: $NIBBLE_THREADS_BUILD_DIR (default build/wasm-simd-threads);
// model: $NIBBLE_BENCH_MODEL (default build/bench/bench_model.gguf, see
// bench/model/README.md). Add more model runs to DECODE_CASES.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

import { runBenchProgram } from '../bench_program.mjs';
import { median } from '../timing.mjs';

export const name = 'threads';
export const title = 'Threads: 2 threads vs 1 (wasm SIMD + pthreads, Node)';

const TARGET = 1.7;
const HEADLINE = { K: 4096, N: 4096 };
// SmolLM2-135M (dim 576, feed-forward 1536, vocabulary 8192), K x N.
const DECODE_SHAPES = ['576x576', '576x1536', '1536x576', '576x8192'];
// Model runs: prompt token count and generated tokens per run.
const DECODE_CASES = [{ label: 'bench model, 16-token prompt, 64 tokens', promptTokens: 16, maxTokens: 64 }];

function buildDir(ctx) {
  return path.resolve(ctx.repoRoot, process.env.NIBBLE_THREADS_BUILD_DIR ?? 'build/wasm-simd-threads');
}

// rows of { K, N, M, threads, median_ms } -> [{ K, N, M, ms: {1, 2}, speedup }]
function pairUp(rows, cold = false) {
  const byCase = new Map();
  for (const r of rows) {
    const key = `${r.K}x${r.N}x${r.M}`;
    if (!byCase.has(key)) byCase.set(key, { K: r.K, N: r.N, M: r.M, cold, ms: {} });
    byCase.get(key).ms[r.threads] = r.median_ms;
  }
  return [...byCase.values()].map((c) => ({ ...c, speedup: c.ms[1] / c.ms[2] }));
}

async function benchMatmul(ctx) {
  const file = path.join(buildDir(ctx), 'bench', 'nibble_threads_bench.js');
  if (!existsSync(file)) {
    throw new Error(`${file} not found: build the threads build first (bash tools/build.sh --only wasm-simd-threads), ` +
      'or point NIBBLE_THREADS_BUILD_DIR at a build with the nibble_threads_bench target');
  }
  const quick = ctx.quick ? ['--quick'] : [];
  ctx.log('nibble_threads_bench: 4096x4096 Q4_0 W4A8, M = 1 and 64, 1 vs 2 threads ...');
  const headline = runBenchProgram(file, [...quick, '--threads', '1,2', '--shapes', `${HEADLINE.K}x${HEADLINE.N}`, '--m', '1,64']);
  ctx.log('nibble_threads_bench: 4096x4096 GEMV, weights from memory (96 MiB of copies) ...');
  const cold = runBenchProgram(file, [...quick, '--threads', '1,2', '--shapes', `${HEADLINE.K}x${HEADLINE.N}`, '--m', '1', '--cold-mib', '96']);
  ctx.log('nibble_threads_bench: decode-sized GEMVs ...');
  const decode = runBenchProgram(file, [...quick, '--threads', '1,2', '--shapes', DECODE_SHAPES.join(','), '--m', '1']);
  return {
    type: headline.type,
    precision: headline.precision,
    cases: [...pairUp(headline.rows), ...pairUp(cold.rows, true), ...pairUp(decode.rows)],
  };
}

// Alternates threads 1 and 2 over `runs` rounds; medians of tokens/s.
async function benchDecode(ctx) {
  const modelFile = path.resolve(ctx.repoRoot, process.env.NIBBLE_BENCH_MODEL ?? 'build/bench/bench_model.gguf');
  if (!existsSync(modelFile)) return { skipped: `${modelFile} not found (see bench/model/README.md)` };
  const nibble = await import(pathToFileURL(path.join(ctx.repoRoot, 'dist', 'nibble.mjs')).href);
  if (typeof nibble.loadModel !== 'function') return { skipped: 'dist/nibble.mjs has no loadModel yet' };
  const info = await nibble.init({ threads: 2 });
  if (info.flavour !== 'simd-threads') return { skipped: `the threads build did not load (${info.threadsUnavailable})` };
  const models = {};
  try {
    for (const threads of [1, 2]) {
      models[threads] = await nibble.loadModel(modelFile, { threads });
      if (models[threads].info?.threads !== threads) {
        return { skipped: `loadModel does not report the threads it uses (model.info.threads = ${models[threads].info?.threads})` };
      }
    }
    const runs = ctx.quick ? 2 : 5;
    const cases = [];
    for (const c of DECODE_CASES) {
      const prompt = Array.from({ length: c.promptTokens }, (_, i) => 1 + ((i * 37) % 200));
      const tps = { 1: [], 2: [] };
      ctx.log(`decode: ${c.label}, ${runs} rounds ...`);
      for (let round = 0; round < runs; round++) {
        for (const threads of [1, 2]) {
          const { stats } = await models[threads].complete(prompt, { maxTokens: c.maxTokens, temperature: 0, addBos: false });
          tps[threads].push(stats.tokensPerSecond);
        }
      }
      const t1 = median(tps[1]), t2 = median(tps[2]);
      cases.push({ label: c.label, tokensPerSecond: { 1: t1, 2: t2 }, speedup: t2 / t1 });
    }
    return { model: modelFile, cases };
  } catch (e) {
    if (/unknown option 'threads'/.test(e.message)) return { skipped: 'loadModel has no threads option yet' };
    throw e;
  } finally {
    for (const m of Object.values(models)) m.dispose();
  }
}

export async function run(ctx) {
  return { matmul: await benchMatmul(ctx), decode: await benchDecode(ctx) };
}

function verdict(speedup) {
  return speedup >= TARGET ? 'meets' : 'below';
}

export function format(data) {
  const lines = [`Q4_0 W4A8 matmul, median ms per call (target ≥ ${TARGET}× for the ${HEADLINE.K}×${HEADLINE.N} GEMV):`];
  lines.push('  K×N               M     1 thread   2 threads   speed-up');
  for (const c of data.matmul.cases) {
    const headline = c.K === HEADLINE.K && c.N === HEADLINE.N && c.M === 1;
    const shape = `${c.K}×${c.N}${c.K === HEADLINE.K && c.N === HEADLINE.N ? (c.cold ? ' cold' : ' hot') : ''}`;
    lines.push(`  ${shape.padEnd(16)} ${String(c.M).padStart(3)} ${c.ms[1].toFixed(4).padStart(11)} ` +
      `${c.ms[2].toFixed(4).padStart(11)} ${`${c.speedup.toFixed(2)}×`.padStart(10)}` +
      (headline ? `   ${verdict(c.speedup)} the target` : ''));
  }
  if (data.decode.skipped) {
    lines.push(`decode: skipped (${data.decode.skipped})`);
  } else {
    for (const c of data.decode.cases) {
      lines.push(`decode, ${c.label}: ${c.tokensPerSecond[1].toFixed(1)} → ${c.tokensPerSecond[2].toFixed(1)} tokens/s, ` +
        `${c.speedup.toFixed(2)}× (${verdict(c.speedup)} the ${TARGET}× target)`);
    }
  }
  return lines.join('\n');
}
