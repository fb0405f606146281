"""Ask the theory and the dynamics about your own parameters: `predict` and `simulate`.

A :class:`Setting` holds a user's problem: the PSD target (a spectrum with seeded random
eigenvectors, or a matrix), depth, alpha, eta, rank r, eps, theta, and optionally a
perturbation (Weyl-extremal of size e, random of norm e, or a matrix). :func:`predict`
evaluates the claims' hypotheses and bounds (L1 for E = 0, P4 otherwise, and e*);
:func:`simulate` runs gradient descent (reduced dynamics, or the N-factor matrix iteration)
and reads off what the theory talks about. Valid parameters that break a hypothesis are not
errors: predict marks the hypothesis false and gives no bound that depends on it; simulate
runs them anyway.

>>> st = make_setting(depth=3, alpha="0.05", eta="0.2", spectrum=["1", "0.1", "0.05"],
...                   rank=1, eps="0.1", theta="0.05")
>>> p = predict(st)
>>> p["T0_upper"], p["T1_lower"], p["nonempty_predicted"]
(144, 888, True)
>>> sim = simulate(st, max_steps=3000)
>>> sim["T0"], sim["T1"], sim["nonempty"]
(102, 909, True)

Representations (``linalg=``, CLI ``--linalg``): up to :data:`SMALL_N` the matrices are
mpmath matrices at ``dps`` (every result as before; eigenvalues that the inputs do not give
are enclosed by python-flint), above it numpy float64 arrays with LAPACK and rigorous
enclosures (:mod:`verify.linalg`) and the float64 lanes of :mod:`verify.fastlanes`. A
spectrum's eigenvalues are exact in both. Every output says what precision its numbers have
(``precision``); docs/numerics.md, "What precision predict and simulate work in".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

import mpmath

from bounds.flow import monotone_step_bound, monotone_step_holds, s3_positivity_step_bound
from bounds.lowrank import l1_hypotheses, lb1, spectral_condition, ub0
from bounds.perturbed import (
    critical_noise,
    p1_step_bound,
    p1_hypotheses,
    p4_any_hypotheses,
    p4_bounds,
    p4_bounds_any,
    p4_hypotheses,
)
from verify.engine import MAX_DPS, Event, _exact, simulate_reduced, to_mpf
from verify.instances import (
    check_dps,
    prepare_symmetric,
    psd_target,
    random_perturbation,
    spectral_norm,
    symmetric_eigen,
    weyl_extremal_perturbation,
)
from verify.limits import (
    DEFAULT_TOL,
    MAX_DEPTH,
    check_budget,
    full_seconds,
    memory_bytes,
    parse_number,
    reduced_seconds,
    setup_seconds,
)

__all__ = ["Setting", "make_setting", "check_scalars", "check_cost", "predict", "simulate",
           "NOISE_KINDS", "STATUSES", "LINALG", "SMALL_N", "linalg_mode"]

NOISE_KINDS = ("worst", "random")
#: how the matrices are held: "auto" (mpmath up to SMALL_N, else float64), "mpmath", "float64"
LINALG = ("auto", "mpmath", "float64")
#: "auto" keeps mpmath matrices at ``dps`` up to this size (every result as before), float64
#: (numpy/LAPACK with rigorous enclosures) above it
SMALL_N = 30


def linalg_mode(linalg: str, n: int) -> str:
    """The representation used for an n x n problem (ValueError for an unknown choice)."""
    if linalg not in LINALG:
        raise ValueError(f"linalg must be one of {', '.join(LINALG)}, got {linalg!r}")
    if linalg == "auto":
        return "mpmath" if n <= SMALL_N else "float64"
    return linalg


@dataclass(frozen=True)
class Setting:
    """A validated problem at ``dps`` digits. ``s``/``V``: target eigenvalues (descending) and
    eigenvectors; ``t``/``Q``: those of Y = W + E; ``e``: ||E||_2 (0 without noise).

    ``adjustments``: one line per change made to a user matrix within the tolerance
    (symmetrized, PSD round-off clipped). ``theta_exact`` / ``t_exact``: theta and the
    eigenvalues of Y as exact rationals when they are known exactly from the inputs (a
    spectrum, no noise or the Weyl-extremal one), else None: they name exact ties.
    ``raw``: alpha, eta and theta as given (the engines read them again, so that step 0 is
    decided exactly)."""

    depth: int
    alpha: mpmath.mpf
    eta: mpmath.mpf
    r: int
    eps: mpmath.mpf
    theta: mpmath.mpf
    W: mpmath.matrix
    s: tuple
    V: mpmath.matrix
    Y: mpmath.matrix
    t: tuple
    Q: mpmath.matrix
    e: mpmath.mpf
    noise: str  # "none", "worst", "random", "file"
    dps: int
    seed: int = 0
    inputs: dict = field(default_factory=dict)
    adjustments: tuple = ()
    theta_exact: Fraction | None = None
    t_exact: tuple | None = None
    theta_default: bool = False
    raw: dict = field(default_factory=dict)
    #: "mpmath": W, V, Y, Q are mpmath matrices at ``dps``; "float64": numpy float64 arrays
    #: (V, Q always; W, Y None when the eigenvalues are known without them)
    linalg: str = "mpmath"
    #: rigorous radii of the eigenvalue enclosures (floats, 0.0 where the eigenvalue is known
    #: from the inputs at ``dps``); None: computed at ``dps`` by mpmath's eigensolver
    s_rad: tuple | None = None
    t_rad: tuple | None = None
    e_rad: float = 0.0
    #: how Q relates to V: "same" (Y = W), "perm" (Q[:, j] = V[:, perm[j]], the Weyl-extremal
    #: noise), "general"
    relation: str = "general"
    perm: tuple | None = None
    #: what precision each number of the problem has (one sentence per quantity)
    precision: dict = field(default_factory=dict)

    @property
    def n(self) -> int:
        return len(self.s)

    @property
    def enclosed(self) -> bool:
        """True when some eigenvalue (or ||E||_2) is only known within a nonzero radius."""
        return bool(self.e_rad or any(self.s_rad or ()) or any(self.t_rad or ()))


def _rows(M) -> int | None:
    """The number of rows of a user matrix without converting it (None: not a matrix)."""
    if isinstance(M, mpmath.matrix):
        return M.rows
    shape = getattr(M, "shape", None)
    if shape is not None:
        return int(shape[0]) if len(shape) >= 1 else None
    try:
        return len(M)
    except TypeError:
        return None


def _positive(value, name):
    x = parse_number(value, name=name)
    if not x > 0:
        raise ValueError(f"{name} must be > 0, got {value}")
    return x


def _spectrum_range(vals, dps, tol_digits=15):
    """The target W = V diag(s) V^T holds an eigenvalue to ~10^-dps of the largest: refuse
    a spectrum whose nonzero values span more than dps - 15 decades (the small ones would
    keep fewer than 15 digits)."""
    nz = [v for v in vals if v > 0]
    if len(nz) < 2:
        return
    big, small = max(nz), min(nz)
    if small >= big * mpmath.mpf(10) ** -(dps - tol_digits):
        return
    need = int(mpmath.ceil(mpmath.log10(big / small))) + tol_digits
    fix = (f"raise --dps to {need}" if need <= MAX_DPS else
           f"that needs dps {need}, above the maximum {MAX_DPS}: rescale the spectrum")
    raise ValueError(f"spectrum value {mpmath.nstr(small, 5)} is lost next to "
                     f"{mpmath.nstr(big, 5)} at dps {dps}: the target matrix keeps "
                     f"eigenvalues down to 1e-{dps - tol_digits} of the largest ({fix})")


def check_scalars(*, depth, alpha, eta, eps, theta=None, noise=None, seed=0, dps=50, tol=DEFAULT_TOL):
    """The checks of :func:`make_setting` on its scalar parameters alone (cheap: call it
    before reading matrix files). ValueError naming the first bad value."""
    dps = check_dps(dps)
    if dps > MAX_DPS:
        raise ValueError(f"dps must be <= {MAX_DPS} (the engine's rounding margins are floats), got {dps}")
    if isinstance(depth, bool) or not isinstance(depth, int) or depth < 2:
        raise ValueError(f"depth N must be an integer >= 2, got {depth!r}")
    if depth > MAX_DEPTH:
        raise ValueError(f"depth N must be <= {MAX_DEPTH} (every step costs O(N) per "
                         f"eigenvalue; the claims are exercised up to N = 8), got {depth}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a nonnegative integer, got {seed!r}")
    with mpmath.workdps(dps):
        _positive(alpha, "alpha")
        _positive(eta, "eta")
        ep = parse_number(eps, name="eps")
        if not 0 < ep < 1:
            raise ValueError(f"eps must be in (0, 1), got {eps}")
        if theta is not None and parse_number(theta, name="theta") < 0:
            raise ValueError(f"theta must be >= 0, got {theta}")
        if noise is not None and parse_number(noise, name="noise") < 0:
            raise ValueError(f"noise must be >= 0, got {noise}")
    from verify.instances import _check_tol

    _check_tol(tol)
    return dps


def check_cost(n: int, *, depth: int, dps: int, setup: bool = True, max_steps: int | None = None,
               full_matrix: bool = False, samples: int = 33, max_seconds=None,
               max_memory_mb=None, linalg: str = "mpmath", fast_lanes: bool | None = None) -> None:
    """Refuse up front (ValueError) a problem of size n whose set-up, or whose simulation of
    ``max_steps`` steps, is estimated above ``max_seconds`` / ``max_memory_mb``
    (:mod:`verify.limits`; the message names the estimate and the flag that raises it).
    ``linalg``: the representation (:func:`linalg_mode`, "auto" resolved here); ``fast_lanes``:
    whether the reduced run uses the float64 lanes (default: in float64 mode)."""
    from verify.limits import MAX_FULL_F64_N, fast_lanes_seconds

    linalg = linalg_mode(linalg, n)
    caps = dict(max_seconds=max_seconds, max_memory_mb=max_memory_mb)
    if setup:
        why = ("LAPACK eigendecompositions and their enclosures are O(n^3)" if linalg == "float64"
               else "mpmath eigendecompositions are O(n^3)")
        check_budget(seconds=setup_seconds(n, dps, linalg=linalg),
                     memory=memory_bytes(n, depth, dps, linalg=linalg),
                     what=f"setting up a {n}x{n} problem at dps {dps}" + (
                         " (float64)" if linalg == "float64" else ""), why=why, **caps)
    if max_steps is None:
        return
    if full_matrix:
        if linalg == "float64" and n > MAX_FULL_F64_N:
            raise ValueError(f"simulate --full-matrix: the float64 iteration is for n <= "
                             f"{MAX_FULL_F64_N} (each step multiplies {depth} {n}x{n} factors "
                             f"several times), got n = {n}: use the reduced dynamics (claim R1)")
        check_budget(seconds=full_seconds(max_steps, n, depth, dps, linalg=linalg),
                     memory=memory_bytes(n, depth, dps, matrices=3 * depth + 12, linalg=linalg),
                     what=f"simulate --full-matrix: {max_steps} steps of {depth} {n}x{n} factors "
                          f"at {'float64' if linalg == 'float64' else f'dps {dps}'}",
                     why="each step multiplies the N factors, O(N n^3)", **caps)
    else:
        fast = (linalg == "float64") if fast_lanes is None else fast_lanes
        seconds = (fast_lanes_seconds(max_steps, n) if fast
                   else reduced_seconds(max_steps, n, depth, dps))
        check_budget(seconds=seconds,
                     what=f"simulate: {max_steps} steps of {n} eigenvalues at depth {depth} and "
                          + ("float64 (all eigenvalues at once)" if fast else f"dps {dps}"),
                     why="each step of each eigenvalue costs O(N); the estimate assumes no "
                         "iterate becomes stationary", **caps)


def make_setting(*, depth, alpha, eta, rank, eps, spectrum=None, target=None, theta=None,
                 noise=None, noise_kind="worst", perturbation=None, seed=0, dps=50,
                 tol=DEFAULT_TOL, max_seconds=None, max_memory_mb=None,
                 target_name="target", perturbation_name="perturbation",
                 linalg="auto") -> Setting:
    """Validate a user's parameters (ValueError naming the problem) and build the matrices.

    ``spectrum`` (numbers, any order, nonnegative) or ``target`` (a symmetric PSD matrix);
    ``noise`` e with ``noise_kind`` ("worst": the Weyl-extremal E of P4, "random": seeded) or
    ``perturbation`` (a symmetric matrix). ``theta`` defaults to eps * s_r.

    Numbers are plain decimal strings or real numbers (:func:`verify.limits.parse_number`:
    finite, nonzero magnitudes in [1e-100, 1e100]); depth N in 2..1000; dps in 15..250.
    Matrices are accepted within the relative tolerance ``tol`` (default 1e-12, the same for
    float data, integers and decimal strings): symmetrized when asymmetric within it, and
    for the target eigenvalues in ``[-tol ||W||_2, 0)`` clipped to 0
    (:func:`verify.instances.prepare_symmetric`); the changes are listed in
    ``Setting.adjustments``. A problem whose set-up is estimated above ``max_seconds`` or
    ``max_memory_mb`` is refused before any work (:mod:`verify.limits`). Nothing passed in
    is modified.

    ``linalg``: "mpmath" holds every matrix in mpmath at ``dps`` (small n), "float64" in
    numpy with LAPACK's eigendecomposition and a rigorous enclosure of every eigenvalue that
    is not known from the inputs (:mod:`verify.linalg`), "auto" (default) mpmath up to
    :data:`SMALL_N` and float64 above. A spectrum's eigenvalues (and those of Y under the
    Weyl-extremal noise) are exact in both: no eigendecomposition is needed for them.
    ``Setting.precision`` says what each number is.
    """
    dps = check_scalars(depth=depth, alpha=alpha, eta=eta, eps=eps, theta=theta, noise=noise,
                        seed=seed, dps=dps, tol=tol)
    if (spectrum is None) == (target is None):
        raise ValueError("give exactly one of a spectrum or a target matrix")
    if noise is not None and perturbation is not None:
        raise ValueError("give at most one of a noise size or a perturbation matrix")
    if noise_kind not in NOISE_KINDS:
        raise ValueError(f"noise kind must be one of {', '.join(NOISE_KINDS)}, got {noise_kind!r}")
    if linalg not in LINALG:
        raise ValueError(f"linalg must be one of {', '.join(LINALG)}, got {linalg!r}")
    if spectrum is not None:
        if isinstance(spectrum, (str, bytes)) or not hasattr(spectrum, "__iter__"):
            raise ValueError(f"the spectrum must be a sequence of numbers, got {spectrum!r}")
        spectrum = list(spectrum)
        n = len(spectrum)
    else:
        n = _rows(target)
    mode = linalg_mode(linalg, n or 0)
    if n:
        check_cost(n, depth=depth, dps=dps, linalg=mode, max_seconds=max_seconds,
                   max_memory_mb=max_memory_mb)
    adjustments = []
    with mpmath.workdps(dps):
        a = _positive(alpha, "alpha")
        h = _positive(eta, "eta")
        ep = parse_number(eps, name="eps")
        if not 0 < ep < 1:
            raise ValueError(f"eps must be in (0, 1), got {eps}")
        s_exact = None
        vals = None
        if spectrum is not None:
            vals = [parse_number(v, name=f"spectrum value {i + 1}") for i, v in enumerate(spectrum)]
            if not vals:
                raise ValueError("the spectrum is empty")
            if any(v < 0 for v in vals):
                raise ValueError("the spectrum of a PSD target must be nonnegative")
            _spectrum_range(vals, dps)
            ex = [_exact(v) for v in spectrum]
            s_exact = None if any(x is None for x in ex) else tuple(sorted(ex, reverse=True))
        if mode == "float64":
            from verify.linalg import blas_threads

            with blas_threads():
                mats = _float64_matrices(vals, target, perturbation, noise, noise_kind, seed,
                                         dps, tol, target_name, perturbation_name, rank)
        else:
            mats = _mpmath_matrices(vals, target, perturbation, noise, noise_kind, seed, dps,
                                    tol, target_name, perturbation_name, rank)
        adjustments += mats["notes"]
        s = mats["s"]
        n = len(s)
        if isinstance(rank, bool) or not isinstance(rank, int) or not 1 <= rank < n:
            raise ValueError(f"rank r must be an integer in 1..{n - 1} for an {n}x{n} target, got {rank!r}")
        eps_x = _exact(eps)
        theta_default = theta is None
        if theta is None:
            theta_exact = None if eps_x is None or s_exact is None else eps_x * s_exact[rank - 1]
            theta_raw = theta_exact if theta_exact is not None else ep * s[rank - 1]
            th = to_mpf(theta_raw, name="theta")
        else:
            th = parse_number(theta, name="theta")
            if th < 0:
                raise ValueError(f"theta must be >= 0, got {theta}")
            theta_raw, theta_exact = theta, _exact(theta)
        kind, t_exact = mats["kind"], s_exact
        if kind == "worst":
            e_x = _exact(noise)
            if s_exact is not None and e_x is not None:
                t_exact = tuple(sorted((x - e_x if i < rank else x + e_x)
                                       for i, x in enumerate(s_exact))[::-1])
            else:
                t_exact = None
        elif kind in ("random", "file"):
            t_exact = None
        return Setting(depth=depth, alpha=a, eta=h, r=rank, eps=ep, theta=th, W=mats["W"],
                       s=tuple(s), V=mats["V"], Y=mats["Y"], t=tuple(mats["t"]), Q=mats["Q"],
                       e=mats["e"], noise=kind, dps=dps, seed=seed,
                       inputs={"alpha": str(alpha), "eta": str(eta), "eps": str(eps)},
                       adjustments=tuple(adjustments), theta_exact=theta_exact,
                       t_exact=t_exact, theta_default=theta_default,
                       raw={"alpha": alpha, "eta": eta, "theta": theta_raw}, linalg=mode,
                       s_rad=mats["s_rad"], t_rad=mats["t_rad"], e_rad=mats["e_rad"],
                       relation=mats["relation"], perm=mats["perm"],
                       precision=mats["precision"])


def _worst_order(s, rank, e):
    """Y's eigenvalues under the Weyl-extremal noise (s_i - e for i <= r, s_i + e after),
    descending, and perm: Y's j-th eigenvector is W's perm[j]-th."""
    vals = [x - e if i < rank else x + e for i, x in enumerate(s)]
    perm = sorted(range(len(vals)), key=lambda i: vals[i], reverse=True)
    return [vals[i] for i in perm], tuple(perm)


_EXACT = "exact: known from the inputs at dps {dps} (no eigendecomposition)"


def _mpmath_matrices(vals, target, perturbation, noise, noise_kind, seed, dps, tol,
                     target_name, perturbation_name, rank):
    """The problem's matrices in mpmath at dps (the small-n representation)."""
    notes = []
    prec = {}
    if vals is not None:
        tgt = psd_target(vals, seed=seed, dps=dps)
        W, s, V = tgt.W, tgt.s, tgt.V
        prec["eigenvalues_W"] = _EXACT.format(dps=dps)
    else:
        prep = prepare_symmetric(target, name=target_name, tol=tol, psd=True, dps=dps)
        W, s, V = prep.M, prep.s, prep.V
        notes += prep.notes
        tgt = None
        s_rad = _arb_radii(W, s, dps)
        prec["eigenvalues_W"] = _arb_precision(s_rad, dps)
    n = len(s)
    if isinstance(rank, bool) or not isinstance(rank, int) or not 1 <= rank < n:
        raise ValueError(f"rank r must be an integer in 1..{n - 1} for an {n}x{n} target, got {rank!r}")
    if vals is not None:
        s_rad = None
    kind, relation, perm = "none", "same", None
    e_norm, e_rad = mpmath.mpf(0), 0.0
    t, Q, Y = tuple(s), V, W
    t_rad = s_rad
    prec["eigenvalues_Y"] = prec["eigenvalues_W"]
    if perturbation is not None:
        if _rows(perturbation) != n:
            rows = _rows(perturbation)
            raise ValueError(f"the perturbation is {rows}x{rows} but the target is {n}x{n}"
                             if rows else "the perturbation is not a matrix")
        prep = prepare_symmetric(perturbation, name=perturbation_name, tol=tol, eigen=False,
                                 dps=dps)
        E = prep.M
        notes += prep.notes
        kind, relation = "file", "general"
        Y = W + E
        t, Q = symmetric_eigen(Y, dps=dps)
        t_rad = _arb_radii(Y, t, dps)
        ev, _ = symmetric_eigen(E, dps=dps)
        er = _arb_radii(E, ev, dps)
        i = 0 if abs(ev[0]) >= abs(ev[-1]) else n - 1
        e_norm = abs(ev[i])
        e_rad = 0.0 if er is None else max(er[0], er[-1])
        prec["eigenvalues_Y"] = _arb_precision(t_rad, dps)
        prec["noise_norm"] = _arb_precision(None if er is None else (e_rad,), dps).replace(
            "every eigenvalue", "||E||_2")
    elif noise is not None:
        e = parse_number(noise, name="noise")
        if noise_kind == "worst":
            from verify.instances import Target

            base = tgt if tgt is not None else Target(W=W, s=tuple(s), V=V, dps=dps)
            E = weyl_extremal_perturbation(base, rank, e, dps=dps)
            Y = W + E
            t, perm = _worst_order(s, rank, e)
            Q = mpmath.matrix(n, n)
            for j, i in enumerate(perm):
                for k in range(n):
                    Q[k, j] = V[k, i]
            relation = "perm"
            if vals is not None:
                prec["eigenvalues_Y"] = _EXACT.format(dps=dps)
        else:
            E = random_perturbation(n, e, seed=seed + 1, dps=dps)
            Y = W + E
            if e == 0:
                t, Q = tuple(s), V
            else:
                t, Q = symmetric_eigen(Y, dps=dps)
                t_rad = _arb_radii(Y, t, dps)
                relation = "general"
                prec["eigenvalues_Y"] = _arb_precision(t_rad, dps)
        e_norm = e
        kind = noise_kind
        prec["noise_norm"] = _EXACT.format(dps=dps)
    else:
        prec["noise_norm"] = "exact (no perturbation)"
    return dict(W=W, s=tuple(s), V=V, Y=Y, t=tuple(t), Q=Q, e=e_norm, kind=kind, notes=notes,
                relation=relation, perm=perm, s_rad=s_rad, t_rad=t_rad, e_rad=e_rad,
                precision=prec)


