// INT4 (and wider) block formats, each declared once: a struct with the exact
// GGUF byte layout, a static_assert on its size, and one row in the traits
// table (block_traits.cpp).
//
// Nibble order inside qs[] is GGUF's: byte j holds element j in its low nibble
// and element j + 16 in its high nibble (j = 0..15).
#pragma once

#include <cstddef>
#include <cstdint>

namespace nibble {

constexpr int kQK = 32;  // weights per block for every type here

// Q4_0: w = d · (q − 8), q ∈ [0, 15]. 18 bytes / 32 weights = 4.5 bits/weight.
struct BlockQ4_0 {
  uint16_t d;            // fp16 scale
  uint8_t qs[kQK / 2];   // nibbles
};
static_assert(sizeof(BlockQ4_0) == 18, "Q4_0 block must match GGUF");

// Q4_1: w = d · q + m, q ∈ [0, 15]. 20 bytes / 32 weights = 5 bits/weight.
struct BlockQ4_1 {
  uint16_t d;            // fp16 scale
  uint16_t m;            // fp16 minimum
  uint8_t qs[kQK / 2];   // nibbles
};
static_assert(sizeof(BlockQ4_1) == 20, "Q4_1 block must match GGUF");

// Q8_0: w = d · q, q ∈ [−127, 127]. 34 bytes / 32 values = 8.5 bits/value.
// Used for activations (W4A8) and read from GGUF files.
struct BlockQ8_0 {
  uint16_t d;            // fp16 scale
  int8_t qs[kQK];
};
static_assert(sizeof(BlockQ8_0) == 34, "Q8_0 block must match GGUF");

// Tensor element types, numbered as GGUF's ggml_type.
enum class TensorType : uint32_t {
  F32 = 0,
  F16 = 1,
  Q4_0 = 2,
  Q4_1 = 3,
  Q8_0 = 8,
};

// Clipping search for a block's scale (and Q4_1's offset).
enum class ClipMode { kNone, kMse };

struct QuantizeOptions {
  ClipMode clip = ClipMode::kNone;
  // Optional per-input-column weights (length = row length K), e.g. the mean
  // squared activation seen on calibration data; null = all ones.
  const float* importance = nullptr;
};

// One row per type. Functions work on whole rows: n is a multiple of
// block_size for block types (the caller checks; see row_size()).
struct BlockTraits {
  TensorType type;
  const char* name;        // "q4_0", as GGUF tools spell it
  int block_size;          // elements per block (1 for F32/F16)
  size_t block_bytes;      // bytes per block
  bool is_quantized;
  // x[n] -> blocks. Round-to-nearest reference (llama.cpp's rules) when
  // options.clip == kNone; otherwise the clipping search. Null if the type
  // is not a quantization target.
  void (*quantize)(const float* x, void* blocks, int64_t n, const QuantizeOptions& options);
  // blocks -> y[n]
  void (*dequantize)(const void* blocks, float* y, int64_t n);
};

// The table row for a type, or null for a type we do not know.
const BlockTraits* block_traits(TensorType type);
// Lookup by name ("q4_0", "Q4_0", "f32" ...), or null.
const BlockTraits* block_traits_by_name(const char* name);
// Bytes of one row of n elements; 0 if n is not a multiple of the block size.
size_t row_size(TensorType type, int64_t n);

}  // namespace nibble
