#!/bin/sh
# The test suite's short fuzzing run: builds the harnesses with clang in WORK_DIR/fuzz-build
# and runs each for SECONDS (tests/fuzz/run.sh). Exits 77 (skipped) when clang or its
# libFuzzer runtime is missing.
#
#   tests/fuzz/ctest.sh SOURCE_DIR WORK_DIR [SECONDS]
set -eu
src=$1
work=$2
secs=${3:-15}
if ! command -v clang >/dev/null 2>&1; then
  echo "fuzz: clang is not installed; skipped"
  exit 77
fi
mkdir -p "$work"
probe="$work/fuzz-probe.c"
echo 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { return 0; }' >"$probe"
if ! clang -fsanitize=fuzzer "$probe" -o "$work/fuzz-probe" >/dev/null 2>&1; then
  echo "fuzz: clang has no libFuzzer runtime (Debian: libclang-rt-dev); skipped"
  exit 77
fi
build="$work/fuzz-build"
# -O1 with line tables: the build is most of this test's time
cmake -S "$src" -B "$build" -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug \
  -DCMAKE_C_FLAGS_DEBUG="-O1 -gline-tables-only" \
  -DACTRUN_FUZZ=ON -DACTRUN_TESTS=OFF >"$work/fuzz-configure.log" 2>&1 || {
  cat "$work/fuzz-configure.log"; exit 1; }
cmake --build "$build" -j2 --target fuzzers >"$work/fuzz-build.log" 2>&1 || {
  tail -40 "$work/fuzz-build.log"; exit 1; }
exec sh "$src/tests/fuzz/run.sh" "$secs" "$build"
