// A loaded language model: the transformer, its tokenizer, and what the
// loader learned on the way (for `info`).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "model/architecture.h"
#include "model/llama_model.h"
#include "model/quant_mix.h"
#include "tokenizer/tokenizer.h"

namespace nibble {

// One matrix whose stored type differs from what was asked, and why.
struct TensorFallback {
  std::string name;
  std::string type;    // what it was loaded as ("f32")
  std::string reason;  // "row length 172 is not a multiple of 32"
};

struct ModelInfo {
  std::string format;        // "gguf" or "llama2c"
  std::string architecture;  // "llama"
  std::string name;          // general.name when present
  std::string file_weight_type;    // the matrices' type in the file ("f32", "q4_0", "mixed")
  std::string weight_type;         // what they were loaded as ("q4_0", "f32", "mixed")
  std::vector<TensorFallback> fallbacks;
  int64_t parameters = 0;          // weights in all tensors
  uint64_t file_bytes = 0;
  uint64_t loaded_bytes = 0;       // weights held in memory
  bool tied_output = false;
  int importance_matrices = 0;     // matrices quantized with importance data
  bool rotated_inputs = false;     // its matrices take inputs rotated per block (activation_remedy.h)
  bool smoothed_inputs = false;    // smoothing is folded into its weights (activation_remedy.h)
  bool shifted_inputs = false;     // matrices shift their inputs (PackedWeights::input_shift)
  int low_rank = 0;                // the largest rank of its matrices' input bases (PackedWeights::input_basis)
  std::string tokenizer;           // "llama" (SentencePiece-style) or "gpt2"
};

struct Model {
  Architecture architecture;  // its row of the table
  LlamaConfig config;
  std::unique_ptr<LlamaModel> llama;
  std::unique_ptr<Tokenizer> tokenizer;
  ModelInfo info;
  const QuantMix* mix = nullptr;  // the mix its matrices were quantized with, if any
};

}  // namespace nibble
