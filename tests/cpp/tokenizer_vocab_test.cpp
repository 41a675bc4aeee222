// Vocabulary loading from hostile inputs (llama2.c tokenizer.bin, GGUF
// metadata) and small hand-made tokenizers that pin down the encode rules.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "format/gguf.h"
#include "tokenizer/text_index.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/vocab.h"

namespace nibble {
namespace {

// ---- llama2.c tokenizer.bin ----

// Builds a tokenizer.bin: int32 max_token_length, then {f32, int32, bytes}.
class Llama2cFile {
 public:
  explicit Llama2cFile(int32_t max_token_length) { put(&max_token_length, 4); }
  Llama2cFile& token(const std::string& text, float score = 0) {
    return raw(score, static_cast<int32_t>(text.size()), text);
  }
  // A record whose length field need not match its text.
  Llama2cFile& raw(float score, int32_t length, const std::string& text) {
    put(&score, 4);
    put(&length, 4);
    put(text.data(), text.size());
    return *this;
  }
  const std::vector<uint8_t>& bytes() const { return bytes_; }

 private:
  void put(const void* p, size_t n) {
    const auto* b = static_cast<const uint8_t*>(p);
    bytes_.insert(bytes_.end(), b, b + n);
  }
  std::vector<uint8_t> bytes_;
};

Status load(const std::vector<uint8_t>& bytes, int32_t vocab_size, Vocab* v = nullptr) {
  Vocab scratch;
  return vocab_from_llama2c(bytes.data(), bytes.size(), vocab_size, v ? v : &scratch);
}

// Expects an error of `kind` whose message contains `words`.
void expect_error(const Status& s, ErrorKind kind, const std::string& words) {
  EXPECT_FALSE(s.ok()) << "expected an error mentioning \"" << words << "\"";
  EXPECT_EQ(static_cast<int>(s.kind()), static_cast<int>(kind)) << s.message();
  EXPECT_NE(s.message().find(words), std::string::npos)
      << "message \"" << s.message() << "\" lacks \"" << words << "\"";
}

Llama2cFile small_llama2c() {
  Llama2cFile f(8);
  f.token("<unk>").token("\n<s>\n").token("\n</s>\n").token("<0x41>").token(" a", -1).token("b", -2);
  return f;
}

TEST(TokenizerVocab, Llama2cConventions) {
  Vocab v;
  ASSERT_TRUE(load(small_llama2c().bytes(), 6, &v).ok());
  EXPECT_EQ(v.kind, Vocab::Kind::kSentencePiece);
  EXPECT_EQ(v.bos, 1);
  EXPECT_EQ(v.eos, 2);
  EXPECT_EQ(v.unk, 0);
  EXPECT_TRUE(v.add_bos);
  EXPECT_TRUE(v.add_space_prefix);
  EXPECT_EQ(v.token_types, (std::vector<int32_t>{kTokenUnknown, kTokenControl, kTokenControl,
                                                 kTokenByte, kTokenNormal, kTokenNormal}));
  EXPECT_EQ(v.tokens[4], "\xE2\x96\x81" "a");  // ' ' stored by llama2.c is "▁" again
  EXPECT_EQ(v.scores[5], -2.0f);
  // Fewer tokens than the file holds: the rest is ignored.
  ASSERT_TRUE(load(small_llama2c().bytes(), 4, &v).ok());
  EXPECT_EQ(v.size(), 4);
}

TEST(TokenizerVocab, Llama2cRejectsHostileFiles) {
  const std::vector<uint8_t> good = small_llama2c().bytes();
  expect_error(load({}, 6), ErrorKind::kFormat, "too short for its 4-byte header");
  expect_error(load({1, 0}, 6), ErrorKind::kFormat, "too short for its 4-byte header");
  expect_error(load(good, 2), ErrorKind::kInvalidArgument, "vocab_size 2");
  expect_error(load(good, -7), ErrorKind::kInvalidArgument, "vocab_size -7");
  expect_error(load(good, std::numeric_limits<int32_t>::max()), ErrorKind::kFormat,
               "too short for 2147483647 tokens");
  expect_error(load(good, 7), ErrorKind::kFormat, "ends inside the header of token 6 of 7");
  expect_error(load(Llama2cFile(-1).token("a").token("b").token("c").bytes(), 3),
               ErrorKind::kFormat, "max_token_length is negative");

  Llama2cFile negative = small_llama2c();
  negative.raw(0, -5, "xyz");
  expect_error(load(negative.bytes(), 7), ErrorKind::kFormat, "token 6 has negative length -5");

  Llama2cFile past_end = small_llama2c();
  past_end.raw(0, 9, "abc").token("padding").token("padding");
  expect_error(load(past_end.bytes(), 7), ErrorKind::kFormat, "longer than max_token_length");
  Llama2cFile past_end2 = small_llama2c();
  past_end2.raw(0, 7, "abc");
  std::vector<uint8_t> bytes = past_end2.bytes();
  bytes.resize(bytes.size() + 8, 'x');  // enough for the size check, not for the token
  std::vector<uint8_t> cut(bytes.begin(), bytes.end() - 8);
  expect_error(load(cut, 7), ErrorKind::kFormat, "claims 7 bytes but only 3 remain");

  Llama2cFile nan = small_llama2c();
  nan.token("c", std::nanf(""));
  expect_error(load(nan.bytes(), 7), ErrorKind::kFormat, "token 6 has a NaN score");

  Vocab v;
  expect_error(vocab_from_llama2c(nullptr, 16, 3, &v), ErrorKind::kInvalidArgument, "null");
}

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

// Every truncation of the real tok512.bin fails cleanly, and random byte
// corruption never reads out of bounds (run under ASan/wasm to be sure).
TEST(TokenizerVocab, Llama2cTruncatedAndCorruptedTok512) {
  const std::string file = read_file(std::string(NIBBLE_SOURCE_DIR) + "/models/tok512.bin");
  ASSERT_GT(file.size(), 4000u);
  std::vector<uint8_t> bytes(file.begin(), file.end());
  Vocab v;
  ASSERT_TRUE(load(bytes, 512, &v).ok());
  for (size_t size = 0; size < bytes.size(); ++size) {
    const Status s = vocab_from_llama2c(bytes.data(), size, 512, &v);
    ASSERT_FALSE(s.ok()) << "truncated to " << size << " of " << bytes.size() << " bytes";
    ASSERT_FALSE(s.message().empty());
  }
  std::mt19937 rng(1234);
  for (int trial = 0; trial < 2000; ++trial) {
    std::vector<uint8_t> corrupt = bytes;
    for (int k = 0; k < 4; ++k) corrupt[rng() % corrupt.size()] = static_cast<uint8_t>(rng());
    const Status s = load(corrupt, 512, &v);
    if (s.ok()) {
      std::unique_ptr<Tokenizer> t;
      ASSERT_TRUE(Tokenizer::Create(v, &t).ok()) << "trial " << trial;
      t->decode(t->encode("Once upon a time \xF0\x9F\xA6\x99", true));
    }
  }
}

// ---- GGUF metadata ----

GgufValue str(const std::string& s) {
  GgufValue v;
  v.type = GgufType::STRING;
  v.s = s;
  return v;
}
GgufValue u32(int64_t x) {
  GgufValue v;
  v.type = GgufType::UINT32;
  v.i = x;
  return v;
}
GgufValue i32(int64_t x) {
  GgufValue v;
  v.type = GgufType::INT32;
  v.i = x;
  return v;
}
GgufValue boolean(bool b) {
  GgufValue v;
  v.type = GgufType::BOOL;
  v.i = b;
  return v;
}
GgufValue strings(const std::vector<std::string>& s) {
  GgufValue v;
  v.type = GgufType::ARRAY;
  v.array_type = GgufType::STRING;
  v.strings = s;
  return v;
}
GgufValue floats(const std::vector<double>& f) {
  GgufValue v;
  v.type = GgufType::ARRAY;
  v.array_type = GgufType::FLOAT32;
  v.floats = f;
  return v;
}
GgufValue ints(const std::vector<int64_t>& x) {
  GgufValue v;
  v.type = GgufType::ARRAY;
  v.array_type = GgufType::INT32;
  v.ints = x;
  return v;
}

using Metadata = std::map<std::string, GgufValue>;

// A SentencePiece vocabulary: <unk> <s> </s> <0x00>..<0xFF> ▁ a b ▁a ab ▁ab.
Metadata spm_metadata() {
  std::vector<std::string> tokens = {"<unk>", "<s>", "</s>"};
  std::vector<double> scores = {0, 0, 0};
  std::vector<int64_t> types = {kTokenUnknown, kTokenControl, kTokenControl};
  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof name, "<0x%02X>", b);
    tokens.push_back(name);
    scores.push_back(0);
    types.push_back(kTokenByte);
  }
  const char* normal[] = {"\xE2\x96\x81", "a", "b", "\xE2\x96\x81" "a", "ab", "\xE2\x96\x81" "ab"};
  const double normal_scores[] = {-1, -2, -3, -4, -5, -6};
  for (int i = 0; i < 6; ++i) {
    tokens.push_back(normal[i]);
    scores.push_back(normal_scores[i]);
    types.push_back(kTokenNormal);
  }
  return {
      {"tokenizer.ggml.model", str("llama")},
      {"tokenizer.ggml.tokens", strings(tokens)},
      {"tokenizer.ggml.scores", floats(scores)},
      {"tokenizer.ggml.token_type", ints(types)},
  };
}

