"""The certified volume stage of L1, L2 and L3: certified PASSes, agreement with the
high-precision checks (verdict, T0, T1, L2's error ratio), a certified FAIL under a bound
tightened by 2 % (L2: 3 %), pinned edge cases of L2, its float64 pass against the screen, and
(in tests/test_volume.py) the same decisions for any number of jobs."""

import importlib
import re

import pytest
from flint import arb

from bounds import get_claim
from verify.checks import check
from verify.volume import _chunk, run_volume

CLAIMS = ("L1", "L3")


@pytest.mark.parametrize("cid", CLAIMS + ("L2",))
def test_every_decided_volume_verdict_is_a_certified_pass(cid):
    r = run_volume(cid, 100, seed=3)
    assert r.counts["FAIL"] == 0 and r.counts["UNDECIDED"] == 0, r.as_dict()
    assert r.certified == r.decided == r.counts["PASS"], r.as_dict()
    if cid == "L1":  # admissible by construction
        assert r.counts["PASS"] == 100
        assert r.best_tightness is not None and 0 < r.best_tightness <= 1
    elif cid == "L2":  # L1's draw: some intervals are empty (T1 < T0: N/A, as the HP check)
        assert r.counts["PASS"] >= 80, r.counts
        assert r.best_tightness is not None and 0.9 < r.best_tightness <= 1, r.best_tightness
    else:  # straddles the critical ratio: some below the threshold (N/A), most above
        assert r.counts["PASS"] >= 50 and r.counts["N/A"] >= 1, r.counts


def _observed(note):
    t0 = re.search(r"T0 = (\d+)", note)
    t1 = re.search(r"T1 = (\d+)", note)
    return (t0 and int(t0.group(1))), (t1 and int(t1.group(1)))


@pytest.mark.parametrize("cid", CLAIMS)
def test_volume_verdicts_and_steps_agree_with_the_high_precision_check(cid):
    items = _chunk((cid, 0, 0, 10))
    for _, inst, d in items:
        o = check(cid, inst)
        assert o.verdict == d.verdict, (inst, o, d)
        if d.verdict != "PASS":
            continue
        T0, T1 = _observed(d.note)
        assert str(T0) == o.observed["T0"], (inst, o.observed, d.note)
        if T1 is not None and o.observed["T1"].isdigit():
            assert str(T1) == o.observed["T1"], (inst, o.observed, d.note)
        if cid == "L1":
            assert o.ratio == pytest.approx(d.ratio, rel=1e-12), (inst, o.ratio, d.ratio)


def _tightened(monkeypatch, cid, name, factor):
    modname, attr = get_claim(cid).evaluators.location(name)
    module = importlib.import_module(modname)
    original = getattr(module, attr)

    def wrong(*a, **k):
        v = original(*a, **k)
        return None if v is None else v * arb(factor)

    monkeypatch.setattr(module, attr, wrong)


@pytest.mark.parametrize("cid,name,factor", [
    ("L1", "ub0_real_ball", 0.98),   # UB0 lowered by 2 %
    ("L1", "lb1_real_ball", 1.02),   # LB1 raised by 2 %
    ("L3", "l3_ratio_threshold_ball", 0.98),  # the L3 threshold lowered by 2 %
])
def test_a_bound_tightened_by_two_percent_is_a_certified_fail(monkeypatch, cid, name, factor):
    _tightened(monkeypatch, cid, name, factor)
    r = run_volume(cid, 200, seed=0)
    assert r.counts["FAIL"] >= 1 and r.status == "FAIL", r.as_dict()["counts"]
    iid, inst, d = r.failures[0]
    assert d.certified and iid.startswith(f"{cid}-0-")
    assert set(inst) == {"depth", "spectrum", "r", "eps", "theta", "alpha", "eta_fraction"}



def test_volume_instances_are_accepted_by_the_cli(capsys):
    import json

    from verify.cli import main

    inst = _chunk(("L1", 0, 0, 1))[0][1]
    assert main(["check", "L1", "--instance", json.dumps(inst)]) == 0


# ---------------------------------------------------------------------------------------
# L2


