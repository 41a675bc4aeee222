// Whole-matrix quantization with input checks, and error statistics.
//
// A matrix W[rows, cols] is stored row by row; each row is row_size(type,
// cols) bytes of blocks (block_formats.h), rows back to back, as in GGUF.
#pragma once

#include <cstddef>
#include <cstdint>

#include "quant/block_formats.h"
#include "runtime/status.h"

namespace nibble {

class ThreadPool;

// out[rows · row_size(type, cols)] <- x[rows, cols]. options.importance, if
// set, has cols entries shared by every row (finite, >= 0). Fails, writing
// nothing, when cols is not a multiple of the block size, a value of x (or
// of importance) is NaN or infinite, or out_size is too small. pool may be
// null. Only Q4_0 and Q4_1 use options.clip; with importance and no clip,
// Q4_0, Q4_1, Q5_0, Q5_1, IQ4_NL, Q4_K, Q5_K and Q6_K follow llama.cpp's
// importance-weighted rules (quantize_row.h); Q8_0 ignores importance.
Status quantize_matrix(TensorType type, const float* x, int64_t rows, int64_t cols,
                       const QuantizeOptions& options, void* out, size_t out_size,
                       ThreadPool* pool = nullptr);

// y[rows, cols] <- data[rows · row_size(type, cols)]. Fails when data_size
// does not match the shape.
Status dequantize_matrix(TensorType type, const void* data, size_t data_size, int64_t rows,
                         int64_t cols, float* y);

// How far an approximation y[n] is from a reference x[n] (both finite).
struct ErrorStats {
  double rmse = 0;         // sqrt(Σ(x − y)² / n)
  double max_abs = 0;      // max |x − y|
  double sqnr_db = 0;      // 10·log10(Σx² / Σ(x − y)²); +inf when y == x
  double cosine = 0;       // Σxy / (|x|·|y|); 1 when both are zero
};
ErrorStats error_stats(const float* x, const float* y, int64_t n);

}  // namespace nibble
