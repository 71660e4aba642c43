#!/bin/sh
# A static model of the activation kernels' hot loops on CPUs we cannot run: each level's
# kernel file (src/act/kern_LEVEL.c) is compiled to assembly with the project's flags for
# that level, the innermost vector loop of every forward (f_), backward (b_) and fused
# (fb_) kernel is cut out, and llvm-mca simulates it on a CPU model.
#
# The loop: among the blocks that run from a label to a jump back to it inside the
# function, the one with the most packed vector arithmetic (ymm/zmm/xmm ...ps/pd/p*).
# Elements per iteration = full-width stores in the loop x lanes / outputs per element
# (1 for f_ and b_, 2 for fb_). A kernel that only forwards to another one (softplus picks
# its beta = 1 kernel, celu its alpha > 0 kernel, prelu/rrelu call leaky_relu) is followed
# to the kernel the default parameters run. A kernel with no loop of its own is reported
# ("no loop": a kernel that is one library call); one whose loop cannot be found is
# reported as NOT FOUND and makes the script exit 1. Loops that call out (sin/cos call
# SLEEF) are flagged: the model does not see the callee.
#
# Reported per kernel and CPU model: cycles per iteration as simulated over
# --iterations iterations (Total Cycles / Iterations: throughput and dependencies), the
# static Block RThroughput (resource bound alone), both per vector of the level, and the
# bottleneck from -bottleneck-analysis: "deps %" when the simulated cycles are more than
# 10% above the static bound and llvm-mca blames register dependencies for >= 10% of the
# cycles (with the busiest unit in brackets), else "throughput (UNIT %)", UNIT the busiest
# resource and % the share of cycles it was the limit. LLVM's scheduling models, not
# measurements.
#
# Usage: bench/kernel_mca.sh [--levels avx2,avx512] [--only NAME] [--kinds fwd,bwd,fused]
#          [--cpus-avx2 znver3,haswell] [--cpus-avx512 skylake-avx512,icelake-server]
#          [--iterations 200] [--cc CC] [--mca PATH] [--keep DIR] [--report]
# Prints "KEY VALUE UNIT" lines (mca.CPU.LEVEL.ACT.KIND cycles per vector, .rthru the
# static bound) and with --report a Markdown table per level. Exit 77 if llvm-mca is
# missing, 1 if a kernel's loop was not found, 2 on a usage or compile error.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
LEVELS=avx2,avx512
ONLY=
KINDS=fwd,bwd,fused
CPUS_AVX2=znver3,haswell
CPUS_AVX512=skylake-avx512,icelake-server
ITER=200
CC=${CC:-cc}
MCA=
KEEP=
REPORT=0
while [ $# -gt 0 ]; do
  case $1 in
    --levels) LEVELS=$2; shift ;;
    --only) ONLY=$2; shift ;;
    --kinds) KINDS=$2; shift ;;
    --cpus-avx2) CPUS_AVX2=$2; shift ;;
    --cpus-avx512) CPUS_AVX512=$2; shift ;;
    --iterations) ITER=$2; shift ;;
    --cc) CC=$2; shift ;;
    --mca) MCA=$2; shift ;;
    --keep) KEEP=$2; shift ;;
    --report) REPORT=1 ;;
    *) echo "kernel_mca.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
if [ -z "$MCA" ]; then
  for m in llvm-mca llvm-mca-14 llvm-mca-15 llvm-mca-16 llvm-mca-17 llvm-mca-18; do
    if command -v $m >/dev/null 2>&1; then MCA=$(command -v $m); break; fi
  done
fi
if [ -z "$MCA" ] || [ ! -x "$MCA" ]; then
  echo "kernel_mca.sh: llvm-mca not found (Debian: llvm-14); skipped"
  exit 77
fi

if [ -n "$KEEP" ]; then
  WORK=$KEEP; mkdir -p "$WORK"
else
  WORK=$(mktemp -d); trap 'rm -rf "$WORK"' EXIT
fi

# the registry's entries and which have a fused kernel, from ACT_LIST (src/act/act.h)
ACTS=$(sed -n '/^#define ACT_LIST/,/^$/p' "$ROOT/src/act/act.h" |
  grep -o 'X([a-z0-9_]*, [01])' | sed 's/X(\([a-z0-9_]*\), \([01]\))/\1:\2/')
if [ -z "$ACTS" ]; then echo "kernel_mca.sh: no ACT_LIST in src/act/act.h" >&2; exit 2; fi
if [ -n "$ONLY" ] && ! echo "$ACTS" | grep -q "^$ONLY:"; then
  echo "kernel_mca.sh: no activation $ONLY in ACT_LIST" >&2; exit 2
