// CalibratedQuantizer (calibrated_quantize.h): the stages, the collection of
// each stage's input second moments, and the quantized model's file.
#include "model/calibrated_quantize.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <string>

#include "kernels/matmul.h"
#include "model/activation_remedy.h"
#include "model/model_writer.h"
#include "quant/gptq.h"
#include "quant/quantize.h"
#include "runtime/decimal_text.h"

namespace nibble {

// Matrices that multiply the same input share one H (outside the anonymous
// namespace: the class's members use it).
enum class CalibrationInput { kAttnIn, kAttnOut, kFfnIn, kFfnDown, kClassifier, kNone };

namespace {

// GPTQ's dampening: this fraction of the mean diagonal of H is added to it.
constexpr double kHessianDamp = 0.01;
constexpr int kCalibrationBatch = 64;  // tokens per forward step

CalibrationInput input_group(TensorSlot slot) {
  switch (slot) {
    case TensorSlot::kAttnQ: case TensorSlot::kAttnK: case TensorSlot::kAttnV: case TensorSlot::kAttnQkv:
      return CalibrationInput::kAttnIn;
    case TensorSlot::kAttnOutput: return CalibrationInput::kAttnOut;
    case TensorSlot::kFfnGate: case TensorSlot::kFfnUp: case TensorSlot::kFfnGateUp: return CalibrationInput::kFfnIn;
    case TensorSlot::kFfnDown: return CalibrationInput::kFfnDown;
    case TensorSlot::kOutput: return CalibrationInput::kClassifier;
    default: return CalibrationInput::kNone;
  }
}

// The one slot of a group whose input is counted (the others see the same x).
bool counts_group_input(TensorSlot slot) {
  return slot != TensorSlot::kAttnK && slot != TensorSlot::kAttnV && slot != TensorSlot::kFfnUp;
}

}  // namespace

struct CalibratedQuantizer::Matrix {
  TensorSlot slot;
  int layer;  // -1: a whole-model matrix
  int stage;  // the stage that quantizes it; -1: before the first (no calibration)
  CalibrationInput group;
  int64_t rows, cols;
  std::vector<float> values;  // [rows, cols] the source
  TensorType type;            // what it is written as (F32 when the blocks cannot tile a row)
  std::vector<uint8_t> blocks;      // [rows · row_size(type, cols)] once done
  std::vector<float> dequantized;   // [rows, cols] of blocks, for the later stages' forward passes
  bool done = false;
};

// Σ x·xᵀ [cols, cols] of each input group of one stage's layer.
// In a model whose matrices take rotated inputs (W4A4's remedy), x is seen
// before matmul() rotates it; H is taken of the rotated x, the input the
// stored W·H multiplies.
class CalibratedQuantizer::Collector : public ActivationObserver {
 public:
  Collector(int layer, std::map<CalibrationInput, int64_t> wanted, bool rotated_inputs, bool tied_output)
      : layer_(layer), rotated_inputs_(rotated_inputs), tied_output_(tied_output) {
    for (const auto& [group, cols] : wanted) sums_[group].assign(size_t(cols * cols), 0.0);
  }
  void matmul_input(TensorSlot slot, int layer, const float* x, int rows, int cols) override {
    const bool rotated = rotated_inputs_ && takes_rotated_input(slot, cols, tied_output_);
    if (slot == TensorSlot::kTokenEmbedding && layer < 0) slot = TensorSlot::kOutput;  // tied classifier
    auto it = sums_.find(input_group(slot));
    if (layer != layer_ || it == sums_.end() || !counts_group_input(slot)) return;
    std::vector<double>& h = it->second;
    if (h.size() != size_t(cols) * size_t(cols)) return;
    std::vector<float> rotated_row(rotated ? size_t(cols) : 0);  // [cols]
    for (int r = 0; r < rows; ++r) {
      const float* v = x + size_t(r) * size_t(cols);
      if (rotated) {
        std::copy(v, v + cols, rotated_row.begin());
        hadamard_rotate_blocks(rotated_row.data(), cols);
        v = rotated_row.data();
      }
      for (int i = 0; i < cols; ++i) {
        const double xi = v[i];
        double* hi = &h[size_t(i) * size_t(cols)];
        for (int j = i; j < cols; ++j) hi[j] += xi * v[j];
      }
    }
  }
  // H with its lower triangle filled in, or null when the group was not wanted.
  const std::vector<double>* hessian(CalibrationInput group) {
    auto it = sums_.find(group);
    if (it == sums_.end()) return nullptr;
    std::vector<double>& h = it->second;
    const size_t n = size_t(std::sqrt(double(h.size())) + 0.5);
    for (size_t i = 0; i < n; ++i)
      for (size_t j = 0; j < i; ++j) h[i * n + j] = h[j * n + i];
    return &h;
  }

