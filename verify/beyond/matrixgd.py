"""Full-matrix optimization of deep matrix factorization outside the paper's reduction.

Loss ``L(W_1, ..., W_N) = 1/2 ||W_N ... W_1 - Y||_F^2`` for n x n factors, depth N >= 2, for
any real square ``Y`` (symmetric or not, PSD or not) and any initial factors. The gradient
of factor j (1-based) is::

    G_j = (W_N ... W_{j+1})^T (P - Y) (W_{j-1} ... W_1)^T,      P = W_N ... W_1,

and every factor is updated at once from the same state (simultaneous updates, as in the
paper and :mod:`verify.fullgd`). Optimizers:

* ``"gd"``: ``W_j <- W_j - lr * G_j``;
* ``"adam"`` (Kingma & Ba, with bias correction; entrywise): at update t = 1, 2, ...::

      m <- beta1 m + (1 - beta1) G,    v <- beta2 v + (1 - beta2) G*G,
      W <- W - lr * (m / (1 - beta1^t)) / (sqrt(v / (1 - beta2^t)) + adam_eps),

  with m = v = 0 before the first update (so the first update is
  ``lr * G / (|G| + adam_eps)`` entrywise).

What is recorded is streamed: at every recorded step (every ``every``-th step and the last
one) the singular values of P (all, or the ``top`` largest) and the loss; the state is the N
factors, their partial products and Adam's moments, O(N n^2) memory whatever the number of
steps. A step at which an entry of a factor or of P is non-finite or exceeds
``divergence_bound`` in magnitude ends the run: status ``"diverged"``, ``diverged_step`` that
step, ``final_step`` the one before (the last sane state, the same convention as
:class:`verify.fullgd.FullRun`).

Why not :func:`verify.fullgd.simulate_full` (``arithmetic="float64"``): its update is fixed
to ``W - eta G`` (no optimizer state) and its float64 path keeps a copy of P per checkpoint;
Adam needs moments next to every factor. Its GD is the same iteration, and the tests check
that this engine's GD agrees with it (and with its arb path) to rounding.

``arithmetic="mpmath"`` runs the same code on numpy arrays of mpmath numbers inside
``mpmath.workdps(dps)`` (matrix products summed at that precision, singular values from
``mpmath.svd_r``): a spot check for small n, about 10^4 times slower than float64. The
inputs are converted exactly (a float64 is an exact mpf), so the two runs differ only by the
rounding of the float64 arithmetic.

>>> import numpy as np
>>> run = run_matrix(np.diag([2.0, 1.0]), identity_init(2, 2, 0.5), lr=0.1, steps=1)
>>> [round(float(s), 10) for s in run.singular_values[-1]]   # x = 0.5 + 0.1*0.5*(t - 0.25)
[0.34515625, 0.28890625]
>>> run.status, run.final_step
('ok', 1)
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

__all__ = ["OPTIMIZERS", "ARITHMETIC", "DIVERGENCE_BOUND", "MatrixRun", "run_matrix",
           "identity_init", "perturbed_identity_init", "gaussian_init", "check_init",
           "reference_levels", "low_rank_interval", "effective_ranks", "rounding_tolerance"]

OPTIMIZERS = ("gd", "adam")
ARITHMETIC = ("float64", "mpmath")
#: an entry of a factor or of the product above this in magnitude (or NaN/inf): divergence
DIVERGENCE_BOUND = 1e50


@dataclass(frozen=True, eq=False)
class MatrixRun:
    """What :func:`run_matrix` recorded.

    ``steps``: the recorded steps (ascending, 0 first); ``singular_values[i]``: the singular
    values of P at ``steps[i]``, descending (``top`` of them if asked; floats, or mpf for
    ``arithmetic="mpmath"``); ``loss[i]`` = 1/2 ||P - Y||_F^2 there. ``status``: "ok" or
    "diverged" (then ``diverged_step`` is the first bad step and nothing from it on is
    recorded); ``final_step``: the last step whose state is recorded and sane; ``factors``:
    (W_1, ..., W_N) at ``final_step`` (numpy arrays)."""

    steps: tuple
    singular_values: tuple
    loss: tuple
    status: str
    diverged_step: int | None
    final_step: int
    factors: tuple
    optimizer: str
    arithmetic: str
    dps: int


def _check_int(x, name, lo):
    if isinstance(x, bool) or not isinstance(x, numbers.Integral) or x < lo:
        raise ValueError(f"{name} must be an integer >= {lo}, got {x!r}")
    return int(x)


def _check_real(x, name, *, lo=None, lo_open=True, hi=None, hi_open=True):
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise ValueError(f"{name} must be a real number, got {x!r}")
    v = float(x)
    if not math.isfinite(v):
        raise ValueError(f"{name} must be finite, got {x!r}")
    if lo is not None and (v <= lo if lo_open else v < lo):
        raise ValueError(f"{name} must be {'>' if lo_open else '>='} {lo}, got {x!r}")
    if hi is not None and (v >= hi if hi_open else v > hi):
        raise ValueError(f"{name} must be {'<' if hi_open else '<='} {hi}, got {x!r}")
    return v


def _square(M, name):
    import numpy as np

    try:
        A = np.array(M, dtype=float)  # a copy: the caller's matrix is never touched
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a real square matrix") from None
    if A.ndim != 2 or A.shape[0] != A.shape[1] or A.shape[0] == 0:
        raise ValueError(f"{name} must be a nonempty square matrix, got shape {A.shape}")
    if not np.all(np.isfinite(A)):
        raise ValueError(f"{name} has a non-finite entry")
    return A


def check_init(init, n, name="init"):
    """``init`` as a list of N >= 2 float64 n x n copies (ValueError naming the problem)."""
    if isinstance(init, (str, bytes)) or not hasattr(init, "__len__"):
        raise ValueError(f"{name} must be a sequence of N >= 2 matrices")
    if len(init) < 2:
        raise ValueError(f"{name} must hold N >= 2 factors, got {len(init)}")
    out = []
    for j, M in enumerate(init):
        A = _square(M, f"{name}[{j}]")
        if A.shape[0] != n:
            raise ValueError(f"{name}[{j}] is {A.shape[0]}x{A.shape[0]}, the target {n}x{n}")
        out.append(A)
    return out


# ------------------------------------------------------------------ initializations


def identity_init(n: int, depth: int, alpha: float) -> list:
    """The paper's start: W_j(0) = alpha I for j = 1..N."""
    import numpy as np

    n, depth = _check_int(n, "n", 1), _check_int(depth, "depth", 2)
    a = _check_real(alpha, "alpha", lo=0)
    return [a * np.eye(n) for _ in range(depth)]


