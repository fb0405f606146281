"""One source of truth: every evaluator a claim lists in bounds/ reaches its verdict.

For every claim and every evaluator it lists, the evaluator is replaced (monkeypatched in
its bounds/ module) by a wrong one: numeric results times 0.9 or 1.1, bools negated, lists
of failing hypotheses flipped, index lists shortened, tuples scaled elementwise. The claim's
check must then give a different verdict, tightness ratio or slack on at least one of its
pinned instances (the first four seeded instances of `run`'s sampler and the edge cases
below). A bound restated inside verify/ would leave the outcome unchanged and fail here.
"""

import importlib
import numbers

import mpmath
import pytest
from flint import arb, arb_mat

from bounds import CLAIMS, get_claim
from verify.checks import check
from verify.sampling import sample_instances

pytestmark = pytest.mark.slow


def perturb_value(v, factor):
    """The evaluator's result made wrong (see the module docstring)."""
    if isinstance(v, bool):
        return not v
    if v is None:
        return None
    if isinstance(v, numbers.Integral):
        return int(mpmath.ceil(v * factor))
    if isinstance(v, (mpmath.mpf, float)):
        return v * factor
    if isinstance(v, (arb, arb_mat)):  # a ball evaluator (bounds/enclosures.py)
        return v * arb(factor)
    if isinstance(v, list):
        if all(isinstance(x, str) for x in v):
            return [] if v else ["replaced by a negative control"]
        if v and all(isinstance(x, int) and not isinstance(x, bool) for x in v):
            return v[:-1]
        return [perturb_value(x, factor) for x in v]
    if isinstance(v, tuple):
        vals = [perturb_value(x, factor) for x in v]
        return type(v)(*vals) if hasattr(v, "_fields") else tuple(vals)
    raise TypeError(f"no perturbation for {type(v).__name__}")


# Edge cases where an evaluator decides the verdict: eta at (nearly) its bound, so a bound
# 10 % larger makes the hypothesis fail; a regime boundary; an instance just above a threshold.
PINS = {
    "S1": [{"depth": 3, "t": 1.0, "eta_fraction": 1.0, "alpha": 0.3}],
    "S2": [{"depth": 3, "t": 1.0, "q": 1.95, "alpha": 0.5},
           {"depth": 3, "t": 1.0, "q": 2.5, "alpha": 0.5}],
    "S3": [{"depth": 3, "t": -0.5, "alpha": 0.8, "eta_fraction": 0.95},
           {"depth": 3, "t": 0.1, "alpha": 0.8, "eta_fraction": 0.95}],
    "O1": [{"depth": 3, "t": -2.0, "t_prime": 0.5, "alpha": 0.6, "eta_fraction": 1.0}],
    "L1": [{"depth": 3, "spectrum": [0.2932219530814512, 0.22081398615723163], "r": 1,
            "eps": 0.0003297806932137431, "theta": 0.04004734141222397,
            "alpha": 0.09200035553862042, "eta_fraction": 0.27374063444086283}],
    "L3": [{"depth": 3, "spectrum": [1.0, 0.5414327980949876], "r": 1, "eps": 0.05,
            "theta": 0.1082869699417898, "alpha": 0.0093623573235433, "eta_fraction": 1.0}],
}


def _signature(out):
    return (out.verdict, out.ratio, out.slack, tuple(sorted(out.extra_ratios.items())))


def _pinned(cid):
    return sample_instances(cid, 4, seed=0) + PINS.get(cid, [])


def _volume_signature(cid):
    """The certified volume stage's decisions on 8 instances (ball evaluators reach these)."""
    from verify.volume import VOLUME, _chunk

    if cid not in VOLUME:
        return ()
    try:
        ds = [d for _, _, d in _chunk((cid, 0, 0, 8))] + list(VOLUME[cid].decide(PINS.get(cid, [])))
        return tuple((d.verdict, d.slack, d.ratio) for d in ds)
    except ValueError as exc:  # a wrong bound may make a ball evaluator refuse: a change too
        return ("ValueError", str(exc))


CASES = [(cid, name) for cid in CLAIMS for name in get_claim(cid).evaluators]


def test_every_claim_lists_evaluators_that_live_in_bounds():
    for cid, claim in CLAIMS.items():
        assert claim.evaluators, cid
        for name in claim.evaluators:
            loc = claim.evaluators.location(name)
            assert loc is not None and loc[0].startswith("bounds."), (cid, name, loc)


@pytest.mark.parametrize("cid,name", CASES, ids=[f"{c}-{n}" for c, n in CASES])
def test_replacing_an_evaluator_changes_the_outcome(cid, name, monkeypatch):
    insts = _pinned(cid)
    base = [_signature(check(cid, inst)) for inst in insts] + [_volume_signature(cid)]
    modname, attr = get_claim(cid).evaluators.location(name)
    module = importlib.import_module(modname)
    original = getattr(module, attr)
    changed = {}
    for factor in (0.9, 1.1):
        def wrong(*args, _f=factor, **kw):
            return perturb_value(original(*args, **kw), _f)

        monkeypatch.setattr(module, attr, wrong)
        outs = []
        for inst in insts:
            try:
                outs.append(_signature(check(cid, inst, max_dps=100)))
            except ValueError as exc:  # a wrong bound may make the check refuse: a change too
                outs.append(("ValueError", str(exc)))
        outs.append(_volume_signature(cid))
        changed[factor] = [i for i, (a, b) in enumerate(zip(base, outs)) if a != b]
        monkeypatch.setattr(module, attr, original)
    assert changed[0.9] or changed[1.1], f"{cid}: replacing {modname}.{attr} changed nothing"


def test_perturbation_is_never_the_identity():
    for v in (True, mpmath.mpf(2), 3, [], ["x"], [0, 1], [mpmath.mpf(1)], (mpmath.mpf(1), 2)):
        assert perturb_value(v, 1.1) != v