// GPT-2 byte-level: tokens a b c ab abc Ġ Ġa <|endoftext|>, merges "a b", "ab c", "Ġ a".
Metadata gpt2_metadata() {
  return {
      {"tokenizer.ggml.model", str("gpt2")},
      {"tokenizer.ggml.pre", str("gpt-2")},
      {"tokenizer.ggml.tokens",
       strings({"a", "b", "c", "ab", "abc", "\xC4\xA0", "\xC4\xA0" "a", "<|endoftext|>"})},
      {"tokenizer.ggml.token_type", ints({1, 1, 1, 1, 1, 1, 1, kTokenControl})},
      {"tokenizer.ggml.merges", strings({"a b", "ab c", "\xC4\xA0 a"})},
      {"tokenizer.ggml.bos_token_id", u32(7)},
      {"tokenizer.ggml.eos_token_id", u32(7)},
  };
}

Status from_md(const Metadata& md, Vocab* v = nullptr) {
  Vocab scratch;
  return vocab_from_gguf_metadata(md, v ? v : &scratch);
}

// TextIndex against a std::map over random short texts with many repeats
// (the empty text too): the first or the last position of equal texts, over
// tables of one 512-slot stretch and of several.
TEST(TokenizerVocab, TextIndexMatchesAMap) {
  std::mt19937 rng(12);
  for (int round = 0; round < 4; ++round) {
    std::vector<std::string> texts(size_t(1 + rng() % 3000));
    for (std::string& t : texts) {
      t.resize(rng() % 5);
      for (char& c : t) c = "ab\xC4\xA0 z"[rng() % 5];
    }
    for (int mode = 0; mode < 4; ++mode) {
      const bool last = mode & 1, every = mode & 2;  // every: ids null, all texts added in order
      std::map<std::string, int32_t> expected;
      std::vector<int32_t> ids;
      for (int32_t i = 0; i < int32_t(texts.size()); ++i) {
        if (!every && rng() % 4 == 0) continue;  // not every text is added
        ids.push_back(i);
        if (last || !expected.count(texts[i])) expected[texts[i]] = i;
      }
      TextIndex index;
      index.reset(&texts, ids.size());
      index.add_all(every ? nullptr : ids.data(), ids.size(), last);
      for (const std::string& t : texts) {
        auto it = expected.find(t);
        EXPECT_EQ(index.find(t), it == expected.end() ? -1 : it->second) << "'" << t << "'";
      }
      EXPECT_EQ(index.find("not a text"), -1);
      std::vector<int32_t> positions = index.positions(), want;
      for (const auto& [text, i] : expected) want.push_back(i);
      std::sort(positions.begin(), positions.end());
      std::sort(want.begin(), want.end());
      EXPECT_EQ(positions, want);
    }
  }
  TextIndex empty;
  EXPECT_EQ(empty.find("a"), -1);
}

