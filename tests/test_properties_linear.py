"""Properties of the linear-Gaussian VAE's ELBO: independent computations must agree.

Model: p(z) = N(0, I_k), p(x | z) = N(W z + b, sigma2 I), q(z | x) = N(m, S).

1. The sympy closed form (:func:`vaeproofs.symbolic.linear.linear_elbo`, built by sympy
   from integrated 1-D pieces, lambdified), the numpy API (:func:`vaeproofs.linear.elbo`)
   and the torch implementation (:func:`vaeproofs.numeric.linear.linear_elbo`) agree in
   float64 to a relative 1e-10 (the issue's bound; relative to the largest of the
   ELBO's terms in magnitude, since round-off is relative to the terms that are summed:
   each side sums < 100 terms, so its round-off is at most a few hundred ulp of the
   largest term, ~1e-13, a thousand times inside the bound).
2. The reparameterised Monte Carlo ELBO agrees with the closed form within z standard
   errors.  False-failure budget: 1e-6 for the whole property suite per run, split by
   Bonferroni over the MC comparisons one run can make: ``MC_COMPARISONS`` = (400
   examples, the thorough profile's max_examples) x (6 points, the most a drawn case
   has) = 2400, so each two-sided comparison may fail with probability 1e-6 / 2400 and
   z = Phi^-1(1 - 1e-6 / (2 * 2400)) ~ 6.25, computed below with statistics.NormalDist.
   Each estimate averages ``MC_SAMPLES`` = 10000 samples; a single sample is a quadratic
   form in Gaussian noise (skewness at most that of a chi-square with 1 degree of
   freedom, sqrt(8)), so the mean's skewness is <= sqrt(8) / 100 ~ 0.03 and the Edgeworth
   correction to the normal tail at z ~ 6 is below 20 % of the budget.  The seeds are
   drawn by hypothesis, so a failure reproduces from its example.
3. ELBO <= log p(x) and log p(x) - ELBO = KL(q || p(z | x)) (docs/theory.md section 1), checked
   in mpmath at 50 significant digits (restored in ``finally``): log p(x) = log N(x | b,
   W W^T + sigma2 I) and the posterior N(M^-1 W^T (x - b), sigma2 M^-1),
   M = W^T W + sigma2 I (Tipping & Bishop 1999, JRSS-B 61(3), section 3) are computed
   here with mpmath matrices, independently of the package, and the ELBO by the sympy
   closed form evaluated in mpmath.  Near q = posterior the gap is O(delta^2) for a
   perturbation delta and float64 cannot resolve it; mpmath at 50 digits does.
"""

from __future__ import annotations

import math
from functools import cache
from statistics import NormalDist

import mpmath
import numpy as np
import pytest
import sympy as sp
import torch
from hypothesis import given
from hypothesis import strategies as st

from vaeproofs import linear
from vaeproofs.errors import InvalidArgumentError
from vaeproofs.numeric.linear import linear_elbo, linear_elbo_monte_carlo
from vaeproofs.strategies import LinearVaeCase, bounded_floats, linear_vae_cases
from vaeproofs.symbolic import linear as sym_linear

REL_TOL = 1e-10
FALSE_FAILURE_BUDGET = 1e-6
MC_COMPARISONS = 400 * 6
Z = NormalDist().inv_cdf(1.0 - FALSE_FAILURE_BUDGET / (2.0 * MC_COMPARISONS))
MC_SAMPLES = 10_000
DPS = 50


@cache
def _sympy_elbo(d: int, k: int, module: str):
    """The sympy closed-form ELBO of one point, lambdified, and its argument order."""
    s = sym_linear.linear_gaussian_symbols(d, k)
    expr = sym_linear.linear_elbo(s.x, s.W, s.b, s.sigma2, s.m, s.S)
    return s, sp.lambdify(s.all_symbols, expr, module)


def _args(s, case: LinearVaeCase, row: int, convert=float) -> list:
    values = {}
    for sym_mat, val in ((s.x, case.x[row]), (s.W, case.W), (s.b, case.b), (s.m, case.m[row]),
                         (s.S, case.S)):
        for sym, v in zip(sym_mat, np.asarray(val).ravel(), strict=True):
            if isinstance(sym, sp.Symbol):
                values[sym] = convert(v)
    values[s.sigma2] = convert(case.sigma2)
    return [values[sym] for sym in s.all_symbols]