def _arb_radii(M, values, dps):
    """Rigorous radii of eigenvalues computed by mpmath (python-flint acb_mat.eig), or None."""
    from verify.linalg import arb_eig_radii

    return arb_eig_radii(M, values, dps)


def _arb_precision(rad, dps):
    if rad is None:
        return f"mpmath eigensolver at dps {dps} (flint could not enclose them: not enclosed)"
    return (f"mpmath eigensolver at dps {dps} with a rigorous enclosure (python-flint "
            f"acb_mat.eig): every eigenvalue within {max(rad):.2g}")


def _f64_enclosed(rad):
    return (f"float64 (LAPACK eigh) with a rigorous enclosure: every eigenvalue within "
            f"{rad:.2g} (verify/linalg.py)")


def _float64_matrices(vals, target, perturbation, noise, noise_kind, seed, dps, tol,
                      target_name, perturbation_name, rank):
    """The problem in numpy float64 (the large-n representation, verify/linalg.py)."""
    import numpy as np

    from verify import linalg as la

    notes = []
    prec = {}
    W_f = W_err = None
    if vals is not None:
        n = len(vals)
        orth = la.orthogonal(np.random.default_rng(seed), n)
        s = tuple(sorted(vals, reverse=True))
        s_f = np.array([float(x) for x in s])
        V = orth.Q
        s_rad = tuple(0.0 for _ in s)
        prec["eigenvalues_W"] = _EXACT.format(dps=dps)
        v_defect = orth.defect
    else:
        A, conv, anotes = _prepare_f64(target, target_name, tol)
        notes += anotes
        n = A.shape[0]
        enc = la.eig_enclosure(A, conv)
        norm = float(max(abs(enc.w[0]), abs(enc.w[-1])))
        lo, lo_rad = float(enc.w[-1]), float(enc.rad[-1])
        limit = float(tol) * norm
        if lo + lo_rad < -float(tol) * (norm + float(enc.rad.max())) * (1 - 1e-12):
            raise ValueError(
                f"{target_name}: not positive semidefinite: eigenvalue s_{n} = {lo:.5g} "
                f"< -tol * ||A||_2 = {-limit:.3g} (tol {float(tol):.3g}, --tol)")
        V = enc.X
        v_defect = None  # computed when the matrix W is needed (la._defect(V))
        neg = enc.w - enc.rad < 0
        if neg.any():
            # possibly negative: the target is rebuilt as V diag(max(w, 0)) V^T (V the polar
            # factor of the computed eigenvectors), whose eigenvalues are then exact
            w = np.maximum(enc.w, 0.0)
            clipped = enc.w < 0
            s = tuple(mpmath.mpf(float(x)) for x in w)
            s_rad = tuple(0.0 for _ in s)
            below = float(enc.w[clipped].min()) if clipped.any() else 0.0
            notes.append(
                f"{target_name}: rebuilt as V diag(max(s, 0)) V^T from its float64 "
                f"eigendecomposition ({int(clipped.sum())} eigenvalue(s) in [{below:.3g}, 0) "
                f"clipped to 0 as PSD round-off, within tol * ||A||_2 = {limit:.3g}; the "
                f"eigenvalues are known to {enc.max_rad:.2g}, so the rebuilt target is within "
                f"{enc.max_rad + abs(below):.2g} of the file's in ||.||_2)")
            prec["eigenvalues_W"] = ("exact: those of the rebuilt target (float64 eigenvalues "
                                     "of the file's matrix, enclosed to "
                                     f"{enc.max_rad:.2g})")
        else:
            W_f, W_err = A, conv
            s = tuple(mpmath.mpf(float(x)) for x in enc.w)
            s_rad = tuple(float(x) for x in enc.rad)
            prec["eigenvalues_W"] = _f64_enclosed(enc.max_rad)
        s_f = np.array([float(x) for x in s])
    if isinstance(rank, bool) or not isinstance(rank, int) or not 1 <= rank < n:
        raise ValueError(f"rank r must be an integer in 1..{n - 1} for an {n}x{n} target, got {rank!r}")
    kind, relation, perm = "none", "same", None
    t, t_rad, Q, Y_f = s, s_rad, V, W_f
    e_norm, e_rad = mpmath.mpf(0), 0.0
    prec["eigenvalues_Y"] = prec["eigenvalues_W"]
    prec["noise_norm"] = "exact (no perturbation)"

    def target_matrix():
        nonlocal W_f, W_err
        if W_f is not None:
            return W_f, W_err
        M, err = la.sym_product(V, s_f)
        # the instance's V is the polar factor of the computed one; s rounded to float64
        defect = v_defect if v_defect is not None else la._defect(V)
        W_f, W_err = M, la.up(err + la.polar_error(defect, float(np.max(np.abs(s_f)))) +
                              la.U * float(np.max(np.abs(s_f))))
        return W_f, W_err

    if perturbation is not None:
        if _rows(perturbation) != n:
            rows = _rows(perturbation)
            raise ValueError(f"the perturbation is {rows}x{rows} but the target is {n}x{n}"
                             if rows else "the perturbation is not a matrix")
        E, conv, enotes = _prepare_f64(perturbation, perturbation_name, tol)
        notes += enotes
        encE = la.eig_enclosure(E, conv, vectors=False)
        i = 0 if abs(encE.w[0]) >= abs(encE.w[-1]) else n - 1
        e_norm, e_rad = mpmath.mpf(float(abs(encE.w[i]))), float(max(encE.rad[0], encE.rad[-1]))
        Wm, werr = target_matrix()
        Y_f = Wm + E
        enc = la.eig_enclosure(Y_f, la.up(werr + conv + la.U * la.frobenius_bound(Y_f)))
        t, t_rad, Q = tuple(mpmath.mpf(float(x)) for x in enc.w), tuple(map(float, enc.rad)), enc.X
        kind, relation = "file", "general"
        prec["eigenvalues_Y"] = _f64_enclosed(enc.max_rad)
        prec["noise_norm"] = _f64_enclosed(e_rad).replace("every eigenvalue", "||E||_2")
    elif noise is not None:
        e = parse_number(noise, name="noise")
        e_norm, kind = e, noise_kind
        prec["noise_norm"] = _EXACT.format(dps=dps)
        if noise_kind == "worst":
            if e != 0:
                t, perm = _worst_order(s, rank, e)
                Q = V[:, list(perm)]
                relation = "perm"
                t_rad = tuple(s_rad[i] + 0.0 for i in perm)
            if vals is None and any(t_rad):
                prec["eigenvalues_Y"] = _f64_enclosed(max(t_rad))
        else:
            rng = np.random.default_rng(seed + 1)
            orthE = la.orthogonal(rng, n)  # the draws of verify.instances.random_perturbation
            uu = rng.uniform(-1.0, 1.0, n)
            sign = 1.0 if rng.integers(0, 2) == 1 else -1.0
            if e != 0:
                j = int(np.argmax(np.abs(uu)))
                lam = uu / abs(uu[j]) if uu[j] != 0 else np.zeros(n)
                lam[j] = sign
                ef = float(e)
                Em, eerr = la.sym_product(orthE.Q, ef * lam)
                eerr = la.up(eerr + la.polar_error(orthE.defect, ef) + 4 * la.U * ef)
                Wm, werr = target_matrix()
                Y_f = Wm + Em
                extra = la.up(werr + eerr + la.U * la.frobenius_bound(Y_f))
                enc = la.eig_enclosure(Y_f, extra)
                t = tuple(mpmath.mpf(float(x)) for x in enc.w)
                t_rad, Q = tuple(map(float, enc.rad)), enc.X
                relation = "general"
                prec["eigenvalues_Y"] = _f64_enclosed(enc.max_rad)
    return dict(W=W_f, s=tuple(s), V=V, Y=Y_f, t=tuple(t), Q=Q, e=e_norm, kind=kind,
                notes=notes, relation=relation, perm=perm, s_rad=tuple(s_rad),
                t_rad=tuple(t_rad), e_rad=e_rad, precision=prec)


