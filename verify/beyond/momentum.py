"""Momentum, exactly: how heavy ball and Nesterov move the low-rank phase [T0, T1].

From ``W_j(0) = alpha I`` with zero velocity, heavy ball and Nesterov keep the factors equal
and in the eigenbasis of a symmetric Y (bounds/momentum.py derives it; tests/test_momentum.py
checks it against the full N-factor iteration to 1e-40), so each eigenvalue follows a
two-term scalar recursion and the whole phase is computed exactly: T0, T1, whether a learned
eigenvalue falls back below its level inside the interval (``dips``), and the overshoot
``max x^N / t`` of the learned eigenvalues, for every beta of a grid
(verify/momentum.py: high precision with escalation; float64 for the dense curve of the
figure). At ``beta = 0`` both methods are gradient descent, and the paper's bounds
``T0_upper``/``T1_lower`` (``dmf-verify predict``) are shown for reference.

Labels: a ``beta = 0`` row is labelled ``L1`` when L1's hypotheses hold for the setting (its
checked statement is ``T0 <= T0_upper`` and ``T1 >= T1_lower`` for exactly this gradient
descent). A heavy-ball row with ``beta > 0`` is labelled ``M1`` when rank = 1 and claim M1's
hypotheses hold for the top eigenvalue ``t_1`` at the level ``d = (1 - eps) t_1`` (M1's
checked statement is then ``T0 <= T0 at beta = 0``, the row's ``T0_le_gd``; its T1, dips
and overshoot are measured). Every other row (Nesterov, rank >= 2, M1's hypotheses false)
is EMPIRICAL.

>>> r = run({"betas": ["0", "0.5"], "method": "heavyball", "max_steps": 1000,
...          "curve_points": 0})
>>> [(row["beta"], row["T0"], row["T1"], row["label"]) for row in r["rows"]]
[(0.0, 102, 909, 'L1'), (0.5, 57, 459, 'M1')]
"""

from __future__ import annotations

import argparse

from verify.beyond.common import save_figure, study_result

TITLE = "heavy ball and Nesterov from alpha I: T0, T1 and the overshoot against beta (exact reduction)"

METHOD_CHOICES = ("heavyball", "nesterov", "both")
DEFAULTS = {
    "method": "both",
    "betas": [f"0.{i}" if i else "0" for i in range(10)],
    "depth": 3,
    "alpha": "0.05",
    "eta": "0.2",
    "spectrum": ["1", "0.1", "0.05"],
    "rank": 1,
    "eps": "0.1",
    "theta": "0.05",
    "dps": 50,
    "max_steps": 2000,
    "curve_points": 91,
}
MAX_STEPS = 200_000
COLUMNS = ["method", "beta", "T0", "T1", "length", "nonempty", "dips", "overshoot",
           "T0_le_gd", "T1_le_gd", "T0_upper", "T1_lower", "status", "dps"]


def _betas_arg(text: str) -> list[str]:
    from verify.cli import _numbers

    vals = _numbers(text)
    for v in vals:
        if not 0 <= float(v) < 1:
            raise argparse.ArgumentTypeError(f"every beta must lie in [0, 1), got {v}")
    return vals


def add_arguments(parser) -> None:
    from verify.cli import _int_arg, _number, _numbers

    d = DEFAULTS
    parser.add_argument("--method", choices=METHOD_CHOICES, default=d["method"],
                        help=f"heavy ball, Nesterov (gradient at the look-ahead point) or both "
                             f"(default {d['method']})")
    parser.add_argument("--betas", type=_betas_arg, default=d["betas"], metavar="b1,b2,...",
                        help="momentum coefficients, each in [0, 1) (default "
                             + ",".join(d["betas"]) + ")")
    parser.add_argument("--depth", type=_int_arg(2, 1000), default=d["depth"], metavar="N",
                        help=f"depth N >= 2 (default {d['depth']})")
    parser.add_argument("--alpha", type=_number, default=d["alpha"],
                        help=f"initialization scale, W_j(0) = alpha I (default {d['alpha']})")
    parser.add_argument("--eta", type=_number, default=d["eta"],
                        help=f"step size (default {d['eta']})")
    parser.add_argument("--spectrum", type=_numbers, default=d["spectrum"], metavar="s1,s2,...",
                        help="eigenvalues of the PSD target, any order (default "
                             + ",".join(d["spectrum"]) + ")")
    parser.add_argument("--rank", type=_int_arg(1), default=d["rank"], metavar="r",
                        help=f"rank r of the low-rank phase, 1..n-1 (default {d['rank']})")
    parser.add_argument("--eps", type=_number, default=d["eps"],
                        help=f"learned means x_i^N >= (1-eps) s_i, eps in (0, 1) "
                             f"(default {d['eps']})")
    parser.add_argument("--theta", type=_number, default=d["theta"],
                        help=f"T1 ends when x_(r+1)^N > theta (default {d['theta']})")
    parser.add_argument("--dps", type=_int_arg(15, 125), default=d["dps"],
                        help=f"decimal digits of the high-precision engine; ambiguous "
                             f"comparisons are rerun at up to 2 x dps (default {d['dps']})")
    parser.add_argument("--max-steps", type=_int_arg(1, MAX_STEPS), default=d["max_steps"],
                        help=f"steps simulated; an event beyond them is censored, the "
                             f"overshoot is the maximum over them (default {d['max_steps']})")
    parser.add_argument("--curve-points", type=_int_arg(0, 1000), default=d["curve_points"],
                        help=f"betas of the figure's dense float64 curve on [0, max beta] "
                             f"(0: none; default {d['curve_points']})")


