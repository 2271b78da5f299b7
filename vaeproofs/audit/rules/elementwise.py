"""Rules for elementwise operations: each result element depends on one element per argument.

A rule maps the arguments' intervals to the result's interval with the monotone maps of
:class:`~vaeproofs.audit.intervals.Interval`.  Comparisons give ``[0, 1]`` (booleans);
``where`` the hull of its two branches (of one of them when the condition is constant
and uniform).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from vaeproofs.audit.intervals import REALS, Interval
from vaeproofs.audit.rules.base import Call, Rule
from vaeproofs.audit.values import Const, NotDecidable, as_interval

__all__ = ["ELEMENTWISE"]


def _unary(method: str) -> Rule:
    def rule(call: Call) -> Interval:
        return getattr(call.iv(0, "self"), method)()
    rule.__name__ = f"rule_{method}"
    return rule


def _softplus(call: Call) -> Interval:
    beta = call.number(1, "beta", 1.0)
    threshold = call.number(2, "threshold", 20.0)
    if beta <= 0:
        raise NotDecidable(f"softplus with beta = {beta:g} <= 0")
    return call.iv(0, "self").softplus(beta, threshold)


def _elu(call: Call) -> Interval:
    alpha = call.number(1, "alpha", 1.0)
    scale = call.number(2, "scale", 1.0)
    input_scale = call.number(3, "input_scale", 1.0)
    if alpha < 0 or scale < 0 or input_scale < 0:
        raise NotDecidable("elu with a negative alpha or scale is not monotone")
    # scale * x for x > 0, scale * alpha * (exp(input_scale x) - 1) for x <= 0: continuous at 0
    # and nondecreasing, so the endpoints give the range.

    def at(x: float) -> Interval:
        if x > 0:
            return Interval.point(x).scale(scale)
        return Interval.point(x).scale(input_scale).expm1().scale(alpha).scale(scale)
    x = call.iv(0, "self")
    return Interval(at(x.lo).lo, at(x.hi).hi)


def _leaky_relu(call: Call) -> Interval:
    slope = call.number(1, "negative_slope", 0.01)
    if slope < 0:
        raise NotDecidable(f"leaky_relu with negative slope {slope:g} is not monotone")
    return call.iv(0, "self").leaky_relu(slope)


def _hardtanh(call: Call) -> Interval:
    low, high = call.number(1, "min_val", -1.0), call.number(2, "max_val", 1.0)
    return call.iv(0, "self").clamp(Interval.point(low), Interval.point(high))


def _bound(value: object, what: str) -> Interval | None:
    return None if value is None else as_interval(value, what)


def _clamp(call: Call) -> Interval:
    return call.iv(0, "self").clamp(_bound(call.arg(1, "min"), "clamp min"),
                                    _bound(call.arg(2, "max"), "clamp max"))


def _clamp_min(call: Call) -> Interval:
    return call.iv(0, "self").clamp(_bound(call.arg(1, "min"), "clamp min"), None)


def _clamp_max(call: Call) -> Interval:
    return call.iv(0, "self").clamp(None, _bound(call.arg(1, "max"), "clamp max"))


def _binary(op: Callable[[Interval, Interval], Interval]) -> Rule:
    def rule(call: Call) -> Interval:
        a = call.iv(0, "self")
        b = call.iv(1, "other")
        alpha = call.arg(2, "alpha")
        if alpha is not None:
            b = b * as_interval(alpha, "alpha")
        return op(a, b)
    rule.__name__ = f"rule_{op.__name__}"
    return rule


def _rsub(call: Call) -> Interval:
    """rsub(self, other, alpha) = other - alpha * self."""
    alpha = call.arg(2, "alpha")
    scaled = call.iv(0, "self") * (as_interval(alpha, "alpha") if alpha is not None else Interval.point(1.0))
    return call.iv(1, "other") - scaled


def _div_mode(call: Call) -> Interval:
    mode = call.arg(2, "rounding_mode")
    q = call.iv(0, "self") / call.iv(1, "other")
    if mode is None:
        return q
    if mode in ("floor", "trunc"):  # both nondecreasing, with integer values in [floor, ceil]
        return Interval(math.floor(q.lo) if math.isfinite(q.lo) else q.lo,
                        math.ceil(q.hi) if math.isfinite(q.hi) else q.hi)
    raise NotDecidable(f"division with rounding_mode={mode!r}")


def _pow_tensor_scalar(call: Call) -> Interval:
    return call.iv(0, "self").pow(call.number(1, "exponent"))


def _pow_scalar(call: Call) -> Interval:
    base = call.number(0, "self")
    if base <= 0:
        raise NotDecidable("pow with a constant base that is not > 0 and a varying exponent")
    return call.iv(1, "exponent").rpow(base)


def _pow_tensor_tensor(call: Call) -> Interval:
    b, e = call.arg(0, "self"), call.arg(1, "exponent")
    if as_interval(e).lo == as_interval(e).hi:  # one exponent for every element
        return as_interval(b).pow(as_interval(e).lo)
    base = as_interval(b)
    if base.lo == base.hi and base.lo > 0:
        return as_interval(e).rpow(base.lo)
    raise NotDecidable("pow with both base and exponent varying")


def _where(call: Call) -> Interval:
    cond = call.arg(0, "condition")
    a, b = call.arg(1, "self"), call.arg(2, "other")
    if isinstance(cond, Const) and isinstance(cond.value, torch.Tensor):
        if bool(cond.value.all()):
            return as_interval(a)
        if not bool(cond.value.any()):
            return as_interval(b)
    return as_interval(a).hull(as_interval(b))


def _boolean(call: Call) -> Interval:
    return Interval(0.0, 1.0)


def _lgamma(call: Call) -> Interval:
    x = call.iv(0, "self")
    if x.lo <= 0:
        raise NotDecidable("lgamma of values that may be <= 0 (poles)")
    return x.lgamma()


def _log_sigmoid_forward(call: Call) -> tuple[Interval, Interval]:
    return call.iv(0, "self").log_sigmoid(), REALS  # (output, an internal buffer)


def _rounding(fn: Callable[[float], float]) -> Rule:
    def rule(call: Call) -> Interval:
        x = call.iv(0, "self")
        return Interval(fn(x.lo) if math.isfinite(x.lo) else x.lo,
                        fn(x.hi) if math.isfinite(x.hi) else x.hi)
    return rule


def _sign(call: Call) -> Interval:
    x = call.iv(0, "self")
    return Interval(-1.0 if x.lo < 0 else 0.0 if x.lo == 0 else 1.0,
                    1.0 if x.hi > 0 else 0.0 if x.hi == 0 else -1.0)


def _erf(call: Call) -> Interval:
    x = call.iv(0, "self")
    lo = -1.0 if x.lo == -math.inf else max(-1.0, math.nextafter(math.nextafter(math.erf(x.lo), -2), -2))
    hi = 1.0 if x.hi == math.inf else min(1.0, math.nextafter(math.nextafter(math.erf(x.hi), 2), 2))
    return Interval(lo, hi)


def _dip(fn: Callable[[float], float], x0: tuple[float, float], minimum: float, limit: float) -> Rule:
    """A function decreasing on (-inf, x0], increasing on [x0, inf), with f(-inf) = ``limit``,
    f(+inf) = inf; ``x0`` brackets the turning point, ``minimum`` is below the minimum value."""
    def at(x: float, up: bool) -> float:
        if math.isinf(x):
            return limit if x < 0 else math.inf
        y = fn(x)
        for _ in range(4):  # four ulp outward: a few correctly rounded operations
            y = math.nextafter(y, math.inf if up else -math.inf)
        return y

    def rule(call: Call) -> Interval:
        x = call.iv(0, "self")
        hi = max(at(x.lo, True), at(x.hi, True))
        if x.lo <= x0[1] and x.hi >= x0[0]:
            lo = minimum
        else:
            lo = at(x.hi, False) if x.hi < x0[0] else at(x.lo, False)
        return Interval(lo, hi)
    return rule


def _silu(x: float) -> float:
    return x / (1.0 + math.exp(-x)) if x > -700 else 0.0


def _gelu(x: float) -> float:
    return 0.5 * x * (1.0 + math.erf(x / math.sqrt(2.0)))


def _gelu_tanh(x: float) -> float:
    return 0.5 * x * (1.0 + math.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x**3)))


#: silu's turning point -1.2784645427610738 (value -0.27846454276107380), gelu's -0.7517915246935645
#: (value -0.16997120747990366) and tanh-gelu's -0.7524614220710163 (value -0.17004075057125405),
#: to 30 digits with mpmath; the minima below are rounded down.
_SILU = _dip(_silu, (-1.27846454276108, -1.27846454276107), -0.2784645427610739, 0.0)
_GELU = _dip(_gelu, (-0.75179152469357, -0.75179152469356), -0.1699712074799037, 0.0)
_GELU_TANH = _dip(_gelu_tanh, (-0.75246142207102, -0.75246142207101), -0.1700407505712541, 0.0)


def _gelu_rule(call: Call) -> Interval:
    return (_GELU_TANH if call.kwargs.get("approximate", "none") == "tanh" else _GELU)(call)


#: Operation name -> rule, for the elementwise operations.
ELEMENTWISE: dict[str, Rule] = {
    **{f"aten.{name}": _unary(name) for name in (
        "exp", "log", "log1p", "expm1", "sqrt", "rsqrt", "sigmoid", "tanh", "relu", "abs",
        "square", "reciprocal")},
    "aten.neg": _unary("__neg__"),
    "aten.softplus": _softplus, "aten.elu": _elu, "aten.leaky_relu": _leaky_relu,
    "aten.hardtanh": _hardtanh, "aten.log_sigmoid_forward": _log_sigmoid_forward,
    "aten.lgamma": _lgamma, "aten.silu": _SILU, "aten.gelu": _gelu_rule, "aten.erf": _erf, "aten.sign": _sign,
    "aten.floor": _rounding(math.floor), "aten.ceil": _rounding(math.ceil),
    "aten.round.default": _rounding(round), "aten.trunc": _rounding(math.trunc),
    "aten.clamp": _clamp, "aten.clip": _clamp,
    "aten.clamp_min": _clamp_min, "aten.clamp_max": _clamp_max,
    "aten.maximum": _binary(Interval.maximum), "aten.minimum": _binary(Interval.minimum),
    "aten.fmax": _binary(Interval.maximum), "aten.fmin": _binary(Interval.minimum),
    "aten.add": _binary(Interval.__add__), "aten.sub": _binary(Interval.__sub__),
    "aten.rsub": _rsub,
    "aten.mul": _binary(Interval.__mul__),
    "aten.div": _binary(Interval.__truediv__), "aten.div.Tensor_mode": _div_mode,
    "aten.div.Scalar_mode": _div_mode,
    "aten.pow.Tensor_Scalar": _pow_tensor_scalar, "aten.pow.Scalar": _pow_scalar,
    "aten.pow.Tensor_Tensor": _pow_tensor_tensor,
    "aten.where.self": _where, "aten.where.ScalarSelf": _where,
    "aten.where.ScalarOther": _where, "aten.where.Scalar": _where,
    **{f"aten.{name}": _boolean for name in (
        "gt", "lt", "ge", "le", "eq", "ne", "logical_and", "logical_or", "logical_not",
        "logical_xor", "bitwise_and", "bitwise_or", "bitwise_not", "isnan", "isinf",
        "isfinite", "isposinf", "isneginf")},
}