def _prepare_f64(M, name, tol):
    """A user's symmetric matrix as an exactly symmetric float64 array, an upper bound of
    ||result - (M + M^T)/2||_2 (the rounding to float64 and of the symmetrization), and the
    adjustment notes; the messages of :func:`verify.instances.prepare_symmetric`."""
    import numpy as np

    from verify import linalg as la
    from verify.instances import _check_tol

    rtol = float(_check_tol(tol))
    exact_floats = isinstance(M, np.ndarray) and M.dtype.kind in "fiu" and M.dtype.itemsize <= 8
    if isinstance(M, np.ndarray) and M.dtype.kind in "fiu":
        if M.ndim != 2:
            raise ValueError(f"{name}: expected a 2-D square matrix, got a {M.ndim}-D array")
        A = np.array(M, dtype=float)  # a copy: the input is never modified
        if M.dtype.kind in "iu" and np.any(np.abs(M) > 2**53):
            exact_floats = False
    else:
        Am = _validate_rows_f64(M, name)
        A = Am
    if A.shape[0] != A.shape[1]:
        raise ValueError(f"{name}: not square ({A.shape[0]} rows, row 0 has {A.shape[1]} entries)")
    if A.size == 0:
        raise ValueError(f"{name}: empty matrix")
    if not np.all(np.isfinite(A)):
        i, j = map(int, np.argwhere(~np.isfinite(A))[0])
        raise ValueError(f"{name}[{i},{j}]: entry {A[i, j]!r} is NaN or infinite")
    scale = float(np.max(np.abs(A)))
    if scale > 1e100:
        i, j = map(int, np.argwhere(np.abs(A) == scale)[0])
        raise ValueError(f"{name}: entry ({i},{j}) = {A[i, j]:.5g} is out of range: entries "
                         f"must have magnitude at most 1e100")
    D = np.abs(A - A.T)
    asym = float(D.max())
    notes = []
    conv = 0.0 if exact_floats else la.up(la.U * la.frobenius_bound(A))
    if asym > rtol * scale:
        i, j = map(int, np.unravel_index(np.argmax(np.triu(D, 1)), D.shape))
        raise ValueError(
            f"{name}: not symmetric: entry ({i},{j}) = {A[i, j]:.6g} but ({j},{i}) = "
            f"{A[j, i]:.6g}, |difference| {asym:.3g} > tol * max|A| = {rtol * scale:.3g} "
            f"(tol {rtol:.3g}, --tol)")
    if asym > 0:
        S = (A + A.T) / 2
        A = np.triu(S) + np.triu(S, 1).T
        conv = la.up(conv + la.U * la.frobenius_bound(A))
        notes.append(f"{name}: symmetrized (max |A - A^T| = {asym:.3g}, within tol * max|A| = "
                     f"{rtol * scale:.3g})")
    return A, conv, notes


