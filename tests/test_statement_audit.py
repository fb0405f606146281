"""verify/statements.py: `run`'s audit of the SymPy statements and of R1's symbolic identities.

(a) clean on the true code, on every instance the quick profile checks; (b) a mutated SymPy
relation or conclusion in the registry is a disagreement naming claim, hypothesis/bound and
instance; (c) a mutated R1 identity in bounds/reduction.py is an R1 failure.
"""

from __future__ import annotations

import dataclasses
from types import MappingProxyType

import sympy as sp

import bounds
from bounds import get_claim
from bounds import reduction
from verify import statements
from verify.sampling import PROFILES, sample_instances
from verify.specs import corners

TIE = {"depth": 2, "t": 1.0, "eta_fraction": 1.0, "alpha": 0.5}  # eta N t^A == 1 exactly


def _replace_hypothesis(monkeypatch, cid, name, rel):
    c = get_claim(cid)
    hyps = tuple(dataclasses.replace(h, relation=rel) if h.name == name else h for h in c.hypotheses)
    monkeypatch.setattr(bounds, "CLAIMS", MappingProxyType(
        {**bounds.CLAIMS, cid: dataclasses.replace(c, hypotheses=hyps)}))


def _replace_conclusion(monkeypatch, cid, concl):
    c = get_claim(cid)
    monkeypatch.setattr(bounds, "CLAIMS", MappingProxyType(
        {**bounds.CLAIMS, cid: dataclasses.replace(c, conclusion=concl)}))


def test_audit_is_clean_on_the_quick_instances():
    stats, corner_stats = {}, {}
    for cid in bounds.claim_ids():
        for inst in sample_instances(cid, PROFILES["quick"], seed=0):
            assert statements.audit_instance(cid, inst, stats=stats) == (), (cid, inst)
        for inst in [c.instance for c in corners(cid)]:
            assert statements.audit_instance(cid, inst, stats=corner_stats) == (), (cid, inst)
    # on sampled instances most calls are decided; the corners put eta on its bound on
    # purpose, where the rounded relation is a tie at the working precision (unknown)
    assert stats["compared"] > 100 and stats.get("unknown", 0) < stats["compared"] / 10, stats
    assert corner_stats["compared"] > 250, corner_stats


def test_exact_tie_is_decided_and_rounding_tie_is_unknown():
    rel = statements.relation("S1", "monotone_step")
    assert statements.truth(rel, statements.values(t=1, eta=0.5, N=2), dps=50) is True
    near = statements.exact(0.5) + sp.Rational(1, 2**180)
    got = statements.truth(rel, {bounds.t: sp.Integer(1), bounds.eta: near, bounds.N: sp.Integer(2)}, dps=50)
    assert isinstance(got, statements.Unknown) and got.kind == "tie"
    # a non-real comparison is unknown, never False
    got = statements.truth(rel, statements.values(t=-1, eta=0.25, N=3), dps=50)
    assert isinstance(got, statements.Unknown) and got.kind == "nonreal"


def test_le_flipped_to_lt_at_a_tie_is_a_disagreement(monkeypatch):
    assert statements.audit_instance("S1", TIE) == ()
    N, t, eta = bounds.N, bounds.t, bounds.eta
    _replace_hypothesis(monkeypatch, "S1", "monotone_step", sp.Lt(eta * N * t**bounds.A_, 1))
    msgs = statements.audit_instance("S1", TIE)
    assert msgs and all(m.startswith("S1 statement of s1_hypotheses") for m in msgs)
    assert "monotone_step False" in msgs[0] and "'eta_fraction': 1.0" in msgs[0]


def test_changed_exponent_is_a_closed_form_disagreement(monkeypatch):
    N, t, eta = bounds.N, bounds.t, bounds.eta
    _replace_hypothesis(monkeypatch, "S1", "monotone_step", sp.Le(eta * N * t ** (2 - 2 ** N), 1))
    inst = sample_instances("S1", 1, seed=0)[0]
    msgs = statements.audit_instance("S1", inst)
    assert any("closed form of monotone_step_bound" in m and str(inst) in m for m in msgs), msgs


def test_changed_conclusion_is_a_closed_form_disagreement(monkeypatch):
    S = bounds
    wrong = sp.Le((S.alpha ** (-(S.N * 2)) - S.d ** (-(S.N - 2) / S.N)) / ((S.N - 2) * S.t),
                  S.tau_s(S.alpha**S.N, S.d))
    _replace_conclusion(monkeypatch, "K3", wrong)
    inst = sample_instances("K3", 1, seed=0)[0]
    assert any("K3 closed form of k3_lower" in m for m in statements.audit_instance("K3", inst))


def test_r1_symbolic_identities_hold_and_a_mutated_one_fails(monkeypatch):
    assert statements.r1_symbolic_failures() == ()
    true_reduced = reduction.reduced_gradient
    monkeypatch.setattr(reduction, "reduced_gradient", lambda N, S: true_reduced(N + 1, S))
    msgs = statements.r1_symbolic_failures()
    assert any("reduced_gradient_identity_holds" in m and "does not hold" in m for m in msgs), msgs


def test_r1_symbolic_check_reports_an_exception(monkeypatch):
    def broken(self, expr):
        raise TypeError("unsupported operand")

    monkeypatch.setattr(reduction.EqualFactorSetting, "normal_form", broken)
    msgs = statements.r1_symbolic_failures()
    assert any("raised TypeError" in m for m in msgs)


def test_a_changed_definition_of_a_stated_bound_is_a_disagreement(monkeypatch):
    # K3's upper part as bounds.DEFINITIONS states it, with (N-2) t multiplied instead of divided
    inst = {"depth": 4, "t": 2.0, "alpha": 0.1, "d": 0.5, "eps": 0.1}  # (N-2) t != 1
    assert statements.audit_instance("K3", inst) == ()
    args, ex = bounds.DEFINITIONS["k3_upper"]
    wrong = ex.subs(1 / ((bounds.N - 2) * bounds.t), (bounds.N - 2) * bounds.t)
    assert wrong != ex
    monkeypatch.setattr(bounds, "DEFINITIONS", MappingProxyType(
        {**bounds.DEFINITIONS, "k3_upper": (args, wrong)}))
    msgs = statements.audit_instance("K3", inst)
    assert msgs and "k3_upper" in msgs[0], msgs
