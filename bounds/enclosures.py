"""Closed-form bounds as rigorous enclosures (python-flint arb balls).

The same quantities as :mod:`bounds.flow` (tau through G, rho, J_N, the K1/K2/K3 bounds),
evaluated in ball arithmetic: every result is a ball that provably contains the exact value
for every input in the argument balls. Arguments are arb balls (an exact float input is the
point ball of its binary value); the working precision is flint's (``flint.ctx.workprec``).
The special functions are flint's rigorous ones (``log``, ``hypgeom_2f1``), never mpmath.
The certified volume stage (:mod:`verify.volume`) decides its verdicts with these.

>>> from flint import arb, ctx
>>> with ctx.workprec(100):
...     print(tau_ball(arb(1), arb("0.01"), arb("0.5"), 2).str(10, radius=False))
2.297559925
>>> with ctx.workprec(100):
...     print(k2_upper_real_ball(arb(1), arb("0.5"), arb("0.1"), arb("0.25"), 2).str(8, radius=False))
11.487800

The low-rank bounds (L1, L3) compare integers with the real arguments UB0 = ceil(ub0) and
LB1 = ceil(lb1) - 1, as :mod:`bounds.lowrank` does. R1's map :func:`phi_ball` takes a ball or
a ball matrix (the matrix form of the reduced dynamics).
"""

from __future__ import annotations

from flint import arb, fmpq

__all__ = [
    # the reduced map (R1)
    "phi_ball",
    # flow time and overshoot factor
    "G_ball",
    "tau_ball",
    "rho_ball",
    "J_N_ball",
    # K-family bounds
    "k1_lower_ball",
    "k2_upper_real_ball",
    "k3_lower_ball",
    "k3_upper_ball",
    # perturbed (P family)
    "p1_step_limit_ball",
    "p1_distance_bound_ball",
    "y_plus_eigenvalues_ball",
    "p2_bounds_ball",
    "p3_bounds_real_ball",
    "p4_step_limit_ball",
    "p4_bounds_real_ball",
    "p5_error_bound_ball",
    # L-family bounds
    "ub0_real_ball",
    "lb1_real_ball",
    "l3_ratio_threshold_ball",
    "l2_error_bound_ball",
    # step bounds
    "s3_positivity_step_bound_ball",
    "s3_decreasing_step_bound_ball",
]


def _A(N: int) -> arb:
    """A = 2 - 2/N as an exact rational ball."""
    return arb(fmpq(2 * N - 2, N))


def phi_ball(x, t, eta: arb, N: int):
    """R1's map ``phi_t(x) = x + eta x^(N-1) (t - x^N)`` (:func:`bounds.flow.phi`) in ball
    arithmetic. ``x``, ``t``: arb balls, or arb_mat square matrices that commute (the matrix
    form ``X + eta X^(N-1) (Y - X^N)`` of the reduced dynamics, X a polynomial in Y); ``eta``
    an arb ball. The result contains the exact value for every point of the argument balls.

    >>> from flint import arb, arb_mat, ctx
    >>> with ctx.workprec(100):
    ...     print(phi_ball(arb("0.5"), arb(1), arb("0.1"), 2).str(10, radius=False))
    0.5375000000
    >>> with ctx.workprec(100):  # diagonal matrices: the scalar map on the diagonal
    ...     M = phi_ball(arb_mat([[0.5, 0], [0, 0.25]]), arb_mat([[1, 0], [0, 2]]), arb("0.1"), 2)
    ...     print(M[0, 0].str(10, radius=False), M[1, 1].str(10, radius=False), M[0, 1])
    0.5375000000 0.2984375000 0
    """
    p = x ** (N - 1)
    return x + p * (t - p * x) * eta


def G_ball(u: arb, N: int) -> arb:
    """G(u) = ln(u/(1-u)) for N = 2; u^b/b 2F1(1, b; b+1; u), b = 2/N - 1, for N >= 3.

    The flags ``bc`` (c - b = 1) and ``abc`` (a + b - c = 0) tell flint that these parameter
    differences are exact integers (the parameters are balls when 2/N is not binary);
    without ``abc`` flint returns nan near u = 1.
    """
    if N == 2:
        return (u / (1 - u)).log()
    b = arb(fmpq(2 - N, N))
    c = arb(fmpq(2, N))
    return u**b / b * u.hypgeom_2f1(1, b, c, bc=True, abc=True)


