"""Tests of verify/checks/flow.py: the checks of S1, S2, S3, O1, K1, K2, K3.

1. Property tests: every admissible instance (verify/strategies.py, the same specs as
   `dmf-verify run`) gets PASS, with the edge cases pinned by @example.
2. Negative controls: with a hypothesis dropped (``require_hypotheses=False``) or a bound
   tightened by 2 % (``tighten=0.98``), each check returns FAIL on a concrete instance.
   Searches are small, deterministic grids; finding no failing instance fails the test.
3. Precision: an UNDECIDED outcome is never a PASS; ``check`` escalates the digits.
4. Bad input: NaN / depth 1 raise a ValueError naming the problem.

Instances on the exact boundary of their spec (eta at its bound, d at the top of K1's
range) are admissible and must PASS (``test_boundary_*``); bad input raises a ValueError
naming the instance field (``test_bad_input_*``).
"""


import mpmath
import pytest
from hypothesis import example, given, note

from verify.checks import DECIDED, FAIL, NOT_APPLICABLE, PASS, UNDECIDED, check
from verify.checks.flow import (
    k1_outcome,
    k2_outcome,
    k3_outcome,
    o1_outcome,
    s1_outcome,
    s3_outcome,
)
from verify.engine import simulate_reduced
from verify.specs import build
from verify.strategies import instances

from bounds.flow import s3_decreasing_step_bound

CLAIMS = ("S1", "S2", "S3", "O1", "K1", "K2", "K3")


def _assert_pass(claim, inst):
    out = check(claim, inst)
    note(repr(out.as_dict()))
    assert out.verdict == PASS, out.as_dict()
    assert out.verdict in DECIDED


# ---------------------------------------------------------------------------------------
# 1. property tests (one per claim)


@given(inst=instances("S1"))
@example(inst=build("S1", dict(depth=2, t=1.0, eta_fraction=0.5, alpha_position=0.5)))
@example(inst=build("S1", dict(depth=2, t=0.5, eta_fraction=1.0, alpha_position=0.0)))
@example(inst=build("S1", dict(depth=3, t=1.0, eta_fraction=1.0, alpha_position=1.0)))
@example(inst=build("S1", dict(depth=6, t=1.0, eta_fraction=1.0, alpha_position=0.0)))
@example(inst={"depth": 2, "t": 1.0, "eta_fraction": 1.0, "alpha": 1e-30})
def test_s1_passes_on_admissible_instances(inst):
    _assert_pass("S1", inst)


@given(inst=instances("S2"))
@example(inst=build("S2", dict(depth=2, t=1.0, regime=0, q_position=0.0, alpha_position=0.0)))
@example(inst=build("S2", dict(depth=2, t=1.0, regime=0, q_position=1.0, alpha_position=1.0)))
@example(inst=build("S2", dict(depth=2, t=1.0, regime=1, q_position=0.0, alpha_position=0.0)))
@example(inst=build("S2", dict(depth=6, t=2.0, regime=1, q_position=1.0, alpha_position=1.0)))
def test_s2_passes_on_admissible_instances(inst):
    _assert_pass("S2", inst)


@given(inst=instances("S3"))
# t = 0 exactly
@example(inst=build("S3", dict(depth=2, case=1, alpha=0.3, t_position=0.0, eta_fraction=0.95)))
@example(inst={"depth": 4, "t": 0.0, "alpha": 1.5, "eta_fraction": 0.95})
# negative t, most negative in the spec
@example(inst=build("S3", dict(depth=2, case=0, alpha=1.5, t_position=1.0, eta_fraction=0.95)))
@example(inst=build("S3", dict(depth=6, case=0, alpha=0.3, t_position=0.0, eta_fraction=0.3)))
@example(inst={"depth": 3, "t": -1e-12, "alpha": 0.5, "eta_fraction": 0.95})
# 0 < t < alpha^N
@example(inst=build("S3", dict(depth=2, case=2, alpha=1.5, t_position=1.0, eta_fraction=0.95)))
def test_s3_passes_on_admissible_instances(inst):
    _assert_pass("S3", inst)


