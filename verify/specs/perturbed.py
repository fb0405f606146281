"""Instance specs of the perturbed claims P1-P5 (Y = W + E).

Instances carry W's spectrum and a seed (W = V diag(spectrum) V^T), the noise size e and
kind ("random" or the Weyl-extremal "worst"), and eta as a fraction of its bound; the
matrices are rebuilt from them by verify.problems. Step budgets come from
verify.specs.params.predicted_steps, independent of the bounds under test.
"""

from __future__ import annotations

import mpmath

from bounds.perturbed import p1_step_limit, p4_bounds_real, p4_step_limit
from verify.problems import observed_eigenvalues_float
from verify.specs.params import Param, SpecTable, log_bisect, log_interpolate, predicted_steps

__all__ = ["SPECS", "STEP_BUDGET"]

#: predicted steps of a sampled instance stay below this (by construction of the builders)
STEP_BUDGET = 200_000

_table = SpecTable()


def _p3_predicted_steps(s, e, d, alpha, N, frac):
    """Steps the P3 check runs: to reach d for the slowest paired eigenvalue t = s - e (eta
    from s + e), times (s-d)/(s-d-e), since the check simulates up to P3's upper bound, which
    carries that factor (near e = s - d it is far above the actual hitting time)."""
    eta = frac / (N * (s + e) ** (2 - 2 / N))
    return predicted_steps(s - e, d, alpha, eta, N, rate_target=s + e) * (s - d) / (s - d - e)


def _p1_eta_float(t, alpha, N):
    with mpmath.workdps(20):
        return float(p1_step_limit([mpmath.mpf(x) for x in t], mpmath.mpf(alpha), N))


def _p1_predicted_steps(t, alpha, N, frac, delta):
    eta = frac * _p1_eta_float(t, alpha, N)
    worst = 0.0
    for ti in t:
        if ti > 0:
            worst = max(worst, predicted_steps(ti, ti - delta * t[0], alpha, eta, N))
    return worst


@_table.add(
    "P1",
    Param("n", "int", 1, 4),
    Param("depth", "int", 2, 5),
    Param("spectrum", "floats", 0.0, 1.0, size=4),
    Param("zero_tail", "int", 0, 1),
    Param("seed", "int", 0, 2**31 - 1),
    Param("e_frac", "float", 0.0, 1.0),
    Param("worst", "int", 0, 1),
    Param("r", "int", 0, 4),
    Param("alpha_u", "float", 0.0, 1.0),
    Param("eta_fraction", "float", 0.05, 0.95),
    Param("delta", "logfloat", 1e-6, 1e-2),
)
def _p1(*, n, depth, spectrum, zero_tail, seed, e_frac, worst, r, alpha_u, eta_fraction, delta):
    """W's spectrum in [0.2, 2] (a zero in the tail if zero_tail), e = e_frac s_1 / 2 (so
    t_1 > 0), alpha log-uniform between the smallest value whose predicted K2 bound fits the
    step budget and (t_1/2)^(1/N)."""
    s = sorted((0.2 + 1.8 * v for v in spectrum[:n]), reverse=True)
    if zero_tail and n >= 2:
        s[-1] = 0.0
    e = e_frac * 0.5 * s[0]
    kind = "worst" if worst else "random"
    r = min(r, n)
    t = observed_eigenvalues_float(s, seed, e, kind, r)
    N = depth
    hi = min(1.0, (0.5 * t[0]) ** (1 / N))
    floor = min(hi, 1e-12 ** (1 / N))
    lo = log_bisect(lambda a: _p1_predicted_steps(t, a, N, eta_fraction, delta) <= STEP_BUDGET,
                     floor, hi)
    alpha = log_interpolate(lo, hi, alpha_u)
    return {"n": n, "depth": N, "spectrum": s, "seed": seed, "e": e, "noise_kind": kind,
            "r": r, "alpha": alpha, "eta_fraction": eta_fraction, "delta": delta}

