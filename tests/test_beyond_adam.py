"""Tests for verify/beyond/adam.py (`dmf-verify explore adam`)."""

import pytest
from beyond_checks import (exits_2_with_one_line, raises_value_error, result_fixtures, same_json,
                           writes_png_and_pdf)

from verify.beyond import adam as study
from verify.beyond.common import validate_result

SMALL = {"n": 5, "steps": 800, "lrs": [1e-3, 1e-2], "seed": 1}


default, small = result_fixtures(study, SMALL)


def test_result_follows_the_schema(default):
    validate_result(default)
    assert default["study"] == "adam"
    assert [r["optimizer"] for r in default["rows"]] == ["gd"] + ["adam"] * len(study.DEFAULT_LRS)
    assert [r["lr"] for r in default["rows"][1:]] == study.DEFAULT_LRS
    assert len(default["series"]) == len(default["rows"])
    for row in default["rows"]:
        assert set(study.COLUMNS) <= set(row)


def test_the_gd_control_is_the_reduced_dynamics_and_adam_rows_are_empirical(default):
    gd = default["rows"][0]
    assert gd["label"] == "R1" and (gd["T0"], gd["T1"]) == (102, 909) and gd["lr"] == 0.2
    assert gd["R1_deviation"] < 1e-12 and gd["bounds_hold"] is True
    assert {r["label"] for r in default["rows"][1:]} == {"EMPIRICAL"}


def test_adam_learns_faster_with_a_larger_step_and_loses_the_interval_at_the_largest(default):
    """Observed on the default grid: T0 decreases strictly with lr (about 0.1-0.15 / lr), and
    at lr = 0.1 the first steps push sigma_2 above theta before sigma_1 is learned."""
    adam = default["rows"][1:]
    t0 = [r["T0"] for r in adam]
    assert all(isinstance(t, int) for t in t0) and t0 == sorted(t0, reverse=True)
    assert len(set(t0)) == len(t0)
    for r in adam[:-1]:
        assert 0.05 <= r["lr"] * r["T0"] <= 0.5 and r["nonempty"] is True
    assert adam[-1]["lr"] == 0.1 and adam[-1]["nonempty"] is False


def test_adam_parameters_reach_the_optimizer():
    base = study.run(dict(SMALL, lrs=[1e-2]))
    no_momentum = study.run(dict(SMALL, lrs=[1e-2], beta1=0.0))
    big_eps = study.run(dict(SMALL, lrs=[1e-2], adam_eps=1.0))
    assert base["rows"][1]["loss_final"] != no_momentum["rows"][1]["loss_final"]
    assert base["rows"][1]["T0"] != big_eps["rows"][1]["T0"]
    assert base["params"]["beta1"] == 0.9 and no_momentum["params"]["beta1"] == 0.0


def test_noise_switches_the_prediction_to_p4(small):
    noisy = study.run(dict(SMALL, noise=0.05))
    assert noisy["rows"][0]["T1_lower"] != small["rows"][0]["T1_lower"]
    assert any("P4" in n for n in noisy["notes"]) and any("L1" in n for n in small["notes"])


def test_same_seed_gives_identical_json(small):
    assert same_json(study.run(dict(SMALL)), small)


def test_figures_write_png_and_pdf_and_leave_the_result_alone(small, tmp_path):
    writes_png_and_pdf(study.figures, small, tmp_path)


@pytest.mark.parametrize("argv, words", [
    (["--lrs", "0"], "lrs: every value must be > 0"),
    (["--lrs=-1e-3"], "lrs: every value must be > 0"),
    (["--lrs", ""], "expected comma-separated numbers"),
    (["--lrs", "nan"], "expected a number"),
    (["--beta1", "1"], "beta1 must be < 1"),
    (["--beta2=-0.1"], "beta2 must be >= 0"),
    (["--adam-eps", "0"], "must be > 0"),
    (["--noise=-0.1"], "noise must be >= 0"),
])
def test_bad_input_exits_2_with_one_line(argv, words, capsys):
    exits_2_with_one_line("adam", argv, words, capsys)


@pytest.mark.parametrize("params, words", [
    ({"lrs": []}, "lrs is empty"),
    ({"lrs": [float("inf")]}, "finite"),
    ({"beta1": float("nan")}, "beta1 must be finite"),
    ({"adam_eps": -1.0}, "adam_eps must be > 0"),
    ({"steps": 0}, "steps must be an integer >= 1"),
])
def test_bad_input_to_the_api_is_a_value_error(params, words):
    raises_value_error(study.run, params, words)
