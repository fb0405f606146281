"""Heavy ball and Nesterov from ``W_j(0) = alpha I``: the scalar recursion at high precision,
in float64 over many lanes, and the full N-factor matrix iteration it reduces.

By bounds/momentum.py every eigenvalue ``t`` of a symmetric Y follows::

    x_{k+1} = phi_t(x_k + bn (x_k - x_{k-1})) + bh (x_k - x_{k-1}),   x_{-1} = x_0 = alpha,

with ``phi_t(x) = x + eta x^(N-1)(t - x^N)``, ``(bh, bn) = (beta, 0)`` for heavy ball and
``(0, beta)`` for Nesterov (multiplying by an exact 0 and adding it changes no bit, so one
loop computes both methods exactly as their own formulas would).

A *configuration* is one ``(beta, method)``; a problem is the target's top ``r + 1``
eigenvalues: lanes ``i < r`` are learned once ``x_i^N >= (1 - eps) t_i``, lane ``r`` leaks
once ``x_r^N > theta``. For each configuration the engines report, over steps
``0..max_steps``:

* ``T0 = min{k : x_i(k)^N >= (1-eps) t_i for all i < r}`` (all at the same step: momentum
  oscillates, so a lane can reach its level and fall back);
* ``T1 = min{k : x_r(k)^N > theta} - 1`` (the project's convention, docs/theory.md L1);
* ``dips``: some learned lane is below its level at a step of ``(T0, T1]``;
* ``overshoot = max_{k, i < r} x_i(k)^N / t_i`` (gradient descent under S1 keeps it < 1).

High precision (:func:`interval_hp`): gmpy2 at ``dps`` digits, run in lockstep with a copy at
twice the binary precision. The rounding margin of a comparison ``x^N`` vs a level is
``4 |x^N(p) - x^N(2p)| + (N + 1)(k + 1) u |x^N|`` (u = 2^(1-p)): the observed error of the
p-bit run, a safety factor, and a floor growing with the number of rounded steps. It is an
estimate, not a bound (docs/beyond.md says so). A comparison inside the margin is
*ambiguous*; a configuration with an ambiguous decision (a T0 or T1 that could be an earlier
step, an undecided dip) is rerun at twice the dps, up to ``max_dps``, and reported
``decided=False`` if it stays ambiguous there.

float64 (:func:`interval_f64`): the same recursion on numpy arrays, all configurations at
once, with the distance to the nearest tie (so that comparisons with the HP engine can be
restricted to configurations far from one).

Full matrix (:func:`simulate_full_momentum`): N factors with a velocity each, flint
``arb_mat`` products rounded to midpoints (like verify.fullgd's ``arithmetic="arb"``);
:func:`full_mismatch` compares it with the scalar recursion.

>>> r = interval_hp([1, "0.1"], depth=3, alpha="0.05", eta="0.2", configs=[(0, "heavyball")],
...                 rank=1, eps="0.1", theta="0.05", max_steps=1000)[0]
>>> r.T0, r.T1, r.decided, r.overshoot <= 1
(102, 909, True, True)
"""

from __future__ import annotations

from dataclasses import dataclass
from numbers import Integral

import gmpy2
import mpmath
import numpy as np
from mpmath.libmp import dps_to_prec

from bounds.momentum import METHODS
from verify.engine import _to_mpfr, to_mpf

__all__ = [
    "MomentumResult",
    "MomentumHit",
    "hitting_time_hp",
    "interval_hp",
    "interval_f64",
    "simulate_full_momentum",
    "full_mismatch",
    "scalar_trajectory",
    "MAX_DPS",
]

MIN_DPS = 15
#: the margins are floats: 2^(1-prec) must stay far above the float underflow
MAX_DPS = 250
_SAFETY = 4.0


# ---------------------------------------------------------------------------------------
# inputs


def _check_int(v, name, lo, hi=None):
    if isinstance(v, bool) or not isinstance(v, Integral) or v < lo or (hi is not None and v > hi):
        rng = f">= {lo}" if hi is None else f"in {lo}..{hi}"
        raise ValueError(f"{name} must be an integer {rng}, got {v!r}")
    return int(v)


