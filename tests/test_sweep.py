"""`dmf-verify sweep` and `sweep-plot`: specs checked key by key, stable point ids, rows that
agree with predict/simulate, resumable Parquet output (SIGINT included), local processes and
a Dask cluster giving the same rows, phase diagrams."""

import json
import os
import signal
import subprocess
import sys
import time

import pyarrow.parquet as pq
import pytest
from distributed import LocalCluster

from verify import sweep
from verify.cli import main
from fake_tty import FakeTTY

# cheap points: 2x2 targets, 500 steps, 20 digits (predict dominates: about 0.25 s a point)
SPEC = """
[sweep]
name = "t"
[fixed]
depth = 3
eta_fraction = 0.6
theta = 0.1
max_steps = 500
dps = 20
[grid]
gap = [2, 20]
alpha = [0.05, 0.3, 0.5]
"""


def write(tmp_path, text, name="s.toml"):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def run_cli(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def one_line_error(err: str, fragment: str):
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("dmf-verify: error: "), lines[0]
    assert fragment in lines[0], lines[0]
    assert "Traceback" not in err


def rows(out):
    return sweep.read_results(str(out)).to_pylist()


# ---------------------------------------------------------------------------------------
# the spec: every key and value checked, one line naming it


@pytest.mark.parametrize("text, fragment", [
    ("[fixed]\ndepth = 3\nalpha = 0.1\ngap = 2\neta = 0.1\nbeta = 1\n", "[fixed] beta: unknown parameter"),
    ("[sweep]\nsize = 3\n", "[sweep] size: unknown key"),
    ("[grids]\nalpha = [1]\n", "unknown table or key 'grids'"),
    ("title = 'x'\n", "unknown table or key 'title'"),
    ("[fixed]\ndepth = 3\ngap = 2\neta = 0.1\n[grid]\nalpha = { logg = [0.1, 1], num = 3 }\n",
     "[grid] alpha: unknown key 'logg'"),
    ("[fixed]\ndepth = 3\ngap = 2\neta = 0.1\n[grid]\nalpha = [0.1, -1]\n", "[grid] alpha[1]: must be > 0, got -1"),
    ("[fixed]\ndepth = 3\ngap = 2\neta = 0.1\nalpha = \"__import__('os')\"\n",
     "[fixed] alpha: expected a number"),
    ("[fixed]\ndepth = 3\ngap = 2\neta = 0.1\nalpha = 1e999\n", "[fixed] alpha: expected a finite number, got inf"),
    ("[fixed]\ndepth = 3\ngap = 2\neta = 0.1\nalpha = 0.1\n[[grid]]\n", "grid must be a table"),
    ("[fixed\n", "not valid TOML"),
    ("[fixed]\ndepth = 3\ngap = 2\neta = 0.1\nalpha = inf\n", "[fixed] alpha: expected a finite number"),
    ("[fixed]\ndepth = 3\ngap = 2\neta = 0.1\nalpha = \"1e300\"\n", "out of range"),
    ("[fixed]\ndepth = 1\ngap = 2\neta = 0.1\nalpha = 0.1\n", "[fixed] depth: must be in 2..1000, got 1"),
    ("[fixed]\ndepth = 3.0\ngap = 2\neta = 0.1\nalpha = 0.1\n", "[fixed] depth: expected an integer"),
    ("[fixed]\ndepth = 3\ngap = 0.5\neta = 0.1\nalpha = 0.1\n", "[fixed] gap: must be >= 1, got 0.5"),
    ("[fixed]\ndepth = 3\ngap = 2\neta = 0.1\nalpha = 0.1\neps = 1\n", "[fixed] eps: must be < 1, got 1"),
    ("[fixed]\ndepth = 3\ngap = 2\neta = 0.1\nalpha = 0.1\nspectrum = 'flat'\n",
     "[fixed] spectrum: expected one of step, geometric, power, got 'flat'"),
    ("[fixed]\ndepth = 3\ngap = 2\neta = 0.1\nalpha = 0.1\nengine = true\n", "[fixed] engine: expected one of"),
    ("[fixed]\ndepth = 3\ngap = 2\nalpha = 0.1\n", "give exactly one of eta and eta_fraction"),
    ("[fixed]\ndepth = 3\ngap = 2\nalpha = 0.1\neta = 0.1\neta_fraction = 0.5\n", "give exactly one of eta"),
    ("[fixed]\ngap = 2\nalpha = 0.1\neta = 0.1\n", "depth is required"),
    ("[fixed]\ndepth = 3\ngap = 2\neta = 0.1\nalpha = 0.1\nrank = 2\n", "rank must be below n"),
    ("[fixed]\ndepth = 3\ngap = 2\neta = 0.1\nalpha = 0.1\n[grid]\nalpha = [0.1]\n", "also in [fixed]"),
    ("[sweep]\ndesign = 'random'\n[fixed]\ndepth = 3\ngap = 2\neta = 0.1\nalpha = 0.1\n",
     "[sweep] points: a random design needs points"),
    ("[sweep]\ndesign = 'random'\npoints = 3\n[fixed]\ndepth = 3\ngap = 2\neta = 0.1\n"
     "[random]\nalpha = { normal = [0, 1] }\n", "[random] alpha: unknown distribution 'normal'"),
    ("[sweep]\ndesign = 'random'\npoints = 3\n[fixed]\ndepth = 3\ngap = 2\neta = 0.1\nalpha = 0.1\n"
     "[random]\nn = { uniform = [2, 5] }\n", "[random] n: uniform needs a real parameter"),
    ("[sweep]\ndesign = 'random'\npoints = 3\n[fixed]\ndepth = 3\ngap = 2\neta = 0.1\n"
     "[random]\nalpha = { loguniform = [0, 1] }\n", "[random] alpha.loguniform[0]: must be > 0"),
    ("[sweep]\npoints = 3\n[fixed]\ndepth = 3\ngap = 2\neta = 0.1\nalpha = 0.1\n",
     "only a random design takes points"),
    ("[sweep]\nname = 'a b'\n", "[sweep] name"),
    ("[fixed]\ndepth = 3\ngap = 2\neta = 0.1\n[grid]\nalpha = { log = [0.1, 1], num = 0 }\n",
     "[grid] alpha.num: must be in 1..10000, got 0"),
    ("[fixed]\ndepth = 3\ngap = 2\neta = 0.1\n[grid]\nalpha = { log = [0.1, 1], num = 3 }\n"
     "depth2 = 1\n", "[grid] depth2: unknown parameter"),
    ("[fixed]\ngap = 2\neta = 0.1\nalpha = 0.1\n[grid]\ndepth = { lin = [2, 5], num = 4 }\n",
     "[grid] depth: a lin range needs a real parameter"),
    ("[fixed]\ndepth = 3\neta = 0.1\n[grid]\nalpha = { log = [0.1, 1], num = 3000 }\n"
     "gap = { log = [1, 10], num = 3000 }\n", "9000000 points, more than 1000000: split the sweep"),
])
def test_a_bad_spec_is_one_line_naming_the_key_exit_two_before_any_work(capsys, tmp_path, text, fragment):
    spec = write(tmp_path, text)
    out = tmp_path / "out"
    code, _, err = run_cli(capsys, "sweep", spec, "--out", str(out))
    assert code == 2
    one_line_error(err, fragment)
    assert not out.exists()


@pytest.mark.parametrize("argv, fragment", [
    (["sweep", "/no/such.toml", "--out", "o"], "cannot read sweep spec /no/such.toml"),
    (["sweep", "SPEC", "--out", "/no/such/dir/o"], "no directory /no/such/dir"),
    (["sweep", "SPEC", "--out", "FILE"], "exists and is not a directory"),
    (["sweep", "SPEC", "--out", "FOREIGN"], "holds no sweep output"),
    (["sweep", "SPEC", "--out", "-"], "--out needs a directory (the rows are Parquet parts), not '-'"),
    (["sweep-plot", "FOREIGN", "--out", "-"], "--out needs a directory (the figures are files), not '-'"),
    (["sweep", "SPEC", "--out", "o", "-j", "2", "--scheduler", "tcp://127.0.0.1:9"],
     "with --scheduler the cluster's workers"),
    (["sweep", "SPEC", "--out", "o", "--batch", "0"], "argument --batch: must be >= 1"),
    (["sweep", "SPEC", "--out", "o", "--scheduler", "tcp://127.0.0.1:9", "--connect-timeout", "0.5"],
     "cannot connect to the Dask scheduler at tcp://127.0.0.1:9"),
    (["sweep-plot", "/no/such", "--out", "figs"], "no sweep output at /no/such"),
])
def test_bad_sweep_arguments_are_one_line_errors(capsys, tmp_path, monkeypatch, argv, fragment):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "FILE").write_text("x")
    (tmp_path / "FOREIGN").mkdir()
    (tmp_path / "FOREIGN" / "notes.txt").write_text("mine")
    spec = write(tmp_path, SPEC)
    argv = [spec if a == "SPEC" else a for a in argv]
    code, _, err = run_cli(capsys, *argv)
    assert code == 2
    one_line_error(err, fragment)
    assert not (tmp_path / "o").exists()


