"""What a user may ask of `predict` and `simulate`: plain numbers, caps, up-front cost estimates.

Numbers. A number given as text is a plain decimal or scientific literal (``0.05``, ``5e-2``,
``-1.5E+3``): no ``_`` separators, no fractions, no ``inf``/``nan``, nothing evaluated. Every
nonzero number has magnitude in ``[1e-100, 1e100]`` (:data:`MAX_MAGNITUDE`): the engines keep
their rounding margins in binary64 floats, which must neither overflow nor underflow.

Caps. Depth N <= :data:`MAX_DEPTH`; digits ``dps`` in 15..250 (the engine's float margins);
and a run whose estimated time exceeds ``max_seconds`` (default
:data:`DEFAULT_MAX_SECONDS`, ``--max-seconds``) or whose estimated memory exceeds
``max_memory_mb`` (default :data:`DEFAULT_MAX_MEMORY_MB`, ``--max-memory``) is refused
before any work, with the estimate, the reason and the flag that raises the cap. The
estimates (:func:`setup_seconds`, :func:`reduced_seconds`, :func:`full_seconds`,
:func:`memory_bytes`) are rough upper figures measured on the project machine: the time of
an n x n eigendecomposition in mpmath (O(n^3)) or in float64 (LAPACK, O(n^3) with a far
smaller constant), of one reduced step per eigenvalue (O(N); in float64 all eigenvalues at
once, :func:`fast_lanes_seconds`) and of one full-matrix step (O(N n^3)). The float64
full-matrix iteration is for n <= :data:`MAX_FULL_F64_N`.

>>> parse_number("5e-2", name="alpha")
mpf('0.050000000000000003')
>>> parse_number("0.0_5", name="alpha")
Traceback (most recent call last):
...
ValueError: alpha must be a plain decimal number such as 0.05 or 5e-2, got '0.0_5'
>>> parse_int("1e6", name="--max-steps", lo=1)
1000000
"""

from __future__ import annotations

import math
import numbers
import os
import re
from fractions import Fraction

import mpmath

__all__ = ["DECIMAL_RE", "MAX_MAGNITUDE", "MIN_MAGNITUDE", "MAX_DEPTH", "DEFAULT_MAX_SECONDS",
           "DEFAULT_MAX_MEMORY_MB", "DEFAULT_TOL", "MAX_FULL_F64_N", "parse_number", "parse_int",
           "check_range", "setup_seconds", "reduced_seconds", "fast_lanes_seconds",
           "full_seconds", "memory_bytes", "check_budget", "human_seconds"]

