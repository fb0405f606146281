"""Throughput of `dmf-verify sweep`: points/s on 1 and 2 workers, and their ratio, same run.

    python benchmarks/bench_sweep.py [--points 60] [--rounds 2] [--json]

The design is the L1 phase-diagram grid of docs/examples/phase.toml cut to ``--points``
points (N = 3, 2x2 targets, 3000 steps, 30 digits; each point runs predict and simulate).
Two engines: local processes (``-j 1`` runs in this process, ``-j 2`` a process pool) and a
Dask LocalCluster of 1 and of 2 worker processes (``--scheduler``). Each configuration runs
the whole sweep into a fresh directory; rounds are interleaved and the best is kept. The
clusters are started and their workers warmed up (imports) before the clock starts, and
run only while they are measured; the local process pool is started inside the timed run,
as `dmf-verify sweep` does. Besides points/s, the CPU the run got (CPU seconds of this
process, its pool and the cluster's workers over the wall time: "cores used") and points
per CPU second, so that a machine shared with other jobs shows as such (the ratio of two
runs that got 0.7 cores each says nothing about scaling). A benchmark, not a test: it
reports figures and asserts nothing about time.
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


def _cpu(pids=()) -> float:
    """CPU seconds of this process, its reaped children and the live processes ``pids``."""
    import resource

    import psutil

    total = sum(getattr(resource.getrusage(who), f) for who in (resource.RUSAGE_SELF,
                                                                  resource.RUSAGE_CHILDREN)
                for f in ("ru_utime", "ru_stime"))
    for pid in pids:
        t = psutil.Process(pid).cpu_times()
        total += t.user + t.system
    return total


def timed(spec, *, jobs=None, scheduler=None, pids=()) -> tuple[float, int, float]:
    """(wall seconds, points computed, CPU seconds) of one sweep into a fresh directory."""
    from verify.sweep import run_sweep

    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "res")
        c0, t0 = _cpu(pids), time.perf_counter()
        res = run_sweep(spec, out, jobs=jobs, scheduler=scheduler, batch=20)
        return time.perf_counter() - t0, res.computed, _cpu(pids) - c0


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
        from distributed import Client

        with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                          host="127.0.0.1", dashboard_address="127.0.0.1:0") as cl:
            timed(warm, scheduler=cl.scheduler_address)  # worker imports, off the clock
            with Client(cl.scheduler_address, set_as_default=False) as c:
                pids = list(c.run(os.getpid).values())
            return timed(spec, scheduler=cl.scheduler_address, pids=pids)

    configs = [("local processes", 1, lambda: timed(spec, jobs=1)),
               ("local processes", 2, lambda: timed(spec, jobs=2)),
               ("Dask LocalCluster", 1, lambda: dask_run(1)),
               ("Dask LocalCluster", 2, lambda: dask_run(2))]
    best: dict = {}
    load0 = os.getloadavg()[0]
    for _ in range(args.rounds):
        for name, w, fn in configs:
            seconds, n, cpu = fn()
            rate = n / seconds
            if rate > best.get((name, w), (0.0,))[0]:
                best[(name, w)] = (rate, cpu / seconds, n / cpu)
    load1 = os.getloadavg()[0]
    rows = []
    for name in ("local processes", "Dask LocalCluster"):
        (r1, c1, e1), (r2, c2, e2) = best[(name, 1)], best[(name, 2)]
        rows.append({"engine": name, "points": args.points, "points_per_s_1": round(r1, 3),
                     "points_per_s_2": round(r2, 3), "ratio": round(r2 / r1, 3),
                     "cores_used_1": round(c1, 2), "cores_used_2": round(c2, 2),
                     "points_per_cpu_s_1": round(e1, 2), "points_per_cpu_s_2": round(e2, 2)})
    if args.json:
        print(json.dumps({"cores": os.cpu_count(), "rounds": args.rounds,
                          "load_average": [round(load0, 2), round(load1, 2)], "results": rows},
                         indent=2))
        return 0
    print(f"sweep throughput, {args.points} points (best of {args.rounds} interleaved rounds, "
          f"{os.cpu_count()} cores, load average {load0:.1f} at the start, {load1:.1f} at the end):")
    print(f"{'engine':<18}  {'1 worker':>10}  {'2 workers':>10}  {'ratio':>5}  "
          f"{'cores used (1 / 2)':>18}  {'points per CPU s (1 / 2)':>24}")
    for r in rows:
        print(f"{r['engine']:<18}  {r['points_per_s_1']:>6.2f} p/s  {r['points_per_s_2']:>6.2f} p/s  "
              f"{r['ratio']:>5.2f}  {r['cores_used_1']:>8.2f} / {r['cores_used_2']:<7.2f}  "
              f"{r['points_per_cpu_s_1']:>11.2f} / {r['points_per_cpu_s_2']:<10.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