 private:
  int layer_;
  bool rotated_inputs_, tied_output_;
  std::map<CalibrationInput, std::vector<double>> sums_;
};

CalibratedQuantizer::CalibratedQuantizer(Model* model, TensorType type) : model_(model), type_(type) {
  const LlamaWeights& w = model_->llama->weights();
  const int layers = model_->config.n_layers;
  for_each_tensor(model_->architecture, layers, [&](const TensorSpec& spec, int layer) {
    const ConstSlotRef slot = slot_ref(w, spec.slot, layer);
    if (!slot.matrix || slot.empty() || slot.matrix->type() != TensorType::F32) return;
    Matrix m;
    m.slot = spec.slot;
    m.layer = layer;
    m.rows = slot.matrix->rows();
    m.cols = slot.matrix->cols();
    const float* v = reinterpret_cast<const float*>(slot.matrix->data());
    m.values.assign(v, v + m.rows * m.cols);
    m.type = fallback_type(type_, m.cols);
    const bool tied = w.output.rows() == 0;
    m.group = spec.slot == TensorSlot::kTokenEmbedding && tied ? CalibrationInput::kClassifier : input_group(spec.slot);
    m.stage = layer >= 0 ? layer : m.group == CalibrationInput::kClassifier ? layers : -1;
    matrices_.push_back(std::move(m));
  });
}

CalibratedQuantizer::~CalibratedQuantizer() = default;

Status CalibratedQuantizer::check() const {
  if (!gptq_supports(type_)) {
    const TensorTypeInfo* info = tensor_type_info(type_);
    return InvalidArgument(std::string("calibrated quantization writes q4_0 or iq4_nl, not ") + (info ? info->name : "?"));
  }
  const LlamaWeights& w = model_->llama->weights();
  std::string compact;
  for_each_tensor(model_->architecture, model_->config.n_layers, [&](const TensorSpec& spec, int layer) {
    const ConstSlotRef slot = slot_ref(w, spec.slot, layer);
    if (compact.empty() && slot.matrix && !slot.empty() && slot.matrix->type() != TensorType::F32)
      compact = tensor_name(spec, layer);
  });
  if (!compact.empty())
    return InvalidArgument("calibrated quantization needs the model loaded with f32 weights (" + compact + " is not)");
  return Status::Ok();
}

int CalibratedQuantizer::stages() const { return model_->config.n_layers + 1; }

Status CalibratedQuantizer::add_window(const int32_t* ids, int n) {
  if (n < 1 || n > model_->config.context_length)
    return OutOfRange("a calibration window needs 1.." + integer_text(model_->config.context_length) + " tokens");
  if (stage_ > 0 || in_stage_) return StateError("calibration windows must all come before the first stage");
  windows_.emplace_back(ids, ids + n);
  return Status::Ok();
}

Status CalibratedQuantizer::quantize_matrix_of(Matrix& m, const std::vector<double>* hessian, ThreadPool* pool) {
  m.done = true;
  if (m.type == TensorType::F32) return Status::Ok();
  m.blocks.resize(size_t(m.rows) * row_size(m.type, m.cols));
  if (hessian) {
    std::vector<double> factor;  // [cols, cols]
    NIBBLE_RETURN_IF_ERROR(gptq_inverse_factor(hessian->data(), m.cols, kHessianDamp, &factor));
    NIBBLE_RETURN_IF_ERROR(quantize_matrix_gptq(m.type, m.values.data(), m.rows, m.cols, hessian->data(), factor, m.blocks.data(),
                                                m.blocks.size(), pool));
  } else {
    QuantizeOptions options;
    options.clip = ClipMode::kMse;
    NIBBLE_RETURN_IF_ERROR(
        quantize_matrix(m.type, m.values.data(), m.rows, m.cols, options, m.blocks.data(), m.blocks.size(), pool));
  }
  m.dequantized.resize(m.values.size());
  return dequantize_matrix(m.type, m.blocks.data(), m.blocks.size(), m.rows, m.cols, m.dequantized.data());
}

Status CalibratedQuantizer::build_weights(LlamaWeights* out, bool final_types) const {
  const LlamaWeights& source = model_->llama->weights();
  out->layers.resize(source.layers.size());
  out->input_shifts.reserve(source.input_shifts.size());  // (share_input_shift)
  Status s;
  for_each_tensor(model_->architecture, model_->config.n_layers, [&](const TensorSpec& spec, int layer) {
    const ConstSlotRef from = slot_ref(source, spec.slot, layer);
    if (!s.ok() || from.empty()) return;
    const SlotRef to = slot_ref(out, spec.slot, layer);
    if (from.vector) {
      *to.vector = *from.vector;
      return;
    }
    const auto m = std::find_if(matrices_.begin(), matrices_.end(),
                                [&](const Matrix& x) { return x.slot == spec.slot && x.layer == layer; });
    if (m == matrices_.end()) {
      s = StateError("calibrated quantization lost " + tensor_name(spec, layer));
    } else if (final_types && m->type != TensorType::F32) {
      s = PackedWeights::Pack(m->type, m->blocks.data(), m->blocks.size(), m->rows, m->cols, to.matrix);
    } else {
      const std::vector<float>& v = m->done && m->type != TensorType::F32 ? m->dequantized : m->values;
      s = PackedWeights::Pack(TensorType::F32, v.data(), v.size() * sizeof(float), m->rows, m->cols, to.matrix);
    }
    to.matrix->set_rotated_input(from.matrix->rotated_input());
    if (s.ok() && from.matrix->input_shift()) s = share_input_shift(*from.matrix->input_shift(), out, to.matrix);
  });
  return s;
}

Status CalibratedQuantizer::begin_stage() {
  if (done()) return StateError("every stage is done");
  if (windows_.empty()) return StateError("no calibration windows: add_window() first");
  if (stage_ == 0) {
    for (Matrix& m : matrices_)
      if (m.stage < 0) NIBBLE_RETURN_IF_ERROR(quantize_matrix_of(m, nullptr, nullptr));
  }
  std::map<CalibrationInput, int64_t> wanted;  // groups with a matrix to quantize: their row length
  for (const Matrix& m : matrices_)
    if (m.stage == stage_ && m.type != TensorType::F32) wanted[m.group] = m.cols;
  LlamaWeights weights;
  NIBBLE_RETURN_IF_ERROR(build_weights(&weights, false));
  forward_.reset(new LlamaModel(model_->config, model_->architecture.forward, std::move(weights)));
  collector_.reset(new Collector(stage_ == model_->config.n_layers ? -1 : stage_, wanted, model_->info.rotated_inputs,
                                 model_->llama->weights().output.rows() == 0));
  in_stage_ = true;
  window_ = 0;
  return Status::Ok();
}

Status CalibratedQuantizer::step(ThreadPool* pool) {
  if (!in_stage_) NIBBLE_RETURN_IF_ERROR(begin_stage());
  const std::vector<int32_t>& ids = windows_[size_t(window_)];
  const int n = int(ids.size());
  LlamaState state(*forward_, n, std::min(n, kCalibrationBatch));
  state.set_observer(collector_.get());
  std::vector<float> logits(size_t(n) * size_t(model_->config.vocab_size));  // [n, vocab]: every position reaches the classifier
  NIBBLE_RETURN_IF_ERROR(state.forward(ids.data(), n, logits.data(), true, Precision::kW4A32, pool));
  if (++window_ == windows()) return end_stage(pool);
  return Status::Ok();
}

double CalibratedQuantizer::progress() const {
  if (windows_.empty()) return 0;
  return double(stage_ * windows() + window_) / double(stages() * windows());
}

Status CalibratedQuantizer::end_stage(ThreadPool* pool) {
  for (Matrix& m : matrices_) {
    if (m.stage != stage_) continue;
    NIBBLE_RETURN_IF_ERROR(quantize_matrix_of(m, collector_->hessian(m.group), pool));
  }
  forward_.reset();
  collector_.reset();
  in_stage_ = false;
  window_ = 0;
  ++stage_;
  return Status::Ok();
}

Status CalibratedQuantizer::write_gguf(std::vector<uint8_t>* out) {
  if (!done()) return StateError("the quantization has stages left");
  LlamaWeights weights;
  NIBBLE_RETURN_IF_ERROR(build_weights(&weights, true));
  std::unique_ptr<LlamaModel> quantized(new LlamaModel(model_->config, model_->architecture.forward, std::move(weights)));
  // The writer takes the metadata and tokenizer from the source model and
  // the matrices from the quantized one, lent to it for the call.
  std::swap(model_->llama, quantized);
  const QuantMix* mix = model_->mix;
  model_->mix = nullptr;
  Status s = write_model_gguf(*model_, out);
  model_->mix = mix;
  std::swap(model_->llama, quantized);
  return s;
}

}  // namespace nibble
