"""Instance specs: reproducible, admissible by construction, impossible requests refused."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from verify.checks import CHECKS
from verify.sampling import draw_raw, sample_instances
from verify.specs import SPECS, Param, build
from verify.specs.params import alpha_floor, predicted_steps
from verify.strategies import depths, instances, raw_draws, spectra, unit_fractions


def test_every_checked_claim_has_an_instance_spec():
    assert set(CHECKS) <= set(SPECS)


@pytest.mark.parametrize("cid", sorted(SPECS))
def test_seeded_sampling_is_reproducible_and_seed_dependent(cid):
    a = sample_instances(cid, 3, seed=11)
    assert a == sample_instances(cid, 3, seed=11)
    assert a != sample_instances(cid, 3, seed=12)


@pytest.mark.parametrize("cid", sorted(SPECS))
def test_numpy_draws_fit_the_spec(cid):
    raw = draw_raw(cid, np.random.default_rng(0))
    for p in SPECS[cid].params:
        v = raw[p.name]
        vals = v if p.kind == "floats" else [v]
        assert all(p.lo <= x <= p.hi for x in vals)


@given(st.data())
def test_hypothesis_raw_draws_build_instances(data):
    cid = data.draw(st.sampled_from(sorted(SPECS)))
    inst = build(cid, data.draw(raw_draws(cid)))
    assert isinstance(inst, dict) and inst


@given(st.floats(0.2, 2.0), st.integers(2, 6), st.floats(0.05, 1.0), st.floats(100, 1e5))
def test_alpha_floor_meets_the_budget_exactly_at_its_floor(t, N, frac, budget):
    eta = frac / (N * t ** (2 - 2 / N))
    level, hi = 0.9 * t, (0.4 * t) ** (1 / N)
    if predicted_steps(t, level, hi, eta, N) > budget:
        with pytest.raises(ValueError, match="needs more than"):
            alpha_floor(t, level, eta, N, budget=budget, alpha_max=hi)
        return
    a = alpha_floor(t, level, eta, N, budget=budget, alpha_max=hi)
    assert predicted_steps(t, level, a, eta, N) <= budget


def test_build_refuses_a_raw_draw_that_lacks_a_parameter():
    with pytest.raises(ValueError, match="lacks"):
        build("K1", {"depth": 3})


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: Param("x", "weird", 0, 1), "unknown parameter kind"),
        (lambda: Param("x", "float", 2, 1), "empty range"),
        (lambda: Param("x", "logfloat", 0, 1), "log range must be positive"),
        (lambda: Param("x", "floats", 0, 1), "needs size >= 1"),
        (lambda: depths(min_depth=1), "min_depth"),
        (lambda: unit_fractions(lo=0.5, hi=0.2), "0 < lo <= hi <= 1"),
        (lambda: spectra(size=3, rank=3), "rank must be in 1..size-1"),
        (lambda: spectra(size=0), "size >= 1"),
        (lambda: spectra(size=3, rank=1, gap=-1), "gap must be >= 0"),
    ],
)
def test_impossible_strategy_arguments_raise(make, message):
    with pytest.raises(ValueError, match=message):
        make()


@given(spectra(size=5, rank=2, gap=1.0))
def test_spectra_have_the_requested_gap(s):
    assert s == sorted(s, reverse=True)
    assert s[1] >= 2.0 * s[2]


@given(instances("K2"))
def test_k2_instances_stay_within_their_step_budget(inst):
    N, t = inst["depth"], inst["t"]
    eta = inst["eta_fraction"] / (N * t ** (2 - 2 / N))
    assert predicted_steps(t, inst["d"], inst["alpha"], eta, N) <= 20_000 * 1.001
