"""What the studies outside the reduction share (``init``, ``nonsymmetric``, ``adam``).

A problem is the paper's setting as :func:`verify.explore.make_setting` builds it (a
spectrum padded with zeros to n, seeded random eigenvectors, optionally a seeded random
symmetric perturbation), rounded to float64 for :func:`verify.beyond.matrixgd.run_matrix`.
A run is read off as the project reads the reduced dynamics (:func:`observe`): T0, T1 and
``nonempty`` with :func:`verify.explore.simulate`'s conventions (``"> K"`` / ``">= K"`` when
not reached within K steps; None after a divergence). Next to it, what
:func:`verify.explore.predict` says about the nearest setting its claims cover
(:func:`predicted`) and whether the observation lies within those bounds
(:func:`bounds_hold`).

>>> bounds_hold({"T0": 102, "T1": 909}, {"T0_upper": 144, "T1_lower": 888})
True
>>> bounds_hold({"T0": 150, "T1": 909}, {"T0_upper": 144, "T1_lower": 888})
False
>>> bounds_hold({"T0": 102, "T1": ">= 3000"}, {"T0_upper": 144, "T1_lower": None})
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["PROBLEM_DEFAULTS", "RANK_REL", "add_problem_arguments", "grid_arg", "check_grid",
           "problem_params", "Problem", "build_problem", "observe", "predicted", "bounds_hold",
           "series", "interval_figure", "first_where", "fmt_time"]

#: the README example (depth 3, alpha 0.05, eta 0.2, spectrum 1, 0.1, 0.05, r = 1, eps 0.1,
#: theta 0.05) padded with zeros to n = 10: predict gives T0 <= 144, T1 >= 888; the reduced
#: dynamics T0 = 102, T1 = 909
PROBLEM_DEFAULTS = {"n": 10, "depth": 3, "alpha": 0.05, "eta": 0.2,
                    "spectrum": [1.0, 0.1, 0.05], "rank": 1, "eps": 0.1, "theta": 0.05,
                    "steps": 3000}
#: effective rank: the number of singular values >= RANK_REL * sigma_1
RANK_REL = 1e-3
#: points per trajectory kept in a result for its figure
SERIES_POINTS = 160


def grid_arg(text: str) -> list:
    """argparse type: comma-separated finite numbers (at least one)."""
    import argparse

    from verify.cli import _float_arg

    parts = [p.strip() for p in str(text).split(",")]
    if not parts or any(not p for p in parts):
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}")
    return [_float_arg(p) for p in parts]


def check_grid(values, name, *, lo=None, lo_open=False):
    """A grid as a list of floats: nonempty, finite, each > lo (``lo_open``) or >= lo."""
    if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
        raise ValueError(f"{name} must be a list of numbers, got {values!r}")
    out = []
    for x in values:
        if isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x):
            raise ValueError(f"{name}: every value must be a finite number, got {x!r}")
        if lo is not None and (x <= lo if lo_open else x < lo):
            raise ValueError(f"{name}: every value must be {'>' if lo_open else '>='} {lo}, "
                             f"got {x!r}")
        out.append(float(x))
    if not out:
        raise ValueError(f"{name} is empty: give at least one value")
    return out


def add_problem_arguments(parser, *, steps: int = 3000) -> None:
    """The flags of the paper's problem (defaults: :data:`PROBLEM_DEFAULTS`)."""
    from verify.cli import _float_arg, _int_arg, _positive_float

    d = PROBLEM_DEFAULTS
    parser.add_argument("--n", type=_int_arg(2, 40, "the full-matrix runs cost O(n^3) a step"),
                        default=d["n"], help="size n of the n x n target (default %(default)s)")
    parser.add_argument("--depth", type=_int_arg(2, 10), default=d["depth"], metavar="N",
                        help="depth N (default %(default)s)")
    parser.add_argument("--alpha", type=_positive_float, default=d["alpha"],
                        help="initialization scale alpha > 0 (default %(default)s)")
    parser.add_argument("--eta", type=_positive_float, default=d["eta"],
                        help="gradient descent step eta > 0 (default %(default)s)")
    parser.add_argument("--spectrum", type=grid_arg, default=list(d["spectrum"]),
                        metavar="s1,s2,...",
                        help="eigenvalues of the PSD target W, padded with zeros to n "
                             "(default 1,0.1,0.05)")
    parser.add_argument("--rank", type=_int_arg(1), default=d["rank"], metavar="r",
                        help="rank r of the low-rank phase, 1..n-1 (default %(default)s)")
    parser.add_argument("--eps", type=_float_arg, default=d["eps"],
                        help="learned level (1 - eps) of the top r, eps in (0, 1) "
                             "(default %(default)s)")
    parser.add_argument("--theta", type=_float_arg, default=d["theta"],
                        help="threshold of T1 (sigma_{r+1} > theta), >= 0 (default %(default)s)")
    parser.add_argument("--steps", type=_int_arg(1, 100_000), default=steps, metavar="K",
                        help="steps of every run (default %(default)s)")