def _gaussians(n, depth, seed, stream):
    import numpy as np

    rng = np.random.default_rng([_check_int(seed, "seed", 0), stream])
    return [rng.standard_normal((n, n)) for _ in range(depth)]


def perturbed_identity_init(n: int, depth: int, alpha: float, sigma: float, *, seed: int) -> list:
    """W_j(0) = alpha (I + sigma G_j), G_j i.i.d. standard Gaussian n x n drawn from
    ``seed`` (the same G_j for every sigma: sigma = 0 is the paper's start exactly)."""
    import numpy as np

    a = _check_real(alpha, "alpha", lo=0)
    s = _check_real(sigma, "sigma", lo=0, lo_open=False)
    return [a * (np.eye(n) + s * G) for G in _gaussians(n, depth, seed, 1)]


def gaussian_init(n: int, depth: int, alpha: float, *, seed: int) -> list:
    """W_j(0) = alpha G_j / sqrt(n), G_j i.i.d. standard Gaussian drawn from ``seed``
    (the G_j are not those of :func:`perturbed_identity_init`)."""
    a = _check_real(alpha, "alpha", lo=0)
    return [a * G / math.sqrt(n) for G in _gaussians(n, depth, seed, 2)]


# ------------------------------------------------------------------ the iteration


class _Float64Ops:
    name = "float64"

    def __init__(self):
        import numpy as np

        self.np = np

    def convert(self, A):
        return self.np.array(A, dtype=float)

    def scalar(self, x):
        return float(x)

    def sqrt(self, A):
        return self.np.sqrt(A)

    def bad(self, A, bound):
        np = self.np
        return not np.all(np.isfinite(A)) or float(np.max(np.abs(A))) > bound

    def svals(self, P):
        return [float(s) for s in self.np.linalg.svd(P, compute_uv=False)]

    def loss(self, R):
        return 0.5 * float(self.np.sum(R * R))

    def out(self, A):
        return A


class _MpmathOps:
    name = "mpmath"

    def __init__(self):
        import mpmath
        import numpy as np

        self.np, self.mp = np, mpmath
        self._sqrt = np.frompyfunc(mpmath.sqrt, 1, 1)

    def convert(self, A):
        A = self.np.asarray(A, dtype=float)  # exact: every float64 is an mpf
        out = self.np.empty(A.shape, dtype=object)
        for idx, x in self.np.ndenumerate(A):
            out[idx] = self.mp.mpf(float(x))
        return out

    def scalar(self, x):
        return self.mp.mpf(float(x))

    def sqrt(self, A):
        return self._sqrt(A)

    def bad(self, A, bound):
        mp = self.mp
        return any(not mp.isfinite(x) or abs(x) > bound for x in A.flat)

    def svals(self, P):
        s = self.mp.svd_r(self.mp.matrix(P.tolist()), compute_uv=False)
        return sorted((s[i] for i in range(s.rows)), reverse=True)

    def loss(self, R):
        return self.mp.fsum(x * x for x in R.flat) / 2

    def out(self, A):
        return self.np.array([[float(x) for x in row] for row in A], dtype=float)


