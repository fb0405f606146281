"""The `dmf-verify` command: exit codes, one-line errors, reports, predict vs simulate."""

import json
import subprocess
import sys

import numpy as np
import pytest

from verify.cli import main
from fake_tty import FakeTTY

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


@pytest.mark.parametrize("extra", [[], ["--noise", "0.05"], ["--noise", "0.03", "--noise-kind",
                                                               "random", "--seed", "2"]])
def test_linalg_float64_gives_the_same_decisions(capsys, extra):
    out = {}
    for linalg in ("mpmath", "float64"):
        _, text, _ = run_cli(capsys, "predict", *PROBLEM, *extra, "--json", "--linalg", linalg)
        pred = json.loads(text)
        _, text, _ = run_cli(capsys, "simulate", *PROBLEM, *extra, "--json", "--linalg", linalg,
                             "--max-steps", "3000")
        out[linalg] = (pred, json.loads(text))
    (pm, sm), (pf, sf) = out["mpmath"], out["float64"]
    for key in ("T0_upper", "T1_lower", "nonempty_predicted", "hypotheses", "eigenvalues_Y"):
        assert pm[key] == pf[key], key
    for key in ("status", "T0", "T1", "nonempty", "hitting_times", "steps", "divergence_step"):
        assert sm[key] == sf[key], key
    assert sf["precision"]["iterates"].startswith("float64")
    assert sm["precision"]["iterates"].startswith("dps 50")


def test_predict_text_output_names_the_precision_of_each_number(capsys):
    code, out, _ = run_cli(capsys, "predict", *PROBLEM, "--noise", "0.03", "--noise-kind", "random",
                           "--linalg", "float64")
    assert code == 0
    assert "  precision eigenvalues_Y: float64 (LAPACK eigh) with a rigorous enclosure" in out
    assert "  precision eigenvalues_W: exact: known from the inputs at dps 50" in out


def test_float64_full_matrix_is_refused_above_its_size(capsys):
    code, _, err = run_cli(capsys, "simulate", *PROBLEM[:6], "--spectrum", ",".join(["1"] * 501),
                           "--rank", "1", "--full-matrix", "--max-steps", "10")
    assert code == 2
    one_line_error(err, "the float64 iteration is for n <= 500")


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
        (["predict", *PROBLEM, "--rank", "0"], "argument --rank: must be >= 1, got 0"),
        (["predict", *PROBLEM, "--depth", "1"], "argument --depth: must be >= 2, got 1"),
        (["predict", *PROBLEM, "--spectrum", "1,-2"], "must be nonnegative"),
        (["predict", *PROBLEM, "--spectrum", "1,,2"], "comma-separated numbers"),
        (["predict", *PROBLEM, "--eps", "1.5"], "eps must be in (0, 1)"),
        (["predict", *PROBLEM, "--noise", "-1"], "noise must be >= 0"),
        (["simulate", *PROBLEM, "--max-steps", "0"], "argument --max-steps: must be >= 1"),
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
    from verify.volume.recheck import recheck

    # the high-precision verdict, re-decided by the certified engine (as the command does)
    (expected,), disagreement = recheck("K2", [check("K2", dict(K2_INSTANCE))])
    assert not disagreement
    assert data == json.loads(json.dumps(expected.as_dict()))
    assert data["instance"] == K2_INSTANCE


def _no_recheck(monkeypatch):
    """The fake checks below return verdicts for instances the certified engine cannot read:
    leave the recheck out (test_check_is_a_fail_when_the_two_engines_disagree covers it)."""
    import verify.volume.recheck as rc

    monkeypatch.setattr(rc, "recheck", lambda cid, outs: (list(outs), ()))


def test_check_reads_the_instance_from_a_file(capsys, tmp_path):
    path = tmp_path / "inst.json"
    path.write_text(json.dumps(K2_INSTANCE))
    code, out, _ = run_cli(capsys, "check", "K2", "--instance", f"@{path}", "--dps", "30", "--json")
    assert code == 0 and json.loads(out)["dps"] == 30


def test_check_does_not_mutate_the_instance(capsys, monkeypatch):
    from verify import checks

    _no_recheck(monkeypatch)

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

    _no_recheck(monkeypatch)

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


# ---------------------------------------------------------------------------------------
# the issue's cases: every one is a one-line error (exit 2) before any work, or an
# honestly labelled result


def _no_work(monkeypatch):
    """Make any real work fail loudly: a refusal must come before it."""
    from verify import cli, explore

    def boom(*a, **k):
        raise AssertionError("work started before the input was refused")

    monkeypatch.setattr(cli, "_claim_row", boom)
    monkeypatch.setattr(cli, "_volume_task", boom)
    monkeypatch.setattr(explore, "psd_target", boom)
    monkeypatch.setattr(explore, "simulate_reduced", boom)