def _num(params, key, *, lo=None, lo_open=True, hi=None, hi_open=True):
    from verify.beyond.matrixgd import _check_real

    return _check_real(params.get(key, PROBLEM_DEFAULTS[key]), key, lo=lo, lo_open=lo_open,
                       hi=hi, hi_open=hi_open)


def problem_params(params: dict) -> dict:
    """The problem's numbers from ``params`` (defaults filled in; ValueError naming a bad one)."""
    from verify.beyond.matrixgd import _check_int

    p = {"n": _check_int(params.get("n", PROBLEM_DEFAULTS["n"]), "n", 2),
         "depth": _check_int(params.get("depth", PROBLEM_DEFAULTS["depth"]), "depth", 2),
         "alpha": _num(params, "alpha", lo=0), "eta": _num(params, "eta", lo=0),
         "rank": _check_int(params.get("rank", PROBLEM_DEFAULTS["rank"]), "rank", 1),
         "eps": _num(params, "eps", lo=0, hi=1),
         "theta": _num(params, "theta", lo=0, lo_open=False),
         "steps": _check_int(params.get("steps", PROBLEM_DEFAULTS["steps"]), "steps", 1)}
    spec = check_grid(params.get("spectrum", PROBLEM_DEFAULTS["spectrum"]), "spectrum", lo=0)
    if len(spec) > p["n"]:
        raise ValueError(f"the spectrum has {len(spec)} values, more than n = {p['n']}")
    if not p["rank"] < p["n"]:
        raise ValueError(f"rank r must be in 1..{p['n'] - 1} for n = {p['n']}, got {p['rank']}")
    p["spectrum"] = sorted(spec, reverse=True) + [0.0] * (p["n"] - len(spec))
    if not p["spectrum"][0] > 0:
        raise ValueError("the spectrum needs a positive value")
    return p


@dataclass(frozen=True)
class Problem:
    """``p``: the numbers (:func:`problem_params`); ``st``: the paper's setting
    (:class:`verify.explore.Setting`); ``W``, ``Y``: its target and observed matrix in
    float64 (exactly symmetric)."""

    p: dict
    st: object
    W: object
    Y: object


def _f64_sym(M):
    import numpy as np

    A = np.array([[float(M[i, j]) for j in range(M.cols)] for i in range(M.rows)])
    return (A + A.T) / 2


def build_problem(p: dict, *, noise: float | None = None, seed: int = 0, target=None,
                  perturbation=None) -> Problem:
    """The paper's setting for the numbers ``p``: a seeded PSD target with ``p["spectrum"]``
    (or the symmetric PSD ``target`` given), no perturbation, a seeded random symmetric one of
    spectral norm ``noise`` (``noise_kind="random"``), or the symmetric ``perturbation``."""
    from verify.explore import make_setting

    kw = dict(depth=p["depth"], alpha=p["alpha"], eta=p["eta"], rank=p["rank"], eps=p["eps"],
              theta=p["theta"], seed=seed, dps=30)
    if target is None:
        kw["spectrum"] = p["spectrum"]
    else:
        kw["target"] = target
    if noise:
        kw.update(noise=noise, noise_kind="random")
    elif perturbation is not None:
        kw["perturbation"] = perturbation
    st = make_setting(**kw)
    return Problem(p=p, st=st, W=_f64_sym(st.W), Y=_f64_sym(st.Y))


