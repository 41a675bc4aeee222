// wasm SIMD128 Q4 kernels of both SIMD tiers (*__wasmsimd and
// *__wasmrelaxedsimd), in terms of the tiles of
//   q4_activations_wasmsimd.h   activation layouts (Q8_0 and f32)
//   q4_q8_wasmsimd.h            W4A8 tiles (GEMV on the rotated layout; GEMM)
//   q4_f32_wasmsimd.h           W4A32 tiles
//   q4_q8_wasmrelaxedsimd.h     the relaxed tier's W4A8 GEMV tiles
//   q4_panel_wasmsimd.h         nibble moves and lane rotations they share
// One group = 4 weight rows. GEMV tiles: 4 weight rows × 1 activation row;
// GEMM tiles: 4 × 4 (the relaxed tier's Q4: 8 × 4, a pair of groups), the
// last activation tile zero-padded. Partial groups
// (N % 4 rows) go to the scalar kernel of the same name, which computes the
// same bits for W4A8.
//
// Shaped for what clang 14 and V8 make of it (checked in V8's x64 code):
// small loops carry `unroll(full)` so arrays of vectors stay in locals;
// activations are interleaved so one pointer with constant offsets reaches a
// block (V8 keeps one spilled base register per load32_splat offset); the
// loops over a block's four panel vectors stay rolled (unrolled, clang hoists
// all their loads and V8 spills them; V8 unrolls them itself).
//
// The relaxed tier has rows in lanes: its W4A8 kernels are
// q4_q8_gemv_relaxed (q4_q8_wasmrelaxedsimd.h), and the Q4 and Q5 GEMM
// q4_q8_gemm_relaxed (8 or 4 weight rows × 4 activation rows on a copy of
// the groups unpacked once, q4_q8_gemm_wasmrelaxedsimd.h);
// its W4A32 kernels move the nibbles to the rotated order (the GEMV as it
// reads, the GEMM in a copy of each group).
#pragma once

#ifdef __wasm_simd128__

#include <wasm_simd128.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "kernels/q4_activations_wasmsimd.h"
#include "kernels/q4_f32_wasmsimd.h"
#include "kernels/q4_panel.h"
#include "kernels/q4_q8_gemm_wasmrelaxedsimd.h"
#include "kernels/q4_q8_wasmrelaxedsimd.h"
#include "kernels/q4_q8_wasmsimd.h"

