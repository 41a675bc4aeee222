// Section "threads": speed-up of 2 threads over 1 in the wasm SIMD + pthreads
// build, measured in this run.
//   matmul  nibble_threads_bench (bench/threads_bench.cpp) in Node: Q4_0 W4A8
//           4096×4096 GEMV (M = 1) and GEMM (M = 64) with the weights in
//           cache ("hot") and, for the GEMV, read from memory ("cold": the
//           next of 96 MiB of copies each call, as in a model), plus the GEMV
//           shapes of the model benchmark's SmolLM2-135M-shaped file (what
//           one decoded token runs). Thread counts alternate in rounds; medians.
//   memory  the same program's read probe: passes over a 256 MiB buffer
//           split in contiguous shares, GB/s with 1 and 2 threads: what a
//           second core adds to memory bandwidth, the ceiling of a decode
//           that streams its weights from memory.
//   model   the bench model in Node (bench/model/nibble_node.mjs), threads
//           1 and 2, in the plain and the relaxed threads builds: prefill of
//           a 64-token prompt and greedy decode, tokens/s, processes
//           alternating over rounds; medians, and each speed-up the median
//           of the rounds' own 2 ÷ 1 ratios (wall time: threads share it). Beside them native llama.cpp
//           (node-llama-cpp's prebuilt binary, when bench/node_modules has it)
//           on the same file, 1 and 2 threads. It runs inside this Node
//           process, and each decoded token returns to Node's main thread:
//           on a 2-core machine its two threads then share the cores with
//           that thread, so its 2-thread decode measures the contention too
//           (session 16/17, 2 cores: 0.29–0.49× its 1-thread decode, while
//           its prefill, one call, gained 1.78×).
// Targets: ≥ 1.7× on 2 cores for the 4096×4096 GEMV and for decode (issue
// #5), ≥ 1.8× for prefill (issue #14).
//
// Binaries: $NIBBLE_THREADS_BUILD_DIR (default build/wasm-simd-threads);
// model: $NIBBLE_BENCH_MODEL (default build/bench/bench_model.gguf, see
// bench/model/README.md). Add more model runs to DECODE_CASES.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

import { RELAXED_SIMD_NODE_FLAGS, runBenchProgram } from '../bench_program.mjs';
import { runLlamaCppBench } from '../model/llamacpp_bench.mjs';
import { median, pairedSummary } from '../timing.mjs';

export const name = 'threads';
export const title = 'Threads: 2 threads vs 1 (wasm SIMD + pthreads, Node)';

const TARGET = 1.7;
const PREFILL_TARGET = 1.8; // issue #14
const HEADLINE = { K: 4096, N: 4096 };
const NATIVE_FLAVOUR = 'llama.cpp native';
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
  ctx.log('nibble_threads_bench: memory read bandwidth, 256 MiB ...');
  const probe = runBenchProgram(file, [...quick, '--threads', '1,2', '--probe-mib', '256']).probe;
  const gbps = Object.fromEntries(probe.map((r) => [r.threads, r.gbps]));
  return {
    type: headline.type,
    precision: headline.precision,
    cases: [...pairUp(headline.rows), ...pairUp(cold.rows, true), ...pairUp(decode.rows)],
    memory: { gbps, speedup: gbps[2] / gbps[1] },
  };
}

// The bench model in Node, 1 thread vs 2, in each threads build: a process
// per (build, threads) pair (a realm's build is fixed at its first call),
// alternating over rounds; medians of the 64-token prompt's prefill and of
// decode tokens/s. "1 thread" is the build loadModel picks for threads: 1
// (the same SIMD tier without pthreads), what a user gets without threads.
const THREAD_BUILDS = [
  { flavour: 'simd-threads', simd: 'true', nodeFlags: [] },
  { flavour: 'simd-relaxed-threads', simd: 'relaxed', nodeFlags: RELAXED_SIMD_NODE_FLAGS },
];
async function benchModel(ctx) {
  const modelFile = path.resolve(ctx.repoRoot, process.env.NIBBLE_BENCH_MODEL ?? 'build/bench/bench_model.gguf');
  if (!existsSync(modelFile)) return { skipped: `${modelFile} not found (see bench/model/README.md)` };
  const script = path.join(ctx.repoRoot, 'bench/model/nibble_node.mjs');
  const rounds = ctx.rounds ?? (ctx.quick ? 1 : 5);
  const cases = [];
  for (const b of THREAD_BUILDS) {
    ctx.log(`model: ${b.flavour}, 1 vs 2 threads, ${rounds} rounds ...`);
    const seen = { 1: [], 2: [] };
    for (let round = 0; round < rounds; round++) {
      for (const threads of [1, 2]) {
        const out = JSON.parse(execFileSync(process.execPath, [...b.nodeFlags, script, modelFile, '--runs', '1',
          '--threads', String(threads), '--simd', b.simd, '--prompts', '64', '--weights', 'q4_0'], { encoding: 'utf8', maxBuffer: 1 << 26 }));
        seen[threads].push(out);
      }
    }
    cases.push(threadRow(b.flavour, { 1: seen[1][0].flavour, 2: seen[2][0].flavour },
      { 1: seen[1].map((o) => o.results[0]), 2: seen[2].map((o) => o.results[0]) }));
  }
  const native = await benchNative(ctx, modelFile, rounds);
  if (native) cases.push(native);
  return { model: modelFile, cases };
}

