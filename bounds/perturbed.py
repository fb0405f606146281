"""Perturbed problem Y = W + E (P family): convergence to Y_+, eigenvalue recovery,
iteration complexity, persistence of the low-rank phase, critical noise, error bound.

``s`` is W's spectrum (descending, >= 0), ``t_eigs`` Y's spectrum (descending, may be
negative), ``e = ||E||_2``.  Numerics at the current mpmath precision.
Derivations: ``docs/theory.md#p1`` .. ``#p5``.
"""

from __future__ import annotations

from collections import namedtuple

import mpmath

from bounds.flow import (
    A,
    G,
    _check_N,
    _mpf,
    _nonneg,
    _positive,
    _unit_open,
    k1_level_max,
    monotone_step_holds,
    rho,
    s3_nonpositive_condition,
    s3_positivity_step_bound,
    tau,
)
from bounds.lowrank import _check_r, _lb1_from, _lb1_real_from, _spectrum, _ub0_from, _ub0_real_from

__all__ = [
    # P1
    "p1_step_bound",
    "p1_hypotheses",
    "p1_step_limit",
    "p1_hypothesis_failures",
    "p1_growing_lanes",
    "p1_distance_bound",
    "y_plus_eigenvalues",
    # P2
    "P2Bounds",
    "p2_bounds",
    "p2_eigenvalues_consistent",
    # P3
    "p3_hypotheses",
    "p3_lower_hypotheses",
    "p3_bounds",
    "p3_bounds_real",
    "p3_hypothesis_failures",
    "paired_eigenvalue_consistent",
    # P4
    "weyl_extremal_eigenvalues",
    "p4_step_limit",
    "p4_hypothesis_failures",
    "p4_hypotheses",
    "p4_bounds",
    "p4_bounds_real",
    "h_flow_time",
    "h_derivative",
    "h_decreasing_margin",
    "h_decreasing_on",
    "p4_any_hypothesis_failures",
    "p4_any_hypotheses",
    "p4_bounds_any",
    "p4_bounds_any_real",
    "p4_any_condition",
    "critical_noise",
    "critical_noise_bracket",
    # P5
    "p5_error_bound",
]


def _eigs(t_eigs, name="t_eigs"):
    """Validate a real spectrum (descending, finite, may be negative)."""
    return _spectrum(t_eigs, name, nonnegative=False)


# ---------------------------------------------------------------------------
# P1
# ---------------------------------------------------------------------------


def p1_step_bound(t_eigs, alpha, N):
    """P1 step bound ``1 / (N max(t_1, alpha^N)^A)``.

    >>> import mpmath
    >>> with mpmath.workdps(30):
    ...     print(mpmath.nstr(p1_step_bound([4, '-0.5'], '0.1', 2), 10))
    0.125
    """
    N = _check_N(N)
    tv = _eigs(t_eigs)
    alpha = _positive(alpha, "alpha")
    return 1 / (N * max(tv[0], alpha**N) ** A(N))


def p1_hypotheses(t_eigs, alpha, eta, N):
    """P1: ``eta <= p1_step_bound`` and the S3 positivity condition
    ``eta alpha^(N-2)(alpha^N - t_i) < 1`` for every ``t_i <= 0``.  Then P(k) -> Y_+.

    >>> p1_hypotheses([4, '-0.5'], '0.1', '0.1', 2), p1_hypotheses([4, '-0.5'], '0.1', '0.2', 2)
    (True, False)
    """
    return not p1_hypothesis_failures(t_eigs, alpha, eta, N)


def p1_step_limit(t_eigs, alpha, N):
    """The step scale of P1's hypotheses: :func:`p1_step_bound`, and if some ``t_i <= 0`` also
    the S3 positivity bound ``1 / (alpha^(N-2) (alpha^N - t_n))`` (that one strict: any
    ``eta = f * p1_step_limit`` with ``0 < f < 1`` satisfies :func:`p1_hypotheses`).

    >>> import mpmath
    >>> with mpmath.workdps(30):
    ...     print(mpmath.nstr(p1_step_limit([4, '-0.5'], '0.5', 2), 10))
    0.125
    """
    tv = _eigs(t_eigs)
    alpha = _positive(alpha, "alpha")
    bound = p1_step_bound(tv, alpha, N)
    if tv[-1] <= 0:
        bound = min(bound, 1 / (alpha ** (N - 2) * (alpha**N - tv[-1])))
    return bound


