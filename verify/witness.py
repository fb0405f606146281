"""Tightness witnesses and audit invariants: what makes a loosened bound visible.

Each bound of the registry declares how tight it is known to be (``bounds.Tightness``: a
floor in (0, 1] and where it is attained). :func:`search_witness` looks for an instance that
attains the floor: first among the outcomes `run` already has, then along the declared walk
toward the tight corner (``verify.specs.WITNESSES``: e.g. eta -> 0 in steps of ten), stopping
at the first instance that reaches it. A bound made 2 % weaker lowers every value by 2 %, so
the search stays below its floor and the claim is reported ``LOOSE``.

:func:`audit` turns impossible values into failures: a tightness above 1 on a decided
outcome (an upper bound exceeded although the verdict says PASS, e* above the observed
critical noise), and N/A outcomes from a builder that promises admissible instances.

>>> from verify.checks import check
>>> t = next(t for t in __import__("bounds").get_claim("K2").tightness)
>>> r = search_witness("K2", t)
>>> r.reached, r.best >= 0.99, r.tried <= 6
(True, True, True)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

__all__ = ["LOOSE", "WitnessResult", "tightness_value", "search_witness", "witnesses", "audit"]

LOOSE = "LOOSE"


@dataclass(frozen=True)
class WitnessResult:
    """How far a witness search got: the best tightness value seen (None: no instance gave
    one), the instance that gave it, how many more walk instances were run, and whether the
    declared floor was reached."""

    claim: str
    key: str
    bound: str
    floor: float
    best: float | None
    instance: dict | None
    tried: int
    reached: bool
    attained: str

    def as_dict(self) -> dict:
        return {"claim": self.claim, "key": self.key, "bound": self.bound, "floor": self.floor,
                "best": self.best, "instance": self.instance, "tried": self.tried,
                "reached": self.reached, "attained": self.attained}


def tightness_value(t, outcome) -> float | None:
    """The outcome's value for the tightness ``t`` in (0, 1] (None when it has none or the
    outcome is not a decided PASS/FAIL)."""
    from verify.checks import FAIL, PASS

    if outcome.verdict not in (PASS, FAIL):
        return None
    x = outcome.ratio if t.key == "ratio" else outcome.extra_ratios.get(t.key)
    if x is None or not math.isfinite(x) or x <= 0:
        return None
    return t.value(x)


def search_witness(claim_id: str, t, *, outcomes: Sequence = (), dps: int = 50,
                   max_dps: int = 250) -> WitnessResult:
    """Search for an instance where the tightness ``t`` of ``claim_id`` reaches its floor:
    the given outcomes first, then the declared walk toward the tight corner, in order."""
    from verify.checks import check
    from verify.specs import WITNESSES

    if t.floor is None:
        raise ValueError(f"{claim_id} {t.key}: an audit-only tightness has no witness")
    best, where, tried = None, None, 0
    for o in outcomes:
        v = tightness_value(t, o)
        if v is not None and (best is None or v > best):
            best, where = v, dict(o.instance)
    seen = [dict(o.instance) for o in outcomes]  # `run` checks the walks among its corners
    for inst in WITNESSES.get((claim_id, t.key), ()):
        if best is not None and best >= t.floor:
            break
        if inst in seen:
            continue
        tried += 1
        v = tightness_value(t, check(claim_id, inst, dps=dps, max_dps=max_dps))
        if v is not None and (best is None or v > best):
            best, where = v, dict(inst)
    return WitnessResult(claim_id, t.key, t.bound, t.floor, best, where, tried,
                         best is not None and best >= t.floor, t.attained)


def witnesses(claim_id: str, outcomes: Sequence = (), *, dps: int = 50,
              max_dps: int = 250) -> tuple[WitnessResult, ...]:
    """The witness searches of every tightness of the claim that has a floor."""
    from bounds import get_claim

    return tuple(search_witness(claim_id, t, outcomes=outcomes, dps=dps, max_dps=max_dps)
                 for t in get_claim(claim_id).tightness if t.floor is not None)


def audit(claim_id: str, outcomes: Sequence, corners: Sequence = ()) -> tuple[str, ...]:
    """Impossible values among the outcomes, as messages (empty: none). ``outcomes``: of the
    sampled instances; ``corners``: (Corner, Outcome) pairs of the claim's hard corners (a
    corner expected N/A must be N/A: its hypothesis fails exactly; one expected decided
    must not be, and must carry the tightness keys it ``reports`` and none it ``omits``)."""
    from bounds import get_claim
    from verify.checks import FAIL, NOT_APPLICABLE, PASS
    from verify.specs import SPECS

    msgs = []
    for c, o in corners:
        if c.expect == "na" and o.verdict != NOT_APPLICABLE:
            msgs.append(f"corner '{c.why}' breaks a hypothesis exactly, yet the check gave "
                        f"{o.verdict}: a hypothesis evaluator admits it ({dict(o.instance)})")
        if c.expect == "decided" and o.verdict in (PASS, FAIL):
            missing = [k for k in c.reports if k not in o.extra_ratios]
            extra = [k for k in c.omits if k in o.extra_ratios]
            if missing:
                msgs.append(f"corner '{c.why}' must report {', '.join(missing)} (the hypotheses "
                            f"of that part hold there), yet it does not: a step limit or "
                            f"hypothesis evaluator moved it out ({o.note or dict(o.instance)})")
            if extra:
                msgs.append(f"corner '{c.why}' breaks the hypotheses behind {', '.join(extra)}, "
                            f"yet the check reports it: a hypothesis evaluator admits it "
                            f"({dict(o.instance)})")
    outcomes = list(outcomes) + [o for c, o in corners if c.expect == "decided"]
    for t in get_claim(claim_id).tightness:
        for o in outcomes:
            x = o.ratio if t.key == "ratio" else o.extra_ratios.get(t.key)
            if o.verdict in (PASS, FAIL) and x is not None and math.isfinite(x) and x > 0 \
                    and t.impossible(x):
                msgs.append(f"impossible {t.key} = {x:.6g} (tightness {t.value(x):.6g} > 1) "
                            f"on a decided instance: {dict(o.instance)}")
    spec = SPECS.get(claim_id)
    if spec is not None and not spec.may_be_na:
        na = [o for o in outcomes if o.verdict == NOT_APPLICABLE]
        if na:
            msgs.append(f"builder defect: {len(na)} of {len(outcomes)} instances N/A although "
                        f"the builder promises admissible ones ({na[0].note})")
    return tuple(msgs)
