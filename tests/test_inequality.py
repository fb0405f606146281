"""verify.inequality: assert_holds and check_inequality, with negative controls (a false or
tightened inequality is caught), the integer rewrite of ceilings, exact ties, UNDECIDED
kept apart from PASS, certification, the symbolic step, and bad input."""

import math

import mpmath
import pytest
import sympy as sp
from hypothesis import given, settings, strategies as st

import bounds
from bounds import N, alpha, d, eta, get_claim, t
from verify.handle import Simulation
from verify.inequality import (Ceil, Floor, InequalityFailed, K_t, Undecided, assert_holds,
                               check_inequality, draw_instances, symbolic_verdict, take_records)
from verify.strategies import instances

tau, rho = sp.Function("tau"), sp.Function("rho")
K2_HYPS = [h.relation for h in get_claim("K2").hypotheses]
K1_HYPS = [h.relation for h in get_claim("K1").hypotheses]
K2_BOUND = rho(t) * tau(alpha**N, d) / eta
INST = {"depth": 2, "t": 1.0, "alpha": 0.5, "eta": 0.1, "d": 0.5}
FAST = dict(symbolic=False, count=6)


# ---------------------------------------------------------------------------------------
# the integer rewrite: K <= ceil(x) + k decided exactly as a comparison of reals


@settings(max_examples=200, deadline=None)
@given(st.integers(-6, 6), st.fractions(-5, 5, max_denominator=4), st.integers(-2, 2),
       st.sampled_from(["<=", "<", ">=", ">"]), st.booleans(), st.booleans())
def test_ceil_and_floor_markers_agree_with_integer_arithmetic(K, x, k, rel, floor, left):
    mark = (Floor if floor else Ceil)(x) + k
    value = (math.floor(x) if floor else math.ceil(x)) + k
    lhs, rhs = (mark, K) if left else (K, mark)
    lv, rv = (value, K) if left else (K, value)
    want = {"<=": lv <= rv, "<": lv < rv, ">=": lv >= rv, ">": lv > rv}[rel]
    try:
        out = assert_holds(lambda i, s: lhs, lambda i, s: rhs, INST, rel, certify=False)
        got = out.verdict == "PASS"
    except InequalityFailed:
        got = False
    assert got == want
    take_records()


def test_a_ceiling_near_an_integer_is_not_taken_at_finite_precision():
    """K = 3 <= ceil(2 + 1e-60): true, but mpmath.ceil at 50 digits of 2 + 1e-60 would give 2
    (it rounds to 2 first); the rewrite compares K - 1 = 2 < 2 + 1e-60 with the margin:
    UNDECIDED at 50 digits, decided (PASS) once the digits cover 1e-60."""
    x = lambda i, s: Ceil(mpmath.mpf(2) + mpmath.mpf(10) ** -60)
    with pytest.raises(Undecided):
        assert_holds(lambda i, s: 3, x, INST, "<=", certify=False, max_dps=50)
    assert assert_holds(lambda i, s: 3, x, INST, "<=", certify=False, max_dps=100).dps == 100


# ---------------------------------------------------------------------------------------
# check_inequality: the registry's K1 and K2 hold; tightened by 2 % they fail (controls)


def test_k2_as_a_sympy_relation_passes_certified_and_tightened_fails_on_its_witnesses():
    rep = check_inequality(sp.Le(K_t(d), sp.ceiling(K2_BOUND)), K2_HYPS, "K2", **FAST)
    assert rep.verdict == "PASS" and rep.counts["FAIL"] == 0
    assert rep.certified == rep.counts["PASS"] >= 10  # sampled and corners, all proved
    assert rep.tightness["max"] > 0.99
    # the 2 %-tightened bound fails on the witness walks (eta -> 0, among the corners)
    tight = check_inequality(sp.Le(K_t(d), sp.ceiling(sp.Rational(98, 100) * K2_BOUND)),
                             K2_HYPS, "K2", shrink=False, **FAST)
    assert tight.verdict == "FAIL" and tight.counterexample.certified
    assert tight.counterexample.instance["eta_fraction"] <= 0.01


