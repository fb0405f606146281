"""The certified volume stage of L1 and L3: certified PASSes, agreement with the
high-precision checks (verdict, T0, T1), a certified FAIL under a bound tightened by 2 %,
and (in tests/test_volume.py) the same decisions for any number of jobs."""

import importlib
import re

import pytest
from flint import arb

from bounds import get_claim
from verify.checks import check
from verify.volume import _chunk, run_volume

CLAIMS = ("L1", "L3")


@pytest.mark.parametrize("cid", CLAIMS)
def test_every_decided_volume_verdict_is_a_certified_pass(cid):
    r = run_volume(cid, 100, seed=3)
    assert r.counts["FAIL"] == 0 and r.counts["UNDECIDED"] == 0, r.as_dict()
    assert r.certified == r.decided == r.counts["PASS"], r.as_dict()
    if cid == "L1":  # admissible by construction
        assert r.counts["PASS"] == 100
        assert r.best_tightness is not None and 0 < r.best_tightness <= 1
    else:  # straddles the critical ratio: some below the threshold (N/A), most above
        assert r.counts["PASS"] >= 50 and r.counts["N/A"] >= 1, r.counts


def _observed(note):
    t0 = re.search(r"T0 = (\d+)", note)
    t1 = re.search(r"T1 = (\d+)", note)
    return (t0 and int(t0.group(1))), (t1 and int(t1.group(1)))


@pytest.mark.parametrize("cid", CLAIMS)
def test_volume_verdicts_and_steps_agree_with_the_high_precision_check(cid):
    items = _chunk((cid, 0, 0, 10))
    for _, inst, d in items:
        o = check(cid, inst)
        assert o.verdict == d.verdict, (inst, o, d)
        if d.verdict != "PASS":
            continue
        T0, T1 = _observed(d.note)
        assert str(T0) == o.observed["T0"], (inst, o.observed, d.note)
        if T1 is not None and o.observed["T1"].isdigit():
            assert str(T1) == o.observed["T1"], (inst, o.observed, d.note)
        if cid == "L1":
            assert o.ratio == pytest.approx(d.ratio, rel=1e-12), (inst, o.ratio, d.ratio)


def _tightened(monkeypatch, cid, name, factor):
    modname, attr = get_claim(cid).evaluators.location(name)
    module = importlib.import_module(modname)
    original = getattr(module, attr)

    def wrong(*a, **k):
        v = original(*a, **k)
        return None if v is None else v * arb(factor)

    monkeypatch.setattr(module, attr, wrong)


@pytest.mark.parametrize("cid,name,factor", [
    ("L1", "ub0_real_ball", 0.98),   # UB0 lowered by 2 %
    ("L1", "lb1_real_ball", 1.02),   # LB1 raised by 2 %
    ("L3", "l3_ratio_threshold_ball", 0.98),  # the L3 threshold lowered by 2 %
])
def test_a_bound_tightened_by_two_percent_is_a_certified_fail(monkeypatch, cid, name, factor):
    _tightened(monkeypatch, cid, name, factor)
    r = run_volume(cid, 200, seed=0)
    assert r.counts["FAIL"] >= 1 and r.status == "FAIL", r.as_dict()["counts"]
    iid, inst, d = r.failures[0]
    assert d.certified and iid.startswith(f"{cid}-0-")
    assert set(inst) == {"depth", "spectrum", "r", "eps", "theta", "alpha", "eta_fraction"}



def test_volume_instances_are_accepted_by_the_cli(capsys):
    import json

    from verify.cli import main

    inst = _chunk(("L1", 0, 0, 1))[0][1]
    assert main(["check", "L1", "--instance", json.dumps(inst)]) == 0
