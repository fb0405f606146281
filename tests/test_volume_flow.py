"""Certified volume stages of S1, S2, S3 and O1 (verify/volume/flow.py): certified PASS at
volume, agreement with the high-precision checks, negative controls that never PASS, pinned
edge cases (determinism: tests/test_volume.py)."""

import numpy as np
import pytest

from verify.checks import check
from verify.volume import _chunk, run_volume
from verify.volume import flow as vflow

NEW = ("S1", "S2", "S3", "O1")


@pytest.mark.parametrize("cid", NEW)
def test_certified_pass_on_a_hundred_instances(cid):
    r = run_volume(cid, 100, seed=11)
    assert r.counts["PASS"] == 100 and r.certified == 100, r.as_dict()


@pytest.mark.parametrize("cid", NEW)
def test_agrees_with_the_high_precision_check(cid):
    for _, inst, d in _chunk((cid, 0, 0, 10)):
        o = check(cid, inst)
        assert (o.verdict, d.verdict) == ("PASS", "PASS"), inst
        if cid == "S2" and d.note.startswith("first overshoot"):  # the same certified step
            assert d.note.endswith(f"k = {o.observed['first_overshoot_step']}"), (inst, d, o)



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


# ---------------------------------------------------------------------------------------
# S3


def _s3_negative(monkeypatch):
    """S3 instances whose conclusion fails: eta 1.5 x the positivity bound (t <= 0: x_1 =
    alpha (1 - 1.5) < 0), and for 0 < t < alpha^N an eta that puts x_1 at t^(1/N)/2."""
    _admit_all(monkeypatch, "S3", "s3_hypotheses")
    out = []
    for i in vflow.draw_s3(np.random.default_rng(0), 24):
        if i["t"] <= 0:
            out.append(dict(i, eta_fraction=1.5))
        else:  # eta alpha^(N-2) (alpha^N - t) = 1 - (t/alpha^N)^(1/N)/2, as a fraction of the bound
            N, a, t = i["depth"], i["alpha"], i["t"]
            c = t / a**N
            out.append(dict(i, eta_fraction=(1 - c ** (1 / N) / 2) * ((2 * N - 1) - (N - 1) * c) / (1 - c)))
    return out


def test_s3_with_eta_above_its_bound_never_passes(monkeypatch):
    insts = _s3_negative(monkeypatch)
    ds = vflow.decide_s3(insts)
    assert all(d.verdict in ("FAIL", "UNDECIDED") for d in ds), [(i, d) for i, d in zip(insts, ds) if d.verdict == "PASS"]
    assert sum(d.verdict == "FAIL" and d.certified for d in ds) >= len(ds) - 2
    assert {i["t"] <= 0 for i in insts} == {True, False}


def test_s3_enclosure_shifted_below_the_root_does_not_pass(monkeypatch):
    real = vflow.enclose_f64

    def shifted(N, t, *a, **k):  # from step 3 on, every t > 0 lane just below t^(1/N)
        LO, HI, up = real(N, t, *a, **k)
        pos = np.asarray(t) > 0
        root = np.abs(np.asarray(t, dtype=float)) ** (1 / np.asarray(N, dtype=float))
        LO[3:, pos] = HI[3:, pos] = (root * (1 - 1e-6))[pos]
        return LO, HI, up

    monkeypatch.setattr(vflow, "enclose_f64", shifted)
    monkeypatch.setattr(vflow, "_s3_escalate", lambda *a: vflow.Decision("UNDECIDED", False))
    insts = [i for i in vflow.draw_s3(np.random.default_rng(1), 30) if i["t"] > 0]
    ds = vflow.decide_s3(insts)
    assert insts and all(d.verdict != "PASS" for d in ds), [d for d in ds if d.verdict == "PASS"]


def test_s3_tail_lemma_only_where_the_float_enclosure_ends(monkeypatch):
    # lanes cut at step 10 (as if a guard stopped them there, at a value far above the
    # underflow range): the lemma must not be applied at k = 10; certified_lane decides
    real = vflow.enclose_f64

    def cut(*a, **k):
        LO, HI, up = real(*a, **k)
        LO[11:], HI[11:] = np.nan, np.nan
        return LO, HI, np.minimum(up, 10)

    monkeypatch.setattr(vflow, "enclose_f64", cut)
    insts = [i for i in vflow.draw_s3(np.random.default_rng(2), 12) if i["t"] <= 0][:4]
    ds = vflow.decide_s3(insts)
    assert insts and all(d.verdict == "PASS" and d.method.startswith("certified-") for d in ds), ds


