"""Shrinking failing instances and the repro command (verify/shrink.py)."""

import copy
import json
import shlex

import pytest

from verify.shrink import (counterexamples, instance_arg, repro_command, round_sig, shrink,
                           sig_digits, simpler_values)

START = {"depth": 5, "alpha": 0.56789, "t": 1.2345678, "seed": 123456, "noise_kind": "worst",
         "spectrum": [0.73519, 0.0123456, 0.0], "flag": True}


def _floats(inst):
    for v in inst.values():
        if isinstance(v, float):
            yield v
        elif isinstance(v, list):
            yield from (x for x in v if isinstance(x, float))


def _float_paths(inst):
    """(key, index or None) -> float, for comparing digits field by field."""
    out = {}
    for k, v in inst.items():
        if isinstance(v, float):
            out[(k, None)] = v
        elif isinstance(v, list):
            out.update({(k, i): x for i, x in enumerate(v) if isinstance(x, float)})
    return out


def test_alpha_goes_to_a_round_value_and_depth_to_two_when_the_predicate_ignores_depth():
    out = shrink("X", {"alpha": 0.56789, "depth": 5}, still_fails=lambda i: i["alpha"] > 0.1234)
    assert out["depth"] == 2
    assert out["alpha"] > 0.1234 and sig_digits(out["alpha"]) == 1  # 0.6: 0.56789 to 1 digit
    assert out == {"alpha": 0.6, "depth": 2}


def test_shrunk_instance_still_fails_and_is_simpler():
    pred = lambda i: i["alpha"] > 0.5 and i["t"] > 1.2 and i["spectrum"][1] > 0.012
    out = shrink("X", START, still_fails=pred)
    assert pred(out)
    assert out["depth"] <= START["depth"] and out["seed"] <= START["seed"]
    before, after = _float_paths(START), _float_paths(out)
    assert before.keys() == after.keys()
    for path, x in before.items():
        assert sig_digits(after[path]) <= sig_digits(x), path
    assert out["noise_kind"] == "worst" and out["flag"] is True  # not shrinkable: kept
    assert out["depth"] == 2 and out["seed"] == 0 and out["t"] == 1.23
    assert out["spectrum"] == [0.7, 0.0123, 0.0]


def test_shrink_is_deterministic_and_does_not_mutate_its_input():
    inst = copy.deepcopy(START)
    pred = lambda i: i["t"] > 1.2345
    a = shrink("X", inst, still_fails=pred)
    b = shrink("X", inst, still_fails=pred)
    assert a == b and inst == START
    a["spectrum"].append(9.0)  # the result shares nothing with the input
    assert inst["spectrum"] == START["spectrum"]


def test_a_predicate_that_mutates_its_candidate_changes_nothing():
    def pred(cand):
        result = cand["alpha"] > 0.3
        cand["alpha"] = -1.0
        cand["spectrum"].clear()
        return result

    out = shrink("X", START, still_fails=pred)
    assert out["alpha"] == 0.6 and out["spectrum"] == [0.7, 0.01, 0.0]


@pytest.mark.parametrize("max_tries", [0, 1, 5, 17])
def test_max_tries_bounds_the_predicate_calls(max_tries):
    calls = []

    def pred(cand):
        calls.append(1)
        return False  # nothing is accepted: every candidate is tried until the budget ends

    out = shrink("X", START, still_fails=pred, max_tries=max_tries)
    assert len(calls) == max_tries and out == START


def test_the_search_stops_by_itself_when_nothing_changes():
    calls = []
    shrink("X", START, still_fails=lambda i: calls.append(1) or False, max_tries=10_000)
    one_pass = sum(len(simpler_values(k, v)) for k, v in START.items() if not isinstance(v, list))
    one_pass += sum(len(simpler_values("spectrum", x)) for x in START["spectrum"])
    assert len(calls) == one_pass  # a pass that accepts nothing is the last


def test_a_value_error_rejects_the_candidate():
    def pred(cand):
        if cand["depth"] < 4:
            raise ValueError("instance field 'depth' must be >= 4")
        return True

    out = shrink("X", {"depth": 6, "alpha": 0.25}, still_fails=pred)
    assert out == {"depth": 4, "alpha": 0.2}  # 0.25 to 1 digit (half to even)


