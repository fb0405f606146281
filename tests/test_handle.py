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
    ({"depth": 2, "t": 1.0, "alpha": 0.5, "eta": 0.1}, {"spec": "R1"}, "not read by"),
    ({"depth": 2, "t": 1.0, "alpha": 0.5, "eta": 0.1}, {"spec": "P2"}, "P2 instances have no dynamics"),
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


# ---------------------------------------------------------------------------------------
# L and P instances: the lanes are the spectrum (E = 0) or Y's eigenvalues

# the README / docs/beyond.md example: T0 = 102, T1 = 909 (decimal strings: read exactly)
README = {"depth": 3, "alpha": "0.05", "eta": "0.2", "spectrum": ["1", "0.1", "0.05"], "r": 1,
          "eps": "0.1", "theta": "0.05"}


def test_readme_lowrank_example_is_what_explore_simulate_reports_in_both_modes():
    from verify.explore import make_setting, simulate

    st = make_setting(depth=3, alpha="0.05", eta="0.2", rank=1, eps="0.1",
                      spectrum=["1", "0.1", "0.05"], theta="0.05")
    ref = simulate(st, max_steps=20000)
    est, ball = Simulation(README, dps=50), Simulation(README, mode="ball", prec=128)
    assert (est.T0(), est.T1()) == (ball.T0(), ball.T1()) == (ref["T0"], ref["T1"]) == (102, 909)
    assert est.interval().nonempty() and ball.certified
    with mpmath.workdps(50):
        worst = max(est.error(102), est.error(909))  # the interval's largest error: its ends
        assert abs(worst - mpmath.mpf(ref["error_in_interval"])) < 1e-20  # 20 digits shown
        for k in (0, 102, 500, 909):
            e, b = est.error(k), ball.error(k)
            assert b.overlaps(arb(mpmath.nstr(e, 45), 1e-42)) and float(b.rad()) < 1e-30
    # E = 0: error(k) = max(|x_1^N - s_1|, x_2^N, x_3^N) and the limit is s_2 exactly
    assert ball.limit_error().overlaps(arb("0.1")) and float(ball.limit_error().rad()) < 1e-30
    with mpmath.workdps(50):
        assert abs(est.limit_error() - mpmath.mpf("0.1")) < 1e-45
        assert abs(est.error(60000) - est.limit_error()) < 1e-3  # x_2^N -> s_2 slowly


@settings(max_examples=6, deadline=None)
@given(instances("L1"))
def test_l1_interval_of_both_modes_is_the_l1_checks(inst):
    out = check("L1", inst)
    if out.verdict == "N/A":
        return
    est, ball = Simulation(inst, spec="L1"), Simulation(inst, mode="ball", spec="L1")
    assert est.T0() == ball.T0() and str(est.T0()) == out.observed["T0"]
    T1 = est.T1()
    assert ball.T1() == T1
    if T1 != math.inf:
        assert str(T1) == out.observed["T1"]
    else:  # theta >= s_{r+1}: the check reports T1 beyond its run
        assert out.observed["T1"].startswith(">=")


def test_l2_errors_at_the_interval_ends_are_the_l2_checks_largest_error():
    from verify.checks.lowrank import l2_outcome

    inst = {"depth": 3, "spectrum": [1.0, 0.3, 0.05], "r": 1, "eps": 0.1, "theta": 0.05,
            "alpha": 0.1, "eta_fraction": 0.5}
    out = l2_outcome(inst, 50)
    est, ball = Simulation(inst, spec="L2"), Simulation(inst, mode="ball", spec="L2")
    T0, T1 = est.T0(), est.T1()
    ks = [int(k) for k in out.observed["sampled_steps"].strip("[]").split(",")]
    assert (ks[0], ks[-1]) == (T0, T1) == (ball.T0(), ball.T1())
    with mpmath.workdps(50):
        worst = max(est.error(k) for k in ks)
        assert mpmath.nstr(worst, 20) == out.observed["max_error"]
        assert worst == max(est.error(T0), est.error(T1))  # attained at an end
        assert ball.error(T0).overlaps(arb(mpmath.nstr(est.error(T0), 40), 1e-38))


