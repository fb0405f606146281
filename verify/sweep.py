"""Sweeps: predict and simulate over a grid or a random design of parameters.

A sweep spec is a TOML file (read with :mod:`tomllib`, nothing evaluated) with up to three
tables::

    [sweep]                 # the design: name, design = "grid" | "random", seed, points
    [fixed]                 # parameters held fixed
    [grid]  or  [random]    # the parameters that vary: grid values, or distributions

Every key and value is checked: an unknown key, a wrong type or a value out of range is a
:class:`SpecError` (one line naming the table, the key and the value). The parameters of a
point are those of :func:`verify.explore.make_setting` and :func:`verify.explore.simulate`
(:data:`PARAMS`): ``depth``, ``alpha``, ``eta`` or ``eta_fraction``, the target's spectrum
(``n`` eigenvalues of the family ``spectrum`` with gap ``s_r/s_{r+1} = gap``), ``rank``,
``eps``, ``theta``, ``noise`` (``noise_kind``), ``seed``, ``dps``, ``max_steps``, ``engine``.

Each point has a stable id (:func:`point_id`): a hash of its resolved parameters, so the
same point gets the same id in every run, whatever the order, the workers or the rest of
the design. :func:`evaluate_point` turns a point into one output row (predicted bounds,
what gradient descent did, whether an observed time breaks a predicted bound, the command
that re-runs it). :func:`run_sweep` evaluates the points that are not already in the
output, on local processes or on a Dask cluster (``scheduler=``), and writes them as Parquet
parts, one per batch, each written atomically (a temporary file renamed), so an interrupted
sweep keeps every finished point and a rerun resumes without recomputing them.

>>> spec = parse_spec('''
... [sweep]
... name = "doc"
... [fixed]
... depth = 3
... eta_fraction = 0.6
... theta = 0.1
... max_steps = 2000
... [grid]
... gap = [2, 20]
... alpha = { log = [0.05, 0.2], num = 2 }
... ''')
>>> [(p["params"]["gap"], p["params"]["alpha"]) for p in design_points(spec)]
[('2', '0.05'), ('2', '0.2'), ('20', '0.05'), ('20', '0.2')]
>>> row = evaluate_point(design_points(spec)[0])
>>> row["T0"], row["T0_upper"], row["T1"], row["T1_lower"], row["nonempty"], row["violates_bound"]
(102, 144, 182, 180, True, False)
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import shlex
import threading
import time
from dataclasses import dataclass, field
from itertools import product

__all__ = [
    "PARAMS", "SpecError", "Spec", "parse_spec", "read_spec", "design_points", "point_id",
    "evaluate_point", "spectrum_values", "SCHEMA_VERSION", "run_sweep", "SweepResult",
    "SweepError", "read_results", "read_marker", "existing_ids", "check_out_dir", "summarize",
    "FAMILIES", "CLASSES", "NUMERIC",
]

#: Format of the output rows (written into every Parquet part; a rerun refuses another).
SCHEMA_VERSION = "1"
FAMILIES = ("step", "geometric", "power")
ENGINES = ("reduced", "full-matrix")
NOISE_KINDS = ("worst", "random")
#: observed class of a point: the low-rank interval [T0, T1] nonempty or empty, else why not
#: decided (simulate's status) or "error" (the setting was refused)
CLASSES = ("nonempty", "empty", "censored", "undecided", "diverged", "error")
MAX_POINTS = 1_000_000
MAX_N = 64
MAX_STEPS = 10**7
MAX_DEPTH = 1000
MAX_SEED = 2**64 - 1
MAX_NUM = 10_000

_DECIMAL = re.compile(r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$")


class SpecError(ValueError):
    """A bad sweep spec: one line naming the table, the key and the value."""


# ---------------------------------------------------------------------------------------
# the parameters


@dataclass(frozen=True)
class Param:
    kind: str            # "int", "number" or "choice"
    default: object      # None: required (or optional, see below)
    lo: object = None    # bounds (numbers: Fractions)
    hi: object = None
    lo_open: bool = False
    hi_open: bool = False
    choices: tuple = ()
    optional: bool = False  # None is a legal resolved value (theta: eps * s_r)
    help: str = ""


def _F(x):
    from fractions import Fraction

    return Fraction(x)


#: every parameter of a point, its type, default and range (``default None``: required)
PARAMS: dict[str, Param] = {
    "depth": Param("int", None, 2, MAX_DEPTH, help="depth N"),
    "alpha": Param("number", None, 0, None, lo_open=True, help="initialization scale, W_j(0) = alpha I"),
    "eta": Param("number", None, 0, None, lo_open=True, optional=True,
                 help="step size (or eta_fraction)"),
    "eta_fraction": Param("number", None, 0, None, lo_open=True, optional=True,
                          help="eta as a fraction of S1's step bound 1/(N max(s_1, alpha^N)^(2-2/N))"),
    "n": Param("int", 2, 2, MAX_N, help="size of the target (number of eigenvalues)"),
    "rank": Param("int", 1, 1, MAX_N - 1, help="rank r of the low-rank phase, < n"),
    "spectrum": Param("choice", "step", choices=FAMILIES, help="family of the target's spectrum"),
    "gap": Param("number", None, 1, None, help="s_r / s_{r+1} >= 1 (s_1 = 1)"),
    "eps": Param("number", "0.1", 0, 1, lo_open=True, hi_open=True, help="learned level (1 - eps) t_i"),
    "theta": Param("number", None, 0, None, optional=True,
                   help="threshold of T1 (default: eps * s_r)"),
    "noise": Param("number", "0", 0, None, help="||E||_2 of the perturbation (0: none)"),
    "noise_kind": Param("choice", "worst", choices=NOISE_KINDS,
                        help="worst: Weyl-extremal E; random: seeded"),
    "seed": Param("int", None, 0, MAX_SEED, optional=True,
                  help="seed of the target's eigenvectors and of random noise (default: [sweep] seed)"),
    "dps": Param("int", 30, 15, 250, help="working precision in decimal digits"),
    "max_steps": Param("int", 10_000, 1, MAX_STEPS, help="simulate's step cap"),
    "engine": Param("choice", "reduced", choices=ENGINES,
                    help="reduced dynamics or the N-factor matrix iteration"),
}
NUMERIC = tuple(k for k, p in PARAMS.items() if p.kind in ("int", "number"))

_SWEEP_KEYS = {"name": "a name for the sweep (text)", "design": "grid or random",
               "seed": "seed of the random design and default seed of every point",
               "points": "number of points of a random design"}
_TABLES = ("sweep", "fixed", "grid", "random")
_DISTRIBUTIONS = ("uniform", "loguniform", "integers", "choice")


def _where(table, key=None):
    return f"[{table}]" + (f" {key}" if key else "")


def _number_text(value, where: str) -> str:
    """A TOML number or decimal string as canonical text (a float as its repr)."""
    if isinstance(value, bool):
        raise SpecError(f"{where}: expected a number, got {str(value).lower()}")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise SpecError(f"{where}: expected a finite number, got {value}")
        return repr(value)
    if isinstance(value, str):
        text = value.strip()
        if not _DECIMAL.match(text):
            raise SpecError(f"{where}: expected a number (a plain decimal such as 0.05 or "
                            f"5e-2), got {value!r}")
        exp = re.search(r"[eE]([+-]?\d+)$", text)
        if exp and abs(int(exp.group(1))) > 10_000:
            raise SpecError(f"{where}: {text} is out of range: a nonzero number must have "
                            f"magnitude in [1e-100, 1e100]")
        return text
    raise SpecError(f"{where}: expected a number, got {_tname(value)}")


def _tname(value) -> str:
    return {dict: "a table", list: "a list", str: "text"}.get(type(value), type(value).__name__)


def _check_value(key: str, value, where: str):
    """One parameter value, checked and made canonical (numbers as text, ints as int)."""
    p = PARAMS[key]
    if p.kind == "choice":
        if not isinstance(value, str) or value not in p.choices:
            raise SpecError(f"{where}: expected one of {', '.join(p.choices)}, got {value!r}")
        return value
    if p.kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise SpecError(f"{where}: expected an integer, got {value!r}")
        if value < p.lo or (p.hi is not None and value > p.hi):
            raise SpecError(f"{where}: must be in {p.lo}..{p.hi}, got {value}")
        return value
    text = _number_text(value, where)
    x = _F(text)
    if x != 0 and not (_F("1e-100") <= abs(x) <= _F("1e100")):
        raise SpecError(f"{where}: {text} is out of range: a nonzero number must have "
                        f"magnitude in [1e-100, 1e100]")
    lo, hi = p.lo, p.hi
    if lo is not None and (x < lo or (p.lo_open and x == lo)):
        raise SpecError(f"{where}: must be {'>' if p.lo_open else '>='} {lo}, got {text}")
    if hi is not None and (x > hi or (p.hi_open and x == hi)):
        raise SpecError(f"{where}: must be {'<' if p.hi_open else '<='} {hi}, got {text}")
    return text


def _int_setting(value, where, lo, hi):
    if isinstance(value, bool) or not isinstance(value, int):
        raise SpecError(f"{where}: expected an integer, got {value!r}")
    if not lo <= value <= hi:
        raise SpecError(f"{where}: must be in {lo}..{hi}, got {value}")
    return value


# ---------------------------------------------------------------------------------------
# the spec


@dataclass(frozen=True)
class Spec:
    """A checked sweep spec. ``fixed``: key -> canonical value; ``axes``: (key, values) for a
    grid (values canonical), (key, (distribution, args)) for a random design, in file order."""

    name: str
    design: str
    seed: int
    points: int | None
    fixed: dict
    axes: tuple
    source: str = "spec"
    raw: dict = field(default_factory=dict)

    @property
    def varying(self) -> tuple[str, ...]:
        return tuple(k for k, _ in self.axes)

    def count(self) -> int:
        if self.design == "random":
            return self.points
        return math.prod(len(v) for _, v in self.axes) if self.axes else 1

    def scales(self) -> dict:
        """How each axis was spaced: "log" (a log range, loguniform), "linear" (a lin range,
        uniform) or None (a list of values, integers, choice): a hint for plots."""
        out = {}
        for k, v in self.axes:
            raw = self.raw.get(self.design, {}).get(k)
            kind = None
            if isinstance(raw, dict):
                kind = next((x for x in ("log", "lin", "loguniform", "uniform") if x in raw), None)
            out[k] = {"log": "log", "loguniform": "log", "lin": "linear",
                      "uniform": "linear"}.get(kind)
        return out

    def as_dict(self) -> dict:
        return {"name": self.name, "design": self.design, "seed": self.seed,
                "points": self.points, "fixed": self.fixed, "scales": self.scales(),
                "axes": [[k, list(v) if self.design == "grid" else [v[0], list(v[1])]]
                         for k, v in self.axes]}


def _grid_values(key, value, where):
    p = PARAMS[key]
    if isinstance(value, list):
        if not value:
            raise SpecError(f"{where}: the list of values is empty")
        if len(value) > MAX_NUM:
            raise SpecError(f"{where}: at most {MAX_NUM} values, got {len(value)}")
        return tuple(_check_value(key, v, f"{where}[{i}]") for i, v in enumerate(value))
    if isinstance(value, dict):
        kinds = [k for k in ("lin", "log") if k in value]
        unknown = sorted(set(value) - {"lin", "log", "num"})
        if unknown:
            raise SpecError(f"{where}: unknown key {unknown[0]!r} (a range is "
                            f"{{ lin = [lo, hi], num = K }} or {{ log = [lo, hi], num = K }})")
        if len(kinds) != 1 or "num" not in value:
            raise SpecError(f"{where}: a range is {{ lin = [lo, hi], num = K }} or "
                            f"{{ log = [lo, hi], num = K }}")
        if p.kind != "number":
            raise SpecError(f"{where}: a {kinds[0]} range needs a real parameter; {key} is "
                            f"{'an integer' if p.kind == 'int' else 'a choice'}: list its values")
        kind = kinds[0]
        ends = value[kind]
        num = _int_setting(value["num"], f"{where}.num", 1, MAX_NUM)
        if not isinstance(ends, list) or len(ends) != 2:
            raise SpecError(f"{where}.{kind}: expected [lo, hi], got {ends!r}")
        lo, hi = (_check_value(key, v, f"{where}.{kind}[{i}]") for i, v in enumerate(ends))
        flo, fhi = float(lo), float(hi)
        if kind == "log" and not (flo > 0 and fhi > 0):
            raise SpecError(f"{where}.log: both ends must be > 0, got [{lo}, {hi}]")
        if num == 1:
            return (lo,)
        import numpy as np

        xs = np.geomspace(flo, fhi, num) if kind == "log" else np.linspace(flo, fhi, num)
        vals = [lo] + [repr(float(x)) for x in xs[1:-1]] + [hi]
        return tuple(_check_value(key, v, where) for v in vals)
    raise SpecError(f"{where}: expected a list of values or a range table "
                    f"{{ log = [lo, hi], num = K }}, got {_tname(value)}")


def _distribution(key, value, where):
    p = PARAMS[key]
    if not isinstance(value, dict):
        raise SpecError(f"{where}: expected a distribution such as {{ loguniform = [lo, hi] }}, "
                        f"{{ uniform = [lo, hi] }}, {{ integers = [lo, hi] }} or "
                        f"{{ choice = [...] }}, got {_tname(value)}")
    if len(value) != 1:
        raise SpecError(f"{where}: give exactly one distribution ({', '.join(_DISTRIBUTIONS)}), "
                        f"got {', '.join(sorted(value)) or 'none'}")
    dist, args = next(iter(value.items()))
    if dist not in _DISTRIBUTIONS:
        raise SpecError(f"{where}: unknown distribution {dist!r} (one of "
                        f"{', '.join(_DISTRIBUTIONS)})")
    if not isinstance(args, list) or not args:
        raise SpecError(f"{where}.{dist}: expected a list, got {args!r}")
    if dist == "choice":
        if len(args) > MAX_NUM:
            raise SpecError(f"{where}.choice: at most {MAX_NUM} values, got {len(args)}")
        return dist, tuple(_check_value(key, v, f"{where}.choice[{i}]") for i, v in enumerate(args))
    if len(args) != 2:
        raise SpecError(f"{where}.{dist}: expected [lo, hi], got {args!r}")
    if dist == "integers":
        if p.kind != "int":
            raise SpecError(f"{where}: integers needs an integer parameter; {key} is "
                            f"{'real' if p.kind == 'number' else 'a choice'}")
        lo, hi = (_check_value(key, v, f"{where}.integers[{i}]") for i, v in enumerate(args))
        if lo > hi:
            raise SpecError(f"{where}.integers: lo {lo} is above hi {hi}")
        return dist, (lo, hi)
    if p.kind != "number":
        raise SpecError(f"{where}: {dist} needs a real parameter; {key} is "
                        f"{'an integer (use integers or choice)' if p.kind == 'int' else 'a choice (use choice)'}")
    lo, hi = (_check_value(key, v, f"{where}.{dist}[{i}]") for i, v in enumerate(args))
    if float(lo) > float(hi):
        raise SpecError(f"{where}.{dist}: lo {lo} is above hi {hi}")
    if dist == "loguniform" and not float(lo) > 0:
        raise SpecError(f"{where}.loguniform: both ends must be > 0, got [{lo}, {hi}]")
    return dist, (lo, hi)


def parse_spec(text: str, *, source: str = "spec") -> Spec:
    """Parse and check a sweep spec (TOML text). SpecError names the first problem."""
    import tomllib

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"{source} is not valid TOML: {exc}") from None
    for key, value in data.items():
        if key not in _TABLES:
            raise SpecError(f"unknown table or key {key!r} at the top level (tables: "
                            f"{', '.join(f'[{t}]' for t in _TABLES)})")
        if not isinstance(value, dict):
            raise SpecError(f"{key} must be a table [{key}], got {_tname(value)}")
    sw = data.get("sweep", {})
    for key in sw:
        if key not in _SWEEP_KEYS:
            raise SpecError(f"{_where('sweep', key)}: unknown key (known: {', '.join(_SWEEP_KEYS)})")
    name = sw.get("name", "sweep")
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}", name):
        raise SpecError(f"{_where('sweep', 'name')}: expected a name of letters, digits, "
                        f"'_', '.', '-' (at most 64), got {name!r}")
    design = sw.get("design", "random" if "random" in data else "grid")
    if design not in ("grid", "random"):
        raise SpecError(f"{_where('sweep', 'design')}: expected grid or random, got {design!r}")
    seed = _int_setting(sw.get("seed", 0), _where("sweep", "seed"), 0, MAX_SEED)
    other = "random" if design == "grid" else "grid"
    if other in data:
        raise SpecError(f"[{other}] is not used by design = {design!r} (use [{design}])")
    points = None
    if design == "random":
        if "points" not in sw:
            raise SpecError(f"{_where('sweep', 'points')}: a random design needs points = COUNT")
        points = _int_setting(sw["points"], _where("sweep", "points"), 1, MAX_POINTS)
    elif "points" in sw:
        raise SpecError(f"{_where('sweep', 'points')}: only a random design takes points (a grid "
                        f"has one point per combination)")
    fixed = {}
    for key, value in data.get("fixed", {}).items():
        if key not in PARAMS:
            raise SpecError(f"{_where('fixed', key)}: unknown parameter (known: {', '.join(PARAMS)})")
        fixed[key] = _check_value(key, value, _where("fixed", key))
    axes = []
    for key, value in data.get(design, {}).items():
        where = _where(design, key)
        if key not in PARAMS:
            raise SpecError(f"{where}: unknown parameter (known: {', '.join(PARAMS)})")
        if key in fixed:
            raise SpecError(f"{where}: {key} is also in [fixed]; give it in one table")
        axes.append((key, _grid_values(key, value, where) if design == "grid"
                     else _distribution(key, value, where)))
    given = set(fixed) | {k for k, _ in axes}
    for key in ("depth", "alpha", "gap"):
        if key not in given:
            raise SpecError(f"{key} is required: give it in [fixed] or [{design}]")
    if ("eta" in given) == ("eta_fraction" in given):
        raise SpecError("give exactly one of eta and eta_fraction (in [fixed] or "
                        f"[{design}])")
    spec = Spec(name=name, design=design, seed=seed, points=points, fixed=fixed,
                axes=tuple(axes), source=source, raw=data)
    if spec.count() > MAX_POINTS:
        raise SpecError(f"the design has {spec.count()} points, more than {MAX_POINTS}: "
                        f"split the sweep")
    # combinations the values alone do not decide (rank < n), on the extremes of the axes
    _check_rank(spec)
    return spec


def _check_rank(spec: Spec) -> None:
    def extremes(key):
        if key in spec.fixed:
            return [spec.fixed[key]]
        for k, v in spec.axes:
            if k == key:
                vals = v if spec.design == "grid" else v[1]
                return [min(vals), max(vals)]
        return [PARAMS[key].default]

    rmax, nmin = max(extremes("rank")), min(extremes("n"))
    if rmax >= nmin:
        raise SpecError(f"rank must be below n for every point: rank {rmax} with n {nmin}")


def read_spec(path: str) -> Spec:
    """The spec in a TOML file (SpecError for a file that cannot be read or is not valid)."""
    try:
        with open(path, "rb") as fh:
            raw = fh.read()
    except OSError as exc:
        raise SpecError(f"cannot read sweep spec {path}: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise SpecError(f"sweep spec {path} is not UTF-8 text") from None
    return parse_spec(text, source=path)


# ---------------------------------------------------------------------------------------
# points


def point_id(params: dict) -> str:
    """A stable id of a point: the first 16 hex digits of the SHA-256 of its resolved
    parameters (canonical JSON) and the row schema. The same parameters give the same id in
    every run and every design."""
    text = json.dumps({"schema": SCHEMA_VERSION, "params": params}, sort_keys=True,
                      separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _resolve(spec: Spec, values: dict) -> dict:
    params = {}
    for key, p in PARAMS.items():
        if key in values:
            params[key] = values[key]
        elif key in spec.fixed:
            params[key] = spec.fixed[key]
        elif key == "seed":
            params[key] = spec.seed
        else:
            params[key] = p.default
    return params


def _draw(rng, dist, args, key):
    if dist == "choice":
        return args[int(rng.integers(len(args)))]
    if dist == "integers":
        return int(rng.integers(args[0], args[1], endpoint=True))
    lo, hi = float(args[0]), float(args[1])
    if dist == "uniform":
        x = float(rng.uniform(lo, hi))
    else:
        x = float(math.exp(rng.uniform(math.log(lo), math.log(hi))))
    x = min(max(x, lo), hi)
    return _check_value(key, x, f"[random] {key}")


def design_points(spec: Spec) -> list[dict]:
    """The points of the design, in order: ``{"index", "id", "params"}``. A grid varies its
    last key fastest; a random design draws point i from ``numpy.random.default_rng([seed,
    i])``, so the first points do not depend on ``points``. Points with the same parameters
    (the same id) are kept once, at their first index."""
    import numpy as np

    keys = [k for k, _ in spec.axes]
    if spec.design == "grid":
        combos = product(*(v for _, v in spec.axes)) if keys else [()]
        rows = (dict(zip(keys, c)) for c in combos)
    else:
        def draws():
            for i in range(spec.points):
                rng = np.random.default_rng([spec.seed, i])
                yield {k: _draw(rng, d, a, k) for k, (d, a) in spec.axes}
        rows = draws()
    out, seen = [], set()
    for i, values in enumerate(rows):
        params = _resolve(spec, values)
        if params["rank"] >= params["n"]:
            raise SpecError(f"point {i}: rank {params['rank']} must be below n {params['n']}")
        pid = point_id(params)
        if pid in seen:
            continue
        seen.add(pid)
        out.append({"index": i, "id": pid, "params": params})
    return out


def spectrum_values(family: str, n: int, rank: int, gap: str, dps: int) -> list[str]:
    """The n eigenvalues (descending, s_1 = 1, s_r / s_{r+1} = gap) as decimal text:
    ``step``: r ones, then n - r times 1/gap; ``geometric``: s_i = gap^-(i-1);
    ``power``: s_i = i^-p with ((r+1)/r)^p = gap.

    >>> spectrum_values("step", 3, 1, "4", 20), spectrum_values("geometric", 3, 1, "2", 20)
    (['1', '0.25', '0.25'], ['1', '0.5', '0.25'])
    """
    import mpmath

    with mpmath.workdps(dps + 5):
        g = mpmath.mpf(gap)
        if family == "step":
            vals = [mpmath.mpf(1)] * rank + [1 / g] * (n - rank)
        elif family == "geometric":
            vals = [g ** -i for i in range(n)]
        elif family == "power":
            p = mpmath.log(g) / mpmath.log(mpmath.mpf(rank + 1) / rank)
            vals = [mpmath.mpf(i + 1) ** -p for i in range(n)]
        else:
            raise ValueError(f"unknown spectrum family {family!r}")
        return ["1" if v == 1 else mpmath.nstr(v, dps, strip_zeros=True, min_fixed=-5, max_fixed=5)
                for v in vals]


def _eta_text(params: dict, spectrum: list[str]) -> str:
    """eta: given, or eta_fraction times S1's step bound for the target."""
    if params["eta"] is not None:
        return params["eta"]
    import mpmath

    from bounds.flow import monotone_step_bound

    dps, N = params["dps"], params["depth"]
    with mpmath.workdps(dps + 5):
        s1 = max(mpmath.mpf(v) for v in spectrum)
        bound = monotone_step_bound(max(s1, mpmath.mpf(params["alpha"]) ** N), N)
        eta = mpmath.mpf(params["eta_fraction"]) * bound
        return mpmath.nstr(eta, dps, strip_zeros=True, min_fixed=-5, max_fixed=5)


