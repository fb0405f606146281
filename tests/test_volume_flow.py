"""Certified volume stages of S1 and O1 (verify/volume/flow.py): certified PASS at volume,
agreement with the high-precision checks, negative controls that never PASS (determinism: tests/test_volume.py)."""

import numpy as np
import pytest

from verify.checks import check
from verify.volume import _chunk, run_volume
from verify.volume import flow as vflow

NEW = ("S1", "O1")


@pytest.mark.parametrize("cid", NEW)
def test_certified_pass_on_a_hundred_instances(cid):
    r = run_volume(cid, 100, seed=11)
    assert r.counts["PASS"] == 100 and r.certified == 100, r.as_dict()


@pytest.mark.parametrize("cid", NEW)
def test_agrees_with_the_high_precision_check(cid):
    for _, inst, d in _chunk((cid, 0, 0, 10)):
        assert (check(cid, inst).verdict, d.verdict) == ("PASS", "PASS"), inst



def _admit_all(monkeypatch, cid, name):
    import bounds.flow as bf

    monkeypatch.setattr(bf, name, lambda *a, **k: True)


def test_s1_at_one_and_a_half_times_the_step_bound_never_passes(monkeypatch):
    _admit_all(monkeypatch, "S1", "s1_hypotheses")
    insts = [dict(i, eta_fraction=1.5) for i in vflow.draw_s1(np.random.default_rng(0), 20)]
    ds = vflow.decide_s1(insts)
    assert all(d.verdict in ("FAIL", "UNDECIDED") for d in ds), [d.verdict for d in ds]


def test_o1_with_the_targets_swapped_is_a_certified_fail(monkeypatch):
    _admit_all(monkeypatch, "O1", "o1_hypotheses")
    insts = [dict(i, t=i["t_prime"], t_prime=i["t"]) for i in vflow.draw_o1(np.random.default_rng(0), 20)
             if i["t"] > 0.05]
    ds = vflow.decide_o1(insts)
    assert ds and all(d.verdict in ("FAIL", "UNDECIDED") for d in ds), [d.verdict for d in ds]
    assert any(d.verdict == "FAIL" and d.certified for d in ds)


def test_o1_enclosure_shifted_by_ulps_does_not_pass(monkeypatch):
    real = vflow.enclose_f64

    def shifted(*a, **k):  # the t-lane's (first half's) enclosure lifted above the t' lane
        LO, HI, up = real(*a, **k)
        n = LO.shape[1] // 2
        LO[:, :n] = LO[:, n:] * (1 + 2**-50) + 1e-3
        HI[:, :n] = LO[:, :n]
        return LO, HI, up

    monkeypatch.setattr(vflow, "enclose_f64", shifted)
    monkeypatch.setattr(vflow, "_o1_escalate", lambda *a: vflow.Decision("UNDECIDED", False))
    ds = vflow.decide_o1(vflow.draw_o1(np.random.default_rng(1), 10))
    assert all(d.verdict != "PASS" for d in ds if d.method == "screen")
