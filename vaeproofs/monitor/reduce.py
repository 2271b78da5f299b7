"""The monitor's check: a window of K steps reduced in two passes, the rest in numpy.

Input: s, the log-variances of K steps, shape (K, B, D) (natural log of sigma^2 per
pixel); optionally the per-point objective (K, B) and the batch's training-set indices
(K, B).  On the tensors' device, two passes over the K x B x D values: the minimum over
the batch, per step and pixel (K, D), and the mean over the non-constant pixels, per
step and point (K, B), the point's log geometric-mean variance (docs/monitor.md).  Those
two small arrays (and the objective) reach numpy as views on the CPU, or in one transfer
from another device; everything else is numpy on them.  Output (:class:`Reduced`), per
step: the smallest log-variance, the smallest mean log-variance of a point, the smallest
log-variance on varying and on constant pixels, the largest objective, whether any value
was not finite; for the window: the smallest log-variance per pixel, the per-point means
with their training-set indices, and where the smallest variance sits.

Why this split: inside a training loop every call costs microseconds whatever its size
(on the digits MLP a tensor operation on a few thousand values took about 10 us, a numpy
call on them a few), so the check does on the device only the two passes that must read
every value and works on the small arrays with as few numpy calls as it can
(benchmarks/README.md (g)).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from vaeproofs.errors import InvalidArgumentError

__all__ = ["PendingStep", "PixelMask", "Reduced", "Window", "gather_to_host", "host_arrays",
           "reduce_window", "to_log_variance", "windows"]


def to_log_variance(t: Tensor, kind: str) -> Tensor:
    """log sigma^2 from a ``logvar``, ``var``, ``std`` or ``logstd`` tensor (natural log)."""
    if kind == "logvar":
        return t
    if kind == "var":
        return torch.log(t)
    if kind == "std":
        return 2.0 * torch.log(t)
    if kind == "logstd":
        return 2.0 * t
    raise InvalidArgumentError("variance", f"must be logvar, var, std or logstd, got {kind!r}")


@dataclass(frozen=True)
class PixelMask:
    """The data's constant pixels, prepared once for one device and dtype.

    Attributes:
        constant: host boolean mask (D,), True where the pixel is constant in the data.
        has_constant: whether any pixel is constant.
        weights: (D,) on the device: 1 / (number of varying pixels) on varying pixels and
            0 on constant ones, so ``s @ weights`` is the mean over the varying pixels
            (one matrix-vector pass, cheaper than a masked mean).
    """

    constant: np.ndarray
    has_constant: bool
    weights: Tensor

    @classmethod
    def make(cls, constant: np.ndarray | None, dim: int, device: torch.device,
             dtype: torch.dtype) -> PixelMask:
        """From the data's constant-pixel mask (None: no data, every pixel varies)."""
        mask = np.zeros(dim, dtype=bool) if constant is None else np.asarray(constant, dtype=bool)
        # all pixels constant: nothing varies, and the plain mean keeps a point's value defined
        varying = np.ones(dim, dtype=bool) if mask.all() else ~mask
        w = torch.as_tensor(varying / varying.sum(), dtype=dtype, device=device)
        return cls(constant=mask, has_constant=bool(mask.any()), weights=w)


#: One step waiting for the next check: (step, variance, objective or None, indices or
#: None), detached references only (nothing is computed per step).
PendingStep = tuple[int, Tensor, Tensor | None, Tensor | None]


@dataclass
class Window:
    """Consecutive pending steps with one signature: the variance's shape and which of the
    objective and the indices were given; one window is stacked and reduced at once."""

    steps: list[int]
    variances: list[Tensor]
    objectives: list[Tensor] | None
    indices: list[Tensor] | None


def _signature(item: PendingStep) -> tuple[object, ...]:
    return item[1].shape, item[2] is None, item[3] is None


def windows(pending: list[PendingStep]) -> list[Window]:
    """The pending steps cut into windows of one signature (usually one window)."""
    if not pending:
        return []
    k = len(pending)
    steps, variances, objectives, indices = zip(*pending, strict=True)
    shape = variances[0].shape
    given_o = sum(o is not None for o in objectives)
    given_i = sum(i is not None for i in indices)
    if given_o not in (0, k) or given_i not in (0, k) or not all(v.shape == shape for v in variances):
        return [w for _, group in itertools.groupby(pending, key=_signature) for w in windows(list(group))]
    return [Window(steps=list(steps), variances=list(variances),
                   objectives=list(objectives) if given_o else None,
                   indices=list(indices) if given_i else None)]


