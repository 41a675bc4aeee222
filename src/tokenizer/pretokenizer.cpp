#include "tokenizer/pretokenizer.h"

#include "tokenizer/gpt2_pretokenizer.h"

namespace nibble {

const std::vector<Pretokenizer>& pretokenizers() {
  // Aliases are the names llama.cpp gives the same regex; "" is a file
  // without tokenizer.ggml.pre. Names that split otherwise (llama-bpe,
  // qwen2, smollm, ...) stay out until they have their own function, so such
  // files are refused rather than mis-encoded.
  static const std::vector<Pretokenizer> rows = {
      {"gpt-2", {"", "default", "gpt2", "mpt", "olmo", "jais"}, gpt2_pretokenize},
  };
  return rows;
}

Status find_pretokenizer(const std::string& pre, const Pretokenizer** out) {
  std::string supported;
  for (const Pretokenizer& row : pretokenizers()) {
    if (pre == row.name) {
      *out = &row;
      return Status::Ok();
    }
    for (const std::string& alias : row.aliases) {
      if (pre == alias) {
        *out = &row;
        return Status::Ok();
      }
    }
    supported += supported.empty() ? row.name : std::string(", ") + row.name;
  }
  return FormatError("tokenizer.ggml.pre = \"" + pre +
                     "\" needs a pre-tokenizer nibble does not implement (supported: " +
                     supported + ")");
}

}  // namespace nibble
