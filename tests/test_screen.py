"""The float64 screen against the high-precision engine: every step the screen decides is
the engine's step at 50 digits; ties and near-ties come out undecided; a screen without its
widening is caught deciding wrong steps on the same near-ties."""

import mpmath
import numpy as np
import pytest
from hypothesis import given, strategies as st

import verify.screen as screen
from verify.engine import Event, simulate_reduced
from verify.screen import CAPPED, HIT, MISS, UNDECIDED, screen_hits

DPS = 50
CAP = 4000


def hp_step(t, alpha, eta, N, d, *, strict=False, max_steps=CAP):
    """The engine's hitting step for the exact binary inputs (None: not within max_steps)."""
    run = simulate_reduced([mpmath.mpf(float(t))], depth=N, alpha=mpmath.mpf(float(alpha)),
                           eta=mpmath.mpf(float(eta)), dps=DPS, max_steps=max_steps,
                           events=[Event(0, mpmath.mpf(float(d)), strict=strict)])
    hit = run.hits[0]
    assert not hit.ambiguous
    return hit.step


def hp_products(t, alpha, eta, N, steps):
    """x_k^N at 50 digits for the listed steps."""
    run = simulate_reduced([mpmath.mpf(float(t))], depth=N, alpha=mpmath.mpf(float(alpha)),
                           eta=mpmath.mpf(float(eta)), dps=DPS, max_steps=max(steps),
                           checkpoints=steps, stop_when_settled=False)
    return {k: run.products(k)[0] for k in steps}


def admissible_lanes(rng, L, N):
    """Random admissible lanes by construction: eta a fraction of 1/(N t^A) (kept off 1),
    alpha^N below half the level range, the level between alpha^N and 0.99 t."""
    A = 2 - 2 / N
    t = rng.uniform(0.5, 2.0, L)
    alpha = rng.uniform(0.1, 0.3, L) * t ** (1 / N)
    frac = rng.uniform(0.1, 0.999, L)
    eta = frac / (N * t**A)
    aN = alpha**N
    d = aN + (0.99 * t - aN) * rng.uniform(0.01, 1.0, L)
    return t, alpha, eta, d


def check_against_hp(t, alpha, eta, N, d, *, strict=False, max_steps=CAP):
    r = screen_hits(t, alpha, eta, N, d, max_steps=max_steps, strict=strict)
    for i in range(len(t)):
        if r.status[i] == UNDECIDED:
            continue
        ref = hp_step(t[i], alpha[i], eta[i], N, d[i], strict=strict, max_steps=max_steps)
        if r.status[i] == HIT:
            assert ref == r.step[i], (i, ref, r.step[i])
        else:  # MISS or CAPPED: no hit within the run
            assert ref is None, (i, ref, r.status[i])
    return r


@pytest.mark.parametrize("N", [2, 3, 4])
def test_every_decided_step_is_the_engine_step_on_random_lanes(N):
    rng = np.random.default_rng(100 + N)
    lanes = admissible_lanes(rng, 40, N)
    r = check_against_hp(*lanes[:3], N, lanes[3])
    assert r.decided.mean() >= 0.95


@given(N=st.integers(2, 4), t=st.floats(0.5, 2.0), apos=st.floats(0.1, 0.3),
       frac=st.floats(0.05, 1.0), dpos=st.floats(0.0, 1.0), strict=st.booleans())
def test_hypothesis_lanes_agree_with_the_engine(N, t, apos, frac, dpos, strict):
    A = 2 - 2 / N
    alpha = apos * t ** (1 / N)
    eta = frac / (N * t**A)  # frac = 1 may fail the certified step test: then undecided
    aN = alpha**N
    d = aN + (0.99 * t - aN) * dpos
    arr = lambda v: np.array([v], dtype=np.float64)
    check_against_hp(arr(t), arr(alpha), arr(eta), N, arr(d), strict=strict)


