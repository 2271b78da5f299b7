"""Gaussian decoder heads: fixed, shared and per-pixel variance, and two lower bounds on it.

See :mod:`vaeproofs.numeric.heads.base` for the conventions (natural log, per point
summed over pixels, "variance" = sigma^2).  Two ways to bound the variance from below
live here: a reparameterised floor sigma^2 = xi + softplus(rho) (``floor``) and the
sigma-VAE soft clip of log sigma (``softclip``).  Both bound the model's density for
every parameter value; contrast torch's ``GaussianNLLLoss(eps)``
(:mod:`vaeproofs.numeric.heads.losses`), whose clamp acts on the loss value only.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from vaeproofs.constants import LOG_2PI
from vaeproofs.errors import InvalidArgumentError
from vaeproofs.numeric.heads.base import HeadOptions, LikelihoodHead, gaussian_log_density_cap
from vaeproofs.validation import check_positive

__all__ = ["FixedGaussian", "FlooredGaussian", "PerPixelGaussian", "SharedGaussian",
           "SoftClipGaussian"]


class FixedGaussian(LikelihoodHead):
    """N(x | mu(z), s0^2 I) with s0 fixed: the squared-error decoder.

    log p = -D/2 log(2 pi s0^2) - ||x - mu||^2 / (2 s0^2); cap -(D/2) log(2 pi s0^2)
    (attained at x = mu).  ``fixed_std`` is s0, a standard deviation (> 0).
    """

    name = "fixed"

    def __init__(self, fixed_std: float = 0.1) -> None:
        super().__init__()
        self.fixed_std = check_positive("fixed_std", fixed_std)
        self.log_var = 2.0 * math.log(self.fixed_std)

    @classmethod
    def from_options(cls, options: HeadOptions) -> LikelihoodHead:
        return cls(options.fixed_std)

    def log_prob(self, x: Tensor, out: Tensor) -> Tensor:
        mu = out
        return -0.5 * ((LOG_2PI + self.log_var) + (x - mu).square() / self.fixed_std**2).sum(-1)

    def variance(self, out: Tensor) -> Tensor:
        return torch.full_like(out, self.fixed_std**2)

    def cap(self, dim: int) -> float | None:
        return gaussian_log_density_cap(dim, self.fixed_std**2)


class SharedGaussian(LikelihoodHead):
    """N(x | mu(z), gamma I) with one learned scalar gamma = exp(log_gamma) (init gamma = 1).

    Dai & Wipf (ICLR 2019) and Rybkin et al. (2021, "sigma-VAE") use this decoder.
    No cap: gamma -> 0 is allowed.
    """

    name = "shared"

    def __init__(self) -> None:
        super().__init__()
        self.log_gamma = nn.Parameter(torch.zeros(()))

    def log_prob(self, x: Tensor, out: Tensor) -> Tensor:
        lg = self.log_gamma
        return -0.5 * (LOG_2PI + lg + (x - out).square() * torch.exp(-lg)).sum(-1)

    def variance(self, out: Tensor) -> Tensor:
        return torch.exp(self.log_gamma).expand_as(out)


class PerPixelGaussian(LikelihoodHead):
    """N(x | mu(z), diag sigma^2(z)) with the decoder outputting log sigma^2 (Kingma & Welling
    2014, appendix C.2).

    log p = -1/2 sum_j [log 2 pi + log sigma_j^2 + (x_j - mu_j)^2 / sigma_j^2], computed from
    log sigma^2 directly so that a collapsing variance keeps full precision.  No cap.
    """

    name = "per-pixel"
    params_per_pixel = 2

    def log_prob(self, x: Tensor, out: Tensor) -> Tensor:
        mu, log_var = self.split(out)
        return -0.5 * (LOG_2PI + log_var + (x - mu).square() * torch.exp(-log_var)).sum(-1)

    def variance(self, out: Tensor) -> Tensor:
        return torch.exp(self.split(out)[1])


class FlooredGaussian(LikelihoodHead):
    """Per-pixel Gaussian with sigma^2(z) = xi + softplus(rho(z)), xi > 0 fixed.

    A reparameterisation, not a clamp: every reachable variance is > xi, so log p <=
    -(D/2) log(2 pi xi) for all parameters (docs/theory.md sections 1, 3; contrast torch's
    GaussianNLLLoss, whose eps clamps only the loss value: ``gaussian-nll-eps``).
    """

    name = "floor"
    params_per_pixel = 2

    def __init__(self, xi: float = 1e-3) -> None:
        super().__init__()
        self.xi = check_positive("xi", xi)

    @classmethod
    def from_options(cls, options: HeadOptions) -> LikelihoodHead:
        return cls(options.xi)

    def variance(self, out: Tensor) -> Tensor:
        return self.xi + F.softplus(self.split(out)[1])

    def log_prob(self, x: Tensor, out: Tensor) -> Tensor:
        mu = self.split(out)[0]
        var = self.variance(out)
        return -0.5 * (LOG_2PI + torch.log(var) + (x - mu).square() / var).sum(-1)

    def cap(self, dim: int) -> float | None:
        return gaussian_log_density_cap(dim, self.xi)


class SoftClipGaussian(LikelihoodHead):
    """Per-pixel Gaussian whose log sigma is soft-clipped from below, as the sigma-VAE code does.

    log sigma = m + softplus(r - m) with r the decoder's raw output and m = ``softclip_min``
    (Rybkin, Daniilidis & Levine, "Simple and effective VAE training with calibrated
    decoders", ICML 2021; code orybkin/sigma-vae-pytorch, ``softclip(tensor, min) = min +
    softplus(tensor - min)`` with min = -6).  There the clip is applied to one learned
    log sigma; here to a per-pixel one, the setting most prone to collapse.  Every
    reachable sigma exceeds exp(m), so log p <= D (-(1/2) log(2 pi) - m): 5.08 nats per
    pixel for m = -6, i.e. a variance floor exp(2 m) = exp(-12).  The reported variance
    is sigma^2.
    """

    name = "softclip"
    params_per_pixel = 2

    def __init__(self, softclip_min: float = -6.0) -> None:
        super().__init__()
        m = float(softclip_min)
        if not math.isfinite(m):
            raise InvalidArgumentError("softclip_min", f"must be a finite number, got {m}")
        self.softclip_min = m

    @classmethod
    def from_options(cls, options: HeadOptions) -> LikelihoodHead:
        return cls(options.softclip_min)

    def log_sigma(self, out: Tensor) -> Tensor:
        """log sigma = m + softplus(r - m), per pixel."""
        return self.softclip_min + F.softplus(self.split(out)[1] - self.softclip_min)

    def log_prob(self, x: Tensor, out: Tensor) -> Tensor:
        mu = self.split(out)[0]
        log_s = self.log_sigma(out)
        return (-0.5 * LOG_2PI - log_s - 0.5 * ((x - mu) * torch.exp(-log_s)).square()).sum(-1)

    def variance(self, out: Tensor) -> Tensor:
        return torch.exp(2.0 * self.log_sigma(out))

    def cap(self, dim: int) -> float | None:
        return gaussian_log_density_cap(dim, math.exp(2.0 * self.softclip_min))
