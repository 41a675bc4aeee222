// wasm SIMD128 loops on packed Q4 panels, shared by the Q4 *__wasmsimd
// kernels. One group = 4 weight rows. GEMV tiles: 4 weight rows × 1
// activation row; GEMM tiles: 4 × 4, the last activation tile zero-padded.
// Partial groups (N % 4 rows) go to the scalar kernel of the same name,
// which computes the same bits for W4A8.
//
// Shaped for what clang 14 and V8 make of it (checked in V8's x64 code):
// small loops carry `unroll(full)` so arrays of vectors stay in locals;
// activations are interleaved so one pointer with constant offsets reaches a
// block (V8 keeps one spilled base register per load32_splat offset); the
// loops over a block's four panel vectors stay rolled (unrolled, clang hoists
// all their loads and V8 spills them; V8 unrolls them itself).
//
// The layout (packed_weights.h) rotates rows across the nibbles: nibble s
// of panel vector v gives, in 32-bit lane i, row (i + s) % 4's pair 4v + i.
// So one i32x4.dot_i16x8_s meets four different activation pairs loaded
// as they are (no broadcasts), each nibble s sums into its own accumulator,
// and a block ends with three lane rotations that bring row r to lane r.
// The W4A8 GEMM instead runs on a copy of each group widened to pair vectors
// (copy_group_pair_major).
// A relaxed-SIMD build has rows in lanes instead: its W4A8 GEMV is
// q4_q8_gemv_tile_relaxed, its W4A32 kernels move the nibbles to the rotated
// order (the GEMV as it reads, the GEMM in a copy of each group), and its
// W4A8 GEMM copies the groups as above.
#pragma once

#ifdef __wasm_simd128__

#include <wasm_simd128.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "kernels/q4_panel.h"
#include "kernels/wasmsimd_util.h"
#include "quant/fp16.h"

