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
        # 3 sampled instances (quick) and the claim's hard corners, in every profile
        from verify.specs import corners

        assert c["seed"] == 5 and c["corners"] == len(corners(c["id"])) > 0
        assert c["instances"] == 3 + c["corners"]
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
    # the certified engine, which would otherwise decide these instances, abstains as well
    import dataclasses

    import verify.volume as vol
    from verify.volume.common import Decision

    abstain = dataclasses.replace(vol.VOLUME["K2"], decide=lambda insts: [
        Decision("UNDECIDED", False, method="undecided") for _ in insts])
    monkeypatch.setattr(vol, "VOLUME", {**vol.VOLUME, "K2": abstain})
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


# ---------------------------------------------------------------------------------------
# check: one claim on one instance, and the repro commands of `run`

K2_INSTANCE = {"depth": 3, "t": 1.0, "alpha": 0.05, "d": 0.5, "eta_fraction": 0.5}


def _fail_above(threshold):
    """A K2 check that FAILs while alpha > threshold (and validates its fields like one)."""
    from verify import checks

    def fake(inst, dps):
        alpha = checks.param(inst, "alpha", gt=0)
        checks.depth_of(inst)
        verdict = checks.FAIL if alpha > threshold else checks.PASS
        return checks.Outcome("K2", verdict, float(threshold - alpha), dps, dict(inst),
                              observed={"alpha": str(alpha)}, predicted={"at_most": str(threshold)})

    return fake


def test_check_runs_one_claim_on_one_instance(capsys):
    inst = json.dumps(K2_INSTANCE)
    code, out, _ = run_cli(capsys, "check", "K2", "--instance", inst)
    assert code == 0
    for key in ("verdict: PASS", "slack: ", "dps: 50", "observed:", "predicted:", "note:"):
        assert key in out
    code, out, _ = run_cli(capsys, "check", "K2", "--instance", inst, "--json")
    data = json.loads(out)
    from verify.checks import check

    assert data == json.loads(json.dumps(check("K2", dict(K2_INSTANCE)).as_dict()))
    assert data["instance"] == K2_INSTANCE


def test_check_reads_the_instance_from_a_file(capsys, tmp_path):
    path = tmp_path / "inst.json"
    path.write_text(json.dumps(K2_INSTANCE))
    code, out, _ = run_cli(capsys, "check", "K2", "--instance", f"@{path}", "--dps", "30", "--json")
    assert code == 0 and json.loads(out)["dps"] == 30


def test_check_does_not_mutate_the_instance(capsys, monkeypatch):
    from verify import checks

    seen = []

    def greedy(inst, dps):
        seen.append(inst)
        inst["alpha"] = -1  # a check that writes into its instance
        return checks.Outcome("K2", checks.PASS, 1.0, dps, {"depth": 3})

    monkeypatch.setitem(checks._CHECKS, "K2", greedy)
    from verify import cli

    parsed = []
    real = cli._read_instance
    monkeypatch.setattr(cli, "_read_instance", lambda text: parsed.append(real(text)) or parsed[-1])
    code, _, _ = run_cli(capsys, "check", "K2", "--instance", json.dumps(K2_INSTANCE))
    assert code == 0 and parsed == [K2_INSTANCE] and seen[0] is not parsed[0]


@pytest.mark.parametrize("verdict, code", [("PASS", 0), ("N/A", 0), ("FAIL", 1), ("UNDECIDED", 3)])
def test_check_exit_codes_follow_the_verdict(capsys, monkeypatch, verdict, code):
    from verify import checks

    dps_seen = []

    def fixed(inst, dps):
        dps_seen.append(dps)
        return checks.Outcome("K2", verdict, None, dps, dict(inst))

    monkeypatch.setitem(checks._CHECKS, "K2", fixed)
    got, out, _ = run_cli(capsys, "check", "K2", "--instance", "{}", "--max-dps", "100")
    assert got == code and f"verdict: {verdict}" in out
    assert dps_seen == ([50, 100] if verdict == "UNDECIDED" else [50])  # the escalation of run


@pytest.mark.parametrize(
    "argv, fragment",
    [
        (["check", "Z9", "--instance", "{}"], "unknown claim ID Z9"),
        (["check", "K2"], "the following arguments are required: --instance"),
        (["check", "K2", "--instance", "{depth: 3}"], "--instance is not valid JSON"),
        (["check", "K2", "--instance", ""], "--instance is not valid JSON"),
        (["check", "K2", "--instance", "[3, 0.5]"], "--instance must be a JSON object, got list"),
        (["check", "K2", "--instance", "3"], "--instance must be a JSON object, got int"),
        (["check", "K2", "--instance", "@/no/such/inst.json"], "cannot read instance file /no/such/inst.json"),
        (["check", "K2", "--instance", "{}"], "instance field 'depth'"),
        (["check", "K2", "--instance", '{"depth": 3}'], "instance lacks the field"),
        (["check", "K2", "--instance", json.dumps({**K2_INSTANCE, "depth": 1})], "'depth' must be an integer >= 2"),
        (["check", "K2", "--instance", json.dumps({**K2_INSTANCE, "alpha": "fast"})], "'alpha'"),
        (["check", "K2", "--instance", json.dumps({**K2_INSTANCE, "t": [1, 2]})], "'t' must be a number"),
        (["check", "K2", "--instance", "{}", "--dps", "5"], "digits must be in 15..250"),
    ],
)
def test_check_bad_input_exits_two_with_one_line(capsys, argv, fragment):
    code, out, err = run_cli(capsys, *argv)
    assert code == 2 and out == ""
    one_line_error(err, fragment)


