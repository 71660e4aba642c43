"""PyTorch counterpart of bench/bench_reduce.lua: sum, max, argmax, prod, 3- and 2.5-norms.

    python3 bench/torch_reduce.py [--sizes 1000,100000,16000000] [--rows 4096] [--threads MAX]
                                  [--reps R] [--sample SECONDS] [--quick]

Cases as bench_reduce.lua: full reductions of N elements, and the rows (dim=-1) and
columns (dim=0) of an R x R matrix; data 1 + N(0, 1) / 1000. The statements:
  sum     torch.sum(x) / torch.sum(x, d)
  max     torch.amax(x) / torch.max(x, d)      (values and indices along a dim, as actrun)
  argmax  torch.argmax(x) / torch.argmax(x, d)
  prod    torch.prod(x) / torch.prod(x, d)
  norm3   torch.linalg.vector_norm(x, 3) / torch.linalg.vector_norm(x, 3, d)
  norm25  the same with ord 2.5
One warm-up call, then calls per sample chosen so a sample lasts about --sample seconds
(default 0.02); the median over --reps samples (default 5), as microseconds per call.

Output: "KEY VALUE UNIT" lines (and "# " comments), keys torch.reduce.OP.CASE.Tt, read by
bench/bench_reduce.lua --report. Prints "# torch unavailable" and exits with status 3
when torch cannot be imported.
"""
import argparse
import sys
import time

from torchbench import loop, per_call, result

try:
    import torch
except Exception as e:  # noqa: BLE001 - any import failure means "no torch here"
    print(f"# torch unavailable: {e}")
    sys.exit(3)

FULL = {
    "sum": "y = torch.sum(x)",
    "max": "y = torch.amax(x)",
    "argmax": "y = torch.argmax(x)",
    "prod": "y = torch.prod(x)",
    "norm3": "y = torch.linalg.vector_norm(x, 3)",
    "norm25": "y = torch.linalg.vector_norm(x, 2.5)",
}
ALONG = {
    "sum": "y = torch.sum(x, d)",
    "max": "y, i = torch.max(x, d)",
    "argmax": "y = torch.argmax(x, d)",
    "prod": "y = torch.prod(x, d)",
    "norm3": "y = torch.linalg.vector_norm(x, 3, d)",
    "norm25": "y = torch.linalg.vector_norm(x, 2.5, d)",
}








def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--sizes", help="comma-separated element counts (default 1000,100000,16000000)")
    p.add_argument("--rows", type=int, help="side of the square matrix (default 4096; 0: none)")
    p.add_argument("--threads", type=int, default=2, help="largest thread count (default 2)")
    p.add_argument("--reps", type=int, help="samples per measurement (default 5)")
    p.add_argument("--sample", type=float, help="seconds per sample (default 0.02)")
    p.add_argument("--ops", default="", help="comma-separated ops (default: all)")
    p.add_argument("--quick", action="store_true",
                   help="defaults of sizes 1000,100000, rows 256, 1 rep, 2 ms samples")
    o = p.parse_args()
    quick = {"sizes": "1000,100000", "rows": 256, "reps": 1, "sample": 0.002}
    full = {"sizes": "1000,100000,16000000", "rows": 4096, "reps": 5, "sample": 0.02}
    for k, v in (quick if o.quick else full).items():
        if getattr(o, k) is None:
            setattr(o, k, v)
    try:
        sizes = [int(float(s)) for s in o.sizes.split(",") if s.strip()]
    except ValueError:
        p.error(f"--sizes: expected comma-separated element counts, got {o.sizes!r}")
    if not sizes or min(sizes) < 1 or o.rows < 0 or o.threads < 1 or o.reps < 1 or o.sample <= 0:
        p.error("--sizes, --threads, --reps and --sample must be positive")
    ops = [op for op in o.ops.split(",") if op] or list(FULL)
    unknown = [op for op in ops if op not in FULL]
    if unknown:
        p.error(f"--ops: unknown op {', '.join(unknown)}")
    cases = [(str(n), n, None, None) for n in sizes]
    if o.rows:
        r = o.rows
        cases += [(f"rows{r}", r * r, (r, r), -1), (f"cols{r}", r * r, (r, r), 0)]
    clock = time.perf_counter
    print(f"# torch_reduce.py: torch {torch.__version__}, Python {sys.version.split()[0]}; "
          f"median of {o.reps} samples of ~{o.sample} s")
    saved = torch.get_num_threads()
    torch.manual_seed(1)
    for name, n, shape, d in cases:
        x = torch.randn(n) / 1000 + 1
        if shape:
            x = x.view(*shape)
        for nt in range(1, o.threads + 1):
            torch.set_num_threads(nt)
            for op in ops:
                f = loop(FULL[op] if d is None else ALONG[op], ("x", "d", "torch"))
                t = per_call(f, (x, d, torch), o.reps, o.sample, clock)
                result(f"torch.reduce.{op}.{name}.{nt}t", t * 1e6, "us")
        del x
    torch.set_num_threads(saved)


if __name__ == "__main__":
    main()
