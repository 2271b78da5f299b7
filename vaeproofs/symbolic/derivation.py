"""A derivation: an ordered list of explained steps with sympy expressions.

Every symbolic helper in :mod:`vaeproofs.symbolic` returns a :class:`Derivation`.
It is plain data: the functions that build it compute every expression with
sympy; this module only renders them (text for the terminal, Markdown with LaTeX
for files, MathML for the HTML report).  Nothing here prints or writes files.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sympy as sp

__all__ = ["Derivation", "Step", "equation"]


@dataclass(frozen=True)
class Step:
    """One step: a sentence and, optionally, the expression it establishes.

    ``expr`` is any sympy object (an ``Eq`` for "lhs = rhs", a plain expression,
    a ``Relational`` for a bound); ``None`` for a purely verbal step.
    """

    text: str
    expr: sp.Basic | None = None


@dataclass
class Derivation:
    """A named derivation with its sources, steps and machine-checkable results.

    Attributes:
        name: short identifier, used by ``vaeproofs derive NAME``.
        title: one-line human title.
        sources: citations of the formulas reproduced (paper, section, equation).
        steps: the derivation, in order.
        results: named sympy results that tests and claims check (e.g. a
            difference that must simplify to 0, a critical point, a rate).
        facts: named plain-Python facts computed from the results (bools, floats),
            for the claims layer.
    """

    name: str
    title: str
    sources: list[str] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)
    results: dict[str, Any] = field(default_factory=dict)
    facts: dict[str, Any] = field(default_factory=dict)

    def step(self, text: str, expr: sp.Basic | None = None) -> sp.Basic | None:
        """Append a step and return its expression (so calls can be chained)."""
        self.steps.append(Step(text, expr))
        return expr

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
