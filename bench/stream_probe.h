// Streaming-read probe: how fast one wasm SIMD loop can read a buffer much
// larger than the caches. It is the ceiling for a memory-bound GEMV, which
// must read every weight byte once per call.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "bench_timing.h"

namespace nibble::bench {

struct StreamVariantResult {
  std::string name;       // e.g. "xor8": 8 accumulators, v128.xor
  double median_ms = 0;   // one pass over the buffer
  double gbps = 0;        // bytes / median time, 1 GB = 1e9 bytes
  int passes = 0;
};

struct StreamProbeResult {
  size_t bytes = 0;
  double gbps = 0;        // the fastest variant's median
  std::string best;
  std::vector<StreamVariantResult> variants;
};

// Reads a `bytes`-byte buffer (rounded down to 256 bytes) `passes` times per
// loop variant; returns each variant's median and the fastest. Returns
// bytes == 0 if the buffer could not be allocated.
StreamProbeResult stream_read_probe(size_t bytes, int passes);

// Reads [p, p + bytes) once with the "xor8" loop (bytes a multiple of 128,
// p 16-byte aligned); returns a fold of what it read.
uint32_t stream_read(const void* p, size_t bytes);

}  // namespace nibble::bench
