"""Argument checks shared by the numeric entry points.

Each check either returns a cleaned value (a float64 array, a float, an int) or
raises :class:`~vaeproofs.errors.InvalidArgumentError` naming the argument and the
valid range.  The checks know nothing of sympy or torch.

What counts as a number: Python ``int`` and ``float``, numpy integer and floating
scalars (``np.int64(3)``, ``np.float32(1)``), 0-d real arrays and other objects with
``__float__`` (``fractions.Fraction``, ``decimal.Decimal``, mpmath and sympy reals).
Refused by name: ``bool`` and ``numpy.bool_`` (``True`` is not a count or a variance),
strings (``'1e-3'``: parse it first), complex numbers and arrays with more than one
element.  Arrays must have a real floating or integer dtype; complex, string, bytes,
datetime, timedelta, object and bool arrays are refused rather than converted.

Memory: :func:`check_memory` compares an estimate of the bytes a computation will
allocate with a budget (default :data:`DEFAULT_MEMORY_BUDGET`, 4 GiB), overridden by the
environment variable ``VAEPROOFS_MEMORY_BUDGET_GB`` (a number of GiB, 2**30 bytes) or by
an explicit ``budget`` (bytes; the public functions expose it as ``memory_budget=``).
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

from vaeproofs.errors import InvalidArgumentError

__all__ = [
    "DEFAULT_MEMORY_BUDGET",
    "GIB",
    "MEMORY_BUDGET_ENV",
    "as_distinct_points",
    "as_float_array",
    "as_real",
    "check_int_range",
    "check_memory",
    "check_positive",
    "check_real_dtype",
    "check_shape",
    "check_spd",
    "memory_budget",
]

#: One gibibyte, 2**30 bytes.
GIB = 2**30
#: The memory budget when neither ``budget`` nor the environment variable is set.
DEFAULT_MEMORY_BUDGET = 4 * GIB
#: Environment variable holding the budget in GiB (a positive number, e.g. ``16`` or ``0.5``).
MEMORY_BUDGET_ENV = "VAEPROOFS_MEMORY_BUDGET_GB"

# dtype kinds accepted as real data: signed/unsigned integers and floating point.
_REAL_KINDS = frozenset("iuf")


def _describe(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def check_real_dtype(name: str, dtype: object) -> None:
    """Require a real floating or integer numpy dtype (refuse complex, bool, str, object...)."""
    dt = np.dtype(dtype)  # type: ignore[call-overload]
    if dt.kind not in _REAL_KINDS:
        raise InvalidArgumentError(
            name, f"must be a real floating or integer array, got dtype {dt}")


def as_float_array(name: str, value: ArrayLike, *, ndim: int | Sequence[int] | None = None
                   ) -> NDArray[np.float64]:
    """Return ``value`` as a finite float64 array with the given number of dimensions.

    The input must have a real floating or integer dtype (see the module docstring);
    float16/float32/integer inputs are converted to float64 (exactly, except integers
    beyond 2**53 which round), long doubles beyond float64's range are refused as
    non-finite.
    """
    if isinstance(value, (str, bytes)):
        raise InvalidArgumentError(name, f"must be a real array, got a string {_describe(value)}")
    try:
        raw = np.asarray(value)
    except (TypeError, ValueError, RuntimeError) as exc:
        raise InvalidArgumentError(name, f"must be a real array, got {type(value).__name__}"
                                   ) from exc
    check_real_dtype(name, raw.dtype)
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if raw.ndim not in allowed:
            want = " or ".join(str(a) for a in allowed)
            raise InvalidArgumentError(
                name, f"must have {want} dimension(s), got shape {raw.shape}")
    with np.errstate(over="ignore"):
        arr = raw.astype(np.float64, copy=False)
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


def as_real(name: str, value: object) -> float:
    """Return ``value`` as a finite Python float; refuse bools, strings, complex, arrays.

    See the module docstring for what counts as a number.
    """
    if isinstance(value, (bool, np.bool_)):
        raise InvalidArgumentError(name, f"must be a real number, got the bool {value!r}")
    if isinstance(value, (str, bytes)):
        raise InvalidArgumentError(name, f"must be a real number, got the string "
                                         f"{_describe(value)}")
    if isinstance(value, (complex, np.complexfloating)):
        raise InvalidArgumentError(name, f"must be a real number, got the complex {value!r}")
    dtype = getattr(value, "dtype", None)
    if dtype is not None:
        text = str(dtype)
        if "bool" in text or "complex" in text:
            raise InvalidArgumentError(name, f"must be a real number, got dtype {text}")
        if getattr(value, "ndim", 0) != 0:
            raise InvalidArgumentError(name, f"must be a scalar, got an array of shape "
                                             f"{tuple(value.shape)}")  # type: ignore[attr-defined]
        if isinstance(value, np.ndarray | np.generic):
            check_real_dtype(name, value.dtype)
    try:
        v = float(value)  # type: ignore[arg-type]
    except OverflowError as exc:
        raise InvalidArgumentError(name, f"must be finite, got {_describe(value)} "
                                         "(beyond float64's range)") from exc
    except (TypeError, ValueError) as exc:
        raise InvalidArgumentError(name, f"must be a real number, got {_describe(value)}"
                                   ) from exc
    if not math.isfinite(v):
        raise InvalidArgumentError(name, f"must be finite, got {v}")
    return v


def check_positive(name: str, value: float, *, strict: bool = True) -> float:
    """Return ``value`` as a float, requiring it to be finite and > 0 (or >= 0).

    Numbers are as in :func:`as_real` (numpy scalars accepted; bools and strings refused).
    """
    v = as_real(name, value)
    if (strict and v <= 0) or (not strict and v < 0):
        raise InvalidArgumentError(name, f"must be {'>' if strict else '>='} 0, got {v}")
    return v


def check_int_range(name: str, value: int, *, low: int, high: int) -> int:
    """Return ``value`` as an int, requiring ``low <= value <= high``.

    Python and numpy integers are accepted; bools, floats (even ``3.0``) and strings are not.
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise InvalidArgumentError(name, f"must be an integer, got {_describe(value)}")
    v = int(value)
    if not low <= v <= high:
        raise InvalidArgumentError(name, f"must be in [{low}, {high}], got {v}")
    return v


