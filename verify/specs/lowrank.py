"""Instance specs of the noiseless low-rank claims L1, L2, L3.

L1/L2: a spectrum with s_r / s_{r+1} = 1 + gap, alpha inside the T0 budget, theta inside
the T1 budget. L3: rank one, s_2 placed around the critical ratio c* at which L1's spectral
condition UB0 <= LB1 flips, found by bisection on s_2 with L1's bounds (never from the L3
threshold under test), so instances straddle c* whatever the threshold says.
"""

from __future__ import annotations

import math

import mpmath

from bounds.flow import tau_float
from verify.specs.params import Param, SpecTable, alpha_floor, log_interpolate

__all__ = ["SPECS", "BUDGET_T0", "BUDGET_T1", "level_ceiling", "critical_second_eigenvalue"]

BUDGET_T0 = 20_000
BUDGET_T1 = 100_000

_table = SpecTable()


def level_ceiling(t: float, alpha: float, eta: float, N: int, *, budget: float,
                  level_max: float) -> float:
    """Largest level b <= level_max with tau_t(alpha^N, b)/eta <= budget (bisection; the flow
    time increases in b). Returns alpha^N if no level above it fits."""
    aN = alpha**N
    if level_max <= aN:
        return aN
    if tau_float(t, aN, level_max, N) / eta <= budget:
        return level_max
    lo, hi = aN, level_max
    for _ in range(60):
        mid = (lo + hi) / 2
        if tau_float(t, aN, mid, N) / eta <= budget:
            lo = mid
        else:
            hi = mid
    return lo


_L_PARAMS = (
    Param("depth", "int", 2, 5),
    Param("n", "int", 2, 5),
    Param("r_position", "float", 0.0, 1.0),
    Param("shape", "floats", 0.0, 1.0, size=5),
    Param("gap", "logfloat", 0.2, 20.0),
    Param("top", "float", 0.5, 2.0),
    Param("eps", "logfloat", 1e-4, 0.3),
    Param("theta_mode", "int", 0, 3),
    Param("theta_position", "float", 0.0, 1.0),
    Param("alpha_position", "float", 0.0, 1.0),
    Param("eta_fraction", "float", 0.05, 1.0),
)


def _lowrank_instance(*, depth, n, r_position, shape, gap, top, eps, theta_mode,
                      theta_position, alpha_position, eta_fraction):
    """A spectrum with s_r / s_{r+1} = 1 + gap, alpha inside the T0 budget, theta inside the
    T1 budget (theta_mode 0: theta >= s_{r+1}, so LB1 is infinite)."""
    N = depth
    r = 1 + min(int(r_position * (n - 1)), n - 2)
    s_r = top * (0.3 + 0.7 * shape[0])
    head = sorted([s_r + (top - s_r) * u for u in shape[1:r]] + [s_r], reverse=True)
    s_next = s_r / (1 + gap)
    tail = sorted([s_next] + [0.0 if u < 0.1 else s_next * u for u in shape[r:n - 1]],
                  reverse=True)
    spectrum = head + tail[: n - r]
    eta = eta_fraction / (N * spectrum[0] ** (2 - 2 / N))
    level_r = (1 - eps) * s_r
    cap = level_r
    if s_next > 0:
        cap = min(cap, s_next * (N - 1) / (2 * N - 1))
    hi = (0.5 * cap) ** (1 / N)
    lo = alpha_floor(s_r, level_r, eta, N, budget=BUDGET_T0, alpha_max=hi)
    alpha = log_interpolate(lo, hi, alpha_position)
    aN = alpha**N
    # theta >= alpha^N is a hypothesis: keep theta a relative 1e-9 above the float alpha^N,
    # whose rounding could otherwise put it below the exact power of the binary alpha
    floor_theta = aN * (1 + 1e-9)
    if theta_mode == 0 or s_next == 0:
        theta = max(s_next * (1 + theta_position), floor_theta)
    else:
        ceiling = level_ceiling(s_next, alpha, eta, N, budget=BUDGET_T1,
                                level_max=s_next * (N - 1) / (2 * N - 1))
        theta = max(aN + (ceiling - aN) * theta_position, floor_theta)
    return {"depth": N, "spectrum": spectrum, "r": r, "eps": eps, "theta": theta,
            "alpha": alpha, "eta_fraction": eta_fraction}