namespace nibble {
namespace wasmsimd {

// Activations for the tiles, interleaved in tiles of R rows (R = the
// kernel's max rows per tile, 1 or 4) so that a tile reads everything of a
// block from one pointer at constant offsets (wasm loads fold those; V8
// would otherwise keep one spilled base pointer per row and offset).
// Rows past m_end in the last tile are zero. matmul() writes the W4A8
// tiles once per call (q8_layout__wasmsimd); a kernel called without them
// copies its rows into a buffer reused by the calling thread.
//
// W4A8, per tile t and block b, q8_block_stride(R) int32:
//   pairs[16][R]  (a[k], a[k+1]) as two int16 in one int32, k = 2p; in a
//                 relaxed-SIMD build's GEMV tiles (R = 1) instead the 32
//                 int8 values as they are (8 int32)
//   d[R]          the rows' Q8_0 scales (f32 bits)
//   minus8sum[R]  −8·Σq (Q4_0's −8 term, int32)
//   dsum[R]       d·float(Σq) (Q4_1's m term, f32 bits)
// The last two are the block updates' per-row terms, computed once here
// rather than in every tile (the same float product, so the same bits).
constexpr bool kInt8GemvActivations = kRowsInLanes;
constexpr int q8_value_ints(int R) { return kInt8GemvActivations && R == 1 ? kQK / 4 : kQK / 2 * R; }
constexpr int q8_block_stride(int R) { return q8_value_ints(R) + 3 * R; }
enum Q8Field { kQ8D, kQ8Minus8Sum, kQ8DSum };
// Where field f of tile row r starts in a block.
constexpr int q8_field(int R, Q8Field f, int r = 0) { return q8_value_ints(R) + int(f) * R + r; }

// The per-row terms of one block of row m.
inline void write_q8_row_terms(const Q8Activations& x, int64_t row_block, int32_t* d, int32_t* minus8sum, int32_t* dsum) {
  const float da = x.d[row_block];
  const int32_t sa = x.sums[row_block];
  *d = int32_t(f32_bits(da));
  *minus8sum = -8 * sa;
  *dsum = int32_t(f32_bits(da * float(sa)));
}

constexpr size_t q8_interleaved_ints(int64_t M, int64_t K, int R) {
  return size_t((M + R - 1) / R * (K / kQK) * q8_block_stride(R));
}

// Writes the tiles of rows [m_begin, m_end) (m_begin a multiple of R) at
// their place in out; rows past m_end in the last tile are zero.
inline void interleave_q8_into(const Q8Activations& x, int64_t m_begin, int64_t m_end, int R, int32_t* out) {
  const int64_t nb = x.K / kQK, tiles = (m_end - m_begin + R - 1) / R;
  out += m_begin / R * nb * q8_block_stride(R);
  if (R == 1) {  // pairs are the int8 values widened to int16, in order
    for (int64_t m = m_begin; m < m_end; ++m) {
      for (int64_t b = 0; b < nb; ++b, out += q8_block_stride(1)) {
        const int8_t* a = x.qs + m * x.K + b * kQK;
        const v128_t lo = wasm_v128_load(a), hi = wasm_v128_load(a + 16);
        if (kInt8GemvActivations) {
          wasm_v128_store(out, lo);
          wasm_v128_store(out + 4, hi);
        } else {
          wasm_v128_store(out, wasm_i16x8_extend_low_i8x16(lo));
          wasm_v128_store(out + 4, wasm_i16x8_extend_high_i8x16(lo));
          wasm_v128_store(out + 8, wasm_i16x8_extend_low_i8x16(hi));
          wasm_v128_store(out + 12, wasm_i16x8_extend_high_i8x16(hi));
        }
        write_q8_row_terms(x, m * nb + b, out + q8_field(1, kQ8D), out + q8_field(1, kQ8Minus8Sum), out + q8_field(1, kQ8DSum));
      }
    }
    return;
  }
  for (int64_t t = 0; t < tiles; ++t) {
    for (int64_t b = 0; b < nb; ++b, out += q8_block_stride(R)) {
      for (int r = 0; r < R; ++r) {
        const int64_t m = m_begin + t * R + r;
        if (m >= m_end) {
          for (int i = 0; i < q8_block_stride(R) / R; ++i) out[i * R + r] = 0;
          continue;
        }
        const int8_t* a = x.qs + m * x.K + b * kQK;
        for (int p = 0; p < kQK / 2; ++p)
          out[p * R + r] = int32_t(uint32_t(uint16_t(int16_t(a[2 * p]))) | (uint32_t(uint16_t(int16_t(a[2 * p + 1]))) << 16));
        write_q8_row_terms(x, m * nb + b, out + q8_field(R, kQ8D, r), out + q8_field(R, kQ8Minus8Sum, r), out + q8_field(R, kQ8DSum, r));
      }
    }
  }
}

// The tiles of rows [m_begin, m_end) for a kernel call: from matmul()'s
// copy when it has this tile height, else copied here into a buffer reused
// by the calling thread.
inline const int32_t* interleave_q8(const Q8Activations& x, int64_t m_begin, int64_t m_end, int R) {
  const int64_t nb = x.K / kQK;
  if (x.interleaved != nullptr && x.tile_rows == R && m_begin % R == 0)
    return x.interleaved + m_begin / R * nb * q8_block_stride(R);
  thread_local std::vector<int32_t> buffer;
  const size_t n = q8_interleaved_ints(m_end - m_begin, x.K, R);
  if (buffer.size() < n) buffer.resize(n);
  Q8Activations rows = x;  // row m_begin becomes row 0 of the buffer
  rows.qs += m_begin * x.K;
  rows.d += m_begin * nb;
  rows.sums += m_begin * nb;
  interleave_q8_into(rows, 0, m_end - m_begin, R, buffer.data());
  return buffer.data();
}

// W4A32, per tile t and block b, f32_block_stride(R) floats:
//   x[32 R]       the rows' activations, x[k] of row r at f32_x_slot(R, r, k)
//   xsum[R]       the rows' Σx over the block (Q4_1), else 0
constexpr int f32_block_stride(int R) { return (kQK + 1) * R; }

// Panel vector v, half e (nibbles 4e .. 4e+3 of each 32-bit lane) holds in
// lane i element 8v + 2i + e (lane_nibble_f32). R = 1: vector 2v + e holds
// those elements in lane i. R = 4: vector 4(2v + e) + c holds in lane i that
// element of tile row (i + c) % 4.
constexpr int f32_x_slot(int R, int r, int k) {
  const int v = k / 8, i = (k % 8) / 2, e = k % 2;
  return R == 1 ? 8 * v + 4 * e + i : 16 * (2 * v + e) + 4 * ((r - i + 4) % 4) + i;
}

inline const float* interleave_f32(const F32Activations& x, int64_t m_begin, int64_t m_end, int R) {
  thread_local std::vector<float> buffer;
  const int64_t nb = x.K / kQK, tiles = (m_end - m_begin + R - 1) / R;
  const size_t n = size_t(tiles * nb * f32_block_stride(R));
  if (buffer.size() < n) buffer.resize(n);
  float* out = buffer.data();
  for (int64_t t = 0; t < tiles; ++t) {
    for (int64_t b = 0; b < nb; ++b, out += f32_block_stride(R)) {
      for (int r = 0; r < R; ++r) {
        const int64_t m = m_begin + t * R + r;
        if (m >= m_end) {
          for (int k = 0; k < kQK; ++k) out[f32_x_slot(R, r, k)] = 0.0f;
          out[kQK * R + r] = 0.0f;
          continue;
        }
        for (int k = 0; k < kQK; ++k) out[f32_x_slot(R, r, k)] = x.x[m * x.K + b * kQK + k];
        out[kQK * R + r] = x.block_sums ? x.block_sums[m * nb + b] : 0.0f;
      }
    }
  }
  return buffer.data();
}

// Nibble S of every 16-bit lane of a panel vector, as i16x8: lane pair i =
// row (i + S) % 4's elements 2(4v + i), +1 (packed_weights.h). Nibbles 1
// and 2 stay in place, masked (one op instead of a shift and a mask), so
// they come out ×16 and ×256; dot sums of them go through unscale_nibble_sum.
template <int S>
inline v128_t scaled_nibbles(v128_t q) {
  if (S == 3) return wasm_u16x8_shr(q, 12);
  return wasm_v128_and(q, wasm_i16x8_splat(int16_t(0xF << (4 * S))));
}
// Exact: every term of the sum is a multiple of 16^S (|sum| < 2^26).
template <int S>
inline v128_t unscale_nibble_sum(v128_t sum) {
  return S == 1 || S == 2 ? wasm_i32x4_shr(sum, 4 * S) : sum;
}
// Lane r of the result is lane r of the row sums of nibble S, whose lane i
// holds row (i + S) % 4.
template <int S>
inline v128_t rows_in_lanes(v128_t v) {
  return S == 0 ? v : rotate_lanes<4 - S>(v);
}

// One block's W4A8 contribution for one activation row, the _ref formula on
// four weight rows at once: acc += float(dot [− 8·Σa]) · (d_w·d_a)
// [+ m_w·(d_a·Σa)], with da and term (Q4_0: −8·Σa; Q4_1: d_a·Σa) holding
// that row's values in every lane that needs them.
template <bool kHasMin>
inline v128_t q8_block_update(v128_t acc, v128_t dot, const uint8_t* panel, v128_t da, v128_t term) {
  const v128_t scale = wasm_f32x4_mul(wasm_v128_load(panel), da);
  if (kHasMin) {
    const v128_t t = wasm_f32x4_add(wasm_f32x4_mul(wasm_f32x4_convert_i32x4(dot), scale),
                                    wasm_f32x4_mul(wasm_v128_load(panel + 16), term));
    return wasm_f32x4_add(acc, t);
  }
  return wasm_f32x4_add(acc, wasm_f32x4_mul(wasm_f32x4_convert_i32x4(wasm_i32x4_add(dot, term)), scale));
}
// The block update's term field for the type.
template <bool kHasMin>
constexpr Q8Field q8_term_field() { return kHasMin ? kQ8DSum : kQ8Minus8Sum; }

// d[s] (+)= the dot of nibble s of panel vector `qs` with activation vector
// `pairs` (pairs 4v .. 4v+3 for panel vector v); the first vector of a block
// sets d instead of adding to zeros.
template <bool kFirst>
inline void add_nibble_dots(const uint8_t* qs, const int32_t* pairs, v128_t (&d)[4]) {
  const v128_t q = wasm_v128_load(qs), a = wasm_v128_load(pairs);
  const v128_t p[4] = {wasm_i32x4_dot_i16x8(scaled_nibbles<0>(q), a), wasm_i32x4_dot_i16x8(scaled_nibbles<1>(q), a),
                       wasm_i32x4_dot_i16x8(scaled_nibbles<2>(q), a), wasm_i32x4_dot_i16x8(scaled_nibbles<3>(q), a)};
#pragma clang loop unroll(full)
  for (int s = 0; s < 4; ++s) d[s] = kFirst ? p[s] : wasm_i32x4_add(d[s], p[s]);
}

// W4A8 GEMV tile: y[4g .. 4g+4] for one activation row, `act` its blocks from
// interleave_q8 with R = 1. Panel vector v and activation vector v meet in
// four dots, one per nibble s, into d[s] (lane i = row (i + s) % 4); the
// block's row sums are d[0] plus d[1..3] rotated. Results are bitwise the
// reference's. The block's first vector sets d and the second adds to it
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
template <bool kHasMin>
void q4_q8_gemv_tile(const Q4Weights& w, const int32_t* act, int64_t g, float* y) {
  const int64_t nb = w.K / kQK;
  constexpr size_t kPanel = q4_panel_bytes(q4_type(kHasMin));
  const uint8_t* panel = q4_panel<kHasMin>(w, g, 0);
  const size_t step = size_t(q4_panel_step(w, g)) * kPanel;
  v128_t acc = wasm_f32x4_splat(0.0f);
  for (int64_t b = 0; b < nb; ++b, panel += step, act += q8_block_stride(1)) {
    const uint8_t* qs = panel + q4_qs_offset(kHasMin);
    const int32_t* pairs = act;
    v128_t d[4];
    add_nibble_dots<true>(qs, pairs, d);
    add_nibble_dots<false>(qs += 16, pairs += 4, d);
#pragma clang loop unroll(disable)
    for (int v = 2; v < 4; ++v) add_nibble_dots<false>(qs += 16, pairs += 4, d);  // pointer steps: V8 keeps them in registers
    const v128_t dot = wasm_i32x4_add(wasm_i32x4_add(d[0], rows_in_lanes<1>(unscale_nibble_sum<1>(d[1]))),
                                      wasm_i32x4_add(rows_in_lanes<2>(unscale_nibble_sum<2>(d[2])), rows_in_lanes<3>(d[3])));
    acc = q8_block_update<kHasMin>(acc, dot, panel, wasm_v128_load32_splat(act + q8_field(1, kQ8D)),
                                   wasm_v128_load32_splat(act + q8_field(1, q8_term_field<kHasMin>())));
  }
  wasm_v128_store(y + g * kPackRows, acc);
}

// The W4A8 GEMV tiles of relaxed-SIMD builds (rows in lanes, packed_weights.h),
// for one activation row, `act` its blocks from interleave_q8 with R = 1
// (the int8 values as they are). Panel vector v masked to its low (high)
// nibbles holds in lane r row r's elements 8v .. 8v+3 (8v+4 .. 8v+7), so one
// relaxed dot with those four activations broadcast gives each row's
// products in its own lane, summed in pairs. A block's eight dots add up in
// int16 (|sum| ≤ 8 · 2 · 15 · 128 = 30720) and widen once; no rotations.
// Results are bitwise the reference's.
//
// The pair tile runs groups g and g + 1 (one pair, q4_panel_index) in one
// pass: the activation loads serve both, and the two groups' panels, which
// alternate, are one stream. 576×1536, Node: 19.7 → 23.2 GB/s from cache,
// 15–18 → 19.4 from memory; bench-model decode +5% in Node, +11% in
// Chromium. The single tile covers a group without its partner (an odd last
// group, or a thread's range that splits a pair).
// Panel vector q against its eight activations, a_lo = elements 8v .. 8v+3
// and a_hi = 8v+4 .. 8v+7, each broadcast: lane pair r holds row r's two
// int16 partial sums.
inline v128_t relaxed_vector_dots(v128_t q, v128_t a_lo, v128_t a_hi) {
  const v128_t low_nibbles = wasm_i8x16_splat(0x0F);
  return wasm_i16x8_add(relaxed_dot_i8x16_i7x16(a_lo, wasm_v128_and(q, low_nibbles)),
                        relaxed_dot_i8x16_i7x16(a_hi, wasm_v128_and(wasm_u16x8_shr(q, 4), low_nibbles)));
}
template <bool kHasMin>
void q4_q8_gemv_tile_relaxed(const Q4Weights& w, const int32_t* act, int64_t g, float* y) {
  const int64_t nb = w.K / kQK;
  constexpr size_t kPanel = q4_panel_bytes(q4_type(kHasMin));
  const uint8_t* panel = q4_panel<kHasMin>(w, g, 0);
  const size_t step = size_t(q4_panel_step(w, g)) * kPanel;
  v128_t acc = wasm_f32x4_splat(0.0f);
  for (int64_t b = 0; b < nb; ++b, panel += step, act += q8_block_stride(1)) {
    const uint8_t* qs = panel + q4_qs_offset(kHasMin);
    const int32_t* words = act;
    v128_t sum = wasm_i16x8_splat(0);
    // Two steps of two vectors: V8 holds a base register per load32_splat
    // offset, and all four unrolled spill in Node 20's V8 (576×1536 from
    // cache, Node: 19.0 GB/s unrolled, 20.0 rolled, 21.3 like this;
    // Chromium: unrolled and this alike, rolled 7% slower).
#pragma clang loop unroll(disable)
    for (int half = 0; half < 2; ++half, qs += 32, words += 4) {
#pragma clang loop unroll(full)
      for (int v = 0; v < 2; ++v)
        sum = wasm_i16x8_add(sum, relaxed_vector_dots(wasm_v128_load(qs + 16 * v), wasm_v128_load32_splat(words + 2 * v),
                                                      wasm_v128_load32_splat(words + 2 * v + 1)));
    }
    acc = q8_block_update<kHasMin>(acc, wasm_i32x4_extadd_pairwise_i16x8(sum), panel, wasm_v128_load32_splat(act + q8_field(1, kQ8D)),
                                   wasm_v128_load32_splat(act + q8_field(1, q8_term_field<kHasMin>())));
  }
  wasm_v128_store(y + g * kPackRows, acc);
}
// Groups g (even) and g + 1, a pair.
template <bool kHasMin>
void q4_q8_gemv_pair_tile_relaxed(const Q4Weights& w, const int32_t* act, int64_t g, float* y) {
  const int64_t nb = w.K / kQK;
  constexpr size_t kPanel = q4_panel_bytes(q4_type(kHasMin));
  const uint8_t* panel = q4_panel<kHasMin>(w, g, 0);  // then group g + 1's, then g's next block, ...
  v128_t acc0 = wasm_f32x4_splat(0.0f), acc1 = acc0;
  for (int64_t b = 0; b < nb; ++b, panel += 2 * kPanel, act += q8_block_stride(1)) {
    const uint8_t* qs = panel + q4_qs_offset(kHasMin);
    const int32_t* words = act;
    v128_t sum0 = wasm_i16x8_splat(0), sum1 = sum0;
#pragma clang loop unroll(disable)
    for (int v = 0; v < 4; ++v, qs += 16, words += 2) {
      const v128_t a_lo = wasm_v128_load32_splat(words), a_hi = wasm_v128_load32_splat(words + 1);
      sum0 = wasm_i16x8_add(sum0, relaxed_vector_dots(wasm_v128_load(qs), a_lo, a_hi));
      sum1 = wasm_i16x8_add(sum1, relaxed_vector_dots(wasm_v128_load(qs + kPanel), a_lo, a_hi));
    }
    const v128_t da = wasm_v128_load32_splat(act + q8_field(1, kQ8D));
    const v128_t term = wasm_v128_load32_splat(act + q8_field(1, q8_term_field<kHasMin>()));
    acc0 = q8_block_update<kHasMin>(acc0, wasm_i32x4_extadd_pairwise_i16x8(sum0), panel, da, term);
    acc1 = q8_block_update<kHasMin>(acc1, wasm_i32x4_extadd_pairwise_i16x8(sum1), panel + kPanel, da, term);
  }
  wasm_v128_store(y + g * kPackRows, acc0);
  wasm_v128_store(y + (g + 1) * kPackRows, acc1);
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

// The GEMM reads each weight group once per activation tile, so it first
// copies the group's panels into a scratch buffer (copy_group_pair_major),
// the nibbles of each block widened to its 16 "pair vectors": the i16x8
// [row0 k, row0 k+1, ..., row3 k, row3 k+1], k = 2p, p = 0..15, four rows of
// one pair. The first step moves the nibbles to "pair-major" order (nibble s
// of 16-bit lane 2r + e of vector v = row r, element 2(4v + s) + e), from
// which (vector >> 4s) & 0xF gives pair 4v + s.
constexpr NibbleSlot pair_major_nibble_slot(int r, int k) {
  const int pair = k / 2, vec = pair / 4, s = pair % 4, lane = 2 * r + k % 2;
  return {16 * vec + 2 * lane + s / 2, 4 * (s % 2)};
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

// The four i16x8 pair vectors of a pair-major vector: out[s] = [row0 k,
// row0 k+1, ..., row3 k, row3 k+1] for k = 2(4v + s).
inline void pair_major_pairs(v128_t q, v128_t out[4]) {
  const v128_t mask = wasm_i16x8_splat(0x000F);
  out[0] = wasm_v128_and(q, mask);
  out[1] = wasm_v128_and(wasm_u16x8_shr(q, 4), mask);
  out[2] = wasm_v128_and(wasm_u16x8_shr(q, 8), mask);
  out[3] = wasm_u16x8_shr(q, 12);
}

// Bytes per block of the GEMM's copy: the panel's scales, then 16 pair vectors.
constexpr size_t pair_major_panel_bytes(bool has_min) { return size_t(q4_qs_offset(has_min)) + 16 * 16; }

// Copies group g's panels to `out`, pair_major_panel_bytes each: d and m as
// they are, then pair vectors p = 0..15.
template <bool kHasMin>
void copy_group_pair_major(const Q4Weights& w, int64_t g, uint8_t* out) {
  static constexpr NibbleMoveMap kMap = nibble_move_map(pair_major_nibble_slot);
  const NibbleMover to_pair_major(kMap);
  constexpr size_t kPanel = q4_panel_bytes(q4_type(kHasMin));
  const uint8_t* panel = q4_panel<kHasMin>(w, g, 0);
  const size_t step = size_t(q4_panel_step(w, g)) * kPanel;
  for (int64_t b = 0; b < w.K / kQK; ++b, panel += step, out += pair_major_panel_bytes(kHasMin)) {
    for (int i = 0; i < q4_qs_offset(kHasMin); i += 16) wasm_v128_store(out + i, wasm_v128_load(panel + i));
#pragma clang loop unroll(full)
    for (int v = 0; v < 4; ++v) {
      v128_t pairs[4];
      pair_major_pairs(to_pair_major(wasm_v128_load(panel + q4_qs_offset(kHasMin) + 16 * v)), pairs);
#pragma clang loop unroll(full)
      for (int s = 0; s < 4; ++s) wasm_v128_store(out + q4_qs_offset(kHasMin) + 64 * v + 16 * s, pairs[s]);
    }
  }
}

// W4A8 GEMM tile: 4 weight rows × 4 activation rows (rows ≥ `rows` are zero
// padding and not stored), group g; `panel` = the group's panels from
// copy_group_pair_major, `act` = the tile's blocks from interleave_q8 with
// R = 4. A v128 load gives pair p of the four activation rows; it and its
// three lane rotations meet the weight pair vector in four dots, so
// dot[j] lane i sums weight row i × activation row (i + j) % 4: 16 products
// per pair from one load and three shuffles, no horizontal sums. The block
// update uses the rotated d_a / Σa; results are bitwise the reference's.
// Measured alternatives, slower: the packed (row-rotated) layout directly,
// two nibbles per pass into eight accumulators (~12%: twice the loads and
// loop steps); a pair-major byte copy (4× smaller, but every tile then
// shifts and masks it: ~8% at M = 64); two groups per tile sharing the loads and shuffles (V8 spills
// the eight accumulators); rotations stored by the interleave instead of
// shuffled (4× the activation traffic).
template <bool kHasMin>
void q4_q8_gemm_tile(int64_t nb, const uint8_t* panel, const int32_t* act, int64_t g, float* y, int64_t ldy, int rows) {
  constexpr size_t kPanel = pair_major_panel_bytes(kHasMin);
  v128_t acc[4];
#pragma clang loop unroll(full)
  for (int j = 0; j < 4; ++j) acc[j] = wasm_f32x4_splat(0.0f);
  for (int64_t b = 0; b < nb; ++b, panel += kPanel, act += q8_block_stride(4)) {
    v128_t dot[4];
#pragma clang loop unroll(full)
    for (int j = 0; j < 4; ++j) dot[j] = wasm_i32x4_splat(0);
    // A rolled loop: unrolled, clang hoists all 16 loads and V8 spills them.
    const int32_t* pairs = act;
#pragma clang loop unroll(disable)
    for (int v = 0; v < 4; ++v, pairs += 16) {
#pragma clang loop unroll(full)
      for (int s = 0; s < 4; ++s) {
        const v128_t a = wasm_v128_load(pairs + 4 * s);
        const v128_t wq = wasm_v128_load(panel + q4_qs_offset(kHasMin) + 64 * v + 16 * s);
        dot[0] = wasm_i32x4_add(dot[0], wasm_i32x4_dot_i16x8(wq, a));
        dot[1] = wasm_i32x4_add(dot[1], wasm_i32x4_dot_i16x8(wq, rotate_lanes<1>(a)));
        dot[2] = wasm_i32x4_add(dot[2], wasm_i32x4_dot_i16x8(wq, rotate_lanes<2>(a)));
        dot[3] = wasm_i32x4_add(dot[3], wasm_i32x4_dot_i16x8(wq, rotate_lanes<3>(a)));
      }
    }
    const v128_t da = wasm_v128_load(act + q8_field(4, kQ8D)), term = wasm_v128_load(act + q8_field(4, q8_term_field<kHasMin>()));
    acc[0] = q8_block_update<kHasMin>(acc[0], dot[0], panel, da, term);
    acc[1] = q8_block_update<kHasMin>(acc[1], dot[1], panel, rotate_lanes<1>(da), rotate_lanes<1>(term));
    acc[2] = q8_block_update<kHasMin>(acc[2], dot[2], panel, rotate_lanes<2>(da), rotate_lanes<2>(term));
    acc[3] = q8_block_update<kHasMin>(acc[3], dot[3], panel, rotate_lanes<3>(da), rotate_lanes<3>(term));
  }
  store_rotated(acc, g, y, ldy, rows);
}

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
// The W4A32 kernels read the rotated order. A relaxed-SIMD build's panels
// hold rows in lanes: its GEMV moves each vector's nibbles as it loads it
// (+15 operations on ~45), its GEMM copies each group once per call.
static constexpr NibbleMoveMap kToRotated = nibble_move_map(rotated_nibble_slot);
template <bool kHasMin>
void copy_group_rotated(const Q4Weights& w, int64_t g, uint8_t* out) {
  const NibbleMover to_rotated(kToRotated);
  constexpr size_t kPanel = q4_panel_bytes(q4_type(kHasMin));
  const uint8_t* panel = q4_panel<kHasMin>(w, g, 0);
  const size_t step = size_t(q4_panel_step(w, g)) * kPanel;
  for (int64_t b = 0; b < w.K / kQK; ++b, panel += step, out += kPanel) {
    for (int i = 0; i < q4_qs_offset(kHasMin); i += 16) wasm_v128_store(out + i, wasm_v128_load(panel + i));
    for (int v = 0; v < 4; ++v)
      wasm_v128_store(out + q4_qs_offset(kHasMin) + 16 * v, to_rotated(wasm_v128_load(panel + q4_qs_offset(kHasMin) + 16 * v)));
  }
}
// Group g's panels, one after another, in the rotated order: the panels
// themselves, or in a relaxed-SIMD build (rows in lanes, pairs of groups
// interleaved) a copy in a buffer of the calling thread, made when g is not
// *copied (which it then becomes).
template <bool kHasMin>
const uint8_t* rotated_group(const Q4Weights& w, int64_t g, int64_t* copied) {
  if constexpr (!kRowsInLanes) {
    return q4_panel<kHasMin>(w, g, 0);
  } else {
    thread_local std::vector<uint8_t> buffer;
    if (*copied != g) {
      buffer.resize(size_t(w.K / kQK) * q4_panel_bytes(q4_type(kHasMin)));
      copy_group_rotated<kHasMin>(w, g, buffer.data());
      *copied = g;
    }
    return buffer.data();
  }
}
// W4A32 GEMV tile: y[4g .. 4g+4] for one activation row, `act` its blocks
// from interleave_f32 with R = 1. Nibble s, half e of panel vector v (lane i
// = row (i + s) % 4, element 8v + 2i + e) meets activation vector 2v + e as
// loaded; sum[s] gathers nibble s and is rotated to row order per block.
// Per block: acc += d_w · Σ_k (q [− 8])·x [+ m_w · Σx].
template <bool kHasMin>
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
      const v128_t q = lane_nibbles<kHasMin>(kRowsInLanes ? to_rotated(loaded) : loaded);
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

// One nibble S (both halves) of a block, for a 4×4 W4A32 GEMM tile: sum[j]
// (lane r = weight row r × activation row (r + j) % 4) += its products.
// Nibble S, half e of panel vector v (lane i = row (i + S) % 4) meets
// activation vector 4(2v + e) + (S + j) % 4 (f32_x_slot).
template <bool kHasMin, int S>
inline void f32_gemm_nibble_pass(const uint8_t* qs, const float* xv, v128_t (&sum)[4]) {
  v128_t part[4];
#pragma clang loop unroll(full)
  for (int j = 0; j < 4; ++j) part[j] = wasm_f32x4_splat(0.0f);
#pragma clang loop unroll(disable)
  for (int v = 0; v < 4; ++v, qs += 16, xv += 32) {
    const v128_t q = lane_nibbles<kHasMin>(wasm_v128_load(qs));
    const v128_t w0 = lane_nibble_f32<kHasMin, S>(q), w1 = lane_nibble_f32<kHasMin, S + 4>(q);
#pragma clang loop unroll(full)
    for (int j = 0; j < 4; ++j)
      part[j] = wasm_f32x4_add(part[j], wasm_f32x4_add(wasm_f32x4_mul(w0, wasm_v128_load(xv + 4 * ((S + j) % 4))),
                                                       wasm_f32x4_mul(w1, wasm_v128_load(xv + 16 + 4 * ((S + j) % 4)))));
  }
#pragma clang loop unroll(full)
  for (int j = 0; j < 4; ++j) sum[j] = S == 0 ? part[j] : wasm_f32x4_add(sum[j], rows_in_lanes<S>(part[j]));
}

// W4A32 GEMM tile: 4 weight rows × 4 activation rows (rows ≥ `rows` are
// padding) of group g, `panel` = its first panel in the rotated order, `act`
// = the tile's blocks from interleave_f32 with R = 4; sum[j]
// lane i gathers weight row i × activation row (i + j) % 4, one nibble at a
// time (f32_gemm_nibble_pass).
template <bool kHasMin>
void q4_f32_gemm_tile(int64_t nb, const uint8_t* panel, const float* act, int64_t g, float* y, int64_t ldy, int rows) {
  constexpr size_t kPanel = q4_panel_bytes(q4_type(kHasMin));
  v128_t acc[4];
#pragma clang loop unroll(full)
  for (int j = 0; j < 4; ++j) acc[j] = wasm_f32x4_splat(0.0f);
  for (int64_t b = 0; b < nb; ++b, panel += kPanel, act += f32_block_stride(4)) {
    const uint8_t* qs = panel + q4_qs_offset(kHasMin);
    v128_t sum[4];
    f32_gemm_nibble_pass<kHasMin, 0>(qs, act, sum);
    f32_gemm_nibble_pass<kHasMin, 1>(qs, act, sum);
    f32_gemm_nibble_pass<kHasMin, 2>(qs, act, sum);
    f32_gemm_nibble_pass<kHasMin, 3>(qs, act, sum);
    const v128_t dw = wasm_v128_load(panel);
    acc[0] = wasm_f32x4_add(acc[0], wasm_f32x4_mul(sum[0], dw));
    acc[1] = wasm_f32x4_add(acc[1], wasm_f32x4_mul(sum[1], dw));
    acc[2] = wasm_f32x4_add(acc[2], wasm_f32x4_mul(sum[2], dw));
    acc[3] = wasm_f32x4_add(acc[3], wasm_f32x4_mul(sum[3], dw));
    if (kHasMin) {
      const v128_t mw = wasm_v128_load(panel + 16), xs = wasm_v128_load(act + 4 * kQK);
      acc[0] = wasm_f32x4_add(acc[0], wasm_f32x4_mul(mw, xs));
      acc[1] = wasm_f32x4_add(acc[1], wasm_f32x4_mul(mw, rotate_lanes<1>(xs)));
      acc[2] = wasm_f32x4_add(acc[2], wasm_f32x4_mul(mw, rotate_lanes<2>(xs)));
      acc[3] = wasm_f32x4_add(acc[3], wasm_f32x4_mul(mw, rotate_lanes<3>(xs)));
    }
  }
  store_rotated(acc, g, y, ldy, rows);
}

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

// The four kernels of a Q4 type, in terms of the tiles above.
template <bool kHasMin>
struct Q4Kernels {
  static constexpr int64_t kGemvRowsMax = 4;
  // The GEMVs stay out of line: the GEMMs call them for leftover rows, and
  // inlined copies cost 0.8 KB of the gzipped download.
  __attribute__((noinline)) static void q8_gemv(const Q4Weights& w, const Q8Activations& x, const OutputTile& out, Q4Q8Fn tail) {
    const int64_t stride = (w.K / kQK) * q8_block_stride(1);
    if constexpr (kRowsInLanes) {
      // Pairs of full groups through the pair tile, the rest one by one; a
      // partial last group (N % 4 rows) to the scalar kernel.
      const int32_t* act = interleave_q8(x, out.m_begin, out.m_end, 1);
      const int64_t first = out.n_begin / kPackRows, full_end = std::min(out.n_end, w.N) / kPackRows;
      for (int64_t m = out.m_begin; m < out.m_end; ++m, act += stride) {
        float* y = out.y + m * out.ldy;
        for (int64_t g = first; g < full_end;) {
          if (g % 2 == 0 && g + 1 < full_end) {
            q4_q8_gemv_pair_tile_relaxed<kHasMin>(w, act, g, y);
            g += 2;
          } else {
            q4_q8_gemv_tile_relaxed<kHasMin>(w, act, g, y);
            ++g;
          }
        }
      }
      if (full_end * kPackRows < out.n_end) tail(w, x, group_tile(out, full_end));
    } else {
      q4_tiles(w, x, out, 1, interleave_q8, [&](const int32_t* act, int64_t t, int64_t g, float* y, int64_t, int) {
        q4_q8_gemv_tile<kHasMin>(w, act + t * stride, g, y);
      }, tail);
    }
  }
  static void q8_gemm(const Q4Weights& w, const Q8Activations& x, const OutputTile& out, Q4Q8Fn tail) {
    // The copy costs about half of one 4×4 tile per block, so up to 4
    // activation rows the GEMV tiles are faster (4096×4096: M = 2 1.75 ms vs
    // 3.5 ms, M = 4 3.4 ms vs 3.6 ms). Known cost of this layout: M = 4..16
    // is 27%..3% slower than the previous layout's GEMM (M = 64: 8% faster).
    if (out.m_end - out.m_begin <= kGemvRowsMax) return q8_gemv(w, x, out, tail);
    // A W4A8 GEMV row costs about a quarter of a 4-row tile (576×1536: 0.037
    // vs 0.15 ms), so any leftover rows go through the GEMV tiles.
    if (gemv_for_leftover_rows(out, 3, [&](const OutputTile& o) { q8_gemm(w, x, o, tail); },
                               [&](const OutputTile& o) { q8_gemv(w, x, o, tail); }))
      return;
    const int64_t nb = w.K / kQK, stride = nb * q8_block_stride(4);
    thread_local std::vector<uint8_t> group;  // the current group's pair vectors
    group.resize(size_t(nb) * pair_major_panel_bytes(kHasMin));
    int64_t copied = -1;
    q4_tiles(w, x, out, 4, interleave_q8, [&](const int32_t* act, int64_t t, int64_t g, float* y, int64_t ldy, int rows) {
      if (g != copied) copy_group_pair_major<kHasMin>(w, g, group.data());
      copied = g;
      q4_q8_gemm_tile<kHasMin>(nb, group.data(), act + t * stride, g, y, ldy, rows);
    }, tail);
  }
  __attribute__((noinline)) static void f32_gemv(const Q4Weights& w, const F32Activations& x, const OutputTile& out, Q4F32Fn tail) {
    const int64_t stride = (w.K / kQK) * f32_block_stride(1);
    q4_tiles(w, x, out, 1, interleave_f32, [&](const float* act, int64_t t, int64_t g, float* y, int64_t, int) {
      q4_f32_gemv_tile<kHasMin>(w, act + t * stride, g, y);
    }, tail);
  }
  static void f32_gemm(const Q4Weights& w, const F32Activations& x, const OutputTile& out, Q4F32Fn tail) {
    // A W4A32 GEMV row costs about 0.4 of a 4-row tile (576×1536: 0.125 vs
    // 0.30 ms): GEMV for one or two leftover rows, a padded tile for three.
    if (gemv_for_leftover_rows(out, 2, [&](const OutputTile& o) { f32_gemm(w, x, o, tail); },
                               [&](const OutputTile& o) { f32_gemv(w, x, o, tail); }))
      return;
    const int64_t nb = w.K / kQK, stride = nb * f32_block_stride(4);
    int64_t copied = -1;
    q4_tiles(w, x, out, 4, interleave_f32, [&](const float* act, int64_t t, int64_t g, float* y, int64_t ldy, int rows) {
      q4_f32_gemm_tile<kHasMin>(nb, rotated_group<kHasMin>(w, g, &copied), act + t * stride, g, y, ldy, rows);
    }, tail);
  }
};

}  // namespace wasmsimd
}  // namespace nibble

#endif  // __wasm_simd128__
