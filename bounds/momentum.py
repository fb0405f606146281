"""Momentum (heavy ball, Nesterov) from ``W_j(0) = alpha I``: the reduction, derived symbolically.

Beyond the paper (docs/beyond.md, "Momentum, exactly"). Each factor carries a velocity
``V_j`` with ``V_j(0) = 0``; with ``G_j`` the gradient of ``1/2 ||W_N...W_1 - Y||_F^2`` in
``W_j`` (bounds.reduction.gradient) the two iterations are::

    heavy ball: V_j <- beta V_j - eta G_j(W_1, ..., W_N),              W_j <- W_j + V_j
    Nesterov:   V_j <- beta V_j - eta G_j(W_1 + beta V_1, ..., W_N + beta V_N), W_j <- W_j + V_j

(Nesterov in Sutskever's form: the gradient is taken at the look-ahead point ``W + beta V``.)
If every ``W_j = X`` and every ``V_j = V`` with X, V symmetric and commuting with a
symmetric Y (``X = Q diag(x) Q^T``, ``V = Q diag(v) Q^T``, ``Y = Q diag(t) Q^T``), then by
claim R1 (a) every gradient equals ``Z^(N-1)(Z^N - Y)`` at the common point Z (X for heavy
ball, ``X + beta V`` for Nesterov), so the update keeps the factors equal, the velocities
equal, and both in the eigenbasis Q. Each eigenvalue pair ``(x, v)`` follows::

    heavy ball: v' = beta v + eta x^(N-1)(t - x^N),          x' = x + v'
    Nesterov:   z = x + beta v, v' = beta v + eta z^(N-1)(t - z^N), x' = x + v'

and since ``v_k = x_k - x_{k-1}`` (with ``x_{-1} = x_0 = alpha`` from ``V(0) = 0``) this is
the second-order scalar recursion of :func:`momentum_step`::

    heavy ball: x_{k+1} = phi_t(x_k) + beta (x_k - x_{k-1})
    Nesterov:   x_{k+1} = phi_t(y_k),  y_k = x_k + beta (x_k - x_{k-1})

with ``phi_t`` the GD map of R1 (bounds.reduction.phi); ``beta = 0`` is R1's dynamics exactly.

What is checked here (sympy, the same settings as R1 in bounds/reduction.py):

* :func:`momentum_matrix_step_holds` in an eigenbasis (``"rotation"``: n = 2 with the
  relation ``c^2 + s^2 = 1``; ``"diagonal"``: Q = I, which covers every Q by R1's
  :func:`bounds.reduction.orthogonal_invariance_holds`): one matrix step of the velocity form
  equals ``Q diag(x', v') Q^T`` with the scalar pair above, for every factor j.
* :func:`momentum_commuting_step_holds` without an eigenbasis: X generic symmetric, V and Y
  generic polynomials in X (the generic matrices commuting with X); every factor's new
  ``(W_j, V_j)`` is the same pair of matrices, symmetric and commuting with X and Y, so the
  induction hypothesis is restored.
* :func:`two_term_form_holds`: the velocity form with ``v = x - x_prev`` is the two-term
  recursion, and ``beta = 0`` gives ``phi_t`` (R1) exactly, for symbolic N.

Unknown is never treated as true: an undecidable difference makes a check False with a
warning (bounds.reduction._all_zero).

>>> momentum_matrix_step_holds(2, 2, "heavyball")
True
>>> momentum_step(sympy.Symbol("x"), sympy.Symbol("xp"), 1, sympy.Symbol("eta"), 0, 2, "nesterov")
eta*x*(1 - x**2) + x
"""

from __future__ import annotations

import warnings

import sympy

from bounds.reduction import (
    _all_zero,
    _check_int,
    _prod,
    equal_factor_setting,
    gradient,
    phi,
)

__all__ = [
    "METHODS",
    "momentum_step",
    "velocity_step",
    "momentum_matrix_step_holds",
    "momentum_commuting_step_holds",
    "two_term_form_holds",
    "m1_hypotheses",
    "m1_level_hypotheses",
]

METHODS = ("heavyball", "nesterov")


def _check_method(method):
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    return method


def momentum_step(x, x_prev, t, eta, beta, N, method):
    """``x_{k+1}`` of the two-term scalar recursion (sympy expression, or a number for numbers).

    >>> x, xp, t, eta, beta = sympy.symbols("x xp t eta beta")
    >>> sympy.expand(momentum_step(x, xp, t, eta, beta, 2, "heavyball") - phi(x, t, eta, 2))
    beta*x - beta*xp
    """
    _check_method(method)
    for name, v in (("x", x), ("x_prev", x_prev), ("beta", beta)):
        if isinstance(v, (str, bytes)):
            raise ValueError(f"{name} must be a number or sympy expression, not a string")
    x, x_prev, beta = (sympy.S(v) for v in (x, x_prev, beta))
    if method == "heavyball":
        return phi(x, t, eta, N) + beta * (x - x_prev)
    return phi(x + beta * (x - x_prev), t, eta, N)


