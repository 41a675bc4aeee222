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
// exp_f32x4_steps(x, n) does the work for n vectors side by side (one
// step of each chain, then the next step: the chains' latencies overlap
// within a few instructions of each other), with x clamped to [−60, 88]
// and without the flush and NaN masks (exp_f32x4 adds them): a NaN lane
// comes out NaN, x ≤ −60 gives e^−60.
// n = x·log2(e) rounded half to even, through 1.5·2^23: |x·log2(e)| < 2^22,
// so the sum's low mantissa bits hold n as an integer (n's exponent bits
// below without a float-to-int conversion, which V8 expands to ~7 x64
// instructions for NaN and overflow). r = x − n·ln2 in two steps (ln2 =
// hi + lo, hi exact in few bits).
// `pin`, when given, is scratch memory the step stores a few intermediate
// vectors to (three per chain, never read): V8 places each pure operation
// just before its first use, so N chains that meet only at their results
// run one after another, each ~25 dependent operations long, and a core's
// scheduler holds too few of them to overlap their latencies; a store is
// an effect that keeps program order, so the chains run side by side up to
// each pinned step (SwiGLU over 4 chains: ~1.2x as fast). Same floats.
template <int N>
inline void exp_f32x4_steps(v128_t (&x)[N], v128_t* pin = nullptr) {
  v128_t shifted[N], r[N], p[N];
  const v128_t magic = wasm_f32x4_splat(12582912.0f);
  const auto pin_step = [&](int slot, const v128_t (&v)[N]) {
    if (pin != nullptr)
#pragma clang loop unroll(full)
      for (int i = 0; i < N; ++i) wasm_v128_store(pin + slot * N + i, v[i]);
  };
#pragma clang loop unroll(full)
  for (int i = 0; i < N; ++i) {
    x[i] = wasm_f32x4_pmax(wasm_f32x4_pmin(x[i], wasm_f32x4_splat(88.0f)), wasm_f32x4_splat(-60.0f));
    shifted[i] = wasm_f32x4_add(wasm_f32x4_mul(x[i], wasm_f32x4_splat(1.44269504088896341f)), magic);
  }
  pin_step(0, shifted);
#pragma clang loop unroll(full)
  for (int i = 0; i < N; ++i) {
    const v128_t n = wasm_f32x4_sub(shifted[i], magic);
    r[i] = wasm_f32x4_sub(x[i], wasm_f32x4_mul(n, wasm_f32x4_splat(0.693359375f)));
    r[i] = wasm_f32x4_sub(r[i], wasm_f32x4_mul(n, wasm_f32x4_splat(-2.12194440e-4f)));
    p[i] = wasm_f32x4_splat(1.9875691500e-4f);
  }
  pin_step(1, r);
  constexpr float kCoefficients[] = {1.3981999507e-3f, 8.3334519073e-3f, 4.1665795894e-2f, 1.6666665459e-1f, 5.0000001201e-1f};
#pragma clang loop unroll(full)
  for (int c = 0; c < 5; ++c) {
#pragma clang loop unroll(full)
    for (int i = 0; i < N; ++i) p[i] = wasm_f32x4_add(wasm_f32x4_mul(p[i], r[i]), wasm_f32x4_splat(kCoefficients[c]));
    if (c == 2) pin_step(2, p);
  }
#pragma clang loop unroll(full)
  for (int i = 0; i < N; ++i) {
    p[i] = wasm_f32x4_add(wasm_f32x4_add(wasm_f32x4_mul(wasm_f32x4_mul(p[i], r[i]), r[i]), r[i]), wasm_f32x4_splat(1.0f));
    const v128_t scale = wasm_i32x4_shl(wasm_i32x4_sub(shifted[i], wasm_i32x4_splat(0x4B400000 - 127)), 23);  // 2^n
    x[i] = wasm_f32x4_mul(p[i], scale);
  }
}

// Scratch for exp_f32x4_steps' pins (3·N vectors), behind a pointer that
// clang cannot see through, so that it keeps the stores.
template <int N>
struct ExpPins {
  v128_t slots[3 * N];
  v128_t* get() {
    v128_t* p = slots;
    __asm__("" : "+r"(p));
    __builtin_assume(p != nullptr);  // (no null test per pinned step)
    return p;
  }
};

inline v128_t exp_f32x4(v128_t x) {
  const v128_t keep = wasm_f32x4_ge(x, wasm_f32x4_splat(-60.0f));  // false for NaN too
  const v128_t nan = wasm_f32x4_ne(x, x);
  v128_t e[1] = {x};
  exp_f32x4_steps(e);
  return wasm_v128_or(wasm_v128_and(e[0], keep), wasm_v128_and(x, nan));  // x is NaN in those lanes
}

}  // namespace nibble
