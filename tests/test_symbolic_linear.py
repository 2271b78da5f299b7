"""Linear-Gaussian VAE identities (vaeproofs.symbolic.linear), symbolically and in float64.

References: docs/theory.md section 3; Tipping & Bishop 1999 (JRSS-B 61(3)), section 3, for
x ~ N(b, W W^T + sigma2 I) and the posterior N(M^{-1} W^T (x - b), sigma2 M^{-1}).
Numeric reference values: scipy.stats.multivariate_normal and numpy.linalg.solve.

Float64 tolerance: the draws below keep every term of the ELBO and of log p(x) below
100 in magnitude and each side sums fewer than 50 terms, so each side's round-off is at
most 50 * 100 * eps ~ 1.1e-12; ATOL = 2 * 50 * 100 * eps bounds the difference.
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from scipy import stats

from vaeproofs import linear as api
from vaeproofs.symbolic import catalog
from vaeproofs.symbolic import linear as L

EPS = np.finfo(np.float64).eps
ATOL = 2 * 50 * 100 * EPS


@pytest.fixture(scope="module")
def derivation():
    # derive_linear_elbo through the catalog, so that this worker's memo (tests/conftest.py)
    # shares it with test_derivation_scripts.py
    return catalog.derive("linear-elbo")


@pytest.mark.slow
def test_all_identities_proved(derivation) -> None:
    f = derivation.facts
    for key in ("elbo_matches_textbook", "kl_matches_diagonal", "marginal_matches_bayes",
                "posterior_matches_formula", "gap_equals_kl", "gap_zero_at_posterior",
                "gap_zero_only_at_posterior"):
        assert getattr(f, key) is True, key
    assert f.proved_sizes == ((2, 1), (3, 2))
    for D, k in L.PROVED_SIZES:
        assert derivation.results.size(D, k).gap_minus_kl == 0
        assert derivation.results.size(D, k).gap_at_posterior == 0
        assert len(derivation.results.size(D, k).stationary_points) == 1
    assert "$$" in derivation.to_markdown()


def test_cancel_logs_detects_a_wrong_identity() -> None:
    # The same gap check with a wrong KL (scaled by 9/10, or shifted by log(sigma2)/7)
    # must not reduce to 0: the canceller can fail.  D = k = 1 keeps every ingredient (logs
    # of sigma2, S and the posterior variance; a rational KL) at a fifth of the (2, 1) cost;
    # the identity itself is proved at (2, 1) and (3, 2) by the derivation above.
    s = L.linear_gaussian_symbols(1, 1)
    elbo = L.linear_elbo(s.x, s.W, s.b, s.sigma2, s.m, s.S)
    bayes = L.posterior_by_bayes(s.x, s.W, s.b, s.sigma2)
    gap = L.log_marginal(s.x, s.W, s.b, s.sigma2) - elbo
    kl = L.gaussian_kl(s.m, s.S, bayes.mean, precision=bayes.precision)
    assert L.cancel_logs(gap - kl) == 0
    assert L.cancel_logs(gap - sp.Rational(9, 10) * kl) != 0
    assert L.cancel_logs(gap - kl + sp.log(s.sigma2) / 7) == sp.log(s.sigma2) / 7


def test_cancel_logs_on_small_cases() -> None:
    a, b = sp.symbols("a b", positive=True)
    assert L.cancel_logs(sp.log((a**2 + a * b) / b) - sp.log(a) - sp.log(a + b)
                         + sp.log(b)) == 0
    assert L.cancel_logs(sp.log(12 * sp.pi) - 2 * sp.log(2) - sp.log(3 * sp.pi)) == 0
    assert L.cancel_logs(a / (a + b) + b / (a + b) - 1) == 0
    assert L.cancel_logs(sp.log(a * b) - sp.log(a)) == sp.log(b)


def _random_case(rng: np.random.Generator, D: int, k: int, n: int = 5):
    x = rng.uniform(-2, 2, size=(n, D))
    W = rng.uniform(-1.5, 1.5, size=(D, k))
    b = rng.uniform(-1, 1, size=D)
    sigma2 = float(rng.uniform(0.3, 2.0))
    m = rng.uniform(-1, 1, size=(n, k))
    A = rng.uniform(-0.5, 0.5, size=(k, k))
    S = A @ A.T + 0.2 * np.eye(k)
    return x, W, b, sigma2, m, S


def _values(s: L.LinearGaussianSymbols, x, W, b, sigma2, m, S) -> dict:
    vals = {}
    for mat, arr in ((s.x, x), (s.W, W), (s.b, b), (s.m, m), (s.S, S)):
        for sym, v in zip(mat, np.asarray(arr, dtype=float).ravel(), strict=True):
            if isinstance(sym, sp.Symbol):
                vals[sym] = float(v)
    vals[s.sigma2] = sigma2
    return vals


@pytest.mark.parametrize(("D", "k"), [(1, 1), (2, 1), (3, 2)])
def test_symbolic_forms_match_numpy_and_scipy(D: int, k: int) -> None:
    rng = np.random.default_rng(100 * D + k)
    x, W, b, sigma2, m, S = _random_case(rng, D, k)
    s = L.linear_gaussian_symbols(D, k)
    args = s.all_symbols
    f_elbo = sp.lambdify(args, L.linear_elbo(s.x, s.W, s.b, s.sigma2, s.m, s.S), "numpy")
    f_logp = sp.lambdify(args, L.log_marginal(s.x, s.W, s.b, s.sigma2), "numpy")
    bayes = L.posterior_by_bayes(s.x, s.W, s.b, s.sigma2)
    f_mean = sp.lambdify(args, bayes.mean, "numpy")
    f_cov = sp.lambdify(args, bayes.cov, "numpy")
    elbo_np = api.elbo(x, W, b, sigma2, m, S)
    logp_np = api.log_marginal(x, W, b, sigma2)
    means_np, cov_np = api.posterior(x, W, b, sigma2)
    C = W @ W.T + sigma2 * np.eye(D)
    M = W.T @ W + sigma2 * np.eye(k)
    for i in range(x.shape[0]):
        vals = _values(s, x[i], W, b, sigma2, m[i], S)
        a = [vals[v] for v in args]
        assert abs(f_elbo(*a) - elbo_np[i]) <= ATOL
        assert abs(f_logp(*a) - logp_np[i]) <= ATOL
        # Reference: scipy.stats.multivariate_normal (Tipping & Bishop 1999, section 3).
        assert abs(stats.multivariate_normal(b, C).logpdf(x[i]) - logp_np[i]) <= ATOL
        # Reference: the textbook posterior via numpy.linalg.solve.
        mean_ref = np.linalg.solve(M, W.T @ (x[i] - b))
        np.testing.assert_allclose(np.ravel(f_mean(*a)), mean_ref, rtol=0, atol=ATOL)
        np.testing.assert_allclose(means_np[i], mean_ref, rtol=0, atol=ATOL)
        np.testing.assert_allclose(np.asarray(f_cov(*a), dtype=float),
                                   sigma2 * np.linalg.inv(M), rtol=0, atol=ATOL)
    np.testing.assert_allclose(cov_np, sigma2 * np.linalg.inv(M), rtol=0, atol=ATOL)


@pytest.mark.parametrize(("D", "k"), [(2, 1), (3, 2), (5, 3)])
def test_gap_equals_kl_numerically(D: int, k: int) -> None:
    rng = np.random.default_rng(7 * D + k)
    x, W, b, sigma2, m, S = _random_case(rng, D, k)
    gap = api.log_marginal(x, W, b, sigma2) - api.elbo(x, W, b, sigma2, m, S)
    kl = api.kl_to_posterior(x, W, b, sigma2, m, S)
    np.testing.assert_allclose(gap, kl, rtol=0, atol=ATOL)
    assert np.all(kl > 0)  # q differs from the posterior for these draws
    mean, cov = api.posterior(x, W, b, sigma2)
    np.testing.assert_allclose(api.kl_to_posterior(x, W, b, sigma2, mean, cov), 0.0,
                               rtol=0, atol=ATOL)


def test_qr_reduction_is_without_loss_of_generality() -> None:
    # The (3, 2) proof uses the upper-triangular W of W = Q R; rotating x - b, W by Q^T
    # must leave the ELBO, log p(x) and the gap unchanged (checked in float64).
    rng = np.random.default_rng(3)
    x, W, b, sigma2, m, S = _random_case(rng, 3, 2)
    Q, _ = np.linalg.qr(W, mode="complete")
    xr, br, Wr = (x - b) @ Q, np.zeros(3), Q.T @ W
    assert np.allclose(np.tril(Wr, -1), 0, atol=1e-15)
    np.testing.assert_allclose(api.elbo(xr, Wr, br, sigma2, m, S),
                               api.elbo(x, W, b, sigma2, m, S), rtol=0, atol=ATOL)
    np.testing.assert_allclose(api.log_marginal(xr, Wr, br, sigma2),
                               api.log_marginal(x, W, b, sigma2), rtol=0, atol=ATOL)
    s = L.linear_gaussian_symbols(3, 2)
    reduced = L.qr_reduced(s.W)
    assert reduced[1, 0] == reduced[2, 0] == reduced[2, 1] == 0 and reduced[0, 1] == s.W[0, 1]


def test_matrix_form_has_symbolic_sizes() -> None:
    expr, names = L.linear_elbo_matrix_form()
    assert names["D"] in expr.free_symbols and names["k"] in expr.free_symbols
    assert "\\sigma" in sp.latex(expr)


def test_gaussian_kl_needs_exactly_one_covariance() -> None:
    m = sp.Matrix([0])
    with pytest.raises(ValueError, match="exactly one"):
        L.gaussian_kl(m, sp.eye(1), m)
    with pytest.raises(ValueError, match="exactly one"):
        L.gaussian_kl(m, sp.eye(1), m, sp.eye(1), precision=sp.eye(1))
