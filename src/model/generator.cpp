#include "model/generator.h"

#include <algorithm>

#include "runtime/decimal_text.h"

namespace nibble {

const char* stop_reason_name(StopReason reason) {
  switch (reason) {
    case StopReason::kNone: return "none";
    case StopReason::kEndOfText: return "eos";
    case StopReason::kMaxTokens: return "max_tokens";
    case StopReason::kContextFull: return "context";
  }
  return "?";
}

Generator::Generator(const Model& model, int context, int max_batch, ThreadPool* pool)
    : model_(model),
      pool_(pool),
      state_(*model.llama, std::max(1, std::min(context, model.config.context_length)), max_batch),
      logits_(size_t(model.config.vocab_size)) {}

// After a failed forward pass the cache holds an unknown part of the batch.
void Generator::forget_cache() {
  state_.truncate(0);
  cached_.clear();
  started_ = false;
}

Status Generator::start(const std::vector<int32_t>& prompt, const GenerationOptions& options) {
  started_ = false;
  if (prompt.empty()) return InvalidArgument("the prompt has no tokens; start it with the BOS token");
  if (options.max_tokens < 0) return InvalidArgument("max_tokens must be ≥ 0");
  if (int(prompt.size()) > state_.context())
    return OutOfRange("the prompt has " + integer_text(prompt.size()) + " tokens but the context holds " +
                      integer_text(state_.context()));
  options_ = options;
  sampler_.reset(new Sampler(options.sampling));
  size_t keep = 0;
  if (options.precision == cached_precision_) {
    while (keep + 1 < prompt.size() && keep < cached_.size() && cached_[keep] == prompt[keep]) ++keep;
  }
  state_.truncate(int(keep));
  cached_.resize(keep);
  Status s = state_.forward(prompt.data() + keep, int(prompt.size() - keep), logits_.data(), false,
                            options.precision, pool_);
  if (!s.ok()) {
    forget_cache();
    return s;
  }
  cached_.insert(cached_.end(), prompt.begin() + keep, prompt.end());
  cached_precision_ = options.precision;
  cached_tokens_ = int(keep);
  prompt_tokens_ = int(prompt.size());
  generated_ = 0;
  pending_ = -1;
  started_ = true;
  return Status::Ok();
}

Status Generator::next(int32_t* token, StopReason* stop) {
  *token = -1;
  *stop = StopReason::kNone;
  if (!started_) return StateError("call start() with a prompt before next()");
  if (generated_ >= options_.max_tokens) {
    *stop = StopReason::kMaxTokens;
    return Status::Ok();
  }
  if (pending_ >= 0) {
    // Feed the previous token only now, so the last one costs no forward pass.
    if (state_.position() >= state_.context()) {
      *stop = StopReason::kContextFull;
      return Status::Ok();
    }
    Status s = state_.forward(&pending_, 1, logits_.data(), false, options_.precision, pool_);
    if (!s.ok()) {
      forget_cache();
      return s;
    }
    cached_.push_back(pending_);
    pending_ = -1;
  }
  const int32_t t = sampler_->sample(logits_.data(), int(logits_.size()));
  // Every end-of-generation token the vocabulary has (EOS, a chat model's
  // end of turn ...) stops; so does BOS mid-text, which starts a new
  // document: llama2.c's run.c stops there, and its models (stories260K)
  // never emit EOS.
  if (model_.tokenizer->is_end_of_generation(t) || t == model_.tokenizer->bos()) {
    *stop = StopReason::kEndOfText;
    return Status::Ok();
  }
  pending_ = t;
  ++generated_;
  *token = t;
  return Status::Ok();
}

}  // namespace nibble
