"""Reduced eigenvalue dynamics of gradient descent (claim R1), at explicit precision.

Under R1 every eigenvalue of the factors follows its own scalar map

    x <- phi_t(x) = x + eta * x**(N-1) * (t - x**N),   x(0) = alpha,

so gradient descent on the n x n problem is n independent scalar recursions ("lanes").
This module runs them at a chosen number of decimal digits and reports, for requested
events ``x**N >= d`` (or ``> d``), the first step at which each holds.

Two backends compute bit-identical iterates: ``"gmpy2"`` (the fast path: MPFR numbers in a
tight loop) and ``"mpmath"`` (the reference: the same operations on mpmath ``mpf``). Both
use mpmath's binary precision for the requested ``dps`` and round every operation to nearest.

Rounding margins. Each lane carries a first-order running estimate of the forward error
of the computed iterate (docs/numerics.md, "Rounding margins"): a local error bound per step,
propagated with the map's derivative, where the product of derivatives is read off the
trajectory itself as the ratio of increments (mean value theorem). An event comparison whose
gap ``|x**N - d|`` lies inside the margin is *ambiguous*; hits reported with
``ambiguous=True`` must be recomputed at higher precision (the checker does that) and
never count as decided.

Memory is O(n + number of events + checkpoints): the trajectory is streamed, not stored.

>>> run = simulate_reduced([1, "0.25"], depth=3, alpha="0.1", eta="0.3",
...                        events=[Event(0, "0.5"), Event(1, "0.2")], dps=30)
>>> [h.step for h in run.hits], [h.ambiguous for h in run.hits]
([33, 128], [False, False])
>>> run.dps, run.settled
(30, True)
"""

from __future__ import annotations

import functools
import math
from fractions import Fraction
from dataclasses import dataclass, field
from numbers import Integral, Real
from types import MappingProxyType
from typing import Mapping, Sequence

import gmpy2
import mpmath
from mpmath.libmp import dps_to_prec

__all__ = [
    # inputs
    "Event",
    "to_mpf",
    # results
    "Hit",
    "Lane",
    "ReducedRun",
    # engines
    "simulate_reduced",
    "BACKENDS",
    "MIN_DPS",
    "MAX_DPS",
]

MIN_DPS = 15
# Rounding margins are tracked in floats: u = 2^(1-prec) must stay far above the float
# underflow (1e-308) with room for the products formed with it.
MAX_DPS = 250
BACKENDS = ("gmpy2", "mpmath")
# Safety factor on the first-order error estimate: it covers the second-order terms and the
# off-by-one point at which the mean-value derivative is taken (docs/numerics.md).
_SAFETY = 4.0


# ---------------------------------------------------------------------------------------
# inputs


def to_mpf(value, *, name: str, positive: bool = False):
    """Convert a user number (int, float, decimal string, mpf) to mpf at the current precision.

    Strings are parsed by mpmath's decimal reader only (no eval / sympify). NaN, infinities,
    booleans and other types are rejected with a ValueError naming ``name``; with
    ``positive=True`` so are numbers <= 0.

    >>> with mpmath.workdps(20):
    ...     print(to_mpf("0.125", name="alpha"))
    0.125
    >>> to_mpf("nan", name="eta")
    Traceback (most recent call last):
    ...
    ValueError: eta must be a finite number, got 'nan'
    """
    if isinstance(value, bool):
        raise ValueError(f"{name} must be a number, got a bool")
    if isinstance(value, str):
        text = value.strip()
        if "_" in text:  # mpmath reads "0.0_5" as 0.005
            raise ValueError(f"{name} must be a number, got {value!r}")
        try:
            x = mpmath.mpf(text)
        except (ValueError, TypeError, ZeroDivisionError):
            raise ValueError(f"{name} must be a number, got {value!r}") from None
    elif isinstance(value, Fraction):
        x = mpmath.mpf(value.numerator) / value.denominator
    elif isinstance(value, (Real, mpmath.mpf)) or type(value).__name__ == "mpfr":
        x = mpmath.mpf(value)
    elif hasattr(value, "dtype") and getattr(value, "shape", None) == ():
        x = mpmath.mpf(float(value))  # numpy scalar
    else:
        raise ValueError(f"{name} must be a number, got {type(value).__name__}")
    if not mpmath.isfinite(x):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    if positive and not x > 0:
        raise ValueError(f"{name} must be > 0, got {value}")
    return x


