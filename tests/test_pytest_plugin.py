"""The pytest plugin end to end: the example package's tests run in a separate pytest
(`python -m pytest examples/user_claim -p verify.pytest_plugin`), the pytest11 entry point
loads the plugin by itself, UNDECIDED is an xfail, the summary section, the options.

The example run (the costliest part, about 25 s) is made once per module."""

import json
import os
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "user_claim"


def _pytest(args, *, cwd=ROOT, extra_path=(), timeout=240):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([*map(str, extra_path), str(ROOT), str(EXAMPLE),
                                         env.get("PYTHONPATH", "")])
    env.pop("PYTEST_ADDOPTS", None)
    env.pop("PYTEST_DISABLE_PLUGIN_AUTOLOAD", None)
    return subprocess.run([sys.executable, "-m", "pytest", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def example_run():
    return _pytest([str(EXAMPLE), "-p", "verify.pytest_plugin", "-rxX",
                    "--dmf-symbolic-timeout", "2", "-p", "no:cacheprovider"])


def test_the_example_true_bound_passes_the_false_one_is_caught_undecided_is_xfail(example_run):
    out = example_run.stdout
    assert example_run.returncode == 0, out + example_run.stderr
    assert "3 passed, 1 xfailed" in out, out
    # the UNDECIDED test is an xfail with the verifier's reason, not a pass
    xfail = [ln for ln in out.splitlines() if ln.startswith("XFAIL")]
    assert len(xfail) == 1 and "test_a_limit_that_no_precision_decides" in xfail[0]
    assert "UNDECIDED at 250 digits" in xfail[0]


def _summary(out):
    lines = out.splitlines()
    start = next(i for i, ln in enumerate(lines) if " dmf-verify " in ln and ln.startswith("="))
    end = next(i for i in range(start + 1, len(lines)) if lines[i].startswith("="))
    return lines[start + 1:end]


def test_the_example_summary_names_each_claim_with_verdict_slack_tightness(example_run):
    summary = _summary(example_run.stdout)
    text = "\n".join(summary)
    by = {ln.split()[1].rstrip(":"): ln for ln in summary if ln and not ln.startswith(" ")
          and not ln.startswith("verdict")}
    assert by["USER.K2"].startswith("PASS") and " 0 fail" in by["USER.K2"], text
    assert by["USER.K2-tight"].startswith("FAIL"), text
    assert by["x_2000^N"].startswith("UNDECIDED"), text
    # every decided USER.K2 verdict certified; worst slack positive, tightness in (0.9, 1]
    k2 = by["USER.K2"]
    n_pass = int(k2.split(":")[1].split("pass")[0])
    assert f"{n_pass} certified" in k2
    slack = float(k2.split("worst slack ")[1].split(";")[0])
    tight = float(k2.split("tightness ")[1])
    assert slack > 0 and 0.9 < tight <= 1
    # the false bound: negative slack, tightness above 1, and its shrunk counterexample
    tight_false = by["USER.K2-tight"]
    assert float(tight_false.split("worst slack ")[1].split(";")[0]) < 0
    assert float(tight_false.split("tightness ")[1]) > 1
    shrunk = [ln for ln in summary if "shrunk counterexample" in ln]
    assert len(shrunk) == 1
    inst = json.loads(shrunk[0].split("shrunk counterexample: ")[1])
    assert set(inst) == {"alpha", "d", "depth", "eta_fraction", "t"} and inst["depth"] == 2


def test_a_failing_user_claim_fails_its_test_with_the_shrunk_counterexample():
    """Negative control at the pytest level: the false bound asserted true is a failing
    test, whose message carries the shrunk counterexample."""
    proc = _pytest([str(EXAMPLE / "tests" / "demo_failing.py"), "-p", "verify.pytest_plugin",
                    "--dmf-profile", "quick", "--dmf-symbolic-timeout", "1",
                    "-p", "no:cacheprovider"])
    out = proc.stdout
    assert proc.returncode == 1, out + proc.stderr
    assert "1 failed" in out and "InequalityFailed: USER.K2-tight: FAIL" in out
    assert "shrunk counterexample: {" in out
    assert "self = InequalityReport" not in out  # the helper's frame is hidden


def test_the_pytest11_entry_point_loads_the_plugin_without_p(tmp_path):
    """A dist-info with the pyproject's pytest11 entry point, on the path: pytest loads the
    plugin by itself, and `-p verify.pytest_plugin` as well does not register it twice."""
    eps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["entry-points"]["pytest11"]
    assert eps == {"verify.pytest_plugin": "verify.pytest_plugin"}
    info = tmp_path / "dmf_verify_probe-0.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: dmf-verify-probe\nVersion: 0.0\n")
    (info / "entry_points.txt").write_text(
        "[pytest11]\n" + "".join(f"{k} = {v}\n" for k, v in eps.items()))
    test = tmp_path / "test_probe.py"
    test.write_text(textwrap.dedent("""
        from verify.handle import Undecided

        def test_undecided():
            raise Undecided("a tie")

        def test_pass():
            pass
    """))
    for extra in ([], ["-p", "verify.pytest_plugin"]):
        proc = _pytest([str(test), "-rx", "-p", "no:cacheprovider", *extra], cwd=tmp_path,
                       extra_path=[tmp_path])
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert "1 passed, 1 xfailed" in proc.stdout and "UNDECIDED: a tie" in proc.stdout
        assert "dmf-verify: profile default" in proc.stdout  # the report header
    # control: with the plugin blocked (whether dmf-verify is installed or not) the tie is
    # an error, so the xfail above is the plugin's doing
    proc = _pytest([str(test), "-p", "no:cacheprovider", "-p", "no:verify.pytest_plugin"],
                   cwd=tmp_path, extra_path=[tmp_path])
    assert proc.returncode == 1 and "1 failed" in proc.stdout


def test_options_reach_the_checks_and_bad_values_are_usage_errors(tmp_path):
    test = tmp_path / "test_opts.py"
    test.write_text(textwrap.dedent("""
        def test_settings(dmf_settings, dmf_strategies):
            assert dmf_settings == {"profile": "quick", "dps": 30, "max_dps": 60, "seed": 7,
                                    "symbolic_timeout": 1.5}
            assert dmf_strategies.instances("K2") is not None
    """))
    proc = _pytest([str(test), "-p", "verify.pytest_plugin", "-p", "no:cacheprovider",
                    "--dmf-profile", "quick", "--dmf-dps", "30", "--dmf-max-dps", "60",
                    "--dmf-seed", "7", "--dmf-symbolic-timeout", "1.5"], cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "dmf-verify: profile quick, dps 30..60, seed 7" in proc.stdout
    proc = _pytest([str(test), "-p", "verify.pytest_plugin", "-p", "no:cacheprovider",
                    "--dmf-dps", "5"], cwd=tmp_path)
    assert proc.returncode == 4 and "dps must be an integer in 15..250, got 5" in proc.stderr
