// The K-quant W4A8 kernels (Q4_K, Q5_K, Q6_K) of both SIMD tiers, on the
// K panels (packed_weights.h: rows in 32-bit lanes in every build). A code
// vector (one of a part's nibble vectors, masked to one nibble per byte, its
// high bits or'ed in) holds in lane r row r's codes of four consecutive
// elements; its dot with those four activations, per lane, is
//   relaxed: i16x8.relaxed_dot_i8x16_i7x16_s on the four int8 activations
//            broadcast (codes ≤ 63 fit the 7-bit operand), summed in int16
//            while that is exact and widened (i32x4.extadd_pairwise);
//   plain:   the codes widened to int16, i32x4.dot_i16x8_s with the four
//            activations as int16 broadcast (rows 0, 1 and 2, 3 per vector),
//            the lane pairs added at the end of a dot.
// Each row's int32 sub-block dots then go through k_superblock_q8()'s float
// formula (k_panel.h) lane by lane in the same order, so outputs are
// bitwise the reference's. One tile = one group (4 weight rows) × one
// activation row; the loops take a group's rows in turn (its panels stay in
// cache between them), and padding rows of a partial group are computed
// and not stored.
#pragma once

#ifdef __wasm_simd128__

#include <wasm_simd128.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "kernels/k_panel.h"
#include "kernels/wasmsimd_util.h"
#include "quant/fp16.h"