def _exact(value):
    """The exact rational value of a user number (decimal strings exactly as written),
    or None when it has none (not needed: to_mpf validates first)."""
    if isinstance(value, Fraction):
        return value
    if isinstance(value, str):
        try:
            return Fraction(value.strip())
        except (ValueError, ZeroDivisionError):
            return None
    if isinstance(value, mpmath.mpf):
        sign, man, exp, _ = value._mpf_
        return Fraction(-int(man) if sign else int(man)) * Fraction(2) ** int(exp)
    if isinstance(value, (Integral, float)) or type(value).__name__ in ("mpfr", "mpz", "mpq"):
        try:
            return Fraction(value)
        except (TypeError, ValueError, OverflowError):
            return None
    return None


@dataclass(frozen=True)
class Event:
    """The event ``x_index(k)**N >= level`` (``> level`` when ``strict``).

    ``index`` selects the target (lane); ``level`` is any number accepted by :func:`to_mpf`.
    With ``stop`` the lane stops at the first step where this event holds: its other events
    are then decided up to that step (a run up to a level beyond which comparisons with the
    limit are no longer decidable, for example).
    """

    index: int
    level: object
    strict: bool = False
    stop: bool = False


# ---------------------------------------------------------------------------------------
# results


@dataclass(frozen=True)
class Hit:
    """First step k at which an event holds (``None``: not within the run).

    ``ambiguous`` is True when some comparison up to that step (or up to the end of the run,
    for ``step=None``) fell inside the rounding margin: the step is then not decided at this
    precision.
    """

    step: int | None
    ambiguous: bool
    #: the first step whose comparison fell inside the margin (None: none did); every
    #: comparison before it was decided (not part of equality)
    first_ambiguous: int | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Lane:
    """One eigenvalue's run.

    ``steps`` GD steps were taken, so ``x`` is x(steps); ``error`` is the (safety-scaled)
    first-order estimate of |computed x - exact x| at that step. ``stationary`` is the first
    step from which the computed iterate no longer changed (an exact fixed point of the
    rounded map), or None. ``stopped`` is True when an ``Event(stop=True)`` ended the lane.
    """

    target: mpmath.mpf
    x: mpmath.mpf
    steps: int
    error: float
    diverged: bool
    divergence_step: int | None
    stationary: int | None
    stopped: bool = False

    @property
    def decided_end(self) -> bool:
        """True when a miss at the end of this lane is decided (not cut by the step cap)."""
        return self.diverged or self.stationary is not None or self.stopped


@dataclass(frozen=True)
class ReducedRun:
    """Result of :func:`simulate_reduced`. Every number was computed at ``dps`` digits."""

    depth: int
    alpha: mpmath.mpf
    eta: mpmath.mpf
    dps: int
    backend: str
    max_steps: int
    lanes: tuple[Lane, ...]
    events: tuple[Event, ...]
    hits: tuple[Hit, ...]
    # step -> (x_1(k), ..., x_n(k)) and the matching error estimates
    checkpoints: Mapping[int, tuple[mpmath.mpf, ...]] = field(default_factory=dict)
    checkpoint_errors: Mapping[int, tuple[float, ...]] = field(default_factory=dict)

    @property
    def steps(self) -> int:
        """Largest number of steps any lane ran."""
        return max(lane.steps for lane in self.lanes)

    @property
    def diverged(self) -> bool:
        return any(lane.diverged for lane in self.lanes)

    @property
    def settled(self) -> bool:
        """True when every event has a decided answer (hit, or decided miss by divergence/
        stationarity) that is not ambiguous. A miss at the step cap is not settled."""
        for ev, hit in zip(self.events, self.hits):
            if hit.ambiguous:
                return False
            if hit.step is None and not self.lanes[ev.index].decided_end:
                return False
        return True

    @property
    def capped(self) -> bool:
        """True when some event is still open because the step cap was reached."""
        return any(hit.step is None and not self.lanes[ev.index].decided_end
                   for ev, hit in zip(self.events, self.hits))

    def products(self, step: int) -> tuple[mpmath.mpf, ...]:
        """Eigenvalues x_i(step)**N of the product matrix at a checkpoint."""
        if step not in self.checkpoints:
            raise ValueError(f"step {step} is not a checkpoint of this run")
        with mpmath.workdps(self.dps):
            return tuple(x**self.depth for x in self.checkpoints[step])


