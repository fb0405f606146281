"""Large problems: the float64 representation (verify/linalg.py), the float64 lanes
(verify/fastlanes.py), their agreement with the mpmath path on small n, the rigour of the
eigenvalue enclosures against 50-digit references, streamed full-matrix runs, and n = 1000
(marked slow; timings are the benchmark's, benchmarks/bench_scale.py)."""

import json

import mpmath
import numpy as np
import pytest

from verify import linalg as la
from verify.engine import Event, simulate_reduced
from verify.explore import make_setting, predict, simulate
from verify.fastlanes import run_lanes

BASE = dict(depth=3, alpha="0.05", eta="0.2", spectrum=["1", "0.1", "0.05"], rank=1,
            eps="0.1", theta="0.05")


def _mp_eigs(A, dps=50):
    with mpmath.workdps(dps):
        ev = mpmath.eigsy(mpmath.matrix(A.tolist()), eigvals_only=True)
        return sorted((ev[i] for i in range(A.shape[0])), reverse=True)


# ---------------------------------------------------------------- rigorous enclosures


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_enclosure_contains_the_50_digit_eigenvalues(seed):
    rng = np.random.default_rng(seed)
    n = 12
    G = rng.standard_normal((n, n))
    A = (G + G.T) / 2
    A[0, 0] += 1e-3  # no structure to lean on
    A = np.triu(A) + np.triu(A, 1).T
    enc = la.eig_enclosure(A)
    ref = _mp_eigs(A)
    with mpmath.workdps(50):
        for w, r, x in zip(enc.w, enc.rad, ref):
            assert abs(mpmath.mpf(float(w)) - x) <= mpmath.mpf(float(r))
    assert enc.max_rad < 1e-12


def test_enclosure_of_clustered_and_repeated_eigenvalues():
    orth = la.orthogonal(np.random.default_rng(4), 10)
    s = np.array([1.0, 1.0, 1.0, 0.5, 0.5 + 1e-14, 1e-3, 0.0, 0.0, 0.0, -0.25])
    A, err = la.sym_product(orth.Q, s)
    enc = la.eig_enclosure(A)
    ref = _mp_eigs(A)
    with mpmath.workdps(50):
        assert all(abs(mpmath.mpf(float(w)) - x) <= mpmath.mpf(float(r))
                   for w, r, x in zip(enc.w, enc.rad, ref))


def _polar(Qf, dps=50):
    """The orthogonal polar factor of a float matrix at dps digits (Newton's iteration)."""
    with mpmath.workdps(dps):
        X = mpmath.matrix(Qf.tolist())
        for _ in range(8):
            X = (X + mpmath.inverse(X).T) / 2
        return X


def test_random_noise_setting_encloses_the_eigenvalues_of_the_instance_it_defines():
    """float64 mode: W = P_V diag(s) P_V^T and E = e P_U diag(l) P_U^T with P the polar
    factors of the computed orthogonal matrices; t_i +- t_rad_i must contain the 50-digit
    eigenvalues of that Y."""
    st = make_setting(**{**BASE, "spectrum": ["1", "0.5", "0.3", "0.1", "0.05", "0.01", "0"],
                         "rank": 2}, noise="0.04", noise_kind="random", seed=5, linalg="float64")
    n = st.n
    rng = np.random.default_rng(st.seed)
    V = la.orthogonal(rng, n).Q
    rngE = np.random.default_rng(st.seed + 1)
    U = la.orthogonal(rngE, n).Q
    u = rngE.uniform(-1.0, 1.0, n)
    sign = 1 if rngE.integers(0, 2) == 1 else -1
    with mpmath.workdps(50):
        PV, PU = _polar(V), _polar(U)
        j = int(np.argmax(np.abs(u)))
        lam = [mpmath.mpf(float(x)) / abs(mpmath.mpf(float(u[j]))) for x in u]
        lam[j] = mpmath.mpf(sign)
        Y = (PV * mpmath.diag(list(st.s)) * PV.T
             + PU * mpmath.diag([mpmath.mpf("0.04") * x for x in lam]) * PU.T)
        ev = mpmath.eigsy(Y, eigvals_only=True)
        ref = sorted((ev[i] for i in range(n)), reverse=True)
        for t, r, x in zip(st.t, st.t_rad, ref):
            assert abs(t - x) <= mpmath.mpf(r), (t, r, x)
    assert max(st.t_rad) < 1e-13


