"""verify/momentum.py: the full N-factor heavy-ball / Nesterov iteration against the scalar
recursion (to 1e-40 at 60 digits), the high-precision engine against the project's GD engine
at beta = 0 and against the float64 lanes away from ties, escalation of ambiguous
comparisons, bad input."""

import mpmath
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bounds.flow import monotone_step_bound
from verify.engine import Event, simulate_reduced
from verify.instances import random_orthogonal
from verify.momentum import (
    full_mismatch,
    interval_f64,
    interval_hp,
    scalar_trajectory,
    simulate_full_momentum,
)

README = dict(depth=3, alpha="0.05", eta="0.2", rank=1, eps="0.1", theta="0.05")
BETAS = [str(b / 10) for b in range(10)]
BOTH = [(b, m) for m in ("heavyball", "nesterov") for b in BETAS]


@st.composite
def momentum_problems(draw):
    """Y = Q diag(t) Q^T with n in 3..5, a random orthogonal Q, eta a fraction of the S1 step
    bound of the largest |t| (admissible by construction), beta in [0, 0.9]."""
    n = draw(st.integers(3, 5))
    N = draw(st.integers(2, 4))
    t = draw(st.lists(st.floats(-0.3, 1.5), min_size=n, max_size=n))
    top = max(max(abs(v) for v in t), 0.1)
    with mpmath.workdps(30):
        eta = float(monotone_step_bound(top, N)) * draw(st.floats(0.05, 1.0))
    return dict(spectrum=t, seed=draw(st.integers(0, 2**16)), depth=N,
                alpha=draw(st.floats(0.05, 0.5)), eta=eta, beta=draw(st.floats(0.0, 0.9)),
                method=draw(st.sampled_from(["heavyball", "nesterov"])),
                steps=draw(st.integers(50, 150)))


@settings(max_examples=12)
@given(momentum_problems())
def test_full_matrix_momentum_products_match_the_scalar_recursion_to_1e_40(p):
    Q = random_orthogonal(len(p["spectrum"]), seed=p["seed"], dps=60)
    entry, eig = full_mismatch(p["spectrum"], Q, depth=p["depth"], alpha=p["alpha"],
                               eta=p["eta"], beta=p["beta"], method=p["method"],
                               steps=p["steps"], dps=60)
    assert entry < 1e-40 and eig < 1e-40, (entry, eig)


@pytest.mark.parametrize("method", ["heavyball", "nesterov"])
def test_negative_control_the_other_methods_recursion_does_not_match_the_full_iteration(method):
    """The comparison can fail: the full heavy-ball products against the Nesterov scalar
    recursion (and vice versa) differ by far more than 1e-40."""
    import verify.momentum as vm

    other = "nesterov" if method == "heavyball" else "heavyball"
    real = vm.scalar_trajectory

    def swapped(t, **kw):
        kw["method"] = other
        return real(t, **kw)

    Q = random_orthogonal(3, seed=4, dps=60)
    try:
        vm.scalar_trajectory = swapped
        entry, eig = full_mismatch([1, 0.3, 0.1], Q, depth=3, alpha=0.3, eta=0.2, beta=0.6,
                                   method=method, steps=60, dps=60)
    finally:
        vm.scalar_trajectory = real
    assert entry > 1e-6 and eig > 1e-6


def test_full_momentum_at_beta_zero_is_full_gradient_descent():
    from verify.fullgd import simulate_full
    from verify.instances import psd_target

    T = psd_target([1, 0.3, 0.05], seed=1, dps=60)
    P = simulate_full_momentum(T.W, depth=3, eta=0.2, beta=0, method="heavyball", alpha=0.3,
                               steps=40, dps=60)
    gd = simulate_full(T.W, depth=3, eta=0.2, alpha=0.3, steps=40, dps=60, arithmetic="arb")
    with mpmath.workdps(60):
        assert max(mpmath.mnorm(P[k] - gd.products[k], 1) for k in range(41)) < 1e-50


def test_scalar_recursion_at_beta_zero_is_the_gd_engines_iterates():
    run = simulate_reduced([1, "0.1"], depth=3, alpha="0.05", eta="0.2", dps=60,
                           max_steps=300, checkpoints=[300], stop_when_settled=False)
    for i, t in enumerate([1, "0.1"]):
        for m in ("heavyball", "nesterov"):
            x = scalar_trajectory(t, depth=3, alpha="0.05", eta="0.2", beta=0, method=m,
                                  steps=300, dps=60)[-1]
            assert abs(x - run.checkpoints[300][i]) < 1e-50


