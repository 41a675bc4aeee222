// The loader's memory limit (LoadOptions::memory_limit, set to the wasm
// heap's maximum by the JS API): a model whose load would pass it fails once
// its header is read, before any tensor is allocated, with a message that
// says what it needs and what the limit is; one that fits loads. The need
// counted is at least the weights the loaded model holds.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <memory>
#include <regex>
#include <string>
#include <vector>

#include "model/model_loader.h"
#include "runtime/decimal_text.h"
#include "support/fixture_util.h"

namespace nibble {
namespace {

struct Attempt {
  Status feed;    // the status of feeding the whole file at once
  Status finish;  // of finish(), when the feed went through
  std::unique_ptr<Model> model;
};

Attempt load(const std::vector<uint8_t>& bytes, TensorType weights, uint64_t limit, uint64_t in_use) {
  LoadOptions options;
  options.weights = weights;
  options.memory_limit = limit;
  options.memory_in_use = in_use;
  ModelLoader loader(options, bytes.size());
  Attempt a;
  a.feed = loader.feed(bytes.data(), bytes.size());
  if (a.feed.ok()) a.finish = loader.finish(&a.model);
  return a;
}

TEST(ModelMemory, AModelOverTheLimitFailsWithItsNeedAndTheLimit) {
  const std::vector<uint8_t> bytes = read_fixture("models/stories260K.gguf");
  for (TensorType weights : {TensorType::F32, TensorType::Q4_0}) {
    const Attempt free_load = load(bytes, weights, 0, 0);
    ASSERT_TRUE(free_load.feed.ok() && free_load.finish.ok()) << free_load.feed.message() << free_load.finish.message();
    const uint64_t loaded = free_load.model->info.loaded_bytes;
    SCOPED_TRACE(std::string(tensor_type_info(weights)->name) + ", loaded " + std::to_string(loaded) + " bytes");

    // Exactly the weights' bytes is too little: the vocabulary and one
    // tensor's staging come on top.
    const Attempt tight = load(bytes, weights, loaded, 0);
    ASSERT_FALSE(tight.feed.ok());
    EXPECT_EQ(tight.feed.kind(), ErrorKind::kResource);
    const std::regex message("the model needs (\\d+\\.\\d\\d) GiB of memory to load \\((\\d+\\.\\d\\d) GiB held with its "
                             "matrices as [a-z0-9_]+, plus \\d+\\.\\d\\d GiB while converting\\), but the heap is "
                             "limited to 0\\.00 GiB \\(0\\.00 GiB free\\); load a smaller model or a more compact "
                             "weights type");
    EXPECT_TRUE(std::regex_match(tight.feed.message(), message)) << tight.feed.message();

    // What the heap already holds counts against the limit.
    const uint64_t roomy = loaded * 4 + bytes.size();
    EXPECT_TRUE(load(bytes, weights, roomy, 0).finish.ok());
    EXPECT_FALSE(load(bytes, weights, roomy, roomy - loaded).feed.ok());
  }
}

TEST(ModelMemory, TheNeedSaysGiBAndTheLimitAsGiven) {
  const std::vector<uint8_t> bytes = read_fixture("models/stories260K.gguf");
  const uint64_t gib = 1ull << 30;
  const Attempt a = load(bytes, TensorType::F32, 4 * gib, 4 * gib - 1000);
  ASSERT_FALSE(a.feed.ok());
  EXPECT_NE(a.feed.message().find("but the heap is limited to 4.00 GiB (0.00 GiB free)"), std::string::npos)
      << a.feed.message();
}

// The messages' numbers (GiB, and a bad RoPE base or epsilon) are written
// without printf: as %.Nf would write them.
TEST(ModelMemory, DecimalTextWritesWhatPrintfWould) {
  EXPECT_EQ(decimal_text(2.456, 2), "2.46");
  EXPECT_EQ(decimal_text(4.0, 2), "4.00");
  EXPECT_EQ(decimal_text(0.004, 2), "0.00");
  EXPECT_EQ(decimal_text(0.0501, 2), "0.05");
  EXPECT_EQ(decimal_text(-1.0, 6), "-1.000000");
  EXPECT_EQ(decimal_text(double(1e-5f), 6), "0.000010");
  EXPECT_EQ(decimal_text(10000.0, 0), "10000");
  EXPECT_EQ(decimal_text(std::nan(""), 6), "nan");
  EXPECT_EQ(decimal_text(-INFINITY, 6), "-inf");
  EXPECT_EQ(decimal_text(3e30, 6), "1e+30");
}

// Integers in messages (sizes, counts, token ids) as std::to_string writes
// them, also without printf.
TEST(ModelMemory, IntegerTextWritesWhatToStringWould) {
  EXPECT_EQ(integer_text(0), "0");
  EXPECT_EQ(integer_text(7), "7");
  EXPECT_EQ(integer_text(-42), "-42");
  EXPECT_EQ(integer_text(size_t(4096)), "4096");
  EXPECT_EQ(integer_text(INT64_MIN), "-9223372036854775808");
  EXPECT_EQ(integer_text(INT64_MAX), "9223372036854775807");
  EXPECT_EQ(integer_text(UINT64_MAX), "18446744073709551615");
  EXPECT_EQ(integer_text(uint8_t(200)), "200");
  EXPECT_EQ(integer_text(int8_t(-128)), "-128");
  for (int64_t v : {int64_t(1), int64_t(-1), int64_t(10), int64_t(-99), int64_t(123456789012), int64_t(1) << 40})
    EXPECT_EQ(integer_text(v), std::to_string(v));
}

}  // namespace
}  // namespace nibble
