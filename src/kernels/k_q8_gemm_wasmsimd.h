// The plain tier's W4A8 GEMM of Q4_K and Q6_K (*__wasmsimd): the Q4_0
// GEMM's pair-major tile (pair_major_gemm, q4_wasmsimd.h; the step loop
// pair_major_block_dots, q4_q8_wasmsimd.h) on a copy of each group's
// super-blocks whose codes are widened to int16 with the sub-block scale
// already multiplied in, so that one 32-block's integer sum per weight row
// and activation row is k_superblock_q8()'s (k_panel.h) whole int32 term:
//   Q4_K  sc_s · Σ q·xq            (q ≤ 15, sc ≤ 63: sc·q ≤ 945)
//   Q6_K  Σ_h sc_h · Σ (q − 32)·xq (|sc·(q − 32)| ≤ 128 · 32 = 4096)
// (each int16, a dot step's two products ≤ 2 · 4096 · 128, a block's sum
// < 2^25: exact). The activations are matmul()'s plain layout
// (interleave_q8<false>, R = 4): its per-row d and d·float(Σq) are the
// definition's dx and dx·float(sx). Then the definition's float formula,
// lane by lane in its order, so outputs are bitwise the reference's.
// Replaced the GEMM that unpacked each group once and ran it row by row
// (UnitDots: 16 multiply-adds per two dots, a broadcast and two adds):
// a dot step is now the Q4_0 tile's (V8 x64: 22 SIMD and 4 scalar
// instructions per 16 weights × 4 activation rows). nibble_bench, Node,
// M = 64, 1536×576, two alternating runs under load 6-8: Q4_K 15.7 ->
// 32.7 GMAC/s, Q6_K 16.4 -> 35.2 (Q4_0: 36); Q8_0's GEMM on the same tile
// (i8_q8_wasmsimd.h), 576×1536: 18.1 -> 34.7. The Q4_K_M bench model's
// 64-token prompt in the plain build: 0.78× the CPU time.
#pragma once

#if defined(__wasm_simd128__) && !defined(NIBBLE_RELAXED_SIMD)

#include <wasm_simd128.h>

#include <cstdint>

#include "kernels/k_wasmsimd.h"
#include "kernels/q4_wasmsimd.h"

