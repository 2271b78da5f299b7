"""The floored linear VAE optimised in torch float64, against its closed-form maximiser.

Claim ``remedy.floor-causes-posterior-collapse`` (docs/theory.md section 6; derivation
"floor-collapse"): for the linear VAE (prior N(0, I_k), decoder N(W z + b, sigma^2 I_D),
encoder N(V (x - c0) + c, diag(s))) with sigma^2 >= xi, the maximiser has
sigma^2 = max(xi, sigma^2_ML) and singular values sqrt(max(0, l_j - sigma^2)) of W, j <= k,
where l_1 >= ... >= l_D are the data's 1/n sample-covariance eigenvalues (Tipping & Bishop
1999, section 3.2; Lucas, Tucker, Grosse & Norouzi, NeurIPS 2019, section 4).

:func:`floor_fit` builds n points whose sample covariance has exactly the given eigenvalues
(a seeded random rotation), maximises the closed-form ELBO
(:func:`vaeproofs.numeric.linear.linear_elbo` averaged over the points, from their mean and
covariance) over every parameter with L-BFGS, sigma^2 =
xi + exp(rho), and returns the optimiser's sigma^2, singular values, encoder variances and
ELBO beside the closed form's.

Tolerances (derived from the gap the optimiser leaves, not tuned).  The closed form is
evaluated at the eigenvalues of the data's computed covariance.  Let delta >= 0 be the
closed-form maximum minus the optimiser's ELBO per point, plus the round-off of that
difference (:attr:`FloorFit.roundoff`).  Since ELBO <= log-likelihood, and by von
Neumann's trace inequality the log-likelihood is <= -(1/2) sum_i [log mu_i + l_i/mu_i]
with mu_i = sigma^2 + s_i^2 (i <= k) or sigma^2 (C's eigenvalues against the l_i, both
descending), every nonnegative part of that bound's deficit is <= 2 delta: the profile
phi(sigma^2) - phi* over sigma^2 >= xi, and each direction's log mu + l/mu above its best
value at the optimiser's sigma^2.  Each such set is an interval (the functions are
unimodal), found by bisection: the optimiser's sigma^2 must lie in the first, and
sigma^2 + s_i^2 in direction i's (for an active direction, l_i > sigma^2: around l_i; for
a collapsed one: s_i^2 below its upper end).  The optimiser must also reach the maximum,
delta <= sqrt(FTOL) |ELBO|, and never exceed it.
Conventions: natural log; variances; the ELBO is the average over the n points (nats per
point).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from vaeproofs.numeric.threads import one_thread
from vaeproofs.validation import check_int_range

__all__ = ["FTOL", "FloorFit", "closed_form_optimum", "floor_fit"]

#: L-BFGS's relative stopping tolerance on the objective.
FTOL = 1e-14
_EPS = float(np.finfo(np.float64).eps)
_LOG_2PI = math.log(2.0 * math.pi)


def closed_form_optimum(eigenvalues: tuple[float, ...], k: int, xi: float
                        ) -> tuple[float, tuple[float, ...], float]:
    """``(sigma^2, singular values, ELBO per point)`` of the maximiser with sigma^2 >= xi."""
    lam = sorted(eigenvalues, reverse=True)
    s2 = max(xi, float(np.mean(lam[k:])))
    singular = tuple(math.sqrt(max(0.0, x - s2)) for x in lam[:k])
    terms = [math.log(max(x, s2)) + x / max(x, s2) for x in lam[:k]]
    terms += [math.log(s2) + x / s2 for x in lam[k:]]
    return s2, singular, -0.5 * (len(lam) * _LOG_2PI + sum(terms))


@dataclass(frozen=True)
class FloorFit:
    """One optimisation of the floored linear VAE and its closed form (nats per point)."""

    eigenvalues: tuple[float, ...]  #: of the data's computed 1/n covariance, descending
    k: int
    xi: float
    n: int
    sigma2: float
    singular_values: tuple[float, ...]
    encoder_variances: tuple[float, ...]
    elbo: float
    closed_sigma2: float
    closed_singular_values: tuple[float, ...]
    closed_elbo: float
    iterations: int

    @property
    def roundoff(self) -> float:
        """n D eps |ELBO| (the ELBO's float64 round-off) plus D^2 eps l_1 / (2 sigma^2) (each
        computed eigenvalue is within D eps l_1 of the covariance's exact one, Golub & Van
        Loan, Matrix Computations, section 8.1, and enters the ELBO as l/(2 sigma^2))."""
        dim = len(self.eigenvalues)
        return (self.n * dim * _EPS * abs(self.closed_elbo)
                + dim * dim * _EPS * max(self.eigenvalues) / (2.0 * self.closed_sigma2))

    @property
    def gap(self) -> float:
        """delta: the closed-form maximum minus the optimiser's ELBO (>= 0), plus the round-off
        of that difference (the true gap is at most this)."""
        return max(self.closed_elbo - self.elbo, 0.0) + self.roundoff

    @property
    def never_exceeds(self) -> bool:
        """The optimiser's ELBO is <= the closed-form maximum up to float64 round-off."""
        return self.elbo <= self.closed_elbo + self.roundoff

    @property
    def reached(self) -> bool:
        """The optimiser reaches the closed-form maximum to sqrt(FTOL) relative."""
        return self.closed_elbo - self.elbo <= math.sqrt(FTOL) * abs(self.closed_elbo)

    def profile(self, s: float) -> float:
        """phi(s): -2 x the best mean log-likelihood at sigma^2 = s, minus D log 2 pi."""
        lam = sorted(self.eigenvalues, reverse=True)
        return (sum(_phi(x, max(x, s)) for x in lam[:self.k])
                + sum(_phi(x, s) for x in lam[self.k:]))

    @property
    def sigma2_interval(self) -> tuple[float, float]:
        """The sigma^2 >= xi whose profile is within 2 delta of its value at the closed form."""
        return _level_set(self.profile, self.closed_sigma2, 2 * self.gap, self.xi)

    @property
    def sigma2_consistent(self) -> bool:
        """The optimiser's sigma^2 lies in :attr:`sigma2_interval`, and the closed form's
        sigma^2 is at least as good on the profile (to 2 delta's round-off part)."""
        lo, hi = self.sigma2_interval
        return (lo <= self.sigma2 <= hi and self.profile(self.closed_sigma2)
                <= self.profile(self.sigma2) + 2 * self.roundoff)

    @property
    def collapsed_bound(self) -> float:
        """The largest s_i^2 a collapsed direction can have at this gap (0 if none collapses)."""
        lam = sorted(self.eigenvalues, reverse=True)[:self.k]
        return max((self._collapsed_upper(x) for x in lam if x <= self.sigma2), default=0.0)

    def _collapsed_upper(self, eigenvalue: float) -> float:
        """The largest a with phi(sigma^2 + a) - phi(sigma^2) <= 2 delta (l <= sigma^2)."""
        def excess(a: float) -> float:
            return _phi(eigenvalue, self.sigma2 + a)

        return _level_set(excess, 0.0, 2 * self.gap, 0.0)[1]

    def _active_interval(self, eigenvalue: float) -> tuple[float, float]:
        """The mu >= sigma^2 with phi(mu) - phi(l) <= 2 delta (l > sigma^2)."""
        def term(mu: float) -> float:
            return _phi(eigenvalue, mu)

        return _level_set(term, eigenvalue, 2 * self.gap, self.sigma2)

    @property
    def active(self) -> int:
        """Directions whose s_i^2 exceeds every collapsed direction's bound."""
        bound = self.collapsed_bound
        return sum(1 for s in self.singular_values if s * s > bound)

    @property
    def closed_active(self) -> int:
        """Directions the closed form makes active: l_j > sigma^2, j <= k."""
        return sum(1 for s in self.closed_singular_values if s > 0)

    @property
    def directions_consistent(self) -> bool:
        """Each sigma^2 + s_i^2 lies in direction i's interval (active) or s_i^2 under its
        bound (collapsed), at the optimiser's sigma^2."""
        lam = sorted(self.eigenvalues, reverse=True)[:self.k]
        ok = True
        for x, s in zip(lam, sorted(self.singular_values, reverse=True), strict=True):
            if x > self.sigma2:
                lo, hi = self._active_interval(x)
                ok = ok and lo <= self.sigma2 + s * s <= hi
            else:
                ok = ok and s * s <= self._collapsed_upper(x)
        return ok

    @property
    def agrees(self) -> bool:
        """Reached and never exceeded; sigma^2 and every direction where the closed form
        puts them, within the gap; the same number of active directions."""
        return (self.reached and self.never_exceeds and self.sigma2_consistent
                and self.directions_consistent and self.active == self.closed_active)


