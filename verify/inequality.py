"""Your own inequalities, checked with the verifier's discipline.

Two entry points (both usable without pytest; the pytest plugin,
:mod:`verify.pytest_plugin`, adds options, UNDECIDED as xfail and a summary section):

:func:`assert_holds`
    ``assert_holds(lhs, rhs, instance, relation="<=")``: ``lhs`` and ``rhs`` are callables
    ``f(instance, sim)`` of the instance and a :class:`verify.handle.Simulation` handle
    (hitting times, iterates, x^N at chosen steps, tau, rho). They are evaluated in estimate
    mode (the engine at ``dps`` digits) with a margin: ``rel_margin(dps)`` relative for
    the closed forms, plus the engine's error estimates of every simulated value read,
    propagated through your arithmetic to first order (each reading is replayed shifted
    by its error estimate). Inside the margin the verdict is UNDECIDED and the digits are
    doubled up to ``max_dps``. Then the callables are evaluated again on a handle in ball
    mode (:func:`verify.certified.certified_lane`, 128/256/512 bits): if both sides come back
    as arb balls or exact numbers, they are compared rigorously and a decided comparison
    is *certified* (a proof for the instance, as far as your callables compute only with
    the handle's values, exact instance numbers and arb arithmetic). Return
    ``Ceil(x) + k`` for ``ceil(x) + k``: an integer K is compared with it as ``K - k - 1 < x``,
    never through a ceiling taken at finite precision.
:func:`check_inequality`
    ``check_inequality(relation, hypotheses=..., instances=...)``: the relation and its
    hypotheses are SymPy relations over the registry's symbols (``N, t, d, alpha, eta, K_t,
    tau, rho, J_N, ...``; :data:`SYMBOLS`), built in your code (no string is ever parsed).
    First SymPy is asked whether the relation follows from the hypotheses
    (:func:`symbolic_verdict`: True / False / None, None meaning *unknown*, never false);
    then both sides are evaluated on every instance against the simulation (``K_t`` = the
    simulated hitting time of the level d, ``K_t(level)`` of another level, ``tau``/``rho``/
    ``J_N`` = the bounds/ evaluators, their arb enclosures in ball mode), instances whose
    hypotheses are false are N/A, and a FAIL is shrunk to a minimal counterexample
    (:func:`verify.shrink.shrink`).

>>> from bounds import N, t, d, alpha, eta
>>> import sympy as sp
>>> rep = check_inequality(sp.Lt(alpha**N, t), hypotheses=[sp.Lt(alpha**N, d), sp.Lt(d, t)],
...                        instances=[{"depth": 2, "t": 1.0, "alpha": 0.5, "d": 0.5, "eta": 0.1}])
>>> rep.symbolic.answer, rep.verdict
(True, 'PASS')
"""

from __future__ import annotations

import functools
import json
import math
import statistics
from dataclasses import dataclass
from fractions import Fraction
from numbers import Integral
from typing import Callable, Iterable, Mapping, Sequence

import mpmath
import sympy as sp

import bounds
from verify.checks.verdict import FAIL, NOT_APPLICABLE, PASS, UNDECIDED, Outcome, rel_margin
from verify.handle import Simulation, Undecided, exact_number

__all__ = [
    # the two checks
    "assert_holds",
    "check_inequality",
    "InequalityFailed",
    "Undecided",
    "InequalityReport",
    # what the user's code builds with
    "SYMBOLS",
    "K_t",
    "Ceil",
    "Floor",
    # pieces
    "symbolic_verdict",
    "SymbolicAnswer",
    "draw_instances",
    "configure",
    "settings",
    "PROFILES",
    "CERTIFY_PRECS",
]

#: per profile: instances per check_inequality, shrink budget (predicate calls)
PROFILES = {"quick": {"count": 10, "shrink_tries": 80},
            "default": {"count": 30, "shrink_tries": 150},
            "thorough": {"count": 200, "shrink_tries": 400}}
CERTIFY_PRECS = (128, 256, 512)
FLOAT_REL_MARGIN = 1e-12  # a float result of your callables is taken to about 12 digits

_SETTINGS = {"profile": "default", "dps": 50, "max_dps": 250, "seed": 0,
             "symbolic_timeout": 5.0}


def settings() -> dict:
    """The current defaults (profile, dps, max_dps, seed, symbolic_timeout)."""
    return dict(_SETTINGS)


def configure(**kw) -> dict:
    """Set the defaults the two checks use when a keyword is not given (the pytest plugin
    sets them from ``--dmf-profile``, ``--dmf-dps``, ``--dmf-max-dps``, ``--dmf-seed``).
    Returns the previous settings. ValueError naming a bad key or value.

    >>> old = configure(profile="quick"); settings()["profile"]
    'quick'
    >>> _ = configure(**old)
    """
    from verify.engine import MAX_DPS, MIN_DPS

    for k, v in kw.items():
        if k not in _SETTINGS:
            raise ValueError(f"unknown setting {k!r}; known: {', '.join(_SETTINGS)}")
        if k == "profile" and v not in PROFILES:
            raise ValueError(f"profile must be one of {', '.join(PROFILES)}, got {v!r}")
        if k in ("dps", "max_dps") and (isinstance(v, bool) or not isinstance(v, int)
                                        or not MIN_DPS <= v <= MAX_DPS):
            raise ValueError(f"{k} must be an integer in {MIN_DPS}..{MAX_DPS}, got {v!r}")
        if k == "seed" and (isinstance(v, bool) or not isinstance(v, int) or v < 0):
            raise ValueError(f"seed must be an integer >= 0, got {v!r}")
        if k == "symbolic_timeout" and (isinstance(v, bool) or not isinstance(v, (int, float))
                                        or not v > 0):
            raise ValueError(f"symbolic_timeout must be a number of seconds > 0, got {v!r}")
    old = dict(_SETTINGS)
    _SETTINGS.update(kw)
    return old


# results of the checks made since the last take_records() (the plugin's summary)
_RECORDS: list = []


def take_records() -> list:
    """The records (dicts) of the checks made since the last call, and forget them."""
    out = list(_RECORDS)
    _RECORDS.clear()
    return out


class InequalityFailed(AssertionError):
    """A decided FAIL (the message names the instance, both sides and the margin)."""


# ---------------------------------------------------------------------------------------
# what the user's code builds with

#: the registry's symbols and functions by name (build relations with these objects)
SYMBOLS = {"N": bounds.N, "t": bounds.t, "t'": bounds.tp, "d": bounds.d, "alpha": bounds.alpha,
           "eta": bounds.eta, "epsilon": bounds.eps, "theta": bounds.theta, "s": bounds.s,
           "e": bounds.e, "s_1": bounds.s1, "s_r": bounds.s_r, "s_r+1": bounds.s_r1,
           "t_1": bounds.t1, "t_r": bounds.t_r, "T0": bounds.T0, "T1": bounds.T1,
           "UB0": bounds.UB0, "LB1": bounds.LB1,
           "K_t": bounds.K, "tau": bounds.tau_s, "rho": bounds.rho_f, "J_N": bounds.J}

#: ``K_t(level)``: the simulated hitting time of ``level`` (the Symbol ``bounds.K``, printed
#: ``K_t``, is the hitting time of the instance's level d)
K_t = sp.Function("K_t", integer=True, nonnegative=True)

# symbol name -> instance field (N, eta, K_t come from the handle)
_FIELDS = {"t": "t", "t'": "t_prime", "d": "d", "alpha": "alpha", "epsilon": "eps",
           "theta": "theta", "s": "s", "e": "e"}
_FUNCTIONS = {"tau": 2, "rho": 1, "J_N": 1, "K_t": 1}


@dataclass(frozen=True)
class Ceil:
    """``ceil(x) + offset`` returned by a callable of :func:`assert_holds`: an exact integer
    on the other side is compared with the real x (``K <= ceil(x) + k`` as ``K - k - 1 < x``).

    >>> Ceil(2.5) + 1
    Ceil(x=2.5, offset=1)
    """

    x: object
    offset: int = 0

    def __add__(self, k):
        if isinstance(k, bool) or not isinstance(k, Integral):
            raise ValueError(f"only an integer can be added to {type(self).__name__}, got {k!r}")
        return type(self)(self.x, self.offset + int(k))

    __radd__ = __add__

    def __sub__(self, k):
        return self + (-k)


