// Portable C++ loops on packed panels, shared by the *__scalar kernels
// (the panel types, W4A8 and W4A32, GEMV and GEMM differ only in
// parameters). Each panel is first unpacked to plain codes q[row][k]
// (element order) by its format (panel_formats.h).
#pragma once

#include <algorithm>
#include <cstdint>

#include "kernels/panel_formats.h"

namespace nibble {
namespace scalar {

// Writes acc[mi][i] to Y[m0 + mi, 4g + i], clipped to the tile's columns.
inline void store_tile(const OutputTile& out, int64_t g, int64_t m0, int mr, const float (&acc)[4][kPackRows]) {
  const int64_t n0 = g * kPackRows;
  const int cols = int(std::min<int64_t>(kPackRows, out.n_end - n0));
  for (int mi = 0; mi < mr; ++mi)
    for (int i = 0; i < cols; ++i) out.y[(m0 + mi) * out.ldy + n0 + i] = acc[mi][i];
}

// Calls tile(g, m0, mr) over the groups of `out` and its activation rows in
// steps of up to max_rows (≤ 4).
template <typename Tile>
void for_each_group_tile(const OutputTile& out, int max_rows, const Tile& tile) {
  for (int64_t g = out.n_begin / kPackRows; g * kPackRows < out.n_end; ++g)
    for (int64_t m0 = out.m_begin; m0 < out.m_end; m0 += max_rows)
      tile(g, m0, int(std::min<int64_t>(max_rows, out.m_end - m0)));
}

// W4A8: Y[m, n] for the tile, up to max_rows activation rows sharing each
// unpacked panel. The float arithmetic per block pair is exactly the _ref
// formula, in the same order, so results are bitwise the reference's.
template <typename Format>
void panel_q8_tiles(const PackedView& w, const Q8Activations& x, const OutputTile& out, int max_rows) {
  const int64_t nb = w.K / kQK;
  for_each_group_tile(out, max_rows, [&](int64_t g, int64_t m0, int mr) {
    float acc[4][kPackRows] = {};
    alignas(16) uint8_t buf[kMaxPanelBytes];
    for (int64_t b = 0; b < nb; ++b) {
      const uint8_t* panel = Format::panel(w, g, b, buf);
      PanelCodes q;
      Format::codes(panel, q);
      for (int mi = 0; mi < mr; ++mi) {
        const int64_t row_block = (m0 + mi) * nb + b;
        const int8_t* a = x.qs + row_block * kQK;
        const float da = x.d[row_block];
        const int32_t sa = x.sums[row_block];
        for (int i = 0; i < kPackRows; ++i) {
          int32_t dot = 0;
          for (int k = 0; k < kQK; ++k) dot += q[i][k] * a[k];
          const float dw = load_f32(panel + 4 * i);
          if (Format::kHasMin) {
            acc[mi][i] += float(dot) * (dw * da) + load_f32(panel + 4 * (kPackRows + i)) * (da * float(sa));
          } else {
            acc[mi][i] += float(dot + Format::kOffset * sa) * (dw * da);
          }
        }
      }
    }
    store_tile(out, g, m0, mr, acc);
  });
}

// W4A32, same tiling: each panel is widened to f32 once and used for up to
// max_rows activation rows. Per block: acc += d·Σ(q + offset)·x, or
// acc += d·Σq·x + m·Σx. The new panel types' SIMD tiers run these too.
template <typename Format>
void panel_f32_tiles(const PackedView& w, const F32Activations& x, const OutputTile& out, int max_rows) {
  const int64_t nb = w.K / kQK;
  for_each_group_tile(out, max_rows, [&](int64_t g, int64_t m0, int mr) {
    float acc[4][kPackRows] = {};
    alignas(16) uint8_t buf[kMaxPanelBytes];
    for (int64_t b = 0; b < nb; ++b) {
      const uint8_t* panel = Format::panel(w, g, b, buf);
      PanelCodes q;
      Format::codes(panel, q);
      float wq[kPackRows][kQK];  // q + offset as f32
      for (int i = 0; i < kPackRows; ++i)
        for (int k = 0; k < kQK; ++k) wq[i][k] = float(q[i][k] + Format::kOffset);
      for (int mi = 0; mi < mr; ++mi) {
        const float* xb = x.x + (m0 + mi) * w.K + b * kQK;
        for (int i = 0; i < kPackRows; ++i) {
          float s = 0.0f;
          for (int k = 0; k < kQK; ++k) s += wq[i][k] * xb[k];
          acc[mi][i] += s * load_f32(panel + 4 * i);
          if (Format::kHasMin) acc[mi][i] += load_f32(panel + 4 * (kPackRows + i)) * x.block_sums[(m0 + mi) * nb + b];
        }
      }
    }
    store_tile(out, g, m0, mr, acc);
  });
}

}  // namespace scalar
}  // namespace nibble