def p1_hypothesis_failures(t_eigs, alpha, eta, N):
    """The hypotheses of P1 that fail, by name (empty: :func:`p1_hypotheses` holds).

    >>> p1_hypothesis_failures([4, '-0.5'], '0.1', '0.2', 2)
    ['eta <= 1/(N max(t_1, alpha^N)^A)']
    """
    N = _check_N(N)
    tv = _eigs(t_eigs)
    alpha = _positive(alpha, "alpha")
    eta = _positive(eta, "eta")
    bad = []
    if not (eta <= p1_step_bound(tv, alpha, N)):
        bad.append("eta <= 1/(N max(t_1, alpha^N)^A)")
    for i, ti in enumerate(tv):
        if ti <= 0 and not s3_nonpositive_condition(ti, alpha, eta, N):
            bad.append(f"S3 positivity eta alpha^(N-2)(alpha^N - t_{i + 1}) < 1")
    return bad


def p1_growing_lanes(t_eigs, alpha, N, delta):
    """Indices i with ``alpha^N < t_i - delta t_1``: the lanes that must climb to within
    ``delta t_1`` of their target (the others start within ``alpha^N`` of max(t_i, 0)).

    >>> p1_growing_lanes([4, 1, '-0.5'], '0.1', 2, '0.01')
    [0, 1]
    """
    N = _check_N(N)
    tv = _eigs(t_eigs)
    alpha = _positive(alpha, "alpha")
    delta = _unit_open(delta, "delta")
    tol = delta * tv[0]
    return [i for i, ti in enumerate(tv) if ti > 0 and alpha**N < ti - tol]


def p1_distance_bound(t_eigs, alpha, N, delta):
    """P1's conclusion at a finite step, with tolerance ``delta t_1`` (t_1 > 0): once every
    growing lane (:func:`p1_growing_lanes`) has reached ``t_i - delta t_1`` (within K2's
    bound), ``||P(k) - Y_+||_2 <= delta t_1``, plus ``alpha^N`` if some lane is not growing
    (it starts at or above its target and decreases from ``alpha^N``).

    >>> import mpmath
    >>> with mpmath.workdps(30):
    ...     print(mpmath.nstr(p1_distance_bound([4, '-0.5'], '0.1', 2, '0.01'), 10))
    0.05
    """
    tv = _eigs(t_eigs)
    if not tv[0] > 0:
        raise ValueError("P1's tolerance delta t_1 needs t_1 > 0")
    alpha = _positive(alpha, "alpha")
    delta = _unit_open(delta, "delta")
    N = _check_N(N)
    small = alpha**N if len(p1_growing_lanes(tv, alpha, N, delta)) < len(tv) else 0
    return delta * tv[0] + small


def y_plus_eigenvalues(t_eigs):
    """Eigenvalues of the limit ``Y_+``: ``max(t_i, 0)``.

    >>> [str(v) for v in y_plus_eigenvalues([2, '-0.5'])]
    ['2.0', '0.0']
    """
    return [max(v, mpmath.mpf(0)) for v in _eigs(t_eigs)]


# ---------------------------------------------------------------------------
# P2
# ---------------------------------------------------------------------------

P2Bounds = namedtuple("P2Bounds", "eigenvalue limit_eigenvalue spectral frobenius")


def p2_bounds(e, frobenius_E=None):
    """P2 bounds: ``|t_i - s_i| <= e``, ``|max(t_i,0) - s_i| <= e``,
    ``||Y_+ - W||_2 <= 2e``, ``||Y_+ - W||_F <= ||E||_F`` (None if not given).

    >>> b = p2_bounds('0.25', 1)
    >>> str(b.eigenvalue), str(b.spectral), str(b.frobenius)
    ('0.25', '0.5', '1.0')
    """
    e = _nonneg(e, "e")
    fro = None if frobenius_E is None else _nonneg(frobenius_E, "frobenius_E")
    return P2Bounds(e, e, 2 * e, fro)


