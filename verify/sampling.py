"""The seeded sampler of `dmf-verify run`: raw numbers drawn with numpy from each claim's
spec (verify.specs), built into admissible instances. Hypothesis strategies
(verify/strategies.py) draw the same raw numbers, so the tests and `run` check the same
kind of instance.

>>> sample_instances("K1", 2, seed=0) == sample_instances("K1", 2, seed=0)
True
"""

from __future__ import annotations

import numpy as np

from verify.specs import build, spec_for

__all__ = [
    "draw_raw",
    "sample_instances",
    "PROFILES",
]

# instances per claim for `dmf-verify run`
PROFILES = {"quick": 3, "default": 10, "thorough": 40}


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
