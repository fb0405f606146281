"""The SymPy statements of ``bounds.CLAIMS`` against the hand-written numeric evaluators.

Nothing else ties the two together: the registry's ``Hypothesis.relation`` objects and
conclusions are SymPy, the evaluators in ``bounds.flow`` / ``bounds.lowrank`` /
``bounds.perturbed`` are hand-written mpmath code.  Here

* every hypothesis evaluator is evaluated on the same exact point as the conjunction of
  the claim hypotheses it implements (``HYPOTHESIS_TABLE``); the conjunction is evaluated
  by substitution of exact SymPy Rationals into the registry's relations, and the two
  truth values must agree.  Points are dyadic rationals handed to the evaluators as exact
  decimal strings, so boundary cases (``eta == 1/(N t^A)``, ``alpha^N == t``, ...) are
  exact ties on both sides;
* every closed-form bound that the registry writes as a SymPy expression is lambdified
  (mpmath) and compared with its evaluator at 50 digits to a relative 1e-40.

A SymPy result that is not a boolean (a Relational left after substitution) fails the
test; it is never read as False.  A conjunct that is *undefined* at the point (a
comparison of a non-real value, e.g. ``t^(4/3)`` for ``t < 0``) is "unknown" and the
conjunction is unknown -- hence a failure -- unless another conjunct is False (Kleene).
An evaluator that raises ValueError (input outside its domain, e.g. ``e < 0``) counts as
"not admissible": the statement must then be False.
"""

from __future__ import annotations

import decimal
import functools
import math
from fractions import Fraction

import mpmath
import pytest
import sympy as sp
from hypothesis import event, example, given
from hypothesis import strategies as st

import bounds
from bounds import flow, get_claim, lowrank, momentum, perturbed
from verify import statements as stm
from verify.statements import (
    HYPOTHESIS_TABLE,
    L1_STANDING,
    R_L3,
)

DPS = 50

# the mapping evaluator -> (claim, hypotheses whose conjunction it implements) lives in
# verify/statements.py, which `run` uses on its instances; these tests use it on dyadic points
# hypotheses no hypothesis evaluator checks, and why
NOT_EVALUATED = {
    "K3": {"eps_unit": "parameter of the upper bound k3_upper (validated by J_N)"},
    "S2": {},
}
COVERED_CLAIMS = ("S1", "S2", "S3", "O1", "K1", "K2", "K3", "L1", "L3", "P1", "P3", "P4", "M1")

# closed forms whose registry statement is a SymPy expression -> evaluator
CLOSED_FORM_TABLE = {
    "flow.monotone_step_bound": "S1 monotone_step solved for eta",
    "flow.s3_decreasing_step_bound": "S3 decreasing_step solved for eta",
    "perturbed.p1_step_bound": "P1 step_bound solved for eta",
    "flow.k1_level_max": "K1 level_in_increasing_range, upper end",
    "flow.fixed_point_derivative": "d/dx phi_symbolic at t^(1/N); 1 - (S2 large_step lhs)",
    "flow.phi": "flow.phi_symbolic",
    "flow.G": "flow.G_symbolic",
    "flow.k1_lower": "K1 conclusion rhs, tau := flow.tau",
    "flow.k2_upper": "K2 conclusion rhs, rho := flow.rho, tau := flow.tau",
    "flow.k3_lower": "K3 conclusion lhs",
    "lowrank.l2_error_bound": "L2 conclusion rhs Max(eps s_1, theta)",
    "perturbed.p5_error_bound": "P5 conclusion rhs",
    "perturbed.p3_bounds[0]": "P3 conclusion lhs, tau := flow.tau (target s)",
}


# ---------------------------------------------------------------------------
# exact values and three-valued evaluation of the statements
# ---------------------------------------------------------------------------


def _rat(q):
    q = Fraction(q)
    return sp.Rational(q.numerator, q.denominator)


def _dec(q):
    """Exact decimal string of a rational with a finite decimal expansion (dyadic here)."""
    q = Fraction(q)
    den = q.denominator
    while den % 2 == 0:
        den //= 2
    while den % 5 == 0:
        den //= 5
    assert den == 1, f"test bug: {q} has no finite decimal expansion"
    with decimal.localcontext() as ctx:
        ctx.prec = 200
        return format(decimal.Decimal(q.numerator) / decimal.Decimal(q.denominator), "f")


def _mp(q):
    """A rational as an mpf at the current precision (for the closed-form comparisons)."""
    q = Fraction(q)
    return mpmath.mpf(q.numerator) / q.denominator


_Unknown = stm.Unknown  # a conjunct undefined at the point (non-real comparison)


def _truth(rel, vals):
    """True / False / _Unknown of ``rel`` with ``vals`` substituted (exact, verify.statements);
    a Relational left over (not decided by SymPy) fails the test."""
    r = stm.truth(rel, vals)
    if isinstance(r, _Unknown) and r.kind == "undecided":
        pytest.fail(f"{r.why} (not read as False)")
    return r


def _relation(cid, name):
    try:
        return stm.relation(cid, name)
    except KeyError as exc:
        pytest.fail(str(exc))


def _statement(cid, names, vals, instances=None):
    """Kleene conjunction of the named hypotheses of claim ``cid`` at ``vals``
    (verify.statements.statement); an undecided conjunction fails the test."""
    for n in names:
        _relation(cid, n)
    result, parts = stm.statement(cid, names, vals, instances)
    if result is False:
        return False
    if result is not True:
        pytest.fail(f"{cid}: hypotheses undecided at {vals}: {[(n, r) for n, r in parts if r is not True]}")
    return True


def _ev(fn, *args):
    """The evaluator's bool; ValueError (input outside its domain) counts as False."""
    try:
        v = fn(*args)
    except ValueError:
        return False
    assert type(v) is bool, f"{fn.__name__} returned {type(v).__name__}, not bool"
    return v


def _vals(**kw):
    return stm.values(**kw)


def _agree(pair, where):
    sym, ev = pair
    event(f"{where.split(' at ')[0]}: statement {sym}")  # --hypothesis-show-statistics: both truth values drawn
    assert sym == ev, f"{where}: SymPy statement says {sym}, evaluator says {ev}"


# ---------------------------------------------------------------------------
# comparison functions: (statement truth, evaluator truth) at one point
# ---------------------------------------------------------------------------


