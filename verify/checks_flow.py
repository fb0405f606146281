"""Checks of the scalar-dynamics claims S1, S2, S3, O1, K1, K2, K3 and their instance specs.

Every check has an internal form with two switches used only by the negative controls:
``require_hypotheses=False`` evaluates the conclusion even where a hypothesis fails, and
``tighten`` scales the bound (0.98 makes an upper bound 2 % smaller, a lower bound 2 %
larger), so the tests can show that each check catches a broken claim.
"""

from __future__ import annotations

import mpmath

from bounds.flow import (
    A,
    k1_hypotheses,
    k2_hypotheses,
    k3_hypotheses,
    k3_lower,
    k3_upper,
    o1_hypotheses,
    rho,
    s1_hypotheses,
    s3_decreasing_step_bound,
    s3_hypotheses,
    tau,
)
from verify.checks import (
    FAIL,
    NOT_APPLICABLE,
    PASS,
    UNDECIDED,
    Outcome,
    compare_le,
    depth_of,
    param,
    register,
    rel_margin,
    worst_verdict,
)
from verify.engine import Event, simulate_reduced
from verify.sampling import Param, alpha_floor, instance_spec, log_interpolate, predicted_steps

__all__ = [
    "s1_outcome", "s2_outcome", "s3_outcome", "o1_outcome",
    "k1_outcome", "k2_outcome", "k3_outcome", "step_at_fraction",
]

BUDGET = 20_000  # steps per simulated lane, by construction of the instances


def _n(x, digits=20) -> str:
    return mpmath.nstr(x, digits) if isinstance(x, mpmath.mpf) else str(x)


def _na(cid, inst, dps, why) -> Outcome:
    return Outcome(claim=cid, verdict=NOT_APPLICABLE, slack=None, dps=dps, instance=dict(inst),
                   note=f"hypothesis false: {why}")


def step_at_fraction(fraction, bound, holds):
    """eta = fraction * bound, rounded down where needed so that ``holds(eta)`` (the
    rounded hypothesis "eta <= bound") is true whenever fraction <= 1: at fraction 1 the
    product can round one unit above the bound, which would turn an admissible instance
    into an inadmissible one."""
    eta = fraction * bound
    if fraction <= 1:
        shrink = 1 - mpmath.mpf(2) ** (4 - mpmath.mp.prec)
        for _ in range(8):
            if holds(eta):
                break
            eta *= shrink
    return eta


def _eta_monotone(inst, t):
    """eta = eta_fraction / (N t^A) at the current precision (never rounded above the bound)."""
    N = depth_of(inst)
    frac = param(inst, "eta_fraction", gt=0)
    t = mpmath.mpf(t)
    return step_at_fraction(frac, 1 / (N * t ** A(N)), lambda h: h * N * t ** A(N) <= 1)


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


@instance_spec(
    "S1",
    Param("depth", "int", 2, 6),
    Param("t", "float", 0.2, 2.0),
    Param("eta_fraction", "float", 0.05, 1.0),
    Param("alpha_position", "float", 0.0, 1.0),
)
def _s1_instance(*, depth, t, eta_fraction, alpha_position):
    eta = eta_fraction / (depth * t ** (2 - 2 / depth))
    hi = (0.8 * t) ** (1 / depth)
    lo = alpha_floor(t, 0.999 * t, eta, depth, budget=BUDGET / 4, alpha_max=hi)
    return {"depth": depth, "t": t, "eta_fraction": eta_fraction,
            "alpha": log_interpolate(lo, hi, alpha_position)}


