#!/usr/bin/env bash
# Builds actrun and its benchmarks (Release) and runs them all, then prints one results
# table (Markdown) and the targets' status.
#
#   bench/run_all.sh [--write] [--quick] [--runs N] [--threads N] [--build DIR]
#                    [--keep-raw DIR] [--fmnist-only | --no-fmnist]
#
#   --write      also regenerate the results in docs/BENCHMARKS.md (between the markers
#                <!-- bench:begin --> and <!-- bench:end -->, the activation tables
#                between <!-- bench-act:begin --> and <!-- bench-act:end -->, and the
#                training table between <!-- bench-fmnist:begin --> and
#                <!-- bench-fmnist:end -->); without it nothing in the repository is written
#   --quick      fewer repetitions and smaller sizes (a smoke run, not for the record)
#   --runs N     run every benchmark N times (interleaved) and report, per number, the
#                median over the runs (default 1; each run already reports medians)
#   --threads N  largest thread count measured (default 2)
#   --build DIR  build directory (default: $ACTRUN_BENCH_BUILD, else a directory under
#                $TMPDIR, outside the repository)
#   --keep-raw D copy every benchmark's raw output into D
#   --fmnist-only  run only the Fashion-MNIST training benchmark (with --write, only
#                its section of docs/BENCHMARKS.md is rewritten)
#   --no-fmnist  skip the Fashion-MNIST training benchmark (bench/fmnist_train.lua and
#                bench/fmnist_train_torch.py; about 10 minutes in a full run)
#
# PyTorch columns: bench/overhead_torch.py, bench/torch_act.py and
# bench/fmnist_train_torch.py run with $PYTHON, else
# the first of `python3` and `/usr/bin/python3` that can import torch; without torch they
# read "n/a" (empty cells in the activation tables of bench/bench_act.lua).
# Each benchmark runs under a time limit ($ACTRUN_BENCH_TIMEOUT seconds, default 1800):
# a benchmark that hangs is reported and its rows read "n/a".
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)

write=0 quick=0 threads=2 keep="" runs=1 fmnist=1 others=1
build=${ACTRUN_BENCH_BUILD:-${TMPDIR:-/tmp}/actrun-bench-build-$(id -u)}
while (($#)); do
  case $1 in
  --write) write=1 ;;
  --quick) quick=1 ;;
  --threads) threads=$2; shift ;;
  --runs) runs=$2; shift ;;
  --build) build=$2; shift ;;
  --keep-raw) keep=$2; shift ;;
  --no-fmnist) fmnist=0 ;;
  --fmnist-only) others=0 fmnist=1 ;;
  -h | --help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
  *) echo "run_all.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
limit=${ACTRUN_BENCH_TIMEOUT:-1800}
log() { printf '%s\n' "$*" >&2; }

# ---------- build ----------
jobs=$(nproc 2>/dev/null || echo 2)
log "== building (Release) in $build"
if grep -q 'add_subdirectory(bench)' "$here/CMakeLists.txt"; then
  cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=Release -DACTRUN_BENCH=ON -DACTRUN_TESTS=OFF >&2
  cmake --build "$build" -j"$jobs" --target actrun_cli bench_stream bench_gemm bench_overhead_core >&2
  benchbin=$build/bench
else
  # not wired into the top level: build actrun, then bench/ standalone against it
  cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=Release -DACTRUN_TESTS=OFF >&2
  cmake --build "$build" -j"$jobs" --target actrun_cli >&2
  cmake -S "$here/bench" -B "$build/bench-standalone" -DCMAKE_BUILD_TYPE=Release \
    -DACTRUN_BUILD_DIR="$build" >&2
  cmake --build "$build/bench-standalone" -j"$jobs" >&2
  benchbin=$build/bench-standalone
fi
actrun=$build/actrun

# ---------- run ----------
raw=$(mktemp -d)
trap 'rm -rf "$raw"' EXIT
if ((quick)); then
  a_stream=(--reps 5) a_gemm=(--samples 3 --max-size 1024) a_over=(--n 100000 --reps 3)
  a_core=(--n 100000 --reps 3) a_act=(--quick)
  a_fm_mlp=(--limit 5000 --epochs 3 --seeds 1,2,3) a_fm_small=(--limit 5000 --epochs 3 --seeds 1)
  a_fm_cnn=(--limit 2000 --epochs 1 --seeds 1) a_fm_cnn_torch=("${a_fm_cnn[@]}")
  a_fm_time=(--limit 10000 --epochs 2 --seeds 1)
