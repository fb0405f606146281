"""Certified volume stage of claim M1: heavy ball reaches every level no later than gradient
descent (see :mod:`verify.volume`; the rounding analysis is in docs/numerics.md, "The
heavy-ball enclosure").

The draws follow verify/specs/momentum.py (the same raw ranges and placement), vectorized.
K_GD(d) is the certified hitting step of :func:`verify.volume.common.hitting_steps` (the
float64 screen, certified monotone case, and arb lanes for what it leaves). K_HB(d) comes
from :func:`enclose_hb_f64`, an outward-rounded float64 enclosure of the heavy-ball
iterates in the coordinates ``(x_k, v_k = x_k - x_{k-1})``; lanes it leaves undecided are
redone in arb (:func:`enclose_hb_arb`, 128 then 256 bits) and stay UNDECIDED if that does
not decide them either. A verdict is certified when both hitting steps are.

>>> from verify.volume import run_volume
>>> r = run_volume("M1", 20, seed=0)
>>> (r.count, r.counts["PASS"], r.certified)
(20, 20, 20)
"""

from __future__ import annotations

import numpy as np
from flint import arb, ctx as flint_ctx, fmpq

from verify.specs.momentum import BUDGET, LEVEL_MAX
from verify.volume.common import (UNDECIDED_STEP, Decision, VolumeSpec, ball, eta_ball,
                                   float_bounds, hitting_steps)

__all__ = ["VOLUME", "draw_m1", "decide_m1", "enclose_hb_f64", "enclose_hb_arb",
           "HB_HIT", "HB_BELOW", "HB_UNDECIDED"]

HYP_DPS = 120  # exact for float inputs (as verify.volume.flow)
HB_PRECS = (128, 256)  # arb bits for lanes the float64 enclosure leaves undecided

_U = 2.0**-53
_ABS = 2.0**-1000  # covers every underflow (docs/numerics.md)
# scale of the enclosure's radius: 1 in production; tests set it to 0 (the plain float
# iteration) to show that the outward rounding is what makes the enclosure hold
_WIDEN = 1.0

HB_HIT, HB_BELOW, HB_UNDECIDED = 0, 1, 2


# ---------------------------------------------------------------------------------------
# draws


def draw_m1(rng, count):
    """M1 instances as verify.specs.momentum.m1_instance: K2's draw
    (verify.volume.flow.draw_hitting: depth 2..6, t in [0.2, 2], eta_fraction in [0.05, 1],
    alpha between the budget floor and (level_max/2)^(1/N), d between alpha^N and
    level_max = 0.999 t) with M1's step budget, then beta uniform in [0, 0.99]."""
    from verify.volume.flow import draw_hitting

    assert LEVEL_MAX == 0.999  # the level range of K2's draw
    insts = draw_hitting(rng, count, claim="K2", budget=BUDGET)
    betas = rng.uniform(0.0, 0.99, count)
    return [{**inst, "beta": float(b)} for inst, b in zip(insts, betas)]


# ---------------------------------------------------------------------------------------
# the heavy-ball enclosure, float64


