// nibble_bench: single-thread timings of nibble's matmul and the
// streaming-read probe, for bench/run.mjs (or by hand):
//
//   node --no-experimental-fetch <build>/bench/nibble_bench.js [--json] [--quick]
//        [--shapes 2048x2048,4096x4096] [--m 1,64] [--variants q4_0:w4a8,q4_1:w4a32,q4_0:w4a4]
//        [--probe-mib 512] [--cold-mib 128] [--ratio-rounds 21] [--ratio-clock cpu|wall]
//        [--no-probe] [--no-matmul] [--dot-step] [--check K,N,M]
//
// Shapes are K×N: W is N×K, Y[M,N] = X[M,K] · Wᵀ. Weights are random INT4
// blocks (codes uniform in 0..15, fp16 scales), repacked once (PackedWeights)
// before timing, as a model load would. M = 1 is also timed "cold": cycling
// through copies of the weights totalling --cold-mib MiB, so they come from
// memory rather than the last-level cache. At M = 1, each W4A8 type's time
// ÷ Q4_0's is also measured in rounds (bench_shape, matmul_cases.h): the
// median over --ratio-rounds rounds (default 21, --quick 7; 0: none) and
// its spread, a same-run figure that a noisy machine moves less than the
// ratio of two medians timed seconds apart. --check prints one small case (Q4_0
// blocks, x and nibble's outputs) so the JS side can run the same weights
// through ONNX Runtime and compare. --dot-step times the GEMM tiles' inner
// step alone (dot_step_probe.h).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "bench_timing.h"
#include "dot_step_probe.h"
#include "matmul_cases.h"
#include "runtime/json_writer.h"
#include "stream_probe.h"

namespace nibble::bench {
namespace {

struct Options {
  bool json = false;
  bool quick = false;
  bool probe = true;
  bool matmul = true;
  bool dot_step = false;
  size_t probe_mib = 512;
  size_t cold_mib = 128;  // > 2× a 32 MiB L3
  int64_t ratio_rounds = -1;  // -1: 21, --quick 7
  bool ratio_cpu_clock = true;
  std::vector<Shape> shapes = {{2048, 2048}, {2048, 5632}, {5632, 2048}, {4096, 4096}};
  std::vector<int64_t> m_values = {1, 64};
  std::vector<Variant> variants = default_variants();
  bool check = false;
  Shape check_shape{64, 5};
  int64_t check_m = 3;
};

std::vector<std::string> split(const char* text, char sep) {
  std::vector<std::string> parts;
  std::string current;
  for (const char* p = text; *p; ++p) {
    if (*p == sep) {
      parts.push_back(current);
      current.clear();
    } else {
      current += *p;
    }
  }
  parts.push_back(current);
  return parts;
}

bool parse_int(const std::string& s, int64_t* out, bool allow_zero = false) {
  char* end = nullptr;
  const long long v = std::strtoll(s.c_str(), &end, 10);
  if (s.empty() || *end != '\0' || v < (allow_zero ? 0 : 1)) return false;
  *out = v;
  return true;
}

bool parse_shape(const std::string& s, Shape* out) {
  const size_t x = s.find('x');
  return x != std::string::npos && parse_int(s.substr(0, x), &out->K) && parse_int(s.substr(x + 1), &out->N);
}

// Returns false (after printing why) on a bad command line.
bool parse_options(int argc, char** argv, Options* o) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "--json") {
      o->json = true;
    } else if (arg == "--quick") {
      o->quick = true;
    } else if (arg == "--no-probe") {
      o->probe = false;
    } else if (arg == "--no-matmul") {
      o->matmul = false;
    } else if (arg == "--dot-step") {
      o->dot_step = true;
    } else if (arg == "--probe-mib" && has_value) {
      int64_t mib = 0;
      if (!parse_int(argv[++i], &mib)) return std::fprintf(stderr, "bad --probe-mib\n"), false;
      o->probe_mib = static_cast<size_t>(mib);
    } else if (arg == "--cold-mib" && has_value) {
      int64_t mib = 0;
      if (!parse_int(argv[++i], &mib, /*allow_zero=*/true)) return std::fprintf(stderr, "bad --cold-mib\n"), false;
      o->cold_mib = static_cast<size_t>(mib);
    } else if (arg == "--ratio-rounds" && has_value) {
      if (!parse_int(argv[++i], &o->ratio_rounds, /*allow_zero=*/true)) return std::fprintf(stderr, "bad --ratio-rounds\n"), false;
    } else if (arg == "--ratio-clock" && has_value) {
      const std::string clock = argv[++i];
      if (clock != "cpu" && clock != "wall") return std::fprintf(stderr, "bad --ratio-clock (cpu or wall)\n"), false;
      o->ratio_cpu_clock = clock == "cpu";
    } else if (arg == "--shapes" && has_value) {
      o->shapes.clear();
      for (const std::string& s : split(argv[++i], ',')) {
        Shape shape;
        if (!parse_shape(s, &shape)) return std::fprintf(stderr, "bad shape '%s' (want KxN)\n", s.c_str()), false;
        o->shapes.push_back(shape);
      }
    } else if (arg == "--m" && has_value) {
      o->m_values.clear();
      for (const std::string& s : split(argv[++i], ',')) {
        int64_t m = 0;
        if (!parse_int(s, &m)) return std::fprintf(stderr, "bad M '%s'\n", s.c_str()), false;
        o->m_values.push_back(m);
      }
    } else if (arg == "--variants" && has_value) {
      o->variants.clear();
      for (const std::string& s : split(argv[++i], ',')) {
        Variant v;
        if (!parse_variant(s, &v)) return std::fprintf(stderr, "bad variant '%s' (want q4_0:w4a8 ...)\n", s.c_str()), false;
        o->variants.push_back(v);
      }
    } else if (arg == "--check" && has_value) {
      const std::vector<std::string> parts = split(argv[++i], ',');
      if (parts.size() != 3 || !parse_int(parts[0], &o->check_shape.K) || !parse_int(parts[1], &o->check_shape.N) ||
          !parse_int(parts[2], &o->check_m)) {
        return std::fprintf(stderr, "bad --check (want K,N,M)\n"), false;
      }
      o->check = true;
    } else {
      std::fprintf(stderr, "unknown option %s\n", arg.c_str());
      return false;
    }
  }
  return true;
}

