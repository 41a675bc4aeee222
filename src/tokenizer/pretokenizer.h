// The pre-tokenizer registry: byte-level BPE first splits text into words
// (merges never cross a word boundary), and how it splits is named by GGUF
// tokenizer.ggml.pre. Each row maps that name (and its aliases) to one split
// function; adding a pre-tokenizer is one row plus its function's own file
// (README.md, "Add a pre-tokenizer").
#pragma once

#include <string>
#include <vector>

#include "runtime/status.h"
#include "tokenizer/bpe_merge.h"

namespace nibble {

// The words of `text`, in order; they tile it exactly.
using PretokenizeFn = std::vector<TextSpan> (*)(const std::string& text);

struct Pretokenizer {
  const char* name;                  // tokenizer.ggml.pre as llama.cpp writes it; errors list these
  std::vector<std::string> aliases;  // other values that split the same way
  PretokenizeFn pretokenize;
};

// The rows, GPT-2's first.
const std::vector<Pretokenizer>& pretokenizers();

// The row whose name or alias is `pre`, or a format error naming `pre` and
// the supported names.
Status find_pretokenizer(const std::string& pre, const Pretokenizer** out);

}  // namespace nibble
