// The K-quant W4A8 kernels (Q4_K, Q5_K, Q6_K) of both SIMD tiers, on the
// K panels (packed_weights.h: rows in 32-bit lanes in every build). A code
// vector (one of a part's nibble vectors, masked to one nibble per byte,
// its high bits or'ed in) holds in lane r row r's codes of four consecutive
// elements; its dot with those four activations, per lane, is
//   relaxed: i16x8.relaxed_dot_i8x16_i7x16_s on the four int8 activations
//            broadcast (codes ≤ 63 fit the 7-bit operand), summed in int16
//            while that is exact; i32x4.dot_i16x8_s of those int16 sums
//            with the sub-block scale in both halves of each lane then
//            gives sc · dot per row in one step (no widening, no multiply);
//   plain:   the codes widened to int16, i32x4.dot_i16x8_s with the four
//            activations as int16 broadcast (rows 0, 1 and 2, 3 per vector),
//            the lane pairs added and multiplied by the scale per sub-block.
// Each row's int32 sub-block sums then go through k_superblock_q8()'s float
// formula (k_panel.h) lane by lane in the same order, so outputs are
// bitwise the reference's. The GEMV takes a group's activation rows in
// turn (its panels stay in cache between them), unpacking as it goes; the
// plain tier's GEMM runs on pair-major copies (k_q8_gemm_wasmsimd.h; the
// relaxed tier's GEMMs run its GEMVs). Padding rows of a partial
// group are computed and not stored. The plain tier's parts, unit dots and
// super-block loop (KPanelParts, UnitDots, k_superblock) are that tier's
// only; the relaxed tier has loops of its own (k_superblocks_relaxed_gemv,
// k_superblock_q6_relaxed).
#pragma once

#ifdef __wasm_simd128__

#include <wasm_simd128.h>

#include <algorithm>
#include <cstdint>
#include <type_traits>
#include <utility>
#include <vector>

#include "kernels/k_panel.h"
#include "kernels/wasmsimd_util.h"
#include "quant/fp16.h"

