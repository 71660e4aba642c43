#!/bin/sh
# Valgrind memcheck on the shipped scripts at small sizes: no invalid read or write, no
# use of uninitialised values, no definite leak.
#
#   tests/valgrind/memcheck.sh SOURCE_DIR WORK_DIR
#
# Valgrind cannot execute AVX-512, so this builds its own copy without -march=native
# (-DACTRUN_NATIVE=OFF) in WORK_DIR/valgrind-build, then runs each script under
# valgrind. Exits 77 (skipped) when valgrind is not installed.
set -eu
src=$1
work=$2
if ! command -v valgrind >/dev/null 2>&1; then
  echo "memcheck: valgrind is not installed; skipped"
  exit 77
fi
mkdir -p "$work"
build="$work/valgrind-build"
# -O1: builds faster than -O3 (the build is most of this test's time) and keeps line info
cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_FLAGS_DEBUG="-O1 -g" -DACTRUN_NATIVE=OFF \
  -DACTRUN_TESTS=OFF >"$work/valgrind-configure.log" 2>&1 || {
  cat "$work/valgrind-configure.log"; exit 1; }
cmake --build "$build" -j2 --target actrun_cli >"$work/valgrind-build.log" 2>&1 || {
  tail -40 "$work/valgrind-build.log"; exit 1; }
bin="$build/actrun"
out="$work/valgrind-out"
mkdir -p "$out"
status=0
run() {
  name=$1
  shift
  log="$out/$name.log"
  # one thread: the pool's and OpenBLAS's threads would only slow valgrind down
  if ACTRUN_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 valgrind --error-exitcode=99 \
       --leak-check=full --errors-for-leak-kinds=definite --show-leak-kinds=definite \
       --log-file="$log.vg" "$bin" "$@" >"$log" 2>&1; then
    echo "memcheck: $name: clean"
  else
    echo "memcheck: $name: FAILED (valgrind's report: $log.vg)"
    tail -50 "$log.vg"
    tail -20 "$log"
    status=1
  fi
}
cd "$out"
run and_gate "$src/scripts/and_gate.lua" --quick
run demo "$src/scripts/demo.lua" 2000
run compare "$src/scripts/compare_fashion_mnist.lua" --quick --limit 200 \
  --activations relu --epochs 1 --out "$out/compare"
run errors -e 'local ok = pcall(actrun.zeros, -1); assert(not ok);
  local t = actrun.randn(8, 8); t.requires_grad = true;
  local c = actrun.nn.Conv2d(1, 2, 3)(t:reshape(1, 1, 8, 8)); c:sum():backward();
  actrun.nn.save("m.safetensors", {w = t:detach()}); assert(actrun.nn.load("m.safetensors").w);
  print(pcall(actrun.data.csv, "m.safetensors"))'
exit $status
