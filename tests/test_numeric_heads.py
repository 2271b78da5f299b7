"""Likelihood heads and VAE estimators against scipy and the closed forms (float64)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from vaeproofs.errors import InvalidArgumentError
from vaeproofs.numeric.heads import (
    HEADS,
    Bernoulli,
    FixedGaussian,
    FlooredGaussian,
    HeadOptions,
    LikelihoodHead,
    PerPixelGaussian,
    SharedGaussian,
    StudentT,
    gaussian_log_density_cap,
    make_head,
)
from vaeproofs.numeric.metrics import mean_and_standard_error
from vaeproofs.numeric.networks import VAE, gaussian_kl_standard

# A sum of D = 7 log-densities, each O(10) in size, computed by two float64 code paths:
# each path's rounding is a few ulp per term, so 1e-12 absolute (about 500 ulp of a
# value of order 10) is generous for rounding and far below any formula error.
ATOL = 1e-12
D = 7


def _rng() -> np.random.Generator:
    return np.random.default_rng(20240611)


def _t(a: np.ndarray) -> torch.Tensor:
    return torch.as_tensor(a, dtype=torch.float64)


def test_fixed_gaussian_matches_scipy_norm() -> None:
    rng = _rng()
    x, mu = rng.normal(size=(5, D)), rng.normal(size=(5, D))
    head = FixedGaussian(0.3)
    ref = stats.norm.logpdf(x, loc=mu, scale=0.3).sum(-1)  # scipy.stats.norm
    np.testing.assert_allclose(head.log_prob(_t(x), _t(mu)).numpy(), ref, rtol=0, atol=ATOL)
    assert head.cap(D) == pytest.approx(stats.norm.logpdf(0.0, scale=0.3) * D, abs=ATOL)


def test_shared_gaussian_matches_scipy_norm() -> None:
    rng = _rng()
    x, mu = rng.normal(size=(5, D)), rng.normal(size=(5, D))
    head = SharedGaussian().double()
    with torch.no_grad():
        head.log_gamma.fill_(math.log(0.07))
    ref = stats.norm.logpdf(x, loc=mu, scale=math.sqrt(0.07)).sum(-1)
    np.testing.assert_allclose(head.log_prob(_t(x), _t(mu)).detach().numpy(), ref,
                               rtol=0, atol=ATOL)
    assert head.cap(D) is None
    np.testing.assert_allclose(head.variance(_t(mu)).detach().numpy(), 0.07, rtol=1e-15)


def test_per_pixel_gaussian_matches_scipy_norm() -> None:
    rng = _rng()
    x, mu = rng.normal(size=(5, D)), rng.normal(size=(5, D))
    log_var = rng.uniform(-8.0, 3.0, size=(5, D))
    out = _t(np.concatenate([mu, log_var], axis=-1))
    head = PerPixelGaussian()
    ref = stats.norm.logpdf(x, loc=mu, scale=np.exp(0.5 * log_var)).sum(-1)
    np.testing.assert_allclose(head.log_prob(_t(x), out).numpy(), ref, rtol=0, atol=1e-9)
    np.testing.assert_allclose(head.variance(out).numpy(), np.exp(log_var), rtol=1e-15)
    assert head.cap(D) is None


def test_floored_gaussian_matches_scipy_norm_with_softplus_variance() -> None:
    rng = _rng()
    x, mu = rng.normal(size=(5, D)), rng.normal(size=(5, D))
    rho = rng.uniform(-30.0, 3.0, size=(5, D))
    out = _t(np.concatenate([mu, rho], axis=-1))
    head = FlooredGaussian(xi=0.02)
    var = 0.02 + np.logaddexp(0.0, rho)  # xi + softplus(rho), softplus via numpy
    ref = stats.norm.logpdf(x, loc=mu, scale=np.sqrt(var)).sum(-1)
    np.testing.assert_allclose(head.log_prob(_t(x), out).numpy(), ref, rtol=0, atol=ATOL)
    np.testing.assert_allclose(head.variance(out).numpy(), var, rtol=1e-15)


def test_bernoulli_matches_scipy_bernoulli() -> None:
    rng = _rng()
    x = rng.integers(0, 2, size=(5, D)).astype(float)
    logits = rng.normal(0.0, 4.0, size=(5, D))
    p = 1.0 / (1.0 + np.exp(-logits))
    ref = stats.bernoulli.logpmf(x, p).sum(-1)
    head = Bernoulli()
    np.testing.assert_allclose(head.log_prob(_t(x), _t(logits)).numpy(), ref, rtol=0, atol=1e-11)
    np.testing.assert_allclose(head.mean(_t(logits)).numpy(), p, rtol=1e-14)
    assert head.cap(D) == 0.0


@pytest.mark.parametrize("nu", [0.7, 3.0, 30.0])
def test_student_t_matches_scipy_t(nu: float) -> None:
    rng = _rng()
    x, mu = rng.normal(size=(5, D)), rng.normal(size=(5, D))
    log_s = rng.uniform(-6.0, 2.0, size=(5, D))
    out = _t(np.concatenate([mu, log_s], axis=-1))
    head = StudentT(nu)
    ref = stats.t.logpdf(x, df=nu, loc=mu, scale=np.exp(log_s)).sum(-1)  # scipy.stats.t
    np.testing.assert_allclose(head.log_prob(_t(x), out).numpy(), ref, rtol=0, atol=1e-9)
    np.testing.assert_allclose(head.variance(out).numpy(), np.exp(2 * log_s), rtol=1e-14)
    assert head.cap(D) is None


def test_cap_is_the_closed_form_and_rejects_bad_floors() -> None:
    # -(D/2) log(2 pi xi): docs/theory.md section 3, Gaussian density cap.
    assert gaussian_log_density_cap(64, 1e-3) == -32 * math.log(2 * math.pi * 1e-3)
    assert FlooredGaussian(1e-3).cap(64) == gaussian_log_density_cap(64, 1e-3)
    for bad in (0.0, -1.0, math.nan):
        with pytest.raises(InvalidArgumentError, match=r"^xi:"):
            gaussian_log_density_cap(64, bad)
        with pytest.raises(InvalidArgumentError, match=r"^xi:"):
            FlooredGaussian(bad)
    with pytest.raises(InvalidArgumentError, match=r"^fixed_std:"):
        FixedGaussian(0.0)
    with pytest.raises(InvalidArgumentError, match=r"^nu:"):
        StudentT(-2.0)


finite = st.floats(-50.0, 50.0, allow_nan=False, allow_subnormal=False)


@given(x=st.lists(finite, min_size=D, max_size=D), mu=st.lists(finite, min_size=D, max_size=D),
       rho=st.lists(st.floats(-700.0, 50.0, allow_subnormal=False), min_size=D, max_size=D),
       xi=st.floats(1e-6, 10.0))
def test_floored_density_never_exceeds_its_cap(x: list[float], mu: list[float],
                                               rho: list[float], xi: float) -> None:
    head = FlooredGaussian(xi)
    out = _t(np.array(mu + rho))
    value = float(head.log_prob(_t(np.array(x)), out))
    # Equality is reached at x = mu with softplus(rho) = 0; allow the rounding of D terms.
    assert value <= head.cap(D) + 1e-12 * max(1.0, abs(head.cap(D)))  # type: ignore[operator]
    assert bool((head.variance(out) >= xi).all())


@given(x=st.lists(st.sampled_from([0.0, 1.0]), min_size=D, max_size=D),
       logits=st.lists(finite, min_size=D, max_size=D))
def test_bernoulli_log_probability_is_never_positive(x: list[float], logits: list[float]
                                                     ) -> None:
    assert float(Bernoulli().log_prob(_t(np.array(x)), _t(np.array(logits)))) <= 0.0


def test_registry_and_make_head() -> None:
    assert set(HEADS) == {"fixed", "shared", "per-pixel", "floor", "bernoulli", "student-t",
                          "softclip", "student-t-floored", "discretised-gaussian",
                          "discretised-logistic", "continuous-bernoulli", "gaussian-nll-eps",
                          "beta-nll"}
    opts = HeadOptions(xi=0.5, fixed_std=0.2, nu=4.0)
    assert make_head("floor", opts).xi == 0.5  # type: ignore[attr-defined]
    assert make_head("fixed", opts).fixed_std == 0.2  # type: ignore[attr-defined]
    assert make_head("student-t", opts).nu == 4.0  # type: ignore[attr-defined]
    with pytest.raises(InvalidArgumentError, match=r"^likelihood: must be one of"):
        make_head("laplace")


def test_adding_a_family_is_one_class() -> None:
    class Laplace(LikelihoodHead):
        name = "test-laplace"

        def log_prob(self, x: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
            return (-math.log(2.0) - (x - out).abs()).sum(-1)

    try:
        head = make_head("test-laplace")
        x = np.array([[0.3, -1.0]])
        ref = stats.laplace.logpdf(x, loc=0.1).sum(-1)
        np.testing.assert_allclose(head.log_prob(_t(x), _t(np.full((1, 2), 0.1))).numpy(),
                                   ref, rtol=0, atol=ATOL)
        with pytest.raises(TypeError, match="defined twice"):
            type("Again", (LikelihoodHead,), {"name": "test-laplace"})
    finally:
        HEADS.pop("test-laplace", None)


def test_gaussian_kl_matches_torch_distributions() -> None:
    rng = _rng()
    m, lv = _t(rng.normal(size=(4, 3))), _t(rng.uniform(-5, 2, size=(4, 3)))
    q = torch.distributions.Normal(m, torch.exp(0.5 * lv))
    p = torch.distributions.Normal(torch.zeros_like(m), torch.ones_like(m))
    ref = torch.distributions.kl_divergence(q, p).sum(-1)  # an independent implementation
    torch.testing.assert_close(gaussian_kl_standard(m, lv), ref, rtol=0, atol=ATOL)


def _linear_gaussian_vae(exact_posterior: bool) -> tuple[VAE, np.ndarray, np.ndarray, float]:
    """A linear VAE (depth 0) with a shared variance sigma^2 and decoder W z + b.

    W has orthogonal columns, so the exact posterior N(M^-1 W^T (x - b), sigma^2 M^-1),
    M = W^T W + sigma^2 I (docs/theory.md section 3), is diagonal and the linear encoder
    can represent it exactly.
    """
    rng = _rng()
    d, k, sigma2 = 6, 2, 0.3
    q, _ = np.linalg.qr(rng.normal(size=(d, k)))
    w = q * np.array([1.5, 0.7])
    b = rng.normal(size=d)
    model = VAE(d, k, SharedGaussian(), hidden=1, depth=0).double()
    m = w.T @ w + sigma2 * np.eye(k)
    minv = np.linalg.inv(m)
    with torch.no_grad():
        model.decoder[0].weight.copy_(_t(w))
        model.decoder[0].bias.copy_(_t(b))
        model.head.log_gamma.fill_(math.log(sigma2))  # type: ignore[union-attr]
        if exact_posterior:
            enc_w = np.vstack([minv @ w.T, np.zeros((k, d))])
            enc_b = np.concatenate([-minv @ w.T @ b, np.log(sigma2 * np.diag(minv))])
        else:
            enc_w = rng.normal(0, 0.3, size=(2 * k, d))
            enc_b = rng.normal(0, 0.3, size=2 * k)
        model.encoder[0].weight.copy_(_t(enc_w))
        model.encoder[0].bias.copy_(_t(enc_b))
    x = rng.normal(size=(5, d)) + b
    return model, x, w @ w.T + sigma2 * np.eye(d), sigma2


def test_iwae_with_the_exact_posterior_is_the_exact_log_likelihood() -> None:
    # With q = p(z | x) every importance weight equals p(x), for any draw and any K.
    model, x, cov, _ = _linear_gaussian_vae(exact_posterior=True)
    b = model.decoder[0].bias.detach().numpy()
    ref = stats.multivariate_normal(mean=b, cov=cov).logpdf(x)  # marginal N(b, WW^T + s^2 I)
    gen = torch.Generator().manual_seed(0)
    for k in (1, 7):
        got = model.iwae(_t(x), samples=k, generator=gen).detach().numpy()
        np.testing.assert_allclose(got, ref, rtol=0, atol=1e-11)


def test_monte_carlo_elbo_matches_the_linear_closed_form() -> None:
    # ELBO = -D/2 log(2 pi s^2) - (||x - W m - b||^2 + tr(W S W^T)) / (2 s^2) - KL
    # (docs/theory.md section 3).  The Monte Carlo mean over S draws must agree within z
    # standard errors; z = 5 gives a false-failure probability below 6e-7 per point
    # (two-sided normal tail), and the seed is fixed.
    model, x, _, sigma2 = _linear_gaussian_vae(exact_posterior=False)
    w = model.decoder[0].weight.detach().numpy()
    b = model.decoder[0].bias.detach().numpy()
    xt = _t(x)
    m, lv = (a.detach().numpy() for a in model.encode(xt))
    d = x.shape[1]
    resid = ((x - m @ w.T - b) ** 2).sum(-1)
    trace = (np.exp(lv) * (w**2).sum(0)).sum(-1)
    kl = 0.5 * (m**2 + np.exp(lv) - 1 - lv).sum(-1)
    ref = -0.5 * d * np.log(2 * np.pi * sigma2) - (resid + trace) / (2 * sigma2) - kl
    gen = torch.Generator().manual_seed(1)
    rec, kl_t = model.elbo_terms(xt, samples=20000, generator=gen)
    est = (rec.mean(0) - kl_t).detach().numpy()
    se = rec.std(0).detach().numpy() / math.sqrt(20000)
    assert np.all(np.abs(est - ref) <= 5 * se)


def test_mean_and_standard_error_matches_numpy() -> None:
    v = _rng().normal(size=37)
    mean, se = mean_and_standard_error(_t(v))
    assert mean == pytest.approx(v.mean(), abs=1e-15)
    assert se == pytest.approx(v.std(ddof=1) / math.sqrt(37), rel=1e-13)
    assert mean_and_standard_error(_t(v[:1]))[1] == 0.0