namespace nibble {
namespace wasmsimd {

// Runs a kernel call: prepares the activations of rows [m_begin, m_end)
// interleaved by R (1 for GEMV, 4 for GEMM), then runs tile(act, t, g, ...)
// for each full weight group g × each activation tile t; a partial last
// group (N % 4 rows) goes to `scalar_tail`, the scalar kernel of the same name.
template <typename Prepare, typename Tile, typename W, typename X, typename Scalar>
void q4_tiles(const W& w, const X& x, const OutputTile& out, int R, Prepare prepare, Tile tile, Scalar scalar_tail) {
  const auto* act = prepare(x, out.m_begin, out.m_end, R);
  for (int64_t g = out.n_begin / kPackRows; g * kPackRows < out.n_end; ++g) {
    if ((g + 1) * kPackRows > std::min(out.n_end, w.N)) {
      scalar_tail(w, x, group_tile(out, g));
      continue;
    }
    for (int64_t m = out.m_begin, t = 0; m < out.m_end; m += R, ++t)
      tile(act, t, g, out.y + m * out.ldy, out.ldy, int(std::min<int64_t>(R, out.m_end - m)));
  }
}

// The rows of `out` past its last multiple of 4 would take a whole 4-row
// GEMM tile, padded with zero rows. When there are 1..max_rest of them, runs
// them through `gemv` (and the rows before them, if any, through `gemm`)
// and returns true.
template <typename Gemm, typename Gemv>
bool gemv_for_leftover_rows(const OutputTile& out, int64_t max_rest, Gemm gemm, Gemv gemv) {
  const int64_t full_end = out.m_begin + (out.m_end - out.m_begin) / 4 * 4;
  if (full_end == out.m_end || out.m_end - full_end > max_rest) return false;
  OutputTile head = out, rest = out;
  head.m_end = rest.m_begin = full_end;
  if (head.m_begin < head.m_end) gemm(head);
  gemv(rest);
  return true;
}

// The plain tier's W4A8 GEMMs on pair-major copies (Q4_0, Q5_0, Q8_0,
// IQ4_NL, Q4_K, Q6_K): weight groups two by two (a group without its
// partner alone), each copied once by `copy` into its slot of the pair's
// copy (copy_bytes long: copy_group_pair_major, copy_i8_group_pair_major,
// copy_k_group_pair_major), then every 4-row activation tile over the copy
// (kTile: q4_q8_gemm_tile, k_pair_major_tile); a partial last group (N %
// 4 rows) to `tail`. A lone group runs the same tile on the other slot's
// stale values, which it does not store. Out of line, one instance per
// tile (the tile inlined: called through a pointer, Q4_0's prompt took
// 1.03× the time): inlined into each type's kernel it cost 1.3 KB of the
// gzipped download.
using PairMajorCopy = void (*)(const PackedView& w, int64_t g, int slot, uint8_t* out);
template <void (*kTile)(int64_t K, const uint8_t* copy, const int32_t* act, int64_t g, int groups, float* y, int64_t ldy,
                        int rows)>
__attribute__((noinline)) void pair_major_gemm(const PackedView& w, const Q8Activations& x, const OutputTile& out,
                                               PackedQ8Fn tail, PairMajorCopy copy, size_t copy_bytes) {
  const int64_t stride = (w.K / kQK) * q8_block_stride<false>(4);
  const int32_t* act = interleave_q8<false>(x, out.m_begin, out.m_end, 4);
  thread_local std::vector<uint8_t> copied;  // the current pair's copy (grown, never shrunk: see grow() in matmul.cpp)
  if (copied.size() < copy_bytes) copied.resize(copy_bytes);
  const int64_t full_end = std::min(out.n_end, w.N) / kPackRows;
  for (int64_t g = out.n_begin / kPackRows; g < full_end; g += kPairMajorGroups) {
    const int groups = int(std::min<int64_t>(kPairMajorGroups, full_end - g));
    for (int s = 0; s < groups; ++s) copy(w, g + s, s, copied.data());
    for (int64_t m = out.m_begin, t = 0; m < out.m_end; m += 4, ++t)
      kTile(w.K, copied.data(), act + t * stride, g, groups, out.y + m * out.ldy, out.ldy, int(std::min<int64_t>(4, out.m_end - m)));
  }
  if (full_end * kPackRows < out.n_end) tail(w, x, group_tile(out, full_end));
}

// The four kernels of a Q4 type for one SIMD tier, in terms of the tiles:
// kRelaxed = false the *__wasmsimd kernels, true the *__wasmrelaxedsimd
// ones. Each tier reads the packed layout of the builds that have it
// (q4_panel.h), so a build instantiates one of them. kHigh: the W4A8
// kernels of the Q5 panels (Q4 panels plus fifth bits); the plain tier's
// GEMM runs the Q4 tile on a copy of their 5-bit values
// (copy_group_pair_major<true>).
template <bool kHasMin, bool kRelaxed, bool kHigh = false>
struct Q4Kernels {
  static_assert(kRelaxed == kRowsInLanes, "a SIMD tier's Q4 kernels read its own packed layout (q4_panel.h)");
  static constexpr int64_t kGemvRowsMax = 4;
  // The GEMVs stay out of line: the GEMMs call them for leftover rows, and
  // inlined copies cost 0.8 KB of the gzipped download.
  __attribute__((noinline)) static void q8_gemv(const Q4Weights& w, const Q8Activations& x, const OutputTile& out, Q4Q8Fn tail) {
    if constexpr (kRelaxed) {
      q4_q8_gemv_relaxed<kHasMin, kHigh>(w, x, out, tail);
    } else {
      const int64_t stride = (w.K / kQK) * q8_block_stride<false>(1);
      q4_tiles(w, x, out, 1, interleave_q8<false>, [&](const int32_t* act, int64_t t, int64_t g, float* y, int64_t, int) {
        q4_q8_gemv_tile<kHasMin, kHigh>(w, act + t * stride, g, y);
      }, tail);
    }
  }
  static void q8_gemm(const Q4Weights& w, const Q8Activations& x, const OutputTile& out, Q4Q8Fn tail) {
    if (out.m_end - out.m_begin <= kGemvRowsMax) return q8_gemv(w, x, out, tail);
    if constexpr (kRelaxed) {
      // A last partial activation tile runs padded: its rows keep matmul()'s layout.
      // Q5_1 (a legacy type no K-quant mix uses) runs its GEMV tiles row by
      // row: a GEMM of its own, unpacked (q4_q8_gemm_relaxed<true, true>,
      // bitwise the same) or the 4×4 tile before it, cost 1.0–1.1 KB of the
      // gzipped download, which is at its budget.
      if (kHigh && kHasMin) return q8_gemv(w, x, out, tail);
      q4_q8_gemm_relaxed<kHasMin, kHigh>(w, x, out, tail);
    } else {
      // (Measured with the 4×4 tile before q4_q8_gemm_tile:) the copy costs
      // about half of one 4×4 tile per block, so up to 4 activation rows the GEMV tiles are faster (4096×4096: M = 2 1.75 ms vs
      // 3.5 ms, M = 4 3.4 ms vs 3.6 ms). Known cost of this layout: M = 4..16
      // is 27%..3% slower than the previous layout's GEMM (M = 64: 8% faster).
      // Leftover rows: one or two go through the GEMV tiles, three through a
      // padded 8×4 tile (in a 63-row prompt the GEMV rows took 6.6 % of its
      // time, a tile of the GEMM about 5 %).
      // Q4_1 and Q5_1 run their GEMV tiles row by row (q4_q8_gemm_tile).
      if (kHasMin) return q8_gemv(w, x, out, tail);
      if (gemv_for_leftover_rows(out, 2, [&](const OutputTile& o) { q8_gemm(w, x, o, tail); },
                                 [&](const OutputTile& o) { q8_gemv(w, x, o, tail); }))
        return;
      pair_major_gemm<q4_q8_gemm_tile>(w, x, out, tail, copy_group_pair_major<kHigh>,
                      size_t(w.K / kQK) * pair_major_block_bytes());
    }
  }
  __attribute__((noinline)) static void f32_gemv(const Q4Weights& w, const F32Activations& x, const OutputTile& out, Q4F32Fn tail) {
    const int64_t stride = (w.K / kQK) * f32_block_stride(1);
    q4_tiles(w, x, out, 1, interleave_f32, [&](const float* act, int64_t t, int64_t g, float* y, int64_t, int) {
      q4_f32_gemv_tile<kHasMin, kRelaxed>(w, act + t * stride, g, y);
    }, tail);
  }
  // W4A32 prompts (a reference precision: `nibble eval --precision w4a32`)
  // run the GEMV tiles on each activation row: a 4×4 tile of their own
  // cost 2.3 KB of the gzipped download (both Q4 types), which is at its
  // budget, for 0.6× the time (576×1536: a GEMV row 0.125 ms, a 4-row tile
  // 0.30 ms).
  static void f32_gemm(const Q4Weights& w, const F32Activations& x, const OutputTile& out, Q4F32Fn tail) {
    f32_gemv(w, x, out, tail);
  }
};

}  // namespace wasmsimd
}  // namespace nibble

#endif  // __wasm_simd128__