def tau_ball(t: arb, a: arb, b: arb, N: int) -> arb:
    """tau_t(a, b) = (G(b/t) - G(a/t)) / (N t^A); needs 0 < a, b < t (ValueError when the
    balls do not prove it)."""
    for val, nm in ((a, "a"), (b, "b")):
        if not val > 0:
            raise ValueError(f"tau needs {nm} > 0 (not provable from its enclosure)")
        if not val < t:
            raise ValueError(f"tau needs {nm} < t (not provable from the enclosures)")
    return (G_ball(b / t, N) - G_ball(a / t, N)) / (N * t ** _A(N))


def rho_ball(t: arb, eta: arb, N: int) -> arb:
    """rho(t) = (1 + eta t^A)^(N-1), t >= 0 (t = 0 exactly gives 1)."""
    if t.is_zero():
        return arb(1)
    if not t > 0:
        raise ValueError("rho needs t >= 0 (not provable from its enclosure)")
    return (1 + eta * t ** _A(N)) ** (N - 1)


def J_N_ball(eps: arb, N: int) -> arb:
    """J_N(eps) = (1-eps)^c / c 2F1(1, c; 1+c; 1-eps), c = 2/N."""
    c = arb(fmpq(2, N))
    z = 1 - eps
    return z**c / c * z.hypgeom_2f1(1, c, 1 + c, bc=True, abc=True)


def k1_lower_ball(t: arb, d: arb, alpha: arb, eta: arb, N: int) -> arb:
    """K1: tau_t(alpha^N, d) / eta."""
    return tau_ball(t, alpha**N, d, N) / eta


def k2_upper_real_ball(t: arb, d: arb, alpha: arb, eta: arb, N: int) -> arb:
    """K2's real bound rho(t) tau_t(alpha^N, d) / eta (K <= its ceiling, i.e. K - 1 < it)."""
    return rho_ball(t, eta, N) * tau_ball(t, alpha**N, d, N) / eta


def k3_lower_ball(t: arb, d: arb, alpha: arb, N: int) -> arb:
    """K3 lower: (alpha^-(N-2) - d^-((N-2)/N)) / ((N-2) t)."""
    return (alpha ** (-(N - 2)) - d ** (-arb(fmpq(N - 2, N)))) / ((N - 2) * t)


def k3_upper_ball(t: arb, eps: arb, alpha: arb, N: int) -> arb:
    """K3 upper: alpha^-(N-2)/((N-2) t) + J_N(eps)/(N t^A)."""
    return alpha ** (-(N - 2)) / ((N - 2) * t) + J_N_ball(eps, N) / (N * t ** _A(N))


# ---------------------------------------------------------------------------------------
# low-rank interval (L1, L3): the real arguments of UB0 and LB1 (bounds.lowrank)


def ub0_real_ball(s, r: int, eps: arb, alpha: arb, eta: arb, N: int) -> arb:
    """L1: max over i <= r of rho(s_i) tau_{s_i}(alpha^N, (1-eps) s_i) / eta (the real
    argument of UB0 = ceil(.); ``s`` a sequence of balls, s[i-1] = s_i). A term with nothing
    to learn (alpha^N >= (1-eps) s_i) counts 0, as in bounds.lowrank.ub0_real. The maximum
    is arb's, which contains max(b_1, ..., b_r) for every choice of points of the balls, so
    no ordering of the terms is assumed. ValueError when the balls do not decide which
    terms count.

    >>> from flint import arb, ctx
    >>> with ctx.workprec(100):
    ...     print(ub0_real_ball([arb(4), arb("0.2")], 1, arb("0.1"), arb("0.1"), arb("0.1"), 2).str(10, radius=False))
    14.32582549
    """
    aN = alpha**N
    best = arb(0)
    for i in range(r):
        v = s[i]
        d = (1 - eps) * v
        if aN < d:
            best = best.max(rho_ball(v, eta, N) * tau_ball(v, aN, d, N) / eta)
        elif not aN >= d:
            raise ValueError(f"ub0: alpha^N < (1-eps) s_{i + 1} is not decided by the enclosures")
    return best


