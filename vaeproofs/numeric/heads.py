"""Decoder likelihood heads: the density p_theta(x | z) of each decoder family.

A head turns the decoder network's raw output into a per-pixel distribution over x.
Each family of THEORY.md section 1 is one small class; adding a family means adding
one subclass of :class:`LikelihoodHead` with a ``name``: it registers itself and
becomes available to :func:`make_head`, :class:`~vaeproofs.numeric.training.TrainConfig`
and ``vaeproofs train --likelihood``.

Conventions (all heads):

- natural logarithms; :meth:`LikelihoodHead.log_prob` returns log p(x | z) **summed over
  the D pixels**, one value **per point** (shape = the batch shape of ``x``);
- "variance" means sigma^2, never sigma; :meth:`LikelihoodHead.variance` returns the
  per-pixel variance the decoder reports (for the Student-t head: the squared scale,
  see :class:`StudentT`);
- :meth:`LikelihoodHead.cap` is an upper bound on log p(x | z) per point that holds for
  **every** parameter value (``None`` when no such bound exists).  Since the
  KL term is >= 0, the same number bounds the ELBO per point.

The decoder network outputs ``params_per_pixel * D`` numbers per latent vector, laid
out as consecutive blocks of D (e.g. ``[mu, log sigma^2]`` for the per-pixel head).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from vaeproofs.constants import LOG_2PI, gaussian_floor_cap
from vaeproofs.errors import InvalidArgumentError
from vaeproofs.validation import check_positive

__all__ = [
    "HEADS",
    "Bernoulli",
    "FixedGaussian",
    "FlooredGaussian",
    "HeadOptions",
    "LikelihoodHead",
    "PerPixelGaussian",
    "SharedGaussian",
    "StudentT",
    "gaussian_log_density_cap",
    "make_head",
]


#: name -> head class, filled in by :meth:`LikelihoodHead.__init_subclass__`.
HEADS: dict[str, type[LikelihoodHead]] = {}


def gaussian_log_density_cap(dim: int, variance_floor: float) -> float:
    """Upper bound -(D/2) log(2 pi xi) on log N(x | mu, Sigma) when every eigenvalue of Sigma >= xi.

    The one implementation is :func:`vaeproofs.constants.gaussian_floor_cap`; this name is
    kept for the heads' callers.  Per point, natural log; ``variance_floor`` is a variance.
    """
    return gaussian_floor_cap(dim, variance_floor)


@dataclass(frozen=True)
class HeadOptions:
    """Hyper-parameters a head may use; each head reads only its own.

    - ``xi``: variance floor of :class:`FlooredGaussian` (> 0);
    - ``fixed_std``: standard deviation s0 of :class:`FixedGaussian` (> 0);
    - ``nu``: degrees of freedom of :class:`StudentT` (> 0).
    """

    xi: float = 1e-3
    fixed_std: float = 0.1
    nu: float = 3.0


class LikelihoodHead(nn.Module):
    """Base class of the decoder families.  Subclasses set ``name`` and ``params_per_pixel``."""

    name: ClassVar[str] = ""
    params_per_pixel: ClassVar[int] = 1
    #: True when the family needs x in {0, 1}.
    binary_data: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if cls.name:
            if cls.name in HEADS:
                raise TypeError(f"likelihood head {cls.name!r} is defined twice")
            HEADS[cls.name] = cls

    @classmethod
    def from_options(cls, options: HeadOptions) -> LikelihoodHead:
        """Build the head from the shared options (default: no hyper-parameters)."""
        return cls()

    def split(self, out: Tensor) -> tuple[Tensor, ...]:
        """Split the decoder output (..., params_per_pixel * D) into blocks of D."""
        return tuple(out.chunk(self.params_per_pixel, dim=-1))

    def log_prob(self, x: Tensor, out: Tensor) -> Tensor:
        """log p(x | z) summed over pixels, per point (natural log)."""
        raise NotImplementedError

    def mean(self, out: Tensor) -> Tensor:
        """The decoder mean E[x | z], per pixel."""
        return self.split(out)[0]

    def variance(self, out: Tensor) -> Tensor:
        """Per-pixel decoder variance sigma^2(z), same shape as :meth:`mean`."""
        raise NotImplementedError

    def cap(self, dim: int) -> float | None:
        """Upper bound on log p(x | z) per point for all parameters, or ``None`` if unbounded."""
        return None


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
    -(D/2) log(2 pi xi) for all parameters (THEORY.md sections 1, 3; contrast torch's
    GaussianNLLLoss, whose eps clamps only the loss value, section 4).
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


class Bernoulli(LikelihoodHead):
    """prod_j Bern(x_j; pi_j(z)) with pi = sigmoid(logits), for x in {0, 1}.

    log p = sum_j [x_j l_j - softplus(l_j)] (the negative binary cross-entropy with
    logits); every term is <= 0, so the cap is 0 (Mattei & Frellsen 2018, section 2.1).
    The reported variance is pi (1 - pi).
    """

    name = "bernoulli"
    binary_data = True

    def log_prob(self, x: Tensor, out: Tensor) -> Tensor:
        return (x * out - F.softplus(out)).sum(-1)

    def mean(self, out: Tensor) -> Tensor:
        return torch.sigmoid(out)

    def variance(self, out: Tensor) -> Tensor:
        p = torch.sigmoid(out)
        return p * (1.0 - p)

    def cap(self, dim: int) -> float | None:
        return 0.0


class StudentT(LikelihoodHead):
    """prod_j t_nu(x_j; mu_j(z), s_j(z)) with s = exp(log s) learned, nu > 0 fixed.

    log t_nu(x; mu, s) = lgamma((nu+1)/2) - lgamma(nu/2) - 1/2 log(nu pi) - log s
    - (nu+1)/2 log(1 + ((x - mu)/s)^2 / nu)  (the location-scale Student-t density,
    as in scipy.stats.t; used as a decoder by Takahashi et al. 2018).  No cap: the
    density at x = mu grows like 1/s.  :meth:`variance` reports s^2, the squared
    scale (the distribution's variance is s^2 nu/(nu - 2) only for nu > 2).
    """

    name = "student-t"
    params_per_pixel = 2

    def __init__(self, nu: float = 3.0) -> None:
        super().__init__()
        self.nu = check_positive("nu", nu)
        self.log_norm = (math.lgamma((self.nu + 1.0) / 2.0) - math.lgamma(self.nu / 2.0)
                         - 0.5 * math.log(self.nu * math.pi))

    @classmethod
    def from_options(cls, options: HeadOptions) -> LikelihoodHead:
        return cls(options.nu)

    def log_prob(self, x: Tensor, out: Tensor) -> Tensor:
        mu, log_s = self.split(out)
        u2 = ((x - mu) * torch.exp(-log_s)).square()
        return (self.log_norm - log_s - 0.5 * (self.nu + 1.0) * torch.log1p(u2 / self.nu)).sum(-1)

    def variance(self, out: Tensor) -> Tensor:
        return torch.exp(2.0 * self.split(out)[1])


def make_head(name: str, options: HeadOptions | None = None) -> LikelihoodHead:
    """Build the head registered as ``name`` (one of :data:`HEADS`)."""
    cls = HEADS.get(name)
    if cls is None:
        raise InvalidArgumentError(
            "likelihood", f"must be one of {', '.join(sorted(HEADS))}, got {name!r}")
    return cls.from_options(options or HeadOptions())
