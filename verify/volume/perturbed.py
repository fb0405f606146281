"""Certified volume stage of the perturbed claims P1-P5 (see :mod:`verify.volume`).

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

P4 (Y's bounds) is drawn with the Weyl-extremal noise only (``noise_kind`` "worst", see
:func:`draw_p4`), where Y's eigenvalues are exactly ``t_i = s_i - e`` (i <= r) and
``s_i + e`` (i > r); see :func:`decide_p4` and the comment above :data:`P4_BUDGET`.

>>> r = run_volume("P4", 10, seed=1)
>>> r.counts["PASS"], r.certified
(10, 10)

P1 and P5 are drawn with noise aligned with W's eigenvectors (``noise_kind`` "worst" or
"aligned", every eigenvalue of Y exactly a float), where by R1 both conclusions are about
the scalar lanes of Y's eigenvalues; lane values come from certified hitting steps and
proved invariants of the scalar map (the section comment above :data:`P1_BUDGET`). Random
noise would need enclosures of Y's eigenvectors and is left to the HP checks (UNDECIDED
here).

>>> r = run_volume("P1", 10, seed=1)
>>> r.counts["PASS"], r.certified
(10, 10)
>>> r = run_volume("P5", 10, seed=1)
>>> r.counts["PASS"], r.certified
(10, 10)

P2 (linear algebra) is drawn as exact matrices W and E (``noise_kind`` "explicit"), every
quantity of the HP check enclosed with python-flint (the section comment above
:data:`P2_GRID_B`).

>>> r = run_volume("P2", 10, seed=1)
>>> r.counts["PASS"], r.certified
(10, 10)
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
from flint import arb, ctx as flint_ctx, fmpq

from verify.volume.common import (ESCALATE, PREC, UNDECIDED_STEP, Decision, VolumeSpec, ball,
                                   depth_groups, first_enclosed, hitting_steps)

__all__ = ["VOLUME", "GRID", "draw_p1", "decide_p1", "draw_p2", "decide_p2", "draw_p3", "decide_p3",
           "p3_eta_ball", "draw_p4", "decide_p4", "draw_p5", "decide_p5"]

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
    for N, idx in depth_groups(N_all):
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


# ---------------------------------------------------------------------------------------
# P4 with the Weyl-extremal noise
#
# Draws follow verify/specs/perturbed.py `_build_p45` (P4: nonempty False) with worst = 1:
# the same raw ranges, spectrum, e = e_frac (s_r - s_{r+1})/4, theta and alpha placement
# (alpha log-uniform between the budget floor of the predicted steps, max of Y's T0~, the
# W-only T0~ and the theta crossing, and min(theta (1 - 1e-9), (1-eps)(s_r-e)/2)^(1/N)),
# vectorized with float64 flow times. The spectrum and e are rounded down to the 2^-24 grid,
# so that every t_i = s_i -+ e is exactly a float (< 4: at most 27 bits); the groups never
# swap: s_r - e - (s_{r+1} + e) >= (s_r - s_{r+1})/2 > 0.
#
# Decisions. Hypotheses: ``p4_hypothesis_failures`` at HYP_DPS digits with the exact t of
# ``weyl_extremal_eigenvalues`` and eta = eta_fraction x ``p4_step_limit`` as check_p4 forms
# it (weyl_tol 0: |t_i - s_i| = e is exact there). eta's ball is eta_fraction x
# ``p4_step_limit_ball``; it must contain that mpmath eta (else a FAIL of the evaluators).
# UB0~'s and L's balls from ``p4_bounds_real_ball``; T0~ = the largest certified hitting step
# of the learned lanes (levels (1-eps) t_i as balls, non-strict), T1~ + 1 = the certified
# strict hitting step H of x_{r+1}^N > theta; T0~ <= ceil(UB0~) iff T0~ - 1 < UB0~,
# T1~ >= ceil(L) - 1 iff H >= L; re-enclosed at 256 and 512 bits when a comparison straddles.
# The W-only part of check_p4 (T0~ <= UB0_any) is not decided here.

P4_BUDGET = 20_000  # predicted steps per lane (the spec's STEP_BUDGET is 200 000), see _budget


def _p4_step_limit_float(s1, s_next, s_n, t1, t_n, e, alpha, N):
    """Vectorized float64 bounds.perturbed.p4_step_limit (placement only)."""
    A = 2 - 2 / N
    aN = alpha**N
    b = 1 / (N * np.maximum(t1, aN) ** A)
    pos = alpha ** (N - 2)
    b = np.where(t_n <= 0, np.minimum(b, 1 / (pos * (aN - t_n))), b)
    tp = s_next + e
    b = np.where(tp > 0, np.minimum(b, 1 / (N * np.where(tp > 0, tp, 1.0) ** A)), b)
    b = np.minimum(b, 1 / (N * np.maximum(s1 + e, aN) ** A))
    low = s_n - e
    return np.where(low <= 0, np.minimum(b, 1 / (pos * (aN - low))), b)


def _pred(t, level, alpha, eta, N, rate):
    """Vectorized verify.specs.params.predicted_steps with rate_target ``rate``."""
    from verify.fasttau import tau as placement_time  # float64, only to place instances

    A = 2 - 2 / N
    aN = alpha**N
    out = np.zeros_like(t)
    ok = (aN < level) & (level < t)
    if ok.any():
        out[ok] = (np.exp((N - 1) * eta[ok] * np.maximum(rate[ok], 0.0) ** A)
                   * placement_time(t[ok], aN[ok], level[ok], N) / eta[ok])
    return out


def _pred_many(parts, alpha, eta, N):
    """[_pred(t, level, alpha, eta, N, rate) for (t, level, rate) in parts] with one float64
    flow-time call for all of them (its cost is mostly numpy's per-call overhead)."""
    from verify.fasttau import tau as placement_time  # float64, only to place instances

    A = 2 - 2 / N
    aN = alpha**N
    m = aN.shape[0]
    t, level, rate = (np.concatenate([p[k] for p in parts]) for k in range(3))
    a, h = np.tile(aN, len(parts)), np.tile(eta, len(parts))
    out = np.zeros_like(t)
    ok = (a < level) & (level < t)
    if ok.any():
        out[ok] = (np.exp((N - 1) * h[ok] * np.maximum(rate[ok], 0.0) ** A)
                   * placement_time(t[ok], a[ok], level[ok], N) / h[ok])
    return [out[k * m:(k + 1) * m] for k in range(len(parts))]


def _p4_steps(S, R, e, eps, theta, alpha, frac, N):
    """Vectorized verify.specs.perturbed._p4_predicted_steps, the max of its three parts.
    S: (m, 4) spectra padded with nan, R: ranks."""
    m = S.shape[0]
    rows = np.arange(m)
    n = np.sum(~np.isnan(S), axis=1)
    s1, s_next, s_n = S[:, 0], S[rows, R], S[rows, n - 1]
    eta = frac * _p4_step_limit_float(s1, s_next, s_n, s1 - e, s_n + e, e, alpha, N)
    best = np.zeros(m)
    for j in range(3):
        on = j < R
        if not on.any():
            continue
        sj = np.where(on, S[:, j], 1.0)
        tj = sj - e
        y = _pred(tj, (1 - eps) * tj, alpha, eta, N, tj)
        # the W-only estimate: the same flow time, the factor at rate_target s_j + e
        A = 2 - 2 / N
        w = y * np.exp((N - 1) * eta * ((sj + e) ** A - np.maximum(tj, 0.0) ** A))
        best = np.maximum(best, np.where(on, np.maximum(y, w), 0.0))
    tp = s_next + e
    cross = np.where(theta < tp, _pred(tp, np.minimum(theta, 0.5 * tp), alpha, eta, N, tp), 0.0)
    return np.maximum(best, cross)


def _p4_alpha_range(S, R, e, eps, theta, frac, N, *, budget, iters=40):
    """(lo, hi) of alpha as ``_build_p45``'s ``limits``: hi = min(theta (1-1e-9),
    (1-eps)(s_r-e)/2)^(1/N), lo the log bisection (verify.specs.params.log_bisect) of the
    predicted steps against the budget from min(hi, 1e-12^(1/N))."""
    sr = S[np.arange(S.shape[0]), R - 1]
    hi = np.minimum(theta * (1 - 1e-9), 0.5 * (1 - eps) * (sr - e)) ** (1 / N)
    floor = np.minimum(hi, 1e-12 ** (1 / N))

    def fits(a):
        return _p4_steps(S, R, e, eps, theta, a, frac, N) <= budget

    fits_floor, fits_hi = fits(floor), fits(hi)
    a, b = np.log(floor), np.log(hi)
    for _ in range(iters):
        mid = (a + b) / 2
        f = fits(np.exp(mid))
        b = np.where(f, mid, b)
        a = np.where(f, a, mid)
    lo = np.where(fits_floor, floor, np.where(fits_hi, np.exp(b), hi))
    return lo, hi


def draw_p4(rng, count, *, budget=P4_BUDGET):
    """P4 instances as verify/specs/perturbed.py ``_build_p45`` with worst = 1 (noise_kind
    "worst"): n in 2..4, depth 2..5, r = min(r, n-1) with r in 1..3, head values in
    [0.5, 2], the tail scaled by tail_scale in [0, 0.3] below s_r (the last one 0 if
    zero_tail), e_frac in [0, 1], eps log-uniform in [1e-6, 0.3], theta log-uniform in
    [0.03, 3] x max(s_{r+1}+e, s_r/1000), eta_fraction in [0.05, 0.95]; spectrum and e on
    the 2^-24 grid (see the section comment)."""
    from verify.volume.lowrank import _log_interpolate

    n_all = rng.integers(2, 5, count)
    N_all = rng.integers(2, 6, count)
    r_raw = rng.integers(1, 4, count)
    head = rng.uniform(0.5, 2.0, (count, 3))
    tail = rng.uniform(0.0, 1.0, (count, 3))
    tail_scale = rng.uniform(0.0, 0.3, count)
    zero_tail = rng.integers(0, 2, count)
    seed = rng.integers(0, 2**31 - 1, count)
    e_frac = rng.uniform(0.0, 1.0, count)
    eps = np.exp(rng.uniform(math.log(1e-6), math.log(0.3), count))
    theta_u = rng.uniform(0.0, 1.0, count)
    alpha_u = rng.uniform(0.0, 1.0, count)
    frac = rng.uniform(0.05, 0.95, count)
    S = np.full((count, 4), np.nan)
    R = np.minimum(r_raw, n_all - 1)
    for i in range(count):
        n, r = int(n_all[i]), int(R[i])
        hs = sorted(head[i, :r], reverse=True)
        sr = hs[-1]
        tl = sorted((v * tail_scale[i] * sr for v in tail[i, : n - r]), reverse=True)
        if zero_tail[i]:
            tl[-1] = 0.0
        S[i, :n] = _grid(np.array(hs + tl))
    rows = np.arange(count)
    sr, s_next = S[rows, R - 1], S[rows, R]
    e = _grid(e_frac * 0.25 * (sr - s_next))
    theta = np.maximum(s_next + e, 1e-3 * sr) * 10 ** (2 * theta_u - 1.5)
    out = [None] * count
    for N, idx in depth_groups(N_all):
        lo, hi = _p4_alpha_range(S[idx], R[idx], e[idx], eps[idx], theta[idx], frac[idx], N,
                                 budget=budget)
        alpha = _log_interpolate(lo, hi, alpha_u[idx])
        for j, i in enumerate(idx):
            n = int(n_all[i])
            out[i] = {"n": n, "depth": N, "spectrum": [float(v) for v in S[i, :n]], "r": int(R[i]),
                      "seed": int(seed[i]), "e": float(e[i]), "noise_kind": "worst",
                      "eps": float(eps[i]), "theta": float(theta[i]), "alpha": float(alpha[j]),
                      "eta_fraction": float(frac[i])}
    return out


def _p4_exact_t(inst):
    """Y's eigenvalues [s_i - e (i <= r), s_i + e (i > r)] as floats when each is exactly that
    number and the groups do not swap (the list is descending); None otherwise."""
    if inst.get("noise_kind") != "worst":
        return None
    s, r, e = inst["spectrum"], inst["r"], Fraction(inst["e"])
    exact = [Fraction(v) - e for v in s[:r]] + [Fraction(v) + e for v in s[r:]]
    t = [float(q) for q in exact]
    if any(Fraction(f) != q for f, q in zip(t, exact)):
        return None
    if any(a < b for a, b in zip(exact, exact[1:])):
        return None
    return t


def _p4_hypotheses(inst):
    """(failing hypotheses, eta as mpmath text, float eta) from the claim's evaluators as
    check_p4 calls them (t exact, from ``weyl_extremal_eigenvalues``), at HYP_DPS digits:
    alpha^N of a float has at most 53 N <= 265 bits, s_i, e and t_i are multiples of 2^-24
    below 4, so theta >= alpha^N, alpha^N < (1-eps) t_r and |t_i - s_i| <= e are decided
    exactly; eta = eta_fraction x the smallest step bound with eta_fraction <= 0.95 keeps the
    step conditions away from ties."""
    import mpmath

    from verify.checks.verdict import evaluators

    N, r = inst["depth"], inst["r"]
    ev = evaluators("P4")
    with mpmath.workdps(max(HYP_DPS, 16 * N + 40)):
        s = [mpmath.mpf(v) for v in inst["spectrum"]]
        e, eps, theta, a, f = (mpmath.mpf(inst[k]) for k in ("e", "eps", "theta", "alpha", "eta_fraction"))
        t = ev["weyl_extremal_eigenvalues"](s, r, e)
        eta = f * ev["p4_step_limit"](t, s, r, e, a, N)
        fails = list(ev["p4_hypothesis_failures"](t, s, r, e, eps, theta, a, eta, N))
        return fails, mpmath.nstr(eta, 100), float(eta)


def _p4_balls(inst, t, prec):
    """(E, B, L) at ``prec`` bits: eta's ball and P4's ball evaluators' UB0~ and L (None:
    +infinity); None when the enclosures do not decide the bounds' cases."""
    from verify.checks.verdict import evaluators

    ev = evaluators("P4")
    N, r = inst["depth"], inst["r"]
    with flint_ctx.workprec(prec):
        S = [ball(v) for v in inst["spectrum"]]
        T = [ball(v) for v in t]
        Eb, Ep, Th, Al = (ball(inst[k]) for k in ("e", "eps", "theta", "alpha"))
        try:
            E = ball(inst["eta_fraction"]) * ev["p4_step_limit_ball"](T, S, r, Eb, Al, N)
            B, L = ev["p4_bounds_real_ball"](T, S, r, Eb, Ep, Th, Al, E, N)
        except ValueError:
            return None
    return E, B, L


def decide_p4(insts):
    """T0~ <= ceil(UB0~) (T0~ - 1 < UB0~) and T1~ >= ceil(L) - 1 (H >= L), see the section
    comment above :data:`P4_BUDGET`."""
    from verify.volume.flow import _groups

    out = [None] * len(insts)
    for N, idx in _groups(insts).items():
        lanes = []
        for i in idx:
            inst = insts[i]
            t = _p4_exact_t(inst)
            if t is None:
                out[i] = Decision("UNDECIDED", False, note="Y's eigenvalues are not exactly known "
                                  "floats (noise_kind not 'worst', off the grid, or groups swap)",
                                  method="undecided")
                continue
            fails, eta_text, eta_f = _p4_hypotheses(inst)
            if fails:
                out[i] = Decision("N/A", True, note="hypotheses false (decided exactly): "
                                  + "; ".join(fails), method="exact")
                continue
            bl, prec = first_enclosed(lambda prec: _p4_balls(inst, t, prec))
            if bl is None:
                out[i] = Decision("UNDECIDED", False, note="the bounds' cases are not decided at "
                                  "512 bits", method="undecided")
                continue
            E, B, L = bl
            with flint_ctx.workprec(prec):
                consistent = E.overlaps(arb(eta_text, abs(eta_f) * 1e-90))
            if not consistent:
                out[i] = Decision("FAIL", True, -1.0, method="arb",
                                  note="the eta ball (p4_step_limit_ball) does not contain the "
                                       "mpmath eta (p4_step_limit): the evaluators disagree")
                continue
            lanes.append((i, t, E, B, L))
        if lanes:
            _p4_simulate_and_decide(insts, lanes, N, out)
    return out


def _p4_simulate_and_decide(insts, lanes, N, out):
    from verify.volume.lowrank import _hi

    caps0 = [int(math.floor(_hi(B))) + 3 for _, _, _, B, _ in lanes]
    caps1 = [c if L is None else max(c, int(math.floor(_hi(L))) + 2)
             for c, (_, _, _, _, L) in zip(caps0, lanes)]
    flat = []
    for (i, t, E, B, L), cap in zip(lanes, caps0):
        inst = insts[i]
        with flint_ctx.workprec(PREC):
            Ep = ball(inst["eps"])
            for j in range(inst["r"]):
                flat.append((t[j], inst["alpha"], E, (1 - Ep) * ball(t[j]), cap))
    steps = hitting_steps([f[0] for f in flat], [f[1] for f in flat], [f[2] for f in flat], N,
                          [f[3] for f in flat], caps=[f[4] for f in flat])
    nxt = hitting_steps([t[insts[i]["r"]] for i, t, *_ in lanes], [insts[i]["alpha"] for i, *_ in lanes],
                        [E for _, _, E, _, _ in lanes], N, [insts[i]["theta"] for i, *_ in lanes],
                        caps=caps1, strict=True)
    pos = 0
    for lane, cap0, cap1, (H, m1) in zip(lanes, caps0, caps1, nxt):
        r = insts[lane[0]]["r"]
        part = steps[pos:pos + r]
        pos += r
        ks = [k for k, _ in part]
        m0 = next((m for _, m in part if m != "screen"), "screen")
        T0 = UNDECIDED_STEP if UNDECIDED_STEP in ks else None if any(k is None for k in ks) else max(ks)
        out[lane[0]] = _p4_verdict(insts[lane[0]], lane, cap0, cap1, T0, H, m0 if m0 != "screen" else m1)


def _p4_verdict(inst, lane, cap0, cap1, T0, H, method):
    from verify.volume.lowrank import _mid, _worse

    i, t, E, B, L = lane
    if T0 == UNDECIDED_STEP or H == UNDECIDED_STEP:
        return Decision("UNDECIDED", False, note="a hitting step not decided at 512 bits", method=method)
    if T0 is None:  # a learned lane not hit by floor(B) + 3 > ceil(B): T0~ > UB0~, certified
        return Decision("FAIL", True, -1.0, note=f"T0~ not reached in {cap0} steps (> UB0~)",
                        method=method)

    def part0(B, L):  # T0~ <= ceil(B) iff T0~ - 1 < B
        return True if arb(T0 - 1) < B else False if arb(T0 - 1) >= B else None

    def part1(B, L):  # T1~ >= ceil(L) - 1 iff H >= L (H = T1~ + 1)
        if L is None:
            return H is None
        if H is None:  # not hit within cap1 >= L
            return True
        if H == 0:  # T1~ = -1 < LB1~ >= 0 (as check_p4)
            return False
        return True if L <= arb(H) else False if L > arb(H) else None

    res, used = [], PREC
    for test in (part0, part1):
        v = test(B, L)
        for prec in ESCALATE[1:]:
            if v is not None:
                break
            bl = _p4_balls(inst, t, prec)
            if bl is not None:
                used = max(used, prec)
                v = test(bl[1], bl[2])
        res.append(v)
    v0, v1 = res
    verdict = _worse(*("PASS" if v else "UNDECIDED" if v is None else "FAIL" for v in (v0, v1)))
    b = _mid(B)
    s0 = (b - (T0 - 1)) / max(abs(b), 1.0)  # check_p4's _lt_real
    if L is None:
        s1 = math.inf
    elif H is None:
        lm = _mid(L)
        s1 = (cap1 + 1 - lm) / max(lm, 1.0)
    elif _mid(L) == 0:
        s1 = 1.0
    else:  # compare_le(L, H)
        lm = _mid(L)
        s1 = (H - lm) / max(abs(lm), H, 1e-300)
    ub0 = math.ceil(b)
    T1 = f">= {cap1}" if H is None else str(H - 1)
    notes = {(False, True): "T0~ > UB0~", (True, False): "T1~ < LB1~",
             (False, False): "T0~ > UB0~ and T1~ < LB1~"}
    note = notes.get((bool(v0), bool(v1)), "") if verdict == "FAIL" else \
        "a bound's enclosure contains the observed value" if verdict == "UNDECIDED" else ""
    meth = method if used == PREC else f"{method}+arb-{used}"
    return Decision(verdict, verdict != "UNDECIDED", min(s0, s1), T0 / ub0 if ub0 > 0 else None,
                    note=(note + "; " if note else "") + f"T0~ = {T0}, T1~ = {T1}", method=meth)


VOLUME = {
    "P3": VolumeSpec(draw_p3, decide_p3),
    "P4": VolumeSpec(draw_p4, decide_p4),
}


# =======================================================================================
# P1 and P5 with aligned noise
#
# With E = V diag(delta) V^T (``noise_kind`` "worst": delta = (-e, .., -e, e, .., e), or
# "aligned": the instance's list ``noise``, max |delta_i| = e), Y = V diag(s + delta) V^T: its
# eigenvalues are exactly t'_m = s_m + delta_m, with the eigenvectors v_m of W, and by R1
# P(k) = V diag(x(t'_m, k)^N) V^T, x(t, k) the scalar lane of target t. So
#   ||P(k) - Y_+||_2 = max_m |x(t'_m, k)^N - max(t'_m, 0)|                      (P1)
#   ||P(k) - W_r||_2 = max(max_{m<=r} |x(t'_m, k)^N - s_m|, max_{m>r} x(t'_m, k)^N)  (P5)
# (lanes with equal t' have equal trajectories, so P(k) does not depend on the choice of
# eigenvectors of a repeated eigenvalue of Y). The claims' t_i are the t'_m sorted
# descending; P1 pairs lane i with max(t_i, 0) (no s enters), P5 pairs lane m with s_m (its
# eigenvector), and its T0~ and T1~ read the sorted t: T0~ over the r largest t', T1~ on the
# (r+1)-th largest. With the spectrum, e and every delta_m on the 2^-24 grid (below 4 in
# absolute value), every t'_m is exactly a float (checked with Fraction, _aligned_spectra).
#
# Lane values at every step from proved invariants (docs/numerics.md, "P1, P2, P5 at volume"),
# each with its certificate decided on arb balls with the eta ball (_lane_kinds):
#   "up"     0 < alpha^N < t, eta N t^A <= 1: x_k increases strictly and x_k^N < t for all k,
#            so x_k^N is in [alpha^N, t) always and in [d, t) from the hitting step of d on;
#   "above"  0 < t <= alpha^N, eta alpha^(N-2)((2N-1) alpha^N - (N-1) t) <= 1: phi is
#            nondecreasing on [0, alpha] and maps [t^(1/N), alpha] into itself:
#            x_k^N in [t, alpha^N];
#   "nonpos" t <= 0, eta alpha^(N-2)(alpha^N - t) < 1: 0 < x_(k+1) < x_k for all k, so x_k^N
#            in (0, alpha^N] and every lane of P1 with t <= 0 decreases and stays positive;
# and, for P5's lanes below the (r+1)-th (target t_j <= t' = t_(r+1)), the comparison
# x(t_j, k) <= x(t', k) for all k when phi_(t') is proved nondecreasing on [0, max(t'^(1/N),
# alpha)] (eta N t'^A <= 1 if alpha^N < t', else the "above" certificate for t').
# The hitting steps are certified (verify.volume.common.hitting_steps). Instead of enclosing
# every lane step by step up to the steps the HP checks sample (verify.volume.flow.enclose_f64
# costs 100-200 microseconds per step of a batch, 2-4 s per depth at 20 000 steps), each
# lane's value there is the invariant's bracket: it holds at every step of the range, not
# only at the HP check's checkpoints.

# predicted steps per lane (the spec's STEP_BUDGET is 200 000; P3 and P4 at volume use 20 000):
# half of P3/P4's, so that 1000 instances take about 3 s on one core (only the lower end of
# alpha's range moves)
P1_BUDGET = 10_000
P5_BUDGET = 10_000
# T0~ must be reached within this many steps (check_p5's horizon is 2 UB0~ + 10 steps, with
# UB0~ below the budget for the drawn instances; the screen stops each lane at its hit, so
# the cap costs nothing where the lanes learn)
P5_T0_CAP = 10 * P5_BUDGET


def _aligned_spectra(inst):
    """(t' by W's eigenvector, t sorted descending, s descending) as floats when E is aligned
    with W's eigenvectors ("worst" or "aligned") and every t'_m = s_m + delta_m is exactly a
    float; None otherwise (random noise: Y's eigenvalues are not exactly known)."""
    kind = inst.get("noise_kind")
    s = sorted((Fraction(v) for v in inst["spectrum"]), reverse=True)
    e = Fraction(inst["e"])
    n = len(s)
    if kind == "worst":
        r = inst.get("r", 0)
        delta = [-e] * r + [e] * (n - r)
    elif kind == "aligned":
        noise = inst.get("noise")
        if noise is None or len(noise) != n:
            return None
        delta = [Fraction(x) for x in noise]
        if max(abs(d) for d in delta) != e:
            return None
    else:
        return None
    exact = [a + b for a, b in zip(s, delta)]
    tp = [float(q) for q in exact]
    if any(Fraction(f) != q for f, q in zip(tp, exact)):
        return None
    return tp, sorted(tp, reverse=True), [float(v) for v in s]


def _lane_kinds(t, alpha, E, N, prec):
    """For each target in ``t`` (exact floats) the invariant its lane is proved to keep
    ("up", "above", "nonpos", see the section comment), or None where the certificate is
    not decided; the classification against alpha^N is exact (Fraction)."""
    aN = Fraction(alpha) ** N
    with flint_ctx.workprec(prec):
        Al = ball(alpha)
        aNb = Al**N
        A = arb(fmpq(2 * N - 2, N))
        pre = E * Al ** (N - 2)
        kinds = []
        for ti in t:
            q, T = Fraction(ti), ball(ti)
            if q > aN:
                kinds.append("up" if E * N * T**A <= 1 else None)
            elif q > 0:
                kinds.append("above" if pre * ((2 * N - 1) * aNb - (N - 1) * T) <= 1 else None)
            else:
                kinds.append("nonpos" if pre * (aNb - T) < 1 else None)
    return kinds


def _bracket(kind, t, alpha, N):
    """(lo, hi) balls with lo <= x_k^N <= hi at every step k, for a lane of the kind."""
    T, aN = ball(t), ball(alpha) ** N
    return {"up": (aN, T), "above": (T, aN), "nonpos": (arb(0), aN)}[kind]


def _abs_range(lo, hi, y):
    """Balls (low, up) with low <= |x - y| <= up for every x in [lo, hi] (lo, hi, y balls
    containing the ends and y): up from the ends, low the gap when [lo, hi] lies on one side
    of y, else 0."""
    a, b = lo - y, hi - y
    up = abs(a).max(abs(b))
    if a > 0:
        return a, up
    if b < 0:
        return -b, up
    return arb(0), up


def _eta_consistent(E, eta_text, eta_f, prec):
    with flint_ctx.workprec(prec):
        return E.overlaps(arb(eta_text, abs(eta_f) * 1e-90))


# ---------------------------------------------------------------------------------------
# P1 draws


def _aligned_noise(rng, n, e, kind, R):
    """delta (count, 4) per instance: worst (-e for the first R, +e after) or aligned (e u_m
    truncated to the 2^-24 grid, one entry +-e at a random position), padded with nan."""
    count = n.shape[0]
    u = rng.uniform(-1.0, 1.0, (count, 4))
    pos = rng.integers(0, 4, count)
    sign = rng.integers(0, 2, count) * 2.0 - 1.0
    D = np.full((count, 4), np.nan)
    for i in range(count):
        k = int(n[i])
        if kind[i]:
            D[i, :k] = [-e[i] if m < R[i] else e[i] for m in range(k)]
        else:
            d = np.sign(u[i, :k]) * np.floor(np.abs(e[i] * u[i, :k]) / GRID) * GRID
            d[int(pos[i]) % k] = sign[i] * e[i]
            D[i, :k] = d
    return D


def _p1_eta_float(T, n, alpha, frac, N):
    """Vectorized float64 eta = fraction x bounds.perturbed.p1_step_limit (placement only)."""
    A = 2 - 2 / N
    aN = alpha**N
    rows = np.arange(T.shape[0])
    t1, tn = T[:, 0], T[rows, n - 1]
    b = 1 / (N * np.maximum(t1, aN) ** A)
    with np.errstate(divide="ignore"):
        pos = 1 / (alpha ** (N - 2) * (aN - np.minimum(tn, 0.0)))
    return frac * np.where(tn <= 0, np.minimum(b, pos), b)


def _p1_steps(T, n, alpha, frac, delta, N):
    """Vectorized verify.specs.perturbed._p1_predicted_steps: the largest predicted steps to
    t_i - delta t_1 over the lanes with t_i > 0."""
    eta = _p1_eta_float(T, n, alpha, frac, N)
    parts = []
    for j in range(T.shape[1]):
        on = (j < n) & (np.nan_to_num(T[:, j]) > 0)
        tj = np.where(on, T[:, j], 1.0)
        parts.append((tj, np.where(on, tj - delta * T[:, 0], 0.0), tj))  # level 0: no steps
    return np.maximum.reduce(_pred_many(parts, alpha, eta, N))


def _vector_log_bisect(pred, lo, hi, iters=16):
    """Vectorized verify.specs.params.log_bisect: the smallest x in [lo, hi] with pred(x)
    (lo where pred(lo), hi where not pred(hi)), to 2^-16 of log(hi/lo) (the spec bisects 40
    times; the placement moves by less than 0.03 % in log alpha, and the returned point
    satisfies pred whenever any point does)."""
    at_lo, at_hi = pred(lo), pred(hi)
    a, b = np.log(lo), np.log(hi)
    for _ in range(iters):
        m = (a + b) / 2
        ok = pred(np.exp(m))
        b = np.where(ok, m, b)
        a = np.where(ok, a, m)
    return np.where(at_lo, lo, np.where(at_hi, np.exp(b), hi))


def draw_p1(rng, count, *, budget=P1_BUDGET):
    """P1 instances as verify/specs/perturbed.py ``_p1`` with the noise aligned with W's
    eigenvectors: n in 1..4, depth 2..5, spectrum 0.2 + 1.8 u (the last one 0 if zero_tail,
    n >= 2), e = e_frac s_1 / 2, noise "worst" (r in 0..n, r = n lowers every eigenvalue:
    t_n < 0 with a zero tail) or "aligned" (a random delta on the grid with max |delta_m| = e),
    one each half; eta_fraction in [0.05, 0.95], delta log-uniform in [1e-6, 1e-2], alpha
    log-uniform between the budget floor and min(1, (t_1/2)^(1/N)); spectrum, e and delta on
    the 2^-24 grid. One instance in eight has eta_fraction log-uniform in [0.05/30, 0.05]
    (below the builder's range: K2's bound is within 2 % of K only for small eta)."""
    n_all = rng.integers(1, 5, count)
    N_all = rng.integers(2, 6, count)
    raw = rng.uniform(0.0, 1.0, (count, 4))
    zero_tail = rng.integers(0, 2, count)
    seed = rng.integers(0, 2**31 - 1, count)
    e_frac = rng.uniform(0.0, 1.0, count)
    worst = rng.integers(0, 2, count)
    r_raw = rng.integers(0, 5, count)
    alpha_u = rng.uniform(0.0, 1.0, count)
    frac = rng.uniform(0.05, 0.95, count)
    delta = np.exp(rng.uniform(math.log(1e-6), math.log(1e-2), count))
    corner = rng.uniform(0.0, 1.0, count)
    frac = np.where(corner < 0.125, 0.05 * 30.0 ** (-(corner / 0.125)), frac)
    S = np.full((count, 4), np.nan)
    for i in range(count):
        k = int(n_all[i])
        s = sorted((0.2 + 1.8 * v for v in raw[i, :k]), reverse=True)
        if zero_tail[i] and k >= 2:
            s[-1] = 0.0
        S[i, :k] = _grid(np.array(s))
    e = _grid(e_frac * 0.5 * S[:, 0])
    R = np.minimum(r_raw, n_all)
    D = _aligned_noise(rng, n_all, e, worst, R)
    T = -np.sort(-(S + D), axis=1)  # descending, nan last
    out = [None] * count
    for N, idx in depth_groups(N_all):
        Tn, nn, f, dl = T[idx], n_all[idx], frac[idx], delta[idx]
        hi = np.minimum(1.0, (0.5 * Tn[:, 0]) ** (1 / N))
        floor = np.minimum(hi, 1e-12 ** (1 / N))
        lo = _vector_log_bisect(lambda a: _p1_steps(Tn, nn, a, f, dl, N) <= budget, floor, hi)
        from verify.volume.lowrank import _log_interpolate

        alpha = _log_interpolate(lo, hi, alpha_u[idx])
        for j, i in enumerate(idx):
            k = int(n_all[i])
            inst = {"n": k, "depth": N, "spectrum": [float(v) for v in S[i, :k]],
                    "seed": int(seed[i]), "e": float(e[i])}
            if worst[i]:
                inst.update({"noise_kind": "worst", "r": int(R[i])})
            else:
                inst.update({"noise_kind": "aligned", "noise": [float(v) for v in D[i, :k]]})
            inst.update({"alpha": float(alpha[j]), "eta_fraction": float(frac[i]),
                         "delta": float(delta[i])})
            out[i] = inst
    return out


# ---------------------------------------------------------------------------------------
# P1 decisions
#
# As check_p1: hypotheses (``p1_step_limit``, ``p1_hypothesis_failures``, t_1 > 0) and the
# growing lanes (``p1_growing_lanes``) from the claim's mpmath evaluators at HYP_DPS, exact
# for the float inputs (t_i, delta t_1 and alpha^N have at most 265 bits); eta's ball is
# eta_fraction x ``p1_step_limit_ball`` and must contain that mpmath eta. Per growing lane:
# K_i (certified hitting step of t_i - delta t_1, a ball level) - 1 < B_i =
# ``k2_upper_real_ball`` (K_i <= ceil(B_i)), FAIL when K_i - 1 >= B_i or no hit by
# floor(B_i) + 3; no overshoot above t_i + delta t_1 at any step ("up": x^N < t_i). Lanes with
# t_i <= 0 decrease and stay positive at every step ("nonpos"). At K_end = max floor(B_i) + 2
# (check_p1's end; 1000 without growing lanes) each lane is in its bracket (growing: [t_i -
# delta t_1, t_i], K_i <= K_end; the others by their kind), so ||P(K_end) - Y_+||_2 lies
# between the largest lower and the largest upper end of |bracket - max(t_i, 0)|
# (``y_plus_eigenvalues_ball``); PASS when the upper end is <= ``p1_distance_bound_ball``,
# FAIL when the lower end is above it. ratio = max K_i / ceil(B_i) (check_p1's).


def _p1_hypotheses(inst, t):
    """(failing hypotheses, growing lanes, eta as mpmath text, float eta) as check_p1 forms
    them, at HYP_DPS digits (exact for the float inputs, see the section comment; eta =
    eta_fraction x the step limit with eta_fraction <= 0.95 keeps the step conditions away
    from ties)."""
    import mpmath

    from verify.checks.verdict import evaluators

    N = inst["depth"]
    ev = evaluators("P1")
    with mpmath.workdps(max(HYP_DPS, 16 * N + 40)):
        tm = [mpmath.mpf(x) for x in t]
        a, f, dl = (mpmath.mpf(inst[k]) for k in ("alpha", "eta_fraction", "delta"))
        eta = f * ev["p1_step_limit"](tm, a, N)
        fails = list(ev["p1_hypothesis_failures"](tm, a, eta, N))
        if tm[0] <= 0:
            fails.append("t_1 > 0 (Y_+ = 0: nothing to learn; delta t_1 is no tolerance)")
        growing = [] if fails else list(ev["p1_growing_lanes"](tm, a, N, dl))
        return fails, growing, mpmath.nstr(eta, 100), float(eta)


def _p1_balls(inst, t, growing, prec):
    """eta's ball, the growing lanes' levels t_i - delta t_1 and K2 bounds B_i, the distance
    bound and the balls of max(t_i, 0), at ``prec`` bits; None when the enclosures do not
    decide the bounds' cases."""
    from verify.checks.verdict import evaluators

    ev = evaluators("P1")
    N = inst["depth"]
    with flint_ctx.workprec(prec):
        T = [ball(x) for x in t]
        Al, Dl = ball(inst["alpha"]), ball(inst["delta"])
        try:
            E = ball(inst["eta_fraction"]) * ev["p1_step_limit_ball"](T, Al, N)
            levels = [T[i] - Dl * T[0] for i in growing]
            Bs = [ev["k2_upper_real_ball"](T[i], d, Al, E, N) for i, d in zip(growing, levels)]
            bound = ev["p1_distance_bound_ball"](T, Al, N, Dl)
            yplus = ev["y_plus_eigenvalues_ball"](T)
        except ValueError:
            return None
    return {"E": E, "levels": levels, "B": Bs, "bound": bound, "yplus": yplus}


def _p1_prepare(inst):
    """A Decision (nothing to simulate) or the lane data of one instance."""
    sp = _aligned_spectra(inst)
    if sp is None:
        return Decision("UNDECIDED", False, method="undecided",
                        note="Y's eigenvalues are not exactly known floats (noise_kind not "
                             "'worst' or 'aligned', or off the grid)")
    t = sp[1]
    fails, growing, eta_text, eta_f = _p1_hypotheses(inst, t)
    if fails:
        return Decision("N/A", True, method="exact",
                        note="hypotheses false (decided exactly): " + "; ".join(fails))
    bl, prec = first_enclosed(lambda p: _p1_balls(inst, t, growing, p))
    if bl is None:
        return Decision("UNDECIDED", False, method="undecided",
                        note="the bounds' cases are not decided at 512 bits")
    if not _eta_consistent(bl["E"], eta_text, eta_f, prec):
        return Decision("FAIL", True, -1.0, method="arb",
                        note="the eta ball (p1_step_limit_ball) does not contain the mpmath eta "
                             "(p1_step_limit): the evaluators disagree")
    kinds = _lane_kinds(t, inst["alpha"], bl["E"], inst["depth"], prec)
    bad = [i + 1 for i, k in enumerate(kinds) if k is None or (i in growing and k != "up")]
    if bad:
        return Decision("UNDECIDED", False, method="undecided",
                        note=f"lanes {bad}: the invariant's certificate is not decided")
    return {"t": t, "growing": growing, "kinds": kinds, "prec": prec, **bl}


def decide_p1(insts):
    """check_p1's conclusions on aligned noise, certified (the section comment above)."""
    from verify.volume.flow import _groups
    from verify.volume.lowrank import _hi

    out = [None] * len(insts)
    for N, idx in _groups(insts).items():
        ready = []
        for i in idx:
            p = _p1_prepare(insts[i])
            if isinstance(p, Decision):
                out[i] = p
            else:
                p["caps"] = [int(math.floor(_hi(B))) + 3 for B in p["B"]]
                ready.append((i, p))
        flat = [(i, p, j) for i, p in ready for j in range(len(p["growing"]))]
        steps = hitting_steps([p["t"][p["growing"][j]] for _, p, j in flat],
                              [insts[i]["alpha"] for i, _, _ in flat], [p["E"] for _, p, _ in flat],
                              N, [p["levels"][j] for _, p, j in flat],
                              caps=[p["caps"][j] for _, p, j in flat])
        got = {}
        for (i, _, _), km in zip(flat, steps):
            got.setdefault(i, []).append(km)
        for i, p in ready:
            out[i] = _p1_verdict(insts[i], p, got.get(i, []))
    return out


def _p1_k2_part(Ks, Bs):
    """True / False / None (undecided): K_i - 1 < B_i for every growing lane."""
    res = True
    for K, B in zip(Ks, Bs):
        if arb(K - 1) >= B:
            return False
        if not arb(K - 1) < B:
            res = None
    return res


def _p1_distance(inst, p, Ks, prec, bl):
    """(low, up) balls of ||P(K_end) - Y_+||_2 from the lanes' brackets (K_i <= K_end)."""
    N, t = inst["depth"], p["t"]
    lows, ups = [], []
    with flint_ctx.workprec(prec):
        growing = dict(zip(p["growing"], bl["levels"]))
        for i, (ti, kind) in enumerate(zip(t, p["kinds"])):
            lo, hi = (growing[i], ball(ti)) if i in growing else _bracket(kind, ti, inst["alpha"], N)
            a, b = _abs_range(lo, hi, bl["yplus"][i])
            lows.append(a)
            ups.append(b)
        low, up = lows[0], ups[0]
        for a, b in zip(lows[1:], ups[1:]):
            low, up = low.max(a), up.max(b)
    return low, up


def _p1_verdict(inst, p, steps):
    from verify.volume.lowrank import _mid, _worse

    Ks = [k for k, _ in steps]
    method = next((m for _, m in steps if m != "screen"), "screen")
    if UNDECIDED_STEP in Ks:
        return Decision("UNDECIDED", False, note="a hitting step not decided at 512 bits", method=method)
    for j, K in enumerate(Ks):
        if K is None:  # not hit by floor(B) + 3 > ceil(B): K > ceil(B), certified
            return Decision("FAIL", True, -1.0, method=method,
                            note=f"lane {p['growing'][j] + 1}: t - delta t_1 not reached within "
                                 f"{p['caps'][j]} steps (> the K2 bound)")
    bl, used = p, p["prec"]
    v_k2, v_dist = _p1_k2_part(Ks, bl["B"]), None
    low, up = _p1_distance(inst, p, Ks, used, bl)
    v_dist = True if up <= bl["bound"] else False if low > bl["bound"] else None
    for prec in ESCALATE:
        if v_k2 is not None and v_dist is not None:
            break
        if prec <= used:
            continue
        nb = _p1_balls(inst, p["t"], p["growing"], prec)
        if nb is None:
            continue
        used = prec
        if v_k2 is None:
            v_k2 = _p1_k2_part(Ks, nb["B"])
        if v_dist is None:
            low, up = _p1_distance(inst, p, Ks, prec, nb)
            v_dist = True if up <= nb["bound"] else False if low > nb["bound"] else None
        bl = {**bl, "B": nb["B"], "bound": nb["bound"]}
    verdict = _worse(*("PASS" if v else "UNDECIDED" if v is None else "FAIL" for v in (v_k2, v_dist)))
    slacks = [(_mid(B) - (K - 1)) / max(abs(_mid(B)), 1.0) for K, B in zip(Ks, bl["B"])]
    bm, um = _mid(bl["bound"]), _mid(up)
    slacks.append((bm - um) / max(abs(bm), abs(um), 1e-300))
    ratios = [K / math.ceil(_mid(B)) for K, B in zip(Ks, bl["B"]) if math.ceil(_mid(B)) > 0]
    ends = [int(B.floor().unique_fmpz() if B.floor().unique_fmpz() is not None
                else math.floor(float(B.upper().mid().str(20, radius=False)))) + 2 for B in bl["B"]]
    K_end = max(ends, default=1000)
    notes = []
    if v_k2 is False:
        notes.append("K_i > ceil(K2 bound) on some lane")
    if v_dist is False:
        notes.append("||P(K_end) - Y_+||_2 > the distance bound")
    if verdict == "UNDECIDED":
        notes.append("a bound's enclosure contains the observed value")
    notes.append(f"K = {Ks}, K_end = {K_end}, ||P(K_end) - Y_+||_2 in [{_mid(low):.12g}, {um:.12g}]")
    meth = method if used == p["prec"] or used == PREC else f"{method}+arb-{used}"
    return Decision(verdict, verdict != "UNDECIDED", min(slacks), max(ratios) if ratios else None,
                    note="; ".join(notes), method=meth)



# ---------------------------------------------------------------------------------------
# P5 draws: verify/specs/perturbed.py ``_build_p45`` with nonempty = True, the noise aligned


def _p45_steps(S, T, R, e, eps, theta, alpha, frac, N):
    """Vectorized verify.specs.perturbed._p4_predicted_steps for any spectrum T of Y (sorted,
    padded with nan): the max of Y's T0~ estimate, the W-only one (lanes s_i - e at rate
    s_i + e) and the theta crossing of s_{r+1} + e (``_p4_steps`` is the case T = s -+ e)."""
    m = S.shape[0]
    rows = np.arange(m)
    n = np.sum(~np.isnan(S), axis=1)
    s1, s_next, s_n = S[:, 0], S[rows, R], S[rows, n - 1]
    eta = frac * _p4_step_limit_float(s1, s_next, s_n, T[:, 0], T[rows, n - 1], e, alpha, N)
    A = 2 - 2 / N
    zero = np.zeros(m)
    parts, factors = [], []
    for j in range(3):
        on = j < R
        tj = np.where(on, T[:, j], 1.0)
        parts.append((tj, np.where(on, (1 - eps) * tj, 0.0), tj))  # level 0: no steps
        sj = np.where(on, S[:, j], 1.0)
        lj = sj - e
        # the W-only lane s_j - e at rate s_j + e (its flow time is Y's for the Weyl-extremal
        # noise, where the second tau is skipped: level 0)
        new = on & (lj != tj)
        parts.append((np.where(new, lj, 1.0), np.where(new, (1 - eps) * lj, 0.0), np.where(new, lj, 1.0)))
        factors.append((on, new, np.exp((N - 1) * eta * ((sj + e) ** A - np.maximum(lj, 0.0) ** A))))
    tp = s_next + e
    parts.append((tp, np.where(theta < tp, np.minimum(theta, 0.5 * tp), 0.0), tp))
    got = _pred_many(parts, alpha, eta, N)
    best = got[-1]
    for j, (on, new, f) in enumerate(factors):
        y = got[2 * j]
        w = np.where(new, got[2 * j + 1], y) * f
        best = np.maximum(best, np.where(on, np.maximum(y, w), zero))
    return best


def _p45_alpha_range(S, T, R, e, eps, theta, frac, N, *, budget):
    """(lo, hi) of alpha as ``_build_p45``'s ``limits`` (see _p4_alpha_range), any T."""
    sr = S[np.arange(S.shape[0]), R - 1]
    hi = np.minimum(theta * (1 - 1e-9), 0.5 * (1 - eps) * (sr - e)) ** (1 / N)
    floor = np.minimum(hi, 1e-12 ** (1 / N))
    lo = _vector_log_bisect(lambda a: _p45_steps(S, T, R, e, eps, theta, a, frac, N) <= budget,
                            floor, hi)
    return lo, hi


def _p5_condition(S, T, R, e, eps, theta, alpha, frac, N):
    """Vectorized float64 verify.specs.perturbed._p4_condition_float: P4's UB0~ <= LB1~ with
    Y's bounds (placement only: P4's bounds are not P5's bound under test)."""
    from verify.fasttau import tau as placement_time

    m = S.shape[0]
    rows = np.arange(m)
    n = np.sum(~np.isnan(S), axis=1)
    eta = frac * _p4_step_limit_float(S[:, 0], S[rows, R], S[rows, n - 1], T[:, 0],
                                      T[rows, n - 1], e, alpha, N)
    A = 2 - 2 / N
    aN = alpha**N
    tp = S[rows, R] + e
    thp = np.minimum(theta, tp * (N - 1) / (2 * N - 1))
    inf = theta >= tp
    # one flow-time call: rows 0..2 the learned lanes' (1-eps) t_j, row 3 the theta crossing
    tt = np.stack([np.where(j < R, T[:, j], 1.0) for j in range(3)] + [tp])
    lv = np.stack([(1 - eps) * tt[j] for j in range(3)] + [thp])
    ok = (aN < lv) & (lv < tt)
    ok[:3] &= np.arange(3)[:, None] < R
    ok[3] &= ~inf
    tau = np.zeros(tt.shape)
    if ok.any():
        a = np.broadcast_to(aN, tt.shape)
        tau[ok] = placement_time(tt[ok], a[ok], lv[ok], N)
    ub = np.max((1 + eta * tt[:3] ** A) ** (N - 1) * tau[:3], axis=0) / eta
    L = tau[3] / eta
    return inf | (np.ceil(ub) <= np.maximum(np.ceil(L) - 1, 0))


def draw_p5(rng, count, *, budget=P5_BUDGET):
    """P5 instances as verify/specs/perturbed.py ``_build_p45`` with nonempty = True and the
    noise aligned with W's eigenvectors: the raw ranges of :func:`draw_p4`, the noise
    "worst" (the Weyl-extremal E of rank split r) or "aligned" (a random delta on the grid,
    max |delta_m| = e), one each half; alpha's upper end lowered to where the predicted P4
    condition UB0~ <= LB1~ still holds (/1.001), and where it fails at the budget floor theta
    raised to s_{r+1} + e (T1~ infinite). e <= (s_r - s_{r+1})/4: the r largest t'_m are
    those of m <= r."""
    from verify.volume.lowrank import _log_interpolate

    n_all = rng.integers(2, 5, count)
    N_all = rng.integers(2, 6, count)
    r_raw = rng.integers(1, 4, count)
    head = rng.uniform(0.5, 2.0, (count, 3))
    tail = rng.uniform(0.0, 1.0, (count, 3))
    tail_scale = rng.uniform(0.0, 0.3, count)
    zero_tail = rng.integers(0, 2, count)
    seed = rng.integers(0, 2**31 - 1, count)
    e_frac = rng.uniform(0.0, 1.0, count)
    worst = rng.integers(0, 2, count)
    eps = np.exp(rng.uniform(math.log(1e-6), math.log(0.3), count))
    theta_u = rng.uniform(0.0, 1.0, count)
    alpha_u = rng.uniform(0.0, 1.0, count)
    frac = rng.uniform(0.05, 0.95, count)
    S = np.full((count, 4), np.nan)
    R = np.minimum(r_raw, n_all - 1)
    for i in range(count):
        n, r = int(n_all[i]), int(R[i])
        hs = sorted(head[i, :r], reverse=True)
        sr = hs[-1]
        tl = sorted((v * tail_scale[i] * sr for v in tail[i, : n - r]), reverse=True)
        if zero_tail[i]:
            tl[-1] = 0.0
        S[i, :n] = _grid(np.array(hs + tl))
    rows = np.arange(count)
    sr, s_next = S[rows, R - 1], S[rows, R]
    e = _grid(e_frac * 0.25 * (sr - s_next))
    D = _aligned_noise(rng, n_all, e, worst, R)
    T = -np.sort(-(S + D), axis=1)
    theta = np.maximum(s_next + e, 1e-3 * sr) * 10 ** (2 * theta_u - 1.5)
    out = [None] * count
    for N, idx in depth_groups(N_all):
        Sg, Tg, Rg, eg, epsg, fg = S[idx], T[idx], R[idx], e[idx], eps[idx], frac[idx]
        th = theta[idx].copy()
        lo, hi = _p45_alpha_range(Sg, Tg, Rg, eg, epsg, th, fg, N, budget=budget)
        holds = _p5_condition(Sg, Tg, Rg, eg, epsg, th, lo, fg, N)
        if holds.any():
            k = np.flatnonzero(holds)
            top = _vector_log_bisect(
                lambda a: ~_p5_condition(Sg[k], Tg[k], Rg[k], eg[k], epsg[k], th[k], a, fg[k], N),
                lo[k], hi[k]) / 1.001
            hi[k] = np.maximum(top, lo[k])
        if (~holds).any():
            k = np.flatnonzero(~holds)
            th[k] = np.maximum(th[k], Sg[k, Rg[k]] + eg[k])
            lo[k], hi[k] = _p45_alpha_range(Sg[k], Tg[k], Rg[k], eg[k], epsg[k], th[k], fg[k], N,
                                            budget=budget)
        alpha = _log_interpolate(lo, hi, alpha_u[idx])
        for j, i in enumerate(idx):
            n = int(n_all[i])
            inst = {"n": n, "depth": N, "spectrum": [float(v) for v in S[i, :n]], "r": int(R[i]),
                    "seed": int(seed[i]), "e": float(e[i])}
            if worst[i]:
                inst["noise_kind"] = "worst"
            else:
                inst.update({"noise_kind": "aligned", "noise": [float(v) for v in D[i, :n]]})
            inst.update({"eps": float(eps[i]), "theta": float(th[j]), "alpha": float(alpha[j]),
                         "eta_fraction": float(frac[i])})
            out[i] = inst
    return out


# ---------------------------------------------------------------------------------------
# P5 decisions
#
# As check_p5: hypotheses ``p4_hypothesis_failures`` (Weyl consistency with weyl_tol 0: the
# t'_m are exact) at HYP_DPS with eta = eta_fraction x ``p4_step_limit`` (P5's evaluators);
# eta's ball eta_fraction x ``p4_step_limit_ball`` must contain it. T0~ = the largest
# certified hitting step of (1-eps) t_i over the r largest t (a ball level), within
# P5_T0_CAP steps, UNDECIDED beyond (as check_p5 beyond its horizon). The interval is nonempty iff lane r+1 (the
# (r+1)-th largest t) has x^N <= theta at every step k <= T0~ (a certified strict hitting step
# of theta above T0~, or none within T0~ steps); empty is N/A, as check_p5. For k in
# [T0~, T1~] every lane is in a bracket (section comment): the top lanes in [(1-eps) t, t],
# lane r+1 in its kind's bracket capped at theta (x^N <= theta up to T1~ by the definition of
# T1~), the lanes below it capped at theta too when the comparison with lane r+1 is
# certified. The error ||P(k) - W_r||_2 then lies, at every such k, between the largest lower
# and the largest upper end over the lanes (|bracket - s_m| for m <= r, the bracket for m > r):
# PASS when the upper end is <= ``p5_error_bound_ball``, FAIL when the lower end is above it.
# ratio = lower end / bound (a lower bound of check_p5's observed max error / bound).


def _p5_hypotheses(inst, t):
    import mpmath

    from verify.checks.verdict import evaluators

    N, r = inst["depth"], inst["r"]
    ev = evaluators("P5")
    with mpmath.workdps(max(HYP_DPS, 16 * N + 40)):
        s = [mpmath.mpf(v) for v in sorted(inst["spectrum"], reverse=True)]
        tm = [mpmath.mpf(x) for x in t]
        e, eps, theta, a, f = (mpmath.mpf(inst[k]) for k in ("e", "eps", "theta", "alpha", "eta_fraction"))
        eta = f * ev["p4_step_limit"](tm, s, r, e, a, N)
        fails = list(ev["p4_hypothesis_failures"](tm, s, r, e, eps, theta, a, eta, N))
        return fails, mpmath.nstr(eta, 100), float(eta)


def _p5_balls(inst, t, s, prec):
    """eta's ball, P5's bound and the learned levels (1-eps) t_i (i <= r) at ``prec`` bits;
    None when the enclosures do not decide the bounds' cases."""
    from verify.checks.verdict import evaluators

    ev = evaluators("P5")
    N, r = inst["depth"], inst["r"]
    with flint_ctx.workprec(prec):
        T, S = [ball(x) for x in t], [ball(v) for v in s]
        Eb, Ep, Th, Al = (ball(inst[k]) for k in ("e", "eps", "theta", "alpha"))
        try:
            E = ball(inst["eta_fraction"]) * ev["p4_step_limit_ball"](T, S, r, Eb, Al, N)
            bound = ev["p5_error_bound_ball"](S, r, Eb, Ep, Th)
        except ValueError:
            return None
        levels = [(1 - Ep) * T[i] for i in range(r)]
    return {"E": E, "bound": bound, "levels": levels}


def _p5_prepare(inst):
    sp = _aligned_spectra(inst)
    if sp is None:
        return Decision("UNDECIDED", False, method="undecided",
                        note="Y's eigenvalues are not exactly known floats (noise_kind not "
                             "'worst' or 'aligned', or off the grid)")
    tp, t, s = sp
    fails, eta_text, eta_f = _p5_hypotheses(inst, t)
    if fails:
        return Decision("N/A", True, method="exact",
                        note="hypotheses false (decided exactly): " + "; ".join(fails))
    bl, prec = first_enclosed(lambda p: _p5_balls(inst, t, s, p))
    if bl is None:
        return Decision("UNDECIDED", False, method="undecided",
                        note="the bounds' cases are not decided at 512 bits")
    if not _eta_consistent(bl["E"], eta_text, eta_f, prec):
        return Decision("FAIL", True, -1.0, method="arb",
                        note="the eta ball (p4_step_limit_ball) does not contain the mpmath eta "
                             "(p4_step_limit): the evaluators disagree")
    r, N = inst["r"], inst["depth"]
    kinds = _lane_kinds(t, inst["alpha"], bl["E"], N, prec)
    if any(k is None for k in kinds) or any(k != "up" for k in kinds[:r]):
        return Decision("UNDECIDED", False, method="undecided",
                        note="a lane's invariant certificate is not decided")
    # lane r+1's map nondecreasing on [0, max(t_(r+1)^(1/N), alpha)]: the lanes below it
    # stay below it (the comparison of the section comment)
    with flint_ctx.workprec(prec):
        Al, T1 = ball(inst["alpha"]), ball(t[r])
        if kinds[r] == "up":
            compare = True  # its certificate eta N t^A <= 1 is the one needed
        else:
            compare = bool(bl["E"] * Al ** (N - 2) * ((2 * N - 1) * Al**N - (N - 1) * T1) <= 1)
    return {"tp": tp, "t": t, "s": s, "kinds": kinds, "compare": compare, "prec": prec,
            "cap": P5_T0_CAP, **bl}


def decide_p5(insts):
    """check_p5's conclusion on aligned noise, for every k in [T0~, T1~] (section comment)."""
    from verify.volume.flow import _groups

    out = [None] * len(insts)
    for N, idx in _groups(insts).items():
        ready = []
        for i in idx:
            p = _p5_prepare(insts[i])
            if isinstance(p, Decision):
                out[i] = p
            else:
                ready.append((i, p))
        flat = [(i, p, j) for i, p in ready for j in range(insts[i]["r"])]
        steps = hitting_steps([p["t"][j] for _, p, j in flat], [insts[i]["alpha"] for i, _, _ in flat],
                              [p["E"] for _, p, _ in flat], N, [p["levels"][j] for _, p, j in flat],
                              caps=[p["cap"] for _, p, _ in flat])
        got = {}
        for (i, _, _), km in zip(flat, steps):
            got.setdefault(i, []).append(km)
        live = []
        for i, p in ready:
            ks = [k for k, _ in got[i]]
            p["method"] = next((m for _, m in got[i] if m != "screen"), "screen")
            if UNDECIDED_STEP in ks:
                out[i] = Decision("UNDECIDED", False, note="a learning step not decided at 512 bits",
                                  method=p["method"])
            elif any(k is None for k in ks):
                out[i] = Decision("UNDECIDED", False, method=p["method"],
                                  note=f"T0~ not reached within the horizon {p['cap']}")
            else:
                p["T0"] = max(ks)
                live.append((i, p))
        # lane r+1 crosses theta only if it is an "up" lane (the others keep x^N <= alpha^N
        # <= theta, a hypothesis) with theta below its target
        run = [(i, p) for i, p in live
               if p["kinds"][insts[i]["r"]] == "up" and Fraction(insts[i]["theta"]) < Fraction(p["t"][insts[i]["r"]])]
        cross = hitting_steps([p["t"][insts[i]["r"]] for i, p in run],
                              [insts[i]["alpha"] for i, _ in run], [p["E"] for _, p in run], N,
                              [insts[i]["theta"] for i, _ in run], caps=[p["T0"] for _, p in run],
                              strict=True)
        hits = {i: hm for (i, _), hm in zip(run, cross)}
        for i, p in live:
            H, m = hits.get(i, (None, "screen"))
            if m != "screen" and p["method"] == "screen":
                p["method"] = m
            out[i] = _p5_verdict(insts[i], p, H)
    return out


def _p5_error(inst, p, prec, bound):
    """(low, up) balls of ||P(k) - W_r||_2 valid at every k in [T0~, T1~]."""
    N, r = inst["depth"], inst["r"]
    tp, t, s = p["tp"], p["t"], p["s"]
    order = sorted(range(len(tp)), key=lambda m: -tp[m])  # stable: ties keep W's order
    top, nxt = set(order[:r]), order[r]
    kind = dict(zip(t, p["kinds"]))  # equal targets, equal lanes
    lows, ups = [], []
    with flint_ctx.workprec(prec):
        Ep, Th = ball(inst["eps"]), ball(inst["theta"])
        for m, tm in enumerate(tp):
            if m in top:
                lo, hi = (1 - Ep) * ball(tm), ball(tm)
            else:
                lo, hi = _bracket(kind[tm], tm, inst["alpha"], N)
                if m == nxt or p["compare"]:
                    hi = hi.min(Th)
            if m < r:
                a, b = _abs_range(lo, hi, ball(s[m]))
            else:
                a, b = lo, hi
            lows.append(a)
            ups.append(b)
        low, up = lows[0], ups[0]
        for a, b in zip(lows[1:], ups[1:]):
            low, up = low.max(a), up.max(b)
    return low, up


def _p5_verdict(inst, p, H):
    from verify.volume.lowrank import _mid

    T0, method = p["T0"], p["method"]
    if H == UNDECIDED_STEP:
        return Decision("UNDECIDED", False, note="the theta crossing not decided at 512 bits",
                        method=method)
    if H is not None and H <= T0:
        return Decision("N/A", True, method=method,
                        note=f"observed interval empty (T0~ = {T0} > T1~ = {H - 1})")
    bound, used = p["bound"], p["prec"]
    low, up = _p5_error(inst, p, used, bound)
    v = True if up <= bound else False if low > bound else None
    for prec in ESCALATE:
        if v is not None:
            break
        if prec <= used:
            continue
        nb = _p5_balls(inst, p["t"], p["s"], prec)
        if nb is None:
            continue
        used, bound = prec, nb["bound"]
        low, up = _p5_error(inst, p, prec, bound)
        v = True if up <= bound else False if low > bound else None
    verdict = "PASS" if v else "UNDECIDED" if v is None else "FAIL"
    bm, um, lm = _mid(bound), _mid(up), _mid(low)
    note = (f"T0~ = {T0}, T1~ >= {T0}; ||P(k) - W_r||_2 in [{lm:.12g}, {um:.12g}] for every k "
            f"in [T0~, T1~], bound {bm:.12g}")
    if verdict == "FAIL":
        note = "error above the bound at every k in [T0~, T1~]; " + note
    elif verdict == "UNDECIDED":
        note = "the error's bracket contains the bound; " + note
    meth = method if used == p["prec"] else f"{method}+arb-{used}"
    return Decision(verdict, verdict != "UNDECIDED", (bm - um) / max(abs(bm), abs(um), 1e-300),
                    lm / bm if bm > 0 else None, note=note, method=meth)

VOLUME["P5"] = VolumeSpec(draw_p5, decide_p5)


# =======================================================================================
# P2 on exact matrices
#
# P2 is linear algebra: its instances at volume give W and E themselves (``noise_kind``
# "explicit", verify/problems.py), exact float matrices: W = B B^T with B = V diag(sqrt(s))
# rounded to the 2^-20 grid (so every entry of W is a multiple of 2^-40 below 2^5, computed
# exactly in integers, and W is positive semidefinite exactly, singular exactly when s_n = 0),
# E = U diag(e lambda) U^T (random_perturbation's law) rounded to the 2^-50 grid, symmetric
# exactly; Y = W + E is then exact in 128-bit arb (58 bits). e is ||E||_2 of that E.
# Every quantity of check_p2 is enclosed with python-flint:
# - s_i, t_i and the eigenvalues of E: ``acb_mat.eig`` (arb's acb_mat_eig_simple, rigorous
#   enclosures of simple eigenvalues; for a real symmetric matrix the real parts enclose the
#   eigenvalues), sorted with their order proved (the balls pairwise disjoint); e = the
#   largest |eigenvalue of E|. A zero eigenvalue of W (a ball containing 0) is exactly 0 when
#   det W = 0 exactly (fmpq) and the other balls exclude 0; W is PSD when its smallest
#   eigenvalue is proved >= 0 (N/A when proved < 0).
# - Y_+ = Y - sum_{t_i not > 0} min(t_i, 0) P_i, P_i = prod_{j != i} (Y - t_j I)/(t_i - t_j)
#   (the spectral projectors of Y, exact for simple eigenvalues; ball matrices), so
#   Y_+ - W = E - sum_i min(t_i, 0) P_i; when t_n > 0 is proved, Y_+ - W = E exactly.
# - ||D||_2 of the symmetric ball matrix D = Y_+ - W: the eigenvalues of the exact symmetric
#   matrix M of D's midpoints (upper triangle mirrored) by acb_mat.eig, widened by the
#   Frobenius norm of D's radii (Weyl: | ||D||_2 - ||M||_2 | <= ||D - M||_2 <= ||D - M||_F);
#   Frobenius norms from the entries.
# The four conclusions compare balls (``p2_bounds_ball``, ``y_plus_eigenvalues_ball``): PASS
# when each is certainly <=, FAIL when one is certainly >, re-enclosed at 256 and 512 bits
# otherwise; exact cases as check_p2: E = 0 passes with equality, and with t_n > 0 proved the
# Frobenius bound is the identity ||Y - W||_F = ||E||_F (when ``p2_bounds_ball`` returns
# ||E||_F itself as that bound; a different ball is compared). ratio = ||Y_+ - W||_2 / (2e).

P2_GRID_B = 2.0**-20
P2_GRID_E = 2.0**-50


def _haar(rng, n):
    Q, R = np.linalg.qr(rng.standard_normal((n, n)))
    return Q * np.sign(np.diag(R))


def draw_p2(rng, count):
    """P2 instances as verify/specs/perturbed.py ``_p2`` (n in 2..5, spectrum in [0, 2]
    sorted, the last one 0 if zero_tail, s_1 - s_n >= 0.1, e log-uniform in [1e-4, 2], E of
    random_perturbation's law: eigenvalues e lambda with max |lambda| = 1), as the exact
    matrices W and E of the section comment (``noise_kind`` "explicit")."""
    n_all = rng.integers(2, 6, count)
    raw = rng.uniform(0.0, 2.0, (count, 5))
    zero_tail = rng.integers(0, 2, count)
    e_all = np.exp(rng.uniform(math.log(1e-4), math.log(2.0), count))
    out = []
    for i in range(count):
        n = int(n_all[i])
        s = sorted(raw[i, :n], reverse=True)
        if zero_tail[i]:
            s[-1] = 0.0
        if s[0] - s[-1] < 0.1:  # W = c I makes every E Weyl-extremal (as _p2)
            s[0] = s[-1] + 0.1
        V = _haar(rng, n)
        Bint = np.rint(V * np.sqrt(s) / P2_GRID_B).astype(np.int64)  # |entries| < 2^21
        W = (Bint @ Bint.T).astype(np.float64) * P2_GRID_B**2         # exact: < 2^45 * 2^-40
        U = _haar(rng, n)
        lam = rng.uniform(-1.0, 1.0, n)
        j = int(np.argmax(np.abs(lam)))
        lam = lam / abs(lam[j])
        lam[j] = 1.0 if rng.integers(0, 2) else -1.0
        E = (U * (e_all[i] * lam)) @ U.T
        E = np.rint((E + E.T) / 2 / P2_GRID_E) * P2_GRID_E
        out.append({"n": n, "W": W.tolist(), "E": E.tolist(), "noise_kind": "explicit"})
    return out


def _sorted_eigs(M):
    """The eigenvalues of the exact real symmetric arb_mat M as real balls, descending, with
    their order proved; None when acb_mat.eig does not isolate them."""
    from flint import acb_mat

    try:
        ev = acb_mat(M).eig()
    except ValueError:
        return None
    re = sorted((z.real for z in ev), key=lambda x: -_mid_f(x))
    if any(not a > b for a, b in zip(re, re[1:])):
        return None
    return re


def _mid_f(b):
    return float(b.mid().str(20, radius=False))


def _sym_norm2(D, n):
    """A ball containing ||D||_2 for the exact symmetric matrix inside the symmetric ball
    matrix D (section comment); the Frobenius bounds when the midpoints' eigenvalues are not
    isolated."""
    from flint import arb_mat

    M = arb_mat(n, n)
    rad2 = arb(0)
    for i in range(n):
        for j in range(i, n):
            m = D[i, j].mid()
            M[i, j] = m
            M[j, i] = m
            r = D[i, j].rad()
            rad2 += (r * r) * (1 if i == j else 2)
    ev = _sorted_eigs(M)
    fro = _fro(D, n)
    if ev is None:
        return fro.union(fro / arb(n).sqrt())
    norm = abs(ev[0]).max(abs(ev[-1]))
    return norm + rad2.sqrt().upper() * arb(0, 1)


def _fro(D, n):
    acc = arb(0)
    for i in range(n):
        for j in range(n):
            acc += D[i, j] ** 2
    return acc.sqrt()


def _p2_enclose(W, E, n, prec):
    """Every ball check_p2 compares, at ``prec`` bits (a dict), or a Decision, or None (not
    isolated / not decided at this precision)."""
    from flint import arb_mat, fmpq_mat

    from verify.checks.verdict import evaluators

    ev = evaluators("P2")
    with flint_ctx.workprec(prec):
        Wm, Em = arb_mat(W), arb_mat(E)
        Ym = Wm + Em
        if not all(Ym[i, j].is_exact() for i in range(n) for j in range(n)):
            return None  # Y = W + E not exact at this precision
        s, t, lam = _sorted_eigs(Wm), _sorted_eigs(Ym), _sorted_eigs(Em)
        if s is None or t is None or lam is None:
            return None
        if not s[-1] >= 0:
            if s[-1] < 0:
                return Decision("N/A", True, method="arb",
                                note="hypothesis false: W is not positive semidefinite")
            Wq = fmpq_mat([[fmpq(*Fraction(x).as_integer_ratio()) for x in row] for row in W])
            if Wq.det() != 0 or not all(v > 0 for v in s[:-1]):
                return None
            s[-1] = arb(0)  # det W = 0 and the others are positive: this one is 0 exactly
        e = abs(lam[0]).max(abs(lam[-1]))
        froE = _fro(Em, n)
        b = ev["p2_bounds_ball"](e, froE)
        yplus = ev["y_plus_eigenvalues_ball"](t)
        weyl = _max_balls([abs(a - c) for a, c in zip(t, s)])
        limit = _max_balls([abs(a - c) for a, c in zip(yplus, s)])
        # t_n > 0 proved: Y_+ = Y and Y_+ - W = E exactly; the Frobenius bound is then the
        # identity when the evaluator's bound is ||E||_F itself (its argument, unchanged)
        pd = bool(t[-1] > 0)
        identity = pd and b.frobenius is froE
        if pd:
            spec, froD = e, froE
        else:
            D = arb_mat(E)
            I = arb_mat(n, n)
            for i in range(n):
                I[i, i] = 1
            for i in range(n):
                if t[i] > 0:
                    continue
                neg = t[i] - yplus[i]  # contains min(t_i, 0)
                P = I
                for j in range(n):
                    if j != i:
                        P = P * (Ym - t[j] * I) * (1 / (t[i] - t[j]))
                D = D - neg * P
            spec, froD = _sym_norm2(D, n), _fro(D, n)
    return {"b": b, "weyl": weyl, "limit": limit, "spec": spec, "froD": froD, "pd": pd,
            "identity": identity}


def _max_balls(xs):
    out = xs[0]
    for x in xs[1:]:
        out = out.max(x)
    return out


def _le(lhs, rhs):
    return True if lhs <= rhs else False if lhs > rhs else None


def _p2_parts(q):
    b = q["b"]
    parts = {"weyl": _le(q["weyl"], b.eigenvalue), "limit": _le(q["limit"], b.limit_eigenvalue),
             "spectral": _le(q["spec"], b.spectral)}
    parts["frobenius"] = True if q["identity"] else _le(q["froD"], b.frobenius)
    return parts


def _p2_one(inst):
    W, E = inst["W"], inst["E"]
    n = len(W)
    if all(x == 0 for row in E for x in row):
        return Decision("PASS", True, 0.0, None, method="exact",
                        note="E = 0: Y = W exactly, every bound holds with equality")
    q, parts, used = None, None, None
    for prec in ESCALATE:
        q = _p2_enclose(W, E, n, prec)
        if isinstance(q, Decision):
            return q
        if q is None:
            continue
        parts, used = _p2_parts(q), prec
        if all(v is not None for v in parts.values()) or any(v is False for v in parts.values()):
            break
    if parts is None:
        return Decision("UNDECIDED", False, method="undecided",
                        note="eigenvalues not isolated (or det W = 0 not shown) at 512 bits")
    b = q["b"]
    pairs = [(q["weyl"], b.eigenvalue), (q["limit"], b.limit_eigenvalue), (q["spec"], b.spectral)]
    if not q["identity"]:
        pairs.append((q["froD"], b.frobenius))
    slacks = [(_mid_f(r) - _mid_f(l)) / max(abs(_mid_f(r)), abs(_mid_f(l)), 1e-300) for l, r in pairs]
    if q["identity"]:
        slacks.append(0.0)
    bad = [k for k, v in parts.items() if v is False]
    open_ = [k for k, v in parts.items() if v is None]
    verdict = "FAIL" if bad else "UNDECIDED" if open_ else "PASS"
    notes = [f"{k}: the bound fails" for k in bad] + [f"{k}: the enclosures overlap" for k in open_]
    if q["identity"]:
        notes.append("Y is positive definite: Y_+ = Y, Frobenius bound holds with equality")
    notes.append(f"||Y_+ - W||_2 = {_mid_f(q['spec']):.8g}, e = {_mid_f(b.eigenvalue):.8g}")
    ratio = _mid_f(q["spec"]) / _mid_f(b.spectral)
    return Decision(verdict, verdict != "UNDECIDED", min(slacks), ratio, note="; ".join(notes),
                    method="arb" if used == PREC else f"arb-{used}")


def _exact_symmetric(M, n):
    """M is an n x n list of rows of floats or ints, exactly symmetric."""
    try:
        ok = len(M) == n and all(len(row) == n for row in M)
        ok = ok and all(type(x) in (float, int) and math.isfinite(x) for row in M for x in row)
        return ok and all(M[i][j] == M[j][i] for i in range(n) for j in range(i))
    except TypeError:
        return False


def decide_p2(insts):
    """check_p2's four conclusions on exact matrices, enclosed (section comment)."""
    out = []
    for inst in insts:
        W, E = inst.get("W"), inst.get("E")
        n = len(W) if isinstance(W, list) else 0
        if inst.get("noise_kind") != "explicit" or not (
                n and _exact_symmetric(W, n) and _exact_symmetric(E, n)):
            out.append(Decision("UNDECIDED", False, method="undecided",
                                note="W and E are not given as exact symmetric matrices of floats "
                                     "(noise_kind 'explicit'): their eigenvectors are not enclosed"))
            continue
        out.append(_p2_one(inst))
    return out


VOLUME["P1"] = VolumeSpec(draw_p1, decide_p1)
VOLUME["P2"] = VolumeSpec(draw_p2, decide_p2)
VOLUME["P5"] = VolumeSpec(draw_p5, decide_p5)
