"""The `dmf-verify` command (also `python -m verify`).

Exit codes: 0 every check decided and nothing failed; 1 some claim FAILed (a failed
instance, or an impossible audit value such as a tightness above 1 or an N/A from a builder
that promises admissible instances); 2 bad usage or bad input (one line on stderr); 3 nothing
failed but some verdict stayed UNDECIDED at the highest precision tried; 4 everything passed
but some bound is LOOSE (its tightness witness search stayed below the declared floor);
70 an internal error (a bug); 130 interrupted (run writes its partial report first).
`dmf-verify check` uses the same codes for its one verdict (0 PASS or N/A). Every flag is
in `dmf-verify COMMAND --help`, with its default.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time

import mpmath

from verify import __version__

__all__ = ["main", "build_parser", "UsageError"]

EXIT_OK, EXIT_FAIL, EXIT_USAGE, EXIT_UNDECIDED, EXIT_LOOSE = 0, 1, 2, 3, 4
EXIT_INTERRUPTED, EXIT_INTERNAL = 130, 70


class UsageError(Exception):
    """Bad command line or bad input: reported as one line with exit code 2."""


EXIT_CODES = """\
exit codes:
  0    success: every verdict decided and nothing failed (run, check); the command ran
       (predict, simulate, figures, list, sweep-plot, explore); every point ran and no observed time
       broke a predicted bound (sweep)
  1    a claim FAILed (run, check), an audit found an impossible value (run), or an
       observed time broke a predicted bound on some point (sweep)
  2    bad usage or bad input: one line on stderr, before any work
  3    nothing failed but a verdict stayed UNDECIDED at --max-dps (run, check)
  4    everything passed but a bound is LOOSE, weaker than its declared tightness (run)
  70   internal error (a bug; one line, DMF_VERIFY_DEBUG=1 shows the traceback)
  130  interrupted (Ctrl-C); run first writes the partial report, marked partial; sweep
       keeps every finished point (rerun the same command to resume)
"""


class _Formatter(argparse.RawDescriptionHelpFormatter):
    """Help text with every flag's default shown (unless None/False, which the text explains)."""

    def _get_help_string(self, action):
        text = action.help or ""
        if ("%(default)" not in text
                and not any(action.default is v for v in (None, False, argparse.SUPPRESS))
                and (action.option_strings or action.nargs in ("?", "*"))):
            text += " (default: %(default)s)"
        return text


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kwargs)

    def error(self, message):  # one line, exit 2, no usage dump
        raise UsageError(message)


def _int_arg(lo=None, hi=None, why=""):
    """An argparse type: an integer (digits, or integer-valued like 1e6) in lo..hi."""
    from verify.limits import parse_int

    def parse(text: str) -> int:
        try:
            v = parse_int(text, name="value")
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if lo is not None and v < lo:
            if lo == 0:
                raise argparse.ArgumentTypeError(f"expected a nonnegative integer, got {text!r}")
            raise argparse.ArgumentTypeError(f"must be >= {lo}, got {v}")
        if hi is not None and v > hi:
            raise argparse.ArgumentTypeError(f"must be <= {hi}, got {v}" + (f" ({why})" if why else ""))
        return v

    return parse


_positive_int = _int_arg(0)
MAX_SEED = 2**64 - 1
MAX_VOLUME = 10**6


def _dps(text: str) -> int:
    from verify.engine import MAX_DPS

    v = _positive_int(text)
    if not 15 <= v <= MAX_DPS:
        raise argparse.ArgumentTypeError(f"digits must be in 15..{MAX_DPS}, got {v}")
    return v


def _positive_float(text: str) -> float:
    v = _float_arg(text)
    if not v > 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
    return v


