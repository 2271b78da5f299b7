"""Rules for torch's fused loss operations (``F.mse_loss`` and the like trace to one ATen op).

Each elementwise loss term is bounded from its arguments' intervals, then reduced:
``reduction`` 0 (none) keeps the elementwise interval, 1 (mean) too, 2 (sum) multiplies it
by the number of elements.  Binary cross-entropy with a target in [0, 1] is >= 0 (both
logs are <= 0), with no finite upper end in general.
"""

from __future__ import annotations

import math

from vaeproofs.audit.intervals import Interval
from vaeproofs.audit.rules.base import Call, Rule
from vaeproofs.audit.values import NotDecidable, as_interval

__all__ = ["LOSSES"]


def _reduce(call: Call, term: Interval, position: int) -> Interval:
    reduction = call.arg(position, "reduction", 1)
    if reduction in (0, 1):
        return term
    if reduction == 2:
        return term.scale(math.prod(call.arg_shape(0)))
    raise NotDecidable(f"a loss with reduction {reduction!r}")


def _difference(call: Call) -> Interval:
    return call.iv(0, "self") - call.iv(1, "target")


def _mse(call: Call) -> Interval:
    return _reduce(call, _difference(call).square(), 2)


def _l1(call: Call) -> Interval:
    return _reduce(call, _difference(call).abs(), 2)


def _huber_at(r: float, delta: float, smooth: bool, up: bool) -> float:
    """Huber (or smooth-L1) of |r| = r >= 0, rounded outward; both are nondecreasing in |r|."""
    if math.isinf(r):
        return math.inf
    x = Interval.point(r)
    half = Interval.point(0.5)
    if delta == 0:
        value = x
    elif r <= delta:
        value = half * x.square() / (Interval.point(delta) if smooth else Interval.point(1.0))
    else:
        slope = Interval.point(1.0 if smooth else delta)
        value = (x - half * Interval.point(delta)) * slope
    return value.hi if up else value.lo


def _huber(call: Call) -> Interval:
    smooth = "smooth" in str(call.node.target)
    delta = call.number(3, "beta" if smooth else "delta", 1.0)
    if delta < 0:
        raise NotDecidable("a Huber loss with a negative delta")
    d = _difference(call).abs()
    term = Interval(_huber_at(d.lo, delta, smooth, False), _huber_at(d.hi, delta, smooth, True))
    return _reduce(call, term, 2)


def _bce(call: Call) -> Interval:
    t = as_interval(call.arg(1, "target"), "the target")
    if t.lo < 0 or t.hi > 1:
        raise NotDecidable("binary cross-entropy with a target outside [0, 1]")
    weight = call.arg(2, "weight")
    if weight is not None and as_interval(weight, "the weight").lo < 0:
        raise NotDecidable("binary cross-entropy with a negative weight")
    term = Interval(0.0, math.inf)
    if weight is not None:
        term = term * as_interval(weight, "the weight")
    return _reduce(call, term, 3)


def _bce_logits(call: Call) -> Interval:
    t = as_interval(call.arg(1, "target"), "the target")
    if t.lo < 0 or t.hi > 1:
        raise NotDecidable("binary cross-entropy with a target outside [0, 1]")
    for i, name in ((2, "weight"), (3, "pos_weight")):
        w = call.arg(i, name)
        if w is not None and as_interval(w, f"the {name}").lo < 0:
            raise NotDecidable(f"binary cross-entropy with a negative {name}")
    term = Interval(0.0, math.inf)
    weight = call.arg(2, "weight")
    if weight is not None:
        term = term * as_interval(weight, "the weight")
    return _reduce(call, term, 4)


#: Operation name -> rule, for the fused losses.
LOSSES: dict[str, Rule] = {
    "aten.mse_loss": _mse, "aten.l1_loss": _l1, "aten.huber_loss": _huber,
    "aten.smooth_l1_loss": _huber, "aten.binary_cross_entropy": _bce,
    "aten.binary_cross_entropy_with_logits": _bce_logits,
}
