"""Tests of verify/checks/momentum.py: the check of claim M1 (heavy ball reaches every level
no later than gradient descent).

1. Property test: every admissible instance (verify/strategies.py, the spec `run` samples)
   gets PASS, edge cases pinned by @example; at beta = 0 the two hitting steps are equal.
2. Negative controls: with ``0 <= beta < 1`` dropped, beta < 0 makes the conclusion FAIL
   (found by a grid search, pinned); with the bound tightened (``tighten=0.98``: heavy ball
   must hit by floor(0.98 K_GD)) beta = 0 FAILs; Nesterov in place of heavy ball FAILs on the
   counterexample of docs/beyond.md. Dropping the step bound or beta < 1 does not make the
   conclusion fail: the proof (docs/theory.md#m1) does not use them, and a grid beyond both
   finds no failure (this test fails if one is found).
3. Precision: a level placed on a computed heavy-ball iterate is ambiguous at 50 digits and
   decided after escalation.
"""

import mpmath
import pytest
from hypothesis import example, given, note

from verify.checks import FAIL, NOT_APPLICABLE, PASS, UNDECIDED, check
from verify.checks.momentum import m1_outcome
from verify.checks.perturbed import run_check
from verify.momentum import scalar_trajectory
from verify.specs import build
from verify.strategies import instances


def _raw(depth=3, t=1.0, eta_fraction=0.5, alpha_position=0.5, beta=0.5, d_position=0.5):
    return build("M1", dict(depth=depth, t=t, eta_fraction=eta_fraction,
                            alpha_position=alpha_position, beta=beta, d_position=d_position))


# the Nesterov counterexample (docs/beyond.md): eta N t^A = 0.98, GD and heavy ball hit at 2
NESTEROV_CX = {"depth": 2, "t": 1.0, "eta_fraction": 0.98, "alpha": 0.87, "beta": 0.97,
               "d": 0.989}
# found by the grid of test_dropping_beta_nonnegative_is_caught (first failing instance)
NEGATIVE_BETA = {"depth": 2, "t": 1.0, "eta_fraction": 0.5, "alpha": 0.3, "beta": -0.1,
                 "d": 0.5}


# ---------------------------------------------------------------------------------------
# 1. property tests


@given(inst=instances("M1"))
@example(inst=_raw(beta=0.0))
@example(inst=_raw(beta=0.99))
@example(inst=_raw(beta=0.99, eta_fraction=1.0, alpha_position=0.0))
@example(inst=_raw(d_position=1.0))                                  # d near 0.999 t
@example(inst={"depth": 2, "t": 1.0, "eta_fraction": 0.5, "alpha": 0.3, "beta": 0.5,
               "d": 0.999999})                                        # d = t - 1e-6
@example(inst=_raw(depth=2, alpha_position=0.0, eta_fraction=0.05))
@example(inst=_raw(depth=6, alpha_position=0.0, eta_fraction=1.0))
@example(inst=NESTEROV_CX)
def test_m1_passes_on_admissible_instances(inst):
    out = check("M1", inst)
    note(repr(out.as_dict()))
    assert out.verdict == PASS, out.as_dict()
    assert int(out.observed["K_HB"]) <= int(out.observed["K_GD"])


@given(inst=instances("M1"))
@example(inst=_raw(depth=2, beta=0.0, alpha_position=0.0))
@example(inst=_raw(depth=6, beta=0.0, eta_fraction=1.0))
def test_beta_zero_gives_equal_hitting_times(inst):
    out = check("M1", {**inst, "beta": 0.0})
    assert out.verdict == PASS and out.observed["K_HB"] == out.observed["K_GD"], out


def test_momentum_is_strictly_earlier_somewhere():
    out = check("M1", _raw(beta=0.9, alpha_position=0.0))
    assert out.verdict == PASS and int(out.observed["K_HB"]) < int(out.observed["K_GD"]), out


