// The W4A32 tiles of the Q4 SIMD kernels (q4_wasmsimd.h): nibbles widened
// to f32 and multiplied by f32 activations, on panels in the rotated order
// (packed_weights.h). The *__wasmrelaxedsimd kernels (rows in lanes) move
// the nibbles to that order first (NibbleMover).
#pragma once

#ifdef __wasm_simd128__

#include <wasm_simd128.h>

#include <cstdint>

#include "kernels/q4_activations_wasmsimd.h"
#include "kernels/q4_panel_wasmsimd.h"

namespace nibble {
namespace wasmsimd {

// Nibble J (0..7) of every 32-bit lane of a panel vector as f32: lane i =
// row (i + J % 4) % 4's weight code for element 2(4v + i) + J / 4
// (packed_weights.h: a 32-bit lane holds the two 16-bit lanes of pair
// 4v + i). For Q4_1 the code q;
// for Q4_0, q − 8: the caller passes q ^ 0x88888888 (each nibble then holds
// q − 8 as a 4-bit two's complement), which a shift left and an arithmetic
// shift right sign-extend.
template <bool kHasMin, int J>
inline v128_t lane_nibble_f32(v128_t q) {
  v128_t qi;
  if (kHasMin) {
    qi = J == 7 ? wasm_u32x4_shr(q, 28) : wasm_v128_and(wasm_u32x4_shr(q, 4 * (J % 4) + 16 * (J / 4)), wasm_i32x4_splat(0xF));
  } else {
    constexpr int kShift = 4 * (J % 4) + 16 * (J / 4);
    qi = wasm_i32x4_shr(kShift == 28 ? q : wasm_i32x4_shl(q, 28 - kShift), 28);
  }
  return wasm_f32x4_convert_i32x4(qi);
}
// A panel vector in the rotated order as lane_nibble_f32 wants it.
template <bool kHasMin>
inline v128_t lane_nibbles(v128_t q) {
  return kHasMin ? q : wasm_v128_xor(q, wasm_i32x4_splat(int32_t(0x88888888u)));
}
// The W4A32 tiles read the rotated order. The relaxed tier's panels hold
// rows in lanes: its GEMV moves each vector's nibbles as it loads it (+15
// operations on ~45).
static constexpr NibbleMoveMap kToRotated = nibble_move_map(rotated_nibble_slot);
// W4A32 GEMV tile: y[4g .. 4g+4] for one activation row, `act` its blocks
// from interleave_f32 with R = 1. Nibble s, half e of panel vector v (lane i
// = row (i + s) % 4, element 8v + 2i + e) meets activation vector 2v + e as
// loaded; sum[s] gathers nibble s and is rotated to row order per block.
// Per block: acc += d_w · Σ_k (q [− 8])·x [+ m_w · Σx]. The relaxed tier
// moves each vector to the rotated order first.
template <bool kHasMin, bool kRelaxed>
void q4_f32_gemv_tile(const Q4Weights& w, const float* act, int64_t g, float* y) {
  const int64_t nb = w.K / kQK;
  constexpr size_t kPanel = q4_panel_bytes(q4_type(kHasMin));
  const uint8_t* panel = q4_panel<kHasMin>(w, g, 0);
  const size_t step = size_t(q4_panel_step(w, g)) * kPanel;
  const NibbleMover to_rotated(kToRotated);
  v128_t acc = wasm_f32x4_splat(0.0f);
  for (int64_t b = 0; b < nb; ++b, panel += step, act += f32_block_stride(1)) {
    v128_t sum[4];
#pragma clang loop unroll(full)
    for (int s = 0; s < 4; ++s) sum[s] = wasm_f32x4_splat(0.0f);
    const uint8_t* qs = panel + q4_qs_offset(kHasMin);
    const float* xv = act;
#pragma clang loop unroll(disable)
    for (int v = 0; v < 4; ++v, qs += 16, xv += 8) {
      const v128_t loaded = wasm_v128_load(qs);
      const v128_t q = lane_nibbles<kHasMin>(kRelaxed ? to_rotated(loaded) : loaded);
      const v128_t x0 = wasm_v128_load(xv), x1 = wasm_v128_load(xv + 4);
      sum[0] = wasm_f32x4_add(sum[0], wasm_f32x4_add(wasm_f32x4_mul(lane_nibble_f32<kHasMin, 0>(q), x0), wasm_f32x4_mul(lane_nibble_f32<kHasMin, 4>(q), x1)));
      sum[1] = wasm_f32x4_add(sum[1], wasm_f32x4_add(wasm_f32x4_mul(lane_nibble_f32<kHasMin, 1>(q), x0), wasm_f32x4_mul(lane_nibble_f32<kHasMin, 5>(q), x1)));
      sum[2] = wasm_f32x4_add(sum[2], wasm_f32x4_add(wasm_f32x4_mul(lane_nibble_f32<kHasMin, 2>(q), x0), wasm_f32x4_mul(lane_nibble_f32<kHasMin, 6>(q), x1)));
      sum[3] = wasm_f32x4_add(sum[3], wasm_f32x4_add(wasm_f32x4_mul(lane_nibble_f32<kHasMin, 3>(q), x0), wasm_f32x4_mul(lane_nibble_f32<kHasMin, 7>(q), x1)));
    }
    const v128_t total = wasm_f32x4_add(wasm_f32x4_add(sum[0], rows_in_lanes<1>(sum[1])),
                                        wasm_f32x4_add(rows_in_lanes<2>(sum[2]), rows_in_lanes<3>(sum[3])));
    acc = wasm_f32x4_add(acc, wasm_f32x4_mul(total, wasm_v128_load(panel)));
    if (kHasMin) acc = wasm_f32x4_add(acc, wasm_f32x4_mul(wasm_v128_load(panel + 16), wasm_v128_load32_splat(act + kQK)));
  }
  wasm_v128_store(y + g * kPackRows, acc);
}

}  // namespace wasmsimd
}  // namespace nibble

#endif  // __wasm_simd128__
