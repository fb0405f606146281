"""Certified volume stage of the reduction claim R1 (see :mod:`verify.volume`).

Instances are R1's instance dicts (verify/specs/reduction.py: n, depth, spectrum, seed,
noise, alpha, eta_fraction, steps; the same raw ranges and builder), so ``dmf-verify check
R1 --instance`` re-runs any of them. What is certified for an instance is R1 for the exact
binary numbers below, which the dict determines:

* ``Y``: the float64 matrix :func:`observed_f64` builds from (spectrum, seed, noise) with
  the formulas of verify/instances.py (W = V diag(s) V^T with V the Gram-Schmidt (QR,
  positive diagonal of R) factor of ``default_rng(seed)``'s Gaussian draws, E from
  ``default_rng(seed + 1)`` as ``random_perturbation``), in float64 and mirrored, so Y is
  *exactly* symmetric. The HP check builds the same Y at 50 digits: the two differ by about
  1e-16 relative (float64 rounding), and R1 holds for every symmetric Y.
* ``eta``: eta_fraction x P1's step limit (verify.checks.reduction.step_size_of) evaluated
  in float64 on numpy's eigenvalues of that Y, an exact float. R1 holds for every eta > 0:
  the limit only keeps the runs in the range the per-instance check uses.
* ``alpha``, ``steps``, ``depth``: as given (alpha a float, exact).

Decision (python-flint ``arb_mat`` balls at 128 bits, then 256 and 512 when a comparison is
not decided). Full gradient descent on the N factors from ``W_j(0) = alpha I`` (the update
of verify/fullgd.py: ``W_j <- W_j - eta (W_N..W_{j+1})^T (P - Y) (W_{j-1}..W_1)^T``, all
factors at once) runs in ball arithmetic next to the matrix form of the reduced dynamics

    X(k+1) = phi_Y(X(k)) = X + eta X^(N-1) (Y - X^N),   X(0) = alpha I,

evaluated by the claim's ball evaluator ``phi_ball`` (bounds/enclosures.py, the scalar map
of ``phi`` written for balls and ball matrices). Why this is R1's right-hand side: X(0) is
a polynomial in Y, and if X(k) = p_k(Y) then X(k+1) = p_(k+1)(Y) with
``p_(k+1)(y) = phi_y(p_k(y))``. With ``Y = Q diag(t) Q^T`` (Q orthogonal), ``p(Y) = Q
diag(p(t_i)) Q^T`` for every polynomial p, so ``X(k) = Q diag(x_i(k)) Q^T`` with
``x_i(k) = p_k(t_i)``, i.e. ``x_i(0) = alpha``, ``x_i(k+1) = phi_(t_i)(x_i(k))``: exactly the
reduced dynamics of R1, and ``X(k)^N = Q diag(x_i(k)^N) Q^T``. No eigenvector is needed.

At every step k = 0..steps, every entry of ``W_j(k) - X(k)`` (j = 1..N) and of
``P(k) - X(k)^N`` must lie in [-tol, tol], tol = :data:`TOL` x max(1, ||Y||_max) rounded up
to a power of two (TOL = 2^-93 ~ 1.0e-28: the HP check's relative tolerance 10^-(dps-10) at
the 38 digits a 128-bit ball carries). PASS: every ball of those differences lies inside
the box, so ``|mismatch| <= tol`` is proved; FAIL: some ball lies outside [-tol, tol]
(``|mismatch| > tol`` proved: R1 says the mismatch is 0). Otherwise the next precision.

Eigen form, once per instance at the last step: ``acb_mat.eig`` encloses the eigenvalues
and right/left eigenvectors R, L of Y (``Y = R diag(t) L``, L = R^-1, and then ``Q diag(x)
Q^T = R diag(x) L`` for any scaling of the eigenvectors); the scalar ``phi_ball`` iterated
from alpha on each eigenvalue ball gives x_i(steps), and ``W_j - R diag(x_i) L`` and
``P - R diag(x_i^N) L`` must lie in the box too. When eig cannot isolate the eigenvalues
(a multiple eigenvalue) the eigen form is skipped (noted); a proved mismatch there is a FAIL.

>>> from verify.volume import run_volume
>>> r = run_volume("R1", 10, seed=1)
>>> r.counts["PASS"], r.certified
(10, 10)
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
from flint import acb_mat, arb, arb_mat, ctx as flint_ctx

from verify.volume.common import ESCALATE, Decision, VolumeSpec

__all__ = ["VOLUME", "draw_r1", "decide_r1", "observed_f64", "certify_r1", "R1Certificate", "TOL"]

TOL_EXP = -93
TOL = 2.0**TOL_EXP
# the proved bound reported (slack = 1 - bound/tol): the smallest box tol x 2^-j,
# j = 40..0, holding every difference checked
_LADDER = tuple(range(TOL_EXP - 40, TOL_EXP + 1))
# a box of radius r (1 - 2^-20): arb rounds a radius up by at most 2^-29 relative, so the
# box stays inside [-r, r]
_INNER = 1 - 2.0**-20


# ---------------------------------------------------------------------------------------
# draws


def draw_r1(rng, count):
    """R1 instances from the spec's raw ranges (verify/specs/reduction.py: n 1..4, depth
    2..5, spectrum 4 floats in [0, 2], seed, noise in [0, 0.3], alpha in [0.05, 1],
    eta_fraction in [0.05, 0.95], steps 1..60) through the spec's builder."""
    from verify.specs import SPECS

    spec = SPECS["R1"]
    cols = {}
    for p in spec.params:
        if p.kind == "int":
            cols[p.name] = rng.integers(int(p.lo), int(p.hi) + 1, count)
        elif p.kind == "floats":
            cols[p.name] = rng.uniform(p.lo, p.hi, (count, p.size))
        else:  # "float" (R1 has no logfloat)
            cols[p.name] = rng.uniform(p.lo, p.hi, count)
    out = []
    for i in range(count):
        raw = {k: ([float(x) for x in v[i]] if v.ndim == 2 else
                   int(v[i]) if v.dtype.kind == "i" else float(v[i])) for k, v in cols.items()}
        out.append(spec.builder(**raw))
    return out


