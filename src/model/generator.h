// Generator: the generation loop over one model. The prompt goes through the
// transformer as one batch; then each step samples a token from the last
// logits and feeds it back. Stops are reported as reasons, not errors.
//
// Prefix reuse: the KV cache keeps the last sequence (prompt and the tokens
// fed after it). A start() whose prompt begins with tokens of that sequence
// keeps their keys and values and runs only the rest, so a chat's next turn,
// which resends the whole history, prefills only the new turn.
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

  // Runs the prompt (which must not be empty: add BOS) after the longest
  // prefix of it the cache already holds (computed with the same precision;
  // its last token always runs, for its logits).
  Status start(const std::vector<int32_t>& prompt, const GenerationOptions& options);
  // Produces the next token, or sets *stop and leaves *token = −1.
  Status next(int32_t* token, StopReason* stop);

  int prompt_tokens() const { return prompt_tokens_; }
  // Prompt tokens the last start() took from the cache instead of running.
  int cached_tokens() const { return cached_tokens_; }
  int generated_tokens() const { return generated_; }
  int context() const { return state_.context(); }
  // Logits after the last forward pass [vocab] (for tests and evaluation).
  const std::vector<float>& logits() const { return logits_; }

 private:
  void forget_cache();

  const Model& model_;
  ThreadPool* pool_;
  LlamaState state_;
  GenerationOptions options_;
  std::unique_ptr<Sampler> sampler_;
  std::vector<float> logits_;   // [vocab]
  int32_t pending_ = -1;        // token sampled but not yet fed
  // The tokens whose keys and values the cache holds, by position, and the
  // precision they were computed with.
  std::vector<int32_t> cached_;
  Precision cached_precision_ = Precision::kW4A8;
  int prompt_tokens_ = 0;
  int cached_tokens_ = 0;
  int generated_ = 0;
  bool started_ = false;
};

}  // namespace nibble
