// nibble_threads_bench: matmul speed with 1 vs n threads (ThreadPool), for
// the wasm SIMD + pthreads build run under Node (bench/sections/threads.mjs).
//
//   nibble_threads_bench [--quick] [--threads 1,2] [--shapes 4096x4096] [--m 1,64]
//                        [--type q4_0] [--precision w4a8] [--rounds 7] [--cold-mib 0]
//   nibble_threads_bench [--quick] [--threads 1,2] [--rounds 7] --probe-mib 256
//
// Y[M,N] = X[M,K] · W[N,K]ᵀ with W random, quantized by quantize_matrix and
// packed once. The thread counts are measured in alternating rounds (1, 2,
// 1, 2, ...), each round a short timing budget, so a change in the load of a
// shared machine hits every count alike; the report per case is the median
// of all calls of all rounds. --cold-mib N: each call reads the next of
// enough identical weight copies to fill N MiB (more than the last-level
// cache), so weights come from memory as in a model's forward pass.
// --probe-mib N: instead, read bandwidth from memory: passes over an N MiB
// buffer, each thread count reading it in contiguous shares through the
// pool (as a GEMV splits its rows), the ceiling of a memory-bound decode's
// speed-up from threads.
// Output: one JSON object on stdout.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "bench_timing.h"
#include "kernels/matmul.h"
#include "kernels/packed_weights.h"
#include "quant/quantize.h"
#include "runtime/json_writer.h"
#include "runtime/thread_pool.h"
#include "stream_probe.h"

namespace nibble::bench {
namespace {

struct Options {
  std::vector<int> threads{1, 2};
  std::vector<std::pair<int64_t, int64_t>> shapes{{4096, 4096}};  // {K, N}
  std::vector<int64_t> m_values{1, 64};
  TensorType type = TensorType::Q4_0;
  Precision precision = Precision::kW4A8;
  int rounds = 7;
  int64_t cold_mib = 0;
  int64_t probe_mib = 0;
  bool quick = false;
};

std::vector<std::string> split(const std::string& text, char sep) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (;;) {
    const size_t at = text.find(sep, start);
    parts.push_back(text.substr(start, at - start));
    if (at == std::string::npos) return parts;
    start = at + 1;
  }
}

bool positive(const std::string& s, int64_t* out) {
  char* end = nullptr;
  const long long v = std::strtoll(s.c_str(), &end, 10);
  if (s.empty() || *end != '\0' || v <= 0) return false;
  *out = v;
  return true;
}

bool parse(int argc, char** argv, Options* o) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const bool has_value = i + 1 < argc;
    int64_t v = 0;
    if (arg == "--quick") {
      o->quick = true;
      o->rounds = 3;
    } else if (arg == "--threads" && has_value) {
      o->threads.clear();
      for (const std::string& s : split(argv[++i], ',')) {
        if (!positive(s, &v) || v > 64) return false;
        o->threads.push_back(int(v));
      }
    } else if (arg == "--m" && has_value) {
      o->m_values.clear();
      for (const std::string& s : split(argv[++i], ',')) {
        if (!positive(s, &v)) return false;
        o->m_values.push_back(v);
      }
    } else if (arg == "--shapes" && has_value) {  // KxN,KxN
      o->shapes.clear();
      for (const std::string& s : split(argv[++i], ',')) {
        const std::vector<std::string> kn = split(s, 'x');
        int64_t k = 0, n = 0;
        if (kn.size() != 2 || !positive(kn[0], &k) || !positive(kn[1], &n) || k % kQK != 0) return false;
        o->shapes.emplace_back(k, n);
      }
    } else if (arg == "--type" && has_value) {
      const std::string t = argv[++i];
      const TensorTypeInfo* info = tensor_type_by_name(t.c_str());
      if (info == nullptr || info->kernels != KernelFamily::kQ4Panels) return false;
      o->type = info->type;
    } else if (arg == "--precision" && has_value) {
      const std::string p = argv[++i];
      if (p == "w4a8") o->precision = Precision::kW4A8;
      else if (p == "w4a32") o->precision = Precision::kW4A32;
      else return false;
    } else if (arg == "--cold-mib" && has_value) {
      if (!positive(argv[++i], &v)) return false;
      o->cold_mib = v;
    } else if (arg == "--probe-mib" && has_value) {
      if (!positive(argv[++i], &v) || v > 2048) return false;
      o->probe_mib = v;
    } else if (arg == "--rounds" && has_value) {
      if (!positive(argv[++i], &v)) return false;
      o->rounds = int(v);
    } else {
      return false;
    }
  }
  return true;
}

// W[N,K] random in [-1, 1), quantized: N GGUF rows.
Status random_quantized(TensorType type, int64_t N, int64_t K, std::vector<uint8_t>* out) {
  std::mt19937 rng{uint32_t(N * 31 + K)};
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<float> w(size_t(N * K));
  for (float& v : w) v = u(rng);
  out->resize(size_t(N) * row_size(type, K));
  return quantize_matrix(type, w.data(), N, K, QuantizeOptions{}, out->data(), out->size());
}

