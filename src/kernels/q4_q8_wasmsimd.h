// The W4A8 tiles of the Q4 *__wasmsimd kernels (q4_wasmsimd.h): the GEMV
// tile on the rotated layout and the GEMM tile on a pair-major copy of each
// group. The block update (q8_block_update) serves the *__wasmrelaxedsimd
// tiles too.
//
// The layout (packed_weights.h) rotates rows across the nibbles: nibble s
// of panel vector v gives, in 32-bit lane i, row (i + s) % 4's pair 4v + i.
// So one i32x4.dot_i16x8_s meets four different activation pairs loaded
// as they are (no broadcasts), each nibble s sums into its own accumulator,
// and a block ends with three lane rotations that bring row r to lane r.
// The W4A8 GEMM instead runs on a copy of each group widened to pair vectors
// (copy_group_pair_major).
#pragma once

#ifdef __wasm_simd128__

#include <wasm_simd128.h>

#include <cstdint>

#include "kernels/q4_activations_wasmsimd.h"
#include "kernels/q4_panel_wasmsimd.h"

namespace nibble {
namespace wasmsimd {

// The plain tier's panel masks (Q4: nibbles 0, 1, 2 in place; Q5:
// values5's two) for the GEMV tile and the GEMM's pair-major copy, loaded from
// a table behind an opaque pointer once per tile or copy instead of
// written as constants: Chromium's V8 (unlike Node 20's) builds
// each v128 constant again inside the loop that uses it, three
// instructions each (movabs, vmovq, punpcklqdq), 9 to 15 a block; a loaded
// mask stays in a register or comes back in one reload.
struct PanelMasks {
  v128_t m[3];
};
template <bool kHigh>
inline PanelMasks panel_masks() {
  alignas(16) static const uint16_t kTable[3][8] = {
#define NIBBLE_MASK8(x) {x, x, x, x, x, x, x, x}
      NIBBLE_MASK8(kHigh ? 0x001F : 0x000F), NIBBLE_MASK8(kHigh ? 0x1F00 : 0x00F0), NIBBLE_MASK8(kHigh ? 0 : 0x0F00)};
#undef NIBBLE_MASK8
  const uint16_t* table = kTable[0];
  opaque_pointers(table);
  return {{wasm_v128_load(table), wasm_v128_load(table + 8), wasm_v128_load(table + 16)}};
}

// Nibble S of every 16-bit lane of a panel vector, as i16x8: lane pair i =
// row (i + S) % 4's elements 2(4v + i), +1 (packed_weights.h). Nibbles 1
// and 2 stay in place, masked (one op instead of a shift and a mask), so
// they come out ×16 and ×256; dot sums of them go through unscale_nibble_sum.
// masks: panel_masks<false>().
template <int S>
inline v128_t scaled_nibbles(v128_t q, const PanelMasks& masks) {
  return S == 3 ? wasm_u16x8_shr(q, 12) : wasm_v128_and(q, masks.m[S]);
}
// Q5 panels (the split xor form, q4_panel.h): the four 5-bit values of
// panel vector q as i16x8, w[0], w[1] unscaled (0..31), w[2], w[3] ×256
// (their dot sums shift right by 8): `plane` = the panel's plane >> 2v
// (q4_panel.h). Bytes hold the low value's code in bits 0..4; the high value's
// is ((q >> 3) ^ plane) & 31 in the same byte of each 16-bit lane. Six
// instructions and two masks (panel_masks<true>()), where the nibbles with
// a plane of fifth bits took 12 and three.
inline void values5(v128_t q, v128_t plane, const PanelMasks& masks, v128_t (&w)[4]) {
  const v128_t low = masks.m[0], high = masks.m[1];
  const v128_t odd = wasm_v128_xor(wasm_u16x8_shr(q, 3), plane);
  w[0] = wasm_v128_and(q, low);
  w[1] = wasm_v128_and(odd, low);
  w[2] = wasm_v128_and(q, high);
  w[3] = wasm_v128_and(odd, high);
}
// Exact: every term of the sum is a multiple of 16^S (|sum| < 2^26).
template <int S>
inline v128_t unscale_nibble_sum(v128_t sum) {
  return S == 1 || S == 2 ? wasm_i32x4_shr(sum, 4 * S) : sum;
}

// One block's W4A8 contribution for one activation row, the _ref formula on
// four weight rows at once: acc += float(dot [− 8·Σa]) · (d_w·d_a)
// [+ m_w·(d_a·Σa)], with da and term (Q4_0: −8·Σa; Q4_1: d_a·Σa) holding
// that row's values in every lane that needs them.
// kHigh (Q5 panels): Q5_0's term is −16·Σa, twice the −8·Σa given.
// q8_block_update_with_term: a Q4_0 dot that already holds its −8·Σa
// (passing a zero term instead leaves an i32x4.add of zeros that neither
// clang nor V8 removes).
inline v128_t q8_block_update_with_term(v128_t acc, v128_t dot_with_term, const uint8_t* panel, v128_t da) {
  const v128_t scale = wasm_f32x4_mul(wasm_v128_load(panel), da);
  return wasm_f32x4_add(acc, wasm_f32x4_mul(wasm_f32x4_convert_i32x4(dot_with_term), scale));
}
template <bool kHasMin, bool kHigh = false>
inline v128_t q8_block_update(v128_t acc, v128_t dot, const uint8_t* panel, v128_t da, v128_t term) {
  if (!kHasMin) return q8_block_update_with_term(acc, wasm_i32x4_add(dot, kHigh ? wasm_i32x4_shl(term, 1) : term), panel, da);
  const v128_t scale = wasm_f32x4_mul(wasm_v128_load(panel), da);
  const v128_t t = wasm_f32x4_add(wasm_f32x4_mul(wasm_f32x4_convert_i32x4(dot), scale),
                                  wasm_f32x4_mul(wasm_v128_load(panel + 16), term));
  return wasm_f32x4_add(acc, t);
}
// The block update's term field for the type.
template <bool kHasMin>
constexpr Q8Field q8_term_field() { return kHasMin ? kQ8DSum : kQ8Minus8Sum; }

// d[s] (+)= the dot of nibble s of panel vector `qs` with activation vector
// `pairs` (pairs 4v .. 4v+3 for panel vector v); the first vector of a block
// sets d instead of adding to zeros.
// kHigh (Q5 panels): `plane` is the panel's plane shifted right by 2v (values5).
template <bool kFirst, bool kHigh = false>
inline void add_nibble_dots(const uint8_t* qs, const int32_t* pairs, const PanelMasks& masks, v128_t (&d)[4],
                            v128_t plane = v128_t{}) {
  const v128_t q = wasm_v128_load(qs), a = wasm_v128_load(pairs);
  v128_t w[4];
  if (kHigh) {
    values5(q, plane, masks, w);
  } else {
    w[0] = scaled_nibbles<0>(q, masks);
    w[1] = scaled_nibbles<1>(q, masks);
    w[2] = scaled_nibbles<2>(q, masks);
    w[3] = scaled_nibbles<3>(q, masks);
  }
  const v128_t p[4] = {wasm_i32x4_dot_i16x8(w[0], a), wasm_i32x4_dot_i16x8(w[1], a),
                       wasm_i32x4_dot_i16x8(w[2], a), wasm_i32x4_dot_i16x8(w[3], a)};
#pragma clang loop unroll(full)
  for (int s = 0; s < 4; ++s) d[s] = kFirst ? p[s] : wasm_i32x4_add(d[s], p[s]);
}

// W4A8 GEMV tile: y[4g .. 4g+4] for one activation row, `act` its blocks
// from interleave_q8<false> with R = 1. Panel vector v and activation vector
// v meet in four dots, one per nibble s, into d[s] (lane i = row
// (i + s) % 4); the block's row sums are d[0] plus d[1..3] rotated. Results
// are bitwise the reference's. The block's first vector sets d and the second adds to it
// (peeled), and the last two run in a rolled loop, which V8 unrolls itself;
// that and the precomputed per-row terms (write_q8_row_terms) made the tile
// 12% faster than four rolled steps from zeroed sums (peeling the second
// vector too: 1.5% of it).
// Measured alternatives, all slower: the previous layout (all lanes of a
// nibble vector on one pair, the activation pair broadcast: 16 shuffles per
// block); the block's four steps unrolled by clang (it computes each d[s]
// as one tree over all eight loaded vectors, and V8 spills them); two groups
// per tile sharing the loads (~5% faster from cache, ~40% slower streaming
// from DRAM); pairs stored pre-broadcast (4× the activation bytes).
// kHigh: Q5 panels (values5).
template <bool kHasMin, bool kHigh = false>
void q4_q8_gemv_tile(const Q4Weights& w, const int32_t* act, int64_t g, float* y) {
  const int64_t nb = w.K / kQK;
  constexpr size_t kPanel = q4_panel_bytes(q4_type(kHasMin, kHigh));
  const uint8_t* panel = q4_panel<kHasMin, kHigh>(w, g, 0);
  const size_t step = size_t(q4_panel_step(w, g)) * kPanel;
  const PanelMasks masks = panel_masks<kHigh>();
  v128_t acc = wasm_f32x4_splat(0.0f);
  for (int64_t b = 0; b < nb; ++b, panel += step, act += q8_block_stride<false>(1)) {
    const uint8_t* qs = panel + q4_qs_offset(kHasMin);
    const int32_t* pairs = act;
    v128_t plane = kHigh ? wasm_v128_load(panel + q5_high_offset(kHasMin)) : v128_t{};
    v128_t d[4];
    add_nibble_dots<true, kHigh>(qs, pairs, masks, d, plane);
    if (kHigh) plane = wasm_u16x8_shr(plane, 2);
    add_nibble_dots<false, kHigh>(qs += 16, pairs += 4, masks, d, plane);
#pragma clang loop unroll(disable)
    for (int v = 2; v < 4; ++v) {  // pointer steps: V8 keeps them in registers
      if (kHigh) plane = wasm_u16x8_shr(plane, 2);
      add_nibble_dots<false, kHigh>(qs += 16, pairs += 4, masks, d, plane);
    }
    // (Q5: values5 gives w[1] unscaled, w[2] and w[3] ×256, one shift for both sums: exact.)
    const v128_t d1 = kHigh ? d[1] : unscale_nibble_sum<1>(d[1]), d2 = kHigh ? d[2] : unscale_nibble_sum<2>(d[2]);
    const v128_t d23 = wasm_i32x4_add(rows_in_lanes<2>(d2), rows_in_lanes<3>(d[3]));
    const v128_t dot = wasm_i32x4_add(wasm_i32x4_add(d[0], rows_in_lanes<1>(d1)), kHigh ? wasm_i32x4_shr(d23, 8) : d23);
    acc = q8_block_update<kHasMin, kHigh>(acc, dot, panel, wasm_v128_load32_splat(act + q8_field<false>(1, kQ8D)),
                                          wasm_v128_load32_splat(act + q8_field<false>(1, q8_term_field<kHasMin>())));
  }
  wasm_v128_store(y + g * kPackRows, acc);
}

// The GEMM reads each weight group once per activation tile, so it first
// copies the panels of two groups (8 weight rows) into a scratch buffer
// (copy_group_pair_major, once per group and kernel call), the codes of
// each block widened to its 16 "pair vectors": the i16x8 [row0 k, row0 k+1,
// ..., row3 k, row3 k+1], k = 2p, p = 0..15, four rows of one pair, centred
// (Q4_0: q − 8, Q5_0: q − 16), so that a dot is the block's whole integer
// sum Σ(q − 8)·a, the reference's Σq·a − 8·Σa (no per-row term in the block
// update). A block of the copy:
//   heads[2]      each group's panel head, d[4]
//   pairs[16][2]  pair vector p of the first group, then of the second
constexpr int kPairMajorGroups = 2;
// Bytes per block of the copy, and where group `slot` (0, 1) keeps its head and pair vector p.
constexpr size_t pair_major_block_bytes() { return kPairMajorGroups * (size_t(q4_qs_offset(false)) + 16 * 16); }
constexpr size_t pair_major_head(int slot) { return size_t(slot) * size_t(q4_qs_offset(false)); }
constexpr size_t pair_major_pair(int slot, int p) {
  return kPairMajorGroups * size_t(q4_qs_offset(false)) + size_t(16 * kPairMajorGroups * p + 16 * slot);
}

// Copies group g's panels (Q4_0; kHigh: Q5_0) to slot `slot` of every block
// of `out`: the head as it is, then the codes of nibble s of each panel
// vector v (kHigh: the 5-bit codes, values5 unscaled), centred, in the
// GEMV's order (32-bit lane i: row (i + s) % 4's pair 4v + i); a 4×4 lane
// transpose with a rotation gives pair 4v + i's vector (lane r: row r).
// (Was: the nibbles moved to pair-major order by four swizzles, then
// masked: 30 instructions per panel vector against 22.)
template <bool kHigh>
void copy_group_pair_major(const Q4Weights& w, int64_t g, int slot, uint8_t* out) {
  constexpr size_t kPanel = q4_panel_bytes(q4_type(false, kHigh));
  constexpr int kHead = q4_qs_offset(false);
  constexpr int kPair = 16 * kPairMajorGroups;  // bytes from one pair vector of the slot to the next
  const uint8_t* panel = q4_panel<false, kHigh>(w, g, 0);
  const size_t step = size_t(q4_panel_step(w, g)) * kPanel;
  const v128_t centre = wasm_i16x8_splat(kHigh ? 16 : 8);
  const PanelMasks masks = panel_masks<kHigh>();
  for (int64_t b = 0; b < w.K / kQK; ++b, panel += step, out += pair_major_block_bytes()) {
    wasm_v128_store(out + pair_major_head(slot), wasm_v128_load(panel));  // d[4]
    v128_t plane = kHigh ? wasm_v128_load(panel + q5_high_offset(false)) : v128_t{};
    uint8_t* pairs = out + pair_major_pair(slot, 0);
#pragma clang loop unroll(disable)
    for (int v = 0; v < 4; ++v, pairs += 4 * kPair) {
      const v128_t q = wasm_v128_load(panel + kHead + 16 * v);
      v128_t t[4];
      if (kHigh) {
        values5(q, plane, masks, t);
        t[2] = wasm_u16x8_shr(t[2], 8);
        t[3] = wasm_u16x8_shr(t[3], 8);
        plane = wasm_u16x8_shr(plane, 2);
      } else {
        t[0] = scaled_nibbles<0>(q, masks);
        t[1] = wasm_u16x8_shr(scaled_nibbles<1>(q, masks), 4);
        t[2] = wasm_u16x8_shr(scaled_nibbles<2>(q, masks), 8);
        t[3] = scaled_nibbles<3>(q, masks);
      }
#pragma clang loop unroll(full)
      for (int s = 0; s < 4; ++s) t[s] = wasm_i16x8_sub(t[s], centre);
      const v128_t lo01 = wasm_i32x4_shuffle(t[0], t[1], 0, 4, 1, 5), hi01 = wasm_i32x4_shuffle(t[0], t[1], 2, 6, 3, 7);
      const v128_t lo23 = wasm_i32x4_shuffle(t[2], t[3], 0, 4, 1, 5), hi23 = wasm_i32x4_shuffle(t[2], t[3], 2, 6, 3, 7);
      wasm_v128_store(pairs, wasm_i32x4_shuffle(lo01, lo23, 0, 1, 4, 5));
      wasm_v128_store(pairs + kPair, wasm_i32x4_shuffle(lo01, lo23, 7, 2, 3, 6));
      wasm_v128_store(pairs + 2 * kPair, wasm_i32x4_shuffle(hi01, hi23, 4, 5, 0, 1));
      wasm_v128_store(pairs + 3 * kPair, wasm_i32x4_shuffle(hi01, hi23, 3, 6, 7, 2));
    }
  }
}

// The integer dots of one 32-block of a pair-major copy with a 4-row
// activation tile (both as q4_q8_gemm_tile below reads them): lane i of
// sum[r][s] = Σ over the block of group s's row i × activation row r. The
// K-quant GEMM (k_q8_gemm_wasmsimd.h) runs the same loop on its parts.
__attribute__((always_inline)) inline void pair_major_block_dots(const uint8_t* pairs, const int32_t* words,
                                                                 v128_t (&sum)[4][kPairMajorGroups]) {
  constexpr int R = 4, P = kPairMajorGroups;
  const int32_t* const words_end = words + kQK / 2 * R;
  const auto step = [&](bool first) {
    const v128_t a[R] = {wasm_v128_load32_splat(words), wasm_v128_load32_splat(words + 1), wasm_v128_load32_splat(words + 2),
                         wasm_v128_load32_splat(words + 3)};
    v128_t c[P];
#pragma clang loop unroll(full)
    for (int s = 0; s < P; ++s) c[s] = wasm_v128_load(pairs + 16 * s);
#pragma clang loop unroll(full)
    for (int r = 0; r < R; ++r)
#pragma clang loop unroll(full)
      for (int s = 0; s < P; ++s) {
        const v128_t d = wasm_i32x4_dot_i16x8(c[s], a[r]);
        sum[r][s] = first ? d : wasm_i32x4_add(sum[r][s], d);
      }
    pairs += 16 * P;
    words += R;
    opaque_pointers(pairs, words);
  };
  step(true);
#pragma clang loop unroll(disable)
  do {
    step(false);
  } while (words != words_end);
}

// Stores a pair-major tile's outputs: activation rows r < `rows` of groups
// g + s, s < `groups`. Unrolled with a test per row: a loop to `rows`
// indexes acc, which then lives on the stack instead of in registers.
__attribute__((always_inline)) inline void store_pair_major_tile(const v128_t (&acc)[4][kPairMajorGroups], int64_t g, int groups,
                                                                 float* y, int64_t ldy, int rows) {
#pragma clang loop unroll(full)
  for (int r = 0; r < 4; ++r)
    if (r < rows)
#pragma clang loop unroll(full)
      for (int s = 0; s < kPairMajorGroups; ++s)
        if (s < groups) wasm_v128_store(y + r * ldy + (g + s) * kPackRows, acc[r][s]);
}

// W4A8 GEMM tile: 8 weight rows (groups g and g + 1 of the copy; only the
// first `groups` stored) × 4 activation rows (rows ≥ `rows` are zero padding
// and not stored), `act` = the tile's blocks from interleave_q8<false> with
// R = 4 (pair p of row r at 4p + r). Step p broadcasts pair p of each row
// (v128.load32_splat) and meets both groups' pair vectors p in one
// i32x4.dot_i16x8_s each: lane i of sum[r][s] = row i of group s × activation
// row r, summed over the block; then the block update. Results are bitwise
// the reference's. The step loop stays rolled and its two pointers advance
// through opaque_pointers (as the relaxed tier's GEMM, q4_q8_gemm_wasmrelaxedsimd.h):
// 22 SIMD instructions per 64 multiply-adds, against 26 per 32 in the 4×4
// tile this replaced, which shuffled each activation vector into its three
// lane rotations, and read the activations once per group instead of once
// per two (a 64-token prompt of the SmolLM2-shaped Q4_0 model, Node, CPU
// time: 0.80–0.84× the time with it, 512 tokens 0.85×). Kernel-bench timings of the larger
// shapes (576×1536 at M = 64: over ~5 ms) are wall time and were 2–3×
// inflated on a machine shared by other processes; compare CPU time.
// Only the types without a minimum (Q4_0, Q5_0) run it: the plain tier runs
// Q4_1 and Q5_1 prompts (legacy types no K-quant mix uses) through their GEMV
// tiles, row by row, about as fast as the 4×4 tile this replaced ran them;
// a tile of their own (the m·(d_a·Σa) term) cost 0.3 KB of the gzipped
// download, and a run-time flag for it measured slower (the same loop, a
// branch per block: 1.1× the prompt's time in one run under load).
// Its floor (Node 20, M = 64, CPU-time A/B, session 14): a step is 4
// vbroadcastss, 2 loads, 8 vpmaddwd, 8 vpaddd and 3 scalar instructions
// for 64 multiply-adds, the relaxed tile's count for 128; plain SIMD128 has
// no denser integer multiply-add (two rows packed in one int16 lane cannot
// keep their sums apart), and the tile holds 15 of V8's 15 xmm registers.
// Parts taken out of the GEMM, time vs whole: the block update's float work
// 0.90×, the copy 0.94–0.96×, the four broadcasts 0.95×, half the dots made
// adds (Winograd's pairwise trick has that mix: half the multiplies, as
// many instructions) 0.94–0.98×; a 5×2 tile spilled (1.45×: clang hoists
// its five broadcasts). Plain ÷ relaxed GEMM at M = 64: 1.55–1.59.
inline void q4_q8_gemm_tile(int64_t K, const uint8_t* copy, const int32_t* act, int64_t g, int groups, float* y,
                            int64_t ldy, int rows) {
  constexpr int R = 4, P = kPairMajorGroups;
  const int64_t nb = K / kQK;
  constexpr size_t block_bytes = pair_major_block_bytes(), head_bytes = pair_major_head(1);
  v128_t acc[R][P];
#pragma clang loop unroll(full)
  for (int r = 0; r < R; ++r)
#pragma clang loop unroll(full)
    for (int s = 0; s < P; ++s) acc[r][s] = wasm_f32x4_splat(0.0f);
  for (int64_t b = 0; b < nb; ++b, copy += block_bytes, act += q8_block_stride<false>(R)) {
    v128_t sum[R][P];
    pair_major_block_dots(copy + P * head_bytes, act, sum);
    // The _ref block update: acc += float(dot)·(d_w·d_a).
    const v128_t da4 = wasm_v128_load(act + q8_field<false>(R, kQ8D));
    const v128_t da[R] = {broadcast_lane<0>(da4), broadcast_lane<1>(da4), broadcast_lane<2>(da4), broadcast_lane<3>(da4)};
#pragma clang loop unroll(full)
    for (int r = 0; r < R; ++r)
#pragma clang loop unroll(full)
      for (int s = 0; s < P; ++s) acc[r][s] = q8_block_update_with_term(acc[r][s], sum[r][s], copy + s * head_bytes, da[r]);
  }
  store_pair_major_tile(acc, g, groups, y, ldy, rows);
}

}  // namespace wasmsimd
}  // namespace nibble

#endif  // __wasm_simd128__
