"""Properties of the reduced engine: backends agree, margins are honest, bad input is refused."""

import mpmath
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from verify.engine import Event, Hit, simulate_reduced


def step_bound(t, alpha, N):
    """S1/P1 step bound 1/(N max(t, alpha^N)^A) in floats (for drawing instances)."""
    A = 2 - 2 / N
    return 1 / (N * max(t, alpha**N, 1e-12) ** A)


@st.composite
def lane_sets(draw):
    N = draw(st.integers(2, 6))
    alpha = draw(st.floats(0.05, 1.0))
    n = draw(st.integers(1, 4))
    ts = [draw(st.floats(-1.0, 2.0)) for _ in range(n)]
    frac = draw(st.floats(0.05, 0.95))
    eta = frac * min(step_bound(max(ts), alpha, N), 1 / (alpha ** (N - 2) * (alpha**N + 1)))
    levels = [draw(st.floats(0.01, 2.0)) for _ in range(n)]
    return N, alpha, eta, ts, levels


def naive_hits(ts, levels, *, N, alpha, eta, dps, steps):
    """Reference: the plainest loop, x**N compared with the level, no margins.

    Returns (first hit or None, smallest relative gap |x^N - d|/d seen up to it) per lane.
    """
    out = []
    with mpmath.workdps(dps):
        for t, d in zip(ts, levels):
            x, t, d, a = mpmath.mpf(alpha), mpmath.mpf(t), mpmath.mpf(d), mpmath.mpf(eta)
            hit, gap = None, mpmath.inf
            for k in range(steps + 1):
                gap = min(gap, abs(x**N - d) / d)
                if x**N >= d:
                    hit = k
                    break
                x = x + a * x ** (N - 1) * (t - x**N)
            out.append((hit, gap))
    return out


@given(lane_sets())
@example((2, 0.5, 0.1, [1.0], [0.5]))  # depth 2
@example((3, 0.5, 0.1, [0.0, -1.0], [0.01, 0.01]))  # zero and negative targets: never hit
@example((4, 1.0, 0.05, [1.0], [1.5]))  # alpha^N equal to the target: stationary at once
def test_backends_give_identical_iterates_and_hits(case):
    N, alpha, eta, ts, levels = case
    events = [Event(i, d) for i, d in enumerate(levels)]
    kw = dict(depth=N, alpha=alpha, eta=eta, dps=30, events=events, max_steps=400,
              checkpoints=[0, 17, 400], stop_when_settled=False)
    fast = simulate_reduced(ts, backend="gmpy2", **kw)
    ref = simulate_reduced(ts, backend="mpmath", **kw)
    assert fast.hits == ref.hits
    assert [lane.x for lane in fast.lanes] == [lane.x for lane in ref.lanes]
    assert dict(fast.checkpoints) == dict(ref.checkpoints)
    assert fast.dps == ref.dps == 30


@given(lane_sets())
@example((2, 1.0, 0.25, [0.0], [1.0]))  # alpha^N equals the level: ambiguous
def test_decided_hits_equal_the_naive_loop(case):
    N, alpha, eta, ts, levels = case
    run = simulate_reduced(ts, depth=N, alpha=alpha, eta=eta, dps=40,
                           events=[Event(i, d) for i, d in enumerate(levels)], max_steps=300)
    naive = naive_hits(ts, levels, N=N, alpha=alpha, eta=eta, dps=40, steps=300)
    for hit, (want, gap) in zip(run.hits, naive):
        if hit.ambiguous:  # only when an iterate really is within rounding of the level
            assert gap < mpmath.mpf(10) ** -25
        else:
            assert hit.step == want


@st.composite
def growth_instances(draw):
    """Small alpha, long growth phase: where rounding errors are amplified the most."""
    N = draw(st.integers(2, 6))
    alpha = draw(st.floats(1e-3, 0.3))
    t = draw(st.floats(0.2, 2.0))
    eta = draw(st.floats(0.1, 1.0)) * step_bound(t, alpha, N)
    return N, alpha, eta, t


@given(growth_instances())
@example((5, 1e-3, 0.19, 1.0))  # growth factor (x/alpha)^(N-2) ~ 1e9
def test_error_estimate_bounds_the_actual_rounding_error(case):
    N, alpha, eta, t = case
    cps = [0, 50, 500, 3000]
    low = simulate_reduced([t], depth=N, alpha=alpha, eta=eta, dps=16, max_steps=3000,
                           checkpoints=cps, stop_when_settled=False)
    high = simulate_reduced([t], depth=N, alpha=alpha, eta=eta, dps=60, max_steps=3000,
                            checkpoints=cps, stop_when_settled=False)
    with mpmath.workdps(60):
        # inputs are floats, so both runs start from the same binary numbers
        for k in cps:
            actual = abs(low.checkpoints[k][0] - high.checkpoints[k][0])
            assert actual <= low.checkpoint_errors[k][0], (k, actual, low.checkpoint_errors[k])


def test_level_equal_to_an_iterate_is_ambiguous_then_resolved_by_precision():
    kw = dict(depth=3, alpha="0.1", eta="0.3", max_steps=200)
    with mpmath.workdps(30):
        ref = simulate_reduced([1], dps=30, checkpoints=[20], **kw)
        level = ref.checkpoints[20][0] ** 3  # exactly the 30-digit value of x(20)^3
        near = level * (1 + mpmath.mpf(10) ** -24)
    at_20 = simulate_reduced([1], dps=20, events=[Event(0, near)], **kw)
    assert at_20.hits[0].ambiguous and not at_20.settled
    at_60 = simulate_reduced([1], dps=60, events=[Event(0, near)], **kw)
    assert at_60.hits[0] .step == 21 and not at_60.hits[0].ambiguous