@_table.add(
    "P2",
    Param("n", "int", 2, 5),
    Param("spectrum", "floats", 0.0, 2.0, size=5),
    Param("zero_tail", "int", 0, 1),
    Param("seed", "int", 0, 2**31 - 1),
    Param("e", "logfloat", 1e-4, 2.0),
)
def _p2(*, n, spectrum, zero_tail, seed, e):
    """Random E of norm e, n >= 2 (the Weyl-extremal E, and any E for n = 1, attains Weyl's
    bound: an equality the checker cannot decide numerically, so it is not sampled; nor is
    W = c I, for which every E attains it)."""
    s = sorted(spectrum[:n], reverse=True)
    if zero_tail:
        s[-1] = 0.0
    if s[0] - s[-1] < 0.1:  # W = c I makes every E Weyl-extremal (an equality case)
        s[0] = s[-1] + 0.1
    return {"n": n, "spectrum": s, "seed": seed, "e": e, "noise_kind": "random"}

@_table.add(
    "P3",
    Param("depth", "int", 2, 5),
    Param("s", "float", 0.2, 2.0),
    Param("d_frac", "float", 0.02, 0.95),
    Param("e_frac", "float", 0.0, 0.95),
    Param("t_frac", "float", 0.0, 1.0),
    Param("matrix", "int", 0, 3),
    Param("spectrum", "floats", 0.0, 2.0, size=3),
    Param("seed", "int", 0, 2**31 - 1),
    Param("alpha_u", "float", 0.0, 1.0),
    Param("eta_fraction", "float", 0.05, 0.95),
)
def _p3(*, depth, s, d_frac, e_frac, t_frac, matrix, spectrum, seed, alpha_u, eta_fraction):
    """d = d_frac s, e = e_frac (s - d); t = s - e + 2 e t_frac, or (matrix == 0, one in
    four) t = the eigenvalue of W + E (E random, ||E|| = e) paired with s = s_1 of a
    spectrum [s, ...]. alpha log-uniform between the budget limit and (0.999 d)^(1/N)."""
    N = depth
    d = d_frac * s
    e = e_frac * (s - d)
    inst = {"depth": N, "d": d, "e": e}
    if matrix == 0:
        spec = [s] + sorted((min(v, s) for v in spectrum), reverse=True)
        inst.update({"t_source": "matrix", "spectrum": spec, "seed": seed, "index": 0,
                     "noise_kind": "random"})
    else:
        inst.update({"t_source": "interval", "s": s, "t_frac": t_frac})
    hi = (0.999 * d) ** (1 / N)
    floor = min(hi, 1e-12 ** (1 / N))
    lo = log_bisect(lambda a: _p3_predicted_steps(s, e, d, a, N, eta_fraction) <= STEP_BUDGET,
                     floor, hi)
    inst.update({"alpha": log_interpolate(lo, hi, alpha_u), "eta_fraction": eta_fraction})
    return inst

def _p4_predicted_steps(t, s, r, e, eps, theta, alpha, N, frac):
    """Budget estimates (T0~ from Y's eigenvalues, T0~ for the W-only lanes s_i - e, the
    theta crossing of lane r+1 or 0 when theta >= s_{r+1} + e), from predicted_steps."""
    with mpmath.workdps(20):
        eta = float(p4_step_limit([mpmath.mpf(x) for x in t], [mpmath.mpf(x) for x in s], r,
                                  mpmath.mpf(e), mpmath.mpf(alpha), N)) * frac
    ub0 = max((predicted_steps(ti, (1 - eps) * ti, alpha, eta, N) for ti in t[:r] if ti > 0),
              default=0.0)
    ubany = max((predicted_steps(si - e, (1 - eps) * (si - e), alpha, eta, N, rate_target=si + e)
                 for si in s[:r] if si - e > 0), default=0.0)
    tp = s[r] + e
    cross = predicted_steps(tp, min(theta, 0.5 * tp), alpha, eta, N) if theta < tp else 0.0
    return ub0, ubany, cross


def _p4_condition_float(t, s, r, e, eps, theta, alpha, N, frac):
    """P4's condition UB0~ <= LB1~ (Y's bounds, bounds.perturbed.p4_bounds_real at 20
    digits): where P5's instances need a nonempty interval. P4's bounds are not the bound
    under test in P5."""
    with mpmath.workdps(20):
        tm, sm = [mpmath.mpf(x) for x in t], [mpmath.mpf(x) for x in s]
        eta = p4_step_limit(tm, sm, r, mpmath.mpf(e), mpmath.mpf(alpha), N) * mpmath.mpf(frac)
        ub, L = p4_bounds_real(tm, sm, r, e, eps, theta, alpha, eta, N)
        return bool(mpmath.isinf(L) or mpmath.ceil(ub) <= max(mpmath.ceil(L) - 1, 0))