namespace nibble {
namespace wasmsimd {

// v shifted left by `bits` (right if negative), 16-bit lanes: the callers
// keep one bit position of each byte, which never crosses bytes for |bits| ≤ 4.
inline v128_t shift_bits(v128_t v, int bits) {
  return bits >= 0 ? wasm_i16x8_shl(v, uint32_t(bits)) : wasm_u16x8_shr(v, uint32_t(-bits));
}

// The two code vectors of a part's nibble vector v = 2h + e (h: the
// 16-weight half): its low nibbles (elements 8v .. 8v+3) and high nibbles
// (8v+4 .. 8v+7), with their high bits from `high`: Q5_K the part's vector
// at 64 shifted right by 4h in 16-bit lanes (bit 2e + 4h of each byte
// moved to 2e, and 2e + 1 likewise: bits 4..7 do not reach other bytes'
// bits we keep). (Q6_K: q6_code_vectors.)
template <TensorType kType>
inline void k_code_vectors(const uint8_t* qs, v128_t high, int e, v128_t* lo, v128_t* hi) {
  const v128_t q = wasm_v128_load(qs), nibble = wasm_i8x16_splat(0x0F);
  if constexpr (kType == TensorType::Q5_K && kQ5Split) {  // relaxed-SIMD builds: the Q5_0 form (q4_panel.h)
    const v128_t five = wasm_i8x16_splat(0x1F);
    *lo = wasm_v128_and(q, five);
    *hi = wasm_v128_and(wasm_v128_xor(wasm_u16x8_shr(q, 3), shift_bits(high, -2 * e)), five);
    return;
  }
  *lo = wasm_v128_and(q, nibble);
  *hi = wasm_v128_and(wasm_u16x8_shr(q, 4), nibble);
  if constexpr (kType == TensorType::Q5_K) {
    const v128_t bit4 = wasm_i8x16_splat(0x10);
    *lo = wasm_v128_or(*lo, wasm_v128_and(shift_bits(high, 4 - 2 * e), bit4));
    *hi = wasm_v128_or(*hi, wasm_v128_and(shift_bits(high, 3 - 2 * e), bit4));
  }
}

// The `high` that k_code_vectors takes for half h of a part (Q4_K: none;
// the plane moved right by 4h, in 16-bit lanes).
template <TensorType kType>
inline v128_t k_high_bits(const uint8_t* part, int h) {
  if constexpr (kType != TensorType::Q5_K) return wasm_i8x16_splat(0);
  const v128_t high = wasm_v128_load(part + 64);
  return h == 1 ? wasm_u16x8_shr(high, 4) : high;
}

// Q6_K: the four code vectors 4t .. 4t+3 of a part's triple t (three
// vectors at 48t): bits 0..5 of each byte of vector u < 3 are code vector
// u's; code vector 3 gathers bits 6, 7 of the three (as its bits 2u, 2u+1;
// relaxed-SIMD builds: their xor form, kQ6Xor).
// Shifts in 16-bit lanes: the masks keep each byte's own bits.
inline void q6_code_vectors(const uint8_t* triple, v128_t codes[4]) {
  const v128_t x0 = wasm_v128_load(triple), x1 = wasm_v128_load(triple + 16), x2 = wasm_v128_load(triple + 32);
  const v128_t six = wasm_i8x16_splat(0x3F);
  codes[0] = wasm_v128_and(x0, six);
  codes[1] = wasm_v128_and(x1, six);
  codes[2] = wasm_v128_and(x2, six);
  if constexpr (kQ6Xor) {  // relaxed-SIMD builds' form (k_panel.h)
    codes[3] = wasm_v128_and(wasm_v128_xor(wasm_v128_xor(wasm_u16x8_shr(x0, 6), wasm_u16x8_shr(x1, 4)), wasm_u16x8_shr(x2, 2)), six);
    return;
  }
  codes[3] = wasm_v128_or(wasm_v128_or(wasm_v128_and(wasm_u16x8_shr(x0, 6), wasm_i8x16_splat(0x03)),
                                       wasm_v128_and(wasm_u16x8_shr(x1, 4), wasm_i8x16_splat(0x0C))),
                          wasm_v128_and(wasm_u16x8_shr(x2, 2), wasm_i8x16_splat(0x30)));
}

// i8x16.swizzle of v by constant indices (−128: a zero byte); V8 emits one
// pshufb for constant indices in range or with the top bit set.
inline v128_t pick_bytes(v128_t v, int8_t b0, int8_t b1, int8_t b2, int8_t b3) {
  return wasm_i8x16_swizzle(v, wasm_i8x16_make(b0, b1, b2, b3, b0 == -128 ? b0 : int8_t(b0 + 1), b1 == -128 ? b1 : int8_t(b1 + 1),
                                               b2 == -128 ? b2 : int8_t(b2 + 1), b3 == -128 ? b3 : int8_t(b3 + 1),
                                               b0 == -128 ? b0 : int8_t(b0 + 2), b1 == -128 ? b1 : int8_t(b1 + 2),
                                               b2 == -128 ? b2 : int8_t(b2 + 2), b3 == -128 ? b3 : int8_t(b3 + 2),
                                               b0 == -128 ? b0 : int8_t(b0 + 3), b1 == -128 ? b1 : int8_t(b1 + 3),
                                               b2 == -128 ? b2 : int8_t(b2 + 3), b3 == -128 ? b3 : int8_t(b3 + 3)));
}
constexpr int8_t kZeroByte = -128;

// The plain tier's unit of sub-block dots: `vectors` nibble vectors summed
// before the scale multiplies them (a whole sub-block). (The relaxed tier's
// kernels, k_superblocks_relaxed_gemv and k_superblock_q6_relaxed
// below, have loops of their own.)
template <TensorType kType>
constexpr int k_unit_vectors() {
  return kType == TensorType::Q6_K ? 2 : 4;
}

// Codes: a code vector as the dots take it (prepare(), once per vector).
struct UnitDots {
  struct Codes {
    v128_t rows01, rows23;  // the codes of rows 0, 1 and 2, 3 as int16
  };
  v128_t rows01 = wasm_i32x4_splat(0), rows23 = wasm_i32x4_splat(0);  // [r0, r0, r1, r1], [r2, r2, r3, r3]
  static Codes prepare(v128_t codes) { return {wasm_u16x8_extend_low_u8x16(codes), wasm_u16x8_extend_high_u8x16(codes)}; }
  void add(const Codes& codes, v128_t a) {
    rows01 = wasm_i32x4_add(rows01, wasm_i32x4_dot_i16x8(codes.rows01, a));
    rows23 = wasm_i32x4_add(rows23, wasm_i32x4_dot_i16x8(codes.rows23, a));
  }
  static v128_t activations(const int8_t*, const int16_t* xw, int e) { return wasm_v128_load64_splat(xw + e); }
  // sc_r as int32 in lane r.
  template <bool kSigned>
  static v128_t scale(v128_t sc) {
    if (!kSigned) return pick_bytes(sc, 0, kZeroByte, kZeroByte, kZeroByte);
    return wasm_i32x4_shr(pick_bytes(sc, kZeroByte, kZeroByte, kZeroByte, 0), 24);
  }
  v128_t scaled(v128_t scale) const {
    const v128_t dots = wasm_i32x4_add(wasm_i32x4_shuffle(rows01, rows23, 0, 2, 4, 6),
                                       wasm_i32x4_shuffle(rows01, rows23, 1, 3, 5, 7));
    return wasm_i32x4_mul(dots, scale);
  }
};

// Per activation row and 32-block, what the tiles read beside the int8
// values: dx (f32 bits); Q4_K / Q5_K dx·float(Σq) (f32 bits); Q6_K, plain
// tier, the negated sums of the two 16-halves as two int16 (low half in the
// low 16 bits). Q6_K, relaxed tier, instead per triple t, at int 2t, 32·Σq
// over the elements its words hold in bytes 0, 1 (low int16: the first
// sub-block's) and 2, 3 (high: the second's), the int16 lanes a relaxed
// dot sums them into (wrapped to 16 bits), and dx at 2t + 1 (so that a
// triple's two ints follow the previous triple's); its int8 values are
// read in the triples' order (KRows::q6_values, q6_part_element).
constexpr int kKTermInts = 4;

// Where the plain tier's k_superblock() takes a super-block's parts from:
// code vector c (0..7; lane r = row r's codes of elements 4c .. 4c+3) of
// part s as the unit dots take it, the scale of sub-block 2s + h (Q6_K)
// or s (h ignored) as UnitDots::scale gives it, and the part's term: Q4_K / Q5_K
// the four rows' minimums as f32, Q6_K the scales of sub-blocks 2s, 2s + 1
// in the high bytes of int16 lanes (·256), for its −32·Σ term.
// KPanelParts unpacks them from the panel as it goes (the GEMV).
template <TensorType kType>
struct KPanelParts {
  using Codes = UnitDots::Codes;
  static constexpr bool kQ6 = kType == TensorType::Q6_K;
  const uint8_t* panel;
  Codes code(int s, int c) const {
    const uint8_t* part = panel + k_part_offset(kType, s);
    if constexpr (kQ6) {
      v128_t codes[4];  // those of triple c / 4: the unused ones are dead code
      q6_code_vectors(part + 48 * (c / 4), codes);
      return UnitDots::prepare(codes[c % 4]);
    } else {
      const int v = c / 2;
      v128_t lo, hi;
      k_code_vectors<kType>(part + 16 * v, k_high_bits<kType>(part, v / 2), v % 2, &lo, &hi);
      return UnitDots::prepare(c % 2 ? hi : lo);
    }
  }
  const uint8_t* scale_bytes(int s) const { return panel + k_scales_offset(kType) + (kQ6 ? 8 : 4) * s; }
  v128_t scale(int s, int h) const {
    return UnitDots::scale<kQ6>(wasm_v128_load32_splat(scale_bytes(s) + (kQ6 ? 4 * h : 0)));
  }
  v128_t term(int s) const {
    if constexpr (kQ6) return pick_bytes(wasm_v128_load64_splat(scale_bytes(s)), kZeroByte, 0, kZeroByte, 4);
    return wasm_f32x4_convert_i32x4(
        pick_bytes(wasm_v128_load32_splat(panel + kKMinsOffset + 4 * s), 0, kZeroByte, kZeroByte, kZeroByte));
  }
};

// Q6_K's k_superblock(): the super-block's 16 triples (a
// part's two, sub-blocks 2s and 2s + 1) in one rolled loop, each a part's
// 32-block formula after its second triple. Rolled per part (two triples
// a step), clang loaded a whole part first and V8 spilled a third of the
// loop's ops. Plain tier only: the relaxed tier's is
// k_superblock_q6_relaxed below.
template <typename Parts>
__attribute__((always_inline)) inline v128_t k_superblock_q6(const Parts& parts, const uint8_t* panel, const int8_t* xq,
                                                             const int16_t* xw, const int32_t* terms) {
  using Dots = UnitDots;
  constexpr int kPer = 2 * k_unit_vectors<TensorType::Q6_K>();  // code vectors per unit
  v128_t acc_d = wasm_f32x4_splat(0.0f), isum = wasm_i32x4_splat(0);
#pragma clang loop unroll(disable)
  for (int j = 0; j < 2 * kKParts; ++j) {
    const int s = j >> 1, t = j & 1;  // triple t of part s: elements 16j .. 16j + 15
#pragma clang loop unroll(full)
    for (int u = 0; u < 4 / kPer; ++u) {
      Dots dots;
#pragma clang loop unroll(full)
      for (int c = u * kPer; c < (u + 1) * kPer; ++c)
        dots.add(parts.code(s, 4 * t + c), Dots::activations(xq + 16 * j, xw + 16 * j, 4 * c));
      isum = wasm_i32x4_add(isum, dots.scaled(parts.scale(s, t)));
    }
    if (t == 1) {
      // −32·(sc_2s·Σ_low + sc_2s+1·Σ_high): the scales ·256 against the
      // negated half sums, then >> 3 (exact).
      const int32_t* part_terms = terms + s * kKTermInts;
      isum = wasm_i32x4_add(isum, wasm_i32x4_shr(wasm_i32x4_dot_i16x8(parts.term(s), wasm_v128_load32_splat(part_terms + 1)), 3));
      acc_d = wasm_f32x4_add(acc_d, wasm_f32x4_mul(wasm_f32x4_convert_i32x4(isum), wasm_v128_load32_splat(part_terms)));
      isum = wasm_i32x4_splat(0);
    }
  }
  return wasm_f32x4_mul(wasm_v128_load(panel), acc_d);
}

// Where the relaxed GEMV reads a super-block of P groups (k_paired
// layout, k_panel.h): group p's header at header + p·header_apart, its
// part s at parts + s·(part bytes + part_skip) + p·part_apart.
struct KPanels {
  const uint8_t* header;
  size_t header_apart;
  const uint8_t* parts;
  size_t part_apart, part_skip;
};

// The relaxed tier's Q6_K super-block of one group, reading its whole
// panel as it goes: its GEMV, and its GEMM row by row. Per triple (8
// elements of each of the part's two sub-blocks per row,
// kQ6SubBlockPairs) one int16 sum per lane starts at the prepared 32·Σa
// over the lane's elements and takes away the four code vectors' dots, ending at Σ (32 − q)·a over
// 8 elements: within [32·−128·8, 32·127·8] = [−32768, 32512] (q ≤ 63, so
// 32 − q ≥ −31 and (−31)·(−128)·8 < 32512; int16 adds wrap, so only the
// final value must fit). Row r's two lanes are the two sub-blocks, so one
// i32x4 dot with the part's scales as stored (load8x8_s: lanes 2r, 2r + 1
// = sc of sub-blocks 2s, 2s + 1 of row r, q6_scale_byte) gives
// −Σ_h sc_h·(Σ q·a − 32·Σa) over the triple's elements per row: the
// definition's term negated, so the part's float update subtracts it
// (bitwise the same as adding the negation; acc is never −0). A triple per
// step of a rolled loop; the part's first triple's dot starts its int32
// sum. Against one sub-block per triple (scales unpacked per triple, a
// zeroed sum per part), nibble_bench's ratio to Q4_0's time, alternating
// runs (the activations' reorder per call included), load 6-11: 1024x1024
// 1.61 -> 1.52 (3 runs), 4096x4096 1.60 -> 1.54 (6 runs).
// Two groups a pass on paired panels (interleaved part by part, as Q4_K's;
// the triple's code vectors taken in turn for both groups, with an empty
// asm on the pointer after each so that V8 kept no vector on the stack in
// the step; before the sub-block pairs), ratio to Q4_0's GEMV, alternating runs, load 5-7:
// 1024x1024 1.58 -> 1.45 (3 runs), but 4096x4096 1.38 -> 1.50 (4 runs;
// from memory the unpaired GEMV moves Q4_0's GB/s already), 2048-5632
// shapes alike: so it runs one group.
// A part per step (two triples) had V8 load both triples first and spill.
// (Unpacked once per group, as the plain tier's GEMM once was, it cost 1.2 KB
// of download for no faster prompt.)
__attribute__((always_inline)) inline v128_t k_superblock_q6_relaxed(const uint8_t* panel, const int8_t* xq, const int32_t* terms) {
  constexpr TensorType kType = TensorType::Q6_K;
  const v128_t six = wasm_i8x16_splat(0x3F);
  v128_t acc = wasm_f32x4_splat(0.0f), neg = wasm_i32x4_splat(0);
  const uint8_t* qs = panel + k_header_bytes(kType);
  const uint8_t* sc = panel + k_scales_offset(kType);
#pragma clang loop unroll(disable)
  for (int j = 0; j < 2 * kKParts; ++j) {
    const v128_t a0 = wasm_v128_load32_splat(xq), a1 = wasm_v128_load32_splat(xq + 4);
    const v128_t a2 = wasm_v128_load32_splat(xq + 8), a3 = wasm_v128_load32_splat(xq + 12);
    const v128_t start = wasm_v128_load32_splat(terms);
    const v128_t x0 = wasm_v128_load(qs), x1 = wasm_v128_load(qs + 16), x2 = wasm_v128_load(qs + 32);
    const v128_t c3 = wasm_v128_and(wasm_v128_xor(wasm_v128_xor(wasm_u16x8_shr(x0, 6), wasm_u16x8_shr(x1, 4)), wasm_u16x8_shr(x2, 2)), six);
    v128_t dots = wasm_i16x8_add(relaxed_dot_i8x16_i7x16(a0, wasm_v128_and(x0, six)), relaxed_dot_i8x16_i7x16(a1, wasm_v128_and(x1, six)));
    dots = wasm_i16x8_add(dots, relaxed_dot_i8x16_i7x16(a2, wasm_v128_and(x2, six)));
    dots = wasm_i16x8_add(dots, relaxed_dot_i8x16_i7x16(a3, c3));
    const v128_t scales = wasm_i16x8_load8x8(sc);  // the part's two sub-blocks', lanes 2r, 2r + 1
    const v128_t scaled = wasm_i32x4_dot_i16x8(wasm_i16x8_sub(start, dots), scales);
    if (j & 1) {
      const v128_t dx = wasm_v128_load32_splat(terms + 1);
      acc = wasm_f32x4_sub(acc, wasm_f32x4_mul(wasm_f32x4_convert_i32x4(wasm_i32x4_add(neg, scaled)), dx));
      sc += 8;
    } else {
      neg = scaled;
    }
    qs += 48;
    xq += 16;
    terms += 2;
  }
  // (0 + d·acc, as the sum it used to be added to: −0 becomes +0, bitwise as before)
  return wasm_f32x4_add(wasm_f32x4_splat(0.0f), wasm_f32x4_mul(wasm_v128_load(panel), acc));
}

// The relaxed GEMV's Q4_K / Q5_K super-block for P groups (a pair of the
// k_paired layout, or one group read twice; `at`), added
// to y, reading the panels as they go. A part's four nibble vectors run in
// a rolled loop of one vector a step, whose pointers advance through
// opaque_pointers(), as the Q4 GEMV tiles do (q4_q8_wasmrelaxedsimd.h):
// unrolled, clang put a part's loads first and V8 spilled (unrolled with
// opaque_pointers() after each step, V8's scheduler hoisted the loads
// itself). Q4_K's eight dots of a part add up in one int16 sum per lane
// (16 products of codes ≤ 15: ≤ 30720); Q5_K's, in the relaxed Q5_0 xor
// form (kQ5Split: a mask gives the low codes, a shift, an xor with the
// plane and a mask the high ones, the plane moved right 2 bits a step),
// in two (low and high codes, 8 products of codes ≤ 31 each: ≤ 31744).
// The part's scales (load8x8 and an unpack: sc_r in both halves of lane r)
// then give sc · Σ q·a per row in one i32 dot per sum. The minimums go
// to int32 lanes by load8x8 and an extend (below). Bitwise k_superblock_q8()'s.
// GEMV time / Q4_0's, 1024x1024 (in cache), best of 8 alternating: Q5_K
// 1.98x -> 1.42x (a pair a pass, one scale dot per sum); Q4_K as before
// (1.19x, 1.23x). A part's first vector starts its sums (the loop then
// runs the other three): from zeros, V8 reloaded a zero vector from the
// stack and spilled and reloaded both pointers at every part (V8 x64: a
// part's head 15 -> 8 instructions); nibble_bench's ratio rounds,
// 1024x1024, 4 alternating runs, load 3.6-3.9: Q4_K 1.19-1.25x -> 1.15-1.20x,
// Q5_K 1.42-1.46x -> 1.33-1.37x (+95 B of the gzipped relaxed download).
// Tried and slower: one loop over a super-block's 32 vectors with the
// part's formula every fourth (V8 added a test per step), two vectors a
// step or four groups a pass (V8 spilled).
template <TensorType kType, int P>
__attribute__((always_inline)) inline void k_superblocks_relaxed_gemv(const KPanels& at, const int8_t* xq, const int32_t* terms,
                                                                      v128_t (&y)[P]) {
  const uint8_t* panel = at.header;
  const size_t apart = at.header_apart, part_apart = at.part_apart;
  constexpr bool kQ5 = kType == TensorType::Q5_K;
  static_assert(!kQ5 || kQ5Split, "the relaxed tier's Q5_K parts are in the xor form");
  const v128_t mask = wasm_i8x16_splat(kQ5 ? 0x1F : 0x0F);
  v128_t acc_d[P], acc_m[P];
#pragma clang loop unroll(full)
  for (int p = 0; p < P; ++p) acc_d[p] = acc_m[p] = wasm_f32x4_splat(0.0f);
  const uint8_t* qs = at.parts;
  const uint8_t* sc = panel + k_scales_offset(kType);
  const int32_t* t = terms;
#pragma clang loop unroll(disable)
  for (int s = 0; s < kKParts; ++s) {
    v128_t plane[P], sum_lo[P], sum_hi[P];
#pragma clang loop unroll(full)
    for (int p = 0; p < P; ++p) plane[p] = kQ5 ? wasm_v128_load(qs + p * part_apart + 64) : v128_t{};
    // One vector of each group; the part's first starts the sums (no zeros
    // to keep in a register).
    const auto step = [&](auto first) {
      const v128_t a_lo = wasm_v128_load32_splat(xq), a_hi = wasm_v128_load32_splat(xq + 4);
#pragma clang loop unroll(full)
      for (int p = 0; p < P; ++p) {
        const v128_t q = wasm_v128_load(qs + p * part_apart);
        const v128_t lo = relaxed_dot_i8x16_i7x16(a_lo, wasm_v128_and(q, mask));
        v128_t hi;
        if constexpr (kQ5) {
          hi = relaxed_dot_i8x16_i7x16(a_hi, wasm_v128_and(wasm_v128_xor(wasm_u16x8_shr(q, 3), plane[p]), mask));
          plane[p] = wasm_u16x8_shr(plane[p], 2);
        } else {
          hi = relaxed_dot_i8x16_i7x16(a_hi, wasm_v128_and(wasm_u16x8_shr(q, 4), mask));
        }
        if constexpr (decltype(first)::value) {
          sum_lo[p] = kQ5 ? lo : wasm_i16x8_add(lo, hi);
          sum_hi[p] = hi;
        } else if constexpr (kQ5) {
          sum_lo[p] = wasm_i16x8_add(sum_lo[p], lo);
          sum_hi[p] = wasm_i16x8_add(sum_hi[p], hi);
        } else {
          sum_lo[p] = wasm_i16x8_add(wasm_i16x8_add(sum_lo[p], lo), hi);
        }
      }
      qs += 16;
      xq += 8;
      opaque_pointers(qs, xq);
    };
    step(std::true_type{});
#pragma clang loop unroll(disable)
    for (int v = 1; v < 4; ++v) step(std::false_type{});
    qs += at.part_skip + (kQ5 ? 16 : 0);  // the partner's part; Q5_K's plane
    const v128_t dx = wasm_v128_load32_splat(t), dsum = wasm_v128_load32_splat(t + 1);
#pragma clang loop unroll(full)
    for (int p = 0; p < P; ++p) {
      // The part's four minimums as int32 (load8x8 also reads the next
      // part's, or the first part's codes after the last): the empty asm
      // keeps clang from fusing the extend and the convert into four
      // scalar conversions. No constant to keep in a register (the swizzle
      // before this needed one; V8 then spilled one less accumulator of
      // Q5_K's per part).
      v128_t m = wasm_u32x4_extend_low_u16x8(wasm_u16x8_load8x8(sc + p * apart + kKMinsOffset - k_scales_offset(kType)));
      __asm__("" : "+r"(m));
      acc_m[p] = wasm_f32x4_add(acc_m[p], wasm_f32x4_mul(wasm_f32x4_convert_i32x4(m), dsum));
      const v128_t bytes = wasm_u16x8_load8x8(sc + p * apart);  // this part's four scales (and the next's)
      const v128_t scale = wasm_i16x8_shuffle(bytes, bytes, 0, 0, 1, 1, 2, 2, 3, 3);
      v128_t isum = wasm_i32x4_dot_i16x8(sum_lo[p], scale);
      if constexpr (kQ5) isum = wasm_i32x4_add(isum, wasm_i32x4_dot_i16x8(sum_hi[p], scale));
      acc_d[p] = wasm_f32x4_add(acc_d[p], wasm_f32x4_mul(wasm_f32x4_convert_i32x4(isum), dx));
    }
    sc += 4;
    t += kKTermInts;
  }
#pragma clang loop unroll(full)
  for (int p = 0; p < P; ++p) {
    const v128_t result = wasm_f32x4_mul(wasm_v128_load(panel + p * apart), acc_d[p]);
    y[p] = wasm_f32x4_add(y[p], wasm_f32x4_sub(result, wasm_f32x4_mul(wasm_v128_load(panel + p * apart + kKDminOffset), acc_m[p])));
  }
}

// The four rows' k_superblock_q8() for one activation row: `parts` the
// super-block's parts (above), panel its panel (for d, dmin), xq the
// row's int8 values from the super-block on, xw (plain tier) the same as
// int16, terms its kKTermInts per 32-block. (The relaxed tier, Q6_K only,
// passes xw null.)
template <TensorType kType, bool kRelaxed, typename Parts>
__attribute__((always_inline)) inline v128_t k_superblock(const Parts& parts, const uint8_t* panel, const int8_t* xq,
                                                          const int16_t* xw, const int32_t* terms) {
  if constexpr (kRelaxed) {
    // The relaxed tier's Q6_K GEMV (and GEMM): one group a pass, on its
    // whole panels (parts unused).
    static_assert(kType == TensorType::Q6_K && !k_paired(kType), "the relaxed tier's Q4_K / Q5_K run k_q8_gemv_relaxed");
    static_assert(kType != TensorType::Q6_K || kQ6SubBlockPairs, "its triples hold two sub-blocks per row (relaxed-SIMD builds' layout)");
    return k_superblock_q6_relaxed(panel, xq, terms);
  } else if constexpr (kType == TensorType::Q6_K) {
    return k_superblock_q6(parts, panel, xq, xw, terms);
  }
  using Dots = UnitDots;
  constexpr int kPer = 2 * k_unit_vectors<kType>();  // code vectors per unit
  v128_t acc_d = wasm_f32x4_splat(0.0f), acc_m = acc_d;
#pragma clang loop unroll(disable)
  for (int s = 0; s < kKParts; ++s, xq += kQK, xw += kQK, terms += kKTermInts) {
    v128_t isum = wasm_i32x4_splat(0);
#pragma clang loop unroll(full)
    for (int u = 0; u < 8 / kPer; ++u) {
      Dots dots;
#pragma clang loop unroll(full)
      for (int c = u * kPer; c < (u + 1) * kPer; ++c) dots.add(parts.code(s, c), Dots::activations(xq, xw, 4 * c));
      isum = wasm_i32x4_add(isum, dots.scaled(parts.scale(s, u * kPer / 4)));
    }
    acc_m = wasm_f32x4_add(acc_m, wasm_f32x4_mul(parts.term(s), wasm_v128_load32_splat(terms + 1)));
    acc_d = wasm_f32x4_add(acc_d, wasm_f32x4_mul(wasm_f32x4_convert_i32x4(isum), wasm_v128_load32_splat(terms)));
  }
  const v128_t result = wasm_f32x4_mul(wasm_v128_load(panel), acc_d);
  return wasm_f32x4_sub(result, wasm_f32x4_mul(wasm_v128_load(panel + kKDminOffset), acc_m));
}

// What the tiles read per activation row of [m_begin, m_end), prepared
// once per kernel call in buffers of the calling thread: the terms
// (kKTermInts per 32-block) and, plain tier only, the int8 values as int16.
struct KRows {
  const int32_t* terms;  // [rows][K/32][kKTermInts]
  const int16_t* wide;   // [rows][K], null in the relaxed tier
  const int8_t* q6_values;  // [rows][K]: relaxed Q6_K, the int8 values in its triples' order; else null
};
// Relaxed Q6_K: triple T's activation words (q6_part_element) from a
// block's 32 values (lo: 0..15, hi: 16..31).
template <int T, size_t... I>
inline v128_t q6_triple_values(v128_t lo, v128_t hi, std::index_sequence<I...>) {
  typedef int8_t I8x16 __attribute__((vector_size(16)));
  return v128_t(__builtin_shufflevector(I8x16(lo), I8x16(hi), q6_part_element(T, int(I / 4), int(I % 4))...));
}
template <int T>
inline v128_t q6_triple_values(v128_t lo, v128_t hi) {
  return q6_triple_values<T>(lo, hi, std::make_index_sequence<16>());
}
// (One instantiation for Q4_K and Q5_K, whose terms are alike: kType is
// Q6_K or not.)
template <TensorType kType, bool kRelaxed>
KRows prepare_k_rows_of(const Q8Activations& x, const OutputTile& out) {
  const int64_t K = x.K, nb32 = K / kQK, rows = out.m_end - out.m_begin;
  constexpr bool kQ6Relaxed = kType == TensorType::Q6_K && kRelaxed;
  thread_local std::vector<int32_t> terms;
  thread_local std::vector<int16_t> wide;
  thread_local std::vector<int8_t> q6_values;
  // Grown, never shrunk (see grow() in matmul.cpp).
  if (terms.size() < size_t(rows * nb32 * kKTermInts)) terms.resize(size_t(rows * nb32 * kKTermInts));
  if (!kRelaxed && wide.size() < size_t(rows * K)) wide.resize(size_t(rows * K));
  if (kQ6Relaxed && q6_values.size() < size_t(rows * K)) q6_values.resize(size_t(rows * K));
  for (int64_t i = 0; i < rows; ++i) {
    const int64_t m = out.m_begin + i;
    for (int64_t j = 0; j < nb32; ++j) {
      int32_t* t = terms.data() + (i * nb32 + j) * kKTermInts;
      const float dx = x.d[m * nb32 + j];
      const int8_t* a = x.qs + m * K + j * kQK;
      t[0] = int32_t(f32_bits(dx));
      if (kQ6Relaxed) {
        const v128_t v0 = wasm_v128_load(a), v1 = wasm_v128_load(a + 16);
        for (int h = 0; h < 2; ++h) {  // triple h
          const v128_t words = h == 0 ? q6_triple_values<0>(v0, v1) : q6_triple_values<1>(v0, v1);
          wasm_v128_store(q6_values.data() + i * K + j * kQK + 16 * h, words);
          // Σ over bytes 0, 1 and over bytes 2, 3 of its four words (int16:
          // ≤ 8·128), then ·32 wrapped to 16 bits, in the low and high halves.
          const v128_t pairs = wasm_i16x8_extadd_pairwise_i8x16(words);
          v128_t sums = wasm_i16x8_add(pairs, wasm_i32x4_shuffle(pairs, pairs, 2, 3, 0, 1));
          sums = wasm_i16x8_add(sums, wasm_i32x4_shuffle(sums, sums, 1, 0, 3, 2));
          t[2 * h] = wasm_i32x4_extract_lane(wasm_i16x8_shl(sums, 5), 0);
          t[2 * h + 1] = int32_t(f32_bits(dx));
        }
      } else if (kType == TensorType::Q6_K) {
        int32_t low = 0;
        for (int l = 0; l < kQK / 2; ++l) low += a[l];
        const int32_t high = x.sums[m * nb32 + j] - low;  // |Σ| ≤ 16 · 128: int16
        t[1] = int32_t(uint32_t(uint16_t(-low)) | (uint32_t(uint16_t(-high)) << 16));
      } else {
        t[1] = int32_t(f32_bits(dx * float(x.sums[m * nb32 + j])));
      }
      if (!kRelaxed) {
        const v128_t v0 = wasm_v128_load(a), v1 = wasm_v128_load(a + 16);
        int16_t* o = wide.data() + i * K + j * kQK;
        wasm_v128_store(o, wasm_i16x8_extend_low_i8x16(v0));
        wasm_v128_store(o + 8, wasm_i16x8_extend_high_i8x16(v0));
        wasm_v128_store(o + 16, wasm_i16x8_extend_low_i8x16(v1));
        wasm_v128_store(o + 24, wasm_i16x8_extend_high_i8x16(v1));
      }
    }
  }
  return {terms.data(), kRelaxed ? nullptr : wide.data(), kQ6Relaxed ? q6_values.data() : nullptr};
}
template <TensorType kType, bool kRelaxed>
KRows prepare_k_rows(const Q8Activations& x, const OutputTile& out) {
  return prepare_k_rows_of<kType == TensorType::Q6_K ? TensorType::Q6_K : TensorType::Q4_K, kRelaxed>(x, out);
}

// Stores the first `cols` lanes of acc at y (a group's outputs).
inline void store_k_outputs(float* y, int cols, v128_t acc) {
  if (cols == kPackRows) {
    wasm_v128_store(y, acc);
  } else {
    float lanes[kPackRows];
    wasm_v128_store(lanes, acc);
    std::copy(lanes, lanes + cols, y);
  }
}

// Rows [m_begin, m_end) of group g against its K/256 super-blocks, one
// row at a time (its values read in order, one accumulator in a register):
// parts_of(b, panel) gives super-block b's parts.
template <TensorType kType, bool kRelaxed, typename PartsOf>
__attribute__((always_inline)) inline void k_group_rows(const PackedView& w, const Q8Activations& x,
                                                        const OutputTile& out, const KRows& prepared, int64_t g,
                                                        const PartsOf& parts_of) {
  const int64_t K = w.K, nb = K / kQK_K, nb32 = K / kQK, rows = out.m_end - out.m_begin;
  const int64_t n0 = g * kPackRows;
  const int cols = int(std::min<int64_t>(kPackRows, out.n_end - n0));
  const size_t step = size_t(k_panel_step<kType>(w, g)) * k_panel_bytes(kType);
  for (int64_t i = 0; i < rows; ++i) {
    const uint8_t* panel = k_panel<kType>(w, g, 0);
    const int8_t* xq = prepared.q6_values ? prepared.q6_values + i * K : x.qs + (out.m_begin + i) * K;
    const int16_t* xw = kRelaxed ? nullptr : prepared.wide + i * K;
    const int32_t* t = prepared.terms + i * nb32 * kKTermInts;
    v128_t acc = wasm_f32x4_splat(0.0f);
    for (int64_t b = 0; b < nb; ++b, panel += step, xq += kQK_K, t += kKParts * kKTermInts) {
      acc = wasm_f32x4_add(acc, k_superblock<kType, kRelaxed>(parts_of(b, panel), panel, xq,
                                                              kRelaxed ? nullptr : xw + b * kQK_K, t));
    }
    store_k_outputs(out.y + (out.m_begin + i) * out.ldy + n0, cols, acc);
  }
}

// The W4A8 GEMV: group by group, each super-block unpacked from its panel
// as the row reads it.
template <TensorType kType, bool kRelaxed>
void k_q8_gemv(const PackedView& w, const Q8Activations& x, const OutputTile& out) {
  const KRows prepared = prepare_k_rows<kType, kRelaxed>(x, out);
  for (int64_t g = out.n_begin / kPackRows; g * kPackRows < out.n_end; ++g) {
    k_group_rows<kType, kRelaxed>(w, x, out, prepared, g,
                                  [](int64_t, const uint8_t* panel) { return KPanelParts<kType>{panel}; });
  }
}

// The relaxed tier's Q4_K and Q5_K GEMV: each pair of full groups
// (k_paired layout, k_panel.h: a pair's panels interleaved part by part)
// in one pass, each activation load serving both
// (k_superblocks_relaxed_gemv with P = 2); another group (an odd last
// one, a partial one, one whose partner is outside the call's range) runs
// as both groups of a pair (twice the work for a rare group; a P = 1 copy
// cost download). Activation rows in turn per pair, its panels in cache:
// the tier's Q4_K and Q5_K GEMMs too.
template <TensorType kType>
void k_q8_gemv_relaxed(const PackedView& w, const Q8Activations& x, const OutputTile& out) {
  static_assert(k_paired(kType), "pairs need the paired layout");
  const int64_t K = w.K, nb = K / kQK_K, nb32 = K / kQK;
  const KRows prepared = prepare_k_rows<kType, true>(x, out);
  constexpr size_t kPanel = k_panel_bytes(kType), kHeader = k_header_bytes(kType), kPart = k_part_bytes(kType);
  for (int64_t g = out.n_begin / kPackRows; g * kPackRows < out.n_end;) {
    const int64_t n0 = g * kPackRows;
    // A pair, or group g alone read as both groups of one (its second
    // result dropped): in its pair's region (slot g % 2) or a panel alone.
    const bool pair = g % 2 == 0 && n0 + 2 * kPackRows <= std::min(out.n_end, w.N);
    const bool paired = k_panel_step<kType>(w, g) == 2;
    const size_t slot = paired ? size_t(g & 1) : 0, step = (paired ? 2 : 1) * kPanel;
    const int cols = int(std::min<int64_t>(kPackRows, out.n_end - n0));
    for (int64_t i = 0; i < out.m_end - out.m_begin; ++i) {
      const uint8_t* panel = k_panel<kType>(w, g, 0);  // its region (or panel), then the next super-block's, ...
      const int8_t* xq = x.qs + (out.m_begin + i) * K;
      const int32_t* t = prepared.terms + i * nb32 * kKTermInts;
      v128_t y[2] = {wasm_f32x4_splat(0.0f), wasm_f32x4_splat(0.0f)};
      for (int64_t b = 0; b < nb; ++b, panel += step, xq += kQK_K, t += kKParts * kKTermInts) {
        const KPanels at = paired ? KPanels{panel + slot * kHeader, pair ? kHeader : 0, panel + 2 * kHeader + slot * kPart,
                                            pair ? kPart : 0, kPart}
                                  : KPanels{panel, 0, panel + kHeader, 0, 0};
        k_superblocks_relaxed_gemv<kType, 2>(at, xq, t, y);
      }
      float* out_row = out.y + (out.m_begin + i) * out.ldy + n0;
      store_k_outputs(out_row, cols, y[0]);
      if (pair) wasm_v128_store(out_row + kPackRows, y[1]);
    }
    g += pair ? 2 : 1;
  }
}

}  // namespace wasmsimd
}  // namespace nibble

#endif  // __wasm_simd128__
