// WordPiece (GGUF tokenizer.ggml.model "bert"), as llama.cpp's
// llm_tokenizer_wpm encodes:
//   1. wordpiece_words() normalizes the text and splits it into words;
//   2. each word, with the word-start marker "▁" in front (how llama.cpp's
//      converter spells BERT's words; its "##" continuations are bare), is
//      cut from the left into the longest tokens that fit; if some position
//      has no token, the whole word becomes the unknown token.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace nibble {

// The words of `text`: its code points (bytes that are not UTF-8, U+0000 and
// U+FFFD dropped), each replaced by the first code point of its NFD and marks
// dropped if strip_accents, lowercased (simple mapping) if lowercase; white
// space ends a word, control characters are dropped, and punctuation, ASCII
// symbols and CJK ideographs are words of one character.
std::vector<std::string> wordpiece_words(const std::string& text, bool lowercase, bool strip_accents);

// The tokens words are cut into, found by prefix: ids sorted by token text.
class WordPieceIndex {
 public:
  WordPieceIndex() = default;
  // `ids`: the tokens words may use, one id per distinct text, of `tokens`.
  WordPieceIndex(const std::vector<std::string>& tokens, std::vector<int32_t> ids);

  // Appends the ids of "▁" + word, or `unk` if it cannot be spelled. Each
  // token found costs O(min(word bytes, longest token) · log vocabulary).
  void append_word(const std::string& word, const std::vector<std::string>& tokens, int32_t unk,
                   std::vector<int32_t>* out) const;

 private:
  // The longest token that is a prefix of s[0, n): its id (-1 if none) and length.
  int32_t longest_prefix(const char* s, size_t n, const std::vector<std::string>& tokens,
                         size_t* length) const;

  std::vector<int32_t> by_text_;  // token ids, sorted by text bytewise
};

}  // namespace nibble