def _orthonormal(G):
    """verify.instances._orthonormalize in float64, for a stack of matrices: the Q of
    G = QR with R's diagonal positive (Gram-Schmidt on G's columns)."""
    q, rr = np.linalg.qr(G)
    d = np.diagonal(rr, axis1=-2, axis2=-1)
    return q * np.where(d < 0, -1.0, 1.0)[..., None, :]


def observed_f64(insts):
    """[(Y, eta)] per instance: Y = W + E in float64, exactly symmetric, and eta =
    eta_fraction x P1's step limit on numpy's eigenvalues of Y, a float (module docstring).
    The draws are those of verify/instances.py (``psd_target``, ``random_perturbation``);
    the linear algebra runs on the stack of the instances of one size n."""
    out = [None] * len(insts)
    by_n = {}
    for i, inst in enumerate(insts):
        by_n.setdefault(inst["n"], []).append(i)
    for n, idx in by_n.items():
        G1, G2, lam = [], [], []
        for i in idx:
            inst = insts[i]
            G1.append(np.random.default_rng(inst["seed"]).standard_normal((n, n)))
            rng = np.random.default_rng(inst["seed"] + 1)
            G2.append(rng.standard_normal((n, n)))
            u = rng.uniform(-1.0, 1.0, n)
            sign = 1.0 if rng.integers(0, 2) == 1 else -1.0
            j = int(np.argmax(np.abs(u)))
            m = abs(u[j])
            lv = u / m if m != 0 else np.zeros(n)
            lv[j] = sign
            lam.append(float(inst["noise"]) * lv)  # noise 0: E = 0 exactly
        s = np.array([sorted(insts[i]["spectrum"], reverse=True) for i in idx], dtype=np.float64)
        V, Q = _orthonormal(np.array(G1)), _orthonormal(np.array(G2))
        W = (V * s[:, None, :]) @ np.swapaxes(V, 1, 2)
        Y = W + (Q * np.array(lam)[:, None, :]) @ np.swapaxes(Q, 1, 2)
        Y = np.triu(Y) + np.swapaxes(np.triu(Y, 1), 1, 2)  # exactly symmetric
        t = np.linalg.eigvalsh(Y)
        for j, i in enumerate(idx):
            N, a = insts[i]["depth"], float(insts[i]["alpha"])
            aN = a**N
            limit = 1 / (N * max(t[j, -1], aN) ** (2 - 2 / N))
            if t[j, 0] <= 0:
                limit = min(limit, 1 / (a ** (N - 2) * (aN - t[j, 0])))
            out[i] = (Y[j], float(insts[i]["eta_fraction"]) * limit)
    return out


