"""``CollapseMonitor``: watch a training loop for the variance collapse, at almost no cost.

Computed once: the static floor and cap (from the audit's :func:`variance_floor`, or as
given), the data's noise level and constant pixels (:mod:`vaeproofs.monitor.limits`),
the thresholds (:mod:`vaeproofs.monitor.thresholds`).  Each step, :meth:`update` keeps a
detached reference to the variance output (passed in, or caught by a forward hook from
:meth:`watch`) and, if given, the per-point objective; nothing is computed and nothing
synchronises.  Every ``check_every`` steps the kept tensors are stacked and reduced in
a handful of tensor operations with one transfer to Python, giving one metrics dict per
step (:attr:`rows`) and the events (:attr:`events`), each said once.

Conventions: natural log; variances are sigma^2 per pixel; the objective is the
per-point ELBO (or log-density) in nats, summed over the D pixels, larger is better;
"step" is the user's step (counted from 1 when not given).  Metrics keys:
``step``, ``min_variance`` (smallest sigma^2 over the batch, every pixel),
``min_log_variance``, ``min_point_log_variance`` (the smallest over the batch of a
point's mean log-variance over its non-constant pixels, docs/monitor.md), and when given
``max_objective``; at a check also ``trend_slope`` (per step) and ``calibration``
(mean r^2 / sigma^2 of the last batch, when ``x`` and ``mean`` are passed).
"""

from __future__ import annotations

import math
import os
import sys
import warnings
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from vaeproofs.audit.floor import VarianceFloor
from vaeproofs.constants import LOG_2PI
from vaeproofs.errors import InvalidArgumentError
from vaeproofs.monitor.events import CODES, CollapseWarning, MonitorEvent, VarianceNotice, make_event
from vaeproofs.monitor.limits import DataLimits, data_limits
from vaeproofs.monitor.reduce import (
    PendingStep,
    PixelMask,
    Reduced,
    Window,
    reduce_window,
    to_log_variance,
    windows,
)
from vaeproofs.monitor.thresholds import SlidingFit, Thresholds
from vaeproofs.validation import check_int_range

__all__ = ["STOP_CODES", "CollapseMonitor"]

#: The events that stop training when ``stop=True``.
STOP_CODES = frozenset({"collapse", "non-finite", "below-floor", "above-cap"})
_KINDS = ("logvar", "var", "std", "logstd")


def _caller_level() -> int:
    """The stack level of the first frame outside this package (the user's update call), so
    that the warning points at the user's line."""
    here = os.path.dirname(__file__)
    frame: Any = sys._getframe(1)
    level = 1
    while frame is not None and os.path.dirname(frame.f_code.co_filename) == here:
        frame, level = frame.f_back, level + 1
    return level


def _exp(s: float) -> float:
    """exp(s), inf past float64's range, nan for nan."""
    return math.exp(s) if s < 709.0 else (math.inf if s > 0 else s)


def _select(out: Any, output: int | str | Callable[[Any], Tensor] | None) -> Tensor:
    if callable(output):
        return output(out)
    if output is None:
        return out
    return out[output]


