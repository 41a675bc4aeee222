// llama2.c checkpoint reader (Karpathy's "legacy" export, as read by run.c).
//
// Layout (little-endian): 7 int32 — dim, hidden_dim, n_layers, n_heads,
// n_kv_heads, vocab_size (negative: a separate classifier follows), seq_len —
// then FP32 weights, each group stacked over layers:
//   token_embedding [vocab, dim], rms_att [L, dim], wq [L, dim, dim],
//   wk [L, kv_dim, dim], wv [L, kv_dim, dim], wo [L, dim, dim],
//   rms_ffn [L, dim], w1 [L, hidden, dim], w2 [L, dim, hidden],
//   w3 [L, hidden, dim], rms_final [dim],
//   freq_cis_real, freq_cis_imag [seq_len, head_size / 2] each (unused: skipped),
//   wcls [vocab, dim] only when vocab_size was negative.
// (Shapes above are llama2.c's [rows, row length]; below they are GGUF's.)
//
// The reader only describes the file: each tensor as run.c names it, its GGUF
// shape (shape[0] = row length), absolute byte offsets. It copies nothing;
// the model layer maps the tensors to its own (GGUF) names.
//
// RoPE convention: wq/wk rows are stored as run.c uses them, rotating adjacent
// pairs (0,1), (2,3), ... within each head. GGUF LLaMA files written by
// llama.cpp's converters use the same adjacent-pair layout (rope mode 0):
// stories260K.gguf's attn_q/attn_k bytes equal stories260K.bin's wq/wk (see
// llama2c_test). Neither reader permutes anything.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "runtime/status.h"

namespace nibble {

// The fields of run.c's TransformerWeights, in file order.
enum class Llama2cWeight {
  kTokenEmbeddingTable, kRmsAttWeight, kWq, kWk, kWv, kWo, kRmsFfnWeight, kW1, kW2, kW3, kRmsFinalWeight, kWcls,
};

// One tensor of the file (all F32): a field, or one layer's slice of a field
// stacked over layers.
struct Llama2cTensor {
  std::string name;            // run.c's field, with the layer: "wq[3]", "rms_final_weight"
  Llama2cWeight weight;
  int32_t layer = -1;          // -1 for fields not stacked over layers
  std::vector<int64_t> shape;  // GGUF order: shape[0] is the row length
  uint64_t offset = 0;         // absolute byte offset in the file
  uint64_t bytes = 0;
};

struct Llama2cCheckpoint {
  int32_t dim = 0;         // model width
  int32_t hidden_dim = 0;  // feed-forward width
  int32_t n_layers = 0;
  int32_t n_heads = 0;
  int32_t n_kv_heads = 0;
  int32_t vocab_size = 0;  // always positive here
  int32_t seq_len = 0;     // maximum context the model was trained for
  bool shared_classifier = true;  // true: no output.weight, use token_embd.weight

  int32_t head_size() const { return dim / n_heads; }
  int32_t kv_dim() const { return head_size() * n_kv_heads; }

  // Every weight in file order: token_embedding_table, rms_att_weight[N]
  // (N = 0..L-1), wq[N], wk[N], wv[N], wo[N], rms_ffn_weight[N], w1[N],
  // w2[N], w3[N], rms_final_weight, then wcls unless the classifier is shared.
  std::vector<Llama2cTensor> tensors;

  const Llama2cTensor* find_tensor(const std::string& name) const;
};

// Parses the header from the first `size` bytes (at least 28) of a checkpoint
// that is `file_size` bytes long, and checks that the file has exactly the
// size the header implies.
Status ParseLlama2cCheckpoint(const uint8_t* data, size_t size, uint64_t file_size,
                              Llama2cCheckpoint* out);

}  // namespace nibble
