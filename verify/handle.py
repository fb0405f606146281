"""A simulation handle for user inequalities: hitting times, iterates and closed forms of
one instance, in one of two modes.

``mode="estimate"``
    :func:`verify.engine.simulate_reduced` at ``dps`` digits: iterates are mpf numbers with
    the engine's first-order error estimates (``Hit.ambiguous``, ``checkpoint_errors``);
    closed forms (``tau``, ``rho``, ``J_N``) are the bounds/ evaluators at ``dps`` digits.
``mode="ball"``
    :func:`verify.certified.certified_lane` at ``prec`` bits: iterates are arb balls that
    provably contain the exact iterate, hitting steps are proved, closed forms are the arb
    enclosures of bounds/enclosures.py. A verdict computed only from these values (and
    exact numbers of the instance) with arb arithmetic is a proof for the instance.

A value that is not decided at the handle's precision (an ambiguous hitting step, a level
the certified enclosure straddles, a level not reached within ``max_steps``) raises
:class:`Undecided`; the caller escalates the precision. Every simulated value read in
estimate mode is recorded with its error estimate (``readings``), so that the caller can
propagate the errors through the user's own arithmetic.

Instances: ``depth``, ``alpha``, a target ``t`` (or a list ``targets``), a level ``d``
(optional), and a step size: ``eta`` itself, ``q`` (eta = q / (N t^A), S2's spec), or
``eta_fraction``: a fraction of the S1 step bound 1/(N t_max^A) (the convention of the S1,
K1, K2 specs), of S3's step bound for ``spec="S3"``. The instances of the specs S1, S2,
S3, K1, K2 (and K3, which has no step size) are read as they are.

>>> sim = Simulation({"depth": 3, "t": 1.0, "alpha": 0.1, "eta": 0.3, "d": 0.5}, dps=30)
>>> sim.hitting_time()
33
>>> ball = Simulation({"depth": 3, "t": 1.0, "alpha": 0.1, "eta": 0.3, "d": 0.5}, mode="ball")
>>> ball.hitting_time(), ball.certified
(33, True)
>>> bool(ball.power(33) >= 0.5), bool(ball.power(32) < 0.5), sim.power(33) >= 0.5
(True, True, True)
"""

from __future__ import annotations

import math
from fractions import Fraction
from numbers import Integral, Real
from typing import Mapping

import mpmath
import sympy as sp

__all__ = ["Simulation", "Undecided", "MODES", "ETA_SPECS", "exact_number"]

MODES = ("estimate", "ball")
#: specs whose ``eta_fraction`` the handle reads, and the bound it is a fraction of
ETA_SPECS = {None: "S1 step bound 1/(N t^A)", "S1": "S1 step bound 1/(N t^A)",
             "K1": "S1 step bound 1/(N t^A)", "K2": "S1 step bound 1/(N t^A)",
             "S2": "q / (N t^A) (the field q)", "K3": "no step size",
             "S3": "S3 positivity bound (t <= 0) or decreasing-step bound (t > 0)"}


class Undecided(Exception):
    """A value or comparison that is not decided at the precision used (escalate it).

    In a pytest run with the dmf-verify plugin, a test that raises it is reported as
    UNDECIDED (an xfail with this reason), never as a pass."""


def exact_number(value, name: str) -> Fraction:
    """The exact rational value of an instance number (ints, floats as the binary numbers
    they are, decimal strings exactly as written); ValueError naming ``name`` otherwise.

    >>> exact_number("0.1", "alpha"), exact_number(0.5, "t")
    (Fraction(1, 10), Fraction(1, 2))
    >>> exact_number(float("nan"), "t")
    Traceback (most recent call last):
    ...
    ValueError: instance field 't' must be a finite number, got nan
    """
    if isinstance(value, bool):
        raise ValueError(f"instance field {name!r} must be a number, got a bool")
    if isinstance(value, str):
        try:
            return Fraction(value.strip())
        except (ValueError, ZeroDivisionError):
            raise ValueError(f"instance field {name!r} must be a number, got {value!r}") from None
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"instance field {name!r} must be a finite number, got {value!r}")
        return Fraction(value)
    if isinstance(value, (Integral, Fraction)):
        return Fraction(value)
    if isinstance(value, mpmath.mpf):
        if not mpmath.isfinite(value):
            raise ValueError(f"instance field {name!r} must be a finite number, got {value!r}")
        sign, man, exp, _ = value._mpf_
        return Fraction(-int(man) if sign else int(man)) * Fraction(2) ** int(exp)
    if isinstance(value, Real):
        return exact_number(float(value), name)
    raise ValueError(f"instance field {name!r} must be a number, got {type(value).__name__}")


