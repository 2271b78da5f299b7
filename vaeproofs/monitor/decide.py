"""The monitor's rules: from one checked window to events (thresholds: :mod:`.thresholds`).

In order: non-finite values; with a positive static floor, a variance below it or an
objective above its cap (each contradicts the audit) and the notices; without one, the
collapse rule
(the trend of the smallest per-point log geometric-mean variance, extrapolated one
horizon ahead, below the data's noise level; or, without data, a sustained slope below
-lr/2), the objective above a stated reference floor's cap, and the notices: a variance
below the data's noise level on varying pixels, and on constant pixels.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import torch

from vaeproofs.monitor.events import where_text

if TYPE_CHECKING:
    from vaeproofs.monitor.core import CollapseMonitor
    from vaeproofs.monitor.reduce import Reduced

__all__ = ["decide"]

#: Relative float rounding allowed when comparing with the floor or the cap: 8 machine
#: epsilons of the variance's dtype (the floor is computed in float64 from the same ops).
ROUNDING_EPS = 8


#: The rounding allowed, as a relative amount of float32 values.
_EPS = ROUNDING_EPS * float(torch.finfo(torch.float32).eps)


def _where(monitor: CollapseMonitor, red: Reduced, *, include_constant: bool = False) -> str:
    pixel, point, from_index = red.where(include_constant=include_constant)
    shape = monitor.limits.shape if monitor.limits is not None else ()
    return where_text(pixel, shape, point, from_index)


def decide(monitor: CollapseMonitor, red: Reduced, steps: list[int], slope: float | None) -> None:
    """Say what the window shows (each event once; see the module docstring)."""
    say = monitor._say
    said = monitor._said  # a message is composed only for an event not said yet
    for t, bad in zip(steps, red.non_finite, strict=True):
        if bad and "non-finite" not in said:
            say(t, "non-finite", "the variance output holds nan or inf values", at=t)
            break
    eps = _EPS
    floor = monitor.floor
    last = steps[-1]
    if floor is not None and floor > 0:
        smallest = min(red.min_log_variance)
        if "below-floor" not in said and math.isfinite(smallest) and \
                smallest < math.log(floor) + math.log1p(-eps):
            t = steps[red.min_log_variance.index(smallest)]
            where = _where(monitor, red, include_constant=True)  # the smallest may be on a constant pixel
            say(t, "below-floor", f"variance {math.exp(smallest):.3g} at {where} is below "
                f"the static floor {floor:.3g} the audit found", variance=math.exp(smallest), floor=floor)
        cap = monitor.cap_per_point
        if cap is not None and red.max_objective is not None and "above-cap" not in said:
            best = max(red.max_objective)
            if best > cap + eps * (abs(cap) + monitor.limits.dim):  # type: ignore[union-attr]
                t = steps[red.max_objective.index(best)]
                say(t, "above-cap", f"per-point objective {best:.4g} nats is above the cap {cap:.4g} "
                    f"that the floor {floor:.3g} proves", objective=best, cap=cap)
        _notices(monitor, red, steps)  # a floor below the noise level still lets it go below
        return
    _collapse(monitor, last, slope)
    if monitor.reference_floor is not None and red.max_objective is not None and \
            monitor.limits is not None and "passed-reference-cap" not in said:
        ref_cap = -0.5 * monitor.limits.dim * (math.log(2 * math.pi) + math.log(monitor.reference_floor))
        best = max(red.max_objective)
        if best > ref_cap:
            t = steps[red.max_objective.index(best)]
            say(t, "passed-reference-cap", f"per-point objective {best:.4g} nats passed "
                f"{ref_cap:.4g}, the cap of the reference floor {monitor.reference_floor:.3g}, which no "
                f"model with every variance >= that floor can reach", objective=best, cap=ref_cap)
    _notices(monitor, red, steps)


def _floor_text(monitor: CollapseMonitor) -> str:
    if monitor.floor == 0:
        return "the static floor is 0, so the objective has no cap"
    record = monitor.floor_record
    if record is not None and record.floor is None:
        return f"the static floor is undecided ({record.explanation})"
    return "no static floor is known"


def _collapse(monitor: CollapseMonitor, last: int, slope: float | None) -> None:
    th = monitor.thresholds
    fit = monitor._fit
    if slope is None or fit is None or slope >= 0 or "collapse" in monitor._said:
        return
    if monitor.limits is not None:
        target = math.log(monitor.limits.noise_variance)
        if fit.level > target:
            if fit.ahead(th.horizon) >= target:
                return
            steps_to = (target - fit.level) / slope
            what = (f"the smallest geometric-mean variance of a training point is "
                    f"{math.exp(fit.level):.3g} and falls by a factor e every {-1 / slope:.0f} steps "
                    f"({-slope / th.lr:.2f} x lr per step): it reaches the data's "
                    f"{monitor.limits.describe()} within {steps_to:.0f} steps (horizon {th.horizon}), "
                    f"i.e. the model memorises that point; {_floor_text(monitor)}")
            monitor._say(last, "collapse", what, slope=slope, level=fit.level, target=target,
                         horizon=th.horizon)
            return
        # Already below the noise level: a collapse only with the runaway rate (else a notice).
    if slope <= -th.min_rate:
        what = (f"the smallest geometric-mean variance of a training point ({math.exp(fit.level):.3g}) "
                f"falls {-slope:.3g} per step "
                f"in log ({-slope / th.lr:.2f} x lr, at least half of Adam's full rate) over the last "
                f"{th.window} steps, the runaway of a free log-variance; {_floor_text(monitor)}")
        monitor._say(last, "collapse", what, slope=slope, level=fit.level, min_rate=th.min_rate)


def _notices(monitor: CollapseMonitor, red: Reduced, steps: list[int]) -> None:
    said = monitor._said
    if monitor.limits is None or ("below-noise" in said and "constant-pixels" in said):
        return
    noise = monitor.limits.noise_variance
    log_noise = math.log(noise)
    if "below-noise" not in said:
        for t, v in zip(steps, red.varying_min, strict=True):
            if v < log_noise:
                monitor._say(t, "below-noise", f"variance {math.exp(v):.3g} at {_where(monitor, red)} is "
                             f"below the data's {monitor.limits.describe()}", variance=math.exp(v),
                             noise=noise)
                break
    if red.constant_min is not None and "constant-pixels" not in said:
        for t, v in zip(steps, red.constant_min, strict=True):
            if v < log_noise:
                n_const = int(monitor.limits.constant.sum())
                monitor._say(t, "constant-pixels", f"variance {math.exp(v):.3g} on the {n_const} "
                             f"pixel(s) constant in the data is below the data's noise level {noise:.3g}",
                             variance=math.exp(v), noise=noise)
                break
