// Byte layout of the tensor types GGUF files hold, as the format code sees it.
//
// The format code needs only each type's block geometry (elements and bytes
// per block) to check a tensor table; it reads it from the constexpr rows of
// the tensor-type table (quant/block_formats.h), not from the quantizers.
#pragma once

#include <cstdint>

#include "quant/block_formats.h"

namespace nibble {

struct TensorLayout {
  int64_t block_size;   // elements per block (1 for F32/F16)
  int64_t block_bytes;  // bytes per block
};

// Layout of a ggml type id in the tensor-type table; false for any other id.
bool tensor_layout(uint32_t ggml_type, TensorLayout* out);

// ggml's name for any ggml type id ("f32", "q4_k", "bf16" ...), or null for
// an id ggml never defined.
const char* ggml_type_name(uint32_t ggml_type);

// Bytes of a tensor with the given GGUF shape (shape[0] = row length), or
// false when the row length is not a multiple of the block size or the size
// overflows 63 bits. Every dim must be positive.
bool tensor_bytes(const TensorLayout& layout, const int64_t* shape, int n_dims, uint64_t* bytes);

}  // namespace nibble