def _command(params, eta, spectrum) -> str:
    argv = ["dmf-verify", "simulate", "--depth", str(params["depth"]), "--alpha", params["alpha"],
            "--eta", eta, "--spectrum", ",".join(spectrum), "--rank", str(params["rank"]),
            "--eps", params["eps"]]
    if params["theta"] is not None:
        argv += ["--theta", params["theta"]]
    if _F(params["noise"]) != 0:
        argv += ["--noise", params["noise"], "--noise-kind", params["noise_kind"]]
    argv += ["--seed", str(params["seed"]), "--dps", str(params["dps"]),
             "--max-steps", str(params["max_steps"])]
    if params["engine"] == "full-matrix":
        argv.append("--full-matrix")
    return shlex.join(argv + ["--json"])


def _int_or_none(x):
    return x if isinstance(x, int) and not isinstance(x, bool) else None


def _float(x):
    if x is None:
        return None
    try:
        return float(x)
    except (TypeError, ValueError):
        return None


def _censored_at(x):
    """K of a censored time ("> K", ">= K"), else None."""
    if isinstance(x, str):
        m = re.match(r"^>=? (\d+)$", x)
        if m:
            return int(m.group(1))
    return None


def _violations(pred: dict, sim: dict) -> list[str]:
    """The observed times that break a predicted bound (the claims L1 / P4 promise
    T0 <= T0_upper and T1 >= T1_lower whenever their hypotheses hold)."""
    out = []
    ub, lb = pred.get("T0_upper"), pred.get("T1_lower")
    lb_inf = bool(pred.get("T1_lower_infinite"))
    T0, T1 = sim.get("T0"), sim.get("T1")
    if ub is not None and sim.get("diverged"):
        out.append(f"diverged at step {sim.get('divergence_step')} though T0 <= {ub} is predicted")
    if ub is not None and isinstance(T0, int) and T0 > ub:
        out.append(f"T0 = {T0} > T0_upper = {ub}")
    k0 = _censored_at(T0)
    if ub is not None and k0 is not None and k0 >= ub:
        out.append(f"T0 > {k0} >= T0_upper = {ub}")
    if lb is not None and isinstance(T1, int) and T1 < lb:
        out.append(f"T1 = {T1} < T1_lower = {lb}")
    if lb_inf and isinstance(T1, int):
        out.append(f"T1 = {T1} though T1_lower is infinite")
    return out


