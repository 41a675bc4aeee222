// The matmul half of nibble_bench: random INT4 weights per shape, repacked
// once, then each (type, precision, M) case timed single-threaded.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "bench_timing.h"
#include "kernels/matmul.h"
#include "quant/block_formats.h"
#include "runtime/status.h"

namespace nibble::bench {

// W is N×K; Y[M,N] = X[M,K] · Wᵀ.
struct Shape {
  int64_t K = 0;
  int64_t N = 0;
};

struct Variant {
  TensorType type = TensorType::Q4_0;
  Precision precision = Precision::kW4A8;
  bool cold = false;  // also time M = 1 with the weights out of cache
  const char* type_name() const;       // "q4_0"
  const char* precision_name() const;  // "w4a8"
};

// Q4_0·W4A8 (the headline) first, then the extra rows.
std::vector<Variant> default_variants();
// "q4_0:w4a8" -> Variant (cold on); false if either half is unknown.
bool parse_variant(const std::string& text, Variant* out);

struct MatmulResult {
  Variant variant;
  Shape shape;
  int64_t M = 0;
  double median_ms = 0;
  double gmacs = 0;         // M·N·K / time, 1e9 per second
  double weight_gbps = 0;   // packed weight bytes / time, 1e9 bytes per second
  size_t weight_bytes = 0;  // bytes the kernel streams: PackedWeights::bytes()
  size_t gguf_bytes = 0;    // the same weights in the GGUF file layout
  int reps = 0;
  // Cold M = 1 (if the variant asks): each call reads the next of
  // cold_copies identical matrices, together larger than the last-level
  // cache, so the weights come from memory as in a real model's forward pass.
  double cold_ms = 0;
  double cold_weight_gbps = 0;
  int cold_copies = 0;
  // M = 1 W4A8 rows other than Q4_0's, when the settings ask for ratio
  // rounds: this type's time ÷ Q4_0's, per round (see bench_shape), over
  // ratio_rounds rounds: median, quartiles, extremes.
  int ratio_rounds = 0;
  double ratio_median = 0, ratio_q1 = 0, ratio_q3 = 0, ratio_min = 0, ratio_max = 0;
};

struct BenchSettings {
  std::vector<int64_t> m_values;
  std::vector<Variant> variants;
  Budget budget;
  size_t cold_bytes = 0;  // total size of the cold copies; 0 = no cold runs
  int ratio_rounds = 0;   // rounds of the same-run ratio to Q4_0 (M = 1, W4A8); 0 = none
  bool ratio_cpu_clock = true;  // the rounds time CPU time (false: wall time)
};

// Times every variant and M for one shape; appends one row per case. Then,
// if settings.ratio_rounds > 0, M = 1 is in m_values and q4_0:w4a8 with
// another W4A8 variant in variants, the ratio rounds: each round times a
// short burst of every W4A8 type in turn, Q4_0 first and last (one warm-up
// call, then the fastest of a few), and divides each type's time by the
// mean of that round's two Q4_0 bursts. A ratio from one round, types
// milliseconds apart, sees one machine state; the median over rounds drops
// the rounds a neighbour's burst of work hit.
Status bench_shape(const Shape& shape, const BenchSettings& settings, std::vector<MatmulResult>* rows);

// One small Q4_0 case as JSON: {K, N, M, q4_0_base64, x, y_w4a32, y_w4a8}.
Status check_case(const Shape& shape, int64_t M, std::string* json);

}  // namespace nibble::bench