def _float_arg(text: str) -> float:
    from verify.limits import parse_number

    try:
        return float(parse_number(text, name="value"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number (a plain decimal such as 0.05 or "
                                         f"5e-2), got {text!r}") from None


def _tol(text: str) -> str:
    from verify.instances import _check_tol

    try:
        _check_tol(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc).replace("tol must", "must")) from None
    return text


def build_parser() -> argparse.ArgumentParser:
    from verify.limits import DEFAULT_MAX_MEMORY_MB, DEFAULT_MAX_SECONDS, DEFAULT_TOL, MAX_DEPTH

    p = _Parser(prog="dmf-verify",
                description="Machine checks of the claims of Chou & Wang (2026) on gradient "
                            "descent for perturbed deep matrix factorization.",
                epilog=EXIT_CODES)
    p.add_argument("--version", action="version", version=f"dmf-verify {__version__}",
                   help="print the version and exit")
    sub = p.add_subparsers(dest="command", parser_class=_Parser, metavar="COMMAND",
                           title="commands")
    run = sub.add_parser("run", help="check every claim on random admissible instances",
                         description="Check every claim (or --claim ones) on the profile's "
                                     "sampled instances, the hard corners and the certified "
                                     "volume; print a table.", epilog=EXIT_CODES)
    run.add_argument("--profile", choices=("quick", "default", "thorough"), default="default",
                     help="sampled instances per claim: quick 3, default 10, thorough 40 (and every claim's "
                          "hard corners)")
    run.add_argument("--claim", action="append", metavar="ID",
                     help="check only this claim (repeatable; default: every claim, see "
                          "`dmf-verify list`)")
    run.add_argument("--seed", type=_int_arg(0, MAX_SEED), default=0, help="sampling seed")
    run.add_argument("--dps", type=_dps, default=50, help="starting precision in decimal digits")
    run.add_argument("--max-dps", type=_dps, default=250,
                     help="highest precision an UNDECIDED verdict escalates to (>= --dps)")
    run.add_argument("--json", metavar="PATH", help="write the JSON report here ('-': stdout, "
                     "instead of the table; default: none); checked before the run")
    run.add_argument("--markdown", metavar="PATH", help="write a Markdown report here ('-': "
                     "stdout, instead of the table; default: none); checked before the run")
    run.add_argument("--junit", metavar="PATH", help="write a JUnit XML report here, one "
                     "testcase per claim x instance batch ('-': stdout, instead of the table; "
                     "default: none); checked before the run")
    run.add_argument("--no-progress", action="store_true",
                     help="no progress bar on stderr (it is off anyway when stderr is not a "
                          "terminal)")
    run.add_argument("--no-shrink", action="store_true",
                     help="print the repro command of each FAIL but do not shrink it")
    run.add_argument("-j", "--jobs", type=_positive_int, default=None, metavar="N",
                     help="worker processes (default, or 0: all cores); the report does not "
                          "depend on it")
    run.add_argument("--volume", type=_int_arg(0, MAX_VOLUME, "the certified volume per claim"),
                     default=None, metavar="COUNT",
                     help=f"certified-volume instances per claim, at most {MAX_VOLUME} "
                          f"(default by profile: quick 100, default 1000, thorough 10000; 0: none)")
    run.add_argument("--timings", action="store_true",
                     help="add wall times to the JSON report (it is then no longer byte-identical "
                          "across reruns)")

    chk = sub.add_parser("check", help="check one claim on one instance (re-run a counterexample)",
                         description="Check one claim on one instance, with the precision "
                                     "escalation of run.", epilog=EXIT_CODES)
    chk.add_argument("claim_id", metavar="ID", help="claim ID, e.g. K2 (`dmf-verify list`)")
    chk.add_argument("--instance", required=True, metavar="JSON",
                     help="the instance as a JSON object, or @PATH to read it from a file "
                          "(required)")
    chk.add_argument("--dps", type=_dps, default=50, help="starting precision in decimal digits")
    chk.add_argument("--max-dps", type=_dps, default=250,
                     help="highest precision an UNDECIDED verdict escalates to (>= --dps)")
    chk.add_argument("--json", action="store_true", help="print the outcome as JSON")
    chk.add_argument("--no-progress", action="store_true",
                     help="no elapsed-time indicator on stderr (shown after 2 s on a terminal)")

    lst = sub.add_parser("list", help="list the claims: ID, name, hypotheses, docs link",
                         description="The claims checked by run and check (bounds/).",
                         epilog=EXIT_CODES)
    lst.add_argument("--json", action="store_true", help="print the list as JSON")

    for name, helptext in (("predict", "what the theory predicts for your parameters"),
                           ("simulate", "what gradient descent does for your parameters")):
        sp = sub.add_parser(name, help=helptext, description=helptext[0].upper() + helptext[1:]
                            + ". Numbers are plain decimals (0.05, 5e-2); nonzero magnitudes "
                              "in [1e-100, 1e100].", epilog=EXIT_CODES)
        _add_problem_flags(sp, MAX_DEPTH, DEFAULT_TOL, DEFAULT_MAX_SECONDS, DEFAULT_MAX_MEMORY_MB)
        if name == "simulate":
            sp.add_argument("--max-steps", type=_int_arg(1), default=100_000, metavar="K",
                            help="step cap; a level not reached by then is reported as "
                                 "censored ('> K'), never as 'never' (1e6 style accepted)")
            sp.add_argument("--full-matrix", action="store_true",
                            help="run the N-factor matrix iteration instead of the reduced "
                                 "dynamics (same fields; slower: O(N n^3) per step; flint "
                                 "arb_mat at --dps for n <= 30, float64 up to n = 500; "
                                 "streamed, O(N n^2) memory)")
    fig = sub.add_parser("figures", help="reproduce the paper's kind of experiments as PNG and PDF",
                         description="Write the four figures (PNG and PDF) into a directory.",
                         epilog=EXIT_CODES)
    fig.add_argument("--out", required=True, metavar="DIR",
                     help="directory to write into (created if missing; required)")
    fig.add_argument("--dps", type=_dps, default=30, help="working precision in decimal digits")
    fig.add_argument("--no-progress", action="store_true",
                     help="no progress bar on stderr (it is off anyway when stderr is not a "
                          "terminal)")

    sw = sub.add_parser("sweep", help="predict and simulate over a grid or random design "
                                      "(Parquet output, resumable, local or Dask)",
                        description="Evaluate predict and simulate at every point of the "
                                    "design in SPEC (a TOML file: docs/sweeps.md) and write one "
                                    "row per point into the --out directory (Parquet parts). "
                                    "Points already there are skipped, so a rerun resumes an "
                                    "interrupted sweep.", epilog=EXIT_CODES)
    sw.add_argument("spec", metavar="SPEC", help="the sweep spec, a TOML file (docs/sweeps.md)")
    sw.add_argument("--out", required=True, metavar="DIR",
                    help="output directory of Parquet parts, new or from an earlier run of a "
                         "sweep (required); checked before the run")
    sw.add_argument("-j", "--jobs", type=_positive_int, default=None, metavar="N",
                    help="local worker processes (default, or 0: all cores; 1: in this "
                         "process); not with --scheduler")
    sw.add_argument("--scheduler", metavar="ADDRESS",
                    help="run on the Dask distributed cluster of this scheduler, e.g. "
                         "tcp://HOST:8786 (its workers need dmf-verify installed; "
                         "default: local processes)")
    sw.add_argument("--connect-timeout", type=_positive_float, default=10.0, metavar="SECONDS",
                    help="with --scheduler: how long to wait for the scheduler and a first worker")
    sw.add_argument("--batch", type=_int_arg(1, 100_000), default=20, metavar="K",
                    help="points per Parquet part: finished points are written every K points "
                         "(and every 10 s, and on Ctrl-C)")
    sw.add_argument("--dry-run", action="store_true",
                    help="check the spec and --out, print how many points there are and how "
                         "many are already done, compute nothing")
    sw.add_argument("--json", action="store_true",
                    help="print the summary as JSON instead of text")
    sw.add_argument("--no-progress", action="store_true",
                    help="no progress bar on stderr (it is off anyway when stderr is not a "
                         "terminal)")

    _add_explore(sub)

    swp = sub.add_parser("sweep-plot", help="phase diagrams (predicted vs observed boundary) "
                                            "from a sweep's output",
                         description="Draw the observed low-rank interval (nonempty / empty / "
                                     "not decided) over two parameters of a sweep, with the "
                                     "predicted boundary T0_upper = T1_lower, as PNG and PDF; one "
                                     "figure per combination of the other varying parameters.",
                         epilog=EXIT_CODES)
    swp.add_argument("results", metavar="RESULTS", help="the --out directory of a sweep")
    swp.add_argument("--out", required=True, metavar="DIR",
                     help="directory to write into (created if missing; required)")
    swp.add_argument("--x", metavar="KEY",
                     help="parameter on the x axis (default: the first varying parameter of "
                          "the sweep)")
    swp.add_argument("--y", metavar="KEY",
                     help="parameter on the y axis (default: the second varying parameter)")
    return p


def _add_explore(sub) -> None:
    """`dmf-verify explore STUDY`: one sub-command per built study of verify.beyond."""
    import importlib.util

    from verify.beyond import STUDIES

    exp = sub.add_parser("explore", help="beyond the paper: momentum, initialization, "
                                         "non-symmetric noise, Adam, real data (EMPIRICAL)",
                         description="Studies of settings the paper's theorems do not cover "
                                     "(docs/beyond.md). Every row is labelled EMPIRICAL or "
                                     "with the ID of the claim that proves it.",
                         epilog=EXIT_CODES)
    studies = exp.add_subparsers(dest="study", parser_class=_Parser, metavar="STUDY",
                                 title="studies", help="the study to run (`dmf-verify explore "
                                                       "STUDY --help` for its flags)")
    for name in sorted(STUDIES):
        if importlib.util.find_spec(STUDIES[name]) is None:  # not built (yet)
            continue
        mod = importlib.import_module(STUDIES[name])
        sp = studies.add_parser(name, help=mod.TITLE, description=mod.TITLE + ".",
                                epilog=EXIT_CODES)
        mod.add_arguments(sp)
        _uniform_defaults(sp)
        sp.add_argument("--seed", type=_int_arg(0, MAX_SEED), default=0,
                        help="seed of every random draw of the study")
        sp.add_argument("--json", action="store_true",
                        help="print the result as JSON instead of the table")
        sp.add_argument("--figures", metavar="DIR",
                        help="also write the study's figure (PNG and PDF) into DIR (created "
                             "if missing; checked before the run; default: none)")
        sp.add_argument("--no-progress", action="store_true",
                        help="no progress bar on stderr (it is off anyway when stderr is not "
                             "a terminal)")


_DEFAULT_NOTE = re.compile(r"\s*\(default:?\s(?:[^()]|\([^()]*\))*\)")


def _uniform_defaults(sp) -> None:
    """A study's flags show their defaults as every other flag does, "(default: X)" added by
    the formatter: a default the help text states by hand is dropped from it, and a list
    default is kept as the comma-separated text the flag's type parses (argparse applies the
    type to a string default)."""
    for action in sp._actions:
        if action.default is None or action.default is False or not action.option_strings:
            continue
        if isinstance(action.default, (list, tuple)) and action.type is not None:
            action.default = ",".join(format(v, "g") if isinstance(v, float) else str(v)
                                      for v in action.default)
        if action.help:
            action.help = _DEFAULT_NOTE.sub("", action.help)


def _number(text: str) -> str:
    """Keep numbers as the user wrote them (parsed later at the working precision); only
    plain decimal or scientific literals in range are accepted."""
    from verify.limits import parse_number

    try:
        with mpmath.workdps(30):
            parse_number(text, name="value")
    except ValueError as exc:
        if "out of range" in str(exc):
            raise argparse.ArgumentTypeError(
                f"{text.strip()} is out of range: a nonzero number must have magnitude in "
                f"[1e-100, 1e100]") from None
        raise argparse.ArgumentTypeError(f"expected a number (a plain decimal such as 0.05 or "
                                         f"5e-2), got {text!r}") from None
    return text.strip()


def _numbers(text: str) -> list[str]:
    parts = [p.strip() for p in text.split(",")]
    if not parts or any(not p for p in parts):
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}")
    return [_number(p) for p in parts]


