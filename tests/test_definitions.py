"""The SymPy definitions in ``bounds.DEFINITIONS`` and ``bounds.P4_ANY_HYPOTHESES`` against
the hand-written evaluators they define.

The evaluators use closed forms (2F1 for J_N and for the integral in H's margin); the
definitions are the integrals themselves, evaluated by SymPy's own quadrature (``evalf``), so
each pair is checked two ways. ``tau`` and ``rho`` inside a definition are bound to their
definitions or evaluators explicitly. A SymPy comparison that does not come out as a boolean
fails the test (never read as False).
"""

from __future__ import annotations

import decimal
import functools
from fractions import Fraction as F

import mpmath
import pytest
import sympy as sp
from hypothesis import example, given, settings
from hypothesis import strategies as st

import bounds
from bounds import flow, perturbed

DPS = 50
TOL = mpmath.mpf(10) ** -30  # SymPy's quadrature of the endpoint-singular integrals


def _close(a, b, tol=TOL):
    a, b = mpmath.mpf(a), mpmath.mpf(b)
    return abs(a - b) <= tol * max(abs(a), abs(b), mpmath.mpf(10) ** -40)


def _q(x):
    return sp.Rational(x.numerator, x.denominator) if isinstance(x, F) else sp.Integer(x)


def _dec(x: F) -> str:
    """The exact decimal string of a dyadic fraction (evaluators parse strings exactly)."""
    x = F(x)
    with decimal.localcontext(decimal.Context(prec=100)):
        out = decimal.Decimal(x.numerator) / decimal.Decimal(x.denominator)
    assert F(out) == x, x
    return format(out, "f")


def _quad(integral):
    """A definite SymPy integral with numeric limits, by mpmath's tanh-sinh quadrature at 70
    digits: its integrand and limits are the SymPy object's own (lambdified), and the
    endpoint singularities u^(2/N-1), u^-A are what tanh-sinh handles. (SymPy's own evalf of
    these integrals agrees to only ~30 digits.)"""
    (var, lo, hi), = integral.limits
    fn = integral.function
    if lo == 0:
        # an integrable u^p singularity at 0 (p in (-1, 0)): substitute u = v^q, q = 1/(1+p),
        # which makes u^p du = q dv smooth (SymPy does the substitution)
        p = next((f.exp for f in sp.Mul.make_args(fn) if f.is_Pow and f.base == var), sp.Integer(0))
        if p.is_negative:
            q, v = 1 / (1 + p), sp.Dummy("v", positive=True)
            fn = sp.powsimp(sp.expand_power_base(fn.subs(var, v**q) * q * v ** (q - 1), force=True),
                            force=True)
            var, hi = v, hi ** (1 / q)
    f = sp.lambdify(var, fn, modules="mpmath")
    with mpmath.workdps(70):
        lo, hi = mpmath.mpf(sp.N(lo, 80)), mpmath.mpf(sp.N(hi, 80))
        v = mpmath.quad(f, [lo, (lo + hi) / 2, hi])
        return sp.Float(mpmath.nstr(v, 65), 65)


def _num(expr, subs):
    """A SymPy expression at exact values, evaluated at 60 digits (integrals by quadrature)."""
    v = expr.subs(subs)
    v = v.replace(lambda x: isinstance(x, sp.Integral), _quad)
    out = sp.N(v, 60)
    if not out.is_number or not out.is_real:
        pytest.fail(f"undecided: {expr} at {subs} gave {out}")
    return mpmath.mpf(str(out))


def _definition(name, N):
    args, ex = bounds.DEFINITIONS[name]
    return args, ex.subs(bounds.N, N)


def dyadic(lo, hi, bits=12):
    """Dyadic rationals in [lo, hi] (exact ties with the evaluators' boundaries)."""
    return st.integers(int(lo * 2**bits), int(hi * 2**bits)).map(lambda k: F(k, 2**bits))


depths = st.integers(2, 6)


# ---------------------------------------------------------------------------
# rho, J_N, K3's upper bound, H's margin, P3's upper bound
# ---------------------------------------------------------------------------


