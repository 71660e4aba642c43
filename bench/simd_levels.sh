#!/usr/bin/env bash
# The activation benchmark at every SIMD level this CPU runs, beside PyTorch and the
# STREAM triad measured in the same session: one Markdown table per level, size and
# thread count (bench/bench_act.lua --report), headed by the CPU's name.
#
#   bench/simd_levels.sh [--build DIR] [--sizes LIST] [--threads N] [--reps R] [--out DIR]
#
# Defaults: the build directory build/ (configured with -DACTRUN_BENCH=ON for the stream
# benchmark), sizes 16000000, threads 2, reps 5, raw outputs into a temporary directory.
# PyTorch columns need a Python that imports torch ($PYTHON, else /usr/bin/python3).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=$here/build sizes=16000000 threads=2 reps=5 out=""
while (($#)); do
  case $1 in
  --build) build=$2; shift ;;
  --sizes) sizes=$2; shift ;;
  --threads) threads=$2; shift ;;
  --reps) reps=$2; shift ;;
  --out) out=$2; shift ;;
  -h | --help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
  *) echo "simd_levels.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
out=${out:-$(mktemp -d)}
mkdir -p "$out"
actrun=$build/actrun
cmake --build "$build" -j"$(nproc)" --target actrun_cli bench_stream >&2
python=${PYTHON:-/usr/bin/python3}
"$python" -c 'import torch' 2>/dev/null || python=""

cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
levels=$("$actrun" -e 'print(table.concat(actrun.build_info().simd_available, " "))')
args=(--sizes "$sizes" --threads "$threads" --reps "$reps")
"$build/bench/stream" --threads "$threads" >"$out/stream.txt"
[[ -n $python ]] && "$python" "$here/bench/torch_act.py" "${args[@]}" >"$out/torch.txt"
for l in $levels; do
  ACTRUN_SIMD=$l "$actrun" "$here/bench/bench_act.lua" "${args[@]}" >"$out/actrun.$l.txt"
done
for l in $levels; do
  report=(--report "$out/actrun.$l.txt" --stream "$out/stream.txt"
          --header "$cpu, kernels at the $l level (ACTRUN_SIMD=$l)")
  [[ -n $python ]] && report+=(--torch-file "$out/torch.txt")
  "$actrun" "$here/bench/bench_act.lua" "${report[@]}"
  echo
done
# the issue's targets in one table: every level and thread count
echo "| level | threads | triad GB/s | fwd: lowest % of triad | piecewise-linear fwd: lowest % | fwd+bwd: lowest % | vs PyTorch \`y = f(x)\`, fwd: geo mean (lowest) | fwd+bwd: geo mean (lowest) |"
echo "| --- | ---: | ---: | --- | --- | --- | --- | --- |"
[[ -f $out/torch.txt ]] || : >"$out/torch.txt"
for l in $levels; do
  for s in ${sizes//,/ }; do
    awk -v level="$l" -v size="$s" -f "$here/bench/simd_targets.awk" \
      "$out/stream.txt" "$out/torch.txt" "$out/actrun.$l.txt"
  done
done
echo "raw outputs: $out" >&2
