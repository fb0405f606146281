"""Tests for bounds/flow.py: closed form of the flow time, symbolic derivation steps of the
S, O, K claims, and small exact-arithmetic simulations of the scalar map."""

import math

import mpmath
import pytest
import sympy as sp
import z3
from hypothesis import given, settings
from hypothesis import strategies as st

from bounds import flow
from bounds.flow import (
    A,
    A_exact,
    G_symbolic,
    J_N,
    fixed_point_derivative,
    k1_hypotheses,
    k1_level_max,
    k1_lower,
    k2_hypotheses,
    k2_upper,
    k3_lower,
    k3_upper,
    monotone_step_bound,
    o1_hypotheses,
    phi,
    phi_symbolic,
    rho,
    s1_hypotheses,
    s2_overshoot_regime,
    s2_repelling,
    s3_decreasing_step_bound,
    s3_hypotheses,
    s3_nonpositive_condition,
    tau,
    tau_float,
    tau_quad,
)

DEPTHS = range(2, 9)
u, x, y, t, eta, alpha = sp.symbols("u x y t eta alpha", positive=True)
Nsym = sp.Symbol("N", positive=True, integer=True)


def _is_true(expr):
    """sympy truth with None treated as 'unknown' = failure, never as False."""
    val = expr
    assert val is not None, "sympy could not decide (None) - treated as failure"
    return bool(val)


def _sym_zero(expr):
    z = sp.simplify(expr)
    res = z.is_zero
    if res is None:
        res = z.equals(0)
    assert res is not None, f"sympy could not decide whether {z} is zero"
    return res


def _rel_close(x, y, tol=40):
    return abs(x - y) <= mpmath.mpf(10) ** -tol * max(abs(x), abs(y), mpmath.mpf(10) ** -tol)


_RNG_POINTS = [("0.03125", "0.7"), ("0.2", "1.3"), ("0.5", "2.9"), ("0.8125", "0.45")]


def _G_matches_bounds(N, expr_of_u=None):
    """flow.G (numeric) against flow.G_symbolic (lambdified) at 50 digits, and flow.G's
    derivative (mpmath.diff) against the flow integrand u^-A/(1-u) -- or against the
    expression ``expr_of_u`` derived in the calling test."""
    Ns = N if isinstance(N, int) else None
    with mpmath.workdps(50):
        for N_ in ([Ns] if Ns else [3, 4, 5, 7]):
            fG = sp.lambdify(u, G_symbolic(u, N_), modules="mpmath")
            ex = expr_of_u if expr_of_u is not None else 1 / ((1 - u) * u ** A_exact(N_))
            # exp_polar -> exp: the logs have arguments 1 - z with |z| < 1 (principal branch)
            fd0 = sp.lambdify(u, ex.subs(Nsym, N_), modules=[{"exp_polar": mpmath.exp}, "mpmath"])

            def fd(v, fd0=fd0):  # hyperexpand's logs of complex arguments: the value is real
                z = mpmath.mpc(fd0(v))
                assert abs(z.imag) <= mpmath.mpf(10) ** -40 * abs(z)
                return z.real

            for uu, _ in _RNG_POINTS:
                uu = mpmath.mpf(uu)
                assert _rel_close(fG(uu), flow.G(uu, N_)), (N_, uu)
                assert _rel_close(mpmath.diff(lambda v: flow.G(v, N_), uu), fd(uu), tol=35), (N_, uu)


# ---------------------------------------------------------------------------
# closed form G: symbolic derivative
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("N", DEPTHS)
def test_G_derivative_equals_flow_integrand(N):
    G_expr = G_symbolic(u, N)
    A_ = A_exact(N)
    dG = sp.hyperexpand(sp.diff(G_expr, u))
    assert _sym_zero(dG * (1 - u) * u**A_ - 1)
    # the numeric G of bounds.flow is this G_symbolic, and its derivative is this dG
    _G_matches_bounds(N, dG)