namespace nibble {
namespace wasmsimd {

template <bool kRelaxed>
struct CodeDots;

template <>
struct CodeDots<true> {
  v128_t sum16 = wasm_i16x8_splat(0), sum32 = wasm_i32x4_splat(0);
  // codes: lane r = row r's codes of elements e .. e+3; xq: those activations.
  void add(v128_t codes, const int8_t* xq, const int16_t*) {
    sum16 = wasm_i16x8_add(sum16, relaxed_dot_i8x16_i7x16(wasm_v128_load32_splat(xq), codes));
  }
  // Widens the int16 sums: callers flush before they could overflow.
  void flush() {
    sum32 = wasm_i32x4_add(sum32, wasm_i32x4_extadd_pairwise_i16x8(sum16));
    sum16 = wasm_i16x8_splat(0);
  }
  // The rows' dots since the last take(), as i32x4.
  v128_t take() {
    const v128_t dots = wasm_i32x4_add(sum32, wasm_i32x4_extadd_pairwise_i16x8(sum16));
    sum16 = wasm_i16x8_splat(0);
    sum32 = wasm_i32x4_splat(0);
    return dots;
  }
};

template <>
struct CodeDots<false> {
  v128_t rows01 = wasm_i32x4_splat(0), rows23 = wasm_i32x4_splat(0);  // [r0, r0, r1, r1], [r2, r2, r3, r3]
  void add(v128_t codes, const int8_t*, const int16_t* xw) {
    const v128_t a = wasm_v128_load64_splat(xw);
    rows01 = wasm_i32x4_add(rows01, wasm_i32x4_dot_i16x8(wasm_u16x8_extend_low_u8x16(codes), a));
    rows23 = wasm_i32x4_add(rows23, wasm_i32x4_dot_i16x8(wasm_u16x8_extend_high_u8x16(codes), a));
  }
  void flush() {}
  v128_t take() {
    const v128_t dots = wasm_i32x4_add(wasm_i32x4_shuffle(rows01, rows23, 0, 2, 4, 6),
                                       wasm_i32x4_shuffle(rows01, rows23, 1, 3, 5, 7));
    rows01 = rows23 = wasm_i32x4_splat(0);
    return dots;
  }
};

// v shifted left by `bits` (right if negative), 16-bit lanes: the callers
// keep one bit position of each byte, which never crosses bytes for |bits| ≤ 4.
inline v128_t shift_bits(v128_t v, int bits) {
  return bits >= 0 ? wasm_i16x8_shl(v, uint32_t(bits)) : wasm_u16x8_shr(v, uint32_t(-bits));
}

// Four bytes at p (one per row) as i32x4, unsigned or signed.
inline v128_t load_row_bytes_u(const uint8_t* p) {
  return wasm_u32x4_extend_low_u16x8(wasm_u16x8_extend_low_u8x16(wasm_v128_load32_zero(p)));
}
inline v128_t load_row_bytes_s(const uint8_t* p) {
  return wasm_i32x4_extend_low_i16x8(wasm_i16x8_extend_low_i8x16(wasm_v128_load32_zero(p)));
}

// A part's code vectors against 32 activations: per nibble vector v, its
// low nibbles (elements 8v .. 8v+3) and high nibbles (8v+4 .. 8v+7), with
// their high bits: Q5_K bit 2v + e of the part's vector at 64, Q6_K bits
// 2c, 2c+1 (c = 2(v % 2) + e) of vector 64 + 16(v / 2). Calls dots.take()
// after vector `split` (Q6_K: the first 16-weight half) into *first.
template <TensorType kType, bool kRelaxed>
inline v128_t k_part_dots(const uint8_t* part, const int8_t* xq, const int16_t* xw, v128_t* first) {
  CodeDots<kRelaxed> dots;
  const v128_t nibble = wasm_i8x16_splat(0x0F);
#pragma clang loop unroll(full)
  for (int v = 0; v < 4; ++v) {
    const v128_t q = wasm_v128_load(part + 16 * v);
    v128_t lo = wasm_v128_and(q, nibble), hi = wasm_v128_and(wasm_u16x8_shr(q, 4), nibble);
    if constexpr (kType == TensorType::Q5_K) {
      const v128_t h = wasm_v128_load(part + 64), bit4 = wasm_i8x16_splat(0x10);
      lo = wasm_v128_or(lo, wasm_v128_and(shift_bits(h, 4 - 2 * v), bit4));
      hi = wasm_v128_or(hi, wasm_v128_and(shift_bits(h, 3 - 2 * v), bit4));
    }
    if constexpr (kType == TensorType::Q6_K) {
      const v128_t h = wasm_v128_load(part + 64 + 16 * (v / 2)), bits45 = wasm_i8x16_splat(0x30);
      lo = wasm_v128_or(lo, wasm_v128_and(shift_bits(h, 4 - 4 * (v % 2)), bits45));
      hi = wasm_v128_or(hi, wasm_v128_and(shift_bits(h, 2 - 4 * (v % 2)), bits45));
    }
    dots.add(lo, xq + 8 * v, kRelaxed ? nullptr : xw + 8 * v);
    dots.add(hi, xq + 8 * v + 4, kRelaxed ? nullptr : xw + 8 * v + 4);
    // The int16 sums stay exact for eight dots of codes ≤ 15, four of ≤ 31, two of ≤ 63.
    if (kType == TensorType::Q6_K || (kType == TensorType::Q5_K && v % 2 == 1)) dots.flush();
    if (kType == TensorType::Q6_K && v == 1) *first = dots.take();
  }
  return dots.take();
}

// Per activation row and 32-block, what the tiles read beside the int8
// values: dx (f32 bits), then Q4_K / Q5_K dx·float(Σq) (f32 bits), Q6_K
// −32·Σq of each 16-half (int32).
constexpr int kKTermInts = 4;

// The four rows' k_superblock_q8() for one activation row: xq its int8
// values from the super-block on, xw (plain tier) the same as int16, terms
// its kKTermInts per 32-block. (The relaxed tier passes xw null.)
template <TensorType kType, bool kRelaxed>
inline v128_t k_superblock(const uint8_t* panel, const int8_t* xq, const int16_t* xw, const int32_t* terms) {
  v128_t first = wasm_i32x4_splat(0);
  if constexpr (kType == TensorType::Q6_K) {
    v128_t acc = wasm_f32x4_splat(0.0f);
#pragma clang loop unroll(disable)
    for (int s = 0; s < kKParts; ++s, xq += kQK, terms += kKTermInts) {
      const v128_t second =
          k_part_dots<kType, kRelaxed>(panel + k_part_offset(kType, s), xq, kRelaxed ? nullptr : xw + kQK * s, &first);
      const uint8_t* sc = panel + k_scales_offset(kType) + 8 * s;
      const v128_t isum = wasm_i32x4_add(
          wasm_i32x4_mul(load_row_bytes_s(sc), wasm_i32x4_add(first, wasm_v128_load32_splat(terms + 2))),
          wasm_i32x4_mul(load_row_bytes_s(sc + 4), wasm_i32x4_add(second, wasm_v128_load32_splat(terms + 3))));
      acc = wasm_f32x4_add(acc, wasm_f32x4_mul(wasm_f32x4_convert_i32x4(isum), wasm_v128_load32_splat(terms)));
    }
    return wasm_f32x4_mul(wasm_v128_load(panel), acc);
  } else {
    v128_t acc_d = wasm_f32x4_splat(0.0f), acc_m = acc_d;
#pragma clang loop unroll(disable)
    for (int s = 0; s < kKParts; ++s, xq += kQK, terms += kKTermInts) {
      const v128_t dots =
          k_part_dots<kType, kRelaxed>(panel + k_part_offset(kType, s), xq, kRelaxed ? nullptr : xw + kQK * s, &first);
      const v128_t scaled = wasm_i32x4_mul(dots, load_row_bytes_u(panel + k_scales_offset(kType) + 4 * s));
      acc_d = wasm_f32x4_add(acc_d, wasm_f32x4_mul(wasm_f32x4_convert_i32x4(scaled), wasm_v128_load32_splat(terms)));
      const v128_t mins = wasm_f32x4_convert_i32x4(load_row_bytes_u(panel + kKMinsOffset + 4 * s));
      acc_m = wasm_f32x4_add(acc_m, wasm_f32x4_mul(mins, wasm_v128_load32_splat(terms + 1)));
    }
    return wasm_f32x4_sub(wasm_f32x4_mul(wasm_v128_load(panel), acc_d),
                          wasm_f32x4_mul(wasm_v128_load(panel + kKDminOffset), acc_m));
  }
}

// Y tile of W4A8 for rows [m_begin, m_end): prepares each row's terms (and
// the plain tier's int16 activations) once per call, then runs group by
// group, each group's rows in turn.
template <TensorType kType, bool kRelaxed>
void k_q8_tiles(const PackedView& w, const Q8Activations& x, const OutputTile& out) {
  const int64_t K = w.K, nb = K / kQK_K, nb32 = K / kQK, rows = out.m_end - out.m_begin;
  thread_local std::vector<int32_t> terms;  // [rows][nb32][kKTermInts]
  thread_local std::vector<int16_t> wide;   // [rows][K], plain tier only
  terms.resize(size_t(rows * nb32 * kKTermInts));
  if (!kRelaxed) wide.resize(size_t(rows * K));
  for (int64_t i = 0; i < rows; ++i) {
    const int64_t m = out.m_begin + i;
    for (int64_t j = 0; j < nb32; ++j) {
      int32_t* t = terms.data() + (i * nb32 + j) * kKTermInts;
      const float dx = x.d[m * nb32 + j];
      const int8_t* a = x.qs + m * K + j * kQK;
      t[0] = int32_t(f32_bits(dx));
      t[1] = int32_t(f32_bits(dx * float(x.sums[m * nb32 + j])));
      if (kType == TensorType::Q6_K) {
        int32_t low = 0;
        for (int l = 0; l < kQK / 2; ++l) low += a[l];
        t[2] = -32 * low;
        t[3] = -32 * (x.sums[m * nb32 + j] - low);
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
  for (int64_t g = out.n_begin / kPackRows; g * kPackRows < out.n_end; ++g) {
    const int64_t n0 = g * kPackRows;
    const int cols = int(std::min<int64_t>(kPackRows, out.n_end - n0));
    for (int64_t i = 0; i < rows; ++i) {
      const uint8_t* panel = k_panel<kType>(w, g, 0);
      const int8_t* xq = x.qs + (out.m_begin + i) * K;
      const int16_t* xw = kRelaxed ? nullptr : wide.data() + i * K;
      const int32_t* t = terms.data() + i * nb32 * kKTermInts;
      v128_t acc = wasm_f32x4_splat(0.0f);
      for (int64_t b = 0; b < nb; ++b, panel += k_panel_bytes(kType), xq += kQK_K, t += kKParts * kKTermInts) {
        acc = wasm_f32x4_add(acc, k_superblock<kType, kRelaxed>(panel, xq, kRelaxed ? nullptr : xw + b * kQK_K, t));
      }
      float* y = out.y + (out.m_begin + i) * out.ldy + n0;
      if (cols == kPackRows) {
        wasm_v128_store(y, acc);
      } else {
        float lanes[kPackRows];
        wasm_v128_store(lanes, acc);
        std::copy(lanes, lanes + cols, y);
      }
    }
  }
}

}  // namespace wasmsimd
}  // namespace nibble

#endif  // __wasm_simd128__
