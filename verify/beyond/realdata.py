"""Real data: the covariance of a data set bundled with scikit-learn as the PSD target, the
covariance of a random subset of its samples as the observation (`dmf-verify explore realdata`).

The data set (``digits``: 1797 images of 8x8 pixels, n = 64; ``breast_cancer``: 569 samples of
30 features, n = 30) ships inside scikit-learn (no download; the extra ``data``). Its sample
covariance C (numpy ``cov``, ddof 1, symmetrized ``(C + C^T)/2`` so that it is exactly
symmetric) is the target W, divided by its largest float64 eigenvalue so that s_1 = 1. The
digits pixels share one unit (grey level 0..16) and are used raw; the breast-cancer features
are in units that differ by five orders of magnitude (the raw C is the variance of "worst
area" and little else: s_2/s_1 = 0.017), so they are standardized with the full data's mean
and standard deviation first (C is then their correlation matrix).

For each subset size m, the samples are the first m of one seeded permutation (the subsets are
nested; m = all samples takes every sample in order), C_m their covariance (the same formula,
the same scale), and Y = C_m = W + E with E = C_m - C: a real perturbation, neither
Weyl-extremal nor random of a prescribed norm. At m = all samples E = 0 exactly.

With W_j(0) = alpha I and Y symmetric, gradient descent is the reduced dynamics on Y's
eigenvalues (claim R1): :func:`verify.explore.predict` and :func:`verify.explore.simulate` give
the predicted (P4, L1 when E = 0) and observed low-rank intervals, and the product at step k is
``Q diag(x_i(k)^N) Q^T`` with Q, x_i from Y's float64 eigendecomposition and the float64 lanes of
:mod:`verify.fastlanes` (:func:`products`). The denoising comparison (P5's remark, measured on
real data: EMPIRICAL) is ``||X_k - C_r||`` against ``||Y_+ - C_r||``, C_r the best rank-r
approximation of the full-data covariance, Y_+ the limit of gradient descent (P1).
"""

from __future__ import annotations

import math

__all__ = ["TITLE", "DATASETS", "add_arguments", "run", "figures", "load", "setting",
           "trajectory", "products", "default_m"]

TITLE = ("real data: covariance of scikit-learn's digits / breast-cancer as target, a subset's "
         "covariance as the observation (EMPIRICAL, P4/L1 bounds)")

#: name -> (loader in sklearn.datasets, standardize the features first)
DATASETS = {"digits": ("load_digits", False), "breast_cancer": ("load_breast_cancer", True)}
DEFAULTS = dict(dataset="digits", m=None, rank=None, depth=3, alpha="0.001", eta="0.2",
                eps="0.1", theta=None, max_steps=20000)
#: the automatic rank: the r in 1..RANK_SEARCH with the largest gap ratio s_r / s_{r+1}
RANK_SEARCH = 8
#: steps of the observed interval at which the error is evaluated (all of them up to this)
INTERVAL_POINTS = 4000
CURVE_POINTS = 400
MAX_STEPS_CAP = 1_000_000

COLUMNS = ["m", "row", "e_2", "e_F", "e_star", "T0", "T1", "nonempty", "in_bounds", "k",
           "err_F", "Yplus_F", "ratio_F", "err_2", "Yplus_2", "ratio_2", "Yr_F", "errC_F",
           "YplusC_F"]


# ---------------------------------------------------------------------------------------
# flags


def _m_list(text: str):
    """--m: comma-separated integers, or 'all' (every sample)."""
    import argparse

    from verify.cli import _int_arg

    parse = _int_arg(2)
    out = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            raise argparse.ArgumentTypeError(f"expected comma-separated sample counts, got {text!r}")
        out.append("all" if part.lower() == "all" else parse(part))
    return out


