"""Per-pixel Gaussian heads trained with a loss used in practice instead of the plain NLL.

Both heads model x | z ~ N(mu(z), diag sigma^2(z)) with sigma^2 = exp(raw), exactly like
``per-pixel``: :meth:`log_prob` is that model's true log-density (so every logged ELBO is
the true ELBO), while :meth:`objective` is what the practitioner's loss optimises.

- ``gaussian-nll-eps``: minus ``torch.nn.GaussianNLLLoss(eps, full=True)`` summed over the
  pixels of a point, called as PyTorch implements it (``var = var.clone(); with
  torch.no_grad(): var.clamp_(min=eps)``).  The clamp floors the loss *value* -- the
  objective is <= -(D/2) log(2 pi eps) -- but not the variance: below eps the value no
  longer depends on sigma^2, yet the gradient that reaches sigma^2 is the one at eps,
  (1/2)(1/eps - (x - mu)^2/eps^2) per pixel of the loss, which keeps pushing sigma^2 down
  wherever (x - mu)^2 < eps.  :meth:`GaussianNLLEps.reported_variance` is the clamped
  variance the loss uses, :meth:`variance` the model's.
- ``beta-nll``: Seitzer, Tavakoli, Antic & Martius, "On the pitfalls of heteroscedastic
  uncertainty estimation with probabilistic neural networks", ICLR 2022, eq. 4: each
  pixel's Gaussian log-density multiplied by stopgrad(sigma^(2 beta)).  The weight
  rescales the gradient but leaves its zeros where they were: in sigma^2 the stationary
  point is still sigma^2 = (x - mu)^2, as for the NLL.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from vaeproofs.constants import LOG_2PI
from vaeproofs.errors import InvalidArgumentError
from vaeproofs.numeric.heads.base import HeadOptions, LikelihoodHead, gaussian_log_density_cap
from vaeproofs.validation import check_positive

__all__ = ["BetaNLLGaussian", "GaussianNLLEps", "gaussian_log_density_per_pixel"]


def gaussian_log_density_per_pixel(x: Tensor, mu: Tensor, log_var: Tensor) -> Tensor:
    """log N(x_j | mu_j, exp(log_var_j)) per pixel (not summed), natural log."""
    return -0.5 * (LOG_2PI + log_var + (x - mu).square() * torch.exp(-log_var))


class GaussianNLLEps(LikelihoodHead):
    """Per-pixel Gaussian trained with ``torch.nn.GaussianNLLLoss(eps=nll_eps, full=True)``.

    Output ``[mu, log sigma^2]``.  :meth:`objective` = minus the loss summed over pixels
    (the value PyTorch reports, with its clamp); :meth:`log_prob` = the model's
    log-density with the unclamped sigma^2 (no cap: sigma^2 -> 0 is reachable);
    :meth:`objective_cap` = -(D/2) log(2 pi eps), the floor of the reported loss.
    """

    name = "gaussian-nll-eps"
    params_per_pixel = 2
    distinct_objective = True

    def __init__(self, nll_eps: float = 1e-6) -> None:
        super().__init__()
        self.eps = check_positive("nll_eps", nll_eps)
        self.loss = nn.GaussianNLLLoss(full=True, eps=self.eps, reduction="none")

    @classmethod
    def from_options(cls, options: HeadOptions) -> LikelihoodHead:
        return cls(options.nll_eps)

    def log_prob(self, x: Tensor, out: Tensor) -> Tensor:
        mu, log_var = self.split(out)
        return gaussian_log_density_per_pixel(x, mu, log_var).sum(-1)

    def objective(self, x: Tensor, out: Tensor) -> Tensor:
        mu, log_var = self.split(out)
        x = x.expand_as(mu)
        return -self.loss(mu, x, torch.exp(log_var)).sum(-1)

    def variance(self, out: Tensor) -> Tensor:
        """The model's (underlying, unclamped) sigma^2."""
        return torch.exp(self.split(out)[1])

    def reported_variance(self, out: Tensor) -> Tensor:
        """The variance the loss uses: max(sigma^2, eps)."""
        return self.variance(out).clamp(min=self.eps)

    def objective_cap(self, dim: int) -> float | None:
        return gaussian_log_density_cap(dim, self.eps)


class BetaNLLGaussian(LikelihoodHead):
    """Per-pixel Gaussian trained with the beta-NLL loss (Seitzer et al., ICLR 2022, eq. 4).

    Output ``[mu, log sigma^2]``.  :meth:`objective` = sum_j stopgrad(sigma_j^(2 beta))
    log N(x_j | mu_j, sigma_j^2) (the log 2 pi constant included; it carries no gradient);
    :meth:`log_prob` = the true log-density (no cap).  ``beta_nll`` = beta >= 0 (the paper
    recommends 0.5; beta = 0 is the NLL, beta = 1 gives the mean the gradient of squared
    error).
    """

    name = "beta-nll"
    params_per_pixel = 2
    distinct_objective = True

    def __init__(self, beta_nll: float = 0.5) -> None:
        super().__init__()
        self.beta = check_positive("beta_nll", beta_nll, strict=False)
        if self.beta > 10.0:
            raise InvalidArgumentError("beta_nll", f"must be in [0, 10], got {beta_nll}")

    @classmethod
    def from_options(cls, options: HeadOptions) -> LikelihoodHead:
        return cls(options.beta_nll)

    def log_prob(self, x: Tensor, out: Tensor) -> Tensor:
        mu, log_var = self.split(out)
        return gaussian_log_density_per_pixel(x, mu, log_var).sum(-1)

    def objective(self, x: Tensor, out: Tensor) -> Tensor:
        mu, log_var = self.split(out)
        weight = torch.exp(self.beta * log_var).detach()  # stopgrad(sigma^(2 beta))
        return (weight * gaussian_log_density_per_pixel(x, mu, log_var)).sum(-1)

    def variance(self, out: Tensor) -> Tensor:
        return torch.exp(self.split(out)[1])