DECIMAL_RE = re.compile(r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$")
_INT_RE = re.compile(r"^[+-]?\d+$")

#: Largest magnitude of a number (and of a spectrum value); smallest nonzero magnitude.
MAX_MAGNITUDE = 10**100
MIN_MAGNITUDE = Fraction(1, 10**100)
#: Largest depth N (every step costs O(N); the claims are exercised up to N = 8).
MAX_DEPTH = 1000
#: A run estimated to take longer than this (seconds) is refused up front.
DEFAULT_MAX_SECONDS = 3600
#: A run estimated to need more memory than this (MB) is refused up front.
DEFAULT_MAX_MEMORY_MB = 4096
#: Largest n of the float64 full-matrix iteration (each step is ~3N+4 n x n products).
MAX_FULL_F64_N = 500
#: Relative tolerance of user matrices (symmetry and PSD round-off), see
#: verify.instances.prepare_symmetric.
DEFAULT_TOL = 1e-12


def _fmt(x) -> str:
    return mpmath.nstr(x, 6) if isinstance(x, mpmath.mpf) else str(x)


def check_range(x, *, name: str, value=None):
    """ValueError unless ``x`` (an mpf) is 0 or has magnitude in [1e-100, 1e100]."""
    if x != 0 and not (mpmath.mpf(10) ** -100 <= abs(x) <= mpmath.mpf(10) ** 100):
        shown = value if isinstance(value, str) else _fmt(x)
        raise ValueError(f"{name} = {shown} is out of range: a nonzero number must have "
                         f"magnitude in [1e-100, 1e100]")
    return x


def parse_number(value, *, name: str):
    """A user's number as mpf at the current precision (ValueError naming ``name``).

    Text must be a plain decimal or scientific literal (:data:`DECIMAL_RE`); int, float,
    Fraction and mpf are taken as they are. NaN, infinities, bools and numbers out of range
    (:func:`check_range`) are refused.
    """
    if isinstance(value, bool):
        raise ValueError(f"{name} must be a number, got a bool")
    if isinstance(value, str):
        text = value.strip()
        if not DECIMAL_RE.match(text):
            raise ValueError(f"{name} must be a plain decimal number such as 0.05 or 5e-2, "
                             f"got {value!r}")
        # the exponent is checked first so that 1e999999999999 is not expanded
        exp = re.search(r"[eE]([+-]?\d+)$", text)
        if exp and abs(int(exp.group(1))) > 10_000:
            raise ValueError(f"{name} = {value} is out of range: a nonzero number must have "
                             f"magnitude in [1e-100, 1e100]")
        x = mpmath.mpf(text)
    elif isinstance(value, Fraction):
        x = mpmath.mpf(value.numerator) / value.denominator
    elif isinstance(value, (numbers.Real, mpmath.mpf)) or type(value).__name__ == "mpfr":
        try:
            x = mpmath.mpf(value)
        except (TypeError, ValueError, OverflowError):
            raise ValueError(f"{name} must be a number, got {value!r}") from None
    elif hasattr(value, "dtype") and getattr(value, "shape", None) == ():
        x = mpmath.mpf(float(value))  # numpy scalar
    else:
        raise ValueError(f"{name} must be a number, got {type(value).__name__}")
    if not mpmath.isfinite(x):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    return check_range(x, name=name, value=value)


def parse_int(value, *, name: str, lo: int | None = None, hi: int | None = None,
              why: str = "") -> int:
    """An integer from text (digits, or an integer-valued literal such as ``1e6``) or an int.

    ValueError names ``name`` and the allowed range; ``why`` explains an upper cap.
    """
    if isinstance(value, bool):
        raise ValueError(f"{name} must be an integer, got a bool")
    if isinstance(value, numbers.Integral):
        v = int(value)
    elif isinstance(value, str):
        text = value.strip()
        if _INT_RE.match(text):
            v = int(text)
        elif DECIMAL_RE.match(text) and not re.search(r"[eE][+-]?\d{4,}$", text):
            f = Fraction(text)
            if f.denominator != 1:
                raise ValueError(f"{name} must be an integer, got {value!r}")
            v = int(f)
        else:
            raise ValueError(f"{name} must be an integer, got {value!r}")
    else:
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if lo is not None and v < lo:
        raise ValueError(f"{name} must be >= {lo}, got {v}")
    if hi is not None and v > hi:
        raise ValueError(f"{name} must be <= {hi}, got {v}" + (f" ({why})" if why else ""))
    return v


# ---------------------------------------------------------------------------------------
# cost estimates (seconds, bytes): rough upper figures measured on the project machine


def _dps_factor(dps: int, power: float) -> float:
    return max(1.0, dps / 50) ** power


def setup_seconds(n: int, dps: int, decompositions: int = 3, linalg: str = "mpmath") -> float:
    """Building an n x n problem: in mpmath a few O(n^3) eigendecompositions (~60 us n^3);
    in float64 (``linalg="float64"``) two LAPACK QRs, one eigh and the matrix products of its
    enclosure (~6 ns n^3 on the project machine, under load)."""
    if linalg == "float64":
        return 6e-9 * n**3 + 0.05
    return decompositions * 60e-6 * n**3 * _dps_factor(dps, 0.3)


def reduced_seconds(steps: int, lanes: int, depth: int, dps: int) -> float:
    """Reduced dynamics: ``steps`` steps of ``lanes`` scalar recursions (~(1 + 0.15 N) us each),
    twice (the run, then the checkpoints of the error in the interval)."""
    return 2 * steps * lanes * (1.0 + 0.15 * depth) * 1e-6 * _dps_factor(dps, 0.6)


def fast_lanes_seconds(steps: int, lanes: int) -> float:
    """The float64 lanes of verify/fastlanes.py: ~(30 + 0.08 lanes) us per step (numpy
    operations on the lanes still moving; all of them in the worst case), one pass and a
    pilot run of the r+1 lanes that fix T0 and T1."""
    return steps * (40e-6 + 0.08e-6 * lanes) * 1.2


def full_seconds(steps: int, n: int, depth: int, dps: int, linalg: str = "mpmath") -> float:
    """Full-matrix gradient descent: ~8 us N n^3 per step (products and gradients in mpmath),
    the hitting times read off at every step, and a second pass for the checkpoints; in
    float64 (``linalg="float64"``) about 3N + 4 LAPACK products of n x n matrices per step
    (~0.05 ns n^3 each on one BLAS thread, with slack)."""
    if linalg == "float64":
        return 2 * steps * ((3 * depth + 4) * 0.05e-9 * n**3 + 30e-6)
    return 2 * steps * (8e-6 * depth * n**3 + 10e-6 * n**3 + 20e-6) * _dps_factor(dps, 0.2)


def memory_bytes(n: int, depth: int, dps: int, matrices: int | None = None,
                 linalg: str = "mpmath") -> int:
    """Memory of the matrices held at once (mpmath: ~(100 + dps/2) bytes per entry; float64: 8):
    the problem's few matrices, or with ``matrices`` that many (the N factors, their prefix and
    suffix products)."""
    count = 12 if matrices is None else matrices
    per = 8 if linalg == "float64" else (100 + dps / 2)
    return int(count * n * n * per)


def human_seconds(s: float) -> str:
    """1.2e+06 s -> '14 days'."""
    if not math.isfinite(s):
        return "forever"
    for unit, size in (("years", 365 * 86400), ("days", 86400), ("hours", 3600), ("minutes", 60)):
        if s >= 2 * size:
            return f"{s / size:.3g} {unit}"
    return f"{s:.2g} s"


def check_budget(*, seconds: float | None = None, memory: int | None = None, what: str,
                 max_seconds=DEFAULT_MAX_SECONDS, max_memory_mb=DEFAULT_MAX_MEMORY_MB,
                 why: str = "") -> None:
    """ValueError when an estimate exceeds its cap: names the estimate, why, and the flag."""
    max_seconds = DEFAULT_MAX_SECONDS if max_seconds is None else max_seconds
    max_memory_mb = DEFAULT_MAX_MEMORY_MB if max_memory_mb is None else max_memory_mb
    tail = f" ({why})" if why else ""
    if seconds is not None and seconds > max_seconds:
        raise ValueError(f"{what} would take about {human_seconds(seconds)}{tail}, above the "
                         f"limit of {max_seconds:g} s: raise it with --max-seconds (API: max_seconds=)")
    if memory is not None and memory > max_memory_mb * 2**20:
        raise ValueError(f"{what} would need about {memory / 2**20:.3g} MB of memory{tail}, "
                         f"above the limit of {max_memory_mb:g} MB: raise it with --max-memory "
                         f"(API: max_memory_mb=)")


def physical_memory_mb() -> float | None:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**20
    except (ValueError, OSError, AttributeError):
        return None
