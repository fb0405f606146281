"""Certified verdicts at volume: thousands of instances per claim, each verdict a proof.

For the claims listed in :data:`VOLUME`, `dmf-verify run` checks, besides its sampled
instances and hard corners, a batch of ``count`` instances per claim drawn with numpy
(vectorized builders with float64 flow times, :mod:`verify.fasttau`), simulated all at once
by the float64 screen (:mod:`verify.screen`, outward-rounded enclosures) and decided against
arb enclosures of the bounds (:func:`verify.certified.certified_tau`, ``certified_rho``).
A lane the screen cannot decide goes to :func:`verify.certified.certified_lane` at 128, then
256 and 512 bits; a bound that straddles the observed value is re-enclosed at higher
precision. A verdict is ``certified`` when every number that decided it was enclosed: the
instance's inputs are exact binary numbers (floats) and eta = eta_fraction / (N t^A) enters
as the ball that contains that real number. Whatever no enclosure decides is UNDECIDED,
never PASS.

Batches are cut into chunks of :data:`CHUNK` instances; chunk ``c`` of claim ``cid`` draws
from ``numpy.random.default_rng([seed, claim index, c])``, so the instances, and the report,
are the same for any number of worker processes (``jobs``).

>>> r = run_volume("K2", 20, seed=0)
>>> (r.count, r.counts["PASS"], r.certified)
(20, 20, 20)
"""

from __future__ import annotations

import math
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from types import MappingProxyType
from typing import Mapping

import numpy as np

from verify.volume import flow, lowrank, momentum, perturbed, reduction
from verify.volume.common import Decision, VolumeSpec

__all__ = [
    # registry
    "VOLUME",
    "VolumeSpec",
    "volume_claims",
    # results
    "Decision",
    "VolumeResult",
    # running
    "run_volume",
    "CHUNK",
    "VOLUME_PROFILES",
]

# one chunk per 1000 instances: the screen's cost per step is mostly numpy's fixed overhead,
# so bigger batches are cheaper per lane
CHUNK = 1000
# instances per claim in the volume stage of `dmf-verify run`
VOLUME_PROFILES = {"quick": 100, "default": 1000, "thorough": 10000}


@dataclass(frozen=True)
class VolumeResult:
    claim: str
    count: int
    counts: Mapping[str, int]
    certified: int
    methods: Mapping[str, int]
    worst_slack: float | None
    best_tightness: float | None
    failures: tuple = ()      # (instance id, instance, decision) for FAIL
    undecided: tuple = ()     # the same for UNDECIDED
    seconds: float = 0.0
    seed: int = 0

    @property
    def decided(self) -> int:
        return self.counts.get("PASS", 0) + self.counts.get("FAIL", 0)

    @property
    def status(self) -> str:
        if self.counts.get("FAIL", 0):
            return "FAIL"
        if self.counts.get("UNDECIDED", 0):
            return "UNDECIDED"
        return "PASS" if self.decided else "N/A"

    def as_dict(self) -> dict:
        def rec(item):
            iid, inst, d = item
            return {"id": iid, "instance": dict(inst), "verdict": d.verdict,
                    "certified": d.certified, "note": d.note}

        return {"claim": self.claim, "count": self.count, "counts": dict(self.counts),
                "certified": self.certified, "decided": self.decided,
                "methods": dict(self.methods), "worst_slack": self.worst_slack,
                "best_tightness": self.best_tightness, "status": self.status,
                "failures": [rec(x) for x in self.failures],
                "undecided": [rec(x) for x in self.undecided]}


def _registry() -> Mapping[str, VolumeSpec]:
    table = {}
    for fam in (reduction, flow, lowrank, perturbed, momentum):
        table.update(fam.VOLUME)
    return MappingProxyType(table)


VOLUME: Mapping[str, VolumeSpec] = _registry()


