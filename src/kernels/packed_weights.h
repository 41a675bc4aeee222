// PackedWeights: a weight matrix W[N,K] repacked once, at load, into the
// layout the matmul kernels read. The file layout (GGUF) stays standard:
// unpack_to_gguf() gives back the exact bytes that went into Pack().
//
// ---------------------------------------------------------------------------
// Packed layout ("4-row groups, row-rotated nibbles"), KernelFamily::kQ4Panels: Q4_0 and Q4_1
// ---------------------------------------------------------------------------
// Rows are taken in groups of kPackRows = 4: group g holds rows 4g .. 4g+3;
// a last group with fewer real rows is padded with zero rows (d = m = 0,
// nibbles 0) that no kernel stores. Groups follow each other, each K/32
// panels of q4_panel_bytes(type) bytes; one panel per K-block b (relaxed-SIMD
// builds interleave the panels of groups 2p and 2p + 1: q4_panel_index()):
//
//   float d[4]        the four rows' block scales, fp16 converted to f32 once
//   float m[4]        (Q4_1 only) block minimums, likewise
//   uint8 qs[64]      the four rows' 128 nibbles, arranged for the SIMD kernels:
//
// Read qs as four 16-byte vectors L = 0..3 of eight 16-bit lanes t = 0..7,
// each lane holding four nibbles s = 0..3 (bits 4s .. 4s+3); lanes 2i and
// 2i+1 form 32-bit lane i. Nibble s of lane t of vector L holds row
// (i + s) % 4, element k = 2(4L + i) + t%2, i = t/2: the rows rotate across
// the nibbles. So (vector >> 4s) & 0xF, for each s, gives the i16x8
//
//   [row s k0, k0+1, row s+1 k1, k1+1, row s+2 k2, k2+1, row s+3 k3, k3+1],
//   rows mod 4, k_i = 2(4L + i)
//
// and one i32x4.dot_i16x8_s with the activation pairs 4L .. 4L+3 as they
// lie in memory (no broadcast) adds one pair's products to each of four
// rows; the GEMV sums each s in its own accumulator and rotates three of
// them per block to put row r in lane r (q4_q8_wasmsimd.h). The W4A8 GEMM,
// which wants all four rows of one pair per vector, copies each group to
// that order once per call and reuses it for every activation tile.
//
// Relaxed-SIMD builds (NIBBLE_RELAXED_SIMD), whose kernels are the
// *__wasmrelaxedsimd tier, put the rows in lanes instead (and pair the
// groups, above):
// 32-bit lane r of vector L holds row r's elements 8L .. 8L+7, byte j of the
// lane elements 8L + j (low nibble) and 8L + 4 + j (high nibble). Masked to
// one nibble per byte, a vector meets the activations 8L.. as one
// i16x8.relaxed_dot_i8x16_i7x16_s on a broadcast 32-bit word, with every
// row already in its own lane (q4_q8_wasmrelaxedsimd.h). That tier's
// W4A32 kernels move each vector's nibbles to the rotated order first.
//
// q4_nibble_slot() in q4_panel.h is the one definition of the build's map;
// pack, unpack, the scalar tier and dequantize_row all use it.
//
// Q4_0's "- 8" is not applied to the nibbles: the integer kernels compute
// dot(a, q) - 8·Σa with Σa per activation block, computed when activations
// are quantized. Panels are 80 (Q4_0) or 96 (Q4_1) bytes, so every panel
// starts 16-byte aligned.
//
// KernelFamily::kQ5Panels (Q5_0, Q5_1): the Q4 panel (d, [m], qs) followed
// by a plane, uint8[16], with the codes split another way (q5_slot() and
// q5_xor_panel() in q4_panel.h), for cheap dots in both SIMD tiers: the
// value whose nibble would sit at qs byte B, bits 0..3 has its whole 5-bit
// code in bits 0..4 of B; the one at bits 4..7 has code
// ((qs16 >> 3) ^ (plane16 >> 2(B / 16))) & 31, read in the 16-bit lane of
// B % 16 (its bits 5..7 and the plane's bits xor'ed to make it so).
// So qs vector v & 0x1F is a code vector, and the other takes a shift of
// qs, an xor and a mask, and the plane a shift (q5_code_vectors, values5).
// Codes stay 0..31; Q5_0's "- 16" is folded into the activation block
// sums as Q4_0's "- 8" is. Panels are 96 (Q5_0) or 112 (Q5_1) bytes: 24
// and 28 bytes per 32 weights against the file's 22, 24.
//
// KernelFamily::kI8Panels (Q8_0, IQ4_NL), the same in every build (but for
// Q8_0's bias and runs below): groups of 4 rows, group after group, one
// panel per K-block b (relaxed-SIMD builds keep Q8_0's groups in runs of
// four whose panels of a block interleave in 32-byte parts: i8_run() in
// q4_panel.h):
//
//   float d[4]        the rows' scales
//   Q8_0:   int8 qs[128]   vector u (16 bytes, u = 0..7) holds in 32-bit
//                          lane r row r's elements 4u .. 4u+3 (i8_slot());
//                          relaxed-SIMD builds store even elements' values
//                          xor 0x80 (+128: q8_byte_bias() in q4_panel.h),
//                          so a 16-bit lane reads as 256·w_odd + w_even + 128
//   IQ4_NL: uint8 qs[64]   code-book indices as nibbles, rows in lanes
//                          (lanes_nibble_slot() in q4_panel.h) in every
//                          build, so the low (high) nibbles of vector v,
//                          looked up in kIQ4NLValues, are Q8_0's vector 2v
//                          (2v + 1)
//
// Panels are 144 (Q8_0) and 80 (IQ4_NL) bytes: 36 and 20 bytes per 32
// weights against the file's 34 and 18.
//
// ---------------------------------------------------------------------------
// KernelFamily::kKPanels: Q4_K, Q5_K, Q6_K (k_panel.h has the accessors)
// ---------------------------------------------------------------------------
// The same 4-row groups (zero padding rows), one panel per group and
// 256-weight super-block b, groups one after another (relaxed-SIMD builds
// pair Q4_K's and Q5_K's groups as the Q4 panels', a pair's two panels of a super-block
// interleaved part by part: k_pair_byte in k_panel.h), rows in 32-bit
// lanes in every build (both SIMD tiers read it). A panel:
//
//   float d[4]            the rows' fp16 super-block scales as f32
//   Q4_K, Q5_K:  float dmin[4];  uint8 sc[8][4], m[8][4]  the 6-bit scales
//                and minimums of sub-block s, row r at [s][r] (unpacked
//                from the 12 scale bytes)
//   Q6_K:        int8 sc[16][4]  the 16-weight sub-blocks' scales
//   Q4_K, Q5_K: 8 parts, one per 32 weights (part p: elements 32p .. 32p+31):
//     uint8 qs[64]   the low 4 bits: vector v (16 bytes) holds in 32-bit
//                    lane r row r's elements 32p + 8v + j (low nibble of
//                    byte j) and 32p + 8v + 4 + j (high nibble), as in the
//                    relaxed Q4 panels
//     Q5_K uint8 qh[16]: byte 4r + j, bit 2v + e: bit 4 of the element of
//                    vector v, nibble e (0 low, 1 high), byte j; relaxed-SIMD
//                    builds instead hold qs and qh in the relaxed Q5_0
//                    panels' xor form (q5_slot, q5_xor_panel in q4_panel.h;
//                    read_k_row / write_k_row in k_panel.cpp)
//   Q6_K instead, 8 parts of 96 bytes: two triples t of three vectors
//     (48 bytes, elements 32p + 16t .. +15 of each row). Code vector u
//     (u = 0..3: elements 32p + 16t + 4u + j of row r, as byte 4r + j of
//     a vector) is bits 0..5 of vector u for u < 3; code vector 3 is bits
//     6, 7 of the three vectors (vector c holds its bits 2c, 2c + 1). One
//     mask gives three code vectors; three shifts, masks and two ors the
//     fourth (q6_code_vectors in k_wasmsimd.h). Relaxed-SIMD builds
//     instead set bits 6, 7 so that code vector 3 is, in 16-bit lanes,
//     ((x0 >> 6) ^ (x1 >> 4) ^ (x2 >> 2)) & 0x3F3F (kQ6Xor, k_panel.h),
//     and order each triple's elements so that bytes 0, 1 of a row's word
//     are of the part's first sub-block and bytes 2, 3 of its second
//     (elements 8t + 2u, +1 of each: q6_part_element), and its header's
//     scales per part, row major (q6_scale_byte).
//
// 608, 736 and 848 bytes per 1024 weights: 4.75, 5.75 and 6.625 bits per
// weight (files: 4.5, 5.5, 6.5625). Codes keep their file values (Q6_K's
// −32 is applied by the kernels); the header's f32 keep the fp16 bits.
//
// KernelFamily::kF32Rows (F32) weights stay row-major N×K (any K); a type
// whose row names no kernel family (kNone) is held in its GGUF rows as they
// are: it can be written back (nibble quantize) but matmul refuses it.
//
// The buffer is 64-byte aligned. Scales keep their fp16 bits exactly: the
// conversion back in unpack_to_gguf() is exact for every fp16 value,
// including subnormals, infinities and NaN payloads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "quant/block_formats.h"
#include "runtime/status.h"

