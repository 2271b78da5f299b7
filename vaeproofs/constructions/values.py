"""Values of a collapse parameter or a bound as mpmath numbers, checked by name.

Accepted: Python and numpy integers and floats, 0-d real numpy arrays, mpf and sympy
reals, and decimal strings (``"1e-1000"``: the way to pass values beyond float64's
range).  Refused with :class:`~vaeproofs.errors.InvalidArgumentError`: bools, complex
numbers, non-numeric strings, other objects.  Range checks belong to the caller.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import mpmath
import numpy as np

from vaeproofs.errors import InvalidArgumentError

__all__ = ["as_mpf", "as_mpf_list"]


def as_mpf(name: str, value: Any) -> mpmath.mpf:
    """``value`` as an mpf, or :class:`InvalidArgumentError` naming ``name``.

    Accepted: Python and numpy integers and floats (``np.int64(3)``, ``np.float32(1)``),
    0-d real numpy arrays, mpf and sympy reals, and decimal strings (``"1e-1000"``: the
    way to pass values beyond float64's range).  Refused: bools (``True`` is not a
    parameter), complex numbers, non-numeric strings and other objects.  Not checked
    here: finiteness and range.
    """
    if isinstance(value, (bool, np.bool_)):
        raise InvalidArgumentError(name, f"must be a real number, got the bool {value!r}")
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value[()]
    if isinstance(value, np.integer):
        value = int(value)
    elif isinstance(value, np.floating):
        value = float(value)
    try:
        return mpmath.mpf(value.strip() if isinstance(value, str) else value)
    except (TypeError, ValueError) as exc:
        raise InvalidArgumentError(name, f"must be a real number (int, float, mpf or a decimal "
                                         f"string), got {value!r:.60}") from exc


def as_mpf_list(values: Any, default: list[mpmath.mpf]) -> list[mpmath.mpf]:
    """Values as a list of mpf (``None`` means ``default``); each as in :func:`as_mpf`.

    Raises :class:`InvalidArgumentError` naming ``values`` for a non-sequence or an
    entry that is not a real number.
    """
    if values is None:
        return list(default)
    if isinstance(values, (str, bytes)) or not isinstance(values, (Sequence, np.ndarray)):
        raise InvalidArgumentError("values", f"must be a sequence of numbers, got "
                                             f"{values!r:.60}")
    return [as_mpf("values", v) for v in values]