def _validate_rows_f64(M, name):
    """A matrix given as lists of rows or an mpmath matrix, as float64 (ValueError as in
    :func:`verify.instances.validate_matrix`)."""
    import numpy as np

    from verify.instances import _rows_of, _to_mpf

    rows = _rows_of(M, name)
    n = len(rows)
    if n == 0:
        raise ValueError(f"{name}: empty matrix")
    out = np.empty((n, n))
    for i, row in enumerate(rows):
        if len(row) != n:
            raise ValueError(f"{name}: not square ({n} rows, row {i} has {len(row)} entries)")
        for j, x in enumerate(row):
            if isinstance(x, (list, tuple, np.ndarray)):
                raise ValueError(f"{name}: expected a 2-D square matrix, entry ({i},{j}) is a sequence")
            v, _ = _to_mpf(x, what=f"{name}[{i},{j}]")
            out[i, j] = float(v)
    return out


def _n(x, digits=20):
    return None if x is None else mpmath.nstr(x, digits)


def predict(st: Setting) -> dict:
    """What the theory says about this setting (JSON-able).

    Keys: step_bound (largest eta allowed by S1 for W and P1 for Y), hypotheses (name,
    holds), T0_upper, T1_lower (None: infinite), nonempty_predicted, critical_noise (e*);
    with a perturbation also T0_upper_any / T1_lower_any (W-only bounds valid for every
    symmetric E with ||E||_2 <= e). A bound whose hypotheses fail is None. ``precision``
    says what each number rests on.

    Eigenvalues known only within an enclosure (a float64 eigendecomposition,
    :mod:`verify.linalg`): every field is evaluated at the centre of the enclosures and at
    both ends (every eigenvalue at its lower end, every one at its upper end, ||E||_2 at the
    matching end); a field whose value is not the same at all three is None (a hypothesis
    ``"holds": None``) and is named in ``undecided``. Each hypothesis is a condition on one
    eigenvalue at a time that holds on an interval or a half-line, so the ends decide it for
    every point of the enclosure; the integer bounds are decided at the three points.
    """
    if not st.enclosed:
        out = _predict_at(st, list(st.s), list(st.t), st.e)
        out["precision"] = _predict_precision(st)
        return out
    with mpmath.workdps(st.dps):
        srad = [mpmath.mpf(x) for x in (st.s_rad or [0.0] * st.n)]
        trad = [mpmath.mpf(x) for x in (st.t_rad or [0.0] * st.n)]
        erad = mpmath.mpf(st.e_rad)
        slack = max(srad + trad + [erad])
        corners = []
        for sign in (0, -1, 1):
            sv = sorted((max(x + sign * d, mpmath.mpf(0)) for x, d in zip(st.s, srad)), reverse=True)
            tv = sorted((x + sign * d for x, d in zip(st.t, trad)), reverse=True)
            ev = max(st.e + sign * erad, mpmath.mpf(0))
            corners.append(_predict_at(st, sv, tv, ev, weyl_extra=3 * slack,
                                       critical=sign == 0))
    out, lo, hi = corners
    undecided = []
    for key in list(out):
        if not isinstance(out[key], (bool, int)) and out[key] is not None:
            continue  # numbers as text (step bounds, e, e*): the centre's, see precision
        if not (out[key] == lo[key] == hi[key]):
            out[key] = None
            undecided.append(key)
    for h, hl, hh in zip(out["hypotheses"], lo["hypotheses"], hi["hypotheses"]):
        if not (h["holds"] == hl["holds"] == hh["holds"]):
            h["holds"] = None
            undecided.append(f"hypothesis {h['name']}")
    out["undecided"] = undecided
    out["precision"] = _predict_precision(st)
    return out


