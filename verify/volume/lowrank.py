"""Certified volume stage of the noiseless low-rank claims L1 and L3 (see :mod:`verify.volume`).

Draws. L1 follows verify/specs/lowrank.py ``_lowrank_instance`` (the same raw ranges and
placement: spectrum with s_r/s_{r+1} = 1 + gap, alpha between the T0 budget's floor and
(cap/2)^(1/N), theta either above s_{r+1} or inside the T1 budget), vectorized with float64
flow times (:mod:`verify.fasttau`) where the builder bisects. L3 is a simpler admissible
draw than ``_l3_instance``: rank one, s_2 placed at c~/(0.8 x 5^margin), where c~ is a
float64 estimate of the critical ratio c* of L1's condition UB0 <= LB1 (bisection in s_2 with
the placement estimates exp((N-1) eta s_1^A) tau/eta for UB0 and tau/eta for LB1, never the
L3 threshold under test). The estimate only places instances: they straddle the critical
ratio, and every verdict is decided by the claims' evaluators.

Decisions. The standing hypotheses are the claims' evaluator ``l1_hypotheses`` at
:data:`verify.volume.flow.HYP_DPS`, where the comparisons of float inputs are exact; L3's
ratio condition s_r/s_{r+1} >= R compares the exact ratio with the ball of the claim's
``l3_ratio_threshold_ball`` (what ``l3_sufficient`` decides in mpmath), UNDECIDED when no
enclosure up to 512 bits separates them. UB0's and LB1's real arguments B and L are arb balls from the claims' ball
evaluators (``ub0_real_ball``, ``lb1_real_ball`` in bounds/enclosures.py), re-enclosed at
256 and 512 bits when a comparison straddles. T0 is the largest certified hitting step of
the learned lanes (levels (1-eps) s_i, non-strict), and the first step with x_{r+1}^N > theta
is the certified strict hitting step of lane r+1 (:func:`verify.volume.common.hitting_steps`).

* L1: T0 <= ceil(B) iff T0 - 1 < B; T1 >= ceil(L) - 1 iff the strict hitting step is >= L
  (lane r+1 runs to the HP check's horizon, ``_steps_for``; learned lanes to floor(B) + 3).
  Both parts imply the nonempty interval when UB0 <= LB1. ratio = T0/UB0, slack as the
  HP check (the smaller relative room of the two comparisons).
* L3: ratio condition => UB0 <= LB1, i.e. ceil(B) < L (decided with ceil(B) certified), and
  the observed interval is nonempty: x_{r+1}^N <= theta at every step k <= T0. slack =
  (L - B)/L (1 when LB1 is infinite); no tightness ratio at volume (c* would need a
  bisection of balls per instance).

>>> from verify.volume import run_volume
>>> r = run_volume("L1", 10, seed=1)
>>> r.counts["PASS"], r.certified
(10, 10)
"""

from __future__ import annotations

import math

import numpy as np
from flint import arb, ctx as flint_ctx

from verify.volume.common import (
    depth_groups,
    first_enclosed,
    ESCALATE,
    UNDECIDED_STEP,
    Decision,
    VolumeSpec,
    ball,
    eta_ball,
    hitting_steps,
)
from verify.volume.flow import HYP_DPS, _alpha_floor, _groups, _predicted_steps

__all__ = ["VOLUME", "draw_l1", "decide_l1", "draw_l3", "decide_l3"]

BUDGET_T0 = 20_000   # verify/specs/lowrank.py BUDGET_T0
BUDGET_T1 = 20_000   # verify/specs/lowrank.py has 100_000; see the module docstring


# ---------------------------------------------------------------------------------------
# draws


def _log_uniform(rng, lo, hi, count):
    return np.exp(rng.uniform(math.log(lo), math.log(hi), count))


def _log_interpolate(lo, hi, u):
    """Vectorized verify.specs.params.log_interpolate."""
    ok = hi > lo
    safe_lo = np.where(ok, lo, hi)
    return np.where(ok, np.exp(np.log(safe_lo) + (np.log(hi) - np.log(safe_lo)) * u), hi)