def cmp_s1(t, alpha, eta, N):
    cid, names = HYPOTHESIS_TABLE["flow.s1_hypotheses"]
    sym = _statement(cid, names, _vals(t=t, alpha=alpha, eta=eta, N=N))
    return sym, _ev(flow.s1_hypotheses, _dec(t), _dec(alpha), _dec(eta), N)


def cmp_s2(key, t, eta, N):
    cid, names = HYPOTHESIS_TABLE[f"flow.{key}"]
    sym = _statement(cid, names, _vals(t=t, eta=eta, N=N))
    return sym, _ev(getattr(flow, key), _dec(t), _dec(eta), N)


def cmp_s3_nonpositive(t, alpha, eta, N):
    cid, names = HYPOTHESIS_TABLE["flow.s3_nonpositive_condition"]
    sym = _statement(cid, names, _vals(t=t, alpha=alpha, eta=eta, N=N))
    return sym, _ev(flow.s3_nonpositive_condition, _dec(t), _dec(alpha), _dec(eta), N)


def cmp_s3(t, alpha, eta, N):
    vals = _vals(t=t, alpha=alpha, eta=eta, N=N)
    cases = [_statement(*HYPOTHESIS_TABLE[k], vals) for k in ("flow.s3_hypotheses[t<=0]", "flow.s3_hypotheses[0<t]")]
    return any(cases), _ev(flow.s3_hypotheses, _dec(t), _dec(alpha), _dec(eta), N)


def cmp_o1(t, tp, alpha, eta, N):
    cid, names = HYPOTHESIS_TABLE["flow.o1_hypotheses"]
    sym = _statement(cid, names, _vals(t=t, tp=tp, alpha=alpha, eta=eta, N=N))
    return sym, _ev(flow.o1_hypotheses, _dec(t), _dec(tp), _dec(alpha), _dec(eta), N)


def cmp_k12(key, t, d, alpha, eta, N):
    cid, names = HYPOTHESIS_TABLE[f"flow.{key}"]
    sym = _statement(cid, names, _vals(t=t, d=d, alpha=alpha, eta=eta, N=N))
    return sym, _ev(getattr(flow, key), _dec(t), _dec(d), _dec(alpha), _dec(eta), N)


def cmp_m1(t, d, alpha, eta, beta, N):
    cid, names = HYPOTHESIS_TABLE["momentum.m1_level_hypotheses"]
    sym = _statement(cid, names, _vals(t=t, d=d, alpha=alpha, eta=eta, beta=beta, N=N))
    return sym, _ev(momentum.m1_level_hypotheses, _dec(t), _dec(d), _dec(alpha), _dec(eta),
                    _dec(beta), N)


def cmp_k3(t, d, alpha, N):
    cid, names = HYPOTHESIS_TABLE["flow.k3_hypotheses"]
    sym = _statement(cid, names, _vals(t=t, d=d, alpha=alpha, N=N))
    return sym, _ev(flow.k3_hypotheses, _dec(t), _dec(d), _dec(alpha), N)


def _l_vals(s, r, eps, theta, alpha, eta, N):
    return _vals(s1=s[0], s_r=s[r - 1], s_r1=s[r], eps=eps, theta=theta, alpha=alpha, eta=eta, N=N)


def _l_args(s, r, eps, theta, alpha, eta, N):
    return ([_dec(v) for v in s], r, _dec(eps), _dec(theta), _dec(alpha), _dec(eta), N)


def cmp_l1(s, r, eps, theta, alpha, eta, N):
    cid, names = HYPOTHESIS_TABLE["lowrank.l1_hypotheses"]
    sym = _statement(cid, names, _l_vals(s, r, eps, theta, alpha, eta, N))
    return sym, _ev(lowrank.l1_hypotheses, *_l_args(s, r, eps, theta, alpha, eta, N))


def cmp_spectral_condition(s, r, eps, theta, alpha, eta, N):
    vals = _l_vals(s, r, eps, theta, alpha, eta, N)
    args = _l_args(s, r, eps, theta, alpha, eta, N)
    sym = _statement("L1", L1_STANDING, vals)
    if sym:  # Kleene: the last conjunct matters only when the standing ones hold
        with mpmath.workdps(DPS):
            ub, lb = lowrank.ub0(*args), lowrank.lb1(*args)
        sub = {bounds.UB0: sp.Integer(ub), bounds.LB1: sp.oo if lb is None else sp.Integer(lb)}
        sym = _statement("L1", ("spectral_condition",), {**vals, **sub})
    with mpmath.workdps(DPS):
        return sym, _ev(lowrank.spectral_condition, *args)


def cmp_l3(s, r, eps, theta, alpha, eta, N):
    vals = _l_vals(s, r, eps, theta, alpha, eta, N)
    args = _l_args(s, r, eps, theta, alpha, eta, N)
    sym = _statement("L3", L1_STANDING, vals)
    if sym:
        with mpmath.workdps(DPS):
            R = lowrank.l3_ratio_threshold(*args)
        # R is exact (0 or +inf) or irrational: a tie with the dyadic ratio is impossible
        Rs = sp.oo if mpmath.isinf(R) else sp.Float(mpmath.nstr(R, DPS, strip_zeros=False), DPS)
        sym = _statement("L3", ("ratio_condition",), {**vals, R_L3: Rs})
    with mpmath.workdps(DPS):
        return sym, _ev(lowrank.l3_sufficient, *args)


def cmp_p1(t_eigs, alpha, eta, N):
    cid, names = HYPOTHESIS_TABLE["perturbed.p1_hypotheses"]
    inst = {"positivity": [{bounds.t: _rat(ti)} for ti in t_eigs if ti <= 0]}
    sym = _statement(cid, names, _vals(t1=t_eigs[0], alpha=alpha, eta=eta, N=N), inst)
    return sym, _ev(perturbed.p1_hypotheses, [_dec(v) for v in t_eigs], _dec(alpha), _dec(eta), N)


def cmp_p3(key, s, e, d, alpha, eta, N):
    cid, names = HYPOTHESIS_TABLE[f"perturbed.{key}"]
    sym = _statement(cid, names, _vals(s=s, e=e, d=d, alpha=alpha, eta=eta, N=N))
    return sym, _ev(getattr(perturbed, key), _dec(s), _dec(e), _dec(d), _dec(alpha), _dec(eta), N)


