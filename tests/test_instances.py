"""Tests for verify/instances.py: targets, perturbations, validation, file reading."""

import copy
import json

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from verify.instances import (
    FLOAT_SYMMETRY_RTOL,
    Observed,
    Target,
    observed,
    psd_target,
    random_orthogonal,
    random_perturbation,
    read_matrix,
    spectral_norm,
    symmetric_eigen,
    validate_matrix,
    weyl_extremal_perturbation,
)


def tol(dps):
    return mpmath.mpf(10) ** (-(dps - 5))


def max_abs(M):
    return max(abs(M[i, j]) for i in range(M.rows) for j in range(M.cols))


# ---------------------------------------------------------------- orthogonal matrices


@pytest.mark.parametrize("dps", [15, 30, 50, 80])
@pytest.mark.parametrize("n", [1, 2, 5, 8])
def test_random_orthogonal_is_orthonormal(n, dps):
    Q = random_orthogonal(n, seed=7, dps=dps)
    with mpmath.workdps(dps):
        assert max_abs(Q.T * Q - mpmath.eye(n)) < tol(dps)
        assert max_abs(Q * Q.T - mpmath.eye(n)) < tol(dps)


def test_random_orthogonal_seeded_and_leaves_global_precision():
    before = mpmath.mp.prec
    a = random_orthogonal(4, seed=3, dps=40)
    b = random_orthogonal(4, seed=3, dps=40)
    c = random_orthogonal(4, seed=4, dps=40)
    assert mpmath.mp.prec == before
    assert a == b
    assert a != c


# ---------------------------------------------------------------- targets


@settings(max_examples=20)
@given(
    spec=st.lists(st.floats(0, 10, allow_subnormal=False), min_size=1, max_size=6),
    seed=st.integers(0, 2**32),
)
def test_psd_target_recovers_spectrum(spec, seed):
    dps = 40
    t = psd_target(spec, seed=seed, dps=dps)
    assert isinstance(t, Target) and t.dps == dps and t.n == len(spec)
    with mpmath.workdps(dps):
        want = sorted((mpmath.mpf(x) for x in spec), reverse=True)
        assert list(t.s) == want
        ev, _ = symmetric_eigen(t.W, dps=dps)
        scale = max(1, max(want))
        assert all(abs(a - b) < tol(dps) * scale for a, b in zip(ev, want))
        # columns of V are eigenvectors aligned with s
        for i in range(t.n):
            v = t.V[:, i]
            assert max_abs(t.W * v - t.s[i] * v) < tol(dps) * scale
        # W is exactly symmetric
        assert all(t.W[i, j] == t.W[j, i] for i in range(t.n) for j in range(t.n))


def test_psd_target_accepts_exact_and_string_entries():
    with mpmath.workdps(30):
        t = psd_target([mpmath.mpf(1) / 3, 2, "0.5"], seed=0, dps=30)
        assert t.s == (mpmath.mpf(2), mpmath.mpf("0.5"), mpmath.mpf(1) / 3)


@pytest.mark.parametrize(
    "spec, match",
    [
        ([1, -0.1], r"spectrum\[1\] must be nonnegative"),
        ([1, float("nan")], r"spectrum\[1\].*NaN or infinite"),
        ([float("inf")], r"spectrum\[0\].*NaN or infinite"),
        ([], "spectrum must not be empty"),
        ([1, "abc"], r"spectrum\[1\]: not a decimal number"),
        ([1, 1j], r"spectrum\[1\].*complex"),
        ([1, None], r"spectrum\[1\].*non-numeric"),
        ("12", "spectrum must be a sequence"),
    ],
)
def test_psd_target_rejects(spec, match):
    with pytest.raises(ValueError, match=match):
        psd_target(spec, seed=0)


def test_psd_target_does_not_mutate_spectrum():
    spec = [0.5, 2.0, 1.0]
    keep = list(spec)
    psd_target(spec, seed=1)
    assert spec == keep


@pytest.mark.parametrize("bad", [14, 0, -3, 20.0, "50", True, None])
def test_dps_below_15_or_not_integer_rejected(bad):
    with pytest.raises(ValueError, match="dps must be an integer >= 15"):
        psd_target([1], seed=0, dps=bad)
    with pytest.raises(ValueError, match="dps must be an integer >= 15"):
        random_orthogonal(2, seed=0, dps=bad)
    with pytest.raises(ValueError, match="dps must be an integer >= 15"):
        validate_matrix([[1]], name="M", dps=bad)


