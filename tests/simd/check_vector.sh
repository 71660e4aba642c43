#!/bin/sh
# Every activation kernel of every SIMD level is vector code of that level's width.
# Disassembles each level's kernel object (src/act/kern_LEVEL.c) and requires, in every
# forward, backward, fused and second-derivative kernel named by ACT_LIST (src/act/act.h;
# d2_NAME, or the shared d2_zero for the entries kernels.h maps to it), packed float
# arithmetic on the level's registers: zmm for avx512, ymm for avx2, xmm for baseline
# (SSE2 "ps" instructions). A kernel that is a thin wrapper (softplus, celu, rrelu pick
# a variant) passes through the functions it jumps to or calls. No timing is involved,
# so a CPU that cannot run a level still checks it.
# The other kernel sets (src/core/ew_kern_LEVEL.c, src/core/rd_kern_LEVEL.c,
# src/core/bs_kern_LEVEL.c, src/optim/optim_kern_LEVEL.c, src/act/pau_kern_LEVEL.c) have a
# simpler rule: every function whose name starts with k_ or u_ has packed arithmetic (or
# packed stores, for fill) on the level's registers, or calls SLEEF's function of the
# level's width, itself or through a local function it calls or jumps to.
# The reductions (rd_kern) are held to more: every function the level's rd_level table
# names (src/core/rd_kernels.h) must be in the object, and only packed arithmetic,
# compares, selects, min/max and conversions count there (not the packed and/or/xor of a
# scalar fabs or a zeroing, not moves), so a scalar reduction kernel fails.
# Usage: check_vector.sh ACT_H "OBJECT;OBJECT;..."
set -eu
act_h=$1
all=$(printf '%s\n' "$2" | tr ';' '\n')
objs=$(echo "$all" | grep '/kern_[a-z0-9]*\.c\.o$' || true)
[ -n "$objs" ] || { echo "no kern_*.c.o among the objects"; exit 1; }
sets=$(echo "$all" | grep '/[a-z]*_kern_[a-z0-9]*\.c\.o$' || true)
[ -n "$sets" ] || { echo "no ew_kern_*.c.o or optim_kern_*.c.o among the objects"; exit 1; }
# each of these sets must be there at every level (a set left out of the build would
# otherwise pass unchecked)
for set in ew_kern rd_kern bs_kern optim_kern pau_kern; do
  for lv in baseline avx2 avx512; do
    echo "$sets" | grep -q "/${set}_${lv}\.c\.o$" || { echo "no ${set}_${lv}.c.o among the objects"; exit 1; }
  done
done
command -v objdump >/dev/null || { echo "objdump not found (binutils)"; exit 1; }

# the kernels every level must have: f_NAME and b_NAME, fb_NAME for fused entries, and
# d2_NAME (f'') or d2_zero where kernels.h defines d2_NAME as d2_zero
names=$(sed -n '/^#define ACT_LIST(X)/,/^$/p' "$act_h" | grep -o 'X([a-z0-9_]*, [01])' |
        sed 's/X(\([a-z0-9_]*\), \([01]\))/\1 \2/')
