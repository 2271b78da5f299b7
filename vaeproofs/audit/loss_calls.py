"""Which of torch's Gaussian losses a user's objective calls, and how: measured, not parsed.

:class:`LossCallRecorder` is a ``TorchFunctionMode``: while active it records every call of
``torch.nn.functional.gaussian_nll_loss`` (which ``nn.GaussianNLLLoss`` calls) and of
``mse_loss``, with their ``reduction``, ``eps``, ``full`` and the input's shape, whatever name
the user imported them under.  The advice (:mod:`vaeproofs.audit.advice`) reads them:

- ``gaussian_nll_loss(..., eps)`` computes ``var = var.clone(); with torch.no_grad():
  var.clamp_(min=eps)``: the loss *value* is floored at eps but the gradient passes through
  the clamp, so the model's variance output itself has no floor (PyTorch's documentation:
  the clamp is for stability and gradients are unaffected);
- ``reduction="mean"`` averages over every element, the D pixels of a point included: next
  to a KL summed per point it weighs the reconstruction 1/D of the ELBO's (beta = D).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch.overrides import TorchFunctionMode

__all__ = ["LossCall", "LossCallRecorder", "record_loss_calls"]

#: The defaults of F.gaussian_nll_loss (torch 2.x).
GAUSSIAN_NLL_DEFAULTS = {"full": False, "eps": 1e-6, "reduction": "mean"}


@dataclass(frozen=True)
class LossCall:
    """One call: ``function`` (``gaussian_nll_loss`` or ``mse_loss``), its settings and shapes."""

    function: str
    reduction: str
    eps: float | None
    full: bool | None
    input_shape: tuple[int, ...]
    var: torch.Tensor | None = field(default=None, compare=False, repr=False)

    @property
    def per_row(self) -> int:
        """Elements per row (per data point) of the input: D for images of D pixels."""
        n = 1
        for s in self.input_shape[1:]:
            n *= s
        return n


class LossCallRecorder(TorchFunctionMode):
    """Records the Gaussian-loss calls made while it is active (see the module docstring)."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[LossCall] = []

    def __torch_function__(self, func: Callable[..., Any], types: Any, args: tuple = (),
                           kwargs: dict | None = None) -> Any:
        kwargs = kwargs or {}
        if func is F.gaussian_nll_loss:
            names = ("input", "target", "var", "full", "eps", "reduction")
            bound = {**GAUSSIAN_NLL_DEFAULTS, **dict(zip(names, args, strict=False)), **kwargs}
            self.calls.append(LossCall("gaussian_nll_loss", str(bound["reduction"]), float(bound["eps"]),
                                       bool(bound["full"]), tuple(bound["input"].shape),
                                       bound["var"]))
        elif func is F.mse_loss:
            mse_names = ("input", "target", "size_average", "reduce", "reduction")
            bound = {"reduction": "mean", **dict(zip(mse_names, args, strict=False)), **kwargs}
            self.calls.append(LossCall("mse_loss", str(bound["reduction"]), None, None,
                                       tuple(bound["input"].shape)))
        return func(*args, **kwargs)


def record_loss_calls(fn: Callable[..., Any], *args: Any) -> tuple[Any, list[LossCall]]:
    """``fn(*args)`` and the Gaussian-loss calls it made."""
    recorder = LossCallRecorder()
    with recorder:
        value = fn(*args)
    return value, recorder.calls