def sympy_elbo(case: LinearVaeCase) -> np.ndarray:
    s, f = _sympy_elbo(case.data_dim, case.latent_dim, "numpy")
    return np.array([float(f(*_args(s, case, i))) for i in range(case.x.shape[0])])


def term_scale(case: LinearVaeCase) -> np.ndarray:
    """Largest magnitude among the ELBO's terms, per point (what round-off is relative to)."""
    d, k = case.data_dim, case.latent_dim
    r = case.x - case.m @ case.W.T - case.b
    terms = np.stack([
        np.full(len(r), 0.5 * d * abs(math.log(2 * math.pi * case.sigma2))),
        (r ** 2).sum(1) / (2 * case.sigma2),
        np.full(len(r), np.trace(case.W @ case.S @ case.W.T) / (2 * case.sigma2)),
        np.full(len(r), 0.5 * (np.trace(case.S) + k + abs(np.linalg.slogdet(case.S)[1]))),
        0.5 * (case.m ** 2).sum(1),
    ])
    return terms.max(axis=0)


@given(linear_vae_cases())
def test_sympy_and_torch_elbo_agree(case):
    ref = sympy_elbo(case)
    got = linear_elbo(case.x, case.W, case.b, case.sigma2, case.m, case.S).numpy()
    assert np.all(np.abs(got - ref) <= REL_TOL * term_scale(case))


@given(linear_vae_cases())
def test_numpy_api_elbo_agrees_with_sympy_and_torch(case):
    ref = sympy_elbo(case)
    got = np.asarray(linear.elbo(case.x, case.W, case.b, case.sigma2, case.m, case.S))
    torch_value = linear_elbo(case.x, case.W, case.b, case.sigma2, case.m, case.S).numpy()
    scale = term_scale(case)
    assert got.shape == ref.shape
    assert np.all(np.abs(got - ref) <= REL_TOL * scale)
    assert np.all(np.abs(got - torch_value) <= REL_TOL * scale)


@given(linear_vae_cases(), st.integers(0, 2**31 - 1))
def test_monte_carlo_elbo_within_z_standard_errors(case, seed):
    exact = linear_elbo(case.x, case.W, case.b, case.sigma2, case.m, case.S)
    gen = torch.Generator().manual_seed(seed)
    est = linear_elbo_monte_carlo(case.x, case.W, case.b, case.sigma2, case.m, case.S,
                                  num_samples=MC_SAMPLES, generator=gen)
    assert torch.all(est.stderr > 0)
    assert torch.all((est.mean - exact).abs() <= Z * est.stderr), (Z, est, exact)


def test_monte_carlo_detects_a_wrong_closed_form():
    # The comparison has power: shifting the reference by 10 standard errors fails it.
    rng = np.random.default_rng(0)
    x, W, b = rng.normal(size=(2, 3)), rng.normal(size=(3, 2)), rng.normal(size=3)
    m, S = rng.normal(size=(2, 2)), np.diag([0.5, 2.0])
    exact = linear_elbo(x, W, b, 0.7, m, S)
    est = linear_elbo_monte_carlo(x, W, b, 0.7, m, S, num_samples=MC_SAMPLES,
                                  generator=torch.Generator().manual_seed(1))
    assert torch.all((est.mean - exact).abs() <= Z * est.stderr)
    assert not torch.any((est.mean - (exact + 10 * est.stderr)).abs() <= Z * est.stderr)


# ------------------------------------------------------------------ gap = KL, in mpmath


def _mp_matrix(a) -> mpmath.matrix:
    a = np.atleast_2d(np.asarray(a, dtype=np.float64))
    return mpmath.matrix([[mpmath.mpf(float(v)) for v in row] for row in a])


def _mp_logdet(a: mpmath.matrix) -> mpmath.mpf:
    return mpmath.log(mpmath.det(a))


def _mp_trace(a: mpmath.matrix) -> mpmath.mpf:
    return mpmath.fsum(a[i, i] for i in range(a.rows))


def mp_log_marginal(x, W, b, sigma2):
    """log N(x | b, W W^T + sigma2 I) (Tipping & Bishop 1999, section 3), mpmath."""
    d = W.rows
    C = W * W.T + sigma2 * mpmath.eye(d)
    r = x - b
    quad = (r.T * mpmath.inverse(C) * r)[0, 0]
    return -(d * mpmath.log(2 * mpmath.pi) + _mp_logdet(C) + quad) / 2


def mp_posterior(x, W, b, sigma2):
    """N(M^-1 W^T (x - b), sigma2 M^-1), M = W^T W + sigma2 I (Tipping & Bishop, sec. 3)."""
    k = W.cols
    M_inv = mpmath.inverse(W.T * W + sigma2 * mpmath.eye(k))
    return M_inv * W.T * (x - b), sigma2 * M_inv


