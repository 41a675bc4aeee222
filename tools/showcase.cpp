// nibble_showcase (`npm start`): INT4 quantization of one large random
// matrix, end to end, in wasm under Node.
//
//   node --no-experimental-fetch build/<dir>/tools/nibble_showcase.js [--n 4096] [--seed 42] [--reps 20]
//
// W[n, n] ~ N(0, 0.02²) (seeded; our own generator, so every build sees the
// same weights) is quantized to Q4_0 (round-to-nearest and clip=mse) and to
// Q4_1 (both ways). For each: bytes against FP32, quantizing time, and the
// error of the dequantized weights (rmse, max |error|, SQNR, cosine). Then
// one GEMV y[n] = W[n, n] · x[n] with the kernels of this build: the median
// time of --reps runs for FP32 and INT4 weights (W4A8 and W4A32), and how far
// each INT4 y is from the FP32 y.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "kernels/config.h"
#include "kernels/matmul.h"
#include "kernels/packed_weights.h"
#include "quant/quantize.h"

namespace nibble {
namespace {

struct Options {
  int64_t n = 4096;
  uint64_t seed = 42;
  int reps = 20;
};

constexpr float kWeightStd = 0.02f;

// splitmix64 bits -> Box–Muller normals, in double then rounded to float.
class Gaussian {
 public:
  explicit Gaussian(uint64_t seed) : state_(seed) {}
  float next() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    const double u1 = (double(bits() >> 11) + 1.0) * 0x1.0p-53;  // (0, 1]
    const double u2 = double(bits() >> 11) * 0x1.0p-53;           // [0, 1)
    const double r = std::sqrt(-2.0 * std::log(u1));
    spare_ = float(r * std::sin(6.283185307179586 * u2));
    has_spare_ = true;
    return float(r * std::cos(6.283185307179586 * u2));
  }

 private:
  uint64_t bits() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  uint64_t state_;
  float spare_ = 0.0f;
  bool has_spare_ = false;
};

double now_ms() {
  using clock = std::chrono::steady_clock;
  return std::chrono::duration<double, std::milli>(clock::now().time_since_epoch()).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t mid = v.size() / 2;
  return v.size() % 2 ? v[mid] : 0.5 * (v[mid - 1] + v[mid]);
}

std::string mib(size_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f MiB", double(bytes) / (1024.0 * 1024.0));
  return buf;
}

bool parse_args(int argc, char** argv, Options* o) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "--n" && has_value) {
      o->n = std::atoll(argv[++i]);
    } else if (arg == "--seed" && has_value) {
      o->seed = std::strtoull(argv[++i], nullptr, 10);
    } else if (arg == "--reps" && has_value) {
      o->reps = std::atoi(argv[++i]);
    } else {
      std::fprintf(stderr, "usage: nibble_showcase [--n N (multiple of 32)] [--seed S] [--reps R]\n");
      return false;
    }
  }
  if (o->n <= 0 || o->n % kQK != 0 || o->reps <= 0) {
    std::fprintf(stderr, "nibble_showcase: --n must be a positive multiple of 32 and --reps positive\n");
    return false;
  }
  return true;
}

bool check(const Status& s, const char* what) {
  if (!s.ok()) std::fprintf(stderr, "nibble_showcase: %s failed: %s\n", what, s.message().c_str());
  return s.ok();
}

// One quantized version of W: its GGUF-layout bytes and how it was made.
struct Variant {
  const char* label;
  TensorType type;
  ClipMode clip;
  std::vector<uint8_t> bytes;
  double rmse = 0;
};

// Quantizes W[n, n] into v->bytes and prints a line of weight statistics.
bool quantize_and_report(const std::vector<float>& w, int64_t n, Variant* v) {
  v->bytes.assign(size_t(n) * row_size(v->type, n), 0);
  QuantizeOptions options;
  options.clip = v->clip;
  const double t0 = now_ms();
  if (!check(quantize_matrix(v->type, w.data(), n, n, options, v->bytes.data(), v->bytes.size()), "quantize")) {
    return false;
  }
  const double quantize_ms = now_ms() - t0;
  std::vector<float> w_hat(w.size());
  if (!check(dequantize_matrix(v->type, v->bytes.data(), v->bytes.size(), n, n, w_hat.data()), "dequantize")) {
    return false;
  }
  const ErrorStats e = error_stats(w.data(), w_hat.data(), int64_t(w.size()));
  v->rmse = e.rmse;
  const double bits_per_weight = 8.0 * double(v->bytes.size()) / double(w.size());
  std::printf("  %-16s %10s  %4.2f bits/w  %5.2fx smaller  %7.0f ms  rmse %.3e  max|e| %.3e  SQNR %5.2f dB  cos %.6f\n",
              v->label, mib(v->bytes.size()).c_str(), bits_per_weight,
              double(w.size() * sizeof(float)) / double(v->bytes.size()), quantize_ms, e.rmse, e.max_abs, e.sqnr_db,
              e.cosine);
  return true;
}