@pytest.mark.parametrize("seed", [-1, 1.5, None, "1"])
def test_bad_seed_rejected(seed):
    with pytest.raises(ValueError, match="seed must be a nonnegative integer"):
        random_orthogonal(2, seed=seed)


@pytest.mark.parametrize("n", [0, -1, 2.0, True])
def test_bad_n_rejected(n):
    with pytest.raises(ValueError, match="n must be a positive integer"):
        random_perturbation(n, 1.0, seed=0)


# ---------------------------------------------------------------- perturbations


@settings(max_examples=20)
@given(
    n=st.integers(1, 6),
    norm=st.floats(0, 5, allow_subnormal=False),
    seed=st.integers(0, 2**32),
)
def test_random_perturbation_has_requested_norm(n, norm, seed):
    dps = 40
    E = random_perturbation(n, norm, seed=seed, dps=dps)
    with mpmath.workdps(dps):
        assert all(E[i, j] == E[j, i] for i in range(n) for j in range(n))
        assert abs(spectral_norm(E, dps=dps) - mpmath.mpf(norm)) <= tol(dps) * max(1, norm)


def test_random_perturbation_zero_and_errors():
    E = random_perturbation(3, 0, seed=5)
    assert max_abs(E) == 0
    with pytest.raises(ValueError, match="norm must be nonnegative"):
        random_perturbation(3, -0.1, seed=5)
    with pytest.raises(ValueError, match="norm.*NaN or infinite"):
        random_perturbation(3, float("nan"), seed=5)
    with pytest.raises(ValueError, match="norm.*NaN or infinite"):
        random_perturbation(3, float("inf"), seed=5)


def test_random_perturbation_extreme_sign_varies():
    signs = set()
    for seed in range(20):
        ev, _ = symmetric_eigen(random_perturbation(3, 1, seed=seed), dps=30)
        signs.add(1 if abs(ev[0] - 1) < 1e-20 else -1)
    assert signs == {1, -1}


@pytest.mark.parametrize("r", [0, 1, 2, 4])
def test_weyl_extremal_eigenvalues(r):
    dps = 40
    tgt = psd_target([3, 2, 1, 0.25], seed=11, dps=dps)
    e = mpmath.mpf("0.125")
    E = weyl_extremal_perturbation(tgt, r, e, dps=dps)
    obs = observed(tgt, E, dps=dps)
    assert isinstance(obs, Observed) and obs.dps == dps
    with mpmath.workdps(dps):
        assert abs(obs.e - e) < tol(dps)
        want = sorted([s - e if i < r else s + e for i, s in enumerate(tgt.s)], reverse=True)
        assert all(abs(a - b) < tol(dps) * 4 for a, b in zip(obs.t, want))
        # eigenvalue shift happens along the target's eigenvectors
        for i in range(tgt.n):
            v = tgt.V[:, i]
            shift = -e if i < r else e
            assert max_abs(E * v - shift * v) < tol(dps)


def test_weyl_extremal_rejects_bad_r_and_norm():
    tgt = psd_target([2, 1], seed=0)
    for r in (-1, 3, 1.0):
        with pytest.raises(ValueError, match=r"r must be an integer in \[0, 2\]"):
            weyl_extremal_perturbation(tgt, r, 0.1)
    with pytest.raises(ValueError, match="norm must be nonnegative"):
        weyl_extremal_perturbation(tgt, 1, -0.1)
    with pytest.raises(ValueError, match="target must be a Target"):
        weyl_extremal_perturbation([[1, 0], [0, 1]], 1, 0.1)


# ---------------------------------------------------------------- observed