def _phi(eigenvalue: float, mu: float) -> float:
    """log mu + l/mu: a direction's term of -2 x the mean log-likelihood (minimum at mu = l)."""
    return math.log(mu) + eigenvalue / mu


def _level_set(f: Callable[[float], float], centre: float, bound: float, low: float
               ) -> tuple[float, float]:
    """The interval of x >= low around ``centre`` (f's minimiser there) where
    f(x) - f(centre) <= bound, by bisection (f unimodal)."""
    target = f(centre) + bound

    def edge(inside: float, outside: float) -> float:
        for _ in range(200):
            mid = 0.5 * (inside + outside)
            inside, outside = (mid, outside) if f(mid) <= target else (inside, mid)
        return inside

    lo = low if f(low) <= target else edge(centre, low) if centre > low else centre
    far = max(2.0 * centre, centre + 1.0)
    while f(far) <= target:
        far *= 2.0
    return lo, edge(centre, far)


def _mean_elbo(mean: torch.Tensor, cov: torch.Tensor, eye: torch.Tensor, W: torch.Tensor,
               V: torch.Tensor, b: torch.Tensor, c: torch.Tensor, log_s: torch.Tensor,
               sigma2: torch.Tensor) -> torch.Tensor:
    """The closed-form ELBO averaged over the data, from their mean and 1/n covariance.

    With m(x) = V (x - mean) + c the per-point ELBO of
    :func:`~vaeproofs.numeric.linear.linear_elbo` is quadratic in x, so its average needs only
    the data's mean and covariance (tested against the per-point function).
    """
    dim, k = W.shape
    resid = eye - W @ V
    s = torch.exp(log_s)
    offset = mean - W @ c - b
    sq = (resid @ cov * resid).sum() + offset @ offset + (W * W * s).sum()
    kl = 0.5 * (s.sum() + (V @ cov * V).sum() + c @ c - k - log_s.sum())
    return -0.5 * dim * (_LOG_2PI + torch.log(sigma2)) - sq / (2.0 * sigma2) - kl


