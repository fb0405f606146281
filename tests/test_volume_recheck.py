"""The certified engine on the checked instances (verify/volume/recheck.py): agreement is
certified, an UNDECIDED high-precision verdict is decided by a proof, a disagreement is an
audit failure, and instances the certified path does not cover stay uncertified."""

import dataclasses

from verify.checks import check
from verify.report import render_certified_share, summarize
from verify.volume.recheck import recheck

K2 = {"depth": 3, "t": 1.0, "eta_fraction": 0.5, "alpha": 0.1, "d": 0.5}


def test_agreeing_verdict_is_certified():
    (out,), msgs = recheck("K2", [check("K2", K2)])
    assert (out.verdict, out.certified, msgs) == ("PASS", True, ())
    assert out.as_dict()["certified"] is True


def test_undecided_high_precision_verdict_takes_the_proved_one():
    und = dataclasses.replace(check("K2", K2), verdict="UNDECIDED", slack=None)
    (out,), msgs = recheck("K2", [und])
    assert (out.verdict, out.certified, msgs) == ("PASS", True, ())
    assert "certified engine" in out.note


def test_disagreement_is_an_audit_failure_and_not_certified():
    wrong = dataclasses.replace(check("K2", K2), verdict="FAIL", slack=-1.0)
    (out,), msgs = recheck("K2", [wrong])
    assert out.verdict == "FAIL" and not out.certified
    assert len(msgs) == 1 and "high-precision verdict FAIL, certified verdict PASS" in msgs[0]


def test_an_uncovered_instance_stays_uncertified():
    # P4 with random noise: Y's eigenvalues are not exact floats, the certified path abstains
    from verify.sampling import sample_instances

    inst = next(i for i in sample_instances("P4", 10, seed=0) if i["noise_kind"] == "random")
    (out,), msgs = recheck("P4", [check("P4", inst)])
    assert not out.certified and msgs == ()


def test_claim_without_volume_stage_is_returned_unchanged(monkeypatch):
    import verify.volume as vol

    monkeypatch.setattr(vol, "VOLUME", {k: v for k, v in vol.VOLUME.items() if k != "K2"})
    o = check("K2", K2)
    assert recheck("K2", [o]) == ((o,), ())


def test_summary_counts_certified_decided_outcomes_and_the_share_line_names_low_claims():
    (a,), _ = recheck("K2", [check("K2", K2)])
    b = dataclasses.replace(a, certified=False)
    row = summarize("K2", "x", [a, b], dps=50, seed=0)
    assert (row.certified, row.decided, row.certified_share) == (1, 2, (1, 2))
    line = render_certified_share([row])
    assert "1 of 2 decided verdicts (50.0 %)" in line and "below 99 %: K2 1/2" in line
    full = summarize("K2", "x", [a], dps=50, seed=0)
    assert render_certified_share([full]).endswith("every claim at 99 % or more")


def test_an_instance_the_certified_path_cannot_read_abstains():
    from verify.checks import Outcome

    fake = Outcome("K2", "PASS", 1.0, 50, {})  # e.g. a replaced check's outcome in a test
    good = check("K2", K2)
    (a, b), msgs = recheck("K2", [fake, good])
    assert (a.certified, a.verdict, msgs) == (False, "PASS", ())
    assert b.certified  # the readable instance is still decided