def _check_configs(configs):
    """``[(beta, method), ...]`` with 0 <= beta < 1 (numbers or decimal strings)."""
    if isinstance(configs, (str, bytes)) or not hasattr(configs, "__iter__"):
        raise ValueError("configs must be a sequence of (beta, method) pairs")
    out = []
    for i, c in enumerate(configs):
        if not (isinstance(c, (tuple, list)) and len(c) == 2):
            raise ValueError(f"configs[{i}] must be a (beta, method) pair, got {c!r}")
        beta, method = c
        if method not in METHODS:
            raise ValueError(f"configs[{i}]: method must be one of {', '.join(METHODS)}, "
                             f"got {method!r}")
        with mpmath.workdps(30):
            b = to_mpf(beta, name=f"beta of configs[{i}]")
        if not 0 <= b < 1:
            raise ValueError(f"configs[{i}]: beta must lie in [0, 1), got {beta!r}")
        out.append((beta, method))
    if not out:
        raise ValueError("configs must not be empty")
    return out


def _check_problem(targets, depth, alpha, eta, rank, eps, theta, max_steps):
    """Validated plain inputs: (targets of the r + 1 lanes, N, r, max_steps). Numbers are
    checked here and read again at each precision from what the caller gave."""
    N = _check_int(depth, "depth", 2, 1000)
    max_steps = _check_int(max_steps, "max_steps", 0)
    if isinstance(targets, (str, bytes)) or not hasattr(targets, "__iter__"):
        raise ValueError("targets must be a sequence of numbers")
    targets = list(targets)
    r = _check_int(rank, "rank", 1)
    if len(targets) < r + 1:
        raise ValueError(f"rank {r} needs at least {r + 1} target eigenvalues, got {len(targets)}")
    with mpmath.workdps(30):
        vals = [to_mpf(t, name=f"target {i}") for i, t in enumerate(targets)]
        to_mpf(alpha, name="alpha", positive=True)
        to_mpf(eta, name="eta", positive=True)
        e = to_mpf(eps, name="eps")
        if not 0 < e < 1:
            raise ValueError(f"eps must lie in (0, 1), got {eps!r}")
        to_mpf(theta, name="theta", positive=True)
        if any(v <= 0 for v in vals[:r]):
            raise ValueError("the learned target eigenvalues (the top rank) must be > 0")
    return targets[: r + 1], N, r, max_steps


# ---------------------------------------------------------------------------------------
# results


@dataclass(frozen=True)
class MomentumResult:
    """One configuration's measurements (see the module docstring).

    ``T0``/``T1``: None when the event did not happen within ``max_steps`` (censored) or
    before a divergence. ``dips``: None when T0 is None. ``decided``: every comparison that
    the reported numbers rest on was outside its rounding margin (always True in float64).
    ``tie_gap``: float64 only, the smallest relative distance ``|x^N - level| / level`` seen
    by an open event (None in HP). ``dps``: the precision the numbers come from (53 bits in
    float64: reported as 15).
    """

    beta: object
    method: str
    T0: int | None
    T1: int | None
    dips: bool | None
    overshoot: float
    diverged: bool
    divergence_step: int | None
    decided: bool
    dps: int
    tie_gap: float | None = None

    @property
    def nonempty(self) -> bool | None:
        """T0 <= T1 (None when T0 is censored; T1 censored counts as infinite)."""
        if self.T0 is None:
            return None
        return self.T1 is None or self.T0 <= self.T1


class _Tracker:
    """The events of G configurations, updated once per step with classifications
    (+1 above the level, -1 below, 0 inside the margin) of the learned lanes (G x r) and
    of the leak lane (G,)."""

    def __init__(self, G):
        self.t0 = np.full(G, -1)
        self.t0_amb = np.zeros(G, bool)
        self.cross = np.full(G, -1)
        self.cross_amb = np.zeros(G, bool)
        self.dips = np.zeros(G, bool)
        self.dips_amb = np.zeros(G, bool)
        self.active = np.ones(G, bool)

    def update(self, k, learned, leak):
        act = self.active
        all_above = (learned == 1).all(axis=1)
        maybe = (learned >= 0).all(axis=1) & ~all_above
        open0 = act & (self.t0 < 0)
        self.t0_amb |= open0 & maybe
        self.t0[open0 & all_above] = k
        openc = act & (self.cross < 0)
        self.cross_amb |= openc & (leak == 0)
        self.cross[openc & (leak == 1)] = k
        # the window (T0, T1] = (T0, crossing - 1]
        inside = act & (self.t0 >= 0) & (self.t0 < k) & ((self.cross < 0) | (self.cross > k))
        self.dips |= inside & (learned == -1).any(axis=1)
        self.dips_amb |= inside & (learned == 0).any(axis=1)

    def undecided(self):
        return self.t0_amb | self.cross_amb | (self.dips_amb & ~self.dips)

    def result(self, g, config, overshoot, div_step, decided, dps, tie_gap=None):
        t0 = int(self.t0[g]) if self.t0[g] >= 0 else None
        cross = int(self.cross[g]) if self.cross[g] >= 0 else None
        return MomentumResult(
            beta=config[0], method=config[1], T0=t0, T1=None if cross is None else cross - 1,
            dips=None if t0 is None else bool(self.dips[g]), overshoot=float(overshoot),
            diverged=div_step is not None, divergence_step=div_step, decided=bool(decided),
            dps=dps, tie_gap=tie_gap)


