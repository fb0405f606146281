"""Study ``adam``: Adam instead of gradient descent on the paper's setting.

The paper's setting exactly (W_j(0) = alpha I, the PSD target, optionally a seeded random
symmetric perturbation of norm ``--noise``), optimized by Adam (:mod:`verify.beyond.matrixgd`:
entrywise, bias-corrected, ``--beta1``, ``--beta2``, ``--adam-eps``) for each step size of
``--lrs``, next to GD at the paper's eta (the control). Adam's update is entrywise, so it
does not commute with the eigenvectors of Y: the factors leave the form Q diag(x) Q^T and
R1's reduction does not apply; the runs are full-matrix float64.

Each row: the observed T0, T1 (singular values of P against Y's eigenvalues, negative ones
as 0, :func:`verify.beyond.outside.observe`), ``T1/T0`` (the length of the interval in units
of the time to learn the top r, comparable across optimizers whose steps differ in size),
the effective rank at T0 and at the end, and the paper's bounds for the nearest covered
setting, GD at eta from the same start (L1, or P4 with noise): Adam's steps are not GD's, so
``bounds_hold`` compares step counts of two different iterations and is reported only as
what the bounds would say if they applied. The GD row is labelled R1 when, measured in the
same run, it equals the reduced dynamics; the Adam rows are EMPIRICAL.
"""

from __future__ import annotations

from verify.beyond import outside as ob

TITLE = "Adam (entrywise, bias-corrected) on the paper's setting against GD at its eta"

DEFAULT_LRS = [3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1]
COLUMNS = ["optimizer", "lr", "T0", "T1", "nonempty", "T1_over_T0", "T0_upper", "T1_lower",
           "bounds_hold", "rank_at_T0", "rank_final", "loss_final", "status", "R1_deviation"]


def add_arguments(parser) -> None:
    from verify.cli import _float_arg, _positive_float

    ob.add_problem_arguments(parser)
    parser.add_argument("--lrs", type=ob.grid_arg, default=list(DEFAULT_LRS),
                        metavar="lr1,lr2,...",
                        help="Adam step sizes lr > 0, one row each (default "
                             "3e-4,1e-3,3e-3,1e-2,3e-2,0.1)")
    parser.add_argument("--beta1", type=_float_arg, default=0.9,
                        help="Adam's first-moment decay, in [0, 1) (default %(default)s)")
    parser.add_argument("--beta2", type=_float_arg, default=0.999,
                        help="Adam's second-moment decay, in [0, 1) (default %(default)s)")
    parser.add_argument("--adam-eps", type=_positive_float, default=1e-8,
                        help="Adam's denominator offset > 0 (default %(default)s)")
    parser.add_argument("--noise", type=_float_arg, default=0.0, metavar="e",
                        help="spectral norm e >= 0 of a seeded random symmetric perturbation "
                             "of the target (default 0: none)")


