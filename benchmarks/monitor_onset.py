"""The monitor on the onset study's settings: when it warns against when the run passes the cap.

Each run is the onset preset's (``vaeproofs/presets/onset.toml``: dequantised digits,
Adam lr 3e-3, batch 128, latent 4, depth 2, float64) trained by the package's
:class:`~vaeproofs.numeric.training.Trainer` (same seeds, same trajectory as ``vaeproofs
sweep --preset onset``), with a :class:`~vaeproofs.monitor.CollapseMonitor` watching the
decoder through a forward hook and reading each step's per-point objective.  The cap is
the study's: a run passes it at the first logged step (every ``log_every`` steps, the
8-sample training ELBO of :func:`vaeproofs.numeric.metrics.evaluate`) whose largest
per-point ELBO exceeds -(D/2) log(2 pi xi), xi = 1e-3.  The monitor is told the data's
quantisation step (1/17: the dequantised digits are (x + u)/17) and, for the floored
head, the static floor the audit's :func:`static_variance_floor` finds.
"""

from __future__ import annotations

import math
import time
import warnings
from dataclasses import dataclass
from typing import Any

import torch

from vaeproofs.audit import static_variance_floor
from vaeproofs.constants import gaussian_floor_cap
from vaeproofs.monitor import CollapseMonitor
from vaeproofs.numeric.data import DIGITS_LEVELS
from vaeproofs.numeric.metrics import EvalSettings, evaluate
from vaeproofs.numeric.networks import gaussian_kl_standard
from vaeproofs.numeric.training import TrainConfig, Trainer, build_model, prepare_data, torch_settings

__all__ = ["OnsetRun", "run_onset"]

XI = 1e-3


class _Watched(Trainer):
    """The package's trainer, passing each step's per-point objective and indices to a monitor."""

    monitor: CollapseMonitor

    def _batch(self) -> torch.Tensor:
        if self.batch_size == self.n:
            self._idx = torch.arange(self.n)
            return self.x
        if self._pos + self.batch_size > self._order.numel():
            self._order = torch.randperm(self.n, generator=self.generator)
            self._pos = 0
        self._idx = self._order[self._pos:self._pos + self.batch_size]
        self._pos += self.batch_size
        return self.x[self._idx]

    def _loss(self) -> torch.Tensor:
        xb = self._batch()
        mean, log_var = self.model.encode(xb)
        eps = torch.randn(mean.shape, generator=self.generator, dtype=mean.dtype, device=mean.device)
        z = mean + torch.exp(0.5 * log_var) * eps
        objective = self.model.head.objective(xb, self.model.decoder(z)) - gaussian_kl_standard(mean, log_var)
        self.monitor.update(objective=objective, index=self._idx)
        return (-objective).mean()


def _variance_output(likelihood: str, dim: int) -> tuple[str, Any]:
    if likelihood == "per-pixel":
        return "logvar", lambda out: out[..., dim:]
    return "var", None


@dataclass
class OnsetRun:
    likelihood: str
    n: int
    hidden: int
    seed: int
    steps: int
    cap_step: int | None
    best_elbo: float
    events: list[tuple[int, str, str]]
    seconds: float
    log_every: int = 100

    def first(self, code: str) -> int | None:
        return next((t for t, c, _ in self.events if c == code), None)


def run_onset(likelihood: str, n: int | None, hidden: int, seed: int, steps: int,
              log_every: int = 100, until_both: bool = False) -> OnsetRun:
    """One run of the onset grid with the monitor (see the module docstring); with
    ``until_both`` it ends at the first logged step after both the cap was passed and the
    monitor warned of a collapse."""
    config = TrainConfig(likelihood=likelihood, n_train=n, hidden=hidden, seed=seed, steps=steps,
                         dequantize=True, batch_size=128, xi=XI, n_test=2)
    _, x_np, _ = prepare_data(config)
    cap = gaussian_floor_cap(x_np.shape[1], XI)
    start = time.perf_counter()
    with torch_settings(1), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        x = torch.as_tensor(x_np)
        model = build_model(config, x.shape[1])
        trainer = _Watched(model, x, lr=config.lr, batch_size=config.batch_size, train_samples=1,
                           generator=torch.Generator().manual_seed(seed))
        kind, select = _variance_output(likelihood, x.shape[1])

        def forward(m: torch.nn.Module, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            out = m.decoder(z)
            return out, m.head.variance(out)

        floor = static_variance_floor(model, torch.zeros(2, config.latent_dim, dtype=x.dtype),
                                      variance="var", forward=forward)
        monitor = CollapseMonitor(x_np, variance=kind, floor=floor, optimizer=trainer.optimizer,
                                  quantization=1.0 / DIGITS_LEVELS, image_shape=(8, 8))
        if likelihood == "per-pixel":
            monitor.watch(model.decoder, output=select)
        else:
            monitor.watch(model.decoder, output=lambda out: model.head.variance(out))
        trainer.monitor = monitor
        settings = EvalSettings(elbo_samples=8, iwae_samples=2, seed=seed + 1)
        cap_step, best, step = None, -math.inf, 0
        while step < steps:
            done = trainer.run(log_every)
            step += done
            if done < log_every:
                break
            elbo_max = evaluate(model, x, x[:2], settings)["train_elbo_max"]
            best = max(best, elbo_max)
            if cap_step is None and elbo_max > cap:
                cap_step = step
            if until_both and cap_step is not None and any(e.code == "collapse" for e in monitor.events):
                break
        monitor.close()
    return OnsetRun(likelihood, x_np.shape[0], hidden, seed, step, cap_step, best,
                    [(e.step, e.code, e.message) for e in monitor.events], time.perf_counter() - start,
                    log_every)