def test_G_derivative_symbolic_N_via_lerch_recurrence():
    # hyperexpand writes G' with lerchphi(u, 1, b) and lerchphi(u, 1, b + 1), b = 2/N - 1;
    # the recurrence Phi(u, 1, a) = 1/a + u Phi(u, 1, a + 1) (first series term split off)
    # then reduces G'(u) (1-u) u^A to 1 for symbolic N.
    b = 2 / Nsym - 1
    dG = sp.hyperexpand(sp.diff(G_symbolic(u, Nsym), u))
    assert dG.has(sp.lerchphi)

    def split_first_term(ex):
        return ex.replace(
            lambda z: isinstance(z, sp.lerchphi) and sp.simplify(z.args[2] - b) == 0,
            lambda z: 1 / z.args[2] + z.args[0] * sp.lerchphi(z.args[0], 1, z.args[2] + 1),
        )

    red = sp.powsimp(sp.expand(split_first_term(dG) * (1 - u) * u ** A_exact(Nsym)), force=True)
    assert _sym_zero(red - 1)
    # the recurrence itself, on the series to order 10 for symbolic a
    a_ = sp.Symbol("a", positive=True)
    lhs = sum(u**k / (k + a_) for k in range(11))
    rhs = 1 / a_ + u * sum(u**k / (k + a_ + 1) for k in range(10))
    assert sp.simplify(lhs - rhs) == 0
    # the reduced derivative at concrete N against the numeric bounds.flow.G
    _G_matches_bounds(Nsym, 1 / ((1 - u) * u ** A_exact(Nsym)))


def test_G_series_coefficients_symbolic_N():
    # G(u) = u^b/b * 2F1(1,b;b+1;u) = sum_k u^(b+k)/(b+k): the k-th hypergeometric
    # coefficient times 1/b equals 1/(b+k) for symbolic b and k.
    b = sp.Symbol("b")
    k = sp.Symbol("k", integer=True, nonnegative=True)
    # Pochhammer symbols written through Gamma: (x)_k = Gamma(x+k)/Gamma(x)
    poch = lambda a_, k_: sp.gamma(a_ + k_) / sp.gamma(a_)  # noqa: E731
    coeff = poch(1, k) * poch(b, k) / (poch(b + 1, k) * sp.factorial(k))
    assert _sym_zero(sp.gammasimp(coeff / b - 1 / (b + k)))
    # termwise derivative: d/du u^(b+k)/(b+k) = u^(b+k-1); geometric sum gives u^(b-1)/(1-u)
    kk = sp.Symbol("kk", integer=True, nonnegative=True)
    assert _sym_zero(sp.diff(u ** (b + kk) / (b + kk), u) - u ** (b + kk - 1))
    assert _sym_zero(u ** (b + kk - 1) - u ** (b - 1) * u**kk)
    geo = sp.summation(u**kk, (kk, 0, sp.oo))
    assert isinstance(geo, sp.Piecewise) and geo.args[0][1] == (u < 1)
    assert _sym_zero(u ** (b - 1) * geo.args[0][0] - u ** (b - 1) / (1 - u))
    # and b = 1 - A for A = 2 - 2/N
    assert _sym_zero((1 - A_exact(Nsym)) - (2 / Nsym - 1))
    # the series sum_k u^(b+k)/(b+k) is bounds.flow.G: partial sums at u = 1/32 (50 digits)
    with mpmath.workdps(50):
        uu = mpmath.mpf(1) / 32
        for N in (3, 4, 6):
            bb = 2 / mpmath.mpf(N) - 1
            series = mpmath.fsum(uu ** (bb + j) / (bb + j) for j in range(60))
            assert _rel_close(series, flow.G(uu, N)), N


def test_G_hypergeometric_ode_identity_symbolic_b():
    # u F' + b F = b/(1-u) for F = 2F1(1,b;b+1;u), checked on the series to order 12
    b = sp.Symbol("b")
    F = sum(b / (b + k) * u**k for k in range(14))
    lhs = sp.expand(u * sp.diff(F, u) + b * F)
    rhs = sp.series(b / (1 - u), u, 0, 14).removeO()
    diff = sp.expand(lhs - rhs)
    assert all(sp.simplify(diff.coeff(u, k)) == 0 for k in range(14))
    # F = b u^-b G(u) with bounds.flow.G satisfies the ODE numerically (b = 2/N - 1)
    with mpmath.workdps(50):
        for N in (3, 5):
            bb = 2 / mpmath.mpf(N) - 1
            Fn = lambda v: bb * v ** (-bb) * flow.G(v, N)  # noqa: E731
            for uu in (mpmath.mpf("0.25"), mpmath.mpf("0.6")):
                assert _rel_close(uu * mpmath.diff(Fn, uu) + bb * Fn(uu), bb / (1 - uu), tol=35), (N, uu)