def mp_kl(m, S, mu, Sigma):
    """KL(N(m, S) || N(mu, Sigma)) = 1/2 [tr(Sigma^-1 S) + (mu-m)^T Sigma^-1 (mu-m) - k
    + log det Sigma - log det S] (Kingma & Welling 2013, appendix B, general form)."""
    k = S.rows
    Si = mpmath.inverse(Sigma)
    diff = mu - m
    return (_mp_trace(Si * S) + (diff.T * Si * diff)[0, 0] - k
            + _mp_logdet(Sigma) - _mp_logdet(S)) / 2


def mp_sympy_elbo(d, k, x, W, b, sigma2, m, S):
    """The sympy closed-form ELBO evaluated in mpmath at the current precision."""
    s, f = _sympy_elbo(d, k, "mpmath")
    values = {}
    for sym_mat, val in ((s.x, x), (s.W, W), (s.b, b), (s.m, m), (s.S, S)):
        for i in range(sym_mat.rows):
            for j in range(sym_mat.cols):
                if isinstance(sym_mat[i, j], sp.Symbol):
                    values[sym_mat[i, j]] = val[i, j]
    values[s.sigma2] = sigma2
    return f(*[values[sym] for sym in s.all_symbols])


def _gap_and_kl(d, k, x, W, b, sigma2, m, S):
    elbo = mp_sympy_elbo(d, k, x, W, b, sigma2, m, S)
    logp = mp_log_marginal(x, W, b, sigma2)
    mu, Sigma = mp_posterior(x, W, b, sigma2)
    return elbo, logp, mp_kl(m, S, mu, Sigma)


def _mp_rows(case):
    """Per row i of a case, at the current mpmath precision: (i, ELBO, log p(x), KL(q ||
    posterior), posterior mean, posterior covariance), all in mpmath."""
    d, k = case.data_dim, case.latent_dim
    W, b, S = _mp_matrix(case.W), _mp_matrix(case.b).T, _mp_matrix(case.S)
    sigma2 = mpmath.mpf(case.sigma2)
    for i in range(case.x.shape[0]):
        x, m = _mp_matrix(case.x[i]).T, _mp_matrix(case.m[i]).T
        elbo, logp, kl = _gap_and_kl(d, k, x, W, b, sigma2, m, S)
        yield (i, elbo, logp, kl, *mp_posterior(x, W, b, sigma2))


@given(linear_vae_cases(max_points=2))
def test_elbo_below_log_marginal_and_gap_is_kl(case):
    with mpmath.workdps(DPS):  # restores mp.dps on exit
        for _, elbo, logp, kl, _, _ in _mp_rows(case):
            assert elbo <= logp
            assert kl >= 0
            # 50 digits; ~30 terms of size <= 1e4: the identity holds to 1e-40.
            assert abs((logp - elbo) - kl) <= mpmath.mpf(10) ** (-40) * (1 + abs(logp))


@given(linear_vae_cases(max_points=1), bounded_floats(1e-12, 1e-4))
def test_tiny_gap_near_the_posterior_equals_kl_in_mpmath(case, delta):
    # q = posterior with its mean shifted by delta and its covariance scaled by (1 + delta):
    # the gap is O(delta^2), down to ~1e-25, far below float64 resolution of log p(x).
    d, k = case.data_dim, case.latent_dim
    old = mpmath.mp.dps
    try:
        mpmath.mp.dps = DPS
        W, b = _mp_matrix(case.W), _mp_matrix(case.b).T
        sigma2 = mpmath.mpf(case.sigma2)
        x = _mp_matrix(case.x[0]).T
        mu, Sigma = mp_posterior(x, W, b, sigma2)
        dlt = mpmath.mpf(delta)
        m = mu + dlt * mpmath.matrix([1] * k)
        S = Sigma * (1 + dlt)
        elbo, logp, kl = _gap_and_kl(d, k, x, W, b, sigma2, m, S)
        gap = logp - elbo
        assert gap > 0 and kl > 0
        assert abs(gap - kl) <= mpmath.mpf(10) ** (-40) * (1 + abs(logp))
        # Exactly at the posterior the gap vanishes (to the working precision).
        elbo0, logp0, kl0 = _gap_and_kl(d, k, x, W, b, sigma2, mu, Sigma)
        assert abs(logp0 - elbo0) <= mpmath.mpf(10) ** (-40) * (1 + abs(logp0))
        assert abs(kl0) <= mpmath.mpf(10) ** (-40)
    finally:
        mpmath.mp.dps = old


