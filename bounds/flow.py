"""Scalar dynamics of one eigenvalue: flow time, step bounds, hitting times (S, O, K families).

Everything here is about the scalar map ``phi_t(x) = x + eta x^(N-1) (t - x^N)`` that
gradient descent applies to each eigenvalue (claim R1), and about the flow time

    tau_t(a, b) = integral_a^b dp / (N p^A (t - p)),   A = 2 - 2/N,

which the gradient flow needs to move the product ``p = x^N`` from ``a`` to ``b``.

Numerics use mpmath at the *current* mpmath precision unless a function takes ``dps=``;
callers choose precision with ``mpmath.workdps``.  Nothing here assigns ``mp.dps``.
Inputs may be ints, floats, decimal strings or ``mpf``; strings are parsed by
``mpmath.mpf`` (never sympified).  Derivations: ``docs/theory.md``.
"""

from __future__ import annotations

import math
import numbers
from contextlib import nullcontext

import mpmath
import sympy as sp

__all__ = [
    # exponent and closed form
    "A",
    "A_exact",
    "G",
    "G_symbolic",
    "tau",
    "tau_float",
    "tau_quad",
    "J_N",
    # step sizes and the scalar map
    "phi",
    "rho",
    "monotone_step_bound",
    "fixed_point_derivative",
    "phi_symbolic",
    # hypotheses (bool-valued)
    "monotone_step_holds",
    "s1_hypotheses",
    "s2_overshoot_regime",
    "s2_repelling",
    "s3_nonpositive_condition",
    "s3_decreasing_step_bound",
    "s3_positivity_step_bound",
    "s3_hypotheses",
    "o1_hypotheses",
    "k1_hypotheses",
    "k2_hypotheses",
    "k3_hypotheses",
    # hitting-time bounds
    "k1_level_max",
    "k1_lower",
    "k2_upper",
    "k2_upper_real",
    "k3_lower",
    "k3_upper",
]


# ---------------------------------------------------------------------------
# input handling (shared with lowrank.py and perturbed.py)
# ---------------------------------------------------------------------------


def _mpf(x, name):
    """Convert ``x`` to an ``mpf`` at the current precision; ValueError if not a finite real."""
    if isinstance(x, bool):
        raise ValueError(f"{name} must be a real number, got bool {x!r}")
    if isinstance(x, mpmath.mpf):
        v = +x  # round to current precision
    elif isinstance(x, (numbers.Integral,)):
        v = mpmath.mpf(int(x))
    elif isinstance(x, float):
        if math.isnan(x) or math.isinf(x):
            raise ValueError(f"{name} must be finite, got {x!r}")
        v = mpmath.mpf(x)
    elif isinstance(x, str):
        try:
            v = mpmath.mpf(x.strip())
        except (ValueError, TypeError) as exc:
            raise ValueError(f"{name} is not a decimal number: {x!r}") from exc
    elif isinstance(x, numbers.Rational):  # Fractions: exact quotient at the current precision
        v = mpmath.mpf(int(x.numerator)) / int(x.denominator)
    elif isinstance(x, numbers.Real):  # numpy floats, ...
        try:
            v = mpmath.mpf(x)
        except (ValueError, TypeError):
            v = mpmath.mpf(float(x))
    else:
        raise ValueError(f"{name} must be a real number, got {type(x).__name__}")
    if mpmath.isnan(v) or mpmath.isinf(v):
        raise ValueError(f"{name} must be finite, got {x!r}")
    return v


def _check_N(N):
    """Validate the depth: an integer >= 2 (bool and non-integral values rejected)."""
    if isinstance(N, bool) or not isinstance(N, numbers.Integral):
        if isinstance(N, float) and N.is_integer():
            raise ValueError(f"N must be an integer (int), got float {N!r}")
        raise ValueError(f"N must be an integer >= 2, got {N!r}")
    N = int(N)
    if N < 2:
        raise ValueError(f"N must be an integer >= 2, got {N}")
    return N


def _positive(x, name):
    v = _mpf(x, name)
    if v <= 0:
        raise ValueError(f"{name} must be > 0, got {mpmath.nstr(v, 15)}")
    return v


def _nonneg(x, name):
    v = _mpf(x, name)
    if v < 0:
        raise ValueError(f"{name} must be >= 0, got {mpmath.nstr(v, 15)}")
    return v