def cmp_p4(t_eigs, s, r, e, eps, theta, alpha, eta, N):
    cid, names = HYPOTHESIS_TABLE["perturbed.p4_hypotheses"]
    vals = _vals(t1=t_eigs[0], t_r=t_eigs[r - 1], s_r1=s[r], e=e, eps=eps, theta=theta, alpha=alpha, eta=eta, N=N)
    inst = {
        "weyl_consistent": [{bounds.t: _rat(a), bounds.s: _rat(b)} for a, b in zip(t_eigs, s)],
        "positivity": [{bounds.t: _rat(ti)} for ti in t_eigs if ti <= 0],
    }
    sym = _statement(cid, names, vals, inst)
    ev = _ev(perturbed.p4_hypotheses, [_dec(v) for v in t_eigs], [_dec(v) for v in s], r,
             _dec(e), _dec(eps), _dec(theta), _dec(alpha), _dec(eta), N)
    return sym, ev


def cmp_p2(s, t_eigs, e):
    """P2's conclusion |t - s| <= e at every pair (t_i, s_i) vs p2_eigenvalues_consistent
    (which also checks |max(t_i,0) - s_i| <= e, implied for s_i >= 0)."""
    concl = get_claim("P2").conclusion
    sym = all(_truth(concl, {bounds.t: _rat(a), bounds.s: _rat(b), bounds.e: _rat(e)}) is True
              for a, b in zip(t_eigs, s))
    return sym, _ev(perturbed.p2_eigenvalues_consistent, [_dec(v) for v in s], [_dec(v) for v in t_eigs], _dec(e))


# ---------------------------------------------------------------------------
# strategies: dyadic rationals (exact in binary, so ties are exact for mpmath too)
# ---------------------------------------------------------------------------

DENS = (1, 2, 4, 8, 16, 32)


def dyadic(lo, hi, *, open_lo=False):
    """Dyadic rationals k/q in [lo, hi] ((lo, hi] if open_lo), q in DENS."""
    def rng(q):
        return math.ceil(Fraction(lo) * q) + (1 if open_lo and (Fraction(lo) * q).denominator == 1 else 0), \
            math.floor(Fraction(hi) * q)

    dens = [q for q in DENS if rng(q)[0] <= rng(q)[1]]
    return st.sampled_from(dens).flatmap(lambda q: st.integers(*rng(q)).map(lambda k: Fraction(k, q)))


def positive(hi):
    return dyadic(0, hi, open_lo=True)


depths = st.integers(2, 6)
depths_tie = st.sampled_from([2, 4, 8])  # A = 2 - 2/N dyadic: exact ties eta N t^A = 1 possible


def spectrum(n_lo=2, n_hi=3, hi=2):
    return st.lists(dyadic(0, hi), min_size=n_lo, max_size=n_hi).map(lambda v: sorted(v, reverse=True))


F = Fraction

# ---------------------------------------------------------------------------
# hypothesis evaluators vs the SymPy hypotheses
# ---------------------------------------------------------------------------


@given(t=dyadic(-1, 4), alpha=positive(2), eta=positive(1), N=depths)
@example(t=F(1), alpha=F(1, 2), eta=F(1, 2), N=2)  # eta == 1/(N t^A): admissible
@example(t=F(1), alpha=F(1, 2), eta=F(17, 32), N=2)  # just above
@example(t=F(4), alpha=F(1, 2), eta=F(1, 32), N=4)  # 4 * 4^(3/2) = 32: tie, N = 4
@example(t=F(1), alpha=F(1, 2), eta=F(1, 4), N=4)
@example(t=F(1), alpha=F(1), eta=F(1, 4), N=2)  # alpha^N == t: inadmissible
@example(t=F(-1), alpha=F(1, 2), eta=F(1, 4), N=3)  # t^A non-real, init_below_target False
def test_s1_hypotheses_equal_sympy_statement(t, alpha, eta, N):
    _agree(cmp_s1(t, alpha, eta, N), f"S1 at t={t}, alpha={alpha}, eta={eta}, N={N}")


@given(t=dyadic(-1, 3), eta=positive(2), N=depths)
@example(t=F(1), eta=F(1, 2), N=2)  # q = 1: neither regime
@example(t=F(1), eta=F(3, 4), N=2)  # q = 3/2: overshoot
@example(t=F(1), eta=F(1), N=2)  # q = 2: neither (boundary of both)
@example(t=F(1), eta=F(5, 4), N=2)  # q = 5/2: repelling
@example(t=F(1), eta=F(1, 2), N=4)  # q = 2, N = 4
@example(t=F(0), eta=F(1), N=2)
@example(t=F(-1), eta=F(1), N=3)
def test_s2_regime_evaluators_equal_sympy_statement(t, eta, N):
    for key in ("s2_overshoot_regime", "s2_repelling"):
        _agree(cmp_s2(key, t, eta, N), f"S2 {key} at t={t}, eta={eta}, N={N}")


@given(t=dyadic(-2, 2), alpha=positive(2), eta=positive(4), N=depths)
@example(t=F(0), alpha=F(1, 2), eta=F(4), N=2)  # eta alpha^(N-2)(alpha^N - t) == 1: fails (strict)
@example(t=F(0), alpha=F(1, 2), eta=F(2), N=2)
@example(t=F(-1, 4), alpha=F(1, 2), eta=F(2), N=2)  # == 1 again
@example(t=F(1, 2), alpha=F(1), eta=F(1, 4), N=3)  # eta == s3_decreasing_step_bound: admissible
@example(t=F(1, 2), alpha=F(1), eta=F(5, 16), N=3)
@example(t=F(1), alpha=F(1), eta=F(1, 8), N=3)  # t == alpha^N: neither case
@example(t=F(2), alpha=F(1), eta=F(1, 8), N=3)
def test_s3_evaluators_equal_sympy_statement(t, alpha, eta, N):
    where = f"S3 at t={t}, alpha={alpha}, eta={eta}, N={N}"
    _agree(cmp_s3_nonpositive(t, alpha, eta, N), "s3_nonpositive_condition " + where)
    _agree(cmp_s3(t, alpha, eta, N), "s3_hypotheses " + where)


