"""Certified volume stage of the noiseless low-rank claims L1, L2, L3 (see :mod:`verify.volume`).

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
* L2 (section "L2" below, with its derivation): L1's draw (``draw_l2``), L1's hypotheses
  through L2's evaluators; certified T0 and H = T1 + 1 and enclosures of the learned lanes
  at T0 and of lane r+1 at T1 from one float64 pass over the whole batch (the screen's
  proved step, every depth at once); under the hypotheses the largest error on [T0, T1]
  is at one of the two ends, so these decide ||P(k) - W_r||_2 <= B for every k in the
  interval, B the ball of the claim's ``l2_error_bound_ball``. An empty interval (T1 < T0,
  certified) is N/A, as in the HP check. ratio = (largest error on the interval)/bound
  (with T1 infinite: its supremum s_{r+1}); slack as the HP check.

>>> from verify.volume import run_volume
>>> r = run_volume("L1", 10, seed=1)
>>> r.counts["PASS"], r.certified
(10, 10)
>>> r = run_volume("L2", 10, seed=1)
>>> r.counts["PASS"] + r.counts["N/A"], r.certified == r.counts["PASS"]
(10, True)
"""

from __future__ import annotations

import math

import numpy as np
from flint import arb, ctx as flint_ctx

from verify.volume.common import (
    PREC,
    depth_groups,
    first_enclosed,
    float_bounds,
    ESCALATE,
    UNDECIDED_STEP,
    Decision,
    VolumeSpec,
    ball,
    eta_ball,
    hitting_steps,
)
from verify.volume.flow import HYP_DPS, _alpha_floor, _groups, _predicted_steps

__all__ = ["VOLUME", "draw_l1", "decide_l1", "draw_l2", "decide_l2", "draw_l3", "decide_l3"]

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


def draw_l1(rng, count, *, bisections=(40, 60)):
    """L1 instances as verify/specs/lowrank.py ``_lowrank_instance``: depth 2..5, n 2..5,
    r from r_position, spectrum from shape/gap/top, eps log-uniform in [1e-4, 0.3], theta
    mode 0 (theta >= s_{r+1}) or 1..3 (theta inside the T1 budget), eta_fraction in
    [0.05, 1]. ``bisections``: the steps of the placement bisections of alpha's floor and
    of theta's ceiling (L2 draws with fewer: they only place instances)."""
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
        lo = _alpha_floor(sr, level_r, eta, N, hi, budget=BUDGET_T0, iters=bisections[0])
        alpha = _log_interpolate(lo, hi, apos[idx])
        aN = alpha**N
        floor_theta = aN * (1 + 1e-9)
        ceiling = _level_ceiling(sn, aN, eta, N, budget=BUDGET_T1, level_max=sn * (N - 1) / (2 * N - 1),
                                 iters=bisections[1])
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


