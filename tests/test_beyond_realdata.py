"""`dmf-verify explore realdata`: the covariance of a scikit-learn data set as the target, the
covariance of a random subset of its samples as the observation (verify/beyond/realdata.py)."""

import json
import sys

import numpy as np
import pytest

pytest.importorskip("sklearn")

from verify.beyond import common, realdata  # noqa: E402
from verify.cli import main  # noqa: E402
from verify.explore import make_setting, predict, simulate  # noqa: E402

# small and fast: 30 features, alpha 0.01 (intervals within ~1200 steps)
SMALL = dict(dataset="breast_cancer", m=[60, "all"], alpha="0.01", max_steps=3000, seed=0)
ARGV = ["explore", "realdata", "--dataset", "breast_cancer", "--alpha", "0.01",
        "--max-steps", "3000", "--no-progress"]


@pytest.fixture(scope="module")
def small():
    return realdata.run(dict(SMALL))


def _rows(result, m, prefix):
    return [r for r in result["rows"] if r["m"] == m and r["row"].startswith(prefix)]


def _scaled(dataset):
    """The data, the full-data covariance scaled to s_1 = 1, and the scale."""
    X = realdata.load(dataset)
    C = realdata._cov(X, np.arange(X.shape[0]))
    scale = np.linalg.eigvalsh(C)[-1]
    return X, C / scale, scale


def test_result_follows_schema_with_study_columns_and_series(small):
    assert common.validate_result(small) is small
    assert small["study"] == "realdata" and small["columns"] == realdata.COLUMNS
    assert set(small["labels"]) <= {"EMPIRICAL", "P4", "P5", "L1", "L2"}
    assert small["params"]["m"] == [60, 569] and small["params"]["rank"] == 1
    assert [s["m"] for s in small["series"]] == [60, 569]
    for s in small["series"]:
        assert len(s["k"]) == len(s["err_F"]) and s["k"][0] == 0 and s["k"][-1] == 3000
    json.dumps(small)  # plain JSON
    # the observed and the denoising rows never carry a claim ID
    for r in small["rows"]:
        if r["row"].startswith(("observed", "denoising")):
            assert r["label"] == "EMPIRICAL"


def test_all_samples_give_zero_perturbation_and_the_noiseless_interval(small):
    X, C, _ = _scaled("breast_cancer")
    obs = _rows(small, 569, "observed")[0]
    assert obs["e_2"] == 0 and obs["e_F"] == 0
    st = make_setting(depth=3, alpha="0.01", eta="0.2", rank=1, eps="0.1", target=C,
                      linalg="float64")
    sim = simulate(st, max_steps=3000)
    assert (obs["T0"], obs["T1"], obs["nonempty"]) == (sim["T0"], sim["T1"], sim["nonempty"])
    pred = predict(st)
    row = _rows(small, 569, "predicted [")[0]
    assert row["label"] == "L1"
    assert (row["T0"], row["T1"]) == (pred["T0_upper"], pred["T1_lower"])


def test_limit_error_at_all_samples_is_the_tail_of_the_spectrum(small):
    """||Y_+ - C_r||_F at E = 0 is sqrt(sum_{i>r} s_i^2), from an independent eigvalsh."""
    _, C, _ = _scaled("breast_cancer")
    s = np.linalg.eigvalsh(C)[::-1]
    den = _rows(small, 569, "denoising at k = T0")[0]
    assert den["Yplus_F"] == pytest.approx(float(np.sqrt(np.sum(s[1:] ** 2))), rel=1e-12)


def test_claim_labelled_bounds_contain_the_observed_interval(small):
    labelled = [r for r in small["rows"] if r["label"] in ("P4", "L1")]
    assert labelled
    assert all(r["in_bounds"] is True for r in labelled)
    for r in small["rows"]:
        if r["label"] in ("P5", "L2"):
            obs = _rows(small, r["m"], "observed")[0]
            assert obs["err_2"] <= r["err_2"]


def test_product_from_lanes_equals_the_full_matrix_iteration():
    """Q diag(x_i(k)^N) Q^T from the float64 lanes equals W_N...W_1 of the N-factor iteration
    on Y = C_m (claim R1 on real data)."""
    from verify.fullgd import simulate_full

    X, C, scale = _scaled("breast_cancer")
    idx = np.sort(np.random.default_rng(3).permutation(X.shape[0])[:60])
    E = realdata._cov(X, idx) / scale - C
    p = realdata._params(dict(alpha="0.1", eta="0.2"))
    st = realdata.setting(C, E, p, 2)
    k = 150
    xs = realdata.trajectory(st, [k], k)[k]
    P_lanes = realdata.products(st, xs)
    run = simulate_full(np.asarray(st.Y), depth=3, eta=0.2, alpha=0.1, steps=k,
                        checkpoints=[k], arithmetic="float64")
    P_full = np.asarray(run.products[k], dtype=float)
    assert np.linalg.norm(P_full) > 0.5  # the top eigenvalues are learned by then
    assert np.linalg.norm(P_lanes - P_full, 2) <= 1e-11 * np.linalg.norm(P_full, 2)


def test_same_seed_same_json_other_seed_other_subsets():
    p = dict(SMALL, m=[60])
    a, b = realdata.run(dict(p)), realdata.run(dict(p))
    assert json.dumps(a) == json.dumps(b)
    c = realdata.run(dict(p, seed=1))
    assert _rows(c, 60, "observed")[0]["e_2"] != _rows(a, 60, "observed")[0]["e_2"]


def test_default_subset_sizes_run_from_2n_to_all():
    assert realdata.default_m(1797, 64) == [128, 256, 512, 1024, 1797]
    assert realdata.default_m(569, 30) == [60, 120, 240, 480, 569]


def test_cli_json_and_figures(tmp_path, capsys):
    assert main(ARGV + ["--m", "all", "--json", "--figures", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    res = json.loads(out)
    assert res["params"]["m"] == [569]
    assert (tmp_path / "beyond_realdata.png").stat().st_size > 0
    assert (tmp_path / "beyond_realdata.pdf").stat().st_size > 0


@pytest.mark.parametrize("extra, needle", [
    (["--m", "5000"], "exceeds the 569 samples"),
    (["--m", "1"], "must be >= 2"),
    (["--m", "60,60"], "twice"),
    (["--rank", "30"], "rank r must be an integer in 1..29"),
    (["--rank", "0"], "must be >= 1"),
    (["--dataset", "iris"], "invalid choice"),
    (["--m", "60,"], "comma-separated"),
])
def test_bad_input_exits_2_with_one_line(capsys, extra, needle):
    assert main(ARGV + extra) == 2
    err = capsys.readouterr().err
    assert needle in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_api_refuses_bad_values():
    with pytest.raises(ValueError, match="exceeds"):
        realdata.run(dict(SMALL, m=[600]))
    with pytest.raises(ValueError, match="at least 2 samples"):
        realdata.run(dict(SMALL, m=[1]))
    with pytest.raises(ValueError, match="unknown dataset"):
        realdata.run(dict(SMALL, dataset="iris"))


def test_missing_scikit_learn_is_a_usage_error(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "sklearn", None)
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    assert main(ARGV) == 2
    err = capsys.readouterr().err
    assert "pip install 'dmf-verify[data]'" in err and len(err.strip().splitlines()) == 1
