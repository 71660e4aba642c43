"""Time per training step in PyTorch: the counterpart of bench/train_step.lua (same
networks, losses, optimisers and data shapes). Prints "KEY VALUE UNIT" lines.

    python3 bench/train_step_torch.py [--steps N] [--reps R] [--threads MAX]
"""
import argparse
import statistics
import time

import torch

ap = argparse.ArgumentParser()
ap.add_argument("--steps", type=int, default=0)
ap.add_argument("--reps", type=int, default=5)
ap.add_argument("--threads", type=int, default=2)
a = ap.parse_args()


def timed(step, n, reps):
    for _ in range(max(1, n // 10)):
        step()
    samples = []
    for _ in range(reps):
        t0 = time.perf_counter()
        for _ in range(n):
            step()
        samples.append((time.perf_counter() - t0) / n)
    return statistics.median(samples)


def result(key, value, unit):
    print(f"{key:<34} {value:12.4f} {unit}", flush=True)


print(f"# train_step_torch.py: torch {torch.__version__}; {a.reps} samples (median)")

torch.manual_seed(1)
X = torch.tensor([[0.0, 0], [0, 1], [1, 0], [1, 1]])
Y = torch.tensor([[0.0], [1], [1], [0]])
model = torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.Sigmoid(),
                            torch.nn.Linear(8, 1), torch.nn.Sigmoid())
opt = torch.optim.SGD(model.parameters(), lr=0.5)


def xor_step():
    opt.zero_grad()
    loss = torch.nn.functional.mse_loss(model(X), Y)
    loss.backward()
    opt.step()


torch.set_num_threads(1)
result("torch.train.xor.step", timed(xor_step, a.steps or 20000, a.reps) * 1e6, "us")

torch.manual_seed(1)
Xm = torch.rand(128, 784)
ym = torch.randint(0, 10, (128,))
mlp = torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.ReLU(),
                          torch.nn.Linear(256, 256), torch.nn.ReLU(),
                          torch.nn.Linear(256, 10))
opt2 = torch.optim.Adam(mlp.parameters(), lr=1e-3)


def mlp_step():
    opt2.zero_grad()
    loss = torch.nn.functional.cross_entropy(mlp(Xm), ym)
    loss.backward()
    opt2.step()


for th in range(1, a.threads + 1):
    torch.set_num_threads(th)
    result(f"torch.train.mlp.step.{th}t", timed(mlp_step, a.steps or 200, a.reps) * 1e3, "ms")
