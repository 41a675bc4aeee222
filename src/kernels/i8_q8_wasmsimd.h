// The W4A8 kernels of the kI8Panels types (Q8_0, IQ4_NL) for both SIMD
// tiers: int8 weights × int8 activations. Neither factor is 0..127, so the
// relaxed dot does not apply as is: the tiers widen to int16 and use
// i32x4.dot_i16x8_s, except for IQ4_NL on the relaxed tier (below) and
// the relaxed tier's Q8_0 GEMV (int16 dots on the panel bytes as they are,
// below). Panels (packed_weights.h, the same in every build but for the
// relaxed builds' Q8_0 bias, q8_byte_bias):
// vector u of a Q8_0 panel holds in 32-bit lane r row r's elements
// 4u .. 4u+3; an IQ4_NL panel's nibble vector v, split into low and high
// nibbles and looked up in kIQ4NLValues with i8x16.swizzle, gives those
// vectors 2v and 2v + 1.
//
// GEMMs: the plain tier's run the Q4_0 GEMM's pair-major tile on a copy
// widened once per call (pair_major_gemm); the relaxed tier's IQ4_NL tile
// widens each weight vector once for four activation rows.
#pragma once

#ifdef __wasm_simd128__

#include <wasm_simd128.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "kernels/q4_activations_wasmsimd.h"
#include "kernels/q4_panel.h"
#include "kernels/q4_wasmsimd.h"

