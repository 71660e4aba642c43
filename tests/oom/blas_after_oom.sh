#!/bin/sh
# A large matrix product after memory ran out finishes or fails cleanly, never hangs
# (docs/RELIABILITY.md, section 3). Usage: blas_after_oom.sh ACTRUN_BINARY SOURCE_DIR
# Normal build only: ASan reserves terabytes of address space and cannot start under
# ulimit -v (exit 77: skipped).
set -u
bin=$1
script=$2/tests/oom/blas_after_oom.lua
[ -n "${ACTRUN_SANITIZED:-}" ] && { echo "skipped: sanitizer build"; exit 77; }
# The limit: what the interpreter maps at start, plus as much as the old cache bound kept
# (1 GiB, or an eighth of physical memory), plus 64 MiB: with that cache full OpenBLAS
# cannot have its buffers, so without the trim this hangs.
base=$("$bin" -e 'for l in io.lines("/proc/self/status") do local v = l:match("^VmSize:%s*(%d+)") if v then print(v) end end
  local x = require("actrun").randn(100, 100) x = x:matmul(x)') || exit 1
phys=$(awk '/^MemTotal:/ {print $2}' /proc/meminfo)
cache=$((phys / 8)); [ "$cache" -gt 1048576 ] && cache=1048576
limit=$((base + cache + 65536))
echo "limit: ${limit} kB (start ${base} kB)"
status=0
for mode in dropped held; do
  # the script's own bound: 120 s (ctest's TIMEOUT is the outer one)
  (ulimit -v "$limit" && exec timeout -s KILL 120 "$bin" "$script" "$mode")
  rc=$?
  if [ $rc -ne 0 ]; then
    echo "FAILED: $mode: exit status $rc$( [ $rc -eq 137 ] && echo ' (killed after 120 s: hung)')"
    status=1
  fi
done
exit $status
