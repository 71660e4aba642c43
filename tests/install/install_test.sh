#!/bin/sh
# Installs the build into a temporary prefix and checks what a user gets: the binary, the
# shared and static library, the headers, actrun.pc (a C program built through pkg-config
# runs, and so does the example host of examples/embed through its Makefile), and the
# Lua C module where the build put it (stock lua5.4 can require it from there).
# Usage: install_test.sh BUILD_DIR
set -eu
build=$1
src=$(cd "$(dirname "$0")/../.." && pwd)
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
cmake --install "$build" --prefix "$prefix" >/dev/null

libdir=$(find "$prefix" -name libactrun.so -printf '%h\n' | head -n 1)
# the module's directory relative to the prefix, as configured: Lua's INSTALL_CMOD under
# the system prefix, lib/lua/5.4 under any other (see CMakeLists.txt)
cmod=$(sed -n 's/^ACTRUN_INSTALL_CMOD:[A-Z]*=//p' "$build/CMakeCache.txt")
case $cmod in /*) cmoddir=$cmod ;; *) cmoddir=$prefix/$cmod ;; esac
for f in "$prefix/bin/actrun" "$prefix/include/actrun.h" \
         "$libdir/libactrun.a" "$libdir/pkgconfig/actrun.pc" "$cmoddir/actrun.so" \
         "$libdir/cmake/actrun/actrunConfig.cmake" \
         "$libdir/cmake/actrun/actrunConfigVersion.cmake"; do
  [ -e "$f" ] || { echo "not installed: $f"; exit 1; }
done

"$prefix/bin/actrun" -e 'assert(actrun.ones(3):sum():item() == 3)'

cat > "$prefix/host.c" <<'C'
#include <actrun.h>
#include <stdio.h>
int main(void) {
  actrun *A = actrun_new();
  if (!A) return 1;
  if (actrun_run_string(A, "y = actrun.linspace(0, 1, 5) * 2")) {
    fprintf(stderr, "%s\n", actrun_error(A));
    return 1;
  }
  float y[5];
  int ndim;
  int64_t shape[8];
  if (actrun_get_tensor(A, "y", y, 5, &ndim, shape)) return 1;
  printf("%d %lld %g %s\n", ndim, (long long)shape[0], y[4], ACTRUN_VERSION);
  actrun_free(A);
  return 0;
}
C
export PKG_CONFIG_PATH="$libdir/pkgconfig"
version=$(pkg-config --modversion actrun)
# shellcheck disable=SC2046
cc -o "$prefix/host" "$prefix/host.c" $(pkg-config --cflags --libs actrun)
out=$(LD_LIBRARY_PATH="$libdir" "$prefix/host")
[ "$out" = "1 5 2 $version" ] || { echo "host program printed '$out', expected '1 5 2 $version'"; exit 1; }
pc_cmod=$(pkg-config --variable=lua_cmoddir actrun)
if [ ! -e "$pc_cmod/actrun.so" ] || [ "$(cd "$pc_cmod" && pwd -P)" != "$(cd "$cmoddir" && pwd -P)" ]; then
  echo "actrun.pc's lua_cmoddir '$pc_cmod' is not $cmoddir"
  exit 1
fi

# the example host, built with its Makefile through pkg-config; it trains to >= 90%
mkdir "$prefix/example-make"
cp "$src/examples/embed/host.c" "$src/examples/embed/experiment.lua" \
   "$src/examples/embed/Makefile" "$prefix/example-make/"
make -s -C "$prefix/example-make" host >/dev/null
(cd "$prefix/example-make" && ./host experiment.lua) > "$prefix/example.out" ||
  { cat "$prefix/example.out"; echo "the example host (make) failed"; exit 1; }
if ! grep -q "^final accuracy" "$prefix/example.out" || ! grep -q "^W1 {16,2}" "$prefix/example.out"; then
  cat "$prefix/example.out"
  echo "the example host printed no results"
  exit 1
fi
echo "example (make): $(grep '^final accuracy' "$prefix/example.out")"

# stock Lua 5.4 loads the C module from where INSTALL_CMOD points
lua5.4 -e "package.cpath = '$cmoddir/?.so;' .. package.cpath
  local a = require 'actrun'
  assert(a.is_tensor(a.zeros(2, 3)) and a.zeros(2, 3):numel() == 6)
  assert(require 'actrun' == a)
  assert(a.version == '$version', a.version)
  assert(a.nn.cross_entropy and a.act.relu)
  print('lua5.4 require ok')"
echo "install test passed"
