"""Training and test metrics of a VAE: per-point ELBO, KL, decoder variance, IWAE.

Conventions: natural log, nats **per point** (summed over the D pixels, averaged over
points only where a name says "mean").  Decoder variances are sigma^2 (not sigma),
evaluated at the posterior mean z = m(x).  The importance-weighted estimate of the test
log-likelihood (Burda et al. 2016, eq. 8) is the mean over test points of the
per-point log-mean-exp of K importance weights; its standard error is the sample
standard deviation over test points divided by sqrt(n_test) (it measures the spread
over test points for a fixed model, not the bias of the K-sample bound).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

from vaeproofs.numeric.networks import VAE

__all__ = ["EvalSettings", "evaluate", "mean_and_standard_error"]


@dataclass(frozen=True)
class EvalSettings:
    """How many draws the metrics use, and the seed of their (common) random numbers.

    Every evaluation re-seeds its generator with ``seed``, so metrics at different
    steps share their random numbers and their trend is not blurred by fresh noise.
    """

    elbo_samples: int = 8
    iwae_samples: int = 64
    seed: int = 0
    chunk: int = 256


def mean_and_standard_error(values: Tensor) -> tuple[float, float]:
    """Sample mean and its standard error std / sqrt(n) (std with n - 1; 0 when n = 1).

    The standard deviation is computed on ``values / max |values|`` and scaled back, so
    values of size 1e160 (whose squares overflow float64) still give a finite error.
    """
    n = values.numel()
    mean = float(values.mean())
    if n < 2:
        return mean, 0.0
    scale = values.abs().max()
    if not bool(torch.isfinite(scale)) or float(scale) == 0.0:
        return mean, float(values.std(unbiased=True)) / math.sqrt(n)
    return mean, float(scale) * float((values / scale).std(unbiased=True)) / math.sqrt(n)


def _chunks(x: Tensor, size: int) -> list[Tensor]:
    return list(x.split(size, dim=0))


@torch.no_grad()
def evaluate(model: VAE, x_train: Tensor, x_test: Tensor, settings: EvalSettings,
             constant_mask: Tensor | None = None) -> dict[str, float | None]:
    """The metrics of one logged step (see the module docstring for conventions).

    Keys: ``train_elbo_mean``, ``train_elbo_max`` (per-point ELBO over the training
    set), ``train_rec_mean``, ``kl`` (mean per-point KL on the training set),
    ``min_decoder_variance``, ``median_decoder_variance`` (over training points and
    pixels), ``median_variance_constant_pixels`` and ``median_variance_varying_pixels``
    (split by ``constant_mask``, the pixels constant across the training set; ``None``
    when a group is empty), ``test_elbo``, ``test_iwae``, ``test_iwae_se``; and, only
    for heads whose training objective differs from their log-density (e.g.
    ``gaussian-nll-eps``: the value the loss reports), ``train_objective_mean`` and
    ``train_objective_max`` (per point: the head's objective minus the KL); for a head
    with a variance clamp ``eps``, ``fraction_variance_below_eps`` (over training points
    and pixels: where the reported loss no longer depends on the variance).
    """
    gen = torch.Generator(device=x_train.device).manual_seed(settings.seed)
    rec_parts, kl_parts, var_parts = [], [], []
    for xb in _chunks(x_train, settings.chunk):
        rec, kl = model.elbo_terms(xb, samples=settings.elbo_samples, generator=gen)
        rec_parts.append(rec.mean(0))
        kl_parts.append(kl)
        var_parts.append(model.head.variance(model.decoder_output_at_mean(xb)))
    rec = torch.cat(rec_parts)
    kl = torch.cat(kl_parts)
    elbo = rec - kl
    var = torch.cat(var_parts)
    out: dict[str, float | None] = {
        "train_elbo_mean": float(elbo.mean()),
        "train_elbo_max": float(elbo.max()),
        "train_rec_mean": float(rec.mean()),
        "kl": float(kl.mean()),
        "min_decoder_variance": float(var.min()),
        "median_decoder_variance": float(var.median()),
        "median_variance_constant_pixels": None,
        "median_variance_varying_pixels": None,
    }
    if constant_mask is not None:
        if bool(constant_mask.any()):
            out["median_variance_constant_pixels"] = float(var[:, constant_mask].median())
        if bool((~constant_mask).any()):
            out["median_variance_varying_pixels"] = float(var[:, ~constant_mask].median())
    eps = getattr(model.head, "eps", None)
    if isinstance(eps, float):  # a loss that clamps the variance at eps (gaussian-nll-eps)
        out["fraction_variance_below_eps"] = float((var < eps).to(var.dtype).mean())
    if model.head.distinct_objective:
        objective = torch.cat([model.objective(xb, samples=settings.elbo_samples, generator=gen)
                               for xb in _chunks(x_train, settings.chunk)])
        out["train_objective_mean"] = float(objective.mean())
        out["train_objective_max"] = float(objective.max())
    test_elbo = torch.cat([model.elbo(xb, samples=settings.elbo_samples, generator=gen)
                           for xb in _chunks(x_test, settings.chunk)])
    iwae = torch.cat([model.iwae(xb, samples=settings.iwae_samples, generator=gen)
                      for xb in _chunks(x_test, settings.chunk)])
    out["test_elbo"] = float(test_elbo.mean())
    out["test_iwae"], out["test_iwae_se"] = mean_and_standard_error(iwae)
    return out