P4_WORST = {"n": 3, "depth": 3, "spectrum": [1.5, 1.0, 0.05], "r": 2, "seed": 4, "e": 0.1,
            "noise_kind": "worst", "eps": 0.01, "theta": 0.02, "alpha": 0.2,
            "eta_fraction": 0.95}


@pytest.mark.parametrize("kind", ["worst", "random"])
def test_p4_interval_is_the_p4_checks_and_ball_mode_certifies_only_aligned_noise(kind):
    from verify.checks.perturbed import check_p4

    inst = {**P4_WORST, "noise_kind": kind}
    out = check_p4(inst, 50)
    est, ball = Simulation(inst, spec="P4"), Simulation(inst, mode="ball", spec="P4")
    assert str(est.T0()) == out.observed["T0~"]
    T1 = out.observed["T1~"]
    if T1.startswith(">="):  # the check runs to its horizon; the handle decides beyond it
        assert est.T1() >= int(T1.split()[-1])
    else:
        assert str(est.T1()) == T1
    with mpmath.workdps(50):
        assert abs(est.ub0_real() - mpmath.mpf(out.predicted["UB0_real"])) < 1e-9
    if kind == "worst":  # Y's eigenvalues exactly s_i - e, s_i + e: certified
        assert [float(q) for q in est._targets] == pytest.approx([1.4, 0.9, 0.15])
        assert (ball.T0(), ball.T1()) == (est.T0(), est.T1())
        assert ball.ub0_real().overlaps(arb(mpmath.nstr(est.ub0_real(), 40), 1e-35))
    else:  # the eigenvectors of Y are not enclosed: ball mode abstains, with the reason
        for read in (ball.T0, ball.T1, lambda: ball.error(3), ball.limit_error):
            with pytest.raises(Undecided, match="random noise"):
                read()