def enclose_hb_f64(N, t, alpha, beta, e_lo, e_hi, d, steps, *, record=False):
    """Heavy-ball hitting steps ``K = min{k <= steps : x_k^N >= d}``, certified, for lanes
    ``x_{k+1} = phi_t(x_k) + beta (x_k - x_{k-1})``, ``x_{-1} = x_0 = alpha`` with every
    eta in ``[e_lo, e_hi]`` (float64 arrays; t, alpha, beta, d exact floats; N an int or an
    int array of depths).

    Returns ``(status, step, LO, HI)``: per lane HB_HIT (``x_step^N >= d`` certified and
    ``x_k^N < d`` certified for k < step), HB_BELOW (``x_k^N < d`` certified for every
    k <= steps[i]) or HB_UNDECIDED (the enclosure straddles the level at ``step``, or the
    lane is outside the certified case: ``e_hi N t^A <= 1`` must hold, which the caller
    certifies, and ``0 < alpha``, ``beta >= 0``); with ``record`` LO/HI are the enclosures
    ``LO[k] <= x_k <= HI[k]`` (NaN where a lane has stopped), else None.

    The enclosure (docs/numerics.md, "The heavy-ball enclosure"): while ``x_k^N < d < t``
    is certified, ``x_k`` lies in ``(0, t^(1/N))`` where ``phi_eta`` is nondecreasing in x
    (``phi' >= 1 - eta N t^A >= 0``) and increasing in eta, and ``P_eta(x) = phi_eta(x) - x``
    is increasing in x below ``c = ((N-1) t/(2N-1))^(1/N)``. So with ``v_k = x_k - x_{k-1}``
    in ``[vl, vh]``: ``x_{k+1} = x_k + P(x_k) + beta v_k`` lies in
    ``[xl + P_lo(xl) + beta vl, xh + P_hi(xh) + beta vh]`` and ``v_{k+1} = P(x_k) + beta v_k``
    in ``[P_lo(xl) + beta vl, P_hi(xh) + beta vh]`` when ``xh <= c`` (certified), widened by
    ``M (xh - xl)`` on both sides otherwise, ``M >= sup |P'|`` (mean value).
    """
    t, alpha, beta, e_lo, e_hi, d = (np.atleast_1d(np.asarray(v, dtype=np.float64))
                                     for v in (t, alpha, beta, e_lo, e_hi, d))
    L = t.size
    Nn = np.broadcast_to(np.asarray(N, dtype=np.int64), (L,)).copy()
    steps = np.broadcast_to(np.asarray(steps, dtype=np.int64), (L,)).copy()
    status = np.full(L, HB_UNDECIDED, dtype=np.int8)
    step = np.full(L, -1, dtype=np.int64)
    kmax = int(steps.max()) if L else 0
    LO = HI = None
    if record:
        LO = np.full((kmax + 1, L), np.nan)
        HI = np.full((kmax + 1, L), np.nan)
    ok = (alpha > 2.0**-900) & (beta >= 0) & (e_lo > 0) & (e_lo <= e_hi) & (t > 0) & (d > 0)
    live = np.flatnonzero(ok)
    xl, xh = alpha[live].copy(), alpha[live].copy()
    vl, vh = np.zeros(live.size), np.zeros(live.size)
    lane = tuple(a[live] for a in (t, beta, e_lo, e_hi, d, steps, Nn))
    from verify.volume.flow import _pow_plan, _pow_planned

    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        for k in range(kmax + 1):
            if live.size == 0:
                break
            if live.size <= _TAIL_LANES and not record:  # the rest per lane, Python floats
                for j, g in enumerate(live):
                    status[g], step[g] = _tail(k, xl[j], xh[j], vl[j], vh[j],
                                               *(float(a[j]) for a in lane[:5]),
                                               int(lane[5][j]), int(lane[6][j]))
                break
            plan = _pow_plan(lane[6] - 1)
            pows = [_pow_planned(x, plan) for x in (xl, xh)]
            if record:
                LO[k, live], HI[k, live] = xl, xh
            code = _tests(xl, xh, vl, vh, pows, lane, k, np)
            stop = code >= 0
            if stop.any():
                status[live[stop]] = code[stop]
                step[live[stop & (code != HB_BELOW)]] = k
                keep = ~stop
                live = live[keep]
                xl, xh, vl, vh = (a[keep] for a in (xl, xh, vl, vh))
                pows = [p[keep] for p in pows]
                lane = tuple(a[keep] for a in lane)
                if live.size == 0:
                    break
            xl, xh, vl, vh = _advance(xl, xh, vl, vh, pows, lane, np.where, np.abs)
    return status, step, LO, HI


_TAIL_LANES = 10  # below this many live lanes the loop goes on per lane in Python floats


