// The pre-tokenizer registry: byte-level BPE first splits text into words
// (merges never cross a word boundary), and how it splits is named by GGUF
// tokenizer.ggml.pre. Each row maps that name (and its aliases) to the
// regexes llama.cpp runs for it (split_regex.h), in order, and to the two
// behaviours that differ between vocabularies. Adding a pre-tokenizer is one
// row (README.md, "Add a pre-tokenizer").
#pragma once

#include <string>
#include <vector>

#include "runtime/status.h"
#include "tokenizer/bpe_merge.h"
#include "tokenizer/split_regex.h"

namespace nibble {

struct Pretokenizer {
  std::string name;                  // tokenizer.ggml.pre as llama.cpp writes it; errors list these
  std::vector<std::string> aliases;  // other values that split the same way
  std::vector<std::string> patterns; // applied in order: each splits the pieces the previous left
  bool ignore_merges = false;        // a word that is itself a token is that token (Llama 3)
  bool clean_spaces = true;          // decode() tidies spaces before punctuation (see Tokenizer)
  std::vector<SplitRegex> regexes;   // the patterns, compiled

  // The words of `text`, in order; they tile it exactly.
  std::vector<TextSpan> split(const std::string& text) const { return regex_split(text, regexes); }
};

// The rows, GPT-2's first.
const std::vector<Pretokenizer>& pretokenizers();

// The row whose name or alias is `pre`, or a format error naming `pre` and
// the supported names.
Status find_pretokenizer(const std::string& pre, const Pretokenizer** out);

}  // namespace nibble