def test_bad_arguments_are_value_errors_naming_the_problem():
    with pytest.raises(ValueError, match="max_tries"):
        shrink("X", {"depth": 3}, still_fails=lambda i: True, max_tries=-1)
    with pytest.raises(ValueError, match="mapping"):
        shrink("X", [1, 2], still_fails=lambda i: True)
    with pytest.raises(ValueError, match="no check for claim 'Z9'"):
        shrink("Z9", {"depth": 3})
    with pytest.raises(ValueError, match="digits"):
        round_sig(0.5, 0)


def test_simpler_values():
    assert simpler_values("depth", 2) == [] and simpler_values("depth", 3) == [2]
    assert simpler_values("seed", 2**31)[:3] == [0, 1, 2] and len(simpler_values("seed", 2**31)) < 40
    assert simpler_values("x", -5) == [0, -1, -2, -3, -4]
    assert simpler_values("x", 0.96) == [1.0] and simpler_values("x", float("inf")) == []
    assert simpler_values("flag", True) == [] and simpler_values("kind", "random") == []


def test_default_predicate_uses_the_registered_check(monkeypatch):
    from verify import checks

    def fake(inst, dps):  # fails while alpha > 0.1; rejects depth < 3 as a check would
        a = checks.param(inst, "alpha", gt=0)
        if checks.depth_of(inst) < 3:
            raise ValueError("instance field 'depth' must be an integer >= 3")
        return checks.Outcome("K2", checks.FAIL if a > 0.1 else checks.PASS, float(0.1 - a),
                              dps, dict(inst))

    monkeypatch.setitem(checks._CHECKS, "K2", fake)
    out = shrink("K2", {"depth": 6, "alpha": 0.14591047725115855})
    assert out == {"depth": 3, "alpha": 0.15}
    assert checks.check("K2", out).verdict == checks.FAIL


# ---------------------------------------------------------------------------------------
# the repro command


def test_instance_json_has_sorted_keys_and_exact_floats():
    inst = {"t": 0.1 + 0.2, "alpha": 1e-300, "depth": 3, "spectrum": [2.0 / 3.0, 0.0]}
    text = instance_arg(inst)
    assert list(json.loads(text)) == sorted(inst)
    assert json.loads(text) == inst  # every float bit for bit
    with pytest.raises(ValueError, match="no JSON form"):
        instance_arg({"x": object()})


def test_repro_command_survives_the_shell():
    inst = {"depth": 3, "note": "it's \"quoted\" $HOME", "alpha": 0.05}
    cmd = repro_command("K2", inst, dps=100, max_dps=200)
    argv = shlex.split(cmd)
    assert argv[:3] == ["dmf-verify", "check", "K2"]
    assert json.loads(argv[argv.index("--instance") + 1]) == inst
    assert argv[-4:] == ["--dps", "100", "--max-dps", "200"]


def test_counterexamples_records_non_passing_outcomes_and_shrinks_the_first_fails(monkeypatch):
    from verify import checks

    calls = []

    def fake(inst, dps):
        calls.append(dict(inst))
        verdict = {0: checks.PASS, 1: checks.FAIL, 2: checks.UNDECIDED}[inst["kind"]]
        return checks.Outcome("K2", verdict, -1.0 if verdict == checks.FAIL else None, dps,
                              dict(inst))

    monkeypatch.setitem(checks._CHECKS, "K2", fake)
    insts = [{"kind": k, "depth": 4, "alpha": 0.123} for k in (0, 1, 2, 1, 1, 1)]
    outs = [checks.check("K2", i) for i in insts]
    recs = counterexamples("K2", outs, shrink_first=2)
    assert [r["verdict"] for r in recs] == ["FAIL", "UNDECIDED", "FAIL", "FAIL", "FAIL"]
    assert [r["shrunk"] is not None for r in recs] == [True, False, True, False, False]
    assert "--max-dps" in recs[1]["command"] and "--max-dps" not in recs[0]["command"]
    small = recs[0]["shrunk"]["instance"]
    assert small["depth"] == 2 and small["alpha"] == 0.1  # kind 1 stays: kind 0 passes
    json.dumps(recs)  # JSON-able