def lb1_real_ball(t: arb, theta: arb, alpha: arb, eta: arb, N: int):
    """L1: tau_t(alpha^N, theta') / eta, theta' = min(theta, t (N-1)/(2N-1)), t = s_{r+1}
    (the real argument of LB1 = ceil(.) - 1). ``None`` means +infinity (theta >= t); 0 when
    theta' <= alpha^N, as bounds.lowrank.lb1_real. ValueError when the balls do not decide
    which case applies.

    >>> from flint import arb, ctx
    >>> with ctx.workprec(100):
    ...     print(lb1_real_ball(arb("0.2"), arb("0.05"), arb("0.1"), arb("0.1"), 2).str(10, radius=False))
    46.14566726
    >>> lb1_real_ball(arb("0.2"), arb(1), arb("0.1"), arb("0.1"), 2) is None
    True
    """
    if theta >= t:
        return None
    if not theta < t:
        raise ValueError("lb1: theta < s_{r+1} is not decided by the enclosures")
    thp = theta.min(t * (N - 1) / (2 * N - 1))
    aN = alpha**N
    if thp <= aN:
        return arb(0)
    if not thp > aN:
        raise ValueError("lb1: theta' > alpha^N is not decided by the enclosures")
    return tau_ball(t, aN, thp, N) / eta


def l3_ratio_threshold_ball(s, r: int, eps: arb, theta: arb, alpha: arb, eta: arb, N: int):
    """L3's explicit threshold R (bounds.lowrank.l3_ratio_threshold) as a ball; ``s`` a
    sequence of balls. arb(0) when theta >= s_{r+1}; ``None`` (+infinity) when theta' <=
    alpha^N or (N = 2) a denominator is <= 0 or some s_i <= alpha^N. ValueError when the
    balls do not decide which case applies.

    >>> from flint import arb, ctx
    >>> with ctx.workprec(100):
    ...     print(l3_ratio_threshold_ball([arb(1), arb("0.1")], 1, arb("0.1"), arb("0.01"), arb("0.01"), arb("0.1"), 3).str(8, radius=False))
    1.2837218
    """
    s_next, s_r = s[r], s[r - 1]
    if theta >= s_next:
        return arb(0)
    if not theta < s_next:
        raise ValueError("l3: theta < s_{r+1} is not decided by the enclosures")
    thp = theta.min(s_next * (N - 1) / (2 * N - 1))
    aN = alpha**N
    if thp <= aN:
        return None
    if not thp > aN:
        raise ValueError("l3: theta' > alpha^N is not decided by the enclosures")
    best = arb(0)
    if N >= 3:
        A = _A(N)
        J = J_N_ball(eps, N)
        den = 1 - (aN / thp) ** arb(fmpq(N - 2, N))
        if not den > 0:
            raise ValueError("l3: the denominator is not provably positive")
        for si in s[:r]:
            num = rho_ball(si, eta, N) * (s_r / si) * (
                1 + (N - 2) * J * alpha ** (N - 2) * si ** (1 - A) / N
            ) + 2 * (N - 2) * eta * alpha ** (N - 2) * s_r
            best = best.max(num / den)
        return best
    L = -aN.log()
    den = L + (thp * (s_next - aN) / (s_next - thp)).log()
    if den <= 0:
        return None
    if not den > 0:
        raise ValueError("l3: the sign of the denominator is not decided by the enclosures")
    for si in s[:r]:
        if si <= aN:
            return None
        if not si > aN:
            raise ValueError("l3: s_i > alpha^2 is not decided by the enclosures")
        num = rho_ball(si, eta, N) * (s_r / si) * (
            L + ((1 - eps) / eps).log() + (si - aN).log()
        ) + 4 * eta * s_r
        best = best.max(num / den)
    return best


