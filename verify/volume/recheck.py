"""The certified engine on the instances the high-precision checks decided.

`dmf-verify run` checks each claim's sampled instances and hard corners with the
high-precision check (:func:`verify.checks.check`: first-order rounding margins, precision
escalation). For a claim with a volume stage the same instance dicts also go through the
claim's certified decision (:data:`verify.volume.VOLUME`), and the two verdicts are set side
by side:

* both decided and equal, the certified one proved: the outcome is ``certified``;
* the high-precision check UNDECIDED, the certified decision a proved PASS or FAIL: the
  outcome takes the certified verdict (a proof decides what rounding margins could not);
* both decided and different: an audit failure (one of the two engines is wrong), which
  makes the claim's row FAIL;
* otherwise (the certified path does not cover the instance, e.g. P4 with random noise,
  whose eigenvalues are not exact floats, or cannot read it at all): the outcome stays as
  it was, not certified.

>>> from verify.checks import check
>>> inst = {"depth": 3, "t": 1.0, "eta_fraction": 0.5, "alpha": 0.1, "d": 0.5}
>>> (out,), msgs = recheck("K2", [check("K2", inst)])
>>> out.verdict, out.certified, msgs
('PASS', True, ())
"""

from __future__ import annotations

import dataclasses
from typing import Sequence

from verify.checks import DECIDED, Outcome

__all__ = ["recheck"]


def recheck(cid: str, outcomes: Sequence[Outcome]) -> tuple[tuple[Outcome, ...], tuple[str, ...]]:
    """(outcomes with ``certified`` set, audit messages) for claim ``cid`` (see the module
    docstring); claims without a volume stage come back unchanged."""
    from verify.volume import VOLUME

    if cid not in VOLUME or not outcomes:
        return tuple(outcomes), ()
    decisions = _decide(VOLUME[cid].decide, [dict(o.instance) for o in outcomes])
    out, msgs = [], []
    for o, d in zip(outcomes, decisions):
        proved = d.certified and d.verdict in DECIDED
        if proved and o.verdict == d.verdict:
            o = dataclasses.replace(o, certified=True)
        elif proved and o.verdict not in DECIDED and o.verdict != "N/A":
            note = f"decided by the certified engine ({d.method}); the high-precision check " \
                   f"was {o.verdict}" + (f"; {d.note}" if d.note else "")
            o = dataclasses.replace(o, verdict=d.verdict, certified=True, slack=d.slack,
                                    note="; ".join(x for x in (o.note, note) if x))
        elif proved and o.verdict in DECIDED:
            msgs.append(f"high-precision verdict {o.verdict}, certified verdict {d.verdict} "
                        f"({d.method}{': ' + d.note if d.note else ''}) on {dict(o.instance)}")
        out.append(o)
    return tuple(out), tuple(msgs)


def _decide(decide, insts):
    """The certified decisions of ``insts``; an instance the certified path cannot read (a
    dict the high-precision check accepted in another form, or a fake check's instance in a
    test) abstains: UNDECIDED, so its outcome stays uncertified and nothing is passed."""
    from verify.volume.common import Decision

    try:
        return list(decide(insts))
    except (KeyError, TypeError, ValueError):
        out = []
        for inst in insts:
            try:
                out.append(decide([inst])[0])
            except (KeyError, TypeError, ValueError) as exc:
                out.append(Decision("UNDECIDED", False, note=f"not read by the certified path: "
                                    f"{type(exc).__name__}: {exc}", method="undecided"))
        return out
