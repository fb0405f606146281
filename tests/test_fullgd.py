"""Tests for verify/fullgd.py: full-matrix GD, and claim R1 (reduction) agreement."""

import copy

import mpmath
import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from verify.fullgd import FullRun, reduction_mismatch, simulate_full
from verify.instances import (
    observed,
    psd_target,
    random_orthogonal,
    random_perturbation,
    weyl_extremal_perturbation,
)

DPS = 50


def max_abs(M):
    return max(abs(M[i, j]) for i in range(M.rows) for j in range(M.cols))


def loss(factors, Y):
    P = factors[0]
    for W in factors[1:]:
        P = W * P
    D = P - Y
    return sum(D[i, j] ** 2 for i in range(D.rows) for j in range(D.cols)) / 2


# ---------------------------------------------------------------- basic behaviour


def test_scalar_one_step_by_hand():
    with mpmath.workdps(DPS):
        a, eta, y = mpmath.mpf("0.5"), mpmath.mpf("0.1"), mpmath.mpf(2)
        for N in (2, 3, 5):
            run = simulate_full([[y]], depth=N, eta=eta, alpha=a, steps=1, dps=DPS)
            x1 = a + eta * a ** (N - 1) * (y - a**N)
            assert run.products[0][0, 0] == a**N
            assert abs(run.products[1][0, 0] - x1**N) < mpmath.mpf(10) ** -(DPS - 2)
            assert all(abs(W[0, 0] - x1) < mpmath.mpf(10) ** -(DPS - 2) for W in run.factors)


@pytest.mark.parametrize("N", [2, 3, 4])
def test_update_is_minus_eta_times_gradient_of_loss(N):
    """One step equals W_j - eta dL/dW_j, dL/dW_j checked by central differences."""
    n, dps = 2, 40
    rng = np.random.default_rng(N)
    Y = rng.standard_normal((n, n))  # non-symmetric on purpose
    init = [np.eye(n) * 0.7 + 0.2 * rng.standard_normal((n, n)) for _ in range(N)]
    eta = mpmath.mpf(2) ** -10
    run = simulate_full(Y, depth=N, eta=eta, init=init, steps=1, dps=dps)
    with mpmath.workdps(dps):
        Ym = mpmath.matrix(Y.tolist())
        fac = [mpmath.matrix(W.tolist()) for W in init]
        h = mpmath.mpf(10) ** -12
        for j in range(N):
            grad_step = (fac[j] - run.factors[j]) / eta
            for a in range(n):
                for b in range(n):
                    plus = [mpmath.matrix(W) for W in fac]
                    minus = [mpmath.matrix(W) for W in fac]
                    plus[j][a, b] += h
                    minus[j][a, b] -= h
                    fd = (loss(plus, Ym) - loss(minus, Ym)) / (2 * h)
                    assert abs(fd - grad_step[a, b]) < mpmath.mpf(10) ** -18


def test_loss_decreases_for_small_step():
    Y = [[1.0, 0.3], [0.3, 0.5]]
    run = simulate_full(Y, depth=3, eta=0.05, alpha=0.5, steps=50, dps=30)
    with mpmath.workdps(30):
        Ym = mpmath.matrix(Y)
        err = [max_abs(run.products[k] - Ym) for k in range(51)]
    assert err[50] < err[0]
    assert isinstance(run, FullRun) and run.dps == 30 and run.depth == 3 and run.steps == 50
    assert not run.diverged and run.diverged_step is None and run.final_step == 50


def test_checkpoints_subset():
    run = simulate_full([[1, 0], [0, 2]], depth=2, eta=0.1, alpha=0.3, steps=10,
                        checkpoints=[0, 5, 10], dps=20)
    assert sorted(run.products) == [0, 5, 10]
    full = simulate_full([[1, 0], [0, 2]], depth=2, eta=0.1, alpha=0.3, steps=10, dps=20)
    assert sorted(full.products) == list(range(11))
    assert full.products[5] == run.products[5]


