"""Vectorized float64 screen of hitting steps, with rigorous outward-rounded enclosures.

For a batch of lanes ``(t, alpha, eta, d)`` of one depth N, :func:`screen_hits` iterates an
interval ``[lo_k, hi_k]`` that contains the exact iterate ``x_k`` of

    x_(k+1) = phi_t(x_k) = x_k + eta x_k^(N-1) (t - x_k^N),   x_0 = alpha,

in numpy float64, all lanes at once, and decides what the enclosure decides:

* ``HIT``: ``x_K^N >= d`` is certified at step K and ``x_k^N < d`` at every step k < K, so
  the hitting time ``K_t(d) = min{k : x_k^N >= d}`` equals K (``> d`` with ``strict``);
* ``MISS``: never hit, certified: ``x_0^N < d`` and ``d >= t`` (monotone case: every
  iterate stays in ``[0, t^(1/N))``, so ``x_k^N < t <= d`` for all k);
* ``CAPPED``: ``x_k^N < d`` certified for every k <= max_steps (no hit within the cap);
* ``UNDECIDED``: the enclosure straddles the level at some step (``lo^N < d <= hi^N``), or
  the lane is outside the certified monotone case; the high-precision engine decides it.

Decided answers are exact statements about the real numbers the float64 inputs denote:
**every input float is taken as the exact binary number of the lane**. A caller whose true
input is a decimal (``eta = 0.1``) must pass an enclosing pair ``(lo, hi)`` instead of an
array for t, alpha, eta or the level (each of the four accepts either); the screen then
decides for every input in the box. The rounding analysis is in docs/numerics.md, "The
float64 screen"; it assumes IEEE binary64 round-to-nearest (numpy's default) and guards the
lanes so that no operation underflows or overflows.

>>> import numpy as np
>>> r = screen_hits(np.array([1.0, 1.0]), np.array([0.1, 0.1]), np.array([0.3, 0.3]), 3,
...                 np.array([0.5, 2.0]), max_steps=1000)
>>> r.step.tolist(), [STATUS_NAMES[s] for s in r.status]
([33, -1], ['hit', 'miss'])
"""

from __future__ import annotations

from dataclasses import dataclass
from numbers import Integral

import numpy as np

__all__ = [
    # the screen
    "screen_hits",
    "ScreenResult",
    # lane status codes
    "HIT",
    "MISS",
    "CAPPED",
    "UNDECIDED",
    "STATUS_NAMES",
]

HIT, MISS, CAPPED, UNDECIDED = 0, 1, 2, 3
STATUS_NAMES = {HIT: "hit", MISS: "miss", CAPPED: "capped", UNDECIDED: "undecided"}

_U = 2.0**-53  # unit roundoff of binary64, round to nearest
# Scale of every widening below: 1 in production. Tests set it to 0 to show that the plain
# float iteration (no enclosure) decides wrong steps on near-ties.
_WIDEN = 1.0
# Guards: every operand of the rounding analysis stays a normal float.
_TINY = 2.0**-900
_HUGE = 2.0**200
_COMPRESS_MIN = 1  # compress the active arrays as soon as this many lanes have finished
# steps iterated between two rounds of tests (the tests of a block run as one array op)
_BLOCK = 32
# below this many active lanes the loop goes on per lane in Python floats (_tail_lane)
_TAIL_LANES = 10


@dataclass(frozen=True)
class ScreenResult:
    """Per-lane outcome of :func:`screen_hits` (arrays of the batch's length).

    ``step``: the certified hitting step for ``HIT`` lanes, -1 otherwise. ``status``: one of
    ``HIT, MISS, CAPPED, UNDECIDED``. ``undecided_step``: for UNDECIDED lanes the step at which
    the enclosure stopped deciding (-1: outside the certified monotone case from the start).
    ``lane_steps``: total number of (lane, step) evaluations performed (work done).
    """

    step: np.ndarray
    status: np.ndarray
    undecided_step: np.ndarray
    lane_steps: int

    @property
    def decided(self) -> np.ndarray:
        """Lanes with a certified answer (HIT, MISS or CAPPED)."""
        return self.status != UNDECIDED

    @property
    def undecided(self) -> np.ndarray:
        return self.status == UNDECIDED

    @property
    def capped(self) -> np.ndarray:
        return self.status == CAPPED