@given(inst=instances("O1"))
# t' - t = 0.01 (t_position = 1)
@example(inst=build("O1", dict(depth=2, t_prime=1.0, t_position=1.0, alpha_position=1.0,
                               eta_fraction=0.9)))
@example(inst=build("O1", dict(depth=6, t_prime=0.2, t_position=1.0, alpha_position=0.0,
                               eta_fraction=0.5)))
@example(inst={"depth": 3, "t": 0.99, "t_prime": 1.0, "alpha": 0.5, "eta_fraction": 1.0})
# negative t with the positivity bound
@example(inst=build("O1", dict(depth=4, t_prime=2.0, t_position=0.0, alpha_position=1.0,
                               eta_fraction=0.9)))
def test_o1_passes_on_admissible_instances(inst):
    _assert_pass("O1", inst)


@given(inst=instances("K1"))
@example(inst=build("K1", dict(depth=2, t=1.0, eta_fraction=0.5, alpha_position=0.5,
                               d_position=0.5)))
@example(inst=build("K1", dict(depth=2, t=1.0, eta_fraction=1.0, alpha_position=0.0,
                               d_position=0.5)))
# alpha^N next to the level: alpha^N = level/2 and d = 1.02 alpha^N; and d = alpha^N (1 + 1e-9)
@example(inst=build("K1", dict(depth=2, t=1.0, eta_fraction=0.5, alpha_position=1.0,
                               d_position=0.0)))
@example(inst={"depth": 3, "t": 1.0, "eta_fraction": 0.5, "alpha": 0.5, "d": 0.125 * (1 + 1e-9)})
# d at the top of K1's range (representable below the exact level for t = 1, N = 2)
@example(inst=build("K1", dict(depth=2, t=1.0, eta_fraction=0.5, alpha_position=0.0,
                               d_position=1.0)))
@example(inst=build("K1", dict(depth=6, t=0.2, eta_fraction=0.05, alpha_position=0.0,
                               d_position=0.5)))
def test_k1_passes_on_admissible_instances(inst):
    _assert_pass("K1", inst)


@given(inst=instances("K2"))
@example(inst=build("K2", dict(depth=2, t=1.0, eta_fraction=0.5, alpha_position=0.5,
                               d_position=0.5)))
@example(inst=build("K2", dict(depth=2, t=1.0, eta_fraction=1.0, alpha_position=0.0,
                               d_position=1.0)))
@example(inst=build("K2", dict(depth=3, t=1.0, eta_fraction=1.0, alpha_position=1.0,
                               d_position=0.0)))
@example(inst={"depth": 3, "t": 1.0, "eta_fraction": 0.5, "alpha": 0.5, "d": 0.125 * (1 + 1e-9)})
@example(inst=build("K2", dict(depth=6, t=0.2, eta_fraction=0.05, alpha_position=0.0,
                               d_position=1.0)))
def test_k2_passes_on_admissible_instances(inst):
    _assert_pass("K2", inst)


@given(inst=instances("K3"))
@example(inst=build("K3", dict(depth=3, t=0.1, alpha=1e-6, d_position=0.0, eps=1e-8)))
@example(inst=build("K3", dict(depth=8, t=3.0, alpha=1e-6, d_position=1.0, eps=1e-8)))
@example(inst=build("K3", dict(depth=3, t=1.0, alpha=1e-6, d_position=0.5, eps=0.5)))
@example(inst=build("K3", dict(depth=4, t=1.0, alpha=0.9, d_position=0.5, eps=1e-8)))
@example(inst=build("K3", dict(depth=3, t=3.0, alpha=0.9, d_position=1.0, eps=0.5)))
def test_k3_passes_on_admissible_instances(inst):
    _assert_pass("K3", inst)


# ---------------------------------------------------------------------------------------
# the exact boundary of the specs: rounding must not make these inadmissible