# ---------------------------------------------------------------------------------------
# L2: the error in the interval, from enclosures at its two ends
#
# With E = 0, P(k) - W_r = V diag(x_i^N - s_i (i <= r), x_j^N (j > r)) V^T, so
# ||P(k) - W_r||_2 = max(max_{i<=r} |x_i(k)^N - s_i|, max_{j>r} x_j(k)^N) (x_j > 0, below).
# The standing hypotheses (l1_hypotheses, decided exactly) give eta N t^A <= eta N s_1^A <= 1
# for every t = s_i, and then, with c = t^(1/N) and phi = phi_t:
#   (M) phi is nondecreasing on [0, c] (phi' >= 1 - eta N t^A >= 0 there) and phi(c) = c,
#       so 0 < x < c gives x < phi(x) < c (phi(x) - x = eta x^(N-1)(t - x^N) > 0, and
#       phi(x) = c would make the polynomial phi constant on [x, c]): a lane with
#       alpha^N < t increases strictly and stays below c (the elementary half of S1, as in
#       the screen), and tends to c (bounded and increasing, to a fixed point of phi in
#       (alpha, c], and c is the only one).
#   (C) for 0 <= t <= t' (targets of the same alpha and eta), x_k(t) <= x_k(t') for every
#       k when alpha^N < t': if 0 <= x_k(t) <= x_k(t') < c' then x_(k+1)(t) = phi_t(x_k(t))
#       <= phi_t'(x_k(t)) <= phi_t'(x_k(t')) (phi_t <= phi_t' pointwise for x >= 0, and (M)
#       for t'); x_k(t) >= 0 by (P).
#   (P) for s_j <= alpha^N (j > r, e.g. s_j = 0), 0 < x_j(k) <= alpha for every k: for
#       0 < x <= alpha with x^N >= t, phi(x) <= x and phi(x) >= x (1 - eta x^(2N-2)) > 0,
#       since eta alpha^(2N-2) = eta (alpha^N)^A < eta s_1^A <= 1/N; for x^N < t,
#       x < c <= alpha and x < phi(x) <= phi(c) = c.
# Hence on [T0, T1]: each i <= r has its largest error s_i - x_i^N at k = T0 (M). If theta <
# s_{r+1} (T1 finite) lane r+1 increases (alpha^N <= theta < s_{r+1}) and, by (C) and (M),
# max_{j>r} x_j(k)^N <= x_{r+1}(k)^N <= x_{r+1}(T1)^N, attained. If theta >= s_{r+1} (T1
# infinite): with alpha^N < s_{r+1} the lanes j > r stay below s_{r+1} (C, M) and lane r+1
# approaches it, so their sup over [T0, infinity) is s_{r+1} (s_{r+1} > bound is then a
# certified FAIL: x_{r+1}^N exceeds the bound at some k >= T0); with s_{r+1} <= alpha^N
# every lane j > r stays at or below alpha^N (P). So L2 holds on the whole interval iff the
# errors at the two ends (and these sups) are at most the bound.


def draw_l2(rng, count):
    """L2 instances: L1's draw (the spec's builder is the same) with placement bisections of
    20 and 24 steps instead of 40 and 60 (alpha's floor to 6e-5 in log alpha, theta's
    ceiling to 6e-8 of its range: placement only, no verdict depends on them)."""
    return draw_l1(rng, count, bisections=(20, 24))


def _hyp_l2(inst):
    import mpmath

    from verify.checks.verdict import evaluators

    with mpmath.workdps(HYP_DPS):
        return bool(evaluators("L2")["l1_hypotheses"](*_mp_args(inst, "L2")))


L2_BLOCK = 256    # steps between two rounds of tests in the float64 pass
L2_TAIL_LANES = 10  # from this many active lanes on, the pass goes on in Python floats
L2_LEARNED, L2_NEXT = 0, 1  # lane roles: i <= r (level (1-eps) s_i), r+1 (strict level theta)


def _first(mask, cols):
    """Index of the first True along axis 0 of ``mask`` (mask.shape[0] where there is none)."""
    at = np.argmax(mask, axis=0)
    return np.where(mask[at, cols], at, mask.shape[0])


def _counts_at_least(Nd, values):
    """For lanes sorted by depth descending (``Nd``): how many have depth >= v, per v."""
    return [int(np.searchsorted(-Nd, -v, side="right")) for v in values]


def _iterate_mixed(Xs, X, T, E, sgn, cnt, c_rel, c_abs):
    """``verify.screen._iterate_block`` for lanes of several depths, sorted by depth
    descending: a lane's power x^(N-1) is the same left-to-right product (N - 2
    multiplications; the lanes with N >= m + 2 are the first cnt[m - 1] columns) and its
    constant c_rel = (2N + 3) u its own, so each lane's arithmetic is the screen's,
    operation by operation (tests/test_volume_lowrank.py compares them bit for bit)."""
    with np.errstate(over="ignore", invalid="ignore"):
        for j in range(Xs.shape[0]):
            p = X.copy()
            for c in cnt:
                p[:, :c] *= X[:, :c]
            q = p * X
            ep = E * p
            y = X + ep * (T - q)
            err = (ep * T) * c_rel + y * c_abs
            X = y + sgn * err
            Xs[j] = X


