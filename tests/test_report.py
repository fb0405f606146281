"""Summaries and reports of outcomes."""

import json
import math

from verify.checks import FAIL, NOT_APPLICABLE, PASS, UNDECIDED, Outcome
from verify.report import render_markdown, render_table, summarize, tightness, to_json


def _o(verdict, slack, ratio=None, extra=None, **inst):
    return Outcome("K2", verdict, slack, 50, inst, ratio=ratio, extra_ratios=extra or {})


def test_summary_counts_and_picks_the_failing_instance_as_worst():
    outs = [_o(PASS, 0.5, 0.5, a=1), _o(FAIL, -0.1, 1.1, a=2), _o(PASS, 0.01, 0.99, a=3),
            _o(UNDECIDED, None, a=4), _o(NOT_APPLICABLE, None, a=5)]
    row = summarize("K2", "name", outs, dps=50, seed=3)
    assert (row.passed, row.failed, row.undecided, row.not_applicable) == (2, 1, 1, 1)
    assert row.worst_instance == {"a": 2} and row.min_slack == -0.1 and row.status == FAIL


def test_undecided_makes_the_status_undecided_not_pass():
    row = summarize("K2", "n", [_o(PASS, 0.5), _o(UNDECIDED, None)], dps=50, seed=0)
    assert row.status == UNDECIDED


def test_tightness_uses_decided_outcomes_and_names_extra_ratios():
    outs = [_o(PASS, 0.1, 0.2, {"e*/e": 0.5}), _o(PASS, 0.1, 0.4), _o(PASS, 0.1, 0.9, {"e*/e": 0.7}),
            _o(UNDECIDED, None, 5.0)]
    t = tightness(outs)
    assert (t["min"], t["median"], t["max"], t["count"]) == (0.2, 0.4, 0.9, 3)
    assert t["extra"]["e*/e"]["median"] == 0.6
    row = summarize("K2", "n", outs, dps=50, seed=0)
    assert "0.2/0.4/0.9" in render_table([row])
    assert "e*/e: 0.5/0.6/0.7" in render_markdown([row])


def test_json_report_is_valid_json_with_infinite_slack_as_text():
    row = summarize("K2", "n", [_o(PASS, math.inf)], dps=50, seed=1)
    data = json.loads(to_json([row], meta={"seed": 1}))
    assert data["claims"][0]["min_slack"] == "inf" and data["meta"]["seed"] == 1


# ---------------------------------------------------------------------------------------
# counterexamples: the repro commands of FAIL / UNDECIDED instances


def _rec(verdict, inst, shrunk=None):
    from verify.shrink import repro_command

    rec = {"verdict": verdict, "slack": -0.5, "dps": 100, "instance": inst,
           "command": repro_command("K2", inst, dps=100), "shrunk": None}
    if shrunk:
        rec["shrunk"] = {"instance": shrunk, "slack": -0.25, "dps": 50,
                         "command": repro_command("K2", shrunk, dps=50)}
    return rec


def test_tables_print_each_repro_command_and_the_shrunk_one():
    big, small = {"alpha": 0.123456789, "depth": 5}, {"alpha": 0.1, "depth": 2}
    recs = [_rec(FAIL, big, small), _rec(UNDECIDED, {"alpha": 0.5, "depth": 3})]
    outs = [_o(FAIL, -0.5, alpha=0.123456789, depth=5), _o(UNDECIDED, None, alpha=0.5, depth=3)]
    row = summarize("K2", "n", outs, dps=50, seed=0, counterexamples=recs)
    for text in (render_table([row]), render_markdown([row])):
        for r in recs:
            assert r["command"] in text
        assert recs[0]["shrunk"]["command"] in text
        assert "FAIL (slack -0.5, dps 100)" in text and "FAIL (slack -0.25, dps 50)" in text
    cmd = """dmf-verify check K2 --instance '{"alpha": 0.123456789, "depth": 5}' --dps 100"""
    assert cmd in render_table([row])
    assert json.loads(to_json([row], meta={}))["claims"][0]["counterexamples"] == recs


def test_a_non_passing_row_without_records_prints_its_worst_instance():
    row = summarize("K2", "n", [_o(FAIL, -0.1, a=2)], dps=50, seed=0)
    assert """dmf-verify check K2 --instance '{"a": 2}' --dps 50""" in render_table([row])


def test_a_passing_row_prints_no_counterexamples():
    row = summarize("K2", "n", [_o(PASS, 0.5, a=1)], dps=50, seed=0)
    assert "dmf-verify check" not in render_table([row]) + render_markdown([row])


# ---------------------------------------------------------------------------------------
# JUnit XML


def _junit(rows, **meta):
    import xml.etree.ElementTree as ET

    from verify.report import to_junit

    text = to_junit(rows, meta=meta)
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n')
    return ET.fromstring(text)


def test_junit_a_loose_bound_is_a_failure_naming_its_witness():
    import dataclasses

    from verify.witness import WitnessResult

    w = WitnessResult("K2", "ratio", "k2_upper_real", 0.99, 0.5, {"alpha": 0.3, "depth": 3}, 4,
                      False, "eta -> 0")
    row = dataclasses.replace(summarize("K2", "n", [_o(PASS, 0.5, 0.5, a=1)], dps=50, seed=0),
                              witnesses=(w,))
    assert row.status == "LOOSE"
    root = _junit([row])
    f = root.find("testsuite/testcase/failure")
    assert f.get("type") == "LOOSE" and "best 0.5 < floor 0.99" in f.get("message")
    assert """dmf-verify check K2 --instance '{"alpha": 0.3, "depth": 3}' --dps 50""" in f.text
    assert (root.get("tests"), root.get("failures"), root.get("errors"), root.get("skipped")) == ("1", "1", "0", "0")


def test_junit_a_volume_failure_gives_its_instance_as_a_command():
    import dataclasses

    row = summarize("K2", "n", [_o(PASS, 0.5, 0.5, a=1)], dps=50, seed=0)
    vol = {"count": 3, "counts": {"PASS": 2, "FAIL": 1, "UNDECIDED": 0, "N/A": 0}, "certified": 3,
           "decided": 3, "methods": {"screen": 3}, "worst_slack": -0.1, "best_tightness": None,
           "status": FAIL, "failures": [{"id": "K2-s0-c0-i2", "instance": {"alpha": 0.2, "depth": 4},
                                         "verdict": FAIL, "certified": True, "note": "T0 above"}],
           "undecided": []}
    root = _junit([dataclasses.replace(row, volume=vol)], seed=0)
    cases = root.findall("testsuite/testcase")
    assert [c.get("name") for c in cases] == ["K2 checked instances", "K2 certified volume"]
    assert cases[0].find("failure") is None
    f = cases[1].find("failure")
    assert f.get("message") == "K2: 1 of 3 certified-volume instances FAIL"
    assert "K2-s0-c0-i2: T0 above" in f.text
    assert """dmf-verify check K2 --instance '{"alpha": 0.2, "depth": 4}' --dps 50""" in f.text
    assert root.find("testsuite").get("failures") == "1" and root.get("tests") == "2"
    assert root.find("testsuite/properties/property").attrib == {"name": "seed", "value": "0"}
