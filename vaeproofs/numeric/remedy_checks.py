"""Small float64 torch computations of the remedy heads' own formulas (docs/theory.md section 6).

Each function evaluates a head (or torch's loss) at chosen parameters and returns a frozen
record whose properties make the decision; the claims layer only reads them.

- :func:`discretised_mass_normalisation`: the L masses of a discretised Gaussian / logistic
  (Salimans et al., ICLR 2017, section 2.1) sum to 1 and none exceeds 1.
- :func:`continuous_bernoulli_density_at_zero`: log CB(0 | eta) = log(|eta| / (1 - e^eta))
  >= log|eta| along eta = -10^k (Loaiza-Ganem & Cunningham, NeurIPS 2019): unbounded.
- :func:`gaussian_nll_eps_gradient`: torch.nn.GaussianNLLLoss(eps) is flat in var below
  eps, yet passes the gradient at eps, (1/2)(1/eps - r^2/eps^2), so Adam keeps lowering var.
- :func:`beta_nll_stationary_point`: the beta-NLL objective (Seitzer et al., ICLR 2022,
  eq. 4) has its stationary variance at (x - mu)^2, as the NLL does.

Conventions: natural log; var is a variance; eps = float64 machine epsilon (2^-52) in the
tolerances, each derived where it is used.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["EPS64", "BetaNllStationary", "DensityAtZero", "GradientBelowEps", "MassNormalisation",
           "beta_nll_stationary_point", "continuous_bernoulli_density_at_zero",
           "discretised_mass_normalisation", "gaussian_nll_eps_gradient"]

#: float64 machine epsilon, 2^-52.
EPS64 = 2.0**-52


@dataclass(frozen=True)
class MassNormalisation:
    """Worst |log sum_k P_k| and largest log P_k over random parameters of the discretised heads."""

    levels: int
    n_params: int
    log_scale_range: tuple[float, float]
    max_abs_log_total: float
    max_log_mass: float

    @property
    def tolerance(self) -> float:
        """levels * eps: each float64 log-mass carries about one rounding relative to its mass,
        and the logsumexp of ``levels`` terms adds at most one per term."""
        return self.levels * EPS64

    @property
    def normalised(self) -> bool:
        """Masses sum to 1 within :attr:`tolerance` (in log) and no log-mass exceeds 0."""
        return self.max_abs_log_total <= self.tolerance and self.max_log_mass <= 0.0


def discretised_mass_normalisation(levels: int = 17, n_params: int = 200, seed: int = 0,
                                   log_scale_range: tuple[float, float] = (-30.0, 10.0)
                                   ) -> MassNormalisation:
    """The masses of both discretised heads at ``n_params`` random (mu, log s).

    mu ~ U(-1, 2) and log s ~ U(``log_scale_range``), float64, drawn from a torch generator
    seeded with ``seed``; the grid is k/(levels - 1).
    """
    import torch

    from vaeproofs.numeric.heads import DiscretisedGaussian, DiscretisedLogistic
    from vaeproofs.validation import check_int_range

    n_levels = check_int_range("levels", levels, low=2, high=2**12)
    n = check_int_range("n_params", n_params, low=1, high=10**6)
    low, high = (float(v) for v in log_scale_range)
    gen = torch.Generator().manual_seed(seed)
    grid = torch.arange(n_levels, dtype=torch.float64) / (n_levels - 1)
    mu = torch.rand(n, generator=gen, dtype=torch.float64) * 3.0 - 1.0
    log_s = torch.rand(n, generator=gen, dtype=torch.float64) * (high - low) + low
    out = torch.stack([mu, log_s], -1)[:, None, :].expand(n, n_levels, 2)
    worst, best_mass = 0.0, -math.inf
    for head in (DiscretisedGaussian(n_levels), DiscretisedLogistic(n_levels)):
        lp = head.log_prob_per_pixel(grid[None, :, None], out.reshape(n, n_levels, 2))
        total = torch.logsumexp(lp.squeeze(-1), dim=-1)
        worst = max(worst, float(total.abs().max()))
        best_mass = max(best_mass, float(lp.max()))
    return MassNormalisation(n_levels, n, (low, high), worst, best_mass)


@dataclass(frozen=True)
class DensityAtZero:
    """log CB(0 | eta) at eta = -10^k for each k."""

    ks: tuple[int, ...]
    log_density: tuple[float, ...]

    @property
    def gaps(self) -> tuple[float, ...]:
        """log CB(0 | eta) - log|eta| = -log(1 - e^eta) >= 0, computed as value - k log 10."""
        return tuple(v - k * math.log(10.0) for v, k in zip(self.log_density, self.ks, strict=True))

    @property
    def tolerances(self) -> tuple[float, ...]:
        """4 eps |log eta| per k: for k >= 2 the gap is below rounding, and the head's value and
        k log 10 are two float64 evaluations of log|eta|, a few ulp apart."""
        return tuple(4.0 * EPS64 * k * math.log(10.0) for k in self.ks)

    @property
    def at_least_log_eta(self) -> bool:
        """Every value is >= log|eta| within its tolerance."""
        return all(g >= -t for g, t in zip(self.gaps, self.tolerances, strict=True))

    @property
    def grows(self) -> bool:
        """>= log|eta| everywhere and the last value above the first: no bound M survives."""
        return self.at_least_log_eta and self.log_density[-1] > self.log_density[0]


def continuous_bernoulli_density_at_zero(ks: tuple[int, ...] = (1, 2, 4, 8, 16, 32, 64, 128, 300)
                                         ) -> DensityAtZero:
    """The continuous Bernoulli head's float64 log-density at x = 0 along logits eta = -10^k."""
    import torch

    from vaeproofs.errors import InvalidArgumentError
    from vaeproofs.numeric.heads import ContinuousBernoulli

    if not ks or any(not isinstance(k, int) or not 1 <= k <= 300 for k in ks):
        raise InvalidArgumentError("ks", f"must be a non-empty tuple of integers in [1, 300] "
                                   f"(10^k finite in float64), got {ks!r}")
    eta = torch.tensor([-(10.0**k) for k in ks], dtype=torch.float64)[:, None]
    values = ContinuousBernoulli().log_prob(torch.zeros_like(eta), eta)
    return DensityAtZero(tuple(ks), tuple(float(v) for v in values))


