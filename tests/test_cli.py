"""The `dmf-verify` command: exit codes, one-line errors, reports, predict vs simulate."""

import json
import subprocess
import sys

import numpy as np
import pytest

from verify.cli import main

PROBLEM = ["--depth", "3", "--alpha", "0.05", "--eta", "0.2", "--spectrum", "1,0.1,0.05",
           "--rank", "1", "--theta", "0.05"]


def run_cli(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def one_line_error(err: str, fragment: str):
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("dmf-verify: error: ")
    assert fragment in lines[0], lines[0]
    assert "Traceback" not in err


# ---------------------------------------------------------------------------------------
# run


def test_run_quick_prints_a_table_of_every_claim_and_exits_zero(capsys):
    code, out, _ = run_cli(capsys, "run", "--profile", "quick", "--no-progress")
    assert code == 0
    from verify.checks import CHECKS

    for cid in CHECKS:
        assert f"\n{cid} " in out
    assert "FAIL " not in out.split("\n", 2)[2]


def test_run_json_report_lists_every_field_needed_to_rerun(capsys, tmp_path):
    path = tmp_path / "r.json"
    md = tmp_path / "r.md"
    code, _, _ = run_cli(capsys, "run", "--profile", "quick", "--claim", "K2", "--claim", "R1",
                         "--seed", "5", "--json", str(path), "--markdown", str(md), "--no-progress")
    assert code == 0
    data = json.loads(path.read_text())
    ids = [c["id"] for c in data["claims"]]
    assert ids == ["R1", "K2"]
    for c in data["claims"]:
        for key in ("id", "name", "instances", "passed", "failed", "undecided", "min_slack",
                    "worst_instance", "dps", "seed"):
            assert key in c
        assert c["seed"] == 5 and c["instances"] == 3
    assert "| K2 |" in md.read_text()


def test_run_worst_instance_reproduces_its_verdict(capsys, tmp_path):
    from verify.checks import check

    path = tmp_path / "r.json"
    run_cli(capsys, "run", "--profile", "quick", "--claim", "K1", "--json", str(path), "--no-progress")
    c = json.loads(path.read_text())["claims"][0]
    out = check("K1", c["worst_instance"], dps=c["dps"])
    assert out.verdict == "PASS" and out.slack == pytest.approx(c["min_slack"])


def test_run_exit_code_is_one_when_a_claim_fails(capsys, monkeypatch):
    from verify import checks

    def broken(inst, dps):
        return checks.Outcome("K2", checks.FAIL, -1.0, dps, dict(inst))

    monkeypatch.setitem(checks._CHECKS, "K2", broken)
    code, out, _ = run_cli(capsys, "run", "--profile", "quick", "--claim", "K2", "--no-progress")
    assert code == 1 and "FAIL" in out


def test_run_exit_code_is_three_when_undecided_remains(capsys, monkeypatch):
    from verify import checks

    def undecided(inst, dps):
        return checks.Outcome("K2", checks.UNDECIDED, None, dps, dict(inst))

    monkeypatch.setitem(checks._CHECKS, "K2", undecided)
    code, out, _ = run_cli(capsys, "run", "--profile", "quick", "--claim", "K2",
                           "--max-dps", "60", "--no-progress")
    assert code == 3 and "UNDECIDED" in out


def test_python_dash_m_verify_is_the_same_command():
    proc = subprocess.run([sys.executable, "-m", "verify", "run", "--profile", "quick",
                           "--claim", "K3", "--json", "-"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["claims"][0]["id"] == "K3"


# ---------------------------------------------------------------------------------------
# predict / simulate


def test_predict_brackets_what_simulate_observes(capsys):
    code, out, _ = run_cli(capsys, "predict", *PROBLEM, "--json")
    assert code == 0
    pred = json.loads(out)
    code, out, _ = run_cli(capsys, "simulate", *PROBLEM, "--json", "--max-steps", "3000")
    assert code == 0
    sim = json.loads(out)
    assert pred["nonempty_predicted"] and sim["nonempty"]
    assert sim["T0"] <= pred["T0_upper"]
    assert sim["T1"] >= pred["T1_lower"]
    for key in ("step_bound", "hypotheses", "critical_noise"):
        assert key in pred
    for key in ("hitting_times", "steps", "dps", "error_in_interval", "limit_error"):
        assert key in sim


def test_full_matrix_simulation_gives_the_same_interval(capsys):
    args = ["--depth", "2", "--alpha", "0.1", "--eta", "0.3", "--spectrum", "1,0.2,0.05",
            "--rank", "1", "--theta", "0.1", "--noise", "0.03", "--noise-kind", "random",
            "--seed", "4", "--json", "--max-steps", "150", "--dps", "30"]
    _, out, _ = run_cli(capsys, "simulate", *args)
    reduced = json.loads(out)
    _, out, _ = run_cli(capsys, "simulate", *args, "--full-matrix")
    full = json.loads(out)
    assert full["engine"] == "full-matrix"
    assert (full["T0"], full["T1"], full["hitting_times"]) == (
        reduced["T0"], reduced["T1"], reduced["hitting_times"])
    assert reduced["T0"] is not None and reduced["T1"] is not None


def test_predict_with_noise_gives_both_bound_families(capsys):
    code, out, _ = run_cli(capsys, "predict", *PROBLEM, "--noise", "0.01", "--json")
    pred = json.loads(out)
    assert code == 0
    assert pred["T0_upper"] <= pred["T0_upper_any"]
    assert pred["T1_lower_any"] <= pred["T1_lower"]


def test_hypothesis_broken_is_reported_not_an_error(capsys):
    # eta far above the S1 bound: predict says so and gives no bound; simulate still runs
    args = PROBLEM[:4] + ["--eta", "5"] + PROBLEM[6:]
    code, out, _ = run_cli(capsys, "predict", *args, "--json")
    pred = json.loads(out)
    assert code == 0
    step = [h for h in pred["hypotheses"] if h["name"].startswith("eta <=")][0]
    assert step["holds"] is False
    assert pred["T0_upper"] is None and pred["nonempty_predicted"] is False
    code, out, _ = run_cli(capsys, "simulate", *args, "--json", "--max-steps", "200")
    sim = json.loads(out)
    assert code == 0 and sim["steps"] <= 200


def test_matrix_files_are_accepted(capsys, tmp_path):
    W = np.diag([1.0, 0.1, 0.05])
    np.save(tmp_path / "W.npy", W)
    E = np.zeros((3, 3))
    E[0, 1] = E[1, 0] = 0.01
    (tmp_path / "E.json").write_text(json.dumps(E.tolist()))
    args = ["--depth", "3", "--alpha", "0.05", "--eta", "0.2", "--target", str(tmp_path / "W.npy"),
            "--rank", "1", "--perturbation", str(tmp_path / "E.json"), "--json"]
    code, out, err = run_cli(capsys, "predict", *args)
    assert code == 0, err
    assert json.loads(out)["noise"] == "file"


# ---------------------------------------------------------------------------------------
# bad input: exit code 2 and one line naming the problem


@pytest.mark.parametrize(
    "argv, fragment",
    [
        (["frobnicate"], "invalid choice"),
        ([], "a command is required"),
        (["run", "--bogus"], "unrecognized arguments: --bogus"),
        (["run", "--profile", "huge"], "invalid choice: 'huge'"),
        (["run", "--claim", "Z9"], "unknown claim ID Z9"),
        (["run", "--dps", "ten"], "expected an integer"),
        (["run", "--dps", "5"], "digits must be in 15..250"),
        (["run", "--max-dps", "400"], "digits must be in 15..250"),
        (["run", "--seed", "-3"], "expected a nonnegative integer"),
        (["predict", *PROBLEM[:2]], "the following arguments are required"),
        (["predict", *PROBLEM, "--alpha", "-0.1"], "alpha must be > 0"),
        (["predict", *PROBLEM, "--eta", "0"], "eta must be > 0"),
        (["predict", *PROBLEM, "--eta", "fast"], "argument --eta: expected a number"),
        (["predict", *PROBLEM, "--alpha", "nan"], "argument --alpha: expected a number"),
        (["predict", *PROBLEM, "--rank", "3"], "rank r must be an integer in 1..2"),
        (["predict", *PROBLEM, "--rank", "0"], "rank r must be an integer in 1..2"),
        (["predict", *PROBLEM, "--depth", "1"], "depth N must be an integer >= 2"),
        (["predict", *PROBLEM, "--spectrum", "1,-2"], "must be nonnegative"),
        (["predict", *PROBLEM, "--spectrum", "1,,2"], "comma-separated numbers"),
        (["predict", *PROBLEM, "--eps", "1.5"], "eps must be in (0, 1)"),
        (["predict", *PROBLEM, "--noise", "-1"], "noise must be >= 0"),
        (["simulate", *PROBLEM, "--max-steps", "0"], "--max-steps must be >= 1"),
    ],
)
def test_bad_input_exits_two_with_one_line(capsys, argv, fragment):
    code, out, err = run_cli(capsys, *argv)
    assert code == 2
    one_line_error(err, fragment)


def _problem_without_spectrum():
    i = PROBLEM.index("--spectrum")
    return PROBLEM[:i] + PROBLEM[i + 2:]


@pytest.mark.parametrize(
    "content, name, fragment",
    [
        ("[[1, 2], [0, 1]]", "t.json", "symmetric"),
        ("[[1, 0], [0, -1]]", "t.json", "positive semidefinite"),
        ("[[1, 0], [0]]", "t.json", "ragged"),
        ("1,0\n0,abc\n", "t.csv", "non-numeric"),
        ("not json", "t.json", "t.json"),
        ("1,0\n0,1\n", "t.txt", "extension"),
    ],
)
def test_bad_target_files_exit_two_with_one_line(capsys, tmp_path, content, name, fragment):
    path = tmp_path / name
    path.write_text(content)
    code, _, err = run_cli(capsys, "predict", *_problem_without_spectrum(), "--target", str(path))
    assert code == 2
    one_line_error(err, fragment)


def test_missing_file_exits_two_with_one_line(capsys, tmp_path):
    code, _, err = run_cli(capsys, "predict", *_problem_without_spectrum(),
                           "--target", str(tmp_path / "absent.npy"))
    assert code == 2
    one_line_error(err, "absent.npy")


def test_unwritable_report_path_exits_two(capsys, tmp_path):
    code, _, err = run_cli(capsys, "run", "--profile", "quick", "--claim", "K3",
                           "--json", str(tmp_path / "no" / "such" / "dir.json"), "--no-progress")
    assert code == 2
    one_line_error(err, "cannot write")
