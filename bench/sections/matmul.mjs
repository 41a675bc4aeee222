// Section "matmul": nibble's INT4 matmul (wasm SIMD, one thread) against
// onnxruntime-web's MatMulNBits and against the streaming-read ceiling, all
// measured in this run. nibble runs in a child process (its own wasm heap);
// ORT runs in this process.
import { existsSync } from 'node:fs';
import path from 'node:path';

import { RELAXED_SIMD_NODE_FLAGS, runBenchProgram } from '../bench_program.mjs';
import { M_VALUES, SHAPES, shapesArg } from '../config.mjs';
import { benchOrt, compareWithNibble, verifyOrt } from '../ort_matmulnbits.mjs';
import { DEFAULT_BUDGET, QUICK_BUDGET } from '../timing.mjs';

export const name = 'matmul';
export const title = 'INT4 matmul, one thread: nibble (wasm SIMD) vs onnxruntime-web MatMulNBits';

// The headline nibble variant; the others are printed as extra rows.
const HEADLINE = { type: 'q4_0', precision: 'w4a8' };
// The relaxed-SIMD build's W4A8 GEMV rows.
const RELAXED_VARIANTS = ['q4_0', 'q4_1', 'iq4_nl', 'q5_0', 'q5_1', 'q8_0', 'q4_k', 'q5_k', 'q6_k'].map((t) => `${t}:w4a8`);
// Issue #11's GEMV targets, 4096×4096 W4A8 time against Q4_0's in the same
// build and run (relaxed build).
const GEMV_TARGETS = { q4_k: 1.15, iq4_nl: 1.2, q5_0: 1.35, q5_k: 1.35, q6_k: 1.6, q8_0: 1.9 };

function nibbleBinary(ctx) {
  const file = path.join(ctx.buildDir, 'bench', 'nibble_bench.js');
  if (!existsSync(file)) {
    throw new Error(`${file} not found: build the wasm SIMD build first (bash tools/build.sh --only wasm-simd), ` +
      'or point NIBBLE_BUILD_DIR at a build that has the nibble_bench target');
  }
  return file;
}

