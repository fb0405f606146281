"""Certified volume stage of the perturbed claim P3 (see :mod:`verify.volume`).

P3: for the eigenvalue t of Y paired with s (any t in [s-e, s+e]),
``(s-d)/(s+e-d) tau_s/eta <= K_t(d) <= ceil(rho(s+e) (s-d)/(s-d-e) tau_s/eta)``,
``tau_s = tau_s(alpha^N, d)``, ``eta = eta_fraction / (N (s+e)^A)``; the lower part only
where d is in K1's range for t (as the HP check, :func:`verify.checks.perturbed.check_p3`).

The draws follow verify/specs/perturbed.py's P3 builder with ``t_source = "interval"``
(t = s - e + 2 e t_frac): the same raw ranges, d = d_frac s, e = e_frac (s - d), alpha
log-uniform between the step budget's floor (vectorized, float64 flow times from
:mod:`verify.fasttau`; no verdict depends on them) and (0.999 d)^(1/N). s, d, e and t_frac
are rounded down to multiples of 2^-24, so that t = s - e + 2 e t_frac is *exactly* a float
(every term is a multiple of 2^-48 below 4: 50 bits): the hitting step is that of the exact
paired eigenvalue, and the HP check computes the same t exactly. Instances with
``t_source = "matrix"`` (a computed eigenvalue of W + E) are not drawn; decided they would
be UNDECIDED.

Verdicts compare certified hitting steps (:func:`verify.volume.common.hitting_steps`) with
the claim's ball evaluator ``p3_bounds_real_ball`` (bounds/enclosures.py), eta the ball of
the real eta_fraction / (N (s+e)^A); the hypotheses are the claim's evaluators
(``p3_hypothesis_failures``, ``paired_eigenvalue_consistent``, ``k1_hypotheses``) at
:data:`HYP_DPS` digits, where the comparisons of the float inputs are exact (see
:func:`_hypotheses`).

>>> from verify.volume import run_volume
>>> r = run_volume("P3", 10, seed=1)
>>> r.counts["PASS"], r.certified
(10, 10)
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
from flint import arb, ctx as flint_ctx, fmpq

from verify.volume.common import ESCALATE, PREC, UNDECIDED_STEP, Decision, VolumeSpec, ball, hitting_steps

__all__ = ["VOLUME", "draw_p3", "decide_p3", "p3_eta_ball", "GRID"]

GRID = 2.0**-24  # s, d, e, t_frac are multiples of it: t = s - e + 2 e t_frac is a float
HYP_DPS = 120    # exact for the float inputs (see _hypotheses)


def _budget():
    """The volume stage's step budget: 20 000 predicted steps, as the flow claims' volume
    stage (verify/specs/flow.py BUDGET), a tenth of the P3 builder's STEP_BUDGET. The screen
    runs each depth up to its slowest lane: at the builder's budget that is ~80 000 steps (12 s
    per 1000 instances on one core). Only the lower end of alpha's range moves."""
    return 20_000


# ---------------------------------------------------------------------------------------
# draws


def _grid(x):
    return np.floor(x / GRID) * GRID


def _p3_predicted_steps(s, e, d, alpha, eta, N):
    """Vectorized verify.specs.perturbed._p3_predicted_steps (float64): exp((N-1) eta (s+e)^A)
    tau_{s-e}(alpha^N, d)/eta (s-d)/(s-d-e); 0 where alpha^N >= d."""
    from verify.fasttau import tau as placement_time  # float64, only to place instances

    A = 2 - 2 / N
    aN = alpha**N
    out = np.zeros_like(s)
    ok = aN < d
    if ok.any():
        se, ee, de, he = s[ok], e[ok], d[ok], eta[ok]
        out[ok] = (np.exp((N - 1) * he * (se + ee) ** A) * placement_time(se - ee, aN[ok], de, N) / he
                   * (se - de) / (se - de - ee))
    return out


def _alpha_floor(s, e, d, eta, N, hi, *, budget, iters=40):
    """Vectorized verify.specs.params.log_bisect as the P3 builder calls it: the smallest
    alpha in [min(hi, 1e-12^(1/N)), hi] whose predicted steps fit the budget (hi if none)."""
    floor = np.minimum(hi, 1e-12 ** (1 / N))
    fits_floor = _p3_predicted_steps(s, e, d, floor, eta, N) <= budget
    fits_hi = _p3_predicted_steps(s, e, d, hi, eta, N) <= budget
    lo_l, hi_l = np.log(floor), np.log(hi)
    for _ in range(iters):
        m = (lo_l + hi_l) / 2
        fits = _p3_predicted_steps(s, e, d, np.exp(m), eta, N) <= budget
        hi_l = np.where(fits, m, hi_l)
        lo_l = np.where(fits, lo_l, m)
    return np.where(fits_floor, floor, np.where(fits_hi, np.exp(hi_l), hi))