def _unit_open(x, name):
    v = _mpf(x, name)
    if not (0 < v < 1):
        raise ValueError(f"{name} must lie in (0, 1), got {mpmath.nstr(v, 15)}")
    return v


def _ctx(dps):
    return nullcontext() if dps is None else mpmath.workdps(int(dps))


# ---------------------------------------------------------------------------
# exponent, closed form, flow time
# ---------------------------------------------------------------------------


def A(N):
    """Exponent ``A = 2 - 2/N`` as an mpf at the current precision.

    >>> import mpmath
    >>> with mpmath.workdps(30):
    ...     print(mpmath.nstr(A(3), 10))
    1.333333333
    """
    N = _check_N(N)
    return mpmath.mpf(2) - mpmath.mpf(2) / N


def A_exact(N):
    """Exponent ``A = 2 - 2/N`` exactly (sympy Rational for integers, expression for symbols).

    >>> A_exact(4)
    3/2
    """
    if isinstance(N, sp.Basic) and not N.is_Integer:
        return 2 - 2 / N
    return sp.Integer(2) - sp.Rational(2, _check_N(N))


def G(u, N):
    """Antiderivative of ``u^(-A)/(1-u)`` on (0, 1), the closed form behind ``tau``.

    ``G(u) = ln(u/(1-u))`` for N = 2, ``G(u) = u^(1-A)/(1-A) 2F1(1, 1-A; 2-A; u)`` for N >= 3.

    >>> import mpmath
    >>> with mpmath.workdps(30):
    ...     print(mpmath.nstr(G('0.5', 2), 10), mpmath.nstr(G('0.25', 4), 10))
    0.0 -2.901387711
    """
    N = _check_N(N)
    u = _mpf(u, "u")
    if not (0 < u < 1):
        raise ValueError(f"u must lie in (0, 1), got {mpmath.nstr(u, 15)}")
    if N == 2:
        return mpmath.log(u / (1 - u))
    b = 1 - A(N)  # = 2/N - 1, in (-1, 0)
    return u**b / b * mpmath.hyp2f1(1, b, b + 1, u)


def G_symbolic(u, N):
    """The closed form ``G`` as a sympy expression (``N`` an int >= 2 or a symbol).

    >>> import sympy as sp
    >>> G_symbolic(sp.Symbol('u'), 2)
    log(u/(1 - u))
    """
    if isinstance(N, sp.Basic) and not N.is_Integer:
        b = 2 / N - 1
        return u**b / b * sp.hyper([1, b], [b + 1], u)
    N = _check_N(N)
    if N == 2:
        return sp.log(u / (1 - u))
    b = sp.Rational(2, N) - 1
    return u**b / b * sp.hyper([1, b], [b + 1], u)


def tau(t, a, b, N, *, dps=None):
    """Flow time ``tau_t(a, b) = (G(b/t) - G(a/t)) / (N t^A)`` for ``0 < a, b < t``.

    Computed at the current mpmath precision, or at ``dps`` digits if given (local
    ``workdps``; the result is returned as an mpf carrying that precision).
    ``a > b`` gives the negative of ``tau_t(b, a)``.

    >>> import mpmath
    >>> with mpmath.workdps(30):
    ...     print(mpmath.nstr(tau(1, '0.01', '0.5', 2), 10))
    2.297559925
    >>> print(mpmath.nstr(tau(1, '1e-6', '0.9', 3, dps=40), 12))
    99.9672384699
    """
    N = _check_N(N)
    with _ctx(dps):
        t = _positive(t, "t")
        a = _positive(a, "a")
        b = _positive(b, "b")
        if a >= t:
            raise ValueError(f"need a < t, got a={mpmath.nstr(a, 15)}, t={mpmath.nstr(t, 15)}")
        if b >= t:
            raise ValueError(f"need b < t, got b={mpmath.nstr(b, 15)}, t={mpmath.nstr(t, 15)}")
        return (G(b / t, N) - G(a / t, N)) / (N * t ** A(N))


def tau_float(t, a, b, N):
    """Float version of :func:`tau` (evaluated with mpmath at 20 digits, then rounded).

    >>> round(tau_float(1.0, 0.01, 0.5, 2), 9)
    2.297559925
    """
    with mpmath.workdps(20):
        return float(tau(t, a, b, N))