def _params(params: dict) -> dict:
    """The study's inputs with defaults filled in (a new dict; ``params`` is not modified)."""
    p = dict(DEFAULTS)
    p["seed"] = 0
    for k, v in params.items():
        if k not in p:
            raise ValueError(f"unknown parameter {k!r} of the momentum study; the parameters "
                             f"are: {', '.join(sorted(p))}")
        p[k] = v
    if p["method"] not in METHOD_CHOICES:
        raise ValueError(f"method must be one of {', '.join(METHOD_CHOICES)}, got {p['method']!r}")
    for k in ("betas", "spectrum"):
        if isinstance(p[k], (str, bytes)) or not hasattr(p[k], "__iter__"):
            raise ValueError(f"{k} must be a sequence of numbers, got {p[k]!r}")
        p[k] = list(p[k])
        if not p[k]:
            raise ValueError(f"{k} must not be empty")
    if len(set(map(str, p["betas"]))) != len(p["betas"]):
        raise ValueError("betas must not repeat")
    for k, lo, hi in (("max_steps", 1, MAX_STEPS), ("curve_points", 0, 1000), ("dps", 15, 125)):
        v = p[k]
        if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
            raise ValueError(f"{k} must be an integer in {lo}..{hi}, got {v!r}")
    return p


def _methods(p):
    return ["heavyball", "nesterov"] if p["method"] == "both" else [p["method"]]


def _status(r) -> str:
    if not r.decided:
        return "undecided"
    if r.diverged:
        return "diverged"
    if r.T0 is None or r.T1 is None:
        return "censored"
    return "ok"


def _finding(rows, methods) -> str:
    """One sentence read off the rows (first and last beta of each method)."""
    parts = []
    for m in methods:
        rs = [r for r in rows if r["method"] == m]
        a, b = rs[0], rs[-1]
        if None in (a["T0"], a["T1"], b["T0"], b["T1"]):
            parts.append(f"{m}: some times censored or undecided (see the rows)")
            continue
        kept = all(r["nonempty"] for r in rs)
        dips = [r["beta"] for r in rs if r["dips"]]
        parts.append(
            f"{m} moves T0 {a['T0']} -> {b['T0']} and T1 {a['T1']} -> {b['T1']} from beta "
            f"{a['beta']:g} to {b['beta']:g} (interval length {a['length']} -> {b['length']}, "
            f"{'nonempty at every beta' if kept else 'empty at some beta'}) and overshoots "
            f"the learned eigenvalue by up to {100 * (max(r['overshoot'] for r in rs) - 1):.1f}%"
            + (f", falling back below its level inside the interval from beta {min(dips):g} on"
               if dips else ", never falling back below its level inside the interval"))
    return "; ".join(parts) + "."


def _label(r, l1: bool, m1: bool) -> str:
    """L1 for a decided gradient-descent row under L1's hypotheses; M1 for a decided
    heavy-ball row with beta > 0 under M1's hypotheses at T0's level; else EMPIRICAL."""
    if l1 and r.decided:
        return "L1"
    if m1 and r.method == "heavyball" and float(r.beta) > 0 and r.decided:
        return "M1"
    return "EMPIRICAL"


