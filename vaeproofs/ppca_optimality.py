"""Numeric check that pPCA's maximum is the linear-Gaussian VAE's best ELBO (full-rank data).

For data whose sample covariance has rank > k, probabilistic PCA (Tipping & Bishop
1999, JRSS-B 61(3), section 3) has a finite maximum L_max with sigma^2_ML > 0, and the
linear VAE with the exact posterior attains it with a tight ELBO (Lucas, Tucker,
Grosse & Norouzi, NeurIPS 2019).  :func:`ppca_optimality` computes, in float64, the
ELBO at the pPCA solution and the best ELBO over random parameter sets (each with its
exact posterior, so each ELBO equals that model's log-likelihood), and says whether
neither exceeds L_max.  Totals over the n points, natural log.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

import numpy as np

from vaeproofs import linear
from vaeproofs.validation import check_int_range

__all__ = ["PpcaOptimality", "WidePlateau", "ppca_optimality", "wide_plateau"]


@dataclass(frozen=True)
class PpcaOptimality:
    """The result of :func:`ppca_optimality` (totals over the n points, nats)."""

    n: int
    dim: int
    k: int
    draws: int
    sigma2_ml: float
    loglik: float
    elbo_at_mle: float
    best_random: float
    tolerance: float

    @property
    def attained(self) -> bool:
        """The ELBO at the pPCA solution equals L_max (tight) within the round-off tolerance."""
        return abs(self.elbo_at_mle - self.loglik) <= self.tolerance

    @property
    def never_exceeded(self) -> bool:
        """No random parameter set's ELBO exceeds L_max beyond the tolerance."""
        return self.best_random <= self.loglik + self.tolerance

    @property
    def holds(self) -> bool:
        """Finite L_max with sigma^2_ML > 0, attained, and never exceeded."""
        return bool(np.isfinite(self.loglik) and self.sigma2_ml > 0 and self.attained
                    and self.never_exceeded)


def ppca_optimality(*, n: int = 60, dim: int = 5, k: int = 2, draws: int = 200, seed: int = 0
                    ) -> PpcaOptimality:
    """Fit pPCA to random full-rank data and compare with ``draws`` random linear VAEs.

    The tolerance is a relative 1e-10 of |L_max|: both sides are float64 sums over n rows
    of terms of size ~|L_max|/n, whose round-off is below n * 1e-16 relative, far below it.
    """
    dim = check_int_range("dim", dim, low=2, high=10_000)
    k = check_int_range("k", k, low=1, high=dim - 1)
    n = check_int_range("n", n, low=dim + 1, high=sys.maxsize)
    draws = check_int_range("draws", draws, low=1, high=10**7)
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, dim)) @ rng.normal(size=(dim, dim))
    fit = linear.ppca_mle(x, k)
    best = -np.inf
    for _ in range(draws):
        w = rng.normal(size=(dim, k)) * rng.uniform(0.1, 3.0)
        b = x.mean(axis=0) + rng.normal(size=dim) * 0.1
        sigma2 = float(np.exp(rng.uniform(-6.0, 3.0)))
        m, cov = linear.posterior(x, w, b, sigma2)
        best = max(best, float(linear.elbo(x, w, b, sigma2, m, cov).sum()))
    m, cov = linear.posterior(x, fit.W, fit.b, fit.sigma2)
    elbo_at_mle = float(linear.elbo(x, fit.W, fit.b, fit.sigma2, m, cov).sum())
    return PpcaOptimality(n=n, dim=dim, k=k, draws=draws, sigma2_ml=float(fit.sigma2),
                          loglik=float(fit.loglik), elbo_at_mle=elbo_at_mle, best_random=best,
                          tolerance=1e-10 * abs(float(fit.loglik)))


@dataclass(frozen=True)
class WidePlateau:
    """The result of :func:`wide_plateau` (k >= D, full-rank data; totals, nats)."""

    n: int
    dim: int
    k: int
    draws: int
    gaussian_ml: float
    sigma2: tuple[float, ...]
    loglik: tuple[float, ...]
    best_random: float
    tolerance: float

    @property
    def plateaus(self) -> bool:
        """Every sigma^2 below the smallest eigenvalue gives the Gaussian maximum."""
        return all(abs(v - self.gaussian_ml) <= self.tolerance for v in self.loglik)

    @property
    def never_exceeded(self) -> bool:
        """No random (W, b, sigma^2) exceeds the Gaussian maximum beyond the tolerance."""
        return self.best_random <= self.gaussian_ml + self.tolerance


def wide_plateau(*, n: int = 10, dim: int = 2, k: int = 2, draws: int = 200, seed: int = 0
                 ) -> WidePlateau:
    """k >= D on full-rank data: W = U (L - sigma^2 I)^(1/2) gives C = S_hat for every small
    sigma^2, so the log-likelihood (= the tight ELBO) stays at the Gaussian maximum
    -(n/2)(D log 2 pi + log det S_hat + D) as sigma^2 -> 0 (docs/theory.md section 3.4).

    sigma^2 runs over 1e-3, 1e-6, 1e-12 times the smallest eigenvalue; random parameter
    sets (each with its exact posterior) never exceed the maximum.  Tolerance as in
    :func:`ppca_optimality` (a relative 1e-10).
    """
    dim = check_int_range("dim", dim, low=1, high=10_000)
    k = check_int_range("k", k, low=dim, high=10_000)
    n = check_int_range("n", n, low=dim + 1, high=sys.maxsize)
    draws = check_int_range("draws", draws, low=1, high=10**7)
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, dim)) @ rng.normal(size=(dim, dim))
    b = x.mean(axis=0)
    s_hat = (x - b).T @ (x - b) / n
    lam, u = np.linalg.eigh(s_hat)
    gaussian_ml = float(-n / 2 * (dim * np.log(2 * np.pi) + np.sum(np.log(lam)) + dim))
    sigma2s = tuple(float(lam.min() * f) for f in (1e-3, 1e-6, 1e-12))
    values = []
    for s2 in sigma2s:
        w = np.zeros((dim, k))
        w[:, :dim] = u * np.sqrt(lam - s2)
        m, cov = linear.posterior(x, w, b, s2)
        values.append(float(linear.elbo(x, w, b, s2, m, cov).sum()))
    best = -np.inf
    for _ in range(draws):
        w = rng.normal(size=(dim, k)) * rng.uniform(0.1, 3.0)
        bb = b + rng.normal(size=dim) * 0.1
        s2 = float(np.exp(rng.uniform(-12.0, 3.0)))
        m, cov = linear.posterior(x, w, bb, s2)
        best = max(best, float(linear.elbo(x, w, bb, s2, m, cov).sum()))
    return WidePlateau(n=n, dim=dim, k=k, draws=draws, gaussian_ml=gaussian_ml, sigma2=sigma2s,
                       loglik=tuple(values), best_random=best, tolerance=1e-10 * abs(gaussian_ml))
