"""Tests for verify/beyond/nonsymmetric.py (`dmf-verify explore nonsymmetric`)."""


import numpy as np
import pytest
from beyond_checks import (exits_2_with_one_line, raises_value_error, result_fixtures, same_json,
                           writes_png_and_pdf)

from verify.beyond import nonsymmetric as study
from verify.beyond.common import validate_result
from verify.beyond.matrixgd import identity_init, run_matrix

SMALL = {"n": 6, "steps": 1000, "noises": [0.0, 0.3], "negatives": [-0.5], "seed": 2}


default, small = result_fixtures(study, SMALL)


def _row(result, target):
    return [r for r in result["rows"] if r["target"] == target][0]


def test_result_follows_the_schema(default):
    validate_result(default)
    assert default["study"] == "nonsymmetric"
    assert len(default["rows"]) == len(study.DEFAULT_NOISES) + len(study.DEFAULT_NEGATIVES)
    assert len(default["series"]) == len(default["rows"])
    for row in default["rows"]:
        assert set(study.COLUMNS) <= set(row) and row["label"] in ("EMPIRICAL", "R1")


def test_the_e_zero_control_is_the_reduced_dynamics(default):
    ctl = _row(default, "W+E e=0")
    assert ctl["label"] == "R1" and (ctl["T0"], ctl["T1"]) == (102, 909)
    assert (ctl["reduced_T0"], ctl["reduced_T1"]) == (102, 909)
    assert ctl["R1_deviation"] < 1e-12


def test_only_the_controls_carry_r1_and_every_noisy_row_is_empirical(default):
    for row in default["rows"]:
        if row["e"] is not None and row["e"] > 0:
            assert row["label"] == "EMPIRICAL"


def test_the_symmetric_part_has_norm_at_most_e(default):
    for row in default["rows"]:
        if row["e"]:
            assert 0 < row["e_sym"] <= row["e"] * (1 + 1e-12)
            assert row["e_sym"] < row["e"]  # a Gaussian E is far from symmetric


def test_the_noise_is_nonsymmetric_of_spectral_norm_e():
    E = study._nonsymmetric_noise(8, 0.3, 5)
    assert abs(np.linalg.norm(E, 2) - 0.3) < 1e-14
    assert np.max(np.abs(E - E.T)) > 0.01
    assert np.array_equal(E, study._nonsymmetric_noise(8, 0.3, 5))
    assert np.allclose(study._nonsymmetric_noise(8, 0.6, 5), 2 * E, atol=1e-15)


def test_more_noise_makes_t1_earlier_and_within_the_bounds_of_the_symmetric_part(default):
    """Observed on the default grid (seed 0): T1 decreases with e, and P4 of the symmetric
    part holds while its hypotheses do (e <= 1); at e = 2 there is no bound."""
    grid = [r for r in default["rows"] if r["e"] is not None]
    t1 = [r["T1"] for r in grid]
    assert t1 == sorted(t1, reverse=True) and len(set(t1)) == len(t1)
    assert all(r["bounds_hold"] is True for r in grid if r["e"] <= 1)
    assert _row(default, "W+E e=2")["T1_lower"] is None


def test_a_negative_eigenvalue_keeps_t0_t1_but_float64_learns_it_later(default):
    for row in default["rows"]:
        if row["e"] is None:
            assert (row["T0"], row["T1"]) == (row["reduced_T0"], row["reduced_T1"]) == (102, 909)
    big = _row(default, "lam_n=-1.5")
    assert big["label"] == "EMPIRICAL" and big["R1_deviation"] > 0.1
    assert abs(default["series"][default["rows"].index(big)]["sigma"][-1][0] - 1.5) < 1e-6
    assert big["T0_upper"] is None and big["bounds_hold"] is None  # P4: e = 1.5 > s_1
    assert _row(default, "lam_n=-0.05")["label"] == "R1"


@pytest.mark.slow
def test_the_negative_eigenvalue_is_learned_later_at_30_digits_than_in_float64():
    """Rounding seeds the departure from the reduced trajectory: from alpha I on a symmetric Y
    with eigenvalue -1.5 the exact iteration keeps that direction's x -> 0 (R1, S3); float64
    learns -1.5 (sigma_1 -> 1.5) and so does the 30-digit run, about 350 steps later."""
    Q = np.linalg.qr(np.random.default_rng(0).standard_normal((4, 4)))[0]
    Y = Q @ np.diag([1.0, 0.1, 0.05, -1.5]) @ Q.T
    Y = (Y + Y.T) / 2
    init = identity_init(4, 3, 0.05)

    def flip(run):
        return next(k for k, s in zip(run.steps, run.singular_values) if float(s[0]) > 1.2)

    f = run_matrix(Y, init, lr=0.2, steps=1000, every=10)
    h = run_matrix(Y, init, lr=0.2, steps=1000, every=10, arithmetic="mpmath", dps=30)
    assert flip(f) + 200 < flip(h)


def test_same_seed_gives_identical_json(small):
    assert same_json(study.run(dict(SMALL)), small)
    other = study.run(dict(SMALL, seed=3))
    assert other["rows"][1]["e_sym"] != small["rows"][1]["e_sym"]


def test_figures_write_png_and_pdf(small, tmp_path):
    writes_png_and_pdf(study.figures, small, tmp_path)


def test_no_negatives_leaves_the_rows_out():
    out = study.run({"n": 4, "steps": 200, "noises": [0.1], "negatives": []})
    assert [r["target"] for r in out["rows"]] == ["W+E e=0.1"]


@pytest.mark.parametrize("argv, words", [
    (["--noises=-0.1"], "noises: every value must be >= 0"),
    (["--noises", "inf"], "expected a number"),
    (["--noises", ""], "expected comma-separated numbers"),
    (["--negatives", "0.5"], "negatives: every value must be < 0"),
    (["--theta=-1"], "theta must be >= 0"),
    (["--steps", "0"], "must be >= 1"),
])
def test_bad_input_exits_2_with_one_line(argv, words, capsys):
    exits_2_with_one_line("nonsymmetric", argv, words, capsys)


@pytest.mark.parametrize("params, words", [
    ({"noises": []}, "noises is empty"),
    ({"noises": [float("nan")]}, "finite"),
    ({"negatives": [0.0]}, "every value must be < 0"),
    ({"noises": "0.1"}, "list of numbers"),
])
def test_bad_input_to_the_api_is_a_value_error(params, words):
    raises_value_error(study.run, params, words)