def _interval(value, name, L=None):
    """An input as (lo, hi) float64 arrays: an array is a point interval, a pair is (lo, hi)."""
    if isinstance(value, tuple):
        if len(value) != 2:
            raise ValueError(f"{name}: an interval is a pair (lo, hi)")
        lo = np.asarray(value[0], dtype=np.float64)
        hi = np.asarray(value[1], dtype=np.float64)
    else:
        lo = hi = np.asarray(value, dtype=np.float64)
    lo, hi = np.atleast_1d(lo), np.atleast_1d(hi)
    if lo.ndim != 1 or lo.shape != hi.shape:
        raise ValueError(f"{name} must be a 1-d array or a pair of 1-d arrays of one length")
    if L is not None and lo.shape[0] != L:
        raise ValueError(f"{name} has length {lo.shape[0]}, expected {L}")
    if not (np.all(np.isfinite(lo)) and np.all(np.isfinite(hi))):
        raise ValueError(f"{name} must be finite")
    if np.any(lo > hi):
        raise ValueError(f"{name}: interval with lo > hi")
    return lo, hi


def _pow(x, n):
    """x**n by n-1 left-to-right multiplications (the operation count of the analysis)."""
    y = x
    for _ in range(n - 1):
        y = y * x
    return y


def _iterate_block(Xs, X, T, E, sgn, N, c_rel, c_abs):
    """Xs[j] = the enclosure after j + 1 steps from X: y = fl(x + eta p (t - p x)) with
    p = x^(N-1), widened outward by err = (2N+3) u eta p t + 5 u y (docs/numerics.md, "The
    float64 screen"). Steps after a lane leaves the certified range are computed too (the
    caller discards them), so overflow there is ignored."""
    with np.errstate(over="ignore", invalid="ignore"):
        for j in range(Xs.shape[0]):
            p = _pow(X, N - 1)
            q = p * X
            ep = E * p
            y = X + ep * (T - q)
            err = (ep * T) * c_rel + y * c_abs
            X = y + sgn * err
            Xs[j] = X


def _monotone_certified(t_hi, eta_hi, N):
    """``eta N t^A <= 1`` certified for the upper ends, as ``(eta N)^N t^(2N-2) <= 1``
    (raise both sides to the N-th power: no fractional power, only products).

    The product uses m = 3N - 2 roundings (eta*N, N-1 for the N-th power, 2N-3 for
    t^(2N-2), one product), so the exact value is <= z (1 + gamma_m); multiplying by
    1 + m 2^-52 (exact in binary64) and rounding once more covers that:
    (1 + 2 m u)(1 - u) >= 1 + gamma_m for m u << 1."""
    m = 3 * N - 2
    en = eta_hi * float(N)
    z = _pow(en, N) * _pow(t_hi, 2 * N - 2) if N > 1 else en
    return z * (1.0 + _WIDEN * m * 2.0**-52) <= 1.0


