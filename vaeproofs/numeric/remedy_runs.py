"""What a finished remedy training run says about its head's cap (docs/theory.md section 6).

The claims layer reads these records instead of computing on runs itself; each record's
properties make the decision a gatherer reports.

- :func:`capped_run`: the best per-point training ELBO against a cap, with the cap put on
  the data's scale (:func:`vaeproofs.numeric.heads.cap_relative_to_data`).
- :func:`dequantisation_bound`: Theis et al. (ICLR 2016, section 3.1): under fresh
  uniform noise on a grid of spacing Delta = 1/L the expected objective of n distinct
  grid points is at most D log(1/Delta) - log n = D log L - log n.
- :func:`mass_cap_as_density`: a discretised head's mass cap 0 read as a density cap
  D log(L - 1) on bins of width 1/(L - 1).
- :func:`continuous_bernoulli_data_cap`: on data inside (0, 1) the continuous
  Bernoulli's log-density is at most sum_j M(x_j), M the density's maximum over the
  parameter at each value (Loaiza-Ganem & Cunningham, NeurIPS 2019).
- :func:`gaussian_nll_eps_run`: torch's GaussianNLLLoss(eps) clamps the variance in the
  loss only; the run's own variance may fall below eps while the reported objective stays
  under -(D/2) log(2 pi eps).
- :func:`variance_fall`: how many decades the smallest decoder variance fell.

Conventions: natural log; ELBOs and caps in nats per point summed over the D pixels;
variances are variances (not standard deviations); the data's variance is the mean over
pixels of the per-pixel variance of the training array (numpy's ``var``, ddof 0).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike, NDArray

from vaeproofs.numeric.collapse import best_logged
from vaeproofs.validation import as_float_array, check_int_range

if TYPE_CHECKING:
    from vaeproofs.numeric.training import TrainResult

__all__ = ["CappedRun", "ContinuousBernoulliDataCap", "DequantisationBound", "GaussianNllEpsRun",
           "MassCapAsDensity", "VarianceFall", "capped_run", "continuous_bernoulli_data_cap",
           "data_variance", "dequantisation_bound", "distinct_grid_points", "gaussian_nll_eps_run",
           "mass_cap_as_density", "train_points", "variance_fall"]


def train_points(result: TrainResult) -> NDArray[np.float64]:
    """The training array of a run (float64, as the run saw it before any fresh noise)."""
    from vaeproofs.numeric.training import prepare_data

    return prepare_data(result.config)[1]


def data_variance(x: ArrayLike) -> float:
    """The mean over pixels of the per-pixel variance of an (N, D) array (ddof 0)."""
    return float(as_float_array("x", x, ndim=2).var(axis=0).mean())


@dataclass(frozen=True)
class CappedRun:
    """A run's best per-point training ELBO against a cap (nats per point)."""

    best: float
    cap: float
    dim: int
    data_variance: float

    @property
    def under_cap(self) -> bool:
        """Whether the best logged ELBO is at most the cap."""
        return self.best <= self.cap

    @property
    def cap_per_pixel(self) -> float:
        """The cap divided by the number of pixels D."""
        return self.cap / self.dim

    @property
    def equivalent_floor(self) -> float:
        """The Gaussian variance floor exp(-2 c)/(2 pi) of the per-pixel cap c."""
        from vaeproofs.numeric.heads import equivalent_variance_floor

        return equivalent_variance_floor(self.cap_per_pixel)

    @property
    def floor_relative_to_data(self) -> float:
        """:attr:`equivalent_floor` divided by the data's mean per-pixel variance."""
        from vaeproofs.numeric.heads import cap_relative_to_data

        return cap_relative_to_data(self.cap_per_pixel, self.data_variance)


def capped_run(result: TrainResult, cap: float | None = None) -> CappedRun:
    """The best per-point training ELBO of ``result`` against ``cap`` (default: the run's own)."""
    from vaeproofs.errors import InvalidArgumentError

    c = result.cap if cap is None else cap
    if c is None:
        raise InvalidArgumentError("cap", f"must be given: the {result.config.likelihood} "
                                   "head has no cap of its own")
    return CappedRun(best_logged(result, "train_elbo_max"), float(c), result.dim,
                     data_variance(train_points(result)))


# Grid levels: fl(fl(k / L) * L) differs from the integer k <= L - 1 by at most two
# roundings of relative size eps/2 each, i.e. by less than k * eps < L * eps; that slack
# keeps a grid corner k/L in bin k instead of flooring it into bin k - 1.
def distinct_grid_points(x: ArrayLike, levels: int) -> int:
    """How many distinct rows ``x`` has after flooring each value to the grid of spacing 1/levels."""
    arr = as_float_array("x", x, ndim=2)
    n_levels = check_int_range("levels", levels, low=2, high=2**24)
    slack = n_levels * float(np.finfo(np.float64).eps)
    return len(np.unique(np.floor(arr * n_levels + slack), axis=0))


@dataclass(frozen=True)
class DequantisationBound:
    """D log L - log n, and the run's best mean and max per-point training ELBO."""

    dim: int
    levels: int
    n_distinct: int
    best_mean: float
    best_max: float

    @property
    def value(self) -> float:
        """D log(1/Delta) - log n with Delta = 1/levels (nats per point)."""
        return self.dim * math.log(self.levels) - math.log(self.n_distinct)

    @property
    def respected(self) -> bool:
        """Whether the best mean per-point training ELBO is at most the bound."""
        return self.best_mean <= self.value