def _tests(xl, xh, vl, vh, pows, lane, k, xp):
    """The level tests at step k (arrays, or Python floats with ``xp = None``): HB_HIT,
    HB_UNDECIDED, HB_BELOW (below at the lane's last step) or -1 (below, go on)."""
    t, beta, el, eh, d, cap, N = lane
    fN = 4 * N * _U
    ql, qh = pows[0] * xl, pows[1] * xh
    hit = ql * (1 - fN) >= d
    below = qh * (1 + fN) + _ABS < d
    if xp is None:
        import math

        fin = math.isfinite(xh) and math.isfinite(vl) and math.isfinite(vh) and xl >= 2.0**-900
        if hit and fin:
            return HB_HIT
        if not below or not fin:
            return HB_UNDECIDED
        return HB_BELOW if cap <= k else -1
    fin = np.isfinite(xh) & np.isfinite(vl) & np.isfinite(vh) & (xl >= 2.0**-900)
    return np.where(hit & fin, HB_HIT, np.where(~below | ~fin, HB_UNDECIDED,
                                                np.where(cap <= k, HB_BELOW, -1)))


def _advance(xl, xh, vl, vh, pows, lane, where, absf):
    """One step of the boxes (docs/numerics.md): the same operations, in the same order, on
    numpy arrays (``where = np.where``) or on Python floats."""
    t, beta, el, eh, d, cap, N = lane
    fN, cS = 4 * N * _U, (2 * (N + 2)) * 2 * _U
    cN = (N - 1) * t / (2 * N - 1) * (1 - 4 * _U)
    pl, ph = pows
    ql, qh = pl * xl, ph * xh
    # Y = P_eta(x) + beta v at (xl, vl, e_lo) and (xh, vh, e_hi), with the sums S of the
    # absolute terms
    epl, eph = el * pl, eh * ph
    Yl = epl * (t - ql) + beta * vl
    Yh = eph * (t - qh) + beta * vh
    SYl = epl * (t + ql) + beta * absf(vl)
    SYh = eph * (t + qh) + beta * absf(vh)
    Xl, Xh = xl + Yl, xh + Yh
    rYl = (cS * SYl + 4 * _U * absf(Yl) + _ABS) * _WIDEN
    rYh = (cS * SYh + 4 * _U * absf(Yh) + _ABS) * _WIDEN
    rXl = (cS * (xl + SYl) + 4 * _U * Xl + _ABS) * _WIDEN
    rXh = (cS * (xh + SYh) + 4 * _U * Xh + _ABS) * _WIDEN
    # P increasing on [xl, xh] unless xh^N may exceed c^N: else the mean-value widening M w,
    # M = e_hi xh^(N-1)/xl N t >= sup |P'| (|P'| <= eta x^(N-2) N t for x^N <= t)
    mono = qh * (1 + fN) + _ABS <= cN
    Mw = where(mono, 0.0, eh * ph / xl * (N * t) * (xh - xl) * (1 + 16 * N * _U) + _ABS) * _WIDEN
    nvl = (Yl - rYl - Mw) - 2.0**-50 * absf(Yl) * _WIDEN
    nvh = (Yh + rYh + Mw) + 2.0**-50 * absf(Yh) * _WIDEN
    return Xl - rXl, Xh + rXh, nvl, nvh


def _scalar_where(c, a, b):
    return a if c else b


def _tail(k, xl, xh, vl, vh, t, beta, el, eh, d, cap, N):
    """One lane of :func:`enclose_hb_f64`'s loop from step k on, in Python floats (the same
    IEEE binary64 operations in the same order as the arrays): (status, step)."""
    xl, xh, vl, vh = (float(v) for v in (xl, xh, vl, vh))
    lane = (t, beta, el, eh, d, cap, N)
    while True:
        pl, ph = xl, xh
        for _ in range(N - 2):
            pl, ph = pl * xl, ph * xh
        try:
            code = _tests(xl, xh, vl, vh, (pl, ph), lane, k, None)
            if code >= 0:
                return code, (k if code != HB_BELOW else -1)
            xl, xh, vl, vh = _advance(xl, xh, vl, vh, (pl, ph), lane, _scalar_where, abs)
        except (OverflowError, ZeroDivisionError):
            return HB_UNDECIDED, k
        k += 1


