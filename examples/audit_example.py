"""A user's own VAE, as ``vaeproofs audit`` expects it: ``model(x)`` returns
``(mu_x, logvar_x, mu_z, logvar_z)`` (log-variances, natural log).

    python -c "import numpy as np; from sklearn.datasets import load_digits; \\
               np.save('digits.npy', load_digits().data / 16)"
    vaeproofs audit examples/audit_example.py:make --data digits.npy --variance logvar \\
        --loss examples/audit_example.py:loss --report audit-report

``make_floored`` adds a variance floor (softplus + 1e-3 on the variance); ``make_with_optimizer``
returns (model, optimizer) so the audit sees which parameters train.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


class SmallVAE(nn.Module):
    """MLP encoder/decoder; the decoder's second output is a per-pixel log-variance."""

    def __init__(self, data_dim: int = 64, latent_dim: int = 4, hidden: int = 64,
                 floor: float | None = None) -> None:
        super().__init__()
        self.floor = floor
        self.encoder = nn.Sequential(nn.Linear(data_dim, hidden), nn.Tanh(),
                                     nn.Linear(hidden, 2 * latent_dim))
        self.body = nn.Sequential(nn.Linear(latent_dim, hidden), nn.Tanh())
        self.to_mean = nn.Linear(hidden, data_dim)
        self.to_logvar = nn.Linear(hidden, data_dim)

    def decode(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.body(z)
        raw = self.to_logvar(h)
        if self.floor is not None:
            return self.to_mean(h), torch.log(F.softplus(raw) + self.floor)
        return self.to_mean(h), raw

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        mu_z, logvar_z = self.encoder(x).chunk(2, dim=-1)
        z = mu_z + torch.exp(0.5 * logvar_z) * torch.randn_like(mu_z)
        mu_x, logvar_x = self.decode(z)
        return mu_x, logvar_x, mu_z, logvar_z


def make() -> SmallVAE:
    torch.manual_seed(0)
    return SmallVAE()


def make_floored() -> SmallVAE:
    torch.manual_seed(0)
    return SmallVAE(floor=1e-3)


def make_with_optimizer() -> tuple[SmallVAE, torch.optim.Optimizer]:
    model = make()
    return model, torch.optim.Adam(model.parameters(), lr=1e-3)


def loss(x: torch.Tensor, mu_x: torch.Tensor, logvar_x: torch.Tensor, mu_z: torch.Tensor,
         logvar_z: torch.Tensor) -> torch.Tensor:
    """Negative ELBO, summed over pixels and latents, averaged over the batch."""
    rec = 0.5 * (math.log(2 * math.pi) + logvar_x + (x - mu_x) ** 2 / torch.exp(logvar_x)).sum(-1)
    kl = 0.5 * (mu_z ** 2 + torch.exp(logvar_z) - 1 - logvar_z).sum(-1)
    return (rec + kl).mean()
