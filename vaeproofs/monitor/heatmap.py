"""The smallest variance per pixel as a picture: which pixels collapse first.

:func:`variance_heatmap` draws log10 of the smallest variance seen at each pixel of an
image-shaped point (8 x 8 digits are readable), with the pixels below the data's noise
level outlined, and the noise level and static floor on the colour bar.
:func:`model_pixel_variance` computes the same map for a model on data.  The monitor and
the audit's probe keep their own running minimum over steps and draw it with
:func:`variance_heatmap`.  matplotlib is imported only when a figure is drawn.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from vaeproofs.errors import InvalidArgumentError

__all__ = ["model_pixel_variance", "variance_heatmap"]


def variance_heatmap(pixel_variance: np.ndarray, *, noise_variance: float | None = None,
                     floor: float | None = None, shape: tuple[int, int] | None = None,
                     title: str = "smallest decoder variance per pixel", path: str | None = None,
                     ax: Any = None) -> Any:
    """A heat map of log10(variance) per pixel; returns the matplotlib Figure.

    Args:
        pixel_variance: one variance per pixel (sigma^2), image-shaped or flat.
        noise_variance: the data's noise level: pixels below it are outlined in red.
        floor: a static floor, marked on the colour bar.
        shape: (rows, cols) for flat input (default: square when D is a square).
        path: save the figure there (PNG) when given.
        ax: draw into this Axes instead of a new figure.
    """
    arr = np.asarray(pixel_variance, dtype=np.float64)
    if arr.ndim != 2:
        if shape is None:
            side = math.isqrt(arr.size)
            if side * side != arr.size:
                raise InvalidArgumentError("shape", f"is needed for {arr.size} pixels (not a square)")
            shape = (side, side)
        if math.prod(shape) != arr.size:
            raise InvalidArgumentError("shape", f"must hold {arr.size} pixels, got {shape}")
        arr = arr.reshape(shape)
    import matplotlib

    if ax is None:
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    with np.errstate(divide="ignore"):
        logv = np.log10(np.clip(arr, np.finfo(np.float64).tiny, None))
    fig = None
    if ax is None:
        fig, ax = plt.subplots(figsize=(4.6, 4.0), layout="constrained")
    image = ax.imshow(logv, cmap="viridis", interpolation="nearest")
    bar = ax.figure.colorbar(image, ax=ax, label="log10 smallest variance")
    for level, name, colour in ((noise_variance, "noise", "tab:red"), (floor, "floor", "white")):
        if level is not None and level > 0:
            bar.ax.axhline(math.log10(level), color=colour, lw=2)
            bar.ax.text(1.05, math.log10(level), name, transform=bar.ax.get_yaxis_transform(),
                        color=colour, fontsize=7, va="center")
    if noise_variance is not None:
        for r, c in zip(*np.nonzero(arr < noise_variance), strict=True):
            ax.add_patch(Rectangle((c - 0.5, r - 0.5), 1, 1, fill=False, ec="tab:red", lw=1.5))
    ax.set(title=title, xticks=[], yticks=[])
    if path is not None:
        ax.figure.savefig(path, dpi=110)
    if fig is not None:
        plt.close(fig)
    return ax.figure


@torch.no_grad()
def model_pixel_variance(model: nn.Module, data: Any, *, variance: str,
                         forward: Callable[[nn.Module, torch.Tensor], Sequence[torch.Tensor]] | None = None,
                         output: int = 1) -> np.ndarray:
    """The smallest variance per pixel of ``model`` over the points of ``data``.

    ``model(x)`` (or ``forward(model, x)``) returns a tuple whose element ``output`` is
    the variance-like output (``logvar``, ``var``, ``std`` or ``logstd``), as
    :func:`vaeproofs.audit.audit_vae` expects.  Returned flat, one variance per pixel.
    """
    from vaeproofs.monitor.reduce import to_log_variance

    x = torch.as_tensor(np.asarray(data.detach().cpu() if hasattr(data, "detach") else data))
    dtype = next((p.dtype for p in model.parameters() if p.dtype.is_floating_point), torch.float32)
    out = forward(model, x.to(dtype)) if forward is not None else model(x.to(dtype))
    s = to_log_variance(out[output].flatten(1), variance)
    return torch.exp(s.amin(0).double()).cpu().numpy()
