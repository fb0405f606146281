"""Instance specs of every claim: raw numbers and the builders that make admissible
instances from them, one module per family (mirroring bounds/ and verify/checks/).

The registry is complete on import of this package (each family module exports a frozen
``SPECS`` table; nothing registers itself as an import side effect), so
``verify.strategies`` and ``verify.sampling`` see every claim whichever is imported first.

>>> sorted(SPECS) == sorted(__import__("bounds").claim_ids())
True
>>> inst = build("R1", {"n": 2, "depth": 3, "spectrum": [0.5, 1.5, 0.1, 0.2, 0.3],
...                     "seed": 7, "noise": 0.1, "alpha": 0.5, "eta_fraction": 0.5, "steps": 10})
>>> inst["n"], inst["spectrum"], inst["steps"]
(2, [0.5, 1.5], 10)
"""

from __future__ import annotations

import functools
from types import MappingProxyType
from typing import Mapping

from verify.specs import flow, lowrank, momentum, perturbed, reduction
from verify.specs.params import Corner, Param, Spec

__all__ = [
    # registry
    "SPECS",
    "WITNESSES",
    "corners",
    "spec_for",
    "build",
    # types
    "Param",
    "Spec",
    "Corner",
]

SPECS: Mapping[str, Spec] = MappingProxyType(
    {**reduction.SPECS, **flow.SPECS, **lowrank.SPECS, **perturbed.SPECS,
     **momentum.SPECS})

#: (claim ID, tightness key) -> instances walking toward the corner where the bound is
#: attained (the floors are declared with the bounds, bounds.Claim.tightness)
WITNESSES: Mapping[tuple[str, str], tuple[dict, ...]] = MappingProxyType(
    {**reduction.WITNESSES, **flow.WITNESSES, **lowrank.WITNESSES, **perturbed.WITNESSES,
     **momentum.WITNESSES})


def corners(claim_id: str) -> tuple:
    """The hard corners of a claim (verify.specs.params.Corner), checked by `run` in every
    profile: the family's declared corners, then its witness walks (admissible instances
    where the bounds are nearly attained, so a bound tightened by 2 % fails there)."""
    if claim_id not in SPECS:
        raise ValueError(f"no instance spec for claim {claim_id!r}; known: {', '.join(SPECS)}")
    return _corner_table().get(claim_id, ())


@functools.cache
def _corner_table() -> dict:
    """Built on first use (one corner simulates 1000 steps to place a level), then kept."""
    table: dict[str, list] = {}
    for fam in (reduction, flow, lowrank, perturbed, momentum):
        for cid, cs in fam.corners().items():
            table.setdefault(cid, []).extend(cs)
    for (cid, key), insts in WITNESSES.items():
        for inst in insts:
            if all(c.instance != inst for c in table.get(cid, ())):
                table.setdefault(cid, []).append(Corner(inst, "decided", f"witness walk of {key}"))
    return {cid: tuple(cs) for cid, cs in table.items()}


def spec_for(claim_id: str) -> tuple[Param, ...]:
    """The raw-number parameters of a claim's spec (ValueError naming an unknown claim)."""
    if claim_id not in SPECS:
        raise ValueError(f"no instance spec for claim {claim_id!r}; known: {', '.join(SPECS)}")
    return SPECS[claim_id].params


def build(claim_id: str, raw: Mapping[str, object]) -> dict:
    """The admissible instance of ``claim_id`` made from the raw numbers ``raw``."""
    spec = spec_for(claim_id)
    missing = [p.name for p in spec if p.name not in raw]
    if missing:
        raise ValueError(f"raw draw for {claim_id} lacks {', '.join(missing)}")
    return SPECS[claim_id].builder(**{p.name: raw[p.name] for p in spec})
