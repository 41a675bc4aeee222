// Generator: the generation loop over one model. The prompt goes through the
// transformer as one batch; then each step samples a token from the last
// logits and feeds it back. Stops are reported as reasons, not errors.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "model/model.h"
#include "model/sampler.h"

namespace nibble {

enum class StopReason {
  kNone = 0,     // not stopped: a token was produced
  kEndOfText,    // the model produced its end-of-sequence (or a new BOS) token
  kMaxTokens,    // max_tokens were produced
  kContextFull,  // the context window is full
};
const char* stop_reason_name(StopReason reason);  // "eos", "max_tokens", "context"

struct GenerationOptions {
  int max_tokens = 256;
  SamplerOptions sampling;
  Precision precision = Precision::kW4A8;
};

class Generator {
 public:
  // context: KV-cache positions (≤ the model's context length); max_batch:
  // prompt tokens per forward batch. pool may be null.
  Generator(const Model& model, int context, int max_batch, ThreadPool* pool);

  // Resets the cache and runs the prompt (which must not be empty: add BOS).
  Status start(const std::vector<int32_t>& prompt, const GenerationOptions& options);
  // Produces the next token, or sets *stop and leaves *token = −1.
  Status next(int32_t* token, StopReason* stop);

  int prompt_tokens() const { return prompt_tokens_; }
  int generated_tokens() const { return generated_; }
  int context() const { return state_.context(); }
  // Logits after the last forward pass [vocab] (for tests and evaluation).
  const std::vector<float>& logits() const { return logits_; }

 private:
  const Model& model_;
  ThreadPool* pool_;
  LlamaState state_;
  GenerationOptions options_;
  std::unique_ptr<Sampler> sampler_;
  std::vector<float> logits_;   // [vocab]
  std::vector<float> scratch_;  // [vocab], the sampler may overwrite it
  int32_t pending_ = -1;        // token sampled but not yet fed
  int prompt_tokens_ = 0;
  int generated_ = 0;
  bool started_ = false;
};

}  // namespace nibble
