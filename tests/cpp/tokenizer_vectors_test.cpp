// Tokenizers against reference ids: llama.cpp's test vectors for the
// vocabularies of every pre-tokenizer row and for Phi-3's SentencePiece one
// (tests/fixtures/ggml-vocab-*.gguf{,.inp,.out}), the harder extra strings
// with llama.cpp's detokenization where the fixtures have them
// (.extra.inp/.extra.out/.extra.detok), and llama2.c's encoding of
// tok512.bin.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "format/gguf.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/vocab.h"

namespace nibble {
namespace {

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  EXPECT_TRUE(f.good()) << "cannot open " << path;
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

std::string fixture(const std::string& name) {
  return std::string(NIBBLE_SOURCE_DIR) + "/tests/fixtures/" + name;
}

std::string ids_text(const std::vector<int32_t>& ids) {
  std::string s = "[";
  for (size_t i = 0; i < ids.size(); ++i) s += (i ? " " : "") + std::to_string(ids[i]);
  return s + "]";
}

// The test string in C-escaped form so white space and bytes are visible.
std::string escaped(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    char buf[8];
    if (c == '\n') out += "\\n";
    else if (c == '\t') out += "\\t";
    else if (c == '"' || c == '\\') { out += '\\'; out += static_cast<char>(c); }
    else if (c < 0x20 || c == 0x7F) { std::snprintf(buf, sizeof buf, "\\x%02X", c); out += buf; }
    else out += static_cast<char>(c);
  }
  return out + "\"";
}

std::unique_ptr<Tokenizer> tokenizer_from_gguf(const std::string& path) {
  const std::string bytes = read_file(path);
  GgufFile file;
  const Status parsed = GgufFile::Parse(reinterpret_cast<const uint8_t*>(bytes.data()),
                                        bytes.size(), bytes.size(), &file);
  EXPECT_TRUE(parsed.ok()) << path << ": " << parsed.message();
  Vocab vocab;
  const Status read = vocab_from_gguf(file, &vocab);
  EXPECT_TRUE(read.ok()) << path << ": " << read.message();
  std::unique_ptr<Tokenizer> t;
  const Status created = Tokenizer::Create(std::move(vocab), &t);
  EXPECT_TRUE(created.ok()) << path << ": " << created.message();
  return t;
}

struct Vector {
  std::string text;
  std::vector<int32_t> ids;
};

// As llama.cpp's test-tokenizer-0 reads them: .inp holds the strings joined by
// "\n__ggml_vocab_test__\n" (the file ends with that separator); .out holds
// one line of space-separated ids per string. No BOS is added.
std::vector<Vector> read_strings(const std::string& path) {
  const std::string inp = read_file(path);
  const std::string sep = "\n__ggml_vocab_test__\n";
  std::vector<Vector> vectors;
  for (size_t pos = 0; pos < inp.size();) {
    size_t next = inp.find(sep, pos);
    if (next == std::string::npos) next = inp.size();
    vectors.push_back({inp.substr(pos, next - pos), {}});
    pos = next == inp.size() ? next : next + sep.size();
  }
  return vectors;
}

// `set` is "" (llama.cpp's 46 strings) or ".extra" (the harder ones).
std::vector<Vector> read_vectors(const std::string& vocab_path, const std::string& set = "") {
  std::vector<Vector> vectors = read_strings(vocab_path + set + ".inp");
  std::istringstream out(read_file(vocab_path + set + ".out"));
  std::string line;
  size_t i = 0;
  for (; std::getline(out, line); ++i) {
    if (i >= vectors.size()) break;
    std::istringstream ids(line);
    for (int32_t id; ids >> id;) vectors[i].ids.push_back(id);
  }
  EXPECT_EQ(i, vectors.size()) << vocab_path << ": .out and .inp disagree on the number of tests";
  return vectors;
}

// Every string encodes to its ids. Decoding them gives the string back
// (SentencePiece removes the space it added in front), or, for a vocabulary
// whose pre-tokenizer tidies spaces, llama.cpp's detokenization where the
// fixture has it (.extra.detok) and else the untidied streamed pieces.
void check_vectors(const std::string& name, const std::string& set = "", size_t count = 46) {
  const std::string path = fixture(name);
  std::unique_ptr<Tokenizer> t = tokenizer_from_gguf(path);
  ASSERT_TRUE(t);
  const std::vector<Vector> vectors = read_vectors(path, set);
  ASSERT_EQ(vectors.size(), count) << name << set;
  std::ifstream detok_file(path + set + ".detok");
  const std::vector<Vector> detok = detok_file ? read_strings(path + set + ".detok") : std::vector<Vector>();
  const bool tidies = t->cleans_spaces();
  for (size_t i = 0; i < vectors.size(); ++i) {
    const Vector& v = vectors[i];
    const std::vector<int32_t> got = t->encode(v.text, /*add_bos=*/false);
    EXPECT_EQ(got, v.ids) << name << set << " test " << i << ": input " << escaped(v.text)
                          << "\n  expected " << ids_text(v.ids) << "\n  got      " << ids_text(got);
    if (!detok.empty()) {
      ASSERT_EQ(detok.size(), vectors.size()) << name << set << ".detok";
      EXPECT_EQ(t->decode(got), detok[i].text) << name << set << " test " << i << ": ids " << ids_text(got);
    } else if (!tidies) {
      EXPECT_EQ(t->decode(got), v.text) << name << set << " test " << i << ": ids " << ids_text(got);
      // The same with BOS in front: BOS decodes to nothing.
      std::vector<int32_t> with_bos = got;
      with_bos.insert(with_bos.begin(), t->bos());
      EXPECT_EQ(t->decode(with_bos), v.text) << name << " test " << i << " with BOS";
    } else {
      // No reference for the tidied text: the streamed pieces, before
      // tidying, must still give the input back byte for byte.
      std::string pieces;
      int32_t previous = -1;
      for (int32_t id : got) pieces += t->token_piece(id, std::exchange(previous, id));
      EXPECT_EQ(pieces, v.text) << name << set << " test " << i << ": streamed pieces of " << ids_text(got);
    }
  }
}

TEST(TokenizerVectors, Gpt2MatchesLlamaCppVectors) { check_vectors("ggml-vocab-gpt-2.gguf"); }

TEST(TokenizerVectors, Phi3MatchesLlamaCppVectors) { check_vectors("ggml-vocab-phi-3.gguf"); }

// One vocabulary per pre-tokenizer row (refact and mpt are aliases of
// starcoder's and GPT-2's regexes, with vocabularies of their own).
TEST(TokenizerVectors, LlamaBpeMatchesLlamaCppVectors) {
  check_vectors("ggml-vocab-llama-bpe.gguf");
  check_vectors("ggml-vocab-llama-bpe.gguf", ".extra", 50);
}
TEST(TokenizerVectors, Qwen2MatchesLlamaCppVectors) {
  check_vectors("ggml-vocab-qwen2.gguf");
  check_vectors("ggml-vocab-qwen2.gguf", ".extra", 50);
}
TEST(TokenizerVectors, StarcoderMatchesLlamaCppVectors) {
  check_vectors("ggml-vocab-starcoder.gguf");
  check_vectors("ggml-vocab-starcoder.gguf", ".extra", 50);
}
TEST(TokenizerVectors, SmollmMatchesLlamaCppVectors) {
  check_vectors("ggml-vocab-starcoder-smollm.gguf");
  check_vectors("ggml-vocab-starcoder-smollm.gguf", ".extra", 50);
}
TEST(TokenizerVectors, DeepseekLlmMatchesLlamaCppVectors) {
  check_vectors("ggml-vocab-deepseek-llm.gguf");
  check_vectors("ggml-vocab-deepseek-llm.gguf", ".extra", 50);
}
TEST(TokenizerVectors, DeepseekCoderMatchesLlamaCppVectors) { check_vectors("ggml-vocab-deepseek-coder.gguf"); }
TEST(TokenizerVectors, FalconMatchesLlamaCppVectors) { check_vectors("ggml-vocab-falcon.gguf"); }
TEST(TokenizerVectors, RefactMatchesLlamaCppVectors) { check_vectors("ggml-vocab-refact.gguf"); }
TEST(TokenizerVectors, MptMatchesLlamaCppVectors) { check_vectors("ggml-vocab-mpt.gguf"); }

// WordPiece: llama.cpp's vectors, and the harder strings with llama.cpp's
// ids and detokenization (made with node-llama-cpp 3.21.1's llama.cpp, see
// models/README.md): decoding gives the text lowercased, accents stripped,
// a space before each word and unknown words dropped.
TEST(TokenizerVectors, BertWordPieceMatchesLlamaCppVectors) {
  check_vectors("ggml-vocab-bert-bge.gguf");
  check_vectors("ggml-vocab-bert-bge.gguf", ".extra", 50);
}

TEST(TokenizerVectors, BertVocabularyMetadata) {
  std::unique_ptr<Tokenizer> t = tokenizer_from_gguf(fixture("ggml-vocab-bert-bge.gguf"));
  ASSERT_TRUE(t);
  EXPECT_EQ(t->vocab().kind, Vocab::Kind::kWordPiece);
  EXPECT_EQ(t->size(), 30522);
  EXPECT_EQ(t->bos(), 101);  // [CLS]
  EXPECT_EQ(t->eos(), 102);  // [SEP]
  EXPECT_EQ(t->vocab().unk, 100);
  EXPECT_EQ(t->vocab().pad, 0);
  // With special tokens, as llama.cpp's llama_tokenize(add_special = true).
  EXPECT_EQ(t->encode("Hello world", Tokenizer::EncodeOptions()), (std::vector<int32_t>{101, 7592, 2088, 102}));
  Tokenizer::EncodeOptions parse;
  parse.add_special = false;
  parse.parse_special = true;
  EXPECT_EQ(t->encode("[CLS] hi [SEP]", parse), (std::vector<int32_t>{101, 7632, 102}));
  EXPECT_EQ(t->decode({101, 7592, 2088, 102}), " hello world");
}

TEST(TokenizerVectors, Gpt2VocabularyMetadata) {
  std::unique_ptr<Tokenizer> t = tokenizer_from_gguf(fixture("ggml-vocab-gpt-2.gguf"));
  ASSERT_TRUE(t);
  EXPECT_EQ(t->vocab().kind, Vocab::Kind::kBytePairGpt2);
  EXPECT_EQ(t->size(), 50257);
  EXPECT_EQ(t->bos(), 50256);
  EXPECT_EQ(t->eos(), 50256);
  EXPECT_FALSE(t->vocab().add_bos);
  // A control token's text in the input is plain text, not the token.
  const std::vector<int32_t> ids = t->encode("<|endoftext|>", false);
  EXPECT_EQ(std::count(ids.begin(), ids.end(), 50256), 0) << ids_text(ids);
  EXPECT_EQ(t->decode(ids), "<|endoftext|>");
  EXPECT_EQ(t->token_piece(50256, -1), "");
}

TEST(TokenizerVectors, Phi3UserDefinedTokenIsCutOutOfText) {
  std::unique_ptr<Tokenizer> t = tokenizer_from_gguf(fixture("ggml-vocab-phi-3.gguf"));
  ASSERT_TRUE(t);
  EXPECT_EQ(t->vocab().kind, Vocab::Kind::kSentencePiece);
  EXPECT_EQ(t->bos(), 1);
  EXPECT_EQ(t->eos(), 32000);
  // "</s>" is user-defined (type 4) in this vocabulary; "<s>" is control.
  const std::vector<int32_t> ids = t->encode("Hello</s>world<s>", true);
  ASSERT_GE(ids.size(), 3u);
  EXPECT_EQ(ids[0], 1);
  EXPECT_EQ(std::count(ids.begin(), ids.end(), 2), 1) << ids_text(ids);
  EXPECT_EQ(std::count(ids.begin(), ids.end(), 1), 1) << ids_text(ids);
  EXPECT_EQ(t->decode(ids), "Hello</s>world<s>") << ids_text(ids);
}

// Chat markers are control tokens: plain text unless parse_special, as in
// llama.cpp; the end-of-generation set holds EOS and the end-of-turn tokens.
TEST(TokenizerVectors, ControlTokensParseOnlyWhenAskedAndEndGeneration) {
  std::unique_ptr<Tokenizer> qwen = tokenizer_from_gguf(fixture("ggml-vocab-qwen2.gguf"));
  ASSERT_TRUE(qwen);
  const std::string chat = "<|im_start|>user\nHi<|im_end|>";
  Tokenizer::EncodeOptions parse;
  parse.parse_special = true;
  const std::vector<int32_t> parsed = qwen->encode(chat, parse);
  ASSERT_GE(parsed.size(), 4u);
  EXPECT_EQ(parsed.front(), 151644) << ids_text(parsed);  // <|im_start|>, no BOS (add_bos false)
  EXPECT_EQ(parsed.back(), 151645) << ids_text(parsed);   // <|im_end|>
  const std::vector<int32_t> plain = qwen->encode(chat, Tokenizer::EncodeOptions());
  EXPECT_EQ(std::count(plain.begin(), plain.end(), 151644), 0) << ids_text(plain);
  EXPECT_EQ(plain, qwen->encode(chat, false));
  EXPECT_TRUE(qwen->is_end_of_generation(151645));  // <|im_end|>
  EXPECT_TRUE(qwen->is_end_of_generation(151643));  // <|endoftext|> (EOS)
  EXPECT_FALSE(qwen->is_end_of_generation(151644));

  std::unique_ptr<Tokenizer> llama3 = tokenizer_from_gguf(fixture("ggml-vocab-llama-bpe.gguf"));
  ASSERT_TRUE(llama3);
  const std::vector<int32_t> with_bos = llama3->encode("<|eot_id|>", parse);
  EXPECT_EQ(with_bos, (std::vector<int32_t>{128000, 128009}));  // add_bos true: BOS first
  // Llama 3 (not 3.1: no <|eom_id|>): <|end_of_text|> (EOS) and <|eot_id|>.
  EXPECT_EQ(llama3->end_of_generation_ids(), (std::vector<int32_t>{128001, 128009}));
}

std::unique_ptr<Tokenizer> tok512() {
  const std::string bytes = read_file(std::string(NIBBLE_SOURCE_DIR) + "/models/tok512.bin");
  Vocab vocab;
  const Status s = vocab_from_llama2c(reinterpret_cast<const uint8_t*>(bytes.data()),
                                      bytes.size(), 512, &vocab);
  EXPECT_TRUE(s.ok()) << s.message();
  std::unique_ptr<Tokenizer> t;
  const Status c = Tokenizer::Create(std::move(vocab), &t);
  EXPECT_TRUE(c.ok()) << c.message();
  return t;
}

TEST(TokenizerVectors, Tok512MatchesLlama2c) {
  std::unique_ptr<Tokenizer> t = tok512();
  ASSERT_TRUE(t);
  EXPECT_EQ(t->size(), 512);
  EXPECT_EQ(t->bos(), 1);
  EXPECT_EQ(t->eos(), 2);
  EXPECT_TRUE(t->vocab().add_bos);
  const std::string text = "Once upon a time";
  const std::vector<int32_t> expected = {1, 403, 407, 261, 378};
  const std::vector<int32_t> got = t->encode(text, true);
  EXPECT_EQ(got, expected) << "input " << escaped(text) << "\n  expected " << ids_text(expected)
                           << "\n  got      " << ids_text(got);
  EXPECT_EQ(t->decode(got), text);
  // Streaming pieces as llama2.c prints them: the space after BOS is dropped.
  EXPECT_EQ(t->token_piece(403, 1), "Once");
  EXPECT_EQ(t->token_piece(407, 403), " upon");
  EXPECT_EQ(t->token_piece(1, -1), "");
  EXPECT_EQ(t->token_piece(3 + 0x41, 403), "A");  // byte token <0x41>
}

TEST(TokenizerVectors, Tok512ByteFallbackRoundTrips) {
  std::unique_ptr<Tokenizer> t = tok512();
  ASSERT_TRUE(t);
  // Characters outside the 512-token vocabulary become byte tokens; a
  // streaming reader sees the UTF-8 of the llama emoji (F0 9F A6 99) split
  // over four pieces.
  const std::string text = "Caf\xC3\xA9 \xF0\x9F\xA6\x99 ok\n\tdone";
  const std::vector<int32_t> ids = t->encode(text, true);
  EXPECT_EQ(t->decode(ids), text) << ids_text(ids);
  std::string streamed;
  for (size_t i = 0; i < ids.size(); ++i) streamed += t->token_piece(ids[i], i ? ids[i - 1] : -1);
  EXPECT_EQ(streamed, text);
  EXPECT_NE(std::find(ids.begin(), ids.end(), 3 + 0xF0), ids.end()) << ids_text(ids);
  EXPECT_EQ(t->token_piece(3 + 0xF0, 1), "\xF0");
  // Invalid UTF-8 survives the round trip byte for byte.
  const std::string invalid = "a\xFF\xC3(b\x80";
  EXPECT_EQ(t->decode(t->encode(invalid, false)), invalid);
}

// The GGUF copy of the same tokenizer (stories260K.gguf) encodes the same.
TEST(TokenizerVectors, Stories260KGgufMatchesTok512) {
  std::unique_ptr<Tokenizer> from_gguf =
      tokenizer_from_gguf(std::string(NIBBLE_SOURCE_DIR) + "/models/stories260K.gguf");
  std::unique_ptr<Tokenizer> from_bin = tok512();
  ASSERT_TRUE(from_gguf && from_bin);
  EXPECT_EQ(from_gguf->vocab().pad, -1);  // stored as 0xFFFFFFFF: none
  for (const std::string text : {"Once upon a time", "  Tom and Lily went to the park.\n",
                                 "She said, \"Hello!\" 123 \xC3\xA9"}) {
    EXPECT_EQ(from_gguf->encode(text, true), from_bin->encode(text, true)) << escaped(text);
  }
}

// decode(encode(s)) == s for seeded random strings built from pieces that
// stress the pre-tokenizer, the space handling and byte fallback, including
// invalid UTF-8 and Phi-3's user-defined "</s>". (A literal "▁" in the input
// is the one exception for SentencePiece: it decodes as a space, as in
// llama.cpp and sentencepiece, checked at the end.)
TEST(TokenizerVectors, RandomStringsRoundTrip) {
  const char* pieces[] = {"a", "Z", "the", " ", "  ", "\n", "\t", "\r\n", "'s", "'ll", "'", "3",
                          "42", ".", "!?", "\xC3\xA9", "\xE4\xB8\xAD", "\xF0\x9F\xA6\x99",
                          "\xE2\x80\x83", "\xC2\xA0", "\xFF", "\x80", "\xE2\x82", "</s>", "<s>",
                          "\x01"};
  std::mt19937 rng(42);
  for (const char* name : {"ggml-vocab-gpt-2.gguf", "ggml-vocab-phi-3.gguf"}) {
    std::unique_ptr<Tokenizer> t = tokenizer_from_gguf(fixture(name));
    ASSERT_TRUE(t);
    for (int trial = 0; trial < 300; ++trial) {
      std::string text;
      const int n = static_cast<int>(rng() % 24);
      for (int i = 0; i < n; ++i) text += pieces[rng() % (sizeof pieces / sizeof pieces[0])];
      const std::vector<int32_t> ids = t->encode(text, trial % 2 == 0);
      // The pieces give the text back; decode() does too unless it tidies
      // spaces (GPT-2's row does, as llama.cpp's detokenizer).
      std::string streamed;
      for (size_t i = 0; i < ids.size(); ++i) streamed += t->token_piece(ids[i], i ? ids[i - 1] : -1);
      ASSERT_EQ(streamed, text) << name << " trial " << trial << ": input " << escaped(text)
                                << "\n  ids " << ids_text(ids);
      if (!t->cleans_spaces()) {
        ASSERT_EQ(t->decode(ids), text) << name << " trial " << trial;
      }
    }
  }
  std::unique_ptr<Tokenizer> phi3 = tokenizer_from_gguf(fixture("ggml-vocab-phi-3.gguf"));
  ASSERT_TRUE(phi3);
  EXPECT_EQ(phi3->decode(phi3->encode("a\xE2\x96\x81" "b", true)), "a b");
}

// Not a benchmark: prints how long encoding ~10 KB takes (expected well
// under 100 ms natively) and checks the round trip on a longer text.
TEST(TokenizerVectors, EncodeTenKilobytes) {
  std::string text;
  const char* lines[] = {
      "Once upon a time, there was a little girl named Lily. She loved to play outside.\n",
      "  \"Can I help?\" asked Tom, 42 times; caf\xC3\xA9 \xE2\x9C\x85 \xF0\x9F\x9A\x80 \xD0\xBD\xD0\xB0\n",
      "\tThey'll say it's 3.14159 -- or 2,718... I've heard 'em!\n\n",
  };
  for (size_t i = 0; text.size() < 10 * 1024; ++i) text += lines[i % 3];
  for (const char* name : {"ggml-vocab-gpt-2.gguf", "ggml-vocab-phi-3.gguf"}) {
    std::unique_ptr<Tokenizer> t = tokenizer_from_gguf(fixture(name));
    ASSERT_TRUE(t);
    const auto start = std::chrono::steady_clock::now();
    const std::vector<int32_t> ids = t->encode(text, false);
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    std::printf("[ timing ] %s: encoded %zu bytes into %zu tokens in %.2f ms\n", name, text.size(),
                ids.size(), ms);
    EXPECT_EQ(t->decode(ids), text) << name;
  }
}

}  // namespace
}  // namespace nibble
