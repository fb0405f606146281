"""Summaries of check outcomes: per-claim rows, the text table, JSON and Markdown reports."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Sequence

from verify.checks import FAIL, NOT_APPLICABLE, PASS, UNDECIDED, Outcome
from verify.witness import LOOSE

__all__ = ["ClaimSummary", "summarize", "tightness", "render_table", "render_markdown",
           "render_counterexamples", "render_witnesses", "render_volume", "render_certified_share",
           "to_json", "to_junit", "JUNIT_KIND"]


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
    # one record per FAIL / UNDECIDED outcome, with its repro command (verify.shrink.counterexamples)
    counterexamples: tuple = ()
    # tightness witness searches (verify.witness.WitnessResult) and audit failures (messages)
    witnesses: tuple = ()
    audit: tuple = ()
    # how many of the instances are the claim's hard corners (verify.specs.corners)
    corners: int = 0
    # the certified volume stage (verify.volume.VolumeResult.as_dict()), None if none
    volume: dict | None = None
    # decided outcomes (of ``instances``) whose verdict the certified engine proved
    certified: int = 0

    @property
    def decided(self) -> int:
        return self.passed + self.failed

    @property
    def certified_share(self) -> tuple[int, int]:
        """(certified, decided) over the checked instances and the volume stage together."""
        v = self.volume or {}
        return self.certified + v.get("certified", 0), self.decided + v.get("decided", 0)

    @property
    def loose(self) -> bool:
        """Some declared tightness floor was not reached by its witness search."""
        return any(not w.reached for w in self.witnesses)

    @property
    def status(self) -> str:
        """FAIL (a failed instance or an impossible audit value), UNDECIDED, LOOSE (every
        verdict decided and passed, but a bound is weaker than its declared tightness), PASS,
        or N/A (no decided instance: never PASS)."""
        vol = (self.volume or {}).get("status")
        if self.failed or self.audit or vol == FAIL:
            return FAIL
        if self.undecided or vol == UNDECIDED:
            return UNDECIDED
        if self.passed and self.loose:
            return LOOSE
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
              seed: int, counterexamples: Sequence[dict] = (), witnesses: Sequence = (),
              audit: Sequence[str] = (), corners: int = 0) -> ClaimSummary:
    """Aggregate outcomes; the worst instance is the failing one with least slack, else the
    decided one with least slack. ``counterexamples``: the records of
    :func:`verify.shrink.counterexamples`, kept as they are."""
    count = {v: sum(o.verdict == v for o in outcomes) for v in (PASS, FAIL, UNDECIDED, NOT_APPLICABLE)}
    decided = [o for o in outcomes if o.slack is not None and o.verdict != NOT_APPLICABLE]
    worst = min(decided, key=lambda o: (o.verdict != FAIL, o.slack), default=None)
    return ClaimSummary(
        id=claim_id, name=name, instances=len(outcomes), passed=count[PASS],
        failed=count[FAIL], undecided=count[UNDECIDED], not_applicable=count[NOT_APPLICABLE],
        min_slack=None if worst is None else worst.slack,
        worst_instance=None if worst is None else dict(worst.instance),
        dps=max((o.dps for o in outcomes), default=dps), seed=seed,
        tightness=tightness(outcomes), counterexamples=tuple(counterexamples),
        witnesses=tuple(witnesses), audit=tuple(audit), corners=corners,
        certified=sum(o.certified and o.verdict in (PASS, FAIL) for o in outcomes),
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
    head = ("ID", "name", "inst", "pass", "fail", "undec", "n/a", "certified", "worst slack",
            "tightness", "status")
    body = [
        (r.id, r.name, str(r.instances), str(r.passed), str(r.failed), str(r.undecided),
         str(r.not_applicable), f"{r.certified}/{r.decided}", _fmt_slack(r.min_slack),
         _fmt_tight(r.tightness), r.status)
        for r in rows
    ]
    widths = [max(len(h), *(len(b[i]) for b in body)) if body else len(h) for i, h in enumerate(head)]
    line = lambda cells: "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()
    out = [line(head), line(["-" * w for w in widths])]
    out += [line(b) for b in body]
    for extra in (render_volume(rows), render_witnesses(rows), render_counterexamples(rows)):
        if extra:
            out += ["", extra]
    return "\n".join(out)


def render_certified_share(rows: Sequence[ClaimSummary]) -> str:
    """One line: certified verdicts among the decided ones (checked instances and volume
    stage together), overall and for each claim below 99 %."""
    pairs = [(r.id, *r.certified_share) for r in rows]
    c, d = sum(p[1] for p in pairs), sum(p[2] for p in pairs)
    low = [f"{cid} {a}/{b}" for cid, a, b in pairs if b and a < 0.99 * b]
    share = f" ({100 * c / d:.1f} %)" if d else ""
    return (f"certified: {c} of {d} decided verdicts{share}; "
            + ("below 99 %: " + ", ".join(low) if low else "every claim at 99 % or more"))


def render_volume(rows: Sequence[ClaimSummary], *, markdown: bool = False) -> str:
    """The certified volume stage per claim: instances, verdicts, how many decided verdicts are
    certified, worst slack, best tightness ratio and which engine decided; FAIL and UNDECIDED
    instances with their repro commands. "" when no row has one."""
    from verify.shrink import repro_command

    vols = [(r, r.volume) for r in rows if r.volume]
    if not vols:
        return ""
    head = ("ID", "volume", "pass", "fail", "undec", "n/a", "certified", "worst slack",
            "best tightness", "decided by", "status")
    body = []
    for r, v in vols:
        c = v["counts"]
        best = "-" if v["best_tightness"] is None else f"{v['best_tightness']:.6g}"
        body.append((r.id, str(v["count"]), str(c["PASS"]), str(c["FAIL"]), str(c["UNDECIDED"]),
                     str(c["N/A"]), f"{v['certified']}/{v['decided']}", _fmt_slack(v["worst_slack"]),
                     best, ", ".join(f"{k} {n}" for k, n in v["methods"].items()), v["status"]))
    if markdown:
        out = ["Certified volume (every verdict proved by enclosures unless marked):", "",
               "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        out += ["| " + " | ".join(b) + " |" for b in body]
    else:
        widths = [max(len(h), *(len(b[i]) for b in body)) for i, h in enumerate(head)]
        line = lambda cells: "  ".join(x.ljust(w) for x, w in zip(cells, widths)).rstrip()
        out = ["Certified volume (every verdict proved by enclosures unless marked):",
               line(head), line(["-" * w for w in widths])] + [line(b) for b in body]
    for r, v in vols:
        for rec in (v["failures"] + v["undecided"])[:3]:
            cmd = repro_command(r.id, rec["instance"], dps=r.dps)
            out.append(f"{r.id} volume {rec['verdict']} {rec['id']}: {rec['note']}; re-run: "
                       + (f"`{cmd}`" if markdown else cmd))
    return "\n".join(out)


def render_witnesses(rows: Sequence[ClaimSummary], *, markdown: bool = False) -> str:
    """How far each tightness witness got (best value against its floor), and the audit
    failures; "" when no row has either."""
    lines = []
    for r in rows:
        for w in r.witnesses:
            best = "none" if w.best is None else f"{w.best:.6g}"
            mark = "reached" if w.reached else "LOOSE: not reached"
            lines.append(f"{r.id} {w.key} ({w.bound}): best {best}, floor {w.floor:g}, "
                         f"{mark} ({w.tried} more instances run; where: {w.attained})")
            if not w.reached and w.instance is not None:
                from verify.shrink import repro_command

                lines.append(f"  best witness: {repro_command(r.id, w.instance, dps=r.dps)}")
        for msg in r.audit:
            lines.append(f"{r.id} audit FAIL: {msg}")
    if not lines:
        return ""
    if markdown:
        return "\n".join(["## Tightness witnesses and audits", ""] + [f"- {x}" for x in lines])
    return "\n".join(["Tightness witnesses (best value / floor) and audits:", *lines])


def _repro_entries(row: ClaimSummary) -> list[dict]:
    """The row's counterexample records; for a row whose status is neither PASS nor N/A but
    that has none (a status decided from the row as a whole), its worst instance."""
    if row.counterexamples:
        return list(row.counterexamples)
    if row.status in (PASS, NOT_APPLICABLE) or row.worst_instance is None:
        return []
    from verify.shrink import repro_command

    return [{"verdict": row.status, "slack": row.min_slack, "dps": row.dps,
             "instance": row.worst_instance, "shrunk": None,
             "command": repro_command(row.id, row.worst_instance, dps=row.dps)}]


def _describe(rec: dict) -> str:
    return f"{rec['verdict']} (slack {_fmt_slack(rec.get('slack'))}, dps {rec.get('dps')})"


def render_counterexamples(rows: Sequence[ClaimSummary], *, markdown: bool = False) -> str:
    """For each FAIL (and UNDECIDED, ...) instance: the `dmf-verify check` command that
    re-runs it, and the command of its shrunk instance when there is one ("" if none)."""
    out = []
    for r in rows:
        for rec in _repro_entries(r):
            shrunk = rec.get("shrunk")
            if markdown:
                out += [f"- {r.id} {_describe(rec)}:", "", "  ```bash",
                        f"  {rec['command']}", "  ```"]
                if shrunk:
                    out += [f"  shrunk, {_describe({'verdict': FAIL, **shrunk})}:", "",
                            "  ```bash", f"  {shrunk['command']}", "  ```"]
            else:
                out += [f"{r.id} {_describe(rec)}:", f"  {rec['command']}"]
                if shrunk:
                    out += [f"{r.id} shrunk, {_describe({'verdict': FAIL, **shrunk})}:",
                            f"  {shrunk['command']}"]
    if not out:
        return ""
    if markdown:
        return "\n".join(["## Counterexamples", "",
                          "Each command re-runs one instance (`dmf-verify check`):", "", *out])
    return "\n".join(["Counterexamples (each command re-runs one instance):", "", *out])


def render_markdown(rows: Sequence[ClaimSummary], *, header: str = "") -> str:
    cols = ["ID", "name", "instances", "PASS", "FAIL", "UNDECIDED", "N/A", "certified", "worst slack",
            "tightness (min/median/max)", "other ratios (min/median/max)", "status"]
    out = [header, ""] if header else []
    out.append("| " + " | ".join(cols) + " |")
    out.append("|" + "---|" * len(cols))
    for r in rows:
        out.append("| " + " | ".join([r.id, f"`{r.name}`", str(r.instances), str(r.passed),
                                      str(r.failed), str(r.undecided), str(r.not_applicable),
                                      f"{r.certified}/{r.decided}", _fmt_slack(r.min_slack), _fmt_tight(r.tightness),
                                      _fmt_extra(r.tightness), r.status]) + " |")
    for extra in (render_volume(rows, markdown=True), render_witnesses(rows, markdown=True),
                  render_counterexamples(rows, markdown=True)):
        if extra:
            out += ["", extra]
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
            "counterexamples": list(r.counterexamples),
            "witnesses": [w.as_dict() for w in r.witnesses], "audit": list(r.audit),
            "corners": r.corners, "volume": r.volume, "certified": r.certified,
        }
        for r in rows
    ]
    return json.dumps(_jsonable({"meta": meta, "claims": claims}), indent=2)


# ---------------------------------------------------------------------------------------
# JUnit XML: one testcase per claim x instance batch


def _checked_status(r: ClaimSummary) -> str:
    """The status of a claim's checked instances (sampled and hard corners) alone: FAIL (a
    failed instance or an audit failure), UNDECIDED, LOOSE (a tightness floor not reached),
    PASS, or N/A (no decided instance)."""
    if r.failed or r.audit:
        return FAIL
    if r.undecided:
        return UNDECIDED
    if r.passed and r.loose:
        return LOOSE
    return PASS if r.passed else NOT_APPLICABLE


#: how each status of a batch is reported in JUnit: failure, error (an UNDECIDED verdict is
#: no proof: a CI gate on the XML must not take it for a pass, as the exit code 3 does not),
#: skipped (N/A: no instance satisfied the hypotheses) or nothing (PASS)
JUNIT_KIND = {FAIL: "failure", LOOSE: "failure", UNDECIDED: "error", NOT_APPLICABLE: "skipped",
              PASS: None}


def _checked_case(r: ClaimSummary) -> tuple[str, str, str, str]:
    """(status, message, details, system-out) of a claim's checked instances."""
    from verify.shrink import repro_command

    status = _checked_status(r)
    counts = (f"{r.instances} instances ({r.corners} hard corners): {r.passed} PASS, "
              f"{r.failed} FAIL, {r.undecided} UNDECIDED, {r.not_applicable} N/A; worst slack "
              f"{_fmt_slack(r.min_slack)}; tightness {_fmt_tight(r.tightness)}; certified "
              f"{r.certified}/{r.decided}")
    lines = []
    if status == FAIL:
        msg = (f"{r.id}: {r.failed} of {r.instances} checked instances FAIL"
               + (f", {len(r.audit)} audit failures" if r.audit else "")
               + f" (worst slack {_fmt_slack(r.min_slack)})")
        if r.failed and r.worst_instance is not None:
            lines += ["worst instance (re-run it):",
                      "  " + repro_command(r.id, r.worst_instance, dps=r.dps)]
        lines += [f"audit: {m}" for m in r.audit]
    elif status == UNDECIDED:
        msg = f"{r.id}: {r.undecided} of {r.instances} checked instances UNDECIDED at the highest precision"
    elif status == LOOSE:
        loose = [w for w in r.witnesses if not w.reached]
        msg = (f"{r.id}: LOOSE: {', '.join(f'{w.key} best {_fmt_slack(w.best)} < floor {w.floor:g}' for w in loose)}")
        for w in loose:
            lines.append(f"{w.key} ({w.bound}): where: {w.attained}")
            if w.instance is not None:
                lines.append("  best witness: " + repro_command(r.id, w.instance, dps=r.dps))
    elif status == NOT_APPLICABLE:
        msg = f"{r.id}: no checked instance satisfies the hypotheses (N/A)"
    else:
        msg = ""
    recs = [rec for rec in _repro_entries(r) if rec["verdict"] in (FAIL, UNDECIDED)]
    if recs and status in (FAIL, UNDECIDED):
        lines.append("counterexamples (each command re-runs one instance):")
        for rec in recs:
            lines.append(f"  {_describe(rec)}: {rec['command']}")
            if rec.get("shrunk"):
                lines.append(f"    shrunk: {rec['shrunk']['command']}")
    return status, msg, "\n".join(lines), counts


