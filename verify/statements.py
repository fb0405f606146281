"""The SymPy statements of ``bounds.CLAIMS`` evaluated on the instances `run` checks.

The registry states every hypothesis as a SymPy relation and most bounds as SymPy
expressions; the checks use hand-written evaluators (``bounds.flow``, ``bounds.lowrank``,
``bounds.perturbed``). This module ties the two together on the very calls a check makes:
`run` records each evaluator call (``verify.checks.verdict.record_evaluator_calls``) and
:func:`audit_calls` evaluates the statement behind it on the same arguments:

* a hypothesis evaluator (``HYPOTHESIS_TABLE``): the Kleene conjunction of the claim's
  hypothesis relations it implements, each relation evaluated by :func:`truth` (mpmath at
  20 digits above the run's precision on the exact input values; a gap within the working
  precision's rounding is decided by exact substitution of SymPy Rationals when it is an
  exact tie, and is *unknown* otherwise; a non-real comparison or a relation SymPy leaves
  undecided is unknown, never False). A decided statement that differs from the evaluator's
  answer is a disagreement;
* a closed-form bound (``CLOSED_FORMS``): the registry expression (a conclusion side, or a
  step relation solved for eta) lambdified with mpmath at the run's precision, against the
  evaluator's value, to a relative ``10^-(dps/2)``.

:func:`r1_symbolic_failures` runs R1's symbolic gradient identities of
``bounds.reduction`` at a cheap size. tests/test_statements.py uses the same
:func:`truth`, :func:`statement` and ``HYPOTHESIS_TABLE`` on dyadic points.

>>> audit_instance("S1", {"depth": 2, "t": 1.0, "eta_fraction": 1.0, "alpha": 0.5})
()
>>> truth(get_claim("S1").hypotheses[4].relation, values(t=1, eta=0.5, N=2))  # exact tie
True
"""

from __future__ import annotations

import functools
from fractions import Fraction
from typing import Mapping, Sequence

import mpmath
import sympy as sp

import bounds
from bounds import flow, get_claim

__all__ = [
    # three-valued evaluation of the registry's relations
    "Unknown",
    "truth",
    "statement",
    "relation",
    "values",
    "exact",
    # what each evaluator implements
    "HYPOTHESIS_TABLE",
    "CLOSED_FORMS",
    # the audit of `run`
    "audit_calls",
    "audit_instance",
    "tolerance",
    "r1_symbolic_failures",
]

R_L3 = sp.Symbol("R_L3")

# ---------------------------------------------------------------------------------------
# evaluator -> (claim, hypotheses whose conjunction it implements)

S1_NAMES = ("depth_ge_two", "alpha_pos", "eta_pos", "init_below_target", "monotone_step")
S3_NONPOS = ("depth_ge_two", "alpha_pos", "eta_pos", "target_nonpos", "positivity")
S3_BETWEEN = ("depth_ge_two", "alpha_pos", "eta_pos", "target_below_init", "decreasing_step")
L1_STANDING = ("depth_ge_two", "alpha_pos", "eta_pos", "spectral_gap", "eps_unit",
               "threshold_ge_init", "init_below_learned", "monotone_step")
P3_UPPER = ("depth_ge_two", "alpha_pos", "eta_pos", "noise_norm", "noise_lt_gap",
            "level_above_init", "monotone_step")
P4_NAMES = ("depth_ge_two", "alpha_pos", "eta_pos", "noise_norm", "weyl_consistent", "eps_unit",
            "step_bound", "positivity", "comparison_step", "threshold_ge_init",
            "init_below_learned")