# ---------------------------------------------------------------------------------------
# the certificate


@dataclass(frozen=True)
class R1Certificate:
    """``matrix``: "in" (every difference inside the box at every step), "out" (a ball
    outside [-tol, tol]: ``step``, ``what``) or "open"; ``eigen``: the same for the eigen
    form at the last step, or "skipped". ``bound``: a proved bound on every |entry| checked
    (a power of two times the scale, at most tol; None unless "in"). ``factors``,
    ``product``: the balls of W_j(steps) and P(steps) (for tests)."""

    prec: int
    matrix: str
    eigen: str
    tol: float
    bound: float | None = None
    step: int | None = None
    what: str = ""
    factors: tuple = ()
    product: arb_mat | None = None


@functools.lru_cache(maxsize=None)
def _box(n, radius):
    """The n x n ball matrix [0 +/- radius] (never modified: arb_mat operations return new
    matrices), shared by the calls of one size and radius."""
    return arb_mat([[arb(0, radius)] * n for _ in range(n)])


def _identity(n):
    M = arb_mat(n, n)
    for i in range(n):
        M[i, i] = 1
    return M


def certify_r1(Y, eta, alpha, N, steps, prec, *, eigen=True) -> R1Certificate:
    """Full GD on the N factors and the matrix form of the reduced dynamics, in ``prec``-bit
    ball arithmetic, compared at every step (module docstring). ``Y``: exactly symmetric
    float array; ``eta``, ``alpha``: floats (exact)."""
    from verify.checks.verdict import evaluators

    phi = evaluators("R1")["phi_ball"]
    n = Y.shape[0]
    scale = 2.0 ** math.ceil(math.log2(max(1.0, float(np.max(np.abs(Y))))))
    tol = TOL * scale
    with flint_ctx.workprec(prec):
        inner = [_box(n, 2.0**e * scale * _INNER) for e in _LADDER]
        outer = _box(n, tol)
        Yb = arb_mat(Y.tolist())  # float entries: exact
        E, a = arb(eta), arb(alpha)
        X = _identity(n) * a
        F = [X] * N
        level = 0
        for k in range(steps + 1):
            pre = [None, F[0]]  # pre[j] = W_j ... W_1
            for j in range(1, N):
                pre.append(F[j] * pre[j])
            P = pre[N]
            diffs = [F[j] - X for j in range(N)] + [P - X ** N]
            for j, D in enumerate(diffs):
                while level < len(inner) and not inner[level].contains(D):
                    level += 1
                if level == len(inner):
                    what = "P(k) - X(k)^N" if j == N else f"W_{j + 1}(k) - X(k)"
                    return R1Certificate(prec, "open" if outer.overlaps(D) else "out", "open", tol,
                                         step=k, what=what)
            if k == steps:
                break
            # dL/dW_j = (W_N ... W_{j+1})^T (P - Y) (W_{j-1} ... W_1)^T (1-based j), as
            # B_j = W_{j+1}^T B_{j+1}, B_N = eta (P - Y), times pre_{j-1}^T
            B = (P - Yb) * E
            new = [None] * N
            for j in range(N - 1, -1, -1):
                if j < N - 1:
                    B = F[j + 1].transpose() * B
                new[j] = F[j] - (B * pre[j].transpose() if j > 0 else B)
            F = new
            X = phi(X, Yb, E, N)
        bound = 2.0 ** _LADDER[level] * scale
        eig = _eigen_form(Yb, E, a, N, steps, F, P, outer, phi) if eigen else "skipped"
        return R1Certificate(prec, "in", eig, tol, bound, factors=tuple(F), product=P)


