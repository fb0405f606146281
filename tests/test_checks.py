"""The checker: decided comparisons, precision escalation, the registry covers every claim."""

import math

import mpmath
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bounds import claim_ids
from verify import checks
from verify.checks import FAIL, PASS, UNDECIDED, Outcome, check, compare_le


@given(st.floats(-10, 10), st.floats(-10, 10), st.floats(0, 1))
def test_compare_le_is_decided_only_outside_the_margin(a, b, m):
    verdict, slack = compare_le(a, b, margin=m)
    if a <= b - m:
        assert verdict == PASS
    elif a > b + m:
        assert verdict == FAIL
    else:
        assert verdict == UNDECIDED
    if verdict == PASS:
        assert slack >= 0
    if verdict == FAIL:
        assert slack < 0


def test_compare_le_infinite_upper_side_passes():
    assert compare_le(10**9, mpmath.inf, margin=0) == (PASS, math.inf)


def _fake(threshold_dps):
    def fn(inst, dps):
        verdict = PASS if dps >= threshold_dps else UNDECIDED
        return Outcome("K3", verdict, 0.5 if verdict == PASS else None, dps, dict(inst))

    return fn


def test_undecided_escalates_precision_until_decided(monkeypatch):
    monkeypatch.setitem(checks._CHECKS, "K3", _fake(200))
    out = check("K3", {}, dps=50, max_dps=250)
    assert out.verdict == PASS and out.dps == 200


def test_undecided_at_the_highest_precision_is_never_a_pass(monkeypatch):
    monkeypatch.setitem(checks._CHECKS, "K3", _fake(10**6))
    out = check("K3", {}, dps=50, max_dps=120)
    assert out.verdict == UNDECIDED and out.dps == 120


def test_every_claim_of_the_registry_has_a_check_and_nothing_else():
    assert list(checks.CHECKS) == list(claim_ids())


@pytest.mark.parametrize("cid, dps, message", [("Q7", 50, "no check for claim 'Q7'"),
                                               ("K3", 10, "dps must be an integer in 15..250")])
def test_bad_arguments_raise_named_errors(cid, dps, message):
    with pytest.raises(ValueError, match=message):
        check(cid, {}, dps=dps)


def test_outcome_as_dict_is_json_ready():
    import json

    out = check("K3", {"depth": 3, "t": 1.0, "alpha": 0.1, "d": 0.5, "eps": 0.1})
    data = json.loads(json.dumps(out.as_dict()))
    assert data["claim"] == "K3" and data["verdict"] == "PASS" and data["dps"] == 50
