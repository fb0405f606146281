"""Figures of the experiments behind the claims (L1, P4, P5): PNG and PDF files.

Four figures, each written as ``<name>.png`` and ``<name>.pdf`` into ``out_dir``:

* ``fig_trajectories`` -- (L1) eigenvalue trajectories ``x_i(k)^N`` of a noiseless target with
  the observed low-rank interval [T0, T1] and the predicted bounds T0 <= UB0, T1 >= LB1.
* ``fig_endpoints_vs_noise`` -- (P4) observed T0~, T1~ for the Weyl-extremal perturbation
  and the predicted bounds (from Y's eigenvalues, and W-only) as ||E||_2 grows past e*.
* ``fig_denoising`` -- (P5) ``||P(k) - W||_F`` along gradient descent for a random
  perturbation against the limit ``||Y_+ - W||_F`` (early stopping beats the limit).
* ``fig_phase_diagram`` -- (L1/L3) observed nonempty interval over (s_r/s_{r+1}, alpha)
  with the predicted boundary of the spectral condition UB0 <= LB1.

Everything is deterministic (fixed seeds, fixed grids). Observed quantities come from the
reduced dynamics (:mod:`verify.engine`, through :func:`verify.explore.simulate` where that
fits); predicted ones from :mod:`bounds`. Each figure function returns the paths it wrote
and stores the numbers it plotted in :data:`LAST_SUMMARY` (name -> dict) for reports.

Command line: ``dmf-verify figures --out DIR [--dps 30]``.
"""

from __future__ import annotations

import math
import pathlib

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import mpmath  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.colors import ListedColormap  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.ticker import NullFormatter  # noqa: E402

from bounds.lowrank import l1_hypotheses, lb1, spectral_condition, ub0  # noqa: E402
from verify.engine import Event, simulate_reduced  # noqa: E402
from verify.explore import make_setting, predict, simulate  # noqa: E402

__all__ = [
    "make_all",
    "fig_trajectories",
    "fig_endpoints_vs_noise",
    "fig_denoising",
    "fig_phase_diagram",
    "LAST_SUMMARY",
]

#: Numbers behind the last figures drawn (figure name -> dict of plain Python values).
LAST_SUMMARY: dict = {}

_PNG_DPI = 100
_SIZE = (7.0, 4.6)
_WIDE = (9.2, 4.6)  # room for a legend right of the axes
_COLORS = ["tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown"]


def _out(out_dir) -> pathlib.Path:
    path = pathlib.Path(out_dir)
    path.mkdir(parents=True, exist_ok=True)
    return path


def _save(fig, out_dir, name) -> list[pathlib.Path]:
    out = _out(out_dir)
    paths = [out / f"{name}.png", out / f"{name}.pdf"]
    fig.savefig(paths[0], dpi=_PNG_DPI)
    # fixed metadata: the PDF bytes do not depend on the date
    fig.savefig(paths[1], metadata={"CreationDate": None, "ModDate": None})
    plt.close(fig)
    return paths


def _f(x):
    return None if x is None else float(x)


# ---------------------------------------------------------------------------------------
# (a) trajectories


TRAJ = dict(depth=3, alpha="0.05", eta="0.2", spectrum=["1", "0.5", "0.1", "0.05"], rank=2,
            eps="0.1")


