// Whole-matrix quantization: checks the input, then runs the row quantizer of
// the traits table over the rows (split across a thread pool if given).
#include "quant/quantize.h"

#include <cmath>
#include <limits>
#include <string>

#include "runtime/decimal_text.h"
#include "runtime/thread_pool.h"

namespace nibble {
namespace {

// The index of the first NaN/Inf in v[n], or -1.
int64_t first_non_finite(const float* v, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    if (!std::isfinite(v[i])) return i;
  }
  return -1;
}

std::string shape_string(int64_t rows, int64_t cols) {
  return "[" + integer_text(rows) + ", " + integer_text(cols) + "]";
}

// Checks shared by quantize_matrix and dequantize_matrix; sets *traits,
// *row_bytes and *bytes (the whole matrix in its block format).
Status check_shape(TensorType type, int64_t rows, int64_t cols, const BlockTraits** traits, size_t* row_bytes,
                   size_t* bytes) {
  *traits = block_traits(type);
  if (*traits == nullptr) {
    return InvalidArgument("unknown tensor type " + integer_text(uint32_t(type)));
  }
  const BlockTraits& t = **traits;
  if (rows < 0 || cols < 0) {
    return OutOfRange("negative matrix shape " + shape_string(rows, cols));
  }
  if (cols % t.block_size != 0) {
    return InvalidArgument("row length K = " + integer_text(cols) + " is not a multiple of " +
                           integer_text(t.block_size) + ", the block size of " + t.name);
  }
  *row_bytes = row_size(type, cols);
  if (rows > 0 && *row_bytes > 0 && size_t(rows) > std::numeric_limits<size_t>::max() / *row_bytes) {
    return ResourceError("matrix " + shape_string(rows, cols) + " is too large");
  }
  *bytes = size_t(rows) * *row_bytes;
  return Status::Ok();
}

}  // namespace

Status quantize_matrix(TensorType type, const float* x, int64_t rows, int64_t cols,
                       const QuantizeOptions& options, void* out, size_t out_size,
                       ThreadPool* pool) {
  const BlockTraits* traits = nullptr;
  size_t row_bytes = 0, need = 0;
  NIBBLE_RETURN_IF_ERROR(check_shape(type, rows, cols, &traits, &row_bytes, &need));
  if (out_size < need) {
    return OutOfRange(std::string(traits->name) + " matrix " + shape_string(rows, cols) + " needs " +
                      integer_text(need) + " bytes, the output has " + integer_text(out_size));
  }
  if (need == 0) return Status::Ok();
  if (x == nullptr || out == nullptr) return InvalidArgument("null input or output buffer");
  const int64_t bad = first_non_finite(x, rows * cols);
  if (bad >= 0) {
    return InvalidArgument("input value " + integer_text(bad) + " (row " + integer_text(bad / cols) +
                           ", column " + integer_text(bad % cols) + ") is " +
                           (std::isnan(x[bad]) ? "NaN" : "infinite") + "; only finite values can be quantized");
  }
  if (options.importance != nullptr) {
    for (int64_t j = 0; j < cols; ++j) {
      const float v = options.importance[j];
      if (!std::isfinite(v) || v < 0.0f) {
        return InvalidArgument("importance[" + integer_text(j) + "] = " + decimal_text(v, 6) +
                               "; importance values must be finite and >= 0");
      }
    }
  }

  uint8_t* dst = static_cast<uint8_t*>(out);
  // Rows are independent: the quantized row r is out[r·row_bytes ..].
  auto quantize_rows = [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      traits->quantize(x + r * cols, dst + size_t(r) * row_bytes, cols, options);
    }
  };
  parallel_for_if(pool, true, rows, 1, quantize_rows);
  return Status::Ok();
}

Status dequantize_matrix(TensorType type, const void* data, size_t data_size, int64_t rows,
                         int64_t cols, float* y) {
  const BlockTraits* traits = nullptr;
  size_t row_bytes = 0, need = 0;
  NIBBLE_RETURN_IF_ERROR(check_shape(type, rows, cols, &traits, &row_bytes, &need));
  if (data_size != need) {
    return OutOfRange(std::string(traits->name) + " matrix " + shape_string(rows, cols) + " has " +
                      integer_text(need) + " bytes, got " + integer_text(data_size));
  }
  if (need == 0) return Status::Ok();
  if (data == nullptr || y == nullptr) return InvalidArgument("null input or output buffer");
  const uint8_t* src = static_cast<const uint8_t*>(data);
  for (int64_t r = 0; r < rows; ++r) traits->dequantize(src + size_t(r) * row_bytes, y + r * cols, cols);
  return Status::Ok();
}

ErrorStats error_stats(const float* x, const float* y, int64_t n) {
  ErrorStats s;
  double sxx = 0, syy = 0, sxy = 0, see = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double a = x[i], b = y[i], e = a - b;
    sxx += a * a;
    syy += b * b;
    sxy += a * b;
    see += e * e;
    if (std::fabs(e) > s.max_abs) s.max_abs = std::fabs(e);
  }
  s.rmse = n > 0 ? std::sqrt(see / double(n)) : 0.0;
  s.sqnr_db = see > 0 ? 10.0 * std::log10(sxx / see) : INFINITY;
  s.cosine = (sxx > 0 && syy > 0) ? sxy / std::sqrt(sxx * syy) : (sxx == syy ? 1.0 : 0.0);
  return s;
}

}  // namespace nibble