[ -n "$names" ] || { echo "no ACT_LIST in $act_h"; exit 1; }
kern_h="$(dirname "$act_h")/kernels.h"
[ -f "$kern_h" ] || { echo "no $kern_h"; exit 1; }
zeros=$(sed -n 's/^#define d2_\([a-z0-9_]*\) d2_zero$/\1/p' "$kern_h")
want=$( (echo "$names" | while read -r n f; do
  [ "$n" = identity ] || echo "f_$n" # identity's forward is a vector copy: moves, no arithmetic
  echo "b_$n"
  [ "$f" = 1 ] && echo "fb_$n"
  if echo "$zeros" | grep -qx "$n"; then echo d2_zero; else echo "d2_$n"; fi
done) | awk '!seen[$0]++')

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
      if (ins ~ /((call|jmp)[a-z]* +[0-9a-f]+|lea .*#.*[0-9a-f]+) <[fbd]/) {
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

rd_h="$(dirname "$act_h")/../core/rd_kernels.h"
[ -f "$rd_h" ] || { echo "no $rd_h"; exit 1; }
rd_names=$(sed -n '/^const rd_level LEVEL_NAME = {/,/^};/p' "$rd_h" | grep -o 'k_[a-z0-9_]*' | sort -u)
[ -n "$rd_names" ] || { echo "no rd_level table in $rd_h"; exit 1; }
for o in $sets; do
  level=$(basename "$o" .c.o | sed 's/^[a-z]*_kern_//')
  case $level in
    avx512) reg=zmm; sleef='(f16|d8)_[a-z0-9]*avx512f' ;;
    avx2) reg=ymm; sleef='(f8_[a-z0-9]*avx2|d4_[a-z0-9]*avx)' ;;
    baseline) reg=xmm; sleef='(f4|d2)_[a-z0-9]*sse2' ;;
    *) echo "unknown level in $o"; exit 1 ;;
  esac
  strict=0
  case $(basename "$o") in rd_kern_*) strict=1 ;; esac
  # "address name packed targets...": relocations (-r) name the SLEEF calls
  table=$(objdump -dr --no-show-raw-insn "$o" | awk -v reg="$reg" -v sleef="$sleef" -v strict=$strict '
    /^[0-9a-f]+ <[^>]+>:$/ {
      if (fn != "") print addr, fn, packed, targets
      addr = $1; fn = $2; sub(/^</, "", fn); sub(/>:$/, "", fn)
      packed = 0; targets = ""; next
    }
    fn != "" && /\t/ {
      ins = $0
      # (xorps %xmmN,%xmmN zeroes a register in scalar code too: not counted)
      zero = ins ~ /\txorps +%xmm[0-9]+,%xmm[0-9]+$/ && split(ins, z, /[ ,%]+/) && z[3] == z[4]
      if (strict) {
        if (ins ~ /\t(v)?(add|sub|mul|div|sqrt|max|min|round|rndscale|fmadd[0-9]*|fnmadd[0-9]*|fmsub[0-9]*|cmp[a-z_]*|blendv|blendm|cvtps2|cvtpd2)p[sd] / && ins ~ reg) packed++
      } else {
        if (!zero && ins ~ /\t(v)?(add|sub|mul|div|sqrt|max|min|round|rndscale|fmadd[0-9]*|fnmadd[0-9]*|fmsub[0-9]*|cmp[a-z_]*|blendv|blendm|and|andn|or|xor|cvtps2|cvtpd2)p[sd] / && ins ~ reg) packed++
        if (ins ~ /\t(v)?mov(u|a|nt)ps +%/ && ins ~ reg && ins ~ /\(/) packed++
      }
      if (ins ~ ("R_X86_64_[A-Z0-9]+\tSleef_[a-z0-9]+" sleef)) packed++
      if (ins ~ /(call|jmp)[a-z]* +[0-9a-f]+ <[a-z]/ && ins !~ /\+0x/) {
        t = ins; sub(/.*</, "", t); sub(/>.*/, "", t); targets = targets " " t
      }
    }
    END { if (fn != "") print addr, fn, packed, targets }')
  # every k_/u_ symbol (identical functions may share an address under another name)
  want=$(nm "$o" | awk '$2 ~ /^[tT]$/ && $3 ~ /^[ku]_/ { print $1, $3 }')
  [ -n "$want" ] || { echo "$level: no k_/u_ kernels in $(basename "$o")"; status=1; continue; }
  if [ $strict = 1 ]; then
    for k in $rd_names; do
      echo "$want" | awk -v k="$k" '$2 == k { f = 1 } END { exit !f }' ||
        { echo "$level: $k (named by rd_level) not found in $(basename "$o")"; status=1; }
    done
  fi
  bad=$(echo "$want" | while read -r a k; do
    ok=$(echo "$table" | awk -v a="$a" '
      { addr[$2] = $1; packed[$2] += $3; for (i = 4; i <= NF; i++) tg[$2] = tg[$2] " " $i
        if ($1 == a) me = $2 }
      END {
        if (me == "") { print 0; exit }
        if (packed[me] > 0) { print 1; exit }
        n = split(tg[me], t, " ")
        for (i = 1; i <= n; i++) if (packed[t[i]] > 0) { print 1; exit }
        print 0
      }')
    [ "$ok" = 1 ] || echo "$k"
  done)
  n=$(echo "$want" | wc -l)
  checked=$((checked + n))
  for k in $bad; do
    echo "$level: $k in $(basename "$o") has no packed $reg arithmetic (scalar code?)"; status=1
  done
done
[ $status -eq 0 ] && echo "vector kernels: $checked kernels checked in $(echo "$objs" | wc -l) levels (and $(echo "$sets" | wc -l) other kernel objects), all packed"
exit $status