def add_arguments(parser) -> None:
    from verify.cli import _int_arg, _number
    from verify.limits import MAX_DEPTH

    d = DEFAULTS
    parser.add_argument("--dataset", choices=sorted(DATASETS), default=d["dataset"],
                        help="the data set bundled with scikit-learn: digits (n = 64, raw grey "
                             "levels) or breast_cancer (n = 30, standardized) (default: digits)")
    parser.add_argument("--m", type=_m_list, default=d["m"], metavar="m1,m2,...",
                        help="subset sizes m (>= 2, at most the sample count; 'all' = every "
                             "sample) (default: 2n, 4n, 8n, 16n below the sample count, and all)")
    parser.add_argument("--rank", type=_int_arg(1), default=d["rank"], metavar="r",
                        help=f"rank r, 1..n-1 (default: the r in 1..{RANK_SEARCH} with the "
                             f"largest gap ratio s_r/s_r+1 of the scaled covariance)")
    parser.add_argument("--depth", type=_int_arg(2, MAX_DEPTH), default=d["depth"], metavar="N",
                        help=f"depth N (default {d['depth']})")
    parser.add_argument("--alpha", type=_number, default=d["alpha"],
                        help=f"initialization scale, W_j(0) = alpha I (default {d['alpha']})")
    parser.add_argument("--eta", type=_number, default=d["eta"],
                        help=f"step size; the data are scaled so that s_1 = 1, so S1's bound "
                             f"1/(N s_1^A) is 1/N (default {d['eta']})")
    parser.add_argument("--eps", type=_number, default=d["eps"],
                        help=f"learned level (1 - eps) t_i, eps in (0, 1) (default {d['eps']})")
    parser.add_argument("--theta", type=_number, default=d["theta"],
                        help="threshold of T1 (x_r+1^N > theta) (default: eps * s_r)")
    parser.add_argument("--max-steps", type=_int_arg(1, MAX_STEPS_CAP), default=d["max_steps"],
                        help=f"steps simulated per subset size (default {d['max_steps']})")


def _params(params: dict) -> dict:
    """The defaults, overridden by every value given (None keeps the default)."""
    p = dict(DEFAULTS, seed=0)
    p.update({k: v for k, v in params.items() if v is not None})
    return p


# ---------------------------------------------------------------------------------------
# data


def load(dataset: str):
    """The data matrix (samples x features, float64) of ``dataset``, standardized where
    :data:`DATASETS` says so. ValueError for an unknown name or without scikit-learn."""
    if dataset not in DATASETS:
        raise ValueError(f"unknown dataset {dataset!r}; the datasets are: "
                         f"{', '.join(sorted(DATASETS))}")
    try:
        import sklearn.datasets as skd
    except ImportError:
        raise ValueError("explore realdata needs scikit-learn: pip install 'dmf-verify[data]'") from None
    import numpy as np

    loader, standardize = DATASETS[dataset]
    X = np.array(getattr(skd, loader)().data, dtype=float)
    if standardize:
        sd = X.std(axis=0)
        X = (X - X.mean(axis=0)) / np.where(sd > 0, sd, 1.0)
    return X


def _cov(X, idx):
    import numpy as np

    C = np.cov(X[idx], rowvar=False)
    return (C + C.T) / 2  # exactly symmetric


def default_m(n_samples: int, n: int) -> list[int]:
    """2n, 4n, 8n, 16n (those below the sample count), then every sample."""
    return [k * n for k in (2, 4, 8, 16) if 2 <= k * n < n_samples] + [n_samples]


def _check_ms(ms, n_samples, dataset):
    out = []
    for m in ms:
        m = n_samples if m == "all" else m
        if isinstance(m, bool) or not isinstance(m, int):
            raise ValueError(f"m must be an integer or 'all', got {m!r}")
        if m < 2:
            raise ValueError(f"m = {m}: a covariance needs at least 2 samples")
        if m > n_samples:
            raise ValueError(f"m = {m} exceeds the {n_samples} samples of {dataset}")
        out.append(m)
    if not out:
        raise ValueError("give at least one subset size m")
    if len(set(out)) != len(out):
        raise ValueError(f"m lists a subset size twice: {', '.join(map(str, out))}")
    return sorted(out)


def _auto_rank(s):
    top = min(RANK_SEARCH, len(s) - 1)
    ratios = [s[i] / s[i + 1] if s[i + 1] > 0 else math.inf for i in range(top)]
    return 1 + max(range(top), key=lambda i: ratios[i])


# ---------------------------------------------------------------------------------------
# the dynamics


