"""Throughput of the reduced engine against the naive per-step mpmath loop, same run.

    python benchmarks/bench_engine.py [--dps 50] [--depth 3] [--steps 200000]

Prints steps/second (best of interleaved rounds) for: the naive loop ``x = x + eta*x**(N-1)*(t - x**N)`` on mpmath with
its pure-Python backend (a subprocess with MPMATH_NOGMPY=1), the same loop on mpmath with the
gmpy2 backend, the project's mpmath reference engine, and the gmpy2 engine (with events and
rounding-margin tracking switched on), and the certified enclosures of verify.certified (the
monotone-endpoint path with MPFR directed rounding, and the arb ball path); then the ratios to
the naive loop. A benchmark, not a
test: it reports figures and asserts nothing about time.
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


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dps", type=int, default=50)
    p.add_argument("--depth", type=int, default=3)
    p.add_argument("--steps", type=int, default=100_000)
    p.add_argument("--rounds", type=int, default=3)
    args = p.parse_args(argv)
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
    return 0


if __name__ == "__main__":
    sys.exit(main())