@dataclass(frozen=True)
class Floor(Ceil):
    """``floor(x) + offset`` (see :class:`Ceil`)."""


# ---------------------------------------------------------------------------------------
# numbers: exact (int, Fraction), mpf (estimate mode), arb (ball mode)


def _is_exact(v) -> bool:
    return isinstance(v, (Fraction, Integral)) and not isinstance(v, bool)


def _is_arb(v) -> bool:
    return type(v).__name__ == "arb"


class NotCertifiable(Exception):
    """A ball-mode value that is not an enclosure (an mpf or float from the callables)."""


def _is_inf(v) -> bool:
    """v is +inf (a float, mpf or arb +inf: an infinite T1 or LB1)."""
    if isinstance(v, float) or isinstance(v, mpmath.mpf):
        return v == math.inf
    if _is_arb(v):
        return not v.is_finite() and v.mid() > 0 and v.rad() == 0
    return False


def _to_mp(v):
    if isinstance(v, bool):
        raise ValueError("a side evaluated to a bool, not a number")
    if _is_exact(v):
        q = Fraction(v)
        return mpmath.mpf(q.numerator) / q.denominator
    if isinstance(v, (mpmath.mpf, float)):
        return mpmath.mpf(v)
    if _is_arb(v):
        raise ValueError("an arb ball in estimate mode: compute with the handle's values")
    if hasattr(v, "dtype") and getattr(v, "shape", None) == ():
        return mpmath.mpf(float(v))
    raise ValueError(f"a side evaluated to {type(v).__name__}, not a number")


def _to_arb(v):
    from flint import arb, fmpq

    if _is_arb(v):
        return v
    if _is_exact(v):
        q = Fraction(v)
        return arb(fmpq(q.numerator, q.denominator))
    raise NotCertifiable(f"a side is a {type(v).__name__}, not an arb ball or an exact number")


def _integer_reduce(small, big, strict):
    """Rewrite a comparison with a Ceil/Floor side against an exact integer as a comparison
    of reals (exact: K <= ceil(x) + k iff K - k - 1 < x, and so on); (small, big, strict,
    text of the rewrite or None)."""
    def is_int(v):
        return isinstance(v, Integral) or (isinstance(v, Fraction) and v.denominator == 1)

    if isinstance(big, Ceil) and not isinstance(small, Ceil) and is_int(small):
        a = int(small) - big.offset
        if isinstance(big, Floor):  # a <= floor(x) iff a <= x;  a < floor(x) iff a + 1 <= x
            return (a + 1, big.x, False, "floor") if strict else (a, big.x, False, "floor")
        # a <= ceil(x) iff a - 1 < x;  a < ceil(x) iff a < x
        return (a, big.x, True, "ceil") if strict else (a - 1, big.x, True, "ceil")
    if isinstance(small, Ceil) and not isinstance(big, Ceil) and is_int(big):
        b = int(big) - small.offset
        if isinstance(small, Floor):  # floor(x) <= b iff x < b + 1;  floor(x) < b iff x < b
            return (small.x, b, True, "floor") if strict else (small.x, b + 1, True, "floor")
        # ceil(x) <= b iff x <= b;  ceil(x) < b iff x <= b - 1
        return (small.x, b - 1, False, "ceil") if strict else (small.x, b, False, "ceil")
    return small, big, strict, None


def _ceil_value(m: Ceil, mode, dps):
    """The integer value of a Ceil/Floor marker that is not compared with an integer."""
    x = m.x
    fl = isinstance(m, Floor)
    if _is_exact(x):
        q = Fraction(x)
        return (math.floor(q) if fl else math.ceil(q)) + m.offset
    if mode == "ball":
        b = _to_arb(x)
        n = (b.floor() if fl else b.ceil()).unique_fmpz()
        if n is None:
            raise Undecided(f"{'floor' if fl else 'ceil'} of {b} is not decided")
        return int(n) + m.offset
    v = _to_mp(x)
    n = mpmath.nint(v)
    if abs(v - n) <= rel_margin(dps) * max(1, abs(v)):
        raise Undecided(f"{'floor' if fl else 'ceil'} of {mpmath.nstr(v, 20)}: within rounding "
                        f"of an integer at {dps} digits")
    return int(mpmath.floor(v) if fl else mpmath.ceil(v)) + m.offset


def _orient(lhs, rhs, relation):
    """(small, big, strict) of ``lhs relation rhs``."""
    return {"<=": (lhs, rhs, False), "<": (lhs, rhs, True),
            ">=": (rhs, lhs, False), ">": (rhs, lhs, True)}[relation]


def _decide_mp(a, b, strict, margin_extra, dps):
    """(verdict, slack, margin) of a <= b (a < b) in estimate mode."""
    if _is_exact(a) and _is_exact(b) and not margin_extra:
        ok = Fraction(a) < Fraction(b) if strict else Fraction(a) <= Fraction(b)
        scale = max(abs(Fraction(a)), abs(Fraction(b)), Fraction(1, 10**300))
        return (PASS if ok else FAIL), float((Fraction(b) - Fraction(a)) / scale), 0
    with mpmath.workdps(dps):
        x, y = _to_mp(a), _to_mp(b)
        if mpmath.isinf(x) and x > 0 and mpmath.isinf(y) and y > 0:  # inf <= inf: no slack
            return (FAIL, 0.0, 0) if strict else (PASS, None, 0)
        if mpmath.isinf(y) and y > 0:
            return PASS, math.inf, 0
        if mpmath.isinf(x) and x > 0:
            return FAIL, -math.inf, 0
        rel = rel_margin(dps)
        if isinstance(a, float) or isinstance(b, float):
            rel = max(rel, mpmath.mpf(FLOAT_REL_MARGIN))
        margin = rel * max(abs(x), abs(y)) + mpmath.mpf(margin_extra)
        scale = max(abs(x), abs(y), mpmath.mpf(10) ** -300)
        slack = float((y - x) / scale)
        if x <= y - margin and (not strict or x < y):
            return PASS, slack, margin
        if x > y + margin:
            return FAIL, slack, margin
        return UNDECIDED, slack, margin


def _decide_ball(a, b, strict):
    """(verdict, slack) of a <= b (a < b), rigorous: arb comparisons (an infinite T1 or
    LB1 is the exact +inf of the handle)."""
    if _is_inf(a) or _is_inf(b):
        if _is_inf(a) and _is_inf(b):  # inf <= inf: no slack to report
            return (FAIL, 0.0) if strict else (PASS, None)
        return (PASS, math.inf) if _is_inf(b) else (FAIL, -math.inf)
    A, B = _to_arb(a), _to_arb(b)
    if strict:
        verdict = PASS if A < B else (FAIL if A >= B else UNDECIDED)
    else:
        verdict = PASS if A <= B else (FAIL if A > B else UNDECIDED)
    x, y = float(A.mid()), float(B.mid())
    scale = max(abs(x), abs(y), 1e-300)
    return verdict, (y - x) / scale if math.isfinite(scale) else 0.0


def _tightness(small, big, mode, dps):
    """small/big of the original sides (the ceiling evaluated), when both are > 0."""
    try:
        vals = []
        for v in (small, big):
            if isinstance(v, Ceil):
                v = _ceil_value(v, mode, dps)
            vals.append(float(v.mid()) if _is_arb(v) else float(_to_mp(v)))
        x, y = vals
    except (Undecided, ValueError, NotCertifiable, TypeError, OverflowError):
        return None
    if x > 0 and y > 0 and math.isfinite(x) and math.isfinite(y):
        return x / y
    return None


def _text(v, digits=20) -> str:
    if isinstance(v, Ceil):
        kind = "floor" if isinstance(v, Floor) else "ceil"
        return f"{kind}({_text(v.x, digits)})" + (f" + {v.offset}" if v.offset else "")
    if isinstance(v, mpmath.mpf):
        return mpmath.nstr(v, digits)
    if _is_arb(v):
        return v.str(digits)
    return str(v)


# ---------------------------------------------------------------------------------------
# one comparison on one instance


@dataclass
class _Pair:
    """One comparison: callables of (instance, sim), the relation, and (optional) the
    exact SymPy difference used to settle a tie."""

    lhs: Callable
    rhs: Callable
    relation: str
    exact: Callable | None = None  # (instance, sim) -> SymPy number big - small, or None


