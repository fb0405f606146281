"""Checks of P1-P5: sampled instances pass, pinned edge cases pass, negative controls
(broken hypotheses, bounds tightened by 2%) are caught as FAIL, bad input is refused."""


import mpmath
import pytest
from hypothesis import example, given

from bounds.perturbed import p4_step_limit

from verify.checks import FAIL, NOT_APPLICABLE, PASS, check
from verify.checks.perturbed import (
    check_p1,
    check_p2,
    check_p3,
    check_p4,
    check_p5,
    observed_critical_noise,
    run_check,
)
from verify.strategies import instances

# ---------------------------------------------------------------------------------------
# pinned edge cases

P1_E0_DEPTH2 = {"n": 2, "depth": 2, "spectrum": [1.0, 0.0], "seed": 3, "e": 0.0,
                "noise_kind": "random", "r": 0, "alpha": 0.1, "eta_fraction": 0.5, "delta": 1e-6}
P1_WORST_NEG = {"n": 3, "depth": 3, "spectrum": [1.5, 0.4, 0.0], "seed": 5, "e": 0.3,
                "noise_kind": "worst", "r": 2, "alpha": 0.2, "eta_fraction": 0.9, "delta": 1e-3}
# alpha^N = 0.98 t_1: the top lane starts just below its level t_1 - delta t_1
P1_NEAR_LEVEL = {"n": 2, "depth": 4, "spectrum": [1.0, 0.3], "seed": 1, "e": 0.0,
                 "noise_kind": "random", "r": 0, "alpha": 0.98 ** 0.25, "eta_fraction": 0.7,
                 "delta": 1e-6}

P2_E0 = {"n": 3, "spectrum": [1.0, 0.5, 0.0], "seed": 2, "e": 0.0, "noise_kind": "random"}
P2_ZERO_TAIL = {"n": 3, "spectrum": [1.0, 0.5, 0.0], "seed": 2, "e": 0.3, "noise_kind": "random"}

P3_E0_DEPTH2 = {"depth": 2, "s": 1.0, "d": 0.2, "e": 0.0, "t_source": "interval", "t_frac": 0.5,
                "alpha": 0.01, "eta_fraction": 0.5}
P3_NEAR_LEVEL = {"depth": 3, "s": 1.0, "d": 0.3, "e": 0.2, "t_source": "interval",
                 "t_frac": 0.0, "alpha": (0.999 * 0.3) ** (1 / 3), "eta_fraction": 0.9}
P3_MATRIX = {"depth": 4, "d": 0.25, "e": 0.1, "t_source": "matrix", "spectrum": [1.0, 0.5, 0.0],
             "seed": 9, "index": 0, "noise_kind": "random", "alpha": 0.3, "eta_fraction": 0.6}


def _p45(**kw):
    base = {"n": 3, "depth": 2, "spectrum": [1.5, 1.0, 0.0], "r": 2, "seed": 4, "e": 0.0,
            "noise_kind": "random", "eps": 1e-6, "theta": 0.01, "alpha": 0.05,
            "eta_fraction": 0.5}
    base.update(kw)
    return base


P45_E0_EPS_TINY = _p45()
P45_WORST = _p45(n=2, spectrum=[1.0, 0.05], r=1, e=0.1, noise_kind="worst", eps=0.01,
                 theta=0.02, alpha=0.05, depth=3)


# ---------------------------------------------------------------------------------------
# sampled instances pass


@given(instances("P1"))
@example(P1_E0_DEPTH2)
@example(P1_WORST_NEG)
@example(P1_NEAR_LEVEL)
def test_p1_passes(inst):
    out = check("P1", inst)
    assert out.verdict == PASS, out


@given(instances("P2"))
@example(P2_E0)
@example(P2_ZERO_TAIL)
def test_p2_passes(inst):
    out = check("P2", inst)
    assert out.verdict == PASS, out


@given(instances("P3"))
@example(P3_E0_DEPTH2)
@example(P3_NEAR_LEVEL)
@example(P3_MATRIX)
def test_p3_passes(inst):
    out = check("P3", inst)
    assert out.verdict == PASS, out