def setting(C, E, p, rank):
    """The :class:`verify.explore.Setting` of target C and perturbation E (float64)."""
    from verify.explore import make_setting

    return make_setting(depth=p["depth"], alpha=p["alpha"], eta=p["eta"], rank=rank,
                        eps=p["eps"], theta=p["theta"], target=C, perturbation=E,
                        linalg="float64", target_name="C (full-data covariance)",
                        perturbation_name="E = C_m - C")


def trajectory(st, ks, max_steps):
    """x_i(k) for every lane i (Y's eigenvalues, descending) at the steps ``ks``: a dict
    k -> float64 array, from the float64 lanes of :mod:`verify.fastlanes` (the iteration of
    :func:`verify.explore.simulate`'s fast engine). A lane that left |x| <= 10 max(1, alpha,
    |t_i|^(1/N)) (divergence) is NaN from then on."""
    import numpy as np

    from verify.fastlanes import run_lanes

    t = np.array([float(v) for v in st.t])
    N, alpha = st.depth, float(st.alpha)
    bound = 10 * max(1.0, alpha, float(np.max(np.abs(t) ** (1.0 / N))))
    res = run_lanes(t, np.zeros_like(t), depth=N, alpha=alpha, eta=float(st.eta),
                    max_steps=max_steps, checkpoints=ks, divergence_bound=bound)
    return {k: res.checkpoints[k][0] for k in ks}


def products(st, xs):
    """Q diag(x^N) Q^T (claim R1's product) for a vector x of lane values."""
    import numpy as np

    Q = np.asarray(st.Q, dtype=float)
    return (Q * np.asarray(xs) ** st.depth) @ Q.T


def _spec(A):
    import numpy as np

    w = np.linalg.eigvalsh(A)
    return float(max(abs(w[0]), abs(w[-1])))


def _fro(A):
    import numpy as np

    return float(np.sqrt(np.sum(A * A)))


def _interval(sim, K):
    """(T0, end) of the observed interval within [0, K], or None when it is empty/unknown."""
    T0, T1 = sim["T0"], sim["T1"]
    if not isinstance(T0, int) or not sim["nonempty"]:
        return None
    end = T1 if isinstance(T1, int) else K
    return (T0, min(end, K)) if T0 <= min(end, K) else None


def _one_m(st, p, sim, Cr, C):
    """The error curve and the denoising numbers of one subset size."""
    import numpy as np

    K = p["max_steps"]
    Q = np.asarray(st.Q, dtype=float)
    t = np.array([float(v) for v in st.t])
    r, N = st.r, st.depth
    iv = _interval(sim, K)
    grid = set(np.unique(np.linspace(0, K, CURVE_POINTS + 1).round().astype(int)).tolist())
    inside = []
    if iv is not None:
        a, b = iv
        inside = (list(range(a, b + 1)) if b - a + 1 <= INTERVAL_POINTS else
                  np.unique(np.linspace(a, b, INTERVAL_POINTS).round().astype(int)).tolist())
    ks = sorted(grid | set(inside))
    xs = trajectory(st, ks, K)
    # ||Q diag(p) Q^T - C_r||_F = ||diag(p) - Q^T C_r Q||_F (Q orthogonal to ~1e-15)
    Kr = Q.T @ Cr @ Q
    dK, nK = np.diag(Kr), float(np.sum(Kr * Kr))
    P = np.array([xs[k] ** N for k in ks])
    err = np.sqrt(np.maximum(nK - 2 * P @ dK + np.sum(P * P, axis=1), 0.0))
    err_of = dict(zip(ks, err.tolist()))
    Yplus = (Q * np.maximum(t, 0.0)) @ Q.T
    Yr = (Q[:, :r] * t[:r]) @ Q[:, :r].T
    out = {"curve_k": sorted(grid), "curve_err": [err_of[k] for k in sorted(grid)],
           "interval": list(iv) if iv else None,
           "Yplus_F": _fro(Yplus - Cr), "Yplus_2": _spec(Yplus - Cr), "Yr_F": _fro(Yr - Cr),
           "YplusC_F": _fro(Yplus - C), "at": {}}
    if iv is not None:
        best = min(inside, key=lambda k: (err_of[k], k))
        for name, k in (("T0", iv[0]), ("best", best)):
            X_k = products(st, xs[k])
            out["at"][name] = {"k": k, "err_F": _fro(X_k - Cr), "err_2": _spec(X_k - Cr),
                               "errC_F": _fro(X_k - C)}
        out["interval_stride"] = 1 if len(inside) == iv[1] - iv[0] + 1 else (
            (iv[1] - iv[0]) / max(len(inside) - 1, 1))
    # accuracy of Y's eigendecomposition (the product is formed in its eigenbasis)
    Y = np.asarray(st.Y, dtype=float)
    out["eig_residual"] = _spec(Y @ Q - Q * t) / max(_spec(Y), 1e-300)
    out["orth_defect"] = _spec(Q.T @ Q - np.eye(st.n))
    return out


