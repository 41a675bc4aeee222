// Picks the next token from logits: greedy when temperature is 0, otherwise
// softmax(logits / temperature) cut to the top-k most likely tokens and then
// to the smallest set whose probability reaches top-p, drawn with a seeded
// generator so that equal seeds give equal runs.
#pragma once

#include <cstdint>
#include <vector>

namespace nibble {

struct SamplerOptions {
  float temperature = 0.8f;  // 0 = greedy
  int top_k = 40;            // 0 = no limit
  float top_p = 0.95f;       // 1 = no limit
  uint64_t seed = 0;
};

class Sampler {
 public:
  explicit Sampler(const SamplerOptions& options);
  // logits[n] are read only (a decoded token's vocabulary, 152 K for
  // Qwen2.5, is not copied).
  int32_t sample(const float* logits, int n);
  // A uniform float in [0, 1) from the generator (exposed for tests).
  float next_uniform();

 private:
  // order_ = the `keep` most likely ids, most likely first (ties: lower id).
  void select_candidates(const float* logits, int n, int keep);

  SamplerOptions options_;
  uint64_t state_;
  std::vector<int32_t> order_;  // scratch: candidate token ids
  std::vector<float> weights_;  // scratch: their exp((logit − max) / temperature)
};

// The index of the largest value, the lowest index on ties.
int32_t argmax(const float* x, int n);

}  // namespace nibble