def test_a_spec_without_a_sweep_table_takes_the_defaults():
    spec = sweep.parse_spec(SPEC.replace('[sweep]\nname = "t"\n', ""))
    assert (spec.name, spec.design, spec.seed, spec.count()) == ("sweep", "grid", 0, 6)
    p = sweep.design_points(spec)[0]["params"]
    assert p["n"] == 2 and p["rank"] == 1 and p["spectrum"] == "step" and p["eps"] == "0.1"
    assert p["noise"] == "0" and p["seed"] == 0 and p["engine"] == "reduced" and p["eta"] is None


# ---------------------------------------------------------------------------------------
# designs and point ids


def test_grid_order_and_ranges():
    spec = sweep.parse_spec(SPEC)
    pts = sweep.design_points(spec)
    assert [(p["params"]["gap"], p["params"]["alpha"]) for p in pts] == [
        ("2", "0.05"), ("2", "0.3"), ("2", "0.5"), ("20", "0.05"), ("20", "0.3"), ("20", "0.5")]
    assert [p["index"] for p in pts] == list(range(6))
    lg = sweep.parse_spec(SPEC.replace("alpha = [0.05, 0.3, 0.5]", "alpha = { log = [0.01, 1], num = 3 }"))
    assert [p["params"]["alpha"] for p in sweep.design_points(lg)][:3] == ["0.01", "0.1", "1"]
    ln = sweep.parse_spec(SPEC.replace("alpha = [0.05, 0.3, 0.5]", "alpha = { lin = [0.1, 0.3], num = 3 }"))
    assert [p["params"]["alpha"] for p in sweep.design_points(ln)][:3] == ["0.1", "0.2", "0.3"]


