#!/usr/bin/env python3
"""Fits the polynomial behind the divide-free log1p of the float kernels (src/act/vmath.h).

softplus and logsigmoid need log1p(e) only for e = exp(-|x|) in [0, 1]. There it is
written log1p(e) = e + e^2 H(e), with H(e) = (log1p(e) - e) / e^2 smooth on [0, 1]
(-1/2 at 0, ln 2 - 1 at 1), and H approximated by a polynomial of degree DEG - 2, so
that log1p is approximated by one of degree DEG. The fit minimises the maximum relative
error of e + e^2 H(e) against log1p(e): weighted least squares in float64 on Chebyshev
points with Lawson reweighting towards minimax. Then the coefficients are rounded to
float one at a time, from the lowest, each time refitting the higher ones with the lower
ones fixed (the higher coefficients absorb the rounding of the lower). The relative error
of the rounded polynomial (evaluated in float64) is printed; the error of the float
kernel (Horner with FMA) is measured separately against double log1p (tests/c/test_act.c
and the comment in vmath.h).

    /usr/bin/python3 scripts/fit/fit_log1p.py [DEG]     (default 10, the kernel's fit)

Needs Python 3 and NumPy (Debian: python3-numpy).
"""
import struct
import sys

import numpy as np


def to_float(v):
    return struct.unpack("f", struct.pack("f", float(v)))[0]


def fit(deg, npts=6000, iters=300):
    e = 0.5 - 0.5 * np.cos(np.pi * (np.arange(npts) + 0.5) / npts)
    target = np.log1p(e)
    fixed = []  # rounded coefficients of H, lowest first
    nh = deg - 1  # H has degree deg - 2: deg - 1 coefficients
    while len(fixed) < nh:
        k = len(fixed)
        # residual target for the free coefficients c_k..c_{nh-1} of H
        base = e + e * e * np.polyval(fixed[::-1], e) if fixed else e.copy()
        V = np.stack([e ** (2 + j) for j in range(k, nh)], axis=1)
        w = np.ones(npts)
        for _ in range(iters):
            sw = np.sqrt(w) / target
            c, *_ = np.linalg.lstsq(V * sw[:, None], (target - base) * sw, rcond=None)
            r = np.abs(base + V @ c - target) / target
            w = w * r / r.max() + 1e-300
            w /= w.sum()
        if k == 0:
            exact_err = r.max()
        fixed.append(to_float(c[0]))
    approx = e + e * e * np.polyval(fixed[::-1], e)
    return fixed, exact_err, np.max(np.abs(approx - target) / target)


def main():
    deg = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    coef, err, ferr = fit(deg)
    print("degree %d: relative error %.3g before rounding, %.3g with float coefficients"
          % (deg, err, ferr))
    print("H coefficients, lowest first:")
    for c in coef:
        print("  %.9e" % c)


if __name__ == "__main__":
    main()
