"""What a finished training run says about a collapse: measured from its typed history.

The claims layer reads these records instead of computing on histories itself.

- :func:`variance_shrinkage`: how far the smallest decoder variance fell over the run.
  "Shrinks toward 0" is defined as ending below the floor ``xi`` the run is compared
  with *and* at least :data:`SHRINK_DECADES` decades below where it started: a model
  floored at xi could do neither.
- :func:`best_train_elbo`: the largest per-point training ELBO over the logged steps;
  :func:`best_logged`: the largest finite value of any logged metric.
- :func:`iwae_drop`: how many standard errors the final test IWAE log-likelihood lies
  below its best (the overfitting signature of Mattei & Frellsen 2018, section 2.1).

Conventions: variances are variances (not standard deviations); ELBOs in nats per
point, natural log, summed over pixels.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from vaeproofs.numeric.training import TrainResult

__all__ = ["SHRINK_DECADES", "IwaeDrop", "VarianceShrinkage", "best_logged", "best_train_elbo",
           "iwae_drop", "variance_shrinkage"]

#: Decades the smallest variance must fall (besides ending below the floor) to "shrink toward 0".
SHRINK_DECADES = 1.0


@dataclass(frozen=True)
class VarianceShrinkage:
    """The smallest decoder variance at the first and last finite logged steps."""

    first: float
    first_step: int
    last: float
    last_step: int
    last_kl: float
    floor: float

    @property
    def decades(self) -> float:
        """log10(first / last): how many orders of magnitude the variance fell."""
        return math.log10(self.first / self.last) if self.last > 0 else math.inf

    @property
    def below_floor(self) -> bool:
        """Whether the last variance is below the floor the run is compared with."""
        return self.last < self.floor

    @property
    def shrinks(self) -> bool:
        """Below the floor and at least :data:`SHRINK_DECADES` decades below the start."""
        return self.below_floor and self.decades >= SHRINK_DECADES


def variance_shrinkage(result: TrainResult, floor: float) -> VarianceShrinkage | None:
    """The shrinkage of ``result``'s smallest decoder variance (``None``: under two finite rows)."""
    rows = result.finite_history
    if len(rows) < 2:
        return None
    return VarianceShrinkage(first=rows[0].min_decoder_variance, first_step=rows[0].step,
                             last=rows[-1].min_decoder_variance, last_step=rows[-1].step,
                             last_kl=rows[-1].kl, floor=floor)


def best_train_elbo(result: TrainResult) -> float:
    """The largest per-point training ELBO over the logged steps (-inf when none is finite)."""
    values = [row.train_elbo_max for row in result.history if math.isfinite(row.train_elbo_max)]
    return max(values) if values else -math.inf


def best_logged(result: TrainResult, key: str) -> float:
    """The largest finite value of the history metric ``key`` over the logged steps.

    ``key`` names a :class:`~vaeproofs.numeric.training.result.HistoryRow` field; rows where
    it is ``None`` (a metric the head does not report) or not finite are skipped, and
    ``-inf`` is returned when none is left.
    """
    from dataclasses import fields

    from vaeproofs.errors import InvalidArgumentError
    from vaeproofs.numeric.training.result import HistoryRow

    names = [f.name for f in fields(HistoryRow)]
    if key not in names:
        raise InvalidArgumentError("key", f"must name a logged metric ({', '.join(names)}), "
                                   f"got {key!r}")
    values = [v for row in result.history
              if (v := getattr(row, key)) is not None and math.isfinite(v)]
    return max(values) if values else -math.inf


@dataclass(frozen=True)
class IwaeDrop:
    """Best and final test IWAE log-likelihoods and the drop in standard errors."""

    best: float
    final: float
    z: float


def iwae_drop(result: TrainResult) -> IwaeDrop | None:
    """How many standard errors the final test IWAE is below its best (``None``: not logged).

    The two estimates are independent Monte Carlo averages, so the standard error of
    their difference is the root sum of squares of theirs.
    """
    best, final = result.best, result.final
    if best.test_iwae is None or final is None:
        return None
    se = math.hypot(best.test_iwae_se or 0.0, final.test_iwae_se)
    drop = best.test_iwae - final.test_iwae
    return IwaeDrop(best.test_iwae, final.test_iwae, drop / se if se > 0 else math.inf)