export async function run(ctx) {
  const file = nibbleBinary(ctx);
  const shapes = SHAPES;
  const mValues = M_VALUES;

  ctx.log('nibble: streaming-read probe and matmul timings ...');
  const nibble = runBenchProgram(file, ['--json', '--dot-step', ...(ctx.quick ? ['--quick'] : []),
    '--shapes', shapesArg(shapes), '--m', mValues.join(',')]);

  const relaxed = relaxedGemv(ctx, shapes);
  const relaxedGemm = relaxedGemmAndSteps(ctx);

  ctx.log('onnxruntime-web: checking the MatMulNBits model against a JS reference ...');
  const checks = [await verifyOrt()];
  if (!checks[0].ok) throw new Error(checks[0].detail);
  // Same Q4_0 weights through nibble and ORT (K above the block size, N not a
  // multiple of the 4-row tile, odd M).
  checks.push(await compareWithNibble(runBenchProgram(file, ['--check', '256,17,3'])));

  ctx.log('onnxruntime-web: timings ...');
  const ort = await benchOrt({ shapes, mValues, budget: ctx.quick ? QUICK_BUDGET : DEFAULT_BUDGET, log: ctx.log });

  const streamGbps = nibble.stream_read.gbps;
  const ortKey = (r, level) => `${r.K}x${r.N}x${r.M}/${level}`;
  const ortMs = new Map(ort.rows.map((r) => [ortKey(r, r.accuracy_level), r.ms]));
  const variantOrder = (r) => (r.type === HEADLINE.type && r.precision === HEADLINE.precision ? -1 : 0);
  const shapeOrder = (r) => shapes.findIndex((sh) => sh.K === r.K && sh.N === r.N);
  const rows = nibble.matmul.map((r, i) => {
    const ms = ortMs.get(ortKey(r, null));
    const msInt8 = ortMs.get(ortKey(r, 4));
    const row = {
      ...r,
      headline: variantOrder(r) < 0,
      ort_ms: ms ?? null,                                 // MatMulNBits, accuracy_level unset (f32)
      speedup_vs_ort: ms ? ms / r.ms : null,              // nibble speed / ORT speed
      ort_int8_ms: msInt8 ?? null,                        // accuracy_level 4 (A quantized to int8)
      speedup_vs_ort_int8: msInt8 ? msInt8 / r.ms : null,
      fraction_of_stream_read: r.weight_gbps / streamGbps,  // weight GB/s ÷ streaming-read GB/s
      order: i,
    };
    if (r.cold_copies) {
      row.cold_fraction_of_stream_read = r.cold_weight_gbps / streamGbps;
      row.cold_speedup_vs_ort = ms ? ms / r.cold_ms : null;
    }
    return row;
  });
  // Per shape, per M: the headline first, then the extras in run order.
  rows.sort((a, b) => shapeOrder(a) - shapeOrder(b) || a.M - b.M || variantOrder(a) - variantOrder(b) || a.order - b.order);
  for (const r of rows) delete r.order;
  const simdMs = new Map(rows.filter((r) => r.M === 1).map((r) => [`${r.K}x${r.N}/${r.type}/${r.precision}`, r.ms]));
  const gemm64 = (matmul) => matmul?.find((r) => r.K === GEMM_SHAPE.K && r.N === GEMM_SHAPE.N && r.M === 64 &&
    r.type === HEADLINE.type && r.precision === HEADLINE.precision);
  const step = (program, stepName) => program?.dot_step?.steps.find((d) => d.name === stepName)?.gmacs ?? null;
  return {
    stream_read: nibble.stream_read,
    gemm_steps: {
      plain_step_gmacs: step(nibble, 'plain'),
      plain_gemm_gmacs: gemm64(nibble.matmul)?.gmacs ?? null,
      relaxed_step_gmacs: step(relaxedGemm, 'relaxed'),
      relaxed_plain_step_gmacs: step(relaxedGemm, 'plain'),
      relaxed_gemm_gmacs: gemm64(relaxedGemm?.matmul)?.gmacs ?? null,
      relaxed_over_plain_step: relaxedGemm?.dot_step?.relaxed_over_plain ?? null,
    },
    ort: { version: ort.version, threads: ort.threads, rows: ort.rows },
    checks,
    rows,
    relaxed_gemv: relaxed?.matmul.map((r) => ({
      ...r,
      fraction_of_stream_read: r.weight_gbps / streamGbps,
      cold_fraction_of_stream_read: r.cold_copies ? r.cold_weight_gbps / streamGbps : null,
      speedup_vs_simd: simdMs.get(`${r.K}x${r.N}/${r.type}/${r.precision}`) / r.ms,
    })) ?? null,
  };
}

// The relaxed-SIMD build's nibble_bench beside the SIMD build's, or null.
function relaxedBinary(ctx) {
  const file = path.join(path.dirname(ctx.buildDir), 'wasm-simd-relaxed', 'bench', 'nibble_bench.js');
  return existsSync(file) ? file : null;
}

// The relaxed-SIMD build's W4A8 GEMVs (M = 1) on the same shapes, run after
// the SIMD build's so that each has a baseline from this run; null when that
// build is missing.
function relaxedGemv(ctx, shapes) {
  const file = relaxedBinary(ctx);
  if (!file) return null;
  ctx.log('nibble, relaxed-SIMD build: GEMV timings ...');
  return runBenchProgram(file, ['--json', '--no-probe', ...(ctx.quick ? ['--quick'] : []), '--shapes', shapesArg(shapes),
    '--m', '1', '--variants', RELAXED_VARIANTS.join(',')], RELAXED_SIMD_NODE_FLAGS);
}

// The M = 64 GEMM against its tile's inner step: the relaxed-SIMD build's
// Q4_0 W4A8 GEMM on 4096×4096 and both steps (dot_step_probe.h) in one
// process; null when that build is missing.
const GEMM_SHAPE = { K: 4096, N: 4096 };
function relaxedGemmAndSteps(ctx) {
  const file = relaxedBinary(ctx);
  if (!file) return null;
  ctx.log('nibble, relaxed-SIMD build: M = 64 GEMM and its tile step ...');
  return runBenchProgram(file, ['--json', '--no-probe', '--dot-step', ...(ctx.quick ? ['--quick'] : []),
    '--shapes', `${GEMM_SHAPE.K}x${GEMM_SHAPE.N}`, '--m', '64', '--variants', `${HEADLINE.type}:${HEADLINE.precision}`,
    '--ratio-rounds', '0'], RELAXED_SIMD_NODE_FLAGS);
}

