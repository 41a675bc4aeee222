// GPT-2's pre-tokenizer: splits text into the words BPE runs on, as the regex
//   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
// does (leftmost alternative that matches, each greedy), written by hand.
// Bytes that are not valid UTF-8 count as "other" characters.
#pragma once

#include <string>
#include <vector>

#include "tokenizer/bpe_merge.h"

namespace nibble {

// The words of `text`, in order; they tile it exactly.
std::vector<TextSpan> gpt2_pretokenize(const std::string& text);

}  // namespace nibble
