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
