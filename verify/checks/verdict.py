"""Verdicts: outcomes, decided comparisons, instance fields, precision escalation.

A check function computes, at a given number of digits, what the theory predicts and what
gradient descent does, and compares them with a margin tied to that precision. A comparison
inside the margin is UNDECIDED; :func:`check` then re-runs the claim at higher precision
(doubling the digits up to ``max_dps``). Only PASS and FAIL are decided verdicts; an
UNDECIDED outcome is reported as such and never counted as a pass.

Parameters that are valid but break a claim's hypotheses give ``N/A`` (not applicable),
with the failing hypotheses named; they are not errors.

>>> from verify.checks import check
>>> out = check("R1", {"n": 2, "depth": 2, "spectrum": [1.0, 0.5], "seed": 1, "noise": 0.0,
...                    "alpha": 0.5, "eta_fraction": 0.5, "steps": 5})
>>> out.verdict, out.dps
('PASS', 50)
"""

from __future__ import annotations

import contextlib
import contextvars
import math
from dataclasses import dataclass, field
from typing import Callable, Mapping

import mpmath

__all__ = [
    # verdicts
    "PASS",
    "FAIL",
    "UNDECIDED",
    "NOT_APPLICABLE",
    "DECIDED",
    # results and comparisons
    "Outcome",
    "compare_le",
    "rel_margin",
    "worst_verdict",
    # reading instances
    "param",
    "depth_of",
    "step_at_fraction",
    "monotone_step_eta",
    # the claim's evaluators (bounds/), and the record of their calls
    "evaluators",
    "EvaluatorCall",
    "record_evaluator_calls",
    # precision escalation
    "escalate",
]

PASS, FAIL, UNDECIDED, NOT_APPLICABLE = "PASS", "FAIL", "UNDECIDED", "N/A"
DECIDED = (PASS, FAIL)


@dataclass(frozen=True)
class Outcome:
    """The verdict of one claim on one instance.

    ``slack``: relative distance from failing ((bound - observed)/|bound| for an upper bound);
    positive when the claim holds with room, negative when violated, None when N/A.
    ``instance``: every parameter needed to re-run (JSON-able). ``observed`` / ``predicted``:
    named values as strings at the precision used. ``dps``: digits of the deciding run.
    ``ratio``: observed/predicted (how tight the bound is on this instance), if meaningful.
    """

    claim: str
    verdict: str
    slack: float | None
    dps: int
    instance: Mapping[str, object]
    observed: Mapping[str, str] = field(default_factory=dict)
    predicted: Mapping[str, str] = field(default_factory=dict)
    note: str = ""
    # observed / predicted for the tightness audit (None where the claim has no such ratio)
    ratio: float | None = None
    # further named observed/predicted ratios (e.g. "T1/LB1" beside T0/UB0)
    extra_ratios: Mapping[str, float] = field(default_factory=dict)
    # every number that decided the verdict was enclosed (set by verify.volume.recheck when
    # the claim's certified engine proves the same verdict); False for first-order margins
    certified: bool = False

    def as_dict(self) -> dict:
        return {
            "claim": self.claim, "verdict": self.verdict, "slack": self.slack, "dps": self.dps,
            "instance": dict(self.instance), "observed": dict(self.observed),
            "predicted": dict(self.predicted), "note": self.note, "ratio": self.ratio,
            "extra_ratios": dict(self.extra_ratios), "certified": self.certified,
        }


def rel_margin(dps: int, *, lost_digits: int = 5):
    """Relative rounding margin of a quantity computed at ``dps`` digits, allowing
    ``lost_digits`` digits of accumulated error (used for closed-form bound evaluations)."""
    return mpmath.mpf(10) ** (-(dps - lost_digits))


def compare_le(lhs, rhs, *, margin) -> tuple[str, float]:
    """Decide ``lhs <= rhs`` when both are known to within ``margin`` (absolute, >= 0).

    Returns (verdict, slack): PASS if ``lhs <= rhs - margin``, FAIL if ``lhs > rhs + margin``,
    UNDECIDED otherwise. ``rhs = +inf`` passes; ``lhs = +inf`` (an infinite lower bound) with a
    finite ``rhs`` fails, whatever the margin.

    >>> compare_le(1, 2, margin=0.1)
    ('PASS', 0.5)
    >>> compare_le(2, 1, margin=0.1)[0], compare_le(1, 1.05, margin=0.1)[0]
    ('FAIL', 'UNDECIDED')
    >>> compare_le(mpmath.inf, 7, margin=mpmath.inf)[0]
    'FAIL'

    """
    lhs, rhs, margin = mpmath.mpf(lhs), mpmath.mpf(rhs), mpmath.mpf(margin)
    if mpmath.isinf(rhs) and rhs > 0:
        return PASS, math.inf
    if mpmath.isinf(lhs) and lhs > 0:  # an infinite lower bound above a finite value
        return FAIL, -math.inf
    scale = max(abs(rhs), abs(lhs), mpmath.mpf(10) ** -300)
    slack = float((rhs - lhs) / scale)
    if lhs <= rhs - margin:
        return PASS, slack
    if lhs > rhs + margin:
        return FAIL, slack
    return UNDECIDED, slack


def worst_verdict(*verdicts: str) -> str:
    """FAIL beats UNDECIDED beats PASS.

    >>> worst_verdict(PASS, UNDECIDED), worst_verdict(UNDECIDED, FAIL, PASS)
    ('UNDECIDED', 'FAIL')
    """
    for v in (FAIL, UNDECIDED):
        if v in verdicts:
            return v
    return PASS


# ---------------------------------------------------------------------------------------
# reading instances: every field checked, errors name the field