def dequantisation_bound(result: TrainResult, levels: int | None = None) -> DequantisationBound:
    """The fresh-dequantisation bound for ``result``'s training points (default: the digits' 17 levels)."""
    from vaeproofs.numeric.data import DIGITS_LEVELS

    n_levels = DIGITS_LEVELS if levels is None else levels
    return DequantisationBound(result.dim, n_levels,
                               distinct_grid_points(train_points(result), n_levels),
                               best_logged(result, "train_elbo_mean"),
                               best_logged(result, "train_elbo_max"))


@dataclass(frozen=True)
class MassCapAsDensity:
    """A probability-mass cap of 0 nats read as a density: D log(L - 1).

    A mass <= 1 on a bin of width 1/(L - 1) (the grid k/(L - 1) of a discretised head,
    Salimans et al., ICLR 2017, section 2.1) is a density <= L - 1 per pixel.
    """

    dim: int
    levels: int

    @property
    def bins(self) -> int:
        """L - 1: the inverse bin width."""
        return self.levels - 1

    @property
    def value(self) -> float:
        """D log(L - 1) nats per point."""
        return self.dim * math.log(self.bins)


def mass_cap_as_density(dim: int, levels: int | None = None) -> MassCapAsDensity:
    """The density cap equal to the mass cap 0 on ``levels`` grid levels (default: the digits' 17)."""
    from vaeproofs.numeric.data import DIGITS_LEVELS

    n_levels = DIGITS_LEVELS if levels is None else levels
    return MassCapAsDensity(check_int_range("dim", dim, low=1, high=2**31),
                            check_int_range("levels", n_levels, low=2, high=2**24))


@dataclass(frozen=True)
class ContinuousBernoulliDataCap:
    """max_i sum_j M(x_ij) when every value is inside (0, 1) (``cap`` None otherwise)."""

    best: float
    cap: float | None
    dim: int
    n_exact_binary: int

    @property
    def interior(self) -> bool:
        """Whether every training value lies strictly inside (0, 1)."""
        return self.cap is not None

    @property
    def cap_per_pixel(self) -> float | None:
        """The data cap divided by the number of pixels D (None without a cap)."""
        return None if self.cap is None else self.cap / self.dim

    @property
    def under_cap(self) -> bool | None:
        """Whether the best ELBO is at most the data cap (None: no cap on exact 0/1 values)."""
        return None if self.cap is None else self.best <= self.cap


def continuous_bernoulli_data_cap(x: ArrayLike, best: float) -> ContinuousBernoulliDataCap:
    """The data-dependent cap of the continuous Bernoulli on the (N, D) array ``x`` in [0, 1]."""
    from vaeproofs.numeric.heads import continuous_bernoulli_sup_log_density

    arr = as_float_array("x", x, ndim=2)
    n_binary = int((arr == 0).sum() + (arr == 1).sum())
    inside = bool(((arr > 0) & (arr < 1)).all())
    cap = float(continuous_bernoulli_sup_log_density(arr).sum(-1).max()) if inside else None
    return ContinuousBernoulliDataCap(float(best), cap, arr.shape[1], n_binary)


@dataclass(frozen=True)
class GaussianNllEpsRun:
    """A GaussianNLLLoss(eps) run: its own variance against eps, its reported objective against the cap."""

    eps: float
    dim: int
    min_variance: float
    fraction_below_eps: float
    best_reported: float
    best_true: float
    data_variance: float

    @property
    def crossed(self) -> bool:
        """Whether the decoder's own smallest variance fell below eps at a logged step."""
        return self.min_variance < self.eps

    @property
    def cap(self) -> float:
        """-(D/2) log(2 pi eps): the cap on the reported objective (nats per point)."""
        from vaeproofs.numeric.heads import gaussian_log_density_cap

        return gaussian_log_density_cap(self.dim, self.eps)

    @property
    def reported_under_cap(self) -> bool:
        """Whether the best reported objective is at most :attr:`cap`."""
        return self.best_reported <= self.cap

    @property
    def eps_relative_to_data(self) -> float:
        """eps divided by the data's mean per-pixel variance."""
        return self.eps / self.data_variance


def gaussian_nll_eps_run(result: TrainResult) -> GaussianNllEpsRun:
    """The record of a ``gaussian-nll-eps`` run (its smallest variance over all logged steps)."""
    return GaussianNllEpsRun(
        eps=result.config.nll_eps, dim=result.dim,
        min_variance=min(row.min_decoder_variance for row in result.history),
        fraction_below_eps=max((row.fraction_variance_below_eps or 0.0)
                               for row in result.history),
        best_reported=best_logged(result, "train_objective_max"),
        best_true=best_logged(result, "train_elbo_max"),
        data_variance=data_variance(train_points(result)))


@dataclass(frozen=True)
class VarianceFall:
    """The smallest decoder variance at step 0 and its lowest value over the logged steps."""

    first: float
    lowest: float

    @property
    def decades(self) -> float:
        """log10(first / lowest) (inf when the lowest is 0)."""
        return math.log10(self.first / self.lowest) if self.lowest > 0 else math.inf


def variance_fall(result: TrainResult) -> VarianceFall:
    """How far ``result``'s smallest decoder variance fell from step 0 (over every logged row)."""
    return VarianceFall(result.history[0].min_decoder_variance,
                        min(row.min_decoder_variance for row in result.history))