else
  a_stream=() a_gemm=() a_over=() a_core=() a_act=()
  # the targets' recipes: MLP 10 epochs x 3 seeds (accuracy after 3 and 10), the
  # 256-128-100 MLP's recipe x 3 seeds, the CNN x 1 seed (PyTorch: 2 epochs, for its time)
  a_fm_mlp=(--epochs 10 --seeds 1,2,3) a_fm_small=(--seeds 1,2,3)
  a_fm_cnn=(--seeds 1) a_fm_cnn_torch=(--seeds 1 --epochs 2)
  a_fm_time=(--epochs 3 --seeds 1)
fi

loads=()
sample_load() { # CPU pressure (% of time some task waited for a CPU, last 10 s), if known
  local l
  l=$(awk '/^some/ { sub("avg10=", "", $2); print $2 }' /proc/pressure/cpu 2>/dev/null || true)
  [[ -n $l ]] && loads+=("$l")
  return 0
}

run() { # name command...: output to $raw/name.$i.txt, "# name failed" on error or timeout
  local name=$1 rc=0 out="$raw/$1.$i.txt"
  shift
  sample_load
  log "== $name (run $i/$runs): $*"
  timeout "$limit" "$@" >"$out" 2>"$raw/$name.err" || rc=$?
  if ((rc == 124)); then
    log "!! $name timed out after ${limit}s (a hang?)"
    echo "# $name: timed out after ${limit}s" >>"$out"
  elif ((rc != 0)); then
    log "!! $name failed (status $rc): $(tail -n 3 "$raw/$name.err")"
    echo "# $name: failed with status $rc" >>"$out"
  fi
  grep -v '^#' "$out" >&2 || true
  return 0
}

python=""
for p in ${PYTHON:-} python3 /usr/bin/python3; do
  if command -v "$p" >/dev/null 2>&1 && "$p" -c 'import torch' >/dev/null 2>&1; then
    python=$p
    break
  fi
done
torch_version="n/a"
[[ -n $python ]] && torch_version=$("$python" -c 'import torch; print(torch.__version__)' 2>/dev/null || echo "?")
[[ -z $python ]] && log "== torch: not importable, PyTorch columns are n/a"

for ((i = 1; i <= runs; i++)); do
  if ((others)); then
    run stream "$benchbin/stream" --threads "$threads" "${a_stream[@]}"
    run gemm "$benchbin/gemm" --threads "$threads" "${a_gemm[@]}"
    run overhead "$actrun" "$here/bench/overhead.lua" --threads "$threads" "${a_over[@]}"
    run overhead_core "$benchbin/overhead_core" "${a_core[@]}"
    if [[ -n $python ]]; then
      run torch "$python" "$here/bench/overhead_torch.py" --threads "$threads" "${a_over[@]}"
    else
      echo "# torch unavailable" >"$raw/torch.$i.txt"
    fi
    run act "$actrun" "$here/bench/bench_act.lua" --threads "$threads" "${a_act[@]}"
    if [[ -n $python ]]; then
      run torch_act "$python" "$here/bench/torch_act.py" --threads "$threads" "${a_act[@]}"
    else
      echo "# torch unavailable" >"$raw/torch_act.$i.txt"
    fi
  fi # others
  if ((fmnist)); then
    # Fashion-MNIST training: the accuracy runs once (repeatable from their seeds, and
    # the longest), seconds per epoch every run, actrun and PyTorch alternating
    if ((i == 1)); then
      run fm_mlp "$actrun" "$here/bench/fmnist_train.lua" --model mlp --quiet "${a_fm_mlp[@]}"
      run fm_small "$actrun" "$here/bench/fmnist_train.lua" --model mlp_small --quiet "${a_fm_small[@]}"
      run fm_cnn "$actrun" "$here/bench/fmnist_train.lua" --model cnn --quiet "${a_fm_cnn[@]}"
      if [[ -n $python ]]; then
        run fm_mlp_torch "$python" "$here/bench/fmnist_train_torch.py" --model mlp --quiet "${a_fm_mlp[@]}"
        run fm_small_torch "$python" "$here/bench/fmnist_train_torch.py" --model mlp_small --quiet "${a_fm_small[@]}"
        run fm_cnn_torch "$python" "$here/bench/fmnist_train_torch.py" --model cnn --quiet "${a_fm_cnn_torch[@]}"
      fi
    fi
    for ((t = 1; t <= threads; t++)); do
      run "fm_time${t}" "$actrun" "$here/bench/fmnist_train.lua" --model mlp --threads "$t" --quiet "${a_fm_time[@]}"
      if [[ -n $python ]]; then
        run "fm_time${t}_torch" "$python" "$here/bench/fmnist_train_torch.py" --model mlp --threads "$t" --quiet "${a_fm_time[@]}"
      fi
    done
  fi
