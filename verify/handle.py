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

L instances (L1-L3: ``spectrum``, ``r``, ``eps``, ``theta``) have the spectrum as lanes
(E = 0) and eta_fraction of 1/(N s_1^A); P instances (P1, P3, P4, P5: W from ``spectrum``
and ``seed``, E by ``noise_kind`` of norm ``e``) have Y's eigenvalues as lanes (exact for
e = 0 and noise aligned with W's eigenvectors, computed at the run's digits for random
noise, which ball mode does not certify) and eta_fraction of the spec's step limit. Their
readings: :meth:`Simulation.T0`, :meth:`Simulation.T1`, :meth:`Simulation.error`
(||P(k) - W_r||_2), :meth:`Simulation.limit_error`, :meth:`Simulation.ub0_real`,
:meth:`Simulation.lb1_real`.

>>> low = {"depth": 3, "alpha": "0.05", "eta": "0.2", "spectrum": ["1", "0.1", "0.05"],
...        "r": 1, "eps": "0.1", "theta": "0.05"}
>>> Simulation(low).interval(), Simulation(low, mode="ball").T1()
(LowRankInterval(T0=102, T1=909), 909)

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
from dataclasses import dataclass
from fractions import Fraction
from numbers import Integral, Real
from typing import Mapping

import mpmath
import sympy as sp

__all__ = ["Simulation", "Undecided", "MODES", "ETA_SPECS", "L_SPECS", "P_SPECS",
           "LowRankInterval", "exact_number"]

MODES = ("estimate", "ball")
#: specs whose ``eta_fraction`` the handle reads, and the bound it is a fraction of
ETA_SPECS = {None: "S1 step bound 1/(N t^A)", "S1": "S1 step bound 1/(N t^A)",
             "K1": "S1 step bound 1/(N t^A)", "K2": "S1 step bound 1/(N t^A)",
             "S2": "q / (N t^A) (the field q)", "K3": "no step size",
             "S3": "S3 positivity bound (t <= 0) or decreasing-step bound (t > 0)",
             "L1": "S1 step bound 1/(N s_1^A)", "L2": "S1 step bound 1/(N s_1^A)",
             "L3": "S1 step bound 1/(N s_1^A)",
             "P1": "P1's step limit on Y's eigenvalues (bounds.perturbed.p1_step_limit)",
             "P3": "the step bound 1/(N (s+e)^A)",
             "P4": "P4's step limit (bounds.perturbed.p4_step_limit)",
             "P5": "P4's step limit (bounds.perturbed.p4_step_limit)"}
#: the noiseless low-rank specs (lanes: the spectrum) and the perturbed ones with dynamics
#: (lanes: Y's eigenvalues); P2 has no dynamics
L_SPECS = ("L1", "L2", "L3")
P_SPECS = ("P1", "P3", "P4", "P5")