def _sp(q: Fraction):
    return sp.Rational(q.numerator, q.denominator)


class Simulation:
    """The simulation handle of one instance (see the module docstring).

    ``readings``: (key, value, error estimate) of every simulated value read in estimate
    mode (hitting steps have error 0: an ambiguous one raises :class:`Undecided`).
    ``offsets``: key -> added error, the replay used to propagate errors (set by the caller).
    """

    def __init__(self, instance: Mapping, *, mode: str = "estimate", dps: int = 50,
                 prec: int = 128, spec: str | None = None, max_steps: int = 10**6,
                 _cache: dict | None = None):
        from verify.checks.verdict import depth_of
        from verify.engine import MAX_DPS, MIN_DPS

        if not isinstance(instance, Mapping):
            raise ValueError(f"instance must be a mapping, got {type(instance).__name__}")
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
        if spec not in ETA_SPECS:
            raise ValueError(f"spec {spec!r} is not read by the simulation handle; it reads "
                             f"{', '.join(str(s) for s in ETA_SPECS if s)} instances or ones "
                             "with an explicit 'eta'")
        if isinstance(dps, bool) or not isinstance(dps, int) or not MIN_DPS <= dps <= MAX_DPS:
            raise ValueError(f"dps must be an integer in {MIN_DPS}..{MAX_DPS}, got {dps!r}")
        if isinstance(prec, bool) or not isinstance(prec, int) or prec < 24:
            raise ValueError(f"prec must be an integer number of bits >= 24, got {prec!r}")
        if isinstance(max_steps, bool) or not isinstance(max_steps, int) or max_steps < 1:
            raise ValueError(f"max_steps must be a positive integer, got {max_steps!r}")
        self.instance = dict(instance)
        self.mode, self.dps, self.prec, self.spec, self.max_steps = mode, dps, prec, spec, max_steps
        self.N = depth_of(instance)
        if "targets" in instance:
            ts = instance["targets"]
            if isinstance(ts, (str, bytes)) or not hasattr(ts, "__iter__") or not list(ts):
                raise ValueError("instance field 'targets' must be a nonempty list of numbers")
            self._targets = [exact_number(v, "targets") for v in ts]
        elif "t" in instance:
            self._targets = [exact_number(instance["t"], "t")]
        else:
            raise ValueError("the simulation handle needs a target: instance field 't' or "
                             "'targets'")
        if "alpha" not in instance:
            raise ValueError("instance lacks the field 'alpha'")
        self._alpha = exact_number(instance["alpha"], "alpha")
        if self._alpha <= 0:
            raise ValueError(f"instance field 'alpha' must be > 0, got {instance['alpha']!r}")
        self._d = exact_number(instance["d"], "d") if "d" in instance else None
        if spec is None and "t_prime" in instance and "eta" not in instance:
            raise ValueError("an O1 instance (t, t_prime): its eta_fraction is a fraction of "
                             "t''s bounds, which the handle does not read; give 'eta'")
        self.readings: list[tuple] = []
        self.offsets: dict = {}
        self._cache = {} if _cache is None else _cache

    # ---- the instance's numbers in the handle's arithmetic ------------------------------

    @property
    def certified(self) -> bool:
        """True in ball mode: the values are proved enclosures."""
        return self.mode == "ball"

    def _num(self, q: Fraction):
        if self.mode == "ball":
            from flint import arb, ctx as flint_ctx, fmpq

            with flint_ctx.workprec(self.prec):
                return arb(fmpq(q.numerator, q.denominator))
        with mpmath.workdps(self.dps):
            return mpmath.mpf(q.numerator) / q.denominator

    @property
    def t(self):
        """The (first) target t."""
        return self._num(self._targets[0])

    @property
    def targets(self) -> list:
        return [self._num(q) for q in self._targets]

    @property
    def alpha(self):
        return self._num(self._alpha)

    @property
    def d(self):
        """The instance's level d (ValueError when it has none)."""
        if self._d is None:
            raise ValueError("instance lacks the field 'd' (the level of K_t)")
        return self._num(self._d)

    def exact(self, name: str):
        """The exact SymPy value of ``N``, ``t``, ``alpha``, ``d`` or ``eta`` (None when eta
        has no closed form here): exact ties are decided with these."""
        if name == "N":
            return sp.Integer(self.N)
        if name == "t":
            return _sp(self._targets[0])
        if name == "alpha":
            return _sp(self._alpha)
        if name == "d":
            return None if self._d is None else _sp(self._d)
        if name == "eta":
            return self._eta_exact()
        raise KeyError(name)

    def _step_field(self):
        inst = self.instance
        if "eta" in inst:
            return "eta", exact_number(inst["eta"], "eta")
        if self.spec == "S2" or ("q" in inst and "eta_fraction" not in inst):
            if "q" not in inst:
                raise ValueError("an S2 instance needs the field 'q' (eta N t^A)")
            return "q", exact_number(inst["q"], "q")
        if "eta_fraction" in inst:
            if self.spec == "K3":
                raise ValueError("K3 instances have no step size")
            return "eta_fraction", exact_number(inst["eta_fraction"], "eta_fraction")
        raise ValueError("instance has no step size: give 'eta', 'eta_fraction' or 'q'")

    def _top(self) -> Fraction:
        top = max(self._targets)
        if top <= 0:
            raise ValueError("eta as a fraction of the S1 step bound needs a target > 0")
        return top

    def _eta_exact(self):
        kind, v = self._step_field()
        if kind == "eta":
            return _sp(v)
        if self.spec == "S3":
            return None
        A = 2 - sp.Rational(2, self.N)
        return _sp(v) / (self.N * _sp(self._top()) ** A)

    @property
    def eta(self):
        """The step size: an mpf at dps digits, or an arb ball containing the real number."""
        key = ("eta", self.mode, self.dps if self.mode == "estimate" else self.prec)
        if key not in self._cache:
            self._cache[key] = self._eta()
        return self._cache[key]

    def _eta(self):
        kind, v = self._step_field()
        if v <= 0:
            raise ValueError(f"instance field {kind!r} must be > 0, got {self.instance[kind]!r}")
        if kind == "eta":
            return self._num(v)
        N = self.N
        if self.mode == "estimate":
            from verify.checks.verdict import evaluators, monotone_step_eta

            with mpmath.workdps(self.dps):
                f = mpmath.mpf(v.numerator) / v.denominator
                if self.spec == "S3":
                    t, a = self.t, self.alpha
                    ev = evaluators("S3")
                    name = "s3_positivity_step_bound" if t <= 0 else "s3_decreasing_step_bound"
                    return f * ev[name](t, a, N)
                top = mpmath.mpf(self._top().numerator) / self._top().denominator
                if kind == "q":
                    return f * evaluators("S2")["monotone_step_bound"](top, N)
                return monotone_step_eta(self.spec if self.spec in ("K1", "K2") else "S1", f, top, N)
        from flint import arb, ctx as flint_ctx, fmpq

        from verify.checks.verdict import evaluators

        with flint_ctx.workprec(self.prec):
            f = arb(fmpq(v.numerator, v.denominator))
            if self.spec == "S3":
                name = ("s3_positivity_step_bound_ball" if self._targets[0] <= 0
                        else "s3_decreasing_step_bound_ball")
                return f * evaluators("S3")[name](self.t, self.alpha, N)
            top = self._top()
            return f / (N * arb(fmpq(top.numerator, top.denominator)) ** arb(fmpq(2 * N - 2, N)))

    # ---- simulated values ---------------------------------------------------------------

    def _lane(self, lane):
        if isinstance(lane, bool) or not isinstance(lane, int) or not 0 <= lane < len(self._targets):
            raise ValueError(f"lane must be an integer in 0..{len(self._targets) - 1}, got {lane!r}")
        return lane

    def _level(self, level):
        if level is None:
            return self._d if self._d is not None else self.d  # raises naming 'd'
        if self.mode == "ball":
            from flint import arb

            if isinstance(level, arb):
                return level
        if isinstance(level, mpmath.mpf):
            return level
        return exact_number(level, "level")

    def hitting_time(self, level=None, *, lane: int = 0, strict: bool = False) -> int:
        """K = min{k : x_k^N >= level} (``> level`` if strict) of the lane, an exact int;
        level None: the instance's d. :class:`Undecided` when not decided at this
        precision or not reached within ``max_steps``; ``math.inf`` in estimate mode when
        the lane provably never reaches it (stationary or diverged first)."""
        lane = self._lane(lane)
        lv = self._level(level)
        key = ("hit", self.mode, self.dps if self.mode == "estimate" else self.prec, lane,
               _key(lv), bool(strict))
        if key not in self._cache:
            self._cache[key] = self._hit(lv, lane, bool(strict))
        value = self._cache[key]
        if isinstance(value, Undecided):
            raise value
        self.readings.append((key, value, 0))
        return value

    def _hit(self, lv, lane, strict):
        t = self._targets[lane]
        if self.mode == "estimate":
            from verify.engine import Event, simulate_reduced

            level = lv if isinstance(lv, mpmath.mpf) else _decimal(lv)
            t_text = _decimal(t)
            run = simulate_reduced([t_text], depth=self.N, alpha=_decimal(self._alpha),
                                   eta=self.eta, dps=self.dps,
                                   events=[Event(0, level, strict=strict)],
                                   max_steps=self.max_steps)
            h = run.hits[0]
            if h.ambiguous:
                return Undecided(f"hitting step of level {_show(lv)} ambiguous at {self.dps} digits")
            if h.step is None:
                if run.lanes[0].decided_end:
                    return math.inf
                return Undecided(f"level {_show(lv)} not reached within {self.max_steps} steps")
            return int(h.step)
        from verify.certified import certified_lane

        level = lv if not isinstance(lv, Fraction) else _frac_text(lv)
        c = certified_lane(_frac_text(t), _frac_text(self._alpha), self.eta, self.N,
                           levels=[level], max_steps=self.max_steps, prec=self.prec,
                           strict=strict)
        h = c.hits[0]
        if h.status == "decided":
            return int(h.step)
        if h.status == "undecided":
            return Undecided(f"certified enclosure straddles level {_show(lv)} at step {h.step} "
                             f"({self.prec} bits)")
        return Undecided(f"level {_show(lv)} not reached within {self.max_steps} steps "
                         "(certified lanes prove no miss beyond their horizon)")

    def _checkpoints(self, lane, steps):
        steps = tuple(sorted(set(steps)))
        for k in steps:
            if isinstance(k, bool) or not isinstance(k, int) or k < 0:
                raise ValueError(f"steps must be nonnegative integers, got {k!r}")
        key = ("x", self.mode, self.dps if self.mode == "estimate" else self.prec, lane, steps)
        if key in self._cache:
            return self._cache[key]
        t = self._targets[lane]
        if self.mode == "estimate":
            from verify.engine import simulate_reduced

            run = simulate_reduced([_decimal(t)], depth=self.N, alpha=_decimal(self._alpha),
                                   eta=self.eta, dps=self.dps, max_steps=steps[-1],
                                   checkpoints=steps, stop_when_settled=False)
            missing = [k for k in steps if k not in run.checkpoints]
            if missing:
                raise ValueError(f"the lane diverged before step {missing[0]}")
            out = {k: (run.checkpoints[k][0], float(run.checkpoint_errors[k][0])) for k in steps}
        else:
            from flint import ctx as flint_ctx

            from verify.certified import _arb_hull, certified_lane

            c = certified_lane(_frac_text(t), _frac_text(self._alpha), self.eta, self.N,
                               max_steps=steps[-1], prec=self.prec, checkpoints=steps,
                               stop_when_settled=False)
            with flint_ctx.workprec(self.prec):
                out = {k: (_arb_hull(*c.checkpoints[k]), 0.0) for k in steps}
            if any(not v.is_finite() for v, _ in out.values()):
                raise Undecided(f"the certified enclosure was lost before step {steps[-1]}")
        self._cache[key] = out
        return out

    def x(self, step: int, *, lane: int = 0):
        """The iterate x_step (an mpf with a recorded error estimate, or an arb ball)."""
        return self.trajectory([step], lane=lane)[0]

    def trajectory(self, steps, *, lane: int = 0) -> list:
        """The iterates x_k for k in ``steps`` (one run up to the last), in the given order."""
        lane = self._lane(lane)
        steps = list(steps)
        if not steps:
            raise ValueError("steps must not be empty")
        cps = self._checkpoints(lane, steps)
        out = []
        for k in steps:
            v, err = cps[k]
            if self.mode == "estimate":
                key = ("x", lane, k)
                err = max(err, 0.0)
                self.readings.append((key, v, err))
                if key in self.offsets:  # a replay (error propagation), at the run's digits
                    with mpmath.workdps(self.dps):
                        v = v + self.offsets[key]
            out.append(v)
        return out

    def power(self, step: int, *, lane: int = 0):
        """x_step^N, the eigenvalue of the product matrix (mpf with a recorded error, or arb)."""
        lane = self._lane(lane)
        v, err = self._checkpoints(lane, [step])[step]
        N = self.N
        if self.mode == "ball":
            from flint import ctx as flint_ctx

            with flint_ctx.workprec(self.prec):
                return v ** N
        with mpmath.workdps(self.dps):
            p = v**N
            u = 2.0 ** (1 - mpmath.mp.prec)
            e = N * (abs(float(v)) + err) ** (N - 1) * err + (N + 1) * u * abs(float(p))
            key = ("power", lane, step)
            self.readings.append((key, p, e))
            return p + self.offsets[key] if key in self.offsets else p

    # ---- closed forms -----------------------------------------------------------------

    def tau(self, a, b, target=None):
        """Flow time tau_target(a, b) (target: the lane-0 target t by default)."""
        T = self.t if target is None else target
        if self.mode == "ball":
            from verify.certified import certified_tau

            return certified_tau(_ball_arg(T), _ball_arg(a), _ball_arg(b), self.N, self.prec)
        from bounds import flow

        with mpmath.workdps(self.dps):
            return flow.tau(_mp(T), _mp(a), _mp(b), self.N)

    def rho(self, target=None):
        """rho(target) = (1 + eta target^A)^(N-1) (target: t by default)."""
        T = self.t if target is None else target
        if self.mode == "ball":
            from verify.certified import certified_rho

            return certified_rho(_ball_arg(T), self.eta, self.N, self.prec)
        from bounds import flow

        with mpmath.workdps(self.dps):
            return flow.rho(_mp(T), self.eta, self.N)

    def J_N(self, eps):
        """K3's J_N(eps)."""
        if self.mode == "ball":
            from flint import ctx as flint_ctx

            from bounds.enclosures import J_N_ball

            with flint_ctx.workprec(self.prec):
                return J_N_ball(_ball_arg(eps), self.N)
        from bounds import flow

        with mpmath.workdps(self.dps):
            return flow.J_N(_mp(eps), self.N)

    def __repr__(self):
        where = f"{self.dps} digits" if self.mode == "estimate" else f"{self.prec} bits"
        return f"Simulation({self.instance!r}, mode={self.mode!r}, {where})"


