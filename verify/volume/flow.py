"""Certified volume stage of the flow claims K1, K2, K3 (see :mod:`verify.volume`).

The draws follow the claims' instance specs (verify/specs/flow.py: the same raw ranges and
placement: eta as a fraction of S1's step bound, alpha between the step budget's floor and a
ceiling below the level, d between alpha^N and the level ceiling), vectorized over the batch
with float64 flow times (:mod:`verify.fasttau`, only to place alpha inside the step budget:
no verdict depends on them). Verdicts compare certified hitting steps with arb enclosures of
the bounds (the claims' ball evaluators, bounds/enclosures.py, through
:func:`verify.checks.verdict.evaluators`), and the hypotheses are decided by the claims'
hypothesis evaluators at a precision where the float inputs compare exactly.

>>> from verify.volume import run_volume
>>> r = run_volume("K1", 10, seed=1)
>>> r.counts["PASS"], r.certified
(10, 10)
"""

from __future__ import annotations

import math

import numpy as np
from flint import arb, ctx as flint_ctx

from verify.volume.common import PREC, UNDECIDED_STEP, Decision, VolumeSpec, ball, eta_ball, hitting_steps

__all__ = ["VOLUME", "draw_hitting", "decide_k1", "decide_k2", "draw_k3", "decide_k3"]

BUDGET = 20_000  # the specs' step budget per lane


# ---------------------------------------------------------------------------------------
# draws


def _predicted_steps(t, level, alpha, eta, N):
    """Vectorized verify.specs.params.predicted_steps (float64): exp((N-1) eta t^A)
    tau_t(alpha^N, level)/eta, 0 where alpha^N >= level."""
    from verify.fasttau import tau

    A = 2 - 2 / N
    aN = alpha**N
    out = np.zeros_like(t)
    ok = aN < level
    if ok.any():
        out[ok] = np.exp((N - 1) * eta[ok] * t[ok] ** A) * tau(t[ok], aN[ok], level[ok], N) / eta[ok]
    return out


def _alpha_floor(t, level, eta, N, hi, *, budget, iters=40):
    """Vectorized verify.specs.params.alpha_floor: the smallest alpha in (0, hi] (log
    bisection) whose predicted steps to ``level`` fit the budget."""
    lo_l, hi_l = np.log(hi) - 60.0, np.log(hi)
    fits_lo = _predicted_steps(t, level, np.exp(lo_l), eta, N) <= budget
    for _ in range(iters):
        m = (lo_l + hi_l) / 2
        fits = _predicted_steps(t, level, np.exp(m), eta, N) <= budget
        hi_l = np.where(fits, m, hi_l)
        lo_l = np.where(fits, lo_l, m)
    return np.where(fits_lo, np.exp(np.log(hi) - 60.0), np.exp(hi_l))


def draw_hitting(rng, count, *, claim: str):
    """K1/K2 instances as in verify/specs/flow.py `_hitting_instance`: depth 2..6, t in
    [0.2, 2], eta_fraction in [0.05, 1], alpha log-uniform between the budget floor and
    (level_max/2)^(1/N), d = alpha^N + (level_max - alpha^N)(0.02 + 0.97 u)."""
    N_all = rng.integers(2, 7, count)
    t_all = rng.uniform(0.2, 2.0, count)
    f_all = rng.uniform(0.05, 1.0, count)
    ap_all = rng.uniform(0.0, 1.0, count)
    dp_all = rng.uniform(0.0, 1.0, count)
    out = [None] * count
    for N in np.unique(N_all):
        N = int(N)
        idx = np.nonzero(N_all == N)[0]
        t, f, ap, dp = t_all[idx], f_all[idx], ap_all[idx], dp_all[idx]
        eta = f / (N * t ** (2 - 2 / N))
        level_max = t * (N - 1) / (2 * N - 1) if claim == "K1" else 0.999 * t
        hi = (0.5 * level_max) ** (1 / N)
        lo = _alpha_floor(t, level_max, eta, N, hi, budget=BUDGET)
        alpha = np.where(hi > lo, np.exp(np.log(lo) + (np.log(hi) - np.log(lo)) * ap), hi)
        aN = alpha**N
        d = aN + (level_max - aN) * (0.02 + 0.97 * dp)
        for j, i in enumerate(idx):
            out[i] = {"depth": N, "t": float(t[j]), "eta_fraction": float(f[j]),
                      "alpha": float(alpha[j]), "d": float(d[j])}
    return out


