"""Checks of the noiseless low-rank claims L1, L2, L3 (specs: verify.specs.lowrank).

The observed interval: ``T0 = min{k : x_i(k)^N >= (1-eps) s_i for all i <= r}`` and
``T1 = min{k : x_{r+1}(k)^N > theta} - 1`` on the reduced dynamics of the target's
eigenvalues (E = 0, so Y = W and t_i = s_i). Bounds ``UB0 = max_i ceil(B_i)`` and
``LB1 = ceil(L) - 1`` are compared through their real arguments B_i and L with a margin
from the working precision (never through a ceil taken at finite precision).
"""

from __future__ import annotations

from dataclasses import dataclass

import mpmath

from verify.checks.verdict import (
    FAIL,
    NOT_APPLICABLE,
    PASS,
    UNDECIDED,
    Outcome,
    compare_le,
    depth_of,
    evaluators,
    monotone_step_eta,
    param,
    rel_margin,
    worst_verdict,
)
from verify.engine import Event, simulate_reduced

__all__ = ["CHECKS", "Interval", "observe_interval", "interval_bounds", "l1_outcome",
           "l2_outcome", "l3_outcome", "critical_ratio", "L3_TIGHTNESS_KEY"]

# L3's tightness: c* (from L1's condition) over the instance's ratio s_r/s_{r+1}
L3_TIGHTNESS_KEY = "c*/(s_r/s_r+1)"


def _n(x, digits=20) -> str:
    return mpmath.nstr(x, digits) if isinstance(x, mpmath.mpf) else str(x)


# ---------------------------------------------------------------------------------------
# observation and bounds


@dataclass(frozen=True)
class Interval:
    """Observed T0 and T1 (T1 None: x_{r+1}^N stayed <= theta for all ``steps`` simulated,
    so T1 >= steps); ``hit_next`` is the step at which x_{r+1}^N first exceeded theta."""

    T0: int | None
    T1: int | None
    hit_next: int | None
    steps: int
    ambiguous: bool
    dps: int
    # theta >= s_{r+1} and x_{r+1}^N stayed below theta up to its decidable horizon: then
    # x_{r+1}^N < s_{r+1} <= theta for every k (S1), so T1 is infinite
    t1_infinite: bool = False

    def nonempty(self) -> bool | None:
        """True/False when decided from the run; None when T0 was not reached."""
        if self.T0 is None:
            return None
        if self.T1 is None:
            return self.t1_infinite or self.T0 <= self.steps
        return self.T0 <= self.T1


def _params(cid, inst, dps):
    N = depth_of(inst)
    spec = inst.get("spectrum")
    if isinstance(spec, (str, bytes)) or not hasattr(spec, "__len__") or len(spec) < 2:
        raise ValueError("instance field 'spectrum' must be a list of at least 2 numbers")
    s = [param({"spectrum value": v}, "spectrum value", ge=0) for v in spec]
    if any(a < b for a, b in zip(s, s[1:])):
        raise ValueError("instance field 'spectrum' must be sorted descending")
    r = inst.get("r")
    if isinstance(r, bool) or not isinstance(r, int) or not 1 <= r < len(s):
        raise ValueError(f"instance field 'r' must be an integer in 1..{len(s) - 1}, got {r!r}")
    eps = param(inst, "eps", gt=0, lt=1)
    theta, alpha = param(inst, "theta", ge=0), param(inst, "alpha", gt=0)
    eta = monotone_step_eta(cid, param(inst, "eta_fraction", gt=0), s[0], N)
    return N, s, r, eps, theta, alpha, eta


def interval_bounds(N, s, r, eps, theta, alpha, eta, *, tighten=1):
    """The real arguments of UB0 and LB1 (L1's ``ub0_real`` and ``lb1_real``): (B, L) with
    UB0 = ceil(B) and LB1 = ceil(L) - 1; L = inf when theta >= s_{r+1}. ``tighten`` < 1
    shrinks UB0's argument and grows LB1's (negative controls)."""
    ev = evaluators("L1")
    B = ev["ub0_real"](s, r, eps, theta, alpha, eta, N)
    L = ev["lb1_real"](s, r, eps, theta, alpha, eta, N)
    tighten = mpmath.mpf(tighten)
    return B * tighten, L / tighten