def _add_problem_flags(sp, max_depth, tol, max_seconds, max_memory) -> None:
    sp.add_argument("--depth", type=_int_arg(2, max_depth, "each step costs O(N); the claims "
                                                           "are exercised up to N = 8"),
                    required=True, metavar="N", help=f"depth N, 2..{max_depth} (required)")
    sp.add_argument("--alpha", type=_number, required=True,
                    help="initialization scale alpha > 0, W_j(0) = alpha I (required)")
    sp.add_argument("--eta", type=_number, required=True, help="step size eta > 0 (required)")
    tgt = sp.add_mutually_exclusive_group(required=True)
    tgt.add_argument("--spectrum", type=_numbers, metavar="s1,s2,...",
                     help="eigenvalues of the PSD target, any order (or --target)")
    tgt.add_argument("--target", metavar="FILE",
                     help="symmetric PSD target matrix, .npy, .json or .csv (or --spectrum); "
                          "accepted within --tol")
    sp.add_argument("--rank", type=_int_arg(1), required=True, metavar="r",
                    help="rank r of the low-rank phase, 1..n-1 (required)")
    sp.add_argument("--eps", type=_number, default="0.1",
                    help="learned level: x_i^N >= (1 - eps) t_i, eps in (0, 1)")
    sp.add_argument("--theta", type=_number, default=None,
                    help="threshold of T1 (x_{r+1}^N > theta), >= 0 (default: eps * s_r; keep it "
                         "away from s_{r+1}, where T1 is a tie no precision decides)")
    noise = sp.add_mutually_exclusive_group()
    noise.add_argument("--noise", type=_number, metavar="e",
                       help="perturbation size ||E||_2 >= 0 (default: no perturbation)")
    noise.add_argument("--perturbation", metavar="FILE",
                       help="symmetric perturbation matrix E, .npy, .json or .csv, accepted "
                            "within --tol (or --noise; default: no perturbation)")
    sp.add_argument("--noise-kind", choices=("worst", "random"), default="worst",
                    help="with --noise: worst = the Weyl-extremal E of P4, random = seeded")
    sp.add_argument("--seed", type=_int_arg(0, MAX_SEED), default=0,
                    help="seed of the target's eigenvectors (and of E + 1 for random noise)")
    sp.add_argument("--dps", type=_dps, default=50, help="working precision in decimal digits")
    sp.add_argument("--linalg", choices=("auto", "mpmath", "float64"), default="auto",
                    help="matrices in mpmath at --dps, or in float64 (LAPACK, every eigenvalue "
                         "not known from the inputs enclosed rigorously); auto: mpmath up to "
                         "n = 30, float64 above (a spectrum's eigenvalues are exact in both)")
    sp.add_argument("--tol", type=_tol, default=repr(tol),
                    help="relative tolerance of matrix files: |A_ij - A_ji| <= tol max|A| is "
                         "symmetrized, eigenvalues >= -tol ||A||_2 of a target are clipped to 0 "
                         "(both reported under adjustments)")
    sp.add_argument("--max-seconds", type=_positive_float, default=max_seconds, metavar="S",
                    help="refuse up front a problem whose estimated time exceeds this")
    sp.add_argument("--max-memory", type=_positive_float, default=max_memory, metavar="MB",
                    help="refuse up front a problem whose estimated memory exceeds this")
    sp.add_argument("--json", action="store_true", help="print JSON only")
    sp.add_argument("--no-progress", action="store_true",
                    help="no progress bar on stderr (it is off anyway when stderr is not a "
                         "terminal)")


