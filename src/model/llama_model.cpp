#include "model/llama_model.h"

#include <algorithm>
#include <cstring>

#include "kernels/dequantize_row.h"
#include "ops/ops.h"
#include "runtime/thread_pool.h"

namespace nibble {
namespace {

// Attention work (tokens × positions × dim multiply-adds, twice) below which
// splitting heads across threads costs more than it saves.
constexpr int64_t kMinParallelAttention = int64_t(1) << 14;
// SwiGLU values (an exp each) below which one thread does them all.
constexpr int64_t kMinParallelSwiglu = 1024;

}  // namespace

Status check_switches(const ForwardSwitches& s) {
  const ForwardSwitches llama;
  const struct { bool differs; const char* what; } kUnimplemented[] = {
      {s.qkv_bias != llama.qkv_bias, "Q/K/V biases"},
      {s.qk_norm != llama.qk_norm, "per-head Q/K norms"},
      {s.fused_qkv != llama.fused_qkv, "a fused QKV matrix"},
      {s.rope != llama.rope, "half-split (NEOX) RoPE"},
      {s.norm != llama.norm, "post-norms"},
      {s.ffn != llama.ffn, "a GELU feed-forward"},
      {s.scale_embedding != llama.scale_embedding, "embedding scaling"},
      {s.logit_softcap != llama.logit_softcap, "logit soft-capping"},
  };
  for (const auto& u : kUnimplemented)
    if (u.differs) return FormatError(std::string("the forward pass does not implement ") + u.what + " yet");
  return Status::Ok();
}

SlotRef slot_ref(LlamaWeights* w, TensorSlot slot, int layer) {
  LlamaLayer* l = is_layer_slot(slot) ? &w->layers[size_t(layer)] : nullptr;
  switch (slot) {
    case TensorSlot::kTokenEmbedding: return {&w->token_embd, nullptr};
    case TensorSlot::kOutputNorm: return {nullptr, &w->output_norm};
    case TensorSlot::kOutput: return {&w->output, nullptr};
    case TensorSlot::kAttnNorm: return {nullptr, &l->attn_norm};
    case TensorSlot::kAttnQ: return {&l->wq, nullptr};
    case TensorSlot::kAttnK: return {&l->wk, nullptr};
    case TensorSlot::kAttnV: return {&l->wv, nullptr};
    case TensorSlot::kAttnOutput: return {&l->wo, nullptr};
    case TensorSlot::kFfnNorm: return {nullptr, &l->ffn_norm};
    case TensorSlot::kFfnGate: return {&l->gate, nullptr};
    case TensorSlot::kFfnDown: return {&l->down, nullptr};
    case TensorSlot::kFfnUp: return {&l->up, nullptr};
  }
  return {};
}

ConstSlotRef slot_ref(const LlamaWeights& w, TensorSlot slot, int layer) {
  // The same members, read-only.
  const SlotRef r = slot_ref(const_cast<LlamaWeights*>(&w), slot, layer);
  return {r.matrix, r.vector};
}

LlamaModel::LlamaModel(const LlamaConfig& config, LlamaWeights weights)
    : config_(config), weights_(std::move(weights)) {}

const PackedWeights& LlamaModel::classifier() const {
  return weights_.output.rows() > 0 ? weights_.output : weights_.token_embd;
}

size_t LlamaModel::weight_bytes() const {
  size_t total = weights_.token_embd.bytes() + weights_.output.bytes() + weights_.output_norm.size() * 4;
  for (const LlamaLayer& l : weights_.layers) {
    total += (l.attn_norm.size() + l.ffn_norm.size()) * 4;
    for (const PackedWeights* w : {&l.wq, &l.wk, &l.wv, &l.wo, &l.gate, &l.down, &l.up}) total += w->bytes();
  }
  return total;
}

LlamaState::LlamaState(const LlamaModel& model, int context, int max_batch)
    : model_(model), context_(context), max_batch_(std::max(1, max_batch)) {
  const LlamaConfig& c = model.config();
  const size_t cache = size_t(c.n_layers) * size_t(context) * size_t(c.kv_dim());
  key_cache_.assign(cache, 0.0f);
  value_cache_.assign(cache, 0.0f);
  const size_t b = size_t(max_batch_);
  x_.resize(b * c.dim);
  xb_.resize(b * c.dim);
  q_.resize(b * c.dim);
  k_.resize(b * c.kv_dim());
  v_.resize(b * c.kv_dim());
  proj_.resize(b * c.dim);
  hb_.resize(b * c.hidden_dim);
  hb2_.resize(b * c.hidden_dim);
  scores_.resize(size_t(c.n_heads) * size_t(context));
  rope_cos_sin_.resize(b * c.rope_dim);
}

Status LlamaState::forward(const int32_t* tokens, int n, float* logits, bool all_logits,
                           Precision precision, ThreadPool* pool) {
  if (n <= 0) return InvalidArgument("forward needs at least one token");
  if (pos_ + n > context_)
    return OutOfRange("the context holds " + std::to_string(context_) + " positions; " +
                      std::to_string(pos_) + " are used and " + std::to_string(n) + " more do not fit");
  const int vocab = model_.config().vocab_size;
  for (int i = 0; i < n; ++i)
    if (tokens[i] < 0 || tokens[i] >= vocab)
      return OutOfRange("token id " + std::to_string(tokens[i]) + " is outside the vocabulary (0.." +
                        std::to_string(vocab - 1) + ")");
  // Long prompts go through in batches of max_batch tokens.
  for (int done = 0; done < n;) {
    const int count = std::min(max_batch_, n - done);
    float* out = all_logits ? logits + int64_t(done) * vocab : logits;
    NIBBLE_RETURN_IF_ERROR(forward_batch(tokens + done, count, out, all_logits, precision, pool));
    done += count;
  }
  return Status::Ok();
}

Status LlamaState::forward_batch(const int32_t* tokens, int n, float* logits, bool all_logits,
                                 Precision precision, ThreadPool* pool) {
  const LlamaConfig& c = model_.config();
  const LlamaWeights& w = model_.weights();
  const int dim = c.dim, kv_dim = c.kv_dim(), hidden = c.hidden_dim, hd = c.head_dim;
  const int group = c.n_heads / c.n_kv_heads;  // query heads per KV head

  for (int t = 0; t < n; ++t) {
    dequantize_row(w.token_embd, tokens[t], &x_[size_t(t) * dim]);
    rope_table(&rope_cos_sin_[size_t(t) * c.rope_dim], hd, c.rope_dim, pos_ + t, c.rope_theta);
  }

  for (int l = 0; l < c.n_layers; ++l) {
    const LlamaLayer& layer = w.layers[l];
    float* key_layer = &key_cache_[size_t(l) * context_ * kv_dim];
    float* value_layer = &value_cache_[size_t(l) * context_ * kv_dim];

    // Attention block.
    for (int t = 0; t < n; ++t)
      rmsnorm(&xb_[size_t(t) * dim], &x_[size_t(t) * dim], layer.attn_norm.data(), dim, c.rms_eps);
    const MatmulTarget qkv[] = {{&layer.wq, q_.data()}, {&layer.wk, k_.data()}, {&layer.wv, v_.data()}};
    NIBBLE_RETURN_IF_ERROR(matmul_shared_input(qkv, 3, xb_.data(), n, precision, pool));
    for (int t = 0; t < n; ++t) {
      const int pos = pos_ + t;
      const float* cos_sin = &rope_cos_sin_[size_t(t) * c.rope_dim];
      rope(&q_[size_t(t) * dim], c.n_heads, hd, c.rope_dim, cos_sin);
      rope(&k_[size_t(t) * kv_dim], c.n_kv_heads, hd, c.rope_dim, cos_sin);
      for (int kv = 0; kv < c.n_kv_heads; ++kv) {
        const size_t at = (size_t(kv) * context_ + pos) * hd, from = size_t(t) * kv_dim + size_t(kv) * hd;
        std::memcpy(key_layer + at, &k_[from], sizeof(float) * hd);
        std::memcpy(value_layer + at, &v_[from], sizeof(float) * hd);
      }
    }
    // Causal: token t sees positions 0..pos_+t. The query heads of one KV
    // head go through together (its rows are read once for all of them);
    // with threads, each group is split in two so that the work items even
    // out across threads. Items: (KV head, run of `run` query heads).
    const bool split = pool != nullptr && pool->size() > 1 && int64_t(n) * (pos_ + n) * dim >= kMinParallelAttention;
    const int run = split ? (group + 1) / 2 : group;
    const int runs_per_kv = (group + run - 1) / run;
    auto attend = [&](int64_t i0, int64_t i1) {
      for (int64_t i = i0; i < i1; ++i) {
        const int kv_head = int(i / runs_per_kv), first = int(i % runs_per_kv) * run;
        const int h = kv_head * group + first, heads = std::min(run, group - first);
        for (int t = 0; t < n; ++t)
          attention_group(&xb_[size_t(t) * dim + h * hd], &q_[size_t(t) * dim + h * hd], heads,
                          key_layer + size_t(kv_head) * context_ * hd, value_layer + size_t(kv_head) * context_ * hd,
                          pos_ + t + 1, hd, hd,
                          &scores_[size_t(h) * context_]);
      }
    };
    const int64_t items = int64_t(c.n_kv_heads) * runs_per_kv;
    parallel_for_if(pool, split, items, 1, attend);
    NIBBLE_RETURN_IF_ERROR(matmul(layer.wo, xb_.data(), n, proj_.data(), precision, pool));
    for (size_t i = 0; i < size_t(n) * dim; ++i) x_[i] += proj_[i];

    // Feed-forward block.
    for (int t = 0; t < n; ++t)
      rmsnorm(&xb_[size_t(t) * dim], &x_[size_t(t) * dim], layer.ffn_norm.data(), dim, c.rms_eps);
    const MatmulTarget gate_up[] = {{&layer.gate, hb_.data()}, {&layer.up, hb2_.data()}};
    NIBBLE_RETURN_IF_ERROR(matmul_shared_input(gate_up, 2, xb_.data(), n, precision, pool));
    // SwiGLU is the one sizeable step between matmuls that would otherwise
    // run on one thread.
    const int64_t hidden_values = int64_t(n) * hidden;
    auto gated = [&](int64_t b, int64_t e) { swiglu(hb_.data() + b, hb2_.data() + b, int(e - b)); };
    parallel_for_if(pool, hidden_values >= kMinParallelSwiglu, hidden_values, 64, gated);
    NIBBLE_RETURN_IF_ERROR(matmul(layer.down, hb_.data(), n, proj_.data(), precision, pool));
    for (size_t i = 0; i < size_t(n) * dim; ++i) x_[i] += proj_[i];
  }
  pos_ += n;

  // Classifier: every token's logits, or just the last one's.
  const int first = all_logits ? 0 : n - 1;
  const int rows = n - first;
  for (int t = first; t < n; ++t)
    rmsnorm(&xb_[size_t(t - first) * dim], &x_[size_t(t) * dim], w.output_norm.data(), dim, c.rms_eps);
  return matmul(model_.classifier(), xb_.data(), rows, logits, precision, pool);
}

}  // namespace nibble
