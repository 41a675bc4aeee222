// PackedWeights: a weight matrix W[N,K] repacked once, at load, into the
// layout the matmul kernels read. The file layout (GGUF) stays standard:
// unpack_to_gguf() gives back the exact bytes that went into Pack().
//
// ---------------------------------------------------------------------------
// Packed layout ("4-row interleaved panels"), for Q4_0 and Q4_1
// ---------------------------------------------------------------------------
// Rows are taken in groups of kPackRows = 4: group g holds rows 4g .. 4g+r-1,
// r = min(4, N - 4g) (only the last group can have r < 4). Groups are stored
// one after the other; a full group takes K/32 panels of panel_bytes(type, 4).
// For each K-block b = 0 .. K/32-1 a group stores one panel:
//
//   float d[r]        block scales of the r rows, fp16 converted to f32 once
//   float m[r]        (Q4_1 only) block minimums, likewise
//   uint8 qs[r][16]   the r rows' nibbles, bytes exactly as in GGUF
//                     (byte j: element j in the low nibble, j+16 in the high)
//
// Q4_0 panel of 4 rows = 16 + 64 = 80 bytes, Q4_1 = 32 + 64 = 96 bytes, so
// every panel of a full group starts 16-byte aligned. The kernels stream one
// group linearly: a v128 load of a row's 16 bytes, and with 0x0F / shift by 4
// give elements 0..15 / 16..31 in order, matching a Q8_0 activation block
// loaded as two v128. Q4_0's "- 8" is not applied to the nibbles at all: the
// integer kernels compute dot(a, q) - 8·Σa with Σa (per activation block)
// computed once when activations are quantized; W4A32 subtracts 8 in int8
// before widening. Four rows per group let a kernel reduce four int32x4
// partial sums into one vector of four row sums and scale them with one
// multiply by the four row scales.
//
// F32 weights stay row-major N×K (any K), 64-byte aligned.
//
// The buffer is 64-byte aligned. Scales keep their fp16 bits exactly: the
// conversion back in unpack_to_gguf() is exact for every fp16 value,
// including subnormals, infinities and NaN payloads.
#pragma once

#include <cstddef>
#include <cstdint>

#include "quant/block_formats.h"
#include "runtime/status.h"

namespace nibble {

constexpr int kPackRows = 4;  // rows interleaved per group

// Bytes of one panel (one K-block of one group of `rows` rows).
constexpr size_t q4_panel_bytes(TensorType type, int rows) {
  return size_t(rows) * ((type == TensorType::Q4_1 ? 8 : 4) + kQK / 2);
}

class PackedWeights {
 public:
  PackedWeights() = default;
  ~PackedWeights();
  PackedWeights(PackedWeights&& other) noexcept;
  PackedWeights& operator=(PackedWeights&& other) noexcept;
  PackedWeights(const PackedWeights&) = delete;
  PackedWeights& operator=(const PackedWeights&) = delete;

  // W[N,K] from standard GGUF rows: N rows of row_size(type, K) bytes (F32:
  // N·K floats). type ∈ {F32, Q4_0, Q4_1}; block types need K % 32 == 0.
  // `bytes` must equal N · row_size(type, K). On error *out is untouched.
  static Status Pack(TensorType type, const void* data, size_t bytes, int64_t N, int64_t K,
                     PackedWeights* out);

  bool empty() const { return data_ == nullptr; }
  TensorType type() const { return type_; }
  int64_t rows() const { return N_; }
  int64_t cols() const { return K_; }
  size_t bytes() const { return bytes_; }  // memory held
  size_t gguf_bytes() const;               // size of the standard layout
  // Writes gguf_bytes() bytes: exactly the bytes given to Pack().
  void unpack_to_gguf(void* out) const;

  // Kernel access: start of the packed buffer (layout above).
  const uint8_t* data() const { return data_; }
  // Start of group g (rows 4g ..) in a Q4 buffer.
  const uint8_t* group(int64_t g) const;

 private:
  TensorType type_ = TensorType::F32;
  int64_t N_ = 0, K_ = 0;
  size_t bytes_ = 0;
  uint8_t* data_ = nullptr;  // 64-byte aligned, owned
};

}  // namespace nibble
