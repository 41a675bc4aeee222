#include "model/architecture.h"

#include "format/gguf.h"
#include "runtime/decimal_text.h"

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
      {"attention.key_length", &C::head_dim, nullptr, kOptional},       // default: embedding / heads
      {"attention.value_length", &C::value_dim, nullptr, kOptional},    // default: key_length
      {"attention.layer_norm_rms_epsilon", nullptr, &C::rms_eps, kOptional},
      {"rope.freq_base", nullptr, &C::rope_theta, kOptional},
      {"vocab_size", &C::vocab_size, nullptr, kOptional},               // default: the tokenizer's
  };
}

// llama_keys() and more.
std::vector<ConfigKey> with_keys(std::vector<ConfigKey> more) {
  std::vector<ConfigKey> keys = llama_keys();
  keys.insert(keys.end(), more.begin(), more.end());
  return keys;
}

using S = TensorSlot;
using E = Extent;

// A LLaMA layer's tensors in the order converters write them, with the
// attention projections' extras (biases, Q/K norms) and the post-norms where
// a family has them.
enum LayerExtras : unsigned { kPlain = 0, kQkvBias = 1, kQkNorm = 2, kPostNorms = 4 };
std::vector<TensorSpec> llama_layer(unsigned extras) {
  std::vector<TensorSpec> t = {
      {"blk.%d.attn_norm.weight", S::kAttnNorm, {E::kDim}, kRequired},
      {"blk.%d.attn_q.weight", S::kAttnQ, {E::kDim, E::kQDim}, kRequired},
      {"blk.%d.attn_k.weight", S::kAttnK, {E::kDim, E::kKvDim}, kRequired},
      {"blk.%d.attn_v.weight", S::kAttnV, {E::kDim, E::kKvDim}, kRequired},
  };
  if (extras & kQkvBias) {
    t.push_back({"blk.%d.attn_q.bias", S::kAttnQBias, {E::kQDim}, kRequired});
    t.push_back({"blk.%d.attn_k.bias", S::kAttnKBias, {E::kKvDim}, kRequired});
    t.push_back({"blk.%d.attn_v.bias", S::kAttnVBias, {E::kKvDim}, kRequired});
  }
  if (extras & kQkNorm) {
    t.push_back({"blk.%d.attn_q_norm.weight", S::kAttnQNorm, {E::kHeadDim}, kRequired});
    t.push_back({"blk.%d.attn_k_norm.weight", S::kAttnKNorm, {E::kHeadDim}, kRequired});
  }
  t.push_back({"blk.%d.attn_output.weight", S::kAttnOutput, {E::kQDim, E::kDim}, kRequired});
  if (extras & kPostNorms) t.push_back({"blk.%d.post_attention_norm.weight", S::kPostAttnNorm, {E::kDim}, kRequired});
  t.push_back({"blk.%d.ffn_norm.weight", S::kFfnNorm, {E::kDim}, kRequired});
  t.push_back({"blk.%d.ffn_gate.weight", S::kFfnGate, {E::kDim, E::kHidden}, kRequired});
  t.push_back({"blk.%d.ffn_up.weight", S::kFfnUp, {E::kDim, E::kHidden}, kRequired});
  t.push_back({"blk.%d.ffn_down.weight", S::kFfnDown, {E::kHidden, E::kDim}, kRequired});
  if (extras & kPostNorms) t.push_back({"blk.%d.post_ffw_norm.weight", S::kPostFfnNorm, {E::kDim}, kRequired});
  return t;
}

// token_embd, [extra whole-model tensors,] the layers, output_norm, output.
std::vector<TensorSpec> model_tensors(std::vector<TensorSpec> before_layers, std::vector<TensorSpec> layer) {
  std::vector<TensorSpec> t = {{"token_embd.weight", S::kTokenEmbedding, {E::kDim, E::kVocab}, kRequired}};
  t.insert(t.end(), before_layers.begin(), before_layers.end());
  t.insert(t.end(), layer.begin(), layer.end());
  t.push_back({"output_norm.weight", S::kOutputNorm, {E::kDim}, kRequired});
  t.push_back({"output.weight", S::kOutput, {E::kDim, E::kVocab}, kOptional});  // absent: tied to token_embd
  return t;
}

Architecture row(const char* name, std::vector<ConfigKey> keys, std::vector<TensorSpec> tensors,
                 ForwardSwitches forward = {}, LlamaConfig defaults = {}) {
  return {name, name, std::move(keys), std::move(tensors), forward, defaults};
}

