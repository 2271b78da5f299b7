"""Real torch networks computing the constructions' decoders, and their objectives.

With :mod:`~vaeproofs.constructions.encoder_networks`, the only modules of
:mod:`vaeproofs.constructions` that import torch.  Each decoder is an
``nn.Module`` built from ``Linear`` layers and activations whose weights are *set*
(no training, no lookup table); each objective function evaluates the construction's
exact objective from the network's outputs by Gauss-Legendre / Gauss-Hermite quadrature,
so that it can be compared with the mpmath evaluators.

Conventions: natural log; log-densities summed over pixels; objectives summed over the
data points (except :func:`curve_elbo`, a population average); Gaussian log-densities are
computed from a log-variance ``v`` as ``-1/2 [log 2 pi + v + (x - mu)^2 exp(-v)]``, the
usual decoder head.  Computations run in the requested dtype (float64 for the
comparisons; float32 on purpose only to show where it stops following a sequence).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

__all__ = [
    "CellStepDecoder",
    "CurveDecoder",
    "HalfSpaceVarianceDecoder",
    "LinearGaussianVae",
    "cell_elbo",
    "curve_elbo",
    "encoder_elbo_1d",
    "gaussian_nll_eps_loss",
    "linear_elbo",
    "log_likelihood_1d",
    "step_mixture_log_likelihood",
]

_LOG_2PI = math.log(2 * math.pi)


def _dtype(name: str) -> torch.dtype:
    return {"float64": torch.float64, "float32": torch.float32}[name]


def _set(layer: nn.Linear, weight: Any, bias: Any | None, dtype: torch.dtype) -> nn.Linear:
    with torch.no_grad():
        layer.weight.copy_(torch.as_tensor(np.asarray(weight, dtype=np.float64), dtype=dtype))
        if bias is not None:
            layer.bias.copy_(torch.as_tensor(np.asarray(bias, dtype=np.float64), dtype=dtype))
    layer.requires_grad_(False)
    return layer


def _gauss_legendre(edges: Sequence[float], order: int) -> tuple[np.ndarray, np.ndarray]:
    """Composite Gauss-Legendre nodes and weights (float64) on consecutive panels."""
    x, w = np.polynomial.legendre.leggauss(order)
    nodes, weights = [], []
    for lo, hi in itertools.pairwise(edges):
        if hi <= lo:
            continue
        half = (hi - lo) / 2
        nodes.append(lo + half * (x + 1))
        weights.append(half * w)
    return np.concatenate(nodes), np.concatenate(weights)


def gaussian_log_density(x: torch.Tensor, mean: torch.Tensor, log_var: torch.Tensor,
                         floor: float = 0.0) -> torch.Tensor:
    """Sum over the last axis of ``log N(x | mean, var)``; var = floor + exp(log_var)."""
    if floor > 0:
        var = floor + torch.exp(log_var)
        return -0.5 * (_LOG_2PI + torch.log(var) + (x - mean) ** 2 / var).sum(-1)
    return -0.5 * (_LOG_2PI + log_var + (x - mean) ** 2 * torch.exp(-log_var)).sum(-1)


# ------------------------------------------------------------------ construction 1 ---
class HalfSpaceVarianceDecoder(nn.Module):
    """Mattei & Frellsen's decoder (NeurIPS 2018, arXiv 1802.04826, section 2.1).

    ``mean(z) = Linear(k, D)`` with zero weight and bias x_1; ``log_var(z) =
    Linear(1, D)(tanh(Linear(k, 1)(z)))`` with gate weight ``alpha w``, output weight
    ``alpha`` and bias ``-alpha``, i.e. ``alpha tanh(alpha w^T z) - alpha``.
    """

    def __init__(self, x1: np.ndarray, *, alpha: float, w: np.ndarray | None = None,
                 dtype: str = "float64") -> None:
        super().__init__()
        dt = _dtype(dtype)
        x1 = np.asarray(x1, dtype=np.float64).reshape(-1)
        dim = x1.size
        w = np.ones(1) if w is None else np.asarray(w, dtype=np.float64).reshape(-1)
        k = w.size
        self.mean = _set(nn.Linear(k, dim, dtype=dt), np.zeros((dim, k)), x1, dt)
        self.gate = _set(nn.Linear(k, 1, dtype=dt), alpha * w[None, :], np.zeros(1), dt)
        self.act = nn.Tanh()
        self.log_var = _set(nn.Linear(1, dim, dtype=dt), np.full((dim, 1), alpha),
                            np.full(dim, -alpha), dt)

    def forward(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.mean(z), self.log_var(self.act(self.gate(z)))


def log_likelihood_1d(net: nn.Module, data: np.ndarray, *, floor: float = 0.0,
                      transition: float = 1.0, dtype: str = "float64") -> float:
    """``sum_i log INT N(x_i | mean(z), var(z)) N(z | 0, 1) dz`` for a 1-D latent.

    Composite Gauss-Legendre (20 nodes per panel) on [-12, 12] (prior mass outside:
    2 Phi(-12) ~ 4e-33) with panels of width ``transition / 2`` near 0, where the decoder
    switches; the sum over nodes is a log-sum-exp.
    """
    dt = _dtype(dtype)
    fine = [transition * k / 2 for k in range(-80, 81)]
    coarse = list(np.linspace(-12, 12, 97))
    edges = sorted({e for e in fine + coarse if -12 <= e <= 12})
    nodes, weights = _gauss_legendre(edges, 20)
    z = torch.as_tensor(nodes, dtype=dt)[:, None]
    log_w = torch.as_tensor(np.log(weights), dtype=dt) - 0.5 * z[:, 0] ** 2 - 0.5 * _LOG_2PI
    with torch.no_grad():
        mean, log_var = net(z)
        x = torch.as_tensor(data, dtype=dt)
        total = torch.zeros((), dtype=dt)
        for i in range(x.shape[0]):
            logp = gaussian_log_density(x[i], mean, log_var, floor)
            total = total + torch.logsumexp(logp + log_w, dim=0)
    return float(total)


def encoder_elbo_1d(net: nn.Module, data: np.ndarray, *, centres: Sequence[float],
                    variances: Sequence[float], transition: float = 1.0,
                    dtype: str = "float64") -> float:
    """``sum_i E_{N(c_i, s_i^2)}[log N(x_i | mean(z), var(z))] - KL(q_i || N(0, 1))``, k = 1.

    Composite Gauss-Legendre (20 nodes per panel) on ``c_i +- 14 s_i`` (mass outside
    ~2e-44) plus panels of width ``transition / 2`` near 0, where the decoder switches.
    """
    dt = _dtype(dtype)
    x = torch.as_tensor(data, dtype=dt)
    total = torch.zeros((), dtype=dt)
    for i, (c, s2) in enumerate(zip(centres, variances, strict=True)):
        s = math.sqrt(s2)
        # the collapse region z < 0 and the switch must be covered whatever the posterior
        lo, hi = min(c - 14 * s, -40 * transition), max(c + 14 * s, 40 * transition)
        fine = [transition * k / 2 for k in range(-80, 81)]
        edges = sorted({e for e in fine + list(np.linspace(lo, hi, 113)) if lo <= e <= hi})
        nodes, weights = _gauss_legendre(edges, 20)
        z = torch.as_tensor(nodes, dtype=dt)[:, None]
        q = torch.as_tensor(weights, dtype=dt) * torch.exp(-(z[:, 0] - c) ** 2 / (2 * s2)) / math.sqrt(
            2 * math.pi * s2)
        with torch.no_grad():
            mean, log_var = net(z)
            expected = (q * gaussian_log_density(x[i], mean, log_var)).sum()
        total = total + expected - 0.5 * (c * c + s2 - 1 - math.log(s2))
    return float(total)


# ------------------------------------------------------- constructions 2, 5, 6 (cells) ---
class CellStepDecoder(nn.Module):
    """A piecewise-constant decoder: output x_j on latent cell j, via steep sigmoids.

    ``Linear(1, n-1)`` (weights ``steepness``, biases ``-steepness * b_j``) -> ``Sigmoid``
    gives steps ``s_j = 1[z > b_j]``; ``Linear(n-1, n)`` turns them into cell indicators
    (``1 - s_1, s_1 - s_2, ..., s_{n-1}``); ``Linear(n, D)`` with weight ``X^T`` outputs the
    cell's point.  With ``steepness = 1e30`` the sigmoids are exactly 0 or 1 in float64
    and float32 wherever ``|z - b_j| > 1e-27`` (sigmoid underflows past an argument of
    ~745 in float64, ~104 in float32), so at every quadrature node the network computes
    the hard-step decoder bit for bit; :func:`cell_elbo` checks this.
    """

    def __init__(self, points: np.ndarray, *, boundaries: Sequence[float],
                 steepness: float = 1e30, dtype: str = "float64") -> None:
        super().__init__()
        dt = _dtype(dtype)
        points = np.asarray(points, dtype=np.float64)
        n, dim = points.shape
        b = np.asarray(boundaries, dtype=np.float64)
        self.steps = _set(nn.Linear(1, n - 1, dtype=dt), np.full((n - 1, 1), steepness),
                          -steepness * b, dt)
        self.act = nn.Sigmoid()
        diff = np.zeros((n, n - 1))
        bias = np.zeros(n)
        diff[0, 0], bias[0] = -1.0, 1.0
        for j in range(1, n - 1):
            diff[j, j - 1], diff[j, j] = 1.0, -1.0
        diff[n - 1, n - 2] = 1.0
        self.cells = _set(nn.Linear(n - 1, n, dtype=dt), diff, bias, dt)
        self.out = _set(nn.Linear(n, dim, bias=False, dtype=dt), points.T, None, dt)

    def indicators(self, z: torch.Tensor) -> torch.Tensor:
        return self.cells(self.act(self.steps(z)))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.out(self.indicators(z))


def _cell_log_lik(x: torch.Tensor, out: torch.Tensor, lik: dict[str, Any]) -> torch.Tensor:
    dt = out.dtype
    kind = lik["kind"]
    if kind == "gaussian":
        log_var = torch.full_like(out, lik["log_var"])
        return gaussian_log_density(x, out, log_var, lik.get("floor", 0.0))
    if kind == "bernoulli":
        logit = lik["logit"] * (2 * out - 1)
        return (x * nn.functional.logsigmoid(logit)
                + (1 - x) * nn.functional.logsigmoid(-logit)).sum(-1)
    if kind == "student_t":
        nu = torch.tensor(lik["nu"], dtype=dt)
        c = (torch.lgamma((nu + 1) / 2) - torch.lgamma(nu / 2) - 0.5 * torch.log(nu * math.pi))
        ls2 = torch.tensor(lik["log_scale2"], dtype=dt)
        return (c - 0.5 * ls2 - (nu + 1) / 2 * torch.log1p(
            (x - out) ** 2 * torch.exp(-ls2) / nu)).sum(-1)
    if kind == "continuous_bernoulli":
        # pixel 1 gets l = 1 - e^-u, pixel 0 gets l = e^-u: log p = log C + log(1 - e^-u) at
        # both, with log C = log a - log tanh(a/2), a = log((1 - l)/l) (the logit magnitude;
        # Loaiza-Ganem & Cunningham 2019), so 1 - 2l is never rounded.
        a = torch.tensor(lik["logit"], dtype=dt)
        log_c = torch.log(a) - torch.log(torch.tanh(a / 2))
        same = (x == out).to(dt)
        log_near = -torch.log1p(torch.exp(-a))          # log(1 - l) = log sigmoid(a)
        log_far = -a + log_near                          # log l
        return (log_c + same * log_near + (1 - same) * log_far).sum(-1)
    raise ValueError(f"unknown likelihood kind {kind!r}")


def cell_elbo(net: CellStepDecoder, data: np.ndarray, *, centres: Sequence[float],
              posterior_var: float, boundaries: Sequence[float], likelihood: dict[str, Any],
              dtype: str = "float64") -> float:
    """``sum_i E_{N(c_i, s^2)}[log p(x_i | net(z))] - KL(N(c_i, s^2) || N(0, 1))``.

    The expectation is a composite Gauss-Legendre quadrature (16 nodes per panel) over each
    cell: the own cell on ``c_i +- 9.2 s`` (mass outside ~4e-20), each other cell on
    ``[b, b + W]`` from its near boundary b at distance delta, with
    ``W = min(42 s^2 / delta, 9.2 s)`` (the density falls by ``e^-42`` over W), in 8 panels.
    Raises ``RuntimeError`` if the network's cell indicators are not exactly one-hot at the
    nodes (then it would not be the construction's decoder).
    """
    dt = _dtype(dtype)
    x_all = torch.as_tensor(np.asarray(data, dtype=np.float64), dtype=dt)
    n = x_all.shape[0]
    s = math.sqrt(posterior_var)
    b = [-math.inf, *boundaries, math.inf]
    total = torch.zeros((), dtype=dt)
    with torch.no_grad():
        for i in range(n):
            c = centres[i]
            pieces: list[list[float]] = []
            lo, hi = max(b[i], c - 9.2 * s), min(b[i + 1], c + 9.2 * s)
            pieces.append(list(np.linspace(lo, hi, 17)))
            for j in range(n):
                if j == i:
                    continue
                near = b[j] if j > i else b[j + 1]
                far = b[j + 1] if j > i else b[j]
                delta = abs(near - c)
                width = min(42 * s * s / delta, 9.2 * s)
                end = near + width if j > i else near - width
                end = min(end, far) if j > i else max(end, far)
                pieces.append(list(np.linspace(min(near, end), max(near, end), 9)))
            nodes, weights = zip(*(_gauss_legendre(p, 16) for p in pieces), strict=True)
            z = torch.as_tensor(np.concatenate(nodes), dtype=dt)[:, None]
            w = torch.as_tensor(np.concatenate(weights), dtype=dt)
            ind = net.indicators(z)
            if not torch.all((ind == 0) | (ind == 1)):
                raise RuntimeError("cell indicators are not one-hot at the quadrature nodes")
            q = torch.exp(-0.5 * ((z[:, 0] - c) / s) ** 2) / (s * math.sqrt(2 * math.pi))
            logp = _cell_log_lik(x_all[i], net.out(ind), likelihood)
            expected = torch.sum(w * q * logp)
            s2 = torch.tensor(posterior_var, dtype=dt)
            kl = 0.5 * (c * c + s2 - 1 - torch.log(s2))
            total = total + expected - kl
    return float(total)


# ------------------------------------------------------------------ construction 3 ---
class LinearGaussianVae(nn.Module):
    """Linear encoder and decoder with set weights (Tipping & Bishop 1999; docs/theory.md section 3).

    Decoder ``Linear(k, D)`` (W, b) with log-variance ``log sigma^2``; encoder mean
    ``Linear(D, k)`` with weight ``A`` and bias ``-A b``; posterior log-variances fixed.
    """

    def __init__(self, *, weight: np.ndarray, bias: np.ndarray, log_var: float,
                 encoder_weight: np.ndarray, posterior_log_var: np.ndarray,
                 dtype: str = "float64") -> None:
        super().__init__()
        dt = _dtype(dtype)
        dim, k = np.shape(weight)
        self.decoder = _set(nn.Linear(k, dim, dtype=dt), weight, bias, dt)
        self.encoder = _set(nn.Linear(dim, k, dtype=dt), encoder_weight,
                            -np.asarray(encoder_weight) @ np.asarray(bias), dt)
        self.log_var = torch.tensor(log_var, dtype=dt)
        self.posterior_log_var = torch.as_tensor(posterior_log_var, dtype=dt)


def linear_elbo(net: LinearGaussianVae, data: np.ndarray, *, dtype: str = "float64") -> float:
    """Total ELBO from the network's weights, closed form (docs/theory.md section 3).

    ``-D/2 log(2 pi s2) - (||x - W m - b||^2 + tr(W S W^T))/(2 s2) - KL(N(m, S) || N(0, I))``
    with ``m`` the encoder's output and ``S = diag(exp(posterior_log_var))``.
    """
    dt = _dtype(dtype)
    with torch.no_grad():
        x = torch.as_tensor(np.asarray(data, dtype=np.float64), dtype=dt)
        m = net.encoder(x)
        recon = net.decoder(m)
        w = net.decoder.weight
        s = torch.exp(net.posterior_log_var)
        trace = torch.sum(w**2 * s[None, :])
        dim = x.shape[1]
        exp_log = (-0.5 * dim * (_LOG_2PI + net.log_var)
                   - 0.5 * (((x - recon) ** 2).sum(-1) + trace) * torch.exp(-net.log_var))
        kl = 0.5 * (s.sum() + (m**2).sum(-1) - s.numel() - net.posterior_log_var.sum())
        return float(torch.sum(exp_log - kl))


# ------------------------------------------------------------------ construction 4 ---
class CurveDecoder(nn.Module):
    """``g(z) = (cos w_1 z, sin w_1 z, cos w_2 z, ...)``: ``Linear(1, D)`` then ``cos``.

    Weights ``w`` repeated in pairs, biases ``0, -pi/2`` (``cos(t - pi/2) = sin t``).
    """

    def __init__(self, frequencies: Sequence[int], *, dtype: str = "float64") -> None:
        super().__init__()
        dt = _dtype(dtype)
        w = [[float(f)] for f in frequencies for _ in (0, 1)]
        bias = [v for _ in frequencies for v in (0.0, -math.pi / 2)]
        self.layer = _set(nn.Linear(1, len(w), dtype=dt), w, bias, dt)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return torch.cos(self.layer(z))


def curve_elbo(net: CurveDecoder, *, log_gamma: float, posterior_var: float,
               dtype: str = "float64") -> float:
    """Population ELBO for theta ~ U(-pi, pi], data ``x = net(theta)``.

    The average over theta is Gauss-Legendre with 8 nodes (exact for the KL's theta^2);
    the encoder mean is ``atan2(x_2, x_1)``; ``E_q`` is Gauss-Hermite with 40 nodes of the
    network's output, ``log N(x | net(z), gamma I)`` from ``log_gamma``.
    """
    dt = _dtype(dtype)
    th, thw = np.polynomial.legendre.leggauss(8)
    th, thw = math.pi * th, thw / 2
    t, tw = np.polynomial.hermite.hermgauss(40)
    with torch.no_grad():
        theta = torch.as_tensor(th, dtype=dt)[:, None]
        x = net(theta)                                   # (8, D)
        m = torch.atan2(x[:, 1], x[:, 0])                 # encoder mean
        s2 = torch.tensor(posterior_var, dtype=dt)
        z = m[:, None] + torch.sqrt(2 * s2) * torch.as_tensor(t, dtype=dt)[None, :]
        mu = net(z.reshape(-1, 1)).reshape(z.shape[0], z.shape[1], -1)
        lg = torch.tensor(log_gamma, dtype=dt)
        logp = gaussian_log_density(x[:, None, :], mu, torch.full_like(mu, float(lg)))
        expected = (logp * torch.as_tensor(tw / math.sqrt(math.pi), dtype=dt)).sum(-1)
        kl = 0.5 * (m**2 + s2 - 1 - torch.log(s2))
        return float(torch.sum(torch.as_tensor(thw, dtype=dt) * (expected - kl)))


# ------------------------------------------------------ step-decoder mixtures ---
def step_mixture_log_likelihood(data: np.ndarray, outputs: np.ndarray, log_weights: Sequence[float],
                                likelihoods: Sequence[dict[str, Any]], *,
                                dtype: str = "float64") -> float:
    """``sum_i log sum_j w_j p(x_i | outputs_j)``: the exact marginal of a step decoder.

    A decoder constant on K latent cells of prior masses ``w_j`` (output ``outputs[j]`` and
    likelihood parameters ``likelihoods[j]`` on cell j) has the K-component mixture as its
    marginal likelihood; evaluated with ``torch.logsumexp`` in ``dtype``.
    """
    dt = _dtype(dtype)
    x_all = torch.as_tensor(np.asarray(data, dtype=np.float64), dtype=dt)
    outs = torch.as_tensor(np.asarray(outputs, dtype=np.float64), dtype=dt)
    lw = torch.as_tensor(np.asarray(log_weights, dtype=np.float64), dtype=dt)
    total = torch.zeros((), dtype=dt)
    with torch.no_grad():
        for x in x_all:
            comps = torch.stack([_cell_log_lik(x, outs[j], lik)
                                 for j, lik in enumerate(likelihoods)])
            total = total + torch.logsumexp(lw + comps, dim=0)
    return float(total)


def gaussian_nll_eps_loss(data: np.ndarray, mean: np.ndarray, variance: float, *, eps: float,
                          dtype: str = "float64") -> tuple[float, float]:
    """PyTorch's own ``gaussian_nll_loss(mean, data, var, eps=eps, full=True, reduction="sum")``.

    Returns ``(loss, dloss/dvariance)``: the value and the autograd gradient with respect to
    the (shared) variance, which enters every element; computed by PyTorch itself, so the
    clamp ``var.clone(); var.clamp_(min=eps)`` under ``no_grad`` is the library's.
    """
    dt = _dtype(dtype)
    x = torch.as_tensor(np.asarray(data, dtype=np.float64), dtype=dt)
    mu = torch.as_tensor(np.asarray(mean, dtype=np.float64), dtype=dt)
    var = torch.tensor(variance, dtype=dt, requires_grad=True)
    loss = nn.functional.gaussian_nll_loss(mu, x, var.expand_as(x), eps=eps, full=True,
                                           reduction="sum")
    loss.backward()
    return float(loss.detach()), float(var.grad)