def p2_eigenvalues_consistent(s, t_eigs, e):
    """Whether the spectra satisfy P2's eigenvalue bounds (Weyl, and for max(t_i, 0)).

    >>> p2_eigenvalues_consistent([1, 0], ['1.125', '-0.125'], '0.125'), p2_eigenvalues_consistent([1, 0], [2, 0], '0.1')
    (True, False)
    """
    sv = _spectrum(s)
    tv = _eigs(t_eigs)
    e = _nonneg(e, "e")
    if len(sv) != len(tv):
        raise ValueError("s and t_eigs must have the same length")
    return all(abs(a - b) <= e and abs(max(a, 0) - b) <= e for a, b in zip(tv, sv))


# ---------------------------------------------------------------------------
# P3
# ---------------------------------------------------------------------------


def p3_hypotheses(s, e, d, alpha, eta, N):
    """P3 (upper part): ``alpha^N < d``, ``0 <= e < s - d`` and S1 for every t in
    [s-e, s+e], i.e. ``eta N (s+e)^A <= 1``.

    >>> p3_hypotheses(1, '0.1', '0.5', '0.1', '0.4', 2), p3_hypotheses(1, '0.6', '0.5', '0.1', '0.1', 2)
    (True, False)
    """
    return not p3_hypothesis_failures(s, e, d, alpha, eta, N)


def p3_lower_hypotheses(s, e, d, alpha, eta, N):
    """P3 lower part: :func:`p3_hypotheses` and K1's range for the smallest paired
    eigenvalue, ``d <= (s-e)(N-1)/(2N-1)``.

    >>> p3_lower_hypotheses(1, '0.1', '0.25', '0.1', '0.4', 2), p3_lower_hypotheses(1, '0.1', '0.5', '0.1', '0.4', 2)
    (True, False)
    """
    if not p3_hypotheses(s, e, d, alpha, eta, N):
        return False
    N = _check_N(N)
    return bool(_mpf(d, "d") <= k1_level_max(_mpf(s, "s") - _mpf(e, "e"), N))


def p3_bounds(s, e, d, alpha, eta, N):
    """P3: for every t in [s-e, s+e],
    ``(s-d)/(s+e-d) tau_s/eta <= K_t(d) <= ceil(rho(s+e) (s-d)/(s-d-e) tau_s/eta)``,
    ``tau_s = tau_s(alpha^N, d)``.  Returns ``(lower, upper)`` (mpf, int).  The lower
    value is valid when :func:`p3_lower_hypotheses` holds, the upper when
    :func:`p3_hypotheses` holds.  ValueError if ``e >= s - d`` or ``d <= alpha^N``.

    >>> import mpmath
    >>> with mpmath.workdps(30):
    ...     lo, up = p3_bounds(1, '0.1', '0.25', '0.1', '0.4', 2)
    ...     print(mpmath.nstr(lo, 10), up)
    3.856442163 8
    """
    lower, upper = p3_bounds_real(s, e, d, alpha, eta, N)  # validates the inputs
    return lower, int(mpmath.ceil(upper))


def p3_bounds_real(s, e, d, alpha, eta, N):
    """P3's bounds before the ceiling: ``(lower, upper)`` with
    ``lower = (s-d)/(s+e-d) tau_s/eta`` and ``upper = rho(s+e) (s-d)/(s-d-e) tau_s/eta``,
    so ``lower <= K_t(d)`` and ``K_t(d) - 1 < upper``.

    >>> import mpmath
    >>> with mpmath.workdps(30):
    ...     lo, up = p3_bounds_real(1, '0.1', '0.25', '0.1', '0.4', 2)
    ...     print(mpmath.nstr(lo, 10), mpmath.nstr(up, 10))
    3.856442163 7.261977243
    """
    N = _check_N(N)
    s = _positive(s, "s")
    e = _nonneg(e, "e")
    d = _mpf(d, "d")
    alpha = _positive(alpha, "alpha")
    eta = _positive(eta, "eta")
    if not (e < s - d):
        raise ValueError("P3 needs e < s - d")
    if not (alpha**N < d):
        raise ValueError("P3 needs d > alpha^N")
    ts = tau(s, alpha**N, d, N)
    lower = (s - d) / (s + e - d) * ts / eta
    upper = rho(s + e, eta, N) * (s - d) / (s - d - e) * ts / eta
    return lower, upper