def test_boundary_s1_eta_exactly_at_step_bound():
    inst = build("S1", dict(depth=6, t=0.26045403554983587, eta_fraction=1.0, alpha_position=0.5))
    assert check("S1", inst).verdict == PASS


def test_boundary_o1_eta_exactly_at_step_bound():
    inst = build("O1", dict(depth=5, t_prime=1.9458657437890385, t_position=0.9,
                            alpha_position=0.5, eta_fraction=1.0))
    assert check("O1", inst).verdict == PASS


def test_boundary_k1_level_at_top_of_range():
    inst = build("K1", dict(depth=3, t=1.0, eta_fraction=0.5, alpha_position=0.5, d_position=1.0))
    assert inst["d"] < 0.4  # float(2/5) > 2/5: the builder stays below the exact level
    assert check("K1", inst).verdict == PASS


# ---------------------------------------------------------------------------------------
# 2. negative controls


S1_BASE = {"depth": 3, "t": 1.0, "eta_fraction": 0.5, "alpha": 0.3}


@pytest.mark.parametrize("depth", [2, 3, 4])
@pytest.mark.parametrize("eta_fraction", [1.2, 1.5, 1.9])
def test_s1_control_overshoot_when_eta_between_one_and_two(depth, eta_fraction):
    # eta N t^A = eta_fraction in (1, 2): x^N overshoots t
    inst = dict(S1_BASE, depth=depth, eta_fraction=eta_fraction)
    assert check("S1", inst).verdict == NOT_APPLICABLE
    out = s1_outcome(inst, 50, require_hypotheses=False)
    assert out.verdict == FAIL, out.as_dict()
    assert "overshoot" in out.note


@pytest.mark.parametrize("depth", [2, 3, 4])
@pytest.mark.parametrize("eta_fraction", [2.5, 3.0])
def test_s1_control_no_monotone_convergence_when_eta_above_two(depth, eta_fraction):
    # eta N t^A > 2: the fixed point repels; the check catches it (first as x^N >= t)
    inst = dict(S1_BASE, depth=depth, eta_fraction=eta_fraction)
    out = s1_outcome(inst, 50, require_hypotheses=False)
    assert out.verdict == FAIL, out.as_dict()


@pytest.mark.parametrize("depth", [2, 3, 5])
def test_s1_control_alpha_above_target(depth):
    # alpha^N > t: x^N >= t already at step 0
    inst = dict(S1_BASE, depth=depth, alpha=1.1)
    assert check("S1", inst).verdict == NOT_APPLICABLE
    out = s1_outcome(inst, 50, require_hypotheses=False)
    assert out.verdict == FAIL, out.as_dict()
    assert out.observed["first_k_with_xN_ge_t"] == "0"


def test_k1_control_level_beyond_increasing_range():
    # d = 0.999 t > t(N-1)/(2N-1): tau_t(alpha^N, d) grows like ln(1/(t-d)) near t while the
    # discrete hitting time stays smaller (linear convergence at rate 1 - eta N t^A).
    found = []
    for depth in (2, 3, 4):
        for alpha in (0.1, 0.3):
            inst = {"depth": depth, "t": 1.0, "eta_fraction": 0.5, "alpha": alpha, "d": 0.999}
            assert check("K1", inst).verdict == NOT_APPLICABLE
            out = k1_outcome(inst, 50, require_hypotheses=False)
            if out.verdict == FAIL:
                found.append(out)
    assert found, "no K1 instance with d = 0.999 t fails"
    pinned = k1_outcome({"depth": 2, "t": 1.0, "eta_fraction": 0.5, "alpha": 0.1, "d": 0.999},
                        50, require_hypotheses=False)
    assert pinned.verdict == FAIL
    assert int(pinned.observed["K"]) < float(mpmath.mpf(pinned.predicted["lower"]))


