#include "model/llama_model.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "kernels/dequantize_row.h"
#include "ops/ops.h"
#include "runtime/decimal_text.h"
#include "runtime/thread_pool.h"

namespace nibble {
namespace {

// Attention work (tokens × positions × dim multiply-adds, twice) below which
// splitting heads across threads costs more than it saves.
constexpr int64_t kMinParallelAttention = int64_t(1) << 14;
// SwiGLU values (an exp each) below which one thread does them all: a
// decoded token's 1536 (the bench model's FFN) took 5.6 µs a layer split
// in two against 3.7 µs on the caller alone (wasm, relaxed SIMD + threads,
// 60 tokens); a 64-token prompt's 98 K still gain from the split.
constexpr int64_t kMinParallelSwiglu = 4096;
// Prompt tokens from which the per-token steps between matmuls (norms,
// RoPE, cache writes, residuals: a few µs a token, a serial stretch of
// every layer on one thread) are split across threads, in runs of
// kTokensPerItem.
constexpr int kMinParallelTokens = 8;
constexpr int64_t kTokensPerItem = 4;

// fn(t) for each of n tokens, split across the pool's threads for prompts.
// Short runs (one token: decoding) go through the same std::function (its
// closure, one reference, needs no allocation) rather than a loop of their
// own: a second inlined copy of every per-token step cost the download
// about 2 KB gzipped.
template <typename Fn>
void for_each_token(ThreadPool* pool, int n, const Fn& fn) {
  parallel_for_if(pool, n >= kMinParallelTokens, n, kTokensPerItem, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) fn(int(t));
  });
}

}  // namespace

namespace {

// The owner's vector in `pool` equal to `values`, else a new copy (within
// the capacity reserved), given to the matrix by set(pointer, matrix).
template <typename Set>
Status share_vector(const std::vector<float>& values, std::vector<std::vector<float>>* pool, PackedWeights* matrix,
                    Set set, const char* what) {
  for (const std::vector<float>& v : *pool)
    if (v == values) return set(&v, matrix);
  if (pool->size() == pool->capacity()) return StateError(std::string("sharing an input's ") + what + ": no room reserved for another");
  pool->push_back(values);
  return set(&pool->back(), matrix);
}

}  // namespace

Status share_input_shift(const std::vector<float>& shift, LlamaWeights* owner, PackedWeights* matrix) {
  return share_vector(shift, &owner->input_shifts, matrix, set_input_shift, "shift");
}

Status share_input_basis(const std::vector<float>& basis, LlamaWeights* owner, PackedWeights* matrix) {
  return share_vector(basis, &owner->input_bases, matrix, set_input_basis, "low-rank basis");
}

SlotRef slot_ref(LlamaWeights* w, TensorSlot slot, int layer) {
  LlamaLayer* l = is_layer_slot(slot) ? &w->layers[size_t(layer)] : nullptr;
  switch (slot) {
    case TensorSlot::kTokenEmbedding: return {&w->token_embd, nullptr};
    case TensorSlot::kRopeFreqs: return {nullptr, &w->rope_freqs};
    case TensorSlot::kOutputNorm: return {nullptr, &w->output_norm};
    case TensorSlot::kOutput: return {&w->output, nullptr};
    case TensorSlot::kAttnNorm: return {nullptr, &l->attn_norm};
    case TensorSlot::kAttnQ: return {&l->wq, nullptr};
    case TensorSlot::kAttnK: return {&l->wk, nullptr};
    case TensorSlot::kAttnV: return {&l->wv, nullptr};
    case TensorSlot::kAttnQkv: return {&l->wqkv, nullptr};
    case TensorSlot::kAttnQBias: return {nullptr, &l->q_bias};
    case TensorSlot::kAttnKBias: return {nullptr, &l->k_bias};
    case TensorSlot::kAttnVBias: return {nullptr, &l->v_bias};
    case TensorSlot::kAttnQNorm: return {nullptr, &l->q_norm};
    case TensorSlot::kAttnKNorm: return {nullptr, &l->k_norm};
    case TensorSlot::kAttnOutput: return {&l->wo, nullptr};
    case TensorSlot::kPostAttnNorm: return {nullptr, &l->post_attn_norm};
    case TensorSlot::kFfnNorm: return {nullptr, &l->ffn_norm};
    case TensorSlot::kFfnGate: return {&l->gate, nullptr};
    case TensorSlot::kFfnDown: return {&l->down, nullptr};
    case TensorSlot::kFfnUp: return {&l->up, nullptr};
    case TensorSlot::kFfnGateUp: return {&l->gate_up, nullptr};
    case TensorSlot::kPostFfnNorm: return {nullptr, &l->post_ffn_norm};
  }
  return {};
}

