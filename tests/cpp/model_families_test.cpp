// Every architecture row against llama.cpp: the F16 fixtures of
// tests/fixtures/llamacpp (qwen2, qwen3, gemma2, gemma3, phi3 and Llama 3's
// rope_freqs), loaded at f32 (the F16 weights exactly), give llama.cpp's
// logits at all 16 positions within the F16 limits of the fixtures' README
// (max |Δ| 0.05, mean KL 2e-5, KL at every position 1e-4), in one batch and
// token by token through the KV cache. Measured: max |Δ| 0.008-0.016, mean
// KL ≤ 4.1e-6. The smallest mistake a family can make (a missing soft-cap,
// the wrong RoPE base on local layers ...) moves the logits by ≥ 1.
// The hostile half: every new hyperparameter is checked before use.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "format/gguf.h"
#include "model/llama_model.h"
#include "model_test_util.h"
#include "support/fixture_util.h"

namespace nibble {
namespace {

std::string fixture(const std::string& name) {
  return std::string(NIBBLE_SOURCE_DIR) + "/tests/fixtures/llamacpp/" + name;
}

struct Agreement {
  double max_abs = 0, mean_kl = 0, max_kl = 0;
};


// nibble's logits [positions, vocab] against the reference's; a NaN logit
// makes every figure NaN, which fails every bound.
Agreement compare(const std::vector<float>& got, const std::vector<double>& want, int vocab) {
  Agreement a;
  const size_t positions = want.size() / size_t(vocab);
  for (size_t p = 0; p < positions; ++p) {
    const std::vector<double> w(want.begin() + p * vocab, want.begin() + (p + 1) * vocab);
    const std::vector<double> g(got.begin() + p * vocab, got.begin() + (p + 1) * vocab);
    for (int v = 0; v < vocab; ++v) a.max_abs = sticky_max(a.max_abs, std::fabs(w[v] - g[v]));
    const double kl = kl_divergence_from_logits(w, g);
    a.mean_kl += kl / double(positions);
    a.max_kl = sticky_max(a.max_kl, kl);
  }
  return a;
}

class Family : public ::testing::TestWithParam<const char*> {};

TEST_P(Family, MatchesLlamaCppLogits) {
  const std::string name = GetParam();
  const std::unique_ptr<Model> model = load_model_file(fixture(name + "-f16.gguf"), "", TensorType::F32, 1 << 16);
  ASSERT_NE(model, nullptr);
  EXPECT_EQ(model->info.architecture, name == "llama-rope-freqs" ? "llama" : name);
  const std::string json = read_text(fixture(name + "-f16.logits.json"));
  const std::vector<int32_t> tokens = json_ints_after(json, "\"tokens\"", 0);
  ASSERT_EQ(tokens.size(), 16u);
  const int vocab = model->config.vocab_size;
  // "logits": [[512 numbers] × 16]: row p is the array after row p − 1's.
  std::vector<double> want;
  size_t at = json.find("\"logits\"");
  ASSERT_NE(at, std::string::npos);
  at = json.find('[', at) + 1;  // inside the outer array
  for (size_t p = 0; p < tokens.size(); ++p) {
    const std::vector<double> row = json_numbers_after(json, "[", at);
    ASSERT_EQ(row.size(), size_t(vocab)) << "position " << p;
    want.insert(want.end(), row.begin(), row.end());
    at = json.find(']', json.find('[', at)) + 1;
  }

  for (const bool one_by_one : {false, true}) {
    SCOPED_TRACE(one_by_one ? "token by token" : "one batch");
    LlamaState state(*model->llama, 32, 16);
    std::vector<float> got(tokens.size() * size_t(vocab));
    for (size_t t = 0; t < tokens.size(); t += one_by_one ? 1 : tokens.size()) {
      const int n = one_by_one ? 1 : int(tokens.size());
      ASSERT_TRUE(state.forward(&tokens[t], n, &got[t * vocab], true, Precision::kW4A32, nullptr).ok());
    }
    const Agreement a = compare(got, want, vocab);
    EXPECT_LE(a.max_abs, 0.05);
    EXPECT_LE(a.mean_kl, 2e-5);
    EXPECT_LE(a.max_kl, 1e-4);
  }
}

INSTANTIATE_TEST_SUITE_P(LlamaCppFixtures, Family,
                         ::testing::Values("llama-rope-freqs", "qwen2", "qwen3", "gemma2", "gemma3", "phi3"),
                         [](const ::testing::TestParamInfo<const char*>& info) {
                           std::string s = info.param;
                           for (char& c : s) c = c == '-' ? '_' : c;
                           return s;
                         });

// A fixture rewritten by our writer with one metadata value changed.
std::vector<uint8_t> with_value(const std::string& file_name, const std::string& key, const GgufValue& value) {
  const std::vector<uint8_t> base = read_fixture("tests/fixtures/llamacpp/" + file_name);
  GgufFile file;
  EXPECT_TRUE(GgufFile::Parse(base.data(), base.size(), base.size(), &file).ok());
  GgufWriter writer;
  for (const std::string& k : file.metadata_keys()) writer.set_value(k, *file.find(k));
  writer.set_value(key, value);
  for (const GgufTensorInfo& t : file.tensors())
    EXPECT_TRUE(writer.add_tensor(t.name, t.type, t.shape, base.data() + t.offset, t.bytes).ok());
  return writer.serialize();
}

GgufValue u32(int64_t v) {
  GgufValue g;
  g.type = GgufType::UINT32;
  g.i = v;
  return g;
}
GgufValue f32(double v) {
  GgufValue g;
  g.type = GgufType::FLOAT32;
  g.f = v;
  return g;
}

void expect_refused(const std::vector<uint8_t>& bytes, const std::string& substring) {
  LoadOptions options;
  ModelLoader loader(options, bytes.size());
  Status s = loader.feed(bytes.data(), bytes.size());
  std::unique_ptr<Model> model;
  if (s.ok()) s = loader.finish(&model);
  ASSERT_FALSE(s.ok()) << "expected: " << substring;
  EXPECT_NE(s.message().find(substring), std::string::npos) << s.message();
}

TEST(FamilyHostile, NewHyperparametersAreChecked) {
  expect_refused(with_value("gemma2-f16.gguf", "gemma2.attention.sliding_window", u32(0)),
                 "gemma2.attention.sliding_window = 0 is out of range");
  expect_refused(with_value("gemma3-f16.gguf", "gemma3.attention.sliding_window_pattern", u32(0)),
                 "gemma3.attention.sliding_window_pattern = 0 is out of range");
  expect_refused(with_value("gemma2-f16.gguf", "gemma2.attn_logit_softcapping", f32(-5)),
                 "attention soft-cap must be a finite number >= 0");
  expect_refused(with_value("gemma2-f16.gguf", "gemma2.final_logit_softcapping", f32(1.0 / 0.0)),
                 "final logit soft-cap must be a finite number >= 0");
  expect_refused(with_value("qwen3-f16.gguf", "qwen3.attention.value_length", u32(32)),
                 "attention value length 32 differs from the key length 64");
  expect_refused(with_value("qwen3-f16.gguf", "qwen3.attention.key_length", u32(48)),
                 "attention value length 64 differs from the key length 48");
  // Head counts the tensors do not have: the shapes say so.
  expect_refused(with_value("qwen2-f16.gguf", "qwen2.attention.head_count", u32(3)),
                 "tensor blk.0.attn_q.weight has shape [128, 128] but the hyperparameters say [128, 192]");
  expect_refused(with_value("llama-rope-freqs-f16.gguf", "llama.rope.dimension_count", u32(48)),
                 "tensor rope_freqs.weight has shape");
}

}  // namespace
}  // namespace nibble