def _margin(pred: dict):
    """log(T1_lower / T0_upper) clipped to [-3, 3] (>= 0 exactly when the spectral condition
    T0_upper <= T1_lower predicts a nonempty interval), +3 for an infinite T1_lower, None
    where no bound is predicted: a field whose 0-contour is the predicted boundary."""
    ub, lb = pred.get("T0_upper"), pred.get("T1_lower")
    if ub is None:
        return None
    if lb is None:
        return 3.0 if pred.get("T1_lower_infinite") else None
    return max(-3.0, min(3.0, math.log(max(lb, 0.5) / max(ub, 0.5))))


_EVAL_LOCK = threading.Lock()  # mpmath's precision is process-global: one point at a time per process


def evaluate_point(point: dict) -> dict:
    """One output row: the point's parameters, what :func:`verify.explore.predict` says and
    what :func:`verify.explore.simulate` does. A setting that make_setting / simulate refuse
    (ValueError) is a row with ``observed = "error"`` and the message in ``error``."""
    with _EVAL_LOCK:
        return _evaluate(point)


def _evaluate(point: dict) -> dict:
    import mpmath

    from verify import __version__
    from verify.explore import make_setting, predict, simulate

    params = point["params"]
    row = {"id": point["id"], "index": point["index"], "sweep": point.get("sweep", ""),
           "params": json.dumps(params, sort_keys=True)}
    for key in PARAMS:
        v = params[key]
        row[key] = _float(v) if PARAMS[key].kind == "number" else v
    row.update({"eta_used": None, "theta_used": None, "spectrum_values": None, "command": None,
                "error": None, "version": __version__})
    prec = mpmath.mp.prec
    try:
        spec = spectrum_values(params["spectrum"], params["n"], params["rank"], params["gap"],
                               params["dps"])
        eta = _eta_text(params, spec)
        row.update(spectrum_values=[float(v) for v in spec], eta_used=float(eta),
                   command=_command(params, eta, spec))
        noisy = _F(params["noise"]) != 0
        st = make_setting(depth=params["depth"], alpha=params["alpha"], eta=eta,
                          spectrum=spec, rank=params["rank"], eps=params["eps"],
                          theta=params["theta"], noise=params["noise"] if noisy else None,
                          noise_kind=params["noise_kind"], seed=params["seed"],
                          dps=params["dps"])
        with mpmath.workdps(params["dps"]):
            row["theta_used"] = float(st.theta)
        pred = predict(st)
        sim = simulate(st, max_steps=params["max_steps"],
                       full_matrix=params["engine"] == "full-matrix")
    except ValueError as exc:
        row.update(_empty_result())
        row.update(observed="error", status="error", error=" ".join(str(exc).split()))
        return row
    finally:
        mpmath.mp.prec = prec
    viol = _violations(pred, sim)
    hyps = pred.get("hypotheses", [])
    nonempty = sim.get("nonempty")
    observed = ("nonempty" if nonempty else "empty") if nonempty is not None else (
        sim["status"] if sim["status"] in CLASSES else "undecided")
    row.update({
        "step_bound": _float(pred.get("step_bound")),
        "T0_upper": _int_or_none(pred.get("T0_upper")),
        "T1_lower": _int_or_none(pred.get("T1_lower")),
        "T1_lower_infinite": bool(pred.get("T1_lower_infinite", False)),
        "nonempty_predicted": bool(pred.get("nonempty_predicted")),
        "T0_upper_any": _int_or_none(pred.get("T0_upper_any")),
        "T1_lower_any": _int_or_none(pred.get("T1_lower_any")),
        "nonempty_predicted_any": pred.get("nonempty_predicted_any"),
        "critical_noise": _float(pred.get("critical_noise")),
        "hypotheses_hold": all(h["holds"] for h in hyps),
        "hypotheses_failed": "; ".join(h["name"] for h in hyps if not h["holds"]) or None,
        "predicted_margin": _margin(pred),
        "status": sim["status"], "reason": sim.get("reason"),
        "T0": _int_or_none(sim.get("T0")), "T1": _int_or_none(sim.get("T1")),
        "T0_text": None if sim.get("T0") is None else str(sim["T0"]),
        "T1_text": None if sim.get("T1") is None else str(sim["T1"]),
        "nonempty": nonempty, "observed": observed,
        "steps": sim.get("steps"), "diverged": bool(sim.get("diverged")),
        "error_in_interval": _float(sim.get("error_in_interval")),
        "limit_error": _float(sim.get("limit_error")),
        "violates_bound": bool(viol), "violation": "; ".join(viol) or None,
    })
    return row


