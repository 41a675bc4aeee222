// Unicode helpers, the pre-tokenizer registry, GPT-2's pre-tokenizer and the
// shared merge loop.
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "tokenizer/bpe_merge.h"
#include "tokenizer/pretokenizer.h"
#include "tokenizer/unicode.h"
#include "tokenizer/unicode_tables.h"

namespace nibble {
namespace {

std::string utf8(uint32_t cp) {
  std::string s;
  append_utf8(cp, &s);
  return s;
}

TEST(TokenizerUnicode, CodepointClasses) {
  struct Case {
    uint32_t cp;
    CodepointClass expected;
  };
  const Case cases[] = {
      {'a', CodepointClass::kLetter},       {'Z', CodepointClass::kLetter},
      {0xE9, CodepointClass::kLetter},      {0x436, CodepointClass::kLetter},    // é, ж
      {0x4E2D, CodepointClass::kLetter},    {0x1780, CodepointClass::kLetter},   // 中, Khmer ka
      {0x2B0, CodepointClass::kLetter},                                          // Lm
      {'0', CodepointClass::kNumber},       {'9', CodepointClass::kNumber},
      {0xBD, CodepointClass::kNumber},      {0x216B, CodepointClass::kNumber},   // ½ (No), Ⅻ (Nl)
      {0x663, CodepointClass::kNumber},                                          // Arabic-Indic 3
      {' ', CodepointClass::kWhitespace},   {'\t', CodepointClass::kWhitespace},
      {'\n', CodepointClass::kWhitespace},  {'\v', CodepointClass::kWhitespace},
      {'\f', CodepointClass::kWhitespace},  {'\r', CodepointClass::kWhitespace},
      {0x85, CodepointClass::kWhitespace},  {0xA0, CodepointClass::kWhitespace},
      {0x2009, CodepointClass::kWhitespace}, {0x3000, CodepointClass::kWhitespace},
      {0x1C, CodepointClass::kControl},     {0x1F, CodepointClass::kControl},   // not \s in regex
      {0x200B, CodepointClass::kControl},   {0xE000, CodepointClass::kControl},  // ZWSP (Cf), private use
      {'!', CodepointClass::kPunctuation},  {'\'', CodepointClass::kPunctuation},
      {0x3001, CodepointClass::kPunctuation}, {0x2014, CodepointClass::kPunctuation},  // 、 —
      {'$', CodepointClass::kSymbol},       {'+', CodepointClass::kSymbol},      // Sc, Sm
      {'^', CodepointClass::kSymbol},       {0x1F680, CodepointClass::kSymbol},  // Sk, So
      {0x301, CodepointClass::kMark},       {0x17B6, CodepointClass::kMark},     // Mn, Mc
      {0x1160, CodepointClass::kLetter},                                         // Hangul filler (Lo)
      {0x378, CodepointClass::kOther},      {0x10FFFF, CodepointClass::kOther},  // unassigned
      {0x110000, CodepointClass::kOther},   {0xFFFFFFFF, CodepointClass::kOther},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(static_cast<int>(codepoint_class(c.cp)), static_cast<int>(c.expected))
        << "U+" << std::hex << c.cp << " (table from Unicode " << kUnicodeTablesVersion << ")";
  }
}

// Spot checks of the generated maps against values from the Unicode
// Character Database, the edges of their runs included.
TEST(TokenizerUnicode, NfdFirstCodepointAndSimpleLowercase) {
  const std::pair<uint32_t, uint32_t> nfd[] = {
      {0xC0, 'A'},      {0xC5, 'A'},      {0xC6, 0xC6},   {0xC7, 'C'},    {0xE9, 'e'},   {0x1E9B, 0x17F},
      {0x1EA5, 'a'},    {0xAC00, 0x1100}, {0xAC01, 0x1100}, {0xD7A3, 0x1112}, {0xD7A4, 0xD7A4},
      {0xF900, 0x8C48}, {0x2FA1D, 0x2A600}, {0x2FA1E, 0x2FA1E}, {'a', 'a'}, {0x110000, 0x110000},
  };
  for (const auto& c : nfd) EXPECT_EQ(nfd_first_codepoint(c.first), c.second) << "U+" << std::hex << c.first;
  const std::pair<uint32_t, uint32_t> lower[] = {
      {'A', 'a'},       {'Z', 'z'},       {'[', '['},     {'a', 'a'},     {0xC0, 0xE0},  {0xD7, 0xD7},
      {0xDE, 0xFE},     {0x100, 0x101},   {0x101, 0x101}, {0x12E, 0x12F}, {0x130, 'i'},  {0x178, 0xFF},
      {0x391, 0x3B1},   {0x3A2, 0x3A2},   {0x410, 0x430}, {0x1E9E, 0xDF}, {0x2126, 0x3C9}, {0x212A, 'k'},
      {0xFF21, 0xFF41}, {0x10400, 0x10428}, {0x1E921, 0x1E943}, {0x1E922, 0x1E922}, {0x110000, 0x110000},
  };
  for (const auto& c : lower) EXPECT_EQ(simple_lowercase(c.first), c.second) << "U+" << std::hex << c.first;
}

// Every code point's three lookups, through the decoded tables, hashed as
// tools/gen_unicode_tables.py hashes the runs it built from Python's
// unicodedata before encoding them: this checks the varint encoding and its
// decoder, not the runs themselves (the spot checks above do that).
TEST(TokenizerUnicode, EveryCodepointMatchesTheGenerator) {
  uint64_t h = 0xCBF29CE484222325ull;
  for (uint32_t cp = 0; cp <= 0x10FFFF; ++cp) {
    for (uint32_t value : {static_cast<uint32_t>(codepoint_class(cp)), nfd_first_codepoint(cp), simple_lowercase(cp)}) {
      h = (h ^ value) * 0x100000001B3ull;
    }
  }
  EXPECT_EQ(h, kUnicodeTablesChecksum) << "the decoded tables differ from the generator's (Unicode " << kUnicodeTablesVersion << ")";
}

TEST(TokenizerUnicode, DecodesUtf8AndRejectsMalformedSequences) {
  for (uint32_t cp : {0x0u, 0x41u, 0x7Fu, 0x80u, 0x7FFu, 0x800u, 0xFFFFu, 0x10000u, 0x10FFFFu}) {
    const std::string s = utf8(cp);
    const Utf8Char c = decode_utf8(s.data(), s.size());
    EXPECT_EQ(c.cp, cp) << "U+" << std::hex << cp;
    EXPECT_EQ(c.length, s.size()) << "U+" << std::hex << cp;
  }
  struct Bad {
    const char* bytes;
    size_t size;
  };
  const Bad bad[] = {
      {"\x80", 1},              // continuation byte as lead
      {"\xC0\x80", 2},          // overlong NUL
      {"\xE0\x80\xAF", 3},      // overlong '/'
      {"\xED\xA0\x80", 3},      // surrogate U+D800
      {"\xF4\x90\x80\x80", 4},  // past U+10FFFF
      {"\xE2\x82", 2},          // truncated
      {"\xE2(\xA1", 3},         // bad continuation
      {"\xFF", 1},
  };
  for (const Bad& b : bad) {
    const Utf8Char c = decode_utf8(b.bytes, b.size);
    EXPECT_EQ(c.cp, kInvalidCodepoint) << "first byte 0x" << std::hex << (b.bytes[0] & 0xFF);
    EXPECT_EQ(c.length, 1u);
  }
}

TEST(TokenizerUnicode, Gpt2ByteAlphabetIsABijection) {
  std::set<uint32_t> seen;
  for (int b = 0; b < 256; ++b) {
    const uint32_t cp = gpt2_byte_to_codepoint(static_cast<uint8_t>(b));
    EXPECT_TRUE(seen.insert(cp).second) << "byte " << b << " shares U+" << std::hex << cp;
    uint8_t back = 0;
    ASSERT_TRUE(gpt2_codepoint_to_byte(cp, &back)) << "byte " << b;
    EXPECT_EQ(back, b);
  }
  EXPECT_EQ(gpt2_byte_to_codepoint(' '), 0x120u);   // "Ġ"
  EXPECT_EQ(gpt2_byte_to_codepoint('\n'), 0x10Au);  // "Ċ"
  EXPECT_EQ(gpt2_byte_to_codepoint('A'), static_cast<uint32_t>('A'));
  EXPECT_EQ(gpt2_byte_to_codepoint(0xAD), 0x143u);
  uint8_t byte = 0;
  EXPECT_FALSE(gpt2_codepoint_to_byte(' ', &byte));
  EXPECT_FALSE(gpt2_codepoint_to_byte(0x144, &byte));
  EXPECT_FALSE(gpt2_codepoint_to_byte(0x4E2D, &byte));
}

// The words of `text` under the pre-tokenizer row `pre`.
std::vector<std::string> words(const std::string& text, const char* pre = "gpt-2") {
  const Pretokenizer* row = nullptr;
  EXPECT_TRUE(find_pretokenizer(pre, &row).ok()) << pre;
  std::vector<std::string> out;
  if (row == nullptr) return out;
  for (const TextSpan& w : row->split(text)) out.push_back(text.substr(w.start, w.length));
  return out;
}

TEST(TokenizerUnicode, Gpt2PretokenizerFollowsTheRegex) {
  using W = std::vector<std::string>;
  struct Case {
    std::string text;
    W expected;
  };
  const Case cases[] = {
      {"", W{}},
      {"Hello world", W{"Hello", " world"}},
      {"  Hello", W{" ", " Hello"}},
      {"a\n\nb", W{"a", "\n", "\n", "b"}},
      {"a \n b", W{"a", " \n", " b"}},
      {"x   ", W{"x", "   "}},
      {"\t", W{"\t"}},
      {"I'll don't 'S 're''s", W{"I", "'ll", " don", "'t", " '", "S", " '", "re", "''", "s"}},
      {"3.14 ab12", W{"3", ".", "14", " ab", "12"}},
      {" !! ?", W{" !!", " ?"}},
      {"\xC3\xA9t\xC3\xA9 \xE4\xB8\xAD\xE6\x96\x87", W{"\xC3\xA9t\xC3\xA9", " \xE4\xB8\xAD\xE6\x96\x87"}},
      {"a\xFF\xFE b", W{"a", "\xFF\xFE", " b"}},  // invalid bytes count as "other"
  };
  for (const Case& c : cases) EXPECT_EQ(words(c.text), c.expected) << "text \"" << c.text << "\"";
}

// GPT-2's is the first row; its aliases (and a file without the key) find it;
// a name with no row is refused naming it and what is supported.
TEST(TokenizerPretokenizer, RegistryFindsByNameAndAliasAndRefusesTheRest) {
  ASSERT_FALSE(pretokenizers().empty());
  EXPECT_EQ(pretokenizers()[0].name, "gpt-2");
  for (const char* pre : {"gpt-2", "", "default", "gpt2", "mpt", "olmo", "jais"}) {
    const Pretokenizer* row = nullptr;
    const Status s = find_pretokenizer(pre, &row);
    ASSERT_TRUE(s.ok()) << "pre \"" << pre << "\": " << s.message();
    EXPECT_EQ(row, &pretokenizers()[0]) << "pre \"" << pre << "\"";
  }
  // Names no row takes.
  for (const char* pre : {"no-such-split", "GPT-2", " gpt-2", "gpt-2 "}) {
    const Pretokenizer* row = nullptr;
    const Status s = find_pretokenizer(pre, &row);
    EXPECT_EQ(static_cast<int>(s.kind()), static_cast<int>(ErrorKind::kFormat)) << "pre \"" << pre << "\"";
    // The supported names start with GPT-2's; later rows add theirs after it.
    const std::string start = std::string("tokenizer.ggml.pre = \"") + pre +
                              "\" needs a pre-tokenizer nibble does not implement (supported: gpt-2";
    EXPECT_EQ(s.message().compare(0, start.size(), start), 0) << s.message();
    EXPECT_EQ(row, nullptr);
  }
}

// Every row's patterns compile, and the rows split as llama.cpp's regexes:
// Llama 3 groups digits by three and keeps a letter run's leading
// punctuation; Qwen 2 splits every digit; StarCoder splits digits first;
// Falcon splits punctuation runs first and groups of three digits last;
// DeepSeek's splits new lines, Latin-script words, CJK runs and numbers.
TEST(TokenizerPretokenizer, RowsSplitAsTheirRegexes) {
  for (const Pretokenizer& row : pretokenizers()) EXPECT_EQ(row.regexes.size(), row.patterns.size()) << row.name;
  using W = std::vector<std::string>;
  EXPECT_EQ(words("I'M 12345 (hi)\n\n  x", "llama-bpe"), (W{"I", "'M", " ", "123", "45", " (", "hi", ")\n\n", " ", " x"}));
  EXPECT_EQ(words("ab 2024!", "qwen2"), (W{"ab", " ", "2", "0", "2", "4", "!"}));
  EXPECT_EQ(words("x 42 y", "starcoder"), (W{"x", " ", "4", "2", " y"}));
  EXPECT_EQ(words("a+b 12345", "falcon"), (W{"a", "+", "b", " ", "123", "45"}));
  EXPECT_EQ(words("Hi 中文 42\n", "deepseek-llm"), (W{"Hi", " ", "中文", " ", "42", "\n"}));
  EXPECT_EQ(words("Hi, 中文 7", "deepseek-coder"), (W{"Hi", ",", " ", "中文", " ", "7"}));
}

TEST(TokenizerPretokenizer, RegexEngineRefusesWhatItDoesNotKnow) {
  SplitRegex re;
  for (const char* bad : {"(a)", "a.b", "[a-", "(?=a)", "a{2", "a+?", "\\p{Lu}", "\\d", "(?:a)+"}) {
    const Status s = SplitRegex::Compile(bad, &re);
    EXPECT_FALSE(s.ok()) << bad;
    EXPECT_NE(s.message().find(bad), std::string::npos) << s.message();
  }
  ASSERT_TRUE(SplitRegex::Compile("\\s+$|x", &re).ok());
  size_t start = 0, stop = 0;
  const TextChars s = split_chars("x  ");
  ASSERT_TRUE(re.search(s, 1, 3, &start, &stop));
  EXPECT_EQ(start, 1u);
  EXPECT_EQ(stop, 3u);
  // The end of the searched range is the regex's end of text.
  ASSERT_TRUE(re.search(s, 1, 2, &start, &stop));
  EXPECT_EQ(stop, 2u);
  EXPECT_FALSE(re.search(s, 2, 2, &start, &stop));
}

// Merges "ab" (priority 2) before "bc" (1); equal priorities go leftmost.
TEST(TokenizerUnicode, MergeTakesHighestPriorityThenLeftmost) {
  auto table = [](const char* s, size_t left, size_t right, double* p) {
    const std::string pair(s, left + right);
    if (pair == "ab") *p = 2;
    else if (pair == "bc") *p = 1;
    else if (pair == "aa") *p = 0;
    else if (pair == "abc") *p = 5;
    else return false;
    return true;
  };
  auto pieces = [&](const std::string& text) {
    std::vector<std::string> out;
    for (const TextSpan& s : bpe_merge(text, table)) out.push_back(text.substr(s.start, s.length));
    return out;
  };
  using P = std::vector<std::string>;
  EXPECT_EQ(pieces("abc"), (P{"abc"}));
  EXPECT_EQ(pieces("xbcab"), (P{"x", "bc", "ab"}));
  EXPECT_EQ(pieces("aaa"), (P{"aa", "a"}));
  EXPECT_EQ(pieces("aaaa"), (P{"aa", "aa"}));
  EXPECT_EQ(pieces("\xC3\xA9" "a"), (P{"\xC3\xA9", "a"}));  // pieces start as whole characters
  EXPECT_TRUE(pieces("").empty());
}

}  // namespace
}  // namespace nibble
