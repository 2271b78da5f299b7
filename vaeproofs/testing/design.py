"""Designed inputs, and calling the user's loss on them.

Each evaluation draws its own levels (error scale, mean log-variances or logits, latent
mean scale), so that sums over many elements do not concentrate and the fitted term
columns stay linearly independent.  All values are bounded (|log-variance| <= 2.5,
|logit| <= 6) and float32-representable, so a cast to float32 is exact.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray

from vaeproofs.errors import VaeproofsError

__all__ = ["Design", "Evaluation", "LossFunctionError", "draw_bernoulli", "draw_gaussian",
           "evaluate"]

LossFn = Callable[..., Any]


class LossFunctionError(VaeproofsError):
    """The user's loss function raised, returned a non-scalar, a non-number, a non-finite
    value, or gave different values on the same inputs."""


@dataclass(frozen=True)
class Design:
    """``n`` evaluations at batch size B, data shape and latent dimension K.

    ``arrays`` holds (n, B, D) data-side and (n, B, K) latent-side float64 arrays, named as
    in :mod:`vaeproofs.testing.features`; ``args`` names those passed to the loss, in order.
    """

    batch_size: int
    data_shape: tuple[int, ...]
    latent_dim: int
    arrays: Mapping[str, NDArray[np.float64]]
    args: tuple[str, ...]

    @property
    def n(self) -> int:
        return int(self.arrays["x"].shape[0])

    @property
    def data_dim(self) -> int:
        return int(np.prod(self.data_shape))


def _f32(a: NDArray[np.float64]) -> NDArray[np.float64]:
    """Round to float32-representable values so that a user's cast to float32 is exact."""
    return a.astype(np.float32).astype(np.float64)


def _sigmoid(a: NDArray[np.float64]) -> NDArray[np.float64]:
    return 0.5 * (1.0 + np.tanh(0.5 * a))


def _latents(rng: np.random.Generator, n: int, b: int, k: int
             ) -> dict[str, NDArray[np.float64]]:
    mu_scale = np.exp(rng.uniform(-1.0, 1.0, size=(n, 1, 1)))
    mu_z = mu_scale * rng.normal(size=(n, b, k))
    logvar_z = rng.uniform(-1.5, 1.5, size=(n, 1, 1)) + rng.uniform(-1.0, 1.0, size=(n, b, k))
    return {"mu_z": _f32(mu_z), "logvar_z": _f32(logvar_z)}


def draw_gaussian(rng: np.random.Generator, n: int, b: int, data_shape: tuple[int, ...],
                  k: int, data_range: tuple[float, float] | None) -> Design:
    """Inputs of ``loss_fn(x, mu_x, logvar_x, mu_z, logvar_z)``.

    Without ``data_range``, x ~ N(0, 1) and mu_x = x - (error scale) N(0, 1).  With
    ``data_range = (lo, hi)``, x and mu_x are lo + (hi - lo) sigmoid(a) with a bounded, so
    both lie strictly inside the range (for losses that need, e.g., x, mu_x in (0, 1)).
    """
    d = int(np.prod(data_shape))
    err_scale = np.exp(rng.uniform(-1.0, 1.0, size=(n, 1, 1)))
    if data_range is None:
        x = rng.normal(size=(n, b, d))
        mu_x = x - err_scale * rng.normal(size=(n, b, d))
    else:
        lo, hi = data_range
        a = np.clip(1.5 * rng.normal(size=(n, b, d)), -5.0, 5.0)
        a_mu = np.clip(a - err_scale * rng.normal(size=(n, b, d)), -6.0, 6.0)
        x = lo + (hi - lo) * _sigmoid(a)
        mu_x = lo + (hi - lo) * _sigmoid(a_mu)
        x, mu_x = _f32(x), _f32(mu_x)
        if not (np.all((x > lo) & (x < hi)) and np.all((mu_x > lo) & (mu_x < hi))):
            # Only a range narrower than float32 resolution gets here.
            raise VaeproofsError(f"data_range {data_range} is too narrow for float32 inputs")
    logvar_x = rng.uniform(-1.5, 1.5, size=(n, 1, 1)) + rng.uniform(-1.0, 1.0, size=(n, b, d))
    arrays = {"x": _f32(x), "mu_x": _f32(mu_x), "logvar_x": _f32(logvar_x),
              **_latents(rng, n, b, k)}
    return Design(b, data_shape, k, arrays, ("x", "mu_x", "logvar_x", "mu_z", "logvar_z"))


