// Clipping search (ClipMode::kMse): per 32-block, the scale (Q4_0) or scale
// and offset (Q4_1) minimizing the importance-weighted squared error
//   E = Σ_j w[j]·(x[j] − x̂[j])²,  x̂ = d·l (Q4_0, l ∈ [−8, 7]) or d·l + m (Q4_1, l ∈ [0, 15]).
//
// For each candidate level assignment (x scaled by a grid of trial scales,
// rounded and clamped) the best d (and m) for those levels is the weighted
// least-squares fit; candidates are ranked by the closed-form E after the
// scales are rounded to fp16. The winner is polished by alternating
// "levels nearest to x for this d" and "refit d for these levels" while the
// closed-form E drops. Finally the exact E (from the dequantized bytes) of
// the result and of the round-to-nearest block (llama.cpp's rule) are
// compared, so the result is never worse than round-to-nearest.
// The idea follows ggml's make_qx_quants / make_qkx2_quants; the code is ours.
#include <cmath>
#include <cstdint>
#include <cstring>

#include "quant/fp16.h"
#include "quant/nibbles.h"
#include "quant/quantize_row.h"

namespace nibble {
namespace {

// One block with its weights: x[32], w[32] (1 when no importance), wx = w·x.
struct WeightedBlock {
  float x[kQK];
  float w[kQK];
  float wx[kQK];
  double sum_w = 0;   // Σ w
  double sum_wx = 0;  // Σ w·x
};

void load_block(const float* x, const float* importance, WeightedBlock* b) {
  b->sum_w = 0;
  b->sum_wx = 0;
  for (int j = 0; j < kQK; ++j) {
    b->x[j] = x[j];
    b->w[j] = importance ? importance[j] : 1.0f;
    b->wx[j] = b->w[j] * x[j];
    b->sum_w += b->w[j];
    b->sum_wx += b->wx[j];
  }
}

// round(clamp(v, lo, hi)) to nearest (ties to even) in float arithmetic:
// adding and subtracting 1.5·2^23 drops the fraction for |v| < 2^22.
// NaN goes to lo.
inline float clamp_round(float v, float lo, float hi) {
  constexpr float kMagic = 12582912.0f;
  v = v > lo ? (v < hi ? v : hi) : lo;
  return (v + kMagic) - kMagic;
}

// Levels l[j] = round(clamp(x[j]·scale + offset, lo, hi)) and the weighted
// sums a least-squares fit needs: Σ w·l, Σ w·l², Σ w·x·l. Four partial sums
// (j mod 4) combined in a fixed order, so the loop can become SIMD and every
// build gets the same bits. kKeepLevels: also store l[32] in levels.
struct LevelSums {
  double sl, sll, sxl;
};
template <bool kKeepLevels>
LevelSums level_sums(const WeightedBlock& b, float scale, float offset, float lo, float hi,
                     float* __restrict levels) {
  float sl[4] = {0, 0, 0, 0}, sll[4] = {0, 0, 0, 0}, sxl[4] = {0, 0, 0, 0};
  for (int j = 0; j < kQK; j += 4) {
    for (int k = 0; k < 4; ++k) {
      const float l = clamp_round(b.x[j + k] * scale + offset, lo, hi);
      if (kKeepLevels) levels[j + k] = l;
      const float wl = b.w[j + k] * l;
      sl[k] += wl;
      sll[k] += wl * l;
      sxl[k] += b.wx[j + k] * l;
    }
  }
  return {double((sl[0] + sl[1]) + (sl[2] + sl[3])), double((sll[0] + sll[1]) + (sll[2] + sll[3])),
          double((sxl[0] + sxl[1]) + (sxl[2] + sxl[3]))};
}

// The value an fp16 round trip gives; 0 for what is unusable as a scale
// (overflow to inf). Same result as fp16_to_fp32(fp32_to_fp16(v)), with a
// fast path where the result is a normal fp16: round the f32 mantissa to 10
// bits, ties to even (checked equal on every float of magnitude 2^-17 .. 2^17).
inline float fp16_rounded(double value) {
  const float v = float(value);
  const uint32_t u = f32_bits(v);
  const uint32_t a = u & 0x7fffffffu;
  if (a >= 0x38800000u && a < 0x477fe000u) {  // [2^-14, 65504): stays normal
    return f32_from_bits((u + 0x0fffu + ((u >> 13) & 1u)) & ~0x1fffu);
  }
  const float r = fp16_to_fp32(fp32_to_fp16(v));
  return std::isfinite(r) ? r : 0.0f;
}

// Exact E of a dequantized block xhat[32], in double, j = 0..31 in order.
double weighted_error(const WeightedBlock& b, const float* xhat) {
  double e = 0;
  for (int j = 0; j < kQK; ++j) {
    const double diff = double(b.x[j]) - double(xhat[j]);
    e += double(b.w[j]) * (diff * diff);
  }
  return e;
}

// The better of the round-to-nearest block and the search's block by exact E
// (ties keep round-to-nearest). A NaN E (an fp16 scale that overflowed) loses
// to any number.
template <typename Block, typename Dequantize>
Block better_block(const WeightedBlock& b, const Block& rtn, const Block& searched, Dequantize dequantize) {
  float xhat[kQK];
  dequantize(&rtn, xhat, kQK);
  const double rtn_error = weighted_error(b, xhat);
  dequantize(&searched, xhat, kQK);
  const double searched_error = weighted_error(b, xhat);
  const bool better = searched_error < rtn_error || (std::isnan(rtn_error) && !std::isnan(searched_error));
  return better ? searched : rtn;
}

// ---------------------------------------------------------------- Q4_0 ----

// Trial levels for the element of largest magnitude: −8 is round-to-nearest's
// choice; more negative clips it (finer steps for the rest), less negative
// coarsens. (Mapping it to +7 instead never won on our test data.)
constexpr float kQ4_0Targets[] = {-7.0f, -7.5f, -8.0f, -8.5f, -9.0f, -9.5f,
                                  -10.0f, -10.5f, -11.0f, -12.0f, -13.0f};

// E − Σw·x² for x̂ = d·l given the level sums.
inline double q4_0_score(double d, const LevelSums& s) { return d * d * s.sll - 2.0 * d * s.sxl; }

BlockQ4_0 make_q4_0(float d, const float* levels) {
  BlockQ4_0 out;
  out.d = fp32_to_fp16(d);
  uint8_t codes[kQK];
  for (int j = 0; j < kQK; ++j) codes[j] = uint8_t(int(levels[j]) + 8);
  pack_nibbles(codes, out.qs);
  return out;
}

BlockQ4_0 search_q4_0(const float* x, const float* importance) {
  BlockQ4_0 rtn;
  quantize_row_q4_0_ref(x, &rtn, kQK);
  float amax = 0.0f, max = 0.0f;
  for (int j = 0; j < kQK; ++j) {
    if (amax < std::fabs(x[j])) {
      amax = std::fabs(x[j]);
      max = x[j];
    }
  }
  if (amax == 0.0f) return rtn;
  WeightedBlock b;
  load_block(x, importance, &b);

  // Rank the grid by closed-form E with fp16 scales: for each trial scale
  // both the least-squares refit and the trial scale itself.
  float best_d = 0.0f;
  double best_score = INFINITY;
  for (float target : kQ4_0Targets) {
    const float scale = target / max;
    const LevelSums s = level_sums<false>(b, scale, 0.0f, -8.0f, 7.0f, nullptr);
    if (!(s.sll > 0)) continue;
    const double fits[2] = {s.sxl / s.sll, 1.0 / double(scale)};
    for (double d : fits) {
      const float d16 = fp16_rounded(d);
      const double score = q4_0_score(d16, s);
      if (d16 != 0.0f && score < best_score) {
        best_score = score;
        best_d = d16;
      }
    }
  }
  if (best_d == 0.0f) return rtn;
  // Polish: levels nearest for d, then refit d for those levels; keep the
  // best (d, levels) by closed-form E.
  float levels[kQK], best_levels[kQK];
  float d = best_d;
  best_score = INFINITY;
  for (int round = 0; round < 3; ++round) {
    const LevelSums s = level_sums<true>(b, 1.0f / d, 0.0f, -8.0f, 7.0f, levels);
    const double score = q4_0_score(d, s);
    if (!(score < best_score)) break;  // also stops on NaN
    best_score = score;
    best_d = d;
    std::memcpy(best_levels, levels, sizeof levels);
    const float refit = s.sll > 0 ? fp16_rounded(s.sxl / s.sll) : 0.0f;
    if (refit == 0.0f || refit == d) break;
    d = refit;
  }
  if (best_score == INFINITY) return rtn;
  return better_block(b, rtn, make_q4_0(best_d, best_levels), dequantize_row_q4_0);
}

// ---------------------------------------------------------------- Q4_1 ----

// E − Σw·x² for x̂ = d·l + m given the level sums.
inline double q4_1_score(double d, double m, const WeightedBlock& b, const LevelSums& s) {
  return d * d * s.sll + 2.0 * d * m * s.sl + m * m * b.sum_w - 2.0 * d * s.sxl - 2.0 * m * b.sum_wx;
}

// The fp16 (d, m) for fixed levels: weighted least squares for d, rounded,
// then m refit for that d, rounded. False if the fit is degenerate.
bool fit_q4_1(const WeightedBlock& b, const LevelSums& s, float* d16, float* m16) {
  const double det = b.sum_w * s.sll - s.sl * s.sl;
  if (!(det > 0) || !(b.sum_w > 0)) return false;
  *d16 = fp16_rounded((b.sum_w * s.sxl - b.sum_wx * s.sl) / det);
  *m16 = fp16_rounded((b.sum_wx - double(*d16) * s.sl) / b.sum_w);
  return *d16 != 0.0f;
}

BlockQ4_1 make_q4_1(float d, float m, const float* levels) {
  BlockQ4_1 out;
  out.d = fp32_to_fp16(d);
  out.m = fp32_to_fp16(m);
  uint8_t codes[kQK];
  for (int j = 0; j < kQK; ++j) codes[j] = uint8_t(levels[j]);
  pack_nibbles(codes, out.qs);
  return out;
}

// Trial steps per range: 15 is round-to-nearest's; more clips the far end(s).
constexpr float kQ4_1Steps[] = {14.5f, 15.0f, 15.5f, 16.0f, 17.0f, 18.0f};

BlockQ4_1 search_q4_1(const float* x, const float* importance) {
  BlockQ4_1 rtn;
  quantize_row_q4_1_ref(x, &rtn, kQK);
  float min = x[0], max = x[0];
  for (int j = 1; j < kQK; ++j) {
    min = x[j] < min ? x[j] : min;
    max = x[j] > max ? x[j] : max;
  }
  const float range = max - min;
  if (!(range > 0.0f) || !std::isfinite(range)) return rtn;
  WeightedBlock b;
  load_block(x, importance, &b);

  // Three anchorings of the grid: at min (clips the top), at max (clips the
  // bottom), at the centre (clips both ends); at 15 steps they coincide.
  float best_d = 0.0f, best_m = 0.0f;
  double best_score = INFINITY;
  const float centre = 0.5f * (min + max);
  for (float steps : kQ4_1Steps) {
    const float scale = steps / range;
    const float offsets[3] = {-min * scale, 15.0f - max * scale, 7.5f - centre * scale};
    for (int anchor = 0; anchor < (steps == 15.0f ? 1 : 3); ++anchor) {
      const LevelSums s = level_sums<false>(b, scale, offsets[anchor], 0.0f, 15.0f, nullptr);
      float d16, m16;
      if (!fit_q4_1(b, s, &d16, &m16)) continue;
      const double score = q4_1_score(d16, m16, b, s);
      if (score < best_score) {
        best_score = score;
        best_d = d16;
        best_m = m16;
      }
    }
  }
  if (best_d == 0.0f) return rtn;
  // Polish: levels nearest for (d, m), then refit (d, m) for those levels;
  // keep the best by closed-form E.
  float levels[kQK], best_levels[kQK];
  float d = best_d, m = best_m;
  best_score = INFINITY;
  for (int round = 0; round < 3; ++round) {
    const float scale = 1.0f / d;
    const LevelSums s = level_sums<true>(b, scale, -m * scale, 0.0f, 15.0f, levels);
    const double score = q4_1_score(d, m, b, s);
    if (!(score < best_score)) break;  // also stops on NaN
    best_score = score;
    best_d = d;
    best_m = m;
    std::memcpy(best_levels, levels, sizeof levels);
    if (!fit_q4_1(b, s, &d, &m) || (d == best_d && m == best_m)) break;
  }
  if (best_score == INFINITY) return rtn;
  return better_block(b, rtn, make_q4_1(best_d, best_m, best_levels), dequantize_row_q4_1);
}

}  // namespace

// y[n/32] <- x[n], importance[n] (or null)
void quantize_row_q4_0_mse(const float* x, BlockQ4_0* y, int64_t n, const float* importance) {
  for (int64_t i = 0; i < n / kQK; ++i) {
    y[i] = search_q4_0(x + i * kQK, importance ? importance + i * kQK : nullptr);
  }
}

// y[n/32] <- x[n], importance[n] (or null)
void quantize_row_q4_1_mse(const float* x, BlockQ4_1* y, int64_t n, const float* importance) {
  for (int64_t i = 0; i < n / kQK; ++i) {
    y[i] = search_q4_1(x + i * kQK, importance ? importance + i * kQK : nullptr);
  }
}

}  // namespace nibble
