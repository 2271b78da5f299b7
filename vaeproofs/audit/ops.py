"""Interval semantics of the operations a variance head is written with.

Each handler takes the evaluated arguments (abstract values, see
:mod:`vaeproofs.audit.values`) and returns the abstract value of the result.  The
operations covered, as torch functions, tensor methods and ``torch.nn`` modules: exp,
log, log1p, expm1, sqrt, softplus (beta, threshold), sigmoid, tanh, relu, elu,
leaky_relu, abs, square and pow, clamp/clip (min, max or both), maximum/minimum,
+ - * / with constants or intervals, sum and mean, shape-only operations (expand,
reshape, view, chunk, split, indexing, ...), cat/stack/where (hull), full_like and
other constants, and affine layers (``Linear``, ``F.linear``, ``@``): with trainable
coefficients they range over all reals, with constant ones the range is computed.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import nn

from vaeproofs.audit.intervals import REALS, Interval
from vaeproofs.audit.values import OPAQUE, Const, NotDecidable, Pieces, as_interval

__all__ = ["FUNCTIONS", "MODULE_HANDLERS", "SHAPE_ONLY", "affine_range", "evaluate_op"]

Handler = Callable[[list[Any], dict[str, Any], "OpContext"], Any]


class OpContext:
    """What a handler may need beyond its arguments: element counts and the module called."""

    def __init__(self, *, ratio: int | None = None, module: nn.Module | None = None,
                 n_pieces: int | None = None) -> None:
        self.ratio = ratio          # numel(input) / numel(output), for sum
        self.module = module
        self.n_pieces = n_pieces


def _arg(args: list[Any], kwargs: dict[str, Any], i: int, name: str, default: Any = None) -> Any:
    if len(args) > i:
        return args[i]
    return kwargs.get(name, default)


def _number(value: Any, what: str) -> float:
    if isinstance(value, Const):
        value = value.value
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        return float(value)
    if isinstance(value, bool | int | float):
        return float(value)
    raise NotDecidable(f"{what} must be a constant number here, got {type(value).__name__}")


def _unary(method: str) -> Handler:
    def handler(args: list[Any], kwargs: dict[str, Any], ctx: OpContext) -> Interval:
        return getattr(as_interval(args[0]), method)()
    return handler


def _identity(args: list[Any], kwargs: dict[str, Any], ctx: OpContext) -> Any:
    x = args[0]
    return x if isinstance(x, Interval) else as_interval(x)


def _softplus(args: list[Any], kwargs: dict[str, Any], ctx: OpContext) -> Interval:
    beta = _number(_arg(args, kwargs, 1, "beta", 1.0), "softplus beta")
    threshold = _number(_arg(args, kwargs, 2, "threshold", 20.0), "softplus threshold")
    if beta <= 0:
        raise NotDecidable(f"softplus with beta = {beta:g} <= 0")
    return as_interval(args[0]).softplus(beta, threshold)


def _elu(args: list[Any], kwargs: dict[str, Any], ctx: OpContext) -> Interval:
    alpha = _number(_arg(args, kwargs, 1, "alpha", 1.0), "elu alpha")
    if alpha < 0:
        raise NotDecidable(f"elu with alpha = {alpha:g} < 0 is not monotone")
    return as_interval(args[0]).elu(alpha)


def _leaky_relu(args: list[Any], kwargs: dict[str, Any], ctx: OpContext) -> Interval:
    slope = _number(_arg(args, kwargs, 1, "negative_slope", 0.01), "leaky_relu slope")
    if slope < 0:
        raise NotDecidable(f"leaky_relu with negative slope {slope:g} is not monotone")
    return as_interval(args[0]).leaky_relu(slope)


def _pow(args: list[Any], kwargs: dict[str, Any], ctx: OpContext) -> Interval:
    base, exponent = args[0], _arg(args, kwargs, 1, "exponent")
    if isinstance(exponent, Const) or isinstance(exponent, int | float):
        return as_interval(base).pow(_number(exponent, "the exponent"))
    if isinstance(base, Const) or isinstance(base, int | float):
        b = as_interval(base, "the base")
        if b.lo <= 0:
            raise NotDecidable("pow with a constant base that is not > 0 and a varying exponent")
        return as_interval(exponent).rpow(b.lo).hull(as_interval(exponent).rpow(b.hi))
    raise NotDecidable("pow with both base and exponent varying")


def _bound(value: Any, what: str) -> Interval | None:
    return None if value is None else as_interval(value, what)


def _clamp(args: list[Any], kwargs: dict[str, Any], ctx: OpContext) -> Interval:
    low = _bound(_arg(args, kwargs, 1, "min"), "clamp min")
    high = _bound(_arg(args, kwargs, 2, "max"), "clamp max")
    return as_interval(args[0]).clamp(low, high)


def _clamp_min(args: list[Any], kwargs: dict[str, Any], ctx: OpContext) -> Interval:
    return as_interval(args[0]).clamp(_bound(_arg(args, kwargs, 1, "min"), "clamp min"), None)


def _clamp_max(args: list[Any], kwargs: dict[str, Any], ctx: OpContext) -> Interval:
    return as_interval(args[0]).clamp(None, _bound(_arg(args, kwargs, 1, "max"), "clamp max"))


def _binary(op: Callable[[Interval, Interval], Interval], *, swap: bool = False) -> Handler:
    def handler(args: list[Any], kwargs: dict[str, Any], ctx: OpContext) -> Interval:
        a = as_interval(args[0])
        b = as_interval(_arg(args, kwargs, 1, "other"))
        if kwargs.get("rounding_mode") is not None:
            raise NotDecidable(f"division with rounding_mode={kwargs['rounding_mode']!r}")
        alpha = kwargs.get("alpha")
        if alpha is not None:
            b = b * as_interval(alpha)
        return op(b, a) if swap else op(a, b)
    return handler


def _sum(args: list[Any], kwargs: dict[str, Any], ctx: OpContext) -> Interval:
    if ctx.ratio is None:
        raise NotDecidable("sum whose element count is unknown")
    return as_interval(args[0]).scale(ctx.ratio)


def _hull_of(values: list[Any]) -> Interval:
    out: Interval | None = None
    for v in values:
        i = as_interval(v)
        out = i if out is None else out.hull(i)
    if out is None:
        raise NotDecidable("concatenation of nothing")
    return out


def _cat(args: list[Any], kwargs: dict[str, Any], ctx: OpContext) -> Interval:
    seq = _arg(args, kwargs, 0, "tensors")
    if isinstance(seq, Pieces):
        return seq.interval
    return _hull_of(list(seq.value if isinstance(seq, Const) else seq))


def _where(args: list[Any], kwargs: dict[str, Any], ctx: OpContext) -> Interval:
    if len(args) < 3:
        raise NotDecidable("torch.where with one argument (indices)")
    return as_interval(args[1]).hull(as_interval(args[2]))


def _fill(position: int, name: str) -> Handler:
    def handler(args: list[Any], kwargs: dict[str, Any], ctx: OpContext) -> Interval:
        return as_interval(_arg(args, kwargs, position, name), "the fill value")
    return handler


def _point(value: float) -> Handler:
    return lambda args, kwargs, ctx: Interval.point(value)


def _pieces(args: list[Any], kwargs: dict[str, Any], ctx: OpContext) -> Pieces:
    return Pieces(as_interval(args[0]))


def _getitem(args: list[Any], kwargs: dict[str, Any], ctx: OpContext) -> Any:
    seq, index = args[0], args[1]
    if isinstance(seq, Pieces):
        return seq.interval
    if isinstance(seq, tuple | list):
        if isinstance(index, Const):
            index = index.value
        if isinstance(index, int):
            return seq[index]
        return _hull_of(list(seq))
    if seq is OPAQUE:
        return OPAQUE
    return as_interval(seq)


def affine_range(x: Interval, weight: torch.Tensor, bias: torch.Tensor | None) -> Interval:
    """Range of ``b_i + sum_j W_ij x_j`` over x_j in ``x`` and every output i (W constant)."""
    w = weight.detach().to("cpu", torch.float64).reshape(weight.shape[0], -1).numpy()
    with np.errstate(invalid="ignore"):
        at_lo = np.where(w == 0, 0.0, w * x.lo)
        at_hi = np.where(w == 0, 0.0, w * x.hi)
    lo = np.minimum(at_lo, at_hi).sum(axis=1)
    hi = np.maximum(at_lo, at_hi).sum(axis=1)
    if bias is not None:
        b = bias.detach().to("cpu", torch.float64).numpy()
        lo, hi = lo + b, hi + b
    return Interval(float(lo.min()), float(hi.max()))


def _linear(args: list[Any], kwargs: dict[str, Any], ctx: OpContext) -> Interval:
    weight, bias = _arg(args, kwargs, 1, "weight"), _arg(args, kwargs, 2, "bias")
    if not isinstance(weight, Const) or (bias is not None and not isinstance(bias, Const)):
        return REALS  # a trainable coefficient: the output ranges over all reals
    return affine_range(as_interval(args[0]), weight.value,
                        None if bias is None else bias.value)


def _matmul(args: list[Any], kwargs: dict[str, Any], ctx: OpContext) -> Interval:
    a, b = args[0], args[1]
    if isinstance(b, Const) and isinstance(b.value, torch.Tensor) and b.value.dim() == 2:
        return affine_range(as_interval(a), b.value.T, None)
    if isinstance(a, Const) and isinstance(a.value, torch.Tensor) and a.value.dim() == 2:
        return affine_range(as_interval(b), a.value, None)
    if ctx.ratio is None:
        raise NotDecidable("matrix product whose inner dimension is unknown")
    return (as_interval(a) * as_interval(b)).scale(ctx.ratio)


def _dropout(args: list[Any], kwargs: dict[str, Any], ctx: OpContext) -> Interval:
    p = _number(_arg(args, kwargs, 1, "p", 0.5), "dropout p")
    x = as_interval(args[0])
    return x.hull(Interval.point(0.0)).hull(x.scale(1.0 / (1.0 - p))) if p < 1 else Interval.point(0.0)


def _random(lo: float, hi: float) -> Handler:
    return lambda args, kwargs, ctx: Interval(lo, hi)


SHAPE_ONLY = frozenset({
    "expand", "expand_as", "reshape", "view", "view_as", "flatten", "unflatten", "unsqueeze",
    "squeeze", "permute", "transpose", "t", "contiguous", "clone", "float", "double", "to",
    "type_as", "detach", "repeat", "narrow", "select", "movedim", "broadcast_to", "mean",
    "nanmean", "cpu", "cuda", "flip", "roll", "tile", "identity"})

#: Canonical operation name -> handler (functions and tensor methods share names).
FUNCTIONS: dict[str, Handler] = {
    **{name: _unary(name) for name in ("exp", "log", "log1p", "expm1", "sqrt", "sigmoid",
                                       "tanh", "relu", "abs", "square")},
    **{name: _identity for name in SHAPE_ONLY},
    "neg": _unary("__neg__"), "negative": _unary("__neg__"), "absolute": _unary("abs"),
    "softplus": _softplus, "elu": _elu, "leaky_relu": _leaky_relu,
    "pow": _pow, "float_power": _pow, "clamp": _clamp, "clip": _clamp,
    "clamp_min": _clamp_min, "clamp_max": _clamp_max,
    "maximum": _binary(Interval.maximum), "minimum": _binary(Interval.minimum),
    "fmax": _binary(Interval.maximum), "fmin": _binary(Interval.minimum),
    "add": _binary(Interval.__add__), "sub": _binary(Interval.__sub__),
    "subtract": _binary(Interval.__sub__), "rsub": _binary(Interval.__sub__, swap=True),
    "mul": _binary(Interval.__mul__), "multiply": _binary(Interval.__mul__),
    "truediv": _binary(Interval.__truediv__), "div": _binary(Interval.__truediv__),
    "divide": _binary(Interval.__truediv__), "true_divide": _binary(Interval.__truediv__),
    "reciprocal": _unary("reciprocal"),
    "sum": _sum, "cat": _cat, "concat": _cat, "concatenate": _cat, "stack": _cat,
    "hstack": _cat, "vstack": _cat, "where": _where,
    "chunk": _pieces, "split": _pieces, "unbind": _pieces, "tensor_split": _pieces,
    "getitem": _getitem,
    "full_like": _fill(1, "fill_value"), "full": _fill(1, "fill_value"),
    "new_full": _fill(2, "fill_value"), "ones_like": _point(1.0), "zeros_like": _point(0.0),
    "ones": _point(1.0), "zeros": _point(0.0), "new_ones": _point(1.0), "new_zeros": _point(0.0),
    "linear": _linear, "matmul": _matmul, "mm": _matmul, "bmm": _matmul,
    "dropout": _dropout, "randn": _random(-math.inf, math.inf),
    "randn_like": _random(-math.inf, math.inf), "rand": _random(0.0, 1.0),
    "rand_like": _random(0.0, 1.0), "normal": _random(-math.inf, math.inf),
}

#: Operations never folded to a constant even when every argument is constant.
RANDOM = frozenset({"randn", "randn_like", "rand", "rand_like", "normal", "dropout",
                    "bernoulli", "multinomial", "randint", "randint_like", "randperm"})


def _module_call(kind: str, **params: Any) -> Handler:
    def handler(args: list[Any], kwargs: dict[str, Any], ctx: OpContext) -> Any:
        values = {k: getattr(ctx.module, attr) for k, attr in params.items()}
        return FUNCTIONS[kind]([args[0]], values, ctx)
    return handler


def _module_linear(args: list[Any], kwargs: dict[str, Any], ctx: OpContext) -> Interval:
    m = ctx.module
    assert isinstance(m, nn.Linear)
    return affine_range(as_interval(args[0]), m.weight, m.bias)


def _hardtanh(args: list[Any], kwargs: dict[str, Any], ctx: OpContext) -> Interval:
    m = ctx.module
    assert isinstance(m, nn.Hardtanh)
    return as_interval(args[0]).clamp(Interval.point(m.min_val), Interval.point(m.max_val))


#: torch.nn module type -> handler, for modules whose parameters are all constants.
MODULE_HANDLERS: dict[type[nn.Module], Handler] = {
    nn.Linear: _module_linear, nn.Tanh: _unary("tanh"), nn.Sigmoid: _unary("sigmoid"),
    nn.ReLU: _unary("relu"), nn.ELU: _module_call("elu", alpha="alpha"),
    nn.LeakyReLU: _module_call("leaky_relu", negative_slope="negative_slope"),
    nn.Softplus: _module_call("softplus", beta="beta", threshold="threshold"),
    nn.Identity: _identity, nn.Flatten: _identity, nn.Unflatten: _identity,
    nn.Dropout: _module_call("dropout", p="p"), nn.Hardtanh: _hardtanh,
}

#: Layers that are affine in their parameters: trainable ones range over all reals.
AFFINE_LAYERS: tuple[type[nn.Module], ...] = (
    nn.Linear, nn.Bilinear, nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose1d,
    nn.ConvTranspose2d, nn.ConvTranspose3d, nn.Embedding, nn.LayerNorm, nn.GroupNorm,
    nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d, nn.InstanceNorm1d, nn.InstanceNorm2d)


def evaluate_op(name: str, args: list[Any], kwargs: dict[str, Any], ctx: OpContext) -> Any:
    """Apply the handler of operation ``name``; unknown operations are not decidable."""
    handler = FUNCTIONS.get(name)
    if handler is None:
        raise NotDecidable(f"unknown operation {name!r} on the variance path")
    try:
        return handler(args, kwargs, ctx)
    except (TypeError, ValueError, IndexError, KeyError, AttributeError) as exc:
        raise NotDecidable(f"operation {name!r} with arguments it does not cover ({exc})") from None
