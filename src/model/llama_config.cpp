#include "model/llama_config.h"

#include <cmath>

#include "format/gguf.h"
#include "model/architecture.h"
#include "runtime/decimal_text.h"

namespace nibble {

Status LlamaConfig::validate() const {
  auto positive = [](const char* name, int v, int limit) -> Status {
    if (v <= 0 || v > limit)
      return FormatError(std::string("model hyperparameter ") + name + " = " + integer_text(v) +
                         " is out of range (1.." + integer_text(limit) + ")");
    return Status::Ok();
  };
  NIBBLE_RETURN_IF_ERROR(positive("dim", dim, 1 << 16));
  NIBBLE_RETURN_IF_ERROR(positive("hidden_dim", hidden_dim, 1 << 18));
  NIBBLE_RETURN_IF_ERROR(positive("n_layers", n_layers, 1024));
  NIBBLE_RETURN_IF_ERROR(positive("n_heads", n_heads, 1024));
  NIBBLE_RETURN_IF_ERROR(positive("n_kv_heads", n_kv_heads, 1024));
  NIBBLE_RETURN_IF_ERROR(positive("vocab_size", vocab_size, 1 << 20));
  NIBBLE_RETURN_IF_ERROR(positive("context_length", context_length, 1 << 24));
  NIBBLE_RETURN_IF_ERROR(positive("head_dim", head_dim, 1 << 12));
  if (n_heads % n_kv_heads != 0)
    return FormatError("n_heads = " + integer_text(n_heads) + " is not a multiple of n_kv_heads = " +
                       integer_text(n_kv_heads));
  if (rope_dim <= 0 || rope_dim > head_dim || rope_dim % 2 != 0)
    return FormatError("RoPE dimension " + integer_text(rope_dim) + " must be even and at most head_dim = " +
                       integer_text(head_dim));
  if (!(rope_theta > 0.0f) || !std::isfinite(rope_theta))
    return FormatError("RoPE base must be a positive number, got " + decimal_text(rope_theta, 6));
  if (!(rms_eps > 0.0f) || !(rms_eps < 1.0f))
    return FormatError("RMSNorm epsilon must be in (0, 1), got " + decimal_text(rms_eps, 6));
  if (value_dim != 0 && value_dim != head_dim)
    return FormatError("attention value length " + integer_text(value_dim) + " differs from the key length " +
                       integer_text(head_dim) + "; nibble needs them equal");
  if (sliding_window < 0 || (sliding_window > 0 && window_pattern <= 0))
    return FormatError("sliding window " + integer_text(sliding_window) + " with layer pattern " +
                       integer_text(window_pattern) + " is not valid");
  for (const auto& [name, v] : {std::pair<const char*, float>{"local RoPE base", rope_theta_local},
                                {"attention soft-cap", attn_softcap}, {"final logit soft-cap", final_softcap}})
    if (!(v >= 0.0f) || !std::isfinite(v))
      return FormatError(std::string(name) + " must be a finite number >= 0, got " + decimal_text(v, 6));
  return Status::Ok();
}

}  // namespace nibble

namespace nibble {

Status config_from_gguf(const GgufFile& file, const Architecture& arch, LlamaConfig* out) {
  // The row's defaults; optional ints absent from both stay 0 and get their
  // defaults below.
  LlamaConfig c = arch.defaults;
  for (const ConfigKey& k : arch.keys) {
    const std::string key = arch.prefix + "." + k.suffix;
    if (!k.required && !file.find(key)) continue;
    if (k.int_field) {
      int64_t v = 0;
      NIBBLE_RETURN_IF_ERROR(file.get_int(key, &v));
      if (v <= 0 || v > (int64_t(1) << 30)) return FormatError(key + " = " + integer_text(v) + " is out of range (1..2^30)");
      c.*k.int_field = int(v);
    } else {
      double v = 0;
      NIBBLE_RETURN_IF_ERROR(file.get_float(key, &v));
      c.*k.float_field = float(v);
    }
  }
  if (c.n_kv_heads == 0) c.n_kv_heads = c.n_heads;
  if (c.head_dim == 0) {
    // No attention.key_length: heads split the embedding evenly.
    if (c.dim % c.n_heads != 0)
      return FormatError("embedding length " + integer_text(c.dim) + " is not a multiple of the head count " +
                         integer_text(c.n_heads));
    c.head_dim = c.dim / c.n_heads;
  }
  if (c.value_dim == 0) c.value_dim = c.head_dim;
  if (c.rope_dim == 0) c.rope_dim = c.head_dim;
  if (c.rope_theta_local == 0.0f) c.rope_theta_local = c.rope_theta;
  // The vocabulary: the metadata's when given, else the tokenizer's size,
  // else the embedding's rows.
  const TensorSpec* embedding = spec_of(arch, TensorSlot::kTokenEmbedding);
  const GgufTensorInfo* embd = embedding ? file.find_tensor(tensor_name(*embedding, -1)) : nullptr;
  if (c.vocab_size > 0) {
    // given
  } else if (const GgufValue* tokens = file.find("tokenizer.ggml.tokens")) {
    c.vocab_size = int(tokens->strings.size());
  } else if (embd && embd->shape.size() == 2 && embd->shape[1] > 0 && embd->shape[1] < (1 << 30)) {
    c.vocab_size = int(embd->shape[1]);
  }
  NIBBLE_RETURN_IF_ERROR(c.validate());
  *out = c;
  return Status::Ok();
}

}  // namespace nibble
