"""The certified volume stage of R1 (verify/volume/reduction.py): certified PASSes, the
float64 Y and eta against the HP check's, the ball enclosures against an independent
60-digit full-GD run, phi_ball against the scalar phi, and negative controls: a wrong phi
(exponent N-2) and a shifted reduced iterate are certified FAILs."""

import json

import mpmath
import numpy as np
import pytest
from flint import arb, arb_mat, ctx

from bounds import enclosures
from verify.checks import check
from verify.volume import _chunk, run_volume
from verify.volume.reduction import TOL, certify_r1, decide_r1, observed_f64


def test_every_volume_verdict_is_a_certified_pass():
    r = run_volume("R1", 100, seed=3)
    assert r.counts["PASS"] == 100 and r.certified == 100, r.as_dict()
    assert set(r.methods) <= {"arb-128", "arb-256"} and r.worst_slack >= 0


def test_the_float64_y_and_eta_are_the_hp_checks_to_rounding():
    from verify.checks.reduction import step_size_of
    from verify.problems import r1_observed_matrix

    items = _chunk(("R1", 0, 0, 8))
    for (_, inst, _), (Y, eta) in zip(items, observed_f64([x[1] for x in items])):
        assert np.array_equal(Y, Y.T)  # exactly symmetric
        obs = r1_observed_matrix(inst, 30)
        n = inst["n"]
        ref = np.array([[float(obs.Y[i, j]) for j in range(n)] for i in range(n)])
        assert np.max(np.abs(Y - ref)) <= 1e-14 * max(1.0, np.max(np.abs(ref)))
        assert eta == pytest.approx(float(step_size_of(inst, obs.t, dps=30)), rel=1e-13)


def test_volume_verdicts_agree_with_the_high_precision_check():
    for _, inst, d in _chunk(("R1", 0, 0, 10)):
        o = check("R1", inst)
        assert (o.verdict, d.verdict) == ("PASS", "PASS"), (inst, o, d)
        assert d.certified and "eigen form checked" in d.note, d


def test_the_balls_contain_an_independent_60_digit_full_gd_run():
    """verify.fullgd.simulate_full (mpmath, every factor updated) on the same exact float
    Y and eta: its factors and product at the last step lie in the certified balls."""
    from verify.fullgd import simulate_full

    items = _chunk(("R1", 0, 0, 5))
    for (_, inst, _), (Y, eta) in zip(items, observed_f64([x[1] for x in items])):
        N, K, n = inst["depth"], inst["steps"], inst["n"]
        c = certify_r1(Y, eta, inst["alpha"], N, K, 256)
        run = simulate_full(Y.tolist(), depth=N, eta=eta, alpha=inst["alpha"], steps=K, dps=60)
        assert c.matrix == "in" and len(c.factors) == N
        with mpmath.workdps(60):
            for Wb, W in zip(c.factors + (c.product,), run.factors + (run.products[K],)):
                for i in range(n):
                    for j in range(n):
                        ref = mpmath.nstr(W[i, j], 58)
                        assert Wb[i, j].overlaps(arb(ref, 1e-55)), (inst, i, j, Wb[i, j], ref)


def test_phi_ball_contains_the_scalar_phi_and_is_it_on_the_eigenvalues():
    from bounds.flow import phi

    rng = np.random.default_rng(5)
    for N in (2, 3, 5):
        x, t, eta = float(rng.uniform(0.05, 1)), float(rng.uniform(-0.5, 2)), float(rng.uniform(0.01, 0.3))
        with mpmath.workdps(60):
            ref = mpmath.nstr(phi(x, t, eta, N), 58)
        with ctx.workprec(200):
            assert enclosures.phi_ball(arb(x), arb(t), arb(eta), N).overlaps(arb(ref, 1e-55))
    # the matrix form on X = alpha I, Y symmetric: Q diag(phi_(t_i)(alpha)) Q^T (mpmath)
    Y, eta = observed_f64([{"n": 3, "depth": 3, "spectrum": [1.5, 0.5, 0.1], "seed": 4,
                            "noise": 0.2, "alpha": 0.4, "eta_fraction": 0.7, "steps": 1}])[0]
    with mpmath.workdps(60):
        t, Q = mpmath.eigsy(mpmath.matrix(Y.tolist()))
        D = mpmath.diag([phi(0.4, t[i], eta, 3) for i in range(3)])
        ref = Q * D * Q.T
        with ctx.workprec(200):
            X = arb_mat(3, 3)
            for i in range(3):
                X[i, i] = arb(0.4)
            M = enclosures.phi_ball(X, arb_mat(Y.tolist()), arb(eta), 3)
            for i in range(3):
                for j in range(3):
                    assert M[i, j].overlaps(arb(mpmath.nstr(ref[i, j], 55), 1e-50))