def _l2_pass(Nl, t, alpha, e_lo, e_hi, d_lo, d_hi, strict, owner, role, cap, n_inst):
    """One float64 pass over the lanes of a batch (depths ``Nl``, per lane): the screen's
    proved monotone-case enclosure (verify.screen: the step of ``_iterate_block``, the same
    widening, the power bounds fl(q (1 -+ N 2^-52)), the invariance test hi^N <= t that
    keeps the next step monotone, the same guards), all lanes at once (:func:`_iterate_mixed`),
    ``L2_BLOCK`` steps between two rounds of tests.

    A lane of role L2_LEARNED runs to its instance's T0 (the largest hit of its learned
    lanes), the lane of role L2_NEXT to its hit H (T1 = H - 1), and each is recorded at that
    step. Returns (T0, H, bad, rec_lo, rec_hi, rec_step): per instance the certified T0 and
    H (-1: none) and ``bad`` (the pass did not decide it: a lane outside the screen's
    monotone case, a straddled level, a lost invariance, a cap); per lane rec_lo <= x <=
    rec_hi at step rec_step, the wanted step, or for a learned lane whose enclosure stopped
    earlier (the invariance test fails within rounding of its limit) its last enclosed step
    (by (M), x(T0) >= x(rec_step)).

    Hit at step K: lo_K^N >= d (> d if strict) and hi_k^N < d (<= d) for k < K. A strict level
    d is the non-strict level nextafter(d, +inf) here: for a float q, q > d iff q >= that."""
    from verify import screen as sc

    L = t.shape[0]
    order = np.argsort(-Nl, kind="stable")  # depth descending: powers by column prefixes
    Nl, t, alpha, e_lo, e_hi, d_lo, d_hi, strict, owner, role, cap = (
        v[order] for v in (Nl, t, alpha, e_lo, e_hi, d_lo, d_hi, strict, owner, role, cap))
    W = sc._WIDEN
    f_up, f_dn = 1.0 + W * Nl * 2.0**-52, 1.0 - W * Nl * 2.0**-52
    c_rel, c_abs = W * (2 * Nl + 3) * sc._U, W * 5 * sc._U
    d_lo = np.where(strict, np.nextafter(d_lo, np.inf), d_lo)
    d_hi = np.where(strict, np.nextafter(d_hi, np.inf), d_hi)
    ok = np.zeros(L, dtype=bool)
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        for N in np.unique(Nl):
            g = Nl == N
            aN = sc._pow(alpha[g], int(N))
            o = (t[g] > 0) & (alpha[g] > 0) & (e_lo[g] > 0) & (t[g] < sc._HUGE) & (e_hi[g] < sc._HUGE)
            o &= sc._monotone_certified(t[g], e_hi[g], int(N))
            o &= aN * f_up[g] <= t[g]
            o &= aN >= sc._TINY
            o &= e_lo[g] * sc._pow(alpha[g], int(N) - 1) * t[g] * sc._U >= sc._TINY
            o &= aN * f_up[g] < d_lo[g]  # below the level at step 0
            ok[g] = o
    bad = np.zeros(n_inst, dtype=bool)
    bad[owner[~ok]] = True
    hit = np.full(L, -1)
    left = np.bincount(owner[role == L2_LEARNED], minlength=n_inst)  # learned lanes not hit
    T0c, T0, H = np.full(n_inst, -1), np.full(n_inst, -1), np.full(n_inst, -1)
    rec_lo, rec_hi = alpha.astype(np.float64).copy(), alpha.astype(np.float64).copy()
    rec_step = np.zeros(L, dtype=np.int64)
    ids = np.flatnonzero(ok & ~bad[owner])
    X, T, E = np.stack([alpha[ids]] * 2), np.stack([t[ids]] * 2), np.stack([e_lo[ids], e_hi[ids]])
    dl, dh, tl, cp, Nd = d_lo[ids], d_hi[ids], t[ids], cap[ids], Nl[ids]
    cr, fu, fd = c_rel[ids], f_up[ids], f_dn[ids]
    sgn = np.array([[-1.0], [1.0]])
    k = 0
    while ids.size:
        top = int(Nd[0])
        cnt_p = _counts_at_least(Nd, range(3, top + 1))   # x^(N-1): N - 2 products
        cnt_q = _counts_at_least(Nd, range(2, top + 1))   # x^N: N - 1 products
        nb = int(min(L2_BLOCK, cp.max() - k))
        Xs = np.empty((nb,) + X.shape)
        _iterate_mixed(Xs, X, T, E, sgn, cnt_p, cr, c_abs)
        q = Xs.copy()
        with np.errstate(over="ignore", invalid="ignore"):
            for c in cnt_q:
                q[..., :c] *= Xs[..., :c]
        qlo, qhi = q[:, 0] * fd, q[:, 1] * fu
        cols = np.arange(ids.size)
        # step k+1+m is enclosed when hi^N <= t held at every earlier step of the block
        fb = _first(~(qhi <= tl), cols)
        valid_to = k + np.minimum(fb + 1, nb)
        # the first step where a pending level is hit or straddled (levels +inf once hit)
        fe = _first((qlo >= dh) | (qhi >= dl), cols)
        hstep = k + 1 + fe
        at = np.minimum(fe, nb - 1)
        pend = hit[ids] == -1
        new = pend & (fe < nb) & (fe <= fb) & (qlo[at, cols] >= dh) & (hstep <= cp)
        lost = pend & ~new & ((fe < nb) | (fb < nb) | (k + nb >= cp))
        bad[owner[ids[lost]]] = True
        g = ids[new]
        hit[g] = hstep[new]
        dl[new], dh[new] = np.inf, np.inf
        learned = g[role[g] == L2_LEARNED]
        np.subtract.at(left, owner[learned], 1)
        np.maximum.at(T0c, owner[learned], hit[learned])
        nxt = g[role[g] == L2_NEXT]
        H[owner[nxt]] = hit[nxt]
        now = (left == 0) & (T0 < 0)
        T0[now] = T0c[now]
        # record each lane at its wanted step once known, else at its last enclosed step
        o, rl = owner[ids], role[ids]
        want = np.where(rl == L2_LEARNED, T0[o], np.where(H[o] >= 0, H[o] - 1, -1))
        target = np.where(want >= 0, np.minimum(want, valid_to), valid_to)
        m = target - k
        mm = np.maximum(m - 1, 0)
        rec_lo[ids] = np.where(m == 0, X[0], Xs[mm, 0, cols])
        rec_hi[ids] = np.where(m == 0, X[1], Xs[mm, 1, cols])
        rec_step[ids] = target
        dead = fb < nb
        # lane r+1 must be enclosed at H - 1 exactly (a learned lane may stop early, (M))
        bad[o[(rl == L2_NEXT) & (want >= 0) & (valid_to < want)]] = True
        keep = ~((want >= 0) | dead) & ~bad[o]
        ids = ids[keep]
        X, T, E = Xs[-1][:, keep], T[:, keep], E[:, keep]
        dl, dh, tl, cp, Nd = dl[keep], dh[keep], tl[keep], cp[keep], Nd[keep]
        cr, fu, fd = cr[keep], fu[keep], fd[keep]
        k += nb
        if 0 < ids.size <= L2_TAIL_LANES:
            _l2_tail(k, ids, X, E, dl, dh, tl, cp, Nd, cr, fu, fd, c_abs, owner, role, hit,
                     left, T0c, T0, H, bad, rec_lo, rec_hi, rec_step)
            break
    back = np.empty(L, dtype=np.int64)
    back[order] = np.arange(L)
    return T0, H, bad, rec_lo[back], rec_hi[back], rec_step[back]


