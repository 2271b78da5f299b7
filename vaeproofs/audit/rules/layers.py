"""Rules for the layers: matrix products, convolution, normalisation, softmax.

- A product ``sum_k a_k b_k`` with one side constant (a frozen layer) is bounded per
  output row, each term at the end of its interval that the constant's sign picks
  (outward-rounded interval sums for up to :data:`EXACT_TERMS` terms, else the float sum widened
  by the standard error bound (k + 1) eps sum |terms|, Higham 2002, section 3.1); with
  both sides varying, by k times the interval product.  A trainable weight is a free
  placeholder (the reals), so the output of a trainable layer ranges over the reals
  unless its input is identically 0.
- Normalised values ``(x - mean) / sqrt(var + eps)`` over n elements lie in
  [-sqrt(n - 1), sqrt(n - 1)] (the biased variance: sum z = 0, sum z^2 <= n); then the
  affine ``weight * z + bias``.  Batch norm in evaluation mode is the affine map of its
  running statistics, bounded per channel.
- softmax over n elements each in [lo, hi] lies in [1/(1 + (n-1) e^(hi-lo)),
  1/(1 + (n-1) e^(lo-hi))]; log-softmax is its log; attention (no dropout) averages rows of
  its values with softmax weights, so it stays in their interval; an embedding picks rows.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from vaeproofs.audit.intervals import REALS, Interval
from vaeproofs.audit.rules.base import Call, Rule
from vaeproofs.audit.values import Const, NotDecidable, as_interval

__all__ = ["EXACT_TERMS", "LAYERS", "constant_rows_range"]

#: Up to this many weights, a constant layer's bound is summed exactly (fractions).
EXACT_TERMS = 1024
_EPS = float(np.finfo(np.float64).eps)


def _row_bounds_exact(rows: np.ndarray, x: Interval, offsets: list[Interval]) -> tuple[float, float]:
    lo_all, hi_all = math.inf, -math.inf
    for row, offset in zip(rows, offsets, strict=True):
        acc = offset
        for w in row.tolist():
            if w != 0:
                acc = acc + Interval.point(w) * x
        lo_all, hi_all = min(lo_all, acc.lo), max(hi_all, acc.hi)
    return lo_all, hi_all


def _row_bounds_float(rows: np.ndarray, x: Interval, offsets: list[Interval]) -> tuple[float, float]:
    with np.errstate(invalid="ignore", over="ignore"):
        a = np.where(rows == 0, 0.0, rows * x.lo)
        b = np.where(rows == 0, 0.0, rows * x.hi)
    t_lo, t_hi = np.minimum(a, b), np.maximum(a, b)
    k = rows.shape[1]
    with np.errstate(invalid="ignore", over="ignore"):
        s_lo, s_hi = t_lo.sum(axis=1), t_hi.sum(axis=1)
        e_lo = (k + 1) * _EPS * np.abs(t_lo).sum(axis=1)
        e_hi = (k + 1) * _EPS * np.abs(t_hi).sum(axis=1)
    lo = np.where(np.isneginf(t_lo).any(axis=1), -np.inf, np.nextafter(s_lo - e_lo, -np.inf))
    hi = np.where(np.isposinf(t_hi).any(axis=1), np.inf, np.nextafter(s_hi + e_hi, np.inf))
    lo = np.nan_to_num(lo, nan=-np.inf)
    hi = np.nan_to_num(hi, nan=np.inf)
    return (min((Interval.point(float(a)) + o).lo for a, o in zip(lo, offsets, strict=True)),
            max((Interval.point(float(b)) + o).hi for b, o in zip(hi, offsets, strict=True)))


def constant_rows_range(rows: torch.Tensor, x: Interval, offset: Any = None) -> Interval:
    """Range of ``offset_i + sum_k rows[i, k] x_k`` over x_k in ``x`` and every row i.

    ``rows`` is constant; ``offset`` is None, an interval for every row, or a constant
    tensor whose last dimension (after broadcasting) runs along the rows.
    """
    r = rows.detach().to("cpu", torch.float64).reshape(rows.shape[0], -1).numpy()
    n = r.shape[0]
    if offset is None:
        offsets = [Interval.point(0.0)] * n
    elif _is_const(offset) and offset.value.numel() > 0 and (
            offset.value.dim() == 0 or offset.value.shape[-1] in (1, n)):
        o = offset.value.detach().to("cpu", torch.float64)
        o = o.reshape(-1, o.shape[-1] if o.dim() else 1)
        o_lo, o_hi = o.min(dim=0).values.tolist(), o.max(dim=0).values.tolist()
        if len(o_lo) == 1:
            o_lo, o_hi = o_lo * n, o_hi * n
        offsets = [Interval(a, b) for a, b in zip(o_lo, o_hi, strict=True)]
    else:
        offsets = [as_interval(offset, "the bias")] * n
    if r.size == 0:
        return Interval(min(o.lo for o in offsets), max(o.hi for o in offsets))
    lo, hi = (_row_bounds_exact if r.size <= EXACT_TERMS else _row_bounds_float)(r, x, offsets)
    return Interval(lo, hi)


def _is_const(v: Any) -> bool:
    return isinstance(v, Const) and isinstance(v.value, torch.Tensor)


def _product(a: Any, b: Any, k: int, bias: Any = None) -> Interval:
    """Range of ``bias + (A @ B)`` elements for A (..., n, k), B (..., k, m)."""
    if _is_const(b) and not _is_const(a) and b.value.dim() == 2:
        return constant_rows_range(b.value.transpose(-1, -2), as_interval(a), bias)
    if _is_const(b) and not _is_const(a):
        out = constant_rows_range(b.value.transpose(-1, -2).reshape(-1, k), as_interval(a))
    elif _is_const(a) and not _is_const(b):
        out = constant_rows_range(a.value.reshape(-1, k), as_interval(b))
    else:
        out = (as_interval(a) * as_interval(b)).scale(k)
    return out if bias is None else out + as_interval(bias, "the bias")


def _mm(call: Call) -> Interval:
    return _product(call.arg(0, "self"), call.arg(1, "mat2"), call.arg_shape(0)[-1])


def _addmm(call: Call) -> Interval:
    beta, alpha = call.number(3, "beta", 1.0), call.number(4, "alpha", 1.0)
    k = call.arg_shape(1)[-1]
    if beta == 1.0 and alpha == 1.0:
        return _product(call.arg(1, "mat1"), call.arg(2, "mat2"), k, call.arg(0, "self"))
    prod = _product(call.arg(1, "mat1"), call.arg(2, "mat2"), k)
    return call.iv(0, "self").scale(beta) + prod.scale(alpha) if beta != 0 else prod.scale(alpha)


def _linear(call: Call) -> Interval:
    w, bias = call.arg(1, "weight"), call.arg(2, "bias")
    k = call.arg_shape(0)[-1]
    return _product(call.arg(0, "input"), Const(w.value.T) if _is_const(w) else w, k, bias)


def _convolution(call: Call) -> Interval:
    x, w, bias = call.arg(0, "input"), call.arg(1, "weight"), call.arg(2, "bias")
    padding, transposed, groups = call.arg(4, "padding"), call.arg(6, "transposed"), call.arg(8, "groups")
    xi = as_interval(x, "the convolution's input")
    if transposed or any(p != 0 for p in (padding or [])):
        xi = xi.hull(Interval.point(0.0))  # padded or absent terms contribute 0
    wshape = call.arg_shape(1)
    if _is_const(w):
        weight = w.value
        if transposed:
            if groups != 1:
                raise NotDecidable("a constant transposed convolution with groups > 1")
            weight = weight.transpose(0, 1)
        return constant_rows_range(weight.reshape(weight.shape[0], -1), xi, bias)
    terms = math.prod(wshape[1:]) if not transposed else wshape[0] // groups * math.prod(wshape[2:])
    out = (xi * as_interval(w, "the weight")).scale(terms)
    return out if bias is None else out + as_interval(bias, "bias")


def _normalised(n: int) -> Interval:
    s = Interval.point(float(max(n - 1, 0))).sqrt().hi
    return Interval(-s, s)


def _affine(z: Interval, weight: Any, bias: Any) -> Interval:
    out = z if weight is None else z * as_interval(weight, "the weight")
    return out if bias is None else out + as_interval(bias, "the bias")


def _stats(x: Interval, eps: float) -> tuple[Interval, Interval]:
    rstd_hi = Interval.point(eps).rsqrt().hi if eps > 0 else math.inf
    return x, Interval(0.0, rstd_hi)


def _layer_norm(call: Call) -> tuple[Interval, ...]:
    shape = call.arg(1, "normalized_shape")
    z = _normalised(math.prod(shape))
    return (_affine(z, call.arg(2, "weight"), call.arg(3, "bias")),
            *_stats(call.iv(0, "input"), call.number(4, "eps")))


def _group_norm(call: Call) -> tuple[Interval, ...]:
    c, hxw, group = call.arg(4, "C"), call.arg(5, "HxW"), call.arg(6, "group")
    z = _normalised(c // group * hxw)
    return (_affine(z, call.arg(1, "weight"), call.arg(2, "bias")),
            *_stats(call.iv(0, "input"), call.number(7, "eps")))


def _batch_norm_eval(call: Call, x: Interval, weight: Any, bias: Any, mean: Any, var: Any,
                     eps: float) -> Interval:
    if not (_is_const(mean) and _is_const(var)):
        raise NotDecidable("batch norm whose running statistics are not constants")
    m = mean.value.detach().double().flatten().tolist()
    v = var.value.detach().double().flatten().tolist()
    w = [None] * len(m) if weight is None else (
        weight.value.detach().double().flatten().tolist() if _is_const(weight) else [weight] * len(m))
    b = [None] * len(m) if bias is None else (
        bias.value.detach().double().flatten().tolist() if _is_const(bias) else [bias] * len(m))
    out: Interval | None = None
    for mc, vc, wc, bc in zip(m, v, w, b, strict=True):
        z = (x - Interval.point(mc)) * (Interval.point(vc) + Interval.point(eps)).rsqrt()
        piece = _affine(z, wc, bc)
        out = piece if out is None else out.hull(piece)
    return REALS if out is None else out


def _batch_norm(call: Call) -> tuple[Interval, ...]:
    x = call.iv(0, "input")
    training, eps = call.arg(5, "training"), call.number(7, "eps")
    if training:
        shape = call.arg_shape(0)
        z = _normalised(math.prod(shape) // shape[1])
        out = _affine(z, call.arg(1, "weight"), call.arg(2, "bias"))
    else:
        out = _batch_norm_eval(call, x, call.arg(1, "weight"), call.arg(2, "bias"),
                               call.arg(3, "running_mean"), call.arg(4, "running_var"), eps)
    n_out = len(call.node.meta.get("val") or ()) or 3
    return (out, *_stats(x, eps), *([REALS] * (n_out - 3)))


def _batch_norm_no_training(call: Call) -> tuple[Interval, ...]:
    x, eps = call.iv(0, "input"), call.number(6, "eps")
    out = _batch_norm_eval(call, x, call.arg(1, "weight"), call.arg(2, "bias"),
                           call.arg(3, "running_mean"), call.arg(4, "running_var"), eps)
    return (out, *_stats(x, eps))


def _softmax_range(call: Call) -> Interval:
    x = call.iv(0, "self")
    dim = call.arg(1, "dim")
    n = call.arg_shape(0)[dim] if call.arg_shape(0) else 1
    if n <= 1:
        return Interval.point(1.0)
    spread = Interval.point(x.hi) - Interval.point(x.lo) if x.hi > x.lo else Interval.point(0.0)
    others = Interval.point(float(n - 1))
    low = (Interval.point(1.0) + others * spread.exp()).reciprocal().lo
    high = (Interval.point(1.0) + others * (-spread).exp()).reciprocal().hi
    return Interval(max(0.0, low), min(1.0, high))


def _attention(call: Call) -> tuple[Interval, Interval]:
    """softmax(q k^T) v: each output a convex combination of rows of v (no dropout)."""
    p = call.arg(3, "dropout_p", 0.0) if "flash" in str(call.node.target) else call.arg(4, "dropout_p", 0.0)
    if p:
        raise NotDecidable("attention with dropout")
    return call.iv(2, "value"), REALS


#: Operation name -> rule, for the layers (see the module docstring).
LAYERS: dict[str, Rule] = {
    "aten.mm": _mm, "aten.bmm": _mm, "aten.matmul": _mm, "aten.addmm": _addmm,
    "aten.linear": _linear, "aten.convolution": _convolution,
    "aten.native_layer_norm": _layer_norm, "aten.native_group_norm": _group_norm,
    "aten.native_batch_norm": _batch_norm, "aten._native_batch_norm_legit": _batch_norm,
    "aten._native_batch_norm_legit_functional": _batch_norm,
    "aten._native_batch_norm_legit_no_training": _batch_norm_no_training,
    "aten._scaled_dot_product_flash_attention_for_cpu": _attention,
    "aten.scaled_dot_product_attention": lambda call: _attention(call)[0],
    "aten.embedding": lambda call: call.iv(0, "weight"),
    "aten._softmax": _softmax_range, "aten.softmax": _softmax_range,
    "aten._log_softmax": lambda call: _softmax_range(call).log(),
    "aten.log_softmax": lambda call: _softmax_range(call).log(),
}