# ---------------------------------------------------------------------------------------
# decisions


def _groups(insts):
    by = {}
    for i, inst in enumerate(insts):
        by.setdefault(inst["depth"], []).append(i)
    return by


HYP_DPS = 120  # exact for float inputs: alpha^N of a float has at most 53 N <= 318 bits


def _hyp_hitting(inst, *, claim):
    """The claim's hypothesis evaluator (bounds/) on the instance, as the HP check calls it,
    at 120 digits: the comparisons of float inputs (alpha^N < d, d < t, ...) are exact there,
    and eta_fraction < 1 by construction keeps eta N t^A <= 1 away from a tie."""
    import mpmath

    from verify.checks.verdict import evaluators, monotone_step_eta

    N = inst["depth"]
    with mpmath.workdps(HYP_DPS):
        t, a, d = (mpmath.mpf(inst[k]) for k in ("t", "alpha", "d"))
        eta = monotone_step_eta(claim, mpmath.mpf(inst["eta_fraction"]), t, N)
        return bool(evaluators(claim)[f"{claim.lower()}_hypotheses"](t, d, a, eta, N))


def _decide_hitting(insts, *, claim):
    """K1: K >= tau/eta; K2: K <= ceil(rho tau/eta), i.e. K - 1 < B (the bounds are the
    claim's ball evaluators in bounds/enclosures.py)."""
    from verify.checks.verdict import evaluators

    bound = evaluators(claim)["k1_lower_ball" if claim == "K1" else "k2_upper_real_ball"]
    out = [None] * len(insts)
    for N, idx in _groups(insts).items():
        lanes = []
        for i in idx:
            inst = insts[i]
            if not _hyp_hitting(inst, claim=claim):
                out[i] = Decision("N/A", True, note="hypotheses false (decided exactly)", method="exact")
                continue
            with flint_ctx.workprec(PREC):
                E = eta_ball(inst["eta_fraction"], inst["t"], N)
                B = bound(ball(inst["t"]), ball(inst["d"]), ball(inst["alpha"]), E, N)
            b_hi = float(B.upper().mid().str(20, radius=False))
            cap = int(4 * math.e * b_hi) + 100 if claim == "K1" else int(math.floor(b_hi)) + 3
            lanes.append((i, E, B, cap))
        steps = hitting_steps([insts[i]["t"] for i, *_ in lanes], [insts[i]["alpha"] for i, *_ in lanes],
                              [E for _, E, _, _ in lanes], N, [insts[i]["d"] for i, *_ in lanes],
                              caps=[c for *_, c in lanes])
        for (i, E, B, cap), (K, method) in zip(lanes, steps):
            out[i] = _verdict(claim, B, K, cap, method)
    return out


def _verdict(claim, B, K, cap, method):
    if K == UNDECIDED_STEP:
        return Decision("UNDECIDED", False, note="hitting step not decided at 512 bits", method=method)
    mid = float(B.mid().str(20, radius=False))
    if K is None:
        if claim == "K2":  # not hit by floor(B) + 3 > ceil(B): K > ceil(B), certified
            return Decision("FAIL", True, -1.0, note=f"no hit within {cap} steps", method=method)
        if arb(cap) >= B:  # K1: K > cap >= B, so K >= B holds (certified)
            return Decision("PASS", True, (cap - mid) / mid, None, method=method,
                            note=f"no hit within {cap} steps >= the bound")
        return Decision("UNDECIDED", False, note=f"no hit within {cap} steps", method=method)
    Kb = arb(K)
    if claim == "K1":  # K >= B
        if B <= Kb:
            return Decision("PASS", True, (K - mid) / mid, K / mid, method=method)
        if B > Kb:
            return Decision("FAIL", True, (K - mid) / mid, K / mid, note=f"K = {K} < tau/eta", method=method)
    else:  # K - 1 < B
        if Kb - 1 < B:
            ceil_b = math.ceil(mid)
            return Decision("PASS", True, (mid - (K - 1)) / mid, K / ceil_b if ceil_b else None, method=method)
        if Kb - 1 >= B:
            return Decision("FAIL", True, (mid - (K - 1)) / mid, note=f"K = {K} > ceil(B)", method=method)
    return Decision("UNDECIDED", False, note="the bound's enclosure contains the observed value",
                    method=method)