# ---------------------------------------------------------------------------------------
# progress on stderr


class Progress:
    """A progress bar on stderr (``update(done, total, label)``), and after 2 s without an
    update an elapsed-time line (for work whose total is unknown). Draws nothing when
    disabled (``--no-progress`` or stderr not a terminal)."""

    def __init__(self, label: str, *, enabled: bool):
        import threading

        self.label, self.enabled = label, enabled
        self.start = time.perf_counter()
        self.last_draw = 0.0
        self.drawn = False
        self.state = None  # (done, total, label)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = None
        if enabled:
            self._thread = threading.Thread(target=self._tick, daemon=True)
            self._thread.start()

    def _tick(self):
        while not self._stop.wait(0.5):
            if time.perf_counter() - self.start >= 2 and time.perf_counter() - self.last_draw >= 0.5:
                self._draw()

    def _draw(self):
        with self._lock:
            elapsed = time.perf_counter() - self.start
            if self.state is None:
                line = f"{self.label}: {elapsed:6.1f}s"
            else:
                done, total, label = self.state
                width = 30
                frac = min(max(done / total, 0.0), 1.0) if total else 1.0
                bar = "#" * int(width * frac) + "." * (width - int(width * frac))
                line = f"[{bar}] {100 * frac:5.1f}% {label or self.label} {elapsed:6.1f}s"
            sys.stderr.write("\r" + line)
            sys.stderr.flush()
            self.drawn = True
            self.last_draw = time.perf_counter()

    def update(self, done, total, label=None):
        if not self.enabled:
            return
        self.state = (done, total, label)
        if time.perf_counter() - self.last_draw >= 0.1 or done >= total:
            self._draw()

    def close(self):
        if not self.enabled:
            return
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        with self._lock:
            if self.drawn:
                sys.stderr.write("\n")
                sys.stderr.flush()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


def _show_progress(args) -> bool:
    return not getattr(args, "no_progress", False) and sys.stderr.isatty()


# ---------------------------------------------------------------------------------------
# predict / simulate / figures / list