def l2_error_bound_ball(s, r: int, eps: arb, theta: arb) -> arb:
    """L2's bound ``max(eps s_1, theta)`` (:func:`bounds.lowrank.l2_error_bound`) as a ball;
    ``s`` a sequence of balls (``r`` is accepted for a uniform signature: the bound does not
    depend on it). The maximum is arb's, which contains max(x, y) for all points x, y of the
    two balls.

    >>> from flint import arb, ctx
    >>> with ctx.workprec(100):
    ...     print(l2_error_bound_ball([arb(4), arb(1)], 1, arb("0.1"), arb("0.05")).str(10, radius=False))
    0.4000000000
    """
    return (eps * s[0]).max(theta)


# ---------------------------------------------------------------------------------------
# perturbed (P family)


def p1_step_limit_ball(t, alpha: arb, N: int) -> arb:
    """P1's step scale (:func:`bounds.perturbed.p1_step_limit`) as a ball:
    ``1/(N max(t_1, alpha^N)^A)`` and, if ``t_n <= 0``, the smaller of it and the S3
    positivity bound ``1/(alpha^(N-2)(alpha^N - t_n))``. ``t``: Y's spectrum as balls,
    descending. The min of two balls is the smaller when they are disjoint, their union
    otherwise. ValueError when the balls do not decide the sign of ``t_n``.

    >>> from flint import arb, ctx
    >>> with ctx.workprec(100):
    ...     print(p1_step_limit_ball([arb(4), arb("-0.5")], arb("0.5"), 2).str(10, radius=False))
    0.1250000000
    >>> with ctx.workprec(100):  # the positivity bound of t_2 = -0.6 binds: 1/0.96 < 1/0.8
    ...     print(p1_step_limit_ball([arb("0.4"), arb("-0.6")], arb("0.6"), 2).str(10, radius=False))
    1.041666667
    """
    b = 1 / (N * t[0].max(alpha**N) ** _A(N))
    if t[-1] <= 0:
        return _min_ball(b, s3_positivity_step_bound_ball(t[-1], alpha, N))
    if not t[-1] > 0:
        raise ValueError("p1_step_limit: the sign of t_n is not decided by the enclosures")
    return b


def p1_distance_bound_ball(t, alpha: arb, N: int, delta: arb) -> arb:
    """P1's distance bound at a finite step (:func:`bounds.perturbed.p1_distance_bound`):
    ``delta t_1``, plus ``alpha^N`` if some lane is not growing (not ``t_i > 0`` and
    ``alpha^N < t_i - delta t_1``). ValueError when the balls do not prove ``t_1 > 0`` or do
    not decide which lanes grow.

    >>> from flint import arb, ctx
    >>> with ctx.workprec(100):
    ...     print(p1_distance_bound_ball([arb(4), arb("-0.5")], arb("0.1"), 2, arb("0.01")).str(10, radius=False))
    0.05000000000
    >>> with ctx.workprec(100):
    ...     print(p1_distance_bound_ball([arb(4), arb(1)], arb("0.1"), 2, arb("0.01")).str(10, radius=False))
    0.04000000000
    """
    if not t[0] > 0:
        raise ValueError("P1's tolerance delta t_1 needs t_1 > 0 (not provable from the enclosures)")
    aN, tol = alpha**N, delta * t[0]
    growing = 0
    for i, ti in enumerate(t):
        if ti > 0 and aN < ti - tol:
            growing += 1
        elif not (ti <= 0 or aN >= ti - tol):
            raise ValueError(f"p1_distance_bound: whether lane {i + 1} grows is not decided by the enclosures")
    return tol + aN if growing < len(t) else tol


def y_plus_eigenvalues_ball(t):
    """Eigenvalues of ``Y_+`` (:func:`bounds.perturbed.y_plus_eigenvalues`): ``max(t_i, 0)``
    for each ball (arb's max: it contains max(x, 0) for every x in the ball).

    >>> [v.str(3, radius=False) for v in y_plus_eigenvalues_ball([arb(2), arb("-0.5")])]
    ['2.00', '0']
    """
    zero = arb(0)
    return [v.max(zero) for v in t]