def test_divergence_flagged():
    run = simulate_full([[4.0]], depth=2, eta=5.0, alpha=1.0, steps=100, dps=20)
    assert run.diverged and run.diverged_step is not None
    assert run.final_step == run.diverged_step - 1
    assert max(run.products) < run.diverged_step
    assert all(mpmath.isfinite(W[0, 0]) for W in run.factors)
    assert reduction_mismatch([[4.0]], depth=2, eta=5.0, alpha=1.0, steps=100, dps=20) == mpmath.inf


def test_no_global_precision_change_and_no_mutation():
    prec = mpmath.mp.prec
    Y = [[1.0, 0.2], [0.1, 0.5]]
    Yn = np.array(Y)
    init = [np.eye(2) * 0.5, [[0.5, 0.01], [0.0, 0.5]]]
    keep = (copy.deepcopy(Y), Yn.copy(), copy.deepcopy(init))
    simulate_full(Y, depth=2, eta=0.1, init=init, steps=3, dps=60)
    simulate_full(Yn, depth=2, eta=0.1, alpha=0.5, steps=3, dps=60)
    Ym = mpmath.matrix(Y)
    Ym0 = mpmath.matrix(Ym)
    reduction_mismatch(Ym, depth=2, eta=0.1, alpha=0.5, steps=3, dps=60)
    assert mpmath.mp.prec == prec
    assert Y == keep[0] and np.array_equal(Yn, keep[1]) and Ym == Ym0
    assert np.array_equal(init[0], keep[2][0]) and init[1] == keep[2][1]


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(depth=1), "depth must be an integer >= 2"),
        (dict(depth=2.0), "depth must be an integer >= 2"),
        (dict(depth=True), "depth must be an integer >= 2"),
        (dict(eta=0), "eta must be positive"),
        (dict(eta=-0.1), "eta must be positive"),
        (dict(eta=float("nan")), "eta.*NaN or infinite"),
        (dict(eta="0.1"), "eta must be a positive finite number"),
        (dict(alpha=0), "alpha must be positive"),
        (dict(alpha=-1), "alpha must be positive"),
        (dict(alpha=None), "give exactly one of alpha"),
        (dict(init=[[[1, 0], [0, 1]]] * 2), "give exactly one of alpha"),
        (dict(steps=-1), "steps must be an integer >= 0"),
        (dict(steps=1.5), "steps must be an integer >= 0"),
        (dict(dps=14), "dps must be an integer >= 15"),
        (dict(Y=[[1, 2]]), "Y: not square"),
        (dict(Y=[[1, float("nan")], [0, 1]]), "Y.*NaN or infinite"),
        (dict(Y=[[1, "x"], [0, 1]]), "Y.*non-numeric"),
        (dict(Y=[]), "Y: empty matrix"),
        (dict(checkpoints=[0, 11]), "checkpoint 11 exceeds steps=10"),
        (dict(checkpoints=[-1]), "checkpoint must be an integer >= 0"),
        (dict(checkpoints=5), "checkpoints must be an iterable"),
    ],
)
def test_simulate_full_rejects(kwargs, match):
    args = dict(Y=[[1, 0], [0, 2]], depth=2, eta=0.1, alpha=0.5, steps=10, dps=30)
    args.update(kwargs)
    Y = args.pop("Y")
    with pytest.raises(ValueError, match=match):
        simulate_full(Y, **args)


@pytest.mark.parametrize(
    "init, match",
    [
        ([[[1, 0], [0, 1]]], "init must have depth=2 matrices, got 1"),
        ([[[1, 0], [0, 1]], [[1]]], r"init\[1\]: shape 1x1 does not match Y's 2x2"),
        ([[[1, 0], [0, 1]], [[1, float("inf")], [0, 1]]], r"init\[1\].*NaN or infinite"),
        ([[[1, 0], [0, 1]], [[1, 0, 0], [0, 1, 0]]], r"init\[1\]: not square"),
        ("ab", "init must be a sequence"),
    ],
)
def test_simulate_full_rejects_bad_init(init, match):
    with pytest.raises(ValueError, match=match):
        simulate_full([[1, 0], [0, 2]], depth=2, eta=0.1, init=init, steps=2)