def draw_p3(rng, count, *, budget=None):
    """P3 instances as verify/specs/perturbed.py `_p3` with t_source "interval": depth 2..5,
    s in [0.2, 2], d_frac in [0.02, 0.95], e_frac in [0, 0.95], t_frac in [0, 1],
    eta_fraction in [0.05, 0.95], alpha log-uniform between the budget floor and
    (0.999 d)^(1/N); s, d, e, t_frac on the 2^-24 grid (module docstring); one instance in
    eight at e_frac = 0 with eta_fraction in [0.05/30, 0.05], and one in eight at t_frac = 0
    (where the bounds are tight: without them no instance in a thousand has its upper bound
    within 2 % of K)."""
    budget = _budget() if budget is None else budget
    N_all = rng.integers(2, 6, count)
    s_all = _grid(rng.uniform(0.2, 2.0, count))
    df_all = rng.uniform(0.02, 0.95, count)
    ef_all = rng.uniform(0.0, 0.95, count)
    u_all = _grid(rng.uniform(0.0, 1.0, count))
    f_all = rng.uniform(0.05, 0.95, count)
    ap_all = rng.uniform(0.0, 1.0, count)
    # the edges of the raw ranges where the bounds are tight, one instance in eight each:
    # e_frac = 0 (E = 0, t = s) and t_frac = 0 (the slowest paired eigenvalue t = s - e)
    corner = rng.uniform(0.0, 1.0, count)
    # at e_frac = 0 eta_fraction is log-uniform in [0.05/30, 0.05] (below the builder's range:
    # the upper bound is within 2 % of K only for small eta, as K2's; tightness SMALL_ETA)
    ef_all = np.where(corner < 0.125, 0.0, ef_all)
    f_all = np.where(corner < 0.125, 0.05 * 30.0 ** (-(corner / 0.125)), f_all)
    u_all = np.where((corner >= 0.125) & (corner < 0.25), 0.0, u_all)
    d_all = _grid(df_all * s_all)
    e_all = _grid(ef_all * (s_all - d_all))
    out = [None] * count
    for N in np.unique(N_all):
        N = int(N)
        idx = np.nonzero(N_all == N)[0]
        s, d, e, f, ap = s_all[idx], d_all[idx], e_all[idx], f_all[idx], ap_all[idx]
        eta = f / (N * (s + e) ** (2 - 2 / N))
        hi = (0.999 * d) ** (1 / N)
        lo = _alpha_floor(s, e, d, eta, N, hi, budget=budget)
        alpha = np.where(hi > lo, np.exp(np.log(lo) + (np.log(hi) - np.log(lo)) * ap), hi)
        for j, i in enumerate(idx):
            out[i] = {"depth": N, "d": float(d[j]), "e": float(e[j]), "t_source": "interval",
                      "s": float(s[j]), "t_frac": float(u_all[i]), "alpha": float(alpha[j]),
                      "eta_fraction": float(f[j])}
    return out


# ---------------------------------------------------------------------------------------
# decisions


def p3_eta_ball(fraction, s, e, N, prec: int = PREC) -> arb:
    """eta = fraction / (N (s+e)^A) as a ball containing the real number (the inputs are
    exact floats; s + e is enclosed, not rounded)."""
    with flint_ctx.workprec(prec):
        return ball(fraction) / (N * (ball(s) + ball(e)) ** arb(fmpq(2 * N - 2, N)))


def _exact_t(inst):
    """The paired eigenvalue t = s - e + 2 e t_frac as a float when that float is t exactly
    (None otherwise, or for t_source "matrix")."""
    if inst.get("t_source", "interval") != "interval":
        return None
    s, e, u = (Fraction(inst[k]) for k in ("s", "e", "t_frac"))
    t = s - e + 2 * e * u
    f = float(t)
    return f if Fraction(f) == t else None


def _hypotheses(inst, t):
    """(failing hypotheses, want_lower) from the claim's evaluators as check_p3 calls them,
    at HYP_DPS = 120 digits: alpha^N of a float has at most 53 N <= 265 bits and s, d, e, t
    are multiples of 2^-48 below 4, so alpha^N < d, e < s - d and |t - s| <= e (ties
    included, e.g. t_frac = 0) are decided exactly; eta N (s+e)^A = eta_fraction <= 0.95 is
    far from 1, and d = t (N-1)/(2N-1) (K1's range) cannot be a tie: (2N-1) d - (N-1) t is a
    nonzero multiple of 2^-48 (t (N-1)/(2N-1) is not dyadic unless 0)."""
    import mpmath

    from verify.checks.verdict import evaluators

    N = inst["depth"]
    ev = evaluators("P3")
    # deeper instances (not drawn here) get the digits their alpha^N needs
    with mpmath.workdps(max(HYP_DPS, 16 * N + 40)):
        s, e, d, a, f = (mpmath.mpf(inst[k]) for k in ("s", "e", "d", "alpha", "eta_fraction"))
        tm = mpmath.mpf(t)
        eta = f * ev["monotone_step_bound"](s + e, N)
        fails = list(ev["p3_hypothesis_failures"](s, e, d, a, eta, N))
        if not ev["paired_eigenvalue_consistent"](s, tm, e):
            fails.append("|t - s| <= e")
        want_lower = bool(ev["k1_hypotheses"](tm, d, a, eta, N)) if not fails else False
    return fails, want_lower