def check_spd(name: str, mat: NDArray[np.float64]) -> None:
    """Require a (stack of) symmetric positive definite matrices in the last two axes.

    Symmetry is checked to a relative tolerance of 1e-12 (round-off of float64
    products); positive definiteness by a Cholesky factorisation.
    """
    if mat.ndim < 2 or mat.shape[-1] != mat.shape[-2] or mat.shape[-1] < 1:
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


def _format_bytes(n_bytes: float) -> str:
    for unit, size in (("TiB", 2**40), ("GiB", GIB), ("MiB", 2**20), ("KiB", 2**10)):
        if n_bytes >= size:
            return f"{n_bytes / size:.3g} {unit}"
    return f"{n_bytes:.0f} B"


def memory_budget(budget: float | None = None) -> float:
    """The memory budget in bytes: ``budget`` if given, else the environment, else 4 GiB.

    ``budget`` is in bytes (e.g. ``16 * GIB``); the environment variable
    ``VAEPROOFS_MEMORY_BUDGET_GB`` is in GiB.  Either must be a positive finite number.
    """
    if budget is not None:
        return check_positive("memory_budget", budget)
    text = os.environ.get(MEMORY_BUDGET_ENV)
    if text is None or not text.strip():
        return float(DEFAULT_MEMORY_BUDGET)
    try:
        gib = float(text)
    except ValueError:
        gib = math.nan
    if not (math.isfinite(gib) and gib > 0):
        raise InvalidArgumentError(MEMORY_BUDGET_ENV, f"must be a positive number of GiB, "
                                                      f"got {text!r}")
    return gib * GIB


def check_memory(argument: str, n_bytes: float, budget: float | None = None, *,
                 what: str = "this computation") -> None:
    """Refuse, naming ``argument``, when an estimated ``n_bytes`` exceeds the memory budget.

    Call it before allocating, with an estimate of the peak extra memory (arrays created,
    not the inputs already held).  ``budget`` in bytes; ``None`` means
    :func:`memory_budget` (environment variable ``VAEPROOFS_MEMORY_BUDGET_GB`` in GiB,
    else 4 GiB).  ``what`` names the computation in the message.

    Raises:
        InvalidArgumentError: ``"<argument>: needs about 298 GiB for <what>, over the
            memory budget of 4 GiB (raise it with memory_budget=... or the environment
            variable VAEPROOFS_MEMORY_BUDGET_GB)"``.
    """
    limit = memory_budget(budget)
    if not n_bytes <= limit:  # also refuses a NaN estimate
        raise InvalidArgumentError(
            argument, f"needs about {_format_bytes(n_bytes)} for {what}, over the memory "
                      f"budget of {_format_bytes(limit)} (raise it with memory_budget=<bytes> "
                      f"or the environment variable {MEMORY_BUDGET_ENV}=<GiB>)")
