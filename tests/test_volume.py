"""The certified volume stage: deterministic, certified, agreeing with the high-precision
checks, and able to fail (a bound tightened by 2 % in bounds/enclosures.py is a certified
FAIL on the volume instances)."""

import importlib

import numpy as np
import pytest
from flint import arb

from bounds import get_claim
from verify.checks import check
from verify.volume import VOLUME, run_volume, volume_claims

CLAIMS = volume_claims()
# the flow claims K1-K3 (verify/volume/flow.py); S1, S2, S3, O1: tests/test_volume_flow.py;
# L1, L2, L3: tests/test_volume_lowrank.py; P3: tests/test_volume_perturbed.py; P4:
# tests/test_volume_p4.py; P1, P2, P5: tests/test_volume_p1p2p5.py; R1: tests/test_volume_reduction.py;
# M1: tests/test_volume_momentum.py
FLOW = ("K1", "K2", "K3")


def test_volume_claims_are_registered_in_theory_order():
    assert CLAIMS == ("R1", "S1", "S2", "S3", "O1", "K1", "K2", "K3", "L1", "L2", "L3", "P1", "P2",
                      "P3", "P4", "P5", "M1")
    assert set(CLAIMS) == set(VOLUME)


@pytest.mark.parametrize("cid", FLOW)
def test_every_volume_verdict_is_a_certified_pass(cid):
    r = run_volume(cid, 120, seed=3)
    assert r.count == 120 and r.counts["PASS"] == 120 and r.certified == 120, r.as_dict()
    if get_claim(cid).tightness:
        assert r.best_tightness is not None and 0 < r.best_tightness <= 1 + 1e-12, r.best_tightness


def test_an_impossible_tightness_on_a_pass_is_a_fail():
    from verify.volume import summarize_volume
    from verify.volume.common import Decision

    ok = ("K2-0-0", {"depth": 2}, Decision("PASS", True, 0.1, 0.99))
    bad = ("K2-0-1", {"depth": 2}, Decision("PASS", True, 0.1, 1.001))
    assert summarize_volume("K2", [ok]).status == "PASS"
    r = summarize_volume("K2", [ok, bad])
    assert r.status == "FAIL" and "impossible" in r.failures[0][2].note


@pytest.mark.parametrize("cid", CLAIMS)  # every volume claim: one test, not one per family
def test_same_seed_same_instances_and_decisions_for_any_number_of_jobs(cid):
    a = run_volume(cid, 40, seed=5)
    b = run_volume(cid, 40, seed=5, jobs=2)
    assert a.as_dict() == b.as_dict()
    assert run_volume(cid, 40, seed=6).as_dict() != a.as_dict()


@pytest.mark.parametrize("cid", FLOW)
def test_volume_verdicts_agree_with_the_high_precision_check(cid):
    from verify.volume import _chunk

    items = _chunk((cid, 0, 0, 12))
    for _, inst, d in items:
        o = check(cid, inst)
        assert (o.verdict, d.verdict) == ("PASS", "PASS"), (inst, o, d)
        if cid in ("K1", "K2"):  # the same hitting step: observed K of the HP run is the ratio's K
            assert o.ratio == pytest.approx(d.ratio, rel=1e-9), (inst, o.ratio, d.ratio)


def _tightened(monkeypatch, cid, name, factor):
    modname, attr = get_claim(cid).evaluators.location(name)
    module = importlib.import_module(modname)
    original = getattr(module, attr)
    monkeypatch.setattr(module, attr, lambda *a, **k: original(*a, **k) * arb(factor))


@pytest.mark.parametrize("cid,name,factor", [
    ("K1", "k1_lower_ball", 1.02),       # a lower bound raised by 2 %
    ("K2", "k2_upper_real_ball", 0.98),  # an upper bound lowered by 2 %
    ("K3", "k3_lower_ball", 1.02),
    ("K3", "k3_upper_ball", 0.98),
])
def test_a_bound_tightened_by_two_percent_is_a_certified_fail(monkeypatch, cid, name, factor):
    _tightened(monkeypatch, cid, name, factor)
    r = run_volume(cid, 200, seed=0)
    assert r.counts["FAIL"] >= 1 and r.status == "FAIL", r.as_dict()["counts"]
    iid, inst, d = r.failures[0]
    assert d.certified and iid.startswith(f"{cid}-0-")
    assert isinstance(inst, dict) and "depth" in inst


