// Quantization mixes: which tensor type each matrix of a model gets when it
// is quantized, as llama.cpp's llama-quantize decides it for a file type
// (its llama_tensor_get_type, with or without an importance matrix). The mixes are
// the rows of quant_mixes.def; the rules all of them share are here:
//
//   - the output matrix (or token_embd when the output is tied to it):
//     Q6_K (Q8_0 in Q8_0 mixes, and when the row length is not a multiple of
//     the base type's block);
//   - a mix's attn_v / ffn_down rule for the layers it names (MixLayers);
//   - then, for every matrix, llama.cpp's fallback when its row length is
//     not a multiple of the chosen type's block: Q4_K -> Q5_0, Q5_K -> Q5_1,
//     Q6_K -> Q8_0; where llama.cpp has none (it stops, or writes F16)
//     nibble keeps the matrix F32.
//
// "pure" (llama-quantize --pure) is the base type for every matrix, with the
// same fallbacks: a plain LoadOptions::weights type.
#pragma once

#include <cstdint>
#include <string>

#include "model/llama_config.h"
#include "model/llama_model.h"
#include "quant/block_formats.h"

namespace nibble {

// The layers a mix's attn_v / ffn_down rule applies to.
enum class MixLayers : uint8_t {
  kNone,         // none
  kMoreBits,     // llama.cpp's use_more_bits: the first and last eighth, and every third layer between
  kFirstFour,    // layers 0..3
  kFirstEighth,  // layers below n_layers / 8
  kWideGqa,      // all, when n_heads / n_kv_heads >= 4
};

struct QuantMix {
  const char* name;     // "q4_k_m"
  TensorType base;      // every matrix no rule names
  uint32_t file_type;   // general.file_type
  MixLayers attn_v_when;
  TensorType attn_v_type;
  MixLayers ffn_down_when;
  TensorType ffn_down_type;
};

// The mix called `name` (case ignored), or null.
const QuantMix* find_quant_mix(const std::string& name);
// "q4_0, q4_1, ..." (quoted: "'q4_0', ...") for messages.
std::string quant_mix_names(bool quoted);

// The type `mix` gives the matrix in `slot` (`layer`: -1 for whole-model
// tensors) of rows `row_length` long, before fallbacks (fallback_type).
// tied_output: the model has no output matrix (token_embd is the output).
// with_importance: an importance matrix is given (llama-quantize --imatrix),
// which changes ffn_down in the first eighth of the layers: q4_0 / q5_0 give
// it Q4_1 / Q5_1, iq4_nl keeps IQ4_NL instead of its Q5_K.
TensorType quant_mix_type(const QuantMix& mix, TensorSlot slot, int layer, int64_t row_length,
                          const std::string& architecture, const LlamaConfig& config, bool tied_output,
                          bool with_importance = false);

// `type`, or what llama.cpp falls back to when row_length is not a multiple
// of its block (F32 where llama.cpp has no fallback).
TensorType fallback_type(TensorType type, int64_t row_length);

}  // namespace nibble
