"""Probabilistic PCA maximum likelihood: stationary, unbeaten, and reached by a linear VAE.

Reference (Tipping & Bishop 1999, JRSS-B 61(3), section 3.2; docs/theory.md section 3): with the
eigenvalues l_1 >= ... >= l_D of the sample covariance S = (1/n) sum (x_i - mean)(...)^T
(computed here with numpy.linalg.eigvalsh), b_ML = mean, sigma2_ML = mean of the D - k
smallest eigenvalues, and the maximised log-likelihood is
    L_max = -n/2 [D log 2 pi + sum_{j<=k} log l_j + (D - k) log sigma2_ML + D].
The log-likelihood of any parameters is sum_i log N(x_i | b, W W^T + sigma2 I), computed
here with numpy (slogdet and solve), independently of the package.

Properties:
- ``vaeproofs.linear.ppca_mle`` returns L_max and parameters that attain it;
- they are stationary: the gradient conditions S C^-1 W = W, sigma2 = tr(S - W W^T) / D,
  b = mean (Tipping & Bishop 1999, section 3.2, from d L / d W = n (C^-1 S C^-1 W - C^-1 W))
  hold to round-off;
- no random parameters beat L_max;
- a linear VAE (encoder m = V (x - c), one diagonal covariance S_q; decoder W z + b,
  sigma2) trained by gradient (L-BFGS on the closed-form ELBO of
  vaeproofs.numeric.linear) reaches L_max, and its ELBO is then tight (Lucas, Tucker,
  Grosse & Norouzi, NeurIPS 2019, section 4).

Round-off tolerances: the solves and eigendecompositions lose at most log10 cond(C) digits;
the bound used is 1e3 D u cond(C) relative (a few hundred ulp per operation, times the
condition number), u = 2^-53.  Data are drawn with a relative eigengap
(l_k - l_{k+1}) / l_1 >= 1e-3 and sigma2_ML / l_1 >= 1e-3 (otherwise the maximiser is not
unique or sits near the degenerate case, see ppca-degenerate), so cond(C) <= 1e3.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import assume, given
from hypothesis import strategies as st

from vaeproofs import linear
from vaeproofs.numeric.linear import linear_elbo
from vaeproofs.strategies import bounded_floats, float_arrays, point_sets

U64 = 2.0 ** -53
LOG_2PI = math.log(2 * math.pi)


def loglik(x: np.ndarray, W: np.ndarray, b: np.ndarray, sigma2: float) -> float:
    """sum_i log N(x_i | b, W W^T + sigma2 I), numpy float64."""
    n, d = x.shape
    C = W @ W.T + sigma2 * np.eye(d)
    sign, logdet = np.linalg.slogdet(C)
    assert sign > 0
    r = x - b
    quad = np.einsum("ij,ij->", r, np.linalg.solve(C, r.T).T)
    return -0.5 * (n * d * LOG_2PI + n * logdet + quad)


def reference_ppca(x: np.ndarray, k: int):
    """(mean, eigenvalues descending, sigma2_ML, L_max) by Tipping & Bishop 1999, sec. 3.2."""
    n, d = x.shape
    mean = x.mean(axis=0)
    S = (x - mean).T @ (x - mean) / n
    lam = np.linalg.eigvalsh(S)[::-1]
    sigma2 = lam[k:].mean()
    L = -0.5 * n * (d * LOG_2PI + np.log(lam[:k]).sum() + (d - k) * math.log(sigma2) + d)
    return mean, lam, sigma2, L, S


@st.composite
def ppca_problems(draw):
    """Data (n, D) and k: separated points plus seeded Gaussian jitter (so the sample
    covariance has full rank), kept when the eigengap conditions of the docstring hold."""
    d = draw(st.integers(2, 5))
    k = draw(st.integers(1, d - 1))
    n = draw(st.integers(d + 2, 12))
    jitter = np.random.default_rng(draw(st.integers(0, 2**32 - 1))).normal(size=(n, d))
    x = draw(point_sets(n, d)) + 0.5 * jitter
    xc = x - x.mean(axis=0)
    lam = np.linalg.eigvalsh(xc.T @ xc / n)[::-1]
    assume(lam[-1] / lam[0] >= 1e-3 and (lam[k - 1] - lam[k]) / lam[0] >= 1e-3)
    return x, k


def _tol(d: int, lam: np.ndarray, sigma2: float) -> float:
    return 1e3 * d * U64 * (lam[0] + sigma2) / sigma2


@given(ppca_problems())
def test_ppca_mle_attains_the_closed_form_maximum(problem):
    x, k = problem
    _n, d = x.shape
    mean, lam, sigma2, L, _ = reference_ppca(x, k)
    fit = linear.ppca_mle(x, k)
    tol = _tol(d, lam, sigma2) * abs(L) + _tol(d, lam, sigma2)
    assert abs(fit.loglik - L) <= tol
    assert abs(loglik(x, fit.W, fit.b, fit.sigma2) - L) <= tol
    assert abs(fit.sigma2 - sigma2) <= _tol(d, lam, sigma2) * sigma2
    assert np.allclose(fit.b, mean, rtol=0, atol=_tol(d, lam, sigma2) * (1 + abs(mean).max()))


@given(ppca_problems())
def test_ppca_mle_is_stationary(problem):
    x, k = problem
    _n, d = x.shape
    _mean, lam, sigma2, _, S = reference_ppca(x, k)
    fit = linear.ppca_mle(x, k)
    W = np.asarray(fit.W)
    C = W @ W.T + fit.sigma2 * np.eye(d)
    tol = _tol(d, lam, sigma2)
    # d L / d W = 0  <=>  S C^-1 W = W
    assert np.linalg.norm(S @ np.linalg.solve(C, W) - W) <= tol * lam[0] * (1 + np.linalg.norm(W))
    # d L / d sigma2 = 0  <=>  sigma2 = tr(S - W W^T) / D
    assert abs(np.trace(S - W @ W.T) / d - fit.sigma2) <= tol * lam[0]


@given(ppca_problems(), st.data())
def test_no_random_parameters_beat_the_maximum(problem, data):
    x, k = problem
    _n, d = x.shape
    _, lam, sigma2, L, _ = reference_ppca(x, k)
    W = data.draw(float_arrays((d, k), -3.0, 3.0))
    b = data.draw(float_arrays((d,), -3.0, 3.0))
    s2 = data.draw(bounded_floats(1e-3, 10.0))
    assert loglik(x, W, b, s2) <= L + _tol(d, lam, sigma2) * abs(L)


def test_the_maximum_is_not_vacuous():
    # W_ML = U_k (L_k - sigma2 I)^(1/2) (Tipping & Bishop 1999, section 3.2; U, L from
    # numpy.linalg.eigh) attains L_max, and perturbing it lowers the log-likelihood.
    rng = np.random.default_rng(0)
    x = rng.normal(size=(20, 3)) @ np.diag([3.0, 1.0, 0.3])
    mean, lam, sigma2, L, S = reference_ppca(x, 1)
    vals, vecs = np.linalg.eigh(S)
    W = vecs[:, -1:] * np.sqrt(vals[-1] - sigma2)
    assert loglik(x, W, mean, sigma2) == pytest.approx(L, rel=_tol(3, lam, sigma2))
    assert loglik(x, W * 1.1, mean, sigma2) < L
    assert loglik(x, W, mean, sigma2 * 1.1) < L
    assert loglik(x, W, mean + 0.1, sigma2) < L


def train_linear_vae(x: np.ndarray, k: int, seed: int, iters: int = 50) -> float:
    """Maximise the total closed-form ELBO of a linear VAE with L-BFGS; return it."""
    _n, d = x.shape
    gen = torch.Generator().manual_seed(seed)
    xt = torch.as_tensor(x)
    W = (0.1 * torch.randn(d, k, generator=gen, dtype=torch.float64)).requires_grad_()
    b = xt.mean(0).clone().requires_grad_()
    log_s2 = torch.zeros((), dtype=torch.float64, requires_grad=True)
    V = (0.1 * torch.randn(k, d, generator=gen, dtype=torch.float64)).requires_grad_()
    log_sq = torch.zeros(k, dtype=torch.float64, requires_grad=True)
    params = [W, b, log_s2, V, log_sq]
    opt = torch.optim.LBFGS(params, lr=1, max_iter=iters, tolerance_grad=1e-12,
                            tolerance_change=1e-15, history_size=50,
                            line_search_fn="strong_wolfe")

    def neg_elbo():
        opt.zero_grad()
        m = (xt - b) @ V.T
        value = -linear_elbo(xt, W, b, torch.exp(log_s2), m,
                             torch.diag(torch.exp(log_sq))).sum()
        value.backward()
        return value

    previous = math.inf
    for _ in range(10):
        value = float(opt.step(neg_elbo).detach())
        if abs(previous - value) <= 1e-14 * abs(value):
            break
        previous = value
    with torch.no_grad():
        m = (xt - b) @ V.T
        return float(linear_elbo(xt, W, b, torch.exp(log_s2), m,
                                 torch.diag(torch.exp(log_sq))).sum())


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_linear_vae_trained_by_gradient_reaches_the_ppca_maximum(seed):
    # Data with a clear spectrum (eigengap), so the maximum is unique up to rotation.
    rng = np.random.default_rng(seed)
    d, k, n = 4, 2, 30
    x = rng.normal(size=(n, d)) @ np.diag([3.0, 2.0, 0.5, 0.4]) + rng.normal(size=d)
    _, lam, sigma2, L, _ = reference_ppca(x, k)
    elbo = train_linear_vae(x, k, seed)
    # ELBO <= log-likelihood <= L_max always.  L-BFGS stops when the objective changes by
    # <= 1e-14 relative between rounds; near a maximum the gap is quadratic in the
    # parameter error, and 1e-8 of |L_max| leaves room for a slowly converging direction.
    assert elbo <= L + _tol(d, lam, sigma2) * abs(L)
    assert elbo >= L - 1e-8 * abs(L)