namespace nibble {

constexpr int kPackRows = 4;  // rows interleaved per group

// Bytes of one panel (one K-block of one group) of a panel type (the
// families kQ4Panels, kQ5Panels, kI8Panels): the block's bytes for each of
// the four rows, with its fp16 scales widened to f32.
constexpr size_t q4_panel_bytes(TensorType type) {
  const TensorTypeInfo* info = tensor_type_info(type);
  return size_t(kPackRows) * (info->block_bytes + 2 * size_t(info->fp16_scales));
}

// The bytes PackedWeights::Pack() allocates for W[N,K] of `type` (K a
// multiple of the block size): what the matrix holds once loaded.
uint64_t packed_bytes(TensorType type, int64_t N, int64_t K);

// A matrix input's shift[K] (PackedWeights::input_shift): one vector for
// the matrices reading that input, owned by their model
// (LlamaWeights::input_shifts), so that a pointer compare finds them alike.
using InputShift = const std::vector<float>*;
// A matrix input's low-rank basis (PackedWeights::input_basis): r
// orthonormal directions u_k[K], row-major [r·K], in the input as the
// integer kernels see it (shifted, then rotated); shared like InputShift.
using InputBasis = const std::vector<float>*;

class PackedWeights {
 public:
  PackedWeights() = default;
  ~PackedWeights();
  PackedWeights(PackedWeights&& other) noexcept;
  PackedWeights& operator=(PackedWeights&& other) noexcept;
  PackedWeights(const PackedWeights&) = delete;
  PackedWeights& operator=(const PackedWeights&) = delete;

