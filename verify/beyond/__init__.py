"""Beyond the paper: studies of settings its theorems do not cover (`dmf-verify explore`).

Each study is one module of this package with the same four members:

- ``TITLE``: one line, shown by ``dmf-verify explore --help``;
- ``add_arguments(parser)``: the study's own flags (sizes, seeds, parameter grids), each with
  help text and a default; every default run finishes in <= 60 s on 2 cores;
- ``run(params, *, progress=None) -> dict``: the study, returning a result built by
  :func:`verify.beyond.common.study_result` (rows of measurements, each labelled EMPIRICAL or
  with the ID of the registry claim that proves it; a one-sentence finding);
- ``figures(result, out_dir) -> list[str]``: the study's figure as PNG and PDF.

Results never say PASS: what is measured outside a claim's hypotheses is EMPIRICAL.

>>> sorted(STUDIES)
['adam', 'init', 'momentum', 'nonsymmetric', 'realdata']
"""

from __future__ import annotations

import importlib

__all__ = ["STUDIES", "study_module"]

# name -> module (imported on demand: a study's dependencies load only when it runs)
STUDIES = {
    "momentum": "verify.beyond.momentum",
    "init": "verify.beyond.init",
    "nonsymmetric": "verify.beyond.nonsymmetric",
    "adam": "verify.beyond.adam",
    "realdata": "verify.beyond.realdata",
}


def study_module(name: str):
    """The module of study ``name`` (ValueError naming the studies if there is none)."""
    if name not in STUDIES:
        raise ValueError(f"no study {name!r}; the studies are: {', '.join(sorted(STUDIES))}")
    return importlib.import_module(STUDIES[name])
