// QuantizedMatrix: checks, then calls into src/quant and src/kernels.
#include "api/quantized_matrix.h"

#include <malloc.h>

#include <cmath>
#include <cstring>
#include <memory>
#include <new>
#include <string>

#include "kernels/matmul.h"
#include "quant/quantize.h"
#include "runtime/decimal_text.h"

namespace nibble {
namespace {

// The types this API offers: the table's quantization targets. Each block's
// fp16 scales (the row's fp16_scales) are checked to be finite on the way in.
Status resolve_type(const std::string& name, const BlockTraits** type) {
  *type = block_traits_by_name(name.c_str());
  if (*type == nullptr || !(*type)->quantize_target) {
    return OutOfRange("unknown type '" + name + "'; use one of " +
                      tensor_type_names(&TensorTypeInfo::can_quantize_to, true));
  }
  return Status::Ok();
}

std::string shape_string(int64_t rows, int64_t cols) {
  return "[" + integer_text(rows) + ", " + integer_text(cols) + "]";
}

// Shape checks shared by quantize and load_blocks.
Status check_shape(const BlockTraits& traits, int64_t rows, int64_t cols) {
  if (rows <= 0 || cols <= 0) {
    return OutOfRange("shape " + shape_string(rows, cols) + " must have rows > 0 and cols > 0");
  }
  if (cols % traits.block_size != 0) {
    const int64_t padded = (cols / traits.block_size + 1) * traits.block_size;
    return OutOfRange("cols = " + integer_text(cols) + " is not a multiple of " +
                      integer_text(traits.block_size) + ", the " + traits.name +
                      " block size; pad each row with zeros to " + integer_text(padded) + " columns");
  }
  return Status::Ok();
}

// The checks quantize and load_blocks start with: a known type, then a shape
// that type can hold.
Status resolve_type_and_shape(const std::string& name, int64_t rows, int64_t cols, const BlockTraits** type) {
  NIBBLE_RETURN_IF_ERROR(resolve_type(name, type));
  return check_shape(**type, rows, cols);
}

// A heap buffer that may fail to allocate (no exceptions in this build).
std::unique_ptr<uint8_t[]> try_alloc(size_t bytes) {
  return std::unique_ptr<uint8_t[]>(new (std::nothrow) uint8_t[bytes]);
}

Status out_of_memory(size_t bytes) {
  return ResourceError("out of memory allocating " + integer_text(bytes) + " bytes");
}

}  // namespace

ApiStatus ApiStatus::From(const Status& status) {
  ApiStatus s;
  s.kind = int(status.kind());
  s.message = status.message();
  return s;
}

ApiStatus QuantizedMatrix::quantize(uintptr_t weights, uint32_t rows, uint32_t cols,
                                    const std::string& type_name, int clip, uintptr_t importance) {
  const BlockTraits* type = nullptr;
  Status status = resolve_type_and_shape(type_name, rows, cols, &type);
  if (!status.ok()) return ApiStatus::From(status);
  const BlockTraits& traits = *type;
  if (clip != 0 && clip != 1) {
    return ApiStatus::From(OutOfRange("clip mode " + integer_text(clip) + " is not 0 (none) or 1 (mse)"));
  }
  QuantizeOptions options;
  options.clip = clip == 1 ? ClipMode::kMse : ClipMode::kNone;
  options.importance = reinterpret_cast<const float*>(importance);
  // uint64 first: rows · row bytes can pass 4 GB, and size_t is 32 bits here.
  const uint64_t total = uint64_t(rows) * row_size(type->type, cols);
  if (total > uint64_t(SIZE_MAX) / 2) {
    return ApiStatus::From(ResourceError("a " + shape_string(rows, cols) + " " + traits.name +
                                         " matrix does not fit in wasm memory"));
  }
  const size_t bytes = size_t(total);
  std::unique_ptr<uint8_t[]> blocks = try_alloc(bytes);
  if (!blocks) return ApiStatus::From(out_of_memory(bytes));
  // blocks[rows · row_size] <- weights[rows, cols]
  status = quantize_matrix(type->type, reinterpret_cast<const float*>(weights), rows, cols, options,
                           blocks.get(), bytes);
  if (!status.ok()) return ApiStatus::From(status);
  return ApiStatus::From(adopt_blocks(type->type, blocks.get(), bytes, rows, cols, Source::kQuantizer));
}

ApiStatus QuantizedMatrix::load_blocks(uintptr_t bytes, uint32_t byte_length, uint32_t rows,
                                       uint32_t cols, const std::string& type_name) {
  const BlockTraits* type = nullptr;
  Status status = resolve_type_and_shape(type_name, rows, cols, &type);
  if (!status.ok()) return ApiStatus::From(status);
  const BlockTraits& traits = *type;
  const uint64_t expected = uint64_t(rows) * row_size(type->type, cols);
  if (expected != byte_length) {
    return ApiStatus::From(OutOfRange(
        std::string("a ") + traits.name + " matrix of shape " + shape_string(rows, cols) + " takes " +
        integer_text(expected) + " bytes (" + integer_text(traits.block_bytes) + " per " +
        integer_text(traits.block_size) + " weights), but " + integer_text(byte_length) +
        " bytes were given; check the shape and the type"));
  }
  return ApiStatus::From(adopt_blocks(type->type, reinterpret_cast<const void*>(bytes), byte_length,
                                      rows, cols, Source::kCaller));
}

Status QuantizedMatrix::adopt_blocks(TensorType type, const void* blocks, size_t byte_length,
                                     int64_t rows, int64_t cols, Source source) {
  const TensorTypeInfo& traits = *tensor_type_info(type);
  const int64_t blocks_per_row = cols / traits.block_size;
  const int64_t bad = first_non_finite_scale(traits, static_cast<const uint8_t*>(blocks), rows * blocks_per_row);
  if (bad >= 0) {
    const int64_t row = bad / blocks_per_row, col = (bad % blocks_per_row) * traits.block_size;
    const std::string where = "row " + integer_text(row) + ", columns " + integer_text(col) + ".." +
                              integer_text(col + traits.block_size - 1);
    if (source == Source::kCaller) {
      return FormatError(std::string("the ") + traits.name + " block at " + where +
                         " has an infinite or NaN scale; the bytes are corrupt or not " + traits.name);
    }
    return OutOfRange("weights at " + where + " are too large for " + traits.name +
                      ": the block's fp16 scale overflows (fp16 max 65504); scale the matrix down first");
  }
  PackedWeights packed;
  NIBBLE_RETURN_IF_ERROR(PackedWeights::Pack(type, blocks, byte_length, rows, cols, &packed));
  weights_ = std::move(packed);
  return Status::Ok();
}

Status QuantizedMatrix::check_loaded() const {
  if (!loaded()) return StateError("the matrix holds no weights yet: quantize or load blocks first");
  return Status::Ok();
}

ApiStatus QuantizedMatrix::dequantize(uintptr_t out) const {
  Status status = check_loaded();
  if (!status.ok()) return ApiStatus::From(status);
  const size_t bytes = weights_.gguf_bytes();
  std::unique_ptr<uint8_t[]> blocks = try_alloc(bytes);
  if (!blocks) return ApiStatus::From(out_of_memory(bytes));
  weights_.unpack_to_gguf(blocks.get());
  // out[rows, cols] <- blocks
  return ApiStatus::From(dequantize_matrix(weights_.type(), blocks.get(), bytes, weights_.rows(),
                                           weights_.cols(), reinterpret_cast<float*>(out)));
}

ApiStatus QuantizedMatrix::matmul(uintptr_t x, uint32_t m, uintptr_t y, int precision) const {
  Status status = check_loaded();
  if (!status.ok()) return ApiStatus::From(status);
  if (m == 0) return ApiStatus::From(OutOfRange("m (rows of x) must be at least 1"));
  Precision p;
  status = precision_from_code(precision, &p);
  if (!status.ok()) return ApiStatus::From(status);
  const float* xs = reinterpret_cast<const float*>(x);
  const int64_t count = int64_t(m) * weights_.cols();
  for (int64_t i = 0; i < count; ++i) {
    if (!std::isfinite(xs[i])) {
      return ApiStatus::From(InvalidArgument(
          "x[" + integer_text(i) + "] (row " + integer_text(i / weights_.cols()) + ", column " +
          integer_text(i % weights_.cols()) + ") is " + (std::isnan(xs[i]) ? "NaN" : "infinite") +
          "; matmul needs finite inputs"));
    }
  }
  // y[m, rows] = x[m, cols] · Wᵀ
  return ApiStatus::From(nibble::matmul(weights_, xs, m, reinterpret_cast<float*>(y), p));
}

ApiStatus QuantizedMatrix::to_bytes(uintptr_t out) const {
  Status status = check_loaded();
  if (!status.ok()) return ApiStatus::From(status);
  weights_.unpack_to_gguf(reinterpret_cast<void*>(out));
  return ApiStatus();
}

double QuantizedMatrix::bits_per_weight() const {
  if (!loaded()) return 0;
  return tensor_type_info(weights_.type())->bits_per_weight();
}

std::string QuantizedMatrix::type_name() const {
  return loaded() ? tensor_type_info(weights_.type())->name : "";
}

uint32_t heap_bytes_in_use() {
#if defined(__GLIBC__)
  return uint32_t(mallinfo2().uordblks);
#else
  return uint32_t(mallinfo().uordblks);
#endif
}

}  // namespace nibble