def test_l2_error_bound_ball_contains_the_mpmath_value():
    import mpmath
    import numpy as np
    from flint import ctx

    from bounds.enclosures import l2_error_bound_ball
    from bounds.lowrank import l2_error_bound

    rng = np.random.default_rng(7)
    for _ in range(50):
        s = sorted(rng.uniform(0, 2, 3).tolist(), reverse=True)
        eps, theta = float(rng.uniform(1e-4, 0.5)), float(rng.uniform(0, 0.5))
        with mpmath.workdps(60):
            ref = l2_error_bound(s, 1, eps, theta)
            ref_text = mpmath.nstr(ref, 55)
        with ctx.workprec(200):
            B = l2_error_bound_ball([arb(v) for v in s], 1, arb(eps), arb(theta))
            assert B.overlaps(arb(ref_text, float(ref) * 1e-50)), (s, eps, theta)
            assert B.rad() < arb(1e-55)


def _l2_pieces(note):
    t0 = int(re.search(r"T0 = (\d+)", note).group(1))
    t1 = re.search(r"T1 = (\w+)", note).group(1)
    return t0, None if t1 == "inf" else int(t1)


def test_l2_volume_verdicts_steps_and_ratios_agree_with_the_high_precision_check():
    items = _chunk(("L2", 0, 0, 12))
    finite = 0
    for _, inst, d in items:
        o = check("L2", inst)
        assert o.verdict == d.verdict, (inst, o, d)
        if d.verdict != "PASS":
            continue
        T0, T1 = _l2_pieces(d.note)
        steps = [int(k) for k in o.observed["sampled_steps"].strip("[]").split(",")]
        assert steps[0] == T0, (inst, steps, d.note)  # the HP check samples from T0 ...
        if T1 is not None:  # ... to T1: the same largest error, at T0 or T1
            finite += 1
            assert steps[-1] == T1, (inst, steps, d.note)
            assert o.ratio == pytest.approx(d.ratio, rel=1e-9), (inst, o.ratio, d.ratio)
        else:  # T1 infinite: the volume ratio is the supremum over [T0, inf), the HP check's
            # a maximum over steps it sampled
            assert d.ratio >= o.ratio * (1 - 1e-9), (inst, o.ratio, d.ratio)
    assert finite >= 5


def _scale_l2_bound(monkeypatch, factor):
    modname, attr = get_claim("L2").evaluators.location("l2_error_bound_ball")
    module = importlib.import_module(modname)
    original = getattr(module, attr)
    monkeypatch.setattr(module, attr, lambda *a, **k: original(*a, **k) * arb(factor))


def test_l2_bound_lowered_by_three_percent_never_passes_where_the_error_exceeds_it(monkeypatch):
    base = _chunk(("L2", 0, 0, 200))
    _scale_l2_bound(monkeypatch, 0.97)
    low = _chunk(("L2", 0, 0, 200))
    caught = 0
    for (_, inst, d0), (_, _, d) in zip(base, low):
        if d0.verdict == "PASS" and d0.ratio > 0.97 * (1 + 1e-9):
            assert d.verdict == "FAIL" and d.certified, (inst, d0, d)
            caught += 1
        elif d0.verdict == "PASS" and d0.ratio < 0.97 * (1 - 1e-9):
            assert d.verdict == "PASS", (inst, d0, d)
    assert caught >= 5