def test_hp_engine_at_beta_zero_gives_the_gd_engines_T0_and_T1():
    run = simulate_reduced([1, "0.1"], depth=3, alpha="0.05", eta="0.2", dps=50,
                           events=[Event(0, "0.9"), Event(1, "0.05", strict=True)])
    T0, cross = (h.step for h in run.hits)
    for r in interval_hp([1, "0.1", "0.05"], configs=[(0, "heavyball"), (0, "nesterov")],
                         max_steps=1500, **README):
        assert (r.T0, r.T1, r.decided) == (T0, cross - 1, True) == (102, 909, True)


def test_float64_lanes_agree_with_hp_on_hitting_times_away_from_ties():
    problems = [([1, "0.1", "0.05"], README),
                ([2, "0.5", "0.01"], dict(depth=2, alpha="0.1", eta="0.2", rank=1, eps="0.05",
                                           theta="0.02")),
                ([1, "0.8", "0.05"], dict(depth=4, alpha="0.3", eta="0.2", rank=2, eps="0.1",
                                           theta="0.03"))]
    compared = 0
    for targets, kw in problems:
        hp = interval_hp(targets, configs=BOTH, max_steps=1500, **kw)
        f64 = interval_f64(targets, configs=BOTH, max_steps=1500, **kw)
        for a, b in zip(hp, f64):
            assert a.decided
            if b.tie_gap > 1e-9:
                compared += 1
                assert (a.T0, a.T1, a.dips, a.diverged) == (b.T0, b.T1, b.dips, b.diverged)
                assert abs(a.overshoot - b.overshoot) <= 1e-9 * a.overshoot
    assert compared >= 50


def test_a_tie_that_higher_precision_resolves_is_escalated_and_decided():
    # theta = alpha^N (1 + 1e-70): at step 0 the comparison is inside the 50-digit margin
    with mpmath.workdps(120):
        theta = mpmath.nstr(mpmath.mpf("0.05") ** 3 * (1 + mpmath.mpf(10) ** -70), 110)
    kw = dict(README, theta=theta)
    r = interval_hp([1, "0.1"], configs=[(0, "heavyball")], max_steps=200, dps=50,
                    max_dps=200, **kw)[0]
    # decided at 100 digits: x_0^N < theta, and the growing lane passes theta at step 1
    assert r.decided and r.dps == 100 and r.T1 == 0


def test_an_exact_tie_stays_undecided_at_the_highest_precision():
    kw = dict(README, theta="0.000125")  # = 0.05^3: x_0^N > theta is false, undecidable here
    r = interval_hp([1, "0.1"], configs=[(0, "heavyball")], max_steps=50, dps=50,
                    max_dps=100, **kw)[0]
    assert not r.decided and r.dps == 100


def test_divergence_is_reported_not_hidden():
    r = interval_hp([1, "0.1"], configs=[("0.9", "heavyball")], depth=2, alpha="0.1",
                    eta="1.9", rank=1, eps="0.1", theta="0.05", max_steps=400)[0]
    f = interval_f64([1, "0.1"], configs=[("0.9", "heavyball")], depth=2, alpha="0.1",
                     eta="1.9", rank=1, eps="0.1", theta="0.05", max_steps=400)[0]
    assert r.diverged and f.diverged and r.divergence_step == f.divergence_step


@pytest.mark.parametrize("bad, match", [
    (dict(configs=[(1, "heavyball")]), "beta must lie in"),
    (dict(configs=[("-0.1", "nesterov")]), "beta must lie in"),
    (dict(configs=[(0, "adam")]), "method must be one of"),
    (dict(configs=[]), "must not be empty"),
    (dict(rank=3), "rank 3 needs at least 4"),
    (dict(eps="1"), "eps must lie in"),
    (dict(alpha="-1"), "alpha must be > 0"),
    (dict(dps=10), "dps must be an integer"),
])
def test_bad_input_is_a_value_error_naming_the_problem(bad, match):
    kw = dict(README, configs=[(0, "heavyball")], max_steps=10)
    kw.update(bad)
    with pytest.raises(ValueError, match=match):
        interval_hp([1, "0.1", "0.05"], **kw)


