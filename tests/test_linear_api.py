"""The numpy linear-Gaussian API (vaeproofs.linear): identities, pPCA, bad input.

References: docs/theory.md section 3 (ELBO, marginal, posterior); Tipping & Bishop 1999
(JRSS-B 61(3)), section 3.2 (pPCA).  Reference values are computed here with
numpy.linalg.eigh / solve and scipy.stats.multivariate_normal.  The comparison with
the lambdified sympy forms is in test_symbolic_linear.py.

Float64 tolerance: draws keep every term below 100 in magnitude and each value sums
fewer than 50 terms, so ATOL = 2 * 50 * 100 * eps bounds the round-off of a difference.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from scipy import stats

from vaeproofs import InvalidArgumentError
from vaeproofs import linear as api

EPS = np.finfo(np.float64).eps
ATOL = 2 * 50 * 100 * EPS


def _case(seed: int, n: int = 6, D: int = 4, k: int = 2):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-2, 2, size=(n, D))
    W = rng.uniform(-1, 1, size=(D, k))
    b = rng.uniform(-1, 1, size=D)
    m = rng.uniform(-1, 1, size=(n, k))
    A = rng.uniform(-0.5, 0.5, size=(n, k, k))
    S = A @ np.swapaxes(A, 1, 2) + 0.3 * np.eye(k)
    return x, W, b, 0.8, m, S


def test_per_row_and_shared_covariances_agree() -> None:
    x, W, b, s2, m, S = _case(0)
    per_row = api.elbo(x, W, b, s2, m, np.broadcast_to(S[0], S.shape))
    shared = api.elbo(x, W, b, s2, m, S[0])
    np.testing.assert_array_equal(per_row, shared)  # same arithmetic, same result
    assert api.elbo(x, W, b, s2, m, S).shape == (x.shape[0],)


def test_elbo_below_log_marginal_and_tight_at_posterior() -> None:
    x, W, b, s2, m, S = _case(1)
    logp = api.log_marginal(x, W, b, s2)
    assert np.all(api.elbo(x, W, b, s2, m, S) < logp)
    mean, cov = api.posterior(x, W, b, s2)
    np.testing.assert_allclose(api.elbo(x, W, b, s2, mean, cov), logp, rtol=0, atol=ATOL)
    np.testing.assert_allclose(logp - api.elbo(x, W, b, s2, m, S),
                               api.kl_to_posterior(x, W, b, s2, m, S), rtol=0, atol=ATOL)
    ref = stats.multivariate_normal(b, W @ W.T + s2 * np.eye(W.shape[0])).logpdf(x)
    np.testing.assert_allclose(logp, ref, rtol=0, atol=ATOL)


def test_ppca_mle_against_eigh_and_direct_likelihood() -> None:
    rng = np.random.default_rng(4)
    n, D, k = 50, 4, 2
    X = rng.normal(size=(n, D)) * np.array([4.0, 2.0, 1.0, 0.5]) + 3.0
    fit = api.ppca_mle(X, k)
    # Reference: numpy.linalg.eigh of the 1/n sample covariance (Tipping & Bishop 3.2).
    evals, evecs = np.linalg.eigh(np.cov(X.T, bias=True))
    evals, evecs = evals[::-1], evecs[:, ::-1]
    tol = 1e3 * D * EPS * evals[0]  # eigensolver round-off, well-separated eigenvalues
    np.testing.assert_allclose(fit.eigenvalues, evals, rtol=0, atol=tol)
    np.testing.assert_allclose(fit.b, X.mean(axis=0), rtol=0, atol=ATOL)
    assert abs(fit.sigma2 - evals[k:].mean()) <= tol
    C = fit.W @ fit.W.T + fit.sigma2 * np.eye(D)
    C_ref = (evecs[:, :k] * evals[:k]) @ evecs[:, :k].T + fit.sigma2 * (
        np.eye(D) - evecs[:, :k] @ evecs[:, :k].T)
    np.testing.assert_allclose(C, C_ref, rtol=0, atol=10 * tol)
    direct = stats.multivariate_normal(fit.b, C).logpdf(X).sum()
    assert abs(fit.loglik - direct) <= 1e3 * n * D * EPS * abs(direct)
    # The linear VAE with q = exact posterior attains it (Lucas et al. 2019).
    mean, cov = api.posterior(X, fit.W, fit.b, fit.sigma2)
    total_elbo = api.elbo(X, fit.W, fit.b, fit.sigma2, mean, cov).sum()
    assert abs(total_elbo - fit.loglik) <= 1e3 * n * D * EPS * abs(direct)
    # And no perturbed parameters do better (maximum; computed, not assumed).
    for scale in (0.9, 1.1):
        assert api.log_marginal(X, scale * fit.W, fit.b, fit.sigma2).sum() < fit.loglik
        assert api.log_marginal(X, fit.W, fit.b, scale * fit.sigma2).sum() < fit.loglik


def test_ppca_rejects_degenerate_data() -> None:
    rng = np.random.default_rng(8)
    rank_two = rng.normal(size=(10, 2)) @ rng.normal(size=(2, 5))
    with pytest.raises(InvalidArgumentError, match=r"^X: .*rank <= k = 2"):
        api.ppca_mle(rank_two, 2)
    api.ppca_mle(rank_two + 1e-3 * rng.normal(size=rank_two.shape), 2)  # full rank: fine
    assert api.ppca_mle(rank_two, 1).sigma2 > 0  # rank 2 > k = 1: bounded


@pytest.mark.parametrize(("call", "argument"), [
    (lambda x, W, b, s2, m, S: api.log_marginal(x, W[:-1], b, s2), "W"),
    (lambda x, W, b, s2, m, S: api.log_marginal(x[0], W, b, s2), "x"),
    (lambda x, W, b, s2, m, S: api.posterior(x, W, b, float("inf")), "sigma2"),
    (lambda x, W, b, s2, m, S: api.posterior(x, W, b, "big"), "sigma2"),
    (lambda x, W, b, s2, m, S: api.kl_to_posterior(x, W, b, s2, m[:-1], S), "m"),
    (lambda x, W, b, s2, m, S: api.kl_to_posterior(x, W, b, s2, m, S[:, :1]), "S"),
    (lambda x, W, b, s2, m, S: api.elbo(x, W, np.full_like(b, np.nan), s2, m, S), "b"),
    (lambda x, W, b, s2, m, S: api.elbo(x, W, b, s2, m, -S), "S"),
    (lambda x, W, b, s2, m, S: api.ppca_mle(np.where(x > 1, np.inf, x), 1), "X"),
    (lambda x, W, b, s2, m, S: api.ppca_mle(x[0], 1), "X"),
    (lambda x, W, b, s2, m, S: api.ppca_mle(x, 2.0), "k"),
    (lambda x, W, b, s2, m, S: api.ppca_mle(x, 4), "k"),
])
def test_bad_input_names_the_argument(call, argument: str) -> None:
    with pytest.raises(InvalidArgumentError) as exc:
        call(*_case(3))
    assert exc.value.argument == argument
    assert str(exc.value).startswith(f"{argument}: ")


def test_module_does_not_import_sympy() -> None:
    code = "import sys, vaeproofs.linear; print('sympy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=120)
    assert out.stdout.strip() == "False"
