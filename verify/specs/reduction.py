"""Instance spec of R1 (full-matrix GD against the reduced dynamics)."""

from __future__ import annotations

from verify.specs.params import Param, SpecTable

__all__ = ["SPECS"]

_table = SpecTable()


@_table.add(
    "R1",
    Param("n", "int", 1, 4),
    Param("depth", "int", 2, 5),
    Param("spectrum", "floats", 0.0, 2.0, size=4),
    Param("seed", "int", 0, 2**31 - 1),
    Param("noise", "float", 0.0, 0.3),
    Param("alpha", "float", 0.05, 1.0),
    Param("eta_fraction", "float", 0.05, 0.95),
    Param("steps", "int", 1, 60),
)
def _r1(*, n, depth, spectrum, seed, noise, alpha, eta_fraction, steps):
    n = min(n, 3) if depth >= 4 else n  # full-matrix GD cost grows like n^3 N per step
    spectrum = list(spectrum[:n])
    return {"n": n, "depth": depth, "spectrum": spectrum, "seed": seed, "noise": noise,
            "alpha": alpha, "eta_fraction": eta_fraction, "steps": steps}


SPECS = _table.frozen()

WITNESSES: dict = {}


def corners():
    from verify.specs.params import Corner

    return {"R1": (Corner({"n": 6, "depth": 3, "spectrum": [2.0, 1.5, 1.0, 0.5, 0.2, 0.0],
                           "seed": 11, "noise": 0.3, "alpha": 0.3, "eta_fraction": 0.95,
                           "steps": 20}, "decided", "n = 6 with a zero eigenvalue"),)}
