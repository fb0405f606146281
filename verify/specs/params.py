"""Raw numbers, spec tables and step budgets: what every instance builder is made of.

A *spec* lists the raw numbers an instance is drawn from (integers and unit-range
fractions, :class:`Param`) and a *builder* that turns them into an instance dict satisfying
the claim's hypotheses by construction. Builders keep the simulated steps inside a budget
with :func:`predicted_steps`, an estimate computed independently of the bounds under test
(it uses the flow time and ``exp((N-1) eta t^A)``, which dominates K2's factor rho), so that
a wrong bound in bounds/ cannot move its own instances along with it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from types import MappingProxyType
from typing import Callable, Mapping

__all__ = [
    # raw numbers and specs
    "Param",
    "Spec",
    "SpecTable",
    "Corner",
    # budgets
    "predicted_steps",
    "alpha_floor",
    "log_bisect",
    "log_interpolate",
]


@dataclass(frozen=True)
class Param:
    """One raw number: ``kind`` is ``"int"`` (lo..hi inclusive), ``"float"`` (uniform in
    [lo, hi]), ``"logfloat"`` (log-uniform in [lo, hi]) or ``"floats"`` (a list of ``size``
    uniform floats in [lo, hi])."""

    name: str
    kind: str
    lo: float
    hi: float
    size: int = 0

    def __post_init__(self):
        if self.kind not in ("int", "float", "logfloat", "floats"):
            raise ValueError(f"unknown parameter kind {self.kind!r}")
        if not self.lo <= self.hi:
            raise ValueError(f"parameter {self.name}: empty range [{self.lo}, {self.hi}]")
        if self.kind == "logfloat" and self.lo <= 0:
            raise ValueError(f"parameter {self.name}: log range must be positive")
        if self.kind == "floats" and self.size < 1:
            raise ValueError(f"parameter {self.name}: a list needs size >= 1")


@dataclass(frozen=True)
class Spec:
    """The raw-number spec of a claim and the builder that makes an instance from it."""

    claim: str
    params: tuple[Param, ...]
    builder: Callable[..., dict]
    #: why the builder may yield N/A instances ("" promises admissible ones: an N/A is then
    #: a defect of the builder, reported as a failure by verify.witness.audit)
    may_be_na: str = ""


class SpecTable:
    """The specs of one family module, filled by its decorators and frozen into ``SPECS``
    (no import-time registration into another module's state).

    >>> table = SpecTable()
    >>> @table.add("Z0", Param("x", "float", 0.0, 1.0))
    ... def _z0(*, x):
    ...     return {"x": x}
    >>> table.frozen()["Z0"].builder(x=0.5)
    {'x': 0.5}
    """

    def __init__(self):
        self._specs: dict[str, Spec] = {}

    def add(self, claim_id: str, *params: Param, may_be_na: str = ""):
        def deco(fn):
            if claim_id in self._specs:
                raise ValueError(f"claim {claim_id} already has an instance spec")
            self._specs[claim_id] = Spec(claim_id, tuple(params), fn, may_be_na)
            return fn

        return deco

    def frozen(self) -> Mapping[str, Spec]:
        return MappingProxyType(dict(self._specs))


# ---------------------------------------------------------------------------------------
# step budgets, by construction


def predicted_steps(t: float, level: float, alpha: float, eta: float, N: int, *,
                    rate_target: float | None = None) -> float:
    """An upper estimate of the steps to lift x^N from alpha^N to ``level`` (0 if nothing
    to learn): ``exp((N-1) eta t^A) tau_t(alpha^N, level) / eta``, with ``t`` in the
    factor replaced by ``rate_target`` if given. The factor dominates K2's
    rho = (1 + eta t^A)^(N-1), and it is written independently of bounds.flow.rho, so a
    wrong K2 bound does not shift the instances it is checked on.

    >>> round(predicted_steps(1.0, 0.5, 0.1, 0.1, 2), 6)
    25.391964
    """
    from bounds.flow import tau_float

    if alpha**N >= level:
        return 0.0
    A = 2 - 2 / N
    u = t if rate_target is None else rate_target
    return math.exp((N - 1) * eta * max(u, 0.0) ** A) * tau_float(t, alpha**N, level, N) / eta


def alpha_floor(t: float, level: float, eta: float, N: int, *, budget: float,
                alpha_max: float) -> float:
    """Smallest alpha in (0, alpha_max] whose predicted steps to ``level`` fit ``budget``.

    The predicted steps decrease in alpha, so a bisection in log(alpha) finds it; instances
    then draw alpha from [alpha_floor, alpha_max] and stay inside the budget by construction.

    >>> a = alpha_floor(1.0, 0.9, 0.25, 3, budget=1000, alpha_max=0.5)
    >>> predicted_steps(1.0, 0.9, a, 0.25, 3) <= 1000 < predicted_steps(1.0, 0.9, 0.99 * a, 0.25, 3)
    True
    """
    if not 0 < alpha_max or alpha_max**N >= level:
        raise ValueError(f"alpha_max={alpha_max} must be positive with alpha_max^N < level={level}")
    if predicted_steps(t, level, alpha_max, eta, N) > budget:
        raise ValueError(f"even alpha={alpha_max} needs more than {budget:g} steps")
    return log_bisect(lambda a: predicted_steps(t, level, a, eta, N) <= budget,
                      alpha_max * math.exp(-60.0), alpha_max, iters=60)


def log_bisect(pred, lo: float, hi: float, *, iters: int = 40) -> float:
    """Smallest x in [lo, hi] (to the bisection's resolution in log x) with ``pred(x)`` True,
    for ``pred`` False below some point and True above it; ``lo`` if ``pred(lo)``, ``hi`` if
    not ``pred(hi)``. The returned point satisfies ``pred`` whenever any point does.

    >>> round(log_bisect(lambda x: x >= 3.0, 1.0, 10.0), 6)
    3.0
    """
    if pred(lo):
        return lo
    if not pred(hi):
        return hi
    a, b = math.log(lo), math.log(hi)
    for _ in range(iters):
        m = (a + b) / 2
        if pred(math.exp(m)):
            b = m
        else:
            a = m
    return math.exp(b)


def log_interpolate(lo: float, hi: float, u: float) -> float:
    """lo^(1-u) hi^u for u in [0, 1] (hi when the range is empty, hi <= lo).

    >>> round(log_interpolate(1.0, 100.0, 0.5), 12), log_interpolate(5.0, 2.0, 0.3)
    (10.0, 2.0)
    """
    if hi <= lo:
        return hi
    return math.exp(math.log(lo) + (math.log(hi) - math.log(lo)) * u)


@dataclass(frozen=True)
class Corner:
    """A hard instance that `run` checks in every profile, beside the sampled ones.

    ``expect``: ``"decided"`` (admissible: PASS or FAIL, never N/A) or ``"na"`` (a
    hypothesis fails exactly: a check whose hypothesis evaluator admitted it is an audit
    failure). ``drop_fails``: for an N/A corner, whether the conclusion fails there too (a
    check that dropped the hypothesis would FAIL; False for exact ties where the conclusion
    still holds). ``why``: what makes it hard. ``reports`` / ``omits``: for a decided corner,
    tightness keys (``Outcome.extra_ratios``) the outcome must / must not carry, i.e. a part
    of the claim whose own hypotheses hold / fail there (P4's W-only bounds, key
    ``T0~/UB0_any``): a step limit that moves the instance out of (or a hypothesis that
    admits it into) that part is an audit failure.
    """

    instance: Mapping[str, object]
    expect: str
    why: str
    drop_fails: bool = True
    reports: tuple[str, ...] = ()
    omits: tuple[str, ...] = ()

    def __post_init__(self):
        if self.expect not in ("decided", "na"):
            raise ValueError(f"corner expect must be 'decided' or 'na', got {self.expect!r}")
        if (self.reports or self.omits) and self.expect != "decided":
            raise ValueError("reports/omits apply to a decided corner only")
