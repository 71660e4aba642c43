#!/usr/bin/env python3
"""Fits the polynomials behind the inline exp/expm1 and log1p of the float kernels
(src/act/kernels.h).

Both functions are written f(x) = x + x^2 P(x) on an interval, with P a polynomial of
degree DEG - 2 (so f is approximated by one of degree DEG):
  expm1  on [-ln2/2, ln2/2] (slightly widened: the reduced argument of exp_reduce),
         P(0) = 1/2;
  log1p  on [0, 1] (log1p(exp(-|x|)) in softplus and logsigmoid), P(0) = -1/2.
The fit minimises the maximum relative error of x + x^2 P(x) against f: weighted least
squares in float64 on Chebyshev points with Lawson reweighting towards minimax. Then the
coefficients are rounded to float one at a time, from the lowest, each time refitting
the higher ones with the lower ones fixed (the higher coefficients absorb the rounding of
the lower). The relative error of the rounded polynomial (evaluated in float64) is
printed; the error of the float kernels (Horner with FMA) is measured separately against
double expm1/exp/log1p (tests/c/test_act.c, act/vexp, and the comments in src/act/kernels.h).

    /usr/bin/python3 scripts/fit/fit_poly.py FUNC [DEG]
        FUNC expm1 (default DEG 6) or log1p (default DEG 10): the kernels' fits

Needs Python 3 and NumPy (Debian: python3-numpy).
"""
import math
import struct
import sys

import numpy as np

FUNCS = {
    # name: (function, interval, default degree)
    "expm1": (np.expm1, (-0.3466 * 1.0005, 0.3466 * 1.0005), 6),
    "log1p": (np.log1p, (0.0, 1.0), 10),
}


def to_float(v):
    return struct.unpack("f", struct.pack("f", float(v)))[0]


def fit(f, lo, hi, deg, npts=6000, iters=300):
    x = lo + (hi - lo) * (0.5 - 0.5 * np.cos(np.pi * (np.arange(npts) + 0.5) / npts))
    x = x[x != 0]
    target = f(x)
    fixed = []  # rounded coefficients of P, lowest first
    n = deg - 1  # P has degree deg - 2
    err = None
    while len(fixed) < n:
        k = len(fixed)
        base = x + x * x * np.polyval(fixed[::-1], x) if fixed else x.copy()
        V = np.stack([x ** (2 + j) for j in range(k, n)], axis=1)
        w = np.ones(len(x))
        for _ in range(iters):
            sw = np.sqrt(w) / np.abs(target)
            c, *_ = np.linalg.lstsq(V * sw[:, None], (target - base) * sw, rcond=None)
            r = np.abs(base + V @ c - target) / np.abs(target)
            w = w * r / r.max() + 1e-300
            w /= w.sum()
        if err is None:
            err = r.max()
        fixed.append(to_float(c[0]))
    approx = x + x * x * np.polyval(fixed[::-1], x)
    return fixed, err, np.max(np.abs(approx - target) / np.abs(target))


def main():
    if len(sys.argv) < 2 or sys.argv[1] not in FUNCS:
        sys.exit("usage: fit_poly.py {%s} [DEG]" % ",".join(FUNCS))
    f, (lo, hi), deg = FUNCS[sys.argv[1]]
    if len(sys.argv) > 2:
        deg = int(sys.argv[2])
    coef, err, ferr = fit(f, lo, hi, deg)
    print("%s, degree %d on [%.6g, %.6g]: relative error %.3g before rounding, %.3g with "
          "float coefficients (%.2f ulp)" % (sys.argv[1], deg, lo, hi, err, ferr,
                                            ferr / math.ldexp(1.0, -24)))
    print("P coefficients, lowest first:")
    for c in coef:
        print("  %.9e" % c)


if __name__ == "__main__":
    main()