def test_a_wrong_phi_is_a_certified_fail(monkeypatch):
    def wrong(x, t, eta, N):  # exponent N-2 instead of N-1
        p = x ** (N - 2)
        return x + p * (t - x ** N) * eta

    monkeypatch.setattr(enclosures, "phi_ball", wrong)
    r = run_volume("R1", 30, seed=0)
    assert r.counts["FAIL"] == 30 and r.certified == 30, r.as_dict()["counts"]
    iid, inst, d = r.failures[0]
    assert "outside [-tol, tol]" in d.note and iid.startswith("R1-0-")


def test_a_shifted_reduced_iterate_is_a_certified_fail(monkeypatch):
    """phi_ball shifted by 2^-80 I (far above tol = 2^-93 x scale, far below any float
    difference): the factors of full GD leave the box around it."""
    real = enclosures.phi_ball

    def shifted(x, t, eta, N):
        y = real(x, t, eta, N)
        return y + arb(2.0**-80) if isinstance(y, arb) else y + _eye(y.nrows()) * arb(2.0**-80)

    monkeypatch.setattr(enclosures, "phi_ball", shifted)
    r = run_volume("R1", 20, seed=0)
    assert r.counts["FAIL"] == 20 and r.certified == 20, r.as_dict()["counts"]
    assert all("at k = 1" in d.note for _, _, d in r.failures)


def _eye(n):
    M = arb_mat(n, n)
    for i in range(n):
        M[i, i] = 1
    return M


R1_PINS = [
    # the spec's corner: n = 6 with a zero eigenvalue
    {"n": 6, "depth": 3, "spectrum": [2.0, 1.5, 1.0, 0.5, 0.2, 0.0], "seed": 11, "noise": 0.3,
     "alpha": 0.3, "eta_fraction": 0.95, "steps": 20},
    # n = 2, N = 2, the longest run at a large step: 256 bits
    {"n": 2, "depth": 2, "spectrum": [1.5, 0.25], "seed": 3, "noise": 0.1, "alpha": 0.5,
     "eta_fraction": 0.9, "steps": 60},
    # n = 1 (scalar factors)
    {"n": 1, "depth": 5, "spectrum": [1.5], "seed": 3, "noise": 0.1, "alpha": 0.5,
     "eta_fraction": 0.9, "steps": 60},
    # Y = 0: a triple eigenvalue, the eigen form is skipped
    {"n": 3, "depth": 4, "spectrum": [0.0, 0.0, 0.0], "seed": 3, "noise": 0.0, "alpha": 0.5,
     "eta_fraction": 0.9, "steps": 10},
]


@pytest.mark.parametrize("inst", R1_PINS, ids=["n6", "n2-N2", "n1", "Y0"])
def test_pinned_edge_cases(inst):
    (d,) = decide_r1([inst])
    assert d.verdict == "PASS" and d.certified, d
    assert ("skipped" in d.note) == (inst["noise"] == 0 and len(set(inst["spectrum"])) == 1), d.note
    if inst["steps"] == 60:
        assert d.method == "arb-256"  # 128 bits leave the box: the radius grows ~1 bit/step


def test_tolerance_is_the_documented_one():
    Y, eta = observed_f64([R1_PINS[0]])[0]
    c = certify_r1(Y, eta, 0.3, 3, 20, 128)
    m = float(np.max(np.abs(Y)))
    assert 1 < m <= 2 and c.tol == TOL * 2 and c.bound <= c.tol  # scale: 2^ceil(log2 ||Y||_max)
    assert TOL == 2.0**-93


def test_volume_instances_are_accepted_by_the_cli():
    from verify.cli import main

    inst = _chunk(("R1", 0, 0, 1))[0][1]
    assert main(["check", "R1", "--instance", json.dumps(inst)]) == 0
