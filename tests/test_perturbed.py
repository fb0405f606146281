"""Tests for bounds/perturbed.py: P1 convergence, P2 recovery on random matrices, P3 flow
time bracket, P4 (dH/dt closed form, failure example, Weyl-extremal comparison,
simulated interval), critical noise bracket, P5 on simulated matrices."""

import random

import mpmath
import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from bounds.flow import A, G, monotone_step_bound, phi, tau
from bounds.lowrank import spectral_condition
from bounds.perturbed import (
    critical_noise,
    critical_noise_bracket,
    h_decreasing_margin,
    h_decreasing_on,
    h_derivative,
    h_flow_time,
    p1_hypotheses,
    p1_step_bound,
    p2_bounds,
    p2_eigenvalues_consistent,
    p3_bounds,
    p3_hypotheses,
    p3_lower_hypotheses,
    p4_any_condition,
    p4_any_hypotheses,
    p4_bounds,
    p4_bounds_any,
    p4_hypotheses,
    p5_error_bound,
    weyl_extremal_eigenvalues,
    y_plus_eigenvalues,
)


def _rand_sym(rng, n, e):
    M = rng.standard_normal((n, n))
    M = (M + M.T) / 2
    return M * (e / np.linalg.norm(M, 2))


def _psd(rng, s):
    n = len(s)
    V, _ = np.linalg.qr(rng.standard_normal((n, n)))
    return V @ np.diag(s) @ V.T, V


# ---------------------------------------------------------------------------
# P1
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("N", [2, 3, 4, 5])
def test_p1_trajectories_converge_to_positive_part(N):
    with mpmath.workdps(40):
        tv = [mpmath.mpf(v) for v in ["1.5", "0.6", "0.05", "0", "-0.3", "-1"]]
        alpha = mpmath.mpf("0.8")
        eta = p1_step_bound(tv, alpha, N) * mpmath.mpf("0.9")
        assert p1_hypotheses(tv, alpha, eta, N)
        target = y_plus_eigenvalues(tv)
        for ti, yi in zip(tv, target):
            xv = alpha
            for _ in range(3000):
                xv = phi(xv, ti, eta, N)
                assert xv > 0
            if yi > 0:
                assert abs(xv**N - yi) < mpmath.mpf(10) ** -4 * yi
            else:
                assert xv**N < mpmath.mpf("0.05")  # t <= 0: x -> 0 (slowly for t = 0)


def test_p1_step_bound_uses_alpha_when_spectrum_small():
    with mpmath.workdps(30):
        assert p1_step_bound(["0.01", "-1"], "0.9", 2) == 1 / (2 * mpmath.mpf("0.9") ** 2)
        assert p1_hypotheses([1, -100], "0.5", "0.1", 2) is False  # positivity fails


# ---------------------------------------------------------------------------
# P2
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(8))
def test_p2_bounds_on_random_matrices(seed):
    rng = np.random.default_rng(seed)
    n = 6
    s = np.sort(rng.uniform(0, 2, n))[::-1]
    s[-2:] = 0  # rank deficient so some t_i go negative
    W, _ = _psd(rng, s)
    e = rng.uniform(0.01, 0.5)
    E = _rand_sym(rng, n, e)
    Y = W + E
    t, Q = np.linalg.eigh(Y)
    t, Q = t[::-1], Q[:, ::-1]
    Yp = Q @ np.diag(np.maximum(t, 0)) @ Q.T
    b = p2_bounds(e, np.linalg.norm(E, "fro"))
    tol = 1e-10
    assert p2_eigenvalues_consistent(list(s), list(t), e + tol)
    assert np.linalg.norm(Yp - W, 2) <= float(b.spectral) + tol
    assert np.linalg.norm(Yp - W, "fro") <= float(b.frobenius) + tol


# ---------------------------------------------------------------------------
# P3
# ---------------------------------------------------------------------------


@settings(max_examples=50, deadline=None)
@given(
    N=st.integers(2, 6),
    s=st.floats(0.5, 5),
    dfrac=st.floats(0.05, 0.8),
    efrac=st.floats(0, 0.95),
    tfrac=st.floats(-1, 1),
    la=st.floats(0.3, 6),
)
def test_p3_flow_time_ratio_bracket(N, s, dfrac, efrac, tfrac, la):
    with mpmath.workdps(40):
        s = mpmath.mpf(s)
        d = s * mpmath.mpf(dfrac)
        e = (s - d) * mpmath.mpf(efrac)
        aN = d * mpmath.mpf(10) ** (-mpmath.mpf(la))
        tv = s + e * mpmath.mpf(tfrac)
        ts = tau(s, aN, d, N)
        tt = tau(tv, aN, d, N)
        lo = (s - d) / (s + e - d) * ts
        hi = (s - d) / (s - d - e) * ts
        slack = mpmath.mpf(10) ** -30 * ts
        assert lo - slack <= tt <= hi + slack


