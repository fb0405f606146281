"""Admissible instances from plain numbers, for the tests and for `dmf-verify run` alike.

Each claim has a *spec*: the raw numbers an instance is made from (integers and unit-range
fractions), and a *builder* that turns those numbers into an instance dict that satisfies the
claim's hypotheses by construction (eta drawn as a fraction of its bound, levels as
fractions of their admissible range, step counts inside a budget estimated from the flow
time). Hypothesis strategies (verify/strategies.py) and the CLI's seeded sampler draw the
same raw numbers, so the tests and `run` check the same kind of instance.

>>> inst = build("R1", {"n": 2, "depth": 3, "spectrum": [0.5, 1.5, 0.1, 0.2, 0.3],
...                     "seed": 7, "noise": 0.1, "alpha": 0.5, "eta_fraction": 0.5, "steps": 10})
>>> inst["n"], inst["spectrum"], inst["steps"]
(2, [0.5, 1.5], 10)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping

import numpy as np

__all__ = [
    # specs
    "Param",
    "SPECS",
    # builders
    "BUILDERS",
    "build",
    "spec_for",
    "instance_spec",
    # the seeded sampler of the CLI
    "draw_raw",
    "sample_instances",
    "PROFILES",
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


SPECS: dict[str, tuple[Param, ...]] = {}
BUILDERS: dict[str, Callable[..., dict]] = {}

# instances per claim for `dmf-verify run`
PROFILES = {"quick": 3, "default": 10, "thorough": 40}


def instance_spec(claim_id: str, *params: Param):
    """Decorator: register the raw-number spec and the builder of a claim's instances."""

    def deco(fn):
        SPECS[claim_id] = tuple(params)
        BUILDERS[claim_id] = fn
        return fn

    return deco


def spec_for(claim_id: str) -> tuple[Param, ...]:
    if claim_id not in SPECS:
        raise ValueError(f"no instance spec for claim {claim_id!r}")
    return SPECS[claim_id]


def build(claim_id: str, raw: Mapping[str, object]) -> dict:
    """The admissible instance of ``claim_id`` made from the raw numbers ``raw``."""
    spec = spec_for(claim_id)
    missing = [p.name for p in spec if p.name not in raw]
    if missing:
        raise ValueError(f"raw draw for {claim_id} lacks {', '.join(missing)}")
    return BUILDERS[claim_id](**{p.name: raw[p.name] for p in spec})


def draw_raw(claim_id: str, rng: np.random.Generator) -> dict:
    """Draw the raw numbers of a claim's spec from a numpy Generator."""
    out: dict[str, object] = {}
    for p in spec_for(claim_id):
        if p.kind == "int":
            out[p.name] = int(rng.integers(int(p.lo), int(p.hi) + 1))
        elif p.kind == "float":
            out[p.name] = float(rng.uniform(p.lo, p.hi))
        elif p.kind == "logfloat":
            out[p.name] = float(np.exp(rng.uniform(np.log(p.lo), np.log(p.hi))))
        else:
            out[p.name] = [float(v) for v in rng.uniform(p.lo, p.hi, size=p.size)]
    return out


def sample_instances(claim_id: str, count: int, *, seed: int) -> list[dict]:
    """``count`` admissible instances of a claim, reproducible from ``seed``."""
    rng = np.random.default_rng([seed, sum(map(ord, claim_id))])
    return [build(claim_id, draw_raw(claim_id, rng)) for _ in range(count)]


# ---------------------------------------------------------------------------------------
# step sizes (floats are enough here: eta only has to be below its bound, and the
# checks re-evaluate every hypothesis at full precision)


def monotone_step(t: float, alpha: float, N: int) -> float:
    """The S1/P1 bound 1/(N max(t, alpha^N)^A)."""
    A = 2 - 2 / N
    return 1 / (N * max(t, alpha**N) ** A)


def positivity_step(neg: float, alpha: float, N: int) -> float:
    """The S3 bound: eta alpha^(N-2) (alpha^N + |t|) < 1 for the most negative target -|t|."""
    return 1 / (alpha ** (N - 2) * (alpha**N + neg))


# ---------------------------------------------------------------------------------------
# R1


@instance_spec(
    "R1",
    Param("n", "int", 1, 4),
    Param("depth", "int", 2, 5),
    Param("spectrum", "floats", 0.0, 2.0, size=4),
    Param("seed", "int", 0, 2**31 - 1),
    Param("noise", "float", 0.0, 0.3),
    Param("alpha", "float", 0.05, 1.0),
    Param("eta_fraction", "float", 0.05, 0.95),
    Param("steps", "int", 1, 60),
)
def _r1(*, n, depth, spectrum, seed, noise, alpha, eta_fraction, steps):
    n = min(n, 3) if depth >= 4 else n  # full-matrix GD cost grows like n^3 N per step
    spectrum = list(spectrum[:n])
    return {"n": n, "depth": depth, "spectrum": spectrum, "seed": seed, "noise": noise,
            "alpha": alpha, "eta_fraction": eta_fraction, "steps": steps}


# ---------------------------------------------------------------------------------------
# step budgets, by construction


def predicted_steps(t: float, level: float, alpha: float, eta: float, N: int) -> float:
    """The K2 bound rho(t) tau_t(alpha^N, level)/eta in floats (0 if nothing to learn)."""
    from bounds.flow import rho, tau_float

    if alpha**N >= level:
        return 0.0
    return float(rho(t, eta, N)) * tau_float(t, alpha**N, level, N) / eta


def alpha_floor(t: float, level: float, eta: float, N: int, *, budget: float,
                alpha_max: float) -> float:
    """Smallest alpha in (0, alpha_max] whose predicted steps to ``level`` fit ``budget``.

    The predicted steps decrease in alpha, so a bisection in log(alpha) finds it; instances
    then draw alpha from [alpha_floor, alpha_max] and stay inside the budget by construction.

    >>> a = alpha_floor(1.0, 0.9, 0.25, 3, budget=1000, alpha_max=0.5)
    >>> predicted_steps(1.0, 0.9, a, 0.25, 3) <= 1000 < predicted_steps(1.0, 0.9, 0.99 * a, 0.25, 3)
    True
    """
    import math

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
    import math

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
    import math

    if hi <= lo:
        return hi
    return math.exp(math.log(lo) + (math.log(hi) - math.log(lo)) * u)
