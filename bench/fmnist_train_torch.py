#!/usr/bin/env python3
"""The PyTorch counterpart of bench/fmnist_train.lua: the same models, recipes, data and
loop bookkeeping on Fashion-MNIST, printing the same KEY VALUE UNIT lines prefixed with
"torch." (read by bench/run_all.sh).

    python3 bench/fmnist_train_torch.py [--model mlp|mlp_small|cnn] [--recipe NAME]
        [--epochs N] [--seeds 1,2,3] [--threads T] [--batch B] [--lr LR] [--limit N]
        [--quiet] [--dir DIR]

The IDX files are read with gzip + struct + numpy from --dir (default $ACTRUN_DATA, else
/usr/share/datasets/fashion-mnist, the Debian package dataset-fashion-mnist). Pixels are
divided by 255 as in actrun.data.fashion_mnist. The loop per batch is what actrun's
lab.train does: zero_grad, forward, cross-entropy, backward, step, loss.item() and the
count of correct predictions (argmax == label). Each epoch's order is a fresh
torch.randperm from a generator seeded with seed * 1000003 + epoch (not the same
permutation as actrun's loader, which uses its own Philox stream); the model is built
after torch.manual_seed(seed) with PyTorch's default initialisation, which actrun's
modules copy. Seconds per epoch cover the training loop only, not the test evaluation.
--threads T sets torch.set_num_threads(T) and OPENBLAS_NUM_THREADS=T (before torch is
imported; unless already set), since PyTorch's own setting does not reach OpenBLAS.
"""
import argparse
import gzip
import os
import struct
import sys
import time

import numpy as np

# Imported in main(), after OPENBLAS_NUM_THREADS is set: this PyTorch build does its
# GEMMs in the system's OpenBLAS, whose thread pool torch.set_num_threads does not
# limit (at "1 thread" it would still run the GEMMs on every core).
torch = nn = F = None

RECIPES = {
    "adam": dict(opt="adam", lr=1e-3, batch=128, epochs=10, schedule=None, wd=0.0),
    "cosine": dict(opt="adam", lr=1e-3, batch=128, epochs=20, schedule="cosine", wd=0.0),
    "cosine_wd": dict(opt="adamw", lr=1e-3, batch=128, epochs=20, schedule="cosine", wd=0.05),
    "cnn": dict(opt="adam", lr=1e-3, batch=128, epochs=8, schedule=None, wd=0.0),
}
DEFAULT_RECIPE = {"mlp": "adam", "mlp_small": "cosine", "cnn": "cnn"}


def read_idx(path, limit=None):
    with gzip.open(path, "rb") if path.endswith(".gz") else open(path, "rb") as f:
        magic = struct.unpack(">I", f.read(4))[0]
        ndim = magic & 0xFF
        if (magic >> 8) != 0x08:
            raise ValueError(f"{path}: not an unsigned-byte IDX file")
        shape = list(struct.unpack(">" + "I" * ndim, f.read(4 * ndim)))
        if limit is not None:
            shape[0] = min(shape[0], limit)
        count = int(np.prod(shape))
        return np.frombuffer(f.read(count), dtype=np.uint8).reshape(shape)


def load(directory, split, limit):
    prefix = "train" if split == "train" else "t10k"

    def find(base):
        for name in (base, base + ".gz"):
            p = os.path.join(directory, name)
            if os.path.exists(p):
                return p
        raise FileNotFoundError(f"{base}[.gz] not found in {directory}")

    x = read_idx(find(f"{prefix}-images-idx3-ubyte"), limit)
    y = read_idx(find(f"{prefix}-labels-idx1-ubyte"), limit)
    X = torch.from_numpy(x.reshape(x.shape[0], -1).astype(np.float32) / 255.0)
    return X, torch.from_numpy(y.astype(np.int64))


def build(model):
    if model == "mlp":
        return nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(),
                             nn.Linear(256, 10))
    if model == "mlp_small":
        return nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(),
                             nn.Linear(128, 100), nn.ReLU(), nn.Linear(100, 10))
    return nn.Sequential(
        nn.Conv2d(1, 16, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * 7 * 7, 10))


def evaluate(model, X, y, batch=1024):
    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, X.shape[0], batch):
            out = model(X[i:i + batch])
            correct += (out.argmax(1) == y[i:i + batch]).sum().item()
    model.train()
    return correct / X.shape[0]