def fig_trajectories(out_dir, *, dps: int = 30) -> list[pathlib.Path]:
    """(a) ``x_i(k)^N`` against k for a noiseless target (L1), log-scale y.

    N=3, s = (1, 0.5, 0.1, 0.05), r=2, alpha=0.05, eta=0.2 (0.6 of the S1 bound 1/(N s_1^A)
    = 1/3), eps=0.1, theta = eps s_r = 0.05. Shaded: observed [T0, T1]; dashed: predicted
    UB0 (T0 <= UB0) and LB1 (T1 >= LB1).
    """
    st = make_setting(**TRAJ, dps=dps)
    pred = predict(st)
    sim = simulate(st, max_steps=4000)
    T0, T1 = sim["T0"], sim["T1"]
    ub, lb = pred["T0_upper"], pred["T1_lower"]
    horizon = int(1.6 * max(v for v in (T0, T1, ub, lb) if v is not None))
    ks = sorted(set(np.linspace(0, horizon, 800).astype(int).tolist()))
    run = simulate_reduced(st.t, depth=st.depth, alpha=st.alpha, eta=st.eta, dps=dps,
                           max_steps=horizon, checkpoints=ks, stop_when_settled=True)
    with mpmath.workdps(dps):
        traj = np.array([[float(p) for p in run.products(k)] for k in ks])
        s = [float(v) for v in st.s]
        eps, theta, N = float(st.eps), float(st.theta), st.depth

    fig, ax = plt.subplots(figsize=_WIDE, layout="constrained")
    ax.axvspan(T0, T1, color="0.85", label=f"observed low-rank interval\n[T0, T1] = [{T0}, {T1}]")
    for i in range(st.n):
        ax.plot(ks, traj[:, i], color=_COLORS[i], lw=1.8, label=f"$x_{i + 1}(k)^N$, $s_{i + 1}$ = {s[i]:g}")
    for i in range(st.r):
        ax.axhline((1 - eps) * s[i], color=_COLORS[i], ls=":", lw=1.2)
    ax.plot([], [], color="0.3", ls=":", lw=1.2, label=r"levels $(1-\varepsilon)\,s_i$, $i \leq r$")
    # every line its own (colour, style): theta a wide grey band-like line, the two predicted
    # endpoints black dashed and purple dash-dotted
    ax.axhline(theta, color="0.45", ls="-", lw=2.6, alpha=0.6, label=rf"threshold $\theta$ = {theta:g}")
    ax.axvline(ub, color="k", ls="--", lw=1.4, label=f"predicted: $T_0 \\leq$ UB0 = {ub}")
    if lb is not None:
        ax.axvline(lb, color="darkmagenta", ls="-.", lw=1.6,
                   label=f"predicted: $T_1 \\geq$ LB1 = {lb}")
    ax.set_yscale("log")
    ax.set_xlim(0, horizon)
    ax.set_ylim(0.5 * float(st.alpha) ** N, 2 * s[0])
    tr = ax.get_xaxis_transform()
    for xv, txt in ((ub, "UB0"), (lb, "LB1")):
        if xv is not None:
            ax.text(xv, 1.01, txt, transform=tr, ha="center", va="bottom", fontsize=8)
    ax.set_xlabel("gradient-descent step $k$")
    ax.set_ylabel("product eigenvalue $x_i(k)^N$")
    ax.set_title(f"L1, noiseless: N={N}, r={st.r}, $\\alpha$={float(st.alpha):g}, "
                 f"$\\eta$={float(st.eta):g}, $\\varepsilon$={eps:g}", pad=14)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), framealpha=0.95)
    ax.grid(True, which="major", alpha=0.3)
    LAST_SUMMARY["trajectories"] = {"T0": T0, "T1": T1, "UB0": ub, "LB1": lb,
                                    "nonempty_predicted": pred["nonempty_predicted"],
                                    "hitting_times": sim["hitting_times"]}
    return _save(fig, out_dir, "fig_trajectories")


# ---------------------------------------------------------------------------------------
# (b) endpoints vs noise


