"""Which tensor is the variance, and which sub-module computes it.

- :func:`pick_output`: element ``output`` (an index or a key) of a model's output;
- :func:`frozen_names`: the names of the parameters the caller holds constant;
- :func:`locate_variance`: when the whole model cannot be traced, the sub-modules whose
  output holds the variance tensor (``decoder`` first, then every other, outermost
  first), found by running the model once with forward hooks and comparing tensors by
  identity (or by applying ``select`` to the sub-module's output).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import torch
import torch.distributions as td
from torch import nn
from torch.utils._pytree import tree_flatten

from vaeproofs.errors import InvalidArgumentError

__all__ = ["frozen_names", "locate_variance", "pick_output"]


def pick_output(structure: Any, output: int | str) -> Any:
    """Element ``output`` of a tuple, list or dict; a lone tensor is its own output."""
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


def frozen_names(module: nn.Module, frozen: Iterable[str | nn.Parameter]) -> set[str]:
    """Names of the parameters in ``frozen`` (given by name or as the parameter objects)."""
    by_id = {id(p): n for n, p in module.named_parameters()}
    names: set[str] = set()
    for item in frozen:
        if isinstance(item, str):
            names.add(item)
        elif id(item) in by_id:
            names.add(by_id[id(item)])
        else:
            raise InvalidArgumentError("frozen", "must hold parameter names or parameters of "
                                                 "the module, got an unknown tensor")
    return names


def _leaf_picker(out: Any, target: torch.Tensor) -> Callable[[Any], torch.Tensor] | None:
    leaves, _ = tree_flatten(out)
    for i, leaf in enumerate(leaves):
        if leaf is target:
            def pick(o: Any, i: int = i) -> torch.Tensor:
                return tree_flatten(o)[0][i]
            return pick
    return None


def locate_variance(model: nn.Module, inputs: tuple[Any, ...], pick: Callable[[Any], torch.Tensor],
                    forward: Callable[..., Any] | None
                    ) -> Iterator[tuple[str, nn.Module, tuple[Any, ...], Callable[[Any], torch.Tensor]]]:
    """(name, sub-module, its recorded inputs, how to pick the variance from its output)."""
    records: dict[str, tuple[tuple[Any, ...], Any]] = {}
    handles = []
    for name, sub in model.named_modules():
        if name:
            def hook(m: nn.Module, args: tuple[Any, ...], out: Any, name: str = name) -> None:
                records[name] = (args, out)
            handles.append(sub.register_forward_hook(hook))
    validate = td.Distribution._validate_args
    try:
        td.Distribution.set_default_validate_args(False)
        with torch.random.fork_rng(devices=[]), torch.no_grad():
            out = forward(model, *inputs) if forward is not None else model(*inputs)
            target = pick(out)
    except Exception:
        return
    finally:
        td.Distribution.set_default_validate_args(validate)
        for h in handles:
            h.remove()
    order = sorted(records, key=lambda n: (n != "decoder", n.count("."), n))
    modules = dict(model.named_modules())
    for name in order:
        args, sub_out = records[name]
        picker = _leaf_picker(sub_out, target)
        if picker is None:
            with contextlib.suppress(Exception):
                candidate = pick(sub_out)
                if isinstance(candidate, torch.Tensor) and candidate.shape == target.shape \
                        and torch.equal(candidate, target):
                    picker = pick
        if picker is not None:
            yield name, modules[name], tuple(args), picker