# ---------------------------------------------------------------------------------------
# the heavy-ball enclosure, arb (lanes the float64 enclosure leaves undecided)


def enclose_hb_arb(N, t, alpha, beta, E, d, steps, prec):
    """(status, step) of one lane as :func:`enclose_hb_f64`, with every operation an arb
    ball at ``prec`` bits (E: the eta ball; the ends use E's lower and upper endpoints).
    The same enclosure, with arb's rigorous rounding in place of the float64 radii; where P
    is not certified increasing, ``v_{k+1}`` is the ball ``P(X) + beta V`` over the whole
    interval X (arb encloses the range)."""
    with flint_ctx.workprec(prec):
        t_b, b_b, d_b = ball(t), ball(beta), ball(d)
        el, eh = E.lower(), E.upper()
        cN = arb(N - 1) * t_b / (2 * N - 1)
        xl = xh = ball(alpha)
        vl = vh = arb(0)

        def P(x, e):
            return e * x ** (N - 1) * (t_b - x**N)

        for k in range(steps + 1):
            ql, qh = xl**N, xh**N
            if ql >= d_b:
                return HB_HIT, k
            if not qh < d_b:
                return HB_UNDECIDED, k
            if k == steps:
                return HB_BELOW, -1
            Yl = P(xl, el) + b_b * vl
            Yh = P(xh, eh) + b_b * vh
            nxl, nxh = (xl + Yl).lower(), (xh + Yh).upper()
            if qh <= cN:
                nvl, nvh = Yl.lower(), Yh.upper()
            else:
                X = arb.union(xl, xh)
                V = arb.union(vl, vh)
                Y = P(X, E) + b_b * V
                nvl, nvh = Y.lower(), Y.upper()
            xl, xh, vl, vh = nxl, nxh, nvl, nvh
            if not (xl > 0 and xl.is_finite() and xh.is_finite()):
                return HB_UNDECIDED, k + 1
    return HB_UNDECIDED, steps  # pragma: no cover (the loop returns)


# ---------------------------------------------------------------------------------------
# decisions


def _hyp(inst):
    """M1's hypothesis evaluator on the instance as the HP check calls it, at 120 digits."""
    import mpmath

    from verify.checks.verdict import evaluators, monotone_step_eta

    N = inst["depth"]
    with mpmath.workdps(HYP_DPS):
        t, a, d, b = (mpmath.mpf(inst[k]) for k in ("t", "alpha", "d", "beta"))
        eta = monotone_step_eta("M1", mpmath.mpf(inst["eta_fraction"]), t, N)
        return bool(evaluators("M1")["m1_level_hypotheses"](t, d, a, eta, b, N))


def _gd_caps(insts, idx, N):
    """The HP check's cap on gradient descent's steps (verify.checks.momentum._gd_cap: the
    spec's placement estimate with room), vectorized with float64 flow times."""
    from verify.checks.momentum import _gd_cap
    from verify.volume.flow import _predicted_steps

    t = np.array([insts[i]["t"] for i in idx])
    eta = np.array([insts[i]["eta_fraction"] for i in idx]) / (N * t ** (2 - 2 / N))
    est = _predicted_steps(t, np.array([insts[i]["d"] for i in idx]),
                           np.array([insts[i]["alpha"] for i in idx]), eta, N)
    return [int(1.01 * e) + 10 if np.isfinite(e) and e <= 8 * BUDGET
            else _gd_cap(t[j], insts[i]["d"], insts[i]["alpha"], eta[j], N)
            for j, (i, e) in enumerate(zip(idx, est))]


