"""Kernel against kernel: PyTorch activations writing into a preallocated output.

    python3 bench/torch_act_out.py [--size N] [--threads MAX] [--reps R]
                                   [--actrun FILE ...]

bench/torch_act.py measures `y = f(x)` as users write it; at 1.6e7 elements much of
PyTorch's time there is the first touch of a fresh 64 MB output (page faults: with
transparent huge pages on "madvise", PyTorch's buffers get 4 KiB pages), which actrun's
storage cache avoids. This measures PyTorch's kernels alone, `aten.OP.out(x, out=y)`
with y allocated once, for the activations that have such a variant, on x ~ 3 N(0,1).
Output: "KEY VALUE UNIT" lines, keys torch_out.act.NAME.fwd.N.Tt (microseconds per call,
the median of --reps samples). With --actrun FILE (outputs of bench/bench_act.lua at the
same size, one per SIMD level), a Markdown table of actrun fwd / PyTorch out= per level:
information beside the as-users-write-it ratios, not a target.
"""
import argparse
import math
import statistics
import sys
import time

try:
    import torch
except Exception as e:  # noqa: BLE001 - any import failure means "no torch here"
    print(f"# torch unavailable: {e}")
    sys.exit(3)

# actrun name -> (aten op, extra positional arguments) with an .out overload
OPS = {
    "relu": ("clamp_min", (0.0,)),
    "sigmoid": ("sigmoid", ()),
    "hard_sigmoid": ("hardsigmoid", ()),
    "tanh": ("tanh", ()),
    "hardtanh": ("hardtanh", ()),
    "leaky_relu": ("leaky_relu", ()),
    "elu": ("elu", ()),
    "gelu": ("gelu", ()),
    "silu": ("silu", ()),
    "mish": ("mish", ()),
    "softplus": ("softplus", ()),
    "hardswish": ("hardswish", ()),
    "sin": ("sin", ()),
    "cos": ("cos", ()),
    "softshrink": ("softshrink", ()),
    "hardshrink": ("hardshrink", ()),
}


def measure(fn, reps, sample=0.02):
    fn()
    t0 = time.perf_counter()
    fn()
    one = max(time.perf_counter() - t0, 1e-9)
    calls = max(1, int(sample / one))
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        for _ in range(calls):
            fn()
        times.append((time.perf_counter() - t0) / calls)
    return statistics.median(times)


def read_actrun(path):
    level, vals = None, {}
    with open(path) as f:
        for line in f:
            if line.startswith("#"):
                if " SIMD " in line and level is None:  # bench_act.lua's header line
                    level = line.split(" SIMD ")[1].split()[0].strip(";,")
                continue
            parts = line.split()
            if len(parts) >= 2 and parts[0].startswith("actrun.act."):
                vals[parts[0]] = float(parts[1])
    return level or path, vals


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, default=16000000)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--actrun", nargs="*", default=[])
    a = ap.parse_args()
    torch.manual_seed(1)
    x = torch.randn(a.size) * 3
    y = torch.empty_like(x)
    res = {}
    print(f"# torch {torch.__version__}: aten OP.out into a preallocated output, {a.size} elements")
    for t in range(1, a.threads + 1):
        torch.set_num_threads(t)
        for name, (op, extra) in OPS.items():
            f = getattr(torch.ops.aten, op).out
            us = measure(lambda: f(x, *extra, out=y), a.reps) * 1e6
            res[(name, t)] = us
            print(f"torch_out.act.{name}.fwd.{a.size}.{t}t {us:.4f} us")
    for path in a.actrun:
        level, vals = read_actrun(path)
        print(f"\n**actrun ({level}) against PyTorch writing into a preallocated output, "
              f"{a.size} elements** (ratio = PyTorch time / actrun time; > 1: actrun faster)\n")
        head = "| activation | " + " | ".join(f"{t} thread{'s' if t > 1 else ''}" for t in range(1, a.threads + 1)) + " |"
        print(head)
        print("| --- |" + " ---: |" * a.threads)
        logs = {t: [] for t in range(1, a.threads + 1)}
        for name in OPS:
            cells = []
            for t in range(1, a.threads + 1):
                k = f"actrun.act.{name}.fwd.{a.size}.{t}t"
                if k in vals:
                    r = res[(name, t)] / vals[k]
                    logs[t].append(math.log(r))
                    cells.append(f"{r:.2f}")
                else:
                    cells.append("")
            print(f"| `{name}` | " + " | ".join(cells) + " |")
        gm = [f"{math.exp(sum(v) / len(v)):.2f}" if v else "" for v in logs.values()]
        print("| geometric mean | " + " | ".join(gm) + " |")


if __name__ == "__main__":
    main()