HYPOTHESIS_TABLE = {
    "flow.s1_hypotheses": ("S1", S1_NAMES),
    "flow.s2_overshoot_regime": ("S2", ("depth_ge_two", "eta_pos", "target_pos", "large_step", "overshoot_regime")),
    "flow.s2_repelling": ("S2", ("depth_ge_two", "eta_pos", "target_pos", "repelling_regime")),
    "flow.s3_nonpositive_condition": ("S3", S3_NONPOS),
    # s3_hypotheses is the disjunction of S3's two cases
    "flow.s3_hypotheses[t<=0]": ("S3", S3_NONPOS),
    "flow.s3_hypotheses[0<t]": ("S3", S3_BETWEEN),
    "flow.o1_hypotheses": ("O1", ("depth_ge_two", "alpha_pos", "eta_pos", "target_le", "init_le_target",
                                  "monotone_step_prime", "positivity")),
    "flow.k1_hypotheses": ("K1", S1_NAMES + ("level_in_increasing_range",)),
    "flow.k2_hypotheses": ("K2", S1_NAMES + ("level_below_target",)),
    "flow.k3_hypotheses": ("K3", ("depth_ge_three", "alpha_pos", "level_below_target")),
    "momentum.m1_level_hypotheses": ("M1", S1_NAMES + ("momentum_coefficient", "level_below_target")),
    "lowrank.l1_hypotheses": ("L1", L1_STANDING),
    # UB0 := lowrank.ub0, LB1 := lowrank.lb1 (None -> oo)
    "lowrank.spectral_condition": ("L1", L1_STANDING + ("spectral_condition",)),
    # R_L3 := lowrank.l3_ratio_threshold
    "lowrank.l3_sufficient": ("L3", L1_STANDING + ("ratio_condition",)),
    # positivity instantiated at t = t_i for every t_i <= 0
    "perturbed.p1_hypotheses": ("P1", ("depth_ge_two", "alpha_pos", "eta_pos", "step_bound", "positivity")),
    "perturbed.p3_hypotheses": ("P3", P3_UPPER),
    "perturbed.p3_lower_hypotheses": ("P3", P3_UPPER + ("level_in_increasing_range",)),
    # weyl_consistent instantiated at every pair (t_i, s_i), positivity at every t_i <= 0
    "perturbed.p4_hypotheses": ("P4", P4_NAMES),
}

# the step relation each claim's ``monotone_step_bound`` solves for eta: (claim, hypothesis,
# symbol the evaluator's t stands for, symbols set to 0); P3 calls it with t = s + e
_STEP_RELATION = {
    "S1": ("S1", "monotone_step", bounds.t, ()), "K1": ("K1", "monotone_step", bounds.t, ()),
    "K2": ("K2", "monotone_step", bounds.t, ()), "S2": ("S2", "large_step", bounds.t, ()),
    "M1": ("M1", "monotone_step", bounds.t, ()),
    "O1": ("O1", "monotone_step_prime", bounds.tp, ()),
    "L1": ("L1", "monotone_step", bounds.s1, ()), "L2": ("L2", "monotone_step", bounds.s1, ()),
    "L3": ("L3", "monotone_step", bounds.s1, ()), "P3": ("P3", "monotone_step", bounds.s, (bounds.e,)),
}

CLOSED_FORMS = {
    "monotone_step_bound": "the claim's step relation (S1 monotone_step, S2 large_step, O1 monotone_step_prime, L monotone_step, P3 at e = 0) solved for eta",
    "s3_decreasing_step_bound": "S3 decreasing_step solved for eta",
    "s3_positivity_step_bound": "the claim's positivity relation (S3; O1's second alternative) solved for eta",
    "p1_step_limit": "min(P1 step_bound solved for eta, P1 positivity at t = t_n <= 0 solved for eta)",
    "k1_lower": "K1 conclusion rhs, tau := flow.tau (target t)",
    "k2_upper_real": "K2 conclusion rhs inside the ceiling, rho := flow.rho, tau := flow.tau",
    "k3_lower": "K3 conclusion lhs",
    "l2_error_bound": "L2 conclusion rhs",
    "p5_error_bound": "P5 conclusion rhs",
    "p3_bounds_real": "P3 conclusion lhs (component 0) and bounds.DEFINITIONS['p3_upper'] "
                      "(component 1), tau := flow.tau (target s), rho := flow.rho",
    "k3_upper": "bounds.DEFINITIONS['k3_upper'], J_N := flow.J_N",
    "rho": "bounds.DEFINITIONS['rho']",
}


# ---------------------------------------------------------------------------------------
# values and three-valued truth


