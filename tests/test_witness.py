"""Tightness witnesses and audits: every declared floor is reached by the true bounds, a
bound loosened by 2 % comes out LOOSE (exit code 4), impossible values FAIL."""

import importlib

import pytest

from bounds import CLAIMS, get_claim
from verify.checks import FAIL, NOT_APPLICABLE, PASS, Outcome, check
from verify.cli import main
from verify.report import summarize
from verify.sampling import sample_instances
from verify.witness import LOOSE, audit, search_witness, tightness_value, witnesses

FLOORED = [(cid, t) for cid, c in CLAIMS.items() for t in c.tightness if t.floor is not None]
IDS = [f"{cid}-{t.key}" for cid, t in FLOORED]


def _quick(cid):
    return [check(cid, inst) for inst in sample_instances(cid, 3, seed=0)]


def _loosened(t, original):
    """The evaluator made weaker by its declared factor (one component of a tuple)."""
    def weaker(*args, **kw):
        v = original(*args, **kw)
        if v is None:  # e* undefined (the condition fails at e = 0): nothing to loosen
            return v
        if t.component is None:
            return v * t.loosen
        vals = list(v)
        vals[t.component] = vals[t.component] * t.loosen
        return type(v)(*vals) if hasattr(v, "_fields") else tuple(vals)

    return weaker


def _patch_loose(monkeypatch, cid, t):
    modname, attr = get_claim(cid).evaluators.location(t.bound)
    module = importlib.import_module(modname)
    monkeypatch.setattr(module, attr, _loosened(t, getattr(module, attr)))


def test_every_floored_tightness_has_a_corner_walk():
    from verify.specs import WITNESSES

    assert FLOORED
    for cid, t in FLOORED:
        assert WITNESSES.get((cid, t.key)), (cid, t.key)


@pytest.mark.parametrize("cid,t", FLOORED, ids=IDS)
def test_true_bound_reaches_its_declared_floor(cid, t):
    r = search_witness(cid, t, outcomes=_quick(cid))
    assert r.reached and r.best <= 1 + 1e-12, r


@pytest.mark.slow
@pytest.mark.parametrize("cid,t", FLOORED, ids=IDS)
def test_bound_loosened_by_two_percent_is_loose(cid, t, monkeypatch):
    _patch_loose(monkeypatch, cid, t)
    outcomes = _quick(cid)
    assert all(o.verdict in (PASS, NOT_APPLICABLE) for o in outcomes)  # weaker: still holds
    r = search_witness(cid, t, outcomes=outcomes)
    assert not r.reached and r.best is not None and r.best < t.floor, r
    row = summarize(cid, "x", outcomes, dps=50, seed=0, witnesses=witnesses(cid, outcomes))
    assert row.status == LOOSE


def test_run_exits_four_when_a_bound_is_loose(monkeypatch, capsys):
    # a floor above what the bound attains: the witness search cannot reach it (LOOSE);
    # the bound itself is unchanged, so the statement audit has nothing to object to
    import dataclasses
    from types import MappingProxyType

    import bounds

    c = get_claim("K2")
    high = dataclasses.replace(c.tightness[0], floor=0.99999)
    monkeypatch.setattr(bounds, "CLAIMS", MappingProxyType(
        {**bounds.CLAIMS, "K2": dataclasses.replace(c, tightness=(high,))}))
    code = main(["run", "--profile", "quick", "--claim", "K2", "--no-progress", "--volume", "0"])
    out = capsys.readouterr().out
    assert code == 4, out
    assert "LOOSE" in out and "K2 ratio (k2_upper_real): best" in out


def test_run_catches_a_bound_loosened_by_two_percent(monkeypatch, capsys):
    # LOOSE from the witness, or FAIL: the evaluator no longer equals the SymPy statement
    t = get_claim("K2").tightness[0]
    _patch_loose(monkeypatch, "K2", t)
    code = main(["run", "--profile", "quick", "--claim", "K2", "--no-progress", "--volume", "0"])
    out = capsys.readouterr().out
    assert code in (1, 4), out
    assert "LOOSE" in out or "audit FAIL" in out


def test_run_reports_how_far_each_witness_got(capsys):
    assert main(["run", "--profile", "quick", "--claim", "K1", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "K1 ratio (k1_lower): best" in out and "floor 0.99, reached" in out


# ---------------------------------------------------------------------------------------
# audits: impossible values are failures, N/A from a promising builder is a builder defect


def _outcome(cid, verdict=PASS, ratio=None, extra=None, note=""):
    return Outcome(cid, verdict, 0.5, 50, {"x": 1}, ratio=ratio, extra_ratios=extra or {},
                   note=note)


def test_upper_bound_ratio_above_one_is_an_audit_failure():
    msgs = audit("K2", [_outcome("K2", ratio=1.0000001)])
    assert msgs and "impossible ratio" in msgs[0]
    row = summarize("K2", "x", [_outcome("K2", ratio=1.0000001)], dps=50, seed=0, audit=msgs)
    assert row.status == FAIL


def test_lower_bound_ratio_below_one_is_an_audit_failure():
    assert audit("K1", [_outcome("K1", ratio=0.999)])  # K observed below tau/eta
    assert not audit("K1", [_outcome("K1", ratio=1.3)])


def test_critical_noise_above_the_observed_bracket_is_an_audit_failure():
    # e*/e_lo above 1 is inside the bisection bracket (no failure); e*/e_hi above 1 is not
    ok = _outcome("P4", ratio=0.9, extra={"e*/e_observed": 1.003, "e*/e_observed_hi": 0.99})
    bad = _outcome("P4", ratio=0.9, extra={"e*/e_observed": 1.05, "e*/e_observed_hi": 1.02})
    assert not audit("P4", [ok])
    assert any("e*/e_observed_hi" in m for m in audit("P4", [bad]))


def test_na_from_a_builder_that_promises_admissible_instances_fails():
    na = _outcome("K1", verdict=NOT_APPLICABLE, note="hypothesis false: x")
    msgs = audit("K1", [na, _outcome("K1", ratio=1.1)])
    assert msgs and "builder defect" in msgs[0]
    assert summarize("K1", "x", [na], dps=50, seed=0, audit=msgs).status == FAIL


def test_na_is_allowed_where_the_builder_says_why():
    na = _outcome("L2", verdict=NOT_APPLICABLE, note="the interval [T0, T1] is empty")
    assert not audit("L2", [na])


def test_claim_with_no_decided_instance_is_never_pass():
    na = _outcome("L2", verdict=NOT_APPLICABLE)
    assert summarize("L2", "x", [na, na], dps=50, seed=0).status == NOT_APPLICABLE


def test_tightness_value_ignores_undecided_and_missing_ratios():
    t = get_claim("K2").tightness[0]
    assert tightness_value(t, _outcome("K2", verdict="UNDECIDED", ratio=0.9)) is None
    assert tightness_value(t, _outcome("K2", ratio=None)) is None
    assert tightness_value(t, _outcome("K2", ratio=0.9)) == pytest.approx(0.9)


def test_audit_only_tightness_has_no_witness_search():
    from dataclasses import replace

    t = replace(get_claim("P5").tightness[0], floor=None)
    with pytest.raises(ValueError, match="audit-only"):
        search_witness("P5", t)


def test_every_bound_with_a_ratio_declares_a_floor():
    # P5, e* and the L3 threshold had audits only, so a 2 % weaker one went unnoticed
    assert all(t.floor is not None for c in CLAIMS.values() for t in c.tightness)