@given(t=dyadic(0, 4), eta=dyadic(F(1, 4096), 1), N=depths)
@example(t=F(0), eta=F(1, 2), N=2)
def test_rho_equals_its_definition(t, eta, N):
    args, ex = _definition("rho", N)
    with mpmath.workdps(DPS):
        ev = flow.rho(_dec(t), _dec(eta), N)
        assert _close(_num(ex, dict(zip(args, (_q(t), _q(eta))))), ev, mpmath.mpf(10) ** -45)


@settings(max_examples=25, deadline=None)
@given(eps=dyadic(F(1, 1024), F(1023, 1024), bits=10), N=depths)
@example(eps=F(1, 2), N=2)  # J_2(1/2) = ln 2
def test_J_N_closed_form_equals_its_integral(eps, N):
    args, ex = _definition("J_N", N)
    with mpmath.workdps(DPS):
        assert _close(_num(ex, {args[0]: _q(eps)}), flow.J_N(_dec(eps), N))


@settings(max_examples=25, deadline=None)
@given(t=dyadic(F(1, 4), 4, bits=8), eps=dyadic(F(1, 64), F(1, 2), bits=6),
       a=dyadic(F(1, 64), F(1, 2), bits=6), N=st.integers(3, 6))
def test_k3_upper_equals_its_definition_with_J_N_as_integral(t, eps, a, N):
    args, ex = _definition("k3_upper", N)
    ex = ex.replace(bounds.J, lambda x: bounds.J_N_INTEGRAL.subs({bounds.N: N, bounds.eps: x}))
    with mpmath.workdps(DPS):
        ev = flow.k3_upper(_dec(t), _dec(eps), _dec(a), N)
        assert _close(_num(ex, dict(zip(args, map(_q, (t, eps, a))))), ev)


@settings(max_examples=25, deadline=None)
@given(t=dyadic(F(1, 4), 4, bits=8), eps=dyadic(F(1, 64), F(1, 2), bits=6),
       c=dyadic(F(1, 256), F(15, 16), bits=8), N=depths)
def test_h_decreasing_margin_equals_its_definition(t, eps, c, N):
    # alpha^N = c (1-eps) t: inside the domain c < 1 - eps of the margin
    aN = c * (1 - eps) * t
    args, ex = _definition("h_decreasing_margin", N)
    with mpmath.workdps(DPS):
        alpha = mpmath.root(mpmath.mpf(aN.numerator) / aN.denominator, N)
        ev = perturbed.h_decreasing_margin(_dec(t), alpha, _dec(eps), N)
        sym = _num(ex.subs(bounds.alpha**N, _q(aN)), {bounds.t: _q(t), bounds.eps: _q(eps)})
        assert _close(sym, ev, mpmath.mpf(10) ** -25)


@settings(max_examples=40, deadline=None)
@given(s=dyadic(F(1, 2), 2, bits=8), e_frac=dyadic(0, F(15, 16), bits=6),
       d_frac=dyadic(F(1, 16), F(15, 16), bits=6), a=dyadic(F(1, 64), F(1, 4), bits=6),
       eta_frac=dyadic(F(1, 64), 1, bits=6), N=depths)
def test_p3_upper_equals_its_definition(s, e_frac, d_frac, a, eta_frac, N):
    # admissible by construction: alpha^N < d < s, e < s - d, eta a fraction of its bound
    aN = a**N
    d = aN + d_frac * (s - aN)
    e = e_frac * (s - d)
    args, ex = _definition("p3_upper", N)
    with mpmath.workdps(DPS):
        eta = mpmath.mpf(eta_frac.numerator) / eta_frac.denominator * flow.monotone_step_bound(_dec(s + e), N)
        ev = perturbed.p3_bounds_real(_dec(s), _dec(e), _dec(d), _dec(a), eta, N)[1]
        rho_def = bounds.DEFINITIONS["rho"][1].subs(bounds.N, N)
        sym_ex = ex.replace(bounds.rho_f, lambda x: rho_def.subs(bounds.t, x))
        ts = flow.tau(_dec(s), _dec(aN), _dec(d), N)
        sym_ex = sym_ex.replace(bounds.tau_s, lambda lo, hi: sp.Float(mpmath.nstr(ts, 60), 60))
        vals = {bounds.s: _q(s), bounds.e: _q(e), bounds.d: _q(d), bounds.alpha: _q(a),
                bounds.eta: sp.Float(mpmath.nstr(eta, 60), 60)}
        assert _close(_num(sym_ex, vals), ev, mpmath.mpf(10) ** -40)