def _data(eigenvalues: tuple[float, ...], n: int, seed: int) -> np.ndarray:
    """n points whose 1/n sample covariance is R diag(eigenvalues) R^T, R a random rotation."""
    rng = np.random.default_rng(seed)
    dim = len(eigenvalues)
    centred = rng.normal(size=(n, dim))
    centred -= centred.mean(axis=0)
    q, _ = np.linalg.qr(centred)                       # orthonormal columns, orthogonal to 1
    rotation, _ = np.linalg.qr(rng.normal(size=(dim, dim)))
    return (math.sqrt(n) * q * np.sqrt(np.asarray(eigenvalues))) @ rotation.T + rng.normal(size=dim)


@one_thread()
def floor_fit(eigenvalues: tuple[float, ...], k: int, xi: float, *, n: int = 40, seed: int = 0,
              max_iter: int = 3000) -> FloorFit:
    """Maximise the linear VAE's ELBO with sigma^2 >= xi by L-BFGS (float64) from a seeded start."""
    dim = len(eigenvalues)
    k = check_int_range("k", k, low=1, high=dim - 1)
    n = check_int_range("n", n, low=dim + 1, high=10**6)
    x = torch.from_numpy(_data(tuple(eigenvalues), n, seed))
    gen = torch.Generator().manual_seed(seed)
    f64 = torch.float64
    W = (0.5 * torch.randn(dim, k, generator=gen, dtype=f64)).requires_grad_()
    V = (0.5 * torch.randn(k, dim, generator=gen, dtype=f64)).requires_grad_()
    b = x.mean(0).clone().requires_grad_()
    c = torch.zeros(k, dtype=f64, requires_grad=True)
    log_s = torch.zeros(k, dtype=f64, requires_grad=True)
    rho = torch.zeros((), dtype=f64, requires_grad=True)
    params = [W, V, b, c, log_s, rho]
    mean = x.mean(0)
    opt = torch.optim.LBFGS(params, lr=1.0, max_iter=max_iter, tolerance_grad=0.0,
                            tolerance_change=FTOL, history_size=50, line_search_fn="strong_wolfe")
    calls = 0

    cov = (x - mean).T @ (x - mean) / n
    eye = torch.eye(dim, dtype=f64)

    def objective() -> torch.Tensor:
        return -_mean_elbo(mean, cov, eye, W, V, b, c, log_s, xi + torch.exp(rho))

    def closure() -> torch.Tensor:
        nonlocal calls
        calls += 1
        opt.zero_grad()
        loss = objective()
        loss.backward()
        return loss

    opt.step(closure)
    with torch.no_grad():
        elbo = -float(objective())
        singular = torch.linalg.svdvals(W).tolist()
        sigma2 = xi + float(torch.exp(rho))
    # The closed form from the data's own eigenvalues (float64; a rank-deficient covariance has
    # round-off eigenvalues ~ eps l_1, not 0, and that matters once divided by a small xi).
    computed = np.clip(np.linalg.eigvalsh(cov.numpy())[::-1], 0.0, None)
    s2, sv, best = closed_form_optimum(tuple(float(v) for v in computed), k, xi)
    return FloorFit(eigenvalues=tuple(float(v) for v in computed), k=k, xi=xi, n=n,
                    sigma2=sigma2, singular_values=tuple(singular),
                    encoder_variances=tuple(torch.exp(log_s).tolist()), elbo=elbo,
                    closed_sigma2=s2, closed_singular_values=sv, closed_elbo=best,
                    iterations=calls)
