// W4A4's remedies on the bundled stories260K (F32) and the quality
// fixtures' imatrix: smoothing and rotation are exact in float, so with F32
// weights and f32 activations the remedied model's logits are the plain
// one's; a remedied INT4 file says it is rotated and reloads to the same
// W4A4 logits; channel means shift the inputs without changing the product; importance data weights the unrotated matrices only; GPTQ
// on rotated weights; the remedies refuse what they cannot fold. About 1 s
// of CPU natively, 3 s in the wasm SIMD build.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <random>
#include <vector>

#include "format/imatrix_gguf.h"
#include "kernels/matmul.h"
#include "model/importance.h"
#include "quant/block_formats.h"
#include "model/activation_remedy.h"
#include "model/calibrated_quantize.h"
#include "model/model_loader.h"
#include "model/importance.h"
#include "model/model_writer.h"
#include "quant/hadamard.h"
#include "model_test_util.h"
#include "support/fixture_util.h"

namespace nibble {
namespace {

constexpr int kTokens = 12;

std::unique_ptr<Model> load_bytes(const std::vector<uint8_t>& file, TensorType weights, const ImportanceMatrix* imatrix,
                                  ActivationRemedy remedy, Status* status) {
  LoadOptions options;
  options.weights = weights;
  options.importance = imatrix;
  ModelLoader loader(options, file.size());
  std::unique_ptr<Model> model;
  *status = loader.set_remedy(remedy);
  if (status->ok()) *status = loader.feed(file.data(), file.size());
  if (status->ok()) *status = loader.finish(&model);
  return model;
}

std::vector<float> logits(const Model& model, Precision precision) {
  const std::vector<int32_t> ids = model.tokenizer->encode("Once upon a time, a little girl named Lily", true);
  EXPECT_GE(ids.size(), size_t(kTokens));
  LlamaState state(*model.llama, 64, 16);
  std::vector<float> out(size_t(kTokens) * size_t(model.config.vocab_size));
  EXPECT_TRUE(state.forward(ids.data(), kTokens, out.data(), true, precision, nullptr).ok());
  return out;
}

// GPTQ (Q4_0) of a float model calibrated on ids[kTokens], as a file;
// empty on failure.
std::vector<uint8_t> gptq_file(Model* model, const std::vector<int32_t>& ids) {
  CalibratedQuantizer q(model, TensorType::Q4_0);
  std::vector<uint8_t> file;
  Status s = q.add_window(ids.data(), kTokens);
  while (s.ok() && !q.done()) s = q.step(nullptr);
  if (s.ok()) s = q.write_gguf(&file);
  EXPECT_TRUE(s.ok()) << s.message();
  return s.ok() ? file : std::vector<uint8_t>();
}

struct Fixture {
  std::vector<uint8_t> file = read_fixture("models/stories260K.gguf");
  ImportanceMatrix imatrix;
  Fixture() {
    const std::vector<uint8_t> bytes = read_fixture("tests/fixtures/quality/imatrix.gguf");
    EXPECT_TRUE(read_imatrix_gguf(bytes.data(), bytes.size(), &imatrix).ok());
  }
};

// The F32 model's importance data (Σx², Σx) of its first kTokens tokens of
// a short text (*ids).
ImportanceMatrix channel_means(const Fixture& f, std::vector<int32_t>* ids) {
  Status s;
  const std::unique_ptr<Model> plain = load_bytes(f.file, TensorType::F32, nullptr, {}, &s);
  EXPECT_TRUE(s.ok()) << s.message();
  ImportanceCollector collector(*plain);
  LlamaState state(*plain->llama, 64, 16);
  state.set_observer(&collector);
  *ids = plain->tokenizer->encode("Once upon a time, a little girl named Lily", true);
  std::vector<float> out(size_t(kTokens) * size_t(plain->config.vocab_size));
  EXPECT_TRUE(state.forward(ids->data(), kTokens, out.data(), true, Precision::kW4A32, nullptr).ok());
  return collector.matrix();
}

TEST(ModelW4A4, RemediesAreExactInFloat) {
  const Fixture f;
  Status s;
  const std::unique_ptr<Model> plain = load_bytes(f.file, TensorType::F32, nullptr, {}, &s);
  ASSERT_TRUE(s.ok()) << s.message();
  const std::vector<float> want = logits(*plain, Precision::kW4A32);
  for (const ActivationRemedy remedy : {ActivationRemedy{true, false}, ActivationRemedy{false, true},
                                        ActivationRemedy{true, true}}) {
    const std::unique_ptr<Model> m = load_bytes(f.file, TensorType::F32, &f.imatrix, remedy, &s);
    ASSERT_TRUE(s.ok()) << s.message();
    EXPECT_EQ(m->info.rotated_inputs, remedy.rotate);
    const std::vector<float> got = logits(*m, Precision::kW4A32);
    double worst = 0;
    for (size_t i = 0; i < want.size(); ++i) worst = sticky_max(worst, std::fabs(got[i] - want[i]));
    EXPECT_LT(worst, 2e-4) << "smooth " << remedy.smooth << " rotate " << remedy.rotate;
    // Smoothing folds into the norms; rotation leaves them.
    EXPECT_EQ(m->llama->weights().layers[0].attn_norm == plain->llama->weights().layers[0].attn_norm, !remedy.smooth);
  }
}

TEST(ModelW4A4, RotatedFileSaysSoAndReloads) {
  const Fixture f;
  Status s;
  const std::unique_ptr<Model> m = load_bytes(f.file, TensorType::Q4_0, &f.imatrix, {true, true}, &s);
  ASSERT_TRUE(s.ok()) << s.message();
  std::vector<uint8_t> written;
  ASSERT_TRUE(write_model_gguf(*m, &written).ok());
  const std::unique_ptr<Model> back = load_bytes(written, TensorType::Q4_0, nullptr, {}, &s);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_TRUE(back->info.rotated_inputs);
  EXPECT_TRUE(back->info.smoothed_inputs);  // it only says so: the smoothing is in the weights
  EXPECT_TRUE(back->llama->weights().layers[0].wq.rotated_input());
  EXPECT_FALSE(back->llama->weights().layers[0].down.rotated_input());  // K = 172: F32, unrotated
  EXPECT_FALSE(back->llama->weights().token_embd.rotated_input());      // a lookup (and the tied classifier)
  EXPECT_EQ(logits(*back, Precision::kW4A4), logits(*m, Precision::kW4A4));
  // Rotating it again, or folding into its INT4 matrices, is refused.
  load_bytes(written, TensorType::Q4_0, nullptr, {false, true}, &s);
  EXPECT_FALSE(s.ok());
  load_bytes(written, TensorType::Q4_0, &f.imatrix, {true, false}, &s);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("float weights"), std::string::npos) << s.message();
}

// The importance data weights the matrices whose inputs are not rotated
// (smoothed ones by the smoothed inputs' Σx²): all 31 of stories260K's
// Q4_0 matrices it covers when smoothing, none of them when rotating.
TEST(ModelW4A4, ImportanceWeighsUnrotatedInputsOnly) {
  const Fixture f;
  Status s;
  for (const ActivationRemedy remedy : {ActivationRemedy{}, ActivationRemedy{true, false}, ActivationRemedy{false, true},
                                        ActivationRemedy{true, true}}) {
    const std::unique_ptr<Model> m = load_bytes(f.file, TensorType::Q4_0, &f.imatrix, remedy, &s);
    ASSERT_TRUE(s.ok()) << s.message();
    EXPECT_EQ(m->info.importance_matrices, remedy.rotate ? 0 : 31) << "smooth " << remedy.smooth << " rotate " << remedy.rotate;
    EXPECT_EQ(m->info.smoothed_inputs, remedy.smooth);
  }
}

// GPTQ on a rotated float model fits the stored W·H to the rotated inputs
// (and its forward passes rotate them): on its own calibration text its
// file is closer to the float logits than round-to-nearest of the same
// rotated weights, and it says it is rotated.
TEST(ModelW4A4, GptqOnRotatedWeights) {
  const Fixture f;
  Status s;
  const std::unique_ptr<Model> plain = load_bytes(f.file, TensorType::F32, nullptr, {}, &s);
  const std::vector<float> want = logits(*plain, Precision::kW4A32);
  const std::unique_ptr<Model> rotated = load_bytes(f.file, TensorType::F32, nullptr, {false, true}, &s);
  ASSERT_TRUE(s.ok()) << s.message();
  const std::vector<int32_t> ids = rotated->tokenizer->encode("Once upon a time, a little girl named Lily", true);
  const std::unique_ptr<Model> gptq = load_bytes(gptq_file(rotated.get(), ids), TensorType::Q4_0, nullptr, {}, &s);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_TRUE(gptq->info.rotated_inputs);
  const std::unique_ptr<Model> rtn = load_bytes(f.file, TensorType::Q4_0, nullptr, {false, true}, &s);
  ASSERT_TRUE(s.ok()) << s.message();
  const auto error = [&](const Model& m) {
    const std::vector<float> got = logits(m, Precision::kW4A32);
    double sum = 0;
    for (size_t i = 0; i < want.size(); ++i) sum += double(got[i] - want[i]) * double(got[i] - want[i]);
    return sum;
  };
  EXPECT_LT(error(*gptq), 0.7 * error(*rtn));
}

// An input shift leaves the product: W·(x − shift) rounded, plus W·shift;
// f32 activations ignore it.
TEST(ModelW4A4, ShiftedInputKeepsTheProduct) {
  constexpr int64_t N = 8, K = 64, M = 2;
  std::vector<float> w(N * K), x(M * K), shift(K), centred(M * K);
  for (int64_t i = 0; i < N * K; ++i) w[size_t(i)] = std::sin(0.37f * float(i));
  for (int64_t j = 0; j < K; ++j) shift[size_t(j)] = j % 7 == 0 ? 5.0f : 0.0f;  // channels on an offset
  for (int64_t i = 0; i < M * K; ++i) {
    x[size_t(i)] = std::cos(0.11f * float(i)) + shift[size_t(i % K)];
    centred[size_t(i)] = x[size_t(i)] - shift[size_t(i % K)];
  }
  const BlockTraits* q4 = block_traits(TensorType::Q4_0);
  std::vector<uint8_t> blocks(size_t(N) * row_size(TensorType::Q4_0, K));
  for (int64_t r = 0; r < N; ++r) q4->quantize(&w[size_t(r * K)], &blocks[size_t(r) * row_size(TensorType::Q4_0, K)], K, {});
  PackedWeights plain, shifted;
  ASSERT_TRUE(PackedWeights::Pack(TensorType::Q4_0, blocks.data(), blocks.size(), N, K, &plain).ok());
  ASSERT_TRUE(PackedWeights::Pack(TensorType::Q4_0, blocks.data(), blocks.size(), N, K, &shifted).ok());
  const std::vector<float> copy = shift;  // (shift[K] is the one plain and shifted share below)
  ASSERT_TRUE(set_input_shift(&shift, &shifted).ok());
  std::vector<float> correction(N), want(M * N), got(M * N);
  ASSERT_TRUE(matmul(plain, shift.data(), 1, correction.data(), Precision::kW4A32).ok());
  EXPECT_EQ(shifted.shift_correction(), correction);
  for (const Precision p : {Precision::kW4A8, Precision::kW4A4}) {
    ASSERT_TRUE(matmul(plain, centred.data(), M, want.data(), p).ok());
    ASSERT_TRUE(matmul(shifted, x.data(), M, got.data(), p).ok());
    for (int64_t i = 0; i < M * N; ++i) EXPECT_EQ(got[size_t(i)], want[size_t(i)] + correction[size_t(i % N)]) << i;
  }
  ASSERT_TRUE(matmul(plain, x.data(), M, want.data(), Precision::kW4A32).ok());
  ASSERT_TRUE(matmul(shifted, x.data(), M, got.data(), Precision::kW4A32).ok());
  EXPECT_EQ(got, want);
  // Matrices sharing an input hold its one shift: not another's, nor an
  // equal copy.
  const MatmulTarget both[] = {{&plain, want.data()}, {&shifted, got.data()}};
  EXPECT_FALSE(matmul_shared_input(both, 2, x.data(), M, Precision::kW4A8).ok());
  ASSERT_TRUE(set_input_shift(&copy, &plain).ok());
  EXPECT_FALSE(matmul_shared_input(both, 2, x.data(), M, Precision::kW4A8).ok());
  ASSERT_TRUE(set_input_shift(&shift, &plain).ok());
  EXPECT_TRUE(matmul_shared_input(both, 2, x.data(), M, Precision::kW4A8).ok());
}

// With channel means (Σx) in the importance data, smoothing also shifts:
// every smoothed input of the 64-wide matrices gets the smoothed means as
// its shift (Q, K and V alike), the file carries them, and it reloads to
// the same W4A4 logits; without Σx nothing is shifted.
TEST(ModelW4A4, ChannelMeansShiftSmoothedInputs) {
  const Fixture f;
  Status s;
  std::vector<int32_t> ids;
  const ImportanceMatrix means = channel_means(f, &ids);
  ASSERT_EQ(means.tensors.at("blk.0.attn_q.weight").value_sums.size(), size_t(64));

  const std::unique_ptr<Model> m = load_bytes(f.file, TensorType::Q4_0, &means, {true, true}, &s);
  ASSERT_TRUE(s.ok()) << s.message();
  const LlamaWeights& w = m->llama->weights();
  for (const PackedWeights* matrix : {&w.layers[0].wq, &w.layers[0].wo, &w.layers[4].gate, &w.output}) {
    ASSERT_TRUE(matrix->input_shift());
    EXPECT_EQ(matrix->input_shift()->size(), size_t(64));
  }
  EXPECT_EQ(w.layers[0].wq.input_shift(), w.layers[0].wv.input_shift());  // one shared vector
  EXPECT_EQ(w.layers[4].gate.input_shift(), w.layers[4].up.input_shift());
  EXPECT_NE(w.layers[0].wq.input_shift(), w.layers[0].wo.input_shift());
  EXPECT_FALSE(w.layers[0].down.input_shift());  // K = 172: not smoothed
  EXPECT_FALSE(w.token_embd.input_shift());
  EXPECT_TRUE(m->info.shifted_inputs);
  std::vector<uint8_t> written;
  ASSERT_TRUE(write_model_gguf(*m, &written).ok());
  const std::unique_ptr<Model> back = load_bytes(written, TensorType::Q4_0, nullptr, {}, &s);
  ASSERT_TRUE(s.ok()) << s.message();
  const LlamaWeights& wb = back->llama->weights();
  EXPECT_EQ(*wb.layers[0].wq.input_shift(), *w.layers[0].wq.input_shift());
  // The file's copies, one per matrix, shared again by the matrices of one input.
  EXPECT_EQ(wb.layers[0].wq.input_shift(), wb.layers[0].wk.input_shift());
  EXPECT_EQ(wb.layers[4].gate.input_shift(), wb.layers[4].up.input_shift());
  EXPECT_TRUE(back->info.shifted_inputs);
  EXPECT_EQ(logits(*back, Precision::kW4A4), logits(*m, Precision::kW4A4));
  load_bytes(written, TensorType::F32, &means, {true, false}, &s);  // remedied twice
  EXPECT_FALSE(s.ok());
  // GPTQ's models (each stage's forward passes, the result) keep one shift
  // per input too.
  const std::unique_ptr<Model> shifted_f32 = load_bytes(f.file, TensorType::F32, &means, {true, true}, &s);
  ASSERT_TRUE(s.ok()) << s.message();
  const std::unique_ptr<Model> gptq = load_bytes(gptq_file(shifted_f32.get(), ids), TensorType::Q4_0, nullptr, {}, &s);
  ASSERT_TRUE(s.ok()) << s.message();
  const LlamaWeights& wg = gptq->llama->weights();
  EXPECT_EQ(*wg.layers[2].wq.input_shift(), *shifted_f32->llama->weights().layers[2].wq.input_shift());
  EXPECT_EQ(wg.layers[2].wq.input_shift(), wg.layers[2].wv.input_shift());
  EXPECT_EQ(logits(*gptq, Precision::kW4A4).size(), size_t(kTokens) * size_t(gptq->config.vocab_size));

  const std::unique_ptr<Model> unshifted = load_bytes(f.file, TensorType::Q4_0, &f.imatrix, {true, true}, &s);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_FALSE(unshifted->llama->weights().layers[0].wq.input_shift());
  EXPECT_FALSE(unshifted->info.shifted_inputs);
}

// The symmetric eigen-solver: A·v = λ·v for each pair, orthonormal vectors,
// values in decreasing order; top_eigenvectors() finds the leading
// directions of a matrix of known spectrum both ways (Jacobi below 256,
// subspace iteration above).
TEST(ModelW4A4, EigenvectorsOfSymmetricMatrices) {
  std::mt19937 rng(7);
  std::normal_distribution<double> gauss;
  constexpr int n = 20;
  std::vector<double> a(n * n), values, vectors;
  for (int i = 0; i < n; ++i)
    for (int j = i; j < n; ++j) a[i * n + j] = a[j * n + i] = gauss(rng);
  symmetric_eigen(a, n, &values, &vectors);
  for (int k = 0; k < n; ++k) {
    if (k > 0) {
      EXPECT_GE(values[k - 1], values[k]);
    }
    for (int i = 0; i < n; ++i) {
      double av = 0;
      for (int j = 0; j < n; ++j) av += a[i * n + j] * vectors[k * n + j];
      EXPECT_NEAR(av, values[k] * vectors[k * n + i], 1e-9) << k << " " << i;
    }
    for (int l = 0; l <= k; ++l) {
      double dot = 0;
      for (int j = 0; j < n; ++j) dot += vectors[k * n + j] * vectors[l * n + j];
      EXPECT_NEAR(dot, k == l ? 1.0 : 0.0, 1e-9);
    }
  }
  for (const int size : {40, 300}) {
    // C = Q·diag(λ)·Qᵀ, Q orthonormal (Gram–Schmidt of Gaussian columns), λ known.
    std::vector<std::vector<double>> q;
    while (int(q.size()) < size) {
      std::vector<double> v(size);
      for (double& x : v) x = gauss(rng);
      for (const std::vector<double>& u : q) {
        double dot = 0;
        for (int j = 0; j < size; ++j) dot += u[j] * v[j];
        for (int j = 0; j < size; ++j) v[j] -= dot * u[j];
      }
      double norm = 0;
      for (double x : v) norm += x * x;
      for (double& x : v) x /= std::sqrt(norm);
      q.push_back(v);
    }
    std::vector<double> c(size_t(size) * size, 0.0);
    for (int k = 0; k < size; ++k) {
      const double lambda = k < 4 ? 50.0 / (k + 1) : 1.0 / (k + 1);
      for (int i = 0; i < size; ++i)
        for (int j = 0; j < size; ++j) c[size_t(i) * size + j] += lambda * q[k][i] * q[k][j];
    }
    std::vector<float> u;
    top_eigenvectors(c, size, 4, &u);
    ASSERT_EQ(u.size(), size_t(4 * size));
    for (int k = 0; k < 4; ++k) {
      double dot = 0;
      for (int j = 0; j < size; ++j) dot += double(u[size_t(k) * size + j]) * q[k][j];
      EXPECT_GT(std::fabs(dot), 0.9999) << "size " << size << " direction " << k;
    }
  }
}

// Q4_0 W[N, 64] with a 3-direction input basis: W4A4 takes the input's
// coefficients c = U·x out before rounding and adds (W·Uᵀ)·c back, which
// is the reference formula below exactly; in float the two parts add up to
// W·x; W4A8 and W4A32 ignore it; on inputs with a large common direction it
// lowers W4A4's error; bad bases and unshared ones are refused.
TEST(ModelW4A4, LowRankBasisKeepsTheProduct) {
  constexpr int64_t N = 16, K = 64, M = 24, R = 3;
  std::mt19937 rng(11);
  std::normal_distribution<float> gauss;
  std::vector<float> w(N * K), x(M * K);
  for (float& v : w) v = gauss(rng);
  // Each row: noise plus a large multiple of one direction d spread over
  // every channel (which per-channel scales cannot take out).
  std::vector<float> d(K);
  for (float& v : d) v = gauss(rng) / 8.0f;
  for (int64_t m = 0; m < M; ++m) {
    const float a = 12.0f * gauss(rng);
    for (int64_t j = 0; j < K; ++j) x[size_t(m * K + j)] = gauss(rng) + a * d[size_t(j)];
  }
  // The basis: top directions of x's second moment (the remedy's rule).
  std::vector<double> c(K * K, 0.0);
  for (int64_t m = 0; m < M; ++m)
    for (int64_t i = 0; i < K; ++i)
      for (int64_t j = 0; j < K; ++j) c[size_t(i * K + j)] += double(x[size_t(m * K + i)]) * x[size_t(m * K + j)];
  std::vector<float> basis;
  top_eigenvectors(c, int(K), int(R), &basis);
  const BlockTraits* q4 = block_traits(TensorType::Q4_0);
  std::vector<uint8_t> blocks(size_t(N) * row_size(TensorType::Q4_0, K));
  for (int64_t r = 0; r < N; ++r) q4->quantize(&w[size_t(r * K)], &blocks[size_t(r) * row_size(TensorType::Q4_0, K)], K, {});
  PackedWeights plain, based;
  ASSERT_TRUE(PackedWeights::Pack(TensorType::Q4_0, blocks.data(), blocks.size(), N, K, &plain).ok());
  ASSERT_TRUE(PackedWeights::Pack(TensorType::Q4_0, blocks.data(), blocks.size(), N, K, &based).ok());
  ASSERT_TRUE(set_input_basis(&basis, &based).ok());
  std::vector<float> correction(R * N);  // [R, N]: Q(W)·u_k
  ASSERT_TRUE(matmul(plain, basis.data(), R, correction.data(), Precision::kW4A32).ok());
  EXPECT_EQ(based.basis_correction(), correction);

  // The reference: z = x − Σ c_k·u_k with c_k = u_k·x (its four partial
  // sums, lanes j mod 4), then W4A4 of z plus c_k·(Q(W)·u_k) for k = 0, 1, …
  std::vector<float> z = x, coefficients(M * R);
  for (int64_t m = 0; m < M; ++m) {
    float* row = &z[size_t(m * K)];
    for (int64_t k = 0; k < R; ++k) {
      float lane[4] = {0.0f, 0.0f, 0.0f, 0.0f};
      for (int64_t j = 0; j < K; ++j) lane[j % 4] += basis[size_t(k * K + j)] * row[j];
      coefficients[size_t(m * R + k)] = (lane[0] + lane[1]) + (lane[2] + lane[3]);
    }
    for (int64_t k = 0; k < R; ++k)
      for (int64_t j = 0; j < K; ++j) row[j] -= coefficients[size_t(m * R + k)] * basis[size_t(k * K + j)];
  }
  std::vector<float> want(M * N), got(M * N), exact(M * N), residual(M * N);
  ASSERT_TRUE(matmul(plain, z.data(), M, want.data(), Precision::kW4A4).ok());
  for (int64_t m = 0; m < M; ++m)
    for (int64_t n = 0; n < N; ++n)
      for (int64_t k = 0; k < R; ++k) want[size_t(m * N + n)] += correction[size_t(k * N + n)] * coefficients[size_t(m * R + k)];
  ASSERT_TRUE(matmul(based, x.data(), M, got.data(), Precision::kW4A4).ok());
  EXPECT_EQ(got, want);
  // In float, removing and adding back keeps Q(W)·x.
  ASSERT_TRUE(matmul(plain, x.data(), M, exact.data(), Precision::kW4A32).ok());
  ASSERT_TRUE(matmul(plain, z.data(), M, residual.data(), Precision::kW4A32).ok());
  for (int64_t m = 0; m < M; ++m)
    for (int64_t n = 0; n < N; ++n) {
      float sum = residual[size_t(m * N + n)];
      for (int64_t k = 0; k < R; ++k) sum += correction[size_t(k * N + n)] * coefficients[size_t(m * R + k)];
      EXPECT_NEAR(sum, exact[size_t(m * N + n)], 1e-5 * (1.0 + std::fabs(exact[size_t(m * N + n)])));
    }
  // W4A8 and W4A32 ignore the basis.
  for (const Precision p : {Precision::kW4A8, Precision::kW4A32}) {
    ASSERT_TRUE(matmul(plain, x.data(), M, want.data(), p).ok());
    ASSERT_TRUE(matmul(based, x.data(), M, got.data(), p).ok());
    EXPECT_EQ(got, want);
  }
  // The remedy's point: W4A4's error against Q(W)·x drops.
  auto error = [&](const PackedWeights& pw) {
    std::vector<float> y(M * N);
    EXPECT_TRUE(matmul(pw, x.data(), M, y.data(), Precision::kW4A4).ok());
    double sum = 0;
    for (size_t i = 0; i < y.size(); ++i) sum += double(y[i] - exact[i]) * double(y[i] - exact[i]);
    return sum;
  };
  EXPECT_LT(error(based), 0.5 * error(plain));
  // A rotated matrix's correction is W·H applied to the basis as given (the
  // basis lives in the rotated input): H·(H·u) = u.
  PackedWeights rotated;
  ASSERT_TRUE(PackedWeights::Pack(TensorType::Q4_0, blocks.data(), blocks.size(), N, K, &rotated).ok());
  rotated.set_rotated_input(true);
  ASSERT_TRUE(set_input_basis(&basis, &rotated).ok());
  for (size_t i = 0; i < correction.size(); ++i) EXPECT_NEAR(rotated.basis_correction()[i], correction[i], 1e-4);

  // Matrices sharing an input hold its one basis; bad bases are refused.
  const std::vector<float> copy = basis;
  const MatmulTarget both[] = {{&plain, want.data()}, {&based, got.data()}};
  EXPECT_FALSE(matmul_shared_input(both, 2, x.data(), M, Precision::kW4A4).ok());
  ASSERT_TRUE(set_input_basis(&copy, &plain).ok());
  EXPECT_FALSE(matmul_shared_input(both, 2, x.data(), M, Precision::kW4A4).ok());
  ASSERT_TRUE(set_input_basis(&basis, &plain).ok());
  EXPECT_TRUE(matmul_shared_input(both, 2, x.data(), M, Precision::kW4A4).ok());
  std::vector<float> short_basis(K + 1, 0.0f);
  EXPECT_FALSE(set_input_basis(&short_basis, &plain).ok());
}

// The remedy on stories260K: directions from a few calibration tokens of
// the smoothed, rotated and shifted Q4_0 model; one basis per input (Q/K/V
// share one, gate/up one), none for the 172-wide F32 down projection; the
// file carries them and reloads to the same W4A4 logits (W4A8's unchanged
// by them); a key of the wrong length or with a NaN is refused, naming it.
TEST(ModelW4A4, LowRankBasesTravelWithTheFile) {
  const Fixture f;
  Status s;
  std::vector<int32_t> ids;
  const ImportanceMatrix means = channel_means(f, &ids);
  const std::unique_ptr<Model> m = load_bytes(f.file, TensorType::Q4_0, &means, {true, true}, &s);
  ASSERT_TRUE(s.ok()) << s.message();
  const std::vector<float> w4a8 = logits(*m, Precision::kW4A8), w4a4 = logits(*m, Precision::kW4A4);

  LowRankCollector directions(*m);
  LlamaState q_state(*m->llama, 64, 16);
  q_state.set_observer(&directions);
  std::vector<float> out(size_t(kTokens) * size_t(m->config.vocab_size));
  ASSERT_TRUE(q_state.forward(ids.data(), kTokens, out.data(), true, Precision::kW4A32, nullptr).ok());
  EXPECT_FALSE(directions.apply(0, m.get()).ok());
  ASSERT_TRUE(directions.apply(4, m.get()).ok());
  const LlamaWeights& w = m->llama->weights();
  ASSERT_TRUE(w.layers[0].wq.input_basis());
  EXPECT_EQ(w.layers[0].wq.input_basis()->size(), size_t(4 * 64));
  EXPECT_EQ(w.layers[0].wq.input_basis(), w.layers[0].wv.input_basis());
  EXPECT_EQ(w.layers[3].gate.input_basis(), w.layers[3].up.input_basis());
  EXPECT_NE(w.layers[0].wq.input_basis(), w.layers[0].wo.input_basis());
  EXPECT_TRUE(w.output.input_basis());
  EXPECT_FALSE(w.layers[0].down.input_basis());  // 172 wide, F32
  EXPECT_EQ(m->info.low_rank, 4);
  EXPECT_EQ(logits(*m, Precision::kW4A8), w4a8);
  EXPECT_NE(logits(*m, Precision::kW4A4), w4a4);
  EXPECT_FALSE(directions.apply(4, m.get()).ok());  // it has bases already

  std::vector<uint8_t> written;
  ASSERT_TRUE(write_model_gguf(*m, &written).ok());
  const std::unique_ptr<Model> back = load_bytes(written, TensorType::Q4_0, nullptr, {}, &s);
  ASSERT_TRUE(s.ok()) << s.message();
  const LlamaWeights& wb = back->llama->weights();
  EXPECT_EQ(*wb.layers[0].wq.input_basis(), *w.layers[0].wq.input_basis());
  EXPECT_EQ(wb.layers[0].wq.input_basis(), wb.layers[0].wk.input_basis());
  EXPECT_EQ(back->info.low_rank, 4);
  EXPECT_EQ(logits(*back, Precision::kW4A4), logits(*m, Precision::kW4A4));
  remove_input_bases(m.get());
  EXPECT_EQ(logits(*m, Precision::kW4A4), w4a4);
  load_bytes(written, TensorType::F32, &means, {true, false}, &s);  // remedied twice
  EXPECT_FALSE(s.ok());

  // Hostile keys: gate's basis (4·64 values) under down's name (rows of 172),
  // then a NaN in Q's.
  auto patched = [&](const std::string& from, const std::string& to, size_t value) {
    std::vector<uint8_t> bytes = written;
    const std::string key = std::string(kBasisKeyPrefix) + from;
    const auto at = std::search(bytes.begin(), bytes.end(), key.begin(), key.end());
    EXPECT_NE(at, bytes.end());
    const std::string renamed = std::string(kBasisKeyPrefix) + to;
    std::copy(renamed.begin(), renamed.end(), at);
    if (value != size_t(-1)) {  // after the key: u32 type, u32 item type, u64 count, then the floats
      const float nan = std::nanf("");
      std::memcpy(&*(at + std::ptrdiff_t(key.size() + 16 + 4 * value)), &nan, sizeof nan);
    }
    return bytes;
  };
  load_bytes(patched("blk.1.ffn_gate.weight", "blk.1.ffn_down.weight", size_t(-1)), TensorType::Q4_0, nullptr, {}, &s);
  EXPECT_EQ(s.message(), std::string(kBasisKeyPrefix) + "blk.1.ffn_down.weight holds 256 values, not r rows of 172 (r up to 64)");
  load_bytes(patched("blk.2.attn_q.weight", "blk.2.attn_q.weight", 7), TensorType::Q4_0, nullptr, {}, &s);
  EXPECT_EQ(s.message(), std::string(kBasisKeyPrefix) + "blk.2.attn_q.weight holds a NaN or infinite value");
}

TEST(ModelW4A4, SmoothingNeedsImportanceData) {
  const Fixture f;
  Status s;
  load_bytes(f.file, TensorType::Q4_0, nullptr, {true, false}, &s);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("importance"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace nibble