@settings(max_examples=15)
@given(
    spec=st.lists(st.floats(0, 2, allow_subnormal=False), min_size=1, max_size=5),
    norm=st.floats(0, 1, allow_subnormal=False),
    seed=st.integers(0, 2**32),
)
def test_observed_eigensystem_and_weyl(spec, norm, seed):
    dps = 40
    tgt = psd_target(spec, seed=seed, dps=dps)
    E = random_perturbation(len(spec), norm, seed=seed + 1, dps=dps)
    obs = observed(tgt, E, dps=dps)
    with mpmath.workdps(dps):
        n = tgt.n
        assert list(obs.t) == sorted(obs.t, reverse=True)
        assert max_abs(obs.Y - (tgt.W + E)) == 0
        assert max_abs(obs.Q.T * obs.Q - mpmath.eye(n)) < tol(dps)
        D = mpmath.diag(list(obs.t))
        assert max_abs(obs.Q * D * obs.Q.T - obs.Y) < tol(dps) * 4
        # Weyl: |t_i - s_i| <= e (up to rounding)
        assert all(abs(a - b) <= obs.e + tol(dps) * 4 for a, b in zip(obs.t, tgt.s))


def test_observed_rejects_bad_E():
    tgt = psd_target([2, 1], seed=0)
    with pytest.raises(ValueError, match="E: not symmetric"):
        observed(tgt, [[0, 1], [0, 0]])
    with pytest.raises(ValueError, match="does not match target size"):
        observed(tgt, [[0]])
    with pytest.raises(ValueError, match="target must be a Target"):
        observed("W", [[0]])


# ---------------------------------------------------------------- validate_matrix


@pytest.mark.parametrize(
    "M, kwargs, match",
    [
        ([], {}, "M: empty matrix"),
        (np.zeros((0, 0)), {}, "M: empty matrix"),
        ([1, 2], {}, "M: expected a 2-D square matrix"),
        (np.zeros(3), {}, "M: expected a 2-D square matrix, got a 1-D array"),
        (np.zeros((2, 2, 2)), {}, "M: expected a 2-D square matrix, got a 3-D array"),
        ([[[1]]], {}, "M: expected a 2-D square matrix, entry"),
        ([[1, 2]], {}, "M: not square"),
        ([[1, 2], [3]], {}, "M: not square"),
        ([[1, float("nan")], [0, 1]], {}, r"M\[0,1\]: entry nan is NaN or infinite"),
        ([[1, 0], [float("-inf"), 1]], {}, r"M\[1,0\]: entry -inf is NaN or infinite"),
        ([[1, "2"], [2, 1]], {}, r"M\[0,1\]: non-numeric entry '2'"),
        ([[1, None], [2, 1]], {}, r"M\[0,1\]: non-numeric entry None"),
        ([[True]], {}, r"M\[0,0\]: non-numeric entry True"),
        ([[1j]], {}, r"M\[0,0\]: complex entry"),
        (np.array([["a"]]), {}, "M: non-numeric array dtype"),
        ("abc", {}, "M: expected a matrix"),
        (5, {}, "M: expected a matrix"),
        ([[1, 2], [3, 1]], {"symmetric": True}, "M: not symmetric"),
        ([[1, 0], [0, -1]], {"psd": True}, "M: not positive semidefinite"),
        ([[1, 2], [3, 1]], {"psd": True}, "M: not symmetric"),
    ],
)
def test_validate_matrix_rejects(M, kwargs, match):
    with pytest.raises(ValueError, match=match):
        validate_matrix(M, name="M", **kwargs)


def test_validate_matrix_float_symmetry_tolerance_and_symmetrization():
    a = 0.3
    b = a * (1 + 0.5 * FLOAT_SYMMETRY_RTOL)  # within 1e-12 relative: accepted, symmetrized
    M = np.array([[1.0, a], [b, 1.0]])
    out = validate_matrix(M, name="M", symmetric=True, dps=50)
    with mpmath.workdps(50):
        assert out[0, 1] == out[1, 0] == (mpmath.mpf(a) + mpmath.mpf(b)) / 2
    c = a * (1 + 10 * FLOAT_SYMMETRY_RTOL)
    with pytest.raises(ValueError, match="M: not symmetric"):
        validate_matrix(np.array([[1.0, a], [c, 1.0]]), name="M", symmetric=True)
    # exact (mpf) inputs use the much tighter 10^-(dps-5) tolerance
    with mpmath.workdps(50):
        x = mpmath.mpf(a)
        y = x * (1 + mpmath.mpf(10) ** -30)
    with pytest.raises(ValueError, match="M: not symmetric"):
        validate_matrix(mpmath.matrix([[1, x], [y, 1]]), name="M", symmetric=True, dps=50)
    validate_matrix(mpmath.matrix([[1, x], [y, 1]]), name="M", symmetric=True, dps=20)