def velocity_step(x, v, t, eta, beta, N, method):
    """One step of the eigenvalue pair ``(x, v) -> (x', v')`` of the velocity form.

    >>> x, v, t, eta, beta = sympy.symbols("x v t eta beta")
    >>> x_new, v_new = velocity_step(x, v, t, eta, beta, 2, "heavyball")
    >>> sympy.expand(v_new - (beta*v + eta*x*(t - x**2))), sympy.expand(x_new - x - v_new)
    (0, 0)
    """
    _check_method(method)
    x, v, t, eta, beta = (sympy.S(a) for a in (x, v, t, eta, beta))
    z = x if method == "heavyball" else x + beta * v
    v_new = beta * v - eta * z ** (N - 1) * (z**N - t)
    return x + v_new, v_new


def _gradient_point(S, X, V, beta, method):
    """The point at which the gradient is taken: X (heavy ball) or X + beta V (Nesterov)."""
    if method == "heavyball":
        return X
    return S.normal_matrix((X + beta * V).expand()) if S is not None else (X + beta * V).expand()


def _matrix_step(N, S, X, V, Y, eta, beta, method):
    """The velocity-form update of all N factors from ``W_j = X``, ``V_j = V``:
    list of ``(W_j', V_j')``."""
    Z = _gradient_point(S, X, V, beta, method)
    G = gradient([Z] * N, Y, S)
    out = []
    for Gj in G:
        Vn = (beta * V - eta * Gj).expand()
        Wn = (X + Vn).expand()
        if S is not None:
            Vn, Wn = S.normal_matrix(Vn), S.normal_matrix(Wn)
        out.append((Wn, Vn))
    return out


def momentum_matrix_step_holds(N: int, n: int, method: str, basis: str = "auto", *,
                               scalar=None) -> bool:
    """One matrix step from ``W_j = Q diag(x) Q^T``, ``V_j = Q diag(v) Q^T`` equals
    ``(Q diag(x') Q^T, Q diag(v') Q^T)`` with :func:`velocity_step`, for every factor j.

    ``basis``: "rotation" (n = 2, or Givens products for n >= 3) or "diagonal"
    (bounds.reduction.equal_factor_setting). ``scalar``: the claimed eigenvalue-pair map
    (default :func:`velocity_step`; negative controls pass a wrong one). The rotation basis
    with n = 3 takes minutes: tests use n = 2 there and n = 3 in the diagonal basis.

    >>> all(momentum_matrix_step_holds(N, 2, m, "rotation") for N in (2, 3) for m in METHODS)
    True
    """
    N = _check_int(N, "N", 2)
    _check_method(method)
    S = equal_factor_setting(n, basis)
    if S.Q is None:
        raise ValueError("momentum_matrix_step_holds needs an eigenbasis (rotation or diagonal)")
    eta = sympy.Symbol("eta", positive=True)
    beta = sympy.Symbol("beta", nonnegative=True)
    v = sympy.symbols(f"v1:{S.n + 1}", real=True)
    V = _prod([S.Q, sympy.diag(*v), S.Q.T], S.n, S)
    scalar = velocity_step if scalar is None else scalar
    pairs = [scalar(xi, vi, ti, eta, beta, N, method) for xi, vi, ti in zip(S.x, v, S.t)]
    Wt = _prod([S.Q, sympy.diag(*[p[0] for p in pairs]).expand(), S.Q.T], S.n, S)
    Vt = _prod([S.Q, sympy.diag(*[p[1] for p in pairs]).expand(), S.Q.T], S.n, S)
    for j, (Wn, Vn) in enumerate(_matrix_step(N, S, S.X, V, S.Y, eta, beta, method), start=1):
        what = f"{method} step N={N} n={n} j={j}"
        if not (_all_zero(S.normal_matrix(Wn - Wt), what)
                and _all_zero(S.normal_matrix(Vn - Vt), what)):
            return False
    return True


