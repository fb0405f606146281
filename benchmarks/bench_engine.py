"""Throughput of the reduced engine against the naive per-step mpmath loop, same run.

    python benchmarks/bench_engine.py [--dps 50] [--depth 3] [--steps 200000]

Prints steps/second (best of interleaved rounds) for: the naive loop ``x = x + eta*x**(N-1)*(t - x**N)`` on mpmath with
its pure-Python backend (a subprocess with MPMATH_NOGMPY=1), the same loop on mpmath with the
gmpy2 backend, the project's mpmath reference engine, and the gmpy2 engine (with events and
rounding-margin tracking switched on), and the certified enclosures of verify.certified (the
monotone-endpoint path with MPFR directed rounding, and the arb ball path); then the ratios to
the naive loop. Then the float64
screen (verify.screen) against a plain numpy float64 loop without enclosure over the same
lanes, the fraction of lanes the screen decides alone on a K2-like batch, and float64 tau
(verify.fasttau) against bounds.flow.tau (``--skip-engine``: only this second part), and the
certified volume stage's throughput per claim (certified instances/s, ``--volume COUNT``).
A benchmark, not a test: it reports figures and asserts nothing about time.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

NAIVE = r"""
import json, sys, time, mpmath
N, dps, steps = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
with mpmath.workdps(dps):
    x, t, eta = mpmath.mpf("0.05"), mpmath.mpf(1), mpmath.mpf("0.3") / N
    t0 = time.perf_counter()
    for k in range(steps):
        x = x + eta * x**(N - 1) * (t - x**N)
    rate = steps / (time.perf_counter() - t0)