def test_misses_and_caps_agree_with_the_engine():
    t = np.array([1.0, 1.0, 1.5, 0.7])
    alpha = np.array([0.2, 0.2, 0.3, 0.4])
    eta = 0.5 / (3 * t ** (4 / 3))
    d = np.array([1.0, 1.5, 0.9 * 1.5, 0.9 * 0.7])  # d = t, d > t, two hits past the cap
    r = check_against_hp(t, alpha, eta, 3, d, max_steps=5)
    assert r.status.tolist() == [MISS, MISS, CAPPED, CAPPED]
    r = check_against_hp(t, alpha, eta, 3, d, strict=True, max_steps=5)
    assert r.status.tolist() == [MISS, MISS, CAPPED, CAPPED]


def _near_tie_lanes(N, count, seed):
    """Random lanes with a step k in 1..60 where x_k^N < 0.99 t (a level, not the limit),
    and the exact x_k^N at 50 digits."""
    rng = np.random.default_rng(seed)
    t, alpha, eta, _ = admissible_lanes(rng, count, N)
    ks, vs = [], []
    for i in range(count):
        k = int(rng.integers(1, 60))
        prods = hp_products(t[i], alpha[i], eta[i], N, list(range(1, k + 1)))
        while k > 1 and prods[k] >= 0.99 * t[i]:
            k -= 1
        ks.append(k)
        vs.append(prods[k])
    return t, alpha, eta, np.array(ks), vs


def _float_neighbours(v):
    """The floats just below-or-at and just above the real number v."""
    f = float(v)
    if mpmath.mpf(f) > v:
        return np.nextafter(f, -np.inf), f
    return f, np.nextafter(f, np.inf)


@pytest.mark.parametrize("N", [2, 3, 5])
def test_levels_within_1e17_of_the_exact_power_are_undecided(N):
    t, alpha, eta, ks, vs = _near_tie_lanes(N, 25, 7 + N)
    rng = np.random.default_rng(N)
    levels = []
    for v in vs:
        r = rng.uniform(-1e-17, 1e-17)
        levels.append(float(v * (1 + mpmath.mpf(r))))
    levels = np.array(levels)
    for strict in (False, True):
        res = screen_hits(t, alpha, eta, N, levels, max_steps=CAP, strict=strict)
        assert np.all(res.status == UNDECIDED), res.status
        assert np.all((res.undecided_step >= 0) & (res.undecided_step <= ks))


@pytest.mark.parametrize("N", [2, 3, 4])
def test_levels_at_a_float_iterate_are_undecided_never_wrong(N):
    """d = fl(x^_k^N) for the plain float trajectory x^_k: undecided (never a wrong step)."""
    t, alpha, eta, ks, _ = _near_tie_lanes(N, 60, 30 + N)
    x = alpha.copy()
    levels = np.zeros_like(x)
    for k in range(int(ks.max()) + 1):
        p = x**N
        levels = np.where(ks == k, p, levels)
        x = x + eta * x ** (N - 1) * (t - p)
    for strict in (False, True):
        r = check_against_hp(t, alpha, eta, N, levels, strict=strict)
        assert np.all(r.status == UNDECIDED), r.status


@pytest.mark.parametrize("N", [2, 3])
def test_a_screen_without_widening_decides_wrong_steps_on_near_ties(N, monkeypatch):
    """The near-ties: levels one float above / at-or-below the exact x_k^N. The widened
    screen leaves them undecided; with the widening set to zero (plain float64) some
    lane is decided at a wrong step, which the comparison with the engine catches."""
    t, alpha, eta, ks, vs = _near_tie_lanes(N, 40, 50 + N)
    T, Al, Et, D, K = [], [], [], [], []
    for i, v in enumerate(vs):
        for d in _float_neighbours(v):
            T.append(t[i]); Al.append(alpha[i]); Et.append(eta[i]); D.append(d); K.append(ks[i])
    T, Al, Et, D = map(np.array, (T, Al, Et, D))

    def wrong(res):
        bad = 0
        for i in np.flatnonzero(res.status == HIT):
            if hp_step(T[i], Al[i], Et[i], N, D[i]) != res.step[i]:
                bad += 1
        return bad

    widened = screen_hits(T, Al, Et, N, D, max_steps=CAP)
    assert np.all(widened.status == UNDECIDED)
    monkeypatch.setattr(screen, "_WIDEN", 0.0)
    plain = screen_hits(T, Al, Et, N, D, max_steps=CAP)
    assert np.all(plain.status == HIT)  # plain float never hesitates
    assert wrong(plain) > 0


