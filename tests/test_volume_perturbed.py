"""The certified volume stage of P3 (verify/volume/perturbed.py): certified PASS at volume,
the same verdicts and hitting steps as the high-precision check, able to fail (a bound of
the claim's ball evaluator tightened by 2 % is a certified FAIL), deterministic."""

import importlib
import math
from fractions import Fraction

import pytest
from flint import arb

from bounds import get_claim
from verify.checks import check
from verify.volume import VOLUME, _chunk, run_volume
from verify.volume.perturbed import GRID, _exact_t


def test_p3_has_a_volume_stage():
    assert "P3" in VOLUME


def test_every_p3_volume_verdict_is_a_certified_pass():
    r = run_volume("P3", 100, seed=3)
    assert r.count == 100 and r.counts["PASS"] == 100 and r.certified == 100, r.as_dict()
    assert r.best_tightness is not None and 0 < r.best_tightness <= 1 + 1e-12, r.best_tightness


def test_drawn_instances_have_an_exact_paired_eigenvalue():
    for _, inst, _ in _chunk(("P3", 0, 0, 50)):
        assert inst["t_source"] == "interval"
        for k in ("s", "d", "e", "t_frac"):
            assert Fraction(inst[k]) % Fraction(GRID) == 0, (k, inst)
        t = _exact_t(inst)
        assert t is not None and Fraction(t) == (Fraction(inst["s"]) - Fraction(inst["e"])
                                                 + 2 * Fraction(inst["e"]) * Fraction(inst["t_frac"]))
        assert inst["s"] - inst["e"] <= t <= inst["s"] + inst["e"]
    assert _exact_t({"t_source": "matrix"}) is None


def test_p3_volume_verdicts_agree_with_the_high_precision_check():
    """Same verdict; the same hitting step K (both report K / ceil(upper))."""
    for _, inst, d in _chunk(("P3", 0, 0, 10)):
        o = check("P3", inst)
        assert (o.verdict, d.verdict) == ("PASS", "PASS"), (inst, o, d)
        K, upper = int(o.observed["K"]), float(o.predicted["upper"])
        assert o.ratio == pytest.approx(K / math.ceil(upper), rel=1e-9)
        assert d.ratio == pytest.approx(K / math.ceil(upper), rel=1e-9), (inst, o, d)
        lower_applies = "outside K1 range" not in o.predicted["lower"]
        assert lower_applies == ("lower part not applicable" not in d.note), (inst, o, d)


def _tightened(monkeypatch, component, factor):
    """p3_bounds_real_ball with one component times ``factor``, patched where the registry
    finds it (so the volume stage's evaluators() call reaches the patch)."""
    modname, attr = get_claim("P3").evaluators.location("p3_bounds_real_ball")
    module = importlib.import_module(modname)
    original = getattr(module, attr)

    def wrong(*a, **k):
        parts = list(original(*a, **k))
        parts[component] = parts[component] * arb(factor)
        return tuple(parts)

    monkeypatch.setattr(module, attr, wrong)


@pytest.mark.parametrize("component,factor", [(0, 1.02), (1, 0.98)], ids=["lower+2%", "upper-2%"])
def test_a_bound_tightened_by_two_percent_is_a_certified_fail(monkeypatch, component, factor):
    _tightened(monkeypatch, component, factor)
    # the draws' tight edges (e = 0 with small eta, t = s - e) put either bound within 2 %
    # of K on a few percent of the instances
    r = run_volume("P3", 300, seed=0)
    assert r.counts["FAIL"] >= 1 and r.status == "FAIL", r.as_dict()["counts"]
    iid, inst, d = r.failures[0]
    assert d.certified and iid.startswith("P3-0-")
    assert ("lower" if component == 0 else "ceil(upper)") in d.note, d.note
    assert isinstance(inst, dict) and inst["t_source"] == "interval"



def test_chunks_run_in_worker_processes_give_the_same_report():
    from concurrent.futures import ProcessPoolExecutor

    import verify.volume as vol

    old = vol.CHUNK
    try:
        vol.CHUNK = 15  # three chunks, so jobs = 2 really uses the pool
        a = run_volume("P3", 40, seed=2)
        with ProcessPoolExecutor(max_workers=2) as ex:
            b = run_volume("P3", 40, seed=2, pool=ex)
    finally:
        vol.CHUNK = old
    assert a.as_dict() == b.as_dict()


def test_hypotheses_are_decided_exactly_and_inadmissible_instances_are_na():
    from verify.volume.perturbed import decide_p3

    inst = dict(_chunk(("P3", 0, 0, 1))[0][1])
    bad_e = dict(inst, e=inst["s"] - inst["d"])                 # e = s - d: a tie, excluded
    bad_a = dict(inst, alpha=inst["d"] ** (1 / inst["depth"]) * 1.01)  # alpha^N > d
    ds = decide_p3([inst, bad_e, bad_a])
    assert ds[0].verdict == "PASS"
    assert [d.verdict for d in ds[1:]] == ["N/A", "N/A"] and all(d.certified for d in ds[1:])
    assert "e < s - d" in ds[1].note and "alpha^N < d" in ds[2].note
    assert decide_p3([dict(inst, t_source="matrix")])[0].verdict == "UNDECIDED"


def test_lanes_the_screen_leaves_undecided_go_to_the_certified_engine(screen_undecided):
    from verify.volume.perturbed import decide_p3

    items = _chunk(("P3", 0, 0, 6))
    screen_undecided()
    ds = decide_p3([inst for _, inst, _ in items])
    assert [d.verdict for d in ds] == ["PASS"] * 6 and all(d.certified for d in ds)
    assert {d.method for d in ds} == {"certified-128"}
    assert [d.ratio for d in ds] == [d.ratio for _, _, d in items]  # the same hitting steps
