"""Phase diagrams from a sweep's output: observed vs predicted low-rank interval.

:func:`phase_diagrams` reads the rows that ``dmf-verify sweep`` wrote (:mod:`verify.sweep`)
and draws, over two parameters (``x``, ``y``; by default the first two that vary, in the
order of the spec), what gradient descent did at each point (the interval [T0, T1]
nonempty, empty, or not decided: censored, undecided, diverged, refused) and the predicted
boundary: the 0-contour of ``predicted_margin`` = log(T1_lower / T0_upper), which is >= 0
exactly where the theory predicts a nonempty interval (L1 without noise, P4 with it).
Points where a hypothesis fails (no prediction) are hatched; points where an observed time
broke a predicted bound are marked with a red cross. The observed boundary (between
nonempty and empty) is drawn dashed. One figure (PNG and PDF) per combination of the
other varying parameters.

A full grid over (x, y) is drawn as cells; any other design (random) as points, with the
boundaries interpolated linearly over a triangulation (in log coordinates on a log axis).

Command line: ``dmf-verify sweep-plot RESULTS --out DIR [--x KEY] [--y KEY]``.
"""

from __future__ import annotations

import math
import pathlib
import re

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.colors import ListedColormap  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Patch, Rectangle  # noqa: E402

from verify.sweep import CLASSES, NUMERIC, PARAMS, SweepError, read_marker, read_results  # noqa: E402

__all__ = ["phase_diagrams", "MAX_FIGURES", "COLORS"]

MAX_FIGURES = 100
#: colour of each observed class
COLORS = {"nonempty": "#92c5de", "empty": "#f4a582", "censored": "#d9d9d9",
          "undecided": "#bdbdbd", "diverged": "#636363", "error": "#252525"}
_LABELS = {"nonempty": "observed: [T0, T1] nonempty", "empty": "observed: [T0, T1] empty",
           "censored": "censored (a time beyond max_steps)", "undecided": "undecided (rounding)",
           "diverged": "diverged", "error": "setting refused"}
_SIZE = (9.4, 4.8)


def _order(results: str) -> tuple[list[str], dict]:
    """Parameter keys (the last spec's axes first, then the others in PARAMS order) and the
    spacing of its axes ("log", "linear" or None: decided from the values)."""
    spec = read_marker(results).get("spec") or {}
    axes = [a[0] for a in spec.get("axes", []) if a and a[0] in PARAMS]
    return axes + [k for k in PARAMS if k not in axes], dict(spec.get("scales") or {})


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:.6g}"
    return str(v)


def _log_axis(vals, scale=None) -> bool:
    """A log axis for values spaced logarithmically (the spec's log range or loguniform), or,
    when the spec does not say, for positive values spanning a factor 10 or more."""
    vals = [v for v in vals if v is not None]
    if not vals or min(vals) <= 0:
        return False
    if scale is not None:
        return scale == "log"
    return max(vals) / min(vals) >= 10


def _edges(v, log):
    v = np.asarray(v, dtype=float)
    t = np.log10(v) if log else v
    if len(t) == 1:
        d = 0.5 if not log else 0.25
        e = np.array([t[0] - d, t[0] + d])
    else:
        mid = (t[1:] + t[:-1]) / 2
        e = np.concatenate([[2 * t[0] - mid[0]], mid, [2 * t[-1] - mid[-1]]])
    return 10 ** e if log else e


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.=-]+", "_", text)


def phase_diagrams(results: str, out_dir, *, x: str | None = None, y: str | None = None):
    """Write the phase diagrams of the sweep output ``results`` into ``out_dir``; return
    ``[(png path, summary line), ...]`` (each PNG has a PDF beside it). SweepError for an
    output without points or axes that do not vary."""
    rows = read_results(results).to_pylist()
    if not rows:
        raise SweepError(f"no points in {results}: run the sweep first")
    order, scales = _order(results)
    varying = [k for k in order if len({_fmt(r[k]) for r in rows}) > 1]
    numeric = [k for k in varying if k in NUMERIC]
    for flag, key in (("--x", x), ("--y", y)):
        if key is None:
            continue
        if key not in PARAMS:
            raise SweepError(f"{flag} {key}: unknown parameter (known: {', '.join(PARAMS)})")
        if key not in NUMERIC:
            raise SweepError(f"{flag} {key}: not a numeric parameter")
        if key not in varying:
            raise SweepError(f"{flag} {key}: does not vary in {results} (varying: "
                             f"{', '.join(varying) or 'none'})")
    free = [k for k in numeric if k not in (x, y)]
    if x is None:
        x = free.pop(0) if free else None
    if y is None:
        y = free.pop(0) if free else None
    if x is None or y is None or x == y:
        raise SweepError(f"a phase diagram needs two varying numeric parameters; {results} "
                         f"varies {', '.join(varying) or 'none'}"
                         + (" (--x and --y are the same)" if x == y and x else ""))
    facet_keys = [k for k in varying if k not in (x, y)]
    groups: dict[tuple, list] = {}
    for r in rows:
        groups.setdefault(tuple(r[k] for k in facet_keys), []).append(r)
    if len(groups) > MAX_FIGURES:
        raise SweepError(f"{len(groups)} figures (one per combination of "
                         f"{', '.join(facet_keys)}), more than {MAX_FIGURES}: plot a sweep "
                         f"that varies fewer parameters")
    out = pathlib.Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for key in sorted(groups, key=lambda t: tuple((v is None, v) for v in t)):
        facet = dict(zip(facet_keys, key))
        name = f"phase_{y}_vs_{x}" + "".join(f"_{k}={_fmt(v)}" for k, v in facet.items())
        path, line = _one(groups[key], x, y, facet, out / _slug(name), order, scales)
        written.append((path, line))
    return written