ConstSlotRef slot_ref(const LlamaWeights& w, TensorSlot slot, int layer) {
  // The same members, read-only.
  const SlotRef r = slot_ref(const_cast<LlamaWeights*>(&w), slot, layer);
  return {r.matrix, r.vector};
}

LlamaModel::LlamaModel(const LlamaConfig& config, const ForwardSwitches& switches, LlamaWeights weights)
    : config_(config), switches_(switches), weights_(std::move(weights)) {}

const PackedWeights& LlamaModel::classifier() const {
  return weights_.output.rows() > 0 ? weights_.output : weights_.token_embd;
}

size_t LlamaModel::weight_bytes() const {
  const auto floats = [](const std::vector<float>& v) { return v.size() * sizeof(float); };
  size_t total = weights_.token_embd.bytes() + weights_.output.bytes() + floats(weights_.output_norm) +
                 floats(weights_.rope_freqs);
  for (const LlamaLayer& l : weights_.layers) {
    for (const std::vector<float>* v : {&l.attn_norm, &l.ffn_norm, &l.q_bias, &l.k_bias, &l.v_bias, &l.q_norm,
                                        &l.k_norm, &l.post_attn_norm, &l.post_ffn_norm})
      total += floats(*v);
    for (const PackedWeights* w : {&l.wq, &l.wk, &l.wv, &l.wqkv, &l.wo, &l.gate, &l.down, &l.up, &l.gate_up})
      total += w->bytes();
  }
  return total;
}

LlamaState::LlamaState(const LlamaModel& model, int context, int max_batch)
    : model_(model), context_(context), max_batch_(std::max(1, max_batch)) {
  const LlamaConfig& c = model.config();
  const ForwardSwitches& f = model.switches();
  const size_t cache = size_t(c.n_layers) * size_t(context) * size_t(c.kv_dim());
  key_cache_.reset(new float[cache]());
  value_cache_.reset(new float[cache]());
  const size_t b = size_t(max_batch_);
  x_.resize(b * c.dim);
  xb_.resize(b * std::max(c.dim, c.q_dim()));
  q_.resize(b * c.q_dim());
  k_.resize(b * c.kv_dim());
  v_.resize(b * c.kv_dim());
  if (f.fused_qkv) qkv_.resize(b * (c.q_dim() + 2 * c.kv_dim()));
  proj_.resize(b * c.dim);
  hb_.resize(b * c.hidden_dim * (f.fused_gate_up ? 2 : 1));
  if (!f.fused_gate_up) hb2_.resize(b * c.hidden_dim);
  scores_.resize(size_t(c.n_heads) * size_t(context));
  rope_cos_sin_.resize(b * c.rope_dim);
  if (c.sliding_window > 0 && c.rope_theta_local != c.rope_theta) rope_cos_sin_local_.resize(b * c.rope_dim);
}