@pytest.mark.parametrize("N", [2, 3, 4])
def test_p3_bounds_bracket_simulated_hitting_times(N):
    with mpmath.workdps(40):
        s, e, alpha = mpmath.mpf(1), mpmath.mpf("0.1"), mpmath.mpf("0.4")
        d = mpmath.mpf("0.25")
        eta = monotone_step_bound(s + e, N) / 2
        assert p3_hypotheses(s, e, d, alpha, eta, N) and p3_lower_hypotheses(s, e, d, alpha, eta, N)
        lo, up = p3_bounds(s, e, d, alpha, eta, N)
        for tv in [s - e, s - e / 2, s, s + e / 3, s + e]:
            xv, K = alpha, 0
            while xv**N < d:
                xv = phi(xv, tv, eta, N)
                K += 1
            assert lo <= K <= up


def test_p3_bounds_reject_noise_above_gap():
    with pytest.raises(ValueError, match="e < s - d"):
        p3_bounds(1, "0.6", "0.5", "0.1", "0.1", 2)
    assert p3_hypotheses(1, "0.6", "0.5", "0.1", "0.1", 2) is False


# ---------------------------------------------------------------------------
# P4: H(t) and its derivative
# ---------------------------------------------------------------------------


def test_dH_dt_symbolic_derivation():
    # H(t) = (1/(N t^A)) I(alpha^N/t), I(c) = int_c^(1-eps) f, f(u) = u^-A/(1-u)
    tt, al, Nn, Aa = sp.symbols("t alpha N A", positive=True)
    I = sp.Function("I")
    c = al**Nn / tt
    H = I(c) / (Nn * tt**Aa)
    dH = sp.diff(H, tt)
    # chain rule with I'(c) = -c^-A/(1-c)
    dH = dH.replace(
        lambda ex: isinstance(ex, sp.Subs),
        lambda ex: -(ex.point[0] ** (-Aa)) / (1 - ex.point[0]),
    )
    assert not dH.has(sp.Subs) and not dH.has(sp.Derivative)
    claimed = tt ** (-Aa - 1) / Nn * (c ** (1 - Aa) / (1 - c) - Aa * I(c))
    assert sp.simplify(sp.powsimp(sp.expand(dH - claimed), force=True)) == 0
    # H and the claimed dH/dt are bounds.perturbed.h_flow_time / h_derivative: substitute
    # I(c) = G(1-eps) - G(c) (bounds.flow.G) and compare at 50 digits
    Iv = sp.Symbol("I_c")
    fH = sp.lambdify((tt, al, Nn, Aa, Iv), H.subs(I(c), Iv), modules="mpmath")
    fd = sp.lambdify((tt, al, Nn, Aa, Iv), claimed.subs(I(c), Iv), modules="mpmath")
    with mpmath.workdps(50):
        for N, tv, av, ev in [(2, "0.3", "0.2", "0.1"), (3, "1", "0.5", "0.1"), (4, "4", "0.7", "0.3"), (6, "1.7", "0.3", "0.01")]:
            tv, av, ev = mpmath.mpf(tv), mpmath.mpf(av), mpmath.mpf(ev)
            Ic = G(1 - ev, N) - G(av**N / tv, N)
            args = (tv, av, mpmath.mpf(N), A(N), Ic)
            for x_sym, x_ref in ((fH(*args), h_flow_time(tv, av, ev, N)), (fd(*args), h_derivative(tv, av, ev, N))):
                assert abs(x_sym - x_ref) <= mpmath.mpf(10) ** -40 * abs(x_ref), (N, x_sym, x_ref)


