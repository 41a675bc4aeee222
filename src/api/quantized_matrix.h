// QuantizedMatrix: the C++ handle behind the JavaScript QuantizedMatrix.
//
// A matrix W[rows, cols] (rows = N outputs, cols = K inputs) held in an INT4
// block type, packed once for the matmul kernels. This facade has no math of
// its own: it checks its inputs, calls src/quant (quantize_matrix,
// dequantize_matrix) and src/kernels (PackedWeights, matmul), and returns
// every failure as an ApiStatus that the bindings hand to JavaScript, where
// web/ turns it into a TypeError / RangeError / Error.
//
// Buffers cross the wasm boundary as addresses (uintptr_t) in the wasm heap:
// web/ allocates them with _malloc, copies data in or out, and frees them.
// Sizes are uint32_t because wasm32 addresses are 32 bits.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "kernels/packed_weights.h"
#include "quant/block_formats.h"
#include "runtime/status.h"

namespace nibble {

// A Status as a plain value for Embind: kind is the int of ErrorKind
// (0 = ok), message says what to change.
struct ApiStatus {
  int kind = 0;
  std::string message;

  static ApiStatus From(const Status& status);
};

class QuantizedMatrix {
 public:
  // W[rows, cols] <- weights (f32, row-major), quantized to `type_name`
  // ("q4_0", "q4_1"). clip: 0 = round-to-nearest, 1 = MSE clipping search.
  // importance: 0 or the address of cols f32 values (finite, >= 0), only
  // used by the clipping search.
  ApiStatus quantize(uintptr_t weights, uint32_t rows, uint32_t cols, const std::string& type_name,
                     int clip, uintptr_t importance);
  // W[rows, cols] <- byte_length bytes of GGUF blocks of `type_name`.
  ApiStatus load_blocks(uintptr_t bytes, uint32_t byte_length, uint32_t rows, uint32_t cols,
                        const std::string& type_name);

  // out[rows · cols] f32 <- W dequantized.
  ApiStatus dequantize(uintptr_t out) const;
  // y[m, rows] = x[m, cols] · Wᵀ. precision: 0 = W4A8, 1 = W4A32, 2 = W4A4.
  ApiStatus matmul(uintptr_t x, uint32_t m, uintptr_t y, int precision) const;
  // out[byte_length()] <- the GGUF block bytes.
  ApiStatus to_bytes(uintptr_t out) const;

  bool loaded() const { return !weights_.empty(); }
  uint32_t rows() const { return uint32_t(weights_.rows()); }
  uint32_t cols() const { return uint32_t(weights_.cols()); }
  uint32_t byte_length() const { return uint32_t(weights_.gguf_bytes()); }
  double bits_per_weight() const;
  std::string type_name() const;  // "q4_0"; "" before quantize/load_blocks

 private:
  // Where blocks given to adopt_blocks came from; it words errors for each.
  enum class Source { kQuantizer, kCaller };
  // Replaces the held matrix with `blocks` (GGUF layout) once they check out.
  Status adopt_blocks(TensorType type, const void* blocks, size_t byte_length, int64_t rows,
                      int64_t cols, Source source);
  Status check_loaded() const;

  PackedWeights weights_;
};

// Bytes of the wasm heap handed out by malloc and not yet freed: the tests
// use it to show that quantize/dispose cycles leak nothing.
uint32_t heap_bytes_in_use();

}  // namespace nibble
