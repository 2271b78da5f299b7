"""Audit a loss that holds the variance itself: a loss module's learned ``logvar``, and
sigma-VAE's optimal sigma computed inside the loss.

The model is a small VAE on scikit-learn's digits (no download; pixels scaled to [0, 1])
whose decoder returns a mean only, as a dict ``{"recon", "mu_z", "logvar_z"}``; the
Gaussian variance lives in the objective:

- ``LearnedVarianceLoss``: one learned log-variance in the loss module (Stable Diffusion's
  ``LPIPSWithDiscriminator`` writes ``rec / exp(logvar) + logvar``).  With ``logvar`` in the
  optimiser nothing bounds the loss below; left out of the optimiser (as that code does) it
  is a constant and the loss is bounded; ``floor=`` soft-clips it from below.
- ``sigma_vae_loss``: sigma-VAE's optimal shared sigma, log sigma = log RMSE, soft-clipped at
  -6 (Rybkin et al. 2021, ``softclip(t, min) = min + softplus(t - min)``): bounded.

Run: ``python examples/audit_loss_module.py``.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

LOG_2PI = math.log(2 * math.pi)


class MeanVAE(nn.Module):
    """Encoder to (mu_z, logvar_z), one reparameterised sample, decoder to a mean only."""

    def __init__(self, data_dim: int = 64, latent_dim: int = 4, hidden: int = 64) -> None:
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(data_dim, hidden), nn.Tanh(),
                                     nn.Linear(hidden, 2 * latent_dim))
        self.decoder = nn.Sequential(nn.Linear(latent_dim, hidden), nn.Tanh(), nn.Linear(hidden, data_dim))

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        mu_z, logvar_z = self.encoder(x).chunk(2, dim=-1)
        z = mu_z + torch.exp(0.5 * logvar_z) * torch.randn_like(mu_z)
        return {"recon": self.decoder(z), "mu_z": mu_z, "logvar_z": logvar_z}


def kl(out: dict[str, torch.Tensor]) -> torch.Tensor:
    """KL(q(z|x) || N(0, I)) per row, summed over the latents."""
    return 0.5 * (out["mu_z"] ** 2 + torch.exp(out["logvar_z"]) - 1 - out["logvar_z"]).sum(-1)


class LearnedVarianceLoss(nn.Module):
    """Negative ELBO with one learned log-variance (natural log); summed over pixels, batch mean.

    ``floor`` (a log-variance) soft-clips it from below: ``floor + softplus(logvar - floor)``.
    """

    def __init__(self, floor: float | None = None) -> None:
        super().__init__()
        self.logvar = nn.Parameter(torch.zeros(()))
        self.floor = floor

    def forward(self, model: nn.Module, x: torch.Tensor) -> torch.Tensor:
        out = model(x)
        lv = self.logvar if self.floor is None else self.floor + F.softplus(self.logvar - self.floor)
        rec = 0.5 * (LOG_2PI + lv + (x - out["recon"]) ** 2 / torch.exp(lv)).sum(-1)
        return (rec + kl(out)).mean()


def sigma_vae_loss(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """sigma-VAE with the optimal shared sigma (log sigma = log RMSE, no gradient through it
    is needed: it is the minimiser), soft-clipped at -6, summed over pixels, batch mean."""
    out = model(x)
    log_sigma = 0.5 * torch.log(((x - out["recon"]) ** 2).mean())
    log_sigma = -6.0 + F.softplus(log_sigma + 6.0)
    rec = (0.5 * ((x - out["recon"]) / torch.exp(log_sigma)) ** 2 + log_sigma + 0.5 * LOG_2PI).sum(-1)
    return (rec + kl(out)).mean()


def make() -> MeanVAE:
    torch.manual_seed(0)
    return MeanVAE()


def load() -> np.ndarray:
    from sklearn.datasets import load_digits

    return (load_digits().data / 16.0).astype(np.float32)


def main(steps: int | None = None) -> dict[str, object]:
    from vaeproofs.audit import audit_objective

    x = load()
    reports = {}
    for name in ("logvar trained", "logvar left out of the optimiser", "logvar soft-clipped at log 1e-3",
                 "sigma-VAE optimal sigma, soft clip"):
        model = make()
        if name.startswith("sigma-VAE"):
            objective, opt = sigma_vae_loss, None
        else:
            objective = LearnedVarianceLoss(floor=math.log(1e-3) if "clipped" in name else None)
            params = list(model.parameters()) + ([] if "left out" in name else [objective.logvar])
            opt = torch.optim.Adam(params, lr=1e-3)
        rep = audit_objective(model, x, objective, optimizer=opt, steps=steps, progress=False)
        reports[name] = rep
        print(f"== {name}: {rep.decision} (loss lower bound {rep.loss_lower_bound})")
        print(rep.verdict)
    return reports


if __name__ == "__main__":
    main()