def fmt_time(x):
    return x if x is None or isinstance(x, str) else int(x)


def observe(run, levels, p: dict) -> dict:
    """T0, T1, nonempty of a run (:func:`verify.beyond.matrixgd.low_rank_interval` against
    ``levels``) in :func:`verify.explore.simulate`'s conventions, sigma_1(P(0)), the
    effective rank at T0 and at the end, the final loss, status and divergence step."""
    from verify.beyond.matrixgd import effective_ranks, low_rank_interval

    iv = low_rank_interval(run, levels, rank=p["rank"], eps=p["eps"], theta=p["theta"])
    K = run.final_step
    ok = run.status == "ok"
    T0 = iv["T0"] if iv["T0"] is not None else (f"> {K}" if ok and iv["T0_censored"] else None)
    T1 = iv["T1"] if iv["T1"] is not None else (f">= {K}" if ok else None)
    if not ok:
        T0 = T1 = None
    if isinstance(T0, int):
        nonempty = isinstance(T1, str) or T0 <= T1
    elif isinstance(T0, str):
        nonempty = False if isinstance(T1, int) else None
    else:
        nonempty = None if not ok else False
    ranks = effective_ranks(run, rel=RANK_REL)
    rank_T0 = ranks[run.steps.index(T0)] if isinstance(T0, int) else None
    return {"T0": T0, "T1": T1, "nonempty": nonempty, "rank_at_T0": rank_T0,
            "P0_sigma1": float(run.singular_values[0][0]) if run.singular_values else None,
            "rank_final": ranks[-1] if ranks else None,
            "loss_final": float(run.loss[-1]) if run.loss else None,
            "status": run.status, "diverged_step": run.diverged_step}


def predicted(st) -> dict:
    """:func:`verify.explore.predict`'s T0_upper, T1_lower (None: infinite or hypotheses
    fail, see T1_lower_infinite) and nonempty_predicted for the setting ``st``."""
    from verify.explore import predict

    pr = predict(st)
    return {"T0_upper": pr["T0_upper"], "T1_lower": pr["T1_lower"],
            "T1_lower_infinite": bool(pr.get("T1_lower_infinite", False)),
            "nonempty_predicted": pr["nonempty_predicted"]}


def bounds_hold(obs: dict, pred: dict):
    """Do the observed T0, T1 satisfy T0 <= T0_upper and T1 >= T1_lower? True, False, or
    None when the run does not decide it (censored against a bound beyond it, no bound,
    a divergence)."""
    T0, T1, ub, lb = obs["T0"], obs["T1"], pred.get("T0_upper"), pred.get("T1_lower")
    if ub is None or T0 is None or T1 is None:
        return None
    if isinstance(T0, int):
        ok0 = T0 <= ub
    else:  # "> K": T0 > K
        ok0 = False if int(T0.split()[-1]) >= ub else None
    if lb is None:  # T1 >= infinity: only a censored T1 is consistent, and it does not decide
        ok1 = False if isinstance(T1, int) else None
    elif isinstance(T1, int):
        ok1 = T1 >= lb
    else:  # ">= K"
        ok1 = True if int(T1.split()[-1]) >= lb else None
    if ok0 is False or ok1 is False:
        return False
    return None if ok0 is None or ok1 is None else True


def first_where(rows, key, pred):
    """The first row (in order) whose ``key`` satisfies ``pred``, or None."""
    for r in rows:
        if pred(r):
            return r
    return None


