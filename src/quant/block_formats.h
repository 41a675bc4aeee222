// Tensor types: the block structs (exact GGUF byte layouts), the table built
// from tensor_types.def (the one list of types) and the per-type quantize /
// dequantize functions (block_traits.cpp). The table is constexpr data
// (tensor_types.cpp adds only lookups), so every layer may read a type's
// facts (geometry, name, GGUF number, kernel family) without the quantizers.
//
// Nibble order inside qs[] is GGUF's: byte j holds element j in its low nibble
// and element j + 16 in its high nibble (j = 0..15).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace nibble {

constexpr int kQK = 32;  // weights per block for every block type here

// Q4_0: w = d · (q − 8), q ∈ [0, 15]. 18 bytes / 32 weights = 4.5 bits/weight.
struct BlockQ4_0 {
  uint16_t d;            // fp16 scale
  uint8_t qs[kQK / 2];   // nibbles
};

// Q4_1: w = d · q + m, q ∈ [0, 15]. 20 bytes / 32 weights = 5 bits/weight.
struct BlockQ4_1 {
  uint16_t d;            // fp16 scale
  uint16_t m;            // fp16 minimum
  uint8_t qs[kQK / 2];   // nibbles
};
static_assert(offsetof(BlockQ4_1, d) == 0 && offsetof(BlockQ4_1, m) == 2, "Q4_1's fp16 d, m lead the block");

// Q8_0: w = d · q, q ∈ [−127, 127]. 34 bytes / 32 values = 8.5 bits/value.
// Used for activations (W4A8) and read from GGUF files.
struct BlockQ8_0 {
  uint16_t d;            // fp16 scale
  int8_t qs[kQK];
};

// Tensor element types, numbered as GGUF's ggml_type: one per table row.
enum class TensorType : uint32_t {
#define NIBBLE_TENSOR_TYPE(Id, name, ggml, ...) Id = ggml,
#include "quant/tensor_types.def"
#undef NIBBLE_TENSOR_TYPE
};

// Which family of matmul kernels runs a type (kernels/config.cpp maps each
// type to its kernels; kernels/packed_weights.h documents the layouts).
enum class KernelFamily : uint8_t {
  kNone,      // no kernels: a matrix of the type is widened to f32 on load
  kF32Rows,   // row-major f32 weights
  kQ4Panels,  // 4-row panels of 32-weight INT4 blocks (Q4_0, Q4_1)
};

// One row of the table (columns explained in tensor_types.def).
struct TensorTypeInfo {
  TensorType type;
  const char* name;         // "q4_0", as GGUF tools spell it
  int block_size;           // elements per block (1 for F32/F16)
  size_t block_bytes;       // bytes per block
  bool is_quantized;        // a block format, not plain f32/f16
  int fp16_scales;          // fp16 values leading each block
  KernelFamily kernels;
  bool quantize_target;     // quantize()'s type, loadModel's weights
  uint32_t llama_file_type; // general.file_type of a model of such matrices

  constexpr double bits_per_weight() const { return double(block_bytes) * 8.0 / double(block_size); }
  constexpr bool has_kernels() const { return kernels != KernelFamily::kNone; }
  constexpr bool can_quantize_to() const { return quantize_target; }
  // A model's matrices can be held as it (loadModel's `weights`): the
  // quantization targets, and f32.
  constexpr bool holds_weights() const { return quantize_target || kernels == KernelFamily::kF32Rows; }
};

inline constexpr TensorTypeInfo kTensorTypes[] = {
#define NIBBLE_TENSOR_TYPE(Id, name, ggml, elems, bytes, Block, scales, kernels, target, ftype, ...) \
  {TensorType::Id, name, elems, bytes, (elems) > 1, scales, KernelFamily::kernels, (target) != 0, ftype},
#include "quant/tensor_types.def"
#undef NIBBLE_TENSOR_TYPE
};
constexpr int kTensorTypeCount = int(sizeof(kTensorTypes) / sizeof(kTensorTypes[0]));

#define NIBBLE_TENSOR_TYPE(Id, name, ggml, elems, bytes, Block, ...) \
  static_assert(sizeof(Block) == (bytes), #Id ": the block struct must match GGUF's size");
#include "quant/tensor_types.def"
#undef NIBBLE_TENSOR_TYPE

// A type's dense index in kTensorTypes (0 .. kTensorTypeCount - 1), or -1
// for a type not in the table.
constexpr int tensor_type_index(TensorType type) {
  for (int i = 0; i < kTensorTypeCount; ++i)
    if (kTensorTypes[i].type == type) return i;
  return -1;
}

// The row of a type (any ggml_type number may be cast), or null.
constexpr const TensorTypeInfo* tensor_type_info(TensorType type) {
  const int i = tensor_type_index(type);
  return i < 0 ? nullptr : &kTensorTypes[i];
}

// The row called `name` ("q4_0", "Q4_0", "f32" ...), or null.
const TensorTypeInfo* tensor_type_by_name(const char* name);

// The first quantization target: the default of loadModel's `weights`,
// quantize()'s `type` and the CLI.
constexpr TensorType default_quantize_type() {
  for (const TensorTypeInfo& t : kTensorTypes)
    if (t.quantize_target) return t.type;
  return TensorType::F32;
}

// The names of the rows for which `keep` is true (all rows if null), for
// messages: "f32, q4_0" or, quoted, "'f32', 'q4_0'".
std::string tensor_type_names(bool (TensorTypeInfo::*keep)() const, bool quoted);

// Clipping search for a block's scale (and Q4_1's offset).
enum class ClipMode { kNone, kMse };

struct QuantizeOptions {
  ClipMode clip = ClipMode::kNone;
  // Optional per-input-column weights (length = row length K), e.g. the mean
  // squared activation seen on calibration data; null = all ones.
  const float* importance = nullptr;
};

// A table row with its functions (block_traits.cpp). They work on whole
// rows: n is a multiple of block_size (the caller checks; see row_size()).
struct BlockTraits : TensorTypeInfo {
  // x[n] -> blocks. Round-to-nearest reference (llama.cpp's rules) when
  // options.clip == kNone; otherwise the clipping search (INT4 types).
  void (*quantize)(const float* x, void* blocks, int64_t n, const QuantizeOptions& options);
  // blocks -> y[n]
  void (*dequantize)(const void* blocks, float* y, int64_t n);
};

// The row of a type, or null for a type not in the table.
const BlockTraits* block_traits(TensorType type);
// Lookup by name ("q4_0", "Q4_0", "f32" ...), or null.
const BlockTraits* block_traits_by_name(const char* name);
// Bytes of one row of n elements; 0 if n is not a multiple of the block size.
size_t row_size(TensorType type, int64_t n);

}  // namespace nibble