@pytest.mark.parametrize("eta_fraction", [1.5, 1.9, 3.0])
def test_k1_step_bound_is_not_needed_so_no_negative_control_exists(eta_fraction):
    """K1 holds for every eta > 0: no instance with eta above the S1 bound can fail it.

    Proof: F(x) = int_alpha^x du/h_t(u) equals tau_t(alpha^N, x^N). Before the hitting
    step K every x_k lies in (0, d^(1/N)), where h_t > 0 is increasing (d <= t(N-1)/(2N-1)),
    so x_k increases and F(x_{k+1}) - F(x_k) <= (x_{k+1} - x_k)/h_t(x_k) = eta for k < K-1;
    the last step gives F(d^(1/N)) - F(x_{K-1}) <= (x_K - x_{K-1})/h_t(x_{K-1}) = eta.
    Summing, tau_t(alpha^N, d) <= K eta: the step-size hypothesis is never used. The
    requested control (eta_fraction ~ 1.9 -> FAIL) is therefore impossible; this test pins
    the opposite, so a check that FAILs here has a bug.
    """
    for depth in (2, 3, 4, 6):
        for alpha_position in (0.0, 1.0):
            for d_position in (0.0, 0.5, 0.99):
                inst = build("K1", dict(depth=depth, t=1.0, eta_fraction=1.0,
                                        alpha_position=alpha_position, d_position=d_position))
                inst["eta_fraction"] = eta_fraction
                out = k1_outcome(inst, 50, require_hypotheses=False)
                assert out.verdict == PASS, out.as_dict()


def _first_tightened_fail(claim, fn, grid):
    for raw in grid:
        inst = build(claim, raw)
        out = fn(inst, 50, tighten=0.98)
        if out.verdict == FAIL:
            return inst, out
    return None, None


_SMALL_ETA_GRID = [dict(depth=depth, t=1.0, eta_fraction=1e-3, alpha_position=ap, d_position=dp)
                   for depth in (2, 3, 4) for ap in (1.0, 0.5) for dp in (0.5, 0.0)]


def test_k1_control_tightened_lower_bound():
    # small eta: K ~ tau/eta (1 + O(eta)), so the bound raised by 2 % is violated
    inst, out = _first_tightened_fail("K1", k1_outcome, _SMALL_ETA_GRID)
    assert out is not None, "no K1 instance fails with the lower bound raised by 2 %"
    assert check("K1", inst).verdict == PASS
    assert int(out.observed["K"]) < mpmath.mpf(out.predicted["lower"])


def test_k2_control_tightened_upper_bound():
    inst, out = _first_tightened_fail("K2", k2_outcome, _SMALL_ETA_GRID)
    assert out is not None, "no K2 instance fails with the upper bound lowered by 2 %"
    assert check("K2", inst).verdict == PASS
    assert int(out.observed["K"]) - 1 >= mpmath.mpf(out.predicted["upper"])


def _k3_slacks(out):
    lo, hi = mpmath.mpf(out.predicted["lower"]), mpmath.mpf(out.predicted["upper"])
    tau_d, tau_e = mpmath.mpf(out.observed["tau_d"]), mpmath.mpf(out.observed["tau_eps"])
    return tau_d - lo, hi - tau_e  # negative = that side violated


_K3_GRID = [dict(depth=depth, t=1.0, alpha=alpha, d_position=dp, eps=eps)
            for depth in (3, 4) for alpha in (1e-6, 0.1) for eps in (1e-8, 1e-3)
            for dp in (0.0, 1.0)]


@pytest.mark.parametrize("side", ["lower", "upper"])
def test_k3_control_tightened_bound_each_side(side):
    # each side alone: the lower bound raised by 2 % fails while the upper holds, and back
    for raw in _K3_GRID:
        inst = build("K3", raw)
        out = k3_outcome(inst, 50, tighten=0.98)
        if out.verdict != FAIL:
            continue
        s_lo, s_hi = _k3_slacks(out)
        if (side == "lower" and s_lo < 0 < s_hi) or (side == "upper" and s_hi < 0 < s_lo):
            assert check("K3", inst).verdict == PASS
            return
    pytest.fail(f"no K3 instance fails with only the {side} bound tightened by 2 %")