P45_PARAMS = (
    Param("n", "int", 2, 4),
    Param("depth", "int", 2, 5),
    Param("r", "int", 1, 3),
    Param("head", "floats", 0.5, 2.0, size=3),
    Param("tail", "floats", 0.0, 1.0, size=3),
    Param("tail_scale", "float", 0.0, 0.3),
    Param("zero_tail", "int", 0, 1),
    Param("seed", "int", 0, 2**31 - 1),
    Param("e_frac", "float", 0.0, 1.0),
    Param("worst", "int", 0, 1),
    Param("eps", "logfloat", 1e-6, 0.3),
    Param("theta_u", "float", 0.0, 1.0),
    Param("alpha_u", "float", 0.0, 1.0),
    Param("eta_fraction", "float", 0.05, 0.95),
)


def _build_p45(*, n, depth, r, head, tail, tail_scale, zero_tail, seed, e_frac, worst, eps,
               theta_u, alpha_u, eta_fraction, nonempty):
    """Spectrum: r head values in [0.5, 2], the tail scaled below tail_scale * s_r (the last
    one 0 if zero_tail); e = e_frac (s_r - s_{r+1})/4; theta log-uniform in [0.03, 3] x
    max(s_{r+1}+e, s_r/1000); alpha log-uniform between the smallest value whose predicted
    steps (max of the bounds) fit the budget and min(theta, (1-eps)(s_r-e)/2)^(1/N). With
    ``nonempty`` (P5) the upper end of alpha is lowered to where the predicted P4 condition
    UB0 <= LB1 still holds, and if it fails at the budget limit theta is raised to
    s_{r+1}+e (T1~ infinite)."""
    N = depth
    r = min(r, n - 1)
    hs = sorted(head[:r], reverse=True)
    sr = hs[-1]
    tl = sorted((v * tail_scale * sr for v in tail[: n - r]), reverse=True)
    if zero_tail:
        tl[-1] = 0.0
    s = hs + tl
    e = e_frac * 0.25 * (sr - s[r])
    kind = "worst" if worst else "random"
    t = observed_eigenvalues_float(s, seed, e, kind, r)
    tp = s[r] + e
    theta = max(tp, 1e-3 * sr) * 10 ** (2 * theta_u - 1.5)

    def limits(theta):
        # alpha^N stays strictly below theta after rounding (theta >= alpha^N is a hypothesis)
        hi = min(theta * (1 - 1e-9), 0.5 * (1 - eps) * (sr - e)) ** (1 / N)
        floor = min(hi, 1e-12 ** (1 / N))

        def steps(a):
            return max(_p4_predicted_steps(t, s, r, e, eps, theta, a, N, eta_fraction))

        return log_bisect(lambda a: steps(a) <= STEP_BUDGET, floor, hi), hi

    lo, hi = limits(theta)
    if nonempty:
        def cond(a):
            return _p4_condition_float(t, s, r, e, eps, theta, a, N, eta_fraction)

        if cond(lo):
            hi = log_bisect(lambda a: not cond(a), lo, hi) / 1.001
            hi = max(hi, lo)
        else:
            theta = max(theta, tp)
            lo, hi = limits(theta)
    alpha = log_interpolate(lo, hi, alpha_u)
    return {"n": n, "depth": N, "spectrum": s, "r": r, "seed": seed, "e": e, "noise_kind": kind,
            "eps": eps, "theta": theta, "alpha": alpha, "eta_fraction": eta_fraction}


@_table.add("P4", *P45_PARAMS)
def _p4(**raw):
    return _build_p45(**raw, nonempty=False)

@_table.add("P5", *P45_PARAMS)
def _p5(**raw):
    return _build_p45(**raw, nonempty=True)


SPECS = _table.frozen()


# ---------------------------------------------------------------------------------------
# tightness witnesses (see verify.specs.flow.WITNESSES)

