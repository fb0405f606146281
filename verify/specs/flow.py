"""Instance specs of the scalar-dynamics claims S1, S2, S3, O1, K1, K2, K3.

Each builder places eta as a fraction of its bound and alpha between the step budget's
floor (:func:`verify.specs.params.alpha_floor`) and a ceiling below the level to reach.
"""

from __future__ import annotations

from verify.specs.params import Param, SpecTable, alpha_floor, log_interpolate

__all__ = ["SPECS", "BUDGET"]

BUDGET = 20_000  # steps per simulated lane, by construction of the instances

_table = SpecTable()


@_table.add(
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


@_table.add(
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


@_table.add(
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


@_table.add(
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


@_table.add("K1", *_K_PARAMS)
def _k1_instance(*, depth, t, eta_fraction, alpha_position, d_position):
    return _hitting_instance(depth, t, eta_fraction, alpha_position, d_position,
                             level_max=t * (depth - 1) / (2 * depth - 1))


@_table.add("K2", *_K_PARAMS)
def _k2_instance(*, depth, t, eta_fraction, alpha_position, d_position):
    return _hitting_instance(depth, t, eta_fraction, alpha_position, d_position,
                             level_max=0.999 * t)


@_table.add(
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


SPECS = _table.frozen()


# ---------------------------------------------------------------------------------------
# tightness witnesses: instances walking toward the corner where a bound is attained
# (bounds/__init__.py declares the floor each must reach; verify.witness runs the walk)

_ETA_WALK = (0.1, 0.01, 0.001)

WITNESSES = {
    ("K1", "ratio"): tuple({"depth": N, "t": 1.0, "alpha": 0.3, "d": 0.3, "eta_fraction": f}
                           for N in (3, 2) for f in _ETA_WALK),
    ("K2", "ratio"): tuple({"depth": N, "t": 1.0, "alpha": 0.3, "d": 0.9, "eta_fraction": f}
                           for N in (3, 2) for f in _ETA_WALK),
    ("K3", "ratio"): tuple({"depth": N, "t": 1.0, "alpha": a, "d": 0.5, "eps": 0.1}
                           for N in (3, 5) for a in (1e-2, 1e-3, 1e-4)),
    ("K3", "lower/tau_d"): tuple({"depth": N, "t": 1.0, "alpha": a, "d": 0.5, "eps": 0.1}
                                 for N in (3, 5) for a in (1e-2, 1e-3, 1e-4)),
}


# ---------------------------------------------------------------------------------------
# hard corners, checked in every profile (verify.specs.corners)


def _level_on_iterate(t, alpha, eta_fraction, N, k, *, digits=60):
    """x_k^N of the scalar trajectory as a decimal string of ``digits`` digits: a level
    placed on a computed iterate, where the hitting step is decided only at more digits
    than the level carries (the check must escalate, never guess)."""
    import mpmath

    from bounds.flow import monotone_step_bound
    from verify.engine import simulate_reduced

    with mpmath.workdps(digits + 20):
        eta = mpmath.mpf(eta_fraction) * monotone_step_bound(t, N)
        run = simulate_reduced([t], depth=N, alpha=alpha, eta=eta, dps=digits + 20,
                               max_steps=k, checkpoints=[k], stop_when_settled=False)
        return mpmath.nstr(run.checkpoints[k][0] ** N, digits)


def corners():
    from verify.specs.params import Corner

    on_iterate = _level_on_iterate(1.0, 0.3, 0.01, 3, 1000)  # ~0.7: in K2's range
    in_k1_range = _level_on_iterate(1.0, 0.3, 0.003, 3, 1000)  # ~0.074 <= t (N-1)/(2N-1)
    return {
        "S1": (Corner({"depth": 8, "t": 1.0, "eta_fraction": 1.0, "alpha": 0.5}, "decided",
                      "N = 8, eta at its bound"),
               Corner({"depth": 2, "t": 1.0, "eta_fraction": 0.97, "alpha": 1e-4}, "decided",
                      "tiny alpha, eta near its bound"),
               Corner({"depth": 3, "t": 1.0, "eta_fraction": 1.5, "alpha": 0.3}, "na",
                      "eta 1.5 x the step bound: overshoot above t^(1/N)"),
               # eta N t^A = 3.5 in (1, N]: outside, but eta t^A / N <= 1
               Corner({"depth": 4, "t": 1.0, "eta_fraction": 3.5, "alpha": 0.5}, "na",
                      "N = 4, eta 3.5 x the step bound (eta N t^A in (1, N])")),
        "S2": (Corner({"depth": 3, "t": 1.0, "q": 1.99, "alpha": 0.5}, "decided",
                      "q just below 2 (overshoot regime)"),
               Corner({"depth": 3, "t": 1.0, "q": 2.01, "alpha": 0.5}, "decided",
                      "q just above 2 (repelling fixed point)"),
               Corner({"depth": 8, "t": 1.0, "q": 1.5, "alpha": 0.7}, "decided", "N = 8")),
        "S3": (Corner({"depth": 8, "t": -0.5, "alpha": 0.9, "eta_fraction": 0.999}, "decided",
                      "N = 8, eta at 0.999 of the positivity bound"),
               Corner({"depth": 3, "t": -1.0, "alpha": 1.0, "eta_fraction": 1.5}, "na",
                      "eta 1.5 x the positivity bound: x_k leaves (0, alpha]"),
               Corner({"depth": 3, "t": 0.0, "alpha": 1.0, "eta_fraction": 1.5}, "na",
                      "t = 0, eta 1.5 x the positivity bound"),
               # alpha < 1: a positivity bound with the wrong power of alpha moves these
               Corner({"depth": 3, "t": -1.0, "alpha": 0.5, "eta_fraction": 0.999}, "decided",
                      "alpha = 0.5, eta at 0.999 of the positivity bound"),
               Corner({"depth": 3, "t": -1.0, "alpha": 0.5, "eta_fraction": 1.01}, "na",
                      "eta 1.01 x the positivity bound: x_1 < 0"),
               # binary-exact: eta = 1 exactly, x_1 = alpha (1 - eta alpha^(N-2)(alpha^N - t)) = 0
               Corner({"depth": 2, "t": -0.75, "alpha": 0.5, "eta_fraction": 1.0}, "na",
                      "exact tie: eta at the strict positivity bound (x_1 = 0)", drop_fails=False),
               # 0 < t < alpha^N, binary-exact: (2N-1) alpha^N - (N-1) t = 4, eta = 1/4 exactly
               Corner({"depth": 3, "t": 0.5, "alpha": 1.0, "eta_fraction": 1.0}, "decided",
                      "exact tie: eta at the decreasing-step bound (relation holds with equality)"),
               Corner({"depth": 3, "t": 0.5, "alpha": 1.0, "eta_fraction": 1.01}, "na",
                      "eta 1.01 x the decreasing-step bound", drop_fails=False)),
        "O1": (Corner({"depth": 3, "t": 0.5, "t_prime": 0.5, "alpha": 0.3, "eta_fraction": 1.0},
                      "decided", "exact tie t = t' (identical trajectories): decided exactly"),
               Corner({"depth": 2, "t": 1.0, "t_prime": 0.5, "alpha": 0.3, "eta_fraction": 0.5},
                      "na", "targets in the wrong order, t > t'"),
               Corner({"depth": 3, "t": 0.3, "t_prime": 0.5, "alpha": 0.3, "eta_fraction": 1.5},
                      "na", "eta 1.5 x the step bound for t' (eta N t'^A in (1, N])",
                      drop_fails=False),
               # t < 0 where the positivity bound (alpha^N - t = 1.25, 0.8) binds, not t''s (1)
               Corner({"depth": 2, "t": -1.0, "t_prime": 0.5, "alpha": 0.5, "eta_fraction": 1.0},
                      "decided", "t < 0, eta at 0.999 of the positivity bound (x_1(t) ~ 5e-4)"),
               Corner({"depth": 3, "t": -3.0, "t_prime": 0.5, "alpha": 0.7, "eta_fraction": 1.0},
                      "decided", "N = 3, t = -3, eta at 0.999 of the positivity bound"),
               Corner({"depth": 2, "t": -1.0, "t_prime": 0.5, "alpha": 0.5, "eta_fraction": 1.2},
                      "na", "t < 0, eta 1.2 x the positivity bound (below t''s step bound)",
                      drop_fails=False)),
        "K1": (Corner({"depth": 8, "t": 1.0, "eta_fraction": 1.0, "alpha": 0.6, "d": 0.3},
                      "decided", "N = 8, eta at its bound"),
               Corner({"depth": 3, "t": 1.0, "eta_fraction": 0.003, "alpha": 0.3,
                       "d": in_k1_range}, "decided",
                      "level on the computed iterate x_1000^N (60 digits)"),
               Corner({"depth": 3, "t": 1.0, "eta_fraction": 0.5, "alpha": 0.5, "d": 0.125},
                      "na", "exact tie d = alpha^N", drop_fails=False),
               Corner({"depth": 2, "t": 1.0, "eta_fraction": 0.5, "alpha": 0.1, "d": 0.999},
                      "na", "level beyond h_t's increasing range"),
               # N >= 3: the range ends at 0.4 t (N = 3), a wrong denominator admits up to t
               Corner({"depth": 3, "t": 1.0, "eta_fraction": 0.5, "alpha": 0.3, "d": 0.95},
                      "na", "N = 3, level 0.95 t beyond h_t's increasing range")),
        "K2": (Corner({"depth": 8, "t": 1.0, "eta_fraction": 1.0, "alpha": 0.6, "d": 0.9},
                      "decided", "N = 8, eta at its bound"),
               Corner({"depth": 3, "t": 1.0, "eta_fraction": 0.01, "alpha": 0.3,
                       "d": on_iterate}, "decided",
                      "level on the computed iterate x_1000^N (60 digits)")),
        "K3": (Corner({"depth": 8, "t": 1.0, "alpha": 0.9 ** 0.125 * 0.999, "d": 0.95,
                       "eps": 0.1}, "decided", "N = 8, alpha^N near (1-eps) t"),
               Corner({"depth": 3, "t": 1.0, "alpha": 1e-3, "d": 0.5, "eps": 1e-8}, "decided",
                      "eps = 1e-8"),
               Corner({"depth": 2, "t": 1.0, "alpha": 0.1, "d": 0.5, "eps": 0.1}, "na",
                      "N = 2 (K3 needs N >= 3)", drop_fails=False)),
    }
