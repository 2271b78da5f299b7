"""Rules for operations that move, pick, combine, reduce, create or draw elements.

- views, copies and indexing (expand, view, permute, slice, select, index, clone, ...)
  only move or pick elements: the interval is unchanged;
- ``cat``/``stack`` give the hull of their inputs; ``split``/``chunk``/``unbind`` a tuple
  of the input's interval; ``index_put`` and the ``*_scatter`` operations the hull of the
  tensor and the values put;
- ``sum`` of n elements each in [lo, hi] lies in [n lo, n hi] (n = numel(in) / numel(out));
  ``mean``, ``amax``, ``amin`` stay in [lo, hi]; ``logsumexp`` in [lo, hi + log n];
- creation with a fill value (full, ones, zeros_like, scalar_tensor, ...) gives that
  value; uninitialised memory (``empty``) the reals;
- random draws: the range of the distribution (normal: the reals; uniform [0, 1];
  Bernoulli {0, 1}); dropout keeps 0 and x / (1 - p).
"""

from __future__ import annotations

import math
from typing import Any

from vaeproofs.audit.intervals import REALS, Interval
from vaeproofs.audit.rules.base import Call, Rule, hull_all
from vaeproofs.audit.values import Const, NotDecidable, as_interval

__all__ = ["STRUCTURE"]


def _same(call: Call) -> Interval:
    return call.iv(0, "self")


def _getitem(call: Call) -> Any:
    seq, index = call.args[0], call.args[1]
    if isinstance(seq, tuple | list) and isinstance(index, int):
        return seq[index]
    raise NotDecidable("indexing a value that is not a tuple of tensors")


def _pieces(call: Call) -> tuple[Interval, ...]:
    val = call.node.meta.get("val")
    n = len(val) if isinstance(val, list | tuple) else None
    if n is None:
        raise NotDecidable("a split whose number of pieces is unknown")
    return (call.iv(0, "self"),) * n


def _cat(call: Call) -> Interval:
    seq = call.arg(0, "tensors")
    values = list(seq) if isinstance(seq, list | tuple) else [seq]
    # cat skips empty tensors (an empty constant has no elements to bound)
    kept = [v for v in values if not (isinstance(v, Const) and getattr(v.value, "numel", lambda: 1)() == 0)]
    return hull_all(kept)


def _index_put(call: Call) -> Interval:
    if call.arg(3, "accumulate", False):
        raise NotDecidable("index_put with accumulate=True")
    return call.iv(0, "self").hull(call.iv(2, "values"))


def _scatter(call: Call) -> Interval:
    src = call.arg(3, "src", call.arg(3, "value"))
    return call.iv(0, "self").hull(as_interval(src))


def _sum(call: Call) -> Interval:
    return call.iv(0, "self").scale(call.count())


def _logsumexp(call: Call) -> Interval:
    x, n = call.iv(0, "self"), call.count()
    if n < 1:
        raise NotDecidable("logsumexp over no elements")
    return Interval(x.lo, (x + Interval.point(float(n)).log()).hi)


def _fill(i: int, name: str) -> Rule:
    def rule(call: Call) -> Interval:
        return as_interval(call.arg(i, name), "the fill value")
    return rule


def _point(value: float) -> Rule:
    def rule(call: Call) -> Interval:
        return Interval.point(value)
    return rule


def _reals(call: Call) -> Interval:
    return REALS


def _uniform(call: Call) -> Interval:
    lo, hi = call.number(1, "from", 0.0), call.number(2, "to", 1.0)
    return Interval(min(lo, hi), max(lo, hi))


def _bernoulli(call: Call) -> Interval:
    return Interval(0.0, 1.0)


def _native_dropout(call: Call) -> tuple[Interval, Interval]:
    p = call.number(1, "p")
    x = call.iv(0, "input")
    train = call.arg(2, "train", True)
    if train is False or p == 0:
        return x, Interval(0.0, 1.0)
    if p >= 1:
        return Interval.point(0.0), Interval(0.0, 1.0)
    return x.hull(Interval.point(0.0)).hull(x / Interval.point(1.0 - p)), Interval(0.0, 1.0)


