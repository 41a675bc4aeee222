#include "tokenizer/unicode.h"

namespace nibble {

Utf8Char decode_utf8(const char* text, size_t remaining) {
  const auto* s = reinterpret_cast<const uint8_t*>(text);
  const uint8_t lead = s[0];
  if (lead < 0x80) return {lead, 1};
  uint32_t length = 0;
  uint32_t cp = 0;
  uint32_t min_cp = 0;  // smallest value this length may encode (no overlong forms)
  if ((lead & 0xE0) == 0xC0) {
    length = 2; cp = lead & 0x1F; min_cp = 0x80;
  } else if ((lead & 0xF0) == 0xE0) {
    length = 3; cp = lead & 0x0F; min_cp = 0x800;
  } else if ((lead & 0xF8) == 0xF0) {
    length = 4; cp = lead & 0x07; min_cp = 0x10000;
  } else {
    return {kInvalidCodepoint, 1};  // continuation byte or 0xF8..0xFF as lead
  }
  if (length > remaining) return {kInvalidCodepoint, 1};
  for (uint32_t i = 1; i < length; ++i) {
    if ((s[i] & 0xC0) != 0x80) return {kInvalidCodepoint, 1};
    cp = (cp << 6) | (s[i] & 0x3F);
  }
  if (cp < min_cp || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
    return {kInvalidCodepoint, 1};
  }
  return {cp, length};
}

TextChars split_chars(const std::string& text) {
  TextChars chars;
  for (size_t pos = 0; pos < text.size();) {
    const Utf8Char c = decode_utf8(text.data() + pos, text.size() - pos);
    chars.cp.push_back(c.cp);
    chars.cls.push_back(c.cp == kInvalidCodepoint ? CodepointClass::kOther : codepoint_class(c.cp));
    chars.offset.push_back(static_cast<uint32_t>(pos));
    pos += c.length;
  }
  chars.offset.push_back(static_cast<uint32_t>(text.size()));
  return chars;
}

void append_utf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

namespace {

// Bytes that GPT-2's alphabet keeps as their own code point.
bool gpt2_keeps_byte(uint32_t b) {
  return (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
}

// The 68 bytes GPT-2's alphabet does not keep map to U+0100 + n, in byte order.
constexpr uint32_t kMovedBytes = 68;
struct Gpt2Alphabet {
  uint32_t byte_to_cp[256];
  uint8_t moved_byte[kMovedBytes];  // U+0100 + n -> byte
  Gpt2Alphabet() {
    uint32_t n = 0;
    for (uint32_t b = 0; b < 256; ++b) {
      if (gpt2_keeps_byte(b)) {
        byte_to_cp[b] = b;
      } else {
        moved_byte[n] = static_cast<uint8_t>(b);
        byte_to_cp[b] = 0x100 + n++;
      }
    }
  }
};

const Gpt2Alphabet& gpt2_alphabet() {
  static const Gpt2Alphabet alphabet;
  return alphabet;
}

}  // namespace

uint32_t gpt2_byte_to_codepoint(uint8_t byte) { return gpt2_alphabet().byte_to_cp[byte]; }

bool gpt2_codepoint_to_byte(uint32_t cp, uint8_t* byte) {
  if (cp < 0x100) {
    if (!gpt2_keeps_byte(cp)) return false;
    *byte = static_cast<uint8_t>(cp);
    return true;
  }
  if (cp - 0x100 >= kMovedBytes) return false;
  *byte = gpt2_alphabet().moved_byte[cp - 0x100];
  return true;
}

}  // namespace nibble
