#include "kernels/k_panel.h"

#include <algorithm>
#include <cstring>
#include <type_traits>

#include "quant/fp16.h"

namespace nibble {
namespace {

// Where element k (0..31) of row r sits in a part (packed_weights.h).
// Q4_K / Q5_K: its low 4 bits at byte `low` (shift low_shift), Q5_K's fifth
// bit at bit q5_bit of byte `high`. Q6_K: code vector u of triple t holds
// it at byte j of row r's word (q6_place); u < 3: the whole code in bits 0..5 of byte
// `low`; u = 3: its bits 2c, 2c + 1 in bits 6, 7 of byte low + 16c, c = 0..2.
// (Q6_K's (t, u, j) of element k: q6_place.)
struct KSlot {
  int low, low_shift, high, q5_bit;
};
struct Q6Place {
  int t, u, j;  // triple, code vector, byte of the row's word
};
constexpr Q6Place q6_place(int k) {  // the inverse of q6_part_element (k_panel.h)
  if (!kQ6SubBlockPairs) return {k / 16, (k % 16) / 4, k % 4};
  return {(k % 16) / 8, (k % 8) / 2, 2 * (k / 16) + k % 2};
}
static_assert([] {
  for (int k = 0; k < kQK; ++k)
    if (q6_part_element(q6_place(k).t, q6_place(k).u, q6_place(k).j) != k) return false;
  return true;
}(), "q6_place inverts q6_part_element");
constexpr KSlot k_slot(TensorType type, int r, int k) {
  const int v = k / 8, e = (k % 8) / 4, j = k % 4;
  if (type == TensorType::Q6_K) {
    const Q6Place at = q6_place(k);
    return {48 * at.t + 16 * (at.u < 3 ? at.u : 0) + 4 * r + at.j, 0, 0, 0};
  }
  return {16 * v + 4 * r + j, 4 * e, 64 + 4 * r + j, 2 * v + e};
}
constexpr bool q6_split_code(int k) { return q6_place(k).u == 3; }  // Q6_K's code vectors 3 and 7

inline float load_f32_at(const uint8_t* p, int i) {
  float f;
  std::memcpy(&f, p + 4 * i, 4);
  return f;
}
inline void store_f32_at(uint8_t* p, int i, float f) { std::memcpy(p + 4 * i, &f, 4); }
// The 16-bit lane of vector v that holds byte B.
inline uint16_t lane16(const uint8_t* v, int B) { return uint16_t(v[B & ~1] | (v[B | 1] << 8)); }

// Q4_K / Q5_K's 12 scale bytes from the 6-bit scales and minimums (the
// inverse of k_quant_scale_min, block_formats.h).
void pack_scale_min(const uint8_t* sc, const uint8_t* m, uint8_t* scales) {
  for (int s = 0; s < 4; ++s) {
    scales[s] = uint8_t(sc[s] | ((sc[s + 4] >> 4) << 6));
    scales[s + 4] = uint8_t(m[s] | ((m[s + 4] >> 4) << 6));
    scales[s + 8] = uint8_t((sc[s + 4] & 15) | ((m[s + 4] & 15) << 4));
  }
}

// Where element i (0..255) of a Q6_K block keeps its low and high bits
// (block_formats.h).
struct Q6Bits {
  int ql, ql_shift, qh, qh_shift;
};
constexpr Q6Bits q6_bits(int i) {
  const int h = i / 128, c = (i % 128) / 32, l = i % 32;
  return {64 * h + l + 32 * (c & 1), 4 * (c >> 1), 32 * h + l, 2 * c};
}

}  // namespace

void read_k_row(TensorType type, const uint8_t* panel, int r, KCodes* out) {
  out->d = load_f32_at(panel, r);
  const uint8_t* scales = panel + k_scales_offset(type);
  if (type == TensorType::Q6_K) {
    out->dmin = 0.0f;
    for (int s = 0; s < 16; ++s) out->sc[s] = scales[q6_scale_byte(s, r)];
  } else {
    out->dmin = load_f32_at(panel + kKDminOffset, r);
    for (int s = 0; s < kKParts; ++s) {
      out->sc[s] = scales[4 * s + r];
      out->m[s] = panel[kKMinsOffset + 4 * s + r];
    }
  }
  for (int p = 0; p < kKParts; ++p) {
    const uint8_t* part = panel + k_part_offset(type, p);
    for (int k = 0; k < kQK; ++k) {
      const KSlot s = k_slot(type, r, k);
      int q;
      if (type == TensorType::Q6_K) {
        if (q6_split_code(k) && kQ6Xor) {
          const uint8_t* triple = part + 48 * q6_place(k).t;
          const int B = s.low - 48 * q6_place(k).t;
          q = (q6_xor_fixed(lane16(triple, B), lane16(triple + 16, B), lane16(triple + 32, B)) >> (8 * (B % 2))) & 63;
        } else if (q6_split_code(k)) {
          q = 0;
          for (int c = 0; c < 3; ++c) q |= (part[s.low + 16 * c] >> 6) << (2 * c);
        } else {
          q = part[s.low] & 63;
        }
      } else if (type == TensorType::Q5_K && kQ5Split) {
        q = read_q5_code(part, part + 64, NibbleSlot{s.low, s.low_shift});
      } else {
        q = (part[s.low] >> s.low_shift) & 15;
        if (type == TensorType::Q5_K) q |= ((part[s.high] >> s.q5_bit) & 1) << 4;  // Q4_K parts end at byte 64
      }
      out->q[kQK * p + k] = uint8_t(q);
    }
  }
}

void write_k_row(TensorType type, const KCodes& in, int r, uint8_t* panel) {
  store_f32_at(panel, r, in.d);
  uint8_t* scales = panel + k_scales_offset(type);
  if (type == TensorType::Q6_K) {
    for (int s = 0; s < 16; ++s) scales[q6_scale_byte(s, r)] = in.sc[s];
  } else {
    store_f32_at(panel + kKDminOffset, r, in.dmin);
    for (int s = 0; s < kKParts; ++s) {
      scales[4 * s + r] = in.sc[s];
      panel[kKMinsOffset + 4 * s + r] = in.m[s];
    }
  }
  for (int p = 0; p < kKParts; ++p) {
    uint8_t* part = panel + k_part_offset(type, p);
    for (int k = 0; k < kQK; ++k) {
      const KSlot s = k_slot(type, r, k);
      const int q = in.q[kQK * p + k];
      if (type == TensorType::Q6_K) {
        if (q6_split_code(k) && kQ6Xor) continue;  // below, from the other codes
        if (q6_split_code(k)) {
          for (int c = 0; c < 3; ++c) part[s.low + 16 * c] = uint8_t(part[s.low + 16 * c] | (((q >> (2 * c)) & 3) << 6));
        } else {
          part[s.low] = uint8_t(part[s.low] | q);
        }
        continue;
      }
      if (type == TensorType::Q5_K && kQ5Split) {
        write_q5_code(part, part + 64, NibbleSlot{s.low, s.low_shift}, q);
        continue;
      }
      part[s.low] = uint8_t(part[s.low] | ((q & 15) << s.low_shift));
      if (type == TensorType::Q5_K) part[s.high] = uint8_t(part[s.high] | ((q >> 4) << s.q5_bit));
    }
    if (type == TensorType::Q5_K && kQ5Split) {
      // q5_xor_panel on row r's bytes only (its qs bytes and their plane
      // windows, plane bytes 4r .. 4r + 3, are the row's own).
      uint8_t* plane = part + 64;
      for (int v = 0; v < 4; ++v)
        for (int B = 16 * v + 4 * r; B < 16 * v + 4 * r + 4; ++B)
          plane[B % 16] = uint8_t(plane[B % 16] ^ (((part[B] >> 3) & 3) << (2 * v)));
      for (int v = 0; v < 4; ++v)
        for (int B = 16 * v + 4 * r; B < 16 * v + 4 * r + 4; ++B)
          part[B] = uint8_t(part[B] ^ ((q5_plane_window(plane, B) << 3) & 0xE0));
    }
    if (type != TensorType::Q6_K || !kQ6Xor) continue;
    // Code vector 3 of each triple as bits 6, 7 of row r's bytes (its own
    // 16-bit lanes only), from its codes and the three vectors' (kQ6Xor).
    for (int t = 0; t < 2; ++t) {
      uint8_t* triple = part + 48 * t;
      for (int B = 4 * r; B < 4 * r + 4; B += 2) {
        const uint8_t* codes = in.q + kQK * p;
        const int j = B - 4 * r;
        const uint16_t c3 = uint16_t(codes[q6_part_element(t, 3, j)] | (codes[q6_part_element(t, 3, j + 1)] << 8));
        const uint16_t c0 = lane16(triple, B), c1 = lane16(triple + 16, B), c2 = lane16(triple + 32, B);
        for (int u = 0; u < 3; ++u) {
          const uint16_t bits = q6_xor_bits(u, c0, c1, c2, c3);
          triple[16 * u + B] = uint8_t(triple[16 * u + B] | (bits & 0xFF));
          triple[16 * u + B + 1] = uint8_t(triple[16 * u + B + 1] | (bits >> 8));
        }
      }
    }
  }
}

namespace {

// Q4_K and Q5_K share d, dmin, the scales and the low nibbles' order; Q5_K
// adds qh. One template per block type (no punning between the two).
template <typename Block>
void decode_q4_5_k(const Block& b, KCodes* out) {
  out->d = fp16_to_fp32(b.d);
  out->dmin = fp16_to_fp32(b.dmin);
  for (int s = 0; s < kKParts; ++s) {
    k_quant_scale_min(b.scales, s, &out->sc[s], &out->m[s]);
    // Not auto-vectorized: clang makes this loop's int -> byte stores
    // i16x8.narrow_i32x4_u, the relaxed kernels' placeholder that
    // tools/patch_relaxed_simd.mjs rewrites in relaxed-SIMD builds.
#ifdef __clang__
#pragma clang loop vectorize(disable)
#endif
    for (int l = 0; l < kQK; ++l) {
      int q = (b.qs[kQK * (s / 2) + l] >> (4 * (s % 2))) & 15;
      if constexpr (std::is_same_v<Block, BlockQ5_K>) q |= ((b.qh[l] >> s) & 1) << 4;
      out->q[kQK * s + l] = uint8_t(q);
    }
  }
}
template <typename Block>
void encode_q4_5_k(const KCodes& in, Block* b) {
  std::memset(b, 0, sizeof(Block));
  b->d = fp16_from_converted(in.d);
  b->dmin = fp16_from_converted(in.dmin);
  pack_scale_min(in.sc, in.m, b->scales);
  for (int s = 0; s < kKParts; ++s)
    for (int l = 0; l < kQK; ++l) {
      const int q = in.q[kQK * s + l];
      b->qs[kQK * (s / 2) + l] = uint8_t(b->qs[kQK * (s / 2) + l] | ((q & 15) << (4 * (s % 2))));
      if constexpr (std::is_same_v<Block, BlockQ5_K>) b->qh[l] = uint8_t(b->qh[l] | ((q >> 4) << s));
    }
}

void decode_q6_k(const BlockQ6_K& b, KCodes* out) {
  out->d = fp16_to_fp32(b.d);
  out->dmin = 0.0f;
  std::memcpy(out->sc, b.scales, 16);
#ifdef __clang__  // as in decode_q4_5_k
#pragma clang loop vectorize(disable)
#endif
  for (int i = 0; i < kQK_K; ++i) {
    const Q6Bits at = q6_bits(i);
    out->q[i] = uint8_t(((b.ql[at.ql] >> at.ql_shift) & 15) | (((b.qh[at.qh] >> at.qh_shift) & 3) << 4));
  }
}
void encode_q6_k(const KCodes& in, BlockQ6_K* b) {
  std::memset(b, 0, sizeof *b);
  b->d = fp16_from_converted(in.d);
  std::memcpy(b->scales, in.sc, 16);
  for (int i = 0; i < kQK_K; ++i) {
    const Q6Bits at = q6_bits(i);
    b->ql[at.ql] = uint8_t(b->ql[at.ql] | ((in.q[i] & 15) << at.ql_shift));
    b->qh[at.qh] = uint8_t(b->qh[at.qh] | ((in.q[i] >> 4) << at.qh_shift));
  }
}

}  // namespace

void decode_k_block(TensorType type, const void* block, KCodes* out) {
  if (type == TensorType::Q4_K) decode_q4_5_k(*static_cast<const BlockQ4_K*>(block), out);
  else if (type == TensorType::Q5_K) decode_q4_5_k(*static_cast<const BlockQ5_K*>(block), out);
  else decode_q6_k(*static_cast<const BlockQ6_K*>(block), out);
}

void encode_k_block(TensorType type, const KCodes& in, void* block) {
  if (type == TensorType::Q4_K) encode_q4_5_k(in, static_cast<BlockQ4_K*>(block));
  else if (type == TensorType::Q5_K) encode_q4_5_k(in, static_cast<BlockQ5_K*>(block));
  else encode_q6_k(in, static_cast<BlockQ6_K*>(block));
}

void dequantize_k_row(TensorType type, const uint8_t* panel, int r, float* out) {
  alignas(8) uint8_t block[sizeof(BlockQ6_K) > sizeof(BlockQ5_K) ? sizeof(BlockQ6_K) : sizeof(BlockQ5_K)];
  KCodes codes;
  read_k_row(type, panel, r, &codes);
  encode_k_block(type, codes, block);
  block_traits(type)->dequantize(block, out, kQK_K);
}

float k_superblock_q8(TensorType type, const KCodes& w, const int8_t* xq, const float* dx, const int32_t* sx) {
  if (type == TensorType::Q6_K) {
    float acc = 0.0f;
    for (int s = 0; s < kKParts; ++s) {
      int32_t isum = 0;
      for (int h = 0; h < 2; ++h) {
        int32_t dot = 0, xsum = 0;
        for (int l = 16 * h; l < 16 * h + 16; ++l) {
          dot += int32_t(w.q[kQK * s + l]) * xq[kQK * s + l];
          xsum += xq[kQK * s + l];
        }
        isum += int32_t(int8_t(w.sc[2 * s + h])) * (dot - 32 * xsum);
      }
      acc += float(isum) * dx[s];
    }
    return w.d * acc;
  }
  float acc_d = 0.0f, acc_m = 0.0f;
  for (int s = 0; s < kKParts; ++s) {
    int32_t dot = 0;
    for (int l = 0; l < kQK; ++l) dot += int32_t(w.q[kQK * s + l]) * xq[kQK * s + l];
    acc_d += float(int32_t(w.sc[s]) * dot) * dx[s];
    acc_m += float(w.m[s]) * (dx[s] * float(sx[s]));
  }
  return w.d * acc_d - w.dmin * acc_m;
}

const uint8_t* k_whole_panel(TensorType type, const uint8_t* data, int64_t groups, int64_t nb, int64_t g, int64_t b,
                             uint8_t* buf) {
  const size_t bytes = k_panel_bytes(type);
  if (k_panel_step(type, groups, g) != 2) return data + size_t(k_panel_index(type, groups, nb, g, b)) * bytes;
  const uint8_t* region = data + size_t(k_panel_index(type, groups, nb, g & ~int64_t(1), b)) * bytes;
  const size_t H = k_header_bytes(type), S = k_part_bytes(type);
  const int p = int(g & 1);
  std::memcpy(buf, region + k_pair_byte(type, 0, p), H);
  for (int s = 0; s < kKParts; ++s) std::memcpy(buf + H + s * S, region + k_pair_byte(type, H + s * S, p), S);
  return buf;
}

void k_store_panel(TensorType type, const uint8_t* panel, uint8_t* data, int64_t groups, int64_t nb, int64_t g, int64_t b) {
  const size_t bytes = k_panel_bytes(type);
  if (k_panel_step(type, groups, g) != 2) {
    std::memcpy(data + size_t(k_panel_index(type, groups, nb, g, b)) * bytes, panel, bytes);
    return;
  }
  uint8_t* region = data + size_t(k_panel_index(type, groups, nb, g & ~int64_t(1), b)) * bytes;
  const size_t H = k_header_bytes(type), S = k_part_bytes(type);
  const int p = int(g & 1);
  std::memcpy(region + k_pair_byte(type, 0, p), panel, H);
  for (int s = 0; s < kKParts; ++s) std::memcpy(region + k_pair_byte(type, H + s * S, p), panel + H + s * S, S);
}

void convert_k_matrix(TensorType type, uint8_t* gguf, uint8_t* packed, int64_t N, int64_t K, bool to_packed) {
  const int64_t nb = K / kQK_K;
  const int64_t groups = (N + kPackRows - 1) / kPackRows;
  const size_t block_bytes = tensor_type_info(type)->block_bytes, row_bytes = size_t(nb) * block_bytes;
  KCodes codes;
  alignas(16) uint8_t panel[kKMaxPanelBytes];
  // A panel at a time (gathered from, or scattered to, its pair's region
  // once for its group's rows: k_whole_panel / k_store_panel).
  for (int64_t g = 0; g < groups; ++g) {
    const int rows = int(std::min<int64_t>(kPackRows, N - g * kPackRows));
    for (int64_t b = 0; b < nb; ++b) {
      uint8_t* first = gguf + size_t(g * kPackRows) * row_bytes + size_t(b) * block_bytes;  // row 4g's block b
      if (to_packed) {  // the rows or'ed into a zeroed panel (padding rows stay 0)
        std::memset(panel, 0, sizeof panel);
        for (int r = 0; r < rows; ++r) {
          decode_k_block(type, first + r * row_bytes, &codes);
          write_k_row(type, codes, r, panel);
        }
        k_store_panel(type, panel, packed, groups, nb, g, b);
      } else {
        const uint8_t* from = k_whole_panel(type, packed, groups, nb, g, b, panel);
        for (int r = 0; r < rows; ++r) {
          read_k_row(type, from, r, &codes);
          encode_k_block(type, codes, first + r * row_bytes);
        }
      }
    }
  }
}

}  // namespace nibble