def test_k1_lower_bound_with_the_bound_symbol_and_its_tightened_control():
    # the Symbol K_t (bounds.K) is the hitting time of the instance's level d
    rep = check_inequality(sp.Ge(bounds.K, tau(alpha**N, d) / eta), K1_HYPS, "K1", **FAST)
    assert rep.verdict == "PASS" and rep.certified == rep.counts["PASS"]
    tight = check_inequality(sp.Ge(bounds.K, sp.Rational(102, 100) * tau(alpha**N, d) / eta),
                             K1_HYPS, "K1", shrink=False, **FAST)
    assert tight.verdict == "FAIL"


def test_a_false_bound_is_caught_and_shrunk_to_a_simpler_failing_admissible_instance():
    rel = sp.Le(K_t(d), sp.ceiling(tau(alpha**N, d) / eta) + 1)
    rep = check_inequality(rel, K2_HYPS, "K2", **FAST)
    assert rep.verdict == "FAIL" and rep.shrunk is not None
    small = dict(rep.shrunk.instance)
    assert rep.shrunk.verdict == "FAIL" and rep.shrunk.certified and small["depth"] == 2
    # admissible (K2's own hypothesis evaluator) and still failing when re-checked alone
    sim = Simulation(small, dps=50, spec="K2")
    with mpmath.workdps(50):
        assert bounds.flow.k2_hypotheses(sim.t, sim.d, sim.alpha, sim.eta, 2)
    again = check_inequality(rel, K2_HYPS, [small], spec="K2", symbolic=False, shrink=False)
    assert again.verdict == "FAIL"
    # deterministic: the same seed gives the same counterexample
    assert check_inequality(rel, K2_HYPS, "K2", **FAST).shrunk.instance == rep.shrunk.instance
    with pytest.raises(InequalityFailed, match="shrunk counterexample"):
        rep.assert_pass()


def test_false_hypotheses_make_instances_na_never_pass():
    rep = check_inequality(sp.Lt(d, t), [sp.Gt(d, t)], "K2", **FAST)
    assert rep.verdict == "N/A" and rep.counts["N/A"] == len(rep.outcomes)
    with pytest.raises(Undecided, match="no instance satisfied the hypotheses"):
        rep.assert_pass()
    # the relation alone, without its hypothesis, fails where d >= t
    rep = check_inequality(sp.Lt(d, t), [], [dict(INST, d=1.5)], symbolic=False)
    assert rep.verdict == "FAIL"


def test_an_exact_tie_in_a_hypothesis_is_decided_exactly_not_left_undecided():
    """eta_fraction = 1: eta N t^A = 1 exactly (an irrational eta); at any precision the
    rounded comparison is a tie; SymPy's exact substitution decides it."""
    inst = {"depth": 3, "t": 1.4, "alpha": 0.3, "eta_fraction": 1.0, "d": 0.9}
    step = eta * N * t ** (2 - sp.Rational(2) / N)
    le = check_inequality(sp.Le(step, 1), [], [inst], symbolic=False)
    assert le.verdict == "PASS" and le.outcomes[0].certified
    lt = check_inequality(sp.Lt(step, 1), [], [inst], symbolic=False, shrink=False)
    assert lt.verdict == "FAIL"
    # as a hypothesis: K2 applies at eta_fraction = 1 (its step hypothesis holds with equality)
    k2 = check_inequality(sp.Le(K_t(d), sp.ceiling(K2_BOUND)), K2_HYPS, [inst], spec="K2",
                          symbolic=False)
    assert k2.verdict == "PASS"


def test_instances_lacking_a_symbol_are_bad_input_naming_the_field():
    with pytest.raises(ValueError, match="lacks the field 'eps'"):
        check_inequality(sp.Lt(bounds.eps, 1), [], [INST], symbolic=False)


# ---------------------------------------------------------------------------------------
# UNDECIDED is its own outcome; margins from the engine's error estimates


def test_a_limit_no_precision_decides_raises_undecided():
    inst = {"depth": 2, "t": 1.0, "alpha": 0.5, "eta_fraction": 0.5}
    with pytest.raises(Undecided, match="UNDECIDED at 250 digits"):
        assert_holds(lambda i, s: s.power(2000), lambda i, s: s.t, inst, "<")
    # the same comparison a few steps in is decided, and certified
    out = assert_holds(lambda i, s: s.power(20), lambda i, s: s.t, inst, "<")
    assert out.verdict == "PASS" and out.certified