def fig_endpoints_vs_noise(out_dir, *, dps: int = 30, points: int = 19) -> list[pathlib.Path]:
    """(b) T0~ and T1~ against e = ||E||_2 from 0 to 1.5 e* (P4), same W as (a).

    Observed: simulate on the Weyl-extremal E (top r eigenvalues lowered by e, the rest
    raised by e). Predicted: P4 bounds from Y's eigenvalues (T0~ <= UB, T1~ >= LB) and the
    W-only bounds (valid for every E with ||E||_2 <= e); e* = critical_noise.
    """
    base = make_setting(**TRAJ, dps=dps)
    estar = float(predict(base)["critical_noise"])
    es = np.linspace(0, 1.5 * estar, points)
    rows = []
    for e in es:
        st = make_setting(**TRAJ, noise=repr(float(e)), noise_kind="worst", dps=dps)
        p = predict(st)
        sim = simulate(st, max_steps=6000)
        if e == 0:  # noiseless: predict gives L1's bounds, which are the P4 bounds at e = 0
            p.setdefault("T0_upper_any", p["T0_upper"])
            p.setdefault("T1_lower_any", p["T1_lower"])
        rows.append(dict(e=float(e), T0=sim["T0"], T1=sim["T1"], nonempty=sim["nonempty"],
                         ub=p["T0_upper"], lb=p["T1_lower"], ub_any=p.get("T0_upper_any"),
                         lb_any=p.get("T1_lower_any"),
                         pred_nonempty=p["nonempty_predicted"],
                         pred_nonempty_any=p.get("nonempty_predicted_any", p["nonempty_predicted"])))

    def col(key):
        return np.array([np.nan if r[key] is None else float(r[key]) for r in rows])

    x = es / estar
    fig, (ax, gap) = plt.subplots(2, 1, figsize=(_WIDE[0], 6.4), layout="constrained", sharex=True,
                                  gridspec_kw={"height_ratios": [3, 1.3]})
    T0o, T1o, ub, lb, ub_any = (col(k) for k in ("T0", "T1", "ub", "lb", "ub_any"))
    # where each interval is empty: observed T0~ > T1~, predicted UB > LB (P4 from Y's
    # eigenvalues) and UB_any > LB (W-only); shaded from the first sampled noise that is empty
    # (the crossing itself lies between that sample and the one before)
    obs_empty = np.array([r["nonempty"] is False for r in rows])
    pred_empty = np.array([not r["pred_nonempty"] for r in rows])
    any_empty = np.array([not r["pred_nonempty_any"] for r in rows])
    empties = {}
    for name, mask, shade, hatch in (("observed", obs_empty, "tab:red", "//"),
                                     ("predicted (P4)", pred_empty, "tab:orange", "\\\\")):
        if mask.any():
            k = int(np.argmax(mask))
            empties[name] = [float(x[k - 1]) if k else None, float(x[k])]
            ax.axvspan(x[k], x[-1], facecolor="none", edgecolor=shade, hatch=hatch, lw=0.0,
                       alpha=0.5, label=f"{name} interval empty from e/e* = {x[k]:.3g}\n"
                                        f"(crossing in ({x[k - 1] if k else 0:.3g}, {x[k]:.3g}])")
    if any_empty.any():
        empties["predicted (W-only)"] = [float(x[int(np.argmax(any_empty)) - 1]), float(x[int(np.argmax(any_empty))])]
    ax.plot(x, T0o, "o-", color="tab:red", lw=1.8, ms=5, label=r"observed $\tilde T_0$")
    ax.plot(x, T1o, "o-", color="tab:blue", lw=1.8, ms=5, label=r"observed $\tilde T_1$")
    ax.plot(x, ub, "s--", color="tab:red", lw=1.2, ms=4, mfc="white",
            label=r"predicted $\tilde T_0 \leq$ UB (P4, from Y's eigenvalues)")
    ax.plot(x, lb, "s--", color="tab:blue", lw=1.2, ms=4, mfc="white",
            label=r"predicted $\tilde T_1 \geq$ LB (P4; the W-only LB is the same)")
    ax.plot(x, ub_any, "^:", color="darkred", lw=1.8, ms=4, mfc="white",
            label=r"predicted UB, W-only (any $\|E\|_2 \leq e$)")
    for a_ in (ax, gap):
        a_.axvline(1.0, color="k", ls="-.", lw=1.2)
    ax.plot([], [], color="k", ls="-.", lw=1.2, label=f"critical noise $e^*$ = {estar:.4g} (W-only UB = LB)")
    sv = [float(v) for v in base.s]
    e_cross = (sv[base.r - 1] - sv[base.r]) / 2  # s_r - e = s_{r+1} + e: Y's r-th eigenvector flips
    if e_cross <= es[-1]:
        for a_ in (ax, gap):
            a_.axvline(e_cross / estar, color="0.4", ls=":", lw=1.2)
        ax.plot([], [], color="0.4", ls=":", lw=1.2,
                label=rf"$s_r - e = s_{{r+1}} + e$ (e = {e_cross:g}):" "\n" r"Y's eigenvalues $t_r$, $t_{r+1}$ cross")
    vals = np.concatenate([T0o, T1o, ub, lb, ub_any])
    vals = vals[np.isfinite(vals) & (vals > 0)]
    if vals.size and vals.max() / vals.min() > 20:
        ax.set_yscale("log")
    ax.set_ylabel("step $k$")
    # the bottom panel separates what overlaps on top: how far each bound is from its endpoint
    with np.errstate(invalid="ignore", divide="ignore"):
        gap.plot(x, 100 * (ub - T0o) / ub, "o-", color="tab:red", lw=1.4, ms=4,
                 label=r"$(\mathrm{UB} - \tilde T_0)/\mathrm{UB}$")
        gap.plot(x, 100 * (T1o - lb) / T1o, "o-", color="tab:blue", lw=1.4, ms=4,
                 label=r"$(\tilde T_1 - \mathrm{LB})/\tilde T_1$")
    gap.axhline(0.0, color="k", lw=0.8)
    gap.set_ylabel("bound slack (%)")
    gap.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), framealpha=0.95)
    gap.grid(True, alpha=0.3)
    gap.set_xlabel(r"noise size $e/e^*$  ($e = \|E\|_2$, Weyl-extremal $E$)")
    s = [float(v) for v in base.s]
    ax.set_title(f"P4: interval endpoints vs noise, s = {tuple(s)}, r={base.r}, "
                 f"N={base.depth}, $\\alpha$={float(base.alpha):g}, $\\eta$={float(base.eta):g}",
                 fontsize=10)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), framealpha=0.95)
    ax.grid(True, which="both", alpha=0.3)
    LAST_SUMMARY["endpoints_vs_noise"] = {"e_star": estar, "e_cross": e_cross, "rows": rows,
                                          "empty_from": empties}
    return _save(fig, out_dir, "fig_endpoints_vs_noise")


