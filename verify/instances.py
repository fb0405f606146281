"""Targets, perturbations, validation of matrices, and reading matrices from files.

Everything here works at an explicit precision: every public function takes the keyword
``dps`` (decimal digits, default 50, at least 15) and computes inside
``mpmath.workdps(dps)``; the global mpmath precision is never changed. Results are mpmath
matrices and ``mpf`` numbers; the dataclasses record the ``dps`` they were computed at.

Setting (THEORY.md): a symmetric PSD target ``W`` with eigenvalues ``s_1 >= ... >= s_n >= 0``
and eigenvectors ``v_i``; a symmetric perturbation ``E`` with ``e = ||E||_2``; the observed
matrix ``Y = W + E`` with eigenvalues ``t_1 >= ... >= t_n`` and eigenvectors ``q_i``.

>>> tgt = psd_target([1, 3, 0.5], seed=0, dps=30)
>>> [mpmath.nstr(x, 5) for x in tgt.s]
['3.0', '1.0', '0.5']
>>> E = weyl_extremal_perturbation(tgt, 1, 0.25, dps=30)
>>> obs = observed(tgt, E, dps=30)
>>> [mpmath.nstr(x, 5) for x in obs.t]
['2.75', '1.25', '0.75']
>>> mpmath.nstr(obs.e, 5)
'0.25'
"""

from __future__ import annotations

import csv
import json
import numbers
import os
import re
from dataclasses import dataclass
from fractions import Fraction

import mpmath
import numpy as np

__all__ = [
    "MIN_DPS",
    "Target",
    "Observed",
    "check_dps",
    "validate_matrix",
    "random_orthogonal",
    "psd_target",
    "random_perturbation",
    "weyl_extremal_perturbation",
    "aligned_perturbation",
    "observed",
    "read_matrix",
    "prepare_symmetric",
    "Prepared",
    "symmetric_eigen",
    "spectral_norm",
]

MIN_DPS = 15

#: Relative tolerance for the symmetry of matrices with binary64 (float) entries, e.g. read
#: from .npy/.csv/.json files written by other programs: such a matrix is accepted as
#: symmetric when ``max|M - M^T| <= FLOAT_SYMMETRY_RTOL * max|M|`` and is then symmetrized
#: explicitly, ``(M + M^T) / 2``.
FLOAT_SYMMETRY_RTOL = 1e-12

