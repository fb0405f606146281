"""The layout: every public module sees the complete registries whichever is imported
first (no import-time registration, no import circle), and a claim's statement, check and
spec are one hop from its ID."""

import subprocess
import sys

import pytest

from bounds import claim_ids

PUBLIC_MODULES = [
    "bounds", "bounds.flow", "bounds.lowrank", "bounds.perturbed", "bounds.reduction",
    "bounds.momentum", "verify.checks.momentum", "verify.specs.momentum", "verify.volume.momentum",
    "verify.momentum",
    "verify", "verify.checks", "verify.checks.verdict", "verify.checks.reduction",
    "verify.checks.flow", "verify.checks.lowrank", "verify.checks.perturbed",
    "verify.specs", "verify.specs.params", "verify.specs.flow", "verify.specs.lowrank",
    "verify.specs.perturbed", "verify.specs.reduction", "verify.sampling", "verify.strategies",
    "verify.problems", "verify.engine", "verify.cli", "verify.report", "verify.explore",
    "verify.certified", "verify.screen", "verify.fasttau", "verify.volume", "verify.volume.common",
    "verify.volume.flow", "verify.volume.lowrank", "verify.volume.perturbed", "verify.volume.reduction",
    "verify.volume.recheck", "bounds.enclosures", "verify.limits", "verify.instances", "verify.fullgd",
    "verify.handle", "verify.inequality", "verify.userclaims", "verify.pytest_plugin",
    "verify.sweep", "verify.sweep_plot",
    "verify.linalg", "verify.fastlanes",
    "verify.beyond.matrixgd", "verify.beyond.outside", "verify.beyond.init",
    "verify.beyond.nonsymmetric", "verify.beyond.adam",
]

_PROBE = """
import importlib, sys
importlib.import_module(sys.argv[1])
from verify.strategies import instances
from verify.specs import SPECS
from verify.checks import CHECKS
from bounds import claim_ids
ids = list(claim_ids())
assert sorted(SPECS) == sorted(ids), sorted(SPECS)
assert sorted(CHECKS) == sorted(ids), sorted(CHECKS)
instances("K2")  # raised "no instance spec" when specs registered as an import side effect
print("ok")
"""


@pytest.mark.parametrize("module", PUBLIC_MODULES)
def test_every_public_module_sees_the_complete_registry_in_a_fresh_interpreter(module):
    proc = subprocess.run([sys.executable, "-c", _PROBE, module], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr


@pytest.mark.parametrize("cid", claim_ids())
def test_claim_check_and_spec_live_in_the_family_module_of_its_bounds(cid):
    """bounds.<family> holds the claim's evaluators, verify.checks.<family> its check and
    verify.specs.<family> its spec (R1: reduction; M1, heavy ball: momentum)."""
    from bounds import get_claim
    from verify.checks import CHECKS
    from verify.specs import SPECS

    family = {"R": "reduction", "S": "flow", "O": "flow", "K": "flow", "L": "lowrank",
              "P": "perturbed", "M": "momentum"}[cid[0]]
    fn = CHECKS[cid]
    assert fn.__module__ == f"verify.checks.{family}", fn.__module__
    assert SPECS[cid].builder.__module__ == f"verify.specs.{family}"
    mods = {get_claim(cid).evaluators.location(k)[0] for k in get_claim(cid).evaluators}
    assert f"bounds.{family}" in mods or (family == "reduction" and "bounds.flow" in mods), mods
