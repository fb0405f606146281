"""verify/volume/momentum.py: M1's certified volume stage.

The float64 heavy-ball enclosure contains a 300-digit reference on long trajectories, and
the same enclosure without its outward rounding (``_WIDEN = 0``) does not; the arb path
decides what the float64 one leaves; the volume verdicts agree with the high-precision check;
a wrong gradient-descent step (a claim made false) is a certified FAIL; >= 99 % of the
decided verdicts of the default profile's 1000 instances are certified.
"""

import mpmath
import numpy as np
import pytest

from verify.checks import check
from verify.volume import VOLUME, VOLUME_PROFILES, run_volume
from verify.volume import momentum as vm
from verify.volume.common import eta_ball, float_bounds

# long trajectories: small steps and small alpha (hundreds to thousands of steps), and the
# beta range of the spec up to 0.99
LANES = [(N, f, a, b) for N, f, a in ((2, 0.01, 1e-4), (3, 0.03, 0.05), (4, 0.1, 0.3), (6, 0.3, 0.6))
         for b in (0.0, 0.5, 0.9, 0.99)]


def _lanes():
    N = np.array([x[0] for x in LANES])
    t = np.ones(len(LANES))
    eta = np.array([f / n for n, f, _, _ in LANES])  # eta N t^A = f, an exact float eta
    alpha = np.array([x[2] for x in LANES])
    beta = np.array([x[3] for x in LANES])
    return N, t, alpha, beta, eta


def _reference(N, alpha, eta, beta, steps):
    with mpmath.workdps(300):
        a, h, b = mpmath.mpf(alpha), mpmath.mpf(eta), mpmath.mpf(beta)
        xs, x, xp = [a], a, a
        for _ in range(steps):
            x, xp = x + h * x ** (N - 1) * (1 - x**N) + b * (x - xp), x
            xs.append(x)
        return xs


def _violations():
    N, t, alpha, beta, eta = _lanes()
    d = np.full(len(LANES), 0.999)
    status, step, LO, HI = vm.enclose_hb_f64(N, t, alpha, beta, eta, eta, d, 20000, record=True)
    assert (status == vm.HB_HIT).all(), status
    out, longest = [], 0
    for i, (n, _, a, b) in enumerate(LANES):
        K = int(step[i])
        longest = max(longest, K)
        xs = _reference(n, a, eta[i], b, K)
        with mpmath.workdps(300):
            bad = [k for k in range(K + 1)
                   if not (mpmath.mpf(LO[k, i]) <= xs[k] <= mpmath.mpf(HI[k, i]))]
            assert xs[K] ** n >= mpmath.mpf(0.999) > xs[K - 1] ** n  # the certified step is exact
        out.append(bad)
    return out, longest


def test_enclosure_contains_the_300_digit_trajectory():
    bad, longest = _violations()
    assert longest > 2000, longest
    assert not any(bad), bad


def test_enclosure_without_outward_rounding_is_caught(monkeypatch):
    monkeypatch.setattr(vm, "_WIDEN", 0.0)
    bad, _ = _violations()
    assert sum(bool(b) for b in bad) >= len(LANES) // 2, bad


def test_arb_path_decides_like_the_float_path():
    insts = vm.draw_m1(np.random.default_rng(3), 12)
    for inst, dec in zip(insts, vm.decide_m1(insts)):
        N = inst["depth"]
        E = eta_ball(inst["eta_fraction"], inst["t"], N)
        e_lo, e_hi = float_bounds(E)
        s64, k64, _, _ = vm.enclose_hb_f64(N, [inst["t"]], [inst["alpha"]], [inst["beta"]],
                                           [e_lo], [e_hi], [inst["d"]], 5000)
        s, k = vm.enclose_hb_arb(N, inst["t"], inst["alpha"], inst["beta"], E, inst["d"], 5000, 128)
        assert (s, k) == (int(s64[0]), int(k64[0])) and s == vm.HB_HIT, (inst, s, k, s64, k64)
        assert dec.verdict == "PASS" and dec.certified


def test_undecided_float_lanes_go_to_arb(monkeypatch):
    def undecided(N, t, *args, **kw):
        L = len(t)
        return np.full(L, vm.HB_UNDECIDED, np.int8), np.zeros(L, np.int64), None, None

    insts = vm.draw_m1(np.random.default_rng(4), 6)
    base = vm.decide_m1(insts)
    monkeypatch.setattr(vm, "enclose_hb_f64", undecided)
    got = vm.decide_m1(insts)
    assert [(d.verdict, d.ratio, d.certified) for d in got] == [(d.verdict, d.ratio, True) for d in base]
    assert all(d.method.endswith("hb-arb-128") for d in got)


def test_volume_verdicts_agree_with_the_high_precision_check():
    insts = vm.draw_m1(np.random.default_rng(11), 25)
    for inst, dec in zip(insts, vm.decide_m1(insts)):
        out = check("M1", inst)
        assert out.verdict == dec.verdict, (inst, out, dec)
        assert dec.ratio == pytest.approx(out.ratio, abs=0), (inst, out, dec)


def test_a_false_claim_is_a_certified_fail(monkeypatch):
    # gradient descent's steps lowered by 3: where heavy ball is not earlier by 3 (beta small)
    # the stage must FAIL, certified
    real = vm.hitting_steps

    def earlier(*args, **kw):
        return [(max(K - 3, 0), m) if isinstance(K, int) else (K, m) for K, m in real(*args, **kw)]

    monkeypatch.setattr(vm, "hitting_steps", earlier)
    insts = [{**inst, "beta": 0.0} for inst in vm.draw_m1(np.random.default_rng(5), 20)]
    ds = vm.decide_m1(insts)
    assert any(d.verdict == "FAIL" and d.certified for d in ds), ds


def test_default_profile_is_certified():
    assert "M1" in VOLUME
    r = run_volume("M1", VOLUME_PROFILES["default"], seed=0)
    assert r.count == 1000 and r.counts["PASS"] == 1000, r.counts
    assert r.certified >= 0.99 * r.decided, (r.certified, r.decided)


def test_python_float_tail_is_the_array_loop_bit_for_bit(monkeypatch):
    insts = vm.draw_m1(np.random.default_rng(7), 200)
    eb = [float_bounds(eta_ball(i["eta_fraction"], i["t"], i["depth"])) for i in insts]

    def col(k):
        return np.array([i[k] for i in insts])

    args = (col("depth"), col("t"), col("alpha"), col("beta"), np.array([b[0] for b in eb]),
            np.array([b[1] for b in eb]), col("d"), 3000)
    monkeypatch.setattr(vm, "_TAIL_LANES", 0)  # arrays to the end
    a = vm.enclose_hb_f64(*args)
    monkeypatch.setattr(vm, "_TAIL_LANES", 10**9)  # Python floats from step 0
    b = vm.enclose_hb_f64(*args)
    assert (a[0] == vm.HB_HIT).all() and (a[0] == b[0]).all() and (a[1] == b[1]).all()


def test_decimal_string_inputs_are_not_certified():
    inst = {"depth": 3, "t": 1.0, "eta_fraction": 0.5, "alpha": 0.3, "beta": 0.5, "d": "0.5"}
    (dec,) = vm.decide_m1([inst])
    assert dec.verdict == "UNDECIDED" and not dec.certified
