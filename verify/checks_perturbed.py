"""Checks of the perturbed claims P1-P5 (Y = W + E), and their instance specs.

Each check takes an instance dict (JSON-able, everything needed to re-run) and the digits to
use, and returns an :class:`verify.checks.Outcome`. The matrices are rebuilt at the working
precision from the instance: ``W = V diag(spectrum) V^T`` (``psd_target(spectrum, seed)``)
and ``E`` either ``random_perturbation(n, e, seed=seed+1)`` (``noise_kind = "random"``) or
the Weyl-extremal perturbation ``-e sum_{i<=r} v_i v_i^T + e sum_{i>r} v_i v_i^T``
(``noise_kind = "worst"``). The step size is stored as a fraction of its bound and is
recomputed at the working precision.

Margins. Hitting times come from the engine, whose ``Hit.ambiguous`` turns into UNDECIDED;
simulated values are compared with the engine's checkpoint error estimates; closed-form
bounds carry ``rel_margin(dps)`` times their magnitude. Bounds of the form ``K <= ceil(B)``
are decided as ``K - 1 < B`` with that margin (no ceiling taken at finite precision).

Besides ``(instance, dps)``, the check functions accept keywords used by the negative
controls of the test-suite: ``tighten`` (a mapping from a bound's name to a factor; upper
bounds are multiplied by it, lower bounds divided by it) and ``require_hypotheses=False``
(evaluate the conclusion even when a hypothesis fails, instead of returning N/A).
:func:`run_check` runs a check with those keywords and the same precision escalation as
:func:`verify.checks.check`.
"""

from __future__ import annotations

import math
from typing import Mapping

import mpmath

from bounds.flow import (
    A,
    _check_N,
    k1_hypotheses,
    rho,
    s3_nonpositive_condition,
    tau,
    tau_float,
)
from bounds.perturbed import critical_noise, h_decreasing_on, p1_step_limit, p3_lower_hypotheses
from verify.checks import (
    FAIL,
    NOT_APPLICABLE,
    PASS,
    UNDECIDED,
    Outcome,
    compare_le,
    escalate,
    param,
    register,
    rel_margin,
)
from verify.engine import Event, simulate_reduced
from verify.instances import (
    observed,
    psd_target,
    random_perturbation,
    weyl_extremal_perturbation,
)
from verify.sampling import Param, instance_spec, log_bisect, log_interpolate

__all__ = [
    "check_p1",
    "check_p2",
    "check_p3",
    "check_p4",
    "check_p5",
    "run_check",
    "observed_critical_noise",
    "perturbed_problem",
    "p4_step_size",
    "STEP_BUDGET",
    "HARD_CAP",
]

#: predicted steps of a sampled instance stay below this (by construction of the builders)
STEP_BUDGET = 200_000
#: engine step cap of every simulation: a run that needs more is UNDECIDED
HARD_CAP = 2_000_000

NOISE_KINDS = ("random", "worst")


# ---------------------------------------------------------------------------------------
# small helpers


def _s(x, digits: int = 12) -> str:
    if isinstance(x, (int,)) or x is None:
        return str(x)
    return mpmath.nstr(x, digits)


def _field(inst, key):
    if key not in inst:
        raise ValueError(f"instance lacks the field {key!r}")
    return inst[key]


def _num(inst, key, *, lo=None, lo_open=False, hi=None, hi_open=False):
    """Instance field ``key`` as an mpf, validated (:func:`verify.checks.param`)."""
    bounds = {}
    if lo is not None:
        bounds["gt" if lo_open else "ge"] = lo
    if hi is not None:
        bounds["lt" if hi_open else "le"] = hi
    return param(inst, key, **bounds)


def _int(inst, key, lo, hi=None):
    v = _field(inst, key)
    if isinstance(v, bool) or not isinstance(v, int) or v < lo or (hi is not None and v > hi):
        rng = f">= {lo}" if hi is None else f"in {lo}..{hi}"
        raise ValueError(f"{key} must be an integer {rng}, got {v!r}")
    return v


def _combine(parts):
    """Combine (verdict, slack) pairs: any FAIL -> FAIL, else any UNDECIDED -> UNDECIDED."""
    verdicts = [v for v, _ in parts]
    slacks = [s for _, s in parts if s is not None]
    slack = min(slacks) if slacks else None
    if FAIL in verdicts:
        return FAIL, slack
    if UNDECIDED in verdicts:
        return UNDECIDED, slack
    return PASS, slack


def _lt_real(K, B, margin):
    """Decide the integer-vs-real bound ``K <= ceil(B)`` as ``K - 1 < B`` (margin on B)."""
    lhs = mpmath.mpf(K - 1)
    scale = max(abs(B), mpmath.mpf(1))
    slack = float((B - lhs) / scale)
    if lhs < B - margin:
        return PASS, slack
    if lhs > B + margin:
        return FAIL, slack
    return UNDECIDED, slack


def _strictly_less(x, ex, y, ey):
    """Decide x < y for values known to within ex, ey."""
    slack = float((y - x) / max(abs(y), abs(x), mpmath.mpf(10) ** -300))
    if x + ex < y - ey:
        return PASS, slack
    if x - ex >= y + ey:
        return FAIL, slack
    return UNDECIDED, slack


def _pow_margin(x, err, N, dps):
    """Bound on the error of x^N given |computed x - x| <= err, plus rounding."""
    ax = abs(x)
    return N * (ax + err) ** (N - 1) * err + (N + 1) * rel_margin(dps, lost_digits=2) * ax**N


def _tight(tighten, key):
    if not tighten:
        return mpmath.mpf(1)
    return mpmath.mpf(tighten.get(key, 1))


def run_check(fn, instance, *, dps: int = 50, max_dps: int = 250, **kw) -> Outcome:
    """Run a check function with extra keywords, doubling the digits while UNDECIDED."""
    return escalate(fn, instance, dps=dps, max_dps=max_dps, **kw)


def _na(claim, inst, dps, fails, observed=None, predicted=None):
    return Outcome(claim=claim, verdict=NOT_APPLICABLE, slack=None, dps=dps, instance=dict(inst),
                   observed=observed or {}, predicted=predicted or {},
                   note="hypotheses fail: " + "; ".join(fails))


# ---------------------------------------------------------------------------------------
# the perturbed problem of an instance


def perturbed_problem(inst, dps: int):
    """(target, observed) of an instance: W from (spectrum, seed), E by noise_kind.

    Validates the fields it uses; ValueError names the problem.
    """
    spectrum = _field(inst, "spectrum")
    if isinstance(spectrum, (str, bytes)) or not hasattr(spectrum, "__iter__"):
        raise ValueError(f"spectrum must be a list of numbers, got {spectrum!r}")
    spectrum = list(spectrum)
    seed = _int(inst, "seed", 0)
    kind = inst.get("noise_kind", "random")
    if kind not in NOISE_KINDS:
        raise ValueError(f"noise_kind must be one of {NOISE_KINDS}, got {kind!r}")
    with mpmath.workdps(dps):
        e = _num(inst, "e", lo=0)
    target = psd_target(spectrum, seed=seed, dps=dps)
    n = target.n
    if kind == "random":
        E = random_perturbation(n, e, seed=seed + 1, dps=dps)
    else:
        r = _int(inst, "r", 0, n)
        E = weyl_extremal_perturbation(target, r, e, dps=dps)
    return target, observed(target, E, dps=dps)


