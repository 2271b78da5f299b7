"""Run the user's code once on real tensors and record the ATen operations it performs.

:func:`trace_call` traces ``fn(*tensors)`` with
``torch.fx.experimental.proxy_tensor.make_fx(tracing_mode="real")`` over
``torch.func.functionalize`` (in-place operations become out-of-place ones, so every
value in the graph is written once).  The user's module is called through
``torch.func.functional_call`` with every parameter and buffer passed in: each becomes
a placeholder of the graph, which the analysis treats as free (a trainable parameter)
or constant (a buffer, a frozen parameter).  Python code runs for real, so sizes,
``int(x.size(1) // c)``, ``torch.finfo``, modules built inside ``forward`` and
``torch.distributions`` objects all work; only a branch on a tensor's *value* stops the
trace (the reason names the user's source line).  ``torch.distributions`` argument
validation (such a branch) is switched off during the trace and restored after.

Each node's ``stack_trace`` holds the user frames that created it
(:func:`user_line` picks the innermost one outside torch and this package).
"""

from __future__ import annotations

import contextlib
import functools
import os
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributions as td
from torch import fx, nn

from vaeproofs.audit.values import Role

__all__ = ["TraceFailed", "Traced", "describe_failure", "module_state", "trace_call", "trace_module_call",
           "user_line", "user_line_of_exception"]

_TORCH_DIR = os.path.dirname(torch.__file__) + os.sep
_AUDIT_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


class TraceFailed(Exception):
    """The user's code could not be traced; the message says why and where."""


@dataclass
class Traced:
    """One traced graph: ``gm`` maps ``placeholders`` (one per tensor argument) to ``output``."""

    gm: fx.GraphModule
    placeholders: list[fx.Node]
    output: Any


@functools.lru_cache(maxsize=4096)
def _is_user(filename: str) -> bool:
    path = os.path.abspath(filename)
    return not (path.startswith(_TORCH_DIR) or path.startswith(_AUDIT_DIR)
                or "importlib" in path or path.startswith("<frozen"))


def _where(filename: str, lineno: int | None) -> str:
    path = os.path.abspath(filename)
    rel = os.path.relpath(path) if path.startswith(os.getcwd() + os.sep) else path
    return f"{rel}:{lineno}"


def user_line(node: fx.Node) -> str:
    """``file:line`` of the innermost user frame that created ``node`` ("" when unknown)."""
    text = node.meta.get("stack_trace") or ""
    last = ""
    for line in text.splitlines():
        line = line.strip()
        if line.startswith('File "'):
            name, _, rest = line[6:].partition('", line ')
            if _is_user(name):
                last = _where(name, int(rest.split(",")[0]) if rest.split(",")[0].isdigit() else None)
    return last


def user_line_of_exception(exc: BaseException) -> str:
    """``file:line`` of the innermost user frame in ``exc``'s traceback ("" when none)."""
    last = ""
    for frame in traceback.extract_tb(exc.__traceback__):
        if _is_user(frame.filename):
            last = _where(frame.filename, frame.lineno)
    return last


def _keep_user_frames(self: Any, summary: traceback.StackSummary) -> traceback.StackSummary:
    return traceback.StackSummary.from_list([f for f in summary if _is_user(f.filename)])


@contextlib.contextmanager
def _tracing_context() -> Iterator[None]:
    """No distribution argument checks; every user frame kept in stack traces; RNG restored."""
    validate = td.Distribution._validate_args
    td.Distribution.set_default_validate_args(False)
    tracer_base = fx.proxy.TracerBase
    previous = tracer_base.__dict__.get("_filter_traceback_frames")
    tracer_base._filter_traceback_frames = _keep_user_frames  # type: ignore[method-assign,assignment]
    try:
        with torch.random.fork_rng(devices=[]), torch.no_grad():
            yield
    finally:
        td.Distribution.set_default_validate_args(validate)
        if previous is not None:
            tracer_base._filter_traceback_frames = previous  # type: ignore[method-assign]
        else:
            del tracer_base._filter_traceback_frames


def describe_failure(exc: BaseException) -> str:
    """The reason a trace failed, with the user's source line."""
    text = " ".join(str(exc).split())
    where = user_line_of_exception(exc)
    at = f" at {where}" if where else ""
    if "_local_scalar_dense" in text or "data-dependent" in text or "control flow" in text:
        return f"data-dependent control flow (a branch or number read from a tensor's value){at}"
    return f"running the code failed{at} ({type(exc).__name__}: {text[:200]})"


