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

from vaeproofs.constructions.networks import (
    CellStepDecoder,
    _dtype,
    _gauss_legendre,
    _set,
    cell_elbo,
    gaussian_log_density,
)

__all__ = ["FixedVarianceEncoder", "IdentityGaussianVae", "PosteriorMeanDecoder",
           "fixed_encoder_cell_elbo", "fixed_encoder_soft_profile", "population_beta_objective"]


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


# ------------------------------------------------------------ fixed encoder variance ---
def _two_points(dim: int) -> np.ndarray:
    """x_1 = 0 and x_2 = e_1 in R^dim (the fixed-encoder constructions' data)."""
    points = np.zeros((2, dim))
    points[1, 0] = 1.0
    return points


class FixedVarianceEncoder(nn.Module):
    """``Linear(D, 1)`` mapping x_1 = 0 to -s0 t and x_2 = e_1 to +s0 t; log-variance log s0^2."""

    def __init__(self, dim: int, *, half_distance: float, s0: float = 1.0,
                 dtype: str = "float64") -> None:
        super().__init__()
        dt = _dtype(dtype)
        weight = np.zeros((1, dim))
        weight[0, 0] = 2 * s0 * half_distance
        self.mean = _set(nn.Linear(dim, 1, dtype=dt), weight, [-s0 * half_distance], dt)
        self.log_var = torch.tensor(2 * math.log(s0), dtype=dt)


def fixed_encoder_cell_elbo(*, dim: int, half_distance: float, log_gamma: float,
                            dtype: str = "float64") -> float:
    """The total ELBO of the encoder network and the step decoder (x_1 on z < 0, x_2 on z > 0)
    with shared log-variance ``log_gamma``: :func:`~vaeproofs.constructions.networks.cell_elbo`
    at the encoder's output means."""
    dt = _dtype(dtype)
    data = _two_points(dim)
    encoder = FixedVarianceEncoder(dim, half_distance=half_distance, dtype=dtype)
    with torch.no_grad():
        centres = encoder.mean(torch.as_tensor(data, dtype=dt))[:, 0].tolist()
    decoder = CellStepDecoder(data, boundaries=[0.0], dtype=dtype)
    return cell_elbo(decoder, data, centres=centres, posterior_var=float(torch.exp(encoder.log_var)),
                     boundaries=[0.0], likelihood={"kind": "gaussian", "log_var": log_gamma},
                     dtype=dtype)


class PosteriorMeanDecoder(nn.Module):
    """The best decoder mean for two fixed encoders N(-/+ s0 t, s0^2): the posterior-weighted
    mean x_1 + (x_2 - x_1) sigmoid(2 t z / s0) (``Linear(1, 1)``, ``Sigmoid``, ``Linear(1, D)``)."""

    def __init__(self, dim: int, *, half_distance: float, s0: float = 1.0,
                 dtype: str = "float64") -> None:
        super().__init__()
        dt = _dtype(dtype)
        data = _two_points(dim)
        self.gate = _set(nn.Linear(1, 1, dtype=dt), [[2 * half_distance / s0]], [0.0], dt)
        self.act = nn.Sigmoid()
        self.out = _set(nn.Linear(1, dim, dtype=dt), (data[1] - data[0])[:, None], data[0], dt)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.out(self.act(self.gate(z)))


def fixed_encoder_soft_profile(dim: int, half_distances: list[float], *,
                               dtype: str = "float64") -> list[float]:
    """The total ELBO, at the best shared gamma = R/(n D), of the two fixed encoders and the
    best decoder mean (:class:`PosteriorMeanDecoder`), for each half-distance t (s0 = 1).

    R = sum_i E_{q_i} ||x_i - mu(z)||^2 by composite Gauss-Legendre (16 nodes, panels of
    width 1/4 on c_i +- 12 s0, mass outside ~4e-33).
    """
    dt = _dtype(dtype)
    data = torch.as_tensor(_two_points(dim), dtype=dt)
    out = []
    for t in half_distances:
        encoder = FixedVarianceEncoder(dim, half_distance=t, dtype=dtype)
        decoder = PosteriorMeanDecoder(dim, half_distance=t, dtype=dtype)
        with torch.no_grad():
            means = encoder.mean(data)[:, 0]
            residual = torch.zeros((), dtype=dt)
            for i in range(2):
                c = float(means[i])
                nodes, weights = _gauss_legendre(list(np.arange(c - 12, c + 12.001, 0.25)), 16)
                z = torch.as_tensor(nodes, dtype=dt)[:, None]
                q = torch.exp(-0.5 * (z[:, 0] - c) ** 2) / math.sqrt(2 * math.pi)
                err = ((data[i] - decoder(z)) ** 2).sum(-1)
                residual = residual + torch.sum(torch.as_tensor(weights, dtype=dt) * q * err)
            nd = 2 * dim
            kl = 0.5 * (means**2).sum()          # s0 = 1: (m^2 + 1 - 1 - log 1)/2 per point
            out.append(float(-nd / 2 * torch.log(2 * math.pi * math.e * residual / nd) - kl))
    return out
