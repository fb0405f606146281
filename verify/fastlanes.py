"""The reduced dynamics of many eigenvalues at once, in numpy float64, with the rounding margins
of :mod:`verify.engine`.

:func:`run_lanes` iterates ``x_i <- x_i + eta x_i^(N-1) (t_i - x_i^N)``, ``x_i(0) = alpha``, for
every lane i in one array, and carries per lane the engine's first-order running estimate of
the forward error (docs/numerics.md, "Rounding margins") with ``u = 2^-52``, plus the effect of
an uncertain target: a lane's ``t_i`` is any number in ``[t_i - t_rad_i, t_i + t_rad_i]`` (an
eigenvalue enclosure), which adds ``eta |x|^(N-1) t_rad_i`` to the local error of every step
(the derivative of the map in t). An event comparison ``x^N >= d`` (``> d``) whose gap lies
inside the margin (plus the level's own radius) is ambiguous, exactly as in the engine; the
caller re-runs an ambiguous lane in high precision where its target is known there
(:func:`verify.explore.simulate`) and reports it undecided otherwise.

A lane whose float iterate stops changing (``delta == 0``) is stationary from that step, as in
the engine; a lane that has decayed to below the float range's comfort (``|x|^(2N-1)`` near
1e-280) with no pending event and a contracting step is frozen there (its ``x^N`` is then below
1e-280 in magnitude, and so is the error). Lanes that are done leave the arrays, so a run
costs about (steps x lanes still moving).

:func:`applicable` says whether float64 can hold a run at all (``bound^(2N-1)`` and
``alpha^(2N-1)`` inside the normal range); the caller uses the mpmath/gmpy2 engine otherwise.

>>> import numpy as np
>>> r = run_lanes(np.array([1.0, 0.25]), np.zeros(2), depth=3, alpha=0.1, eta=0.3,
...               events=[(0, 0.5, 0.0, False), (1, 0.2, 0.0, False)], max_steps=2000,
...               divergence_bound=10.0)
>>> [h[0] for h in r.hits], [h[1] for h in r.hits]
([33, 128], [False, False])
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["run_lanes", "LanesRun", "applicable", "U"]

#: the engine's unit roundoff at 53 bits (2^(1 - prec))
U = 2.0**-52
_SAFETY = 4.0
_REPORT = 2048  # steps between progress reports


def applicable(depth: int, alpha: float, bound: float) -> bool:
    """True when every operation of a run stays inside float64's normal range: the iterates
    are at most ``bound`` before the divergence test ends a lane, and ``|x|^(2N-1)`` (with the
    margin's products) must stay below 1e290; and ``alpha^(2N-1)`` above 1e-280."""
    N = depth
    if N > 150 or not (math.isfinite(bound) and bound > 0 and alpha > 0):
        return False
    return (2 * N + 1) * math.log10(max(bound, 1.0)) < 280 and (2 * N + 1) * math.log10(alpha) > -280


@dataclass
class LanesRun:
    """``hits[j]`` = (first step or None, ambiguous, first ambiguous step) of event j;
    ``x``, ``err``: each lane's last iterate and its error estimate; ``steps``: steps taken
    per lane; ``diverged[i]``: the divergence step or -1; ``stationary[i]``: the step from which
    the float iterate stood still (or was frozen), -1 if never; ``checkpoints``: step ->
    (x array, err array) over all lanes (a lane that diverged before it has NaN there)."""

    hits: list
    x: np.ndarray
    err: np.ndarray
    steps: np.ndarray
    diverged: np.ndarray
    stationary: np.ndarray
    checkpoints: dict
    lane_steps: int


def run_lanes(t, t_rad, *, depth: int, alpha: float, eta: float, events=(), max_steps: int,
              checkpoints=(), divergence_bound: float, exact0=None, progress=None,
              block: int = 256, stop_when_decided: bool = False) -> LanesRun:
    """Run every lane to ``max_steps`` (or divergence); ``events``: (lane, level, level radius,
    strict); ``exact0``: event position -> whether it holds at step 0 (decided exactly by the
    caller from the inputs), else the margin test decides step 0 too; ``progress(k, total)``
    every few thousand steps. The steps are taken in blocks of ``block`` (the tests of a block
    run as array operations on its history); the results do not depend on the block size.
    ``stop_when_decided``: a lane with no open event ends at the end of the block (its later
    values are not wanted; ``steps`` says where it stopped)."""
    t = np.asarray(t, dtype=float)
    t_rad = np.asarray(t_rad, dtype=float)
    n = t.size
    N = int(depth)
    Nf = float(N)
    u = U
    alpha, eta = float(alpha), float(eta)
    ck = (Nf + 5) * eta
    bound = float(divergence_bound)
    exact0 = exact0 or {}
    tiny = 10.0 ** (-280.0 / (2 * N - 1))
    cps = sorted(set(int(k) for k in checkpoints if 0 <= k <= max_steps))
    cp_x = {k: np.full(n, np.nan) for k in cps}
    cp_e = {k: np.full(n, np.nan) for k in cps}

    ev = list(events)
    m = len(ev)
    ev_lane = np.array([e[0] for e in ev], dtype=np.int64)
    ev_d = np.array([e[1] for e in ev], dtype=float)
    ev_tol = np.array([(Nf + 1) * u * abs(e[1]) + e[2] for e in ev], dtype=float)
    ev_step = np.full(m, -1, dtype=np.int64)
    ev_amb = np.zeros(m, dtype=bool)
    ev_first = np.full(m, -1, dtype=np.int64)
    ev_open = np.ones(m, dtype=bool)

    pw = (lambda v: v) if N == 2 else (lambda v: v * v) if N == 3 else (
        lambda v: v * v * v) if N == 4 else (lambda v: v ** (N - 1))
    x_out = np.full(n, alpha)
    err_out = np.full(n, u * abs(alpha))
    steps = np.zeros(n, dtype=np.int64)
    diverged = np.full(n, -1, dtype=np.int64)
    stationary = np.full(n, -1, dtype=np.int64)
    lane_steps = 0
    active = np.arange(n)
    x = np.full(n, alpha)
    ta = t.copy()
    tabs = np.abs(t)
    trad = eta * t_rad / u  # the target's radius in the units of the local error
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        # step 0 sets S = |x_0| / |delta_0| (the rounding of alpha); S_pre + L_0/|delta_0| = S_0
        xm0 = pw(x)
        xN0 = xm0 * x
        adf0 = np.abs(eta * xm0 * (ta - xN0))
        L0 = np.abs(x) + ck * np.abs(xm0) * (tabs + np.abs(xN0)) + np.abs(xm0) * trad
        S = np.where(adf0 > 0, (np.abs(x) - L0) / adf0, np.nan)
        adf_prev = np.zeros(n)
        S_prev = np.full(n, np.nan)
        k0 = 0
        lane_open = np.zeros(n, dtype=bool)
        while active.size and k0 <= max_steps:
            B = min(block, max_steps - k0 + 1)
            a = active.size
            # lanes with an open event first (they carry the error estimate), then the free
            # ones (no comparison left: only their values, divergence and stationarity)
            if m:
                lane_open[:] = False
                lane_open[ev_lane[ev_open]] = True
                watched = lane_open[active]
            else:
                watched = np.zeros(a, dtype=bool)
            order = np.argsort(~watched, kind="stable")
            if not np.array_equal(order, np.arange(a)):
                active, x, S = active[order], x[order], S[order]
                ta, tabs, trad = ta[order], tabs[order], trad[order]
                adf_prev, S_prev = adf_prev[order], S_prev[order]
            w = int(watched.sum())
            pos_of = np.full(n, -1, dtype=np.int64)
            pos_of[active] = np.arange(a)
            X = np.empty((B, a))
            XN = np.empty((B, a))
            DL = np.empty((B, a))
            SS = np.empty((B, w))
            xa, Sa = x, S[:w].copy()
            tw, tabw, trw = ta[:w], tabs[:w], trad[:w]
            for j in range(B):
                xm = pw(xa)
                xN = xm * xa
                dlt = eta * xm * (ta - xN)
                if w:
                    Sa = Sa + (np.abs(xa[:w]) + np.abs(xm[:w]) * (
                        ck * (tabw + np.abs(xN[:w])) + trw)) / np.abs(dlt[:w])
                    SS[j] = Sa
                X[j] = xa
                XN[j] = xN
                DL[j] = dlt
                xa = xa + dlt
            DL = np.abs(DL)
            AX = np.abs(X)
            ERR = np.full((B, a), np.nan)
            ERR[:, :w] = np.fmax(4.0 * u * (DL[:, :w] * SS), u * AX[:, :w])
            # the row where each lane ends: diverged, stationary, or the step cap
            bad = ~np.isfinite(AX) | (AX > bound)
            still = (DL == 0) & ~bad
            rows = np.arange(B)[:, None]
            first_bad = np.where(bad.any(0), bad.argmax(0), B)
            first_still = np.where(still.any(0), still.argmax(0), B)
            end = np.minimum(first_bad, first_still)
            cap = max_steps - k0  # the row of step max_steps
            end = np.minimum(end, cap if cap < B else B)
            # an increment of 0 (or outside the float range): the engine's formula with the S
            # and |delta| of the step before
            zs = np.nonzero((end == first_still) & (end < B) & (np.arange(a) < w))[0]
            if zs.size:
                r = end[zs]
                prevS = np.where(r > 0, SS[np.maximum(r - 1, 0), zs], S_prev[zs])
                prevD = np.where(r > 0, DL[np.maximum(r - 1, 0), zs], adf_prev[zs])
                e = 4.0 * u * (prevD * prevS + AX[r, zs]) + eta * np.abs(XN[r, zs] / np.where(
                    X[r, zs] == 0, 1, X[r, zs])) * t_rad[active[zs]]
                ERR[r, zs] = np.where(np.isnan(prevS), u * AX[r, zs], e)
            within = rows <= end[None, :]
            # events of active lanes
            if m and ev_open.any():
                oi = np.nonzero(ev_open)[0]
                pos = pos_of[ev_lane[oi]]
                live = pos >= 0
                oi, c = oi[live], pos[live]
                if oi.size:
                    e = ERR[:, c]
                    margin = Nf * (AX[:, c] + e) ** (N - 1) * e + (Nf + 1) * u * np.abs(XN[:, c])
                    gap = XN[:, c] - ev_d[oi]
                    amb = (np.abs(gap) <= margin + ev_tol[oi]) | np.isnan(gap)
                    hit = ~amb & (gap > 0)
                    if k0 == 0 and exact0:
                        for jj, o in enumerate(oi.tolist()):
                            if o in exact0:
                                amb[0, jj] = False
                                hit[0, jj] = bool(exact0[o])
                    ok = within[:, c]
                    amb &= ok
                    hit &= ok
                    has = hit.any(0)
                    fh = np.where(has, hit.argmax(0), B)
                    amb &= rows < fh[None, :]
                    anyamb = amb.any(0)
                    fa = amb.argmax(0)
                    newly = anyamb & ~ev_amb[oi]
                    ev_first[oi[newly]] = k0 + fa[newly]
                    ev_amb[oi[anyamb]] = True
                    ev_step[oi[has]] = k0 + fh[has]
                    ev_open[oi[has]] = False
            for kk in cps:
                if k0 <= kk < k0 + B:
                    r = kk - k0
                    sel = end >= r
                    cp_x[kk][active[sel]] = X[r, sel]
                    cp_e[kk][active[sel]] = ERR[r, sel]
            lane_steps += int(np.minimum(end + 1, B).sum())
            ended = end < B
            # freezing a decayed lane at the end of the block: no open event, |x| tiny,
            # the next step contracting towards 0 (then |x_k| only shrinks)
            if (~ended).any():
                last = B - 1
                axl = AX[last]
                small = ~ended & (axl < tiny)
                if small.any():
                    xl = X[last]
                    factor = 1 + eta * pw(xl) / np.where(xl == 0, 1, xl) * (ta - XN[last])
                    ok = small & (factor >= 0) & (factor <= 1)
                    if ok.any() and m:
                        open_lanes = np.zeros(n, dtype=bool)
                        open_lanes[ev_lane[ev_open]] = True
                        ok &= ~open_lanes[active]
                    if ok.any():
                        # frozen at the block's last row; its later checkpoints keep that value
                        # (the true |x| only shrinks), the error is |x| itself
                        ERR[last, ok] = axl[ok]
                        end = np.where(ok, last, end)
                        first_still = np.where(ok, last, first_still)
                        ended = ended | ok
            if stop_when_decided and m:
                lane_open[:] = False
                lane_open[ev_lane[ev_open]] = True
                quiet = ~ended & ~lane_open[active] & (k0 + B - 1 >= (cps[-1] if cps else 0))
                if quiet.any():
                    end = np.where(quiet, B - 1, end)
                    ended = ended | quiet
            if ended.any():
                idx = np.nonzero(ended)[0]
                lanes = active[idx]
                r = end[idx]
                x_out[lanes] = X[r, idx]
                err_out[lanes] = ERR[r, idx]
                steps[lanes] = k0 + r
                isbad = first_bad[idx] == r
                diverged[lanes[isbad]] = k0 + r[isbad]
                isst = ~isbad & (first_still[idx] == r)
                stationary[lanes[isst]] = k0 + r[isst]
                for kk in cps:
                    later = isst & (kk > k0 + r)
                    if later.any():
                        cp_x[kk][lanes[later]] = X[r[later], idx[later]]
                        cp_e[kk][lanes[later]] = ERR[r[later], idx[later]]
            keep = ~ended
            S_full = S.copy()
            S_full[:w] = Sa
            SS_last = np.full(a, np.nan)
            SS_last[:w] = SS[B - 1]
            adf_prev = DL[B - 1][keep]
            S_prev = SS_last[keep]
            active = active[keep]
            x = xa[keep]
            S = S_full[keep]
            ta, tabs, trad = ta[keep], tabs[keep], trad[keep]
            if active.size:
                x_out[active] = x
                err_out[active] = ERR[B - 1][keep]
            k0 += B
            if progress is not None and (k0 // block) % 32 == 0:
                progress(min(k0, max_steps), max_steps)
    if progress is not None:
        progress(max_steps, max_steps)
    hits = [(int(ev_step[j]) if ev_step[j] >= 0 else None, bool(ev_amb[j]),
             int(ev_first[j]) if ev_first[j] >= 0 else None) for j in range(m)]
    return LanesRun(hits=hits, x=x_out, err=err_out, steps=steps, diverged=diverged,
                    stationary=stationary, checkpoints={kk: (cp_x[kk], cp_e[kk]) for kk in cps},
                    lane_steps=lane_steps)
