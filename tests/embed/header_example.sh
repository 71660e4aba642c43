#!/bin/sh
# The worked example at the top of include/actrun.h compiles without warnings against
# the built library, runs, and prints what it should: the documentation cannot rot.
# Usage: header_example.sh SOURCE_DIR LIBACTRUN_SO
set -eu
src=$1
lib=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# the example: the comment lines from "#include <actrun.h>" to the closing "}" of main
awk '/^ \*   #include <actrun.h>/ { on = 1 }
     on && /^ \* -----/ { exit }
     on { sub(/^ \*( {3})?/, ""); print }' "$src/include/actrun.h" > "$tmp/example.c"
grep -q 'int main' "$tmp/example.c" || { echo "no example found in actrun.h"; exit 1; }
# shellcheck disable=SC2046
cc -std=c11 -Wall -Wextra -Werror -Wno-unused-parameter -I"$src/include" \
   $(pkg-config --cflags lua5.4) -o "$tmp/example" "$tmp/example.c" "$lib" -lm \
   -Wl,-rpath,"$(dirname "$lib")"
out=$("$tmp/example")
# X = {{0,0},{0,1},{1,0},{1,1}}: s = 4 * isru(1) = 4/sqrt(2), m = mean = 0.5
expected=$(awk 'BEGIN { printf "%g %g", 4 / sqrt(2), 0.5 }')
[ "$out" = "$expected" ] || { echo "the example printed '$out', expected '$expected'"; exit 1; }
echo "header example ok: $out"