def test_the_error_estimates_of_simulated_values_widen_the_margin():
    """x_1001 - x_1000 compared with its own value plus 1e-32: the estimated errors of the
    two iterates (~1e-30) exceed that room, rel_margin(30) times the increment (~1e-35)
    does not. Propagated: UNDECIDED at 30 digits, PASS at 60. Control: the same number as a
    constant (no simulated reading) PASSes at 30 digits."""
    inst = {"depth": 4, "t": 1.0, "alpha": 0.001, "eta_fraction": 0.5}
    ref = Simulation(inst, dps=120)
    with mpmath.workdps(120):
        delta = ref.x(1001) - ref.x(1000)
        bound = delta + mpmath.mpf(10) ** -32
    inc = lambda i, s: s.x(1001) - s.x(1000)
    with pytest.raises(Undecided):
        assert_holds(inc, lambda i, s: bound, inst, "<=", dps=30, max_dps=30, certify=False)
    out = assert_holds(inc, lambda i, s: bound, inst, "<=", dps=30, max_dps=60, certify=False)
    assert out.verdict == "PASS" and out.dps == 60
    const = assert_holds(lambda i, s: delta, lambda i, s: bound, inst, "<=", dps=30,
                         max_dps=30, certify=False)
    assert const.verdict == "PASS"


def test_certified_only_when_the_callables_return_enclosures():
    inst = dict(INST)
    exactly = assert_holds(lambda i, s: s.hitting_time(), lambda i, s: 10**6, inst)
    assert exactly.certified  # an exact int against the proved hitting step
    mp_only = assert_holds(lambda i, s: s.hitting_time(),
                           lambda i, s: mpmath.mpf(10) ** 6 + mpmath.mpf(1) / 3, inst)
    assert mp_only.verdict == "PASS" and not mp_only.certified
    assert "not certifiable" in mp_only.note
    with pytest.raises(InequalityFailed, match="FAIL"):
        assert_holds(lambda i, s: s.hitting_time(), lambda i, s: 2, inst)


def test_a_certified_verdict_that_contradicts_the_estimate_is_reported(monkeypatch):
    """rho replaced by a wrong evaluator in bounds.flow (the estimate's), the enclosure left
    alone: the certified verdicts stand, the report is not consistent."""
    real = bounds.flow.rho
    monkeypatch.setattr(bounds.flow, "rho", lambda *a: real(*a) / 4)
    rep = check_inequality(sp.Le(K_t(d), sp.ceiling(K2_BOUND)), K2_HYPS, "K2", **FAST)
    assert rep.disagreements() and not rep.consistent
    assert any("the estimate said FAIL, the enclosures proved PASS" in n for n in rep.notes)
    with pytest.raises(InequalityFailed):
        rep.assert_pass()
    # and without certification the wrong evaluator reaches the verdict: a FAIL
    rep = check_inequality(sp.Le(K_t(d), sp.ceiling(K2_BOUND)), K2_HYPS, "K2", certify=False,
                           shrink=False, **FAST)
    assert rep.verdict == "FAIL"


# ---------------------------------------------------------------------------------------
# the symbolic step


def test_symbolic_verdict_true_false_and_unknown_with_the_method_named():
    a = symbolic_verdict(sp.Lt(alpha**N, t), [sp.Lt(alpha**N, d), sp.Lt(d, t)], timeout=20)
    assert (a.answer, a.method) == (True, "sympy.ask(relation, And(hypotheses))")
    b = symbolic_verdict(sp.Le(K_t(d), K_t(d) + 1, evaluate=False), [], timeout=20)
    assert b.answer is True and b.method.startswith("sign of (larger side - smaller side)")
    c = symbolic_verdict(sp.Gt(alpha**N, t), [sp.Lt(alpha**N, d), sp.Lt(d, t)], timeout=20)
    assert c.answer is False
    u = symbolic_verdict(sp.Ge(rho(t), 1), [sp.Gt(t, 0)], timeout=20)
    assert u.answer is None and u.method.startswith("unknown")