def test_interval_inputs_decide_a_subset_with_the_same_steps():
    rng = np.random.default_rng(5)
    t, alpha, eta, d = admissible_lanes(rng, 300, 3)
    point = screen_hits(t, alpha, eta, 3, d, max_steps=CAP)
    box = screen_hits((t, np.nextafter(t, 9)), (np.nextafter(alpha, 0), alpha),
                      (eta * (1 - 1e-15), eta * (1 + 1e-15)), 3, d, max_steps=CAP)
    both = box.decided
    assert np.all(point.decided[both])
    assert np.array_equal(point.step[both], box.step[both])
    assert both.mean() >= 0.9


def test_depth_array_matches_per_depth_batches():
    rng = np.random.default_rng(9)
    parts = [admissible_lanes(rng, 50, n) for n in (2, 3, 4)]
    cat = [np.concatenate([p[j] for p in parts]) for j in range(4)]
    Ns = np.repeat([2, 3, 4], 50)
    mixed = screen_hits(cat[0], cat[1], cat[2], Ns, cat[3], max_steps=CAP)
    for j, n in enumerate((2, 3, 4)):
        one = screen_hits(*parts[j][:3], n, parts[j][3], max_steps=CAP)
        sl = slice(50 * j, 50 * (j + 1))
        assert np.array_equal(mixed.step[sl], one.step)
        assert np.array_equal(mixed.status[sl], one.status)


def test_lanes_outside_the_monotone_case_are_undecided_from_the_start():
    t = np.array([1.0, 1.0, -1.0, 1.0, 1.0])
    alpha = np.array([0.1, 1.2, 0.1, 0.1, 1e-300])
    eta = np.array([0.34, 0.1, 0.1, 1 / 3, 0.1])  # eta N t^A > 1; alpha^N > t; t < 0;
    # eta N t^A = 1 up to rounding (not certified); alpha^N underflows
    r = screen_hits(t, alpha, eta, 3, np.full(5, 0.5), max_steps=100)
    assert r.status.tolist() == [UNDECIDED] * 5
    assert r.undecided_step.tolist() == [-1] * 5


def test_step_zero_and_invalid_inputs():
    r = screen_hits(np.array([1.0]), np.array([0.5]), np.array([0.1]), 2, np.array([0.2]),
                    max_steps=10)
    assert (r.status[0], r.step[0]) == (HIT, 0)
    # an exact tie at step 0 (alpha^N = d exactly) is left to the engine
    r = screen_hits(np.array([1.0]), np.array([0.5]), np.array([0.1]), 2, np.array([0.25]),
                    max_steps=10)
    assert r.status[0] == UNDECIDED and r.undecided_step[0] == 0
    with pytest.raises(ValueError):
        screen_hits(np.array([1.0]), np.array([0.5, 0.2]), np.array([0.1]), 2,
                    np.array([0.2]), max_steps=10)
    with pytest.raises(ValueError):
        screen_hits(np.array([np.nan]), np.array([0.5]), np.array([0.1]), 2,
                    np.array([0.2]), max_steps=10)
    with pytest.raises(ValueError):
        screen_hits(np.array([1.0]), np.array([0.5]), np.array([0.1]), 2,
                    np.array([0.2]), max_steps=-1)


