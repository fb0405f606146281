"""Tests for verify/beyond/init.py (`dmf-verify explore init`)."""

import json

import pytest
from beyond_checks import (exits_2_with_one_line, raises_value_error, result_fixtures, same_json,
                           writes_png_and_pdf)

from verify.beyond import init as study
from verify.beyond.common import validate_result
from verify.explore import simulate

SMALL = {"n": 6, "steps": 1200, "sigmas": [0.0, 0.1, 1.0], "seed": 3}


default, small = result_fixtures(study, SMALL)


def test_result_follows_the_schema_with_one_row_and_one_trajectory_per_initialization(default):
    validate_result(default)
    assert default["study"] == "init"
    assert [r["sigma"] for r in default["rows"]] == study.DEFAULT_SIGMAS + [None]
    assert len(default["series"]) == len(default["rows"])
    for row in default["rows"]:
        assert set(default["columns"]) <= set(row)
        assert row["label"] in ("EMPIRICAL", "R1")
        assert row["status"] in ("ok", "diverged")
    for s in default["series"]:
        assert len(s["steps"]) == len(s["sigma"]) == len(s["rank"])
        assert s["steps"][0] == 0 and s["steps"][-1] == default["params"]["steps"]


def test_the_sigma_zero_control_equals_the_reduced_dynamics_and_is_the_only_r1_row(default):
    """W_j(0) = alpha I (sigma = 0): T0, T1 of the full-matrix run are simulate()'s (102,
    909 for the README example padded to n = 10), and only that row carries R1."""
    ctl = default["rows"][0]
    assert ctl["sigma"] == 0 and ctl["label"] == "R1"
    assert (ctl["T0"], ctl["T1"]) == (102, 909)
    assert ctl["R1_deviation"] < 1e-12
    assert ctl["bounds_hold"] is True and (ctl["T0_upper"], ctl["T1_lower"]) == (144, 888)
    assert [r["label"] for r in default["rows"][1:]] == ["EMPIRICAL"] * (len(default["rows"]) - 1)


def test_control_of_another_problem_matches_simulate_on_that_problem(small):
    from verify.beyond import outside as ob

    pb = ob.build_problem(ob.problem_params(SMALL), seed=3)
    sim = simulate(pb.st, max_steps=SMALL["steps"])
    ctl = small["rows"][0]
    assert (ctl["T0"], ctl["T1"]) == (sim["T0"], sim["T1"])
    assert ctl["label"] == "R1"


def test_a_large_spread_starts_above_theta_and_empties_the_interval(default):
    row = [r for r in default["rows"] if r["sigma"] == 3.0][0]
    assert row["T1"] == -1 and row["nonempty"] is False and row["bounds_hold"] is False


def test_same_seed_gives_identical_json_and_another_seed_other_random_rows(small):
    again = study.run(dict(SMALL))
    assert same_json(again, small)
    other = study.run(dict(SMALL, seed=4))
    assert other["rows"][1]["P0_sigma1"] != small["rows"][1]["P0_sigma1"]


def test_figures_write_png_and_pdf(small, tmp_path):
    writes_png_and_pdf(study.figures, small, tmp_path)


@pytest.mark.parametrize("argv, words", [
    (["--sigmas=-0.5"], "sigmas: every value must be >= 0"),
    (["--sigmas", "nan"], "expected a number"),
    (["--sigmas", ""], "expected comma-separated numbers"),
    (["--sigmas", "0,,1"], "expected comma-separated numbers"),
    (["--alpha", "0"], "must be > 0"),
    (["--eps", "1.5"], "eps must be < 1"),
    (["--rank", "10"], "rank r must be in 1..9"),
    (["--spectrum", "1,-0.1"], "spectrum: every value must be >= 0"),
])
def test_bad_input_exits_2_with_one_line(argv, words, capsys):
    exits_2_with_one_line("init", argv, words, capsys)


@pytest.mark.parametrize("params, words", [
    ({"sigmas": []}, "sigmas is empty"),
    ({"sigmas": [float("nan")]}, "finite"),
    ({"sigmas": [-1.0]}, ">= 0"),
    ({"eta": -0.1}, "eta must be > 0"),
    ({"seed": -1}, "seed must be an integer >= 0"),
])
def test_bad_input_to_the_api_is_a_value_error(params, words):
    raises_value_error(study.run, params, words)


def test_params_are_not_modified():
    params = {"n": 4, "steps": 300, "sigmas": [0.0], "gaussian": False, "seed": 0}
    before = json.dumps(params, sort_keys=True)
    study.run(params)
    assert json.dumps(params, sort_keys=True) == before