_DECIMAL_RE = re.compile(r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$")


def check_dps(dps) -> int:
    """Return ``dps`` if it is an integer >= 15, else raise ValueError.

    >>> check_dps(50)
    50
    >>> check_dps(10)
    Traceback (most recent call last):
    ...
    ValueError: dps must be an integer >= 15, got 10
    """
    if isinstance(dps, bool) or not isinstance(dps, numbers.Integral) or dps < MIN_DPS:
        raise ValueError(f"dps must be an integer >= {MIN_DPS}, got {dps!r}")
    return int(dps)


def _strict_rtol(dps: int):
    """Relative tolerance used for exact / mpf inputs: 10^-(dps-5)."""
    return mpmath.mpf(10) ** (-(dps - 5))


def _to_mpf(x, *, what: str):
    """Convert one real number to mpf at the current precision; ValueError otherwise.

    Returns ``(value, is_float)`` where ``is_float`` says the input was binary64 (or a
    lower-precision float), which selects the looser symmetry tolerance.
    """
    if isinstance(x, (bool, np.bool_)):
        raise ValueError(f"{what}: non-numeric entry {x!r} (bool)")
    if isinstance(x, mpmath.mpf):
        v, is_float = +x, False
    elif isinstance(x, (int, np.integer)):
        v, is_float = mpmath.mpf(int(x)), False
    elif isinstance(x, Fraction):
        v, is_float = mpmath.mpf(x.numerator) / x.denominator, False
    elif isinstance(x, (float, np.floating)):
        v, is_float = mpmath.mpf(float(x)), True
    elif isinstance(x, (mpmath.mpc, complex, np.complexfloating)):
        raise ValueError(f"{what}: complex entry {x!r} (only real entries are allowed)")
    else:
        raise ValueError(f"{what}: non-numeric entry {x!r} of type {type(x).__name__}")
    if not mpmath.isfinite(v):
        raise ValueError(f"{what}: entry {x!r} is NaN or infinite")
    return v, is_float


def _rows_of(M, name: str):
    """Return the entries of ``M`` as a list of rows (python lists), not yet converted."""
    if isinstance(M, mpmath.matrix):
        return [[M[i, j] for j in range(M.cols)] for i in range(M.rows)]
    if isinstance(M, np.ndarray):
        if M.ndim != 2:
            raise ValueError(f"{name}: expected a 2-D square matrix, got a {M.ndim}-D array")
        if M.dtype == object:
            return [[M[i, j] for j in range(M.shape[1])] for i in range(M.shape[0])]
        if not (np.issubdtype(M.dtype, np.number) or M.dtype == np.bool_):
            raise ValueError(f"{name}: non-numeric array dtype {M.dtype}")
        return [[M[i, j] for j in range(M.shape[1])] for i in range(M.shape[0])]
    if isinstance(M, (list, tuple)):
        rows = []
        for i, row in enumerate(M):
            if not isinstance(row, (list, tuple, np.ndarray)):
                raise ValueError(
                    f"{name}: expected a 2-D square matrix (list of rows), row {i} is {row!r}"
                )
            rows.append(list(row))
        return rows
    raise ValueError(
        f"{name}: expected a matrix (nested list, numpy array or mpmath matrix), "
        f"got {type(M).__name__}"
    )


def validate_matrix(M, *, name: str = "matrix", symmetric: bool = False, psd: bool = False,
                    dps: int = 50) -> mpmath.matrix:
    """Return a validated mpmath copy of the square real matrix ``M``.

    ``M`` may be a nested list/tuple, a numpy array or an mpmath matrix; it is never
    modified. Raises ValueError (the message starts with ``name``) when ``M`` is not 2-D,
    not square, empty, has a non-numeric, complex, NaN or infinite entry, or, when
    requested, is not symmetric or not positive semidefinite.

    Tolerances. For exact or mpf entries symmetry is required to relative accuracy
    ``10^-(dps-5)`` (relative to ``max|M|``); if any entry is a binary64 float (data from
    files or numpy) the tolerance is :data:`FLOAT_SYMMETRY_RTOL` = 1e-12 relative. A matrix
    accepted as symmetric is returned symmetrized explicitly, ``(M + M^T)/2``, so it is
    exactly symmetric. ``psd=True`` (implies symmetric) rejects a matrix whose smallest
    eigenvalue is below ``-tol * max(1, max|M|)``, tol the same relative tolerance.

    >>> validate_matrix([[1, 2], [2, 1]], name="Y", symmetric=True, dps=20)
    matrix(
    [['1.0', '2.0'],
     ['2.0', '1.0']])
    >>> validate_matrix([[1, 2], [2, 1]], name="W", psd=True, dps=20)
    Traceback (most recent call last):
    ...
    ValueError: W: not positive semidefinite (smallest eigenvalue -1.0)
    """
    dps = check_dps(dps)
    rows = _rows_of(M, name)
    n = len(rows)
    if n == 0:
        raise ValueError(f"{name}: empty matrix")
    for i, row in enumerate(rows):
        if len(row) != n:
            raise ValueError(
                f"{name}: not square ({n} rows, row {i} has {len(row)} entries)"
            )
        for j, x in enumerate(row):
            if isinstance(x, (list, tuple, np.ndarray)):
                raise ValueError(f"{name}: expected a 2-D square matrix, entry ({i},{j}) is a sequence")
    with mpmath.workdps(dps):
        out = mpmath.matrix(n, n)
        any_float = False
        for i in range(n):
            for j in range(n):
                v, is_float = _to_mpf(rows[i][j], what=f"{name}[{i},{j}]")
                any_float = any_float or is_float
                out[i, j] = v
        if symmetric or psd:
            rtol = mpmath.mpf(FLOAT_SYMMETRY_RTOL) if any_float else _strict_rtol(dps)
            scale = max(abs(out[i, j]) for i in range(n) for j in range(n))
            asym = max((abs(out[i, j] - out[j, i]) for i in range(n) for j in range(i + 1, n)),
                       default=mpmath.mpf(0))
            if asym > rtol * scale:
                raise ValueError(
                    f"{name}: not symmetric (max |M - M^T| = {mpmath.nstr(asym, 5)}, "
                    f"tolerance {mpmath.nstr(rtol * scale, 5)})"
                )
            for i in range(n):
                for j in range(i + 1, n):
                    m = (out[i, j] + out[j, i]) / 2
                    out[i, j] = m
                    out[j, i] = m
            if psd:
                ev = mpmath.eigsy(out, eigvals_only=True)
                lo = min(ev[i] for i in range(n))
                if lo < -rtol * max(1, scale):
                    raise ValueError(
                        f"{name}: not positive semidefinite (smallest eigenvalue "
                        f"{mpmath.nstr(lo, 5)})"
                    )
        return out


@dataclass(frozen=True, eq=False)
class Prepared:
    """A user's symmetric matrix after :func:`prepare_symmetric`: ``M`` exactly symmetric
    (PSD round-off clipped when asked), its eigenvalues ``s`` (descending) and eigenvectors
    ``V`` (None when not computed), and ``notes``: one line per adjustment made."""

    M: mpmath.matrix
    s: tuple | None
    V: mpmath.matrix | None
    notes: tuple


def prepare_symmetric(M, *, name: str = "matrix", tol=1e-12, psd: bool = False,
                      eigen: bool = True, dps: int = 50) -> Prepared:
    """Validate a user's symmetric (PSD with ``psd``) matrix within a relative tolerance.

    The tolerance is the same for every kind of entry (float data from numpy or files,
    ints, decimal strings, mpf), ``tol`` relative (default 1e-12):

    * symmetry: ``max |M_ij - M_ji| <= tol * max |M_kl|``; the matrix is then symmetrized,
      ``(M + M^T)/2``; beyond it, ValueError naming the worst pair of entries;
    * PSD (``psd=True``): eigenvalues in ``[-tol * ||M||_2, 0)`` are round-off and are
      clipped to 0 (``M`` rebuilt as ``V diag(max(s, 0)) V^T``); a more negative eigenvalue
      is a ValueError naming it (``s_i``, eigenvalues in descending order).

    Every adjustment is one line in ``notes``. Entries must be finite with magnitude at most
    1e100. ``M`` is never modified.

    >>> import numpy as np
    >>> A = np.array([[1.0, 2.0], [2.0, 4.0]])          # rank one: eigenvalues 5 and 0
    >>> p = prepare_symmetric(A, name="W", psd=True, dps=30)
    >>> [mpmath.nstr(x, 5) for x in p.s]
    ['5.0', '0.0']
    >>> print(p.notes[0])    # the eigensolver's round-off of the 0 eigenvalue
    W: 1 eigenvalue(s) in [-1.97e-31, 0) clipped to 0 (PSD round-off, within tol * ||A||_2 = 5.0e-12)
    >>> prepare_symmetric([[1, 0.5], [0.4, 1]], name="W")
    Traceback (most recent call last):
    ...
    ValueError: W: not symmetric: entry (0,1) = 0.5 but (1,0) = 0.4, |difference| 0.1 > tol * max|A| = 1.0e-12 (tol 1.0e-12, --tol)
    """
    dps = check_dps(dps)
    rtol = _check_tol(tol)
    A = validate_matrix(M, name=name, dps=dps)
    n = A.rows
    notes = []
    with mpmath.workdps(dps):
        scale = max(abs(A[i, j]) for i in range(n) for j in range(n))
        if scale > mpmath.mpf(10) ** 100:
            i, j = next((i, j) for i in range(n) for j in range(n) if abs(A[i, j]) == scale)
            raise ValueError(f"{name}: entry ({i},{j}) = {mpmath.nstr(A[i, j], 5)} is out of "
                             f"range: entries must have magnitude at most 1e100")
        asym, where = mpmath.mpf(0), None
        for i in range(n):
            for j in range(i + 1, n):
                d = abs(A[i, j] - A[j, i])
                if d > asym:
                    asym, where = d, (i, j)
        if asym > rtol * scale:
            i, j = where
            raise ValueError(
                f"{name}: not symmetric: entry ({i},{j}) = {mpmath.nstr(A[i, j], 6)} but "
                f"({j},{i}) = {mpmath.nstr(A[j, i], 6)}, |difference| {mpmath.nstr(asym, 3)} > "
                f"tol * max|A| = {mpmath.nstr(rtol * scale, 3)} (tol {mpmath.nstr(rtol, 3)}, --tol)")
        if asym > 0:
            for i in range(n):
                for j in range(i + 1, n):
                    m = (A[i, j] + A[j, i]) / 2
                    A[i, j] = m
                    A[j, i] = m
            notes.append(f"{name}: symmetrized (max |A - A^T| = {mpmath.nstr(asym, 3)}, "
                         f"within tol * max|A| = {mpmath.nstr(rtol * scale, 3)})")
        if not (eigen or psd):
            return Prepared(M=A, s=None, V=None, notes=tuple(notes))
        s, V = symmetric_eigen(A, dps=dps)
        if psd:
            norm = max(abs(x) for x in s)
            lo = s[-1]
            if lo < -rtol * norm:
                raise ValueError(
                    f"{name}: not positive semidefinite: eigenvalue s_{n} = {mpmath.nstr(lo, 5)} "
                    f"< -tol * ||A||_2 = {mpmath.nstr(-rtol * norm, 3)} "
                    f"(tol {mpmath.nstr(rtol, 3)}, --tol)")
            neg = [x for x in s if x < 0]
            if neg:
                s = tuple(max(x, mpmath.mpf(0)) for x in s)
                A = _sym_product(V, s, n)
                notes.append(f"{name}: {len(neg)} eigenvalue(s) in [{mpmath.nstr(min(neg), 3)}, 0) "
                             f"clipped to 0 (PSD round-off, within tol * ||A||_2 = "
                             f"{mpmath.nstr(rtol * norm, 3)})")
        return Prepared(M=A, s=tuple(s), V=V, notes=tuple(notes))


def _check_tol(tol):
    """A relative tolerance: a number in [0, 1e-3] (plain decimal text or a real number)."""
    from verify.limits import parse_number

    if isinstance(tol, mpmath.mpf):
        v = +tol
    else:
        v = parse_number(tol, name="tol")
    if not 0 <= v <= mpmath.mpf("1e-3"):
        raise ValueError(f"tol must be in [0, 1e-3] (a relative tolerance), got {tol}")
    return v


def _check_seed(seed):
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(f"seed must be a nonnegative integer, got {seed!r}")
    return int(seed)


def _check_n(n):
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    return int(n)


def _check_nonneg(x, name):
    v, _ = _to_mpf(x, what=name)
    if v < 0:
        raise ValueError(f"{name} must be nonnegative, got {x!r}")
    return v


def _orthonormalize(G, n):
    """Modified Gram-Schmidt with one reorthogonalization pass, at the current precision.

    ``G`` is a list of n column vectors (lists of mpf). Columns are normalized so that the
    result is the Q factor of the QR decomposition of G with positive diagonal of R (this
    makes Q Haar-distributed when G is Gaussian).
    """
    cols = []
    for j in range(n):
        v = list(G[j])
        for _ in range(2):
            for q in cols:
                c = mpmath.fdot(q, v)
                v = [vi - c * qi for vi, qi in zip(v, q)]
        nv = mpmath.sqrt(mpmath.fdot(v, v))
        if nv == 0:  # probability zero for Gaussian draws
            raise ValueError("random_orthogonal: degenerate draw (rank deficient)")
        cols.append([vi / nv for vi in v])
    Q = mpmath.matrix(n, n)
    for j in range(n):
        for i in range(n):
            Q[i, j] = cols[j][i]
    return Q


def _orthogonal_from_rng(rng: np.random.Generator, n: int) -> mpmath.matrix:
    G = rng.standard_normal((n, n))
    return _orthonormalize([[mpmath.mpf(float(G[i, j])) for i in range(n)] for j in range(n)], n)


def random_orthogonal(n: int, *, seed: int, dps: int = 50) -> mpmath.matrix:
    """A seeded random orthogonal n x n matrix, orthonormal to working precision.

    The Gaussian draws come from ``numpy.random.default_rng(seed)``; orthonormalization
    (Gram-Schmidt with reorthogonalization) is done in mpmath at ``dps`` digits, so
    ``||Q^T Q - I|| < 10^-(dps-5)``.

    >>> Q = random_orthogonal(3, seed=1, dps=30)
    >>> mpmath.mnorm(Q.T * Q - mpmath.eye(3), 1) < mpmath.mpf(10) ** -25
    True
    """
    dps = check_dps(dps)
    n = _check_n(n)
    seed = _check_seed(seed)
    with mpmath.workdps(dps):
        return _orthogonal_from_rng(np.random.default_rng(seed), n)


def _sym_product(V, d, n):
    """V diag(d) V^T, exactly symmetric (upper triangle computed, mirrored)."""
    M = mpmath.matrix(n, n)
    for i in range(n):
        for j in range(i, n):
            x = mpmath.fdot([V[i, k] * d[k] for k in range(n)], [V[j, k] for k in range(n)])
            M[i, j] = x
            M[j, i] = x
    return M


@dataclass(frozen=True, eq=False)
class Target:
    """A symmetric PSD target ``W = V diag(s) V^T``.

    ``s``: eigenvalues sorted descending (tuple of mpf); ``V``: orthogonal matrix whose
    column i is the eigenvector of ``s[i]``; ``dps``: precision of the computation.
    """

    W: mpmath.matrix
    s: tuple
    V: mpmath.matrix
    dps: int

    @property
    def n(self) -> int:
        return len(self.s)


@dataclass(frozen=True, eq=False)
class Observed:
    """The observed matrix ``Y = W + E``.

    ``t``: eigenvalues of Y sorted descending (tuple of mpf); ``Q``: orthogonal matrix whose
    column i is the eigenvector of ``t[i]``; ``e = ||E||_2``; ``dps``: working precision.
    """

    Y: mpmath.matrix
    E: mpmath.matrix
    t: tuple
    Q: mpmath.matrix
    e: mpmath.mpf
    dps: int

    @property
    def n(self) -> int:
        return len(self.t)


def psd_target(spectrum, *, seed: int, dps: int = 50) -> Target:
    """A random symmetric PSD target with the given spectrum (any order).

    ``W = V diag(s) V^T`` with ``V = random_orthogonal(n, seed=seed)`` and ``s`` the spectrum
    sorted descending. Entries must be finite, nonnegative real numbers (int, float,
    Fraction, mpf, or decimal strings); ValueError otherwise.

    >>> t = psd_target([0, 2, 1], seed=3, dps=20)
    >>> [mpmath.nstr(x, 3) for x in t.s]
    ['2.0', '1.0', '0.0']
    >>> psd_target([1, -1], seed=0)
    Traceback (most recent call last):
    ...
    ValueError: spectrum[1] must be nonnegative, got -1
    """
    dps = check_dps(dps)
    seed = _check_seed(seed)
    if isinstance(spectrum, (str, bytes)) or not hasattr(spectrum, "__iter__"):
        raise ValueError(f"spectrum must be a sequence of numbers, got {spectrum!r}")
    spec = list(spectrum)
    if not spec:
        raise ValueError("spectrum must not be empty")
    n = len(spec)
    with mpmath.workdps(dps):
        vals = []
        for i, x in enumerate(spec):
            if isinstance(x, str):
                if not _DECIMAL_RE.match(x.strip()):
                    raise ValueError(f"spectrum[{i}]: not a decimal number: {x!r}")
                x = mpmath.mpf(x.strip())
            vals.append(_check_nonneg(x, f"spectrum[{i}]"))
        s = tuple(sorted(vals, reverse=True))
        V = _orthogonal_from_rng(np.random.default_rng(seed), n)
        W = _sym_product(V, s, n)
        return Target(W=W, s=s, V=V, dps=dps)


def random_perturbation(n: int, norm, *, seed: int, dps: int = 50) -> mpmath.matrix:
    """A seeded random symmetric ``E`` with ``||E||_2 = norm`` to working precision.

    ``E = Q diag(norm * l) Q^T``, Q a random orthogonal matrix, ``l_i`` uniform in [-1, 1]
    rescaled so ``max |l_i| = 1``, the extreme one given a random sign. ``norm = 0`` gives
    the zero matrix; a negative, NaN or infinite norm raises ValueError.

    >>> E = random_perturbation(4, 0.5, seed=2, dps=30)
    >>> abs(spectral_norm(E, dps=30) - mpmath.mpf(0.5)) < mpmath.mpf(10) ** -25
    True
    """
    dps = check_dps(dps)
    n = _check_n(n)
    seed = _check_seed(seed)
    with mpmath.workdps(dps):
        e = _check_nonneg(norm, "norm")
        rng = np.random.default_rng(seed)
        Q = _orthogonal_from_rng(rng, n)
        u = [mpmath.mpf(float(x)) for x in rng.uniform(-1.0, 1.0, n)]
        sign = 1 if rng.integers(0, 2) == 1 else -1
        if e == 0:
            return mpmath.matrix(n, n)
        j = max(range(n), key=lambda i: abs(u[i]))
        m = abs(u[j])
        lam = [ui / m if m != 0 else mpmath.mpf(0) for ui in u]
        lam[j] = mpmath.mpf(sign)
        return _sym_product(Q, [e * x for x in lam], n)


def weyl_extremal_perturbation(target: Target, r: int, norm, *, dps: int = 50) -> mpmath.matrix:
    """``E = -e sum_{i<=r} v_i v_i^T + e sum_{i>r} v_i v_i^T`` (claim P4's tightness probe).

    Lowers the top r eigenvalues of the target by ``e`` and raises the others by ``e``:
    ``Y = W + E`` has eigenvalues ``s_i - e`` (i <= r) and ``s_i + e`` (i > r), eigenvectors
    ``v_i``. ``0 <= r <= n``; ``e = norm >= 0``. The eigenvectors are those stored in the
    target (accurate to ``target.dps`` digits), so use ``dps <= target.dps``.

    >>> tgt = psd_target([2, 1], seed=0, dps=20)
    >>> E = weyl_extremal_perturbation(tgt, 1, 0.5, dps=20)
    >>> [mpmath.nstr(x, 3) for x in symmetric_eigen(E, dps=20)[0]]
    ['0.5', '-0.5']
    """
    dps = check_dps(dps)
    if not isinstance(target, Target):
        raise ValueError(f"target must be a Target, got {type(target).__name__}")
    n = target.n
    if isinstance(r, bool) or not isinstance(r, numbers.Integral) or not 0 <= r <= n:
        raise ValueError(f"r must be an integer in [0, {n}], got {r!r}")
    with mpmath.workdps(dps):
        e = _check_nonneg(norm, "norm")
        d = [-e if i < r else e for i in range(n)]
        V = mpmath.matrix(target.V)  # target.V was computed at target.dps
        return _sym_product(V, d, n)


def aligned_perturbation(target: Target, noise, *, dps: int = 50) -> mpmath.matrix:
    """``E = sum_i noise_i v_i v_i^T``: a perturbation sharing the target's eigenvectors.

    ``Y = W + E`` has the eigenvalues ``s_i + noise_i`` (``noise_i`` is added to the i-th
    largest eigenvalue of W), eigenvectors ``v_i``, and ``||E||_2 = max |noise_i|``. The
    Weyl-extremal perturbation is the case ``noise = (-e, .., -e, e, .., e)``. The
    eigenvectors are those stored in the target (use ``dps <= target.dps``).

    >>> tgt = psd_target([2, 1], seed=0, dps=20)
    >>> E = aligned_perturbation(tgt, [0.25, -0.5], dps=20)
    >>> [mpmath.nstr(x, 3) for x in symmetric_eigen(E, dps=20)[0]]
    ['0.25', '-0.5']
    """
    dps = check_dps(dps)
    if not isinstance(target, Target):
        raise ValueError(f"target must be a Target, got {type(target).__name__}")
    n = target.n
    if isinstance(noise, (str, bytes)) or not hasattr(noise, "__iter__"):
        raise ValueError(f"noise must be a list of {n} numbers, got {noise!r}")
    noise = list(noise)
    if len(noise) != n:
        raise ValueError(f"noise must have {n} entries (one per eigenvalue of W), got {len(noise)}")
    with mpmath.workdps(dps):
        d = [_to_mpf(x, what=f"noise[{i}]")[0] for i, x in enumerate(noise)]
        return _sym_product(mpmath.matrix(target.V), d, n)


def symmetric_eigen(M, *, dps: int = 50):
    """Eigen-decomposition of a symmetric matrix, eigenvalues sorted descending.

    Returns ``(eigenvalues tuple, Q)`` with column i of Q the eigenvector of eigenvalue i.
    ``M`` is validated (and symmetrized) first.
    """
    dps = check_dps(dps)
    A = validate_matrix(M, name="symmetric_eigen", symmetric=True, dps=dps)
    n = A.rows
    with mpmath.workdps(dps):
        ev, U = mpmath.eigsy(A)
        order = sorted(range(n), key=lambda i: ev[i], reverse=True)
        Q = mpmath.matrix(n, n)
        for jj, j in enumerate(order):
            for i in range(n):
                Q[i, jj] = U[i, j]
        return tuple(ev[j] for j in order), Q


def spectral_norm(M, *, dps: int = 50):
    """``||M||_2`` of a symmetric matrix (largest absolute eigenvalue)."""
    ev, _ = symmetric_eigen(M, dps=dps)
    with mpmath.workdps(dps):
        return max(abs(x) for x in ev)


def observed(target: Target, E, *, dps: int = 50) -> Observed:
    """``Y = W + E`` with its descending eigenvalues ``t``, eigenvectors and ``||E||_2``.

    ``E`` must be a symmetric matrix of the target's size (ValueError otherwise). ``W`` is
    taken as stored in the target (accurate to ``target.dps`` digits): use
    ``dps <= target.dps``.
    """
    dps = check_dps(dps)
    if not isinstance(target, Target):
        raise ValueError(f"target must be a Target, got {type(target).__name__}")
    Em = validate_matrix(E, name="E", symmetric=True, dps=dps)
    n = target.n
    if Em.rows != n:
        raise ValueError(f"E: shape {Em.rows}x{Em.cols} does not match target size {n}x{n}")
    with mpmath.workdps(dps):
        Y = mpmath.matrix(target.W) + Em
        t, Q = symmetric_eigen(Y, dps=dps)
        e = spectral_norm(Em, dps=dps)
        return Observed(Y=validate_matrix(Y, name="Y", symmetric=True, dps=dps),
                        E=Em, t=t, Q=Q, e=e, dps=dps)


def _float_rows(rows, label):
    """A square float64 array from parsed rows (ValueError naming the file otherwise)."""
    if isinstance(rows, np.ndarray):
        if rows.ndim != 2:
            raise ValueError(f"{label}: expected a 2-D square matrix, got a {rows.ndim}-D array")
        A = np.array(rows, dtype=float)
    else:
        A = np.array([[float(x) for x in r] for r in rows], dtype=float)
    if A.ndim != 2 or A.size == 0:
        raise ValueError(f"{label}: empty matrix" if A.size == 0 else
                         f"{label}: expected a 2-D square matrix")
    if A.shape[0] != A.shape[1]:
        raise ValueError(f"{label}: not square ({A.shape[0]} rows, row 0 has {A.shape[1]} entries)")
    if not np.all(np.isfinite(A)):
        i, j = map(int, np.argwhere(~np.isfinite(A))[0])
        raise ValueError(f"{label}: entry ({i},{j}) is NaN or infinite")
    return A


def _parse_text_number(tok: str, where: str):
    tok = tok.strip()
    if not _DECIMAL_RE.match(tok):
        raise ValueError(f"{where}: non-numeric field {tok!r}")
    return mpmath.mpf(tok)


def read_matrix(path, *, dps: int = 50, symmetric: bool = False, psd: bool = False,
                size_check=None, float64=False):
    """Read a square real matrix from a ``.npy``, ``.json`` or ``.csv`` file.

    * ``.npy``: ``numpy.load(path, allow_pickle=False)``; a 2-D real numeric array.
    * ``.json``: a list of lists; entries are JSON numbers (int or float) or decimal strings
      such as ``"0.1"`` (converted with ``mpmath.mpf`` at ``dps`` digits). Nothing is
      evaluated (no eval / sympify).
    * ``.csv``: comma separated rows; each field is parsed explicitly as a decimal number
      with ``float()`` (binary64, like any float data). Blank lines are skipped.

    The result goes through :func:`validate_matrix` (``symmetric``/``psd`` are passed on;
    float data are accepted as symmetric within 1e-12 relative and symmetrized). ValueError
    names the file and the problem: unreadable, unknown extension, ragged rows,
    non-numeric entries, and every validation failure. ``size_check(n)``, if given, is
    called with the number of rows before any entry is converted (it raises ValueError to
    refuse a matrix too large to work with).

    ``float64=True`` returns a numpy float64 array instead, checked for shape and finiteness
    only (symmetry and PSD are the caller's, :func:`verify.explore.make_setting`): ``.npy``
    and ``.csv`` data are floats already, a ``.json`` decimal string becomes the nearest
    float; an integer ``float64=K`` does that only for a matrix with more than K rows.
    """
    dps = check_dps(dps)
    p = os.fspath(path)
    ext = os.path.splitext(p)[1].lower()
    label = f"{p}"
    if ext not in (".npy", ".json", ".csv"):
        raise ValueError(f"{label}: unknown extension {ext!r} (expected .npy, .json or .csv)")
    try:
        if ext == ".npy":
            try:
                data = np.load(p, allow_pickle=False)
            except (OSError, ValueError, EOFError) as exc:
                raise ValueError(f"{label}: unreadable .npy file ({exc})") from None
            if not isinstance(data, np.ndarray):
                raise ValueError(f"{label}: unreadable .npy file (not an array)")
            if data.dtype.kind not in "iuf":
                raise ValueError(f"{label}: non-numeric or non-real array dtype {data.dtype}")
            if size_check is not None and data.ndim >= 1:
                size_check(len(data))
            rows = data
        elif ext == ".json":
            try:
                with open(p, encoding="utf-8") as fh:
                    data = json.load(fh)
            except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise ValueError(f"{label}: unreadable JSON file ({exc})") from None
            if not isinstance(data, list) or not all(isinstance(r, list) for r in data):
                raise ValueError(f"{label}: expected a JSON list of lists of numbers")
            widths = {len(r) for r in data}
            if len(widths) > 1:
                raise ValueError(f"{label}: ragged rows (row lengths {sorted(widths)})")
            if size_check is not None:
                size_check(len(data))
            rows = []
            with mpmath.workdps(dps):
                for i, r in enumerate(data):
                    row = []
                    for j, x in enumerate(r):
                        where = f"{label}: entry ({i},{j})"
                        if isinstance(x, bool) or x is None:
                            raise ValueError(f"{where}: non-numeric value {x!r}")
                        if isinstance(x, (int, float)):
                            row.append(x)
                        elif isinstance(x, str):
                            row.append(_parse_text_number(x, where))
                        else:
                            raise ValueError(f"{where}: non-numeric value {x!r}")
                    rows.append(row)
        else:
            try:
                with open(p, encoding="utf-8", newline="") as fh:
                    lines = [r for r in csv.reader(fh) if any(f.strip() for f in r)]
            except (OSError, UnicodeDecodeError, csv.Error) as exc:
                raise ValueError(f"{label}: unreadable CSV file ({exc})") from None
            widths = {len(r) for r in lines}
            if len(widths) > 1:
                raise ValueError(f"{label}: ragged rows (row lengths {sorted(widths)})")
            if size_check is not None:
                size_check(len(lines))
            rows = []
            for i, r in enumerate(lines):
                row = []
                for j, f in enumerate(r):
                    tok = f.strip()
                    if not _DECIMAL_RE.match(tok):
                        raise ValueError(f"{label}: entry ({i},{j}): non-numeric field {tok!r}")
                    row.append(float(tok))
                rows.append(row)
        n_rows = len(rows)
        if float64 is True or (not isinstance(float64, bool) and n_rows > float64):
            return _float_rows(rows, label)
        return validate_matrix(rows, name=label, symmetric=symmetric, psd=psd, dps=dps)
    except ValueError as exc:
        msg = str(exc)
        if not msg.startswith(label):
            raise ValueError(f"{label}: {msg}") from None
        raise
