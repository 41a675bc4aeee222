#include "model/sampler.h"

#include <algorithm>
#include <cmath>

namespace nibble {

int32_t argmax(const float* x, int n) {
  // The maximum in a local: compared with x[best], each step waited for a
  // load whose address the step before had chosen (152 K logits, wasm:
  // 0.58 ms a token).
  int32_t best = 0;
  float max = x[0];
  for (int i = 1; i < n; ++i)
    if (x[i] > max) {
      max = x[i];
      best = i;
    }
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

// Top-k (keep < n) in one pass over the logits with a heap of the keep most
// likely so far, its least likely on top: a logit that does not beat that
// one (most of a large vocabulary) costs one compare. Then the heap sorted.
// Ids come in increasing order, so a tie with the top never replaces it:
// the candidates and their order are the partial sort's, 152 K ids not
// stored first. keep = n (no top-k): every id, heap-sorted as the partial
// sort did (std::sort's code would add 0.8 KB to the download).
void Sampler::select_candidates(const float* logits, int n, int keep) {
  auto more_likely = [logits](int32_t a, int32_t b) {
    return logits[a] > logits[b] || (logits[a] == logits[b] && a < b);
  };
  order_.resize(size_t(keep));
  for (int i = 0; i < keep; ++i) order_[i] = i;
  std::make_heap(order_.begin(), order_.end(), more_likely);
  float least = logits[order_[0]];
  for (int i = keep; i < n; ++i) {
    if (!(logits[i] > least)) continue;
    std::pop_heap(order_.begin(), order_.end(), more_likely);
    order_.back() = i;
    std::push_heap(order_.begin(), order_.end(), more_likely);
    least = logits[order_[0]];
  }
  std::sort_heap(order_.begin(), order_.end(), more_likely);
}

int32_t Sampler::sample(const float* logits, int n) {
  if (!(options_.temperature > 0.0f)) return argmax(logits, n);

  // Candidates sorted by logit, most likely first (ties: lower id first).
  int keep = n;
  if (options_.top_k > 0 && options_.top_k < n) keep = options_.top_k;
  select_candidates(logits, n, keep);

  // Softmax over the kept candidates at this temperature.
  weights_.resize(size_t(keep));
  float* w = weights_.data();
  const float max = logits[order_[0]];
  double sum = 0.0;
  for (int i = 0; i < keep; ++i) {
    w[i] = std::exp((logits[order_[i]] - max) / options_.temperature);
    sum += w[i];
  }
  // Top-p: the shortest prefix whose mass reaches top_p (at least one token).
  if (options_.top_p > 0.0f && options_.top_p < 1.0f) {
    double mass = 0.0;
    int cut = 0;
    while (cut < keep) {
      mass += w[cut] / sum;
      ++cut;
      if (mass >= options_.top_p) break;
    }
    keep = cut;
    sum = 0.0;
    for (int i = 0; i < keep; ++i) sum += w[i];
  }
  const double r = double(next_uniform()) * sum;
  double acc = 0.0;
  for (int i = 0; i < keep; ++i) {
    acc += w[i];
    if (r < acc) return order_[i];
  }
  return order_[keep - 1];  // rounding left r at the very end
}

}  // namespace nibble
