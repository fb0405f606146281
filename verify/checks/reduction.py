"""Check of R1 (spec: verify.specs.reduction): full-matrix GD against the reduced dynamics,
whose scalar map is the claim's ``phi`` evaluator."""

from __future__ import annotations

import mpmath

from bounds.perturbed import p1_step_limit
from verify.checks.verdict import FAIL, PASS, UNDECIDED, Outcome, evaluators
from verify.fullgd import reduction_mismatch
from verify.problems import r1_observed_matrix

__all__ = ["CHECKS", "check_r1", "r1_observed_matrix", "step_size_of"]


def _s(x, digits: int = 20) -> str:
    return mpmath.nstr(x, digits)


def step_size_of(inst, t, *, dps: int):
    """eta = eta_fraction * P1's step limit (step bound and S3 positivity) for Y's spectrum t."""
    with mpmath.workdps(dps):
        # eta only picks the instance (R1 holds for every eta): not an evaluator of the claim
        limit = p1_step_limit(t, inst["alpha"], inst["depth"])
        return mpmath.mpf(inst["eta_fraction"]) * limit


def check_r1(inst, dps: int) -> Outcome:
    """Full-matrix GD from alpha I equals Q diag(x_i(k)^N) Q^T with x_i the scalar maps.

    PASS: relative mismatch <= 10^-(dps-10); FAIL: > 10^-(dps/2) (a real difference does not
    shrink with precision); in between UNDECIDED (re-run at more digits).
    """
    obs = r1_observed_matrix(inst, dps)
    eta = step_size_of(inst, obs.t, dps=dps)
    with mpmath.workdps(dps):
        mism = reduction_mismatch(obs.Y, depth=inst["depth"], eta=eta, alpha=inst["alpha"],
                                  steps=inst["steps"], dps=dps, step=evaluators("R1")["phi"])
        tol = mpmath.mpf(10) ** -(dps - 10)
        fail_at = mpmath.mpf(10) ** -(dps // 2)
        verdict = PASS if mism <= tol else FAIL if mism > fail_at else UNDECIDED
        slack = float(1 - mism / tol) if mpmath.isfinite(mism) else -float("inf")
        return Outcome(
            claim="R1", verdict=verdict, slack=slack, dps=dps, instance=dict(inst),
            observed={"mismatch": _s(mism, 5)},
            predicted={"mismatch_at_most": _s(tol, 3)},
            note="" if verdict == PASS else f"full GD differs from the reduced dynamics by {_s(mism, 5)}",
        )


CHECKS = {"R1": check_r1}
