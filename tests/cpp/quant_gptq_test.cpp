// Output-aware quantization (quant/gptq.h, model/calibrated_quantize.h): the
// inverse Hessian's factor, a lower output error ‖(W − Q(W))·X‖ than
// round-to-nearest on inputs with uneven columns, and a whole model
// quantized on calibration windows that writes a standard GGUF file our
// loader reads back with the asked types.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <vector>

#include "format/gguf.h"
#include "model/calibrated_quantize.h"
#include "model_test_util.h"
#include "quant/gptq.h"
#include "quant/quantize.h"
#include "quant_test_data.h"

namespace nibble {
namespace {

using testdata::Rng;

constexpr int64_t kRows = 24, kCols = 96, kInputs = 400;

// X[kInputs, kCols]: columns of very different scales (a few large, as
// activations after a norm have), plus a shared component (correlated columns).
std::vector<float> calibration_inputs(Rng& rng) {
  std::vector<float> scale(kCols);
  for (int64_t j = 0; j < kCols; ++j) scale[size_t(j)] = j % 11 == 0 ? 8.0f : rng.uniform(0.2f, 1.5f);
  std::vector<float> x(size_t(kInputs * kCols));
  for (int64_t i = 0; i < kInputs; ++i) {
    const float shared = rng.normal();
    for (int64_t j = 0; j < kCols; ++j) x[size_t(i * kCols + j)] = scale[size_t(j)] * (rng.normal() + 0.5f * shared);
  }
  return x;
}

std::vector<double> hessian_of(const std::vector<float>& x) {
  std::vector<double> h(size_t(kCols * kCols), 0.0);  // [kCols, kCols]
  for (int64_t i = 0; i < kInputs; ++i)
    for (int64_t a = 0; a < kCols; ++a)
      for (int64_t b = 0; b < kCols; ++b) h[size_t(a * kCols + b)] += double(x[size_t(i * kCols + a)]) * x[size_t(i * kCols + b)];
  return h;
}

// Σ over inputs and rows of ((W − Q)·x)², Q the dequantized blocks.
double output_error(TensorType type, const std::vector<float>& w, const std::vector<uint8_t>& blocks,
                    const std::vector<float>& x) {
  std::vector<float> q(w.size());
  EXPECT_TRUE(dequantize_matrix(type, blocks.data(), blocks.size(), kRows, kCols, q.data()).ok());
  double total = 0;
  for (int64_t i = 0; i < kInputs; ++i)
    for (int64_t r = 0; r < kRows; ++r) {
      double y = 0;
      for (int64_t j = 0; j < kCols; ++j) y += double(w[size_t(r * kCols + j)] - q[size_t(r * kCols + j)]) * x[size_t(i * kCols + j)];
      total += y * y;
    }
  return total;
}

TEST(Gptq, InverseFactorIsTheCholeskyFactorOfTheInverse) {
  Rng rng(5);
  const std::vector<double> h = hessian_of(calibration_inputs(rng));
  std::vector<double> u;
  ASSERT_TRUE(gptq_inverse_factor(h.data(), kCols, 0.0, &u).ok());
  // (UᵀU)·H = I, and U is upper triangular.
  double worst = 0;
  for (int64_t i = 0; i < kCols; ++i)
    for (int64_t j = 0; j < kCols; ++j) {
      if (j < i) {
        ASSERT_EQ(u[size_t(i * kCols + j)], 0.0) << "U[" << i << "," << j << "]";
      }
      double s = 0;
      for (int64_t k = 0; k < kCols; ++k) {
        double inv_ik = 0;  // (UᵀU)[i,k]
        for (int64_t m = 0; m <= std::min(i, k); ++m) inv_ik += u[size_t(m * kCols + i)] * u[size_t(m * kCols + k)];
        s += inv_ik * h[size_t(k * kCols + j)];
      }
      worst = sticky_max(worst, std::fabs(s - (i == j ? 1.0 : 0.0)));
    }
  EXPECT_LT(worst, 1e-8);
}

TEST(Gptq, ColumnsNoInputReachedStillFactor) {
  std::vector<double> h(size_t(kCols * kCols), 0.0);  // all inputs zero
  std::vector<double> u;
  ASSERT_TRUE(gptq_inverse_factor(h.data(), kCols, 0.01, &u).ok());
  for (int64_t i = 0; i < kCols; ++i) EXPECT_GT(u[size_t(i * kCols + i)], 0.0) << "column " << i;
}

class GptqOutputError : public ::testing::TestWithParam<TensorType> {};

TEST_P(GptqOutputError, BelowRoundToNearestOnTheCalibrationInputs) {
  const TensorType type = GetParam();
  Rng rng(11);
  const std::vector<float> x = calibration_inputs(rng);
  std::vector<float> w(size_t(kRows * kCols));
  for (float& v : w) v = rng.student_t3() * 0.05f;
  std::vector<double> u;
  ASSERT_TRUE(gptq_inverse_factor(hessian_of(x).data(), kCols, 0.01, &u).ok());
  const size_t bytes = size_t(kRows) * row_size(type, kCols);
  std::vector<uint8_t> rtn(bytes), gptq(bytes);
  ASSERT_TRUE(quantize_matrix(type, w.data(), kRows, kCols, QuantizeOptions(), rtn.data(), bytes).ok());
  const std::vector<double> h = hessian_of(x);
  std::vector<uint8_t> refined(bytes);
  ASSERT_TRUE(quantize_matrix_gptq(type, w.data(), kRows, kCols, nullptr, u, gptq.data(), bytes).ok());
  ASSERT_TRUE(quantize_matrix_gptq(type, w.data(), kRows, kCols, h.data(), u, refined.data(), bytes).ok());
  const double e_rtn = output_error(type, w, rtn, x), e_gptq = output_error(type, w, gptq, x);
  const double e_refined = output_error(type, w, refined, x);
  EXPECT_LT(e_gptq, 0.6 * e_rtn) << block_traits(type)->name << ": RTN " << e_rtn << ", GPTQ " << e_gptq;
  EXPECT_LE(e_refined, e_gptq) << block_traits(type)->name << ": GPTQ " << e_gptq << ", refined " << e_refined;
  std::printf("%s output error: RTN %.4g, GPTQ %.4g (%.2fx), refined %.4g (%.2fx)\n", block_traits(type)->name, e_rtn,
              e_gptq, e_gptq / e_rtn, e_refined, e_refined / e_rtn);
}

INSTANTIATE_TEST_SUITE_P(FourBit, GptqOutputError, ::testing::Values(TensorType::Q4_0, TensorType::IQ4_NL),
                         [](const ::testing::TestParamInfo<TensorType>& info) {
                           return std::string(block_traits(info.param)->name);
                         });

TEST(Gptq, RefusesOtherTypesAndRaggedRows) {
  std::vector<float> w(size_t(2 * 48), 0.5f);
  std::vector<double> u(48 * 48, 0.0);
  std::vector<uint8_t> out(1024);
  EXPECT_FALSE(quantize_matrix_gptq(TensorType::Q4_1, w.data(), 2, 32, nullptr, u, out.data(), out.size()).ok());
  EXPECT_FALSE(quantize_matrix_gptq(TensorType::Q4_0, w.data(), 2, 48, nullptr, u, out.data(), out.size()).ok());
}

// stories260K, two short calibration windows: every 64-wide matrix Q4_0
// (the 172-wide ffn_down F32), in a file our loader reads.
TEST(CalibratedQuantizer, WritesAStandardFileOfTheAskedType) {
  std::unique_ptr<Model> model = load_model_file(model_path("stories260K.gguf"), "", TensorType::F32, 1 << 20);
  ASSERT_TRUE(model);
  CalibratedQuantizer q(model.get(), TensorType::Q4_0);
  ASSERT_TRUE(q.check().ok());
  const std::vector<int32_t> ids = model->tokenizer->encode("Once upon a time, there was a little girl named Lily. She liked to play.", true);
  ASSERT_GE(ids.size(), 16u);
  ASSERT_TRUE(q.add_window(ids.data(), int(ids.size())).ok());
  ASSERT_TRUE(q.add_window(ids.data(), 8).ok());
  int steps = 0;
  while (!q.done()) {
    ASSERT_TRUE(q.step(nullptr).ok());
    ++steps;
  }
  EXPECT_EQ(steps, q.stages() * 2);
  EXPECT_DOUBLE_EQ(q.progress(), 1.0);
  std::vector<uint8_t> file;
  ASSERT_TRUE(q.write_gguf(&file).ok());

  ASSERT_GE(file.size(), 8u);
  EXPECT_EQ(std::memcmp(file.data(), "GGUF", 4), 0);
  uint32_t version = 0;
  std::memcpy(&version, file.data() + 4, 4);
  EXPECT_EQ(version, 3u);
  GgufFile gguf;
  ASSERT_TRUE(GgufFile::Parse(file.data(), file.size(), file.size(), &gguf).ok());
  int q4 = 0;
  for (const GgufTensorInfo& t : gguf.tensors()) {
    EXPECT_EQ(t.offset % gguf.alignment(), 0u) << t.name;
    if (t.shape.size() != 2) continue;
    const bool ragged = t.shape[0] % 32 != 0;
    EXPECT_EQ(t.type, ragged ? TensorType::F32 : TensorType::Q4_0) << t.name;
    EXPECT_EQ(t.bytes, uint64_t(t.shape[1]) * row_size(t.type, t.shape[0])) << t.name;
    q4 += !ragged;
  }
  EXPECT_EQ(q4, 2 + 6 * model->config.n_layers);  // token_embd, output, and six per layer
  int64_t file_type = 0;
  ASSERT_TRUE(gguf.get_int("general.file_type", &file_type).ok());
  EXPECT_EQ(file_type, 2);  // LLAMA_FTYPE_MOSTLY_Q4_0

  LoadOptions options;
  ModelLoader loader(options, file.size());
  ASSERT_TRUE(loader.feed(file.data(), file.size()).ok());
  std::unique_ptr<Model> loaded;
  ASSERT_TRUE(loader.finish(&loaded).ok());
  EXPECT_EQ(loaded->info.weight_type, "q4_0");
}

TEST(CalibratedQuantizer, NeedsF32Weights) {
  std::unique_ptr<Model> model = load_model_file(model_path("stories260K.gguf"), "", TensorType::Q4_0, 1 << 20);
  ASSERT_TRUE(model);
  EXPECT_FALSE(CalibratedQuantizer(model.get(), TensorType::Q4_0).check().ok());
}

}  // namespace
}  // namespace nibble