@pytest.mark.parametrize("inst", [
    {"depth": 3, "t": 0.0, "alpha": 1.0, "eta_fraction": 0.95},       # t = 0 exactly
    {"depth": 2, "t": 0.0, "alpha": 0.5, "eta_fraction": 0.9},
    {"depth": 3, "t": 0.8**3 * (1 - 2**-30), "alpha": 0.8, "eta_fraction": 0.9},  # t just below alpha^N
    {"depth": 2, "t": float(np.nextafter(0.64, 0)), "alpha": 0.8, "eta_fraction": 0.5},  # one ulp below
    {"depth": 3, "t": 0.5, "alpha": 1.0, "eta_fraction": 1.0},        # eta at the decreasing-step bound
    {"depth": 8, "t": -0.5, "alpha": 0.9, "eta_fraction": 0.999},     # N = 8, eta near the positivity bound
    {"depth": 2, "t": -2.05, "alpha": 0.3, "eta_fraction": 0.95},     # x_k underflows float64
])
def test_s3_pinned_edge_cases_are_certified_passes_as_in_the_check(inst):
    d = vflow.decide_s3([inst])[0]
    assert (d.verdict, d.certified, check("S3", inst).verdict) == ("PASS", True, "PASS"), d


# ---------------------------------------------------------------------------------------
# S2


def test_s2_below_one_no_overshoot_is_never_a_certified_pass(monkeypatch):
    _admit_all(monkeypatch, "S2", "s2_overshoot_regime")
    insts = [dict(i, q=0.99) for i in vflow.draw_s2(np.random.default_rng(0), 12)]
    ds = vflow.decide_s2(insts)
    assert all(d.verdict != "PASS" for d in ds), [d for d in ds if d.verdict == "PASS"]


def test_s2_below_two_admitted_as_repelling_is_a_certified_fail(monkeypatch):
    import bounds.flow as bf

    monkeypatch.setattr(bf, "s2_overshoot_regime", lambda *a, **k: False)
    monkeypatch.setattr(bf, "s2_repelling", lambda *a, **k: True)
    insts = [dict(i, q=1.95) for i in vflow.draw_s2(np.random.default_rng(0), 6)]
    ds = vflow.decide_s2(insts)
    assert all(d.verdict == "FAIL" and d.certified for d in ds), ds


def test_s2_enclosure_shifted_below_the_root_does_not_pass_on_the_screen(monkeypatch):
    real = vflow.enclose_f64

    def shifted(N, t, *a, **k):  # every lane clipped just below t^(1/N): no overshoot, no deviation
        LO, HI, up = real(N, t, *a, **k)
        root = np.asarray(t) ** (1 / np.asarray(N, dtype=float))
        cap = root * (1 - 1e-7)
        return np.minimum(LO, cap), np.minimum(HI, cap), up

    monkeypatch.setattr(vflow, "enclose_f64", shifted)
    ds = vflow.decide_s2(vflow.draw_s2(np.random.default_rng(3), 12))
    assert all(not d.method.startswith("screen") for d in ds if d.verdict == "PASS"), ds


@pytest.mark.parametrize("inst,method", [
    ({"depth": 3, "t": 1.0, "q": 1.99, "alpha": 0.5}, "screen"),             # q just below 2
    ({"depth": 3, "t": 1.0, "q": 2.01, "alpha": 0.5}, "screen+trap"),        # q just above 2
    ({"depth": 2, "t": 1.0, "q": 2.001, "alpha": 0.5}, "screen+horizon"),    # slow 2-cycle: horizon = cap
    ({"depth": 8, "t": 1.0, "q": 1.5, "alpha": 0.7}, "screen"),
    ({"depth": 2, "t": 1.0, "q": 1.5, "alpha": 1.2}, "exact"),               # x_0 above t^(1/N)
    ({"depth": 2, "t": 1.0, "q": 5.0, "alpha": 0.3}, "certified-128+escape"),  # diverges
])
def test_s2_pinned_edge_cases_are_certified_passes_as_in_the_check(inst, method):
    d = vflow.decide_s2([inst])[0]
    assert (d.verdict, d.certified, d.method, check("S2", inst).verdict) == ("PASS", True, method, "PASS"), d
