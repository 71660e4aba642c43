"""PyTorch counterpart of bench/overhead.lua: per-call time of small operations, and big
elementwise operations, measured the same way.

    python3 bench/overhead_torch.py [--n CALLS] [--reps R] [--threads MAX] [--big ELEMENTS]

Small: each statement runs in a loop of --n iterations (default 1e6) on tensors of 4
elements, --reps times (default 5); the median time per call in microseconds. The loop
body is exactly the statement shown (compiled once, tensors in locals); the empty loop is
printed too (torch.small.empty). Big: `c = a + b`, `torch.add(a, b, out=c)` (a
preallocated output) and `c = torch.relu(a)` on --big elements (default 16M) at 1..MAX
threads (torch.set_num_threads): samples of 10 calls, the median per call in ms and GB/s
(12 and 8 bytes per element).

Output: "KEY VALUE UNIT" lines (and "# " comments), read by bench/run_all.sh. Prints
"# torch unavailable" and exits with status 3 when torch cannot be imported.
"""
import argparse
import statistics
import sys
import time

from torchbench import loop
from torchbench import result as shared_result

try:
    import torch
except Exception as e:  # noqa: BLE001 - any import failure means "no torch here"
    print(f"# torch unavailable: {e}")
    sys.exit(3)


def result(key, value, unit):
    shared_result(key, value, unit, width=34, vwidth=10)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--n", type=int, default=1_000_000)
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--big", type=int, default=1 << 24)
    o = p.parse_args()
    clock = time.perf_counter

    print(f"# overhead_torch.py: torch {torch.__version__}, Python {sys.version.split()[0]}; "
          f"{o.n} calls x {o.reps} repetitions (median); threads {torch.get_num_threads()}")

    # ---------- small tensors ----------
    a, b = torch.rand(4), torch.rand(4)
    cases = [
        ("torch.small.empty", ""),
        ("torch.small.add_fn", "c = torch.add(a, b)"),
        ("torch.small.add_op", "c = a + b"),
        ("torch.small.add_method", "c = a.add(b)"),
        ("torch.small.sum", "s = a.sum()"),
        ("torch.small.dim", "d = t.dim()"),
        ("torch.small.zeros", "z = torch.zeros(4)"),
    ]
    for key, body in cases:
        f = loop(body, ("a", "b", "c", "t", "torch"))
        f(a, b, None, a, torch, min(o.n, 10000), clock)  # warm up
        s = [f(a, b, None, a, torch, o.n, clock) / o.n for _ in range(o.reps)]
        result(key, statistics.median(s) * 1e6, "us")

    # ---------- big elementwise ----------
    n = o.big
    saved = torch.get_num_threads()
    a = torch.rand(n) - 0.5
    b = torch.rand(n)
    c = torch.empty(n)
    calls = 10
    print(f"# big: {n} elements ({n * 4 / 2**20:.0f} MiB per tensor), samples of {calls} calls")
    big = [
        ("add_new", "c2 = a + b", 12),
        ("add_out", "torch.add(a, b, out=c)", 12),
        ("relu_new", "c2 = torch.relu(a)", 8),
    ]
    for nt in range(1, o.threads + 1):
        torch.set_num_threads(nt)
        for name, body, nbytes in big:
            f = loop(body, ("a", "b", "c", "t", "torch"))
            f(a, b, c, a, torch, 3, clock)
            s = [f(a, b, c, a, torch, calls, clock) / calls for _ in range(o.reps)]
            t = statistics.median(s)
            result(f"torch.big.{name}.{nt}t.ms", t * 1e3, "ms")
            result(f"torch.big.{name}.{nt}t", nbytes * n / t * 1e-9, "GB/s")
    torch.set_num_threads(saved)


if __name__ == "__main__":
    main()
