#include "model/sampler.h"

#include <algorithm>
#include <cmath>

namespace nibble {

int32_t argmax(const float* x, int n) {
  int32_t best = 0;
  for (int i = 1; i < n; ++i)
    if (x[i] > x[best]) best = i;
  return best;
}

Sampler::Sampler(const SamplerOptions& options) : options_(options) {
  // splitmix64 of the seed, so that nearby seeds start far apart; never 0.
  uint64_t z = options.seed + 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  state_ = (z ^ (z >> 31)) | 1;
}

float Sampler::next_uniform() {
  // xorshift64*, top 24 bits as the float's mantissa.
  state_ ^= state_ >> 12;
  state_ ^= state_ << 25;
  state_ ^= state_ >> 27;
  const uint64_t r = state_ * 0x2545f4914f6cdd1dull;
  return float(r >> 40) / 16777216.0f;
}

int32_t Sampler::sample(float* logits, int n) {
  if (!(options_.temperature > 0.0f)) return argmax(logits, n);

  // Candidates sorted by logit, most likely first (ties: lower id first).
  order_.resize(size_t(n));
  for (int i = 0; i < n; ++i) order_[i] = i;
  int keep = n;
  if (options_.top_k > 0 && options_.top_k < n) keep = options_.top_k;
  auto more_likely = [logits](int32_t a, int32_t b) {
    return logits[a] > logits[b] || (logits[a] == logits[b] && a < b);
  };
  std::partial_sort(order_.begin(), order_.begin() + keep, order_.end(), more_likely);

  // Softmax over the kept candidates at this temperature.
  const float max = logits[order_[0]];
  double sum = 0.0;
  for (int i = 0; i < keep; ++i) {
    const int32_t id = order_[i];
    logits[id] = std::exp((logits[id] - max) / options_.temperature);
    sum += logits[id];
  }
  // Top-p: the shortest prefix whose mass reaches top_p (at least one token).
  if (options_.top_p > 0.0f && options_.top_p < 1.0f) {
    double mass = 0.0;
    int cut = 0;
    while (cut < keep) {
      mass += logits[order_[cut]] / sum;
      ++cut;
      if (mass >= options_.top_p) break;
    }
    keep = cut;
    sum = 0.0;
    for (int i = 0; i < keep; ++i) sum += logits[order_[i]];
  }
  const double r = double(next_uniform()) * sum;
  double acc = 0.0;
  for (int i = 0; i < keep; ++i) {
    acc += logits[order_[i]];
    if (r < acc) return order_[i];
  }
  return order_[keep - 1];  // rounding left r at the very end
}

}  // namespace nibble
