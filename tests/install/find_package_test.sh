#!/bin/sh
# Installs the build into a temporary prefix and builds the example host of
# examples/embed with CMake through find_package(actrun) (the imported target
# actrun::actrun), then runs it: it must train to at least 90% accuracy.
# Usage: find_package_test.sh BUILD_DIR
set -eu
build=$1
src=$(cd "$(dirname "$0")/../.." && pwd)
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
cmake --install "$build" --prefix "$prefix" >/dev/null
cmake -S "$src/examples/embed" -B "$prefix/example-build" -DCMAKE_PREFIX_PATH="$prefix" \
      -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$prefix/example-build" >/dev/null
out=$("$prefix/example-build/host" "$src/examples/embed/experiment.lua") ||
  { echo "$out"; echo "the example host (find_package) failed"; exit 1; }
echo "$out" | grep -q "^final accuracy" || { echo "$out"; echo "no result printed"; exit 1; }
echo "example (find_package): $(echo "$out" | grep '^final accuracy')"
# a version the package cannot satisfy is refused
mkdir "$prefix/too-new"
cat > "$prefix/too-new/CMakeLists.txt" <<'CM'
cmake_minimum_required(VERSION 3.18)
project(too_new LANGUAGES C)
find_package(actrun 999 REQUIRED)
CM
if cmake -S "$prefix/too-new" -B "$prefix/too-new/b" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null 2>&1; then
  echo "find_package(actrun 999) should have failed"
  exit 1
fi
echo "find_package test passed"