def _summary(rows) -> str:
    n = {c: sum(r["observed"] == c for r in rows) for c in CLASSES}
    pred = [r for r in rows if r["nonempty_predicted"]]
    other = sum(n[c] for c in CLASSES if c not in ("nonempty", "empty"))
    return (f"{len(rows)} points: observed nonempty {n['nonempty']}, empty {n['empty']}, not "
            f"decided {other}; predicted nonempty {len(pred)}, observed empty there "
            f"{sum(r['observed'] == 'empty' for r in pred)}; no prediction "
            f"{sum(r['predicted_margin'] is None and r['observed'] != 'error' for r in rows)}; "
            f"bounds broken {sum(bool(r['violates_bound']) for r in rows)}")


def _one(rows, x, y, facet, stem: pathlib.Path, order, scales):
    xs = np.array([r[x] for r in rows], dtype=float)
    ys = np.array([r[y] for r in rows], dtype=float)
    logx, logy = _log_axis(xs, scales.get(x)), _log_axis(ys, scales.get(y))
    cls = [r["observed"] if r["observed"] in COLORS else "undecided" for r in rows]
    present = [c for c in CLASSES if c in cls]
    margin = np.array([np.nan if r["predicted_margin"] is None else r["predicted_margin"]
                       for r in rows])
    obsf = np.array([1.0 if c == "nonempty" else 0.0 if c == "empty" else np.nan for c in cls])
    nopred = np.array([r["predicted_margin"] is None and r["observed"] != "error" for r in rows])
    viol = np.array([bool(r["violates_bound"]) for r in rows])

    fig, ax = plt.subplots(figsize=_SIZE, layout="constrained")
    ux, uy = np.unique(xs), np.unique(ys)
    grid = len(rows) == len(ux) * len(uy) and len(ux) > 1 and len(uy) > 1
    if grid:
        ix = {v: i for i, v in enumerate(ux)}
        iy = {v: i for i, v in enumerate(uy)}
        C = np.zeros((len(uy), len(ux)), dtype=int)
        M = np.full(C.shape, np.nan)
        O = np.full(C.shape, np.nan)
        for k in range(len(rows)):
            j, i = iy[ys[k]], ix[xs[k]]
            C[j, i], M[j, i], O[j, i] = CLASSES.index(cls[k]), margin[k], obsf[k]
        xe, ye = _edges(ux, logx), _edges(uy, logy)
        cmap = ListedColormap([COLORS[c] for c in CLASSES])
        ax.pcolormesh(xe, ye, C, cmap=cmap, vmin=-0.5, vmax=len(CLASSES) - 0.5,
                      edgecolors="white", linewidth=0.4)
        for k in np.flatnonzero(nopred):
            i, j = ix[xs[k]], iy[ys[k]]
            ax.add_patch(Rectangle((xe[i], ye[j]), xe[i + 1] - xe[i], ye[j + 1] - ye[j],
                                   facecolor="none", edgecolor="0.2", hatch="xx", lw=0.0))
        gx, gy, GM, GO = ux, uy, M, O
        ax.set_xlim(xe[0], xe[-1])
        ax.set_ylim(ye[0], ye[-1])
    else:
        for c in present:
            sel = np.array([v == c for v in cls])
            ax.scatter(xs[sel], ys[sel], s=28, color=COLORS[c], edgecolors="0.3", linewidths=0.4,
                       zorder=3)
        if nopred.any():
            ax.scatter(xs[nopred], ys[nopred], s=10, marker="+", color="0.15", linewidths=0.7,
                       zorder=4)
        gx, gy, GM, GO = _interpolated(xs, ys, margin, obsf, logx, logy)
    if logx:
        ax.set_xscale("log")
    if logy:
        ax.set_yscale("log")
    _ticks(ax.xaxis, logx, xs)
    _ticks(ax.yaxis, logy, ys)
    drew_pred = drew_obs = False
    if GM is not None and np.isfinite(GM).sum() >= 4 and np.nanmin(GM) < 0 <= np.nanmax(GM):
        ax.contour(gx, gy, np.ma.masked_invalid(GM), levels=[0.0], colors="k", linewidths=2.0,
                   zorder=5)
        drew_pred = True
    if GO is not None and np.isfinite(GO).sum() >= 4 and np.nanmin(GO) < 0.5 < np.nanmax(GO):
        ax.contour(gx, gy, np.ma.masked_invalid(GO), levels=[0.5], colors="#08306b",
                   linewidths=1.6, linestyles="--", zorder=5)
        drew_obs = True
    if viol.any():
        ax.scatter(xs[viol], ys[viol], s=60, marker="x", color="red", linewidths=2.0, zorder=6)
    ax.set_xlabel(_axis_label(x))
    ax.set_ylabel(_axis_label(y))
    fixed = [(k, rows[0][k]) for k in order
             if k not in (x, y) and k not in facet and len({_fmt(r[k]) for r in rows}) == 1
             and rows[0][k] is not None and k != "seed"
             and not (k == "noise_kind" and not any(r["noise"] for r in rows))]
    sweep = rows[0].get("sweep") or "sweep"
    title = (f"{sweep}: " + ", ".join(f"{k}={_fmt(v)}" for k, v in list(facet.items()) + fixed))
    ax.set_title(_wrap(title + f"; {len(rows)} points", 95), fontsize=9)
    handles = [Patch(color=COLORS[c], label=f"{_LABELS[c]} ({cls.count(c)})") for c in present]
    handles.append(Line2D([], [], color="k", lw=2.0,
                          label="predicted boundary\nT0_upper = T1_lower" + ("" if drew_pred else
                                                                         "\n(not crossed here)")))
    handles.append(Line2D([], [], color="#08306b", lw=1.6, ls="--",
                          label="observed boundary" + ("" if drew_obs else "\n(not crossed here)")))
    if nopred.any():
        handles.append(Patch(facecolor="none", edgecolor="0.2", hatch="xx",
                             label=f"a hypothesis fails:\nno prediction ({int(nopred.sum())})"))
    if viol.any():
        handles.append(Line2D([], [], color="red", marker="x", lw=0, markersize=8,
                              label=f"observed time breaks\na predicted bound ({int(viol.sum())})"))
    ax.legend(handles=handles, fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0),
              framealpha=0.95)
    png, pdf = stem.with_suffix(".png"), stem.with_suffix(".pdf")
    fig.savefig(png, dpi=100)
    fig.savefig(pdf, metadata={"CreationDate": None, "ModDate": None})
    plt.close(fig)
    return png, _summary(rows)