def _volume_case(r: ClaimSummary) -> tuple[str, str, str, str]:
    from verify.shrink import repro_command

    v = r.volume
    c = v["counts"]
    status = v["status"]
    counts = (f"{v['count']} certified-volume instances: {c['PASS']} PASS, {c['FAIL']} FAIL, "
              f"{c['UNDECIDED']} UNDECIDED, {c['N/A']} N/A; certified {v['certified']}/"
              f"{v['decided']}; worst slack {_fmt_slack(v['worst_slack'])}; decided by "
              + (", ".join(f"{k} {n}" for k, n in v["methods"].items()) or "-"))
    lines = []
    if status == FAIL:
        msg = f"{r.id}: {c['FAIL']} of {v['count']} certified-volume instances FAIL"
    elif status == UNDECIDED:
        msg = f"{r.id}: {c['UNDECIDED']} of {v['count']} certified-volume instances UNDECIDED"
    elif status == NOT_APPLICABLE:
        msg = f"{r.id}: no certified-volume instance satisfies the hypotheses (N/A)"
    else:
        msg = ""
    recs = v["failures"] if status == FAIL else v["undecided"] if status == UNDECIDED else []
    if recs:
        lines.append("worst instance (re-run it):" if status == FAIL else
                     "undecided instances (each command re-runs one):")
        for rec in recs[:10]:
            lines.append(f"  {rec['id']}: {rec['note']}")
            lines.append("    " + repro_command(r.id, rec["instance"], dps=r.dps))
        if len(recs) > 10:
            lines.append(f"  ... {len(recs) - 10} more in the JSON report")
    return status, msg, "\n".join(lines), counts


