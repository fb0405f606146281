"""Checks of L1, L2, L3: sampled instances pass, pinned edge cases pass, T0/T1 agree with a
naive mpmath loop, negative controls (hypotheses dropped, bounds tightened by 2%) are caught
as FAIL, bad input is refused with a ValueError naming the field.

Defects found while writing these tests (an infinite or exactly-zero LB1 argument compared
inside a margin, builders putting theta a rounding unit below alpha^N or theta' below alpha^N)
are fixed; the tests that pinned them now assert the fixed behaviour.
"""

import mpmath
import pytest
from hypothesis import example, given

from bounds.flow import A
from bounds.lowrank import l3_ratio_threshold, l3_sufficient, spectral_condition
from verify.checks import FAIL, NOT_APPLICABLE, PASS, check
from verify.checks.lowrank import (
    interval_bounds,
    l1_outcome,
    l2_outcome,
    l3_outcome,
    observe_interval,
)
from verify.specs import build
from verify.strategies import instances


def _inst(**kw):
    base = {"depth": 3, "spectrum": [1.0, 0.3], "r": 1, "eps": 0.1, "theta": 0.05,
            "alpha": 0.1, "eta_fraction": 0.5}
    base.update(kw)
    return base


def _reals(inst, dps=50):
    """(N, s, r, eps, theta, alpha, eta) at the current precision, eta = fraction/(N s_1^A)
    computed here (independently of the check)."""
    N = inst["depth"]
    s = [mpmath.mpf(v) for v in inst["spectrum"]]
    eps, theta, alpha = (mpmath.mpf(inst[k]) for k in ("eps", "theta", "alpha"))
    eta = mpmath.mpf(inst["eta_fraction"]) / (N * s[0] ** A(N))
    return N, s, inst["r"], eps, theta, alpha, eta


# ---------------------------------------------------------------------------------------
# pinned edge cases

DEPTH2 = _inst(depth=2, spectrum=[1.0, 0.2, 0.05], theta=0.02, alpha=0.01)
EPS_TINY = _inst(spectrum=[1.0, 0.2], eps=1e-4)
ZERO_IN_TAIL = _inst(spectrum=[1.0, 0.3, 0.0])
# s_{r+1} = 0: x_{r+1} decreases, theta >= s_{r+1} (LB1 infinite)
ZERO_NEXT = _inst(depth=4, spectrum=[1.0, 0.5, 0.0], r=2, theta=0.01, alpha=0.2)
# theta >= s_{r+1}: LB1 = infinity
THETA_ABOVE_NEXT = _inst(theta=0.45)
# theta = alpha^N exactly in binary (0.25^2 = 0.0625): x_{r+1}(0)^N = theta is not > theta,
# x_{r+1}(1)^N > theta, so T1 = 0 (the step-0 tie must be decided exactly)
THETA_IS_ALPHA_N = _inst(depth=2, theta=0.0625, alpha=0.25)
# eta at the S1 bound; s_1 = 50/97 with N = 3 makes fraction/(N s_1^A) round one unit above
# the bound at 50 digits when computed naively
ETA_AT_BOUND = _inst(spectrum=[50 / 97, 0.1], theta=0.02, eta_fraction=1.0)
ETA_AT_BOUND_5 = _inst(depth=5, spectrum=[1.3, 0.2], alpha=0.3, eta_fraction=1.0)
RANK_N_MINUS_1 = _inst(spectrum=[1.0, 0.8, 0.5, 0.1], r=3, theta=0.02)

L_EDGES = [DEPTH2, EPS_TINY, ZERO_IN_TAIL, ZERO_NEXT, THETA_ABOVE_NEXT, THETA_IS_ALPHA_N,
           ETA_AT_BOUND, ETA_AT_BOUND_5, RANK_N_MINUS_1]


# ---------------------------------------------------------------------------------------
# sampled instances pass


