"""Interval propagation over a traced ATen graph (the engine of the floor and the loss bound).

Every node the requested output depends on is evaluated once, in graph order, to an
abstract value (:mod:`vaeproofs.audit.values`): placeholders get the value of their
role (a *free* one, a trainable parameter or a freely ranging input, is the reals; a
*constant* one, a buffer, a frozen parameter, a fixed batch, is its real value); a
node whose arguments are all constants is computed (the operation run on those
constants; random draws and uninitialised memory excepted); any other node goes through its rule in
:data:`vaeproofs.audit.rules.TABLE`.  An operation without a rule, or with arguments its
rule does not cover, stops the analysis with :class:`NotDecidable`, naming the ATen
operation and the user's source line.

The result is a valid bound for every value of the free placeholders, not necessarily
the best one: interval arithmetic forgets that two operands share a variable (x - x
gives [-2, 2] on [-1, 1]), which can only widen an interval.  For elementwise arithmetic
the engine also tracks one-variable forms a e^(b s) + c s + d (:mod:`vaeproofs.audit.forms`)
and intersects their exact range with the rule's interval, which pairs such terms.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable, Iterator
from typing import Any, cast

import torch
from torch import fx

from vaeproofs.audit import forms, rules
from vaeproofs.audit.intervals import REALS, Interval
from vaeproofs.audit.trace import user_line
from vaeproofs.audit.values import Const, NotDecidable, Role, as_interval, describe

__all__ = ["Engine", "Role", "op_label", "stem"]

#: Operations never replaced by the value the trace computed (fresh draws, uninitialised memory).
NEVER_FOLD = frozenset({
    "aten.rand", "aten.rand_like", "aten.randn", "aten.randn_like", "aten.normal",
    "aten.normal_functional", "aten.bernoulli", "aten.native_dropout", "aten.uniform",
    "aten.randint", "aten.randint_like", "aten.randperm", "aten.multinomial", "aten.exponential",
    "aten.empty", "aten.empty_like", "aten.new_empty", "aten.empty_strided",
    "aten.new_empty_strided",
    # a fill value is kept as written (0.05), not as the float32 tensor it makes (0.0500000007)
    "aten.full", "aten.full_like", "aten.new_full", "aten.scalar_tensor", "aten.fill"})
#: Operations that only move elements: expressions and paths look through them.
PASS_THROUGH = frozenset({
    "expand", "view", "_unsafe_view", "reshape", "permute", "transpose", "t", "slice", "select",
    "unsqueeze", "squeeze", "clone", "detach", "alias", "_to_copy", "contiguous", "getitem",
    "lift_fresh_copy", "split", "split_with_sizes", "unbind", "chunk", "index", "repeat",
    "mean", "flatten", "unflatten", "cat", "stack"})
#: Operation -> position of an argument that, when free, makes every result element any real
#: number whatever the other arguments are (a trainable bias, a trainable addend).
SHORTCUT_BIAS = {"aten.addmm": 0, "aten.convolution": 2, "aten.linear": 2,
                 "aten.native_layer_norm": 3, "aten.native_group_norm": 2, "aten.add": 1,
                 "aten.sub": 1}
#: Layers whose trainable weights make them the end of a walk back from the output.
LAYERS = frozenset({"addmm", "mm", "bmm", "matmul", "linear", "convolution", "baddbmm",
                    "native_layer_norm", "native_group_norm", "native_batch_norm",
                    "_native_batch_norm_legit", "_native_batch_norm_legit_functional", "embedding"})
_INFIX = {"add": "+", "sub": "-", "mul": "*", "div": "/", "pow": "**"}
_AFFINE = frozenset({"addmm", "mm", "bmm", "linear", "convolution", "baddbmm", "matmul", "mul",
                     "add"})


def op_label(node: fx.Node) -> str:
    """The short name of a node's operation (``softplus``, ``add``, ``getitem``...)."""
    return rules.rule_name(node.target)[1].removeprefix("aten.")


def _nodes_in(a: Any) -> Iterator[fx.Node]:
    if isinstance(a, fx.Node):
        yield a
    elif isinstance(a, list | tuple):
        for x in a:
            yield from _nodes_in(x)
    elif isinstance(a, dict):
        for x in a.values():
            yield from _nodes_in(x)


