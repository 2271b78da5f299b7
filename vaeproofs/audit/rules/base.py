"""What a rule receives (:class:`Call`) and the helpers rules share."""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from typing import Any

import torch
from torch import fx

from vaeproofs.audit.intervals import Interval
from vaeproofs.audit.values import Const, NotDecidable, as_interval

__all__ = ["Call", "Rule", "hull_all", "number", "rule_name"]


def rule_name(target: object) -> tuple[str, str]:
    """(``aten.op.overload``, ``aten.op``) for an OpOverload; ("getitem", "getitem") for indexing."""
    if target is operator.getitem:
        return "getitem", "getitem"
    if isinstance(target, torch._ops.OpOverload):
        full = str(target)
        return full, str(target.overloadpacket)
    name = getattr(target, "__name__", str(target))
    return name, name


class Call:
    """One node's arguments as abstract values (Interval, Const, tuples; literals as they are)."""

    def __init__(self, node: fx.Node, args: list[Any], kwargs: dict[str, Any]) -> None:
        self.node = node
        self.args = args
        self.kwargs = kwargs

    def arg(self, i: int, name: str, default: Any = None) -> Any:
        """Positional argument ``i`` or keyword ``name``."""
        if len(self.args) > i:
            return self.args[i]
        return self.kwargs.get(name, default)

    def iv(self, i: int, name: str = "", what: str = "an operand") -> Interval:
        """Argument ``i`` as the interval of its elements."""
        return as_interval(self.arg(i, name), what)

    def number(self, i: int, name: str, default: Any = None) -> float:
        """Argument ``i`` as one constant number."""
        return number(self.arg(i, name, default), name or "a scalar argument")

    def shape(self, value: Any = None) -> tuple[int, ...]:
        """The shape of the node's (first) result, from the trace."""
        val = self.node.meta.get("val") if value is None else value
        if isinstance(val, list | tuple):
            val = val[0]
        if not isinstance(val, torch.Tensor):
            raise NotDecidable("the result's shape is unknown")
        return tuple(val.shape)

    def arg_shape(self, i: int) -> tuple[int, ...]:
        """The shape of node argument ``i``, from the trace."""
        a = self.node.args[i] if len(self.node.args) > i else None
        if isinstance(a, fx.Node):
            return self.shape(a.meta.get("val"))
        raise NotDecidable("an argument's shape is unknown")

    def count(self) -> int:
        """numel(first argument) / numel(result): how many elements each output element sums."""
        n_in = math.prod(self.arg_shape(0))
        n_out = math.prod(self.shape())
        if n_out == 0:
            return 0
        return n_in // n_out


Rule = Callable[[Call], Any]


def number(value: Any, what: str) -> float:
    """A constant argument as a float (a one-element constant tensor counts)."""
    if isinstance(value, Const):
        value = value.value
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        return float(value)
    if isinstance(value, bool | int | float):
        return float(value)
    if isinstance(value, Interval) and value.lo == value.hi:
        return value.lo
    raise NotDecidable(f"{what} must be a constant number here, got {type(value).__name__}")


def hull_all(values: list[Any], what: str = "an operand") -> Interval:
    """The smallest interval holding every element of every value."""
    out: Interval | None = None
    for v in values:
        i = as_interval(v, what)
        out = i if out is None else out.hull(i)
    if out is None:
        raise NotDecidable("an empty list of tensors")
    return out
