"""Tests for bounds/claim.py and the registry in bounds/__init__.py."""

import dataclasses
import inspect
import pathlib
import re

import pytest
import sympy as sp

import bounds
from bounds import CLAIMS, claim_ids, get_claim
from bounds.claim import Claim, Hypothesis

ROOT = pathlib.Path(__file__).resolve().parents[1]
EXPECTED = ("R1", "S1", "S2", "S3", "O1", "K1", "K2", "K3", "L1", "L2", "L3", "P1", "P2", "P3", "P4", "P5")
BEYOND = ("M1",)  # proved here, beyond the paper (docs/theory.md#m1): after THEORY.md's


def test_registry_has_the_sixteen_ids_in_theory_order_then_the_claims_beyond_the_paper():
    assert claim_ids() == EXPECTED + BEYOND
    assert tuple(CLAIMS.keys()) == EXPECTED + BEYOND


def test_registry_ids_match_theory_md_order():
    theory = pathlib.Path("/work/shared/THEORY.md")
    if not theory.exists():
        pytest.skip("shared THEORY.md not present")
    ids = re.findall(r"^([RSOKLP]\d) ", theory.read_text(), flags=re.M)
    assert tuple(ids) == EXPECTED


def test_registry_is_read_only():
    with pytest.raises(TypeError):
        CLAIMS["X1"] = None  # type: ignore[index]


def test_get_claim_unknown_id_raises_value_error_naming_it():
    with pytest.raises(ValueError, match="Q9"):
        get_claim("Q9")
    with pytest.raises(ValueError, match="known IDs"):
        get_claim(None)
    assert get_claim("P4").id == "P4"


def test_claim_names_are_mathlib_style_and_unique():
    names = [c.name for c in CLAIMS.values()]
    assert len(set(names)) == len(names)
    for n in names:
        assert re.fullmatch(r"[a-z][A-Za-z0-9_]*", n), n
    assert get_claim("K1").name == "hitting_time_ge_flow_time_of_monotone_step"
    assert get_claim("L1").name == "interval_nonempty_of_spectral_condition"


def test_claims_well_formed():
    for cid, c in CLAIMS.items():
        assert c.id == cid
        assert c.docs == f"docs/theory.md#{cid.lower()}"
        assert isinstance(c.hypotheses, tuple) and c.hypotheses
        assert all(isinstance(h, Hypothesis) for h in c.hypotheses)
        assert isinstance(c.conclusion, (str, sp.Basic))
        assert c.statement
        if cid != "R1":
            assert len(c.evaluators) >= 1
        for name, fn in c.evaluators.items():
            assert callable(fn)
            assert fn.__module__.startswith("bounds."), (cid, name)


def test_r1_hypotheses_and_string_conclusion():
    r1 = get_claim("R1")
    assert r1.hypothesis_names == ("target_symmetric", "init_scaled_identity", "alpha_pos")
    assert isinstance(r1.conclusion, str)


def test_claim_is_frozen_and_evaluators_read_only():
    c = get_claim("K2")
    with pytest.raises(dataclasses.FrozenInstanceError):
        c.name = "x"  # type: ignore[misc]
    with pytest.raises(TypeError):
        c.evaluators["new"] = print  # type: ignore[index]


def test_hypothesis_rejects_non_relational():
    with pytest.raises(ValueError, match="relational"):
        Hypothesis("bad", sp.Symbol("x") + 1, "not a relation")
    with pytest.raises(ValueError, match="identifier"):
        Hypothesis("not valid", sp.Gt(sp.Symbol("x"), 0), "")


def test_claim_rejects_bad_fields():
    x = sp.Symbol("x")
    with pytest.raises(ValueError, match="hypotheses"):
        Claim("Z1", "z", "s", [Hypothesis("h", sp.Gt(x, 0), "")], sp.Gt(x, 0), (), "docs/theory.md#z1")
    with pytest.raises(ValueError, match="callable"):
        Claim("Z1", "z", "s", (), sp.Gt(x, 0), (("f", 3),), "docs/theory.md#z1")
    with pytest.raises(ValueError, match="anchor"):
        Claim("Z1", "z", "s", (), sp.Gt(x, 0), (), "docs/other.md")


def test_every_public_evaluator_has_a_doctest():
    for mod in (bounds.flow, bounds.lowrank, bounds.perturbed, bounds.momentum):
        for name in mod.__all__:
            obj = getattr(mod, name)
            if inspect.isfunction(obj):
                assert obj.__doc__ and ">>>" in obj.__doc__, f"{mod.__name__}.{name}"


def test_docs_have_an_anchor_per_claim():
    theory = (ROOT / "docs" / "theory.md").read_text()
    for cid in EXPECTED + BEYOND:
        assert f'<a id="{cid.lower()}"></a>' in theory, cid
        assert re.search(rf"^## {cid}\b", theory, flags=re.M), cid
    assert "reconstruction" in theory.lower()


def test_claims_table_lists_every_claim_and_existing_files():
    table = (ROOT / "docs" / "claims.md").read_text()
    for cid, c in CLAIMS.items():
        row = next((ln for ln in table.splitlines() if ln.startswith(f"| {cid} ")), None)
        assert row is not None, cid
        assert c.name in row
        for path in re.findall(r"`((?:bounds|tests)/[\w/]+\.py)", row):
            assert (ROOT / path).exists(), path
