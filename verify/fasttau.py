"""Flow time tau and overshoot factor rho in float64, vectorized (for fast instance building).

``tau_t(a, b) = (G(b/t) - G(a/t)) / (N t^A)``, ``G' (u) = u^(-A)/(1-u)``, A = 2 - 2/N, is
evaluated as a sum of *positive* pieces, so that no piece cancels against another:

* N = 2: ``G(b/t) - G(a/t) = ln(b/a) + ln((t-a)/(t-b))
  = log1p((b-a)/a) + log1p((b-a)/(t-b))`` (b - a and t - b are exact or nearly so in floats,
  so a ~ b and b ~ t lose nothing);
* N >= 3, beta = 2/N - 1 in [-3/4, -1/3]: ``u^(beta-1)/(1-u) = u^(beta-1) + u^beta/(1-u)``, so
  ``G(b) - G(a) = (b^beta - a^beta)/beta + int_a^b s^beta/(1-s) ds``. The integral is split
  at s = 1/2: below it the power series ``sum_n s^(n+gamma)/(n+gamma)`` (gamma = beta + 1,
  ratio <= 1/2); above it, with w = 1 - s, ``s^beta/(1-s) = 1/w + ((1-w)^beta - 1)/w`` and
  ``(1-w)^beta = 1 + sum_(n>=1) c_n w^n``, c_n = (-1)^n binom(beta, n) > 0, integrated
  termwise (w <= 1/2): ``ln(w_a/w_b) + sum_n c_n (w_a^n - w_b^n)/n``. Differences of powers
  of nearby points use ``expm1`` (``x^e expm1(e ln(y/x))``), logs of ratios ``log1p``; 1 - u
  is formed as (t - x)/t, never as 1 - x/t.

Sixty terms per series make the truncation below 2^-60 of the first term. The error is
validated against bounds.flow.tau at 50 digits (tests/test_fasttau.py): on the tested
ranges (N = 2..8, a/t down to 1e-48, b/t up to 1 - 1e-12, a ~ b) the relative error is below
:data:`REL_ERROR_BOUND`; the measured maximum is stated in docs/numerics.md.

>>> import numpy as np
>>> tau(np.array([1.0, 1.0]), np.array([0.01, 1e-18]), np.array([0.5, 0.9]), 2).round(9).tolist()
[2.297559925, 21.821878126]
>>> float(tau(1.0, 1e-6, 0.9, 3).round(7))        # bounds.flow.tau: 99.9672384699
99.9672385
>>> rho(np.array([1.0]), np.array([0.25]), 2).tolist()
[1.25]
"""

from __future__ import annotations

import math
from functools import lru_cache
from numbers import Integral

import numpy as np

__all__ = [
    # flow time
    "tau",
    "REL_ERROR_BOUND",
    # overshoot factor
    "rho",
]

#: Documented relative error bound of :func:`tau` on finite float inputs 0 < a, b < t
#: (validated by tests/test_fasttau.py against 50-digit mpmath; measured maximum ~1e-14).
REL_ERROR_BOUND = 1e-12

_TERMS = 60
_LN2 = math.log(2.0)
_CHUNK = 1 << 14


def _check_N(N) -> int:
    if isinstance(N, bool) or not isinstance(N, (Integral, np.integer)) or N < 2:
        raise ValueError(f"N must be an integer >= 2, got {N!r}")
    return int(N)


@lru_cache(maxsize=None)
def _coefficients(N: int):
    """(exponents n + gamma for n = 0.., c_n / n for n = 1..) of the two series."""
    beta = 2.0 / N - 1.0
    e = np.arange(_TERMS, dtype=np.float64) + (beta + 1.0)
    c = np.empty(_TERMS)
    cn = 1.0
    for n in range(1, _TERMS + 1):
        cn *= (n - 1 - beta) / n  # c_n = prod_(j<=n) (j - 1 - beta)/j
        c[n - 1] = cn / n
    return e, c, np.arange(1, _TERMS + 1, dtype=np.float64)


def _power_difference(x, y, r, e):
    """(y^e - x^e) for 0 < x <= y, r = ln(y/x) accurate, e a row of exponents (broadcast):
    ``x^e expm1(e r)`` when y/x < 2 (no cancellation), plain difference otherwise."""
    close = (r < _LN2)[:, None]
    rc = np.minimum(r, _LN2)[:, None]
    near = np.power(x[:, None], e) * np.expm1(e * rc)
    far = np.power(y[:, None], e) - np.power(x[:, None], e)
    return np.where(close, near, far)