done

# per benchmark: comments of every run, then each number's median over the runs
fm_names=()
if ((fmnist)); then
  fm_names=(fm_mlp fm_small fm_cnn fm_mlp_torch fm_small_torch fm_cnn_torch)
  for ((t = 1; t <= threads; t++)); do fm_names+=("fm_time$t" "fm_time${t}_torch"); done
fi
for name in stream gemm overhead overhead_core torch act torch_act "${fm_names[@]}"; do
  compgen -G "$raw/$name.*.txt" >/dev/null || continue
  cat "$raw/$name".*.txt | awk '
    /^#/ { if (!seen[$0]++) print; next }
    NF >= 3 { if (!($1 in n)) order[++k] = $1; x[$1, ++n[$1]] = $2 + 0; unit[$1] = $3 }
    END {
      for (j = 1; j <= k; j++) {
        key = order[j]; m = n[key]
        for (a = 1; a <= m; a++) s[a] = x[key, a]
        for (a = 2; a <= m; a++) { t = s[a]; b = a - 1; while (b >= 1 && s[b] > t) { s[b + 1] = s[b]; b-- } s[b + 1] = t }
        med = m % 2 ? s[(m + 1) / 2] : (s[m / 2] + s[m / 2 + 1]) / 2
        printf("%-34s %10.4f %s\n", key, med, unit[key])
      }
    }' >"$raw/$name.txt"
