"""The `dmf-verify` command (also `python -m verify`).

Exit codes: 0 every check decided and nothing failed; 1 some claim FAILed (a failed
instance, or an impossible audit value such as a tightness above 1 or an N/A from a builder
that promises admissible instances); 2 bad usage or bad input (one line on stderr); 3 nothing
failed but some verdict stayed UNDECIDED at the highest precision tried; 4 everything passed
but some bound is LOOSE (its tightness witness search stayed below the declared floor).
`dmf-verify check` uses the same codes for its one verdict (0 PASS or N/A).
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import mpmath

from verify import __version__

__all__ = ["main", "build_parser", "UsageError"]

EXIT_OK, EXIT_FAIL, EXIT_USAGE, EXIT_UNDECIDED, EXIT_LOOSE = 0, 1, 2, 3, 4


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
    from verify.engine import MAX_DPS

    v = _positive_int(text)
    if not 15 <= v <= MAX_DPS:
        raise argparse.ArgumentTypeError(f"digits must be in 15..{MAX_DPS}, got {v}")
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
    run.add_argument("--max-dps", type=_dps, default=250,
                     help="highest precision an UNDECIDED verdict escalates to")
    run.add_argument("--json", metavar="PATH", help="write the JSON report here ('-': stdout)")
    run.add_argument("--markdown", metavar="PATH", help="write a Markdown report here")
    run.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    run.add_argument("--no-shrink", action="store_true",
                     help="print the repro command of each FAIL but do not shrink it")
    run.add_argument("-j", "--jobs", type=_positive_int, default=None, metavar="N",
                     help="worker processes (default, or 0: all cores); the report does not "
                          "depend on it")
    run.add_argument("--volume", type=_positive_int, default=None, metavar="COUNT",
                     help="certified-volume instances per claim (default by profile: quick 100, "
                          "default 1000, thorough 10000; 0: none)")
    run.add_argument("--timings", action="store_true",
                     help="add wall times to the JSON report (it is then no longer byte-identical "
                          "across reruns)")

    chk = sub.add_parser("check", help="check one claim on one instance (re-run a counterexample)")
    chk.add_argument("claim_id", metavar="ID", help="claim ID, e.g. K2")
    chk.add_argument("--instance", required=True, metavar="JSON",
                     help="the instance as a JSON object, or @PATH to read it from a file")
    chk.add_argument("--dps", type=_dps, default=50, help="starting precision (digits)")
    chk.add_argument("--max-dps", type=_dps, default=250,
                     help="highest precision an UNDECIDED verdict escalates to")
    chk.add_argument("--json", action="store_true", help="print the outcome as JSON")

    for name, helptext in (("predict", "what the theory predicts for your parameters"),
                           ("simulate", "what gradient descent does for your parameters")):
        sp = sub.add_parser(name, help=helptext)
        _add_problem_flags(sp)
        if name == "simulate":
            sp.add_argument("--max-steps", type=_positive_int, default=100_000)
            sp.add_argument("--full-matrix", action="store_true",
                            help="run the N-factor matrix iteration instead of the reduced dynamics")
    fig = sub.add_parser("figures", help="reproduce the paper's kind of experiments as PNG and PDF")
    fig.add_argument("--out", required=True, metavar="DIR")
    fig.add_argument("--dps", type=_dps, default=30)
    return p


def _number(text: str) -> str:
    """Keep numbers as the user wrote them (parsed later at the working precision)."""
    from verify.engine import to_mpf

    try:
        to_mpf(text, name="value")
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    return text


def _numbers(text: str) -> list[str]:
    parts = [p.strip() for p in text.split(",")]
    if not parts or any(not p for p in parts):
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}")
    return [_number(p) for p in parts]


def _add_problem_flags(sp) -> None:
    sp.add_argument("--depth", type=_positive_int, required=True, metavar="N")
    sp.add_argument("--alpha", type=_number, required=True)
    sp.add_argument("--eta", type=_number, required=True)
    tgt = sp.add_mutually_exclusive_group(required=True)
    tgt.add_argument("--spectrum", type=_numbers, metavar="s1,s2,...",
                     help="eigenvalues of the PSD target (any order)")
    tgt.add_argument("--target", metavar="FILE", help="symmetric PSD matrix (.npy, .json, .csv)")
    sp.add_argument("--rank", type=_positive_int, required=True, metavar="r")
    sp.add_argument("--eps", type=_number, default="0.1")
    sp.add_argument("--theta", type=_number, default=None, help="default: eps * s_r")
    noise = sp.add_mutually_exclusive_group()
    noise.add_argument("--noise", type=_number, metavar="e", help="perturbation size ||E||_2")
    noise.add_argument("--perturbation", metavar="FILE", help="symmetric perturbation matrix")
    sp.add_argument("--noise-kind", choices=("worst", "random"), default="worst")
    sp.add_argument("--seed", type=_positive_int, default=0)
    sp.add_argument("--dps", type=_dps, default=50)
    sp.add_argument("--json", action="store_true", help="print JSON only")


def _setting(args):
    from verify.explore import make_setting
    from verify.instances import read_matrix

    target = read_matrix(args.target, dps=args.dps) if args.target else None
    pert = read_matrix(args.perturbation, dps=args.dps) if args.perturbation else None
    return make_setting(depth=args.depth, alpha=args.alpha, eta=args.eta, rank=args.rank,
                        eps=args.eps, spectrum=args.spectrum, target=target, theta=args.theta,
                        noise=args.noise, noise_kind=args.noise_kind, perturbation=pert,
                        seed=args.seed, dps=args.dps)


def _emit(data: dict, as_json: bool) -> None:
    import json

    if as_json:
        print(json.dumps(data, indent=2))
        return
    for key, value in data.items():
        if key == "hypotheses":
            for h in value:
                print(f"  hypothesis {h['name']}: {'holds' if h['holds'] else 'FAILS'}")
        else:
            print(f"{key}: {value}")


def cmd_predict(args) -> int:
    from verify.explore import predict

    _emit(predict(_setting(args)), args.json)
    return EXIT_OK


def cmd_simulate(args) -> int:
    from verify.explore import simulate

    if args.max_steps < 1:
        raise UsageError("--max-steps must be >= 1")
    _emit(simulate(_setting(args), max_steps=args.max_steps, full_matrix=args.full_matrix),
          args.json)
    return EXIT_OK


def cmd_figures(args) -> int:
    try:
        from verify.figures import make_all
    except ImportError as exc:  # matplotlib is the optional extra `plots`
        raise UsageError(f"figures need matplotlib: pip install 'dmf-verify[plots]' ({exc})") from None
    for path in make_all(args.out, dps=args.dps):
        print(path)
    return EXIT_OK


def _read_instance(text: str) -> dict:
    """The --instance argument: inline JSON, or @PATH naming a file of JSON (json.loads only)."""
    import json

    source = "--instance"
    if text.startswith("@"):
        path = text[1:]
        try:
            with open(path, encoding="utf-8") as fh:
                text = fh.read()
        except (OSError, UnicodeDecodeError) as exc:
            reason = getattr(exc, "strerror", None) or str(exc)
            raise UsageError(f"cannot read instance file {path}: {reason}") from None
        source = f"instance file {path}"
    try:
        inst = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"{source} is not valid JSON: {exc}") from None
    if not isinstance(inst, dict):
        raise UsageError(f"{source} must be a JSON object, got {type(inst).__name__}")
    return inst


def cmd_check(args) -> int:
    import copy
    import dataclasses
    import json

    from verify.checks import CHECKS, FAIL, UNDECIDED, check

    if args.claim_id not in CHECKS:
        raise UsageError(f"unknown claim ID {args.claim_id}; known: {', '.join(CHECKS)}")
    inst = _read_instance(args.instance)
    try:
        out = check(args.claim_id, copy.deepcopy(inst), dps=args.dps, max_dps=args.max_dps)
    except ValueError as exc:
        raise UsageError(" ".join(str(exc).split())) from None
    from verify.volume.recheck import recheck

    # the claim's certified engine on the same instance (a proof where it covers it)
    (out,), disagreement = recheck(args.claim_id, [out])
    if disagreement:
        out = dataclasses.replace(out, verdict=FAIL, note="; ".join((out.note,) + disagreement).strip("; "))
    if args.json:
        from verify.report import _jsonable

        print(json.dumps(_jsonable(out.as_dict()), indent=2))
    else:
        print(f"claim: {out.claim} {_claim_name(out.claim)}")
        print(f"verdict: {out.verdict}")
        print(f"certified: {'yes' if out.certified else 'no'}")
        print(f"slack: {out.slack}")
        print(f"dps: {out.dps}")
        for label, values in (("observed", out.observed), ("predicted", out.predicted)):
            print(f"{label}:" + ("" if values else " -"))
            for key, value in values.items():
                print(f"  {key}: {value}")
        if out.ratio is not None:
            print(f"observed/predicted: {out.ratio:.6g}")
        print(f"note: {out.note or '-'}")
    return {FAIL: EXIT_FAIL, UNDECIDED: EXIT_UNDECIDED}.get(out.verdict, EXIT_OK)


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


def _claim_row(cid: str, opts: dict):
    """One claim's sampled instances and hard corners, checked and summarized (a process-pool
    task: plain arguments; returns the ClaimSummary and the seconds spent in the audits)."""
    from verify.checks import check
    from verify.checks.verdict import record_evaluator_calls
    from verify.report import summarize
    from verify.sampling import sample_instances
    from verify.shrink import SHRINK_FIRST, counterexamples
    from verify.specs import corners
    from verify.statements import audit_calls, r1_symbolic_failures
    from verify.volume.recheck import recheck
    from verify.witness import audit, witnesses

    dps, max_dps = opts["dps"], opts["max_dps"]
    insts, cs = sample_instances(cid, opts["count"], seed=opts["seed"]), corners(cid)
    cost = {"statements": 0.0, "r1_symbolic": 0.0}
    outcomes, stmt_msgs = [], []
    if cid == "R1":  # R1's symbolic gradient identities (bounds/reduction.py), small N, n
        t0 = time.perf_counter()
        stmt_msgs += r1_symbolic_failures()
        cost["r1_symbolic"] += time.perf_counter() - t0
    for inst in list(insts) + [c.instance for c in cs]:
        with record_evaluator_calls() as calls:
            outcomes.append(check(cid, inst, dps=dps, max_dps=max_dps))
        t0 = time.perf_counter()  # the SymPy statements on the same evaluator calls
        stmt_msgs += audit_calls(cid, calls, inst)
        cost["statements"] += time.perf_counter() - t0
    # the certified engine on the same instances (claims with a volume stage)
    outcomes, cert_msgs = recheck(cid, outcomes)
    stmt_msgs += cert_msgs
    sampled, corner_pairs = outcomes[:len(insts)], list(zip(cs, outcomes[len(insts):]))
    repro = counterexamples(cid, outcomes, dps=dps, max_dps=max_dps,
                            shrink_first=0 if opts["no_shrink"] else SHRINK_FIRST)
    row = summarize(cid, _claim_name(cid), outcomes, dps=dps, seed=opts["seed"],
                    counterexamples=repro,
                    audit=audit(cid, sampled, corner_pairs) + tuple(stmt_msgs),
                    corners=len(cs),
                    witnesses=witnesses(cid, outcomes, dps=dps, max_dps=max_dps))
    return row, cost


def _volume_task(cid: str, chunk: int, size: int, seed: int):
    from verify.volume import _chunk

    return _chunk((cid, seed, chunk, size))


def cmd_run(args) -> int:
    import dataclasses
    from concurrent.futures import ProcessPoolExecutor

    from verify.checks import CHECKS, FAIL, UNDECIDED
    from verify.report import render_certified_share, render_markdown, render_table, to_json
    from verify.sampling import PROFILES
    from verify.volume import CHUNK, VOLUME_PROFILES, summarize_volume, volume_claims
    from verify.witness import LOOSE

    ids = list(CHECKS)
    if args.claim:
        unknown = [c for c in args.claim if c not in CHECKS]
        if unknown:
            raise UsageError(f"unknown claim ID {', '.join(unknown)}; known: {', '.join(ids)}")
        ids = [c for c in ids if c in args.claim]
    opts = {"count": PROFILES[args.profile], "seed": args.seed, "dps": args.dps,
            "max_dps": args.max_dps, "no_shrink": args.no_shrink}
    vcount = VOLUME_PROFILES[args.profile] if args.volume is None else args.volume
    vtasks = [(cid, c, min(CHUNK, vcount - c * CHUNK), args.seed)
              for cid in ids if cid in volume_claims() for c in range(-(-vcount // CHUNK))]
    jobs = args.jobs or os.cpu_count() or 1
    show = not args.no_progress and sys.stderr.isatty()
    start = time.perf_counter()
    total, done = len(ids) + len(vtasks), 0

    def tick(label):
        nonlocal done
        done += 1
        _progress(done, total, label, enabled=show, start=start)

    if jobs > 1:  # every claim and volume chunk is a task; results are put back in order
        with ProcessPoolExecutor(max_workers=min(jobs, total)) as pool:
            # submitted heaviest first (the perturbed claims' rows, then the volume chunks) so
            # that no long task starts last; results are read back in claim order
            rows_f = {cid: pool.submit(_claim_row, cid, opts) for cid in reversed(ids)}
            vol_f = [pool.submit(_volume_task, *t) for t in reversed(vtasks)][::-1]
            vparts = []
            for f in vol_f:
                vparts.append(f.result())
                tick("")
            claim_parts = []
            for cid in ids:
                claim_parts.append(rows_f[cid].result())
                tick(cid)
    else:
        vparts, claim_parts = [], []
        for t in vtasks:
            vparts.append(_volume_task(*t))
            tick(t[0])
        for cid in ids:
            claim_parts.append(_claim_row(cid, opts))
            tick(cid)
    items: dict[str, list] = {}
    for t, part in zip(vtasks, vparts):
        items.setdefault(t[0], []).extend(part)
    rows, cost = [], {"statements": 0.0, "r1_symbolic": 0.0}
    for cid, (row, c) in zip(ids, claim_parts):
        for k in cost:
            cost[k] += c[k]
        if cid in items:
            row = dataclasses.replace(row, volume=summarize_volume(cid, items[cid], seed=args.seed).as_dict())
        rows.append(row)
    elapsed = time.perf_counter() - start
    # the report carries no wall times, so the same seed gives the same report byte for byte
    meta = {"profile": args.profile, "seed": args.seed, "dps": args.dps,
            "max_dps": args.max_dps, "volume_per_claim": vcount,
            "version": __version__, "mpmath_backend": mpmath.libmp.BACKEND}
    if args.timings:
        meta["timing"] = {"seconds": round(elapsed, 2), "jobs": jobs,
                          "statement_audit_seconds": round(cost["statements"], 2),
                          "r1_symbolic_seconds": round(cost["r1_symbolic"], 2)}
    if args.json:
        text = to_json(rows, meta=meta)
        if args.json == "-":
            print(text)
        else:
            _write(args.json, text)
    if args.markdown:
        _write(args.markdown, render_markdown(
            rows, header=f"dmf-verify run: profile {args.profile}, seed {args.seed}, "
                         f"dps {args.dps}"))
    checks = sum(r.instances for r in rows)
    certified = sum(r.volume["count"] for r in rows if r.volume)
    if args.json != "-":
        print(render_table(rows))
        print(f"{checks} checks and {certified} certified-volume instances in {elapsed:.1f} s "
              f"(profile {args.profile}, seed {args.seed}, dps {args.dps}, {jobs} jobs)")
        print(render_certified_share(rows))
    if any(r.status == FAIL for r in rows):
        return EXIT_FAIL
    if any(r.status == UNDECIDED for r in rows):
        return EXIT_UNDECIDED
    if any(r.status == LOOSE for r in rows):
        return EXIT_LOOSE
    return EXIT_OK


def _write(path: str, text: str) -> None:
    try:
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text)
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror}") from None


COMMANDS = {"run": cmd_run, "check": cmd_check, "predict": cmd_predict,
            "simulate": cmd_simulate, "figures": cmd_figures}


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