# ---------------------------------------------------------------------------------------
# validation


def _check_depth(depth) -> int:
    if isinstance(depth, bool) or not isinstance(depth, Integral):
        raise ValueError(f"depth N must be an integer >= 2, got {depth!r}")
    if depth < 2:
        raise ValueError(f"depth N must be an integer >= 2, got {depth}")
    return int(depth)


def _check_dps(dps) -> int:
    if isinstance(dps, bool) or not isinstance(dps, Integral) or dps < MIN_DPS:
        raise ValueError(f"dps must be an integer >= {MIN_DPS}, got {dps!r}")
    if dps > MAX_DPS:
        raise ValueError(f"dps must be <= {MAX_DPS} (the engine's rounding margins are floats), got {dps}")
    return int(dps)


def _check_steps(value, *, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral) or value < 0:
        raise ValueError(f"{name} must be a nonnegative integer, got {value!r}")
    return int(value)


# ---------------------------------------------------------------------------------------
# the loop


def _to_mpfr(x: mpmath.mpf):
    """Exact conversion (the current gmpy2 context has at least x's precision)."""
    # from the raw tuple: mpf.man_exp drops the sign of negative numbers
    sign, man, exp, _ = x._mpf_
    value = gmpy2.mul_2exp(gmpy2.mpfr(man), exp)
    return -value if sign else value


def _from_mpfr(x) -> mpmath.mpf:
    man, exp = x.as_mantissa_exp()
    return mpmath.ldexp(mpmath.mpf(int(man)), int(exp))


def _fpow(a: float, n: int) -> float:
    """``a ** n`` in floats, +inf instead of OverflowError (a margin that large decides
    nothing, and the divergence test ends the lane)."""
    try:
        return a**n
    except OverflowError:
        return math.inf


def _power_chain(n: int):
    """x**n by repeated multiplication (the same rounding sequence in both backends)."""

    def power(x):
        y = x
        for _ in range(n - 1):
            y = y * x
        return y

    return power


_KERNEL_SRC = """
def kernel(x, ax, S, k, adf_last, stop, thr, eta, t, ck, ta, lim, bound):
    try:
        for _ in range(stop - k):
            xm = {chain}
            xN = xm * x
            if xN >= thr:
                break
            delta = eta * xm * (t - xN)
            adf = abs(float(delta))
            axm = {fchain}
            S_next = S + (ax + ck * axm * (ta + axm * ax)) / adf
            if adf * S_next > lim * ax or ax > bound:
                break
            S = S_next
            adf_last = adf
            x = x + delta
            ax = abs(float(x))
            k += 1
    except ZeroDivisionError:
        pass  # increment 0 (or below float range): the careful path decides
    return x, ax, S, k, adf_last
"""


_INLINE_DEPTH = 200  # up to this depth the kernel inlines x**(N-1) as one product expression
_PROGRESS_CHUNK = 1 << 16  # steps between progress reports (when a callback is given)


@functools.lru_cache(maxsize=None)
def _fast_kernel(depth: int):
    """The fast path's loop for one depth, with x**(N-1) inlined as the same left-to-right
    product that :func:`_power_chain` computes (bit-identical iterates, no call per step)."""
    namespace: dict = {}
    if depth <= _INLINE_DEPTH:
        chain = " * ".join(["x"] * (depth - 1))
        fchain = " * ".join(["ax"] * (depth - 1))
    else:  # one expression that long exceeds the compiler's recursion limit: the same
        # left-to-right product in a loop
        namespace["_pw"] = _power_chain(depth - 1)
        chain, fchain = "_pw(x)", "_pw(ax)"
    exec(compile(_KERNEL_SRC.format(chain=chain, fchain=fchain), f"<kernel N={depth}>", "exec"),
         namespace)
    return namespace["kernel"]