// take_vocab_from_gguf reads what vocab_from_gguf reads, leaving the
// file's arrays of texts empty.
TEST(TokenizerVocab, TakeVocabMovesTheTexts) {
  GgufWriter w;
  w.set_string("tokenizer.ggml.model", "gpt2");
  w.set_string("tokenizer.ggml.pre", "gpt-2");
  w.set_string_array("tokenizer.ggml.tokens", {"a", "b", "ab", "a long token of many bytes"});
  w.set_string_array("tokenizer.ggml.merges", {"a b"});
  const std::vector<uint8_t> bytes = w.serialize();
  GgufFile file;
  ASSERT_TRUE(GgufFile::Parse(bytes.data(), bytes.size(), bytes.size(), &file).ok());
  Vocab copied, taken;
  ASSERT_TRUE(vocab_from_gguf(file, &copied).ok());
  ASSERT_TRUE(take_vocab_from_gguf(&file, &taken).ok());
  EXPECT_EQ(taken.tokens, copied.tokens);
  EXPECT_EQ(taken.merges, copied.merges);
  EXPECT_EQ(taken.token_types, copied.token_types);
  EXPECT_TRUE(file.metadata().at("tokenizer.ggml.tokens").strings.empty());
  EXPECT_TRUE(file.metadata().at("tokenizer.ggml.merges").strings.empty());
}