def _evaluate(pair: _Pair, inst, sim):
    """(small, big, strict, propagated margin) of a pair on a handle (estimate mode:
    every simulated reading replayed at +- its error estimate)."""
    if sim.mode == "ball":
        from flint import ctx as flint_ctx

        with flint_ctx.workprec(sim.prec):  # the callables' arb arithmetic at the lane's bits
            return _evaluate_at(pair, inst, sim)
    with mpmath.workdps(sim.dps):  # and their mpmath arithmetic at the run's digits
        return _evaluate_at(pair, inst, sim)


def _evaluate_at(pair: _Pair, inst, sim):
    sim.readings.clear()
    sim.offsets = {}
    L, R = pair.lhs(inst, sim), pair.rhs(inst, sim)
    small, big, strict = _orient(L, R, pair.relation)
    extra = 0
    if sim.mode == "estimate":
        # first-order propagation of the simulated values' error estimates through the
        # callables: each reading replayed at +- its error, the largest change of each side
        reads = {key: err for key, _, err in sim.readings if err}
        base_s, base_b = (_real(small), _real(big)) if reads else (0, 0)
        for key, err in reads.items():
            ws = wb = mpmath.mpf(0)
            for sign in (1, -1):
                sim.offsets = {key: sign * mpmath.mpf(err)}
                s2, b2, _ = _orient(pair.lhs(inst, sim), pair.rhs(inst, sim), pair.relation)
                ws = max(ws, abs(_real(s2) - base_s))
                wb = max(wb, abs(_real(b2) - base_b))
            extra += ws + wb
        sim.offsets = {}
    return small, big, strict, extra, (L, R)


def _real(v):
    if isinstance(v, Ceil):
        return _to_mp(v.x) + v.offset
    return _to_mp(v)


def _decide_pair(pair, inst, sim):
    """(verdict, slack, tightness, details) of one pair on one handle."""
    small, big, strict, extra, (L, R) = _evaluate(pair, inst, sim)
    tight = _tightness(small, big, sim.mode, sim.dps)
    a, b, st, how = _integer_reduce(small, big, strict)
    a = _ceil_value(a, sim.mode, sim.dps) if isinstance(a, Ceil) else a
    b = _ceil_value(b, sim.mode, sim.dps) if isinstance(b, Ceil) else b
    if sim.mode == "ball":
        verdict, slack = _decide_ball(a, b, st)
        margin = 0
    else:
        verdict, slack, margin = _decide_mp(a, b, st, extra, sim.dps)
    tie = ""
    if verdict == UNDECIDED and pair.exact is not None:
        diff = pair.exact(inst, sim)
        if diff is not None and diff == 0:
            verdict = FAIL if st else PASS
            slack = 0.0
            tie = "exact tie decided by SymPy (rational substitution)"
    details = {"lhs": _text(L), "rhs": _text(R), "compared": f"{_text(a)} {'<' if st else '<='} {_text(b)}",
               "margin": _text(margin, 3) if margin else "0", "rewrite": how, "tie": tie}
    return verdict, slack, tight, details


# ---------------------------------------------------------------------------------------
# one instance: escalation, then certification


def _ladder(dps, max_dps):
    while True:
        yield dps
        if dps >= max_dps:
            return
        dps = min(2 * dps, max_dps)


def _kleene_and(values):
    if any(v is False for v in values):
        return False
    return True if all(v is True for v in values) else None


def _decide_instance(name, inst, pair, hyps, *, spec, dps, max_dps, certify, max_steps,
                     admissible=None) -> Outcome:
    """The Outcome of ``pair`` on ``inst``: hypotheses (a callable sim -> True/False/None)
    false -> N/A; estimate mode with escalation; then ball mode to certify."""
    cache: dict = {}
    verdict, note, used = UNDECIDED, "", dps
    slack = tight = None
    details: dict = {}
    for d in _ladder(dps, max_dps):
        used = d
        sim = Simulation(inst, mode="estimate", dps=d, spec=spec, max_steps=max_steps, _cache=cache)
        try:
            if admissible is not None:
                try:
                    ok, why = admissible(inst, d), ""
                except ValueError as exc:  # the spec's evaluator cannot read it at all
                    ok, why = False, f" ({exc})"
                if not ok:
                    return Outcome(name, NOT_APPLICABLE, None, d, dict(inst),
                                   note=f"not an admissible instance of spec {spec}{why}")
            h = hyps(inst, sim) if hyps is not None else True
            if h is False:
                return Outcome(name, NOT_APPLICABLE, None, d, dict(inst), note="a hypothesis is false")
            if h is None:
                note = f"a hypothesis is not decided at {d} digits"
                continue
            verdict, slack, tight, details = _decide_pair(pair, inst, sim)
            note = details["tie"]
        except Undecided as u:
            verdict, note = UNDECIDED, str(u)
            continue
        if verdict != UNDECIDED:
            break
        note = note or f"inside the margin at {d} digits"
    certified = False
    if certify:
        cnote = ""
        for prec in CERTIFY_PRECS:
            sim = Simulation(inst, mode="ball", prec=prec, spec=spec, max_steps=max_steps, _cache=cache)
            try:
                h = hyps(inst, sim) if hyps is not None else True
                if h is None:
                    cnote = f"hypotheses not proved at {prec} bits"
                    continue
                if h is False:
                    cnote = f"a hypothesis is proved false at {prec} bits"
                    if verdict != NOT_APPLICABLE:
                        return Outcome(name, NOT_APPLICABLE, None, used, dict(inst), certified=True,
                                       note=f"{cnote} (the estimate said {verdict})")
                    break
                v, s, tg, det = _decide_pair(pair, inst, sim)
            except Undecided as u:
                cnote = f"{u}"
                continue
            except NotCertifiable as exc:
                cnote = f"not certifiable: {exc}"
                break
            except (TypeError, ValueError, ArithmeticError) as exc:
                cnote = f"not certifiable: the callables failed on ball values ({type(exc).__name__}: {exc})"
                break
            if v == UNDECIDED:
                cnote = f"enclosures overlap at {prec} bits"
                continue
            if verdict in (PASS, FAIL) and v != verdict:
                cnote = f"certified {v} at {prec} bits contradicts the estimate's {verdict}"
            else:
                cnote = f"certified at {prec} bits"
            estimate = verdict
            verdict, slack, certified = v, s, True
            tight = tg if tg is not None else tight
            details = {**det, "lhs_estimate": details.get("lhs"), "rhs_estimate": details.get("rhs"),
                       "estimate_verdict": estimate}
            break
        note = "; ".join(x for x in (note, cnote) if x)
    observed = {k: v for k, v in details.items() if v and k not in ("tie",)}
    return Outcome(name, verdict, slack, used, dict(inst), observed=observed, note=note,
                   ratio=tight, certified=certified)


def _record(kind, name, outcomes, **extra):
    decided = [o for o in outcomes if o.verdict in (PASS, FAIL)]
    slacks = [o.slack for o in decided if o.slack is not None]
    ratios = [o.ratio for o in decided if o.ratio is not None]
    rec = {"kind": kind, "name": name,
           "counts": {v: sum(o.verdict == v for o in outcomes)
                      for v in (PASS, FAIL, UNDECIDED, NOT_APPLICABLE)},
           "certified": sum(o.certified for o in decided),
           "worst_slack": min(slacks) if slacks else None,
           "tightness": max(ratios) if ratios else None, **extra}
    _RECORDS.append(rec)
    return rec


def _check_dps(dps, max_dps):
    dps = _SETTINGS["dps"] if dps is None else dps
    max_dps = _SETTINGS["max_dps"] if max_dps is None else max_dps
    from verify.engine import MAX_DPS, MIN_DPS

    for nm, v in (("dps", dps), ("max_dps", max_dps)):
        if isinstance(v, bool) or not isinstance(v, int) or not MIN_DPS <= v <= MAX_DPS:
            raise ValueError(f"{nm} must be an integer in {MIN_DPS}..{MAX_DPS}, got {v!r}")
    return dps, max(dps, max_dps)