def test_exact_product_bound_holds_and_beats_the_a_priori_one():
    rng = np.random.default_rng(7)
    A, B = rng.standard_normal((30, 40)), rng.standard_normal((40, 20)) * 1e-3
    C, err = la.exact_product(A, B)
    with mpmath.workdps(60):
        Cm = mpmath.matrix(A.tolist()) * mpmath.matrix(B.tolist())
        d = mpmath.sqrt(mpmath.fsum((Cm[i, j] - C[i, j]) ** 2 for i in range(30) for j in range(20)))
    assert d <= err < la.product_error(A, B) / 10


def test_diag_minus_low_rank_norm_is_the_spectral_norm():
    rng = np.random.default_rng(3)
    for n, r in ((4, 1), (40, 3), (200, 2)):
        p, Z = rng.uniform(-0.2, 1.0, n), 0.4 * rng.standard_normal((n, r))
        w = np.linalg.eigvalsh(np.diag(p) - Z @ Z.T)
        assert la.diag_minus_lowrank_norm(p, Z) == pytest.approx(max(abs(w[0]), abs(w[-1])),
                                                                 rel=1e-13)


def test_the_seeded_orthogonal_matrix_is_the_mpmath_one_to_float_accuracy():
    from verify.instances import random_orthogonal

    Qm = random_orthogonal(9, seed=11, dps=40)
    o = la.orthogonal(np.random.default_rng(11), 9)
    assert max(abs(float(Qm[i, j]) - o.Q[i, j]) for i in range(9) for j in range(9)) < 1e-14
    assert o.defect < 1e-13


# ---------------------------------------------------------------- the float64 lanes


@pytest.mark.parametrize("eta, steps", [(0.2, 6000), (1.5, 600), (0.05, 3000)])
def test_float64_lanes_decide_what_the_engine_decides(eta, steps):
    rng = np.random.default_rng(int(eta * 100))
    n = 40
    t = np.concatenate([[1.0, 0.5], rng.uniform(-0.1, 0.3, n - 2)])
    evs = [(i, 0.9 * t[i], 0.0, False) for i in range(n) if t[i] > 0] + [(1, 0.3, 0.0, True)]
    fast = run_lanes(t, np.zeros(n), depth=3, alpha=0.05, eta=eta, events=evs, max_steps=steps,
                     divergence_bound=10.0)
    ref = simulate_reduced([repr(float(v)) for v in t], depth=3, alpha=0.05, eta=eta, dps=30,
                           events=[Event(lane, repr(float(d)), strict=s) for lane, d, _, s in evs],
                           max_steps=steps, stop_when_settled=False)
    for (step, amb, _), h in zip(fast.hits, ref.hits):
        if not amb and not h.ambiguous:
            assert step == h.step
    assert [int(d) if d >= 0 else None for d in fast.diverged] == [
        lane.divergence_step for lane in ref.lanes]


def test_a_lane_inside_the_float64_margin_is_ambiguous_and_explore_reruns_it_at_dps():
    # theta placed on x_2(40)^N as computed at 30 digits: float64 cannot decide step 40,
    # the gmpy2 engine at dps does
    st0 = make_setting(**{**BASE, "dps": 30}, linalg="mpmath")
    ref = simulate_reduced(st0.t, depth=3, alpha=st0.alpha, eta=st0.eta, dps=30,
                           checkpoints=[40], max_steps=40)
    with mpmath.workdps(30):
        theta = ref.checkpoints[40][1] ** 3 * (1 + mpmath.mpf("1e-17"))
    args = {**BASE, "theta": theta, "dps": 30}
    fast = simulate(make_setting(**args, linalg="float64"), max_steps=3000)
    slow = simulate(make_setting(**args, linalg="mpmath"), max_steps=3000)
    assert "re-run at dps 30" in fast["precision"]["iterates"]
    for key in ("status", "T0", "T1", "nonempty", "hitting_times", "decided"):
        assert fast[key] == slow[key], key