def _l2_tail(k, ids, X, E, dl, dh, tl, cp, Nd, cr, fu, fd, c_abs, owner, role, hit, left,
             T0c, T0, H, bad, rec_lo, rec_hi, rec_step):
    """:func:`_l2_pass` for its last few lanes, one step at a time in Python floats (numpy's
    per-call overhead costs more than their arithmetic): each lane's operations are those
    of :func:`_iterate_mixed` and of the block's tests, in their order, and the per-step
    bookkeeping is the block's with one step per block: T0, H and ``bad`` do not depend
    on the block length, nor do the records of the instances left good (an instance found
    bad has its lanes recorded where it was found, unused: it goes to the certified
    engine). Updates the state arrays in place, as the loop would."""
    from verify.screen import tail_step

    lanes = [[int(g), float(X[0, j]), float(X[1, j]), float(E[0, j]), float(E[1, j]),
              float(dl[j]), float(dh[j]), float(tl[j]), int(cp[j]), int(Nd[j]), float(cr[j]),
              float(fu[j]), float(fd[j]), int(owner[g]), int(role[g])]
             for j, g in enumerate(ids.tolist())]
    inf = float("inf")
    while lanes:
        k += 1
        stepped = []
        for ln in lanes:
            g, xl, xh, el, eh, dlo, dhi, t, cap, N, c_rel, f_up, f_dn = ln[:13]
            nl, nh, ql, qh = tail_step(xl, xh, t, t, el, eh, N, c_rel, c_abs)
            qlo, qhi = ql * f_dn, qh * f_up
            inv_ok = qhi <= t
            event = (qlo >= dhi) or (qhi >= dlo)
            pend = hit[g] == -1
            new = pend and event and qlo >= dhi and k <= cap
            if pend and not new and (event or not inv_ok or k >= cap):
                bad[ln[13]] = True
            stepped.append((ln, nl, nh, inv_ok, new))
        for ln, nl, nh, inv_ok, new in stepped:  # the block's hit bookkeeping
            if new:
                g, o = ln[0], ln[13]
                hit[g] = k
                ln[5] = ln[6] = inf
                if ln[14] == L2_LEARNED:
                    left[o] -= 1
                    T0c[o] = max(T0c[o], k)
                else:
                    H[o] = k
        for ln, *_ in stepped:
            o = ln[13]
            if left[o] == 0 and T0[o] < 0:
                T0[o] = T0c[o]
        keep = []
        for ln, nl, nh, inv_ok, new in stepped:
            g, o, rl = ln[0], ln[13], ln[14]
            want = int(T0[o]) if rl == L2_LEARNED else (int(H[o]) - 1 if H[o] >= 0 else -1)
            target = min(want, k) if want >= 0 else k  # valid_to = k: one step per block
            if target == k:
                rec_lo[g], rec_hi[g] = nl, nh
            else:  # target = k - 1 (only a lane r+1 that hits now): the previous state
                rec_lo[g], rec_hi[g] = ln[1], ln[2]
            rec_step[g] = target
            if rl == L2_NEXT and want >= 0 and k < want:
                bad[o] = True
            ln[1], ln[2] = nl, nh
            if not (want >= 0 or not inv_ok):
                keep.append(ln)
        lanes = [ln for ln in keep if not bad[ln[13]]]


