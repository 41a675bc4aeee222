#include "kernels/dequantize_row.h"

#include <cstring>

#include "kernels/k_panel.h"
#include "kernels/q4_panel.h"

namespace nibble {

// out[K] = W[row, :]: w = d·(q − 8) (Q4_0) or d·q + m (Q4_1), the same
// values the GGUF blocks dequantize to; K-quants as their row dequantizer.
// Layouts in packed_weights.h.
void dequantize_row(const PackedWeights& w, int64_t row, float* out) {
  const int64_t K = w.cols();
  if (tensor_type_info(w.type())->kernels == KernelFamily::kF32Rows) {
    std::memcpy(out, reinterpret_cast<const float*>(w.data()) + row * K, sizeof(float) * size_t(K));
    return;
  }
  if (tensor_type_info(w.type())->kernels == KernelFamily::kKPanels) {
    // Through the GGUF block and the type's row dequantizer: the file's values exactly.
    const size_t panel_bytes = k_panel_bytes(w.type());
    for (int64_t b = 0; b < K / kQK_K; ++b)
      dequantize_k_row(w.type(), w.data() + size_t((row / kPackRows) * (K / kQK_K) + b) * panel_bytes,
                       int(row % kPackRows), out + b * kQK_K);
    return;
  }
  // The Q4 panel family (Pack takes no other): d, and Q4_1's m.
  const bool has_min = tensor_type_info(w.type())->fp16_scales == 2;
  const Q4Weights view{w.data(), w.rows(), K};
  const int64_t g = row / kPackRows;
  const int i = int(row % kPackRows);
  for (int64_t b = 0; b < K / kQK; ++b) {
    const uint8_t* panel = has_min ? q4_panel<true>(view, g, b) : q4_panel<false>(view, g, b);
    const float d = load_f32(panel + 4 * i);
    const float m = has_min ? load_f32(panel + 4 * (kPackRows + i)) : 0.0f;
    const uint8_t* qs = panel + q4_qs_offset(has_min);
    for (int k = 0; k < kQK; ++k) {
      const NibbleSlot slot = q4_nibble_slot(i, k);
      const int q = (qs[slot.byte] >> slot.shift) & 15;
      out[b * kQK + k] = has_min ? d * float(q) + m : d * float(q - 8);
    }
  }
}

}  // namespace nibble