def _level_ceiling(t, aN, eta, N, *, budget, level_max, iters=60):
    """Vectorized verify.specs.lowrank.level_ceiling: the largest level b <= level_max with
    tau_t(alpha^N, b)/eta <= budget (bisection), alpha^N where no level above it fits."""
    from verify.fasttau import tau as placement_time  # float64, only to place instances

    out = aN.copy()
    ok = level_max > aN
    if not ok.any():
        return out
    t, aN_, eta_, top = t[ok], aN[ok], eta[ok], level_max[ok]
    fits_top = placement_time(t, aN_, top, N) / eta_ <= budget
    lo, hi = aN_.copy(), top.copy()
    for _ in range(iters):
        mid = (lo + hi) / 2
        fits = placement_time(t, aN_, mid, N) / eta_ <= budget
        lo = np.where(fits, mid, lo)
        hi = np.where(fits, hi, mid)
    out[ok] = np.where(fits_top, top, lo)
    return out


def draw_l1(rng, count):
    """L1 instances as verify/specs/lowrank.py ``_lowrank_instance``: depth 2..5, n 2..5,
    r from r_position, spectrum from shape/gap/top, eps log-uniform in [1e-4, 0.3], theta
    mode 0 (theta >= s_{r+1}) or 1..3 (theta inside the T1 budget), eta_fraction in
    [0.05, 1]."""
    N_all = rng.integers(2, 6, count)
    n_all = rng.integers(2, 6, count)
    rpos = rng.uniform(0.0, 1.0, count)
    shape = rng.uniform(0.0, 1.0, (count, 5))
    gap = _log_uniform(rng, 0.2, 20.0, count)
    top = rng.uniform(0.5, 2.0, count)
    eps = _log_uniform(rng, 1e-4, 0.3, count)
    tmode = rng.integers(0, 4, count)
    tpos = rng.uniform(0.0, 1.0, count)
    apos = rng.uniform(0.0, 1.0, count)
    frac = rng.uniform(0.05, 1.0, count)
    spectra, rs = [], []
    for i in range(count):
        n, N = int(n_all[i]), int(N_all[i])
        r = 1 + min(int(rpos[i] * (n - 1)), n - 2)
        sh = shape[i]
        s_r = top[i] * (0.3 + 0.7 * sh[0])
        head = sorted([s_r + (top[i] - s_r) * u for u in sh[1:r]] + [s_r], reverse=True)
        s_next = s_r / (1 + gap[i])
        tail = sorted([s_next] + [0.0 if u < 0.1 else s_next * u for u in sh[r:n - 1]], reverse=True)
        spectra.append([float(v) for v in head + tail[: n - r]])
        rs.append(r)
    s1 = np.array([s[0] for s in spectra])
    s_r = np.array([s[r - 1] for s, r in zip(spectra, rs)])
    s_next = np.array([s[r] for s, r in zip(spectra, rs)])
    out = [None] * count
    for N, idx in depth_groups(N_all):
        eta = frac[idx] / (N * s1[idx] ** (2 - 2 / N))
        sr, sn = s_r[idx], s_next[idx]
        level_r = (1 - eps[idx]) * sr
        cap = np.minimum(level_r, sn * (N - 1) / (2 * N - 1))
        hi = (0.5 * cap) ** (1 / N)
        lo = _alpha_floor(sr, level_r, eta, N, hi, budget=BUDGET_T0)
        alpha = _log_interpolate(lo, hi, apos[idx])
        aN = alpha**N
        floor_theta = aN * (1 + 1e-9)
        ceiling = _level_ceiling(sn, aN, eta, N, budget=BUDGET_T1, level_max=sn * (N - 1) / (2 * N - 1))
        inside = np.maximum(aN + (ceiling - aN) * tpos[idx], floor_theta)
        above = np.maximum(sn * (1 + tpos[idx]), floor_theta)
        theta = np.where(tmode[idx] == 0, above, inside)
        for j, i in enumerate(idx):
            out[i] = {"depth": N, "spectrum": spectra[i], "r": rs[i], "eps": float(eps[i]),
                      "theta": float(theta[j]), "alpha": float(alpha[j]),
                      "eta_fraction": float(frac[i])}
    return out


