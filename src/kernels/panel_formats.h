// What a packed panel holds, per panel type (layouts in packed_weights.h),
// for the code that reads panels one value at a time: the scalar tier and
// dequantize_row. A format gives each row's weight codes q in element order
// and the rule that makes them weights:
//   w = d·(q + kOffset)   (kHasMin false: Q4_0 −8, Q5_0 −16, IQ4_NL and Q8_0 0)
//   w = d·q + m           (kHasMin true: Q4_1, Q5_1)
// with d (and m) the row's f32 scales at the start of the panel; code()
// reads one row's code alone (dequantize_row: a prompt's embedding rows).
// panel(w, g, b, buf) gives panel b of group g whole: in place, or (Q8_0's
// runs in relaxed-SIMD builds, q4_panel.h) gathered into buf, kMaxPanelBytes.
#pragma once

#include <cstdint>

#include "kernels/q4_panel.h"

namespace nibble {

using PanelCodes = int[kPackRows][kQK];
constexpr size_t kMaxPanelBytes = 144;  // Q8_0's
static_assert(q4_panel_bytes(TensorType::Q8_0) == kMaxPanelBytes && q4_panel_bytes(TensorType::Q5_1) < kMaxPanelBytes, "");

// kQ4Panels (kHigh false) and kQ5Panels (kHigh true).
template <bool kHasMinT, bool kHigh>
struct Q4PanelFormat {
  static constexpr bool kHasMin = kHasMinT;
  static constexpr int kOffset = kHasMin ? 0 : (kHigh ? -16 : -8);
  static const uint8_t* panel(const PackedView& w, int64_t g, int64_t b, uint8_t*) { return q4_panel<kHasMin, kHigh>(w, g, b); }
  static int code(const uint8_t* panel, int r, int k) {
    const uint8_t* qs = panel + q4_qs_offset(kHasMin);
    const NibbleSlot slot = q4_nibble_slot(r, k);
    return kHigh ? read_q5_code(qs, panel + q5_high_offset(kHasMin), slot) : (qs[slot.byte] >> slot.shift) & 15;
  }
  static void codes(const uint8_t* panel, PanelCodes& q) {
    for (int r = 0; r < kPackRows; ++r)
      for (int k = 0; k < kQK; ++k) q[r][k] = code(panel, r, k);
  }
};

// kI8Panels: Q8_0's int8 values, IQ4_NL's code book looked up.
template <TensorType kType>
struct I8PanelFormat {
  static constexpr bool kHasMin = false;
  static constexpr int kOffset = 0;
  static const uint8_t* panel(const PackedView& w, int64_t g, int64_t b, uint8_t* buf) { return i8_panel<kType>(w, g, b, buf); }
  static int code(const uint8_t* panel, int r, int k) {
    const uint8_t* qs = panel + kI8QsOffset;
    if (kType == TensorType::Q8_0) return int8_t(qs[i8_slot(r, k)] ^ q8_byte_bias(k));
    const NibbleSlot slot = lanes_nibble_slot(r, k);
    return kIQ4NLValues[(qs[slot.byte] >> slot.shift) & 15];
  }
  static void codes(const uint8_t* panel, PanelCodes& q) {
    for (int r = 0; r < kPackRows; ++r)
      for (int k = 0; k < kQK; ++k) q[r][k] = code(panel, r, k);
  }
};

}  // namespace nibble
