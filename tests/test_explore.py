"""predict / simulate for users' parameters."""

import mpmath
import numpy as np
import pytest

from verify.explore import make_setting, predict, simulate

BASE = dict(depth=3, alpha="0.05", eta="0.2", spectrum=["1", "0.1", "0.05"], rank=1,
            eps="0.1", theta="0.05")


def test_user_arrays_are_not_mutated():
    W = np.diag([1.0, 0.1, 0.05])
    E = np.array([[0.0, 0.01, 0.0], [0.01, 0.0, 0.0], [0.0, 0.0, 0.0]])
    W0, E0 = W.copy(), E.copy()
    st = make_setting(depth=3, alpha="0.05", eta="0.2", target=W, perturbation=E, rank=1, eps="0.1")
    predict(st)
    assert np.array_equal(W, W0) and np.array_equal(E, E0)


def test_critical_noise_separates_predicted_nonempty_from_empty():
    e_star = mpmath.mpf(predict(make_setting(**BASE))["critical_noise"])
    below = predict(make_setting(**BASE, noise=str(e_star * mpmath.mpf("0.99"))))
    above = predict(make_setting(**BASE, noise=str(e_star * mpmath.mpf("1.01"))))
    assert below["nonempty_predicted_any"] is True
    assert above["nonempty_predicted_any"] is False


def test_w_only_bounds_are_weaker_than_the_bounds_of_a_given_perturbation():
    for e in ("0.01", "0.05", "0.1"):
        p = predict(make_setting(**BASE, noise=e, noise_kind="random", seed=3))
        assert p["T0_upper"] <= p["T0_upper_any"]
        assert p["T1_lower_any"] <= p["T1_lower"]


def test_simulation_converges_to_the_positive_part_of_y():
    st = make_setting(**BASE, noise="0.03", noise_kind="random", seed=1)
    sim = simulate(st, max_steps=20000)
    assert not sim["diverged"]
    assert abs(mpmath.mpf(sim["limit_error"]) - mpmath.mpf(sim["limit_error_of_Y_plus"])) < 1e-20


def test_step_above_every_bound_is_simulated_and_reported_as_divergence():
    st = make_setting(**{**BASE, "eta": "30", "alpha": "1.2"})
    pred = predict(st)
    assert pred["T0_upper"] is None
    sim = simulate(st, max_steps=500)
    assert sim["diverged"] and sim["limit_error"] is None


@pytest.mark.parametrize(
    "change, message",
    [
        (dict(depth=1), "depth N must be an integer >= 2"),
        (dict(alpha="0"), "alpha must be > 0"),
        (dict(eps="1"), "eps must be in"),
        (dict(spectrum=[]), "the spectrum is empty"),
        (dict(spectrum=["1", "nan"]), "spectrum value 2 must be a plain decimal number"),
        (dict(spectrum=[1.0, float("nan")]), "spectrum value 2 must be a finite number"),
        (dict(rank=3), "rank r must be an integer in 1..2"),
        (dict(theta="-1"), "theta must be >= 0"),
        (dict(noise="-0.1"), "noise must be >= 0"),
        (dict(noise_kind="gaussian"), "noise kind must be one of"),
        (dict(seed=-1), "seed must be a nonnegative integer"),
        (dict(dps=10), "dps"),
    ],
)
def test_bad_parameters_raise_named_value_errors(change, message):
    with pytest.raises(ValueError, match=message):
        make_setting(**{**BASE, **change})


def test_target_and_spectrum_together_are_refused():
    with pytest.raises(ValueError, match="exactly one of a spectrum or a target"):
        make_setting(**BASE, target=np.eye(3))


def test_non_symmetric_target_is_refused():
    base = {k: v for k, v in BASE.items() if k != "spectrum"}
    with pytest.raises(ValueError, match="symmetric"):
        make_setting(**base, target=np.array([[1.0, 0.5, 0], [0, 1, 0], [0, 0, 1]]))


def test_simulate_says_when_a_crossing_is_within_rounding():
    # theta placed exactly on x_2(40)^N as computed at 20 digits: at 20 digits the crossing
    # has gap 0 (ambiguous); at 60 digits the true iterate differs from it by ~1e-20: decided
    from verify.engine import simulate_reduced

    st = make_setting(**{**BASE, "dps": 20})
    ref = simulate_reduced(st.t, depth=3, alpha=st.alpha, eta=st.eta, dps=20, checkpoints=[40],
                           max_steps=40)
    with mpmath.workdps(20):
        theta = ref.checkpoints[40][1] ** 3
    assert simulate(make_setting(**{**BASE, "theta": theta, "dps": 20}), max_steps=3000)["decided"] is False
    assert simulate(make_setting(**{**BASE, "theta": theta, "dps": 60}), max_steps=3000)["decided"] is True


# ---------------------------------------------------------------- user input: numbers, caps, matrices


@pytest.mark.parametrize(
    "change, message",
    [
        (dict(alpha="1/0"), "alpha must be a plain decimal number"),
        (dict(alpha="0.0_5"), "alpha must be a plain decimal number"),
        (dict(eta="1e300"), r"eta = 1e300 is out of range"),
        (dict(spectrum=["1e300", "1"]), "out of range"),
        (dict(spectrum=["1e90", "1"]), "is lost next to"),
        (dict(depth=3000), "depth N must be <= 1000"),
        (dict(dps=300), "dps must be <= 250"),
        (dict(spectrum=["1"] * 20000), "setting up a 20000x20000 problem"),
        (dict(tol="0.1"), r"tol must be in \[0, 1e-3\]"),
    ],
)
def test_bad_user_input_is_a_value_error_before_any_work(change, message):
    with pytest.raises(ValueError, match=message):
        make_setting(**{**BASE, **change})


def test_simulate_refuses_what_cannot_finish():
    st = make_setting(**BASE)
    with pytest.raises(ValueError, match="would take about .* raise it with --max-seconds"):
        simulate(st, max_steps=10**12)
    with pytest.raises(ValueError, match="simulate --full-matrix"):
        simulate(st, max_steps=10**8, full_matrix=True)
    with pytest.raises(ValueError, match="above the limit of 0.001 s"):
        simulate(st, max_steps=10**6, max_seconds=0.001)


def test_float_targets_are_accepted_within_tol_and_the_changes_reported():
    base = {k: v for k, v in BASE.items() if k != "spectrum"}
    A = np.random.default_rng(3).standard_normal((3, 1))
    W = A @ A.T + np.diag([0.0, 0.0, 0.0])
    W[0, 1] += 1e-13 * abs(W).max()
    keep = W.copy()
    st = make_setting(**base, target=W)
    assert np.array_equal(W, keep)
    assert any("symmetrized" in a for a in st.adjustments)
    assert all(v >= 0 for v in st.s)
    assert predict(st)["adjustments"] == list(st.adjustments)
    assert simulate(st, max_steps=100)["adjustments"] == list(st.adjustments)
    with pytest.raises(ValueError, match="not symmetric: entry"):
        make_setting(**base, target=W, tol=0)


def test_exact_ties_are_known_from_the_inputs():
    st = make_setting(**{**BASE, "theta": None})  # eps * s_1 = 0.1 = s_2 exactly
    assert st.theta_default and st.theta_exact == st.t_exact[1]
    st = make_setting(**{**BASE, "theta": None, "noise": "0.05"})  # t_2 = s_2 + e: no tie
    assert st.t_exact[1] != st.theta_exact
    assert make_setting(**{**BASE, "noise": "0.05", "noise_kind": "random"}).t_exact is None
