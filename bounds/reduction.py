"""Claim R1 (reduction), part (a): the gradient at equal factors, derived symbolically.

Setting (THEORY.md): loss ``L = 1/2 ||W_N ... W_1 - Y||_F^2``; its gradient with respect to
the factor ``W_j`` is::

    dL/dW_j = (W_N ... W_{j+1})^T (P - Y) (W_{j-1} ... W_1)^T,   P = W_N ... W_1.

Claim R1 (a): if all factors equal a symmetric ``X`` commuting with a symmetric ``Y``
(``X = Q diag(x) Q^T``, ``Y = Q diag(t) Q^T``, Q orthogonal), then every ``dL/dW_j`` equals
``X^(N-1) (X^N - Y) = Q diag(x_i^(N-1) (x_i^N - t_i)) Q^T``. Hence one gradient step keeps the
factors equal and in the same eigenbasis, and each eigenvalue follows the scalar map
``phi_t(x) = x + eta x^(N-1) (t - x^N)``; induction from ``W_j(0) = alpha I`` gives R1.

Why (the argument the code checks): ``X^T = X`` so ``(W_N...W_{j+1})^T = X^(N-j)`` and
``(W_{j-1}...W_1)^T = X^(j-1)``; since X commutes with Y it commutes with ``X^N - Y``, so
``X^(N-j) (X^N - Y) X^(j-1) = X^(N-1) (X^N - Y)``.

What is checked here, with explicit symbolic matrices (sympy):

* ``basis="rotation"``: n = 2, ``Q = [[c, -s], [s, c]]`` with symbols c, s and the relation
  ``c^2 + s^2 = 1`` (every identity is reduced modulo it: polynomial remainder in c, which
  is a normal form because the relation is monic in c). For n >= 3, Q is a product of
  Givens rotations in the planes (1,2), (2,3), ..., (n-1,n), (1,n), each with its own
  ``(c_k, s_k)`` and relation (slow for large N, n: tests use small cases).
* ``basis="diagonal"``: Q = I, ``X = diag(x)``, ``Y = diag(t)``; together with the
  orthogonal invariance :func:`orthogonal_invariance_holds` (checked with noncommutative
  symbols using only ``Q^T Q = I``) this covers every Q.
* ``basis="commuting"``: X a generic symmetric matrix of symbols and ``Y = k_0 I + k_1 X +
  ... + k_(n-1) X^(n-1)`` (the generic matrix commuting with a generic X), no eigenbasis.
* :func:`scalar_identity_holds_symbolic_N`: the eigenvalue-wise identity for symbolic N, j.

Unknown is never treated as true: if sympy cannot decide that a difference is zero
(``is_zero`` returns None) the check returns False and warns.

>>> reduced_gradient_identity_holds(3, 2)
True
>>> phi(sympy.Symbol("x"), sympy.Symbol("t"), sympy.Symbol("eta"), 2)
eta*x*(t - x**2) + x
"""

from __future__ import annotations

import numbers
import warnings
from dataclasses import dataclass

import sympy

__all__ = [
    "EqualFactorSetting",
    "equal_factor_setting",
    "gradient",
    "gradient_at_equal_factors",
    "reduced_gradient",
    "reduced_gradient_identity_holds",
    "gd_step_identity_holds",
    "orthogonal_invariance_holds",
    "scalar_identity_holds_symbolic_N",
    "phi",
]

BASES = ("auto", "rotation", "diagonal", "commuting")


def _check_int(v, name, lo):
    if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < lo:
        raise ValueError(f"{name} must be an integer >= {lo}, got {v!r}")
    return int(v)


@dataclass(frozen=True, eq=False)
class EqualFactorSetting:
    """Symbolic X, Y (and Q when there is an eigenbasis) for one basis choice.

    ``relations``: list of ``(c, s)`` symbol pairs with ``c^2 + s^2 = 1``; ``x``, ``t``: the
    eigenvalue symbols (empty for the "commuting" basis); ``Q``: orthogonal matrix or None.
    """

    n: int
    basis: str
    X: sympy.Matrix
    Y: sympy.Matrix
    Q: sympy.Matrix | None
    x: tuple
    t: tuple
    relations: tuple

    def normal_form(self, expr):
        """Canonical polynomial form of ``expr`` modulo the relations ``c^2 + s^2 = 1``."""
        e = sympy.expand(expr)
        for c, s in self.relations:
            if e.has(c):
                e = sympy.rem(e, c**2 + s**2 - 1, c)
                e = sympy.expand(e)
        return e

    def normal_matrix(self, M):
        return M.applyfunc(self.normal_form)


