"""What the decoder's variance-like output is, and how it maps to the variance.

Conventions (natural log; the variance is sigma^2, per pixel):

| kind | the output is | variance |
|---|---|---|
| ``logvar`` | log sigma^2 | exp(output) |
| ``var`` | sigma^2 | output |
| ``std`` | sigma (the code may square a signed number) | output^2 |
| ``logstd`` | log sigma | exp(2 output) |
"""

from __future__ import annotations

import torch

from vaeproofs.audit.intervals import Interval
from vaeproofs.errors import InvalidArgumentError

__all__ = ["KIND_WORDS", "VARIANCE_KINDS", "check_kind", "check_kind_against_values", "log_variance",
           "variance", "variance_interval"]

VARIANCE_KINDS: tuple[str, ...] = ("logvar", "var", "std", "logstd")
#: Each kind in words.
KIND_WORDS = {"logvar": "log-variance", "var": "variance", "std": "standard deviation",
              "logstd": "log standard deviation"}


def check_kind(kind: object, argument: str = "variance") -> str:
    """Return ``kind`` if it names a variance kind, else raise InvalidArgumentError."""
    if not isinstance(kind, str) or kind not in VARIANCE_KINDS:
        raise InvalidArgumentError(argument, f"must be one of {', '.join(VARIANCE_KINDS)}, "
                                             f"got {kind!r}")
    return kind


def variance_interval(kind: str, out: Interval) -> Interval:
    """The interval of the variance when the output of kind ``kind`` lies in ``out``.

    A ``var`` output below 0 is not a variance; its floor is then 0 (the infimum over
    the values that are variances).  ``std`` squares: the floor is 0 when ``out`` holds 0.
    """
    if kind == "logvar":
        return out.exp()
    if kind == "var":
        return Interval(max(out.lo, 0.0), max(out.hi, 0.0))
    if kind == "std":
        return out.square()
    return (out * Interval.point(2.0)).exp()


def variance(kind: str, out: torch.Tensor) -> torch.Tensor:
    """The variance sigma^2 from the output ``out`` of kind ``kind`` (elementwise)."""
    if kind == "logvar":
        return torch.exp(out)
    if kind == "var":
        return out
    if kind == "std":
        return out.square()
    return torch.exp(2.0 * out)


def log_variance(kind: str, out: torch.Tensor) -> torch.Tensor:
    """log sigma^2 from the output ``out`` of kind ``kind`` (what the loss checker's API takes)."""
    if kind == "logvar":
        return out
    if kind == "var":
        return torch.log(out)
    if kind == "std":
        return 2.0 * torch.log(torch.abs(out))
    return 2.0 * out


def check_kind_against_values(kind: str, var_like: torch.Tensor, *, argument: str = "variance",
                              source: str = "the variance output") -> None:
    """Refuse a ``var``/``std`` output holding negative numbers (or any output holding nan).

    A variance and a standard deviation are never negative: negative values mean the output is
    something else (a log-variance or a log-std, most often), and reading it as ``kind`` would
    make every probe step nan.
    """
    v = var_like.detach()
    if torch.isnan(v).any():
        raise InvalidArgumentError(argument, f"{source} holds nan values at the model's initial "
                                             "parameters: fix the model before auditing it")
    if kind in ("var", "std") and bool((v < 0).any()):
        lo, hi = float(v.min()), float(v.max())
        looks = ("a log-variance or a log standard deviation (logvar or logstd)" if hi <= 50 else
                 "an unconstrained raw output")
        raise InvalidArgumentError(argument, f"is {kind!r}, but {source} has negative values (from "
                                             f"{lo:.4g} to {hi:.4g}): a {KIND_WORDS[kind]} is never "
                                             f"negative; it looks like {looks}")