def _critical_s2(s1, eps, tpos, alpha, eta, N, *, iters=50):
    """Float64 placement estimate of the s_2 at which L1's condition flips for rank one
    (as verify.specs.lowrank.critical_second_eigenvalue, with the placement estimates of
    UB0 and LB1 of the module docstring); nan where the condition holds at no s_2 tried."""
    from verify.fasttau import tau as placement_time  # float64, only to place instances

    aN = alpha**N
    ub = np.ceil(_predicted_steps(s1, (1 - eps) * s1, alpha, eta, N))

    def holds(s2, m):
        th = aN[m] + (s2 * (N - 1) / (2 * N - 1) - aN[m]) * tpos[m]
        return ub[m] <= np.ceil(placement_time(s2, aN[m], th, N) / eta[m]) - 1

    lo = aN * (2 * N - 1) / (N - 1) * 1.01
    hi = s1 * (1 - 1e-9)
    out = np.full(s1.shape, np.nan)
    m = np.nonzero(lo < hi)[0]
    if m.size:
        ok = holds(lo[m], m)
        m = m[ok]
    if m.size:
        top = holds(hi[m], m)
        out[m[top]] = hi[m[top]]
        m = m[~top]
    if m.size:
        a, b = np.log(lo[m]), np.log(hi[m])
        for _ in range(iters):
            mid = (a + b) / 2
            h = holds(np.exp(mid), m)
            a = np.where(h, mid, a)
            b = np.where(h, b, mid)
        out[m] = np.exp(a)
    return out


def draw_l3(rng, count):
    """Rank-one L3 instances: depth 2..5, s_1 = top in [0.5, 2], eps log-uniform in
    [1e-3, 0.3], alpha between the T0 budget's floor and min(0.3, (0.25 (1-eps) s_1)^(1/N)),
    theta at theta_position in [0.05, 1] of [alpha^N, s_2 (N-1)/(2N-1)], s_1/s_2 =
    c~ x 0.8 x 5^margin (c~ the critical-ratio estimate); alpha is lowered by 0.7 until the
    condition can hold and theta' clears alpha^N (as ``_l3_instance``)."""
    N_all = rng.integers(2, 6, count)
    top = rng.uniform(0.5, 2.0, count)
    eps = _log_uniform(rng, 1e-3, 0.3, count)
    apos = rng.uniform(0.0, 1.0, count)
    tpos = rng.uniform(0.05, 1.0, count)
    margin = rng.uniform(0.0, 1.0, count)
    frac = rng.uniform(0.05, 1.0, count)
    out = [None] * count
    for N, idx in depth_groups(N_all):
        s1, ep, tp = top[idx], eps[idx], tpos[idx]
        eta = frac[idx] / (N * s1 ** (2 - 2 / N))
        hi = np.minimum(0.3, (0.25 * (1 - ep) * s1) ** (1 / N))
        alpha = _log_interpolate(_alpha_floor(s1, (1 - ep) * s1, eta, N, hi, budget=BUDGET_T0), hi, apos[idx])
        factor = 0.8 * 5.0 ** margin[idx]
        s2 = np.full(idx.shape, np.nan)
        todo = np.arange(idx.size)
        for _ in range(30):
            s2c = _critical_s2(s1[todo], ep[todo], tp[todo], alpha[todo], eta[todo], N)
            cand = np.minimum(s2c / factor[todo], 0.999 * s1[todo])
            good = np.isfinite(s2c) & (alpha[todo] ** N < 0.25 * cand * (N - 1) / (2 * N - 1))
            s2[todo[good]] = cand[good]
            todo = todo[~good]
            if not todo.size:
                break
            alpha[todo] *= 0.7
        if todo.size:
            raise ValueError("no rank-one L3 instance found for some raw numbers")
        aN = alpha**N
        theta = aN + (s2 * (N - 1) / (2 * N - 1) - aN) * tp
        for j, i in enumerate(idx):
            out[i] = {"depth": N, "spectrum": [float(s1[j]), float(s2[j])], "r": 1,
                      "eps": float(ep[j]), "theta": float(theta[j]), "alpha": float(alpha[j]),
                      "eta_fraction": float(frac[i])}
    return out


# ---------------------------------------------------------------------------------------
# decisions


def _mp_args(inst, claim):
    """The HP check's arguments (s, r, eps, theta, alpha, eta, N) at the current mpmath
    precision (eta as verify.checks.verdict.monotone_step_eta makes it)."""
    import mpmath

    from verify.checks.verdict import monotone_step_eta

    N = inst["depth"]
    s = [mpmath.mpf(v) for v in inst["spectrum"]]
    eps, theta, alpha = (mpmath.mpf(inst[k]) for k in ("eps", "theta", "alpha"))
    eta = monotone_step_eta(claim, mpmath.mpf(inst["eta_fraction"]), s[0], N)
    return s, inst["r"], eps, theta, alpha, eta, N


