"""Certified volume stage of the flow claims K1, K2, K3, and of S1, S2, S3, O1 below (see
:mod:`verify.volume`).

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
>>> [d.verdict for d in decide_s2([{"depth": 3, "t": 1.0, "q": 1.5, "alpha": 0.5},
...                                {"depth": 3, "t": 1.0, "q": 2.5, "alpha": 0.5}])]
['PASS', 'PASS']
>>> decide_s3([{"depth": 3, "t": -0.5, "alpha": 0.8, "eta_fraction": 0.95}])[0].certified
True
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
from flint import arb, ctx as flint_ctx, fmpq

from verify.volume.common import (ESCALATE, PREC, UNDECIDED_STEP, Decision, VolumeSpec, ball,
                                   depth_groups, eta_ball, float_bounds, hitting_steps)

__all__ = ["VOLUME", "draw_hitting", "decide_k1", "decide_k2", "draw_k3", "decide_k3"]

BUDGET = 20_000  # the specs' step budget per lane


# ---------------------------------------------------------------------------------------
# draws


def _predicted_steps(t, level, alpha, eta, N):
    """Vectorized verify.specs.params.predicted_steps (float64): exp((N-1) eta t^A)
    tau_t(alpha^N, level)/eta, 0 where alpha^N >= level."""
    from verify.fasttau import tau as placement_time  # float64, only to place instances

    A = 2 - 2 / N
    aN = alpha**N
    out = np.zeros_like(t)
    ok = aN < level
    if ok.any():
        out[ok] = np.exp((N - 1) * eta[ok] * t[ok] ** A) * placement_time(t[ok], aN[ok], level[ok], N) / eta[ok]
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


def draw_hitting(rng, count, *, claim: str, budget: float = BUDGET):
    """K1/K2 instances as in verify/specs/flow.py `_hitting_instance`: depth 2..6, t in
    [0.2, 2], eta_fraction in [0.05, 1], alpha log-uniform between the budget floor and
    (level_max/2)^(1/N), d = alpha^N + (level_max - alpha^N)(0.02 + 0.97 u). ``budget``:
    predicted steps per lane (M1's draws, verify/volume/momentum.py, use a smaller one)."""
    N_all = rng.integers(2, 7, count)
    t_all = rng.uniform(0.2, 2.0, count)
    f_all = rng.uniform(0.05, 1.0, count)
    ap_all = rng.uniform(0.0, 1.0, count)
    dp_all = rng.uniform(0.0, 1.0, count)
    out = [None] * count
    for N, idx in depth_groups(N_all):
        t, f, ap, dp = t_all[idx], f_all[idx], ap_all[idx], dp_all[idx]
        eta = f / (N * t ** (2 - 2 / N))
        level_max = t * (N - 1) / (2 * N - 1) if claim == "K1" else 0.999 * t
        hi = (0.5 * level_max) ** (1 / N)
        lo = _alpha_floor(t, level_max, eta, N, hi, budget=budget)
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


# ---------------------------------------------------------------------------------------
# S1, S2, S3, O1: trajectory predicates over the HP checks' horizons (or for every k)
#
# Each conclusion is a statement about x_0..x_K for the exact real inputs. It is decided
# from proved enclosures lo_k <= x_k <= hi_k (a vectorized float64 enclosure below, or
# verify.certified.certified_lane at 128, 256, 512 bits) together with the sign of the step
# phi(x) - x = eta x^(N-1) (t - x^N), which for x > 0 and eta > 0 has the sign of t - x^N:
#   x_k > 0 and x_k^N < t  =>  x_(k+1) > x_k;    x_k > 0 and x_k^N > t  =>  x_(k+1) < x_k.
# So "strictly increasing and below t^(1/N)" follows from hi_k^N < t (and x_0 = alpha > 0,
# by induction x_k > x_(k-1) > ... > 0), "strictly decreasing and positive" (t <= 0) from
# lo_k > 0, "strictly decreasing and above t^(1/N)" (t > 0) from lo_k^N > t. What no
# enclosure decides is UNDECIDED, never PASS.

S_DELTA_DIGITS = 25   # delta = 10^-25: the HP checks' delta 10^-(dps/2) at their first dps, 50
S1_DELTA = Fraction(1, 10**S_DELTA_DIGITS)


def _ints(rng, lo, hi, n):
    return rng.integers(lo, hi + 1, n)


def _log_interp(lo, hi, u):
    """Vectorized verify.specs.params.log_interpolate."""
    with np.errstate(divide="ignore", invalid="ignore"):
        v = np.exp(np.log(lo) + (np.log(hi) - np.log(lo)) * u)
    return np.where(hi > lo, v, hi)


def draw_s1(rng, count):
    """As verify/specs/flow.py `_s1_instance`: depth 2..6, t in [0.2, 2], eta_fraction in
    [0.05, 1], alpha log-uniform between the budget floor (BUDGET/4 steps to 0.999 t) and
    (0.8 t)^(1/N)."""
    N_all = _ints(rng, 2, 6, count)
    t_all = rng.uniform(0.2, 2.0, count)
    f_all = rng.uniform(0.05, 1.0, count)
    ap_all = rng.uniform(0.0, 1.0, count)
    out = [None] * count
    for N, idx in depth_groups(N_all):
        t, f, ap = t_all[idx], f_all[idx], ap_all[idx]
        eta = f / (N * t ** (2 - 2 / N))
        hi = (0.8 * t) ** (1 / N)
        lo = _alpha_floor(t, 0.999 * t, eta, N, hi, budget=BUDGET / 4)
        alpha = _log_interp(lo, hi, ap)
        for j, i in enumerate(idx):
            out[i] = {"depth": N, "t": float(t[j]), "eta_fraction": float(f[j]), "alpha": float(alpha[j])}
    return out


def draw_o1(rng, count):
    """As `_o1_instance`: depth 2..6, t' in [0.2, 2], alpha log-uniform in
    [0.05, (0.9 t')^(1/N)], t from -0.5 to t' - 0.01, eta_fraction in [0.05, 1]."""
    N = _ints(rng, 2, 6, count)
    tp = rng.uniform(0.2, 2.0, count)
    tpos = rng.uniform(0.0, 1.0, count)
    apos = rng.uniform(0.0, 1.0, count)
    f = rng.uniform(0.05, 1.0, count)
    alpha = _log_interp(np.full(count, 0.05), (0.9 * tp) ** (1 / N), apos)
    t = -0.5 + (tp - 0.01 + 0.5) * tpos
    return [{"depth": int(N[i]), "t": float(t[i]), "t_prime": float(tp[i]), "alpha": float(alpha[i]),
             "eta_fraction": float(f[i])} for i in range(count)]


# ---------------------------------------------------------------------------------------
# a vectorized float64 enclosure of x_0..x_K (lanes of one depth)

_U = 2.0**-53
_TINY, _BIG = 2.0**-900, 2.0**100
# scale of the enclosure's radius: 1 in production; tests set it to 0 (the plain float
# iteration, no enclosure) to show that the radius is what makes the enclosure hold
_WIDEN = 1.0


def enclose_f64(N, t, alpha, e_lo, e_hi, steps):
    """Proved enclosures ``LO[k] <= x_k <= HI[k]`` for k <= ``upto`` of every lane (float64
    arrays, lanes of depth N, or of depths N[i] for an int array N: each lane's floats are
    those of a call with its own depth; t, alpha exact floats; eta in [e_lo, e_hi]); NaN
    beyond.
    ``alpha`` may be a pair ``(lo, hi)`` of arrays: then ``[LO[k], HI[k]]`` contains
    ``phi^k(x)`` for every start x in ``[lo, hi]`` (the step below encloses the image of the
    whole interval), which continues a run from its last enclosure or maps an interval.

    One step, mean-value form (no monotonicity needed): for x in [lo, hi], 0 < lo,
    ``phi(x) = phi(m) + phi'(xi) (x - m)`` with m = fl((lo + hi)/2), |x - m| <= r =
    max(hi - m, m - lo) (exact: Sterbenz), and |phi'| <= M on [lo, hi] for every eta in
    [e_lo, e_hi]: phi'(x) = 1 + eta g(x), g = (N-1) t x^(N-2) - (2N-1) x^(2N-2), whose two
    terms are monotone in x, so g lies between the corner values, and M is the largest
    |1 + eta g| over the corners, inflated by 2^-45 (1 + e_hi |g|-terms) for the roundings.
    phi(m) is evaluated at eta = e_lo as ``y = fl(m + fl(fl(eta fl(m^(N-1))) fl(t - fl(m^N))))``;
    with u = 2^-53, gamma_j = j u/(1 - j u), it errs from the exact ``phi_eta(m)`` for any
    eta in [e_lo, e_hi] by at most
    ``(gamma_(2N+1) e_lo + (e_hi - e_lo)) m^(N-1) (|t| + 2 m^N) + u |y|/(1 - u)``
    (the N+2 products and two sums; |t - m^N| + m^N <= |t| + 2 m^N). The code takes
    ``err = G c1 + 8 u |y|``, ``G = fl(fl(eta m^(N-1)) fl(|t| + 2 fl(m^N)))`` (at least
    (1 - gamma_(2N+2)) of its exact value), ``c1 = (4N + 8) u + 2 (e_hi - e_lo)/e_lo``:
    twice what is needed. The new ends are ``y -+ rad``, ``rad = (err + M r)(1 + 2^-48) +
    2^-50 |y|``, which pays the roundings of err, M r and y -+ rad. A lane stops (``upto``
    = its last enclosed step) when lo would not be positive, an operand would leave
    [2^-900, 2^100] (no underflow in the analysis), or a value is not finite."""
    L = len(t)
    t = np.asarray(t, dtype=np.float64)
    vec = np.ndim(N) > 0  # a depth per lane
    if vec:
        N = np.asarray(N, dtype=np.int64)
    if isinstance(alpha, tuple):
        a, a_hi = (np.asarray(v, dtype=np.float64) for v in alpha)
    else:
        a = a_hi = np.asarray(alpha, dtype=np.float64)
    LO = np.full((steps + 1, L), np.nan)
    HI = np.full((steps + 1, L), np.nan)
    LO[0], HI[0] = a, a_hi
    upto = np.zeros(L, dtype=np.int64)
    e_lo = np.asarray(e_lo, dtype=np.float64)
    e_hi = np.asarray(e_hi, dtype=np.float64)
    c1 = (4 * N + 8) * _U + 2 * (e_hi - e_lo) / e_lo
    at = np.abs(t)
    ok = (a >= _TINY) & (a_hi <= _BIG) & (a <= a_hi) & (e_lo >= _TINY) & (e_hi <= _BIG) & (at <= _BIG)
    live = np.flatnonzero(ok)
    lo, hi = a[live], a_hi[live]
    # the lanes' constants, compressed only when a lane stops (values as if indexed per step)
    tt, el, eh, cc, aa = t[live], e_lo[live], e_hi[live], c1[live], at[live]
    nn = N[live] if vec else N

    def plans():  # the product chains of the lanes' exponents (recomputed when lanes stop)
        return tuple(_pow_plan(e) for e in (nn - 1, nn - 2, 2 * nn - 2)) if vec else None

    plan = plans()
    full = live.size == L  # every lane live: rows are written without an index
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        for k in range(1, steps + 1):
            if live.size == 0:
                break
            m = 0.5 * (lo + hi)
            r = np.maximum(hi - m, m - lo)
            p = _pow_planned(m, plan[0]) if vec else _pow(m, N - 1)
            q = p * m
            ep = el * p
            y = m + ep * (tt - q)
            G = ep * (aa + 2.0 * q)
            ay = np.abs(y)
            err = G * cc + 8 * _U * ay
            # |phi'| bound on [lo, hi]; x^(2N-2) continues the products of x^(N-2) (_pow's
            # left-to-right order, so the same rounded values)
            if vec:
                l2, h2 = _pow_planned(lo, plan[1]), _pow_planned(hi, plan[1])
                l4, h4 = _pow_planned(lo, plan[2]), _pow_planned(hi, plan[2])
            elif N > 2:
                l2, h2 = _pow(lo, N - 2), _pow(hi, N - 2)
                l4, h4 = l2, h2
                for _ in range(N):
                    l4, h4 = l4 * lo, h4 * hi
            else:
                l2 = h2 = np.ones_like(lo)
                l4, h4 = lo * lo, hi * hi
            T1a, T1b = (nn - 1) * tt * l2, (nn - 1) * tt * h2
            T2a, T2b = (2 * nn - 1) * l4, (2 * nn - 1) * h4
            g_lo = np.minimum(T1a, T1b) - T2b
            g_hi = np.maximum(T1a, T1b) - T2a
            M = np.maximum(np.maximum(np.abs(1 + el * g_lo), np.abs(1 + eh * g_lo)),
                           np.maximum(np.abs(1 + el * g_hi), np.abs(1 + eh * g_hi)))
            M = M * (1 + 2.0**-45) + 2.0**-45 * (1 + eh * (np.abs(T1a) + np.abs(T1b) + T2b))
            rad = ((err + M * r) * (1 + 2.0**-48) + 2.0**-50 * ay) * _WIDEN
            nlo, nhi = y - rad, y + rad
            good = (lo >= _TINY) & (q >= _TINY) & (G * _U >= _TINY) & (nlo >= _TINY) & (nhi <= _BIG)
            good &= np.isfinite(nlo) & np.isfinite(nhi) & np.isfinite(M)
            if good.all():
                lo, hi = nlo, nhi
            else:
                upto[live[~good]] = k - 1
                live, lo, hi = live[good], nlo[good], nhi[good]
                tt, el, eh, cc, aa = tt[good], el[good], eh[good], cc[good], aa[good]
                if vec:
                    nn = nn[good]
                    plan = plans()
                full = False
            if full:
                LO[k], HI[k] = lo, hi
            else:
                LO[k, live], HI[k, live] = lo, hi
        upto[live] = k if steps else 0
    return LO, HI, upto


def _pow(x, n):
    """x^n by n - 1 left-to-right products. ``n`` an int >= 1, or an int array over the lanes
    (the last axis of x): each lane gets the value of its own chain, the same float as with
    its own int n, and 1 where n = 0."""
    if np.ndim(n) == 0:
        y = x
        for _ in range(n - 1):
            y = y * x
        return y
    return _pow_planned(x, _pow_plan(n))


def _pow_plan(n):
    """The exponents present in the int array n, each with its lanes: (top, zero lanes,
    [(j, lanes of exponent j) for j >= 2])."""
    n = np.asarray(n)
    return (int(n.max()) if n.size else 0, n == 0,
            [(int(j), n == j) for j in np.unique(n) if j >= 2])


def _pow_planned(x, plan):
    top, zero, masks = plan
    out = np.where(zero, 1.0, x)
    y = x
    js = dict(masks)
    for j in range(2, top + 1):
        y = y * x
        if j in js:
            np.copyto(out, y, where=js[j])
    return out


def _pow_bounds(lo, hi, N):
    """Float bounds of x^N for x in [lo, hi] (lo >= 0): fl(.)(1 -+ N 2^-52)."""
    return _pow(lo, N) * (1 - N * 2.0**-52), _pow(hi, N) * (1 + N * 2.0**-52)


# ---------------------------------------------------------------------------------------
# etas and hypotheses (the claims' evaluators, at HYP_DPS)


def _hyp_eval(claim, fn, *args):
    import mpmath

    from verify.checks.verdict import evaluators

    with mpmath.workdps(HYP_DPS):
        return bool(evaluators(claim)[fn](*[mpmath.mpf(a) if isinstance(a, float) else a for a in args]))


def _s1_hyp(inst):
    import mpmath

    from verify.checks.verdict import evaluators, monotone_step_eta

    N = inst["depth"]
    with mpmath.workdps(HYP_DPS):
        t, a = mpmath.mpf(inst["t"]), mpmath.mpf(inst["alpha"])
        eta = monotone_step_eta("S1", mpmath.mpf(inst["eta_fraction"]), t, N)
        return bool(evaluators("S1")["s1_hypotheses"](t, a, eta, N))


def _o1_eta_ball(inst, prec):
    """eta as o1_outcome derives it: eta_fraction x min(monotone_step_bound(t'), 0.999 x
    s3_positivity_step_bound(t, alpha) if t < 0); the real number is enclosed: the first
    bound as eta_ball (1/(N t'^A)), the second by the claim's ball evaluator
    (bounds.enclosures.s3_positivity_step_bound_ball; 0.999 = 999/1000 exactly), the min of
    two balls as the smaller when they are disjoint, their union otherwise."""
    import mpmath

    from bounds.flow import monotone_step_holds
    from verify.checks.verdict import evaluators, step_at_fraction

    N, t, tp, a, f = (inst[k] for k in ("depth", "t", "t_prime", "alpha", "eta_fraction"))
    ev = evaluators("O1")
    with mpmath.workdps(HYP_DPS):
        T, TP, A_, F = (mpmath.mpf(x) for x in (t, tp, a, f))
        bound = ev["monotone_step_bound"](TP, N)
        B1 = eta_ball(1.0, tp, N, prec=prec)
        Bm = B1
        if T < 0:
            b2 = ev["s3_positivity_step_bound"](T, A_, N) * mpmath.mpf("0.999")
            bound = min(bound, b2)
            with flint_ctx.workprec(prec):
                B2 = arb(fmpq(999, 1000)) * ev["s3_positivity_step_bound_ball"](ball(t), ball(a), N)
            Bm = B1 if B1 < B2 else (B2 if B2 < B1 else B1.union(B2))
        eta = step_at_fraction(F, bound, lambda h: monotone_step_holds(TP, h, N))
        ok = bool(ev["o1_hypotheses"](T, TP, A_, eta, N))
        eta_text = mpmath.nstr(eta, 100)
    with flint_ctx.workprec(prec):
        E = ball(f) * Bm
        # the ball must contain the eta the hypotheses were decided on (the mpmath evaluators'
        # value, within 1e-90 relative): a ball evaluator that disagrees with its mpmath twin
        # is a defect, never a certified verdict
        consistent = E.overlaps(arb(eta_text, abs(float(eta)) * 1e-90))
        return ok, E, float(eta), consistent


# ---------------------------------------------------------------------------------------
# certified lanes with every step enclosed (the escalation of the float64 enclosure)


def _lane_steps(t, alpha, E, N, K, prec):
    """(lo, hi) mpfr enclosures of x_0..x_K from certified_lane at ``prec`` bits."""
    from verify.certified import certified_lane

    try:
        lane = certified_lane(t, alpha, E, N, max_steps=K, prec=prec, checkpoints=range(K + 1),
                              stop_when_settled=False)
    except (OverflowError, ValueError):  # the enclosure blew up: nothing proved
        return None
    if lane.lost or len(lane.checkpoints) < K + 1:
        return None
    return [lane.checkpoints[k] for k in range(K + 1)]


def _powN(x, N, up):
    import gmpy2

    with gmpy2.context(precision=600, round=gmpy2.RoundUp if up else gmpy2.RoundDown):
        return gmpy2.mpfr(x) ** N


# ---------------------------------------------------------------------------------------
# S1


def decide_s1(insts):
    """S1 over the HP check's horizon: k <= K, K the first step with x_K^N >= (1 - delta) t,
    delta = 10^-25 (s1_outcome at its first precision, dps 50), within its step cap.

    certified_lane at 128/256/512 bits with the level (1 - delta) t: a *decided* hit at K
    proves x_K^N >= (1 - delta) t and, for every k < K, hi_k^N < (1 - delta) t < t; with
    hi_K^N < t (checked on the lane's final enclosure, rounded up) every x_k, k <= K, is
    below t^(1/N), and then strictly increasing: x_0 = alpha > 0 and x_k in (0, t^(1/N))
    gives phi(x_k) - x_k = eta x_k^(N-1) (t - x_k^N) > 0. PASS is that proof. No hit within
    the cap (level certainly not reached at every step) is a certified FAIL, as in the HP
    check; a straddle at 512 bits is UNDECIDED."""
    from verify.certified import certified_lane

    out = []
    for inst in insts:
        N, t, a, f = inst["depth"], inst["t"], inst["alpha"], inst["eta_fraction"]
        if not _s1_hyp(inst):
            out.append(Decision("N/A", True, note="hypotheses false (decided exactly)", method="exact"))
            continue
        level = Fraction(t) * (1 - S1_DELTA)
        eta_f = f / (N * t ** (2 - 2 / N))
        pred = float(_predicted_steps(np.array([t]), np.array([0.999 * t]), np.array([a]),
                                      np.array([eta_f]), N)[0])
        cap = int(4 * pred) + int(4 * 50 * 2.31 / f) + 1000
        d = None
        for prec in (128, 256, 512):
            E = eta_ball(f, t, N, prec=prec)
            lane = certified_lane(t, a, E, N, levels=[level], max_steps=cap, prec=prec)
            h = lane.hits[0]
            if h.status == "unreached":
                d = Decision("FAIL", True, -1.0, note=f"x^N < (1-delta) t for all k <= {cap}",
                             method=f"certified-{prec}")
                break
            hiN = _powN(lane.hi, N, True)
            if h.status == "decided" and lane.steps == h.step and hiN < Fraction(t):
                # slack: the proved relative gap (t - hi_K^N)/t at the last step checked
                d = Decision("PASS", True, float((Fraction(t) - Fraction(*hiN.as_integer_ratio())) / Fraction(t)),
                             note=f"K = {h.step}", method=f"certified-{prec}")
                break
        out.append(d or Decision("UNDECIDED", False, note="not decided at 512 bits", method="undecided"))
    return out


# ---------------------------------------------------------------------------------------
# O1


def decide_o1(insts):
    """O1 on steps 1..O1_STEPS (o1_outcome's horizon): x_k(t) <= x_k(t') is proved when
    hi_k(t) <= lo_k(t') (enclosures of both lanes, same alpha and eta ball); lo_k(t) >
    hi_k(t') at some k is a certified FAIL. t == t' (the same binary input): identical
    trajectories, PASS exactly. Lanes the float64 enclosure leaves undecided go to
    certified_lane (every step enclosed) at 128, 256, 512 bits."""
    from verify.checks.flow import O1_STEPS

    K = O1_STEPS
    out = [None] * len(insts)
    todo = {}
    for i, inst in enumerate(insts):
        ok, E, _, consistent = _o1_eta_ball(inst, PREC)
        if not consistent:
            out[i] = Decision("FAIL", False, note="the ball of eta misses the eta of the claim's "
                              "mpmath evaluators (bounds/enclosures.py disagrees with bounds/flow.py)",
                              method="exact")
        elif not ok:
            out[i] = Decision("N/A", True, note="hypotheses false (decided exactly)", method="exact")
        elif inst["t"] == inst["t_prime"]:
            out[i] = Decision("PASS", True, 0.0, note="t = t': identical trajectories", method="exact")
        else:
            todo.setdefault(inst["depth"], []).append((i, E))
    for N, lanes in todo.items():
        idx = [i for i, _ in lanes]
        eb = [float_bounds(E) for _, E in lanes]
        el, eh = np.array([b[0] for b in eb] * 2), np.array([b[1] for b in eb] * 2)
        t = np.array([insts[i]["t"] for i in idx] + [insts[i]["t_prime"] for i in idx])
        a = np.array([insts[i]["alpha"] for i in idx] * 2)
        LO, HI, upto = enclose_f64(N, t, a, el, eh, K)
        n = len(idx)
        for j, (i, E) in enumerate(lanes):
            if upto[j] == K and upto[n + j] == K:
                if np.all(HI[1:, j] <= LO[1:, n + j]):  # slack: smallest relative gap (float)
                    gap = float(np.min((LO[1:, n + j] - HI[1:, j]) / LO[1:, n + j]))
                    out[i] = Decision("PASS", True, gap, method="screen")
                    continue
                if np.any(LO[1:, j] > HI[1:, n + j]):
                    out[i] = Decision("FAIL", True, -1.0, note="x_k(t) > x_k(t')", method="screen")
                    continue
            out[i] = _o1_escalate(insts[i], N, K)
    return out


def _o1_escalate(inst, N, K):
    for prec in (128, 256, 512):
        _, E, _, _ = _o1_eta_ball(inst, prec)
        A_ = _lane_steps(inst["t"], inst["alpha"], E, N, K, prec)
        B_ = _lane_steps(inst["t_prime"], inst["alpha"], E, N, K, prec)
        if A_ is None or B_ is None:
            continue
        if all(A_[k][1] <= B_[k][0] for k in range(1, K + 1)):
            return Decision("PASS", True, method=f"certified-{prec}")
        if any(A_[k][0] > B_[k][1] for k in range(1, K + 1)):
            return Decision("FAIL", True, -1.0, note="x_k(t) > x_k(t')", method=f"certified-{prec}")
    return Decision("UNDECIDED", False, note="enclosures overlap at 512 bits", method="undecided")


VOLUME["S1"] = VolumeSpec(draw_s1, decide_s1)
VOLUME["O1"] = VolumeSpec(draw_o1, decide_o1)


# ---------------------------------------------------------------------------------------
# S2, S3: draws


def draw_s2(rng, count):
    """As verify/specs/flow.py `_s2_instance`: depth 2..6, t in [0.2, 2], regime 0 or 1 with
    q = eta N t^A = 1.05 + 0.9 u (overshoot) or 2.05 + 0.9 u (repelling fixed point), alpha
    log-uniform between the budget floor (BUDGET/4 predicted steps to 0.5 t) and
    (0.25 t)^(1/N)."""
    N_all = _ints(rng, 2, 6, count)
    t_all = rng.uniform(0.2, 2.0, count)
    reg_all = _ints(rng, 0, 1, count)
    qp_all = rng.uniform(0.0, 1.0, count)
    ap_all = rng.uniform(0.0, 1.0, count)
    out = [None] * count
    for N, idx in depth_groups(N_all):
        t, reg, qp, ap = t_all[idx], reg_all[idx], qp_all[idx], ap_all[idx]
        q = np.where(reg == 0, 1.05 + 0.9 * qp, 2.05 + 0.9 * qp)
        eta = q / (N * t ** (2 - 2 / N))
        hi = (0.25 * t) ** (1 / N)
        lo = _alpha_floor(t, 0.5 * t, eta, N, hi, budget=BUDGET / 4)
        alpha = _log_interp(lo, hi, ap)
        for j, i in enumerate(idx):
            out[i] = {"depth": N, "t": float(t[j]), "q": float(q[j]), "alpha": float(alpha[j])}
    return out


def draw_s3(rng, count):
    """As `_s3_instance`: depth 2..6, case 0, 1, 2, alpha in [0.3, 1.5], eta_fraction in
    [0.3, 0.95]; t = -(0.05 + 2 u) (case 0), 0 exactly (case 1), alpha^N (0.2 + 0.75 u)
    (case 2: 0 < t < alpha^N)."""
    N = _ints(rng, 2, 6, count)
    case = _ints(rng, 0, 2, count)
    alpha = rng.uniform(0.3, 1.5, count)
    tp = rng.uniform(0.0, 1.0, count)
    f = rng.uniform(0.3, 0.95, count)
    t = np.select([case == 0, case == 1], [-(0.05 + 2.0 * tp), np.zeros(count)],
                  alpha**N * (0.2 + 0.75 * tp))
    return [{"depth": int(N[i]), "t": float(t[i]), "alpha": float(alpha[i]),
             "eta_fraction": float(f[i])} for i in range(count)]


def _exact_ball(x) -> arb:
    """An exact float or mpfr as the arb point of its binary value."""
    n, d = x.as_integer_ratio()
    return arb(fmpq(int(n), int(d)))


def _mid(b: arb) -> float:
    return float(b.mid().str(20, radius=False))


# ---------------------------------------------------------------------------------------
# S3
#
# The float64 enclosure (enclose_f64) runs every lane over the HP check's 1500 steps; the
# sign argument above proves steps 0..K (t <= 0: lo_k > 0; 0 < t: lo_k^N > t), and a tail
# lemma evaluated with balls at hi_K proves every later step (decide_s3's docstring).

S3_TAIL_GAP = 2.0**-32   # t > 0: the float tail starts where (hi^N - t)/t is below this
S3_TINY = 2.0**-60       # t <= 0: ... or where the lane stopped at a value below this


def _s3_eta(inst, prec):
    """(hypotheses hold, eta ball, consistent) for an S3 instance: eta as s3_outcome derives it
    (eta_fraction x the positivity bound for t <= 0, x the decreasing-step bound for t > 0,
    the claim's mpmath evaluators at HYP_DPS), and its ball: eta_fraction x the claim's ball
    evaluator of the same bound (bounds/enclosures.py). The ball must contain the mpmath eta
    (within 1e-90 relative), else the evaluators disagree (a FAIL, never certified)."""
    import mpmath

    from verify.checks.flow import _s3_eta as hp_eta
    from verify.checks.verdict import evaluators

    N, t, a, f = (inst[k] for k in ("depth", "t", "alpha", "eta_fraction"))
    ev = evaluators("S3")
    with mpmath.workdps(HYP_DPS):
        T, Al, F = (mpmath.mpf(x) for x in (t, a, f))
        eta = hp_eta(N, T, Al, F)
        ok = bool(ev["s3_hypotheses"](T, Al, eta, N))
        eta_text = mpmath.nstr(eta, 100)
    with flint_ctx.workprec(prec):
        name = "s3_positivity_step_bound_ball" if t <= 0 else "s3_decreasing_step_bound_ball"
        E = ball(f) * ev[name](ball(t), ball(a), N)
        consistent = E.overlaps(arb(eta_text, abs(float(eta)) * 1e-90))
    return ok, E, consistent


def _s3_tail(N, t, E, hi, prec=PREC):
    """The tail lemma at a step K with x_K in (t^(1/N), hi] (t > 0) or (0, hi] (t <= 0):
    ``(holds, margin)``, every number a ball (``hi`` an exact float or mpfr).

    t <= 0: ``eta hi^(N-2) (hi^N - t) < 1``. t > 0: ``1 + eta ((N-1) t R^(N-2) -
    (2N-1) hi^(2N-2)) > 0`` with R the lower end of the ball of t^(1/N). The margin is the
    midpoint of 1 - the first, of the second (a float, for the report only)."""
    with flint_ctx.workprec(prec):
        T, H = ball(t), _exact_ball(hi)
        if not H > 0:
            return False, None
        if t <= 0:
            L = E * H ** (N - 2) * (H**N - T)
            return bool(L < 1), _mid(1 - L)
        R = (T ** arb(fmpq(1, N))).lower()
        D = 1 + E * ((N - 1) * T * R ** (N - 2) - (2 * N - 1) * H ** (2 * N - 2))
        return bool(D > 0), _mid(D)


def decide_s3(insts):
    """S3 for every k (stronger than the HP check's horizon): t <= 0: x_k > 0 and
    x_(k+1) < x_k; 0 < t < alpha^N: x_k > t^(1/N) and x_(k+1) < x_k, and x_k -> t^(1/N)
    (resp. 0).

    Steps 0..K from enclosures lo_k <= x_k <= hi_k and the sign of phi(x) - x = eta x^(N-1)
    (t - x^N) (x > 0, eta > 0: negative iff x^N > t): t <= 0: lo_k > 0 for k <= K proves
    x_k > 0 and x_(k+1) < x_k for k < K; t > 0: lo_k^N > t (alpha^N > t is a hypothesis,
    decided exactly) proves x_k > t^(1/N) and x_(k+1) < x_k. A step with hi_k <= 0
    (t <= 0) or hi_k^N < t (t > 0) is a certified FAIL.

    The tail k >= K, from the last decided step (ball evaluation, :func:`_s3_tail`):
    - t <= 0. g(x) = x^(N-2) (x^N - t) is positive and nondecreasing on x > 0 (a product of
      a positive nondecreasing power and the positive increasing x^N - t). If
      eta g(hi_K) < 1, then every x in (0, hi_K] has 0 < eta g(x) <= eta g(hi_K) < 1, so
      phi(x) = x (1 - eta g(x)) lies in (0, x). x_K in (0, hi_K] by the enclosure, hence by
      induction 0 < x_(k+1) < x_k <= hi_K for all k >= K; the limit L in [0, x_K] is a fixed
      point, L eta g(L) = 0, so L = 0.
    - t > 0, r = t^(1/N). phi'(x) = 1 + eta g(x), g(x) = (N-1) t x^(N-2) - (2N-1) x^(2N-2);
      on [r, hi_K] the first term is >= (N-1) t R^(N-2) (R <= r, t > 0) and the second
      <= (2N-1) hi_K^(2N-2), so phi' >= 1 + eta G, G = (N-1) t R^(N-2) - (2N-1) hi_K^(2N-2),
      and the ball 1 + E G > 0 proves phi' > 0 there: phi strictly increasing on [r, hi_K].
      x_K in (r, hi_K] (lo_K^N > t). For x in (r, hi_K]: phi(x) < x (x^N > t) and
      phi(x) > phi(r) = r, so by induction r < x_(k+1) < x_k <= hi_K for all k >= K; the
      limit L in [r, x_K] is a fixed point with L > 0, so L^N = t.

    K is not chosen freely (the lemma at K = 0 would re-prove the claim instead of checking
    the simulation): the float64 enclosure runs every lane over the HP check's 1500 steps
    (S3_STEPS), and K is the last step it decides: K = 1500, or, where the float enclosure
    can no longer decide, t <= 0: the lane stopped with hi_K < 2^-60 (the underflow guards
    of enclose_f64), t > 0: step K + 1 straddles t with (hi^N - t)/t < 2^-32 (float64
    cannot resolve x^N - t). A lane that stops otherwise, or whose lemma fails, is re-run
    by certified_lane at 128, 256, 512 bits with every step enclosed (the same argument,
    the straddle gap 2^-(prec/2)); what none decides is UNDECIDED. ``slack``: the lemma's
    margin (1 - eta g(hi_K), resp. the lower bound of phi' on [r, hi_K])."""
    from verify.checks.flow import S3_STEPS

    K = S3_STEPS
    out = [None] * len(insts)
    todo = {}
    for i, inst in enumerate(insts):
        ok, E, consistent = _s3_eta(inst, PREC)
        if not consistent:
            out[i] = Decision("FAIL", False, note="the ball of eta misses the eta of the claim's "
                              "mpmath evaluators (bounds/enclosures.py disagrees with bounds/flow.py)",
                              method="exact")
        elif not ok:
            out[i] = Decision("N/A", True, note="hypotheses false (decided exactly)", method="exact")
        else:
            todo.setdefault(inst["depth"], []).append((i, E))
    lanes = [(i, E) for N in sorted(todo) for i, E in todo[N]]
    if lanes:
        idx = [i for i, _ in lanes]
        eb = [float_bounds(E) for _, E in lanes]
        Ns = np.array([insts[i]["depth"] for i in idx])
        t = np.array([insts[i]["t"] for i in idx])
        a = np.array([insts[i]["alpha"] for i in idx])
        res = _s3_float(Ns, t, a, np.array([b[0] for b in eb]), np.array([b[1] for b in eb]), K)
        for j, (i, E) in enumerate(lanes):
            out[i] = _s3_float_verdict(insts[i], int(Ns[j]), E, {k: v[j] for k, v in res.items()}, K)
    return out


S3_BLOCK = 256


def _s3_float(N, t, a, el, eh, K):
    """enclose_f64 of the S3 lanes (a depth per lane) in blocks of S3_BLOCK steps up to K; a
    t > 0 lane stops at its first step not proved above t^(1/N). Per lane: ``last``, the
    last decided step (t <= 0: the last enclosed one), ``hi`` = hi_last, ``stop``: the step
    after it (t > 0: its first undecided step, ``gap`` its (hi^N - t)/t, ``below`` whether
    hi^N < t is proved there; t <= 0: -1 when the lane ran to K)."""
    L = len(t)
    res = {"last": np.full(L, -1), "hi": np.full(L, np.nan), "stop": np.full(L, -1),
           "gap": np.full(L, np.inf), "below": np.zeros(L, bool)}
    lo, hi = a.copy(), a.copy()
    alive = np.ones(L, bool)
    pos = t > 0
    k = 0
    while alive.any() and k < K:
        ids = np.flatnonzero(alive)
        B = min(S3_BLOCK, K - k)
        LO, HI, up = enclose_f64(N[ids], t[ids], (lo[ids], hi[ids]), el[ids], eh[ids], B)
        tt = t[ids]
        with np.errstate(invalid="ignore", over="ignore"):
            qlo, qhi = _pow_bounds(LO, HI, N[ids])
        rows = np.arange(B + 1)[:, None]
        valid = (rows >= 1) & (rows <= up)
        und = valid & ~(qlo > tt) & pos[ids]     # t > 0: not proved above the root
        has_u = und.any(axis=0)
        fu = np.argmax(und, axis=0)
        col = np.arange(ids.size)
        # t > 0, first undecided row f <= up: last = f - 1 (f = 1: the previous block's end)
        g = ids[has_u]
        f, c = fu[has_u], col[has_u]
        res["stop"][g] = k + f
        res["below"][g] = qhi[f, c] < tt[c]
        res["gap"][g] = (qhi[f, c] - tt[c]) / tt[c]
        res["last"][g] = k + f - 1
        res["hi"][g] = HI[f - 1, c]
        # lanes that stopped inside the block (enclose_f64's guards) or reached K
        died = (up < B) & ~has_u
        reach = (k + B >= K) & ~has_u & ~died
        for m, r in ((died, up), (reach, np.full(ids.size, B))):
            gg = ids[m]
            res["last"][gg] = k + r[m]
            res["hi"][gg] = HI[r[m], col[m]]
            res["stop"][gg] = np.where(reach[m], -1, k + r[m] + 1)
        done = has_u | died | reach
        alive[ids[done]] = False
        keep = ~done
        lo[ids[keep]], hi[ids[keep]] = LO[B, keep], HI[B, keep]
        k += B
    return res


def _s3_float_verdict(inst, N, E, g, K):
    t = inst["t"]
    last = int(g["last"])
    if t <= 0:  # enclose_f64 keeps lo >= 2^-900 > 0 at every enclosed step
        tail = last == K or g["hi"] < S3_TINY
    else:
        if g["below"]:  # x_stop < t^(1/N), every earlier step above
            return Decision("FAIL", True, -1.0, note=f"x_{int(g['stop'])} < t^(1/N)", method="screen")
        tail = last == K or (1 <= last and g["stop"] == last + 1 and g["gap"] <= S3_TAIL_GAP)
    if tail:
        holds, margin = _s3_tail(N, t, E, float(g["hi"]))
        if holds:
            return Decision("PASS", True, margin, method="screen",
                            note=f"steps 0..{last} enclosed, tail lemma from k = {last}")
    return _s3_escalate(inst, N, K)


def _lane_prefix(t, alpha, E, N, K, prec):
    """(lo, hi) mpfr enclosures of x_0, x_1, ... from certified_lane at ``prec`` bits: all
    K + 1 steps, or the steps enclosed before a ball lane was lost (an iterate that left
    (0, alpha], say, and overflowed: the steps before are still proved).

    certified_lane is called inside ``flint.ctx.workprec(prec)``: it converts an arb input
    (eta's ball) to MPFR bounds at flint's *current* precision, 53 bits by default, which
    is sound but leaves eta only ~1e-16 accurate at any ``prec``."""
    from verify.certified import certified_lane

    for m in (K, 64, 8):  # a ball beyond MPFR's exponent range raises: the shorter prefix
        if m > K:
            continue
        try:
            with flint_ctx.workprec(prec):  # eta's ball read at prec bits (see below)
                lane = certified_lane(t, alpha, E, N, max_steps=m, prec=prec,
                                      checkpoints=range(m + 1), stop_when_settled=False)
            break
        except (OverflowError, ValueError):
            continue
    else:
        return []
    out = []
    for k in range(lane.steps + 1):
        if k not in lane.checkpoints:
            break
        out.append(lane.checkpoints[k])
    return out


def _s3_escalate(inst, N, K):
    t = inst["t"]
    for prec in ESCALATE:
        _, E, _ = _s3_eta(inst, prec)
        cps = _lane_prefix(t, inst["alpha"], E, N, K, prec)
        if t <= 0:
            bad = next((k for k in range(len(cps)) if cps[k][1] <= 0), None)
            if bad is not None:
                return Decision("FAIL", True, -1.0, note=f"x_{bad} <= 0", method=f"certified-{prec}")
            if len(cps) < K + 1 or not all(cps[k][0] > 0 for k in range(K + 1)):
                continue
            last = K
        else:
            T = Fraction(t)
            last = K if len(cps) == K + 1 else -1
            for k in range(1, len(cps)):
                lo, hi = cps[k]
                if lo > 0 and _powN(lo, N, False) > T:
                    continue  # x_k > t^(1/N)
                hiN = _powN(hi, N, True) if hi > 0 else None
                if hi <= 0 or hiN < T:
                    return Decision("FAIL", True, -1.0, note=f"x_{k} < t^(1/N)", method=f"certified-{prec}")
                # a straddle: the lemma from k - 1 if it is the lane's resolution, not a loss
                small = hiN.is_finite() and Fraction(*hiN.as_integer_ratio()) - T <= T / 2 ** (prec // 2)
                last = k - 1 if (k >= 2 and small) else -1
                break
            if last < 0:
                continue
        holds, margin = _s3_tail(N, t, E, cps[last][1], prec)
        if holds:
            return Decision("PASS", True, margin, method=f"certified-{prec}",
                            note=f"steps 0..{last} enclosed, tail lemma from k = {last}")
    return Decision("UNDECIDED", False, note="not decided at 512 bits", method="undecided")


VOLUME["S3"] = VolumeSpec(draw_s3, decide_s3)


# ---------------------------------------------------------------------------------------
# S2
#
# q = eta N t^A in (1, 2): an overshoot x_k^N > t is proved by lo_k^N > t at some step.
# q > 2: phi'(t^(1/N)) = 1 - q < -1 is proved with balls, and non-convergence by the first
# of three certificates that applies (decide_s2's docstring): escape, a trap, or the
# deviation at the end of the enclosed horizon.

S2_BLOCK = 64                # steps per enclose_f64 call (lanes finish between calls)
S2_FLOAT_STEPS = 4096        # float stage of a repelling lane (the HP cap if smaller)
S2_WIDE = 2.0**-20           # ... which ends where the enclosure's relative width exceeds this
S2_AFTER = 32                # horizon certificate: K >= the first overshoot + this
S2_DEV = (1.0011, 0.9989)    # fl(t x these) bound t (1 + 10^-3) from above, t (1 - 10^-3) below
S2_TRAP_PMAX = 32            # periods tried (2 p <= S2_BLOCK)
S2_TRAP_TOL = 2.0**-24       # a period p: mid_k - mid_(k-p) within this, relative, over 2p steps
S2_TRAP_W = (2.0**-30, 2.0**-20, 2.0**-12, 2.0**-8)  # trap intervals: the enclosure widened by w hi


def _s2_eta(inst, prec):
    """(overshoot regime, repelling regime, eta ball, consistent): eta = q x the claim's
    monotone_step_bound (as s2_outcome, mpmath at HYP_DPS) and the regimes from the claim's
    evaluators; the ball eta_ball(q, t, N) must contain that eta (within 1e-90 relative)."""
    import mpmath

    from verify.checks.verdict import evaluators

    N, t, q = inst["depth"], inst["t"], inst["q"]
    ev = evaluators("S2")
    with mpmath.workdps(HYP_DPS):
        T, Q = mpmath.mpf(t), mpmath.mpf(q)
        eta = Q * ev["monotone_step_bound"](T, N)
        over = bool(ev["s2_overshoot_regime"](T, eta, N))
        rep = not over and bool(ev["s2_repelling"](T, eta, N))  # s2_outcome: overshoot first
        eta_text = mpmath.nstr(eta, 100)
    E = eta_ball(q, t, N, prec=prec)
    with flint_ctx.workprec(prec):
        consistent = E.overlaps(arb(eta_text, abs(float(eta)) * 1e-90))
    return over, rep, E, consistent


def _s2_fixed_point_slope(N, t, E, prec=PREC):
    """A ball containing phi'(t^(1/N)) = 1 + eta ((N-1) t r^(N-2) - (2N-1) r^(2N-2)),
    r = t^(1/N) as a ball (= 1 - eta N t^A)."""
    with flint_ctx.workprec(prec):
        T = ball(t)
        R = T ** arb(fmpq(1, N))
        return 1 + E * ((N - 1) * T * R ** (N - 2) - (2 * N - 1) * R ** (2 * N - 2))


def _s2_escape_radius(N, t, E) -> float:
    """The smallest power of two R >= 2 t^(1/N) with R^N > t and eta R^(N-2) (R^N - t) >= 3
    for every eta in the ball E (checked with balls). Then |x| >= R gives
    |phi(x)| = |x| |1 + eta x^(N-2) (t - x^N)| >= |x| (eta |x|^(N-2) (|x|^N - t) - 1) >= 2 |x|
    (|t - x^N| >= |x|^N - t, and s^(N-2) (s^N - t) increases for s^N > t), so every later
    |x_k| >= 2^j R: the orbit escapes to infinity."""
    R = 2.0 ** math.ceil(math.log2(2 * t ** (1 / N)))
    with flint_ctx.workprec(PREC):
        T = ball(t)
        while True:
            Rb = ball(R)
            if Rb**N > T and E * Rb ** (N - 2) * (Rb**N - T) >= 3:
                return R
            R *= 2


def _s2_traps(N, t, el, eh, LO, HI):
    """Periodic traps at the end of a block (LO, HI: (B+1, n) enclosures of n lanes of
    depths N, an int array; the last row is step K): ``(found, p, dev)`` arrays. A trap is
    an interval I containing [LO_K, HI_K] and a period p with J_0 = I, J_j = enclose_f64's
    enclosure of phi^j(I) (j <= p), J_p inside I, and every J_j (j < p) proved at relative
    deviation |x^N - t|/t > 10^-3 (by S2_DEV). Then x_(K + m p + j) lies in J_j for all m >= 0 (induction on m: x_(K + m p)
    in I), so |x_k^N - t| > 10^-3 t for every k >= K. ``dev``: the smallest proved
    deviation over the J_j (a float, for the report). p is guessed from the enclosures'
    midpoints (their last 2p steps repeat with period p within S2_TRAP_TOL); I is the
    enclosure widened by w hi_K for w in S2_TRAP_W."""
    B = LO.shape[0] - 1
    n = LO.shape[1]
    found = np.zeros(n, bool)
    per = np.zeros(n, np.int64)
    dev = np.full(n, np.nan)
    m = 0.5 * (LO + HI)
    with np.errstate(invalid="ignore"):
        for p in range(1, min(S2_TRAP_PMAX, B // 2) + 1):
            d = np.max(np.abs(m[B - p:] - m[B - 2 * p:B - p + 1]), axis=0)
            per[(per == 0) & (d <= S2_TRAP_TOL * m[B])] = p
    cand = np.flatnonzero(per > 0)
    if cand.size == 0:
        return found, per, dev
    W = len(S2_TRAP_W)
    c = np.tile(cand, W)
    w = np.repeat(np.array(S2_TRAP_W), cand.size)
    i_lo = LO[B, c] - w * HI[B, c]  # <= LO_K and >= HI_K: monotone rounding
    i_hi = HI[B, c] + w * HI[B, c]
    P = int(per[cand].max())
    JL, JH, up = enclose_f64(N[c], t[c], (i_lo, i_hi), el[c], eh[c], P)
    with np.errstate(invalid="ignore", over="ignore"):
        qlo, qhi = _pow_bounds(JL, JH, N[c])
        tc = t[c]
        above = qlo > tc * S2_DEV[0]
        below = qhi < tc * S2_DEV[1]
        rel = np.maximum((qlo - tc) / tc, (tc - qhi) / tc)
    pc = per[c]
    col = np.arange(c.size)
    inside = (up >= pc) & (JL[pc, col] >= i_lo) & (JH[pc, col] <= i_hi)
    rows = np.arange(P + 1)[:, None]
    devok = np.all((above | below) | (rows >= pc), axis=0)
    ok = inside & devok
    rel_min = np.min(np.where(rows < pc, rel, np.inf), axis=0)
    for j in np.flatnonzero(ok):
        lane = c[j]
        if not found[lane]:
            found[lane], dev[lane] = True, rel_min[j]
    return found, per, dev


def _s2_float(N, t, a, el, eh, limit, rep, resc):
    """Block-wise enclose_f64 of the S2 lanes (``N``: a depth per lane), each up to its step
    ``limit``.
    Per lane: first proved overshoot step (-1: none) and whether every earlier step was
    proved at or below the level (``first``), its relative size; for repelling lanes the
    last step with a proved deviation > 10^-3 and its size, the escape step, the trap
    (step, period, deviation), and the last step of the float horizon."""
    L = len(t)
    lo, hi = a.copy(), a.copy()
    alive = np.ones(L, bool)
    res = {"over": np.full(L, -1), "first": np.ones(L, bool), "over_rel": np.full(L, np.nan),
           "dev_k": np.full(L, -1), "dev": np.full(L, np.nan), "esc": np.full(L, -1),
           "trap_k": np.full(L, -1), "trap_p": np.zeros(L, np.int64), "trap_dev": np.full(L, np.nan),
           "end": np.zeros(L, np.int64)}
    k = 0
    B = S2_BLOCK
    rows = np.arange(B + 1)[:, None]
    while alive.any():
        ids = np.flatnonzero(alive)
        tt, rr, nn = t[ids], rep[ids], N[ids]
        LO, HI, up = enclose_f64(nn, tt, (lo[ids], hi[ids]), el[ids], eh[ids], B)
        with np.errstate(invalid="ignore", over="ignore"):
            qlo, qhi = _pow_bounds(LO, HI, nn)
            valid = (rows >= 1) & (rows <= up) & (k + rows <= limit[ids])
            wide = valid & ((HI - LO) > S2_WIDE * HI) & rr
            # a repelling lane's horizon ends at its first wide row (included)
            fw = np.where(wide.any(axis=0), np.argmax(wide, axis=0), B + 1)
            valid &= rows <= fw
            over = valid & (qlo > tt)
            notbelow = valid & ~(qhi <= tt)
            above_d, below_d = qlo > tt * S2_DEV[0], qhi < tt * S2_DEV[1]
            devok = valid & (above_d | below_d)
            rel = np.maximum((qlo - tt) / tt, (tt - qhi) / tt)
            esc = valid & (LO >= resc[ids]) & rr
        has_o = over.any(axis=0)
        fo = np.argmax(over, axis=0)
        new_o = has_o & (res["over"][ids] < 0)
        gi = ids[new_o]
        res["over"][gi] = k + fo[new_o]
        res["over_rel"][gi] = ((qlo - tt) / tt)[fo[new_o], np.flatnonzero(new_o)]
        # "first": every step before the first overshoot proved at or below t
        before = rows < np.where(new_o, fo, B + 1)
        pend = res["over"][ids] < 0
        stray = (notbelow & before).any(axis=0) & (pend | new_o)
        res["first"][ids[stray]] = False
        has_d = devok.any(axis=0)
        ld = B - np.argmax(devok[::-1], axis=0)
        res["dev_k"][ids[has_d]] = k + ld[has_d]
        res["dev"][ids[has_d]] = rel[ld[has_d], np.flatnonzero(has_d)]
        has_e = esc.any(axis=0) & (res["esc"][ids] < 0)
        res["esc"][ids[has_e]] = k + np.argmax(esc, axis=0)[has_e]
        last = np.where(valid.any(axis=0), B - np.argmax(valid[::-1], axis=0), 0)
        res["end"][ids] = np.where(valid.any(axis=0), k + last, res["end"][ids])
        ended = (fw <= B) | (up < B) | (k + B >= limit[ids]) | has_e
        done = np.where(rr, ended, has_o | ended)
        # repelling lanes past their first overshoot: a trap at the end of this block?
        tr = np.flatnonzero(rr & ~done & (res["over"][ids] >= 0))
        if tr.size:
            found, per, dev = _s2_traps(nn[tr], tt[tr], el[ids[tr]], eh[ids[tr]], LO[:, tr], HI[:, tr])
            g = ids[tr[found]]
            res["trap_k"][g], res["trap_p"][g], res["trap_dev"][g] = k + B, per[found], dev[found]
            done[tr[found]] = True
        alive[ids[done]] = False
        keep = ~done
        lo[ids[keep]], hi[ids[keep]] = LO[B, keep], HI[B, keep]
        k += B
    return res


def decide_s2(insts):
    """S2 on its two regimes (q = eta N t^A; eta = q/(N t^A) as the ball eta_ball(q, t, N)).

    q in (1, 2): an overshoot, x_k^N > t at some k <= the HP check's cap 4 est + 2000
    (est: the predicted steps to 0.5 t), proved by lo_k^N > t (enclose_f64, blocks of 64
    steps; lanes it cannot carry: certified_lane at 128/256/512 bits, the strict level t).
    The note names the step, "first" when every earlier step was proved at or below t
    (alpha^N > t: step 0, decided exactly). hi_k^N <= t at every step up to the cap is a
    certified FAIL, as in the HP check.

    q > 2: the claim's two statements. (a) The fixed point is repelling: the ball of
    phi'(t^(1/N)) = 1 - eta N t^A lies below -1 (above -1: a certified FAIL). (b) x_k does
    not converge to t^(1/N). Since |phi'| > 1 on a neighbourhood U of r = t^(1/N)
    (continuity), |phi(x) - r| >= lambda |x - r| there for some lambda > 1, so an orbit that
    converges to r lies in U from some step on, where |x_k - r| can only grow: it lands on r
    exactly at some step. Non-convergence is therefore "x_k != r for all k", and an instance PASSes by
    the first certificate that applies (the method names it):
    - ``escape``: lo_k >= R, R from :func:`_s2_escape_radius`: |x_k| -> infinity (all k);
    - ``trap``: a periodic trap (:func:`_s2_traps`) at a step K <= the HP cap:
      |x_k^N - t| > 10^-3 t for every k >= K (all k, so the HP check's criterion at the
      cap is proved too). Attracting cycles and their basins give one;
    - ``horizon``: |x_K^N - t| > 10^-3 t proved at a step K >= 32 steps after the first
      proved overshoot (the orbit came up to r and was repelled): enclose_f64, while the
      enclosure's relative width stays below 2^-20, for at most 4096 steps or the HP cap,
      K the last step where the deviation is proved; if that gives no certificate,
      certified_lane balls at 128, 256, 512 bits (runs of 16 steps, K the end of the first
      run where the certificate holds; a chaotic orbit loses about a bit a step, so more
      bits carry further). This proves x_k != r for every k <= K (r is a fixed point),
      i.e. no convergence by step K; beyond K it is evidence only: a chaotic orbit can land on r
      at a later step, if its start is one of the countably many preimages of r (the
      "generic start" of the claim excludes them). The HP check decides the same criterion
      at its cap from a 50-digit run (first-order margins, not an enclosure).
    What no certificate decides is UNDECIDED. ``slack``: the proved relative overshoot,
    resp. the proved deviation (trap: the smallest over the trap)."""
    out = [None] * len(insts)
    todo = {}
    for i, inst in enumerate(insts):
        over, rep, E, consistent = _s2_eta(inst, PREC)
        if not consistent:
            out[i] = Decision("FAIL", False, note="the ball of eta misses the eta of the claim's "
                              "mpmath evaluators (bounds/enclosures.py disagrees with bounds/flow.py)",
                              method="exact")
        elif not (over or rep):
            out[i] = Decision("N/A", True, note="hypotheses false (decided exactly)", method="exact")
        elif over and Fraction(inst["alpha"]) ** inst["depth"] > Fraction(inst["t"]):
            out[i] = Decision("PASS", True, float(Fraction(inst["alpha"]) ** inst["depth"] / Fraction(inst["t"]) - 1),
                              method="exact", note="first overshoot x_k^N > t at k = 0 (decided exactly)")
        elif over:  # alpha^N <= t exactly: step 0 is at or below the level
            todo.setdefault(inst["depth"], []).append((i, E, False))
        else:
            N = inst["depth"]
            D = _s2_fixed_point_slope(N, inst["t"], E)
            if D > -1:
                out[i] = Decision("FAIL", True, -1.0, method="exact",
                                  note="phi'(t^(1/N)) > -1: the fixed point is not repelling")
            elif not D < -1:
                out[i] = Decision("UNDECIDED", False, note="phi'(t^(1/N)) = -1 not excluded",
                                  method="undecided")
            else:
                todo.setdefault(N, []).append((i, E, True))
    lanes = [(i, E, r) for N in sorted(todo) for i, E, r in todo[N]]
    if not lanes:
        return out
    idx = [i for i, _, _ in lanes]
    eb = [float_bounds(E) for _, E, _ in lanes]
    Ns = np.array([insts[i]["depth"] for i in idx])
    t = np.array([insts[i]["t"] for i in idx])
    a = np.array([insts[i]["alpha"] for i in idx])
    rep = np.array([r for *_, r in lanes])
    cap = np.zeros(len(lanes), np.int64)
    for N, js in depth_groups(Ns):  # the HP check's cap, 4 est + 2000
        q = np.array([insts[idx[j]]["q"] for j in js])
        eta_f = q / (N * t[js] ** (2 - 2 / N))
        cap[js] = (4 * _predicted_steps(t[js], 0.5 * t[js], a[js], eta_f, N)).astype(np.int64) + 2000
    limit = np.where(rep, np.minimum(cap, S2_FLOAT_STEPS), cap)
    resc = np.array([_s2_escape_radius(insts[i]["depth"], insts[i]["t"], E) if r else np.inf
                     for i, E, r in lanes])
    res = _s2_float(Ns, t, a, np.array([b[0] for b in eb]), np.array([b[1] for b in eb]),
                    limit, rep, resc)
    for j, (i, E, r) in enumerate(lanes):
        g = {key: v[j] for key, v in res.items()}
        N = int(Ns[j])
        if r:
            out[i] = _s2_repelling_verdict(insts[i], N, g, int(cap[j]), int(limit[j]), float(resc[j]))
        else:
            out[i] = _s2_overshoot_verdict(insts[i], N, E, g, int(cap[j]))
    return out


def _s2_overshoot_verdict(inst, N, E, g, cap):
    from verify.certified import certified_lane

    if g["over"] >= 0:
        first = "first " if g["first"] else ""
        return Decision("PASS", True, float(g["over_rel"]), method="screen",
                        note=f"{first}overshoot x_k^N > t at k = {int(g['over'])}")
    if g["first"] and g["end"] >= cap:
        return Decision("FAIL", True, -1.0, method="screen",
                        note=f"x_k^N <= t for every k <= {cap} (no overshoot)")
    t = inst["t"]
    for prec in ESCALATE:  # the strict level t, every step enclosed (ball: q > 1)
        _, _, E, _ = _s2_eta(inst, prec)
        with flint_ctx.workprec(prec):  # eta's ball read at prec bits
            h = certified_lane(t, inst["alpha"], E, N, levels=[t], max_steps=cap, prec=prec,
                               strict=True).hits[0]
        if h.status == "decided":
            return Decision("PASS", True, method=f"certified-{prec}",
                            note=f"first overshoot x_k^N > t at k = {h.step}")
        if h.status == "unreached":
            return Decision("FAIL", True, -1.0, method=f"certified-{prec}",
                            note=f"x_k^N <= t for every k <= {cap} (no overshoot)")
    return Decision("UNDECIDED", False, note="the level t straddled at 512 bits", method="undecided")


def _s2_ball_horizon(inst, N, prec, limit, resc, over, start):
    """The horizon of a repelling lane enclosed by certified_lane (method ball) at ``prec``
    bits: one run to step ``start`` (the end of the float stage's horizon, which more bits
    carry too), then runs of 16 steps, each from the ball of the last one's final enclosure
    (a run into a blown-up ball raises in its conversion to MPFR bounds), up to ``limit``,
    until the relative width exceeds S2_WIDE, or until the horizon certificate holds (a
    proved deviation at least S2_AFTER steps after the overshoot: more runs only move K). The findings of :func:`_s2_float` at the ends of the
    runs: a proved overshoot (``over`` itself if given), the last proved deviation
    > 10^-3, escape."""
    import gmpy2

    from verify.certified import certified_lane

    t = inst["t"]
    with gmpy2.context(precision=600, round=gmpy2.RoundUp):
        T_hi = gmpy2.mpfr(gmpy2.mpq(10011, 10000) * gmpy2.mpq(*Fraction(t).as_integer_ratio()))
    with gmpy2.context(precision=600, round=gmpy2.RoundDown):
        T_lo = gmpy2.mpfr(gmpy2.mpq(9989, 10000) * gmpy2.mpq(*Fraction(t).as_integer_ratio()))
    T = gmpy2.mpfr(t)
    _, _, E, _ = _s2_eta(inst, prec)
    g = {"over": int(over), "dev_k": -1, "dev": math.nan, "esc": -1, "end": 0}
    X, k = inst["alpha"], 0
    while k < limit:
        m = min(max(16, int(start) - k), limit - k)
        try:
            with flint_ctx.workprec(prec):  # eta's ball read at prec bits
                lane = certified_lane(t, X, E, N, max_steps=m, prec=prec, checkpoints=[m],
                                      stop_when_settled=False, method="ball")
        except (OverflowError, ValueError):
            break
        lo, hi = lane.checkpoints.get(m, (None, None))
        if lo is None or not (lo > 0 and gmpy2.is_finite(hi)) or hi - lo > S2_WIDE * hi:
            break
        k += m
        g["end"] = k
        if lo >= resc:
            g["esc"] = k
            break
        qlo, qhi = _powN(lo, N, False), _powN(hi, N, True)
        if g["over"] < 0 and qlo > T:
            g["over"] = k
        if qlo > T_hi or qhi < T_lo:
            g["dev_k"], g["dev"] = k, float(max(qlo - T, T - qhi) / T)
            if g["over"] >= 0 and k >= g["over"] + S2_AFTER:
                break
        with flint_ctx.workprec(prec):
            X = _exact_ball(lo).union(_exact_ball(hi))
    return g


def _s2_repelling_verdict(inst, N, g, cap, limit, resc):
    d = _s2_repelling_certificates(g, cap, "screen")
    if d is not None:
        return d
    for prec in ESCALATE:  # the horizon at more bits (a chaotic orbit loses ~1 bit a step)
        d = _s2_repelling_certificates(
            _s2_ball_horizon(inst, N, prec, limit, resc, g["over"], max(g["over"], g["end"])),
            cap, f"certified-{prec}")
        if d is not None:
            return d
    return Decision("UNDECIDED", False, method="undecided",
                    note=f"no certificate within the enclosed horizon ({int(g['end'])} steps)")


def _s2_repelling_certificates(g, cap, how):
    if g["esc"] >= 0:
        return Decision("PASS", True, 1.0, method=f"{how}+escape",
                        note=f"|x_k| beyond the escape radius at k = {int(g['esc'])}: x_k -> infinity")
    if g.get("trap_k", -1) >= 0:
        return Decision("PASS", True, float(g["trap_dev"]), method=f"{how}+trap",
                        note=f"trap of period {int(g['trap_p'])} from k = {int(g['trap_k'])}: "
                             f"|x_k^N - t| > 1e-3 t for every k >= {int(g['trap_k'])}")
    if g["over"] >= 0 and g["dev_k"] >= g["over"] + S2_AFTER:
        return Decision("PASS", True, float(g["dev"]), method=f"{how}+horizon",
                        note=f"|x_K^N - t| > 1e-3 t at K = {int(g['dev_k'])} (first overshoot at "
                             f"k = {int(g['over'])}; enclosed horizon {int(g['end'])} of cap {cap})")
    return None


VOLUME["S2"] = VolumeSpec(draw_s2, decide_s2)
