// Scale searches shared by the quantizers: ggml's make_qkx2/qkx3_quants
// (fit_scale_min) and make_qx_quants (fit_signed_scale), float operations in
// ggml's order so that the bytes match llama-quantize's.
#pragma once

#include <cstdint>

#include "quant/fp16.h"

namespace nibble {

// Round to nearest, ties to even, as ggml's nearest_int: adding 1.5·2^23
// leaves the rounded integer in the low mantissa bits. Exact for |x| < 2^22;
// beyond that (or NaN, from overflowing inputs) a defined but meaningless
// value that the callers clamp, as ggml's does.
inline int nearest_int(float x) {
  const uint32_t bits = f32_bits(x + 12582912.0f);
  return int(bits & 0x007fffffu) - 0x00400000;
}

inline int clamp_int(int v, int lo, int hi) { return v < lo ? lo : (v > hi ? hi : v); }

// Scale and minimum of one group x[n] (n <= 32) for codes 0..nmax: the
// min/max grid first, then nstep + 1 scales (rmin + rdelta·is + nmax)/(max −
// min), each refit by weighted least squares (scale, min <= 0), keeping the
// one of least Σ w·err². L[n] gets the codes; *neg_min = −min (>= 0).
float fit_scale_min(int n, int nmax, const float* x, const float* w, uint8_t* L, float* neg_min, float rmin,
                    float rdelta, int nstep);

// A signed scale for one group x[n] (n <= 32) and codes L[n] in 0..2·nmax−1
// (level l + nmax): −nmax/max first (max: the value of largest magnitude),
// then −(nmax + 0.1·is)/max for is = −9..9, each refit by weighted least
// squares, keeping the best Σw·x·l / Σw·l². w null: weights x² (ggml's
// make_qx_quants with rmse_type 1; Q6_K's sub-blocks, and Q4_0 / Q5_0 with
// importance data).
float fit_signed_scale(int n, int nmax, const float* x, const float* w, int8_t* L);

// A scale for n values x[n] >= 0 (the K-quants' sub-block scales or
// minimums) with codes L[n] in 0..nmax, weighted by w[n]: nmax/max and
// (nmax + 0.1·is)/max for is = −4..4, the one of least Σw·(x − l/iscale)²,
// then up to 5 passes moving single codes while Σw·x·l / sqrt(Σw·l²) grows;
// returns Σw·x·l / Σw·l² (ggml's make_qp_quants, Q4_K / Q5_K with importance).
float fit_unsigned_scale(int n, int nmax, const float* x, const float* w, uint8_t* L);

}  // namespace nibble