def test_definitions_catch_a_mutated_evaluator(monkeypatch):
    args, ex = _definition("rho", 3)
    with mpmath.workdps(DPS):
        good = flow.rho("0.5", "0.25", 3)
        assert _close(_num(ex, {bounds.t: sp.Rational(1, 2), bounds.eta: sp.Rational(1, 4)}), good)
        # (1 + eta t^A)^N instead of ^(N-1): the definition disagrees
        bad = (1 + mpmath.mpf("0.25") * mpmath.mpf("0.5") ** flow.A(3)) ** 3
        assert not _close(_num(ex, {bounds.t: sp.Rational(1, 2), bounds.eta: sp.Rational(1, 4)}), bad)


# ---------------------------------------------------------------------------
# the W-only P4 hypotheses: SymPy statement vs perturbed.p4_any_hypotheses (n = 2, r = 1)
# ---------------------------------------------------------------------------


class _Unknown:
    pass


def _truth(rel, vals):
    """Kleene value of a relation at exact values (And/Or short-circuit left to right)."""
    if isinstance(rel, (sp.And, sp.Or)):
        seen_unknown = False
        for arg in rel.args if not isinstance(rel, sp.And) else _ordered(rel):
            v = _truth(arg, vals)
            if isinstance(v, _Unknown):
                seen_unknown = True
            elif v is (isinstance(rel, sp.Or)):
                return v
        return _Unknown() if seen_unknown else (not isinstance(rel, sp.Or))
    if rel in (sp.true, sp.false):  # a domain assumption (alpha > 0) is True by the symbol
        return bool(rel)
    lhs = rel.lhs.subs(vals)
    rhs = rel.rhs.subs(vals)
    if lhs.has(sp.Integral) or rhs.has(sp.Integral):
        lhs, rhs = _num(lhs, {}), _num(rhs, {})
        if abs(lhs - rhs) < mpmath.mpf(10) ** -40:
            return _Unknown()  # too close to the transcendental boundary to decide here
        lhs, rhs = sp.Float(mpmath.nstr(lhs, 60), 60), sp.Float(mpmath.nstr(rhs, 60), 60)
    v = rel.func(lhs, rhs)
    if v not in (sp.true, sp.false):
        pytest.fail(f"undecided: {rel} at {vals} gave {v}")
    return bool(v)


def _ordered(rel):
    # the domain conjunct (alpha^N < (1-eps) lo) first, so the margin is only evaluated inside
    # its domain, as the evaluator does
    return sorted(rel.args, key=lambda a: a.has(sp.Integral))


@functools.cache
def _p4_any(N):
    return tuple(h.relation.subs(bounds.N, N) for h in bounds.P4_ANY_HYPOTHESES)


def _p4_any_statement(s1, sn, e, eps, theta, a, eta, N):
    vals = {bounds.s1: _q(s1), bounds.s: _q(sn), bounds.e: _q(e), bounds.eps: _q(eps),
            bounds.theta: _q(theta), bounds.alpha: _q(a), bounds.eta: _q(eta),
            bounds.lo_: _q(s1 - e)}
    out = True
    for rel in _p4_any(N):
        v = _truth(rel, vals)
        if v is False:
            return False
        if isinstance(v, _Unknown):
            out = v
    return out


