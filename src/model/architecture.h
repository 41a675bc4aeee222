// The architecture table: one row per GGUF `general.architecture`, the only
// place that says what a model family's file holds. A row gives
//   - the prefix of its metadata keys and which keys fill which
//     hyperparameter ("llama" -> "llama.block_count" -> n_layers);
//   - its tensors: GGUF name pattern, shape in hyperparameters, required or
//     optional, and the weight slot each fills;
//   - its forward-pass switches (the one forward pass, llama_model.cpp).
// The loader, the writer, `info`, the llama2.c import and config_from_gguf
// read it. To add an architecture, see src/model/README.md.
#pragma once

#include <string>
#include <vector>

#include "model/llama_config.h"
#include "model/llama_model.h"
#include "runtime/status.h"

namespace nibble {

class GgufWriter;

// One metadata key: `<prefix>.<suffix>` fills an int or a float field of the
// config (the other field pointer is null).
struct ConfigKey {
  const char* suffix;
  int LlamaConfig::*int_field;
  float LlamaConfig::*float_field;
  bool required;
};

// A length in a tensor's shape, in terms of the hyperparameters.
enum class Extent {
  kDim, kKvDim, kHidden, kVocab,
  kQDim,       // n_heads · head_dim (≠ dim when attention.key_length says so)
  kHeadDim,
  kQkvDim,     // q_dim + 2 · kv_dim: a fused QKV matrix's rows
  kHidden2,    // 2 · hidden: a fused gate/up matrix's rows
  kRopePairs,  // rope_dim / 2: one RoPE frequency factor per rotated pair
};
int64_t extent_value(Extent e, const LlamaConfig& c);

struct TensorSpec {
  std::string pattern;        // GGUF name; "%d" stands for the layer number
  TensorSlot slot;
  std::vector<Extent> shape;  // GGUF order: row length first
  bool required;
};

struct Architecture {
  std::string name;    // general.architecture
  std::string prefix;  // of its metadata keys
  std::vector<ConfigKey> keys;
  std::vector<TensorSpec> tensors;  // in file order: whole-model ones around the layers'
  ForwardSwitches forward;
  LlamaConfig defaults;  // values of hyperparameters whose keys the file may omit
};

// The architectures nibble runs.
const std::vector<Architecture>& builtin_architectures();
// The row named `name` among `rows`, or null.
const Architecture* find_architecture(const std::vector<Architecture>& rows, const std::string& name);

// Ok when every switch of the row has the tensors it reads as required
// tensors (Q/K/V biases, Q/K norms, fused or separate projections,
// post-norms); else names the first missing one.
Status check_row(const Architecture& arch);

// The GGUF name of a tensor (`layer` fills the pattern's "%d").
std::string tensor_name(const TensorSpec& spec, int layer);
// The spec whose pattern `name` matches (its layer number in *layer), or null.
const TensorSpec* match_tensor(const Architecture& arch, const std::string& name, int* layer);
// The spec that fills `slot`, or null.
const TensorSpec* spec_of(const Architecture& arch, TensorSlot slot);
// Its shape for the hyperparameters, GGUF order.
std::vector<int64_t> expected_shape(const TensorSpec& spec, const LlamaConfig& c);
// Sets the row's metadata keys (`<prefix>.<suffix>`, in row order) from `c`.
void write_config_keys(const Architecture& arch, const LlamaConfig& c, GgufWriter* writer);

// Calls fn(spec, layer) for each tensor of a model with `n_layers` layers in
// file order: the whole-model specs listed before the first per-layer one
// (layer -1), then each layer's, then the remaining whole-model ones.
template <typename Fn>
void for_each_tensor(const Architecture& arch, int n_layers, Fn fn) {
  size_t first = 0;
  while (first < arch.tensors.size() && !is_layer_slot(arch.tensors[first].slot)) fn(arch.tensors[first++], -1);
  size_t end = first;
  while (end < arch.tensors.size() && is_layer_slot(arch.tensors[end].slot)) ++end;
  for (int l = 0; l < n_layers; ++l)
    for (size_t i = first; i < end; ++i) fn(arch.tensors[i], l);
  for (size_t i = end; i < arch.tensors.size(); ++i) fn(arch.tensors[i], -1);
}

}  // namespace nibble