def _l2_caps(s_lane, level, alpha, eta, N):
    """Step caps of lanes: 1.2 x the placement estimate exp((N-1) eta t^A) tau/eta (at least
    K2's bound rho tau/eta) + 100. They bound the loops only: a lane capped is undecided."""
    return (1.2 * _predicted_steps(s_lane, level, alpha, eta, N)).astype(np.int64) + 100


def decide_l2(insts):
    """L2 from certified T0, T1 and enclosures at the two ends (the section above), one
    float64 pass for the whole batch; an instance the pass leaves open goes to
    certified_lane at 128, 256, 512 bits."""
    from verify.checks.verdict import evaluators

    bound_of = evaluators("L2")["l2_error_bound_ball"]
    out = [None] * len(insts)
    prep = []
    for i, inst in enumerate(insts):
        if not _hyp_l2(inst):
            out[i] = Decision("N/A", True, note="hypotheses false (decided exactly)", method="exact")
        else:
            prep.append(_l2_prepare(i, inst, inst["depth"], bound_of))
    if not prep:
        return out
    *lanes, pos = _l2_lanes(prep)
    T0, H, bad, lo, hi, at = _l2_pass(*lanes, len(prep))
    for m, p in enumerate(prep):
        N = p["inst"]["depth"]
        if bad[m]:
            out[p["i"]] = _l2_certified(p, N)
            continue
        recs = {key: (arb(float(lo[j])), arb(float(hi[j])), int(at[j])) for key, j in pos[m].items()}
        out[p["i"]] = _l2_verdict(p, N, int(T0[m]), None if H[m] < 0 else int(H[m]), recs, "screen")
    return out


def _num(x) -> arb:
    """An input as an exact ball (arb of a float is exact; other numbers through ball)."""
    return arb(x) if isinstance(x, float) else ball(x)