def test_k3_control_tightened_tiny_alpha_and_eps():
    inst = build("K3", dict(depth=3, t=0.1, alpha=1e-6, d_position=0.0, eps=1e-8))
    assert check("K3", inst).verdict == PASS
    out = k3_outcome(inst, 50, tighten=0.98)
    assert out.verdict == FAIL, out.as_dict()
    assert all(s < 0 for s in _k3_slacks(out))  # both bounds are within 2 % here


def _s3_bound(inst):
    N, t, a = inst["depth"], inst["t"], inst["alpha"]
    if t <= 0:
        return 1 / (a ** (N - 2) * (a**N - t))
    return float(s3_decreasing_step_bound(t, a, N))


@pytest.mark.parametrize("case", [0, 1, 2], ids=["t<0", "t=0", "0<t<alpha^N"])
def test_s3_control_step_above_bound(case):
    # eta = 1.5 x (positivity bound for t <= 0, decreasing bound for 0 < t < alpha^N)
    found = None
    for depth in (2, 3, 4):
        for alpha in (1.0, 0.5):
            for t_position in (1.0, 0.5, 0.0):
                inst = build("S3", dict(depth=depth, case=case, alpha=alpha,
                                        t_position=t_position, eta_fraction=0.5))
                eta = 1.5 * _s3_bound(inst)
                assert s3_outcome(inst, 50, eta=eta).verdict == NOT_APPLICABLE
                out = s3_outcome(inst, 50, require_hypotheses=False, eta=eta)
                if out.verdict == FAIL:
                    found = (inst, out)
                    break
            if found:
                break
        if found:
            break
    assert found, f"no S3 instance (case {case}) fails at 1.5 x the step bound"
    inst, out = found
    assert check("S3", inst).verdict == PASS  # at its own admissible step


@pytest.mark.parametrize("t,t_prime", [(1.0, 0.5), (0.21, 0.2), (1.0, 0.99)])
@pytest.mark.parametrize("depth", [2, 4])
def test_o1_control_targets_in_wrong_order(depth, t, t_prime):
    inst = {"depth": depth, "t": t, "t_prime": t_prime, "alpha": 0.3, "eta_fraction": 0.5}
    assert check("O1", inst).verdict == NOT_APPLICABLE
    out = o1_outcome(inst, 50, require_hypotheses=False)
    assert out.verdict == FAIL, out.as_dict()
    assert out.slack < 0


# ---------------------------------------------------------------------------------------
# 3. precision escalation


def _level_on_trajectory(depth, t, eta_fraction, alpha, k, digits=60):
    """x_k^N at ``digits`` digits, as a decimal string (d right on the k-th iterate)."""
    with mpmath.workdps(digits + 10):
        eta = mpmath.mpf(eta_fraction) / (depth * mpmath.mpf(t) ** (2 - mpmath.mpf(2) / depth))
    run = simulate_reduced([t], depth=depth, alpha=alpha, eta=eta, dps=digits + 10,
                           checkpoints=[k], max_steps=k, stop_when_settled=False)
    with mpmath.workdps(digits + 10):
        return mpmath.nstr(run.checkpoints[k][0] ** depth, digits)


@pytest.mark.parametrize("claim,fn", [("K1", k1_outcome), ("K2", k2_outcome)])
@pytest.mark.parametrize("k", [5, 10])
def test_ambiguous_hitting_step_is_undecided_then_escalated(claim, fn, k):
    inst = {"depth": 3, "t": 1.0, "eta_fraction": 0.5, "alpha": 0.3}
    inst["d"] = _level_on_trajectory(3, 1.0, 0.5, 0.3, k)
    low = fn(inst, 16)
    assert low.verdict == UNDECIDED, low.as_dict()
    assert low.verdict != PASS
    # capped below the digits needed: still UNDECIDED, never reported as a pass
    capped = check(claim, inst, dps=16, max_dps=32)
    assert capped.verdict == UNDECIDED and capped.dps == 32
    out = check(claim, inst, dps=16)
    assert out.verdict in DECIDED, out.as_dict()
    assert out.dps > 16
    assert out.verdict == PASS
    assert int(out.observed["K"]) in (k, k + 1)


