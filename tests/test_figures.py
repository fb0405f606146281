"""Figures: every file written is a real PNG / PDF; the cheap figure is fast."""

import pytest

from verify import figures

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
PDF_MAGIC = b"%PDF-"


def _check(path):
    data = path.read_bytes()
    assert len(data) > 1000, path
    if path.suffix == ".png":
        assert data.startswith(PNG_MAGIC), path
    else:
        assert path.suffix == ".pdf"
        assert data.startswith(PDF_MAGIC), path
        assert b"%%EOF" in data[-64:], path


def test_trajectories_png_and_numbers(tmp_path):
    paths = figures.fig_trajectories(tmp_path / "out", dps=20)
    assert [p.name for p in paths] == ["fig_trajectories.png", "fig_trajectories.pdf"]
    for p in paths:
        assert p.parent == tmp_path / "out"
        _check(p)
    # the plotted numbers are the documented ones (L1 holds: T0 <= UB0 <= LB1 <= T1)
    s = figures.LAST_SUMMARY["trajectories"]
    assert (s["T0"], s["T1"], s["UB0"], s["LB1"]) == (202, 909, 233, 888)
    assert s["T0"] <= s["UB0"] <= s["LB1"] <= s["T1"]


def test_phase_cell_agrees_with_simulate():
    """The phase diagram's shortcut (lane 2 run only up to T0) gives simulate's verdict."""
    from verify.explore import make_setting, simulate

    for ratio, alpha in (("1.05", "0.05"), ("1.05", "0.005"), ("3", "0.3")):
        outcome, _ = figures._phase_cell(ratio, alpha, dps=30, cap=200_000)
        st = make_setting(depth=3, alpha=alpha, eta=figures.PHASE["eta"],
                          spectrum=["1", str(1 / float(ratio))], rank=1,
                          eps=figures.PHASE["eps"], theta=figures.PHASE["theta"], dps=30)
        assert outcome == int(simulate(st, max_steps=200_000)["nonempty"])


@pytest.mark.slow
def test_make_all(tmp_path):
    out = tmp_path / "figs"
    paths = figures.make_all(out, dps=30)
    assert len(paths) == 8
    assert sorted(p.suffix for p in paths) == [".pdf"] * 4 + [".png"] * 4
    assert len({p.stem for p in paths}) == 4
    for p in paths:
        assert p.exists()
        _check(p)
    # no observation contradicts a prediction (bounds hold wherever their hypotheses do)
    ph = figures.LAST_SUMMARY["phase_diagram"]
    assert ph["predicted_nonempty_observed_empty"] == []
    for row in figures.LAST_SUMMARY["endpoints_vs_noise"]["rows"]:
        for ub in (row["ub"], row["ub_any"]):
            if ub is not None:
                assert row["T0"] <= ub
        for lb in (row["lb"], row["lb_any"]):
            if lb is not None and row["T1"] is not None:
                assert row["T1"] >= lb
    den = figures.LAST_SUMMARY["denoising"]
    assert den["best_in_interval"] < den["limit"]
    # (d) the predicted boundary's grid spans the plotted range (ratios from 1 on)
    x0, x1, y0, y1 = ph["plotted_range"]
    g = ph["boundary_grid_range"]
    assert g[1:] == pytest.approx([x1, y0, y1]) and g[0] == pytest.approx(max(x0, 1.0))
    # (b) the marked emptiness starts at the first sampled noise where each interval is empty
    ev = figures.LAST_SUMMARY["endpoints_vs_noise"]
    x = [r["e"] / ev["e_star"] for r in ev["rows"]]
    first_obs = next(i for i, r in enumerate(ev["rows"]) if r["nonempty"] is False)
    assert ev["empty_from"]["observed"] == pytest.approx([x[first_obs - 1], x[first_obs]])
    assert ev["rows"][first_obs]["T0"] > ev["rows"][first_obs]["T1"]
    first_pred = next(i for i, r in enumerate(ev["rows"]) if not r["pred_nonempty"])
    assert ev["empty_from"]["predicted (P4)"] == pytest.approx([x[first_pred - 1], x[first_pred]])
    # a sound prediction never calls an interval nonempty that is observed empty
    assert first_pred <= first_obs