def test_unknown_is_never_read_as_false_and_a_contradiction_is_flagged():
    rep = check_inequality(sp.Ge(rho(t), 1), [sp.Gt(t, 0)], "K2", count=4, symbolic_timeout=10)
    assert rep.symbolic.answer is None and rep.verdict == "PASS" and rep.consistent
    # SymPy proves alpha^N < t from the hypotheses; an instance outside them is N/A, and a
    # relation SymPy refutes cannot pass silently on an instance
    rep = check_inequality(sp.Gt(alpha**N, t), [sp.Lt(alpha**N, d), sp.Lt(d, t)], [INST],
                           symbolic_timeout=20, shrink=False)
    assert rep.symbolic.answer is False and rep.verdict == "FAIL" and rep.consistent


def test_the_symbolic_step_has_a_time_limit():
    rel = sp.Le(K_t(d), sp.ceiling(K2_BOUND))
    a = symbolic_verdict(rel, K2_HYPS, timeout=0.2)
    assert a.answer is None and "within 0.2 s" in a.method


# ---------------------------------------------------------------------------------------
# instances


def test_strategy_draws_are_reproducible_and_admissible():
    got = draw_instances(instances("K2"), 5, seed=3)
    assert got == draw_instances(instances("K2"), 5, seed=3) and len(got) == 5
    rep = check_inequality(sp.Lt(alpha**N, d), [], instances("K2"), count=5, seed=3,
                           symbolic=False)
    assert rep.verdict == "PASS" and [o.instance for o in rep.outcomes] == got


# ---------------------------------------------------------------------------------------
# bad input: ValueError naming the problem


@pytest.mark.parametrize("rel, match", [
    ("K_t(d) <= 3", "is a string"),
    (sp.Eq(d, t), "must be <=, <, >= or >"),
    (sp.Le(sp.Symbol("t"), 1), "not the registry's t"),
    (sp.Le(sp.Symbol("zeta", real=True), 1), "'zeta' is not a registry symbol"),
    (sp.Le(sp.Function("sigma")(d), 1), "unknown function 'sigma'"),
    (sp.Le(tau(d), 1), "tau takes 2 argument"),
    (sp.Lt(alpha, alpha + 1), "already True"),
    (3, "must be a SymPy relation"),
])
def test_bad_relations_are_value_errors(rel, match):
    with pytest.raises(ValueError, match=match):
        check_inequality(rel, [], [INST], symbolic=False)


def test_bad_arguments_are_value_errors():
    rel = sp.Lt(d, t)
    with pytest.raises(ValueError, match="hypothesis 0 is a string"):
        check_inequality(rel, ["d < t"], [INST])
    with pytest.raises(ValueError, match="hypothesis 0 is False"):
        check_inequality(rel, [sp.Lt(alpha, 0)], [INST])
    with pytest.raises(ValueError, match="float"):
        check_inequality(sp.Lt(d, sp.Float(0.7)), [], [INST], symbolic=False)
    with pytest.raises(ValueError, match="no instance spec for claim 'Q9'"):
        check_inequality(rel, [], "Q9", symbolic=False)
    with pytest.raises(ValueError, match="single mapping"):
        check_inequality(rel, [], INST, symbolic=False)
    with pytest.raises(ValueError, match="relation must be one of"):
        assert_holds(lambda i, s: 1, lambda i, s: 2, INST, "=<")
    with pytest.raises(ValueError, match="callables"):
        assert_holds(1, lambda i, s: 2, INST)
    with pytest.raises(ValueError, match="needs a target"):
        assert_holds(lambda i, s: 1, lambda i, s: 2, {"depth": 2, "alpha": 0.5})
    with pytest.raises(ValueError, match="not a number"):
        assert_holds(lambda i, s: "1", lambda i, s: 2, INST, certify=False)
    take_records()


def test_records_feed_the_plugin_summary():
    take_records()
    check_inequality(sp.Lt(alpha**N, d), [], [INST], symbolic=False, name="probe")
    check_inequality(sp.Lt(alpha**N, d), [], [INST], symbolic=False, record=False)
    (rec,) = take_records()
    assert rec["name"] == "probe" and rec["counts"]["PASS"] == 1 and rec["certified"] == 1
    assert take_records() == []