// Read bandwidth per thread count: {rounds, probe_mib, probe: [{threads, median_ms, gbps, passes}]}.
int run_probe(const Options& o, const std::vector<std::unique_ptr<ThreadPool>>& pools, const Budget& round_budget) {
  constexpr int64_t kChunk = 64 << 10;  // bytes per work item
  const int64_t bytes = o.probe_mib << 20;
  auto* buffer = static_cast<uint32_t*>(std::aligned_alloc(64, size_t(bytes)));
  if (buffer == nullptr) {
    std::fprintf(stderr, "no memory for a %lld MiB probe buffer\n", (long long)o.probe_mib);
    return 1;
  }
  for (int64_t i = 0; i < bytes / 4; ++i) buffer[i] = uint32_t(i) * 2654435761u;  // every page written
  std::vector<uint32_t> sinks(size_t(bytes / kChunk));
  std::vector<std::vector<double>> times(o.threads.size());
  for (int round = 0; round < o.rounds; ++round) {
    for (size_t t = 0; t < o.threads.size(); ++t) {
      const std::vector<double> part = time_runs(
          [&] {
            parallel_for_if(pools[t].get(), true, bytes / kChunk, 1, [&](int64_t c0, int64_t c1) {
              for (int64_t c = c0; c < c1; ++c)
                sinks[size_t(c)] += stream_read(reinterpret_cast<const uint8_t*>(buffer) + c * kChunk, kChunk);
            });
          },
          round_budget);
      times[t].insert(times[t].end(), part.begin(), part.end());
    }
  }
  std::free(buffer);
  JsonWriter json;
  json.begin_object().key("rounds").number(o.rounds).key("probe_mib").number(double(o.probe_mib)).key("probe").begin_array();
  for (size_t t = 0; t < o.threads.size(); ++t) {
    const double ms = median(times[t]);
    json.begin_object().key("threads").number(o.threads[t]).key("median_ms").number(ms);
    json.key("gbps").number(double(bytes) / (ms * 1e6)).key("passes").number(double(times[t].size())).end_object();
  }
  json.end_array().end_object();
  std::printf("%s\n", json.str().c_str());
  return 0;
}

int run(int argc, char** argv) {
  Options o;
  if (!parse(argc, argv, &o)) {
    std::fprintf(stderr,
                 "usage: nibble_threads_bench [--quick] [--threads 1,2] [--shapes 4096x4096] [--m 1,64] "
                 "[--type q4_0|q4_1] [--precision w4a8|w4a32] [--rounds 7] [--cold-mib 0] [--probe-mib N]\n");
    return 2;
  }
  // One pool per thread count, made once (threads start once, as in a model).
  std::vector<std::unique_ptr<ThreadPool>> pools;
  for (int t : o.threads) pools.emplace_back(t > 1 ? new ThreadPool(t) : nullptr);
  Budget round_budget = o.quick ? Budget{1, 3, 0.05, 0.3} : Budget{1, 5, 0.25, 1.0};
  if (o.probe_mib > 0) return run_probe(o, pools, round_budget);

  JsonWriter json;
  json.begin_object().key("type").string(tensor_type_info(o.type)->name);
  json.key("precision").string(o.precision == Precision::kW4A32 ? "w4a32" : "w4a8");
  json.key("rounds").number(o.rounds);
  json.key("cold_mib").number(double(o.cold_mib));
  json.key("rows").begin_array();
  for (const auto& kn : o.shapes) {
    const int64_t K = kn.first, N = kn.second;
    // One copy, or enough copies to fill cold_mib.
    std::vector<uint8_t> q;
    std::vector<PackedWeights> copies(1);
    Status s = random_quantized(o.type, N, K, &q);
    if (s.ok()) s = PackedWeights::Pack(o.type, q.data(), q.size(), N, K, &copies[0]);
    while (s.ok() && copies.size() * copies[0].bytes() < size_t(o.cold_mib) << 20) {
      copies.emplace_back();
      s = PackedWeights::Pack(o.type, q.data(), q.size(), N, K, &copies.back());
    }
    if (!s.ok()) {
      std::fprintf(stderr, "weights %lldx%lld: %s\n", (long long)K, (long long)N, s.message().c_str());
      return 1;
    }
    size_t turn = 0;
    for (int64_t M : o.m_values) {
      std::mt19937 rng{uint32_t(M)};
      std::normal_distribution<float> normal(0.0f, 1.0f);
      std::vector<float> x(size_t(M * K)), y(size_t(M * N));
      for (float& v : x) v = normal(rng);
      std::vector<std::vector<double>> times(o.threads.size());
      for (int round = 0; round < o.rounds; ++round) {
        for (size_t t = 0; t < o.threads.size(); ++t) {
          ThreadPool* pool = pools[t].get();
          const std::vector<double> part = time_runs(
              [&] {
                const PackedWeights& w = copies[turn++ % copies.size()];
                if (!matmul(w, x.data(), M, y.data(), o.precision, pool).ok()) std::abort();
              },
              round_budget);
          times[t].insert(times[t].end(), part.begin(), part.end());
        }
      }
      for (size_t t = 0; t < o.threads.size(); ++t) {
        const double ms = median(times[t]);
        json.begin_object().key("K").number(double(K)).key("N").number(double(N)).key("M").number(double(M));
        json.key("threads").number(o.threads[t]).key("median_ms").number(ms);
        json.key("gmacs").number(double(M) * double(N) * double(K) / (ms * 1e6));
        json.key("calls").number(double(times[t].size())).key("copies").number(double(copies.size())).end_object();
      }
    }
  }
  json.end_array().end_object();
  std::printf("%s\n", json.str().c_str());
  return 0;
}

}  // namespace
}  // namespace nibble::bench

int main(int argc, char** argv) { return nibble::bench::run(argc, argv); }
