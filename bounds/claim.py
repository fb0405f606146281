"""Data types for the claims of THEORY.md: a claim is a statement with named hypotheses,
a conclusion, numeric evaluators and a pointer into ``docs/theory.md``.

Names follow the mathlib convention: the conclusion first, hypotheses appended with
``_of_`` (e.g. ``hitting_time_ge_flow_time_of_monotone_step``).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Callable, Mapping, Union

import sympy as sp

__all__ = ["Hypothesis", "Tightness", "Claim"]

_Relational = (sp.core.relational.Relational, sp.And, sp.Or, sp.logic.boolalg.BooleanAtom)


@dataclass(frozen=True)
class Hypothesis:
    """A named hypothesis, as a sympy relational (or a conjunction of relationals).

    >>> import sympy as sp
    >>> a = sp.Symbol('alpha', positive=True)
    >>> h = Hypothesis('alpha_pos', sp.Gt(a, 0), 'initial scale is positive')
    >>> h.name, h.relation
    ('alpha_pos', True)
    """

    name: str
    relation: sp.Basic
    description: str

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name.isidentifier():
            raise ValueError(f"hypothesis name must be an identifier, got {self.name!r}")
        if not isinstance(self.relation, _Relational):
            raise ValueError(
                f"hypothesis {self.name}: relation must be a sympy relational or And/Or, "
                f"got {type(self.relation).__name__}"
            )


@dataclass(frozen=True)
class Tightness:
    """How tight a bound of a claim is known to be, and where a witness attains it.

    ``key``: the outcome's ``ratio`` (``"ratio"``) or one of its ``extra_ratios``, as the
    check reports it. ``value(x)`` maps it into (0, 1] (``invert`` for a lower bound
    reported as observed/bound >= 1). ``bound``: the evaluator whose tightness this is
    (``component``: which element of a tuple-valued evaluator); ``loosen``: the factor that
    makes that evaluator weaker (1.02 for an upper bound, 1/1.02 for a lower one).
    ``floor``: the value a witness search must reach (None: an audit only, no witness:
    the value must never exceed 1). ``attained``: where the witnesses are.

    >>> t = Tightness("ratio", "k1_lower", floor=0.99, invert=True, loosen=1 / 1.02,
    ...               attained="eta -> 0")
    >>> t.value(1.25), t.impossible(0.5), t.impossible(1.25)
    (0.8, True, False)
    """

    key: str
    bound: str
    floor: float | None
    attained: str
    invert: bool = False
    loosen: float = 1.02
    component: int | None = None

    def value(self, x: float) -> float:
        return 1 / x if self.invert else x

    def impossible(self, x: float, *, tol: float = 1e-12) -> bool:
        """A value the bound excludes (tightness above 1 on a decided outcome)."""
        return self.value(x) > 1 + tol


class _LiveEvaluators(Mapping):
    """Read-only name -> function mapping that looks module-level functions up in their
    module on every access, so the registry, the checks (which call evaluators through it)
    and a replaced module attribute (a test's monkeypatch) always agree: a wrong bound in
    bounds/ reaches every verdict. Other callables (lambdas, closures) are stored as given."""

    def __init__(self, ev):
        refs = {}
        for k, v in ev.items():
            mod, name = getattr(v, "__module__", None), getattr(v, "__name__", "")
            module = sys.modules.get(mod) if mod else None
            if module is not None and name.isidentifier() and getattr(module, name, None) is v:
                refs[k] = (module, name)
            else:
                refs[k] = v
        self._refs = MappingProxyType(refs)

    def __getitem__(self, key):
        ref = self._refs[key]
        if isinstance(ref, tuple):
            return getattr(ref[0], ref[1])
        return ref

    def __iter__(self):
        return iter(self._refs)

    def __len__(self):
        return len(self._refs)

    def location(self, key) -> tuple[str, str] | None:
        """(module name, attribute) of a module-level evaluator, None for other callables."""
        ref = self._refs[key]
        return (ref[0].__name__, ref[1]) if isinstance(ref, tuple) else None

    def __repr__(self):
        return f"_LiveEvaluators({list(self._refs)})"


@dataclass(frozen=True)
class Claim:
    """One claim of THEORY.md.

    ``conclusion`` is a sympy relational, or a string when the conclusion is a predicate
    on whole trajectories.  ``evaluators`` maps names to the numeric functions that
    implement the claim's bounds and hypothesis checks (stored read-only).

    >>> import sympy as sp
    >>> x = sp.Symbol('x')
    >>> c = Claim('Z0', 'sq_nonneg', 'x^2 >= 0', (), sp.Ge(x**2, 0), (('sq', lambda v: v * v),), 'docs/theory.md#z0')
    >>> c.evaluators['sq'](3), c.anchor
    (9, 'z0')
    """

    id: str
    name: str
    statement: str
    hypotheses: tuple
    conclusion: Union[sp.Basic, str]
    evaluators: Mapping[str, Callable] = field(default_factory=dict, hash=False, compare=False)
    docs: str = ""
    tightness: tuple = ()

    def __post_init__(self):
        if not isinstance(self.hypotheses, tuple) or not all(
            isinstance(h, Hypothesis) for h in self.hypotheses
        ):
            raise ValueError(f"claim {self.id}: hypotheses must be a tuple of Hypothesis")
        if not isinstance(self.conclusion, (str,) + _Relational):
            raise ValueError(f"claim {self.id}: conclusion must be a sympy relational or str")
        ev = self.evaluators
        if isinstance(ev, tuple):
            ev = dict(ev)
        elif not isinstance(ev, Mapping):
            raise ValueError(f"claim {self.id}: evaluators must be (name, callable) pairs or a mapping")
        for k, v in ev.items():
            if not callable(v):
                raise ValueError(f"claim {self.id}: evaluator {k!r} is not callable")
        object.__setattr__(self, "evaluators", _LiveEvaluators(ev))
        if not isinstance(self.tightness, tuple) or not all(
            isinstance(t, Tightness) and t.bound in ev for t in self.tightness
        ):
            raise ValueError(f"claim {self.id}: tightness must be Tightness of its evaluators")
        if not self.docs.startswith("docs/theory.md#"):
            raise ValueError(f"claim {self.id}: docs must be an anchor 'docs/theory.md#...'")

    @property
    def anchor(self) -> str:
        """The anchor id inside docs/theory.md."""
        return self.docs.split("#", 1)[1]

    @property
    def hypothesis_names(self) -> tuple:
        """Names of the hypotheses, in order."""
        return tuple(h.name for h in self.hypotheses)