# ---------------------------------------------------------------------------------------
# (c) denoising


DENOISE = dict(depth=3, alpha="0.05", eta="0.2", spectrum=["1", "0.5", "0", "0", "0", "0"],
               rank=2, eps="0.1", noise="0.2", noise_kind="random", seed=2)


def fig_denoising(out_dir, *, dps: int = 30, checkpoints: int = 200) -> list[pathlib.Path]:
    """(c) ``||P(k) - W||_F`` against k (log-spaced checkpoints) for a rank-2 6x6 target with a
    seeded random perturbation of norm 0.2 (P5): the limit is Y_+, whose error
    ``||Y_+ - W||_F`` is drawn as a horizontal line; [T0~, T1~] observed is shaded.
    ``P(k) = Q diag(x(k)^N) Q^T`` from the reduced dynamics.
    """
    st = make_setting(**DENOISE, dps=dps)
    pred = predict(st)
    sim = simulate(st, max_steps=20000)
    T0, T1 = sim["T0"], sim["T1"]
    # long enough for every positive eigenvalue of Y to be learned (the curve reaches Y_+)
    horizon = 20 * (T1 if T1 is not None else 1000)
    ks = sorted(set(np.unique(np.round(np.logspace(0, math.log10(horizon), checkpoints))).astype(int).tolist()) | {0})
    run = simulate_reduced(st.t, depth=st.depth, alpha=st.alpha, eta=st.eta, dps=dps,
                           max_steps=horizon, checkpoints=ks, stop_when_settled=True)
    with mpmath.workdps(dps):
        N = st.depth
        ypl = [max(v, mpmath.mpf(0)) for v in st.t]
        lim = float(mpmath.mnorm(st.Q * mpmath.diag(ypl) * st.Q.T - st.W, "f"))
        err = []
        for k in ks:
            P = st.Q * mpmath.diag(list(run.products(k))) * st.Q.T
            err.append(float(mpmath.mnorm(P - st.W, "f")))
        Er = st.Y - st.W
        fro_E = float(mpmath.mnorm(Er, "f"))
    err = np.array(err)
    ks_a = np.array(ks)
    inside = (ks_a >= T0) & (ks_a <= (T1 if T1 is not None else horizon))
    best_in = float(err[inside].min()) if inside.any() else None
    k_best = int(ks_a[inside][np.argmin(err[inside])]) if inside.any() else None
    kpos = np.maximum(ks_a, 1)  # k = 0 drawn at k = 1 on the log axis

    fig, ax = plt.subplots(figsize=_WIDE, layout="constrained")
    t1_draw = T1 if T1 is not None else horizon
    ax.axvspan(max(T0, 1), t1_draw, color="0.85",
               label=rf"observed $[\tilde T_0, \tilde T_1]$ = [{T0}, {T1 if T1 is not None else '∞'}]")
    ax.plot(kpos, err, color="tab:blue", lw=1.8, label=r"observed $\|P(k) - W\|_F$")
    ax.axhline(lim, color="tab:red", ls="--", lw=1.4,
               label=rf"limit $\|Y_+ - W\|_F$ = {lim:.4f} (P1: $P(k) \to Y_+$)")
    if best_in is not None:
        ax.plot([k_best], [best_in], "v", color="k", ms=7,
                label=f"best early-stopped iterate: {best_in:.4f} at k = {k_best}")
    ub, lb = pred["T0_upper"], pred["T1_lower"]
    if ub is not None:
        ax.axvline(ub, color="tab:orange", ls=":", lw=1.6, label=rf"predicted $\tilde T_0 \leq$ {ub} (P4)")
    if lb is not None:
        ax.axvline(lb, color="tab:green", ls=":", lw=1.6, label=rf"predicted $\tilde T_1 \geq$ {lb} (P4)")
    ax.set_xscale("log")
    ax.set_xlim(1, horizon)
    ax.set_xlabel("gradient-descent step $k$ (k = 0 drawn at 1)")
    ax.set_ylabel(r"$\|P(k) - W\|_F$")
    ax.set_title(f"P5 denoising: n={st.n}, rank-{st.r} W (s = 1, 0.5, 0, 0, 0, 0), random E with "
                 f"$\\|E\\|_2$={float(st.e):g},\nN={N}, $\\alpha$={float(st.alpha):g}, "
                 f"$\\eta$={float(st.eta):g}, $\\varepsilon$={float(st.eps):g}, "
                 f"$\\theta$={float(st.theta):g}", fontsize=10)
    ax.set_ylim(0, 1.08 * float(err.max()))
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), framealpha=0.95)
    ax.grid(True, which="major", alpha=0.3)
    LAST_SUMMARY["denoising"] = {"T0": T0, "T1": T1, "UB": ub, "LB": lb, "limit": lim,
                                 "best_in_interval": best_in, "k_best": k_best,
                                 "frobenius_E": fro_E,
                                 "eigenvalues_Y": [float(v) for v in st.t],
                                 "error_at_horizon": float(err[-1])}
    return _save(fig, out_dir, "fig_denoising")