def _l2_prepare(i, inst, N, bound_of):
    """The instance's balls: the bound B (the claim's ball evaluator), eta, the learned
    levels; whether T1 is finite (theta < s_{r+1}, exact) and lane r+1 increasing."""
    from fractions import Fraction

    s, r = inst["spectrum"], inst["r"]
    with flint_ctx.workprec(PREC):
        B = bound_of([_num(v) for v in s], r, _num(inst["eps"]), _num(inst["theta"]))
    return {"i": i, "inst": inst, "B": B, "E": eta_ball(inst["eta_fraction"], s[0], N),
            "levels": _learned_levels(inst, PREC), "finite": inst["theta"] < s[r],
            "next_increasing": Fraction(inst["alpha"]) ** N < Fraction(s[r])}


def _l2_lanes(prep):
    """Lane arrays for :func:`_l2_pass`, and per instance {key: lane index} (("L", i) the
    learned lane i, ("T", r) lane r+1, recorded at T1)."""
    names = ("N", "t", "a", "el", "eh", "dl", "dh", "st", "own", "role", "lvl", "eta")
    cols = {k: [] for k in names}
    pos = []
    for m, p in enumerate(prep):
        inst = p["inst"]
        N, s, r, a = inst["depth"], inst["spectrum"], inst["r"], inst["alpha"]
        el, eh = float_bounds(p["E"])
        eta_f = inst["eta_fraction"] / (N * s[0] ** (2 - 2 / N))
        lanes = [(("L", i), s[i], float_bounds(p["levels"][i]), False, L2_LEARNED, (1 - inst["eps"]) * s[i])
                 for i in range(r)]
        if p["finite"]:
            th = inst["theta"]
            lanes.append((("T", r), s[r], (th, th), True, L2_NEXT, th))
        here = {}
        for key, t, (dlo, dhi), strict, role, lvl in lanes:
            here[key] = len(cols["t"])
            for name, v in zip(names, (N, t, a, el, eh, dlo, dhi, strict, m, role, lvl, eta_f)):
                cols[name].append(v)
        pos.append(here)
    Nl, own, role = (np.array(cols[k], dtype=np.int64) for k in ("N", "own", "role"))
    t, a, el, eh, dl, dh, lvl, eta = (np.array(cols[k], dtype=np.float64)
                                      for k in ("t", "a", "el", "eh", "dl", "dh", "lvl", "eta"))
    # a learned lane runs to T0: it takes the largest cap of its instance's learned lanes
    est = np.zeros(t.shape[0], dtype=np.int64)
    for N, g in depth_groups(Nl):
        est[g] = _l2_caps(t[g], lvl[g], a[g], eta[g], N)
    top = np.zeros((len(prep), 2), dtype=np.int64)
    np.maximum.at(top, (own, role), est)
    return Nl, t, a, el, eh, dl, dh, np.array(cols["st"], dtype=bool), own, role, top[own, role], pos


def _l2_verdict(p, N, T0, H, recs, method):
    """The decision from certified T0, H (None: T1 infinite) and the records {key: (lo, hi,
    step)} (balls of x at a step): every error on [T0, T1] at most B proved is a PASS, one
    error above B proved a certified FAIL (the section above)."""
    inst, B = p["inst"], p["B"]
    s, r = inst["spectrum"], inst["r"]
    if p["finite"] and H - 1 < T0:
        return Decision("N/A", True, note=f"the interval [T0, T1] is empty: T0 = {T0}, T1 = {H - 1}",
                        method=method)
    parts = []  # (upper ball, attained lower ball or None, estimate or None, what)
    with flint_ctx.workprec(PREC):
        for i in range(r):
            lo, hi, at = recs[("L", i)]
            S = _num(s[i])
            up = S - lo**N  # the error at T0 is at most the error at step at <= T0
            low = S - hi**N if at == T0 else None
            parts.append((up, low, _mid(up if low is None else (up + low) / 2), f"lane {i + 1} at T0"))
        if p["finite"]:  # lane r+1 at T1 bounds every lane j > r on [T0, T1]
            lo, hi, _ = recs[("T", r)]
            parts.append((hi**N, lo**N, _mid((hi**N + lo**N) / 2), f"lane {r + 1} at T1"))
        elif p["next_increasing"]:  # sup over [T0, infinity) is s_{r+1}, approached
            S = _num(s[r])
            parts.append((S, S, _mid(S), f"lane {r + 1} (sup s_{r + 1}, T1 infinite)"))
        else:  # every x_j^N <= alpha^N
            parts.append((_num(inst["alpha"]) ** N, None, None, "lanes j > r (<= alpha^N)"))
        over = [w for up, low, _, w in parts if low is not None and low > B]
        held = all(up <= B for up, _, _, _ in parts)
    b = _mid(B)
    worst = max((e for _, _, e, _ in parts if e is not None), default=0.0)
    slack = (b - worst) / max(abs(b), abs(worst), 1e-300)
    note = f"T0 = {T0}, T1 = {'inf' if H is None else H - 1}"
    ratio = worst / b if b > 0 else None
    if over:
        return Decision("FAIL", True, slack, ratio, method=method,
                        note=f"error above the bound: {', '.join(over)}; {note}")
    if held:
        return Decision("PASS", True, slack, ratio, method=method, note=note)
    return Decision("UNDECIDED", False, slack, method=method,
                    note=f"an error's enclosure contains the bound; {note}")