@given(instances("L1"))
@example(DEPTH2)
@example(EPS_TINY)
@example(ZERO_IN_TAIL)
@example(ZERO_NEXT)
@example(THETA_ABOVE_NEXT)
@example(THETA_IS_ALPHA_N)
@example(ETA_AT_BOUND)
@example(ETA_AT_BOUND_5)
@example(RANK_N_MINUS_1)
def test_l1_passes(inst):
    out = check("L1", inst)
    assert out.verdict == PASS, out


@given(instances("L2"))
@example(DEPTH2)
@example(EPS_TINY)
@example(ZERO_IN_TAIL)
@example(ZERO_NEXT)
@example(THETA_ABOVE_NEXT)
@example(THETA_IS_ALPHA_N)
@example(ETA_AT_BOUND)
@example(ETA_AT_BOUND_5)
@example(RANK_N_MINUS_1)
def test_l2_never_fails(inst):
    """N/A is legitimate when the observed interval is empty (e.g. THETA_IS_ALPHA_N)."""
    out = check("L2", inst)
    assert out.verdict in (PASS, NOT_APPLICABLE), out
    if out.verdict == NOT_APPLICABLE:
        assert "empty" in out.note, out


@pytest.mark.parametrize("inst", [DEPTH2, EPS_TINY, ZERO_IN_TAIL, ZERO_NEXT, THETA_ABOVE_NEXT,
                                  ETA_AT_BOUND, ETA_AT_BOUND_5, RANK_N_MINUS_1])
def test_l2_passes_on_pinned_nonempty_intervals(inst):
    out = check("L2", inst)
    assert out.verdict == PASS, out
    assert 0 < out.ratio <= 1


@given(instances("L3"))
def test_l3_passes_where_the_ratio_condition_holds(inst):
    """The builder places s_1/s_2 around the critical ratio of L1's condition, not around the
    L3 threshold, so some instances fall below the threshold (N/A by the ratio condition)."""
    out = check("L3", inst)
    assert out.verdict in (PASS, NOT_APPLICABLE), out
    if out.verdict == NOT_APPLICABLE:
        assert out.note == "ratio condition false", out


def test_l3_sampled_instances_straddle_the_critical_ratio():
    """Below the critical ratio c* (factor 0.8 x 5^margin < 1) L1's condition fails, above it
    it holds; most sampled instances clear the L3 threshold."""
    from verify.sampling import sample_instances

    insts = sample_instances("L3", 20, seed=0)
    verdicts = [check("L3", inst).verdict for inst in insts]
    assert verdicts.count(PASS) >= 12 and FAIL not in verdicts, verdicts
    with mpmath.workdps(30):
        conds = []
        for inst in insts:
            N, s = inst["depth"], inst["spectrum"]
            eta = inst["eta_fraction"] / (N * s[0] ** (2 - 2 / N))
            conds.append(spectral_condition(s, 1, inst["eps"], inst["theta"], inst["alpha"], eta, N))
    assert True in conds and False in conds


def test_theta_equal_to_alpha_n_gives_t1_zero():
    out = check("L1", THETA_IS_ALPHA_N)
    assert out.verdict == PASS, out
    assert out.observed["T1"] == "0"
    assert out.predicted["LB1"] == "-1"


@pytest.mark.parametrize("inst", [ZERO_NEXT, THETA_ABOVE_NEXT])
def test_lb1_infinite_when_theta_at_least_next(inst):
    out = check("L1", inst)
    assert out.verdict == PASS, out
    assert out.predicted["LB1"] == "inf"
    assert out.observed["T1"].startswith(">=")


@pytest.mark.parametrize("inst", [ETA_AT_BOUND, ETA_AT_BOUND_5])
def test_eta_at_s1_bound_is_admissible(inst):
    """eta_fraction = 1 satisfies eta N s_1^A <= 1 exactly; rounding must not make it N/A."""
    for cid in ("L1", "L2"):
        assert check(cid, inst).verdict == PASS


