// GPTQ over scale × code-book blocks (gptq.h): the inverse Hessian's factor,
// the per-block scale search with in-block error feedback, and the rows.
#include "quant/gptq.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "quant/fp16.h"
#include "quant/nibbles.h"
#include "runtime/decimal_text.h"
#include "runtime/thread_pool.h"

namespace nibble {
namespace {

// A type's 16 code values, ascending: the block holds d and one index per weight.
struct CodeBook {
  float values[16];
};

const CodeBook* code_book(TensorType type) {
  static const CodeBook q4_0 = {{-8, -7, -6, -5, -4, -3, -2, -1, 0, 1, 2, 3, 4, 5, 6, 7}};
  static const CodeBook iq4_nl = [] {
    CodeBook b;
    for (int i = 0; i < 16; ++i) b.values[i] = kIQ4NLValues[i];
    return b;
  }();
  if (type == TensorType::Q4_0) return &q4_0;
  if (type == TensorType::IQ4_NL) return &iq4_nl;
  return nullptr;
}

// The index of the code value nearest to t (the lower one on a tie).
int nearest_code(const CodeBook& book, double t) {
  int best = 0;
  double best_distance = std::fabs(t - book.values[0]);
  for (int i = 1; i < 16; ++i) {
    const double distance = std::fabs(t - book.values[i]);
    if (distance < best_distance) best = i, best_distance = distance;
  }
  return best;
}

// Candidate scales, as fractions of the scale that maps the block's largest
// magnitude onto the code book's end of the same sign (that scale is 1).
constexpr int kScaleSteps = 16;
constexpr double kScaleLow = 0.70, kScaleHigh = 1.15;

// Passes of refine_row over the row (each lowers the error less than the last).
constexpr int kRefineSweeps = 4;

// One block of one row: w[0..31] are the row's current (already corrected)
// values at columns c..c+31, u the factor's rows from c on. With scale d
// (fp16-exact), picks each code in turn and feeds its error into the
// block's later columns; codes[32] and scaled errors e[32] out. Returns Σe².
double quantize_block(const CodeBook& book, float d, const double* w, const double* u, int64_t K, int64_t c,
                      uint8_t* codes, double* e) {
  double x[kQK];
  std::copy(w, w + kQK, x);
  double cost = 0;
  for (int i = 0; i < kQK; ++i) {
    const double* ui = u + size_t(c + i) * size_t(K);
    const int q = d == 0 ? nearest_code(book, 0) : nearest_code(book, x[i] / d);
    codes[i] = uint8_t(q);
    e[i] = (x[i] - double(d) * book.values[q]) / ui[c + i];
    cost += e[i] * e[i];
    for (int j = i + 1; j < kQK; ++j) x[j] -= e[i] * ui[c + j];
  }
  return cost;
}

// Quantizes row w[K] (modified in place: the error feedback) into `blocks`
// (Q4_0 and IQ4_NL share the layout {fp16 d; qs[16]}).
void quantize_row_gptq(const CodeBook& book, double* w, const double* u, int64_t K, BlockQ4_0* blocks) {
  uint8_t codes[kQK], best_codes[kQK];
  double e[kQK], best_e[kQK];
  const float lowest = book.values[0], highest = book.values[15];
  for (int64_t c = 0; c < K; c += kQK) {
    double m = 0;  // the largest magnitude, sign kept
    for (int i = 0; i < kQK; ++i)
      if (std::fabs(w[c + i]) > std::fabs(m)) m = w[c + i];
    uint16_t best_d = 0;
    double best_cost = quantize_block(book, 0.0f, w + c, u, K, c, best_codes, best_e);
    for (double end : {lowest, highest}) {
      for (int s = 0; s < kScaleSteps && m != 0; ++s) {
        const double f = kScaleLow + (kScaleHigh - kScaleLow) * s / (kScaleSteps - 1);
        const uint16_t d16 = fp32_to_fp16(float(m / end * f));
        const double cost = quantize_block(book, fp16_to_fp32(d16), w + c, u, K, c, codes, e);
        if (cost < best_cost) {
          best_cost = cost, best_d = d16;
          std::copy(codes, codes + kQK, best_codes);
          std::copy(e, e + kQK, best_e);
        }
      }
    }
    BlockQ4_0& b = blocks[c / kQK];
    b.d = best_d;
    pack_nibbles(best_codes, b.qs);
    // The block's errors move the columns after it (within it, quantize_block did).
    for (int i = 0; i < kQK; ++i) {
      const double* ui = u + size_t(c + i) * size_t(K);
      for (int64_t j = c + kQK; j < K; ++j) w[j] -= best_e[i] * ui[j];
    }
  }
}

// After the GPTQ pass: descends on the row's output error eᵀ·H·e (e = w −
// ŵ, H undamped) with the blocks' codes and scales as the variables: each
// code moved one step up or down, then each block's scale refitted by least
// squares (rounded to fp16), each change kept only if it lowers the error.
// g = H·e is kept up to date, so a trial costs O(1) and a kept change O(K).
void refine_row(const CodeBook& book, const float* w, const double* h, int64_t K, BlockQ4_0* blocks) {
  const size_t n = static_cast<size_t>(K);
  std::vector<double> e(n), g(n, 0.0);  // [K] error, H·error
  std::vector<uint8_t> codes(n);        // [K]
  for (int64_t c = 0; c < K; c += kQK) {
    unpack_nibbles(blocks[c / kQK].qs, &codes[size_t(c)]);
    const double d = fp16_to_fp32(blocks[c / kQK].d);
    for (int i = 0; i < kQK; ++i) e[size_t(c + i)] = double(w[c + i]) - d * book.values[codes[size_t(c + i)]];
  }
  for (int64_t i = 0; i < K; ++i)
    for (int64_t j = 0; j < K; ++j) g[size_t(i)] += h[size_t(i * K + j)] * e[size_t(j)];
  const auto move = [&](int64_t i, double delta) {  // ŵ_i += delta
    e[size_t(i)] -= delta;
    const double* hi = h + size_t(i) * size_t(K);
    for (int64_t j = 0; j < K; ++j) g[size_t(j)] -= delta * hi[j];
  };
  for (int sweep = 0; sweep < kRefineSweeps; ++sweep) {
    for (int64_t i = 0; i < K; ++i) {
      const double d = fp16_to_fp32(blocks[i / kQK].d);
      const int code = codes[size_t(i)];
      for (int step : {-1, 1}) {
        if (code + step < 0 || code + step > 15) continue;
        const double delta = d * (book.values[code + step] - book.values[code]);
        if (delta * delta * h[size_t(i * K + i)] - 2 * delta * g[size_t(i)] < 0) {
          move(i, delta);
          codes[size_t(i)] = uint8_t(code + step);
          break;
        }
      }
    }
    for (int64_t c = 0; c < K; c += kQK) {
      BlockQ4_0& b = blocks[c / kQK];
      double a = 0, q2 = 0;  // q̃ᵀ·H·e and q̃ᵀ·H·q̃, q̃ the block's code values
      for (int i = 0; i < kQK; ++i) {
        const double qi = book.values[codes[size_t(c + i)]];
        a += qi * g[size_t(c + i)];
        for (int j = 0; j < kQK; ++j) q2 += qi * book.values[codes[size_t(c + j)]] * h[size_t((c + i) * K + c + j)];
      }
      if (!(q2 > 0)) continue;
      const double d = fp16_to_fp32(b.d);
      const uint16_t d16 = fp32_to_fp16(float(d + a / q2));
      const double delta = fp16_to_fp32(d16) - d;
      if (delta * delta * q2 - 2 * delta * a >= 0) continue;
      for (int i = 0; i < kQK; ++i) move(c + i, delta * book.values[codes[size_t(c + i)]]);
      b.d = d16;
    }
  }
  for (int64_t c = 0; c < K; c += kQK) pack_nibbles(&codes[size_t(c)], blocks[c / kQK].qs);
}

// a[n,n] (symmetric) <- its Cholesky factor L (a = L·Lᵀ) in the lower
// triangle, in place; the upper triangle is left as it was. False if a is
// not positive definite.
bool cholesky_lower(double* a, size_t n) {
  for (size_t j = 0; j < n; ++j) {
    double s = a[j * n + j];
    for (size_t k = 0; k < j; ++k) s -= a[j * n + k] * a[j * n + k];
    if (!(s > 0)) return false;
    const double l = std::sqrt(s);
    a[j * n + j] = l;
    for (size_t i = j + 1; i < n; ++i) {
      double t = a[i * n + j];
      for (size_t k = 0; k < j; ++k) t -= a[i * n + k] * a[j * n + k];
      a[i * n + j] = t / l;
    }
  }
  return true;
}

}  // namespace

bool gptq_supports(TensorType type) { return code_book(type) != nullptr; }

Status gptq_inverse_factor(const double* hessian, int64_t K, double damp, std::vector<double>* u) {
  const size_t n = size_t(K);
  std::vector<double> a(hessian, hessian + n * n);  // [K,K] H, then L, then H⁻¹, then its factor
  double mean_diag = 0;
  for (size_t i = 0; i < n; ++i) {
    if (!(a[i * n + i] > 0)) {
      for (size_t j = 0; j < n; ++j) a[i * n + j] = a[j * n + i] = 0;
      a[i * n + i] = 1;
    }
    mean_diag += a[i * n + i] / double(K);
  }
  for (size_t i = 0; i < n; ++i) a[i * n + i] += damp * mean_diag;
  if (!cholesky_lower(a.data(), n)) return InvalidArgument("the calibration Hessian is not positive definite");
  // L⁻¹ (lower), then H⁻¹ = L⁻ᵀ·L⁻¹.
  std::vector<double> inv(n * n, 0.0);  // [K,K] L⁻¹
  for (size_t i = 0; i < n; ++i) {
    inv[i * n + i] = 1 / a[i * n + i];
    for (size_t j = 0; j < i; ++j) {
      double s = 0;
      for (size_t k = j; k < i; ++k) s -= a[i * n + k] * inv[k * n + j];
      inv[i * n + j] = s / a[i * n + i];
    }
  }
  for (size_t i = 0; i < n; ++i)
    for (size_t j = 0; j <= i; ++j) {
      double s = 0;
      for (size_t k = i; k < n; ++k) s += inv[k * n + i] * inv[k * n + j];
      a[i * n + j] = a[j * n + i] = s;
    }
  // H⁻¹ = L'·L'ᵀ; U = L'ᵀ.
  if (!cholesky_lower(a.data(), n)) return InvalidArgument("the inverse calibration Hessian is not positive definite");
  u->assign(n * n, 0.0);
  for (size_t i = 0; i < n; ++i)
    for (size_t j = i; j < n; ++j) (*u)[i * n + j] = a[j * n + i];
  return Status::Ok();
}

Status quantize_matrix_gptq(TensorType type, const float* w, int64_t rows, int64_t cols, const double* hessian,
                            const std::vector<double>& u, void* out, size_t out_size, ThreadPool* pool) {
  const CodeBook* book = code_book(type);
  const TensorTypeInfo* info = tensor_type_info(type);
  if (book == nullptr)
    return InvalidArgument(std::string("output-aware quantization writes q4_0 or iq4_nl, not ") +
                           (info ? info->name : "this type"));
  if (rows < 0 || cols <= 0 || cols % kQK != 0)
    return InvalidArgument("row length " + integer_text(cols) + " is not a positive multiple of " + integer_text(kQK));
  if (u.size() != size_t(cols) * size_t(cols)) return InvalidArgument("the Hessian factor does not match the row length");
  const size_t row_bytes = row_size(type, cols);
  if (out_size < size_t(rows) * row_bytes) return OutOfRange("the output is too small for the matrix");
  for (int64_t i = 0; i < rows * cols; ++i)
    if (!std::isfinite(w[i])) return InvalidArgument("weight " + integer_text(i) + " is NaN or infinite");
  static_assert(sizeof(BlockQ4_0) == sizeof(BlockIQ4_NL), "Q4_0 and IQ4_NL blocks share a layout");
  uint8_t* bytes = static_cast<uint8_t*>(out);
  parallel_for_if(pool, rows * cols * cols > (1 << 20), rows, 1, [&](int64_t begin, int64_t end) {
    std::vector<double> row(static_cast<size_t>(cols));  // [K] the row being corrected
    for (int64_t r = begin; r < end; ++r) {
      std::copy(w + r * cols, w + (r + 1) * cols, row.begin());
      BlockQ4_0* blocks = reinterpret_cast<BlockQ4_0*>(bytes + size_t(r) * row_bytes);
      quantize_row_gptq(*book, row.data(), u.data(), cols, blocks);
      if (hessian) refine_row(*book, w + r * cols, hessian, cols, blocks);
    }
  });
  return Status::Ok();
}

}  // namespace nibble