def _empty_result() -> dict:
    return {k: None for k in ("step_bound", "T0_upper", "T1_lower", "T1_lower_infinite",
                              "nonempty_predicted", "T0_upper_any", "T1_lower_any",
                              "nonempty_predicted_any", "critical_noise", "hypotheses_hold",
                              "hypotheses_failed", "predicted_margin", "status", "reason", "T0",
                              "T1", "T0_text", "T1_text", "nonempty", "observed", "steps",
                              "diverged", "error_in_interval", "limit_error", "violates_bound",
                              "violation")}


# ---------------------------------------------------------------------------------------
# the output: a directory of Parquet parts


class SweepError(ValueError):
    """A sweep that cannot start (the output, the scheduler): one line."""


_MARKER = "_sweep.json"  # the directory's own file: what wrote it and the last spec
_INT64 = 2**63


def _schema():
    import pyarrow as pa

    f64, i64, s, b = pa.float64(), pa.int64(), pa.string(), pa.bool_()
    types = {"id": s, "index": i64, "sweep": s, "params": s}
    for key, p in PARAMS.items():
        types[key] = {"int": pa.uint64() if key == "seed" else i64, "number": f64,
                      "choice": s}[p.kind]
    types.update({
        "eta_used": f64, "theta_used": f64, "spectrum_values": pa.list_(f64), "command": s,
        "error": s, "version": s, "step_bound": f64, "T0_upper": i64, "T1_lower": i64,
        "T0_upper_text": s, "T1_lower_text": s, "T1_lower_infinite": b,
        "nonempty_predicted": b, "T0_upper_any": i64, "T1_lower_any": i64,
        "nonempty_predicted_any": b, "critical_noise": f64, "hypotheses_hold": b,
        "hypotheses_failed": s, "predicted_margin": f64, "status": s, "reason": s, "T0": i64,
        "T1": i64, "T0_text": s, "T1_text": s, "nonempty": b, "observed": s, "steps": i64,
        "diverged": b, "error_in_interval": f64, "limit_error": f64, "violates_bound": b,
        "violation": s})
    return pa.schema(list(types.items()), metadata={"dmf-verify-sweep": SCHEMA_VERSION})


