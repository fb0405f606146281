"""Checks of the scalar-dynamics claims S1, S2, S3, O1, K1, K2, K3 (specs: verify.specs.flow).

Every bound, step size and hypothesis comes from the claim's evaluators in bounds/
(:func:`verify.checks.verdict.evaluators`); nothing here restates a formula of the theory.

Every check has an internal form with two switches used only by the negative controls:
``require_hypotheses=False`` evaluates the conclusion even where a hypothesis fails, and
``tighten`` scales the bound (0.98 makes an upper bound 2 % smaller, a lower bound 2 %
larger), so the tests can show that each check catches a broken claim.
"""

from __future__ import annotations

import math

import mpmath

from bounds.flow import monotone_step_bound, monotone_step_holds
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
    step_at_fraction,
    worst_verdict,
)
from verify.engine import Event, simulate_reduced
from verify.specs.params import predicted_steps

__all__ = [
    "CHECKS",
    "s1_outcome", "s2_outcome", "s3_outcome", "o1_outcome",
    "k1_outcome", "k2_outcome", "k3_outcome",
]


def _n(x, digits=20) -> str:
    return mpmath.nstr(x, digits) if isinstance(x, mpmath.mpf) else str(x)


def _na(cid, inst, dps, why) -> Outcome:
    return Outcome(claim=cid, verdict=NOT_APPLICABLE, slack=None, dps=dps, instance=dict(inst),
                   note=f"hypothesis false: {why}")


def _eta_monotone(cid, inst, t):
    """eta = eta_fraction x the S1 step bound for t (:func:`monotone_step_eta`)."""
    return monotone_step_eta(cid, param(inst, "eta_fraction", gt=0), t, depth_of(inst))


def _values_below(run, lane: int, steps, bound_fn):
    """Decide x_k(lane) < bound_fn(k) for k in steps from checkpoints (values +- error)."""
    verdict = PASS
    for k in steps:
        x, err = run.checkpoints[k][lane], run.checkpoint_errors[k][lane]
        v, _ = compare_le(x, bound_fn(k), margin=mpmath.mpf(err))
        verdict = worst_verdict(verdict, v)
    return verdict


# ---------------------------------------------------------------------------------------
# S1