def run(params: dict, *, progress=None) -> dict:
    """The momentum study (module docstring). ``params``: any of :data:`DEFAULTS` (plus
    ``seed``, recorded; the study draws nothing at random)."""
    import mpmath

    from bounds.momentum import m1_hypotheses, m1_level_hypotheses
    from verify.explore import make_setting, predict
    from verify.momentum import interval_f64, interval_hp

    p = _params(params)
    st = make_setting(depth=p["depth"], alpha=p["alpha"], eta=p["eta"], rank=p["rank"],
                      eps=p["eps"], spectrum=p["spectrum"], theta=p["theta"], dps=p["dps"])
    pred = predict(st)
    l1 = all(h["holds"] for h in pred["hypotheses"])
    with mpmath.workdps(p["dps"]):
        order = sorted(range(st.n), key=lambda i: -mpmath.mpf(str(p["spectrum"][i])))
    targets = [p["spectrum"][i] for i in order]
    methods = _methods(p)
    configs = [(b, m) for m in methods for b in p["betas"]]
    kw = dict(depth=p["depth"], alpha=p["alpha"], eta=p["eta"], rank=p["rank"], eps=p["eps"],
              theta=p["theta"], max_steps=p["max_steps"])
    total = len(configs)

    def hp_progress(done, _total):
        if progress is not None:
            progress(done, total, "high precision")

    res = interval_hp(targets, configs=configs, dps=p["dps"], max_dps=2 * p["dps"],
                      progress=hp_progress, **kw)
    gd = {r.method: r for r in res if float(r.beta) == 0}
    # the heavy-ball dominance (docs/beyond.md) bounds each eigenvalue's first hitting time:
    # T0 for r = 1, T1 when the (r+1)-th eigenvalue satisfies it too and theta < t_(r+1)
    with mpmath.workdps(p["dps"]):
        leak_ok = mpmath.mpf(str(p["theta"])) < mpmath.mpf(str(targets[p["rank"]]))
    m1 = {b: p["rank"] == 1 and leak_ok and all(
        m1_hypotheses(t, p["alpha"], p["eta"], b, p["depth"]) for t in targets[:2])
        for b in p["betas"]}
    # claim M1 at the level T0 speaks about: d = (1 - eps) t_1, target t_1 (rank 1)
    with mpmath.workdps(p["dps"]):
        t1 = mpmath.mpf(str(targets[0]))
        d1 = (1 - mpmath.mpf(str(p["eps"]))) * t1
        m1_t0 = {b: p["rank"] == 1 and m1_level_hypotheses(t1, d1, p["alpha"], p["eta"], b,
                                                           p["depth"])
                 for b in p["betas"]}
    rows = []
    for r in res:
        beta0 = float(r.beta) == 0
        length = None if r.T0 is None or r.T1 is None else max(r.T1 - r.T0 + 1, 0)
        g = gd.get(r.method)
        le_gd = None if r.T0 is None or g is None or g.T0 is None else r.T0 <= g.T0
        le_gd1 = None if r.T1 is None or g is None or g.T1 is None else r.T1 <= g.T1
        rows.append({
            "method": r.method, "beta": float(r.beta), "T0": r.T0, "T1": r.T1,
            "length": length, "nonempty": r.nonempty, "dips": r.dips,
            "overshoot": r.overshoot, "T0_le_gd": le_gd, "T1_le_gd": le_gd1,
            "T0_upper": pred["T0_upper"] if beta0 else None,
            "T1_lower": pred["T1_lower"] if beta0 else None,
            "status": _status(r), "dps": r.dps,
            "m1_hypotheses": m1[r.beta] if r.method == "heavyball" else None,
            "label": _label(r, beta0 and l1, m1_t0[r.beta]),
        })
    curve = []
    if p["curve_points"]:
        top = max(float(b) for b in p["betas"])
        grid = [f"{top * i / max(p['curve_points'] - 1, 1):.6f}" for i in range(p["curve_points"])]
        for c in interval_f64(targets, configs=[(b, m) for m in methods for b in grid], **kw):
            curve.append({"method": c.method, "beta": float(c.beta), "T0": c.T0, "T1": c.T1,
                          "overshoot": c.overshoot, "diverged": c.diverged,
                          "tie_gap": c.tie_gap})
    notes = [
        "T0 = first step at which every learned eigenvalue has x_i^N >= (1-eps) t_i (at the "
        "same step); T1 = (first step with x_(r+1)^N > theta) - 1; length = T1 - T0 + 1; "
        "dips: a learned eigenvalue below its level at a step of (T0, T1]; overshoot = max "
        f"over steps 0..{p['max_steps']} and the learned eigenvalues of x_i^N / t_i.",
        "T0_upper, T1_lower: the paper's bounds for gradient descent (beta = 0, claim L1; "
        f"hypotheses {'hold' if l1 else 'do not all hold'}), from dmf-verify predict.",
        "High precision: gmpy2 at dps digits against a run at twice the bits; ambiguous "
        "comparisons rerun at 2 x dps (status undecided if still ambiguous).",
        "Heavy ball: a row labelled M1 is covered by claim M1 (rank 1, M1's hypotheses for t_1 "
        "at d = (1-eps) t_1): its T0_le_gd is M1's checked statement. Where m1_hypotheses is "
        "true (S1 for the top two eigenvalues, theta < t_2) T1 <= T1(GD) follows from the same "
        "proof (docs/theory.md#m1, strict level theta on t_2) but is not what M1's check "
        "checks: T1_le_gd, dips and overshoot are measured.",
    ]
    if curve:
        notes.append(f"curve: {len(curve)} float64 configurations on a dense beta grid "
                     "(EMPIRICAL; for the figure).")
    result = study_result("momentum", title=TITLE, seed=p["seed"], params=p, columns=COLUMNS,
                          rows=rows, finding=_finding(rows, methods), notes=notes)
    result["curve"] = curve
    return result


