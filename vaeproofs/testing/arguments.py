"""Argument checks of the loss checker's entry points.

Numbers may be Python or numpy scalars (``np.float32(1)``, ``np.int64(5)``); booleans and
strings are refused by name with :class:`~vaeproofs.errors.InvalidArgumentError`.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from vaeproofs.errors import InvalidArgumentError

__all__ = ["check_data_range", "check_dim", "check_dtype", "check_real", "check_seed",
           "check_shape"]

#: Most elements of one data point.
MAX_DATA_ELEMENTS = 100_000


def _is_integer(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def check_real(name: str, value: Any, *, positive: bool = False) -> float:
    """A finite real number (Python or numpy scalar), > 0 when ``positive``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise InvalidArgumentError(name, f"must be a finite number{' > 0' if positive else ''},"
                                         f" got {value!r} ({type(value).__name__})")
    v = float(value)
    if not math.isfinite(v) or (positive and v <= 0.0):
        raise InvalidArgumentError(name, f"must be a finite number{' > 0' if positive else ''},"
                                         f" got {v!r}")
    return v


def check_shape(data_shape: int | Sequence[int] | None) -> tuple[int, ...] | None:
    """A positive int or a non-empty tuple of positive ints (<= 100000 elements)."""
    if data_shape is None:
        return None
    shape = (data_shape,) if _is_integer(data_shape) else (
        tuple(data_shape) if isinstance(data_shape, (tuple, list)) else ())
    if not shape or any(not _is_integer(s) or s < 1 for s in shape):
        raise InvalidArgumentError("data_shape", f"must be a positive int or a tuple of "
                                                 f"positive ints, got {data_shape!r}")
    if int(np.prod(shape)) > MAX_DATA_ELEMENTS:
        raise InvalidArgumentError("data_shape", f"must have at most {MAX_DATA_ELEMENTS} "
                                                 f"elements, got {int(np.prod(shape))}")
    return tuple(int(s) for s in shape)


def check_dim(name: str, value: int | None, high: int) -> int | None:
    """None or an integer in [1, high]."""
    if value is None:
        return None
    if not _is_integer(value) or not 1 <= value <= high:
        raise InvalidArgumentError(name, f"must be an integer in [1, {high}], got {value!r}")
    return int(value)


def check_dtype(dtype: Any) -> torch.dtype:
    if dtype not in (torch.float64, torch.float32):
        raise InvalidArgumentError("dtype", f"must be torch.float64 or torch.float32, "
                                            f"got {dtype}")
    return dtype


def check_seed(seed: Any) -> int:
    if not _is_integer(seed) or seed < 0:
        raise InvalidArgumentError("seed", f"must be a non-negative integer, got {seed!r}")
    return int(seed)


def check_data_range(data_range: Any) -> tuple[float, float] | None:
    """None (x ~ N(0, 1)), ``"unit"`` (= (0, 1)) or (lo, hi) with finite lo < hi."""
    if data_range is None:
        return None
    if isinstance(data_range, str):
        if data_range == "unit":
            return (0.0, 1.0)
        raise InvalidArgumentError("data_range", f"must be None, 'unit' or a pair (lo, hi) "
                                                 f"with lo < hi, got {data_range!r}")
    if not isinstance(data_range, (tuple, list)) or len(data_range) != 2:
        raise InvalidArgumentError("data_range", f"must be None, 'unit' or a pair (lo, hi) "
                                                 f"with lo < hi, got {data_range!r}")
    lo = check_real("data_range", data_range[0])
    hi = check_real("data_range", data_range[1])
    if not lo < hi or not (hi - lo) > 1e-3 * max(1.0, abs(lo), abs(hi)):
        raise InvalidArgumentError("data_range", f"must have lo < hi, wider than float32 "
                                                 f"resolution allows, got ({lo}, {hi})")
    return (lo, hi)