def _wrap(text: str, width: int) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(text, width)) or text


_AXIS = {"gap": "$s_r/s_{r+1}$  ($s_1 = 1$)", "alpha": r"initialization scale $\alpha$",
         "eta": r"step size $\eta$", "eta_fraction": r"$\eta$ / S1's step bound",
         "depth": "depth N", "noise": r"$\|E\|_2$ of the perturbation", "eps": r"$\varepsilon$",
         "theta": r"threshold $\theta$", "n": "size n", "rank": "rank r",
         "max_steps": "max_steps", "dps": "dps", "seed": "seed"}


def _axis_label(key: str) -> str:
    return f"{key}: {_AXIS[key]}" if key in _AXIS else key


def _ticks(axis, log: bool, vals) -> None:
    """Plain numbers (0.05, 2, 30) on a log axis; 1-2-5 ticks on a narrow one."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    if not log:
        return
    lo, hi = min(vals), max(vals)
    subs = (1.0, 2.0, 5.0) if hi / lo < 1e3 else (1.0,)
    axis.set_major_locator(LogLocator(base=10, subs=subs))
    axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    axis.set_minor_formatter(NullFormatter())


def _interpolated(xs, ys, margin, obsf, logx, logy, num=120):
    """The two fields linearly interpolated over a triangulation of scattered points (in
    log coordinates on a log axis), on a num x num grid; (None, None, None, None) when the
    points do not span a plane."""
    import matplotlib.tri as mtri

    tx = np.log10(xs) if logx else xs
    ty = np.log10(ys) if logy else ys
    if len(xs) < 3 or np.ptp(tx) == 0 or np.ptp(ty) == 0:
        return None, None, None, None
    try:
        tri = mtri.Triangulation(tx, ty)
    except (ValueError, RuntimeError):
        return None, None, None, None
    gx = np.linspace(tx.min(), tx.max(), num)
    gy = np.linspace(ty.min(), ty.max(), num)
    GX, GY = np.meshgrid(gx, gy)
    fields = []
    for f in (margin, obsf):
        ok = np.isfinite(f)
        mask = ~ok[tri.triangles].all(axis=1)
        t2 = mtri.Triangulation(tx, ty, tri.triangles, mask=mask)
        vals = np.where(ok, f, 0.0)
        interp = mtri.LinearTriInterpolator(t2, vals)
        fields.append(np.ma.filled(interp(GX, GY).astype(float), np.nan))
    ox = 10 ** gx if logx else gx
    oy = 10 ** gy if logy else gy
    return ox, oy, fields[0], fields[1]