Status LlamaState::forward(const int32_t* tokens, int n, float* logits, bool all_logits,
                           Precision precision, ThreadPool* pool) {
  if (n <= 0) return InvalidArgument("forward needs at least one token");
  if (pos_ + n > context_)
    return OutOfRange("the context holds " + integer_text(context_) + " positions; " +
                      integer_text(pos_) + " are used and " + integer_text(n) + " more do not fit");
  const int vocab = model_.config().vocab_size;
  for (int i = 0; i < n; ++i)
    if (tokens[i] < 0 || tokens[i] >= vocab)
      return OutOfRange("token id " + integer_text(tokens[i]) + " is outside the vocabulary (0.." +
                        integer_text(vocab - 1) + ")");
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
  const ForwardSwitches& f = model_.switches();
  const LlamaWeights& w = model_.weights();
  const int dim = c.dim;
  const float* factors = w.rope_freqs.empty() ? nullptr : w.rope_freqs.data();
  for_each_token(pool, n, [&](int t) {
    float* x = &x_[size_t(t) * dim];
    dequantize_row(w.token_embd, tokens[t], x);
    if (f.scale_embedding) {
      const float scale = std::sqrt(float(dim));
      for (int i = 0; i < dim; ++i) x[i] *= scale;
    }
    rope_table(&rope_cos_sin_[size_t(t) * c.rope_dim], c.rope_dim, pos_ + t, c.rope_theta, factors);
    if (!rope_cos_sin_local_.empty())
      rope_table(&rope_cos_sin_local_[size_t(t) * c.rope_dim], c.rope_dim, pos_ + t, c.rope_theta_local, factors);
  });
  for (int l = 0; l < c.n_layers; ++l) {
    NIBBLE_RETURN_IF_ERROR(attention_block(l, n, precision, pool));
    NIBBLE_RETURN_IF_ERROR(ffn_block(l, n, precision, pool));
  }
  pos_ += n;

  // Classifier: every token's logits, or just the last one's.
  const int first = all_logits ? 0 : n - 1;
  const int rows = n - first;
  for_each_token(pool, rows, [&](int r) {
    rmsnorm(&xb_[size_t(r) * dim], &x_[size_t(first + r) * dim], w.output_norm.data(), dim, c.rms_eps);
  });
  observe(w.output.rows() > 0 ? TensorSlot::kOutput : TensorSlot::kTokenEmbedding, -1, xb_.data(), rows, dim);
  NIBBLE_RETURN_IF_ERROR(matmul(model_.classifier(), xb_.data(), rows, logits, precision, pool));
  if (c.final_softcap > 0.0f) softcap(logits, rows * c.vocab_size, c.final_softcap);
  return Status::Ok();
}

