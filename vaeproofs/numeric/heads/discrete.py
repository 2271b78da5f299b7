"""Probability-mass heads for discrete data: Bernoulli, and Gaussian or logistic discretised.

Every head here gives each pixel a probability mass function, so log p(x | z) <= 0 for
every parameter value (the cap is 0), whatever the learned scale (Mattei & Frellsen
2018, section 2.1, for the Bernoulli; the same argument for any pmf).

Discretised heads (on integer data, scaled to the grid x_k = k/(L - 1), k = 0..L-1,
e.g. the digits' 17 levels as k/16): the mass of level k is the continuous
distribution's probability of the bin [x_k - h, x_k + h], h = 1/(2(L - 1)), with the
extreme bins extended to -inf and +inf (Salimans, Karpathy, Chen & Kingma,
"PixelCNN++", ICLR 2017, section 2.1, for the logistic; the Gaussian analogue
integrates N(mu, s^2) over the same bins).  So the L masses sum to 1 exactly.
Numerics: log(F(u) - F(l)) is computed as log F(a) + log(-expm1(log F(b) - log F(a)))
with (a, b) = (u, l), or (-l, -u) when l > 0, so that b <= 0 and both log-CDFs are
evaluated where they are accurate (the lower tail); standardised bin edges are clipped
to +-1e5 (a bin 1e5 scales away has log-mass below -5e9 for the Gaussian and -1e5 for
the logistic; clipping raises such values, so the cap 0 still holds).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor

from vaeproofs.numeric.heads.base import HeadOptions, LikelihoodHead
from vaeproofs.validation import check_int_range

__all__ = ["Bernoulli", "DiscretisedGaussian", "DiscretisedLogistic", "log_bin_mass"]

_CLIP = 1e5


class Bernoulli(LikelihoodHead):
    """prod_j Bern(x_j; pi_j(z)) with pi = sigmoid(logits), for x in {0, 1}.

    log p = sum_j [x_j l_j - softplus(l_j)] (the negative binary cross-entropy with
    logits); every term is <= 0, so the cap is 0 (Mattei & Frellsen 2018, section 2.1).
    The reported variance is pi (1 - pi).
    """

    name = "bernoulli"
    binary_data = True
    mass_function = True

    def log_prob(self, x: Tensor, out: Tensor) -> Tensor:
        return (x * out - F.softplus(out)).sum(-1)

    def mean(self, out: Tensor) -> Tensor:
        return torch.sigmoid(out)

    def variance(self, out: Tensor) -> Tensor:
        p = torch.sigmoid(out)
        return p * (1.0 - p)

    def cap(self, dim: int) -> float | None:
        return 0.0


def log_bin_mass(upper: Tensor, lower: Tensor, log_cdf: Callable[[Tensor], Tensor]) -> Tensor:
    """log(F(upper) - F(lower)) for standardised edges lower < upper, F symmetric about 0.

    ``log_cdf`` is log F (e.g. :func:`torch.special.log_ndtr`).  Uses F(u) - F(l) =
    F(-l) - F(-u) when l > 0, so the subtracted CDF is always <= 1/2.
    """
    flip = lower > 0
    a = torch.where(flip, -lower, upper).clamp(-_CLIP, _CLIP)
    b = torch.where(flip, -upper, lower).clamp(-_CLIP, _CLIP)
    la, lb = log_cdf(a), log_cdf(b)
    # lb < la whenever b < a; the cap keeps log(-expm1(.)) finite if they round equal.
    d = torch.clamp(lb - la, max=-1e-300)
    return la + torch.log(-torch.expm1(d))


class _Discretised(LikelihoodHead):
    """A location-scale distribution integrated over the bins of the grid k/(L - 1).

    Output ``[mu, log s]``; s = exp(log s) is the scale.  :meth:`variance` reports s^2,
    the squared scale (for the logistic the continuous variance is s^2 pi^2/3; for the
    discretised distributions neither is the pmf's variance).
    """

    params_per_pixel = 2
    grid_data = True
    mass_function = True
    log_cdf: Callable[[Tensor], Tensor]

    def __init__(self, levels: int = 17) -> None:
        super().__init__()
        self.levels = check_int_range("levels", levels, low=2, high=2**24)
        self.half_width = 0.5 / (self.levels - 1)

    @classmethod
    def from_options(cls, options: HeadOptions) -> LikelihoodHead:
        return cls(options.levels)

    def log_prob_per_pixel(self, x: Tensor, out: Tensor) -> Tensor:
        """log P(level of x) per pixel (x on the grid k/(L - 1))."""
        mu, log_s = self.split(out)
        inv_s = torch.exp(-log_s)
        upper = (x + self.half_width - mu) * inv_s
        lower = (x - self.half_width - mu) * inv_s
        left = x < self.half_width          # level 0: the bin is (-inf, x_0 + h]
        right = x > 1.0 - self.half_width   # level L-1: the bin is [x_{L-1} - h, +inf)
        cdf = type(self).log_cdf
        inner = log_bin_mass(upper, lower, cdf)
        return torch.where(left, cdf(upper.clamp(-_CLIP, _CLIP)),
                           torch.where(right, cdf((-lower).clamp(-_CLIP, _CLIP)), inner))

    def log_prob(self, x: Tensor, out: Tensor) -> Tensor:
        return self.log_prob_per_pixel(x, out).sum(-1)

    def variance(self, out: Tensor) -> Tensor:
        return torch.exp(2.0 * self.split(out)[1])

    def cap(self, dim: int) -> float | None:
        return 0.0


class DiscretisedGaussian(_Discretised):
    """N(mu, s^2) integrated over the quantisation bins (edges +-inf at the extremes).

    P(x_k) = Phi((x_k + h - mu)/s) - Phi((x_k - h - mu)/s), log Phi by
    :func:`torch.special.log_ndtr`.  Cap 0.
    """

    name = "discretised-gaussian"
    log_cdf = staticmethod(torch.special.log_ndtr)


class DiscretisedLogistic(_Discretised):
    """Logistic(mu, s) integrated over the quantisation bins (PixelCNN++, Salimans et al. 2017).

    P(x_k) = sigma((x_k + h - mu)/s) - sigma((x_k - h - mu)/s) with sigma the logistic
    sigmoid, log sigma by :func:`torch.nn.functional.logsigmoid`.  Cap 0.
    """

    name = "discretised-logistic"
    log_cdf = staticmethod(F.logsigmoid)
