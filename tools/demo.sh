#!/usr/bin/env bash
# npm run demo: install what is missing, build what is stale (the wasm builds
# and the JS package in dist/), write the one-file offline version
# (dist/nibble-demo.html), then serve demo/ on 127.0.0.1 with the COOP/COEP
# headers and print its URL.
#   tools/demo.sh [--port 8080] [--no-coi]    (options go to demo/serve.mjs)
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/ensure-deps.sh
bash tools/build.sh --quiet --only wasm-simd --only wasm-simd-relaxed --only wasm-simd-threads \
  --only wasm-simd-relaxed-threads --only wasm-scalar
node tools/build_single_file.mjs
exec node demo/serve.mjs "$@"
