#include "tokenizer/pretokenizer.h"

#include <cstdlib>

namespace nibble {
namespace {

// The regexes, as llama.cpp's llama-vocab.cpp lists them per pre-tokenizer
// (the patterns of each model's tokenizer.json; Llama 3's and Qwen 2's
// case-insensitive contractions spelled out as classes).
const char kGpt2[] = R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";
const char kGpt2NoTrailingRun[] = R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S))";
const char kLlama3[] =
    R"((?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
const char kQwen2[] =
    R"((?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
const char kCjkRuns[] = "[一-龥ࠀ-一가-퟿]+";
// Cased letters (Lu, Ll, Lt) as DeepSeek's tokenizer.json lists them; six
// are written as escapes because NFC would fold them into other letters.
const char kDeepseekLetters[] =
    R"(\s?[A-Za-zµÀ-ÖØ-öø-ƺƼ-ƿǄ-ʓʕ-ʯͰ-ͳͶͷͻ-ͽͿΆΈ-ΊΌΎ-ΡΣ-ϵϷ-ҁҊ-ԯԱ-ՖႠ-ჅᎠ-Ᏽᏸ-ᏽᲐ-ᲺᲽ-Ჿᴀ-ᴫᵫ-ᵷᵹ-ᶚḀ-ἕἘ-Ἕἠ-ὅὈ-Ὅὐ-ὗὙὛὝὟ-)"
    "\u1F7D"
    R"(ᾀ-ᾴᾶ-ᾼ)"
    "\u1FBE"
    R"(ῂ-ῄῆ-ῌῐ-)"
    "\u1FD3"
    R"(ῖ-)"
    "\u1FDB"
    R"(ῠ-Ῥῲ-ῴῶ-ῼℂℇℊ-ℓℕℙ-ℝℤ)"
    "\u2126"
    R"(ℨ)"
    "\u212A"
    R"(-ℭℯ-ℴℹℼ-ℿⅅ-ⅉⅎↃↄⰀ-ⱻⱾ-ⳤⳫ-ⳮⳲⳳꙀ-ꙭꚀ-ꚛꜢ-ꝯꝱ-ꞇꞋ-ꞎꭰ-ꮿﬀ-ﬆﬓ-ﬗＡ-Ｚａ-ｚ𐐀-𐑏𐒰-𐓓𐓘-𐓻𐲀-𐲲𐳀-𐳲𑢠-𑣟𞤀-𞥃]+)";

Pretokenizer row(std::string name, std::vector<std::string> aliases, std::vector<std::string> patterns,
                 bool ignore_merges, bool clean_spaces) {
  Pretokenizer p;
  p.name = std::move(name);
  p.aliases = std::move(aliases);
  p.patterns = std::move(patterns);
  p.ignore_merges = ignore_merges;
  p.clean_spaces = clean_spaces;
  for (const std::string& pattern : p.patterns) {
    SplitRegex re;
    // The patterns are ours: one that does not compile is a bug, caught by
    // the registry test on every build.
    if (!SplitRegex::Compile(pattern, &re).ok()) std::abort();
    p.regexes.push_back(std::move(re));
  }
  return p;
}

std::vector<Pretokenizer> make_rows() {
  constexpr bool kIgnoreMerges = true, kMerge = false, kClean = true, kKeepSpaces = false;
  return {
      // Aliases are the names llama.cpp gives the same regex; "" is a file
      // without tokenizer.ggml.pre.
      row("gpt-2", {"", "default", "gpt2", "mpt", "olmo", "jais"}, {kGpt2}, kMerge, kClean),
      row("llama-bpe", {"llama3", "llama-v3", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2"}, {kLlama3}, kIgnoreMerges, kClean),
      row("qwen2", {"deepseek-r1-qwen"}, {kQwen2}, kMerge, kKeepSpaces),
      row("starcoder", {"refact", "command-r", "codeshell", "exaone"}, {R"(\p{N})", kGpt2NoTrailingRun}, kMerge,
          kClean),
      row("smollm", {}, {R"(\p{N})", kGpt2NoTrailingRun}, kMerge, kKeepSpaces),
      row("deepseek-llm", {},
          {"[\r\n]", kDeepseekLetters, R"(\s?[!-/:-~！-／：-～‘-‟　-。]+)", R"(\s+$)", kCjkRuns, R"(\p{N}+)"}, kMerge,
          kKeepSpaces),
      row("deepseek-coder", {}, {"[\r\n]", R"(\s?\p{L}+)", R"(\s?\p{P}+)", kCjkRuns, R"(\p{N})"}, kMerge,
          kKeepSpaces),
      row("falcon", {}, {R"([\p{P}\$\+<=>\^~\|`]+)", kGpt2NoTrailingRun, "[0-9][0-9][0-9]"}, kMerge, kClean),
  };
}

}  // namespace

const std::vector<Pretokenizer>& pretokenizers() {
  static const std::vector<Pretokenizer> rows = make_rows();
  return rows;
}

Status find_pretokenizer(const std::string& pre, const Pretokenizer** out) {
  std::string supported;
  for (const Pretokenizer& row : pretokenizers()) {
    if (pre == row.name) {
      *out = &row;
      return Status::Ok();
    }
    for (const std::string& alias : row.aliases) {
      if (pre == alias) {
        *out = &row;
        return Status::Ok();
      }
    }
    supported += supported.empty() ? row.name : ", " + row.name;
  }
  return FormatError("tokenizer.ggml.pre = \"" + pre +
                     "\" needs a pre-tokenizer nibble does not implement (supported: " +
                     supported + ")");
}

}  // namespace nibble
