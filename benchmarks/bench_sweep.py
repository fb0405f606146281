"""Throughput of `dmf-verify sweep`: points/s on 1 and 2 workers, and their ratio, same run.

    python benchmarks/bench_sweep.py [--points 60] [--rounds 2] [--json]

The design is the L1 phase-diagram grid of docs/examples/phase.toml cut to ``--points``
points (N = 3, 2x2 targets, 3000 steps, 30 digits; each point runs predict and simulate).
Two engines: local processes (``-j 1`` runs in this process, ``-j 2`` a process pool) and a
Dask LocalCluster of 1 and of 2 worker processes (``--scheduler``). Each configuration runs
the whole sweep into a fresh directory; rounds are interleaved and the best is kept. The
clusters are started and their workers warmed up (imports) before the clock starts, and
run only while they are measured; the local process pool is started inside the timed run,
as `dmf-verify sweep` does. A
benchmark, not a test: it reports figures and asserts nothing about time.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def spec_text(points: int) -> str:
    text = (ROOT / "docs" / "examples" / "phase.toml").read_text()
    # 20 gaps x 10 alphas: keep ceil(points / 10) gaps
    gaps = -(-points // 10)
    return text.replace("num = 20", f"num = {gaps}")


def timed(spec, *, jobs=None, scheduler=None) -> tuple[float, int]:
    from verify.sweep import run_sweep

    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "res")
        t0 = time.perf_counter()
        res = run_sweep(spec, out, jobs=jobs, scheduler=scheduler, batch=20)
        return time.perf_counter() - t0, res.computed


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", type=int, default=60, help="points per sweep (default: 60)")
    ap.add_argument("--rounds", type=int, default=2, help="interleaved rounds (default: 2)")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = ap.parse_args(argv)

    import logging

    from distributed import LocalCluster

    from verify.sweep import design_points, evaluate_point, parse_spec

    logging.getLogger("distributed").setLevel(logging.ERROR)
    spec = parse_spec(spec_text(args.points), source="bench")
    evaluate_point(design_points(spec)[0])  # imports and caches warm in this process
    warm = parse_spec(spec_text(10).replace('name = "l1-phase"', 'name = "warm"')
                      .replace("max_steps = 3000", "max_steps = 2999"), source="warm")

    def dask_run(workers):
        # a cluster only while it is measured: its scheduler's event loop lives in this
        # process and would slow the in-process (-j 1) runs
        with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                          host="127.0.0.1", dashboard_address="127.0.0.1:0") as cl:
            timed(warm, scheduler=cl.scheduler_address)  # worker imports, off the clock
            return timed(spec, scheduler=cl.scheduler_address)

    configs = [("local processes", 1, lambda: timed(spec, jobs=1)),
               ("local processes", 2, lambda: timed(spec, jobs=2)),
               ("Dask LocalCluster", 1, lambda: dask_run(1)),
               ("Dask LocalCluster", 2, lambda: dask_run(2))]
    best: dict = {}
    for _ in range(args.rounds):
        for name, w, fn in configs:
            seconds, n = fn()
            best[(name, w)] = max(best.get((name, w), 0.0), n / seconds)
    rows = []
    for name in ("local processes", "Dask LocalCluster"):
        r1, r2 = best[(name, 1)], best[(name, 2)]
        rows.append({"engine": name, "points": args.points, "points_per_s_1": round(r1, 3),
                     "points_per_s_2": round(r2, 3), "ratio": round(r2 / r1, 3)})
    if args.json:
        print(json.dumps({"cores": os.cpu_count(), "rounds": args.rounds, "results": rows}, indent=2))
        return 0
    print(f"sweep throughput, {args.points} points (best of {args.rounds} interleaved rounds, "
          f"{os.cpu_count()} cores):")
    print(f"{'engine':<18}  {'1 worker':>12}  {'2 workers':>12}  {'ratio':>6}")
    for r in rows:
        print(f"{r['engine']:<18}  {r['points_per_s_1']:>8.2f} p/s  {r['points_per_s_2']:>8.2f} p/s  "
              f"{r['ratio']:>6.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
