// The LLaMA-family transformer: RMSNorm, RoPE, grouped-query attention with a
// KV cache, SwiGLU feed-forward. A prompt goes through as one batch (the GEMM
// kernels), each new token alone (the GEMV kernels). Model code never names a
// kernel: every product goes through matmul().
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "kernels/matmul.h"
#include "kernels/packed_weights.h"
#include "model/llama_config.h"

namespace nibble {

struct LlamaLayer {
  std::vector<float> attn_norm;  // [dim]
  std::vector<float> ffn_norm;   // [dim]
  PackedWeights wq;    // [dim, dim]      (rows × row length)
  PackedWeights wk;    // [kv_dim, dim]
  PackedWeights wv;    // [kv_dim, dim]
  PackedWeights wo;    // [dim, dim]
  PackedWeights gate;  // [hidden, dim]  (w1)
  PackedWeights down;  // [dim, hidden]  (w2)
  PackedWeights up;    // [hidden, dim]  (w3)
};

struct LlamaWeights {
  PackedWeights token_embd;        // [vocab, dim]
  std::vector<float> output_norm;  // [dim]
  PackedWeights output;            // [vocab, dim]; empty when tied to token_embd
  std::vector<LlamaLayer> layers;
};

class LlamaModel {
 public:
  LlamaModel(const LlamaConfig& config, LlamaWeights weights);

  const LlamaConfig& config() const { return config_; }
  const LlamaWeights& weights() const { return weights_; }
  // Bytes of weights held (packed), for info and benchmarks.
  size_t weight_bytes() const;
  const PackedWeights& classifier() const;

 private:
  LlamaConfig config_;
  LlamaWeights weights_;
};

// Per-sequence state: the KV cache and scratch buffers, sized for `context`
// positions and batches of up to `max_batch` tokens.
class LlamaState {
 public:
  LlamaState(const LlamaModel& model, int context, int max_batch);

  int context() const { return context_; }
  int position() const { return pos_; }  // tokens already in the cache
  void reset() { pos_ = 0; }

  // Runs tokens[n] at positions position()..position()+n−1 and writes the
  // logits of the last one to logits[vocab] (or of every one to
  // logits[n, vocab] when all_logits). Fails if the context would overflow.
  Status forward(const int32_t* tokens, int n, float* logits, bool all_logits, Precision precision,
                 ThreadPool* pool);

 private:
  Status forward_batch(const int32_t* tokens, int n, float* logits, bool all_logits,
                       Precision precision, ThreadPool* pool);

  const LlamaModel& model_;
  int context_;
  int max_batch_;
  int pos_ = 0;
  // [layers, kv_heads, context, head_dim]: a KV head's rows are contiguous,
  // so attention streams through them (a row-per-position layout made it
  // jump by kv_dim, and the rows come from memory: each token's pass over
  // the weights evicts them from the caches).
  std::vector<float> key_cache_;
  std::vector<float> value_cache_;
  // Scratch, batch-major: row t belongs to token t of the batch.
  std::vector<float> x_;       // [batch, dim]     residual stream
  std::vector<float> xb_;      // [batch, dim]     normed input / attention output
  std::vector<float> q_;       // [batch, dim]
  std::vector<float> k_;       // [batch, kv_dim]
  std::vector<float> v_;       // [batch, kv_dim]
  std::vector<float> proj_;    // [batch, dim]     projection back to dim
  std::vector<float> hb_;      // [batch, hidden]  gate
  std::vector<float> hb2_;     // [batch, hidden]  up
  std::vector<float> rope_cos_sin_;  // [batch, rope_dim]  rope_table() per token
  std::vector<float> scores_;  // [heads, context]  attention scratch, a row per query head
};

}  // namespace nibble
