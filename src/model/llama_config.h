// Hyperparameters of a LLaMA-family model, from GGUF metadata (the keys its
// architecture row names) or a llama2.c header.
#pragma once

#include <cstdint>
#include <string>

#include "runtime/status.h"

namespace nibble {

struct LlamaConfig {
  int dim = 0;             // embedding width
  int hidden_dim = 0;      // feed-forward width
  int n_layers = 0;
  int n_heads = 0;         // query heads
  int n_kv_heads = 0;      // key/value heads (grouped-query attention)
  int vocab_size = 0;
  int context_length = 0;  // positions the model was trained for
  int head_dim = 0;        // attention.key_length, else dim / n_heads
  int value_dim = 0;       // attention.value_length (must equal head_dim)
  int rope_dim = 0;        // leading values of each head that RoPE rotates
  float rope_theta = 10000.0f;
  float rms_eps = 1e-5f;
  // Sliding-window attention (Gemma 2/3): 0 = every layer is global. Layer l
  // is local when l % window_pattern < window_pattern − 1 (llama.cpp's rule);
  // a local layer's token sees its last `sliding_window` positions.
  int sliding_window = 0;
  int window_pattern = 0;
  float rope_theta_local = 0.0f;  // RoPE base of local layers; 0 = rope_theta
  // Soft-capping, c·tanh(x / c); 0 = none. Gemma 2: attention scores, logits.
  float attn_softcap = 0.0f;
  float final_softcap = 0.0f;

  int q_dim() const { return n_heads * head_dim; }
  int kv_dim() const { return n_kv_heads * head_dim; }
  bool is_local_layer(int l) const {
    return sliding_window > 0 && window_pattern > 0 && l % window_pattern < window_pattern - 1;
  }
  // Checks every field and their relations; names the bad one.
  Status validate() const;
};

}  // namespace nibble

namespace nibble {
class GgufFile;
struct Architecture;
// Reads the metadata keys of `arch`'s row (with llama.cpp's defaults for
// optional keys).
Status config_from_gguf(const GgufFile& file, const Architecture& arch, LlamaConfig* out);
}  // namespace nibble