def _hyp_l1(inst):
    import mpmath

    from verify.checks.verdict import evaluators

    with mpmath.workdps(HYP_DPS):
        return bool(evaluators("L1")["l1_hypotheses"](*_mp_args(inst, "L1")))


def _hyp_l3(inst):
    """True / False (decided) or None (undecided at 512 bits): L1's standing hypotheses
    (``l1_hypotheses`` at HYP_DPS, exact) and the ratio condition s_r/s_{r+1} >= R with R
    the claim's ball evaluator ``l3_ratio_threshold_ball`` (True when s_{r+1} = 0)."""
    import mpmath

    from verify.checks.verdict import evaluators

    ev = evaluators("L3")
    with mpmath.workdps(HYP_DPS):
        if not ev["l1_hypotheses"](*_mp_args(inst, "L3")):
            return False
    s, r, N = inst["spectrum"], inst["r"], inst["depth"]
    if s[r] == 0:
        return True
    for prec in ESCALATE:
        with flint_ctx.workprec(prec):
            S = [ball(v) for v in s]
            Ep, Th, Al = (ball(inst[k]) for k in ("eps", "theta", "alpha"))
            E = eta_ball(inst["eta_fraction"], s[0], N, prec)
            try:
                R = ev["l3_ratio_threshold_ball"](S, r, Ep, Th, Al, E, N)
            except ValueError:
                continue
            if R is None:
                return False
            q = S[r - 1] / S[r]
            if q >= R:
                return True
            if q < R:
                return False
    return None


def _balls(inst, claim, prec):
    """(E, B, L) at ``prec`` bits: eta's ball and the claim's ball evaluators' UB0 and LB1
    arguments (L None: +infinity). None when the enclosures do not decide the bounds' cases."""
    from verify.checks.verdict import evaluators

    ev = evaluators(claim)
    N, r = inst["depth"], inst["r"]
    with flint_ctx.workprec(prec):
        S = [ball(v) for v in inst["spectrum"]]
        Ep, Th, Al = (ball(inst[k]) for k in ("eps", "theta", "alpha"))
        E = eta_ball(inst["eta_fraction"], inst["spectrum"][0], N, prec)
        try:
            B = ev["ub0_real_ball"](S, r, Ep, Al, E, N)
            L = ev["lb1_real_ball"](S[r], Th, Al, E, N)
        except ValueError:
            return None
    return E, B, L


def _hi(b: arb) -> float:
    return float(b.upper().mid().str(20, radius=False))


def _mid(b: arb) -> float:
    return float(b.mid().str(20, radius=False))


def _learned_levels(inst, prec):
    """(1-eps) s_i for i <= r as exact arb balls (a float product would round)."""
    with flint_ctx.workprec(prec):
        Ep = ball(inst["eps"])
        return [(1 - Ep) * ball(v) for v in inst["spectrum"][: inst["r"]]]


def _prepare(insts, idx, claim, hyp):
    """Hypotheses and first enclosures for the instances ``idx`` of one depth: (decided,
    lanes) with decided {i: Decision} and lanes [(i, E, B, L)]."""
    decided, lanes = {}, []
    for i in idx:
        inst = insts[i]
        h = hyp(inst)
        if h is None:
            decided[i] = Decision("UNDECIDED", False, note="the ratio condition is not decided at 512 bits",
                                  method="undecided")
            continue
        if not h:
            decided[i] = Decision("N/A", True, note="hypotheses false (decided exactly)", method="exact")
            continue
        bl, _ = first_enclosed(lambda prec: _balls(inst, claim, prec))
        if bl is None:
            decided[i] = Decision("UNDECIDED", False, note="the bounds' cases are not decided at 512 bits",
                                  method="undecided")
            continue
        lanes.append((i, *bl))
    return decided, lanes