def assert_holds(lhs: Callable, rhs: Callable, instance: Mapping, relation: str = "<=", *,
                 name: str | None = None, spec: str | None = None, dps: int | None = None,
                 max_dps: int | None = None, certify: bool = True,
                 max_steps: int = 10**6) -> Outcome:
    """Check ``lhs(instance, sim) relation rhs(instance, sim)`` on one instance.

    Returns the PASS :class:`verify.checks.Outcome` (``certified`` True when the ball-mode
    comparison proved it); raises :class:`InequalityFailed` (an AssertionError) on a
    decided FAIL and :class:`Undecided` when it stays undecided at ``max_dps`` digits and
    in ball mode (the plugin reports that as UNDECIDED, an xfail, never a pass).

    >>> out = assert_holds(lambda i, s: s.hitting_time(), lambda i, s: Ceil(s.rho() * s.tau(s.alpha ** s.N, s.d) / s.eta),
    ...                    {"depth": 3, "t": 1.0, "alpha": 0.1, "eta": 0.3, "d": 0.5})
    >>> out.verdict, out.certified, out.observed["compared"][:9]
    ('PASS', True, '32 < [51.')
    """
    __tracebackhide__ = True  # pytest: the message says it all
    if not callable(lhs) or not callable(rhs):
        raise ValueError("lhs and rhs must be callables f(instance, sim)")
    if relation not in ("<=", "<", ">=", ">"):
        raise ValueError(f"relation must be one of '<=', '<', '>=', '>', got {relation!r}")
    if not isinstance(instance, Mapping):
        raise ValueError(f"instance must be a mapping, got {type(instance).__name__}")
    dps, max_dps = _check_dps(dps, max_dps)
    if name is None:  # where it was called from, and the callables' names
        import os
        import sys

        f = sys._getframe(1)
        name = (f"{os.path.basename(f.f_code.co_filename)}:{f.f_lineno}: "
                f"{getattr(lhs, '__name__', 'lhs')} {relation} {getattr(rhs, '__name__', 'rhs')}")
    out = _decide_instance(name, instance, _Pair(lhs, rhs, relation), None, spec=spec, dps=dps,
                           max_dps=max_dps, certify=certify, max_steps=max_steps)
    _record("assert_holds", name, [out], verdict=out.verdict,
            instance=_jsonable_instance(instance), note=out.note)
    msg = (f"{name} on {_jsonable_instance(instance)}: {out.observed.get('compared', '')} "
           f"(lhs {out.observed.get('lhs')}, rhs {out.observed.get('rhs')}, margin "
           f"{out.observed.get('margin')}, {out.dps} digits{', certified' if out.certified else ''})"
           f"{'; ' + out.note if out.note else ''}")
    if out.verdict == FAIL:
        raise InequalityFailed(f"FAIL: {msg}")
    est = out.observed.get("estimate_verdict")
    if out.certified and est in (PASS, FAIL) and est != out.verdict:
        raise InequalityFailed(f"the estimate said {est}, the enclosures proved {out.verdict}: "
                               f"the callables compute differently in the two modes; {msg}")
    if out.verdict == UNDECIDED:
        raise Undecided(f"UNDECIDED at {out.dps} digits: {msg}")
    return out


def _jsonable_instance(inst):
    try:
        return json.loads(json.dumps(dict(inst), default=str))
    except (TypeError, ValueError):
        return {k: str(v) for k, v in dict(inst).items()}


# ---------------------------------------------------------------------------------------
# SymPy relations: validation, evaluation


_REL_OPS = {sp.LessThan: "<=", sp.StrictLessThan: "<", sp.GreaterThan: ">=",
            sp.StrictGreaterThan: ">"}


def _validate_relation(rel, what: str):
    if isinstance(rel, str):
        raise ValueError(f"{what} is a string: build it as a SymPy relation in your code "
                         "(no string is parsed), e.g. sympy.Le(K_t(d), ...)")
    if isinstance(rel, bounds.Hypothesis):
        rel = rel.relation
    if rel is True or rel is False or rel is sp.true or rel is sp.false:
        raise ValueError(f"{what} is already {bool(rel)} (SymPy decided it when it was built): "
                         "state it unevaluated, e.g. sympy.Le(a, b, evaluate=False)")
    if not isinstance(rel, sp.Basic):
        raise ValueError(f"{what} must be a SymPy relation, got {type(rel).__name__}")
    _check_names(rel, what)
    return rel


def _validate_hypothesis(h, what: str):
    """A hypothesis: a SymPy relation or And/Or/Not of them; one SymPy already decided True
    (``Gt(alpha, 0)`` with alpha positive) is kept as True, one decided False is an error."""
    if isinstance(h, bounds.Hypothesis):
        h = h.relation
    if h is True or h is sp.true:
        return sp.true
    if h is False or h is sp.false:
        raise ValueError(f"{what} is False (SymPy decided it when it was built): no instance "
                         "satisfies it")
    h = _validate_relation(h, what)
    list(_atoms_of(h, what))  # ValueError on an unsupported construct
    return h


def _check_names(expr, what):
    known = {s: n for n, s in SYMBOLS.items() if isinstance(s, sp.Symbol)}
    by_name = {s.name: s for s in known}
    for s in expr.free_symbols:
        if s in known:
            continue
        if s.name in by_name:
            raise ValueError(f"{what}: the symbol {s.name!r} is not the registry's {s.name} (its "
                             "assumptions differ): use the object from bounds or "
                             "verify.inequality.SYMBOLS")
        raise ValueError(f"{what}: the symbol {s.name!r} is not a registry symbol; known: "
                         f"{', '.join(sorted(by_name))}")
    for f in expr.atoms(sp.core.function.AppliedUndef):
        nm = f.func.__name__
        if nm not in _FUNCTIONS:
            raise ValueError(f"{what}: unknown function {nm!r}; known: {', '.join(_FUNCTIONS)}")
        if len(f.args) != _FUNCTIONS[nm]:
            raise ValueError(f"{what}: {nm} takes {_FUNCTIONS[nm]} argument(s), got {len(f.args)} in {f}")


def _atoms_of(rel, what):
    """The relational atoms of a hypothesis (And / Or / Not of relations)."""
    if rel is sp.true or rel is True or rel is sp.false or rel is False:
        return
    if isinstance(rel, (sp.And, sp.Or, sp.Not)):
        for a in rel.args:
            yield from _atoms_of(a, what)
        return
    if type(rel) not in _REL_OPS and not isinstance(rel, (sp.Equality, sp.Unequality)):
        raise ValueError(f"{what} must be built from <=, <, >=, >, =, != relations and "
                         f"And/Or/Not, got {type(rel).__name__}: {rel}")
    yield rel


class _Env:
    """Symbol values of one instance on one handle (exact Fractions where the instance gives
    exact numbers; eta and the closed forms in the handle's arithmetic)."""

    def __init__(self, inst, sim: Simulation):
        self.inst, self.sim = inst, sim

    def symbol(self, s: sp.Symbol):
        name = s.name
        if name == "N":
            return self.sim.N
        if name == "eta":
            return self.sim.eta
        if name == "K_t":
            return self.sim.hitting_time()
        if name in ("T0", "T1"):
            return getattr(self.sim, name)()
        if name == "UB0":  # UB0 = ceil(B): compared with an integer as a real (Ceil)
            return Ceil(self.sim.ub0_real())
        if name == "LB1":  # LB1 = ceil(L) - 1, infinite when L is
            L = self.sim.lb1_real()
            return math.inf if _is_inf(L) else Ceil(L) + (-1)
        if name in ("t_1", "t_r"):  # the lanes (exact, or Y's computed eigenvalues)
            self.sim._lanes_needed()
            lanes = self.sim._targets
            return lanes[0] if name == "t_1" else lanes[self.sim.r - 1]
        if name in ("s_1", "s_r", "s_r+1") and self.sim.family != "scalar" and \
                self.sim._pspec != "P3":  # W's spectrum, sorted (computed for an explicit W)
            s = self.sim._s if self.sim._s is not None else self.sim.spectrum
            return {"s_1": s[0], "s_r": s[self.sim.r - 1], "s_r+1": s[self.sim.r]}[name]
        if name in ("s_1", "s_r", "s_r+1"):
            spec = self.inst.get("spectrum")
            r = self.inst.get("r", 1)
            if not isinstance(spec, (list, tuple)):
                raise ValueError(f"the relation uses {name}: the instance needs a 'spectrum' list")
            idx = {"s_1": 0, "s_r": r - 1, "s_r+1": r}[name]
            if not 0 <= idx < len(spec):
                raise ValueError(f"the relation uses {name}: spectrum has no index {idx}")
            return exact_number(spec[idx], "spectrum")
        key = _FIELDS[name]
        if key == "t":
            return self.sim._targets[0]
        if key not in self.inst:
            raise ValueError(f"the relation uses the symbol {name}: the instance lacks the field "
                             f"{key!r} (fields: {', '.join(sorted(self.inst))})")
        return exact_number(self.inst[key], key)

    def exact_symbol(self, s):
        """The exact SymPy value, or None (eta without a closed form)."""
        name = s.name
        if name in ("N", "t", "alpha", "d", "eta"):
            return self.sim.exact(name)
        if name == "K_t":
            return sp.Integer(self.sim.hitting_time())
        if name in ("T0", "T1"):
            v = getattr(self.sim, name)()
            return None if v == math.inf else sp.Integer(v)
        if name in ("t_1", "t_r", "s_1", "s_r", "s_r+1") and self.sim.family != "scalar":
            if self.sim._numeric or self.sim._pspec == "P3":
                return None
            lanes = self.sim._targets if name[0] == "t" else self.sim._s
            r = self.sim.r
            q = lanes[{"t_1": 0, "t_r": r - 1, "s_1": 0, "s_r": r - 1, "s_r+1": r}[name]]
            return sp.Rational(q.numerator, q.denominator)
        v = self.symbol(s)
        return sp.Rational(v.numerator, v.denominator) if isinstance(v, Fraction) else None