def _predict_precision(st):
    p = dict(st.precision)
    p["bounds"] = (f"dps {st.dps}; the integer bounds, nonempty and the hypotheses decided at "
                   f"the centre and both ends of every eigenvalue enclosure, the step bounds "
                   f"and e* given at the centre" if st.enclosed
                   else f"dps {st.dps} from the eigenvalues above")
    if st.enclosed and any(st.s_rad or ()):
        p["critical_noise"] = (f"bisection to 1e-12 s_r at dps {st.dps}, at the centre of the "
                               f"enclosures of W's eigenvalues")
    return p


def _predict_at(st: Setting, s, t, e, weyl_extra=0, critical=True) -> dict:
    """:func:`predict` for the eigenvalues ``s``, ``t`` and noise size ``e`` given."""
    with mpmath.workdps(st.dps):
        N, a, h, r, eps, th = st.depth, st.alpha, st.eta, st.r, st.eps, st.theta
        aN = a**N
        # every bound from bounds/: S1's step bound for W, P1's for Y, S3 positivity
        s1_bound = monotone_step_bound(max(s[0], aN), N)
        p1_bound = p1_step_bound(t, a, N)
        step_bound = min(s1_bound, p1_bound)
        neg = [ti for ti in t if ti <= 0]
        positivity = None
        if neg:  # S3 positivity for the most negative eigenvalue (a strict bound)
            positivity = s3_positivity_step_bound(min(neg), a, N)
        hyps = [
            ("gap s_r > s_r+1", s[r - 1] > s[r]),
            ("theta >= alpha^N", th >= aN),
            ("alpha^N < (1-eps) s_r", aN < (1 - eps) * s[r - 1]),
            ("eta <= 1/(N s_1^A) (S1 for W)", monotone_step_holds(s[0], h, N)),
        ]
        out = {"dps": st.dps, "depth": N, "rank": r, "noise": st.noise, "noise_norm": _n(e),
               "step_bound": _n(step_bound), "step_bound_positivity": _n(positivity)}
        noiseless = st.noise == "none" or e == 0
        l1_ok = l1_hypotheses(s, r, eps, th, a, h, N)
        if noiseless:
            out["T0_upper"] = ub0(s, r, eps, th, a, h, N) if l1_ok else None
            out["T1_lower"] = lb1(s, r, eps, th, a, h, N) if l1_ok else None
            out["nonempty_predicted"] = bool(spectral_condition(s, r, eps, th, a, h, N))
        else:
            p1 = p1_hypotheses(t, a, h, N)
            # eigenvalues of Y are computed: allow their rounding in the Weyl consistency
            weyl_tol = (mpmath.mpf(10) ** -(st.dps - 10) * max(abs(t[0]), abs(t[-1]), e, 1)
                        + weyl_extra)
            p4 = p4_hypotheses(t, s, r, e, eps, th, a, h, N, weyl_tol=weyl_tol)
            hyps += [("P1: eta <= 1/(N max(t_1, alpha^N)^A) and positivity", p1),
                     ("P4 (bounds from Y's eigenvalues)", p4)]
            ub, lb = p4_bounds(t, s, r, e, eps, th, a, h, N) if p4 else (None, None)
            out["T0_upper"], out["T1_lower"] = ub, lb
            out["nonempty_predicted"] = bool(p4 and (lb is None or ub <= lb))
            anyok = e < s[r - 1] and p4_any_hypotheses(s, r, e, eps, th, a, h, N)
            hyps.append(("P4 W-only (every E with ||E|| <= e)", anyok))
            ua, la = p4_bounds_any(s, r, e, eps, th, a, h, N) if anyok else (None, None)
            out["T0_upper_any"], out["T1_lower_any"] = ua, la
            out["nonempty_predicted_any"] = bool(anyok and (la is None or ua <= la))
        out["hypotheses"] = [{"name": k, "holds": bool(v)} for k, v in hyps]
        if out["T1_lower"] is None and out["T0_upper"] is not None:
            out["T1_lower_infinite"] = True
        # e* reads s_1..s_(r+1) and s_n only (bounds.perturbed.p4_any_condition): the middle
        # of a long spectrum is left out of its ~40 bisection steps
        s_c = list(s[:r + 1]) + (list(s[-1:]) if len(s) > r + 1 else [])
        estar = critical_noise(s_c, r, eps, th, a, h, N) if l1_ok and critical else None
        out["critical_noise"] = _n(estar)
        out["eigenvalues_W"] = [_n(v, 12) for v in s]
        out["eigenvalues_Y"] = [_n(v, 12) for v in t]
        out["adjustments"] = list(st.adjustments)
        return out


def _learned_level(st, i):
    return (1 - st.eps) * st.t[i]


STATUSES = ("ok", "censored", "undecided", "diverged")


@dataclass
class _Observation:
    """What one engine saw: ``hits[i]`` = (first step, ambiguous, first ambiguous step) of
    lane i's learned level (None: t_i <= 0, no level), ``hits[n]`` that of the theta event of
    lane r+1; ``divergence`` = (step, lane) of the first lane to leave |x| <= bound, or None;
    ``limit_error``: ||P - W||_F at the last step (None after a divergence);
    ``interval_error(ks, end)``: max over the steps ks of ||P(k) - W_r||_2;
    ``iterates``: what precision the iterates have (one sentence); ``enclosure_lanes``:
    lanes whose ambiguity comes from the enclosure of their eigenvalue."""

    hits: list
    divergence: tuple | None
    limit_error: object
    interval_error: object
    iterates: str
    enclosure_lanes: tuple = ()


def _divergence_bound(st) -> float:
    """|x| above this is divergence, in both engines (the reduced engine's default)."""
    with mpmath.workdps(st.dps):
        scale = max([mpmath.mpf(1), st.alpha] + [abs(t) ** (mpmath.mpf(1) / st.depth) for t in st.t])
        return float(10 * scale)


def _levels(st):
    """(slot, lane, level, strict): the learned level of every lane with t_i > 0, then the
    theta event of lane r+1 (slot n)."""
    out = [(i, i, _learned_level(st, i), False) for i in range(st.n) if st.t[i] > 0]
    out.append((st.n, st.r, st.raw.get("theta", st.theta), True))
    return out


# ------------------------------------------------------------------ norms in Q's basis


class _Geometry:
    """||Q diag(p) Q^T - W_r||_2 and ||Q diag(p) Q^T - W||_F for the eigenvalues p of a product
    under R1, without forming the products: with Q = V (no noise) or a permutation of V
    (Weyl-extremal noise) they are norms of diagonal matrices; otherwise the r x n block
    H_r = Q^T V_r is formed once and each norm is that of ``diag(p) - H_r S_r H_r^T`` (float64:
    LAPACK eigvalsh; mpmath: at dps)."""

    def __init__(self, st):
        self.st = st
        n, r = st.n, st.r
        self.f64 = st.linalg == "float64"
        if st.relation in ("same", "perm"):
            perm = st.perm if st.relation == "perm" else tuple(range(n))
            self.sv = [st.s[perm[j]] for j in range(n)]
            self.flag = [perm[j] < r for j in range(n)]
            self.kind = "diagonal"
            return
        self.kind = "general"
        if self.f64:
            import numpy as np

            s_f = np.array([float(x) for x in st.s])
            H = st.Q.T @ st.V
            Hr = H[:, :r]
            self.Z = Hr * np.sqrt(np.maximum(s_f[:r], 0.0))  # Q^T W_r Q = Z Z^T
            if st.W is not None:
                self.K = st.Q.T @ (st.W @ st.Q)
            else:
                self.K = (H * s_f) @ H.T
        else:
            with mpmath.workdps(st.dps):
                W_r = _best_rank(st)
                self.Kr = st.Q.T * W_r * st.Q
                self.K = st.Q.T * st.W * st.Q

    def _vec(self, p):
        if self.f64:
            import numpy as np

            return np.array([float(x) for x in p])
        return list(p)

    def interval(self, p):
        st = self.st
        if self.kind == "diagonal":
            if self.f64:
                import numpy as np

                pv = self._vec(p)
                sv = np.array([float(x) if f else 0.0 for x, f in zip(self.sv, self.flag)])
                return mpmath.mpf(float(np.max(np.abs(pv - sv))))
            with mpmath.workdps(st.dps):
                return max(abs(x - (s if f else 0)) for x, s, f in zip(p, self.sv, self.flag))
        if self.f64:
            from verify.linalg import diag_minus_lowrank_norm

            return mpmath.mpf(diag_minus_lowrank_norm(self._vec(p), self.Z))
        with mpmath.workdps(st.dps):
            return spectral_norm(mpmath.diag(list(p)) - self.Kr, dps=st.dps)

    def limit(self, p):
        st = self.st
        if self.kind == "diagonal":
            if self.f64:
                import numpy as np

                return mpmath.mpf(float(np.sqrt(np.sum((self._vec(p) - np.array(
                    [float(x) for x in self.sv])) ** 2))))
            with mpmath.workdps(st.dps):
                return mpmath.sqrt(mpmath.fsum((x - s) ** 2 for x, s in zip(p, self.sv)))
        if self.f64:
            import numpy as np

            M = np.diag(self._vec(p)) - self.K
            return mpmath.mpf(float(np.sqrt(np.sum(M * M))))
        with mpmath.workdps(st.dps):
            return mpmath.mnorm(mpmath.diag(list(p)) - self.K, "f")


