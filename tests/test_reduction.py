"""Tests for bounds/reduction.py: the symbolic derivation of claim R1 (a)."""

import dataclasses
import warnings

import pytest
import sympy

from bounds.reduction import (
    _all_zero,
    equal_factor_setting,
    gd_step_identity_holds,
    gradient,
    gradient_at_equal_factors,
    orthogonal_invariance_holds,
    phi,
    reduced_gradient,
    reduced_gradient_identity_holds,
    scalar_identity_holds_symbolic_N,
)

FAST_CASES = [(1, "auto"), (2, "rotation"), (2, "diagonal"), (2, "commuting"),
              (3, "diagonal"), (5, "diagonal")]


@pytest.mark.parametrize("N", [2, 3, 4, 5])
@pytest.mark.parametrize("n, basis", FAST_CASES)
def test_R1a_gradient_identity(N, n, basis):
    assert reduced_gradient_identity_holds(N, n, basis) is True


@pytest.mark.parametrize("N", [2, 3, 4])
def test_R1a_generic_commuting_3x3(N):
    assert reduced_gradient_identity_holds(N, 3, "commuting") is True


@pytest.mark.slow
@pytest.mark.parametrize("N", [2, 3, 4, 5])
def test_R1a_rotation_3x3_slow(N):
    assert reduced_gradient_identity_holds(N, 3, "rotation") is True


@pytest.mark.slow
def test_R1a_generic_commuting_3x3_N5_slow():
    assert reduced_gradient_identity_holds(5, 3, "commuting") is True


@pytest.mark.parametrize("N", [2, 3, 4, 5])
def test_orthogonal_invariance(N):
    assert orthogonal_invariance_holds(N) is True


def test_symbolic_N():
    assert scalar_identity_holds_symbolic_N() is True


@pytest.mark.parametrize("N", [2, 3, 4, 5])
@pytest.mark.parametrize("n, basis", [(1, "diagonal"), (2, "rotation"), (3, "diagonal")])
def test_gd_step_is_phi(N, n, basis):
    assert gd_step_identity_holds(N, n, basis) is True


def test_gradient_at_equal_factors_shape_and_equality():
    G = gradient_at_equal_factors(3, 2, "rotation")
    assert len(G) == 3 and all(g.shape == (2, 2) for g in G)
    S = equal_factor_setting(2, "rotation")
    for g in G[1:]:
        assert S.normal_matrix(g - G[0]) == sympy.zeros(2, 2)


def test_gradient_matches_matrix_calculus_on_numbers():
    """The gradient formula against a derivative of the loss (symbolic differentiation)."""
    n, N = 2, 3
    Ws = [sympy.Matrix(n, n, sympy.symbols(f"w{k}_0:{n * n}")) for k in range(N)]
    Y = sympy.Matrix(n, n, sympy.symbols(f"y0:{n * n}"))
    P = Ws[2] * Ws[1] * Ws[0]
    L = sum(e**2 for e in (P - Y)) / 2
    G = gradient(Ws, Y)
    for k in range(N):
        for a in range(n):
            for b in range(n):
                assert sympy.expand(sympy.diff(L, Ws[k][a, b]) - G[k][a, b]) == 0


# ---------------------------------------------------------------- negative controls
# Each control shows the identity is false by exhibiting a rational point where the
# difference is nonzero (a proof of non-identity, not merely "not verified").

POINT = {"c1": sympy.Rational(3, 5), "s1": sympy.Rational(4, 5), "x1": 2, "x2": sympy.Rational(1, 3),
         "t1": 5, "t2": -1, "y11": 1, "y12": 2, "y22": 7, "b": sympy.Rational(1, 2), "d": 1}


def at_point(M):
    sub = {sym: POINT[sym.name] for sym in M.free_symbols if sym.name in POINT}
    assert {str(v) for v in M.free_symbols} <= set(POINT), M.free_symbols
    return M.subs(sub)