def _setting(args, *, max_steps=None, full_matrix=False):
    from verify.explore import check_cost, check_scalars, make_setting
    from verify.instances import read_matrix

    # every scalar, and the cost of what was asked, before any file is read
    check_scalars(depth=args.depth, alpha=args.alpha, eta=args.eta, eps=args.eps,
                  theta=args.theta, noise=args.noise, seed=args.seed, dps=args.dps, tol=args.tol)
    caps = dict(max_seconds=args.max_seconds, max_memory_mb=args.max_memory)

    from verify.explore import SMALL_N

    def size_check(n):
        check_cost(n, depth=args.depth, dps=args.dps, max_steps=max_steps,
                   full_matrix=full_matrix, linalg=args.linalg, **caps)

    if args.spectrum is not None:
        size_check(len(args.spectrum))
    target = pert = None
    # float64 data for the float64 representation (.npy and .csv hold floats anyway)
    as_float = {"float64": True, "mpmath": False}.get(args.linalg, SMALL_N)
    if args.target:
        target = read_matrix(args.target, dps=args.dps, size_check=size_check, float64=as_float)
    if args.perturbation:
        pert = read_matrix(args.perturbation, dps=args.dps, size_check=size_check,
                           float64=as_float)
    return make_setting(depth=args.depth, alpha=args.alpha, eta=args.eta, rank=args.rank,
                        eps=args.eps, spectrum=args.spectrum, target=target, theta=args.theta,
                        noise=args.noise, noise_kind=args.noise_kind, perturbation=pert,
                        seed=args.seed, dps=args.dps, tol=args.tol, **caps,
                        target_name=f"--target {args.target}",
                        perturbation_name=f"--perturbation {args.perturbation}",
                        linalg=args.linalg)


def _emit(data: dict, as_json: bool) -> None:
    import json

    if as_json:
        print(json.dumps(data, indent=2))
        return
    for key, value in data.items():
        if key == "hypotheses":
            for h in value:
                word = "UNDECIDED" if h["holds"] is None else "holds" if h["holds"] else "FAILS"
                print(f"  hypothesis {h['name']}: {word}")
        elif key == "precision":
            for what, how in value.items():
                print(f"  precision {what}: {how}")
        elif isinstance(value, list) and len(value) > 12:
            shown = ", ".join(repr(v) for v in value[:10])
            print(f"{key}: [{shown}, ...] ({len(value)} values; --json lists them all)")
        elif key == "adjustments":
            for line in value:
                print(f"  adjusted {line}")
        else:
            print(f"{key}: {value}")


def cmd_predict(args) -> int:
    from verify.explore import predict

    with Progress("predict", enabled=_show_progress(args)):
        out = predict(_setting(args))
    _emit(out, args.json)
    return EXIT_OK


def cmd_simulate(args) -> int:
    from verify.explore import simulate

    with Progress("simulate", enabled=_show_progress(args)) as bar:
        st = _setting(args, max_steps=args.max_steps, full_matrix=args.full_matrix)
        out = simulate(st, max_steps=args.max_steps, full_matrix=args.full_matrix,
                       max_seconds=args.max_seconds, max_memory_mb=args.max_memory,
                       progress=bar.update)
    _emit(out, args.json)
    return EXIT_OK


def _check_out_dir(path: str) -> None:
    """figures --out: a directory that exists or can be created, and is writable."""
    if path == "-":
        raise UsageError("--out needs a directory (the figures are files), not '-'")
    if os.path.exists(path) and not os.path.isdir(path):
        raise UsageError(f"cannot write figures to --out {path}: it exists and is not a directory")
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot create --out {path}: {exc.strerror or exc}") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise UsageError(f"cannot write figures to --out {path}: directory not writable")


def cmd_figures(args) -> int:
    try:
        import verify.figures as figures
    except ImportError as exc:  # matplotlib is the optional extra `plots`
        raise UsageError(f"figures need matplotlib: pip install 'dmf-verify[plots]' ({exc})") from None
    _check_out_dir(args.out)
    with Progress("figures", enabled=_show_progress(args)) as bar:
        try:
            paths = figures.make_all(args.out, dps=args.dps, progress=bar.update)
        except OSError as exc:
            raise UsageError(f"cannot write figures to --out {args.out}: "
                             f"{exc.strerror or exc}") from None
    for path in paths:
        print(path)
    return EXIT_OK


def _need_pyarrow(command: str) -> None:
    try:
        import pyarrow  # noqa: F401
        import pyarrow.parquet  # noqa: F401
    except ImportError as exc:
        raise UsageError(f"{command} needs pyarrow: pip install 'dmf-verify[sweep]' ({exc})") from None


def _sweep_summary_text(spec, out: str, res) -> list[str]:
    s = res.summary
    obs = ", ".join(f"{k} {v}" for k, v in s["observed"].items())
    lines = [f"sweep {spec.name}: {res.total} points, {res.skipped} already in {out}, "
             f"{res.computed} computed in {res.seconds:.1f} s ({res.rate:.2f} points/s, "
             f"{res.engine}), {res.parts} part{'' if res.parts == 1 else 's'} written",
             f"observed: {obs}",
             f"predicted nonempty: {s['predicted_nonempty']} (observed empty among them: "
             f"{s['predicted_nonempty_observed_empty']}); no prediction (a hypothesis fails): "
             f"{s['no_prediction']}"]
    viol = s["violations"]
    lines.append(f"bounds broken: {len(viol)}" if viol else "bounds broken: none")
    for v in viol[:5]:
        lines += [f"  {v['id']}: {v['violation']}", f"    {v['command']}"]
    for e in s["errors"][:3]:
        lines.append(f"  refused {e['id']}: {e['error']}")
    if len(s["errors"]) > 3:
        lines.append(f"  ... {len(s['errors']) - 3} more refused points (column 'error')")
    return lines


