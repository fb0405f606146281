"""Tests for verify/beyond/matrixgd.py: the float64 full-matrix engine (GD, Adam) outside the
reduction, its high-precision path, and the interval read off singular values."""

import copy

import mpmath
import numpy as np
import pytest

from verify.beyond.matrixgd import (
    DIVERGENCE_BOUND,
    effective_ranks,
    gaussian_init,
    identity_init,
    low_rank_interval,
    perturbed_identity_init,
    reference_levels,
    rounding_tolerance,
    run_matrix,
)
from verify.explore import make_setting, simulate
from verify.fullgd import simulate_full


def _f64(M):
    return np.array([[float(M[i, j]) for j in range(M.cols)] for i in range(M.rows)])


def _paper_problem(n=10):
    st = make_setting(depth=3, alpha=0.05, eta=0.2, spectrum=[1.0, 0.1, 0.05] + [0.0] * (n - 3),
                      rank=1, eps=0.1, theta=0.05, dps=30)
    W = _f64(st.W)
    return st, (W + W.T) / 2


def _rel_sv_error(a, b):
    """max over recorded steps and i of |sigma_i(a) - sigma_i(b)| / sigma_1(b)."""
    assert a.steps == b.steps
    return max(abs(float(x) - float(y)) / float(sb[0])
               for sa, sb in zip(a.singular_values, b.singular_values) for x, y in zip(sa, sb))


def _nonsymmetric(n, seed):
    rng = np.random.default_rng(seed)
    Y = rng.standard_normal((n, n))
    return Y / np.linalg.norm(Y, 2)


# ------------------------------------------------------------------ GD = the project's GD


def test_gd_from_alpha_identity_reads_the_reduced_dynamics_interval():
    """The README example padded to n = 10: the full-matrix float64 run gives simulate()'s
    T0 = 102, T1 = 909 (claim R1), read off singular values."""
    st, W = _paper_problem()
    run = run_matrix(W, identity_init(10, 3, 0.05), lr=0.2, steps=1200)
    levels, kind = reference_levels(W)
    assert kind.startswith("eigenvalues")
    iv = low_rank_interval(run, levels, rank=1, eps=0.1, theta=0.05)
    sim = simulate(st, max_steps=1200)
    assert (iv["T0"], iv["T1"]) == (sim["T0"], sim["T1"]) == (102, 909)


def test_gd_singular_values_equal_the_scalar_recursion_within_the_rounding_model():
    st, W = _paper_problem()
    steps = 600
    run = run_matrix(W, identity_init(10, 3, 0.05), lr=0.2, steps=steps)
    t = np.array([float(x) for x in st.t])
    x = np.full(10, 0.05)
    worst = 0.0
    for k in range(steps + 1):
        sv = np.array(run.singular_values[k])
        worst = max(worst, float(np.max(np.abs(sv - np.sort(x**3)[::-1]))) / max(1.0, sv[0]))
        x = x + 0.2 * x**2 * (t - x**3)
    assert worst <= rounding_tolerance(steps, 10, 3)


def test_gd_agrees_with_fullgd_float64_and_arb_on_a_nonsymmetric_target_from_a_random_start():
    n, N, steps = 4, 3, 60
    Y = _nonsymmetric(n, 5)
    init = perturbed_identity_init(n, N, 0.4, 0.3, seed=2)
    run = run_matrix(Y, init, lr=0.1, steps=steps)
    ref = simulate_full(Y, depth=N, eta=0.1, init=init, steps=steps, arithmetic="float64")
    arb = simulate_full(Y, depth=N, eta=0.1, init=init, steps=steps, arithmetic="arb", dps=30)
    for k in (0, 1, 17, steps):
        sv_ref = np.linalg.svd(ref.products[k], compute_uv=False)
        assert np.max(np.abs(np.array(run.singular_values[k]) - sv_ref)) <= 1e-14
        sv_arb = np.linalg.svd(_f64(arb.products[k]), compute_uv=False)
        assert np.max(np.abs(np.array(run.singular_values[k]) - sv_arb)) \
            <= rounding_tolerance(steps, n, N)
    for A, B in zip(run.factors, ref.factors):
        assert np.max(np.abs(A - B)) <= 1e-14