def draw_bernoulli(rng: np.random.Generator, n: int, b: int, data_shape: tuple[int, ...],
                   k: int, parameterization: str) -> Design:
    """Inputs of ``loss_fn(x, logits, mu_z, logvar_z)`` or ``loss_fn(x, probs, mu_z, logvar_z)``.

    x ~ U(0, 1) (grey levels; binary data are the special case x in {0, 1}); logits with a
    per-evaluation level and spread, |logit| <= 6.  The passed array (logits or probs) is
    the float32-representable one; -log p and -log(1 - p) are computed from it in float64.
    """
    d = int(np.prod(data_shape))
    x = _f32(rng.uniform(0.0, 1.0, size=(n, b, d)))
    level = rng.uniform(-2.0, 2.0, size=(n, 1, 1))
    spread = np.exp(rng.uniform(-1.0, 0.5, size=(n, 1, 1)))
    logits = np.clip(level + spread * rng.normal(size=(n, b, d)), -6.0, 6.0)
    if parameterization == "logits":
        logits = _f32(logits)
        p = _sigmoid(logits)
        nlp, nl1mp = np.logaddexp(0.0, -logits), np.logaddexp(0.0, logits)
    else:
        p = _f32(_sigmoid(logits))
        nlp, nl1mp = -np.log(p), -np.log1p(-p)
        logits = np.log(p) - np.log1p(-p)
    arrays = {"x": x, "logits": logits, "probs": p, "p": p, "nlp": nlp, "nl1mp": nl1mp,
              **_latents(rng, n, b, k)}
    return Design(b, data_shape, k, arrays, ("x", parameterization, "mu_z", "logvar_z"))


@dataclass(frozen=True)
class Evaluation:
    """One value of the user's loss and the unit round-off of the precision it came in."""

    value: float
    unit_roundoff: float


_LATENT = ("mu_z", "logvar_z")


def _unit_roundoff(dtype: torch.dtype) -> float:
    return float(torch.finfo(dtype).eps) / 2.0


def evaluate(loss_fn: LossFn, des: Design, i: int, dtype: torch.dtype) -> Evaluation:
    """Call ``loss_fn`` on evaluation ``i`` of the design with tensors of ``dtype``.

    Accepts a scalar tensor (any floating dtype), a Python float or int, a numpy scalar or a
    one-element numpy array.  The unit round-off is that of the coarser of ``dtype`` and the
    returned value's dtype (a Python float counts as float64).
    """
    b = des.batch_size
    tensors = [torch.tensor(des.arrays[nm][i] if nm in _LATENT
                            else des.arrays[nm][i].reshape(b, *des.data_shape), dtype=dtype)
               for nm in des.args]
    shapes = ", ".join(f"{nm} of shape {tuple(t.shape)}" for nm, t in zip(des.args, tensors,
                                                                          strict=True))
    shapes += f", dtype {dtype}"
    try:
        with torch.no_grad():
            out = loss_fn(*tensors)
    except Exception as exc:  # the user's code may raise anything; report it as such
        raise LossFunctionError(
            f"loss_fn raised {type(exc).__name__}: {exc} (called with {shapes})") from exc
    u = _unit_roundoff(dtype)
    if isinstance(out, np.ndarray) and out.size == 1:
        out = out.reshape(())[()]
    if isinstance(out, torch.Tensor):
        if out.numel() != 1:
            raise LossFunctionError(
                f"loss_fn must return a scalar, got a tensor of shape {tuple(out.shape)} "
                f"(called with {shapes}); reduce over the batch with .sum() or .mean()")
        if not out.dtype.is_floating_point:
            raise LossFunctionError(f"loss_fn returned a tensor of dtype {out.dtype}, "
                                    f"expected a floating-point scalar")
        u = max(u, _unit_roundoff(out.dtype))
        value = float(out.detach().reshape(()).to(torch.float64))
    elif isinstance(out, (float, int, np.floating, np.integer)) and not isinstance(
            out, (bool, np.bool_)):
        if isinstance(out, np.floating):
            u = max(u, float(np.finfo(out.dtype).eps) / 2.0)
        value = float(out)
    else:
        raise LossFunctionError(
            f"loss_fn must return a scalar tensor or number, got {type(out).__name__} "
            f"(called with {shapes})")
    if not math.isfinite(value):
        raise LossFunctionError(f"loss_fn returned a non-finite value {value} on bounded "
                                f"inputs (called with {shapes})")
    return Evaluation(value, u)


def computed_in_float32(loss_fn: LossFn, des: Design) -> bool:
    """Whether the loss computes in float32 (or coarser) although given float64 inputs.

    The inputs are float32-representable, so a loss whose arithmetic follows its inputs'
    dtype gives different values on float64 and on float32 copies of them (round-off),
    while a loss that casts to a fixed precision inside gives the same value on both.
    Equal values are read as "possibly float32 inside" (the looser bound; a loss that casts
    to float64 inside is then judged a little leniently).  A loss that refuses float32
    inputs is taken to follow its inputs' dtype.
    """
    v64 = evaluate(loss_fn, des, 0, torch.float64)
    try:
        v32 = evaluate(loss_fn, des, 0, torch.float32)
    except LossFunctionError:
        return False
    return v64.value == v32.value
