// Timing helpers for the C++ benchmarks. Benchmarks report medians
// (DESIGN.md); the stopping rule matches bench/timing.mjs on the JS side:
// at least min_reps runs and min_seconds, but a slow case stops after
// max_seconds once it has 5 runs.
#pragma once

#include <algorithm>
#include <chrono>
#include <vector>

namespace nibble::bench {

struct Budget {
  int warmup = 2;
  int min_reps = 15;
  double min_seconds = 1.0;
  double max_seconds = 3.0;
};

inline Budget quick_budget() { return Budget{1, 5, 0.2, 1.0}; }

inline double now_ms() {
  using clock = std::chrono::steady_clock;
  return std::chrono::duration<double, std::milli>(clock::now().time_since_epoch()).count();
}

inline double median(std::vector<double> values) {
  if (values.empty()) return 0.0;
  std::sort(values.begin(), values.end());
  const size_t mid = values.size() / 2;
  return values.size() % 2 ? values[mid] : 0.5 * (values[mid - 1] + values[mid]);
}

// The value at fraction f (0..1) of sorted values, interpolated.
inline double quantile(const std::vector<double>& sorted, double f) {
  const double at = f * double(sorted.size() - 1);
  const size_t i = size_t(at);
  return i + 1 < sorted.size() ? sorted[i] + (at - double(i)) * (sorted[i + 1] - sorted[i]) : sorted[i];
}

// Runs fn() under the budget; returns per-run milliseconds.
template <typename Fn>
std::vector<double> time_runs(Fn&& fn, const Budget& budget) {
  for (int i = 0; i < budget.warmup; ++i) fn();
  std::vector<double> times;
  const double start = now_ms();
  for (;;) {
    const double t0 = now_ms();
    fn();
    const double t1 = now_ms();
    times.push_back(t1 - t0);
    const double elapsed_s = (t1 - start) / 1000.0;
    const int reps = static_cast<int>(times.size());
    if (reps >= budget.min_reps && elapsed_s >= budget.min_seconds) break;
    if (reps >= 5 && elapsed_s >= budget.max_seconds) break;
    if (reps >= 5000) break;
  }
  return times;
}

}  // namespace nibble::bench