LONG_SPECTRUM = ",".join(["1"] + ["0.5"] * 19999)


@pytest.mark.parametrize(
    "argv, fragment",
    [
        # numbers: plain decimal or scientific only, finite, in range
        (["predict", *PROBLEM, "--alpha", "1/0"], "argument --alpha: expected a number"),
        (["simulate", *PROBLEM, "--eta", "3/0"], "argument --eta: expected a number"),
        (["predict", *PROBLEM, "--theta", "0/0"], "argument --theta: expected a number"),
        (["predict", *PROBLEM, "--spectrum", "1,1/0"], "argument --spectrum: expected a number"),
        (["predict", *PROBLEM, "--noise", "1/3"], "argument --noise: expected a number"),
        (["predict", *PROBLEM, "--alpha", "0.0_5"], "argument --alpha: expected a number"),
        (["predict", *PROBLEM, "--depth", "1_0"], "argument --depth: expected an integer"),
        (["predict", *PROBLEM, "--alpha", "inf"], "argument --alpha: expected a number"),
        (["predict", *PROBLEM, "--alpha", "0x10"], "argument --alpha: expected a number"),
        (["predict", *PROBLEM, "--spectrum", "1e300,1"], "1e300 is out of range"),
        (["simulate", *PROBLEM, "--spectrum", "1e300,1"], "1e300 is out of range"),
        (["predict", *PROBLEM, "--eta", "1e-200"], "1e-200 is out of range"),
        (["predict", *PROBLEM, "--alpha", "1e999999999999"], "out of range"),
        # a spectrum whose small values the target matrix cannot hold at this precision
        (["predict", *PROBLEM, "--spectrum", "1e90,1"], "spectrum value 1.0 is lost next to 1.0e+90 at dps 50"),
        (["predict", *PROBLEM, "--spectrum", "1e90,1"], "raise --dps to 105"),
        (["predict", *PROBLEM, "--spectrum", "1e-99,1e99"], "raise --dps to 213"),
        # caps: depth, n, steps, dps, memory, with the reason and the flag that raises them
        (["predict", *PROBLEM, "--depth", "3000"], "argument --depth: must be <= 1000, got 3000"),
        (["simulate", *PROBLEM, "--depth", "1000000"], "argument --depth: must be <= 1000"),
        (["simulate", *PROBLEM, "--max-steps", "1e12"], "1000000000000 steps of 3 eigenvalues"),
        (["simulate", *PROBLEM, "--max-steps", "1000000000000"], "raise it with --max-seconds"),
        (["simulate", *PROBLEM, "--max-steps", "1.5e-3"], "argument --max-steps: expected an integer"),
        (["simulate", *PROBLEM, "--max-steps", "10.5"], "expected an integer, got '10.5'"),
        (["simulate", *PROBLEM, "--full-matrix", "--max-steps", "1e8"], "simulate --full-matrix: 100000000 steps"),
        (["simulate", *PROBLEM, "--max-steps", "1e7", "--max-seconds", "1"], "above the limit of 1 s"),
        (["predict", *PROBLEM, "--spectrum", LONG_SPECTRUM], "setting up a 20000x20000 problem"),
        (["predict", *PROBLEM, "--spectrum", "1," * 399 + "1", "--max-memory", "1"], "raise it with --max-memory"),
        (["predict", *PROBLEM, "--dps", "300"], "digits must be in 15..250"),
        (["predict", *PROBLEM, "--tol", "0.5"], "argument --tol: must be in [0, 1e-3]"),
        (["predict", *PROBLEM, "--tol", "1/0"], "argument --tol"),
        (["predict", *PROBLEM, "--max-seconds", "0"], "argument --max-seconds: must be > 0"),
        (["predict", *PROBLEM, "--seed", "1e30"], "argument --seed: must be <="),
        (["run", "--volume", "1e9"], "argument --volume: must be <= 1000000"),
        # precision order, report paths: refused before the run
        (["run", "--max-dps", "40", "--dps", "50"], "--max-dps 40 is below --dps 50"),
        (["check", "K2", "--instance", "{}", "--dps", "60", "--max-dps", "50"], "--max-dps 50 is below --dps 60"),
        (["run", "--json", "-", "--markdown", "-"], "only one of --json, --markdown and --junit can be '-'"),
        (["run", "--json", "/no/such/dir/r.json"], "cannot write --json /no/such/dir/r.json: no directory"),
        (["run", "--markdown", "/no/such/dir/r.md"], "cannot write --markdown /no/such/dir/r.md"),
        (["run", "--markdown", "/"], "it is a directory"),
        (["figures", "--out", "-"], "--out needs a directory"),
    ],
)
def test_issue_bad_input_is_one_line_exit_two_before_any_work(capsys, monkeypatch, argv, fragment):
    _no_work(monkeypatch)
    code, out, err = run_cli(capsys, *argv)
    assert code == 2 and out == ""
    one_line_error(err, fragment)