namespace nibble {
namespace wasmsimd {

// The copy of a pair of groups, per super-block: a head
//   d[2][4]      each group's f32 d (its slot's four rows)
//   dmin[2][4]   Q4_K: each group's f32 dmin
// then eight 32-blocks in the Q4_0 copy's layout (pair_major_block_bytes):
//   heads[2]     Q4_K: each group's minimums of the block's sub-block, as f32
//   pairs[16][2] pair vector p of each group: lane pair r = row r's
//                elements 2p, 2p + 1, times their scale (Q6_K: centred)
constexpr size_t kKPairHeadBytes = 2 * kPairMajorGroups * 16;
constexpr size_t k_pair_major_superblock_bytes() { return kKPairHeadBytes + kKParts * pair_major_block_bytes(); }

// Row r's scale in int16 lanes 4r .. 4r+3 of the pair (low: rows 0, 1;
// high: rows 2, 3) from the four scale bytes at `bytes` (row r's at r).
template <bool kSigned>
inline void k_row_scales(const uint8_t* bytes, v128_t* low, v128_t* high) {
  const v128_t spread = wasm_i8x16_swizzle(wasm_v128_load32_splat(bytes), wasm_i8x16_make(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3));
  *low = kSigned ? wasm_i16x8_extend_low_i8x16(spread) : wasm_u16x8_extend_low_u8x16(spread);
  *high = kSigned ? wasm_i16x8_extend_high_i8x16(spread) : wasm_u16x8_extend_high_u8x16(spread);
}

// Stores code vector `codes` (lane r: row r's codes of elements 4c ..
// 4c+3, one byte each) as pair vectors 2c and 2c + 1 at `pairs` and
// `pairs` + kPair·16, (codes − centre) · scale.
inline void store_k_pairs(v128_t codes, v128_t centre, v128_t scale01, v128_t scale23, uint8_t* pairs) {
  constexpr int kPair = 16 * kPairMajorGroups;
  const v128_t w01 = wasm_i16x8_mul(wasm_i16x8_sub(wasm_u16x8_extend_low_u8x16(codes), centre), scale01);
  const v128_t w23 = wasm_i16x8_mul(wasm_i16x8_sub(wasm_u16x8_extend_high_u8x16(codes), centre), scale23);
  wasm_v128_store(pairs, wasm_i32x4_shuffle(w01, w23, 0, 2, 4, 6));
  wasm_v128_store(pairs + kPair, wasm_i32x4_shuffle(w01, w23, 1, 3, 5, 7));
}

// Copies group g's super-blocks to slot `slot` of the pair's copy (above).
template <TensorType kType>
void copy_k_group_pair_major(const PackedView& w, int64_t g, int slot, uint8_t* out) {
  static_assert(kType == TensorType::Q4_K || kType == TensorType::Q6_K, "Q4_K and Q6_K");
  constexpr bool kQ6 = kType == TensorType::Q6_K;
  constexpr int kPair = 16 * kPairMajorGroups;
  const v128_t centre = wasm_i16x8_splat(kQ6 ? 32 : 0), nibble = wasm_i8x16_splat(0x0F);
  for (int64_t sb = 0; sb < w.K / kQK_K; ++sb, out += k_pair_major_superblock_bytes()) {
    const uint8_t* panel = k_panel<kType>(w, g, sb);
    wasm_v128_store(out + 16 * slot, wasm_v128_load(panel));  // d
    if (!kQ6) wasm_v128_store(out + 16 * (kPairMajorGroups + slot), wasm_v128_load(panel + kKDminOffset));
    uint8_t* block = out + kKPairHeadBytes;
#pragma clang loop unroll(disable)
    for (int s = 0; s < kKParts; ++s, block += pair_major_block_bytes()) {
      const uint8_t* part = panel + k_part_offset(kType, s);
      uint8_t* pairs = block + pair_major_pair(slot, 0);
      v128_t scale01, scale23;
      if constexpr (kQ6) {
#pragma clang loop unroll(full)
        for (int t = 0; t < 2; ++t) {  // sub-block 2s + t: a triple's four code vectors
          k_row_scales<true>(panel + k_scales_offset(kType) + 4 * (2 * s + t), &scale01, &scale23);
          v128_t codes[4];
          q6_code_vectors(part + 48 * t, codes);
#pragma clang loop unroll(full)
          for (int u = 0; u < 4; ++u) store_k_pairs(codes[u], centre, scale01, scale23, pairs + 2 * (4 * t + u) * kPair);
        }
      } else {
        const v128_t mins = wasm_u32x4_extend_low_u16x8(wasm_u16x8_extend_low_u8x16(wasm_v128_load32_zero(panel + kKMinsOffset + 4 * s)));
        wasm_v128_store(block + pair_major_head(slot), wasm_f32x4_convert_i32x4(mins));
        k_row_scales<false>(panel + k_scales_offset(kType) + 4 * s, &scale01, &scale23);
#pragma clang loop unroll(disable)
        for (int v = 0; v < 4; ++v, pairs += 4 * kPair) {  // nibble vector v: code vectors 2v, 2v + 1
          const v128_t q = wasm_v128_load(part + 16 * v);
          store_k_pairs(wasm_v128_and(q, nibble), centre, scale01, scale23, pairs);
          store_k_pairs(wasm_v128_and(wasm_u16x8_shr(q, 4), nibble), centre, scale01, scale23, pairs + 2 * kPair);
        }
      }
    }
  }
}

// The tile: 8 weight rows (the copy's groups g, g + 1; only the first
// `groups` stored) × 4 activation rows (rows ≥ `rows` zero padding, not
// stored), `act` the tile's blocks (interleave_q8<false>, R = 4). Per
// super-block and row pair, the definition:
//   acc_d += float(isum_s) · dx_s           (s = 0..7, in order)
//   Q4_K: acc_m += float(m_s) · (dx_s · float(sx_s)),  result = d · acc_d − dmin · acc_m
//   Q6_K: result = d · acc_d
//   y += result (from 0, super-blocks in order)
// acc_m, which needs no integer sums, runs in a loop of its own after the
// blocks (its own order kept), so the block loop holds 8 float sums.
template <TensorType kType>
void k_pair_major_tile(int64_t K, const uint8_t* copy, const int32_t* act, int64_t g, int groups, float* y, int64_t ldy,
                       int rows) {
  constexpr bool kQ6 = kType == TensorType::Q6_K;
  constexpr int R = 4, P = kPairMajorGroups;
  constexpr int kStride = q8_block_stride<false>(R);
  v128_t out[R][P];
#pragma clang loop unroll(full)
  for (int r = 0; r < R; ++r)
#pragma clang loop unroll(full)
    for (int p = 0; p < P; ++p) out[r][p] = wasm_f32x4_splat(0.0f);
  for (int64_t sb = 0; sb < K / kQK_K; ++sb, copy += k_pair_major_superblock_bytes(), act += kKParts * kStride) {
    v128_t acc_d[R][P];
#pragma clang loop unroll(full)
    for (int r = 0; r < R; ++r)
#pragma clang loop unroll(full)
      for (int p = 0; p < P; ++p) acc_d[r][p] = wasm_f32x4_splat(0.0f);
    const uint8_t* block = copy + kKPairHeadBytes;
    const int32_t* block_act = act;
#pragma clang loop unroll(disable)
    for (int s = 0; s < kKParts; ++s, block += pair_major_block_bytes(), block_act += kStride) {
      v128_t sum[R][P];
      pair_major_block_dots(block + P * pair_major_head(1), block_act, sum);
      const v128_t dx4 = wasm_v128_load(block_act + q8_field<false>(R, kQ8D));
      const v128_t dx[R] = {broadcast_lane<0>(dx4), broadcast_lane<1>(dx4), broadcast_lane<2>(dx4), broadcast_lane<3>(dx4)};
#pragma clang loop unroll(full)
      for (int r = 0; r < R; ++r)
#pragma clang loop unroll(full)
        for (int p = 0; p < P; ++p) acc_d[r][p] = wasm_f32x4_add(acc_d[r][p], wasm_f32x4_mul(wasm_f32x4_convert_i32x4(sum[r][p]), dx[r]));
    }
    v128_t acc_m[R][P];
    if constexpr (!kQ6) {
#pragma clang loop unroll(full)
      for (int r = 0; r < R; ++r)
#pragma clang loop unroll(full)
        for (int p = 0; p < P; ++p) acc_m[r][p] = wasm_f32x4_splat(0.0f);
      block = copy + kKPairHeadBytes;
      block_act = act;
#pragma clang loop unroll(disable)
      for (int s = 0; s < kKParts; ++s, block += pair_major_block_bytes(), block_act += kStride) {
        const v128_t ds4 = wasm_v128_load(block_act + q8_field<false>(R, kQ8DSum));
        const v128_t ds[R] = {broadcast_lane<0>(ds4), broadcast_lane<1>(ds4), broadcast_lane<2>(ds4), broadcast_lane<3>(ds4)};
#pragma clang loop unroll(full)
        for (int r = 0; r < R; ++r)
#pragma clang loop unroll(full)
          for (int p = 0; p < P; ++p)
            acc_m[r][p] = wasm_f32x4_add(acc_m[r][p], wasm_f32x4_mul(wasm_v128_load(block + pair_major_head(p)), ds[r]));
      }
    }
#pragma clang loop unroll(full)
    for (int r = 0; r < R; ++r)
#pragma clang loop unroll(full)
      for (int p = 0; p < P; ++p) {
        v128_t result = wasm_f32x4_mul(wasm_v128_load(copy + 16 * p), acc_d[r][p]);
        if (!kQ6) result = wasm_f32x4_sub(result, wasm_f32x4_mul(wasm_v128_load(copy + 16 * (P + p)), acc_m[r][p]));
        out[r][p] = wasm_f32x4_add(out[r][p], result);
      }
  }
  store_pair_major_tile(out, g, groups, y, ldy, rows);
}

// The kernel: up to four activation rows through the GEMV, and of a longer
// tile's leftover rows one or two (three run a padded tile), as the Q4
// GEMM (q4_wasmsimd.h); a partial last group through the GEMV.
template <TensorType kType>
void k_q8_gemm(const PackedView& w, const Q8Activations& x, const OutputTile& out) {
  constexpr auto gemv = k_q8_gemv<kType, /*kRelaxed=*/false>;
  if (out.m_end - out.m_begin <= 4) return gemv(w, x, out);
  if (gemv_for_leftover_rows(out, 2, [&](const OutputTile& o) { k_q8_gemm<kType>(w, x, o); },
                             [&](const OutputTile& o) { gemv(w, x, o); }))
    return;
  pair_major_gemm<k_pair_major_tile<kType>>(w, x, out, gemv, copy_k_group_pair_major<kType>,
                                              size_t(w.K / kQK_K) * k_pair_major_superblock_bytes());
}

}  // namespace wasmsimd
}  // namespace nibble

#endif  // __wasm_simd128__ && !NIBBLE_RELAXED_SIMD
