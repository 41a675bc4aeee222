#include "model/activation_remedy.h"

#include <algorithm>
#include <cmath>

#include "model/llama_model.h"
#include "quant/block_formats.h"
#include "quant/hadamard.h"

namespace nibble {
namespace {

// SmoothQuant's migration strength, here on the RMS (not the max) of each
// channel over the calibration text: measured on stories260K (README,
// quantization quality).
constexpr float kSmoothAlpha = 0.5f;

// The importance data's entry for the input of the matrix `name` with rows
// of K values, or null.
const ImportanceMatrix::Entry* entry_of(const ImportanceMatrix& importance, const std::string& name, int64_t K) {
  const auto it = importance.tensors.find(name);
  if (it == importance.tensors.end() || int64_t(it->second.sums.size()) != K || it->second.count <= 0) return nullptr;
  return &it->second;
}

// Each channel's mean over the calibration positions (Σx / count), or empty
// when the data has no Σx: the shift remedy's, before smoothing.
std::vector<float> channel_means(const ImportanceMatrix::Entry& e) {
  std::vector<float> mean(e.value_sums.size());
  for (size_t j = 0; j < mean.size(); ++j) mean[j] = e.value_sums[j] / e.count;
  return mean;
}

// s[K] for the input of the matrix `name`, or empty when the importance
// data has no such entry. With channel means (the input shifted), a
// channel's spread is its RMS about the mean: what is left to round.
std::vector<float> smoothing_factors(const ImportanceMatrix& importance, const std::string& name, int64_t K) {
  const ImportanceMatrix::Entry* e = entry_of(importance, name, K);
  if (e == nullptr) return {};
  const std::vector<float> means = channel_means(*e);
  std::vector<float> s(static_cast<size_t>(K));
  // The logarithms in float: double's log and exp would bring their tables
  // (6 KB) into the download for this alone.
  double log_sum = 0;
  for (int64_t j = 0; j < K; ++j) {
    const double m = means.empty() ? 0.0 : double(means[size_t(j)]);
    const double rms = std::sqrt(std::max(double(e->sums[size_t(j)]) / e->count - m * m, 0.0));
    s[size_t(j)] = float(std::max(rms, 1e-6));
    log_sum += std::log(s[size_t(j)]);
  }
  const double mean = std::exp(float(log_sum / double(K)));  // geometric: the product of s is 1
  for (float& v : s) v = float(std::pow(double(v) / mean, double(kSmoothAlpha)));
  return s;
}

void scale_columns(int64_t N, int64_t K, const std::vector<float>& s, float* w) {
  for (int64_t r = 0; r < N; ++r)
    for (int64_t j = 0; j < K; ++j) w[r * K + j] *= s[size_t(j)];
}

}  // namespace

bool takes_rotated_input(TensorSlot slot, int64_t K, bool tied_output) {
  if (K % kRotationBlock != 0 || slot == TensorSlot::kTokenEmbedding) return false;
  return !(tied_output && slot == TensorSlot::kOutput);
}

Status RemedyPlan::Create(const ActivationRemedy& remedy, const ImportanceMatrix* importance, const Architecture& arch,
                          const LlamaConfig& config, bool tied_output, RemedyPlan* out) {
  RemedyPlan plan;
  plan.remedy_ = remedy;
  plan.tied_output_ = tied_output;
  plan.group_ = config.n_heads / config.n_kv_heads;
  plan.head_dim_ = config.head_dim;
  plan.by_input_.resize(size_t(config.n_layers) * kInputsPerLayer);
  if (remedy.smooth) {
    if (importance == nullptr) return InvalidArgument("smoothing activations needs importance data (an imatrix)");
    const ForwardSwitches& f = arch.forward;
    if (f.fused_qkv || f.fused_gate_up || f.qkv_bias)
      return InvalidArgument("smoothing activations does not cover the '" + arch.name +
                             "' architecture (fused Q/K/V or gate/up matrices, or Q/K/V biases); rotation alone does");
    auto name = [&](TensorSlot slot, int layer) { return tensor_name(*spec_of(arch, slot), layer); };
    auto smoothable = [](int64_t K) { return K % kQK == 0; };
    for (int l = 0; l < config.n_layers; ++l) {
      std::vector<float>* in = &plan.by_input_[size_t(l) * kInputsPerLayer];
      if (smoothable(config.dim)) {
        in[kAttnIn] = smoothing_factors(*importance, name(TensorSlot::kAttnQ, l), config.dim);
        in[kFfnIn] = smoothing_factors(*importance, name(TensorSlot::kFfnGate, l), config.dim);
      }
      if (smoothable(config.hidden_dim))
        in[kFfnDownIn] = smoothing_factors(*importance, name(TensorSlot::kFfnDown, l), config.hidden_dim);
      std::vector<float> out_s =
          smoothable(config.q_dim()) ? smoothing_factors(*importance, name(TensorSlot::kAttnOutput, l), config.q_dim())
                                     : std::vector<float>();
      if (!out_s.empty()) {
        // One factor per V channel: the largest over the query heads that share it.
        const int hd = config.head_dim;
        for (int kv = 0; kv < config.n_kv_heads; ++kv)
          for (int d = 0; d < hd; ++d) {
            float most = 0.0f;
            for (int g = 0; g < plan.group_; ++g) most = std::max(most, out_s[size_t((kv * plan.group_ + g) * hd + d)]);
            for (int g = 0; g < plan.group_; ++g) out_s[size_t((kv * plan.group_ + g) * hd + d)] = most;
          }
        in[kAttnOut] = std::move(out_s);
      }
    }
    if (!tied_output && smoothable(config.dim))
      plan.classifier_ = smoothing_factors(*importance, name(TensorSlot::kOutput, -1), config.dim);
    // The shifts: each smoothed input's channel means, divided by s as the
    // input is.
    auto shift_of = [&](TensorSlot reader, int layer, const std::vector<float>& s) {
      const ImportanceMatrix::Entry* e = s.empty() ? nullptr : entry_of(*importance, name(reader, layer), int64_t(s.size()));
      std::vector<float> shift = e ? channel_means(*e) : std::vector<float>();
      for (size_t j = 0; j < shift.size(); ++j) shift[j] /= s[j];
      return shift;
    };
    plan.shifts_.resize(plan.by_input_.size());
    const TensorSlot readers[kInputsPerLayer] = {TensorSlot::kAttnQ, TensorSlot::kAttnOutput, TensorSlot::kFfnGate,
                                                 TensorSlot::kFfnDown};
    for (int l = 0; l < config.n_layers; ++l)
      for (int in = 0; in < kInputsPerLayer; ++in) {
        const size_t at = size_t(l) * kInputsPerLayer + size_t(in);
        plan.shifts_[at] = shift_of(readers[in], l, plan.by_input_[at]);
      }
    plan.classifier_shift_ = shift_of(TensorSlot::kOutput, -1, plan.classifier_);
  }
  *out = std::move(plan);
  return Status::Ok();
}

const std::vector<float>& RemedyPlan::factors(int layer, Input input) const {
  return by_input_[size_t(layer) * kInputsPerLayer + input];
}

// The input the matrix in `slot` reads: its index into a per-layer list,
// kClassifierInput, or kNoInput.
int RemedyPlan::input_of(TensorSlot slot) {
  switch (slot) {
    case TensorSlot::kAttnQ:
    case TensorSlot::kAttnK:
    case TensorSlot::kAttnV: return kAttnIn;
    case TensorSlot::kAttnOutput: return kAttnOut;
    case TensorSlot::kFfnGate:
    case TensorSlot::kFfnUp: return kFfnIn;
    case TensorSlot::kFfnDown: return kFfnDownIn;
    case TensorSlot::kOutput: return kClassifierInput;
    default: return kNoInput;
  }
}

const std::vector<float>& RemedyPlan::of_input(const std::vector<std::vector<float>>& by_input,
                                               const std::vector<float>& classifier, TensorSlot slot, int layer) const {
  const int input = input_of(slot);
  if (input == kClassifierInput) return classifier;
  if (input == kNoInput || by_input.empty()) return none_;
  return by_input[size_t(layer) * kInputsPerLayer + size_t(input)];
}

const std::vector<float>& RemedyPlan::input_factors(TensorSlot slot, int layer) const {
  return of_input(by_input_, classifier_, slot, layer);
}

const std::vector<float>& RemedyPlan::input_shift(TensorSlot slot, int layer) const {
  return of_input(shifts_, classifier_shift_, slot, layer);
}

void RemedyPlan::smooth_importance(TensorSlot slot, int layer, int64_t K, float* importance) const {
  const std::vector<float>& s = input_factors(slot, layer);
  if (int64_t(s.size()) != K) return;
  for (int64_t j = 0; j < K; ++j) importance[j] /= s[size_t(j)] * s[size_t(j)];
}

void RemedyPlan::apply_to_matrix(TensorSlot slot, int layer, int64_t N, int64_t K, float* w) const {
  const std::vector<float>& columns = input_factors(slot, layer);  // s of its input
  if (!columns.empty()) scale_columns(N, K, columns, w);
  // 1/s of the input it makes, on its output rows.
  const std::vector<float>* rows = slot == TensorSlot::kAttnV ? &factors(layer, kAttnOut)
                                   : slot == TensorSlot::kFfnUp ? &factors(layer, kFfnDownIn)
                                                                : &none_;
  if (!rows->empty()) {
    for (int64_t r = 0; r < N; ++r) {
      // V row r (KV head r / hd, channel r % hd) feeds output channel
      // (head of its group) · hd + channel; every head of the group has the same s.
      const size_t at = slot == TensorSlot::kAttnV ? size_t((r / head_dim_) * group_ * head_dim_ + r % head_dim_)
                                                   : size_t(r);
      const float inv = 1.0f / (*rows)[at];
      for (int64_t j = 0; j < K; ++j) w[r * K + j] *= inv;
    }
  }
  if (remedy_.rotate && takes_rotated_input(slot, K, tied_output_))
    for (int64_t r = 0; r < N; ++r) hadamard_rotate_blocks(w + r * K, K);
}

void RemedyPlan::apply_to_vector(TensorSlot slot, int layer, int64_t n, float* v) const {
  const std::vector<float>* s = slot == TensorSlot::kAttnNorm  ? &factors(layer, kAttnIn)
                                : slot == TensorSlot::kFfnNorm ? &factors(layer, kFfnIn)
                                : slot == TensorSlot::kOutputNorm ? &classifier_
                                                                  : nullptr;
  if (s == nullptr || s->empty() || int64_t(s->size()) != n) return;
  for (int64_t i = 0; i < n; ++i) v[i] /= (*s)[size_t(i)];
}

}  // namespace nibble
