// llama2.c checkpoint reader: the real stories260K.bin (and the names the
// model loader gives its tensors), and hostile headers.
#include "format/llama2c.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "format/gguf.h"
#include "model/model_loader.h"
#include "support/fixture_util.h"

namespace nibble {
namespace {

Status ParseAll(const std::vector<uint8_t>& bytes, Llama2cCheckpoint* c) {
  return ParseLlama2cCheckpoint(bytes.data(), bytes.size(), bytes.size(), c);
}

TEST(Llama2c, Stories260K) {
  const std::vector<uint8_t> bytes = read_fixture("models/stories260K.bin");
  ASSERT_EQ(bytes.size(), 1056540u);
  Llama2cCheckpoint c;
  Status s = ParseAll(bytes, &c);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(c.dim, 64);
  EXPECT_EQ(c.hidden_dim, 172);
  EXPECT_EQ(c.n_layers, 5);
  EXPECT_EQ(c.n_heads, 8);
  EXPECT_EQ(c.n_kv_heads, 4);
  EXPECT_EQ(c.vocab_size, 512);
  EXPECT_EQ(c.seq_len, 512);
  EXPECT_TRUE(c.shared_classifier);
  EXPECT_EQ(c.head_size(), 8);
  EXPECT_EQ(c.kv_dim(), 32);
  EXPECT_EQ(c.tensors.size(), 2u + 9u * 5u);
  EXPECT_EQ(c.find_tensor("wcls"), nullptr);

  const Llama2cTensor* embd = c.find_tensor("token_embedding_table");
  ASSERT_NE(embd, nullptr);
  EXPECT_EQ(embd->offset, 28u);
  EXPECT_EQ(embd->shape, (std::vector<int64_t>{64, 512}));
  // Tensors follow each other with no gaps, each stacked over layers.
  EXPECT_EQ(c.find_tensor("rms_att_weight[0]")->offset, 28u + 64u * 512u * 4u);
  EXPECT_EQ(c.find_tensor("rms_att_weight[1]")->offset, 28u + 64u * 512u * 4u + 64u * 4u);
  EXPECT_EQ(c.find_tensor("wk[3]")->shape, (std::vector<int64_t>{64, 32}));
  EXPECT_EQ(c.find_tensor("w2[3]")->shape, (std::vector<int64_t>{172, 64}));
  EXPECT_EQ(c.find_tensor("w1[3]")->shape, (std::vector<int64_t>{64, 172}));
  for (size_t n = 1; n < c.tensors.size(); ++n) {
    EXPECT_EQ(c.tensors[n].offset, c.tensors[n - 1].offset + c.tensors[n - 1].bytes) << c.tensors[n].name;
  }
  // After rms_final_weight come the two RoPE tables, then the end of the file.
  const Llama2cTensor& last = c.tensors.back();
  EXPECT_EQ(last.name, "rms_final_weight");
  EXPECT_EQ(last.offset + last.bytes + 2u * 512u * 4u * 4u, bytes.size());
}

// The same model converted by llama.cpp: every weight has identical bytes,
// so both files use the same (adjacent-pair) RoPE layout for attn_q/attn_k.
// The model loader gives the checkpoint's tensors their GGUF names.
TEST(Llama2c, SameWeightsAsTheGgufConversion) {
  const std::vector<uint8_t> bin = read_fixture("models/stories260K.bin");
  const std::vector<uint8_t> gguf_bytes = read_fixture("models/stories260K.gguf");
  ModelLoader loader(LoadOptions(), bin.size());
  ASSERT_TRUE(loader.feed(bin.data(), bin.size()).ok());
  ASSERT_EQ(loader.tensors().size(), 2u + 9u * 5u);
  GgufFile gguf;
  ASSERT_TRUE(GgufFile::Parse(gguf_bytes.data(), gguf_bytes.size(), gguf_bytes.size(), &gguf).ok());
  for (const GgufTensorInfo& t : loader.tensors()) {
    const GgufTensorInfo* g = gguf.find_tensor(t.name);
    ASSERT_NE(g, nullptr) << t.name;
    EXPECT_EQ(g->shape, t.shape) << t.name;
    ASSERT_EQ(g->bytes, t.bytes) << t.name;
    EXPECT_EQ(0, std::memcmp(bin.data() + t.offset, gguf_bytes.data() + g->offset, t.bytes)) << t.name;
  }
  Llama2cCheckpoint c;
  ASSERT_TRUE(ParseAll(bin, &c).ok());
  EXPECT_EQ(loader.tensors()[7].name, "blk.1.attn_q.weight");
  EXPECT_EQ(c.tensors[7].name, "wq[1]");
  // The GGUF file spells the shared classifier out as output.weight.
  const GgufTensorInfo* out = gguf.find_tensor("output.weight");
  const Llama2cTensor* embd = c.find_tensor("token_embedding_table");
  ASSERT_NE(out, nullptr);
  EXPECT_EQ(0, std::memcmp(bin.data() + embd->offset, gguf_bytes.data() + out->offset, embd->bytes));
}

// A header plus zero weights of exactly the implied size.
std::vector<uint8_t> MakeCheckpoint(std::vector<int32_t> header, int64_t extra_bytes = 0) {
  const int64_t dim = header[0], hidden = header[1], layers = header[2], heads = header[3], kv = header[4],
                vocab = header[5] < 0 ? -header[5] : header[5], seq = header[6];
  const int64_t kv_dim = dim / heads * kv, head_size = dim / heads;
  int64_t floats = vocab * dim + layers * (2 * dim + 2 * dim * dim + 2 * kv_dim * dim + 3 * hidden * dim) + dim +
                   seq * head_size;
  if (header[5] < 0) floats += vocab * dim;
  std::vector<uint8_t> bytes(28 + size_t(floats * 4 + extra_bytes), 0);
  std::memcpy(bytes.data(), header.data(), 28);
  return bytes;
}

void ExpectError(const std::vector<uint8_t>& bytes, const std::string& substring) {
  Llama2cCheckpoint c;
  Status s = ParseAll(bytes, &c);
  ASSERT_FALSE(s.ok()) << "expected an error containing \"" << substring << "\"";
  EXPECT_EQ(s.kind(), ErrorKind::kFormat) << s.message();
  EXPECT_NE(s.message().find(substring), std::string::npos)
      << "message: " << s.message() << "\nexpected substring: " << substring;
}

TEST(Llama2c, SeparateClassifier) {
  Llama2cCheckpoint c;
  const std::vector<uint8_t> bytes = MakeCheckpoint({16, 24, 2, 4, 2, -10, 8});
  Status s = ParseAll(bytes, &c);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_FALSE(c.shared_classifier);
  EXPECT_EQ(c.vocab_size, 10);
  const Llama2cTensor* out = c.find_tensor("wcls");
  ASSERT_NE(out, nullptr);
  EXPECT_EQ(out->shape, (std::vector<int64_t>{16, 10}));
  EXPECT_EQ(out->offset + out->bytes, bytes.size());
  // The same file read with the sign flipped (shared) has 640 bytes too many.
  std::vector<uint8_t> flipped = bytes;
  const int32_t vocab = 10;
  std::memcpy(flipped.data() + 20, &vocab, 4);
  ExpectError(flipped, "has 640 bytes more than");
}

TEST(Llama2c, HostileHeaders) {
  const std::vector<int32_t> good = {16, 24, 2, 4, 2, 10, 8};
  ASSERT_TRUE([&] { Llama2cCheckpoint c; return ParseAll(MakeCheckpoint(good), &c).ok(); }());
  auto with = [&](int field, int32_t v) {
    std::vector<uint8_t> bytes = MakeCheckpoint(good);
    std::memcpy(bytes.data() + 4 * field, &v, 4);
    return bytes;
  };
  ExpectError(with(0, 0), "dim is 0 (must be positive)");
  ExpectError(with(0, -16), "dim is -16 (must be positive)");
  ExpectError(with(1, -1), "hidden_dim is -1");
  ExpectError(with(2, 0), "n_layers is 0");
  ExpectError(with(3, 0), "n_heads is 0");
  ExpectError(with(4, -2), "n_kv_heads is -2");
  ExpectError(with(5, 0), "vocab_size is 0");
  ExpectError(with(5, INT32_MIN), "vocab_size is -2147483648");
  ExpectError(with(6, 0), "seq_len is 0");
  ExpectError(with(3, 5), "dim 16 is not a multiple of n_heads 5");
  ExpectError(with(4, 3), "n_heads 4 is not a multiple of n_kv_heads 3");
  ExpectError(with(4, 8), "n_heads 4 is not a multiple of n_kv_heads 8");
  ExpectError(with(3, 16), "head size 1 is odd");
  ExpectError(with(0, 0x616b3432), "versioned export format");
  // Absurd sizes: beyond any file, or just not this file.
  ExpectError(with(0, 1 << 30), "describes more than 2^62 bytes");
  ExpectError(with(2, 4097), "n_layers 4097 is more than 4096");
  std::vector<uint8_t> huge(64, 0);
  const int32_t huge_header[7] = {2, INT32_MAX, 4096, 1, 1, INT32_MAX, INT32_MAX};
  std::memcpy(huge.data(), huge_header, 28);
  ExpectError(huge, "is truncated: tensor token_embedding_table needs bytes [28, 17179869204) but the file has 64");
  ExpectError(with(1, 1 << 30), "is truncated: tensor w1[0] needs bytes [");
  ExpectError(with(5, 1000), "is truncated: tensor token_embedding_table needs bytes [28, 64028)");
  ExpectError(MakeCheckpoint(good, 4), "has 4 bytes more than");
  ExpectError(std::vector<uint8_t>(10, 0), "the header needs 28 bytes but the file has 10");
}

TEST(Llama2c, EveryTruncationAndRandomHeaders) {
  const std::vector<uint8_t> good = MakeCheckpoint({16, 24, 2, 4, 2, -10, 8});
  for (size_t n = 0; n < good.size(); ++n) {
    const std::vector<uint8_t> prefix(good.begin(), good.begin() + n);
    Llama2cCheckpoint c;
    Status s = ParseAll(prefix, &c);
    ASSERT_FALSE(s.ok()) << n;
    EXPECT_NE(s.message().find("truncated"), std::string::npos) << n << ": " << s.message();
  }
  // Random headers (seeded): a clean error or a valid table, never a crash.
  std::mt19937 rng(7);
  std::vector<uint8_t> bytes = good;
  for (int iter = 0; iter < 20000; ++iter) {
    int32_t header[7];
    for (int32_t& v : header) {
      switch (rng() % 3) {
        case 0: v = int32_t(rng()); break;
        case 1: v = int32_t(rng() % 64) - 8; break;
        default: v = int32_t(1u << (rng() % 31)); break;
      }
    }
    std::memcpy(bytes.data(), header, 28);
    Llama2cCheckpoint c;
    Status s = ParseAll(bytes, &c);
    if (s.ok()) {
      for (const Llama2cTensor& t : c.tensors) EXPECT_LE(t.offset + t.bytes, bytes.size()) << t.name;
    }
  }
}

}  // namespace
}  // namespace nibble
