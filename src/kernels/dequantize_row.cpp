#include "kernels/dequantize_row.h"

#include <cstring>

#include "kernels/k_panel.h"
#include "kernels/panel_formats.h"

namespace nibble {
namespace {

// Row `row` of a panel-type matrix from its panels' codes: w = d·(q + offset)
// or d·q + m, the same values the GGUF blocks dequantize to (the float
// product of the same two factors).
template <typename Format>
void dequantize_panel_row(const PackedWeights& w, int64_t row, float* out) {
  const PackedView view{w.data(), w.rows(), w.cols()};
  const int64_t g = row / kPackRows;
  const int i = int(row % kPackRows);
  alignas(16) uint8_t buf[kMaxPanelBytes];
  for (int64_t b = 0; b < w.cols() / kQK; ++b) {
    const uint8_t* panel = Format::panel(view, g, b, buf);
    const float d = load_f32(panel + 4 * i), m = Format::kHasMin ? load_f32(panel + 4 * (kPackRows + i)) : 0.0f;
    for (int k = 0; k < kQK; ++k) {
      const int q = Format::code(panel, i, k);  // row i's codes only
      out[b * kQK + k] = Format::kHasMin ? float(q) * d + m : float(q + Format::kOffset) * d;
    }
  }
}

}  // namespace

// out[K] = W[row, :] (layouts in packed_weights.h).
void dequantize_row(const PackedWeights& w, int64_t row, float* out) {
  switch (w.type()) {
    case TensorType::Q4_0: return dequantize_panel_row<Q4PanelFormat<false, false>>(w, row, out);
    case TensorType::Q4_1: return dequantize_panel_row<Q4PanelFormat<true, false>>(w, row, out);
    case TensorType::Q5_0: return dequantize_panel_row<Q4PanelFormat<false, true>>(w, row, out);
    case TensorType::Q5_1: return dequantize_panel_row<Q4PanelFormat<true, true>>(w, row, out);
    case TensorType::Q8_0: return dequantize_panel_row<I8PanelFormat<TensorType::Q8_0>>(w, row, out);
    case TensorType::IQ4_NL: return dequantize_panel_row<I8PanelFormat<TensorType::IQ4_NL>>(w, row, out);
    case TensorType::Q4_K:
    case TensorType::Q5_K:
    case TensorType::Q6_K: {
      // Through the GGUF block and the type's row dequantizer: the file's values exactly.
      const int64_t K = w.cols();
      const int64_t groups = (w.rows() + kPackRows - 1) / kPackRows;
      alignas(16) uint8_t buf[kKMaxPanelBytes];
      for (int64_t b = 0; b < K / kQK_K; ++b)
        dequantize_k_row(w.type(), k_whole_panel(w.type(), w.data(), groups, K / kQK_K, row / kPackRows, b, buf),
                         int(row % kPackRows), out + b * kQK_K);
      return;
    }
    default:  // F32 rows (Pack takes no other type)
      std::memcpy(out, reinterpret_cast<const float*>(w.data()) + row * w.cols(), sizeof(float) * size_t(w.cols()));
  }
}

}  // namespace nibble
