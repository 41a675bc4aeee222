// Access to the packed Q4 panels described in packed_weights.h, shared by the
// packed kernel tiers.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "kernels/microkernels.h"
#include "kernels/packed_weights.h"

namespace nibble {

// Where nibble (row r, element k) of a block lives among a panel's 64 qs
// bytes: byte index and bit shift (0 or 4). Two layouts (packed_weights.h):
struct NibbleSlot {
  int byte;
  int shift;
};
// Rows rotated across the nibbles (read by the wasmsimd tier): pair k / 2 =
// 4·vec + i sits in 32-bit lane i of vector vec, in nibble s with
// (i + s) % 4 = r.
constexpr NibbleSlot rotated_nibble_slot(int r, int k) {
  const int pair = k / 2, vec = pair / 4, i = pair % 4, s = (r - i + kPackRows) % kPackRows, lane = 2 * i + k % 2;
  return {16 * vec + 2 * lane + s / 2, 4 * (s % 2)};
}
// Rows in lanes (read by the wasmrelaxedsimd tier): 32-bit lane r of vector
// k / 8 holds row r's elements 8·vec .. 8·vec + 7, byte j (0..3) of the lane
// elements 8·vec + j (low nibble) and 8·vec + 4 + j (high nibble).
constexpr NibbleSlot lanes_nibble_slot(int r, int k) {
  const int vec = k / 8, j = k % 8;
  return {16 * vec + 4 * r + j % 4, 4 * (j / 4)};
}
// The layout of this build, the one its SIMD tier reads: rows in lanes in
// relaxed-SIMD builds (the only builds with the wasmrelaxedsimd tier), else
// rotated. The one definition that pack, unpack, the scalar tier and
// dequantize_row use.
#ifdef NIBBLE_RELAXED_SIMD
constexpr bool kRowsInLanes = true;
#else
constexpr bool kRowsInLanes = false;
#endif
constexpr NibbleSlot q4_nibble_slot(int r, int k) { return kRowsInLanes ? lanes_nibble_slot(r, k) : rotated_nibble_slot(r, k); }

// The Q4-panel type with or without minimums and (kQ5Panels) fifth bits.
constexpr TensorType q4_type(bool has_min, bool high = false) {
  return high ? (has_min ? TensorType::Q5_1 : TensorType::Q5_0) : (has_min ? TensorType::Q4_1 : TensorType::Q4_0);
}
constexpr int q4_qs_offset(bool has_min) { return kPackRows * (has_min ? 8 : 4); }
// Q5 panels: where the plane (of the codes' other bits) starts.
constexpr int q5_high_offset(bool has_min) { return q4_qs_offset(has_min) + kPackRows * kQK / 2; }

// Where a Q5 panel keeps the 5-bit code of the value whose Q4 nibble slot
// (q4_nibble_slot) is `nibble` (every build, packed_weights.h): a qs byte B
// of vector v = B / 16 holds its low-nibble value's whole code in bits 0..4
// (one mask gives a vector of codes), and its high-nibble value's code c is
//   c = ((qs16 >> 3) ^ (plane16 >> 2v)) & 31   (16-bit lanes, byte B % 16)
// so the other vector takes a shift, an xor and a mask, and the plane one
// shift per vector (q5_code_vectors, values5). Written in two steps: the
// values one at a time in a plain split (c's low 2 bits at plane byte
// B % 16, bits 2v and 2v + 1; its top 3 bits at qs bits 5..7: q5_slot,
// write_q5_code), then the whole panel turned into the xor form
// (q5_xor_panel): its low `low_bits` bits at qs bit low.shift of byte
// low.byte, the rest (`top_bits`) at plane bit top.shift of byte top.byte.
// (Plain builds had the nibble and a plane of fifth bits: their GEMV took
// 1.27× this form's time.) Relaxed-SIMD builds keep Q5_K's parts in this
// form too (kQ5Split, k_panel.cpp).
constexpr bool kQ5Split = kRowsInLanes;
struct Q5Slot {
  NibbleSlot low;
  int low_bits;
  NibbleSlot top;
  int top_bits;
};
// (The plain split, before q5_xor_panel.)
constexpr Q5Slot q5_slot(NibbleSlot nibble) {
  if (nibble.shift == 0) return {nibble, 5, {0, 0}, 0};
  return {{nibble.byte % 16, 2 * (nibble.byte / 16)}, 2, {nibble.byte, 5}, 3};
}
// The byte of plane16 >> 2v that meets qs byte B = 16v + j.
inline int q5_plane_window(const uint8_t* plane, int B) {
  const int j = B % 16, v = B / 16;
  const int lane = plane[j & ~1] | (plane[j | 1] << 8);
  return (lane >> (2 * v + 8 * (j % 2))) & 0xFF;
}
// The code of that value, from a finished panel's qs bytes and plane; and
// writing it (or'ed into zeroed bytes; then q5_xor_panel).
inline int read_q5_code(const uint8_t* qs, const uint8_t* plane, NibbleSlot nibble) {
  if (nibble.shift != 0) return ((qs[nibble.byte] >> 3) ^ q5_plane_window(plane, nibble.byte)) & 31;
  const Q5Slot s = q5_slot(nibble);
  const int low = (qs[s.low.byte] >> s.low.shift) & ((1 << s.low_bits) - 1);
  return low | (((plane[s.top.byte] >> s.top.shift) & ((1 << s.top_bits) - 1)) << s.low_bits);
}
inline void write_q5_code(uint8_t* qs, uint8_t* plane, NibbleSlot nibble, int code) {
  const Q5Slot s = q5_slot(nibble);
  uint8_t* low = nibble.shift != 0 ? plane : qs;
  uint8_t* top = nibble.shift != 0 ? qs : plane;
  low[s.low.byte] = uint8_t(low[s.low.byte] | ((code & ((1 << s.low_bits) - 1)) << s.low.shift));
  top[s.top.byte] = uint8_t(top[s.top.byte] | ((code >> s.low_bits) << s.top.shift));
}
// A panel written value by value (write_q5_code) into the
// xor form. The plane's bit for code bit i (0, 1) of byte B becomes that bit
// xor qs bit 3 + i of B (the low value's code bits 3, 4, which the shift
// brings there); then bits 5..7 of each qs byte take the plane window's
// bits 2..4 (other bytes' bits, now final) xor'ed in.
inline void q5_xor_panel(uint8_t* qs, uint8_t* plane) {
  for (int B = 0; B < 64; ++B) plane[B % 16] = uint8_t(plane[B % 16] ^ (((qs[B] >> 3) & 3) << (2 * (B / 16))));
  for (int B = 0; B < 64; ++B) qs[B] = uint8_t(qs[B] ^ ((q5_plane_window(plane, B) << 3) & 0xE0));
}

// Number of row groups of W, and the real rows of group g.
inline int64_t q4_groups(const Q4Weights& w) { return (w.N + kPackRows - 1) / kPackRows; }
inline int q4_group_rows(const Q4Weights& w, int64_t g) {
  const int64_t left = w.N - g * kPackRows;
  return int(left < kPackRows ? left : kPackRows);
}

// Where the panels go. Plain builds: group after group, each its K/32 panels
// in order. Relaxed-SIMD builds keep groups in pairs (2p, 2p + 1) whose
// panels alternate block by block, because the wasmrelaxedsimd GEMV tile
// works on two groups at once: that way it reads one sequential stream (two
// streams a group apart defeat the hardware prefetcher: 5.7 against 19.4
// GB/s for 576×1536 from memory, Node). An odd last group stays on its own.
constexpr bool kPairedGroups = kRowsInLanes;
// Panels from one block of group g to its next: 2 inside a pair, else 1.
inline int64_t q4_panel_step(int64_t groups, int64_t g) { return kPairedGroups && (g | 1) < groups ? 2 : 1; }
// Index of panel b of group g among a matrix's panels (nb per group).
inline int64_t q4_panel_index(int64_t groups, int64_t nb, int64_t g, int64_t b) {
  return q4_panel_step(groups, g) == 2 ? (g & ~int64_t(1)) * nb + 2 * b + (g & 1) : g * nb + b;
}
// Panel b of group g, and the panel step of g.
template <bool kHasMin, bool kHigh = false>
const uint8_t* q4_panel(const Q4Weights& w, int64_t g, int64_t b) {
  constexpr size_t kPanel = q4_panel_bytes(q4_type(kHasMin, kHigh));  // folded here, not a table scan per block
  return w.data + size_t(q4_panel_index(q4_groups(w), w.K / kQK, g, b)) * kPanel;
}
inline int64_t q4_panel_step(const Q4Weights& w, int64_t g) { return q4_panel_step(q4_groups(w), g); }

// kI8Panels (packed_weights.h): relaxed-SIMD builds keep Q8_0's groups in
// runs of four (4q .. 4q+3; groups past the last whole run, a shorter run),
// because their relaxed GEMV runs four groups at once: a run's region for
// block b holds its groups' scales (16 bytes each, slot p at 16p), then
// part s (qs bytes 32s .. 32s+31) of each group in slot order, s = 0..3,
// so that the GEMV, reading part s of every group at step s, reads one
// sequential stream (as four streams a group apart, the 896×151936 output
// of Qwen2.5-0.5B streamed at 5.4 GB/s from memory where Q4_0 took 12;
// whole panels alternating, at 0.75× Q4_0's GB/s). Other kI8Panels: runs of
// one group, whole panels group after group.
constexpr int kI8RunGroups = 4;
constexpr int kI8PartBytes = 32;
constexpr bool i8_runs(TensorType type) { return kRowsInLanes && type == TensorType::Q8_0; }
struct I8Run {
  int64_t first;  // its first group
  int size;       // its groups
};
inline I8Run i8_run(TensorType type, int64_t groups, int64_t g) {
  if (!i8_runs(type)) return {g, 1};
  const int64_t first = g & ~int64_t(kI8RunGroups - 1);
  return {first, int(std::min<int64_t>(kI8RunGroups, groups - first))};
}
// Within a run of `size` groups: where byte o of slot p's panel lies in
// its region of a block; and where that region starts.
constexpr size_t i8_run_byte(int size, size_t o, int p) {
  constexpr size_t H = kPackRows * 4;  // the scales, d[4]
  return o < H ? size_t(p) * H + o
               : size_t(size) * H + (o - H) / kI8PartBytes * size_t(size) * kI8PartBytes + size_t(p) * kI8PartBytes +
                     (o - H) % kI8PartBytes;
}
inline size_t i8_region_offset(TensorType type, const I8Run& run, int64_t nb, int64_t b) {
  return size_t(run.first * nb + b * run.size) * q4_panel_bytes(type);
}
// Slot p's panel (panel_bytes) between its run's region of a block and a
// whole panel, piece by piece (the scales, then the 32-byte parts):
// kGather into `panel`, else back into the region.
template <bool kGather>
inline void i8_copy_panel(size_t panel_bytes, std::conditional_t<kGather, const uint8_t*, uint8_t*> region, int size,
                          int p, std::conditional_t<kGather, uint8_t*, const uint8_t*> panel) {
  for (size_t o = 0, n = kPackRows * 4; o < panel_bytes; o += n, n = kI8PartBytes) {
    if constexpr (kGather) std::memcpy(panel + o, region + i8_run_byte(size, o, p), n);
    else std::memcpy(region + i8_run_byte(size, o, p), panel + o, n);
  }
}
// Group g's panels where groups are not kept in runs: whole, block after
// block (panel b at + b · q4_panel_bytes(kType)).
template <TensorType kType>
const uint8_t* i8_group_panels(const PackedView& w, int64_t g) {
  static_assert(!i8_runs(kType), "a layout of runs: i8_panel() gathers a run's panels");
  return w.data + size_t(g * (w.K / kQK)) * q4_panel_bytes(kType);
}
// Panel b of group g whole: in place, or gathered from its run's region into
// buf (q4_panel_bytes(type) bytes).
template <TensorType kType>
const uint8_t* i8_panel(const PackedView& w, int64_t g, int64_t b, uint8_t* buf) {
  if constexpr (!i8_runs(kType)) return i8_group_panels<kType>(w, g) + size_t(b) * q4_panel_bytes(kType);
  const I8Run run = i8_run(kType, (w.N + kPackRows - 1) / kPackRows, g);
  const uint8_t* region = w.data + i8_region_offset(kType, run, w.K / kQK, b);
  if (run.size == 1) return region;
  i8_copy_panel<true>(q4_panel_bytes(kType), region, run.size, int(g - run.first), buf);
  return buf;
}
constexpr int i8_slot(int r, int k) { return 16 * (k / 4) + 4 * r + k % 4; }
// Relaxed-SIMD builds store Q8_0's values of even elements biased by 128
// (the byte xor 0x80), for their int16 GEMV (i8_q8_wasmsimd.h): the byte
// of element k is its value xor q8_byte_bias(k).
constexpr bool kQ8Biased = kRowsInLanes;
constexpr uint8_t q8_byte_bias(int k) { return kQ8Biased && k % 2 == 0 ? 0x80 : 0; }
constexpr int kI8QsOffset = kPackRows * 4;  // after d[4]

inline float load_f32(const uint8_t* p) {
  float f;
  std::memcpy(&f, p, 4);
  return f;
}

// Output sub-tile covering group g (clipped to the tile) and rows [m_begin, m_end).
inline OutputTile group_tile(const OutputTile& out, int64_t g) {
  const int64_t n_begin = g * kPackRows;
  return {out.y, out.ldy, out.m_begin, out.m_end, n_begin, std::min(out.n_end, n_begin + kPackRows)};
}

}  // namespace nibble
