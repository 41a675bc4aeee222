#include "dot_step_probe.h"

#include <wasm_simd128.h>

#include <algorithm>
#include <cstdint>

#include "kernels/wasmsimd_util.h"

namespace nibble::bench {
namespace {

using wasmsimd::opaque_pointers;

// 256 steps: codes 256 × 32 bytes (8 KB), words 256 × 4 int32 (4 KB).
constexpr int kSteps = 256;
constexpr int kDotStepPasses = 16384;  // ~6 ms a call
alignas(16) uint8_t g_codes[kSteps * 32];
alignas(16) int32_t g_words[kSteps * 4];
volatile int32_t g_sink;

int32_t fold(const v128_t (&sum)[4][2]) {
  v128_t t = wasm_i32x4_splat(0);
  for (int r = 0; r < 4; ++r)
    for (int p = 0; p < 2; ++p) t = wasm_i32x4_add(t, sum[r][p]);
  return wasm_i32x4_extract_lane(t, 0) ^ wasm_i32x4_extract_lane(t, 1) ^ wasm_i32x4_extract_lane(t, 2) ^
         wasm_i32x4_extract_lane(t, 3);
}

// The tiles' step as they write it: the four rows' activation words
// broadcast, the two groups' code vectors loaded, eight dots added to eight
// sums, the two pointers advanced through opaque_pointers in a rolled loop.
// A function of its own, called once per timed run, so that V8 compiles it
// again with TurboFan after the first calls (a loop inlined into a function
// that runs once would stay in its baseline tier).
template <bool kRelaxed>
__attribute__((noinline)) int32_t run_steps() {
  v128_t sum[4][2];
  for (int r = 0; r < 4; ++r)
    for (int p = 0; p < 2; ++p) sum[r][p] = wasm_i32x4_splat(r + p);
  for (int pass = 0; pass < kDotStepPasses; ++pass) {
    const uint8_t* codes = g_codes;
    const int32_t* words = g_words;
    const int32_t* const words_end = g_words + 4 * kSteps;
    do {
      const v128_t a[4] = {wasm_v128_load32_splat(words), wasm_v128_load32_splat(words + 1), wasm_v128_load32_splat(words + 2),
                           wasm_v128_load32_splat(words + 3)};
      const v128_t c[2] = {wasm_v128_load(codes), wasm_v128_load(codes + 16)};
#pragma clang loop unroll(full)
      for (int r = 0; r < 4; ++r)
#pragma clang loop unroll(full)
        for (int p = 0; p < 2; ++p) {
          if constexpr (kRelaxed) {  // (instantiated in relaxed builds only: the placeholder op, wasmsimd_util.h)
            sum[r][p] = wasm_i16x8_add(sum[r][p], wasmsimd::relaxed_dot_i8x16_i7x16(a[r], c[p]));
          } else {
            sum[r][p] = wasm_i32x4_add(sum[r][p], wasm_i32x4_dot_i16x8(c[p], a[r]));
          }
        }
      codes += 32;
      words += 4;
      opaque_pointers(codes, words);
    } while (words != words_end);
  }
  return fold(sum);
}

double time_call(int32_t (*steps)()) {
  const double t0 = now_ms();
  g_sink = g_sink + steps();
  return now_ms() - t0;
}

}  // namespace

DotStepProbe dot_step_probe(int rounds) {
  // Codes 0..15 (the relaxed dot's 7-bit operand must be), words any int8s.
  for (int i = 0; i < kSteps * 32; ++i) g_codes[i] = uint8_t((i * 7) & 15);
  for (int i = 0; i < kSteps * 4; ++i) g_words[i] = int32_t(uint32_t(i) * 2654435761u);
  struct Step {
    const char* name;
    int macs;
    int32_t (*run)();
    std::vector<double> times;
  };
  std::vector<Step> steps;
#ifdef NIBBLE_RELAXED_SIMD
  steps.push_back({"relaxed", 128, run_steps<true>, {}});
#endif
  steps.push_back({"plain", 64, run_steps<false>, {}});
  // Warm-up: V8 runs a function in its baseline tier until its TurboFan
  // code, compiled in the background after the first calls, is ready (three
  // calls of each were not always enough: a step timed at half speed);
  // ~0.3 s of calls each. Then the steps in turn each round, so that a
  // change in the machine's speed meets both.
  for (Step& st : steps)
    for (double spent = 0; spent < 300;) spent += time_call(st.run);
  std::vector<double> ratios;
  for (int round = 0; round < rounds; ++round) {
    for (Step& st : steps) st.times.push_back(time_call(st.run));
    if (steps.size() == 2) {  // GMAC/s ÷ GMAC/s: the same steps, 128 and 64 multiply-adds each
      ratios.push_back(steps[0].macs * steps[1].times.back() / (steps[1].macs * steps[0].times.back()));
    }
  }
  DotStepProbe probe;
  probe.rounds = rounds;
  if (!ratios.empty()) {
    std::sort(ratios.begin(), ratios.end());
    probe.ratio_median = quantile(ratios, 0.5);
    probe.ratio_q1 = quantile(ratios, 0.25);
    probe.ratio_q3 = quantile(ratios, 0.75);
  }
  for (const Step& st : steps) {
    DotStepResult r;
    r.name = st.name;
    r.macs_per_step = st.macs;
    r.median_ms = median(st.times);
    r.gmacs = double(st.macs) * kSteps * kDotStepPasses / (r.median_ms * 1e6);
    probe.steps.push_back(r);
  }
  return probe;
}

}  // namespace nibble::bench