done
[[ -n $keep ]] && mkdir -p "$keep" && cp "$raw"/*.txt "$keep"/

sample_load

# ---------- the table ----------
cpu=$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo 2>/dev/null || echo "?")
blas=$(grep -h '^# OpenBLAS' "$raw/gemm.txt" 2>/dev/null | sed 's/^# //; s/, OPENBLAS_CORETYPE.*//' || true)
quicknote=""
((quick)) && quicknote=" (--quick run: not for the record)"
runsnote=""
((runs > 1)) && runsnote=" Every number is the median of ${runs} runs."
loadnote=""
if ((${#loads[@]})); then
  loadnote=$(printf '%s\n' "${loads[@]}" | sort -g | awk '{a[NR] = $1} END {
    printf(" CPU pressure between benchmarks (share of time a task waited for a CPU): %s%% to %s%%", a[1], a[NR])
    if (a[NR] >= 5) printf(", so other processes competed for the cores at times: the 2-thread numbers are the least reliable")
    printf(".") }')
fi
header="Measured $(date -u +%Y-%m-%d) on $(nproc) x ${cpu}, ${blas:-OpenBLAS ?}, PyTorch ${torch_version}.${runsnote}${loadnote}${quicknote}"

if ((others)); then
cat "$raw"/stream.txt "$raw"/gemm.txt "$raw"/overhead.txt "$raw"/overhead_core.txt "$raw"/torch.txt |
  awk -v threads="$threads" -v header="$header" '
function has(k) { return (k in v) }
function fmt(x, d) { return sprintf("%." d "f", x) }
# value with unit, or n/a
function val(k, d, u) { return has(k) ? fmt(v[k], d) " " u : "n/a" }
function row(name, t, a, r, x, note) {
  printf("| %s | %s | %s | %s | %s | %s |\n", name, t, a, r, x, note)
}
# throughput rows: actrun key, reference key; ratio = actrun / reference
function thr(name, t, ka, kr, d, u, note) {
  row(name, t, val(ka, d, u), kr == "" ? "" : val(kr, d, u),
      (has(ka) && has(kr) && v[kr] > 0) ? fmt(v[ka] / v[kr], 2) : (kr == "" ? "" : "n/a"), note)
}
# time rows: ratio = reference time / actrun time (above 1: actrun faster)
function tim(name, t, ka, kr, d, u, note) {
  row(name, t, val(ka, d, u), val(kr, d, u),
      (has(ka) && has(kr) && v[ka] > 0) ? fmt(v[kr] / v[ka], 2) : "n/a", note)
}
function frac(k) { return has(k) ? fmt(v[k], 2) " x triad" : "" }
/^#/ { next }
NF >= 2 { v[$1] = $2 + 0 }
END {
  print header
  print ""
  print "| benchmark | threads | actrun | reference | actrun vs reference (x, >1 = actrun ahead) | note |"
  print "|---|---|---|---|---|---|"
  for (t = 1; t <= threads; t++) {
    T = t "t"
    thr("STREAM copy, C loop, 64 MiB arrays", t, "stream.copy." T, "", 1, "GB/s", "")
    thr("STREAM scale", t, "stream.scale." T, "", 1, "GB/s", "")
    thr("STREAM add", t, "stream.add." T, "", 1, "GB/s", "")
    thr("STREAM triad", t, "stream.triad." T, "", 1, "GB/s", "the reference of the rows below")
    thr("read-only sum, C loop", t, "stream.read." T, "stream.triad." T, 1, "GB/s", "")
    thr("core `c = a + b` (ar_binary, fresh output), 16M", t, "core.add_new." T, "stream.triad." T, 1, "GB/s", "")
    thr("Lua `c = a + b`, 16M", t, "lua.add_new." T, "stream.triad." T, 1, "GB/s", "same process as the triad")
    thr("core `a += b` in place (ar_binary_), 16M", t, "core.add_inplace." T, "stream.triad." T, 1, "GB/s", "")
    thr("core `clamp(0)` fresh output, 16M", t, "core.clamp_new." T, "stream.triad." T, 1, "GB/s", "8 bytes/element")
    thr("Lua `c = a:clamp(0)`, 16M", t, "lua.clamp_new." T, "stream.triad." T, 1, "GB/s", "8 bytes/element")
    thr("core `sum` (ar_reduce), 16M", t, "core.sum." T, "stream.triad." T, 1, "GB/s", "4 bytes/element")
    thr("Lua `a:sum()`, 16M", t, "lua.sum." T, "stream.triad." T, 1, "GB/s", "4 bytes/element")
    thr("core `c = a + b`, empty cache (new pages)", t, "core.add_new_cold." T, "stream.triad." T, 1, "GB/s", "malloc + page faults")
  }
  n = split("sq128 sq256 sq512 sq1024 sq2048 fwd1 fwd2 fwd3 dx2 dx3 dw1 dw2 dw3", G, " ")
  desc["sq128"] = "128^3"; desc["sq256"] = "256^3"; desc["sq512"] = "512^3"
  desc["sq1024"] = "1024^3"; desc["sq2048"] = "2048^3"
  desc["fwd1"] = "MLP fwd 128x784 @ (256x784):t()"; desc["fwd2"] = "MLP fwd 128x256 @ (256x256):t()"
  desc["fwd3"] = "MLP fwd 128x256 @ (10x256):t() (128x10x256)"
  desc["dx2"] = "MLP dx 128x256 @ 256x256"; desc["dx3"] = "MLP dx 128x10 @ 10x256"
  desc["dw1"] = "MLP dW (128x256):t() @ 128x784"; desc["dw2"] = "MLP dW (128x256):t() @ 128x256"
  desc["dw3"] = "MLP dW (128x10):t() @ 128x256"
  for (i = 1; i <= n; i++)
    for (t = 1; t <= threads; t++) {
      k = "gemm." G[i] ".ar." t "t"
      pk = k ".peak"
      thr("ar_matmul " desc[G[i]] " vs cblas_sgemm", t, k, "gemm." G[i] ".blas." t "t", 1, "GFLOP/s",
          has(pk) ? fmt(100 * v[pk], 1) "% of FP32 peak" : "")
    }
  split("add_op add_method sum dim zeros empty", S, " ")
  lname["add_op"] = "`c = a + b`"; tname["add_op"] = "`c = a + b`"
  lname["add_method"] = "`c = a:add(b)`"; tname["add_method"] = "`c = a.add(b)`"
  lname["sum"] = "`a:sum()`"; tname["sum"] = "`a.sum()`"
  lname["dim"] = "`t:dim()`"; tname["dim"] = "`t.dim()`"
  lname["zeros"] = "`actrun.zeros(4)`"; tname["zeros"] = "`torch.zeros(4)`"
  lname["empty"] = "empty loop"; tname["empty"] = "empty loop"
  for (i = 1; i <= 6; i++) {
    note = "vs PyTorch " tname[S[i]]
    if (S[i] == "add_op" && has("torch.small.add_fn"))
      note = note "; `torch.add(a, b)` " fmt(v["torch.small.add_fn"], 3) " us"
    tim("per call, 4 elements: " lname[S[i]], "default", "lua.small." S[i], "torch.small." S[i], 3, "us", note)
  }
  thr("core only (C, no Lua): `ar_binary` add + release, 4 elements", "default", "core.small.add", "", 3, "us", "the core share of `c = a + b`")
  thr("core only: `ar_binary_` add in place, 4 elements", "default", "core.small.add_inplace", "", 3, "us", "")
  thr("core only: `ar_reduce` sum + release, 4 elements", "default", "core.small.sum", "", 3, "us", "the core share of `a:sum()`")
  thr("core only: `ar_empty` + `ar_fill` + release, 4 elements", "default", "core.small.zeros", "", 3, "us", "the core share of `actrun.zeros(4)`")
  for (t = 1; t <= threads; t++) {
    T = t "t"
    note = "vs PyTorch `a + b`"
    if (has("torch.big.add_out." T "")) note = note "; into a preallocated `out=`: " fmt(v["torch.big.add_out." T ".ms"], 1) " ms"
    tim("Lua `c = a + b`, 16M elements", t, "lua.big.add_new." T ".ms", "torch.big.add_new." T ".ms", 1, "ms", note)
    tim("Lua `c = a:clamp(0)`, 16M elements", t, "lua.big.clamp_new." T ".ms", "torch.big.relu_new." T ".ms", 1, "ms", "vs `torch.relu(a)`")
  }

  # ---------- targets ----------
  print ""
  print "Targets:"
  worst = ""; wv = -1; all = 1
  split("add_op add_method sum zeros", SO, " ")
  for (i = 1; i <= 4; i++) {
    k = "lua.small." SO[i]
    if (!has(k)) { all = 0; continue }
    if (v[k] > wv) { wv = v[k]; worst = SO[i] }
  }
  if (wv < 0) print "- small-op overhead <= 0.08 us: n/a"
  else {
    s = sprintf("- small-op overhead <= 0.08 us: %s (c = a + b %.3f us, a:add(b) %.3f, a:sum() %.3f, zeros(4) %.3f; worst %s",
      wv <= 0.08 ? "MET" : "MISSED", v["lua.small.add_op"], v["lua.small.add_method"], v["lua.small.sum"],
      v["lua.small.zeros"], lname[worst])
    if (has("torch.small.add_op")) s = s sprintf("; PyTorch a + b %.3f us: %.1fx", v["torch.small.add_op"], v["torch.small.add_op"] / v["lua.small.add_op"])
    print s ")"
  }
  # the same target as a ratio: each small op at least 10x cheaper than the same PyTorch op
  split("add_op add_method sum zeros", SR, " ")
  nr = 0; rmin = 1e9; rs = ""
  for (i = 1; i <= 4; i++) {
    ka = "lua.small." SR[i]; kt = "torch.small." SR[i]
    if (!has(ka) || !has(kt) || v[ka] <= 0) continue
    r = v[kt] / v[ka]; nr++
    if (r < rmin) rmin = r
    rs = rs (rs == "" ? "" : ", ") lname[SR[i]] " " fmt(r, 1) "x"
  }
  if (nr == 4)
    printf("- each small op >= 10x cheaper than the same PyTorch op, same run: %s (%s)\n", rmin >= 10 ? "MET" : "MISSED", rs)
  for (t = 1; t <= threads; t++) {
    k = "lua.add_new." t "t.frac"; kc = "core.add_new." t "t.frac"
    if (!has(k)) { print "- `c = a + b` at 16M >= 80% of triad (" t " thread): n/a"; continue }
    printf("- `c = a + b` at 16M >= 80%% of the triad, %d thread%s: %s (Lua %.0f%%, core %.0f%%; triad %.1f GB/s in the same run)\n",
      t, t > 1 ? "s" : "", v[k] >= 0.8 ? "MET" : "MISSED", 100 * v[k], 100 * v[kc], v["stream.triad." t "t"])
  }
  if (threads >= 2) {
    # 2 threads vs 1: every actrun throughput measured at both counts (>= 1 expected)
    nk = 0; bad = ""; noise = ""; wr = 99; wname = ""
    for (k in v) {
      if (k !~ /^(core|lua)\.[a-z_.]+\.1t$/ && k !~ /^gemm\.[a-z0-9]+\.ar\.1t$/) continue
      k2 = k; sub(/\.1t$/, ".2t", k2)
      if (!has(k2) || v[k] <= 0) continue
      r = v[k2] / v[k]
      nk++
      if (r < wr) { wr = r; wname = k }
      d = ""
      if (k ~ /^gemm\./) { # the same shape through cblas_sgemm directly
        kb = k; sub(/\.ar\./, ".blas.", kb); kb2 = kb; sub(/\.1t$/, ".2t", kb2)
        if (has(kb) && has(kb2) && v[kb] > 0) d = "; direct sgemm " fmt(v[kb2] / v[kb], 2)
      }
      if (r < 0.95) bad = bad " " k "(" fmt(r, 2) d ")"
      else if (r < 1) noise = noise " " k "(" fmt(r, 2) d ")"
    }
    ref = ""
    if (has("stream.triad.1t") && has("stream.triad.2t"))
      ref = sprintf("; the plain C loops themselves: triad %.2fx, copy %.2fx, read %.2fx",
        v["stream.triad.2t"] / v["stream.triad.1t"], v["stream.copy.2t"] / v["stream.copy.1t"],
        v["stream.read.2t"] / v["stream.read.1t"])
    if (nk == 0) print "- 2 threads never slower than 1: n/a"
    else printf("- 2 threads never slower than 1: %s (%d operations; worst %s at %.2fx the 1-thread speed%s%s%s)\n",
      bad == "" ? (noise == "" ? "MET" : "MET within 5% noise") : "MISSED", nk, wname, wr,
      bad == "" ? "" : "; slower by more than 5%:" bad, noise == "" ? "" : "; within 5%:" noise, ref)
    k1 = "gemm.fwd3.ar.1t"; k2 = "gemm.fwd3.ar.2t"
    if (has(k1) && has(k2)) {
      r = v[k2] / v[k1]
      printf("- tiny GEMM 128x10x256 not slower at 2 threads: %s (ar_matmul %.1f -> %.1f GFLOP/s, %.2fx; direct sgemm %.1f -> %.1f, %.2fx; dx 128x256x10 %.2fx, dW 10x256x128 %.2fx)\n",
        r >= 0.95 ? (r >= 1 ? "MET" : "MET within 5% noise") : "MISSED", v[k1], v[k2], r,
        v["gemm.fwd3.blas.1t"], v["gemm.fwd3.blas.2t"], v["gemm.fwd3.blas.2t"] / v["gemm.fwd3.blas.1t"],
        v["gemm.dx3.ar.2t"] / v["gemm.dx3.ar.1t"], v["gemm.dw3.ar.2t"] / v["gemm.dw3.ar.1t"])
    } else print "- tiny GEMM 128x10x256 not slower at 2 threads: n/a"
  }
}' >"$raw/table.md"

for name in stream gemm overhead overhead_core torch; do
  grep -h '^# .*\(timed out\|failed\)' "$raw/$name.txt" 2>/dev/null | sed 's/^# /Note: /' >>"$raw/table.md" || true
done
cat "$raw/table.md"

# activations (bench_act.lua, torch_act.py): their own tables, against the triad above
"$actrun" "$here/bench/bench_act.lua" --report "$raw/act.txt" --torch-file "$raw/torch_act.txt" \
  --stream "$raw/stream.txt" --header "$header" >"$raw/act_table.md" ||
  echo "Activation tables: bench_act.lua --report failed" >"$raw/act_table.md"
for name in act torch_act; do
  grep -h '^# .*\(timed out\|failed\)' "$raw/$name.txt" 2>/dev/null | sed 's/^# /Note: /' >>"$raw/act_table.md" || true
done
echo
cat "$raw/act_table.md"
fi # others

# Fashion-MNIST training (bench/fmnist_train.lua, bench/fmnist_train_torch.py): the keys
# of every run file, prefixed with the run's name
if ((fmnist)); then
  for name in "${fm_names[@]}"; do
    [[ -f $raw/$name.txt ]] && awk -v n="$name" '!/^#/ && NF >= 3 { print n ":" $1, $2, $3 }' "$raw/$name.txt"
  done | awk -v header="$header" -v threads="$threads" '
function has(k) { return (k in v) }
function f(k, d, u) { return has(k) ? sprintf("%." d "f%s", v[k], u) : "n/a" }
function status(k, min) { return has(k) ? (v[k] >= min ? "MET" : sprintf("MISSED by %.2f points", min - v[k])) : "n/a" }
# "E epochs, S seeds" of a run (its .epochs and .seeds keys)
function es(run, model) {
  p = run (run ~ /_torch$/ ? ":torch.fmnist." : ":fmnist.") model
  e = v[p ".epochs"]; n = v[p ".seeds"]
  return sprintf("%d epoch%s, %d seed%s", e, e == 1 ? "" : "s", n, n == 1 ? "" : "s")
}
function acc(name, ka, kt, min, target) {
  printf("| %s | %s | %s | %s | %s |\n", name, f(ka, 2, "%"), f(kt, 2, "%"), target, status(ka, min))
}
{ v[$1] = $2 + 0 }
END {
  print header
  print ""
  print "| training on Fashion-MNIST (test accuracy: median over the seeds) | actrun | PyTorch | target | status |"
  print "|---|---|---|---|---|"
  acc("MLP 784-256-256-10 ReLU, Adam 1e-3, batch 128 (" es("fm_mlp", "mlp") "): after 3 epochs",
      "fm_mlp:fmnist.mlp.acc.e3", "fm_mlp_torch:torch.fmnist.mlp.acc.e3", 85, ">= 85%")
  acc("the same after 10 epochs", "fm_mlp:fmnist.mlp.acc.e10", "fm_mlp_torch:torch.fmnist.mlp.acc.e10", 88, ">= 88%")
  printf("| the same, lowest-highest seed after the last epoch | %s-%s | %s-%s | | |\n",
    f("fm_mlp:fmnist.mlp.acc.min", 2, "%"), f("fm_mlp:fmnist.mlp.acc.max", 2, "%"),
    f("fm_mlp_torch:torch.fmnist.mlp.acc.min", 2, "%"), f("fm_mlp_torch:torch.fmnist.mlp.acc.max", 2, "%"))
  for (t = 1; t <= threads; t++) {
    ka = "fm_time" t ":fmnist.mlp.epoch_s." t "t"; kt = "fm_time" t "_torch:torch.fmnist.mlp.epoch_s." t "t"
    r = (has(ka) && has(kt) && v[ka] > 0) ? v[kt] / v[ka] : -1
    n = v["fm_time" t ":fmnist.mlp.epochs"]
    printf("| MLP seconds per epoch (training loop only; median of %d epoch%s), %d thread%s | %s | %s | PyTorch / actrun >= 1.2 | %s |\n",
      n, n == 1 ? "" : "s", t, t > 1 ? "s" : "", f(ka, 3, " s"), f(kt, 3, " s"),
      r < 0 ? "n/a" : sprintf("%s (%.2fx)", r >= 1.2 ? "MET" : "MISSED", r))
    ka = "fm_time" t ":fmnist.mlp.epoch_cpu_s." t "t"; kt = "fm_time" t "_torch:torch.fmnist.mlp.epoch_cpu_s." t "t"
    printf("| the same in CPU seconds of the process (all threads; steadier on a busy machine) | %s | %s | | %s |\n",
      f(ka, 3, " s"), f(kt, 3, " s"), (has(ka) && has(kt) && v[ka] > 0) ? sprintf("PyTorch / actrun %.2fx", v[kt] / v[ka]) : "")
  }
  acc("MLP 784-256-128-100-10 ReLU, recipe `cosine` (" es("fm_small", "mlp_small") ")", "fm_small:fmnist.mlp_small.acc",
      "fm_small_torch:torch.fmnist.mlp_small.acc", 88.33, ">= 88.33%")
  printf("| the same, lowest-highest seed | %s-%s | %s-%s | | |\n",
    f("fm_small:fmnist.mlp_small.acc.min", 2, "%"), f("fm_small:fmnist.mlp_small.acc.max", 2, "%"),
    f("fm_small_torch:torch.fmnist.mlp_small.acc.min", 2, "%"), f("fm_small_torch:torch.fmnist.mlp_small.acc.max", 2, "%"))
  acc("CNN (Conv 16 k5, ReLU, pool 2, Conv 32 k5, ReLU, pool 2, Linear), Adam 1e-3, batch 128 (" es("fm_cnn", "cnn") ")",
      "fm_cnn:fmnist.cnn.acc", "", 90, ">= 90%")
  ka = "fm_cnn:fmnist.cnn.epoch_s.1t"; kt = "fm_cnn_torch:torch.fmnist.cnn.epoch_s.1t"
  printf("| CNN seconds per epoch, 1 thread (PyTorch: %s) | %s | %s | reported | %s |\n", es("fm_cnn_torch", "cnn"), f(ka, 2, " s"), f(kt, 2, " s"),
    (has(ka) && has(kt) && v[ka] > 0) ? sprintf("PyTorch / actrun %.2fx", v[kt] / v[ka]) : "")
}' >"$raw/fmnist_table.md"
  for name in "${fm_names[@]}"; do
    grep -h '^# .*\(timed out\|failed\)' "$raw/$name.txt" 2>/dev/null | sed 's/^# /Note: /' >>"$raw/fmnist_table.md" || true
  done
  echo
  cat "$raw/fmnist_table.md"
fi

# ---------- --write ----------
# splice NAME TABLE: replace what lies between <!-- NAME:begin --> and <!-- NAME:end -->
# in the doc with the file TABLE
splice() {
  awk -v table="$2" -v b="<!-- $1:begin -->" -v e="<!-- $1:end -->" '
    index($0, b) { print; while ((getline l < table) > 0) print l; skip = 1; next }
    index($0, e) { skip = 0 }
    !skip' "$doc" >"$raw/doc.md"
  cp "$raw/doc.md" "$doc"
}
if ((write)); then
  doc=$here/docs/BENCHMARKS.md
  if ((others)); then
  if [[ ! -f $doc ]] || ! grep -q '<!-- bench:begin -->' "$doc" || ! grep -q '<!-- bench:end -->' "$doc"; then
    echo "run_all.sh: $doc lacks the <!-- bench:begin --> / <!-- bench:end --> markers" >&2
    exit 1
  fi
  splice bench "$raw/table.md"
  if grep -q '<!-- bench-act:begin -->' "$doc" && grep -q '<!-- bench-act:end -->' "$doc"; then
    splice bench-act "$raw/act_table.md"
  else
    log "!! $doc lacks the <!-- bench-act:begin --> / <!-- bench-act:end --> markers: activation tables not written"
  fi
  fi # others
  if ((fmnist)); then
    if grep -q '<!-- bench-fmnist:begin -->' "$doc" && grep -q '<!-- bench-fmnist:end -->' "$doc"; then
      splice bench-fmnist "$raw/fmnist_table.md"
    else
      log "!! $doc lacks the <!-- bench-fmnist:begin --> / <!-- bench-fmnist:end --> markers: training table not written"
    fi
  fi
  log "== wrote $doc"
fi