TEST(TokenizerVocab, GgufDefaultsFollowLlamaCpp) {
  Vocab v;
  ASSERT_TRUE(from_md(spm_metadata(), &v).ok());
  EXPECT_EQ(v.kind, Vocab::Kind::kSentencePiece);
  EXPECT_EQ(v.bos, 1);
  EXPECT_EQ(v.eos, 2);
  EXPECT_EQ(v.unk, 0);
  EXPECT_EQ(v.pad, -1);
  EXPECT_TRUE(v.add_bos);
  EXPECT_TRUE(v.add_space_prefix);

  Metadata md = spm_metadata();
  md.erase("tokenizer.ggml.scores");
  md.erase("tokenizer.ggml.token_type");
  md["tokenizer.ggml.add_bos_token"] = boolean(false);
  md["tokenizer.ggml.add_space_prefix"] = boolean(false);
  md["tokenizer.ggml.padding_token_id"] = u32(0xFFFFFFFFu);  // "none"
  md["tokenizer.ggml.eos_token_id"] = i32(5);
  ASSERT_TRUE(from_md(md, &v).ok());
  EXPECT_EQ(v.scores, std::vector<float>(v.tokens.size(), 0.0f));
  EXPECT_EQ(v.token_types, std::vector<int32_t>(v.tokens.size(), kTokenNormal));
  EXPECT_FALSE(v.add_bos);
  EXPECT_FALSE(v.add_space_prefix);
  EXPECT_EQ(v.pad, -1);
  EXPECT_EQ(v.eos, 5);

  Metadata g = gpt2_metadata();
  g.erase("tokenizer.ggml.bos_token_id");
  ASSERT_TRUE(from_md(g, &v).ok());
  EXPECT_EQ(v.kind, Vocab::Kind::kBytePairGpt2);
  EXPECT_EQ(v.bos, -1);  // llama.cpp's default 11 does not fit 8 tokens
  EXPECT_EQ(v.eos, 7);
  EXPECT_FALSE(v.add_bos);
  EXPECT_FALSE(v.add_space_prefix);
}

TEST(TokenizerVocab, GgufRejectsHostileMetadata) {
  const ErrorKind F = ErrorKind::kFormat;
  Metadata md = spm_metadata();
  md.erase("tokenizer.ggml.model");
  expect_error(from_md(md), F, "no tokenizer.ggml.model");

  md = spm_metadata();
  md["tokenizer.ggml.model"] = str("t5");
  expect_error(from_md(md), F, "\"t5\" is not supported (supported: llama, gpt2, bert)");
  md["tokenizer.ggml.model"] = u32(3);
  expect_error(from_md(md), F, "tokenizer.ggml.model should be a string, found an integer");

  md = spm_metadata();
  md.erase("tokenizer.ggml.tokens");
  expect_error(from_md(md), F, "no tokenizer.ggml.tokens");
  md["tokenizer.ggml.tokens"] = ints({1, 2});
  expect_error(from_md(md), F, "should be an array of strings, found an array of integers");
  md["tokenizer.ggml.tokens"] = strings({});
  expect_error(from_md(md), F, "tokenizer.ggml.tokens is empty");

  md = spm_metadata();
  md["tokenizer.ggml.scores"] = floats({0, 1});
  expect_error(from_md(md), F, "tokenizer.ggml.scores has 2 entries but tokenizer.ggml.tokens has 265");
  md["tokenizer.ggml.scores"] = strings({"x"});
  expect_error(from_md(md), F, "should be an array of floats");
  md = spm_metadata();
  md["tokenizer.ggml.scores"].floats[7] = std::nan("");
  expect_error(from_md(md), F, "score of token 7 is NaN");

  md = spm_metadata();
  md["tokenizer.ggml.token_type"] = ints({1, 1, 1});
  expect_error(from_md(md), F, "token_type has 3 entries but tokenizer.ggml.tokens has 265");
  md = spm_metadata();
  md["tokenizer.ggml.token_type"].ints[9] = 9;
  expect_error(from_md(md), F, "token 9 has type 9");
  md["tokenizer.ggml.token_type"].ints[9] = int64_t{1} << 40;
  expect_error(from_md(md), F, "token_type[9] = 1099511627776 does not fit in 32 bits");

  for (const char* key : {"tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id",
                          "tokenizer.ggml.unknown_token_id", "tokenizer.ggml.padding_token_id"}) {
    md = spm_metadata();
    md[key] = u32(265);
    expect_error(from_md(md), F, std::string(key) + " = 265 is not a token id");
    md[key] = i32(-2);
    expect_error(from_md(md), F, std::string(key) + " = -2 is not a token id");
    md[key] = str("1");
    expect_error(from_md(md), F, std::string(key) + " should be an integer token id");
  }
  md = spm_metadata();
  md["tokenizer.ggml.add_bos_token"] = u32(1);
  expect_error(from_md(md), F, "add_bos_token should be a bool");

  Metadata g = gpt2_metadata();
  g.erase("tokenizer.ggml.merges");
  expect_error(from_md(g), F, "no tokenizer.ggml.merges");
  g = gpt2_metadata();
  g["tokenizer.ggml.merges"] = strings({"a b", "abc"});
  expect_error(from_md(g), F, "BPE merge 1 \"abc\" is not two pieces");
  g["tokenizer.ggml.merges"] = strings({"a b", "ab "});  // no second piece
  expect_error(from_md(g), F, "BPE merge 1 \"ab \" is not two pieces");
  g["tokenizer.ggml.merges"] = strings({" ab", "a b"});  // the space is the first piece
  expect_error(from_md(g), F, "BPE merge 0 \" ab\" is not two pieces");
  g = gpt2_metadata();
  g["tokenizer.ggml.pre"] = str("no-such-split");
  expect_error(from_md(g), F, "\"no-such-split\" needs a pre-tokenizer");
  g["tokenizer.ggml.pre"] = str("mpt");  // GPT-2's split by another name
  EXPECT_TRUE(from_md(g).ok());
  g.erase("tokenizer.ggml.pre");  // a file without the key splits as GPT-2
  EXPECT_TRUE(from_md(g).ok());
}