@given(t=dyadic(-2, 2), tp=dyadic(-1, 3), alpha=positive(2), eta=positive(1), N=depths)
@example(t=F(1), tp=F(1), alpha=F(1), eta=F(1, 2), N=2)  # t == t' == alpha^N, eta at the bound
@example(t=F(-7, 4), tp=F(1), alpha=F(1, 2), eta=F(1, 2), N=2)  # positivity == 1: fails
@example(t=F(-3, 4), tp=F(1), alpha=F(1, 2), eta=F(1, 2), N=2)
@example(t=F(0), tp=F(1), alpha=F(1, 2), eta=F(1, 4), N=3)  # t == 0 side of the Or
@example(t=F(5, 4), tp=F(1), alpha=F(1, 2), eta=F(1, 4), N=2)  # t > t'
@example(t=F(1, 2), tp=F(1, 4), alpha=F(1, 2), eta=F(1, 4), N=2)  # alpha^N == t' < t
def test_o1_hypotheses_equal_sympy_statement(t, tp, alpha, eta, N):
    _agree(cmp_o1(t, tp, alpha, eta, N), f"O1 at t={t}, t'={tp}, alpha={alpha}, eta={eta}, N={N}")


def _k_points():
    """(t, d, alpha, eta, N): unstructured, or d placed relative to alpha^N and t (mostly admissible)."""
    free = st.tuples(dyadic(-1, 4), dyadic(-1, 4), positive(2), positive(1), depths)

    def build(t, alpha, f, eta, N):
        aN = alpha**N
        return (t, aN + f * (t - aN), alpha, eta, N)

    placed = st.builds(build, positive(4), positive(1), dyadic(-F(1, 8), F(9, 8)), positive(F(1, 16)), depths)
    return st.one_of(free, placed)


@given(p=_k_points())
@example(p=(F(3), F(1), F(1, 2), F(1, 8), 2))  # d == t (N-1)/(2N-1)
@example(p=(F(5), F(2), F(1), F(1, 32), 3))  # d == t (N-1)/(2N-1), N = 3
@example(p=(F(3), F(1, 4), F(1, 2), F(1, 8), 2))  # d == alpha^N
@example(p=(F(1), F(1), F(1, 2), F(1, 2), 2))  # d == t, eta at the bound
@example(p=(F(1), F(1, 2), F(1, 2), F(1, 2), 2))
@example(p=(F(1), F(1, 4), F(1, 2), F(1, 2), 2))  # d == alpha^N
def test_k1_k2_hypotheses_equal_sympy_statement(p):
    t, d, alpha, eta, N = p
    for key in ("k1_hypotheses", "k2_hypotheses"):
        _agree(cmp_k12(key, t, d, alpha, eta, N), f"{key} at t={t}, d={d}, alpha={alpha}, eta={eta}, N={N}")


@given(p=_k_points(), beta=dyadic(-1, 2))
@example(p=(F(1), F(1, 2), F(1, 2), F(1, 2), 2), beta=F(0))  # beta == 0, eta at the bound
@example(p=(F(1), F(1, 2), F(1, 2), F(1, 2), 2), beta=F(1))  # beta == 1
@example(p=(F(1), F(1), F(1, 2), F(1, 4), 2), beta=F(1, 2))  # d == t
def test_m1_hypotheses_equal_sympy_statement(p, beta):
    t, d, alpha, eta, N = p
    _agree(cmp_m1(t, d, alpha, eta, beta, N),
           f"m1_level_hypotheses at t={t}, d={d}, alpha={alpha}, eta={eta}, beta={beta}, N={N}")


@given(t=dyadic(-1, 4), d=dyadic(-1, 4), alpha=positive(2), N=depths)
@example(t=F(1), d=F(1), alpha=F(1, 2), N=3)  # d == t
@example(t=F(1), d=F(1, 8), alpha=F(1, 2), N=3)  # d == alpha^N
@example(t=F(1), d=F(1, 2), alpha=F(1, 2), N=3)
@example(t=F(1), d=F(1, 2), alpha=F(1, 2), N=2)  # N = 2: K3 does not apply
def test_k3_hypotheses_equal_sympy_statement(t, d, alpha, N):
    _agree(cmp_k3(t, d, alpha, N), f"K3 at t={t}, d={d}, alpha={alpha}, N={N}")


L_EXAMPLES = [
    # all four standing hypotheses at their boundary: theta == alpha^N, eta N s_1^A == 1
    dict(s=[F(1), F(1, 2), F(0)], r=1, eps=F(1, 2), theta=F(1, 4), alpha=F(1, 2), eta=F(1, 2), N=2),
    dict(s=[F(1), F(1, 2), F(0)], r=1, eps=F(1, 2), theta=F(15, 64), alpha=F(1, 2), eta=F(1, 2), N=2),
    dict(s=[F(1, 2), F(1, 4), F(0)], r=1, eps=F(1, 2), theta=F(1, 4), alpha=F(1, 2), eta=F(1, 2), N=2),  # alpha^N == (1-eps) s_r
    dict(s=[F(1), F(1), F(0)], r=1, eps=F(1, 2), theta=F(1, 4), alpha=F(1, 2), eta=F(1, 4), N=2),  # no gap
    dict(s=[F(1), F(1, 8), F(1, 8)], r=2, eps=F(1, 2), theta=F(1, 4), alpha=F(1, 8), eta=F(1, 4), N=2),  # no gap, theta >= s_{r+1}: R = 0
    dict(s=[F(1), F(0)], r=1, eps=F(1, 2), theta=F(1, 4), alpha=F(1, 2), eta=F(1, 4), N=2),  # s_{r+1} = 0
    dict(s=[F(2), F(1, 8), F(0)], r=1, eps=F(1, 8), theta=F(1, 64), alpha=F(1, 8), eta=F(1, 8), N=3),
    dict(s=[F(2), F(1), F(1, 16)], r=2, eps=F(1, 8), theta=F(1, 32), alpha=F(1, 8), eta=F(1, 8), N=2),
    dict(s=[F(1), F(1, 2)], r=1, eps=F(1), theta=F(1, 4), alpha=F(1, 2), eta=F(1, 4), N=2),  # eps = 1: raises
    dict(s=[F(1), F(1, 2)], r=1, eps=F(0), theta=F(1, 4), alpha=F(1, 2), eta=F(1, 4), N=2),  # eps = 0: raises
]


