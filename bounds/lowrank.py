"""Noiseless low-rank interval (L family): UB0, LB1, the spectral condition, the error
inside the interval, and the ratio form of the condition (L3).

Spectra are sequences ``s_1 >= s_2 >= ... >= s_n >= 0`` (1-based in the docs, 0-based in
Python: ``s[r-1]`` is ``s_r``).  Numerics at the current mpmath precision.
Derivations: ``docs/theory.md#l1`` .. ``#l3``.
"""

from __future__ import annotations

import numbers

import mpmath

from bounds.flow import (
    A,
    J_N,
    _check_N,
    _mpf,
    _positive,
    _unit_open,
    k1_level_max,
    k1_lower,
    k2_upper_real,
    monotone_step_holds,
    rho,
)

__all__ = [
    "l1_hypotheses",
    "ub0",
    "ub0_real",
    "lb1",
    "lb1_real",
    "spectral_condition",
    "l2_error_bound",
    "l3_ratio_threshold",
    "l3_sufficient",
]


def _spectrum(s, name="s", *, nonnegative=True):
    """Validate a spectrum: nonempty, finite, nonincreasing, and nonnegative unless
    ``nonnegative=False`` (the eigenvalues of a perturbed Y may be negative)."""
    try:
        vals = [_mpf(v, f"{name}[{i}]") for i, v in enumerate(s)]
    except TypeError as exc:
        raise ValueError(f"{name} must be a sequence of numbers") from exc
    if not vals:
        raise ValueError(f"{name} must be nonempty")
    for i, v in enumerate(vals):
        if nonnegative and v < 0:
            raise ValueError(f"{name}[{i}] is negative ({mpmath.nstr(v, 15)}); spectrum must be >= 0")
    for i in range(len(vals) - 1):
        if vals[i] < vals[i + 1]:
            raise ValueError(f"{name} must be sorted in descending order (fails at index {i})")
    return vals


def _check_r(r, n):
    if isinstance(r, bool) or not isinstance(r, numbers.Integral):
        raise ValueError(f"r must be an integer, got {r!r}")
    r = int(r)
    if not (1 <= r < n):
        raise ValueError(f"r must satisfy 1 <= r < n = {n}, got {r}")
    return r


def _common(s, r, eps, theta, alpha, eta, N):
    N = _check_N(N)
    sv = _spectrum(s)
    r = _check_r(r, len(sv))
    eps = _unit_open(eps, "eps")
    theta = _mpf(theta, "theta")
    alpha = _positive(alpha, "alpha")
    eta = _positive(eta, "eta")
    return sv, r, eps, theta, alpha, eta, N


def _ub0_real_from(vals, eps, alpha, eta, N):
    """max_i rho(v_i) tau_{v_i}(alpha^N, (1-eps) v_i) / eta (K2's real argument at the
    learned level of each v_i); terms with nothing to learn (alpha^N >= (1-eps) v_i) count 0."""
    aN = alpha**N
    best = mpmath.mpf(0)
    for v in vals:
        d = (1 - eps) * v
        if aN < d:
            best = max(best, k2_upper_real(v, d, alpha, eta, N))
    return best


def _lb1_real_from(t, theta, alpha, eta, N):
    """tau_t(alpha^N, theta')/eta (K1's bound at theta' = min(theta, t(N-1)/(2N-1))): the
    step of the first crossing of theta is at least this. +inf if theta >= t; 0 if
    theta' <= alpha^N (nothing to bound)."""
    if theta >= t:
        return mpmath.inf
    thp = min(theta, k1_level_max(t, N))
    if thp <= alpha**N:
        return mpmath.mpf(0)
    return k1_lower(t, thp, alpha, eta, N)


def _ub0_from(vals, eps, alpha, eta, N):
    """max_i ceil(rho(v_i) tau_{v_i}(alpha^N, (1-eps) v_i) / eta) (an int)."""
    return int(mpmath.ceil(_ub0_real_from(vals, eps, alpha, eta, N)))


def _lb1_from(t, theta, alpha, eta, N):
    """ceil(tau_t(alpha^N, theta')/eta) - 1 (an int >= 0); None (= +infinity) if theta >= t."""
    L = _lb1_real_from(t, theta, alpha, eta, N)
    if mpmath.isinf(L):
        return None
    return max(int(mpmath.ceil(L)) - 1, 0)