def p3_hypothesis_failures(s, e, d, alpha, eta, N):
    """The hypotheses of P3's upper part that fail, by name (empty: :func:`p3_hypotheses`).

    >>> p3_hypothesis_failures(1, '0.6', '0.5', '0.1', '0.1', 2)
    ['e < s - d']
    """
    N = _check_N(N)
    s = _nonneg(s, "s")
    e = _nonneg(e, "e")
    d = _mpf(d, "d")
    alpha = _positive(alpha, "alpha")
    eta = _positive(eta, "eta")
    bad = []
    if not alpha**N < d:
        bad.append("alpha^N < d")
    if not e < s - d:
        bad.append("e < s - d")
    if not monotone_step_holds(s + e, eta, N):
        bad.append("eta N (s+e)^A <= 1")
    return bad


def paired_eigenvalue_consistent(s, t, e, *, tol=0):
    """``|t - s| <= e + tol``: t is an eigenvalue of Y = W + E paired with the eigenvalue s of
    W when ``||E||_2 <= e`` (Weyl); ``tol`` (absolute, >= 0) admits the rounding of a
    computed eigenvalue.

    >>> paired_eigenvalue_consistent(1, '1.05', '0.1'), paired_eigenvalue_consistent(1, '1.2', '0.1')
    (True, False)
    """
    s, t, e = _mpf(s, "s"), _mpf(t, "t"), _nonneg(e, "e")
    tol = _nonneg(tol, "tol")
    return bool(abs(t - s) <= e + tol)


# ---------------------------------------------------------------------------
# P4
# ---------------------------------------------------------------------------


def weyl_extremal_eigenvalues(s, r, e):
    """Eigenvalues of ``W + E`` for the Weyl-extremal ``E = -e sum_{i<=r} v_i v_i^T
    + e sum_{i>r} v_i v_i^T``: ``s_i - e`` (i <= r), ``s_i + e`` (i > r), sorted descending.

    >>> [str(v) for v in weyl_extremal_eigenvalues([2, 1, 0], 1, '0.25')]
    ['1.75', '1.25', '0.25']
    """
    sv = _spectrum(s)
    r = _check_r(r, len(sv))
    e = _nonneg(e, "e")
    vals = [v - e for v in sv[:r]] + [v + e for v in sv[r:]]
    return sorted(vals, reverse=True)


def _p4_common(s, r, e, eps, theta, alpha, eta, N):
    N = _check_N(N)
    sv = _spectrum(s)
    r = _check_r(r, len(sv))
    e = _nonneg(e, "e")
    eps = _unit_open(eps, "eps")
    theta = _mpf(theta, "theta")
    alpha = _positive(alpha, "alpha")
    eta = _positive(eta, "eta")
    return sv, r, e, eps, theta, alpha, eta, N


def p4_step_limit(t_eigs, s, r, e, alpha, N):
    """The step scale of a P4/P5 instance: the smallest of the bounds that P4 (Y's bounds)
    and its W-only form need: :func:`p1_step_limit` on Y, the O1 step bound
    ``1/(N (s_{r+1}+e)^A)``, ``1/(N max(s_1+e, alpha^N)^A)`` and, if ``s_n - e <= 0``, the S3
    positivity bound for ``s_n - e`` (strict: ``eta = f p4_step_limit``, 0 < f < 1).

    >>> import mpmath
    >>> with mpmath.workdps(30):
    ...     print(mpmath.nstr(p4_step_limit(['1.9', '0.15'], [2, '0.1'], 1, '0.1', '0.1', 2), 10))
    0.2380952381
    """
    N = _check_N(N)
    tv = _eigs(t_eigs)
    sv = _spectrum(s)
    r = _check_r(r, len(sv))
    e = _nonneg(e, "e")
    alpha = _positive(alpha, "alpha")
    Am, aN = A(N), alpha**N
    b = p1_step_limit(tv, alpha, N)
    tp = sv[r] + e
    if tp > 0:
        b = min(b, 1 / (N * tp**Am))
    b = min(b, 1 / (N * max(sv[0] + e, aN) ** Am))
    low = sv[-1] - e
    if low <= 0:
        b = min(b, s3_positivity_step_bound(low, alpha, N))
    return b


