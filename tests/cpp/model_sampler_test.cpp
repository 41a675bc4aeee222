// The sampler against a plain definition: every candidate sorted (most
// likely first, ties by lower id), cut to top-k, softmax at the
// temperature, cut to top-p, drawn from the same generator. Equal tokens
// for equal seeds, over vocabularies with ties and with all of their
// logits equal.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <random>
#include <vector>

#include "model/sampler.h"

namespace nibble {
namespace {

// The definition, drawing its uniform number from `draw`.
int32_t sample_by_sorting(const std::vector<float>& logits, const SamplerOptions& o, Sampler& draw) {
  const int n = int(logits.size());
  std::vector<int32_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](int32_t a, int32_t b) {
    return logits[a] > logits[b] || (logits[a] == logits[b] && a < b);
  });
  if (!(o.temperature > 0.0f)) return order[0];
  int keep = o.top_k > 0 && o.top_k < n ? o.top_k : n;
  std::vector<float> w(static_cast<size_t>(keep));
  double sum = 0.0;
  for (int i = 0; i < keep; ++i) {
    w[i] = std::exp((logits[order[i]] - logits[order[0]]) / o.temperature);
    sum += w[i];
  }
  if (o.top_p > 0.0f && o.top_p < 1.0f) {
    double mass = 0.0;
    int cut = 0;
    while (cut < keep) {
      mass += w[cut++] / sum;
      if (mass >= o.top_p) break;
    }
    keep = cut;
    sum = std::accumulate(w.begin(), w.begin() + keep, 0.0);
  }
  const double r = double(draw.next_uniform()) * sum;
  double acc = 0.0;
  for (int i = 0; i < keep; ++i) {
    acc += w[i];
    if (r < acc) return order[i];
  }
  return order[keep - 1];
}

TEST(ModelSampler, MatchesSortingEveryCandidate) {
  std::mt19937 rng(5);
  for (int n : {1, 2, 7, 40, 41, 1000, 5000}) {
    for (int pattern = 0; pattern < 3; ++pattern) {
      for (const int top_k : {0, 1, 2, 3, 40, n - 1, n, n + 5}) {
        for (const float top_p : {1.0f, 0.95f, 0.5f, 1e-6f}) {
          for (const float temperature : {0.0f, 0.8f, 1.5f}) {
            SamplerOptions o;
            o.temperature = temperature;
            o.top_k = std::max(0, top_k);
            o.top_p = top_p;
            o.seed = rng();
            Sampler sampler(o), reference(o);
            for (int step = 0; step < 4; ++step) {
              // Distinct values, few distinct values (many ties), all equal.
              std::vector<float> logits(static_cast<size_t>(n));
              std::normal_distribution<float> normal(0.0f, 3.0f);
              for (float& x : logits) x = pattern == 0 ? normal(rng) : pattern == 1 ? float(rng() % 5) : 1.25f;
              const std::vector<float> before = logits;
              const int32_t want = sample_by_sorting(logits, o, reference);
              const int32_t got = sampler.sample(logits.data(), n);
              ASSERT_EQ(got, want) << "n " << n << " pattern " << pattern << " top_k " << o.top_k << " top_p " << top_p
                                   << " temperature " << temperature << " step " << step;
              ASSERT_EQ(logits, before) << "the sampler wrote to the logits";
            }
          }
        }
      }
    }
  }
}

TEST(ModelSampler, GreedyTakesTheLowestIdOfTheLargest) {
  const std::vector<float> logits = {0.5f, 2.0f, -1.0f, 2.0f, 1.9f};
  SamplerOptions o;
  o.temperature = 0.0f;
  Sampler sampler(o);
  EXPECT_EQ(sampler.sample(logits.data(), int(logits.size())), 1);
  EXPECT_EQ(argmax(logits.data(), int(logits.size())), 1);
}

}  // namespace
}  // namespace nibble