// x += attention(norm(x)) (post-norm: x += norm(attention(norm(x)))) for
// the batch's n tokens at positions pos_ ..; fills layer l's KV cache rows.
Status LlamaState::attention_block(int l, int n, Precision precision, ThreadPool* pool) {
  const LlamaConfig& c = model_.config();
  const ForwardSwitches& f = model_.switches();
  const LlamaLayer& layer = model_.weights().layers[l];
  const int dim = c.dim, q_dim = c.q_dim(), kv_dim = c.kv_dim(), hd = c.head_dim;
  const int group = c.n_heads / c.n_kv_heads;  // query heads per KV head
  float* key_layer = key_cache_.get() + size_t(l) * context_ * kv_dim;
  float* value_layer = value_cache_.get() + size_t(l) * context_ * kv_dim;
  const bool local = c.is_local_layer(l);
  const std::vector<float>& cos_sin_table = local && !rope_cos_sin_local_.empty() ? rope_cos_sin_local_ : rope_cos_sin_;
  const auto rotate = f.rope == RopeStyle::kHalfSplit ? rope_half_split : rope;

  for_each_token(pool, n, [&](int t) {
    rmsnorm(&xb_[size_t(t) * dim], &x_[size_t(t) * dim], layer.attn_norm.data(), dim, c.rms_eps);
  });
  for (TensorSlot slot : {TensorSlot::kAttnQkv, TensorSlot::kAttnQ, TensorSlot::kAttnK, TensorSlot::kAttnV})
    if ((slot == TensorSlot::kAttnQkv) == f.fused_qkv) observe(slot, l, xb_.data(), n, dim);
  if (f.fused_qkv) {
    // One product, then each token's [q | k | v] row split into q_, k_, v_.
    const int width = q_dim + 2 * kv_dim;
    NIBBLE_RETURN_IF_ERROR(matmul(layer.wqkv, xb_.data(), n, qkv_.data(), precision, pool));
    for_each_token(pool, n, [&](int t) {
      const float* row = &qkv_[size_t(t) * width];
      std::memcpy(&q_[size_t(t) * q_dim], row, sizeof(float) * q_dim);
      std::memcpy(&k_[size_t(t) * kv_dim], row + q_dim, sizeof(float) * kv_dim);
      std::memcpy(&v_[size_t(t) * kv_dim], row + q_dim + kv_dim, sizeof(float) * kv_dim);
    });
  } else {
    const MatmulTarget qkv[] = {{&layer.wq, q_.data()}, {&layer.wk, k_.data()}, {&layer.wv, v_.data()}};
    NIBBLE_RETURN_IF_ERROR(matmul_shared_input(qkv, 3, xb_.data(), n, precision, pool));
  }
  for_each_token(pool, n, [&](int t) {  // each token writes its own cache position
    float* q = &q_[size_t(t) * q_dim];
    float* k = &k_[size_t(t) * kv_dim];
    float* v = &v_[size_t(t) * kv_dim];
    if (f.qkv_bias) {
      for (int i = 0; i < q_dim; ++i) q[i] += layer.q_bias[i];
      for (int i = 0; i < kv_dim; ++i) k[i] += layer.k_bias[i];
      for (int i = 0; i < kv_dim; ++i) v[i] += layer.v_bias[i];
    }
    if (f.qk_norm) {
      for (int h = 0; h < c.n_heads; ++h) rmsnorm(q + h * hd, q + h * hd, layer.q_norm.data(), hd, c.rms_eps);
      for (int h = 0; h < c.n_kv_heads; ++h) rmsnorm(k + h * hd, k + h * hd, layer.k_norm.data(), hd, c.rms_eps);
    }
    const float* cos_sin = &cos_sin_table[size_t(t) * c.rope_dim];
    rotate(q, c.n_heads, hd, c.rope_dim, cos_sin);
    rotate(k, c.n_kv_heads, hd, c.rope_dim, cos_sin);
    const int pos = pos_ + t;
    for (int kv = 0; kv < c.n_kv_heads; ++kv) {
      const size_t at = (size_t(kv) * context_ + pos) * hd;
      std::memcpy(key_layer + at, k + kv * hd, sizeof(float) * hd);
      std::memcpy(value_layer + at, v + kv * hd, sizeof(float) * hd);
    }
  });
  // Causal: token t sees positions 0..pos_+t (a local layer: its last
  // sliding_window of them). The query heads of one KV head go through
  // together (its rows are read once for all of them).
  const bool split = pool != nullptr && pool->size() > 1 && int64_t(n) * (pos_ + n) * q_dim >= kMinParallelAttention;
  const int window = local ? c.sliding_window : 0;
  if (n > 1) {
    // A prompt: query tiles against key tiles. Items: (KV head, block of
    // kPromptTileTokens tokens), many more than threads, so that the
    // causal triangle's uneven blocks even out; a chunk's consecutive
    // blocks of one KV head go in one call.
    const int blocks = (n + kPromptTileTokens - 1) / kPromptTileTokens;
    auto attend_prompt = [&](int64_t i0, int64_t i1) {
      for (int64_t i = i0; i < i1;) {
        const int kv_head = int(i / blocks), b0 = int(i % blocks), b1 = int(std::min<int64_t>(blocks, b0 + (i1 - i)));
        const int t0 = b0 * kPromptTileTokens, t1 = std::min(n, b1 * kPromptTileTokens), h = kv_head * group;
        const size_t at = size_t(t0) * q_dim + size_t(h) * hd;
        attention_prompt(&xb_[at], q_dim, &q_[at], q_dim, group, t1 - t0, pos_ + t0,
                         key_layer + size_t(kv_head) * context_ * hd, value_layer + size_t(kv_head) * context_ * hd, hd,
                         window, c.attn_softcap);
        i += b1 - b0;
      }
    };
    parallel_for_if(pool, split, int64_t(c.n_kv_heads) * blocks, 1, attend_prompt);
  } else {
    // One token: with threads, each group is split in two so that the work
    // items even out across threads. Items: (KV head, run of `run` query heads).
    const int run = split ? (group + 1) / 2 : group;
    const int runs_per_kv = (group + run - 1) / run;
    const int end = pos_ + 1, start = window > 0 ? std::max(0, end - window) : 0;
    auto attend = [&](int64_t i0, int64_t i1) {
      for (int64_t i = i0; i < i1; ++i) {
        const int kv_head = int(i / runs_per_kv), first_head = int(i % runs_per_kv) * run;
        const int h = kv_head * group + first_head, heads = std::min(run, group - first_head);
        const float* keys = key_layer + (size_t(kv_head) * context_ + start) * hd;
        const float* values = value_layer + (size_t(kv_head) * context_ + start) * hd;
        float* out = &xb_[size_t(h) * hd];
        const float* q = &q_[size_t(h) * hd];
        float* scores = &scores_[size_t(h) * context_];
        if (c.attn_softcap > 0.0f) {
          attention_group_capped(out, q, heads, keys, values, end - start, hd, hd, scores, c.attn_softcap);
        } else {
          attention_group(out, q, heads, keys, values, end - start, hd, hd, scores);
        }
      }
    };
    parallel_for_if(pool, split, int64_t(c.n_kv_heads) * runs_per_kv, 1, attend);
  }
  observe(TensorSlot::kAttnOutput, l, xb_.data(), n, q_dim);
  NIBBLE_RETURN_IF_ERROR(matmul(layer.wo, xb_.data(), n, proj_.data(), precision, pool));
  add_residual(layer.post_attn_norm, n, pool);
  return Status::Ok();
}