def series(run, label: str, rank: int) -> dict:
    """A trajectory for the figure: at most :data:`SERIES_POINTS` recorded steps (half evenly
    spaced, half geometrically), sigma_1 .. sigma_{r+1} at each (6 significant digits: the
    figure needs no more), and the effective rank."""
    from verify.beyond.common import effective_rank

    m = len(run.steps)
    half = SERIES_POINTS // 2
    if m > SERIES_POINTS:  # half evenly spaced, half geometrically (for a log step axis)
        idx = sorted({round(j * (m - 1) / (half - 1)) for j in range(half)}
                     | {round(m ** (j / (half - 1))) - 1 for j in range(half)})
    else:
        idx = list(range(m))
    return {"label": label, "steps": [run.steps[i] for i in idx],
            "sigma": [[float(f"{float(s):.6g}") for s in run.singular_values[i][:rank + 1]]
                      for i in idx],
            "rank": [effective_rank(run.singular_values[i], rel=RANK_REL) for i in idx]}


_COLORS = ["tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown",
           "tab:pink", "tab:gray", "tab:olive", "tab:cyan"]
_LINES = ["-", "--", "-.", ":", (0, (5, 1, 1, 1)), (0, (1, 1)), (0, (8, 2))]


def _style(j):
    """Colour and line style of row j: 10 colours x 7 styles, distinct for 70 rows."""
    return _COLORS[j % len(_COLORS)], _LINES[j % len(_LINES)]


def interval_figure(result: dict, out_dir: str, stem: str, *, xkey: str, xlabel: str,
                    title: str, xlabels=None, logx: bool = False) -> list:
    """The figure of one study: left, sigma_1 (thin) and sigma_{r+1} (thick) of P against the
    step for every row, one colour and line style per row, with theta and the learned level;
    right, the observed T0 and T1 per row with the paper's bounds T0 <= UB0, T1 >= LB1 of
    the nearest covered setting; rows whose interval is empty are shaded and marked.
    ``xlabels``: the tick labels of the rows (default ``row[xkey]``); ``logx``: a log step
    axis on the left (k + 1 drawn)."""
    import os

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from verify.beyond.common import save_figure

    os.makedirs(out_dir, exist_ok=True)
    rows, ser = result["rows"], result["series"]
    p = result["params"]
    r = p["rank"]
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(11.5, 4.6))
    for j, s in enumerate(ser):
        color, ls = _style(j)
        ks = [k + 1 for k in s["steps"]] if logx else s["steps"]
        ax.plot(ks, [v[0] for v in s["sigma"]], color=color, ls=ls, lw=1.0)
        ax.plot(ks, [v[r] for v in s["sigma"]], color=color, ls=ls, lw=2.2, label=s["label"])
    ax.axhline(p["theta"], color="black", lw=0.8, ls=":")
    ax.text(0.01, p["theta"], "theta", va="bottom", fontsize=8,
            transform=ax.get_yaxis_transform())
    ax.set_yscale("log")
    if logx:
        ax.set_xscale("log")
    ax.set_xlabel("step k + 1" if logx else "step k")
    ax.set_ylabel(f"sigma_1 (thin), sigma_{r + 1} (thick) of P(k)")
    ax.legend(fontsize=7, loc="lower right", title=xlabel, title_fontsize=7)
    xs = list(range(len(rows)))

    def num(v):
        return v if isinstance(v, int) else None

    def capped(v):  # a censored time drawn at its bound K, a time < 1 at 1 (log axis)
        v = int(v.split()[-1]) if isinstance(v, str) else v
        return None if v is None else max(v, 1)

    bx.plot(xs, [capped(rw["T0"]) for rw in rows], "o-", color="tab:blue", label="observed T0")
    bx.plot(xs, [capped(rw["T1"]) for rw in rows], "s-", color="tab:red", label="observed T1")
    for i, rw in enumerate(rows):
        for key in ("T0", "T1"):
            v = rw[key]
            if isinstance(v, str) or (isinstance(v, int) and v < 1):
                bx.annotate(f"{key} {v}" if isinstance(v, str) else f"{key} = {v}",
                            (i, capped(v)), xytext=(0, 7), textcoords="offset points",
                            fontsize=6, ha="center", va="bottom")
    bx.plot(xs, [num(rw.get("T0_upper")) for rw in rows], "v--", color="tab:blue", mfc="none",
            label="paper: T0 <= UB0 (nearest covered)")
    bx.plot(xs, [num(rw.get("T1_lower")) for rw in rows], "^--", color="tab:red", mfc="none",
            label="paper: T1 >= LB1 (nearest covered)")
    empty = [i for i, rw in enumerate(rows) if rw["nonempty"] is False]
    for i in empty:
        bx.axvspan(i - 0.4, i + 0.4, color="0.85", zorder=0)
    for i in empty:
        bx.text(i, 0.72, "interval empty", fontsize=7, va="center", ha="center", rotation=90,
                transform=bx.get_xaxis_transform(), color="0.3")
    bx.set_xticks(xs)
    bx.set_xticklabels(xlabels or [str(rw[xkey]) for rw in rows], rotation=30, fontsize=7)
    bx.set_xlabel(xlabel)
    bx.set_ylabel("step")
    bx.set_yscale("log")
    bx.legend(fontsize=7, loc="best")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    paths = save_figure(fig, out_dir, stem)
    plt.close(fig)
    return paths


