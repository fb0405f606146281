"""The certified volume stage: deterministic, certified, agreeing with the high-precision
checks, and able to fail (a bound tightened by 2 % in bounds/enclosures.py is a certified
FAIL on the volume instances)."""

import importlib

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