def run_matrix(Y, init, *, lr, steps: int, optimizer: str = "gd", beta1: float = 0.9,
               beta2: float = 0.999, adam_eps: float = 1e-8, every: int = 1, top=None,
               divergence_bound: float = DIVERGENCE_BOUND, arithmetic: str = "float64",
               dps: int = 30, progress=None) -> MatrixRun:
    """Run ``steps`` updates of ``optimizer`` on 1/2 ||W_N...W_1 - Y||_F^2 from ``init``.

    ``Y``: finite real square matrix (any array-like; need not be symmetric); ``init``: the
    N >= 2 initial factors ``(W_1, ..., W_N)`` (``init[0]`` acts first); ``lr > 0`` (GD's
    eta, Adam's step); ``steps >= 0``; Adam's ``beta1, beta2`` in [0, 1) and
    ``adam_eps > 0`` (ignored by GD); ``every >= 1``: record every ``every``-th step (and
    the last); ``top``: keep only the ``top`` largest singular values (None: all);
    ``arithmetic``: "float64" or "mpmath" (at ``dps`` >= 15 digits, for small n);
    ``progress(done, total, label)`` is called about 50 times. ValueError on any invalid
    input; inputs are never modified."""
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {', '.join(OPTIMIZERS)}, got {optimizer!r}")
    if arithmetic not in ARITHMETIC:
        raise ValueError(f"arithmetic must be one of {', '.join(ARITHMETIC)}, got {arithmetic!r}")
    Yf = _square(Y, "Y")
    n = Yf.shape[0]
    F0 = check_init(init, n)
    lr = _check_real(lr, "lr", lo=0)
    steps = _check_int(steps, "steps", 0)
    every = _check_int(every, "every", 1)
    b1 = _check_real(beta1, "beta1", lo=0, lo_open=False, hi=1)
    b2 = _check_real(beta2, "beta2", lo=0, lo_open=False, hi=1)
    ae = _check_real(adam_eps, "adam_eps", lo=0)
    if top is not None:
        top = _check_int(top, "top", 1)
    bound = _check_real(divergence_bound, "divergence_bound", lo=0)
    if arithmetic == "mpmath":
        import mpmath

        from verify.instances import check_dps

        dps = check_dps(dps)
        with mpmath.workdps(dps):
            return _iterate(_MpmathOps(), Yf, F0, lr, steps, optimizer, b1, b2, ae, every, top,
                            bound, dps, progress)
    from verify.linalg import blas_threads

    with blas_threads():
        return _iterate(_Float64Ops(), Yf, F0, lr, steps, optimizer, b1, b2, ae, every, top,
                        bound, 16, progress)