  // How Pack() fills the panels: kFast, whole 4-row groups at once with
  // vector shuffles (panel_pack.h), or kPerWeight, one value at a time
  // through the slot maps: the definition kFast is tested against.
  enum class Method { kFast, kPerWeight };

  // W[N,K] from standard GGUF rows: N rows of row_size(type, K) bytes (F32:
  // N·K floats). type: any row of the table (see above for those without
  // kernels); block types need K to be a multiple of the block size.
  // `bytes` must equal N · row_size(type, K). On error *out is untouched.
  // Both methods give the same bytes.
  static Status Pack(TensorType type, const void* data, size_t bytes, int64_t N, int64_t K,
                     PackedWeights* out, Method method = Method::kFast);

  // Pack() in pieces, for a matrix whose rows arrive a few at a time
  // (ModelLoader packs them as the file streams in, with no copy of the
  // whole tensor): StartPacking() checks the shape and allocates as Pack()
  // does; PackRows() then takes rows [first, first + rows) as GGUF bytes,
  // first a multiple of kPackRows and rows too unless they end the matrix;
  // once every row was given the result is Pack()'s, byte for byte. Only
  // for the types packs_in_pieces() accepts (Q4_0, Q5_0, Q8_0, Q4_K, Q6_K: has_fast_pack).
  // PackRows() returns whether every block scale of those rows is finite
  // (checked as they are packed: first_non_finite_scale() then finds the
  // block to name).
  static bool packs_in_pieces(TensorType type);
  static Status StartPacking(TensorType type, int64_t N, int64_t K, PackedWeights* out);
  bool PackRows(int64_t first, const void* data, int64_t rows);
  // While packing in pieces: the buffer's part [*size bytes at the result)
  // that PackRows() has not yet written to once rows [0, rows) are in: a
  // loader may write there (runtime/fresh_pages.h) before the next rows
  // arrive. A run of groups sharing panels (q4_panel_index, i8_panel) counts whole.
  uint8_t* unpacked_part(int64_t rows, size_t* size);

