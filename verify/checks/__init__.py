"""Claim x instance -> PASS / FAIL / UNDECIDED (or N/A), with slack and the precision used.

One module per family, mirroring bounds/: :mod:`verify.checks.reduction` (R1),
:mod:`verify.checks.flow` (S1-S3, O1, K1-K3), :mod:`verify.checks.lowrank` (L1-L3),
:mod:`verify.checks.perturbed` (P1-P5), :mod:`verify.checks.momentum` (M1); verdicts, comparisons and escalation in
:mod:`verify.checks.verdict`. Each family exports a ``CHECKS`` table; the registry below is
their union, complete on import of this package (no import-time registration). Every check
evaluates the claim's bounds and hypotheses through the claim's evaluators in bounds/.

>>> out = check("R1", {"n": 2, "depth": 2, "spectrum": [1.0, 0.5], "seed": 1, "noise": 0.0,
...                    "alpha": 0.5, "eta_fraction": 0.5, "steps": 5})
>>> out.verdict, out.dps
('PASS', 50)
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Callable, Mapping

from verify.checks.verdict import (
    DECIDED,
    FAIL,
    NOT_APPLICABLE,
    PASS,
    UNDECIDED,
    Outcome,
    compare_le,
    depth_of,
    escalate,
    evaluators,
    monotone_step_eta,
    param,
    rel_margin,
    step_at_fraction,
    worst_verdict,
)
from verify.checks import flow, lowrank, momentum, perturbed, reduction

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
    "evaluators",
    # the checker
    "CHECKS",
    "check",
    "escalate",
]

CheckFn = Callable[[Mapping[str, object], int], Outcome]

_CHECKS: dict[str, CheckFn] = {**reduction.CHECKS, **flow.CHECKS, **lowrank.CHECKS,
                                **perturbed.CHECKS, **momentum.CHECKS}
CHECKS: Mapping[str, CheckFn] = MappingProxyType(_CHECKS)


def check(claim_id: str, instance: Mapping[str, object], *, dps: int = 50,
          max_dps: int = 250) -> Outcome:
    """Run a claim's check with precision escalation (:func:`escalate`)."""
    if claim_id not in CHECKS:
        raise ValueError(f"no check for claim {claim_id!r}; known: {', '.join(CHECKS)}")
    return escalate(CHECKS[claim_id], instance, dps=dps, max_dps=max_dps)
