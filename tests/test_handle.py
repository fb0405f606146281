"""verify.handle.Simulation: both modes agree with the engines they wrap, the ball mode
encloses the estimate, eta is read as each spec defines it, and bad input is named."""

import math

import mpmath
import pytest
from flint import arb, ctx as flint_ctx
from hypothesis import given, settings

from verify.checks import check
from verify.handle import Simulation, Undecided
from verify.strategies import instances


@settings(max_examples=15, deadline=None)
@given(instances("K2"))
def test_hitting_times_of_both_modes_are_the_k2_checks(inst):
    est = Simulation(inst, dps=50, spec="K2")
    ball = Simulation(inst, mode="ball", prec=128, spec="K2")
    K = est.hitting_time()
    assert ball.hitting_time() == K
    assert check("K2", inst).observed["K"] == str(K)  # the built-in check's hitting step
    with mpmath.workdps(50):
        assert est.power(K) >= est.d > est.power(K - 1)
    assert ball.power(K) >= ball.d and ball.power(K - 1) < ball.d


@settings(max_examples=10, deadline=None)
@given(instances("S1"))
def test_ball_iterates_enclose_a_high_precision_run(inst):
    ball = Simulation(inst, mode="ball", prec=200)
    ref = Simulation(inst, dps=120)
    for k in (0, 1, 7, 50):
        b, x = ball.x(k), ref.x(k)
        with flint_ctx.workprec(300):
            near = arb(mpmath.nstr(x, 100), abs(float(x)) * 1e-90)
        assert b.overlaps(near), (k, b, x)
        assert float(b.rad()) <= abs(float(x)) * 1e-50


def test_eta_is_read_as_each_spec_defines_it():
    from bounds.flow import monotone_step_bound, s3_positivity_step_bound

    base = {"depth": 3, "t": 1.5, "alpha": 0.2}
    with mpmath.workdps(40):
        bound = monotone_step_bound(mpmath.mpf(1.5), 3)
        assert abs(Simulation({**base, "eta_fraction": 0.5}, dps=40).eta - bound / 2) < 1e-38
        assert abs(Simulation({**base, "q": 1.5}, dps=40, spec="S2").eta - 1.5 * bound) < 1e-38
        neg = {"depth": 3, "t": -0.5, "alpha": 0.8, "eta_fraction": 0.9}
        want = 0.9 * s3_positivity_step_bound(mpmath.mpf(-0.5), mpmath.mpf(0.8), 3)
        assert abs(Simulation(neg, dps=40, spec="S3").eta - want) < 1e-38
        assert Simulation({**base, "eta": "0.1"}, dps=40).eta == mpmath.mpf("0.1")
    # the balls contain the estimates
    for inst, spec in (({**base, "eta_fraction": 0.5}, None), ({**base, "q": 1.5}, "S2"),
                       (neg, "S3"), ({**base, "eta": "0.1"}, None)):
        e = Simulation(inst, dps=60, spec=spec).eta
        b = Simulation(inst, mode="ball", prec=200, spec=spec).eta
        assert b.overlaps(arb(mpmath.nstr(e, 55))) and float(b.rad()) < 1e-50


def test_closed_forms_of_both_modes_agree():
    inst = {"depth": 3, "t": 1.0, "alpha": 0.1, "eta": 0.3, "d": 0.5}
    est, ball = Simulation(inst, dps=40), Simulation(inst, mode="ball", prec=160)
    with mpmath.workdps(40), flint_ctx.workprec(160):
        pairs = ((est.tau(est.alpha ** 3, est.d), ball.tau(ball.alpha ** 3, ball.d)),
                 (est.rho(), ball.rho()), (est.J_N(0.1), ball.J_N(0.1)))
        for e, b in pairs:
            assert b.overlaps(arb(mpmath.nstr(e, 38), abs(float(e)) * 1e-34)), (e, b)
            assert float(b.rad()) < abs(float(e)) * 1e-40