def _eigs_float(spectrum, seed, e, kind, r):
    """Y's eigenvalues as floats (for the builders' step estimates)."""
    inst = {"spectrum": spectrum, "seed": seed, "e": e, "noise_kind": kind, "r": r}
    _, obs = perturbed_problem(inst, 20)
    return [float(x) for x in obs.t]


def p4_step_size(t, s, r, e, alpha, N, eta_fraction):
    """eta of a P4/P5 instance: eta_fraction times the smallest of the bounds that P4
    (Y's bounds) and its W-only form need: P1's step bound and S3 positivity on Y, the O1
    step bound for ``s_{r+1} + e``, ``1/(N max(s_1 + e, alpha^N)^A)`` and S3 positivity for
    ``s_n - e``. Evaluated at the current precision."""
    Am = A(N)
    aN = alpha**N
    b = p1_step_limit(t, alpha, N)
    tp = s[r] + e
    if tp > 0:
        b = min(b, 1 / (N * tp**Am))
    b = min(b, 1 / (N * max(s[0] + e, aN) ** Am))
    low = s[-1] - e
    if low <= 0:
        b = min(b, 1 / (alpha ** (N - 2) * (aN - low)))
    return eta_fraction * b


# =======================================================================================
# P1


@register("P1")
def check_p1(inst, dps: int, *, tighten: Mapping[str, float] | None = None,
             require_hypotheses: bool = True) -> Outcome:
    """P1: P(k) -> Y_+ under P1's step bound and S3 positivity.

    Lanes: for each t_i with ``alpha^N < t_i - delta t_1`` (growing lanes) the hitting time
    of ``t_i - delta t_1`` is at most ``ceil(rho(t_i) tau_{t_i}(alpha^N, t_i - delta t_1)/eta)``
    (K2) and ``x^N`` never exceeds ``t_i + delta t_1`` up to the end of that lane's run (the
    overshoot tolerance is the conclusion's: "never above t_i" itself cannot be decided once
    x^N has converged to t_i within the rounding margin); lanes with
    ``t_i <= 0`` decrease (between checkpoints 0, K/4, K/2, 3K/4, K) and stay positive.
    Conclusion at K = the largest lane bound: ``||P(K) - Y_+||_2 = max_i |x_i^N - max(t_i,0)|
    <= delta t_1 + alpha^N [if some lane is not growing]`` (the alpha^N term is the residual
    of lanes that start at or above their target, e.g. negative t_i: it is where those lanes
    can still be after finitely many steps).
    """
    N = _check_N(_field(inst, "depth"))
    _target, obs = perturbed_problem(inst, dps)
    with mpmath.workdps(dps):
        alpha = _num(inst, "alpha", lo=0, lo_open=True)
        frac = _num(inst, "eta_fraction", lo=0, lo_open=True)
        delta = _num(inst, "delta", lo=0, lo_open=True, hi=1, hi_open=True)
        t = list(obs.t)
        n = len(t)
        aN = alpha**N
        eta = frac * p1_step_limit(t, alpha, N)
        fails = []
        if not eta <= 1 / (N * max(t[0], aN) ** A(N)):
            fails.append("eta <= 1/(N max(t_1, alpha^N)^A)")
        for i, ti in enumerate(t):
            if ti <= 0 and not s3_nonpositive_condition(ti, alpha, eta, N):
                fails.append(f"S3 positivity eta alpha^(N-2)(alpha^N - t_{i + 1}) < 1")
        if t[0] <= 0:
            fails.append("t_1 > 0 (Y_+ = 0: nothing to learn; delta t_1 is no tolerance)")
        pred = {"eta": _s(eta)}
        if fails and require_hypotheses:
            return _na("P1", inst, dps, fails, predicted=pred)
        tol = delta * t[0]
        kb = _tight(tighten, "K2")
        parts, obsd, notes, ratios = [], {}, [], []
        K_end = 0
        growing = []
        for i, ti in enumerate(t):
            level = ti - tol
            if ti > 0 and aN < level:
                B = kb * rho(ti, eta, N) * tau(ti, aN, level, N) / eta
                mB = rel_margin(dps) * max(B, 1)
                cap = int(mpmath.floor(B + mB)) + 2
                if cap > HARD_CAP:
                    return Outcome("P1", UNDECIDED, None, dps, dict(inst), obsd, pred,
                                   note=f"lane {i + 1}: bound {_s(B, 6)} steps exceeds the cap {HARD_CAP}")
                growing.append(i)
                K_end = max(K_end, cap)
                run = simulate_reduced([ti], depth=N, alpha=alpha, eta=eta, dps=dps,
                                       events=[Event(0, level), Event(0, ti + tol, strict=True)],
                                       max_steps=cap)
                hit, over = run.hits
                pred[f"K_{i + 1}_upper"] = _s(B)
                if over.step is not None and not over.ambiguous:
                    parts.append((FAIL, -1.0))
                    notes.append(f"lane {i + 1}: x^N exceeds t_{i + 1} + delta t_1 at step {over.step}")
                elif over.ambiguous:
                    parts.append((UNDECIDED, None))
                    notes.append(f"lane {i + 1}: x^N vs t_{i + 1} + delta t_1 inside the rounding margin")
                if run.lanes[0].diverged:
                    parts.append((FAIL, -1.0))
                    notes.append(f"lane {i + 1} diverged at step {run.lanes[0].divergence_step}")
                if hit.ambiguous:
                    parts.append((UNDECIDED, None))
                    notes.append(f"lane {i + 1}: hitting step ambiguous")
                elif hit.step is None:
                    parts.append((FAIL, -1.0))
                    obsd[f"K_{i + 1}"] = f"> {run.steps}"
                    notes.append(f"lane {i + 1}: t_{i + 1} - delta t_1 not reached within the K2 bound")
                else:
                    obsd[f"K_{i + 1}"] = str(hit.step)
                    parts.append(_lt_real(hit.step, B, mB))
                    ratios.append(hit.step / float(B))
        if K_end == 0:
            K_end = 1000
        cps = sorted({0, K_end // 4, K_end // 2, (3 * K_end) // 4, K_end})
        full = simulate_reduced(t, depth=N, alpha=alpha, eta=eta, dps=dps, max_steps=K_end,
                                checkpoints=cps, stop_when_settled=False)
        if full.diverged or K_end not in full.checkpoints:
            parts.append((FAIL, -1.0))
            notes.append("the full run diverged")
        else:
            xs, errs = full.checkpoints, full.checkpoint_errors
            for i, ti in enumerate(t):
                if ti > 0:
                    continue
                for a, b in zip(cps, cps[1:]):
                    v = _strictly_less(xs[b][i], errs[b][i], xs[a][i], errs[a][i])
                    parts.append(v)
                    if v[0] == FAIL:
                        notes.append(f"lane {i + 1} (t <= 0) did not decrease between steps {a} and {b}")
                xK, eK = xs[K_end][i], errs[K_end][i]
                if xK - eK <= 0:
                    parts.append((FAIL, -1.0) if xK + eK <= 0 else (UNDECIDED, None))
                    notes.append(f"lane {i + 1} (t <= 0) not positive at step {K_end}")
            dist = mpmath.mpf(0)
            marg = mpmath.mpf(0)
            for i, ti in enumerate(t):
                xN = xs[K_end][i] ** N
                dist = max(dist, abs(xN - max(ti, 0)))
                marg = max(marg, _pow_margin(xs[K_end][i], errs[K_end][i], N, dps))
            small = aN if len(growing) < n else mpmath.mpf(0)
            bound = _tight(tighten, "limit") * (tol + small)
            marg += rel_margin(dps) * max(abs(t[0]), 1)
            v, sl = compare_le(dist, bound, margin=marg)
            parts.append((v, sl))
            if v == FAIL:
                notes.append(f"||P(K) - Y_+||_2 = {_s(dist, 6)} > {_s(bound, 6)} at K = {K_end}")
            obsd["dist_to_Y_plus"] = _s(dist)
            pred["dist_bound"] = _s(bound)
        obsd["K_end"] = str(K_end)
        verdict, slack = _combine(parts)
        ratio = max(ratios) if ratios else None
        if fails:
            notes.insert(0, "hypotheses NOT enforced; failing: " + "; ".join(fails))
        notes.append("monotone decrease of t<=0 lanes checked between checkpoints "
                     + ",".join(map(str, cps)))
        return Outcome("P1", verdict, slack, dps, dict(inst), obsd, pred,
                       note="; ".join(notes), ratio=ratio)


# ---------------------------------------------------------------------------------------
# builders' float estimates


def _rho_f(t, eta, N):
    return (1 + eta * max(t, 0.0) ** (2 - 2 / N)) ** (N - 1)


def _p1_eta_float(t, alpha, N):
    with mpmath.workdps(20):
        return float(p1_step_limit([mpmath.mpf(x) for x in t], mpmath.mpf(alpha), N))


def _p1_predicted_steps(t, alpha, N, frac, delta):
    eta = frac * _p1_eta_float(t, alpha, N)
    aN = alpha**N
    worst = 0.0
    for ti in t:
        level = ti - delta * t[0]
        if ti > 0 and aN < level:
            worst = max(worst, _rho_f(ti, eta, N) * tau_float(ti, aN, level, N) / eta)
    return worst


@instance_spec(
    "P1",
    Param("n", "int", 1, 4),
    Param("depth", "int", 2, 5),
    Param("spectrum", "floats", 0.0, 1.0, size=4),
    Param("zero_tail", "int", 0, 1),
    Param("seed", "int", 0, 2**31 - 1),
    Param("e_frac", "float", 0.0, 1.0),
    Param("worst", "int", 0, 1),
    Param("r", "int", 0, 4),
    Param("alpha_u", "float", 0.0, 1.0),
    Param("eta_fraction", "float", 0.05, 0.95),
    Param("delta", "logfloat", 1e-6, 1e-2),
)
def _p1(*, n, depth, spectrum, zero_tail, seed, e_frac, worst, r, alpha_u, eta_fraction, delta):
    """W's spectrum in [0.2, 2] (a zero in the tail if zero_tail), e = e_frac s_1 / 2 (so
    t_1 > 0), alpha log-uniform between the smallest value whose predicted K2 bound fits the
    step budget and (t_1/2)^(1/N)."""
    s = sorted((0.2 + 1.8 * v for v in spectrum[:n]), reverse=True)
    if zero_tail and n >= 2:
        s[-1] = 0.0
    e = e_frac * 0.5 * s[0]
    kind = "worst" if worst else "random"
    r = min(r, n)
    t = _eigs_float(s, seed, e, kind, r)
    N = depth
    hi = min(1.0, (0.5 * t[0]) ** (1 / N))
    floor = min(hi, 1e-12 ** (1 / N))
    lo = log_bisect(lambda a: _p1_predicted_steps(t, a, N, eta_fraction, delta) <= STEP_BUDGET,
                     floor, hi)
    alpha = log_interpolate(lo, hi, alpha_u)
    return {"n": n, "depth": N, "spectrum": s, "seed": seed, "e": e, "noise_kind": kind,
            "r": r, "alpha": alpha, "eta_fraction": eta_fraction, "delta": delta}


# =======================================================================================
# P2


def _sym_from(Q, d):
    n = len(d)
    M = mpmath.matrix(n, n)
    for i in range(n):
        for j in range(i, n):
            v = mpmath.fsum(Q[i, k] * d[k] * Q[j, k] for k in range(n))
            M[i, j] = v
            M[j, i] = v
    return M


def _spec_norm(M):
    ev = mpmath.eigsy(M, eigvals_only=True)
    return max(abs(ev[i]) for i in range(M.rows))


def _fro(M):
    return mpmath.sqrt(mpmath.fsum(M[i, j] ** 2 for i in range(M.rows) for j in range(M.cols)))


@register("P2")
def check_p2(inst, dps: int, *, tighten: Mapping[str, float] | None = None) -> Outcome:
    """P2 (linear algebra at dps): ``|t_i - s_i| <= e`` (key "weyl"), ``|max(t_i,0) - s_i|
    <= e`` ("limit"), ``||Y_+ - W||_2 <= 2e`` ("spectral"), ``||Y_+ - W||_F <= ||E||_F``
    ("frobenius"); Y_+ from Y's eigendecomposition at dps.

    Exact cases: e = 0 means E = 0 and Y = W (all four hold with equality); when every t_i
    is positive beyond the margin, Y_+ = Y and the Frobenius bound is the identity
    ``||Y - W||_F = ||E||_F`` (decided exactly, not numerically). Otherwise an equality case
    (e.g. the Weyl-extremal E attains the Weyl bound) stays UNDECIDED.
    """
    target, obs = perturbed_problem(inst, dps)
    with mpmath.workdps(dps):
        e = _num(inst, "e", lo=0)
        s, t = list(target.s), list(obs.t)
        if e == 0:
            return Outcome("P2", PASS, 0.0, dps, dict(inst), {"e": "0"}, {},
                           note="E = 0: Y = W exactly, every bound holds with equality")
        scale = max(abs(s[0]), e, mpmath.mpf(1))
        m = rel_margin(dps) * scale * 10
        parts, notes = [], []
        weyl = max(abs(a - b) for a, b in zip(t, s))
        lim = max(abs(max(a, 0) - b) for a, b in zip(t, s))
        Yp = _sym_from(obs.Q, [max(a, 0) for a in t])
        D = Yp - target.W
        spec = _spec_norm(D)
        froD, froE = _fro(D), _fro(obs.E)
        for key, lhs, rhs in (("weyl", weyl, e), ("limit", lim, e), ("spectral", spec, 2 * e)):
            v = compare_le(lhs, _tight(tighten, key) * rhs, margin=m)
            parts.append(v)
            if v[0] != PASS:
                notes.append(f"{key}: {_s(lhs, 8)} vs {_s(_tight(tighten, key) * rhs, 8)} -> {v[0]}")
        fro_rhs = _tight(tighten, "frobenius") * froE
        if t[-1] > m and _tight(tighten, "frobenius") == 1:
            parts.append((PASS, 0.0))
            notes.append("Y is positive definite: Y_+ = Y, Frobenius bound holds with equality")
        else:
            v = compare_le(froD, fro_rhs, margin=m)
            parts.append(v)
            if v[0] != PASS:
                notes.append(f"frobenius: {_s(froD, 8)} vs {_s(fro_rhs, 8)} -> {v[0]}")
        verdict, slack = _combine(parts)
        return Outcome("P2", verdict, slack, dps, dict(inst),
                       observed={"max|t_i-s_i|": _s(weyl), "max|t_i+-s_i|": _s(lim),
                                 "||Y+-W||_2": _s(spec), "||Y+-W||_F": _s(froD)},
                       predicted={"e": _s(e), "2e": _s(2 * e), "||E||_F": _s(froE)},
                       note="; ".join(notes), ratio=float(spec / (2 * e)))


@instance_spec(
    "P2",
    Param("n", "int", 2, 5),
    Param("spectrum", "floats", 0.0, 2.0, size=5),
    Param("zero_tail", "int", 0, 1),
    Param("seed", "int", 0, 2**31 - 1),
    Param("e", "logfloat", 1e-4, 2.0),
)
def _p2(*, n, spectrum, zero_tail, seed, e):
    """Random E of norm e, n >= 2 (the Weyl-extremal E, and any E for n = 1, attains Weyl's
    bound: an equality the checker cannot decide numerically, so it is not sampled; nor is
    W = c I, for which every E attains it)."""
    s = sorted(spectrum[:n], reverse=True)
    if zero_tail:
        s[-1] = 0.0
    if s[0] - s[-1] < 0.1:  # W = c I makes every E Weyl-extremal (an equality case)
        s[0] = s[-1] + 0.1
    return {"n": n, "spectrum": s, "seed": seed, "e": e, "noise_kind": "random"}


# =======================================================================================
# P3


def _p3_parts(inst, dps):
    """(N, s, e, d, t, alpha, eta) of a P3 instance at the current precision."""
    N = _check_N(_field(inst, "depth"))
    src = inst.get("t_source", "interval")
    e = _num(inst, "e", lo=0)
    d = _num(inst, "d", lo=0, lo_open=True)
    alpha = _num(inst, "alpha", lo=0, lo_open=True)
    frac = _num(inst, "eta_fraction", lo=0, lo_open=True)
    if src == "interval":
        s = _num(inst, "s", lo=0, lo_open=True)
        u = _num(inst, "t_frac", lo=0, hi=1)
        t = s - e + 2 * e * u
    elif src == "matrix":
        target, obs = perturbed_problem(inst, dps)
        j = _int(inst, "index", 0, target.n - 1)
        s, t = target.s[j], obs.t[j]
    else:
        raise ValueError(f"t_source must be 'interval' or 'matrix', got {src!r}")
    eta = frac / (N * (s + e) ** A(N))
    return N, s, e, d, t, alpha, eta


@register("P3")
def check_p3(inst, dps: int, *, tighten: Mapping[str, float] | None = None,
             require_hypotheses: bool = True) -> Outcome:
    """P3: for the eigenvalue t of Y paired with s, ``K_t(d) <= ceil(rho(s+e) (s-d)/(s-d-e)
    tau_s/eta)`` (key "upper") and, when d is in K1's range for t (K1's hypotheses),
    ``(s-d)/(s+e-d) tau_s/eta <= K_t(d)`` (key "lower"); ``tau_s = tau_s(alpha^N, d)``,
    ``eta = eta_fraction / (N (s+e)^A)``."""
    with mpmath.workdps(dps):
        N, s, e, d, t, alpha, eta = _p3_parts(inst, dps)
        aN = alpha**N
        fails = []
        if not aN < d:
            fails.append("alpha^N < d")
        if not e < s - d:
            fails.append("e < s - d")
        if not eta * N * (s + e) ** A(N) <= 1:
            fails.append("eta N (s+e)^A <= 1")
        if not abs(t - s) <= e * (1 + rel_margin(dps)) + rel_margin(dps) * s:
            fails.append("|t - s| <= e")
        pred = {"eta": _s(eta), "t": _s(t)}
        if fails and require_hypotheses:
            return _na("P3", inst, dps, fails, predicted=pred)
        ts = tau(s, aN, d, N)
        upper = _tight(tighten, "upper") * rho(s + e, eta, N) * (s - d) / (s - d - e) * ts / eta
        want_lower = k1_hypotheses(t, d, alpha, eta, N)
        lower = (s - d) / (s + e - d) * ts / eta / _tight(tighten, "lower")
        mU, mL = rel_margin(dps) * max(upper, 1), rel_margin(dps) * max(lower, 1)
        cap = int(mpmath.floor(upper + mU)) + 2
        if cap > HARD_CAP:
            return Outcome("P3", UNDECIDED, None, dps, dict(inst), {}, pred,
                           note=f"upper bound {_s(upper, 6)} exceeds the step cap {HARD_CAP}")
        run = simulate_reduced([t], depth=N, alpha=alpha, eta=eta, dps=dps,
                               events=[Event(0, d)], max_steps=cap)
        hit = run.hits[0]
        pred.update({"upper": _s(upper), "lower": _s(lower) if want_lower else "n/a (outside K1 range)"})
        notes = []
        if not want_lower:
            notes.append("lower part not applicable: d outside K1's range for t")
        if p3_lower_hypotheses(s, e, d, alpha, eta, N):
            notes.append("d in K1's range for every t in [s-e, s+e]")
        if hit.ambiguous:
            return Outcome("P3", UNDECIDED, None, dps, dict(inst), {}, pred,
                           note="hitting step ambiguous at this precision")
        if hit.step is None:
            return Outcome("P3", FAIL, -1.0, dps, dict(inst), {"K": f"> {run.steps}"}, pred,
                           note="level d not reached within the upper bound" + ("; diverged" if run.diverged else ""))
        K = hit.step
        parts = [_lt_real(K, upper, mU)]
        if parts[-1][0] == FAIL:
            notes.append(f"K = {K} > ceil(upper)")
        ratio = K / float(upper)
        if want_lower:
            parts.append(compare_le(lower, K, margin=mL))
            if parts[-1][0] == FAIL:
                notes.append(f"K = {K} < lower {_s(lower, 8)}")
        if fails:
            notes.insert(0, "hypotheses NOT enforced; failing: " + "; ".join(fails))
        verdict, slack = _combine(parts)
        obsd = {"K": str(K)}
        if want_lower:
            obsd["K/lower"] = _s(K / lower, 6)
        return Outcome("P3", verdict, slack, dps, dict(inst), obsd, pred, note="; ".join(notes),
                       ratio=ratio)


def _p3_upper_float(s, e, d, alpha, N, frac):
    eta = frac / (N * (s + e) ** (2 - 2 / N))
    return _rho_f(s + e, eta, N) * (s - d) / (s - d - e) * tau_float(s, alpha**N, d, N) / eta


@instance_spec(
    "P3",
    Param("depth", "int", 2, 5),
    Param("s", "float", 0.2, 2.0),
    Param("d_frac", "float", 0.02, 0.95),
    Param("e_frac", "float", 0.0, 0.95),
    Param("t_frac", "float", 0.0, 1.0),
    Param("matrix", "int", 0, 3),
    Param("spectrum", "floats", 0.0, 2.0, size=3),
    Param("seed", "int", 0, 2**31 - 1),
    Param("alpha_u", "float", 0.0, 1.0),
    Param("eta_fraction", "float", 0.05, 0.95),
)
def _p3(*, depth, s, d_frac, e_frac, t_frac, matrix, spectrum, seed, alpha_u, eta_fraction):
    """d = d_frac s, e = e_frac (s - d); t = s - e + 2 e t_frac, or (matrix == 0, one in
    four) t = the eigenvalue of W + E (E random, ||E|| = e) paired with s = s_1 of a
    spectrum [s, ...]. alpha log-uniform between the budget limit and (0.999 d)^(1/N)."""
    N = depth
    d = d_frac * s
    e = e_frac * (s - d)
    inst = {"depth": N, "d": d, "e": e}
    if matrix == 0:
        spec = [s] + sorted((min(v, s) for v in spectrum), reverse=True)
        inst.update({"t_source": "matrix", "spectrum": spec, "seed": seed, "index": 0,
                     "noise_kind": "random"})
    else:
        inst.update({"t_source": "interval", "s": s, "t_frac": t_frac})
    hi = (0.999 * d) ** (1 / N)
    floor = min(hi, 1e-12 ** (1 / N))
    lo = log_bisect(lambda a: _p3_upper_float(s, e, d, a, N, eta_fraction) <= STEP_BUDGET,
                     floor, hi)
    inst.update({"alpha": log_interpolate(lo, hi, alpha_u), "eta_fraction": eta_fraction})
    return inst


# =======================================================================================
# P4 and P5


def _p4_setup(inst, dps):
    """Everything P4/P5 need at the current precision (inside workdps(dps))."""
    N = _check_N(_field(inst, "depth"))
    target, obs = perturbed_problem(inst, dps)
    s, t = list(target.s), list(obs.t)
    n = len(s)
    r = _int(inst, "r", 1, n - 1) if n >= 2 else _int(inst, "r", 1, 1)
    if n < 2:
        raise ValueError("P4/P5 need n >= 2 (r < n)")
    e = _num(inst, "e", lo=0)
    eps = _num(inst, "eps", lo=0, lo_open=True, hi=1, hi_open=True)
    theta = _num(inst, "theta")
    alpha = _num(inst, "alpha", lo=0, lo_open=True)
    frac = _num(inst, "eta_fraction", lo=0, lo_open=True)
    aN = alpha**N
    eta = p4_step_size(t, s, r, e, alpha, N, frac)
    Am = A(N)
    fails = []
    tolw = e * (1 + rel_margin(dps)) + rel_margin(dps) * max(s[0], 1)
    if not all(abs(a - b) <= tolw for a, b in zip(t, s)):
        fails.append("|t_i - s_i| <= e (spectra consistent with ||E|| <= e)")
    if not theta >= aN:
        fails.append("theta >= alpha^N")
    if not aN < (1 - eps) * t[r - 1]:
        fails.append("alpha^N < (1-eps) t_r")
    if not eta <= 1 / (N * max(t[0], aN) ** Am):
        fails.append("eta <= 1/(N max(t_1, alpha^N)^A)")
    for i, ti in enumerate(t):
        if ti <= 0 and not s3_nonpositive_condition(ti, alpha, eta, N):
            fails.append(f"S3 positivity for t_{i + 1}")
    if not eta * N * (s[r] + e) ** Am <= 1:
        fails.append("eta N (s_{r+1}+e)^A <= 1")
    return dict(N=N, target=target, obs=obs, s=s, t=t, n=n, r=r, e=e, eps=eps, theta=theta,
                alpha=alpha, aN=aN, eta=eta, fails=fails)


def _any_hypotheses(P):
    """Hypotheses of the W-only bounds (p4_any_hypotheses), with the failing ones named."""
    s, r, e, eps, theta, alpha, eta, N, aN = (P[k] for k in ("s", "r", "e", "eps", "theta",
                                                            "alpha", "eta", "N", "aN"))
    bad = []
    if not theta >= aN:
        bad.append("theta >= alpha^N")
    for i, si in enumerate(s[:r]):
        if not h_decreasing_on(si - e, si + e, alpha, eps, N):
            bad.append(f"H decreasing on [s_{i + 1}-e, s_{i + 1}+e]")
    if not eta * N * max(s[0] + e, aN) ** A(N) <= 1:
        bad.append("eta N max(s_1+e, alpha^N)^A <= 1")
    low = s[-1] - e
    if low <= 0 and not s3_nonpositive_condition(low, alpha, eta, N):
        bad.append("S3 positivity for s_n - e")
    return bad


def _p4_bounds_real(P, variant=None):
    """Real-valued (ceil-free) P4 bound arguments: UB0 (T0~ <= ceil(UB0)), UB0any (W-only,
    None if its hypotheses fail), Lreal (T1~ >= ceil(Lreal) - 1, i.e. K_theta >= Lreal; None =
    infinite). ``variant`` (negative controls only): "noiseless_tail" builds LB1 from s_{r+1}
    instead of s_{r+1} + e; "no_min" drops the min in theta''."""
    N, aN, eta, eps, r, e = P["N"], P["aN"], P["eta"], P["eps"], P["r"], P["e"]
    t, s, theta = P["t"], P["s"], P["theta"]
    ub0 = mpmath.mpf(0)
    for ti in t[:r]:
        d = (1 - eps) * ti
        if ti > 0 and aN < d:
            ub0 = max(ub0, rho(ti, eta, N) * tau(ti, aN, d, N) / eta)
    any_bad = _any_hypotheses(P)
    ub0any = None
    if not any_bad and s[r - 1] - e > 0:
        ub0any = mpmath.mpf(0)
        for si in s[:r]:
            lo = si - e
            d = (1 - eps) * lo
            if aN < d:
                ub0any = max(ub0any, rho(si + e, eta, N) * tau(lo, aN, d, N) / eta)
    tp = s[r] + (0 if variant == "noiseless_tail" else e)
    if theta >= tp:
        lreal = None
    else:
        thp = theta if variant == "no_min" else min(theta, tp * (N - 1) / (2 * N - 1))
        lreal = mpmath.mpf(1) if thp <= aN else tau(tp, aN, thp, N) / eta
    return ub0, ub0any, any_bad, lreal


def _p4_simulate(P, cap, dps):
    """Run lanes 1..r+1 with the learning events and the theta event (strict)."""
    N, r, t, eps, theta = P["N"], P["r"], P["t"], P["eps"], P["theta"]
    events = [Event(i, (1 - eps) * t[i]) for i in range(r)] + [Event(r, theta, strict=True)]
    return simulate_reduced(t[: r + 1], depth=N, alpha=P["alpha"], eta=P["eta"], dps=dps,
                            events=events, max_steps=cap)


@register("P4")
def check_p4(inst, dps: int, *, tighten: Mapping[str, float] | None = None,
             require_hypotheses: bool = True, variant: str | None = None) -> Outcome:
    """P4 on Y's trajectory: ``T0~ <= max_{i<=r} ceil(rho(t_i) tau_{t_i}(alpha^N,(1-eps)t_i)
    /eta)`` (key "T0"), ``T1~ >= ceil(tau_{s_{r+1}+e}(alpha^N, theta'')/eta) - 1`` (key "T1")
    and, when the W-only hypotheses hold, ``T0~ <= max_{i<=r} ceil(rho(s_i+e) H(s_i-e)/eta)``
    (key "T0_any"; the W-only LB1 is the same as "T1"). ratio = T0~/UB0."""
    with mpmath.workdps(dps):
        P = _p4_setup(inst, dps)
        pred = {"eta": _s(P["eta"])}
        if P["fails"] and require_hypotheses:
            return _na("P4", inst, dps, P["fails"], predicted=pred)
        ub0, ub0any, any_bad, lreal = _p4_bounds_real(P, variant)
        ub0 = ub0 * _tight(tighten, "T0")
        if ub0any is not None:
            ub0any = ub0any * _tight(tighten, "T0_any")
        if lreal is not None:
            lreal = lreal / _tight(tighten, "T1")
        m = rel_margin(dps)
        cap = max(int(mpmath.floor(B * (1 + m))) + 2 for B in (ub0, ub0any or 0, lreal or 0))
        pred.update({"UB0_real": _s(ub0), "UB0_any_real": _s(ub0any) if ub0any is not None else
                     "n/a", "K_theta_lower": _s(lreal) if lreal is not None else "inf"})
        if cap > HARD_CAP:
            return Outcome("P4", UNDECIDED, None, dps, dict(inst), {}, pred,
                           note=f"bounds need {cap} steps, above the cap {HARD_CAP}")
        run = _p4_simulate(P, cap, dps)
        r = P["r"]
        notes, parts, obsd = [], [], {}
        learn, th = run.hits[:r], run.hits[r]
        if any(h.ambiguous for h in learn):
            parts.append((UNDECIDED, None))
            notes.append("a learning step is ambiguous")
            T0 = None
        elif any(h.step is None for h in learn):
            parts.append((FAIL, -1.0))
            notes.append(f"some top lane not learned within {cap} steps (> every T0 bound)")
            T0 = None
        else:
            T0 = max(h.step for h in learn)
            obsd["T0~"] = str(T0)
            parts.append(_lt_real(T0, ub0, m * max(ub0, 1)))
            if parts[-1][0] == FAIL:
                notes.append(f"T0~ = {T0} > ceil(UB0)")
            if ub0any is not None:
                parts.append(_lt_real(T0, ub0any, m * max(ub0any, 1)))
                if parts[-1][0] == FAIL:
                    notes.append(f"T0~ = {T0} > ceil(W-only UB0)")
        if any_bad:
            notes.append("W-only bounds not applicable: " + "; ".join(any_bad))
        ratio_t1 = None
        if th.ambiguous:
            parts.append((UNDECIDED, None))
            notes.append("theta crossing ambiguous")
        elif th.step is None:
            obsd["T1~"] = f">= {run.steps}" if not run.lanes[r].stationary else "inf"
            parts.append((PASS, math.inf if lreal is None else float((run.steps + 1 - lreal) / max(lreal, 1))))
        else:
            K = th.step
            obsd["T1~"] = str(K - 1)
            if lreal is None:  # LB1~ infinite (theta >= s_{r+1}+e), yet theta was crossed
                parts.append((FAIL, -math.inf))
                notes.append(f"theta crossed at step {K} although LB1~ is infinite")
            else:
                parts.append(compare_le(lreal, K, margin=m * max(lreal, 1)))
                ratio_t1 = K / float(lreal)
                obsd["(T1~+1)/(tau/eta)"] = _s(ratio_t1, 6)
                if parts[-1][0] == FAIL:
                    notes.append(f"theta crossed at step {K} < {_s(lreal, 8)}")
        if P["fails"]:
            notes.insert(0, "hypotheses NOT enforced; failing: " + "; ".join(P["fails"]))
        if variant:
            notes.insert(0, f"variant {variant} (not the claim)")
        verdict, slack = _combine(parts)
        ratio = T0 / float(ub0) if (T0 is not None and ub0 > 0) else None
        extra = {}
        if ratio_t1 is not None:
            extra["(T1~+1)/(tau/eta)"] = ratio_t1
        if not (variant or P["fails"]) and verdict in (PASS, FAIL):
            extra.update(_critical_noise_tightness(P))
        return Outcome("P4", verdict, slack, dps, dict(inst), obsd, pred, note="; ".join(notes),
                       ratio=ratio, extra_ratios=extra)


def _critical_noise_tightness(P) -> dict:
    """e* (W-only, bounds.perturbed.critical_noise) over the observed largest e with a nonempty
    interval under the Weyl-extremal perturbation (its lower bracket, at most 2 % below it), for
    this instance's W, r, eps, theta, alpha, eta and N. Empty when either is undefined or the
    observation is censored (nonempty up to the end of the searched range)."""
    s, r, eps, theta, alpha, eta, N = (P[k] for k in ("s", "r", "eps", "theta", "alpha", "eta", "N"))
    try:
        estar = critical_noise(s, r, eps, theta, alpha, eta, N, rtol="1e-6")
        seen = observed_critical_noise(s, r, eps, theta, alpha, eta, N, dps=30)
    except ValueError:  # an ambiguous crossing in the bisection: leave the audit out
        return {}
    # seen = (e_lo, None) means still nonempty at the end of the searched range: the observed
    # critical noise is censored there, and a ratio against it would mean nothing
    if estar is None or seen is None or seen[1] is None or not seen[0] > 0:
        return {}
    return {"e*/e_observed": float(estar / seen[0])}


def _p4_float_bounds(t, s, r, e, eps, theta, alpha, N, frac):
    """Float estimates (UB0, UB0any, Lreal or None) for the builders."""
    with mpmath.workdps(20):
        eta = float(p4_step_size([mpmath.mpf(x) for x in t], [mpmath.mpf(x) for x in s], r,
                                 mpmath.mpf(e), mpmath.mpf(alpha), N, mpmath.mpf(frac)))
    aN = alpha**N
    ub0 = 0.0
    for ti in t[:r]:
        if ti > 0 and aN < (1 - eps) * ti:
            ub0 = max(ub0, _rho_f(ti, eta, N) * tau_float(ti, aN, (1 - eps) * ti, N) / eta)
    ubany = 0.0
    for si in s[:r]:
        lo = si - e
        if lo > 0 and aN < (1 - eps) * lo:
            ubany = max(ubany, _rho_f(si + e, eta, N) * tau_float(lo, aN, (1 - eps) * lo, N) / eta)
    tp = s[r] + e
    lreal = None
    if theta < tp:
        thp = min(theta, tp * (N - 1) / (2 * N - 1))
        lreal = 1.0 if thp <= aN else tau_float(tp, aN, thp, N) / eta
    return ub0, ubany, lreal


P45_PARAMS = (
    Param("n", "int", 2, 4),
    Param("depth", "int", 2, 5),
    Param("r", "int", 1, 3),
    Param("head", "floats", 0.5, 2.0, size=3),
    Param("tail", "floats", 0.0, 1.0, size=3),
    Param("tail_scale", "float", 0.0, 0.3),
    Param("zero_tail", "int", 0, 1),
    Param("seed", "int", 0, 2**31 - 1),
    Param("e_frac", "float", 0.0, 1.0),
    Param("worst", "int", 0, 1),
    Param("eps", "logfloat", 1e-6, 0.3),
    Param("theta_u", "float", 0.0, 1.0),
    Param("alpha_u", "float", 0.0, 1.0),
    Param("eta_fraction", "float", 0.05, 0.95),
)


def _build_p45(*, n, depth, r, head, tail, tail_scale, zero_tail, seed, e_frac, worst, eps,
               theta_u, alpha_u, eta_fraction, nonempty):
    """Spectrum: r head values in [0.5, 2], the tail scaled below tail_scale * s_r (the last
    one 0 if zero_tail); e = e_frac (s_r - s_{r+1})/4; theta log-uniform in [0.03, 3] x
    max(s_{r+1}+e, s_r/1000); alpha log-uniform between the smallest value whose predicted
    steps (max of the bounds) fit the budget and min(theta, (1-eps)(s_r-e)/2)^(1/N). With
    ``nonempty`` (P5) the upper end of alpha is lowered to where the predicted P4 condition
    UB0 <= LB1 still holds, and if it fails at the budget limit theta is raised to
    s_{r+1}+e (T1~ infinite)."""
    N = depth
    r = min(r, n - 1)
    hs = sorted(head[:r], reverse=True)
    sr = hs[-1]
    tl = sorted((v * tail_scale * sr for v in tail[: n - r]), reverse=True)
    if zero_tail:
        tl[-1] = 0.0
    s = hs + tl
    e = e_frac * 0.25 * (sr - s[r])
    kind = "worst" if worst else "random"
    t = _eigs_float(s, seed, e, kind, r)
    tp = s[r] + e
    theta = max(tp, 1e-3 * sr) * 10 ** (2 * theta_u - 1.5)

    def limits(theta):
        # alpha^N stays strictly below theta after rounding (theta >= alpha^N is a hypothesis)
        hi = min(theta * (1 - 1e-9), 0.5 * (1 - eps) * (sr - e)) ** (1 / N)
        floor = min(hi, 1e-12 ** (1 / N))

        def steps(a):
            ub0, ubany, lre = _p4_float_bounds(t, s, r, e, eps, theta, a, N, eta_fraction)
            return max(ub0, ubany, lre or 0.0)

        return log_bisect(lambda a: steps(a) <= STEP_BUDGET, floor, hi), hi

    lo, hi = limits(theta)
    if nonempty:
        def cond(a):
            ub0, _, lre = _p4_float_bounds(t, s, r, e, eps, theta, a, N, eta_fraction)
            return lre is None or ub0 <= lre

        if cond(lo):
            hi = log_bisect(lambda a: not cond(a), lo, hi) / 1.001
            hi = max(hi, lo)
        else:
            theta = max(theta, tp)
            lo, hi = limits(theta)
    alpha = log_interpolate(lo, hi, alpha_u)
    return {"n": n, "depth": N, "spectrum": s, "r": r, "seed": seed, "e": e, "noise_kind": kind,
            "eps": eps, "theta": theta, "alpha": alpha, "eta_fraction": eta_fraction}


@instance_spec("P4", *P45_PARAMS)
def _p4(**raw):
    return _build_p45(**raw, nonempty=False)


@register("P5")
def check_p5(inst, dps: int, *, tighten: Mapping[str, float] | None = None,
             require_hypotheses: bool = True) -> Outcome:
    """P5: for k in [T0~, T1~], ``||P(k) - W_r||_2 <= max(eps (s_1+e), theta) + 2(e + s_{r+1})``
    (key "error"), P(k) = Q diag(x(k)^N) Q^T with Q Y's eigenvectors; W_r = V diag(s_1..s_r,
    0..) V^T. Sampled at checkpoints T0~, T1~ and three evenly spaced between (T1~ replaced by
    the horizon max(2 UB0 + 10, LB1 + 2, K2 bound of the crossing capped at 2 budgets) when
    the theta crossing comes later or never). Also
    reported, not part of the verdict: whether the best sampled iterate beats Y_+ in
    Frobenius distance to W. N/A when the observed interval is empty."""
    with mpmath.workdps(dps):
        P = _p4_setup(inst, dps)
        pred = {"eta": _s(P["eta"])}
        if P["fails"] and require_hypotheses:
            return _na("P5", inst, dps, P["fails"], predicted=pred)
        N, r, n, s, e = P["N"], P["r"], P["n"], P["s"], P["e"]
        bound = (max(P["eps"] * (s[0] + e), P["theta"]) + 2 * (e + s[r])) * _tight(tighten, "error")
        pred["error_bound"] = _s(bound)
        ub0, _, _, lreal = _p4_bounds_real(P)
        m = rel_margin(dps)
        H = max(2 * int(mpmath.floor(ub0 * (1 + m))) + 10,
                int(mpmath.floor(lreal * (1 + m))) + 2 if lreal is not None else 0)
        tr1, aN, theta = P["t"][r], P["aN"], P["theta"]
        if aN <= theta < tr1:
            # reach the actual crossing when K2 says it comes within the budget
            k2 = rho(tr1, P["eta"], N) * tau(tr1, aN, theta, N) / P["eta"] if aN < theta else 1
            H = max(H, min(int(mpmath.floor(k2 * (1 + m))) + 2, 2 * STEP_BUDGET))
        if H > HARD_CAP:
            return Outcome("P5", UNDECIDED, None, dps, dict(inst), {}, pred,
                           note=f"horizon {H} above the step cap {HARD_CAP}")
        run = _p4_simulate(P, H, dps)
        learn, th = run.hits[:r], run.hits[r]
        if any(h.ambiguous for h in learn) or th.ambiguous:
            return Outcome("P5", UNDECIDED, None, dps, dict(inst), {}, pred,
                           note="T0~ or T1~ ambiguous at this precision")
        if any(h.step is None for h in learn):
            return Outcome("P5", UNDECIDED, None, dps, dict(inst), {}, pred,
                           note=f"T0~ not reached within the horizon {H}")
        T0 = max(h.step for h in learn)
        if th.step is None:
            T1, end, tnote = None, H, f"T1~ >= {H}: sampled up to the horizon {H}"
        else:
            T1 = th.step - 1
            end, tnote = T1, ""
        obsd = {"T0~": str(T0), "T1~": str(T1) if T1 is not None else f">= {H}"}
        if T0 > end:
            return Outcome("P5", NOT_APPLICABLE, None, dps, dict(inst), obsd, pred,
                           note=f"observed interval empty (T0~ = {T0} > T1~ = {T1})")
        cps = sorted({T0, end} | {T0 + (end - T0) * j // 4 for j in (1, 2, 3)})
        full = simulate_reduced(P["t"], depth=N, alpha=P["alpha"], eta=P["eta"], dps=dps,
                                max_steps=end, checkpoints=cps, stop_when_settled=False)
        Q, V = P["obs"].Q, P["target"].V
        Wr = _sym_from(V, [s[i] if i < r else mpmath.mpf(0) for i in range(n)])
        W = P["target"].W
        Yp = _sym_from(Q, [max(x, 0) for x in P["t"]])
        fro_limit = _fro(Yp - W)
        scale = max(s[0] + e, mpmath.mpf(1))
        parts, errs_seen, fro_best = [], [], None
        for k in cps:
            if k not in full.checkpoints:
                return Outcome("P5", FAIL, -1.0, dps, dict(inst), obsd, pred,
                               note=f"trajectory diverged before step {k}")
            xs, xe = full.checkpoints[k], full.checkpoint_errors[k]
            Pk = _sym_from(Q, [x**N for x in xs])
            err = _spec_norm(Pk - Wr)
            marg = max(_pow_margin(x, de, N, dps) for x, de in zip(xs, xe)) + 100 * m * scale
            parts.append(compare_le(err, bound, margin=marg))
            errs_seen.append((k, err))
            f = _fro(Pk - W)
            fro_best = f if fro_best is None else min(fro_best, f)
        verdict, slack = _combine(parts)
        kworst, eworst = max(errs_seen, key=lambda ke: ke[1])
        obsd.update({"max_error": _s(eworst), "at_step": str(kworst),
                     "best_fro_to_W": _s(fro_best), "fro_Y_plus_to_W": _s(fro_limit),
                     "early_stop_beats_Y_plus": "yes" if fro_best < fro_limit else "no"})
        notes = [f"sampled k in {cps}"]
        if tnote:
            notes.append(tnote)
        if verdict == FAIL:
            notes.append(f"||P(k) - W_r||_2 = {_s(eworst, 8)} > {_s(bound, 8)} at k = {kworst}")
        if P["fails"]:
            notes.insert(0, "hypotheses NOT enforced; failing: " + "; ".join(P["fails"]))
        return Outcome("P5", verdict, slack, dps, dict(inst), obsd, pred, note="; ".join(notes),
                       ratio=float(eworst / bound) if bound > 0 else None)


@instance_spec("P5", *P45_PARAMS)
def _p5(**raw):
    return _build_p45(**raw, nonempty=True)


# ---------------------------------------------------------------------------------------
# tightness audit of the critical noise


def observed_critical_noise(s, r, eps, theta, alpha, eta, N, *, dps: int = 30,
                            rtol: float = 0.02, max_steps: int = HARD_CAP):
    """Largest e (bisection to ``rtol`` relative) for which the Weyl-extremal perturbation
    ``E = -e sum_{i<=r} v_i v_i^T + e sum_{i>r} v_i v_i^T`` gives an observed nonempty
    interval T0~ <= T1~ (T0~: x_i^N >= (1-eps) t_i for i <= r; T1~ = min{k: x_{r+1}^N >
    theta} - 1). Searched on [0, e_max], ``e_max = min((s_r - s_{r+1})/2, s_r - alpha^N/(1-eps))``
    (beyond it the groups of Y's eigenvalues swap, or t_r is "learned" at step 0, and the
    interval becomes trivially nonempty). Assumes nonemptiness is monotone in e on that range.

    Returns (e_lo, e_hi): nonempty verified at e_lo, empty at e_hi (e_hi None if nonempty at
    e_max); None if empty already at e = 0. Ambiguous hitting steps raise ValueError (raise
    ``dps``). Compare with ``bounds.perturbed.critical_noise`` (e* <= e_lo expected).
    """
    N = _check_N(N)
    with mpmath.workdps(dps):
        sv = [mpmath.mpf(v) for v in s]
        a = mpmath.mpf(alpha)
        aN = a**N
        eps_m, th, h = mpmath.mpf(eps), mpmath.mpf(theta), mpmath.mpf(eta)

        def nonempty(e):
            t = sorted([v - e for v in sv[:r]] + [v + e for v in sv[r:]], reverse=True)
            run = simulate_reduced(t[:r], depth=N, alpha=a, eta=h, dps=dps, max_steps=max_steps,
                                   events=[Event(i, (1 - eps_m) * t[i]) for i in range(r)])
            if any(x.ambiguous for x in run.hits):
                raise ValueError(f"ambiguous learning step at e = {mpmath.nstr(e, 8)}; raise dps")
            if any(x.step is None for x in run.hits):
                return False  # never learned within the cap
            T0 = max(x.step for x in run.hits)
            lane = simulate_reduced([t[r]], depth=N, alpha=a, eta=h, dps=dps, max_steps=T0,
                                    events=[Event(0, th, strict=True)])
            hit = lane.hits[0]
            if hit.ambiguous:
                raise ValueError(f"ambiguous theta crossing at e = {mpmath.nstr(e, 8)}; raise dps")
            return hit.step is None  # no crossing up to T0~: T1~ >= T0~

        e_max = min((sv[r - 1] - sv[r]) / 2, sv[r - 1] - aN / (1 - eps_m)) * (1 - mpmath.mpf(10) ** -9)
        if e_max <= 0 or not nonempty(mpmath.mpf(0)):
            return None
        if nonempty(e_max):
            return float(e_max), None
        lo, hi = mpmath.mpf(0), e_max
        while hi - lo > rtol * hi:
            mid = (lo + hi) / 2
            if nonempty(mid):
                lo = mid
            else:
                hi = mid
        return float(lo), float(hi)