def test_l2_a_shifted_enclosure_is_caught(monkeypatch):
    """An enclosure shifted up by 10^-3 relative per block (no longer containing the
    iterates): its T0/T1 disagree with the true ones (which the test above checks against
    the high-precision check) on some instances; and lane r+1 recorded 5 % high at T1 makes
    the error exceed the bound, a certified FAIL."""
    import numpy as np

    import verify.volume.lowrank as lowrank

    items = _chunk(("L2", 0, 0, 12))
    insts = [inst for _, inst, _ in items]
    real = lowrank._iterate_mixed

    def shifted(Xs, *a, **k):
        real(Xs, *a, **k)
        Xs *= 1 + 1e-3

    monkeypatch.setattr(lowrank, "_iterate_mixed", shifted)
    moved = lowrank.decide_l2(insts)
    assert any(_l2_pieces(a.note) != _l2_pieces(d.note) for a, (_, _, d) in zip(moved, items)
               if a.verdict == d.verdict == "PASS")
    monkeypatch.setattr(lowrank, "_iterate_mixed", real)

    real_pass = lowrank._l2_pass

    def high_next(*a, **k):
        T0, H, bad, lo, hi, at = real_pass(*a, **k)
        nxt = a[9] == lowrank.L2_NEXT  # the lanes' roles
        return T0, H, bad, np.where(nxt, lo * 1.05, lo), np.where(nxt, hi * 1.05, hi), at

    monkeypatch.setattr(lowrank, "_l2_pass", high_next)
    ds = lowrank.decide_l2(insts)
    fails = [d for d in ds if d.verdict == "FAIL"]
    assert fails and all(d.certified and "at T1" in d.note for d in fails)
    assert not any(d.verdict == "PASS" and d.ratio > 1 for d in ds)


L2_PINS = [  # the spec's corners and the edge cases: n = 2, N = 2, theta >= s_{r+1}, s_n = 0
    ({"depth": 3, "spectrum": [2.0, 1.0, 0.1], "r": 2, "eps": 0.1, "theta": 0.02, "alpha": 0.2,
      "eta_fraction": 1.0}, "PASS", "certified-128"),  # eta at its bound: outside the screen
    ({"depth": 3, "spectrum": [1.0, 0.3], "r": 1, "eps": 0.1, "theta": 0.3, "alpha": 0.1,
      "eta_fraction": 0.5}, "PASS", "screen"),  # theta = s_{r+1}: T1 infinite, sup = bound
    ({"depth": 2, "spectrum": [1.0, 0.3], "r": 1, "eps": 0.1, "theta": 0.05, "alpha": 0.1,
      "eta_fraction": 0.5}, "N/A", "screen"),  # N = 2: T1 = 12 < T0 = 14
    ({"depth": 2, "spectrum": [1.0, 0.3], "r": 1, "eps": 0.1, "theta": 0.5, "alpha": 0.1,
      "eta_fraction": 0.5}, "PASS", "screen"),  # theta > s_{r+1}
    ({"depth": 2, "spectrum": [1.0, 0.0], "r": 1, "eps": 0.1, "theta": 0.3, "alpha": 0.1,
      "eta_fraction": 0.5}, "PASS", "screen"),  # s_{r+1} = 0 < alpha^N: x_2^N <= alpha^N
    ({"depth": 3, "spectrum": [1.0, 0.3], "r": 1, "eps": 0.1, "theta": 0.1**3, "alpha": 0.1,
      "eta_fraction": 0.5}, "N/A", "certified-128"),  # theta within rounding of alpha^N
    ({"depth": 3, "spectrum": [1.0, 0.3], "r": 1, "eps": 0.1, "theta": 0.001, "alpha": 0.1,
      "eta_fraction": 0.5}, "N/A", "exact"),  # theta < alpha^N: hypotheses false
]


@pytest.mark.parametrize("inst,verdict,method", L2_PINS)
def test_l2_pinned_edge_cases(inst, verdict, method):
    from verify.volume.lowrank import decide_l2

    (d,) = decide_l2([inst])
    assert (d.verdict, d.method) == (verdict, method), d
    assert check("L2", inst).verdict == verdict
    if verdict == "PASS":
        assert d.certified and 0 < d.ratio <= 1
    if inst["theta"] == inst["spectrum"][1] == 0.3 and inst["depth"] == 3:
        assert d.ratio == 1.0 and "T1 = inf" in d.note  # the supremum s_2 = theta = bound


def test_l2_the_certified_engine_decides_what_the_pass_leaves_open(monkeypatch):
    import numpy as np

    import verify.volume.lowrank as lowrank

    items = _chunk(("L2", 0, 0, 6))
    real = lowrank._l2_pass

    def nothing(*a, **k):
        T0, H, bad, lo, hi, at = real(*a, **k)
        return T0, H, np.ones_like(bad), lo, hi, at

    monkeypatch.setattr(lowrank, "_l2_pass", nothing)
    ds = lowrank.decide_l2([x[1] for x in items])
    for (_, _, d0), d in zip(items, ds):
        assert d.verdict == d0.verdict and d.note == d0.note, (d0, d)
        if d0.method == "screen":
            assert d.method == "certified-128"
            if d0.ratio is not None:
                assert d.ratio == pytest.approx(d0.ratio, rel=1e-9)


