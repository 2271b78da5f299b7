"""Argument checks shared by the numeric entry points.

Each check either returns a cleaned value (a float64 array, a float, an int) or
raises :class:`~vaeproofs.errors.InvalidArgumentError` naming the argument and the
valid range.  The checks know nothing of sympy or torch.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

from vaeproofs.errors import InvalidArgumentError

__all__ = [
    "as_distinct_points",
    "as_float_array",
    "check_int_range",
    "check_positive",
    "check_shape",
    "check_spd",
]


def as_float_array(name: str, value: ArrayLike, *, ndim: int | Sequence[int] | None = None
                   ) -> NDArray[np.float64]:
    """Return ``value`` as a finite float64 array with the given number of dimensions."""
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidArgumentError(name, f"must be a real array, got {type(value).__name__}"
                                   ) from exc
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if arr.ndim not in allowed:
            want = " or ".join(str(a) for a in allowed)
            raise InvalidArgumentError(
                name, f"must have {want} dimension(s), got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise InvalidArgumentError(name, "must contain only finite values (found NaN or inf)")
    return arr


def check_shape(name: str, arr: NDArray[np.float64], shape: tuple[int | None, ...]) -> None:
    """Require ``arr.shape`` to match ``shape``, where ``None`` matches any length."""
    ok = arr.ndim == len(shape) and all(
        want is None or got == want for got, want in zip(arr.shape, shape, strict=True))
    if not ok:
        pretty = "(" + ", ".join("*" if s is None else str(s) for s in shape) + ")"
        raise InvalidArgumentError(name, f"must have shape {pretty}, got {arr.shape}")


def check_positive(name: str, value: float, *, strict: bool = True) -> float:
    """Return ``value`` as a float, requiring it to be finite and > 0 (or >= 0)."""
    try:
        v = float(value)
    except (TypeError, ValueError) as exc:
        raise InvalidArgumentError(name, f"must be a real number, got {value!r}") from exc
    if not math.isfinite(v):
        raise InvalidArgumentError(name, f"must be finite, got {v}")
    if (strict and v <= 0) or (not strict and v < 0):
        raise InvalidArgumentError(name, f"must be {'>' if strict else '>='} 0, got {v}")
    return v


def check_int_range(name: str, value: int, *, low: int, high: int) -> int:
    """Return ``value`` as an int, requiring ``low <= value <= high``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise InvalidArgumentError(name, f"must be an integer, got {value!r}")
    v = int(value)
    if not low <= v <= high:
        raise InvalidArgumentError(name, f"must be in [{low}, {high}], got {v}")
    return v


def check_spd(name: str, mat: NDArray[np.float64]) -> None:
    """Require a (stack of) symmetric positive definite matrices in the last two axes.

    Symmetry is checked to a relative tolerance of 1e-12 (round-off of float64
    products); positive definiteness by a Cholesky factorisation.
    """
    if mat.ndim < 2 or mat.shape[-1] != mat.shape[-2]:
        raise InvalidArgumentError(name, f"must be square in its last two axes, got {mat.shape}")
    scale = max(float(np.max(np.abs(mat))), 1.0)
    if not np.allclose(mat, np.swapaxes(mat, -1, -2), rtol=0.0, atol=1e-12 * scale):
        raise InvalidArgumentError(name, "must be symmetric")
    try:
        np.linalg.cholesky(mat)
    except np.linalg.LinAlgError as exc:
        raise InvalidArgumentError(name, "must be positive definite") from exc


def as_distinct_points(name: str, value: ArrayLike, *, min_points: int = 1) -> NDArray[np.float64]:
    """Return ``value`` as a finite float64 (n, D) array of distinct rows, n >= ``min_points``."""
    arr = as_float_array(name, value, ndim=2)
    if arr.shape[0] < min_points or arr.shape[1] < 1:
        raise InvalidArgumentError(name, f"must have shape (n >= {min_points}, D >= 1), "
                                         f"got {arr.shape}")
    if len({tuple(row) for row in arr}) != arr.shape[0]:
        raise InvalidArgumentError(name, "must be distinct points (two rows are equal)")
    return arr