@pytest.mark.parametrize("kind", ["file", "unwritable"])
def test_figures_out_on_a_file_or_unwritable_path_exits_two(capsys, tmp_path, kind):
    target = tmp_path / "taken"
    target.write_text("x")
    out = target if kind == "file" else target / "sub"  # below a file: cannot be created
    code, _, err = run_cli(capsys, "figures", "--out", str(out))
    assert code == 2
    one_line_error(err, "--out")
    assert target.read_text() == "x"


def _target_args(path, *extra):
    return ["--depth", "3", "--alpha", "0.05", "--eta", "0.01", "--rank", "1",
            "--target", str(path), *extra, "--json"]


@pytest.mark.parametrize("seed", range(7))
def test_float_low_rank_targets_are_accepted_with_the_clipping_reported(capsys, tmp_path, seed):
    A = np.random.default_rng(seed).standard_normal((4, 2))
    W = A @ A.T  # rank 2: float round-off leaves eigenvalues like -5e-17
    path = tmp_path / "W.npy"
    np.save(path, W)
    W0 = W.copy()
    code, out, err = run_cli(capsys, "predict", *_target_args(path))
    assert code == 0, err
    pred = json.loads(out)
    assert any("clipped to 0" in line for line in pred["adjustments"]), pred["adjustments"]
    assert all(not v.startswith("-") for v in pred["eigenvalues_W"])
    assert np.array_equal(np.load(path), W0)


@pytest.mark.parametrize(
    "fmt", ["npy", "json", "json-strings", "csv"],
)
def test_float_asymmetry_within_tol_is_symmetrized_and_reported(capsys, tmp_path, fmt):
    W = np.diag([1.0, 0.1, 0.05])
    W[0, 1], W[1, 0] = 0.01, 0.01 + 1e-13
    path = tmp_path / f"W.{fmt.split('-')[0]}"
    if fmt == "npy":
        np.save(path, W)
    elif fmt == "json":
        path.write_text(json.dumps(W.tolist()))
    elif fmt == "json-strings":  # decimal strings: the same tolerance (it was 1e-45)
        path.write_text(json.dumps([[repr(x) for x in row] for row in W.tolist()]))
    else:
        path.write_text("\n".join(",".join(repr(x) for x in row) for row in W.tolist()))
    code, out, err = run_cli(capsys, "predict", *_target_args(path))
    assert code == 0, err
    assert any("symmetrized" in line for line in json.loads(out)["adjustments"])
    # a tighter --tol refuses the same file, naming the entries
    code, _, err = run_cli(capsys, "predict", *_target_args(path, "--tol", "1e-14"))
    assert code == 2
    one_line_error(err, "not symmetric: entry (0,1) = 0.01 but (1,0) = 0.01")


@pytest.mark.parametrize(
    "matrix, fragment",
    [
        ([[1.0, 0.01, 0], [0.02, 0.1, 0], [0, 0, 0.05]], "not symmetric: entry (0,1) = 0.01 but (1,0) = 0.02"),
        ([[1.0, 0, 0], [0, 0.1, 0], [0, 0, -0.01]], "not positive semidefinite: eigenvalue s_3 = -0.01"),
        ([[1e300, 0, 0], [0, 1, 0], [0, 0, 1]], "entry (0,0) = 1.0e+300 is out of range"),
    ],
)
def test_matrices_beyond_the_tolerance_are_one_line_errors(capsys, tmp_path, matrix, fragment):
    path = tmp_path / "W.npy"
    np.save(path, np.array(matrix))
    code, _, err = run_cli(capsys, "predict", *_target_args(path))
    assert code == 2
    one_line_error(err, fragment)


def _simulate(capsys, *argv):
    code, out, err = run_cli(capsys, "simulate", *argv, "--json")
    assert code == 0, err
    return json.loads(out)


TIE = ["--depth", "3", "--alpha", "0.05", "--eta", "0.3", "--spectrum", "1,0.5,0.05", "--rank",
       "1", "--eps", "0.5", "--dps", "30"]  # default theta = eps s_1 = 0.5 = s_2: a tie