def volume_claims() -> tuple[str, ...]:
    """The claims with a certified volume stage, in THEORY.md order."""
    from bounds import claim_ids

    return tuple(c for c in claim_ids() if c in VOLUME)


def _chunk(args):
    """Draw and decide one chunk (a process-pool task: plain arguments, plain results)."""
    cid, seed, chunk, size = args
    from bounds import claim_ids

    rng = np.random.default_rng([seed, list(claim_ids()).index(cid), chunk])
    spec = VOLUME[cid]
    insts = spec.draw(rng, size)
    return [(f"{cid}-{chunk}-{i}", inst, d) for i, (inst, d) in enumerate(zip(insts, spec.decide(insts)))]


def run_volume(cid: str, count: int, *, seed: int = 0, jobs: int = 1,
               pool: ProcessPoolExecutor | None = None) -> VolumeResult:
    """Draw ``count`` instances of claim ``cid`` and decide them (see the module docstring).
    ``jobs`` > 1 runs the chunks in that many processes (or in ``pool``)."""
    if cid not in VOLUME:
        raise ValueError(f"claim {cid!r} has no volume stage; those with one: {', '.join(VOLUME)}")
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise ValueError(f"count must be a nonnegative integer, got {count!r}")
    t0 = time.perf_counter()
    tasks = [(cid, seed, c, min(CHUNK, count - c * CHUNK)) for c in range(math.ceil(count / CHUNK))]
    if pool is not None:
        parts = list(pool.map(_chunk, tasks))
    elif jobs > 1 and len(tasks) > 1:
        with ProcessPoolExecutor(max_workers=jobs) as ex:
            parts = list(ex.map(_chunk, tasks))
    else:
        parts = [_chunk(t) for t in tasks]
    items = [x for part in parts for x in part]
    return summarize_volume(cid, items, seconds=time.perf_counter() - t0, seed=seed)


def summarize_volume(cid: str, items, *, seconds: float = 0.0, seed: int = 0) -> VolumeResult:
    """Counts and extremes of a claim's decided volume items. ``best_tightness`` is the best
    tightness value in (0, 1] of the claim's ``VolumeSpec.tightness`` (bounds.Tightness:
    observed/bound for an upper bound, bound/observed for a lower one); a value above 1 on a
    PASS is impossible and turns that item into a FAIL (as :func:`verify.witness.audit`)."""
    from bounds import get_claim

    key = VOLUME[cid].tightness
    tight = next((t for t in get_claim(cid).tightness if t.key == key), None)
    counts = {"PASS": 0, "FAIL": 0, "N/A": 0, "UNDECIDED": 0}
    methods: dict[str, int] = {}
    certified, slacks, values, checked = 0, [], [], []
    for iid, inst, d in items:
        if d.verdict == "PASS" and tight is not None and d.ratio is not None \
                and math.isfinite(d.ratio) and d.ratio > 0 and tight.impossible(d.ratio):
            d = Decision("FAIL", d.certified, d.slack, d.ratio, method=d.method,
                         note=f"impossible {key} = {d.ratio:.12g} on a PASS (tightness above 1)")
        checked.append((iid, inst, d))
        counts[d.verdict] = counts.get(d.verdict, 0) + 1
        methods[d.method] = methods.get(d.method, 0) + 1
        if d.verdict in ("PASS", "FAIL"):
            certified += bool(d.certified)
            if d.slack is not None and math.isfinite(d.slack):
                slacks.append(d.slack)
            if tight is not None and d.ratio is not None and math.isfinite(d.ratio) and d.ratio > 0:
                values.append(tight.value(d.ratio))
    return VolumeResult(
        cid, len(checked), MappingProxyType(counts), certified,
        MappingProxyType(dict(sorted(methods.items()))),
        min(slacks) if slacks else None, max(values) if values else None,
        tuple(x for x in checked if x[2].verdict == "FAIL"),
        tuple(x for x in checked if x[2].verdict == "UNDECIDED"), round(seconds, 3), seed)
