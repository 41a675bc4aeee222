// The merge loop shared by both tokenizers: start from the UTF-8 characters
// of a text and repeatedly join the adjacent pair with the highest priority
// (the leftmost pair on ties) until no adjacent pair may merge.
//   SentencePiece: a pair merges if its joined text is a token; priority = score.
//   GPT-2 BPE:     a pair merges if "left right" is a merge; priority = -rank.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace nibble {

// Bytes [start, start + length) of the merged text.
struct TextSpan {
  uint32_t start;
  uint32_t length;
};

// Whether the pieces text[0, left_length) and text[left_length, left_length +
// right_length) may merge, and if so with which priority.
using PairPriority = std::function<bool(const char* text, size_t left_length,
                                        size_t right_length, double* priority)>;

// The pieces `text` ends up as, in order; they tile the text exactly.
std::vector<TextSpan> bpe_merge(const std::string& text, const PairPriority& priority);

}  // namespace nibble