def tau_quad(t, a, b, N, *, pieces=8):
    """Reference quadrature of ``tau`` in the log variable ``p = e^s``:
    ``integral_{ln a}^{ln b} e^{s(1-A)} / (N (t - e^s)) ds``, split into ``pieces`` equal
    parts plus a refinement near ``ln t`` (used to check the closed form; slower).

    >>> import mpmath
    >>> with mpmath.workdps(30):
    ...     print(mpmath.nstr(tau_quad(1, '0.01', '0.5', 2), 10))
    2.297559925
    """
    N = _check_N(N)
    t = _positive(t, "t")
    a = _positive(a, "a")
    b = _positive(b, "b")
    if a >= t or b >= t:
        raise ValueError("need a, b < t")
    Am = A(N)

    def f(s):
        es = mpmath.exp(s)
        return mpmath.exp(s * (1 - Am)) / (N * (t - es))

    lo, hi = mpmath.log(a), mpmath.log(b)
    sign = 1
    if lo > hi:
        lo, hi, sign = hi, lo, -1
    pts = [lo + (hi - lo) * k / pieces for k in range(pieces + 1)]
    # geometric refinement towards the upper end (the integrand grows like 1/(t - p))
    lt = mpmath.log(t)
    gap = lt - hi
    extra = []
    for k in range(1, 40):
        x = hi - gap * (2**k - 1)
        if x <= pts[-2]:
            break
        extra.append(x)
    pts = sorted(set(pts[:-1] + extra + [hi]))
    return sign * mpmath.quad(f, pts)


def J_N(eps, N):
    """``J_N(eps) = integral_0^(1-eps) u^(2/N-1) / (1-u) du`` (finite for N >= 2, eps in (0,1)).

    Closed form ``(1-eps)^(2/N)/(2/N) * 2F1(1, 2/N; 1 + 2/N; 1 - eps)``.

    >>> import mpmath
    >>> with mpmath.workdps(30):
    ...     print(mpmath.nstr(J_N('0.5', 2), 10))   # = -ln(1/2)
    0.6931471806
    """
    N = _check_N(N)
    eps = _unit_open(eps, "eps")
    c = mpmath.mpf(2) / N
    z = 1 - eps
    return z**c / c * mpmath.hyp2f1(1, c, 1 + c, z)


# ---------------------------------------------------------------------------
# the scalar map and step sizes
# ---------------------------------------------------------------------------


def phi(x, t, eta, N):
    """One gradient step of one eigenvalue: ``x + eta x^(N-1) (t - x^N)``.

    >>> import mpmath
    >>> with mpmath.workdps(30):
    ...     print(mpmath.nstr(phi('0.5', 1, '0.1', 2), 10))
    0.5375
    """
    N = _check_N(N)
    x = _mpf(x, "x")
    t = _mpf(t, "t")
    eta = _positive(eta, "eta")
    return x + eta * x ** (N - 1) * (t - x**N)


def phi_symbolic(x, t, eta, N):
    """sympy expression of ``phi_t(x)``.

    >>> import sympy as sp
    >>> x, t, eta = sp.symbols('x t eta')
    >>> phi_symbolic(x, t, eta, 2)
    eta*x*(t - x**2) + x
    """
    return x + eta * x ** (N - 1) * (t - x**N)


def rho(t, eta, N):
    """Per-step overshoot factor ``rho(t) = (1 + eta t^A)^(N-1)`` (t >= 0).

    >>> import mpmath
    >>> with mpmath.workdps(30):
    ...     print(mpmath.nstr(rho(1, '0.25', 2), 10))
    1.25
    """
    N = _check_N(N)
    t = _nonneg(t, "t")
    eta = _positive(eta, "eta")
    return (1 + eta * t ** A(N)) ** (N - 1)


def monotone_step_bound(t, N):
    """Largest step for which phi_t is nondecreasing on [0, t^(1/N)]: ``1/(N t^A)`` (t > 0).

    >>> import mpmath
    >>> with mpmath.workdps(30):
    ...     print(mpmath.nstr(monotone_step_bound(4, 2), 10))
    0.125
    """
    N = _check_N(N)
    t = _positive(t, "t")
    return 1 / (N * t ** A(N))