def test_float_level_on_trajectory_is_decided_at_32_digits():
    inst = {"depth": 3, "t": 1.0, "eta_fraction": 0.5, "alpha": 0.3}
    inst["d"] = float(mpmath.mpf(_level_on_trajectory(3, 1.0, 0.5, 0.3, 10)))
    assert k1_outcome(inst, 16).verdict == UNDECIDED
    out = check("K1", inst, dps=16)
    assert (out.verdict, out.dps) == (PASS, 32)


# ---------------------------------------------------------------------------------------
# 4. bad input


_FULL = {"depth": 3, "t": 1.0, "eta_fraction": 0.5, "alpha": 0.3, "d": 0.2, "q": 1.5,
         "t_prime": 1.0, "eps": 0.1}


def _bad(claim, **kw):
    inst = dict(_FULL, t=-0.5) if claim == "S3" else dict(_FULL)
    inst.update(kw)
    return inst


@pytest.mark.parametrize("claim", CLAIMS)
def test_bad_input_alpha_nan(claim):
    with pytest.raises(ValueError) as info:
        check(claim, _bad(claim, alpha=float("nan")))
    assert "alpha" in str(info.value) and "finite" in str(info.value), str(info.value)


@pytest.mark.parametrize("claim", CLAIMS)
@pytest.mark.parametrize("depth", [1, 0])
def test_bad_input_depth_below_two(claim, depth):
    with pytest.raises(ValueError, match=rf"'depth' must be an integer >= 2, got {depth}"):
        check(claim, _bad(claim, depth=depth))


@pytest.mark.parametrize("claim", CLAIMS)
def test_bad_input_non_integer_depth(claim):
    with pytest.raises(ValueError, match=r"'depth' must be an integer"):
        check(claim, _bad(claim, depth=2.5))


@pytest.mark.parametrize("claim", CLAIMS)
def test_bad_input_alpha_not_positive(claim):
    with pytest.raises(ValueError, match=r"'alpha' must be > 0"):
        check(claim, _bad(claim, alpha=-0.1))


def test_bad_input_s2_alpha_negative_named():
    with pytest.raises(ValueError) as info:
        check("S2", _bad("S2", alpha=-0.1))
    assert "alpha" in str(info.value), str(info.value)


def test_bad_input_s3_alpha_zero():
    with pytest.raises(ValueError, match="alpha"):
        check("S3", _bad("S3", alpha=0.0))


def test_bad_input_k3_eps_nan():
    with pytest.raises(ValueError, match="eps"):
        check("K3", _bad("K3", eps=float("nan")))


@pytest.mark.parametrize("claim,key", [("S1", "t"), ("K1", "d"), ("K2", "d"), ("K3", "d"),
                                       ("O1", "t_prime"), ("S3", "t")])
def test_bad_input_nan_parameter_named(claim, key):
    with pytest.raises(ValueError, match=rf"'{key}' must be a finite number"):
        check(claim, _bad(claim, **{key: float("nan")}))


def test_o1_outside_its_step_bound_gives_a_verdict_not_a_key_error(monkeypatch):
    # eta = 5 at t = -3 (far beyond S3's positivity bound): the t lane diverges within a few
    # steps; the steps before are compared (here x_2(t) > x_2(t'): FAIL), none is made up
    import mpmath

    import verify.checks.flow as fl

    monkeypatch.setattr(fl, "step_at_fraction", lambda frac, bound, ok: mpmath.mpf(5))
    out = fl.o1_outcome({"depth": 3, "t": -3.0, "t_prime": 1.0, "alpha": 0.9, "eta_fraction": 0.9},
                        50, require_hypotheses=False)
    assert out.verdict == "FAIL" and int(out.observed["steps_compared"]) < 1500