def median(v):
    s = sorted(v)
    n = len(s)
    return s[n // 2] if n % 2 else 0.5 * (s[n // 2 - 1] + s[n // 2])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="mlp", choices=sorted(DEFAULT_RECIPE))
    ap.add_argument("--recipe", choices=sorted(RECIPES))
    ap.add_argument("--epochs", type=int)
    ap.add_argument("--seeds", default="1")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--batch", type=int)
    ap.add_argument("--lr", type=float)
    ap.add_argument("--limit", type=int)
    ap.add_argument("--quiet", action="store_true")
    ap.add_argument("--dir", default=os.environ.get("ACTRUN_DATA") or
                    "/usr/share/datasets/fashion-mnist")
    a = ap.parse_args()
    os.environ.setdefault("OPENBLAS_NUM_THREADS", str(a.threads))
    os.environ.setdefault("OMP_NUM_THREADS", str(a.threads))
    global torch, nn, F
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    rname = a.recipe or DEFAULT_RECIPE[a.model]
    r = RECIPES[rname]
    epochs = a.epochs or r["epochs"]
    batch = a.batch or r["batch"]
    lr = a.lr or r["lr"]
    seeds = [int(s) for s in a.seeds.split(",") if s]

    torch.set_num_threads(a.threads)
    t0 = time.perf_counter()
    X, y = load(a.dir, "train", a.limit)
    Xt, yt = load(a.dir, "test", min(a.limit, 10000) if a.limit else None)
    if a.model == "cnn":
        X = X.view(-1, 1, 28, 28)
        Xt = Xt.view(-1, 1, 28, 28)
    print(f"# fmnist_train_torch.py: torch {torch.__version__}; model {a.model}, recipe {rname}; "
          f"{epochs} epochs, batch {batch}, lr {lr:g}; seeds {a.seeds}; {a.threads} thread(s) "
          f"(OPENBLAS_NUM_THREADS={os.environ['OPENBLAS_NUM_THREADS']}); "
          f"{X.shape[0]} training and {Xt.shape[0]} test images (loaded in "
          f"{time.perf_counter() - t0:.2f} s)", flush=True)

    acc = [[] for _ in range(epochs)]
    secs, cpus = [], []
    N = X.shape[0]
    for seed in seeds:
        torch.manual_seed(seed)
        model = build(a.model)
        params = model.parameters()
        if r["opt"] == "adamw":
            opt = torch.optim.AdamW(params, lr=lr, weight_decay=r["wd"])
        else:
            opt = torch.optim.Adam(params, lr=lr, weight_decay=r["wd"])
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs) \
            if r["schedule"] == "cosine" else None
        model.train()
        for epoch in range(1, epochs + 1):
            g = torch.Generator().manual_seed(seed * 1000003 + epoch)
            t0, c0 = time.perf_counter(), time.process_time()
            perm = torch.randperm(N, generator=g)
            loss_sum, correct = 0.0, 0
            for i in range(0, N, batch):
                idx = perm[i:i + batch]
                xb, yb = X[idx], y[idx]
                opt.zero_grad()
                out = model(xb)
                loss = F.cross_entropy(out, yb)
                loss.backward()
                opt.step()
                loss_sum += loss.item() * xb.shape[0]
                correct += (out.detach().argmax(1) == yb).sum().item()
            seconds = time.perf_counter() - t0
            secs.append(seconds)
            cpus.append(time.process_time() - c0)
            test = 100 * evaluate(model, Xt, yt)
            acc[epoch - 1].append(test)
            if not a.quiet:
                print(f"# seed {seed} epoch {epoch}: train loss {loss_sum / N:.4f}, train accuracy "
                      f"{100 * correct / N:.2f}%, test accuracy {test:.2f}%, "
                      f"lr {opt.param_groups[0]['lr']:.3g}, {seconds:.3f} s", flush=True)
            if sched:
                sched.step()

    key = f"torch.fmnist.{a.model}"
    out = []
    for e in range(epochs):
        out.append((f"{key}.acc.e{e + 1}", median(acc[e]), "%"))
    out.append((f"{key}.acc", median(acc[-1]), "%"))
    out.append((f"{key}.acc.min", min(acc[-1]), "%"))
    out.append((f"{key}.acc.max", max(acc[-1]), "%"))
    out.append((f"{key}.epoch_s.{a.threads}t", median(secs), "s"))
    out.append((f"{key}.epoch_cpu_s.{a.threads}t", median(cpus), "s"))
    out.append((f"{key}.epochs", epochs, "epochs"))
    out.append((f"{key}.seeds", len(seeds), "seeds"))
    for k, v, u in out:
        print(f"{k:<34} {v:12.4f} {u}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