def test_point_ids_are_stable_and_depend_only_on_the_point():
    a = sweep.design_points(sweep.parse_spec(SPEC))
    # another spec that shares some points: the shared points have the same ids
    b = sweep.design_points(sweep.parse_spec(SPEC.replace('name = "t"', 'name = "other"')
                                             .replace("[0.05, 0.3, 0.5]", "[0.3, 0.7]")))
    ida = {(p["params"]["gap"], p["params"]["alpha"]): p["id"] for p in a}
    idb = {(p["params"]["gap"], p["params"]["alpha"]): p["id"] for p in b}
    assert ida[("2", "0.3")] == idb[("2", "0.3")] and ida[("20", "0.3")] == idb[("20", "0.3")]
    assert len(set(ida.values())) == 6
    # a fixed parameter that changes changes every id
    c = sweep.design_points(sweep.parse_spec(SPEC.replace("max_steps = 500", "max_steps = 600")))
    assert not set(ida.values()) & {p["id"] for p in c}
    # the same spec, parsed again: the same ids (no randomness, no time)
    assert [p["id"] for p in sweep.design_points(sweep.parse_spec(SPEC))] == [p["id"] for p in a]


def test_duplicate_grid_values_are_one_point():
    spec = sweep.parse_spec(SPEC.replace("[0.05, 0.3, 0.5]", "[0.05, 0.05, \"0.05\"]"))
    assert len(sweep.design_points(spec)) == 2