def _givens(n, i, j, c, s):
    G = sympy.eye(n)
    G[i, i] = c
    G[j, j] = c
    G[i, j] = -s
    G[j, i] = s
    return G


def equal_factor_setting(n: int, basis: str = "auto") -> EqualFactorSetting:
    """Build the symbolic X and Y of R1 (a) in the requested basis (see module docstring).

    >>> S = equal_factor_setting(2, "rotation")
    >>> S.Q
    Matrix([
    [c1, -s1],
    [s1,  c1]])
    >>> S.normal_matrix(S.Q.T * S.Q)
    Matrix([
    [1, 0],
    [0, 1]])
    """
    n = _check_int(n, "n", 1)
    if basis not in BASES:
        raise ValueError(f"basis must be one of {BASES}, got {basis!r}")
    if basis == "auto":
        basis = "rotation" if n == 2 else "diagonal"
    if basis == "commuting":
        X = sympy.zeros(n, n)
        for i in range(n):
            for j in range(i, n):
                X[i, j] = X[j, i] = sympy.Symbol(f"a{i + 1}{j + 1}", real=True)
        ks = sympy.symbols(f"k0:{n}", real=True)
        Y = sympy.zeros(n, n)
        P = sympy.eye(n)
        for k in range(n):
            Y += ks[k] * P
            P = (P * X).expand()
        return EqualFactorSetting(n, basis, X, Y.expand(), None, (), (), ())
    x = sympy.symbols(f"x1:{n + 1}", real=True)
    t = sympy.symbols(f"t1:{n + 1}", real=True)
    if basis == "diagonal" or n == 1:
        Q = sympy.eye(n)
        rel = ()
    else:
        planes = [(i, i + 1) for i in range(n - 1)] + ([(0, n - 1)] if n >= 3 else [])
        Q = sympy.eye(n)
        rel = []
        for k, (i, j) in enumerate(planes, start=1):
            c, s = sympy.symbols(f"c{k} s{k}", real=True)
            rel.append((c, s))
            Q = Q * _givens(n, i, j, c, s)
        rel = tuple(rel)
    X = (Q * sympy.diag(*x) * Q.T).expand()
    Y = (Q * sympy.diag(*t) * Q.T).expand()
    return EqualFactorSetting(n, "diagonal" if n == 1 else basis, X, Y, Q, x, t, rel)


def _prod(mats, n, S=None):
    """Left-to-right product ``mats[0] * mats[1] * ...``, expanded after each factor."""
    P = sympy.eye(n)
    for M in mats:
        P = (P * M).expand()
        if S is not None:
            P = S.normal_matrix(P)
    return P


def gradient(factors, Y, S=None):
    """``dL/dW_j`` for all j, for explicit symbolic factors ``[W_1, ..., W_N]`` and target Y.

    ``(W_N ... W_{j+1})^T (P - Y) (W_{j-1} ... W_1)^T``; entries are expanded (and reduced
    modulo ``S``'s relations when a setting ``S`` is given).

    >>> a, b, y = sympy.symbols("a b y")
    >>> G1, G2 = gradient([sympy.Matrix([[a]]), sympy.Matrix([[b]])], sympy.Matrix([[y]]))
    >>> sympy.expand(G1[0] - b*(a*b - y)), sympy.expand(G2[0] - a*(a*b - y))
    (0, 0)
    """
    N = len(factors)
    n = Y.rows
    P = _prod(list(reversed(factors)), n, S)
    R = (P - Y).expand()
    out = []
    for j in range(1, N + 1):  # 1-based factor index
        left = _prod(list(reversed(factors[j:])), n, S).T  # (W_N ... W_{j+1})^T
        right = _prod(list(reversed(factors[: j - 1])), n, S).T  # (W_{j-1} ... W_1)^T
        G = _prod([left, R, right], n, S)
        out.append(G)
    return tuple(out)


