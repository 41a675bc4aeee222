// Quantization mixes end to end against llama.cpp: llama-f16.gguf and
// llama-w192-f16.gguf loaded with each mix of the llama.cpp fixtures and
// written back (what `nibble quantize --type <mix>` does) give every tensor
// the type llama-quantize gave it, with the same bytes, and the same
// general.file_type. Also the rules one by one (quant_mix.h).
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "format/gguf.h"
#include "model/model_loader.h"
#include "model/model_writer.h"
#include "model/quant_mix.h"
#include "support/fixture_util.h"

namespace nibble {
namespace {

const std::string kDir = "tests/fixtures/llamacpp/";

// The file `source` loaded with `mix` (or, if null, `weights`) and written.
std::vector<uint8_t> quantize_file(const std::vector<uint8_t>& source, const QuantMix* mix, TensorType weights) {
  LoadOptions options;
  options.mix = mix;
  options.weights = weights;
  ModelLoader loader(options, source.size());
  std::unique_ptr<Model> model;
  Status s = loader.feed(source.data(), source.size());
  if (s.ok()) s = loader.finish(&model);
  std::vector<uint8_t> out;
  if (s.ok()) s = write_model_gguf(*model, &out);
  EXPECT_TRUE(s.ok()) << s.message();
  return out;
}

void expect_same_tensors(const std::vector<uint8_t>& got_bytes, const std::string& want_name) {
  const std::vector<uint8_t> want_bytes = read_fixture(kDir + want_name);
  GgufFile got, want;
  ASSERT_TRUE(GgufFile::Parse(got_bytes.data(), got_bytes.size(), got_bytes.size(), &got).ok());
  ASSERT_TRUE(GgufFile::Parse(want_bytes.data(), want_bytes.size(), want_bytes.size(), &want).ok());
  int64_t got_type = -1, want_type = -2;
  EXPECT_TRUE(got.get_int("general.file_type", &got_type).ok());
  EXPECT_TRUE(want.get_int("general.file_type", &want_type).ok());
  EXPECT_EQ(got_type, want_type) << "general.file_type";
  EXPECT_EQ(got.tensors().size(), want.tensors().size());
  for (const GgufTensorInfo& w : want.tensors()) {
    const GgufTensorInfo* g = got.find_tensor(w.name);
    if (g == nullptr) {
      ADD_FAILURE() << w.name << " is missing";
      continue;
    }
    EXPECT_EQ(tensor_type_info(g->type)->name, std::string(tensor_type_info(w.type)->name)) << w.name;
    EXPECT_TRUE(g->bytes == w.bytes &&
                std::equal(want_bytes.begin() + w.offset, want_bytes.begin() + w.offset + w.bytes,
                           got_bytes.begin() + g->offset))
        << w.name << ": the bytes differ from llama-quantize's";
  }
}

TEST(QuantMix, EveryFixtureMixMatchesLlamaQuantize) {
  const std::vector<uint8_t> f16 = read_fixture(kDir + "llama-f16.gguf");
  for (const char* mix : {"q4_0", "q4_1", "q5_0", "q5_1", "q8_0", "q6_k", "iq4_nl", "q4_k_m", "q4_k_s", "q5_k_m"}) {
    SCOPED_TRACE(mix);
    const QuantMix* m = find_quant_mix(mix);
    ASSERT_NE(m, nullptr);
    expect_same_tensors(quantize_file(f16, m, m->base), "llama-" + std::string(mix) + ".gguf");
  }
  // Rows of 192 and 384: Q4_K falls back to Q5_0, Q6_K (output, more-bits layers) to Q8_0.
  const std::vector<uint8_t> w192 = read_fixture(kDir + "llama-w192-f16.gguf");
  expect_same_tensors(quantize_file(w192, find_quant_mix("q4_k_m"), TensorType::Q4_K), "llama-w192-q4_k_m.gguf");
}

TEST(QuantMix, PureGivesEveryMatrixTheBaseType) {
  const std::vector<uint8_t> f16 = read_fixture(kDir + "llama-f16.gguf");
  const std::vector<uint8_t> out = quantize_file(f16, nullptr, TensorType::Q4_K);
  GgufFile file;
  ASSERT_TRUE(GgufFile::Parse(out.data(), out.size(), out.size(), &file).ok());
  int matrices = 0;
  for (const GgufTensorInfo& t : file.tensors()) {
    if (t.shape.size() != 2) continue;
    ++matrices;
    EXPECT_EQ(t.type, TensorType::Q4_K) << t.name;
  }
  EXPECT_EQ(matrices, 15);
}

TEST(QuantMix, Rules) {
  LlamaConfig c;
  c.n_layers = 32;
  c.n_heads = 32;
  c.n_kv_heads = 8;
  const QuantMix& m = *find_quant_mix("Q4_K_M");
  auto type = [&](const QuantMix& mix, TensorSlot slot, int layer, bool tied = false, int64_t K = 4096) {
    return quant_mix_type(mix, slot, layer, K, "llama", c, tied);
  };
  // use_more_bits(i, 32): i < 4, i >= 28, (i − 4) % 3 == 2.
  std::string more;
  for (int i = 0; i < 32; ++i) more += type(m, TensorSlot::kAttnV, i) == TensorType::Q6_K ? '6' : '4';
  EXPECT_EQ(more, "66664464464464464464464464466666");
  EXPECT_EQ(type(m, TensorSlot::kFfnDown, 6), TensorType::Q6_K);
  EXPECT_EQ(type(m, TensorSlot::kFfnDown, 7), TensorType::Q4_K);
  EXPECT_EQ(type(m, TensorSlot::kFfnUp, 0), TensorType::Q4_K);
  EXPECT_EQ(type(m, TensorSlot::kOutput, -1), TensorType::Q6_K);
  EXPECT_EQ(type(m, TensorSlot::kTokenEmbedding, -1), TensorType::Q4_K);
  EXPECT_EQ(type(m, TensorSlot::kTokenEmbedding, -1, true), TensorType::Q6_K);
  EXPECT_EQ(type(m, TensorSlot::kOutput, -1, false, 896), TensorType::Q8_0);
  EXPECT_EQ(type(*find_quant_mix("q8_0"), TensorSlot::kOutput, -1), TensorType::Q8_0);
  EXPECT_EQ(type(*find_quant_mix("q4_0"), TensorSlot::kOutput, -1), TensorType::Q6_K);
  const QuantMix& s = *find_quant_mix("q4_k_s");
  EXPECT_EQ(type(s, TensorSlot::kAttnV, 3), TensorType::Q5_K);
  EXPECT_EQ(type(s, TensorSlot::kAttnV, 4), TensorType::Q4_K);
  EXPECT_EQ(type(s, TensorSlot::kFfnDown, 3), TensorType::Q5_K);
  EXPECT_EQ(type(s, TensorSlot::kFfnDown, 4), TensorType::Q4_K);
  const QuantMix& nl = *find_quant_mix("iq4_nl");
  EXPECT_EQ(type(nl, TensorSlot::kAttnV, 9), TensorType::Q5_K);  // 32 / 8 heads: GQA 4
  c.n_kv_heads = 16;
  EXPECT_EQ(type(nl, TensorSlot::kAttnV, 9), TensorType::IQ4_NL);
  // With an importance matrix, ffn_down of layers below 32 / 8.
  auto with_importance = [&](const char* mix, int layer) {
    return quant_mix_type(*find_quant_mix(mix), TensorSlot::kFfnDown, layer, 4096, "llama", c, false, true);
  };
  EXPECT_EQ(type(*find_quant_mix("q4_0"), TensorSlot::kFfnDown, 3), TensorType::Q4_0);
  EXPECT_EQ(with_importance("q4_0", 3), TensorType::Q4_1);
  EXPECT_EQ(with_importance("q4_0", 4), TensorType::Q4_0);
  EXPECT_EQ(with_importance("q5_0", 0), TensorType::Q5_1);
  EXPECT_EQ(type(nl, TensorSlot::kFfnDown, 3), TensorType::Q5_K);
  EXPECT_EQ(with_importance("iq4_nl", 3), TensorType::IQ4_NL);
  EXPECT_EQ(with_importance("q4_k_m", 3), TensorType::Q6_K);
  EXPECT_EQ(with_importance("q4_k_s", 3), TensorType::Q5_K);
  // LLaMA-70B: attn_v Q4_K -> Q5_K.
  c.n_layers = 80;
  EXPECT_EQ(type(m, TensorSlot::kAttnV, 20), TensorType::Q5_K);
  EXPECT_EQ(quant_mix_type(m, TensorSlot::kAttnV, 20, 8192, "qwen2", c, false), TensorType::Q4_K);

  EXPECT_EQ(fallback_type(TensorType::Q4_K, 896), TensorType::Q5_0);
  EXPECT_EQ(fallback_type(TensorType::Q5_K, 576), TensorType::Q5_1);
  EXPECT_EQ(fallback_type(TensorType::Q6_K, 576), TensorType::Q8_0);
  EXPECT_EQ(fallback_type(TensorType::Q4_K, 4096), TensorType::Q4_K);
  EXPECT_EQ(fallback_type(TensorType::Q4_0, 100), TensorType::F32);
  EXPECT_EQ(fallback_type(TensorType::Q6_K, 100), TensorType::F32);
  EXPECT_EQ(find_quant_mix("q3_k_m"), nullptr);
  EXPECT_EQ(quant_mix_names(false).substr(0, 10), "q4_0, q4_1");
}

}  // namespace
}  // namespace nibble