// Median milliseconds of `reps` GEMVs y = W · x (after two warm-up runs).
double time_gemv(const PackedWeights& pw, const float* x, float* y, Precision precision, int reps) {
  for (int i = 0; i < 2; ++i) matmul(pw, x, 1, y, precision);
  std::vector<double> times;
  for (int i = 0; i < reps; ++i) {
    const double t0 = now_ms();
    matmul(pw, x, 1, y, precision);
    times.push_back(now_ms() - t0);
  }
  return median(times);
}

int run(const Options& o) {
  const int64_t n = o.n;
  std::printf("nibble showcase: INT4 weights for a %lld x %lld matrix (kernels: %s)\n", (long long)n, (long long)n,
              kernel_config().name);
  std::printf("W ~ N(0, %.2g^2), seed %llu; FP32 size %s\n\n", double(kWeightStd), (unsigned long long)o.seed,
              mib(size_t(n * n) * sizeof(float)).c_str());

  // W[n, n] row-major, x[n]
  Gaussian gauss(o.seed);
  std::vector<float> w(static_cast<size_t>(n * n));
  for (float& v : w) v = kWeightStd * gauss.next();
  std::vector<float> x(static_cast<size_t>(n));
  for (float& v : x) v = gauss.next();

  std::printf("Quantizing the weights (error of the dequantized weights against FP32):\n");
  Variant variants[] = {{"Q4_0 RTN", TensorType::Q4_0, ClipMode::kNone, {}},
                        {"Q4_0 clip=mse", TensorType::Q4_0, ClipMode::kMse, {}},
                        {"Q4_1 RTN", TensorType::Q4_1, ClipMode::kNone, {}},
                        {"Q4_1 clip=mse", TensorType::Q4_1, ClipMode::kMse, {}}};
  for (Variant& v : variants) {
    if (!quantize_and_report(w, n, &v)) return 1;
  }
  const auto mse_drop = [&](int t) {
    const double rtn = variants[2 * t].rmse, mse = variants[2 * t + 1].rmse;
    return 100.0 * (1.0 - (mse * mse) / (rtn * rtn));
  };
  std::printf("  clip=mse lowers the squared error by %.1f%% (Q4_0) and %.1f%% (Q4_1),"
              " at the same size and GEMV cost\n",
              mse_drop(0), mse_drop(1));

  std::printf("\nGEMV y[%lld] = W[%lld, %lld] . x[%lld], one thread, median of %d runs;\n"
              "accuracy of y against the FP32 GEMV:\n",
              (long long)n, (long long)n, (long long)n, (long long)n, o.reps);
  std::printf("  %-8s %-20s %10s %8s   %s\n", "weights", "activations", "time", "speedup", "SQNR of y: RTN / clip=mse");
  PackedWeights f32;
  if (!check(PackedWeights::Pack(TensorType::F32, w.data(), w.size() * sizeof(float), n, n, &f32), "pack F32")) {
    return 1;
  }
  std::vector<float> y_ref(static_cast<size_t>(n)), y(static_cast<size_t>(n));
  const double f32_ms = time_gemv(f32, x.data(), y_ref.data(), Precision::kW4A32, o.reps);
  std::printf("  %-8s %-20s %7.3f ms %7.2fx\n", "FP32", "f32", f32_ms, 1.0);
  f32 = PackedWeights();  // free the FP32 copies before packing the INT4 ones
  w = std::vector<float>();

  // variants[2t] and [2t + 1] are type t quantized RTN and clip=mse: the
  // kernels cost the same for both, so only the RTN one is timed.
  const struct {
    Precision precision;
    const char* name;
  } modes[] = {{Precision::kW4A8, "int8 (W4A8)"}, {Precision::kW4A32, "f32 (W4A32)"}};
  for (int t = 0; t < 2; ++t) {
    PackedWeights packed[2];
    for (int c = 0; c < 2; ++c) {
      const Variant& v = variants[2 * t + c];
      if (!check(PackedWeights::Pack(v.type, v.bytes.data(), v.bytes.size(), n, n, &packed[c]), "pack INT4")) {
        return 1;
      }
    }
    for (const auto& mode : modes) {
      const double ms = time_gemv(packed[0], x.data(), y.data(), mode.precision, o.reps);
      double sqnr[2];
      for (int c = 0; c < 2; ++c) {
        if (!check(matmul(packed[c], x.data(), 1, y.data(), mode.precision), "matmul")) return 1;
        sqnr[c] = error_stats(y_ref.data(), y.data(), n).sqnr_db;
      }
      std::printf("  %-8s %-20s %7.3f ms %7.2fx   %5.2f dB / %5.2f dB\n", t == 0 ? "Q4_0" : "Q4_1",
                  mode.name, ms, f32_ms / ms, sqnr[0], sqnr[1]);
    }
  }
  return 0;
}

}  // namespace
}  // namespace nibble

int main(int argc, char** argv) {
  nibble::Options options;
  if (!nibble::parse_args(argc, argv, &options)) return 2;
  return nibble::run(options);
}