def cmd_sweep(args) -> int:
    import json

    from verify import sweep

    try:
        spec = sweep.read_spec(args.spec)
        sweep.check_out_dir(args.out)
    except (sweep.SpecError, sweep.SweepError) as exc:
        raise UsageError(str(exc)) from None
    if args.scheduler is not None and args.jobs is not None:
        raise UsageError("-j sets local worker processes; with --scheduler the cluster's "
                         "workers run the points (give one of them)")
    _need_pyarrow("sweep")
    try:
        if args.dry_run:
            points = sweep.design_points(spec)
            have = sweep.existing_ids(args.out)
            done = sum(p["id"] in have for p in points)
            info = {"sweep": spec.name, "design": spec.design, "points": len(points),
                    "done": done, "to_compute": len(points) - done,
                    "varying": list(spec.varying)}
            if args.json:
                print(json.dumps(info, indent=2))
            else:
                print(f"sweep {spec.name}: {spec.design} design over "
                      f"{', '.join(spec.varying) or 'no parameter'}: {len(points)} points, "
                      f"{done} already in {args.out}, {len(points) - done} to compute")
            return EXIT_OK
        with Progress("sweep", enabled=_show_progress(args)) as bar:
            res = sweep.run_sweep(spec, args.out, jobs=args.jobs, scheduler=args.scheduler,
                                  batch=args.batch, progress=bar.update,
                                  connect_timeout=args.connect_timeout)
    except sweep.SweepError as exc:
        raise UsageError(str(exc)) from None
    if args.json:
        print(json.dumps({"sweep": spec.name, "out": args.out, "points": res.total,
                          "skipped": res.skipped, "computed": res.computed,
                          "parts_written": res.parts, "interrupted": res.interrupted,
                          "engine": res.engine, "workers": res.workers,
                          "seconds": round(res.seconds, 2), **res.summary}, indent=2))
    else:
        print("\n".join(_sweep_summary_text(spec, args.out, res)))
    if res.interrupted:
        print(f"dmf-verify: interrupted: {res.skipped + res.computed} of {res.total} points are in "
              f"{args.out} ({res.computed} computed now); rerun the same command to resume",
              file=sys.stderr)
        return EXIT_INTERRUPTED
    return EXIT_FAIL if res.summary["violations"] else EXIT_OK


def cmd_sweep_plot(args) -> int:
    _need_pyarrow("sweep-plot")
    try:
        from verify import sweep_plot
    except ImportError as exc:  # matplotlib is the optional extra `plots`
        raise UsageError(f"sweep-plot needs matplotlib: pip install 'dmf-verify[plots]' ({exc})") from None
    from verify import sweep

    if not os.path.isdir(args.results):
        raise UsageError(f"no sweep output at {args.results}: not a directory")
    _check_out_dir(args.out)
    try:
        written = sweep_plot.phase_diagrams(args.results, args.out, x=args.x, y=args.y)
    except sweep.SweepError as exc:
        raise UsageError(str(exc)) from None
    for path, line in written:
        print(f"{path}: {line}")
    return EXIT_OK


def claim_list() -> list[dict]:
    """The claims as `dmf-verify list --json` prints them."""
    from bounds import claim_ids, get_claim
    from verify.checks import CHECKS
    from verify.volume import volume_claims

    vol = set(volume_claims())
    out = []
    for cid in claim_ids():
        c = get_claim(cid)
        out.append({"id": cid, "name": c.name, "statement": c.statement,
                    "hypotheses": [{"name": h.name, "description": h.description}
                                   for h in c.hypotheses],
                    "docs": c.docs, "checked": cid in CHECKS, "certified_volume": cid in vol})
    import sympy as sp

    from verify.userclaims import load_plugin_claims

    for c in load_plugin_claims():  # claims of installed packages (dmf_verify.claims)
        out.append({"id": c.id, "name": c.name, "statement": c.statement or sp.sstr(c.relation),
                    "hypotheses": [{"name": sp.sstr(h), "description": ""} for h in c.hypotheses
                                   if h is not sp.true],
                    "docs": c.source, "checked": True, "certified_volume": False,
                    "user_claim": True, "spec": c.spec})
    return out


def cmd_list(args) -> int:
    import json

    claims = claim_list()
    if args.json:
        print(json.dumps(claims, indent=2))
        return EXIT_OK
    rows = [("ID", "name", "docs", "hypotheses")] + [
        (c["id"], c["name"], c["docs"], ", ".join(h["name"] for h in c["hypotheses"]))
        for c in claims if not c.get("user_claim")]
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    for r in rows[:1] + [tuple("-" * w for w in widths) + ("-" * 10,)] + rows[1:]:
        print("  ".join(f"{v:<{w}}" for v, w in zip(r[:3], widths)) + "  " + r[3])
    from verify.userclaims import plugin_claim_listing

    user = plugin_claim_listing()  # claims of installed packages (entry points dmf_verify.claims)
    if user:
        print("\nuser claims (installed packages):")
        print("\n".join(user))
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
    _check_dps_order(args)
    inst = _read_instance(args.instance)
    with Progress(f"check {args.claim_id}", enabled=_show_progress(args)):
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


