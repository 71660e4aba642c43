#!/bin/sh
# Runs every libFuzzer harness for SECONDS each (default 15) on its seed corpus.
#
#   tests/fuzz/run.sh [SECONDS] [BUILD_DIR]
#
# BUILD_DIR (default build-fuzz) must hold a build configured with
#   cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DACTRUN_FUZZ=ON -DACTRUN_TESTS=OFF
#   cmake --build build-fuzz -j2 --target fuzzers
# New inputs the fuzzer finds go to BUILD_DIR/fuzz-out/NAME (the seeds under
# tests/fuzz/corpus are only read); a crash is saved as BUILD_DIR/fuzz-out/crash-NAME-*
# and ends the run with a non-zero status. To keep interesting inputs in the repository,
# minimise them into the seed corpus afterwards:
#   build-fuzz/tests/fuzz/fuzz_idx -merge=1 tests/fuzz/corpus/idx build-fuzz/fuzz-out/idx
set -eu
secs=${1:-15}
build=${2:-build-fuzz}
here=$(cd "$(dirname "$0")" && pwd)
out="$build/fuzz-out"
mkdir -p "$out"
# the harnesses' temporary files go here, not in /tmp
export TMPDIR="$out"
export ASAN_OPTIONS="${ASAN_OPTIONS:-allocator_may_return_null=1:detect_leaks=1}"
status=0
for name in idx csv safetensors lua_api; do
  bin="$build/tests/fuzz/fuzz_$name"
  if [ ! -x "$bin" ]; then
    echo "run.sh: $bin is missing (build the 'fuzzers' target)" >&2
    exit 2
  fi
  mkdir -p "$out/$name"
  echo "== fuzz_$name: ${secs}s"
  # -rss_limit_mb: a reader that allocates what a hostile header declares is a finding
  if "$bin" -max_total_time="$secs" -timeout=20 -rss_limit_mb=2048 -max_len=4096 \
       -print_final_stats=1 -artifact_prefix="$out/crash-$name-" \
       "$out/$name" "$here/corpus/$name" >"$out/$name.log" 2>&1; then
    grep -E "^(stat::number_of_executed_units|#[0-9]+ +DONE)" "$out/$name.log" || true
  else
    status=1
    echo "fuzz_$name FAILED; the end of its log ($out/$name.log):"
    tail -40 "$out/$name.log"
  fi
  rm -f "$out"/actrun-fuzz-*
done
exit $status
