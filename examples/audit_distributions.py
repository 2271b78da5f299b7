"""Audit a VAE that returns ``torch.distributions`` objects: ``model(x) -> (p(x|z), q(z|x))``.

The decoder returns ``Independent(Normal(mean, scale), 1)`` and the encoder ``Normal``; the
audit reads the decoder's scale as a standard deviation (no ``variance=`` needed) and the
posterior's mean and log-variance from ``q``.  Data: scikit-learn's digits (no download),
pixels scaled to [0, 1].

- ``make()``: ``scale = softplus(raw)``: no floor;
- ``make_floored()``: ``scale = softplus(raw) + 0.05`` (a variance floor of 0.05^2).

Both are audited twice: ``audit_vae`` (the decoder's floor, the probe) and ``audit_objective``
on the loss the model trains with, ``-(p.log_prob(x) - KL(q || N(0, I))).mean()``.
``audit_vae`` decides both (floor 0 and a probe running off: NOT bounded; floor 0.05^2:
bounded).  ``audit_objective`` proves the floored loss at least 64 x 1/2 log(2 pi 0.05^2) per
point (the KL is >= 0); on the unfloored one it
finds no finite bound (the -log scale of ``log_prob``) and, without a witness within its
budget, stays undecided.

Run: ``python examples/audit_distributions.py``.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.distributions as td
import torch.nn.functional as F
from torch import nn


class DistributionVAE(nn.Module):
    """x (n, 64) -> (Independent(Normal(mean, scale), 1), Normal(mu_z, sigma_z))."""

    def __init__(self, floor: float | None = None, data_dim: int = 64, latent_dim: int = 4,
                 hidden: int = 64) -> None:
        super().__init__()
        self.floor = floor
        self.encoder = nn.Sequential(nn.Linear(data_dim, hidden), nn.Tanh(),
                                     nn.Linear(hidden, 2 * latent_dim))
        self.body = nn.Sequential(nn.Linear(latent_dim, hidden), nn.Tanh())
        self.to_mean = nn.Linear(hidden, data_dim)
        self.to_raw = nn.Linear(hidden, data_dim)

    def forward(self, x: torch.Tensor) -> tuple[td.Distribution, td.Normal]:
        mu_z, logvar_z = self.encoder(x).chunk(2, dim=-1)
        q = td.Normal(mu_z, torch.exp(0.5 * logvar_z))
        h = self.body(q.rsample())
        scale = F.softplus(self.to_raw(h))
        if self.floor is not None:
            scale = scale + self.floor
        return td.Independent(td.Normal(self.to_mean(h), scale), 1), q


def make() -> DistributionVAE:
    torch.manual_seed(0)
    return DistributionVAE()


def make_floored() -> DistributionVAE:
    torch.manual_seed(0)
    return DistributionVAE(floor=0.05)


def negative_elbo(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """-(log p(x|z) - KL(q(z|x) || N(0, I))), natural log, summed over pixels, batch mean."""
    p, q = model(x)
    prior = td.Normal(torch.zeros_like(q.loc), torch.ones_like(q.scale))
    return -(p.log_prob(x) - td.kl_divergence(q, prior).sum(-1)).mean()


def load() -> np.ndarray:
    from sklearn.datasets import load_digits

    return (load_digits().data / 16.0).astype(np.float32)


def main(steps: int | None = None) -> dict[str, object]:
    from vaeproofs.audit import audit_objective, audit_vae

    x = load()
    reports = {}
    for name, make_model in (("softplus scale", make), ("softplus scale + 0.05", make_floored)):
        vae = audit_vae(make_model(), x, steps=steps, progress=False)
        obj = audit_objective(make_model(), x, negative_elbo, steps=steps, progress=False)
        reports[f"{name}: audit_vae"], reports[f"{name}: audit_objective"] = vae, obj
        print(f"== {name}: audit_vae {vae.decision} (floor {vae.variance_floor.floor}), "
              f"audit_objective {obj.decision} (loss lower bound {obj.loss_lower_bound})")
        print(vae.verdict)
        print(obj.verdict)
    return reports


if __name__ == "__main__":
    main()