std::vector<Architecture> make_builtin() {
  using C = LlamaConfig;
  // llama: Llama 1-3, SmolLM, TinyLlama. Llama 3.x files carry their RoPE
  // scaling as per-pair frequency divisors (rope_freqs.weight).
  Architecture llama = row("llama", llama_keys(),
                           model_tensors({{"rope_freqs.weight", S::kRopeFreqs, {E::kRopePairs}, kOptional}},
                                         llama_layer(kPlain)));

  ForwardSwitches neox;
  neox.rope = RopeStyle::kHalfSplit;
  ForwardSwitches qwen2_switches = neox;
  qwen2_switches.qkv_bias = true;
  Architecture qwen2 = row("qwen2", llama_keys(), model_tensors({}, llama_layer(kQkvBias)), qwen2_switches);

  ForwardSwitches qwen3_switches = neox;
  qwen3_switches.qk_norm = true;
  Architecture qwen3 = row("qwen3", llama_keys(), model_tensors({}, llama_layer(kQkNorm)), qwen3_switches);

  // Gemma: embedding × sqrt(dim), norms after attention and FFN, GeGLU,
  // local (sliding-window) and global layers. llama.cpp's defaults for keys
  // a file may omit: soft-caps 50 / 30 and a window pattern of 2 (Gemma 2);
  // pattern 6 and local RoPE base 10000 (Gemma 3).
  ForwardSwitches gemma_switches = neox;
  gemma_switches.norm = NormPlacement::kPreAndPost;
  gemma_switches.ffn = FfnActivation::kGeluTanh;
  gemma_switches.scale_embedding = true;
  const ConfigKey window = {"attention.sliding_window", &C::sliding_window, nullptr, kOptional};
  const ConfigKey pattern = {"attention.sliding_window_pattern", &C::window_pattern, nullptr, kOptional};
  LlamaConfig gemma2_defaults;
  gemma2_defaults.window_pattern = 2;
  gemma2_defaults.attn_softcap = 50.0f;
  gemma2_defaults.final_softcap = 30.0f;
  Architecture gemma2 = row("gemma2",
                            with_keys({window, pattern,
                                       {"attn_logit_softcapping", nullptr, &C::attn_softcap, kOptional},
                                       {"final_logit_softcapping", nullptr, &C::final_softcap, kOptional}}),
                            model_tensors({}, llama_layer(kPostNorms)), gemma_switches, gemma2_defaults);
  ForwardSwitches gemma3_switches = gemma_switches;
  gemma3_switches.qk_norm = true;
  LlamaConfig gemma3_defaults;
  gemma3_defaults.window_pattern = 6;
  gemma3_defaults.rope_theta_local = 10000.0f;
  Architecture gemma3 = row("gemma3",
                            with_keys({window, pattern, {"rope.freq_base_swa", nullptr, &C::rope_theta_local, kOptional}}),
                            model_tensors({}, llama_layer(kQkNorm | kPostNorms)), gemma3_switches,
                            gemma3_defaults);

  // phi3: one QKV matrix [q | k | v] and one gate/up matrix [gate | up].
  // llama.cpp ignores its attention.sliding_window, so the row does not read it.
  ForwardSwitches phi3_switches = neox;
  phi3_switches.fused_qkv = true;
  phi3_switches.fused_gate_up = true;
  Architecture phi3 = row("phi3", llama_keys(),
                          model_tensors({}, {
                              {"blk.%d.attn_norm.weight", S::kAttnNorm, {E::kDim}, kRequired},
                              {"blk.%d.attn_qkv.weight", S::kAttnQkv, {E::kDim, E::kQkvDim}, kRequired},
                              {"blk.%d.attn_output.weight", S::kAttnOutput, {E::kQDim, E::kDim}, kRequired},
                              {"blk.%d.ffn_norm.weight", S::kFfnNorm, {E::kDim}, kRequired},
                              {"blk.%d.ffn_up.weight", S::kFfnGateUp, {E::kDim, E::kHidden2}, kRequired},
                              {"blk.%d.ffn_down.weight", S::kFfnDown, {E::kHidden, E::kDim}, kRequired},
                          }),
                          phi3_switches);
  return {llama, qwen2, qwen3, gemma2, gemma3, phi3};
}

}  // namespace

int64_t extent_value(Extent e, const LlamaConfig& c) {
  switch (e) {
    case Extent::kDim: return c.dim;
    case Extent::kKvDim: return c.kv_dim();
    case Extent::kHidden: return c.hidden_dim;
    case Extent::kVocab: return c.vocab_size;
    case Extent::kQDim: return c.q_dim();
    case Extent::kHeadDim: return c.head_dim;
    case Extent::kQkvDim: return int64_t(c.q_dim()) + 2 * int64_t(c.kv_dim());
    case Extent::kHidden2: return 2 * int64_t(c.hidden_dim);
    case Extent::kRopePairs: return c.rope_dim / 2;
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

Status check_row(const Architecture& arch) {
  const ForwardSwitches& f = arch.forward;
  const bool post = f.norm == NormPlacement::kPreAndPost;
  using S = TensorSlot;
  const struct { bool needed; S slot; } kNeeds[] = {
      {true, S::kTokenEmbedding}, {true, S::kOutputNorm}, {true, S::kAttnNorm}, {true, S::kAttnOutput},
      {true, S::kFfnNorm}, {true, S::kFfnDown},
      {f.fused_qkv, S::kAttnQkv}, {!f.fused_qkv, S::kAttnQ}, {!f.fused_qkv, S::kAttnK}, {!f.fused_qkv, S::kAttnV},
      {f.qkv_bias, S::kAttnQBias}, {f.qkv_bias, S::kAttnKBias}, {f.qkv_bias, S::kAttnVBias},
      {f.qk_norm, S::kAttnQNorm}, {f.qk_norm, S::kAttnKNorm},
      {f.fused_gate_up, S::kFfnGateUp}, {!f.fused_gate_up, S::kFfnGate}, {!f.fused_gate_up, S::kFfnUp},
      {post, S::kPostAttnNorm}, {post, S::kPostFfnNorm},
  };
  for (const auto& n : kNeeds) {
    const TensorSpec* spec = spec_of(arch, n.slot);
    if (n.needed && (spec == nullptr || !spec->required))
      return FormatError("architecture '" + arch.name + "' has no required tensor for slot " +
                         integer_text(int(n.slot)) + ", which its forward pass reads");
  }
  return Status::Ok();
}

std::string tensor_name(const TensorSpec& spec, int layer) {
  const size_t at = spec.pattern.find("%d");
  if (at == std::string::npos) return spec.pattern;
  return spec.pattern.substr(0, at) + integer_text(layer) + spec.pattern.substr(at + 2);
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