def reduced_control(pb: Problem, run) -> dict:
    """A control run (W_j(0) = alpha I, GD at eta, symmetric Y) against the reduced dynamics
    that claim R1 says it equals: :func:`verify.explore.simulate`'s T0 and T1 (at dps 30) and
    ``R1_deviation`` = max over the recorded steps of max_i |sigma_i(P(k)) - x_(i)(k)^N| /
    max(1, sigma_1), x(k) the scalar recursion x <- x + eta x^(N-1) (t - x^N) in float64 along
    Y's eigenvalues t (sorted as the singular values). ``agrees``: same T0 and T1 and the
    deviation within :func:`verify.beyond.matrixgd.rounding_tolerance`."""
    import numpy as np

    from verify.beyond.matrixgd import rounding_tolerance
    from verify.explore import simulate

    p = pb.p
    sim = simulate(pb.st, max_steps=p["steps"], samples=1)  # T0, T1 only
    N, eta = p["depth"], p["eta"]
    t = np.array([float(x) for x in pb.st.t])
    x = np.full(t.shape, p["alpha"])
    recorded = dict(zip(run.steps, run.singular_values))
    dev = 0.0
    for k in range(run.final_step + 1):
        if k in recorded:
            sv = np.array([float(s) for s in recorded[k]])
            pk = np.sort(x**N)[::-1][:len(sv)]
            dev = max(dev, float(np.max(np.abs(sv - pk))) / max(1.0, float(sv[0])))
        x = x + eta * x ** (N - 1) * (t - x**N)
    tol = rounding_tolerance(run.final_step, p["n"], N)
    obs = observe(run, reference_levels_of(pb), p)
    agrees = sim["T0"] == obs["T0"] and sim["T1"] == obs["T1"] and dev <= tol
    return {"reduced_T0": sim["T0"], "reduced_T1": sim["T1"], "R1_deviation": dev,
            "R1_tolerance": tol, "agrees": agrees}


def reference_levels_of(pb: Problem):
    """The levels of a problem's symmetric Y (:func:`verify.beyond.matrixgd.reference_levels`)."""
    from verify.beyond.matrixgd import reference_levels

    return reference_levels(pb.Y)[0]


def check_seed(seed) -> int:
    """A seed: an integer in 0..2^64 - 1 (ValueError otherwise)."""
    from verify.beyond.matrixgd import _check_int

    s = _check_int(seed, "seed", 0)
    if s >= 2**64:
        raise ValueError(f"seed must be < 2^64, got {seed!r}")
    return s


def result(study, title, seed, params, rows, finding, notes, columns, series_list) -> dict:
    """:func:`verify.beyond.common.study_result` plus ``series`` (the trajectories the
    figure draws, one per row)."""
    from verify.beyond.common import _jsonable, study_result

    out = study_result(study, title=title, seed=seed, params=params, columns=columns,
                       rows=rows, finding=finding, notes=notes)
    out["series"] = _jsonable(series_list)
    return out