# ---------------------------------------------------------------------------------------
# (d) phase diagram


PHASE = dict(depth=3, eta="0.2", eps="0.1", theta="0.1", ratio=(1.02, 30.0), alpha=(1e-3, 0.4))


def _phase_cell(ratio, alpha, *, dps, cap):
    """Observed outcome for s = (1, 1/ratio), r = 1: 1 nonempty, 0 empty, 2 undecided.

    T0 = first k with x_1^N >= (1-eps) s_1 (lane 1, capped at ``cap`` steps); the interval is
    nonempty iff x_2^N does not exceed theta during steps 0..T0 (then T1 >= T0). Returns
    (outcome, T0)."""
    N, eta, eps = PHASE["depth"], PHASE["eta"], mpmath.mpf(PHASE["eps"])
    with mpmath.workdps(dps):
        s1, s2 = mpmath.mpf(1), 1 / mpmath.mpf(ratio)
        r0 = simulate_reduced([s1], depth=N, alpha=alpha, eta=eta, dps=dps,
                              events=[Event(0, (1 - eps) * s1)], max_steps=cap)
        h0 = r0.hits[0]
        if h0.step is None or h0.ambiguous:
            return 2, None
        T0 = h0.step
        r1 = simulate_reduced([s2], depth=N, alpha=alpha, eta=eta, dps=dps,
                              events=[Event(0, PHASE["theta"], strict=True)], max_steps=T0)
        h1 = r1.hits[0]
        if h1.ambiguous:
            return 2, T0
        return (1 if h1.step is None else 0), T0


def _phase_predicted(ratio, alpha, dps):
    with mpmath.workdps(dps):
        s2 = 1 / mpmath.mpf(ratio)
        return bool(spectral_condition([1, s2], 1, PHASE["eps"], PHASE["theta"], mpmath.mpf(alpha),
                                       PHASE["eta"], PHASE["depth"]))