def _l_strategy():
    def placed(s1, f, g, rr, eps, alpha, h, eta, N):
        s = [s1, f * s1, g * f * s1]
        aN = alpha**N
        return dict(s=s, r=1 + rr % 2, eps=eps, theta=aN + h * (s[1] - aN), alpha=alpha, eta=eta, N=N)

    near = st.builds(placed, positive(2), dyadic(0, 1), dyadic(0, 1), st.integers(0, 1), positive(F(7, 8)),
                     positive(F(1, 2)), dyadic(0, F(5, 4)), positive(F(1, 8)), st.integers(2, 5))
    return st.one_of(near, _l_free())


def _l_free():
    return st.builds(
        lambda s, rr, eps, theta, alpha, eta, N: dict(s=s, r=1 + rr % (len(s) - 1), eps=eps, theta=theta,
                                                       alpha=alpha, eta=eta, N=N),
        spectrum(2, 3, 2), st.integers(0, 5), dyadic(0, 1), dyadic(-F(1, 4), 2), positive(F(3, 2)),
        positive(F(1, 2)), st.integers(2, 5),
    )


def _with_examples(examples):
    def deco(f):
        for ex in reversed(examples):
            f = example(p=ex)(f)
        return f

    return deco


@given(p=_l_strategy())
@_with_examples(L_EXAMPLES)
def test_l1_hypotheses_and_spectral_condition_equal_sympy_statement(p):
    _agree(cmp_l1(**p), f"l1_hypotheses at {p}")
    _agree(cmp_spectral_condition(**p), f"spectral_condition at {p}")


@given(p=_l_strategy())
@_with_examples(L_EXAMPLES)
def test_l3_sufficient_equals_sympy_statement(p):
    _agree(cmp_l3(**p), f"l3_sufficient at {p}")


@given(t_eigs=st.lists(dyadic(-2, 2), min_size=1, max_size=3).map(lambda v: sorted(v, reverse=True)),
       alpha=positive(2), eta=positive(2), N=depths)
@example(t_eigs=[F(1), F(0), F(-7, 4)], alpha=F(1, 2), eta=F(1, 2), N=2)  # positivity == 1 at t_3
@example(t_eigs=[F(1), F(0), F(-3, 4)], alpha=F(1, 2), eta=F(1, 2), N=2)  # step bound tie, admissible
@example(t_eigs=[F(1, 8), F(-1)], alpha=F(1, 2), eta=F(2), N=2)  # max(t_1, alpha^N) = alpha^N, tie
@example(t_eigs=[F(1, 8), F(-1, 2)], alpha=F(1, 2), eta=F(1), N=2)
@example(t_eigs=[F(2), F(1)], alpha=F(1, 2), eta=F(1, 4), N=2)  # no t_i <= 0, tie
def test_p1_hypotheses_equal_sympy_statement(t_eigs, alpha, eta, N):
    _agree(cmp_p1(t_eigs, alpha, eta, N), f"P1 at t={t_eigs}, alpha={alpha}, eta={eta}, N={N}")


def _p3_points():
    free = st.fixed_dictionaries(dict(s=dyadic(-F(1, 2), 3), e=dyadic(-F(1, 4), 1), d=dyadic(-F(1, 2), 2),
                                      alpha=positive(F(3, 2)), eta=positive(1), N=depths))

    def build(s, fd, fe, alpha, eta, N):
        d = fd * s
        return dict(s=s, e=fe * (s - d), d=d, alpha=alpha, eta=eta, N=N)

    placed = st.builds(build, positive(3), dyadic(0, 1), dyadic(-F(1, 8), F(9, 8)), positive(F(3, 4)),
                       positive(F(1, 8)), depths)
    return st.one_of(free, placed)


@given(p=_p3_points())
@example(p=dict(s=F(7, 4), e=F(1, 4), d=F(1, 2), alpha=F(1, 2), eta=F(1, 4), N=2))  # ties: step, K1 range
@example(p=dict(s=F(7, 4), e=F(1, 4), d=F(17, 32), alpha=F(1, 2), eta=F(1, 4), N=2))  # just outside K1 range
@example(p=dict(s=F(1), e=F(1, 2), d=F(1, 2), alpha=F(1, 2), eta=F(1, 4), N=2))  # e == s - d
@example(p=dict(s=F(1), e=F(1, 4), d=F(1, 4), alpha=F(1, 2), eta=F(1, 4), N=2))  # d == alpha^N
@example(p=dict(s=F(1), e=F(-1, 8), d=F(1, 2), alpha=F(1, 2), eta=F(1, 4), N=2))  # e < 0: not a norm
def test_p3_hypotheses_equal_sympy_statement(p):
    s, e, d, alpha, eta, N = (p[k] for k in ("s", "e", "d", "alpha", "eta", "N"))
    for key in ("p3_hypotheses", "p3_lower_hypotheses"):
        _agree(cmp_p3(key, s, e, d, alpha, eta, N), f"{key} at s={s}, e={e}, d={d}, alpha={alpha}, eta={eta}, N={N}")


P4_EXAMPLES = [
    # Weyl ties |t_i - s_i| == e, theta == alpha^N
    dict(t_eigs=[F(7, 4), F(1, 4)], s=[F(2), F(0)], r=1, e=F(1, 4), eps=F(1, 2), theta=F(1, 4), alpha=F(1, 2), eta=F(1, 4), N=2),
    dict(t_eigs=[F(7, 4), F(1, 4)], s=[F(2), F(0)], r=1, e=F(1, 8), eps=F(1, 2), theta=F(1, 4), alpha=F(1, 2), eta=F(1, 4), N=2),
    dict(t_eigs=[F(7, 4), F(-1, 4)], s=[F(2), F(0)], r=1, e=F(1, 4), eps=F(1, 2), theta=F(1, 4), alpha=F(1, 2), eta=F(1, 4), N=2),
    # comparison step tie: eta N (s_{r+1}+e)^A == 1 (and P1 step bound with t_1 = 1)
    dict(t_eigs=[F(1), F(1, 2)], s=[F(1), F(0)], r=1, e=F(1, 2), eps=F(1, 2), theta=F(1, 4), alpha=F(1, 2), eta=F(1, 2), N=2),
    dict(t_eigs=[F(1), F(1, 2)], s=[F(1), F(0)], r=1, e=F(1, 2), eps=F(0), theta=F(1, 4), alpha=F(1, 2), eta=F(1, 4), N=2),
    dict(t_eigs=[F(1), F(1, 2)], s=[F(1), F(1, 2)], r=1, e=F(-1, 4), eps=F(1, 2), theta=F(1, 4), alpha=F(1, 2), eta=F(1, 4), N=2),
]


