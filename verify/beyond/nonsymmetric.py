"""Study ``nonsymmetric``: a non-symmetric perturbation, and a target that is not PSD.

Rows of the first kind: ``Y = W + E`` with W the paper's PSD target and E non-symmetric of
spectral norm e, ``E = e G / ||G||_2`` (G i.i.d. standard Gaussian n x n from the seed, the
same G for every e of ``--noises``; e = 0 is the control). Gradient descent from
``W_j(0) = alpha I`` at the paper's eta, full-matrix in float64
(:mod:`verify.beyond.matrixgd`): the factors do not stay symmetric, so claim R1's reduction
does not apply. T0 and T1 are read off the singular values of P against those of Y (the
global minimizer is P = Y).

Nearest covered setting: the symmetric part ``Y_s = W + E_s``, ``E_s = (E + E^T)/2``
(``||E_s||_2 <= e``). Why: for a symmetric product P, ``||P - Y||_F^2 = ||P - Y_s||_F^2 +
||E_a||_F^2`` (symmetric and antisymmetric matrices are orthogonal), so among symmetric
products, which is all that GD from alpha I reaches for a symmetric target, the problem is
that of Y_s; its reduced dynamics (:func:`verify.explore.simulate`, columns reduced_T0,
reduced_T1) and P4's bounds (:func:`verify.explore.predict`) are what the theory would say if
the antisymmetric part did not matter. (The singular values of Y would not give a covered
setting: they are the eigenvalues of no symmetric Y with the same eigenvectors as W.)

Rows of the second kind (``--negatives``): a symmetric target with a negative eigenvalue,
``Y = W + lam v_n v_n^T`` (lam < 0 replaces W's smallest eigenvalue, 0 by default), no noise.
From alpha I R1 still holds (Y is symmetric), so these rows are the reduced dynamics of Y;
they are labelled R1 when their T0, T1 equal :func:`verify.explore.simulate`'s. The paper's
claims are stated for a PSD W; the nearest covered setting is ``W_+`` (the PSD part) with the
symmetric perturbation ``E = lam v_n v_n^T`` of norm |lam|, and its P4 bounds are reported.
"""

from __future__ import annotations

from verify.beyond import outside as ob

TITLE = "non-symmetric perturbation E (||E||_2 = e) and a target with a negative eigenvalue"

DEFAULT_NOISES = [0.0, 0.01, 0.03, 0.1, 0.3, 0.5, 1.0, 2.0]
DEFAULT_NEGATIVES = [-0.05, -0.5, -1.5]
COLUMNS = ["target", "e", "e_sym", "T0", "T1", "nonempty", "T0_upper", "T1_lower",
           "bounds_hold", "reduced_T0", "reduced_T1", "rank_final", "loss_final", "status",
           "R1_deviation"]


def add_arguments(parser) -> None:
    ob.add_problem_arguments(parser)
    parser.add_argument("--noises", type=ob.grid_arg, default=list(DEFAULT_NOISES),
                        metavar="e1,e2,...",
                        help="spectral norms e >= 0 of the non-symmetric E, one row each; "
                             "e = 0 is the control")
    parser.add_argument("--negatives", type=ob.grid_arg, default=list(DEFAULT_NEGATIVES),
                        metavar="l1,l2,...",
                        help="negative eigenvalues lam < 0 that replace W's smallest one, one "
                             "row each (default -0.05,-0.5,-1.5)")
    parser.add_argument("--no-negatives", dest="negatives", action="store_const", const=[],
                        help="leave out the rows with a negative eigenvalue "
                             "(default: keep them, as --negatives)")


def _nonsymmetric_noise(n, e, seed):
    import numpy as np

    G = np.random.default_rng([seed, 3]).standard_normal((n, n))
    return e * G / np.linalg.norm(G, 2)


