// The regular expressions of byte-level BPE pre-tokenizers (the patterns of
// tokenizer.json files, as llama.cpp lists them per tokenizer.ggml.pre), run
// over a text's code points. The subset they use:
//   literals, escapes (\r \n \t \\ \$ ...), . is not used;
//   classes [...] and [^...] with ranges, \s \p{L} \p{N} \p{P} inside;
//   \s \S \p{L} \p{N} \p{P} outside a class;
//   quantifiers ? * + {n} {n,m} (greedy) on a class or a single character;
//   alternation |, groups (?:...), negative lookahead (?!...), the end $.
// Matching follows ECMAScript (std::regex): at each start position the first
// alternative that lets the whole pattern match wins, quantifiers take the
// longest run that does. White space means Unicode's White_Space; a
// non-ASCII white-space character matches only \s (and negated classes),
// never a literal or a range, as in llama.cpp, which replaces such
// characters by \v before running std::wregex.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "runtime/status.h"
#include "tokenizer/bpe_merge.h"
#include "tokenizer/unicode.h"

namespace nibble {

class SplitRegex {
 public:
  // A pattern outside the subset is an error naming it.
  static Status Compile(const std::string& pattern, SplitRegex* out);

  // The first match inside characters [from, end) of `s` (the regex sees
  // `end` as the end of the text): true with [*start, *stop), or false.
  // Empty matches are skipped.
  bool search(const TextChars& s, size_t from, size_t end, size_t* start, size_t* stop) const;

  struct CharSet {
    bool negated = false;
    uint16_t classes = 0;  // bit per CodepointClass that matches (and bit 8: \S)
    std::vector<std::pair<uint32_t, uint32_t>> ranges;
    bool matches(uint32_t cp, CodepointClass cls) const;
  };
  struct Node {
    enum Kind : uint8_t { kSet, kGroup, kNegativeLookahead, kEnd } kind;
    int index;     // CharSet (kSet) or alternation (kGroup, kNegativeLookahead)
    int min, max;  // repetitions of a set
  };
  using Sequence = std::vector<Node>;
  using Alternation = std::vector<Sequence>;

 private:
  friend class RegexParser;
  struct Frame;
  bool run(const TextChars& s, size_t end, const Sequence& seq, size_t node, size_t pos, const Frame* next,
           size_t* stop) const;

  std::vector<CharSet> sets_;
  std::vector<Alternation> alternations_;  // [0] is the whole pattern
};

// llama.cpp's sequential split: each regex in turn splits every piece the
// previous ones left into its matches and the text between them (which stays
// a piece of its own). The pieces tile `text`.
std::vector<TextSpan> regex_split(const std::string& text, const std::vector<SplitRegex>& regexes);

}  // namespace nibble