def fixed_point_derivative(t, eta, N):
    """``phi_t'(t^(1/N)) = 1 - eta N t^A`` (t > 0), derived symbolically in the tests.

    >>> import mpmath
    >>> with mpmath.workdps(30):
    ...     print(mpmath.nstr(fixed_point_derivative(1, '0.25', 2), 10))
    0.5
    """
    N = _check_N(N)
    t = _positive(t, "t")
    eta = _positive(eta, "eta")
    return 1 - eta * N * t ** A(N)


# ---------------------------------------------------------------------------
# hypotheses (bool-valued; raise only on malformed input)
# ---------------------------------------------------------------------------


def monotone_step_holds(t, eta, N):
    """The S1 step condition ``eta N t^A <= 1`` (phi_t nondecreasing on [0, t^(1/N)]), as
    every hypothesis evaluator that contains it decides it; False for t <= 0 is not implied
    (``t^A`` of a negative t is not real: ValueError).

    >>> monotone_step_holds(1, '0.5', 2), monotone_step_holds(1, '0.5000001', 2)
    (True, False)
    """
    N = _check_N(N)
    t = _nonneg(t, "t")
    eta = _positive(eta, "eta")
    return bool(eta * N * t ** A(N) <= 1)


def s1_hypotheses(t, alpha, eta, N):
    """S1: ``0 < alpha^N < t`` and ``eta N t^A <= 1``.

    >>> s1_hypotheses(1, '0.1', '0.5', 2), s1_hypotheses(1, '0.1', '0.6', 2)
    (True, False)
    """
    N = _check_N(N)
    t = _mpf(t, "t")
    alpha = _positive(alpha, "alpha")
    eta = _positive(eta, "eta")
    if not (alpha**N < t):
        return False
    return monotone_step_holds(t, eta, N)


def s2_overshoot_regime(t, eta, N):
    """S2: ``1 < eta N t^A < 2`` (overshoot above t^(1/N) possible, fixed point attracting).

    >>> s2_overshoot_regime(1, '0.75', 2), s2_overshoot_regime(1, '0.5', 2)
    (True, False)
    """
    N = _check_N(N)
    t = _mpf(t, "t")
    eta = _positive(eta, "eta")
    if t <= 0:
        return False
    q = eta * N * t ** A(N)
    return bool(1 < q < 2)


def s2_repelling(t, eta, N):
    """S2: ``eta N t^A > 2``, i.e. ``|phi_t'(t^(1/N))| > 1`` (repelling fixed point).

    >>> s2_repelling(1, '1.01', 2), s2_repelling(1, '1', 2)
    (True, False)
    """
    N = _check_N(N)
    t = _mpf(t, "t")
    eta = _positive(eta, "eta")
    if t <= 0:
        return False
    return bool(eta * N * t ** A(N) > 2)


def s3_nonpositive_condition(t, alpha, eta, N):
    """S3 (t <= 0): ``eta alpha^(N-2) (alpha^N - t) < 1``; False if t > 0.

    >>> s3_nonpositive_condition(-1, '0.5', '0.5', 2), s3_nonpositive_condition(-3, '0.5', '0.5', 2)
    (True, False)
    """
    N = _check_N(N)
    t = _mpf(t, "t")
    alpha = _positive(alpha, "alpha")
    eta = _positive(eta, "eta")
    if t > 0:
        return False
    return bool(eta * alpha ** (N - 2) * (alpha**N - t) < 1)


def s3_decreasing_step_bound(t, alpha, N):
    """S3 (0 < t < alpha^N): largest eta with phi_t nondecreasing on [t^(1/N), alpha]:
    ``1 / (alpha^(N-2) ((2N-1) alpha^N - (N-1) t))`` (derived in docs/theory.md#s3).

    >>> import mpmath
    >>> with mpmath.workdps(30):
    ...     print(mpmath.nstr(s3_decreasing_step_bound('0.5', 1, 2), 10))
    0.4
    """
    N = _check_N(N)
    t = _mpf(t, "t")
    alpha = _positive(alpha, "alpha")
    if not t < alpha**N:
        raise ValueError("s3_decreasing_step_bound needs t < alpha^N")
    return 1 / (alpha ** (N - 2) * ((2 * N - 1) * alpha**N - (N - 1) * t))


