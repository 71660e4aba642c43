"""PyTorch counterpart of bench/bench_act.lua: every activation, forward and
forward+backward, measured as users write it.

    python3 bench/torch_act.py [--sizes 1000,100000,16000000] [--threads MAX] [--reps R]
                               [--sample SECONDS] [--names a,b,c] [--quick]

For each size and each thread count 1..MAX (torch.set_num_threads), on x ~ 3 N(0,1):
  fwd     y = f(x)                                  (a new output every call)
  fwdbwd  x.grad = None; y = f(x); y.backward(g)    (x requires grad)
The loop body is exactly that statement (compiled once, operands in locals). One warm-up
call, then the number of calls per sample is chosen so a sample lasts about --sample
seconds (default 0.02); the median over --reps samples (default 5) is printed as
microseconds per call.

The activations are actrun's names mapped to the torch call a user would write (see
TORCH below); names with no torch counterpart (NO_COUNTERPART: identity, since
nn.Identity returns its input; step, no differentiable torch op) are skipped with a
comment line and have empty PyTorch cells in the report.

Output: "KEY VALUE UNIT" lines (and "# " comments), read by bench/bench_act.lua --report
and bench/run_all.sh; keys torch.act.NAME.MODE.N.Tt. Prints "# torch unavailable" and
exits with status 3 when torch cannot be imported.
"""
import argparse
import sys
import time

from torchbench import loop, per_call, result

try:
    import torch
    import torch.nn.functional as F
except Exception as e:  # noqa: BLE001 - any import failure means "no torch here"
    print(f"# torch unavailable: {e}")
    sys.exit(3)

# actrun name -> expression of x as a torch user writes it (defaults as actrun's)
TORCH = {
    "sigmoid": "torch.sigmoid(x)",
    "hard_sigmoid": "F.hardsigmoid(x)",
    "tanh": "torch.tanh(x)",
    "hardtanh": "F.hardtanh(x)",
    "softsign": "F.softsign(x)",
    "relu": "torch.relu(x)",
    "relu6": "F.relu6(x)",
    "leaky_relu": "F.leaky_relu(x)",
    "prelu": "F.prelu(x, w)",
    "rrelu": "F.rrelu(x, training=False)",
    "elu": "F.elu(x)",
    "selu": "F.selu(x)",
    "celu": "F.celu(x)",
    "gelu": "F.gelu(x)",
    "gelu_tanh": "F.gelu(x, approximate='tanh')",
    "silu": "F.silu(x)",
    "swish": "F.silu(x)",
    "mish": "F.mish(x)",
    "softplus": "F.softplus(x)",
    "logsigmoid": "F.logsigmoid(x)",
    "hardswish": "F.hardswish(x)",
    "tanhshrink": "F.tanhshrink(x)",
    "softshrink": "F.softshrink(x)",
    "hardshrink": "F.hardshrink(x)",
    "sin": "torch.sin(x)",
    "cos": "torch.cos(x)",
    "gaussian": "torch.exp(-x * x)",
}


# actrun names with no torch counterpart worth timing: skipped (with a comment line)
NO_COUNTERPART = {
    "identity": "nn.Identity returns its input, no output is made",
    "step": "torch has no differentiable step",
}








def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--sizes", help="comma-separated element counts (default 1000,100000,16000000)")
    p.add_argument("--threads", type=int, default=2, help="largest thread count (default 2)")
    p.add_argument("--reps", type=int, help="samples per measurement (default 5)")
    p.add_argument("--sample", type=float, help="seconds per sample (default 0.02)")
    p.add_argument("--names", default="", help="comma-separated activations (default: all)")
    p.add_argument("--quick", action="store_true",
                   help="defaults of sizes 1000,100000, 1 rep, 2 ms samples (a smoke run)")
    o = p.parse_args()
    quick = {"sizes": "1000,100000", "reps": 1, "sample": 0.002}
    full = {"sizes": "1000,100000,16000000", "reps": 5, "sample": 0.02}
    for k, v in (quick if o.quick else full).items():
        if getattr(o, k) is None:
            setattr(o, k, v)
    try:
        sizes = [int(float(s)) for s in o.sizes.split(",") if s.strip()]
    except ValueError:
        p.error(f"--sizes: expected comma-separated element counts, got {o.sizes!r}")
    if not sizes or min(sizes) < 1 or o.threads < 1 or o.reps < 1 or o.sample <= 0:
        p.error("--sizes, --threads, --reps and --sample must be positive")
    names = [n for n in o.names.split(",") if n] or sorted(TORCH)
    unknown = [n for n in names if n not in TORCH and n not in NO_COUNTERPART]
    if unknown:
        p.error(f"--names: unknown activation {', '.join(unknown)}")
    for n in names:
        if n in NO_COUNTERPART:
            print(f"# {n}: skipped ({NO_COUNTERPART[n]})")
    names = [n for n in names if n in TORCH]
    clock = time.perf_counter
    print(f"# torch_act.py: torch {torch.__version__}, Python {sys.version.split()[0]}; "
          f"median of {o.reps} samples of ~{o.sample} s")
    saved = torch.get_num_threads()
    torch.manual_seed(1)
    w = torch.tensor([0.25])
    for n in sizes:
        x0 = torch.randn(n) * 3
        g = torch.randn(n)
        xg = x0.clone().requires_grad_(True)
        for nt in range(1, o.threads + 1):
            torch.set_num_threads(nt)
            for name in names:
                expr = TORCH[name]
                fwd = loop(f"y = {expr}", ("x", "g", "w", "torch", "F"))
                t = per_call(fwd, (x0, g, w, torch, F), o.reps, o.sample, clock)
                result(f"torch.act.{name}.fwd.{n}.{nt}t", t * 1e6, "us")
                both = loop(f"x.grad = None; y = {expr}; y.backward(g)", ("x", "g", "w", "torch", "F"))
                t = per_call(both, (xg, g, w, torch, F), o.reps, o.sample, clock)
                result(f"torch.act.{name}.fwdbwd.{n}.{nt}t", t * 1e6, "us")
        del x0, g, xg
    torch.set_num_threads(saved)


if __name__ == "__main__":
    main()