// Through the real GGUF reader: a file whose BOS id is out of range.
TEST(TokenizerVocab, GgufFileWithBadTokenId) {
  GgufWriter w;
  w.set_string("tokenizer.ggml.model", "llama");
  w.set_string_array("tokenizer.ggml.tokens", {"<unk>", "<s>", "</s>", "a"});
  w.set_f32_array("tokenizer.ggml.scores", {0, 0, 0, -1});
  w.set_i32_array("tokenizer.ggml.token_type", {2, 3, 3, 1});
  w.set_u32("tokenizer.ggml.bos_token_id", 4);
  const std::vector<uint8_t> bytes = w.serialize();
  GgufFile file;
  ASSERT_TRUE(GgufFile::Parse(bytes.data(), bytes.size(), bytes.size(), &file).ok());
  Vocab v;
  expect_error(vocab_from_gguf(file, &v), ErrorKind::kFormat,
               "tokenizer.ggml.bos_token_id = 4 is not a token id: the vocabulary has 4 tokens");
}

TEST(TokenizerVocab, CreateValidatesHandBuiltVocab) {
  Vocab v;
  ASSERT_TRUE(from_md(spm_metadata(), &v).ok());
  std::unique_ptr<Tokenizer> t;
  Vocab bad = v;
  bad.scores.pop_back();
  expect_error(Tokenizer::Create(bad, &t), ErrorKind::kFormat, "265 tokens but 264 scores");
  bad = v;
  bad.token_types.push_back(1);
  expect_error(Tokenizer::Create(bad, &t), ErrorKind::kFormat, "265 tokens but 266 token types");
  bad = v;
  bad.bos = 265;
  expect_error(Tokenizer::Create(bad, &t), ErrorKind::kOutOfRange, "BOS id 265");
  bad = v;
  bad.tokens.clear();
  expect_error(Tokenizer::Create(bad, &t), ErrorKind::kFormat, "no tokens");
  ASSERT_TRUE(from_md(gpt2_metadata(), &bad).ok());
  bad.pre = "no-such-split";  // encoding it with GPT-2's split could give wrong ids
  expect_error(Tokenizer::Create(bad, &t), ErrorKind::kFormat, "\"no-such-split\" needs a pre-tokenizer");
  EXPECT_FALSE(t);
}

// ---- encode rules on small vocabularies ----

std::unique_ptr<Tokenizer> make(const Metadata& md) {
  Vocab v;
  const Status s = from_md(md, &v);
  EXPECT_TRUE(s.ok()) << s.message();
  std::unique_ptr<Tokenizer> t;
  EXPECT_TRUE(Tokenizer::Create(std::move(v), &t).ok());
  return t;
}

using Ids = std::vector<int32_t>;
constexpr int32_t kSpace = 259, kA = 260, kB = 261, kSpaceA = 262, kAB = 263, kSpaceAB = 264;