# ---------------------------------------------------------------------------------------
# T0/T1 against a naive loop


def _naive_interval(N, s, r, eps, theta, alpha, eta, max_steps):
    """Plain x <- x + eta x^(N-1)(t - x^N) on lanes 0..r; (T0, T1) or None if not reached."""
    xs = [alpha] * (r + 1)
    first = [None] * (r + 1)
    for k in range(max_steps + 1):
        for i in range(r):
            if first[i] is None and xs[i] ** N >= (1 - eps) * s[i]:
                first[i] = k
        if first[r] is None and xs[r] ** N > theta:
            first[r] = k
        if all(f is not None for f in first):
            break
        xs = [x + eta * x ** (N - 1) * (s[i] - x**N) for i, x in enumerate(xs)]
    T0 = None if any(f is None for f in first[:r]) else max(first[:r])
    T1 = None if first[r] is None else first[r] - 1
    return T0, T1


@pytest.mark.parametrize("inst", [DEPTH2, EPS_TINY, ZERO_IN_TAIL, RANK_N_MINUS_1,
                                  THETA_IS_ALPHA_N, _inst(depth=4, alpha=0.3, eps=0.01)])
def test_observe_interval_matches_naive_loop(inst):
    max_steps = 3000
    with mpmath.workdps(50):
        args = _reals(inst)
        obs = observe_interval(*args, dps=50, max_steps=max_steps)
        naive = _naive_interval(*args, max_steps)
    assert not obs.ambiguous
    assert naive[0] is not None and naive[1] is not None, "pick instances decided in the run"
    assert (obs.T0, obs.T1) == naive
    assert obs.hit_next == naive[1] + 1


# ---------------------------------------------------------------------------------------
# negative controls


# eta N s_1^A = 2.5 (N = 2): lane 2 (eta N s_2^A = 2.25 > 2) overshoots its fixed point
# s_2 = 0.9 and passes theta = 0.95 at step 4, although LB1 = infinity (theta >= s_2).
STEP_DROPPED = _inst(depth=2, spectrum=[1.0, 0.9], theta=0.95, eta_fraction=2.5)
# theta < alpha^N = 0.04 with theta >= s_2: x_2(0)^N > theta, T1 = -1, LB1 = infinity
THETA_BELOW_ALPHA_N = _inst(depth=2, spectrum=[1.0, 0.01], theta=0.02, alpha=0.2)
# theta < alpha^N with theta < s_2: T1 = -1 and LB1 = ceil(0) - 1 = -1 (no violation)
THETA_BELOW_ALPHA_N_FINITE = _inst(depth=2, theta=0.005, alpha=0.1)


def test_step_dropped_really_violates_t1_bound():
    """The instance of the control below does break the claim (independently of verdicts)."""
    with mpmath.workdps(50):
        args = _reals(STEP_DROPPED)
        B, L = interval_bounds(*args)
        obs = observe_interval(*args, dps=50, max_steps=100)
    assert L == mpmath.inf
    assert obs.T1 is not None and obs.T1 < 10 and not obs.ambiguous


def _search_step_dropped_fail():
    """Small deterministic search: eta_fraction 2.5 without the step hypothesis."""
    found = []
    for N in (2, 3):
        for s2 in (0.9, 0.8):
            for theta_over in (1.02, 1.05, 1.1):
                inst = _inst(depth=N, spectrum=[1.0, s2], theta=s2 * theta_over, alpha=0.1,
                             eta_fraction=2.5)
                out = l1_outcome(inst, 50, require_hypotheses=False)
                if out.verdict == FAIL:
                    found.append(out)
    return found


def test_l1_step_hypothesis_dropped_fails():
    out = l1_outcome(STEP_DROPPED, 50, require_hypotheses=False)
    assert out.verdict == FAIL, out
    assert _search_step_dropped_fail(), "no FAIL found with eta_fraction 2.5"