@given(linear_vae_cases(max_points=3))
def test_numpy_api_log_marginal_posterior_and_kl_match_mpmath(case):
    k = case.latent_dim
    logp64 = np.asarray(linear.log_marginal(case.x, case.W, case.b, case.sigma2))
    means64, cov64 = linear.posterior(case.x, case.W, case.b, case.sigma2)
    kl64 = np.asarray(linear.kl_to_posterior(case.x, case.W, case.b, case.sigma2, case.m,
                                             case.S))
    elbo64 = np.asarray(linear.elbo(case.x, case.W, case.b, case.sigma2, case.m, case.S))
    with mpmath.workdps(DPS):  # restores mp.dps on exit
        for i, elbo, logp, kl, mu, Sigma in _mp_rows(case):
            # float64 vs 50 digits: relative to the size of the terms (|log p| + 1).
            # Inverses and determinants of matrices with condition number <= ~1e4
            # (sigma2 >= 0.05, |W| <= 2) lose <= 4 digits: 1e-10 leaves room.
            scale = float(abs(logp)) + 1.0
            assert abs(logp64[i] - float(logp)) <= REL_TOL * scale
            assert abs(kl64[i] - float(kl)) <= REL_TOL * (scale + float(abs(elbo)))
            assert elbo64[i] <= logp64[i] + REL_TOL * scale
            for j in range(k):
                assert abs(means64[i, j] - float(mu[j])) <= REL_TOL * (1 + abs(float(mu[j])))
                for jj in range(k):
                    assert abs(cov64[j, jj] - float(Sigma[j, jj])) <= REL_TOL


def test_z_follows_from_the_budget():
    # Phi(z) = 1 - budget / (2 * comparisons): z ~ 6.25 for 1e-6 over 2400 comparisons.
    assert NormalDist().cdf(Z) == pytest.approx(1 - FALSE_FAILURE_BUDGET / (2 * MC_COMPARISONS),
                                                rel=1e-12)
    assert 6.0 < Z < 6.5


# ------------------------------------------------ argument checks of the torch implementation

_GOOD = {"x": np.zeros((2, 3)), "W": np.ones((3, 2)), "b": np.zeros(3), "sigma2": 1.0,
         "m": np.zeros((2, 2)), "S": np.eye(2)}


@pytest.mark.parametrize("argument, value", [
    ("x", np.zeros((2, 3, 1))),
    ("x", np.array([[np.nan, 0.0, 0.0], [0.0, 0.0, 0.0]])),
    ("W", np.ones((4, 2))),
    ("W", np.ones((3, 0))),
    ("b", np.zeros(4)),
    ("sigma2", 0.0),
    ("sigma2", -1.0),
    ("sigma2", np.ones(2)),
    ("m", np.zeros((3, 2))),
    ("S", np.eye(3)),
    ("S", np.array([[1.0, 0.5], [0.0, 1.0]])),
    ("S", np.array([[1.0, 2.0], [2.0, 1.0]])),
    ("S", "identity"),
])
def test_torch_linear_elbo_rejects_bad_arguments(argument, value):
    kwargs = {**_GOOD, argument: value}
    with pytest.raises(InvalidArgumentError) as info:
        linear_elbo(**kwargs)
    assert info.value.argument == argument
    with pytest.raises(InvalidArgumentError):
        linear_elbo_monte_carlo(**kwargs, num_samples=4)


@pytest.mark.parametrize("num_samples", [1, 0, 2.5, True])
def test_monte_carlo_needs_at_least_two_samples(num_samples):
    with pytest.raises(InvalidArgumentError) as info:
        linear_elbo_monte_carlo(**_GOOD, num_samples=num_samples)
    assert info.value.argument == "num_samples"


def test_torch_linear_elbo_accepts_one_point_and_per_point_covariances():
    one = linear_elbo(_GOOD["x"][0], _GOOD["W"], _GOOD["b"], 1.0, _GOOD["m"][0], _GOOD["S"])
    per_point = linear_elbo(_GOOD["x"], _GOOD["W"], _GOOD["b"], 1.0, _GOOD["m"],
                            np.stack([_GOOD["S"], _GOOD["S"]]))
    assert one.shape == (1,) and per_point.shape == (2,)
    assert float(one[0]) == float(per_point[0])  # same inputs, same float64 operations
