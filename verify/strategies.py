"""Hypothesis strategies for admissible instances, drawn from the same specs as `run`.

Named as plurals of what they make. Every strategy builds admissible instances by
construction (eta as a fraction of its bound, levels inside their range); nothing is filtered.

Public API (installed with dmf-verify, for any project's tests; docs/pytest.md):
``instances(ID)`` for every ID of :func:`spec_ids` (the 17 claims' specs: the instance dicts
``dmf-verify check ID --instance`` reads), ``raw_draws(ID)`` (the raw numbers before the
builder), and the building blocks ``depths``, ``unit_fractions``, ``spectra``. An unknown ID
is a ValueError naming the known ones.

>>> from hypothesis import given
>>> @given(instances("R1"))
... def test(inst):
...     assert inst["n"] <= 4
>>> test()
"""

from __future__ import annotations

from hypothesis import strategies as st

from verify.specs import Param, build, spec_for

__all__ = ["spec_ids", "raw_draws", "instances", "depths", "unit_fractions", "spectra"]


def _param(p: Param):
    if p.kind == "int":
        return st.integers(int(p.lo), int(p.hi))
    if p.kind == "float":
        return st.floats(p.lo, p.hi, allow_nan=False, allow_infinity=False)
    if p.kind == "logfloat":
        import math

        return st.floats(math.log(p.lo), math.log(p.hi)).map(math.exp).map(
            lambda v: min(max(v, p.lo), p.hi))
    return st.lists(st.floats(p.lo, p.hi, allow_nan=False), min_size=p.size, max_size=p.size)


def spec_ids() -> tuple:
    """The IDs that have an instance spec (every claim's), in registry order.

    >>> spec_ids()[:4]
    ('R1', 'S1', 'S2', 'S3')
    """
    from verify.specs import SPECS

    return tuple(SPECS)


def raw_draws(claim_id: str):
    """The raw numbers of a claim's spec (what the CLI sampler draws with numpy)."""
    return st.fixed_dictionaries({p.name: _param(p) for p in spec_for(claim_id)})


def instances(claim_id: str):
    """Admissible instances of a claim (the builder applied to raw draws). The strategy
    carries its spec ID as ``dmf_spec`` (verify.inequality.check_inequality reads the
    instances' step size by it); a further ``.map`` or ``.filter`` drops it."""
    s = raw_draws(claim_id).map(lambda raw: build(claim_id, raw))
    s.dmf_spec = claim_id
    return s


def depths(*, min_depth: int = 2, max_depth: int = 6):
    """Depths N."""
    if not 2 <= min_depth <= max_depth:
        raise ValueError(f"need 2 <= min_depth <= max_depth, got {min_depth}, {max_depth}")
    return st.integers(min_depth, max_depth)


def unit_fractions(*, lo: float = 0.05, hi: float = 0.95):
    """Fractions in [lo, hi] of some bound (step sizes, levels)."""
    if not 0 < lo <= hi <= 1:
        raise ValueError(f"need 0 < lo <= hi <= 1, got {lo}, {hi}")
    return st.floats(lo, hi)


def spectra(*, size: int, rank: int | None = None, gap: float = 1.0, top: float = 2.0,
            bottom: float = 0.0):
    """Descending nonnegative spectra of ``size`` values in [bottom, top]; with ``rank`` r,
    ``s_r / s_{r+1} >= 1 + gap`` by construction (the tail is scaled below the head)."""
    if size < 1 or not 0 <= bottom < top:
        raise ValueError(f"need size >= 1 and 0 <= bottom < top, got {size}, {bottom}, {top}")
    if rank is not None and not 1 <= rank < size:
        raise ValueError(f"rank must be in 1..size-1, got {rank}")
    if gap < 0:
        raise ValueError(f"gap must be >= 0, got {gap}")
    vals = st.lists(st.floats(0.0, 1.0), min_size=size, max_size=size).map(
        lambda us: sorted((bottom + (top - bottom) * u for u in us), reverse=True))
    if rank is None:
        return vals

    def split(s):
        head, tail = s[:rank], s[rank:]
        lo = max(head[-1], bottom + (top - bottom) * 1e-3)
        head = [max(v, lo) for v in head]
        tail = [min(v, lo / (1 + gap)) for v in tail]
        return head + tail

    return vals.map(split)
