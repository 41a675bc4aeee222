// Plain-JS definitions of what nibble computes, for the tests to compare
// against: Q4_0/Q4_1 round-to-nearest quantization (llama.cpp's rules, f32
// arithmetic via Math.fround), dequantization, and Y = X · Wᵀ in W4A32 and in
// W4A8 (activations quantized per 32-block to int8 as the kernels do).
// Loads with require() in Node and as a classic <script> in a browser
// (defines globalThis.nibbleReference).
(function (root, factory) {
  if (typeof module === 'object' && module.exports) module.exports = factory();
  else root.nibbleReference = factory();
})(typeof globalThis !== 'undefined' ? globalThis : this, function () {
  'use strict';
  const QK = 32;
  const f32 = Math.fround;
  const BLOCK_BYTES = { q4_0: 18, q4_1: 20 };

  const convF = new Float32Array(1);
  const convU = new Uint32Array(convF.buffer);

  // IEEE binary32 -> binary16 bits, round to nearest, ties to even.
  function fp32ToFp16(value) {
    convF[0] = value;
    const x = convU[0];
    const sign = (x >>> 16) & 0x8000;
    const a = x & 0x7fffffff;
    if (a >= 0x7f800000) return sign | (a > 0x7f800000 ? 0x7e00 : 0x7c00);
    if (a >= 0x477ff000) return sign | 0x7c00;
    if (a < 0x38800000) {
      if (a <= 0x33000000) return sign;
      const mantissa = (a & 0x7fffff) | 0x800000;
      const shift = 126 - (a >>> 23);
      let q = mantissa >>> shift;
      const rest = mantissa & ((1 << shift) - 1);
      const half = 1 << (shift - 1);
      if (rest > half || (rest === half && (q & 1))) q++;
      return sign | q;
    }
    let h = (((a >>> 23) - 112) << 10) | ((a & 0x7fffff) >>> 13);
    const rest = a & 0x1fff;
    if (rest > 0x1000 || (rest === 0x1000 && (h & 1))) h++;
    return sign | h;
  }

  function fp16ToFp32(h) {
    const sign = h & 0x8000 ? -1 : 1;
    const exponent = (h >> 10) & 0x1f;
    const mantissa = h & 0x3ff;
    if (exponent === 0) return sign * mantissa * 2 ** -24;
    if (exponent === 31) return mantissa ? NaN : sign * Infinity;
    return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
  }

  // (int)v clamped to [0, top], 0 for non-finite v (see quantize_row_ref.cpp).
  function truncatedCode(v, top) {
    if (!Number.isFinite(v)) return 0;
    const q = Math.trunc(v);
    return q < 0 ? 0 : q > top ? top : q;
  }

  function writeFp16(bytes, offset, value) {
    const h = fp32ToFp16(value);
    bytes[offset] = h & 0xff;
    bytes[offset + 1] = h >> 8;
  }

  function readFp16(bytes, offset) {
    return fp16ToFp32(bytes[offset] | (bytes[offset + 1] << 8));
  }

  function packNibbles(codes, bytes, offset) {
    for (let j = 0; j < 16; j++) bytes[offset + j] = codes[j] | (codes[j + 16] << 4);
  }

  function nibble(bytes, qsOffset, j) {
    return j < 16 ? bytes[qsOffset + j] & 15 : bytes[qsOffset + j - 16] >> 4;
  }

  // x[rows · cols] -> GGUF block bytes, round-to-nearest.
  function quantize(x, rows, cols, type) {
    const blockBytes = BLOCK_BYTES[type];
    const nb = (rows * cols) / QK;
    const out = new Uint8Array(nb * blockBytes);
    const codes = new Uint8Array(QK);
    for (let b = 0; b < nb; b++) {
      const xb = x.subarray(b * QK, (b + 1) * QK);
      const o = b * blockBytes;
      if (type === 'q4_0') {
        let amax = 0, max = 0;
        for (let j = 0; j < QK; j++) {
          if (amax < Math.abs(xb[j])) { amax = Math.abs(xb[j]); max = xb[j]; }
        }
        const d = f32(max / -8);
        const id = d !== 0 ? f32(1 / d) : 0;
        writeFp16(out, o, d);
        for (let j = 0; j < QK; j++) codes[j] = truncatedCode(f32(f32(xb[j] * id) + 8.5), 15);
        packNibbles(codes, out, o + 2);
      } else {
        let min = Infinity, max = -Infinity;
        for (let j = 0; j < QK; j++) { min = Math.min(min, xb[j]); max = Math.max(max, xb[j]); }
        const d = f32(f32(max - min) / 15);
        const id = d !== 0 ? f32(1 / d) : 0;
        writeFp16(out, o, d);
        writeFp16(out, o + 2, min);
        for (let j = 0; j < QK; j++) codes[j] = truncatedCode(f32(f32(f32(xb[j] - min) * id) + 0.5), 15);
        packNibbles(codes, out, o + 4);
      }
    }
    return out;
  }

  // GGUF block bytes -> Float32Array(n)
  function dequantize(bytes, n, type) {
    const blockBytes = BLOCK_BYTES[type];
    const y = new Float32Array(n);
    for (let b = 0; b < n / QK; b++) {
      const o = b * blockBytes;
      const d = readFp16(bytes, o);
      if (type === 'q4_0') {
        for (let j = 0; j < QK; j++) y[b * QK + j] = f32((nibble(bytes, o + 2, j) - 8) * d);
      } else {
        const m = readFp16(bytes, o + 2);
        for (let j = 0; j < QK; j++) y[b * QK + j] = f32(f32(nibble(bytes, o + 4, j) * d) + m);
      }
    }
    return y;
  }

  // round half to even, as f32x4.nearest / nearbyint
  function roundHalfEven(v) {
    const r = Math.round(v);
    return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
  }

  // One row x[K] -> { q: Int8Array(K), d: Float64Array(K/32) (the fp16 scales) },
  // the rules of src/kernels/q8_quantize_util.h.
  function quantizeActivations(x) {
    const nb = x.length / QK;
    const q = new Int8Array(x.length);
    const d = new Float64Array(nb);
    for (let b = 0; b < nb; b++) {
      let amax = 0;
      for (let j = 0; j < QK; j++) amax = Math.max(amax, Math.abs(x[b * QK + j]));
      const scale = f32(amax / 127);
      const id = scale !== 0 ? f32(1 / scale) : 0;
      d[b] = fp16ToFp32(fp32ToFp16(scale));
      for (let j = 0; j < QK; j++) {
        const r = roundHalfEven(f32(x[b * QK + j] * id));
        q[b * QK + j] = Math.max(-128, Math.min(127, r));
      }
    }
    return { q, d };
  }

  // Y[m, rows] = X[m, cols] · Wᵀ from GGUF bytes. Returns { y, scale }: y in
  // float64 and scale[i] = Σ|terms| of y[i], for tolerances of f32 results.
  function matmul(bytes, rows, cols, type, x, m, precision) {
    const blockBytes = BLOCK_BYTES[type];
    const nb = cols / QK;
    const y = new Float64Array(m * rows);
    const scale = new Float64Array(m * rows);
    const qsAt = type === 'q4_0' ? 2 : 4;
    for (let i = 0; i < m; i++) {
      const xr = x.subarray(i * cols, (i + 1) * cols);
      const act = precision === 'w4a8' ? quantizeActivations(xr) : null;
      for (let n = 0; n < rows; n++) {
        let acc = 0, mag = 0;
        for (let b = 0; b < nb; b++) {
          const o = (n * nb + b) * blockBytes;
          const dw = readFp16(bytes, o);
          const mw = type === 'q4_1' ? readFp16(bytes, o + 2) : 0;
          if (act) {
            let isum = 0, xsum = 0;
            for (let j = 0; j < QK; j++) {
              const a = act.q[b * QK + j];
              isum += (nibble(bytes, o + qsAt, j) - (type === 'q4_0' ? 8 : 0)) * a;
              xsum += a;
            }
            const t1 = isum * dw * act.d[b], t2 = mw * act.d[b] * xsum;
            acc += t1 + t2;
            mag += Math.abs(t1) + Math.abs(t2);
          } else {
            for (let j = 0; j < QK; j++) {
              const code = nibble(bytes, o + qsAt, j);
              const w = type === 'q4_0' ? f32((code - 8) * dw) : f32(f32(code * dw) + mw);
              acc += w * xr[b * QK + j];
              mag += Math.abs(w * xr[b * QK + j]);
            }
          }
        }
        y[i * rows + n] = acc;
        scale[i * rows + n] = mag;
      }
    }
    return { y, scale };
  }

  // Seeded uniform floats in [-1, 1) (mulberry32).
  function random(seed) {
    let s = seed >>> 0;
    return function next() {
      s = (s + 0x6d2b79f5) >>> 0;
      let t = s;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
    };
  }

  function randomFloats(n, seed, amplitude = 1) {
    const next = random(seed);
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = next() * amplitude;
    return out;
  }

  // Index of the first i with |got[i] − want[i]| > rel·scale[i] + abs, or -1.
  function firstMismatch(got, want, scale, rel, abs) {
    for (let i = 0; i < want.length; i++) {
      if (!(Math.abs(got[i] - want[i]) <= rel * scale[i] + abs)) return i;
    }
    return -1;
  }

  return {
    QK, BLOCK_BYTES, fp32ToFp16, fp16ToFp32, quantize, dequantize, quantizeActivations, matmul,
    randomFloats, firstMismatch,
  };
});