// Native llama.cpp on the same file, 1 and 2 threads alternating over
// rounds (one context per call); null when node-llama-cpp is not installed.
async function benchNative(ctx, modelFile, rounds) {
  try {
    await import('node-llama-cpp');
  } catch {
    ctx.log('model: native llama.cpp skipped (bash tools/ensure-deps.sh --bench installs node-llama-cpp)');
    return null;
  }
  ctx.log(`model: native llama.cpp, 1 vs 2 threads, ${rounds} rounds ...`);
  const seen = { 1: [], 2: [] };
  for (let round = 0; round < rounds; round++) {
    for (const threads of [1, 2]) {
      const out = await runLlamaCppBench({ modelPath: modelFile, promptTokens: [64], runs: 1, threads });
      seen[threads].push(out.results[0]);
    }
  }
  return threadRow(NATIVE_FLAVOUR, { 1: '1 thread', 2: '2 threads' }, seen);
}

// Per round results of 1 and 2 threads -> a case: per rate the medians of
// each and the paired speed-up ({ median, min, max, rounds, clock }).
function threadRow(flavour, ran, seen) {
  const row = { flavour, ran };
  for (const key of ['prefillTokPerS', 'decodeTokPerS']) {
    row[key] = {
      1: median(seen[1].map((r) => r[key])), 2: median(seen[2].map((r) => r[key])),
      speedup: pairedSummary(seen[2].map((r, i) => r[key] / seen[1][i][key]), 'wall'),
    };
  }
  return row;
}

export async function run(ctx) {
  return { matmul: await benchMatmul(ctx), model: await benchModel(ctx) };
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
  const mem = data.matmul.memory;
  if (mem) {
    lines.push(`memory read bandwidth (wasm SIMD, 256 MiB): ${mem.gbps[1].toFixed(1)} GB/s with 1 thread, ` +
      `${mem.gbps[2].toFixed(1)} with 2: ${mem.speedup.toFixed(2)}×, the most a decode streaming its weights from memory can gain`);
  }
  if (data.model.skipped) {
    lines.push(`model: skipped (${data.model.skipped})`);
  } else {
    lines.push(`bench model in Node, 64-token prompt, tokens/s, medians; speed-up: the median of the rounds' own ratios [their range] (targets: prefill ≥ ${PREFILL_TARGET}×, decode ≥ ${TARGET}×):`);
    for (const c of data.model.cases) {
      for (const [key, what, target] of [['prefillTokPerS', 'prefill', PREFILL_TARGET], ['decodeTokPerS', 'decode', TARGET]]) {
        const r = c[key];
        const x = r.speedup;
        lines.push(`  ${c.flavour.padEnd(21)} ${what.padEnd(8)} ${r[1].toFixed(1).padStart(7)} (${c.ran[1]}) → ` +
          `${r[2].toFixed(1).padStart(7)} (${c.ran[2]}), ${x.median.toFixed(2)}× [${x.min.toFixed(2)}–${x.max.toFixed(2)}, ` +
          `${x.rounds} of ${x.asked} rounds] (${x.median >= target ? 'meets' : 'below'} the target)`);
      }
      if (c.flavour === NATIVE_FLAVOUR) {
        lines.push('  (llama.cpp runs in the bench\'s Node process: each decoded token returns to Node\'s main thread, which ' +
          'shares the cores with llama.cpp\'s two threads, so on 2 cores its 2-thread decode includes that contention)');
      }
    }
  }
  return lines.join('\n');
}
