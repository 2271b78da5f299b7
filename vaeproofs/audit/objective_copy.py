"""A private copy of the model *and* of the modules a user's objective closes over.

``objective(model, batch)`` often uses objects of its own: a loss module holding a learned
``logvar`` (Stable Diffusion's ``LPIPSWithDiscriminator``), ``nn.GaussianNLLLoss()``, a tensor
created with ``requires_grad=True``.  The probe trains those too, so it must not train the
user's.  :func:`copy_objective` deep-copies the model together with every ``nn.Module`` and
every tensor that requires grad which the objective reaches through

- the objective itself when it is an ``nn.Module`` (its ``forward`` is the loss);
- a bound method's ``__self__``; a ``functools.partial``'s arguments;
- a function's closure cells, default arguments and the module globals its code names
  (also in nested functions and lambdas defined inside it);

in one deep copy (one memo), so a loss module that refers to the model refers to the copy,
and returns an objective rebuilt on the copies.  Not reached: objects behind other calls
(a helper function's own globals, an attribute of a non-module object); the probe trains
them in place only if they are in the optimiser, and they are then restored bit for bit
(see :mod:`vaeproofs.audit.objective_probe`).
"""

from __future__ import annotations

import copy
import functools
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

__all__ = ["CopiedObjective", "copy_objective", "reached_objects"]


def _worth_copying(value: Any) -> bool:
    return isinstance(value, nn.Module) or (isinstance(value, torch.Tensor) and value.requires_grad)


def _code_names(code: types.CodeType) -> Iterator[str]:
    yield from code.co_names
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _code_names(const)


def reached_objects(objective: Any) -> dict[str, Any]:
    """The modules and grad-requiring tensors ``objective`` reaches (see the module docstring)."""
    found: dict[str, Any] = {}
    if isinstance(objective, nn.Module):
        found["objective"] = objective
        return found
    if isinstance(objective, functools.partial):
        for i, a in enumerate(objective.args):
            if _worth_copying(a):
                found[f"partial arg {i}"] = a
        for k, a in objective.keywords.items():
            if _worth_copying(a):
                found[f"partial {k}="] = a
        found.update({f"partial.func {k}": v for k, v in reached_objects(objective.func).items()})
        return found
    if isinstance(objective, types.MethodType):
        if _worth_copying(objective.__self__):
            found["self"] = objective.__self__
        return found
    if isinstance(objective, types.FunctionType):
        code = objective.__code__
        for name, cell in zip(code.co_freevars, objective.__closure__ or (), strict=False):
            try:
                value = cell.cell_contents
            except ValueError:  # an empty cell
                continue
            if _worth_copying(value):
                found[name] = value
        for i, value in enumerate(objective.__defaults__ or ()):
            if _worth_copying(value):
                found[f"default {i}"] = value
        for name, value in (objective.__kwdefaults__ or {}).items():
            if _worth_copying(value):
                found[f"default {name}="] = value
        for name in dict.fromkeys(_code_names(code)):
            value = objective.__globals__.get(name)
            if _worth_copying(value):
                found[name] = value
    elif _worth_copying(getattr(objective, "__self__", None)):
        found["self"] = objective.__self__
    return found


@dataclass
class CopiedObjective:
    """The copies: ``objective(model, batch)`` on ``model``; ``memo`` maps id(original) -> copy."""

    objective: Callable[..., Any]
    model: nn.Module
    copied: dict[str, Any] = field(default_factory=dict)
    originals: dict[str, Any] = field(default_factory=dict, repr=False)
    memo: dict[int, Any] = field(default_factory=dict, repr=False)

    def copy_of(self, tensor: torch.Tensor) -> torch.Tensor | None:
        """The copy of an original parameter or tensor (None when it was not copied)."""
        got = self.memo.get(id(tensor))
        return got if isinstance(got, torch.Tensor) else None


def _rebuild(objective: Any, memo: dict[int, Any]) -> Any:
    def swap(value: Any) -> Any:
        return copy.deepcopy(value, memo) if _worth_copying(value) else value

    if isinstance(objective, nn.Module):
        return copy.deepcopy(objective, memo)
    if isinstance(objective, functools.partial):
        return functools.partial(_rebuild(objective.func, memo), *map(swap, objective.args),
                                 **{k: swap(v) for k, v in objective.keywords.items()})
    if isinstance(objective, types.MethodType):
        return types.MethodType(objective.__func__, swap(objective.__self__))
    if not isinstance(objective, types.FunctionType):
        return objective
    code = objective.__code__
    cells = []
    for cell in objective.__closure__ or ():
        try:
            cells.append(types.CellType(swap(cell.cell_contents)))
        except ValueError:
            cells.append(cell)
    glob = objective.__globals__
    names = [n for n in dict.fromkeys(_code_names(code)) if _worth_copying(glob.get(n))]
    if names:
        glob = dict(glob)
        glob.update({n: swap(glob[n]) for n in names})
    fn = types.FunctionType(code, glob, objective.__name__,
                            tuple(map(swap, objective.__defaults__ or ())) or None,
                            tuple(cells) or None)
    fn.__kwdefaults__ = {k: swap(v) for k, v in (objective.__kwdefaults__ or {}).items()} or None
    fn.__dict__.update(objective.__dict__)
    return fn


def copy_objective(objective: Callable[..., Any], model: nn.Module) -> CopiedObjective:
    """Deep copies of ``model`` and of what ``objective`` reaches, and the objective rebuilt on them."""
    memo: dict[int, Any] = {}
    model_copy = copy.deepcopy(model, memo)
    rebuilt = _rebuild(objective, memo)
    originals = {name: v for name, v in reached_objects(objective).items() if id(v) in memo
                 and v is not model}
    copied = {name: memo[id(v)] for name, v in originals.items()}
    return CopiedObjective(objective=rebuilt, model=model_copy, copied=copied, originals=originals,
                           memo=memo)
