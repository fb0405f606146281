"""Certified enclosures of the scalar dynamics and of the closed-form bounds (issue #10).

Each lane carries an interval ``[lo, hi]`` that provably contains the exact iterate ``x_k``
of ``x <- phi(x) = x + eta x^(N-1) (t - x^N)``, ``x_0 = alpha``, for the *exact* inputs the
user wrote (a decimal ``"0.1"`` enters as the binary interval around 1/10, never as its
rounded value). Two methods:

``"monotone-endpoints"``
    Where phi is certified nondecreasing on a range ``[0, X]`` that every iterate stays in,
    ``[phi_down(lo), phi_up(hi)]`` contains ``phi([lo, hi])``. The two endpoints are iterated
    separately with MPFR directed rounding (gmpy2 contexts RoundDown / RoundUp), each
    operation rounded in the direction derived in :func:`_monotone_kernel`'s comments.
``"ball"``
    Everywhere else (S2 overshoot, a step too large for the monotone certificate): arb balls
    (python-flint) in mean-value form ``phi(m) + phi'([x]) ([x] - m)``, m the midpoint, so
    the radius contracts wherever ``|phi'| < 1`` (plain interval iteration would not).

A level comparison ``x_k^N >= d`` is decided only when the enclosure of ``x_k^N`` lies
entirely on one side of the enclosure of d; the first step where it straddles is reported
as ``"undecided"`` (the caller escalates the precision). The closed forms tau and rho are
arb enclosures: flint's rigorous 2F1 for N >= 3, arb log for N = 2.

>>> lane = certified_lane(1, "0.1", "0.3", 3, levels=["0.5"], max_steps=2000, prec=120)
>>> lane.method, [h.result for h in lane.hits]
('monotone-endpoints', [33])
>>> lane.lo <= lane.hi and lane.hi - lane.lo < 2.0**-100
True
>>> print(certified_tau(1, "0.01", "0.5", 2, prec=100).str(10, radius=False))
2.297559925
>>> enclose_input("0.1", 53) == enclose_input(0.1, 53)
False
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from fractions import Fraction
from numbers import Integral, Rational
from types import MappingProxyType
from typing import Mapping

import gmpy2
import mpmath
from flint import arb, ctx as flint_ctx, fmpq, fmpz

from bounds.enclosures import rho_ball, tau_ball

__all__ = [
    # inputs
    "enclose_input",
    "MIN_PREC",
    # lanes
    "certified_lane",
    "CertifiedLane",
    "LevelHit",
    "METHODS",
    "monotone_certificate",
    # closed-form bounds
    "certified_tau",
    "certified_rho",
]

MIN_PREC = 24  # bits
METHODS = ("monotone-endpoints", "ball")

# Test hook (tests/test_certified.py): at this step the upper endpoint is rounded down once
# (monotone method) or the ball's radius is dropped (ball method). Never set it elsewhere.
_SHRINK_AT_STEP: int | None = None


# ---------------------------------------------------------------------------------------
# inputs


def _fraction(value, name: str) -> Fraction:
    """The exact rational value of a user number (decimal string exactly as written)."""
    if isinstance(value, bool):
        raise ValueError(f"{name} must be a number, got a bool")
    if isinstance(value, str):
        try:
            return Fraction(value.strip())
        except (ValueError, ZeroDivisionError):
            raise ValueError(f"{name} must be a finite decimal or p/q string, got {value!r}") from None
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{name} must be a finite number, got {value!r}")
        return Fraction(value)  # a float is an exact binary number
    if isinstance(value, (Integral, Rational)):
        return Fraction(value)
    if isinstance(value, mpmath.mpf):
        if not mpmath.isfinite(value):
            raise ValueError(f"{name} must be a finite number, got {value!r}")
        sign, man, exp, _ = value._mpf_
        return Fraction(-int(man) if sign else int(man)) * Fraction(2) ** int(exp)
    if type(value).__name__ in ("mpfr", "mpz", "mpq"):
        if type(value).__name__ == "mpfr" and not gmpy2.is_finite(value):
            raise ValueError(f"{name} must be a finite number, got {value!r}")
        return Fraction(*value.as_integer_ratio()) if type(value).__name__ == "mpfr" else Fraction(int(value.numerator), int(value.denominator))
    raise ValueError(f"{name} must be a number, got {type(value).__name__}")


def _check_prec(prec) -> int:
    if isinstance(prec, bool) or not isinstance(prec, Integral) or prec < MIN_PREC:
        raise ValueError(f"prec must be an integer number of bits >= {MIN_PREC}, got {prec!r}")
    return int(prec)


def _check_N(N) -> int:
    if isinstance(N, bool) or not isinstance(N, Integral) or N < 2:
        raise ValueError(f"depth N must be an integer >= 2, got {N!r}")
    return int(N)


def _down(prec):
    return gmpy2.context(precision=prec, round=gmpy2.RoundDown)


def _up(prec):
    return gmpy2.context(precision=prec, round=gmpy2.RoundUp)


def _mpfr_pair(q: Fraction, prec: int):
    mq = gmpy2.mpq(q.numerator, q.denominator)
    with _down(prec):
        lo = gmpy2.mpfr(mq)
    with _up(prec):
        hi = gmpy2.mpfr(mq)
    return lo, hi


def enclose_input(value, prec, *, kind="mpfr", name="value"):
    """Enclosure of the exact rational value of ``value`` at ``prec`` bits.

    ``kind="mpfr"``: a pair ``(lo, hi)`` of gmpy2 mpfr with ``lo <= value <= hi`` (equal when
    the value is a ``prec``-bit binary number), by MPFR's directed rounding of the exact
    rational. ``kind="arb"``: a flint arb ball containing it. Decimal strings (``"0.1"``,
    ``"1e-5"``, ``"3/7"``) are read exactly; a float is the binary number it is.

    >>> lo, hi = enclose_input("0.1", 53)
    >>> lo < hi, Fraction(*lo.as_integer_ratio()) < Fraction(1, 10) < Fraction(*hi.as_integer_ratio())
    (True, True)
    >>> enclose_input(0.5, 53)
    (mpfr('0.5'), mpfr('0.5'))
    >>> enclose_input("nan", 53)
    Traceback (most recent call last):
    ...
    ValueError: value must be a finite decimal or p/q string, got 'nan'
    """
    prec = _check_prec(prec)
    if isinstance(value, arb):  # a ball already (an input that is itself an enclosure)
        if not value.is_finite():
            raise ValueError(f"{name} must be a finite ball, got {value}")
        if kind == "arb":
            return value
        return _mpfr_bounds(value, prec)
    q = _fraction(value, name)
    if kind == "mpfr":
        return _mpfr_pair(q, prec)
    if kind == "arb":
        with flint_ctx.workprec(prec):
            return arb(fmpq(q.numerator, q.denominator))
    raise ValueError(f"kind must be 'mpfr' or 'arb', got {kind!r}")


def _arb_from_mpfr(x) -> arb:
    man, exp = x.as_mantissa_exp()
    return arb(fmpz(int(man))) * arb(2) ** int(exp)  # exact: a power of two times an integer


def _arb_hull(lo, hi) -> arb:
    """A ball containing [lo, hi] (mpfr endpoints), at the current flint precision."""
    return _arb_from_mpfr(lo).union(_arb_from_mpfr(hi))


def _mpfr_bounds(ball: arb, prec: int):
    """(lo, hi) mpfr with ball contained in [lo, hi] (exact conversion of arb's bounds)."""
    out = []
    if not ball.is_finite():
        return gmpy2.mpfr("-inf"), gmpy2.mpfr("inf")
    # arb rounds lower()/upper() outward at flint's *current* precision (53 bits unless a
    # caller set it): take them at the lane's precision, or the bounds lose its digits
    with flint_ctx.workprec(max(prec, flint_ctx.prec)):
        ends = (ball.lower(), ball.upper())
    for b, inf in zip(ends, ("-inf", "inf")):
        man, exp = b.man_exp()
        try:
            with gmpy2.context(precision=max(prec, int(fmpz(man).bit_length()) + 2)):
                out.append(gmpy2.mul_2exp(gmpy2.mpfr(int(man)), int(exp)))
        except OverflowError:  # an exponent beyond MPFR's range: the infinite end is sound
            out.append(gmpy2.mpfr(inf))
    return tuple(out)


def _as_arb(value, prec: int, name: str) -> arb:
    """An arb enclosing ``value``: a user number (exact rational), an arb, or an mpfr pair."""
    if isinstance(value, arb):
        return value
    if isinstance(value, tuple) and len(value) == 2:
        with flint_ctx.workprec(prec):
            lo, hi = (_arb_from_mpfr(gmpy2.mpfr(v)) for v in value)
            if not lo <= hi:
                raise ValueError(f"{name}: interval endpoints out of order")
            return lo.union(hi)
    q = _fraction(value, name)
    with flint_ctx.workprec(max(prec, flint_ctx.prec)):
        return arb(fmpq(q.numerator, q.denominator))


# ---------------------------------------------------------------------------------------
# results


@dataclass(frozen=True)
class LevelHit:
    """Certified outcome for the level event ``x_k^N >= level`` (``> level`` if strict).

    ``status``: ``"decided"`` (``step`` = the hitting step K: the enclosure of x_K^N lies
    entirely on the event side, at every earlier step entirely off it), ``"undecided"``
    (``step`` = the first step where the enclosure straddles the level, or where the
    enclosure was lost), ``"unreached"`` (certainly not hit within the run, ``step`` None).
    """

    level: object
    status: str
    step: int | None

    @property
    def result(self):
        """K (decided), the string ``"undecided"``, or None (not reached within the run)."""
        return {"decided": self.step, "undecided": "undecided", "unreached": None}[self.status]


@dataclass(frozen=True)
class CertifiedLane:
    """Result of :func:`certified_lane`: ``lo <= x_steps <= hi`` is proved (mpfr endpoints).

    ``checkpoints`` maps each requested step to its proved ``(lo, hi)``. ``lost`` is True when
    the ball method stopped because the enclosure ceased to be finite/useful.
    """

    method: str
    prec: int
    steps: int
    lo: object
    hi: object
    hits: tuple[LevelHit, ...]
    checkpoints: Mapping[int, tuple] = field(default_factory=dict)
    lost: bool = False

    def contains(self, value, step=None) -> bool:
        """True when the exact rational ``value`` lies in the enclosure (at a checkpoint)."""
        lo, hi = (self.lo, self.hi) if step is None else self.checkpoints[step]
        q = _fraction(value, "value")
        return _fraction(lo, "lo") <= q <= _fraction(hi, "hi")


# ---------------------------------------------------------------------------------------
# the monotonicity certificate


def monotone_certificate(t, alpha, eta, N, prec):
    """The range bound X if phi is *proved* nondecreasing on ``[0, X]`` for every eta, t in
    their enclosures, with ``X >= max(t^(1/N), alpha)`` (t^(1/N) read as 0 for t <= 0);
    None if that cannot be proved at ``prec`` bits.

    Proof: ``phi'(x) = 1 - eta x^(N-2) B(x)``, ``B(x) = (2N-1) x^N - (N-1) t``. B increases
    in x, so on [0, X]: where B(x) > 0, ``eta x^(N-2) B(x) <= eta_hi X^(N-2) B_up(X)`` with
    ``B_up`` using ``t_lo``; where B(x) <= 0, phi'(x) >= 1. So ``c = eta_hi X^(N-2)
    ((2N-1) X^N - (N-1) t_lo) <= 1`` (all rounded up) proves phi' >= 0 on [0, X]. At
    X = t^(1/N) it is S1's ``eta N t^A <= 1``; at X = alpha > t^(1/N) it is S3's decreasing
    step bound. phi maps [0, M] into itself for ``M = max(t^(1/N), alpha)``: phi(0) = 0 and
    ``phi(M) <= M`` because ``t - M^N <= 0``. So every iterate lies in [0, M] subset [0, X].

    >>> monotone_certificate(1, "0.1", "0.3", 3, 60) is not None
    True
    >>> monotone_certificate(1, "0.1", "0.34", 3, 60) is None   # eta N t^A = 1.02
    True
    """
    N = _check_N(N)
    prec = _check_prec(prec)
    t_lo, t_hi = enclose_input(t, prec, name="t")
    a_lo, a_hi = enclose_input(alpha, prec, name="alpha")
    e_lo, e_hi = enclose_input(eta, prec, name="eta")
    return _certificate(t_lo, t_hi, a_hi, e_hi, N, prec)


def _certificate(t_lo, t_hi, a_hi, e_hi, N, prec):
    with _up(prec):
        xstar = gmpy2.root(t_hi, N) if t_hi > 0 else gmpy2.mpfr(0)  # MPFR root, rounded up
        X = max(xstar, a_hi)
        Xm2 = gmpy2.mpfr(1)
        for _ in range(N - 2):
            Xm2 = Xm2 * X                      # X^(N-2), rounded up (nonneg factors)
        XN = Xm2 * X * X                       # X^N, rounded up
        # B_up = (2N-1) X^N_up + (N-1) (-t_lo): the product with -t_lo rounded up is
        # -((N-1) t_lo) rounded down, so the sum (rounded up) bounds B from above
        B = (2 * N - 1) * XN + (N - 1) * (-t_lo)
        if B <= 0:
            return X
        c = e_hi * Xm2 * B                     # nonneg factors, rounded up
        return X if c <= 1 else None


# ---------------------------------------------------------------------------------------
# monotone endpoints: one generated loop per (depth, strict, endpoint)

_LO_SRC = """
def lo_kernel(x, k, stop, etl, eth, tl, zero, thr):
    # runs inside a RoundDown context; x = lo_k >= 0, a lower bound of the exact x_k.
    while True:
        xm = {xm}              # x^(N-1) rounded down (nonneg factors, each product down)
        if xm * x {cmp} thr:   # x^N rounded down vs the level's upper end: event proved
            return x, k, True
        if k == stop:
            return x, k, False
        mxm = {mxm}            # (-x) x ... x rounded down = -(x^(N-1) rounded UP)
        D = tl + mxm * x       # t_lo - (x^N rounded up), rounded down: D <= t - x^N
        if D >= 0:
            # every factor nonneg and a lower bound: eta_lo, x^(N-1)_down, D; products down
            x = x + etl * xm * D
        else:
            # term = eta x^(N-1) (t - x^N) >= eta_hi x^(N-1)_up D (D < 0): eta_hi*D rounded
            # down (more negative), times x^(N-1)_up = -mxm (exact negation) rounded down
            x = x + (eth * D) * (-mxm)
        if x < zero:           # exact iterates stay in [0, M]: clamping is sound
            x = zero
        k += 1
"""

_HI_SRC = """
def hi_kernel(x, k, stop, etl, eth, th, xmax, thr):
    # runs inside a RoundUp context; x = hi_k <= xmax, an upper bound of the exact x_k.
    while True:
        xm = {xm}              # x^(N-1) rounded up
        if xm * x {cmp} thr:   # x^N rounded up vs the level's lower end: not provably below
            return x, k, True
        if k == stop:
            return x, k, False
        mxm = {mxm}            # (-x) x ... x rounded up = -(x^(N-1) rounded DOWN)
        D = th + mxm * x       # t_hi - (x^N rounded down), rounded up: D >= t - x^N
        if D >= 0:
            x = x + eth * xm * D          # nonneg upper-bound factors, products up
        else:
            # term <= eta_lo x^(N-1)_down D (D < 0): eta_lo*D rounded up (less negative),
            # times x^(N-1)_down = -mxm, rounded up
            x = x + (etl * D) * (-mxm)
        if x > xmax:           # exact iterates stay <= M <= xmax: clamping is sound
            x = xmax
        k += 1
"""


@functools.lru_cache(maxsize=None)
def _monotone_kernel(N: int, strict: bool, side: str):
    """Generated loop with the powers inlined (no call per step).

    The ``lo`` loop (RoundDown) proves ``phi(x) >= result`` for every eta in [eta_lo, eta_hi],
    t in [t_lo, t_hi]: phi increases in t (coefficient ``eta x^(N-1) >= 0``) and, in eta,
    increases iff ``t - x^N >= 0``, which selects eta_lo or eta_hi as in the comments. The
    ``hi`` loop (RoundUp) is the mirror image. With phi nondecreasing on [0, X] and
    ``lo_k <= x_k <= hi_k`` in [0, X]: ``phi_down(lo_k) <= phi(lo_k) <= x_{k+1} <= phi(hi_k)
    <= phi_up(hi_k)``.
    """
    xm = " * ".join(["x"] * (N - 1))
    mxm = " * ".join(["(-x)"] + ["x"] * (N - 2))
    if side == "lo":
        src, cmp = _LO_SRC, ">" if strict else ">="
    else:
        src, cmp = _HI_SRC, ">" if strict else ">="
    ns: dict = {}
    exec(compile(src.format(xm=xm, mxm=mxm, cmp=cmp), f"<certified {side} N={N}>", "exec"), ns)
    return ns[f"{side}_kernel"]


def _shrunk_hi_step(x, etl, eth, th, xmax, N, prec):
    """One upper-endpoint step with the final addition rounded DOWN (test hook only)."""
    with _up(prec):
        xm = x ** (N - 1)
        with _down(prec):
            mxm = -(x ** (N - 1))
            xNd = -mxm * x
        D = th - xNd
        term = eth * xm * D if D >= 0 else etl * D * (-mxm)
    with _down(prec):
        y = x + term           # <- the skipped outward rounding
    return min(y, xmax)


def _run_monotone(x0lo, x0hi, e, t, X, N, prec, levels, strict, max_steps, stops, settle):
    """Both endpoint sequences; ``levels``: list of (position, d_lo, d_hi)."""
    etl, eth = e
    tl, th = t
    inf = gmpy2.mpfr("inf")
    shrink = _SHRINK_AT_STEP
    # ---- upper endpoint: first step where x^N is not provably below each level ----
    hk = _monotone_kernel(N, strict, "hi")
    pend = sorted(levels, key=lambda lv: lv[1])
    k_hi: dict[int, int] = {}
    cps_hi: dict[int, object] = {}
    marks = sorted(set(s for s in stops if s <= max_steps) | {max_steps})
    if shrink is not None and 1 <= shrink <= max_steps:
        marks = sorted(set(marks) | {shrink - 1})
    x, k = x0hi, 0
    done = False
    with _up(prec):
        for mark in marks:
            while True:
                x, k, trig = hk(x, k, mark, etl, eth, th, X, pend[0][1] if pend else inf)
                if not trig:
                    break
                k_hi[pend.pop(0)[0]] = k
                if settle and not pend and not any(s > k for s in stops):
                    done = True
                    break
            cps_hi[k] = x
            if done or (settle and not pend and not any(s > k for s in stops)):
                break
            if shrink is not None and k == shrink - 1:
                x = _shrunk_hi_step(x, etl, eth, th, X, N, prec)
                k += 1
    end = k
    hi = x
    # ---- lower endpoint: first step where x^N is provably on the event side ----
    lk = _monotone_kernel(N, strict, "lo")
    pend = sorted(levels, key=lambda lv: lv[2])
    k_lo: dict[int, int] = {}
    cps_lo: dict[int, object] = {}
    zero = gmpy2.mpfr(0)
    x, k = x0lo, 0
    with _down(prec):
        for mark in sorted(set(m for m in marks if m < end) | {end}):
            while True:
                x, k, trig = lk(x, k, mark, etl, eth, tl, zero, pend[0][2] if pend else inf)
                if not trig:
                    break
                k_lo[pend.pop(0)[0]] = k
            cps_lo[k] = x
    lo = x
    hits = {}
    for pos, _, _ in levels:
        kh = k_hi.get(pos)
        if kh is None:
            hits[pos] = ("unreached", None)
        elif k_lo.get(pos) == kh:
            hits[pos] = ("decided", kh)
        else:
            hits[pos] = ("undecided", kh)
    cps = {s: (cps_lo[s], cps_hi[s]) for s in stops if s in cps_lo and s in cps_hi}
    return end, lo, hi, hits, cps, False


# ---------------------------------------------------------------------------------------
# ball method


def _run_ball(x0, E, T, N, prec, levels, strict, max_steps, stops, settle):
    """arb mean-value iteration ``X <- phi(m) + phi'(X) (X - m)``, m = mid(X).

    ``levels``: list of (position, D) with D an arb enclosure of the level.
    """
    c1 = (N - 1) * T
    c2 = 2 * N - 1
    pend = list(levels)
    hits: dict[int, tuple] = {}
    cps: dict[int, tuple] = {}
    stopset = set(stops)
    shrink = _SHRINK_AT_STEP
    X = x0
    k = 0
    lost = False
    while True:
        XN1 = X ** (N - 1) if N > 2 else X
        XN = XN1 * X
        if pend:
            still = []
            for pos, D in pend:
                if (XN > D) if strict else (XN >= D):
                    hits[pos] = ("decided", k)
                elif (XN <= D) if strict else (XN < D):
                    still.append((pos, D))
                else:
                    hits[pos] = ("undecided", k)
            pend = still
        if k in stopset:
            cps[k] = X
        if k >= max_steps or (settle and not pend and (not stops or k >= stops[-1])):
            break
        if not X.is_finite():
            lost = True
            break
        m = X.mid()
        mN1 = m ** (N - 1) if N > 2 else m
        Xm2 = X ** (N - 2) if N > 3 else (X if N == 3 else 1)
        dphi = 1 + E * (c1 * Xm2 - c2 * XN1 * XN1)      # phi'(X) enclosure
        X = m + E * mN1 * (T - mN1 * m) + dphi * (X - m)
        k += 1
        if shrink is not None and k == shrink:
            X = X.mid()     # test hook: the radius is dropped once
    for pos, _ in pend:
        hits[pos] = ("undecided", k) if lost else ("unreached", None)
    return k, X, hits, cps, lost


# ---------------------------------------------------------------------------------------
# the public lane


def certified_lane(t, alpha, eta, N, *, levels=(), max_steps, prec, strict=False,
                   method="auto", checkpoints=(), stop_when_settled=True) -> CertifiedLane:
    """Iterate a proved enclosure of ``x_k`` and decide the first hitting steps of levels.

    ``t``, ``alpha``, ``eta``, ``levels``: user numbers, enclosed exactly (see
    :func:`enclose_input`), or arb balls that enclose them (an eta defined as a fraction of
    an irrational bound, say). ``prec``: bits. ``method``: ``"auto"`` (monotone endpoints when
    :func:`monotone_certificate` proves phi nondecreasing on the range, else ball),
    ``"monotone-endpoints"`` (ValueError if not provable) or ``"ball"``. The run stops at
    ``max_steps``, or once every level is resolved and every checkpoint passed
    (``stop_when_settled``).

    >>> lane = certified_lane(1, "0.5", "0.9", 2, levels=["1.01"], max_steps=50, prec=80)
    >>> lane.method, lane.hits[0].status, lane.hits[0].step     # S2 overshoot: x^N > 1.01
    ('ball', 'decided', 2)
    """
    N = _check_N(N)
    prec = _check_prec(prec)
    if isinstance(max_steps, bool) or not isinstance(max_steps, Integral) or max_steps < 0:
        raise ValueError(f"max_steps must be a nonnegative integer, got {max_steps!r}")
    if method not in ("auto",) + METHODS:
        raise ValueError(f"method must be 'auto' or one of {METHODS}, got {method!r}")
    if isinstance(levels, (str, bytes)) or not hasattr(levels, "__iter__"):
        raise ValueError("levels must be a sequence of numbers")
    levels = tuple(levels)
    stops = sorted({int(s) for s in checkpoints})
    if any(isinstance(s, bool) or not isinstance(s, Integral) for s in checkpoints) or (stops and stops[0] < 0):
        raise ValueError("checkpoints must be nonnegative integers")
    if stops and stops[-1] > max_steps:
        raise ValueError(f"checkpoint {stops[-1]} is beyond max_steps={max_steps}")
    for value, nm in ((alpha, "alpha"), (eta, "eta")):
        if not (value > 0 if isinstance(value, arb) else _fraction(value, nm) > 0):
            raise ValueError(f"{nm} must be > 0 (provably, for a ball), got {value!r}")
    t_e = enclose_input(t, prec, name="t")
    a_e = enclose_input(alpha, prec, name="alpha")
    e_e = enclose_input(eta, prec, name="eta")
    lv_e = [enclose_input(d, prec, name=f"level {i}") for i, d in enumerate(levels)]
    X = _certificate(t_e[0], t_e[1], a_e[1], e_e[1], N, prec)
    if method == "monotone-endpoints" and X is None:
        raise ValueError("monotone-endpoints: phi is not provably nondecreasing on the range "
                         "[0, max(t^(1/N), alpha)] at this precision (eta too large)")
    use = ("monotone-endpoints" if X is not None else "ball") if method == "auto" else method
    if use == "monotone-endpoints":
        end, lo, hi, hits, cps, lost = _run_monotone(
            a_e[0], a_e[1], e_e, t_e, X, N, prec,
            [(i, d[0], d[1]) for i, d in enumerate(lv_e)], strict, max_steps, stops,
            stop_when_settled and bool(levels))
    else:
        with flint_ctx.workprec(prec):
            x0 = _arb_hull(*a_e)
            E, T = _arb_hull(*e_e), _arb_hull(*t_e)
            end, ball, hits, cps_b, lost = _run_ball(
                x0, E, T, N, prec, [(i, _arb_hull(*d)) for i, d in enumerate(lv_e)], strict,
                max_steps, stops, stop_when_settled and bool(levels))
            lo, hi = _mpfr_bounds(ball, prec)
            cps = {s: _mpfr_bounds(b, prec) for s, b in cps_b.items()}
    return CertifiedLane(
        method=use, prec=prec, steps=end, lo=lo, hi=hi,
        hits=tuple(LevelHit(levels[i], *hits[i]) for i in range(len(levels))),
        checkpoints=MappingProxyType(cps), lost=lost)


# ---------------------------------------------------------------------------------------
# closed-form bounds as arb enclosures


def certified_tau(t, a, b, N, prec) -> arb:
    """Enclosure of ``tau_t(a, b) = (G(b/t) - G(a/t)) / (N t^A)`` (arb ball, ``prec`` bits).

    Inputs may be user numbers (enclosed exactly), arb balls, or mpfr pairs ``(lo, hi)``.
    ``0 < a, b < t`` must be provable from the enclosures (ValueError otherwise). Rigorous:
    flint's 2F1 and log with ball inputs; no mpmath anywhere.

    >>> print(certified_tau(1, "1e-6", "0.9", 3, 120).str(12, radius=False))
    99.9672384699
    """
    N = _check_N(N)
    prec = _check_prec(prec)
    with flint_ctx.workprec(prec):
        T, Aa, Bb = (_as_arb(v, prec, n) for v, n in ((t, "t"), (a, "a"), (b, "b")))
        for val, nm in ((Aa, "a"), (Bb, "b")):
            if not val > 0:
                raise ValueError(f"tau needs {nm} > 0 (not provable from its enclosure)")
            if not val < T:
                raise ValueError(f"tau needs {nm} < t (not provable from the enclosures)")
        res = tau_ball(T, Aa, Bb, N)
    if not res.is_finite():
        raise ValueError("tau enclosure is not finite at this precision")
    return res


def certified_rho(t, eta, N, prec) -> arb:
    """Enclosure of ``rho(t) = (1 + eta t^A)^(N-1)`` (arb ball), ``t >= 0`` provable.

    >>> print(certified_rho(1, "0.25", 2, 80).str(10, radius=False))
    1.250000000
    """
    N = _check_N(N)
    prec = _check_prec(prec)
    with flint_ctx.workprec(prec):
        T = _as_arb(t, prec, "t")
        E = _as_arb(eta, prec, "eta")
        if not E > 0:
            raise ValueError("rho needs eta > 0 (not provable from its enclosure)")
        return rho_ball(T, E, N)