def _bound(targets, alpha, N):
    with mpmath.workdps(30):
        vals = [abs(to_mpf(t, name="t")) ** (mpmath.mpf(1) / N) for t in targets]
        return float(10 * max([mpmath.mpf(1), to_mpf(alpha, name="alpha")] + vals))


# ---------------------------------------------------------------------------------------
# high precision


def _mpfr_at(value, prec, name):
    """A user number rounded to ``prec`` bits, as an mpfr (exact conversion)."""
    with mpmath.workprec(prec):
        x = to_mpf(value, name=name)
    with gmpy2.context(gmpy2.get_context(), precision=prec):
        return _to_mpfr(x)


def _coefficients(beta, method, prec):
    b = _mpfr_at(beta, prec, "beta")
    zero = _mpfr_at(0, prec, "zero")
    return (b, zero) if method == "heavyball" else (zero, b)


class _Lanes:
    """The lanes of G configurations at one binary precision (G x (r+1) mpfr states)."""

    def __init__(self, configs, targets, alpha, eta, eps, theta, N, r, prec):
        self.ctx = gmpy2.context(gmpy2.get_context(), precision=prec,
                                 round=gmpy2.RoundToNearest)
        self.N = N
        self.eta = _mpfr_at(eta, prec, "eta")
        self.t = [_mpfr_at(t, prec, "t") for t in targets]
        c = self.ctx
        one_e = c.sub(_mpfr_at(1, prec, "one"), _mpfr_at(eps, prec, "eps"))
        self.levels = [c.mul(one_e, t) for t in self.t[:r]] + [_mpfr_at(theta, prec, "theta")]
        a = _mpfr_at(alpha, prec, "alpha")
        self.coef = [_coefficients(b, m, prec) for b, m in configs]
        L = len(self.t)
        self.x = [[a] * L for _ in configs]
        self.xp = [[a] * L for _ in configs]

    def power(self, y):
        mul = self.ctx.mul
        ym = y
        for _ in range(self.N - 2):
            ym = mul(ym, y)
        return ym, mul(ym, y)

    def products(self, g):
        """x_i^N of configuration g at the current step."""
        return [self.power(x)[1] for x in self.x[g]]

    def step(self, g):
        c = self.ctx
        add, sub, mul = c.add, c.sub, c.mul
        bh, bn = self.coef[g]
        xs, xps = self.x[g], self.xp[g]
        new = []
        for x, xp, t in zip(xs, xps, self.t):
            d = sub(x, xp)
            y = add(x, mul(bn, d))
            ym, yN = self.power(y)
            new.append(add(add(y, mul(self.eta, mul(ym, sub(t, yN)))), mul(bh, d)))
        self.xp[g] = xs
        self.x[g] = new


def _classify(xN_hi, xN_lo, level, k, N, u, strict):
    gap = xN_hi - level
    margin = _SAFETY * abs(float(xN_lo - xN_hi)) + (N + 1) * (k + 1) * u * abs(float(xN_hi))
    fg = float(gap)
    if abs(fg) <= margin:
        return 0
    return 1 if (gap > 0 or (not strict and gap == 0)) else -1