def to_junit(rows: Sequence[ClaimSummary], *, meta: dict, seconds: float | None = None) -> str:
    """The run as JUnit XML (the common testsuites / testsuite / testcase schema): one
    testsuite per claim, with one testcase per instance batch, the checked instances
    (sampled and hard corners) and, when it ran, the certified volume stage. A batch that
    FAILs or is LOOSE is a ``<failure>`` (its text: the worst instance as a `dmf-verify
    check` command, then every counterexample), UNDECIDED an ``<error>``, N/A
    ``<skipped>``; a partial run (meta ``partial``) lists the claims it did not finish as
    skipped testcases. Counts are on every testsuite and on the root; ``time`` only when
    ``seconds`` is given (the XML is otherwise the same bytes for the same seed)."""
    import xml.etree.ElementTree as ET

    root = ET.Element("testsuites", {"name": "dmf-verify run"})
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    props = [(k, meta[k]) for k in ("profile", "seed", "dps", "max_dps", "volume_per_claim",
                                    "version", "partial") if k in meta]
    cases: list[tuple[str, str, list]] = []  # (claim id, claim name, [(batch, status, msg, text, out)])
    for r in rows:
        batch = [("checked instances", *_checked_case(r))]
        if r.volume:
            batch.append(("certified volume", *_volume_case(r)))
        elif r.id in meta.get("volume_not_done", ()):
            batch.append(("certified volume", NOT_APPLICABLE,
                          "not finished: the run was interrupted", "", ""))
        cases.append((r.id, r.name, batch))
    for cid in meta.get("claims_not_done", ()):
        cases.append((cid, "", [("checked instances", NOT_APPLICABLE,
                                 "not run: the run was interrupted", "", "")]))
    for cid, name, batch in cases:
        counts = {"tests": len(batch),
                  "failures": sum(JUNIT_KIND[s] == "failure" for _, s, *_ in batch),
                  "errors": sum(JUNIT_KIND[s] == "error" for _, s, *_ in batch),
                  "skipped": sum(JUNIT_KIND[s] == "skipped" for _, s, *_ in batch)}
        attrs = {"name": f"{cid} {name}".strip(), **{k: str(v) for k, v in counts.items()}}
        suite = ET.SubElement(root, "testsuite", attrs)
        if props:
            pe = ET.SubElement(suite, "properties")
            for k, v in props:
                ET.SubElement(pe, "property", {"name": k, "value": str(v)})
        for label, status, msg, text, out in batch:
            case = ET.SubElement(suite, "testcase", {"classname": f"dmf-verify.{cid}",
                                                     "name": f"{cid} {label}"})
            kind = JUNIT_KIND[status]
            if kind == "skipped":
                ET.SubElement(case, "skipped", {"message": msg})
            elif kind is not None:
                el = ET.SubElement(case, kind, {"message": msg, "type": status})
                el.text = text or msg
            if out:
                ET.SubElement(case, "system-out").text = out
        for k in totals:
            totals[k] += counts[k]
    for k, v in totals.items():
        root.set(k, str(v))
    if seconds is not None:
        root.set("time", f"{seconds:.3f}")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