@pytest.mark.parametrize("content, fragment", [("not json", "is not valid JSON"),
                                               ('["a"]', "must be a JSON object, got list"),
                                               (b"\xff\xfe\x00", "cannot read instance file")])
def test_check_bad_instance_file_exits_two_with_one_line(capsys, tmp_path, content, fragment):
    path = tmp_path / "inst.json"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    code, _, err = run_cli(capsys, "check", "K2", "--instance", f"@{path}")
    assert code == 2
    one_line_error(err, fragment)


def _printed_commands(text):
    return [line.strip() for line in text.splitlines() if line.strip().startswith("dmf-verify check")]


def test_run_prints_repro_commands_that_fail_again(capsys, monkeypatch, tmp_path):
    import shlex

    from verify import checks

    monkeypatch.setitem(checks._CHECKS, "K2", _fail_above(0.1))
    md = tmp_path / "r.md"
    js = tmp_path / "r.json"
    code, out, _ = run_cli(capsys, "run", "--profile", "default", "--claim", "K2", "--no-progress",
                           "--markdown", str(md), "--json", str(js))
    assert code == 1
    report = json.loads(js.read_text())["claims"][0]
    recs = report["counterexamples"]
    assert len(recs) == report["failed"] > 3
    assert sum(r["shrunk"] is not None for r in recs) == 3  # the first three FAILs only
    commands = _printed_commands(out)
    assert commands == [c for r in recs for c in
                        [r["command"]] + ([r["shrunk"]["command"]] if r["shrunk"] else [])]
    assert set(_printed_commands(md.read_text())) == set(commands)
    for cmd in commands:
        argv = shlex.split(cmd)
        assert argv[:3] == ["dmf-verify", "check", "K2"]
        code, again, _ = run_cli(capsys, *argv[1:], "--json")
        assert code == 1 and json.loads(again)["verdict"] == "FAIL"
    for r in recs:  # the command carries the instance exactly
        argv = shlex.split(r["command"])
        assert json.loads(argv[argv.index("--instance") + 1]) == r["instance"]
        if r["shrunk"]:
            small = r["shrunk"]["instance"]
            assert small["depth"] == 2 and small["alpha"] > 0.1
            assert len(repr(small["alpha"])) <= len(repr(r["instance"]["alpha"]))


def test_run_no_shrink_still_prints_the_repro_commands(capsys, monkeypatch):
    from verify import checks

    monkeypatch.setitem(checks._CHECKS, "K2", _fail_above(0.1))
    code, out, _ = run_cli(capsys, "run", "--profile", "quick", "--claim", "K2", "--no-progress",
                           "--no-shrink")
    assert code == 1 and "shrunk" not in out and _printed_commands(out)


def test_run_prints_no_repro_commands_when_everything_passes(capsys):
    code, out, _ = run_cli(capsys, "run", "--profile", "quick", "--claim", "K2", "--no-progress")
    assert code == 0 and not _printed_commands(out) and "Counterexamples" not in out


def test_check_subprocess_repro_of_a_real_instance():
    from verify.sampling import sample_instances
    from verify.shrink import repro_command
    import shlex

    inst = sample_instances("K1", 1, seed=2)[0]
    argv = shlex.split(repro_command("K1", inst, dps=50))
    proc = subprocess.run([sys.executable, "-m", "verify", *argv[1:], "--json"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    from verify.checks import check

    expected = check("K1", inst)
    got = json.loads(proc.stdout)
    assert got["instance"] == inst and got["verdict"] == expected.verdict
    assert got["slack"] == expected.slack


def test_check_reports_whether_the_certified_engine_proved_the_verdict(capsys):
    inst = json.dumps({"depth": 3, "t": 1.0, "eta_fraction": 0.5, "alpha": 0.1, "d": 0.5})
    code, out, _ = run_cli(capsys, "check", "K2", "--instance", inst)
    assert code == 0 and "certified: yes" in out
    code, out, _ = run_cli(capsys, "check", "K2", "--instance", inst, "--json")
    assert code == 0 and json.loads(out)["certified"] is True


def test_check_is_a_fail_when_the_two_engines_disagree(capsys, monkeypatch):
    from verify import checks

    monkeypatch.setitem(checks._CHECKS, "K2", lambda inst, dps: checks.Outcome("K2", checks.PASS, 1.0, dps, dict(inst)))
    # the certified engine (replaced) proves FAIL where the high-precision check says PASS
    import dataclasses

    import verify.volume as vol
    from verify.volume.common import Decision

    fails = dataclasses.replace(vol.VOLUME["K2"], decide=lambda insts: [
        Decision("FAIL", True, -1.0, method="test") for _ in insts])
    monkeypatch.setattr(vol, "VOLUME", {**vol.VOLUME, "K2": fails})
    inst = json.dumps({"depth": 3, "t": 1.0, "eta_fraction": 0.5, "alpha": 0.1, "d": 0.5})
    code, out, _ = run_cli(capsys, "check", "K2", "--instance", inst)
    assert code == 1 and "verdict: FAIL" in out and "certified verdict FAIL" in out
