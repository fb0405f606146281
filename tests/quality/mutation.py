"""Mutation self-test of bounds/: does the quick `run` notice a changed formula?

Runs cosmic-ray on the modules of ``bounds/`` with ``dmf-verify run --profile quick`` (this
tree's code, ``python -m verify``) as the killer: a mutant is killed when the run exits
non-zero (FAIL 1, UNDECIDED 3, LOOSE 4, or a crash) or times out. Usage, from anywhere::

    python tests/quality/mutation.py --sample 150 --seed 0

Steps: refuse to start if ``bounds/`` has uncommitted changes (cosmic-ray mutates the files
in place and restores them; a dirty tree would be mistaken for the original), run the
baseline (the unmutated run must pass), ``cosmic-ray init`` into a session file outside the
repository (default /tmp/dmf-mutation.sqlite), optionally keep a deterministic random sample
of N mutants (the others are recorded as SKIPPED in the session, the way cosmic-ray's own
filters exclude work), ``cosmic-ray exec`` with the local (one-process) distributor, then
print the score and every survivor. ``--report`` only prints the report of an existing
session; ``--resume`` continues an interrupted session without re-initialising it.

Not a test module: ``tests/quality`` is excluded from pytest (``--ignore`` in pyproject)
and from CI; a full sample takes tens of minutes.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CONFIG = Path(__file__).resolve().parent / "cosmic-ray.toml"
DEFAULT_SESSION = Path("/tmp/dmf-mutation.sqlite")


def _cosmic_ray(*args: str) -> None:
    """Run a cosmic-ray subcommand from the repository root; stop on failure."""
    cmd = [sys.executable, "-m", "cosmic_ray.cli", *args]
    # the killer's `python` is this interpreter (its venv), whatever PATH says
    env = dict(os.environ, PATH=os.pathsep.join([str(Path(sys.executable).parent),
                                                 os.environ.get("PATH", "")]))
    proc = subprocess.run(cmd, cwd=ROOT, env=env)
    if proc.returncode != 0:
        sys.exit(f"mutation: `cosmic-ray {' '.join(args)}` exited {proc.returncode}")


def _bounds_clean() -> bool:
    proc = subprocess.run(
        ["git", "status", "--porcelain", "--", "bounds"], cwd=ROOT, capture_output=True, text=True
    )
    return proc.returncode == 0 and proc.stdout.strip() == ""


def _spec_key(item):
    """A deterministic order of work items (job ids are random uuids)."""
    m = item.mutations[0]
    return (str(m.module_path), m.operator_name, m.occurrence)


def sample(session: Path, n: int, seed: int) -> tuple[int, int]:
    """Keep ``n`` mutants drawn with ``random.Random(seed)``; mark the rest SKIPPED."""
    from cosmic_ray.work_db import WorkDB, use_db
    from cosmic_ray.work_item import WorkerOutcome, WorkResult

    with use_db(str(session), WorkDB.Mode.open) as db:
        items = sorted(db.work_items, key=_spec_key)
        if n >= len(items):
            return len(items), len(items)
        keep = set(i.job_id for i in random.Random(seed).sample(items, n))
        drop = [i.job_id for i in items if i.job_id not in keep]
        db.set_multiple_results(drop, WorkResult(worker_outcome=WorkerOutcome.SKIPPED))
        return len(items), n


def _mutated_line(diff: str) -> tuple[int | None, str]:
    """The first changed line of a unified diff: (line in the original file, new text)."""
    line_no = None
    old_line = None
    for line in (diff or "").splitlines():
        hunk = re.match(r"@@ -(\d+)", line)
        if hunk:
            old_line = int(hunk.group(1))
            continue
        if old_line is None or line.startswith(("---", "+++")):
            continue
        if line.startswith("-"):
            line_no = line_no or old_line
            old_line += 1
        elif line.startswith("+"):
            return line_no or old_line, line[1:].strip()
        else:
            old_line += 1
    return line_no, ""


def report(session: Path, json_out: Path | None = None) -> dict:
    """Print the score of a session and its survivors; return them as a dict."""
    from cosmic_ray.work_db import WorkDB, use_db
    from cosmic_ray.work_item import TestOutcome, WorkerOutcome

    with use_db(str(session), WorkDB.Mode.open) as db:
        total_items = db.num_work_items
        done = db.completed_work_items
        pending = len(db.pending_work_items)
    killed = survived = timeouts = incompetent = no_test = skipped = 0
    survivors = []
    for item, result in done:
        if result.worker_outcome == WorkerOutcome.SKIPPED:
            skipped += 1
            continue
        if result.worker_outcome == WorkerOutcome.NO_TEST:
            no_test += 1
            continue
        if result.test_outcome == TestOutcome.SURVIVED:
            survived += 1
            m = item.mutations[0]
            line, text = _mutated_line(result.diff)
            survivors.append(
                {
                    "file": str(m.module_path),
                    "line": line if line is not None else m.start_pos[0],
                    "operator": m.operator_name,
                    "occurrence": m.occurrence,
                    "mutated": text,
                    "apply": f"cosmic-ray apply {m.module_path} {m.operator_name} {m.occurrence}",
                }
            )
        elif result.test_outcome == TestOutcome.INCOMPETENT:
            incompetent += 1
        else:
            killed += 1
            if (result.output or "").strip() == "timeout":
                timeouts += 1
    run = killed + survived
    survivors.sort(key=lambda s: (s["file"], s["line"], s["operator"]))
    print(f"session {session}: {total_items} mutants, {skipped} skipped (not sampled), "
          f"{pending} pending, {no_test} no-op, {incompetent} incompetent")
    if run:
        print(f"mutation score: {killed}/{run} = {100 * killed / run:.1f} % killed "
              f"({timeouts} of the killed timed out and are counted as killed; "
              f"without them {killed - timeouts}/{run - timeouts}"
              f"{f' = {100 * (killed - timeouts) / (run - timeouts):.1f} %' if run > timeouts else ''})")
    print(f"{survived} survivors:")
    for s in survivors:
        print(f"  {s['file']}:{s['line']}  {s['operator']} #{s['occurrence']}\n      {s['mutated']}")
    out = {
        "mutants": total_items, "skipped": skipped, "pending": pending, "run": run,
        "killed": killed, "timeouts": timeouts, "incompetent": incompetent,
        "no_test": no_test, "survivors": survivors,
    }
    if json_out is not None:
        json_out.write_text(json.dumps(out, indent=1))
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--session", type=Path, default=DEFAULT_SESSION,
                   help="cosmic-ray session file, outside the repository (default %(default)s)")
    p.add_argument("--config", type=Path, default=CONFIG, help="cosmic-ray config (default %(default)s)")
    p.add_argument("--sample", type=int, default=None, metavar="N",
                   help="run a random sample of N mutants instead of all")
    p.add_argument("--seed", type=int, default=0, help="seed of the sample (default 0)")
    p.add_argument("--resume", action="store_true", help="continue an existing session")
    p.add_argument("--report", action="store_true", help="only report an existing session")
    p.add_argument("--json", type=Path, default=None, help="also write the report as JSON here")
    args = p.parse_args(argv)

    session = args.session.resolve()
    if session.is_relative_to(ROOT):
        p.error(f"--session must be outside the repository ({ROOT})")
    if args.report:
        report(session, args.json)
        return 0
    if not _bounds_clean():
        sys.exit("mutation: bounds/ has uncommitted changes (a mutant left behind?); "
                 "commit or `git checkout -- bounds` first")
    config = str(args.config.resolve())
    start = time.monotonic()
    if not args.resume:
        _cosmic_ray("baseline", config)
        _cosmic_ray("init", config, str(session), "--force")
        if args.sample is not None:
            total, kept = sample(session, args.sample, args.seed)
            print(f"sample: {kept} of {total} mutants (seed {args.seed})")
    _cosmic_ray("exec", config, str(session))
    wall = time.monotonic() - start
    if not _bounds_clean():
        print("WARNING: bounds/ differs from HEAD after the run; inspect `git diff bounds`",
              file=sys.stderr)
    report(session, args.json)
    print(f"wall time: {wall / 60:.1f} min")
    return 0


if __name__ == "__main__":
    sys.exit(main())