const stepRatio = (q) => (q ? `${fmt(q.median, 2)}× [${fmt(q.q1, 2)}–${fmt(q.q3, 2)}], median of rounds [IQR]` : '-');

// How near each build's M = 64 GEMM runs to its tile's inner step alone,
// and the two steps' ratio: what bounds plain SIMD ÷ relaxed SIMD.
function gemmStepLines(g) {
  if (g?.plain_step_gmacs == null) return [];
  const of = (gemm, stepGmacs) => (gemm == null ? '-' : `${fmt(gemm, 1)} GMAC/s = ${pct(gemm / stepGmacs)} of its step`);
  const lines = [`GEMM tile step alone (4 activation rows × 8 weight rows, 8 dots a step, L1-resident, no block updates), ` +
    `SIMD build: plain ${fmt(g.plain_step_gmacs, 1)} GMAC/s; Q4_0 W4A8 GEMM ${GEMM_SHAPE.K}×${GEMM_SHAPE.N} M = 64: ` +
    of(g.plain_gemm_gmacs, g.plain_step_gmacs)];
  if (g.relaxed_step_gmacs != null) {
    lines.push(`relaxed-SIMD build: relaxed step ${fmt(g.relaxed_step_gmacs, 1)} GMAC/s, plain step ` +
      `${fmt(g.relaxed_plain_step_gmacs, 1)} in turn with it (relaxed ÷ plain per multiply-add: ${stepRatio(g.relaxed_over_plain_step)}); ` +
      `the GEMM ${of(g.relaxed_gemm_gmacs, g.relaxed_step_gmacs)}` +
      (g.plain_gemm_gmacs != null && g.relaxed_gemm_gmacs != null
        ? `; plain ÷ relaxed GEMM time ${fmt(g.relaxed_gemm_gmacs / g.plain_gemm_gmacs, 2)}×` : ''));
  }
  return lines;
}

const fmt = (v, digits) => (v == null ? '-' : v.toFixed(digits));
const pct = (f) => (f == null ? '-' : `${(100 * f).toFixed(1)}%`);

