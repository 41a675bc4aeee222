// Portable C++ loops for f32 weights (any K), shared by the f32 *__scalar kernels.
#pragma once

#include <algorithm>
#include <cstdint>

#include "kernels/microkernels.h"

namespace nibble {
namespace scalar {

// Y[m, n] over the tile in sub-tiles of up to max_rows × 4, each output a
// single f32 sum over k in order.
inline void f32_tiles(const F32Weights& w, const F32Activations& x, const OutputTile& out, int max_rows) {
  const int64_t K = w.K;
  for (int64_t n0 = out.n_begin; n0 < out.n_end; n0 += 4) {
    const int nr = int(std::min<int64_t>(4, out.n_end - n0));
    for (int64_t m0 = out.m_begin; m0 < out.m_end; m0 += max_rows) {
      const int mr = int(std::min<int64_t>(max_rows, out.m_end - m0));
      float acc[4][4] = {};
      for (int64_t k = 0; k < K; ++k)
        for (int mi = 0; mi < mr; ++mi)
          for (int ni = 0; ni < nr; ++ni) acc[mi][ni] += x.x[(m0 + mi) * K + k] * w.data[(n0 + ni) * K + k];
      for (int mi = 0; mi < mr; ++mi)
        for (int ni = 0; ni < nr; ++ni) out.y[(m0 + mi) * out.ldy + n0 + ni] = acc[mi][ni];
    }
  }
}

}  // namespace scalar
}  // namespace nibble