namespace nibble {
namespace wasmsimd {

// The i16x8 [a[4u] .. a[4u+3], a[4u] .. a[4u+3]] of one activation row's
// block: the plain tier's layout holds int16 pairs, the relaxed tier's the
// int8 values (q4_activations_wasmsimd.h).
template <bool kRelaxed>
inline v128_t i8_activation_quad(const int32_t* act, int u) {
  if (kRelaxed) return wasm_i16x8_extend_low_i8x16(wasm_v128_load32_splat(act + u));
  return wasm_v128_load64_splat(act + 2 * u);
}

// Panel vector u of a block as int8 weights: Q8_0's as stored, IQ4_NL's
// vectors 2v, 2v + 1 the looked-up low and high nibbles of nibble vector v.
template <TensorType kType>
inline v128_t i8_weight_vector(const uint8_t* qs, int u) {
  if constexpr (kType == TensorType::Q8_0) {  // without the relaxed builds' bias
    const v128_t v = wasm_v128_load(qs + 16 * u);
    return kQ8Biased ? wasm_v128_xor(v, wasm_i16x8_splat(0x80)) : v;
  }
  const v128_t q = wasm_v128_load(qs + 16 * (u / 2)), low_nibbles = wasm_i8x16_splat(0x0F);
  return wasm_i8x16_swizzle(wasm_v128_load(kIQ4NLValues), wasm_v128_and(u % 2 ? wasm_u16x8_shr(q, 4) : q, low_nibbles));
}

// Adds weight vector w8 (four rows × elements 4u .. 4u+3, int8) times the
// activation quad to lo (lanes: row 0 twice, row 1 twice) and hi (rows 2, 3).
inline void add_i8_dots(v128_t w8, v128_t a, v128_t& lo, v128_t& hi) {
  lo = wasm_i32x4_add(lo, wasm_i32x4_dot_i16x8(wasm_i16x8_extend_low_i8x16(w8), a));
  hi = wasm_i32x4_add(hi, wasm_i32x4_dot_i16x8(wasm_i16x8_extend_high_i8x16(w8), a));
}

// W4A8 GEMV tile: y[4g .. 4g+4] for one activation row, `act` its blocks
// from interleave_q8<kRelaxed> with R = 1. Per block: the integer dot of
// each row, then acc += float(dot) · (d_w·d_a), bitwise the reference.
template <TensorType kType, bool kRelaxed>
void i8_q8_gemv_tile(const PackedView& w, const int32_t* act, int64_t g, float* y) {
  const int64_t nb = w.K / kQK;
  constexpr size_t kPanel = q4_panel_bytes(kType);
  const uint8_t* panel = i8_group_panels<kType>(w, g);  // (Q8_0's runs: q8_0_q8_gemv_tile_i16)
  v128_t acc = wasm_f32x4_splat(0.0f);
  for (int64_t b = 0; b < nb; ++b, panel += kPanel, act += q8_block_stride<kRelaxed>(1)) {
    v128_t lo = wasm_i32x4_splat(0), hi = lo;
    const uint8_t* qs = panel + kI8QsOffset;
#pragma clang loop unroll(disable)
    for (int v = 0; v < 4; ++v) {  // weight vectors 2v and 2v + 1
      add_i8_dots(i8_weight_vector<kType>(qs, 2 * v), i8_activation_quad<kRelaxed>(act, 2 * v), lo, hi);
      add_i8_dots(i8_weight_vector<kType>(qs, 2 * v + 1), i8_activation_quad<kRelaxed>(act, 2 * v + 1), lo, hi);
    }
    const v128_t dot = wasm_i32x4_add(wasm_i32x4_shuffle(lo, hi, 0, 2, 4, 6), wasm_i32x4_shuffle(lo, hi, 1, 3, 5, 7));
    const v128_t scale = wasm_f32x4_mul(wasm_v128_load(panel), wasm_v128_load32_splat(act + q8_field<kRelaxed>(1, kQ8D)));
    acc = wasm_f32x4_add(acc, wasm_f32x4_mul(wasm_f32x4_convert_i32x4(dot), scale));
  }
  wasm_v128_store(y + g * kPackRows, acc);
}

// IQ4_NL on the relaxed tier, whose dot wants one factor in 0..127: the
// code book is 15·q − 127 plus a residue r[q] in 0..18, so a block's
//   Σ v[q]·a = 15·Σ (q − 8)·a + Σ (r[q] − 7)·a,
// two relaxed dots per 16 weights, on the nibbles as Q4_0's GEMV has them
// (rows in lanes, packed_weights.h) and on their residues (looked up with
// i8x16.relaxed_swizzle: the indices are 0..15). Both sums add up in int16
// over the whole block, from starts that hold the −8·Σa and −7·Σa terms
// (the layout's halves, q4_activations_wasmsimd.h): int16 adds wrap, and
// each final lane, a sum of 16 products, is within 16·8·128 = 16384
// (q − 8 in −8..7) and 16·11·128 = 22528 (r − 7 in −7..11). One
// i32x4.dot_i16x8_s by 15 and one pairwise widening per block finish it.
struct IQ4NLResidues {
  int8_t r[16];
};
constexpr IQ4NLResidues iq4_nl_residues() {
  IQ4NLResidues t{};
  for (int q = 0; q < 16; ++q) t.r[q] = int8_t(kIQ4NLValues[q] - 15 * q + 127);
  return t;
}
inline constexpr IQ4NLResidues kIQ4NLResidues = iq4_nl_residues();
static_assert([] {
  for (int8_t r : kIQ4NLResidues.r)
    if (r < 0 || r > 18) return false;
  return true;
}(), "the IQ4_NL residues must stay in 0..18 (the int16 bound above)");

// Groups g .. g + G - 1 in one pass, as the Q8_0 tile below, in a rolled
// loop of one vector per group and step: V8 unrolls it and keeps each
// step's loads in the step. Unrolled by clang (or two vectors per step),
// V8 loaded all of a block's vectors first and spilled (G = 2: 96 x64
// instructions per group and block against 80).
template <int G>
inline void iq4_nl_q8_gemv_tile_relaxed(const PackedView& w, const int32_t* act, int64_t g, float* y) {
  const int64_t nb = w.K / kQK;
  constexpr size_t kPanel = q4_panel_bytes(TensorType::IQ4_NL);
  const size_t group_bytes = size_t(nb) * kPanel;
  const uint8_t* panel = i8_group_panels<TensorType::IQ4_NL>(w, g);
  const v128_t residues = wasm_v128_load(kIQ4NLResidues.r), low_nibbles = wasm_i8x16_splat(0x0F);
  v128_t acc[G];
#pragma clang loop unroll(full)
  for (int p = 0; p < G; ++p) acc[p] = wasm_f32x4_splat(0.0f);
  for (int64_t b = 0; b < nb; ++b, panel += kPanel, act += q8_block_stride<true>(1)) {
    const uint8_t* qs = panel + kI8QsOffset;
    const int32_t* words = act;
    const v128_t start_q = wasm_v128_load32_splat(act + q8_field<true>(1, kQ8Minus8HalfSums));  // −8·Σa halves
    const v128_t start_r = wasm_i16x8_sub(start_q, wasm_i16x8_shr(start_q, 3));                 // −7·Σa
    v128_t sum_q[G], sum_r[G];
#pragma clang loop unroll(full)
    for (int p = 0; p < G; ++p) {
      sum_q[p] = start_q;
      sum_r[p] = start_r;
    }
#pragma clang loop unroll(disable)
    for (int v = 0; v < 4; ++v, qs += 16, words += 2) {
      const v128_t a_lo = wasm_v128_load32_splat(words), a_hi = wasm_v128_load32_splat(words + 1);
#pragma clang loop unroll(full)
      for (int p = 0; p < G; ++p) {
        const v128_t q = wasm_v128_load(qs + p * group_bytes);
        const v128_t lo = wasm_v128_and(q, low_nibbles), hi = wasm_v128_and(wasm_u16x8_shr(q, 4), low_nibbles);
        sum_q[p] = wasm_i16x8_add(sum_q[p], wasm_i16x8_add(relaxed_dot_i8x16_i7x16(a_lo, lo), relaxed_dot_i8x16_i7x16(a_hi, hi)));
        sum_r[p] = wasm_i16x8_add(sum_r[p], wasm_i16x8_add(relaxed_dot_i8x16_i7x16(a_lo, relaxed_swizzle_i8x16(residues, lo)),
                                                           relaxed_dot_i8x16_i7x16(a_hi, relaxed_swizzle_i8x16(residues, hi))));
      }
    }
    const v128_t da = wasm_v128_load32_splat(act + q8_field<true>(1, kQ8D));
#pragma clang loop unroll(full)
    for (int p = 0; p < G; ++p) {
      const v128_t dot = wasm_i32x4_add(wasm_i32x4_dot_i16x8(sum_q[p], wasm_i16x8_splat(15)), wasm_i32x4_extadd_pairwise_i16x8(sum_r[p]));
      const v128_t scale = wasm_f32x4_mul(wasm_v128_load(panel + p * group_bytes), da);
      acc[p] = wasm_f32x4_add(acc[p], wasm_f32x4_mul(wasm_f32x4_convert_i32x4(dot), scale));
    }
  }
#pragma clang loop unroll(full)
  for (int p = 0; p < G; ++p) wasm_v128_store(y + (g + p) * kPackRows, acc[p]);
}

// Q8_0 on the relaxed tier, in int16 dots without widening the weights: a
// panel vector read as i16x8 holds in each 16-bit lane two weights of one
// row, wA (low byte) and wB (high byte), elements k and k + 1 (k = 4u or
// 4u + 2). With wA biased by 128 (its byte xor 0x80: relaxed builds store
// it so, q8_byte_bias in q4_panel.h), the lane is
//   v = 256·wB + (wA + 128),   and v >> 8 (arithmetic) = wB,
// so with the activations prepared per block as int16 pairs
//   c1 = aA,   c2 = aB − 256·aA   (|c2| ≤ 127 + 256·127 = 32639)
// two i32x4.dot_i16x8_s give
//   v·c1 + wB·c2 = wA·aA + wB·aB + 128·aA,
// and the int32 sum starts at −128·ΣaA of the block (`start`). Per 16
// weights: a shift, two int16 dots and two adds, where widening the
// weights and activations took three more and a fourth dot. An activation of −128 (only a
// saturated quantization gives one) would put c2 out of int16: a call
// with one runs the scalar kernel.
constexpr int kQ8I16BlockInts = 2 * (kQK / 4) + 2;  // c1[8], c2[8], start, d
inline v128_t q8_i16_block_terms(const int8_t* a, int32_t* out) {
  v128_t has_min = wasm_i32x4_splat(0), even_sum = wasm_i32x4_splat(0);
  for (int h = 0; h < 2; ++h) {
    const v128_t v = wasm_v128_load(a + 16 * h);
    const v128_t shifted = wasm_i16x8_shl(v, 8);  // 256·aA
    const v128_t c1 = wasm_i16x8_shr(shifted, 8);
    wasm_v128_store(out + 4 * h, c1);
    wasm_v128_store(out + 8 + 4 * h, wasm_i16x8_sub(wasm_i16x8_shr(v, 8), shifted));
    has_min = wasm_v128_or(has_min, wasm_i8x16_eq(v, wasm_i8x16_splat(-128)));
    even_sum = wasm_i32x4_add(even_sum, wasm_i32x4_extadd_pairwise_i16x8(c1));
  }
  even_sum = wasm_i32x4_add(even_sum, wasm_i32x4_shuffle(even_sum, even_sum, 2, 3, 0, 1));
  even_sum = wasm_i32x4_add(even_sum, wasm_i32x4_shuffle(even_sum, even_sum, 1, 0, 3, 2));
  out[16] = -128 * wasm_i32x4_extract_lane(even_sum, 0);
  return has_min;
}
// Groups g .. g + 3, a whole run of four (i8_run in q4_panel.h), in one
// pass: each activation word is loaded once for all of them, and the run's
// region of a block (the scales, then part s of each group for s = 0..3)
// is read in order, one stream.
template <int G>
inline void q8_0_q8_gemv_tile_i16(const PackedView& w, const int32_t* act, int64_t g, float* y) {
  static_assert(G == kI8RunGroups, "a whole run");
  constexpr size_t kRegion = G * q4_panel_bytes(TensorType::Q8_0), kPart = G * kI8PartBytes, kScales = kPackRows * 4;
  const int64_t nb = w.K / kQK;
  const uint8_t* region = w.data + size_t(g * nb) * q4_panel_bytes(TensorType::Q8_0);
  v128_t acc[G];
#pragma clang loop unroll(full)
  for (int p = 0; p < G; ++p) acc[p] = wasm_f32x4_splat(0.0f);
  for (int64_t b = 0; b < nb; ++b, region += kRegion, act += kQ8I16BlockInts) {
    const uint8_t* qs = region + G * kScales;
    const int32_t* words = act;
    v128_t dot_a[G], dot_b[G];
#pragma clang loop unroll(full)
    for (int p = 0; p < G; ++p) {
      dot_a[p] = wasm_v128_load32_splat(act + 16);
      dot_b[p] = wasm_i32x4_splat(0);
    }
#pragma clang loop unroll(disable)
    for (int step = 0; step < 4; ++step, qs += kPart, words += 2) {
#pragma clang loop unroll(full)
      for (int u = 0; u < 2; ++u) {
        const v128_t c1 = wasm_v128_load32_splat(words + u), c2 = wasm_v128_load32_splat(words + 8 + u);
#pragma clang loop unroll(full)
        for (int p = 0; p < G; ++p) {
          const v128_t raw = wasm_v128_load(qs + p * kI8PartBytes + 16 * u);
          const v128_t v = kQ8Biased ? raw : wasm_v128_xor(raw, wasm_i16x8_splat(0x80));
          dot_a[p] = wasm_i32x4_add(dot_a[p], wasm_i32x4_dot_i16x8(v, c1));
          dot_b[p] = wasm_i32x4_add(dot_b[p], wasm_i32x4_dot_i16x8(wasm_i16x8_shr(v, 8), c2));
        }
      }
    }
    const v128_t da = wasm_v128_load32_splat(act + 17);
#pragma clang loop unroll(full)
    for (int p = 0; p < G; ++p) {
      const v128_t scale = wasm_f32x4_mul(wasm_v128_load(region + p * kScales), da);
      acc[p] = wasm_f32x4_add(acc[p], wasm_f32x4_mul(wasm_f32x4_convert_i32x4(wasm_i32x4_add(dot_a[p], dot_b[p])), scale));
    }
  }
#pragma clang loop unroll(full)
  for (int p = 0; p < G; ++p) wasm_v128_store(y + (g + p) * kPackRows, acc[p]);
}

// The activation quad of word u of tile row r in a 4-row tile's block
// (interleave_q8<kRelaxed> with R = 4): the relaxed tier's words hold the
// int8 values, the plain tier's pairs the int16 values (pairs 2u, 2u + 1).
template <bool kRelaxed>
inline v128_t i8_activation_quad4(const int32_t* act, int u, int r) {
  constexpr int R = 4;
  if (kRelaxed) return wasm_i16x8_extend_low_i8x16(wasm_v128_load32_splat(act + u * R + r));
  return wasm_i32x4_shuffle(wasm_v128_load32_splat(act + 2 * u * R + r), wasm_v128_load32_splat(act + (2 * u + 1) * R + r), 0, 4, 0, 4);
}

// W4A8 GEMM tile: group g's 4 weight rows × 4 activation rows (rows ≥
// `rows` are zero padding and not stored), `act` the tile's blocks from
// interleave_q8<kRelaxed> with R = 4. Per block each weight vector is
// widened once and meets the four rows' activation quads (the rows
// unrolled: their eight int32 accumulators stay in registers); then the
// GEMV's per-row formula, so outputs are bitwise the reference's.
template <TensorType kType, bool kRelaxed>
void i8_q8_gemm_tile(const PackedView& w, const int32_t* act, int64_t g, float* y, int64_t ldy, int rows) {
  constexpr int R = 4;
  const int64_t nb = w.K / kQK;
  constexpr size_t kPanel = q4_panel_bytes(kType);
  const uint8_t* panel = i8_group_panels<kType>(w, g);  // (Q8_0's runs: q8_0_q8_gemv_tile_i16)
  v128_t acc[R];
  for (int r = 0; r < R; ++r) acc[r] = wasm_f32x4_splat(0.0f);
  for (int64_t b = 0; b < nb; ++b, panel += kPanel, act += q8_block_stride<kRelaxed>(R)) {
    v128_t lo[R], hi[R];
    for (int r = 0; r < R; ++r) lo[r] = hi[r] = wasm_i32x4_splat(0);
    const uint8_t* qs = panel + kI8QsOffset;
#pragma clang loop unroll(disable)
    for (int u = 0; u < 8; ++u) {
      const v128_t w8 = i8_weight_vector<kType>(qs, u);
      const v128_t w01 = wasm_i16x8_extend_low_i8x16(w8), w23 = wasm_i16x8_extend_high_i8x16(w8);
#pragma clang loop unroll(full)
      for (int r = 0; r < R; ++r) {
        const v128_t a = i8_activation_quad4<kRelaxed>(act, u, r);
        lo[r] = wasm_i32x4_add(lo[r], wasm_i32x4_dot_i16x8(w01, a));
        hi[r] = wasm_i32x4_add(hi[r], wasm_i32x4_dot_i16x8(w23, a));
      }
    }
    const v128_t dw = wasm_v128_load(panel);
#pragma clang loop unroll(full)
    for (int r = 0; r < R; ++r) {
      const v128_t dot = wasm_i32x4_add(wasm_i32x4_shuffle(lo[r], hi[r], 0, 2, 4, 6), wasm_i32x4_shuffle(lo[r], hi[r], 1, 3, 5, 7));
      const v128_t scale = wasm_f32x4_mul(dw, wasm_v128_load32_splat(act + q8_field<kRelaxed>(R, kQ8D, r)));
      acc[r] = wasm_f32x4_add(acc[r], wasm_f32x4_mul(wasm_f32x4_convert_i32x4(dot), scale));
    }
  }
  for (int r = 0; r < rows; ++r) wasm_v128_store(y + r * ldy + g * kPackRows, acc[r]);
}

// The W4A8 GEMV of a kI8Panels type; a partial last group goes to `tail`,
// the scalar kernel of the same name. Not inlined: the GEMM's few-row case
// calls the same copy (half a KB of download each). The relaxed tier's
// tiles take four groups at a time (G = 4: each activation word loaded once
// for four groups; 4096×4096, Node, 8 alternating runs: Q8_0 2.2× → 1.6×
// Q4_0's time, 1.8× → 1.3× from memory; IQ4_NL's tile, a loop of one
// vector per group and step, which V8 unrolls without spilling: G = 2 and
// 4 alike, G = 1 slower). Q8_0's four are a run of its layout (i8_run in
// q4_panel.h), one stream. IQ4_NL's groups past the last run of four go to
// `tail` (none when N is a multiple of 16, matmul()'s work items are four
// groups).
template <TensorType kType, bool kRelaxed>
__attribute__((noinline)) void i8_q8_gemv(const PackedView& w, const Q8Activations& x, const OutputTile& out, PackedQ8Fn tail) {
  if constexpr (kRelaxed) {
    const int64_t nb = x.K / kQK, rows = out.m_end - out.m_begin;
    const int32_t* act;
    int64_t stride;
    if constexpr (kType == TensorType::Q8_0) {
      // The int16 tile's blocks of the call's rows, in a buffer of the thread.
      thread_local std::vector<int32_t> prepared;
      stride = nb * kQ8I16BlockInts;
      if (prepared.size() < size_t(rows * stride)) prepared.resize(size_t(rows * stride));
      v128_t has_min = wasm_i32x4_splat(0);
      for (int64_t i = 0; i < rows; ++i)
        for (int64_t b = 0; b < nb; ++b) {
          int32_t* block = prepared.data() + (i * nb + b) * kQ8I16BlockInts;
          has_min = wasm_v128_or(has_min, q8_i16_block_terms(x.qs + (out.m_begin + i) * x.K + b * kQK, block));
          block[17] = int32_t(f32_bits(x.d[(out.m_begin + i) * nb + b]));
        }
      if (wasm_v128_any_true(has_min)) return tail(w, x, out);  // the scalar kernel: rare, and no code here
      act = prepared.data();
    } else {
      act = interleave_q8<true>(x, out.m_begin, out.m_end, 1);
      stride = nb * q8_block_stride<true>(1);
    }
    const int64_t first = out.n_begin / kPackRows, full_end = std::min(out.n_end, w.N) / kPackRows;
    constexpr int kGroups = 4;
    // Q8_0: its whole runs (i8_run), from the first the call's range holds
    // whole; the groups before it, of a run the range splits (none when the
    // call's groups start at a multiple of 4, as matmul()'s work items do
    // where the matrix's groups are a multiple of 4), go to `tail`.
    const int64_t start = kType == TensorType::Q8_0 ? std::min(full_end, (first + kGroups - 1) / kGroups * kGroups) : first;
    if (start > first) tail(w, x, {out.y, out.ldy, out.m_begin, out.m_end, first * kPackRows, start * kPackRows});
    for (int64_t g = start; g + kGroups <= full_end; g += kGroups)
      for (int64_t i = 0; i < rows; ++i) {  // the groups' panels stay in cache for the next row
        float* y = out.y + (out.m_begin + i) * out.ldy;
        if constexpr (kType == TensorType::Q8_0) q8_0_q8_gemv_tile_i16<kGroups>(w, act + i * stride, g, y);
        else iq4_nl_q8_gemv_tile_relaxed<kGroups>(w, act + i * stride, g, y);
      }
    // Groups past the last whole run of kGroups, and a partial last group.
    const int64_t done = start + (full_end - start) / kGroups * kGroups;
    if (done * kPackRows < out.n_end) tail(w, x, {out.y, out.ldy, out.m_begin, out.m_end, done * kPackRows, out.n_end});
  } else {
    const int64_t stride = (w.K / kQK) * q8_block_stride<kRelaxed>(1);
    q4_tiles(w, x, out, 1, interleave_q8<kRelaxed>, [&](const int32_t* act, int64_t t, int64_t g, float* y, int64_t, int) {
      i8_q8_gemv_tile<kType, kRelaxed>(w, act + t * stride, g, y);
    }, tail);
  }
}

// The plain tier's pair-major copy of group g (pair_major_gemm,
// q4_wasmsimd.h; the Q4_0 copy's layout, q4_q8_wasmsimd.h): per block the
// panel's d[4], then weight vector u (lane r: row r's elements 4u ..
// 4u+3) widened to int16 and split into pair vectors 2u and 2u + 1 (lane
// pair r: row r's elements 2p, 2p + 1).
template <TensorType kType>
void copy_i8_group_pair_major(const PackedView& w, int64_t g, int slot, uint8_t* out) {
  constexpr size_t kPanel = q4_panel_bytes(kType);
  constexpr int kPair = 16 * kPairMajorGroups;  // bytes from one pair vector of the slot to the next
  const uint8_t* panel = i8_group_panels<kType>(w, g);  // the plain tier: no runs
  for (int64_t b = 0; b < w.K / kQK; ++b, panel += kPanel, out += pair_major_block_bytes()) {
    wasm_v128_store(out + pair_major_head(slot), wasm_v128_load(panel));  // d[4]
    uint8_t* pairs = out + pair_major_pair(slot, 0);
#pragma clang loop unroll(disable)
    for (int u = 0; u < 8; ++u, pairs += 2 * kPair) {
      const v128_t w8 = i8_weight_vector<kType>(panel + kI8QsOffset, u);
      const v128_t w01 = wasm_i16x8_extend_low_i8x16(w8), w23 = wasm_i16x8_extend_high_i8x16(w8);
      wasm_v128_store(pairs, wasm_i32x4_shuffle(w01, w23, 0, 2, 4, 6));
      wasm_v128_store(pairs + kPair, wasm_i32x4_shuffle(w01, w23, 1, 3, 5, 7));
    }
  }
}

// Its GEMM. Plain tier: the pair-major GEMM (pair_major_gemm: 8 weight
// rows × 4 activation rows per tile on a copy widened once per call), up
// to four rows through the GEMV, and of a longer tile's leftover rows one
// or two (three run a padded tile). Relaxed tier: 4-row tiles (the last
// one padded), up to two rows through the GEMV; its Q8_0 runs its GEMV
// tiles instead, row by row over each run of groups (M = 64, 896² and
// 4096²: within 3% of the 4×4 tile; and 0.7 KB less to download).
template <TensorType kType, bool kRelaxed>
void i8_q8_gemm(const PackedView& w, const Q8Activations& x, const OutputTile& out, PackedQ8Fn tail) {
  if constexpr (kRelaxed && kType == TensorType::Q8_0) {
    i8_q8_gemv<kType, kRelaxed>(w, x, out, tail);
  } else if constexpr (!kRelaxed) {
    if (out.m_end - out.m_begin <= 4) return i8_q8_gemv<kType, kRelaxed>(w, x, out, tail);
    if (gemv_for_leftover_rows(out, 2, [&](const OutputTile& o) { i8_q8_gemm<kType, kRelaxed>(w, x, o, tail); },
                               [&](const OutputTile& o) { i8_q8_gemv<kType, kRelaxed>(w, x, o, tail); }))
      return;
    pair_major_gemm<q4_q8_gemm_tile>(w, x, out, tail, copy_i8_group_pair_major<kType>,
                                     size_t(w.K / kQK) * pair_major_block_bytes());
  } else {
    if (out.m_end - out.m_begin <= 2) return i8_q8_gemv<kType, kRelaxed>(w, x, out, tail);
    const int64_t stride = (w.K / kQK) * q8_block_stride<kRelaxed>(4);
    q4_tiles(w, x, out, 4, interleave_q8<kRelaxed>, [&](const int32_t* act, int64_t t, int64_t g, float* y, int64_t ldy, int rows) {
      i8_q8_gemm_tile<kType, kRelaxed>(w, act + t * stride, g, y, ldy, rows);
    }, tail);
  }
}

}  // namespace wasmsimd
}  // namespace nibble

#endif  // __wasm_simd128__