# ---------------------------------------------------------------------------------------
# 2. negative controls


def test_dropping_beta_nonnegative_is_caught():
    found = None
    for beta in (-0.1, -0.5, -0.9):
        for d in (0.5, 0.9):
            inst = {**NEGATIVE_BETA, "beta": beta, "d": d}
            if run_check(m1_outcome, inst, require_hypotheses=False).verdict == FAIL:
                found = inst
                break
        if found:
            break
    assert found == NEGATIVE_BETA, found  # the pinned instance is the grid's first failure
    assert check("M1", found).verdict == NOT_APPLICABLE


def test_tightened_bound_fails_at_beta_zero():
    fails = [inst for inst in (_raw(beta=0.0, depth=N) for N in (2, 3, 6))
             if run_check(m1_outcome, inst, tighten=0.98).verdict == FAIL]
    assert fails, "no instance fails with K_GD lowered by 2 %"
    assert all(check("M1", inst).verdict == PASS for inst in fails)


def test_claim_does_not_extend_to_nesterov():
    out = run_check(m1_outcome, NESTEROV_CX, method="nesterov")
    assert out.verdict == FAIL and out.observed["K_GD"] == "2", out
    assert run_check(m1_outcome, NESTEROV_CX).verdict == PASS
    # Nesterov hits at step 3, decided at 50 digits
    with mpmath.workdps(50):
        xs = scalar_trajectory(1, depth=2, alpha="0.87", eta=mpmath.mpf(0.98) / 2, beta="0.97",
                               method="nesterov", steps=3)
        assert [x**2 >= mpmath.mpf(0.989) for x in xs] == [False, False, False, True]


@pytest.mark.parametrize("eta_fraction,beta", [(1.5, 0.5), (2.0, 0.9), (3.0, 0.0), (4.0, 0.5),
                                               (0.5, 1.0), (0.5, 1.5), (2.0, 2.5)])
def test_dropping_step_bound_or_beta_below_one_never_fails_as_proved(eta_fraction, beta):
    """Outside the step bound / beyond beta < 1 the conclusion still holds (docs/theory.md#m1,
    remark): a FAIL here would refute that argument or expose a defect of the check."""
    for N in (2, 3, 4):
        for alpha, d in ((0.3, 0.5), (0.1, 0.9), (0.6, 0.99)):
            inst = {"depth": N, "t": 1.0, "eta_fraction": eta_fraction, "alpha": alpha,
                    "beta": beta, "d": d}
            assert check("M1", inst).verdict == NOT_APPLICABLE
            out = run_check(m1_outcome, inst, require_hypotheses=False, max_dps=100)
            assert out.verdict in (PASS, UNDECIDED), out


# ---------------------------------------------------------------------------------------
# 3. precision


def test_level_on_a_computed_iterate_escalates_and_is_decided():
    # beta = 0: both engines meet the level on the same iterate, which is decided only at
    # more digits than the 60 the level carries (a decided later hit would not need them)
    with mpmath.workdps(120):
        xs = scalar_trajectory(1, depth=3, alpha=0.3, eta=mpmath.mpf(0.5) / 3, beta=0,
                               method="heavyball", steps=10)
        level = mpmath.nstr(xs[10] ** 3, 60)
    inst = {"depth": 3, "t": 1.0, "eta_fraction": 0.5, "alpha": 0.3, "beta": 0.0, "d": level}
    assert m1_outcome(inst, 50).verdict == UNDECIDED
    out = check("M1", inst)
    assert out.verdict == PASS and out.dps > 50, out
    assert out.observed["K_HB"] == out.observed["K_GD"] in ("10", "11"), out


def test_bad_input_names_the_field():
    with pytest.raises(ValueError, match="beta"):
        check("M1", {k: v for k, v in NESTEROV_CX.items() if k != "beta"})
    with pytest.raises(ValueError, match="depth"):
        check("M1", {**NESTEROV_CX, "depth": 1})
