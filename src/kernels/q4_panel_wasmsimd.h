// wasm SIMD128 helpers on packed Q4 panels (q4_panel.h), shared by the
// tiles of both SIMD tiers: the lane rotations that bring a tile's sums to
// row order, and moving a panel vector's nibbles to another order.
#pragma once

#ifdef __wasm_simd128__

#include <wasm_simd128.h>

#include <cstdint>

#include "kernels/q4_panel.h"
#include "kernels/wasmsimd_util.h"

namespace nibble {
namespace wasmsimd {

// Lane r of the result is lane r of the row sums of nibble S, whose lane i
// holds row (i + S) % 4.
template <int S>
inline v128_t rows_in_lanes(v128_t v) {
  return S == 0 ? v : rotate_lanes<4 - S>(v);
}

// acc[j] lane i holds Y[row (i + j) % 4 of the tile, column 4g + i]; stores
// the first `rows` activation rows.
inline void store_rotated(const v128_t (&acc)[4], int64_t g, float* y, int64_t ldy, int rows) {
  alignas(16) float t[4][4];
  for (int j = 0; j < 4; ++j) wasm_v128_store(t[j], acc[j]);
  for (int j = 0; j < 4; ++j)
    for (int i = 0; i < 4; ++i) {
      const int m = (i + j) % 4;
      if (m < rows) y[m * ldy + g * kPackRows + i] = t[j][i];
    }
}

// Moving a panel vector's nibbles from the build's layout (q4_nibble_slot)
// to another order. Every order here keeps the nibbles of vector v in
// vector v, the same way for every v, so one map serves all: byte o of the
// result takes its low and its high nibble from one source byte's low or
// high nibble each, as four i8x16.swizzle index vectors, one per (output
// half, source half), with −1 (zero) where that source half is not used.
struct NibbleMoveMap {
  int8_t lo_from_lo[16], lo_from_hi[16], hi_from_lo[16], hi_from_hi[16];  // swizzle indices, −1 = none
};
constexpr NibbleMoveMap nibble_move_map(NibbleSlot (*target)(int r, int k)) {
  NibbleMoveMap m{};
  for (int o = 0; o < 16; ++o) m.lo_from_lo[o] = m.lo_from_hi[o] = m.hi_from_lo[o] = m.hi_from_hi[o] = -1;
  for (int r = 0; r < kPackRows; ++r)
    for (int k = 0; k < 8; ++k) {  // the elements of vector 0
      const NibbleSlot from = q4_nibble_slot(r, k), to = target(r, k);
      int8_t* indices = to.shift == 0 ? (from.shift == 0 ? m.lo_from_lo : m.lo_from_hi) : (from.shift == 0 ? m.hi_from_lo : m.hi_from_hi);
      indices[to.byte] = int8_t(from.byte);
    }
  return m;
}
// The map's index vectors, loaded once per loop.
struct NibbleMover {
  v128_t lo_lo, lo_hi, hi_lo, hi_hi;
  explicit NibbleMover(const NibbleMoveMap& m)
      : lo_lo(wasm_v128_load(m.lo_from_lo)), lo_hi(wasm_v128_load(m.lo_from_hi)),
        hi_lo(wasm_v128_load(m.hi_from_lo)), hi_hi(wasm_v128_load(m.hi_from_hi)) {}
  v128_t operator()(v128_t q) const {
    const v128_t mask = wasm_i8x16_splat(0x0F);
    const v128_t lo = wasm_v128_and(q, mask), hi = wasm_v128_and(wasm_u16x8_shr(q, 4), mask);
    const v128_t out_lo = wasm_v128_or(wasm_i8x16_swizzle(lo, lo_lo), wasm_i8x16_swizzle(hi, lo_hi));
    const v128_t out_hi = wasm_v128_or(wasm_i8x16_swizzle(lo, hi_lo), wasm_i8x16_swizzle(hi, hi_hi));
    return wasm_v128_or(out_lo, wasm_i16x8_shl(out_hi, 4));
  }
};

}  // namespace wasmsimd
}  // namespace nibble

#endif  // __wasm_simd128__