def l1_hypotheses(s, r, eps, theta, alpha, eta, N):
    """Standing hypotheses of L1/L2: ``s_r > s_{r+1}``, ``theta >= alpha^N``,
    ``alpha^N < (1-eps) s_r`` and the S1 step bound ``eta N s_1^A <= 1``.

    >>> l1_hypotheses([4, 1, '0.1'], 1, '0.1', '0.05', '0.1', '0.1', 2)
    True
    >>> l1_hypotheses([4, 1, '0.1'], 1, '0.1', '0.05', '0.1', '0.2', 2)
    False
    """
    sv, r, eps, theta, alpha, eta, N = _common(s, r, eps, theta, alpha, eta, N)
    aN = alpha**N
    if not (sv[r - 1] > sv[r]):
        return False
    if not (theta >= aN):
        return False
    if not (aN < (1 - eps) * sv[r - 1]):
        return False
    return monotone_step_holds(sv[0], eta, N)


def ub0(s, r, eps, theta, alpha, eta, N):
    """L1 upper bound on T0: ``max_{i<=r} ceil(rho(s_i) tau_{s_i}(alpha^N, (1-eps) s_i)/eta)``
    (an int; ``theta`` is accepted for a uniform signature and ignored).

    >>> import mpmath
    >>> with mpmath.workdps(30):
    ...     ub0([4, '0.2', '0.1'], 1, '0.1', '0.05', '0.1', '0.1', 2)
    15
    """
    sv, r, eps, theta, alpha, eta, N = _common(s, r, eps, theta, alpha, eta, N)
    return _ub0_from(sv[:r], eps, alpha, eta, N)


def ub0_real(s, r, eps, theta, alpha, eta, N):
    """The real argument of UB0: ``max_{i<=r} rho(s_i) tau_{s_i}(alpha^N, (1-eps) s_i)/eta``,
    so ``UB0 = ceil(ub0_real)`` and ``T0 <= UB0`` iff ``T0 - 1 < ub0_real``.

    >>> import mpmath
    >>> with mpmath.workdps(30):
    ...     print(mpmath.nstr(ub0_real([4, '0.2', '0.1'], 1, '0.1', '0.05', '0.1', '0.1', 2), 10))
    14.32582549
    """
    sv, r, eps, theta, alpha, eta, N = _common(s, r, eps, theta, alpha, eta, N)
    return _ub0_real_from(sv[:r], eps, alpha, eta, N)


def lb1_real(s, r, eps, theta, alpha, eta, N):
    """The real argument of LB1: ``L = tau_{s_{r+1}}(alpha^N, theta')/eta`` with
    ``LB1 = ceil(L) - 1``, so ``T1 >= LB1`` iff the first step with ``x_{r+1}^N > theta``
    is ``>= L``. ``+inf`` when ``theta >= s_{r+1}``; 0 when ``theta' <= alpha^N`` (also
    for ``theta < alpha^N``, where the hypotheses fail but "the step is >= 0" still holds).

    >>> import mpmath
    >>> with mpmath.workdps(30):
    ...     print(mpmath.nstr(lb1_real([4, '0.2', '0.1'], 1, '0.1', '0.05', '0.1', '0.1', 2), 10))
    46.14566726
    """
    sv, r, eps, theta, alpha, eta, N = _common(s, r, eps, theta, alpha, eta, N)
    return _lb1_real_from(sv[r], theta, alpha, eta, N)


def lb1(s, r, eps, theta, alpha, eta, N):
    """L1 lower bound on T1: ``ceil(tau_{s_{r+1}}(alpha^N, theta')/eta) - 1`` with
    ``theta' = min(theta, s_{r+1}(N-1)/(2N-1))``; ``None`` means +infinity
    (``theta >= s_{r+1}``).  Returns 0 when ``theta' <= alpha^N`` (T1 >= 0 trivially).
    Raises ValueError if ``theta < alpha^N`` (T1 would be -1 by definition).

    >>> import mpmath
    >>> with mpmath.workdps(30):
    ...     lb1([4, '0.2', '0.1'], 1, '0.1', '0.05', '0.1', '0.1', 2), lb1([4, '0.2', '0.1'], 1, '0.1', 1, '0.1', '0.1', 2)
    (46, None)
    """
    sv, r, eps, theta, alpha, eta, N = _common(s, r, eps, theta, alpha, eta, N)
    if theta < alpha**N:
        raise ValueError("theta must be >= alpha^N")
    return _lb1_from(sv[r], theta, alpha, eta, N)


def spectral_condition(s, r, eps, theta, alpha, eta, N):
    """L1 spectral condition: the standing hypotheses (:func:`l1_hypotheses`) hold and
    ``UB0 <= LB1``; then the low-rank interval [T0, T1] is nonempty.  Never raises for
    well-formed input; inadmissible parameters give False.

    >>> spectral_condition([4, '0.2', '0.1'], 1, '0.1', '0.05', '0.1', '0.1', 2)
    True
    >>> spectral_condition([4, 3, '0.1'], 1, '0.1', '0.05', '0.1', '0.1', 2)
    False
    """
    if not l1_hypotheses(s, r, eps, theta, alpha, eta, N):
        return False
    lb = lb1(s, r, eps, theta, alpha, eta, N)
    return lb is None or ub0(s, r, eps, theta, alpha, eta, N) <= lb