_table.add("L1", *_L_PARAMS)(_lowrank_instance)
_table.add("L2", *_L_PARAMS, may_be_na="the observed interval [T0, T1] may be empty "
           "(L1's spectral condition is not assumed)")(_lowrank_instance)


def critical_second_eigenvalue(s1, eps, theta_position, alpha, eta, N, *, iters=50):
    """For rank one, the s_2 at which L1's spectral condition UB0 <= LB1 flips, with theta
    placed at ``theta_position`` of [alpha^N, theta'] (theta' = s_2 (N-1)/(2N-1)); found by
    bisection in log s_2 with L1's real bounds (bounds.lowrank.ub0_real, lb1_real). LB1
    grows as s_2 shrinks, so the condition holds below the returned value. None when it
    holds for no s_2 in (alpha^N (2N-1)/(N-1), s_1) tried.

    >>> s2 = critical_second_eigenvalue(1.0, 0.1, 0.5, 0.05, 0.3, 3)
    >>> 0 < s2 < 1
    True
    """
    from bounds.lowrank import lb1_real, ub0_real

    aN = alpha**N

    def theta_of(s2):
        level = s2 * (N - 1) / (2 * N - 1)
        return aN + (level - aN) * theta_position

    def holds(s2):
        with mpmath.workdps(20):
            th = theta_of(s2)
            B = ub0_real([s1, s2], 1, eps, th, alpha, eta, N)
            L = lb1_real([s1, s2], 1, eps, th, alpha, eta, N)
            return bool(mpmath.ceil(B) <= mpmath.ceil(L) - 1)

    lo = aN * (2 * N - 1) / (N - 1) * 1.01  # theta' just above alpha^N
    hi = s1 * (1 - 1e-9)
    if lo >= hi or not holds(lo):
        return None
    if holds(hi):
        return hi
    a, b = math.log(lo), math.log(hi)
    for _ in range(iters):
        m = (a + b) / 2
        if holds(math.exp(m)):
            a = m
        else:
            b = m
    return math.exp(a)


@_table.add(
    "L3",
    Param("depth", "int", 2, 5),
    Param("top", "float", 0.5, 2.0),
    Param("eps", "logfloat", 1e-3, 0.3),
    Param("alpha_position", "float", 0.0, 1.0),
    Param("theta_position", "float", 0.05, 1.0),
    Param("margin", "float", 0.0, 1.0),
    Param("eta_fraction", "float", 0.05, 1.0),
    may_be_na="instances straddle the critical ratio of L1's condition, so some lie below "
              "the L3 threshold by design",
)
def _l3_instance(*, depth, top, eps, alpha_position, theta_position, margin, eta_fraction):
    """Rank one, s_1 = top, s_1/s_2 = c* x 0.8 x 5^margin around the critical ratio
    c* = s_1 / critical_second_eigenvalue(...) (below c*: UB0 > LB1, where the L3 threshold
    must not hold). alpha between the T0 budget's floor and 0.3, and low enough that theta'
    stays above alpha^N at the smallest s_2 drawn."""
    N = depth
    s1 = top
    eta = eta_fraction / (N * s1 ** (2 - 2 / N))
    hi = min(0.3, (0.25 * (1 - eps) * s1) ** (1 / N))
    alpha = log_interpolate(alpha_floor(s1, (1 - eps) * s1, eta, N, budget=BUDGET_T0, alpha_max=hi),
                            hi, alpha_position)
    factor = 0.8 * 5.0**margin
    for _ in range(30):
        s2c = critical_second_eigenvalue(s1, eps, theta_position, alpha, eta, N)
        if s2c is not None:
            s2 = min(s2c / factor, 0.999 * s1)  # below c* <= 1 the gap still needs s_2 < s_1
            if alpha**N < 0.25 * s2 * (N - 1) / (2 * N - 1):
                break
        alpha *= 0.7  # lower alpha until the condition can hold and theta' clears alpha^N
    else:
        raise ValueError("no rank-one L3 instance found for these raw numbers")
    aN = alpha**N
    level = s2 * (N - 1) / (2 * N - 1)
    theta = aN + (level - aN) * theta_position
    return {"depth": N, "spectrum": [s1, s2], "r": 1, "eps": eps, "theta": theta,
            "alpha": alpha, "eta_fraction": eta_fraction}


