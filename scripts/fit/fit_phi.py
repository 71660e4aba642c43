#!/usr/bin/env python3
"""Fits the rational function behind the float gelu kernels (src/act/kernels.h).

The normal lower tail is written Phi(-t) = exp(-t^2/2) R(t) for t = |x| >= 0, where
R(t) = exp(t^2/2) erfc(t/sqrt2)/2 is smooth, 1/2 at 0 and ~ 1/(t sqrt(2 pi)) for large t.
R is approximated on [0, T] by P(t)/Q(t), deg Q = deg P + 1 (so the 1/t decay is kept),
minimising the maximum relative error: linearised least squares (Loeb / Sanathanan-Koerner
iteration: divide by the previous Q) with Lawson reweighting towards minimax, in
50-digit arithmetic with mpmath as the reference. The coefficients are then rounded to
float, normalised so that Q's constant term is exactly 1, and the relative error of the
rounded rational (still evaluated in high precision) is printed; the error of the whole
float kernel is measured separately against double erfc (see the kernel's comment).

    python3 scripts/fit/fit_phi.py [deg_p] [T]      (defaults: 4 15, the kernel's fit)

With deg_p = 3 the fit itself is 4.2e-7 off (7 ulp): too coarse for the kernel.

Needs only Python 3 and mpmath.
"""
import struct
import sys

import mpmath as mp

mp.mp.dps = 50


def R(t):
    return mp.exp(t * t / 2) * mp.erfc(t / mp.sqrt(2)) / 2


def to_float(v):
    return struct.unpack("f", struct.pack("f", float(v)))[0]


def horner(c, t):
    s = mp.mpf(0)
    for a in reversed(c):
        s = s * t + a
    return s


def fit(dp, T, npts=1200, iters=60):
    dq = dp + 1
    # Chebyshev-distributed points on [0, T] (denser at the ends)
    ts = [mp.mpf(T) * (1 - mp.cos(mp.pi * (i + 0.5) / npts)) / 2 for i in range(npts)]
    ys = [R(t) for t in ts]
    w = [mp.mpf(1)] * npts
    qprev = [mp.mpf(1)] * npts
    best = None
    for it in range(iters):
        # unknowns: p0..p_dp, q1..q_dq (q0 = 1); residual (P - y Q) / (y Qprev)
        n = dp + 1 + dq
        A = mp.matrix(n, n)
        b = mp.matrix(n, 1)
        for t, y, wi, qp in zip(ts, ys, w, qprev):
            s = mp.sqrt(wi) / (y * qp)
            row = [s * t ** j for j in range(dp + 1)] + [-s * y * t ** j for j in range(1, dq + 1)]
            rhs = s * y
            for i in range(n):
                ri = row[i]
                b[i] += ri * rhs
                for j in range(n):
                    A[i, j] += ri * row[j]
        sol = mp.lu_solve(A, b)
        pc = [sol[j] for j in range(dp + 1)]
        qc = [mp.mpf(1)] + [sol[dp + 1 + j] for j in range(dq)]
        errs = [(horner(pc, t) / horner(qc, t) - y) / y for t, y in zip(ts, ys)]
        emax = max(abs(e) for e in errs)
        if best is None or emax < best[0]:
            best = (emax, pc, qc)
        qprev = [horner(qc, t) for t in ts]
        # Lawson: weight where the error is large
        tot = mp.mpf(0)
        for i, e in enumerate(errs):
            w[i] = w[i] * abs(e)
            tot += w[i]
        w = [wi / tot * npts for wi in w]
    return best


def check(pc, qc, T, npts=20000):
    m, at = 0, 0
    for i in range(npts + 1):
        t = mp.mpf(T) * i / npts
        y = R(t)
        e = abs((horner(pc, t) / horner(qc, t) - y) / y)
        if e > m:
            m, at = e, t
    return m, at


def main():
    dp = int(sys.argv[1]) if len(sys.argv) > 1 else 4
    T = float(sys.argv[2]) if len(sys.argv) > 2 else 15.0
    emax, pc, qc = fit(dp, T)
    print("deg P %d, deg Q %d on [0, %g]: max relative error %.3g (minimax estimate)" % (dp, dp + 1, T, emax))
    pf = [to_float(c) for c in pc]
    qf = [1.0] + [to_float(c) for c in qc[1:]]
    m, at = check([mp.mpf(c) for c in pf], [mp.mpf(c) for c in qf], T)
    print("coefficients rounded to float: max relative error %.3g at t = %.4f" % (m, float(at)))
    print("P (t^0 first):")
    for c in pf:
        print("  %.9ef" % c)
    print("Q (t^0 first):")
    for c in qf:
        print("  %.9ef" % c)


if __name__ == "__main__":
    main()