TEST(TokenizerVocab, SentencePieceMergesByScoreWithByteFallback) {
  std::unique_ptr<Tokenizer> t = make(spm_metadata());
  ASSERT_TRUE(t);
  // "▁ab": "▁a" (-4) merges before "ab" (-5), then "▁a"+"b" = "▁ab".
  EXPECT_EQ(t->encode("ab", true), (Ids{1, kSpaceAB}));
  EXPECT_EQ(t->encode("ab", false), (Ids{kSpaceAB}));
  EXPECT_EQ(t->encode("b a", false), (Ids{kSpace, kB, kSpaceA}));
  EXPECT_EQ(t->encode("", true), (Ids{1}));
  EXPECT_EQ(t->encode("", false), (Ids{}));
  // 'c' is not a token: byte token <0x63> = 3 + 0x63.
  EXPECT_EQ(t->encode("ca", false), (Ids{kSpace, 3 + 'c', kA}));
  EXPECT_EQ(t->decode(t->encode(" c\xE2\x82\xAC", true)), " c\xE2\x82\xAC");
  // Control token text is not recognized in the input.
  const Ids ids = t->encode("<s>", false);
  EXPECT_EQ(std::count(ids.begin(), ids.end(), 1), 0);
  EXPECT_EQ(t->token_piece(kSpaceA, 1), "a");   // after BOS
  EXPECT_EQ(t->token_piece(kSpaceA, -1), "a");  // at the start
  EXPECT_EQ(t->token_piece(kSpaceA, kB), " a");
  EXPECT_EQ(t->token_piece(3 + 0xE2, kB), "\xE2");
  EXPECT_EQ(t->token_piece(1, -1), "");
  EXPECT_EQ(t->token_piece(999, -1), "");

  // Without add_space_prefix nothing is added or removed; without byte
  // tokens an unknown character becomes UNK.
  Metadata md = spm_metadata();
  md["tokenizer.ggml.add_space_prefix"] = boolean(false);
  md["tokenizer.ggml.token_type"].ints[3 + 'c'] = kTokenUnused;
  md["tokenizer.ggml.tokens"].strings[3 + 'c'] = "unused";
  t = make(md);
  EXPECT_EQ(t->encode("ab", false), (Ids{kAB}));
  EXPECT_EQ(t->encode("ca", false), (Ids{0, kA}));
  EXPECT_EQ(t->token_piece(kSpaceA, -1), " a");
}

TEST(TokenizerVocab, UserDefinedTokensAreCutOutLongestFirst) {
  Metadata md = spm_metadata();
  auto& tokens = md["tokenizer.ggml.tokens"].strings;
  auto& types = md["tokenizer.ggml.token_type"].ints;
  auto& scores = md["tokenizer.ggml.scores"].floats;
  for (const char* u : {"<x>", "<x><y>"}) {
    tokens.push_back(u);
    types.push_back(kTokenUserDefined);
    scores.push_back(0);
  }
  std::unique_ptr<Tokenizer> t = make(md);
  ASSERT_TRUE(t);
  const int32_t kX = 265, kXY = 266;
  // Each text fragment after a cut-out token gets the space prefix again.
  EXPECT_EQ(t->encode("a<x><y>b<x>", false), (Ids{kSpaceA, kXY, kSpace, kB, kX}));
  EXPECT_EQ(t->decode(t->encode("a<x><y>b<x>", true)), "a<x><y>b<x>");

  // Many of them, lengths out of order, texts repeated: the longest is cut
  // first, and of equal texts the first id (the sort keeps equal lengths in
  // id order).
  md = spm_metadata();
  const int32_t first = int32_t(md["tokenizer.ggml.tokens"].strings.size());  // the "<...>" tokens' ids from here on
  const std::vector<int> lengths = {3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7, 9, 3, 2, 3, 8, 4, 6, 2, 6, 4, 3, 3};
  for (int length : lengths) {
    md["tokenizer.ggml.tokens"].strings.push_back("<" + std::string(size_t(length), 'x') + ">");
    md["tokenizer.ggml.token_type"].ints.push_back(kTokenUserDefined);
    md["tokenizer.ggml.scores"].floats.push_back(0);
  }
  t = make(md);
  ASSERT_TRUE(t);
  for (int length = 1; length <= 9; ++length) {
    const int32_t id = first + int32_t(std::find(lengths.begin(), lengths.end(), length) - lengths.begin());
    EXPECT_EQ(t->encode("<" + std::string(size_t(length), 'x') + ">", false), (Ids{id})) << length;
  }
}

TEST(TokenizerVocab, Gpt2MergesByRank) {
  std::unique_ptr<Tokenizer> t = make(gpt2_metadata());
  ASSERT_TRUE(t);
  EXPECT_EQ(t->encode("abc", false), (Ids{4}));
  // " abc" is "Ġabc": "a b" (rank 0) goes before "Ġ a" (rank 2).
  EXPECT_EQ(t->encode("abc abc", false), (Ids{4, 5, 4}));
  EXPECT_EQ(t->encode("cab", false), (Ids{2, 3}));
  EXPECT_EQ(t->encode(" a", false), (Ids{6}));
  EXPECT_EQ(t->decode({4, 5, 4, 6}), "abc abc a");
  EXPECT_EQ(t->token_piece(5, -1), " ");
  EXPECT_EQ(t->token_piece(7, -1), "");
  // Bytes without a token are dropped (no UNK in this vocabulary).
  EXPECT_EQ(t->encode("a!", false), (Ids{0}));
}

// ---- WordPiece ----

