// The mixes' rules (quant_mix.h) and their table (quant_mixes.def).
#include "model/quant_mix.h"

#include <cctype>

namespace nibble {
namespace {

const QuantMix kQuantMixes[] = {
#define NIBBLE_QUANT_MIX(Id, name, base, ftype, v_when, v_type, down_when, down_type)                       \
  {name, TensorType::base, ftype, MixLayers::v_when, TensorType::v_type, MixLayers::down_when, \
   TensorType::down_type},
#include "model/quant_mixes.def"
#undef NIBBLE_QUANT_MIX
};

bool same_ignoring_case(const std::string& a, const char* b) {
  size_t i = 0;
  for (; i < a.size() && b[i]; ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  return i == a.size() && b[i] == 0;
}

bool fits(TensorType type, int64_t row_length) {
  return row_length % tensor_type_info(type)->block_size == 0;
}

// llama.cpp's use_more_bits(i, n).
bool more_bits(int layer, int n_layers) {
  return layer < n_layers / 8 || layer >= 7 * n_layers / 8 || (layer - n_layers / 8) % 3 == 2;
}

bool applies(MixLayers when, int layer, const LlamaConfig& c) {
  switch (when) {
    case MixLayers::kNone: return false;
    case MixLayers::kMoreBits: return more_bits(layer, c.n_layers);
    case MixLayers::kFirstFour: return layer < 4;
    case MixLayers::kFirstEighth: return layer < c.n_layers / 8;
    case MixLayers::kWideGqa: return c.n_kv_heads > 0 && c.n_heads / c.n_kv_heads >= 4;
  }
  return false;
}

// llama.cpp's choice before fallbacks. Its layer counters (i_attention_wv,
// i_ffn_down) count tensors in (layer, name) order; with one attn_v and one
// ffn_down per layer, as in every architecture here, they are the layer.
TensorType chosen_type(const QuantMix& mix, TensorSlot slot, int layer, int64_t row_length,
                       const std::string& architecture, const LlamaConfig& c, bool tied_output) {
  if (slot == TensorSlot::kOutput || (tied_output && slot == TensorSlot::kTokenEmbedding)) {
    if (!fits(mix.base, row_length)) return TensorType::Q8_0;
    return mix.base == TensorType::Q8_0 ? TensorType::Q8_0 : TensorType::Q6_K;
  }
  if (slot == TensorSlot::kAttnV) {
    TensorType type = applies(mix.attn_v_when, layer, c) ? mix.attn_v_type : mix.base;
    // llama.cpp's LLaMA-70B rule (80 layers, grouped-query attention).
    const bool llama_70b = architecture == "llama" && c.n_layers == 80 && c.n_heads != c.n_kv_heads;
    if (llama_70b && type == TensorType::Q4_K) type = TensorType::Q5_K;
    return type;
  }
  if (slot == TensorSlot::kFfnDown) return applies(mix.ffn_down_when, layer, c) ? mix.ffn_down_type : mix.base;
  return mix.base;
}

}  // namespace

const QuantMix* find_quant_mix(const std::string& name) {
  for (const QuantMix& m : kQuantMixes)
    if (same_ignoring_case(name, m.name)) return &m;
  return nullptr;
}

std::string quant_mix_names(bool quoted) {
  std::string names;
  for (const QuantMix& m : kQuantMixes) {
    if (!names.empty()) names += ", ";
    names += quoted ? std::string("'") + m.name + "'" : std::string(m.name);
  }
  return names;
}

TensorType fallback_type(TensorType type, int64_t row_length) {
  if (fits(type, row_length)) return type;
  TensorType wider = TensorType::F32;
  switch (type) {
    case TensorType::Q4_K: wider = TensorType::Q5_0; break;
    case TensorType::Q5_K: wider = TensorType::Q5_1; break;
    case TensorType::Q6_K: wider = TensorType::Q8_0; break;
    default: break;
  }
  return fits(wider, row_length) ? wider : TensorType::F32;
}

TensorType quant_mix_type(const QuantMix& mix, TensorSlot slot, int layer, int64_t row_length,
                          const std::string& architecture, const LlamaConfig& config, bool tied_output,
                          bool with_importance) {
  // llama.cpp's ffn_down rules for when an importance matrix is given (its
  // qs.has_imatrix): they come before the mix's own.
  if (with_importance && slot == TensorSlot::kFfnDown && layer < config.n_layers / 8) {
    if (mix.base == TensorType::Q4_0) return TensorType::Q4_1;
    if (mix.base == TensorType::Q5_0) return TensorType::Q5_1;
    if (mix.base == TensorType::IQ4_NL) return TensorType::IQ4_NL;
  }
  return chosen_type(mix, slot, layer, row_length, architecture, config, tied_output);
}

}  // namespace nibble