def s1_outcome(inst, dps, *, require_hypotheses=True) -> Outcome:
    """x_k increases strictly, stays below t^(1/N) and converges to it.

    Checked up to the first step with x^N >= (1 - delta) t, delta = 10^-(dps/2): there the gap
    t - x^N still dwarfs the rounding margin, so "x^N < t" is decidable (closer to the fixed
    point it is not, at any precision). Strict increase is equivalent to 0 < x_k, x_k^N < t.
    """
    with mpmath.workdps(dps):
        N, t, alpha = depth_of(inst), param(inst, "t"), param(inst, "alpha", gt=0)
        eta = _eta_monotone("S1", inst, t)
        if require_hypotheses and not evaluators("S1")["s1_hypotheses"](t, alpha, eta, N):
            return _na("S1", inst, dps, "0 < alpha^N < t and eta N t^A <= 1")
        delta = mpmath.mpf(10) ** -(dps // 2)
        level = (1 - delta) * t
        # growth phase to 0.999 t, then geometric convergence at rate ~ 1 - eta N t^A
        q = float(eta / evaluators("S1")["monotone_step_bound"](t, N))  # eta N t^A
        cap = (int(4 * predicted_steps(float(t), 0.999 * float(t), float(alpha), float(eta), N))
               + int(4 * dps * 2.31 / q) + 1000)
        # one run, stopped where x^N reaches (1 - delta) t; "x^N >= t" is compared up to there
        run = simulate_reduced([t], depth=N, alpha=alpha, eta=eta, dps=dps, max_steps=cap,
                               events=[Event(0, level, stop=True), Event(0, t)])
        hit, above = run.hits
        if hit.ambiguous:
            return Outcome("S1", UNDECIDED, None, dps, dict(inst), note="level crossing within rounding")
        if hit.step is None:
            note = "diverged" if run.diverged else f"x^N did not reach (1-delta) t in {cap} steps"
            return Outcome("S1", FAIL, -1.0, dps, dict(inst), note=note)
        k1 = hit.step
        if above.ambiguous:
            return Outcome("S1", UNDECIDED, None, dps, dict(inst), note="x^N within rounding of t")
        if above.step is not None:
            return Outcome("S1", FAIL, -1.0, dps, dict(inst),
                           observed={"first_k_with_xN_ge_t": str(above.step)},
                           note="x^N reached t: overshoot, not strictly below t^(1/N)")
        return Outcome("S1", PASS, 1.0, dps, dict(inst),
                       observed={"steps_to_(1-delta)t": str(k1), "delta": _n(delta, 3)},
                       note="x_k^N < t for all k up to convergence to within delta")


# ---------------------------------------------------------------------------------------
# S2


def s2_outcome(inst, dps) -> Outcome:
    """q = eta N t^A in (1, 2): x_k overshoots t^(1/N) (and converges); q > 2: x_k does not
    converge to t^(1/N) (a cycle or divergence)."""
    with mpmath.workdps(dps):
        N, t, alpha = depth_of(inst), param(inst, "t", gt=0), param(inst, "alpha", gt=0)
        q = param(inst, "q", gt=0)
        ev = evaluators("S2")
        eta = q * ev["monotone_step_bound"](t, N)  # q = eta N t^A
        est = predicted_steps(float(t), 0.5 * float(t), float(alpha), float(eta), N)
        cap = int(4 * est) + 2000
        overshoot, repelling = ev["s2_overshoot_regime"](t, eta, N), ev["s2_repelling"](t, eta, N)
        if overshoot:
            run = simulate_reduced([t], depth=N, alpha=alpha, eta=eta, dps=dps,
                                   events=[Event(0, t, strict=True)], max_steps=cap)
            hit = run.hits[0]
            if hit.ambiguous:
                return Outcome("S2", UNDECIDED, None, dps, dict(inst), note="overshoot within rounding")
            if hit.step is None:
                return Outcome("S2", FAIL, -1.0, dps, dict(inst),
                               note=f"no overshoot above t^(1/N) in {cap} steps")
            return Outcome("S2", PASS, 1.0, dps, dict(inst),
                           observed={"first_overshoot_step": str(hit.step)})
        if repelling:
            run = simulate_reduced([t], depth=N, alpha=alpha, eta=eta, dps=dps,
                                   max_steps=cap, stop_when_settled=False, checkpoints=[cap])
            if run.diverged:
                return Outcome("S2", PASS, 1.0, dps, dict(inst), observed={"diverged_at": str(run.lanes[0].divergence_step)})
            x, err = run.checkpoints[cap][0], mpmath.mpf(run.checkpoint_errors[cap][0])
            dev = abs(x**N - t) / t
            dev_margin = N * (abs(x) + err) ** (N - 1) * err / t
            if dev - dev_margin > mpmath.mpf("1e-3"):
                return Outcome("S2", PASS, float(dev), dps, dict(inst),
                               observed={"final_relative_deviation": _n(dev, 6)})
            if dev + dev_margin < mpmath.mpf("1e-6"):
                return Outcome("S2", FAIL, -float(dev), dps, dict(inst),
                               observed={"final_relative_deviation": _n(dev, 6)},
                               note="converged to t^(1/N) although the fixed point is repelling")
            return Outcome("S2", UNDECIDED, None, dps, dict(inst),
                           observed={"final_relative_deviation": _n(dev, 6)})
        return _na("S2", inst, dps, "q = eta N t^A must be in (1, 2) or above 2")


# ---------------------------------------------------------------------------------------
# S3


S3_STEPS = 1500


def _s3_eta(N, t, alpha, frac):
    """eta = frac x the S3 step bound that applies: positivity (t <= 0) or decreasing step."""
    ev = evaluators("S3")
    if t <= 0:
        return frac * ev["s3_positivity_step_bound"](t, alpha, N)
    return frac * ev["s3_decreasing_step_bound"](t, alpha, N)


def s3_outcome(inst, dps, *, require_hypotheses=True, eta=None) -> Outcome:
    """t <= 0: x_k decreases strictly and stays positive (hence tends to 0, the only fixed
    point in [0, alpha]); 0 < t < alpha^N: x_k decreases strictly, stays above t^(1/N) and
    converges to it. Checked on every step up to 1500 (for t > 0 up to the step where
    x^N <= (1 + 10^-(dps/2)) t, beyond which "x^N > t" is not decidable; the run is long
    enough for that at the linear rate 1 - eta N t^A)."""
    with mpmath.workdps(dps):
        N, t, alpha = depth_of(inst), param(inst, "t"), param(inst, "alpha", gt=0)
        frac = param(inst, "eta_fraction", gt=0)
        eta = _s3_eta(N, t, alpha, frac) if eta is None else mpmath.mpf(eta)
        if require_hypotheses and not evaluators("S3")["s3_hypotheses"](t, alpha, eta, N):
            return _na("S3", inst, dps, "positivity / decreasing step bound")
        K = S3_STEPS
        if t > 0:  # convergence at rate 1 - eta N t^A down to delta = 10^-(dps/2), with room
            q = float(eta / monotone_step_bound(t, N))  # eta N t^A (run length only)
            K += int(2 * (dps / 2 * 2.31 + 5) / q)
        run = simulate_reduced([t], depth=N, alpha=alpha, eta=eta, dps=dps, max_steps=K,
                               checkpoints=range(K + 1), stop_when_settled=False)
        if run.diverged:
            return Outcome("S3", FAIL, -1.0, dps, dict(inst), note="diverged")
        xs = [run.checkpoints[k][0] for k in range(K + 1)]
        es = [mpmath.mpf(run.checkpoint_errors[k][0]) for k in range(K + 1)]
        delta = mpmath.mpf(10) ** -(dps // 2)
        root = mpmath.root(t, N) if t > 0 else mpmath.mpf(0)
        end = K
        if t > 0:  # stop where x^N - t is no longer decidable
            close = [k for k in range(K + 1) if xs[k] ** N <= (1 + delta) * t]
            if not close:
                return Outcome("S3", FAIL, -1.0, dps, dict(inst),
                               note=f"x^N not within {mpmath.nstr(delta, 3)} of t after {K} steps")
            end = close[0]
        verdict = PASS
        for k in range(end):
            v, _ = compare_le(xs[k + 1], xs[k], margin=es[k] + es[k + 1])  # decreasing
            verdict = worst_verdict(verdict, v)
            v, _ = compare_le(root, xs[k + 1], margin=es[k + 1] + abs(root) * rel_margin(dps))
            verdict = worst_verdict(verdict, v)  # positive / above the root
        return Outcome("S3", verdict, 1.0 if verdict == PASS else -1.0, dps, dict(inst),
                       observed={"x_final": _n(xs[end], 15), "checked_steps": str(end)},
                       note="" if verdict == PASS else "not strictly decreasing / left (t^(1/N), alpha]")


# ---------------------------------------------------------------------------------------
# O1


O1_STEPS = 1500


def o1_outcome(inst, dps, *, require_hypotheses=True) -> Outcome:
    """x_k(t) <= x_k(t') for every k (checked on steps 1..1500; step 0 is equal exactly)."""
    with mpmath.workdps(dps):
        N = depth_of(inst)
        t, tp, alpha = param(inst, "t"), param(inst, "t_prime", gt=0), param(inst, "alpha", gt=0)
        ev = evaluators("O1")
        bound = ev["monotone_step_bound"](tp, N)
        if t < 0:  # the positivity bound is strict: stay 0.1 % below it
            bound = min(bound, ev["s3_positivity_step_bound"](t, alpha, N) * mpmath.mpf("0.999"))
        eta = step_at_fraction(param(inst, "eta_fraction", gt=0), bound,
                               lambda h: monotone_step_holds(tp, h, N))
        if require_hypotheses and not ev["o1_hypotheses"](t, tp, alpha, eta, N):
            return _na("O1", inst, dps, "t <= t', alpha^N <= t', step bound for t'")
        if t == tp:  # the same binary input: identical trajectories, x_k(t) = x_k(t') exactly
            return Outcome("O1", PASS, 0.0, dps, dict(inst), observed={"steps_compared": "all"},
                           note="t = t': the two trajectories are identical (decided exactly)")
        K = O1_STEPS
        run = simulate_reduced([t, tp], depth=N, alpha=alpha, eta=eta, dps=dps, max_steps=K,
                               checkpoints=range(K + 1), stop_when_settled=False)
        verdict, slack = PASS, mpmath.inf
        # a diverged run (possible only outside the hypotheses) stops its checkpoints there
        steps = [k for k in range(1, K + 1) if k in run.checkpoints]
        for k in steps:
            (x, xp), (e, ep) = run.checkpoints[k], run.checkpoint_errors[k]
            v, s = compare_le(x, xp, margin=mpmath.mpf(e) + mpmath.mpf(ep))
            verdict, slack = worst_verdict(verdict, v), min(slack, s)
        if len(steps) < K and verdict != FAIL:
            return Outcome("O1", UNDECIDED, None, dps, dict(inst),
                           observed={"steps_compared": str(len(steps))},
                           note=f"the run diverged after step {len(steps)}: x_k(t) <= x_k(t') holds "
                                "up to there and is undefined beyond")
        return Outcome("O1", verdict, float(slack), dps, dict(inst),
                       observed={"steps_compared": str(len(steps))})


# ---------------------------------------------------------------------------------------
# K1, K2


def _hitting_time(N, t, alpha, eta, d, dps, cap):
    run = simulate_reduced([t], depth=N, alpha=alpha, eta=eta, dps=dps,
                           events=[Event(0, d)], max_steps=cap)
    return run.hits[0]


def k1_outcome(inst, dps, *, require_hypotheses=True, tighten=1) -> Outcome:
    """K_t(d) >= tau_t(alpha^N, d) / eta (``tighten`` < 1 raises the bound by 1/tighten)."""
    with mpmath.workdps(dps):
        N, t, alpha, d = depth_of(inst), param(inst, "t", gt=0), param(inst, "alpha", gt=0), param(inst, "d", gt=0)
        ev = evaluators("K1")
        eta = _eta_monotone("K1", inst, t)
        if require_hypotheses and not ev["k1_hypotheses"](t, d, alpha, eta, N):
            return _na("K1", inst, dps, "alpha^N < d <= t(N-1)/(2N-1) and S1")
        lower = ev["k1_lower"](t, d, alpha, eta, N) / mpmath.mpf(tighten)
        # run to 4 e times the bound: K <= e tau/eta under S1 (rho < e), so K1 is decided
        cap = int(4 * math.e * float(lower) * float(tighten)) + 100
        hit = _hitting_time(N, t, alpha, eta, d, dps, cap)
        if hit.ambiguous or hit.step is None:
            return Outcome("K1", UNDECIDED, None, dps, dict(inst),
                           note="hitting step ambiguous" if hit.ambiguous else f"no hit within {cap} steps")
        v, slack = compare_le(lower, hit.step, margin=lower * rel_margin(dps))
        return Outcome("K1", v, slack, dps, dict(inst), observed={"K": str(hit.step)},
                       predicted={"lower": _n(lower)}, ratio=float(hit.step / lower))


def k2_outcome(inst, dps, *, require_hypotheses=True, tighten=1) -> Outcome:
    """K_t(d) <= ceil(rho(t) tau_t(alpha^N, d) / eta), checked as K - 1 < B for the real B."""
    with mpmath.workdps(dps):
        N, t, alpha, d = depth_of(inst), param(inst, "t", gt=0), param(inst, "alpha", gt=0), param(inst, "d", gt=0)
        ev = evaluators("K2")
        eta = _eta_monotone("K2", inst, t)
        if require_hypotheses and not ev["k2_hypotheses"](t, d, alpha, eta, N):
            return _na("K2", inst, dps, "alpha^N < d < t and S1")
        B = ev["k2_upper_real"](t, d, alpha, eta, N) * mpmath.mpf(tighten)
        cap = int(mpmath.floor(B / mpmath.mpf(tighten))) + 3
        hit = _hitting_time(N, t, alpha, eta, d, dps, cap)
        if hit.ambiguous:
            return Outcome("K2", UNDECIDED, None, dps, dict(inst), note="hitting step ambiguous")
        if hit.step is None:
            return Outcome("K2", FAIL, -1.0, dps, dict(inst), predicted={"upper": _n(B)},
                           note=f"no hit within {cap} steps")
        v, slack = compare_le(hit.step - 1, B, margin=B * rel_margin(dps))
        if v == PASS and hit.step - 1 >= B:  # strict: K - 1 < B
            v = FAIL
        return Outcome("K2", v, slack, dps, dict(inst), observed={"K": str(hit.step)},
                       predicted={"upper": _n(B), "ceil_upper": str(int(mpmath.ceil(B)))},
                       ratio=float(hit.step / mpmath.ceil(B)) if B > 0 else None)


# ---------------------------------------------------------------------------------------
# K3


def k3_outcome(inst, dps, *, tighten=1) -> Outcome:
    """N >= 3: lower(d) <= tau_t(alpha^N, d) and tau_t(alpha^N, (1-eps)t) <= upper(eps)
    (closed forms only; the margin is the evaluation error at dps digits)."""
    with mpmath.workdps(dps):
        N, t, alpha, d = depth_of(inst), param(inst, "t", gt=0), param(inst, "alpha", gt=0), param(inst, "d", gt=0)
        eps = param(inst, "eps", gt=0, lt=1)
        ev = evaluators("K3")
        if not (ev["k3_hypotheses"](t, d, alpha, N) and ev["k3_hypotheses"](t, (1 - eps) * t, alpha, N)):
            return _na("K3", inst, dps, "N >= 3, 0 < alpha^N < d < t, alpha^N < (1-eps) t")
        tight = mpmath.mpf(tighten)
        flow_time = ev["tau"]
        lo, tau_d = ev["k3_lower"](t, d, alpha, N) / tight, flow_time(t, alpha**N, d, N)
        hi, tau_e = ev["k3_upper"](t, eps, alpha, N) * tight, flow_time(t, alpha**N, (1 - eps) * t, N)
        m = rel_margin(dps, lost_digits=10)
        v1, s1 = compare_le(lo, tau_d, margin=m * max(abs(lo), abs(tau_d)))
        v2, s2 = compare_le(tau_e, hi, margin=m * max(abs(hi), abs(tau_e)))
        return Outcome("K3", worst_verdict(v1, v2), min(s1, s2), dps, dict(inst),
                       observed={"tau_d": _n(tau_d), "tau_eps": _n(tau_e)},
                       predicted={"lower": _n(lo), "upper": _n(hi)}, ratio=float(tau_e / hi),
                       extra_ratios={"lower/tau_d": float(lo / tau_d)})


CHECKS = {
    "S1": lambda inst, dps: s1_outcome(inst, dps),
    "S2": s2_outcome,
    "S3": lambda inst, dps: s3_outcome(inst, dps),
    "O1": lambda inst, dps: o1_outcome(inst, dps),
    "K1": lambda inst, dps: k1_outcome(inst, dps),
    "K2": lambda inst, dps: k2_outcome(inst, dps),
    "K3": lambda inst, dps: k3_outcome(inst, dps),
}
