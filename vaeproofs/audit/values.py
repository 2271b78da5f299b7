"""Abstract values of the static analysis: what one traced node can evaluate to.

- :class:`~vaeproofs.audit.intervals.Interval`: a tensor whose elements each lie in the
  interval (a trainable layer's output or the model's input: all reals);
- :class:`Const`: a value known exactly (a buffer, a parameter that does not train, a
  literal, or anything computed from those alone);
- :class:`Pieces`: the tuple returned by ``chunk``/``split``/``unbind``, every piece in
  one interval;
- :data:`OPAQUE`: a non-tensor value that depends on the input (a size, a shape).

:class:`NotDecidable` carries the reason the analysis stops without a guess.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch

from vaeproofs.audit.intervals import Interval

__all__ = ["OPAQUE", "Const", "NotDecidable", "Pieces", "as_interval", "describe"]


class NotDecidable(Exception):
    """The floor cannot be decided statically; the message is the reason."""


@dataclass(frozen=True)
class Const:
    """A value known exactly: a tensor, a number, or a structure of them."""

    value: Any


@dataclass(frozen=True)
class Pieces:
    """A tuple of tensors (from chunk/split/unbind) whose elements all lie in ``interval``."""

    interval: Interval


class _Opaque:
    def __repr__(self) -> str:
        return "OPAQUE"


#: A non-tensor value computed from the input (for example ``z.size(0)``).
OPAQUE = _Opaque()


def as_interval(value: object, what: str = "an operand") -> Interval:
    """The interval holding every element of ``value``.

    Raises:
        NotDecidable: for a value that is not a tensor or a number (or holds nan).
    """
    if isinstance(value, Interval):
        return value
    if isinstance(value, Const):
        v = value.value
        if isinstance(v, bool | int | float):
            if math.isnan(float(v)):
                raise NotDecidable(f"{what} is nan")
            return Interval.point(float(v))
        if isinstance(v, torch.Tensor) and v.numel() > 0:
            t = v.detach().to(device="cpu", dtype=torch.float64)
            if torch.isnan(t).any():
                raise NotDecidable(f"{what} holds nan")
            return Interval(float(t.min()), float(t.max()))
    raise NotDecidable(f"{what} is not a tensor or a number ({type(value).__name__})")


def describe(value: Const) -> str:
    """A short text for a constant in an expression."""
    v = value.value
    if isinstance(v, torch.Tensor):
        v = v.detach()
        if v.numel() == 1:
            return f"{float(v):.6g}"
        t = v.detach().to(torch.float64)
        if v.numel() > 0 and float(t.min()) == float(t.max()):
            return f"{float(t.min()):.6g}"
        return f"const{tuple(v.shape)}"
    if isinstance(v, float):
        return f"{v:.6g}"
    return repr(v)