void write_probe(JsonWriter& json, const StreamProbeResult& probe) {
  json.key("stream_read").begin_object();
  json.key("bytes").number(static_cast<double>(probe.bytes));
  json.key("gbps").number(probe.gbps);
  json.key("best").string(probe.best);
  json.key("variants").begin_array();
  for (const StreamVariantResult& v : probe.variants) {
    json.begin_object();
    json.key("name").string(v.name);
    json.key("median_ms").number(v.median_ms);
    json.key("gbps").number(v.gbps);
    json.key("passes").number(v.passes);
    json.end_object();
  }
  json.end_array();
  json.end_object();
}

void write_dot_step(JsonWriter& json, const DotStepProbe& probe) {
  json.key("dot_step").begin_object();
  json.key("rounds").number(probe.rounds);
  json.key("steps").begin_array();
  for (const DotStepResult& d : probe.steps) {
    json.begin_object();
    json.key("name").string(d.name);
    json.key("macs_per_step").number(d.macs_per_step);
    json.key("median_ms").number(d.median_ms);
    json.key("gmacs").number(d.gmacs);
    json.end_object();
  }
  json.end_array();
  if (probe.has_ratio()) {
    json.key("relaxed_over_plain").begin_object();
    json.key("median").number(probe.ratio_median);
    json.key("q1").number(probe.ratio_q1);
    json.key("q3").number(probe.ratio_q3);
    json.end_object();
  }
  json.end_object();
}

void write_matmul(JsonWriter& json, const std::vector<MatmulResult>& rows) {
  json.key("matmul").begin_array();
  for (const MatmulResult& r : rows) {
    json.begin_object();
    json.key("type").string(r.variant.type_name());
    json.key("precision").string(r.variant.precision_name());
    json.key("K").number(static_cast<double>(r.shape.K));
    json.key("N").number(static_cast<double>(r.shape.N));
    json.key("M").number(static_cast<double>(r.M));
    json.key("ms").number(r.median_ms);
    json.key("gmacs").number(r.gmacs);
    json.key("weight_gbps").number(r.weight_gbps);
    json.key("weight_bytes").number(static_cast<double>(r.weight_bytes));
    json.key("gguf_bytes").number(static_cast<double>(r.gguf_bytes));
    json.key("reps").number(r.reps);
    if (r.ratio_rounds > 0) {  // this type's time ÷ Q4_0's, over rounds
      json.key("ratio_to_q4_0").begin_object();
      json.key("median").number(r.ratio_median);
      json.key("q1").number(r.ratio_q1);
      json.key("q3").number(r.ratio_q3);
      json.key("min").number(r.ratio_min);
      json.key("max").number(r.ratio_max);
      json.key("rounds").number(r.ratio_rounds);
      json.end_object();
    }
    if (r.cold_copies > 0) {
      json.key("cold_ms").number(r.cold_ms);
      json.key("cold_weight_gbps").number(r.cold_weight_gbps);
      json.key("cold_copies").number(r.cold_copies);
    }
    json.end_object();
  }
  json.end_array();
}