def p2_bounds_ball(e: arb, frobenius_E: arb | None = None):
    """P2's bounds (:func:`bounds.perturbed.p2_bounds`) as balls: ``(e, e, 2e, ||E||_F)``
    for ``|t_i - s_i|``, ``|max(t_i,0) - s_i|``, ``||Y_+ - W||_2`` and ``||Y_+ - W||_F``
    (the last None if ``frobenius_E`` is not given). ValueError when ``e >= 0`` is not
    proved.

    >>> b = p2_bounds_ball(arb("0.25"), arb(1))
    >>> b.spectral.str(3, radius=False), b.frobenius.str(3, radius=False)
    ('0.500', '1.00')
    """
    from bounds.perturbed import P2Bounds

    if not e >= 0:
        raise ValueError("P2 needs e >= 0 (not provable from its enclosure)")
    return P2Bounds(e, e, 2 * e, frobenius_E)


def p3_bounds_real_ball(s: arb, e: arb, d: arb, alpha: arb, eta: arb, N: int) -> tuple[arb, arb]:
    """P3's bounds before the ceiling (:func:`bounds.perturbed.p3_bounds_real`):
    ``(lower, upper)``, ``lower = (s-d)/(s+e-d) tau_s/eta``, ``upper = rho(s+e) (s-d)/(s-d-e)
    tau_s/eta``, ``tau_s = tau_s(alpha^N, d)``; ValueError when the balls do not prove
    ``e < s - d`` or ``alpha^N < d``.

    >>> from flint import arb, ctx
    >>> with ctx.workprec(100):
    ...     lo, up = p3_bounds_real_ball(arb(1), arb("0.1"), arb("0.25"), arb("0.1"), arb("0.4"), 2)
    ...     print(lo.str(10, radius=False), up.str(10, radius=False))
    3.856442163 7.261977243
    """
    if not e < s - d:
        raise ValueError("P3 needs e < s - d (not provable from the enclosures)")
    aN = alpha**N
    if not aN < d:
        raise ValueError("P3 needs d > alpha^N (not provable from the enclosures)")
    ts = tau_ball(s, aN, d, N) / eta
    lower = (s - d) / (s + e - d) * ts
    upper = rho_ball(s + e, eta, N) * (s - d) / (s - d - e) * ts
    return lower, upper


def s3_positivity_step_bound_ball(t: arb, alpha: arb, N: int) -> arb:
    """S3 positivity step bound 1 / (alpha^(N-2) (alpha^N - t)), t < alpha^N provable.

    >>> print(s3_positivity_step_bound_ball(arb(-1), arb("0.5"), 2).str(5, radius=False))
    0.80000
    """
    if not t < alpha**N:
        raise ValueError("s3_positivity_step_bound needs t < alpha^N (not provable from the balls)")
    return 1 / (alpha ** (N - 2) * (alpha**N - t))


def s3_decreasing_step_bound_ball(t: arb, alpha: arb, N: int) -> arb:
    """S3 decreasing step bound (0 < t < alpha^N) 1 / (alpha^(N-2) ((2N-1) alpha^N - (N-1) t)),
    as :func:`bounds.flow.s3_decreasing_step_bound`; t < alpha^N provable.

    >>> print(s3_decreasing_step_bound_ball(arb("0.5"), arb(1), 2).str(5, radius=False))
    0.40000
    """
    if not t < alpha**N:
        raise ValueError("s3_decreasing_step_bound needs t < alpha^N (not provable from the balls)")
    return 1 / (alpha ** (N - 2) * ((2 * N - 1) * alpha**N - (N - 1) * t))


def _min_ball(a: arb, b: arb) -> arb:
    """A ball containing min(x, y) for every x in ``a``, y in ``b``: the smaller ball when
    the two are disjoint, their union otherwise."""
    if a < b:
        return a
    if b < a:
        return b
    return a.union(b)


