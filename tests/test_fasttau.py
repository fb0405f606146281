"""float64 tau and rho against bounds.flow at 50 digits: a seeded sweep of thousands of
points and Hypothesis, across tiny alpha, u near 1, a ~ b and N = 2..8."""

import mpmath
import numpy as np
import pytest
from hypothesis import given, strategies as st

from bounds import flow
from verify.fasttau import REL_ERROR_BOUND, rho, tau


def rel_errors(t, a, b, N):
    got = tau(t, a, b, N)
    errs = []
    with mpmath.workdps(50):
        for ti, ai, bi, gi in zip(t, a, b, got):
            ref = flow.tau(mpmath.mpf(float(ti)), mpmath.mpf(float(ai)), mpmath.mpf(float(bi)), N)
            errs.append(float(abs((mpmath.mpf(float(gi)) - ref) / ref)))
    return np.array(errs)


def sweep_points(rng, M):
    """t in [0.1, 3]; a = alpha^N-like down to 1e-48 t, b up to (1 - 1e-12) t, 20 % a ~ b."""
    t = rng.uniform(0.1, 3.0, M)

    def u_draw():
        small = 10 ** rng.uniform(-48, -0.3, M)
        near_one = 1 - 10 ** rng.uniform(-12, -0.3, M)
        return np.where(rng.random(M) < 0.5, small, near_one)

    ua, ub = u_draw(), u_draw()
    ub = np.where(rng.random(M) < 0.2, ua * (1 + 10 ** rng.uniform(-12, -1, M)), ub)
    a, b = ua * t, ub * t
    ok = (a > 0) & (b > 0) & (a < t) & (b < t) & (a != b)
    return t[ok], a[ok], b[ok]


@pytest.mark.parametrize("N", range(2, 9))
def test_seeded_sweep_is_within_the_documented_bound(N):
    rng = np.random.default_rng(1000 + N)
    t, a, b = sweep_points(rng, 500)
    errs = rel_errors(t, a, b, N)
    assert len(errs) >= 450
    assert errs.max() <= REL_ERROR_BOUND, (errs.max(), np.argmax(errs))


def test_small_alpha_and_levels_near_t():
    """The instance builders' corner: a = alpha^N with alpha = 1e-6, b = (1 - 1e-9) t."""
    for N in range(2, 9):
        t = np.array([0.3, 1.0, 2.5])
        a = np.full(3, 1e-6) ** N
        b = (1 - 1e-9) * t
        assert rel_errors(t, a, b, N).max() <= REL_ERROR_BOUND


@given(N=st.integers(2, 8), t=st.floats(0.05, 5.0), la=st.floats(-48, -1e-3),
       lb=st.floats(-12, -1e-3), lc=st.floats(-48, -1e-3), near_one=st.booleans(),
       flip=st.booleans())
def test_hypothesis_points(N, t, la, lb, lc, near_one, flip):
    a = 10**la * t
    b = (1 - 10**lb) * t if near_one else 10**lc * t
    if not (0 < a < t and 0 < b < t) or a == b:
        return
    if flip:
        a, b = b, a
    errs = rel_errors(np.array([t]), np.array([a]), np.array([b]), N)
    assert errs[0] <= REL_ERROR_BOUND


def test_antisymmetric_zero_on_the_diagonal_and_broadcast():
    t, a, b = 1.5, np.array([0.1, 0.7]), np.array([0.7, 0.1])
    for N in (2, 3, 6):
        v = tau(t, a, b, N)
        assert v.shape == (2,) and v[0] == -v[1] and v[0] > 0
        assert tau(t, 0.3, 0.3, N) == 0.0
    grid = tau(np.array([[1.0], [2.0]]), 0.1, np.array([0.5, 0.6, 0.7]), 3)
    assert grid.shape == (2, 3)


def test_invalid_inputs():
    for bad in [(1.0, 0.0, 0.5), (1.0, 0.5, 1.0), (1.0, 0.5, np.nan), (-1.0, 0.1, 0.2)]:
        with pytest.raises(ValueError):
            tau(*bad, 3)
    with pytest.raises(ValueError):
        tau(1.0, 0.1, 0.5, 1)
    with pytest.raises(ValueError):
        rho(1.0, 0.0, 3)


def test_rho_against_bounds_flow():
    rng = np.random.default_rng(3)
    for N in range(2, 9):
        t = rng.uniform(0.0, 3.0, 50)
        eta = rng.uniform(0.01, 1.0, 50) / (N * np.maximum(t, 1e-3) ** (2 - 2 / N))
        got = rho(t, eta, N)
        with mpmath.workdps(50):
            for ti, ei, gi in zip(t, eta, got):
                ref = flow.rho(mpmath.mpf(float(ti)), mpmath.mpf(float(ei)), N)
                assert abs((mpmath.mpf(float(gi)) - ref) / ref) <= 1e-14
