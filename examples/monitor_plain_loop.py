"""A plain PyTorch loop with the collapse monitor: two lines added to the loop.

A small VAE with a per-pixel decoder variance (a free log-variance) trains on 16
dequantised digits, the memorisation regime where the variance collapses.  The monitor
warns, in one line, when the collapse starts, and stops the loop (``stop=True``).  With
``--floor 1e-3`` the decoder's variance is floored; the audit proves the cap and the
monitor warns of no collapse.
Optionally the metrics go to TensorBoard and the smallest variance per pixel to a heat map:

    python examples/monitor_plain_loop.py [--tensorboard runs/] [--heatmap pixels.png]
"""

from __future__ import annotations

import argparse
import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from vaeproofs.monitor import CollapseMonitor
from vaeproofs.numeric.data import DIGITS_LEVELS, digits_dataset


class Decoder(nn.Module):
    """z -> (mean, log-variance) per pixel; with ``floor``, variance = floor + softplus(raw)."""

    def __init__(self, latent: int, hidden: int, dim: int, floor: float | None = None) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(latent, hidden), nn.Tanh(), nn.Linear(hidden, 2 * dim))
        self.floor = floor

    def forward(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mu, raw = self.net(z).chunk(2, dim=-1)
        if self.floor is not None:
            return mu, torch.log(self.floor + F.softplus(raw))
        return mu, raw


class VAE(nn.Module):
    """MLP encoder and decoder; ``model(x)`` returns (mu_x, logvar_x, mu_z, logvar_z)."""

    def __init__(self, dim: int = 64, latent: int = 4, hidden: int = 64, floor: float | None = None) -> None:
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(dim, hidden), nn.Tanh(), nn.Linear(hidden, 2 * latent))
        self.decoder = Decoder(latent, hidden, dim, floor)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        mu_z, logvar_z = self.encoder(x).chunk(2, dim=-1)
        z = mu_z + torch.exp(0.5 * logvar_z) * torch.randn_like(mu_z)
        mu_x, logvar_x = self.decoder(z)
        return mu_x, logvar_x, mu_z, logvar_z


def elbo_per_point(x: torch.Tensor, mu_x: torch.Tensor, logvar_x: torch.Tensor, mu_z: torch.Tensor,
                   logvar_z: torch.Tensor) -> torch.Tensor:
    """Per-point ELBO (nats): Gaussian log-density summed over pixels minus the KL."""
    rec = -0.5 * (math.log(2 * math.pi) + logvar_x + (x - mu_x) ** 2 * torch.exp(-logvar_x)).sum(-1)
    kl = 0.5 * (mu_z**2 + torch.exp(logvar_z) - 1 - logvar_z).sum(-1)
    return rec - kl


def main(steps: int = 3000, n: int = 16, lr: float = 1e-2, seed: int = 0, tensorboard: str | None = None,
         heatmap: str | None = None, stop: bool = True, floor: float | None = None) -> CollapseMonitor:
    """Train, monitored; return the monitor (its rows, events and stop reason)."""
    torch.manual_seed(seed)
    torch.set_num_threads(1)  # a small model: one thread is fastest, and fair on a shared machine
    x_np = digits_dataset(dequantize=True, seed=seed).train[:n]
    x = torch.as_tensor(x_np, dtype=torch.float32)
    model = VAE(floor=floor)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    # Computed once: the decoder's static floor (the audit's variance_floor), the data's noise
    # level (Delta = 1/17 for (x + u)/17) and the thresholds (from the learning rate).  The
    # monitor hooks the decoder and reads its output 1, the log-variance.
    monitor = CollapseMonitor.from_decoder(model.decoder, latent_dim=4, variance="logvar", output=1,
                                           data=x_np, optimizer=opt, quantization=1 / DIGITS_LEVELS,
                                           image_shape=(8, 8), stop=stop)
    writer = None
    if tensorboard is not None:
        from torch.utils.tensorboard import SummaryWriter

        from vaeproofs.monitor.tensorboard import write_rows
        writer = SummaryWriter(tensorboard)
    for step in range(1, steps + 1):
        mu_x, logvar_x, mu_z, logvar_z = model(x)
        elbo = elbo_per_point(x, mu_x, logvar_x, mu_z, logvar_z)
        loss = -elbo.mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        rows = monitor.update(objective=elbo, index=torch.arange(n), step=step)  # line 1
        if writer is not None:
            write_rows(writer, rows)
        if monitor.should_stop:                                                          # line 2
            break
    monitor.close()
    if writer is not None:
        writer.close()
    if heatmap is not None:
        monitor.heatmap(heatmap, title=f"smallest variance per pixel, {monitor.rows[-1]['step']} steps")
    return monitor


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--floor", type=float, default=None, help="floor the variance at this value")
    parser.add_argument("--tensorboard", default=None, help="a SummaryWriter log directory")
    parser.add_argument("--heatmap", default=None, help="a PNG path for the per-pixel heat map")
    args = parser.parse_args()
    mon = main(steps=args.steps, tensorboard=args.tensorboard, heatmap=args.heatmap, floor=args.floor)
    print(f"stopped: {mon.stop_reason.message if mon.stop_reason else 'no'}; "
          f"events: {len(mon.events)}; smallest variance {np.nanmin(mon.pixel_min_variance):.3g}")