# ---------------------------------------------------------------------------------------
# the study


def _in_bounds(sim, ub, lb):
    """Whether the observed T0~ <= ub and T1~ >= lb (lb None: infinite); None if T0~ is unknown."""
    if not isinstance(sim["T0"], int):
        return None
    t1 = sim["T1"]
    if lb is None:
        t1_ok = isinstance(t1, str)  # only a censored T1 (">= K") can be infinite
    elif isinstance(t1, int):
        t1_ok = t1 >= lb
    else:
        t1_ok = isinstance(t1, str) and int(t1.split()[-1]) >= lb
    return bool(sim["T0"] <= ub and t1_ok)


def _claim_rows(m, e2, eF, pred, sim, noiseless, err_bound):
    """The predicted rows (claim-labelled when predict reports every hypothesis holding) and
    the observed interval (EMPIRICAL)."""
    blank = {c: None for c in COLUMNS}
    estar = float(pred["critical_noise"]) if pred["critical_noise"] else None
    hyps = {h["name"]: h["holds"] for h in pred["hypotheses"]}
    any_name = "P4 W-only (every E with ||E|| <= e)"
    core_ok = all(v is True for k, v in hyps.items() if k != any_name)
    rows = []
    variants = [("T0_upper", "T1_lower", "nonempty_predicted", core_ok,
                 "predicted [T0~ <=, T1~ >=]" + (" (L1)" if noiseless else " (P4, Y's t_i)"))]
    if not noiseless:
        variants.append(("T0_upper_any", "T1_lower_any", "nonempty_predicted_any",
                         core_ok and hyps.get(any_name) is True,
                         "predicted, W-only (P4, any ||E|| <= e)"))
    for ku, kl, kn, ok, name in variants:
        ub, lb = pred.get(ku), pred.get(kl)
        bounded = ok and ub is not None
        rows.append(dict(blank, m=m, row=name, e_2=e2, e_star=estar,
                         T0=ub if bounded else None,
                         T1=(lb if lb is not None else "inf") if bounded else None,
                         nonempty=pred[kn] if bounded else None,
                         in_bounds=_in_bounds(sim, ub, lb) if bounded else None,
                         label=("L1" if noiseless else "P4") if bounded else "EMPIRICAL"))
    rows.append(dict(blank, m=m, row="error bound in interval" + (" (L2)" if noiseless else " (P5)"),
                     e_2=e2, err_2=err_bound if core_ok else None,
                     label=("L2" if noiseless else "P5") if core_ok else "EMPIRICAL"))
    err_in = sim["error_in_interval"]
    rows.append(dict(blank, m=m, row="observed [T0~, T1~]", e_2=e2, e_F=eF, T0=sim["T0"],
                     T1=sim["T1"], nonempty=sim["nonempty"],
                     err_2=float(err_in) if err_in is not None else None, label="EMPIRICAL"))
    return rows


def _error_bound(st, noiseless):
    """L2's max(eps s_1, theta) for E = 0, else P5's max(eps (s_1 + e), theta) + 2 (e + s_r+1)."""
    import mpmath

    from bounds.perturbed import p5_error_bound

    with mpmath.workdps(st.dps):
        if noiseless:
            return float(max(st.eps * st.s[0], st.theta))
        return float(p5_error_bound(list(st.s), st.r, st.e, st.eps, st.theta))