def test_inputs_are_not_modified():
    targets, configs = [1, "0.1", "0.05"], [("0.5", "heavyball")]
    interval_hp(targets, configs=configs, max_steps=20, **README)
    interval_f64(targets, configs=configs, max_steps=20, **README)
    assert targets == [1, "0.1", "0.05"] and configs == [("0.5", "heavyball")]


@st.composite
def dominance_problems(draw, *, step_bound=True):
    """Rank-1 problems with 0 < alpha^N < t_2 < t_1, theta < t_2, eps in (0, 1) and eta a
    fraction of the S1 step bound of t_1 (``step_bound``) or beyond it (eta N t_1^A in
    (1, 4]); built by construction."""
    N = draw(st.integers(2, 4))
    t2 = draw(st.floats(0.05, 1.0))
    t1 = t2 * (1 + draw(st.floats(0.01, 20.0)))
    alpha = (t2 * draw(st.floats(0.01, 0.9))) ** (1 / N)
    with mpmath.workdps(30):
        bound = float(monotone_step_bound(t1, N))
    c = draw(st.floats(0.05, 0.999)) if step_bound else draw(st.floats(1.001, 4.0))
    return dict(targets=[t1, t2], depth=N, alpha=alpha, eta=bound * c, rank=1,
                eps=draw(st.floats(0.001, 0.5)), theta=t2 * draw(st.floats(0.01, 0.99)),
                beta=draw(st.floats(0.0, 0.99)))


def _hb_against_gd(p):
    kw = {k: v for k, v in p.items() if k not in ("targets", "beta")}
    return interval_hp(p["targets"], configs=[(0, "heavyball"), (p["beta"], "heavyball")],
                       max_steps=2000, **kw)


@settings(max_examples=25)
@given(dominance_problems())
def test_heavy_ball_reaches_every_level_below_t_no_later_than_gd(p):
    """The dominance proved in docs/beyond.md ("Momentum, exactly"): under S1's step bound
    and 0 <= beta < 1, T0 (rank 1) and T1 of heavy ball are at most gradient descent's."""
    from bounds.momentum import m1_hypotheses

    assert all(m1_hypotheses(t, p["alpha"], p["eta"], p["beta"], p["depth"]) for t in p["targets"])
    gd, hb = _hb_against_gd(p)
    assert gd.decided and hb.decided and not gd.diverged
    if gd.T0 is not None:  # else censored at max_steps
        assert hb.T0 is not None and hb.T0 <= gd.T0
    if gd.T1 is not None:
        assert hb.T1 is not None and hb.T1 <= gd.T1


@settings(max_examples=15)
@given(dominance_problems(step_bound=False))
def test_dominance_also_holds_beyond_the_step_bound_where_gd_reaches_the_level(p):
    """The remark of docs/beyond.md: phi_t is unimodal on [0, t^(1/N)] with phi_t(u) = u,
    which is all the hitting-time comparison needs (not part of the proved statement)."""
    from hypothesis import assume

    gd, hb = _hb_against_gd(p)
    assume(not hb.diverged)  # a lane of the pair diverged: the engine stops the pair
    if gd.T0 is not None and not gd.diverged:
        assert hb.T0 is not None and hb.T0 <= gd.T0
    if gd.T1 is not None and not gd.diverged:
        assert hb.T1 is not None and hb.T1 <= gd.T1


def test_negative_control_nesterov_is_not_covered_its_T0_can_come_later_than_gd():
    """The dominance argument evaluates phi at x_k; Nesterov evaluates it at the look-ahead
    point, and its hitting time can exceed gradient descent's (found by a float64 search,
    decided here at 50 digits): N = 2, t = 1, alpha = 0.87, eta = 0.49 (eta N t^A = 0.98),
    beta = 0.97, level 0.989."""
    gd, nest, hb = interval_hp([1, "0.1"], configs=[(0, "heavyball"), ("0.97", "nesterov"),
                                                    ("0.97", "heavyball")],
                               depth=2, alpha="0.87", eta="0.49", rank=1, eps="0.011",
                               theta="0.05", max_steps=100)
    assert all(r.decided for r in (gd, nest, hb))
    assert (gd.T0, nest.T0, hb.T0) == (2, 3, 2)