def test_identity_fails_for_non_orthogonal_Q():
    """With a shear instead of a rotation, X = Q D Q^T and Y = Q T Q^T need not commute."""
    b = sympy.Symbol("b", real=True)
    x = sympy.symbols("x1 x2", real=True)
    t = sympy.symbols("t1 t2", real=True)
    Q = sympy.Matrix([[1, b], [0, 1]])
    X = (Q * sympy.diag(*x) * Q.T).expand()
    Y = (Q * sympy.diag(*t) * Q.T).expand()
    S = equal_factor_setting(2, "diagonal")
    S_bad = dataclasses.replace(S, X=X, Y=Y, Q=Q, x=x, t=t, relations=())
    G = gradient([X] * 3, Y)
    assert at_point(G[1] - reduced_gradient(3, S_bad)) != sympy.zeros(2, 2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        assert not _all_zero(G[1] - reduced_gradient(3, S_bad), "control")


def test_identity_fails_for_noncommuting_Y():
    S = equal_factor_setting(2, "rotation")
    y = sympy.symbols("y11 y12 y22", real=True)
    Y = sympy.Matrix([[y[0], y[1]], [y[1], y[2]]])  # generic symmetric, not commuting with X
    G = gradient([S.X] * 3, Y, S)
    R = (S.X**2 * (S.X**3 - Y)).expand()
    # j = 1 is X^(N-1)(X^N - Y) for any Y; the middle and last factors' gradients are not
    assert S.normal_matrix(G[0] - R) == sympy.zeros(2, 2)
    assert at_point(S.normal_matrix(G[1] - R)) != sympy.zeros(2, 2)
    assert at_point(S.normal_matrix(G[2] - G[0])) != sympy.zeros(2, 2)


def test_identity_fails_for_unequal_factors():
    S = equal_factor_setting(2, "diagonal")
    X2 = S.X + sympy.Matrix([[0, sympy.Symbol("d", positive=True)], [0, 0]])
    G = gradient([S.X, X2], S.Y, S)
    assert at_point(G[0] - reduced_gradient(2, S)) != sympy.zeros(2, 2)


def test_undecided_is_false_with_warning():
    z = sympy.Symbol("z")  # no assumptions: is_zero is None
    with pytest.warns(RuntimeWarning, match="could not decide"):
        assert _all_zero(sympy.Matrix([[z]]), "probe") is False
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert _all_zero(sympy.Matrix([[0, 0]]), "probe") is True


# ---------------------------------------------------------------- phi and validation


def test_phi_values_and_fixed_point():
    x, t, eta = sympy.symbols("x t eta", positive=True)
    for N in (2, 3, 5):
        assert phi(x, t, eta, N) == x + eta * x ** (N - 1) * (t - x**N)
        r = t ** sympy.Rational(1, N)
        assert sympy.simplify(phi(r, t, eta, N) - r) == 0
        # phi'(t^(1/N)) = 1 - eta N t^A (claim S2)
        d = sympy.diff(phi(x, t, eta, N), x).subs(x, r)
        A = 2 - sympy.Rational(2, N)
        assert sympy.simplify(d - (1 - eta * N * t**A)) == 0
    assert phi(sympy.Rational(1, 2), 2, sympy.Rational(1, 10), 2) == sympy.Rational(47, 80)
    Nsym = sympy.Symbol("N", integer=True, positive=True)
    assert phi(x, t, eta, Nsym).has(Nsym)


def test_phi_rejects_strings():
    with pytest.raises(ValueError, match="x must be a number or sympy expression"):
        phi("__import__('os')", 1, 1, 2)
    with pytest.raises(ValueError, match="N must be a number"):
        phi(1, 1, 1, "2")


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: reduced_gradient_identity_holds(1, 2), "N must be an integer >= 2"),
        (lambda: reduced_gradient_identity_holds(2.0, 2), "N must be an integer >= 2"),
        (lambda: reduced_gradient_identity_holds(2, 0), "n must be an integer >= 1"),
        (lambda: gradient_at_equal_factors(2, 2, "polar"), "basis must be one of"),
        (lambda: gd_step_identity_holds(2, 2, "commuting"), "needs an eigenbasis"),
        (lambda: orthogonal_invariance_holds(1), "N must be an integer >= 2"),
    ],
)
def test_validation(call, match):
    with pytest.raises(ValueError, match=match):
        call()
