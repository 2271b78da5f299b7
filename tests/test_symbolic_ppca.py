"""pPCA derivations (vaeproofs.symbolic.ppca, .ppca_degenerate): facts, the data-sum trick, degenerate rate.

References: Tipping & Bishop 1999 (JRSS-B 61(3)), section 3.2, for sigma2_ML, W_ML and
L_max; Dai & Wipf 2019 for the (D - r) log sigma^2 rate.  Numeric references are
computed here with numpy.linalg.eigh and direct sums of log N(x_i | mean, C)
(scipy.stats.multivariate_normal).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp
from scipy import stats

from vaeproofs import InvalidArgumentError
from vaeproofs import linear as api
from vaeproofs.symbolic import ppca
from vaeproofs.symbolic.ppca_degenerate import derive_ppca_degenerate

EPS = np.finfo(np.float64).eps


def test_ppca_facts() -> None:
    d = ppca.derive_ppca()
    for key in ("ml_solution_stationary", "lmax_matches_tipping_bishop", "vae_attains_lmax",
                "elbo_tight_at_optimum"):
        assert getattr(d.facts, key) is True, key
    T, D, k = sp.Symbol("T", positive=True), *sp.symbols("D k", positive=True, integer=True)
    assert sp.simplify(d.results.sigma2_stationary - T / (D - k)) == 0
    for Dc, kc in ppca.CONCRETE_SIZES:
        assert all(g == 0 for g in d.results.size(Dc, kc).gradient_at_ml)
        assert d.results.size(Dc, kc).elbo_minus_lmax == 0


def test_partial_at_equals_full_gradient_then_substitution() -> None:
    # The gradient check substitutes the other variables before differentiating; at a point
    # that is NOT stationary (so the values are non-zero and could differ) it must equal the
    # full derivative evaluated afterwards, entry by entry, for D = 3, k = 1.
    ls = [sp.Symbol(f"l_{j + 1}", positive=True) for j in range(3)]
    W = sp.Matrix(3, 1, lambda i, _: sp.Symbol(f"w_{i + 1}1", real=True))
    L = ppca.total_loglik(W, ppca.SIGMA2, sp.diag(*ls))
    point = {W[0]: sp.sqrt(ls[0]), W[1]: sp.Rational(1, 2), W[2]: -ls[2], ppca.SIGMA2: ls[1] + 1}
    gradient = ppca._gradient_at(W, ppca.SIGMA2, sp.diag(*ls), point)
    for v, new in zip([*list(W), ppca.SIGMA2], gradient, strict=True):
        assert new != 0
        assert sp.simplify(new - sp.diff(L, v).xreplace(point)) == 0, v


def test_degenerate_facts_and_rate() -> None:
    d = derive_ppca_degenerate()
    assert d.facts.degenerate_sup_infinite is True
    assert d.facts.rate_exact is True
    assert d.facts.elbo_also_unbounded is True
    n, sigma2 = ppca.N, ppca.SIGMA2
    D, r = sp.symbols("D r", positive=True, integer=True)
    assert sp.simplify(d.results.degenerate_rate + n * (D - r) / 2 * sp.log(sigma2)) == 0
    assert sp.simplify(d.results.slope_per_point - (D - r) / 2) == 0
    assert d.results.limit == sp.oo


def test_sum_over_data_matches_a_direct_sum() -> None:
    # The replacement sum_i r_i r_i^T = n Lambda with a full (non-diagonal) sample
    # covariance, against scipy's log-density summed over the rows.
    rng = np.random.default_rng(11)
    n, D, k = 7, 3, 2
    X = rng.normal(size=(n, D)) @ rng.normal(size=(D, D))
    W = rng.normal(size=(D, k))
    sigma2 = 0.7
    mean = X.mean(axis=0)
    cov = (X - mean).T @ (X - mean) / n
    Wsym = sp.Matrix(D, k, lambda i, j: sp.Float(W[i, j]))
    Lam = sp.Matrix(D, D, lambda i, j: sp.Float(cov[i, j]))
    total = float(ppca.total_loglik(Wsym, sp.Float(sigma2), Lam, n))
    ref = stats.multivariate_normal(mean, W @ W.T + sigma2 * np.eye(D)).logpdf(X).sum()
    # n * D terms below ~100 in magnitude: 2 * n * D * 100 ulp.
    assert abs(total - ref) <= 2 * n * D * 100 * EPS * max(1.0, abs(ref))
    with pytest.raises(ValueError, match="degree"):
        r = sp.Matrix(sp.symbols("r1 r2"))
        ppca.sum_over_data(r[0] ** 3, r, sp.eye(2), n)


def test_lmax_formula_matches_numpy_fit() -> None:
    # Lambdified L_max vs vaeproofs.linear.ppca_mle and a direct likelihood sum.
    rng = np.random.default_rng(5)
    n, D, k = 40, 3, 1
    X = rng.normal(size=(n, D)) * np.array([3.0, 1.0, 0.5])
    fit = api.ppca_mle(X, k)
    evals = np.sort(np.linalg.eigvalsh(np.cov(X.T, bias=True)))[::-1]
    ls = sp.symbols("l_1:4", positive=True)
    f = sp.lambdify([*ls, ppca.N], ppca.lmax_formula(list(ls), k), "math")
    lmax = f(*evals, n)
    direct = stats.multivariate_normal(fit.b, fit.W @ fit.W.T + fit.sigma2 * np.eye(D)
                                       ).logpdf(X).sum()
    tol = 1e3 * D * EPS * abs(lmax)  # eigh and solve round-off, cond(C) < 1e2 here
    assert abs(fit.loglik - lmax) <= tol
    assert abs(direct - lmax) <= tol


def test_degenerate_data_slope_numerically() -> None:
    # Rank-1 data in D = 3, k = 1: log-likelihood along W = u sqrt(l - sigma2) grows
    # by n (D - r)/2 per unit of log(1/sigma2) (derive_ppca_degenerate), checked with the
    # numpy API at sigma2 = 1e-4 and 1e-8.
    rng = np.random.default_rng(2)
    n, D, r = 9, 3, 1
    u = rng.normal(size=D)
    u /= np.linalg.norm(u)
    X = np.outer(rng.normal(size=n), u) + rng.normal(size=D)
    with pytest.raises(InvalidArgumentError, match="rank"):
        api.ppca_mle(X, 1)
    l1 = float(np.var(X @ u))

    def total(s2: float) -> float:
        W = (u * math.sqrt(l1 - s2))[:, None]
        return float(api.log_marginal(X, W, X.mean(axis=0), s2).sum())

    slope = (total(1e-8) - total(1e-4)) / math.log(1e4)
    # The path is exact (centred rows lie on u up to round-off), so only round-off
    # separates the slope from n (D - r)/2: a Cholesky solve with condition number
    # l1 / sigma2 over n * D entries, i.e. n * D * eps * l1 / 1e-8 (~8e-7 here; 1.6e-9
    # measured).
    assert abs(slope - n * (D - r) / 2) <= n * D * EPS * l1 / 1e-8