_ETA_WALK = (0.1, 0.01, 0.001)
_P1_CORNER = {"n": 1, "depth": 3, "spectrum": [1.0], "seed": 0, "e": 0.0,
              "noise_kind": "random", "r": 0, "alpha": 0.3, "delta": 1e-3}
_P3_CORNER = {"depth": 3, "s": 1.0, "d": 0.3, "e": 0.0, "t_source": "interval", "t_frac": 0.5,
              "alpha": 0.3}
# Weyl-extremal E: t_1 = s_1 - e, t_2 = s_2 + e; theta below (s_2 + e)(N-1)/(2N-1) = 0.06
_P4_CORNER = {"n": 2, "depth": 3, "spectrum": [1.0, 0.05], "r": 1, "seed": 0, "e": 0.1,
              "noise_kind": "worst", "eps": 0.01, "theta": 0.03, "alpha": 0.2}

WITNESSES = {
    # Y positive definite (E small against s_n): ||Y_+ - W||_2 = ||E||_2 = e
    ("P2", "ratio"): ({"n": 3, "spectrum": [1.0, 0.8, 0.6], "seed": 1, "e": 0.1,
                       "noise_kind": "random"},),
    ("P1", "ratio"): tuple(dict(_P1_CORNER, eta_fraction=f) for f in _ETA_WALK),
    ("P1", "||P(K)-Y_+||/bound"): tuple(dict(_P1_CORNER, eta_fraction=f) for f in _ETA_WALK),
    ("P3", "ratio"): tuple(dict(_P3_CORNER, eta_fraction=f) for f in _ETA_WALK),
    ("P3", "lower/K"): tuple(dict(_P3_CORNER, eta_fraction=f) for f in _ETA_WALK),
    ("P4", "ratio"): tuple(dict(_P4_CORNER, eta_fraction=f) for f in _ETA_WALK),
    ("P4", "(T1~+1)/(tau/eta)"): tuple(dict(_P4_CORNER, eta_fraction=f) for f in _ETA_WALK),
    ("P4", "T0~/UB0_any"): tuple(dict(_P4_CORNER, eta_fraction=f) for f in _ETA_WALK),
    ("P4", "e*/e_observed_hi"): tuple(dict(_P4_CORNER, eta_fraction=f) for f in _ETA_WALK),
    # W of rank r (s_2 = 0), E = -e v_1 v_1^T: the error at T0~ is ~ e + eps t_1 against the
    # bound max(eps (s_1+e), theta) + 2e, a ratio ~ 1/2
    ("P5", "ratio"): ({"n": 2, "depth": 2, "spectrum": [1.0, 0.0], "r": 1, "seed": 0, "e": 0.1,
                       "noise_kind": "worst", "eps": 0.001, "theta": 0.002, "alpha": 0.01,
                       "eta_fraction": 0.1},),
}


# ---------------------------------------------------------------------------------------
# hard corners, checked in every profile (verify.specs.corners)


