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
"""

from __future__ import annotations

from dataclasses import dataclass, field

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
from verify.engine import Event, simulate_reduced, to_mpf
from verify.instances import (
    check_dps,
    psd_target,
    random_perturbation,
    spectral_norm,
    symmetric_eigen,
    validate_matrix,
    weyl_extremal_perturbation,
)

__all__ = ["Setting", "make_setting", "predict", "simulate", "NOISE_KINDS"]

NOISE_KINDS = ("worst", "random")


@dataclass(frozen=True)
class Setting:
    """A validated problem at ``dps`` digits. ``s``/``V``: target eigenvalues (descending) and
    eigenvectors; ``t``/``Q``: those of Y = W + E; ``e``: ||E||_2 (0 without noise)."""

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

    @property
    def n(self) -> int:
        return len(self.s)


def make_setting(*, depth, alpha, eta, rank, eps, spectrum=None, target=None, theta=None,
                 noise=None, noise_kind="worst", perturbation=None, seed=0, dps=50) -> Setting:
    """Validate a user's parameters (ValueError naming the problem) and build the matrices.

    ``spectrum`` (numbers, any order, nonnegative) or ``target`` (a symmetric PSD matrix);
    ``noise`` e with ``noise_kind`` ("worst": the Weyl-extremal E of P4, "random": seeded) or
    ``perturbation`` (a symmetric matrix). ``theta`` defaults to eps * s_r.
    """
    dps = check_dps(dps)
    if isinstance(depth, bool) or not isinstance(depth, int) or depth < 2:
        raise ValueError(f"depth N must be an integer >= 2, got {depth!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a nonnegative integer, got {seed!r}")
    if (spectrum is None) == (target is None):
        raise ValueError("give exactly one of a spectrum or a target matrix")
    if noise is not None and perturbation is not None:
        raise ValueError("give at most one of a noise size or a perturbation matrix")
    if noise_kind not in NOISE_KINDS:
        raise ValueError(f"noise kind must be one of {', '.join(NOISE_KINDS)}, got {noise_kind!r}")
    with mpmath.workdps(dps):
        a = to_mpf(alpha, name="alpha", positive=True)
        h = to_mpf(eta, name="eta", positive=True)
        ep = to_mpf(eps, name="eps")
        if not 0 < ep < 1:
            raise ValueError(f"eps must be in (0, 1), got {eps}")
        if spectrum is not None:
            vals = [to_mpf(v, name=f"spectrum value {i + 1}") for i, v in enumerate(spectrum)]
            if not vals:
                raise ValueError("the spectrum is empty")
            if any(v < 0 for v in vals):
                raise ValueError("the spectrum of a PSD target must be nonnegative")
            tgt = psd_target(vals, seed=seed, dps=dps)
            W, s, V = tgt.W, tgt.s, tgt.V
        else:
            W = validate_matrix(target, name="target", symmetric=True, psd=True, dps=dps)
            s, V = symmetric_eigen(W, dps=dps)
            s = tuple(max(v, mpmath.mpf(0)) for v in s)
            tgt = None
        n = len(s)
        if isinstance(rank, bool) or not isinstance(rank, int) or not 1 <= rank < n:
            raise ValueError(f"rank r must be an integer in 1..{n - 1} for an {n}x{n} target, got {rank!r}")
        th = ep * s[rank - 1] if theta is None else to_mpf(theta, name="theta")
        if th < 0:
            raise ValueError(f"theta must be >= 0, got {theta}")
        kind = "none"
        if perturbation is not None:
            E = validate_matrix(perturbation, name="perturbation", symmetric=True, dps=dps)
            if E.rows != n:
                raise ValueError(f"the perturbation is {E.rows}x{E.cols} but the target is {n}x{n}")
            kind = "file"
        elif noise is not None:
            e = to_mpf(noise, name="noise")
            if e < 0:
                raise ValueError(f"noise must be >= 0, got {noise}")
            if noise_kind == "worst":
                from verify.instances import Target

                base = tgt if tgt is not None else Target(W=W, s=tuple(s), V=V, dps=dps)
                E = weyl_extremal_perturbation(base, rank, e, dps=dps)
            else:
                E = random_perturbation(n, e, seed=seed + 1, dps=dps)
            kind = noise_kind
        else:
            E = mpmath.zeros(n, n)
        Y = W + E
        t, Q = symmetric_eigen(Y, dps=dps)
        e_norm = spectral_norm(E, dps=dps) if kind != "none" else mpmath.mpf(0)
        return Setting(depth=depth, alpha=a, eta=h, r=rank, eps=ep, theta=th, W=W, s=tuple(s),
                       V=V, Y=Y, t=tuple(t), Q=Q, e=e_norm, noise=kind, dps=dps, seed=seed,
                       inputs={"alpha": str(alpha), "eta": str(eta), "eps": str(eps)})


def _n(x, digits=20):
    return None if x is None else mpmath.nstr(x, digits)


def predict(st: Setting) -> dict:
    """What the theory says about this setting (JSON-able).

    Keys: step_bound (largest eta allowed by S1 for W and P1 for Y), hypotheses (name,
    holds), T0_upper, T1_lower (None: infinite), nonempty_predicted, critical_noise (e*);
    with a perturbation also T0_upper_any / T1_lower_any (W-only bounds valid for every
    symmetric E with ||E||_2 <= e). A bound whose hypotheses fail is None.
    """
    with mpmath.workdps(st.dps):
        N, a, h, r, eps, th = st.depth, st.alpha, st.eta, st.r, st.eps, st.theta
        s, t, e = list(st.s), list(st.t), st.e
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
            weyl_tol = mpmath.mpf(10) ** -(st.dps - 10) * max(abs(t[0]), abs(t[-1]), e, 1)
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
        estar = critical_noise(s, r, eps, th, a, h, N) if l1_ok else None
        out["critical_noise"] = _n(estar)
        out["eigenvalues_W"] = [_n(v, 12) for v in s]
        out["eigenvalues_Y"] = [_n(v, 12) for v in t]
        return out


def _learned_level(st, i):
    return (1 - st.eps) * st.t[i]


def simulate(st: Setting, *, max_steps: int = 100_000, full_matrix: bool = False,
             samples: int = 33) -> dict:
    """What gradient descent does (JSON-able).

    Keys: T0 (None: not reached within max_steps), T1 (None: x_{r+1}^N never exceeded theta),
    nonempty, hitting_times (per eigenvalue of Y, first k with x_i^N >= (1-eps) t_i; None for
    t_i <= 0 or not reached), steps, dps, error_in_interval (max over ``samples`` evenly spaced
    steps of [T0, min(T1, steps)] of ||P(k) - W_r||_2), limit_error (||P - W||_F at the last
    step), diverged, decided (False when some level crossing lay within the rounding margin at
    this precision, so a hitting time may be off by one: raise ``dps``). ``full_matrix`` runs
    the N-factor matrix iteration instead.
    """
    if isinstance(max_steps, bool) or not isinstance(max_steps, int) or max_steps < 1:
        raise ValueError(f"max steps must be a positive integer, got {max_steps!r}")
    with mpmath.workdps(st.dps):
        N, r = st.depth, st.r
        if full_matrix:  # a crossing within rounding raises there (ValueError: raise --dps)
            hits, final_x, steps, diverged, products = _full_hits(st, max_steps)
            decided = True
        else:
            events = [Event(i, _learned_level(st, i)) for i in range(st.n) if st.t[i] > 0]
            idx = [i for i in range(st.n) if st.t[i] > 0]
            events.append(Event(r, st.theta, strict=True))
            run = simulate_reduced(st.t, depth=N, alpha=st.alpha, eta=st.eta, dps=st.dps,
                                   events=events, max_steps=max_steps, stop_when_settled=False)
            hits = [None] * st.n
            for i, h in zip(idx, run.hits[:-1]):
                hits[i] = h.step
            nxt = run.hits[-1].step
            hits.append(nxt)
            decided = not any(h.ambiguous for h in run.hits)
            diverged = run.diverged
            steps = max_steps if not diverged else max(l.divergence_step or 0 for l in run.lanes)
            final_x = [lane.x for lane in run.lanes]
            products = None
        learned = hits[:r]
        T0 = None if any(k is None for k in learned) else max(learned)
        nxt = hits[st.n]
        T1 = None if nxt is None else nxt - 1
        nonempty = T0 is not None and (T1 is None or T0 <= T1)
        W_r = _best_rank(st)
        err_in = None
        if T0 is not None and nonempty:
            end = min(T1 if T1 is not None else steps, steps)
            ks = sorted({T0 + (end - T0) * j // max(samples - 1, 1) for j in range(samples)})
            if products is None:
                cp = simulate_reduced(st.t, depth=N, alpha=st.alpha, eta=st.eta, dps=st.dps,
                                      max_steps=end, checkpoints=ks, stop_when_settled=False)
                mats = [_product(st, cp.checkpoints[k]) for k in ks if k in cp.checkpoints]
            else:
                mats = [products[k] for k in ks if k in products]
            err_in = max(spectral_norm(P - W_r, dps=st.dps) for P in mats) if mats else None
        P_last = _product(st, final_x) if not diverged else None
        limit_err = mpmath.mnorm(P_last - st.W, "f") if P_last is not None else None
        return {
            "T0": T0, "T1": T1, "nonempty": bool(nonempty), "hitting_times": hits[: st.n],
            "steps": steps, "dps": st.dps, "decided": decided, "diverged": bool(diverged),
            "error_in_interval": _n(err_in), "limit_error": _n(limit_err),
            "limit_error_of_Y_plus": _n(mpmath.mnorm(_product(st, [mpmath.root(max(v, 0), N) for v in st.t]) - st.W, "f")),
            "engine": "full-matrix" if full_matrix else "reduced",
        }


def _product(st, xs):
    """Q diag(x_i^N) Q^T."""
    D = mpmath.diag([x**st.depth for x in xs])
    return st.Q * D * st.Q.T


def _best_rank(st):
    vals = [st.s[i] if i < st.r else 0 for i in range(st.n)]
    return st.V * mpmath.diag(vals) * st.V.T


def _full_hits(st, max_steps):
    """The full N-factor iteration: hitting times read from the diagonal of Q^T P(k) Q
    (exactly x_i(k)^N under R1), with a relative margin of 10^-(dps-10)."""
    from verify.fullgd import simulate_full

    run = simulate_full(st.Y, depth=st.depth, eta=st.eta, alpha=st.alpha, steps=max_steps,
                        dps=st.dps)
    n, r = st.n, st.r
    tol = mpmath.mpf(10) ** -(st.dps - 10)
    hits = [None] * (n + 1)
    # (slot, level): slot n is the theta crossing of lane r; a tie raises below, so ">=" and
    # ">" need no distinction here
    levels = [(i, _learned_level(st, i)) for i in range(n) if st.t[i] > 0]
    levels.append((n, st.theta))
    q = [st.Q[:, i] for i in range(n)]
    last = 0
    for k in sorted(run.products):
        P = run.products[k]
        last = k
        for i, d in levels:
            if hits[i] is not None:
                continue
            lane = r if i == n else i
            u = (q[lane].T * P * q[lane])[0]
            gap = u - d
            if abs(gap) <= tol * max(abs(d), 1):
                raise ValueError(f"full-matrix run: level crossing at step {k} is within rounding; raise --dps")
            if gap > 0:
                hits[i] = k
    xs = []
    if not run.diverged:
        P = run.products[last]
        xs = [mpmath.root(max((q[i].T * P * q[i])[0], 0), st.depth) for i in range(n)]
    return hits, xs, last, run.diverged, run.products
