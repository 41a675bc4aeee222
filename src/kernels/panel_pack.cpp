#include "kernels/panel_pack.h"

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <utility>

#include "kernels/k_panel.h"
#include "kernels/q4_panel.h"

namespace nibble {
namespace {

// GCC / Clang vector extensions: SIMD128 in wasm SIMD builds, SSE natively,
// plain scalar code in the no-SIMD build. 8-bit lanes and shuffles only (no
// narrowing: relaxed builds rewrite i16x8.narrow_i32x4_u, tools/patch_relaxed_simd.mjs).
typedef uint8_t U8x16 __attribute__((vector_size(16)));
typedef uint32_t U32x4 __attribute__((vector_size(16)));

// This file is compiled for size (-Oz, CMakeLists.txt), where clang calls
// even a 16-byte store or one shuffle as a function: the helpers below and
// the Q4/Q5/Q8_0 block packers are forced inline, and the loops over a
// group's rows unrolled (their arrays of rows then stay in locals), so that
// a matrix's panels are packed by straight vector code: 2.4-4.3x faster
// than without (Q5_0 .. Q6_K, relaxed build, Node), for 0.3 KB gzipped.
// Not in the no-SIMD build, where every vector op is a loop of scalar ones
// (a fallback, kept small).
#if defined(__clang__) && (defined(__wasm_simd128__) || !defined(__wasm__))
#define NIBBLE_PACK_INLINE __attribute__((always_inline)) inline
#define NIBBLE_UNROLL _Pragma("clang loop unroll(full)")
#else
#define NIBBLE_PACK_INLINE inline
#define NIBBLE_UNROLL
#endif

NIBBLE_PACK_INLINE U8x16 load16(const uint8_t* p) {
  U8x16 v;
  std::memcpy(&v, p, 16);
  return v;
}
NIBBLE_PACK_INLINE void store16(uint8_t* p, U8x16 v) { std::memcpy(p, &v, 16); }
NIBBLE_PACK_INLINE uint16_t load_u16(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return h;
}

// x >> s for s = 0, 2, 4 or 6, each a shift by a constant: a vector shift
// by a variable amount comes out lane by lane at -Oz.
NIBBLE_PACK_INLINE U8x16 shift_right(U8x16 x, int s) {
  switch (s) {
    case 0: return x;
    case 2: return x >> 2;
    case 4: return x >> 4;
    default: return x >> 6;
  }
}

// The fp16 scales at byte `at` of the four rows' blocks -> four f32 at out,
// fp16_to_fp32()'s bits in one vector (kernels_pack_test: every fp16 code).
// Returns the lanes whose scale is infinite or NaN (all ones), which the
// packers pass up: the loader's check of the scales rides on the packing.
NIBBLE_PACK_INLINE U32x4 store_scales(const uint8_t* const rows[kPackRows], size_t at, uint8_t* out) {
  typedef float F32x4 __attribute__((vector_size(16)));
  const U32x4 h = {load_u16(rows[0] + at), load_u16(rows[1] + at), load_u16(rows[2] + at), load_u16(rows[3] + at)};
  const U32x4 e = h & 0x7c00, magnitude = (h & 0x7fff) << 13;
  // Normal numbers: the exponent rebiased (+112); infinities and NaN (e = 31)
  // to 255 (+224 in all).
  const U32x4 non_finite = U32x4(e == 0x7c00);
  const U32x4 normal = magnitude + (112u << 23) + (non_finite & (112u << 23));
  // Zero and subnormals, m·2^-24: 2^-14·(1 + m/1024) − 2^-14, exact.
  const U32x4 tiny = U32x4(F32x4(magnitude | (113u << 23)) - F32x4(U32x4{} + (113u << 23)));
  const U32x4 is_tiny = U32x4(e == 0);
  const U32x4 bits = (is_tiny & tiny) | (~is_tiny & normal) | ((h & 0x8000) << 16);
  std::memcpy(out, &bits, 16);
  return non_finite;
}

// Byte i of the result is byte Map::at(i) of a:b (32 bytes), Map a
// compile-time table.
template <typename Map, size_t... I>
NIBBLE_PACK_INLINE U8x16 shuffle_bytes(U8x16 a, U8x16 b, std::index_sequence<I...>) {
  return __builtin_shufflevector(a, b, Map::at(I)...);
}
template <typename Map>
NIBBLE_PACK_INLINE U8x16 shuffle_bytes(U8x16 a, U8x16 b) {
  return shuffle_bytes<Map>(a, b, std::make_index_sequence<16>());
}

// Rows in lanes: 32-bit lane r of result u is 32-bit lane u of x[r]
// (a 4×4 transpose of words).
NIBBLE_PACK_INLINE void transpose_words(const U8x16 x[kPackRows], U8x16 out[kPackRows]) {
  const U32x4 a = U32x4(x[0]), b = U32x4(x[1]), c = U32x4(x[2]), d = U32x4(x[3]);
  const U32x4 ab_lo = __builtin_shufflevector(a, b, 0, 4, 1, 5), ab_hi = __builtin_shufflevector(a, b, 2, 6, 3, 7);
  const U32x4 cd_lo = __builtin_shufflevector(c, d, 0, 4, 1, 5), cd_hi = __builtin_shufflevector(c, d, 2, 6, 3, 7);
  out[0] = U8x16(__builtin_shufflevector(ab_lo, cd_lo, 0, 1, 4, 5));
  out[1] = U8x16(__builtin_shufflevector(ab_lo, cd_lo, 2, 3, 6, 7));
  out[2] = U8x16(__builtin_shufflevector(ab_hi, cd_hi, 0, 1, 4, 5));
  out[3] = U8x16(__builtin_shufflevector(ab_hi, cd_hi, 2, 3, 6, 7));
}

// ---------------------------------------------------------------------------
// 32 codes of each of a group's four rows -> 64 nibble bytes (+ a plane of
// fifth bits), by a slot map that keeps elements 8v .. 8v + 7 in qs vector
// v: the rotated Q4 layout of plain builds (rows in lanes take plain word
// transposes instead: pack_q4_block_lanes, pack_q4_k_block).
// ---------------------------------------------------------------------------

// c[r][h]: row r's elements 16h .. 16h + 15, one code (4 or 5 bits) a byte.
struct GroupCodes {
  U8x16 c[kPackRows][2];
};

struct RotatedSlot {  // Q4 / Q5 panels of plain builds
  static constexpr NibbleSlot at(int r, int k) { return rotated_nibble_slot(r, k); }
};
// The Q5 panels (q5_slot in q4_panel.h: the low value's code in bits 0..4,
// the high one's top 3 bits in 5..7 and its low 2 at plane bits 2v, 2v + 1;
// then q5_xor_panel).
static_assert(q5_slot(NibbleSlot{16 * 3 + 5, 4}).low.byte == 5 && q5_slot(NibbleSlot{16 * 3 + 5, 4}).low.shift == 6 &&
                  q5_slot(NibbleSlot{16 * 3 + 5, 4}).top.shift == 5 && q5_slot(NibbleSlot{16 * 3 + 5, 0}).low_bits == 5,
              "the split Q5 packing below follows q5_slot");

template <typename Slot>
constexpr bool vectors_hold_windows() {
  for (int r = 0; r < kPackRows; ++r)
    for (int k = 0; k < kQK; ++k)
      if (Slot::at(r, k).byte / 16 != k / 8) return false;
  return true;
}
static_assert(vectors_hold_windows<RotatedSlot>(),
              "the gathers below assume qs vector v holds elements 8v .. 8v + 7");

// Window V: elements 8V .. 8V + 7 of two rows, from their halves V / 2:
// the first row's in bytes 0..7, the second's in 8..15.
template <int V>
struct WindowMap {
  static constexpr int at(size_t i) { return (i < 8 ? 0 : 16) + 8 * (V % 2) + int(i % 8); }
};
// Byte x of the codes behind qs vector V's nibbles at bit `Shift`, from the
// windows of rows 0, 1 (a) and 2, 3 (b): row r's element 8V + i is byte 8r + i.
template <typename Slot, int V, int Shift>
struct GatherMap {
  static constexpr int at(size_t x) {
    for (int r = 0; r < kPackRows; ++r)
      for (int i = 0; i < 8; ++i) {
        const NibbleSlot s = Slot::at(r, 8 * V + i);
        if (s.byte == 16 * V + int(x) && s.shift == Shift) return 8 * r + i;
      }
    return 0;  // not reached: the slot map is one to one
  }
};

template <typename Slot, bool kHigh, int V>
NIBBLE_PACK_INLINE void pack_nibble_vector(const GroupCodes& g, uint8_t* qs, U8x16* plane) {
  constexpr int h = V / 2;
  const U8x16 a = shuffle_bytes<WindowMap<V>>(g.c[0][h], g.c[1][h]);
  const U8x16 b = shuffle_bytes<WindowMap<V>>(g.c[2][h], g.c[3][h]);
  const U8x16 lo = shuffle_bytes<GatherMap<Slot, V, 0>>(a, b);
  const U8x16 hi = shuffle_bytes<GatherMap<Slot, V, 4>>(a, b);
  if constexpr (kHigh) {
    store16(qs + 16 * V, lo | U8x16((hi >> 2) << 5));
    *plane |= U8x16((hi & 3) << (2 * V));
    return;
  }
  store16(qs + 16 * V, (lo & 15) | U8x16(hi << 4));
}

template <typename Slot, bool kHigh>
NIBBLE_PACK_INLINE void pack_nibbles(const GroupCodes& g, uint8_t* qs, uint8_t* plane) {
  U8x16 bits = {};
  pack_nibble_vector<Slot, kHigh, 0>(g, qs, &bits);
  pack_nibble_vector<Slot, kHigh, 1>(g, qs, &bits);
  pack_nibble_vector<Slot, kHigh, 2>(g, qs, &bits);
  pack_nibble_vector<Slot, kHigh, 3>(g, qs, &bits);
  if constexpr (kHigh) {  // q5_xor_panel, a vector at a time
    typedef uint16_t U16x8 __attribute__((vector_size(16)));
    U8x16 q[4];
    NIBBLE_UNROLL
    for (int v = 0; v < 4; ++v) {
      q[v] = load16(qs + 16 * v);
      bits ^= U8x16((q[v] >> 3) & 3) << (2 * v);
    }
    NIBBLE_UNROLL
    for (int v = 0; v < 4; ++v) store16(qs + 16 * v, q[v] ^ (U8x16(U16x8(bits) >> (2 * v)) << 3 & 0xE0));
  }
  if constexpr (kHigh) store16(plane, bits);
}

// ---------------------------------------------------------------------------
// One K-block (super-block) of a group: rows[r] is row r's GGUF block.
// ---------------------------------------------------------------------------

// Elements 16H .. 16H + 15: byte i of the result is qh byte 2H + i / 8.
template <int H>
struct BroadcastQh {
  static constexpr int at(size_t i) { return 2 * H + int(i / 8); }
};

// Q4_0, Q5_0 (kQ4Panels, kQ5Panels; Q4_1 and Q5_1 are packed per weight
// instead: has_fast_pack). Rows-in-lanes builds (lanes_nibble_slot): in
// 32-bit lanes throughout, lane r of qs vector V takes row r's qs word
// 2(V % 2) (its codes' low nibbles) and word 2(V % 2) + 1 (the high ones),
// from nibble V / 2 of each byte; the fifth bits, qh bits 8V .. 8V + 7, are
// spread one to a byte by a multiply. One word transpose per block and no
// byte shuffles: Q4_0 and Q5_0 packed in 0.64x and 0.66x the time of the
// gathers of the rotated layout below (relaxed build, Node).
template <typename Block, bool kHigh>
NIBBLE_PACK_INLINE U32x4 pack_q4_block_lanes(const uint8_t* const rows[kPackRows], uint8_t* panel) {
  constexpr int kQs = q4_qs_offset(false), kPlane = q5_high_offset(false);
  constexpr uint32_t kLow = 0x0F0F0F0Fu, kSpread = 0x00204081u;  // x · kSpread: bit j of x to bit 8j (x < 16)
  const U32x4 non_finite = store_scales(rows, offsetof(Block, d), panel);
  U8x16 words[kPackRows], w[kPackRows];
  U32x4 qh = {};
  NIBBLE_UNROLL
  for (int r = 0; r < kPackRows; ++r) {
    words[r] = load16(rows[r] + offsetof(Block, qs));
    if constexpr (kHigh) {
      uint32_t h;
      std::memcpy(&h, rows[r] + offsetof(Block, qh), 4);
      qh[r] = h;
    }
  }
  transpose_words(words, w);
  U32x4 q[4], plane = {};
  NIBBLE_UNROLL
  for (int v = 0; v < 4; ++v) {
    const U32x4 lo = (U32x4(w[2 * (v % 2)]) >> (4 * (v / 2))) & kLow, hi = (U32x4(w[2 * (v % 2) + 1]) >> (4 * (v / 2))) & kLow;
    if constexpr (!kHigh) {
      q[v] = lo | (hi << 4);
      continue;
    }
    // The split of pack_nibble_vector: low code whole in bits 0..4, the
    // high one's bits 2..4 in 5..7 and bits 0, 1 at plane bits 2v, 2v + 1.
    const U32x4 lo5 = (((qh >> (8 * v)) & 15) * (kSpread << 4)) & 0x10101010u;
    const U32x4 hi5 = (((qh >> (8 * v + 4)) & 15) * (kSpread << 7)) & 0x80808080u;
    q[v] = lo | lo5 | ((hi << 3) & 0x60606060u) | hi5;
    plane |= (hi & 0x03030303u) << (2 * v);
  }
  if constexpr (kHigh) {  // q5_xor_panel, as in pack_nibbles
    NIBBLE_UNROLL
    for (int v = 0; v < 4; ++v) plane ^= ((q[v] >> 3) & 0x03030303u) << (2 * v);
    typedef uint16_t U16x8 __attribute__((vector_size(16)));
    NIBBLE_UNROLL
    for (int v = 0; v < 4; ++v) q[v] ^= U32x4((U16x8(plane) >> (2 * v)) << 3) & 0xE0E0E0E0u;
    store16(panel + kPlane, U8x16(plane));
  }
  NIBBLE_UNROLL
  for (int v = 0; v < 4; ++v) store16(panel + kQs + 16 * v, U8x16(q[v]));
  return non_finite;
}

// The rotated layout (plain builds): codes gathered to their slots.
template <typename Block, bool kHigh>
NIBBLE_PACK_INLINE U32x4 pack_q4_block_rotated(const uint8_t* const rows[kPackRows], uint8_t* panel) {
  constexpr U8x16 kBit = {1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128};
  constexpr int kQs = q4_qs_offset(false), kPlane = q5_high_offset(false);  // folded: -Oz would call them
  GroupCodes g;
  const U32x4 non_finite = store_scales(rows, offsetof(Block, d), panel);
  NIBBLE_UNROLL
  for (int r = 0; r < kPackRows; ++r) {
    const uint8_t* block = rows[r];
    const U8x16 qs = load16(block + offsetof(Block, qs));
    g.c[r][0] = qs & 15;
    g.c[r][1] = qs >> 4;
    if constexpr (kHigh) {  // qh: bit k of the 32-bit word is element k's fifth bit
      const U8x16 qh = load16(block + offsetof(Block, qh));  // its 4 bytes, then the block's next
      g.c[r][0] |= U8x16((shuffle_bytes<BroadcastQh<0>>(qh, qh) & kBit) != 0) & 16;
      g.c[r][1] |= U8x16((shuffle_bytes<BroadcastQh<1>>(qh, qh) & kBit) != 0) & 16;
    }
  }
  pack_nibbles<RotatedSlot, kHigh>(g, panel + kQs, panel + kPlane);
  return non_finite;
}

// What a padding row (past N) reads: a zero block; for Q8_0 one whose
// values are the bias, which pack_q8_0_block's xor turns into the zeros of
// a padding row packed per weight (no check per row and block).
alignas(16) constexpr uint8_t kZeroBlock[256] = {};
static_assert(sizeof(BlockQ6_K) <= sizeof(kZeroBlock) && sizeof(BlockQ4_K) <= sizeof(kZeroBlock), "");
struct Q8_0Padding {
  alignas(16) uint8_t bytes[sizeof(BlockQ8_0)] = {};
  constexpr Q8_0Padding() {
    for (int k = 0; k < kQK; ++k) bytes[offsetof(BlockQ8_0, qs) + k] = q8_byte_bias(k);
  }
};
constexpr Q8_0Padding kQ8_0Padding;

// Q8_0: the four scales at `scales`; vector u of the panel (in 32-byte
// parts: qs + part_stride · (u / 2) + 16 · (u % 2), part_stride 32 for a
// whole panel) holds in lane r row r's elements 4u .. 4u + 3 (even
// elements xor q8_byte_bias).
NIBBLE_PACK_INLINE U32x4 pack_q8_0_block(const uint8_t* const rows[kPackRows], uint8_t* scales, uint8_t* qs,
                                         size_t part_stride) {
  constexpr uint8_t kB = q8_byte_bias(0);
  constexpr U8x16 kBias = {kB, 0, kB, 0, kB, 0, kB, 0, kB, 0, kB, 0, kB, 0, kB, 0};
  U8x16 x[2][kPackRows];
  const U32x4 non_finite = store_scales(rows, offsetof(BlockQ8_0, d), scales);
  NIBBLE_UNROLL
  for (int r = 0; r < kPackRows; ++r) {
    x[0][r] = load16(rows[r] + offsetof(BlockQ8_0, qs)) ^ kBias;
    x[1][r] = load16(rows[r] + offsetof(BlockQ8_0, qs) + 16) ^ kBias;
  }
  NIBBLE_UNROLL
  for (int h = 0; h < 2; ++h) {
    U8x16 out[kPackRows];
    transpose_words(x[h], out);
    NIBBLE_UNROLL
    for (int u = 0; u < kPackRows; ++u) store16(qs + part_stride * (2 * h + u / 2) + 16 * (u % 2), out[u]);
  }
  return non_finite;
}

// Q4_K: the header (d, dmin, the 6-bit scales and minimums), then per part
// p (sub-block p) the nibbles in lanes (lanes_nibble_slot): lane r of the
// part's vector V is row r's words 2V, 2V + 1 of qs chunk p / 2, nibble
// p % 2, so one word transpose per half chunk gives both parts of a chunk
// (0.17x the time of byte gathers part by part into a scratch panel copied
// to its pair's region, relaxed build, Node). Part p at parts +
// part_stride · p (k_part_bytes apart, or interleaved with the other panel
// of a pair: k_pair_byte).
U32x4 pack_q4_k_block(const uint8_t* const rows[kPackRows], uint8_t* header, uint8_t* parts, size_t part_stride) {
  using Block = BlockQ4_K;
  constexpr size_t kScales = k_scales_offset(TensorType::Q4_K);
  constexpr uint32_t kLow = 0x0F0F0F0Fu;
  const U32x4 non_finite =
      store_scales(rows, offsetof(Block, d), header) | store_scales(rows, offsetof(Block, dmin), header + kKDminOffset);
  for (int r = 0; r < kPackRows; ++r)
    for (int s = 0; s < kKParts; ++s)
      k_quant_scale_min(rows[r] + offsetof(Block, scales), s, &header[kScales + 4 * s + r], &header[kKMinsOffset + 4 * s + r]);
  for (int c = 0; c < kKParts / 2; ++c)
    NIBBLE_UNROLL
    for (int h = 0; h < 2; ++h) {
      U8x16 x[kPackRows], w[kPackRows];
      NIBBLE_UNROLL
      for (int r = 0; r < kPackRows; ++r) x[r] = load16(rows[r] + offsetof(Block, qs) + kQK * c + 16 * h);
      transpose_words(x, w);
      NIBBLE_UNROLL
      for (int i = 0; i < 2; ++i) {  // vector 2h + i of parts 2c and 2c + 1
        const U32x4 lo = U32x4(w[2 * i]), hi = U32x4(w[2 * i + 1]);
        store16(parts + part_stride * (2 * c) + 16 * (2 * h + i), U8x16((lo & kLow) | ((hi & kLow) << 4)));
        store16(parts + part_stride * (2 * c + 1) + 16 * (2 * h + i), U8x16(((lo >> 4) & kLow) | (hi & ~kLow)));
      }
    }
  return non_finite;
}

// Triple t's elements in the order its code vectors' words take them
// (q6_part_element), from a row's codes of a part's two halves.
template <int T>
struct Q6TripleMap {
  static constexpr int at(size_t i) { return q6_part_element(T, int(i / 4), int(i % 4)); }
};
// Q6_K's scales: output vector v of the header's scales holds scales
// 4v .. 4v + 3 of every row (q6_scale_byte, both layouts). Halves<H>: rows
// r, r + 1's scales 8H .. 8H + 7; Gather<W>: vector v (v % 2 = W) from the
// halves v / 2 of rows 0, 1 (a) and 2, 3 (b).
template <int H>
struct Q6ScaleHalves {
  static constexpr int at(size_t i) { return (i < 8 ? 0 : 16) + 8 * H + int(i % 8); }
};
template <int W>
struct Q6ScaleGather {
  static constexpr int at(size_t x) {
    for (int r = 0; r < kPackRows; ++r)
      for (int j = 4 * W; j < 4 * W + 4; ++j)
        if (q6_scale_byte(j, r) - 16 * W == int(x)) return 8 * r + j;
    return 0;  // not reached: every byte is one row's scale
  }
};
static_assert(q6_scale_byte(8, 3) - 32 == q6_scale_byte(0, 3) && q6_scale_byte(13, 2) - 48 == q6_scale_byte(5, 2) - 16,
              "Q6ScaleGather serves vectors 2, 3 as 0, 1");

// Q6_K: header (d, the int8 scales), then per part p two triples t, each
// the code vectors u = 0..3 (lane r: row r's elements of the part
// q6_part_element(t, u, 0..3)):
// vectors 0..2 whole in bits 0..5, vector 3's bits 2c, 2c + 1 in bits 6, 7
// of vector c (relaxed-SIMD builds: the xor form, kQ6Xor in k_panel.h).
// Part p at parts + part_stride · p, as pack_q4_k_block's.
U32x4 pack_q6_k_block(const uint8_t* const rows[kPackRows], uint8_t* header, uint8_t* parts, size_t part_stride) {
  constexpr TensorType kType = TensorType::Q6_K;
  constexpr size_t kScales = k_scales_offset(kType);
  const U32x4 non_finite = store_scales(rows, offsetof(BlockQ6_K, d), header);
  // The scales by byte shuffles (a store per byte at q6_scale_byte's
  // place took a fifth of Q6_K's packing).
  U8x16 scales[kPackRows];
  NIBBLE_UNROLL
  for (int r = 0; r < kPackRows; ++r) scales[r] = load16(rows[r] + offsetof(BlockQ6_K, scales));
  NIBBLE_UNROLL
  for (int v = 0; v < 4; ++v) {
    const U8x16 a = v < 2 ? shuffle_bytes<Q6ScaleHalves<0>>(scales[0], scales[1]) : shuffle_bytes<Q6ScaleHalves<1>>(scales[0], scales[1]);
    const U8x16 b = v < 2 ? shuffle_bytes<Q6ScaleHalves<0>>(scales[2], scales[3]) : shuffle_bytes<Q6ScaleHalves<1>>(scales[2], scales[3]);
    store16(header + kScales + 16 * v, v % 2 ? shuffle_bytes<Q6ScaleGather<1>>(a, b) : shuffle_bytes<Q6ScaleGather<0>>(a, b));
  }
  for (int p = 0; p < kKParts; ++p) {
    // Element 32p + l (l = 16t + i) of a block: low 4 bits at ql byte
    // 64(p / 4) + 32(p % 2) + l, shift 4((p % 4) / 2); top 2 bits at qh byte
    // 32(p / 4) + l, shift 2(p % 4) (q6_bits in k_panel.cpp).
    const int ql_at = 64 * (p / 4) + 32 * (p % 2), ql_shift = 4 * ((p % 4) / 2);
    const int qh_at = offsetof(BlockQ6_K, qh) + 32 * (p / 4), qh_shift = 2 * (p % 4);
    U8x16 part_codes[kPackRows][2];  // row r's codes of elements 16h .. 16h + 15 of the part
    NIBBLE_UNROLL
    for (int r = 0; r < kPackRows; ++r)
      NIBBLE_UNROLL
      for (int h = 0; h < 2; ++h) {
        const U8x16 low = shift_right(load16(rows[r] + ql_at + 16 * h), ql_shift) & 15;
        const U8x16 top = shift_right(load16(rows[r] + qh_at + 16 * h), qh_shift) & 3;
        part_codes[r][h] = low | U8x16(top << 4);
      }
    for (int t = 0; t < 2; ++t) {
      U8x16 codes[kPackRows], c[kPackRows];
      NIBBLE_UNROLL
      for (int r = 0; r < kPackRows; ++r)
        codes[r] = t == 0 ? shuffle_bytes<Q6TripleMap<0>>(part_codes[r][0], part_codes[r][1])
                          : shuffle_bytes<Q6TripleMap<1>>(part_codes[r][0], part_codes[r][1]);
      transpose_words(codes, c);
      uint8_t* triple = parts + p * part_stride + 48 * t;
      if constexpr (kQ6Xor) {  // q6_xor_bits, a vector at a time
        typedef uint16_t U16x8 __attribute__((vector_size(16)));
        const U16x8 want = (U16x8(c[3]) ^ (U16x8(c[0]) >> 6) ^ (U16x8(c[1]) >> 4) ^ (U16x8(c[2]) >> 2)) & uint16_t(0x3F3F);
        NIBBLE_UNROLL
        for (int u = 0; u < 3; ++u) {
          const uint16_t m = uint16_t(0x0303 << (2 * u));
          const U16x8 mask = {m, m, m, m, m, m, m, m};  // (GCC refuses a u16 vector & a non-constant scalar)
          store16(triple + 16 * u, c[u] | U8x16((want & mask) << (6 - 2 * u)));
        }
        continue;
      }
      NIBBLE_UNROLL
      for (int u = 0; u < 3; ++u) store16(triple + 16 * u, c[u] | U8x16((shift_right(c[3], 2 * u) & 3) << 6));
    }
  }
  return non_finite;
}

// ---------------------------------------------------------------------------
// Whole matrices: every (group, block), padding rows read as a zero block.
// ---------------------------------------------------------------------------

// Groups [first, end) (GGUF rows from row kPackRows · first on at gguf);
// place(g) says where group g's panel of block 0 lies and how far on each
// next block's lies (worked out once per group: the index functions of
// q4_panel.h and k_panel.h are calls at -Oz); pack(rows, place, panel)
// packs a block of the group from its four rows' blocks into its panel or
// region and returns store_scales()' non-finite lanes, or'ed into the
// result. Padding rows read `padding`.
struct GroupRange {
  int64_t first, end;
};
// Within a block's region of `size` groups (1, or the groups kept together:
// Q8_0's runs, Q4_K's pairs), group g is in slot `slot`.
struct GroupPlace {
  uint8_t* panel;  // block 0's panel or region
  size_t step;     // bytes to block 1's
  int slot, size;
};
using Rows = const uint8_t* const*;
template <typename Place, typename Pack>
U32x4 pack_groups(const uint8_t* gguf, int64_t N, int64_t nb, size_t block_bytes, GroupRange groups,
                  const uint8_t* padding, const Place& place, const Pack& pack) {
  U32x4 non_finite = {};
  for (int64_t g = groups.first; g < groups.end; ++g) {
    const uint8_t* rows[kPackRows];
    size_t step[kPackRows];
    NIBBLE_UNROLL
    for (int r = 0; r < kPackRows; ++r) {
      const int64_t n = g * kPackRows + r;
      rows[r] = n < N ? gguf + size_t((n - groups.first * kPackRows) * nb) * block_bytes : padding;
      step[r] = n < N ? block_bytes : 0;
    }
    const GroupPlace at = place(g);
    uint8_t* panel = at.panel;
    for (int64_t b = 0; b < nb; ++b, panel += at.step) {
      non_finite |= pack(rows, at, panel);
      NIBBLE_UNROLL
      for (int r = 0; r < kPackRows; ++r) rows[r] += step[r];
    }
  }
  return non_finite;
}

template <typename Block, bool kHigh>
U32x4 pack_q4_matrix(const uint8_t* gguf, uint8_t* packed, int64_t N, int64_t K, GroupRange range) {
  constexpr size_t kPanel = q4_panel_bytes(q4_type(false, kHigh));
  const int64_t nb = K / kQK, groups = (N + kPackRows - 1) / kPackRows;
  const auto place = [&](int64_t g) {
    return GroupPlace{packed + size_t(q4_panel_index(groups, nb, g, 0)) * kPanel, size_t(q4_panel_step(groups, g)) * kPanel,
                      0, 1};
  };
  return pack_groups(gguf, N, nb, sizeof(Block), range, kZeroBlock, place, [](Rows rows, const GroupPlace&, uint8_t* panel) {
    if constexpr (kRowsInLanes) return pack_q4_block_lanes<Block, kHigh>(rows, panel);
    else return pack_q4_block_rotated<Block, kHigh>(rows, panel);
  });
}

// Q8_0: each panel into its run's region (q4_panel.h; runs of one group:
// whole panels group after group).
U32x4 pack_q8_0_matrix(const uint8_t* gguf, uint8_t* packed, int64_t N, int64_t K, GroupRange range) {
  constexpr TensorType kType = TensorType::Q8_0;
  const int64_t nb = K / kQK, groups = (N + kPackRows - 1) / kPackRows;
  const auto place = [&](int64_t g) {
    const I8Run run = i8_run(kType, groups, g);
    return GroupPlace{packed + i8_region_offset(kType, run, nb, 0), size_t(run.size) * q4_panel_bytes(kType),
                      int(g - run.first), run.size};
  };
  return pack_groups(gguf, N, nb, sizeof(BlockQ8_0), range, kQ8_0Padding.bytes, place,
                     [](Rows rows, const GroupPlace& at, uint8_t* region) {
                       return pack_q8_0_block(rows, region + kI8QsOffset * at.slot,
                                              region + kI8QsOffset * at.size + kI8PartBytes * at.slot,
                                              size_t(at.size) * kI8PartBytes);
                     });
}

// kKPanels: groups one after another, each its nb panels; Q4_K's in
// interleaved pairs in relaxed-SIMD builds (k_paired: each panel straight
// into its pair's region, k_pair_byte).
template <TensorType kType, U32x4 (*Pack)(Rows, uint8_t*, uint8_t*, size_t)>
U32x4 pack_k_matrix(const uint8_t* gguf, uint8_t* packed, int64_t N, int64_t K, GroupRange range) {
  constexpr size_t kHeader = k_header_bytes(kType), kPart = k_part_bytes(kType), kPanel = k_panel_bytes(kType);
  const int64_t nb = K / kQK_K, groups = (N + kPackRows - 1) / kPackRows;
  const auto place = [&](int64_t g) {
    const int size = int(k_panel_step(kType, groups, g));
    const int64_t first = size == 2 ? g & ~int64_t(1) : g;
    return GroupPlace{packed + size_t(k_panel_index(kType, groups, nb, first, 0)) * kPanel, size * kPanel,
                      int(g - first), size};
  };
  return pack_groups(gguf, N, nb, tensor_type_info(kType)->block_bytes, range, kZeroBlock, place,
                     [](Rows rows, const GroupPlace& at, uint8_t* region) {
                       return Pack(rows, region + at.slot * kHeader, region + at.size * kHeader + at.slot * kPart,
                                   at.size * kPart);
                     });
}

}  // namespace

bool has_fast_pack(TensorType type) {
  switch (type) {
    // The common types only: Q4_1, Q5_1, IQ4_NL and Q5_K (rare in published
    // files) take PackedWeights' per-weight packing, slower to load, about
    // 1 KB gzipped less to download.
    case TensorType::Q4_0: case TensorType::Q5_0: case TensorType::Q8_0: case TensorType::Q4_K:
    case TensorType::Q6_K:
      return true;
    default:
      return false;
  }
}

bool pack_panels_fast(TensorType type, const uint8_t* gguf, uint8_t* packed, int64_t N, int64_t K,
                      int64_t first_group, int64_t end_group) {
  const GroupRange range{first_group, end_group};
  U32x4 non_finite = {};
  switch (type) {
    case TensorType::Q4_0: non_finite = pack_q4_matrix<BlockQ4_0, false>(gguf, packed, N, K, range); break;
    case TensorType::Q5_0: non_finite = pack_q4_matrix<BlockQ5_0, true>(gguf, packed, N, K, range); break;
    case TensorType::Q8_0: non_finite = pack_q8_0_matrix(gguf, packed, N, K, range); break;
    case TensorType::Q4_K: non_finite = pack_k_matrix<TensorType::Q4_K, pack_q4_k_block>(gguf, packed, N, K, range); break;
    case TensorType::Q6_K: non_finite = pack_k_matrix<TensorType::Q6_K, pack_q6_k_block>(gguf, packed, N, K, range); break;
    default: break;
  }
  return (non_finite[0] | non_finite[1] | non_finite[2] | non_finite[3]) == 0;
}

}  // namespace nibble