def _run_hp(configs, targets, alpha, eta, eps, theta, N, r, max_steps, dps, bound):
    prec = dps_to_prec(dps)
    u = 2.0 ** (1 - prec)
    lo = _Lanes(configs, targets, alpha, eta, eps, theta, N, r, prec)
    hi = _Lanes(configs, targets, alpha, eta, eps, theta, N, r, 2 * prec)
    G = len(configs)
    tr = _Tracker(G)
    over = [0.0] * G
    div = [None] * G
    learned = np.zeros((G, r), np.int8)
    leak = np.zeros(G, np.int8)
    for k in range(max_steps + 1):
        for g in range(G):
            if not tr.active[g]:
                continue
            ph, pl = hi.products(g), lo.products(g)
            if any(not gmpy2.is_finite(x) or abs(float(x)) > bound for x in hi.x[g]):
                div[g] = k
                tr.active[g] = False
                continue
            for i in range(r):
                learned[g, i] = _classify(ph[i], pl[i], hi.levels[i], k, N, u, False)
                over[g] = max(over[g], float(ph[i] / hi.t[i]))
            leak[g] = _classify(ph[r], pl[r], hi.levels[r], k, N, u, True)
        tr.update(k, learned, leak)
        if k < max_steps:
            for g in range(G):
                if tr.active[g]:
                    lo.step(g)
                    hi.step(g)
    return tr, over, div


def interval_hp(targets, *, depth, alpha, eta, configs, rank, eps, theta, dps=50,
                max_steps=2000, max_dps=200, progress=None) -> list[MomentumResult]:
    """T0, T1, dips and overshoot of every configuration ``(beta, method)`` at ``dps`` digits,
    configurations with an ambiguous decision rerun at doubled dps up to ``max_dps``.

    ``targets``: eigenvalues of Y, descending; the first ``rank + 1`` are used. Numbers may
    be decimal strings (read exactly at each precision). ``progress(done, total)`` is
    called after each precision pass. ValueError names any bad input; inputs are not
    modified.
    """
    targets, N, r, max_steps = _check_problem(targets, depth, alpha, eta, rank, eps, theta,
                                              max_steps)
    configs = _check_configs(configs)
    dps = _check_int(dps, "dps", MIN_DPS, MAX_DPS)
    max_dps = _check_int(max_dps, "max_dps", dps, MAX_DPS)
    bound = _bound(targets, alpha, N)
    results: list = [None] * len(configs)
    todo = list(range(len(configs)))
    while todo:
        sub = [configs[g] for g in todo]
        tr, over, div = _run_hp(sub, targets, alpha, eta, eps, theta, N, r, max_steps, dps, bound)
        und = tr.undecided()
        last = dps >= max_dps
        nxt = []
        for j, g in enumerate(todo):
            if und[j] and not last:
                nxt.append(g)
            else:
                results[g] = tr.result(j, configs[g], over[j], div[j], not und[j], dps)
        if progress is not None:
            progress(len(configs) - len(nxt), len(configs))
        todo = nxt
        dps = min(2 * dps, max_dps)
    return results


@dataclass(frozen=True)
class MomentumHit:
    """The first step k <= max_steps with ``x_k^N >= level`` (``> level`` if strict) of one
    lane of :func:`hitting_time_hp`: ``step`` None if there is none; ``ambiguous`` if a
    comparison up to the reported step (or up to max_steps) fell inside the rounding
    margin, so an earlier step may be the true one; ``diverged`` if |x| left the bound."""

    step: int | None
    ambiguous: bool
    diverged: bool
    dps: int