def test_l1_step_hypothesis_dropped_is_not_passed():
    """The violated instance is never reported as a pass."""
    out = l1_outcome(STEP_DROPPED, 50, require_hypotheses=False)
    assert out.verdict != PASS, out


def test_l1_theta_below_alpha_n_fails():
    out = l1_outcome(THETA_BELOW_ALPHA_N, 50, require_hypotheses=False)
    assert out.observed["T1"] == "-1"
    assert out.verdict == FAIL, out


def test_l1_theta_below_alpha_n_finite_lb1_is_decided():
    out = l1_outcome(THETA_BELOW_ALPHA_N_FINITE, 50, require_hypotheses=False)
    assert out.observed["T1"] == "-1" and out.predicted["LB1"] == "-1"
    assert out.verdict == PASS, out


# Tight instances: small eta (rho ~ 1, T0 ~ UB0 and T1 + 1 ~ L up to O(eta)).
# T0 side alone (LB1 = inf since theta >= s_2): T0 = 1142 > ceil(0.98 B) = 1124.
TIGHT_T0 = _inst(depth=2, theta=0.5, alpha=0.01, eta_fraction=1e-2)
# T1 side alone: T0 = 61 <= ceil(0.98 B) = 80 but T1 = 151 < ceil(L/0.98) - 1 = 153.
TIGHT_T1 = _inst(theta=0.05, alpha=0.1, eta_fraction=0.5)
# both: theta just below the inflection level s_2 (N-1)/(2N-1) = 0.1667
TIGHT_BOTH = _inst(depth=2, spectrum=[1.0, 0.5], theta=0.16, alpha=0.05**0.5,
                   eta_fraction=1e-3)


@pytest.mark.parametrize("inst", [TIGHT_T0, TIGHT_T1, TIGHT_BOTH])
def test_l1_tightened_by_two_percent_fails(inst):
    assert check("L1", inst).verdict == PASS  # the untightened bound holds
    out = l1_outcome(inst, 50, tighten=0.98)
    assert out.verdict == FAIL, out


def test_l1_tightened_fails_on_the_expected_side():
    t0 = l1_outcome(TIGHT_T0, 50, tighten=0.98)
    assert int(t0.observed["T0"]) > int(t0.predicted["UB0"]) and t0.predicted["LB1"] == "inf"
    t1 = l1_outcome(TIGHT_T1, 50, tighten=0.98)
    assert int(t1.observed["T0"]) <= int(t1.predicted["UB0"])
    assert int(t1.observed["T1"]) < int(t1.predicted["LB1"])


# eps s_1 = 0.1 >= theta = 0.05: at T0 the error s_1 - x_1^N is just below eps s_1
L2_TIGHT = [_inst(depth=2, alpha=0.01, eta_fraction=1e-2),
            _inst(eta_fraction=1e-2)]


@pytest.mark.parametrize("inst", L2_TIGHT)
def test_l2_tightened_by_two_percent_fails(inst):
    base = check("L2", inst)
    assert base.verdict == PASS and base.ratio > 0.98, base
    out = l2_outcome(inst, 50, tighten=0.98)
    assert out.verdict == FAIL, out


def _l3_instance(factor, *, N=4, alpha=0.01, eta_fraction=0.5, eps=0.1, theta_frac=0.5):
    """Rank one, theta = theta_frac s_2, s_1/s_2 = factor * l3_ratio_threshold (fixed point
    in s_2: the threshold depends on s_2 through theta')."""
    s1, s2 = 1.0, 0.25
    eta = eta_fraction / (N * s1 ** (2 - 2 / N))
    with mpmath.workdps(30):
        for _ in range(30):
            R = float(l3_ratio_threshold([s1, s2], 1, eps, theta_frac * s2, alpha, eta, N))
            s2 = s1 / (R * factor)
    return _inst(depth=N, spectrum=[s1, s2], eps=eps, theta=theta_frac * s2, alpha=alpha,
                 eta_fraction=eta_fraction)