def _observe_reduced(st, max_steps, bound, progress, geo):
    levels = _levels(st)
    events = [Event(lane, level, strict=strict) for _, lane, level, strict in levels]
    total = st.n * max_steps

    def tick(lane, k):  # always given, so that the run does not depend on who watches it
        if progress is not None:
            progress(lane * max_steps + k, total, "simulate")
    run = simulate_reduced(st.t, depth=st.depth, alpha=st.raw.get("alpha", st.alpha),
                           eta=st.raw.get("eta", st.eta), dps=st.dps, events=events,
                           max_steps=max_steps, stop_when_settled=False,
                           divergence_bound=bound, progress=tick)
    hits = [None] * (st.n + 1)
    for (slot, *_), h in zip(levels, run.hits):
        hits[slot] = (h.step, h.ambiguous, h.first_ambiguous)
    div = min(((lane.divergence_step, i) for i, lane in enumerate(run.lanes) if lane.diverged),
              default=None)
    with mpmath.workdps(st.dps):
        final = None if div else geo.limit([lane.x ** st.depth for lane in run.lanes])

    def interval_error(ks, end):
        cp = simulate_reduced(st.t, depth=st.depth, alpha=st.raw.get("alpha", st.alpha),
                              eta=st.raw.get("eta", st.eta), dps=st.dps, max_steps=end,
                              checkpoints=ks, stop_when_settled=False)
        with mpmath.workdps(st.dps):
            vals = [geo.interval([x ** st.depth for x in cp.checkpoints[k]])
                    for k in ks if k in cp.checkpoints]
        return max(vals) if vals else None

    # radii below the working precision's own margin change nothing worth naming
    with mpmath.workdps(st.dps):
        wide = any(r > mpmath.mpf(10) ** -(st.dps - 10) * max(abs(t), 1)
                   for r, t in zip(st.t_rad or (), st.t))
    where = (", at the centres of the eigenvalue enclosures (their radius is not propagated "
             "into the iterates)" if wide else "")
    return _Observation(hits, div, final, interval_error, f"dps {st.dps}{where}")


