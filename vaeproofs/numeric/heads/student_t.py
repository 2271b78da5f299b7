"""Student-t decoder heads: learned scale (no cap) and a floored scale (capped).

The location-scale Student-t density with nu > 0 degrees of freedom (as in
scipy.stats.t; used as a VAE decoder by Takahashi et al., IJCAI 2018):

    log t_nu(x; mu, s) = log c(nu) - log s - (nu+1)/2 log(1 + ((x - mu)/s)^2 / nu),
    c(nu) = Gamma((nu+1)/2) / (Gamma(nu/2) sqrt(nu pi)),

maximal at x = mu where it equals log c(nu) - log s.  So a scale floor s >= s_min
caps it at log c(nu) - log s_min per pixel, for every nu; c(nu) increases in nu to
1/sqrt(2 pi), the Gaussian's constant.  Natural log; per point summed over pixels.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from vaeproofs.numeric.heads.base import HeadOptions, LikelihoodHead
from vaeproofs.validation import check_int_range, check_positive

__all__ = ["FlooredStudentT", "StudentT", "student_t_log_density_cap", "student_t_log_normaliser"]


def student_t_log_normaliser(nu: float) -> float:
    """log c(nu) = lgamma((nu+1)/2) - lgamma(nu/2) - (1/2) log(nu pi), nu > 0."""
    n = check_positive("nu", nu)
    return math.lgamma((n + 1.0) / 2.0) - math.lgamma(n / 2.0) - 0.5 * math.log(n * math.pi)


def student_t_log_density_cap(dim: int, nu: float, scale_floor: float) -> float:
    """D (log c(nu) - log s_min): the per-point cap of a Student-t decoder with every scale >= s_min.

    ``scale_floor`` is s_min, a scale (not a squared scale).  For a floor xi on the squared
    scale use s_min = sqrt(xi): with nu = 3, xi = 1e-3 and D = 64 this is 157.0 nats.
    """
    d = check_int_range("dim", dim, low=1, high=2**62)
    s = check_positive("scale_floor", scale_floor)
    return d * (student_t_log_normaliser(nu) - math.log(s))


class StudentT(LikelihoodHead):
    """prod_j t_nu(x_j; mu_j(z), s_j(z)) with s = exp(log s) learned, nu > 0 fixed.

    The density of the module docstring with log s the decoder's output.  No cap: the
    density at x = mu grows like 1/s (:func:`student_t_log_density_cap` bounds it once
    the scale is floored).  :meth:`variance` reports s^2, the squared
    scale (the distribution's variance is s^2 nu/(nu - 2) only for nu > 2).
    """

    name = "student-t"
    params_per_pixel = 2

    def __init__(self, nu: float = 3.0) -> None:
        super().__init__()
        self.nu = check_positive("nu", nu)
        self.log_norm = student_t_log_normaliser(self.nu)

    @classmethod
    def from_options(cls, options: HeadOptions) -> LikelihoodHead:
        return cls(options.nu)

    def log_prob(self, x: Tensor, out: Tensor) -> Tensor:
        mu, log_s = self.split(out)
        u2 = ((x - mu) * torch.exp(-log_s)).square()
        return (self.log_norm - log_s - 0.5 * (self.nu + 1.0) * torch.log1p(u2 / self.nu)).sum(-1)

    def variance(self, out: Tensor) -> Tensor:
        return torch.exp(2.0 * self.split(out)[1])


class FlooredStudentT(LikelihoodHead):
    """Student-t decoder with a floored scale s = s_min + softplus(r), nu > 0 fixed.

    Output ``[mu, r]``.  A reparameterisation, not a clamp: every reachable scale is
    > s_min, so log p <= D (log c(nu) - log s_min) for all parameters (the module
    docstring; the scale floor of e.g. the MIWAE notebooks, s_min = 1e-3, with
    df = 3 + softplus; TFP's regression tutorial uses the same floor on a Normal).
    :meth:`variance` reports s^2, the squared scale.
    """

    name = "student-t-floored"
    params_per_pixel = 2

    def __init__(self, nu: float = 3.0, s_min: float = 1e-3) -> None:
        super().__init__()
        self.nu = check_positive("nu", nu)
        self.s_min = check_positive("s_min", s_min)
        self.log_norm = student_t_log_normaliser(self.nu)

    @classmethod
    def from_options(cls, options: HeadOptions) -> LikelihoodHead:
        return cls(options.nu, options.s_min)

    def scale(self, out: Tensor) -> Tensor:
        """s = s_min + softplus(r), per pixel."""
        return self.s_min + F.softplus(self.split(out)[1])

    def log_prob(self, x: Tensor, out: Tensor) -> Tensor:
        mu = self.split(out)[0]
        s = self.scale(out)
        u2 = ((x - mu) / s).square()
        return (self.log_norm - torch.log(s) - 0.5 * (self.nu + 1.0) * torch.log1p(u2 / self.nu)
                ).sum(-1)

    def variance(self, out: Tensor) -> Tensor:
        return self.scale(out).square()

    def cap(self, dim: int) -> float | None:
        return student_t_log_density_cap(dim, self.nu, self.s_min)
