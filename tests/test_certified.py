"""Certified enclosures (verify.certified): they contain a 300-digit reference, a shrunk
enclosure is caught, decided hitting steps agree with the engine, tau/rho enclosures contain
bounds.flow, bad input is refused."""

from fractions import Fraction

import gmpy2
import mpmath
import pytest
from flint import arb, fmpz
from hypothesis import given, settings
from hypothesis import strategies as st
from mpmath.libmp import dps_to_prec

from bounds import flow
from verify import certified
from verify.certified import (certified_lane, certified_rho, certified_tau, enclose_input,
                              monotone_certificate)
from verify.engine import Event, simulate_reduced

PREC = dps_to_prec(50)  # 169 bits


# ---------------------------------------------------------------------------------------
# reference machinery


def _q(x) -> Fraction:
    """Exact rational value of an mpfr or mpf."""
    if isinstance(x, mpmath.mpf):
        sign, man, exp, _ = x._mpf_
        return Fraction(-int(man) if sign else int(man)) * Fraction(2) ** int(exp)
    return Fraction(*x.as_integer_ratio())


def reference(t, alpha, eta, N, steps, at):
    """x_k at the steps in ``at``, at mp.dps = 300 from the exact rational inputs."""
    out = {}
    at = set(at)
    with mpmath.workdps(300):
        def mp(v):
            q = Fraction(v)
            return mpmath.mpf(q.numerator) / q.denominator
        x, tt, e = mp(alpha), mp(t), mp(eta)
        for k in range(steps + 1):
            if k in at:
                out[k] = x
            x = x + e * x ** (N - 1) * (tt - x**N)
    return out


def outside(lane, ref):
    """Steps whose checkpoint enclosure misses the reference (empty: all contained)."""
    bad = []
    for k, x in ref.items():
        lo, hi = lane.checkpoints[k]
        if not _q(lo) <= _q(x) <= _q(hi):
            bad.append(k)
    return bad


