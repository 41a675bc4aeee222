#!/usr/bin/env bash
# npm run fuzz: builds the libFuzzer targets of tests/fuzz with Debian's
# clang++ (ASan + UBSan) into build/fuzz and runs each for N seconds,
# printing libFuzzer's summary per target. Fails if a target crashed; the
# input that did is kept in build/fuzz/artifacts/<target>/.
#   tools/fuzz.sh [--seconds N] [--parallel J] [--only TARGET]... [--build-only] [--corpus]
#     --seconds N    time per target (default 60)
#     --parallel J   targets run at once (default 1; each uses one core)
#     --only T       run only target T (gguf, gguf_loader, llama2c, tokenizer, dequantize)
#     --build-only   build, run nothing
#     --corpus       rewrite the committed seed corpus (tests/fuzz/corpus) with make_corpus
# New inputs libFuzzer finds go to build/fuzz/corpus/<target>, never into
# the committed seeds.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=60
parallel=1
build_only=0
rewrite_corpus=0
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds=$2; shift ;;
    --parallel) parallel=$2; shift ;;
    --only) targets+=("$2"); shift ;;
    --build-only) build_only=1 ;;
    --corpus) rewrite_corpus=1 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
[ ${#targets[@]} -gt 0 ] || targets=(gguf gguf_loader llama2c tokenizer dequantize)

if ! command -v clang++ >/dev/null; then
  echo "fuzz: clang++ is missing (apt-get install -y clang: Debian's clang ships libFuzzer)" >&2
  exit 1
fi
out=build/fuzz
started=$(date +%s)
if [ ! -f "$out/CMakeCache.txt" ]; then
  cmake -S tests/fuzz -B "$out" -DCMAKE_CXX_COMPILER=clang++ >/dev/null
fi
cmake --build "$out" -j "$(nproc)" >/dev/null
echo "fuzz: targets built in $(( $(date +%s) - started )) s"
if [ "$rewrite_corpus" = 1 ]; then
  for t in gguf gguf_loader llama2c tokenizer dequantize; do
    rm -rf "tests/fuzz/corpus/$t"
    mkdir -p "tests/fuzz/corpus/$t"
  done
  "$out/make_corpus" tests/fuzz/corpus
  echo "fuzz: seed corpus rewritten in tests/fuzz/corpus"
fi
[ "$build_only" = 0 ] || exit 0

# One target: libFuzzer's log to $out/logs/<target>.log, then its summary.
run_target() {
  local t=$1
  mkdir -p "$out/corpus/$t" "$out/artifacts/$t" "$out/logs"
  # -timeout: an input running 10 s is a hang; -rss_limit_mb: a huge
  # allocation is a finding too.
  local status=0
  "$out/fuzz_$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$out/artifacts/$t/" \
    "$out/corpus/$t" "tests/fuzz/corpus/$t" >"$out/logs/$t.log" 2>&1 || status=$?
  {
    echo "== fuzz_$t ($seconds s)"
    grep -E '^#[0-9]+[[:space:]]+(INITED|DONE)' "$out/logs/$t.log" | tail -2 || true
    grep -E '^stat::(number_of_executed_units|average_exec_per_sec|new_units_added|peak_rss_mb)' "$out/logs/$t.log" || true
    if [ "$status" != 0 ]; then
      grep -E 'ERROR|SUMMARY|fuzz_check|Test unit written|runtime error' "$out/logs/$t.log" | head -20 || true
      echo "fuzz_$t FAILED (exit $status): log $out/logs/$t.log, input in $out/artifacts/$t/"
    else
      echo "crashes: 0"
    fi
  } >"$out/logs/$t.summary"
  return "$status"
}

failed=0
pids=()
names=()
for t in "${targets[@]}"; do
  if [ ! -x "$out/fuzz_$t" ]; then echo "unknown target $t" >&2; exit 2; fi
  run_target "$t" &
  pids+=($!)
  names+=("$t")
  # At most $parallel at once: wait for the oldest before starting more.
  if [ ${#pids[@]} -ge "$parallel" ]; then
    wait "${pids[0]}" || failed=1
    cat "$out/logs/${names[0]}.summary"
    pids=("${pids[@]:1}")
    names=("${names[@]:1}")
  fi
done
for i in "${!pids[@]}"; do
  wait "${pids[$i]}" || failed=1
  cat "$out/logs/${names[$i]}.summary"
done
if [ "$failed" != 0 ]; then
  echo "fuzz: a target crashed (see above)" >&2
  exit 1
fi
echo "fuzz: no crash in ${#targets[@]} targets"
