"""The evaluated record of one construction: a typed row with its derived properties.

A :class:`ConstructionRow` is what :func:`vaeproofs.constructions.evaluate_construction`
returns and what the claims layer, the figure and ``derivations/constructions.py`` read.
Its properties (:attr:`ConstructionRow.increasing`, :attr:`ConstructionRow.under_cap`,
:attr:`ConstructionRow.limit_is_infinite`) are computed here, from the exact decimal
values, so no caller re-parses the row.  :meth:`ConstructionRow.to_json` is the JSON
object written by the derivation script.
"""

from __future__ import annotations

import itertools
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any

__all__ = ["ConstructionRow", "FloatLimitRecord"]


@dataclass(frozen=True)
class FloatLimitRecord:
    """Where a floating-point type stops following the sequence, and why."""

    value: str
    reason: str

    @property
    def reached(self) -> bool:
        """True when the float type stops somewhere along the sequence."""
        return not self.reason.startswith("none")


@dataclass(frozen=True)
class ConstructionRow:
    """One construction evaluated along its sequence (all mpmath values as decimal strings).

    Attributes:
        name, title: the construction's registry name and one-line title.
        objective: what is evaluated ("exact log-likelihood, total over n points", ...).
        bounded: whether the objective is bounded along the family (computed by sympy).
        parameter: the collapse parameter's name; ``parameter_values`` its values.
        values: the exact objective at each value (mpmath, ``dps`` digits).
        torch_float64: the explicit torch network's float64 value (``None`` where float64
            cannot follow); ``torch_rel_error`` its relative error against mpmath.
        correct_digits: agreement of each value with a run at raised precision (``None``
            when not checked).
        asymptote, asymptote_digits, remainder_bound: the sympy asymptote, its agreement,
            and a proven bound on ``|value - asymptote|`` where derived.
        rate: the asymptotic rate, as text from sympy (natural log).
        cap: the derived cap (``None`` when the family is unbounded).
        limit: the sympy limit along the sequence (``sympy.sstr``); ``limit_value`` its
            value to 10 digits when finite, ``None`` when not a finite number.
        float64_limit, float32_limit: where each float type stops following.
        sources: the papers the construction reproduces.
        diagnostics: construction-specific numbers (see ``Construction.diagnostics``).
        rate_note: what the sequence's rate says about the supremum (``Construction.rate_note``).
        seconds: wall time of the evaluation.
    """

    name: str
    title: str
    objective: str
    bounded: bool
    parameter: str
    parameter_values: tuple[str, ...]
    values: tuple[str, ...]
    torch_float64: tuple[float | None, ...]
    torch_rel_error: tuple[float | None, ...]
    correct_digits: tuple[int | None, ...] | None
    asymptote: tuple[str, ...]
    asymptote_digits: tuple[int, ...]
    remainder_bound: tuple[str | None, ...]
    rate: str
    cap: str | None
    limit: str
    limit_value: str | None
    float64_limit: FloatLimitRecord
    float32_limit: FloatLimitRecord
    sources: tuple[str, ...]
    seconds: float
    diagnostics: dict[str, Any] = field(default_factory=dict)
    rate_note: str = ""

    @property
    def exact_values(self) -> list[Decimal]:
        """The evaluated values as exact decimals (no float rounding)."""
        return [Decimal(v) for v in self.values]

    @property
    def increasing(self) -> bool:
        """Whether the values increase strictly along the sequence (exact comparison)."""
        return all(b > a for a, b in itertools.pairwise(self.exact_values))

    @property
    def under_cap(self) -> bool:
        """Whether every value is <= the cap (``True`` when there is no cap)."""
        if self.cap is None:
            return True
        cap = Decimal(self.cap)
        return all(v <= cap for v in self.exact_values)

    @property
    def limit_is_infinite(self) -> bool:
        """Whether the sympy limit along the sequence is +oo."""
        return self.limit == "oo"

    @property
    def diverges(self) -> bool:
        """Unbounded family, increasing values and an infinite limit: a proof of divergence."""
        return (not self.bounded) and self.increasing and self.limit_is_infinite

    def first_value_above(self, bound: str) -> str | None:
        """The first value (as text) above ``bound`` (a decimal string), or ``None``."""
        b = Decimal(bound)
        return next((v for v in self.values if Decimal(v) > b), None)

    @property
    def max_torch_rel_error(self) -> float | None:
        """The largest relative error of the float64 network where float64 follows."""
        rel = [r for r in self.torch_rel_error if r is not None]
        return max(rel) if rel else None

    @property
    def min_correct_digits(self) -> int | None:
        """The fewest correct digits over the checked values (``None`` if unchecked)."""
        digits = [d for d in (self.correct_digits or ()) if d is not None]
        return min(digits) if digits else None

    def to_json(self) -> dict[str, Any]:
        """The JSON object of ``derivations/constructions.py`` (lists, not tuples)."""
        out = asdict(self)
        return {k: list(v) if isinstance(v, tuple) else v for k, v in out.items()}