def s3_positivity_step_bound(t, alpha, N):
    """S3 (t < alpha^N): the step size at which the positivity condition
    ``eta alpha^(N-2) (alpha^N - t) < 1`` becomes an equality, ``1 / (alpha^(N-2) (alpha^N - t))``
    (the condition holds exactly for eta strictly below it).

    >>> import mpmath
    >>> with mpmath.workdps(30):
    ...     print(mpmath.nstr(s3_positivity_step_bound(-1, '0.5', 2), 10))
    0.8
    """
    N = _check_N(N)
    t = _mpf(t, "t")
    alpha = _positive(alpha, "alpha")
    if not t < alpha**N:
        raise ValueError("s3_positivity_step_bound needs t < alpha^N")
    return 1 / (alpha ** (N - 2) * (alpha**N - t))


def s3_hypotheses(t, alpha, eta, N):
    """S3 hypotheses: t <= 0 with the positivity condition, or 0 < t < alpha^N with
    ``eta <= s3_decreasing_step_bound(t, alpha, N)``; False otherwise (e.g. t >= alpha^N).

    >>> s3_hypotheses('0.5', 1, '0.4', 2), s3_hypotheses('0.5', 1, '0.41', 2), s3_hypotheses(2, 1, '0.1', 2)
    (True, False, False)
    """
    N = _check_N(N)
    tm = _mpf(t, "t")
    am = _positive(alpha, "alpha")
    em = _positive(eta, "eta")
    if tm <= 0:
        return s3_nonpositive_condition(tm, am, em, N)
    if tm >= am**N:
        return False
    # the relation itself, not s3_decreasing_step_bound: eta is chosen from that bound, and
    # a hypothesis evaluated through it would move together with a wrong bound
    return bool(em * am ** (N - 2) * ((2 * N - 1) * am**N - (N - 1) * tm) <= 1)


def o1_hypotheses(t, t_prime, alpha, eta, N):
    """O1 comparison hypotheses: ``t <= t'``, ``0 < alpha^N <= t'``, ``eta N t'^A <= 1``, and
    the t-trajectory stays positive: ``t >= 0`` or ``eta alpha^(N-2)(alpha^N - t) < 1``.
    Then ``x_k(t) <= x_k(t')`` for all k.

    >>> o1_hypotheses('0.5', 1, '0.1', '0.5', 2), o1_hypotheses(2, 1, '0.1', '0.1', 2)
    (True, False)
    """
    N = _check_N(N)
    t = _mpf(t, "t")
    tp = _mpf(t_prime, "t_prime")
    alpha = _positive(alpha, "alpha")
    eta = _positive(eta, "eta")
    if not (t <= tp and alpha**N <= tp):
        return False
    if not monotone_step_holds(tp, eta, N):
        return False
    if t < 0:
        return bool(eta * alpha ** (N - 2) * (alpha**N - t) < 1)
    return True


def k1_level_max(t, N):
    """Largest level where ``h_t(x) = x^(N-1)(t - x^N)`` is still increasing, in p = x^N:
    ``t (N-1)/(2N-1)``.

    >>> import mpmath
    >>> with mpmath.workdps(30):
    ...     print(mpmath.nstr(k1_level_max(3, 2), 10))
    1.0
    """
    N = _check_N(N)
    t = _mpf(t, "t")
    return t * (N - 1) / (2 * N - 1)


def k1_hypotheses(t, d, alpha, eta, N):
    """K1: ``alpha^N < d <= t (N-1)/(2N-1)`` and S1's hypotheses.

    >>> k1_hypotheses(1, '0.3', '0.1', '0.5', 2), k1_hypotheses(1, '0.4', '0.1', '0.5', 2)
    (True, False)
    """
    N = _check_N(N)
    tm = _mpf(t, "t")
    dm = _mpf(d, "d")
    am = _positive(alpha, "alpha")
    em = _positive(eta, "eta")
    if not s1_hypotheses(tm, am, em, N):
        return False
    return bool(am**N < dm <= k1_level_max(tm, N))