def screen_hits(t, alpha, eta, N, levels, *, max_steps: int, strict: bool = False) -> ScreenResult:
    """Certified hitting steps ``K_t(d) = min{k : x_k^N >= d}`` (``> d`` if ``strict``) for a
    batch of lanes, in float64 with outward rounding; undecided lanes go to the HP engine.

    ``t, alpha, eta, levels``: float64 arrays of one length L, each entry the *exact* binary
    number of its lane, or a pair ``(lo, hi)`` of such arrays enclosing the true inputs
    (a decimal input must be passed as an enclosing pair). ``N``: an int >= 2 common to the
    batch, or an int array of length L (lanes are then screened per depth).
    ``max_steps``: steps 0..max_steps are examined; a lane certified below its level at all
    of them is ``CAPPED``.

    Only lanes in the certified monotone case are screened: ``t, alpha, eta > 0``,
    ``eta N t^A <= 1`` and ``alpha^N <= t`` (certified with the upper ends of the inputs),
    within the guard range (no underflow of ``eta alpha^(N-1) t`` or ``alpha^N``, t below
    2^200). Every other lane is returned ``UNDECIDED`` with ``undecided_step = -1``.

    >>> import numpy as np
    >>> t = np.array([0.5, 2.0, 1.0]); a = np.array([0.2, 0.1, 0.3])
    >>> eta = 0.5 / (3 * t ** (4 / 3))
    >>> r = screen_hits(t, a, eta, 3, 0.9 * t, max_steps=10**5)
    >>> r.step.tolist(), r.decided.tolist()
    ([24, 77, 20], [True, True, True])
    >>> r = screen_hits(t, a, eta, 3, 0.9 * t, max_steps=30)   # the cap is below one of them
    >>> [STATUS_NAMES[s] for s in r.status]
    ['hit', 'capped', 'hit']
    >>> r = screen_hits((t, np.nextafter(t, 9)), a, eta, 3, 0.9 * t, max_steps=10**5)
    >>> r.step.tolist()  # the same steps for every t in [t, t + 1 ulp]
    [24, 77, 20]
    """
    if isinstance(max_steps, bool) or not isinstance(max_steps, Integral) or max_steps < 0:
        raise ValueError(f"max_steps must be a nonnegative integer, got {max_steps!r}")
    t_lo, t_hi = _interval(t, "t")
    L = t_lo.shape[0]
    a_lo, a_hi = _interval(alpha, "alpha", L)
    e_lo, e_hi = _interval(eta, "eta", L)
    d_lo, d_hi = _interval(levels, "levels", L)
    step = np.full(L, -1, dtype=np.int64)
    status = np.full(L, UNDECIDED, dtype=np.int8)
    und = np.full(L, -1, dtype=np.int64)
    if isinstance(N, (Integral, np.integer)) and not isinstance(N, bool):
        groups = [(int(N), np.arange(L))]
    else:
        Ns = np.asarray(N)
        if Ns.shape != (L,) or not np.issubdtype(Ns.dtype, np.integer):
            raise ValueError("N must be an int or an int array of the batch's length")
        groups = [(int(n), np.flatnonzero(Ns == n)) for n in np.unique(Ns)]
    work = 0
    for n, idx in groups:
        if n < 2:
            raise ValueError(f"depth N must be >= 2, got {n}")
        s, st, u, w = _screen_depth(n, t_lo[idx], t_hi[idx], a_lo[idx], a_hi[idx], e_lo[idx],
                                    e_hi[idx], d_lo[idx], d_hi[idx], int(max_steps), bool(strict))
        step[idx], status[idx], und[idx] = s, st, u
        work += w
    return ScreenResult(step=step, status=status, undecided_step=und, lane_steps=work)


# ---------------------------------------------------------------------------------------
# one depth
#
# Rounding analysis (docs/numerics.md, "The float64 screen"). u = 2^-53, gamma_m = m u/(1-m u).
# For a float x in [0, c], c = t^(1/N), the screen evaluates with round-to-nearest
#
#   p = fl(x^(N-1))   (N-2 products)        q = fl(p x)     = x^N (1 + th_(N-1))
#   s = fl(t - q)                            = (t - x^N)(1 + dl) + es,  |es| <= gamma_N x^N
#   D = fl(fl(eta p) s)                      (eta p has one more rounding, the product one)
#   y = fl(x + D)
#
# so D = eta x^(N-1) (1 + th_N) ((t - x^N)(1 + dl) + es) and, with |t - x^N| + x^N = t on
# [0, c],  |D - eta x^(N-1)(t - x^N)| <= gamma_(2N+1) eta x^(N-1) t =: T,  and
# |y - phi(x)| <= T + u |y| / (1 - u).
# The screen widens y by  err = fl(fl(C u fl(fl(eta p) t)) + fl(5 u y)),  C = 2N + 3:
# fl(C u eta p t) >= C u (1 - gamma_(N+1)) eta x^(N-1) t >= T, and the two final roundings
# (of err and of y +- err) are paid by 5 u y against the u y/(1-u) needed:
#   fl(y + err) >= (y + err)(1 - u) >= y + T + u y/(1 - u),
#   fl(y - err) <= y - err + u (y + err) <= y - T - u y/(1 - u).
# (y > 0: eta x^(N-1) t <= x/N on [0, c] under eta N t^A <= 1, so T <= 3 u x.)
# Enclosure step: phi is nondecreasing on [0, c] (phi' >= 1 - eta N t^A >= 0 there) and
# phi(c) = c, so x in [lo, hi] subset [0, c] gives phi(x) in [phi(lo), phi(hi)], and
# phi_(t,eta)(x) is nondecreasing in t and in eta (t - x^N >= 0): the lower end runs with
# (t_lo, eta_lo), the upper end with (t_hi, eta_hi). hi stays certified in [0, c(t_lo)] by
# the test  fl(q_hi (1 + N 2^-52)) <= t_lo  at every step (else: undecided).
# Powers against levels: x^N is in [q (1 - gamma_(N-1)), q (1 + gamma_(N-1))]; the screen
# uses fl(q (1 - N 2^-52)) as lower and fl(q (1 + N 2^-52)) as upper bound
# ((1 + 2 N u)(1 - u) >= 1 + gamma_(N-1), (1 - 2 N u)(1 + u) <= 1 - gamma_(N-1)).


