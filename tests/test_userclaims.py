"""verify.userclaims: the dmf_verify.claims entry point group (loading, validation), the CLI
hooks (rows for `dmf-verify run`, lines for `dmf-verify list`) and
`python -m verify.userclaims`."""

import importlib.metadata
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import sympy as sp

from bounds import N, alpha, d, t
from verify.userclaims import (GROUP, UserClaim, load_plugin_claims, plugin_claim_ids,
                               plugin_claim_listing, plugin_claim_rows)

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "user_claim"
GOOD = UserClaim("U.ok", "init_below_level", sp.Lt(alpha**N, d), (), spec="K2")


def _ep(value, name="probe"):
    return importlib.metadata.EntryPoint(name, value, GROUP)


@pytest.fixture
def plugin_module(tmp_path, monkeypatch):
    """A module dmf_probe_claims on the path; write(text) sets its source."""
    monkeypatch.syspath_prepend(str(tmp_path))

    def write(text):
        (tmp_path / "dmf_probe_claims.py").write_text(textwrap.dedent(text))
        sys.modules.pop("dmf_probe_claims", None)
        return "dmf_probe_claims"

    yield write
    sys.modules.pop("dmf_probe_claims", None)


HEADER = """
    import sympy as sp
    from bounds import N, alpha, d, t
    from verify.userclaims import UserClaim
    A = UserClaim("U.a", "a_claim", sp.Lt(alpha**N, d), (), spec="K2")
    B = UserClaim("U.b", "b_claim", sp.Lt(d, t), (), spec="K2")
"""


def test_entry_points_give_claims_lists_or_functions(plugin_module):
    mod = plugin_module(HEADER + "\n    def make():\n        return [B]\n")
    got = load_plugin_claims(entry_points=[_ep(f"{mod}:A", "one"), _ep(f"{mod}:make", "two")])
    assert [c.id for c in got] == ["U.a", "U.b"]
    assert "entry point 'one'" in got[0].source and "entry point 'two'" in got[1].source


@pytest.mark.parametrize("body, value, match", [
    ("", "dmf_probe_claims:MISSING", "cannot be loaded: AttributeError"),
    ("X = 3", "dmf_probe_claims:X", "gave a int; expected a UserClaim"),
    ("X = [A, 'K9']", "dmf_probe_claims:X", "item 1 is a str, not a UserClaim"),
    ("X = []", "dmf_probe_claims:X", "gave no claim"),
    ("def X():\n        raise RuntimeError('boom')", "dmf_probe_claims:X", "raised RuntimeError: boom"),
    ("def X():\n        return UserClaim('K2', 'n', sp.Lt(d, t))", "dmf_probe_claims:X",
     "is a built-in claim's ID"),
])
def test_bad_entry_points_are_value_errors_naming_them(plugin_module, body, value, match):
    mod = plugin_module(HEADER + "\n    " + body + "\n")
    with pytest.raises(ValueError, match=match) as exc:
        load_plugin_claims(entry_points=[_ep(value)])
    assert "entry point 'probe'" in str(exc.value)


def test_an_id_registered_twice_is_a_value_error(plugin_module):
    mod = plugin_module(HEADER)
    with pytest.raises(ValueError, match="claim ID 'U.a' is registered twice"):
        load_plugin_claims(entry_points=[_ep(f"{mod}:A", "x"), _ep(f"{mod}:A", "y")])


def test_an_unimportable_module_is_named(plugin_module):
    with pytest.raises(ValueError, match="cannot be loaded: ModuleNotFoundError"):
        load_plugin_claims(entry_points=[_ep("no_such_module_dmf:X")])


