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

__all__ = [
    "AffineGaussianEncoder",
    "FixedVarianceEncoder",
    "HalfSpaceStepDecoder",
    "IdentityGaussianVae",
    "PosteriorMeanDecoder",
    "fixed_encoder_cell_elbo",
    "fixed_encoder_soft_profile",
    "half_space_step_elbo",
    "population_beta_objective",
]


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


# ------------------------------------------------------------- single-point collapse ---
class AffineGaussianEncoder(nn.Module):
    """``Linear(D, 2)`` giving each data point its posterior mean and log-variance (k = 1);
    the weights solve the affine interpolation exactly (n <= D + 1 points in general position)."""

    def __init__(self, points: np.ndarray, *, means: list[float], variances: list[float],
                 dtype: str = "float64") -> None:
        super().__init__()
        dt = _dtype(dtype)
        points = np.asarray(points, dtype=np.float64)
        design = np.hstack([points, np.ones((points.shape[0], 1))])
        targets = np.stack([np.asarray(means), np.log(np.asarray(variances))], axis=1)
        coef = np.linalg.solve(design, targets) if design.shape[0] == design.shape[1] else (
            np.linalg.lstsq(design, targets, rcond=None)[0])
        self.layer = _set(nn.Linear(points.shape[1], 2, dtype=dt), coef[:-1].T, coef[-1], dt)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        out = self.layer(x)
        return out[:, 0], out[:, 1]


class HalfSpaceStepDecoder(nn.Module):
    """Mean x_1 for every z (``Linear(1, D)``, zero weight, bias x_1); log-variance
    ``log(eps) sigmoid(K (b - z))`` (``Linear(1, 1)``, ``Sigmoid``, ``Linear(1, D)``): log eps on
    z < b and 0 beyond.  With K = 1e30 the sigmoid is exactly 0 or 1 in float64 wherever
    |z - b| > 1e-27, which :func:`half_space_step_elbo` checks at its nodes."""

    def __init__(self, x1: np.ndarray, *, boundary: float, log_epsilon: float,
                 steepness: float = 1e30, dtype: str = "float64") -> None:
        super().__init__()
        dt = _dtype(dtype)
        x1 = np.asarray(x1, dtype=np.float64).reshape(-1)
        self.mean = _set(nn.Linear(1, x1.size, dtype=dt), np.zeros((x1.size, 1)), x1, dt)
        self.gate = _set(nn.Linear(1, 1, dtype=dt), [[-steepness]], [steepness * boundary], dt)
        self.act = nn.Sigmoid()
        self.log_var = _set(nn.Linear(1, x1.size, dtype=dt), np.full((x1.size, 1), log_epsilon),
                            np.zeros(x1.size), dt)

    def indicator(self, z: torch.Tensor) -> torch.Tensor:
        return self.act(self.gate(z))

    def forward(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.mean(z), self.log_var(self.indicator(z))


def half_space_step_elbo(points: np.ndarray, *, means: list[float], variances: list[float],
                         boundary: float, log_epsilon: float, dtype: str = "float64") -> float:
    """``sum_i E_{q_i}[log N(x_i | dec(z))] - KL(q_i || N(0, 1))`` for the encoder network's
    q_i and :class:`HalfSpaceStepDecoder`.

    Composite Gauss-Legendre (16 nodes, 8 panels per piece): on the mean's side of the
    boundary b its +-9.2 s window (clipped at b); beyond b a strip of width
    min(42 s^2/delta, 9.2 s), delta = |c - b|, across which the density falls by e^-42
    relative to its value at b, as in :func:`~vaeproofs.constructions.networks.cell_elbo`
    (so the huge log-density 1/eps beyond b is integrated to full relative accuracy).
    """
    dt = _dtype(dtype)
    x_all = torch.as_tensor(np.asarray(points, dtype=np.float64), dtype=dt)
    encoder = AffineGaussianEncoder(points, means=means, variances=variances, dtype=dtype)
    decoder = HalfSpaceStepDecoder(points[0], boundary=boundary, log_epsilon=log_epsilon,
                                   dtype=dtype)
    total = torch.zeros((), dtype=dt)
    with torch.no_grad():
        m_all, lv_all = encoder(x_all)
        for i in range(x_all.shape[0]):
            c, lv = float(m_all[i]), float(lv_all[i])
            s = math.exp(lv / 2)
            delta = abs(c - boundary)
            width = 9.2 * s if delta == 0 else min(42 * s * s / delta, 9.2 * s)
            if c < boundary:
                own = [c - 9.2 * s, min(c + 9.2 * s, boundary)]
                far = [boundary, boundary + width]
            else:
                own = [max(c - 9.2 * s, boundary), c + 9.2 * s]
                far = [boundary - width, boundary]
            pieces = [np.linspace(*own, 9), np.linspace(*far, 9)]
            nodes, weights = zip(*(_gauss_legendre(list(p), 16) for p in pieces), strict=True)
            z = torch.as_tensor(np.concatenate(nodes), dtype=dt)[:, None]
            w = torch.as_tensor(np.concatenate(weights), dtype=dt)
            ind = decoder.indicator(z)
            if not torch.all((ind == 0) | (ind == 1)):
                raise RuntimeError("the variance step is not exact at the quadrature nodes")
            mean, log_var = decoder(z)
            q = torch.exp(-0.5 * ((z[:, 0] - c) / s) ** 2) / (s * math.sqrt(2 * math.pi))
            logp = gaussian_log_density(x_all[i], mean, log_var)
            kl = 0.5 * (m_all[i] ** 2 + torch.exp(lv_all[i]) - 1 - lv_all[i])
            total = total + torch.sum(w * q * logp) - kl
    return float(total)
