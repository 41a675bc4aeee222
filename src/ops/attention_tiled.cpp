// Prompt attention in tiles (ops.h, attention_prompt): a tile of query rows
// (kTileTokens tokens × the group's heads) meets the keys a tile of kTileKeys
// at a time, with an online softmax (FlashAttention's shape): each key and
// value row is read once per query tile instead of once per query, and the
// loops below run along contiguous rows, which clang vectorizes without
// reordering any sum.
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "ops/ops.h"

namespace nibble {
namespace {

constexpr int kTileTokens = 4;  // query tokens per tile (× heads rows)
constexpr int kTileKeys = 32;   // key positions per tile
constexpr int kSlice = 16;      // output values per register slice of P · V

}  // namespace

void attention_prompt(float* out, int out_stride, const float* q, int q_stride, int heads, int n, int first_pos,
                      const float* k, const float* v, int head_dim, int window, float cap) {
  const int hd = head_dim, rows_max = kTileTokens * heads;
  thread_local std::vector<float> scratch;
  scratch.resize(size_t(rows_max) * (kTileKeys + hd + 2) + size_t(hd) * kTileKeys);
  float* s = scratch.data();                     // [rows, kTileKeys]  scores, then their exps
  float* acc = s + size_t(rows_max) * kTileKeys;  // [rows, hd]  Σ exp · v
  float* row_max = acc + size_t(rows_max) * hd;  // [rows]  running max of the scores
  float* row_sum = row_max + rows_max;           // [rows]  Σ exp(score − row_max)
  float* kt = row_sum + rows_max;                // [hd, kTileKeys]  the key tile transposed
  const float norm = std::sqrt(float(hd));
  const float minus_inf = -std::numeric_limits<float>::infinity();
  // Row r of a tile: token t0 + r / heads, head r % heads.
  for (int t0 = 0; t0 < n; t0 += kTileTokens) {
    const int tokens = std::min(kTileTokens, n - t0), rows = tokens * heads;
    std::fill(acc, acc + size_t(rows) * hd, 0.0f);
    std::fill(row_max, row_max + rows, minus_inf);
    std::fill(row_sum, row_sum + rows, 0.0f);
    // Token t sees positions [start(t), first_pos + t]; the tile, their union.
    const auto start_of = [&](int t) { return window > 0 ? std::max(0, first_pos + t + 1 - window) : 0; };
    const int end = first_pos + t0 + tokens;
    for (int p0 = start_of(t0); p0 < end; p0 += kTileKeys) {
      const int keys = std::min(kTileKeys, end - p0);
      // Zeros past `keys`: the score loop runs over whole tiles (a constant
      // trip count clang unrolls, the sums in registers); those are masked.
      for (int j = 0; j < kTileKeys; ++j)
        for (int d = 0; d < hd; ++d) kt[d * kTileKeys + j] = j < keys ? k[size_t(p0 + j) * hd + d] : 0.0f;
      for (int r = 0; r < rows; ++r) {
        const int t = t0 + r / heads, last = first_pos + t, first = start_of(t);
        float* sr = s + size_t(r) * kTileKeys;
        if (p0 > last || p0 + keys <= first) {  // no key of the tile is visible to this row
          std::fill(sr, sr + keys, 0.0f);
          continue;
        }
        const float* qr = q + size_t(t) * q_stride + (r % heads) * hd;
        float dots[kTileKeys] = {};
        for (int d = 0; d < hd; ++d) {
          const float qd = qr[d];
          const float* kd = kt + d * kTileKeys;
          for (int j = 0; j < kTileKeys; ++j) dots[j] += qd * kd[j];
        }
        std::copy(dots, dots + keys, sr);
        float tile_max = minus_inf;
        for (int j = 0; j < keys; ++j) {
          float score = sr[j] / norm;
          if (cap > 0.0f) score = cap * std::tanh(score / cap);
          const int p = p0 + j;
          sr[j] = p < first || p > last ? minus_inf : score;
          tile_max = std::max(tile_max, sr[j]);
        }
        const float new_max = std::max(row_max[r], tile_max);
        // exp(−inf) = 0 for the masked keys and for a row's first tile.
        const float rescale = row_max[r] == minus_inf ? 0.0f : std::exp(row_max[r] - new_max);
        row_max[r] = new_max;
        row_sum[r] = row_sum[r] * rescale + exp_shifted(sr, keys, new_max);
        float* ar = acc + size_t(r) * hd;
        for (int d = 0; d < hd; ++d) ar[d] *= rescale;
      }
      // acc += P · V in slices of kSlice values that stay in registers over
      // the tile's keys; a narrower last slice (head_dim % kSlice) as it comes.
      for (int r = 0; r < rows; ++r) {
        const float* sr = s + size_t(r) * kTileKeys;
        float* ar = acc + size_t(r) * hd;
        int d0 = 0;
        for (; d0 + kSlice <= hd; d0 += kSlice) {
          float slice[kSlice];
          std::copy(ar + d0, ar + d0 + kSlice, slice);
          for (int j = 0; j < keys; ++j) {
            const float a = sr[j];
            const float* vj = v + size_t(p0 + j) * hd + d0;
            for (int d = 0; d < kSlice; ++d) slice[d] += a * vj[d];
          }
          std::copy(slice, slice + kSlice, ar + d0);
        }
        for (int j = 0; j < keys; ++j)
          for (int d = d0; d < hd; ++d) ar[d] += sr[j] * v[size_t(p0 + j) * hd + d];
      }
    }
    for (int r = 0; r < rows; ++r) {
      float* o = out + size_t(t0 + r / heads) * out_stride + (r % heads) * hd;
      const float* ar = acc + size_t(r) * hd;
      for (int d = 0; d < hd; ++d) o[d] = ar[d] / row_sum[r];
    }
  }
}

}  // namespace nibble
