#!/usr/bin/env bash
# npm start: install what is missing, build what is stale, then generate a
# story with the bundled stories260K model, INT4 (Q4_0) weights.
#   npm start -- --prompt "Lily wanted to" --seed 7
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/ensure-deps.sh
bash tools/build.sh --quiet --only wasm-simd --only wasm-simd-relaxed --only wasm-scalar
exec node bin/nibble.mjs generate models/stories260K.bin --tokenizer models/tok512.bin \
  --prompt "Once upon a time" --max-tokens 256 --temperature 0.8 "$@"
