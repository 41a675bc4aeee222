// The model loader on hostile GGUF files: seeded random edits of the bundled
// stories260K.gguf's header (metadata, tokenizer, tensor table), fed in
// random chunks. Every file either loads, tokenizes and generates, or fails
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

TEST(ModelHostile, EditedGgufHeadersLoadOrFailWithAMessage) {
  const std::vector<uint8_t> base = read_fixture("models/stories260K.gguf");
  GgufFile parsed;
  ASSERT_TRUE(GgufFile::Parse(base.data(), base.size(), base.size(), &parsed).ok());
  const size_t header = size_t(parsed.data_offset());  // edits land before the tensor data

  std::mt19937 rng(4242);
  const uint8_t interesting[] = {0x00, 0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x7f, 0x80, 0xfe, 0xff};
  int loaded = 0, generated = 0;
  for (int iter = 0; iter < 1500; ++iter) {
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
    SCOPED_TRACE("iteration " + std::to_string(iter));
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

}  // namespace
}  // namespace nibble
