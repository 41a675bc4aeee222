// onnxruntime-web's MatMulNBits (bits 4, block 32, f32 scales, no zero
// points = Q4_0's zero point 8) on its wasm backend, one thread, timed per
// shape and M. Also checks ORT's output against a plain JS reference so a
// wrong model layout cannot produce a fast but meaningless number.
//
//   node bench/ort_matmulnbits.mjs [--json] [--quick]
import * as ort from 'onnxruntime-web';  // resolves to dist/ort.node.min.mjs in Node

import { M_VALUES, SHAPES } from './config.mjs';
import { dequantizeMatMulNBits, encodeMatMulNBitsModel, q4_0ToMatMulNBits } from './onnx_model.mjs';
import { DEFAULT_BUDGET, QUICK_BUDGET, median, seededRandom, timeRuns } from './timing.mjs';

let configured = false;
function configureOrt() {
  if (configured) return;
  ort.env.wasm.numThreads = 1;  // must be set before the first session
  ort.env.wasm.simd = true;     // the only build 1.30 ships is SIMD anyway
  ort.env.logLevel = 'error';
  configured = true;
}

// Random weights in the MatMulNBits layout: codes uniform 0..15, scales ~ 0.01.
export function randomWeights(K, N, seed) {
  const rand = seededRandom(seed);
  const b = new Uint8Array((N * K) / 2);
  for (let i = 0; i < b.length; i++) b[i] = Math.floor(rand() * 256);
  const scales = new Float32Array((N * K) / 32);
  for (let i = 0; i < scales.length; i++) scales[i] = 0.002 + 0.02 * rand();
  return { K, N, b, scales };
}

export function randomActivations(M, K, seed) {
  const rand = seededRandom(seed);
  const a = new Float32Array(M * K);
  for (let i = 0; i < a.length; i++) a[i] = 2 * rand() - 1;
  return a;
}

export async function createSession(weights) {
  configureOrt();
  const model = encodeMatMulNBitsModel(weights);
  return ort.InferenceSession.create(model, {
    executionProviders: ['wasm'],
    graphOptimizationLevel: 'all',
  });
}

export async function runOnce(session, a, M, K) {
  const out = await session.run({ A: new ort.Tensor('float32', a, [M, K]) });
  return out.Y.data;
}

// Y[M,N] = A[M,K] · Wᵀ in float64, W dequantized from the MatMulNBits layout.
export function referenceMatmul(weights, a, M) {
  const { K, N } = weights;
  const w = dequantizeMatMulNBits(weights);
  const y = new Float32Array(M * N);
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      let sum = 0;
      for (let k = 0; k < K; k++) sum += a[m * K + k] * w[n * K + k];
      y[m * N + n] = sum;
    }
  }
  return y;
}

// Largest |got − want| relative to the tolerance Σ|a·w|·1e-5 + 1e-6 per entry;
// ≤ 1 means within tolerance.
function worstError(weights, a, M, got, want) {
  const { K, N } = weights;
  const w = dequantizeMatMulNBits(weights);
  let worst = { ratio: 0, index: -1, got: 0, want: 0 };
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      let mag = 0;
      for (let k = 0; k < K; k++) mag += Math.abs(a[m * K + k] * w[n * K + k]);
      const i = m * N + n;
      const ratio = Math.abs(got[i] - want[i]) / (mag * 1e-5 + 1e-6);
      if (ratio > worst.ratio) worst = { ratio, index: i, got: got[i], want: want[i] };
    }
  }
  return worst;
}

// ORT vs the JS reference on a small shape; also a layout probe that tells
// low-nibble-first from high-nibble-first.
export async function verifyOrt() {
  const K = 96, N = 5, M = 3;
  const weights = randomWeights(K, N, 7);
  const a = randomActivations(M, K, 8);
  const session = await createSession(weights);
  const got = await runOnce(session, a, M, K);
  const want = referenceMatmul(weights, a, M);
  const worst = worstError(weights, a, M, got, want);
  await session.release();
  const ok = worst.ratio <= 1;
  return {
    ok, K, N, M,
    detail: ok ? 'ORT matches the JS reference (low nibble = even element)'
      : `ORT differs at index ${worst.index}: expected ${worst.want}, got ${worst.got}`,
  };
}

// ORT and nibble on the same Q4_0 weights (nibble_bench --check output):
// ORT's f32 result is compared with nibble's W4A32 result.
export async function compareWithNibble(check) {
  const { K, N, M } = check;
  const weights = { K, N, ...q4_0ToMatMulNBits(Buffer.from(check.q4_0_base64, 'base64'), K, N) };
  const a = Float32Array.from(check.x);
  const session = await createSession(weights);
  const got = await runOnce(session, a, M, K);
  await session.release();
  const worst = worstError(weights, a, M, Float32Array.from(check.y_w4a32), got);
  const ok = worst.ratio <= 1;
  return {
    ok, K, N, M,
    detail: ok ? 'nibble W4A32 matches ORT on the same Q4_0 weights'
      : `nibble W4A32 differs from ORT at index ${worst.index}: ORT ${worst.want}, nibble ${worst.got}`,
  };
}

// Median ms per (shape, accuracy level, M). One session per shape and level
// serves every M (M is symbolic). Level null is the op's default (f32
// compute, the comparison issue #2 asks for); level 4 lets ORT quantize A to
// int8 as nibble's W4A8 does, measured as an extra.
export async function benchOrt({ shapes = SHAPES, mValues = M_VALUES, accuracyLevels = [null, 4],
  budget = DEFAULT_BUDGET, log = () => {} } = {}) {
  const rows = [];
  for (const { K, N } of shapes) {
    const weights = randomWeights(K, N, K * 31 + N);
    for (const accuracyLevel of accuracyLevels) {
      const session = await createSession({ ...weights, accuracyLevel });
      for (const M of mValues) {
        const a = randomActivations(M, K, M);
        const feeds = { A: new ort.Tensor('float32', a, [M, K]) };
        const times = await timeRuns(() => session.run(feeds), budget);
        const ms = median(times);
        rows.push({ K, N, M, accuracy_level: accuracyLevel, ms, reps: times.length });
        log(`ort K=${K} N=${N} M=${M} accuracy_level=${accuracyLevel ?? 'unset'}: ${ms.toFixed(3)} ms (${times.length} runs)`);
      }
      await session.release();
    }
  }
  return { version: ort.env.versions?.web ?? 'unknown', threads: 1, rows };
}

async function main() {
  const args = process.argv.slice(2);
  const budget = args.includes('--quick') ? QUICK_BUDGET : DEFAULT_BUDGET;
  const verify = await verifyOrt();
  if (!verify.ok) {
    console.error(verify.detail);
    process.exit(1);
  }
  const result = await benchOrt({ budget, log: (s) => console.error(s) });
  if (args.includes('--json')) {
    console.log(JSON.stringify({ verify, ...result }, null, 2));
  } else {
    console.log(`onnxruntime-web ${result.version}, 1 thread; ${verify.detail}`);
    for (const r of result.rows) {
      console.log(`K=${r.K} N=${r.N} M=${r.M} accuracy_level=${r.accuracy_level ?? 'unset'}: ${r.ms.toFixed(3)} ms`);
    }
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
