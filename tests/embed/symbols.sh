#!/bin/sh
# The shared library exports the public API only (actrun_* and luaopen_actrun), and the
# Lua C module only luaopen_actrun: everything else is hidden, so a host's own symbols
# never clash with the library's internals.
# Usage: symbols.sh LIBACTRUN_SO LUA_MODULE_SO
set -eu
lib=$1
mod=$2
syms=$(nm -D --defined-only "$lib" | awk 'NF >= 3 { print $3 }')
echo "$syms" | grep -qx actrun_new || { echo "$lib does not export actrun_new"; exit 1; }
echo "$syms" | grep -qx luaopen_actrun || { echo "$lib does not export luaopen_actrun"; exit 1; }
extra=$(echo "$syms" | grep -v -e '^actrun_' -e '^luaopen_actrun$' || true)
if [ -n "$extra" ]; then
  echo "$lib exports symbols outside the public API:"
  echo "$extra"
  exit 1
fi
# every function the header declares is exported
header=$(dirname "$0")/../../include/actrun.h
declared=$(grep -o 'ACTRUN_API [A-Za-z_ *]*\(actrun_[a-z_]*\|luaopen_actrun\)(' "$header" |
           sed 's/.*[ *]\([a-z_]*\)($/\1/')
[ -n "$declared" ] || { echo "no ACTRUN_API declarations found in $header"; exit 1; }
echo "$declared" | while read -r f; do
  echo "$syms" | grep -qx "$f" || { echo "$lib does not export $f"; exit 1; }
done
msyms=$(nm -D --defined-only "$mod" | awk 'NF >= 3 { print $3 }')
if [ "$msyms" != "luaopen_actrun" ]; then
  echo "$mod exports more than luaopen_actrun:"
  echo "$msyms"
  exit 1
fi
echo "exports: $(echo "$syms" | wc -l) public symbols in $(basename "$lib"), luaopen_actrun in $(basename "$mod")"
