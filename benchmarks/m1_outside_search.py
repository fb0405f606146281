"""M1 outside its hypotheses: a float64 search for K_HB > K_GD with the step bound dropped
(eta N t^A up to 4) and beta up to 3, 200000 instances per depth N = 2..6 (docs/theory.md#m1).
Float64 only, lanes within relative 1e-9 of a tie skipped: evidence, not a proof. About 5 min.
"""
import numpy as np
rng = np.random.default_rng(1)
found = []
n = 200000
for N in range(2, 7):
    A = 2 - 2 / N
    t = rng.uniform(0.2, 2.0, n)
    q = rng.uniform(0.05, 4.0, n)           # eta N t^A
    beta = rng.uniform(-0.0, 3.0, n)
    eta = q / (N * t**A)
    alpha = (t * rng.uniform(1e-4, 0.9, n)) ** (1 / N)
    d = alpha**N + (t - alpha**N) * rng.uniform(0.01, 0.999, n)
    g = alpha.copy(); x = alpha.copy(); xp = alpha.copy()
    Kg = np.full(n, -1); Kh = np.full(n, -1)
    gap = np.full(n, np.inf)
    with np.errstate(all="ignore"):
        for k in range(3000):
            gN, xN = g**N, x**N
            newg = (Kg < 0) & (gN >= d); Kg[newg] = k
            newh = (Kh < 0) & (xN >= d); Kh[newh] = k
            op = (Kg < 0) | (Kh < 0)
            gap = np.where(op, np.minimum(gap, np.minimum(np.abs(gN - d), np.abs(xN - d)) / d), gap)
            g = g + eta * g**(N-1) * (t - g**N)
            x, xp = x + eta * x**(N-1) * (t - x**N) + beta * (x - xp), x
    bad = (Kg >= 0) & ((Kh < 0) | (Kh > Kg)) & (gap > 1e-9)
    print(N, "GD hit", (Kg >= 0).sum(), "violations", bad.sum(), flush=True)
    for i in np.flatnonzero(bad)[:3]:
        print(dict(N=N, t=t[i], q=q[i], beta=beta[i], alpha=alpha[i], d=d[i], Kg=Kg[i], Kh=Kh[i]))