# ---------------------------------------------------------------------------
# closed form vs quadrature in log variables
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("N", DEPTHS)
@pytest.mark.parametrize("a", ["1e-12", "1e-6", "0.01", "0.4"])
def test_tau_closed_form_matches_log_quadrature(N, a):
    with mpmath.workdps(50):
        tval = mpmath.mpf("2.5")
        av = mpmath.mpf(a) * tval
        for bfrac in ["0.5", "0.9", "0.999999"]:
            bv = mpmath.mpf(bfrac) * tval
            if bv <= av:
                continue
            cf = tau(tval, av, bv, N)
            q = tau_quad(tval, av, bv, N)
            assert abs(cf - q) <= mpmath.mpf(10) ** -45 * abs(q)


def _tau_wrong(tv, a, b, N):
    """Deliberately wrong closed form: exponent A off by 1/N."""
    Aw = A(N) + mpmath.mpf(1) / N
    bb = 1 - Aw

    def Gw(z):
        return z**bb / bb * mpmath.hyp2f1(1, bb, bb + 1, z)

    return (Gw(b / tv) - Gw(a / tv)) / (N * tv**Aw)


@pytest.mark.parametrize("N", [3, 4, 6])
def test_quadrature_comparison_catches_wrong_exponent(N):
    with mpmath.workdps(50):
        tv, a, b = mpmath.mpf(2), mpmath.mpf("1e-6"), mpmath.mpf("1.5")
        q = tau_quad(tv, a, b, N)
        assert abs(tau(tv, a, b, N) - q) <= mpmath.mpf(10) ** -45 * abs(q)
        assert abs(_tau_wrong(tv, a, b, N) - q) > mpmath.mpf(10) ** -3 * abs(q)


@settings(max_examples=100, deadline=None)
@given(
    N=st.integers(2, 8),
    tnum=st.integers(1, 1000),
    la=st.floats(0.05, 12.0),
    ub=st.floats(0.001, 0.999999),
)
def test_tau_closed_form_agrees_with_quadrature_40_digits(N, tnum, la, ub):
    with mpmath.workdps(50):
        tv = mpmath.mpf(tnum) / 100
        a = tv * mpmath.mpf(10) ** (-mpmath.mpf(la))
        b = tv * mpmath.mpf(ub)
        if not (a < b):
            a, b = b, a
        if a == b:
            return
        cf = tau(tv, a, b, N)
        q = tau_quad(tv, a, b, N)
        assert abs(cf - q) <= mpmath.mpf(10) ** -40 * max(abs(q), mpmath.mpf(10) ** -10)


def test_tau_precision_is_callers():
    with mpmath.workdps(15):
        lo = tau(1, "1e-3", "0.5", 3)
    with mpmath.workdps(60):
        hi = tau(1, "1e-3", "0.5", 3)
        assert abs(lo - hi) < mpmath.mpf(10) ** -12 * hi
        assert abs(tau(1, "1e-3", "0.5", 3, dps=60) - hi) < mpmath.mpf(10) ** -55 * hi
    before = mpmath.mp.prec
    tau(1, "1e-3", "0.5", 3, dps=80)
    assert mpmath.mp.prec == before


def test_tau_float_matches_mp():
    with mpmath.workdps(30):
        ref = tau(3, "0.001", "2", 4)
    assert math.isclose(tau_float(3.0, 0.001, 2.0, 4), float(ref), rel_tol=1e-14)


def test_tau_additive_and_antisymmetric():
    with mpmath.workdps(40):
        a, m, b = mpmath.mpf("0.01"), mpmath.mpf("0.3"), mpmath.mpf("0.8")
        for N in DEPTHS:
            assert abs(tau(1, a, m, N) + tau(1, m, b, N) - tau(1, a, b, N)) < mpmath.mpf(10) ** -35
            assert abs(tau(1, b, a, N) + tau(1, a, b, N)) < mpmath.mpf(10) ** -35


