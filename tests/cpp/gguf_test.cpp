// GGUF reader on real files, and writer -> reader round trips.
#include "format/gguf.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "format/file_bytes.h"

namespace nibble {
namespace {

std::vector<uint8_t> ReadFixture(const std::string& relative) {
  std::vector<uint8_t> bytes;
  Status s = read_file_bytes(std::string(NIBBLE_SOURCE_DIR) + "/" + relative, &bytes);
  EXPECT_TRUE(s.ok()) << s.message();
  return bytes;
}

Status ParseAll(const std::vector<uint8_t>& bytes, GgufFile* file, bool* need_more = nullptr) {
  return GgufFile::Parse(bytes.data(), bytes.size(), bytes.size(), file, need_more);
}

TEST(GgufRealFiles, Stories260K) {
  const std::vector<uint8_t> bytes = ReadFixture("models/stories260K.gguf");
  ASSERT_EQ(bytes.size(), 1185376u);
  GgufFile file;
  Status s = ParseAll(bytes, &file);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(file.version(), 3u);
  EXPECT_EQ(file.alignment(), 32u);
  EXPECT_EQ(file.data_offset() % 32, 0u);

  std::string arch;
  ASSERT_TRUE(file.get_string("general.architecture", &arch).ok());
  EXPECT_EQ(arch, "llama");
  const std::pair<const char*, int64_t> ints[] = {
      {"llama.embedding_length", 64}, {"llama.block_count", 5},
      {"llama.attention.head_count", 8}, {"llama.attention.head_count_kv", 4},
      {"llama.feed_forward_length", 172}, {"llama.context_length", 2048},
  };
  for (const auto& kv : ints) {
    int64_t v = -1;
    s = file.get_int(kv.first, &v);
    ASSERT_TRUE(s.ok()) << s.message();
    EXPECT_EQ(v, kv.second) << kv.first;
  }
  double eps = 0;
  ASSERT_TRUE(file.get_float("llama.attention.layer_norm_rms_epsilon", &eps).ok());
  EXPECT_NEAR(eps, 1e-5, 1e-9);
  const std::vector<std::string>* tokens = nullptr;
  ASSERT_TRUE(file.get_strings("tokenizer.ggml.tokens", &tokens).ok());
  ASSERT_EQ(tokens->size(), 512u);
  const std::vector<double>* scores = nullptr;
  ASSERT_TRUE(file.get_floats("tokenizer.ggml.scores", &scores).ok());
  EXPECT_EQ(scores->size(), 512u);
  const std::vector<int64_t>* token_types = nullptr;
  ASSERT_TRUE(file.get_ints("tokenizer.ggml.token_type", &token_types).ok());
  EXPECT_EQ(token_types->size(), 512u);

  // Typed getters name the key and the type found.
  int64_t not_int = 0;
  s = file.get_int("general.architecture", &not_int);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("'general.architecture' is a string, expected an integer"), std::string::npos)
      << s.message();
  s = file.get_int("llama.no_such_key", &not_int);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("'llama.no_such_key' is missing"), std::string::npos) << s.message();

  // 3 + 9 per layer tensors (llama.cpp's converter wrote the shared
  // classifier out as output.weight), F32, shapes in GGUF order.
  EXPECT_EQ(file.tensors().size(), 3u + 9u * 5u);
  struct Expected { const char* name; std::vector<int64_t> shape; };
  const Expected expected[] = {
      {"token_embd.weight", {64, 512}},       {"output_norm.weight", {64}},
      {"output.weight", {64, 512}},
      {"blk.0.attn_norm.weight", {64}},       {"blk.0.attn_q.weight", {64, 64}},
      {"blk.0.attn_k.weight", {64, 32}},      {"blk.0.attn_v.weight", {64, 32}},
      {"blk.4.attn_output.weight", {64, 64}}, {"blk.4.ffn_gate.weight", {64, 172}},
      {"blk.4.ffn_down.weight", {172, 64}},   {"blk.4.ffn_up.weight", {64, 172}},
      {"blk.4.ffn_norm.weight", {64}},
  };
  for (const Expected& e : expected) {
    const GgufTensorInfo* t = file.find_tensor(e.name);
    ASSERT_NE(t, nullptr) << e.name;
    EXPECT_EQ(t->shape, e.shape) << e.name;
    EXPECT_EQ(t->type, TensorType::F32) << e.name;
    EXPECT_EQ(t->bytes, uint64_t(t->elements()) * 4) << e.name;
    EXPECT_EQ(t->offset % 32, 0u) << e.name;
    EXPECT_LE(t->offset + t->bytes, bytes.size()) << e.name;
  }
}

void ExpectVocabOnly(const char* path, size_t n_tokens, const char* model) {
  const std::vector<uint8_t> bytes = ReadFixture(path);
  GgufFile file;
  Status s = ParseAll(bytes, &file);
  ASSERT_TRUE(s.ok()) << path << ": " << s.message();
  EXPECT_TRUE(file.tensors().empty()) << path;
  std::string m;
  ASSERT_TRUE(file.get_string("tokenizer.ggml.model", &m).ok()) << path;
  EXPECT_EQ(m, model) << path;
  const std::vector<std::string>* tokens = nullptr;
  ASSERT_TRUE(file.get_strings("tokenizer.ggml.tokens", &tokens).ok()) << path;
  EXPECT_EQ(tokens->size(), n_tokens) << path;
}

TEST(GgufRealFiles, VocabOnlyFiles) {
  ExpectVocabOnly("tests/fixtures/ggml-vocab-phi-3.gguf", 32064, "llama");
  ExpectVocabOnly("tests/fixtures/ggml-vocab-gpt-2.gguf", 50257, "gpt2");
  GgufFile file;
  ASSERT_TRUE(ParseAll(ReadFixture("tests/fixtures/ggml-vocab-gpt-2.gguf"), &file).ok());
  const std::vector<std::string>* merges = nullptr;
  ASSERT_TRUE(file.get_strings("tokenizer.ggml.merges", &merges).ok());
  EXPECT_EQ(merges->size(), 50000u);
}

// A prefix that ends inside the header asks for more bytes; one that holds
// the whole tensor table parses even though the tensor data is missing.
TEST(GgufRealFiles, StreamingPrefix) {
  const std::vector<uint8_t> bytes = ReadFixture("models/stories260K.gguf");
  GgufFile full;
  ASSERT_TRUE(ParseAll(bytes, &full).ok());
  bool need_more = false;
  GgufFile file;
  Status s = GgufFile::Parse(bytes.data(), 1000, bytes.size(), &file, &need_more);
  EXPECT_FALSE(s.ok());
  EXPECT_TRUE(need_more) << s.message();
  s = GgufFile::Parse(bytes.data(), size_t(full.data_offset()), bytes.size(), &file, &need_more);
  EXPECT_TRUE(s.ok()) << s.message();
  EXPECT_FALSE(need_more);
  EXPECT_EQ(file.tensors().size(), full.tensors().size());
}

}  // namespace
}  // namespace nibble