def test_bad_arguments_name_the_problem():
    with pytest.raises(ValueError, match="no volume stage"):
        run_volume("Q9", 10)  # every claim of the paper has one
    with pytest.raises(ValueError, match="count"):
        run_volume("K2", -1)


def test_run_report_is_byte_identical_for_any_number_of_jobs(tmp_path):
    from verify.cli import main

    paths = [tmp_path / f"r{j}.json" for j in (1, 2)]
    for j, p in zip((1, 2), paths):
        assert main(["run", "--profile", "quick", "--claim", "K2", "--claim", "K3", "-j", str(j),
                     "--volume", "60", "--no-progress", "--json", str(p)]) == 0
    assert paths[0].read_bytes() == paths[1].read_bytes()
    import json

    data = json.loads(paths[0].read_text())
    assert data["claims"][0]["volume"]["certified"] == 60 and "timing" not in data["meta"]


def test_undecided_lane_escalates_to_the_certified_engine(screen_undecided):
    # every lane undecided by the screen: the certified lanes decide them instead
    screen_undecided()
    r = run_volume("K2", 8, seed=0)
    assert r.counts["PASS"] == 8 and r.certified == 8
    assert set(r.methods) == {"certified-128"}, r.methods


def test_decimal_strings_enter_the_certified_hitting_steps_as_enclosures():
    """A level, target or alpha written as a decimal string ("0.1") is not a binary number:
    the float pair around it goes to the screen, the string itself to the certified lane.
    The float 0.1 (a binary number) is one point; the string's pair has two floats around
    1/10; the step is that of the exact rational (certified_lane with Fraction inputs)."""
    from fractions import Fraction

    from verify.certified import certified_lane
    from verify.volume.common import _float_pairs, eta_ball, hitting_steps

    lo, hi = _float_pairs([0.1, "0.1", "0.5", Fraction(1, 3)])
    assert lo[0] == hi[0] == 0.1 and lo[2] == hi[2] == 0.5
    for a, b, q in ((lo[1], hi[1], Fraction(1, 10)), (lo[3], hi[3], Fraction(1, 3))):
        assert Fraction(a) < q < Fraction(b) and np.nextafter(a, 1) == b
    E = eta_ball(0.5, 1.0, 3)
    got = hitting_steps(["1"], ["0.1"], [E], 3, ["0.3"], caps=[10**4])
    exact = certified_lane(Fraction(1), Fraction(1, 10), E, 3, levels=[Fraction(3, 10)],
                           max_steps=10**4, prec=256).hits[0]
    assert got[0][0] == exact.step and exact.status == "decided"
    # the screen was handed the enclosing pairs: the level 0.3's pair is two floats wide
    assert got[0][1] in ("screen", "certified-128", "certified-256", "certified-512")


def test_a_decimal_level_between_its_float_and_the_iterate_gets_the_decimals_step():
    """The level d = x_25^N (1 + 1e-22) written with 30 digits: float(d) < x_25^N < d. The
    decimal is first reached at step 26, its rounded float at 25; the certified path must
    give 26 for the string (reading it as its float would certify the wrong step)."""
    import mpmath

    from verify.volume.common import eta_ball, hitting_steps

    E = eta_ball(0.5, 1.0, 3)  # eta = 1/6 exactly inside
    with mpmath.workdps(200):
        x, eta = mpmath.mpf(0.1), mpmath.mpf(1) / 6
        for _ in range(25):
            x = x + eta * x**2 * (1 - x**3)
        d = mpmath.nstr(x**3 * (1 + mpmath.mpf(10) ** -22), 30, strip_zeros=False)
        assert mpmath.mpf(float(d)) < x**3 < mpmath.mpf(d)
    assert hitting_steps([1.0], [0.1], [E], 3, [d], caps=[1000])[0][0] == 26
    assert hitting_steps([1.0], [0.1], [E], 3, [float(d)], caps=[1000])[0][0] == 25
