"""Claims of other packages: the ``dmf_verify.claims`` entry point group.

A package registers claims in its pyproject.toml::

    [project.entry-points."dmf_verify.claims"]
    my_claims = "my_package.claims:CLAIMS"

The object an entry point names is a :class:`UserClaim`, a list or tuple of them, or a
function of no arguments returning one of those. :func:`load_plugin_claims` loads every
entry point of the group (``importlib.metadata``) and validates what it gives: a load error,
a wrong type, an ID used twice or the ID of a built-in claim is a ValueError naming the
entry point, its distribution and the problem.

The CLI hooks: :func:`plugin_claim_rows` (the rows ``dmf-verify run`` appends to its table:
:class:`verify.report.ClaimSummary`), :func:`plugin_claim_listing` (the lines of
``dmf-verify list``), :func:`plugin_claim_ids`. ``python -m verify.userclaims check ID
--instance JSON`` re-runs one instance of a user claim (the repro command of its
counterexamples); ``python -m verify.userclaims list`` lists them.

>>> from bounds import N, t, d, alpha
>>> import sympy as sp
>>> c = UserClaim("U1", "init_below_target_of_level", sp.Lt(alpha**N, t),
...               (sp.Lt(alpha**N, d), sp.Lt(d, t)), spec="K2")
>>> c.check(count=2, corners=False).verdict
'PASS'
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import re
import shlex
import sys
from dataclasses import dataclass, replace
from typing import Iterable, Mapping

import sympy as sp

__all__ = ["GROUP", "UserClaim", "load_plugin_claims", "plugin_claim_ids",
           "plugin_claim_rows", "plugin_claim_listing", "repro_command", "main"]

GROUP = "dmf_verify.claims"
_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,63}$")


@dataclass(frozen=True)
class UserClaim:
    """A user's claim: the SymPy ``relation`` under the SymPy ``hypotheses``, checked on the
    admissible instances of the built-in spec ``spec`` (:mod:`verify.specs`) by
    :func:`verify.inequality.check_inequality`. ``source``: where it was loaded from (set by
    :func:`load_plugin_claims`)."""

    id: str
    name: str
    relation: object
    hypotheses: tuple = ()
    spec: str = "K2"
    statement: str = ""
    source: str = ""

    def __post_init__(self):
        from bounds import claim_ids
        from verify.handle import ETA_SPECS
        from verify.inequality import _REL_OPS, _validate_hypothesis, _validate_relation
        from verify.specs import SPECS

        if not isinstance(self.id, str) or not _ID.match(self.id):
            raise ValueError(f"claim ID must be a letter then letters, digits, '_', '.', '-' "
                             f"(at most 64), got {self.id!r}")
        if self.id in claim_ids():
            raise ValueError(f"claim ID {self.id!r} is a built-in claim's ID")
        if not isinstance(self.name, str) or not self.name.isidentifier():
            raise ValueError(f"claim {self.id}: name must be an identifier, got {self.name!r}")
        rel = _validate_relation(self.relation, f"claim {self.id}: relation")
        if type(rel) not in _REL_OPS:
            raise ValueError(f"claim {self.id}: relation must be <=, <, >= or >, got "
                             f"{type(rel).__name__}")
        if isinstance(self.hypotheses, (str, sp.Basic)) or not isinstance(self.hypotheses, Iterable):
            raise ValueError(f"claim {self.id}: hypotheses must be a tuple of SymPy relations")
        hyps = tuple(_validate_hypothesis(h, f"claim {self.id}: hypothesis {i}")
                     for i, h in enumerate(self.hypotheses))
        if self.spec not in SPECS:
            raise ValueError(f"claim {self.id}: spec {self.spec!r} is not a built-in spec; "
                             f"known: {', '.join(SPECS)}")
        if self.spec not in ETA_SPECS:
            raise ValueError(f"claim {self.id}: the simulation handle does not read {self.spec} "
                             f"instances; it reads {', '.join(s for s in ETA_SPECS if s)}")
        if not isinstance(self.statement, str):
            raise ValueError(f"claim {self.id}: statement must be a string")
        object.__setattr__(self, "hypotheses", hyps)

    def check(self, *, count=None, seed=None, dps=None, max_dps=None, certify=True, shrink=True,
              corners=True, symbolic=True, instances=None, shrink_tries=None, record=True):
        """:func:`verify.inequality.check_inequality` of the claim on its spec's instances
        (or on ``instances``)."""
        from verify.inequality import check_inequality

        return check_inequality(self.relation, self.hypotheses,
                                self.spec if instances is None else instances, name=self.id,
                                spec=self.spec, count=count, seed=seed, dps=dps,
                                max_dps=max_dps, certify=certify, shrink=shrink,
                                corners=corners, symbolic=symbolic, shrink_tries=shrink_tries,
                                record=record)


def _where(ep, group):
    dist = getattr(ep, "dist", None)
    dist = f"{dist.name} {dist.version}" if dist is not None else "an unknown distribution"
    return f"entry point {ep.name!r} = {ep.value!r} of {dist} (group {group})"


def load_plugin_claims(*, group: str = GROUP, entry_points=None) -> tuple:
    """The validated :class:`UserClaim` objects of every entry point of ``group``, sorted by
    ID (``entry_points``: an explicit list of ``importlib.metadata.EntryPoint``, for tests).

    >>> load_plugin_claims(entry_points=[])
    ()
    """
    eps = importlib.metadata.entry_points(group=group) if entry_points is None else entry_points
    seen: dict = {}
    for ep in sorted(eps, key=lambda e: (e.name, e.value)):
        where = _where(ep, group)
        try:
            obj = ep.load()
        except Exception as exc:  # any import error of someone else's package, named
            raise ValueError(f"{where} cannot be loaded: {type(exc).__name__}: {exc}") from None
        if callable(obj) and not isinstance(obj, UserClaim):
            try:
                obj = obj()
            except ValueError as exc:
                raise ValueError(f"{where}: {exc}") from None
            except Exception as exc:
                raise ValueError(f"{where}: calling it raised {type(exc).__name__}: {exc}") from None
        if isinstance(obj, UserClaim):
            items = [obj]
        elif isinstance(obj, (list, tuple)):
            items = list(obj)
        else:
            raise ValueError(f"{where} gave a {type(obj).__name__}; expected a UserClaim, a "
                             "list or tuple of them, or a function returning one of those")
        if not items:
            raise ValueError(f"{where} gave no claim")
        for i, c in enumerate(items):
            if not isinstance(c, UserClaim):
                raise ValueError(f"{where}: item {i} is a {type(c).__name__}, not a UserClaim")
            if c.id in seen:
                raise ValueError(f"claim ID {c.id!r} is registered twice: by {seen[c.id].source} "
                                 f"and by {where}")
            seen[c.id] = replace(c, source=where)
    return tuple(seen[k] for k in sorted(seen))


def plugin_claim_ids() -> tuple:
    """The IDs of the installed user claims."""
    return tuple(c.id for c in load_plugin_claims())


def repro_command(claim_id: str, instance: Mapping, *, dps: int | None = None) -> str:
    """``python -m verify.userclaims check ID --instance '...'``, shell-quoted.

    >>> print(repro_command("U1", {"t": 1.0, "depth": 2}))
    python -m verify.userclaims check U1 --instance '{"depth": 2, "t": 1.0}'
    """
    from verify.shrink import instance_arg

    parts = ["python", "-m", "verify.userclaims", "check", claim_id, "--instance",
             instance_arg(instance)]
    if dps is not None:
        parts += ["--dps", str(dps)]
    return shlex.join(parts)


def _row(claim, report, *, dps, seed):
    from verify.checks import FAIL, PASS, UNDECIDED
    from verify.report import summarize

    records = []
    for o in report.outcomes:
        if o.verdict not in (FAIL, UNDECIDED):
            continue
        rec = {"verdict": o.verdict, "slack": o.slack, "dps": o.dps, "instance": dict(o.instance),
               "command": repro_command(claim.id, o.instance, dps=o.dps), "shrunk": None}
        if o is report.counterexample and report.shrunk is not None:
            s = report.shrunk
            rec["shrunk"] = {"instance": dict(s.instance), "slack": s.slack, "dps": s.dps,
                             "command": repro_command(claim.id, s.instance, dps=s.dps)}
        records.append(rec)
    audit = () if report.consistent else report.notes
    return summarize(claim.id, claim.name, report.outcomes, dps=dps, seed=seed,
                     counterexamples=records, audit=audit)


def plugin_claim_rows(*, profile: str = "default", seed: int = 0, dps: int = 50,
                      max_dps: int = 250, only=None, shrink: bool = True) -> list:
    """The CLI hook of ``dmf-verify run``: one :class:`verify.report.ClaimSummary` per
    installed user claim (those in ``only`` when it is given, a list of IDs that may also
    name built-in claims), each checked on as many instances of its spec as ``run`` draws
    per claim in ``profile`` (plus the spec's hard corners), with the same seed and digits.
    """
    from verify.sampling import PROFILES

    if profile not in PROFILES:
        raise ValueError(f"profile must be one of {', '.join(PROFILES)}, got {profile!r}")
    rows = []
    for c in load_plugin_claims():
        if only is not None and c.id not in only:
            continue
        rep = c.check(count=PROFILES[profile], seed=seed, dps=dps, max_dps=max_dps, shrink=shrink)
        rows.append(_row(c, rep, dps=dps, seed=seed))
    return rows


def plugin_claim_listing() -> list:
    """The CLI hook of ``dmf-verify list``: one line per installed user claim (ID, name,
    spec, relation, where it comes from), [] when there is none."""
    lines = []
    for c in load_plugin_claims():
        hs = [sp.sstr(h) for h in c.hypotheses if h is not sp.true]
        hyp = f" if {', '.join(hs)}" if hs else ""
        lines.append(f"{c.id}  {c.name}  (user claim on {c.spec} instances; {c.source})")
        lines.append(f"    {sp.sstr(c.relation)}{hyp}")
    return lines


# ---------------------------------------------------------------------------------------
# python -m verify.userclaims


def _claim(claim_id):
    for c in load_plugin_claims():
        if c.id == claim_id:
            return c
    ids = plugin_claim_ids()
    raise ValueError(f"no user claim {claim_id!r}; installed: {', '.join(ids) or 'none'}")


def main(argv=None) -> int:
    """``list`` or ``check ID --instance JSON [--dps D] [--max-dps M]``; exit 0 PASS (or
    N/A), 1 FAIL, 2 bad input, 3 UNDECIDED."""
    p = argparse.ArgumentParser(prog="python -m verify.userclaims")
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="the installed user claims")
    chk = sub.add_parser("check", help="check one user claim on one instance")
    chk.add_argument("claim_id")
    chk.add_argument("--instance", required=True)
    chk.add_argument("--dps", type=int, default=50)
    chk.add_argument("--max-dps", type=int, default=250)
    args = p.parse_args(argv)
    try:
        if args.command == "list":
            print("\n".join(plugin_claim_listing()) or "no user claims installed")
            return 0
        inst = json.loads(args.instance)
        if not isinstance(inst, dict):
            raise ValueError("--instance must be a JSON object")
        rep = _claim(args.claim_id).check(instances=[inst], dps=args.dps, max_dps=args.max_dps,
                                          shrink=False, symbolic=False)
    except (ValueError, json.JSONDecodeError) as exc:
        print(f"python -m verify.userclaims: error: {exc}", file=sys.stderr)
        return 2
    o = rep.outcomes[0]
    print(f"{args.claim_id} {o.verdict}{' (certified)' if o.certified else ''}: "
          f"{o.observed.get('compared', '')}")
    print(f"lhs {o.observed.get('lhs', '-')}, rhs {o.observed.get('rhs', '-')}, dps {o.dps}")
    if o.note:
        print(f"note: {o.note}")
    return {"FAIL": 1, "UNDECIDED": 3}.get(o.verdict, 0)


if __name__ == "__main__":
    # run as `python -m`: this file is __main__; the claims of other packages import
    # verify.userclaims, whose UserClaim is the class to check against
    from verify.userclaims import main as _main

    sys.exit(_main())