def test_reduction_mismatch_requires_alpha():
    with pytest.raises(ValueError, match="alpha is required"):
        reduction_mismatch([[1]], depth=2, eta=0.1, alpha=None, steps=2)


def test_performance_n5_N5_300_steps():
    import time

    tgt = psd_target([1.5, 1, 0.5, 0.2, 0.05], seed=1)
    Y = observed(tgt, random_perturbation(5, 0.1, seed=2)).Y
    t0 = time.perf_counter()
    run = simulate_full(Y, depth=5, eta=0.05, alpha=0.3, steps=300, dps=50)
    assert time.perf_counter() - t0 < 5.0
    assert not run.diverged


# ---------------------------------------------------------------- R1: reduction agreement


def build_instance(p, dps=DPS):
    """Instance of claim R1 from plain numbers; eta admissible by construction.

    eta = frac / (N max(t_1, alpha^N)^A), A = 2 - 2/N (the P1 step bound); if some t_i < 0
    it is additionally capped by 1 / (alpha^(N-2) (alpha^N - t_min)) (the S3 positivity
    condition), so every admissible draw is used (no filtering).
    """
    N = p["N"]
    with mpmath.workdps(dps):
        tgt = psd_target(p["spec"], seed=p["seed"], dps=dps)
        n = tgt.n
        if p["r"] is None:
            E = random_perturbation(n, p["norm"], seed=p["seed"] + 1, dps=dps)
        else:
            E = weyl_extremal_perturbation(tgt, p["r"], p["norm"], dps=dps)
        obs = observed(tgt, E, dps=dps)
        alpha = mpmath.mpf(p["alpha"])
        A = 2 - mpmath.mpf(2) / N
        bound = 1 / (N * max(obs.t[0], alpha**N) ** A)
        tmin = obs.t[-1]
        if tmin < 0:
            bound = min(bound, 1 / (alpha ** (N - 2) * (alpha**N - tmin)))
        eta = mpmath.mpf(p["frac"]) * bound
        return obs, alpha, eta


@st.composite
def r1_params(draw, max_n=5):
    N = draw(st.integers(2, 5))
    n = draw(st.integers(1, min(max_n, 5 if N <= 3 else 3)))
    spec = draw(st.lists(st.floats(0, 2, exclude_min=True, allow_subnormal=False),
                         min_size=n, max_size=n))
    r = draw(st.one_of(st.none(), st.integers(0, n)))
    return dict(
        N=N,
        spec=spec,
        r=r,
        norm=draw(st.floats(0, 0.3, allow_subnormal=False)),
        seed=draw(st.integers(0, 2**31)),
        alpha=draw(st.floats(0.05, 1.0)),
        frac=draw(st.floats(0.05, 0.9, exclude_min=True, exclude_max=True)),
        steps=draw(st.integers(1, 200)),
    )


EDGE_N2_N1 = dict(N=2, spec=[1.0], r=None, norm=0.0, seed=0, alpha=0.1, frac=0.5, steps=100)
EDGE_ZERO_EIG = dict(N=3, spec=[1.5, 0.0, 0.7], r=None, norm=0.0, seed=3, alpha=0.3,
                     frac=0.8, steps=150)
EDGE_NEG_EIG = dict(N=4, spec=[1.2, 0.05, 0.5], r=3, norm=0.2, seed=5, alpha=0.5,
                    frac=0.85, steps=200)
EDGE_BIG_N5 = dict(N=5, spec=[2.0, 1.0, 0.1], r=None, norm=0.3, seed=9, alpha=1.0,
                   frac=0.89, steps=200)


def check_r1(p):
    obs, alpha, eta = build_instance(p)
    mm = reduction_mismatch(obs.Y, depth=p["N"], eta=eta, alpha=alpha, steps=p["steps"],
                            dps=DPS)
    assert mm < mpmath.mpf(10) ** -40, (p, mm)


@settings(max_examples=50)
@given(p=r1_params())
@example(p=EDGE_N2_N1)
@example(p=EDGE_ZERO_EIG)
@example(p=EDGE_NEG_EIG)
@example(p=EDGE_BIG_N5)
def test_R1_full_gd_equals_reduced_dynamics(p):
    check_r1(p)


