#!/usr/bin/env bash
# Shared set-up for scripts/run.sh and scripts/test.sh: installs the Debian packages actrun
# needs when they are missing (as root, or through sudo), then configures and builds.
# Usage: scripts/setup.sh [BUILD_DIR [extra cmake args...]]   Idempotent; quick when done.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build}
shift || true

packages=(build-essential cmake pkg-config lua5.4 liblua5.4-dev libopenblas-dev
          libcriterion-dev zlib1g-dev libedit-dev libsleef-dev
          libopenmpi-dev openmpi-bin  # actrun.dist (MPI)
          clang libclang-rt-dev valgrind) # the fuzzing and memcheck tests (skipped without them)
packages+=(${ACTRUN_EXTRA_PACKAGES:-})

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "actrun setup: installing ${missing[*]}"
  sudo=""
  [[ $(id -u) -eq 0 ]] || sudo=sudo
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -q
  $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

if [[ ! -f $build/CMakeCache.txt ]]; then
  cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=Release "$@"
fi
cmake --build "$build" -j"$(nproc)"