def p4_hypothesis_failures(t_eigs, s, r, e, eps, theta, alpha, eta, N, *, weyl_tol=0):
    """The hypotheses of P4 (Y's bounds) that fail, by name; empty iff :func:`p4_hypotheses`.

    >>> p4_hypothesis_failures(['1.9', '0.15'], [2, '0.1'], 1, '0.125', '0.1', '0.001', '0.1', '0.1', 2)
    ['theta >= alpha^N']
    """
    sv, r, e, eps, theta, alpha, eta, N = _p4_common(s, r, e, eps, theta, alpha, eta, N)
    tv = _eigs(t_eigs)
    if len(tv) != len(sv):
        raise ValueError("s and t_eigs must have the same length")
    aN = alpha**N
    # computed eigenvalues of Y carry rounding: ``weyl_tol`` (absolute) admits it, so that
    # the Weyl-extremal E (where |t_i - s_i| = e exactly) is not rejected by its last digit
    tol = _mpf(weyl_tol, "weyl_tol")
    if tol < 0:
        raise ValueError("weyl_tol must be >= 0")
    bad = []
    if not all(paired_eigenvalue_consistent(b, a, e, tol=tol) for a, b in zip(tv, sv)):
        bad.append("|t_i - s_i| <= e (spectra consistent with ||E|| <= e)")
    if not theta >= aN:
        bad.append("theta >= alpha^N")
    if not aN < (1 - eps) * tv[r - 1]:
        bad.append("alpha^N < (1-eps) t_r")
    bad.extend(p1_hypothesis_failures(tv, alpha, eta, N))
    if not monotone_step_holds(sv[r] + e, eta, N):
        bad.append("eta N (s_{r+1}+e)^A <= 1")
    return bad


def p4_hypotheses(t_eigs, s, r, e, eps, theta, alpha, eta, N, *, weyl_tol=0):
    """P4 (bounds from Y's eigenvalues): spectra consistent with ``||E||_2 <= e`` (Weyl),
    ``theta >= alpha^N``, ``alpha^N < (1-eps) t_r``, P1's hypotheses on Y, and the O1
    step bound for the comparison target ``t' = s_{r+1} + e`` (``eta N t'^A <= 1``).

    >>> p4_hypotheses(['1.9', '0.15'], [2, '0.1'], 1, '0.125', '0.1', '0.05', '0.1', '0.1', 2)
    True
    """
    return not p4_hypothesis_failures(t_eigs, s, r, e, eps, theta, alpha, eta, N,
                                      weyl_tol=weyl_tol)


def p4_bounds(t_eigs, s, r, e, eps, theta, alpha, eta, N):
    """P4: ``T0~ <= max_{i<=r} ceil(rho(t_i) tau_{t_i}(alpha^N, (1-eps) t_i)/eta)`` and
    ``T1~ >= ceil(tau_{s_{r+1}+e}(alpha^N, theta'')/eta) - 1`` with
    ``theta'' = min(theta, (s_{r+1}+e)(N-1)/(2N-1))``; returns ``(ub0, lb1)``, lb1 None
    meaning +infinity (``theta >= s_{r+1}+e``).  Valid when :func:`p4_hypotheses` holds.

    >>> import mpmath
    >>> with mpmath.workdps(30):
    ...     p4_bounds(['1.9', '0.15'], [2, '0.1'], 1, '0.125', '0.1', '0.05', '0.1', '0.1', 2)
    (24, 40)
    """
    sv, r, e, eps, theta, alpha, eta, N = _p4_common(s, r, e, eps, theta, alpha, eta, N)
    tv = _eigs(t_eigs)
    if len(tv) != len(sv):
        raise ValueError("s and t_eigs must have the same length")
    if tv[r - 1] <= 0:
        raise ValueError("t_r must be > 0")
    return _ub0_from(tv[:r], eps, alpha, eta, N), _lb1_from(sv[r] + e, theta, alpha, eta, N)