def exact(v):
    """The exact SymPy number of an mpf, float, int, Fraction or decimal string."""
    if isinstance(v, sp.Basic):
        return v
    if isinstance(v, bool):
        raise TypeError("a bool is not a number")
    if isinstance(v, int):
        return sp.Integer(v)
    if isinstance(v, mpmath.mpf):
        if mpmath.isinf(v):
            return sp.oo if v > 0 else -sp.oo
        sign, man, exp, _ = v._mpf_  # man_exp drops the sign
        return (-1) ** sign * sp.Integer(int(man)) * sp.Integer(2) ** int(exp)
    q = Fraction(v) if not isinstance(v, str) else Fraction(v.strip())
    return sp.Rational(q.numerator, q.denominator)


_SYMBOLS = {"N": bounds.N, "t": bounds.t, "tp": bounds.tp, "d": bounds.d, "s": bounds.s,
            "e": bounds.e, "alpha": bounds.alpha, "eta": bounds.eta, "eps": bounds.eps,
            "theta": bounds.theta, "beta": bounds.beta, "s1": bounds.s1, "s_r": bounds.s_r, "s_r1": bounds.s_r1,
            "t1": bounds.t1, "t_r": bounds.t_r}


def values(**kw):
    """{registry symbol: exact value} from keyword names (``N``, ``t``, ``tp`` for t', ...)."""
    return {_SYMBOLS[k]: exact(v) for k, v in kw.items()}


class Unknown:
    """A relation that is not decided at the point: ``kind`` is "nonreal" (a comparison of
    a non-real value), "undecided" (SymPy left a relation) or "tie" (a gap within rounding
    of the working precision that is not an exact tie)."""

    def __init__(self, kind, why):
        self.kind, self.why = kind, why

    def __repr__(self):
        return f"unknown[{self.kind}]({self.why})"