def l2_error_bound(s, r, eps, theta):
    """L2: for k in [T0, T1], ``||P(k) - W_r||_2 <= max(eps s_1, theta)``.

    >>> import mpmath
    >>> with mpmath.workdps(30):
    ...     print(mpmath.nstr(l2_error_bound([4, 1], 1, '0.1', '0.05'), 10))
    0.4
    """
    sv = _spectrum(s)
    _check_r(r, len(sv))
    eps = _unit_open(eps, "eps")
    theta = _mpf(theta, "theta")
    if theta < 0:
        raise ValueError("theta must be >= 0")
    return max(eps * sv[0], theta)


def l3_ratio_threshold(s, r, eps, theta, alpha, eta, N):
    """L3: an explicit threshold R such that ``s_r/s_{r+1} >= R`` (with the standing
    hypotheses) implies ``UB0 <= LB1``.  R = max over i <= r of

    * N >= 3: ``[rho(s_i)(s_r/s_i)(1 + (N-2) J_N(eps) alpha^(N-2) s_i^(1-A)/N)
      + 2 (N-2) eta alpha^(N-2) s_r] / (1 - (alpha^N/theta')^((N-2)/N))``
    * N = 2: ``[rho(s_i)(s_r/s_i)(L + ln((1-eps)/eps) + ln(s_i - alpha^2)) + 4 eta s_r]
      / (L + ln(theta'(s_{r+1}-alpha^2)/(s_{r+1}-theta')))``, ``L = ln(1/alpha^2)``,

    with ``theta' = min(theta, s_{r+1}(N-1)/(2N-1))``.  As alpha -> 0 this tends to
    ``max_i rho(s_i) s_r/s_i`` (= rho(s_r) when rho(s)/s is nonincreasing) with relative
    corrections O(alpha^(N-2)) (N >= 3) resp. O(ln(1/eps)/ln(1/alpha^2)) (N = 2).
    Returns 0 if ``theta >= s_{r+1}`` (LB1 infinite) and +inf if the denominator is <= 0.

    >>> import mpmath
    >>> with mpmath.workdps(30):
    ...     print(mpmath.nstr(l3_ratio_threshold([1, '0.1'], 1, '0.1', '0.01', '0.01', '0.1', 3), 8))
    1.2837218
    """
    sv, r, eps, theta, alpha, eta, N = _common(s, r, eps, theta, alpha, eta, N)
    s_next = sv[r]
    s_r = sv[r - 1]
    if theta >= s_next:
        return mpmath.mpf(0)
    thp = min(theta, k1_level_max(s_next, N))
    aN = alpha**N
    if thp <= aN:
        return mpmath.inf
    best = mpmath.mpf(0)
    if N >= 3:
        Am = A(N)
        J = J_N(eps, N)
        den = 1 - (aN / thp) ** (mpmath.mpf(N - 2) / N)
        for si in sv[:r]:
            num = rho(si, eta, N) * (s_r / si) * (
                1 + (N - 2) * J * alpha ** (N - 2) * si ** (1 - Am) / N
            ) + 2 * (N - 2) * eta * alpha ** (N - 2) * s_r
            best = max(best, num / den)
    else:
        L = -mpmath.log(aN)
        den = L + mpmath.log(thp * (s_next - aN) / (s_next - thp))
        if den <= 0:
            return mpmath.inf
        for si in sv[:r]:
            if si <= aN:
                return mpmath.inf
            num = rho(si, eta, N) * (s_r / si) * (
                L + mpmath.log((1 - eps) / eps) + mpmath.log(si - aN)
            ) + 4 * eta * s_r
            best = max(best, num / den)
    return best


def l3_sufficient(s, r, eps, theta, alpha, eta, N):
    """L3 sufficient ratio condition: standing hypotheses and
    ``s_r / s_{r+1} >= l3_ratio_threshold(...)`` (always True if theta >= s_{r+1}).
    Implies :func:`spectral_condition`.

    >>> l3_sufficient([1, '0.1'], 1, '0.1', '0.01', '0.01', '0.1', 3)
    True
    >>> l3_sufficient([1, '0.95'], 1, '0.1', '0.01', '0.01', '0.1', 3)
    False
    """
    if not l1_hypotheses(s, r, eps, theta, alpha, eta, N):
        return False
    sv = _spectrum(s)
    if sv[r] == 0:
        return True
    R = l3_ratio_threshold(s, r, eps, theta, alpha, eta, N)
    return bool(sv[r - 1] / sv[r] >= R)