def _t0(insts, lanes, caps, N):
    """Certified T0 per lane: (T0 int | None (a learned lane not hit within its cap) |
    UNDECIDED_STEP, method)."""
    flat = []
    for (i, E, B, L), cap in zip(lanes, caps):
        inst = insts[i]
        for j, d in enumerate(_learned_levels(inst, 128)):
            flat.append((inst["spectrum"][j], inst["alpha"], E, d, cap))
    steps = hitting_steps([f[0] for f in flat], [f[1] for f in flat], [f[2] for f in flat], N,
                          [f[3] for f in flat], caps=[f[4] for f in flat])
    out, pos = [], 0
    for i, *_ in lanes:
        r = insts[i]["r"]
        part = steps[pos:pos + r]
        pos += r
        method = next((m for _, m in part if m != "screen"), "screen")
        ks = [k for k, _ in part]
        if UNDECIDED_STEP in ks:
            out.append((UNDECIDED_STEP, "undecided"))
        elif any(k is None for k in ks):
            out.append((None, method))
        else:
            out.append((max(ks), method))
    return out


def _next_hits(insts, lanes, caps, N):
    """Certified strict hitting steps of x_{r+1}^N > theta (None: not within the cap)."""
    return hitting_steps([insts[i]["spectrum"][insts[i]["r"]] for i, *_ in lanes],
                         [insts[i]["alpha"] for i, *_ in lanes], [E for _, E, _, _ in lanes], N,
                         [insts[i]["theta"] for i, *_ in lanes], caps=caps, strict=True)


def _escalating(inst, claim, first, test):
    """``test(B, L)`` -> True / False / None (undecided) on the lane's enclosures ``first``
    = (i, E, B, L), then on
    re-enclosures at the higher precisions of ESCALATE."""
    res = test(first[2], first[3])
    for prec in ESCALATE[1:]:
        if res is not None:
            return res
        bl = _balls(inst, claim, prec)
        if bl is not None:
            res = test(bl[1], bl[2])
    return res


def _worse(a, b):
    order = {"FAIL": 0, "UNDECIDED": 1, "PASS": 2}
    return a if order[a] <= order[b] else b


def decide_l1(insts):
    """T0 <= UB0 (T0 - 1 < B) and T1 >= LB1 (strict hitting step >= L), see the module
    docstring; the nonempty interval under UB0 <= LB1 follows from the two."""
    from verify.checks.lowrank import _steps_for

    out = [None] * len(insts)
    for N, idx in _groups(insts).items():
        decided, lanes = _prepare(insts, idx, "L1", _hyp_l1)
        for i, d in decided.items():
            out[i] = d
        if not lanes:
            continue
        caps0 = [int(math.floor(_hi(B))) + 3 for _, _, B, _ in lanes]
        caps1 = [_steps_for(_hi(B), math.inf if L is None else _hi(L)) for _, _, B, L in lanes]
        t0s = _t0(insts, lanes, caps0, N)
        nxt = _next_hits(insts, lanes, caps1, N)
        for lane, cap0, cap1, (T0, m0), (H, m1) in zip(lanes, caps0, caps1, t0s, nxt):
            out[lane[0]] = _l1_verdict(insts[lane[0]], lane, cap0, cap1, T0, H, m0 if m0 != "screen" else m1)
    return out


def _l1_verdict(inst, lane, cap0, cap1, T0, H, method):
    i, E, B, L = lane
    if T0 == UNDECIDED_STEP or H == UNDECIDED_STEP:
        return Decision("UNDECIDED", False, note="a hitting step not decided at 512 bits", method=method)
    if T0 is None:  # some learned lane not hit by floor(B) + 3 > ceil(B): T0 > UB0, certified
        return Decision("FAIL", True, -1.0, note=f"T0 not reached in {cap0} steps (> UB0)", method=method)

    def part0(B, L):  # T0 <= ceil(B) iff T0 - 1 < B
        return True if arb(T0 - 1) < B else False if arb(T0 - 1) >= B else None

    def part1(B, L):  # T1 >= ceil(L) - 1 iff H >= L
        if L is None:
            return H is None
        if H is None:  # not hit within cap1 >= L
            return True
        return True if L <= arb(H) else False if L > arb(H) else None

    v0 = _escalating(inst, "L1", lane, part0)
    v1 = _escalating(inst, "L1", lane, part1)
    verdict = _worse(*("PASS" if v else "UNDECIDED" if v is None else "FAIL" for v in (v0, v1)))
    b = _mid(B)
    s0 = (b - (T0 - 1)) / max(abs(b), abs(T0 - 1), 1e-300)
    if L is None or H is None:
        s1 = 1.0
    else:
        lm = _mid(L)
        s1 = 1.0 if lm == 0 else (H - lm) / max(abs(lm), H, 1e-300)
    ub0 = math.ceil(b)
    T1 = f">= {cap1}" if H is None else str(H - 1)
    notes = {(False, True): "T0 > UB0", (True, False): "T1 < LB1", (False, False): "T0 > UB0 and T1 < LB1"}
    note = notes.get((bool(v0), bool(v1)), "") if verdict == "FAIL" else \
        "a bound's enclosure contains the observed value" if verdict == "UNDECIDED" else ""
    return Decision(verdict, verdict != "UNDECIDED", min(s0, s1), T0 / ub0 if ub0 > 0 else None,
                    note=(note + "; " if note else "") + f"T0 = {T0}, T1 = {T1}", method=method)