SPECS = _table.frozen()


# ---------------------------------------------------------------------------------------
# tightness witnesses (see verify.specs.flow.WITNESSES)

_L1_CORNER = {"depth": 3, "spectrum": [1.0, 0.3], "r": 1, "eps": 0.1, "theta": 0.05,
              "alpha": 0.3}

WITNESSES = {
    ("L1", "ratio"): tuple(dict(_L1_CORNER, eta_fraction=f) for f in (0.1, 0.01, 0.001)),
    ("L1", "T1/LB1"): tuple(dict(_L1_CORNER, eta_fraction=f) for f in (0.1, 0.01, 0.001)),
    ("L2", "ratio"): tuple({"depth": 3, "spectrum": [1.0, 0.01], "r": 1, "eps": 0.1,
                            "theta": 0.005, "alpha": 0.1, "eta_fraction": f}
                           for f in (0.1, 0.03, 0.01)),
    # s_1/s_2 = 1.0001 x the L3 threshold there (computed once with the true threshold and
    # written down, so a changed threshold does not move the instance): c*/(s_1/s_2) = 0.9988
    ("L3", "c*/(s_r/s_r+1)"): ({"depth": 3, "spectrum": [1.0, 0.931092235208], "r": 1,
                                "eps": 0.1, "theta": 0.01, "alpha": 0.001,
                                "eta_fraction": 0.1},),
}


# ---------------------------------------------------------------------------------------
# hard corners, checked in every profile (verify.specs.corners)


def corners():
    from verify.specs.params import Corner

    base = {"depth": 3, "spectrum": [1.0, 0.3], "r": 1, "eps": 0.1, "theta": 0.05,
            "alpha": 0.1, "eta_fraction": 0.5}
    rank2 = {"depth": 3, "spectrum": [2.0, 1.0, 0.1], "r": 2, "eps": 0.1, "theta": 0.02,
             "alpha": 0.2, "eta_fraction": 1.0}
    return {
        "L1": (Corner(rank2, "decided", "r = 2 with distinct overshoot factors rho at s_1, s_2, eta at its bound"),
               Corner(dict(base, theta=0.3), "decided", "exact tie theta = s_r+1 (LB1 infinite)"),
               Corner(dict(base, depth=5, spectrum=[1.3, 0.2], alpha=0.3, eta_fraction=1.0),
                      "decided", "N = 5, eta at its bound"),
               Corner(dict(base, depth=2, spectrum=[1.0, 0.9], theta=0.95, eta_fraction=2.5),
                      "na", "eta 2.5 x the step bound: x_r+1 overshoots theta >= s_r+1"),
               Corner(dict(base, depth=2, spectrum=[1.0, 0.01], theta=0.02, alpha=0.2),
                      "na", "theta < alpha^N: T1 = -1"),
               # no gap: s_r = s_r+1 (a spectrum must be sorted, so s_r < s_r+1 is no input)
               Corner({"depth": 2, "spectrum": [1.0, 0.5, 0.5], "r": 2, "eps": 0.1,
                       "theta": 0.05, "alpha": 0.1, "eta_fraction": 0.5}, "na",
                      "exact tie s_r = s_r+1 (no gap)", drop_fails=False)),
        "L2": (Corner(rank2, "decided", "r = 2 with distinct overshoot factors rho at s_1, s_2, eta at its bound"),
               Corner(dict(base, theta=0.3), "decided", "exact tie theta = s_r+1")),
        "L3": (Corner({"depth": 3, "spectrum": [1.0, 0.5414327980949876], "r": 1, "eps": 0.05,
                       "theta": 0.1082869699417898, "alpha": 0.0093623573235433,
                       "eta_fraction": 1.0}, "decided",
                      "ratio 1.003 x the L3 threshold, eta at its bound"),),
    }
