"""The dmf-verify pytest plugin (entry point ``pytest11``: installing dmf-verify enables it;
``-p verify.pytest_plugin`` loads it explicitly, ``-p no:verify.pytest_plugin`` disables it).

What it adds to any test suite:

* options ``--dmf-profile quick|default|thorough`` (instances per
  :func:`verify.inequality.check_inequality` and shrink budget), ``--dmf-dps`` (starting
  digits), ``--dmf-max-dps`` (highest digits an UNDECIDED comparison escalates to),
  ``--dmf-seed`` (the instances drawn), ``--dmf-symbolic-timeout`` (seconds SymPy gets);
* a test that raises :class:`verify.handle.Undecided` (what ``assert_holds`` and
  ``report.assert_pass()`` raise for a comparison that stays undecided) is reported as
  UNDECIDED: an xfail with the reason, never a pass;
* a terminal section "dmf-verify" with one line per checked inequality: verdict counts,
  certified verdicts, worst slack and tightness (smaller side / larger side, max over
  the decided instances), SymPy's answer, the shrunk counterexample of a FAIL;
* fixtures ``dmf_settings`` (the settings in force) and ``dmf_strategies``
  (:mod:`verify.strategies`).

The helpers themselves are plain functions, importable without pytest:
``from verify.inequality import assert_holds, check_inequality``; they are re-exported
here.

>>> import verify.pytest_plugin as plugin
>>> plugin.assert_holds is __import__("verify.inequality").inequality.assert_holds
True
"""

from __future__ import annotations

import json

import pytest

from verify.handle import Simulation, Undecided
from verify.inequality import (PROFILES, Ceil, Floor, InequalityFailed, InequalityReport, K_t,
                               SYMBOLS, assert_holds, check_inequality, configure, settings,
                               take_records)

__all__ = ["assert_holds", "check_inequality", "Ceil", "Floor", "K_t", "SYMBOLS", "Simulation",
           "Undecided", "InequalityFailed", "InequalityReport", "RECORD_KEY"]

RECORD_KEY = "dmf_verify"  # the key of the records in a test report's user_properties
_OLD = pytest.StashKey[dict]()


def pytest_addoption(parser):
    g = parser.getgroup("dmf-verify", "dmf-verify: user inequalities on admissible instances")
    g.addoption("--dmf-profile", choices=tuple(PROFILES), default=None,
                help="instances per check_inequality and shrink budget: "
                     + ", ".join(f"{k} {v['count']}" for k, v in PROFILES.items())
                     + " (default: default)")
    g.addoption("--dmf-dps", type=int, default=None, metavar="DIGITS",
                help="starting precision of the simulations (default 50)")
    g.addoption("--dmf-max-dps", type=int, default=None, metavar="DIGITS",
                help="highest precision an UNDECIDED comparison escalates to (default 250)")
    g.addoption("--dmf-seed", type=int, default=None, metavar="SEED",
                help="seed of the instances check_inequality draws (default 0)")
    g.addoption("--dmf-symbolic-timeout", type=float, default=None, metavar="SECONDS",
                help="seconds SymPy gets to decide a relation (default 5)")


def pytest_configure(config):
    kw = {}
    for opt, key in (("dmf_profile", "profile"), ("dmf_dps", "dps"), ("dmf_max_dps", "max_dps"),
                     ("dmf_seed", "seed"), ("dmf_symbolic_timeout", "symbolic_timeout")):
        v = config.getoption(opt, None)
        if v is not None:
            kw[key] = v
    try:
        config.stash[_OLD] = configure(**kw)
    except ValueError as exc:
        raise pytest.UsageError(f"dmf-verify: {exc}") from None
    config.pluginmanager.register(_Collector(), "dmf-verify-collector")


def pytest_unconfigure(config):
    old = config.stash.get(_OLD, None)
    if old is not None:
        configure(**old)


def pytest_report_header(config):
    s = settings()
    return (f"dmf-verify: profile {s['profile']}, dps {s['dps']}..{s['max_dps']}, "
            f"seed {s['seed']}")


@pytest.fixture
def dmf_settings():
    """The settings in force (profile, dps, max_dps, seed, symbolic_timeout)."""
    return settings()


@pytest.fixture
def dmf_strategies():
    """:mod:`verify.strategies` (admissible instances of every spec)."""
    import verify.strategies

    return verify.strategies


def pytest_runtest_setup(item):
    take_records()  # records belong to the test that made them


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if call.when == "call":
        recs = take_records()
        if recs:
            rep.user_properties.append((RECORD_KEY, json.dumps(recs, default=str)))
        if call.excinfo is not None and call.excinfo.errisinstance(Undecided) \
                and not hasattr(rep, "wasxfail"):
            rep.outcome = "skipped"
            rep.wasxfail = f"UNDECIDED: {call.excinfo.value}".splitlines()[0]


class _Collector:
    """Gathers the records where the test reports arrive (the controller under xdist: the
    records travel in ``user_properties``) and writes the summary section."""

    def __init__(self):
        self.collected: list = []

    def pytest_runtest_logreport(self, report):
        for key, value in getattr(report, "user_properties", ()):
            if key == RECORD_KEY:
                self.collected.append((report.nodeid, json.loads(value)))

    def pytest_terminal_summary(self, terminalreporter, exitstatus, config):
        if not self.collected:
            return
        terminalreporter.write_sep("=", "dmf-verify")
        terminalreporter.write_line("verdict   inequality: instances; certified; worst slack "
                                    "(relative); tightness (smaller/larger side, max)")
        for line in summary_lines(self.collected):
            terminalreporter.write_line(line)


def _fmt(x, spec=".4g"):
    return "-" if x is None else format(x, spec)


def summary_lines(collected) -> list[str]:
    """One line per user claim (records merged by name): verdict counts, certified, worst
    slack, tightness, SymPy's answer, the shrunk counterexample."""
    by: dict = {}
    for nodeid, recs in collected:
        for r in recs:
            cur = by.setdefault(r["name"], {"counts": {}, "certified": 0, "worst_slack": None,
                                            "tightness": None, "tests": set(), "extra": []})
            for k, v in r["counts"].items():
                cur["counts"][k] = cur["counts"].get(k, 0) + v
            cur["certified"] += r["certified"]
            for key, pick in (("worst_slack", min), ("tightness", max)):
                if r[key] is not None:
                    cur[key] = r[key] if cur[key] is None else pick(cur[key], r[key])
            cur["tests"].add(nodeid)
            if r.get("symbolic"):
                cur["extra"].append(f"SymPy: {r['symbolic']}")
            if r.get("shrunk"):
                cur["extra"].append(f"shrunk counterexample: {json.dumps(r['shrunk'], sort_keys=True)}")
    lines = []
    for name, c in by.items():
        n = c["counts"]
        verdict = ("FAIL" if n.get("FAIL") else "UNDECIDED" if n.get("UNDECIDED")
                   else "PASS" if n.get("PASS") else "N/A")
        lines.append(f"{verdict:<9} {name}: {n.get('PASS', 0)} pass, {n.get('FAIL', 0)} fail, "
                     f"{n.get('UNDECIDED', 0)} undecided, {n.get('N/A', 0)} n/a; "
                     f"{c['certified']} certified; worst slack {_fmt(c['worst_slack'])}; "
                     f"tightness {_fmt(c['tightness'])}")
        for e in dict.fromkeys(c["extra"]):
            lines.append(f"          {e}")
    return lines