def hitting_time_hp(t, level, *, depth, alpha, eta, beta, method="heavyball", max_steps=2000,
                    dps=50, strict=False) -> MomentumHit:
    """First hitting step of ``x^N >= level`` for one eigenvalue t of heavy ball or Nesterov,
    at ``dps`` digits in lockstep with twice the binary precision, with the margin of
    :func:`interval_hp` (an estimate: a comparison inside it is *ambiguous*, the caller
    escalates). beta may be any real here (negative controls run it outside [0, 1)); the
    numbers may be decimal strings, read exactly at each precision.

    >>> hitting_time_hp(1, "0.5", depth=3, alpha="0.05", eta="0.2", beta=0, max_steps=1000)
    MomentumHit(step=99, ambiguous=False, diverged=False, dps=50)
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    N = _check_int(depth, "depth", 2)
    max_steps = _check_int(max_steps, "max_steps", 0)
    dps = _check_int(dps, "dps", MIN_DPS, MAX_DPS)
    with mpmath.workdps(30):
        for v, nm in ((t, "t"), (level, "level"), (alpha, "alpha"), (eta, "eta"), (beta, "beta")):
            to_mpf(v, name=nm)
    prec = dps_to_prec(dps)
    u = 2.0 ** (1 - prec)
    bound = _bound([t], alpha, N)
    lanes = [_Lanes([(beta, method)], [t], alpha, eta, 0, level, N, 0, p) for p in (prec, 2 * prec)]
    lo, hi = lanes
    ambiguous = False
    for k in range(max_steps + 1):
        x = hi.x[0][0]
        if not gmpy2.is_finite(x) or abs(float(x)) > bound:
            return MomentumHit(None, ambiguous, True, dps)
        c = _classify(hi.products(0)[0], lo.products(0)[0], hi.levels[0], k, N, u, strict)
        if c == 1:
            return MomentumHit(k, ambiguous, False, dps)
        ambiguous |= c == 0
        if k < max_steps:
            lo.step(0)
            hi.step(0)
    return MomentumHit(None, ambiguous, False, dps)


# ---------------------------------------------------------------------------------------
# float64 lanes


def interval_f64(targets, *, depth, alpha, eta, configs, rank, eps, theta,
                 max_steps=2000) -> list[MomentumResult]:
    """:func:`interval_hp` in numpy float64, every configuration at once (for sweeps).

    Each result carries ``tie_gap``: the smallest ``|x^N - level| / level`` met by an event
    while it was open (learned lanes until T0, the leak lane until its crossing, learned
    lanes in the dip window); where it exceeds the float64 error of the run (about
    ``1e-12`` for a few thousand steps) the decisions are those of exact arithmetic.
    """
    targets, N, r, max_steps = _check_problem(targets, depth, alpha, eta, rank, eps, theta,
                                              max_steps)
    configs = _check_configs(configs)
    bound = _bound(targets, alpha, N)
    G = len(configs)
    t = np.array([float(to_mpf(v, name="t")) for v in targets])
    lev = np.array([(1 - float(to_mpf(eps, name="eps"))) * v for v in t[:r]]
                   + [float(to_mpf(theta, name="theta"))])
    beta = np.array([float(to_mpf(b, name="beta")) for b, _ in configs])
    nest = np.array([m == "nesterov" for _, m in configs])
    bh = np.where(nest, 0.0, beta)[:, None]
    bn = np.where(nest, beta, 0.0)[:, None]
    h = float(to_mpf(eta, name="eta"))
    x = np.full((G, r + 1), float(to_mpf(alpha, name="alpha")))
    xp = x.copy()
    tr = _Tracker(G)
    over = np.zeros(G)
    gap = np.full(G, np.inf)
    div = np.full(G, -1)
    with np.errstate(over="ignore", invalid="ignore"):
        for k in range(max_steps + 1):
            xN = x**N
            bad = tr.active & ~(np.isfinite(x).all(axis=1) & (np.abs(x) <= bound).all(axis=1))
            div[bad] = k
            tr.active &= ~bad
            act = tr.active
            rel = np.abs(xN - lev) / lev
            learned = np.where(xN[:, :r] >= lev[:r], 1, -1).astype(np.int8)
            leak = np.where(xN[:, r] > lev[r], 1, -1).astype(np.int8)
            open0 = act & (tr.t0 < 0)
            openc = act & (tr.cross < 0)
            window = act & (tr.t0 >= 0) & (tr.cross < 0)
            gap = np.where(open0 | window, np.minimum(gap, rel[:, :r].min(axis=1)), gap)
            gap = np.where(openc, np.minimum(gap, rel[:, r]), gap)
            over = np.where(act, np.maximum(over, (xN[:, :r] / t[:r]).max(axis=1)), over)
            tr.update(k, learned, leak)
            if k == max_steps:
                break
            d = x - xp
            y = x + bn * d
            ym = y ** (N - 1)
            xp, x = x, np.where(act[:, None], y + h * ym * (t - ym * y) + bh * d, x)
    return [tr.result(g, configs[g], over[g], int(div[g]) if div[g] >= 0 else None, True, 15,
                      tie_gap=float(gap[g])) for g in range(G)]


# ---------------------------------------------------------------------------------------
# full matrix


def simulate_full_momentum(Y, *, depth, eta, beta, method, alpha, steps, dps=60):
    """The N-factor iteration with a velocity per factor, ``V_j(0) = 0``,
    ``W_j(0) = alpha I`` (bounds/momentum.py)::

        heavy ball: V_j <- beta V_j - eta G_j(W),  W_j <- W_j + V_j
        Nesterov:   V_j <- beta V_j - eta G_j(W + beta V),  W_j <- W_j + V_j

    in flint ``arb_mat`` at ``dps`` digits (every product rounded to its midpoint). Returns
    the products ``P(k) = W_N...W_1`` for k = 0..steps as mpmath matrices (at ``dps``).
    """
    import flint

    from verify.fullgd import _arb_matrix, _mp_matrix, arb_gradients, arb_prefix, to_arb
    from verify.instances import check_dps, validate_matrix

    dps = check_dps(dps)
    N = _check_int(depth, "depth", 2)
    steps = _check_int(steps, "steps", 0)
    _check_configs([(beta, method)])
    Ym = validate_matrix(Y, name="Y", dps=dps)
    n = Ym.rows
    prec = dps_to_prec(dps)
    with mpmath.workdps(dps), flint.ctx.workprec(prec):
        e_a = to_arb(to_mpf(eta, name="eta", positive=True))
        b_a = to_arb(to_mpf(beta, name="beta"))
        a_a = to_arb(to_mpf(alpha, name="alpha", positive=True))
        F = [flint.arb_mat(n, n) for _ in range(N)]
        for Fj in F:
            for i in range(n):
                Fj[i, i] = a_a
        V = [flint.arb_mat(n, n) for _ in range(N)]
        Ya = _arb_matrix(Ym)
        products = []
        for k in range(steps + 1):
            pre = arb_prefix(F)
            products.append(_mp_matrix(pre[N]))
            if k == steps:
                break
            Z = F if method == "heavyball" else [(Fj + b_a * Vj).mid() for Fj, Vj in zip(F, V)]
            preZ = pre if method == "heavyball" else arb_prefix(Z)
            G = arb_gradients(Z, preZ, preZ[N] - Ya)
            V = [(b_a * Vj - e_a * Gj).mid() for Vj, Gj in zip(V, G)]
            F = [(Fj + Vj).mid() for Fj, Vj in zip(F, V)]
        return products


def scalar_trajectory(t, *, depth, alpha, eta, beta, method, steps, dps=60):
    """x_0, ..., x_steps of the two-term recursion for one eigenvalue t, in mpmath at dps."""
    _check_configs([(beta, method)])
    N = _check_int(depth, "depth", 2)
    with mpmath.workdps(dps):
        tt, a, h, b = (to_mpf(v, name=nm) for v, nm in
                       ((t, "t"), (alpha, "alpha"), (eta, "eta"), (beta, "beta")))
        bh, bn = (b, 0) if method == "heavyball" else (0, b)
        xs = [a]
        x = xp = a
        for _ in range(steps):
            d = x - xp
            y = x + bn * d
            xp, x = x, y + h * y ** (N - 1) * (tt - y**N) + bh * d
            xs.append(x)
        return xs


def full_mismatch(spectrum, Q, *, depth, alpha, eta, beta, method, steps, dps=60):
    """Full-matrix momentum on ``Y = Q diag(spectrum) Q^T`` against the scalar recursion.

    Returns ``(entrywise, eigen)``: ``max_k ||P(k) - Q diag(x(k)^N) Q^T||_max /
    max(1, ||Y||_max)`` over k = 0..steps, and ``max_i |lambda_i(P(steps)) - x_i(steps)^N|``
    with the eigenvalues of the final product from ``mpmath.eigsy`` (both sorted).
    """
    N = _check_int(depth, "depth", 2)
    with mpmath.workdps(dps):
        Qm = mpmath.matrix(Q)
        n = Qm.rows
        t = [to_mpf(v, name=f"spectrum[{i}]") for i, v in enumerate(spectrum)]
        if len(t) != n:
            raise ValueError(f"spectrum has {len(t)} values for a {n}x{n} Q")
        Y = Qm * mpmath.diag(t) * Qm.T
        products = simulate_full_momentum(Y, depth=N, eta=eta, beta=beta, method=method,
                                          alpha=alpha, steps=steps, dps=dps)
        xs = [scalar_trajectory(ti, depth=N, alpha=alpha, eta=eta, beta=beta, method=method,
                                steps=steps, dps=dps) for ti in t]
        scale = max(mpmath.mpf(1), max(abs(Y[i, j]) for i in range(n) for j in range(n)))
        worst = mpmath.mpf(0)
        for k, P in enumerate(products):
            D = Qm * mpmath.diag([xs[i][k] ** N for i in range(n)]) * Qm.T
            worst = max(worst, max(abs(P[i, j] - D[i, j]) for i in range(n) for j in range(n)))
        S = (products[-1] + products[-1].T) / 2
        ev = sorted(mpmath.eigsy(S, eigvals_only=True))
        red = sorted(xs[i][steps] ** N for i in range(n))
        eig = max(abs(a - b) for a, b in zip(ev, red))
        return worst / scale, eig