fi

echo "# kernel_mca: $("$MCA" --version 2>/dev/null | grep -i 'llvm version' | sed 's/^ *//'),"\
  "$("$CC" --version | head -1), $ITER iterations"
status=0
TAB="$WORK/table.txt"
: > "$TAB"
for level in $(echo "$LEVELS" | tr ',' ' '); do
  case $level in
    avx2) flags="-mavx2 -mfma"; cpus=$CPUS_AVX2; lanes=8 ;;
    avx512) flags="-mavx512f -mavx2 -mfma"; cpus=$CPUS_AVX512; lanes=16 ;;
    baseline) flags=""; cpus=$CPUS_AVX2; lanes=4 ;;
    *) echo "kernel_mca.sh: unknown level $level" >&2; exit 2 ;;
  esac
  asm="$WORK/kern_$level.s"
  # the flags CMakeLists.txt gives these files in a Release build
  if ! $CC -O3 $flags -ffp-contract=off -I"$ROOT/src" -I"$ROOT/include" -S \
      "$ROOT/src/act/kern_$level.c" -o "$asm"; then
    echo "kernel_mca.sh: compiling kern_$level.c failed" >&2; exit 2
  fi
  echo "# $level: $CC -O3 $flags -ffp-contract=off -S src/act/kern_$level.c; VL $lanes"
  for entry in $ACTS; do
    act=${entry%:*}; hasfused=${entry#*:}
    [ -n "$ONLY" ] && [ "$ONLY" != "$act" ] && continue
    for kind in $(echo "$KINDS" | tr ',' ' '); do
      case $kind in
        fwd) fn=f_$act; outs=1 ;;
        bwd) fn=b_$act; outs=1 ;;
        fused) [ "$hasfused" = 1 ] || continue; fn=fb_$act; outs=2 ;;
        *) echo "kernel_mca.sh: unknown kind $kind" >&2; exit 2 ;;
      esac
      loop="$WORK/$level.$fn.loop.s"
      # prints: STATUS FUNCTION STORES CALLS (STATUS ok / noloop / notfound / unresolved)
      info=$(awk -v fn="$fn" -v out="$loop" '
        function isfn(l) { return l ~ /^[A-Za-z_][A-Za-z0-9_.]*:/ }
        function fname(l) { sub(/:.*/, "", l); return l }
        { line[NR] = $0 }
        END {
          # the default-parameter paths of the dispatching kernels
          pref["softplus"] = "softplus1"; pref["celu"] = "celu_pos"
          cur = fn; via = ""
          for (hop = 0; hop < 3; hop++) {
            s = 0
            for (i = 1; i <= NR; i++) {
              if (!isfn(line[i])) continue
              nm = fname(line[i])
              if (nm == cur || index(nm, cur ".") == 1) { s = i; break }
            }
            if (!s) { print "notfound " cur " 0 0"; exit }
            e = NR
            for (i = s + 1; i <= NR; i++) if (line[i] ~ /^\t\.size\t/) { e = i; break }
            # labels, then jumps back to a label above them
            delete lab; best = 0; bestn = -1
            for (i = s; i <= e; i++)
              if (line[i] ~ /^\.L[A-Za-z0-9_]+:/) { l = line[i]; sub(/:.*/, "", l); lab[l] = i }
            nc = 0
            for (i = s; i <= e; i++) {
              # a conditional jump back (gcc rotates its loops; an unconditional jump
              # back is the tail code re-entering a shared exit)
              if (line[i] !~ /^\tj[a-z]+\t\.L/ || line[i] ~ /^\tjmp/) continue
              t = line[i]; sub(/^\tj[a-z]+\t/, "", t); sub(/[ \t].*/, "", t)
              if (!(t in lab) || lab[t] >= i) continue
              nv = 0
              for (j = lab[t] + 1; j < i; j++) {
                if (line[j] ~ /^\tret/) { nv = -1000000; break }
                if (line[j] ~ /^\tv?p?[a-z0-9]*(ps|pd)?\t/ && line[j] ~ /%[xyz]mm/ &&
                    line[j] !~ /^\tv?mov/ && line[j] !~ /^\tvbroadcast/ &&
                    line[j] !~ /^\tv?(u?comis|cvt)/ && line[j] !~ /^\tv[a-z]*ss\t/) nv++
              }
              if (nv > 0) { nc++; cs[nc] = lab[t]; ce[nc] = i; cv[nc] = nv }
            }
            # innermost: a block that holds no other block; of those the most vector
            # arithmetic
            for (c = 1; c <= nc; c++) {
              inner = 1
              for (d = 1; d <= nc; d++)
                if (d != c && cs[c] <= cs[d] && ce[d] <= ce[c] && !(cs[c] == cs[d] && ce[c] == ce[d]))
                  inner = 0
              if (inner && cv[c] > bestn) { best = ce[c]; bestn = cv[c]; bstart = cs[c] }
            }
            if (best && bestn > 0) {
              stores = 0; calls = 0
              printf "" > out
              for (j = bstart + 1; j <= best; j++) {
                l = line[j]
                if (l ~ /^\.L/ || l ~ /^\t\./ || l ~ /^[ \t]*$/) continue
                print l > out
                if (l ~ /^\tv?mov[au]p[sd]\t%[xyz]mm[0-9]+, .*\(/) {
                  w = l; sub(/^\tv?mov[au]p[sd]\t%/, "", w)
                  if (w ~ /^zmm/) stores += 16; else if (w ~ /^ymm/) stores += 8; else stores += 4
                }
                if (l ~ /^\tcall/) calls++
              }
              close(out)
              print "ok " cur " " stores " " calls " " via
              exit
            }
            # no loop: follow what it forwards to (leaq SYM(%rip), jmp/call SYM)
            n = 0; delete tg
            for (i = s; i <= e; i++) {
              if (line[i] ~ /^\t(leaq\t[a-z_][a-z0-9_]*\(%rip\)|jmp\t[a-z_][a-z0-9_]*(@PLT)?$|call\t[a-z_][a-z0-9_]*(@PLT)?$)/) {
                t = line[i]; sub(/^\t[a-z]+\t/, "", t); sub(/[(@,].*/, "", t)
                # the tails call memcpy; only a function that jumps to it is a copy
                if (line[i] ~ /^\tcall/ && t ~ /^mem(cpy|move|set)$/) continue
                if (!(t in tg)) { tg[t] = 1; order[++n] = t }
              }
            }
            nxt = ""
            for (k in pref) if (cur ~ ("_" k "$") && ((substr(cur, 1, index(cur, "_")) pref[k]) in tg))
              nxt = substr(cur, 1, index(cur, "_")) pref[k]
            if (nxt == "" && n == 1) nxt = order[1]
            if (nxt == "memcpy" || nxt == "memmove" || nxt == "memset") { print "noloop " cur " 0 0 " nxt; exit }
            if (nxt == "") { print "unresolved " cur " 0 0"; exit }
            via = nxt; cur = nxt
          }
          print "unresolved " cur " 0 0"
        }' "$asm")
      [ -n "$info" ] || info="notfound $fn 0 0"
      set -- $info
      st=$1; target=$2; lanes_st=$3; ncall=$4; note=${5:-}
      case $st in
        noloop)
          echo "# $level $act $kind: no loop of its own ($fn calls $note)"
          echo "$level|$act|$kind|-|no loop ($note)" >> "$TAB"
          continue ;;
        ok) ;;
        *)
          echo "# $level $act $kind: NOT FOUND ($st: $target)"
          echo "$level|$act|$kind|-|NOT FOUND" >> "$TAB"
          status=1; continue ;;
      esac
      # elements per iteration from the stores (lanes per store / outputs per element)
      epi=$((lanes_st / outs))
      if [ "$epi" -le 0 ] || [ $((lanes_st % outs)) -ne 0 ]; then
        echo "# $level $act $kind: NOT FOUND (the loop in $target has $lanes_st stored lanes)"
        echo "$level|$act|$kind|-|NOT FOUND" >> "$TAB"
        status=1; continue
      fi
      ninsn=$(wc -l < "$loop")
      flag=""
      [ "$ncall" -gt 0 ] && flag=" calls out"
      [ "$target" != "$fn" ] && flag="$flag via $target"
      for cpu in $(echo "$cpus" | tr ',' ' '); do
        res="$WORK/$level.$fn.$cpu.mca"
        if ! "$MCA" -mcpu="$cpu" -iterations="$ITER" -bottleneck-analysis "$loop" > "$res" 2>&1; then
          echo "# $level $act $kind $cpu: llvm-mca failed: $(head -3 "$res" | tr '\n' ' ')"
          echo "$level|$act|$kind|$cpu|NOT FOUND" >> "$TAB"
          status=1; continue
        fi
        # cycles per iteration (simulated), the static bound, the bottleneck
        awk -v level="$level" -v act="$act" -v kind="$kind" -v cpu="$cpu" -v epi="$epi" \
            -v lanes="$lanes" -v ninsn="$ninsn" -v flag="$flag" -v tab="$TAB" '
          /^Iterations:/ { it = $2 }
          /^Total Cycles:/ { cyc = $3 }
          /^Block RThroughput:/ { rt = $3 }
          /^Total uOps:/ { uops = $3 }
          /^Dispatch Width:/ { dw = $3 }
          /Resource Pressure +\[/ { rp = $0; sub(/.*\[ */, "", rp); sub(/%.*/, "", rp); inres = 1; next }
          /Data Dependencies: +\[/ { dd = $0; sub(/.*\[ */, "", dd); sub(/%.*/, "", dd); inres = 0 }
          inres && /^  - / { u = $2; p = $0; sub(/.*\[ */, "", p); sub(/%.*/, "", p)
                             if (p + 0 > top + 0) { top = p; topu = u } }
          END {
            if (!it || !cyc) { print "# " level " " act " " kind " " cpu ": no llvm-mca summary"; exit 1 }
            vec = epi / lanes; c = cyc / it / vec; r = rt / vec
            # at its static bound a loop is throughput-bound: name the busiest resource;
            # above it, the share of cycles llvm-mca blames on register dependencies
            r1 = topu != "" ? sprintf("%s %.0f%%", topu, top) : \
                 (dw && uops / it / dw >= 0.95 * rt ? "dispatch width" : "no one unit")
            if (cyc / it <= 1.1 * rt || dd + 0 < 10) b = "throughput (" r1 ")"
            else b = sprintf("deps %.0f%% (%s)", dd, r1)
            printf "mca.%s.%s.%s.%s %.2f cyc/vec\n", cpu, level, act, kind, c
            printf "mca.%s.%s.%s.%s.rthru %.2f cyc/vec\n", cpu, level, act, kind, r
            printf "# %s %s %s %s: %d instructions per %d elements, %.2f cycles/iteration (bound %.2f), bottleneck %s%s\n", \
              cpu, level, act, kind, ninsn, epi, cyc / it, rt, b, flag
            printf "%s|%s|%s|%s|%.1f|%.1f|%s|%s\n", level, act, kind, cpu, c, r, b, flag >> tab
          }' "$res" || status=1
      done
    done
  done
done

if [ "$REPORT" = 1 ]; then
  # one table per level: a row per activation, per CPU model fwd / bwd / fused cycles
  # per vector (simulated) and the forward's bottleneck
  for level in $(echo "$LEVELS" | tr ',' ' '); do
    case $level in avx512) cpus=$CPUS_AVX512 ;; *) cpus=$CPUS_AVX2 ;; esac
    awk -F'|' -v level="$level" -v cpus="$cpus" '
      BEGIN { nc = split(cpus, C, ",") }
      $1 != level { next }
      { a = $2; if (!(a in seen)) { seen[a] = 1; order[++na] = a } }
      # a loop that calls out: the callee is not modelled, no number in the table
      NF >= 6 { v[a, $3, $4] = $5; co[a, $3, $4] = $8 ~ /calls out/
                if ($3 == "fwd") bn[a, $4] = $7 ($8 != "" ? ";" $8 : "") }
      NF == 5 { for (i = 1; i <= nc; i++) v[a, $3, C[i]] = $5; if ($3 == "fwd") for (i = 1; i <= nc; i++) bn[a, C[i]] = $5 }
      function cell(x, a, k, c) { return x == "" ? "-" : (co[a, k, c] ? "(call)" : x) }
      END {
        printf "\nllvm-mca model, %s kernels: cycles per vector (VL %d), fwd / bwd / fused\n\n| activation |", \
          level, level == "avx512" ? 16 : (level == "avx2" ? 8 : 4)
        for (i = 1; i <= nc; i++) printf " %s |", C[i]
        for (i = 1; i <= nc; i++) printf " fwd bottleneck (%s) |", C[i]
        printf "\n| --- |"
        for (i = 1; i <= 2 * nc; i++) printf " %s |", i <= nc ? "---:" : "---"
        printf "\n"
        for (k = 1; k <= na; k++) {
          a = order[k]; printf "| `%s` |", a
          for (i = 1; i <= nc; i++) {
            f = v[a, "fwd", C[i]]; b = v[a, "bwd", C[i]]; u = v[a, "fused", C[i]]
            printf " %s / %s / %s |", cell(f, a, "fwd", C[i]), cell(b, a, "bwd", C[i]), cell(u, a, "fused", C[i])
          }
          for (i = 1; i <= nc; i++) printf " %s |", bn[a, C[i]]
          printf "\n"
        }
      }' "$TAB"
  done
fi
exit $status