class Engine:
    """Evaluate nodes of one traced graph (memoised; ``override`` nodes become the reals)."""

    def __init__(self, gm: fx.GraphModule, roles: dict[fx.Node, Role],
                 captured: dict[int, Role] | None = None) -> None:
        self.gm = gm
        self.roles = roles
        self.captured = captured or {}
        self.memo: dict[fx.Node, Any] = {}
        self.override: frozenset[fx.Node] = frozenset()
        self.forms: dict[fx.Node, forms.Form] = {}

    # -- evaluation ----------------------------------------------------------------------------
    def value(self, target: fx.Node) -> Any:
        """The abstract value of ``target`` (evaluating what it depends on, without recursion)."""
        stack: list[tuple[fx.Node, bool]] = [(target, False)]
        while stack:
            node, ready = stack.pop()
            if node in self.memo:
                continue
            if ready or node in self.override:
                self.memo[node] = REALS if node in self.override else self._evaluate(node)
                continue
            short = self._shortcut(node)
            if short is not None:
                self.memo[node] = short
                continue
            stack.append((node, True))
            for arg in _nodes_in((node.args, node.kwargs)):
                if arg not in self.memo:
                    stack.append((arg, False))
        return self.memo[target]

    def _is_free(self, a: Any) -> bool:
        if not isinstance(a, fx.Node):
            return False
        node = a
        while node.op == "call_function" and op_label(node) in PASS_THROUGH and node.args \
                and isinstance(node.args[0], fx.Node):
            node = node.args[0]
        if node.op == "placeholder":
            return self.roles[node].kind == "free"
        return node.op == "get_attr" and self._attr(node) is REALS

    def _shortcut(self, node: fx.Node) -> Any:
        """The reals, without evaluating the other arguments, for a layer with a free bias."""
        if node.op != "call_function" or node in self.override:
            return None
        packet = rules.rule_name(node.target)[1]
        position = SHORTCUT_BIAS.get(packet)
        if position is None or len(node.args) <= position:
            return None
        free = self._is_free(node.args[position]) or (
            packet in ("aten.add", "aten.sub") and self._is_free(node.args[0]))
        if not free or node.kwargs.get("alpha", 1) == 0:
            return None
        if packet in ("aten.native_layer_norm", "aten.native_group_norm"):
            return (REALS, REALS, Interval(0.0, math.inf))
        return REALS

    def _map(self, a: Any) -> Any:
        if isinstance(a, fx.Node):
            return self.memo[a]
        if isinstance(a, list | tuple):
            return type(a)(self._map(x) for x in a)
        if isinstance(a, dict):
            return {k: self._map(v) for k, v in a.items()}
        return a

    def _attr(self, node: fx.Node) -> Any:
        obj: Any = self.gm
        for part in str(node.target).split("."):
            obj = getattr(obj, part)
        role = self.captured.get(id(obj))
        if role is not None:
            return REALS if role.kind == "free" else Const(obj.detach())
        if isinstance(obj, torch.nn.Parameter) and obj.requires_grad:
            return REALS  # a parameter captured from outside the analysed objects: free
        return Const(obj.detach() if isinstance(obj, torch.Tensor) else obj)

    def _evaluate(self, node: fx.Node) -> Any:
        if node.op == "placeholder":
            role = self.roles[node]
            return REALS if role.kind in ("free", "input") else Const(role.value)
        if node.op == "get_attr":
            return self._attr(node)
        if node.op != "call_function":
            raise NotDecidable(self.where(node, f"unexpected graph node {node.op}"))
        packet = rules.rule_name(node.target)[1]
        args, kwargs = self._map(list(node.args)), self._map(dict(node.kwargs))
        inputs = [self.memo[a] for a in _nodes_in((node.args, node.kwargs))]
        if all(isinstance(v, Const) for v in inputs) and packet not in NEVER_FOLD:
            return self._fold(node, args, kwargs)
        if isinstance(node.target, torch._ops.OpOverload) and node.target._schema.is_mutable:
            raise NotDecidable(self.where(node, "an in-place operation on a varying tensor"))
        rule = rules.lookup(node.target)
        if rule is None:
            raise NotDecidable(self.where(node, "no interval rule for this operation"))
        try:
            out = rule(rules.Call(node, args, kwargs))
        except NotDecidable as exc:
            raise NotDecidable(self.where(node, str(exc))) from None
        except (TypeError, ValueError, IndexError, KeyError, AttributeError, ZeroDivisionError,
                OverflowError, RuntimeError) as exc:
            raise NotDecidable(self.where(node, f"arguments its rule does not cover ({exc})")) from None
        if isinstance(out, Interval) and packet.removeprefix("aten.") in forms.ELEMENTWISE_OPS \
                and not node.kwargs and len(node.args) <= 2:  # no alpha, no rounding mode
            out = self._tighten(node, packet.removeprefix("aten."), out)
        return out

    def _tighten(self, node: fx.Node, label: str, out: Interval) -> Interval:
        """Intersect ``out`` with the range of the node's one-variable form, if any."""
        vals = [self.memo[a] if isinstance(a, fx.Node) else a for a in node.args]
        vals = [v.value if isinstance(v, Const) and isinstance(v.value, int | float) else
                (as_interval(v) if isinstance(v, Const) else v) for v in vals]
        best: forms.Form | None = None
        lo, hi = out.lo, out.hi
        for fs in itertools.product(*(self.forms_of(a) for a in node.args)):
            form = forms.combine(label, list(node.args), list(fs), vals)
            base = None if form is None else self._base_interval(form.base)
            if form is None or base is None:
                continue
            # every form found is a valid description: intersect all their ranges
            lo = max(lo, forms.form_lower(form, base))
            hi = min(hi, -forms.form_lower(forms.negated(form), base))
            if best is None or form.score > best.score:
                best = form
        if best is not None:
            self.forms[node] = best
        return Interval(lo, hi) if lo <= hi else out

    def _base_interval(self, base: fx.Node | forms.LogOf) -> Interval | None:
        node = base.node if isinstance(base, forms.LogOf) else base
        value = self.memo.get(node)
        if not isinstance(value, Interval):
            return None
        return value.log() if isinstance(base, forms.LogOf) else value

    def forms_of(self, node: Any) -> list[forms.Form | None]:
        """The node's computed form, else its identity form and, if it is > 0, its log-base form."""
        if not isinstance(node, fx.Node):
            return [None]
        if node in self.forms:
            return [self.forms[node]]
        value = self.memo.get(node)
        if not isinstance(value, Interval):
            return [None]
        found: list[forms.Form | None] = [forms.identity(node)]
        if value.lo > 0:
            found.append(forms.positive(node))
        return found

    def _fold(self, node: fx.Node, args: Any, kwargs: Any) -> Const:
        def unwrap(a: Any) -> Any:
            if isinstance(a, Const):
                return a.value
            if isinstance(a, list | tuple):
                return type(a)(unwrap(x) for x in a)
            return a
        try:
            with torch.no_grad():
                fn = cast(Callable[..., Any], node.target)
                return Const(fn(*unwrap(args), **unwrap(kwargs)))
        except Exception as exc:
            raise NotDecidable(self.where(node, f"evaluating a constant failed ({exc})")) from None

    def where(self, node: fx.Node, detail: str) -> str:
        """``aten.op at file:line: detail``."""
        line = user_line(node)
        return f"{rules.rule_name(node.target)[0]}{' at ' + line if line else ''}: {detail}"

    # -- what the value depends on -------------------------------------------------------------
    def free_name(self, node: fx.Node) -> str | None:
        """The name of the free placeholder or captured parameter ``node`` is (through views)."""
        while node.op == "call_function" and op_label(node) in PASS_THROUGH and node.args \
                and isinstance(node.args[0], fx.Node):
            node = node.args[0]
        if node.op == "placeholder" and self.roles[node].kind == "free":
            return self.roles[node].name
        if node.op == "get_attr" and self.memo.get(node) is REALS:
            obj: Any = self.gm
            for part in str(node.target).split("."):
                obj = getattr(obj, part)
            role = self.captured.get(id(obj))
            return role.name if role is not None else f"a parameter outside the model {tuple(obj.shape)}"
        return None

    def last_trainable(self, target: fx.Node) -> tuple[dict[fx.Node, list[str]], list[fx.Node]]:
        """The last trainable layers and free parameters on the way to ``target`` (and the ops
        in between).

        Returns ({node: names of its free arguments}, [every evaluated op node in between]).
        """
        found: dict[fx.Node, list[str]] = {}
        ops: list[fx.Node] = []
        seen: set[fx.Node] = set()
        stack = [target]
        while stack:
            node = stack.pop()
            if node in seen or isinstance(self.memo.get(node), Const):
                continue
            seen.add(node)
            own = self.free_name(node)
            if own is not None:
                found[node] = [own]
                continue
            if node.op != "call_function":
                continue
            label = op_label(node)
            free = [n for a in _nodes_in(node.args) if (n := self.free_name(a)) is not None]
            if free and label in LAYERS:  # a trainable layer: the walk stops here
                found[node] = free
                continue
            if label not in PASS_THROUGH:
                ops.append(node)
            stack.extend(_nodes_in((node.args, node.kwargs)))  # free arguments are found there
        order = {n: i for i, n in enumerate(self.gm.graph.nodes)}
        return found, sorted(ops, key=order.__getitem__)

    def expression(self, target: fx.Node, stops: dict[fx.Node, list[str]], limit: int = 240) -> str:
        """A readable expression of ``target`` from the last trainable operations."""
        texts: dict[fx.Node, str] = {}

        def text(a: Any) -> str:
            if isinstance(a, fx.Node):
                return texts.get(a, a.name)
            if isinstance(a, list | tuple):
                return "(" + ", ".join(text(x) for x in a) + ")"
            return describe(a)
        order = [n for n in self.gm.graph.nodes if n in self.memo]
        for node in order:
            value = self.memo[node]
            if node in stops:
                texts[node] = _layer_text(stops[node]) + ("(…)" if node.op == "call_function" else "")
            elif isinstance(value, Const):
                texts[node] = describe(value) if isinstance(value.value, torch.Tensor | float | int) \
                    else node.name
            elif node.op != "call_function":
                texts[node] = self.roles[node].name if node in self.roles else node.name
            else:
                label = op_label(node)
                args = [a for a in node.args if not isinstance(a, list) or any(
                    isinstance(x, fx.Node) for x in a)]
                if label in PASS_THROUGH and node.args:
                    texts[node] = text(node.args[0])
                elif label in _INFIX and len(node.args) == 2:
                    texts[node] = f"({text(node.args[0])} {_INFIX[label]} {text(node.args[1])})"
                else:
                    texts[node] = f"{label}({', '.join(text(a) for a in args)})"
                if len(texts[node]) > limit:
                    texts[node] = texts[node][:limit - 1] + "…"
        return texts.get(target, "")

    def sources(self, target: fx.Node, end: str = "lo", limit: int = 6) -> list[str]:
        """Where an infinite ``end`` of ``target``'s interval comes from (op and source line)."""
        found: list[str] = []
        seen: set[tuple[fx.Node, str]] = set()
        stack = [(target, end)]
        while stack and len(found) < limit:
            node, side = stack.pop()
            if (node, side) in seen:
                continue
            seen.add((node, side))
            name = self.free_name(node)
            if name is not None:
                found.append(f"parameter {name} (free)" if node.op != "call_function" else
                             f"{op_label(node)} of the trainable {name}{_at(node)}")
                continue
            if node.op != "call_function":
                continue
            free = [n for a in _nodes_in(node.args) if (n := self.free_name(a)) is not None]
            if free and op_label(node) not in PASS_THROUGH:
                found.append(f"{op_label(node)} of the trainable {_layer_text(free)}{_at(node)}")
                continue
            nxt = list(_infinite_args(self, node, side))
            if not nxt:
                found.append(f"{op_label(node)}{_at(node)}")
            stack.extend(nxt)
        return list(dict.fromkeys(found))


