// Small wasm SIMD128 helpers shared by the *__wasmsimd and *__wasmrelaxedsimd kernels.
#pragma once

#ifdef __wasm_simd128__

#include <wasm_simd128.h>

namespace nibble {
namespace wasmsimd {

// Lane i of the result is lane (i + J) % 4 of v: the rotations that let a
// 4×4 tile pair weight row i with activation row (i + J) % 4.
template <int J>
inline v128_t rotate_lanes(v128_t v) {
  return wasm_i32x4_shuffle(v, v, J % 4, (J + 1) % 4, (J + 2) % 4, (J + 3) % 4);
}

// i16x8.relaxed_dot_i8x16_i7x16_s: lane i = a[2i]·b[2i] + a[2i+1]·b[2i+1]
// for int8 a and b in 0..127 (exact then, on every engine). Only the
// *__wasmrelaxedsimd kernels call it. Clang 14 cannot emit the instruction, so this emits
// i16x8.narrow_i32x4_u in its place (same operands and result type, used
// nowhere else), and tools/patch_relaxed_simd.mjs rewrites each one in the
// linked .wasm (TOOLCHAIN.md).
inline v128_t relaxed_dot_i8x16_i7x16(v128_t a, v128_t b) { return wasm_u16x8_narrow_i32x4(a, b); }

// i8x16.relaxed_swizzle(t, s): lane i = t[s[i]], the same on every engine
// for indices 0..15 (x86: one pshufb, where i8x16.swizzle adds a saturating
// add that sends indices ≥ 16 to zero). Clang 14 cannot emit it: this emits
// i16x8.q15mulr_sat_s in its place (same operands and result type, used
// nowhere else), which tools/patch_relaxed_simd.mjs rewrites after linking,
// as relaxed_dot_i8x16_i7x16 above. Only relaxed kernels call it.
inline v128_t relaxed_swizzle_i8x16(v128_t table, v128_t indices) { return wasm_i16x8_q15mulr_sat(table, indices); }

// An empty asm that hides p's value from clang: an inner loop that advances
// its pointers through it keeps them as two plain increments. Without it,
// clang's strength reduction rebuilds a pointer from the loop counter and the
// outer loop's base every step (four x64 instructions under V8, where an add
// is one), and folds a step's constant offsets into loads, which V8 turns
// into one base register per offset for v128.load32_splat.
template <typename T>
inline void opaque_pointers(const T*& a) { __asm__("" : "+r"(a)); }
template <typename T, typename U>
inline void opaque_pointers(const T*& a, const U*& b) { __asm__("" : "+r"(a), "+r"(b)); }

// Lane L of v in all four lanes.
template <int L>
inline v128_t broadcast_lane(v128_t v) {
  return wasm_i32x4_shuffle(v, v, L, L, L, L);
}

// [Σ lanes of a, Σ b, Σ c, Σ d] for four f32x4 vectors.
inline v128_t reduce4_f32(v128_t a, v128_t b, v128_t c, v128_t d) {
  const v128_t ab = wasm_f32x4_add(wasm_i32x4_shuffle(a, b, 0, 4, 1, 5), wasm_i32x4_shuffle(a, b, 2, 6, 3, 7));
  const v128_t cd = wasm_f32x4_add(wasm_i32x4_shuffle(c, d, 0, 4, 1, 5), wasm_i32x4_shuffle(c, d, 2, 6, 3, 7));
  return wasm_f32x4_add(wasm_i32x4_shuffle(ab, cd, 0, 1, 4, 5), wasm_i32x4_shuffle(ab, cd, 2, 3, 6, 7));
}

}  // namespace wasmsimd
}  // namespace nibble

#endif  // __wasm_simd128__
