"""A derivation: explained steps with sympy expressions, and typed, computed records.

Every derivation in :mod:`vaeproofs.symbolic` returns a :class:`Derivation`.  It is
plain data: the function that builds it computes every expression with sympy; this
module only renders them (text for the terminal, Markdown with LaTeX for files,
MathML for the HTML report, JSON).  Nothing here prints or writes files.

A derivation's machine-checkable outcome comes in two typed records, each a frozen
dataclass with one explicit field per item (subclasses of :class:`Record`):

- ``results``: the sympy expressions it establishes (a critical point, a limit, a
  difference that must be 0);
- ``facts``: what those results mean, computed from them (bools, sympy values).

The claims layer reads facts as attributes, so a renamed fact fails loudly (an
``AttributeError``, and an error in the type checker), never by quietly weakening
the evidence.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import sympy as sp

__all__ = ["Derivation", "DerivationBuilder", "NamedResults", "NoResults", "Record", "Step", "StepLog",
           "equation", "json_value", "limit_str"]


def json_value(value: Any) -> Any:
    """A JSON-ready form of a fact or result: bools, ints, floats and strings as they
    are, sympy objects as their string (``sp.sstr``), sequences and dicts element-wise."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Record):
        return value.to_json()
    if isinstance(value, dict):
        return {str(k): json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_value(v) for v in value]
    return sp.sstr(value)


def limit_str(value: sp.Expr) -> str:
    """``'+oo'``, ``'-oo'`` or sympy's string for a limit value."""
    if value == sp.oo:
        return "+oo"
    if value == -sp.oo:
        return "-oo"
    return str(value)


@dataclass(frozen=True)
class Record:
    """Base of the typed facts and results records: a frozen dataclass of named values."""

    def items(self) -> list[tuple[str, Any]]:
        """``(field name, value)`` in declaration order."""
        return [(f.name, getattr(self, f.name)) for f in dataclasses.fields(self)]

    def to_json(self) -> dict[str, Any]:
        """Field name -> JSON-ready value (sympy objects as strings)."""
        return {name: json_value(value) for name, value in self.items()}


@dataclass(frozen=True)
class NoResults(Record):
    """The results record of a derivation whose outcome is entirely in its facts."""


FactsT = TypeVar("FactsT", bound=Record)
ResultsT = TypeVar("ResultsT", bound=Record)


@dataclass(frozen=True)
class Step:
    """One step: a sentence and, optionally, the expression it establishes.

    ``expr`` is any sympy object (an ``Eq`` for "lhs = rhs", a plain expression,
    a ``Relational`` for a bound); ``None`` for a purely verbal step.
    """

    text: str
    expr: sp.Basic | None = None


@dataclass
class StepLog:
    """The steps of a derivation, collected while it is computed."""

    steps: list[Step] = field(default_factory=list)

    def __call__(self, text: str, expr: sp.Basic | None = None) -> sp.Basic | None:
        """Append a step and return its expression (so calls can be chained)."""
        self.steps.append(Step(text, expr))
        return expr