def _parts(out: str) -> list[str]:
    try:
        names = sorted(os.listdir(out))
    except FileNotFoundError:
        return []
    return [os.path.join(out, n) for n in names if n.startswith("part-") and n.endswith(".parquet")]


def check_out_dir(out: str) -> None:
    """--out: a new directory (its parent must exist and be writable), an empty one, or the
    output of an earlier sweep (it holds ``_sweep.json``). SweepError otherwise, before work."""
    if out == "-":
        raise SweepError("--out needs a directory (the rows are Parquet parts), not '-'; --json "
                         "prints the summary on stdout")
    full = os.path.abspath(out)
    if os.path.exists(full) and not os.path.isdir(full):
        raise SweepError(f"cannot write --out {out}: it exists and is not a directory (a sweep "
                         f"output is a directory of Parquet parts)")
    if os.path.isdir(full):
        entries = [e for e in os.listdir(full) if not e.startswith(".")]
        if entries and _MARKER not in entries:
            raise SweepError(f"cannot write --out {out}: the directory is not empty and holds no "
                             f"sweep output ({_MARKER}); give a new or empty directory")
        if not os.access(full, os.W_OK | os.X_OK):
            raise SweepError(f"cannot write --out {out}: directory not writable")
        return
    parent = os.path.dirname(full)
    if not os.path.isdir(parent):
        raise SweepError(f"cannot write --out {out}: no directory {parent}")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise SweepError(f"cannot write --out {out}: directory {parent} is not writable")


