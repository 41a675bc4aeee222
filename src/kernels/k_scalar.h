// Plain loops of the K-quant kernels (Q4_K, Q5_K, Q6_K): the references on
// GGUF blocks (ref::) and the scalar tier on the panels (scalar::). Both go
// through KCodes and k_superblock_q8() (k_panel.h), so W4A8 outputs agree
// bit for bit. Their W4A32 kernels dequantize with the type's row
// dequantizer; the scalar W4A32 kernels serve every tier.
#pragma once

#include <cstdint>
#include <vector>

#include "kernels/k_panel.h"
#include "kernels/q4_scalar.h"
#include "quant/fp16.h"

namespace nibble {
namespace ref {

// y[N] = W[N,K] · x[K]; W GGUF blocks of kType, x K/32 Q8_0 blocks.
template <TensorType kType>
void k_gemv_q8(const void* w, int64_t N, int64_t K, const BlockQ8_0* x, float* y) {
  const int64_t nb = K / kQK_K;
  const size_t block_bytes = tensor_type_info(kType)->block_bytes;
  int8_t xq[kQK_K];
  float dx[kKParts];
  int32_t sx[kKParts];
  KCodes codes;
  for (int64_t n = 0; n < N; ++n) {
    float acc = 0.0f;
    for (int64_t b = 0; b < nb; ++b) {
      for (int s = 0; s < kKParts; ++s) {
        const BlockQ8_0& xb = x[b * kKParts + s];
        dx[s] = fp16_to_fp32(xb.d);
        sx[s] = 0;
        for (int l = 0; l < kQK; ++l) {
          xq[kQK * s + l] = xb.qs[l];
          sx[s] += xb.qs[l];
        }
      }
      decode_k_block(kType, static_cast<const uint8_t*>(w) + size_t(n * nb + b) * block_bytes, &codes);
      acc += k_superblock_q8(kType, codes, xq, dx, sx);
    }
    y[n] = acc;
  }
}

// y[N] = W[N,K] · x[K], W dequantized by the type's row dequantizer, double accumulation.
template <TensorType kType>
void k_gemv_f32(const void* w, int64_t N, int64_t K, const float* x, float* y) {
  std::vector<float> row(static_cast<size_t>(K));
  for (int64_t n = 0; n < N; ++n) {
    block_traits(kType)->dequantize(static_cast<const uint8_t*>(w) + size_t(n) * row_size(kType, K), row.data(), K);
    double acc = 0.0;
    for (int64_t k = 0; k < K; ++k) acc += double(row[size_t(k)]) * double(x[k]);
    y[n] = float(acc);
  }
}

}  // namespace ref

namespace scalar {

// W4A8 on the panels, up to max_rows activation rows per unpacked panel.
template <TensorType kType>
void k_q8_tiles(const PackedView& w, const Q8Activations& x, const OutputTile& out, int max_rows) {
  const int64_t nb = w.K / kQK_K, nb32 = w.K / kQK;
  for_each_group_tile(out, max_rows, [&](int64_t g, int64_t m0, int mr) {
    float acc[4][kPackRows] = {};
    KCodes codes;
    alignas(16) uint8_t buf[kKMaxPanelBytes];
    for (int64_t b = 0; b < nb; ++b) {
      const uint8_t* panel = k_whole_panel<kType>(w, g, b, buf);
      for (int i = 0; i < kPackRows; ++i) {
        read_k_row(kType, panel, i, &codes);
        for (int mi = 0; mi < mr; ++mi) {
          const int64_t m = m0 + mi;
          acc[mi][i] += k_superblock_q8(kType, codes, x.qs + m * w.K + b * kQK_K, x.d + m * nb32 + b * kKParts,
                                        x.sums + m * nb32 + b * kKParts);
        }
      }
    }
    store_tile(out, g, m0, mr, acc);
  });
}

// W4A32 on the panels: each super-block of the group dequantized once (by
// the row dequantizer, through the GGUF block) and used for up to max_rows
// activation rows; per super-block a float sum of 256 products.
template <TensorType kType>
void k_f32_tiles(const PackedView& w, const F32Activations& x, const OutputTile& out, int max_rows) {
  const int64_t nb = w.K / kQK_K;
  for_each_group_tile(out, max_rows, [&](int64_t g, int64_t m0, int mr) {
    float acc[4][kPackRows] = {};
    float wf[kPackRows][kQK_K];
    for (int64_t b = 0; b < nb; ++b) {
      alignas(16) uint8_t buf[kKMaxPanelBytes];
      const uint8_t* panel = k_whole_panel<kType>(w, g, b, buf);
      for (int i = 0; i < kPackRows; ++i) dequantize_k_row(kType, panel, i, wf[i]);
      for (int mi = 0; mi < mr; ++mi) {
        const float* xb = x.x + (m0 + mi) * w.K + b * kQK_K;
        for (int i = 0; i < kPackRows; ++i) {
          float s = 0.0f;
          for (int k = 0; k < kQK_K; ++k) s += wf[i][k] * xb[k];
          acc[mi][i] += s;
        }
      }
    }
    store_tile(out, g, m0, mr, acc);
  });
}

}  // namespace scalar
}  // namespace nibble