@pytest.mark.parametrize("alpha, level", [("0.5", "0.25"), ("0.1", "0.01"), (0.1, 0.1**2)])
def test_step_zero_ties_are_decided_exactly(alpha, level):
    # x(0)^N = alpha^N equals the level exactly (as the inputs are written): ">=" holds at
    # step 0, ">" does not; no precision could settle this by rounding, exact input can
    exact = simulate_reduced([1], depth=2, alpha=alpha, eta="0.1", dps=30, max_steps=50,
                             events=[Event(0, level), Event(0, level, strict=True)])
    if isinstance(alpha, float):  # float 0.1**2 is not the exact square of float 0.1
        assert exact.hits[0].step in (0, 1) and not exact.hits[0].ambiguous
    else:
        assert exact.hits[0] == Hit(0, False)
        assert exact.hits[1] == Hit(1, False)


def test_step_cap_is_reported_and_never_exceeded():
    run = simulate_reduced([1], depth=4, alpha="0.01", eta="0.01", dps=20,
                           events=[Event(0, "0.5")], max_steps=1000)
    assert run.hits[0].step is None and run.capped and not run.settled
    assert run.steps == 1000


def test_divergence_is_detected_with_its_step():
    run = simulate_reduced([4], depth=2, alpha="1.5", eta="1.0", dps=20, max_steps=100,
                           events=[Event(0, "100")])
    assert run.diverged and run.lanes[0].divergence_step is not None
    assert run.lanes[0].divergence_step < 100


def test_stationary_lane_runs_to_the_cap_instantly():
    run = simulate_reduced([1], depth=3, alpha=1, eta="0.1", dps=20, max_steps=10**9,
                           stop_when_settled=False, checkpoints=[10**8])
    lane = run.lanes[0]
    assert lane.stationary == 0 and lane.steps == 10**9 and run.checkpoints[10**8] == (1,)


def test_inputs_are_not_mutated():
    ts = [1, "0.5"]
    events = [Event(0, "0.5")]
    cps = [3, 1]
    simulate_reduced(ts, depth=2, alpha="0.1", eta="0.1", events=events, checkpoints=cps,
                     dps=20, max_steps=10)
    assert ts == [1, "0.5"] and cps == [3, 1] and events == [Event(0, "0.5")]


def test_highest_precision_still_gives_margins_and_decides():
    # at 250 digits u = 2^-830: the float error estimate must neither underflow nor overflow
    run = simulate_reduced([1], depth=4, alpha="0.05", eta="0.1", dps=250, max_steps=20000,
                           events=[Event(0, "0.5")], checkpoints=[0, 5000])
    assert run.hits[0].step is not None and not run.hits[0].ambiguous
    assert 0 < run.checkpoint_errors[5000][0] < 1e-200


def test_precision_is_recorded_and_global_state_untouched():
    before = mpmath.mp.prec
    run = simulate_reduced([1], depth=2, alpha="0.1", eta="0.1", dps=77, max_steps=5)
    assert run.dps == 77 and mpmath.mp.prec == before


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(depth=1), "depth N must be an integer >= 2"),
        (dict(depth=2.5), "depth N must be an integer >= 2"),
        (dict(depth=True), "depth N must be an integer >= 2"),
        (dict(alpha=0), "alpha must be > 0"),
        (dict(alpha=-1), "alpha must be > 0"),
        (dict(alpha=float("nan")), "alpha must be a finite number"),
        (dict(eta=0), "eta must be > 0"),
        (dict(eta="inf"), "eta must be a finite number"),
        (dict(eta="1e-3x"), "eta must be a number"),
        (dict(dps=10), "dps must be an integer >= 15"),
        (dict(dps=251), "dps must be <= 250"),
        (dict(targets=[]), "targets must not be empty"),
        (dict(targets="1,2"), "targets must be a sequence"),
        (dict(targets=[1, float("nan")]), "target 1 must be a finite number"),
        (dict(events=[Event(3, 1)]), "event index 3 out of range"),
        (dict(events=[(0, 1)]), "events\\[0\\] must be an Event"),
        (dict(checkpoints=[20]), "checkpoint 20 is beyond max_steps=10"),
        (dict(max_steps=-1), "max_steps must be a nonnegative integer"),
        (dict(backend="numpy"), "backend must be one of"),
    ],
)
def test_bad_input_raises_a_named_value_error(kwargs, message):
    args = dict(targets=[1], depth=2, alpha="0.1", eta="0.1", dps=20, max_steps=10)
    args.update(kwargs)
    targets = args.pop("targets")
    with pytest.raises(ValueError, match=message):
        simulate_reduced(targets, **args)


def test_stop_event_ends_the_lane_and_decides_the_others_up_to_it():
    # the lane stops where x^2 >= 0.5; "x^2 >= 0.9" is then a decided miss, not a capped one
    stopped = simulate_reduced([1], depth=2, alpha="0.1", eta="0.2", dps=30, max_steps=10**5,
                               events=[Event(0, "0.5", stop=True), Event(0, "0.9")])
    full = simulate_reduced([1], depth=2, alpha="0.1", eta="0.2", dps=30, max_steps=10**5,
                            events=[Event(0, "0.5"), Event(0, "0.9")])
    k = full.hits[0].step
    assert stopped.hits[0] == full.hits[0] and stopped.lanes[0].steps == k
    assert stopped.lanes[0].stopped and stopped.hits[1] == Hit(None, False)
    assert stopped.settled and not stopped.capped
    assert full.hits[1].step > k
