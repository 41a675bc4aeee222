// ModelTools: checks and bookkeeping around src/model's importance collector
// and calibrated quantizer.
#include "api/model_tools.h"

#include <algorithm>
#include <vector>

#include "format/imatrix_gguf.h"
#include "model/model_writer.h"
#include "runtime/decimal_text.h"

namespace nibble {

ApiStatus loader_set_importance(TextModelLoader& loader, uintptr_t data, uint32_t n) {
  return loader.set_importance(data, n);
}

ApiStatus loader_set_remedy(TextModelLoader& loader, int32_t code) { return loader.set_remedy(code); }

// One calibration window ids[n] through the model from an empty cache,
// float activations, `observer` seeing every matrix input.
Status ModelTools::observe_window(uintptr_t ids, uint32_t n, ActivationObserver* observer) {
  NIBBLE_RETURN_IF_ERROR(text_.check_loaded());
  if (n == 0 || int64_t(n) > model()->config.context_length)
    return OutOfRange("a window needs 1.." + integer_text(model()->config.context_length) + " tokens");
  LlamaState state(*model()->llama, int(n), std::min(int(n), kPromptBatch));
  state.set_observer(observer);
  // Every position's logits, so that the classifier sees every position too.
  std::vector<float> logits(size_t(n) * size_t(model()->config.vocab_size));
  return state.forward(reinterpret_cast<const int32_t*>(ids), int(n), logits.data(), true, Precision::kW4A32, pool());
}

ApiStatus ModelTools::collect_importance(uintptr_t ids, uint32_t n) {
  Status s = text_.check_loaded();
  if (!s.ok()) return ApiStatus::From(s);
  if (!importance_) importance_.reset(new ImportanceCollector(*model()));
  s = observe_window(ids, n, importance_.get());
  if (s.ok()) importance_->count_window();
  return ApiStatus::From(s);
}

ApiStatus ModelTools::low_rank_window(uintptr_t ids, uint32_t n) {
  Status s = text_.check_loaded();
  if (!s.ok()) return ApiStatus::From(s);
  if (!low_rank_) low_rank_.reset(new LowRankCollector(*model()));
  return ApiStatus::From(observe_window(ids, n, low_rank_.get()));
}

ApiStatus ModelTools::low_rank_write(int32_t rank) {
  Status s = text_.check_loaded();
  if (s.ok() && !low_rank_) s = StateError("no calibration windows yet: call low_rank_window() first");
  if (s.ok()) s = low_rank_->apply(rank, model());
  clear_result();
  if (s.ok()) s = write_model_gguf(*model(), &result_);
  // The model as it was (the file has the bases): in builds that carry
  // everything it is the caller's own model, elsewhere the tools' twin.
  remove_input_bases(model());
  if (s.ok()) low_rank_.reset();
  return ApiStatus::From(s);
}

ApiStatus ModelTools::write_importance(const std::string& dataset, int32_t chunk_size) {
  Status s = text_.check_loaded();
  if (!s.ok()) return ApiStatus::From(s);
  if (!importance_) return ApiStatus::From(StateError("no importance data yet: call collect_importance() first"));
  ImportanceMatrix m = importance_->matrix();
  m.datasets = {dataset};
  m.chunk_size = uint32_t(std::max(chunk_size, 0));
  clear_result();
  return ApiStatus::From(write_imatrix_gguf(m, &result_));
}

ApiStatus ModelTools::calibrate_begin(const std::string& type) {
  Status s = text_.check_loaded();
  TensorType t = TensorType::F32;
  if (s.ok()) s = parse_weight_type(type, &t);
  std::unique_ptr<CalibratedQuantizer> q;
  if (s.ok()) {
    q.reset(new CalibratedQuantizer(model(), t));
    s = q->check();
  }
  if (s.ok()) calibrated_ = std::move(q);
  return ApiStatus::From(s);
}

ApiStatus ModelTools::calibrate_window(uintptr_t ids, uint32_t n) {
  if (!calibrated_) return ApiStatus::From(StateError("call calibrate_begin() first"));
  return ApiStatus::From(calibrated_->add_window(reinterpret_cast<const int32_t*>(ids), int(std::min(n, 1u << 30))));
}

ApiStatus ModelTools::calibrate_step() {
  if (!calibrated_) return ApiStatus::From(StateError("call calibrate_begin() first"));
  if (calibrated_->done()) return ApiStatus::From(StateError("the quantization is done: write it"));
  return ApiStatus::From(calibrated_->step(pool()));
}

double ModelTools::calibrate_progress() const { return calibrated_ ? calibrated_->progress() : 0; }

ApiStatus ModelTools::calibrate_write() {
  if (!calibrated_) return ApiStatus::From(StateError("call calibrate_begin() first"));
  clear_result();
  Status s = calibrated_->write_gguf(&result_);
  if (s.ok()) calibrated_.reset();
  return ApiStatus::From(s);
}

}  // namespace nibble
