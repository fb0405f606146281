"""Tests for bounds/lowrank.py: UB0/LB1 against simulated trajectories, the L2 error bound,
and each algebraic step of the L3 ratio form."""

import math
import random

import mpmath
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from bounds.flow import J_N, k1_level_max, k3_lower, k3_upper, monotone_step_bound, phi, rho, tau
from bounds.lowrank import (
    l1_hypotheses,
    l2_error_bound,
    l3_ratio_threshold,
    l3_sufficient,
    lb1,
    spectral_condition,
    ub0,
)


def _simulate_times(s, r, eps, theta, alpha, eta, N, cap=20000):
    """T0, T1 of the noiseless trajectories (T1 = None if not reached within cap) and
    the max over k in [T0, T1] of max_i |x_i^N - (W_r)_ii| (eigenbasis error)."""
    xs = [mpmath.mpf(alpha)] * len(s)
    T0 = None
    T1 = None
    traj_err = []
    for k in range(cap + 1):
        p = [v**N for v in xs]
        if T0 is None and all(p[i] >= (1 - eps) * s[i] for i in range(r)):
            T0 = k
        if T1 is None and p[r] > theta:
            T1 = k - 1
        if T1 is None:
            err = max([abs(p[i] - s[i]) for i in range(r)] + [abs(p[i]) for i in range(r, len(s))])
            traj_err.append((k, err))
        if T0 is not None and T1 is not None:
            break
        xs = [phi(v, si, eta, N) for v, si in zip(xs, s)]
    return T0, T1, traj_err


def _instance(seed):
    rng = random.Random(seed)
    with mpmath.workdps(40):
        N = rng.choice([2, 3, 4])
        s1 = mpmath.mpf(rng.uniform(0.5, 3))
        s2 = s1 * mpmath.mpf(rng.uniform(0.05, 0.5))
        s3 = s2 * mpmath.mpf(rng.uniform(0, 0.9))
        s = [s1, s2, s3]
        r = 1
        eps = mpmath.mpf(rng.choice(["0.1", "0.05", "0.2"]))
        alpha = ((1 - eps) * s2 * mpmath.mpf(rng.uniform(0.05, 0.5))) ** (mpmath.mpf(1) / N)
        theta = max(alpha**N, s2 * mpmath.mpf(rng.uniform(0.1, 0.6)))
        eta = monotone_step_bound(s1, N) * mpmath.mpf(rng.uniform(0.2, 1))
        return (s, r, eps, theta, alpha, eta, N)


@pytest.mark.parametrize("seed", range(12))
def test_l1_bounds_bracket_simulated_times_and_l2_error(seed):
    inst = _instance(seed)
    s, r, eps, theta, alpha, eta, N = inst
    with mpmath.workdps(40):
        assert l1_hypotheses(s, r, eps, theta, alpha, eta, N)
        U, L = ub0(*inst), lb1(*inst)
        T0, T1, errs = _simulate_times(s, r, eps, theta, alpha, eta, N, cap=max(U, 50) + (L or 0) + 10)
        assert T0 is not None and T0 <= U
        if L is not None:
            assert T1 is not None and T1 >= L
        else:
            assert T1 is None
        bound = l2_error_bound(s, r, eps, theta)
        hi = T1 if T1 is not None else errs[-1][0]
        for k, err in errs:
            if T0 <= k <= hi:
                assert err <= bound * (1 + mpmath.mpf(10) ** -30)


def test_lb1_infinite_when_threshold_above_next_eigenvalue():
    assert lb1([2, "0.5", 0], 1, "0.1", "0.5", "0.1", "0.1", 2) is None
    assert lb1([2, 0], 1, "0.1", "0.02", "0.125", "0.1", 2) is None


def test_lb1_zero_when_level_at_or_below_init():
    # theta' = s_2/3 = 0.0333 < alpha^2 = 0.04 <= theta
    assert lb1([2, "0.1"], 1, "0.1", "0.05", "0.2", "0.1", 2) == 0


