"""Check of claim M1 (heavy ball reaches every level no later than gradient descent; spec:
verify.specs.momentum).

K_GD(d) comes from the gradient-descent engine (verify.engine.simulate_reduced), K_HB(d)
from the heavy-ball engine (verify.momentum.hitting_time_hp), both at the check's digits;
a hitting step that is ambiguous at that precision makes the outcome UNDECIDED, and
:func:`verify.checks.verdict.escalate` reruns it at twice the digits. The hypotheses and
the step size come from the claim's evaluators (bounds/momentum.py, bounds/flow.py).

The switches of the negative controls: ``require_hypotheses=False`` evaluates the
conclusion where a hypothesis fails (beta < 0, beta >= 1, eta above the step bound, ...);
``tighten`` scales the bound K_GD (0.98: heavy ball must hit by step floor(0.98 K_GD),
which fails at beta = 0, where K_HB = K_GD); ``method="nesterov"`` runs Nesterov's
recursion in place of heavy ball (the claim is false for it: tests/test_checks_momentum.py).
"""

from __future__ import annotations

import math

import mpmath

from verify.checks.verdict import (
    FAIL,
    NOT_APPLICABLE,
    PASS,
    UNDECIDED,
    Outcome,
    depth_of,
    evaluators,
    monotone_step_eta,
    param,
)
from verify.engine import Event, simulate_reduced
from verify.specs.momentum import BUDGET
from verify.specs.params import predicted_steps

__all__ = ["CHECKS", "m1_outcome"]


def _gd_cap(t, d, alpha, eta, N) -> int:
    """Steps for gradient descent to reach d: the spec's placement estimate (it dominates
    K2's ceil(rho tau/eta), so K_GD <= the estimate under the hypotheses) with room; 8x the
    spec's budget where the estimate is not finite (outside the hypotheses)."""
    try:
        est = predicted_steps(float(t), float(d), float(alpha), float(eta), N)
    except (ValueError, ZeroDivisionError, OverflowError):
        est = math.inf
    if not math.isfinite(est) or est > 8 * BUDGET:
        return 8 * BUDGET
    return int(1.01 * est) + 10


def m1_outcome(inst, dps, *, require_hypotheses=True, tighten=1, method="heavyball") -> Outcome:
    """K_HB(d) <= K_GD(d) (with ``tighten``: K_HB(d) <= tighten K_GD(d)).

    >>> m1_outcome({"depth": 3, "t": 1.0, "eta_fraction": 0.5, "alpha": 0.3, "beta": 0.0,
    ...             "d": 0.9}, 50).observed
    {'K_HB': '20', 'K_GD': '20'}
    """
    from verify.momentum import hitting_time_hp

    with mpmath.workdps(dps):
        N, t = depth_of(inst), param(inst, "t", gt=0)
        alpha, d, beta = param(inst, "alpha", gt=0), param(inst, "d", gt=0), param(inst, "beta")
        ev = evaluators("M1")
        eta = monotone_step_eta("M1", param(inst, "eta_fraction", gt=0), t, N)
        if require_hypotheses and not ev["m1_level_hypotheses"](t, d, alpha, eta, beta, N):
            return Outcome("M1", NOT_APPLICABLE, None, dps, dict(inst),
                           note="hypothesis false: S1, 0 <= beta < 1 and alpha^N < d < t")
        cap = _gd_cap(t, d, alpha, eta, N)
        gd = simulate_reduced([t], depth=N, alpha=alpha, eta=eta, dps=dps, events=[Event(0, d)],
                              max_steps=cap).hits[0]
        if gd.ambiguous:
            return Outcome("M1", UNDECIDED, None, dps, dict(inst),
                           note="gradient descent's hitting step ambiguous")
        if gd.step is None:
            return Outcome("M1", UNDECIDED, None, dps, dict(inst),
                           note=f"gradient descent did not reach d within {cap} steps")
        bound = mpmath.mpf(tighten) * gd.step
        last = int(mpmath.floor(bound))
        hb = hitting_time_hp(t, d, depth=N, alpha=alpha, eta=eta, beta=beta, method=method,
                             max_steps=max(last, 0), dps=dps)
        observed = {"K_HB": str(hb.step) if hb.step is not None else f"> {last}",
                    "K_GD": str(gd.step)}
        # slack: (floor(bound) + 1 - K_HB)/K_GD, the relative distance from failing (the
        # comparison of integers fails at K_HB = floor(bound) + 1), as K2's (B - (K-1))/B
        if last >= 0 and hb.step is not None:  # a decided hit by step floor(bound): holds
            return Outcome("M1", PASS, (last + 1 - hb.step) / gd.step, dps, dict(inst),
                           observed=observed, ratio=hb.step / gd.step)
        if hb.ambiguous:
            return Outcome("M1", UNDECIDED, None, dps, dict(inst), observed=observed,
                           note="heavy ball's hitting step ambiguous")
        note = "diverged" if hb.diverged else f"no hit by step {last}"
        return Outcome("M1", FAIL, -1 / gd.step, dps, dict(inst),
                       observed=observed, note=f"{method}: {note} (K_GD = {gd.step})")


CHECKS = {"M1": lambda inst, dps: m1_outcome(inst, dps)}
