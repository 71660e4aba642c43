#!/bin/sh
# ThreadSanitizer run of the two-interpreters-in-two-threads test (two_threads.c):
# configures a separate build with -DACTRUN_TSAN=ON, builds only that test program and
# runs it. It needs its own build (about 20 s from scratch on 2 cores, then a few seconds
# to run), so it is not part of ctest.
# Usage: tests/embed/tsan.sh [BUILD_DIR]   (default: build-tsan, in the source tree)
# Reports inside OpenBLAS (whose thread-count setting is one process-wide variable) are
# suppressed by tsan.supp, which says why; any other report fails the run. TSAN_SUPP=file
# runs with another suppression file (e.g. an empty one, to see what is suppressed).
set -eu
src=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$src/build-tsan}
start=$(date +%s)
cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Debug -DACTRUN_TSAN=ON -DACTRUN_TESTS=ON \
      -DACTRUN_NATIVE=OFF >/dev/null
cmake --build "$build" -j2 --target embed_threads >/dev/null
built=$(date +%s)
TSAN_OPTIONS="suppressions=${TSAN_SUPP:-$src/tests/embed/tsan.supp} halt_on_error=1 exitcode=66 second_deadlock_stack=1" \
  "$build/tests/embed_threads"
end=$(date +%s)
echo "tsan: clean (build $((built - start)) s, run $((end - built)) s)"