void print_table(const StreamProbeResult* probe, const DotStepProbe& steps, const std::vector<MatmulResult>& rows) {
  if (probe != nullptr) {
    std::printf("stream read %zu MiB: %.2f GB/s (best loop %s)\n", probe->bytes >> 20, probe->gbps, probe->best.c_str());
  }
  for (const DotStepResult& d : steps.steps) std::printf("GEMM tile step, %s: %.2f GMAC/s\n", d.name.c_str(), d.gmacs);
  std::printf("%-6s %-6s %6s %6s %4s %10s %8s %8s %5s %10s %8s  %s\n", "type", "prec", "K", "N", "M", "ms", "GMAC/s", "GB/s",
              "reps", "cold ms", "cold GB/s", "×q4_0 (median [IQR], rounds)");
  for (const MatmulResult& r : rows) {
    std::printf("%-6s %-6s %6lld %6lld %4lld %10.4f %8.2f %8.3f %5d", r.variant.type_name(), r.variant.precision_name(),
                static_cast<long long>(r.shape.K), static_cast<long long>(r.shape.N), static_cast<long long>(r.M),
                r.median_ms, r.gmacs, r.weight_gbps, r.reps);
    if (r.cold_copies > 0) std::printf(" %10.4f %8.3f", r.cold_ms, r.cold_weight_gbps);
    else if (r.ratio_rounds > 0) std::printf(" %10s %8s", "", "");
    if (r.ratio_rounds > 0) std::printf("  %.3f [%.3f, %.3f] %d", r.ratio_median, r.ratio_q1, r.ratio_q3, r.ratio_rounds);
    std::printf("\n");
  }
}

int run(int argc, char** argv) {
  Options o;
  if (!parse_options(argc, argv, &o)) return 2;
  if (o.check) {
    std::string out;
    const Status s = check_case(o.check_shape, o.check_m, &out);
    if (!s.ok()) return std::fprintf(stderr, "check failed: %s\n", s.message().c_str()), 1;
    std::printf("%s\n", out.c_str());
    return 0;
  }
  const Budget budget = o.quick ? quick_budget() : Budget{};

  StreamProbeResult probe;
  if (o.probe) {
    probe = stream_read_probe(o.probe_mib << 20, o.quick ? 3 : 7);
    if (probe.bytes == 0) return std::fprintf(stderr, "could not allocate %zu MiB for the probe\n", o.probe_mib), 1;
  }
  DotStepProbe steps;
  if (o.dot_step) steps = dot_step_probe(o.quick ? 7 : 21);
  std::vector<MatmulResult> rows;
  if (o.matmul) {
    const int ratio_rounds = int(o.ratio_rounds >= 0 ? o.ratio_rounds : o.quick ? 7 : 21);
    const BenchSettings settings{o.m_values, o.variants, budget, o.cold_mib << 20, ratio_rounds, o.ratio_cpu_clock};
    for (const Shape& shape : o.shapes) {
      const Status s = bench_shape(shape, settings, &rows);
      if (!s.ok()) return std::fprintf(stderr, "K=%lld N=%lld: %s\n", static_cast<long long>(shape.K),
                                       static_cast<long long>(shape.N), s.message().c_str()), 1;
    }
  }

  if (o.json) {
    JsonWriter json;
    json.begin_object();
    json.key("threads").number(1);
    json.key("simd").boolean(true);
    json.key("quick").boolean(o.quick);
    if (o.probe) write_probe(json, probe);
    if (o.dot_step) write_dot_step(json, steps);
    if (o.matmul) write_matmul(json, rows);
    json.end_object();
    std::printf("%s\n", json.str().c_str());
  } else {
    print_table(o.probe ? &probe : nullptr, steps, rows);
  }
  return 0;
}

}  // namespace
}  // namespace nibble::bench

int main(int argc, char** argv) { return nibble::bench::run(argc, argv); }
