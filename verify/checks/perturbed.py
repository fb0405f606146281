"""Checks of the perturbed claims P1-P5 (Y = W + E); specs in verify.specs.perturbed.

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

from bounds.flow import _check_N, k2_upper_real
from bounds.perturbed import p3_lower_hypotheses
from verify.checks.verdict import (
    FAIL,
    NOT_APPLICABLE,
    PASS,
    UNDECIDED,
    Outcome,
    compare_le,
    escalate,
    evaluators,
    param,
    rel_margin,
)
from verify.engine import Event, simulate_reduced
from verify.problems import field as _field
from verify.problems import int_field as _int
from verify.problems import perturbed_problem
from verify.specs.perturbed import STEP_BUDGET

__all__ = [
    "CHECKS",
    "check_p1",
    "check_p2",
    "check_p3",
    "check_p4",
    "check_p5",
    "run_check",
    "observed_critical_noise",
    "perturbed_problem",
    "STEP_BUDGET",
    "HARD_CAP",
]

#: engine step cap of every simulation: a run that needs more is UNDECIDED
HARD_CAP = 2_000_000


# ---------------------------------------------------------------------------------------
# small helpers


def _s(x, digits: int = 12) -> str:
    if isinstance(x, (int,)) or x is None:
        return str(x)
    return mpmath.nstr(x, digits)


def _num(inst, key, *, lo=None, lo_open=False, hi=None, hi_open=False):
    """Instance field ``key`` as an mpf, validated (:func:`verify.checks.param`)."""
    bounds = {}
    if lo is not None:
        bounds["gt" if lo_open else "ge"] = lo
    if hi is not None:
        bounds["lt" if hi_open else "le"] = hi
    return param(inst, key, **bounds)


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


# =======================================================================================
# P1


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
        ev = evaluators("P1")
        eta = frac * ev["p1_step_limit"](t, alpha, N)
        fails = list(ev["p1_hypothesis_failures"](t, alpha, eta, N))
        if t[0] <= 0:
            fails.append("t_1 > 0 (Y_+ = 0: nothing to learn; delta t_1 is no tolerance)")
        pred = {"eta": _s(eta)}
        if fails and require_hypotheses:
            return _na("P1", inst, dps, fails, predicted=pred)
        tol = delta * t[0]
        kb = _tight(tighten, "K2")
        parts, obsd, notes, ratios, extra = [], {}, [], [], {}
        K_end = 0
        growing = ev["p1_growing_lanes"](t, alpha, N, delta)
        for i in growing:
            ti = t[i]
            level = ti - tol
            B = kb * ev["k2_upper_real"](ti, level, alpha, eta, N)
            mB = rel_margin(dps) * max(B, 1)
            cap = int(mpmath.floor(B + mB)) + 2
            if cap > HARD_CAP:
                return Outcome("P1", UNDECIDED, None, dps, dict(inst), obsd, pred,
                               note=f"lane {i + 1}: bound {_s(B, 6)} steps exceeds the cap {HARD_CAP}")
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
                ratios.append(hit.step / float(mpmath.ceil(B)))  # K <= ceil(B), as in K2
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
            for i, yi in enumerate(ev["y_plus_eigenvalues"](t)):
                xN = xs[K_end][i] ** N
                dist = max(dist, abs(xN - yi))
                marg = max(marg, _pow_margin(xs[K_end][i], errs[K_end][i], N, dps))
            bound = _tight(tighten, "limit") * ev["p1_distance_bound"](t, alpha, N, delta)
            marg += rel_margin(dps) * max(abs(t[0]), 1)
            v, sl = compare_le(dist, bound, margin=marg)
            parts.append((v, sl))
            if v == FAIL:
                notes.append(f"||P(K) - Y_+||_2 = {_s(dist, 6)} > {_s(bound, 6)} at K = {K_end}")
            obsd["dist_to_Y_plus"] = _s(dist)
            pred["dist_bound"] = _s(bound)
            if bound > 0:
                extra["||P(K)-Y_+||/bound"] = float(dist / bound)
        obsd["K_end"] = str(K_end)
        verdict, slack = _combine(parts)
        ratio = max(ratios) if ratios else None
        if fails:
            notes.insert(0, "hypotheses NOT enforced; failing: " + "; ".join(fails))
        notes.append("monotone decrease of t<=0 lanes checked between checkpoints "
                     + ",".join(map(str, cps)))
        return Outcome("P1", verdict, slack, dps, dict(inst), obsd, pred,
                       note="; ".join(notes), ratio=ratio, extra_ratios=extra)


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


def check_p2(inst, dps: int, *, tighten: Mapping[str, float] | None = None) -> Outcome:
    """P2 (linear algebra at dps): ``|t_i - s_i| <= e`` (key "weyl"), ``|max(t_i,0) - s_i|
    <= e`` ("limit"), ``||Y_+ - W||_2 <= 2e`` ("spectral"), ``||Y_+ - W||_F <= ||E||_F``
    ("frobenius"); Y_+ from Y's eigendecomposition at dps.

    With ``noise_kind = "explicit"`` (W and E given as matrices) e is ||E||_2 computed at
    dps (0 exactly when every entry of E is 0).

    Exact cases: e = 0 means E = 0 and Y = W (all four hold with equality); when every t_i
    is positive beyond the margin, Y_+ = Y and the Frobenius bound is the identity
    ``||Y - W||_F = ||E||_F`` (decided exactly, not numerically). Otherwise an equality case
    (e.g. the Weyl-extremal E attains the Weyl bound) stays UNDECIDED.
    """
    target, obs = perturbed_problem(inst, dps)
    with mpmath.workdps(dps):
        if inst.get("noise_kind") == "explicit":  # W and E given: e = ||E||_2, computed
            n = obs.E.rows
            zero = all(obs.E[i, j] == 0 for i in range(n) for j in range(n))
            e = mpmath.mpf(0) if zero else obs.e
        else:
            e = _num(inst, "e", lo=0)
        s, t = list(target.s), list(obs.t)
        if e == 0:
            return Outcome("P2", PASS, 0.0, dps, dict(inst), {"e": "0"}, {},
                           note="E = 0: Y = W exactly, every bound holds with equality")
        scale = max(abs(s[0]), e, mpmath.mpf(1))
        m = rel_margin(dps) * scale * 10
        parts, notes = [], []
        weyl = max(abs(a - b) for a, b in zip(t, s))
        yplus = evaluators("P2")["y_plus_eigenvalues"](t)
        lim = max(abs(a - b) for a, b in zip(yplus, s))
        Yp = _sym_from(obs.Q, yplus)
        D = Yp - target.W
        spec = _spec_norm(D)
        froD, froE = _fro(D), _fro(obs.E)
        b = evaluators("P2")["p2_bounds"](e, froE)
        for key, lhs, rhs in (("weyl", weyl, b.eigenvalue), ("limit", lim, b.limit_eigenvalue),
                              ("spectral", spec, b.spectral)):
            v = compare_le(lhs, _tight(tighten, key) * rhs, margin=m)
            parts.append(v)
            if v[0] != PASS:
                notes.append(f"{key}: {_s(lhs, 8)} vs {_s(_tight(tighten, key) * rhs, 8)} -> {v[0]}")
        fro_rhs = _tight(tighten, "frobenius") * b.frobenius
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
                       predicted={"e": _s(b.eigenvalue), "2e": _s(b.spectral), "||E||_F": _s(b.frobenius)},
                       note="; ".join(notes), ratio=float(spec / b.spectral))


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
    eta = frac * evaluators("P3")["monotone_step_bound"](s + e, N)
    return N, s, e, d, t, alpha, eta


def check_p3(inst, dps: int, *, tighten: Mapping[str, float] | None = None,
             require_hypotheses: bool = True) -> Outcome:
    """P3: for the eigenvalue t of Y paired with s, ``K_t(d) <= ceil(rho(s+e) (s-d)/(s-d-e)
    tau_s/eta)`` (key "upper") and, when d is in K1's range for t (K1's hypotheses),
    ``(s-d)/(s+e-d) tau_s/eta <= K_t(d)`` (key "lower"); ``tau_s = tau_s(alpha^N, d)``,
    ``eta = eta_fraction / (N (s+e)^A)``."""
    with mpmath.workdps(dps):
        N, s, e, d, t, alpha, eta = _p3_parts(inst, dps)
        ev = evaluators("P3")
        fails = list(ev["p3_hypothesis_failures"](s, e, d, alpha, eta, N))
        # the computed eigenvalue t of Y carries rounding: admit it in the Weyl pairing
        if not ev["paired_eigenvalue_consistent"](s, t, e, tol=rel_margin(dps) * (e + s)):
            fails.append("|t - s| <= e")
        pred = {"eta": _s(eta), "t": _s(t)}
        if fails and require_hypotheses:
            return _na("P3", inst, dps, fails, predicted=pred)
        lower, upper = ev["p3_bounds_real"](s, e, d, alpha, eta, N)
        upper = _tight(tighten, "upper") * upper
        want_lower = ev["k1_hypotheses"](t, d, alpha, eta, N)
        lower = lower / _tight(tighten, "lower")
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
        # K <= ceil(upper) is the claim: K/upper may exceed 1 on a PASS (upper < K = ceil(upper)
        # at small K), which the audit would call impossible; K/ceil(upper) as in K2
        ratio = K / float(mpmath.ceil(upper))
        if want_lower:
            parts.append(compare_le(lower, K, margin=mL))
            if parts[-1][0] == FAIL:
                notes.append(f"K = {K} < lower {_s(lower, 8)}")
        if fails:
            notes.insert(0, "hypotheses NOT enforced; failing: " + "; ".join(fails))
        verdict, slack = _combine(parts)
        obsd = {"K": str(K)}
        extra = {}
        if want_lower:
            obsd["K/lower"] = _s(K / lower, 6)
            if K > 0:
                extra["lower/K"] = float(lower / K)
        return Outcome("P3", verdict, slack, dps, dict(inst), obsd, pred, note="; ".join(notes),
                       ratio=ratio, extra_ratios=extra)


# =======================================================================================
# P4 and P5


def _p4_setup(cid, inst, dps):
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
    ev = evaluators(cid)
    eta = frac * ev["p4_step_limit"](t, s, r, e, alpha, N)
    # computed eigenvalues of Y carry rounding: admit it in the Weyl consistency
    tolw = e * rel_margin(dps) + rel_margin(dps) * max(s[0], 1)
    fails = list(ev["p4_hypothesis_failures"](t, s, r, e, eps, theta, alpha, eta, N, weyl_tol=tolw))
    return dict(N=N, target=target, obs=obs, s=s, t=t, n=n, r=r, e=e, eps=eps, theta=theta,
                alpha=alpha, aN=aN, eta=eta, fails=fails)


def _p4_bounds_real(P):
    """P4's real-valued (ceil-free) bounds from bounds/ (``p4_bounds_real``,
    ``p4_bounds_any_real``): UB0 (T0~ <= ceil(UB0)), UB0any (W-only, None if its hypotheses
    fail or s_r - e <= 0), the failing W-only hypotheses, and L (the theta crossing comes at
    step >= L; None = infinite)."""
    ev = evaluators("P4")
    args = (P["s"], P["r"], P["e"], P["eps"], P["theta"], P["alpha"], P["eta"], P["N"])
    ub0, L = ev["p4_bounds_real"](P["t"], *args)
    any_bad = list(ev["p4_any_hypothesis_failures"](*args))
    ub0any = None
    if not any_bad and P["s"][P["r"] - 1] - P["e"] > 0:
        ub0any = ev["p4_bounds_any_real"](*args)[0]
    return ub0, ub0any, any_bad, (None if mpmath.isinf(L) else L)


def _p4_simulate(P, cap, dps):
    """Run lanes 1..r+1 with the learning events and the theta event (strict)."""
    N, r, t, eps, theta = P["N"], P["r"], P["t"], P["eps"], P["theta"]
    events = [Event(i, (1 - eps) * t[i]) for i in range(r)] + [Event(r, theta, strict=True)]
    return simulate_reduced(t[: r + 1], depth=N, alpha=P["alpha"], eta=P["eta"], dps=dps,
                            events=events, max_steps=cap)


def check_p4(inst, dps: int, *, tighten: Mapping[str, float] | None = None,
             require_hypotheses: bool = True) -> Outcome:
    """P4 on Y's trajectory: ``T0~ <= max_{i<=r} ceil(rho(t_i) tau_{t_i}(alpha^N,(1-eps)t_i)
    /eta)`` (key "T0"), ``T1~ >= ceil(tau_{s_{r+1}+e}(alpha^N, theta'')/eta) - 1`` (key "T1")
    and, when the W-only hypotheses hold, ``T0~ <= max_{i<=r} ceil(rho(s_i+e) H(s_i-e)/eta)``
    (key "T0_any"; the W-only LB1 is the same as "T1"). ratio = T0~/UB0."""
    with mpmath.workdps(dps):
        P = _p4_setup("P4", inst, dps)
        pred = {"eta": _s(P["eta"])}
        if P["fails"] and require_hypotheses:
            return _na("P4", inst, dps, P["fails"], predicted=pred)
        ub0, ub0any, any_bad, lreal = _p4_bounds_real(P)
        ub0 = ub0 * _tight(tighten, "T0")
        if ub0any is not None:
            ub0any = ub0any * _tight(tighten, "T0_any")
        if lreal is not None:
            lreal = lreal / _tight(tighten, "T1")
        m = rel_margin(dps)
        # past every T0 bound, and a quarter past the theta-crossing bound so that the
        # crossing (and the tightness of LB1~) is observed where the bound is 25 % low
        cap = max([int(mpmath.floor(B * (1 + m))) + 2 for B in (ub0, ub0any or 0)]
                  + [int(mpmath.floor((lreal or 0) * mpmath.mpf("1.25"))) + 10])
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
            elif K == 0:  # T1~ = -1, below LB1~ >= 0 (only with theta < alpha^N)
                parts.append((FAIL, -1.0))
                notes.append("theta crossed at step 0: T1~ = -1 < LB1~")
            elif lreal == 0:  # theta'' <= alpha^N: LB1~ = 0 and K >= 1
                parts.append((PASS, 1.0))
            else:
                parts.append(compare_le(lreal, K, margin=m * max(lreal, 1)))
                ratio_t1 = K / float(lreal)
                obsd["(T1~+1)/(tau/eta)"] = _s(ratio_t1, 6)
                if parts[-1][0] == FAIL:
                    notes.append(f"theta crossed at step {K} < {_s(lreal, 8)}")
        if P["fails"]:
            notes.insert(0, "hypotheses NOT enforced; failing: " + "; ".join(P["fails"]))
        verdict, slack = _combine(parts)
        ratio = T0 / float(ub0) if (T0 is not None and ub0 > 0) else None
        extra = {}
        if ratio_t1 is not None:
            extra["(T1~+1)/(tau/eta)"] = ratio_t1
        if T0 is not None and ub0any is not None and ub0any > 0:
            extra["T0~/UB0_any"] = T0 / float(mpmath.ceil(ub0any))
        if not P["fails"] and verdict in (PASS, FAIL):
            extra.update(_critical_noise_tightness(P))
        return Outcome("P4", verdict, slack, dps, dict(inst), obsd, pred, note="; ".join(notes),
                       ratio=ratio, extra_ratios=extra)


# relative width of the observed critical-noise bracket: e*/e_observed_hi reaches 0.9926 at
# eta_fraction 0.01 with it (P4's witness walk); with 2 % it could not separate a 2 % change
CRITICAL_NOISE_RTOL = 1e-3


def _critical_noise_tightness(P) -> dict:
    """e* (W-only, bounds.perturbed.critical_noise) over the observed largest e with a nonempty
    interval under the Weyl-extremal perturbation (bracketed to CRITICAL_NOISE_RTOL = 0.1 %, so
    that a 2 % smaller e* falls below the tightness floor 0.99), for
    this instance's W, r, eps, theta, alpha, eta and N. Empty when either is undefined or the
    observation is censored (nonempty up to the end of the searched range)."""
    s, r, eps, theta, alpha, eta, N = (P[k] for k in ("s", "r", "eps", "theta", "alpha", "eta", "N"))
    try:
        estar = evaluators("P4")["critical_noise"](s, r, eps, theta, alpha, eta, N, rtol="1e-6")
        seen = observed_critical_noise(s, r, eps, theta, alpha, eta, N, dps=30,
                                       rtol=CRITICAL_NOISE_RTOL)
    except ValueError:  # an ambiguous crossing in the bisection: leave the audit out
        return {}
    # seen = (e_lo, None) means still nonempty at the end of the searched range: the observed
    # critical noise is censored there, and a ratio against it would mean nothing
    if estar is None or seen is None or seen[1] is None or not seen[0] > 0:
        return {}
    # e_observed is bracketed: nonempty at seen[0], empty at seen[1]; e* above the lower end
    # can be rounding of the bisection, above the upper end it contradicts the prediction
    return {"e*/e_observed": float(estar / seen[0]), "e*/e_observed_hi": float(estar / seen[1])}


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
        P = _p4_setup("P5", inst, dps)
        pred = {"eta": _s(P["eta"])}
        if P["fails"] and require_hypotheses:
            return _na("P5", inst, dps, P["fails"], predicted=pred)
        N, r, n, s, e = P["N"], P["r"], P["n"], P["s"], P["e"]
        bound = evaluators("P5")["p5_error_bound"](s, r, e, P["eps"], P["theta"]) * _tight(tighten, "error")
        pred["error_bound"] = _s(bound)
        ub0, _, _, lreal = _p4_bounds_real(P)
        m = rel_margin(dps)
        H = max(2 * int(mpmath.floor(ub0 * (1 + m))) + 10,
                int(mpmath.floor(lreal * (1 + m))) + 2 if lreal is not None else 0)
        tr1, aN, theta = P["t"][r], P["aN"], P["theta"]
        if aN <= theta < tr1:
            # reach the actual crossing when K2 says it comes within the budget
            k2 = k2_upper_real(tr1, theta, P["alpha"], P["eta"], N) if aN < theta else 1
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
            t = evaluators("P4")["weyl_extremal_eigenvalues"](sv, r, e)
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


CHECKS = {"P1": check_p1, "P2": check_p2, "P3": check_p3, "P4": check_p4, "P5": check_p5}