def test_validate_matrix_psd_tolerance():
    with mpmath.workdps(50):
        tiny = -mpmath.mpf(10) ** -48
    validate_matrix(mpmath.matrix([[1, 0], [0, tiny]]), name="W", psd=True, dps=50)
    with pytest.raises(ValueError, match="W: not positive semidefinite"):
        validate_matrix(mpmath.matrix([[1, 0], [0, -1e-40]]), name="W", psd=True, dps=50)


@pytest.mark.parametrize("kind", ["list", "numpy", "mpmath", "tuple"])
def test_validate_matrix_no_mutation_and_copy(kind):
    base = [[1.0, 2.0 + 1e-14], [2.0, 5.0]]
    if kind == "list":
        M = copy.deepcopy(base)
    elif kind == "tuple":
        M = tuple(tuple(r) for r in base)
    elif kind == "numpy":
        M = np.array(base)
    else:  # mpf entries: the strict tolerance applies, so make it exactly symmetric
        M = mpmath.matrix([[1.0, 2.0], [2.0, 5.0]])
    snapshot = copy.deepcopy(M)
    out = validate_matrix(M, name="M", symmetric=True, psd=True)
    out[0, 0] = 99
    if kind == "numpy":
        assert np.array_equal(M, snapshot)
    else:
        assert M == snapshot
    assert out[0, 1] == out[1, 0]


def test_validate_matrix_accepts_numpy_ints_and_fractions():
    from fractions import Fraction

    out = validate_matrix(np.array([[1, 2], [2, 3]], dtype=np.int64), name="M", dps=30)
    assert out[1, 1] == 3
    out = validate_matrix([[Fraction(1, 3)]], name="M", dps=30)
    with mpmath.workdps(30):
        assert out[0, 0] == mpmath.mpf(1) / 3


def test_instances_do_not_mutate_inputs():
    tgt = psd_target([2, 1, 0], seed=2)
    W0, V0, s0 = mpmath.matrix(tgt.W), mpmath.matrix(tgt.V), tgt.s
    E = random_perturbation(3, 0.1, seed=3)
    E0 = mpmath.matrix(E)
    weyl_extremal_perturbation(tgt, 1, 0.1)
    obs = observed(tgt, E)
    assert tgt.W == W0 and tgt.V == V0 and tgt.s == s0 and E == E0
    obs.Y[0, 0] = 123  # results do not alias the inputs
    assert tgt.W == W0 and E == E0
    with pytest.raises(Exception):
        tgt.W = None  # frozen


# ---------------------------------------------------------------- files


M_OK = [[2.0, 0.5, 0.0], [0.5, 1.0, -0.25], [0.0, -0.25, 3.0]]


def test_read_npy(tmp_path):
    p = tmp_path / "m.npy"
    np.save(p, np.array(M_OK))
    out = read_matrix(p, dps=30, symmetric=True, psd=True)
    assert out == mpmath.matrix(M_OK)
    np.save(tmp_path / "i.npy", np.array([[1, 2], [3, 4]]))
    assert read_matrix(tmp_path / "i.npy")[1, 0] == 3


def test_read_json_numbers_and_decimal_strings(tmp_path):
    p = tmp_path / "m.json"
    p.write_text(json.dumps([[1, "0.1"], ["0.1", 2.5]]))
    out = read_matrix(str(p), dps=40, symmetric=True)
    with mpmath.workdps(40):
        assert out[0, 1] == mpmath.mpf("0.1")  # decimal string parsed at 40 digits
        assert out[1, 1] == mpmath.mpf(2.5) and out[0, 0] == 1


def test_read_csv(tmp_path):
    p = tmp_path / "m.csv"
    p.write_text("\n".join(",".join(repr(x) for x in r) for r in M_OK) + "\n\n")
    out = read_matrix(p)
    assert out == mpmath.matrix(M_OK)
    p2 = tmp_path / "s.csv"
    p2.write_text(" 1 , 2e-1\n0.2, -3\n")
    out = read_matrix(p2, symmetric=True)
    assert out[1, 1] == -3 and out[0, 1] == out[1, 0]


