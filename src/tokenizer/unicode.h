// Unicode helpers for the tokenizers: lenient UTF-8 decoding, code point
// classes and a text split into characters for the pre-tokenizers, the
// decomposition and lowercase maps WordPiece normalizes with, and GPT-2's
// byte <-> code point map.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace nibble {

// The classes the pre-tokenizers' regexes (letter, number, white space,
// punctuation) and WordPiece (also mark, symbol, control) distinguish. Values
// are fixed: the generated table (unicode_tables.cpp) stores them in 3 bits.
enum class CodepointClass : uint8_t {
  kOther = 0,
  kLetter = 1,       // \p{L}
  kNumber = 2,       // \p{N}
  kWhitespace = 3,   // White_Space (wins over the others: '\t' is not a control here)
  kPunctuation = 4,  // \p{P}
  kMark = 5,         // \p{M}
  kSymbol = 6,       // \p{S}
  kControl = 7,      // Cc, Cf, Co, Cs: \p{C} without unassigned code points
};

// The class of cp from the generated table; kOther past U+10FFFF.
CodepointClass codepoint_class(uint32_t cp);

// The first code point of cp's canonical decomposition (NFD), cp if it has
// none: U+00E9 'é' -> 'e', U+AC00 '가' -> U+1100. What llama.cpp's WordPiece
// keeps of NFD: the marks a decomposition adds are dropped anyway.
uint32_t nfd_first_codepoint(uint32_t cp);

// Unicode's simple lowercase mapping (UnicodeData.txt, one code point to one):
// 'A' -> 'a', U+0130 'İ' -> 'i'; cp if it has none.
uint32_t simple_lowercase(uint32_t cp);

// Unicode version the table was generated from (e.g. "14.0.0").
extern const char kUnicodeTablesVersion[];

// Code point value given to a byte that does not start a valid UTF-8 sequence.
constexpr uint32_t kInvalidCodepoint = 0xFFFFFFFFu;

// One character of a UTF-8 string: a well-formed sequence of 1..4 bytes, or a
// single byte that is not one (cp = kInvalidCodepoint, length 1). Overlong
// forms, surrogates and values past U+10FFFF count as invalid.
struct Utf8Char {
  uint32_t cp;
  uint32_t length;  // bytes, >= 1
};
Utf8Char decode_utf8(const char* text, size_t remaining);

// A text as characters, what pre-tokenizers walk: code point, class and byte
// offset of each. Bytes that are not valid UTF-8 are one character each, of
// class kOther.
struct TextChars {
  std::vector<uint32_t> cp;
  std::vector<CodepointClass> cls;
  std::vector<uint32_t> offset;  // [size() + 1]: offset[size()] = text size

  size_t size() const { return cp.size(); }
  bool is(size_t i, CodepointClass c) const { return i < cp.size() && cls[i] == c; }
};
TextChars split_chars(const std::string& text);

// Appends the UTF-8 encoding of cp (<= 0x10FFFF).
void append_utf8(uint32_t cp, std::string* out);

// GPT-2's byte-level alphabet: every byte gets a printable code point
// ('!'..'~', U+00A1..U+00AC and U+00AE..U+00FF map to themselves, the other
// 68 bytes to U+0100.. in byte order), so any byte string becomes text.
uint32_t gpt2_byte_to_codepoint(uint8_t byte);
// The inverse; false for code points outside the alphabet.
bool gpt2_codepoint_to_byte(uint32_t cp, uint8_t* byte);

}  // namespace nibble
