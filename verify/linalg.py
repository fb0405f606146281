"""float64 linear algebra with rigorous error bounds (numpy/LAPACK), for large problems.

`predict` and `simulate` on an n x n problem with n in the hundreds or thousands cannot hold
mpmath matrices (a 1000 x 1000 eigendecomposition in mpmath takes hours). Here every matrix is
a numpy float64 array, every eigendecomposition is LAPACK's (``numpy.linalg.eigh``), and every
eigenvalue comes with a **rigorous** enclosure radius:

* :func:`eig_enclosure`: for a float64 symmetric ``A`` (the exact matrix being ``A + D`` with
  ``||D||_2 <= extra``) and its computed eigenpairs ``(w_i, X)``, Ostrowski's theorem on the
  congruence ``X^T A X`` (``lambda_i(X^T A X) = theta_i lambda_i(A)`` with ``theta_i`` in
  ``[lambda_min(X^T X), lambda_max(X^T X)]``) and Weyl's inequality on
  ``X^T A X - diag(w)`` give

      |lambda_i(A + D) - w_i| <= (rho + |w_i| f) / (1 - f) + extra,

  ``rho >= ||X^T A X - diag(w)||_F`` and ``f >= ||X^T X - I||_F``, both computed in float64
  together with an a-priori bound of their own rounding errors (``|fl(A B) - A B| <=
  gamma_k |A| |B|`` entrywise, ``gamma_k = k u / (1 - k u)``, any summation order, so BLAS
  included). The eigenvalues are matched in descending order (both theorems preserve it).
* :func:`orthogonal` : the seeded random orthogonal matrix of :mod:`verify.instances` (the
  same Gaussian draw, Q factor with a positive diagonal of R) from LAPACK's QR, with the bound
  ``f >= ||Q^T Q - I||_2``. The exact matrix an instance means is the orthogonal polar factor
  ``P`` of the computed ``Q``: ``||Q - P||_2 <= f``.

Assumes IEEE binary64 with round to nearest (numpy's default) and no underflow in the
products (entries are refused above 1e100; a radius is inflated by the smallest normal
number times the dimension to cover gradual underflow).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["U", "blas_threads", "gamma", "up", "frobenius_bound", "product_error", "orthogonal",
           "Orthogonal", "eig_enclosure", "Enclosure", "sym_product", "sym_product2", "polar_error",
           "exact_product", "diag_minus_lowrank_norm", "arb_eig_radii",
           "spectral_norm_bound"]

#: unit roundoff of binary64, round to nearest
U = 2.0**-53


def blas_threads():
    """A context in which LAPACK/BLAS use ``DMF_VERIFY_BLAS_THREADS`` threads (default 1).

    On the shared 2-core machines of this project OpenBLAS's second thread spin-waits
    against other processes: a 1000 x 1000 eigh measured 0.3 s on one thread and 1 to 9 s
    on two under load (benchmarks/bench_scale.py prints both)."""
    import contextlib
    import os

    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # optional at run time: the results do not depend on it
        return contextlib.nullcontext()
    return threadpool_limits(limits=int(os.environ.get("DMF_VERIFY_BLAS_THREADS", "1")),
                             user_api="blas")
_TINY = np.finfo(float).tiny


def gamma(k: int) -> float:
    """gamma_k = k u / (1 - k u), rounded up."""
    ku = k * U
    return up(ku / (1 - ku))


def up(x: float, ops: int = 4) -> float:
    """``x`` (a nonnegative float computed with at most ``ops`` roundings) pushed above the
    exact value it approximates."""
    return float(x) * (1 + (ops + 1) * 2 * U) + _TINY


def frobenius_bound(M: np.ndarray) -> float:
    """An upper bound of ``||M||_F`` for the float array M (the sum of squares has relative
    error <= gamma_(size+1))."""
    s = float(np.sum(M * M))
    return up(np.sqrt(s * (1 + gamma(M.size + 2))), 2)


def product_error(A: np.ndarray, B: np.ndarray) -> float:
    """An upper bound of ``||fl(A B) - A B||_F``: gamma_k || |A| |B| ||_F <= gamma_k ||A||_F
    ||B||_F (k the inner dimension; Frobenius norms are submultiplicative and ignore signs),
    so no product of absolute values is formed."""
    return up(gamma(A.shape[1]) * frobenius_bound(A) * frobenius_bound(B))


def _split_rows(M: np.ndarray, c: int):
    """M = M1 + R exactly, M1's entries in row i integer multiples of 2^(e_i + c - 52) with
    |M1_ij| <= 2^e_i (e_i = ceil(log2 max_j |M_ij|)): fl(fl(sigma + x) - sigma) with
    sigma = 2^(e_i + c) (Rump, Ogita, Oishi: ExtractScalar)."""
    mu = np.max(np.abs(M), axis=1)
    e = np.ceil(np.log2(np.where(mu > 0, mu, 1.0)))
    sigma = np.ldexp(1.0, (e + c).astype(int))[:, None]
    M1 = (M + sigma) - sigma
    return M1, M - M1


def exact_product(A: np.ndarray, B: np.ndarray) -> tuple[np.ndarray, float]:
    """``A @ B`` in float64 with an error bound far below the a-priori gamma_k one:
    ``(C, err)`` with ``||C - A B||_F <= err``.

    Ozaki's scheme: the rows of A and the columns of B are split twice into parts whose
    entries carry at most 52 - c significant bits relative to the row's (column's) scale, c
    chosen so that a dot product of k such parts is an integer multiple of one unit below
    2^53: each of the four products of the leading parts is then computed **exactly** by any
    BLAS (every partial sum is representable, whatever the order or FMA). The remainders
    (below 2^-42 of the scale) go through ordinary products with the gamma_k bound; the six
    terms are added in float64, with gamma_6 times the sum of their absolute values. Falls
    back to the gamma_k bound when a scale is below 2^-900 (the units would underflow)."""
    k = A.shape[1]
    c = int(math.ceil((53 + math.log2(max(k, 2))) / 2)) + 1
    sa = np.max(np.abs(A)) if A.size else 0.0
    sb = np.max(np.abs(B)) if B.size else 0.0
    rows_small = np.max(np.abs(A), axis=1)
    cols_small = np.max(np.abs(B), axis=0)
    if (sa == 0 or sb == 0 or np.any((rows_small > 0) & (rows_small < 2.0**-800))
            or np.any((cols_small > 0) & (cols_small < 2.0**-800))):
        C = A @ B
        return C, product_error(A, B)
    A1, Ar = _split_rows(A, c)
    A2, A3 = _split_rows(Ar, c)
    B1t, Brt = _split_rows(B.T, c)
    B2t, B3t = _split_rows(Brt, c)
    B1, B2, B3 = B1t.T, B2t.T, B3t.T
    A12 = A - A3  # = A1 + A2 exactly (at most 2 (52 - c) + 1 < 53 bits)
    terms = [A1 @ B1, A1 @ B2, A2 @ B1, A2 @ B2, A3 @ B, A12 @ B3]
    C = terms[0] + terms[1] + terms[2] + terms[3] + terms[4] + terms[5]
    absum = np.abs(terms[0]) + np.abs(terms[1]) + np.abs(terms[2]) + np.abs(terms[3]) + \
        np.abs(terms[4]) + np.abs(terms[5])
    err = gamma(8) * frobenius_bound(absum)
    err += product_error(A3, B) + product_error(A12, B3)
    return C, up(err)


@dataclass(frozen=True, eq=False)
class Orthogonal:
    """A computed orthogonal matrix ``Q`` (float64) and ``defect`` >= ||Q^T Q - I||_2 (so the
    exact orthogonal polar factor P of Q has ||Q - P||_2 <= defect)."""

    Q: np.ndarray
    defect: float


def _defect(Q: np.ndarray, exact: bool = True) -> float:
    """An upper bound of ||Q^T Q - I||_F (``exact``: the Gram matrix by
    :func:`exact_product`, about n u; else the a-priori gamma_n ||Q||_F^2, about n^2 u)."""
    n = Q.shape[1]
    if not exact:
        F = Q.T @ Q - np.eye(n)
        return up(frobenius_bound(F) + product_error(Q.T, Q) + 2 * U * np.sqrt(n))
    G, err = exact_product(Q.T, Q)
    F = G - np.eye(n)  # the subtraction of 1 on the diagonal rounds by <= u
    return up(frobenius_bound(F) + err + 2 * U * np.sqrt(n))


def orthogonal(rng: np.random.Generator, n: int) -> Orthogonal:
    """The seeded random orthogonal matrix of :func:`verify.instances.random_orthogonal` in
    float64: the Q factor (positive diagonal of R) of the same draw ``rng.standard_normal((n,
    n))``, whose columns are the Gaussian vectors that the mpmath Gram-Schmidt
    orthonormalizes. The two agree to about 1e-15 cond(G); the float64 path's instance is
    the polar factor of this Q (:class:`Orthogonal`)."""
    G = rng.standard_normal((n, n))
    Q, R = np.linalg.qr(G)
    sign = np.sign(np.diag(R))
    sign[sign == 0] = 1.0
    Q = Q * sign
    return Orthogonal(Q=Q, defect=_defect(Q))


def sym_product(Q: np.ndarray, d: np.ndarray) -> tuple[np.ndarray, float]:
    """``Q diag(d) Q^T`` in float64, exactly symmetric (upper triangle mirrored), and an upper
    bound of ``||result - Q diag(d) Q^T||_2`` (exact product of the float inputs)."""
    return sym_product2([Q], [d])


def sym_product2(Qs, ds) -> tuple[np.ndarray, float]:
    """``sum_k Q_k diag(d_k) Q_k^T`` as one exact product ``[Q_1 D_1, ...] [Q_1, ...]^T``
    (:func:`exact_product`), exactly symmetric, and an upper bound of its distance in
    ||.||_2 to the exact sum for the float inputs."""
    QD = np.hstack([Q * d for Q, d in zip(Qs, ds)])
    Qa = np.hstack(Qs)
    M, err = exact_product(QD, Qa.T)
    M = np.triu(M) + np.triu(M, 1).T  # each triangle within err of the exact product
    # the scaling Q * d rounds each entry by at most u |Q_ij d_j|: ||dQD Q^T|| <= u ||QD||_F ||Q||_F
    err = 2 * err + 2 * U * frobenius_bound(QD) * frobenius_bound(Qa)
    return M, up(err)


def polar_error(defect: float, scale: float) -> float:
    """||P S P^T - Q S Q^T||_2 <= defect (2 + defect) ||S||_2 for the polar factor P of Q
    (||Q - P||_2 <= defect, ||Q||_2 <= 1 + defect)."""
    return up(defect * (2 + defect) * scale)


@dataclass(frozen=True, eq=False)
class Enclosure:
    """Eigenvalues ``w`` (descending) and eigenvectors ``X`` (columns) of a symmetric matrix,
    and ``rad``: the exact i-th largest eigenvalue lies in ``[w_i - rad_i, w_i + rad_i]``."""

    w: np.ndarray
    X: np.ndarray | None
    rad: np.ndarray

    @property
    def max_rad(self) -> float:
        return float(np.max(self.rad)) if self.rad.size else 0.0


def eig_enclosure(A: np.ndarray, extra: float = 0.0, *, vectors: bool = True) -> Enclosure:
    """numpy ``eigh`` of the exactly symmetric float64 ``A`` with a rigorous radius per
    eigenvalue (module docstring); ``extra`` >= ||D||_2 for the exact matrix ``A + D``.
    ``vectors=False`` still computes the eigenvectors (they are needed for the bound) but
    does not return them."""
    n = A.shape[0]
    w, X = np.linalg.eigh(A)
    w, X = w[::-1].copy(), X[:, ::-1].copy()
    f = _defect(X, exact=False)  # only the global enclosure (isolation) uses it
    if not f < 0.5:
        raise ValueError("eigh returned eigenvectors too far from orthonormal (defect "
                         f"{f:.3g}): the matrix is too badly scaled for float64")
    AX, e1 = exact_product(A, X)
    G = X.T @ AX
    R = G - np.diag(w)
    # ||fl(X^T AX_f) - X^T A X||_F <= ||X||_2 ||AX_f - AX||_F + g ||X||_F ||AX_f||_F; the
    # subtraction of diag(w) rounds by <= u |G_ii|
    g = gamma(n)
    xf = frobenius_bound(X)
    rho = up(frobenius_bound(R) + (1 + f) * e1 + g * xf * frobenius_bound(AX)
             + 2 * U * frobenius_bound(np.diag(G)))
    rad = (rho + np.abs(w) * f) / (1 - f)
    rad = rad * (1 + 8 * U) + extra * (1 + 4 * U) + n * _TINY
    rad = np.minimum(rad, _residual_radii(A, AX, X, w, rad, extra, e1))
    return Enclosure(w=w, X=X if vectors else None, rad=rad)


def _residual_radii(A, AX, X, w, rad, extra, e1):
    """Sharper radii for isolated eigenvalues. The residual theorem puts an eigenvalue of
    A + D within ``r_i = ||(A + D) x_i - w_i x_i|| / ||x_i||`` of ``w_i``; when that interval
    meets none of the global enclosures of the other eigenvalues (``rad``: the i-th largest
    lies in ``[w_j - rad_j, w_j + rad_j]``), the eigenvalue it holds is the i-th largest.
    ``||fl(A x) - A x|| <= g ||A||_F ||x||``, the scaling by w_i and the subtraction round by
    at most 2u |w_i| |x_i| + u |residual|, ||fl(A X) - A X||_F <= e1 (:func:`exact_product`:
    every column within e1), and ||D|| <= extra."""
    n = A.shape[0]
    Rm = AX - X * w
    rn = np.sqrt(np.sum(Rm * Rm, axis=0) * (1 + gamma(n + 2)))
    xn = np.sqrt(np.sum(X * X, axis=0) * (1 + gamma(n + 2)))
    xlo = np.sqrt(np.sum(X * X, axis=0)) * (1 - gamma(n + 2))
    r = (rn * (1 + 2 * U) + e1 + 3 * U * np.abs(w) * xn) / np.maximum(xlo, _TINY)
    r = r * (1 + 8 * U) + extra * (1 + 4 * U) + n * _TINY
    lo_ends = w - rad  # the i-th largest eigenvalue is >= lo_ends[i]
    hi_ends = w + rad
    # every j < i (larger eigenvalues) must lie above the interval, every j > i below it
    above = np.minimum.accumulate(lo_ends)  # min over j <= i of w_j - rad_j
    below = np.maximum.accumulate(hi_ends[::-1])[::-1]  # max over j >= i of w_j + rad_j
    out = rad.copy()
    ok = np.ones(n, dtype=bool)
    ok[1:] &= above[:-1] > w[1:] + r[1:]
    ok[:-1] &= below[1:] < w[:-1] - r[:-1]
    out[ok] = np.minimum(rad[ok], r[ok])
    return out


def spectral_norm_bound(A: np.ndarray, extra: float = 0.0) -> tuple[float, float]:
    """``(value, radius)``: ``||A + D||_2`` (``||D||_2 <= extra``) lies within radius of value
    (:func:`eig_enclosure` of the largest eigenvalues in magnitude)."""
    enc = eig_enclosure(A, extra, vectors=False)
    i = 0 if abs(enc.w[0]) >= abs(enc.w[-1]) else len(enc.w) - 1
    return float(abs(enc.w[i])), float(max(enc.rad[0], enc.rad[-1]))


def diag_minus_lowrank_norm(p: np.ndarray, Z: np.ndarray) -> float:
    """``||diag(p) - Z Z^T||_2`` for an n x r matrix Z (r small) in O(n r^2) per step of a
    bisection, without an n x n eigendecomposition.

    Haynsworth's inertia formula on the bordered matrix ``[[D - l, Z], [Z^T, I]]`` gives the
    number of eigenvalues of ``M = D - Z Z^T`` above l as ``#{p_i > l} + #pos(S(l)) - r`` and
    below l as ``#{p_i < l} + #neg(S(l))``, ``S(l) = I - Z^T (D - l)^(-1) Z``; the largest and
    the smallest eigenvalue of M lie in ``[max p - ||Z||_F^2, max p]`` and
    ``[min p - ||Z||_F^2, min p]`` (M <= D, Weyl) and are found by bisection on these counts
    to float64 accuracy (a float64 computation, not an enclosure)."""
    p = np.asarray(p, dtype=float)
    r = Z.shape[1]
    I = np.eye(r)
    zz = float(np.sum(Z * Z))

    def S(lam):
        d = p - lam
        if np.any(d == 0):
            lam = np.nextafter(lam, np.inf)
            d = p - lam
        return d, np.linalg.eigvalsh(I - (Z.T / d) @ Z)

    def above(lam):
        d, ev = S(lam)
        return int((d > 0).sum() + (ev > 0).sum() - r) >= 1

    def below(lam):
        d, ev = S(lam)
        return int((d < 0).sum() + (ev < 0).sum()) >= 1

    def bisect(lo, hi, test_lo_side):
        # invariant: the eigenvalue lies in [lo, hi]
        for _ in range(200):
            mid = 0.5 * (lo + hi)
            if not lo < mid < hi:
                break
            if test_lo_side(mid):
                lo = mid
            else:
                hi = mid
        return 0.5 * (lo + hi)

    pmax, pmin = float(p.max()), float(p.min())
    lam1 = bisect(pmax - zz - abs(pmax) * 1e-15, pmax, above)
    lamn = bisect(pmin - zz - abs(pmin) * 1e-15, pmin, lambda x: not below(x))
    return max(abs(lam1), abs(lamn))


def arb_eig_radii(M, values, dps: int):
    """Rigorous radii, at ``dps`` digits, for ``values`` (mpf, descending) computed as the
    eigenvalues of the symmetric mpmath matrix ``M``: python-flint's ``acb_mat.eig``
    encloses every eigenvalue of M (exactly as given) in a ball at ``dps_to_prec(dps)``
    bits; the balls, in descending order of their centres, are matched with ``values``, and
    radius_i = |value_i - centre_i| + ball radius_i (+ the imaginary part's). Clusters that
    flint cannot isolate are handled with ``multiple=True``. None when flint fails."""
    import flint
    import mpmath
    from mpmath.libmp import dps_to_prec

    from verify.fullgd import _arb_matrix, from_arb

    n = M.rows
    with mpmath.workdps(dps), flint.ctx.workprec(dps_to_prec(dps) + 10):
        A = flint.acb_mat(_arb_matrix(M))
        balls = None
        for kw in ({}, {"multiple": True}):
            try:
                balls = A.eig(**kw)
                break
            except ValueError:
                continue
        if balls is None or len(balls) != n:
            return None
        balls = sorted(balls, key=lambda z: float(z.real.mid()), reverse=True)
        out = []
        for v, z in zip(values, balls):
            re, im = z.real, z.imag
            if not (re.is_finite() and im.is_finite()):
                return None
            c = from_arb(re)
            rad = abs(mpmath.mpf(v) - c) + from_arb(re.rad()) + abs(from_arb(im)) + from_arb(im.rad())
            out.append(float(rad) * (1 + 1e-12) + 1e-300)
        return tuple(out)
