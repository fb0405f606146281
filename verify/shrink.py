"""Counterexamples a person can use: shrinking a failing instance, and the command that re-runs it.

:func:`shrink` is a deterministic greedy search for a simpler instance on which a claim still
fails: ``depth`` first (toward 2), then every other field in sorted order, integers toward
their smallest value, floats toward round numbers (the same value to 1, 2, 3, ... significant
digits, fewest first), lists element by element. A candidate is kept when it still fails;
passes repeat until one changes nothing or ``max_tries`` predicate calls are spent.

>>> shrink("X", {"depth": 5, "alpha": 0.56789}, still_fails=lambda i: i["alpha"] > 0.1234)
{'depth': 2, 'alpha': 0.6}

:func:`repro_command` is the ``dmf-verify check`` command line of one instance, ready to paste
into a shell; its JSON (:func:`instance_arg`) has sorted keys and floats written with
``repr``, so they round-trip exactly.

>>> print(repro_command("K2", {"t": 1.0, "depth": 3, "alpha": 0.05}, dps=50))
dmf-verify check K2 --instance '{"alpha": 0.05, "depth": 3, "t": 1.0}' --dps 50
"""

from __future__ import annotations

import copy
import json
import math
import shlex
from decimal import Decimal
from typing import Callable, Mapping, Sequence

__all__ = [
    "shrink",
    "sig_digits",
    "round_sig",
    "simpler_values",
    "instance_arg",
    "repro_command",
    "counterexamples",
    "SHRINK_FIRST",
]

# at most this many FAILs per claim are shrunk by `dmf-verify run`
SHRINK_FIRST = 3


# ---------------------------------------------------------------------------------------
# simpler values


def sig_digits(x: float) -> int:
    """Significant digits of a finite float as Python writes it (``repr``).

    >>> sig_digits(0.56789), sig_digits(0.5), sig_digits(1500.0), sig_digits(1e-05), sig_digits(0.0)
    (5, 1, 2, 1, 1)
    """
    if not math.isfinite(x):
        raise ValueError(f"significant digits need a finite number, got {x!r}")
    if x == 0:
        return 1
    return len(Decimal(repr(float(x))).normalize().as_tuple().digits)


def round_sig(x: float, digits: int) -> float:
    """``x`` rounded to ``digits`` significant digits (a float whose ``repr`` has at most that many).

    >>> round_sig(0.56789, 1), round_sig(0.56789, 2), round_sig(1234.5, 2), round_sig(-0.00456, 1)
    (0.6, 0.57, 1200.0, -0.005)
    """
    if isinstance(digits, bool) or not isinstance(digits, int) or digits < 1:
        raise ValueError(f"digits must be an integer >= 1, got {digits!r}")
    if not math.isfinite(x):
        raise ValueError(f"rounding needs a finite number, got {x!r}")
    return float(f"{float(x):.{digits - 1}e}")


def _simpler_ints(v: int, floor: int) -> list[int]:
    """Integers from ``floor`` toward ``v`` (exclusive), smallest first: floor, floor+1,
    floor+2, then the points halfway, a quarter, ... of the way back from v, and v-1."""
    if v <= floor:
        return []
    out = {floor, floor + 1, floor + 2, v - 1}
    gap = v - floor
    while gap > 1:
        gap //= 2
        out.add(v - gap)
    return sorted(c for c in out if floor <= c < v)


def simpler_values(key: str, value) -> list:
    """The candidates that replace a scalar field's ``value``, simplest first (empty: none).

    ``depth`` goes toward 2, other integers toward 0 (negative ones toward 0 from below),
    floats to fewer significant digits; booleans, strings and non-finite floats stay.

    >>> simpler_values("depth", 5), simpler_values("steps", 9)
    ([2, 3, 4], [0, 1, 2, 5, 7, 8])
    >>> simpler_values("alpha", 0.0512), simpler_values("alpha", 0.05), simpler_values("kind", "worst")
    ([0.05, 0.051], [], [])
    """
    if isinstance(value, bool):
        return []
    if isinstance(value, int):
        if key == "depth":
            return _simpler_ints(value, 2)
        if value < 0:
            return [-c for c in _simpler_ints(-value, 0)]
        return _simpler_ints(value, 0)
    if isinstance(value, float) and math.isfinite(value):
        out = []
        for k in range(1, sig_digits(value)):
            c = round_sig(value, k)
            if c != value and c not in out:
                out.append(c)
        return out
    return []


# ---------------------------------------------------------------------------------------
# the greedy search


def _fields(inst: Mapping[str, object]) -> list[tuple]:
    """Paths of the shrinkable scalars, in a fixed order: depth, then the keys sorted, lists
    elementwise."""
    keys = sorted(inst, key=lambda k: (k != "depth", str(k)))
    paths: list[tuple] = []
    for k in keys:
        v = inst[k]
        if isinstance(v, list):
            paths.extend((k, i) for i in range(len(v)))
        else:
            paths.append((k,))
    return paths


def _get(inst, path):
    v = inst[path[0]]
    return v if len(path) == 1 else v[path[1]]


def _with(inst: dict, path: tuple, value) -> dict:
    cand = copy.deepcopy(inst)
    if len(path) == 1:
        cand[path[0]] = value
    else:
        cand[path[0]][path[1]] = value
    return cand