def _eigen_form(Yb, E, a, N, steps, F, P, outer, phi):
    """"in" / "out" / "open" / "skipped" for W_j(steps) = R diag(x_i) L and P = R diag(x_i^N) L.
    x_i: phi_ball iterated from alpha on the eigenvalue balls t_i, all i at once as the
    diagonal matrices diag(x_i), diag(t_i) (a product of diagonal ball matrices is the
    diagonal of the entrywise products: the scalar map on each eigenvalue)."""
    n = Yb.nrows()
    try:
        ev, L, R = acb_mat(Yb).eig(left=True, right=True)
    except ValueError:  # eigenvalues not isolated (a multiple eigenvalue)
        return "skipped"
    T = arb_mat(n, n)
    for i in range(n):
        T[i, i] = ev[i].real  # Y's eigenvalues are real: the real part of each ball holds one
    D = _identity(n) * a
    for _ in range(steps):
        D = phi(D, T, E, N)
    M, MN = R * acb_mat(D) * L, R * acb_mat(D ** N) * L
    state = "in"
    for diff in [acb_mat(Fj) - M for Fj in F] + [acb_mat(P) - MN]:
        re = diff.real
        if not outer.overlaps(re):
            return "out"
        if not outer.contains(re):
            state = "open"
    return state


# ---------------------------------------------------------------------------------------
# decisions


def decide_r1(insts):
    """The module docstring's decision for each instance (128, then 256 and 512 bits)."""
    return [_decide_one(Y, eta, inst) for inst, (Y, eta) in zip(insts, observed_f64(insts))]


def _decide_one(Y, eta, inst):
    N, K, alpha = inst["depth"], inst["steps"], inst["alpha"]
    for prec in ESCALATE:
        c = certify_r1(Y, eta, alpha, N, K, prec)
        method = f"arb-{prec}"
        if c.matrix == "out":
            return Decision("FAIL", True, -1.0, method=method,
                            note=f"{c.what} outside [-tol, tol] at k = {c.step} (tol {c.tol:.3g})")
        if c.matrix == "open":
            continue
        if c.eigen == "out":
            return Decision("FAIL", True, -1.0, method=method,
                            note=f"the eigen form R diag(x_i(k)) L differs from W_j(k) by more than "
                                 f"tol {c.tol:.3g} at k = {K}")
        if c.eigen == "open" and prec != ESCALATE[-1]:
            continue
        eig_note = {"in": "eigen form checked", "open": "eigen form not decided at 512 bits",
                    "skipped": "eigen form skipped (eigenvalues not isolated)"}[c.eigen]
        return Decision("PASS", True, 1 - c.bound / c.tol, method=method,
                        note=f"|W_j(k) - X(k)|, |P(k) - X(k)^N| <= {c.bound:.3g} for k <= {K} "
                             f"(tol {c.tol:.3g}); {eig_note}")
    return Decision("UNDECIDED", False, method="undecided",
                    note="a difference straddles tol at 512 bits")


VOLUME = {"R1": VolumeSpec(draw_r1, decide_r1)}
