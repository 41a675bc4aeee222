#include "stream_probe.h"

#include <wasm_simd128.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>

namespace nibble::bench {
namespace {

// Result sink so the reads cannot be optimized away.
volatile uint32_t g_sink;

uint32_t fold(v128_t v) {
  return wasm_i32x4_extract_lane(v, 0) ^ wasm_i32x4_extract_lane(v, 1) ^
         wasm_i32x4_extract_lane(v, 2) ^ wasm_i32x4_extract_lane(v, 3);
}

// acc[j] ^= p[i + j] over 128 bytes per step, 8 independent accumulators.
uint32_t read_xor8(const v128_t* p, size_t count) {
  v128_t a0 = wasm_i32x4_splat(0), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
  for (size_t i = 0; i < count; i += 8) {
    a0 = wasm_v128_xor(a0, wasm_v128_load(p + i + 0));
    a1 = wasm_v128_xor(a1, wasm_v128_load(p + i + 1));
    a2 = wasm_v128_xor(a2, wasm_v128_load(p + i + 2));
    a3 = wasm_v128_xor(a3, wasm_v128_load(p + i + 3));
    a4 = wasm_v128_xor(a4, wasm_v128_load(p + i + 4));
    a5 = wasm_v128_xor(a5, wasm_v128_load(p + i + 5));
    a6 = wasm_v128_xor(a6, wasm_v128_load(p + i + 6));
    a7 = wasm_v128_xor(a7, wasm_v128_load(p + i + 7));
  }
  return fold(wasm_v128_xor(wasm_v128_xor(wasm_v128_xor(a0, a1), wasm_v128_xor(a2, a3)),
                            wasm_v128_xor(wasm_v128_xor(a4, a5), wasm_v128_xor(a6, a7))));
}

// acc[j] += p[i + j] (i32x4) over 64 bytes per step, 4 accumulators.
uint32_t read_add4(const v128_t* p, size_t count) {
  v128_t a0 = wasm_i32x4_splat(0), a1 = a0, a2 = a0, a3 = a0;
  for (size_t i = 0; i < count; i += 4) {
    a0 = wasm_i32x4_add(a0, wasm_v128_load(p + i + 0));
    a1 = wasm_i32x4_add(a1, wasm_v128_load(p + i + 1));
    a2 = wasm_i32x4_add(a2, wasm_v128_load(p + i + 2));
    a3 = wasm_i32x4_add(a3, wasm_v128_load(p + i + 3));
  }
  return fold(wasm_i32x4_add(wasm_i32x4_add(a0, a1), wasm_i32x4_add(a2, a3)));
}

// 256 bytes per step into 4 accumulators (two loads xor-ed per add), fewer
// loop branches per byte.
uint32_t read_xor16(const v128_t* p, size_t count) {
  v128_t a0 = wasm_i32x4_splat(0), a1 = a0, a2 = a0, a3 = a0;
  for (size_t i = 0; i < count; i += 16) {
    for (size_t j = 0; j < 16; j += 8) {
      a0 = wasm_i32x4_add(a0, wasm_v128_xor(wasm_v128_load(p + i + j + 0), wasm_v128_load(p + i + j + 4)));
      a1 = wasm_i32x4_add(a1, wasm_v128_xor(wasm_v128_load(p + i + j + 1), wasm_v128_load(p + i + j + 5)));
      a2 = wasm_i32x4_add(a2, wasm_v128_xor(wasm_v128_load(p + i + j + 2), wasm_v128_load(p + i + j + 6)));
      a3 = wasm_i32x4_add(a3, wasm_v128_xor(wasm_v128_load(p + i + j + 3), wasm_v128_load(p + i + j + 7)));
    }
  }
  return fold(wasm_i32x4_add(wasm_i32x4_add(a0, a1), wasm_i32x4_add(a2, a3)));
}

struct Variant {
  const char* name;
  uint32_t (*read)(const v128_t*, size_t);
};

}  // namespace

uint32_t stream_read(const void* p, size_t bytes) {
  return read_xor8(static_cast<const v128_t*>(p), bytes / sizeof(v128_t));
}

StreamProbeResult stream_read_probe(size_t bytes, int passes) {
  StreamProbeResult result;
  bytes &= ~size_t{255};  // every variant steps in whole 256-byte groups
  auto* buffer = static_cast<v128_t*>(std::aligned_alloc(64, bytes));
  if (buffer == nullptr) return result;
  // Write every page so the reads hit committed memory, with non-zero data.
  auto* raw = reinterpret_cast<uint32_t*>(buffer);
  for (size_t i = 0; i < bytes / 4; ++i) raw[i] = static_cast<uint32_t>(i * 2654435761u);

  const Variant variants[] = {{"xor8", read_xor8}, {"add4", read_add4}, {"xor16", read_xor16}};
  const size_t count = bytes / sizeof(v128_t);
  result.bytes = bytes;
  for (const Variant& v : variants) {
    Budget budget;
    budget.warmup = 1;
    budget.min_reps = passes;
    budget.min_seconds = 0;
    budget.max_seconds = 1e9;
    const std::vector<double> times = time_runs([&] { g_sink = g_sink + v.read(buffer, count); }, budget);
    StreamVariantResult r;
    r.name = v.name;
    r.passes = static_cast<int>(times.size());
    r.median_ms = median(times);
    r.gbps = static_cast<double>(bytes) / (r.median_ms * 1e6);
    if (r.gbps > result.gbps) {
      result.gbps = r.gbps;
      result.best = r.name;
    }
    result.variants.push_back(r);
  }
  std::free(buffer);
  return result;
}

}  // namespace nibble::bench
