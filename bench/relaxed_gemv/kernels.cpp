// An experiment, not part of the library (README.md here): the W4A8 GEMV
// inner loop as nibble ships it (rows rotated across the nibbles,
// i32x4.dot_i16x8_s; the same loop as q4_wasmsimd.h) against one written
// for relaxed SIMD (each row's 32 nibbles in GGUF order,
// i16x8.relaxed_dot_i8x16_i7x16_s with int8 activations, two dots summed in
// int16 before one widening). Both read 80 bytes per block of 4 rows × 32.
// Built by clang-19 as a standalone module (em++ 3.1.6 cannot link relaxed
// SIMD: TOOLCHAIN.md).
#include <stdint.h>
#include <wasm_simd128.h>

template <int J> static inline v128_t rot(v128_t v) { return wasm_i32x4_shuffle(v, v, J % 4, (J + 1) % 4, (J + 2) % 4, (J + 3) % 4); }
template <int S> static inline v128_t nib(v128_t q) {
  if (S == 3) return wasm_u16x8_shr(q, 12);
  return wasm_v128_and(q, wasm_i16x8_splat(int16_t(0xF << (4 * S))));
}
template <int S> static inline v128_t unscale(v128_t s) { return S == 1 || S == 2 ? wasm_i32x4_shr(s, 4 * S) : s; }

// Plain: panel per block = f32 d[4] + 64 bytes; act per block = int32
// pairs[16], d, −8·Σq, d·Σq (76 bytes). The block's first vector sets the
// sums (as shipped).
template <bool kFirst>
static inline void nibble_dots(const uint8_t* qs, const int32_t* pairs, v128_t (&d)[4]) {
  const v128_t q = wasm_v128_load(qs), x = wasm_v128_load(pairs);
  const v128_t p[4] = {wasm_i32x4_dot_i16x8(nib<0>(q), x), wasm_i32x4_dot_i16x8(nib<1>(q), x),
                       wasm_i32x4_dot_i16x8(nib<2>(q), x), wasm_i32x4_dot_i16x8(nib<3>(q), x)};
#pragma clang loop unroll(full)
  for (int s = 0; s < 4; ++s) d[s] = kFirst ? p[s] : wasm_i32x4_add(d[s], p[s]);
}
extern "C" void plain_gemv(const uint8_t* w, const int32_t* act, int nb, int groups, float* y) {
  for (int g = 0; g < groups; ++g) {
    const uint8_t* panel = w + (int64_t)g * nb * 80;
    const int32_t* a = act;
    v128_t acc = wasm_f32x4_splat(0.0f);
    for (int b = 0; b < nb; ++b, panel += 80, a += 19) {
      const uint8_t* qs = panel + 16;
      const int32_t* pairs = a;
      v128_t d[4];
      nibble_dots<true>(qs, pairs, d);
#pragma clang loop unroll(disable)
      for (int v = 1; v < 4; ++v) nibble_dots<false>(qs += 16, pairs += 4, d);
      const v128_t dot = wasm_i32x4_add(wasm_i32x4_add(d[0], rot<1>(unscale<1>(d[1]))), wasm_i32x4_add(rot<2>(unscale<2>(d[2])), rot<3>(d[3])));
      const v128_t da = wasm_v128_load32_splat(a + 16), term = wasm_v128_load32_splat(a + 17);
      const v128_t scale = wasm_f32x4_mul(wasm_v128_load(panel), da);
      acc = wasm_f32x4_add(acc, wasm_f32x4_mul(wasm_f32x4_convert_i32x4(wasm_i32x4_add(dot, term)), scale));
    }
    wasm_v128_store(y + 4 * g, acc);
  }
}

// Relaxed: panel per block = f32 d[4] + qs[4][16] (GGUF nibble order per row:
// low nibbles elements 0..15, high 16..31); act per block = int8 x[32], f32 d, int32 −8·Σq (40 bytes).
static inline v128_t reduce4(v128_t a, v128_t b, v128_t c, v128_t d) {
  const v128_t ab = wasm_i32x4_add(wasm_i32x4_shuffle(a, b, 0, 4, 1, 5), wasm_i32x4_shuffle(a, b, 2, 6, 3, 7));
  const v128_t cd = wasm_i32x4_add(wasm_i32x4_shuffle(c, d, 0, 4, 1, 5), wasm_i32x4_shuffle(c, d, 2, 6, 3, 7));
  return wasm_i32x4_add(wasm_i32x4_shuffle(ab, cd, 0, 1, 4, 5), wasm_i32x4_shuffle(ab, cd, 2, 3, 6, 7));
}
static inline v128_t row_dot(const uint8_t* qs, v128_t xlo, v128_t xhi) {
  const v128_t q = wasm_v128_load(qs);
  const v128_t lo = wasm_v128_and(q, wasm_i8x16_splat(0x0F));
  const v128_t hi = wasm_u8x16_shr(q, 4);
  const v128_t p = wasm_i16x8_add(wasm_i16x8_relaxed_dot_i8x16_i7x16(xlo, lo), wasm_i16x8_relaxed_dot_i8x16_i7x16(xhi, hi));
  return wasm_i32x4_extadd_pairwise_i16x8(p);
}
extern "C" void relaxed_gemv(const uint8_t* w, const uint8_t* act, int nb, int groups, float* y) {
  for (int g = 0; g < groups; ++g) {
    const uint8_t* panel = w + (int64_t)g * nb * 80;
    const uint8_t* a = act;
    v128_t acc = wasm_f32x4_splat(0.0f);
    for (int b = 0; b < nb; ++b, panel += 80, a += 40) {
      const v128_t xlo = wasm_v128_load(a), xhi = wasm_v128_load(a + 16);
      const v128_t dot = reduce4(row_dot(panel + 16, xlo, xhi), row_dot(panel + 32, xlo, xhi),
                                 row_dot(panel + 48, xlo, xhi), row_dot(panel + 64, xlo, xhi));
      const v128_t da = wasm_v128_load32_splat(a + 32), term = wasm_v128_load32_splat(a + 36);
      const v128_t scale = wasm_f32x4_mul(wasm_v128_load(panel), da);
      acc = wasm_f32x4_add(acc, wasm_f32x4_mul(wasm_f32x4_convert_i32x4(wasm_i32x4_add(dot, term)), scale));
    }
    wasm_v128_store(y + 4 * g, acc);
  }
}
// Scalar reference for the relaxed layout.
extern "C" void relaxed_ref(const uint8_t* w, const uint8_t* act, int nb, int groups, float* y) {
  for (int g = 0; g < groups; ++g)
    for (int r = 0; r < 4; ++r) {
      float acc = 0;
      for (int b = 0; b < nb; ++b) {
        const uint8_t* panel = w + ((int64_t)g * nb + b) * 80;
        const uint8_t* a = act + b * 40;
        int32_t s = 0;
        for (int k = 0; k < 16; ++k) {
          const uint8_t q = panel[16 + 16 * r + k];
          s += ((int8_t)a[k]) * (q & 15) + ((int8_t)a[16 + k]) * (q >> 4);
        }
        const int32_t term = *(const int32_t*)(a + 36);
        acc += (float)(s + term) * (((const float*)panel)[r] * *(const float*)(a + 32));
      }
      y[4 * g + r] = acc;
    }
}
