"""Floating-point limits: where float32 and float64 stop following a collapse sequence.

A Gaussian log-density is computed from a log-variance ``v`` as
``-1/2 [log 2 pi + v + (x - mu)^2 * exp(-v)]`` (the usual decoder head).  Three things
end a float evaluation of a collapsing sequence, and each construction names the one
that bites first:

- **precision overflow**: ``exp(-v) = 1/variance`` exceeds the largest finite float
  (``log(finfo.max)`` = 709.78 for float64, 88.72 for float32); then
  ``0 * inf = nan`` where the mean is exact.
- **tail underflow**: a probability mass such as ``Phi(-sqrt(2 log(1/eps)))`` (about
  ``eps / (2 sqrt(pi log(1/eps)))``) drops below the smallest normal float, so a term
  ``mass * d^2 / eps`` that is O(1) in exact arithmetic is lost.
- **mean resolution**: a mean computed in floating point misses the data by a rounding
  error of order ``u * |x|`` (``u`` the unit roundoff, 2^-53 for float64); divided by
  the variance this costs ``(u |x|)^2 / variance``, O(1) once the variance reaches
  ``(u |x|)^2`` (about 1e-32 in float64, 4e-15 in float32).

The constants come from :func:`numpy.finfo`; this module knows nothing of torch.
"""

from __future__ import annotations

import mpmath
import numpy as np

from vaeproofs.errors import InvalidArgumentError

__all__ = [
    "correct_digits",
    "dtype_info",
    "log_max",
    "relative_error",
    "tail_underflow_epsilon",
    "unit_roundoff",
]


def dtype_info(dtype: str) -> np.finfo:
    """``numpy.finfo`` of ``"float64"`` or ``"float32"``."""
    if dtype not in ("float64", "float32"):
        raise InvalidArgumentError("dtype", f"must be 'float64' or 'float32', got {dtype!r}")
    return np.finfo(np.dtype(dtype))


def log_max(dtype: str) -> mpmath.mpf:
    """``log(finfo.max)``: exp overflows past it (709.78 in float64, 88.72 in float32)."""
    return mpmath.log(mpmath.mpf(float(dtype_info(dtype).max)))


def unit_roundoff(dtype: str) -> mpmath.mpf:
    """The unit roundoff ``u = eps/2`` (2^-53 for float64, 2^-24 for float32)."""
    return mpmath.mpf(float(dtype_info(dtype).eps)) / 2


def tail_underflow_epsilon(dtype: str) -> mpmath.mpf:
    """The epsilon at which ``Phi(-sqrt(2 log(1/epsilon)))`` reaches the smallest normal.

    Solved with mpmath's ``findroot`` on ``log Phi(-sqrt(2 u)) = log(tiny)``, u = log(1/eps).
    """
    log_tiny = mpmath.log(mpmath.mpf(float(dtype_info(dtype).tiny)))
    with mpmath.workdps(30):
        def f(u: mpmath.mpf) -> mpmath.mpf:
            return mpmath.log(mpmath.ncdf(-mpmath.sqrt(2 * u))) - log_tiny
        u = mpmath.findroot(f, -log_tiny)
        return mpmath.exp(-u)


def relative_error(approx: float, exact: mpmath.mpf) -> float:
    """``|approx - exact| / |exact|`` in mpmath, returned as a float."""
    exact = mpmath.mpf(exact)
    return float(abs(mpmath.mpf(approx) - exact) / abs(exact))


def correct_digits(approx: mpmath.mpf | float, exact: mpmath.mpf, *, cap: int = 30) -> int:
    """Number of correct significant decimal digits of ``approx``, capped at ``cap``."""
    exact = mpmath.mpf(exact)
    err = abs(mpmath.mpf(approx) - exact)
    if err == 0:
        return cap
    rel = err / abs(exact) if exact != 0 else err
    return max(0, min(cap, int(mpmath.floor(-mpmath.log10(rel)))))
