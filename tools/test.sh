#!/usr/bin/env bash
# npm test: install what is missing, build what is stale, run every suite:
# C++ tests natively under ASan + UBSan and as wasm (SIMD, relaxed SIMD,
# pthreads) under Node,
# the JS tests (Jest), the
# TypeScript usage check, the browser tests (Playwright + Chromium, then the
# core cases in Firefox ESR through puppeteer-core), then every libFuzzer
# target for NIBBLE_FUZZ_SECONDS (default 60; 0 skips them).
# NIBBLE_LARGE=1 adds the 2.6 GiB model in Node and Chromium (minutes;
# alone: npm run test:large).
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/ensure-deps.sh --browser --fuzz
# Every build but the plain native one (npm run bench's; the native tests
# run under the sanitizers), and the fuzz targets (run last). Two groups of
# builds at once, each make -j nproc: a build's configure and last links run
# on one core, and the other group's compiles fill the second. The logs are
# shown when both groups end.
build_logs=$(mktemp -d)
trap 'rm -rf "$build_logs"' EXIT
fuzz_seconds=${NIBBLE_FUZZ_SECONDS:-60}
{
  bash tools/build.sh --tests --only native-asan --only wasm-simd-threads --only wasm-scalar
  if [ "$fuzz_seconds" != 0 ]; then bash tools/fuzz.sh --build-only; fi
} >"$build_logs/a" 2>&1 &
group_a=$!
bash tools/build.sh --tests --only wasm-simd --only wasm-simd-relaxed --only wasm-simd-relaxed-threads \
  >"$build_logs/b" 2>&1 &
group_b=$!
builds_ok=1
wait "$group_a" || builds_ok=0
wait "$group_b" || builds_ok=0
cat "$build_logs/a" "$build_logs/b"
if [ "$builds_ok" = 0 ]; then echo "nibble: a build failed (its log is above)" >&2; exit 1; fi

step() { printf '\n== %s\n' "$*"; }
step "Generated code is fresh"
python3 tools/gen_unicode_tables.py --check
python3 tools/gen_tensor_types.py --check
step "C++ tests, native under AddressSanitizer + UndefinedBehaviorSanitizer (with the thread tests)"
(cd build/native-asan && ctest --output-on-failure -j "$(nproc)")
step "C++ tests, wasm SIMD under Node (one thread: no thread tests)"
(cd build/wasm-simd && ctest --output-on-failure -j "$(nproc)")
step "C++ tests, wasm relaxed SIMD under Node (the kernel tier, quantizers and model; one thread)"
(cd build/wasm-simd-relaxed && ctest --output-on-failure -j "$(nproc)")
step "C++ tests, wasm SIMD + pthreads under Node (the thread tests and the golden model)"
(cd build/wasm-simd-threads && ctest --output-on-failure)
step "C++ tests, wasm relaxed SIMD + pthreads under Node (the thread tests and the golden model)"
(cd build/wasm-simd-relaxed-threads && ctest --output-on-failure)
if [ -d tests/js ]; then
  step "JS tests (Jest)"
  npx jest --ci
fi
if [ -f tests/types/tsconfig.json ]; then
  step "TypeScript usage example"
  npx tsc --noEmit -p tests/types
fi
if ls tests/browser/*.test.mjs >/dev/null 2>&1; then
  step "Browser tests (Chromium)"
  node --test --test-concurrency=1 tests/browser/*.test.mjs
  step "Browser tests (Firefox ESR: the core cases)"
  node --test --test-concurrency=1 tests/browser/firefox/*.test.mjs
fi
if [ "${NIBBLE_LARGE:-0}" = 1 ]; then
  step "A 2.6 GiB model in Node and Chromium (NIBBLE_LARGE=1)"
  node --test --test-concurrency=1 tests/large/*.test.mjs
fi
if [ "$fuzz_seconds" != 0 ]; then
  # Last, alone: all five targets at once share the two cores.
  step "Fuzzing: each libFuzzer target for $fuzz_seconds s, all at once"
  bash tools/fuzz.sh --seconds "$fuzz_seconds" --parallel 5
fi
echo; echo "nibble: all tests passed"