def p4_bounds_real(t_eigs, s, r, e, eps, theta, alpha, eta, N):
    """P4's bounds before the ceilings: ``(UB0, L)`` with ``T0~ <= ceil(UB0)`` (i.e.
    ``T0~ - 1 < UB0``) and ``T1~ >= ceil(L) - 1`` (the first step with ``x_{r+1}^N > theta``
    is ``>= L``); ``L = +inf`` when ``theta >= s_{r+1}+e``, 0 when ``theta'' <= alpha^N``.

    >>> import mpmath
    >>> with mpmath.workdps(30):
    ...     ub, L = p4_bounds_real(['1.9', '0.15'], [2, '0.1'], 1, '0.125', '0.1', '0.05', '0.1', '0.1', 2)
    ...     print(mpmath.nstr(ub, 8), mpmath.nstr(L, 8))
    23.295727 40.339777
    """
    sv, r, e, eps, theta, alpha, eta, N = _p4_common(s, r, e, eps, theta, alpha, eta, N)
    tv = _eigs(t_eigs)
    if len(tv) != len(sv):
        raise ValueError("s and t_eigs must have the same length")
    if tv[r - 1] <= 0:
        raise ValueError("t_r must be > 0")
    return (_ub0_real_from(tv[:r], eps, alpha, eta, N),
            _lb1_real_from(sv[r] + e, theta, alpha, eta, N))


def h_flow_time(t, alpha, eps, N):
    """``H(t) = tau_t(alpha^N, (1-eps) t)`` (needs ``alpha^N < (1-eps) t``).

    >>> import mpmath
    >>> with mpmath.workdps(30):
    ...     print(mpmath.nstr(h_flow_time(1, '0.1', '0.1', 2), 10))
    3.396172214
    """
    N = _check_N(N)
    t = _positive(t, "t")
    alpha = _positive(alpha, "alpha")
    eps = _unit_open(eps, "eps")
    return tau(t, alpha**N, (1 - eps) * t, N)


def h_decreasing_margin(t, alpha, eps, N):
    """``D = A I(c) - c^(1-A)/(1-c)``, ``c = alpha^N/t``, ``I(c) = int_c^(1-eps) u^-A/(1-u) du``.
    ``dH/dt = -t^(-A-1) D / N``, so H is decreasing at t iff D >= 0.  D is strictly
    decreasing in c.  Needs ``c < 1 - eps``.

    >>> import mpmath
    >>> with mpmath.workdps(30):
    ...     print(mpmath.nstr(h_decreasing_margin(1, '0.1', '0.1', 2), 10))
    5.782243417
    """
    N = _check_N(N)
    t = _positive(t, "t")
    alpha = _positive(alpha, "alpha")
    eps = _unit_open(eps, "eps")
    c = alpha**N / t
    if not (c < 1 - eps):
        raise ValueError("need alpha^N < (1-eps) t")
    Am = A(N)
    I = G(1 - eps, N) - G(c, N)
    return Am * I - c ** (1 - Am) / (1 - c)


def h_derivative(t, alpha, eps, N):
    """Closed form ``dH/dt = t^(-A-1) (c^(1-A)/(1-c) - A I(c)) / N``.

    >>> import mpmath
    >>> with mpmath.workdps(30):
    ...     print(mpmath.nstr(h_derivative(1, '0.1', '0.1', 2), 10))
    -2.891121709
    """
    N = _check_N(N)
    t = _positive(t, "t")
    return -(t ** (-A(N) - 1)) * h_decreasing_margin(t, alpha, eps, N) / N


def h_decreasing_on(lo, hi, alpha, eps, N):
    """Whether H is (nonstrictly) decreasing on [lo, hi]: ``alpha^N < (1-eps) lo`` and
    ``D(alpha^N/lo) >= 0`` (D decreasing in c, so the left end is the worst case).

    >>> h_decreasing_on('0.3', 2, '0.5', '0.1', 3), h_decreasing_on('0.2', 2, '0.5', '0.1', 3)
    (True, False)
    """
    N = _check_N(N)
    lo = _mpf(lo, "lo")
    hi = _mpf(hi, "hi")
    alpha = _positive(alpha, "alpha")
    eps = _unit_open(eps, "eps")
    if not (0 < lo <= hi):
        return False
    if not (alpha**N < (1 - eps) * lo):
        return False
    return bool(h_decreasing_margin(lo, alpha, eps, N) >= 0)