@pytest.mark.parametrize("N", [2, 3, 4, 5])
def test_the_mixed_depth_iteration_is_the_screens_bit_for_bit(N):
    import numpy as np

    from verify import screen
    from verify.volume.lowrank import _counts_at_least, _iterate_mixed

    rng = np.random.default_rng(N)
    Ns = np.array(sorted(rng.integers(2, 6, 40).tolist() + [N] * 10, reverse=True))
    t = rng.uniform(0.2, 2, Ns.size)
    X = np.stack([rng.uniform(0.01, 0.3, Ns.size)] * 2) * np.array([[1.0], [1.0 + 1e-9]])
    e = 0.5 / (Ns * t ** (2 - 2 / Ns))
    E, T = np.stack([e, e * (1 + 1e-12)]), np.stack([t, t])
    sgn = np.array([[-1.0], [1.0]])
    mixed = np.empty((20,) + X.shape)
    _iterate_mixed(mixed, X, T, E, sgn, _counts_at_least(Ns, range(3, int(Ns[0]) + 1)),
                   (2 * Ns + 3) * screen._U, 5 * screen._U)
    g = Ns == N
    alone = np.empty((20, 2, int(g.sum())))
    screen._iterate_block(alone, X[:, g], T[:, g], E[:, g], sgn, N, (2 * N + 3) * screen._U, 5 * screen._U)
    assert np.array_equal(mixed[:, :, g], alone)


def test_l2_volume_instances_are_accepted_by_the_cli():
    import json

    from verify.cli import main

    inst = _chunk(("L2", 0, 0, 1))[0][1]
    assert main(["check", "L2", "--instance", json.dumps(inst)]) == 0


def test_the_l2_python_tail_gives_the_numpy_loops_results(monkeypatch):
    """_l2_pass's last lanes go on in Python floats (_l2_tail): with no tail, the default and
    every lane in the tail after the first block, T0, H and ``bad`` are identical and so are
    the records of every instance left good, on a volume batch with its caps and with caps
    cut at random (instances then lost at their caps); the decisions of the corners too."""
    import numpy as np

    import verify.volume.lowrank as lowrank
    from verify.specs import corners

    seen = {}
    real = lowrank._l2_pass

    def keep(*a):
        seen["args"] = a
        return real(*a)

    monkeypatch.setattr(lowrank, "_l2_pass", keep)
    _chunk(("L2", 0, 0, 120))
    monkeypatch.setattr(lowrank, "_l2_pass", real)
    args = seen["args"]
    rng = np.random.default_rng(0)
    cut = np.maximum((args[10] * rng.uniform(0.05, 1.0, args[10].shape)).astype(np.int64), 1)
    owner = args[8]
    for caps in (args[10], cut):
        a = list(args[:10]) + [caps] + list(args[11:])
        outs = []
        for tail in (0, 10, 10**9):
            monkeypatch.setattr(lowrank, "L2_TAIL_LANES", tail)
            outs.append(real(*[x.copy() if hasattr(x, "copy") else x for x in a]))
        for other in outs[1:]:
            for u, v in zip(outs[0][:3], other[:3]):
                assert np.array_equal(u, v)
            good = ~outs[0][2][owner]
            for u, v in zip(outs[0][3:], other[3:]):
                assert np.array_equal(u[good], v[good])
    assert outs[0][2].sum() >= 3  # the cut caps made some instances bad
    cs = [c.instance for c in corners("L2")]
    decided = []
    for tail in (0, 10**9):
        monkeypatch.setattr(lowrank, "L2_TAIL_LANES", tail)
        decided.append([(d.verdict, d.method, d.note) for d in lowrank.decide_l2(cs)])
    assert decided[0] == decided[1]