def _p4_strategy():
    def build(s, deltas, rr, e, eps, theta, alpha, eta, N):
        t_eigs = sorted((si + di for si, di in zip(s, deltas)), reverse=True)
        return dict(t_eigs=t_eigs, s=s, r=1 + rr % (len(s) - 1), e=e, eps=eps, theta=theta, alpha=alpha, eta=eta, N=N)

    free = st.builds(build, spectrum(2, 3, 2), st.lists(dyadic(-1, 1), min_size=3, max_size=3), st.integers(0, 5),
                     dyadic(-F(1, 8), 1), dyadic(0, 1), dyadic(0, 1), positive(F(3, 2)), positive(F(1, 2)),
                     st.integers(2, 5))

    def near_build(s, fs, rr, e, eps, alpha, h, eta, N):
        # |t_i - s_i| = |f_i| e with f_i mostly in [-1, 1]; theta just above alpha^N
        p = build(s, [f * e for f in fs], rr, e, eps, alpha**N * (1 + h), alpha, eta, N)
        return p

    near = st.builds(near_build, spectrum(2, 3, 2), st.lists(dyadic(-F(9, 8), F(9, 8)), min_size=3, max_size=3),
                     st.integers(0, 5), dyadic(0, F(1, 4)), positive(F(3, 4)), positive(F(1, 2)), dyadic(0, 1),
                     positive(F(1, 16)), st.integers(2, 5))
    return st.one_of(near, free)


@given(p=_p4_strategy())
@_with_examples(P4_EXAMPLES)
def test_p4_hypotheses_equal_sympy_statement(p):
    _agree(cmp_p4(**p), f"P4 at {p}")


@given(s=spectrum(1, 3, 2), deltas=st.lists(dyadic(-1, 1), min_size=3, max_size=3), e=dyadic(0, 1))
@example(s=[F(1), F(0)], deltas=[F(-1, 4), F(-1, 4), F(0)], e=F(1, 4))  # |t_i - s_i| == e
@example(s=[F(1), F(0)], deltas=[F(-1, 4), F(-1, 4), F(0)], e=F(1, 8))
def test_p2_eigenvalues_consistent_equals_sympy_conclusion(s, deltas, e):
    t_eigs = sorted((si + di for si, di in zip(s, deltas)), reverse=True)
    _agree(cmp_p2(s, t_eigs, e), f"P2 at s={s}, t={t_eigs}, e={e}")


def test_hypothesis_table_covers_every_hypothesis_of_the_covered_claims():
    used = {}
    for key, (cid, names) in HYPOTHESIS_TABLE.items():
        for n in names:
            _relation(cid, n)  # exists
            used.setdefault(cid, set()).add(n)
    for cid in COVERED_CLAIMS:
        left = set(get_claim(cid).hypothesis_names) - used.get(cid, set()) - set(NOT_EVALUATED.get(cid, {}))
        assert not left, f"{cid}: hypotheses no evaluator is compared with: {sorted(left)}"
    for key in HYPOTHESIS_TABLE:
        mod, name = key.split("[")[0].split(".")
        assert callable(getattr(getattr(bounds, mod), name)), key


def test_domain_assumptions_are_symbol_assumptions():
    # alpha > 0 and eta > 0 are encoded as symbol assumptions (the relations are True), so
    # the comparisons draw alpha, eta > 0 only; the evaluators reject the rest by raising
    assert _relation("S1", "alpha_pos") is sp.true and _relation("S1", "eta_pos") is sp.true
    with pytest.raises(ValueError):
        flow.s1_hypotheses(1, "-0.5", "0.1", 2)
    with pytest.raises(ValueError):
        flow.s1_hypotheses(1, "0.5", "0", 2)
    # depth: N = 1 fails depth_ge_two and the evaluators reject it
    assert _truth(_relation("S1", "depth_ge_two"), {bounds.N: sp.Integer(1)}) is False
    assert _ev(flow.s1_hypotheses, 1, "0.5", "0.1", 1) is False


# ---------------------------------------------------------------------------
# negative controls: the comparisons catch a mutated evaluator
# ---------------------------------------------------------------------------


def test_comparison_catches_strict_step_bound_in_s1(monkeypatch):
    point = (F(1), F(1, 2), F(1, 2), 2)  # eta == 1/(N t^A)
    assert cmp_s1(*point) == (True, True)

    def mutated(t, alpha, eta, N):
        N = flow._check_N(N)
        t, alpha, eta = flow._mpf(t, "t"), flow._positive(alpha, "alpha"), flow._positive(eta, "eta")
        return bool(alpha**N < t and eta * N * t ** flow.A(N) < 1)  # `<` instead of `<=`

    monkeypatch.setattr(flow, "s1_hypotheses", mutated)
    sym, ev = cmp_s1(*point)
    assert (sym, ev) == (True, False)
    # the mutation also reaches K1/K2 through flow.s1_hypotheses
    assert cmp_k12("k2_hypotheses", F(1), F(1, 2), F(1, 2), F(1, 2), 2) == (True, False)


def test_comparison_catches_missing_hypothesis_in_statement():
    # a statement without the Weyl consistency conjunct would accept this point
    p = P4_EXAMPLES[1]
    sym, ev = cmp_p4(**p)
    assert (sym, ev) == (False, False)
    names = tuple(n for n in HYPOTHESIS_TABLE["perturbed.p4_hypotheses"][1] if n != "weyl_consistent")
    vals = _vals(t1=p["t_eigs"][0], t_r=p["t_eigs"][0], s_r1=p["s"][1], e=p["e"], eps=p["eps"],
                 theta=p["theta"], alpha=p["alpha"], eta=p["eta"], N=p["N"])
    assert _statement("P4", names, vals, {"positivity": []}) is True


def test_undecided_sympy_result_fails_instead_of_false():
    with pytest.raises(pytest.fail.Exception, match="undecided"):
        _truth(_relation("S1", "monotone_step"), _vals(t=1, N=2))  # eta left free
    # a non-real comparison is unknown, and an unknown conjunction fails
    assert isinstance(_truth(_relation("S1", "monotone_step"), _vals(t=-1, eta=F(1, 4), N=3)), _Unknown)
    with pytest.raises(pytest.fail.Exception, match="undecided"):
        _statement("S1", ("monotone_step",), _vals(t=-1, eta=F(1, 4), N=3))