def test_levels_next_to_the_limit_are_never_decided_wrong():
    """Levels a few ulps below t: the enclosure meets the fixed point (the upper end can no
    longer be certified below t^(1/N)) and the lane is left to the engine, or decided right."""
    t = np.ones(4)
    alpha = np.full(4, 0.3)
    eta = np.array([0.3, 0.3, 0.1, 0.1])
    d = np.array([1 - 1e-14, np.nextafter(1.0, 0), 1 - 1e-14, np.nextafter(1.0, 0)])
    r = check_against_hp(t, alpha, eta, 3, d, max_steps=2000)
    assert r.status[1] == UNDECIDED and r.status[3] == UNDECIDED


def _screen_all(monkeypatch, tail, *args, **kwargs):
    monkeypatch.setattr(screen, "_TAIL_LANES", tail)
    r = screen_hits(*args, **kwargs)
    return r.step.tolist(), r.status.tolist(), r.undecided_step.tolist(), r.lane_steps


@pytest.mark.parametrize("N", [2, 3, 5])
def test_the_python_tail_gives_the_numpy_loops_results(N, monkeypatch):
    """The last lanes go on in Python floats (_tail_lane): with no tail (0), the default, and
    every lane in the tail after the first block, the results are identical, on admissible
    lanes with interval inputs, strict and not, under caps, and on near-ties (the lanes
    that a changed rounding would decide differently)."""
    rng = np.random.default_rng(40 + N)
    t, alpha, eta, d = admissible_lanes(rng, 30, N)
    tn, an, en, ks, vs = _near_tie_lanes(N, 8, 60 + N)
    near = np.array([f for v in vs for f in _float_neighbours(v)])
    t = np.concatenate([t, np.repeat(tn, 2)])
    alpha, eta = np.concatenate([alpha, np.repeat(an, 2)]), np.concatenate([eta, np.repeat(en, 2)])
    d = np.concatenate([d, near])
    for strict in (False, True):
        for cap in (7, 300, CAP):
            args = ((t, np.nextafter(t, 9)), alpha, eta, N, d)
            ref = _screen_all(monkeypatch, 0, *args, max_steps=cap, strict=strict)
            assert ref == _screen_all(monkeypatch, 10, *args, max_steps=cap, strict=strict)
            assert ref == _screen_all(monkeypatch, 10**9, *args, max_steps=cap, strict=strict)
            if cap == CAP:  # the batch has hits and near-tie lanes left undecided
                assert ref[1].count(HIT) > 5 and ref[1].count(UNDECIDED) >= 8


def _tail_from_start(t, alpha, eta, N, d, *, widen=1.0):
    """screen._tail_lane run alone from step 0 (exact inputs), its widening scaled by widen."""
    c_rel, c_abs = widen * (2 * N + 3) * screen._U, widen * 5 * screen._U
    f_dn, f_up = 1.0 - widen * N * 2.0**-52, 1.0 + widen * N * 2.0**-52
    return screen._tail_lane(alpha, alpha, t, t, eta, eta, d, d, t, 0, CAP, N, c_rel, c_abs,
                             f_dn, f_up, False)


@pytest.mark.parametrize("N", [2, 3])
def test_the_tail_lane_leaves_near_ties_undecided_and_a_plain_one_decides_wrong_steps(N):
    """_tail_lane by itself on the near-ties (levels one float either side of the exact
    x_k^N): undecided, as the numpy loop; with its widening set to zero (plain float64) it
    decides every one and some at a wrong step, which the engine catches."""
    t, alpha, eta, ks, vs = _near_tie_lanes(N, 30, 70 + N)
    wrong = 0
    for i, v in enumerate(vs):
        for d in _float_neighbours(v):
            args = (float(t[i]), float(alpha[i]), float(eta[i]), N, float(d))
            assert _tail_from_start(*args)[1] == UNDECIDED
            k, status, _ = _tail_from_start(*args, widen=0.0)
            assert status == HIT
            wrong += k != hp_step(*args[:3], N, d)
    assert wrong > 0