def p4_any_hypothesis_failures(s, r, e, eps, theta, alpha, eta, N):
    """The hypotheses of the W-only P4 bounds that fail, by name (empty: they hold).

    >>> p4_any_hypothesis_failures([2, '0.1'], 1, '0.1', '0.1', '0.05', '0.1', '0.3', 2)
    ['eta N max(s_1+e, alpha^N)^A <= 1']
    """
    sv, r, e, eps, theta, alpha, eta, N = _p4_common(s, r, e, eps, theta, alpha, eta, N)
    aN = alpha**N
    bad = []
    if not theta >= aN:
        bad.append("theta >= alpha^N")
    for i, si in enumerate(sv[:r]):
        if not h_decreasing_on(si - e, si + e, alpha, eps, N):
            bad.append(f"H decreasing on [s_{i + 1}-e, s_{i + 1}+e]")
    if not monotone_step_holds(max(sv[0] + e, aN), eta, N):
        bad.append("eta N max(s_1+e, alpha^N)^A <= 1")
    low = sv[-1] - e
    if low <= 0 and not s3_nonpositive_condition(low, alpha, eta, N):
        bad.append("S3 positivity for s_n - e")
    return bad


def p4_any_hypotheses(s, r, e, eps, theta, alpha, eta, N):
    """Hypotheses making :func:`p4_bounds_any` valid for every symmetric E with
    ``||E||_2 <= e``: ``theta >= alpha^N``; for i <= r, H decreasing on [s_i-e, s_i+e]
    (which includes ``alpha^N < (1-eps)(s_i - e)``); ``eta N max(s_1+e, alpha^N)^A <= 1``;
    and, if ``s_n - e <= 0``, ``eta alpha^(N-2)(alpha^N - (s_n - e)) < 1``.

    >>> p4_any_hypotheses([2, '0.1'], 1, '0.1', '0.1', '0.05', '0.1', '0.1', 2)
    True
    """
    return not p4_any_hypothesis_failures(s, r, e, eps, theta, alpha, eta, N)


def p4_bounds_any(s, r, e, eps, theta, alpha, eta, N):
    """W-only P4 bounds: ``UB0~ = max_{i<=r} ceil(rho(s_i+e) H(s_i-e)/eta)`` and the
    same LB1~ as :func:`p4_bounds`; returns ``(ub0, lb1)`` (lb1 None = +infinity).
    Valid when :func:`p4_any_hypotheses` holds.  ValueError if ``s_r - e <= 0``.

    >>> import mpmath
    >>> with mpmath.workdps(30):
    ...     p4_bounds_any([2, '0.1'], 1, '0.1', '0.1', '0.05', '0.1', '0.1', 2)
    (24, 46)
    """
    ub, L = p4_bounds_any_real(s, r, e, eps, theta, alpha, eta, N)
    lb = None if mpmath.isinf(L) else max(int(mpmath.ceil(L)) - 1, 0)
    return int(mpmath.ceil(ub)), lb


def p4_bounds_any_real(s, r, e, eps, theta, alpha, eta, N):
    """W-only P4 bounds before the ceilings: ``(UB0~, L)`` with
    ``UB0~ = max_{i<=r} rho(s_i+e) H(s_i-e)/eta`` and L as in :func:`p4_bounds_real`.

    >>> import mpmath
    >>> with mpmath.workdps(30):
    ...     ub, L = p4_bounds_any_real([2, '0.1'], 1, '0.1', '0.1', '0.05', '0.1', '0.1', 2)
    ...     print(mpmath.nstr(ub, 8), mpmath.nstr(L, 8))
    23.687252 46.145667
    """
    sv, r, e, eps, theta, alpha, eta, N = _p4_common(s, r, e, eps, theta, alpha, eta, N)
    if not (sv[r - 1] - e > 0):
        raise ValueError("p4_bounds_any needs e < s_r")
    aN = alpha**N
    best = mpmath.mpf(0)
    for si in sv[:r]:
        lo = si - e
        d = (1 - eps) * lo
        if aN < d:
            best = max(best, rho(si + e, eta, N) * tau(lo, aN, d, N) / eta)
    return best, _lb1_real_from(sv[r] + e, theta, alpha, eta, N)