  bool empty() const { return data_ == nullptr; }
  TensorType type() const { return type_; }
  int64_t rows() const { return N_; }
  int64_t cols() const { return K_; }
  size_t bytes() const { return bytes_; }  // memory held
  size_t gguf_bytes() const;               // size of the standard layout
  // Writes gguf_bytes() bytes: exactly the bytes given to Pack().
  void unpack_to_gguf(void* out) const;

  // Kernel access: start of the packed buffer (layout above; q4_panel.h
  // has the accessors).
  const uint8_t* data() const { return data_; }

  // W4A4's rotation remedy (quant/hadamard.h): the matrix was stored as W·H,
  // so matmul() rotates its inputs per 32-block first, at every precision.
  bool rotated_input() const { return rotated_input_; }
  void set_rotated_input(bool rotated) { rotated_input_ = rotated; }
  // W4A4's shift remedy (model/activation_remedy.h): before its input is
  // rounded to integers (W4A8, W4A4), matmul() subtracts input_shift()[K]
  // from each row and adds shift_correction()[N] = W·shift to each output
  // row, so the product stays W·x while the rounded values are centred.
  // Null: no shift (f32 activations never shift). Matrices sharing an input
  // (Q/K/V, gate/up) hold one shared vector, so matmul() checks that they
  // shift it alike by pointer. set_input_shift() in kernels/matmul.h
  // computes the correction.
  const InputShift& input_shift() const { return input_shift_; }
  const std::vector<float>& shift_correction() const { return shift_correction_; }
  void set_input_shift(InputShift shift, std::vector<float> correction) {
    input_shift_ = std::move(shift);
    shift_correction_ = std::move(correction);
  }
  // W4A4's low-rank remedy (model/activation_remedy.h): before a W4A4 input
  // is rounded (after its shift and rotation), matmul() takes out each
  // row's coefficients c = U·z along the basis' r directions (z −= Uᵀc) and
  // adds basis_correction()[N·r] · c back to each output row ((W·Uᵀ)[n][k],
  // from the weights as packed), so the product stays W·z while the rounded
  // values lose their largest common directions. Null: none. Shared by
  // pointer as the shift is; set_input_basis() in kernels/matmul.h.
  const InputBasis& input_basis() const { return input_basis_; }
  const std::vector<float>& basis_correction() const { return basis_correction_; }
  void set_input_basis(InputBasis basis, std::vector<float> correction) {
    input_basis_ = basis;
    basis_correction_ = std::move(correction);
  }

 private:
  // Pack()'s checks (*gguf_bytes: the bytes of the GGUF rows) and allocation.
  static Status CheckShape(TensorType type, int64_t N, int64_t K, uint64_t* gguf_bytes);
  static Status Allocate(TensorType type, int64_t N, int64_t K, PackedWeights* result);
  void zero_tail();

  TensorType type_ = TensorType::F32;
  int64_t N_ = 0, K_ = 0;
  size_t bytes_ = 0;
  uint8_t* data_ = nullptr;  // 64-byte aligned, owned
  bool rotated_input_ = false;
  InputShift input_shift_ = nullptr;     // [K] (not owned) or null
  std::vector<float> shift_correction_;  // [N] or empty
  InputBasis input_basis_ = nullptr;     // [r·K] (not owned) or null
  std::vector<float> basis_correction_;  // [N·r] or empty
};

}  // namespace nibble
