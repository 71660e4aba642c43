#!/usr/bin/env bash
# The same sources built for AArch64 (NEON) with Debian's cross compiler and run under
# QEMU's user-mode emulation: configures and builds actrun for arm64 into BUILD (default
# build-aarch64/, tests and MPI off: Criterion has no co-installable arm64 package), then
# runs tests/cpu/digest.lua and the Lua test files given (default: the ones that check
# float kernels) on the emulated CPU. Not part of scripts/test.sh: it needs Debian's arm64
# libraries beside the amd64 ones (multiarch) and the emulated run takes minutes per file.
#
#   tests/cpu/cross_aarch64.sh [--install] [--build DIR] [TEST_FILE_PATTERN...]
#
# --install adds the arm64 architecture and installs gcc-aarch64-linux-gnu, qemu-user and
# the arm64 -dev packages of Lua, OpenBLAS, SLEEF, zlib and libedit (as root or via sudo).
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
build=$here/build-aarch64 install=0 pats=()
while (($#)); do
  case $1 in
  --install) install=1 ;;
  --build) build=$2; shift ;;
  -h | --help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
  *) pats+=("$1") ;;
  esac
  shift
done
((${#pats[@]})) || pats=('^test_act%.lua$' '^test_act_torch%.lua$' '^test_tensor_math%.lua$'
                         '^test_tensor_arith%.lua$' '^test_tensor_reductions%.lua$'
                         '^test_torch_fixtures%.lua$' '^test_optim%.lua$' '^test_kan%.lua$'
                         '^test_pau%.lua$' '^test_conv%.lua$' '^test_autograd_torch%.lua$')
if ((install)); then
  sudo=""
  [[ $(id -u) -eq 0 ]] || sudo=sudo
  export DEBIAN_FRONTEND=noninteractive
  $sudo dpkg --add-architecture arm64
  $sudo apt-get update -q
  $sudo apt-get install -y -q --no-install-recommends gcc-aarch64-linux-gnu qemu-user \
    liblua5.4-dev:arm64 libopenblas-dev:arm64 libsleef-dev:arm64 zlib1g-dev:arm64 libedit-dev:arm64
fi
for t in aarch64-linux-gnu-gcc qemu-aarch64; do
  command -v $t >/dev/null || { echo "cross_aarch64: $t not found (run with --install)" >&2; exit 1; }
done
mkdir -p "$build"
cat >"$build/toolchain.cmake" <<'TC'
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu /usr/lib/aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(ENV{PKG_CONFIG_LIBDIR} /usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig)
TC
[[ -f $build/CMakeCache.txt ]] ||
  cmake -S "$here" -B "$build" -DCMAKE_TOOLCHAIN_FILE="$build/toolchain.cmake" \
    -DCMAKE_BUILD_TYPE=Release -DACTRUN_TESTS=OFF -DACTRUN_MPI=OFF >/dev/null
# the NEON paths must compile cleanly, not just compile
if ! cmake --build "$build" -j"$(nproc)" --target actrun_cli >"$build/build.log" 2>&1 ||
  grep -q 'warning:' "$build/build.log"; then
  grep -E -B2 -A3 'warning:|error' "$build/build.log" | head -40
  echo "cross_aarch64: the build failed or warned ($build/build.log)" >&2
  exit 1
fi
# the test runner starts each file with its own interpreter (arg[-1]): a wrapper that keeps
# its own name there, so every interpreter it starts is emulated too
emu=$build/actrun-qemu
printf '#!/bin/sh\nexec qemu-aarch64 -0 "$0" "%s" "$@"\n' "$build/actrun" >"$emu"
chmod +x "$emu"
"$emu" -v
"$emu" "$here/tests/cpu/digest.lua" >"$build/digest.txt"
echo "digest: $(wc -l <"$build/digest.txt") results in $build/digest.txt"
fails=0
for p in "${pats[@]}"; do
  ACTRUN_SOURCE_DIR=$here "$emu" "$here/tests/lua/run.lua" "$here/tests/lua" "$p" || fails=1
done
((fails == 0)) && echo "cross_aarch64: all passed" || { echo "cross_aarch64: failures above"; exit 1; }
