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
  int head_dim = 0;        // dim / n_heads
  int rope_dim = 0;        // leading values of each head that RoPE rotates
  float rope_theta = 10000.0f;
  float rms_eps = 1e-5f;

  int kv_dim() const { return n_kv_heads * head_dim; }
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