def run(params: dict, *, progress=None) -> dict:
    from verify.beyond.matrixgd import _check_real, identity_init, run_matrix

    p = ob.problem_params(params)
    lrs = ob.check_grid(params.get("lrs", DEFAULT_LRS), "lrs", lo=0, lo_open=True)
    b1 = _check_real(params.get("beta1", 0.9), "beta1", lo=0, lo_open=False, hi=1)
    b2 = _check_real(params.get("beta2", 0.999), "beta2", lo=0, lo_open=False, hi=1)
    ae = _check_real(params.get("adam_eps", 1e-8), "adam_eps", lo=0)
    noise = _check_real(params.get("noise", 0.0), "noise", lo=0, lo_open=False)
    seed = ob.check_seed(params.get("seed", 0))
    pb = ob.build_problem(p, noise=noise or None, seed=seed)
    pred = ob.predicted(pb.st)
    levels = ob.reference_levels_of(pb)
    init = identity_init(p["n"], p["depth"], p["alpha"])
    runs = [("gd", p["eta"])] + [("adam", lr) for lr in lrs]
    rows, series, notes = [], [], []
    for j, (opt, lr) in enumerate(runs):
        if progress is not None:
            progress(j, len(runs), f"{opt} lr={lr:g}")
        mr = run_matrix(pb.Y, init, lr=lr, steps=p["steps"], optimizer=opt, beta1=b1,
                        beta2=b2, adam_eps=ae)
        obs = ob.observe(mr, levels, p)
        T0, T1 = obs["T0"], obs["T1"]
        row = {"optimizer": opt, "lr": lr, "T0": T0, "T1": T1, "nonempty": obs["nonempty"],
               "T1_over_T0": (T1 / T0 if isinstance(T0, int) and isinstance(T1, int) and T0 > 0
                              else None),
               "T0_upper": pred["T0_upper"], "T1_lower": pred["T1_lower"],
               "bounds_hold": ob.bounds_hold(obs, pred),
               **{k: obs[k] for k in ("rank_at_T0", "rank_final", "loss_final", "status")},
               "R1_deviation": None, "label": "EMPIRICAL"}
        if opt == "gd":
            ctl = ob.reduced_control(pb, mr)
            row["R1_deviation"] = ctl["R1_deviation"]
            row["label"] = "R1" if ctl["agrees"] else "EMPIRICAL"
            notes.append(f"control GD at eta = {lr:g}: full-matrix T0 = {T0}, T1 = {T1}; "
                         f"reduced {ctl['reduced_T0']}, {ctl['reduced_T1']}; deviation "
                         f"{ctl['R1_deviation']:.2e} (model {ctl['R1_tolerance']:.1e}): "
                         + ("R1" if ctl["agrees"] else "does NOT agree, EMPIRICAL"))
        rows.append(row)
        series.append(ob.series(mr, f"{opt} lr={lr:g}", p["rank"]))
    if progress is not None:
        progress(len(runs), len(runs), "done")
    ub, lb = pred["T0_upper"], pred["T1_lower"]
    notes += [
        f"nearest covered setting of every row: GD at eta = {p['eta']:g} from alpha I "
        f"({'P4' if noise else 'L1'}: T0 <= {ub}, T1 >= {lb}"
        + (f", LB1/UB0 = {lb / ub:.3g}" if ub and lb else "") + "); Adam's steps are not GD's",
        f"Adam: beta1 = {b1:g}, beta2 = {b2:g}, adam_eps = {ae:g}, bias-corrected, m = v = 0 "
        f"at the start",
        "T0 = max_{i<=r} first k with sigma_i(P(k)) >= (1-eps) t_i; T1 = (first k with "
        "sigma_{r+1}(P(k)) > theta) - 1; effective rank: #{sigma_i >= 1e-3 sigma_1}",
    ]
    out = dict(p, lrs=lrs, beta1=b1, beta2=b2, adam_eps=ae, noise=noise)
    return ob.result("adam", TITLE, seed, out, rows, _finding(rows, pred), notes, COLUMNS,
                     series)


def _finding(rows, pred) -> str:
    gd, adam = rows[0], rows[1:]
    parts = [f"GD at eta = {gd['lr']:g}: T0 = {gd['T0']}, T1 = {gd['T1']}"
             + (f" (T1/T0 = {gd['T1_over_T0']:.3g})" if gd["T1_over_T0"] else "")]
    ok = [r for r in adam if r["nonempty"] is True]
    if ok:
        ratios = [r["T1_over_T0"] for r in ok if r["T1_over_T0"] is not None]
        lrs = ", ".join(f"{r['lr']:g}" for r in ok)
        parts.append(f"Adam keeps a nonempty interval for lr in {{{lrs}}}"
                     + (f" with T1/T0 from {min(ratios):.3g} to {max(ratios):.3g}"
                        if ratios else ""))
    else:
        parts.append("Adam has no nonempty interval at any lr of the grid")
    empty = ob.first_where(adam, "nonempty", lambda r: r["nonempty"] is False)
    if empty:
        parts.append(f"it is empty from lr = {empty['lr']:g} (T0 = {empty['T0']}, "
                     f"T1 = {empty['T1']})")
    cens = [r["lr"] for r in adam if isinstance(r["T0"], str)]
    if cens:
        parts.append(f"T0 is not reached within the steps for lr in "
                     f"{{{', '.join(f'{x:g}' for x in cens)}}}")
    inside = [r["lr"] for r in adam if r["bounds_hold"] is True]
    parts.append(f"GD's bounds (T0 <= {pred['T0_upper']}, T1 >= {pred['T1_lower']}) hold for "
                 f"Adam at lr in {{{', '.join(f'{x:g}' for x in inside)}}} only" if inside else
                 f"GD's bounds (T0 <= {pred['T0_upper']}, T1 >= {pred['T1_lower']}) hold for "
                 f"no Adam run")
    return "; ".join(parts) + "."


def figures(result: dict, out_dir: str) -> list:
    labels = [f"{r['optimizer']} {r['lr']:g}" for r in result["rows"]]
    return ob.interval_figure(result, out_dir, "beyond_adam", xkey="lr", xlabels=labels, logx=True,
                              xlabel="optimizer, step size",
                              title="Adam against GD on the paper's setting (EMPIRICAL; GD "
                                    "at eta is the control)")