@dataclass
class Reduced:
    """What one window of steps showed (see the module docstring).

    Where the smallest variance sits is worked out only when a message names it
    (:meth:`where`): that takes the window's values, which the check holds until it ends.
    """

    min_log_variance: list[float]
    point_log_variance: list[float]
    varying_min: list[float]
    constant_min: list[float] | None
    max_objective: list[float] | None
    non_finite: list[bool]
    pixel_min: np.ndarray
    point_index: np.ndarray | None
    point_values: np.ndarray | None
    pixel_step_min: np.ndarray
    window: Tensor
    constant: np.ndarray

    def where(self, *, include_constant: bool = False) -> tuple[int, int | None, bool]:
        """(pixel, point, whether ``point`` is a training-set index or a batch row) of the
        window's smallest variance on a varying pixel, or on any pixel with ``include_constant``
        (nan skipped)."""
        pm = self.pixel_step_min
        b, d = self.window.shape[1:]
        skipped = np.isnan(pm) if include_constant else self.constant | np.isnan(pm)
        pv = np.where(skipped, np.inf, pm)
        step, pixel = divmod(int(pv.argmin()), d)
        column = self.window[step, :, pixel]
        if column.dtype not in (torch.float32, torch.float64):
            column = column.float()
        values = column.cpu().numpy()
        row = int(np.where(np.isnan(values), np.inf, values).argmin())
        if self.point_index is None:
            return pixel, row, False
        return pixel, int(self.point_index[step * b + row]), True


def host_arrays(parts: list[Tensor]) -> list[np.ndarray]:
    """The parts as float32/float64 numpy arrays: on the CPU, views of the same memory;
    from another device, :func:`gather_to_host`."""
    parts = [p if p.dtype in (torch.float32, torch.float64) else p.float() for p in parts]
    if all(p.device.type == "cpu" for p in parts):
        return [p.numpy() for p in parts]
    return gather_to_host(parts)


def gather_to_host(parts: list[Tensor]) -> list[np.ndarray]:
    """The parts in float64 on the host, in one transfer (one synchronisation with the
    device) however many there are."""
    flat = torch.cat([p.reshape(-1).double() for p in parts]).cpu().numpy()
    out, at = [], 0
    for p in parts:
        out.append(flat[at:at + p.numel()].reshape(tuple(p.shape)))
        at += p.numel()
    return out


def reduce_window(s: Tensor, mask: PixelMask, objective: Tensor | None,
                  index: Tensor | None) -> Reduced:
    """Reduce (K, B, D) log-variances (see the module docstring).

    A nan or an infinity anywhere in a point's row makes that point's mean non-finite
    (a 0 weight times an infinity is nan), so the means also say which steps held
    non-finite values.  nan propagates into the per-step minima, as in ``torch.amin``;
    the minima over varying pixels and the pixel map skip it (an all-nan set gives inf).
    """
    k, b = s.shape[:2]
    if objective is not None and tuple(objective.shape) != (k, b):
        raise InvalidArgumentError("objective", f"must hold one value per point of the batch, "
                                                f"shape ({b},), got {tuple(objective.shape[1:])}")
    pm_t = s.amin(1)  # (K, D): per step, the smallest log-variance of each pixel over the batch
    g_t = s @ mask.weights  # (K, B): per step, each point's mean over the varying pixels
    pm, g, *rest = host_arrays([pm_t, g_t] if objective is None else [pm_t, g_t, objective])
    varying = pm[:, ~mask.constant] if mask.has_constant else pm
    return Reduced(
        min_log_variance=pm.min(1).tolist(), point_log_variance=g.min(1).tolist(),
        varying_min=np.fmin.reduce(varying, axis=1, initial=np.inf).tolist(),
        constant_min=pm[:, mask.constant].min(1).tolist() if mask.has_constant else None,
        max_objective=rest[0].max(1).tolist() if rest else None,
        non_finite=(~np.isfinite(g).all(1)).tolist(),
        pixel_min=np.fmin.reduce(pm, axis=0, initial=np.inf),
        point_index=None if index is None else index.reshape(-1).to("cpu", torch.int64).numpy(),
        point_values=None if index is None else g.reshape(-1).astype(np.float64),
        pixel_step_min=pm, window=s, constant=mask.constant)