def _step_certified(E, t, N) -> bool:
    """e_hi N t^A <= 1 for the float upper end of the eta ball (the enclosure's monotone case)."""
    with flint_ctx.workprec(128):
        return bool(ball(float_bounds(E)[1]) * N * ball(t) ** arb(fmpq(2 * N - 2, N)) <= 1)


def decide_m1(insts):
    """K_HB(d) <= K_GD(d), both hitting steps certified (module docstring)."""
    out = [None] * len(insts)
    lanes = []
    for i, inst in enumerate(insts):
        if not all(type(inst[k]) in (float, int) for k in ("t", "alpha", "beta", "d", "eta_fraction")):
            # the enclosure reads its inputs as exact floats: a decimal string is not one
            out[i] = Decision("UNDECIDED", False, note="inputs are not exact floats", method="undecided")
            continue
        if not _hyp(inst):
            out[i] = Decision("N/A", True, note="hypotheses false (decided exactly)", method="exact")
            continue
        N = inst["depth"]
        E = eta_ball(inst["eta_fraction"], inst["t"], N)
        if not _step_certified(E, inst["t"], N):
            out[i] = Decision("UNDECIDED", False, note="eta's ball reaches the step bound",
                              method="undecided")
            continue
        lanes.append((i, N, E))
    # K_GD per depth (the screen's lanes share a depth)
    kgd = {}
    for N in sorted({ln[1] for ln in lanes}):
        grp = [ln for ln in lanes if ln[1] == N]
        grp = [(i, n, E, c) for (i, n, E), c in zip(grp, _gd_caps(insts, [ln[0] for ln in grp], N))]
        steps = hitting_steps([insts[i]["t"] for i, *_ in grp], [insts[i]["alpha"] for i, *_ in grp],
                              [E for _, _, E, _ in grp], N, [insts[i]["d"] for i, *_ in grp],
                              caps=[c for *_, c in grp])
        for (i, *_, c), s in zip(grp, steps):
            kgd[i] = s + (c,)
    todo = []
    for i, N, E in lanes:
        K, method, cap = kgd[i]
        if K == UNDECIDED_STEP:
            out[i] = Decision("UNDECIDED", False, note="K_GD not decided at 512 bits", method=method)
        elif K is None:
            out[i] = Decision("UNDECIDED", False, note=f"gradient descent did not reach d within {cap} steps",
                              method=method)
        else:
            todo.append((i, N, E, K, method))
    if todo:
        eb = [float_bounds(E) for _, _, E, _, _ in todo]
        g = lambda key: np.array([insts[i][key] for i, *_ in todo], dtype=np.float64)  # noqa: E731
        status, step, _, _ = enclose_hb_f64(
            np.array([N for _, N, *_ in todo]), g("t"), g("alpha"), g("beta"),
            np.array([b[0] for b in eb]), np.array([b[1] for b in eb]), g("d"),
            np.array([K for *_, K, _ in todo]))
        for j, (i, N, E, K, gd_method) in enumerate(todo):
            s, k, how = int(status[j]), int(step[j]), "hb-f64"
            if s == HB_UNDECIDED:
                inst = insts[i]
                for prec in HB_PRECS:
                    s, k = enclose_hb_arb(N, inst["t"], inst["alpha"], inst["beta"], E, inst["d"], K, prec)
                    how = f"hb-arb-{prec}"
                    if s != HB_UNDECIDED:
                        break
            method = f"{gd_method}+{how}"
            if s == HB_HIT:
                out[i] = Decision("PASS", True, (K + 1 - k) / K, k / K, method=method)
            elif s == HB_BELOW:
                out[i] = Decision("FAIL", True, -1.0 / K, note=f"heavy ball below d through step K_GD = {K}",
                                  method=method)
            else:
                out[i] = Decision("UNDECIDED", False, note=f"heavy ball's enclosure straddles d at step {k}",
                                  method=method)
    return out


VOLUME = {"M1": VolumeSpec(draw_m1, decide_m1)}