@given(instances("P4"))
@example(P45_E0_EPS_TINY)
@example(P45_WORST)
def test_p4_passes(inst):
    out = check("P4", inst)
    assert out.verdict == PASS, out


@given(instances("P5"))
@example(P45_E0_EPS_TINY)
@example(P45_WORST)
def test_p5_passes(inst):
    out = check("P5", inst)
    assert out.verdict == PASS, out


# ---------------------------------------------------------------------------------------
# negative controls (a): a dropped hypothesis breaks the conclusion, and the checker sees it


def test_p1_step_above_bound_is_caught():
    inst = dict(P1_E0_DEPTH2, eta_fraction=2.5, delta=1e-3)
    assert check("P1", inst).verdict == NOT_APPLICABLE
    out = run_check(check_p1, inst, require_hypotheses=False)
    assert out.verdict == FAIL, out
    assert "exceeds" in out.note or "diverged" in out.note


def test_p4_noiseless_tail_bound_is_caught(monkeypatch):
    """LB1 built from s_{r+1} instead of s_{r+1} + e (a wrong bound put into bounds/) fails
    on a Weyl-extremal E: the check reaches the bound through the registry."""
    from bounds import perturbed

    inst = P45_WORST
    assert check("P4", inst).verdict == PASS
    real = perturbed.p4_bounds_real

    def noiseless_tail(t, s, r, e, eps, theta, alpha, eta, N):
        return real(t, s, r, 0, eps, theta, alpha, eta, N)  # UB0 uses t only; LB1 drops e

    monkeypatch.setattr(perturbed, "p4_bounds_real", noiseless_tail)
    out = check("P4", inst)
    assert out.verdict == FAIL, out


# ---------------------------------------------------------------------------------------
# negative controls (b): each bound tightened by 2% is caught on some instance

# small steps make the discrete hitting times close to the flow times
P3_TIGHT = {"depth": 2, "s": 1.0, "d": 0.2, "e": 0.0, "t_source": "interval", "t_frac": 0.5,
            "alpha": 0.05, "eta_fraction": 0.01}
P4_TIGHT = {"n": 2, "depth": 2, "spectrum": [1.0, 0.2], "r": 1, "seed": 0, "e": 0.05,
            "noise_kind": "worst", "eps": 0.1, "theta": 0.05, "alpha": 0.05,
            "eta_fraction": 0.02}
P5_TIGHT = {"n": 2, "depth": 2, "spectrum": [1.0, 0.0], "r": 1, "seed": 0, "e": 0.0,
            "noise_kind": "random", "eps": 0.1, "theta": 0.001, "alpha": 0.01,
            "eta_fraction": 0.01}
P2_TIGHT = {"n": 3, "spectrum": [1.0, 0.5, 0.2], "seed": 0, "e": 0.1, "noise_kind": "worst",
            "r": 1}


def _caught(fn, candidates, key):
    """Some candidate passes as stated and FAILs with the bound `key` tightened by 2%."""
    for inst in candidates:
        if run_check(fn, inst).verdict != PASS:
            continue
        if run_check(fn, inst, tighten={key: 0.98}).verdict == FAIL:
            return True
    return False


@pytest.mark.parametrize("key", ["lower", "upper"])
def test_p3_tightened_bounds_are_caught(key):
    cands = [dict(P3_TIGHT, eta_fraction=f) for f in (0.01, 0.003)]
    assert _caught(check_p3, cands, key)


@pytest.mark.parametrize("key", ["T0", "T1", "T0_any"])
def test_p4_tightened_bounds_are_caught(key):
    cands = [dict(P4_TIGHT, eta_fraction=f) for f in (0.02, 0.005)]
    if key == "T0_any":  # the W-only bound is tight for the Weyl-extremal E with r = 1
        cands = [dict(c, e=0.0) for c in cands]
    assert _caught(check_p4, cands, key)


def test_p5_tightened_error_bound_is_caught():
    cands = [dict(P5_TIGHT, eta_fraction=f) for f in (0.01, 0.002)]
    assert _caught(check_p5, cands, "error")


