#!/bin/sh
# Every activation kernel of every SIMD level is vector code of that level's width.
# Disassembles each level's kernel object (src/act/kern_LEVEL.c) and requires, in every
# forward, backward and fused kernel named by ACT_LIST (src/act/act.h), packed float
# arithmetic on the level's registers: zmm for avx512, ymm for avx2, xmm for baseline
# (SSE2 "ps" instructions). A kernel that is a thin wrapper (softplus, celu, rrelu pick
# a variant) passes through the functions it jumps to or calls. No timing is involved,
# so a CPU that cannot run a level still checks it.
# Usage: check_vector.sh ACT_H "OBJECT;OBJECT;..."
set -eu
act_h=$1
objs=$(printf '%s\n' "$2" | tr ';' '\n' | grep '/kern_[a-z0-9]*\.c\.o$' || true)
[ -n "$objs" ] || { echo "no kern_*.c.o among the objects"; exit 1; }
command -v objdump >/dev/null || { echo "objdump not found (binutils)"; exit 1; }

# the kernels every level must have: f_NAME and b_NAME, and fb_NAME for fused entries
names=$(sed -n '/^#define ACT_LIST(X)/,/^$/p' "$act_h" | grep -o 'X([a-z0-9_]*, [01])' |
        sed 's/X(\([a-z0-9_]*\), \([01]\))/\1 \2/')
[ -n "$names" ] || { echo "no ACT_LIST in $act_h"; exit 1; }
want=$(echo "$names" | while read -r n f; do
  [ "$n" = identity ] || echo "f_$n" # identity's forward is a copy
  echo "b_$n"
  [ "$f" = 1 ] && echo "fb_$n"
done)

status=0
checked=0
for o in $objs; do
  level=$(basename "$o" .c.o | sed 's/^kern_//')
  case $level in
    avx512) reg=zmm ;;
    avx2) reg=ymm ;;
    baseline) reg=xmm ;;
    *) echo "unknown level in $o"; exit 1 ;;
  esac
  # per function: "name packed_count target1 target2 ..." (targets: local calls/jumps)
  table=$(objdump -d --no-show-raw-insn "$o" | awk -v reg="$reg" '
    /^[0-9a-f]+ <[^>]+>:$/ {
      if (fn != "") print fn, packed, targets
      fn = $2; sub(/^</, "", fn); sub(/>:$/, "", fn); sub(/\..*$/, "", fn)
      packed = 0; targets = ""; next
    }
    fn != "" && /\t/ {
      ins = $0
      # packed single-precision arithmetic, compares, selects and min/max on reg
      if (ins ~ /\t(v)?(add|sub|mul|div|max|min|fmadd[0-9]*|fmsub[0-9]*|fnmadd[0-9]*|fnmsub[0-9]*|cmp[a-z_]*|blendv|blendm|and|andn|or|xor)ps / && ins ~ reg) packed++
      # direct calls and jumps, and addresses taken for an indirect one (lea ... <f_x>)
      if (ins ~ /((call|jmp)[a-z]* +[0-9a-f]+|lea .*#.*[0-9a-f]+) <[fb]/) {
        t = ins; sub(/.*</, "", t); sub(/>.*/, "", t); sub(/[+.].*$/, "", t); targets = targets " " t
      }
    }
    END { if (fn != "") print fn, packed, targets }')
  for k in $want; do
    line=$(echo "$table" | awk -v k="$k" '$1 == k { print; exit }')
    if [ -z "$line" ]; then
      echo "$level: $k: not found in $(basename "$o")"; status=1; continue
    fi
    ok=$(echo "$table" | awk -v k="$k" '
      { packed[$1] += $2; for (i = 3; i <= NF; i++) tg[$1] = tg[$1] " " $i }
      END {
        if (packed[k] > 0) { print 1; exit }
        n = split(tg[k], t, " ")
        for (i = 1; i <= n; i++) if (packed[t[i]] > 0) { print 1; exit }
        print 0
      }')
    if [ "$ok" != 1 ]; then
      echo "$level: $k has no packed $reg arithmetic (scalar code?)"; status=1
    fi
    checked=$((checked + 1))
  done
done
[ $status -eq 0 ] && echo "vector kernels: $checked kernels checked in $(echo "$objs" | wc -l) levels, all packed"
exit $status
