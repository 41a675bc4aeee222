#!/usr/bin/env bash
# Builds what is stale: the native build (tests), the native build under
# AddressSanitizer + UndefinedBehaviorSanitizer (tests), the wasm SIMD build (tests +
# JS module), the wasm relaxed-SIMD build (tests + JS module), the wasm SIMD +
# pthreads build and its relaxed-SIMD twin (tests + JS modules) and the wasm
# no-SIMD build (JS module). Output in build/ and dist/.
#   tools/build.sh [--quiet] [--dist] [--tests] [--extras] [--only native|native-asan|wasm-simd|wasm-simd-relaxed|wasm-simd-threads|wasm-simd-relaxed-threads|wasm-scalar]...
#   --dist: only the wasm builds whose modules dist/ (the npm package) holds.
#   --tests: also the C++ test programs (ctest; npm test); --extras: also the
#   benchmark programs and tools (npm run bench). Without them: the core and
#   the JS modules only.
set -euo pipefail
cd "$(dirname "$0")/.."
# Emscripten 3.1.6's tools need Debian's node modules (acorn) on NODE_PATH.
export NODE_PATH=/usr/share/nodejs
# em++ is a Python script; Debian's python3 (which Emscripten is packaged for)
# starts faster than a pyenv shim that may come first on PATH: about 0.5 s of
# CPU per compile.
if [ -x /usr/bin/python3 ]; then export EMSDK_PYTHON=/usr/bin/python3; fi
jobs=$(nproc)
quiet=0
only=()
targets=(all)
while [ $# -gt 0 ]; do
  case "$1" in
    --quiet) quiet=1 ;;
    --only) only+=("$2"); shift ;;
    --tests) targets+=(nibble_tests) ;;
    --extras) targets+=(nibble_extras) ;;
    --dist) only+=(wasm-simd wasm-simd-relaxed wasm-simd-threads wasm-simd-relaxed-threads wasm-scalar) ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
[ ${#only[@]} -gt 0 ] || only=(native native-asan wasm-simd wasm-simd-relaxed wasm-simd-threads wasm-simd-relaxed-threads wasm-scalar)

node_emulator="$(command -v node)"
# Node 20 runs the relaxed-SIMD builds' tests only behind a flag.
node_relaxed="$node_emulator;--no-experimental-fetch;--experimental-wasm-relaxed-simd"
configure() {  # dir, then cmake args
  local dir=$1; shift
  if [ ! -f "$dir/CMakeCache.txt" ]; then
    "$@" -S . -B "$dir" -DCMAKE_BUILD_TYPE=Release >/dev/null
  fi
}
run() { if [ "$quiet" = 1 ]; then "$@" >/dev/null; else "$@"; fi; }
# One cmake --build per target: the first may regenerate the build system
# (a changed CMakeLists.txt), which a make started with the later targets
# already named would not see.
build() {
  local target
  for target in "${targets[@]}"; do run cmake --build "$1" -j "$jobs" --target "$target"; done
}

for what in "${only[@]}"; do
  case "$what" in
    native)
      configure build/native cmake -DNIBBLE_TESTS=ON
      build build/native ;;
    native-asan)
      # clang: it compiles this build in 0.57x the CPU time of GCC (ASan and
      # UBSan at -O1 -g), and it is the compiler of the wasm builds and the
      # fuzzers. The plain native build keeps the system's c++ (GCC).
      if ! command -v clang++ >/dev/null; then
        echo "build: the native-asan build needs clang++ (apt-get install -y clang, or bash tools/ensure-deps.sh --fuzz)" >&2
        exit 1
      fi
      configure build/native-asan cmake -DNIBBLE_TESTS=ON -DNIBBLE_SANITIZE=ON -DCMAKE_CXX_COMPILER=clang++
      build build/native-asan ;;
    wasm-simd)
      configure build/wasm-simd emcmake cmake -DNIBBLE_SIMD=ON \
        "-DCMAKE_CROSSCOMPILING_EMULATOR=$node_emulator;--no-experimental-fetch"
      build build/wasm-simd ;;
    wasm-simd-relaxed)
      configure build/wasm-simd-relaxed emcmake cmake -DNIBBLE_SIMD=ON -DNIBBLE_RELAXED_SIMD=ON \
        "-DCMAKE_CROSSCOMPILING_EMULATOR=$node_relaxed"
      build build/wasm-simd-relaxed ;;
    wasm-simd-threads)
      configure build/wasm-simd-threads emcmake cmake -DNIBBLE_SIMD=ON -DNIBBLE_THREADS=ON \
        "-DCMAKE_CROSSCOMPILING_EMULATOR=$node_emulator;--no-experimental-fetch"
      build build/wasm-simd-threads ;;
    wasm-simd-relaxed-threads)
      configure build/wasm-simd-relaxed-threads emcmake cmake -DNIBBLE_SIMD=ON -DNIBBLE_RELAXED_SIMD=ON -DNIBBLE_THREADS=ON \
        "-DCMAKE_CROSSCOMPILING_EMULATOR=$node_relaxed"
      build build/wasm-simd-relaxed-threads ;;
    wasm-scalar)
      configure build/wasm-scalar emcmake cmake -DNIBBLE_SIMD=OFF -DNIBBLE_TESTS=OFF
      build build/wasm-scalar ;;
    *) echo "unknown build $what" >&2; exit 2 ;;
  esac
done

# The JS package (ESM, CommonJS, script-tag global) around the wasm builds.
if [ -f dist/nibble-simd.wasm ] || [ -f dist/nibble-scalar.wasm ]; then
  run node web/build.mjs
fi