def _read_part(path: str, columns=None):
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path, columns=columns)
    except Exception as exc:  # pyarrow raises its own error types
        raise SweepError(f"cannot read {path}: {' '.join(str(exc).split())}") from None
    meta = pq.read_schema(path).metadata or {}
    version = meta.get(b"dmf-verify-sweep", b"?").decode()
    if version != SCHEMA_VERSION:
        raise SweepError(f"{path} was written with sweep schema {version}, this dmf-verify "
                         f"writes {SCHEMA_VERSION}: use another --out")
    return table


def existing_ids(out: str) -> set[str]:
    """The ids of the points already in the output directory."""
    ids: set[str] = set()
    for path in _parts(out):
        ids.update(_read_part(path, ["id"]).column("id").to_pylist())
    return ids


def read_results(out: str, columns=None):
    """Every row of a sweep output directory as a pyarrow Table, sorted by design index
    (the same table whatever the workers, the batches or the interruptions)."""
    import pyarrow as pa

    if not os.path.isdir(out):
        raise SweepError(f"no sweep output at {out}: not a directory")
    parts = _parts(out)
    if not parts:
        return _schema().empty_table() if columns is None else _schema().empty_table().select(columns)
    tables = [_read_part(p, columns) for p in parts]
    table = pa.concat_tables(tables)
    if "index" in table.column_names and "id" in table.column_names:
        table = table.sort_by([("index", "ascending"), ("id", "ascending")])
    return table


class _NoSigint:
    """Defer SIGINT while a part is written (raised as KeyboardInterrupt when the write is
    done), so Ctrl-C never cuts a write and never loses the rows being written. A Python
    handler, not a signal mask: with other threads running (a Dask client's event loop) a
    SIGINT masked in the main thread is delivered to another thread, and Python still raises
    it in the main thread, in the middle of the write. ``ignore=True``: a SIGINT during the
    block is dropped (the save after a Ctrl-C is not cut by a second one)."""

    def __init__(self, *, ignore: bool = False):
        self.ignore = ignore

    def __enter__(self):
        import signal

        self.ok = threading.current_thread() is threading.main_thread()
        self.got = False
        if self.ok:
            self.old = signal.signal(signal.SIGINT, self._defer)
        return self

    def _defer(self, signum, frame):
        self.got = True

    def __exit__(self, exc_type, *exc):
        import signal

        if self.ok:
            signal.signal(signal.SIGINT, self.old)
            if self.got and not self.ignore and exc_type is None and callable(self.old):
                self.old(signal.SIGINT, None)  # Python's default handler: KeyboardInterrupt
        return False