def _lift(v, mode, prec):
    """An exact number in the handle's inexact arithmetic."""
    if not _is_exact(v):
        return v
    q = Fraction(v)
    if mode == "ball":
        from flint import arb, fmpq

        return arb(fmpq(q.numerator, q.denominator))
    return mpmath.mpf(q.numerator) / q.denominator


def _ev(expr, env: _Env, *, top=False):
    """Evaluate a SymPy expression on an instance: exact where possible, else mpf (estimate
    mode, inside workdps) or arb (ball mode, inside workprec). A top-level ceiling/floor
    plus integers is returned as a Ceil/Floor marker (compared exactly with an integer)."""
    sim = env.sim
    mode = sim.mode
    if isinstance(expr, sp.Integer):
        return int(expr)
    if isinstance(expr, sp.Rational):
        return Fraction(int(expr.p), int(expr.q))
    if isinstance(expr, sp.Float):
        raise ValueError(f"the relation contains the float {expr}: write exact numbers "
                         "(sympy.Rational) so that nothing is rounded before the check")
    if expr in (sp.oo, -sp.oo):
        return mpmath.inf if expr == sp.oo else -mpmath.inf
    if isinstance(expr, sp.Symbol):
        v = env.symbol(expr)
        return v if top or not isinstance(v, Ceil) else _ceil_value(v, mode, sim.dps)
    if isinstance(expr, (sp.ceiling, sp.floor)):
        cls = Ceil if isinstance(expr, sp.ceiling) else Floor
        m = cls(_ev(expr.args[0], env))
        return m if top else _ceil_value(m, mode, sim.dps)
    if isinstance(expr, sp.Add):
        if top:
            ints = [a for a in expr.args if isinstance(a, (sp.ceiling, sp.floor))]
            if len(ints) == 1:
                rest = [_ev(a, env) for a in expr.args if a is not ints[0]]
                if all(isinstance(v, Integral) or (isinstance(v, Fraction) and v.denominator == 1)
                       for v in rest):
                    m = _ev(ints[0], env, top=True)
                    return m + sum(int(v) for v in rest)
        vals = [_ev(a, env) for a in expr.args]
        return _fold(vals, lambda a, b: a + b, mode, sim.prec)
    if isinstance(expr, sp.Mul):
        vals = [_ev(a, env) for a in expr.args]
        return _fold(vals, lambda a, b: a * b, mode, sim.prec)
    if isinstance(expr, sp.Pow):
        base, ex = _ev(expr.base, env), _ev(expr.exp, env)
        if _is_exact(base) and isinstance(ex, Integral) and abs(ex) <= 10_000:
            if base == 0 and ex < 0:
                raise ValueError(f"division by zero in {expr}")
            return Fraction(base) ** int(ex)
        return _power(base, ex, mode, sim.prec, expr)
    if isinstance(expr, sp.Abs):
        v = _ev(expr.args[0], env)
        return abs(v)
    if isinstance(expr, (sp.Max, sp.Min)):
        vals = [_ev(a, env) for a in expr.args]
        return _extreme(vals, isinstance(expr, sp.Max), mode)
    if isinstance(expr, (sp.log, sp.exp)):
        v = _lift(_ev(expr.args[0], env), mode, sim.prec)
        if mode == "ball":
            return v.log() if isinstance(expr, sp.log) else v.exp()
        if isinstance(expr, sp.log) and not v > 0:
            raise ValueError(f"log of a value <= 0 in {expr}")
        return mpmath.log(v) if isinstance(expr, sp.log) else mpmath.exp(v)
    if isinstance(expr, sp.core.function.AppliedUndef):
        nm = expr.func.__name__
        args = [_ev(a, env) for a in expr.args]
        if nm == "tau":
            return sim.tau(*args)
        if nm == "rho":
            return sim.rho(args[0])
        if nm == "J_N":
            return sim.J_N(args[0])
        if nm == "K_t":
            return sim.hitting_time(args[0])
    if expr is sp.pi or expr is sp.E:
        if mode == "ball":
            from flint import arb

            return arb.pi() if expr is sp.pi else arb(1).exp()
        return +mpmath.pi if expr is sp.pi else mpmath.e
    raise ValueError(f"cannot evaluate {type(expr).__name__} in {expr}: supported are numbers, "
                     "the registry's symbols, + * ** / abs, Max, Min, log, exp, ceiling, floor, "
                     f"and {', '.join(_FUNCTIONS)}")


def _fold(vals, op, mode, prec):
    out = vals[0]
    for v in vals[1:]:
        if _is_exact(out) and _is_exact(v):
            out = op(Fraction(out), Fraction(v))
        else:
            out = op(_lift(out, mode, prec), _lift(v, mode, prec))
    if isinstance(out, Fraction) and out.denominator == 1:
        return int(out)
    return out


def _power(base, ex, mode, prec, expr):
    if mode == "ball":
        from flint import arb, fmpq

        B = _lift(base, mode, prec)
        if isinstance(ex, Integral):
            return B ** int(ex)
        E = arb(fmpq(ex.numerator, ex.denominator)) if isinstance(ex, Fraction) else ex
        out = B ** E
        if not out.is_finite():
            raise Undecided(f"{expr}: the ball power is not finite (base {B})")
        return out
    b, e = _to_mp(base), _to_mp(ex)
    if b < 0 and not (isinstance(ex, Integral) or (isinstance(ex, Fraction) and ex.denominator == 1)):
        raise ValueError(f"{expr}: a negative base to a non-integer power is not real")
    return mpmath.power(b, e)


def _extreme(vals, is_max, mode):
    if all(_is_exact(v) for v in vals):
        return max(vals) if is_max else min(vals)
    if mode == "ball":
        A = [_to_arb(v) for v in vals]
        for cand in A:
            if all((cand >= o) if is_max else (cand <= o) for o in A if o is not cand):
                return cand
        raise Undecided("Max/Min of overlapping balls")
    X = [_to_mp(v) for v in vals]
    return max(X) if is_max else min(X)


def _exact_diff(expr_small, expr_big):
    """(instance, sim) -> the exact SymPy value of big - small, or None where it involves a
    function (tau, rho, J_N, K_t(level)) or a value without a closed form; None for the
    whole pair when a function occurs."""
    diff = expr_big - expr_small
    if diff.atoms(sp.core.function.AppliedUndef):
        return None

    def f(inst, sim):
        env = _Env(inst, sim)
        sub = {}
        for s in diff.free_symbols:
            v = env.exact_symbol(s)
            if v is None:
                return None
            sub[s] = v
        try:
            out = sp.simplify(diff.subs(sub))
        except Exception:  # SymPy could not simplify: no tie decided
            return None
        return out if out.is_number else None

    return f


