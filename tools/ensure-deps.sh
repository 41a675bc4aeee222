#!/usr/bin/env bash
# Installs what the build and the tests need on a fresh Debian 12 machine:
# Debian packages (via apt-get, only those missing) and node_modules (npm ci,
# only when package-lock.json changed). Safe to run again: it does nothing
# when everything is present.
set -euo pipefail
cd "$(dirname "$0")/.."

want_browser=0
for arg in "$@"; do
  case "$arg" in
    --browser) want_browser=1 ;;
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
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ]; then
  echo "nibble: npm ci" >&2
  npm ci --no-audit --no-fund
fi