def _phase_margin(ratio, alpha, dps):
    """log(LB1/UB0) (>= 0 exactly when UB0 <= LB1), +3 for LB1 = infinity, NaN where L1's
    standing hypotheses fail (no prediction there): a field whose 0-contour is the predicted
    boundary."""
    with mpmath.workdps(dps):
        s = [1, 1 / mpmath.mpf(ratio)]
        args = (s, 1, PHASE["eps"], PHASE["theta"], mpmath.mpf(alpha), PHASE["eta"], PHASE["depth"])
        if not l1_hypotheses(*args):
            return math.nan
        lb = lb1(*args)
        if lb is None:
            return 3.0
        return max(-3.0, min(3.0, math.log(max(lb, 0.5) / ub0(*args))))


def fig_phase_diagram(out_dir, *, dps: int = 30, grid: int = 14, fine: int = 40,
                      cap: int = 200_000) -> list[pathlib.Path]:
    """(d) Observed nonempty low-rank interval over (s_1/s_2, alpha) on a ``grid`` x ``grid``
    grid (both log-spaced: ratio 1.02..30, alpha 0.001..0.4), N=3, r=1, s = (1, 1/ratio),
    eta=0.2, eps=0.1, theta = eps s_r = 0.1 (the default of :func:`make_setting`), with the
    predicted boundary of the spectral condition UB0 <= LB1 (L1) from a ``fine`` x ``fine``
    grid. Cells whose T0 exceeds ``cap`` steps (or whose comparison is within rounding) are
    "undecided".
    """
    N, th = PHASE["depth"], float(PHASE["theta"])
    lo_q, hi_q = PHASE["ratio"]
    lo_a, hi_a = PHASE["alpha"]
    ratios = np.logspace(math.log10(lo_q), math.log10(hi_q), grid)
    alphas = np.logspace(math.log10(lo_a), math.log10(hi_a), grid)
    obs = np.zeros((grid, grid), dtype=int)
    steps = 0
    for j, a in enumerate(alphas):
        for i, q in enumerate(ratios):
            obs[j, i], T0 = _phase_cell(repr(float(q)), repr(float(a)), dps=dps, cap=cap)
            steps += 2 * (T0 or cap)
    def edges(v):
        lv = np.log10(v)
        mid = (lv[1:] + lv[:-1]) / 2
        return 10 ** np.concatenate([[2 * lv[0] - mid[0]], mid, [2 * lv[-1] - mid[-1]]])

    # the predicted boundary over the whole plotted range: the outer cell edges, not only
    # the cell centres (ratios below 1 are no spectrum s_1 >= s_2: from 1 on)
    (x0, x1), (y0, y1) = edges(ratios)[[0, -1]], edges(alphas)[[0, -1]]
    x0 = max(x0, 1.0 + 1e-9)
    fr = np.logspace(math.log10(x0), math.log10(x1), fine)
    fa = np.logspace(math.log10(y0), math.log10(y1), fine)
    margin = np.array([[_phase_margin(repr(float(q)), repr(float(a)), dps) for q in fr] for a in fa])
    predf = margin >= 0
    predc = np.array([[_phase_predicted(repr(float(q)), repr(float(a)), dps) for q in ratios]
                      for a in alphas])

    cmap = ListedColormap(["#f4a582", "#92c5de", "#bdbdbd"])
    fig, ax = plt.subplots(figsize=_WIDE, layout="constrained")
    ax.pcolormesh(edges(ratios), edges(alphas), obs, cmap=cmap, vmin=-0.5, vmax=2.5,
                  edgecolors="white", linewidth=0.4)
    # with s_r = 1 > s_{r+1}, (1 - eps) s_r = 0.9 > theta and the step bound fixed, L1's
    # hypotheses fail exactly where theta < alpha^N: hatched, no prediction there
    a_hyp = th ** (1 / N)
    no_hyp = np.isnan(margin)
    assert np.array_equal(no_hyp, np.broadcast_to((fa**N > th)[:, None], no_hyp.shape)), \
        "L1's hypotheses fail somewhere else than alpha^N > theta"
    ax.contour(fr, fa, np.ma.masked_invalid(margin), levels=[0.0], colors="k", linewidths=2.0)
    if a_hyp < y1:
        ax.axhspan(a_hyp, y1, facecolor="none", edgecolor="k", hatch="xx", lw=0.0)
    ax.axvline(1 / th, color="0.3", ls=":", lw=1.3)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(edges(ratios)[0], edges(ratios)[-1])
    ax.set_ylim(edges(alphas)[0], edges(alphas)[-1])
    ticks = [1, 1.5, 2, 3, 5, 10, 20, 30]
    ax.set_xticks(ticks, [f"{v:g}" for v in ticks])
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel(r"spectral gap ratio $s_r/s_{r+1}$  ($r = 1$, $s_1 = 1$, $s_2 = 1/\mathrm{ratio}$)")
    ax.set_ylabel(r"initialization scale $\alpha$")
    ax.set_title(f"L1 phase diagram: N={N}, $\\eta$={PHASE['eta']}, $\\varepsilon$={PHASE['eps']}, "
                 rf"$\theta = \varepsilon s_r$ = {th:g}; {grid}x{grid} simulations", fontsize=10)
    n_und = int((obs == 2).sum())
    handles = [Patch(color=cmap(1), label=f"observed: [T0, T1] nonempty\n({int((obs == 1).sum())} cells)"),
               Patch(color=cmap(0), label=f"observed: [T0, T1] empty\n({int((obs == 0).sum())} cells)"),
               Patch(color=cmap(2), label=f"undecided: T0 > {cap} steps\n({n_und} cells)"),
               Line2D([], [], color="k", lw=2.0,
                      label="predicted boundary UB0 = LB1\n(UB0 ≤ LB1: nonempty predicted\nbelow / right of the line)"),
               Line2D([], [], color="0.3", ls=":", lw=1.3,
                      label=r"$s_{r+1} = \theta$ (right of it" "\n" r"$T_1 = \infty$, LB1 = $\infty$)")]
    if a_hyp < y1:
        handles.append(Patch(facecolor="none", edgecolor="k", hatch="xx",
                             label=r"$\alpha^N > \theta$: L1's hypotheses" "\n" "fail, no prediction"))
    ax.legend(handles=handles, fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0),
              framealpha=0.95)
    contradictions = [(float(ratios[i]), float(alphas[j])) for j in range(grid) for i in range(grid)
                      if predc[j, i] and obs[j, i] == 0]
    LAST_SUMMARY["phase_diagram"] = {
        "observed_nonempty": int((obs == 1).sum()), "observed_empty": int((obs == 0).sum()),
        "undecided": n_und, "predicted_nonempty": int(predc.sum()),
        "predicted_nonempty_observed_empty": contradictions,
        "observed_nonempty_not_predicted": int(((obs == 1) & ~predc).sum()),
        "steps_simulated_upper": steps,
        # the predicted boundary is computed over the whole plotted range
        "plotted_range": [float(v) for v in (*ax.get_xlim(), *ax.get_ylim())],
        "boundary_grid_range": [float(fr[0]), float(fr[-1]), float(fa[0]), float(fa[-1])],
        "alpha_hypotheses_fail_above": a_hyp,
        "min_ratio_observed_nonempty_by_alpha": {
            float(a): (float(ratios[obs[j] == 1].min()) if (obs[j] == 1).any() else None)
            for j, a in enumerate(alphas)},
        "min_ratio_predicted_by_alpha": {
            float(a): (float(fr[predf[j]].min()) if predf[j].any() else None)
            for j, a in enumerate(fa)}}
    return _save(fig, out_dir, "fig_phase_diagram")


# ---------------------------------------------------------------------------------------


def make_all(out_dir, *, dps: int = 30, progress=None) -> list[pathlib.Path]:
    """Write the four figures (PNG and PDF each) into ``out_dir``; return the 8 paths.
    ``progress(done, total, name)`` is called before each figure and at the end."""
    paths: list[pathlib.Path] = []
    fns = (fig_trajectories, fig_endpoints_vs_noise, fig_denoising, fig_phase_diagram)
    for i, fn in enumerate(fns):
        if progress is not None:
            progress(i, len(fns), fn.__name__)
        paths += fn(out_dir, dps=dps)
    if progress is not None:
        progress(len(fns), len(fns), "figures")
    return paths