def _write_part(out: str, rows: list[dict]) -> str:
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = sorted(rows, key=lambda r: r["index"])
    name = f"part-{rows[0]['index']:07d}-{rows[0]['id']}.parquet"
    path = os.path.join(out, name)
    tmp = os.path.join(out, f".{name}.tmp")
    table = pa.Table.from_pylist([_fit(r) for r in rows], schema=_schema())
    with _NoSigint():
        try:
            pq.write_table(table, tmp)
            os.replace(tmp, path)
        except OSError as exc:
            raise SweepError(f"cannot write {path}: {exc.strerror or exc}") from None
    return path


def _fit(row: dict) -> dict:
    """A row as the schema holds it: bounds beyond int64 are kept as text only."""
    row = dict(row)
    for key in ("T0_upper", "T1_lower"):
        v = row.get(key)
        row[f"{key}_text"] = None if v is None else str(v)
        if v is not None and abs(v) >= _INT64:
            row[key] = None
    for key in ("T0_upper_any", "T1_lower_any"):
        if row.get(key) is not None and abs(row[key]) >= _INT64:
            row[key] = None
    return row


def _write_marker(out: str, spec: Spec) -> None:
    from verify import __version__

    data = {"format": "dmf-verify sweep", "schema": SCHEMA_VERSION, "version": __version__,
            "spec": spec.as_dict(), "source": spec.source}
    tmp = os.path.join(out, f".{_MARKER}.tmp")
    with _NoSigint():
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=2, sort_keys=True)
        os.replace(tmp, os.path.join(out, _MARKER))


def read_marker(out: str) -> dict:
    try:
        with open(os.path.join(out, _MARKER), encoding="utf-8") as fh:
            return json.load(fh)
    except (OSError, ValueError):
        return {}


# ---------------------------------------------------------------------------------------
# engines: this process, local processes, a Dask cluster


class _Inline:
    """-j 1: every point in this process (a 'future' is its finished row)."""

    name, workers = "this process", 1

    def submit(self, point):
        return _Done(evaluate_point(point))

    def wait(self, pending):
        return set(pending), set()

    def result(self, fut):
        return fut.value

    def done_results(self, pending):
        return [f.value for f in pending]

    def stop(self, pending):
        pass

    def close(self):
        pass


class _Done:
    def __init__(self, value):
        self.value = value


def _worker_init() -> None:
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the main process's to handle


class _Local:
    def __init__(self, jobs: int):
        from concurrent.futures import ProcessPoolExecutor

        self.workers = jobs
        self.name = f"{jobs} local processes"
        self.pool = ProcessPoolExecutor(max_workers=jobs, initializer=_worker_init)

    def submit(self, point):
        return self.pool.submit(evaluate_point, point)

    def wait(self, pending):
        from concurrent.futures import FIRST_COMPLETED, wait

        done, rest = wait(pending, timeout=1.0, return_when=FIRST_COMPLETED)
        return done, rest

    def result(self, fut):
        return fut.result()

    def done_results(self, pending):
        return [f.result() for f in pending
                if f.done() and not f.cancelled() and f.exception() is None]

    def stop(self, pending):
        procs = list((getattr(self.pool, "_processes", None) or {}).values())
        self.pool.shutdown(wait=False, cancel_futures=True)
        for proc in procs:
            if proc.is_alive():
                proc.terminate()
        for proc in procs:
            proc.join(timeout=5)
        self.pool = None

    def close(self):
        if self.pool is not None:
            self.pool.shutdown()


def _worker_versions():
    from verify import __version__

    return {"version": __version__, "schema": SCHEMA_VERSION}


class _Dask:
    def __init__(self, address: str, timeout: float):
        import logging

        try:
            from distributed import Client
        except ImportError as exc:
            raise SweepError(f"--scheduler needs dask.distributed: pip install "
                             f"'dmf-verify[sweep]' ({exc})") from None
        from verify import __version__

        # distributed's and tornado's own log lines (connection retries, and after Ctrl-C a
        # traceback from distributed's sync cancel callback) are not for the user: the sweep
        # reports failures itself, as one line
        self._quiet = [(lg, lg.level) for lg in map(logging.getLogger, ("distributed", "tornado"))]
        for lg, _ in self._quiet:
            lg.setLevel(logging.CRITICAL)
        try:
            self.client = Client(address, timeout=timeout, set_as_default=False)
        except (OSError, TimeoutError, ValueError) as exc:
            self._restore()
            raise SweepError(f"cannot connect to the Dask scheduler at {address}: "
                             f"{' '.join(str(exc).split()) or type(exc).__name__}") from None
        try:
            self.client.wait_for_workers(1, timeout=timeout)
            versions = self.client.run(_worker_versions)
        except Exception as exc:  # a worker without dmf-verify, or no worker at all
            self.close()
            raise SweepError(f"the Dask workers at {address} cannot run the sweep: "
                             f"{type(exc).__name__}: {' '.join(str(exc).split())} (each worker "
                             f"needs dmf-verify {__version__} installed)") from None
        bad = {w: v for w, v in versions.items()
               if v != {"version": __version__, "schema": SCHEMA_VERSION}}
        if bad:
            w, v = next(iter(bad.items()))
            self.close()
            raise SweepError(f"Dask worker {w} runs dmf-verify {v['version']} (sweep schema "
                             f"{v['schema']}), this is {__version__} (schema {SCHEMA_VERSION})")
        import queue

        self.finished = queue.SimpleQueue()  # futures put here by their done callbacks
        self.workers = len(versions)
        self.name = f"Dask scheduler {address} ({self.workers} workers)"

    def _restore(self):
        for lg, level in self._quiet:
            lg.setLevel(level)

    def submit(self, point):
        fut = self.client.submit(evaluate_point, point, key=f"dmf-verify-point-{point['id']}",
                                 pure=False)
        fut.add_done_callback(self.finished.put)
        return fut

    def wait(self, pending):
        """The futures that finished (within about a second), and the others."""
        import queue

        done = set()
        try:
            done.add(self.finished.get(timeout=1.0))
            while True:
                done.add(self.finished.get_nowait())
        except queue.Empty:
            pass
        done &= set(pending)
        return done, set(pending) - done

    def result(self, fut):
        return fut.result()

    def done_results(self, pending):
        return [f.result() for f in pending if f.status == "finished"]

    def stop(self, pending):
        try:
            self.client.cancel(list(pending))
        except Exception:
            pass

    def close(self):
        try:
            self.client.close(timeout=10)
        except Exception:
            pass
        self._restore()