def test_margin_decreasing_in_c_symbolic():
    Aa, cc, eps = sp.symbols("A c epsilon", positive=True)
    uu = sp.Symbol("u", positive=True)
    I = sp.Integral(uu ** (-Aa) / (1 - uu), (uu, cc, 1 - eps))
    D = Aa * I - cc ** (1 - Aa) / (1 - cc)
    dD = sp.diff(D, cc).doit()
    claimed = -(cc ** (-Aa)) / (1 - cc) - cc ** (1 - Aa) / (1 - cc) ** 2
    assert sp.simplify(dD - claimed) == 0
    # D is bounds.perturbed.h_decreasing_margin as a function of c = alpha^N/t: its numeric
    # c-derivative (alpha varied, t = 1) equals the claimed dD/dc at 50 digits
    fc = sp.lambdify((cc, Aa), claimed, modules="mpmath")
    with mpmath.workdps(50):
        for N, cv, ev in [(2, "0.2", "0.1"), (3, "0.05", "0.2"), (5, "0.5", "0.3")]:
            cv, ev = mpmath.mpf(cv), mpmath.mpf(ev)

            def Dn(c, N=N, ev=ev):
                return h_decreasing_margin(1, c ** (mpmath.mpf(1) / N), ev, N)

            num = mpmath.diff(Dn, cv)
            assert abs(num - fc(cv, A(N))) <= mpmath.mpf(10) ** -35 * abs(num), (N, num)


@pytest.mark.parametrize("N", [2, 3, 4, 6, 8])
@pytest.mark.parametrize("tv", ["0.3", "1", "4"])
def test_dH_dt_matches_finite_differences(N, tv):
    with mpmath.workdps(50):
        alpha = mpmath.mpf("0.5")
        eps = mpmath.mpf("0.1")
        if not alpha**N < (1 - eps) * mpmath.mpf(tv) * mpmath.mpf("0.99"):
            pytest.skip("alpha^N too close")
        fd = mpmath.diff(lambda x: h_flow_time(x, alpha, eps, N), mpmath.mpf(tv))
        cf = h_derivative(tv, alpha, eps, N)
        assert abs(fd - cf) <= mpmath.mpf(10) ** -30 * (abs(cf) + 1)
        assert (cf < 0) == (h_decreasing_margin(tv, alpha, eps, N) > 0)


@pytest.mark.parametrize("N", [2, 3, 5])
def test_H_increasing_when_alpha_near_learned_level(N):
    with mpmath.workdps(40):
        eps = mpmath.mpf("0.1")
        tv = mpmath.mpf(1)
        alpha = ((1 - eps) * tv * mpmath.mpf("0.98")) ** (mpmath.mpf(1) / N)
        assert h_decreasing_margin(tv, alpha, eps, N) < 0
        h = mpmath.mpf(10) ** -6
        assert h_flow_time(tv + h, alpha, eps, N) > h_flow_time(tv, alpha, eps, N)
        assert not h_decreasing_on(tv, tv * 2, alpha, eps, N)
        # far from the level it is decreasing
        assert h_decreasing_on(10 * tv, 20 * tv, alpha, eps, N)


@pytest.mark.parametrize("N", [2, 3, 4])
def test_h_decreasing_on_interval_checked_by_sampling(N):
    with mpmath.workdps(30):
        alpha, eps = mpmath.mpf("0.6"), mpmath.mpf("0.2")
        for lo in ["0.5", "0.7", "1", "1.5"]:
            lo = mpmath.mpf(lo)
            if not alpha**N < (1 - eps) * lo:
                continue
            hi = lo * 2
            grid = [lo + (hi - lo) * k / 40 for k in range(41)]
            vals = [h_flow_time(x, alpha, eps, N) for x in grid]
            mono = all(vals[i] >= vals[i + 1] for i in range(40))
            if h_decreasing_on(lo, hi, alpha, eps, N):
                assert mono


# ---------------------------------------------------------------------------
# P4: bounds
# ---------------------------------------------------------------------------


def test_weyl_extremal_eigenvalues_within_weyl():
    with mpmath.workdps(30):
        s = [3, 2, 1, 0]
        ev = weyl_extremal_eigenvalues(s, 2, "0.25")
        assert [str(v) for v in ev] == ["2.75", "1.75", "1.25", "0.25"]
        assert p2_eigenvalues_consistent(s, ev, "0.25")


