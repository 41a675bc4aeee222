// The per-type functions of the tensor-type table (block_formats.h).
#include <cstring>

#include "quant/block_formats.h"
#include "quant/fp16.h"
#include "quant/quantize_row.h"

namespace nibble {
namespace {

// F32: x[n] -> x[n], a copy.
void quantize_f32(const float* x, void* out, int64_t n, const QuantizeOptions&) {
  std::memcpy(out, x, size_t(n) * sizeof(float));
}
void dequantize_f32(const void* in, float* y, int64_t n) {
  std::memcpy(y, in, size_t(n) * sizeof(float));
}

// F16: x[n] -> h[n], round to nearest even.
void quantize_f16(const float* x, void* out, int64_t n, const QuantizeOptions&) {
  uint16_t* h = static_cast<uint16_t*>(out);
  for (int64_t i = 0; i < n; ++i) h[i] = fp32_to_fp16(x[i]);
}
void dequantize_f16(const void* in, float* y, int64_t n) {
  const uint16_t* h = static_cast<const uint16_t*>(in);
  for (int64_t i = 0; i < n; ++i) y[i] = fp16_to_fp32(h[i]);
}

// Q4_0 and Q4_1 honour options.clip; without it, options.importance selects
// llama.cpp's importance-weighted rules (as Q5_0, Q5_1 and IQ4_NL do).
void quantize_q4_0(const float* x, void* out, int64_t n, const QuantizeOptions& options) {
  BlockQ4_0* y = static_cast<BlockQ4_0*>(out);
  if (options.clip == ClipMode::kMse) {
    quantize_row_q4_0_mse(x, y, n, options.importance);
  } else {
    quantize_row_q4_0_imatrix(x, y, n, options.importance);
  }
}
void dequantize_q4_0(const void* in, float* y, int64_t n) {
  dequantize_row_q4_0(static_cast<const BlockQ4_0*>(in), y, n);
}

void quantize_q4_1(const float* x, void* out, int64_t n, const QuantizeOptions& options) {
  BlockQ4_1* y = static_cast<BlockQ4_1*>(out);
  if (options.clip == ClipMode::kMse) {
    quantize_row_q4_1_mse(x, y, n, options.importance);
  } else {
    quantize_row_q4_1_imatrix(x, y, n, options.importance);
  }
}
void dequantize_q4_1(const void* in, float* y, int64_t n) {
  dequantize_row_q4_1(static_cast<const BlockQ4_1*>(in), y, n);
}

// The other block types ignore options.clip (llama.cpp's rules); Q8_0
// ignores options.importance too.
void quantize_q8_0(const float* x, void* out, int64_t n, const QuantizeOptions&) {
  quantize_row_q8_0_ref(x, static_cast<BlockQ8_0*>(out), n);
}
void dequantize_q8_0(const void* in, float* y, int64_t n) {
  dequantize_row_q8_0(static_cast<const BlockQ8_0*>(in), y, n);
}

void quantize_q5_0(const float* x, void* out, int64_t n, const QuantizeOptions& options) {
  quantize_row_q5_0_imatrix(x, static_cast<BlockQ5_0*>(out), n, options.importance);
}
void dequantize_q5_0(const void* in, float* y, int64_t n) {
  dequantize_row_q5_0(static_cast<const BlockQ5_0*>(in), y, n);
}

void quantize_q5_1(const float* x, void* out, int64_t n, const QuantizeOptions& options) {
  quantize_row_q5_1_imatrix(x, static_cast<BlockQ5_1*>(out), n, options.importance);
}
void dequantize_q5_1(const void* in, float* y, int64_t n) {
  dequantize_row_q5_1(static_cast<const BlockQ5_1*>(in), y, n);
}

void quantize_iq4_nl(const float* x, void* out, int64_t n, const QuantizeOptions& options) {
  quantize_row_iq4_nl_imatrix(x, static_cast<BlockIQ4_NL*>(out), n, options.importance);
}
void dequantize_iq4_nl(const void* in, float* y, int64_t n) {
  dequantize_row_iq4_nl(static_cast<const BlockIQ4_NL*>(in), y, n);
}

void quantize_q4_k(const float* x, void* out, int64_t n, const QuantizeOptions& options) {
  quantize_row_q4_k_imatrix(x, static_cast<BlockQ4_K*>(out), n, options.importance);
}
void dequantize_q4_k(const void* in, float* y, int64_t n) {
  dequantize_row_q4_k(static_cast<const BlockQ4_K*>(in), y, n);
}

void quantize_q5_k(const float* x, void* out, int64_t n, const QuantizeOptions& options) {
  quantize_row_q5_k_imatrix(x, static_cast<BlockQ5_K*>(out), n, options.importance);
}
void dequantize_q5_k(const void* in, float* y, int64_t n) {
  dequantize_row_q5_k(static_cast<const BlockQ5_K*>(in), y, n);
}

void quantize_q6_k(const float* x, void* out, int64_t n, const QuantizeOptions& options) {
  quantize_row_q6_k_imatrix(x, static_cast<BlockQ6_K*>(out), n, options.importance);
}
void dequantize_q6_k(const void* in, float* y, int64_t n) {
  dequantize_row_q6_k(static_cast<const BlockQ6_K*>(in), y, n);
}

// The table's rows with the functions tensor_types.def names for them.
const BlockTraits kTraits[] = {
#define NIBBLE_TENSOR_TYPE(Id, name, ggml, elems, bytes, Block, scales, kernels, target, ftype, quantize, dequantize) \
  {*tensor_type_info(TensorType::Id), quantize, dequantize},
#include "quant/tensor_types.def"
#undef NIBBLE_TENSOR_TYPE
};

}  // namespace

const BlockTraits* block_traits(TensorType type) {
  const int i = tensor_type_index(type);
  return i < 0 ? nullptr : &kTraits[i];
}

const BlockTraits* block_traits_by_name(const char* name) {
  const TensorTypeInfo* info = tensor_type_by_name(name);
  return info ? block_traits(info->type) : nullptr;
}

size_t row_size(TensorType type, int64_t n) {
  const BlockTraits* t = block_traits(type);
  if (t == nullptr || n < 0 || n % t->block_size != 0) return 0;
  return size_t(n / t->block_size) * t->block_bytes;
}

}  // namespace nibble