def _screen_depth(N, t_lo, t_hi, a_lo, a_hi, e_lo, e_hi, d_lo, d_hi, max_steps, strict):
    L = t_lo.shape[0]
    step = np.full(L, -1, dtype=np.int64)
    status = np.full(L, UNDECIDED, dtype=np.int8)
    und = np.full(L, -1, dtype=np.int64)
    if L == 0:
        return step, status, und, 0
    f_up = 1.0 + _WIDEN * N * 2.0**-52
    f_dn = 1.0 - _WIDEN * N * 2.0**-52
    c_rel = _WIDEN * (2 * N + 3) * _U
    c_abs = _WIDEN * 5 * _U

    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        ok = (t_lo > 0) & (a_lo > 0) & (e_lo > 0) & (t_hi < _HUGE) & (e_hi < _HUGE)
        ok &= _monotone_certified(t_hi, e_hi, N)
        ok &= _pow(a_hi, N) * f_up <= t_lo  # alpha <= c for every t in the box
        ok &= _pow(a_lo, N) >= _TINY
        ok &= e_lo * _pow(a_lo, N - 1) * t_lo * _U >= _TINY
    # step 0 and the never-hit case are decided before the loop
    q0_lo = _pow(a_lo, N) * f_dn
    q0_hi = _pow(a_hi, N) * f_up
    hit0 = ok & ((q0_lo > d_hi) if strict else (q0_lo >= d_hi))
    below0 = ok & ((q0_hi <= d_lo) if strict else (q0_hi < d_lo))
    step[hit0] = 0
    status[hit0] = HIT
    amb0 = ok & ~hit0 & ~below0
    status[amb0] = UNDECIDED
    und[amb0] = 0
    miss = below0 & (d_lo >= t_hi)  # x_k^N < t <= d for all k (never, strict or not)
    status[miss] = MISS
    if max_steps == 0:
        status[below0 & ~miss] = CAPPED
        return step, status, und, int(ok.sum())
    run = np.flatnonzero(below0 & ~miss)
    if run.size == 0:
        return step, status, und, int(ok.sum())

    # stacked state: row 0 the lower end, row 1 the upper end of every active lane
    X = np.stack([a_lo[run], a_hi[run]])
    T = np.stack([t_lo[run], t_hi[run]])
    E = np.stack([e_lo[run], e_hi[run]])
    sgn = np.array([[-1.0], [1.0]])
    dl = d_lo[run].copy()
    dh = d_hi[run].copy()
    tl = t_lo[run].copy()
    ids = run
    work = int(ok.sum())
    k = 0
    while ids.size:
        # ---- steps k+1 .. k+nb on both ends, then the tests of all of them at once (the
        # per-step tests cost most of numpy's fixed overhead); a lane's steps after its first
        # finished step are computed but never used ----
        nb = min(_BLOCK, max_steps - k)
        Xs = np.empty((nb,) + X.shape)
        _iterate_block(Xs, X, T, E, sgn, N, c_rel, c_abs)
        X = Xs[-1]
        with np.errstate(over="ignore", invalid="ignore"):  # only in discarded steps
            q = _pow(Xs, N)
        qlo = q[:, 0] * f_dn
        qhi = q[:, 1] * f_up
        if strict:
            hit = qlo > dh
            level_ok = qhi <= dl
        else:
            hit = qlo >= dh
            level_ok = qhi < dl
        # not hit at the step, and hi still certified in [0, c]: the next step is monotone
        below = level_ok & (qhi <= tl)
        done = ~below
        if k + nb >= max_steps:
            done[-1, :] = True
        fin = np.flatnonzero(done.any(axis=0))
        jf = np.argmax(done[:, fin], axis=0)  # the first finished step of each finished lane
        work += int((jf + 1).sum()) + nb * (ids.size - fin.size)
        if fin.size:
            gid = ids[fin]
            h = hit[jf, fin]
            lv = level_ok[jf, fin]
            kk = k + jf + 1
            last = kk >= max_steps
            step[gid[h]] = kk[h]
            status[gid[h]] = HIT
            capped = last & lv & ~h
            status[gid[capped]] = CAPPED
            amb = ~h & ~capped
            # the first step not decided: kk if the level straddles, kk + 1 if only the
            # invariance test failed (step kk itself is certified below the level)
            und[gid[amb]] = np.where(lv[amb], kk[amb] + 1, kk[amb])
            keep = np.flatnonzero(~done.any(axis=0))
            ids = ids[keep]
            X, T, E = X[:, keep], T[:, keep], E[:, keep]
            dl, dh, tl = dl[keep], dh[keep], tl[keep]
        k += nb
        if 0 < ids.size <= _TAIL_LANES and k < max_steps:
            # the last few lanes: numpy's per-call overhead would cost more than the
            # arithmetic, so each goes on alone in Python floats, the same binary64
            # operations in the same order (identical enclosures and verdicts)
            for j, gid in enumerate(ids.tolist()):
                kk, code, first_und = _tail_lane(float(X[0, j]), float(X[1, j]), float(T[0, j]),
                                      float(T[1, j]), float(E[0, j]), float(E[1, j]),
                                      float(dl[j]), float(dh[j]), float(tl[j]), k, max_steps,
                                      N, c_rel, c_abs, f_dn, f_up, strict)
                work += kk - k
                if code == HIT:
                    step[gid], status[gid] = kk, HIT
                elif code == CAPPED:
                    status[gid] = CAPPED
                else:
                    und[gid] = first_und
            break
    return step, status, und, work