def test_comparison_catches_mutated_closed_form(monkeypatch):
    pt = dict(t=F(3, 2), d=F(1, 2), alpha=F(1, 4), N=4)
    assert cmp_closed_k3_lower(**pt) is None

    def mutated(t, d, alpha, N):  # factor (N - 2) dropped
        with mpmath.workdps(mpmath.mp.dps):
            t, d, alpha = mpmath.mpf(t), mpmath.mpf(d), mpmath.mpf(alpha)
            return (alpha ** (-(N - 2)) - d ** (-mpmath.mpf(N - 2) / N)) / t

    monkeypatch.setattr(flow, "k3_lower", mutated)
    assert cmp_closed_k3_lower(**pt) is not None


# ---------------------------------------------------------------------------
# closed forms: lambdified SymPy expression vs evaluator, 50 digits, relative 1e-40
# ---------------------------------------------------------------------------


def _close(a, b):
    """None if a and b agree to a relative 1e-40, else a message."""
    a, b = mpmath.mpf(a), mpmath.mpf(b)
    scale = max(abs(a), abs(b))
    if abs(a - b) <= mpmath.mpf(10) ** -40 * scale:
        return None
    return f"SymPy {mpmath.nstr(a, 45)} != evaluator {mpmath.nstr(b, 45)}"


@functools.lru_cache(maxsize=None)
def _lam(key, N):
    """Lambdified SymPy expression for closed form ``key`` at depth N, and its arguments."""
    Ns = sp.Integer(N)
    S = bounds

    def sub(ex):
        return ex.subs(S.N, Ns)

    def solve_eta(cid, name):
        rel = sub(_relation(cid, name))
        sol = sp.solve(sp.Eq(rel.lhs, rel.rhs), S.eta)
        assert len(sol) == 1, sol
        return sol[0]

    if key == "monotone_step_bound":
        args, ex = (S.t,), solve_eta("S1", "monotone_step")
    elif key == "s3_decreasing_step_bound":
        args, ex = (S.t, S.alpha), solve_eta("S3", "decreasing_step")
    elif key == "p1_step_bound":
        args, ex = (S.t1, S.alpha), solve_eta("P1", "step_bound")
    elif key == "k1_level_max":
        rel = _relation("K1", "level_in_increasing_range")
        (upper,) = [a for a in rel.args if isinstance(a, sp.LessThan) and a.lhs == S.d]
        args, ex = (S.t,), sub(upper.rhs)
    elif key == "fixed_point_derivative_from_phi":
        x = sp.Symbol("x", positive=True)
        tt = sp.Symbol("t", positive=True)
        ex = sp.diff(flow.phi_symbolic(x, tt, S.eta, Ns), x).subs(x, tt ** sp.Rational(1, N)).subs(tt, S.t)
        args = (S.t, S.eta)
    elif key == "fixed_point_derivative_from_s2":
        args, ex = (S.t, S.eta), 1 - sub(_relation("S2", "large_step").lhs)
    elif key == "phi":
        x = sp.Symbol("x", real=True)
        args, ex = (x, S.t, S.eta), flow.phi_symbolic(x, S.t, S.eta, Ns)
    elif key == "G":
        u = sp.Symbol("u", positive=True)
        args, ex = (u,), flow.G_symbolic(u, N)
    elif key == "k1_lower":
        concl = get_claim("K1").conclusion
        assert isinstance(concl, sp.GreaterThan) and concl.lhs == S.K
        args, ex = (S.t, S.d, S.alpha, S.eta), sub(concl.rhs)
    elif key == "k2_upper":
        concl = get_claim("K2").conclusion
        assert isinstance(concl, sp.LessThan) and concl.lhs == S.K
        args, ex = (S.t, S.d, S.alpha, S.eta), sub(concl.rhs)
    elif key == "k3_lower":
        concl = get_claim("K3").conclusion
        assert isinstance(concl, sp.LessThan) and concl.rhs == S.tau_s(S.alpha**S.N, S.d)
        args, ex = (S.t, S.d, S.alpha), sub(concl.lhs)
    elif key == "p3_lower":
        concl = get_claim("P3").conclusion
        assert isinstance(concl, sp.LessThan) and concl.rhs == S.K
        args, ex = (S.s, S.e, S.d, S.alpha, S.eta), sub(concl.lhs)
    else:
        raise KeyError(key)
    assert ex.free_symbols <= set(args), (key, ex.free_symbols)
    return args, sp.lambdify(args, ex, modules=[{"tau": _tau_placeholder, "rho": _rho_placeholder}, "mpmath"])


# tau and rho are function symbols in the registry: their numeric values come from the
# evaluators, with the implicit target / step size bound per call through these globals
_CTX = {}


def _tau_placeholder(a, b):
    return flow.tau(_CTX["target"], a, b, _CTX["N"])


def _rho_placeholder(t):
    return flow.rho(t, _CTX["eta"], _CTX["N"])


def cmp_closed(key, N, evaluator, values, ctx=None):
    with mpmath.workdps(DPS):
        args, f = _lam(key, N)
        _CTX.clear()
        _CTX.update(ctx or {}, N=N)
        mp = [_mp(v) for v in values]
        return _close(f(*mp), evaluator(*mp))


def cmp_closed_k3_lower(t, d, alpha, N):
    return cmp_closed("k3_lower", N, lambda t_, d_, a_: flow.k3_lower(t_, d_, a_, N), (t, d, alpha))


rationals = st.builds(Fraction, st.integers(1, 10**6), st.integers(1, 10**6))


def in_unit():
    return st.builds(lambda a, b: Fraction(min(a, b), max(a, b) + 1), st.integers(1, 10**6), st.integers(1, 10**6))


