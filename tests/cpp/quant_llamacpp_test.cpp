// The round-to-nearest quantizers against llama.cpp's llama-quantize, byte
// for byte: every quantized tensor of the llama.cpp fixtures
// (tests/fixtures/llamacpp, made from llama-f16.gguf / llama-w192-f16.gguf)
// is quantized again here from the same F16 source, to the type the file
// holds it in, and must come out with exactly the file's bytes.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "format/gguf.h"
#include "quant/block_formats.h"
#include "quant/quantize.h"
#include "support/fixture_util.h"

namespace nibble {
namespace {

const char kDir[] = "tests/fixtures/llamacpp/";

struct Fixture {
  std::vector<uint8_t> bytes;
  GgufFile file;
};

Fixture load(const std::string& name) {
  Fixture f;
  f.bytes = read_fixture(kDir + name);
  const Status s = GgufFile::Parse(f.bytes.data(), f.bytes.size(), f.bytes.size(), &f.file);
  EXPECT_TRUE(s.ok()) << name << ": " << s.message();
  return f;
}

// The tensor's values as f32 (what llama-quantize quantizes from).
std::vector<float> values_of(const Fixture& f, const GgufTensorInfo& t) {
  const int64_t K = t.shape[0], rows = t.elements() / K;
  std::vector<float> v(size_t(t.elements()));
  const Status s = dequantize_matrix(t.type, f.bytes.data() + t.offset, size_t(t.bytes), rows, K, v.data());
  EXPECT_TRUE(s.ok()) << t.name << ": " << s.message();
  return v;
}

// Quantizes every tensor of `source` that `quantized` holds in a block type
// to that type; returns how many matched the file's bytes, and fails for
// each one that did not.
int expect_same_bytes(const std::string& source_name, const std::string& quantized_name) {
  const Fixture source = load(source_name), quantized = load(quantized_name);
  int matched = 0;
  for (const GgufTensorInfo& t : quantized.file.tensors()) {
    const BlockTraits* traits = block_traits(t.type);
    if (traits == nullptr || !traits->is_quantized) continue;
    const GgufTensorInfo* from = source.file.find_tensor(t.name);
    if (from == nullptr) {
      ADD_FAILURE() << quantized_name << ": " << t.name << " is not in " << source_name;
      continue;
    }
    const std::vector<float> x = values_of(source, *from);
    const int64_t K = t.shape[0], rows = t.elements() / K;
    std::vector<uint8_t> out(size_t(t.bytes));
    QuantizeOptions options;
    const Status s = quantize_matrix(t.type, x.data(), rows, K, options, out.data(), out.size());
    if (!s.ok()) {
      ADD_FAILURE() << t.name << ": " << s.message();
      continue;
    }
    const uint8_t* want = quantized.bytes.data() + t.offset;
    size_t first = 0;
    while (first < out.size() && out[first] == want[first]) ++first;
    if (first == out.size()) {
      ++matched;
    } else {
      const size_t block = first / traits->block_bytes;
      ADD_FAILURE() << quantized_name << ": " << t.name << " (" << traits->name << ", " << rows << " x " << K
                    << ") differs from llama-quantize's first at byte " << first << " (block " << block
                    << ", byte " << first % traits->block_bytes << " of it): got " << int(out[first])
                    << ", want " << int(want[first]);
    }
  }
  return matched;
}

struct QuantizedFile {
  const char* source;
  const char* file;
  int quantized_tensors;  // tensors of a block type in it
};

// Every fixture but llama-q3_k_m.gguf (Q3_K, which nibble does not write).
const QuantizedFile kFiles[] = {
    {"llama-f16.gguf", "llama-q4_0.gguf", 15},    {"llama-f16.gguf", "llama-q4_1.gguf", 15},
    {"llama-f16.gguf", "llama-q5_0.gguf", 15},    {"llama-f16.gguf", "llama-q5_1.gguf", 15},
    {"llama-f16.gguf", "llama-q8_0.gguf", 15},    {"llama-f16.gguf", "llama-q6_k.gguf", 15},
    {"llama-f16.gguf", "llama-iq4_nl.gguf", 15},  {"llama-f16.gguf", "llama-q4_k_m.gguf", 15},
    {"llama-f16.gguf", "llama-q4_k_s.gguf", 15},  {"llama-f16.gguf", "llama-q5_k_m.gguf", 15},
    {"llama-w192-f16.gguf", "llama-w192-q4_k_m.gguf", 15},
};

TEST(QuantizeLikeLlamaCpp, EveryTensorOfEveryFixtureIsByteIdentical) {
  for (const QuantizedFile& f : kFiles) {
    SCOPED_TRACE(f.file);
    EXPECT_EQ(expect_same_bytes(f.source, f.file), f.quantized_tensors);
  }
}

}  // namespace
}  // namespace nibble
