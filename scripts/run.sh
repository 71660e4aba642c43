#!/usr/bin/env bash
# Builds actrun (installing what it needs) and runs the main job.
# Usage: scripts/run.sh [script arguments...]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
# The Fashion-MNIST package is optional: the main job falls back to a built-in data set.
if ! dpkg-query -W -f='${Status}' dataset-fashion-mnist 2>/dev/null | grep -q "install ok installed"; then
  ACTRUN_EXTRA_PACKAGES="dataset-fashion-mnist" "$here/scripts/setup.sh" "$here/build" ||
    "$here/scripts/setup.sh" "$here/build"
else
  "$here/scripts/setup.sh" "$here/build"
fi
main=$here/scripts/compare_fashion_mnist.lua
[[ -f $main ]] || main=$here/scripts/demo.lua
exec "$here/build/actrun" "$main" "$@"