def _relation_pair(rel) -> _Pair:
    op = _REL_OPS[type(rel)]
    small, big = (rel.lhs, rel.rhs) if op in ("<=", "<") else (rel.rhs, rel.lhs)

    def side(ex):
        def f(inst, sim):
            env = _Env(inst, sim)
            if sim.mode == "ball":
                from flint import ctx as flint_ctx

                with flint_ctx.workprec(sim.prec):
                    return _ev(ex, env, top=True)
            with mpmath.workdps(sim.dps):
                return _ev(ex, env, top=True)
        return f

    return _Pair(side(rel.lhs), side(rel.rhs), op, _exact_diff(small, big))


def _truth(rel, inst, sim, pairs):
    """Three-valued truth (True / False / None) of a hypothesis on one handle."""
    if rel is sp.true or rel is True:
        return True
    if rel is sp.false or rel is False:
        return False
    if isinstance(rel, sp.Not):
        v = _truth(rel.args[0], inst, sim, pairs)
        return None if v is None else not v
    if isinstance(rel, (sp.And, sp.Or)):
        vals = [_truth(a, inst, sim, pairs) for a in rel.args]
        dom = False if isinstance(rel, sp.And) else True
        if any(v is dom for v in vals):
            return dom
        return (not dom) if all(v is (not dom) for v in vals) else None
    if isinstance(rel, (sp.Equality, sp.Unequality)):
        le, ge = pairs[(rel, "le")], pairs[(rel, "ge")]
        a = _atom_truth(le, inst, sim)
        b = _atom_truth(ge, inst, sim)
        eq = _kleene_and([a, b])
        if isinstance(rel, sp.Unequality):
            return None if eq is None else not eq
        return eq
    return _atom_truth(pairs[rel], inst, sim)


def _atom_truth(pair, inst, sim):
    try:
        v, *_ = _decide_pair(pair, inst, sim)
    except Undecided:
        return None
    return {PASS: True, FAIL: False}.get(v)


def _hypotheses_fn(hyps):
    pairs = {}
    for i, h in enumerate(hyps):
        for a in _atoms_of(h, f"hypothesis {i}"):
            if isinstance(a, (sp.Equality, sp.Unequality)):
                pairs[(a, "le")] = _relation_pair(sp.Le(a.lhs, a.rhs, evaluate=False))
                pairs[(a, "ge")] = _relation_pair(sp.Ge(a.lhs, a.rhs, evaluate=False))
            else:
                pairs[a] = _relation_pair(a)

    def fn(inst, sim):
        return _kleene_and([_truth(h, inst, sim, pairs) for h in hyps])

    return fn


# ---------------------------------------------------------------------------------------
# the symbolic step


@dataclass(frozen=True)
class SymbolicAnswer:
    """SymPy's answer to "do the hypotheses imply the relation?": ``answer`` True (proved),
    False (refuted: the relation is false wherever the hypotheses hold) or None (unknown:
    never read as false); ``method``: which SymPy test decided, or what was tried."""

    answer: bool | None
    method: str
    detail: str = ""


_SIGN_METHOD = "sign of (larger side - smaller side) with the hypotheses' sign facts as symbol assumptions (SymPy is_nonnegative / is_positive)"
_ASK_METHOD = "sympy.ask(relation, And(hypotheses))"


def _sign_facts(hyps):
    """symbol -> assumptions implied by hypotheses of the form ``symbol op number``."""
    facts: dict = {}
    for h in hyps:
        conj = h.args if isinstance(h, sp.And) else (h,)
        for a in conj:
            if type(a) not in _REL_OPS:
                continue
            lhs, rhs, op = a.lhs, a.rhs, _REL_OPS[type(a)]
            if isinstance(rhs, sp.Symbol) and lhs.is_number:
                lhs, rhs = rhs, lhs
                op = {"<=": ">=", "<": ">", ">=": "<=", ">": "<"}[op]
            if not (isinstance(lhs, sp.Symbol) and rhs.is_number and rhs.is_real):
                continue
            c = rhs
            f = facts.setdefault(lhs, set())
            if (op == ">" and c >= 0) or (op == ">=" and c > 0):
                f.add("positive")
            elif op == ">=" and c == 0:
                f.add("nonnegative")
            elif (op == "<" and c <= 0) or (op == "<=" and c < 0):
                f.add("negative")
            elif op == "<=" and c == 0:
                f.add("nonpositive")
    return facts


def _sign_method(rel, hyps):
    op = _REL_OPS[type(rel)]
    small, big = (rel.lhs, rel.rhs) if op in ("<=", "<") else (rel.rhs, rel.lhs)
    strict = op in ("<", ">")
    facts = _sign_facts(hyps)
    sub = {}
    for s in rel.free_symbols:
        assume = {k: v for k, v in s.assumptions0.items() if k in ("integer", "real") and v}
        for f in facts.get(s, ()):
            assume[f] = True
        if s.is_positive:
            assume["positive"] = True
        sub[s] = sp.Dummy(s.name, **assume)
    # rho by its definition (bounds.DEFINITIONS), in the same symbols
    (t_sym, eta_sym), rho_def = bounds.DEFINITIONS["rho"]
    expr = (big - small).replace(lambda e: isinstance(e, sp.core.function.AppliedUndef) and e.func.__name__ == "rho",
                                 lambda e: rho_def.subs({t_sym: e.args[0]}, simultaneous=True))
    expr = expr.subs(sub, simultaneous=True)
    for cand in (expr, sp.expand(expr), sp.factor_terms(expr)):
        pos = cand.is_positive if strict else cand.is_nonnegative
        if pos:
            return SymbolicAnswer(True, _SIGN_METHOD, f"{sp.sstr(cand)} is {'positive' if strict else 'nonnegative'}")
        neg = cand.is_nonpositive if strict else cand.is_negative
        if neg:
            return SymbolicAnswer(False, _SIGN_METHOD, f"{sp.sstr(cand)} is {'nonpositive' if strict else 'negative'} "
                                  "wherever the sign facts hold")
    return None


def _symbolic_now(rel, hyps) -> SymbolicAnswer:
    tried = []
    try:
        a = _sign_method(rel, hyps)
        if a is not None:
            return a
        tried.append("sign of the difference: unknown")
    except Exception as exc:  # SymPy raised: the method is inconclusive
        tried.append(f"sign of the difference: {type(exc).__name__}")
    try:
        r = sp.ask(rel, sp.And(*hyps)) if hyps else sp.ask(rel)
        if r is True or r is False:
            return SymbolicAnswer(bool(r), _ASK_METHOD)
        tried.append("sympy.ask: None")
    except ValueError as exc:  # inconsistent assumptions
        tried.append(f"sympy.ask: {exc}")
    except Exception as exc:
        tried.append(f"sympy.ask: {type(exc).__name__}: {exc}")
    return SymbolicAnswer(None, "unknown (" + "; ".join(tried) + ")")


def _child(conn, rel, hyps):
    try:
        a = _symbolic_now(rel, hyps)
        conn.send((a.answer, a.method, a.detail))
    except BaseException as exc:  # report, whatever it was
        conn.send((None, f"unknown (SymPy raised {type(exc).__name__})", str(exc)))
    finally:
        conn.close()


@functools.lru_cache(maxsize=256)
def _symbolic_cached(rel, hyps, timeout):
    import multiprocessing as mp_

    try:
        ctx = mp_.get_context("fork")
    except ValueError:  # no fork on this platform: run inline, without a time limit
        return _symbolic_now(rel, list(hyps))
    recv, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(send, rel, list(hyps)), daemon=True)
    proc.start()
    send.close()
    try:
        if recv.poll(timeout):
            answer, method, detail = recv.recv()
            return SymbolicAnswer(answer, method, detail)
        return SymbolicAnswer(None, f"unknown (no answer within {timeout:g} s from the sign of "
                                    f"the difference, then {_ASK_METHOD})")
    except EOFError:
        return SymbolicAnswer(None, "unknown (the SymPy process ended without an answer)")
    finally:
        recv.close()
        if proc.is_alive():
            proc.kill()
        proc.join(5)


