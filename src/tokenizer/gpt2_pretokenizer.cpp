#include "tokenizer/gpt2_pretokenizer.h"

#include <cstdint>

#include "tokenizer/unicode.h"

namespace nibble {

namespace {

// Length in characters of 's|'t|'re|'ve|'m|'ll|'d at i, or 0.
size_t match_contraction(const TextChars& s, size_t i) {
  if (s.cp[i] != '\'' || i + 1 >= s.size()) return 0;
  const uint32_t a = s.cp[i + 1];
  if (a == 's' || a == 't' || a == 'm' || a == 'd') return 2;
  if (i + 2 >= s.size()) return 0;
  const uint32_t b = s.cp[i + 2];
  if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return 3;
  return 0;
}

// Length of " ?X+" at i where X is one class, or 0.
size_t match_optional_space_run(const TextChars& s, size_t i, CodepointClass c) {
  size_t j = i;
  if (s.cp[j] == ' ') ++j;
  if (!s.is(j, c)) return 0;
  while (s.is(j, c)) ++j;
  return j - i;
}

// Length of \s+(?!\S)|\s+ at i (i is white space): the whole run when it ends
// the text; otherwise the run minus its last character, which then starts the
// next word (as " ?\p{L}+" etc. or alone), unless the run is one character.
size_t match_whitespace(const TextChars& s, size_t i) {
  size_t j = i;
  while (s.is(j, CodepointClass::kWhitespace)) ++j;
  const size_t run = j - i;
  if (j == s.size() || run == 1) return run;
  return run - 1;
}

}  // namespace

std::vector<TextSpan> gpt2_pretokenize(const std::string& text) {
  const TextChars s = split_chars(text);
  std::vector<TextSpan> words;
  for (size_t i = 0; i < s.size();) {
    size_t n = match_contraction(s, i);
    if (n == 0) n = match_optional_space_run(s, i, CodepointClass::kLetter);
    if (n == 0) n = match_optional_space_run(s, i, CodepointClass::kNumber);
    if (n == 0) n = match_optional_space_run(s, i, CodepointClass::kOther);
    if (n == 0) n = match_whitespace(s, i);  // every character left is white space
    words.push_back({s.offset[i], s.offset[i + n] - s.offset[i]});
    i += n;
  }
  return words;
}

}  // namespace nibble