# ---------------------------------------------------------------------------------------
# running


@dataclass
class SweepResult:
    """What one run did: the design's points, those already in the output (skipped), those
    computed now, and a summary of the design's rows in the output after the run."""

    total: int
    skipped: int
    computed: int
    interrupted: bool
    seconds: float
    engine: str
    workers: int
    parts: int = 0
    summary: dict = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.computed / self.seconds if self.seconds > 0 else 0.0


def summarize(rows: list[dict]) -> dict:
    """Counts over output rows: observed classes, predictions, bound violations (with the
    command that re-runs each), refused settings."""
    classes = {c: 0 for c in CLASSES}
    for r in rows:
        classes[r["observed"] if r["observed"] in classes else "undecided"] += 1
    pred = [r for r in rows if r["nonempty_predicted"]]
    viol = [r for r in rows if r["violates_bound"]]
    return {"points": len(rows), "observed": classes,
            "predicted_nonempty": len(pred),
            "predicted_nonempty_observed_empty": sum(r["observed"] == "empty" for r in pred),
            "no_prediction": sum(r["predicted_margin"] is None and r["observed"] != "error"
                                 for r in rows),
            "violations": [{"id": r["id"], "violation": r["violation"], "command": r["command"]}
                           for r in viol],
            "errors": [{"id": r["id"], "error": r["error"]} for r in rows if r["error"]]}


_SUMMARY_COLUMNS = ["id", "observed", "nonempty_predicted", "violates_bound", "violation",
                    "command", "predicted_margin", "error"]


def run_sweep(spec: Spec, out: str, *, jobs: int | None = None, scheduler: str | None = None,
              batch: int = 20, progress=None, flush_seconds: float = 10.0,
              connect_timeout: float = 10.0) -> SweepResult:
    """Evaluate the design's points that are not in ``out`` yet and write them there.

    ``jobs``: local worker processes (1: this process; None: every core), or ``scheduler``:
    the address of a Dask scheduler whose workers evaluate the points. Finished rows are
    written as a Parquet part every ``batch`` points (or ``flush_seconds``), each part
    atomically; Ctrl-C (KeyboardInterrupt) writes the finished rows, stops the workers and
    returns with ``interrupted`` set. ``progress(done, total, label)`` is called as points
    finish."""
    check_out_dir(out)
    if not isinstance(batch, int) or batch < 1:
        raise ValueError(f"batch must be a positive integer, got {batch!r}")
    points = design_points(spec)
    for p in points:
        p["sweep"] = spec.name
    have = existing_ids(out)
    todo = [p for p in points if p["id"] not in have]
    start = time.perf_counter()
    if not todo:  # nothing to compute: no pool, no scheduler contacted
        engine = _Inline()
        engine.name, engine.workers = "nothing to compute", 0
    elif scheduler is not None:
        engine = _Dask(scheduler, connect_timeout)
    else:
        jobs = jobs or os.cpu_count() or 1
        jobs = max(1, min(jobs, len(todo) or 1))
        engine = _Inline() if jobs == 1 else _Local(jobs)
    os.makedirs(out, exist_ok=True)
    for name in os.listdir(out):  # a temporary file left by a killed run
        if name.startswith(".part-") and name.endswith(".tmp"):
            os.remove(os.path.join(out, name))
    _write_marker(out, spec)
    buffer: list[dict] = []
    state = {"computed": 0, "parts": 0, "last": time.perf_counter()}

    def flush():
        if buffer:
            _write_part(out, buffer)
            state["computed"] += len(buffer)
            state["parts"] += 1
            buffer.clear()
        state["last"] = time.perf_counter()

    # in flight: a few points per worker (one in this process, so every batch is written
    # as soon as it is complete)
    window = 1 if isinstance(engine, _Inline) else max(4 * engine.workers, 8)
    pending: set = set()
    interrupted = False
    finished = 0
    total = len(todo)
    if progress is not None:
        progress(0, total, f"sweep 0/{total}")
    try:
        it = iter(todo)
        exhausted = False
        while True:
            while not exhausted and len(pending) < window:
                p = next(it, None)
                if p is None:
                    exhausted = True
                    break
                pending.add(engine.submit(p))
            if not pending:
                break
            done, pending = engine.wait(pending)
            for f in done:
                buffer.append(engine.result(f))
                finished += 1
            if done and progress is not None:
                progress(finished, total, f"sweep {finished}/{total}")
            if len(buffer) >= batch or (buffer and time.perf_counter() - state["last"] >= flush_seconds):
                flush()
        flush()
    except KeyboardInterrupt:
        interrupted = True
        with _NoSigint(ignore=True):  # keep what finished; a second Ctrl-C does not cut it
            try:
                buffer.extend(engine.done_results(pending))
            except Exception:
                pass
            engine.stop(pending)
            flush()
    except Exception:  # a bug in a point: keep what finished, then report it
        engine.stop(pending)
        flush()
        raise
    finally:
        with _NoSigint(ignore=interrupted):
            engine.close()
    seconds = time.perf_counter() - start
    ids = {p["id"] for p in points}
    table = read_results(out, _SUMMARY_COLUMNS)
    rows = [r for r in table.to_pylist() if r["id"] in ids]
    return SweepResult(total=len(points), skipped=len(points) - len(todo),
                       computed=state["computed"], interrupted=interrupted, seconds=seconds,
                       engine=engine.name, workers=engine.workers, parts=state["parts"],
                       summary=summarize(rows))
