"""The static half of :func:`vaeproofs.audit.objective.audit_objective`.

- :func:`static_bound`: the proven lower bound of the objective on the batch, trainable
  parameters free, the rest constant (:func:`vaeproofs.audit.loss_bound.static_loss_bound`);
- :func:`output_floor`: the static floor of the model's variance-like output when the output
  names one (information, and the expression the advice patches), else an undecided record
  that says why the output was not read.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from vaeproofs.audit.floor import VarianceFloor, static_variance_floor
from vaeproofs.audit.model_outputs import ModelOutputs, variance_selector

if TYPE_CHECKING:
    from vaeproofs.audit.loss_bound import LossBound

__all__ = ["output_floor", "static_bound"]


def static_bound(objective: Any, model: nn.Module, batch: Any, frozen: Sequence[str]) -> LossBound:
    """The objective's static lower bound on ``batch`` with ``frozen`` held constant (a dict
    batch is not traced: undecided, saying to pass a tuple)."""
    from vaeproofs.audit.loss_bound import WHOLE, LossBound, static_loss_bound

    if isinstance(batch, dict):
        return LossBound(lower=None, decided=False, reason="the static analysis takes a tensor or a tuple "
                         "of tensors as the batch, not a dict: pass X as a tuple", unbounded_paths=(),
                         trainable=(), frozen=tuple(sorted(frozen)), analysed=WHOLE, expression="")
    return static_loss_bound(objective, model, batch, frozen=tuple(frozen))


def _not_read(reason: str, frozen: Sequence[str]) -> VarianceFloor:
    return VarianceFloor(variance="var", floor=None, bounded=None, cap_per_dim=None, sup=None,
                         expression="", set_by=(), trainable=(), frozen=tuple(sorted(frozen)),
                         explanation=f"The model's output was not read as a mean and a variance "
                                     f"({reason}); the audit judged the objective's bound only.",
                         output="-")


def output_floor(model: nn.Module, inputs: tuple[Any, ...] | None, outs: ModelOutputs | None,
                 unread: str, frozen: Sequence[str]) -> VarianceFloor:
    """The static floor of the variance-like output ``outs`` names (see the module docstring)."""
    if outs is None:
        return _not_read(unread, frozen)
    if not inputs or not all(isinstance(t, torch.Tensor) for t in inputs):
        return _not_read("the model is called with other than tensor arguments", frozen)
    example = tuple(t[:2] for t in inputs)
    return static_variance_floor(model, example[0] if len(example) == 1 else example,
                                 variance=outs.kind, frozen=frozen, select=variance_selector(outs.path))