@pytest.mark.parametrize("engine", [[], ["--full-matrix"]])
@pytest.mark.parametrize(
    "case, argv, expect",
    [
        ("diverged eta 5", [*PROBLEM[:4], "--eta", "5", *PROBLEM[6:], "--max-steps", "200"],
         dict(status="diverged", T0=None, T1=None, nonempty=None, divergence_step=8,
              divergence_lane=1, steps=8, hitting_times=[7, None, None], limit_error=None)),
        ("diverged eta 50", [*PROBLEM[:4], "--eta", "50", *PROBLEM[6:], "--max-steps", "200"],
         dict(status="diverged", T0=None, T1=None, nonempty=None, divergence_step=3,
              divergence_lane=1)),
        ("censored at 500", [*PROBLEM, "--max-steps", "500", "--dps", "30"],
         dict(status="censored", T0=102, T1=">= 500", nonempty=True,
              hitting_times=[102, "> 500", "> 500"], steps=500, diverged=False)),
        ("censored T0", [*PROBLEM, "--max-steps", "50", "--dps", "30"],
         dict(status="censored", T0="> 50", T1=">= 50", nonempty=None)),
        ("ok", [*PROBLEM, "--max-steps", "2000", "--dps", "30"],
         dict(status="ok", reason=None, T0=102, T1=909, nonempty=True,
              hitting_times=[102, 997, 1990], decided=True)),
        ("tie theta = s_2", [*TIE, "--max-steps", "400"],
         dict(status="undecided", T0=67, T1=None, nonempty=True, decided=False)),
    ],
)
def test_simulate_reports_divergence_censoring_and_ties_honestly(capsys, case, argv, expect, engine):
    sim = _simulate(capsys, *argv, *engine)
    for key, value in expect.items():
        assert sim[key] == value, (key, sim)
    assert all(h is None or isinstance(h, str) or h <= sim["steps"] for h in sim["hitting_times"])
    if sim["status"] != "ok":
        assert sim["reason"]
    if case.startswith("tie"):
        assert "tie: theta = s_2 = 0.5 exactly (the default theta = eps * s_r)" in sim["reason"]


def test_censored_t1_is_a_true_lower_bound():
    from verify.explore import make_setting, simulate

    st = make_setting(depth=3, alpha="0.05", eta="0.2", spectrum=["1", "0.1", "0.05"], rank=1,
                      eps="0.1", theta="0.05", dps=30)
    short, full = simulate(st, max_steps=500), simulate(st, max_steps=3000)
    assert short["T1"] == ">= 500" and full["T1"] == 909 >= 500


@pytest.mark.parametrize("dps, steps", [("50", "2000"), ("100", "10000"), ("200", "20000")])
def test_the_default_theta_tie_is_named_at_every_precision(capsys, dps, steps):
    # the old docs example: theta = eps * s_1 = 0.1 = s_2 exactly; no --dps decides it
    sim = _simulate(capsys, "--depth", "3", "--alpha", "0.05", "--eta", "0.8", "--spectrum",
                    "1,0.1,0.05", "--rank", "1", "--max-steps", steps, "--dps", dps)
    assert sim["status"] == "undecided" and sim["T1"] is None
    assert "tie: theta = s_2 = 0.1 exactly" in sim["reason"] and "--theta" in sim["reason"]


@pytest.mark.parametrize(
    "argv",
    [
        [*PROBLEM[:4], "--eta", "5", *PROBLEM[6:], "--max-steps", "200"],       # diverged
        [*PROBLEM[:4], "--eta", "50", *PROBLEM[6:], "--max-steps", "200"],      # diverged at once
        [*PROBLEM, "--max-steps", "500"],                                       # censored
        [*PROBLEM, "--max-steps", "1200"],                                      # ok, one censored lane
        [*TIE, "--max-steps", "400"],                                           # tie: undecided
        [*TIE, "--max-steps", "200"],                                           # tie, censored
        ["--depth", "2", "--alpha", "0.1", "--eta", "0.3", "--spectrum", "1,0.2,0.05", "--rank",
         "1", "--theta", "0.1", "--noise", "0.03", "--noise-kind", "random", "--seed", "4",
         "--max-steps", "150"],                                                 # random noise
        [*PROBLEM, "--noise", "0.05", "--max-steps", "700"],                    # Weyl-extremal noise
    ],
)
def test_reduced_and_full_matrix_agree_on_every_field(capsys, argv):
    reduced = _simulate(capsys, *argv, "--dps", "30")
    full = _simulate(capsys, *argv, "--dps", "30", "--full-matrix")
    assert (reduced.pop("engine"), full.pop("engine")) == ("reduced", "full-matrix")
    assert reduced == full