def test_J_N_matches_quadrature():
    with mpmath.workdps(40):
        for N in DEPTHS:
            for eps in ["0.5", "0.01", "1e-8"]:
                c = mpmath.mpf(2) / N
                q = mpmath.quad(lambda s: mpmath.exp(s * c) / (1 - mpmath.exp(s)),
                                [-mpmath.inf, -10, -1, mpmath.log(1 - mpmath.mpf(eps))])
                assert abs(J_N(eps, N) - q) < mpmath.mpf(10) ** -30 * q


# ---------------------------------------------------------------------------
# S1: fixed point derivative and monotonicity of phi
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("N", list(DEPTHS) + [Nsym])
def test_fixed_point_derivative_is_one_minus_eta_N_t_A(N):
    ph = phi_symbolic(x, t, eta, N)
    dphi = sp.diff(ph, x).subs(x, u).subs(t, u**N)
    target = 1 - eta * N * (u**N) ** A_exact(N)
    assert _sym_zero(sp.powsimp(sp.expand(dphi - target), force=True))
    # bounds.flow.fixed_point_derivative is this derivative (50 digits, t = u^N)
    with mpmath.workdps(50):
        for N_ in ([N] if isinstance(N, int) else [3, 5]):
            f = sp.lambdify((u, eta), (dphi.subs(Nsym, N_) if not isinstance(N, int) else dphi), modules="mpmath")
            for uu, ee in _RNG_POINTS:
                uu, ee = mpmath.mpf(ee), mpmath.mpf(uu)
                assert _rel_close(f(uu, ee), fixed_point_derivative(uu**N_, ee, N_)), (N_, uu)


@pytest.mark.parametrize("N", DEPTHS)
def test_phi_derivative_formula(N):
    ph = phi_symbolic(x, t, eta, N)
    claimed = 1 + eta * ((N - 1) * x ** (N - 2) * t - (2 * N - 1) * x ** (2 * N - 2))
    assert sp.expand(sp.diff(ph, x) - claimed) == 0


def test_phi_derivative_min_at_endpoint_decomposition_symbolic_N():
    # g(y) + N = (N-1)(y^(N-2) - y^(2N-2)) + N(1 - y^(2N-2)), both terms >= 0 on [0,1]
    g = (Nsym - 1) * y ** (Nsym - 2) - (2 * Nsym - 1) * y ** (2 * Nsym - 2)
    decomp = (Nsym - 1) * (y ** (Nsym - 2) - y ** (2 * Nsym - 2)) + Nsym * (1 - y ** (2 * Nsym - 2))
    assert sp.expand(g + Nsym - decomp) == 0
    assert sp.simplify(g.subs(y, 1) + Nsym) == 0


@pytest.mark.parametrize("N", DEPTHS)
def test_phi_nondecreasing_iff_step_bound_z3(N):
    e, uu, xx = z3.Reals("eta u x")
    dphi = 1 + e * ((N - 1) * xx ** (N - 2) * uu**N - (2 * N - 1) * xx ** (2 * N - 2))
    # step bound => phi' >= 0 on [0, u], u = t^(1/N)
    s = z3.Solver()
    s.set("timeout", 20000)
    s.add(e > 0, uu > 0, xx >= 0, xx <= uu, e * N * uu ** (2 * N - 2) <= 1, dphi < 0)
    assert s.check() == z3.unsat
    # violated step bound => phi'(u) < 0
    s2 = z3.Solver()
    s2.set("timeout", 20000)
    dphi_u = z3.substitute(dphi, (xx, uu))
    s2.add(e > 0, uu > 0, e * N * uu ** (2 * N - 2) > 1, dphi_u >= 0)
    assert s2.check() == z3.unsat


def test_monotone_step_bound_value():
    with mpmath.workdps(30):
        for N in DEPTHS:
            tv = mpmath.mpf("1.7")
            eb = monotone_step_bound(tv, N)
            assert abs(fixed_point_derivative(tv, eb, N)) < mpmath.mpf(10) ** -25


def _traj(tv, a, e, N, steps):
    xs = [mpmath.mpf(a)]
    for _ in range(steps):
        xs.append(phi(xs[-1], tv, e, N))
    return xs