def _run_lane(t, alpha, eta, depth, levels, *, max_steps, min_steps, stop_settled,
              checkpoints, bound, u, exact0, progress=None):
    """Run one lane with numbers of the backend's type (mpfr or mpf).

    ``levels``: list of (event position, d, stop). ``exact0``: event position -> whether
    the event holds at step 0, decided exactly from the inputs (None: use the margin test).
    Returns (lane fields, hits by position, checkpoint values and errors).

    Two paths compute the same iterates. The fast path takes steps while the lowest pending
    level is clearly out of reach (``x**N`` below ``d (1 - window)``, with the relative
    rounding margin checked to stay below ``window`` at every step); otherwise the careful
    path takes one step with the full margin test of every pending event.
    """
    N = depth
    Nf = float(N)
    ck = float(N + 5) * float(eta)  # rounding in (t - x^N) and the products, with slack
    ta = abs(float(t))
    pow_m = _power_chain(N - 1) if N > 2 else (lambda v: v)
    pending = sorted(levels, key=lambda lv: lv[1])  # ascending levels
    hits: dict[int, tuple[int | None, bool, int | None]] = {}
    ambiguous = {pos: False for pos, _, _ in pending}
    first_amb: dict[int, int] = {}
    halt = False  # an Event(stop=True) has hit
    cps: dict[int, object] = {}
    cperr: dict[int, float] = {}
    cp_left = sorted(k for k in checkpoints if k <= max_steps)
    window = 2.0**-24  # relative distance below the lowest level that the fast path keeps
    lim = (window / 2) / (Nf * _SAFETY * u)  # fast path needs |delta| S <= lim |x|

    x = alpha
    ax = abs(float(alpha))
    # err_k = SAFETY u |delta_k| S_k with S_0 = |x_0|/|delta_0| (rounding of alpha) and
    # S_k = S_(k-1) + L_(k-1)/|delta_k|, L_(k-1) = |x_k| + ck |x_k|^(N-1) (|t| + |x_k|^N)
    # the local rounding error of step k-1 in units of u (docs/numerics.md).
    S = None
    err = u * ax
    adf_last = 0.0  # |delta| of the last step taken
    diverged = False
    div_step = None
    stationary = None
    k = 0

    def threshold():
        # the fast path must stop before x^N can come near the lowest pending level
        if not pending:
            return None
        d = pending[0][1]
        return d - abs(d) * window if d > 0 else None

    thr = threshold()
    kernel = _fast_kernel(N)
    next_report = 0
    inf = x * 0 + float('inf')  # +infinity of the backend's type
    while True:
        # ---- fast path: no checkpoint, no level near, margin small ----
        stop = min(max_steps, cp_left[0] if cp_left else max_steps)
        if progress is not None:  # report every _PROGRESS_CHUNK steps
            if k >= next_report:
                progress(k)
                next_report = k + _PROGRESS_CHUNK
            stop = min(stop, next_report)
        if S is not None and k < stop and (thr is not None or not pending):
            x, ax, S, k, adf_last = kernel(x, ax, S, k, adf_last, stop,
                                           inf if thr is None else thr, eta, t, ck, ta, lim, bound)
        # ---- careful path: one step with every test ----
        xm = pow_m(x)
        xN = xm * x
        delta = eta * xm * (t - xN)
        adf = abs(float(delta))
        if adf > 0.0 and math.isfinite(adf):
            if S is None:
                S = ax / adf
            else:
                S += (ax + ck * _fpow(ax, N - 1) * (ta + _fpow(ax, N))) / adf
            err = max(_SAFETY * u * (adf * S), u * ax)
        elif S is not None:
            # increment zero or outside the float range: near a stable fixed point the error
            # cannot grow by more than this step's rounding (e_k <= e_(k-1) + l_(k-1))
            err = _SAFETY * u * (adf_last * S + ax)
        if cp_left and cp_left[0] == k:
            cps[k] = x
            cperr[k] = err
            cp_left.pop(0)
        if pending:
            # margin on x^N: N (|x|+err)^(N-1) err, plus rounding of the power and the level
            margin = Nf * _fpow(ax + err, N - 1) * err + (Nf + 1) * u * _fpow(ax, N)
            still = []
            for lv in pending:
                pos, d, stop_here = lv
                gap = xN - d
                if k == 0 and exact0.get(pos) is not None:
                    hit_now = exact0[pos]
                elif abs(float(gap)) <= margin + (Nf + 1) * u * abs(float(d)):
                    if not ambiguous[pos]:
                        first_amb[pos] = k
                    ambiguous[pos] = True
                    hit_now = False
                else:
                    hit_now = gap > 0
                if hit_now:
                    hits[pos] = (k, ambiguous[pos], first_amb.get(pos))
                    halt = halt or stop_here
                else:
                    still.append(lv)
            pending = still
            thr = threshold()
        if not math.isfinite(ax) or ax > bound:
            diverged, div_step = True, k
            break
        if halt:
            break
        if k >= max_steps or (stop_settled and not pending and not cp_left):
            break
        if delta == 0:
            # every later iterate equals x: events are decided now, checkpoints filled
            stationary = k
            for cp in cp_left:
                cps[cp] = x
                cperr[cp] = err
            k = max_steps if not stop_settled else max([k] + cp_left)
            cp_left = []
            break
        x = x + delta
        ax = abs(float(x))
        adf_last = adf
        k += 1
    for pos, _, _ in pending:
        hits[pos] = (None, ambiguous[pos], first_amb.get(pos))
    if progress is not None:
        progress(max_steps)
    return (x, k, err, diverged, div_step, stationary, halt), hits, cps, cperr