def _default_predicate(claim_id: str, dps: int, max_dps: int) -> Callable[[dict], bool]:
    from verify.checks import CHECKS, FAIL

    if claim_id not in CHECKS:
        raise ValueError(f"no check for claim {claim_id!r}; known: {', '.join(CHECKS)}")

    def still_fails(candidate: dict) -> bool:
        from verify.checks import check  # looked up at call time

        return check(claim_id, candidate, dps=dps, max_dps=max_dps).verdict == FAIL

    return still_fails


def shrink(claim_id: str, instance: Mapping[str, object], *,
           still_fails: Callable[[dict], bool] | None = None, max_tries: int = 200,
           dps: int = 50, max_dps: int = 250) -> dict:
    """A simpler instance on which ``still_fails`` still holds (a new dict; the input is kept).

    ``instance`` is taken to fail already (it is not re-checked). ``still_fails(candidate)``
    decides whether a candidate is kept; by default it is
    ``check(claim_id, candidate, dps=dps, max_dps=max_dps).verdict == "FAIL"``. A ValueError
    from it (a field the check rejects) rejects the candidate. At most ``max_tries`` calls are
    made. The result is a deterministic function of the input and the predicate.

    >>> shrink("X", {"depth": 4, "t": 1.2345, "seed": 77}, still_fails=lambda i: i["t"] > 1.2)
    {'depth': 2, 't': 1.23, 'seed': 0}
    >>> shrink("X", {"alpha": 0.56789}, still_fails=lambda i: True, max_tries=0)
    {'alpha': 0.56789}
    """
    if isinstance(max_tries, bool) or not isinstance(max_tries, int) or max_tries < 0:
        raise ValueError(f"max_tries must be an integer >= 0, got {max_tries!r}")
    if not isinstance(instance, Mapping):
        raise ValueError(f"instance must be a mapping, got {type(instance).__name__}")
    if still_fails is None:
        still_fails = _default_predicate(claim_id, dps, max_dps)
    current = copy.deepcopy(dict(instance))
    tries = 0
    changed = True
    while changed and tries < max_tries:
        changed = False
        for path in _fields(current):
            for value in simpler_values(str(path[0]), _get(current, path)):
                if tries >= max_tries:
                    return current
                cand = _with(current, path, value)
                tries += 1
                try:
                    ok = bool(still_fails(copy.deepcopy(cand)))
                except ValueError:
                    ok = False
                if ok:
                    current, changed = cand, True
                    break
    return current


# ---------------------------------------------------------------------------------------
# the command that re-runs an instance


def _reject(obj):
    raise ValueError(f"instance value {obj!r} ({type(obj).__name__}) has no JSON form")


def instance_arg(instance: Mapping[str, object]) -> str:
    """The instance as one line of JSON: sorted keys, floats as ``repr`` (exact round trip).

    >>> x = 0.1 + 0.2
    >>> s = instance_arg({"b": [x, 2], "a": "0.05"}); s
    '{"a": "0.05", "b": [0.30000000000000004, 2]}'
    >>> json.loads(s)["b"][0] == x
    True
    """
    return json.dumps(dict(instance), sort_keys=True, default=_reject)


def repro_command(claim_id: str, instance: Mapping[str, object], *, dps: int | None = None,
                  max_dps: int | None = None) -> str:
    """``dmf-verify check ID --instance '...' [--dps D] [--max-dps M]``, shell-quoted."""
    parts = ["dmf-verify", "check", claim_id, "--instance", instance_arg(instance)]
    if dps is not None:
        parts += ["--dps", str(dps)]
    if max_dps is not None:
        parts += ["--max-dps", str(max_dps)]
    return shlex.join(parts)


def counterexamples(claim_id: str, outcomes: Sequence, *, dps: int = 50, max_dps: int = 250,
                    shrink_first: int = SHRINK_FIRST, max_tries: int = 200) -> list[dict]:
    """One record per outcome that is neither PASS nor N/A (FAIL, UNDECIDED, ...): its
    verdict, slack, dps, instance and repro ``command``; the first ``shrink_first`` FAILs also
    get ``shrunk`` (the shrunk instance re-checked: instance, slack, dps, command), or None
    when nothing simpler fails. Records are JSON-able.

    An UNDECIDED record's command pins ``--max-dps`` to the digits it stopped at.
    """
    from verify.checks import FAIL, NOT_APPLICABLE, PASS, UNDECIDED, check

    records, shrunk_count = [], 0
    for o in outcomes:
        if o.verdict in (PASS, NOT_APPLICABLE):
            continue
        inst = dict(o.instance)
        rec = {"verdict": o.verdict, "slack": o.slack, "dps": o.dps, "instance": inst,
               "command": repro_command(claim_id, inst, dps=o.dps,
                                        max_dps=o.dps if o.verdict == UNDECIDED else None),
               "shrunk": None}
        if o.verdict == FAIL and shrunk_count < shrink_first:
            shrunk_count += 1
            small = shrink(claim_id, inst, max_tries=max_tries, dps=dps, max_dps=max_dps)
            if small != inst:
                again = check(claim_id, small, dps=dps, max_dps=max_dps)
                if again.verdict == FAIL:
                    rec["shrunk"] = {"instance": small, "slack": again.slack, "dps": again.dps,
                                     "command": repro_command(claim_id, small, dps=again.dps)}
        records.append(rec)
    return records