@pytest.mark.parametrize("N", DEPTHS)
def test_s1_trajectory_increases_below_fixed_point(N):
    with mpmath.workdps(40):
        tv, a = mpmath.mpf("1.3"), mpmath.mpf("0.8")
        e = monotone_step_bound(tv, N)  # the extreme admissible step
        assert s1_hypotheses(tv, a, e, N)
        xs = _traj(tv, a, e, N, 300)
        root = tv ** (mpmath.mpf(1) / N)
        # strict increase until rounding at 40 digits makes consecutive iterates equal
        tol = mpmath.mpf(10) ** -30
        assert all(xs[i] <= xs[i + 1] <= root for i in range(len(xs) - 1))
        assert all(xs[i] < xs[i + 1] for i in range(len(xs) - 1) if root - xs[i + 1] > tol)
        assert root - xs[-1] < mpmath.mpf(10) ** -6


# ---------------------------------------------------------------------------
# S2
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("N", DEPTHS)
def test_s2_overshoot_happens_in_regime(N):
    with mpmath.workdps(40):
        tv = mpmath.mpf(1)
        e = mpmath.mpf("1.5") / N
        assert s2_overshoot_regime(tv, e, N) and not s2_repelling(tv, e, N)
        xs = _traj(tv, "0.9", e, N, 5)
        assert any(v > 1 for v in xs)


@pytest.mark.parametrize("N", DEPTHS)
def test_s2_repelling_fixed_point_moves_away(N):
    with mpmath.workdps(40):
        tv = mpmath.mpf(1)
        e = mpmath.mpf("2.5") / N
        assert s2_repelling(tv, e, N)
        assert abs(fixed_point_derivative(tv, e, N)) > 1
        x0 = 1 + mpmath.mpf(10) ** -10
        x1 = phi(x0, tv, e, N)
        x2 = phi(x1, tv, e, N)
        assert abs(x2 - 1) > abs(x0 - 1)


# ---------------------------------------------------------------------------
# S3
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("N", DEPTHS)
def test_s3_factor_increasing_for_nonpositive_target(N):
    # phi(x) = x (1 - eta f(x)) with f(x) = x^(N-2)(x^N - t), t = -w <= 0: f' >= 0
    w = sp.Symbol("w", nonnegative=True)
    f = x ** (N - 2) * (x**N + w)
    df = sp.expand(sp.diff(f, x))
    poly = sp.Poly(df, x, w)
    assert all(c >= 0 for c in poly.coeffs())
    assert _sym_zero(phi_symbolic(x, -w, eta, N) - x * (1 - eta * f))


@pytest.mark.parametrize("N", DEPTHS)
def test_s3_phi_derivative_decreasing_above_root(N):
    # d/dx phi' = eta (N-1) x^(N-3) ((N-2) t - 2(2N-1) x^N)  (x > 0)
    d2 = sp.diff(phi_symbolic(x, t, eta, N), x, 2)
    claimed = eta * (N - 1) * x ** (N - 3) * ((N - 2) * t - 2 * (2 * N - 1) * x**N)
    assert _sym_zero(d2 - claimed)
    # negative for x^N >= t: with t = u^N, x = u y, y >= 1
    val = ((N - 2) * t - 2 * (2 * N - 1) * x**N).subs({t: u**N, x: u * y})
    val = sp.expand(val / u**N)
    z = sp.Symbol("z", nonnegative=True)
    coeffs = sp.Poly(sp.expand(-val.subs(y, 1 + z)), z).all_coeffs()
    assert all(c > 0 for c in coeffs)


@pytest.mark.parametrize("N", DEPTHS)
def test_s3_decreasing_step_bound_z3(N):
    e, uu, a, xx = z3.Reals("eta u alpha x")
    dphi = 1 + e * ((N - 1) * xx ** (N - 2) * uu**N - (2 * N - 1) * xx ** (2 * N - 2))
    bound_ok = e * a ** (N - 2) * ((2 * N - 1) * a**N - (N - 1) * uu**N) <= 1
    s = z3.Solver()
    s.set("timeout", 30000)
    s.add(e > 0, uu > 0, a > uu, xx >= uu, xx <= a, bound_ok, dphi < 0)
    assert s.check() == z3.unsat
    # equality case: phi'(alpha) = 0 exactly at the bound
    ph = phi_symbolic(x, t, eta, N)
    at_alpha = sp.diff(ph, x).subs(x, alpha)
    eb = 1 / (alpha ** (N - 2) * ((2 * N - 1) * alpha**N - (N - 1) * t))
    assert _sym_zero(at_alpha.subs(eta, eb))
    # eb is bounds.flow.s3_decreasing_step_bound, and phi'(alpha) = 0 at its numeric value
    fe = sp.lambdify((t, alpha), eb, modules="mpmath")
    fd = sp.lambdify((t, alpha, eta), at_alpha, modules="mpmath")
    with mpmath.workdps(50):
        for fr, av in _RNG_POINTS:
            av = mpmath.mpf(av)
            tv = mpmath.mpf(fr) * av**N
            num = s3_decreasing_step_bound(tv, av, N)
            assert _rel_close(fe(tv, av), num), (N, tv, av)
            assert abs(fd(tv, av, num)) < mpmath.mpf(10) ** -40