def p4_any_condition(s, r, e, eps, theta, alpha, eta, N):
    """The predicate behind ``e*``: :func:`p4_any_hypotheses` and ``UB0~ <= LB1~`` of
    :func:`p4_bounds_any`.  Never raises for well-formed input.

    >>> p4_any_condition([2, '0.1'], 1, '0.1', '0.1', '0.05', '0.1', '0.1', 2)
    True
    """
    if not p4_any_hypotheses(s, r, e, eps, theta, alpha, eta, N):
        return False
    ub, lb = p4_bounds_any(s, r, e, eps, theta, alpha, eta, N)
    return lb is None or ub <= lb


def critical_noise_bracket(s, r, eps, theta, alpha, eta, N, *, rtol="1e-12"):
    """Bisection bracket ``(lo, hi)`` for e*: :func:`p4_any_condition` is verified True at
    ``lo`` and False at ``hi``, with ``hi - lo <= rtol * s_r``.  ``None`` if the condition
    already fails at e = 0.  Initial bracket [0, s_r]: at e = s_r the hypotheses fail.

    >>> import mpmath
    >>> with mpmath.workdps(30):
    ...     lo, hi = critical_noise_bracket([2, '0.1'], 1, '0.1', '0.05', '0.1', '0.1', 2)
    ...     print(mpmath.nstr(lo, 6), hi - lo <= 2 * mpmath.mpf('1e-12'))
    0.234782 True
    """
    sv = _spectrum(s)
    r = _check_r(r, len(sv))
    rtol = _positive(rtol, "rtol")

    def pred(ev):
        return p4_any_condition(sv, r, ev, eps, theta, alpha, eta, N)

    lo, hi = mpmath.mpf(0), sv[r - 1]
    if not pred(lo):
        return None
    if pred(hi):  # cannot happen (s_r - e = 0 violates the hypotheses); kept as a guard
        raise AssertionError("predicate true at e = s_r")
    width = rtol * sv[r - 1]
    while hi - lo > width:
        mid = (lo + hi) / 2
        if pred(mid):
            lo = mid
        else:
            hi = mid
    return lo, hi


def critical_noise(s, r, eps, theta, alpha, eta, N, *, rtol="1e-12"):
    """Critical perturbation size e*: the largest e (to within ``rtol * s_r``) for which
    the W-only bounds still give ``UB0~ <= LB1~`` (with their hypotheses).  The returned
    value has the predicate verified True, and it is False at some point at most
    ``rtol * s_r`` above.  ``None`` if the predicate fails already at e = 0.  Run at a
    working precision well above ``-log10(rtol)`` digits.

    >>> import mpmath
    >>> with mpmath.workdps(30):
    ...     print(mpmath.nstr(critical_noise([2, '0.1'], 1, '0.1', '0.05', '0.1', '0.1', 2), 6))
    0.234782
    """
    br = critical_noise_bracket(s, r, eps, theta, alpha, eta, N, rtol=rtol)
    return None if br is None else br[0]


# ---------------------------------------------------------------------------
# P5
# ---------------------------------------------------------------------------


def p5_error_bound(s, r, e, eps, theta):
    """P5: for k in [T0~, T1~], ``||P(k) - W_r||_2 <= max(eps (s_1 + e), theta) + 2 (e + s_{r+1})``.

    >>> import mpmath
    >>> with mpmath.workdps(30):
    ...     print(mpmath.nstr(p5_error_bound([2, '0.1'], 1, '0.1', '0.1', '0.05'), 10))
    0.61
    """
    sv = _spectrum(s)
    r = _check_r(r, len(sv))
    e = _nonneg(e, "e")
    eps = _unit_open(eps, "eps")
    theta = _nonneg(theta, "theta")
    return max(eps * (sv[0] + e), theta) + 2 * (e + sv[r])