@pytest.mark.parametrize("kind", ["worst", "random"])
def test_p5_errors_are_the_p5_checks(kind):
    """P5's check samples ||P(k) - W_r||_2 at T0~, T1~ and three steps between: the handle's
    error() there is its max_error (Weyl-extremal E: in W's eigenbasis, exact lanes;
    random E: Q diag(x^N) Q^T - W_r, as the check)."""
    from verify.checks.perturbed import check_p5

    inst = {"n": 2, "depth": 2, "spectrum": [1.0, 0.0], "r": 1, "seed": 0, "e": 0.1,
            "noise_kind": kind, "eps": 0.01, "theta": 0.05, "alpha": 0.1, "eta_fraction": 0.5}
    out = check_p5(inst, 50)
    sim = Simulation(inst, spec="P5")
    T0, T1 = sim.T0(), sim.T1()
    assert str(T0) == out.observed["T0~"]
    if out.observed["T1~"].startswith(">="):  # the check samples up to its horizon
        end = int(out.observed["T1~"].split()[-1])
        assert T1 >= end
    else:
        end = T1
        assert str(T1) == out.observed["T1~"]
    cps = sorted({T0, end} | {T0 + (end - T0) * j // 4 for j in (1, 2, 3)})
    with mpmath.workdps(50):
        errs = {k: sim.error(k) for k in cps}
        k = max(errs, key=errs.get)
        assert mpmath.nstr(errs[k], 12) == out.observed["max_error"]
        assert str(k) == out.observed["at_step"]
    if kind == "worst":
        ball = Simulation(inst, spec="P5", mode="ball")
        assert ball.error(k).overlaps(arb(mpmath.nstr(errs[k], 40), 1e-38))
        assert float(ball.error(k).rad()) < 1e-30


def test_t1_infinite_when_theta_is_above_the_next_eigenvalue_in_both_modes():
    inst = {"depth": 3, "spectrum": [1.0, 0.3], "r": 1, "eps": 0.1, "theta": 0.3,
            "alpha": 0.1, "eta_fraction": 0.5}  # theta = s_2 exactly: x_2^N < s_2 always
    assert Simulation(inst, spec="L1").T1() == math.inf
    assert Simulation(inst, spec="L1", mode="ball").T1() == math.inf
    # theta < alpha^N: T1 = -1 (x_0^N = alpha^N > theta), exactly
    low = {**inst, "theta": 0.0005}
    assert Simulation(low, spec="L1").T1() == Simulation(low, mode="ball", spec="L1").T1() == -1


def test_eta_of_l_and_p_instances_is_read_as_their_specs_define_it():
    from verify.checks.perturbed import _p4_setup
    from verify.checks.verdict import monotone_step_eta

    inst = {**README, "eta_fraction": 0.6}
    del inst["eta"]
    with mpmath.workdps(50):
        assert Simulation(inst, spec="L1").eta == monotone_step_eta("L1", mpmath.mpf(0.6), 1, 3)
        assert abs(Simulation(inst, spec="L1").eta - mpmath.mpf("0.2")) < 1e-16
        assert Simulation(P4_WORST, spec="P4").eta == pytest.approx(_p4_setup("P4", P4_WORST, 50)["eta"], rel=1e-40)
    b = Simulation(P4_WORST, spec="P4", mode="ball").eta
    with mpmath.workdps(50):
        assert b.overlaps(arb(mpmath.nstr(_p4_setup("P4", P4_WORST, 50)["eta"], 45), 1e-40))


@pytest.mark.parametrize("change, match", [
    ({"r": None}, "lacks the field 'r'"),
    ({"r": 3}, "'r' must be an integer in 1..2"),
    ({"spectrum": [0.1, 1.0, 0.05]}, "'spectrum' must be sorted descending"),
    ({"spectrum": [1.0, 0.1, -0.05]}, "'spectrum' must be nonnegative"),
    ({"spectrum": [1.0]}, "'spectrum' must be a list of at least 2"),
])
def test_bad_lowrank_instances_name_the_field(change, match):
    inst = {**README, **change}
    inst = {k: v for k, v in inst.items() if v is not None}
    with pytest.raises(ValueError, match=match):
        Simulation(inst, spec="L1")


@pytest.mark.parametrize("frac", [0, -0.5, "x", float("nan")])
def test_a_bad_eta_fraction_is_named_before_anything_is_simulated(frac):
    inst = {k: v for k, v in README.items() if k != "eta"}
    with pytest.raises(ValueError, match="'eta_fraction'"):
        Simulation({**inst, "eta_fraction": frac}, spec="L1").T0()


def test_readings_that_need_an_l_or_p_instance_or_a_field_are_named():
    scalar = Simulation({"depth": 2, "t": 1.0, "alpha": 0.5, "eta": 0.1})
    with pytest.raises(ValueError, match="needs an L or P instance"):
        scalar.T0()
    no_eps = {k: v for k, v in README.items() if k != "eps"}
    with pytest.raises(ValueError, match="lacks the field 'eps'"):
        Simulation(no_eps).T0()
    with pytest.raises(ValueError, match="'eps' must be in"):
        Simulation({**README, "eps": "1.5"}).eps
    with pytest.raises(ValueError, match="norm must be '2'"):
        Simulation(README).error(3, norm="fro")
    with pytest.raises(ValueError, match="lacks the field 'seed'"):
        Simulation({**README, "noise_kind": "random", "e": 0.1})


def test_p3_lane_and_step_are_the_p3_checks_in_both_modes():
    from verify.checks.perturbed import check_p3

    inst = {"depth": 3, "s": 1.0, "d": 0.3, "e": 0.69, "t_source": "interval", "t_frac": 0.0,
            "alpha": 0.3, "eta_fraction": 0.95}  # P3's corner: t = s - e, e near s - d
    out = check_p3(inst, 50)
    est, ball = Simulation(inst, spec="P3"), Simulation(inst, mode="ball", spec="P3")
    assert str(est.hitting_time()) == out.observed["K"] and ball.hitting_time() == est.hitting_time()
    with mpmath.workdps(50):
        assert abs(est.eta - mpmath.mpf(out.predicted["eta"])) < 1e-12
    with pytest.raises(ValueError, match="needs an L or P instance"):
        est.T0()