def _check_dps_order(args) -> None:
    if args.max_dps < args.dps:
        raise UsageError(f"--max-dps {args.max_dps} is below --dps {args.dps}: the escalation "
                         f"goes from --dps up to --max-dps")


def _check_output(path: str | None, flag: str) -> None:
    """A report path: '-' (stdout) or a file that can be written; checked before the run."""
    if path is None or path == "-":
        return
    full = os.path.abspath(path)
    parent = os.path.dirname(full)
    if os.path.isdir(full):
        raise UsageError(f"cannot write {flag} {path}: it is a directory")
    if not os.path.isdir(parent):
        raise UsageError(f"cannot write {flag} {path}: no directory {parent}")
    if os.path.exists(full) and not os.access(full, os.W_OK):
        raise UsageError(f"cannot write {flag} {path}: permission denied")
    if not os.path.exists(full) and not os.access(parent, os.W_OK | os.X_OK):
        raise UsageError(f"cannot write {flag} {path}: directory {parent} is not writable")


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


def _worker_init() -> None:
    """Workers of run's pool ignore SIGINT: the main process handles Ctrl-C (partial report)."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _stop_pool(pool) -> None:
    """After an interrupt: cancel what has not started and end the pool's own workers."""
    procs = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for proc in procs:
        if proc.is_alive():
            proc.terminate()
    for proc in procs:
        proc.join(timeout=5)


def _finished(future):
    """The result of a future that completed normally, else None."""
    if future.done() and not future.cancelled() and future.exception() is None:
        return future.result()
    return None


def cmd_run(args) -> int:
    import dataclasses
    from concurrent.futures import ProcessPoolExecutor

    from verify.checks import CHECKS, FAIL, UNDECIDED
    from verify.report import render_certified_share, render_markdown, render_table, to_json, to_junit
    from verify.sampling import PROFILES
    from verify.volume import CHUNK, VOLUME_PROFILES, summarize_volume, volume_claims
    from verify.witness import LOOSE

    from verify.userclaims import plugin_claim_ids, plugin_claim_rows

    ids = list(CHECKS)
    user_ids = plugin_claim_ids()  # claims registered by installed packages (dmf_verify.claims)
    if args.claim:
        unknown = [c for c in args.claim if c not in CHECKS and c not in user_ids]
        if unknown:
            raise UsageError(f"unknown claim ID {', '.join(unknown)}; known: {', '.join(ids + list(user_ids))}")
        ids = [c for c in ids if c in args.claim]
    _check_dps_order(args)
    if [args.json, args.markdown, args.junit].count("-") > 1:
        raise UsageError("only one of --json, --markdown and --junit can be '-' (stdout)")
    _check_output(args.json, "--json")
    _check_output(args.markdown, "--markdown")
    _check_output(args.junit, "--junit")
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

    vparts: dict[int, list] = {}  # volume task index -> its items
    claim_parts: dict[str, tuple] = {}  # claim ID -> (row, cost)
    interrupted = False
    try:
        if jobs > 1 and total:  # every claim and volume chunk is a task; results are put back in order
            pool = ProcessPoolExecutor(max_workers=min(jobs, total), initializer=_worker_init)
            rows_f, vol_f = {}, []
            try:
                # submitted heaviest first (the perturbed claims' rows, then the volume chunks)
                # so that no long task starts last; results are read back in claim order
                rows_f = {cid: pool.submit(_claim_row, cid, opts) for cid in reversed(ids)}
                vol_f = [pool.submit(_volume_task, *t) for t in reversed(vtasks)][::-1]
                for i, f in enumerate(vol_f):
                    vparts[i] = f.result()
                    tick("")
                for cid in ids:
                    claim_parts[cid] = rows_f[cid].result()
                    tick(cid)
            except KeyboardInterrupt:
                interrupted = True
                for i, f in enumerate(vol_f):  # keep every task that finished
                    if i not in vparts and _finished(f) is not None:
                        vparts[i] = f.result()
                for cid, f in rows_f.items():
                    if cid not in claim_parts and _finished(f) is not None:
                        claim_parts[cid] = f.result()
            finally:
                if interrupted:
                    _stop_pool(pool)
                else:
                    pool.shutdown()
        else:
            for i, t in enumerate(vtasks):
                vparts[i] = _volume_task(*t)
                tick(t[0])
            for cid in ids:
                claim_parts[cid] = _claim_row(cid, opts)
                tick(cid)
    except KeyboardInterrupt:
        interrupted = True
    if show and interrupted:
        sys.stderr.write("\n")
    items: dict[str, list] = {}
    complete_volume = {cid for cid in ids if cid in volume_claims()}
    for i, t in enumerate(vtasks):
        if i in vparts:
            items.setdefault(t[0], []).extend(vparts[i])
        else:
            complete_volume.discard(t[0])
    done_ids = [cid for cid in ids if cid in claim_parts]
    rows, cost = [], {"statements": 0.0, "r1_symbolic": 0.0}
    for cid in done_ids:
        row, c = claim_parts[cid]
        for k in cost:
            cost[k] += c[k]
        if cid in items and cid in complete_volume:
            row = dataclasses.replace(row, volume=summarize_volume(cid, items[cid], seed=args.seed).as_dict())
        rows.append(row)
    if user_ids and not interrupted:
        try:
            rows += plugin_claim_rows(profile=args.profile, seed=args.seed, dps=args.dps,
                                      max_dps=args.max_dps, only=args.claim,
                                      shrink=not args.no_shrink)
        except KeyboardInterrupt:
            interrupted = True
    elapsed = time.perf_counter() - start
    # the report carries no wall times, so the same seed gives the same report byte for byte
    meta = {"profile": args.profile, "seed": args.seed, "dps": args.dps,
            "max_dps": args.max_dps, "volume_per_claim": vcount,
            "version": __version__, "mpmath_backend": mpmath.libmp.BACKEND}
    partial_note = ""
    if interrupted:
        missing = [cid for cid in ids if cid not in claim_parts]
        no_volume = [cid for cid in done_ids if cid in volume_claims() and vcount
                     and cid not in complete_volume]
        meta.update({"partial": True, "interrupted": "SIGINT", "claims_done": done_ids,
                     "claims_not_done": missing, "volume_not_done": no_volume})
        partial_note = (f"PARTIAL report: interrupted after {len(done_ids)} of {len(ids)} claims"
                        + (f"; not checked: {', '.join(missing)}" if missing else "")
                        + (f"; certified volume not finished for: {', '.join(no_volume)}"
                           if no_volume else ""))
    if args.timings:
        meta["timing"] = {"seconds": round(elapsed, 2), "jobs": jobs,
                          "statement_audit_seconds": round(cost["statements"], 2),
                          "r1_symbolic_seconds": round(cost["r1_symbolic"], 2)}
    checks = sum(r.instances for r in rows)
    certified = sum(r.volume["count"] for r in rows if r.volume)
    header = (f"dmf-verify run: profile {args.profile}, seed {args.seed}, dps {args.dps}"
              + (f"\n\n**{partial_note}**" if partial_note else ""))
    def junit():
        return to_junit(rows, meta=meta, seconds=elapsed if args.timings else None)

    # stdout first (the table, or the one report asked for on stdout), then the files: a
    # file that cannot be written after all does not lose the table
    if args.json == "-":
        print(to_json(rows, meta=meta))
    elif args.markdown == "-":
        print(render_markdown(rows, header=header))
    elif args.junit == "-":
        print(junit(), end="")
    else:
        if rows:
            print(render_table(rows))
        print(f"{checks} checks and {certified} certified-volume instances in {elapsed:.1f} s "
              f"(profile {args.profile}, seed {args.seed}, dps {args.dps}, {jobs} jobs)")
        if rows:
            print(render_certified_share(rows))
        if partial_note:
            print(partial_note)
    if args.json and args.json != "-":
        _write(args.json, to_json(rows, meta=meta))
    if args.markdown and args.markdown != "-":
        _write(args.markdown, render_markdown(rows, header=header))
    if args.junit and args.junit != "-":
        _write(args.junit, junit())
    if interrupted:
        written = [p for p in (args.json, args.markdown, args.junit) if p and p != "-"]
        print("dmf-verify: interrupted" + (f": partial report written to {', '.join(written)}"
                                            if written else ""), file=sys.stderr)
        return EXIT_INTERRUPTED
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