def simulate_reduced(
    targets: Sequence,
    *,
    depth: int,
    alpha,
    eta,
    dps: int = 50,
    events: Sequence[Event] = (),
    max_steps: int = 10**6,
    checkpoints: Sequence[int] = (),
    stop_when_settled: bool = True,
    backend: str = "gmpy2",
    divergence_bound=None,
    progress=None,
) -> ReducedRun:
    """Run the reduced dynamics ``x_i <- x_i + eta x_i^(N-1)(t_i - x_i^N)``, ``x_i(0) = alpha``.

    Parameters
    ----------
    targets: eigenvalues t_i of the observed matrix Y (any sign, any order).
    depth, alpha, eta: N >= 2, alpha > 0, eta > 0 (numbers or decimal strings).
    events: :class:`Event` objects; their first hitting steps are reported in order.
    max_steps: hard step cap; a lane never runs past it.
    checkpoints: steps k at which x_i(k) is recorded (lanes run at least that long, unless an
        ``Event(stop=True)`` or divergence ends them first: checkpoints a lane never reached
        are left out).
    stop_when_settled: stop a lane once its events are decided (else run to ``max_steps``).
    divergence_bound: |x| above this counts as divergence (default
        ``10 * max(1, alpha, max_i |t_i|^(1/N))``).
    progress: ``progress(lane, step)`` is called every 2^16 steps of each lane and when a
        lane ends (``step = max_steps``); the lane's iterates do not depend on it, its
        rounding margins may differ in the last bits (the fast path is cut there, as at a
        checkpoint).

    The caller's sequences are not modified. Valid parameters outside any claim's
    hypotheses (large eta, alpha**N above a target) are simulated as they are.

    >>> run = simulate_reduced([4], depth=2, alpha="0.5", eta="0.01", max_steps=2000,
    ...                        stop_when_settled=False, dps=20)
    >>> print(mpmath.nstr(run.lanes[0].x, 12), run.steps)
    2.0 2000
    """
    N = _check_depth(depth)
    dps = _check_dps(dps)
    max_steps = _check_steps(max_steps, name="max_steps")
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    if isinstance(targets, (str, bytes)) or not hasattr(targets, "__iter__"):
        raise ValueError("targets must be a sequence of numbers")
    targets = list(targets)
    if not targets:
        raise ValueError("targets must not be empty")
    events = tuple(events)
    cps = sorted({_check_steps(k, name="checkpoint") for k in checkpoints})
    if cps and cps[-1] > max_steps:
        raise ValueError(f"checkpoint {cps[-1]} is beyond max_steps={max_steps}")
    prec = dps_to_prec(dps)
    with mpmath.workprec(prec):
        ts = [to_mpf(t, name=f"target {i}") for i, t in enumerate(targets)]
        a = to_mpf(alpha, name="alpha", positive=True)
        h = to_mpf(eta, name="eta", positive=True)
        by_lane: list[list] = [[] for _ in ts]
        for pos, ev in enumerate(events):
            if not isinstance(ev, Event):
                raise ValueError(f"events[{pos}] must be an Event, got {type(ev).__name__}")
            if isinstance(ev.index, bool) or not isinstance(ev.index, Integral) or not 0 <= ev.index < len(ts):
                raise ValueError(f"event index {ev.index!r} out of range for {len(ts)} targets")
            by_lane[ev.index].append((pos, to_mpf(ev.level, name=f"level of event {pos}"), bool(ev.stop)))
        if divergence_bound is None:
            scale = max([mpmath.mpf(1), a] + [abs(t) ** (mpmath.mpf(1) / N) for t in ts])
            bound = float(10 * scale)
        else:
            bound = float(to_mpf(divergence_bound, name="divergence_bound"))
            if bound <= 0:
                raise ValueError("divergence_bound must be > 0")
        u = 2.0 ** (1 - prec)  # unit roundoff of round-to-nearest at `prec` bits
        min_steps = cps[-1] if cps else 0

        # step 0 involves only the inputs: decide it exactly when they are exact rationals,
        # so that a tie such as theta = alpha**N is settled instead of staying ambiguous
        exact0 = {}
        a_exact = _exact(alpha)
        for pos, ev in enumerate(events):
            d_exact = _exact(ev.level)
            if a_exact is not None and d_exact is not None:
                p = a_exact**N
                exact0[pos] = p > d_exact if ev.strict else p >= d_exact
        lanes, hits_all = [], {}
        cp_vals: dict[int, list] = {k: [None] * len(ts) for k in cps}
        cp_errs: dict[int, list] = {k: [None] * len(ts) for k in cps}
        for i, t in enumerate(ts):
            kwargs = dict(max_steps=max_steps, min_steps=min_steps,
                          stop_settled=stop_when_settled, checkpoints=cps, bound=bound, u=u,
                          exact0=exact0,
                          progress=None if progress is None else functools.partial(progress, i))
            if backend == "gmpy2":
                with gmpy2.context(gmpy2.get_context(), precision=prec, round=gmpy2.RoundToNearest):
                    lv = [(p, _to_mpfr(d), s) for p, d, s in by_lane[i]]
                    fields, hits, cv, ce = _run_lane(_to_mpfr(t), _to_mpfr(a), _to_mpfr(h), N, lv, **kwargs)
                conv = _from_mpfr
            else:
                fields, hits, cv, ce = _run_lane(t, a, h, N, by_lane[i], **kwargs)
                conv = mpmath.mpf
            x, k, err, diverged, div_step, stationary, stopped = fields
            lanes.append(Lane(target=t, x=conv(x), steps=k, error=err, diverged=diverged,
                              divergence_step=div_step, stationary=stationary, stopped=stopped))
            hits_all.update(hits)
            for step, val in cv.items():
                cp_vals[step][i] = conv(val)
                cp_errs[step][i] = ce[step]
        # checkpoints a lane never reached (divergence) are left out entirely
        complete = [k for k in cps if all(v is not None for v in cp_vals[k])]
        return ReducedRun(
            depth=N, alpha=a, eta=h, dps=dps, backend=backend, max_steps=max_steps,
            lanes=tuple(lanes), events=events,
            hits=tuple(Hit(*hits_all[pos]) for pos in range(len(events))),
            checkpoints=MappingProxyType({k: tuple(cp_vals[k]) for k in complete}),
            checkpoint_errors=MappingProxyType({k: tuple(cp_errs[k]) for k in complete}),
        )