def _arange(call: Call) -> Interval:
    val = call.node.meta.get("val")
    if val is None or val.numel() == 0:
        raise NotDecidable("arange of unknown length")
    return as_interval(val)


_VIEWS = (
    "expand", "view", "_unsafe_view", "reshape", "permute", "transpose", "t", "slice", "select",
    "unsqueeze", "squeeze", "clone", "detach", "alias", "_to_copy", "contiguous",
    "lift_fresh_copy", "lift_fresh", "flatten", "unflatten", "index", "index_select", "gather",
    "repeat", "expand_copy", "view_copy", "permute_copy", "transpose_copy", "t_copy",
    "slice_copy", "select_copy", "unsqueeze_copy", "squeeze_copy", "alias_copy", "narrow",
    "flip", "roll", "as_strided", "as_strided_copy", "diagonal", "diagonal_copy", "movedim",
    "_reshape_alias", "unfold", "repeat_interleave", "tile", "masked_select", "take",
    "amax", "amin", "max", "min", "mean", "nanmean", "median", "nanmedian", "sort", "cummax",
    "cummin", "real", "to", "type_as", "resolve_conj", "resolve_neg")

#: Operation name -> rule, for the structural operations (see the module docstring).
STRUCTURE: dict[str, Rule] = {
    **{f"aten.{name}": _same for name in _VIEWS},
    # max/min over a dimension return (values, indices); sort (values, indices)
    "aten.max.dim": lambda call: (call.iv(0, "self"), Interval(0.0, math.inf)),
    "aten.min.dim": lambda call: (call.iv(0, "self"), Interval(0.0, math.inf)),
    "aten.max.other": lambda call: call.iv(0, "self").maximum(call.iv(1, "other")),
    "aten.min.other": lambda call: call.iv(0, "self").minimum(call.iv(1, "other")),
    "aten.sort": lambda call: (call.iv(0, "self"), Interval(0.0, math.inf)),
    "aten.constant_pad_nd": lambda call: call.iv(0, "self").hull(as_interval(call.arg(2, "value", 0.0))),
    "getitem": _getitem,
    "aten.split": _pieces, "aten.split_with_sizes": _pieces, "aten.chunk": _pieces,
    "aten.unbind": _pieces, "aten.tensor_split": _pieces,
    "aten.cat": _cat, "aten.concat": _cat, "aten.stack": _cat,
    "aten.index_put": _index_put, "aten.masked_fill": lambda call: call.iv(0, "self").hull(
        call.iv(2, "value")),
    "aten.scatter": _scatter,
    **{f"aten.{name}": lambda call: call.iv(0, "self").hull(call.iv(1, "src")) for name in (
        "slice_scatter", "select_scatter", "diagonal_scatter", "as_strided_scatter")},
    "aten.copy": lambda call: call.iv(1, "src"),
    "aten.sum": _sum, "aten.logsumexp": _logsumexp,
    "aten.full": _fill(1, "fill_value"), "aten.full_like": _fill(1, "fill_value"),
    "aten.new_full": _fill(2, "fill_value"), "aten.scalar_tensor": _fill(0, "s"),
    "aten.fill": _fill(1, "value"),
    "aten.ones": _point(1.0), "aten.ones_like": _point(1.0), "aten.new_ones": _point(1.0),
    "aten.zeros": _point(0.0), "aten.zeros_like": _point(0.0), "aten.new_zeros": _point(0.0),
    "aten.empty": _reals, "aten.empty_like": _reals, "aten.new_empty": _reals,
    "aten.empty_strided": _reals, "aten.new_empty_strided": _reals,
    "aten.arange": _arange,
    "aten.randn": _reals, "aten.randn_like": _reals, "aten.normal": _reals,
    "aten.normal_functional": _reals,
    "aten.rand": lambda call: Interval(0.0, 1.0),
    "aten.rand_like": lambda call: Interval(0.0, 1.0),
    "aten.uniform": _uniform,
    "aten.bernoulli": _bernoulli, "aten.native_dropout": _native_dropout,
}
