// The model loader on hostile GGUF files: seeded random edits of the bundled
// stories260K.gguf's header (metadata, tokenizer, tensor table), of one file
// of each other architecture, and of the llama.cpp fixtures of every block
// type, fed in random chunks; block scales that are not finite. Every file
// either loads, tokenizes and generates, or fails
// with a message; never a crash (the sanitizer builds of this test make an
// out-of-bounds read one too). The GGUF reader alone has its own hostile
// test (format_gguf_hostile_test); this one also covers what the loader
// does with what the reader accepts: hyperparameters, the vocabulary, tensor
// placement, and a forward pass on whatever configuration survived.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "format/gguf.h"
#include "model/generator.h"
#include "model/model_loader.h"
#include "support/fixture_util.h"

namespace nibble {
namespace {

TEST(ModelHostile, RefusesWeightsOfATypeItCannotHoldMatricesAs) {
  const std::vector<uint8_t> bytes = read_fixture("models/stories260K.gguf");
  for (TensorType type : {TensorType::F16, TensorType(11)}) {
    LoadOptions options;
    options.weights = type;
    ModelLoader loader(options, bytes.size());
    const Status s = loader.feed(bytes.data(), bytes.size());
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.message().find("use one of f32, q4_0, q4_1"), std::string::npos) << s.message();
  }
}

// `iterations` seeded edits of the header of the fixture at `path`.
void edit_headers_and_load(const std::string& path, int iterations, uint32_t seed) {
  const std::vector<uint8_t> base = read_fixture(path);
  GgufFile parsed;
  ASSERT_TRUE(GgufFile::Parse(base.data(), base.size(), base.size(), &parsed).ok());
  const size_t header = size_t(parsed.data_offset());  // edits land before the tensor data

  std::mt19937 rng(seed);
  const uint8_t interesting[] = {0x00, 0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x7f, 0x80, 0xfe, 0xff};
  int loaded = 0, generated = 0;
  for (int iter = 0; iter < iterations; ++iter) {
    std::vector<uint8_t> bytes = base;
    for (int e = 0, edits = 1 + int(rng() % 6); e < edits; ++e) {
      const size_t at = rng() % header;
      switch (rng() % 5) {
        case 0: bytes[at] = uint8_t(rng()); break;
        case 1: bytes[at] = interesting[rng() % sizeof(interesting)]; break;
        case 2: bytes[at] ^= uint8_t(1u << (rng() % 8)); break;
        case 3: {  // a small count or length, where one was
          const uint32_t v = rng() % 70000;
          if (at + 4 <= bytes.size()) std::memcpy(&bytes[at], &v, 4);
          break;
        }
        case 4: if (rng() % 8 == 0) bytes.resize(at + 1); break;  // cut the file
      }
    }
    SCOPED_TRACE(path + ", iteration " + std::to_string(iter));
    LoadOptions options;
    options.weights = rng() % 2 ? TensorType::Q4_0 : TensorType::F32;
    ModelLoader loader(options, bytes.size());
    Status s;
    for (size_t at = 0; at < bytes.size() && s.ok();) {
      const size_t n = std::min(bytes.size() - at, size_t(1 + rng() % 200000));
      s = loader.feed(bytes.data() + at, n);
      at += n;
    }
    std::unique_ptr<Model> model;
    if (s.ok()) s = loader.finish(&model);
    if (!s.ok()) {
      EXPECT_FALSE(s.message().empty());
      continue;
    }
    ++loaded;
    const std::vector<int32_t> prompt = model->tokenizer->encode("Once upon a time", true);
    if (prompt.empty()) continue;  // an edited vocabulary may lose BOS and every piece
    Generator gen(*model, 32, 8, nullptr);
    GenerationOptions generation;
    generation.max_tokens = 4;
    s = gen.start(prompt, generation);
    if (!s.ok()) {
      EXPECT_FALSE(s.message().empty());
      continue;
    }
    for (int i = 0; i < 4; ++i) {
      int32_t token = -1;
      StopReason stop = StopReason::kNone;
      ASSERT_TRUE(gen.next(&token, &stop).ok());
      if (stop != StopReason::kNone) break;
      ASSERT_GE(token, 0);
      ASSERT_LT(token, model->config.vocab_size);
    }
    ++generated;
  }
  // Some edits only touch values the loader tolerates (names, scores, text).
  EXPECT_GT(loaded, 0);
  EXPECT_GT(generated, 0);
}

TEST(ModelHostile, EditedGgufHeadersLoadOrFailWithAMessage) { edit_headers_and_load("models/stories260K.gguf", 600, 4242); }

// The same on one file of each other architecture row.
TEST(ModelHostile, EditedHeadersOfEveryArchitectureLoadOrFailWithAMessage) {
  for (const char* file : {"qwen2-f16", "qwen3-f16", "gemma2-f16", "gemma3-f16", "phi3-f16", "llama-rope-freqs-f16"}) {
    SCOPED_TRACE(file);
    edit_headers_and_load(std::string("tests/fixtures/llamacpp/") + file + ".gguf", 120, 11);
  }
}

// The same on files of every block type llama.cpp writes (the Q4_K_M mix
// holds Q4_K and Q6_K; the others one type each, and Q6_K's output).
TEST(ModelHostile, EditedHeadersOfEveryBlockTypeLoadOrFailWithAMessage) {
  for (const char* file : {"llama-q4_k_m", "llama-q5_k_m", "llama-q5_0", "llama-q5_1", "llama-q8_0", "llama-iq4_nl",
                           "llama-w192-q4_k_m"}) {
    SCOPED_TRACE(file);
    edit_headers_and_load(std::string("tests/fixtures/llamacpp/") + file + ".gguf", 40, 7);
  }
}

// A block scale (d or dmin; Q6_K's d ends its block) set to infinity or NaN:
// the load fails naming the tensor, for every block type.
TEST(ModelHostile, NonFiniteBlockScalesAreRefusedNamingTheTensor) {
  struct Case { const char* file; const char* tensor; int scale; uint16_t value; };
  const Case cases[] = {
      {"llama-q4_k_m", "blk.0.attn_q.weight", 0, 0x7c00},   // Q4_K d = +inf
      {"llama-q4_k_m", "blk.1.ffn_down.weight", 0, 0xfe00}, // Q6_K d (at byte 208) = NaN
      {"llama-q5_k_m", "blk.0.ffn_up.weight", 1, 0xfc00},   // Q5_K dmin = −inf
      {"llama-q5_1", "blk.1.attn_k.weight", 1, 0x7e00},     // Q5_1 m = NaN
      {"llama-q5_0", "blk.0.attn_output.weight", 0, 0x7c00},
      {"llama-q8_0", "blk.0.ffn_gate.weight", 0, 0x7c01},
      {"llama-iq4_nl", "blk.1.attn_v.weight", 0, 0x7c00},
      {"llama-q4_0", "token_embd.weight", 0, 0x7c00},       // Q6_K, the output
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(c.file) + " " + c.tensor);
    std::vector<uint8_t> bytes = read_fixture(std::string("tests/fixtures/llamacpp/") + c.file + ".gguf");
    GgufFile parsed;
    ASSERT_TRUE(GgufFile::Parse(bytes.data(), bytes.size(), bytes.size(), &parsed).ok());
    const GgufTensorInfo* t = parsed.find_tensor(c.tensor);
    ASSERT_NE(t, nullptr);
    const TensorTypeInfo& type = *tensor_type_info(t->type);
    const int64_t block = 3, per_row = t->shape[0] / type.block_size;
    std::memcpy(&bytes[t->offset + size_t(block) * type.block_bytes + type.fp16_scales_offset + 2 * c.scale], &c.value, 2);
    LoadOptions options;
    ModelLoader loader(options, bytes.size());
    Status s = loader.feed(bytes.data(), bytes.size());
    std::unique_ptr<Model> model;
    if (s.ok()) s = loader.finish(&model);
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.message(), std::string("tensor ") + c.tensor + " (" + type.name + ") has a NaN or infinite scale in block " +
                               std::to_string(block % per_row) + " of row " + std::to_string(block / per_row) +
                               "; the file is corrupt");
  }
}

}  // namespace
}  // namespace nibble