@dataclass(frozen=True)
class GradientBelowEps:
    """GaussianNLLLoss(eps) at x = mu below eps: loss values, gradients, and an Adam run."""

    eps: float
    variances: tuple[float, ...]
    loss_values: tuple[float, ...]
    grads: tuple[float, ...]
    adam_start: float
    adam_steps: int
    lr: float
    final_variance: float

    @property
    def expected_grad(self) -> float:
        """(1/2)(1/eps - r^2/eps^2) at r = 0: d loss / d var at var = eps."""
        return 0.5 * (1.0 / self.eps)

    @property
    def flat(self) -> bool:
        """The loss value is the same at every variance below eps."""
        return len(set(self.loss_values)) == 1

    @property
    def gradient_is_eps_gradient(self) -> bool:
        """Every gradient equals :attr:`expected_grad` within 4 eps relative: torch's backward
        through the clamp and the closed form are each a couple of float64 roundings."""
        g0 = self.expected_grad
        return all(abs(g - g0) <= 4.0 * EPS64 * abs(g0) for g in self.grads)

    @property
    def variance_keeps_falling(self) -> bool:
        """Adam ended below the variance it started from (already below eps)."""
        return self.final_variance < self.adam_start

    @property
    def pushes_below_eps(self) -> bool:
        """Flat loss, the gradient at eps, and a falling variance: the clamp floors nothing."""
        return self.flat and self.gradient_is_eps_gradient and self.variance_keeps_falling