def run(params: dict, *, progress=None) -> dict:
    import numpy as np

    from verify.beyond.common import study_result
    from verify.explore import predict, simulate

    p = _params(params)
    seed = p["seed"]
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a nonnegative integer, got {seed!r}")
    ms_in = p["m"]
    X = load(p["dataset"])
    M, n = X.shape
    ms = _check_ms(default_m(M, n) if ms_in is None else list(ms_in), M, p["dataset"])
    K = p["max_steps"]
    if isinstance(K, bool) or not isinstance(K, int) or not 1 <= K <= MAX_STEPS_CAP:
        raise ValueError(f"max steps must be an integer in 1..{MAX_STEPS_CAP}, got {K!r}")
    C_raw = _cov(X, np.arange(M))
    scale = float(np.linalg.eigvalsh(C_raw)[-1])
    C = C_raw / scale
    s_all = np.linalg.eigvalsh(C)[::-1]
    rank = p["rank"]
    if rank is None:
        rank = _auto_rank(s_all)
    if isinstance(rank, bool) or not isinstance(rank, int) or not 1 <= rank < n:
        raise ValueError(f"rank r must be an integer in 1..{n - 1} for the {n}x{n} covariance "
                         f"of {p['dataset']}, got {rank!r}")
    perm = np.random.default_rng(seed).permutation(M)
    rows, series, notes_adj, eig_acc, theta = [], [], set(), [], None
    total = len(ms)
    for j, m in enumerate(ms):
        if progress is not None:
            progress(j, total, f"m = {m}")
        idx = np.arange(M) if m == M else np.sort(perm[:m])
        E = _cov(X, idx) / scale - C
        st = setting(C, E, p, rank)
        notes_adj.update(st.adjustments)
        theta = float(st.theta)
        pred = predict(st)
        sim = simulate(st, max_steps=K)
        noiseless = not np.any(E)
        e2, eF = float(st.e), _fro(E)
        Cr = (np.asarray(st.V[:, :rank]) * np.array([float(v) for v in st.s[:rank]])) @ \
            np.asarray(st.V[:, :rank]).T
        dn = _one_m(st, p, sim, Cr, C)
        eig_acc.append((dn["eig_residual"], dn["orth_defect"]))
        rows += _claim_rows(m, e2, eF, pred, sim, noiseless, _error_bound(st, noiseless))
        for name, what in (("T0", "denoising at k = T0~"), ("best", "denoising at best k")):
            at = dn["at"].get(name)
            row = {c: None for c in COLUMNS}
            row.update(m=m, row=what, e_2=e2, Yplus_F=dn["Yplus_F"], Yplus_2=dn["Yplus_2"],
                       Yr_F=dn["Yr_F"], YplusC_F=dn["YplusC_F"], label="EMPIRICAL")
            if at is not None:
                row.update(k=at["k"], err_F=at["err_F"], err_2=at["err_2"], errC_F=at["errC_F"],
                           ratio_F=at["err_F"] / dn["Yplus_F"] if dn["Yplus_F"] > 0 else None,
                           ratio_2=at["err_2"] / dn["Yplus_2"] if dn["Yplus_2"] > 0 else None)
            rows.append(row)
        series.append({"m": m, "e_2": e2, "k": dn["curve_k"], "err_F": dn["curve_err"],
                       "Yplus_F": dn["Yplus_F"], "interval": dn["interval"],
                       "predicted": [pred["T0_upper"], pred["T1_lower"]]
                       if pred["T0_upper"] is not None else None,
                       "predicted_nonempty": pred["nonempty_predicted"],
                       "sim_status": sim["status"]})
    if progress is not None:
        progress(total, total, "done")
    gap = (float(s_all[rank - 1]), float(s_all[rank]))
    params_out = {k: p[k] for k in ("dataset", "depth", "alpha", "eta", "eps", "theta",
                                    "max_steps")}
    params_out.update(m=ms, rank=rank, rank_auto=p["rank"] is None, seed=seed)
    notes = [
        f"{p['dataset']}: {M} samples, n = {n}; C = cov (ddof 1) of "
        f"{'standardized' if DATASETS[p['dataset']][1] else 'raw'} features divided by its "
        f"largest eigenvalue {scale:.6g} (so s_1 = 1); C_m: the first m samples of one seeded "
        f"permutation (nested subsets), same formula and scale; E = C_m - C",
        f"rank r = {rank}{' (auto: largest s_r/s_r+1 for r <= %d)' % RANK_SEARCH if p['rank'] is None else ''}: "
        f"s_r = {gap[0]:.4g}, s_r+1 = {gap[1]:.4g}, gap s_r - s_r+1 = {gap[0] - gap[1]:.4g}, "
        f"ratio {gap[0] / gap[1]:.4g}" if gap[1] > 0 else f"rank r = {rank}: s_r+1 = 0",
        f"theta = {theta:.6g}" + (" (default eps * s_r)" if p["theta"] is None else ""),
        "predicted rows: predict's T0_upper / T1_lower (P4; L1 when E = 0) and the error bound "
        "(P5; L2 when E = 0), labelled with the claim only when every hypothesis predict "
        "reports holds; in_bounds: the observed T0~ <= T0_upper and T1~ >= T1_lower",
        "observed rows: simulate (reduced dynamics, claim R1, float64 lanes); T1 '>= K' is "
        "censored at max_steps; err_2: simulate's error_in_interval, the largest ||X_k - C_r||_2 "
        "over 33 evenly spaced steps of the observed interval (to compare with the P5/L2 bound)",
        "denoising rows (EMPIRICAL): X_k = Q diag(x_i(k)^N) Q^T (Y's float64 eigh, x_i from "
        "verify.fastlanes); err = ||X_k - C_r|| (C_r: best rank-r approximation of the "
        "full-data C), Yplus = ||Y_+ - C_r|| (the limit, P1), ratio = err / Yplus; Yr_F = "
        "||Y_r - C_r||_F, Y_r the best rank-r approximation of Y (truncated eigendecomposition, "
        "for reference); errC_F / YplusC_F: ||X_k - C||_F / ||Y_+ - C||_F against the full-data "
        "C itself (not low rank); best k: the smallest ||X_k - C_r||_F over the steps of the observed "
        f"interval (every step up to {INTERVAL_POINTS}, else {INTERVAL_POINTS} evenly spaced)",
        f"eigendecomposition of Y (numpy eigh): max relative residual ||YQ - QT||_2/||Y||_2 = "
        f"{max(a for a, _ in eig_acc):.2g}, max ||Q^TQ - I||_2 = {max(b for _, b in eig_acc):.2g}",
    ] + [f"adjustment: {a}" for a in sorted(notes_adj)]
    finding = _finding(p["dataset"], rank, K, rows)
    result = study_result("realdata", title=TITLE, seed=seed, params=params_out, columns=COLUMNS,
                          rows=rows, finding=finding, notes=notes)
    from verify.beyond.common import _jsonable

    result["series"] = _jsonable(series)
    return result


