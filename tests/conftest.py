"""Shared pytest configuration: Hypothesis profiles and mpmath hygiene."""

import os

import mpmath
import pytest
from hypothesis import HealthCheck, settings

# Profiles: `dev` for quick local runs, `ci` deterministic, `thorough` for long audits.
settings.register_profile(
    "dev", max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "ci",
    max_examples=25,
    deadline=None,
    derandomize=True,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "thorough",
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
# `--hypothesis-profile` (Hypothesis' own pytest plugin) overrides this default.
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


@pytest.fixture(autouse=True)
def _reset_mpmath():
    """Restore mpmath's global precision after every test, whatever the test did."""
    prec, pretty = mpmath.mp.prec, mpmath.mp.pretty
    yield
    mpmath.mp.prec = prec
    mpmath.mp.pretty = pretty


@pytest.fixture
def screen_undecided(monkeypatch):
    """Call it to make the float64 screen return every lane UNDECIDED (its steps and the work
    done kept), so that the certified engine has to decide them."""
    import numpy as np

    import verify.screen as screen

    real = screen.screen_hits

    def undecided(*args, **kw):
        r = real(*args, **kw)
        return screen.ScreenResult(np.full_like(r.step, -1), np.full_like(r.status, screen.UNDECIDED),
                                   r.undecided_step, r.lane_steps)

    return lambda: monkeypatch.setattr(screen, "screen_hits", undecided)