def test_ub0_is_max_over_leading_terms():
    with mpmath.workdps(40):
        s = [3, 2, "0.1"]
        eps, alpha, eta, N = mpmath.mpf("0.1"), mpmath.mpf("0.1"), mpmath.mpf("0.1"), 3
        terms = []
        for si in [mpmath.mpf(3), mpmath.mpf(2)]:
            terms.append(int(mpmath.ceil(rho(si, eta, N) * tau(si, alpha**N, (1 - eps) * si, N) / eta)))
        assert ub0(s, 2, eps, "0.05", alpha, eta, N) == max(terms)


def test_spectral_condition_is_bool_and_never_raises_on_inadmissible():
    cases = [
        ([2, 2, 1], 1, "0.1", "0.05", "0.1", "0.1", 2),  # no gap
        ([2, "0.5"], 1, "0.1", "0.001", "0.1", "0.1", 2),  # theta < alpha^N
        ([2, "0.5"], 1, "0.1", "0.05", "0.1", "5", 2),  # step too large
        ([2, "0.5"], 1, "0.1", "0.05", "1.5", "0.1", 2),  # alpha^N above (1-eps) s_r
    ]
    for c in cases:
        v = spectral_condition(*c)
        assert v is False
        assert type(l3_sufficient(*c)) is bool


@pytest.mark.parametrize(
    "args, word",
    [
        (([1, 2], 1, "0.1", "0.1", "0.1", "0.1", 2), "descending"),
        (([2, -1], 1, "0.1", "0.1", "0.1", "0.1", 2), "negative"),
        (([2, 1], 2, "0.1", "0.1", "0.1", "0.1", 2), "r must"),
        (([2, 1], 0, "0.1", "0.1", "0.1", "0.1", 2), "r must"),
        (([2, 1], 1, "1.5", "0.1", "0.1", "0.1", 2), "eps"),
        (([2, 1], 1, "0.1", "0.1", "-0.1", "0.1", 2), "alpha"),
        (([2, 1], 1, "0.1", "0.1", "0.1", "0", 2), "eta"),
        (([2, 1], 1, "0.1", "0.1", "0.1", "0.1", 1), "N"),
        (([2, float("nan")], 1, "0.1", "0.1", "0.1", "0.1", 2), "finite"),
    ],
)
def test_bad_input_raises_value_error(args, word):
    for f in (ub0, lb1, spectral_condition, l3_sufficient):
        with pytest.raises(ValueError, match=word):
            f(*args)


# ---------------------------------------------------------------------------
# L3: derivation steps
# ---------------------------------------------------------------------------

a, eta_, si, sr, sn, th, Jv, rh = sp.symbols("alpha eta s_i s_r s_next theta J rho", positive=True)


@pytest.mark.parametrize("N", [3, 4, 5, 6, 7, 8])
def test_l3_rearrangement_depth_ge_three(N):
    A_ = 2 - sp.Rational(2, N)
    X = rh * (a ** (-(N - 2)) / ((N - 2) * si) + Jv / (N * si**A_)) / eta_  # K3 upper / eta
    Y = (a ** (-(N - 2)) - th ** (-sp.Rational(N - 2, N))) / ((N - 2) * sn * eta_)  # K3 lower / eta
    den = 1 - (a**N / th) ** sp.Rational(N - 2, N)
    num = rh * (sr / si) * (1 + (N - 2) * Jv * a ** (N - 2) * si ** (1 - A_) / N) + 2 * (N - 2) * eta_ * a ** (N - 2) * sr
    # (Y - X - 2) * (N-2) eta alpha^(N-2) s_r == s_r den / s_next - num, a positive multiple
    lhs = (Y - X - 2) * (N - 2) * eta_ * a ** (N - 2) * sr
    rhs = sr * den / sn - num
    assert sp.simplify(sp.powsimp(sp.expand(lhs - rhs), force=True)) == 0
    # the expressions above are the ones in bounds/: X = rho K3-upper/eta, Y = K3-lower/eta,
    # num/den = the terms of lowrank.l3_ratio_threshold (max over i <= r)
    _l3_expressions_match_bounds(N, X, Y, num / den, {})