def test_markdown_dash_goes_to_stdout_and_writes_no_file(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, _ = run_cli(capsys, "run", "--profile", "quick", "--claim", "K3", "--volume", "0",
                           "--markdown", "-", "--no-progress")
    assert code == 0 and "| K3 |" in out and not (tmp_path / "-").exists()
    assert "checks and" not in out  # the report, not the table


def test_a_report_that_cannot_be_written_at_the_end_keeps_the_table(capsys, tmp_path, monkeypatch):
    from verify import cli

    real = cli._write

    def fail(path, text):
        if path.endswith(".json"):
            raise UsageError(f"cannot write {path}: No space left on device")
        real(path, text)

    from verify.cli import UsageError

    monkeypatch.setattr(cli, "_write", fail)
    code, out, err = run_cli(capsys, "run", "--profile", "quick", "--claim", "K3", "--volume", "0",
                             "--json", str(tmp_path / "r.json"), "--no-progress")
    assert code == 2 and "\nK3 " in out
    one_line_error(err, "No space left")


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_interrupt_during_run_writes_the_partial_report(capsys, tmp_path, monkeypatch, jobs):
    from verify import cli

    real = cli._claim_row

    def row(cid, opts):
        if cid == "S2":  # Ctrl-C while S2 is checked
            raise KeyboardInterrupt
        return real(cid, opts)

    monkeypatch.setattr(cli, "_claim_row", row)
    js, md = tmp_path / "r.json", tmp_path / "r.md"
    argv = ["run", "--profile", "quick", "--claim", "R1", "--claim", "S1", "--claim", "S2",
            "--claim", "K3", "--volume", "0", "-j", "1", "--json", str(js), "--markdown", str(md),
            "--no-progress"]
    if jobs == "2":  # in the pool the interrupt reaches the main process while it waits
        import concurrent.futures as cf

        real_result = cf.Future.result
        calls = []

        def result(self, timeout=None):
            calls.append(1)
            if len(calls) == 3:
                raise KeyboardInterrupt
            return real_result(self, timeout)

        monkeypatch.setattr(cli, "_claim_row", real)
        monkeypatch.setattr(cf.Future, "result", result)
        argv[argv.index("-j") + 1] = "2"
    code, out, err = run_cli(capsys, *argv)
    assert code == 130
    data = json.loads(js.read_text())
    assert data["meta"]["partial"] is True and data["meta"]["interrupted"] == "SIGINT"
    done = [c["id"] for c in data["claims"]]
    assert done == data["meta"]["claims_done"]
    assert set(done) | set(data["meta"]["claims_not_done"]) == {"R1", "S1", "S2", "K3"}
    if jobs == "1":  # (in the pool, tasks that finished meanwhile are kept as well)
        assert done == ["R1", "S1"] and data["meta"]["claims_not_done"] == ["S2", "K3"]
    assert "PARTIAL report" in md.read_text() and "PARTIAL report" in out
    assert "partial report written to" in err


def test_sigint_to_a_running_run_process_writes_the_partial_report(tmp_path):
    import signal
    import time

    js = tmp_path / "r.json"
    proc = subprocess.Popen([sys.executable, "-m", "verify", "run", "--profile", "default",
                             "--volume", "0", "-j", "2", "--json", str(js)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(8)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    data = json.loads(js.read_text())
    assert data["meta"]["partial"] is True
    assert data["meta"]["claims_not_done"]


# ---------------------------------------------------------------------------------------
# discoverable: list, help with defaults and exit codes, progress


def test_list_names_every_claim_with_hypotheses_and_docs(capsys):
    from bounds import claim_ids, get_claim

    code, out, _ = run_cli(capsys, "list")
    assert code == 0
    for cid in claim_ids():
        line = next(line for line in out.splitlines() if line.startswith(f"{cid} "))
        c = get_claim(cid)
        assert c.name in line and c.docs in line
        assert all(h.name in line for h in c.hypotheses)
    code, out, _ = run_cli(capsys, "list", "--json")
    data = json.loads(out)
    assert [c["id"] for c in data] == list(claim_ids())
    import pathlib

    theory = (pathlib.Path(__file__).parents[1] / "docs" / "theory.md").read_text()
    for c in data:
        assert set(c) >= {"id", "name", "statement", "hypotheses", "docs", "checked"}
        assert c["docs"].startswith("docs/theory.md#") and c["checked"]
        anchor = c["docs"].split("#")[1]
        assert f'id="{anchor}"' in theory or f"#{anchor}" in theory.lower() or anchor in theory.lower()


def _subparsers():
    import argparse

    from verify.cli import build_parser

    p = build_parser()
    action = next(a for a in p._actions if isinstance(a, argparse._SubParsersAction))
    return p, action.choices


def test_every_flag_has_help_and_shows_its_default(capsys):
    import argparse

    p, subs = _subparsers()
    assert set(subs) == {"run", "check", "list", "predict", "simulate", "figures", "sweep",
                         "sweep-plot", "explore"}
    subs = dict(subs)
    studies = next(a for a in subs["explore"]._actions
                   if isinstance(a, argparse._SubParsersAction)).choices
    assert set(studies) == {"momentum", "init", "nonsymmetric", "adam", "realdata"}
    subs.update({f"explore {k}": v for k, v in studies.items()})
    for name, sp in subs.items():
        text = sp.format_help()
        for action in sp._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            assert action.help, (name, action.dest)
            if action.default is not None and action.default is not False and action.option_strings:
                assert f"(default: {action.default})" in " ".join(text.split()), (name, action.dest)
            elif action.option_strings and not action.required and action.default is None:
                assert "default" in action.help or "(or --" in action.help, (name, action.dest)


@pytest.mark.parametrize("argv", [["--help"], ["run", "--help"], ["simulate", "--help"],
                                  ["check", "--help"], ["list", "--help"], ["sweep", "--help"],
                                  ["sweep-plot", "--help"], ["explore", "--help"],
                                  ["explore", "momentum", "--help"]])
def test_help_lists_the_exit_codes(capsys, argv):
    from verify.cli import build_parser

    with pytest.raises(SystemExit) as exc:
        build_parser().parse_args(argv)
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert "exit codes:" in out
    for code in ("0 ", "1 ", "2 ", "3 ", "4 ", "130"):
        assert f"\n  {code}" in out


@pytest.mark.parametrize("command, argv", [
    ("simulate", [*PROBLEM, "--max-steps", "300000", "--json"]),
    ("simulate", [*PROBLEM, "--max-steps", "300", "--full-matrix", "--json", "--dps", "20"]),
])
def test_progress_bar_on_a_terminal_and_not_with_no_progress(monkeypatch, capsys, command, argv):
    tty = FakeTTY()
    monkeypatch.setattr(sys, "stderr", tty)
    assert main([command, *argv]) == 0
    drawn = "".join(tty.parts)
    assert "%" in drawn and "simulate" in drawn and drawn.endswith("\n")
    tty.parts.clear()
    assert main([command, *argv, "--no-progress"]) == 0
    assert tty.parts == []
    capsys.readouterr()


def test_no_progress_when_stderr_is_not_a_terminal(capsys):
    code, _, err = run_cli(capsys, "simulate", *PROBLEM, "--max-steps", "300000", "--json")
    assert code == 0 and err == ""


def test_figures_progress_bar_follows_the_figures(monkeypatch, tmp_path):
    import verify.figures as figures

    def fake(out_dir, *, dps=30, progress=None):
        for i in range(4):
            progress(i, 4, f"fig{i}")
        progress(4, 4, "figures")
        return []

    monkeypatch.setattr(figures, "make_all", fake)
    tty = FakeTTY()
    monkeypatch.setattr(sys, "stderr", tty)
    assert main(["figures", "--out", str(tmp_path / "figs")]) == 0
    drawn = "".join(tty.parts)
    assert "100.0% figures" in drawn and (tmp_path / "figs").is_dir()


def test_a_long_command_without_a_total_shows_its_elapsed_time(monkeypatch, capsys):
    import time

    from verify import checks

    def slow(inst, dps):
        time.sleep(2.7)
        return checks.Outcome("K2", checks.PASS, 1.0, dps, dict(inst))

    monkeypatch.setitem(checks._CHECKS, "K2", slow)
    _no_recheck(monkeypatch)
    tty = FakeTTY()
    monkeypatch.setattr(sys, "stderr", tty)
    assert main(["check", "K2", "--instance", json.dumps(K2_INSTANCE)]) == 0
    assert "check K2:" in "".join(tty.parts)
    capsys.readouterr()


def _example_claims(monkeypatch):
    """The claims of examples/user_claim as if its package were installed."""
    import pathlib

    import verify.userclaims as uc

    monkeypatch.syspath_prepend(str(pathlib.Path(__file__).parents[1] / "examples" / "user_claim"))
    from user_claim.claims import CLAIMS

    monkeypatch.setattr(uc, "load_plugin_claims", lambda: tuple(CLAIMS))
    return CLAIMS


def test_run_and_list_pick_up_installed_user_claims(capsys, monkeypatch):
    claims = _example_claims(monkeypatch)
    ids = [c.id for c in claims]
    code, out, _ = run_cli(capsys, "list")
    assert code == 0 and all(i in out for i in ids) and "user claims" in out
    code, out, _ = run_cli(capsys, "list", "--json")
    assert {c["id"] for c in json.loads(out) if c.get("user_claim")} == set(ids)
    true_id = next(i for i in ids if not i.endswith("tight"))
    code, out, _ = run_cli(capsys, "run", "--profile", "quick", "--claim", true_id, "--no-progress")
    assert code == 0 and true_id in out
    false_id = next(i for i in ids if i.endswith("tight"))
    code, out, _ = run_cli(capsys, "run", "--profile", "quick", "--claim", false_id, "--no-progress")
    assert code == 1 and false_id in out and "FAIL" in out


# ---------------------------------------------------------------------------------------
# run --junit: one testcase per claim x instance batch, counts as in the JSON report


def _junit_expected(data):
    """(tests, failures, errors, skipped) and per-testcase kinds from the JSON report of the
    same run: FAIL and LOOSE are failures, UNDECIDED errors, N/A skipped."""
    kind = {"FAIL": "failure", "LOOSE": "failure", "UNDECIDED": "error", "N/A": "skipped",
            "PASS": None}
    cases = {}
    for c in data["claims"]:
        if c["failed"] or c["audit"]:
            checked = "FAIL"
        elif c["undecided"]:
            checked = "UNDECIDED"
        elif c["passed"] and any(not w["reached"] for w in c["witnesses"]):
            checked = "LOOSE"
        else:
            checked = "PASS" if c["passed"] else "N/A"
        cases[f"{c['id']} checked instances"] = kind[checked]
        if c["volume"]:
            cases[f"{c['id']} certified volume"] = kind[c["volume"]["status"]]
    counts = {"tests": len(cases)}
    for k, plural in (("failure", "failures"), ("error", "errors"), ("skipped", "skipped")):
        counts[plural] = sum(v == k for v in cases.values())
    return counts, cases


def _junit_parsed(text):
    import xml.etree.ElementTree as ET

    root = ET.fromstring(text)
    assert root.tag == "testsuites"
    cases = {}
    for suite in root.findall("testsuite"):
        tcs = suite.findall("testcase")
        for k in ("tests", "failures", "errors", "skipped"):  # every suite carries its counts
            n = len(tcs) if k == "tests" else sum(
                tc.find({"failures": "failure", "errors": "error"}.get(k, k)) is not None for tc in tcs)
            assert suite.get(k) == str(n), (suite.get("name"), k)
        for tc in tcs:
            assert tc.get("classname").startswith("dmf-verify.") and tc.get("name")
            kinds = [e.tag for e in tc if e.tag in ("failure", "error", "skipped")]
            assert len(kinds) <= 1
            cases[tc.get("name")] = (kinds[0] if kinds else None, tc)
    counts = {k: int(root.get(k)) for k in ("tests", "failures", "errors", "skipped")}
    return counts, cases, root


def _junit_run(capsys, tmp_path, *argv):
    js, xml = tmp_path / "r.json", tmp_path / "r.xml"
    code, out, err = run_cli(capsys, "run", "--profile", "quick", *argv, "--no-progress",
                             "--json", str(js), "--junit", str(xml))
    data = json.loads(js.read_text())
    counts, cases, root = _junit_parsed(xml.read_text())
    want, kinds = _junit_expected(data)
    assert counts == want
    assert {name: kind for name, (kind, _) in cases.items()} == kinds
    return code, out, data, cases, root


def test_junit_counts_match_the_json_report_of_the_same_run(capsys, tmp_path):
    code, _, data, cases, root = _junit_run(capsys, tmp_path, "--claim", "K2", "--claim", "L2",
                                            "--claim", "L3", "--volume", "40")
    assert code == 0
    assert sorted(cases) == sorted(f"{c} {b}" for c in ("K2", "L2", "L3")
                                   for b in ("checked instances", "certified volume"))
    assert root.get("tests") == "6" and root.get("failures") == "0" and "time" not in root.attrib
    _, k2 = cases["K2 checked instances"]
    assert "instances" in k2.find("system-out").text
    props = {p.get("name"): p.get("value") for p in root.find("testsuite").find("properties")}
    assert props["seed"] == "0" and props["profile"] == "quick"
    # --junit - prints the XML on stdout instead of the table; same seed, same bytes
    code, out, _ = run_cli(capsys, "run", "--profile", "quick", "--claim", "K2", "--claim", "L2",
                           "--claim", "L3", "--volume", "40", "--no-progress", "--junit", "-")
    assert code == 0 and out == (tmp_path / "r.xml").read_text()


def test_junit_failure_carries_the_worst_instance_as_a_command_that_fails_again(capsys, monkeypatch, tmp_path):
    import shlex

    from verify import checks

    monkeypatch.setitem(checks._CHECKS, "K2", _fail_above(0.1))
    code, _, data, cases, root = _junit_run(capsys, tmp_path, "--claim", "K2", "--claim", "K3",
                                            "--volume", "0", "--no-shrink")
    assert code == 1 and root.get("failures") == "1" and root.get("tests") == "2"
    kind, tc = cases["K2 checked instances"]
    failure = tc.find("failure")
    assert kind == "failure" and failure.get("type") == "FAIL"
    assert failure.get("message").startswith(f"K2: {data['claims'][0]['failed']} of ")
    lines = failure.text.splitlines()
    worst = lines[lines.index("worst instance (re-run it):") + 1].strip()
    claim = data["claims"][0]
    assert worst == shlex.join(["dmf-verify", "check", "K2", "--instance",
                                json.dumps(claim["worst_instance"], sort_keys=True), "--dps",
                                str(claim["dps"])])
    argv = shlex.split(worst)
    again, out, _ = run_cli(capsys, *argv[1:], "--json")
    assert again == 1 and json.loads(out)["slack"] == claim["min_slack"]
    for rec in claim["counterexamples"]:
        assert rec["command"] in failure.text
    assert cases["K3 checked instances"][0] is None


def test_junit_undecided_is_an_error_and_n_a_is_skipped(capsys, monkeypatch, tmp_path):
    import dataclasses

    import verify.volume as vol
    from verify import checks
    from verify.volume.common import Decision

    monkeypatch.setitem(checks._CHECKS, "K2", lambda inst, dps: checks.Outcome(
        "K2", checks.UNDECIDED, None, dps, dict(inst)))
    _no_recheck(monkeypatch)
    abstain = dataclasses.replace(vol.VOLUME["K2"], decide=lambda insts: [
        Decision("UNDECIDED", False, method="undecided") for _ in insts])
    # K1's volume: every instance outside the hypotheses (N/A: nothing decided)
    outside = dataclasses.replace(vol.VOLUME["K1"], decide=lambda insts: [
        Decision("N/A", False, method="exact") for _ in insts])
    monkeypatch.setattr(vol, "VOLUME", {**vol.VOLUME, "K2": abstain, "K1": outside})
    code, _, data, cases, root = _junit_run(capsys, tmp_path, "--claim", "K1", "--claim", "K2",
                                            "--volume", "20")
    assert code == 3
    assert cases["K2 checked instances"][0] == "error" and cases["K2 certified volume"][0] == "error"
    err = cases["K2 certified volume"][1].find("error")
    assert err.get("type") == "UNDECIDED" and "dmf-verify check K2 --instance" in err.text
    assert cases["K1 certified volume"][0] == "skipped" and cases["K1 checked instances"][0] is None
    assert (root.get("errors"), root.get("skipped"), root.get("failures")) == ("2", "1", "0")


def test_junit_of_an_interrupted_run_lists_what_did_not_run_as_skipped(capsys, tmp_path, monkeypatch):
    import xml.etree.ElementTree as ET

    from verify import cli

    real = cli._claim_row

    def row(cid, opts):
        if cid == "S2":
            raise KeyboardInterrupt
        return real(cid, opts)

    monkeypatch.setattr(cli, "_claim_row", row)
    xml = tmp_path / "r.xml"
    code, _, err = run_cli(capsys, "run", "--profile", "quick", "--claim", "S1", "--claim", "S2",
                           "--claim", "K3", "--volume", "0", "-j", "1", "--junit", str(xml),
                           "--no-progress")
    assert code == 130 and str(xml) in err
    root = ET.fromstring(xml.read_text())
    names = {tc.get("name"): tc for tc in root.iter("testcase")}
    assert set(names) == {"S1 checked instances", "S2 checked instances", "K3 checked instances"}
    assert names["S2 checked instances"].find("skipped").get("message").startswith("not run")
    assert root.get("skipped") == "2"


def test_junit_path_is_checked_before_the_run(capsys, tmp_path):
    code, _, err = run_cli(capsys, "run", "--junit", "/no/such/dir/r.xml")
    assert code == 2
    one_line_error(err, "cannot write --junit /no/such/dir/r.xml: no directory /no/such/dir")
    code, _, err = run_cli(capsys, "run", "--junit", "-", "--json", "-")
    assert code == 2
    one_line_error(err, "only one of --json, --markdown and --junit can be '-'")


def test_the_example_workflow_runs_a_valid_command_and_publishes_the_reports():
    import pathlib
    import shlex

    import yaml  # PyYAML (the test extra)

    from verify.cli import build_parser

    wf = yaml.safe_load((pathlib.Path(__file__).parents[1] / ".github" / "workflows" / "verify.yml").read_text())
    steps = wf["jobs"]["verify"]["steps"]
    run = next(s for s in steps if "dmf-verify run" in s.get("run", ""))
    argv = shlex.split(run["run"].replace("${{ github.run_number }}", "7"))
    args = build_parser().parse_args(argv[1:])
    assert (args.json, args.markdown, args.junit, args.seed) == ("report.json", "report.md", "report.xml", 7)
    summary = next(s for s in steps if "GITHUB_STEP_SUMMARY" in s.get("run", ""))
    assert summary["if"] == "always()" and "cat report.md" in summary["run"]
    upload = next(s for s in steps if s.get("uses", "").startswith("actions/upload-artifact"))
    assert upload["if"] == "always()" and "report.xml" in upload["with"]["path"]
