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

constexpr int kQK = 32;     // weights per block of the 32-weight types (and per Q8_0 activation block)
constexpr int kQK_K = 256;  // weights per super-block of the K-quants

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

// Q5_0: w = d · (q − 16), q ∈ [0, 31]: the low nibbles as Q4_0, bit 4 of
// element j in bit j of qh (little-endian u32). 22 bytes / 32 = 5.5 bits.
struct BlockQ5_0 {
  uint16_t d;            // fp16 scale
  uint8_t qh[4];         // fifth bits
  uint8_t qs[kQK / 2];   // low nibbles
};

// Q5_1: w = d · q + m, q ∈ [0, 31]; bits as Q5_0. 24 bytes / 32 = 6 bits.
struct BlockQ5_1 {
  uint16_t d;            // fp16 scale
  uint16_t m;            // fp16 minimum
  uint8_t qh[4];
  uint8_t qs[kQK / 2];
};

// IQ4_NL: w = d · kIQ4NLValues[q], q ∈ [0, 15] (a non-linear code book),
// nibbles as Q4_0. 18 bytes / 32 = 4.5 bits.
struct BlockIQ4_NL {
  uint16_t d;            // fp16 scale
  uint8_t qs[kQK / 2];
};
inline constexpr int8_t kIQ4NLValues[16] = {-127, -104, -83, -65, -49, -35, -22, -10,
                                            1,    13,   25,  38,  53,  69,  89,  113};

// The K-quants: 256-weight super-blocks of 8 sub-blocks of 32 (Q4_K, Q5_K)
// or 16 of 16 (Q6_K), each sub-block with its own integer scale.
//
// Q4_K: sub-block s: w = (d · sc_s) · q − (dmin · m_s), q ∈ [0, 15], with
// 6-bit sc_s, m_s packed in scales[12] (k_quant_scale_min() reads them).
// qs holds 4 chunks of 64 weights as 32 bytes each: low nibbles are
// sub-block 2c, high nibbles sub-block 2c + 1. 144 bytes / 256 = 4.5 bits.
struct BlockQ4_K {
  uint16_t d;              // fp16 super-block scale of the scales
  uint16_t dmin;           // fp16 super-block scale of the minimums
  uint8_t scales[12];      // 8 × (6-bit scale, 6-bit minimum)
  uint8_t qs[kQK_K / 2];   // low 4 bits
};

// Q5_K: Q4_K plus a fifth bit: bit 2c of qh[l] is element l of sub-block
// 2c's bit 4, bit 2c + 1 that of sub-block 2c + 1. 176 bytes / 256 = 5.5 bits.
struct BlockQ5_K {
  uint16_t d;
  uint16_t dmin;
  uint8_t scales[12];
  uint8_t qh[kQK_K / 8];   // fifth bits
  uint8_t qs[kQK_K / 2];   // low 4 bits
};

// Q6_K: sub-block s of 16: w = d · scales[s] · (q − 32), q ∈ [0, 63]. Two
// halves of 128; in half h, element 32i + l (i = 0..3, l = 0..31) has its low
// 4 bits in ql[64h + l + 32(i & 1)] (low nibble for i < 2, high for i ≥ 2)
// and its top 2 bits at bits 2i of qh[32h + l]. 210 bytes / 256 = 6.5625 bits.
struct BlockQ6_K {
  uint8_t ql[kQK_K / 2];   // low 4 bits
  uint8_t qh[kQK_K / 4];   // top 2 bits
  int8_t scales[kQK_K / 16];
  uint16_t d;              // fp16 super-block scale (last: the block does not start with it)
};

// Q4_K / Q5_K: sub-block s's 6-bit scale and minimum from scales[12]: bytes
// 0-3 hold the scales of s = 0..3 (low 6 bits), 4-7 their minimums; for
// s = 4..7, byte s + 4 holds the low 4 bits of scale (low nibble) and
// minimum (high nibble), and the top 2 bits of bytes s − 4 and s are theirs.
__attribute__((always_inline)) inline void k_quant_scale_min(const uint8_t* scales, int s, uint8_t* scale, uint8_t* min) {
  if (s < 4) {
    *scale = scales[s] & 63;
    *min = scales[s + 4] & 63;
  } else {
    *scale = uint8_t((scales[s + 4] & 0xF) | ((scales[s - 4] >> 6) << 4));
    *min = uint8_t((scales[s + 4] >> 4) | ((scales[s] >> 6) << 4));
  }
}

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
  kQ5Panels,  // kQ4Panels plus a plane of fifth bits per panel (Q5_0, Q5_1)
  kI8Panels,  // 4-row panels multiplied as int8 weights (Q8_0 bytes, IQ4_NL code-book nibbles)
  kKPanels,   // 4-row panels of 256-weight K-quant super-blocks (Q4_K, Q5_K, Q6_K)
};

// One row of the table (columns explained in tensor_types.def).
struct TensorTypeInfo {
  TensorType type;
  const char* name;         // "q4_0", as GGUF tools spell it
  int block_size;           // elements per block (1 for F32/F16)
  size_t block_bytes;       // bytes per block
  bool is_quantized;        // a block format, not plain f32/f16
  int fp16_scales;          // fp16 scales in each block (d, then m / dmin)
  size_t fp16_scales_offset;  // where they start in the block (Q6_K: its end)
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

// Where a block's fp16 scales start: they lead every block but Q6_K's.
template <typename Block>
constexpr size_t fp16_scales_offset() { return 0; }
template <>
constexpr size_t fp16_scales_offset<BlockQ6_K>() { return offsetof(BlockQ6_K, d); }

inline constexpr TensorTypeInfo kTensorTypes[] = {
#define NIBBLE_TENSOR_TYPE(Id, name, ggml, elems, bytes, Block, scales, kernels, target, ftype, ...)         \
  {TensorType::Id, name, elems, bytes, (elems) > 1, scales, fp16_scales_offset<Block>(), KernelFamily::kernels, \
   (target) != 0, ftype},
#include "quant/tensor_types.def"
#undef NIBBLE_TENSOR_TYPE
};
constexpr int kTensorTypeCount = int(sizeof(kTensorTypes) / sizeof(kTensorTypes[0]));

#define NIBBLE_TENSOR_TYPE(Id, name, ggml, elems, bytes, Block, scales, ...)                      \
  static_assert(sizeof(Block) == (bytes), #Id ": the block struct must match GGUF's size");   \
  static_assert((scales) <= 2, #Id ": first_non_finite_scale reads a block's first and last " \
                               "fp16 scale only");
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

// The index of the first of `count` blocks of `type` at `blocks` whose fp16
// scales are not all finite (NaN or infinity), or -1.
int64_t first_non_finite_scale(const TensorTypeInfo& type, const uint8_t* blocks, int64_t count);

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