def _l3_points(N, n=4, seed=11):
    """Points (s = [s_1, s_2, s_next], eps, theta, alpha, eta) with r = 2, theta strictly between
    alpha^N and s_next (N-1)/(2N-1) (so theta' = theta), at the current precision."""
    rng = random.Random(seed * 100 + N)
    out = []
    for _ in range(n):
        s1 = mpmath.mpf(rng.uniform(0.5, 3))
        s2 = s1 * mpmath.mpf(rng.uniform(0.3, 0.9))
        sn = s2 * mpmath.mpf(rng.uniform(0.01, 0.3))
        alpha = (sn * mpmath.mpf(rng.uniform(0.001, 0.05))) ** (mpmath.mpf(1) / N)
        theta = alpha**N + (k1_level_max(sn, N) - alpha**N) * mpmath.mpf(rng.uniform(0.1, 0.9))
        eps = mpmath.mpf(rng.uniform(0.01, 0.5))
        eta = monotone_step_bound(s1, N) * mpmath.mpf(rng.uniform(0.1, 1))
        out.append(([s1, s2, sn], eps, theta, alpha, eta))
    return out


def _rel_close(x, y, tol=40):
    return abs(x - y) <= mpmath.mpf(10) ** -tol * max(abs(x), abs(y))


def _l3_expressions_match_bounds(N, X, Y, term, extra):
    """Evaluate the derivation's X, Y and ratio term at random points (50 digits) and compare
    with bounds.flow.k3_upper / k3_lower (N >= 3) or bounds.flow.tau (N = 2) and with
    bounds.lowrank.l3_ratio_threshold."""
    epsS = sp.Symbol("eps")
    syms = (a, eta_, si, sr, sn, th, Jv, rh, epsS)
    fX, fY, fT = (sp.lambdify(syms, ex, modules="mpmath") for ex in (X, Y, term))
    with mpmath.workdps(50):
        for s, eps, theta, alpha, eta in _l3_points(N):
            J = J_N(eps, N) if N >= 3 else mpmath.mpf(0)
            terms = []
            for s_i in s[:2]:
                args = (alpha, eta, s_i, s[1], s[2], theta, J, rho(s_i, eta, N), eps)
                if N >= 3:
                    x_ref = rho(s_i, eta, N) * k3_upper(s_i, eps, alpha, N) / eta
                    y_ref = k3_lower(s[2], theta, alpha, N) / eta
                else:
                    x_ref = rho(s_i, eta, N) * tau(s_i, alpha**N, (1 - eps) * s_i, N) / eta
                    y_ref = tau(s[2], alpha**N, theta, N) / eta
                assert _rel_close(fX(*args), x_ref), (N, s_i)
                assert _rel_close(fY(*args), y_ref), N
                terms.append(fT(*args))
            R = l3_ratio_threshold(s, 2, eps, theta, alpha, eta, N)
            assert _rel_close(max(terms), R), (N, max(terms), R)


def test_l3_rearrangement_depth_two():
    L = -sp.log(a**2)
    c = a**2 / si
    X = rh * (sp.log((1 - sp.Symbol("eps")) / sp.Symbol("eps")) - sp.log(c / (1 - c))) / (2 * si * eta_)
    Y = (sp.log(th / (sn - th)) - sp.log(a**2 / (sn - a**2))) / (2 * sn * eta_)
    eps = sp.Symbol("eps")
    num = rh * (sr / si) * (L + sp.log((1 - eps) / eps) + sp.log(si - a**2)) + 4 * eta_ * sr
    den = L + sp.log(th * (sn - a**2) / (sn - th))
    lhs = (Y - X - 2) * 2 * eta_ * sr
    rhs = sr * den / sn - num
    diff = sp.expand(sp.expand_log(lhs - rhs, force=True))
    assert sp.simplify(diff) == 0
    _l3_expressions_match_bounds(2, X, Y, num / den, {})