@pytest.mark.parametrize("kw, match", [
    (dict(id="1bad"), "claim ID must be a letter"),
    (dict(id="S1"), "built-in claim's ID"),
    (dict(name="not an identifier"), "name must be an identifier"),
    (dict(relation="K_t <= 3"), "is a string"),
    (dict(relation=sp.Eq(d, t)), "must be <=, <, >= or >"),
    (dict(hypotheses="d < t"), "hypotheses must be a tuple"),
    (dict(hypotheses=(sp.Symbol("d") < 1,)), "not the registry's d"),
    (dict(spec="Q1"), "not a built-in spec"),
    (dict(spec="P2"), "does not read P2 instances"),  # no dynamics (L, P1, P3-P5 are read)
])
def test_user_claim_validation(kw, match):
    base = dict(id="U.x", name="x", relation=sp.Lt(d, t), hypotheses=(), spec="K2")
    with pytest.raises(ValueError, match=match):
        UserClaim(**{**base, **kw})


def _dist_info(where: Path, entry_points: str):
    info = where / "dmf_probe_dist-0.1.dist-info"
    info.mkdir(exist_ok=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: dmf-probe-dist\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(entry_points)


def test_the_example_package_registers_through_its_distribution(tmp_path, monkeypatch):
    """A dist-info with the example's entry point (as pip would install it): the group
    lists both claims; the run hook checks them on K2 instances (the false one FAILs with a
    shrunk counterexample and a repro command); the list hook names them."""
    import tomllib

    eps = tomllib.loads((EXAMPLE / "pyproject.toml").read_text())["project"]["entry-points"][GROUP]
    _dist_info(tmp_path, f"[{GROUP}]\n" + "".join(f"{k} = {v}\n" for k, v in eps.items()))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.syspath_prepend(str(EXAMPLE))
    assert plugin_claim_ids() == ("USER.K2", "USER.K2-tight")
    rows = plugin_claim_rows(profile="quick", seed=0, only=["USER.K2-tight", "K1"])
    (row,) = rows
    assert row.id == "USER.K2-tight" and row.status == "FAIL" and row.failed >= 1
    rec = next(r for r in row.counterexamples if r["shrunk"])
    assert rec["command"].startswith("python -m verify.userclaims check USER.K2-tight --instance ")
    assert rec["shrunk"]["instance"] != rec["instance"] and rec["shrunk"]["slack"] < 0
    assert rec["shrunk"]["command"].startswith("python -m verify.userclaims check USER.K2-tight")
    lines = plugin_claim_listing()
    assert lines[0].startswith("USER.K2  hitting_time_le_ceil_rho_flow_time  (user claim on K2")
    assert "dmf-probe-dist 0.1" in lines[0]
    from verify.report import render_table

    table = render_table(rows)  # the run table renders a user row like a built-in one
    assert "USER.K2-tight" in table and "python -m verify.userclaims check" in table


def test_python_m_verify_userclaims_rechecks_one_instance(tmp_path):
    _dist_info(tmp_path, f"[{GROUP}]\nuser_claim = user_claim.claims:CLAIMS\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path), str(EXAMPLE), str(ROOT)]))

    def run(*args):
        return subprocess.run([sys.executable, "-m", "verify.userclaims", *args], env=env,
                              capture_output=True, text=True, timeout=120)

    bad = '{"alpha": 0.1, "d": 0.5, "depth": 3, "eta_fraction": 1.0, "t": 1.0}'
    p = run("check", "USER.K2-tight", "--instance", bad)
    assert p.returncode == 1 and p.stdout.startswith("USER.K2-tight FAIL (certified)"), p.stdout + p.stderr
    p = run("check", "USER.K2", "--instance", bad)
    assert p.returncode == 0 and p.stdout.startswith("USER.K2 PASS (certified)"), p.stdout + p.stderr
    p = run("check", "USER.nope", "--instance", bad)
    assert p.returncode == 2 and "no user claim 'USER.nope'" in p.stderr
    p = run("check", "USER.K2", "--instance", "[1]")
    assert p.returncode == 2 and "must be a JSON object" in p.stderr
    p = run("list")
    assert p.returncode == 0 and "USER.K2-tight" in p.stdout


def test_user_claim_check_uses_its_spec():
    rep = GOOD.check(count=3, corners=False, symbolic=False)
    assert rep.verdict == "PASS" and len(rep.outcomes) == 3 and rep.name == "U.ok"