def figures(result: dict, out_dir: str) -> list[str]:
    """T0 and T1 against beta (heavy ball solid, Nesterov dashed; the interval shaded;
    the paper's GD bounds at beta = 0 as markers) and the overshoot on a second panel."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    styles = {"heavyball": ("-", "o", "heavy ball"), "nesterov": ("--", "s", "Nesterov")}
    fig, (ax, ax2) = plt.subplots(2, 1, figsize=(7, 7.5), sharex=True,
                                  gridspec_kw={"height_ratios": [3, 2]})
    for m, (ls, mk, name) in styles.items():
        rows = [r for r in result["rows"] if r["method"] == m]
        if not rows:
            continue
        curve = [c for c in result.get("curve", []) if c["method"] == m
                 and c["T0"] is not None and c["T1"] is not None]
        src = curve if curve else rows
        b = [c["beta"] for c in src]
        ax.plot(b, [c["T0"] for c in src], ls, color="tab:blue", lw=1.5, label=f"T0, {name}")
        ax.plot(b, [c["T1"] for c in src], ls, color="tab:red", lw=1.5, label=f"T1, {name}")
        ax.fill_between(b, [c["T0"] for c in src], [c["T1"] for c in src],
                        color="tab:green" if m == "heavyball" else "tab:purple", alpha=0.12,
                        label=f"[T0, T1], {name}")
        ok = [r for r in rows if r["T0"] is not None and r["T1"] is not None]
        ax.plot([r["beta"] for r in ok], [r["T0"] for r in ok], mk, color="tab:blue", ms=4,
                mfc="none")
        ax.plot([r["beta"] for r in ok], [r["T1"] for r in ok], mk, color="tab:red", ms=4,
                mfc="none")
        osrc = [c for c in result.get("curve", []) if c["method"] == m] or rows
        ax2.plot([c["beta"] for c in osrc], [c["overshoot"] for c in osrc], ls, color="k",
                 lw=1.5, label=name)
        ax2.plot([r["beta"] for r in rows], [r["overshoot"] for r in rows], mk, color="k",
                 ms=4, mfc="none")
    ref = [r for r in result["rows"] if r["beta"] == 0 and r["T0_upper"] is not None]
    if ref:
        ax.plot([0], [ref[0]["T0_upper"]], "v", color="tab:blue", ms=8,
                label="T0_upper (GD, L1)")
    if ref and ref[0]["T1_lower"] is not None:
        ax.plot([0], [ref[0]["T1_lower"]], "^", color="tab:red", ms=8,
                label="T1_lower (GD, L1)")
    ax.set_yscale("log")
    ax.set_ylabel("step")
    p = result["params"]
    ax.set_title(f"momentum, N={p['depth']}, alpha={p['alpha']}, eta={p['eta']}, "
                 f"spectrum {','.join(p['spectrum'])}, r={p['rank']}", fontsize=9)
    ax.legend(fontsize=7, ncol=2, loc="lower left")
    ax.grid(True, which="both", alpha=0.3)
    ax2.axhline(1, color="0.5", lw=0.8)
    ax2.set_xlabel("beta")
    ax2.set_ylabel("overshoot max x^N / t")
    ax2.legend(fontsize=8)
    ax2.grid(True, alpha=0.3)
    fig.tight_layout()
    try:
        return save_figure(fig, out_dir, "beyond_momentum")
    finally:
        plt.close(fig)