@pytest.mark.parametrize("N", DEPTHS)
def test_s3_trajectories(N):
    with mpmath.workdps(40):
        a = mpmath.mpf("1.1")
        # t <= 0
        tv = mpmath.mpf("-0.5")
        e = (1 - mpmath.mpf(10) ** -3) / (a ** (N - 2) * (a**N - tv))
        assert s3_nonpositive_condition(tv, a, e, N) and s3_hypotheses(tv, a, e, N)
        xs = _traj(tv, a, e, N, 200)
        assert all(0 < xs[i + 1] < xs[i] for i in range(len(xs) - 1))
        # 0 < t < alpha^N at the derived bound
        tv = mpmath.mpf("0.6")
        e = s3_decreasing_step_bound(tv, a, N)
        if not s3_hypotheses(tv, a, e, N):  # the bound rounded one unit up: step one unit down
            e *= 1 - mpmath.mpf(2) ** (2 - mpmath.mp.prec)
        assert s3_hypotheses(tv, a, e, N)
        xs = _traj(tv, a, e, N, 300)
        root = tv ** (mpmath.mpf(1) / N)
        assert all(root <= xs[i + 1] <= xs[i] for i in range(len(xs) - 1))
        assert xs[-1] - root < mpmath.mpf(10) ** -3


def test_s3_hypotheses_false_not_raise():
    assert s3_hypotheses(5, 1, "0.1", 3) is False
    assert s3_nonpositive_condition(1, 1, "0.1", 3) is False


# ---------------------------------------------------------------------------
# O1
# ---------------------------------------------------------------------------


def test_o1_phi_pointwise_ordered():
    tp = sp.Symbol("tp", positive=True)
    for N in DEPTHS:
        assert _sym_zero(phi_symbolic(x, tp, eta, N) - phi_symbolic(x, t, eta, N) - eta * x ** (N - 1) * (tp - t))


@pytest.mark.parametrize("N", DEPTHS)
def test_o1_comparison_on_trajectories(N):
    with mpmath.workdps(40):
        a = mpmath.mpf("0.7")
        tp = mpmath.mpf(2)
        e = monotone_step_bound(tp, N)
        for tv in ["-0.3", "0", "0.2", "1", "1.99", "2"]:
            if not o1_hypotheses(tv, tp, a, e, N):
                continue
            xs = _traj(tv, a, e, N, 150)
            xps = _traj(tp, a, e, N, 150)
            assert all(p <= q for p, q in zip(xs, xps))


# ---------------------------------------------------------------------------
# K1, K2, K3
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("N", list(DEPTHS) + [Nsym])
def test_k1_h_increasing_below_level(N):
    h = x ** (N - 1) * (t - x**N)
    claimed = x ** (N - 2) * ((N - 1) * t - (2 * N - 1) * x**N)
    assert _sym_zero(sp.expand(sp.diff(h, x) - claimed))
    # zero of the bracket in p = x^N is the K1 level
    p = sp.Symbol("p", positive=True)
    sol = sp.solve((N - 1) * t - (2 * N - 1) * p, p)
    assert _sym_zero(sol[0] - t * (N - 1) / (2 * N - 1))
    # the root is bounds.flow.k1_level_max, and h' vanishes there
    with mpmath.workdps(50):
        for N_ in ([N] if isinstance(N, int) else [3, 6]):
            f = sp.lambdify(t, sol[0].subs(Nsym, N_), modules="mpmath")
            fh = sp.lambdify((x, t), sp.diff(h, x).subs(Nsym, N_), modules="mpmath")
            for _, tv in _RNG_POINTS:
                tv = mpmath.mpf(tv)
                lv = k1_level_max(tv, N_)
                assert _rel_close(f(tv), lv), (N_, tv)
                assert abs(fh(lv ** (mpmath.mpf(1) / N_), tv)) < mpmath.mpf(10) ** -40