def _p4_instance(seed):
    rng = random.Random(seed)
    with mpmath.workdps(40):
        N = rng.choice([2, 3])
        s = [mpmath.mpf(rng.uniform(1, 2)), mpmath.mpf(rng.uniform(0.5, 0.9))]
        s.append(mpmath.mpf(rng.uniform(0.05, 0.1)))
        s.append(mpmath.mpf(0))
        r = 2
        e = mpmath.mpf(rng.uniform(0, 0.04))
        eps = mpmath.mpf("0.1")
        alpha = mpmath.mpf(rng.uniform(0.05, 0.15))
        theta = max(alpha**N * mpmath.mpf("1.01"), s[2] * mpmath.mpf(rng.uniform(0.2, 0.9)))
        eta = monotone_step_bound(s[0] + e, N) * mpmath.mpf(rng.uniform(0.3, 0.9))
        return s, r, e, eps, theta, alpha, eta, N


@pytest.mark.parametrize("seed", range(10))
def test_p4_any_bounds_dominate_bounds_for_admissible_spectra(seed):
    s, r, e, eps, theta, alpha, eta, N = _p4_instance(seed)
    rng = random.Random(seed + 100)
    with mpmath.workdps(40):
        if not p4_any_hypotheses(s, r, e, eps, theta, alpha, eta, N):
            pytest.skip("instance outside P4's W-only hypotheses")
        U_any, L_any = p4_bounds_any(s, r, e, eps, theta, alpha, eta, N)
        for trial in range(5):
            tv = sorted([si + e * mpmath.mpf(rng.uniform(-1, 1)) for si in s], reverse=True)
            if trial == 0:
                tv = weyl_extremal_eigenvalues(s, r, e)
            assert p4_hypotheses(tv, s, r, e, eps, theta, alpha, eta, N)
            U, L = p4_bounds(tv, s, r, e, eps, theta, alpha, eta, N)
            assert U <= U_any
            assert L == L_any


@pytest.mark.parametrize("seed", range(6))
def test_p4_and_p5_on_simulated_matrices(seed):
    s, r, e, eps, theta, alpha, eta, N = _p4_instance(seed)
    rng = np.random.default_rng(seed)
    n = len(s)
    sf = np.array([float(v) for v in s])
    W, V = _psd(rng, sf)
    ef = float(e)
    for kind in ("random", "extremal"):
        if kind == "random":
            E = _rand_sym(rng, n, ef) if ef > 0 else np.zeros((n, n))
        else:
            signs = np.array([-1.0] * r + [1.0] * (n - r))
            E = V @ np.diag(ef * signs) @ V.T
        Y = W + E
        tv, Q = np.linalg.eigh(Y)
        tv, Q = tv[::-1], Q[:, ::-1]
        with mpmath.workdps(40):
            tm = [mpmath.mpf(float(x)) for x in tv]
            e_eff = mpmath.mpf(ef) * (1 + mpmath.mpf(10) ** -9)  # float eigen-solver slack
            if not p4_hypotheses(tm, s, r, e_eff, eps, theta, alpha, eta, N):
                continue
            U, L = p4_bounds(tm, s, r, e_eff, eps, theta, alpha, eta, N)
            xs = [alpha] * n
            T0 = T1 = None
            Wr = V[:, :r] @ np.diag(sf[:r]) @ V[:, :r].T
            bound = float(p5_error_bound(s, r, e_eff, eps, theta))
            cap = 4 * (U + (L or 0)) + 50
            for k in range(cap):
                p = [x**N for x in xs]
                if T0 is None and all(p[i] >= (1 - eps) * tm[i] for i in range(r)):
                    T0 = k
                if T1 is None and p[r] > theta:
                    T1 = k - 1
                if T0 is not None and T1 is None:
                    P = Q @ np.diag([float(v) for v in p]) @ Q.T
                    assert np.linalg.norm(P - Wr, 2) <= bound + 1e-9
                if T0 is not None and T1 is not None:
                    break
                xs = [phi(x, ti, eta, N) for x, ti in zip(xs, tm)]
            assert T0 is not None and T0 <= U
            if L is not None and T1 is not None:
                assert T1 >= L
            if L is not None and T1 is None:
                pass  # not reached within cap: T1 >= cap - 1 >= L
            assert (L is None) <= (T1 is None)


