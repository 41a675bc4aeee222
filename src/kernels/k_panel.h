// The K-quant panels (KernelFamily::kKPanels: Q4_K, Q5_K, Q6_K; layout in
// packed_weights.h) and the one W4A8 formula of these types. The reference
// (on GGUF blocks) and the scalar tier (on panels) both unpack a row's
// super-block to KCodes and call k_superblock_q8(), the definition the SIMD
// tiers match bit for bit.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/microkernels.h"
#include "kernels/packed_weights.h"
#include "kernels/q4_panel.h"

namespace nibble {

// One row's super-block (256 weights), unpacked.
struct KCodes {
  uint8_t q[kQK_K];  // codes: Q4_K 0..15, Q5_K 0..31, Q6_K 0..63 (the weight uses q − 32)
  uint8_t sc[16];    // Q4_K / Q5_K: the 8 sub-blocks' 6-bit scales; Q6_K: the 16 int8 scales' bytes
  uint8_t m[8];      // Q4_K / Q5_K: the 8 sub-blocks' 6-bit minimums
  float d, dmin;     // the fp16 super-block scales as f32 (Q6_K: dmin 0)
};

// Panel geometry (one per 4-row group and super-block; packed_weights.h):
// a header, then eight parts of 32 weights per row.
constexpr int kKParts = kQK_K / kQK;
constexpr size_t k_header_bytes(TensorType type) { return type == TensorType::Q6_K ? 80 : 96; }
constexpr size_t k_part_bytes(TensorType type) {  // (0: not a K-quant)
  return type == TensorType::Q4_K ? 64 : type == TensorType::Q5_K ? 80 : type == TensorType::Q6_K ? 96 : 0;
}
constexpr size_t k_panel_bytes(TensorType type) { return k_header_bytes(type) + kKParts * k_part_bytes(type); }
// Header offsets: f32 d[4] at 0; Q4_K / Q5_K f32 dmin[4], u8 sc[8][4] and
// u8 m[8][4]; Q6_K i8 sc[16][4] (sub-block major, row minor; relaxed-SIMD
// builds: q6_scale_byte).
constexpr size_t kKDminOffset = 16;
constexpr size_t k_scales_offset(TensorType type) { return type == TensorType::Q6_K ? 16 : 32; }
constexpr size_t kKMinsOffset = 64;
// Q6_K's code vector 3 of a triple (packed_weights.h). Plain builds: its
// bits 2c, 2c + 1 at bits 6, 7 of vector c. Relaxed-SIMD builds (kQ6Xor)
// instead set bits 6, 7 of the three vectors so that, in 16-bit lanes,
//   code3 = ((x0 >> 6) ^ (x1 >> 4) ^ (x2 >> 2)) & 0x3F3F
// (five ops and the one mask the other three codes take; each vector's
// bits 6, 7 land on code bits of their own, so they follow from the codes:
// q6_xor_bits). A 16-bit lane holds two bytes of one row.
constexpr bool kQ6Xor = kRowsInLanes;
// The bits 6, 7 (and 14, 15) of x0, x1, x2 (16-bit lanes) whose codes
// (bits 0..5 of each byte) are c0, c1, c2 for code vector 3 = c3.
constexpr uint16_t q6_xor_fixed(uint16_t c0, uint16_t c1, uint16_t c2) {
  return uint16_t(((c0 >> 6) ^ (c1 >> 4) ^ (c2 >> 2)) & 0x3F3F);
}
constexpr uint16_t q6_xor_bits(int u, uint16_t c0, uint16_t c1, uint16_t c2, uint16_t c3) {
  const uint16_t want = uint16_t((c3 ^ q6_xor_fixed(c0, c1, c2)) & 0x3F3F);
  return uint16_t((want & (0x0303 << (2 * u))) << (6 - 2 * u));
}
// Q6_K's element order in a triple. Plain builds: lane r of code vector u
// of triple t holds row r's elements 16t + 4u .. +3 of the part (sub-block
// t of the part's two). Relaxed-SIMD builds (kQ6SubBlockPairs): its bytes 0, 1
// hold elements 8t + 2u, +1 of the part's first sub-block and bytes 2, 3
// the same of its second, so that a relaxed dot's two int16 lanes of row r
// are the two sub-blocks: one i32x4.dot_i16x8_s with the header's scales,
// stored as such pairs (q6_scale_byte), scales a triple's sums (no unpack;
// the GEMV reads its activations in this order, prepared per call).
constexpr bool kQ6SubBlockPairs = kRowsInLanes;
constexpr int q6_part_element(int t, int u, int j) {
  return kQ6SubBlockPairs ? 16 * (j / 2) + 8 * t + 2 * u + j % 2 : 16 * t + 4 * u + j;
}
// The header byte (from the scales' offset) of sub-block s's scale of row
// r: sub-block major, row minor; relaxed-SIMD builds per part, row major
// and the part's two sub-blocks minor.
constexpr int q6_scale_byte(int s, int r) { return kQ6SubBlockPairs ? 8 * (s / 2) + 2 * r + s % 2 : 4 * s + r; }
// Part p of a panel.
constexpr size_t k_part_offset(TensorType type, int p) { return k_header_bytes(type) + size_t(p) * k_part_bytes(type); }

// Where the panels go: groups one after another, each its K/256 panels in
// order; but relaxed-SIMD builds pair Q4_K's and Q5_K's groups as they pair
// the Q4 panels' (kPairedGroups, q4_panel.h), because their relaxed GEMVs
// run a pair at once: groups 2p and 2p + 1 share, super-block by
// super-block, a region of two panels' bytes, in which the two panels
// interleave part by part (k_pair_byte): both headers, then part 0 of
// each, part 1 of each, ... so that the GEMV, reading both groups' part s
// at once, reads one sequential stream. (Whole panels alternating, the two
// streams 608-848 bytes apart ran at 1.5-3.5 GB/s from memory against
// 5-7 for Q4_0 and the unpaired Q6_K: 4096x4096, Node.) An odd last group
// stays on its own, a whole panel per super-block. (Q6_K's GEMV runs one
// group a pass: paired, 1024x1024 took 0.92x the time but 4096x4096
// 1.08x, k_wasmsimd.h.)
constexpr bool k_paired(TensorType type) {
  return kPairedGroups && (type == TensorType::Q4_K || type == TensorType::Q5_K);
}
// Panels from one super-block of group g to its next (2 inside a pair,
// else 1), and the index of panel b of group g among a matrix's (inside a
// pair: the index of its region's first panel, plus g's slot g % 2).
inline int64_t k_panel_step(TensorType type, int64_t groups, int64_t g) {
  return k_paired(type) ? q4_panel_step(groups, g) : 1;
}
inline int64_t k_panel_index(TensorType type, int64_t groups, int64_t nb, int64_t g, int64_t b) {
  return k_paired(type) ? q4_panel_index(groups, nb, g, b) : g * nb + b;
}
// Inside a pair's region: where byte o of the panel in slot p (0, 1) lies.
constexpr size_t k_pair_byte(TensorType type, size_t o, int p) {
  const size_t H = k_header_bytes(type), S = k_part_bytes(type);
  return o < H ? size_t(p) * H + o : 2 * H + (o - H) / S * 2 * S + size_t(p) * S + (o - H) % S;
}
constexpr size_t kKMaxPanelBytes = 848;  // Q6_K's
static_assert(k_panel_bytes(TensorType::Q6_K) == kKMaxPanelBytes && k_panel_bytes(TensorType::Q5_K) < kKMaxPanelBytes, "");
// Panel b of group g whole (in place, or gathered from its pair's region
// into buf, kKMaxPanelBytes), and the way back (scattered into its
// region when paired; else copied).
const uint8_t* k_whole_panel(TensorType type, const uint8_t* data, int64_t groups, int64_t nb, int64_t g, int64_t b,
                             uint8_t* buf);
void k_store_panel(TensorType type, const uint8_t* panel, uint8_t* data, int64_t groups, int64_t nb, int64_t g, int64_t b);
// The start of panel b of group g (of its pair's region when paired:
// the relaxed GEMV's), and the panel step of g.
template <TensorType kType>
const uint8_t* k_panel(const PackedView& w, int64_t g, int64_t b) {
  const int64_t groups = (w.N + kPackRows - 1) / kPackRows;
  const int64_t first = k_panel_step(kType, groups, g) == 2 ? (g & ~int64_t(1)) : g;
  return w.data + size_t(k_panel_index(kType, groups, w.K / kQK_K, first, b)) * k_panel_bytes(kType);
}
template <TensorType kType>
int64_t k_panel_step(const PackedView& w, int64_t g) {
  return k_panel_step(kType, (w.N + kPackRows - 1) / kPackRows, g);
}
// Panel b of group g whole (k_whole_panel).
template <TensorType kType>
const uint8_t* k_whole_panel(const PackedView& w, int64_t g, int64_t b, uint8_t* buf) {
  return k_whole_panel(kType, w.data, (w.N + kPackRows - 1) / kPackRows, w.K / kQK_K, g, b, buf);
}

// Between a row's super-block and its place in a panel (row r of the group).
// write_k_row ors the codes in: the panel starts zeroed.
void read_k_row(TensorType type, const uint8_t* panel, int r, KCodes* out);
void write_k_row(TensorType type, const KCodes& in, int r, uint8_t* panel);
// Between a GGUF block of the type and KCodes, exactly (d, dmin keep their
// fp16 bits through fp16_from_converted).
void decode_k_block(TensorType type, const void* block, KCodes* out);
void encode_k_block(TensorType type, const KCodes& in, void* block);

// Row r's super-block of a panel as f32: the GGUF block's values, by the
// type's row dequantizer.
void dequantize_k_row(TensorType type, const uint8_t* panel, int r, float* out);

// W4A8 contribution of one super-block of one weight row, against the 256
// int8 activations xq with their eight Q8_0 scales dx and block sums sx.
// The definition, per 32-block s (sub-block s; Q6_K sub-blocks 2s, 2s + 1):
//   Q4_K, Q5_K:  acc_d += float(sc_s · Σ q·xq) · dx_s
//                acc_m += float(m_s) · (dx_s · float(sx_s))
//                result = d · acc_d − dmin · acc_m
//   Q6_K:        acc += float(Σ_{h=0,1} sc_{2s+h} · (Σ q·xq − 32·Σ xq)) · dx_s
//                (sums over the 16 weights of sub-block 2s + h, in int32)
//                result = d · acc
// acc_* start at 0 and take the blocks in order; callers add the results of
// a row's super-blocks in order to a float starting at 0.
float k_superblock_q8(TensorType type, const KCodes& w, const int8_t* xq, const float* dx, const int32_t* sx);

// Pack / unpack a whole matrix (PackedWeights): N rows of K/256 GGUF blocks
// <-> the panels. Packing expects a zeroed buffer.
void convert_k_matrix(TensorType type, uint8_t* gguf, uint8_t* packed, int64_t N, int64_t K, bool to_packed);

}  // namespace nibble