RANDOM = """
[sweep]
design = "random"
seed = SEED
points = POINTS
[fixed]
eta_fraction = 0.5
max_steps = 300
[random]
alpha = { loguniform = [0.02, 0.5] }
gap = { uniform = [1.1, 20] }
depth = { choice = [2, 3, 4] }
n = { integers = [2, 4] }
spectrum = { choice = ["step", "geometric", "power"] }
"""


def test_a_random_design_is_deterministic_per_seed_and_extends_with_points():
    def pts(seed, n):
        return sweep.design_points(sweep.parse_spec(RANDOM.replace("SEED", str(seed))
                                                    .replace("POINTS", str(n))))

    a, again, more, other = pts(1, 20), pts(1, 20), pts(1, 30), pts(2, 20)
    assert [p["params"] for p in a] == [p["params"] for p in again]
    assert [p["id"] for p in more[:20]] == [p["id"] for p in a]
    assert [p["params"] for p in other] != [p["params"] for p in a]
    for p in a:
        q = p["params"]
        assert 0.02 <= float(q["alpha"]) <= 0.5 and 1.1 <= float(q["gap"]) <= 20
        assert q["depth"] in (2, 3, 4) and 2 <= q["n"] <= 4 and q["seed"] == 1
    assert {p["params"]["spectrum"] for p in a} == {"step", "geometric", "power"}


def test_spectrum_families_have_the_gap_asked_for():
    import mpmath

    for fam in sweep.FAMILIES:
        vals = [mpmath.mpf(v) for v in sweep.spectrum_values(fam, 5, 2, "3", 30)]
        assert vals[0] == 1 and vals == sorted(vals, reverse=True)
        assert mpmath.almosteq(vals[1] / vals[2], 3, 1e-25), fam


# ---------------------------------------------------------------------------------------
# a row is what predict and simulate say


def test_a_row_agrees_with_predict_and_simulate_called_directly():
    from verify.explore import make_setting, predict, simulate

    spec = sweep.parse_spec(SPEC + "noise = [0, 0.02]\n")
    pts = sweep.design_points(spec)
    for p in (pts[0], pts[1], pts[-1]):
        row = sweep.evaluate_point(p)
        q = p["params"]
        spectrum = sweep.spectrum_values("step", 2, 1, q["gap"], q["dps"])
        st = make_setting(depth=3, alpha=q["alpha"], eta=str(0.6 / 3), spectrum=spectrum, rank=1,
                          eps="0.1", theta="0.1", noise=None if q["noise"] == "0" else q["noise"],
                          dps=20)
        pr, si = predict(st), simulate(st, max_steps=500)
        assert row["T0_upper"] == pr["T0_upper"] and row["T1_lower"] == pr["T1_lower"]
        assert row["nonempty_predicted"] == pr["nonempty_predicted"]
        assert row["status"] == si["status"] and row["T0_text"] == str(si["T0"])
        assert row["T1_text"] == str(si["T1"]) and row["nonempty"] == si["nonempty"]
        assert row["eta_used"] == pytest.approx(0.2) and row["spectrum_values"] == [1.0, 1 / float(q["gap"])]
        assert not row["violates_bound"] and row["error"] is None
        assert row["command"].startswith(f"dmf-verify simulate --depth 3 --alpha {q['alpha']} --eta 0.2 ")