def _finding(dataset, rank, K, rows):
    """One sentence from the rows: at the noisy subset sizes, how often X_T0 beats Y_+ against
    C_r, how it compares with Y's rank-r truncation and against C itself, and how often P4
    (Y's t_i) predicts / simulate observes a nonempty interval."""
    noisy = sorted({r["m"] for r in rows if r["e_2"] > 0})
    den = [r for r in rows if r["row"] == "denoising at k = T0~" and r["ratio_F"] is not None
           and (r["e_2"] > 0 or not noisy)]
    if not den:
        return f"On {dataset} (r = {rank}) no observed low-rank interval was found within {K} steps."
    lo, hi = min(r["ratio_F"] for r in den), max(r["ratio_F"] for r in den)
    rel = [r["err_F"] / r["Yr_F"] for r in den if r["Yr_F"] > 0]
    out = (f"On {dataset} (r = {rank}), at {'the noisy' if noisy else 'the'} subset sizes the "
           f"early-stopped product X_T0~ is closer to the full-data C_r than the limit Y_+ at "
           f"{sum(r['ratio_F'] < 1 for r in den)} of {len(den)} (Frobenius ratio {lo:.3g} to "
           f"{hi:.3g}")
    if rel:
        out += f"; {min(rel):.3g} to {max(rel):.3g} times the error of Y's rank-r truncation"
    out += ")"
    if noisy:
        vs_c = sum(1 for r in den if r["errC_F"] < r["YplusC_F"])
        pred = sum(1 for r in rows if r["m"] in noisy and r["row"].startswith("predicted [")
                   and r["label"] == "P4" and r["nonempty"])
        obs = sum(1 for r in rows if r["m"] in noisy and r["row"].startswith("observed")
                  and r["nonempty"])
        out += (f" but closer to C itself at {vs_c}, and P4 predicts a nonempty interval at "
                f"{pred} of {len(noisy)} while one is observed at {obs}")
    return out + "."