def gradient_at_equal_factors(N: int, n: int, basis: str = "auto"):
    """The gradient ``(dL/dW_1, ..., dL/dW_N)`` at ``W_1 = ... = W_N = X`` (symbolic).

    X and Y come from :func:`equal_factor_setting` ``(n, basis)``; entries are expanded
    polynomials, reduced modulo ``c^2 + s^2 = 1`` in the rotation basis.

    >>> G = gradient_at_equal_factors(2, 1)
    >>> x1, t1 = sympy.symbols("x1 t1", real=True)
    >>> G[0] == G[1] == sympy.Matrix([[x1 * (x1**2 - t1)]])
    True
    >>> len(gradient_at_equal_factors(5, 2, "rotation"))
    5
    """
    N = _check_int(N, "N", 2)
    S = equal_factor_setting(n, basis)
    G = gradient([S.X] * N, S.Y, S)
    return tuple(M.applyfunc(sympy.factor) for M in G) if S.n == 1 else G


def reduced_gradient(N: int, S: EqualFactorSetting):
    """``X^(N-1) (X^N - Y)``, the claimed common gradient, in setting ``S`` (normal form)."""
    n = S.n
    XN1 = _prod([S.X] * (N - 1), n, S)
    XN = _prod([XN1, S.X], n, S)
    return _prod([XN1, (XN - S.Y).expand()], n, S)


def _all_zero(M, what):
    """True iff every entry is (provably) zero; None from sympy -> False with a warning."""
    for e in M:
        z = sympy.simplify(e).is_zero
        if z is None:
            warnings.warn(f"{what}: sympy could not decide whether {e} is zero; "
                          "treating as NOT verified", RuntimeWarning, stacklevel=3)
            return False
        if not z:
            return False
    return True


def reduced_gradient_identity_holds(N: int, n: int, basis: str = "auto") -> bool:
    """Check ``dL/dW_j = X^(N-1)(X^N - Y)`` for every j at equal factors X (claim R1 (a)).

    In the eigenbasis settings it also checks ``X^(N-1)(X^N - Y) =
    Q diag(x_i^(N-1)(x_i^N - t_i)) Q^T``. Returns False (never raises for a failed
    identity) if some difference is not provably zero; an undecidable entry gives False
    and a RuntimeWarning.

    >>> all(reduced_gradient_identity_holds(N, 2, b) for N in (2, 3) for b in
    ...     ("rotation", "diagonal", "commuting"))
    True
    """
    N = _check_int(N, "N", 2)
    S = equal_factor_setting(n, basis)
    G = gradient([S.X] * N, S.Y, S)
    R = reduced_gradient(N, S)
    for j, Gj in enumerate(G, start=1):
        if not _all_zero(S.normal_matrix(Gj - R), f"R1(a) N={N} n={n} j={j}"):
            return False
    if S.Q is not None:
        d = sympy.diag(*[xi ** (N - 1) * (xi**N - ti) for xi, ti in zip(S.x, S.t)])
        D = _prod([S.Q, d, S.Q.T], S.n, S)
        if not _all_zero(S.normal_matrix(R - D), f"R1(a) eigenform N={N} n={n}"):
            return False
    return True


def phi(x, t, eta, N):
    """The scalar map ``phi_t(x) = x + eta x^(N-1) (t - x^N)`` as a sympy expression.

    Arguments may be sympy expressions or numbers (strings are rejected, nothing is parsed).

    >>> x, t, eta = sympy.symbols("x t eta")
    >>> phi(x, t, eta, 3)
    eta*x**2*(t - x**3) + x
    >>> phi(sympy.Rational(1, 2), 2, sympy.Rational(1, 10), 2)
    47/80
    """
    for name, v in (("x", x), ("t", t), ("eta", eta), ("N", N)):
        if isinstance(v, (str, bytes)):
            raise ValueError(f"{name} must be a number or sympy expression, not a string")
    x, t, eta, N = (sympy.S(v) for v in (x, t, eta, N))
    return x + eta * x ** (N - 1) * (t - x**N)


