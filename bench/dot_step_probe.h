// The inner step of the M = 64 W4A8 GEMM tiles (4 activation rows × 8
// weight rows) alone, looped over an L1-resident block of codes and
// activation words: what that tile shape can do per second in this engine
// before its block updates, unpacking and memory. The GEMM's GMAC/s ÷ its
// step's says how close the tile runs to its own loop; the plain step's ÷
// the relaxed step's bounds how near plain SIMD can come to relaxed SIMD.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "bench_timing.h"

namespace nibble::bench {

struct DotStepResult {
  std::string name;       // "relaxed" (q4_q8_gemm_wasmrelaxedsimd.h) or "plain" (q4_q8_wasmsimd.h)
  int macs_per_step = 0;  // 128: 8 relaxed i8 dots; 64: 8 i32x4.dot_i16x8_s
  double median_ms = 0;   // one call: a fixed number of passes over the block
  double gmacs = 0;
};

struct DotStepProbe {
  int rounds = 0;                    // timed calls of each step, in turn
  std::vector<DotStepResult> steps;  // relaxed (relaxed-SIMD builds), then plain
  // Relaxed GMAC/s ÷ plain GMAC/s per round (relaxed builds, both steps).
  bool has_ratio() const { return steps.size() == 2; }
  double ratio_median = 0, ratio_q1 = 0, ratio_q3 = 0;
};

// Both steps in a relaxed-SIMD build, the plain step in a SIMD build; one
// call of each per round, in turn.
DotStepProbe dot_step_probe(int rounds);

}  // namespace nibble::bench