@dataclass(frozen=True)
class Derivation(Generic[FactsT, ResultsT]):
    """A named derivation with its sources, steps and typed, machine-checkable records.

    Attributes:
        name: the catalog name, used by ``vaeproofs derive NAME`` and
            ``derivations/NAME.py`` (hyphens there, underscores in file names).
        title: one-line human title.
        sources: citations of the formulas reproduced (paper, section, equation).
        steps: the derivation, in order.
        results: the sympy results that tests and facts are computed from.
        facts: what the results mean (bools, sympy values), for the claims layer.
    """

    name: str
    title: str
    sources: tuple[str, ...]
    steps: tuple[Step, ...]
    results: ResultsT
    facts: FactsT

    def fact_lines(self) -> list[str]:
        """``name = value`` per fact, in field order (for terminals and scripts)."""
        return [f"{name} = {json_value(value)}" for name, value in self.facts.items()]

    def to_json(self) -> dict[str, Any]:
        """The derivation's name, title, sources, facts and results as JSON-ready data."""
        return {"name": self.name, "title": self.title, "sources": list(self.sources),
                "facts": self.facts.to_json(), "results": self.results.to_json()}

    def to_text(self) -> str:
        """Render for a terminal with sympy's pretty printer (unicode)."""
        lines = [self.title, "=" * len(self.title), ""]
        for i, st in enumerate(self.steps, 1):
            lines.append(f"{i}. {st.text}")
            if st.expr is not None:
                pretty = sp.pretty(st.expr, use_unicode=True)
                lines.extend("     " + row for row in pretty.splitlines())
            lines.append("")
        if self.sources:
            lines.append("Sources:")
            lines.extend(f"  - {s}" for s in self.sources)
        return "\n".join(lines).rstrip() + "\n"

    def to_markdown(self, *, level: int = 1) -> str:
        """Render as Markdown with display LaTeX (``$$ ... $$``) from sympy's printer.

        ``level`` is the heading level of the title; sub-headings go one deeper.
        """
        out = [f"{'#' * level} {self.title}", ""]
        for i, st in enumerate(self.steps, 1):
            out.append(f"{i}. {st.text}")
            if st.expr is not None:
                out.extend(["", f"   $$ {sp.latex(st.expr)} $$", ""])
        if self.sources:
            out.extend(["", f"{'#' * (level + 1)} Sources", ""])
            out.extend(f"- {s}" for s in self.sources)
        return "\n".join(out).rstrip() + "\n"

    def to_mathml_items(self) -> list[tuple[str, str | None]]:
        """Return ``(text, presentation MathML or None)`` per step, for the HTML report."""
        items: list[tuple[str, str | None]] = []
        for st in self.steps:
            mml = None
            if st.expr is not None:
                mml = sp.mathml(st.expr, printer="presentation")
            items.append((st.text, mml))
        return items


def equation(lhs: sp.Basic, rhs: sp.Basic) -> sp.Basic:
    """``Eq(lhs, rhs)`` left unevaluated, for display in a step.

    Evaluating an equation with an unevaluated ``Limit`` or ``Integral`` on one side
    can make sympy attempt the limit or integral again (slowly); a displayed step only
    needs the two sides.
    """
    return sp.Eq(lhs, rhs, evaluate=False)


class NamedResults(Record):
    """A results record built from named sympy values (``results.cap``, ``results["cap"]``).

    Used by :class:`DerivationBuilder`, whose derivations collect their results by name
    while they are computed; their *facts* are a typed record like every derivation's.
    """

    def __init__(self, values: dict[str, Any]) -> None:
        object.__setattr__(self, "_values", dict(values))

    def __getattr__(self, name: str) -> Any:
        try:
            return self.__dict__["_values"][name]
        except KeyError:
            raise AttributeError(f"results have no {name!r}") from None

    def __getitem__(self, name: str) -> Any:
        return self._values[name]

    def __setattr__(self, name: str, value: Any) -> None:
        raise dataclasses.FrozenInstanceError(f"cannot assign to results.{name}")

    def __contains__(self, name: object) -> bool:
        return name in self._values

    def items(self) -> list[tuple[str, Any]]:
        """``(name, value)`` in the order the results were recorded."""
        return list(self._values.items())

    def to_json(self) -> dict[str, Any]:
        """Name -> JSON-ready value (sympy objects as strings)."""
        return {name: json_value(value) for name, value in self.items()}


@dataclass
class DerivationBuilder:
    """Collects a derivation's steps and named results while it is computed.

    ``d.step(text, expr)`` appends a step; ``d.results.update(...)`` records sympy
    results; :meth:`build` returns the frozen :class:`Derivation` with the typed facts.
    """

    name: str
    title: str
    sources: list[str] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)
    results: dict[str, Any] = field(default_factory=dict)

    def step(self, text: str, expr: sp.Basic | None = None) -> sp.Basic | None:
        """Append a step and return its expression (so calls can be chained)."""
        self.steps.append(Step(text, expr))
        return expr

    def build(self, facts: FactsT) -> Derivation[FactsT, NamedResults]:
        """The finished derivation with ``facts`` (a typed record)."""
        return Derivation(name=self.name, title=self.title, sources=tuple(self.sources),
                          steps=tuple(self.steps), results=NamedResults(self.results), facts=facts)