# ---------------------------------------------------------------- fast path = mpmath path


CASES = [
    dict(),                                                        # no noise, ok
    dict(noise="0.05"),                                            # Weyl-extremal noise
    dict(noise="0.03", noise_kind="random", seed=1),               # random noise
    dict(eta="5"),                                                 # diverged
    dict(theta=None, eta="0.3", spectrum=["1", "0.5", "0.05"], eps="0.5"),  # tie theta = s_2
    dict(spectrum=["2", "1", "0.5", "0.2", "0.1", "0.02"], rank=2, theta="0.05",
         noise="0.02", noise_kind="random", seed=3),
]


def _num(x):
    return None if x is None else float(mpmath.mpf(x))


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("steps", [400, 2500])
def test_the_float64_path_agrees_with_the_mpmath_path_on_every_field(case, steps):
    args = {**BASE, **case}
    fast_st = make_setting(**args, linalg="float64")
    slow_st = make_setting(**args, linalg="mpmath")
    fast, slow = simulate(fast_st, max_steps=steps), simulate(slow_st, max_steps=steps)
    assert set(fast) == set(slow)
    for key in fast:
        if key in ("error_in_interval", "limit_error", "limit_error_of_Y_plus"):
            a, b = _num(fast[key]), _num(slow[key])
            assert (a is None) == (b is None), key
            if a is not None:
                assert a == pytest.approx(b, rel=1e-9, abs=1e-13), key
        elif key == "precision":
            assert fast[key]["iterates"].startswith("float64")
        elif key == "reason" and fast[key] and "tie" not in fast[key]:
            assert fast[key].split(";")[0] == slow[key].split(";")[0]
        else:
            assert fast[key] == slow[key], key
    pf, ps = predict(fast_st), predict(slow_st)
    for key in ps:
        if key in ("precision", "undecided"):
            continue
        if key in ("step_bound", "step_bound_positivity", "critical_noise", "noise_norm"):
            a, b = _num(pf[key]), _num(ps[key])
            assert (a is None) == (b is None) and (a is None or a == pytest.approx(b, rel=1e-12))
        else:
            assert pf[key] == ps[key], key


def test_a_spectrum_needs_no_eigendecomposition_and_its_eigenvalues_are_exact(monkeypatch):
    import verify.explore as explore

    def boom(*a, **k):
        raise AssertionError("no eigendecomposition expected")

    monkeypatch.setattr(explore, "symmetric_eigen", boom)
    monkeypatch.setattr(la, "eig_enclosure", boom)
    for linalg in ("mpmath", "float64"):
        for extra in (dict(), dict(noise="0.05")):
            st = make_setting(**BASE, **extra, linalg=linalg)
            assert not st.enclosed
            assert predict(st)["precision"]["eigenvalues_Y"].startswith("exact")


def test_user_matrices_are_not_mutated_in_float64_mode():
    rng = np.random.default_rng(0)
    A = rng.standard_normal((40, 3))
    W = A @ A.T
    W[0, 1] += 1e-14
    E = 1e-3 * np.eye(40)
    keep_W, keep_E = W.copy(), E.copy()
    st = make_setting(depth=3, alpha="0.05", eta="0.05", target=W, perturbation=E, rank=2,
                      eps="0.1", linalg="float64")
    predict(st)
    simulate(st, max_steps=200)
    assert np.array_equal(W, keep_W) and np.array_equal(E, keep_E)
    assert any("symmetrized" in a for a in st.adjustments)
    assert any("clipped to 0" in a for a in st.adjustments)


def test_float64_file_errors_are_the_mpmath_ones():
    with pytest.raises(ValueError, match="not symmetric: entry"):
        make_setting(depth=3, alpha="0.05", eta="0.05", target=np.array([[1.0, 0.5], [0.4, 1.0]]),
                     rank=1, eps="0.1", linalg="float64")
    with pytest.raises(ValueError, match="not positive semidefinite"):
        make_setting(depth=3, alpha="0.05", eta="0.05", target=np.diag([1.0, -0.5]), rank=1,
                     eps="0.1", linalg="float64")