@given(t=rationals, alpha=rationals, eta=rationals, x=rationals, frac=in_unit(), N=st.integers(2, 8))
@example(t=F(1), alpha=F(1, 2), eta=F(1, 2), x=F(1, 3), frac=F(1, 2), N=2)
def test_step_bounds_and_map_equal_sympy_expressions(t, alpha, eta, x, frac, N):
    checks = {
        "monotone_step_bound": cmp_closed("monotone_step_bound", N, lambda t_: flow.monotone_step_bound(t_, N), (t,)),
        "p1_step_bound": cmp_closed("p1_step_bound", N, lambda t_, a_: perturbed.p1_step_bound([t_, 0], a_, N), (t, alpha)),
        "k1_level_max": cmp_closed("k1_level_max", N, lambda t_: flow.k1_level_max(t_, N), (t,)),
        "fixed_point_derivative (phi')": cmp_closed(
            "fixed_point_derivative_from_phi", N, lambda t_, e_: flow.fixed_point_derivative(t_, e_, N), (t, eta)),
        "fixed_point_derivative (S2)": cmp_closed(
            "fixed_point_derivative_from_s2", N, lambda t_, e_: flow.fixed_point_derivative(t_, e_, N), (t, eta)),
        "phi": cmp_closed("phi", N, lambda x_, t_, e_: flow.phi(x_, t_, e_, N), (x, t, eta)),
        "G": cmp_closed("G", N, lambda u_: flow.G(u_, N), (frac,)),
        # s3_decreasing_step_bound needs t < alpha^N: t := frac * alpha^N
        "s3_decreasing_step_bound": cmp_closed(
            "s3_decreasing_step_bound", N, lambda t_, a_: flow.s3_decreasing_step_bound(t_, a_, N),
            (frac * alpha**N, alpha)),
    }
    bad = {k: v for k, v in checks.items() if v is not None}
    assert not bad, f"N={N}, t={t}, alpha={alpha}, eta={eta}: {bad}"


@given(t=rationals, f1=in_unit(), f2=in_unit(), feta=in_unit(), N=st.integers(2, 7))
@example(t=F(1), f1=F(1, 10), f2=F(1, 2), feta=F(1, 2), N=2)
def test_hitting_time_bounds_equal_sympy_conclusions(t, f1, f2, feta, N):
    # alpha^N = f1 * d, d = f2 * t (K2 range), eta = feta / (N t^A) (K1's and K2's step bound)
    d = f2 * t
    with mpmath.workdps(DPS):
        # alpha and eta as the exact rationals of their 50-digit values: both sides see the same mpf
        alpha = _to_frac((_mp(f1) * _mp(d)) ** (mpmath.mpf(1) / N))
        eta = _to_frac(_mp(feta) / (N * _mp(t) ** flow.A(N)))
        ctx = {"target": _mp(t), "eta": _mp(eta)}
    checks = {
        "k1_lower": cmp_closed("k1_lower", N, lambda t_, d_, a_, e_: flow.k1_lower(t_, d_, a_, e_, N),
                               (t, d, alpha, eta), ctx),
        "k2_upper": cmp_closed("k2_upper", N, lambda t_, d_, a_, e_: flow.k2_upper(t_, d_, a_, e_, N),
                               (t, d, alpha, eta), ctx),
    }
    if N >= 3:
        checks["k3_lower"] = cmp_closed_k3_lower(t, d, alpha, N)
    bad = {k: v for k, v in checks.items() if v is not None}
    assert not bad, f"N={N}, t={t}, d={d}: {bad}"


def _to_frac(v):
    """The exact rational value of an mpf."""
    man, exp = mpmath.mpf(v).man_exp
    return Fraction(int(man)) * Fraction(2) ** int(exp)


@given(s=rationals, fe=in_unit(), fd=in_unit(), fa=in_unit(), feta=in_unit(), N=st.integers(2, 7))
@example(s=F(7, 4), fe=F(1, 7), fd=F(1, 3), fa=F(1, 2), feta=F(1, 2), N=2)
def test_p3_lower_bound_equals_sympy_conclusion(s, fe, fd, fa, feta, N):
    # d = fd * s, e = fe * (s - d), alpha^N = fa * d
    d = fd * s
    e = fe * (s - d)
    with mpmath.workdps(DPS):
        alpha = _to_frac((_mp(fa) * _mp(d)) ** (mpmath.mpf(1) / N))
        eta = _to_frac(_mp(feta) / (N * (_mp(s) + _mp(e)) ** flow.A(N)))
        ctx = {"target": _mp(s)}
    msg = cmp_closed("p3_lower", N, lambda s_, e_, d_, a_, et_: perturbed.p3_bounds(s_, e_, d_, a_, et_, N)[0],
                     (s, e, d, alpha, eta), ctx)
    assert msg is None, f"P3 lower at s={s}, e={e}, d={d}, N={N}: {msg}"


@given(s=st.lists(rationals, min_size=2, max_size=4).map(lambda v: sorted(v, reverse=True)), rr=st.integers(0, 5),
       eps=in_unit(), theta=rationals, e=rationals)
@example(s=[F(2), F(1, 10)], rr=0, eps=F(1, 10), theta=F(1, 20), e=F(1, 10))
@example(s=[F(1), F(1, 2)], rr=0, eps=F(1, 2), theta=F(1, 2), e=F(0))  # Max tie
def test_error_bounds_equal_sympy_conclusions(s, rr, eps, theta, e):
    r = 1 + rr % (len(s) - 1)
    S = bounds
    l2 = get_claim("L2").conclusion
    p5 = get_claim("P5").conclusion
    assert isinstance(l2, sp.LessThan) and l2.lhs == S.err
    assert isinstance(p5, sp.LessThan) and p5.lhs == S.err
    with mpmath.workdps(DPS):
        f2 = sp.lambdify((S.eps, S.s1, S.theta), l2.rhs, modules="mpmath")
        f5 = sp.lambdify((S.eps, S.s1, S.theta, S.e, S.s_r1), p5.rhs, modules="mpmath")
        sm = [_mp(v) for v in s]
        em, thm, epm = _mp(e), _mp(theta), _mp(eps)
        m2 = _close(f2(epm, sm[0], thm), lowrank.l2_error_bound(sm, r, epm, thm))
        m5 = _close(f5(epm, sm[0], thm, em, sm[r]), perturbed.p5_error_bound(sm, r, em, epm, thm))
    assert m2 is None, f"L2 at s={s}, r={r}: {m2}"
    assert m5 is None, f"P5 at s={s}, r={r}: {m5}"


def test_closed_form_table_names_real_functions():
    for key in CLOSED_FORM_TABLE:
        mod, name = key.split("[")[0].split(".")
        assert callable(getattr(getattr(bounds, mod), name)), key
