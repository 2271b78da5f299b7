"""Typed fact records: the machine-checkable conclusions of a derivation, as fields.

A :class:`~vaeproofs.symbolic.derivation.Derivation` keeps its ``facts`` as a plain
mapping (JSON-ready, shared by the older derivations).  The derivations added for the
claims beyond the thread also define a frozen dataclass of their facts, a subclass of
:class:`FactRecord`: the derivation stores ``record.to_json()`` in ``facts``, and the
claims layer reads the facts back through :meth:`FactRecord.of`, so a misspelt or missing
fact is an error at once rather than a silently undecided claim.

Field values are plain Python (``bool``, ``float``, ``int``, ``str``); sympy results stay
in the derivation's ``results``.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from vaeproofs.symbolic.derivation import Derivation

__all__ = ["FactRecord"]

R = TypeVar("R", bound="FactRecord")


@dataclass(frozen=True)
class FactRecord:
    """Base class of the typed fact records (subclasses are frozen dataclasses)."""

    def to_json(self) -> dict[str, Any]:
        """The facts as a JSON-ready dict (field name -> bool, int, float or str)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if not isinstance(value, (bool, int, float, str)):
                raise TypeError(f"{type(self).__name__}.{f.name}: must be bool, int, float or "
                                f"str, got {type(value).__name__}")
            out[f.name] = value
        return out

    @classmethod
    def of(cls: type[R], derivation: Derivation) -> R:
        """Read the record back from ``derivation.facts`` (every field must be present)."""
        names = [f.name for f in fields(cls)]
        missing = [n for n in names if n not in derivation.facts]
        if missing:
            raise KeyError(f"{derivation.name}: facts lack {', '.join(missing)} "
                           f"(expected the fields of {cls.__name__})")
        return cls(**{n: derivation.facts[n] for n in names})
