"""Backward interval evaluation of a traced graph (the engine of :mod:`vaeproofs.audit.floor`).

The module is traced with ``torch.fx.symbolic_trace``; the example input only gives
tensor shapes (``torch.fx.passes.shape_prop``), never ranges.  From the variance-like
output the analysis walks *backwards*, evaluating only the nodes the output depends
on, and stops at the last trainable operations: a trainable parameter, or a layer
affine in trainable parameters (``Linear`` and the like), ranges over all real numbers,
as does the model's input.  Buffers and parameters that do not train are constants.
Intervals are float64 (:mod:`vaeproofs.audit.intervals`).

The floor is the lower end of the variance's interval: a valid lower bound for every
input and every value of the trainable parameters.  It is the greatest such bound when
each varying quantity enters the head once (every head of docs/theory.md section 7);
otherwise interval arithmetic may give a smaller, still valid, bound.  The cap it
implies per pixel is -1/2 log(2 pi floor) (docs/theory.md section 3; Mattei & Frellsen,
NeurIPS 2018, section 2.1), +inf when the floor is 0.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Iterable
from typing import Any

import torch
import torch.nn.functional as F
from torch import fx, nn

from vaeproofs.audit import ops
from vaeproofs.audit.intervals import REALS
from vaeproofs.audit.values import OPAQUE, Const, NotDecidable, describe
from vaeproofs.errors import InvalidArgumentError

__all__ = ["Analysis", "pick_output"]

_INFIX = {"add": "+", "sub": "-", "mul": "*", "truediv": "/", "div": "/", "pow": "**"}


def _canonical(node: fx.Node) -> str:
    target = node.target
    if node.op == "call_method":
        return str(target)
    name = getattr(target, "__name__", str(target))
    for namespace in (torch, F, operator, torch._C._nn, torch.special):
        if getattr(namespace, name, None) is target:
            return {"special_expit": "sigmoid"}.get(name, name)
    return f"{getattr(target, '__module__', '?')}.{name}"


class Analysis:
    """Backward evaluation of one traced graph (memoised; overrides for the set-by test)."""

    def __init__(self, gm: fx.GraphModule, frozen: set[str], prefix: str) -> None:
        self.gm = gm
        self.frozen = frozen
        self.prefix = prefix
        self.params = dict(gm.named_parameters())
        self.modules = dict(gm.named_modules())
        self.memo: dict[fx.Node, Any] = {}
        self.exprs: dict[fx.Node, str] = {}
        self.trainable: dict[str, None] = {}
        self.ops: dict[fx.Node, str] = {}
        self.override: fx.Node | None = None

    def _name(self, target: str) -> str:
        return target.removeprefix(self.prefix)

    def _trains(self, name: str) -> bool:
        p = self.params.get(name)
        return p is not None and p.requires_grad and self._name(name) not in self.frozen

    def _map(self, a: Any) -> Any:
        if isinstance(a, fx.Node):
            return self.value(a)
        if isinstance(a, tuple | list):
            return type(a)(self._map(x) for x in a)
        if isinstance(a, dict):
            return {k: self._map(v) for k, v in a.items()}
        return Const(a)

    def _expr(self, a: Any) -> str:
        if isinstance(a, fx.Node):
            return self.exprs.get(a, a.name)
        if isinstance(a, tuple | list):
            return "(" + ", ".join(self._expr(x) for x in a) + ")"
        return describe(Const(a))

    def value(self, node: fx.Node) -> Any:
        if node in self.memo:
            return self.memo[node]
        if node is self.override:
            out: Any = REALS
            self.exprs[node] = node.name
        else:
            out = self._evaluate(node)
        self.memo[node] = out
        return out

    def _fold(self, fn: Callable[..., Any], args: Any, kwargs: Any) -> Const:
        def unwrap(a: Any) -> Any:
            if isinstance(a, Const):
                return a.value
            if isinstance(a, tuple | list):
                return type(a)(unwrap(x) for x in a)
            if isinstance(a, dict):
                return {k: unwrap(v) for k, v in a.items()}
            return a
        try:
            with torch.no_grad():
                return Const(fn(*unwrap(args), **unwrap(kwargs)))
        except Exception as exc:
            raise NotDecidable(f"evaluating a constant failed ({type(exc).__name__}: {exc})") from None

    def _evaluate(self, node: fx.Node) -> Any:
        if node.op == "placeholder":
            self.exprs[node] = node.name
            return REALS
        if node.op == "get_attr":
            target = str(node.target)
            if self._trains(target):
                self.trainable[self._name(target)] = None
                self.exprs[node] = self._name(target)
                return REALS
            obj: Any = self.gm
            for part in target.split("."):
                obj = getattr(obj, part)
            self.exprs[node] = describe(Const(obj))
            return Const(obj.detach() if isinstance(obj, torch.Tensor) else obj)
        if node.op == "call_module":
            return self._module(node)
        if node.op not in ("call_function", "call_method"):
            raise NotDecidable(f"unexpected graph node {node.op} {node.target}")
        name = _canonical(node)
        result_type = node.meta.get("type")
        if node.meta.get("tensor_meta") is None and isinstance(result_type, type) and (
                issubclass(result_type, torch.Size)
                or not issubclass(result_type, torch.Tensor | tuple | list)):
            self.exprs[node] = node.name  # a size or shape computed from the input
            return OPAQUE
        args, kwargs = self._map(list(node.args)), self._map(dict(node.kwargs))
        flat = list(_leaves([args, kwargs]))
        if all(isinstance(v, Const) for v in flat) and name not in ops.RANDOM:
            fx_target = node.target
            fn = fx_target if node.op == "call_function" and callable(fx_target) else (
                lambda obj, *a, **k: getattr(obj, str(fx_target))(*a, **k))
            self.exprs[node] = node.name
            return self._fold(fn, args, kwargs)
        if any(v is OPAQUE for v in flat) and node.meta.get("tensor_meta") is None:
            self.exprs[node] = node.name
            return OPAQUE
        ctx = ops.OpContext(ratio=_ratio(node, name))
        out = ops.evaluate_op(name, args, kwargs, ctx)
        self._describe(node, name)
        return out

    def _module(self, node: fx.Node) -> Any:
        target = str(node.target)
        module = self.modules[target]
        own = [f"{target}.{n}" for n, _ in module.named_parameters()]
        if any(self._trains(n) for n in own):
            if isinstance(module, ops.AFFINE_LAYERS):
                self.trainable[self._name(target)] = None
                self.exprs[node] = f"{self._name(target)}(…)"
                return REALS
            raise NotDecidable(f"trainable module {self._name(target)} "
                               f"({type(module).__name__}) is not an affine layer")
        handler = ops.MODULE_HANDLERS.get(type(module))
        if handler is None:
            raise NotDecidable(f"unknown module {self._name(target)} ({type(module).__name__}) "
                               "on the variance path")
        args = self._map(list(node.args))
        if all(isinstance(v, Const) for v in _leaves(args)) and not isinstance(module, nn.Dropout):
            self.exprs[node] = node.name
            return self._fold(module, args, {})
        try:
            out = handler(args, {}, ops.OpContext(module=module))
        except (TypeError, ValueError, IndexError, AttributeError) as exc:
            raise NotDecidable(f"module {self._name(target)} with arguments it does not cover "
                               f"({exc})") from None
        self._describe(node, f"{type(module).__name__}", module_name=self._name(target))
        return out

    def _describe(self, node: fx.Node, name: str, module_name: str | None = None) -> None:
        args = list(node.args)
        if name in ops.SHAPE_ONLY or name in ("getitem", "chunk", "split", "unbind") or (
                module_name and name in ("Identity", "Flatten", "Unflatten")):
            self.exprs[node] = self._expr(args[0]) if args else node.name
            return
        self.ops[node] = name if module_name is None else f"{name} {module_name}"
        if name in _INFIX and len(args) == 2:
            text = f"({self._expr(args[0])} {_INFIX[name]} {self._expr(args[1])})"
        else:
            inner = ", ".join([self._expr(a) for a in args]
                              + [f"{k}={self._expr(v)}" for k, v in node.kwargs.items()])
            text = f"{name.lower() if module_name else name}({inner})"
        self.exprs[node] = text if len(text) <= 240 else text[:237] + "…"


def _leaves(a: Any) -> Iterable[Any]:
    if isinstance(a, tuple | list):
        for x in a:
            yield from _leaves(x)
    elif isinstance(a, dict):
        for x in a.values():
            yield from _leaves(x)
    else:
        yield a


def _numel(meta: Any) -> int | None:
    shape = getattr(meta, "shape", None)
    return None if shape is None else math.prod(shape)


def _ratio(node: fx.Node, name: str) -> int | None:
    if name not in ("sum", "matmul", "mm", "bmm"):
        return None
    first = node.args[0] if node.args else None
    out_meta = node.meta.get("tensor_meta")
    in_meta = first.meta.get("tensor_meta") if isinstance(first, fx.Node) else None
    if in_meta is None or out_meta is None:
        return None
    if name != "sum":
        return int(in_meta.shape[-1])
    n_in, n_out = _numel(in_meta), _numel(out_meta)
    return None if not n_in or not n_out else n_in // n_out


def pick_output(structure: Any, output: int | str) -> Any:
    if isinstance(structure, dict):
        if output not in structure:
            raise InvalidArgumentError("output", f"must be a key of the output, one of "
                                                 f"{sorted(structure)}, got {output!r}")
        return structure[output]
    if isinstance(structure, tuple | list):
        if not isinstance(output, int) or not -len(structure) <= output < len(structure):
            raise InvalidArgumentError("output", f"must index the {len(structure)} outputs, "
                                                 f"got {output!r}")
        return structure[output]
    return structure
