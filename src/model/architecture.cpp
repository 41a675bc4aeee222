#include "model/architecture.h"

#include "format/gguf.h"

namespace nibble {
namespace {

constexpr bool kRequired = true, kOptional = false;

// The keys llama.cpp's LLaMA-like families share, after their prefix. The
// writer writes them in this order.
std::vector<ConfigKey> llama_keys() {
  using C = LlamaConfig;
  return {
      {"context_length", &C::context_length, nullptr, kRequired},
      {"embedding_length", &C::dim, nullptr, kRequired},
      {"block_count", &C::n_layers, nullptr, kRequired},
      {"feed_forward_length", &C::hidden_dim, nullptr, kRequired},
      {"rope.dimension_count", &C::rope_dim, nullptr, kOptional},       // default: head_dim
      {"attention.head_count", &C::n_heads, nullptr, kRequired},
      {"attention.head_count_kv", &C::n_kv_heads, nullptr, kOptional},  // default: head_count
      {"attention.layer_norm_rms_epsilon", nullptr, &C::rms_eps, kOptional},
      {"rope.freq_base", nullptr, &C::rope_theta, kOptional},
      {"vocab_size", &C::vocab_size, nullptr, kOptional},               // default: the tokenizer's
  };
}

std::vector<Architecture> make_builtin() {
  using S = TensorSlot;
  using E = Extent;
  Architecture llama;
  llama.name = "llama";
  llama.prefix = "llama";
  llama.keys = llama_keys();
  llama.tensors = {
      {"token_embd.weight", S::kTokenEmbedding, {E::kDim, E::kVocab}, kRequired},
      {"blk.%d.attn_norm.weight", S::kAttnNorm, {E::kDim}, kRequired},
      {"blk.%d.attn_q.weight", S::kAttnQ, {E::kDim, E::kDim}, kRequired},
      {"blk.%d.attn_k.weight", S::kAttnK, {E::kDim, E::kKvDim}, kRequired},
      {"blk.%d.attn_v.weight", S::kAttnV, {E::kDim, E::kKvDim}, kRequired},
      {"blk.%d.attn_output.weight", S::kAttnOutput, {E::kDim, E::kDim}, kRequired},
      {"blk.%d.ffn_norm.weight", S::kFfnNorm, {E::kDim}, kRequired},
      {"blk.%d.ffn_gate.weight", S::kFfnGate, {E::kDim, E::kHidden}, kRequired},
      {"blk.%d.ffn_down.weight", S::kFfnDown, {E::kHidden, E::kDim}, kRequired},
      {"blk.%d.ffn_up.weight", S::kFfnUp, {E::kDim, E::kHidden}, kRequired},
      {"output_norm.weight", S::kOutputNorm, {E::kDim}, kRequired},
      {"output.weight", S::kOutput, {E::kDim, E::kVocab}, kOptional},  // absent: tied to token_embd
  };
  llama.forward = ForwardSwitches();  // the defaults are LLaMA's
  return {llama};
}

}  // namespace

int64_t extent_value(Extent e, const LlamaConfig& c) {
  switch (e) {
    case Extent::kDim: return c.dim;
    case Extent::kKvDim: return c.kv_dim();
    case Extent::kHidden: return c.hidden_dim;
    case Extent::kVocab: return c.vocab_size;
  }
  return 0;
}

const std::vector<Architecture>& builtin_architectures() {
  static const std::vector<Architecture> rows = make_builtin();
  return rows;
}

const Architecture* find_architecture(const std::vector<Architecture>& rows, const std::string& name) {
  for (const Architecture& a : rows)
    if (a.name == name) return &a;
  return nullptr;
}

std::string tensor_name(const TensorSpec& spec, int layer) {
  const size_t at = spec.pattern.find("%d");
  if (at == std::string::npos) return spec.pattern;
  return spec.pattern.substr(0, at) + std::to_string(layer) + spec.pattern.substr(at + 2);
}

const TensorSpec* match_tensor(const Architecture& arch, const std::string& name, int* layer) {
  for (const TensorSpec& spec : arch.tensors) {
    const size_t at = spec.pattern.find("%d");
    if (at == std::string::npos) {
      if (name != spec.pattern) continue;
      *layer = -1;
      return &spec;
    }
    // prefix, a decimal layer number without leading zeros, suffix
    const size_t suffix = spec.pattern.size() - at - 2;
    if (name.size() <= at + suffix || name.compare(0, at, spec.pattern, 0, at) != 0 ||
        name.compare(name.size() - suffix, suffix, spec.pattern, at + 2, suffix) != 0)
      continue;
    const std::string digits = name.substr(at, name.size() - suffix - at);
    if (digits.size() > 6 || (digits.size() > 1 && digits[0] == '0') ||
        digits.find_first_not_of("0123456789") != std::string::npos)
      continue;
    *layer = std::stoi(digits);
    return &spec;
  }
  return nullptr;
}

const TensorSpec* spec_of(const Architecture& arch, TensorSlot slot) {
  for (const TensorSpec& spec : arch.tensors)
    if (spec.slot == slot) return &spec;
  return nullptr;
}

std::vector<int64_t> expected_shape(const TensorSpec& spec, const LlamaConfig& c) {
  std::vector<int64_t> shape;
  for (Extent e : spec.shape) shape.push_back(extent_value(e, c));
  return shape;
}

void write_config_keys(const Architecture& arch, const LlamaConfig& c, GgufWriter* writer) {
  for (const ConfigKey& k : arch.keys) {
    const std::string key = arch.prefix + "." + k.suffix;
    if (k.int_field) writer->set_u32(key, uint32_t(c.*k.int_field));
    else writer->set_f32(key, c.*k.float_field);
  }
}

}  // namespace nibble
