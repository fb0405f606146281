"""verify/beyond/momentum.py (`dmf-verify explore momentum`): the result schema and its
labels, the beta = 0 rows against gradient descent and the paper's bounds, the heavy-ball
dominance on the rows it covers, determinism, bad input, the figure."""

import json

import pytest

from verify import cli
from verify.beyond import common
from verify.beyond import momentum as study

SMALL = {"betas": ["0", "0.3", "0.9"], "max_steps": 1200, "curve_points": 5}


@pytest.fixture(scope="module")
def result():
    return study.run(dict(SMALL))


def test_result_follows_the_schema_with_the_study_keys(result):
    assert common.validate_result(result) is result
    assert result["study"] == "momentum" and result["columns"] == study.COLUMNS
    assert len(result["rows"]) == 6  # 3 betas x 2 methods
    for c in result["curve"]:
        assert set(c) == {"method", "beta", "T0", "T1", "overshoot", "diverged", "tie_gap"}
    assert len(result["curve"]) == 10
    json.dumps(result)


def test_gd_rows_carry_l1_heavy_ball_rows_m1_and_nesterov_rows_are_empirical(result):
    for r in result["rows"]:
        want = "L1" if r["beta"] == 0 else "M1" if r["method"] == "heavyball" else "EMPIRICAL"
        assert r["label"] == want, r
    assert result["labels"] == {"EMPIRICAL": 2, "L1": 2, "M1": 2}
    assert all(r["T0_le_gd"] for r in result["rows"] if r["label"] == "M1")


def test_heavy_ball_rows_outside_m1s_hypotheses_are_empirical():
    # eta N t^A = 1.2 > 1 (S1's step bound fails), and rank 2 (T0 asks for a common step)
    over = study.run({"betas": ["0", "0.5"], "method": "heavyball", "eta": "0.4",
                      "max_steps": 400, "curve_points": 0})
    rank2 = study.run({"betas": ["0.5"], "method": "heavyball", "rank": 2, "theta": "0.04",
                       "max_steps": 2000, "curve_points": 0})
    assert [r["label"] for r in over["rows"]] == ["EMPIRICAL", "EMPIRICAL"]
    assert [r["label"] for r in rank2["rows"]] == ["EMPIRICAL"]


def test_beta_zero_rows_are_dmf_verify_simulate_and_respect_the_paper_bounds(result):
    from verify.explore import make_setting, simulate

    st = make_setting(depth=3, alpha="0.05", eta="0.2", rank=1, eps="0.1",
                      spectrum=["1", "0.1", "0.05"], theta="0.05")
    sim = simulate(st)
    for r in result["rows"]:
        if r["beta"] == 0:
            assert (r["T0"], r["T1"]) == (sim["T0"], sim["T1"]) == (102, 909)
            assert r["T0"] <= r["T0_upper"] == 144 and r["T1"] >= r["T1_lower"] == 888
            assert r["overshoot"] <= 1 and r["dips"] is False


def test_heavy_ball_rows_under_the_dominance_hypotheses_never_come_later_than_gd(result):
    hb = [r for r in result["rows"] if r["method"] == "heavyball"]
    assert all(r["m1_hypotheses"] for r in hb)
    assert all(r["T0_le_gd"] and r["T1_le_gd"] for r in hb)


def test_momentum_overshoots_and_gd_does_not(result):
    over = {(r["method"], r["beta"]): r["overshoot"] for r in result["rows"]}
    assert over[("heavyball", 0.9)] > 1.5 and 1 < over[("nesterov", 0.9)] < 1.2


def test_the_finding_states_the_measured_times(result):
    f = result["finding"]
    rows = {(r["method"], r["beta"]): r for r in result["rows"]}
    assert f"T0 102 -> {rows[('heavyball', 0.9)]['T0']}" in f
    assert f"T1 909 -> {rows[('nesterov', 0.9)]['T1']}" in f


def test_same_seed_same_json():
    a = study.run({"betas": ["0.5"], "method": "nesterov", "max_steps": 300, "seed": 3})
    b = study.run({"betas": ["0.5"], "method": "nesterov", "max_steps": 300, "seed": 3})
    assert json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def test_params_are_not_modified():
    params = {"betas": ["0.5"], "method": "heavyball", "max_steps": 100, "curve_points": 0}
    before = json.dumps(params)
    study.run(params)
    assert json.dumps(params) == before


def test_cli_json_output_is_the_result(capsys):
    code = cli.main(["explore", "momentum", "--betas", "0,0.5", "--method", "heavyball",
                     "--max-steps", "1000", "--curve-points", "0", "--json", "--no-progress"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and [r["T0"] for r in out["rows"]] == [102, 57]
    assert out["params"]["betas"] == ["0", "0.5"] and out["params"]["seed"] == 0


@pytest.mark.parametrize("argv", [
    ["--betas", "0,1"], ["--betas", "0,-0.1"], ["--betas", "0,,1"], ["--method", "adam"],
    ["--rank", "3"], ["--spectrum", "1,x"], ["--max-steps", "0"], ["--dps", "10"],
    ["--eps", "1.5"], ["--alpha", "-1"], ["--betas", "0.5,0.5"],
])
def test_bad_input_exits_2_with_one_line(argv, capsys):
    code = cli.main(["explore", "momentum", "--max-steps", "50", *argv, "--no-progress"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and "Traceback" not in err, err


def test_api_bad_input_is_a_value_error_naming_it():
    with pytest.raises(ValueError, match="unknown parameter 'beta'"):
        study.run({"beta": 0.5})
    with pytest.raises(ValueError, match="rank r must be an integer in 1..2"):
        study.run({"rank": 3, "max_steps": 10})


def test_figure_is_written_as_png_and_pdf(result, tmp_path):
    pytest.importorskip("matplotlib")
    paths = study.figures(result, str(tmp_path))
    assert [p.rsplit(".", 1)[1] for p in paths] == ["png", "pdf"]
    assert all((tmp_path / p.rsplit("/", 1)[1]).stat().st_size > 1000 for p in paths)