def gd_step_identity_holds(N: int, n: int, basis: str = "auto") -> bool:
    """One GD step from equal factors X: ``X - eta dL/dW_j = Q diag(phi_{t_i}(x_i)) Q^T``.

    (Eigenbasis settings only: "rotation" or "diagonal".)

    >>> gd_step_identity_holds(4, 2)
    True
    """
    N = _check_int(N, "N", 2)
    S = equal_factor_setting(n, basis)
    if S.Q is None:
        raise ValueError("gd_step_identity_holds needs an eigenbasis (rotation or diagonal)")
    eta = sympy.Symbol("eta", positive=True)
    G = gradient([S.X] * N, S.Y, S)
    D = sympy.diag(*[phi(xi, ti, eta, N) for xi, ti in zip(S.x, S.t)])
    target = _prod([S.Q, D.expand(), S.Q.T], S.n, S)
    return all(
        _all_zero(S.normal_matrix((S.X - eta * Gj).expand() - target), f"GD step j={j}")
        for j, Gj in enumerate(G, start=1)
    )


def _nc_reduce(expr, Q, Qt):
    """Expand a noncommutative expression and rewrite ``Qt*Q -> 1`` until stable."""
    prev = None
    e = sympy.expand(expr)
    while prev != e:
        prev = e
        e = sympy.expand(e.subs(Qt * Q, 1))
    return e


def orthogonal_invariance_holds(N: int) -> bool:
    """``dL/dW_j`` is equivariant: ``W_i -> Q W_i Q^T, Y -> Q Y Q^T`` maps it to ``Q G_j Q^T``.

    Checked for *arbitrary* (non-symmetric, non-commuting) factors with noncommutative
    symbols, using only ``Q^T Q = I`` (so it holds for every n and every orthogonal Q).
    This reduces R1 (a) for a general eigenbasis to the diagonal case.

    >>> all(orthogonal_invariance_holds(N) for N in range(2, 6))
    True
    """
    N = _check_int(N, "N", 2)
    Q, Qt, Y = sympy.symbols("Q Qt Y", commutative=False)
    W = sympy.symbols(f"W1:{N + 1}", commutative=False)
    Wt = sympy.symbols(f"Wt1:{N + 1}", commutative=False)  # Wt_i stands for W_i^T

    def grad(Ws, Wts, Yv):
        P = sympy.Mul(*reversed(Ws))
        out = []
        for j in range(1, N + 1):
            left = sympy.Mul(*Wts[j:])  # (W_N...W_{j+1})^T = W_{j+1}^T ... W_N^T
            right = sympy.Mul(*reversed(Wts[: j - 1]))  # (W_{j-1}...W_1)^T = W_1^T...W_{j-1}^T
            out.append(left * (P - Yv) * right)
        return out

    G = grad(W, Wt, Y)
    Gq = grad([Q * w * Qt for w in W], [Q * w * Qt for w in Wt], Q * Y * Qt)
    for j in range(N):
        diff = _nc_reduce(Gq[j] - Q * G[j] * Qt, Q, Qt)
        if diff != 0:
            return False
    return True


def scalar_identity_holds_symbolic_N() -> bool:
    """The eigenvalue-wise identity ``x^(N-j) (x^N - t) x^(j-1) = x^(N-1)(x^N - t)`` for
    symbolic integers N >= 2 and 1 <= j <= N (x > 0, as on R1's trajectories).

    In the common eigenbasis every factor of the gradient formula is diagonal, so this
    is R1 (a) for all N at once.

    >>> scalar_identity_holds_symbolic_N()
    True
    """
    x = sympy.Symbol("x", positive=True)
    t = sympy.Symbol("t", real=True)
    N = sympy.Symbol("N", integer=True, positive=True)
    j = sympy.Symbol("j", integer=True, positive=True)
    d = x ** (N - j) * (x**N - t) * x ** (j - 1) - x ** (N - 1) * (x**N - t)
    z = sympy.simplify(d).is_zero
    if z is None:
        warnings.warn("symbolic-N identity undecided; treating as NOT verified",
                      RuntimeWarning, stacklevel=2)
        return False
    return bool(z)