// x += ffn(norm(x)) (post-norm: x += norm(ffn(norm(x)))).
Status LlamaState::ffn_block(int l, int n, Precision precision, ThreadPool* pool) {
  const LlamaConfig& c = model_.config();
  const ForwardSwitches& f = model_.switches();
  const LlamaLayer& layer = model_.weights().layers[l];
  const int dim = c.dim, hidden = c.hidden_dim;
  for_each_token(pool, n, [&](int t) {
    rmsnorm(&xb_[size_t(t) * dim], &x_[size_t(t) * dim], layer.ffn_norm.data(), dim, c.rms_eps);
  });
  // gate[t] and up[t]: rows of hb_ and hb2_, or the two halves of a fused
  // [gate | up] row of hb_.
  for (TensorSlot slot : {TensorSlot::kFfnGateUp, TensorSlot::kFfnGate, TensorSlot::kFfnUp})
    if ((slot == TensorSlot::kFfnGateUp) == f.fused_gate_up) observe(slot, l, xb_.data(), n, dim);
  const float* up = hb2_.data();
  size_t stride = size_t(hidden);
  if (f.fused_gate_up) {
    NIBBLE_RETURN_IF_ERROR(matmul(layer.gate_up, xb_.data(), n, hb_.data(), precision, pool));
    up = hb_.data() + hidden;
    stride = 2 * size_t(hidden);
  } else {
    const MatmulTarget gate_up[] = {{&layer.gate, hb_.data()}, {&layer.up, hb2_.data()}};
    NIBBLE_RETURN_IF_ERROR(matmul_shared_input(gate_up, 2, xb_.data(), n, precision, pool));
  }
  // The activation is the one sizeable step between matmuls that would
  // otherwise run on one thread.
  const auto activate = f.ffn == FfnActivation::kGeluTanh ? geglu : swiglu;
  auto gated = [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e;) {
      // Element i of the batch's n × hidden gate values; a run stays in one row.
      const int64_t t = i / hidden, j = i % hidden, count = std::min<int64_t>(e - i, hidden - j);
      activate(hb_.data() + t * stride + j, up + t * stride + j, int(count));
      i += count;
    }
  };
  const int64_t hidden_values = int64_t(n) * hidden;
  parallel_for_if(pool, hidden_values >= kMinParallelSwiglu, hidden_values, 64, gated);
  if (f.fused_gate_up) {
    // down reads n rows of hidden: pack the gated halves together.
    for (int t = 1; t < n; ++t)
      std::memmove(hb_.data() + size_t(t) * hidden, hb_.data() + size_t(t) * stride, sizeof(float) * hidden);
  }
  observe(TensorSlot::kFfnDown, l, hb_.data(), n, hidden);
  NIBBLE_RETURN_IF_ERROR(matmul(layer.down, hb_.data(), n, proj_.data(), precision, pool));
  add_residual(layer.post_ffn_norm, n, pool);
  return Status::Ok();
}

// x += proj_, after RMSNorm with post_norm when the layer has one.
void LlamaState::add_residual(const std::vector<float>& post_norm, int n, ThreadPool* pool) {
  const LlamaConfig& c = model_.config();
  const int dim = c.dim;
  for_each_token(pool, n, [&](int t) {
    float* p = &proj_[size_t(t) * dim];
    if (!post_norm.empty()) rmsnorm(p, p, post_norm.data(), dim, c.rms_eps);
    add_to(&x_[size_t(t) * dim], p, dim);
  });
}

}  // namespace nibble
