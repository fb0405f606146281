"""The matrices of an instance: W from (spectrum, seed), E by kind, Y = W + E.

Instances are JSON-able dicts; the matrices are rebuilt from them at the working precision
(``W = V diag(spectrum) V^T`` with V from ``seed``; E by ``noise_kind``: ``"random"`` of
norm ``e`` with seed ``seed + 1``, ``"worst"`` the Weyl-extremal
``-e sum_{i<=r} v_i v_i^T + e sum_{i>r} v_i v_i^T``, ``"aligned"``
``sum_i noise_i v_i v_i^T`` with the list ``noise`` (``max |noise_i| = e``, so e = ||E||_2),
or ``"explicit"``: the matrices ``W`` and ``E`` themselves, lists of rows of numbers, with
no spectrum, seed or e; then e is ||E||_2 of the given E). The checks and the instance
builders both read instances through this module.

>>> _, obs = perturbed_problem({"spectrum": [2, 1], "seed": 0, "e": 0.25,
...                             "noise_kind": "worst", "r": 1}, 30)
>>> [float(x) for x in obs.t]
[1.75, 1.25]
"""

from __future__ import annotations

import mpmath

from verify.instances import (Target, _to_mpf, aligned_perturbation, observed, psd_target,
                              random_perturbation, symmetric_eigen, validate_matrix,
                              weyl_extremal_perturbation)

__all__ = ["NOISE_KINDS", "perturbed_problem", "observed_eigenvalues_float", "r1_observed_matrix",
           "field", "int_field"]

NOISE_KINDS = ("random", "worst", "aligned", "explicit")


def field(inst, key):
    """``inst[key]``; ValueError naming the field if it is missing."""
    if key not in inst:
        raise ValueError(f"instance lacks the field {key!r}")
    return inst[key]


def int_field(inst, key, lo, hi=None):
    """An integer field in ``lo..hi`` (ValueError naming it otherwise; bools refused)."""
    v = field(inst, key)
    if isinstance(v, bool) or not isinstance(v, int) or v < lo or (hi is not None and v > hi):
        rng = f">= {lo}" if hi is None else f"in {lo}..{hi}"
        raise ValueError(f"{key} must be an integer {rng}, got {v!r}")
    return v


def perturbed_problem(inst, dps: int):
    """(target, observed) of an instance: W from (spectrum, seed), E by noise_kind.

    Validates the fields it uses; ValueError names the problem.
    """
    from verify.checks.verdict import param

    kind = inst.get("noise_kind", "random")
    if kind not in NOISE_KINDS:
        raise ValueError(f"noise_kind must be one of {NOISE_KINDS}, got {kind!r}")
    if kind == "explicit":
        return _explicit_problem(inst, dps)
    spectrum = field(inst, "spectrum")
    if isinstance(spectrum, (str, bytes)) or not hasattr(spectrum, "__iter__"):
        raise ValueError(f"spectrum must be a list of numbers, got {spectrum!r}")
    spectrum = list(spectrum)
    seed = int_field(inst, "seed", 0)
    with mpmath.workdps(dps):
        e = param(inst, "e", ge=0)
    target = psd_target(spectrum, seed=seed, dps=dps)
    n = target.n
    if kind == "random":
        E = random_perturbation(n, e, seed=seed + 1, dps=dps)
    elif kind == "aligned":
        E = aligned_perturbation(target, field(inst, "noise"), dps=dps)  # validates noise
        with mpmath.workdps(dps):
            size = max(abs(_to_mpf(x, what="noise")[0]) for x in inst["noise"])
            if size != e:
                raise ValueError(f"noise: max |noise_i| = {mpmath.nstr(size, 17)} must equal "
                                 f"e = {mpmath.nstr(e, 17)} (e is ||E||_2)")
    else:
        r = int_field(inst, "r", 0, n)
        E = weyl_extremal_perturbation(target, r, e, dps=dps)
    return target, observed(target, E, dps=dps)


def _explicit_problem(inst, dps):
    """(target, observed) of an instance that gives W and E as matrices (lists of rows):
    W symmetric positive semidefinite (to the tolerance of verify.instances.validate_matrix),
    its spectrum and eigenvectors computed at ``dps``; e = ||E||_2 of the given E.

    >>> _, obs = perturbed_problem({"noise_kind": "explicit", "W": [[1, 0], [0, 0]],
    ...                             "E": [[0, 0.5], [0.5, 0]]}, 30)
    >>> [mpmath.nstr(x, 10) for x in obs.t], mpmath.nstr(obs.e, 10)
    (['1.207106781', '-0.2071067812'], '0.5')
    """
    W = validate_matrix(field(inst, "W"), name="W", symmetric=True, psd=True, dps=dps)
    E = validate_matrix(field(inst, "E"), name="E", symmetric=True, dps=dps)
    if E.rows != W.rows:
        raise ValueError(f"E is {E.rows}x{E.rows}, W is {W.rows}x{W.rows}")
    s, V = symmetric_eigen(W, dps=dps)
    target = Target(W=W, s=s, V=V, dps=dps)
    return target, observed(target, E, dps=dps)


def observed_eigenvalues_float(spectrum, seed, e, kind, r):
    """Y's eigenvalues as floats (for the builders' step estimates)."""
    inst = {"spectrum": spectrum, "seed": seed, "e": e, "noise_kind": kind, "r": r}
    _, obs = perturbed_problem(inst, 20)
    return [float(x) for x in obs.t]


def r1_observed_matrix(inst, dps: int):
    """Y = W + E for an R1 instance: W PSD with the given spectrum, E random of norm `noise`."""
    target = psd_target(inst["spectrum"], seed=inst["seed"], dps=dps)
    E = random_perturbation(inst["n"], inst["noise"], seed=inst["seed"] + 1, dps=dps)
    return observed(target, E, dps=dps)
