#!/usr/bin/env bash
# npm start: install what is missing, build what is stale, run the showcase.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/ensure-deps.sh
bash tools/build.sh --quiet --only wasm-simd
exec node --no-experimental-fetch build/wasm-simd/tools/nibble_showcase.js "$@"
