// The LLaMA-family transformer: RMSNorm, RoPE, grouped-query attention with a
// KV cache, SwiGLU feed-forward. A prompt goes through as one batch (the GEMM
// kernels), each new token alone (the GEMV kernels). Model code never names a
// kernel: every product goes through matmul().
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <vector>

#include "kernels/matmul.h"
#include "kernels/packed_weights.h"
#include "model/llama_config.h"

namespace nibble {

// What sets one architecture's forward pass apart from another's. Each row of
// the architecture table (architecture.cpp) sets them; the defaults are
// LLaMA's. Values that come with a file (soft-caps, sliding window) live in
// LlamaConfig instead: a zero there turns the feature off.
enum class RopeStyle {
  kAdjacentPairs,  // rotates (0,1), (2,3), ... of each head (llama.cpp's NORM)
  kHalfSplit,      // rotates (i, i + rope_dim/2) (llama.cpp's NEOX)
};
enum class NormPlacement {
  kPre,         // x += f(norm(x))
  kPreAndPost,  // x += norm(f(norm(x))) (Gemma 2/3)
};
enum class FfnActivation {
  kSilu,      // SwiGLU: silu(gate) · up
  kGeluTanh,  // GeGLU: gelu(gate) · up (tanh approximation)
};
struct ForwardSwitches {
  bool qkv_bias = false;         // Q, K and V projections add a bias
  bool qk_norm = false;          // per-head RMSNorm of Q and K before RoPE
  bool fused_qkv = false;        // one attn_qkv matrix [q | k | v] in place of three
  bool fused_gate_up = false;    // one ffn_up matrix [gate | up] in place of two
  RopeStyle rope = RopeStyle::kAdjacentPairs;
  NormPlacement norm = NormPlacement::kPre;
  FfnActivation ffn = FfnActivation::kSilu;
  bool scale_embedding = false;  // x *= sqrt(dim) after the lookup
};

struct LlamaLayer {
  std::vector<float> attn_norm;  // [dim]
  std::vector<float> ffn_norm;   // [dim]
  PackedWeights wq;    // [q_dim, dim]    (rows × row length)
  PackedWeights wk;    // [kv_dim, dim]
  PackedWeights wv;    // [kv_dim, dim]
  PackedWeights wqkv;  // [q_dim + 2·kv_dim, dim]  fused_qkv: in place of wq, wk, wv
  PackedWeights wo;    // [dim, q_dim]
  PackedWeights gate;  // [hidden, dim]  (w1)
  PackedWeights down;  // [dim, hidden]  (w2)
  PackedWeights up;    // [hidden, dim]  (w3)
  PackedWeights gate_up;  // [2·hidden, dim]  fused_gate_up: in place of gate, up
  std::vector<float> q_bias, k_bias, v_bias;        // [q_dim], [kv_dim], [kv_dim]   qkv_bias
  std::vector<float> q_norm, k_norm;                // [head_dim]                    qk_norm
  std::vector<float> post_attn_norm, post_ffn_norm; // [dim]                         kPreAndPost
};

struct LlamaWeights {
  PackedWeights token_embd;        // [vocab, dim]
  std::vector<float> rope_freqs;   // [rope_dim / 2] frequency divisors; empty: none
  std::vector<float> output_norm;  // [dim]
  PackedWeights output;            // [vocab, dim]; empty when tied to token_embd
  std::vector<LlamaLayer> layers;
  // The vectors its matrices' input_shift() point to, one per distinct
  // shift (the matrices reading one input share it). Moving the weights
  // keeps the pointers valid; growing it past its capacity would not
  // (share_input_shift).
  std::vector<std::vector<float>> input_shifts;
  // The same for their input_basis() (W4A4's low-rank remedy).
  std::vector<std::vector<float>> input_bases;
};

// Gives `matrix` of `owner` the input shift shift[K] (set_input_shift in
// kernels/matmul.h): the owner's vector equal to it when it has one, so
// that matrices reading one input share it, else a new copy, which must
// fit in owner->input_shifts' capacity (reserve it first).
Status share_input_shift(const std::vector<float>& shift, LlamaWeights* owner, PackedWeights* matrix);
// The same for a low-rank input basis (set_input_basis; owner->input_bases).
Status share_input_basis(const std::vector<float>& basis, LlamaWeights* owner, PackedWeights* matrix);

// Which member of the weights a tensor fills (the architecture table maps
// tensor names to slots). Slots from kAttnNorm on are per layer.
enum class TensorSlot {
  kTokenEmbedding, kRopeFreqs, kOutputNorm, kOutput,
  kAttnNorm, kAttnQ, kAttnK, kAttnV, kAttnQkv, kAttnQBias, kAttnKBias, kAttnVBias, kAttnQNorm, kAttnKNorm,
  kAttnOutput, kPostAttnNorm, kFfnNorm, kFfnGate, kFfnDown, kFfnUp, kFfnGateUp, kPostFfnNorm,
};
inline bool is_layer_slot(TensorSlot slot) { return slot >= TensorSlot::kAttnNorm; }

// A slot's storage: a matrix or a vector (the other is null).
template <typename Matrix, typename Vector>
struct SlotStorage {
  Matrix* matrix = nullptr;
  Vector* vector = nullptr;
  bool empty() const { return matrix ? matrix->rows() == 0 : vector->empty(); }
};
using SlotRef = SlotStorage<PackedWeights, std::vector<float>>;
using ConstSlotRef = SlotStorage<const PackedWeights, const std::vector<float>>;
// `layer` is ignored for the whole-model slots; it must be < layers.size().
SlotRef slot_ref(LlamaWeights* w, TensorSlot slot, int layer);
ConstSlotRef slot_ref(const LlamaWeights& w, TensorSlot slot, int layer);

class LlamaModel {
 public:
  LlamaModel(const LlamaConfig& config, const ForwardSwitches& switches, LlamaWeights weights);

