"""The linear-Gaussian VAE in numpy: ELBO, exact marginal, exact posterior, pPCA.

Model (docs/theory.md section 3): p(z) = N(0, I_k), p(x | z) = N(W z + b, sigma2 I_D),
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
    check_memory,
    check_positive,
    check_shape,
    check_spd,
)

__all__ = ["PPCAFit", "elbo", "kl_to_posterior", "log_marginal", "posterior", "ppca_mle"]

_LOG_2PI = math.log(2.0 * math.pi)
_EPS = float(np.finfo(np.float64).eps)
#: Smallest normal float64; sigma2 must be at least this (subnormals lose precision).
_TINY = float(np.finfo(np.float64).tiny)
_MAX = float(np.finfo(np.float64).max)
_BYTES = 8  # float64
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
    s2 = check_positive("sigma2", sigma2)
    if s2 < _TINY:
        raise InvalidArgumentError("sigma2", f"must be >= {_TINY!r} (the smallest normal "
                                             f"float64; subnormal variances lose precision), "
                                             f"got {s2!r}")
    return xa, Wa, ba, s2


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


def _memory(xa: Array, Wa: Array, budget: float | None, what: str, per_row: int = 0) -> None:
    """Refuse before allocating when the float64 temporaries exceed the memory budget.

    Estimate: three (n, D) arrays (x - b, a residual, a product), the SVD of W (three
    (D, k)-sized arrays and a few (k, k)), and ``per_row`` (k, k) arrays per row.
    """
    n, D = xa.shape
    k = Wa.shape[1]
    r = min(D, k)
    n_bytes = _BYTES * (3 * n * D + 3 * D * r + 6 * k * k + n * k * (2 + per_row * k))
    check_memory("x", n_bytes, budget, what=what)


def _svd(Wa: Array) -> tuple[Array, Array, Array]:
    """W = U diag(d) V^T with U (D, r), d (r,), r = min(D, k), and the full V^T (k, k).

    LAPACK's SVD scales internally, so W with entries near 1e300 does not overflow.
    """
    D, k = Wa.shape
    try:
        U, d, Vt = np.linalg.svd(Wa, full_matrices=k > D)
    except np.linalg.LinAlgError as exc:  # LAPACK's iteration failed (not seen in practice)
        raise InvalidArgumentError("W", f"its SVD did not converge: {exc}") from exc
    return U[:, :min(D, k)], d, Vt


def _ratio_error(quantity: str) -> InvalidArgumentError:
    return InvalidArgumentError(
        "sigma2", f"too small for the scale of x, b, W (and m, S): {quantity} overflows "
                  f"float64 (|value| > {_MAX:.3g}); rescale x, b, W by c and sigma2 by c^2 "
                  "(log-densities then shift by -D log c)")


def _check_finite(values: Array, quantity: str) -> Array:
    if not np.all(np.isfinite(values)):
        raise _ratio_error(quantity)
    return values


def elbo(x: ArrayLike, W: ArrayLike, b: ArrayLike, sigma2: float, m: ArrayLike, S: ArrayLike,
         *, memory_budget: float | None = None) -> Array:
    """ELBO of each row of ``x`` under q = N(m_i, S_i) (docs/theory.md section 3)::

        ELBO = -D/2 log(2 pi sigma2) - (||x - W m - b||^2 + tr(W S W^T)) / (2 sigma2)
               - 1/2 (tr S + m^T m - k - log det S)

    The reconstruction term is computed as ||(x - W m - b) / sqrt(sigma2)||^2 and
    tr(S G) (c / sqrt(sigma2))^2 with G = (W/c)^T (W/c), c = max |W|, so that no
    intermediate overflows unless the result itself does.

    Args:
        x: data, shape (n, D).
        W: decoder weights, shape (D, k).
        b: decoder bias, shape (D,).
        sigma2: decoder variance, a normal float64 >= 2.2e-308.
        m: posterior means, shape (n, k).
        S: one posterior covariance (k, k) for every row, or one per row (n, k, k);
            symmetric positive definite.
        memory_budget: bytes (default: see :func:`vaeproofs.validation.memory_budget`).

    Returns:
        the ELBO per row, shape (n,), float64, nats.

    Raises:
        InvalidArgumentError: for bad arguments, an estimated memory use over the
            budget, or a result beyond float64's range (named ``sigma2``, ``m`` or ``S``).
    """
    xa, Wa, ba, s2 = _model(x, W, b, sigma2)
    n, D = xa.shape
    k = Wa.shape[1]
    ma, Sa = _variational(m, S, n, k)
    _memory(xa, Wa, memory_budget, "the ELBO", per_row=1)
    sd = math.sqrt(s2)
    with np.errstate(over="ignore", invalid="ignore"):
        resid = (xa - ma @ Wa.T - ba) / sd
        c = float(np.max(np.abs(Wa)))
        Wc = Wa / c if c > 0 else Wa
        trace_sg = np.clip(np.einsum("njl,jl->n", Sa, Wc.T @ Wc), 0.0, None)
        ratio2 = np.float64(c / sd) ** 2
        trace_term = np.where(trace_sg > 0, trace_sg * ratio2, 0.0)
        recon = _check_finite(np.einsum("nd,nd->n", resid, resid) + trace_term,
                              "the ELBO's reconstruction term (||x - W m - b||^2 + "
                              "tr(W S W^T)) / sigma2")
        expected_loglik = -0.5 * D * (_LOG_2PI + math.log(s2)) - 0.5 * recon
        mm = np.einsum("nj,nj->n", ma, ma)
        if not np.all(np.isfinite(mm)):
            raise InvalidArgumentError("m", f"too large: m^T m overflows float64 (> {_MAX:.3g})")
        kl = 0.5 * (np.trace(Sa, axis1=1, axis2=2) + mm - k - _logdet_spd(Sa))
        if not np.all(np.isfinite(kl)):
            raise InvalidArgumentError("S", f"too large: tr S overflows float64 (> {_MAX:.3g})")
        return _check_finite(expected_loglik - kl, "the ELBO")


def log_marginal(x: ArrayLike, W: ArrayLike, b: ArrayLike, sigma2: float, *,
                 memory_budget: float | None = None) -> Array:
    """Exact log p(x) per row: x ~ N(b, W W^T + sigma2 I) (Tipping & Bishop 1999, eq. 6).

    With the SVD W = U diag(d) V^T (r = min(D, k) singular values), the D x D covariance
    is never formed (memory O(n D + D k)):
    log det C = sum_j log(d_j^2 + sigma2) + (D - r) log sigma2 and
    (x - b)^T C^{-1} (x - b) = sum_j p_j^2 / (d_j^2 + sigma2) + ||e||^2 / sigma2, with
    p = U^T (x - b) and e = (x - b) - U p the part orthogonal to the columns of W (a sum
    of non-negative terms: no cancellation).  Shapes as in :func:`elbo`; returns shape
    (n,), float64, nats.
    """
    xa, Wa, ba, s2 = _model(x, W, b, sigma2)
    D = xa.shape[1]
    _memory(xa, Wa, memory_budget, "the log-marginal")
    sd = math.sqrt(s2)
    U, d, _ = _svd(Wa)
    r = d.size
    with np.errstate(over="ignore", invalid="ignore"):
        centred = xa - ba
        if not np.all(np.isfinite(centred)):
            raise InvalidArgumentError("x", f"x - b overflows float64 (> {_MAX:.3g}); "
                                            "rescale x and b")
        p = centred @ U
        h = np.hypot(d, sd)  # sqrt(d^2 + sigma2) without overflow
        quad = np.einsum("nj,nj->n", p / h, p / h)
        if r < D:
            e = (centred - p @ U.T) / sd
            quad = quad + np.einsum("nd,nd->n", e, e)
        _check_finite(quad, "the quadratic form (x - b)^T (W W^T + sigma2 I)^-1 (x - b)")
        logdet = 2.0 * float(np.log(h).sum()) + (D - r) * math.log(s2)
        return _check_finite(-0.5 * (D * _LOG_2PI + logdet + quad), "log p(x)")


def _posterior_parts(xa: Array, Wa: Array, ba: Array, s2: float
                     ) -> tuple[Array, Array, Array, Array]:
    """Posterior means (n, k), V^T (k, k), t = d / sqrt(sigma2) padded to k, and
    h = sigma2 / (d^2 + sigma2) = 1 / (1 + t^2) (the posterior variances along V)."""
    k = Wa.shape[1]
    sd = math.sqrt(s2)
    U, d, Vt = _svd(Wa)
    r = d.size
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        centred = xa - ba
        if not np.all(np.isfinite(centred)):
            raise InvalidArgumentError("x", f"x - b overflows float64 (> {_MAX:.3g}); "
                                            "rescale x and b")
        # g = d / (d^2 + sigma2), written so that neither d^2 nor d / sd overflows.
        safe = np.where(d > 0, d, 1.0)
        g = np.where(d >= sd, 1.0 / (safe + s2 / safe), d / (d * d + s2))
        means = ((centred @ U) * g) @ Vt[:r]
        t = np.concatenate([d / sd, np.zeros(k - r)])
        h = 1.0 / (1.0 + t * t)
    if float(h.min()) < _TINY or not np.all(np.isfinite(means)):
        log10_ratio = 2.0 * math.log10(float(d.max())) - math.log10(s2)
        raise InvalidArgumentError(
            "sigma2", f"must be at least ||W||_2^2 * {_TINY:.3g} for the posterior "
                      "N(M^-1 W^T (x - b), sigma2 M^-1) to be representable in float64 "
                      f"(here ||W||_2^2 / sigma2 = 10^{log10_ratio:.1f}, above "
                      f"{1.0 / _TINY:.3g}), got {s2!r}; rescale x, b, W by c and sigma2 by c^2")
    return means, Vt, t, h


def posterior(x: ArrayLike, W: ArrayLike, b: ArrayLike, sigma2: float, *,
              memory_budget: float | None = None) -> tuple[Array, Array]:
    """Exact posterior p(z | x) = N(M^{-1} W^T (x - b), sigma2 M^{-1}), M = W^T W + sigma2 I.

    Tipping & Bishop 1999, section 3.2.  Computed from the SVD W = U diag(d) V^T:
    M^{-1} W^T = V diag(d / (d^2 + sigma2)) U^T and sigma2 M^{-1} =
    V diag(sigma2 / (d^2 + sigma2)) V^T, so W with large entries does not overflow.
    Returns ``(means, cov)`` with means of shape (n, k) and the covariance, shared by
    all rows, of shape (k, k).
    """
    xa, Wa, ba, s2 = _model(x, W, b, sigma2)
    _memory(xa, Wa, memory_budget, "the posterior")
    means, Vt, _, h = _posterior_parts(xa, Wa, ba, s2)
    cov = (Vt.T * h) @ Vt
    return means, 0.5 * (cov + cov.T)


def kl_to_posterior(x: ArrayLike, W: ArrayLike, b: ArrayLike, sigma2: float, m: ArrayLike,
                    S: ArrayLike, *, memory_budget: float | None = None) -> Array:
    """KL(N(m_i, S_i) || p(z | x_i)) per row, which equals log p(x_i) - ELBO_i.

    KL(N(m, S) || N(mu, C)) = 1/2 [tr(C^{-1} S) + (mu - m)^T C^{-1} (mu - m) - k
    + log det C - log det S] (standard Gaussian KL).  In the basis V of the SVD of W,
    C^{-1} = V diag(1 + t^2) V^T with t = d / sqrt(sigma2), and
    log det C = -sum log(1 + t^2), so every term is a sum of non-negative parts computed
    without overflow unless the KL itself overflows.  Shapes as in :func:`elbo`.
    """
    xa, Wa, ba, s2 = _model(x, W, b, sigma2)
    n, k = xa.shape[0], Wa.shape[1]
    ma, Sa = _variational(m, S, n, k)
    _memory(xa, Wa, memory_budget, "the KL divergence", per_row=2)
    mu, Vt, t, _ = _posterior_parts(xa, Wa, ba, s2)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        q = np.einsum("jl,nlm,jm->nj", Vt, Sa, Vt)          # diag(V^T S V), >= 0
        w = (mu - ma) @ Vt.T                                 # V^T (mu - m)
        tq = np.where(q > 0, t * np.sqrt(np.clip(q, 0.0, None)), 0.0)
        tw = np.where(w != 0, t * w, 0.0)
        quad = (np.einsum("nj->n", np.clip(q, 0.0, None)) + np.einsum("nj,nj->n", tq, tq)
                + np.einsum("nj,nj->n", w, w) + np.einsum("nj,nj->n", tw, tw))
        _check_finite(quad, "tr(C^-1 S) + (mu - m)^T C^-1 (mu - m), C = sigma2 M^-1,")
        safe = np.where(t > 0, t, 1.0)
        log1p_t2 = np.where(t <= 1.0, np.log1p(t * t),
                            2.0 * np.log(safe) + np.log1p(1.0 / (safe * safe)))
        return _check_finite(0.5 * (quad - k - float(log1p_t2.sum()) - _logdet_spd(Sa)),
                             "the KL divergence")


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


def ppca_mle(X: ArrayLike, k: int, *, memory_budget: float | None = None) -> PPCAFit:
    """Maximum-likelihood pPCA with k latent dimensions for the rows of ``X``.

    Computed from the thin SVD of the centred data (memory O(n D), the D x D covariance
    is never formed): l_j = s_j^2 / n for the singular values s_j, and l_j = 0 for
    j > min(n, D).  Scale-equivariant: X is centred and divided by a scale c (a power
    of two times max |X - mean|), fitted, and the results rescaled: W by c, sigma2 and
    the eigenvalues by c^2, the log-likelihood shifted by -n D log c.

    Rank decision (no maximiser when the covariance has rank <= k): the fit is refused
    when sigma2 / l_1 <= D eps (eps = float64 machine epsilon): eigenvalues that small
    relative to the largest are at the round-off level of a D-dimensional symmetric
    eigenproblem (Golub & Van Loan, Matrix Computations, sec. 8.1) and of float64 data.
    Being relative, the decision does not depend on the scale of X.

    Args:
        X: data, shape (n, D), n >= 2, D >= 2, real and finite.
        k: latent dimension, 1 <= k <= D - 1.
        memory_budget: bytes (default: see :func:`vaeproofs.validation.memory_budget`).

    Raises:
        InvalidArgumentError: for bad shapes or values; for an estimated memory use over
            the budget; for data whose sample covariance has rank <= k: then
            sigma2_ML = 0 and the likelihood is unbounded (sigma2 -> 0 along the ML
            directions), so no maximiser exists; and for data whose variances (sigma2,
            l_1) fall outside the normal float64 range [2.2e-308, 1.8e308].
    """
    Xa = as_float_array("X", X, ndim=2)
    n, D = Xa.shape
    if n < 2 or D < 2:
        raise InvalidArgumentError("X", f"must have shape (n, D) with n >= 2 and D >= 2, "
                                        f"got {Xa.shape}")
    k = check_int_range("k", k, low=1, high=D - 1)
    mn = min(n, D)
    check_memory("X", _BYTES * (3 * n * D + 2 * mn * (n + D) + 6 * mn * mn + 2 * D), memory_budget,
                 what="the pPCA fit (SVD of the centred data)")
    # Exact power-of-two prescaling so that the mean cannot overflow; then centre and
    # scale the spread to max |entry| = 1.
    peak = float(np.max(np.abs(Xa)))
    pre = math.ldexp(1.0, math.frexp(peak)[1]) if peak > 0 else 1.0
    Xs = Xa / pre
    b_s = Xs.mean(axis=0)
    centred = Xs - b_s
    spread = float(np.max(np.abs(centred)))
    if spread == 0.0:
        raise _rank_error(k)
    centred /= spread
    scale = pre * spread  # X - mean = scale * centred
    try:
        _, sv, Vt = np.linalg.svd(centred, full_matrices=False)
    except np.linalg.LinAlgError as exc:  # LAPACK's iteration failed (not seen in practice)
        raise InvalidArgumentError("X", f"the SVD of the centred data did not converge: {exc}"
                                   ) from exc
    lam_s = np.zeros(D)
    lam_s[:mn] = sv * sv / n  # eigenvalues of the scaled 1/n covariance, descending
    sigma2_s = float(lam_s[k:].mean())
    if sigma2_s <= D * _EPS * float(lam_s[0]):
        raise _rank_error(k)
    log_scale = math.log(pre) + math.log(spread)
    with np.errstate(over="ignore", under="ignore"):
        sigma2 = sigma2_s * scale * scale
        lam = lam_s * scale * scale
    if not (_TINY <= sigma2 and math.isfinite(float(lam[0]))):
        raise InvalidArgumentError(
            "X", f"its variances (sigma2_ML = {sigma2_s:.3g} * {scale:.3g}^2, largest "
                 f"eigenvalue {lam_s[0]:.3g} * {scale:.3g}^2) fall outside the normal float64 "
                 f"range [{_TINY:.3g}, {_MAX:.3g}]; rescale X by a constant c (the fit is "
                 "scale-equivariant: W scales by c, sigma2 by c^2, the log-likelihood shifts "
                 "by -n D log c)")
    W = (Vt[:k].T * np.sqrt(np.clip(lam_s[:k] - sigma2_s, 0.0, None))) * scale
    loglik_s = -0.5 * n * (D * _LOG_2PI + float(np.log(lam_s[:k]).sum())
                           + (D - k) * math.log(sigma2_s) + D)
    return PPCAFit(W=W, b=b_s * pre, sigma2=sigma2, loglik=loglik_s - n * D * log_scale,
                   eigenvalues=lam)


def _rank_error(k: int) -> InvalidArgumentError:
    return InvalidArgumentError(
        "X", f"the sample covariance has rank <= k = {k}: sigma2_ML = 0 and the "
             "likelihood is unbounded (no maximiser exists)")
