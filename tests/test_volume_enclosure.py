"""The vectorized float64 trajectory enclosure of the volume stage
(verify.volume.flow.enclose_f64): it contains a 300-digit reference of x_0..x_K on long
monotone lanes, S2 overshoot and repelling lanes, negative targets, lanes started next to the
fixed point and decreasing lanes, for every eta of its interval; without its radius (the
plain float iteration) the reference falls outside."""

import math

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from verify.volume import flow as vflow


def reference(t, alpha, eta, N, steps):
    """x_0..x_steps at 300 digits from the exact float inputs (a list of mpf)."""
    with mpmath.workdps(300):
        t, x, eta = mpmath.mpf(t), mpmath.mpf(alpha), mpmath.mpf(eta)
        xs = [x]
        for _ in range(steps):
            x = x + eta * x ** (N - 1) * (t - x**N)
            xs.append(x)
        return xs


def misses(lanes, N, steps, *, ulps=0):
    """(lane, step) pairs where the enclosure misses the reference at either end of the eta
    interval [eta, eta + ulps ulp]; also the enclosed horizon of each lane."""
    t = np.array([l[0] for l in lanes])
    a = np.array([l[1] for l in lanes])
    e_lo = np.array([l[2] for l in lanes])
    e_hi = e_lo.copy()
    for _ in range(ulps):
        e_hi = np.nextafter(e_hi, np.inf)
    LO, HI, upto = vflow.enclose_f64(N, t, a, e_lo, e_hi, steps)
    bad = []
    with mpmath.workdps(300):
        for j, (tj, aj, _) in enumerate(lanes):
            for eta in {float(e_lo[j]), float(e_hi[j])}:
                ref = reference(tj, aj, eta, N, int(upto[j]))
                bad += [(j, k) for k in range(int(upto[j]) + 1)
                        if not (mpmath.mpf(LO[k, j]) <= ref[k] <= mpmath.mpf(HI[k, j]))]
    return bad, upto


def q_eta(q, t, N):
    """eta with eta N t^A = q (a float: the instance's exact eta)."""
    return q / (N * t ** (2 - 2 / N))


CASES = {
    # name: (N, [(t, alpha, eta)], steps)
    "monotone, small alpha": (3, [(1.0, 0.01, q_eta(0.9, 1.0, 3)), (0.5, 0.05, q_eta(0.3, 0.5, 3))], 20_000),
    "S2 overshoot q = 1.5": (2, [(1.0, 0.3, q_eta(1.5, 1.0, 2)), (0.7, 0.2, q_eta(1.9, 0.7, 2))], 3_000),
    "S2 repelling q = 2.3": (3, [(1.0, 0.5, q_eta(2.3, 1.0, 3))], 2_000),
    "negative t": (4, [(-0.5, 0.9, 0.3), (-2.0, 0.5, 0.2)], 3_000),
    "next to the fixed point": (3, [(1.0, 1.0 - 1e-12, q_eta(0.5, 1.0, 3)), (2.0, 2 ** (1 / 3) * (1 + 1e-13), q_eta(0.99, 2.0, 3))], 3_000),
    "decreasing, 0 < t < alpha^N": (5, [(0.2, 0.95, 0.4)], 3_000),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_enclosure_contains_the_300_digit_reference(name):
    N, lanes, steps = CASES[name]
    bad, upto = misses(lanes, N, steps, ulps=3)
    assert bad == [], (name, bad[:5])
    # the enclosure is not vacuous: it carries the lanes over most of the horizon
    # (the repelling lane's width doubles about every step once it leaves the fixed point)
    assert min(upto) >= (100 if "repelling" in name else steps), upto


@pytest.mark.slow
def test_enclosure_contains_the_reference_over_a_hundred_thousand_steps():
    bad, upto = misses([(1.0, 0.002, q_eta(0.99, 1.0, 3))], 3, 100_000)
    assert bad == [] and upto[0] == 100_000


@pytest.mark.parametrize("name", ["S2 overshoot q = 1.5", "negative t", "next to the fixed point"])
def test_without_its_radius_the_enclosure_misses_the_reference(monkeypatch, name):
    monkeypatch.setattr(vflow, "_WIDEN", 0.0)
    N, lanes, steps = CASES[name]
    bad, _ = misses(lanes, N, min(steps, 500), ulps=3)
    assert bad, name


@settings(max_examples=25, deadline=None)
@given(N=st.integers(2, 6), t=st.floats(-2.0, 2.0).filter(lambda v: abs(v) > 1e-3),
       apos=st.floats(0.05, 0.95), q=st.floats(0.05, 2.5), ulps=st.integers(0, 4))
def test_enclosure_contains_the_reference_property(N, t, apos, q, ulps):
    # alpha up to 0.95 of t^(1/N) (or of 1 when t < 0), eta as q / (N |t|^A)
    alpha = apos * (abs(t) ** (1 / N) if t > 0 else 1.0)
    bad, _ = misses([(t, alpha, q_eta(q, abs(t), N))], N, 300, ulps=ulps)
    assert bad == []


def test_lanes_that_leave_the_guarded_range_stop_instead_of_guessing():
    # x_k -> 0 geometrically for t < 0: the lane stops where lo would leave [2^-900, 2^100]
    LO, HI, upto = vflow.enclose_f64(2, np.array([-1.0]), np.array([0.5]), np.array([0.5]),
                                     np.array([0.5]), 2_000)
    k = int(upto[0])
    assert 0 < k < 2_000 and np.isnan(LO[k + 1, 0]) and LO[k, 0] >= 2.0**-900
    assert math.isfinite(HI[k, 0])
