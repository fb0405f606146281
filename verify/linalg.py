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

from dataclasses import dataclass

import numpy as np

__all__ = ["U", "gamma", "up", "frobenius_bound", "product_error", "orthogonal",
           "Orthogonal", "eig_enclosure", "Enclosure", "sym_product", "polar_error",
           "spectral_norm_bound"]

#: unit roundoff of binary64, round to nearest
U = 2.0**-53
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


@dataclass(frozen=True, eq=False)
class Orthogonal:
    """A computed orthogonal matrix ``Q`` (float64) and ``defect`` >= ||Q^T Q - I||_2 (so the
    exact orthogonal polar factor P of Q has ||Q - P||_2 <= defect)."""

    Q: np.ndarray
    defect: float


def _defect(Q: np.ndarray) -> float:
    n = Q.shape[1]
    F = Q.T @ Q - np.eye(n)  # the subtraction of 1 on the diagonal rounds by <= u
    return up(frobenius_bound(F) + product_error(Q.T, Q) + 2 * U * np.sqrt(n))


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
    QD = Q * d
    M = QD @ Q.T
    M = np.triu(M) + np.triu(M, 1).T
    err = product_error(QD, Q.T)
    # the scaling Q * d rounds each entry by at most u |Q_ij d_j|: ||dQD Q^T|| <= u ||QD||_F ||Q||_F
    err += up(2 * U * frobenius_bound(QD) * frobenius_bound(Q))
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
    f = _defect(X)
    if not f < 0.5:
        raise ValueError("eigh returned eigenvectors too far from orthonormal (defect "
                         f"{f:.3g}): the matrix is too badly scaled for float64")
    AX = A @ X
    G = X.T @ AX
    R = G - np.diag(w)
    # ||fl(X^T fl(AX)) - X^T A X||_F <= ||X||_F ||fl(AX) - AX||_F + ||fl(X^T fl(AX)) - X^T fl(AX)||_F
    # <= g ||X||_F^2 ||A||_F + g ||X||_F ||fl(AX)||_F; the subtraction of diag(w) rounds by
    # <= u |G_ii|
    g = gamma(n)
    xf, af = frobenius_bound(X), frobenius_bound(A)
    rho = up(frobenius_bound(R) + g * xf * xf * af + g * xf * frobenius_bound(AX)
             + 2 * U * frobenius_bound(np.diag(G)))
    rad = (rho + np.abs(w) * f) / (1 - f)
    rad = rad * (1 + 8 * U) + extra * (1 + 4 * U) + n * _TINY
    return Enclosure(w=w, X=X if vectors else None, rad=rad)


def spectral_norm_bound(A: np.ndarray, extra: float = 0.0) -> tuple[float, float]:
    """``(value, radius)``: ``||A + D||_2`` (``||D||_2 <= extra``) lies within radius of value
    (:func:`eig_enclosure` of the largest eigenvalues in magnitude)."""
    enc = eig_enclosure(A, extra, vectors=False)
    i = 0 if abs(enc.w[0]) >= abs(enc.w[-1]) else len(enc.w) - 1
    return float(abs(enc.w[i])), float(max(enc.rad[0], enc.rad[-1]))