class CollapseMonitor:
    """Watch the decoder variance during training (see the module docstring).

    Args:
        data: the training set, shape (n, ...): its noise level and constant pixels.
        variance: what the watched tensor is: ``logvar``, ``var``, ``std`` or ``logstd``.
        floor: the static floor (a :class:`VarianceFloor` from the audit, or a number);
            None when unknown.
        reference_floor: a floor xi_ref whose cap -(D/2) log(2 pi xi_ref) the objective
            is compared with when the model has none of its own.
        lr: the learning rate the thresholds derive from; Adam's default 1e-3 when neither
            this nor ``optimizer`` is given.
        optimizer: the user's optimiser: its smallest learning rate is used.
        quantization: the data's grid step, when known (noise level Delta^2 / 12).
        noise_variance: the data's noise level, when known.
        window: override the derived window (steps).
        horizon: override the derived forecast horizon (steps).
        burn_in: override the derived burn-in (steps).
        image_shape: the shape of one point as a picture (default: the data's own), e.g. (8, 8).
        check_every: steps between two checks (one transfer to Python each).
        stop: True (stop on :data:`STOP_CODES`), or the codes to stop on.
        emit: issue each event as a Python warning (default) or only record it.
    """

    def __init__(self, data: Any = None, *, variance: str = "logvar",
                 floor: VarianceFloor | float | None = None, reference_floor: float | None = None,
                 lr: float | None = None, optimizer: torch.optim.Optimizer | None = None,
                 quantization: float | None = None, noise_variance: float | None = None,
                 window: int | None = None, horizon: int | None = None, burn_in: int | None = None,
                 check_every: int = 50, stop: bool | Iterable[str] = False, emit: bool = True,
                 image_shape: tuple[int, ...] | None = None) -> None:
        if variance not in _KINDS:
            raise InvalidArgumentError("variance", f"must be one of {', '.join(_KINDS)}, got {variance!r}")
        self.kind = variance
        self.limits: DataLimits | None = None
        if data is not None:
            self.limits = data_limits(data, quantization=quantization, noise_variance=noise_variance,
                                      image_shape=image_shape)
        elif noise_variance is not None or quantization is not None:
            raise InvalidArgumentError("data", "is needed with quantization or noise_variance (the "
                                               "monitor reads the data's shape and constant pixels)")
        self.floor_record = floor if isinstance(floor, VarianceFloor) else None
        value = floor.floor if isinstance(floor, VarianceFloor) else floor
        if value is not None and (not isinstance(value, int | float) or not value >= 0):
            raise InvalidArgumentError("floor", f"must be a VarianceFloor or a number >= 0, got {floor!r}")
        self.floor = None if value is None else float(value)
        if reference_floor is not None and not reference_floor > 0:
            raise InvalidArgumentError("reference_floor", f"must be > 0, got {reference_floor!r}")
        self.reference_floor = reference_floor
        if optimizer is not None:
            if not isinstance(optimizer, torch.optim.Optimizer):
                raise InvalidArgumentError("optimizer", f"must be a torch.optim.Optimizer, got "
                                                        f"{type(optimizer).__name__}")
            lr = min(float(g["lr"]) for g in optimizer.param_groups)
        self.thresholds = Thresholds.derive(lr, window=window, horizon=horizon, burn_in=burn_in)
        self.check_every = check_int_range("check_every", check_every, low=1, high=10**6)
        codes = STOP_CODES if stop is True else frozenset() if stop is False else frozenset(stop)
        unknown = sorted(set(codes) - set(CODES))
        if unknown:
            raise InvalidArgumentError("stop", f"names unknown events {unknown}; known: {sorted(CODES)}")
        self.stop_codes = codes
        self.emit = emit
        self.rows: list[dict[str, Any]] = []
        self.events: list[MonitorEvent] = []
        self.stop_reason: MonitorEvent | None = None
        self._pending: list[PendingStep] = []
        self._last_fit: tuple[Tensor, Tensor] | None = None
        self._trend = SlidingFit(self.thresholds.window)
        self._spread_level: float | None = None
        self._said: set[str] = set()
        self._step = 0
        self._captured: Tensor | None = None
        self._handles: list[Any] = []
        self._pixel_min: np.ndarray | None = None
        self._point_best = np.empty(0)
        self._mask: PixelMask | None = None
        self._buffer: Tensor | None = None
        self._fit: Any = None
        self._burn_end: int | None = None

    # -- construction from the audit --------------------------------------------------------
    @classmethod
    def from_decoder(cls, decoder: nn.Module, *, latent_dim: int, variance: str,
                     output: int | str = 1, frozen: Iterable[str | nn.Parameter] = (),
                     **kwargs: Any) -> CollapseMonitor:
        """A monitor whose floor is the audit's static floor of ``decoder(z)[output]``,
        watching that output through a forward hook."""
        from vaeproofs.audit.floor import variance_floor

        record = variance_floor(decoder, latent_dim=latent_dim, variance=variance, output=output,
                                frozen=frozen)
        monitor = cls(variance=variance, floor=record, **kwargs)
        monitor.watch(decoder, output=output)
        return monitor

    # -- inputs -----------------------------------------------------------------------------
    def watch(self, module: nn.Module, *, output: int | str | Callable[[Any], Tensor] | None = 1
              ) -> CollapseMonitor:
        """Catch the variance from ``module``'s output (``output[output]``, the whole output
        for None, or ``output(out)`` for a callable) on each forward pass in training mode."""
        if not isinstance(module, nn.Module):
            raise InvalidArgumentError("module", f"must be a torch.nn.Module, got {type(module).__name__}")

        def hook(mod: nn.Module, args: Any, out: Any) -> None:
            if mod.training:
                self._captured = _select(out, output)

        self._handles.append(module.register_forward_hook(hook))
        return self

    def close(self) -> list[dict[str, Any]]:
        """Remove the hooks and check what is still pending; returns its rows."""
        for handle in self._handles:
            handle.remove()
        self._handles.clear()
        return self.flush()

    def update(self, variance: Tensor | None = None, *, objective: Tensor | None = None,
               index: Tensor | None = None, x: Tensor | None = None, mean: Tensor | None = None,
               step: int | None = None) -> list[dict[str, Any]]:
        """Record one training step; every ``check_every`` steps check and return the new rows.

        Args:
            variance: the decoder's variance output for the batch, (B, ...) in the kind
                given at construction; None: the one the hook caught last.
            objective: the per-point objective (B,) (ELBO or log-density, nats).
            index: the batch's indices in the training set (B,), to say which points.
            x: the batch, for the calibration r^2 / sigma^2.
            mean: the decoder mean for that batch.
            step: the step number (default: one more than the last).
        """
        if variance is None:
            variance = self._captured
            if variance is None:
                raise InvalidArgumentError("variance", "was not passed and no watched module has "
                                                       "produced one (call watch(module) first)")
        if not isinstance(variance, Tensor) or variance.dim() < 2:
            raise InvalidArgumentError("variance", f"must be a tensor of shape (B, ...), got "
                                                   f"{getattr(variance, 'shape', type(variance).__name__)}")
        if objective is not None and (not isinstance(objective, Tensor)
                                      or objective.numel() != variance.shape[0]):
            got = getattr(objective, "shape", type(objective).__name__)
            raise InvalidArgumentError("objective", f"must be a tensor with one value per point of the "
                                                    f"batch ({variance.shape[0]}), got {got}")
        if index is not None and (not isinstance(index, Tensor) or index.numel() != variance.shape[0]):
            raise InvalidArgumentError("index", f"must be a tensor with one training-set index per point of "
                                                f"the batch ({variance.shape[0]}), got "
                                                f"{getattr(index, 'shape', type(index).__name__)}")
        self._step = self._step + 1 if step is None else int(step)
        self._pending.append((self._step, variance.detach(),
                              None if objective is None else objective.detach(),
                              None if index is None else index.detach()))
        if x is not None and mean is not None:
            self._last_fit = (x.detach(), mean.detach())
        if len(self._pending) >= self.check_every:
            return self.flush()
        return []

    @property
    def should_stop(self) -> bool:
        """Whether an event named in ``stop`` has happened."""
        return self.stop_reason is not None

    # -- the check ----------------------------------------------------------------------------
    def flush(self) -> list[dict[str, Any]]:
        """Check the pending steps now; returns their rows (one dict per step)."""
        pending, self._pending = self._pending, []
        rows: list[dict[str, Any]] = []
        for window in windows(pending):
            rows.extend(self._check(window))
        return rows

    def _pixel_mask(self, dim: int, device: torch.device, dtype: torch.dtype) -> PixelMask:
        if self.limits is not None and self.limits.dim != dim:
            raise InvalidArgumentError("variance", f"has {dim} values per point, the data "
                                                   f"{self.limits.dim} pixels")
        mask = self._mask
        if mask is None or mask.constant.shape[0] != dim or mask.weights.device != device or \
                mask.weights.dtype != dtype:
            mask = PixelMask.make(None if self.limits is None else self.limits.constant, dim, device, dtype)
            self._mask = mask
        return mask

    def _check(self, window: Window) -> list[dict[str, Any]]:
        steps = window.steps
        k = len(steps)
        s = to_log_variance(self._stack(window.variances), self.kind).flatten(2)
        objective = torch.stack(window.objectives).reshape(k, -1) if window.objectives else None
        index = torch.stack(window.indices).reshape(k, -1) if window.indices else None
        red = reduce_window(s, self._pixel_mask(s.shape[-1], s.device, s.dtype), objective, index)
        self._pixel_min = red.pixel_min if self._pixel_min is None else \
            np.minimum(self._pixel_min, red.pixel_min)
        if red.point_index is not None and red.point_values is not None:
            self._merge_point_min(red.point_index, red.point_values)
        rows = [{"step": t, "min_variance": _exp(smin), "min_log_variance": smin,
                 "min_point_log_variance": g}
                for t, smin, g in zip(steps, red.min_log_variance, red.point_log_variance, strict=True)]
        if red.max_objective is not None:
            for row, o in zip(rows, red.max_objective, strict=True):
                row["max_objective"] = o
        slope = self._update_trend(steps, red.point_log_variance)
        rows[-1]["trend_slope"] = slope  # type: ignore[assignment]
        calibration = self._calibration(window.variances[-1])
        if calibration is not None:
            rows[-1]["calibration"] = calibration
        self.rows.extend(rows)
        self._decide(red, steps, slope)
        return rows

    def _stack(self, tensors: list[Tensor]) -> Tensor:
        """``torch.stack(tensors)``; on the CPU into a buffer kept from one check to the next.

        On the CPU a fresh (K, B, ...) block comes from the C allocator, which may hand back
        new pages each time (their first touch then costs more than the copy); a kept
        buffer makes the check's cost independent of that.  Other devices have PyTorch's
        caching allocator, which reuses blocks by itself.
        """
        first = tensors[0]
        if first.device.type != "cpu":
            return torch.stack(tensors)
        shape = (len(tensors), *first.shape)
        buf = self._buffer
        if buf is None or buf.shape != shape or buf.dtype != first.dtype:
            buf = self._buffer = torch.empty(shape, dtype=first.dtype)
        return torch.stack(tensors, out=buf)

    def _merge_point_min(self, index: np.ndarray, values: np.ndarray) -> None:
        """Per training point, the smallest mean log-variance seen (nan never counts)."""
        if index.size == 0:
            return
        if int(index.min()) < 0:
            raise InvalidArgumentError("index", f"must hold training-set indices >= 0, got "
                                                f"{int(index.min())}")
        size = int(index.max()) + 1
        if self._point_best.size < size:
            grown = np.full(max(size, 2 * self._point_best.size), np.inf)
            grown[:self._point_best.size] = self._point_best
            self._point_best = grown
        ok = ~np.isnan(values)
        np.minimum.at(self._point_best, index[ok], values[ok])

    def _calibration(self, last: Tensor) -> float | None:
        if self._last_fit is None:
            return None
        x, mean = self._last_fit
        self._last_fit = None
        s = to_log_variance(last.flatten(1), self.kind)
        if x.numel() != s.numel() or mean.numel() != s.numel():
            return None
        r2 = (x.reshape(s.shape) - mean.reshape(s.shape)).square()
        return float((r2 * torch.exp(-s)).mean())

    def _burn_in_end(self, steps: list[int], values: list[float]) -> int | None:
        """The step after which the trend's points count (see :mod:`.thresholds`)."""
        th = self.thresholds
        if th.burn_in is not None:
            return th.burn_in
        if self.limits is None:
            return th.window
        if self._burn_end is None:
            if self._spread_level is None:
                spread = float(self.limits.pixel_variance[~self.limits.constant].mean())
                self._spread_level = math.log(spread) if spread > 0 else -math.inf
            level = self._spread_level
            self._burn_end = next((t for t, g in zip(steps, values, strict=True) if g < level), None)
        return self._burn_end

    def _update_trend(self, steps: list[int], values: list[float]) -> float | None:
        """Keep the (step, value) pairs of the last W steps after the burn-in; fit them."""
        self._fit = None
        start = self._burn_in_end(steps, values)
        if start is None:
            return None
        if start < steps[0] and math.isfinite(sum(values)):  # the common case: keep them all
            self._trend.add(steps, values)
        else:
            keep = [(t, g) for t, g in zip(steps, values, strict=True) if t > start and math.isfinite(g)]
            self._trend.add([t for t, _ in keep], [g for _, g in keep])
        last = steps[-1]
        self._trend.expire(last)
        if last < start + self.thresholds.window:
            return None
        self._fit = self._trend.fit()
        return None if self._fit is None else self._fit.slope

    # -- events ---------------------------------------------------------------------------------
    def _say(self, step: int, code: str, what: str, **data: Any) -> None:
        if code in self._said:
            return
        self._said.add(code)
        event = make_event(step, code, what, data)
        self.events.append(event)
        if self.emit:
            warnings.warn(event.message, CollapseWarning if event.level == "warning" else VarianceNotice,
                          stacklevel=_caller_level())
        if code in self.stop_codes and self.stop_reason is None:
            self.stop_reason = event

    def _decide(self, red: Reduced, steps: list[int], slope: float | None) -> None:
        from vaeproofs.monitor.decide import decide

        decide(self, red, steps, slope)

    # -- results ------------------------------------------------------------------------------
    @property
    def pixel_min_variance(self) -> np.ndarray | None:
        """The smallest variance seen at each pixel, shaped like one data point."""
        if self._pixel_min is None:
            return None
        arr = np.exp(self._pixel_min.astype(np.float64))
        return arr.reshape(self.limits.shape) if self.limits is not None else arr

    @property
    def point_min_log_variance(self) -> dict[int, float]:
        """Per training point (when ``index`` was passed): its smallest mean log-variance."""
        seen = np.flatnonzero(np.isfinite(self._point_best))
        return dict(zip(seen.tolist(), self._point_best[seen].tolist(), strict=True))

    @property
    def cap_per_point(self) -> float | None:
        """-(D/2) log(2 pi floor) for a positive static floor (nats per point), else None."""
        if self.floor is None or self.floor <= 0 or self.limits is None:
            return None
        return -0.5 * self.limits.dim * (LOG_2PI + math.log(self.floor))

    def heatmap(self, path: str | None = None, **kwargs: Any) -> Any:
        """The smallest variance per pixel as a heat map (see :func:`~.heatmap.variance_heatmap`)."""
        from vaeproofs.monitor.heatmap import variance_heatmap

        if self._pixel_min is None:
            raise InvalidArgumentError("monitor", "has not checked any step yet (call update/flush)")
        noise = None if self.limits is None else self.limits.noise_variance
        pixels = self.pixel_min_variance
        assert pixels is not None
        return variance_heatmap(pixels, noise_variance=noise, floor=self.floor,
                                path=path, **kwargs)

    def summary(self) -> dict[str, Any]:
        """JSON-ready: the steps seen, the thresholds, the data's limits and the events."""
        th = self.thresholds
        return {"steps": self._step, "events": [e.to_json() for e in self.events],
                "stopped": None if self.stop_reason is None else self.stop_reason.code,
                "floor": self.floor, "cap_per_point": self.cap_per_point,
                "noise_variance": None if self.limits is None else self.limits.noise_variance,
                "thresholds": {"lr": th.lr, "window": th.window, "horizon": th.horizon,
                               "burn_in": th.burn_in, "burn_in_ended": self._burn_end,
                               "min_rate": th.min_rate}}
