"""The linear-Gaussian VAE's ELBO in torch float64: closed form and Monte Carlo estimate.

Model (docs/theory.md section 1 and 3): prior p(z) = N(0, I_k); decoder
p(x | z) = N(W z + b, sigma2 I_D) with ``sigma2`` a VARIANCE (> 0); variational
posterior q(z | x) = N(m, S) with ``S`` a full covariance (symmetric positive
definite).  All logarithms are natural; every value is per data point (one entry per
row of ``x``), summed over the D pixels and the k latent coordinates, never averaged.

Closed form (Kingma & Welling 2013, arXiv 1312.6114, appendix B for the KL; the
expectation of the Gaussian log-density under a Gaussian, docs/theory.md section 3)::

    ELBO(x) = -D/2 log(2 pi sigma2) - (||x - W m - b||^2 + tr(W S W^T)) / (2 sigma2)
              - 1/2 (tr S + m^T m - k - log det S)

The Monte Carlo estimate draws reparameterised samples z = m + L eps, eps ~ N(0, I),
L L^T = S (Kingma & Welling 2013, section 2.4), and averages
log p(x | z) + log p(z) - log q(z | x) over them; its standard error is the sample
standard deviation over sqrt(number of samples).

Everything here is float64 on purpose: these functions are the torch side of the
float64 cross-checks against the sympy closed form and the numpy API.  This module does
not import sympy.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from vaeproofs.errors import InvalidArgumentError
from vaeproofs.validation import check_memory, check_real_dtype

__all__ = ["MonteCarloEstimate", "linear_elbo", "linear_elbo_monte_carlo"]

_LOG_2PI = math.log(2.0 * math.pi)
_TINY = float(np.finfo(np.float64).tiny)


@dataclass(frozen=True)
class MonteCarloEstimate:
    """A Monte Carlo estimate per data point.

    Attributes:
        mean: the estimate, shape (n,), float64.
        stderr: its standard error (sample standard deviation / sqrt(num_samples)),
            shape (n,), float64.
        num_samples: the number of reparameterised samples per data point.
    """

    mean: torch.Tensor
    stderr: torch.Tensor
    num_samples: int


def _as_float64(name: str, value: object, ndim: tuple[int, ...]) -> torch.Tensor:
    """A float64 tensor from a real tensor/array/number; complex, bool, string, datetime
    and object inputs are refused by dtype (see :mod:`vaeproofs.validation`)."""
    if isinstance(value, torch.Tensor):
        if value.dtype.is_complex or value.dtype == torch.bool:
            raise InvalidArgumentError(
                name, f"must be a real floating or integer array, got dtype {value.dtype}")
        t = value.to(torch.float64)
    else:
        if isinstance(value, (str, bytes)):
            raise InvalidArgumentError(name, f"must be a real array, got the string {value!r:.60}")
        try:
            raw = np.asarray(value)
        except (TypeError, ValueError, RuntimeError) as exc:
            raise InvalidArgumentError(name, f"must be a real array, got {type(value).__name__}"
                                       ) from exc
        check_real_dtype(name, raw.dtype)
        t = torch.as_tensor(raw.astype(np.float64, copy=False))
    if t.ndim not in ndim:
        want = " or ".join(str(d) for d in ndim)
        raise InvalidArgumentError(name, f"must have {want} dimension(s), got shape "
                                         f"{tuple(t.shape)}")
    if not bool(torch.isfinite(t.detach()).all()):
        raise InvalidArgumentError(name, "must contain only finite values (found NaN or inf)")
    return t


def _checked(x: object, W: object, b: object, sigma2: object, m: object, S: object
             ) -> tuple[torch.Tensor, ...]:
    """Validate and convert the arguments; returns x (n,D), W, b, sigma2 (0-d), m (n,k),
    the Cholesky factor L of S, shape (n,k,k) (S broadcast over rows), and S itself."""
    xt = _as_float64("x", x, (1, 2))
    if xt.ndim == 1:
        xt = xt.unsqueeze(0)
    n, d = xt.shape
    if n < 1 or d < 1:
        raise InvalidArgumentError("x", f"must have at least one row and one column, got "
                                        f"shape {tuple(xt.shape)}")
    Wt = _as_float64("W", W, (2,))
    if Wt.shape[0] != d:
        raise InvalidArgumentError("W", f"must have shape ({d}, k) to match x with D = {d}, "
                                        f"got {tuple(Wt.shape)}")
    k = Wt.shape[1]
    if k < 1:
        raise InvalidArgumentError("W", f"must have at least one latent column, got shape "
                                        f"{tuple(Wt.shape)}")
    bt = _as_float64("b", b, (1,))
    if bt.shape != (d,):
        raise InvalidArgumentError("b", f"must have shape ({d},), got {tuple(bt.shape)}")
    s2 = _as_float64("sigma2", sigma2, (0,))
    if float(s2.detach()) < _TINY:
        raise InvalidArgumentError("sigma2", f"must be >= {_TINY!r} (a variance; the smallest "
                                             f"normal float64), got {float(s2.detach())!r}")
    mt = _as_float64("m", m, (1, 2))
    if mt.ndim == 1:
        mt = mt.unsqueeze(0)
    if mt.shape != (n, k):
        raise InvalidArgumentError("m", f"must have shape ({n}, {k}), got {tuple(mt.shape)}")
    St = _as_float64("S", S, (2, 3))
    if St.shape[-2:] != (k, k) or (St.ndim == 3 and St.shape[0] != n):
        raise InvalidArgumentError("S", f"must have shape ({k}, {k}) or ({n}, {k}, {k}), "
                                        f"got {tuple(St.shape)}")
    St = St.expand(n, k, k)
    scale = max(float(St.detach().abs().max()), 1.0)
    if not torch.allclose(St, St.transpose(-1, -2), rtol=0.0, atol=1e-12 * scale):
        raise InvalidArgumentError("S", "must be symmetric (a covariance matrix)")
    L, info = torch.linalg.cholesky_ex(St)
    if bool((info != 0).any()):
        raise InvalidArgumentError("S", "must be positive definite (a covariance matrix)")
    return xt, Wt, bt, s2, mt, L, St


def linear_elbo(x: object, W: object, b: object, sigma2: object, m: object, S: object
                ) -> torch.Tensor:
    """Closed-form ELBO of the linear-Gaussian VAE, one value per row of ``x``.

    Args:
        x: data, shape (n, D) (or (D,) for one point).
        W: decoder weights, shape (D, k).
        b: decoder bias, shape (D,).
        sigma2: decoder noise VARIANCE, a scalar > 0.
        m: posterior means, shape (n, k) (or (k,)).
        S: posterior covariance, symmetric positive definite, shape (k, k) (shared by
            all rows) or (n, k, k).

    Returns:
        float64 tensor of shape (n,): the ELBO in nats per data point.

    References: docs/theory.md section 3; Kingma & Welling 2013 (arXiv 1312.6114),
    appendix B for KL(N(m, S) || N(0, I)) = 1/2 (tr S + m^T m - k - log det S).
    """
    xt, Wt, bt, s2, mt, L, St = _checked(x, W, b, sigma2, m, S)
    d, k = Wt.shape
    resid = xt - mt @ Wt.T - bt
    # tr(W S W^T) = ||W L||_F^2 with L L^T = S.
    trace_wsw = (Wt @ L).pow(2).sum(dim=(-1, -2))
    expected_loglik = (-0.5 * d * (_LOG_2PI + torch.log(s2))
                       - (resid.pow(2).sum(dim=1) + trace_wsw) / (2.0 * s2))
    logdet_s = 2.0 * torch.log(torch.diagonal(L, dim1=-2, dim2=-1)).sum(dim=1)
    trace_s = torch.diagonal(St, dim1=-2, dim2=-1).sum(dim=1)
    kl = 0.5 * (trace_s + mt.pow(2).sum(dim=1) - k - logdet_s)
    value = expected_loglik - kl
    if not bool(torch.isfinite(value.detach()).all()):
        raise InvalidArgumentError(
            "sigma2", "too small for the scale of x, b, W, m, S: the ELBO overflows float64; "
                      "rescale x, b, W by c and sigma2 by c^2 (the ELBO shifts by -D log c)")
    return value


def linear_elbo_monte_carlo(x: object, W: object, b: object, sigma2: object, m: object,
                            S: object, *, num_samples: int,
                            generator: torch.Generator | None = None,
                            memory_budget: float | None = None) -> MonteCarloEstimate:
    """Reparameterised Monte Carlo estimate of the linear-Gaussian ELBO, per data point.

    Draws ``num_samples`` samples z = m + L eps (eps ~ N(0, I_k), L the Cholesky factor
    of S) per row and averages the single-sample ELBO
    log N(x | W z + b, sigma2 I) + log N(z | 0, I) - log N(z | m, S).  The arguments are
    those of :func:`linear_elbo`; ``num_samples`` must be >= 2 (for a standard error).
    Pass a seeded ``generator`` for reproducible draws.  The (num_samples, n, D) float64
    residuals are checked against the memory budget first (``memory_budget`` in bytes,
    see :func:`vaeproofs.validation.check_memory`).

    Returns:
        :class:`MonteCarloEstimate` with the per-point mean and standard error (float64).
    """
    if isinstance(num_samples, bool) or not isinstance(num_samples, int) or num_samples < 2:
        raise InvalidArgumentError("num_samples", f"must be an integer >= 2, got {num_samples!r}")
    xt, Wt, bt, s2, mt, L, _ = _checked(x, W, b, sigma2, m, S)
    n = xt.shape[0]
    d, k = Wt.shape
    check_memory("num_samples", 8 * 3 * num_samples * n * (d + k), memory_budget,
                 what=f"{num_samples} samples of {n} points in D = {d}")
    eps = torch.randn((num_samples, n, k), dtype=torch.float64, generator=generator)
    z = mt + torch.einsum("nij,snj->sni", L, eps)               # (s, n, k)
    resid = xt - z @ Wt.T - bt                                   # (s, n, D)
    log_lik = -0.5 * d * (_LOG_2PI + torch.log(s2)) - resid.pow(2).sum(-1) / (2.0 * s2)
    log_prior = -0.5 * (k * _LOG_2PI + z.pow(2).sum(-1))
    # log N(z | m, S) with z - m = L eps: the quadratic form is ||eps||^2.
    logdet_s = 2.0 * torch.log(torch.diagonal(L, dim1=-2, dim2=-1)).sum(dim=1)
    log_q = -0.5 * (k * _LOG_2PI + logdet_s + eps.pow(2).sum(-1))
    samples = log_lik + log_prior - log_q                        # (s, n)
    mean = samples.mean(dim=0)
    stderr = samples.std(dim=0, correction=1) / math.sqrt(num_samples)
    return MonteCarloEstimate(mean=mean, stderr=stderr, num_samples=num_samples)
