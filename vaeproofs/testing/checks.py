"""The entry points: check or assert that a user's loss is a negative (beta-)ELBO."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from vaeproofs.errors import InvalidArgumentError, VaeproofsError
from vaeproofs.testing.arguments import (
    check_data_range,
    check_dim,
    check_dtype,
    check_real,
    check_seed,
    check_shape,
)
from vaeproofs.testing.design import Design, LossFn, draw_bernoulli, draw_gaussian
from vaeproofs.testing.features import BERNOULLI, GAUSSIAN, Likelihood
from vaeproofs.testing.fit import fit_shape
from vaeproofs.testing.report import LossCheckReport, build_report

__all__ = ["NotAnElboError", "assert_bernoulli_vae_loss", "assert_gaussian_vae_loss",
           "check_bernoulli_vae_loss", "check_gaussian_vae_loss"]

#: Least-squares samples per fitted coefficient (over-determination of each fit).
_SAMPLES_PER_FEATURE = 3
#: Most elements B * D of one designed batch (keeps the design's memory < ~100 MB).
_MAX_ELEMENTS = 2 ** 17

Shape = tuple[int, tuple[int, ...], int]
Draw = Callable[[np.random.Generator, int, int, tuple[int, ...], int], Design]


class NotAnElboError(VaeproofsError, AssertionError):
    """Raised by the ``assert_*_vae_loss`` functions; the message is the diagnosis."""


def _plan(lik: Likelihood, data_shape: Any, latent_dim: Any, batch_size: Any
          ) -> list[Shape]:
    """The shapes (B, data shape, K) to try; the first is the reference shape.

    A second batch size is always tried (sum vs mean over the batch); a second D and K
    only when ``data_shape`` / ``latent_dim`` are not given.
    """
    shape = check_shape(data_shape)
    k_ref = check_dim("latent_dim", latent_dim, 10_000)
    b_ref = check_dim("batch_size", batch_size, 10_000)
    b0 = b_ref if b_ref is not None else 5
    elements = b0 * (int(np.prod(shape)) if shape is not None else 7)
    if elements > _MAX_ELEMENTS:
        raise InvalidArgumentError("batch_size", f"batch_size * prod(data_shape) must be <= "
                                                 f"{_MAX_ELEMENTS} (memory of the "
                                                 f"{_n_evaluations(lik)} designed batches), "
                                                 f"got {elements}")
    b1 = 2 if b0 != 2 else 3
    d0 = shape if shape is not None else (4,)
    d1 = (7,) if shape is None else None
    k0 = k_ref if k_ref is not None else 2
    k1 = 3 if k_ref is None else None
    shapes: list[Shape] = [(b0, d0, k0), (b1, d0, k0)]
    if d1 is not None:
        shapes.append((b0, d1, k0))
    if k1 is not None:
        shapes.append((b0, d0, k1))
    if d1 is not None and k1 is not None:
        shapes.append((b1, d1, k1))
    return shapes


def _n_evaluations(lik: Likelihood) -> int:
    return _SAMPLES_PER_FEATURE * len(lik.feature_names) + 1


def _run(loss_fn: LossFn, lik: Likelihood, shapes: list[Shape], dtype: torch.dtype,
         seed: int, draw: Draw) -> LossCheckReport:
    rng = np.random.default_rng(seed)
    n = _n_evaluations(lik)
    designs: list[Design] = [draw(rng, n, b, d, k) for b, d, k in shapes]
    return build_report([fit_shape(loss_fn, des, lik, dtype) for des in designs], lik)


def check_gaussian_vae_loss(loss_fn: LossFn, *, data_shape: int | Sequence[int] | None = None,
                            latent_dim: int | None = None, batch_size: int | None = None,
                            dtype: torch.dtype = torch.float64, seed: int = 0,
                            data_range: tuple[float, float] | str | None = None
                            ) -> LossCheckReport:
    """Decide whether ``loss_fn`` is the negative ELBO of a Gaussian VAE (package docstring).

    Args:
        loss_fn: ``loss_fn(x, mu_x, logvar_x, mu_z, logvar_z) -> scalar``; ``x``, ``mu_x``,
            ``logvar_x`` have shape (B, *data_shape), ``mu_z``, ``logvar_z`` shape (B, K);
            log-variances, natural log.  It must be deterministic.  It may return a scalar
            tensor, a Python float or a numpy scalar.
        data_shape: the shape of one data point your loss expects (e.g. ``(1, 28, 28)``);
            by default flat vectors of two sizes (4 and 7) are tried, which also reveals
            whether beta depends on D.  Pass it to get ``beta`` for your data.
        latent_dim: K your loss expects; by default 2 and 3 are tried.
        batch_size: the reference batch size at which beta etc. are reported (default
            5); a second batch size is always tried to tell sum from mean.
        dtype: the dtype of the tensors passed (float64 or float32).  Inputs are
            float32-representable either way.  The round-off bound is that of the
            precision the loss computes in: float32 when given float32, when it returns
            a float32 value, or when its value is the same on float64 and float32 copies
            of the inputs (it casts inside).
        seed: seed of the designed random inputs.
        data_range: where x and mu_x are drawn: ``None`` (x ~ N(0, 1)), ``"unit"`` (inside
            (0, 1), e.g. for a loss that only accepts image intensities) or ``(lo, hi)``.

    Returns:
        a :class:`LossCheckReport`.

    Raises:
        InvalidArgumentError: for a bad argument of this function.
        LossFunctionError: when ``loss_fn`` raises, returns a non-scalar, a non-number or
            a non-finite value, or is not deterministic.
    """
    if not callable(loss_fn):
        raise InvalidArgumentError("loss_fn", f"must be callable, got {type(loss_fn).__name__}")
    shapes = _plan(GAUSSIAN, data_shape, latent_dim, batch_size)
    dtype = check_dtype(dtype)
    seed = check_seed(seed)
    rng_range = check_data_range(data_range)

    def draw(rng: np.random.Generator, n: int, b: int, d: tuple[int, ...], k: int) -> Design:
        return draw_gaussian(rng, n, b, d, k, rng_range)

    return _run(loss_fn, GAUSSIAN, shapes, dtype, seed, draw)


def check_bernoulli_vae_loss(loss_fn: LossFn, *, parameterization: str = "logits",
                             data_shape: int | Sequence[int] | None = None,
                             latent_dim: int | None = None, batch_size: int | None = None,
                             dtype: torch.dtype = torch.float64, seed: int = 0
                             ) -> LossCheckReport:
    """Decide whether ``loss_fn`` is the negative ELBO of a Bernoulli-decoder VAE.

    The negative ELBO is sum_b [ BCE(x_b, p_b) + beta KL(N(mu_z, exp(logvar_z)) || N(0, I)) ]
    with BCE(x, p) = -sum_d [x_d log p_d + (1 - x_d) log(1 - p_d)] (natural log; Kingma &
    Welling 2013, arXiv 1312.6114, appendix C.1 and appendix B), up to a positive scale and a
    constant, sum or mean over the batch and pixels.  x is drawn in [0, 1] (grey levels;
    binary data are the special case).

    Args:
        loss_fn: ``loss_fn(x, logits, mu_z, logvar_z) -> scalar`` with
            ``parameterization="logits"`` (the decoder's pre-sigmoid output, as for
            ``F.binary_cross_entropy_with_logits``), or ``loss_fn(x, probs, mu_z,
            logvar_z)`` with ``parameterization="probs"`` (p in (0, 1), as for
            ``F.binary_cross_entropy``).  x and the decoder output have shape
            (B, *data_shape); ``mu_z``, ``logvar_z`` shape (B, K), log-variances.
        parameterization: ``"logits"`` (default) or ``"probs"``.
        data_shape: as for :func:`check_gaussian_vae_loss`.
        latent_dim: as for :func:`check_gaussian_vae_loss`.
        batch_size: as for :func:`check_gaussian_vae_loss`.
        dtype: as for :func:`check_gaussian_vae_loss`.
        seed: as for :func:`check_gaussian_vae_loss`.

    Returns:
        a :class:`LossCheckReport` with ``likelihood="bernoulli"`` and coefficients over
        :data:`BERNOULLI_FEATURE_NAMES`; ``fixed_variance`` is always ``None``.
    """
    if not callable(loss_fn):
        raise InvalidArgumentError("loss_fn", f"must be callable, got {type(loss_fn).__name__}")
    if parameterization not in ("logits", "probs"):
        raise InvalidArgumentError("parameterization", f"must be 'logits' or 'probs', got "
                                                       f"{parameterization!r}")
    shapes = _plan(BERNOULLI, data_shape, latent_dim, batch_size)
    dtype = check_dtype(dtype)
    seed = check_seed(seed)

    def draw(rng: np.random.Generator, n: int, b: int, d: tuple[int, ...], k: int) -> Design:
        return draw_bernoulli(rng, n, b, d, k, parameterization)

    return _run(loss_fn, BERNOULLI, shapes, dtype, seed, draw)


def _assert(report: LossCheckReport, beta: float | None, allow_fixed_variance: bool,
            what: str) -> LossCheckReport:
    if not report.is_elbo:
        raise NotAnElboError(f"not a {what} negative ELBO: {report.diagnosis}")
    if report.fixed_variance is not None and not allow_fixed_variance:
        raise NotAnElboError(f"the decoder variance is not learned: {report.diagnosis}")
    if beta is not None:
        if report.beta_depends_on:
            raise NotAnElboError(f"beta is not a constant ({report.diagnosis}); "
                                 f"{report.reduction}")
        if report.fixed_variance is None:
            if abs(report.beta - beta) > report.beta_bound:
                raise NotAnElboError(f"beta = {report.beta:.6g}, expected {beta:.6g}: "
                                     f"{report.diagnosis}")
        elif beta != 1.0:
            raise NotAnElboError(f"a fixed-variance decoder has beta = 1 with s0^2 = "
                                 f"{report.fixed_variance:.6g}; expected beta = {beta}")
    return report


def _check_beta(beta: Any) -> float | None:
    return None if beta is None else check_real("beta", beta, positive=True)


def assert_gaussian_vae_loss(loss_fn: LossFn, *, beta: float | None = None,
                             allow_fixed_variance: bool = True,
                             **check_kwargs: Any) -> LossCheckReport:
    """Raise :class:`NotAnElboError` with the diagnosis unless ``loss_fn`` is a negative ELBO.

    Args:
        loss_fn: as for :func:`check_gaussian_vae_loss`.
        beta: if given (a Python or numpy number > 0), also require this KL weight (e.g.
            ``beta=1.0`` for a plain VAE), to within the round-off bound of the fitted
            weights.  By default any beta > 0 passes: a beta-VAE is not a bug.
        allow_fixed_variance: accept a loss that ignores ``logvar_x`` (a fixed-variance
            decoder); set False when your decoder's variance is meant to be learned.
        **check_kwargs: ``data_shape``, ``latent_dim``, ``batch_size``, ``dtype``, ``seed``,
            ``data_range``.

    Returns:
        the :class:`LossCheckReport`, when the loss passes.
    """
    beta_value = _check_beta(beta)
    report = check_gaussian_vae_loss(loss_fn, **check_kwargs)
    return _assert(report, beta_value, allow_fixed_variance, "Gaussian-VAE")


def assert_bernoulli_vae_loss(loss_fn: LossFn, *, beta: float | None = None,
                              **check_kwargs: Any) -> LossCheckReport:
    """As :func:`assert_gaussian_vae_loss`, for :func:`check_bernoulli_vae_loss`."""
    beta_value = _check_beta(beta)
    report = check_bernoulli_vae_loss(loss_fn, **check_kwargs)
    return _assert(report, beta_value, True, "Bernoulli-VAE")