function renderTable(table) {
  const widths = table[0].map((_, i) => Math.max(...table.map((row) => row[i].length)));
  return table.map((row) => row.map((cell, i) => (i === 3 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  ').trimEnd());
}

// One line per target of issue #2: M = 1 at 4096×4096 ≥ 60 % of streaming
// read (≈ 40× ORT); M = 64 ≥ 3× ORT.
function summary(data) {
  const lines = [];
  const head = data.rows.filter((r) => r.headline);
  const big = head.find((r) => r.K === 4096 && r.N === 4096 && r.M === 1);
  if (big) {
    const cold = big.cold_copies ? `; weights out of cache: ${fmt(big.cold_weight_gbps, 2)} GB/s = ${pct(big.cold_fraction_of_stream_read)}, ${fmt(big.cold_speedup_vs_ort, 1)}× ORT` : '';
    lines.push(`M=1 4096×4096 q4_0/w4a8: ${fmt(big.ms, 3)} ms, ${fmt(big.weight_gbps, 2)} GB/s = ${pct(big.fraction_of_stream_read)} of streaming read, ${fmt(big.speedup_vs_ort, 1)}× ORT (${fmt(big.speedup_vs_ort_int8, 1)}× ORT-i8)${cold} (target ≥ 60 %, ≈ 40×)`);
  }
  const m64 = head.filter((r) => r.M === 64 && r.speedup_vs_ort != null);
  if (m64.length) {
    const parts = m64.map((r) => `${r.K}×${r.N} ${fmt(r.speedup_vs_ort, 1)}× (${fmt(r.speedup_vs_ort_int8, 1)}× ORT-i8)`);
    lines.push(`M=64 q4_0/w4a8 vs ORT: ${parts.join(', ')} (target ≥ 3×)`);
  }
  return lines;
}

// Each type's 4096×4096 W4A8 GEMV time ÷ Q4_0's, in one build's rows: the
// median over nibble_bench's ratio rounds (each round times every type in
// turn, CPU time; row.ratio_to_q4_0) with its interquartile range, else
// (an older nibble_bench) the ratio of the two median times.
function gemvRatios(rows, label) {
  const gemv = rows.filter((r) => r.K === 4096 && r.N === 4096 && r.M === 1 && r.precision === 'w4a8');
  const q4 = gemv.find((r) => r.type === 'q4_0');
  if (!q4) return [];
  const rounds = gemv.find((r) => r.ratio_to_q4_0)?.ratio_to_q4_0.rounds;
  const parts = gemv.filter((r) => r !== q4).map((r) => {
    const target = GEMV_TARGETS[r.type] ? ` (target ≤ ${GEMV_TARGETS[r.type]}×)` : '';
    const q = r.ratio_to_q4_0;
    return q ? `${r.type} ${fmt(q.median, 2)}× [${fmt(q.q1, 2)}–${fmt(q.q3, 2)}]${target}` : `${r.type} ${fmt(r.ms / q4.ms, 2)}×${target}`;
  });
  const how = rounds ? `median of ${rounds} rounds [IQR]` : 'ratio of median times';
  return [`GEMV 4096×4096 W4A8 vs q4_0, ${label}, ${how}: ${parts.join(', ')}`];
}

export function format(data) {
  const lines = [];
  const s = data.stream_read;
  lines.push(`streaming read (wasm SIMD, ${s.bytes / 2 ** 20} MiB buffer, median of passes): ${s.gbps.toFixed(2)} GB/s (loop ${s.best})`);
  lines.push(`onnxruntime-web ${data.ort.version}, wasm backend, ${data.ort.threads} thread`);
  for (const c of data.checks) lines.push(`check: ${c.detail} (K=${c.K} N=${c.N} M=${c.M})`);
  lines.push('');
  const table = [['K', 'N', 'M', 'nibble', 'ms', 'GMAC/s', 'GB/s', '%stream', 'ORT ms', '×ORT', 'ORT-i8 ms', '×ORT-i8',
    'cold GB/s', 'cold %stream']];
  for (const r of data.rows) {
    table.push([
      String(r.K), String(r.N), String(r.M),
      `${r.type}/${r.precision}${r.headline ? '' : ' *'}`,
      fmt(r.ms, 3), fmt(r.gmacs, 2), fmt(r.weight_gbps, 2), pct(r.fraction_of_stream_read),
      fmt(r.ort_ms, 2), `${fmt(r.speedup_vs_ort, 1)}×`, fmt(r.ort_int8_ms, 2), `${fmt(r.speedup_vs_ort_int8, 1)}×`,
      r.cold_copies ? fmt(r.cold_weight_gbps, 2) : '', r.cold_copies ? pct(r.cold_fraction_of_stream_read) : '',
    ]);
  }
  lines.push(...renderTable(table));
  lines.push('');
  lines.push(...summary(data));
  lines.push(...gemmStepLines(data.gemm_steps));
  if (data.relaxed_gemv) {
    lines.push('');
    lines.push('relaxed-SIMD build (nibble-simd-relaxed), M=1 W4A8 (×SIMD = the SIMD build\'s ms above ÷ these):');
    const table = [['K', 'N', 'M', 'nibble', 'ms', 'GB/s', '%stream', '×SIMD', 'cold GB/s', 'cold %stream']];
    for (const r of data.relaxed_gemv) {
      table.push([String(r.K), String(r.N), '1', `${r.type}/${r.precision} relaxed`, fmt(r.ms, 4), fmt(r.weight_gbps, 2), pct(r.fraction_of_stream_read),
        `${fmt(r.speedup_vs_simd, 2)}×`, fmt(r.cold_weight_gbps, 2), pct(r.cold_fraction_of_stream_read)]);
    }
    lines.push(...renderTable(table));
    lines.push(...gemvRatios(data.relaxed_gemv, 'relaxed-SIMD build'));
  }
  lines.push(...gemvRatios(data.rows, 'SIMD build'));
  lines.push('');
  lines.push('ms = median; GB/s = packed weight bytes / median time; %stream = GB/s ÷ streaming-read GB/s;');
  lines.push('×ORT = ORT median ms / nibble median ms (MatMulNBits as specified: accuracy_level unset, f32 compute);');
  lines.push('ORT-i8 = the same model with accuracy_level=4 (ORT quantizes A to int8, like W4A8), an extra;');
  lines.push('* = extra rows (the headline is q4_0/w4a8);');
  lines.push('cold = M=1 cycling through copies of the weights larger than the last-level cache.');
  return lines.join('\n');
}