def test_violations_are_what_the_bounds_promise():
    v = sweep._violations
    assert v({"T0_upper": 10, "T1_lower": 20}, {"T0": 11, "T1": 25}) == ["T0 = 11 > T0_upper = 10"]
    assert v({"T0_upper": 10, "T1_lower": 20}, {"T0": 9, "T1": 19}) == ["T1 = 19 < T1_lower = 20"]
    assert v({"T0_upper": 10, "T1_lower": 20}, {"T0": "> 10", "T1": ">= 10"}) == ["T0 > 10 >= T0_upper = 10"]
    assert v({"T0_upper": 10, "T1_lower": 20}, {"T0": "> 9", "T1": ">= 9"}) == []
    assert v({"T0_upper": 10, "T1_lower": None, "T1_lower_infinite": True}, {"T0": 5, "T1": 7}) == [
        "T1 = 7 though T1_lower is infinite"]
    assert v({"T0_upper": None, "T1_lower": None}, {"T0": 50, "T1": 3}) == []
    assert v({"T0_upper": 10}, {"diverged": True, "divergence_step": 4, "T0": None, "T1": None})


def test_a_broken_bound_exits_one_and_prints_the_command(capsys, tmp_path, monkeypatch):
    import verify.explore as explore

    real = explore.predict

    def low(st):
        out = real(st)
        if out["T0_upper"] is not None:
            out["T0_upper"] = 3  # a wrong bound: every observed T0 is above it
        return out

    monkeypatch.setattr(explore, "predict", low)
    code, out, _ = run_cli(capsys, "sweep", write(tmp_path, SPEC), "--out", str(tmp_path / "o"), "-j", "1")
    assert code == 1
    assert "bounds broken: 4" in out and "> T0_upper = 3" in out and "dmf-verify simulate" in out


def test_a_refused_setting_is_a_row_not_a_crash(capsys, tmp_path):
    # 1e-90 next to 1 is lost at dps 20: make_setting refuses the target
    spec = write(tmp_path, SPEC.replace("gap = [2, 20]", "gap = [2, 1e90]"))
    code, out, _ = run_cli(capsys, "sweep", spec, "--out", str(tmp_path / "o"), "-j", "1")
    assert code == 0 and "refused" in out
    bad = [r for r in rows(tmp_path / "o") if r["error"]]
    assert len(bad) == 3 and all(r["observed"] == "error" and "lost next to" in r["error"] for r in bad)


# ---------------------------------------------------------------------------------------
# output, resume, engines


def _sweep_json(capsys, *argv):
    code, out, err = run_cli(capsys, "sweep", *argv, "--json")
    assert code == 0, err
    return json.loads(out)


def test_output_is_parquet_and_a_rerun_computes_nothing(capsys, tmp_path):
    spec, out = write(tmp_path, SPEC), tmp_path / "res.parquet"
    first = _sweep_json(capsys, spec, "--out", str(out), "-j", "1", "--batch", "4")
    assert (first["points"], first["computed"], first["skipped"], first["parts_written"]) == (6, 6, 0, 2)
    parts = sorted(p.name for p in out.iterdir() if p.suffix == ".parquet")
    assert len(parts) == 2 and (out / "_sweep.json").exists()
    table = pq.read_table(out)  # any Parquet reader takes the directory as one dataset
    assert table.num_rows == 6 and table.schema.metadata[b"dmf-verify-sweep"] == b"1"
    again = _sweep_json(capsys, spec, "--out", str(out), "-j", "1")
    assert (again["computed"], again["skipped"], again["parts_written"]) == (0, 6, 0)
    assert again["observed"] == first["observed"]
    dry = _sweep_json(capsys, spec, "--out", str(out), "--dry-run")
    assert (dry["points"], dry["done"], dry["to_compute"]) == (6, 6, 0)
    # a grid extended by one value: only its points are computed
    more = write(tmp_path, SPEC.replace("[2, 20]", "[2, 20, 200]"), "more.toml")
    ext = _sweep_json(capsys, more, "--out", str(out), "-j", "1")
    assert (ext["points"], ext["computed"], ext["skipped"]) == (9, 3, 6)


def test_local_processes_give_the_same_rows_as_one_process(capsys, tmp_path):
    spec = write(tmp_path, SPEC)
    _sweep_json(capsys, spec, "--out", str(tmp_path / "one"), "-j", "1")
    res = _sweep_json(capsys, spec, "--out", str(tmp_path / "two"), "-j", "2", "--batch", "1")
    assert res["workers"] == 2 and res["parts_written"] == 6
    assert rows(tmp_path / "one") == rows(tmp_path / "two")


