"""Summaries of check outcomes: per-claim rows, the text table, JSON and Markdown reports."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Sequence

from verify.checks import FAIL, NOT_APPLICABLE, PASS, UNDECIDED, Outcome

__all__ = ["ClaimSummary", "summarize", "tightness", "render_table", "render_markdown", "to_json"]


@dataclass(frozen=True)
class ClaimSummary:
    """What `run` reports for one claim."""

    id: str
    name: str
    instances: int
    passed: int
    failed: int
    undecided: int
    not_applicable: int
    min_slack: float | None
    worst_instance: dict | None
    dps: int
    seed: int
    tightness: dict | None = None

    @property
    def status(self) -> str:
        if self.failed:
            return FAIL
        if self.undecided:
            return UNDECIDED
        return PASS if self.passed else NOT_APPLICABLE


def _spread(values) -> dict | None:
    ratios = sorted(v for v in values if v is not None and math.isfinite(v))
    if not ratios:
        return None
    m = len(ratios)
    median = ratios[m // 2] if m % 2 else (ratios[m // 2 - 1] + ratios[m // 2]) / 2
    return {"min": ratios[0], "median": median, "max": ratios[-1], "count": m}


def tightness(outcomes: Sequence[Outcome]) -> dict | None:
    """min / median / max of observed/predicted over the decided outcomes that have one;
    named extra ratios (e.g. "T1/LB1") under "extra"."""
    decided = [o for o in outcomes if o.verdict in (PASS, FAIL)]
    main = _spread(o.ratio for o in decided)
    names = sorted({k for o in decided for k in o.extra_ratios})
    extra = {k: _spread(o.extra_ratios.get(k) for o in decided) for k in names}
    extra = {k: v for k, v in extra.items() if v}
    if main is None and not extra:
        return None
    out = dict(main or {})
    if extra:
        out["extra"] = extra
    return out


def summarize(claim_id: str, name: str, outcomes: Sequence[Outcome], *, dps: int,
              seed: int) -> ClaimSummary:
    """Aggregate outcomes; the worst instance is the failing one with least slack, else the
    decided one with least slack."""
    count = {v: sum(o.verdict == v for o in outcomes) for v in (PASS, FAIL, UNDECIDED, NOT_APPLICABLE)}
    decided = [o for o in outcomes if o.slack is not None and o.verdict != NOT_APPLICABLE]
    worst = min(decided, key=lambda o: (o.verdict != FAIL, o.slack), default=None)
    return ClaimSummary(
        id=claim_id, name=name, instances=len(outcomes), passed=count[PASS],
        failed=count[FAIL], undecided=count[UNDECIDED], not_applicable=count[NOT_APPLICABLE],
        min_slack=None if worst is None else worst.slack,
        worst_instance=None if worst is None else dict(worst.instance),
        dps=max((o.dps for o in outcomes), default=dps), seed=seed,
        tightness=tightness(outcomes),
    )


def _fmt_slack(x: float | None) -> str:
    if x is None:
        return "-"
    if math.isinf(x):
        return "inf"
    return f"{x:.3g}"


def _fmt_tight(t: dict | None) -> str:
    if not t or "min" not in t:
        return "-"
    return f"{t['min']:.3g}/{t['median']:.3g}/{t['max']:.3g}"


def _fmt_extra(t: dict | None) -> str:
    extra = (t or {}).get("extra", {})
    return "; ".join(f"{k}: {_fmt_tight(v)}" for k, v in extra.items()) or "-"


def render_table(rows: Sequence[ClaimSummary]) -> str:
    """A plain-text table: ID, name, instances, PASS/FAIL/UNDECIDED/N/A, worst slack,
    tightness (observed/predicted min/median/max)."""
    head = ("ID", "name", "inst", "pass", "fail", "undec", "n/a", "worst slack", "tightness", "status")
    body = [
        (r.id, r.name, str(r.instances), str(r.passed), str(r.failed), str(r.undecided),
         str(r.not_applicable), _fmt_slack(r.min_slack), _fmt_tight(r.tightness), r.status)
        for r in rows
    ]
    widths = [max(len(h), *(len(b[i]) for b in body)) if body else len(h) for i, h in enumerate(head)]
    line = lambda cells: "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()
    out = [line(head), line(["-" * w for w in widths])]
    out += [line(b) for b in body]
    return "\n".join(out)


def render_markdown(rows: Sequence[ClaimSummary], *, header: str = "") -> str:
    cols = ["ID", "name", "instances", "PASS", "FAIL", "UNDECIDED", "N/A", "worst slack",
            "tightness (min/median/max)", "other ratios (min/median/max)", "status"]
    out = [header, ""] if header else []
    out.append("| " + " | ".join(cols) + " |")
    out.append("|" + "---|" * len(cols))
    for r in rows:
        out.append("| " + " | ".join([r.id, f"`{r.name}`", str(r.instances), str(r.passed),
                                      str(r.failed), str(r.undecided), str(r.not_applicable),
                                      _fmt_slack(r.min_slack), _fmt_tight(r.tightness),
                                      _fmt_extra(r.tightness), r.status]) + " |")
    return "\n".join(out) + "\n"


def _jsonable(x):
    if isinstance(x, float) and not math.isfinite(x):
        return str(x)
    if isinstance(x, dict):
        return {k: _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    return x


def to_json(rows: Sequence[ClaimSummary], *, meta: dict) -> str:
    """The JSON report: meta (profile, seed, dps, versions) and one object per claim."""
    claims = [
        {
            "id": r.id, "name": r.name, "instances": r.instances, "passed": r.passed,
            "failed": r.failed, "undecided": r.undecided, "not_applicable": r.not_applicable,
            "min_slack": r.min_slack, "worst_instance": r.worst_instance, "dps": r.dps,
            "seed": r.seed, "tightness": r.tightness, "status": r.status,
        }
        for r in rows
    ]
    return json.dumps(_jsonable({"meta": meta, "claims": claims}), indent=2)
