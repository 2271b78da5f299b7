"""A Lightning Trainer with the collapse monitor as a callback (extra ``vaeproofs[lightning]``).

The same small per-pixel VAE as ``monitor_plain_loop.py`` on 16 dequantised digits; the
callback hooks the decoder, logs its metrics with ``self.log`` under ``collapse/`` and
stops the fit when the collapse starts:

    python examples/monitor_lightning.py
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path

import lightning.pytorch as pl
import torch
from torch.utils.data import DataLoader, IterableDataset

from vaeproofs.monitor.lightning import CollapseCallback
from vaeproofs.numeric.data import DIGITS_LEVELS, digits_dataset


def _plain_example() -> object:
    """The plain-loop example's module (its VAE and ELBO), loaded from beside this file."""
    path = Path(__file__).with_name("monitor_plain_loop.py")
    spec = importlib.util.spec_from_file_location("monitor_plain_loop", path)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    sys.modules.setdefault("monitor_plain_loop", module)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


_plain = _plain_example()


class Repeat(IterableDataset):
    """The whole (small) training set as one batch, again and again."""

    def __init__(self, x: torch.Tensor) -> None:
        self.x = x

    def __iter__(self) -> Iterator[torch.Tensor]:
        while True:
            yield self.x


class LitVAE(pl.LightningModule):
    def __init__(self, lr: float) -> None:
        super().__init__()
        self.vae = _plain.VAE()
        self.decoder = self.vae.decoder  # the callback hooks "decoder"
        self.lr = lr

    def training_step(self, batch: torch.Tensor, batch_idx: int) -> dict[str, torch.Tensor]:
        mu_x, logvar_x, mu_z, logvar_z = self.vae(batch)
        elbo = _plain.elbo_per_point(batch, mu_x, logvar_x, mu_z, logvar_z)
        return {"loss": -elbo.mean(), "objective": elbo.detach()}

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.Adam(self.parameters(), lr=self.lr)


def main(max_steps: int = 3000, n: int = 16, lr: float = 1e-2, seed: int = 0,
         stop: bool = True) -> tuple[pl.Trainer, CollapseCallback]:
    """Fit, monitored; return the trainer and the callback (its monitor holds the events)."""
    torch.manual_seed(seed)
    torch.set_num_threads(1)
    x_np = digits_dataset(dequantize=True, seed=seed).train[:n]
    x = torch.as_tensor(x_np, dtype=torch.float32)
    callback = CollapseCallback(data=x_np, variance="logvar", module="decoder",
                                output=1,
                                quantization=1 / DIGITS_LEVELS, image_shape=(8, 8), stop=stop)
    trainer = pl.Trainer(max_steps=max_steps, callbacks=[callback], logger=False, accelerator="cpu",
                         enable_checkpointing=False, enable_progress_bar=False,
                         enable_model_summary=False)
    trainer.fit(LitVAE(lr), DataLoader(Repeat(x), batch_size=None))
    return trainer, callback


if __name__ == "__main__":
    fitted, cb = main()
    reason = cb.monitor.stop_reason
    print(f"global step {fitted.global_step}; stopped: {reason.message if reason else 'no'}")
    print({k: float(v) for k, v in fitted.callback_metrics.items() if k.startswith("collapse/")})
