"""The certified volume stage of P4 with the Weyl-extremal noise (verify/volume/perturbed.py):
certified PASS at volume, the same verdicts and T0~ as the high-precision check, able to
fail (a bound of the claim's ball evaluators tightened by 2 % is a certified FAIL; an eta
ball that misses the mpmath eta is a FAIL of the evaluators), deterministic."""

import importlib
import re
from fractions import Fraction

import mpmath
import pytest
from flint import arb, ctx

from bounds import enclosures, get_claim, perturbed
from verify.checks import check
from verify.volume import VOLUME, _chunk, run_volume
from verify.volume.perturbed import GRID, _p4_exact_t

KEYS = {"n", "depth", "spectrum", "r", "seed", "e", "noise_kind", "eps", "theta", "alpha",
        "eta_fraction"}


def test_p4_has_a_volume_stage_and_its_ball_evaluators_are_registered():
    assert "P4" in VOLUME
    ev = get_claim("P4").evaluators
    for name in ("p4_step_limit_ball", "p4_bounds_real_ball"):
        assert ev.location(name)[0] == "bounds.enclosures"


def test_every_p4_volume_verdict_is_a_certified_pass():
    r = run_volume("P4", 100, seed=3)
    assert r.count == 100 and r.counts["PASS"] == 100 and r.certified == 100, r.as_dict()
    assert r.best_tightness is not None and 0 < r.best_tightness <= 1 + 1e-12, r.best_tightness


def test_drawn_instances_are_weyl_extremal_with_exact_eigenvalues():
    for _, inst, _ in _chunk(("P4", 0, 0, 60)):
        assert set(inst) == KEYS and inst["noise_kind"] == "worst"
        s, r, e = inst["spectrum"], inst["r"], inst["e"]
        assert len(s) == inst["n"] and 1 <= r < inst["n"]
        for v in s + [e]:
            assert Fraction(v) % Fraction(GRID) == 0, inst
        assert s[r - 1] - e > s[r] + e and 4 * e <= s[r - 1] - s[r]  # the groups never swap
        t = _p4_exact_t(inst)
        assert t is not None
        with mpmath.workdps(60):  # exact: every value is a multiple of 2^-24 below 4
            w = perturbed.weyl_extremal_eigenvalues([mpmath.mpf(v) for v in s], r, mpmath.mpf(e))
            assert [mpmath.mpf(x) for x in t] == w, (t, w)
    assert _p4_exact_t(dict(inst, noise_kind="random")) is None


def _observed(note):
    m0, m1 = re.search(r"T0~ = (\d+)", note), re.search(r"T1~ = (\d+)", note)
    return (m0 and m0.group(1)), (m1 and m1.group(1))


def test_p4_volume_verdicts_and_steps_agree_with_the_high_precision_check():
    for _, inst, d in _chunk(("P4", 0, 0, 8)):
        o = check("P4", inst)
        assert o.verdict == d.verdict == "PASS", (inst, o, d)
        T0, T1 = _observed(d.note)
        assert T0 == o.observed["T0~"], (inst, o.observed, d.note)
        if T1 is not None and o.observed["T1~"].isdigit():
            assert T1 == o.observed["T1~"], (inst, o.observed, d.note)
        # the volume ratio is T0~/ceil(UB0~), the HP check's T0~/UB0~
        ub0 = float(o.predicted["UB0_real"])
        assert d.ratio == pytest.approx(int(T0) / -(-ub0 // 1), rel=1e-12), (o.predicted, d)


def _patch(monkeypatch, name, wrap):
    modname, attr = get_claim("P4").evaluators.location(name)
    module = importlib.import_module(modname)
    original = getattr(module, attr)
    monkeypatch.setattr(module, attr, lambda *a, **k: wrap(original(*a, **k)))


@pytest.mark.parametrize("component,factor", [(0, 0.98), (1, 1.02)])
def test_a_bound_tightened_by_two_percent_is_a_certified_fail(monkeypatch, component, factor):
    """UB0~ lowered by 2 %, or L (LB1~'s real argument) raised by 2 %."""
    def wrap(parts):
        parts = list(parts)
        if parts[component] is not None:
            parts[component] = parts[component] * arb(factor)
        return tuple(parts)

    _patch(monkeypatch, "p4_bounds_real_ball", wrap)
    r = run_volume("P4", 300, seed=0)
    assert r.counts["FAIL"] >= 1 and r.status == "FAIL", r.as_dict()["counts"]
    iid, inst, d = r.failures[0]
    assert d.certified and iid.startswith("P4-0-") and set(inst) == KEYS
    assert ("T0~ > UB0~" if component == 0 else "T1~ < LB1~") in d.note, d.note


def test_an_eta_ball_that_misses_the_mpmath_eta_is_a_fail_of_the_evaluators(monkeypatch):
    _patch(monkeypatch, "p4_step_limit_ball", lambda b: b * arb("0.98"))
    r = run_volume("P4", 5, seed=0)
    assert r.counts["FAIL"] == 5, r.as_dict()["counts"]
    assert all("evaluators disagree" in d.note for _, _, d in r.failures)


def test_p4_ball_evaluators_enclose_their_mpmath_twins():
    t, s, e, eps, th, a, eta = ["1.875", "0.25"], ["2", "0.125"], "0.125", "0.0625", "0.03125", "0.25", "0.125"
    with mpmath.workdps(50), ctx.workprec(200):
        M = mpmath.mpf
        for N in (2, 3, 5):
            lim = perturbed.p4_step_limit([M(x) for x in t], [M(x) for x in s], 1, M(e), M(a), N)
            lb = enclosures.p4_step_limit_ball([arb(x) for x in t], [arb(x) for x in s], 1, arb(e), arb(a), N)
            assert lb.overlaps(arb(mpmath.nstr(lim, 45), float(lim) * 1e-40))
            ub, L = perturbed.p4_bounds_real([M(x) for x in t], [M(x) for x in s], 1, M(e), M(eps), M(th), M(a), M(eta), N)
            ubb, Lb = enclosures.p4_bounds_real_ball([arb(x) for x in t], [arb(x) for x in s], 1, arb(e), arb(eps),
                                                     arb(th), arb(a), arb(eta), N)
            assert ubb.overlaps(arb(mpmath.nstr(ub, 45), float(ub) * 1e-40))
            assert Lb.overlaps(arb(mpmath.nstr(L, 45), float(L) * 1e-40))