#define WP "\xE2\x96\x81"  // the word-start marker "▁"
// A WordPiece vocabulary as llama.cpp's converter writes BERT's: words start
// with "▁", "##" continuations are bare, [..] tokens are control.
const std::vector<std::string> kWordPieceTokens = {
    "[PAD]", "[UNK]", "[CLS]", "[SEP]", WP "hello", WP "he", "llo", WP "world", WP "!", WP ",",
    WP "\xE4\xB8\xAD" /* ▁中 */, WP "e", WP "ab", "c", WP "\xC3\xA9" /* ▁é */, WP "$", "", "lo", WP "a", "a"};
constexpr int32_t kUnk = 1, kCls = 2, kSep = 3, kHello = 4, kHe = 5, kLlo = 6, kWorld = 7, kBang = 8,
                  kComma = 9, kZhong = 10, kE = 11, kWpAB = 12, kC = 13, kEAcute = 14, kDollar = 15,
                  kLo = 17, kWpA = 18, kContA = 19;

Metadata bert_metadata() {
  std::vector<int64_t> types(kWordPieceTokens.size(), kTokenNormal);
  for (int32_t id : {0, kUnk, kCls, kSep}) types[id] = kTokenControl;
  return {
      {"tokenizer.ggml.model", str("bert")},
      {"tokenizer.ggml.tokens", strings(kWordPieceTokens)},
      {"tokenizer.ggml.token_type", ints(types)},
      {"tokenizer.ggml.unknown_token_id", u32(kUnk)},
      {"tokenizer.ggml.cls_token_id", u32(kCls)},
      {"tokenizer.ggml.seperator_token_id", u32(kSep)},
      {"tokenizer.ggml.padding_token_id", u32(0)},
  };
}

TEST(TokenizerVocab, WordPieceMetadata) {
  Vocab v;
  ASSERT_TRUE(from_md(bert_metadata(), &v).ok());
  EXPECT_EQ(v.kind, Vocab::Kind::kWordPiece);
  EXPECT_EQ(v.bos, kCls);
  EXPECT_EQ(v.eos, kSep);
  EXPECT_EQ(v.unk, kUnk);
  EXPECT_TRUE(v.add_bos);
  EXPECT_TRUE(v.add_eos);
  EXPECT_TRUE(v.lowercase);
  EXPECT_TRUE(v.strip_accents);
  EXPECT_STREQ(tokenizer_model_name(v.kind), "bert");

  // bos_token_id wins over the older cls_token_id; EOS is [SEP], whatever
  // eos_token_id and add_eos_token say (llama.cpp ends with [SEP]).
  Metadata md = bert_metadata();
  md["tokenizer.ggml.bos_token_id"] = u32(kSep);
  md["tokenizer.ggml.eos_token_id"] = u32(kCls);
  md["tokenizer.ggml.add_eos_token"] = boolean(false);
  md["tokenizer.ggml.normalizer.lowercase"] = boolean(false);
  ASSERT_TRUE(from_md(md, &v).ok());
  EXPECT_EQ(v.bos, kSep);
  EXPECT_EQ(v.eos, kSep);
  EXPECT_TRUE(v.add_eos);
  EXPECT_FALSE(v.lowercase);
  EXPECT_FALSE(v.strip_accents);  // follows lowercase unless given
  md["tokenizer.ggml.normalizer.strip_accents"] = boolean(true);
  ASSERT_TRUE(from_md(md, &v).ok());
  EXPECT_TRUE(v.strip_accents);

  // Without an unknown token a WordPiece vocabulary cannot encode: refused
  // (llama.cpp's default 100 does not fit 20 tokens).
  md = bert_metadata();
  md.erase("tokenizer.ggml.unknown_token_id");
  expect_error(from_md(md), ErrorKind::kFormat, "WordPiece (bert) vocabulary has no unknown token");
  md["tokenizer.ggml.normalizer.lowercase"] = u32(1);
  expect_error(from_md(md), ErrorKind::kFormat, "normalizer.lowercase should be a bool");
}