  const LlamaConfig& config() const { return config_; }
  const ForwardSwitches& switches() const { return switches_; }
  const LlamaWeights& weights() const { return weights_; }
  // For what changes a loaded model's matrices in place (the low-rank
  // remedy's bases, model/importance.h); nothing the forward pass calls.
  LlamaWeights* mutable_weights() { return &weights_; }
  // Bytes of weights held (packed), for info and benchmarks.
  size_t weight_bytes() const;
  const PackedWeights& classifier() const;

 private:
  LlamaConfig config_;
  ForwardSwitches switches_;
  LlamaWeights weights_;
};

// Sees the input of every matrix product of a forward pass (importance
// matrices, model/importance.h): x[rows, cols] is what W[·, cols] of
// `slot` in `layer` (-1: a whole-model matrix) multiplies. Float
// activations, before any rounding to 8 bits.
class ActivationObserver {
 public:
  virtual ~ActivationObserver() = default;
  virtual void matmul_input(TensorSlot slot, int layer, const float* x, int rows, int cols) = 0;
};

// Per-sequence state: the KV cache and scratch buffers, sized for `context`
// positions and batches of up to `max_batch` tokens.
class LlamaState {
 public:
  LlamaState(const LlamaModel& model, int context, int max_batch);

  int context() const { return context_; }
  int position() const { return pos_; }  // tokens already in the cache
  // Keeps the first `tokens` cached positions (if fewer than position());
  // the next forward() continues from there. 0 empties the cache.
  void truncate(int tokens) { pos_ = std::max(0, std::min(pos_, tokens)); }
  // Every later forward pass shows its matmul inputs to observer (null: none).
  void set_observer(ActivationObserver* observer) { observer_ = observer; }

  // Runs tokens[n] at positions position()..position()+n−1 and writes the
  // logits of the last one to logits[vocab] (or of every one to
  // logits[n, vocab] when all_logits). Fails if the context would overflow.
  Status forward(const int32_t* tokens, int n, float* logits, bool all_logits, Precision precision,
                 ThreadPool* pool);

 private:
  Status forward_batch(const int32_t* tokens, int n, float* logits, bool all_logits,
                       Precision precision, ThreadPool* pool);
  Status attention_block(int layer, int n, Precision precision, ThreadPool* pool);
  Status ffn_block(int layer, int n, Precision precision, ThreadPool* pool);
  void add_residual(const std::vector<float>& post_norm, int n, ThreadPool* pool);
  void observe(TensorSlot slot, int layer, const float* x, int rows, int cols) const {
    if (observer_) observer_->matmul_input(slot, layer, x, rows, cols);
  }

  const LlamaModel& model_;
  int context_;
  int max_batch_;
  int pos_ = 0;
  ActivationObserver* observer_ = nullptr;
  // [layers, kv_heads, context, head_dim]: a KV head's rows are contiguous,
  // so attention streams through them (a row-per-position layout made it
  // jump by kv_dim, and the rows come from memory: each token's pass over
  // the weights evicts them from the caches).
  // Arrays, not vectors: this file is built for size (-Oz), where a vector
  // of n zeros is n constructor calls, ~10 ns each (a 2,048-position cache
  // of a 30-layer model took ~0.2 s of the first generate()); new float[]()
  // is one memset.
  std::unique_ptr<float[]> key_cache_;
  std::unique_ptr<float[]> value_cache_;
  // Scratch, batch-major: row t belongs to token t of the batch.
  std::vector<float> x_;       // [batch, dim]     residual stream
  std::vector<float> xb_;      // [batch, max(dim, q_dim)]  normed input / attention output
  std::vector<float> q_;       // [batch, q_dim]
  std::vector<float> k_;       // [batch, kv_dim]
  std::vector<float> v_;       // [batch, kv_dim]
  std::vector<float> qkv_;     // [batch, q_dim + 2·kv_dim]  fused_qkv only
  std::vector<float> proj_;    // [batch, dim]     projection back to dim
  std::vector<float> hb_;      // [batch, hidden]  gate ([batch, 2·hidden]: [gate | up] when fused)
  std::vector<float> hb2_;     // [batch, hidden]  up (not when fused)
  std::vector<float> rope_cos_sin_;        // [batch, rope_dim]  rope_table() per token
  std::vector<float> rope_cos_sin_local_;  // [batch, rope_dim]  local layers' base, when it differs
  std::vector<float> scores_;  // [heads, context]  attention scratch, a row per query head
};

}  // namespace nibble