print(json.dumps({"backend": mpmath.libmp.BACKEND, "rate": rate}))
"""


def naive_rate(depth: int, dps: int, steps: int, *, pure_python: bool) -> tuple[str, float]:
    env = dict(os.environ)
    if pure_python:
        env["MPMATH_NOGMPY"] = "1"
    else:
        env.pop("MPMATH_NOGMPY", None)
    out = subprocess.run([sys.executable, "-c", NAIVE, str(depth), str(dps), str(steps)],
                         env=env, capture_output=True, text=True, check=True).stdout
    data = json.loads(out)
    return data["backend"], data["rate"]


def engine_rate(depth: int, dps: int, steps: int, backend: str) -> float:
    from verify.engine import Event, simulate_reduced

    t0 = time.perf_counter()
    run = simulate_reduced([1], depth=depth, alpha="0.05", eta=f"{0.3 / depth}", dps=dps,
                           events=[Event(0, 2)],  # never reached: the event stays pending
                           max_steps=steps, backend=backend)
    return run.steps / (time.perf_counter() - t0)


def certified_rate(depth: int, dps: int, steps: int, method: str) -> float:
    from mpmath.libmp import dps_to_prec

    from verify.certified import certified_lane

    t0 = time.perf_counter()
    lane = certified_lane(1, "0.05", f"{0.3 / depth}", depth, max_steps=steps,
                          prec=dps_to_prec(dps), method=method)
    return lane.steps / (time.perf_counter() - t0)

def screen_rates(lanes: int, depth: int, steps: int) -> tuple[float, float, float]:
    """Trajectory-steps/s (lane x step) of the screen and of plain numpy float64 on the same
    lanes (the powers written ``x**n``, and as products like the screen's), every lane active
    for ``steps`` steps (levels out of reach: the lanes end CAPPED)."""
    import numpy as np

    from verify.screen import CAPPED, screen_hits

    rng = np.random.default_rng(0)
    t = rng.uniform(0.5, 2.0, lanes)
    alpha = rng.uniform(0.01, 0.02, lanes) * t ** (1 / depth)
    eta = rng.uniform(0.001, 0.002, lanes) / (depth * t ** (2 - 2 / depth))
    t0 = time.perf_counter()
    r = screen_hits(t, alpha, eta, depth, 0.9 * t, max_steps=steps)
    screen = r.lane_steps / (time.perf_counter() - t0)
    if not np.all(r.status == CAPPED):
        print(f"  (note: {np.mean(r.status != CAPPED):.1%} of the lanes ended before the cap)")
    x = alpha.copy()
    t0 = time.perf_counter()
    for _ in range(steps):
        x = x + eta * x ** (depth - 1) * (t - x**depth)
    plain = lanes * steps / (time.perf_counter() - t0)
    x = alpha.copy()
    t0 = time.perf_counter()
    for _ in range(steps):
        p = x
        for _ in range(depth - 2):
            p = p * x
        x = x + eta * p * (t - p * x)
    products = lanes * steps / (time.perf_counter() - t0)
    return screen, plain, products


def screen_batch(lanes: int, depth: int, max_steps: int) -> tuple[float, float]:
    """K2-like batch: t in [0.5, 2], alpha in [0.05, 0.3], eta fraction in [0.01, 1], level
    uniform in (alpha^N, 0.99 t). Returns (fraction decided alone, trajectory-steps/s
    including the tail of slow lanes)."""
    import numpy as np

    from verify.screen import screen_hits

    rng = np.random.default_rng(1)
    t = rng.uniform(0.5, 2.0, lanes)
    alpha = rng.uniform(0.05, 0.3, lanes)
    eta = rng.uniform(0.01, 1.0, lanes) / (depth * t ** (2 - 2 / depth))
    aN = alpha**depth
    d = aN + (0.99 * t - aN) * rng.uniform(0.0, 1.0, lanes)
    t0 = time.perf_counter()
    r = screen_hits(t, alpha, eta, depth, d, max_steps=max_steps)
    rate = r.lane_steps / (time.perf_counter() - t0)
    return float(r.decided.mean()), rate


def tau_rates(points: int, depth: int) -> tuple[float, float]:
    """tau evaluations/s: verify.fasttau.tau on an array vs bounds.flow.tau at 50 digits."""
    import mpmath
    import numpy as np

    from bounds.flow import tau as tau_mp
    from verify.fasttau import tau as tau_fast

    rng = np.random.default_rng(2)
    t = rng.uniform(0.5, 2.0, points)
    a = rng.uniform(0.05, 0.3, points) ** depth
    b = a + (0.99 * t - a) * rng.uniform(0.01, 1.0, points)
    t0 = time.perf_counter()
    tau_fast(t, a, b, depth)
    fast = points / (time.perf_counter() - t0)
    few = min(points, 300)
    t0 = time.perf_counter()
    with mpmath.workdps(50):
        for i in range(few):
            tau_mp(float(t[i]), float(a[i]), float(b[i]), depth)
    slow = few / (time.perf_counter() - t0)
    return fast, slow


def screen_main(args) -> None:
    best_s = best_p = best_m = 0.0
    for _ in range(args.rounds):
        s_rate, p_rate, m_rate = screen_rates(1000, args.depth, args.screen_steps)
        best_s, best_p, best_m = max(best_s, s_rate), max(best_p, p_rate), max(best_m, m_rate)
    print(f"float64 screen, N={args.depth}, 1000 lanes x {args.screen_steps} steps "
          f"(best of {args.rounds})")
    print(f"  {'screen (outward-rounded enclosure)':<40} {best_s:12.3e} trajectory-steps/s")
    print(f"  {'plain numpy float64, no enclosure':<40} {best_p:12.3e} trajectory-steps/s")
    print(f"  {'plain numpy float64, powers as products':<40} {best_m:12.3e} trajectory-steps/s")
    print(f"  ratio screen / plain: {best_s / best_p:.3f} (x**n), {best_s / best_m:.3f} (products)")
    frac, rate = screen_batch(10_000, args.depth, 10**6)
    print(f"K2-like batch, 10000 lanes: decided by the screen alone {100 * frac:.2f} %, "
          f"{rate:.3e} trajectory-steps/s (with the tail of slow lanes)")
    fast, slow = tau_rates(10_000, args.depth)
    print(f"tau, N={args.depth}: fasttau {fast:.3e} evaluations/s, bounds.flow.tau (50 digits) "
          f"{slow:.3e} evaluations/s, ratio {fast / slow:.0f}")


def volume_main(count: int) -> None:
    """Certified instances/s of the volume stage per claim (one process, draws included)."""
    from verify.volume import run_volume, volume_claims

    print(f"certified volume stage, {count} instances per claim, one process")
    for cid in volume_claims():
        t0 = time.perf_counter()
        r = run_volume(cid, count, seed=0)
        dt = time.perf_counter() - t0
        print(f"  {cid:<3} {r.certified:>6}/{r.decided:<6} certified  {r.certified / dt:9.1f} "
              f"certified instances/s  ({dt:.2f} s)")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dps", type=int, default=50)
    p.add_argument("--depth", type=int, default=3)
    p.add_argument("--steps", type=int, default=100_000)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--screen-steps", type=int, default=2000)
    p.add_argument("--volume", type=int, default=1000, metavar="COUNT",
                   help="instances per claim for the volume-stage throughput (0: skip)")
    p.add_argument("--skip-engine", action="store_true",
                   help="only the float64 screen and fasttau figures")
    args = p.parse_args(argv)
    if args.skip_engine:
        screen_main(args)
        if args.volume:
            volume_main(args.volume)
        return 0
    small = max(args.steps // 5, 1000)
    names = ["naive mpmath loop (pure-Python backend)", "naive mpmath loop (gmpy2 backend)",
             "engine, mpmath reference", "engine, gmpy2 fast path",
             "certified, monotone endpoints (MPFR)", "certified, arb ball"]
    best = [0.0] * 6
    # rounds interleave the contestants, so a change in machine load hits all of them
    for _ in range(args.rounds):
        rates = [naive_rate(args.depth, args.dps, small, pure_python=True)[1],
                 naive_rate(args.depth, args.dps, small, pure_python=False)[1],
                 engine_rate(args.depth, args.dps, small, "mpmath"),
                 engine_rate(args.depth, args.dps, args.steps, "gmpy2"),
                 certified_rate(args.depth, args.dps, args.steps, "monotone-endpoints"),
                 certified_rate(args.depth, args.dps, small, "ball")]
        best = [max(b, r) for b, r in zip(best, rates)]
    rows = list(zip(names, best))
    base = rows[0][1]
    print(f"reduced dynamics, N={args.depth}, dps={args.dps} (best of {args.rounds} interleaved rounds)")
    for name, rate in rows:
        print(f"  {name:<40} {rate:12.3e} steps/s   x{rate / base:6.2f}")
    print(f"ratio gmpy2 engine / naive mpmath: {rows[3][1] / base:.2f}")
    print(f"ratio gmpy2 engine / naive mpmath with gmpy2 backend: {rows[3][1] / rows[1][1]:.2f}")
    for name, rate in rows[4:]:
        print(f"ratio {name} / naive mpmath with gmpy2 backend: {rate / rows[1][1]:.2f}"
              f" (pure-Python backend: {rate / base:.2f})")
    screen_main(args)
    if args.volume:
        volume_main(args.volume)
    return 0


if __name__ == "__main__":
    sys.exit(main())
