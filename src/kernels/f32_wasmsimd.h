// wasm SIMD128 loops for f32 weights (any K), shared by the f32 *__wasmsimd
// kernels: 4 weight rows × MR activation rows per tile, k in steps of 4 with
// the last K % 4 columns added in scalar code; N % 4 rows go to the scalar kernel.
#pragma once

#ifdef __wasm_simd128__

#include <wasm_simd128.h>

#include <algorithm>
#include <cstdint>

#include "kernels/microkernels.h"
#include "kernels/wasmsimd_util.h"

namespace nibble {
namespace wasmsimd {

// Y[m0 .. m0+MR, n0 .. n0+4].
template <int MR>
void f32_tile(const F32Weights& w, const F32Activations& x, int64_t n0, int64_t m0, float* y, int64_t ldy) {
  const int64_t K = w.K, K4 = K / 4 * 4;
  const float* wr[4] = {w.data + n0 * K, w.data + (n0 + 1) * K, w.data + (n0 + 2) * K, w.data + (n0 + 3) * K};
  v128_t acc[MR][4];
  for (int mi = 0; mi < MR; ++mi)
    for (int i = 0; i < 4; ++i) acc[mi][i] = wasm_f32x4_splat(0.0f);
  for (int64_t k = 0; k < K4; k += 4) {
    v128_t wv[4];
    for (int i = 0; i < 4; ++i) wv[i] = wasm_v128_load(wr[i] + k);
    for (int mi = 0; mi < MR; ++mi) {
      const v128_t xv = wasm_v128_load(x.x + (m0 + mi) * K + k);
      for (int i = 0; i < 4; ++i) acc[mi][i] = wasm_f32x4_add(acc[mi][i], wasm_f32x4_mul(wv[i], xv));
    }
  }
  for (int mi = 0; mi < MR; ++mi) {
    alignas(16) float out[4];
    wasm_v128_store(out, reduce4_f32(acc[mi][0], acc[mi][1], acc[mi][2], acc[mi][3]));
    const float* xr = x.x + (m0 + mi) * K;
    for (int i = 0; i < 4; ++i) {
      for (int64_t k = K4; k < K; ++k) out[i] += wr[i][k] * xr[k];
      y[(m0 + mi) * ldy + n0 + i] = out[i];
    }
  }
}

template <typename Scalar>
void f32_tiles(const F32Weights& w, const F32Activations& x, const OutputTile& out, int max_rows, Scalar scalar_tail) {
  int64_t n = out.n_begin;
  for (; n + 4 <= out.n_end; n += 4) {
    int64_t m = out.m_begin;
    for (; m + max_rows <= out.m_end; m += max_rows) {
      if (max_rows == 4) f32_tile<4>(w, x, n, m, out.y, out.ldy);
      else f32_tile<1>(w, x, n, m, out.y, out.ldy);
    }
    switch (out.m_end - m) {
      case 3: f32_tile<3>(w, x, n, m, out.y, out.ldy); break;
      case 2: f32_tile<2>(w, x, n, m, out.y, out.ldy); break;
      case 1: f32_tile<1>(w, x, n, m, out.y, out.ldy); break;
      default: break;
    }
  }
  if (n < out.n_end) scalar_tail(w, x, OutputTile{out.y, out.ldy, out.m_begin, out.m_end, n, out.n_end});
}

}  // namespace wasmsimd
}  // namespace nibble

#endif  // __wasm_simd128__