def s1_outcome(inst, dps, *, require_hypotheses=True) -> Outcome:
    """x_k increases strictly, stays below t^(1/N) and converges to it.

    Checked up to the first step with x^N >= (1 - delta) t, delta = 10^-(dps/2): there the gap
    t - x^N still dwarfs the rounding margin, so "x^N < t" is decidable (closer to the fixed
    point it is not, at any precision). Strict increase is equivalent to 0 < x_k, x_k^N < t.
    """
    with mpmath.workdps(dps):
        N, t, alpha = depth_of(inst), param(inst, "t"), param(inst, "alpha", gt=0)
        eta = _eta_monotone(inst, t)
        if require_hypotheses and not s1_hypotheses(t, alpha, eta, N):
            return _na("S1", inst, dps, "0 < alpha^N < t and eta N t^A <= 1")
        delta = mpmath.mpf(10) ** -(dps // 2)
        level = (1 - delta) * t
        # growth phase to 0.999 t, then geometric convergence at rate ~ 1 - eta N t^A
        q = float(eta * N * t ** A(N))
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


register("S1")(lambda inst, dps: s1_outcome(inst, dps))


# ---------------------------------------------------------------------------------------
# S2


@instance_spec(
    "S2",
    Param("depth", "int", 2, 6),
    Param("t", "float", 0.2, 2.0),
    Param("regime", "int", 0, 1),
    Param("q_position", "float", 0.0, 1.0),
    Param("alpha_position", "float", 0.0, 1.0),
)
def _s2_instance(*, depth, t, regime, q_position, alpha_position):
    # q = eta N t^A: in (1, 2) (overshoot) or (2, 3) (repelling fixed point), kept off the ends
    q = (1.05 + 0.9 * q_position) if regime == 0 else (2.05 + 0.9 * q_position)
    eta = q / (depth * t ** (2 - 2 / depth))
    hi = (0.25 * t) ** (1 / depth)
    lo = alpha_floor(t, 0.5 * t, eta, depth, budget=BUDGET / 4, alpha_max=hi)
    return {"depth": depth, "t": t, "q": q, "alpha": log_interpolate(lo, hi, alpha_position)}


def s2_outcome(inst, dps) -> Outcome:
    """q = eta N t^A in (1, 2): x_k overshoots t^(1/N) (and converges); q > 2: x_k does not
    converge to t^(1/N) (a cycle or divergence)."""
    with mpmath.workdps(dps):
        N, t, alpha = depth_of(inst), param(inst, "t", gt=0), param(inst, "alpha", gt=0)
        q = param(inst, "q", gt=0)
        eta = q / (N * t ** A(N))
        est = predicted_steps(float(t), 0.5 * float(t), float(alpha), float(eta), N)
        cap = int(4 * est) + 2000
        if 1 < q < 2:
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
        if q > 2:
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


register("S2")(s2_outcome)


# ---------------------------------------------------------------------------------------
# S3


@instance_spec(
    "S3",
    Param("depth", "int", 2, 6),
    Param("case", "int", 0, 2),
    Param("alpha", "float", 0.3, 1.5),
    Param("t_position", "float", 0.0, 1.0),
    Param("eta_fraction", "float", 0.3, 0.95),
)
def _s3_instance(*, depth, case, alpha, t_position, eta_fraction):
    aN = alpha**depth
    t = [-(0.05 + 2.0 * t_position), 0.0, aN * (0.2 + 0.75 * t_position)][case]
    return {"depth": depth, "t": t, "alpha": alpha, "eta_fraction": eta_fraction}


S3_STEPS = 1500


def _s3_eta(N, t, alpha, frac):
    if t <= 0:
        return frac / (alpha ** (N - 2) * (alpha**N - t))
    return frac * s3_decreasing_step_bound(t, alpha, N)


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
        if require_hypotheses and not s3_hypotheses(t, alpha, eta, N):
            return _na("S3", inst, dps, "positivity / decreasing step bound")
        K = S3_STEPS
        if t > 0:  # convergence at rate 1 - eta N t^A down to delta = 10^-(dps/2), with room
            K += int(2 * (dps / 2 * 2.31 + 5) / float(eta * N * t ** A(N)))
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


register("S3")(lambda inst, dps: s3_outcome(inst, dps))


# ---------------------------------------------------------------------------------------
# O1


@instance_spec(
    "O1",
    Param("depth", "int", 2, 6),
    Param("t_prime", "float", 0.2, 2.0),
    Param("t_position", "float", 0.0, 1.0),
    Param("alpha_position", "float", 0.0, 1.0),
    Param("eta_fraction", "float", 0.05, 1.0),
)
def _o1_instance(*, depth, t_prime, t_position, alpha_position, eta_fraction):
    alpha = log_interpolate(0.05, (0.9 * t_prime) ** (1 / depth), alpha_position)
    # t from -0.5 up to t' - 0.01 (a negative t needs the positivity bound as well)
    t = -0.5 + (t_prime - 0.01 + 0.5) * t_position
    return {"depth": depth, "t": t, "t_prime": t_prime, "alpha": alpha, "eta_fraction": eta_fraction}


O1_STEPS = 1500


def o1_outcome(inst, dps, *, require_hypotheses=True) -> Outcome:
    """x_k(t) <= x_k(t') for every k (checked on steps 1..1500; step 0 is equal exactly)."""
    with mpmath.workdps(dps):
        N = depth_of(inst)
        t, tp, alpha = param(inst, "t"), param(inst, "t_prime", gt=0), param(inst, "alpha", gt=0)
        bound = 1 / (N * tp ** A(N))
        if t < 0:
            bound = min(bound, 1 / (alpha ** (N - 2) * (alpha**N - t)) * mpmath.mpf("0.999"))
        eta = step_at_fraction(param(inst, "eta_fraction", gt=0), bound,
                               lambda h: h * N * tp ** A(N) <= 1)
        if require_hypotheses and not o1_hypotheses(t, tp, alpha, eta, N):
            return _na("O1", inst, dps, "t <= t', alpha^N <= t', step bound for t'")
        K = O1_STEPS
        run = simulate_reduced([t, tp], depth=N, alpha=alpha, eta=eta, dps=dps, max_steps=K,
                               checkpoints=range(K + 1), stop_when_settled=False)
        verdict, slack = PASS, mpmath.inf
        for k in range(1, K + 1):
            (x, xp), (e, ep) = run.checkpoints[k], run.checkpoint_errors[k]
            v, s = compare_le(x, xp, margin=mpmath.mpf(e) + mpmath.mpf(ep))
            verdict, slack = worst_verdict(verdict, v), min(slack, s)
        return Outcome("O1", verdict, float(slack), dps, dict(inst),
                       observed={"steps_compared": str(K)})


register("O1")(lambda inst, dps: o1_outcome(inst, dps))


# ---------------------------------------------------------------------------------------
# K1, K2


def _hitting_instance(depth, t, eta_fraction, alpha_position, d_position, *, level_max):
    eta = eta_fraction / (depth * t ** (2 - 2 / depth))
    hi = (0.5 * level_max) ** (1 / depth)
    lo = alpha_floor(t, level_max, eta, depth, budget=BUDGET, alpha_max=hi)
    alpha = log_interpolate(lo, hi, alpha_position)
    aN = alpha**depth
    d = aN + (level_max - aN) * (0.02 + 0.97 * d_position)  # never rounds onto level_max
    return {"depth": depth, "t": t, "eta_fraction": eta_fraction, "alpha": alpha, "d": d}


_K_PARAMS = (
    Param("depth", "int", 2, 6),
    Param("t", "float", 0.2, 2.0),
    Param("eta_fraction", "float", 0.05, 1.0),
    Param("alpha_position", "float", 0.0, 1.0),
    Param("d_position", "float", 0.0, 1.0),
)


@instance_spec("K1", *_K_PARAMS)
def _k1_instance(*, depth, t, eta_fraction, alpha_position, d_position):
    return _hitting_instance(depth, t, eta_fraction, alpha_position, d_position,
                             level_max=t * (depth - 1) / (2 * depth - 1))


@instance_spec("K2", *_K_PARAMS)
def _k2_instance(*, depth, t, eta_fraction, alpha_position, d_position):
    return _hitting_instance(depth, t, eta_fraction, alpha_position, d_position,
                             level_max=0.999 * t)


def _hitting_time(N, t, alpha, eta, d, dps, cap):
    run = simulate_reduced([t], depth=N, alpha=alpha, eta=eta, dps=dps,
                           events=[Event(0, d)], max_steps=cap)
    return run.hits[0]


def k1_outcome(inst, dps, *, require_hypotheses=True, tighten=1) -> Outcome:
    """K_t(d) >= tau_t(alpha^N, d) / eta (``tighten`` < 1 raises the bound by 1/tighten)."""
    with mpmath.workdps(dps):
        N, t, alpha, d = depth_of(inst), param(inst, "t", gt=0), param(inst, "alpha", gt=0), param(inst, "d", gt=0)
        eta = _eta_monotone(inst, t)
        if require_hypotheses and not k1_hypotheses(t, d, alpha, eta, N):
            return _na("K1", inst, dps, "alpha^N < d <= t(N-1)/(2N-1) and S1")
        lower = tau(t, alpha**N, d, N) / eta / mpmath.mpf(tighten)
        cap = int(4 * float(rho(t, eta, N)) * float(lower) * float(tighten)) + 100
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
        eta = _eta_monotone(inst, t)
        if require_hypotheses and not k2_hypotheses(t, d, alpha, eta, N):
            return _na("K2", inst, dps, "alpha^N < d < t and S1")
        B = rho(t, eta, N) * tau(t, alpha**N, d, N) / eta * mpmath.mpf(tighten)
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


register("K1")(lambda inst, dps: k1_outcome(inst, dps))
register("K2")(lambda inst, dps: k2_outcome(inst, dps))


# ---------------------------------------------------------------------------------------
# K3


@instance_spec(
    "K3",
    Param("depth", "int", 3, 8),
    Param("t", "float", 0.1, 3.0),
    Param("alpha", "logfloat", 1e-6, 0.9),
    Param("d_position", "float", 0.0, 1.0),
    Param("eps", "logfloat", 1e-8, 0.5),
)
def _k3_instance(*, depth, t, alpha, d_position, eps):
    # alpha^N kept below (1-eps) t / 2 by scaling alpha into range, d between the two
    top = ((1 - eps) * t / 2) ** (1 / depth)
    alpha = min(alpha, top)
    aN = alpha**depth
    d = aN + (t - aN) * (0.01 + 0.98 * d_position)
    return {"depth": depth, "t": t, "alpha": alpha, "d": d, "eps": eps}


def k3_outcome(inst, dps, *, tighten=1) -> Outcome:
    """N >= 3: lower(d) <= tau_t(alpha^N, d) and tau_t(alpha^N, (1-eps)t) <= upper(eps)
    (closed forms only; the margin is the evaluation error at dps digits)."""
    with mpmath.workdps(dps):
        N, t, alpha, d = depth_of(inst), param(inst, "t", gt=0), param(inst, "alpha", gt=0), param(inst, "d", gt=0)
        eps = param(inst, "eps", gt=0, lt=1)
        if not (k3_hypotheses(t, d, alpha, N) and alpha**N < (1 - eps) * t):
            return _na("K3", inst, dps, "N >= 3, 0 < alpha^N < d < t, alpha^N < (1-eps) t")
        tight = mpmath.mpf(tighten)
        lo, tau_d = k3_lower(t, d, alpha, N) / tight, tau(t, alpha**N, d, N)
        hi, tau_e = k3_upper(t, eps, alpha, N) * tight, tau(t, alpha**N, (1 - eps) * t, N)
        m = rel_margin(dps, lost_digits=10)
        v1, s1 = compare_le(lo, tau_d, margin=m * max(abs(lo), abs(tau_d)))
        v2, s2 = compare_le(tau_e, hi, margin=m * max(abs(hi), abs(tau_e)))
        return Outcome("K3", worst_verdict(v1, v2), min(s1, s2), dps, dict(inst),
                       observed={"tau_d": _n(tau_d), "tau_eps": _n(tau_e)},
                       predicted={"lower": _n(lo), "upper": _n(hi)}, ratio=float(tau_e / hi))


register("K3")(lambda inst, dps: k3_outcome(inst, dps))