@pytest.mark.parametrize("key", ["weyl", "limit", "frobenius"])
def test_p2_tightened_bounds_are_caught(key):
    # (the spectral bound 2e is not approached on any instance we tried: ratios stay <= ~0.6)
    cands = [P2_TIGHT]
    if key == "frobenius":
        cands = [dict(P2_ZERO_TAIL, e=0.3), dict(P2_TIGHT, noise_kind="random")]
    found = False
    for inst in cands:
        if run_check(check_p2, inst, tighten={key: 0.98}).verdict == FAIL:
            found = True
    assert found


# ---------------------------------------------------------------------------------------
# bad input


@pytest.mark.parametrize("cid,inst", [("P1", P1_E0_DEPTH2), ("P3", P3_E0_DEPTH2),
                                      ("P4", P45_WORST), ("P5", P45_WORST)])
def test_nan_alpha_is_refused(cid, inst):
    with pytest.raises(ValueError, match="alpha"):
        check(cid, dict(inst, alpha=float("nan")))


@pytest.mark.parametrize("cid,inst", [("P1", P1_E0_DEPTH2), ("P2", P2_E0), ("P3", P3_E0_DEPTH2),
                                      ("P4", P45_WORST), ("P5", P45_WORST)])
def test_negative_e_is_refused(cid, inst):
    with pytest.raises(ValueError, match=r"\be\b"):
        check(cid, dict(inst, e=-0.1))


def test_missing_field_is_named():
    bad = dict(P1_E0_DEPTH2)
    del bad["delta"]
    with pytest.raises(ValueError, match="delta"):
        check("P1", bad)


# ---------------------------------------------------------------------------------------
# critical noise: the W-only prediction e* is below the observed critical noise


def test_critical_noise_below_observed():
    from bounds.perturbed import critical_noise

    s, r, eps, theta, alpha, N = [1.0, 0.1], 1, 0.1, 0.05, 0.1, 2
    with mpmath.workdps(30):
        eta = mpmath.mpf("0.5") * p4_step_limit(
            [mpmath.mpf(1.3), mpmath.mpf("0.4")], [mpmath.mpf(v) for v in s], r,
            mpmath.mpf("0.3"), mpmath.mpf(alpha), N)
        est = critical_noise(s, r, eps, theta, alpha, eta, N)
    obs = observed_critical_noise(s, r, eps, theta, alpha, eta, N, dps=30)
    assert est is not None and obs is not None
    assert float(est) <= obs[0] * 1.0000001
    assert 0 < float(est) / obs[0] <= 1


# P4 with a hypothesis dropped: the step bound (overshoot of the (r+1)-th eigenvalue above
# theta >= s_{r+1} + e, where LB1~ is infinite) and theta >= alpha^N (T1~ = -1)
P4_STEP_DROPPED = {"n": 2, "depth": 2, "spectrum": [1.0, 0.9], "r": 1, "seed": 0, "e": 0.01,
                   "noise_kind": "worst", "eps": 0.1, "theta": 0.95, "alpha": 0.1,
                   "eta_fraction": 2.5}
P4_THETA_BELOW_ALPHA_N = dict(P4_STEP_DROPPED, eta_fraction=0.5, theta=0.005)


@pytest.mark.parametrize("inst", [P4_STEP_DROPPED, P4_THETA_BELOW_ALPHA_N])
def test_p4_hypothesis_dropped_is_caught(inst):
    assert check("P4", inst).verdict == NOT_APPLICABLE
    out = run_check(check_p4, inst, require_hypotheses=False)
    assert out.verdict == FAIL, out


def test_critical_noise_ratio_is_left_out_when_the_observation_is_censored():
    # nonempty up to the end of the searched noise range (e_max = (s_r - s_r+1)/2): no ratio;
    # at 0.999 e* the Weyl-extremal interval is indeed nonempty (T1 infinite), as predicted
    inst = {"n": 2, "depth": 2, "spectrum": [1.2514666160665917, 0.0748452609722796], "r": 1,
            "seed": 1623538400, "e": 0.26721415135453747, "noise_kind": "random",
            "eps": 1.929512739962083e-05, "theta": 0.7465632818532622,
            "alpha": 0.00010429745865860962, "eta_fraction": 0.7434262170393426}
    out = check("P4", inst)
    assert out.verdict == PASS and "e*/e_observed" not in out.extra_ratios
