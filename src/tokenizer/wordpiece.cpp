#include "tokenizer/wordpiece.h"

#include <algorithm>
#include <utility>

#include "tokenizer/unicode.h"
#include "tokenizer/vocab.h"

namespace nibble {

namespace {

// The CJK ideograph blocks BERT splits into single characters (Hugging Face's
// list, whose Extension E range starts at U+2B920, not U+2B820, as llama.cpp
// copies it).
bool is_cjk_ideograph(uint32_t cp) {
  return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
         (cp >= 0x20000 && cp <= 0x2A6DF) || (cp >= 0x2A700 && cp <= 0x2B73F) ||
         (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B920 && cp <= 0x2CEAF) ||
         (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
}

}  // namespace

std::vector<std::string> wordpiece_words(const std::string& text, bool lowercase, bool strip_accents) {
  std::vector<std::string> words(1);
  for (size_t pos = 0; pos < text.size();) {
    const Utf8Char c = decode_utf8(text.data() + pos, text.size() - pos);
    pos += c.length;
    if (c.cp == kInvalidCodepoint || c.cp == 0 || c.cp == 0xFFFD) continue;
    const uint32_t cp = strip_accents ? nfd_first_codepoint(c.cp) : c.cp;
    const CodepointClass cls = codepoint_class(cp);
    if (cls == CodepointClass::kWhitespace) {
      if (!words.back().empty()) words.emplace_back();
      continue;
    }
    if (cls == CodepointClass::kControl || (strip_accents && cls == CodepointClass::kMark)) continue;
    std::string s;
    append_utf8(lowercase ? simple_lowercase(cp) : cp, &s);
    if (cls == CodepointClass::kPunctuation || (cp < 0x7F && cls == CodepointClass::kSymbol) ||
        is_cjk_ideograph(cp)) {
      if (!words.back().empty()) words.emplace_back();
      words.back() = std::move(s);
      words.emplace_back();
    } else {
      words.back() += s;
    }
  }
  if (words.back().empty()) words.pop_back();
  return words;
}

WordPieceIndex::WordPieceIndex(const std::vector<std::string>& tokens, std::vector<int32_t> ids)
    : by_text_(std::move(ids)) {
  // std::string compares bytes as unsigned char, the order longest_prefix walks.
  std::sort(by_text_.begin(), by_text_.end(), [&tokens](int32_t a, int32_t b) { return tokens[a] < tokens[b]; });
}

int32_t WordPieceIndex::longest_prefix(const char* s, size_t n, const std::vector<std::string>& tokens,
                                       size_t* length) const {
  int32_t best = -1;
  // [lo, hi): the tokens whose first k bytes are s[0, k); a token of exactly
  // k bytes sorts first among them (texts are distinct, so there is at most one).
  auto lo = by_text_.begin(), hi = by_text_.end();
  for (size_t k = 0; k < n && lo != hi; ++k) {
    if (tokens[*lo].size() == k) ++lo;  // it ends here: found at the step before
    const auto byte_at = [&tokens, k](int32_t id) { return static_cast<uint8_t>(tokens[id][k]); };
    const uint8_t c = static_cast<uint8_t>(s[k]);
    lo = std::lower_bound(lo, hi, c, [&](int32_t id, uint8_t b) { return byte_at(id) < b; });
    hi = std::upper_bound(lo, hi, c, [&](uint8_t b, int32_t id) { return b < byte_at(id); });
    if (lo != hi && tokens[*lo].size() == k + 1) {
      best = *lo;
      *length = k + 1;
    }
  }
  return best;
}

void WordPieceIndex::append_word(const std::string& word, const std::vector<std::string>& tokens, int32_t unk,
                                 std::vector<int32_t>* out) const {
  const std::string marked = kSentencePieceSpace + word;
  const size_t start = out->size();
  for (size_t pos = 0; pos < marked.size();) {
    size_t length = 0;
    const int32_t id = longest_prefix(marked.data() + pos, marked.size() - pos, tokens, &length);
    if (id < 0) {  // a position no token starts at: the word is unknown
      out->resize(start);
      break;
    }
    out->push_back(id);
    pos += length;
  }
  if (out->size() == start) out->push_back(unk);
}

}  // namespace nibble