def test_undecided_and_unreached_levels():
    inst = {"depth": 2, "t": 1.0, "alpha": 0.5, "eta": 0.25}
    # a level the lane never reaches: at the fixed point from the start (stationary)
    fixed = {**inst, "alpha": 1.0, "d": 1.5}
    assert Simulation(fixed, dps=30, max_steps=10**5).hitting_time() == math.inf
    # ball lanes prove nothing beyond their horizon
    with pytest.raises(Undecided, match="not reached within 1000 steps"):
        Simulation({**inst, "d": 1.5}, mode="ball", max_steps=1000).hitting_time()
    # a level on the limit itself: x_k^N < 1 = t for every k, never decided as "reached"
    with pytest.raises(Undecided):
        Simulation({**inst, "d": 1.0}, dps=30, max_steps=5000).hitting_time()
    # an exact tie at step 0 is decided exactly (d = alpha^N)
    assert Simulation({**inst, "d": 0.25}, dps=30).hitting_time() == 0
    assert Simulation({**inst, "d": 0.25}, mode="ball").hitting_time() == 0


@pytest.mark.parametrize("inst, kw, match", [
    ({"t": 1.0, "alpha": 0.5, "eta": 0.1}, {}, "'depth' must be an integer >= 2"),
    ({"depth": 2, "alpha": 0.5, "eta": 0.1}, {}, "needs a target"),
    ({"depth": 2, "t": 1.0, "eta": 0.1}, {}, "lacks the field 'alpha'"),
    ({"depth": 2, "t": 1.0, "alpha": -0.5, "eta": 0.1}, {}, "'alpha' must be > 0"),
    ({"depth": 2, "t": "one", "alpha": 0.5, "eta": 0.1}, {}, "'t' must be a number"),
    ({"depth": 2, "t": 1.0, "alpha": 0.5, "eta": 0.1}, {"mode": "interval"}, "mode must be"),
    ({"depth": 2, "t": 1.0, "alpha": 0.5, "eta": 0.1}, {"spec": "P4"}, "not read by"),
    ({"depth": 2, "t": 1.0, "alpha": 0.5, "eta": 0.1}, {"dps": 5}, "dps must be"),
])
def test_bad_instances_and_arguments_are_value_errors(inst, kw, match):
    with pytest.raises(ValueError, match=match):
        Simulation(inst, **kw)


def test_missing_step_size_and_level_are_named():
    sim = Simulation({"depth": 2, "t": 1.0, "alpha": 0.5})
    with pytest.raises(ValueError, match="no step size"):
        sim.eta
    with pytest.raises(ValueError, match="lacks the field 'd'"):
        Simulation({"depth": 2, "t": 1.0, "alpha": 0.5, "eta": 0.1}).hitting_time()
    with pytest.raises(ValueError, match="lane must be"):
        Simulation({"depth": 2, "t": 1.0, "alpha": 0.5, "eta": 0.1}).x(3, lane=1)


def test_o1_instances_are_refused_rather_than_misread():
    with pytest.raises(ValueError, match="an O1 instance"):
        Simulation({"depth": 2, "t": 0.5, "t_prime": 1.0, "alpha": 0.3, "eta_fraction": 0.5})
    # with an explicit step size the two lanes are read as they are
    sim = Simulation({"depth": 2, "targets": [0.5, 1.0], "alpha": 0.3, "eta": 0.2})
    with mpmath.workdps(50):
        assert sim.x(40, lane=0) < sim.x(40, lane=1)  # O1's conclusion on one instance


def test_strategies_carry_their_spec_for_the_step_size():
    """S3's eta_fraction is a fraction of S3's step bound: check_inequality reads it so from
    verify.strategies.instances("S3") without being told (for 0 < t < alpha^N: the
    decreasing-step bound)."""
    import sympy as sp

    from bounds import alpha, eta, t, N
    from verify.inequality import check_inequality

    s = instances("S3")
    assert s.dmf_spec == "S3"
    # S3's decreasing-step condition holds on every S3 draw with t > 0 only if eta is read
    # as S3 defines it (read as a fraction of S1's bound 1/(N t^A), t small, it fails)
    rel = sp.Le(eta * alpha ** (N - 2) * ((2 * N - 1) * alpha**N - (N - 1) * t), 1)
    kw = dict(count=40, seed=2, symbolic=False, shrink=False)
    rep = check_inequality(rel, [sp.Gt(t, 0)], s, **kw)
    assert rep.verdict == "PASS" and rep.counts["PASS"] >= 5
    # control: the same draws without the tag (a .map drops it) are read as S1 defines eta
    untagged = s.map(dict)
    assert getattr(untagged, "dmf_spec", None) is None
    wrong = check_inequality(rel, [sp.Gt(t, 0)], untagged, **kw)
    assert wrong.verdict == "FAIL"