def symbolic_verdict(relation, hypotheses=(), *, timeout: float | None = None) -> SymbolicAnswer:
    """Does SymPy prove that the hypotheses imply the relation? Two methods in order, the
    whole within ``timeout`` seconds (a forked process; default 5 s, ``--dmf-symbolic-timeout``):

    1. the sign of (larger side - smaller side), the symbols replaced by symbols carrying the
       registry's assumptions and the sign facts the hypotheses state (``alpha > 0``,
       ``N >= 2``), ``rho`` by its definition: ``is_nonnegative`` (``is_positive`` for a
       strict relation) True proves it; ``is_negative`` True refutes it;
    2. ``sympy.ask(relation, And(*hypotheses))``.

    None is *unknown*, never false.

    >>> from bounds import alpha, eta, t, N
    >>> symbolic_verdict(sp.Ge((1 + eta * t) ** (N - 1), 0), [sp.Gt(t, 0)]).answer
    True
    >>> a = symbolic_verdict(sp.Lt(alpha ** N, t), [sp.Gt(alpha ** N, t)]); a.answer, a.method
    (False, 'sympy.ask(relation, And(hypotheses))')
    """
    rel = _validate_relation(relation, "relation")
    if type(rel) not in _REL_OPS:
        raise ValueError(f"relation must be <=, <, >= or >, got {type(rel).__name__}")
    hyps = tuple(_validate_hypothesis(h, f"hypothesis {i}") for i, h in enumerate(hypotheses))
    timeout = _SETTINGS["symbolic_timeout"] if timeout is None else timeout
    return _symbolic_cached(rel, hyps, float(timeout))


# ---------------------------------------------------------------------------------------
# instances


def draw_instances(strategy, count: int, *, seed: int) -> list:
    """``count`` examples of a Hypothesis strategy, reproducible from ``seed`` (Hypothesis'
    generation phase only: no database, no shrinking).

    >>> from verify.strategies import instances
    >>> a = draw_instances(instances("K2"), 3, seed=1); a == draw_instances(instances("K2"), 3, seed=1)
    True
    """
    import hypothesis
    from hypothesis import HealthCheck, Phase, given

    out: list = []

    @hypothesis.seed(seed)
    @hypothesis.settings(max_examples=count, database=None, deadline=None,
                         phases=[Phase.generate], suppress_health_check=list(HealthCheck),
                         derandomize=False)
    @given(strategy)
    def collect(x):
        if len(out) < count:
            out.append(x)

    collect()
    return out


def _instances(instances, spec, count, seed, corners):
    from hypothesis.strategies import SearchStrategy

    if isinstance(instances, str):
        from verify.sampling import sample_instances
        from verify.specs import corners as spec_corners, spec_for

        spec_for(instances)  # ValueError naming an unknown spec
        out = sample_instances(instances, count, seed=seed)
        if corners:
            out += [dict(c.instance) for c in spec_corners(instances)]
        return out, instances if spec is None else spec
    if isinstance(instances, SearchStrategy):
        if spec is None:  # verify.strategies.instances(ID) says which spec it draws
            spec = getattr(instances, "dmf_spec", None)
        return draw_instances(instances, count, seed=seed), spec
    if isinstance(instances, Mapping):
        raise ValueError("instances must be a spec ID, a Hypothesis strategy or a list of "
                         "instances, got a single mapping (wrap it in a list)")
    if isinstance(instances, Iterable) and not isinstance(instances, (bytes,)):
        out = list(instances)
        for i, x in enumerate(out):
            if not isinstance(x, Mapping):
                raise ValueError(f"instances[{i}] must be a mapping, got {type(x).__name__}")
        return [dict(x) for x in out], spec
    raise ValueError(f"instances must be a spec ID, a Hypothesis strategy or a list of "
                     f"instances, got {type(instances).__name__}")


def _spec_admissible(spec):
    """The spec's own hypothesis evaluator (bounds/), so that a shrunk instance is still an
    admissible instance of the spec; None where the handle knows none. L1-L3: the standing
    hypotheses ``l1_hypotheses`` as the L checks read them (L3's ratio condition is not
    required: its spec straddles it by design); P1, P3, P4, P5: no hypothesis failure, as
    the P checks set them up."""
    if spec in ("L1", "L2", "L3"):
        def ok_l(inst, dps):
            from verify.checks.lowrank import _params
            from verify.checks.verdict import evaluators

            with mpmath.workdps(dps):
                N, *rest = _params(spec, inst, dps)
                return bool(evaluators(spec)["l1_hypotheses"](*rest, N))
        return ok_l
    if spec in ("P1", "P3", "P4", "P5"):
        def ok_p(inst, dps):
            from verify.checks import perturbed as cp
            from verify.checks.verdict import evaluators

            with mpmath.workdps(dps):
                if spec in ("P4", "P5"):
                    return not cp._p4_setup(spec, inst, dps)["fails"]
                if spec == "P3":
                    N, s, e, d, t, alpha, eta = cp._p3_parts(inst, dps)
                    return not evaluators("P3")["p3_hypothesis_failures"](s, e, d, alpha, eta, N)
                sim = Simulation(inst, dps=dps, spec="P1")
                t = [mpmath.mpf(q.numerator) / q.denominator for q in sim._targets]
                fails = evaluators("P1")["p1_hypothesis_failures"](t, sim.alpha, sim.eta, sim.N)
                return not fails and t[0] > 0
        return ok_p
    if spec not in ("S1", "K1", "K2", "K3"):
        return None

    def ok(inst, dps):
        from verify.checks.verdict import evaluators

        sim = Simulation(inst, dps=dps, spec=spec)
        with mpmath.workdps(dps):
            N = sim.N
            t, a = sim.t, sim.alpha
            ev = evaluators(spec)
            if spec == "K3":
                return bool(ev["k3_hypotheses"](t, sim.d, a, N))
            if spec == "S1":
                return bool(ev["s1_hypotheses"](t, a, sim.eta, N))
            return bool(ev[f"{spec.lower()}_hypotheses"](t, sim.d, a, sim.eta, N))

    return ok


# ---------------------------------------------------------------------------------------
# the report


@dataclass(frozen=True)
class InequalityReport:
    """What :func:`check_inequality` found.

    ``verdict``: FAIL (some instance fails), UNDECIDED (none fails, some undecided at the
    highest precision), PASS (every applicable instance passes) or N/A (no instance
    satisfies the hypotheses: never PASS). ``symbolic``: SymPy's answer. ``consistent``:
    False when SymPy proved the relation and an instance fails, or refuted it and an
    instance passes. ``counterexample``: the failing Outcome with the least slack;
    ``shrunk``: the Outcome of its shrunk instance (None when nothing simpler fails).
    ``tightness``: min/median/max of (smaller side)/(larger side) over decided instances.
    """

    name: str
    relation: object
    hypotheses: tuple
    symbolic: SymbolicAnswer
    outcomes: tuple
    verdict: str
    counterexample: Outcome | None = None
    shrunk: Outcome | None = None
    notes: tuple = ()

    @property
    def counts(self) -> dict:
        return {v: sum(o.verdict == v for o in self.outcomes)
                for v in (PASS, FAIL, UNDECIDED, NOT_APPLICABLE)}

    @property
    def certified(self) -> int:
        return sum(o.certified and o.verdict in (PASS, FAIL) for o in self.outcomes)

    @property
    def worst_slack(self) -> float | None:
        s = [o.slack for o in self.outcomes if o.verdict in (PASS, FAIL) and o.slack is not None]
        return min(s) if s else None

    @property
    def tightness(self) -> dict | None:
        r = sorted(o.ratio for o in self.outcomes if o.verdict in (PASS, FAIL) and o.ratio is not None)
        if not r:
            return None
        return {"min": r[0], "median": statistics.median(r), "max": r[-1], "count": len(r)}

    def disagreements(self) -> tuple:
        """Outcomes whose certified verdict contradicts the decided estimate-mode verdict
        (the certified one stands, but an evaluator or the engine is wrong somewhere)."""
        return tuple(o for o in self.outcomes if o.certified and
                     o.observed.get("estimate_verdict") in (PASS, FAIL) and
                     o.observed["estimate_verdict"] != o.verdict)

    @property
    def consistent(self) -> bool:
        """False when SymPy's answer contradicts a decided instance, or a certified verdict
        contradicts the estimate's."""
        c = self.counts
        if self.symbolic.answer is True and c[FAIL]:
            return False
        if self.symbolic.answer is False and c[PASS]:
            return False
        return not self.disagreements()

    def summary(self) -> str:
        """A few lines: verdict, counts, SymPy's answer, worst slack, tightness, the shrunk
        counterexample."""
        c = self.counts
        t = self.tightness
        lines = [f"{self.name}: {self.verdict}  ({c[PASS]} pass, {c[FAIL]} fail, {c[UNDECIDED]} "
                 f"undecided, {c[NOT_APPLICABLE]} n/a; {self.certified} certified)",
                 f"  SymPy: {_answer_text(self.symbolic.answer)} by {self.symbolic.method}",
                 f"  worst slack {_fmt(self.worst_slack)}, tightness "
                 + ("-" if t is None else f"{t['min']:.4g}/{t['median']:.4g}/{t['max']:.4g} (min/median/max)")]
        if self.shrunk is not None or self.counterexample is not None:
            o = self.shrunk or self.counterexample
            lines.append(f"  {'shrunk ' if self.shrunk is not None else ''}counterexample: "
                         f"{json.dumps(_jsonable_instance(o.instance), sort_keys=True)}")
            lines.append(f"    {o.observed.get('compared', '')} (lhs {o.observed.get('lhs')}, "
                         f"rhs {o.observed.get('rhs')}{', certified' if o.certified else ''})")
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)

    def assert_pass(self) -> "InequalityReport":
        """Raise InequalityFailed on FAIL (or a symbolic/numeric contradiction), Undecided on
        UNDECIDED or N/A-only (nothing was checked); return self on PASS."""
        __tracebackhide__ = True  # pytest: the message says it all
        if self.verdict == FAIL or not self.consistent:
            raise InequalityFailed(self.summary())
        if self.verdict == UNDECIDED:
            raise Undecided(self.summary())
        if self.verdict == NOT_APPLICABLE:
            raise Undecided("no instance satisfied the hypotheses:\n" + self.summary())
        return self

    def as_dict(self) -> dict:
        return {"name": self.name, "relation": sp.sstr(self.relation),
                "hypotheses": [sp.sstr(h) for h in self.hypotheses], "verdict": self.verdict,
                "symbolic": {"answer": self.symbolic.answer, "method": self.symbolic.method,
                             "detail": self.symbolic.detail},
                "counts": self.counts, "certified": self.certified,
                "worst_slack": self.worst_slack, "tightness": self.tightness,
                "consistent": self.consistent,
                "counterexample": None if self.counterexample is None else self.counterexample.as_dict(),
                "shrunk": None if self.shrunk is None else self.shrunk.as_dict(),
                "notes": list(self.notes)}