def _at(node: fx.Node) -> str:
    line = user_line(node)
    return f" at {line}" if line else ""


def _layer_text(names: Iterable[str]) -> str:
    names = list(dict.fromkeys(names))
    return ", ".join(sorted({stem(n) for n in names}))


def stem(name: str) -> str:
    """The layer a parameter belongs to: ``lin.weight`` -> ``lin``; other names unchanged."""
    head, _, last = name.rpartition(".")
    return head if head and last in ("weight", "bias") else name


def _end_of(value: Any, side: str) -> float:
    if isinstance(value, Interval):
        return value.lo if side == "lo" else value.hi
    return 0.0


def _infinite_args(engine: Engine, node: fx.Node, side: str) -> Iterator[tuple[fx.Node, str]]:
    """The arguments (and their end) through which ``node``'s ``side`` end becomes infinite."""
    label = op_label(node)
    flip = {"lo": "hi", "hi": "lo"}
    args = list(_nodes_in(node.args))
    sides: list[tuple[Any, str]]
    if label in ("add",) or label in PASS_THROUGH or label in ("sum", "exp", "log", "softplus",
                                                                "sqrt", "log1p", "expm1", "clamp",
                                                                "clamp_min", "clamp_max", "tanh",
                                                                "sigmoid"):
        sides = [(a, side) for a in args]
    elif label == "sub" and len(node.args) >= 2:
        sides = [(node.args[0], side), (node.args[1], flip[side])]
        sides = [(a, s) for a, s in sides if isinstance(a, fx.Node)]
    elif label == "neg":
        sides = [(a, flip[side]) for a in args]
    else:
        sides = [(a, s) for a in args for s in ("lo", "hi")]
    for a, s in sides:
        if math.isinf(_end_of(engine.memo.get(a), s)):
            yield a, s
