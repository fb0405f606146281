"""What every study of :mod:`verify.beyond` shares: the result schema, its validation, the
table, figure files, and the low-rank interval read off a trajectory of singular values.

A result is a JSON-ready dict::

    {"study": "momentum", "schema": 1, "title": ..., "seed": 0, "params": {...},
     "columns": ["beta", "T0", ...], "rows": [{"beta": 0.0, "T0": 102, ..., "label": "M1"}],
     "finding": "one sentence", "labels": {"EMPIRICAL": 12, "M1": 3}, "notes": [...]}

``label`` is ``"EMPIRICAL"`` (measured, no claim covers it) or the ID of the registry claim
whose checked statement covers that row; never PASS.

>>> r = study_result("demo", title="t", seed=0, params={"n": 3}, columns=["n", "T0"],
...                  rows=[{"n": 3, "T0": 5, "label": "EMPIRICAL"}], finding="T0 is 5.")
>>> validate_result(r) is r
True
>>> print(render_table(r))
demo: t (seed 0)
n  T0  label
3  5   EMPIRICAL
finding: T0 is 5.
>>> observed_interval([0.1, 0.5, 0.95, 0.99], [0.0, 0.01, 0.02, 0.2], level=0.9, threshold=0.1)
(2, 3)
"""

from __future__ import annotations

import math
import os
from collections import Counter

__all__ = [
    # results
    "SCHEMA_VERSION", "study_result", "validate_result", "render_table",
    # measurements
    "first_crossing", "observed_interval", "effective_rank",
    # files
    "save_figure",
]

SCHEMA_VERSION = 1
_TOP_KEYS = ("study", "schema", "title", "seed", "params", "columns", "rows", "finding",
             "labels", "notes")


def _jsonable(value):
    """Plain JSON values only (numpy scalars and mpf are converted; NaN/inf refused)."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float) or hasattr(value, "__float__"):
        v = float(value)
        if not math.isfinite(v):
            raise ValueError(f"a result holds a non-finite number ({v}); report None instead")
        return v
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    raise ValueError(f"a result holds a value JSON cannot carry: {type(value).__name__}")


def study_result(study: str, *, title: str, seed: int, params: dict, columns: list[str],
                 rows: list[dict], finding: str, notes: list[str] | None = None) -> dict:
    """A study's result in the common schema (validated; numbers made plain JSON)."""
    rows = [_jsonable(r) for r in rows]
    out = {"study": study, "schema": SCHEMA_VERSION, "title": title, "seed": int(seed),
           "params": _jsonable(params), "columns": list(columns), "rows": rows,
           "finding": finding,
           "labels": dict(sorted(Counter(r.get("label") for r in rows).items())),
           "notes": list(notes or [])}
    return validate_result(out)


def validate_result(result: dict) -> dict:
    """``result`` itself if it follows the schema, else ValueError naming what is wrong."""
    if not isinstance(result, dict):
        raise ValueError("a study result is a dict")
    missing = [k for k in _TOP_KEYS if k not in result]
    if missing:
        raise ValueError(f"study result lacks {', '.join(missing)}")
    if result["schema"] != SCHEMA_VERSION:
        raise ValueError(f"study result schema {result['schema']!r}, expected {SCHEMA_VERSION}")
    if not isinstance(result["finding"], str) or not result["finding"].strip():
        raise ValueError("a study result states its finding in one sentence")
    if not result["rows"]:
        raise ValueError("a study result has at least one row")
    for i, row in enumerate(result["rows"]):
        label = row.get("label")
        if not isinstance(label, str) or not label:
            raise ValueError(f"row {i} has no label (EMPIRICAL or a claim ID)")
        if label.upper() in ("PASS", "FAIL"):
            raise ValueError(f"row {i} is labelled {label}: a study reports EMPIRICAL or a "
                             f"claim ID, never a verdict")
        unknown = [c for c in result["columns"] if c not in row]
        if unknown:
            raise ValueError(f"row {i} lacks column(s) {', '.join(unknown)}")
    return result


def _cell(v) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def render_table(result: dict) -> str:
    """The result as a plain-text table (columns, then label), then the finding."""
    cols = list(result["columns"]) + ["label"]
    cells = [[_cell(r.get(c)) for c in cols] for r in result["rows"]]
    widths = [max(len(c), *(len(row[j]) for row in cells)) for j, c in enumerate(cols)]

    def line(parts):
        return "  ".join(p.ljust(w) for p, w in zip(parts, widths)).rstrip()

    out = [f"{result['study']}: {result['title']} (seed {result['seed']})", line(cols)]
    out += [line(row) for row in cells]
    out += [f"note: {n}" for n in result["notes"]]
    out.append(f"finding: {result['finding']}")
    return "\n".join(out)


# ---------------------------------------------------------------------------------------
# measurements


def first_crossing(values, level, *, above: bool = True):
    """The first index k with values[k] >= level (``above``) or > level (not ``above``:
    the first k with values[k] > level, the T1 convention), or None if there is none."""
    for k, v in enumerate(values):
        if (v >= level) if above else (v > level):
            return k
    return None


def observed_interval(learned, leaked, *, level, threshold):
    """(T0, T1) read off two series indexed by step: T0 = first step with
    ``learned[k] >= level`` (the r-th singular value of the product has reached its level),
    T1 = first step with ``leaked[k] > threshold`` (the (r+1)-th has left the small regime).
    Either is None if it does not happen within the series (censored); the interval is
    nonempty when T0 is not None and (T1 is None or T0 <= T1 - 1)."""
    return first_crossing(learned, level), first_crossing(leaked, threshold, above=False)


def effective_rank(singular_values, *, rel: float = 1e-3) -> int:
    """How many singular values are >= rel * the largest (0 for the zero matrix)."""
    sv = [abs(float(s)) for s in singular_values]
    top = max(sv, default=0.0)
    return 0 if top == 0 else sum(1 for s in sv if s >= rel * top)


# ---------------------------------------------------------------------------------------
# files


def save_figure(fig, out_dir: str, stem: str) -> list[str]:
    """Write ``fig`` as ``out_dir/stem.png`` and ``.pdf`` (fixed metadata, so reruns give the
    same files); return the two paths."""
    paths = []
    for ext, meta in (("png", {"Software": None}), ("pdf", {"CreationDate": None,
                                                            "Producer": None,
                                                            "Creator": None})):
        path = os.path.join(out_dir, f"{stem}.{ext}")
        fig.savefig(path, dpi=120 if ext == "png" else None, metadata=meta)
        paths.append(path)
    return paths