def test_read_matrix_errors(tmp_path):
    def w(name, text):
        p = tmp_path / name
        p.write_text(text)
        return p

    cases = [
        (w("a.txt", "1"), r"a\.txt: unknown extension '\.txt'"),
        (tmp_path / "missing.csv", r"missing\.csv: unreadable CSV file"),
        (tmp_path / "missing.json", r"missing\.json: unreadable JSON file"),
        (tmp_path / "missing.npy", r"missing\.npy: unreadable \.npy file"),
        (w("bad.npy", "not numpy"), r"bad\.npy: unreadable \.npy file"),
        (w("bad.json", "[[1, 2], "), r"bad\.json: unreadable JSON file"),
        (w("obj.json", '{"a": 1}'), r"obj\.json: expected a JSON list of lists"),
        (w("rag.json", "[[1, 2], [3]]"), r"rag\.json: ragged rows"),
        (w("nn.json", '[[1, "x"], [2, 3]]'), r"nn\.json: entry \(0,1\): non-numeric field 'x'"),
        (w("ev.json", '[["__import__(\'os\')"]]'), r"ev\.json: entry \(0,0\): non-numeric"),
        (w("nl.json", "[[null]]"), r"nl\.json: entry \(0,0\): non-numeric value None"),
        (w("bo.json", "[[true]]"), r"bo\.json: entry \(0,0\): non-numeric value True"),
        (w("nan.json", "[[NaN]]"), r"nan\.json.*NaN or infinite"),
        (w("rect.json", "[[1, 2]]"), r"rect\.json: not square"),
        (w("rag.csv", "1,2\n3\n"), r"rag\.csv: ragged rows"),
        (w("nn.csv", "1,abc\n2,3\n"), r"nn\.csv: entry \(0,1\): non-numeric field 'abc'"),
        (w("nan.csv", "nan\n"), r"nan\.csv: entry \(0,0\): non-numeric field 'nan'"),
        (w("empty.csv", ""), r"empty\.csv: empty matrix"),
        (w("asym.csv", "1,2\n3,1\n"), r"asym\.csv: not symmetric"),
    ]
    for path, match in cases:
        kwargs = {"symmetric": True} if "asym" in str(path) else {}
        with pytest.raises(ValueError, match=match):
            read_matrix(path, **kwargs)
    np.save(tmp_path / "c.npy", np.array([[1j]]))
    with pytest.raises(ValueError, match=r"c\.npy: non-numeric or non-real array dtype"):
        read_matrix(tmp_path / "c.npy")
    np.save(tmp_path / "v.npy", np.array([1.0, 2.0]))
    with pytest.raises(ValueError, match=r"v\.npy: expected a 2-D square matrix"):
        read_matrix(tmp_path / "v.npy")
    np.save(tmp_path / "o.npy", np.array([[1, None]], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError, match=r"o\.npy: unreadable \.npy file"):
        read_matrix(tmp_path / "o.npy")


# ---------------------------------------------------------------- prepare_symmetric (user matrices)

from verify.instances import prepare_symmetric  # noqa: E402


@pytest.mark.parametrize("seed", range(7))
def test_prepare_symmetric_accepts_float_low_rank_psd_and_clips_round_off(seed):
    A = np.random.default_rng(seed).standard_normal((4, 2))
    W = A @ A.T
    keep = W.copy()
    for M in (W, W.tolist(), mpmath.matrix(W.tolist())):  # the same tolerance for every type
        p = prepare_symmetric(M, name="W", psd=True, dps=50)
        assert min(p.s) >= 0 and len(p.s) == 4
        assert all(p.M[i, j] == p.M[j, i] for i in range(4) for j in range(4))
        with mpmath.workdps(50):
            assert max_abs(p.M - mpmath.matrix(W.tolist())) < 1e-14 * max_abs(mpmath.matrix(W.tolist()))
        if any(x < 0 for x in np.linalg.eigvalsh(W)) or p.notes:
            assert all("clipped to 0" in n for n in p.notes)
    assert np.array_equal(W, keep)


@pytest.mark.parametrize("kind", ["float", "string", "mpf"])
def test_prepare_symmetric_symmetrizes_within_tol_for_every_entry_type(kind):
    a, b = 0.01, 0.01 + 1e-13
    conv = {"float": float, "string": repr, "mpf": mpmath.mpf}[kind]
    M = [[conv(1.0), conv(a), conv(0.0)], [conv(b), conv(0.1), conv(0.0)],
         [conv(0.0), conv(0.0), conv(0.05)]]
    p = prepare_symmetric(M if kind != "string" else [[mpmath.mpf(x) for x in r] for r in M],
                          name="W", psd=True)
    assert p.M[0, 1] == p.M[1, 0] and "symmetrized" in p.notes[0]
    with pytest.raises(ValueError, match=r"W: not symmetric: entry \(0,1\) = 0\.01 but \(1,0\) = 0\.01"):
        prepare_symmetric(M if kind != "string" else [[mpmath.mpf(x) for x in r] for r in M],
                          name="W", tol="1e-15")


def test_prepare_symmetric_names_the_eigenvalue_beyond_the_tolerance():
    with pytest.raises(ValueError, match=r"W: not positive semidefinite: eigenvalue s_3 = -0\.01 < "
                                         r"-tol \* \|\|A\|\|_2"):
        prepare_symmetric(np.diag([1.0, 0.1, -0.01]), name="W", psd=True)
    # within the tolerance: clipped, W rebuilt with the eigenvalue 0
    p = prepare_symmetric(np.diag([1.0, 0.1, -1e-14]), name="W", psd=True)
    assert p.s[-1] == 0 and "1 eigenvalue(s)" in p.notes[0]
    # a perturbation needs no PSD: its negative eigenvalues stay
    p = prepare_symmetric(np.diag([1.0, -0.5]), name="E")
    assert p.s[-1] < 0 and not p.notes


@pytest.mark.parametrize("tol, match", [("0.5", r"tol must be in \[0, 1e-3\]"),
                                        ("-1e-12", r"tol must be in"),
                                        ("1/0", "tol must be a plain decimal"),
                                        ("nan", "tol must be a plain decimal")])
def test_prepare_symmetric_rejects_bad_tolerances(tol, match):
    with pytest.raises(ValueError, match=match):
        prepare_symmetric([[1.0]], name="W", tol=tol)


def test_prepare_symmetric_refuses_entries_out_of_range():
    with pytest.raises(ValueError, match=r"W: entry \(0,0\) = 1\.0e\+300 is out of range"):
        prepare_symmetric(np.diag([1e300, 1.0]), name="W", psd=True)


def test_read_matrix_size_check_runs_before_conversion(tmp_path):
    np.save(tmp_path / "big.npy", np.eye(5))
    seen = []

    def refuse(n):
        seen.append(n)
        raise ValueError(f"{n}x{n} is too large")

    with pytest.raises(ValueError, match=r"big\.npy: 5x5 is too large"):
        read_matrix(tmp_path / "big.npy", size_check=refuse)
    assert seen == [5]


@pytest.mark.parametrize("name, text", [("m.json", "[[1, \"0.5\"], [\"0.5\", 1]]"),
                                        ("m.csv", "1,0.5\n0.5,1\n")])
def test_read_matrix_size_check_for_text_files(tmp_path, name, text):
    (tmp_path / name).write_text(text)
    with pytest.raises(ValueError, match="2 rows refused"):
        read_matrix(tmp_path / name, size_check=lambda n: (_ for _ in ()).throw(ValueError(f"{n} rows refused")))
    assert read_matrix(tmp_path / name, size_check=lambda n: None).rows == 2


def test_read_matrix_float64(tmp_path):
    A = np.array([[1.0, 0.25], [0.25, 2.0]])
    np.save(tmp_path / "a.npy", A)
    (tmp_path / "a.json").write_text(json.dumps([["1", 0.25], [0.25, "2.0"]]))
    (tmp_path / "a.csv").write_text("1,0.25\n0.25,2\n")
    for name in ("a.npy", "a.json", "a.csv"):
        M = read_matrix(tmp_path / name, float64=True)
        assert isinstance(M, np.ndarray) and M.dtype == float and np.array_equal(M, A)
        assert isinstance(read_matrix(tmp_path / name, float64=5), mpmath.matrix)  # 2 <= 5 rows
    (tmp_path / "r.json").write_text(json.dumps([[1, 2], [3]]))
    with pytest.raises(ValueError, match="ragged rows"):
        read_matrix(tmp_path / "r.json", float64=True)

