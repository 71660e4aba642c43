#!/bin/sh
# Installs the build into a temporary prefix and checks what a user gets: the binary, the
# shared and static library, the header, actrun.pc (a C program built through pkg-config
# runs), and the Lua C module (stock lua5.4 can require it).
# Usage: install_test.sh BUILD_DIR
set -eu
build=$1
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
cmake --install "$build" --prefix "$prefix" >/dev/null

libdir=$(find "$prefix" -name libactrun.so -printf '%h\n' | head -n 1)
for f in "$prefix/bin/actrun" "$prefix/include/actrun.h" "$libdir/libactrun.a" \
         "$libdir/pkgconfig/actrun.pc" "$libdir/lua/5.4/actrun.so"; do
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
  printf("%d %lld %g\n", ndim, (long long)shape[0], y[4]);
  actrun_free(A);
  return 0;
}
C
export PKG_CONFIG_PATH="$libdir/pkgconfig"
# shellcheck disable=SC2046
cc -o "$prefix/host" "$prefix/host.c" $(pkg-config --cflags --libs actrun)
out=$(LD_LIBRARY_PATH="$libdir" "$prefix/host")
[ "$out" = "1 5 2" ] || { echo "host program printed '$out', expected '1 5 2'"; exit 1; }

# stock Lua 5.4 loads the C module
lua5.4 -e "package.cpath = '$libdir/lua/5.4/?.so;' .. package.cpath
  local a = require 'actrun'
  assert(a.is_tensor(a.zeros(2, 3)) and a.zeros(2, 3):numel() == 6)
  assert(require 'actrun' == a)
  print('lua5.4 require ok')"
echo "install test passed"