def param(inst: Mapping[str, object], key: str, *, gt=None, ge=None, lt=None, le=None):
    """``inst[key]`` as an mpf at the current precision, with optional bounds.

    ValueError naming ``key`` when it is missing, not a number (strings are parsed as
    decimals, never evaluated), NaN or infinite, or out of the stated range.

    >>> param({"alpha": "0.5"}, "alpha", gt=0)
    mpf('0.5')
    >>> param({"alpha": -1}, "alpha", gt=0)
    Traceback (most recent call last):
    ...
    ValueError: instance field 'alpha' must be > 0, got -1
    """
    from verify.engine import to_mpf

    if key not in inst:
        raise ValueError(f"instance lacks the field {key!r}")
    raw = inst[key]
    x = to_mpf(raw, name=f"instance field {key!r}")
    for op, bound, ok in (("> ", gt, lambda: x > gt), (">=", ge, lambda: x >= ge),
                          ("< ", lt, lambda: x < lt), ("<=", le, lambda: x <= le)):
        if bound is not None and not ok():
            raise ValueError(f"instance field {key!r} must be {op.strip()} {bound}, got {raw!r}")
    return x


def depth_of(inst: Mapping[str, object]) -> int:
    """The depth N of an instance: an integer >= 2 (ValueError naming the field otherwise)."""
    N = inst.get("depth")
    if isinstance(N, bool) or not isinstance(N, int) or N < 2:
        raise ValueError(f"instance field 'depth' must be an integer >= 2, got {N!r}")
    return N


def step_at_fraction(fraction, bound, holds):
    """eta = fraction * bound, rounded down where needed so that ``holds(eta)`` (the
    rounded hypothesis "eta <= bound") is true whenever fraction <= 1: at fraction 1 the
    product can round one unit above the bound, which would turn an admissible instance
    into an inadmissible one."""
    eta = fraction * bound
    if fraction <= 1:
        shrink = 1 - mpmath.mpf(2) ** (4 - mpmath.mp.prec)
        for _ in range(8):
            if holds(eta):
                break
            eta *= shrink
    return eta


def monotone_step_eta(claim_id: str, fraction, t, N):
    """eta = fraction x the S1 step bound for target t (the claim's ``monotone_step_bound``
    evaluator) at the current precision, never rounded above the bound (the rounded
    relation ``monotone_step_holds`` decides)."""
    from bounds.flow import monotone_step_holds

    bound = evaluators(claim_id)["monotone_step_bound"](t, N)
    return step_at_fraction(fraction, bound, lambda h: monotone_step_holds(t, h, N))


def evaluators(claim_id: str):
    """The claim's evaluators (bounds/): the only way a check evaluates a bound or a
    hypothesis. Looked up on every call, so a replaced bound reaches the verdict.

    >>> evaluators("K2")["k2_upper_real"].__module__
    'bounds.flow'
    """
    from bounds import get_claim

    ev = get_claim(claim_id).evaluators
    calls = _RECORDER.get()
    return ev if calls is None else _Recorded(claim_id, ev, calls)


# what `run` hands to verify.statements: every evaluator call made through evaluators()
_RECORDER: contextvars.ContextVar = contextvars.ContextVar("evaluator_calls", default=None)


@dataclass(frozen=True)
class EvaluatorCall:
    """One call of a claim's evaluator by a check: its arguments, result and precision."""

    claim: str
    name: str
    args: tuple
    kwargs: dict
    result: object
    dps: int


class _Recorded(Mapping):
    """The claim's evaluators, each call appended to ``calls`` (raising calls are not)."""

    def __init__(self, claim_id, ev, calls):
        self._cid, self._ev, self._calls = claim_id, ev, calls

    def __getitem__(self, key):
        fn = self._ev[key]

        def call(*args, **kwargs):
            out = fn(*args, **kwargs)
            self._calls.append(EvaluatorCall(self._cid, key, args, dict(kwargs), out, mpmath.mp.dps))
            return out

        return call

    def __iter__(self):
        return iter(self._ev)

    def __len__(self):
        return len(self._ev)


@contextlib.contextmanager
def record_evaluator_calls():
    """Collect the :class:`EvaluatorCall` s of the checks run inside the block.

    >>> from verify.checks import check
    >>> with record_evaluator_calls() as calls:
    ...     _ = check("S1", {"depth": 2, "t": 1.0, "eta_fraction": 1.0, "alpha": 0.5})
    >>> [c.name for c in calls]
    ['monotone_step_bound', 's1_hypotheses', 'monotone_step_bound']
    """
    calls: list = []
    token = _RECORDER.set(calls)
    try:
        yield calls
    finally:
        _RECORDER.reset(token)


# ---------------------------------------------------------------------------------------
# precision escalation


def escalate(fn: Callable[..., Outcome], instance: Mapping[str, object], *, dps: int = 50,
             max_dps: int = 250, **kwargs) -> Outcome:
    """Run ``fn(instance, dps, **kwargs)``, doubling the digits while the verdict is UNDECIDED.

    The returned outcome records the digits of its deciding run; if it is still UNDECIDED
    at ``max_dps`` it says so (it is not a pass). Keywords reach the check function (the
    negative controls pass ``tighten=`` or ``require_hypotheses=`` this way).
    """
    from verify.engine import MAX_DPS

    for name, v in (("dps", dps), ("max_dps", max_dps)):
        if isinstance(v, bool) or not isinstance(v, int) or not 15 <= v <= MAX_DPS:
            raise ValueError(f"{name} must be an integer in 15..{MAX_DPS}, got {v!r}")
    while True:
        out = fn(instance, dps, **kwargs)
        if out.verdict != UNDECIDED or dps >= max_dps:
            return out
        dps = min(2 * dps, max_dps)
