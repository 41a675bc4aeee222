#!/usr/bin/env bash
# The prepack step of `npm pack` and `npm publish`: builds what the tarball
# holds (package.json "files": dist/ with every wasm build the loader may
# pick, and bin/), also from a fresh clone: the Debian packages the build
# needs, node_modules when there is none (esbuild builds dist/'s JS), then
# the wasm builds, each only if stale.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/ensure-deps.sh --no-npm
[ -d node_modules ] || npm ci --no-audit --no-fund
bash tools/build.sh --quiet --dist
