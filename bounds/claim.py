"""Data types for the claims of THEORY.md: a claim is a statement with named hypotheses,
a conclusion, numeric evaluators and a pointer into ``docs/theory.md``.

Names follow the mathlib convention: the conclusion first, hypotheses appended with
``_of_`` (e.g. ``hitting_time_ge_flow_time_of_monotone_step``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Callable, Mapping, Union

import sympy as sp

__all__ = ["Hypothesis", "Claim"]

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
        object.__setattr__(self, "evaluators", MappingProxyType(dict(ev)))
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