def cmd_explore(args) -> int:
    import json

    from verify.beyond import study_module
    from verify.beyond.common import render_table, validate_result

    if getattr(args, "study", None) is None:
        raise UsageError("explore needs a study: dmf-verify explore --help lists them")
    mod = study_module(args.study)
    if args.figures is not None:
        try:
            import matplotlib  # noqa: F401
        except ImportError as exc:
            raise UsageError(f"--figures needs matplotlib: pip install 'dmf-verify[plots]' "
                             f"({exc})") from None
        _check_out_dir(args.figures)
    params = {k: v for k, v in vars(args).items()
              if k not in ("command", "study", "json", "figures", "no_progress")}
    with Progress(f"explore {args.study}", enabled=_show_progress(args)) as bar:
        result = validate_result(mod.run(params, progress=bar.update))
        paths = []
        if args.figures is not None:
            try:
                paths = mod.figures(result, args.figures)
            except OSError as exc:
                raise UsageError(f"cannot write figures to {args.figures}: "
                                 f"{exc.strerror or exc}") from None
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(render_table(result))
    for path in paths:
        print(path, file=sys.stderr if args.json else sys.stdout)
    return EXIT_OK


COMMANDS = {"run": cmd_run, "check": cmd_check, "list": cmd_list, "predict": cmd_predict,
            "simulate": cmd_simulate, "figures": cmd_figures, "sweep": cmd_sweep,
            "sweep-plot": cmd_sweep_plot, "explore": cmd_explore}


def _one_line(exc) -> str:
    return " ".join(str(exc).split())


def main(argv=None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.command is None:
            raise UsageError("a command is required: " + ", ".join(COMMANDS))
        return COMMANDS[args.command](args)
    except UsageError as exc:
        print(f"dmf-verify: error: {_one_line(exc)}", file=sys.stderr)
        return EXIT_USAGE
    except ValueError as exc:  # bad input found below the command line
        print(f"dmf-verify: error: {_one_line(exc)}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("dmf-verify: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # e.g. `dmf-verify run --json - | head`: the reader left
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except Exception as exc:  # a bug: one line (DMF_VERIFY_DEBUG=1 shows the traceback)
        if os.environ.get("DMF_VERIFY_DEBUG"):
            raise
        print(f"dmf-verify: internal error: {type(exc).__name__}: {_one_line(exc)} (a bug: "
              f"please report it with the command; DMF_VERIFY_DEBUG=1 shows the traceback)",
              file=sys.stderr)
        return EXIT_INTERNAL
