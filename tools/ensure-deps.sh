#!/usr/bin/env bash
# Installs what the build and the tests need on a fresh Debian 12 machine:
# Debian packages (via apt-get, only those missing) and node_modules (npm ci,
# only when package-lock.json changed). Safe to run again: it does nothing
# when everything is present.
set -euo pipefail
cd "$(dirname "$0")/.."

#   --browser  also Chromium and Firefox ESR (the browser tests)
#   --fuzz     also clang and its libFuzzer runtime (npm run fuzz)
#   --no-npm   Debian packages only: leave node_modules alone
#   --bench    also bench/node_modules (node-llama-cpp, the bench's native
#              reference; its CUDA/Vulkan/ARM builds are optional and left out)
want_bench=0
want_browser=0
want_fuzz=0
want_npm=1
for arg in "$@"; do
  case "$arg" in
    --browser) want_browser=1 ;;
    --fuzz) want_fuzz=1 ;;
    --no-npm) want_npm=0 ;;
    --bench) want_bench=1 ;;
  esac
done

missing=()
command -v cmake >/dev/null || missing+=(cmake)
command -v g++ >/dev/null || missing+=(g++)
command -v python3 >/dev/null || missing+=(python3)
command -v em++ >/dev/null || missing+=(emscripten)
[ -f /usr/src/googletest/CMakeLists.txt ] || missing+=(googletest)
if [ "$want_browser" = 1 ]; then
  command -v chromium >/dev/null || missing+=(chromium)
  command -v firefox-esr >/dev/null || missing+=(firefox-esr)
fi
if [ "$want_fuzz" = 1 ]; then
  command -v clang++ >/dev/null || missing+=(clang)
  compgen -G '/usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a' >/dev/null || missing+=(libclang-rt-dev)
fi

if [ ${#missing[@]} -gt 0 ]; then
  echo "nibble: installing Debian packages: ${missing[*]}" >&2
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q "${missing[@]}"
fi

# npm ci when node_modules is missing or older than the lock file.
stamp=node_modules/.package-lock.json
if [ "$want_npm" = 1 ] && { [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ]; }; then
  echo "nibble: npm ci" >&2
  npm ci --no-audit --no-fund
fi
bench_stamp=bench/node_modules/.package-lock.json
if [ "$want_bench" = 1 ] && { [ ! -f "$bench_stamp" ] || [ bench/package-lock.json -nt "$bench_stamp" ]; }; then
  echo "nibble: npm ci in bench/ (node-llama-cpp)" >&2
  npm ci --prefix bench --omit=optional --no-audit --no-fund
fi