# ------------------------------------------------------------------ float64 vs high precision


@pytest.mark.parametrize("case", ["nonsymmetric-random-init", "psd-alpha-identity",
                                  "gaussian-init"])
def test_float64_full_matrix_agrees_with_30_digit_full_matrix_within_eps_times_steps(case):
    """n = 4, depth 3, 200 steps: the float64 run's singular values match the same iteration at
    30 digits to rounding_tolerance (u (2N+1) n per step, summed over the steps; about 6e-13
    here), relative to sigma_1."""
    n, N, steps = 4, 3, 200
    if case == "nonsymmetric-random-init":
        Y, init = _nonsymmetric(n, 1), perturbed_identity_init(n, N, 0.3, 0.5, seed=1)
    elif case == "psd-alpha-identity":
        st = make_setting(depth=3, alpha=0.3, eta=0.2, spectrum=[1.0, 0.3, 0.1, 0.0], rank=1,
                          eps=0.1, dps=30)
        Y, init = _f64(st.W), identity_init(n, N, 0.3)
    else:
        Y, init = _nonsymmetric(n, 3), gaussian_init(n, N, 0.8, seed=4)
    f = run_matrix(Y, init, lr=0.2, steps=steps)
    hp = run_matrix(Y, init, lr=0.2, steps=steps, arithmetic="mpmath", dps=30)
    assert f.status == hp.status == "ok"
    err = _rel_sv_error(f, hp)
    assert err <= rounding_tolerance(steps, n, N), err
    assert abs(float(f.loss[-1]) - float(hp.loss[-1])) <= rounding_tolerance(steps, n, N) * \
        max(1.0, float(hp.loss[0]))


def test_adam_float64_agrees_with_30_digit_adam():
    n, N, steps = 3, 3, 200
    Y, init = _nonsymmetric(n, 7), perturbed_identity_init(n, N, 0.3, 0.5, seed=7)
    f = run_matrix(Y, init, lr=0.01, steps=steps, optimizer="adam")
    hp = run_matrix(Y, init, lr=0.01, steps=steps, optimizer="adam", arithmetic="mpmath",
                    dps=30)
    assert _rel_sv_error(f, hp) <= rounding_tolerance(steps, n, N)


def test_the_high_precision_path_is_not_float64():
    """At 30 and 45 digits the runs agree far below float64's rounding: the mpmath path
    really works at its precision (a float64 path in disguise would differ by ~1e-16)."""
    n, N, steps = 3, 3, 30
    Y, init = _nonsymmetric(n, 2), perturbed_identity_init(n, N, 0.3, 0.5, seed=2)
    a = run_matrix(Y, init, lr=0.2, steps=steps, arithmetic="mpmath", dps=30)
    b = run_matrix(Y, init, lr=0.2, steps=steps, arithmetic="mpmath", dps=45)
    with mpmath.workdps(45):
        err = max(abs(x - y) for sa, sb in zip(a.singular_values, b.singular_values)
                  for x, y in zip(sa, sb))
    assert err < 1e-25
    f = run_matrix(Y, init, lr=0.2, steps=steps)
    assert _rel_sv_error(f, b) > 0  # float64 rounding is visible against 45 digits


# ------------------------------------------------------------------ Adam


def _gradients(Y, F):
    """dL/dW_j for N = 3 written out: (W3 W2)^T R, W3^T R W1^T, R (W2 W1)^T."""
    W1, W2, W3 = F
    R = W3 @ W2 @ W1 - Y
    return [(W3 @ W2).T @ R, W3.T @ R @ W1.T, R @ (W2 @ W1).T]