def test_l3_ratio_condition_is_not_vacuous():
    below, above = _l3_instance(0.999), _l3_instance(1.001)
    with mpmath.workdps(50):
        args_below = _reals(below)
        N, s, r, eps, theta, alpha, eta = args_below
        R = l3_ratio_threshold(s, r, eps, theta, alpha, eta, N)
        assert 0.998 < s[0] / s[1] / R < 1  # just below the threshold
        assert not l3_sufficient(*args_below[1:], N)
        assert not spectral_condition(*args_below[1:], N)  # and the condition really fails
        args_above = _reals(above)
        assert l3_sufficient(*args_above[1:], N)
        assert spectral_condition(*args_above[1:], N)
    assert l3_outcome(below, 50).verdict == NOT_APPLICABLE
    out = check("L3", above)
    assert out.verdict == PASS, out


# ---------------------------------------------------------------------------------------
# builders at the edges of their specs stay admissible


def test_builder_theta_at_alpha_n_is_admissible():
    bad = []
    for depth in (2, 3, 4, 5):
        for alpha_position in (0.0, 0.1, 0.3, 0.5, 0.7, 0.9):
            raw = {"depth": depth, "n": 3, "r_position": 0.0, "shape": [0.5] * 5, "gap": 1.0,
                   "top": 1.0, "eps": 0.1, "theta_mode": 1, "theta_position": 0.0,
                   "alpha_position": alpha_position, "eta_fraction": 0.5}
            inst = build("L1", raw)
            if check("L1", inst).verdict != PASS:
                bad.append(inst)
    assert not bad, bad


def test_l3_builder_instance_is_admissible():
    raw = {"depth": 2, "top": 1.0, "eps": 0.1353352832366127, "alpha_position": 1.0,
           "theta_position": 1.0, "margin": 1.0, "eta_fraction": 1.0}
    out = check("L3", build("L3", raw))
    assert out.verdict == PASS, out


def test_l3_builder_below_critical_ratio_is_not_applicable():
    """margin 0 puts s_1/s_2 at 0.8 c*: L1's condition fails there, so a sound threshold
    must not hold (N/A); a threshold that did hold would make the check FAIL."""
    raw = {"depth": 2, "top": 1.0, "eps": 0.1353352832366127, "alpha_position": 1.0,
           "theta_position": 1.0, "margin": 0.0, "eta_fraction": 1.0}
    inst = build("L3", raw)
    out = check("L3", inst)
    assert out.verdict == NOT_APPLICABLE and out.note == "ratio condition false", out


def test_l1_runs_at_the_precision_cap():
    """check() escalates up to max_dps = 250 digits; the checks must run there."""
    for inst in (DEPTH2, ZERO_NEXT):
        assert l1_outcome(inst, 250).verdict == PASS
        assert l2_outcome(inst, 250).verdict == PASS


# ---------------------------------------------------------------------------------------
# bad input


@pytest.mark.parametrize("cid", ["L1", "L2", "L3"])
@pytest.mark.parametrize("field, value, match", [
    ("alpha", float("nan"), "alpha"),
    ("alpha", "nan", "alpha"),
    ("r", 0, r"\br\b|'r'"),
    ("r", 2, r"\br\b|'r'"),
])
def test_bad_input_is_refused(cid, field, value, match):
    with pytest.raises(ValueError, match=match):
        check(cid, _inst(**{field: value}))


@pytest.mark.parametrize("field, value, match", [
    ("alpha", float("nan"), "alpha"),
    ("r", 0, r"\br\b|'r'"),
    ("r", 2, r"\br\b|'r'"),
])
def test_bad_input_is_refused_without_hypotheses(field, value, match):
    """The negative-control path (require_hypotheses=False) validates input too."""
    with pytest.raises(ValueError, match=match):
        l1_outcome(_inst(**{field: value}), 50, require_hypotheses=False)