def p4_step_limit_ball(t, s, r: int, e: arb, alpha: arb, N: int) -> arb:
    """P4's step scale (:func:`bounds.perturbed.p4_step_limit`) as a ball: the smallest of
    P1's step limit on Y (``1/(N max(t_1, alpha^N)^A)``, and the S3 positivity bound of t_n
    if ``t_n <= 0``), ``1/(N (s_{r+1}+e)^A)`` if ``s_{r+1}+e > 0``,
    ``1/(N max(s_1+e, alpha^N)^A)`` and, if ``s_n - e <= 0``, the S3 positivity bound of
    ``s_n - e``. ``t``, ``s``: sequences of balls (Y's and W's spectra, descending). The min
    of two balls is the smaller when they are disjoint, their union otherwise. ValueError
    when the balls do not decide which terms apply.

    >>> from flint import arb, ctx
    >>> with ctx.workprec(100):
    ...     b = p4_step_limit_ball([arb("1.875"), arb("0.25")], [arb(2), arb("0.125")], 1, arb("0.125"), arb("0.125"), 2)
    ...     print(b.str(10, radius=False))
    0.2352941176
    >>> with ctx.workprec(100):  # N = 3, s_n - e = -0.5 <= 0 enters; alpha^N = 8 > s_1 + e binds
    ...     b = p4_step_limit_ball([arb("0.5"), arb("0.5")], [arb(1), arb(0)], 1, arb("0.5"), arb(2), 3)
    ...     print(b.str(10, radius=False))
    0.02083333333
    """
    Am = _A(N)
    aN = alpha**N

    def sign_le0(x, what):
        if x <= 0:
            return True
        if x > 0:
            return False
        raise ValueError(f"p4_step_limit: the sign of {what} is not decided by the enclosures")

    b = p1_step_limit_ball(t, alpha, N)  # P1's step limit on Y (the t_n <= 0 case included)
    tp = s[r] + e
    if not sign_le0(tp, "s_{r+1}+e"):
        b = _min_ball(b, 1 / (N * tp**Am))
    b = _min_ball(b, 1 / (N * (s[0] + e).max(aN) ** Am))
    low = s[-1] - e
    if sign_le0(low, "s_n - e"):
        b = _min_ball(b, s3_positivity_step_bound_ball(low, alpha, N))
    return b


def p4_bounds_real_ball(t, s, r: int, e: arb, eps: arb, theta: arb, alpha: arb, eta: arb,
                        N: int):
    """P4's bounds before the ceilings (:func:`bounds.perturbed.p4_bounds_real`):
    ``(UB0, L)`` with ``UB0 = max_{i<=r} rho(t_i) tau_{t_i}(alpha^N, (1-eps) t_i)/eta``
    (:func:`ub0_real_ball` on Y's eigenvalues t_1..t_r) and ``L`` = :func:`lb1_real_ball`
    at ``s_{r+1}+e`` (``None``: +infinity, theta >= s_{r+1}+e). ``t``, ``s``: sequences of
    balls (descending). ValueError when the balls do not prove ``t_r > 0`` or do not decide
    the bounds' cases.

    >>> from flint import arb, ctx
    >>> with ctx.workprec(100):
    ...     ub, L = p4_bounds_real_ball([arb("1.9"), arb("0.15")], [arb(2), arb("0.1")], 1, arb("0.125"),
    ...                                 arb("0.1"), arb("0.05"), arb("0.1"), arb("0.1"), 2)
    ...     print(ub.str(8, radius=False), L.str(8, radius=False))
    23.295727 40.339777
    """
    if len(t) != len(s):
        raise ValueError("s and t_eigs must have the same length")
    if not t[r - 1] > 0:
        raise ValueError("P4 needs t_r > 0 (not provable from the enclosures)")
    return ub0_real_ball(t, r, eps, alpha, eta, N), lb1_real_ball(s[r] + e, theta, alpha, eta, N)


def p5_error_bound_ball(s, r: int, e: arb, eps: arb, theta: arb) -> arb:
    """P5's error bound (:func:`bounds.perturbed.p5_error_bound`) as a ball:
    ``max(eps (s_1 + e), theta) + 2 (e + s_{r+1})``, ``s`` W's spectrum as balls
    (descending), ``1 <= r < len(s)``.

    >>> from flint import arb, ctx
    >>> with ctx.workprec(100):
    ...     print(p5_error_bound_ball([arb(2), arb("0.1")], 1, arb("0.1"), arb("0.1"), arb("0.05")).str(10, radius=False))
    0.6100000000
    """
    if not 1 <= r < len(s):
        raise ValueError(f"r must be in 1..{len(s) - 1}, got {r}")
    return (eps * (s[0] + e)).max(theta) + 2 * (e + s[r])