def corners():
    from verify.specs.params import Corner

    big = [2.0 - 0.15 * i for i in range(11)] + [0.0]
    p1 = {"n": 2, "depth": 2, "spectrum": [1.0, 0.0], "seed": 3, "e": 0.0,
          "noise_kind": "random", "r": 0, "alpha": 0.1, "eta_fraction": 0.5, "delta": 1e-3}
    p45 = {"n": 3, "depth": 3, "spectrum": [1.5, 1.0, 0.05], "r": 2, "seed": 4, "e": 0.1,
           "noise_kind": "worst", "eps": 0.01, "theta": 0.02, "alpha": 0.2,
           "eta_fraction": 0.95}
    dropped = {"n": 2, "depth": 2, "spectrum": [1.0, 0.9], "r": 1, "seed": 0, "e": 0.01,
               "noise_kind": "worst", "eps": 0.1, "theta": 0.95, "alpha": 0.1,
               "eta_fraction": 2.5}
    # alpha^N = 0.9 (1-eps)(s_r - e): H is not decreasing there, the W-only bounds do not apply
    near = dict(p45, n=2, spectrum=[1.0, 0.05], r=1, e=0.05, theta=0.9,
                alpha=(0.9 * 0.99 * 0.95) ** (1 / 3))
    p1_neg = {"n": 2, "depth": 2, "spectrum": [1.0, 0.0], "seed": 0, "e": 0.6,
              "noise_kind": "worst", "r": 2, "alpha": 0.6, "eta_fraction": 0.999, "delta": 1e-3}
    # Weyl-extremal E: t_1 = s_1 - e < s_1 + e, so the W-only step bound 1/(N (s_1+e)^A) is
    # the binding one (the W-only bounds apply up to eta_fraction 1, not at 1.01)
    wonly = "T0~/UB0_any"
    low = dict(_P4_CORNER, eta_fraction=0.999)  # e = 0.1 >= s_n = 0.05: s_n - e < 0
    # H'(s_r - e) changes sign near c = alpha^N/(s_r - e) = 0.766 (N = 3, eps = 0.01, found
    # once with bounds.perturbed.h_decreasing_margin): c = 0.75 (H decreasing, the W-only
    # bounds apply) and c = 0.78 (they do not); fixed numbers, so a wrong test cannot move them
    edge = dict(p45, n=2, spectrum=[1.0, 0.05], r=1, e=0.05, theta=0.9)
    return {
        "P1": (Corner({"n": 12, "depth": 3, "spectrum": big, "seed": 7, "e": 0.3,
                       "noise_kind": "worst", "r": 6, "alpha": 0.3, "eta_fraction": 0.95,
                       "delta": 1e-3}, "decided",
                      "n = 12, Weyl-extremal E (a negative eigenvalue), eta at 0.95"),
               Corner(dict(p1, eta_fraction=2.5), "na", "eta 2.5 x the step bound: overshoot"),
               # t = (0.4, -0.6), alpha = 0.6: the positivity bound of t_2 (1/0.96) binds, not
               # the step bound (1.25); alpha^(N-1) > 1/N, so alpha/N < alpha^N
               Corner(p1_neg, "decided", "t_n = -0.6, alpha = 0.6, eta at 0.999 of the "
                      "positivity bound"),
               Corner(dict(p1_neg, eta_fraction=1.1), "na",
                      "-1 < t_n < 0, eta 1.1 x the positivity bound (below the step bound)")),
        "P2": (Corner({"n": 12, "spectrum": big, "seed": 7, "e": 0.3, "noise_kind": "random"},
                      "decided", "n = 12 with a zero eigenvalue"),),
        "P3": (Corner({"depth": 3, "s": 1.0, "d": 0.3, "e": 0.69, "t_source": "interval",
                       "t_frac": 0.0, "alpha": 0.3, "eta_fraction": 0.95}, "decided",
                      "e at 0.99 of s - d, slowest paired eigenvalue t = s - e"),),
        "P4": (Corner(p45, "decided", "r = 2, Weyl-extremal E, eta at 0.95"),
               Corner(near, "decided", "alpha^N near (1-eps)(s_r - e): H not monotone"),
               Corner(dropped, "na", "eta 2.5 x the step bound: x_r+1 overshoots theta"),
               Corner(dict(dropped, eta_fraction=0.5, theta=0.005), "na", "theta < alpha^N"),
               Corner(dict(p45, eta_fraction=0.999), "decided",
                      "r = 2, eta at 0.999 of the W-only step bound", reports=(wonly,)),
               Corner(dict(p45, eta_fraction=1.0), "decided",
                      "r = 2, eta at the W-only step bound", reports=(wonly,)),
               Corner(dict(p45, eta_fraction=1.01), "decided",
                      "r = 2, eta 1.01 x the W-only step bound (W-only bounds N/A)",
                      omits=(wonly,)),
               Corner(low, "decided", "e >= s_n, eta at 0.999 of the step limit",
                      reports=(wonly,)),
               Corner(dict(low, eta_fraction=1.01), "decided",
                      "e >= s_n, eta 1.01 x the step limit (W-only bounds N/A)", omits=(wonly,)),
               Corner(dict(edge, alpha=(0.75 * 0.95) ** (1 / 3)), "decided",
                      "alpha^N = 0.75 (s_r - e): H just decreasing", reports=(wonly,)),
               Corner(dict(edge, alpha=(0.78 * 0.95) ** (1 / 3)), "decided",
                      "alpha^N = 0.78 (s_r - e): H just not monotone", omits=(wonly,))),
        "P5": (Corner(p45, "decided", "r = 2, Weyl-extremal E, eta at 0.95"),),
    }