# ---------------------------------------------------------------------------------------
# helpers


def _decimal(q: Fraction) -> str:
    """An exact rational as a string simulate_reduced reads exactly (p/q is not a decimal:
    mpmath would round it; a float's Fraction has a power-of-two denominator, written out)."""
    if q.denominator == 1:
        return str(q.numerator)
    den = q.denominator
    twos = (den & -den).bit_length() - 1
    fives = 0
    rest = den >> twos
    while rest % 5 == 0:
        rest //= 5
        fives += 1
    if rest == 1:  # a terminating decimal: written exactly
        digits = max(twos, fives)
        scaled = q * 10**digits
        s = str(abs(scaled.numerator)).rjust(digits + 1, "0")
        return ("-" if q < 0 else "") + s[:-digits] + "." + s[-digits:]
    return mpmath.nstr(mpmath.mpf(q.numerator) / q.denominator, 300)  # rounded at the run's precision


def _frac_text(q: Fraction) -> str:
    return f"{q.numerator}/{q.denominator}"


def _key(v):
    if isinstance(v, Fraction):
        return ("q", v)
    if isinstance(v, mpmath.mpf):
        return ("mpf", v._mpf_)
    return ("arb", v.mid().str(40, radius=False), v.rad().str(5, radius=False))


def _show(v) -> str:
    if isinstance(v, Fraction):
        return str(float(v)) if v.denominator & (v.denominator - 1) == 0 else str(v)
    if isinstance(v, mpmath.mpf):
        return mpmath.nstr(v, 15)
    return str(v)


def _mp(v):
    if isinstance(v, mpmath.mpf):
        return v
    if isinstance(v, (Fraction, Integral)):
        q = Fraction(v)
        return mpmath.mpf(q.numerator) / q.denominator
    return mpmath.mpf(v)


def _ball_arg(v):
    from flint import arb, fmpq

    if isinstance(v, arb):
        return v
    if isinstance(v, (Fraction, Integral, float)):
        q = Fraction(v)
        return arb(fmpq(q.numerator, q.denominator))
    raise ValueError(f"a ball-mode argument must be an arb ball or an exact number, got "
                     f"{type(v).__name__}")