def _iterate(ops, Yf, F0, lr, steps, optimizer, b1, b2, ae, every, top, bound, dps, progress):
    np = ops.np
    N = len(F0)
    Y = ops.convert(Yf)
    F = [ops.convert(A) for A in F0]
    lr_v, b1_v, b2_v, ae_v = (ops.scalar(x) for x in (lr, b1, b2, ae))
    one = ops.scalar(1)
    adam = optimizer == "adam"
    if adam:
        m = [A * 0 for A in F]
        v = [A * 0 for A in F]
        b1t, b2t = one, one  # beta^t, updated before use
    rec_steps, rec_sv, rec_loss = [], [], []
    status, diverged_step, last_good = "ok", None, F
    tick = max(1, steps // 50)
    with np.errstate(over="ignore", invalid="ignore"):
        for k in range(steps + 1):
            pre = [None] * (N + 1)  # pre[j] = W_j ... W_1
            pre[1] = F[0]
            for j in range(2, N + 1):
                pre[j] = F[j - 1] @ pre[j - 1]
            P = pre[N]
            if ops.bad(P, bound) or any(ops.bad(A, bound) for A in F):
                status, diverged_step = "diverged", k
                break
            last_good = F
            R = P - Y
            if k % every == 0 or k == steps:
                sv = ops.svals(P)
                rec_steps.append(k)
                rec_sv.append(tuple(sv if top is None else sv[:top]))
                rec_loss.append(ops.loss(R))
            if progress is not None and k % tick == 0:
                progress(k, steps, "full-matrix steps")
            if k == steps:
                break
            suf = [None] * N  # suf[j] = W_N ... W_{j+2} (0-based j; None: identity)
            suf[N - 2] = F[N - 1]
            for j in range(N - 3, -1, -1):
                suf[j] = suf[j + 1] @ F[j + 1]
            grads = []
            for j in range(N):
                G = R if suf[j] is None else suf[j].T @ R
                if j > 0:
                    G = G @ pre[j].T
                grads.append(G)
            if adam:
                b1t, b2t = b1t * b1_v, b2t * b2_v
                c1, c2 = one - b1t, one - b2t
                newF = []
                for j, G in enumerate(grads):
                    m[j] = b1_v * m[j] + (one - b1_v) * G
                    v[j] = b2_v * v[j] + (one - b2_v) * (G * G)
                    newF.append(F[j] - lr_v * (m[j] / c1) / (ops.sqrt(v[j] / c2) + ae_v))
                F = newF
            else:
                F = [A - lr_v * G for A, G in zip(F, grads)]
    final = diverged_step - 1 if diverged_step is not None else steps
    return MatrixRun(steps=tuple(rec_steps), singular_values=tuple(rec_sv),
                     loss=tuple(rec_loss), status=status, diverged_step=diverged_step,
                     final_step=final, factors=tuple(ops.out(A) for A in last_good),
                     optimizer=optimizer, arithmetic=ops.name, dps=dps)


def rounding_tolerance(steps: int, n: int, depth: int) -> float:
    """How far a float64 run may drift from the exact iteration, relative to sigma_1, under
    the first-order model used by the tests: each step perturbs the state by at most
    gamma_m = m u / (1 - m u), u = 2^-53, m = (2N + 1) n (Higham's bound for the chains of
    N products with inner dimension n in P and in the gradient, and the SVD's backward error
    of order n u), and the perturbations add up without amplification over ``steps`` + 1
    states. It is a model, not a proof: a step that amplifies errors (growth, an
    unstable step size) can exceed it, and the tests would then say so."""
    u = 2.0 ** -53
    m = (2 * _check_int(depth, "depth", 2) + 1) * _check_int(n, "n", 1)
    return (_check_int(steps, "steps", 0) + 1) * m * u / (1 - m * u)


# ------------------------------------------------------------------ what the run shows


def reference_levels(Y, *, sym_tol: float = 0.0):
    """(levels, kind): what the product's singular values are measured against.

    Symmetric Y (``|Y - Y^T| <= sym_tol max|Y|`` entrywise): the positive eigenvalues of Y,
    descending, then zeros (``kind = "eigenvalues of Y, negative ones as 0"``): the singular
    values of Y_+, the limit of GD from alpha I (claim P1), and under R1 the product's
    singular values are x_i^N in the order of Y's eigenvalues, so the interval read off them
    is the project's (:func:`verify.explore.simulate`). Otherwise the singular values of Y
    (``kind = "singular values of Y"``), those of the global minimizer P = Y."""
    import numpy as np

    A = _square(Y, "Y")
    scale = float(np.max(np.abs(A)))
    if float(np.max(np.abs(A - A.T))) <= sym_tol * scale:
        t = np.linalg.eigvalsh((A + A.T) / 2)[::-1]
        return [max(float(x), 0.0) for x in t], "eigenvalues of Y, negative ones as 0"
    return [float(x) for x in np.linalg.svd(A, compute_uv=False)], "singular values of Y"


def low_rank_interval(run: MatrixRun, levels, *, rank: int, eps: float, theta: float) -> dict:
    """The observed low-rank interval of a run, in the project's conventions (L1/P4):

    ``T0`` = max over i <= r of the first recorded step with sigma_i(P) >= (1 - eps)
    levels[i] (None: some sigma_i never got there, or levels[i] <= 0: no learned level);
    ``T1`` = (first recorded step with sigma_{r+1}(P) > theta) - 1 (None: never);
    ``nonempty``: T0 is not None and (T1 is None or T0 <= T1) (False if T0 is None);
    ``T0_censored`` / ``T1_censored``: the event did not happen by ``run.final_step``."""
    from verify.beyond.common import first_crossing

    r = _check_int(rank, "rank", 1)
    sv = run.singular_values
    if sv and len(sv[0]) < r + 1:
        raise ValueError(f"the run kept {len(sv[0])} singular values; rank {r} needs {r + 1}")
    hits = []
    for i in range(r):
        lv = levels[i]
        k = None if lv <= 0 else first_crossing([s[i] for s in sv], (1 - eps) * lv)
        hits.append(k)
    T0 = None if any(h is None for h in hits) else run.steps[max(hits)]
    k1 = first_crossing([s[r] for s in sv], theta, above=False)
    T1 = None if k1 is None else run.steps[k1] - 1
    return {"T0": T0, "T1": T1, "nonempty": T0 is not None and (T1 is None or T0 <= T1),
            "T0_censored": T0 is None and all(levels[i] > 0 for i in range(r)),
            "T1_censored": T1 is None}


def effective_ranks(run: MatrixRun, *, rel: float = 1e-3) -> list:
    """The effective rank (:func:`verify.beyond.common.effective_rank`) at each recorded step."""
    from verify.beyond.common import effective_rank

    return [effective_rank(s, rel=rel) for s in run.singular_values]