def _g_difference(t, a, b, N):
    """G(b/t) - G(a/t) for 0 < a <= b < t (float arrays of one shape, 1-d)."""
    diff = b - a
    if N == 2:
        return np.log1p(diff / a) + np.log1p(diff / (t - b))
    beta = 2.0 / N - 1.0
    e, c_over_n, n = _coefficients(N)
    ua, ub = a / t, b / t
    r = np.log1p(diff / a)  # ln(b/a)
    # (ub^beta - ua^beta)/beta > 0 (beta < 0)
    main = np.where(r < _LN2, np.power(ua, beta) * np.expm1(beta * np.minimum(r, _LN2)) / beta,
                    (np.power(ub, beta) - np.power(ua, beta)) / beta)
    half = 0.5 * t
    # below 1/2: sum_n (ub'^e - ua'^e)/e with a', b' clipped to t/2
    a1, b1 = np.minimum(a, half), np.minimum(b, half)
    r1 = np.log1p((b1 - a1) / a1)
    low = (_power_difference(a1 / t, b1 / t, r1, e) / e).sum(axis=1)
    # above 1/2: ln(wa/wb) + sum_n c_n (wa^n - wb^n)/n with w = (t - x)/t, x clipped to t/2
    a2, b2 = np.maximum(a, half), np.maximum(b, half)
    lw = np.log1p((b2 - a2) / (t - b2))  # ln(wa/wb) >= 0
    wa, wb = (t - a2) / t, (t - b2) / t
    high = lw + (_power_difference(wb, wa, lw, n) * c_over_n).sum(axis=1)
    return main + low + high


def tau(t, a, b, N):
    """Flow time ``tau_t(a, b) = integral_a^b dp / (N p^A (t - p))`` in float64, elementwise
    over broadcast arrays; ``a > b`` gives ``-tau_t(b, a)``. Needs ``0 < a, b < t`` (finite),
    ValueError otherwise. Relative error <= :data:`REL_ERROR_BOUND` for the float inputs as
    exact binary numbers.

    >>> import numpy as np
    >>> tau(2.0, np.array([0.5, 1.5]), np.array([1.5, 0.5]), 4).round(10).tolist()
    [0.2851321853, -0.2851321853]
    """
    N = _check_N(N)
    t, a, b = np.broadcast_arrays(*(np.asarray(v, dtype=np.float64) for v in (t, a, b)))
    shape = t.shape
    t, a, b = t.ravel(), a.ravel(), b.ravel()
    if not (np.all(np.isfinite(t)) and np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        raise ValueError("t, a, b must be finite")
    if not (np.all(a > 0) and np.all(b > 0) and np.all(a < t) and np.all(b < t)):
        raise ValueError("tau needs 0 < a < t and 0 < b < t")
    sign = np.where(a > b, -1.0, 1.0)
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    out = np.empty(t.shape)
    with np.errstate(under="ignore"):
        for s in range(0, t.size, _CHUNK):
            sl = slice(s, s + _CHUNK)
            out[sl] = _g_difference(t[sl], lo[sl], hi[sl], N)
    out = sign * out / (N * np.power(t, 2.0 - 2.0 / N))
    return out.reshape(shape)[()]


def rho(t, eta, N):
    """Per-step overshoot factor ``rho(t) = (1 + eta t^A)^(N-1)`` (t >= 0, eta > 0), float64,
    as ``exp((N-1) log1p(eta t^A))``.

    >>> import numpy as np
    >>> rho(np.array([1.0, 4.0]), 0.1, 3).round(12).tolist()
    [1.21, 2.673095577541]
    """
    N = _check_N(N)
    t, eta = np.broadcast_arrays(np.asarray(t, dtype=np.float64), np.asarray(eta, dtype=np.float64))
    if np.any(~np.isfinite(t)) or np.any(t < 0) or np.any(~(eta > 0)) or np.any(~np.isfinite(eta)):
        raise ValueError("rho needs finite t >= 0 and eta > 0")
    out = np.exp((N - 1) * np.log1p(eta * np.power(t, 2.0 - 2.0 / N)))
    return out[()]