def run(params: dict, *, progress=None) -> dict:
    import numpy as np

    from verify.beyond.matrixgd import identity_init, reference_levels, run_matrix
    from verify.explore import simulate

    p = ob.problem_params(params)
    noises = ob.check_grid(params.get("noises", DEFAULT_NOISES), "noises", lo=0)
    negs = params.get("negatives", DEFAULT_NEGATIVES)
    negs = [] if negs is None or (hasattr(negs, "__len__") and len(negs) == 0) else \
        ob.check_grid(negs, "negatives")
    if any(x >= 0 for x in negs):
        raise ValueError(f"negatives: every value must be < 0, got {negs}")
    seed = ob.check_seed(params.get("seed", 0))
    base = ob.build_problem(p, seed=seed)
    n, N = p["n"], p["depth"]
    init = identity_init(n, N, p["alpha"])
    total = len(noises) + len(negs)
    rows, series, notes = [], [], []
    done = 0

    def tick(label):
        nonlocal done
        if progress is not None:
            progress(done, total, label)
        done += 1

    for e in noises:
        tick(f"e={e:g}")
        E = _nonsymmetric_noise(n, e, seed)
        Es = (E + E.T) / 2
        Y = base.W + E
        cov = ob.build_problem(p, seed=seed, perturbation=Es) if e > 0 else base
        mr = run_matrix(Y, init, lr=p["eta"], steps=p["steps"])
        levels, _ = reference_levels(Y)
        obs = ob.observe(mr, levels, p)
        pred = ob.predicted(cov.st)
        ctl = ob.reduced_control(base, mr) if e == 0 else None
        sim = ({"T0": ctl["reduced_T0"], "T1": ctl["reduced_T1"]} if ctl else
               simulate(cov.st, max_steps=p["steps"], samples=1))
        row = {"target": f"W+E e={e:g}", "e": e, "e_sym": float(np.linalg.norm(Es, 2)),
               **{k: obs[k] for k in ("T0", "T1", "nonempty")},
               "T0_upper": pred["T0_upper"], "T1_lower": pred["T1_lower"],
               "bounds_hold": ob.bounds_hold(obs, pred),
               "reduced_T0": sim["T0"], "reduced_T1": sim["T1"],
               **{k: obs[k] for k in ("rank_final", "loss_final", "status")},
               "R1_deviation": ctl["R1_deviation"] if ctl else None, "label": "EMPIRICAL"}
        if ctl:
            row["label"] = "R1" if ctl["agrees"] else "EMPIRICAL"
            notes.append(f"control e = 0: full-matrix T0 = {obs['T0']}, T1 = {obs['T1']}; "
                         f"reduced {ctl['reduced_T0']}, {ctl['reduced_T1']}; deviation "
                         f"{ctl['R1_deviation']:.2e} (model {ctl['R1_tolerance']:.1e}): "
                         + ("R1" if ctl["agrees"] else "does NOT agree, EMPIRICAL"))
        rows.append(row)
        series.append(ob.series(mr, f"e={e:g}", p["rank"]))
    V = np.array([[float(base.st.V[i, j]) for j in range(n)] for i in range(n)])
    v = V[:, n - 1]
    for lam in negs:
        tick(f"lam={lam:g}")
        Em = (lam - p["spectrum"][-1]) * np.outer(v, v)  # W's smallest eigenvalue -> lam
        cov = ob.build_problem(p, seed=seed, perturbation=Em)
        Y = cov.Y
        mr = run_matrix(Y, init, lr=p["eta"], steps=p["steps"])
        levels, _ = reference_levels(Y)
        obs = ob.observe(mr, levels, p)
        pred = ob.predicted(cov.st)
        ctl = ob.reduced_control(cov, mr)
        rows.append({"target": f"lam_n={lam:g}", "e": None,
                     "e_sym": float(abs(lam - p["spectrum"][-1])),
                     **{k: obs[k] for k in ("T0", "T1", "nonempty")},
                     "T0_upper": pred["T0_upper"], "T1_lower": pred["T1_lower"],
                     "bounds_hold": ob.bounds_hold(obs, pred),
                     "reduced_T0": ctl["reduced_T0"], "reduced_T1": ctl["reduced_T1"],
                     **{k: obs[k] for k in ("rank_final", "loss_final", "status")},
                     "R1_deviation": ctl["R1_deviation"],
                     "label": "R1" if ctl["agrees"] else "EMPIRICAL"})
        if not ctl["agrees"]:
            notes.append(f"lam_n = {lam:g}: the full-matrix run leaves the reduced trajectory "
                         f"(max |sigma_i - x_i^N| / max(1, sigma_1) = "
                         f"{ctl['R1_deviation']:.2g}, rounding model "
                         f"{ctl['R1_tolerance']:.1e}): labelled EMPIRICAL")
        series.append(ob.series(mr, f"lam_n={lam:g}", p["rank"]))
    tick("done")
    notes += [
        "W + E rows: E = e G/||G||_2 non-symmetric; levels: singular values of Y; nearest "
        "covered setting: Y_s = W + (E + E^T)/2 (P4 bounds T0_upper, T1_lower; its reduced "
        "dynamics reduced_T0, reduced_T1); e_sym = ||(E + E^T)/2||_2",
        "lam_n rows: W's smallest eigenvalue replaced by lam < 0, Y = W + (lam - s_n) v_n v_n^T "
        "symmetric, levels: its positive eigenvalues; nearest covered setting: the PSD W with "
        "the symmetric perturbation of norm e_sym = |lam - s_n|",
        "T0 = max_{i<=r} first k with sigma_i(P(k)) >= (1-eps) tau_i; T1 = (first k with "
        "sigma_{r+1}(P(k)) > theta) - 1; effective rank: #{sigma_i >= 1e-3 sigma_1}",
    ]
    out = dict(p, noises=noises, negatives=negs)
    return ob.result("nonsymmetric", TITLE, seed, out, rows, _finding(rows), notes, COLUMNS,
                     series)


