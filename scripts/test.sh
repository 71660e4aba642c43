#!/usr/bin/env bash
# Builds actrun (installing what it needs) and runs the whole test suite: the normal build,
# then an AddressSanitizer + UndefinedBehaviorSanitizer build of the same suites.
# Usage: scripts/test.sh [--no-sanitize]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
jobs=$(nproc)

"$here/scripts/setup.sh" "$here/build"
(cd "$here/build" && ctest --output-on-failure -j"$jobs")

if [[ ${1:-} != --no-sanitize ]]; then
  "$here/scripts/setup.sh" "$here/build-asan" -DCMAKE_BUILD_TYPE=Debug -DACTRUN_SANITIZE=ON
  # leaks are reported by LeakSanitizer as errors; OpenBLAS's thread pool is process-wide
  (cd "$here/build-asan" &&
    ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
      ctest --output-on-failure -j"$jobs" -LE no-sanitize)
fi
echo "actrun: all tests passed"
