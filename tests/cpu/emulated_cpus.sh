#!/bin/sh
# One build on CPUs it was not built on: runs the actrun command under QEMU's user-mode
# emulation of CPU models this machine is not (Debian package qemu-user), so every test
# run checks what an AVX2-only or SSE-only x86-64 CPU would see:
#   - the level picked from the emulated CPU's cpuid (AMD Zen 3 "EPYC-Milan" and Intel
#     "Haswell": avx2; "Nehalem" and "qemu64": baseline), and that ACTRUN_SIMD=avx512
#     cannot raise it;
#   - no instruction beyond the emulated CPU's set anywhere on the way (QEMU raises
#     SIGILL for one): tests/cpu/digest.lua runs every activation forward and backward,
#     the elementwise math, reductions, optimisers, PAU and KAN layers;
#   - the same bits as this machine's native run at the same level (when it runs that
#     level), so the dispatch, not only the kernels, is what the per-level tests checked;
#   - the Lua tests of the activations and of convolution (results bitwise the same on 1
#     and 2 threads) on the emulated Zen 3.
# Emulation checks correctness only: its speed says nothing about the CPU it imitates.
# Usage: emulated_cpus.sh ACTRUN SOURCE_DIR       Exit 77 (skipped) without qemu-x86_64.
set -u
actrun=$1 src=$2
qemu=$(command -v qemu-x86_64 || true)
if [ "$(uname -m)" != x86_64 ] || [ -z "$qemu" ]; then
  echo "SKIP: needs an x86-64 machine with qemu-x86_64 (Debian package qemu-user)"
  exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
# OpenBLAS is told its kernel set by some environments; on an emulated CPU it must detect
emu() { model=$1; shift; env -u OPENBLAS_CORETYPE "$qemu" -cpu "$model" "$actrun" "$@" 2>"$tmp/err"; }
show_err() { grep -v "TCG doesn't support requested feature" "$tmp/err" | head -20; }
native_levels=$("$actrun" -e 'io.write(table.concat(actrun.build_info().simd_available, " "))')

for spec in "EPYC-Milan avx2" "Haswell avx2" "Nehalem baseline" "qemu64 baseline"; do
  set -- $spec
  model=$1 want=$2
  got=$(emu "$model" -e 'io.write(actrun.build_info().simd)') || { show_err; fail "$model: actrun did not start"; continue; }
  [ "$got" = "$want" ] || fail "$model: picked level '$got', expected '$want'"
  got=$(ACTRUN_SIMD=avx512 emu "$model" -e 'io.write(actrun.build_info().simd)')
  [ "$got" = "$want" ] || fail "$model: ACTRUN_SIMD=avx512 gave '$got', must stay at '$want'"
  got=$(emu "$model" -v | head -1)
  case $got in *"SIMD $want"*) ;; *) fail "$model: actrun -v says '$got'" ;; esac

  if ! emu "$model" "$src/tests/cpu/digest.lua" >"$tmp/emu.$model"; then
    show_err
    fail "$model: tests/cpu/digest.lua failed under emulation"
    continue
  fi
  case " $native_levels " in
  *" $want "*)
    [ -f "$tmp/native.$want" ] ||
      ACTRUN_SIMD=$want "$actrun" "$src/tests/cpu/digest.lua" >"$tmp/native.$want" ||
      fail "native run at $want failed"
    if cmp -s "$tmp/native.$want" "$tmp/emu.$model"; then
      echo "ok   $model: $want, $(wc -l <"$tmp/emu.$model") results bitwise equal to the native $want run"
    else
      fail "$model: results differ from the native $want run:"
      diff "$tmp/native.$want" "$tmp/emu.$model" | head -20
    fi
    ;;
  *) echo "ok   $model: $want ($(wc -l <"$tmp/emu.$model") results; this CPU cannot run $want natively to compare)" ;;
  esac
done

# the activation and convolution test files on the emulated Zen 3 (its OpenBLAS kernels
# too: conv's results must not depend on the thread count there either)
for f in test_act test_conv; do
  if emu EPYC-Milan "$src/tests/lua/run.lua" "$src/tests/lua" "^$f%.lua$" >"$tmp/out"; then
    echo "ok   EPYC-Milan: $(tail -1 "$tmp/out") ($f.lua)"
  else
    cat "$tmp/out"; show_err
    fail "EPYC-Milan: $f.lua"
  fi
done
[ "$fails" -eq 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "emulated_cpus: all passed"
