"""The example's tests: run with the dmf-verify pytest plugin (installed: it loads itself;
otherwise `pytest -p verify.pytest_plugin`).

The true bound must pass on every admissible instance, certified; the false one must be
caught (a FAIL) with a shrunk counterexample that is minimal: no field of it can be
simplified one step further (verify.shrink's candidates) with the inequality still failing.
"""

import mpmath
from hypothesis import given, settings

from user_claim.claims import K2_RESTATED, TIGHT_FLOW
from verify.inequality import Ceil, assert_holds
from verify.shrink import simpler_values
from verify.strategies import instances


def test_k2_restated_holds_certified_on_admissible_instances():
    rep = K2_RESTATED.check()
    rep.assert_pass()
    decided = rep.counts["PASS"] + rep.counts["FAIL"]
    assert rep.counts["FAIL"] == 0 and decided >= 10
    assert rep.certified == decided  # every verdict proved by the enclosures
    assert rep.symbolic.answer is not False  # SymPy: unknown is allowed, a refutation is not
    assert 0.9 < rep.tightness["max"] <= 1  # nearly attained, never exceeded


def _candidates(inst):
    for key in sorted(inst):
        for value in simpler_values(key, inst[key]):
            yield {**inst, key: value}


def test_tight_flow_variant_fails_with_a_minimal_shrunk_counterexample():
    rep = TIGHT_FLOW.check(shrink_tries=1000)
    assert rep.verdict == "FAIL"
    assert rep.counts["FAIL"] >= 1 and rep.counterexample is not None
    small = rep.shrunk
    assert small is not None and small.verdict == "FAIL" and small.certified
    assert small.ratio > 1  # observed K above the claimed bound
    # minimal: every one-step simpler instance passes, is N/A or is rejected
    for cand in _candidates(dict(small.instance)):
        try:
            verdict = TIGHT_FLOW.check(instances=[cand], shrink=False, symbolic=False,
                                       certify=False, record=False).verdict
        except ValueError:
            continue
        assert verdict != "FAIL", cand


@settings(max_examples=10, deadline=None)
@given(instances("K2"))
def test_k2_with_callables_of_the_simulation_handle(inst):
    """The same bound through assert_holds: the handle's tau, rho, eta are arb balls in
    ball mode, so the verdict is certified."""
    out = assert_holds(lambda i, s: s.hitting_time(),
                       lambda i, s: Ceil(s.rho() * s.tau(s.alpha ** s.N, s.d) / s.eta),
                       inst, "<=", name="K <= ceil(rho tau / eta) (callables)", spec="K2")
    assert out.verdict == "PASS" and out.certified


def test_a_limit_that_no_precision_decides_is_undecided_not_passed():
    """x_k^N < t holds for every k (S1), but at k = 2000 the gap is about 2^-2000: below the
    rounding of 250 digits and of 512-bit balls. The plugin reports UNDECIDED (an xfail)."""
    inst = {"depth": 2, "t": 1.0, "alpha": 0.5, "eta_fraction": 0.5}
    assert_holds(lambda i, s: s.power(2000), lambda i, s: s.t, inst, "<",
                 name="x_2000^N < t (S1 at the limit)")
