"""A Lightning callback around :class:`~vaeproofs.monitor.CollapseMonitor` (extra ``vaeproofs[lightning]``).

    from vaeproofs.monitor.lightning import CollapseCallback
    trainer = lightning.Trainer(callbacks=[CollapseCallback(data=x_train, variance="logvar",
                                                            module="decoder", output=1, stop=True)])

At the start of the fit it builds the monitor (the learning rate from the trainer's first
optimiser, unless a monitor is given) and hooks the LightningModule's submodule
``module`` (its output ``output``: an index, a key, or a callable).  After each training
batch it records the step; when ``training_step`` returns a dict holding
``objective_key`` (the per-point objective, shape (B,)) it reads that too.  At each check
it logs the newest metrics with ``LightningModule.log`` under ``collapse/``, and when an
event it stops on happens it sets ``trainer.should_stop``.  This module imports
lightning; importing :mod:`vaeproofs` or :mod:`vaeproofs.monitor` does not.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import lightning.pytorch as pl
from torch import Tensor

from vaeproofs.errors import InvalidArgumentError
from vaeproofs.monitor.core import CollapseMonitor

__all__ = ["CollapseCallback"]


class CollapseCallback(pl.Callback):
    """Watch a LightningModule's variance output for the collapse (see the module docstring).

    Args:
        monitor: a ready monitor (already watching, or hooked here); or None to build one
            from ``monitor_kwargs`` (e.g. ``data``, ``variance``, ``quantization``).
        module: the submodule whose output holds the variance (dotted name, ``""`` for the
            LightningModule itself).
        output: which part of that output is the variance (see :meth:`CollapseMonitor.watch`).
        objective_key: the key of the per-point objective in ``training_step``'s dict.
        stop: stop the fit on the monitor's stop events (True) or not.
        prefix: prefix of the logged metric names.
    """

    def __init__(self, monitor: CollapseMonitor | None = None, *, module: str = "decoder",
                 output: int | str | Callable[[Any], Tensor] | None = 1, objective_key: str = "objective",
                 stop: bool = True, prefix: str = "collapse/", **monitor_kwargs: Any) -> None:
        super().__init__()
        if monitor is not None and monitor_kwargs:
            raise InvalidArgumentError("monitor_kwargs", f"are for building a monitor, but one was given "
                                                         f"({', '.join(monitor_kwargs)})")
        self.monitor = monitor
        self.module = module
        self.output = output
        self.objective_key = objective_key
        self.stop = stop
        self.prefix = prefix
        self.monitor_kwargs = monitor_kwargs

    def on_fit_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self.monitor is None:
            kwargs = dict(self.monitor_kwargs)
            if "lr" not in kwargs and "optimizer" not in kwargs and trainer.optimizers:
                kwargs["optimizer"] = trainer.optimizers[0]
            kwargs.setdefault("stop", self.stop)
            self.monitor = CollapseMonitor(**kwargs)
        if not self.monitor._handles:
            try:
                target = pl_module.get_submodule(self.module) if self.module else pl_module
            except AttributeError as exc:
                raise InvalidArgumentError("module", f"names no submodule of "
                                                     f"{type(pl_module).__name__}: {exc}") from None
            self.monitor.watch(target, output=self.output)

    def on_train_batch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule, outputs: Any,
                           batch: Any, batch_idx: int) -> None:
        monitor = self.monitor
        if monitor is None or monitor._captured is None:
            return
        objective = outputs.get(self.objective_key) if isinstance(outputs, dict) else None
        rows = monitor.update(objective=objective if isinstance(objective, Tensor) else None,
                              step=trainer.global_step)
        if rows:
            for key, value in rows[-1].items():
                if key != "step" and isinstance(value, int | float) and math.isfinite(value):
                    pl_module.log(self.prefix + key, float(value), on_step=True, on_epoch=False)
        if self.stop and monitor.should_stop:
            trainer.should_stop = True

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self.monitor is not None:
            self.monitor.close()
