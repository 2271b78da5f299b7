"""The monitor's check: a window of K steps reduced in a few tensor operations, one transfer.

Input: s, the log-variances of K steps, shape (K, B, D) (natural log of sigma^2 per
pixel); the mask of the data's non-constant pixels; optionally the per-point objective
(K, B) and the batch's training-set indices (K, B).  Output (:class:`Reduced`), per
step: the smallest log-variance, the smallest mean log-variance of a point over its
non-constant pixels (the log geometric-mean variance, docs/monitor.md), the smallest
log-variance on varying and on constant pixels, the largest objective, whether any value
was not finite; for the window: the smallest log-variance per pixel, per training point
the smallest mean log-variance, and where the smallest variance sits.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

from vaeproofs.errors import InvalidArgumentError

__all__ = ["Reduced", "reduce_window", "to_log_variance"]


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


@dataclass
class Reduced:
    """What one window of steps showed (see the module docstring)."""

    min_log_variance: list[float]
    point_log_variance: list[float]
    varying_min: list[float]
    constant_min: list[float] | None
    max_objective: list[float] | None
    non_finite: list[bool]
    pixel_min: Tensor
    point_min: dict[int, float]
    where_pixel: int
    where_point: int | None
    where_from_index: bool


def reduce_window(s: Tensor, varying: Tensor | None, objective: Tensor | None,
                  index: Tensor | None) -> Reduced:
    """Reduce (K, B, D) log-variances (see the module docstring).

    Two passes over the K x B x D values: the mean over the pixels (K, B) and the minimum
    over the batch (K, D); everything else works on those.  A nan or an infinity anywhere
    in a row makes that row's mean non-finite, so the means also say which steps held
    non-finite values.
    """
    k, b, d = s.shape
    has_constant = varying is not None and not bool(varying.all())
    pm = s.amin(1)  # (K, D): per step, the smallest log-variance of each pixel over the batch
    if has_constant:
        assert varying is not None
        g = s @ (varying.to(s.dtype) / int(varying.sum()))
        pv = pm.masked_fill(~varying, math.inf)
        cmin: Tensor | None = pm[:, ~varying].amin(1)
    else:
        g = s.mean(-1)
        pv, cmin = pm, None
    pv = torch.nan_to_num(pv, nan=math.inf)
    rows = [pm.amin(1), g.amin(1), pv.amin(1)]
    if cmin is not None:
        rows.append(cmin)
    if objective is not None:
        if objective.shape != (k, b):
            raise InvalidArgumentError("objective", f"must hold one value per point of the batch, "
                                                    f"shape ({b},), got {tuple(objective.shape[1:])}")
        rows.append(objective.amax(1))
    at = pv.reshape(-1).argmin()
    pack = torch.cat([torch.stack([r.double() for r in rows]).flatten(),
                      (~torch.isfinite(g)).any(1).double(), at.double().reshape(1)]).cpu().tolist()
    cols = [pack[i * k:(i + 1) * k] for i in range(len(rows) + 1)]
    step, pixel = divmod(int(pack[-1]), d)
    row = int(torch.nan_to_num(s[step, :, pixel], nan=math.inf).argmin())
    point_min: dict[int, float] = {}
    where_point: int | None = row
    if index is not None:
        idx = index.reshape(-1).long()
        where_point = int(idx[step * b + row])
        size = int(idx.max()) + 1
        best = torch.full((size,), math.inf, dtype=torch.float64, device=g.device)
        best = best.scatter_reduce(0, idx, g.reshape(-1).double(), reduce="amin")
        seen = torch.isfinite(best)
        point_min = dict(zip(torch.nonzero(seen).flatten().tolist(), best[seen].tolist(), strict=True))
    pixel_min = torch.nan_to_num(pm.amin(0), nan=math.inf)
    return Reduced(min_log_variance=cols[0], point_log_variance=cols[1], varying_min=cols[2],
                   constant_min=cols[3] if has_constant else None,
                   max_objective=cols[len(rows) - 1] if objective is not None else None,
                   non_finite=[bool(v) for v in cols[len(rows)]], pixel_min=pixel_min,
                   point_min=point_min, where_pixel=pixel, where_point=where_point,
                   where_from_index=index is not None)
