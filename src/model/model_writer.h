// Writes a loaded Model as a standard GGUF v3 file (its architecture row's
// metadata keys and tensor names, the tokenizer embedded) that llama.cpp and
// ModelLoader read back: `nibble quantize` loads a llama2.c or GGUF file with
// INT4 weights and writes this.
#pragma once

#include <cstdint>
#include <vector>

#include "model/model.h"

namespace nibble {

Status write_model_gguf(const Model& model, std::vector<uint8_t>* out);

}  // namespace nibble
