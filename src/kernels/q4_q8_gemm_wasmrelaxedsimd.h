// The relaxed tier's Q4 and Q5 W4A8 GEMM (Q4_0, Q4_1; Q5_0 with kHigh;
// q4_wasmsimd.h runs it): each kernel call unpacks a group's panels
// (or a pair's) once into int8 code vectors, then runs every 4-row
// activation tile over that copy. The packed panel vector v holds a row's
// elements 8v .. 8v+3 in its low nibbles and 8v+4 .. 8v+7 in its high ones
// (q4_q8_wasmrelaxedsimd.h): unpacked, the mask and shift that separate them
// (Q5: and the plane's fifth bits) are paid once per weight instead of once
// per activation tile, and the tile reads its codes in the order it uses
// them, one pointer step per activation word.
#pragma once

#ifdef __wasm_simd128__

#include <wasm_simd128.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "kernels/q4_q8_wasmrelaxedsimd.h"

namespace nibble {
namespace wasmsimd {

// The copy of two groups (g even and g + 1, a pair; or group g alone, whose
// partner's slots are then left as they were), per block:
//   heads[2]     each panel's first q4_qs_offset() bytes: d[4] (Q4_1: m[4] too)
//   codes[8][2]  v128: lane r of codes[j][p] = group p's row r's elements
//                4j .. 4j+3, one byte each (0..15; Q5 panels, kHigh: 0..31,
//                q5_code_vectors()): the weights that meet activation word j
constexpr int kUnpackedGroups = 2;
template <bool kHasMin>
constexpr size_t q4_unpacked_block_bytes() { return kUnpackedGroups * (q4_qs_offset(kHasMin) + kQK / 4 * 16); }

template <bool kHasMin, bool kHigh>
void unpack_q4_groups(const Q4Weights& w, int64_t g, int groups, uint8_t* out) {
  constexpr int P = kUnpackedGroups;
  constexpr size_t kPanel = q4_panel_bytes(q4_type(kHasMin, kHigh));
  constexpr int kHead = q4_qs_offset(kHasMin);
  const int64_t nb = w.K / kQK;
  const uint8_t* panel = q4_panel<kHasMin, kHigh>(w, g, 0);  // P = 2: then group g + 1's, then g's next block, ...
  const size_t step = size_t(q4_panel_step(w, g)) * kPanel;
  const v128_t low_nibbles = wasm_i8x16_splat(0x0F);
  for (int64_t b = 0; b < nb; ++b, panel += step, out += q4_unpacked_block_bytes<kHasMin>()) {
    for (int p = 0; p < groups; ++p) {
      const uint8_t* src = panel + p * kPanel;
      std::memcpy(out + p * kHead, src, kHead);
      uint8_t* codes = out + P * kHead + 16 * p;
      for (int v = 0; v < 4; ++v) {
        const v128_t q = wasm_v128_load(src + kHead + 16 * v);
        v128_t lo = wasm_v128_and(q, low_nibbles), hi = wasm_v128_and(wasm_u16x8_shr(q, 4), low_nibbles);
        if (kHigh) q5_code_vectors(q, wasm_v128_load(src + q5_high_offset(kHasMin)), v, &lo, &hi);
        wasm_v128_store(codes + 2 * v * P * 16, lo);
        wasm_v128_store(codes + (2 * v + 1) * P * 16, hi);
      }
    }
  }
}

// The unpacked pair (8 weight rows; only the first `groups` groups stored) ×
// 4 activation rows (rows ≥ `rows` are zero padding and not stored), `act`
// the tile's blocks from interleave_q8<true> with R = 4 (word j of row r at
// 4j + r). Activation word j, broadcast per row, meets codes[j][p] in one
// relaxed dot: lane pair r = weight row r, a block's eight dots summing in
// int16 (≤ 30720; Q4_0's start at the row's −8·Σq halves keeps them
// ≤ 16384). Each broadcast serves both groups: a block takes 32 broadcasts
// for 64 dots, each a v128.load32_splat (x64: one vbroadcastss from memory,
// a load without a shuffle; V8 keeps the four offsets' base registers out of
// the loop), 1.06× as fast as a v128.load and four lane shuffles. A group
// without its partner (an odd last group, or a thread's range that splits a
// pair) runs the same tile on the partner's stale slots: one tile for both
// cases is 0.3 KB less to download, and those groups are rare. The loop over
// j stays rolled: unrolled (fully, or two steps a pass), clang hoists the
// broadcasts and builds each sum's dots as one chain, so every code and word
// is kept live, and V8 spills. V8 unrolls it three times itself; its two
// pointers advance through opaque_pointers(), so a step is 22 SIMD
// instructions and 4 scalar ones (was 8–9: 1.15× the GEMM's speed at M = 64).
// The block's i16 → i32 step is a dot with a ones vector held in a register
// (V8 lowers extadd_pairwise to the same vpmaddwd on a constant it reloads
// through a scratch register each time).
// Q5 panels (kHigh): the codes reach 31, so the sums are centred on −16
// (Q5_0's term: twice the halves) and kept negated. int16 adds wrap, so
// only a sum's final value must fit: a lane's 16 products a·(q − 16) lie
// in [−2032, 2048] (a in −128..127, q in 0..31), the sum in [−32512, 32768],
// its negation in [−32768, 32512]: an int16. So each dot is subtracted, the
// start is −2 × the halves, and the widening dot takes −1s. Q5_1 would then
// add 16·Σq back as an int32 (−2 × its −8·Σq field) before its block update
// (not instantiated: q4_wasmsimd.h runs its GEMV tiles, for the download size).
// Bitwise the reference's (integer sums, then the same block update).
// Node, M = 64, CPU time: 1.15–1.24× the tile that masked the packed panels
// for every activation tile (576×576, 576×192, 576×1536, 1536×576,
// 576×49152, 4096²), about 66 GMAC/s on the bench model's shapes.
template <bool kHasMin, bool kHigh>
void q4_q8_gemm_unpacked_tile_relaxed(int64_t nb, const uint8_t* unpacked, const int32_t* act, int64_t g, int groups,
                                      float* y, int64_t ldy, int rows) {
  constexpr size_t kBlockBytes = q4_unpacked_block_bytes<kHasMin>();
  constexpr int R = 4, P = kUnpackedGroups, kHead = q4_qs_offset(kHasMin);
  const v128_t ones = wasm_i16x8_splat(kHigh ? -1 : 1);
  v128_t acc[R][P];
#pragma clang loop unroll(full)
  for (int r = 0; r < R; ++r)
#pragma clang loop unroll(full)
    for (int p = 0; p < P; ++p) acc[r][p] = wasm_f32x4_splat(0.0f);
  for (int64_t b = 0; b < nb; ++b, unpacked += kBlockBytes, act += q8_block_stride<true>(R)) {
    v128_t start4;
    if (kHigh) {
      start4 = wasm_i16x8_neg(wasm_i16x8_shl(wasm_v128_load(act + q8_field<true>(R, kQ8Minus8HalfSums)), 1));
    } else {
      start4 = q8_sums_start<kHasMin>(act, R);
    }
    const v128_t start[R] = {broadcast_lane<0>(start4), broadcast_lane<1>(start4), broadcast_lane<2>(start4), broadcast_lane<3>(start4)};
    v128_t sum[R][P];
    const uint8_t* codes = unpacked + P * kHead;
    const int32_t* words = act;
    const int32_t* const words_end = act + kQK / 4 * R;
    // Step j of the block: the dots of activation word j with codes[j],
    // added to the sums. Q4_0's first step adds them to the start instead,
    // so that no sum is a copy of a shared start (V8 moved a register per
    // sum): 1.02–1.04× the GEMM's speed at M = 64.
    const auto step = [&](bool first) {
      const v128_t a[R] = {wasm_v128_load32_splat(words), wasm_v128_load32_splat(words + 1), wasm_v128_load32_splat(words + 2),
                           wasm_v128_load32_splat(words + 3)};
      v128_t c[P];
#pragma clang loop unroll(full)
      for (int p = 0; p < P; ++p) c[p] = wasm_v128_load(codes + 16 * p);
#pragma clang loop unroll(full)
      for (int r = 0; r < R; ++r)
#pragma clang loop unroll(full)
        for (int p = 0; p < P; ++p) {
          const v128_t d = relaxed_dot_i8x16_i7x16(a[r], c[p]);
          const v128_t before = first ? start[r] : sum[r][p];
          sum[r][p] = kHigh ? wasm_i16x8_sub(before, d) : wasm_i16x8_add(before, d);
        }
      codes += 16 * P;
      words += R;
      opaque_pointers(codes, words);
    };
    if (!kHasMin && !kHigh) {
      step(true);
    } else {  // (Q4_1, Q5_0: the shape before, for the download size)
#pragma clang loop unroll(full)
      for (int r = 0; r < R; ++r)
#pragma clang loop unroll(full)
        for (int p = 0; p < P; ++p) sum[r][p] = start[r];
    }
#pragma clang loop unroll(disable)
    do {
      step(false);
    } while (words != words_end);
    // The rows' scales and (Q4_1) terms: one load each, then lane broadcasts.
    const v128_t da4 = wasm_v128_load(act + q8_field<true>(R, kQ8D));
    const v128_t term4 = kHasMin ? wasm_v128_load(act + q8_field<true>(R, kQ8DSum)) : da4;  // Q4_0: unused
    const v128_t da[R] = {broadcast_lane<0>(da4), broadcast_lane<1>(da4), broadcast_lane<2>(da4), broadcast_lane<3>(da4)};
    const v128_t term[R] = {broadcast_lane<0>(term4), broadcast_lane<1>(term4), broadcast_lane<2>(term4), broadcast_lane<3>(term4)};
    const v128_t m8 = kHigh && kHasMin ? wasm_v128_load(act + q8_field<true>(R, kQ8Minus8Sum)) : da4;  // Q5_1 only
    const v128_t minus8sum[R] = {broadcast_lane<0>(m8), broadcast_lane<1>(m8), broadcast_lane<2>(m8), broadcast_lane<3>(m8)};
#pragma clang loop unroll(full)
    for (int r = 0; r < R; ++r)
#pragma clang loop unroll(full)
      for (int p = 0; p < P; ++p) {
        const uint8_t* head = unpacked + p * kHead;
        v128_t dot = wasm_i32x4_dot_i16x8(sum[r][p], ones);
        if (kHigh && kHasMin) dot = wasm_i32x4_sub(dot, wasm_i32x4_shl(minus8sum[r], 1));
        acc[r][p] = kHasMin ? q8_block_update<true>(acc[r][p], dot, head, da[r], term[r])
                            : q8_block_update_with_term(acc[r][p], dot, head, da[r]);
      }
  }
  // Unrolled with a test per row: a loop to `rows` indexes acc, which then
  // lives on the stack (zeroed by a memset per call) instead of in registers.
#pragma clang loop unroll(full)
  for (int r = 0; r < R; ++r)
    if (r < rows)
#pragma clang loop unroll(full)
      for (int p = 0; p < P; ++p)
        if (p < groups) wasm_v128_store(y + r * ldy + (g + p) * kPackRows, acc[r][p]);
}

// The kernel call: full groups two by two (a group without its partner
// alone); a partial last group (N % 4 rows) to `tail`.
// Where its time goes (bench model, 63-row prompts, Node 20 on this VM's EPYC,
// perf cpu-clock samples mapped onto --print-wasm-code): the tile's inner
// steps 57 %, its block updates 22 %, each block's first step 7.5 %, the
// accumulators V8 spills at each block's end 5.7 %, unpacking 4.4 % (mostly
// waiting on the panels' first lines: the model's weights come from memory),
// the tiles' ends 2.3 %. Tried without gain (A/B in one process, CPU time):
// one load per line of the next pair's panels before the current pair's
// tiles (the loads then waited as long: 3.0 % + 2.0 % unpacking; prompt
// 1.00×); the next pair unpacked a slice after each tile into a second copy
// (unpacking still 4.4 %; prompt 1.00×); two pairs per sweep of the
// activation tiles (GEMM 1.00×); the rows' scales and starts by
// v128.load32_splat instead of four lane shuffles (V8 holds a base
// register per immediate offset and spills them: GEMM 0.97×, 0.99× with
// the offsets shared through an opaque pointer); two steps per loop pass,
// the second at constant offsets (clang and V8 hoist its loads: 0.85×).
template <bool kHasMin, bool kHigh>
void q4_q8_gemm_relaxed(const Q4Weights& w, const Q8Activations& x, const OutputTile& out, Q4Q8Fn tail) {
  const int64_t nb = w.K / kQK, stride = nb * q8_block_stride<true>(4);
  const int32_t* act = interleave_q8<true>(x, out.m_begin, out.m_end, 4);
  thread_local std::vector<uint8_t> unpacked;  // the current groups' copy (grown, never shrunk: see grow() in matmul.cpp)
  const size_t unpacked_bytes = size_t(nb) * q4_unpacked_block_bytes<kHasMin>();
  if (unpacked.size() < unpacked_bytes) unpacked.resize(unpacked_bytes);
  const int64_t full_end = std::min(out.n_end, w.N) / kPackRows;
  for (int64_t g = out.n_begin / kPackRows; g < full_end;) {
    const int groups = g % 2 == 0 && g + 1 < full_end ? 2 : 1;
    unpack_q4_groups<kHasMin, kHigh>(w, g, groups, unpacked.data());
    for (int64_t m = out.m_begin, t = 0; m < out.m_end; m += 4, ++t)
      q4_q8_gemm_unpacked_tile_relaxed<kHasMin, kHigh>(nb, unpacked.data(), act + t * stride, g, groups, out.y + m * out.ldy,
                                                out.ldy, int(std::min<int64_t>(4, out.m_end - m)));
    g += groups;
  }
  if (full_end * kPackRows < out.n_end) tail(w, x, group_tile(out, full_end));
}

}  // namespace wasmsimd
}  // namespace nibble

#endif  // __wasm_simd128__