_P4_ANY_TIES = [
    # theta = alpha^N exactly; eta exactly at the step bound (N = 2: eta N (s_1+e) = 1)
    dict(s1=F(15, 8), sn=F(1, 4), e=F(1, 8), eps=F(1, 8), theta=F(1, 64), a=F(1, 8), eta=F(1, 4), N=2),
    # eta just above the step bound
    dict(s1=F(15, 8), sn=F(1, 4), e=F(1, 8), eps=F(1, 8), theta=F(1, 64), a=F(1, 8), eta=F(257, 1024), N=2),
    # theta just below alpha^N
    dict(s1=F(3, 2), sn=F(1, 4), e=F(1, 8), eps=F(1, 8), theta=F(63, 4096), a=F(1, 8), eta=F(1, 4), N=2),
    # s_n - e = 0 (positivity needed, holds); s_n - e < 0 with eta too large for positivity
    dict(s1=F(3, 2), sn=F(1, 8), e=F(1, 8), eps=F(1, 8), theta=F(1, 32), a=F(1, 8), eta=F(1, 4), N=2),
    dict(s1=F(1, 2), sn=F(0), e=F(1, 4), eps=F(1, 8), theta=F(1, 8), a=F(1, 2), eta=F(1), N=3),
    # alpha^N = (1-eps)(s_1 - e) exactly: H's domain boundary
    dict(s1=F(9, 8), sn=F(1, 8), e=F(1, 8), eps=F(3, 4), theta=F(1, 2), a=F(1, 2), eta=F(1, 8), N=2),
]


@settings(max_examples=40, deadline=None)
@given(s1=dyadic(F(1, 2), 2, bits=6), sn_frac=dyadic(0, 1, bits=4), e=dyadic(0, F(1, 2), bits=6),
       eps=dyadic(F(1, 64), F(1, 2), bits=6), theta=dyadic(F(1, 4096), F(1, 4), bits=12),
       a=dyadic(F(1, 32), F(3, 4), bits=5), eta=dyadic(F(1, 256), 1, bits=8), N=st.integers(2, 4))
@example(**{k: v for k, v in _P4_ANY_TIES[0].items() if k != "sn"}, sn_frac=F(1, 6))
def test_p4_any_hypotheses_equal_sympy_statement(s1, sn_frac, e, eps, theta, a, eta, N):
    sn = s1 * sn_frac
    sym = _p4_any_statement(s1, sn, e, eps, theta, a, eta, N)
    if isinstance(sym, _Unknown):
        return  # on the transcendental boundary D = 0 to 40 digits: not decided here
    with mpmath.workdps(DPS):
        ev = perturbed.p4_any_hypotheses([_dec(s1), _dec(sn)], 1, _dec(e), _dec(eps), _dec(theta),
                                          _dec(a), _dec(eta), N)
    assert sym == ev, (sym, ev)


@pytest.mark.parametrize("p", _P4_ANY_TIES, ids=range(len(_P4_ANY_TIES)))
def test_p4_any_hypotheses_agree_at_exact_ties(p):
    sym = _p4_any_statement(**p)
    with mpmath.workdps(DPS):
        ev = perturbed.p4_any_hypotheses([_dec(p["s1"]), _dec(p["sn"])], 1, _dec(p["e"]), _dec(p["eps"]),
                                          _dec(p["theta"]), _dec(p["a"]), _dec(p["eta"]), p["N"])
    assert not isinstance(sym, _Unknown) and sym == ev, (sym, ev)


def test_p4_any_statement_catches_a_dropped_hypothesis(monkeypatch):
    # theta < alpha^N: the statement is False; an evaluator without that check says True
    p = next(p for p in _P4_ANY_TIES if p["theta"] < p["a"] ** p["N"])
    assert _p4_any_statement(**p) is False
    real = perturbed.p4_any_hypothesis_failures

    def dropped(*args, **kw):
        return [f for f in real(*args, **kw) if f != "theta >= alpha^N"]

    monkeypatch.setattr(perturbed, "p4_any_hypothesis_failures", dropped)
    with mpmath.workdps(DPS):
        ev = perturbed.p4_any_hypotheses([_dec(p["s1"]), _dec(p["sn"])], 1, _dec(p["e"]), _dec(p["eps"]),
                                          _dec(p["theta"]), _dec(p["a"]), _dec(p["eta"]), p["N"])
    assert ev is True