# ---------------------------------------------------------------------------------------
# L and P instances: T0, T1, UB0, LB1 bound to the handle's readings

from bounds import LB1, T0, T1, UB0  # noqa: E402

L1_HYPS = [h.relation for h in get_claim("L1").hypotheses]
LOWRANK = {"depth": 3, "alpha": "0.05", "eta": "0.2", "spectrum": ["1", "0.1", "0.05"], "r": 1,
           "eps": "0.1", "theta": "0.05"}  # T0 = 102, T1 = 909, UB0 = ceil(143.76)


def test_the_l1_bound_t0_le_ub0_passes_certified_on_l1_instances():
    rep = check_inequality(sp.Le(T0, UB0), [], "L1", count=6, seed=3, symbolic=False)
    assert rep.verdict == "PASS" and rep.counts["PASS"] >= 6
    assert rep.certified == rep.counts["PASS"]  # E = 0: every lane enclosed
    assert rep.tightness["max"] <= 1
    # the corners whose hypotheses fail (eta 2.5 x the bound, theta < alpha^N, no gap) are
    # N/A through the spec's own evaluator (l1_hypotheses), never PASS
    assert rep.counts["N/A"] >= 3


def test_a_tightened_l1_bound_fails_with_a_shrunk_admissible_instance():
    from verify.checks.lowrank import _params
    from verify.checks.verdict import evaluators

    rep = check_inequality(sp.Le(T0, sp.Rational(4, 5) * UB0), [], instances("L1"), count=8,
                           seed=1, symbolic=False)
    assert rep.verdict == "FAIL" and rep.shrunk is not None and rep.shrunk.verdict == "FAIL"
    small = rep.shrunk.instance
    assert _complexity_of(small) < _complexity_of(rep.counterexample.instance)
    with mpmath.workdps(50):
        Nd, *rest = _params("L1", small, 50)
        assert evaluators("L1")["l1_hypotheses"](*rest, Nd)  # still an admissible L1 instance


def _complexity_of(inst):
    from verify.inequality import _complexity

    return _complexity(inst)


def test_the_l1_bound_with_rho_dropped_fails_on_the_readme_instance():
    s1, eps_ = bounds.s1, bounds.eps
    true = sp.Le(T0, sp.ceiling(rho(s1) * tau(alpha**N, (1 - eps_) * s1) / eta))
    dropped = sp.Le(T0, sp.ceiling(tau(alpha**N, (1 - eps_) * s1) / eta))
    ok = check_inequality(true, [], [LOWRANK], symbolic=False)
    assert ok.verdict == "PASS" and ok.certified == 1  # 102 <= ceil(143.76)
    bad = check_inequality(dropped, [], [LOWRANK], symbolic=False, shrink=False)
    assert bad.verdict == "FAIL" and bad.certified == 1  # 102 > ceil(143.76 / 1.44) = 100
    assert bad.counterexample.observed["lhs"] == "102"


def test_l1_conclusion_and_lb1_with_an_infinite_t1():
    """theta >= s_2: T1 = LB1 = inf (exact +inf on both sides, certified in ball mode)."""
    inf_inst = {**LOWRANK, "theta": "0.1"}
    rep = check_inequality(sp.Ge(T1, LB1), [], [LOWRANK, inf_inst], symbolic=False)
    assert rep.verdict == "PASS" and rep.certified == 2
    strict = check_inequality(sp.Gt(T1, LB1), [], [inf_inst], symbolic=False, shrink=False)
    assert strict.verdict == "FAIL"  # inf > inf is false
    nonempty = check_inequality(sp.Le(T0, T1), L1_HYPS, [LOWRANK, inf_inst], symbolic=False)
    assert nonempty.verdict == "PASS" and nonempty.counts["PASS"] == 2


def test_p4_bound_on_p4_instances_certifies_only_where_the_noise_is_aligned():
    rep = check_inequality(sp.Le(T0, UB0), [], "P4", count=3, seed=0, corners=False,
                           symbolic=False)
    assert rep.verdict == "PASS" and rep.counts["PASS"] == 3
    for o in rep.outcomes:
        aligned = o.instance["noise_kind"] == "worst"
        assert o.certified == aligned, o.note
        if not aligned:
            assert "ball mode abstains" in o.note