def run_and_check(t, alpha, eta, N, steps, *, method="auto", cps=None, prec=PREC, levels=()):
    if cps is None:
        cps = sorted(set(range(0, steps + 1, max(steps // 200, 1))) | {1, 2, 3, steps})
    lane = certified_lane(t, alpha, eta, N, max_steps=steps, prec=prec, checkpoints=cps,
                          method=method, levels=levels, stop_when_settled=False)
    ref = reference(t, alpha, eta, N, steps, cps)
    return lane, ref, outside(lane, ref)


def ref_hit(t, alpha, eta, N, d, steps):
    """First k with x_k^N >= d on the 300-digit reference, with its smallest relative gap."""
    with mpmath.workdps(300):
        def mp(v):
            q = Fraction(v)
            return mpmath.mpf(q.numerator) / q.denominator
        x, tt, e, dd = mp(alpha), mp(t), mp(eta), mp(d)
        for k in range(steps + 1):
            if x**N >= dd:
                return k
            x = x + e * x ** (N - 1) * (tt - x**N)
    return None


# ---------------------------------------------------------------------------------------
# (1) containment on long trajectories


LONG = [
    # id, t, alpha, eta, N, method expected
    ("N3-growth-to-fixed-point", "1", "0.01", "0.3", 3, "monotone-endpoints"),
    ("S2-overshoot-ball", "1", "0.3", "0.8", 2, "ball"),          # eta N t^A = 1.6
    ("negative-t-ball", "-0.7", "0.8", "0.4", 3, "ball"),          # forced ball
]
LONG_SLOW = [
    ("N4-growth", "0.8", "0.05", "0.2", 4, "monotone-endpoints"),
    ("S2-overshoot-N3", "2", "0.5", "0.2", 3, "ball"),            # eta N t^A = 0.6 * 2^(4/3) = 1.51
    ("edge-eta-N-tA-equals-1", "1", "0.1", "1/3", 3, "ball"),     # certificate fails: falls back
    ("negative-t-monotone", "-0.7", "0.8", "0.25", 3, "monotone-endpoints"),  # c(alpha) = 0.79
    ("S3-decreasing", "0.3", "0.9", "0.25", 2, "monotone-endpoints"),
]


@pytest.mark.parametrize("name,t,alpha,eta,N,method", LONG, ids=[c[0] for c in LONG])
def test_long_trajectory_contains_reference(name, t, alpha, eta, N, method):
    forced = "ball" if name == "negative-t-ball" else "auto"
    lane, ref, bad = run_and_check(t, alpha, eta, N, 100_000, method=forced)
    assert lane.method == method
    assert lane.steps == 100_000
    assert bad == []
    # the enclosure stays tight (mean-value form / directed rounding do not blow up)
    assert lane.hi - lane.lo < gmpy2.mpfr(2) ** (-PREC + 20)


@pytest.mark.slow
@pytest.mark.parametrize("name,t,alpha,eta,N,method", LONG_SLOW, ids=[c[0] for c in LONG_SLOW])
def test_long_trajectory_contains_reference_slow(name, t, alpha, eta, N, method):
    forced = "monotone-endpoints" if name == "negative-t-monotone" else "auto"
    lane, ref, bad = run_and_check(t, alpha, eta, N, 150_000, method=forced)
    assert lane.method == method
    assert bad == []


def test_near_level_crossing_and_fixed_point():
    """Dense checkpoints around the crossing of d = 0.5 and at the end, where x_k^N is
    within 10^-40 of t."""
    t, alpha, eta, N = "1", "0.1", "0.3", 3
    K = ref_hit(t, alpha, eta, N, "0.5", 2000)
    cps = sorted(set(range(K - 5, K + 6)) | set(range(1900, 2001)))
    lane, ref, bad = run_and_check(t, alpha, eta, N, 2000, cps=cps, levels=["0.5"])
    assert bad == []
    assert lane.hits[0].result == K
    with mpmath.workdps(300):
        assert abs(ref[2000] ** N - 1) < mpmath.mpf(10) ** -40


def _admissible_eta(t, N, frac):
    """eta = frac / (N t^A) as a 12-digit decimal string."""
    A = 2 - 2 / N
    return f"{frac / (N * float(t) ** A):.12g}"


@st.composite
def lanes(draw):
    """Admissible instances by construction: S1 (monotone), S2 overshoot, S3 negative t."""
    N = draw(st.integers(2, 5))
    kind = draw(st.sampled_from(["S1", "S2", "S3"]))
    alpha = f"0.{draw(st.integers(10, 60)):02d}"
    if kind == "S3":
        t = f"-{draw(st.integers(1, 20)) / 10}"
        a, tt = float(alpha), float(t)
        frac = draw(st.floats(0.05, 0.95))
        eta = f"{frac / (a ** (N - 2) * (a**N - tt)):.12g}"
    else:
        t = f"{draw(st.integers(5, 20)) / 10}"
        frac = draw(st.floats(0.05, 0.95) if kind == "S1" else st.floats(1.05, 1.9))
        eta = _admissible_eta(t, N, frac)
    return kind, t, alpha, eta, N


@settings(max_examples=12)
@given(lanes(), st.sampled_from(["auto", "ball"]))
def test_enclosure_contains_reference_property(inst, method):
    kind, t, alpha, eta, N = inst
    lane, ref, bad = run_and_check(t, alpha, eta, N, 400, method=method,
                                   cps=list(range(401)))
    assert bad == []
    if kind == "S2" or method == "ball":
        assert lane.method == "ball"
    if kind == "S1" and method == "auto":
        assert lane.method == "monotone-endpoints"


# ---------------------------------------------------------------------------------------
# (2) a shrunk enclosure is caught


@pytest.mark.parametrize("alpha,eta", [("0.5", "0.1"), ("0.25", "0.3"), ("0.75", "1/7")])
def test_shrunk_monotone_enclosure_is_caught(monkeypatch, alpha, eta):
    t, N = "1", 3
    lane, ref, bad = run_and_check(t, alpha, eta, N, 5, cps=[0, 1, 2, 3, 4, 5])
    assert lane.method == "monotone-endpoints" and bad == []       # control
    monkeypatch.setattr(certified, "_SHRINK_AT_STEP", 1)
    lane, ref, bad = run_and_check(t, alpha, eta, N, 5, cps=[0, 1, 2, 3, 4, 5])
    assert 1 in bad, "the upper endpoint rounded down once must miss the reference"


def test_shrunk_ball_enclosure_is_caught(monkeypatch):
    args = ("1", "0.3", "0.8", 2, 50)
    lane, ref, bad = run_and_check(*args, cps=list(range(51)))
    assert lane.method == "ball" and bad == []
    monkeypatch.setattr(certified, "_SHRINK_AT_STEP", 10)
    lane, ref, bad = run_and_check(*args, cps=list(range(51)))
    assert 10 in bad


# ---------------------------------------------------------------------------------------
# (3) hitting steps agree with the engine


@st.composite
def hitting_instances(draw):
    N = draw(st.integers(2, 4))
    t = f"{draw(st.integers(5, 20)) / 10}"
    alpha = f"0.{draw(st.integers(15, 60)):02d}"
    frac = draw(st.floats(0.1, 1.6))
    eta = _admissible_eta(t, N, frac)
    lo = float(alpha) ** N
    d = lo + (float(t) - lo) * draw(st.floats(0.05, 0.97))
    return t, alpha, eta, N, f"{d:.10g}", draw(st.booleans())


@settings(max_examples=20)
@given(hitting_instances())
def test_hitting_steps_agree_with_engine(inst):
    t, alpha, eta, N, d, strict = inst
    lane = certified_lane(t, alpha, eta, N, levels=[d], max_steps=20_000, prec=PREC,
                          strict=strict)
    run = simulate_reduced([t], depth=N, alpha=alpha, eta=eta, dps=50, max_steps=20_000,
                           events=[Event(0, d, strict=strict)])
    hit, eng = lane.hits[0], run.hits[0]
    if hit.status == "decided" and not eng.ambiguous:
        assert hit.step == eng.step
    if hit.status == "decided":
        assert hit.step is not None


def test_undecided_at_a_tie():
    """d = alpha^N computed from a non-binary alpha: x_0^N = d exactly, no precision decides
    the non-strict event from enclosures alone (the enclosures of x_0^N and d overlap)."""
    lane = certified_lane(1, "0.1", "0.3", 3, levels=["0.001"], max_steps=100, prec=100)
    assert lane.hits[0].status == "undecided" and lane.hits[0].step == 0
    assert lane.hits[0].result == "undecided"


def test_unreached_level_is_certified():
    lane = certified_lane(1, "0.1", "0.3", 3, levels=["1.5"], max_steps=3000, prec=100)
    assert lane.hits[0].status == "unreached" and lane.hits[0].result is None
    assert lane.steps == 3000


# ---------------------------------------------------------------------------------------
# (4) closed forms


def _arb_of_mpf(x) -> arb:
    sign, man, exp, _ = x._mpf_
    v = arb(fmpz(int(man))) * arb(2) ** int(exp)
    return -v if sign else v


@settings(max_examples=25)
@given(st.integers(2, 7), st.integers(5, 30), st.floats(1e-6, 0.5), st.floats(0.51, 0.999))
def test_tau_rho_contain_mpmath_100_digits(N, t10, fa, fb):
    t = f"{t10 / 10}"
    a = f"{fa * t10 / 10:.8g}"
    b = f"{fb * t10 / 10:.8g}"
    eta = "0.1"
    prec = 200  # ~60 digits: the 100-digit mpmath values are far inside the ball's radius
    enc = certified_tau(t, a, b, N, prec)
    rho = certified_rho(t, eta, N, prec)
    with mpmath.workdps(100):
        ref_tau = flow.tau(t, a, b, N)
        ref_rho = flow.rho(t, eta, N)
    from flint import ctx
    with ctx.workprec(400):
        assert enc.contains(_arb_of_mpf(ref_tau))
        assert rho.contains(_arb_of_mpf(ref_rho))
    assert enc.rel_accuracy_bits() > 150 and rho.rel_accuracy_bits() > 150


def test_tau_accepts_enclosures_as_inputs():
    """a = alpha^N passed as an interval (mpfr pair) still yields an enclosure."""
    lo, hi = enclose_input("0.001", 120)
    enc = certified_tau(1, (lo, hi), "0.5", 3, 120)
    with mpmath.workdps(100):
        ref = flow.tau(1, "0.001", "0.5", 3)
    assert enc.contains(_arb_of_mpf(ref)) or enc.overlaps(_arb_of_mpf(ref))


# ---------------------------------------------------------------------------------------
# inputs


@given(st.fractions(max_denominator=10**6) | st.floats(-1e6, 1e6, allow_nan=False),
       st.integers(24, 200))
def test_enclose_input_contains_and_is_tight(value, prec):
    lo, hi = enclose_input(value, prec)
    q = Fraction(value)
    assert _q(lo) <= q <= _q(hi)
    if lo != hi:
        with gmpy2.context(precision=prec):
            assert gmpy2.next_above(lo) == hi
    else:
        assert _q(lo) == q


def test_decimal_input_is_an_interval_not_its_rounding():
    lo, hi = enclose_input("0.1", 53)
    assert lo < hi and _q(lo) < Fraction(1, 10) < _q(hi)
    assert enclose_input(0.1, 53) == (gmpy2.mpfr(0.1), gmpy2.mpfr(0.1))  # a float is binary


def test_monotone_certificate():
    assert monotone_certificate(1, "0.1", "0.3", 3, PREC) is not None
    assert monotone_certificate(1, "0.1", "1/3", 3, PREC) is None      # eta N t^A = 1: not provable
    assert monotone_certificate("-1", "0.5", "0.5", 2, PREC) is not None  # c(alpha) = 0.5*(0.75+1)
    assert monotone_certificate("-1", "0.5", "0.6", 2, PREC) is None      # c = 1.05


# ---------------------------------------------------------------------------------------
# (5) bad input


@pytest.mark.parametrize("kwargs,match", [
    (dict(alpha="0"), "alpha must be > 0"),
    (dict(alpha="-0.1"), "alpha must be > 0"),
    (dict(eta="nan"), "eta must be a finite"),
    (dict(eta=0.0), "eta must be > 0"),
    (dict(t=float("inf")), "t must be a finite"),
    (dict(t=True), "t must be a number, got a bool"),
    (dict(N=1), "depth N must be an integer >= 2"),
    (dict(N=2.5), "depth N must be an integer >= 2"),
    (dict(prec=10), "prec must be an integer number of bits >= 24"),
    (dict(levels="0.5"), "levels must be a sequence"),
    (dict(levels=["x"]), "level 0 must be a finite decimal"),
    (dict(method="fast"), "method must be 'auto'"),
    (dict(max_steps=-1), "max_steps must be a nonnegative integer"),
    (dict(checkpoints=[20]), "checkpoint 20 is beyond max_steps=10"),
    (dict(eta="0.5", method="monotone-endpoints"), "not provably nondecreasing"),
])
def test_bad_lane_input(kwargs, match):
    args = dict(t="1", alpha="0.1", eta="0.3", N=3, max_steps=10, prec=60)
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        certified_lane(args.pop("t"), args.pop("alpha"), args.pop("eta"), args.pop("N"), **args)


def test_bad_closed_form_input():
    with pytest.raises(ValueError, match="tau needs a < t"):
        certified_tau(1, "1", "0.5", 3, 100)
    with pytest.raises(ValueError, match="tau needs b > 0"):
        certified_tau(1, "0.1", "-0.5", 3, 100)
    with pytest.raises(ValueError, match="rho needs t >= 0"):
        certified_rho("-1", "0.1", 3, 100)
    with pytest.raises(ValueError, match="kind must be"):
        enclose_input("1", 60, kind="float")
    with pytest.raises(ValueError, match="prec must be"):
        certified_tau(1, "0.1", "0.5", 3, 8)


def test_a_ball_input_keeps_the_lane_precision_outside_a_workprec_block():
    # eta as a 200-bit ball, certified_lane at 200 bits called at flint's default 53 bits:
    # the mpfr bounds of the ball must be about 2^-200 apart, not 2^-53
    from flint import arb, ctx as fctx

    from verify.certified import enclose_input

    with fctx.workprec(200):
        eta = arb(1) / 3
    assert fctx.prec == 53
    lo, hi = enclose_input(eta, 200, name="eta")
    assert lo <= hi and (hi - lo) < gmpy2.mpfr(2) ** -190


def test_mpfr_bounds_of_an_astronomical_ball_are_infinite_not_an_error():
    from flint import arb

    from verify.certified import _mpfr_bounds

    huge = arb(2) ** (2**70)
    lo, hi = _mpfr_bounds(huge, 128)
    assert hi == gmpy2.mpfr("inf") and lo <= hi