def tail_step(xl, xh, t_l, t_h, e_l, e_h, N, c_rel, c_abs):
    """One step of both ends of one lane in Python floats, the operations of
    ``_iterate_block`` in their order (``y + sgn * err`` is ``y - err`` / ``y + err``
    exactly, since ``-1.0 * err`` is exact), and the powers ``x^N`` of the block tests (N - 1
    left-to-right products, as ``_pow``). Returns (lo, hi, lo^N, hi^N), computed."""
    p = xl  # the lower end: x -> fl(x + eta p (t - p x)) - err
    for _ in range(N - 2):
        p = p * xl
    ep = e_l * p
    y = xl + ep * (t_l - p * xl)
    xl = y - ((ep * t_l) * c_rel + y * c_abs)
    p = xh  # the upper end, + err
    for _ in range(N - 2):
        p = p * xh
    ep = e_h * p
    y = xh + ep * (t_h - p * xh)
    xh = y + ((ep * t_h) * c_rel + y * c_abs)
    ql, qh = xl, xh
    for _ in range(N - 1):
        ql, qh = ql * xl, qh * xh
    return xl, xh, ql, qh


def _tail_lane(xl, xh, t_l, t_h, e_l, e_h, dl, dh, tl, k, max_steps, N, c_rel, c_abs, f_dn,
               f_up, strict):
    """One lane of :func:`_screen_depth`'s loop from step k on, in Python floats
    (:func:`tail_step`, then the block tests in their order). Returns (the lane's last
    step, HIT | CAPPED | UNDECIDED, the first undecided step or -1)."""
    while True:
        k += 1
        xl, xh, ql, qh = tail_step(xl, xh, t_l, t_h, e_l, e_h, N, c_rel, c_abs)
        qlo, qhi = ql * f_dn, qh * f_up
        if strict:
            hit, level_ok = qlo > dh, qhi <= dl
        else:
            hit, level_ok = qlo >= dh, qhi < dl
        if level_ok and qhi <= tl and k < max_steps:
            continue
        if hit:
            return k, HIT, -1
        if k >= max_steps and level_ok:
            return k, CAPPED, -1
        # kk + 1 if only the invariance test failed (step k itself is below the level)
        return k, UNDECIDED, (k + 1 if level_ok else k)