def test_predict_undecided_within_an_enclosure_is_named(monkeypatch):
    # an enclosure wide enough to straddle the gap s_2 > s_3 (forced: a radius of 0.5)
    st = make_setting(**{**BASE, "spectrum": ["1", "0.1", "0.05"]}, noise="0.01",
                      noise_kind="random", linalg="float64")
    import dataclasses

    wide = dataclasses.replace(st, t_rad=(0.5, 0.5, 0.5))
    p = predict(wide)
    assert p["T0_upper"] is None and "T0_upper" in p["undecided"]
    assert "corners" not in p and p["precision"]["bounds"].startswith("dps 50; the integer")


# ---------------------------------------------------------------- streamed full-matrix runs


@pytest.mark.parametrize("linalg", ["mpmath", "float64"])
def test_full_matrix_runs_store_no_matrix_per_step(monkeypatch, linalg):
    import verify.fullgd as fullgd

    real = fullgd.simulate_full
    runs = []

    def spy(*a, **k):
        run = real(*a, **k)
        runs.append(run)
        return run

    monkeypatch.setattr(fullgd, "simulate_full", spy)
    st = make_setting(**{**BASE, "dps": 20}, linalg=linalg)
    for steps in (60, 600):
        runs.clear()
        out = simulate(st, max_steps=steps, full_matrix=True)
        assert out["engine"] == "full-matrix"
        assert runs and all(len(run.products) == 0 for run in runs)


def test_full_matrix_memory_does_not_grow_with_steps():
    import tracemalloc

    st = make_setting(**{**BASE, "spectrum": [str(1 / (i + 1)) for i in range(40)],
                         "rank": 2, "theta": "0.3"}, linalg="float64")
    peaks = []
    for steps in (30, 300):
        tracemalloc.start()
        simulate(st, max_steps=steps, full_matrix=True)
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    assert peaks[1] < 1.5 * peaks[0] + 2**20


def test_float64_full_matrix_agrees_with_the_reduced_run():
    args = {**BASE, "noise": "0.03", "noise_kind": "random", "seed": 2}
    st = make_setting(**args, linalg="float64")
    red, full = simulate(st, max_steps=1200), simulate(st, max_steps=1200, full_matrix=True)
    for key in ("status", "T0", "T1", "nonempty", "hitting_times", "steps"):
        assert red[key] == full[key], key
    assert _num(red["limit_error"]) == pytest.approx(_num(full["limit_error"]), rel=1e-9)


# ---------------------------------------------------------------- n = 1000


def _spectrum_1000():
    rng = np.random.default_rng(0)
    return ["1", "0.5", "0.25"] + [repr(float(x)) for x in 0.05 * rng.random(997)]


@pytest.mark.slow
def test_simulate_n_1000_reduced():
    st = make_setting(depth=3, alpha="0.05", eta="0.2", spectrum=_spectrum_1000(), rank=3,
                      eps="0.1", theta="0.1", noise="0.01", noise_kind="random")
    assert st.linalg == "float64" and st.n == 1000 and max(st.t_rad) < 1e-12
    sim = simulate(st)
    assert sim["status"] in ("ok", "censored") and sim["T0"] == 400
    assert sim["T1"] == ">= 100000" and sim["nonempty"] is True
    assert len(sim["hitting_times"]) == 1000
    assert float(sim["error_in_interval"]) < 0.1


@pytest.mark.slow
def test_predict_n_1000_target_file(tmp_path, capsys):
    from verify.cli import main

    rng = np.random.default_rng(0)
    A = rng.standard_normal((1000, 3))
    np.save(tmp_path / "W.npy", A @ A.T / 1000)
    B = rng.standard_normal((1000, 1000))
    E = (B + B.T) / 2
    np.save(tmp_path / "E.npy", 0.01 * E / np.linalg.norm(E, 2))
    code = main(["predict", "--depth", "3", "--alpha", "0.05", "--eta", "0.2", "--target",
                 str(tmp_path / "W.npy"), "--perturbation", str(tmp_path / "E.npy"), "--rank",
                 "3", "--theta", "0.05", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["nonempty_predicted"] is True and out["undecided"] == []
    assert out["T0_upper"] == 151 and len(out["eigenvalues_Y"]) == 1000
    assert "rigorous enclosure" in out["precision"]["eigenvalues_Y"]
