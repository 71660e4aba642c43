"""Timing helpers shared by the PyTorch side of the benchmarks (torch_act.py,
torch_reduce.py, overhead_torch.py): the statement under test is compiled once into a loop
whose operands are locals, as the Lua benchmarks do on their side."""
import math
import statistics


def result(key, value, unit, width=44, vwidth=12):
    """One "KEY VALUE UNIT" line, the format every benchmark prints."""
    print(f"{key:<{width}} {value:{vwidth}.4f} {unit}", flush=True)


def loop(body, names):
    """run(*operands, n, clock): the seconds n runs of the statement body take, with the
    operands bound to the local names given (a tuple of identifiers)."""
    params = ", ".join(names)
    src = (
        f"def run({params}, n, clock):\n"
        "    t0 = clock()\n"
        "    for _ in range(n):\n"
        f"        {body or 'pass'}\n"
        "    return clock() - t0\n"
    )
    ns = {}
    exec(compile(src, f"<{body or 'empty'}>", "exec"), ns)
    return ns["run"]


def per_call(f, args, reps, sample, clock):
    """Median seconds per call: a warm-up call, calls per sample set from a timed call."""
    f(*args, 1, clock)
    one = max(f(*args, 1, clock), 1e-9)
    calls = max(1, math.ceil(sample / one))
    return statistics.median(f(*args, calls, clock) / calls for _ in range(reps))
