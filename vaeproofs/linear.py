"""The linear-Gaussian VAE in numpy: ELBO, exact marginal, exact posterior, pPCA.

Model (THEORY.md section 3): p(z) = N(0, I_k), p(x | z) = N(W z + b, sigma2 I_D),
q(z | x) = N(m, S).  Conventions: natural log; ``sigma2`` is a variance (> 0); ``S``
is a covariance (symmetric positive definite); every function works in float64 and
is batched over the rows of ``x`` (shape (n, D)), returning one value per row.

The closed forms are those derived symbolically in :mod:`vaeproofs.symbolic.linear`
and :mod:`vaeproofs.symbolic.ppca`, and the tests check this module against them.

References:
    Kingma & Welling, arXiv 1312.6114 (2013), appendix B (Gaussian KL).
    Tipping & Bishop, "Probabilistic principal component analysis", JRSS-B 61(3),
    1999, section 3 (marginal, posterior, maximum-likelihood solution).
    Lucas, Tucker, Grosse & Norouzi, "Don't blame the ELBO!", NeurIPS 2019 (the
    linear VAE attains the pPCA likelihood with a tight ELBO).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from vaeproofs.errors import InvalidArgumentError
from vaeproofs.validation import (
    as_float_array,
    check_int_range,
    check_positive,
    check_shape,
    check_spd,
)

__all__ = ["PPCAFit", "elbo", "kl_to_posterior", "log_marginal", "posterior", "ppca_mle"]

_LOG_2PI = math.log(2.0 * math.pi)
Array = NDArray[np.float64]


def _model(x: ArrayLike, W: ArrayLike, b: ArrayLike, sigma2: float
           ) -> tuple[Array, Array, Array, float]:
    xa = as_float_array("x", x, ndim=2)
    Wa = as_float_array("W", W, ndim=2)
    n, D = xa.shape
    if n < 1 or D < 1:
        raise InvalidArgumentError("x", f"must have at least one row and one column, got {xa.shape}")
    check_shape("W", Wa, (D, None))
    if Wa.shape[1] < 1:
        raise InvalidArgumentError("W", f"must have at least one column (k >= 1), got {Wa.shape}")
    ba = as_float_array("b", b, ndim=1)
    check_shape("b", ba, (D,))
    return xa, Wa, ba, check_positive("sigma2", sigma2)


def _variational(m: ArrayLike, S: ArrayLike, n: int, k: int) -> tuple[Array, Array]:
    ma = as_float_array("m", m, ndim=2)
    check_shape("m", ma, (n, k))
    Sa = as_float_array("S", S, ndim=(2, 3))
    check_shape("S", Sa, (k, k) if Sa.ndim == 2 else (n, k, k))
    check_spd("S", Sa)
    return ma, np.broadcast_to(Sa, (n, k, k))


def _logdet_spd(A: Array) -> Array:
    """log det of (a stack of) SPD matrices via Cholesky (stable)."""
    L = np.linalg.cholesky(A)
    return 2.0 * np.log(np.diagonal(L, axis1=-2, axis2=-1)).sum(axis=-1)


def elbo(x: ArrayLike, W: ArrayLike, b: ArrayLike, sigma2: float, m: ArrayLike, S: ArrayLike
         ) -> Array:
    """ELBO of each row of ``x`` under q = N(m_i, S_i) (THEORY.md section 3)::

        ELBO = -D/2 log(2 pi sigma2) - (||x - W m - b||^2 + tr(W S W^T)) / (2 sigma2)
               - 1/2 (tr S + m^T m - k - log det S)

    Args:
        x: data, shape (n, D).
        W: decoder weights, shape (D, k).
        b: decoder bias, shape (D,).
        sigma2: decoder variance, > 0.
        m: posterior means, shape (n, k).
        S: one posterior covariance (k, k) for every row, or one per row (n, k, k);
            symmetric positive definite.

    Returns:
        the ELBO per row, shape (n,), float64, nats.
    """
    xa, Wa, ba, s2 = _model(x, W, b, sigma2)
    n, D = xa.shape
    k = Wa.shape[1]
    ma, Sa = _variational(m, S, n, k)
    resid = xa - ma @ Wa.T - ba
    trace_wsw = np.einsum("dj,njl,dl->n", Wa, Sa, Wa)
    expected_loglik = -0.5 * D * (_LOG_2PI + math.log(s2)) - (
        np.einsum("nd,nd->n", resid, resid) + trace_wsw) / (2.0 * s2)
    kl = 0.5 * (np.trace(Sa, axis1=1, axis2=2) + np.einsum("nj,nj->n", ma, ma) - k
                - _logdet_spd(Sa))
    return expected_loglik - kl


def log_marginal(x: ArrayLike, W: ArrayLike, b: ArrayLike, sigma2: float) -> Array:
    """Exact log p(x) per row: x ~ N(b, W W^T + sigma2 I) (Tipping & Bishop 1999, eq. 6).

    Computed with a Cholesky factor of the D x D covariance.  Shapes as in :func:`elbo`;
    returns shape (n,), float64, nats.
    """
    xa, Wa, ba, s2 = _model(x, W, b, sigma2)
    D = xa.shape[1]
    L = np.linalg.cholesky(Wa @ Wa.T + s2 * np.eye(D))
    y = np.linalg.solve(L, (xa - ba).T)  # (D, n): L^{-1} (x - b)
    return -0.5 * (D * _LOG_2PI + 2.0 * np.log(np.diag(L)).sum() + np.einsum("dn,dn->n", y, y))


def posterior(x: ArrayLike, W: ArrayLike, b: ArrayLike, sigma2: float) -> tuple[Array, Array]:
    """Exact posterior p(z | x) = N(M^{-1} W^T (x - b), sigma2 M^{-1}), M = W^T W + sigma2 I.

    Tipping & Bishop 1999, section 3.2.  Returns ``(means, cov)`` with means of shape
    (n, k) and the covariance, shared by all rows, of shape (k, k).
    """
    xa, Wa, ba, s2 = _model(x, W, b, sigma2)
    k = Wa.shape[1]
    M = Wa.T @ Wa + s2 * np.eye(k)
    means = np.linalg.solve(M, Wa.T @ (xa - ba).T).T
    cov = s2 * np.linalg.inv(M)
    return means, 0.5 * (cov + cov.T)


def kl_to_posterior(x: ArrayLike, W: ArrayLike, b: ArrayLike, sigma2: float, m: ArrayLike,
                    S: ArrayLike) -> Array:
    """KL(N(m_i, S_i) || p(z | x_i)) per row, which equals log p(x_i) - ELBO_i.

    KL(N(m, S) || N(mu, C)) = 1/2 [tr(C^{-1} S) + (mu - m)^T C^{-1} (mu - m) - k
    + log det C - log det S] (standard Gaussian KL).  Shapes as in :func:`elbo`.
    """
    xa, Wa, ba, s2 = _model(x, W, b, sigma2)
    n, k = xa.shape[0], Wa.shape[1]
    ma, Sa = _variational(m, S, n, k)
    mu, C = posterior(xa, Wa, ba, s2)
    precision = (Wa.T @ Wa + s2 * np.eye(k)) / s2  # C^{-1}
    diff = mu - ma
    return 0.5 * (np.einsum("jl,nlj->n", precision, Sa)
                  + np.einsum("nj,jl,nl->n", diff, precision, diff) - k
                  + _logdet_spd(C) - _logdet_spd(Sa))


@dataclass(frozen=True)
class PPCAFit:
    """Maximum-likelihood probabilistic PCA (Tipping & Bishop 1999, section 3.2).

    Attributes:
        W: (D, k) weights U_k (L_k - sigma2 I)^{1/2} (rotation R = I).
        b: (D,) the data mean.
        sigma2: mean of the D - k smallest sample-covariance eigenvalues (> 0).
        loglik: the maximised log-likelihood, total over the n rows:
            -n/2 [D log 2 pi + sum_{j<=k} log l_j + (D - k) log sigma2 + D].
        eigenvalues: the sample-covariance eigenvalues l_1 >= ... >= l_D (1/n
            normalisation, the maximum-likelihood covariance).
    """

    W: Array
    b: Array
    sigma2: float
    loglik: float
    eigenvalues: Array


def ppca_mle(X: ArrayLike, k: int) -> PPCAFit:
    """Maximum-likelihood pPCA with k latent dimensions for the rows of ``X``.

    Args:
        X: data, shape (n, D), n >= 2, D >= 2.
        k: latent dimension, 1 <= k <= D - 1.

    Raises:
        InvalidArgumentError: for bad shapes or values, and for data whose sample
            covariance has rank <= k: then sigma2_ML = 0 and the likelihood is
            unbounded (sigma2 -> 0 along the ML directions), so no maximiser exists.
    """
    Xa = as_float_array("X", X, ndim=2)
    n, D = Xa.shape
    if n < 2 or D < 2:
        raise InvalidArgumentError("X", f"must have shape (n, D) with n >= 2 and D >= 2, "
                                        f"got {Xa.shape}")
    k = check_int_range("k", k, low=1, high=D - 1)
    b = Xa.mean(axis=0)
    centred = Xa - b
    evals, evecs = np.linalg.eigh(centred.T @ centred / n)
    order = np.argsort(evals)[::-1]
    lam = np.clip(evals[order], 0.0, None)
    U = evecs[:, order]
    sigma2 = float(lam[k:].mean())
    # Eigenvalues at the level of eigh's round-off (D eps l_1) count as zero.
    if sigma2 <= D * np.finfo(np.float64).eps * max(float(lam[0]), np.finfo(np.float64).tiny):
        raise InvalidArgumentError(
            "X", f"the sample covariance has rank <= k = {k}: sigma2_ML = 0 and the "
                 "likelihood is unbounded (no maximiser exists)")
    W = U[:, :k] * np.sqrt(np.clip(lam[:k] - sigma2, 0.0, None))
    loglik = -0.5 * n * (D * _LOG_2PI + float(np.log(lam[:k]).sum())
                         + (D - k) * math.log(sigma2) + D)
    return PPCAFit(W=W, b=b, sigma2=sigma2, loglik=loglik, eigenvalues=lam)