@pytest.mark.parametrize("N", list(DEPTHS) + [Nsym])
def test_flow_time_change_of_variables(N):
    # du / h(u) with p = u^N equals dp / (N p^A (t - p))
    p = sp.Symbol("p", positive=True)
    xx = p ** (1 / sp.Integer(N) if not isinstance(N, sp.Symbol) else 1 / N)
    dx_dp = sp.diff(xx, p)
    h = xx ** (N - 1) * (t - xx**N)
    integrand = sp.powsimp(sp.simplify(dx_dp / h), force=True)
    claimed = 1 / (N * p ** A_exact(N) * (t - p))
    assert _sym_zero(sp.powsimp(sp.simplify(integrand / claimed), force=True) - 1)


@pytest.mark.parametrize("N", DEPTHS)
def test_k2_rho_bounds_growth_of_h(N):
    # x^(N-2)(t - x^N) <= t^A on [0, t^(1/N)]: with t = u^N, x = u y it is u^(2N-2) y^(N-2)(1-y^N)
    lhs = (x ** (N - 2) * (t - x**N)).subs({t: u**N, x: u * y})
    assert _sym_zero(sp.expand(lhs - u ** (2 * N - 2) * y ** (N - 2) * (1 - y**N)))
    assert _sym_zero(sp.powsimp((u**N) ** A_exact(N) - u ** (2 * N - 2), force=True))
    # phi(x)/x - 1 = eta x^(N-2)(t - x^N): the factor in (x + eta h(x))^(N-1) = x^(N-1)(1 + ...)^(N-1)
    assert _sym_zero(phi_symbolic(x, t, eta, N) / x - 1 - eta * x ** (N - 2) * (t - x**N))


def _hit(tv, a, e, N, d, cap=100000):
    xv = mpmath.mpf(a)
    for k in range(cap):
        if xv**N >= d:
            return k
        xv = phi(xv, tv, e, N)
    raise AssertionError("no hit")


@pytest.mark.parametrize("N", DEPTHS)
def test_k1_k2_bracket_simulated_hitting_times(N):
    with mpmath.workdps(40):
        tv = mpmath.mpf("1.5")
        for a_s, frac in [("0.5", "0.5"), ("0.7", "0.3"), ("0.6", "0.95")]:
            a = mpmath.mpf(a_s)
            e = monotone_step_bound(tv, N) / 3
            d = mpmath.mpf(frac) * tv
            if a**N >= d:
                continue
            K = _hit(tv, a, e, N, d)
            assert k2_hypotheses(tv, d, a, e, N)
            assert K <= k2_upper(tv, d, a, e, N)
            if k1_hypotheses(tv, d, a, e, N):
                assert K >= k1_lower(tv, d, a, e, N)


@pytest.mark.parametrize("N", [3, 4, 5, 6, 7, 8])
def test_k3_bounds_sandwich_tau(N):
    with mpmath.workdps(40):
        for tv in ["0.3", "1", "7"]:
            for a in ["0.01", "0.2"]:
                tv_ = mpmath.mpf(tv)
                d = tv_ / 2
                assert k3_lower(tv, d, a, N) <= tau(tv, mpmath.mpf(a) ** N, d, N)
                for eps in ["0.5", "0.01"]:
                    up = tau(tv, mpmath.mpf(a) ** N, (1 - mpmath.mpf(eps)) * tv_, N)
                    assert up <= k3_upper(tv, eps, a, N)