@dataclass(frozen=True)
class LowRankInterval:
    """The observed low-rank interval [T0, T1] (T1 ``math.inf`` when infinite)."""

    T0: int
    T1: int | float

    def nonempty(self) -> bool:
        return self.T0 <= self.T1


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
        if spec == "P2":
            raise ValueError("P2 instances have no dynamics (no depth, alpha or step size): "
                             "the simulation handle does not read them")
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
        self.readings: list[tuple] = []
        self.offsets: dict = {}
        self._cache = {} if _cache is None else _cache
        self.family = _family(instance, spec)
        self._pspec = _p_spec(instance, spec) if self.family == "P" else None
        self._r = self._s = self._tp = self._e = None
        self._numeric = False  # lanes computed from an eigendecomposition (random noise)
        if self.family == "L":
            self._setup_lowrank(instance)
        elif self.family == "P":
            self._setup_perturbed(instance)
        elif "targets" in instance:
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

    # ---- L and P instances: the lanes are the reduced targets -------------------------

    def _setup_lowrank(self, inst):
        """E = 0: the lanes are the spectrum (Y = W), validated as the L checks do."""
        spec = inst.get("spectrum")
        if isinstance(spec, (str, bytes)) or not hasattr(spec, "__len__") or len(spec) < 2:
            raise ValueError("instance field 'spectrum' must be a list of at least 2 numbers")
        s = [exact_number(v, "spectrum") for v in spec]
        if any(v < 0 for v in s):
            raise ValueError(f"instance field 'spectrum' must be nonnegative, got {list(spec)!r}")
        if any(a < b for a, b in zip(s, s[1:])):
            raise ValueError(f"instance field 'spectrum' must be sorted descending, got {list(spec)!r}")
        self._r = _int_field(inst, "r", 1, len(s) - 1)
        self._s, self._e, self._tp = s, Fraction(0), list(s)
        self._targets = list(s)

    def _setup_perturbed(self, inst):
        """Y = W + E rebuilt by verify.problems.perturbed_problem (which validates the
        fields). Exact lanes where E is known in W's eigenbasis (e = 0, "worst", "aligned":
        t'_m = s_m + delta_m); otherwise Y's eigenvalues computed at the run's digits, as the
        P checks compute them (estimate mode only)."""
        if self._pspec == "P3":
            return self._setup_p3(inst)
        kind = inst.get("noise_kind", "random")
        target, _ = self._problem(inst)  # validates spectrum, seed, e, noise_kind, noise, r
        n = target.n
        if "r" in inst:
            lo, hi = (1, n - 1) if self._pspec in ("P4", "P5") else (0, n)
            self._r = _int_field(inst, "r", lo, hi)
        elif self._pspec in ("P4", "P5"):
            raise ValueError("instance lacks the field 'r'")
        self._e = None if kind == "explicit" else exact_number(inst["e"], "e")
        if kind != "explicit":
            s = sorted((exact_number(v, "spectrum") for v in inst["spectrum"]), reverse=True)
            self._s = s
            if self._e == 0 or kind in ("worst", "aligned"):
                if self._e == 0:
                    delta = [Fraction(0)] * n
                elif kind == "worst":
                    delta = [-self._e if m < self._r else self._e for m in range(n)]
                else:
                    delta = [exact_number(x, "noise") for x in inst["noise"]]
                self._tp = [a + b for a, b in zip(s, delta)]
                self._targets = sorted(self._tp, reverse=True)
                return
        self._numeric = True
        if self.mode == "estimate":
            _, obs = self._problem(inst, self.dps)
            self._targets = [exact_number(v, "t") for v in obs.t]
        else:
            self._targets = None  # not enclosed: every lane reading abstains

    def _setup_p3(self, inst):
        """P3: one lane, the eigenvalue t of Y paired with s (t_source "interval": t = s - e
        + 2 e t_frac exactly; "matrix": Y's eigenvalue, computed), level d."""
        from verify.problems import int_field

        src = inst.get("t_source", "interval")
        self._e = exact_number(_need(inst, "e"), "e")
        if src == "interval":
            s = exact_number(_need(inst, "s"), "s")
            u = exact_number(_need(inst, "t_frac"), "t_frac")
            if not 0 <= u <= 1:
                raise ValueError(f"instance field 't_frac' must be in [0, 1], got {inst['t_frac']!r}")
            self._p3_s = s
            self._targets = [s - self._e + 2 * self._e * u]
        elif src == "matrix":
            target, _ = self._problem(inst)
            j = int_field(inst, "index", 0, target.n - 1)
            self._p3_s = sorted((exact_number(v, "spectrum") for v in inst["spectrum"]),
                                reverse=True)[j]
            self._numeric = True
            if self.mode == "estimate":
                _, obs = self._problem(inst, self.dps)
                self._targets = [exact_number(obs.t[j], "t")]
            else:
                self._targets = None
        else:
            raise ValueError(f"t_source must be 'interval' or 'matrix', got {src!r}")

    def _problem(self, inst=None, dps: int = 20):
        """(target, observed) of a P instance at ``dps`` digits (cached)."""
        from verify.problems import perturbed_problem

        key = ("problem", dps)
        if key not in self._cache:
            self._cache[key] = perturbed_problem(self.instance if inst is None else inst, dps)
        return self._cache[key]

    def _lanes_needed(self):
        if self._targets is None:
            raise Undecided("Y's eigenvalues and eigenvectors (random noise) are computed "
                            "numerically, not enclosed: ball mode abstains on this instance")

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
        """The (first) target t (L and P instances: the largest lane, t_1)."""
        self._lanes_needed()
        return self._num(self._targets[0])

    @property
    def targets(self) -> list:
        """The lanes' targets, descending for L and P instances (the spectrum, or Y's
        eigenvalues)."""
        self._lanes_needed()
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
        has no closed form here, or t is a computed eigenvalue): exact ties are decided with
        these."""
        if name == "N":
            return sp.Integer(self.N)
        if name == "t":
            if self._numeric:
                return None
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
        if self.spec == "S3" or self.family == "P":
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
        if self.family == "P":
            if kind == "q":
                raise ValueError("a P instance's step size is 'eta' or 'eta_fraction', not 'q'")
            return self._eta_perturbed(v)
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
                cid = self.spec if self.spec in ("K1", "K2") + L_SPECS else "S1"
                return monotone_step_eta(cid, f, top, N)
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

    def _eta_perturbed(self, v: Fraction):
        """eta_fraction x the P spec's step limit, as the P checks compute it (estimate) or
        the ball evaluators of bounds/enclosures.py (ball; exact lanes only)."""
        from verify.checks.verdict import evaluators

        spec, N = self._pspec, self.N
        ev = evaluators(spec)
        if self.mode == "estimate":
            with mpmath.workdps(self.dps):
                f, a = _mp(v), _mp(self._alpha)
                if spec == "P3":
                    return f * ev["monotone_step_bound"](_mp(self._p3_s) + _mp(self._e), N)
                t = [_mp(q) for q in self._targets]
                if spec == "P1":
                    return f * ev["p1_step_limit"](t, a, N)
                s = self._spectrum_mp()
                return f * ev["p4_step_limit"](t, s, self._r, _mp(self._e), a, N)
        self._lanes_needed()
        from flint import arb, ctx as flint_ctx, fmpq

        with flint_ctx.workprec(self.prec):
            F, A = _ball_arg(v), _ball_arg(self._alpha)
            try:
                if spec == "P3":
                    S = _ball_arg(self._p3_s) + _ball_arg(self._e)
                    return F / (N * S ** arb(fmpq(2 * N - 2, N)))
                T = [_ball_arg(q) for q in self._targets]
                if spec == "P1":
                    return F * ev["p1_step_limit_ball"](T, A, N)
                S = [_ball_arg(q) for q in self._s]
                return F * ev["p4_step_limit_ball"](T, S, self._r, _ball_arg(self._e), A, N)
            except ValueError as exc:
                raise Undecided(f"the step limit's ball is not decided at {self.prec} bits: {exc}") from None

    def _spectrum_mp(self):
        """W's spectrum (descending) as mpf at the run's digits."""
        if self._s is None:  # explicit W: its computed eigenvalues
            target, _ = self._problem(None, self.dps)
            return list(target.s)
        return [_mp(q) for q in self._s]

    # ---- simulated values ---------------------------------------------------------------

    def _lane(self, lane):
        self._lanes_needed()
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

    # ---- L and P instances: the low-rank interval and the error -----------------------

    def _spectral(self, what: str):
        if self.family == "scalar" or self._pspec == "P3":
            raise ValueError(f"{what} needs an L or P instance (a spectrum with r, eps, theta); "
                             "this one has scalar lanes")

    def _frac_field(self, key: str, *, lo=None, lo_open=False, hi=None, hi_open=False) -> Fraction:
        q = exact_number(_need(self.instance, key), key)
        if (lo is not None and (q <= lo if lo_open else q < lo)) or \
                (hi is not None and (q >= hi if hi_open else q > hi)):
            rng = f"{'(' if lo_open else '['}{lo}, {hi if hi is not None else 'inf'}{')' if hi_open or hi is None else ']'}"
            raise ValueError(f"instance field {key!r} must be in {rng}, got {self.instance[key]!r}")
        return q

    @property
    def r(self) -> int:
        """The rank r of the instance (ValueError when it has none)."""
        self._spectral("r")
        if self._r is None:
            raise ValueError("instance lacks the field 'r'")
        return self._r

    @property
    def eps(self):
        self._spectral("eps")
        return self._num(self._frac_field("eps", lo=0, lo_open=True, hi=1, hi_open=True))

    @property
    def theta(self):
        self._spectral("theta")
        return self._num(self._frac_field("theta"))

    @property
    def spectrum(self) -> list:
        """W's spectrum s_1 >= ... >= s_n."""
        self._spectral("spectrum")
        if self._s is None:
            if self.mode == "ball":
                raise Undecided("an explicit W's spectrum is computed, not enclosed")
            return self._spectrum_mp()
        return [self._num(q) for q in self._s]

    def _prec_key(self):
        return self.dps if self.mode == "estimate" else self.prec

    def interval(self) -> "LowRankInterval":
        """T0 and T1 of the instance (:meth:`T0`, :meth:`T1`)."""
        return LowRankInterval(self.T0(), self.T1())

    def T0(self) -> int:
        """T0 = min{k : x_i(k)^N >= (1-eps) t_i for all i <= r}, taken as the checks take it:
        the largest first hitting step of the lanes t_1..t_r (the spectrum for L, Y's
        eigenvalues for P), equal to the definition when those lanes increase (S1).
        :class:`Undecided` when a step is ambiguous or not reached within ``max_steps``
        (``math.inf`` in estimate mode when a lane provably never learns)."""
        self._spectral("T0")
        key = ("T0", self.mode, self._prec_key())
        if key not in self._cache:
            self._cache[key] = self._capture(self._t0)
        return self._reading(key)

    def T1(self):
        """T1 = min{k : x_{r+1}(k)^N > theta} - 1 (-1 when theta < alpha^N), ``math.inf``
        when x_{r+1}^N provably never exceeds theta (theta >= t_{r+1}: the lane stays below
        its target, or at most alpha^N when it decreases). Estimate mode:
        :func:`verify.checks.lowrank.observe_interval` (near theta = t_{r+1} it compares up
        to its decidable horizon, as the L checks do); ball mode: the certified hitting step,
        or the monotone certificate of :func:`verify.certified.monotone_certificate` for
        ``inf``."""
        self._spectral("T1")
        key = ("T1", self.mode, self._prec_key())
        if key not in self._cache:
            self._cache[key] = self._capture(self._t1)
        return self._reading(key)

    def _capture(self, fn):
        try:
            return fn()
        except Undecided as u:
            return u

    def _reading(self, key):
        value = self._cache[key]
        if isinstance(value, Undecided):
            raise value
        self.readings.append((key, value, 0))
        return value

    def _levels_learned(self) -> list:
        self._lanes_needed()
        eps = self._frac_field("eps", lo=0, lo_open=True, hi=1, hi_open=True)
        return [(1 - eps) * self._targets[i] for i in range(self.r)]

    def _observed_interval(self):
        from verify.checks.lowrank import observe_interval

        key = ("observe", self.dps)
        if key not in self._cache:
            with mpmath.workdps(self.dps):
                lanes = [_mp(q) for q in self._targets]
                eps = _mp(self._frac_field("eps", lo=0, lo_open=True, hi=1, hi_open=True))
                theta = _mp(self._frac_field("theta"))
                self._cache[key] = observe_interval(self.N, lanes, self.r, eps, theta,
                                                    _mp(self._alpha), self.eta, dps=self.dps,
                                                    max_steps=self.max_steps)
        obs = self._cache[key]
        if obs.ambiguous:
            raise Undecided(f"a hitting step of T0 or T1 is ambiguous at {self.dps} digits")
        return obs

    def _t0(self):
        # the lanes are independent: each learned lane's first hit, as observe_interval
        # reads them off one run of t_1..t_r (inf: a lane provably never learns)
        return max(self.hitting_time(lv, lane=i) for i, lv in enumerate(self._levels_learned()))

    def _never_above(self, theta) -> bool:
        """x_{r+1}(k)^N <= theta for every k, proved: theta >= max(t_{r+1}, alpha^N) and phi
        nondecreasing on [0, max(c, alpha)] (c = max(t_{r+1}, 0)^(1/N);
        :func:`verify.certified.monotone_certificate`, in arb, for the eta the run uses),
        which keeps the lane between c and alpha, so x^N <= max(t_{r+1}, alpha^N)."""
        from verify.certified import monotone_certificate

        t_next = self._targets[self.r]
        if theta < max(t_next, self._alpha ** self.N):
            return False
        eta = self.eta if self.mode == "ball" else _frac_text(exact_number(self.eta, "eta"))
        prec = self.prec if self.mode == "ball" else max(128, int(3.33 * self.dps) + 20)
        return monotone_certificate(_frac_text(t_next), _frac_text(self._alpha), eta, self.N,
                                    prec) is not None

    def _t1(self):
        r = self.r
        self._lanes_needed()
        theta = self._frac_field("theta")
        if theta < self._alpha ** self.N:
            return -1  # x_0^N = alpha^N > theta (exact)
        if self._never_above(theta):
            return math.inf
        if self.mode == "estimate":
            obs = self._observed_interval()
            if obs.T1 is not None:
                return int(obs.T1)
            if obs.t1_infinite:
                return math.inf
            H = self.hitting_time(theta, lane=r, strict=True)  # inf when provably never
            return math.inf if H == math.inf else H - 1
        if theta >= self._targets[r]:
            raise Undecided(f"theta >= t_(r+1), but phi is not proved nondecreasing at "
                            f"{self.prec} bits: T1 = inf not certified")
        return self.hitting_time(theta, lane=r, strict=True) - 1

    def _target_rank(self):
        """w_m: the eigenvalues of W_r in W's eigenbasis (s_m for m < r, else 0)."""
        r = self.r
        return [q if m < r else Fraction(0) for m, q in enumerate(self._s)]

    def error(self, step: int, norm: str = "2"):
        """||P(step) - W_r||_2, W_r the best rank-r approximation of W. Where E is known in W's
        eigenbasis (E = 0, "worst", "aligned" noise) P(k) - W_r is diagonal there, so the
        error is max_m |x_m(k)^N - w_m| (w_m = s_m for m < r, else 0), lane m the target
        s_m + delta_m (the formula of the L2 check; verify/volume/lowrank.py, "L2"); a mpf
        with the engine's error estimate recorded, or an arb ball. Random noise (estimate
        mode only): P(k) = Q diag(x^N) Q^T and W_r = V diag(w) V^T at the run's digits, the
        spectral norm of the difference from mpmath.eigsy, as the P5 check computes it."""
        self._spectral("error")
        if norm != "2":
            raise ValueError(f"norm must be '2' (the spectral norm), got {norm!r}")
        if isinstance(step, bool) or not isinstance(step, Integral) or step < 0:
            raise ValueError(f"step must be a nonnegative integer, got {step!r}")
        step = int(step)
        self._lanes_needed()
        N = self.N
        n = len(self._targets)
        vals = [self._checkpoints(j, [step])[step] for j in range(n)]
        if self._numeric:
            return self._error_numeric(step, vals)
        order = sorted(range(n), key=lambda m: -self._tp[m])  # sorted lane j is W's lane order[j]
        w = self._target_rank()
        if self.mode == "ball":
            from flint import ctx as flint_ctx

            with flint_ctx.workprec(self.prec):
                out = None
                for j, (x, _) in enumerate(vals):
                    d = abs(x**N - _ball_arg(w[order[j]]))
                    out = d if out is None else out.max(d)
                return out
        from verify.checks.perturbed import _pow_margin

        with mpmath.workdps(self.dps):
            worst, margin = mpmath.mpf(0), 0.0
            for j, (x, err) in enumerate(vals):
                worst = max(worst, abs(x**N - _mp(w[order[j]])))
                margin = max(margin, float(_pow_margin(x, mpmath.mpf(err), N, self.dps)))
            return self._record(("error", step), worst, margin)

    def _record(self, key, value, err):
        self.readings.append((key, value, err))
        if key in self.offsets:
            with mpmath.workdps(self.dps):
                return value + self.offsets[key]
        return value

    def _error_numeric(self, step, vals):
        if self.mode == "ball":
            raise Undecided("random noise: P(k) and W_r do not share eigenvectors, and Y's "
                            "eigenvectors are not enclosed: ball mode abstains")
        from verify.checks.perturbed import _pow_margin, _spec_norm, _sym_from
        from verify.checks.verdict import rel_margin

        N = self.N
        target, obs = self._problem(None, self.dps)
        with mpmath.workdps(self.dps):
            Pk = _sym_from(obs.Q, [x**N for x, _ in vals])
            Wr = self._wr_numeric(target)
            err = _spec_norm(Pk - Wr)
            scale = max(abs(target.s[0]) + obs.e, mpmath.mpf(1))
            marg = max(_pow_margin(x, mpmath.mpf(e), N, self.dps) for x, e in vals) \
                + 100 * rel_margin(self.dps) * scale
            return self._record(("error", step), err, float(marg))

    def _wr_numeric(self, target):
        from verify.checks.perturbed import _sym_from

        r = self.r
        return _sym_from(target.V, [target.s[i] if i < r else mpmath.mpf(0)
                                    for i in range(target.n)])

    def limit_error(self):
        """||Y_+ - W_r||_2: the limit of :meth:`error` when every lane converges to
        max(t_i, 0) (under S1/S3's step conditions, P1's conclusion). Exact where E is
        known in W's eigenbasis (E = 0: s_{r+1}); for random noise computed at the run's
        digits (estimate mode only)."""
        self._spectral("limit_error")
        if self._numeric:
            if self.mode == "ball":
                raise Undecided("random noise: Y_+ - W_r is not enclosed: ball mode abstains")
            from verify.checks.perturbed import _spec_norm, _sym_from
            from verify.checks.verdict import rel_margin

            target, obs = self._problem(None, self.dps)
            with mpmath.workdps(self.dps):
                Yp = _sym_from(obs.Q, [max(x, 0) for x in obs.t])
                err = _spec_norm(Yp - self._wr_numeric(target))
                marg = 100 * rel_margin(self.dps) * max(abs(target.s[0]) + obs.e, mpmath.mpf(1))
                return self._record(("limit_error",), err, float(marg))
        w = self._target_rank()
        return self._num(max(abs(max(q, Fraction(0)) - w[m]) for m, q in enumerate(self._tp)))

    def _bound_args(self):
        """The registry's UB0/LB1 arguments in the handle's arithmetic: (claim ID, ...)."""
        eps = self._frac_field("eps", lo=0, lo_open=True, hi=1, hi_open=True)
        theta = self._frac_field("theta")
        return eps, theta

    def ub0_real(self):
        """The real argument of UB0 (UB0 = ceil of it): L1's ``ub0_real`` on the spectrum
        (L instances), P4's ``p4_bounds_real`` on Y's eigenvalues (P instances); their
        ball evaluators in ball mode."""
        return self._bounds()[0]

    def lb1_real(self):
        """The real argument L of LB1 = ceil(L) - 1 (``inf`` when theta >= s_{r+1}, or
        s_{r+1} + e for P): L1's ``lb1_real`` / P4's ``p4_bounds_real``."""
        return self._bounds()[1]

    def _bounds(self):
        self._spectral("UB0/LB1")
        key = ("bounds", self.mode, self._prec_key())
        if key not in self._cache:
            self._cache[key] = self._capture(self._bounds_now)
        value = self._cache[key]
        if isinstance(value, Undecided):
            raise value
        return value

    def _bounds_now(self):
        from verify.checks.verdict import evaluators

        eps, theta = self._bound_args()
        r, N = self.r, self.N
        cid = self.spec if self.spec in L_SPECS + ("P4", "P5") else ("L1" if self.family == "L" else "P4")
        ev = evaluators(cid)
        if self.mode == "estimate":
            with mpmath.workdps(self.dps):
                args = (r, _mp(eps), _mp(theta), _mp(self._alpha), self.eta, N)
                if self.family == "L":
                    s = self._spectrum_mp()
                    return ev["ub0_real"](s, *args), ev["lb1_real"](s, *args)
                t = [_mp(q) for q in self._targets]
                return ev["p4_bounds_real"](t, self._spectrum_mp(), r, _mp(self._e), *args[1:])
        self._lanes_needed()
        from flint import ctx as flint_ctx

        with flint_ctx.workprec(self.prec):
            Ep, Th, Al = _ball_arg(eps), _ball_arg(theta), _ball_arg(self._alpha)
            S = [_ball_arg(q) for q in self._s]
            try:
                if self.family == "L":
                    B = ev["ub0_real_ball"](S, r, Ep, Al, self.eta, N)
                    # LB1's case theta >= s_{r+1} (L infinite) decided exactly, so that an
                    # exact tie of two inexact balls (theta = s_{r+1} = 0.1) is decided
                    L = None if theta >= self._s[r] else ev["lb1_real_ball"](S[r], Th, Al, self.eta, N)
                else:
                    T = [_ball_arg(q) for q in self._targets]
                    B, L = ev["p4_bounds_real_ball"](T, S, r, _ball_arg(self._e), Ep, Th, Al,
                                                     self.eta, N)
            except ValueError as exc:
                raise Undecided(f"UB0/LB1's balls do not decide the bounds' cases at "
                                f"{self.prec} bits: {exc}") from None
            return B, (math.inf if L is None else L)

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


def _family(inst, spec) -> str:
    """"L" (a spectrum, E = 0), "P" (Y = W + E) or "scalar" (targets t / targets)."""
    if spec in L_SPECS:
        return "L"
    if spec in P_SPECS:
        return "P"
    if spec is not None:
        return "scalar"
    if any(k in inst for k in ("noise_kind", "seed", "W", "t_source")):
        return "P"
    return "L" if "spectrum" in inst else "scalar"


def _p_spec(inst, spec) -> str:
    """The P spec whose step convention applies (from the fields when no spec is given)."""
    if spec in P_SPECS:
        return spec
    if "t_source" in inst:
        return "P3"
    if "delta" in inst:
        return "P1"
    return "P4"


def _need(inst, key):
    if key not in inst:
        raise ValueError(f"instance lacks the field {key!r}")
    return inst[key]


def _int_field(inst, key, lo, hi):
    v = _need(inst, key)
    if isinstance(v, bool) or not isinstance(v, Integral) or not lo <= v <= hi:
        raise ValueError(f"instance field {key!r} must be an integer in {lo}..{hi}, got {v!r}")
    return int(v)


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
