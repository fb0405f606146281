"""The `dmf-verify` command (also `python -m verify`).

Exit codes: 0 every check decided and nothing failed; 1 some claim FAILed; 2 bad usage or
bad input (one line on stderr); 3 nothing failed but some verdict stayed UNDECIDED at the
highest precision tried.
"""

from __future__ import annotations

import argparse
import sys
import time

import mpmath

from verify import __version__

__all__ = ["main", "build_parser", "UsageError"]

EXIT_OK, EXIT_FAIL, EXIT_USAGE, EXIT_UNDECIDED = 0, 1, 2, 3


class UsageError(Exception):
    """Bad command line or bad input: reported as one line with exit code 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit 2, no usage dump
        raise UsageError(message)


def _positive_int(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if v < 0:
        raise argparse.ArgumentTypeError(f"expected a nonnegative integer, got {text!r}")
    return v


def _dps(text: str) -> int:
    v = _positive_int(text)
    if v < 15:
        raise argparse.ArgumentTypeError(f"--dps must be >= 15, got {v}")
    return v


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="dmf-verify",
                description="Machine checks of the claims of Chou & Wang (2026) on gradient "
                            "descent for perturbed deep matrix factorization.")
    p.add_argument("--version", action="version", version=f"dmf-verify {__version__}")
    sub = p.add_subparsers(dest="command", parser_class=_Parser)
    run = sub.add_parser("run", help="check every claim on random admissible instances")
    run.add_argument("--profile", choices=("quick", "default", "thorough"), default="default")
    run.add_argument("--claim", action="append", metavar="ID",
                     help="check only this claim (repeatable)")
    run.add_argument("--seed", type=_positive_int, default=0)
    run.add_argument("--dps", type=_dps, default=50, help="starting precision (digits)")
    run.add_argument("--max-dps", type=_dps, default=400,
                     help="highest precision an UNDECIDED verdict escalates to")
    run.add_argument("--json", metavar="PATH", help="write the JSON report here ('-': stdout)")
    run.add_argument("--markdown", metavar="PATH", help="write a Markdown report here")
    run.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    return p


def _claim_name(claim_id: str) -> str:
    try:
        from bounds import get_claim
    except ImportError:  # the registry is optional for running the checks
        return claim_id
    try:
        return get_claim(claim_id).name
    except ValueError:
        return claim_id


def _progress(done: int, total: int, label: str, *, enabled: bool, start: float):
    if not enabled:
        return
    width = 30
    filled = int(width * done / max(total, 1))
    bar = "#" * filled + "." * (width - filled)
    sys.stderr.write(f"\r[{bar}] {done}/{total} {label:<6} {time.perf_counter() - start:6.1f}s")
    if done == total:
        sys.stderr.write("\n")
    sys.stderr.flush()


def cmd_run(args) -> int:
    from verify.checks import CHECKS, check
    from verify.report import render_markdown, render_table, summarize, to_json
    from verify.sampling import PROFILES, sample_instances

    ids = list(CHECKS)
    if args.claim:
        unknown = [c for c in args.claim if c not in CHECKS]
        if unknown:
            raise UsageError(f"unknown claim ID {', '.join(unknown)}; known: {', '.join(ids)}")
        ids = [c for c in ids if c in args.claim]
    count = PROFILES[args.profile]
    plan = [(cid, sample_instances(cid, count, seed=args.seed)) for cid in ids]
    total = sum(len(insts) for _, insts in plan)
    show = not args.no_progress and sys.stderr.isatty()
    start = time.perf_counter()
    rows, done = [], 0
    for cid, insts in plan:
        outcomes = []
        for inst in insts:
            outcomes.append(check(cid, inst, dps=args.dps, max_dps=args.max_dps))
            done += 1
            _progress(done, total, cid, enabled=show, start=start)
        rows.append(summarize(cid, _claim_name(cid), outcomes, dps=args.dps, seed=args.seed))
    elapsed = time.perf_counter() - start
    meta = {"profile": args.profile, "seed": args.seed, "dps": args.dps,
            "max_dps": args.max_dps, "seconds": round(elapsed, 2),
            "version": __version__, "mpmath_backend": mpmath.libmp.BACKEND}
    if args.json:
        text = to_json(rows, meta=meta)
        if args.json == "-":
            print(text)
        else:
            _write(args.json, text)
    if args.markdown:
        _write(args.markdown, render_markdown(
            rows, header=f"dmf-verify run: profile {args.profile}, seed {args.seed}, "
                         f"dps {args.dps}, {elapsed:.1f} s"))
    if args.json != "-":
        print(render_table(rows))
        print(f"{total} checks in {elapsed:.1f} s (profile {args.profile}, seed {args.seed}, "
              f"dps {args.dps})")
    if any(r.failed for r in rows):
        return EXIT_FAIL
    if any(r.undecided for r in rows):
        return EXIT_UNDECIDED
    return EXIT_OK


def _write(path: str, text: str) -> None:
    try:
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text)
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror}") from None


COMMANDS = {"run": cmd_run}


def main(argv=None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.command is None:
            raise UsageError("a command is required: " + ", ".join(COMMANDS))
        return COMMANDS[args.command](args)
    except UsageError as exc:
        print(f"dmf-verify: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except ValueError as exc:  # bad input found below the command line
        print(f"dmf-verify: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("dmf-verify: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `dmf-verify run --json - | head`: the reader left
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
