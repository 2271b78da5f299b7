"""The monitor's thresholds, each derived from the theory or the optimiser (docs/monitor.md).

Conventions: natural log; "variance" is sigma^2 per pixel; s = log sigma^2; a point's
**log geometric-mean variance** is g_i = mean_j s_ij over its non-constant pixels j.  The
per-point Gaussian log-density is -1/2 sum_j (log 2 pi + s_ij + r_ij^2 / sigma_ij^2), so
g_i is what moves the per-point objective: it grows by D/2 nats per nat that g_i falls.

**Window W = ceil(1 / lr) steps.**  Adam's step on a parameter whose gradient keeps its
sign is about lr (Kingma & Ba, ICLR 2015, section 2.1: |Delta theta| <= alpha for
the common case), so a log-variance driven at Adam's full rate (the bias of the
log-variance output alone moves it by lr per step) falls by 1 nat, a factor e in
variance, in 1/lr steps.  The monitor fits the slope of the smallest g_i over the last W
steps: the shortest window in which a full-rate runaway moves the variance by a factor e.

**Horizon H = W.**  The trend is extrapolated as far ahead as it was fitted back.

**Burn-in: until the variance reaches the data's spread.**  Every run starts with its
variances plunging from their initial value (about 1, whatever the data) towards the
level of the residuals (a transient in which r^2 / sigma^2 is well below 1, ending near
1: the stationary point of the Gaussian NLL in s is sigma^2 = E r^2).  Extrapolated, that
plunge would predict a collapse in every run.  The trend is fitted only to steps after
the smallest g_i first falls below log of the data's mean per-pixel variance (over the
non-constant pixels), the residual of the best constant mean: from there on the
variance is on the data's scale and falls only as the mean fits the points.  The first
fit is W steps later.  Without data the burn-in is one window, W steps; ``burn_in=``
fixes it in steps.

**Collapse warning (no floor).**  The fitted line of the smallest g_i, extrapolated H
steps ahead, falls below log v_noise (the data's noise level,
:mod:`vaeproofs.monitor.limits`) while falling: within one more window at the current
rate, the model will resolve some training point more finely than the data's own noise
on (geometric) average over its pixels, i.e. reproduce that point's noise draws, which
only memorisation can do (docs/theory.md section 1, the collapse mechanism).  When the
smallest g_i is already below log v_noise, the warning needs the runaway rate (next
rule); below the noise level without it is a notice.  Without a noise level (no data
given), the rule is the rate alone: a slope below -lr / 2, half of Adam's full rate,
sustained over the window (a converging variance has slope -> 0).

**Floors.**  With a static floor xi > 0 (from the audit's :func:`variance_floor`) the
objective is capped at -(D/2) log(2 pi xi) per point (Mattei & Frellsen, NeurIPS 2018,
section 2.1): no collapse is possible and none is warned of.  A variance below xi, or a
per-point objective above the cap, contradicts the audit (the head trained is not the
one audited, or the objective is not its log-density) and is warned of as such; the
comparison allows the float rounding of the variance's own dtype (a relative 8 eps).
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

import numpy as np

from vaeproofs.errors import InvalidArgumentError
from vaeproofs.validation import check_int_range, check_positive

__all__ = ["ADAM_DEFAULT_LR", "RATE_FRACTION", "SlidingFit", "Thresholds", "Trend", "fit_trend"]

#: Adam's default learning rate (Kingma & Ba 2015, Algorithm 1; torch's default): the
#: window is derived from it when neither a learning rate nor an optimiser is given.
ADAM_DEFAULT_LR = 1e-3
#: The rule without a noise level: a sustained slope below -RATE_FRACTION * lr per step.
RATE_FRACTION = 0.5


@dataclass(frozen=True)
class Thresholds:
    """The derived thresholds of one monitor (see the module docstring for each).

    Attributes:
        lr: the learning rate they derive from.
        window: W, steps over which the trend is fitted.
        horizon: H, steps ahead the trend is extrapolated.
        burn_in: steps before the trend's points start; None: when the variance first
            reaches the data's spread (one window W when there is no data).
        min_rate: the slope (per step, in nats of log-variance) the rate-only rule needs.
    """

    lr: float
    window: int
    horizon: int
    burn_in: int | None
    min_rate: float

    @classmethod
    def derive(cls, lr: float | None = None, *, window: int | None = None,
               horizon: int | None = None, burn_in: int | None = None) -> Thresholds:
        """Thresholds from the learning rate (Adam's default 1e-3 when None); any of the
        three step counts may be given instead of derived."""
        rate = ADAM_DEFAULT_LR if lr is None else check_positive("lr", lr)
        w = math.ceil(1.0 / rate) if window is None else check_int_range("window", window,
                                                                          low=2, high=10**9)
        w = max(w, 2)
        h = w if horizon is None else check_int_range("horizon", horizon, low=0, high=10**9)
        b = None if burn_in is None else check_int_range("burn_in", burn_in, low=0, high=10**9)
        return cls(lr=rate, window=w, horizon=h, burn_in=b, min_rate=RATE_FRACTION * rate)


@dataclass(frozen=True)
class Trend:
    """A least-squares line through (step, value) pairs: value at the last step and slope."""

    slope: float
    level: float
    steps: int

    def ahead(self, horizon: int) -> float:
        """The line's value ``horizon`` steps after the last one."""
        return self.level + self.slope * horizon


def fit_trend(steps: np.ndarray, values: np.ndarray) -> Trend:
    """Least-squares slope and fitted value at the largest step (needs two distinct steps):
    :class:`SlidingFit` over all the pairs at once."""
    t = np.asarray(steps, dtype=np.float64)
    v = np.asarray(values, dtype=np.float64)
    if t.ndim != 1 or t.size != v.size:
        raise InvalidArgumentError("steps", f"need one value per step, got {t.size} steps and "
                                            f"{v.size} values")
    fit = SlidingFit(window=2**62)
    fit.add(t.tolist(), v.tolist())
    line = fit.fit()
    if line is None:
        raise InvalidArgumentError("steps", f"need two or more distinct steps, got {t.size} step(s) "
                                            f"with {np.unique(t).size} distinct value(s)")
    return line


class SlidingFit:
    """The least-squares line (a :class:`Trend`) through the (step, value) pairs of the last
    ``window`` steps, kept as running sums: each pair costs O(1) as it arrives and as it
    leaves.

    The sums are of u = t - t0 and w = v - v0 about a reference pair (t0, v0), re-based on
    the oldest kept pair whenever the reference has left the window, so that u stays
    within about two windows and the centred sums S_uu - S_u^2 / n and S_uw - S_u S_w / n
    lose at most a couple of digits to cancellation (Chan, Golub & LeVeque, "Algorithms
    for computing the sample variance", The American Statistician 37, 1983: shifting by a
    value near the mean).  Pairs arriving out of step order are put in order and the
    sums recomputed from the kept pairs.
    """

    def __init__(self, window: int) -> None:
        self.window = window
        self._pairs: deque[tuple[float, float]] = deque()
        self._t0 = self._v0 = 0.0
        self._su = self._sw = self._suu = self._suw = 0.0

    def __len__(self) -> int:
        return len(self._pairs)

    def add(self, steps: list[int], values: list[float]) -> None:
        """Append pairs (finite values; steps in the order they came)."""
        if not steps:
            return
        if not self._pairs:
            self._t0, self._v0 = float(steps[0]), float(values[0])
        t0, v0 = self._t0, self._v0
        su, sw, suu, suw = self._su, self._sw, self._suu, self._suw
        prev = self._pairs[-1][0] if self._pairs else -math.inf
        in_order = True
        for t, v in zip(steps, values, strict=True):
            self._pairs.append((t, v))
            in_order = in_order and t >= prev
            prev = t
            u, w = t - t0, v - v0
            su, sw, suu, suw = su + u, sw + w, suu + u * u, suw + u * w
        self._su, self._sw, self._suu, self._suw = su, sw, suu, suw
        if not in_order:
            self._rebuild(sort=True)

    def expire(self, last: int) -> None:
        """Drop the pairs at steps <= last - window."""
        pairs, edge = self._pairs, last - self.window
        if not pairs or pairs[0][0] > edge:
            return
        t0, v0 = self._t0, self._v0
        su, sw, suu, suw = self._su, self._sw, self._suu, self._suw
        while pairs and pairs[0][0] <= edge:
            t, v = pairs.popleft()
            u, w = t - t0, v - v0
            su, sw, suu, suw = su - u, sw - w, suu - u * u, suw - u * w
        self._su, self._sw, self._suu, self._suw = su, sw, suu, suw
        if pairs and pairs[0][0] > t0 + self.window:
            self._rebuild(sort=False)

    def _rebuild(self, *, sort: bool) -> None:
        """The sums again from the kept pairs, about the oldest one."""
        pairs = sorted(self._pairs, key=lambda p: p[0]) if sort else list(self._pairs)
        self._pairs = deque()
        self._su = self._sw = self._suu = self._suw = 0.0
        if pairs:
            self.add([p[0] for p in pairs], [p[1] for p in pairs])  # type: ignore[misc]

    def fit(self) -> Trend | None:
        """The line through the kept pairs, its level at the largest kept step; None with
        fewer than two distinct steps."""
        n = len(self._pairs)
        if n < 2:
            return None
        spread = self._suu - self._su * self._su / n
        if not spread > 0:
            return None
        slope = (self._suw - self._su * self._sw / n) / spread
        u_mean, w_mean = self._su / n, self._sw / n
        last = self._pairs[-1][0] - self._t0
        return Trend(slope=slope, level=self._v0 + w_mean + slope * (last - u_mean), steps=n)
