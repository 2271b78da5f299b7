"""Torch networks with explicit Gaussian encoders, for the constructions about the KL's price.

Like :mod:`vaeproofs.constructions.networks` (whose helpers it reuses): every layer is a real
``nn.Linear`` (or activation) with *set* weights, and each objective is computed from the
network's outputs by Gauss-Legendre / Gauss-Hermite quadrature, to be compared with the
mpmath evaluators.  Conventions: natural log; variances, not scales; log-densities summed
over pixels; objectives summed over the data points (population objectives: one point's
expectation).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from vaeproofs.constructions.networks import _dtype, _set, gaussian_log_density

__all__ = ["IdentityGaussianVae", "population_beta_objective"]


class IdentityGaussianVae(nn.Module):
    """Encoder mean ``Linear(1, 1)`` = identity, decoder mean ``Linear(1, 1)`` = identity; the
    encoder and the decoder have the same log-variance ``log_var`` (1-D data and latent)."""

    def __init__(self, *, log_var: float, dtype: str = "float64") -> None:
        super().__init__()
        dt = _dtype(dtype)
        self.encoder = _set(nn.Linear(1, 1, dtype=dt), [[1.0]], [0.0], dt)
        self.decoder = _set(nn.Linear(1, 1, dtype=dt), [[1.0]], [0.0], dt)
        self.log_var = torch.tensor(log_var, dtype=dt)


def population_beta_objective(net: IdentityGaussianVae, *, beta: float,
                              dtype: str = "float64") -> float:
    """``E_{x ~ N(0,1)}[E_q log N(x | dec(z), v) - beta KL(q || N(0, 1))]``, q = N(enc(x), v).

    Gauss-Hermite with 40 nodes for x and for z = enc(x) + sqrt(v) t (exact for the
    quadratic integrands); v = exp(log_var) for the encoder and the decoder.
    """
    dt = _dtype(dtype)
    t, tw = np.polynomial.hermite.hermgauss(40)
    nodes = torch.as_tensor(math.sqrt(2) * t, dtype=dt)
    weights = torch.as_tensor(tw / math.sqrt(math.pi), dtype=dt)
    with torch.no_grad():
        x = nodes[:, None]                                  # (40, 1) population nodes
        m = net.encoder(x)                                  # encoder mean
        v = torch.exp(net.log_var)
        z = m[:, None, :] + torch.sqrt(v) * nodes[None, :, None]    # (40, 40, 1)
        mu = net.decoder(z)
        logp = gaussian_log_density(x[:, None, :], mu, torch.full_like(mu, float(net.log_var)))
        recon = (logp * weights[None, :]).sum(-1)
        kl = 0.5 * (m[:, 0] ** 2 + v - 1 - net.log_var)
        return float(torch.sum(weights * (recon - beta * kl)))