def _random_l3_instances(seed, n):
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        N = rng.choice([2, 3, 4, 5, 6])
        s1 = mpmath.mpf(rng.uniform(0.5, 5))
        m = rng.randint(1, 3)
        s = sorted([s1] + [s1 * mpmath.mpf(rng.uniform(0.3, 1)) for _ in range(m - 1)], reverse=True)
        snext = s[-1] * mpmath.mpf(10) ** (-rng.uniform(0.05, 3))
        s = s + [snext, snext * mpmath.mpf(rng.uniform(0, 1))]
        r = m
        alpha = mpmath.mpf(10) ** (-rng.uniform(0.5, 4 if N == 2 else 2.5))
        eps = mpmath.mpf(10) ** (-rng.uniform(0.3, 4))
        theta = max(alpha**N, snext * mpmath.mpf(rng.uniform(0.05, 1.2)))
        eta = monotone_step_bound(s[0], N) * mpmath.mpf(rng.uniform(0.05, 1))
        out.append((s, r, eps, theta, alpha, eta, N))
    return out


def test_l3_sufficient_implies_spectral_condition_sampled():
    hits = 0
    with mpmath.workdps(30):
        for inst in _random_l3_instances(7, 150):
            if l3_sufficient(*inst):
                hits += 1
                assert spectral_condition(*inst), inst
    assert hits >= 20  # the sample actually exercises the implication


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10**6))
def test_l3_sufficient_implies_spectral_condition_hypothesis(seed):
    with mpmath.workdps(30):
        for inst in _random_l3_instances(seed, 3):
            if l3_sufficient(*inst):
                assert spectral_condition(*inst)


@pytest.mark.parametrize("N", [3, 4, 5])
def test_l3_threshold_tends_to_rho_ratio_with_alpha_power_correction(N):
    with mpmath.workdps(40):
        s = [2, 1, "0.1"]
        eps, theta = "0.01", "0.02"
        eta = monotone_step_bound(2, N) / 2
        limit = max(rho(2, eta, N) * mpmath.mpf(1) / 2, rho(1, eta, N))
        gaps = []
        for al in ["1e-2", "1e-3", "1e-4"]:
            R = l3_ratio_threshold(s, 2, eps, theta, al, eta, N)
            gaps.append((R / limit - 1) / mpmath.mpf(al) ** (N - 2))
            assert R > limit
        # (R/limit - 1) / alpha^(N-2) stays bounded (and converges)
        assert abs(gaps[-1] - gaps[-2]) < mpmath.mpf("0.2") * abs(gaps[-1]) + mpmath.mpf("1e-6")


def test_l3_threshold_depth_two_log_correction():
    with mpmath.workdps(40):
        s = [2, 1, "0.1"]
        eps, theta = "0.01", "0.02"
        eta = monotone_step_bound(2, 2) / 2
        limit = max(rho(2, eta, 2) / 2, rho(1, eta, 2))
        prods = []
        for al in ["1e-3", "1e-6", "1e-12", "1e-24"]:
            R = l3_ratio_threshold(s, 2, eps, theta, al, eta, 2)
            L = -mpmath.log(mpmath.mpf(al) ** 2)
            prods.append((R / limit - 1) * L)
        # correction * ln(1/alpha^2) converges: O(ln(1/eps)/ln(1/alpha^2))
        assert abs(prods[-1] - prods[-2]) < mpmath.mpf("0.1") * abs(prods[-1])
        assert prods[-1] < 3 * math.log(100) + 5


def test_l3_threshold_infinite_when_level_at_init():
    assert l3_ratio_threshold([2, "0.1"], 1, "0.1", "0.05", "0.2", "0.1", 2) == mpmath.inf
    assert l3_ratio_threshold([2, "0.1"], 1, "0.1", 1, "0.2", "0.1", 3) == 0


def test_l3_J_value_used():
    with mpmath.workdps(30):
        # J_4(eps) finite, enters the first-order correction
        assert J_N("0.01", 4) > 0