def _finding(rows) -> str:
    grid = [r for r in rows if r["e"] is not None]
    parts = []
    out = ob.first_where(grid, "bounds_hold", lambda r: r["bounds_hold"] is False)
    none = ob.first_where(grid, "bounds_hold", lambda r: r["bounds_hold"] is None)
    inside = [r["e"] for r in grid if r["bounds_hold"] is True]
    head = "with a non-symmetric E the observed T0, T1 "
    if inside:
        head += (f"stay within the P4 bounds of its symmetric part for e in "
                 f"{{{', '.join(f'{x:g}' for x in inside)}}}")
    else:
        head += "are within the P4 bounds of its symmetric part at no e of the grid"
    if out is not None:
        head += (f" and leave them at e = {out['e']:g} (T0 = {out['T0']}, T1 = {out['T1']} "
                 f"against T0 <= {out['T0_upper']}, T1 >= {out['T1_lower']})")
    if none is not None:
        head += f"; from e = {none['e']:g} P4 gives no bound (its hypotheses fail)"
    parts.append(head)
    adv = [(r["reduced_T1"] - r["T1"], r) for r in grid
           if isinstance(r["T1"], int) and isinstance(r["reduced_T1"], int) and r["e"] > 0]
    if adv:
        d, r = max(adv, key=lambda x: (x[0] / max(x[1]["reduced_T1"], 1), x[1]["e"]))
        parts.append(f"the antisymmetric part makes T1 come up to {d} steps "
                     f"({100 * d / max(r['reduced_T1'], 1):.0f} %) earlier than the symmetric "
                     f"part's reduced dynamics (e = {r['e']:g}: {r['T1']} against "
                     f"{r['reduced_T1']})" if d > 0 else
                     "the antisymmetric part does not make T1 come earlier than the "
                     "symmetric part's reduced dynamics")
    empty = ob.first_where(grid, "nonempty", lambda r: r["nonempty"] is False)
    parts.append(f"the interval is empty from e = {empty['e']:g}" if empty else
                 "the interval stays nonempty")
    neg = [r for r in rows if r["e"] is None]
    if neg:
        same = all((r["T0"], r["T1"]) == (r["reduced_T0"], r["reduced_T1"]) for r in neg)
        times = ", ".join(f"{r['T0']}/{r['T1']}" for r in neg)
        text = ("a negative eigenvalue leaves T0/T1 those of the reduced dynamics" if same else
                "a negative eigenvalue changes T0/T1") + f" ({times} for " + \
            ", ".join(r["target"] for r in neg) + ")"
        left = ob.first_where(neg, "label", lambda r: r["label"] != "R1")
        if left:
            text += (f", but from {left['target']} on the float64 run leaves the reduced "
                     f"trajectory (R1 deviation {left['R1_deviation']:.2g}): the rounding "
                     f"errors grow along the negative eigenvector and the product learns the "
                     f"negative eigenvalue, which the reduced dynamics never do (P -> Y_+)")
        bad = ob.first_where(neg, "bounds_hold", lambda r: r["bounds_hold"] is False)
        nob = ob.first_where(neg, "bounds_hold", lambda r: r["bounds_hold"] is None)
        if bad:
            text += f"; the P4 bounds of W_+ with E = the negative part fail at {bad['target']}"
        if nob:
            text += f"; P4 of W_+ with E = the negative part gives no bound at {nob['target']}"
        if not bad and not nob:
            text += "; within the P4 bounds of W_+ with E = the negative part"
        parts.append(text)
    return "; ".join(parts) + "."


def figures(result: dict, out_dir: str) -> list:
    return ob.interval_figure(result, out_dir, "beyond_nonsymmetric", xkey="target",
                              xlabel="target",
                              title="GD from alpha I on Y = W + E, E non-symmetric, and on a "
                                    "target with a negative eigenvalue (EMPIRICAL unless R1)")