def tolerance(dps: int):
    """Relative tolerance at ``dps`` digits: 10^-(dps/2) (closed forms and rounding ties)."""
    return mpmath.mpf(10) ** -(dps // 2)


@functools.cache
def _atom_fn(rel):
    """(symbols, mpmath function of (lhs, rhs)) of one relational atom."""
    syms = tuple(sorted(rel.free_symbols, key=str))
    return syms, sp.lambdify(syms, (rel.lhs, rel.rhs), modules="mpmath")


def _exact_truth(rel, vals):
    try:
        v = rel.subs(vals)
    except TypeError as exc:  # "Invalid comparison of non-real ..."
        return Unknown("nonreal", f"{rel} at {vals}: {exc}")
    if v is sp.true or v is True:
        return True
    if v is sp.false or v is False:
        return False
    return Unknown("undecided", f"SymPy left {rel} undecided at {vals}: {v!r}")


def _mpf(v):
    """An exact SymPy number (or +-oo) as an mpf at the current precision."""
    if v == sp.oo or v == -sp.oo:
        return mpmath.inf if v > 0 else -mpmath.inf
    if v.is_Rational:
        return mpmath.mpf(int(v.p)) / int(v.q)
    raise TypeError(f"not a rational: {v}")


def _real(x):
    if isinstance(x, mpmath.mpc):
        return x.real if x.imag == 0 else None
    if isinstance(x, (sp.Basic, complex)):
        return None
    return mpmath.mpf(x)


_OPS = {sp.LessThan: lambda a, b: a <= b, sp.StrictLessThan: lambda a, b: a < b,
        sp.GreaterThan: lambda a, b: a >= b, sp.StrictGreaterThan: lambda a, b: a > b,
        sp.Equality: lambda a, b: a == b, sp.Unequality: lambda a, b: a != b}


def _numeric_truth(rel, vals, dps):
    """mpmath at dps + 20 digits on the exact inputs; a gap within ``tolerance(dps)`` is
    decided exactly if it is an exact tie (zero gap), else unknown."""
    syms, fn = _atom_fn(rel)
    if not set(syms) <= set(vals) or type(rel) not in _OPS:
        return _exact_truth(rel, vals)
    with mpmath.workdps(dps + 20):
        try:
            lhs, rhs = (_real(x) for x in fn(*(_mpf(vals[s]) for s in syms)))
        except (TypeError, ValueError, ZeroDivisionError) as exc:
            return Unknown("undecided", f"{rel} at {vals}: {exc}")
        if lhs is None or rhs is None:
            return Unknown("nonreal", f"{rel} at {vals}: non-real side")
        if mpmath.isnan(lhs) or mpmath.isnan(rhs):
            return Unknown("undecided", f"{rel} at {vals}: nan")
        if mpmath.isinf(lhs) or mpmath.isinf(rhs) or \
                abs(lhs - rhs) > tolerance(dps) * max(abs(lhs), abs(rhs)):
            return bool(_OPS[type(rel)](lhs, rhs))
    gap = (rel.lhs - rel.rhs).subs(vals)  # rational arithmetic evaluates exact ties to 0
    if gap == 0:
        return _exact_truth(rel, vals)
    return Unknown("tie", f"{rel} within rounding at {vals}")


def truth(rel, vals, *, dps=None):
    """True / False / :class:`Unknown` of ``rel`` at ``vals`` (exact values), Kleene logic
    for And / Or. ``dps=None``: exact substitution only (SymPy decides; the tests' dyadic
    points); else mpmath first, ties within the rounding of ``dps`` digits as above."""
    if rel is sp.true or rel is True:
        return True
    if rel is sp.false or rel is False:
        return False
    if isinstance(rel, (sp.And, sp.Or)):
        parts = [truth(a, vals, dps=dps) for a in rel.args]
        dominant, other = (False, True) if isinstance(rel, sp.And) else (True, False)
        if any(p is dominant for p in parts):
            return dominant
        if all(p is other for p in parts):
            return other
        return next(p for p in parts if isinstance(p, Unknown))
    if dps is None:
        return _exact_truth(rel, vals)
    return _numeric_truth(rel, vals, dps)


def relation(cid, name):
    """The relation of hypothesis ``name`` of claim ``cid`` (KeyError naming both)."""
    for h in get_claim(cid).hypotheses:
        if h.name == name:
            return h.relation
    raise KeyError(f"claim {cid} has no hypothesis {name!r} "
                   f"(hypotheses: {get_claim(cid).hypothesis_names})")


def statement(cid, names, vals, instances=None, *, dps=None):
    """(Kleene conjunction, [(name, truth)]) of the named hypotheses of ``cid`` at
    ``vals``. ``instances[name]``: extra substitutions, the hypothesis is a "for every"
    statement instantiated at each (an empty list makes it vacuous)."""
    instances = instances or {}
    results = []
    for n in names:
        rel = relation(cid, n)
        for extra in instances.get(n, [{}]):
            results.append((n, truth(rel, {**vals, **extra}, dps=dps)))
    if any(r is False for _, r in results):
        return False, results
    bad = [r for _, r in results if r is not True]
    return (bad[0] if bad else True), results


# ---------------------------------------------------------------------------------------
# hypothesis evaluators: their call arguments -> the statement


def _l_vals(s, r, eps, theta, alpha, eta, N):
    return values(s1=s[0], s_r=s[r - 1], s_r1=s[r], eps=eps, theta=theta, alpha=alpha, eta=eta, N=N)


def _nonpos(ts):
    return [{bounds.t: exact(ti)} for ti in ts if exact(ti) <= 0]


def _hyp_s3(cid, args, kw, dps):
    vals = values(**dict(zip(("t", "alpha", "eta", "N"), args)))
    cases = [statement("S3", HYPOTHESIS_TABLE[k][1], vals, dps=dps)
             for k in ("flow.s3_hypotheses[t<=0]", "flow.s3_hypotheses[0<t]")]
    if any(c[0] is True for c in cases):
        return True, cases[0][1] + cases[1][1]
    if all(c[0] is False for c in cases):
        return False, cases[0][1] + cases[1][1]
    return next(c[0] for c in cases if isinstance(c[0], Unknown)), cases[0][1] + cases[1][1]


def _hyp_simple(key, argnames):
    def f(cid, args, kw, dps):
        c, names = HYPOTHESIS_TABLE[key]
        return statement(c, names, values(**dict(zip(argnames, args))), dps=dps)
    return f


def _hyp_l(key, extra):
    def f(cid, args, kw, dps):
        c, names = HYPOTHESIS_TABLE[key]
        vals = _l_vals(*args)
        standing = statement(c, L1_STANDING, vals, dps=dps)
        if standing[0] is not True or extra is None:
            return standing
        with mpmath.workdps(dps):
            sub = extra(*args)
        last = statement(c, names[len(L1_STANDING):], {**vals, **sub}, dps=dps)
        return last[0], standing[1] + last[1]
    return f


def _spectral_sub(*args):
    ub, lb = bounds.lowrank.ub0(*args), bounds.lowrank.lb1(*args)
    return {bounds.UB0: sp.Integer(ub), bounds.LB1: sp.oo if lb is None else sp.Integer(lb)}


def _ratio_sub(*args):
    R = bounds.lowrank.l3_ratio_threshold(*args)
    return {R_L3: exact(mpmath.mpf(R))}


def _hyp_p1(cid, args, kw, dps):
    t_eigs, alpha, eta, N = args
    c, names = HYPOTHESIS_TABLE["perturbed.p1_hypotheses"]
    return statement(c, names, values(t1=t_eigs[0], alpha=alpha, eta=eta, N=N),
                     {"positivity": _nonpos(t_eigs)}, dps=dps)


def _hyp_p3(key):
    return _hyp_simple(key, ("s", "e", "d", "alpha", "eta", "N"))


def _hyp_p4(cid, args, kw, dps):
    t_eigs, s, r, e, eps, theta, alpha, eta, N = args
    tol = exact(kw.get("weyl_tol", 0))  # the evaluator admits |t_i - s_i| <= e + weyl_tol
    c, names = HYPOTHESIS_TABLE["perturbed.p4_hypotheses"]
    vals = values(t1=t_eigs[0], t_r=t_eigs[r - 1], s_r1=s[r], e=e, eps=eps, theta=theta,
                  alpha=alpha, eta=eta, N=N)
    inst = {"weyl_consistent": [{bounds.t: exact(a), bounds.s: exact(b), bounds.e: exact(e) + tol}
                                for a, b in zip(t_eigs, s)],
            "positivity": _nonpos(t_eigs)}
    return statement(c, names, vals, inst, dps=dps)


def _hyp_paired(cid, args, kw, dps):
    s, t, e = args  # P2's conclusion |t - s| <= e (+ the evaluator's rounding tol)
    concl = get_claim("P2").conclusion
    r = truth(concl, {bounds.t: exact(t), bounds.s: exact(s),
                      bounds.e: exact(e) + exact(kw.get("tol", 0))}, dps=dps)
    return r, [("P2 conclusion", r)]


_NEGATED = object()  # the evaluator returns its failures: it holds iff the list is empty

# evaluator name -> (statement function, how its result reads as a truth value)
_HYP_CALLS = {
    "s1_hypotheses": (_hyp_simple("flow.s1_hypotheses", ("t", "alpha", "eta", "N")), bool),
    "s2_overshoot_regime": (_hyp_simple("flow.s2_overshoot_regime", ("t", "eta", "N")), bool),
    "s2_repelling": (_hyp_simple("flow.s2_repelling", ("t", "eta", "N")), bool),
    "s3_nonpositive_condition": (_hyp_simple("flow.s3_nonpositive_condition", ("t", "alpha", "eta", "N")), bool),
    "s3_hypotheses": (_hyp_s3, bool),
    "o1_hypotheses": (_hyp_simple("flow.o1_hypotheses", ("t", "tp", "alpha", "eta", "N")), bool),
    "k1_hypotheses": (_hyp_simple("flow.k1_hypotheses", ("t", "d", "alpha", "eta", "N")), bool),
    "k2_hypotheses": (_hyp_simple("flow.k2_hypotheses", ("t", "d", "alpha", "eta", "N")), bool),
    "k3_hypotheses": (_hyp_simple("flow.k3_hypotheses", ("t", "d", "alpha", "N")), bool),
    "m1_level_hypotheses": (_hyp_simple("momentum.m1_level_hypotheses",
                                        ("t", "d", "alpha", "eta", "beta", "N")), bool),
    "l1_hypotheses": (_hyp_l("lowrank.l1_hypotheses", None), bool),
    "spectral_condition": (_hyp_l("lowrank.spectral_condition", _spectral_sub), bool),
    "l3_sufficient": (_hyp_l("lowrank.l3_sufficient", _ratio_sub), bool),
    "p1_hypotheses": (_hyp_p1, bool),
    "p1_hypothesis_failures": (_hyp_p1, _NEGATED),
    "p3_hypotheses": (_hyp_p3("perturbed.p3_hypotheses"), bool),
    "p3_hypothesis_failures": (_hyp_p3("perturbed.p3_hypotheses"), _NEGATED),
    "p3_lower_hypotheses": (_hyp_p3("perturbed.p3_lower_hypotheses"), bool),
    "p4_hypotheses": (_hyp_p4, bool),
    "p4_hypothesis_failures": (_hyp_p4, _NEGATED),
    "paired_eigenvalue_consistent": (_hyp_paired, bool),
}


# ---------------------------------------------------------------------------------------
# closed forms: the registry expression, lambdified per (claim, bound, N)

_CTX: dict = {}  # target and step size of tau / rho inside a lambdified conclusion


def _tau(a, b):
    return flow.tau(_CTX["target"], a, b, _CTX["N"])


def _rho(x):
    return flow.rho(x, _CTX["eta"], _CTX["N"])


def _J(eps):
    return flow.J_N(eps, _CTX["N"])


@functools.cache
def _eta_root(rel):
    """The eta where ``rel``'s two sides meet, symbolic in N (the step relations are
    linear in eta; anything else is reported, not solved)."""
    if isinstance(rel, sp.Or):  # O1 positivity: the alternative that bounds eta
        (rel,) = [a for a in rel.args if a.has(bounds.eta)]
    f = sp.expand(rel.lhs - rel.rhs)
    a = sp.diff(f, bounds.eta)
    if a == 0 or sp.diff(a, bounds.eta) != 0:
        raise ValueError(f"{rel} is not linear in eta: no step bound")
    return -f.subs(bounds.eta, 0) / a


def _solve_eta(rel, N):
    return _eta_root(rel).subs(bounds.N, N)


def _side(concl, which):
    ex = concl.rhs if which == "rhs" else concl.lhs
    return ex.args[0] if isinstance(ex, sp.ceiling) else ex


def _closed(cid, name, N):
    """(argument symbols, lambdified expression) of bound ``name`` as claim ``cid`` states it
    now (read from the registry on every call; the lambdified form is cached per expression)."""
    args, ex = _closed_source(cid, name, sp.Integer(N))
    return args, _lambdified(args, ex)


@functools.cache
def _lambdified(args, ex):
    return sp.lambdify(args, ex, modules=[{"tau": _tau, "rho": _rho, "J_N": _J}, "mpmath"])


def _closed_source(cid, name, Ns):
    S = bounds
    if name == "monotone_step_bound":
        c, h, base, zero = _STEP_RELATION[cid]
        ex = _solve_eta(relation(c, h), Ns).subs({z: 0 for z in zero})
        args = (base,)
    elif name == "s3_decreasing_step_bound":
        args, ex = (S.t, S.alpha), _solve_eta(relation("S3", "decreasing_step"), Ns)
    elif name == "s3_positivity_step_bound":
        args, ex = (S.t, S.alpha), _solve_eta(relation(cid if cid in ("S3", "O1") else "S3", "positivity"), Ns)
    elif name == "p1_step_limit":
        args = (S.t1, S.t, S.alpha)
        ex = (_solve_eta(relation("P1", "step_bound"), Ns), _solve_eta(relation("P1", "positivity"), Ns))
    elif name in ("k1_lower", "k2_upper_real"):
        args, ex = (S.t, S.d, S.alpha, S.eta), _side(get_claim(name[:2].upper()).conclusion, "rhs")
    elif name == "k3_lower":
        args, ex = (S.t, S.d, S.alpha), _side(get_claim("K3").conclusion, "lhs")
    elif name == "l2_error_bound":
        args, ex = (S.eps, S.s1, S.theta), _side(get_claim("L2").conclusion, "rhs")
    elif name == "p5_error_bound":
        args, ex = (S.eps, S.s1, S.theta, S.e, S.s_r1), _side(get_claim("P5").conclusion, "rhs")
    elif name == "p3_bounds_real":
        args = (S.s, S.e, S.d, S.alpha, S.eta)
        ex = (_side(get_claim("P3").conclusion, "lhs"), S.DEFINITIONS["p3_upper"][1])
    elif name in ("k3_upper", "rho"):
        args, ex = S.DEFINITIONS[name]
    else:
        raise KeyError(name)
    ex = sp.sympify(ex).subs(S.N, Ns) if not isinstance(ex, tuple) else tuple(x.subs(S.N, Ns) for x in ex)
    left = set().union(*(x.free_symbols for x in (ex if isinstance(ex, tuple) else (ex,))))
    if not left <= set(args):
        raise ValueError(f"{cid} {name}: free symbols {sorted(map(str, left - set(args)))} in {ex}")
    return args, ex


def _closed_value(cid, name, args, N):
    """The statement's value of bound ``name`` on the evaluator's call arguments."""
    _CTX.clear()
    _CTX["N"] = N
    if name == "monotone_step_bound":
        return _closed(cid, name, N)[1](args[0])
    if name in ("s3_decreasing_step_bound", "s3_positivity_step_bound"):
        return _closed(cid, name, N)[1](args[0], args[1])
    if name == "p1_step_limit":
        tv, alpha = [mpmath.mpf(v) for v in args[0]], mpmath.mpf(args[1])
        step, pos = _closed(cid, name, N)[1](tv[0], tv[-1], alpha)
        return min(step, pos) if tv[-1] <= 0 else step
    if name in ("k1_lower", "k2_upper_real"):
        t, d, alpha, eta = (mpmath.mpf(v) for v in args[:4])
        _CTX.update(target=t, eta=eta)
        return _closed(cid, name, N)[1](t, d, alpha, eta)
    if name == "k3_lower":
        return _closed(cid, name, N)[1](*(mpmath.mpf(v) for v in args[:3]))
    if name == "l2_error_bound":
        s, r, eps, theta = args
        return _closed(cid, name, 2)[1](mpmath.mpf(eps), mpmath.mpf(s[0]), mpmath.mpf(theta))
    if name == "p5_error_bound":
        s, r, e, eps, theta = args
        return _closed(cid, name, 2)[1](*(mpmath.mpf(v) for v in (eps, s[0], theta, e, s[r])))
    if name == "p3_bounds_real":
        s, e, d, alpha, eta = (mpmath.mpf(v) for v in args[:5])
        _CTX.update(target=s, eta=eta)
        return _closed(cid, name, N)[1](s, e, d, alpha, eta)
    if name == "k3_upper":
        return _closed(cid, name, N)[1](*(mpmath.mpf(v) for v in args[:3]))
    if name == "rho":
        return _closed(cid, name, N)[1](*(mpmath.mpf(v) for v in args[:2]))
    raise KeyError(name)


def _depth(name, args):
    if name in ("l2_error_bound", "p5_error_bound"):
        return 2  # no N in these
    return int(args[-1])


# ---------------------------------------------------------------------------------------
# the audit


def _fmt(results):
    return ", ".join(f"{n} {'unknown' if isinstance(r, Unknown) else r}" for n, r in results)


def _args_text(args, kw):
    def one(v):
        if isinstance(v, mpmath.mpf):
            return mpmath.nstr(v, 20)
        if isinstance(v, (list, tuple)):
            return "[" + ", ".join(one(x) for x in v) + "]"
        return repr(v)
    return ", ".join([one(a) for a in args] + [f"{k}={one(v)}" for k, v in kw.items()])


def audit_calls(claim_id: str, calls: Sequence, instance: Mapping | None = None,
                stats: dict | None = None) -> tuple[str, ...]:
    """Disagreements between the registry's statements and the recorded evaluator calls
    (``verify.checks.verdict.EvaluatorCall``) of one check, as messages naming the claim,
    the hypotheses or bound, the arguments and the instance (empty: none). ``stats``
    (optional dict) counts "agree", "unknown" and "compared" calls."""
    stats = stats if stats is not None else {}
    msgs, where = [], f" on instance {dict(instance)}" if instance is not None else ""
    for c in calls:
        try:
            if c.name in _HYP_CALLS:
                fn, reads = _HYP_CALLS[c.name]
                sym, parts = fn(claim_id, c.args, c.kwargs, c.dps)
                ev = (not c.result) if reads is _NEGATED else bool(c.result)
                if isinstance(sym, Unknown):
                    stats["unknown"] = stats.get("unknown", 0) + 1
                    continue
                stats["compared"] = stats.get("compared", 0) + 1
                if sym != ev:
                    msgs.append(f"{claim_id} statement of {c.name}: SymPy hypotheses say {sym} "
                                f"({_fmt(parts)}), the evaluator says {ev}, at "
                                f"({_args_text(c.args, c.kwargs)}){where}")
            elif c.name in CLOSED_FORMS:
                with mpmath.workdps(c.dps):
                    gots = _closed_value(claim_id, c.name, c.args, _depth(c.name, c.args))
                    pairs = (list(zip(gots, c.result)) if isinstance(gots, tuple)
                             else [(gots, c.result)])
                    ok = True
                    for got, want in pairs:  # every component of a tuple-valued bound
                        got, want = _real(got), mpmath.mpf(want)
                        stats["compared"] = stats.get("compared", 0) + 1
                        if not (got is not None and (got == want or abs(got - want)
                                                      <= tolerance(c.dps) * max(abs(got), abs(want)))):
                            ok = False
                            break
                if not ok:
                    msgs.append(f"{claim_id} closed form of {c.name} ({CLOSED_FORMS[c.name]}): "
                                f"SymPy {got if got is None else mpmath.nstr(got, 25)} != evaluator "
                                f"{mpmath.nstr(want, 25)} at ({_args_text(c.args, c.kwargs)}){where}")
        except Exception as exc:  # a statement that cannot be evaluated is a failure
            msgs.append(f"{claim_id} statement of {c.name} could not be evaluated "
                        f"({type(exc).__name__}: {exc}) at ({_args_text(c.args, c.kwargs)}){where}")
    return tuple(msgs)


def audit_instance(claim_id: str, instance: Mapping, *, dps: int = 50, max_dps: int = 250,
                   stats: dict | None = None) -> tuple[str, ...]:
    """Run the claim's check on ``instance`` and audit the statements on its evaluator calls."""
    from verify.checks import check
    from verify.checks.verdict import record_evaluator_calls

    with record_evaluator_calls() as calls:
        check(claim_id, instance, dps=dps, max_dps=max_dps)
    return audit_calls(claim_id, calls, instance, stats)


# ---------------------------------------------------------------------------------------
# R1: the symbolic identities of bounds.reduction at a cheap size

#: (N, n, basis) of the gradient identity; about 1 s in all (measured: rotation N = 2 0.45 s,
#: rotation N = 3 0.7 s, so only N = 2 there)
R1_CASES = ((2, 2, "rotation"), (3, 2, "commuting"), (3, 3, "diagonal"))


def r1_symbolic_failures(cases=R1_CASES, depths=(2,)) -> tuple[str, ...]:
    """R1's gradient identities (``bounds.reduction``) at small (N, n): the common
    gradient X^(N-1)(X^N - Y) and its eigenform, one GD step = phi, the orthogonal
    invariance, the symbolic-N identity and ``gradient_at_equal_factors``; a False or an
    exception is a failure message (empty: all hold)."""
    import warnings

    from bounds import reduction as R

    checks = [(f"reduced_gradient_identity_holds(N={N}, n={n}, {b!r})",
               functools.partial(R.reduced_gradient_identity_holds, N, n, b)) for N, n, b in cases]
    checks += [(f"gd_step_identity_holds(N={N}, n=2)", functools.partial(R.gd_step_identity_holds, N, 2))
               for N in depths]
    checks += [(f"orthogonal_invariance_holds(N={N})", functools.partial(R.orthogonal_invariance_holds, N))
               for N in (2, 3)]
    checks.append(("scalar_identity_holds_symbolic_N()", R.scalar_identity_holds_symbolic_N))

    def equal_factors(N):
        S = R.equal_factor_setting(2)
        want = R.reduced_gradient(N, S)
        return all(all(S.normal_form(e) == 0 for e in (G - want)) for G in R.gradient_at_equal_factors(N, 2))

    checks += [(f"gradient_at_equal_factors(N={N}, 2) = reduced_gradient", functools.partial(equal_factors, N))
               for N in depths]
    out = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an undecided entry is a False here
        for what, fn in checks:
            try:
                ok = fn()
            except Exception as exc:
                out.append(f"R1 symbolic identity {what} raised {type(exc).__name__}: {exc}")
                continue
            if ok is not True:
                out.append(f"R1 symbolic identity {what} does not hold (bounds/reduction.py)")
    return tuple(out)