def test_adam_first_step_is_lr_times_gradient_over_its_magnitude_plus_eps():
    n = 4
    Y = _nonsymmetric(n, 11)
    init = perturbed_identity_init(n, 3, 0.5, 0.4, seed=11)
    lr, ae = 0.03, 1e-3  # eps large enough to matter
    run = run_matrix(Y, init, lr=lr, steps=1, optimizer="adam", adam_eps=ae, beta1=0.8,
                     beta2=0.99)
    for W0, G, W1 in zip(init, _gradients(Y, init), run.factors):
        assert np.allclose(W1, W0 - lr * G / (np.abs(G) + ae), rtol=0, atol=1e-15)


def test_the_gradient_matches_central_differences_of_the_loss():
    n = 3
    Y = _nonsymmetric(n, 13)
    init = perturbed_identity_init(n, 3, 0.6, 0.3, seed=13)
    lr = 1e-3
    run = run_matrix(Y, init, lr=lr, steps=1)

    def loss(F):
        return 0.5 * np.sum((F[2] @ F[1] @ F[0] - Y) ** 2)

    h = 1e-6
    for j in range(3):
        for a in range(n):
            for b in range(n):
                Fp, Fm = copy.deepcopy(list(init)), copy.deepcopy(list(init))
                Fp[j][a, b] += h
                Fm[j][a, b] -= h
                g = (loss(Fp) - loss(Fm)) / (2 * h)
                assert abs((init[j][a, b] - run.factors[j][a, b]) / lr - g) < 1e-7


def test_adam_second_step_uses_bias_corrected_moments():
    n = 3
    Y = _nonsymmetric(n, 17)
    init = perturbed_identity_init(n, 3, 0.5, 0.4, seed=17)
    lr, b1, b2, ae = 0.02, 0.9, 0.999, 1e-8
    two = run_matrix(Y, init, lr=lr, steps=2, optimizer="adam")
    G0 = _gradients(Y, init)
    F1 = [W - lr * G / (np.abs(G) + ae) for W, G in zip(init, G0)]
    G1 = _gradients(Y, F1)
    for W, g0, g1, got in zip(F1, G0, G1, two.factors):
        m = b1 * (1 - b1) * g0 + (1 - b1) * g1
        v = b2 * (1 - b2) * g0**2 + (1 - b2) * g1**2
        want = W - lr * (m / (1 - b1**2)) / (np.sqrt(v / (1 - b2**2)) + ae)
        assert np.allclose(got, want, rtol=0, atol=1e-14)


# ------------------------------------------------------------------ divergence, recording


def test_divergence_stops_the_run_with_status_and_step():
    _, W = _paper_problem(4)
    run = run_matrix(W, identity_init(4, 3, 1.5), lr=2.0, steps=500)
    assert run.status == "diverged"
    assert run.diverged_step is not None and 0 < run.diverged_step <= 500
    assert run.final_step == run.diverged_step - 1
    assert run.steps[-1] <= run.final_step
    assert all(np.all(np.isfinite(A)) and np.max(np.abs(A)) <= DIVERGENCE_BOUND
               for A in run.factors)
    ok = run_matrix(W, identity_init(4, 3, 0.05), lr=0.2, steps=50)
    assert ok.status == "ok" and ok.diverged_step is None and ok.final_step == 50


def test_divergence_bound_is_honoured_before_overflow():
    _, W = _paper_problem(4)
    run = run_matrix(W, identity_init(4, 3, 1.5), lr=2.0, steps=500, divergence_bound=10.0)
    assert run.status == "diverged"
    assert max(max(abs(float(s)) for s in sv) for sv in run.singular_values) <= 10.0 * 4 ** 0.5