def momentum_commuting_step_holds(N: int, n: int, method: str) -> bool:
    """The induction step without an eigenbasis: X generic symmetric n x n, ``V`` and ``Y``
    generic polynomials of degree n-1 in X. Every factor's new ``(W_j, V_j)`` is the same
    pair, both symmetric and commuting with X and Y.

    >>> all(momentum_commuting_step_holds(2, 2, m) for m in METHODS)
    True
    """
    N = _check_int(N, "N", 2)
    _check_method(method)
    S = equal_factor_setting(n, "commuting")
    X, Y = S.X, S.Y
    ms = sympy.symbols(f"m0:{S.n}", real=True)
    V = sympy.zeros(S.n, S.n)
    P = sympy.eye(S.n)
    for k in range(S.n):
        V += ms[k] * P
        P = (P * X).expand()
    V = V.expand()
    eta = sympy.Symbol("eta", positive=True)
    beta = sympy.Symbol("beta", nonnegative=True)
    steps = _matrix_step(N, None, X, V, Y, eta, beta, method)
    W1, V1 = steps[0]
    what = f"{method} commuting step N={N} n={n}"
    for Wn, Vn in steps[1:]:
        if not (_all_zero((Wn - W1).expand(), what) and _all_zero((Vn - V1).expand(), what)):
            return False
    for M in (W1, V1):
        if not _all_zero((M - M.T).expand(), what + " (symmetry)"):
            return False
        for C in (X, Y):
            if not _all_zero((M * C - C * M).expand(), what + " (commutation)"):
                return False
    return True


def two_term_form_holds() -> bool:
    """For symbolic N: the velocity form with ``v = x - x_prev`` is the two-term recursion
    (:func:`momentum_step`, both methods), and ``beta = 0`` is ``phi_t`` of R1.

    >>> two_term_form_holds()
    True
    """
    x, xp, t = sympy.symbols("x xp t", real=True)
    eta = sympy.Symbol("eta", positive=True)
    beta = sympy.Symbol("beta", nonnegative=True)
    N = sympy.Symbol("N", integer=True, positive=True)
    checks = []
    for m in METHODS:
        x_new, v_new = velocity_step(x, x - xp, t, eta, beta, N, m)
        checks.append(x_new - momentum_step(x, xp, t, eta, beta, N, m))
        checks.append(v_new - (x_new - x))  # the new velocity is the new increment
        checks.append(momentum_step(x, xp, t, eta, 0, N, m) - phi(x, t, eta, N))
    for d in checks:
        z = sympy.simplify(d).is_zero
        if z is None:
            warnings.warn(f"two-term form undecided for {d}; treating as NOT verified",
                          RuntimeWarning, stacklevel=2)
            return False
        if not z:
            return False
    return True


def m1_hypotheses(t, alpha, eta, beta, N) -> bool:
    """Hypotheses of the heavy-ball dominance (docs/beyond.md, "Momentum, exactly"):
    ``0 < alpha^N < t``, the S1 step bound ``eta N t^A <= 1`` and ``0 <= beta < 1``.

    Under them, for every level ``d < t`` the heavy-ball hitting time ``min{k : x_k^N >= d}``
    (also with ``> d``) is at most gradient descent's (claim M1, docs/theory.md#m1, whose
    hypothesis evaluator is :func:`m1_level_hypotheses`).

    >>> m1_hypotheses(1, "0.05", "0.2", "0.9", 3), m1_hypotheses(1, "0.05", "0.2", 1, 3)
    (True, False)
    """
    import mpmath

    from bounds.flow import _mpf, s1_hypotheses

    with mpmath.workdps(50):
        b = _mpf(beta, "beta")
        return bool(0 <= b < 1 and s1_hypotheses(t, alpha, eta, N))


def m1_level_hypotheses(t, d, alpha, eta, beta, N) -> bool:
    """Claim M1's hypotheses, in the registry's order: S1's (``N >= 2``, ``alpha > 0``,
    ``eta > 0``, ``0 < alpha^N < t``, ``eta N t^A <= 1``), ``0 <= beta < 1`` and
    ``alpha^N < d < t``, decided at the caller's mpmath precision (like
    :func:`bounds.flow.k2_hypotheses`). False, never an exception, for valid numbers that
    break a hypothesis; ValueError for invalid ones (a non-number, ``alpha <= 0``,
    ``eta <= 0``, ``N < 2``).

    >>> m1_level_hypotheses(1, "0.9", "0.1", "0.5", "0.5", 2)
    True
    >>> [m1_level_hypotheses(1, d, "0.1", "0.5", b, 2) for d, b in (("1", "0.5"), ("0.9", "-0.1"),
    ...                                                             ("0.9", "1"), ("0.001", "0"))]
    [False, False, False, False]
    """
    from bounds.flow import _mpf, k2_hypotheses

    b = _mpf(beta, "beta")
    if not k2_hypotheses(t, d, alpha, eta, N):
        return False
    return bool(0 <= b < 1)