def test_k3_constant_conversion_symbolic_N():
    # (1/(N t^A)) * c^(1-A)/(A-1) with c = alpha^N/t equals alpha^-(N-2)/((N-2) t)
    Ae = A_exact(Nsym)
    lhs = (alpha**Nsym / t) ** (1 - Ae) / (Ae - 1) / (Nsym * t**Ae)
    rhs = alpha ** (-(Nsym - 2)) / ((Nsym - 2) * t)
    assert _sym_zero(sp.powsimp(sp.expand_power_base(lhs / rhs, force=True), force=True) - 1)
    # rhs is the constant in bounds.flow.k3_upper (= rhs + J_N(eps)/(N t^A)) and in
    # bounds.flow.k3_lower (= rhs - d^-((N-2)/N)/((N-2) t)); lhs equals it numerically
    with mpmath.workdps(50):
        for N_ in (3, 4, 5, 8):
            fl = sp.lambdify((alpha, t), lhs.subs(Nsym, N_), modules="mpmath")
            fr = sp.lambdify((alpha, t), rhs.subs(Nsym, N_), modules="mpmath")
            for (av, tv), ev in zip(_RNG_POINTS, ("0.5", "0.01", "0.2", "0.9")):
                av, tv, ev = mpmath.mpf(av), mpmath.mpf(tv), mpmath.mpf(ev)
                c = fr(av, tv)
                assert _rel_close(fl(av, tv), c), (N_, av, tv)
                assert _rel_close(k3_upper(tv, ev, av, N_), c + J_N(ev, N_) / (N_ * tv ** A(N_))), (N_, av)
                dv = tv / 2
                assert _rel_close(k3_lower(tv, dv, av, N_),
                                  c - dv ** (-mpmath.mpf(N_ - 2) / N_) / ((N_ - 2) * tv)), (N_, av)
    # integrand split u^-A/(1-u) = u^-A + u^(1-A)/(1-u)
    assert _sym_zero(u ** (-Ae) / (1 - u) - u ** (-Ae) - u ** (1 - Ae) / (1 - u))


# ---------------------------------------------------------------------------
# input validation
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call, word",
    [
        (lambda: tau(1, "0.1", "0.5", 1), "N"),
        (lambda: tau(1, "0.1", "0.5", 2.0), "N"),
        (lambda: tau(1, "0.1", "0.5", True), "N"),
        (lambda: tau(float("nan"), "0.1", "0.5", 2), "t"),
        (lambda: tau(1, "0.1", "1.5", 2), "b"),
        (lambda: tau(1, "abc", "0.5", 2), "a"),
        (lambda: rho(1, 0, 2), "eta"),
        (lambda: s1_hypotheses(1, "-0.1", "0.1", 2), "alpha"),
        (lambda: k1_lower(1, "0.3", "0.1", "-1", 2), "eta"),
        (lambda: s3_decreasing_step_bound(2, 1, 3), "t < alpha"),
        (lambda: k3_lower(1, "0.5", "0.1", 2), "N >= 3"),
    ],
)
def test_bad_input_raises_value_error_naming_problem(call, word):
    with pytest.raises(ValueError, match=word):
        call()


def test_inputs_accept_str_float_int_mpf():
    with mpmath.workdps(30):
        vals = {tau(1, "0.25", "0.5", 3), tau(1, 0.25, 0.5, 3), tau(mpmath.mpf(1), mpmath.mpf("0.25"), mpmath.mpf("0.5"), 3)}
        assert len({mpmath.nstr(v, 25) for v in vals}) == 1


def test_hypothesis_evaluators_return_bool():
    out = [
        s1_hypotheses(1, 2, "0.1", 3),
        s2_overshoot_regime(-1, "0.1", 3),
        s2_repelling(0, "0.1", 3),
        s3_hypotheses(1, "0.5", "0.1", 3),
        o1_hypotheses(3, 1, "0.5", "0.1", 3),
        k1_hypotheses(1, 5, "0.5", "0.1", 3),
        k2_hypotheses(1, 5, "0.5", "0.1", 3),
    ]
    assert all(type(v) is bool for v in out)
    assert k1_level_max(7, 4) == mpmath.mpf(3)
    assert rho(0, "0.3", 5) == 1
    assert flow.A(2) == 1


def test_fractions_enter_at_full_precision_not_through_float():
    """A Fraction is the exact quotient at the working precision (it used to go through
    float: double precision only)."""
    from fractions import Fraction

    from bounds.flow import _mpf

    with mpmath.workdps(50):
        assert _mpf(Fraction(1, 3), "x") == mpmath.mpf(1) / 3
        assert abs(_mpf(Fraction(1, 3), "x") - mpmath.mpf(float(Fraction(1, 3)))) > 1e-20
        assert monotone_step_bound(Fraction(1, 3), 2) == 1 / (2 * (mpmath.mpf(1) / 3))

