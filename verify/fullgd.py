"""Full-matrix gradient descent for deep matrix factorization, at explicit precision.

Loss ``L(W_1, ..., W_N) = 1/2 ||W_N ... W_1 - Y||_F^2`` for n x n factors, depth N >= 2.
All factors are updated simultaneously with step ``eta``::

    W_j(k+1) = W_j(k) - eta * (W_N...W_{j+1})^T (P(k) - Y) (W_{j-1}...W_1)^T,
    P(k) = W_N(k) ... W_1(k).

This is the *unreduced* dynamics; it is what claim R1 (THEORY.md) is about:
with ``W_j(0) = alpha I`` and symmetric ``Y = Q diag(t) Q^T`` all factors stay equal to
``Q diag(x(k)) Q^T`` with ``x_i(k+1) = x_i + eta x_i^(N-1) (t_i - x_i^N)``, so
``P(k) = Q diag(x(k)^N) Q^T``. :func:`reduction_mismatch` measures how far the two are.

Nothing here needs ``Y`` symmetric (the negative control of R1 uses a non-symmetric Y).
Every computation runs inside ``mpmath.workdps(dps)``; the global precision is untouched.

>>> run = simulate_full([[2, 0], [0, 1]], depth=2, eta=0.1, alpha=0.5, steps=3, dps=30)
>>> mpmath.nstr(run.products[1][0, 0], 10)   # x = 0.5 + 0.1*0.5*(2 - 0.25) = 0.5875
'0.34515625'
>>> reduction_mismatch([[2, 0], [0, 1]], depth=3, eta=0.1, alpha=0.5, steps=20, dps=30) < 1e-25
True
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import mpmath

from verify.instances import _to_mpf, check_dps, validate_matrix

__all__ = ["FullRun", "simulate_full", "reduction_mismatch", "DIVERGENCE_BOUND"]

#: An entry larger than this in magnitude (or NaN/inf) marks the run as diverged.
DIVERGENCE_BOUND = 10**100


@dataclass(frozen=True, eq=False)
class FullRun:
    """Result of :func:`simulate_full`.

    ``products``: dict step -> mpmath matrix ``P(k) = W_N(k)...W_1(k)`` for each checkpoint
    reached (all of 0..steps by default). ``factors``: tuple ``(W_1, ..., W_N)`` at step
    ``final_step``. ``diverged``: True if at step ``diverged_step`` an entry of a factor or of
    the product became NaN/inf or exceeded ``DIVERGENCE_BOUND`` in magnitude; the run then
    stops, ``final_step = diverged_step - 1`` (the last sane state) and the products contain
    only checkpoints before ``diverged_step``. ``stopped``: a monitor ended the run at
    ``final_step``.
    """

    dps: int
    depth: int
    eta: mpmath.mpf
    steps: int
    products: dict
    factors: tuple
    final_step: int
    diverged: bool = False
    diverged_step: int | None = None
    stopped: bool = False


# ------------------------------------------------------------------ list-based linear algebra
# mpmath.matrix products are ~2.5x slower than rows-of-mpf with mpmath.fdot, so the loop works
# on lists of rows and converts at the boundary.


def _rows(M):
    return [[M[i, j] for j in range(M.cols)] for i in range(M.rows)]


def _to_matrix(A):
    return mpmath.matrix(A)


def _mm(A, B):
    """A @ B for lists of rows."""
    cols = list(zip(*B))
    return [[mpmath.fdot(r, c) for c in cols] for r in A]


def _mmT(A, B):
    """A @ B^T (the columns of B^T are the rows of B)."""
    return [[mpmath.fdot(r, c) for c in B] for r in A]


def _Tm(A, B):
    """A^T @ B."""
    return _mm([list(c) for c in zip(*A)], B)


def _bad(A, bound) -> bool:
    for r in A:
        for x in r:
            if not mpmath.isfinite(x) or abs(x) > bound:
                return True
    return False


def _check_int(x, name, lo):
    if isinstance(x, bool) or not isinstance(x, numbers.Integral) or x < lo:
        raise ValueError(f"{name} must be an integer >= {lo}, got {x!r}")
    return int(x)


def _check_pos(x, name):
    if isinstance(x, str):
        raise ValueError(f"{name} must be a positive finite number, got {x!r}")
    v, _ = _to_mpf(x, what=name)
    if not v > 0:
        raise ValueError(f"{name} must be positive, got {x!r}")
    return v


def simulate_full(Y, *, depth: int, eta, alpha=None, init=None, steps: int,
                  checkpoints=None, dps: int = 50, monitor=None,
                  divergence_bound=DIVERGENCE_BOUND, arithmetic: str = "mpmath") -> FullRun:
    """Run full-matrix gradient descent on ``1/2 ||W_N...W_1 - Y||_F^2``.

    Parameters: ``Y`` square finite real matrix (any format accepted by
    :func:`verify.instances.validate_matrix`; need not be symmetric); ``depth`` N >= 2;
    ``eta > 0``; exactly one of ``alpha > 0`` (``W_j(0) = alpha I``) or ``init`` (a sequence
    of N matrices of Y's shape, ``init[0]`` is ``W_1``); ``steps >= 0``; ``checkpoints``:
    the steps at which to record ``P(k)`` (default every step 0..steps); ``dps >= 15``.
    ``monitor(k, P)``, if given, sees the product at every step (a list of rows of mpf, not
    to be modified); a true return value stops the run there (``stopped``, ``final_step =
    k``). ``divergence_bound``: entries above it in magnitude are divergence (None: only
    non-finite entries). Raises ValueError on any invalid input. Inputs are never modified.

    Memory: the N factors and their partial products (O(N n^2)) and the checkpoints asked
    for; ``checkpoints=()`` with a ``monitor`` streams the run (nothing stored per step).
    ``arithmetic="float64"``: the same iteration on numpy float64 arrays (LAPACK products;
    ``monitor`` then sees an ndarray, the products and factors are ndarrays).
    ``arithmetic="arb"``: at the same binary precision with python-flint's ``arb_mat``
    products (C, tens of times faster than the lists of mpf below), every product rounded
    back to its midpoint so that the iteration is a point iteration like the mpmath one
    (``monitor`` sees an ``arb_mat``; products and factors are returned as mpmath matrices).
    """
    if arithmetic == "float64":
        return _simulate_full_f64(Y, depth=depth, eta=eta, alpha=alpha, init=init, steps=steps,
                                  checkpoints=checkpoints, monitor=monitor,
                                  divergence_bound=divergence_bound)
    if arithmetic == "arb":
        return _simulate_full_arb(Y, depth=depth, eta=eta, alpha=alpha, init=init, steps=steps,
                                  checkpoints=checkpoints, monitor=monitor,
                                  divergence_bound=divergence_bound, dps=dps)
    if arithmetic != "mpmath":
        raise ValueError(f"arithmetic must be 'mpmath', 'arb' or 'float64', got {arithmetic!r}")
    dps = check_dps(dps)
    N = _check_int(depth, "depth", 2)
    steps = _check_int(steps, "steps", 0)
    if (alpha is None) == (init is None):
        raise ValueError("give exactly one of alpha (W_j(0) = alpha I) and init (N matrices)")
    Ym = validate_matrix(Y, name="Y", dps=dps)
    n = Ym.rows
    if checkpoints is None:
        cps = set(range(steps + 1))
    else:
        if isinstance(checkpoints, (str, bytes)) or not hasattr(checkpoints, "__iter__"):
            raise ValueError(f"checkpoints must be an iterable of steps, got {checkpoints!r}")
        cps = set()
        for c in checkpoints:
            cps.add(_check_int(c, "checkpoint", 0))
        if cps and max(cps) > steps:
            raise ValueError(f"checkpoint {max(cps)} exceeds steps={steps}")
    with mpmath.workdps(dps):
        eta_v = _check_pos(eta, "eta")
        if alpha is not None:
            a = _check_pos(alpha, "alpha")
            F = [[[a if i == j else mpmath.mpf(0) for j in range(n)] for i in range(n)]
                 for _ in range(N)]
        else:
            if isinstance(init, (str, bytes)) or not hasattr(init, "__len__"):
                raise ValueError(f"init must be a sequence of {N} matrices")
            if len(init) != N:
                raise ValueError(f"init must have depth={N} matrices, got {len(init)}")
            F = []
            for j, Wj in enumerate(init):
                M = validate_matrix(Wj, name=f"init[{j}]", dps=dps)
                if M.rows != n:
                    raise ValueError(
                        f"init[{j}]: shape {M.rows}x{M.cols} does not match Y's {n}x{n}"
                    )
                F.append(_rows(M))
        Yr = _rows(Ym)
        bound = mpmath.inf if divergence_bound is None else mpmath.mpf(divergence_bound)
        products = {}
        last_good = F
        diverged_step = None
        stopped_at = None
        for k in range(steps + 1):
            # prefix products pre[j] = W_j ... W_1 (pre[0] = I, implicit), P = pre[N]
            pre = [None] * (N + 1)
            pre[1] = F[0]
            for j in range(2, N + 1):
                pre[j] = _mm(F[j - 1], pre[j - 1])
            P = pre[N]
            if _bad(P, bound) or any(_bad(Fj, bound) for Fj in F):
                diverged_step = k
                break
            last_good = F
            if k in cps:
                products[k] = _to_matrix(P)
            if monitor is not None and monitor(k, P):
                stopped_at = k
                break
            if k == steps:
                break
            R = [[p - y for p, y in zip(rp, ry)] for rp, ry in zip(P, Yr)]
            # suffix products suf[j] = W_N ... W_{j+2} for factor index j (0-based), None = I
            suf = [None] * N
            if N >= 2:
                suf[N - 2] = F[N - 1]
            for j in range(N - 3, -1, -1):
                suf[j] = _mm(suf[j + 1], F[j + 1])
            newF = []
            for j in range(N):
                G = R if suf[j] is None else _Tm(suf[j], R)
                if j > 0:
                    G = _mmT(G, pre[j])  # times (W_j ... W_1)^T with 0-based j
                newF.append([[w - eta_v * g for w, g in zip(rw, rg)]
                             for rw, rg in zip(F[j], G)])
            F = newF
        if diverged_step is not None:
            final = diverged_step - 1
        elif stopped_at is not None:
            final = stopped_at
        else:
            final = steps
        return FullRun(
            dps=dps, depth=N, eta=eta_v, steps=steps, products=products,
            factors=tuple(_to_matrix(Fj) for Fj in last_good), final_step=final,
            diverged=diverged_step is not None, diverged_step=diverged_step,
            stopped=stopped_at is not None,
        )


def _simulate_full_f64(Y, *, depth, eta, alpha, init, steps, checkpoints, monitor,
                       divergence_bound) -> FullRun:
    """:func:`simulate_full` in numpy float64 (the same update, all factors at once)."""
    import numpy as np

    N = _check_int(depth, "depth", 2)
    steps = _check_int(steps, "steps", 0)
    if (alpha is None) == (init is None):
        raise ValueError("give exactly one of alpha (W_j(0) = alpha I) and init (N matrices)")
    Ym = np.array(Y, dtype=float)
    if Ym.ndim != 2 or Ym.shape[0] != Ym.shape[1] or not np.all(np.isfinite(Ym)):
        raise ValueError("Y must be a finite square matrix")
    n = Ym.shape[0]
    cps = set(range(steps + 1)) if checkpoints is None else {
        _check_int(c, "checkpoint", 0) for c in checkpoints}
    if cps and max(cps) > steps:
        raise ValueError(f"checkpoint {max(cps)} exceeds steps={steps}")
    eta_v = float(_check_pos(eta, "eta"))
    if alpha is not None:
        a = float(_check_pos(alpha, "alpha"))
        F = [a * np.eye(n) for _ in range(N)]
    else:
        if len(init) != N:
            raise ValueError(f"init must have depth={N} matrices, got {len(init)}")
        F = [np.array(Wj, dtype=float) for Wj in init]
    bound = np.inf if divergence_bound is None else float(divergence_bound)
    products, last_good = {}, F
    diverged_step = stopped_at = None
    with np.errstate(over="ignore", invalid="ignore"):
        for k in range(steps + 1):
            pre = [None] * (N + 1)
            pre[1] = F[0]
            for j in range(2, N + 1):
                pre[j] = F[j - 1] @ pre[j - 1]
            P = pre[N]
            if not np.all(np.isfinite(P)) or np.max(np.abs(P)) > bound or any(
                    not np.all(np.isfinite(Fj)) for Fj in F):
                diverged_step = k
                break
            last_good = F
            if k in cps:
                products[k] = P.copy()
            if monitor is not None and monitor(k, P):
                stopped_at = k
                break
            if k == steps:
                break
            R = P - Ym
            suf = [None] * N
            suf[N - 2] = F[N - 1]
            for j in range(N - 3, -1, -1):
                suf[j] = suf[j + 1] @ F[j + 1]
            newF = []
            for j in range(N):
                G = R if suf[j] is None else suf[j].T @ R
                if j > 0:
                    G = G @ pre[j].T
                newF.append(F[j] - eta_v * G)
            F = newF
    final = diverged_step - 1 if diverged_step is not None else (
        stopped_at if stopped_at is not None else steps)
    return FullRun(dps=53, depth=N, eta=eta_v, steps=steps, products=products,
                   factors=tuple(last_good), final_step=final,
                   diverged=diverged_step is not None, diverged_step=diverged_step,
                   stopped=stopped_at is not None)


def to_arb(x):
    """An mpf (or number) as an exact arb (at the current flint precision, which must hold
    its mantissa)."""
    import flint

    x = mpmath.mpf(x)
    sign, man, exp, _ = x._mpf_
    if not man:
        return flint.arb(0)
    v = flint.arb(flint.fmpz(-int(man) if sign else int(man)))
    return v * flint.arb(2) ** int(exp)


def from_arb(a) -> mpmath.mpf:
    """The midpoint of an arb as an mpf (exact at mpmath's current precision or rounded)."""
    man, exp = a.mid().man_exp()
    return mpmath.mpf((int(man), int(exp)))


def _arb_matrix(M):
    import flint

    return flint.arb_mat([[to_arb(M[i, j]) for j in range(M.cols)] for i in range(M.rows)])


def _mp_matrix(A):
    n, m = A.nrows(), A.ncols()
    out = mpmath.matrix(n, m)
    for i in range(n):
        for j in range(m):
            out[i, j] = from_arb(A[i, j])
    return out


def arb_prefix(F):
    """Prefix products ``pre[j] = W_j ... W_1`` of arb_mat factors ``F = [W_1, ..., W_N]``
    (``pre[0]`` unused), each rounded to its midpoint."""
    N = len(F)
    pre = [None] * (N + 1)
    pre[1] = F[0]
    for j in range(2, N + 1):
        pre[j] = (F[j - 1] * pre[j - 1]).mid()
    return pre


def arb_gradients(F, pre, R):
    """``dL/dW_j = (W_N...W_{j+1})^T R (W_{j-1}...W_1)^T`` for j = 1..N (a list, 0-based) from
    arb_mat factors, their :func:`arb_prefix` ``pre`` and the residual ``R = P - Y``; every
    product rounded to its midpoint."""
    N = len(F)
    suf = [None] * N
    suf[N - 2] = F[N - 1]
    for j in range(N - 3, -1, -1):
        suf[j] = (suf[j + 1] * F[j + 1]).mid()
    out = []
    for j in range(N):
        G = R if suf[j] is None else (suf[j].transpose() * R).mid()
        if j > 0:
            G = (G * pre[j].transpose()).mid()
        out.append(G)
    return out


def _simulate_full_arb(Y, *, depth, eta, alpha, init, steps, checkpoints, monitor,
                       divergence_bound, dps) -> FullRun:
    """:func:`simulate_full` with flint ``arb_mat`` products at ``dps_to_prec(dps)`` bits."""
    import flint
    from mpmath.libmp import dps_to_prec

    dps = check_dps(dps)
    N = _check_int(depth, "depth", 2)
    steps = _check_int(steps, "steps", 0)
    if (alpha is None) == (init is None):
        raise ValueError("give exactly one of alpha (W_j(0) = alpha I) and init (N matrices)")
    Ym = validate_matrix(Y, name="Y", dps=dps)
    n = Ym.rows
    cps = set(range(steps + 1)) if checkpoints is None else {
        _check_int(c, "checkpoint", 0) for c in checkpoints}
    if cps and max(cps) > steps:
        raise ValueError(f"checkpoint {max(cps)} exceeds steps={steps}")
    prec = dps_to_prec(dps)
    with mpmath.workdps(dps), flint.ctx.workprec(prec):
        eta_v = _check_pos(eta, "eta")
        e_a = to_arb(eta_v)
        if alpha is not None:
            a = _check_pos(alpha, "alpha")
            F = [flint.arb_mat(n, n) for _ in range(N)]
            a_a = to_arb(a)
            for Fj in F:
                for i in range(n):
                    Fj[i, i] = a_a
        else:
            if len(init) != N:
                raise ValueError(f"init must have depth={N} matrices, got {len(init)}")
            F = [_arb_matrix(validate_matrix(Wj, name=f"init[{j}]", dps=dps))
                 for j, Wj in enumerate(init)]
        Ya = _arb_matrix(Ym)
        bound = None if divergence_bound is None else mpmath.mpf(divergence_bound)
        products, last_good = {}, F
        diverged_step = stopped_at = None
        for k in range(steps + 1):
            pre = arb_prefix(F)
            P = pre[N]
            if bound is not None and any(
                    not mpmath.isfinite(x) or abs(x) > bound
                    for x in (from_arb(P[i, j]) for i in range(n) for j in range(n))):
                diverged_step = k
                break
            last_good = F
            if k in cps:
                products[k] = _mp_matrix(P)
            if monitor is not None and monitor(k, P):
                stopped_at = k
                break
            if k == steps:
                break
            F = [(Fj - e_a * G).mid() for Fj, G in zip(F, arb_gradients(F, pre, P - Ya))]
        final = diverged_step - 1 if diverged_step is not None else (
            stopped_at if stopped_at is not None else steps)
        return FullRun(dps=dps, depth=N, eta=eta_v, steps=steps, products=products,
                       factors=tuple(_mp_matrix(Fj) for Fj in last_good), final_step=final,
                       diverged=diverged_step is not None, diverged_step=diverged_step,
                       stopped=stopped_at is not None)


def reduction_mismatch(Y, *, depth: int, eta, alpha, steps: int, dps: int = 50, init=None,
                       step=None):
    """How far full GD is from the reduced (eigenvalue-wise) dynamics of claim R1.

    The full run uses ``Y`` exactly as given and ``W_j(0) = alpha I`` (or ``init`` if given;
    used by negative controls). The reduced side takes ``t, Q`` from ``mpmath.eigsy`` of
    ``(Y + Y^T)/2`` and iterates ``x_i(k+1) = step(x_i, t_i, eta, N)``, ``x_i(0) = alpha``,
    with ``step`` the scalar map ``phi`` of bounds.flow unless given. Returns (an mpf)::

        max_{k=0..steps} ||P_full(k) - Q diag(x(k)^N) Q^T||_max / max(1, ||Y||_max)

    or ``+inf`` if the full run diverged (see :class:`FullRun`).
    """
    dps = check_dps(dps)
    N = _check_int(depth, "depth", 2)
    if step is None:
        from bounds.flow import phi as step
    if alpha is None:
        raise ValueError("alpha is required (the reduced dynamics start at x_i(0) = alpha)")
    run = simulate_full(Y, depth=N, eta=eta, alpha=None if init is not None else alpha,
                        init=init, steps=steps, dps=dps)
    with mpmath.workdps(dps):
        if run.diverged:
            return mpmath.inf
        Ym = validate_matrix(Y, name="Y", dps=dps)
        n = Ym.rows
        S = (Ym + Ym.T) / 2
        t, U = mpmath.eigsy(S)
        t = [t[i] for i in range(n)]
        Ur = _rows(U)
        a = _check_pos(alpha, "alpha")
        eta_v = run.eta
        x = [a] * n
        scale = max(mpmath.mpf(1), max(abs(Ym[i, j]) for i in range(n) for j in range(n)))
        worst = mpmath.mpf(0)
        for k in range(run.steps + 1):
            xN = [xi**N for xi in x]
            Pk = run.products[k]
            for i in range(n):
                ui = [Ur[i][m] * xN[m] for m in range(n)]
                for j in range(n):
                    d = abs(Pk[i, j] - mpmath.fdot(ui, Ur[j]))
                    if d > worst:
                        worst = d
            x = [step(xi, ti, eta_v, N) for xi, ti in zip(x, t)]
        return worst / scale
