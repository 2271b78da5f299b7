"""The data's own limits, computed once: its noise level and its constant pixels.

The monitor compares the decoder's variance with the finest scale the training data
resolves, the **noise level** v_noise (a variance, units of the data squared):

- data on a grid of step Delta (quantised pixels, or dequantised pixels whose
  quantisation step the user states): v_noise = Delta^2 / 12, the variance of the
  uniform rounding error of a quantiser of step Delta (equivalently of the uniform
  dequantisation noise u Delta, u ~ U(0, 1); Theis, van den Oord & Bethge, ICLR 2016,
  section 3.1; docs/theory.md section 5).  A model whose variance is below it claims to
  know a pixel more finely than the data's own rounding or dequantisation noise;
- data on no grid: each non-constant pixel's distinct training values, sorted, are
  read as the levels of a quantiser whose step is their median gap; v_noise is the
  median over pixels of gap^2 / 12.  On grid data every level present, this is
  Delta^2 / 12 again; on continuous data it is the scale at which the n training values
  of a pixel are told apart, so a variance below it resolves single training points.

Constant pixels (one value across the training set; digits has three: indices 0, 32
and 39) carry no noise at all: a variance may fall there without any memorisation,
along a degenerate direction of the data (docs/theory.md sections 4.3 and 5).  The
monitor reports them apart and leaves them out of the per-point statistics.

Grid detection: the smallest positive gap between distinct values over all pixels is
the candidate step; the data are on its grid when every value is an integer multiple of
it up to float rounding (relative 1e-9 of the values' magnitude).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from vaeproofs.errors import InvalidArgumentError
from vaeproofs.validation import check_positive

__all__ = ["DataLimits", "data_limits"]

#: Relative tolerance of the grid test (float64 rounding of values k * Delta is ~1e-16).
GRID_RTOL = 1e-9


@dataclass(frozen=True)
class DataLimits:
    """What the training data resolve (see the module docstring).

    Attributes:
        noise_variance: v_noise, a variance in the data's units squared.
        source: how it was found (``"stated"``, ``"quantization"``, ``"grid"``, ``"spacing"``).
        quantization: the grid step Delta when known, else None.
        pixel_variance: per-pixel variance of the training data (population, 1/n), shape (D,).
        constant: mask of the pixels constant across the training set, shape (D,).
        shape: the shape of one point (e.g. (8, 8)), for pictures.
    """

    noise_variance: float
    source: str
    quantization: float | None
    pixel_variance: NDArray[np.float64]
    constant: NDArray[np.bool_]
    shape: tuple[int, ...]

    @property
    def dim(self) -> int:
        """D, the number of pixels of one point."""
        return int(self.constant.size)

    def describe(self) -> str:
        """One phrase: the noise level and where it comes from."""
        if self.source == "stated":
            how = "as stated"
        elif self.source == "spacing":
            how = "from the median spacing of each pixel's distinct training values"
        else:
            which = "the stated quantisation step" if self.source == "quantization" else \
                "the grid step found in the data"
            how = f"Delta^2/12 for {which} {self.quantization:.4g}"
        return f"noise level {self.noise_variance:.3g} ({how})"


def _as_matrix(data: object) -> tuple[NDArray[np.float64], tuple[int, ...]]:
    if hasattr(data, "detach"):
        data = data.detach().cpu().numpy()
    try:
        arr = np.asarray(data, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidArgumentError("data", f"must be an array of shape (n, ...), got "
                                           f"{type(data).__name__} ({exc})") from None
    if arr.ndim < 2 or arr.shape[0] < 2 or arr[0].size < 1:
        raise InvalidArgumentError("data", f"must have shape (n, ...) with n >= 2 points, got "
                                           f"shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise InvalidArgumentError("data", "must be finite, got nan or inf values")
    return arr.reshape(arr.shape[0], -1), tuple(arr.shape[1:])


def _grid_step(x: NDArray[np.float64]) -> float | None:
    """The step Delta of a grid holding every value of ``x``, or None."""
    gaps = np.diff(np.sort(x, axis=0), axis=0)
    positive = gaps[gaps > 0]
    if positive.size == 0:
        return None
    step = float(positive.min())
    k = x / step
    tol = GRID_RTOL * max(1.0, float(np.abs(k).max()))
    return step if bool(np.all(np.abs(k - np.round(k)) <= tol)) else None


def _spacing_level(x: NDArray[np.float64], constant: NDArray[np.bool_]) -> float:
    levels = []
    for j in np.flatnonzero(~constant):
        gaps = np.diff(np.unique(x[:, j]))
        levels.append(float(np.median(gaps)) ** 2 / 12.0)
    return float(np.median(levels))


def data_limits(data: object, *, quantization: float | None = None,
                noise_variance: float | None = None, image_shape: tuple[int, ...] | None = None
                ) -> DataLimits:
    """The noise level and constant pixels of the training ``data`` (shape (n, ...)).

    Args:
        data: the training set (numpy array or tensor), n >= 2 points.
        quantization: the grid step Delta of quantised or dequantised data, when known
            (dequantised digits (x + u)/17: Delta = 1/17); v_noise = Delta^2/12.
        noise_variance: v_noise itself, overriding both.
        image_shape: the shape of one point as a picture, when ``data`` is flat (e.g. (8, 8)).

    Raises:
        InvalidArgumentError: data not an (n, ...) finite array with n >= 2; a
            non-positive ``quantization`` or ``noise_variance``.
    """
    x, shape = _as_matrix(data)
    if image_shape is not None:
        image_shape = tuple(int(v) for v in image_shape)
        if math.prod(image_shape) != x.shape[1]:
            raise InvalidArgumentError("image_shape", f"must hold the {x.shape[1]} pixels of a point, "
                                                      f"got {image_shape}")
        shape = image_shape
    constant = np.all(x == x[:1], axis=0)
    pixel_variance = x.var(axis=0)
    if noise_variance is not None:
        v = check_positive("noise_variance", noise_variance)
        return DataLimits(v, "stated", quantization, pixel_variance, constant, shape)
    if quantization is not None:
        delta = check_positive("quantization", quantization)
        return DataLimits(delta**2 / 12.0, "quantization", delta, pixel_variance, constant, shape)
    if bool(constant.all()):
        raise InvalidArgumentError("data", "every pixel is constant across the points: the data "
                                           "resolve no scale; pass noise_variance")
    step = _grid_step(x)
    if step is not None:
        return DataLimits(step**2 / 12.0, "grid", step, pixel_variance, constant, shape)
    return DataLimits(_spacing_level(x, constant), "spacing", None, pixel_variance, constant, shape)
