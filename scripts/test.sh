#!/usr/bin/env bash
# Builds actrun (installing what it needs) and runs the whole test suite: the normal build,
# then an AddressSanitizer + UndefinedBehaviorSanitizer build of the same suites.
# Usage: scripts/test.sh [--no-sanitize]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
jobs=$(nproc)

"$here/scripts/setup.sh" "$here/build"
# test-only tools, each test skipped (and saying so) without its tool: the browser test
# renders the HTML report in Debian's chromium; emulated_cpus runs the build on CPUs this
# machine is not (an AVX2-only Zen 3, SSE-only x86-64) under QEMU's user mode (qemu-user)
for tool in chromium:chromium qemu-x86_64:qemu-user; do
  if ! command -v "${tool%%:*}" >/dev/null 2>&1; then
    sudo=""
    [[ $(id -u) -eq 0 ]] || sudo=sudo
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${tool#*:}" ||
      echo "actrun test: ${tool#*:} could not be installed; the tests that need it will be skipped"
  fi
done
(cd "$here/build" && ctest --output-on-failure -j"$jobs")

if [[ ${1:-} != --no-sanitize ]]; then
  "$here/scripts/setup.sh" "$here/build-asan" -DCMAKE_BUILD_TYPE=Debug -DACTRUN_SANITIZE=ON
  # leaks are reported by LeakSanitizer as errors; OpenBLAS's thread pool is process-wide
  (cd "$here/build-asan" &&
    ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
      ctest --output-on-failure -j"$jobs" -LE no-sanitize)
fi
echo "actrun: all tests passed"