def trace_call(fn: Callable[..., Any], tensors: Sequence[torch.Tensor]) -> Traced:
    """Trace ``fn(*tensors)`` (see the module docstring).

    Raises:
        TraceFailed: with :func:`describe_failure`'s reason, when the code cannot be traced.
    """
    from torch.fx.experimental.proxy_tensor import make_fx

    try:
        with _tracing_context():
            gm = make_fx(torch.func.functionalize(fn, remove="mutations"), tracing_mode="real",
                         record_stack_traces=True)(*tensors)
    except (KeyboardInterrupt, SystemExit):
        raise
    except Exception as exc:
        from vaeproofs.errors import InvalidArgumentError

        if isinstance(exc, InvalidArgumentError):
            raise
        raise TraceFailed(describe_failure(exc)) from exc
    placeholders = [n for n in gm.graph.nodes if n.op == "placeholder"]
    out_node = next(n for n in gm.graph.nodes if n.op == "output")
    return Traced(gm=gm, placeholders=placeholders, output=out_node.args[0])


def module_state(module: nn.Module) -> dict[str, torch.Tensor]:
    """Every parameter and buffer of ``module`` by name (shared ones under their first name)."""
    state: dict[str, torch.Tensor] = {}
    for name, p in module.named_parameters():
        state[name] = p
    for name, b in module.named_buffers():
        state[name] = b
    return state


class _Call(nn.Module):
    """``fn(model, *inputs)`` as a module, so that ``functional_call`` can swap every tensor."""

    def __init__(self, model: nn.Module, fn: Callable[..., Any], extra: nn.Module | None) -> None:
        super().__init__()
        self.model = model
        if extra is not None:
            self.extra = extra
        self._fn = fn

    def forward(self, *inputs: Any) -> Any:
        return self._fn(self.model, *inputs)


def trace_module_call(model: nn.Module, fn: Callable[..., Any], inputs: Sequence[Any], *,
                      frozen: set[str], inputs_free: bool, extra: nn.Module | None = None,
                      ) -> tuple[Traced, dict[fx.Node, Role], dict[int, Role]]:
    """Trace ``fn(model, *inputs)`` with every parameter and buffer of ``model`` (and of
    ``extra``, e.g. a loss module, under ``extra.``) a placeholder.

    Roles: a parameter with ``requires_grad`` whose name is not in ``frozen`` is free, any
    other parameter or buffer constant; the tensor inputs are free when ``inputs_free``
    (the floor: every input) or constant (the loss bound: the batch is fixed).  Non-tensor
    inputs are fixed.  Returns the trace, the placeholders' roles and, by ``id``, the roles
    of the same tensors should the trace capture them as attributes.

    Raises:
        TraceFailed: when the code cannot be traced.
    """
    root = _Call(model, fn, extra)
    state: dict[str, torch.Tensor] = {}
    roles: list[Role] = []
    captured: dict[int, Role] = {}
    for prefix, owner in (("", model), ("extra.", extra)):
        if owner is None:
            continue
        for name, t in module_state(owner).items():
            if id(t) in captured:
                continue  # a tensor shared by two names: its first name
            is_free = isinstance(t, nn.Parameter) and t.requires_grad and prefix + name not in frozen
            role = Role("free" if is_free else "const", prefix + name, t.detach())
            captured[id(t)] = role
            # detached, not cloned: callers trace deep copies, so a buffer update lands there
            state[("model." if not prefix else "") + prefix + name] = t.detach()
            roles.append(role)
    flat_inputs = list(inputs)
    tensor_at = [i for i, a in enumerate(flat_inputs) if isinstance(a, torch.Tensor)]
    for k, i in enumerate(tensor_at):
        value = flat_inputs[i].detach()
        roles.append(Role("input" if inputs_free else "const", f"input {k}" if len(tensor_at) > 1
                          else "the input", value))
    names = list(state)
    n_state = len(names)

    def call(*tensors: torch.Tensor) -> Any:
        args = list(flat_inputs)
        for k, i in enumerate(tensor_at):
            args[i] = tensors[n_state + k]
        return torch.func.functional_call(root, dict(zip(names, tensors[:n_state], strict=True)),
                                          tuple(args))
    traced = trace_call(call, [*state.values(), *(flat_inputs[i].detach() for i in tensor_at)])
    if len(traced.placeholders) != len(roles):
        raise TraceFailed(f"the trace has {len(traced.placeholders)} inputs, expected {len(roles)}")
    return traced, dict(zip(traced.placeholders, roles, strict=True)), captured
