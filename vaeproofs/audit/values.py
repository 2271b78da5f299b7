"""Abstract values of the static analysis: what one traced ATen node can evaluate to.

- :class:`~vaeproofs.audit.intervals.Interval`: a tensor whose elements each lie in the
  interval (a trainable parameter, the data input when it ranges freely, anything
  computed from those);
- :class:`Const`: a tensor or number known exactly (a buffer, a parameter held
  constant, a fixed batch, a literal, or anything computed from those alone);
- a ``tuple`` of abstract values: an operation with several outputs
  (``split``, ``native_layer_norm``, ...).

:class:`NotDecidable` carries the reason the analysis stops without a guess.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch

from vaeproofs.audit.intervals import Interval

__all__ = ["Const", "NotDecidable", "Role", "as_interval", "describe"]


class NotDecidable(Exception):
    """The bound cannot be decided statically; the message is the reason."""


@dataclass(frozen=True, eq=False)
class Const:
    """A value known exactly: a tensor or a number."""

    value: Any


@dataclass(frozen=True)
class Role:
    """What a placeholder or captured tensor is: ``free`` (a trainable parameter, ranging over
    the reals), ``input`` (a data input ranging over the reals) or ``const`` (its ``value``)."""

    kind: str
    name: str
    value: Any = None


def as_interval(value: object, what: str = "an operand") -> Interval:
    """The interval holding every element of ``value`` (an Interval, a Const, or a number).

    Raises:
        NotDecidable: for a value that is not a tensor or a number (or holds nan).
    """
    if isinstance(value, Interval):
        return value
    if isinstance(value, Const):
        value = value.value
    if isinstance(value, bool | int | float):
        if math.isnan(float(value)):
            raise NotDecidable(f"{what} is nan")
        return Interval.point(float(value))
    if isinstance(value, torch.Tensor) and value.numel() > 0 and not value.is_complex():
        t = value.detach().to(device="cpu", dtype=torch.float64)
        if torch.isnan(t).any():
            raise NotDecidable(f"{what} holds nan")
        return Interval(float(t.min()), float(t.max()))
    raise NotDecidable(f"{what} is not a real tensor or a number ({type(value).__name__})")


def describe(value: Any) -> str:
    """A short text for a constant in an expression."""
    v = value.value if isinstance(value, Const) else value
    if isinstance(v, torch.Tensor):
        v = v.detach()
        if v.numel() == 1:
            return f"{float(v):.6g}"
        t = v.to(torch.float64)
        if v.numel() > 0 and float(t.min()) == float(t.max()):
            return f"{float(t.min()):.6g}"
        return f"const{tuple(v.shape)}"
    if isinstance(v, float):
        return f"{v:.6g}"
    return repr(v)
