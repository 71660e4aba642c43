#!/bin/sh
# A rank that fails must end the whole job: runs rank_fails.lua with 2 ranks (rank 1
# raises while rank 0 waits in a barrier) and passes when mpirun exits non-zero, shows
# the error, and rank 0 never got past the barrier. A hang is caught by ctest's TIMEOUT.
# (mpirun's own abort banner is not checked: its text is not reliable.)
# Usage: expect_abort.sh MPIEXEC ACTRUN SCRIPT
set -u
here=$(dirname "$0")
out=$(sh "$here/run_mpi.sh" "$1" 2 "$2" "$3" 2>&1)
rc=$?
printf '%s\n' "$out"
[ "$rc" -ne 0 ] || { echo "expect_abort: mpirun exited 0"; exit 1; }
printf '%s\n' "$out" | grep -q "rank 1 fails on purpose" || { echo "expect_abort: no error shown"; exit 1; }
if printf '%s\n' "$out" | grep -q "passed the barrier"; then
  echo "expect_abort: rank 0 went on"; exit 1
fi
echo "expect_abort: the job ended with status $rc"