def decide_k1(insts):
    return _decide_hitting(insts, claim="K1")


def decide_k2(insts):
    return _decide_hitting(insts, claim="K2")


# ---------------------------------------------------------------------------------------
# K3: closed forms only


def draw_k3(rng, count):
    """As verify/specs/flow.py `_k3_instance`: depth 3..8, t in [0.1, 3], alpha log-uniform
    in [1e-6, 0.9] capped at ((1-eps)t/2)^(1/N), eps log-uniform in [1e-8, 0.5]."""
    N = rng.integers(3, 9, count)
    t = rng.uniform(0.1, 3.0, count)
    alpha = np.exp(rng.uniform(math.log(1e-6), math.log(0.9), count))
    dp = rng.uniform(0.0, 1.0, count)
    eps = np.exp(rng.uniform(math.log(1e-8), math.log(0.5), count))
    top = ((1 - eps) * t / 2) ** (1 / N)
    alpha = np.minimum(alpha, top)
    aN = alpha**N
    d = aN + (t - aN) * (0.01 + 0.98 * dp)
    return [{"depth": int(N[i]), "t": float(t[i]), "alpha": float(alpha[i]), "d": float(d[i]),
             "eps": float(eps[i])} for i in range(count)]


def decide_k3(insts):
    """lower(d) <= tau_t(alpha^N, d) and tau_t(alpha^N, (1-eps)t) <= upper(eps), enclosed."""
    import mpmath

    from verify.checks.verdict import evaluators

    hyp = evaluators("K3")["k3_hypotheses"]
    out = []
    for inst in insts:
        N = inst["depth"]
        with mpmath.workdps(HYP_DPS):  # exact for float inputs, as in _hyp_hitting
            t, a, d, eps = (mpmath.mpf(inst[k]) for k in ("t", "alpha", "d", "eps"))
            ok = 0 < eps < 1 and hyp(t, d, a, N) and hyp(t, (1 - eps) * t, a, N)
        if not ok:
            out.append(Decision("N/A", True, note="hypotheses false (decided exactly)", method="exact"))
            continue
        out.append(_decide_k3_one(inst, N))
    return out


K3_PRECS = (128, 256, 512, 1024)  # the two sides agree to ~alpha^(N-2) relative


def _decide_k3_one(inst, N):
    from verify.checks.verdict import evaluators

    ev = evaluators("K3")
    for prec in K3_PRECS:
        with flint_ctx.workprec(prec):
            T, Al, D, Ep = (ball(inst[k]) for k in ("t", "alpha", "d", "eps"))
            aN = Al**N
            lower = ev["k3_lower_ball"](T, D, Al, N)
            tau_d = ev["tau_ball"](T, aN, D, N)
            tau_e = ev["tau_ball"](T, aN, (1 - Ep) * T, N)
            upper = ev["k3_upper_ball"](T, Ep, Al, N)
            ok = lower <= tau_d and tau_e <= upper
            bad = lower > tau_d or tau_e > upper
            if ok or bad:
                ratio = float((tau_e / upper).mid().str(20, radius=False))
                slack = min(float(((tau_d - lower) / tau_d).mid().str(20, radius=False)),
                            float(((upper - tau_e) / upper).mid().str(20, radius=False)))
                return Decision("PASS" if ok else "FAIL", True, slack, ratio, method=f"arb-{prec}")
    return Decision("UNDECIDED", False, note=f"enclosures overlap at {K3_PRECS[-1]} bits",
                    method="undecided")


VOLUME = {
    "K1": VolumeSpec(lambda rng, n: draw_hitting(rng, n, claim="K1"), decide_k1),
    "K2": VolumeSpec(lambda rng, n: draw_hitting(rng, n, claim="K2"), decide_k2),
    "K3": VolumeSpec(draw_k3, decide_k3),
}
