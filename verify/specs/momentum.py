"""Instance spec of the heavy-ball claim M1 (beyond the paper; bounds/momentum.py).

An instance is one eigenvalue t, the S1 step as a fraction of its bound, alpha inside a
step budget (:func:`verify.specs.params.alpha_floor`, placed from gradient descent's
predicted steps, independent of the claim), a momentum coefficient beta in [0, 0.99] and a
level d between alpha^N and 0.999 t: admissible by construction.
"""

from __future__ import annotations

from verify.specs.params import Corner, Param, SpecTable, alpha_floor, log_interpolate

__all__ = ["SPECS", "BUDGET", "LEVEL_MAX", "WITNESSES", "corners", "m1_instance"]

#: predicted gradient-descent steps per instance (verify.specs.params.predicted_steps); small
#: so that the volume stage's step-by-step enclosure stays cheap
BUDGET = 2_000
LEVEL_MAX = 0.999  # d <= LEVEL_MAX t

_table = SpecTable()


def m1_instance(depth, t, eta_fraction, alpha_position, beta, d_position, *, budget=BUDGET):
    """The instance dict of the raw numbers (also used by the vectorized volume draw's tests)."""
    eta = eta_fraction / (depth * t ** (2 - 2 / depth))
    level_max = LEVEL_MAX * t
    hi = (0.5 * level_max) ** (1 / depth)
    lo = alpha_floor(t, level_max, eta, depth, budget=budget, alpha_max=hi)
    alpha = log_interpolate(lo, hi, alpha_position)
    aN = alpha**depth
    d = aN + (level_max - aN) * (0.02 + 0.97 * d_position)
    return {"depth": depth, "t": t, "eta_fraction": eta_fraction, "alpha": alpha,
            "beta": beta, "d": d}


@_table.add(
    "M1",
    Param("depth", "int", 2, 6),
    Param("t", "float", 0.2, 2.0),
    Param("eta_fraction", "float", 0.05, 1.0),
    Param("alpha_position", "float", 0.0, 1.0),
    Param("beta", "float", 0.0, 0.99),
    Param("d_position", "float", 0.0, 1.0),
)
def _m1_instance(*, depth, t, eta_fraction, alpha_position, beta, d_position):
    return m1_instance(depth, t, eta_fraction, alpha_position, beta, d_position)


SPECS = _table.frozen()

#: M1 declares no tightness (its bound is gradient descent's own hitting step; at beta = 0
#: the two are equal, which the tests pin)
WITNESSES: dict = {}


def corners():
    # the Nesterov counterexample of docs/beyond.md, run as heavy ball (admissible: M1 holds)
    nesterov_cx = {"depth": 2, "t": 1.0, "eta_fraction": 0.98, "alpha": 0.87, "beta": 0.97,
                   "d": 0.989}
    return {
        "M1": (Corner({"depth": 3, "t": 1.0, "eta_fraction": 0.5, "alpha": 0.3, "beta": 0.0,
                       "d": 0.9}, "decided", "beta = 0: heavy ball is gradient descent (K_HB = K_GD)"),
               Corner({"depth": 6, "t": 1.0, "eta_fraction": 1.0, "alpha": 0.7, "beta": 0.99,
                       "d": 0.99}, "decided", "N = 6, eta at its bound, beta = 0.99"),
               Corner({"depth": 2, "t": 1.0, "eta_fraction": 0.5, "alpha": 0.3, "beta": 0.5,
                       "d": 0.999999}, "decided", "level 1e-6 below t"),
               Corner(nesterov_cx, "decided",
                      "heavy ball on the Nesterov counterexample (N = 2, beta = 0.97)"),
               Corner({"depth": 3, "t": 1.0, "eta_fraction": 0.5, "alpha": 0.3, "beta": -0.5,
                       "d": 0.9}, "na", "beta = -0.5 < 0: heavy ball slower than gradient descent"),
               # the proof needs neither beta < 1 nor the step bound (docs/theory.md#m1):
               # dropping them does not make the conclusion fail
               Corner({"depth": 3, "t": 1.0, "eta_fraction": 0.5, "alpha": 0.3, "beta": 1.5,
                       "d": 0.9}, "na", "beta = 1.5 >= 1", drop_fails=False),
               Corner({"depth": 3, "t": 1.0, "eta_fraction": 1.8, "alpha": 0.3, "beta": 0.5,
                       "d": 0.9}, "na", "eta 1.8 x the step bound", drop_fails=False),
               Corner({"depth": 3, "t": 1.0, "eta_fraction": 0.5, "alpha": 0.3, "beta": 0.5,
                       "d": 1.0}, "na", "level d = t (gradient descent never reaches it)",
                      drop_fails=False)),
    }