def _mpfr_ball(x):
    from fractions import Fraction

    num, den = x.as_integer_ratio()
    return ball(Fraction(int(num), int(den)))


def _l2_certified(p, N):
    """The instance with certified_lane at 128, 256, 512 bits: hits of the learned levels
    and of theta (strict), then the lanes' enclosures at T0 and T1 (caps twice the pass's)."""
    from verify.certified import certified_lane

    inst = p["inst"]
    s, r, a, th = inst["spectrum"], inst["r"], inst["alpha"], inst["theta"]
    eta_f = inst["eta_fraction"] / (N * s[0] ** (2 - 2 / N))
    m = r + 1 if p["finite"] else r  # lane r+1 has a cap only when it crosses theta
    caps = 2 * _l2_caps(np.array(s[:m]), np.array([(1 - inst["eps"]) * v for v in s[:r]] + [th] * (m - r)),
                        np.full(m, a), np.full(m, eta_f), N)
    cap0 = int(caps[:r].max())
    for prec in ESCALATE:
        E = eta_ball(inst["eta_fraction"], s[0], N, prec)
        hits = [certified_lane(s[i], a, E, N, levels=[d], max_steps=cap0, prec=prec).hits[0]
                for i, d in enumerate(_learned_levels(inst, prec))]
        if any(h.status == "unreached" for h in hits):
            return Decision("UNDECIDED", False, method=f"certified-{prec}",
                            note=f"T0 not reached within {cap0} steps")
        if any(h.status != "decided" for h in hits):
            continue
        T0, H = max(h.step for h in hits), None
        if p["finite"]:
            h = certified_lane(s[r], a, E, N, levels=[th], strict=True, max_steps=int(caps[r]),
                               prec=prec).hits[0]
            if h.status == "unreached":
                return Decision("UNDECIDED", False, method=f"certified-{prec}",
                                note=f"x_(r+1)^N <= theta for {int(caps[r])} steps: T1 not found")
            if h.status != "decided":
                continue
            H = h.step
        want = {("L", i): (i, T0) for i in range(r)}
        if H is not None and H - 1 >= T0:
            want[("T", r)] = (r, H - 1)
        recs = {}
        for key, (j, k) in want.items():
            lane = certified_lane(s[j], a, E, N, max_steps=k, prec=prec, stop_when_settled=False)
            if lane.lost or lane.steps != k:
                break
            recs[key] = (_mpfr_ball(lane.lo), _mpfr_ball(lane.hi), k)
        else:
            d = _l2_verdict(p, N, T0, H, recs, f"certified-{prec}")
            if d.verdict != "UNDECIDED":
                return d
    return Decision("UNDECIDED", False, method="undecided", note="not decided at 512 bits")


VOLUME = {
    "L1": VolumeSpec(draw_l1, decide_l1),
    "L2": VolumeSpec(draw_l2, decide_l2),
    "L3": VolumeSpec(draw_l3, decide_l3, tightness="c*/(s_r/s_r+1)"),
}
