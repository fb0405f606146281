"""The check of each claim: predicted vs simulated, at a given precision.

Each function takes an instance dict (as built by verify.sampling) and the digits to use,
and returns an :class:`verify.checks.Outcome`. Registered by claim ID in verify.checks.
"""

from __future__ import annotations

import mpmath

from bounds.perturbed import p1_step_limit

from verify.checks import FAIL, PASS, UNDECIDED, Outcome, register
from verify.fullgd import reduction_mismatch
from verify.instances import observed, psd_target, random_perturbation

__all__ = ["r1_observed_matrix", "step_size_of"]


def _s(x, digits: int = 20) -> str:
    return mpmath.nstr(x, digits)


def r1_observed_matrix(inst, dps: int):
    """Y = W + E for an R1 instance: W PSD with the given spectrum, E random of norm `noise`."""
    target = psd_target(inst["spectrum"], seed=inst["seed"], dps=dps)
    E = random_perturbation(inst["n"], inst["noise"], seed=inst["seed"] + 1, dps=dps)
    return observed(target, E, dps=dps)


def step_size_of(inst, t, *, dps: int):
    """eta = eta_fraction * P1's step limit (step bound and S3 positivity) for Y's spectrum t."""
    with mpmath.workdps(dps):
        return mpmath.mpf(inst["eta_fraction"]) * p1_step_limit(t, inst["alpha"], inst["depth"])


@register("R1")
def check_r1(inst, dps: int) -> Outcome:
    """Full-matrix GD from alpha I equals Q diag(x_i(k)^N) Q^T with x_i the scalar maps.

    PASS: relative mismatch <= 10^-(dps-10); FAIL: > 10^-(dps/2) (a real difference does not
    shrink with precision); in between UNDECIDED (re-run at more digits).
    """
    obs = r1_observed_matrix(inst, dps)
    eta = step_size_of(inst, obs.t, dps=dps)
    with mpmath.workdps(dps):
        mism = reduction_mismatch(obs.Y, depth=inst["depth"], eta=eta, alpha=inst["alpha"],
                                  steps=inst["steps"], dps=dps)
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
