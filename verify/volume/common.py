"""Shared pieces of the certified volume stage: exact inputs, balls, certified hitting steps.

Inputs of a volume instance are floats, i.e. exact binary rationals; an eta defined as a
fraction of an irrational step bound is the arb ball that contains it. Hitting steps come
from the float64 screen, and for the lanes it leaves undecided from
:func:`verify.certified.certified_lane` at increasing precision.

>>> import numpy as np
>>> from flint import arb
>>> E = eta_ball(0.5, 1.0, 3)
>>> hitting_steps([1.0], [0.1], [E], 3, [0.5], caps=[1000])[0][:2]
(57, 'screen')
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Callable, Mapping, Sequence

import numpy as np
from flint import arb, ctx as flint_ctx, fmpq

__all__ = [
    # types
    "Decision",
    "VolumeSpec",
    # numbers
    "PREC",
    "ESCALATE",
    "exact",
    "ball",
    "eta_ball",
    "float_bounds",
    "hitting_steps",
    "depth_groups",
    "first_enclosed",
    "UNDECIDED_STEP",
]

PREC = 128                 # bits of the arb enclosures of the bounds
ESCALATE = (128, 256, 512)  # bits of certified_lane for lanes the screen leaves undecided
UNDECIDED_STEP = "undecided"


@dataclass(frozen=True)
class Decision:
    """One instance's verdict in a batch. ``certified``: every number that decided it was
    enclosed (False for a fallback to the first-order high-precision check). ``slack`` and
    ``ratio`` as in :class:`verify.checks.Outcome` (floats of the enclosures' midpoints)."""

    verdict: str
    certified: bool
    slack: float | None = None
    ratio: float | None = None
    note: str = ""
    method: str = "screen"


@dataclass(frozen=True)
class VolumeSpec:
    """``draw(rng, count)``: admissible instances (the claim's instance dicts, so
    ``dmf-verify check ID --instance`` re-runs any of them); ``decide(instances)``: their
    decisions, in order. ``tightness``: the tightness key the ratios belong to."""

    draw: Callable[[np.random.Generator, int], list]
    decide: Callable[[Sequence[Mapping]], list]
    tightness: str = "ratio"




def exact(x) -> Fraction:
    """The exact rational value of a float (or int) input."""
    return Fraction(x)


def ball(x) -> arb:
    """The exact float ``x`` as an arb point (exact: a float is a dyadic rational; arb takes a
    float exactly at any precision, other numbers through their exact rational value)."""
    if type(x) is float:
        return arb(x)
    q = Fraction(x)
    return arb(fmpq(q.numerator, q.denominator))


def eta_ball(fraction, t, N, prec: int = PREC) -> arb:
    """The step eta = fraction / (N t^A), A = 2 - 2/N, as a ball containing the real number
    (the instance's eta_fraction and t are exact floats)."""
    with flint_ctx.workprec(prec):
        return ball(fraction) / (N * ball(t) ** arb(fmpq(2 * N - 2, N)))


def float_bounds(b: arb) -> tuple[float, float]:
    """(lo, hi) floats with lo <= every point of the ball <= hi (outward conversion)."""
    lo_x, hi_x = b.lower(), b.upper()
    lo, hi = float(lo_x.mid().str(30, radius=False)), float(hi_x.mid().str(30, radius=False))
    while not ball(lo) <= lo_x:
        lo = float(np.nextafter(lo, -np.inf))
    while not ball(hi) >= hi_x:
        hi = float(np.nextafter(hi, np.inf))
    return lo, hi


def hitting_steps(t, alpha, etas, N, levels, *, caps, strict: bool = False):
    """Certified hitting steps K = min{k : x_k^N >= d} (``> d`` if strict) of lanes of one
    depth N: for each lane ``(step, method)`` with step an int, None (certified: not hit
    within the lane's cap) or :data:`UNDECIDED_STEP`. ``etas``: arb balls; t, alpha: floats
    (exact); levels: floats (exact) or arb balls (a level such as (1-eps) s, which a float
    product would round)."""
    from verify.certified import certified_lane
    from verify.screen import CAPPED, HIT, MISS, screen_hits

    L = len(t)
    if L == 0:
        return []
    # a decimal an instance spells as a string ("0.1") is not a binary number: it enters as
    # the float interval around it (the screen takes pairs; certified_lane, below, reads the
    # string exactly), never as its rounded value
    (t_lo, t_hi), (a_lo, a_hi), (e_lo, e_hi), (d_lo, d_hi) = (
        _float_pairs(v) for v in (t, alpha, etas, levels))
    cap = int(max(caps))
    r = screen_hits((t_lo, t_hi), (a_lo, a_hi), (e_lo, e_hi), N, (d_lo, d_hi), max_steps=cap,
                    strict=strict)
    out = []
    for i in range(L):
        s = int(r.status[i])
        if s == HIT:
            out.append((int(r.step[i]), "screen"))
        elif s in (MISS, CAPPED):
            out.append((None, "screen"))
        else:
            out.append(_escalate(certified_lane, _exact(t[i]), _exact(alpha[i]), etas[i], N,
                                 _exact(levels[i]), int(caps[i]), strict))
    return out


def _exact(v):
    """A float, an arb or a decimal string as certified_lane reads it exactly (numpy
    scalars as the floats they are)."""
    return v if isinstance(v, (arb, str, Fraction)) else float(v)


def _float_pairs(values):
    """(lo, hi) float arrays enclosing each value: a float itself (exact), an arb by
    :func:`float_bounds`, any other number (a decimal string, a Fraction) by the floats
    next to its exact rational value."""
    lo, hi = [], []
    for v in values:
        if isinstance(v, arb):
            a, b = float_bounds(v)
        elif isinstance(v, (float, np.floating)) or (isinstance(v, int) and abs(v) < 2**53):
            a = b = float(v)
        else:
            from verify.certified import _fraction

            q = _fraction(v, "instance value")
            a = b = float(q)
            if Fraction(a) > q:
                a = float(np.nextafter(a, -np.inf))
            if Fraction(b) < q:
                b = float(np.nextafter(b, np.inf))
        lo.append(a)
        hi.append(b)
    return np.array(lo, dtype=np.float64), np.array(hi, dtype=np.float64)


def _escalate(certified_lane, t, alpha, eta, N, d, cap, strict):
    for prec in ESCALATE:
        lane = certified_lane(t, alpha, eta, N, levels=[d], max_steps=cap, prec=prec,
                              strict=strict)
        h = lane.hits[0]
        if h.status == "decided":
            return h.step, f"certified-{prec}"
        if h.status == "unreached":
            return None, f"certified-{prec}"
    return UNDECIDED_STEP, "undecided"


def depth_groups(depths):
    """(N, indices) for each depth in a drawn batch, in increasing N: the draws and the
    screen work on one depth at a time."""
    depths = np.asarray(depths)
    for N in np.unique(depths):
        yield int(N), np.nonzero(depths == N)[0]


def first_enclosed(enclose):
    """``enclose(prec)`` at the precisions of :data:`ESCALATE` in turn: ``(result, prec)``
    for the first result that is not None (a ball evaluator that decided its cases), or
    ``(None, None)`` if none did."""
    for prec in ESCALATE:
        out = enclose(prec)
        if out is not None:
            return out, prec
    return None, None
