"""Large problems: `predict` and `simulate` at n = 100 and n = 1000 against the naive approach,
in one run (so the ratios are measured under the same load).

    python benchmarks/bench_scale.py [--quick] [--json out.json]

Prints wall seconds, and for each pair the ratio naive / now:

* set-up + predict of a 100-entry spectrum (no noise; random noise): naive = the mpmath
  matrices of before (Gram-Schmidt at 50 digits, W = V diag(s) V^T, mpmath eigsy of Y and
  of E); now = :func:`verify.explore.make_setting` (float64 above n = 30: a spectrum's
  eigenvalues need no eigendecomposition; random noise: one LAPACK eigh with a rigorous
  enclosure);
* 100 x 100 products at 50 digits: lists of mpf with mpmath.fdot (verify/fullgd.py's
  mpmath arithmetic) against python-flint's arb_mat, and numpy float64;
* the eigenvalues of a 100 x 100 symmetric matrix: mpmath eigsy at 50 digits against flint
  acb_mat.eig at 50 digits (rigorous balls) and numpy eigh + verify.linalg.eig_enclosure;
* `simulate` (reduced) at n = 1000, 100000 steps: the per-eigenvalue gmpy2 engine at 50
  digits (timed on 20 lanes, scaled to 1000: the whole run would take minutes) against
  the float64 lanes (the whole run, set-up included);
* `predict` of a 1000 x 1000 target file (.npy, with and without a perturbation file);
* one full-matrix step at n = 20 (mpmath lists, arb, float64) and at n = 500 (float64);
* LAPACK eigh at n = 1000 on one BLAS thread and on two (verify.linalg.blas_threads).

A benchmark, not a test: it asserts nothing about time.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import mpmath  # noqa: E402
import numpy as np  # noqa: E402


def timed(fn, *a, **k):
    t0 = time.perf_counter()
    out = fn(*a, **k)
    return time.perf_counter() - t0, out


def spectrum(n):
    rng = np.random.default_rng(0)
    return ["1", "0.5", "0.25"] + [repr(float(x)) for x in 0.05 * rng.random(n - 3)]


BASE = dict(depth=3, alpha="0.05", eta="0.2", rank=3, eps="0.1", theta="0.1")


def naive_setting(spec, noise=None, dps=50):
    """The mpmath matrices as make_setting built them before (every eigenvalue by eigsy)."""
    from verify.instances import psd_target, random_perturbation, spectral_norm, symmetric_eigen

    with mpmath.workdps(dps):
        tgt = psd_target([mpmath.mpf(x) for x in spec], seed=0, dps=dps)
        E = (random_perturbation(len(spec), mpmath.mpf(noise), seed=1, dps=dps) if noise
             else mpmath.zeros(len(spec), len(spec)))
        t, Q = symmetric_eigen(tgt.W + E, dps=dps)
        e = spectral_norm(E, dps=dps) if noise else 0
        return t, Q, e


def bench_predict_100(out, quick):
    from verify.explore import make_setting, predict

    n = 60 if quick else 100
    spec = spectrum(n)
    for label, noise in (("no noise", None), ("random noise 0.01", "0.01")):
        t_naive, _ = timed(naive_setting, spec, noise)
        kw = dict(noise=noise, noise_kind="random") if noise else {}
        t_now, p = timed(lambda: predict(make_setting(**BASE, spectrum=spec, **kw)))
        out[f"predict n={n} {label}"] = (t_naive, t_now)
        print(f"  set-up + predict, n = {n}, {label:<18} naive (set-up only) {t_naive:8.2f} s   "
              f"now {t_now:6.2f} s   ratio {t_naive / t_now:8.1f}   (T0_upper {p['T0_upper']})")


def bench_products(out, quick):
    import flint

    from verify.fullgd import _arb_matrix, _mm, _rows

    n = 60 if quick else 100
    rng = np.random.default_rng(1)
    A = rng.standard_normal((n, n))
    with mpmath.workdps(50):
        Am = mpmath.matrix(A.tolist())
        rows = _rows(Am)
        t_mp, _ = timed(_mm, rows, rows)
        with flint.ctx.workdps(50):
            Aa = _arb_matrix(Am)
            t_arb, _ = timed(lambda: Aa * Aa)
    t_np, _ = timed(lambda: A @ A)
    out[f"product {n}x{n} dps 50: mpmath lists / arb_mat"] = (t_mp, t_arb)
    print(f"  {n}x{n} product at 50 digits: mpmath lists {t_mp:8.3f} s   flint arb_mat {t_arb:8.4f} s"
          f"   ratio {t_mp / t_arb:8.1f}   (numpy float64 {t_np * 1e3:.2f} ms)")


def bench_eigen(out, quick):
    import flint

    from verify.fullgd import _arb_matrix
    from verify.linalg import eig_enclosure

    n = 40 if quick else 100
    rng = np.random.default_rng(2)
    G = rng.standard_normal((n, n))
    A = (G + G.T) / 2
    with mpmath.workdps(50):
        Am = mpmath.matrix(A.tolist())
        t_mp, _ = timed(mpmath.eigsy, Am, eigvals_only=True)
        with flint.ctx.workdps(50):
            Aa = flint.acb_mat(_arb_matrix(Am))
            t_arb, balls = timed(Aa.eig)
    t_np, enc = timed(eig_enclosure, A)
    out[f"eigenvalues {n}x{n}: mpmath eigsy / flint acb_mat.eig"] = (t_mp, t_arb)
    out[f"eigenvalues {n}x{n}: mpmath eigsy / numpy eigh + enclosure"] = (t_mp, t_np)
    print(f"  {n}x{n} eigenvalues: mpmath eigsy (50 digits) {t_mp:8.2f} s   flint acb_mat.eig "
          f"(50 digits, rigorous) {t_arb:6.3f} s   ratio {t_mp / t_arb:7.1f}   numpy eigh + "
          f"enclosure {t_np:6.3f} s (radius {enc.max_rad:.1e})   ratio {t_mp / t_np:7.1f}")


def bench_simulate_1000(out, quick):
    from verify.engine import Event, simulate_reduced
    from verify.explore import _levels, make_setting, simulate

    n, steps = 1000, (20000 if quick else 100_000)
    spec = spectrum(n)
    t_setup, st = timed(make_setting, **BASE, spectrum=spec, noise="0.01", noise_kind="random")
    t_now, sim = timed(simulate, st, max_steps=steps)
    sample = list(range(3, 23))
    levels = [(lane, level, strict) for _, lane, level, strict in _levels(st) if lane in sample]
    t_lanes, _ = timed(simulate_reduced, [st.t[i] for i in sample], depth=3, alpha="0.05",
                       eta="0.2", dps=50,
                       events=[Event(sample.index(lane), level, strict=strict)
                               for lane, level, strict in levels],
                       max_steps=steps, stop_when_settled=False)
    t_naive = 2 * t_lanes * n / len(sample)  # the run and the pass for the samples
    out[f"simulate n={n} {steps} steps"] = (t_naive, t_setup + t_now)
    print(f"  simulate n = {n}, {steps} steps: gmpy2 lanes at 50 digits ~{t_naive:8.1f} s "
          f"(20 lanes timed, x{n // len(sample)}, x2 passes)   now {t_setup + t_now:6.2f} s "
          f"(set-up {t_setup:.2f} + run {t_now:.2f})   ratio {t_naive / (t_setup + t_now):7.1f}   "
          f"status {sim['status']}, T0 {sim['T0']}")


def bench_predict_file_1000(out, quick):
    from verify.cli import main

    n = 500 if quick else 1000
    rng = np.random.default_rng(0)
    A = rng.standard_normal((n, 3))
    B = rng.standard_normal((n, n))
    E = (B + B.T) / 2
    with tempfile.TemporaryDirectory() as d:
        np.save(os.path.join(d, "W.npy"), A @ A.T / n)
        np.save(os.path.join(d, "E.npy"), 0.01 * E / np.linalg.norm(E, 2))
        args = ["predict", "--depth", "3", "--alpha", "0.05", "--eta", "0.2", "--rank", "3",
                "--theta", "0.05", "--json", "--target", os.path.join(d, "W.npy")]
        import contextlib
        import io

        for label, extra in (("target", []), ("target + perturbation",
                                              ["--perturbation", os.path.join(d, "E.npy")])):
            with contextlib.redirect_stdout(io.StringIO()):
                t, code = timed(main, args + extra)
            out[f"predict {n}x{n} file: {label}"] = (None, t)
            print(f"  predict, {n}x{n} .npy {label:<22} {t:6.2f} s (exit {code})")


def bench_full_step(out, quick):
    from verify.fullgd import simulate_full
    from verify.linalg import blas_threads

    rng = np.random.default_rng(3)
    for n, arith in ((20, "mpmath"), (20, "arb"), (20, "float64"),
                     (200 if quick else 500, "float64")):
        G = rng.standard_normal((n, n))
        Y = (G + G.T) / (2 * n)
        steps = 3 if arith == "mpmath" else 10
        with blas_threads():  # as explore runs it
            t, _ = timed(simulate_full, Y, depth=3, eta=0.1, alpha=0.1, steps=steps,
                         checkpoints=(), dps=50, arithmetic=arith)
        out[f"full-matrix step n={n} {arith}"] = (None, t / (steps + 1))
        print(f"  full-matrix step, N = 3, n = {n:>3}, {arith:<7} {t / (steps + 1) * 1e3:9.2f} ms")
    a, b = out["full-matrix step n=20 mpmath"][1], out["full-matrix step n=20 arb"][1]
    print(f"  ratio mpmath lists / arb at n = 20: {a / b:.1f}")


def bench_threads(out, quick):
    from threadpoolctl import threadpool_limits

    n = 500 if quick else 1000
    G = np.random.default_rng(4).standard_normal((n, n))
    A = (G + G.T) / 2
    res = {}
    for th in (1, 2):
        with threadpool_limits(limits=th, user_api="blas"):
            best = min(timed(np.linalg.eigh, A)[0] for _ in range(2))
        res[th] = best
    out[f"eigh {n} threads 2 / 1"] = (res[2], res[1])
    print(f"  LAPACK eigh {n}x{n}: 1 BLAS thread {res[1]:.2f} s, 2 threads {res[2]:.2f} s "
          f"(ratio {res[2] / res[1]:.2f}; the machine's load decides)")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="smaller sizes (a smoke run)")
    p.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    args = p.parse_args(argv)
    out: dict = {}
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"bench_scale: {os.cpu_count()} cores, load average {load:.2f} at the start")
    for fn in (bench_predict_100, bench_products, bench_eigen, bench_simulate_1000,
               bench_predict_file_1000, bench_full_step, bench_threads):
        fn(out, args.quick)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"load average {load:.2f} at the end")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump({k: {"naive_s": a, "now_s": b} for k, (a, b) in out.items()}, fh, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