def k1_lower(t, d, alpha, eta, N):
    """K1 lower bound on the hitting time: ``K_t(d) >= tau_t(alpha^N, d) / eta``.

    >>> import mpmath
    >>> with mpmath.workdps(30):
    ...     print(mpmath.nstr(k1_lower(1, '0.3', '0.1', '0.5', 2), 10))
    3.74782199
    """
    N = _check_N(N)
    alpha = _positive(alpha, "alpha")
    eta = _positive(eta, "eta")
    return tau(t, alpha**N, d, N) / eta


def k2_hypotheses(t, d, alpha, eta, N):
    """K2: ``alpha^N < d < t`` and S1's hypotheses.

    >>> k2_hypotheses(1, '0.9', '0.1', '0.5', 2), k2_hypotheses(1, '1', '0.1', '0.5', 2)
    (True, False)
    """
    N = _check_N(N)
    tm = _mpf(t, "t")
    dm = _mpf(d, "d")
    am = _positive(alpha, "alpha")
    em = _positive(eta, "eta")
    if not s1_hypotheses(tm, am, em, N):
        return False
    return bool(am**N < dm < tm)


def k2_upper(t, d, alpha, eta, N):
    """K2 upper bound: ``K_t(d) <= ceil(rho(t) tau_t(alpha^N, d) / eta)`` (an int).

    >>> import mpmath
    >>> with mpmath.workdps(30):
    ...     k2_upper(1, '0.9', '0.1', '0.5', 2)
    11
    """
    return int(mpmath.ceil(k2_upper_real(t, d, alpha, eta, N)))


def k2_upper_real(t, d, alpha, eta, N):
    """The real argument of K2's ceiling, ``rho(t) tau_t(alpha^N, d) / eta``: the hitting
    time satisfies ``K_t(d) <= ceil(k2_upper_real)``, i.e. ``K_t(d) - 1 < k2_upper_real``.
    Checks compare against this value (a ceiling taken at finite precision can be off by one).

    >>> import mpmath
    >>> with mpmath.workdps(30):
    ...     print(mpmath.nstr(k2_upper_real(1, '0.9', '0.1', '0.5', 2), 10))
    10.18851664
    """
    N = _check_N(N)
    alpha = _positive(alpha, "alpha")
    eta = _positive(eta, "eta")
    return rho(t, eta, N) * tau(t, alpha**N, d, N) / eta


def k3_hypotheses(t, d, alpha, N):
    """K3 (elementary bounds, N >= 3): ``0 < alpha^N < d < t``; False for N = 2.

    >>> k3_hypotheses(1, '0.5', '0.1', 3), k3_hypotheses(1, '0.5', '0.1', 2)
    (True, False)
    """
    N = _check_N(N)
    tm = _mpf(t, "t")
    dm = _mpf(d, "d")
    am = _positive(alpha, "alpha")
    if N < 3:
        return False
    return bool(0 < am**N < dm < tm)


def k3_lower(t, d, alpha, N):
    """K3 lower bound ``(alpha^-(N-2) - d^-((N-2)/N)) / ((N-2) t) <= tau_t(alpha^N, d)`` (N >= 3).

    >>> import mpmath
    >>> with mpmath.workdps(30):
    ...     print(mpmath.nstr(k3_lower(1, '0.5', '0.1', 3), 10))
    8.74007895
    """
    N = _check_N(N)
    if N < 3:
        raise ValueError("K3 needs N >= 3")
    t = _positive(t, "t")
    d = _positive(d, "d")
    alpha = _positive(alpha, "alpha")
    return (alpha ** (-(N - 2)) - d ** (-mpmath.mpf(N - 2) / N)) / ((N - 2) * t)


def k3_upper(t, eps, alpha, N):
    """K3 upper bound ``tau_t(alpha^N, (1-eps)t) <= alpha^-(N-2)/((N-2)t) + J_N(eps)/(N t^A)``.

    >>> import mpmath
    >>> with mpmath.workdps(30):
    ...     print(mpmath.nstr(k3_upper(1, '0.1', '0.1', 3), 10))
    11.00303264
    """
    N = _check_N(N)
    if N < 3:
        raise ValueError("K3 needs N >= 3")
    t = _positive(t, "t")
    alpha = _positive(alpha, "alpha")
    return alpha ** (-(N - 2)) / ((N - 2) * t) + J_N(eps, N) / (N * t ** A(N))