def test_a_dask_local_cluster_with_two_workers_gives_the_same_rows(capsys, tmp_path):
    spec = write(tmp_path, SPEC)
    _sweep_json(capsys, spec, "--out", str(tmp_path / "one"), "-j", "1")
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      host="127.0.0.1",
                      dashboard_address="127.0.0.1:0") as cluster:
        res = _sweep_json(capsys, spec, "--out", str(tmp_path / "dask"), "--scheduler",
                          cluster.scheduler_address, "--batch", "2")
        assert res["workers"] == 2 and res["computed"] == 6
        assert res["engine"].startswith("Dask scheduler tcp://")
        again = _sweep_json(capsys, spec, "--out", str(tmp_path / "dask"), "--scheduler",
                            cluster.scheduler_address)
        assert (again["computed"], again["skipped"]) == (0, 6)
        assert again["engine"] == "nothing to compute"  # the scheduler is not contacted
    assert rows(tmp_path / "one") == rows(tmp_path / "dask")


def test_sigint_keeps_the_finished_points_and_a_rerun_computes_only_the_rest(tmp_path):
    spec = write(tmp_path, SPEC.replace("[2, 20]", "[2, 3, 4, 5, 6, 8, 10, 13, 16, 20]"))  # 30 points
    out = tmp_path / "res.parquet"
    cmd = [sys.executable, "-m", "verify", "sweep", spec, "--out", str(out), "-j", "2", "--batch", "1"]
    # SIGINT at its default disposition in the child, whatever this process inherited (a
    # background job of a non-interactive shell ignores it, and Python keeps that)
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if len([p for p in os.listdir(out) if p.startswith("part-")] if out.exists() else []) >= 2:
            break
        time.sleep(0.05)
    assert proc.poll() is None, "the sweep finished before it could be interrupted"
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "rerun the same command to resume" in err
    kept = rows(out)
    assert 2 <= len(kept) < 30 and len({r["id"] for r in kept}) == len(kept)
    assert not [p for p in os.listdir(out) if p.endswith(".tmp")]
    again = subprocess.run(cmd + ["--json"], capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    res = json.loads(again.stdout)
    assert (res["skipped"], res["computed"]) == (len(kept), 30 - len(kept))
    final = rows(out)
    assert len(final) == 30 and len({r["id"] for r in final}) == 30
    # the finished points were not recomputed: the parts written before the interrupt are
    # still there, unchanged, and every point is in exactly one part
    for r in kept:
        assert r in final
    # and the interrupted-and-resumed output is the one an uninterrupted run writes
    ref = subprocess.run(cmd[:5] + ["--out", str(tmp_path / "ref"), "-j", "1"],
                         capture_output=True, text=True, timeout=300)
    assert ref.returncode == 0, ref.stderr
    assert rows(tmp_path / "ref") == final


# ---------------------------------------------------------------------------------------
# progress, help


def test_progress_bar_on_a_terminal_only(monkeypatch, capsys, tmp_path):
    spec = write(tmp_path, SPEC.replace("[2, 20]", "[2]"))
    tty = FakeTTY()
    monkeypatch.setattr(sys, "stderr", tty)
    assert main(["sweep", spec, "--out", str(tmp_path / "a"), "-j", "1"]) == 0
    drawn = "".join(tty.parts)
    assert "100.0% sweep" in drawn and drawn.endswith("\n")
    tty.parts.clear()
    assert main(["sweep", spec, "--out", str(tmp_path / "b"), "-j", "1", "--no-progress"]) == 0
    assert tty.parts == []
    monkeypatch.undo()
    capsys.readouterr()
    code, _, err = run_cli(capsys, "sweep", spec, "--out", str(tmp_path / "c"), "-j", "1")
    assert code == 0 and err == ""


@pytest.mark.parametrize("command", ["sweep", "sweep-plot"])
def test_sweep_help_lists_exit_codes_and_defaults(capsys, command):
    from verify.cli import build_parser

    with pytest.raises(SystemExit) as exc:
        build_parser().parse_args([command, "--help"])
    assert exc.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "exit codes:" in text and "130 interrupted" in text
    if command == "sweep":
        assert "(default: 20)" in text and "--scheduler ADDRESS" in text


# ---------------------------------------------------------------------------------------
# sweep-plot


PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_sweep_plot_draws_one_phase_diagram_per_facet(capsys, tmp_path):
    spec = write(tmp_path, SPEC.replace("[fixed]\ndepth = 3\n", "[fixed]\n") + "depth = [2, 3]\n")
    res = tmp_path / "res"
    assert main(["sweep", spec, "--out", str(res), "-j", "2"]) == 0
    capsys.readouterr()
    code, out, err = run_cli(capsys, "sweep-plot", str(res), "--out", str(tmp_path / "figs"))
    assert code == 0, err
    lines = out.strip().splitlines()
    assert len(lines) == 2  # depth 2 and depth 3; x = gap, y = alpha (the spec's order)
    for line, depth in zip(lines, (2, 3)):
        path = line.split(":")[0]
        assert path.endswith(f"phase_alpha_vs_gap_depth={depth}.png")
        assert open(path, "rb").read(8) == PNG_MAGIC and os.path.exists(path[:-4] + ".pdf")
        assert "6 points" in line
    code, out, _ = run_cli(capsys, "sweep-plot", str(res), "--out", str(tmp_path / "f2"),
                           "--x", "alpha", "--y", "depth")
    assert code == 0 and out.count(".png") == 2  # one per gap
    for argv, fragment in ((["--x", "beta"], "--x beta: unknown parameter"),
                           (["--x", "eps"], "--x eps: does not vary"),
                           (["--x", "spectrum"], "not a numeric parameter"),
                           (["--x", "gap", "--y", "gap"], "the same")):
        code, _, err = run_cli(capsys, "sweep-plot", str(res), "--out", str(tmp_path / "f3"), *argv)
        assert code == 2
        one_line_error(err, fragment)


def test_sweep_plot_of_a_random_design_and_of_an_empty_output(capsys, tmp_path):
    text = RANDOM.replace("SEED", "0").replace("POINTS", "12").replace(
        'depth = { choice = [2, 3, 4] }\nn = { integers = [2, 4] }\nspectrum = { choice = ["step", "geometric", "power"] }\n',
        "").replace("[fixed]\n", "[fixed]\ndepth = 3\ntheta = 0.1\ndps = 20\n")
    spec, res = write(tmp_path, text), tmp_path / "res"
    assert main(["sweep", spec, "--out", str(res), "-j", "2"]) == 0
    capsys.readouterr()
    code, out, err = run_cli(capsys, "sweep-plot", str(res), "--out", str(tmp_path / "figs"))
    assert code == 0, err
    assert "phase_gap_vs_alpha.png: 12 points" in out
    empty = tmp_path / "empty"
    empty.mkdir()
    code, _, err = run_cli(capsys, "sweep-plot", str(empty), "--out", str(tmp_path / "f"))
    assert code == 2
    one_line_error(err, "no points in")


def test_a_sigint_during_a_part_write_waits_for_the_write_with_other_threads_running():
    """A Dask client runs threads; a SIGINT then reaches Python even while the main thread
    masks it. The write block defers it (KeyboardInterrupt after the block), and with
    ignore=True (the save after a Ctrl-C) drops it."""
    import threading

    from verify.sweep import _NoSigint

    stop = threading.Event()
    other = threading.Thread(target=stop.wait, daemon=True)
    other.start()
    try:
        finished = []
        def signal_and_wait(block):
            os.kill(os.getpid(), signal.SIGINT)
            deadline = time.monotonic() + 30
            while not block.got and time.monotonic() < deadline:  # until the handler ran
                time.sleep(0.01)
            assert block.got

        with pytest.raises(KeyboardInterrupt):
            with _NoSigint() as block:
                signal_and_wait(block)
                finished.append("write")
        assert finished == ["write"]
        with _NoSigint(ignore=True) as block:
            signal_and_wait(block)
            finished.append("save")
        assert finished == ["write", "save"]
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    finally:
        stop.set()