TEST(TokenizerVocab, WordPieceSplitsWordsAndMatchesLongestFirst) {
  std::unique_ptr<Tokenizer> t = make(bert_metadata());
  ASSERT_TRUE(t);
  const Tokenizer::EncodeOptions plain{false, false};
  // Lowercased; punctuation is a word of its own; [CLS] ... [SEP] around.
  EXPECT_EQ(t->encode("Hello, WORLD!", Tokenizer::EncodeOptions()),
            (Ids{kCls, kHello, kComma, kWorld, kBang, kSep}));
  EXPECT_EQ(t->encode("  hello\t\nworld  ", plain), (Ids{kHello, kWorld}));
  // Longest token first at each position: "▁hello" + "llo", "▁he" + "lo".
  EXPECT_EQ(t->encode("hellollo helo", plain), (Ids{kHello, kLlo, kHe, kLo}));
  // A position no token starts at makes the whole word [UNK].
  EXPECT_EQ(t->encode("hex hello", plain), (Ids{kUnk, kHello}));
  // Accents are stripped: é is e + a mark, and a lone combining mark goes.
  EXPECT_EQ(t->encode("\xC3\x89 e\xCC\x81", plain), (Ids{kE, kE}));
  // CJK ideographs and ASCII symbols are words of their own; '€' (U+20AC,
  // a symbol above U+007F) stays inside its word.
  EXPECT_EQ(t->encode("\xE4\xB8\xAD\xE6\x96\x87", plain), (Ids{kZhong, kUnk}));  // 中文
  EXPECT_EQ(t->encode("ab$ab ab\xE2\x82\xAC", plain), (Ids{kWpAB, kDollar, kWpAB, kUnk}));
  // Control characters (Cc, Cf), bytes that are not UTF-8, U+0000 and U+FFFD
  // are dropped without ending the word.
  EXPECT_EQ(t->encode(std::string("a\x01" "b\xE2\x80\x8B" "c\xFF" "a\0a\xEF\xBF\xBD" "c", 15), plain),
            (Ids{kWpAB, kC, kContA, kContA, kC}));
  EXPECT_EQ(t->encode("abc", plain), (Ids{kWpAB, kC}));
  EXPECT_EQ(t->encode("a aa", plain), (Ids{kWpA, kWpA, kContA}));  // a word-start "▁a", then "a"
  EXPECT_EQ(t->encode("", Tokenizer::EncodeOptions()), (Ids{kCls, kSep}));
  // Control token texts are words of punctuation and letters unless parse_special.
  EXPECT_EQ(t->encode("[CLS]hello", plain), (Ids{kUnk, kUnk, kUnk, kHello}));
  EXPECT_EQ(t->encode("[CLS]hello", Tokenizer::EncodeOptions{false, true}), (Ids{kCls, kHello}));

  // Decoding: "▁" is a space, [..] tokens are nothing, and spaces before
  // , . ! ? go, as llama.cpp's detokenizer does for WordPiece.
  EXPECT_EQ(t->decode({kCls, kHello, kComma, kWorld, kBang, kSep}), " hello, world!");
  EXPECT_EQ(t->decode({kHe, kLo, kUnk, kWpAB, kC}), " helo abc");
  EXPECT_EQ(t->token_piece(kComma, kHello), " ,");
  EXPECT_EQ(t->token_piece(kLlo, kHello), "llo");
  EXPECT_EQ(t->token_piece(kCls, -1), "");

  // Without lowercasing and accent stripping, "É" stays itself (and is no token).
  Metadata md = bert_metadata();
  md["tokenizer.ggml.normalizer.lowercase"] = boolean(false);
  t = make(md);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->encode("\xC3\xA9 \xC3\x89 Hello hello", plain), (Ids{kEAcute, kUnk, kUnk, kHello}));
}

// Hostile vocabularies: an empty token, tokens that end inside a UTF-8
// character, one huge token, and a huge word encode without error or crash,
// in time proportional to the text.
TEST(TokenizerVocab, WordPieceHostileVocabularies) {
  Metadata md = bert_metadata();
  auto& tokens = md["tokenizer.ggml.tokens"].strings;
  auto& types = md["tokenizer.ggml.token_type"].ints;
  const std::string huge(100000, 'a');
  for (const std::string& extra : {std::string(WP "\xD0"), std::string("\xB6"), WP + huge, std::string("\xD0")}) {
    tokens.push_back(extra);
    types.push_back(kTokenNormal);
  }
  const int32_t kLeadByte = 20, kContByte = 21, kHuge = 22;
  std::unique_ptr<Tokenizer> t = make(md);
  ASSERT_TRUE(t);
  const Tokenizer::EncodeOptions plain{false, false};
  // "ж" (D0 B6) is spelled byte by byte, as llama.cpp matches bytes.
  EXPECT_EQ(t->encode("\xD0\xB6", plain), (Ids{kLeadByte, kContByte}));
  // A word of 250,000 'a's: the huge token, then single 'a's.
  const Ids ids = t->encode(std::string(250000, 'a'), plain);
  ASSERT_EQ(ids.size(), 150001u);
  EXPECT_EQ(ids[0], kHuge);
  EXPECT_EQ(std::count(ids.begin(), ids.end(), kContA), 150000);
  // 2,000 words that start like the huge token but fail at their end.
  std::string near;
  for (int i = 0; i < 2000; ++i) near += std::string(50, 'a') + "x ";
  EXPECT_EQ(t->encode(near, plain), Ids(2000, kUnk));
}
#undef WP

}  // namespace
}  // namespace nibble