def observe_interval(N, s, r, eps, theta, alpha, eta, *, dps, max_steps) -> Interval:
    """Run the reduced dynamics of the spectrum and read off T0 and T1.

    When theta >= s_{r+1}, x_{r+1}^N tends to s_{r+1} <= theta from below, and near the limit
    "x^N > theta" is undecidable at any precision if theta is (nearly) s_{r+1}. The (r+1)-th
    lane is then compared only up to the step where x^N >= (1 - 10^-(dps/2)) s_{r+1}; beyond
    it S1 gives x^N < s_{r+1} <= theta, so T1 is infinite (``t1_infinite``).
    """
    learn = simulate_reduced(s[:r], depth=N, alpha=alpha, eta=eta, dps=dps, max_steps=max_steps,
                             events=[Event(i, (1 - eps) * s[i]) for i in range(r)])
    limit_case = theta >= s[r] > 0
    events = [Event(0, theta, strict=True)]
    if limit_case:  # stop the lane at the decidable horizon
        events.append(Event(0, (1 - mpmath.mpf(10) ** -(dps // 2)) * s[r], stop=True))
    nxt_run = simulate_reduced([s[r]], depth=N, alpha=alpha, eta=eta, dps=dps,
                               max_steps=max_steps, events=events)
    ambiguous = any(h.ambiguous for h in learn.hits + nxt_run.hits)
    learned = [h.step for h in learn.hits]
    T0 = None if any(k is None for k in learned) else max(learned)
    nxt = nxt_run.hits[0].step
    return Interval(T0=T0, T1=None if nxt is None else nxt - 1, hit_next=nxt,
                    steps=nxt_run.lanes[0].steps, ambiguous=ambiguous, dps=dps,
                    t1_infinite=limit_case and nxt is None and nxt_run.lanes[0].stopped)


def _steps_for(B, L):
    """Run long enough to decide both bounds, past ceil(B) for T0 and a quarter past L for
    T1: the crossing is then observed even where LB1 is 25 % below it, so the tightness
    T1/LB1 is measured (and a weakened LB1 shows as LOOSE, not as a missing ratio)."""
    top = mpmath.floor(B) + 3
    if mpmath.isfinite(L):
        top = max(top, mpmath.floor(L * mpmath.mpf("1.25")) + 10)
    return int(top)


# ---------------------------------------------------------------------------------------
# L1


def l1_outcome(inst, dps, *, require_hypotheses=True, tighten=1) -> Outcome:
    """T0 <= UB0, T1 >= LB1, and UB0 <= LB1 implies T0 <= T1 (the interval is nonempty)."""
    with mpmath.workdps(dps):
        N, s, r, eps, theta, alpha, eta = _params("L1", inst, dps)
        ev = evaluators("L1")
        if require_hypotheses and not ev["l1_hypotheses"](s, r, eps, theta, alpha, eta, N):
            return Outcome("L1", NOT_APPLICABLE, None, dps, dict(inst),
                           note="hypothesis false: s_r > s_r+1, theta >= alpha^N, "
                                "alpha^N < (1-eps) s_r, eta N s_1^A <= 1")
        B, L = interval_bounds(N, s, r, eps, theta, alpha, eta, tighten=tighten)
        obs = observe_interval(N, s, r, eps, theta, alpha, eta, dps=dps,
                               max_steps=_steps_for(B / mpmath.mpf(tighten), L))
        if obs.ambiguous:
            return Outcome("L1", UNDECIDED, None, dps, dict(inst), note="a level crossing is within rounding")
        m = rel_margin(dps)
        observed = {"T0": str(obs.T0), "T1": str(obs.T1) if obs.T1 is not None else f">= {obs.steps}"}
        predicted = {"UB0": str(int(mpmath.ceil(B))),
                     "LB1": "inf" if not mpmath.isfinite(L) else str(int(mpmath.ceil(L)) - 1)}
        if obs.T0 is None:
            return Outcome("L1", FAIL, -1.0, dps, dict(inst), observed, predicted,
                           note=f"T0 not reached in {obs.steps} steps (> UB0)")
        # T0 <= ceil(B)  <=>  T0 - 1 < B
        v0, s0 = compare_le(obs.T0 - 1, B, margin=B * m + m)
        if v0 == PASS and obs.T0 - 1 >= B:
            v0 = FAIL
        # T1 >= ceil(L) - 1  <=>  hit_next >= L (hit_next = T1 + 1 is an integer)
        if obs.hit_next is None:
            v1, s1 = (PASS, 1.0) if obs.steps >= L or not mpmath.isfinite(L) else (UNDECIDED, 0.0)
        elif L == 0:  # defined exactly (theta' <= alpha^N): hit_next >= 0 = L always holds
            v1, s1 = PASS, 1.0
        else:
            v1, s1 = compare_le(L, obs.hit_next, margin=L * m + m)
        verdict = worst_verdict(v0, v1)
        predicted_nonempty = B <= mpmath.floor(L) if mpmath.isfinite(L) else True
        if tighten == 1:
            predicted_nonempty = ev["spectral_condition"](s, r, eps, theta, alpha, eta, N)
        note = ""
        if predicted_nonempty and obs.nonempty() is False:
            verdict, note = FAIL, "spectral condition holds but the observed interval is empty"
        ratio = float(obs.T0 / mpmath.ceil(B)) if B > 0 else None
        extra = {}
        if obs.T1 is not None and mpmath.isfinite(L) and L >= 2:
            extra["T1/LB1"] = float(obs.T1 / (mpmath.ceil(L) - 1))
        predicted["nonempty"] = str(bool(predicted_nonempty))
        observed["nonempty"] = str(obs.nonempty())
        return Outcome("L1", verdict, min(s0, s1), dps, dict(inst), observed, predicted,
                       note=note, ratio=ratio, extra_ratios=extra)


# ---------------------------------------------------------------------------------------
# L2


L2_SAMPLES = 9


def l2_outcome(inst, dps, *, tighten=1) -> Outcome:
    """For k in [T0, T1]: ||P(k) - W_r||_2 <= max(eps s_1, theta). With E = 0 the error is
    max(max_{i<=r} |x_i^N - s_i|, max_{j>r} |x_j^N|) exactly; it is evaluated at T0, T1 and
    evenly spaced steps between (9 in all; T1 beyond the run: up to the last step)."""
    with mpmath.workdps(dps):
        N, s, r, eps, theta, alpha, eta = _params("L2", inst, dps)
        ev = evaluators("L2")
        if not ev["l1_hypotheses"](s, r, eps, theta, alpha, eta, N):
            return Outcome("L2", NOT_APPLICABLE, None, dps, dict(inst), note="hypothesis false (L1's)")
        B, L = interval_bounds(N, s, r, eps, theta, alpha, eta)
        obs = observe_interval(N, s, r, eps, theta, alpha, eta, dps=dps, max_steps=_steps_for(B, L))
        if obs.ambiguous:
            return Outcome("L2", UNDECIDED, None, dps, dict(inst), note="T0/T1 within rounding")
        if obs.T0 is None:
            return Outcome("L2", UNDECIDED, None, dps, dict(inst), note="T0 not reached within the run")
        end = obs.T1 if obs.T1 is not None else obs.steps
        if obs.t1_infinite:
            # the interval is [T0, infinity); beyond the decidable horizon x_{r+1}^N is within
            # 10^-(dps/2) of s_{r+1}, where an error bound attained in the limit (theta = s_{r+1})
            # cannot be decided: sample up to the horizon (or T0 alone if it comes later)
            end = max(obs.T0, obs.steps)
        if end < obs.T0:
            return Outcome("L2", NOT_APPLICABLE, None, dps, dict(inst), note="the interval [T0, T1] is empty")
        ks = sorted({obs.T0 + (end - obs.T0) * j // (L2_SAMPLES - 1) for j in range(L2_SAMPLES)})
        run = simulate_reduced(s, depth=N, alpha=alpha, eta=eta, dps=dps, max_steps=end,
                               checkpoints=ks, stop_when_settled=False)
        bound = ev["l2_error_bound"](s, r, eps, theta) * mpmath.mpf(tighten)
        worst, worst_margin = mpmath.mpf(0), mpmath.mpf(0)
        for k in ks:
            for i, (x, e) in enumerate(zip(run.checkpoints[k], run.checkpoint_errors[k])):
                ref = s[i] if i < r else 0
                err = abs(x**N - ref)
                margin = N * (abs(x) + e) ** (N - 1) * mpmath.mpf(e)
                if err > worst:
                    worst, worst_margin = err, margin
        v, slack = compare_le(worst, bound, margin=worst_margin + bound * rel_margin(dps))
        return Outcome("L2", v, slack, dps, dict(inst),
                       observed={"max_error": _n(worst), "sampled_steps": str(ks)},
                       predicted={"bound": _n(bound)}, ratio=float(worst / bound) if bound > 0 else None)


# ---------------------------------------------------------------------------------------
# L3


def l3_outcome(inst, dps) -> Outcome:
    """The explicit ratio condition s_r/s_{r+1} >= R (bounds.lowrank.l3_ratio_threshold)
    implies the spectral condition UB0 <= LB1 and an observed nonempty interval."""
    with mpmath.workdps(dps):
        N, s, r, eps, theta, alpha, eta = _params("L3", inst, dps)
        ev = evaluators("L3")
        if not ev["l3_sufficient"](s, r, eps, theta, alpha, eta, N):
            return Outcome("L3", NOT_APPLICABLE, None, dps, dict(inst), note="ratio condition false")
        if not ev["spectral_condition"](s, r, eps, theta, alpha, eta, N):
            return Outcome("L3", FAIL, -1.0, dps, dict(inst),
                           note="ratio condition holds but UB0 > LB1 (the derivation is wrong here)")
        B, L = interval_bounds(N, s, r, eps, theta, alpha, eta)
        obs = observe_interval(N, s, r, eps, theta, alpha, eta, dps=dps, max_steps=_steps_for(B, L))
        if obs.ambiguous:
            return Outcome("L3", UNDECIDED, None, dps, dict(inst), note="T0/T1 within rounding")
        nonempty = obs.nonempty()
        verdict = PASS if nonempty else FAIL
        observed = {"T0": str(obs.T0), "T1": str(obs.T1), "nonempty": str(nonempty)}
        extra = {}
        cstar = critical_ratio(ev["spectral_condition"], s, r, eps, theta, alpha, eta, N)
        if cstar is not None:
            observed["c*"] = _n(cstar)
            extra[L3_TIGHTNESS_KEY] = float(cstar * s[r] / s[r - 1])
        return Outcome("L3", verdict, 1.0 if nonempty else -1.0, dps, dict(inst),
                       observed=observed, extra_ratios=extra,
                       note="" if nonempty else "ratio condition holds but the observed interval is empty")


def critical_ratio(condition, s, r, eps, theta, alpha, eta, N, *, iterations: int = 45):
    """c*: the smallest ratio s_r/s_{r+1} at which L1's condition ``UB0 <= LB1`` holds,
    all else fixed (bisection on s_{r+1} over (max(theta, s_{r+2}), s_r), where the
    condition holds at the lower end: LB1 grows as s_{r+1} falls). It is computed from L1's
    bounds only, never from the L3 threshold, so ``c* / (s_r/s_{r+1})`` (at most 1 where the
    condition holds) measures how close the L3 threshold comes to the exact condition.
    Returned is the lower end s_r/hi of c*'s bracket (the condition fails at s_{r+1} = hi),
    so the ratio stays below 1 wherever the condition holds, bisection width included.
    None when the condition fails at the lower end or holds up to s_r."""
    lo = max(theta, s[r + 1] if r + 1 < len(s) else 0) * (1 + mpmath.mpf(10) ** -9)
    hi = s[r - 1] * (1 - mpmath.mpf(10) ** -12)

    def holds(v):
        return condition(s[:r] + [v] + s[r + 1:], r, eps, theta, alpha, eta, N)

    if not (lo < hi and holds(lo)) or holds(hi):
        return None
    for _ in range(iterations):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if holds(mid) else (lo, mid)
    return s[r - 1] / hi


CHECKS = {
    "L1": lambda inst, dps: l1_outcome(inst, dps),
    "L2": lambda inst, dps: l2_outcome(inst, dps),
    "L3": l3_outcome,
}