@pytest.mark.slow
@settings(max_examples=1000)
@given(p=r1_params())
def test_R1_full_gd_equals_reduced_dynamics_many(p):
    check_r1(p)


def test_R1_edge_examples_are_what_they_claim():
    obs, _, _ = build_instance(EDGE_NEG_EIG)
    assert obs.t[-1] < 0
    obs, _, _ = build_instance(EDGE_ZERO_EIG)
    assert obs.t[-1] == 0 or abs(obs.t[-1]) < 1e-45
    obs, _, _ = build_instance(EDGE_N2_N1)
    assert obs.n == 1


def test_R1_factors_stay_equal_and_symmetric():
    obs, alpha, eta = build_instance(EDGE_NEG_EIG)
    run = simulate_full(obs.Y, depth=4, eta=eta, alpha=alpha, steps=50, dps=DPS)
    with mpmath.workdps(DPS):
        W1 = run.factors[0]
        for W in run.factors:
            assert max_abs(W - W1) < mpmath.mpf(10) ** -45
            assert max_abs(W - W.T) < mpmath.mpf(10) ** -45


# ---------------------------------------------------------------- negative controls


def test_negative_control_nonsymmetric_Y():
    """R1 needs Y symmetric: with a skew part the full run leaves the reduced trajectory."""
    with mpmath.workdps(DPS):
        obs, alpha, eta = build_instance(EDGE_ZERO_EIG)
        Y = mpmath.matrix(obs.Y)
        Y[0, 1] += mpmath.mpf("0.1")
        Y[1, 0] -= mpmath.mpf("0.1")
    mm = reduction_mismatch(Y, depth=3, eta=eta, alpha=alpha, steps=100, dps=DPS)
    assert mm > 1e-10
    # same instance with the symmetric Y agrees
    assert reduction_mismatch(obs.Y, depth=3, eta=eta, alpha=alpha, steps=100,
                              dps=DPS) < mpmath.mpf(10) ** -40


@pytest.mark.parametrize("N", [2, 3])
def test_negative_control_nonscalar_init(N):
    """R1 needs W_j(0) = alpha I: a small non-commuting perturbation of W_1 breaks it."""
    p = dict(EDGE_ZERO_EIG, N=N)
    obs, alpha, eta = build_instance(p)
    n = obs.n
    with mpmath.workdps(DPS):
        Qs = random_orthogonal(n, seed=99, dps=DPS)
        S = Qs * mpmath.diag([mpmath.mpf(i) / 100 for i in range(n)]) * Qs.T
        S = (S + S.T) / 2
        # S does not commute with Y
        assert max_abs(S * obs.Y - obs.Y * S) > 1e-6
        init = [mpmath.eye(n) * alpha for _ in range(N)]
        init[0] = init[0] + S
    mm = reduction_mismatch(obs.Y, depth=N, eta=eta, alpha=alpha, steps=100, dps=DPS,
                            init=init)
    assert mm > 1e-10


def test_float64_arithmetic_is_the_same_iteration():
    rng = np.random.default_rng(1)
    G = rng.standard_normal((4, 4))
    Y = (G + G.T) / 4
    ref = simulate_full(Y, depth=3, eta=0.05, alpha=0.3, steps=40, checkpoints=[0, 10, 40], dps=40)
    f64 = simulate_full(Y, depth=3, eta=0.05, alpha=0.3, steps=40, checkpoints=[0, 10, 40],
                        arithmetic="float64")
    for k in (0, 10, 40):
        assert np.max(np.abs(np.array(ref.products[k].tolist(), dtype=float) - f64.products[k])) < 1e-13
    assert not f64.diverged and len(f64.factors) == 3


def test_streamed_run_stores_nothing_per_step():
    seen = []
    for arithmetic in ("mpmath", "float64"):
        run = simulate_full([[1.0, 0.2], [0.2, 0.5]], depth=2, eta=0.1, alpha=0.5, steps=200,
                            checkpoints=(), monitor=lambda k, P: seen.append(k) and False,
                            arithmetic=arithmetic, dps=20)
        assert run.products == {} and run.final_step == 200
    assert len(seen) == 2 * 201