# ---------------------------------------------------------------------------
# critical noise
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "inst",
    [
        ([2, "0.1"], 1, "0.1", "0.05", "0.1", "0.1", 2),
        ([2, "1", "0.1"], 2, "0.1", "0.02", "0.2", "0.05", 3),
        ([1, "0.05", 0], 1, "0.1", "0.02", "0.2", "0.2", 4),
    ],
)
def test_critical_noise_bracket_verified(inst):
    with mpmath.workdps(40):
        s, r, eps, theta, alpha, eta, N = inst
        br = critical_noise_bracket(*inst)
        assert br is not None
        lo, hi = br
        assert p4_any_condition(s, r, lo, eps, theta, alpha, eta, N) is True
        assert p4_any_condition(s, r, hi, eps, theta, alpha, eta, N) is False
        assert hi - lo <= mpmath.mpf("1e-12") * mpmath.mpf(s[r - 1]) * (1 + mpmath.mpf(10) ** -20)
        assert critical_noise(*inst) == lo
        # monotone on a grid below e*: predicate true everywhere on [0, e*]
        for k in range(0, 21):
            assert p4_any_condition(s, r, lo * k / 20, eps, theta, alpha, eta, N)
        # noiseless condition holds at e = 0
        assert spectral_condition(s, r, eps, theta, alpha, eta, N)


def test_critical_noise_none_when_condition_fails_without_noise():
    with mpmath.workdps(30):
        assert critical_noise([2, "1.9"], 1, "0.1", "0.05", "0.1", "0.1", 2) is None


# ---------------------------------------------------------------------------
# P5 and validation
# ---------------------------------------------------------------------------


def test_p5_reduces_to_l2_plus_tail_when_noiseless():
    with mpmath.workdps(30):
        assert p5_error_bound([2, "0.25"], 1, 0, "0.125", "0.0625") == mpmath.mpf("0.25") + mpmath.mpf("0.5")


@pytest.mark.parametrize(
    "call, word",
    [
        (lambda: p1_step_bound([1, 2], "0.1", 2), "descending"),
        (lambda: p2_bounds(-1), "e must"),
        (lambda: p3_bounds(1, "0.1", "0.5", "0", "0.1", 2), "alpha"),
        (lambda: p4_bounds([1, 0], [1, 0], 1, "0.1", "0.1", "0.05", "0.1", "0.1", 2.5), "N"),
        (lambda: p4_bounds([1], [1, 0], 1, "0.1", "0.1", "0.05", "0.1", "0.1", 2), "r must|length"),
        (lambda: p4_bounds_any([1, 0], 1, "1", "0.1", "0.05", "0.1", "0.1", 2), "e < s_r"),
        (lambda: p5_error_bound([1, 0], 3, "0.1", "0.1", "0.1"), "r must"),
        (lambda: critical_noise([1, 0], 1, "0.1", "0.05", "0.1", float("nan"), 2), "finite"),
    ],
)
def test_bad_input_raises_value_error(call, word):
    with pytest.raises(ValueError, match=word):
        call()


def test_hypothesis_evaluators_never_raise_on_inadmissible():
    vals = [
        p1_hypotheses([5, -50], "0.9", "1", 3),
        p3_hypotheses(1, 2, "0.5", "0.9", "1", 3),
        p3_lower_hypotheses(1, 2, "0.5", "0.9", "1", 3),
        p4_hypotheses([5, -5], [1, 0], 1, "0.1", "0.1", "0.05", "0.1", "0.1", 2),
        p4_any_hypotheses([1, 0], 1, "2", "0.1", "0.05", "0.1", "0.1", 2),
        p4_any_condition([1, 0], 1, "2", "0.1", "0.05", "0.1", "0.1", 2),
        h_decreasing_on(1, 2, "5", "0.1", 2),
    ]
    assert all(v is False for v in vals)


def test_p4_weyl_consistency_admits_only_the_given_rounding_tolerance():
    # t_1 = s_1 - e exactly, except for a last-digit error of 1e-40: rejected without a
    # tolerance, accepted with one at least that large, still rejected beyond it
    import mpmath

    from bounds.perturbed import p4_hypotheses

    with mpmath.workdps(50):
        e = mpmath.mpf("0.01")
        s = [mpmath.mpf(1), mpmath.mpf("0.1")]
        t = [s[0] - e - mpmath.mpf(10) ** -40, s[1] + e]
        args = (t, s, 1, e, "0.1", "0.05", "0.05", "0.2", 3)
        assert not p4_hypotheses(*args)
        assert p4_hypotheses(*args, weyl_tol=mpmath.mpf(10) ** -39)
        t_far = [s[0] - e - mpmath.mpf(10) ** -30, s[1] + e]
        assert not p4_hypotheses(t_far, *args[1:], weyl_tol=mpmath.mpf(10) ** -39)
