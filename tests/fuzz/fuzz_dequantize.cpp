// Fuzz target dequantize: every row of the tensor-type table
// (quant/tensor_types.def) dequantizes arbitrary blocks, as a file's tensor
// data is arbitrary; a type nibble quantizes to also quantizes what came out
// when it is finite (quantize_matrix refuses NaN and infinities).
#include <cmath>
#include <cstring>
#include <vector>

#include "fuzz_targets.h"
#include "quant/block_formats.h"
#include "quant/quantize.h"

namespace nibble {
namespace fuzz {

bool dequantize(const uint8_t* data, size_t size) {
  if (size < 2) return false;
  const TensorTypeInfo& info = kTensorTypes[data[0] % kTensorTypeCount];
  const uint8_t option = data[1];
  const int64_t rows = 1 + (option & 3);
  // As many whole rows of whole blocks as the bytes hold (at least one block
  // per row); the blocks in their own (aligned) allocation.
  const int64_t blocks_per_row = int64_t((size - 2) / info.block_bytes) / rows;
  if (blocks_per_row == 0) return false;
  const int64_t cols = blocks_per_row * info.block_size;
  const size_t bytes = size_t(rows * blocks_per_row) * info.block_bytes;
  const std::vector<uint8_t> blocks(data + 2, data + 2 + bytes);

  std::vector<float> y(size_t(rows * cols));  // [rows, cols]
  Status s = dequantize_matrix(info.type, blocks.data(), blocks.size(), rows, cols, y.data());
  fuzz_check(s.ok(), "dequantize_matrix refused a matching shape");
  if (!info.can_quantize_to()) return true;
  for (float v : y)
    if (!std::isfinite(v)) return true;

  // Bit 2: the clipping search; bit 3: with an importance per column.
  QuantizeOptions options;
  options.clip = option & 4 ? ClipMode::kMse : ClipMode::kNone;
  std::vector<float> importance;
  if (option & 8) {
    importance.resize(size_t(cols));
    for (int64_t j = 0; j < cols; ++j) importance[size_t(j)] = std::fabs(y[size_t(j)]);
    options.importance = importance.data();
  }
  std::vector<uint8_t> requantized(bytes);
  s = quantize_matrix(info.type, y.data(), rows, cols, options, requantized.data(), requantized.size());
  fuzz_check(s.ok(), "quantize_matrix refused finite values");
  std::vector<float> again(y.size());
  s = dequantize_matrix(info.type, requantized.data(), requantized.size(), rows, cols, again.data());
  fuzz_check(s.ok(), "dequantize_matrix refused what quantize_matrix wrote");
  return true;
}

}  // namespace fuzz
}  // namespace nibble