# ---------------------------------------------------------------------------------------
# figure


def figures(result: dict, out_dir: str) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from verify.beyond.common import save_figure

    ser = result["series"]
    pr = result["params"]
    styles = ["-", "--", "-.", ":", (0, (5, 1, 1, 1))]
    colors = ["tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown",
              "tab:pink", "tab:gray"]
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(13, 5), layout="constrained",
                                  gridspec_kw={"width_ratios": [3, 2]})
    for j, s in enumerate(ser):
        c, ls = colors[j % len(colors)], styles[j % len(styles)]
        lab = f"m = {s['m']} ($\\|E\\|_2$ = {s['e_2']:.3g})"
        ax.plot(s["k"], s["err_F"], color=c, ls=ls, lw=1.6, label=lab)
        ax.axhline(s["Yplus_F"], color=c, ls=ls, lw=0.9, alpha=0.7)
        if s["interval"]:
            ax.axvspan(s["interval"][0], s["interval"][1], color=c, alpha=0.08)
        # right panel: predicted vs observed interval per m
        y = j
        if s["interval"]:
            a, b = s["interval"]
            ax2.plot([a, b], [y + 0.12, y + 0.12], color=c, lw=5, solid_capstyle="butt")
        else:
            ax2.text(0.02, y + 0.12, "observed: empty", color=c, fontsize=8,
                     transform=ax2.get_yaxis_transform(), va="center")
        if s["predicted"]:
            ub, lb = s["predicted"]
            if s["predicted_nonempty"]:
                ax2.plot([ub, lb if lb is not None else pr["max_steps"]], [y - 0.12, y - 0.12],
                         color=c, lw=5, alpha=0.45, solid_capstyle="butt")
            else:
                ax2.plot([ub], [y - 0.12], "x", color=c, ms=8)
                if lb is not None:
                    ax2.plot([lb], [y - 0.12], "|", color=c, ms=12)
                ax2.text(ub, y - 0.32, "predicted empty (UB0 > LB1)", color=c, fontsize=7)
        else:
            ax2.text(0.02, y - 0.12, "no bound (hypotheses fail)", color=c, fontsize=8,
                     transform=ax2.get_yaxis_transform(), va="center")
    ax.set_xlabel("gradient-descent step $k$")
    ax.set_ylabel(r"$\|X_k - C_r\|_F$")
    ax.set_xlim(0, pr["max_steps"])
    ax.set_title(f"{pr['dataset']}: r = {pr['rank']}, N = {pr['depth']}, $\\alpha$ = {pr['alpha']}, "
                 f"$\\eta$ = {pr['eta']}, $\\varepsilon$ = {pr['eps']}\nthin lines: "
                 r"$\|Y_+ - C_r\|_F$ (the limit); shaded: observed $[\tilde T_0, \tilde T_1]$",
                 fontsize=10)
    ax.legend(fontsize=8, loc="best")
    ax.grid(True, alpha=0.3)
    ax2.set_yticks(range(len(ser)), [f"m = {s['m']}" for s in ser])
    ax2.set_ylim(-0.7, len(ser) - 0.3)
    ax2.set_xlabel("step $k$")
    ax2.set_title("observed $[\\tilde T_0, \\tilde T_1]$ (solid, upper) vs predicted\n"
                  "[UB0, LB1] (P4/L1, pale, lower; x = UB0, | = LB1 when empty)", fontsize=10)
    ax2.grid(True, axis="x", alpha=0.3)
    paths = save_figure(fig, out_dir, "beyond_realdata")
    plt.close(fig)
    return paths
