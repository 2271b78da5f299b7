"""Typed fact records: the machine-checkable conclusions of a derivation, as fields.

Every :class:`~vaeproofs.symbolic.derivation.Derivation` keeps its ``facts`` as a typed
record.  The derivations of the claims beyond the thread use :class:`FactRecord`, a
:class:`~vaeproofs.symbolic.derivation.Record` whose fields are plain Python values; the
claims layer reads them through :meth:`FactRecord.of`, which checks the record's type,
so a misspelt or missing fact is an error at once rather than a silently undecided claim.

Field values are plain Python (``bool``, ``float``, ``int``, ``str``); sympy results stay
in the derivation's ``results``.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, TypeVar

from vaeproofs.symbolic.derivation import Derivation, Record

__all__ = ["FactRecord"]

R = TypeVar("R", bound="FactRecord")


@dataclass(frozen=True)
class FactRecord(Record):
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
        """The derivation's facts, checked to be this record type."""
        if not isinstance(derivation.facts, cls):
            raise TypeError(f"{derivation.name}: facts are {type(derivation.facts).__name__}, "
                            f"expected {cls.__name__}")
        return derivation.facts
