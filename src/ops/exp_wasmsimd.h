// exp on four float lanes for the wasm SIMD tier of the f32 operators
// (ops__wasmsimd.cpp: softmax, SwiGLU, exp_shifted; attention_tiled.cpp: the
// prompt attention's online softmax, inlined there).
#pragma once

#include <wasm_simd128.h>

namespace nibble {

// exp(x) on four lanes, flushed to 0 below x = −60: x = n·ln2 + r,
// |r| ≤ ln2/2, exp(r) from a degree-6 polynomial (Cephes expf's
// coefficients), scaled by 2^n through the exponent bits. Within 2 ulp of
// expf over [−60, 88]; larger inputs are clamped to 88 and NaN stays NaN.
// The flush matters for speed: softmax weights of e^−60 and below cannot
// move a float sum (e^−60 ≈ 1e−26), but their products with the value rows
// land in subnormal floats, which x86 handles in slow microcode; a softmax
// over peaked scores made attention several times slower.
inline v128_t exp_f32x4(v128_t x) {
  const v128_t keep = wasm_f32x4_ge(x, wasm_f32x4_splat(-60.0f));  // false for NaN too
  const v128_t nan = wasm_f32x4_ne(x, x);
  x = wasm_f32x4_pmax(wasm_f32x4_pmin(x, wasm_f32x4_splat(88.0f)), wasm_f32x4_splat(-60.0f));
  // n = x·log2(e) rounded half to even, through 1.5·2^23: |x·log2(e)| < 2^22,
  // so the sum's low mantissa bits hold n as an integer (n's exponent bits
  // below without a float-to-int conversion, which V8 expands to ~7 x64
  // instructions for NaN and overflow; NaN lanes are masked at the end).
  const v128_t magic = wasm_f32x4_splat(12582912.0f);
  const v128_t shifted = wasm_f32x4_add(wasm_f32x4_mul(x, wasm_f32x4_splat(1.44269504088896341f)), magic);
  const v128_t n = wasm_f32x4_sub(shifted, magic);
  // r = x − n·ln2 in two steps (ln2 = hi + lo, hi exact in few bits).
  v128_t r = wasm_f32x4_sub(x, wasm_f32x4_mul(n, wasm_f32x4_splat(0.693359375f)));
  r = wasm_f32x4_sub(r, wasm_f32x4_mul(n, wasm_f32x4_splat(-2.12194440e-4f)));
  v128_t p = wasm_f32x4_splat(1.9875691500e-4f);
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(1.3981999507e-3f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(8.3334519073e-3f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(4.1665795894e-2f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(1.6666665459e-1f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(5.0000001201e-1f));
  p = wasm_f32x4_add(wasm_f32x4_add(wasm_f32x4_mul(wasm_f32x4_mul(p, r), r), r), wasm_f32x4_splat(1.0f));
  const v128_t scale = wasm_i32x4_shl(wasm_i32x4_sub(shifted, wasm_i32x4_splat(0x4B400000 - 127)), 23);  // 2^n
  const v128_t e = wasm_v128_and(wasm_f32x4_mul(p, scale), keep);
  return wasm_v128_or(e, wasm_v128_and(x, nan));  // x is NaN in those lanes
}

}  // namespace nibble