def gaussian_nll_eps_gradient(eps: float = 1e-6, variances: tuple[float, ...] = (1e-7, 1e-9),
                              adam_steps: int = 200, lr: float = 1e-2) -> GradientBelowEps:
    """torch.nn.GaussianNLLLoss(eps, full=True) at x = mu = 0 for variances below eps.

    Adam (``lr``) runs ``adam_steps`` steps on log var from the first of ``variances``.
    """
    import torch

    from vaeproofs.errors import InvalidArgumentError
    from vaeproofs.validation import check_int_range, check_positive

    e = check_positive("eps", eps)
    if not variances or any(not 0.0 < v < e for v in variances):
        raise InvalidArgumentError("variances", f"must be in (0, eps = {e:g}), got {variances!r}")
    steps = check_int_range("adam_steps", adam_steps, low=1, high=10**6)
    loss_fn = torch.nn.GaussianNLLLoss(eps=e, full=True, reduction="sum")
    zero = torch.zeros(1, dtype=torch.float64)
    values, grads = [], []
    for var0 in variances:
        var = torch.tensor([var0], dtype=torch.float64, requires_grad=True)
        loss = loss_fn(zero, zero, var)
        (g,) = torch.autograd.grad(loss, var)
        values.append(float(loss.detach()))
        grads.append(float(g))
    log_var = torch.tensor([math.log(variances[0])], dtype=torch.float64, requires_grad=True)
    rate = check_positive("lr", lr)
    opt = torch.optim.Adam([log_var], lr=rate)
    for _ in range(steps):
        opt.zero_grad()
        loss_fn(zero, zero, torch.exp(log_var)).backward()
        opt.step()
    return GradientBelowEps(e, tuple(variances), tuple(values), tuple(grads), variances[0],
                            steps, rate, math.exp(float(log_var.detach())))


@dataclass(frozen=True)
class BetaNllStationary:
    """The beta-NLL gradient in log var at var = r^2 and at var = e r^2 (r = |x - mu|)."""

    betas: tuple[float, ...]
    residuals: tuple[float, ...]
    max_abs_grad_at_stationary: float
    max_grad_above: float

    @property
    def tolerance(self) -> float:
        """(1/2)(max |log r^2| + 4) eps: the gradient is (w/2)(r^2/var - 1) with w <= 1, and
        var = exp(log r^2) carries a relative error of about |log r^2| eps / 2 plus a few
        roundings (r^2, the ratio, the subtraction)."""
        return 0.5 * (max(abs(2.0 * math.log(r)) for r in self.residuals) + 4.0) * EPS64

    @property
    def stationary_at_residual(self) -> bool:
        """The gradient vanishes (within :attr:`tolerance`) at var = (x - mu)^2."""
        return self.max_abs_grad_at_stationary <= self.tolerance

    @property
    def points_back(self) -> bool:
        """Above var = r^2 the gradient is negative: the objective lowers var back to r^2."""
        return self.max_grad_above < 0.0

    @property
    def same_as_nll(self) -> bool:
        """Stationary at r^2 and attracting: r -> 0 drives the variance to 0, as for the NLL."""
        return self.stationary_at_residual and self.points_back


def beta_nll_stationary_point(betas: tuple[float, ...] = (0.0, 0.5, 1.0),
                              residuals: tuple[float, ...] = (1e-1, 1e-3, 1e-6)
                              ) -> BetaNllStationary:
    """Autograd of the beta-NLL objective in log var at var = r^2 and var = e r^2 (mu = 0, x = r)."""
    import torch

    from vaeproofs.errors import InvalidArgumentError
    from vaeproofs.numeric.heads import BetaNLLGaussian

    if not residuals or any(not 0.0 < r <= 1.0 for r in residuals):
        raise InvalidArgumentError("residuals", f"must be in (0, 1], got {residuals!r}")
    if not betas:
        raise InvalidArgumentError("betas", "must name at least one beta, got ()")
    worst, moved = 0.0, -math.inf
    zeros = torch.zeros(1, 1, dtype=torch.float64)
    for beta in betas:
        head = BetaNLLGaussian(beta)
        for r in residuals:
            x = torch.tensor([[r]], dtype=torch.float64)
            log_var = torch.tensor([[2.0 * math.log(r)]], dtype=torch.float64,
                                   requires_grad=True)
            (g,) = torch.autograd.grad(head.objective(x, torch.cat([zeros, log_var], -1)).sum(),
                                       log_var)
            worst = max(worst, abs(float(g)))
            (g2,) = torch.autograd.grad(
                head.objective(x, torch.cat([zeros, log_var + 1.0], -1)).sum(), log_var)
            moved = max(moved, float(g2))
    return BetaNllStationary(tuple(betas), tuple(residuals), worst, moved)