def decide_l3(insts):
    """Ratio condition => UB0 <= LB1 (ceil(B) < L) and an observed nonempty interval."""
    from verify.checks.lowrank import _steps_for

    out = [None] * len(insts)
    for N, idx in _groups(insts).items():
        decided, lanes = _prepare(insts, idx, "L3", _hyp_l3)
        for i, d in decided.items():
            out[i] = d
        go = []
        for lane in lanes:
            i, E, B, L = lane
            c = _escalating(insts[i], "L3", lane, _condition)
            if c is None:
                out[i] = Decision("UNDECIDED", False, note="UB0 <= LB1 not decided at 512 bits",
                                  method="undecided")
            elif not c:
                out[i] = Decision("FAIL", True, -1.0, method="arb",
                                  note="ratio condition holds but UB0 > LB1 (the derivation is wrong here)")
            else:
                go.append(lane)
        if not go:
            continue
        caps0 = [_steps_for(_hi(B), math.inf if L is None else _hi(L)) for _, _, B, L in go]
        t0s = _t0(insts, go, caps0, N)
        # nonempty iff x_{r+1}^N <= theta at every step k <= T0 (T1 = hit - 1 >= T0)
        sim = [(lane, T0, m) for lane, (T0, m) in zip(go, t0s) if isinstance(T0, int)]
        nxt = _next_hits(insts, [x[0] for x in sim], [x[1] for x in sim], N) if sim else []
        hits = {lane[0]: h for (lane, _, _), h in zip(sim, nxt)}
        for lane, cap0, (T0, m0) in zip(go, caps0, t0s):
            i, E, B, L = lane
            slack = 1.0 if L is None else (_mid(L) - _mid(B)) / _mid(L)
            if T0 == UNDECIDED_STEP:
                out[i] = Decision("UNDECIDED", False, note="T0 not decided at 512 bits", method=m0)
                continue
            if T0 is None:
                out[i] = Decision("FAIL", True, -1.0, method=m0,
                                  note=f"T0 not reached in {cap0} steps: the observed interval is not nonempty")
                continue
            H, m1 = hits[i]
            method = m0 if m0 != "screen" else m1
            if H == UNDECIDED_STEP:
                out[i] = Decision("UNDECIDED", False, note="T1 not decided at 512 bits", method=method)
            elif H is None or H > T0:  # the screen may report a hit beyond the lane's cap
                T1 = f">= {T0}" if H is None else str(H - 1)
                out[i] = Decision("PASS", True, slack, None, note=f"T0 = {T0}, T1 = {T1}", method=method)
            else:
                out[i] = Decision("FAIL", True, -1.0, None, method=method,
                                  note=f"ratio condition holds but the observed interval is empty: "
                                       f"T0 = {T0}, T1 = {H - 1}")
    return out


def _condition(B, L):
    """UB0 <= LB1, i.e. ceil(B) <= ceil(L) - 1, i.e. ceil(B) < L (None: undecided)."""
    if L is None:
        return True
    n = B.ceil().unique_fmpz()
    if n is None:
        return None
    n = arb(n)
    return True if n < L else False if n >= L else None


VOLUME = {
    "L1": VolumeSpec(draw_l1, decide_l1),
    "L3": VolumeSpec(draw_l3, decide_l3, tightness="c*/(s_r/s_r+1)"),
}