def test_every_and_top_record_a_stream_not_the_matrices():
    _, W = _paper_problem(6)
    run = run_matrix(W, identity_init(6, 3, 0.05), lr=0.2, steps=95, every=10, top=2)
    assert run.steps == (0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95)
    assert all(len(s) == 2 for s in run.singular_values) and len(run.loss) == len(run.steps)
    full = run_matrix(W, identity_init(6, 3, 0.05), lr=0.2, steps=95)
    assert run.singular_values[3] == full.singular_values[30][:2]
    with pytest.raises(ValueError, match="rank 2 needs 3"):
        low_rank_interval(run, [1, 0.1, 0.05], rank=2, eps=0.1, theta=0.05)


def test_effective_rank_counts_singular_values_above_the_relative_floor():
    _, W = _paper_problem(10)
    run = run_matrix(W, identity_init(10, 3, 0.05), lr=0.2, steps=3000, every=500)
    ranks = effective_ranks(run)
    assert ranks[0] == 10  # alpha^N I: all equal
    assert ranks[-1] == 3  # 1, 0.1, 0.05 learned; the zero directions decayed below 1e-3


def test_reference_levels_are_the_positive_eigenvalues_or_the_singular_values():
    S = np.diag([2.0, 0.5, -1.5])
    assert reference_levels(S) == ([2.0, 0.5, 0.0], "eigenvalues of Y, negative ones as 0")
    A = np.array([[0.0, 2.0], [-0.5, 0.0]])
    levels, kind = reference_levels(A)
    assert kind == "singular values of Y" and np.allclose(levels, [2.0, 0.5])


def test_inputs_are_not_modified():
    Y = _nonsymmetric(3, 1)
    init = perturbed_identity_init(3, 3, 0.3, 0.5, seed=1)
    Yc, ic = Y.copy(), [A.copy() for A in init]
    run_matrix(Y, init, lr=0.1, steps=5, optimizer="adam")
    assert np.array_equal(Y, Yc) and all(np.array_equal(a, b) for a, b in zip(init, ic))


@pytest.mark.parametrize("kwargs, match", [
    (dict(lr=0.0), "lr must be > 0"),
    (dict(lr=float("nan")), "lr must be finite"),
    (dict(steps=-1), "steps must be an integer"),
    (dict(optimizer="sgd"), "optimizer must be one of"),
    (dict(beta1=1.0, optimizer="adam"), "beta1 must be < 1"),
    (dict(adam_eps=0.0, optimizer="adam"), "adam_eps must be > 0"),
    (dict(arithmetic="float32"), "arithmetic must be one of"),
    (dict(every=0), "every must be an integer >= 1"),
])
def test_bad_input_is_a_value_error_naming_it(kwargs, match):
    args = dict(lr=0.1, steps=3)
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        run_matrix(np.eye(2), identity_init(2, 2, 0.5), **args)


def test_bad_matrices_are_value_errors():
    with pytest.raises(ValueError, match="non-finite"):
        run_matrix([[1.0, float("nan")], [0.0, 1.0]], identity_init(2, 2, 0.5), lr=0.1, steps=1)
    with pytest.raises(ValueError, match="init\\[1\\] is 3x3"):
        run_matrix(np.eye(2), [np.eye(2), np.eye(3)], lr=0.1, steps=1)
    with pytest.raises(ValueError, match="N >= 2"):
        run_matrix(np.eye(2), [np.eye(2)], lr=0.1, steps=1)
    with pytest.raises(ValueError, match="sigma must be >= 0"):
        perturbed_identity_init(2, 2, 0.5, -0.1, seed=0)


def test_random_inits_are_seeded():
    a = perturbed_identity_init(3, 3, 0.1, 0.5, seed=9)
    b = perturbed_identity_init(3, 3, 0.1, 0.5, seed=9)
    c = perturbed_identity_init(3, 3, 0.1, 0.5, seed=10)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not np.array_equal(a[0], c[0])
    assert np.array_equal(perturbed_identity_init(3, 3, 0.1, 0.0, seed=9)[0], 0.1 * np.eye(3))
