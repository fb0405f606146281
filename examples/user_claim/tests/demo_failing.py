"""Not collected by default (the file name): `pytest examples/user_claim/tests/demo_failing.py
-p verify.pytest_plugin` shows how the plugin reports the false bound as a failing test."""

from user_claim.claims import TIGHT_FLOW


def test_tight_flow_variant_holds():
    TIGHT_FLOW.check().assert_pass()