def _mid(b: arb) -> float:
    return float(b.mid().str(20, radius=False))


def _p3_bounds(inst, prec):
    from verify.checks.verdict import evaluators

    N = inst["depth"]
    with flint_ctx.workprec(prec):
        E = p3_eta_ball(inst["eta_fraction"], inst["s"], inst["e"], N, prec)
        lo, up = evaluators("P3")["p3_bounds_real_ball"](
            *(ball(inst[k]) for k in ("s", "e", "d", "alpha")), E, N)
    return E, lo, up


def decide_p3(insts):
    """K - 1 < upper and, where d is in K1's range for t, lower <= K (module docstring)."""
    out = [None] * len(insts)
    by = {}
    for i, inst in enumerate(insts):
        t = _exact_t(inst)
        if t is None:
            out[i] = Decision("UNDECIDED", False, note="t is not an exactly known float "
                              "(t_source 'matrix' or off the grid)", method="undecided")
            continue
        fails, want_lower = _hypotheses(inst, t)
        if fails:
            out[i] = Decision("N/A", True, note="hypotheses false (decided exactly): " + "; ".join(fails),
                              method="exact")
            continue
        E, lo, up = _p3_bounds(inst, PREC)
        cap = int(math.floor(float(up.upper().mid().str(20, radius=False)))) + 3
        by.setdefault(inst["depth"], []).append((i, t, E, lo, up, cap, want_lower))
    for N, lanes in by.items():
        steps = hitting_steps([t for _, t, *_ in lanes], [insts[x[0]]["alpha"] for x in lanes],
                              [x[2] for x in lanes], N, [insts[x[0]]["d"] for x in lanes],
                              caps=[x[5] for x in lanes])
        for (i, t, E, lo, up, cap, want_lower), (K, method) in zip(lanes, steps):
            out[i] = _verdict(insts[i], lo, up, want_lower, K, cap, method)
    return out


def _verdict(inst, lo, up, want_lower, K, cap, method):
    if K == UNDECIDED_STEP:
        return Decision("UNDECIDED", False, note="hitting step not decided at 512 bits", method=method)
    if K is None:  # not hit by floor(upper) + 3 > ceil(upper): K > ceil(upper), certified
        return Decision("FAIL", True, -1.0, note=f"level d not reached within {cap} steps",
                        method=method)
    Kb = arb(K)
    for prec in ESCALATE:
        if prec != PREC:
            _, lo, up = _p3_bounds(inst, prec)
        up_ok, up_bad = Kb - 1 < up, Kb - 1 >= up
        lo_ok = (lo <= Kb) if want_lower else True
        lo_bad = (lo > Kb) if want_lower else False
        if up_bad or lo_bad or (up_ok and lo_ok):
            break
    else:
        return Decision("UNDECIDED", False, note=f"a bound's enclosure contains K = {K} at "
                        f"{ESCALATE[-1]} bits", method=method)
    U = _mid(up)
    slack = (U - (K - 1)) / max(abs(U), 1.0)
    notes = []
    if want_lower:
        L = _mid(lo)
        slack = min(slack, (K - L) / max(abs(K), abs(L), 1e-300))
        if lo_bad:
            notes.append(f"K = {K} < lower {L:.8g}")
    else:
        notes.append("lower part not applicable: d outside K1's range for t")
    if up_bad:
        notes.insert(0, f"K = {K} > ceil(upper)")
    meth = method if prec == PREC else f"{method}+arb-{prec}"
    # ratio K / ceil(upper), the bound as stated (K <= ceil(upper)): in (0, 1] on a PASS.
    # (check_p3 reports K / upper, which exceeds 1 on a PASS when upper < K <= ceil(upper),
    # e.g. K = 1 or 2 with alpha^N near d: summarize_volume would call that impossible.)
    ratio = K / math.ceil(U) if math.ceil(U) > 0 else None
    return Decision("FAIL" if (up_bad or lo_bad) else "PASS", True, slack, ratio,
                    note="; ".join(notes), method=meth)


VOLUME = {
    "P3": VolumeSpec(draw_p3, decide_p3),
}