def _answer_text(a):
    return {True: "follows (True)", False: "refuted (False)", None: "unknown (None)"}[a]


def _fmt(x):
    return "-" if x is None else f"{x:.4g}"


def check_inequality(relation, hypotheses: Sequence = (), instances=None, *, name: str | None = None,
                     spec: str | None = None, count: int | None = None, seed: int | None = None,
                     dps: int | None = None, max_dps: int | None = None, certify: bool = True,
                     shrink: bool = True, corners: bool = True, symbolic: bool = True,
                     symbolic_timeout: float | None = None, max_steps: int = 10**6,
                     shrink_tries: int | None = None, record: bool = True) -> InequalityReport:
    """Check a SymPy relation under SymPy hypotheses: symbolically, then on instances.

    ``instances``: a spec ID (``"K2"``: ``count`` instances of the seeded sampler of
    ``dmf-verify run`` plus the spec's hard corners when ``corners``), a Hypothesis strategy
    (``verify.strategies.instances("K2")``: ``count`` examples drawn with ``seed``) or a list
    of instance dicts. ``spec`` says how the handle reads ``eta_fraction`` (default: the spec
    ID, else the S1 step bound). ``count``, ``seed``, ``dps``, ``max_dps`` default to the
    settings (:func:`configure`, the plugin's ``--dmf-*`` options). Nothing is raised for a
    FAIL: read the report, or call ``report.assert_pass()``. ``record=False`` leaves the
    check out of the plugin's summary (a probe, not a claim). A FAIL is shrunk from each of
    the (at most 3) failing instances with the least slack; the simplest result is kept.
    """
    rel = _validate_relation(relation, "relation")
    if type(rel) not in _REL_OPS:
        raise ValueError(f"relation must be <=, <, >= or >, got {type(rel).__name__}: {rel}")
    if instances is None:
        raise ValueError("instances are required: a spec ID (e.g. 'K2'), a Hypothesis strategy "
                         "(verify.strategies.instances('K2')) or a list of instance dicts")
    if isinstance(hypotheses, (str, sp.Basic)) or not isinstance(hypotheses, Iterable):
        raise ValueError("hypotheses must be a list of SymPy relations")
    hyps = tuple(_validate_hypothesis(h, f"hypothesis {i}") for i, h in enumerate(hypotheses))
    dps, max_dps = _check_dps(dps, max_dps)
    prof = PROFILES[_SETTINGS["profile"]]
    count = prof["count"] if count is None else count
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ValueError(f"count must be an integer >= 1, got {count!r}")
    seed = _SETTINGS["seed"] if seed is None else seed
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be an integer >= 0, got {seed!r}")
    shrink_tries = prof["shrink_tries"] if shrink_tries is None else shrink_tries
    name = name or sp.sstr(rel)
    insts, spec = _instances(instances, spec, count, seed, corners)
    if not insts:
        raise ValueError("no instances to check")
    sym = symbolic_verdict(rel, hyps, timeout=symbolic_timeout) if symbolic else \
        SymbolicAnswer(None, "not asked (symbolic=False)")
    pair = _relation_pair(rel)
    hyp_fn = _hypotheses_fn(hyps) if hyps else None
    admissible = _spec_admissible(spec)
    kw = dict(spec=spec, dps=dps, max_dps=max_dps, max_steps=max_steps, admissible=admissible)
    outcomes = tuple(_decide_instance(name, inst, pair, hyp_fn, certify=certify, **kw)
                     for inst in insts)
    v = [o.verdict for o in outcomes]
    verdict = FAIL if FAIL in v else UNDECIDED if UNDECIDED in v else PASS if PASS in v else NOT_APPLICABLE
    fails = sorted((o for o in outcomes if o.verdict == FAIL), key=lambda o: o.slack)
    worst = fails[0] if fails else None
    small = None
    notes = []
    if fails and shrink:
        from verify.shrink import shrink as shrink_fn

        def still_fails(cand):
            return _decide_instance(name, cand, pair, hyp_fn, certify=False, **kw).verdict == FAIL

        found = []
        for o in fails[:3]:
            cand = shrink_fn(name, dict(o.instance), still_fails=still_fails, max_tries=shrink_tries)
            if cand != dict(o.instance):
                found.append((_complexity(cand), len(found), cand))
        for _, _, cand in sorted(found, key=lambda x: x[:2]):
            again = _decide_instance(name, cand, pair, hyp_fn, certify=certify, **kw)
            if again.verdict == FAIL:
                small = again
                break
    rep = InequalityReport(name, rel, hyps, sym, outcomes, verdict, worst, small, tuple(notes))
    c = rep.counts
    if (sym.answer is True and c[FAIL]) or (sym.answer is False and c[PASS]):
        notes.append(f"SymPy says {_answer_text(sym.answer)} but the instances say "
                     f"{verdict}: the evaluators, the simulation or the hypotheses' binding "
                     "disagree with the symbolic statement")
    for o in rep.disagreements():
        notes.append(f"on {json.dumps(_jsonable_instance(o.instance), sort_keys=True)} the "
                     f"estimate said {o.observed['estimate_verdict']}, the enclosures proved "
                     f"{o.verdict}: an evaluator or the engine is wrong")
    if notes:
        rep = InequalityReport(name, rel, hyps, sym, outcomes, verdict, worst, small, tuple(notes))
    if record:
        _record("check_inequality", name, outcomes, verdict=verdict,
                symbolic=f"{_answer_text(sym.answer)} by {sym.method}",
                shrunk=None if small is None else _jsonable_instance(small.instance),
                consistent=rep.consistent)
    return rep


def _complexity(inst) -> int:
    """How complicated an instance is: significant digits of its numbers, plus depth."""
    from verify.shrink import sig_digits

    n = 0
    for k, v in inst.items():
        for x in (v if isinstance(v, list) else [v]):
            if isinstance(x, bool):
                continue
            if isinstance(x, float) and math.isfinite(x):
                n += sig_digits(x)
            elif isinstance(x, int):
                n += len(str(abs(x)))
    return n