def _provisional_ks(st, hits_learned, theta_hit, max_steps, samples):
    """The sample steps of [T0, min(T1, K)] from the hits of lanes 1..r+1 (None when T0 or
    the interval is not decided from them)."""
    if any(h is None or h[0] is None or h[1] for h in hits_learned):
        return None
    T0 = max(h[0] for h in hits_learned)
    if theta_hit is None or theta_hit[1]:
        return None
    end = max_steps if theta_hit[0] is None else min(theta_hit[0] - 1, max_steps)
    if end < T0:
        return None
    return sorted({T0 + (end - T0) * j // max(samples - 1, 1) for j in range(samples)})


def _observe_fast(st, max_steps, bound, progress, geo, samples):
    """All lanes at once in float64 (verify/fastlanes.py); a lane whose comparison is
    ambiguous is run again by the gmpy2 engine at dps when its eigenvalue is known at dps
    (no enclosure radius), and stays ambiguous (undecided) otherwise. A pilot run of lanes
    1..r+1 fixes the sample steps of [T0, T1], so one pass of all lanes also gives them."""
    import numpy as np

    from verify.fastlanes import run_lanes

    n, N = st.n, st.depth
    levels = _levels(st)
    alpha_f, eta_f = float(st.alpha), float(st.eta)
    t_f = np.array([float(x) for x in st.t])
    rad = np.array(st.t_rad if st.t_rad is not None else [0.0] * n, dtype=float)
    lane_rad = rad + 2 * np.abs(t_f) * 2.0**-53  # the rounding of t_i to float64
    a_x = _exact(st.raw.get("alpha", st.alpha))

    def fast_events(lanes):
        pos = {lane: j for j, lane in enumerate(lanes)}
        evs, slots, exact0 = [], [], {}
        for slot, lane, level, strict in levels:
            if lane not in pos:
                continue
            d = to_mpf(level, name="level")
            d_f = float(d)
            d_rad = abs(float(d - mpmath.mpf(d_f))) + 2.0**-60 * abs(d_f)
            if slot < n:
                d_rad += (1 - float(st.eps)) * rad[lane]  # the level (1 - eps) t_i moves with t_i
            d_x = _exact(level)
            if a_x is not None and d_x is not None:
                p = a_x ** N
                exact0[len(evs)] = (p > d_x) if strict else (p >= d_x)
            evs.append((pos[lane], d_f, d_rad, strict))
            slots.append(slot)
        return evs, slots, exact0

    def run(lanes, checkpoints, prog, pilot=False):
        evs, slots, exact0 = fast_events(lanes)
        res = run_lanes(t_f[lanes], lane_rad[lanes], depth=N, alpha=alpha_f, eta=eta_f,
                        events=evs, max_steps=max_steps, checkpoints=checkpoints,
                        divergence_bound=bound, exact0=exact0, progress=prog,
                        stop_when_decided=pilot)
        return res, slots

    escalated: dict[int, object] = {}

    def exact_lane(i):
        """Lane i at dps (the gmpy2 engine): its events' hits and divergence."""
        if i not in escalated:
            lv = [(slot, level, strict) for slot, lane, level, strict in levels if lane == i]
            r1 = simulate_reduced([st.t[i]], depth=N, alpha=st.raw.get("alpha", st.alpha),
                                  eta=st.raw.get("eta", st.eta), dps=st.dps,
                                  events=[Event(0, level, strict=strict) for _, level, strict in lv],
                                  max_steps=max_steps, stop_when_settled=False,
                                  divergence_bound=bound, progress=lambda *a: None)
            escalated[i] = ({slot: (h.step, h.ambiguous, h.first_ambiguous)
                             for (slot, _, _), h in zip(lv, r1.hits)},
                            r1.lanes[0].divergence_step if r1.lanes[0].diverged else None)
        return escalated[i]

    def settle(res, slots, lanes):
        """hits by slot and divergence by lane, ambiguous lanes escalated where possible."""
        hits, div, encl = {}, {}, set()
        for slot, h in zip(slots, res.hits):
            hits[slot] = h
        for j, lane in enumerate(lanes):
            if res.diverged[j] >= 0:
                div[lane] = int(res.diverged[j])
        amb_lanes = sorted({levels_lane[slot] for slot, h in hits.items() if h[1]})
        for i in amb_lanes:
            if rad[i] > 0:
                encl.add(i)
                continue
            h_ex, d_ex = exact_lane(i)
            hits.update(h_ex)
            div.pop(i, None)
            if d_ex is not None:
                div[i] = d_ex
        return hits, div, encl

    levels_lane = {slot: lane for slot, lane, _, _ in levels}
    r = st.r
    pilot_lanes = list(range(min(r + 1, n)))
    pres, pslots = run(pilot_lanes, (), None, pilot=True)
    phits, pdiv, _ = settle(pres, pslots, pilot_lanes)
    learned = [phits.get(i) for i in range(r)]
    ks = None if pdiv else _provisional_ks(st, learned, phits.get(n), max_steps, samples)
    res, slots = run(list(range(n)), ks or (),
                     None if progress is None else (lambda k, tot: progress(k, tot, "simulate")))
    mhits, mdiv, encl = settle(res, slots, list(range(n)))
    hits = [None] * (n + 1)
    for slot, h in mhits.items():
        hits[slot] = h
    div = min(((k, i) for i, k in mdiv.items()), default=None)
    final = None if div else geo.limit(res.x ** N)

    def interval_error(ks2, end):
        if ks is not None and list(ks2) == list(ks) and all(k in res.checkpoints for k in ks2):
            cps = res.checkpoints
        else:  # the sample steps moved (not expected): a second pass up to `end`
            res2 = run_lanes(t_f, lane_rad, depth=N, alpha=alpha_f, eta=eta_f, events=(),
                             max_steps=end, checkpoints=ks2, divergence_bound=bound)
            cps = res2.checkpoints
        vals = [geo.interval(cps[k][0] ** N) for k in ks2 if k in cps
                and not np.isnan(cps[k][0]).any()]
        return max(vals) if vals else None

    esc = sorted(i for i in escalated)
    what = "float64 (first-order rounding margins and the enclosure radii, all eigenvalues at once)"
    if esc:
        what += (f"; lane(s) {', '.join(str(i + 1) for i in esc[:10])}"
                 f"{' ...' if len(esc) > 10 else ''} re-run at dps {st.dps} (a comparison "
                 f"inside the float64 margin)")
    return _Observation(hits, div, final, interval_error, what, tuple(sorted(encl)))


def _observe_full(st, max_steps, bound, progress, samples_total=None):
    """The N-factor iteration, read off in Y's eigenbasis at every step: lane i's x_i^N is
    q_i^T P(k) q_i (exactly, under R1). A level within the margin of it is ambiguous (mpmath:
    10^-(dps-10) relative; float64: a first-order bound growing with the step, n and N);
    lane i diverges when |q_i^T P q_i| > bound^N (|x_i| > bound, the reduced engine's test);
    step 0 is decided exactly from the inputs, as in the reduced engine. Streamed: only the
    factors and their partial products are held (O(N n^2)); the error norms are computed as
    the run goes."""
    from verify.fullgd import simulate_full

    n, N = st.n, st.depth
    f64 = st.linalg == "float64"
    levels = _levels(st)
    with mpmath.workdps(st.dps):
        boundN = mpmath.mpf(bound) ** N
        scale = max([abs(x) for x in st.t] + [st.alpha ** N])
        tol = mpmath.mpf(10) ** -(st.dps - 10)
        lv = [(slot, lane, to_mpf(level, name="level"), _exact(level), strict)
              for slot, lane, level, strict in levels]
    a_x = _exact(st.raw.get("alpha", st.alpha))
    if f64:
        import numpy as np

        Qf = np.asarray(st.Q, dtype=float)
        Y = _y_matrix_f64(st)
        W = _w_matrix_f64(st)
        lvf = [(slot, lane, float(d), d_x, strict) for slot, lane, d, d_x, strict in lv]
        boundNf, scalef = float(boundN), float(scale)
        t_rad = np.array(st.t_rad or [0.0] * n)
        U53 = 2.0**-53
    else:
        import flint
        from mpmath.libmp import dps_to_prec

        from verify.fullgd import _arb_matrix, _mp_matrix, from_arb

        prec = dps_to_prec(st.dps)
        with mpmath.workdps(st.dps), flint.ctx.workprec(prec):
            Qa = _arb_matrix(st.Q)
            QaT = Qa.transpose()
        Y, W = st.Y, st.W
    state = {slot: [None, False, None] for slot, *_ in lv}  # first step, ambiguous, first ambiguous
    div = []
    final = {}
    total = max_steps + (samples_total or 0)
    every = max(1, total // 400)

    def read_off(k, P):
        if f64:
            return (Qf * (P @ Qf)).sum(axis=0)
        with mpmath.workdps(st.dps), flint.ctx.workprec(prec):
            D = QaT * P * Qa
            return [from_arb(D[i, i]) for i in range(n)]

    def monitor(k, P):
        u = read_off(k, P)
        if f64:
            # first-order margin of the float64 iteration: each step rounds the N products
            # (~N n u relative) and the rounding accumulates along slowly contracting lanes
            marg = 64 * N * n * U53 * (k + 1)
        for slot, lane, d, d_x, strict in (lvf if f64 else lv):
            rec = state[slot]
            if rec[0] is not None:
                continue
            if k == 0 and a_x is not None and d_x is not None:
                p = a_x ** N
                if (p > d_x) if strict else (p >= d_x):
                    rec[0] = 0
                continue
            gap = u[lane] - d
            if f64:
                amb = abs(gap) <= marg * max(abs(d), scalef) + (t_rad[lane] if slot < n else 0.0)
            else:
                with mpmath.workdps(st.dps):
                    amb = abs(gap) <= tol * max(abs(d), scale)
            if amb:
                if not rec[1]:
                    rec[2] = k
                rec[1] = True
            elif gap > 0:
                rec[0] = k
        if f64:
            bad = [int(i) for i in np.nonzero(~np.isfinite(u) | (np.abs(u) > boundNf))[0]]
        else:
            bad = [i for i in range(n) if abs(u[i]) > boundN]
        if progress is not None and (k % every == 0 or k == max_steps):
            progress(k, total, "simulate")
        if k == max_steps and not bad:
            final["P"] = _frobenius_error(P if f64 else _mp_matrix(P), W, st, f64)
        if bad:
            div.append((k, bad[0]))
            return True
        return False

    run = simulate_full(Y, depth=N, eta=st.eta, alpha=st.alpha, steps=max_steps,
                        checkpoints=(), dps=st.dps, monitor=monitor, divergence_bound=None,
                        arithmetic="float64" if f64 else "arb")
    hits = [None] * (n + 1)
    for slot, rec in state.items():
        hits[slot] = tuple(rec)
    if not div and run.diverged:  # an entry became non-finite first (not expected)
        div.append((run.diverged_step, 0))
    limit = None if div else final.get("P")

    def interval_error(ks, end):
        W_r = _w_rank_matrix(st, f64)
        want = set(ks)
        worst = []

        def mon2(k, P):
            if k in want:
                worst.append(_spectral_error(P if f64 else _mp_matrix(P), W_r, st, f64))
            if progress is not None and (k % every == 0 or k == end):
                progress(min(max_steps + k, total), total, "simulate")
            return False

        simulate_full(Y, depth=N, eta=st.eta, alpha=st.alpha, steps=end, checkpoints=(),
                      dps=st.dps, monitor=mon2, divergence_bound=None,
                      arithmetic="float64" if f64 else "arb")
        return max(worst) if worst else None

    what = (f"dps {st.dps}" if not f64 else
            "float64 (a first-order margin 64 N n u (k+1) relative)")
    return _Observation(hits, div[0] if div else None, limit, interval_error, what)


def _y_matrix_f64(st):
    import numpy as np

    from verify.linalg import sym_product

    if st.Y is not None:
        return np.asarray(st.Y, dtype=float)
    return sym_product(np.asarray(st.Q, dtype=float), np.array([float(x) for x in st.t]))[0]


def _w_matrix_f64(st):
    import numpy as np

    from verify.linalg import sym_product

    if st.W is not None:
        return np.asarray(st.W, dtype=float)
    return sym_product(np.asarray(st.V, dtype=float), np.array([float(x) for x in st.s]))[0]


def _w_rank_matrix(st, f64):
    if not f64:
        return _best_rank(st)
    import numpy as np

    from verify.linalg import sym_product

    V = np.asarray(st.V, dtype=float)
    return sym_product(V[:, :st.r], np.array([float(x) for x in st.s[:st.r]]))[0]


def _frobenius_error(P, W, st, f64):
    if f64:
        import numpy as np

        return mpmath.mpf(float(np.sqrt(np.sum((P - W) ** 2))))
    with mpmath.workdps(st.dps):
        return mpmath.mnorm(mpmath.matrix(P) - W, "f")


def _spectral_error(P, W_r, st, f64):
    if f64:
        import numpy as np

        w = np.linalg.eigvalsh(P - W_r)
        return mpmath.mpf(float(max(abs(w[0]), abs(w[-1]))))
    return spectral_norm(mpmath.matrix(P) - W_r, dps=st.dps)


def _fmt_level(x):
    return mpmath.nstr(x, 6)


def simulate(st: Setting, *, max_steps: int = 100_000, full_matrix: bool = False,
             samples: int = 33, max_seconds=None, max_memory_mb=None, progress=None) -> dict:
    """What gradient descent does (JSON-able). Both engines give the same fields.

    ``status`` says how far the run decides what it reports, ``reason`` says why (None for
    "ok"):

    * ``"ok"``: every reported time was observed within ``steps``;
    * ``"censored"``: some level was not reached within ``max_steps``: its time is the
      string ``"> K"`` (hitting times, T0) or ``">= K"`` (T1), K = max_steps; T0 known and
      T1 censored still decides ``nonempty`` (T0 <= K <= T1);
    * ``"undecided"``: some level crossing fell within the rounding margin at this
      precision: that time is None (and ``nonempty`` when it depends on it); raise ``dps``.
      An exact tie theta = t_{r+1} (the iterate of lane r+1 converges to theta itself) is
      undecided at every precision: ``reason`` names it;
    * ``"diverged"``: lane ``divergence_lane`` (1-based, Y's eigenvalues descending) left
      |x| <= 10 max(1, alpha, |t_i|^(1/N)) at step ``divergence_step`` = ``steps``: T0, T1
      and ``nonempty`` are None, hitting times after that step None.

    Keys: T0, T1 (``T1 = min{k : x_{r+1}^N > theta} - 1``), nonempty, hitting_times (per
    eigenvalue of Y, first k with x_i^N >= (1-eps) t_i; None for t_i <= 0), steps, dps,
    decided (status is not "undecided"), diverged, divergence_step, divergence_lane,
    error_in_interval (max over ``samples`` evenly spaced steps of [T0, min(T1, steps)] of
    ||P(k) - W_r||_2), limit_error (||P - W||_F at the last step), limit_error_of_Y_plus,
    adjustments (changes made to user matrices), engine. ``full_matrix`` runs the N-factor
    matrix iteration instead of the reduced dynamics.

    A run estimated above ``max_seconds`` / ``max_memory_mb`` (:mod:`verify.limits`) is
    refused before any work. ``progress(done, total, label)`` is called as the run goes.
    """
    if isinstance(max_steps, bool) or not isinstance(max_steps, int) or max_steps < 1:
        raise ValueError(f"max steps must be a positive integer, got {max_steps!r}")
    N, r, n = st.depth, st.r, st.n
    bound = _divergence_bound(st)
    fast = _use_fast_lanes(st, bound) if not full_matrix else False
    check_cost(n, depth=N, dps=st.dps, setup=False, max_steps=max_steps, full_matrix=full_matrix,
               samples=samples, max_seconds=max_seconds, max_memory_mb=max_memory_mb,
               linalg=st.linalg, fast_lanes=fast)
    from verify.linalg import blas_threads

    with blas_threads():
        out = _simulate(st, max_steps, full_matrix, samples, bound, fast, progress)
    if progress is not None and full_matrix:
        progress(1, 1, "simulate")  # the second pass may end before the total it announced
    return out


def _simulate(st, max_steps, full_matrix, samples, bound, fast, progress):
    N, r, n = st.depth, st.r, st.n
    geo = None if full_matrix else _Geometry(st)
    with mpmath.workdps(st.dps):
        if full_matrix:
            obs = _observe_full(st, max_steps, bound, progress, samples_total=max_steps)
        elif fast:
            obs = _observe_fast(st, max_steps, bound, progress, geo, samples)
        else:
            obs = _observe_reduced(st, max_steps, bound, progress, geo)
        div = obs.divergence
        K = div[0] if div else max_steps

        def state(h):
            if h is None:
                return "none", None
            step, amb, _ = h
            if div and step is not None and step > K:
                step = None
            if amb:
                return "undecided", None
            if step is not None:
                return "hit", step
            return ("unreached", None) if div else ("censored", None)

        lanes = [state(obs.hits[i]) for i in range(n)]
        theta_state = state(obs.hits[n])
        hitting = [v if kind == "hit" else (f"> {K}" if kind == "censored" else None)
                   for kind, v in lanes]
        undecided, censored = [], []
        for i, (kind, _) in enumerate(lanes):
            if kind in ("undecided", "censored"):
                (undecided if kind == "undecided" else censored).append(
                    f"hitting time {i + 1} (x_{i + 1}^N >= {_fmt_level(_learned_level(st, i))})")
        learned = lanes[:r]
        if div or any(k == "none" for k, _ in learned):
            T0 = None
        elif any(k == "censored" for k, _ in learned):
            T0 = f"> {K}"
        elif any(k == "undecided" for k, _ in learned):
            T0 = None
        else:
            T0 = max(v for _, v in learned)
        what1 = f"T1 (x_{r + 1}^N > theta = {_fmt_level(st.theta)})"
        if div:
            T1 = None
        elif theta_state[0] == "hit":
            T1 = theta_state[1] - 1
        elif theta_state[0] == "censored":
            T1 = f">= {K}"
            censored.append(what1)
        else:
            T1 = None
            undecided.append(what1)
        if div:
            nonempty = None
        elif isinstance(T0, int) and isinstance(T1, int):
            nonempty = T0 <= T1
        elif isinstance(T0, int) and isinstance(T1, str):
            nonempty = True
        elif isinstance(T0, str) and isinstance(T1, int):
            nonempty = False
        elif isinstance(T0, int) and theta_state[0] == "undecided":
            # every comparison before the first ambiguous one was decided: T1 >= that - 1
            first = obs.hits[n][2]
            nonempty = True if first is not None and T0 <= first - 1 else None
        elif T0 is None and any(k == "none" for k, _ in learned):
            nonempty = False
        else:
            nonempty = None
        if div:
            status = "diverged"
            k, lane = div
            reason = (f"lane {lane + 1} (t_{lane + 1} = {_fmt_level(st.t[lane])}) diverged at "
                      f"step {k}: |x_{lane + 1}| > {bound:.6g}; T0, T1 and nonempty are not "
                      f"defined")
        elif undecided:
            status = "undecided"
            undecided = _few(undecided)
            reason = _undecided_reason(st, undecided, theta_state[0] == "undecided",
                                       obs.enclosure_lanes)
        elif censored:
            status = "censored"
            reason = (f"not reached within {K} steps: {', '.join(_few(censored))}; raise "
                      f"--max-steps to see further")
        else:
            status, reason = "ok", None
        tie = _tie(st) if theta_state[0] != "hit" else None
        if tie and status != "undecided":
            reason = f"{reason}; {tie}" if reason else tie
        if any(k == "none" for k, _ in learned):
            note = f"t_{r} <= 0: the top-r eigenvalues of Y have no learned level, T0 is not defined"
            reason = note if reason is None else f"{reason}; {note}"
        err_in = None
        if isinstance(T0, int) and nonempty and isinstance(T1, (int, str)):
            end = min(T1 if isinstance(T1, int) else K, K)  # T1 ">= K": [T0, K] is inside
            ks = sorted({T0 + (end - T0) * j // max(samples - 1, 1) for j in range(samples)})
            err_in = obs.interval_error(ks, end)
        limit_err = obs.limit_error
        geo = geo or _Geometry(st)
        yplus_err = geo.limit([max(v, 0) for v in st.t])
        fmt = _n if st.linalg == "mpmath" else _n15
        norms = (f"dps {st.dps}" if st.linalg == "mpmath" else
                 "float64 (LAPACK; about 1e-13 relative, not enclosed)")
        precision = {"eigenvalues_Y": st.precision.get("eigenvalues_Y"),
                     "iterates": obs.iterates, "norms": norms}
        return {
            "status": status, "reason": reason,
            "T0": T0, "T1": T1, "nonempty": nonempty, "hitting_times": hitting,
            "steps": K, "dps": st.dps, "decided": status != "undecided",
            "diverged": div is not None,
            "divergence_step": div[0] if div else None,
            "divergence_lane": div[1] + 1 if div else None,
            "error_in_interval": fmt(err_in), "limit_error": fmt(limit_err),
            "limit_error_of_Y_plus": fmt(yplus_err),
            "adjustments": list(st.adjustments),
            "engine": "full-matrix" if full_matrix else "reduced",
            "precision": precision,
        }


def _tie(st):
    """A sentence naming the tie theta = t_{r+1} (exact, or to the working precision), or None."""
    r = st.r
    tie = None
    rad = (st.t_rad or [0.0] * st.n)[r]
    if st.theta_exact is not None and st.t_exact is not None:
        if st.theta_exact == st.t_exact[r]:
            tie = "exactly"
    elif abs(st.theta - st.t[r]) <= mpmath.mpf(10) ** -(st.dps - 10) * max(abs(st.t[r]), st.theta):
        tie = "to the working precision"
    elif rad and abs(st.theta - st.t[r]) <= rad:
        name = "s" if st.noise == "none" else "t"
        return (f"theta = {_fmt_level(st.theta)} lies within the enclosure of {name}_{r + 1} = "
                f"{_fmt_level(st.t[r])} (float64 eigendecomposition, radius {rad:.2g}): whether "
                f"x_{r + 1}^N ever exceeds theta is not decided at this precision; give --theta "
                f"away from {name}_{r + 1} (or --linalg mpmath for small n)")
    if not tie:
        return None
    name = "s" if st.noise == "none" else "t"
    dflt = " (the default theta = eps * s_r)" if st.theta_default else ""
    return (f"tie: theta = {name}_{r + 1} = {_fmt_level(st.theta)} {tie}{dflt}: "
            f"x_{r + 1}^N converges to theta itself, so whether and when it exceeds theta is "
            f"not decided at any precision; give --theta away from {name}_{r + 1}")


def _undecided_reason(st, undecided, theta_undecided, enclosure_lanes=()):
    tie = _tie(st) if theta_undecided else None
    if tie:
        return tie
    if enclosure_lanes:
        lanes = ", ".join(f"t_{i + 1}" for i in enclosure_lanes[:5])
        rad = max(st.t_rad[i] for i in enclosure_lanes)
        return (f"within the enclosure of Y's eigenvalues ({lanes}: float64 eigendecomposition, "
                f"radius up to {rad:.2g}): {', '.join(undecided)}; the eigenvalues are known "
                f"at dps only with --linalg mpmath (small n)")
    return (f"within the rounding margin at dps {st.dps}: {', '.join(undecided)}; raise --dps")


def _few(items, k=6):
    """At most k items named, then how many more (the T1 item, last, always named)."""
    items = list(items)
    if len(items) <= k:
        return items
    last = items[-1] if items[-1].startswith("T1") else None
    head = [x for x in items if x is not last][:k - (1 if last else 0)]
    more = len(items) - len(head) - (1 if last else 0)
    return head + [f"... {more} more"] + ([last] if last else [])


def _n15(x):
    return None if x is None else mpmath.nstr(x, 15)


def _use_fast_lanes(st, bound):
    """The float64 lanes for a float64-mode setting whose run float64 can hold."""
    from verify.fastlanes import applicable

    return st.linalg == "float64" and applicable(st.depth, float(st.alpha), bound)


def _product(st, xs):
    """Q diag(x_i^N) Q^T."""
    D = mpmath.diag([x**st.depth for x in xs])
    return st.Q * D * st.Q.T


def _best_rank(st):
    vals = [st.s[i] if i < st.r else 0 for i in range(st.n)]
    return st.V * mpmath.diag(vals) * st.V.T
