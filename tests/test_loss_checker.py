"""Tests of vaeproofs.testing: the checker of users' Gaussian-VAE losses.

Reference forms (Kingma & Welling 2013, arXiv 1312.6114, appendix B and section C.2;
natural log; logvar = log variance):
  -log N(x | mu, diag exp(lv)) = 1/2 sum[(x - mu)^2 exp(-lv) + lv + log 2 pi]
  KL(N(m, diag exp(lz)) || N(0, I)) = 1/2 sum[m^2 + exp(lz) - 1 - lz]
Each planted mistake is a known edit of these; each legitimate variant (sum or mean over
the batch, dropped constants, a KL weight) is a known rescaling, so the expected beta,
scale and constant are the planted numbers, compared within the checker's own round-off
bounds (``beta_bound``, ``coefficient_bounds``), which are derived in the module docstring.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from vaeproofs.errors import InvalidArgumentError, VaeproofsError
from vaeproofs.strategies import bounded_floats
from vaeproofs.testing import (
    FEATURE_NAMES,
    LossCheckReport,
    LossFunctionError,
    NotAnElboError,
    assert_gaussian_vae_loss,
    check_gaussian_vae_loss,
)

LOG_2PI = math.log(2.0 * math.pi)


def nll(x, mu, lv):
    """Gaussian negative log-likelihood, summed over batch and pixels."""
    return 0.5 * ((x - mu) ** 2 * torch.exp(-lv) + lv + LOG_2PI).sum()


def kl(mz, lz):
    """KL(N(mz, exp(lz)) || N(0, I)), summed over batch and latents."""
    return 0.5 * (mz ** 2 + torch.exp(lz) - 1.0 - lz).sum()


def true_elbo(x, mu, lv, mz, lz):
    return nll(x, mu, lv) + kl(mz, lz)


# ---------------------------------------------------------------- legitimate losses


@pytest.mark.parametrize("name, loss_fn, expected_scale", [
    ("sum over batch", true_elbo, lambda b: 1.0),
    ("mean over batch", lambda x, mu, lv, mz, lz: true_elbo(x, mu, lv, mz, lz) / x.shape[0],
     lambda b: 1.0 / b),
    ("constants dropped, KL in the 'minus 1/2 sum(1 + lv - m^2 - exp lv)' form",
     lambda x, mu, lv, mz, lz: 0.5 * ((x - mu) ** 2 / lv.exp() + lv).sum()
     - 0.5 * (1 + lz - mz ** 2 - lz.exp()).sum(), lambda b: 1.0),
    ("torch.distributions",
     lambda x, mu, lv, mz, lz: -torch.distributions.Normal(mu, (0.5 * lv).exp()).log_prob(x).sum()
     + torch.distributions.kl_divergence(torch.distributions.Normal(mz, (0.5 * lz).exp()),
                                         torch.distributions.Normal(0.0, 1.0)).sum(),
     lambda b: 1.0),
])
def test_true_elbo_variants_are_recognised_with_beta_one(name, loss_fn, expected_scale):
    report = check_gaussian_vae_loss(loss_fn)
    assert report.is_elbo, report.diagnosis
    assert abs(report.beta - 1.0) <= report.beta_bound
    b = report.reference_shape[0]
    assert report.scale == pytest.approx(expected_scale(b), abs=4 * report.coefficient_bounds[
        "sq_err/var"])
    assert report.fixed_variance is None
    assert report.beta_depends_on == ()
    assert "learned diagonal decoder variance" in report.diagnosis
    assert report.residual <= report.tolerance


def test_sum_and_mean_reductions_are_reported():
    summed = check_gaussian_vae_loss(true_elbo)
    meaned = check_gaussian_vae_loss(lambda *a: true_elbo(*a) / a[0].shape[0])
    assert "reconstruction: sum over batch, sum over pixels" in summed.reduction
    assert "KL: sum over batch, sum over latents" in summed.reduction
    assert "reconstruction: mean over batch" in meaned.reduction
    assert "KL: mean over batch" in meaned.reduction


def test_scale_and_constant_are_recovered():
    # loss = 3 * (-ELBO) + 7: the planted scale and constant.
    report = check_gaussian_vae_loss(lambda *a: 3.0 * true_elbo(*a) + 7.0)
    assert report.is_elbo
    bound = report.coefficient_bounds
    assert report.scale == pytest.approx(3.0, abs=4 * bound["sq_err/var"])
    # The constant is the intercept minus known terms of size ~ B D log(2 pi) scale.
    b, d, k = report.reference_shape
    assert report.constant == pytest.approx(7.0, abs=4 * bound["const"]
                                            + 4 * bound["sq_err/var"] * b * (d * LOG_2PI + k))


@given(beta=bounded_floats(0.05, 20.0), scale=bounded_floats(0.01, 100.0),
       constant=bounded_floats(-100.0, 100.0), mean_over_batch=st.booleans())
def test_planted_beta_is_recovered(beta, scale, constant, mean_over_batch):
    def loss_fn(x, mu, lv, mz, lz):
        value = scale * (nll(x, mu, lv) + beta * kl(mz, lz)) + constant
        return value / x.shape[0] if mean_over_batch else value

    report = check_gaussian_vae_loss(loss_fn)
    assert report.is_elbo, report.diagnosis
    assert abs(report.beta - beta) <= report.beta_bound
    assert report.beta_depends_on == ()


def test_beta_vae_is_not_called_a_bug():
    report = check_gaussian_vae_loss(lambda x, mu, lv, mz, lz: nll(x, mu, lv) + 4.0 * kl(mz, lz))
    assert report.is_elbo
    assert abs(report.beta - 4.0) <= report.beta_bound
    assert "beta-VAE" in report.diagnosis and "beta = 4" in report.diagnosis
    assert_gaussian_vae_loss(lambda x, mu, lv, mz, lz: nll(x, mu, lv) + 4.0 * kl(mz, lz))
    with pytest.raises(NotAnElboError, match="beta = 4"):
        assert_gaussian_vae_loss(lambda x, mu, lv, mz, lz: nll(x, mu, lv) + 4.0 * kl(mz, lz),
                                 beta=1.0)


@pytest.mark.parametrize("loss_fn, beta, hint", [
    (lambda x, mu, lv, mz, lz: nll(x, mu, lv) + (mz ** 2 + lz.exp() - 1 - lz).sum(), 2.0,
     "KL missing its 1/2"),
    (lambda x, mu, lv, mz, lz: ((x - mu) ** 2 / lv.exp() + lv).sum() + kl(mz, lz), 0.5,
     "negative log-likelihood missing its 1/2"),
])
def test_a_missing_half_on_a_whole_term_is_a_beta_vae_with_a_hint(loss_fn, beta, hint):
    # Dropping the 1/2 of a whole term only reweights KL against reconstruction: a
    # beta-VAE (not a bug by the rule), but the diagnosis names the likely slip.
    report = check_gaussian_vae_loss(loss_fn)
    assert report.is_elbo
    assert abs(report.beta - beta) <= report.beta_bound
    assert hint in report.diagnosis
    with pytest.raises(NotAnElboError, match=hint):
        assert_gaussian_vae_loss(loss_fn, beta=1.0)


def test_mean_over_all_elements_gives_beta_equal_to_data_dim():
    # F.gaussian_nll_loss(reduction="mean") averages over B*D (and drops log 2 pi); a KL
    # summed over latents and averaged over the batch then has weight D relative to it.
    def loss_fn(x, mu, lv, mz, lz):
        return F.gaussian_nll_loss(mu, x, lv.exp(), reduction="mean") + kl(mz, lz) / x.shape[0]

    report = check_gaussian_vae_loss(loss_fn, data_shape=10)
    assert report.is_elbo
    assert abs(report.beta - 10.0) <= report.beta_bound
    free = check_gaussian_vae_loss(loss_fn)            # D varies: beta depends on it
    assert free.is_elbo and free.beta_depends_on == ("data_dim",)
    assert "mean over pixels" in free.reduction


def test_mnist_sized_batch_with_mean_reduction():
    # 128 x 784 elements: the round-off bound grows with B D, the verdict must not change.
    def loss_fn(x, mu, lv, mz, lz):
        b = x.shape[0]
        return (nll(x.flatten(1), mu.flatten(1), lv.flatten(1)) + kl(mz, lz)) / b

    report = check_gaussian_vae_loss(loss_fn, data_shape=(1, 28, 28), latent_dim=16,
                                     batch_size=128)
    assert report.is_elbo and abs(report.beta - 1.0) <= report.beta_bound
    assert "mean over batch" in report.reduction


def test_image_shaped_data_and_fixed_latent_dim():
    def loss_fn(x, mu, lv, mz, lz):
        assert x.shape[1:] == (1, 3, 3) and mz.shape[1] == 5
        return nll(x.flatten(1), mu.flatten(1), lv.flatten(1)) + kl(mz, lz)

    report = check_gaussian_vae_loss(loss_fn, data_shape=(1, 3, 3), latent_dim=5, batch_size=4)
    assert report.is_elbo and report.reference_shape == (4, 9, 5)


def test_float32_loss_is_judged_with_float32_round_off():
    def loss_fn(*args):
        return true_elbo(*(a.float() for a in args))

    report = check_gaussian_vae_loss(loss_fn)
    assert report.is_elbo, report.diagnosis
    assert abs(report.beta - 1.0) <= report.beta_bound
    # The float32 bound is larger than the float64 one by about eps32 / eps64 = 2^29.
    report64 = check_gaussian_vae_loss(true_elbo)
    assert report.tolerance > 1e6 * report64.tolerance
    assert check_gaussian_vae_loss(true_elbo, dtype=torch.float32).is_elbo


def test_plain_squared_error_is_a_fixed_variance_elbo():
    # sum (x - mu)^2 + KL = -ELBO of N(mu, s0^2 I) with 1 / (2 s0^2) = 1: s0^2 = 1/2.
    def loss_fn(x, mu, lv, mz, lz):
        return F.mse_loss(mu, x, reduction="sum") + kl(mz, lz)

    report = check_gaussian_vae_loss(loss_fn)
    assert report.is_elbo and report.beta == 1.0
    assert report.fixed_variance == pytest.approx(0.5, rel=1e-9)
    assert "logvar_x is ignored" in report.diagnosis
    assert_gaussian_vae_loss(loss_fn)
    with pytest.raises(NotAnElboError, match="not learned"):
        assert_gaussian_vae_loss(loss_fn, allow_fixed_variance=False)


def test_mse_mean_with_summed_kl_reports_batch_dependence():
    def loss_fn(x, mu, lv, mz, lz):
        return F.mse_loss(mu, x) + kl(mz, lz)

    report = check_gaussian_vae_loss(loss_fn, data_shape=6, batch_size=8)
    assert report.is_elbo
    # 1/(B D) sum (x-mu)^2 = sum (x-mu)^2 / (2 s0^2) with s0^2 = B D / 2 = 24.
    assert report.fixed_variance == pytest.approx(24.0, rel=1e-9)
    assert report.beta_depends_on == ("batch_size",)


# ---------------------------------------------------------------- planted mistakes


MISTAKES = [
    ("logvar used as log-std in the reconstruction",
     lambda x, mu, lv, mz, lz: (0.5 * (x - mu) ** 2 / torch.exp(lv) ** 2 + lv).sum() + kl(mz, lz),
     "log standard deviation"),
    ("missing 1/2 on the squared error",
     lambda x, mu, lv, mz, lz: ((x - mu) ** 2 / lv.exp() + 0.5 * lv).sum() + kl(mz, lz),
     "missing 1/2"),
    ("missing 1/2 on the log-variance",
     lambda x, mu, lv, mz, lz: (0.5 * (x - mu) ** 2 / lv.exp() + lv).sum() + kl(mz, lz),
     "missing 1/2 on the log-variance"),
    ("sign error in the KL",
     lambda x, mu, lv, mz, lz: nll(x, mu, lv) + 0.5 * (1 + lz - mz ** 2 - lz.exp()).sum(),
     "sign error in the KL"),
    ("logvar used as log-std in the KL",
     lambda x, mu, lv, mz, lz: nll(x, mu, lv) + 0.5 * (mz ** 2 + (2 * lz).exp() - 1 - 2 * lz).sum(),
     "logvar_z used as a log standard deviation"),
    ("divided by the std",
     lambda x, mu, lv, mz, lz: 0.5 * ((x - mu) ** 2 / (0.5 * lv).exp() + lv).sum() + kl(mz, lz),
     "standard deviation exp(logvar_x / 2)"),
    ("exp(+logvar) instead of exp(-logvar)",
     lambda x, mu, lv, mz, lz: 0.5 * ((x - mu) ** 2 * lv.exp() + lv).sum() + kl(mz, lz),
     "sign error in the exponent"),
    ("log-variance term missing",
     lambda x, mu, lv, mz, lz: 0.5 * ((x - mu) ** 2 / lv.exp()).sum() + kl(mz, lz),
     "log-variance term 1/2 logvar_x is missing"),
    ("KL missing", lambda x, mu, lv, mz, lz: nll(x, mu, lv), "KL term is missing"),
    ("loss is +ELBO", lambda *a: -true_elbo(*a), "loss is +ELBO"),
    ("sign error on logvar_z",
     lambda x, mu, lv, mz, lz: nll(x, mu, lv) + 0.5 * (mz ** 2 + lz.exp() - 1 + lz).sum(),
     "sign error on logvar_z"),
    ("missing 1/2 on logvar_z (log s taken as logvar)",
     lambda x, mu, lv, mz, lz: nll(x, mu, lv) + (0.5 * (mz ** 2 + lz.exp() - 1) - lz).sum(),
     "missing 1/2 on logvar_z"),
    ("L1 reconstruction", lambda x, mu, lv, mz, lz: (x - mu).abs().sum() + kl(mz, lz),
     "explained by no Gaussian-VAE term"),
]


@pytest.mark.parametrize("precision", ["float64", "float32"])
@pytest.mark.parametrize("name, loss_fn, keyword", MISTAKES, ids=[m[0] for m in MISTAKES])
def test_planted_mistake_is_caught_and_named(name, loss_fn, keyword, precision):
    if precision == "float32":  # the user computes in float32: looser bound, same verdict
        loss_fn = (lambda f: lambda *a: f(*(t.float() for t in a)))(loss_fn)
    report = check_gaussian_vae_loss(loss_fn)
    assert not report.is_elbo
    assert keyword in report.diagnosis, report.diagnosis
    with pytest.raises(NotAnElboError, match="not a Gaussian-VAE negative ELBO") as info:
        assert_gaussian_vae_loss(loss_fn)
    assert keyword in str(info.value)


def test_mistakes_within_the_span_have_a_residual_beyond_the_elbo_forms():
    # A missing 1/2 is outside span{ELBO forms}: the residual is far above the bound.
    report = check_gaussian_vae_loss(MISTAKES[1][1])
    assert report.residual > 1e6 * report.tolerance


def test_kl_sign_error_reports_beta_minus_one():
    report = check_gaussian_vae_loss(MISTAKES[3][1])
    assert abs(report.beta + 1.0) <= report.beta_bound


def test_report_is_frozen_and_lists_every_feature():
    report = check_gaussian_vae_loss(true_elbo)
    assert isinstance(report, LossCheckReport)
    assert tuple(report.coefficients) == FEATURE_NAMES
    with pytest.raises(AttributeError):
        report.beta = 2.0  # type: ignore[misc]
    assert "negative ELBO" in str(report)


def test_same_seed_same_report_and_other_seed_same_verdict():
    a = check_gaussian_vae_loss(true_elbo, seed=3)
    b = check_gaussian_vae_loss(true_elbo, seed=3)
    c = check_gaussian_vae_loss(true_elbo, seed=4)
    assert a == b
    assert c.is_elbo and abs(c.beta - 1.0) <= c.beta_bound


# ---------------------------------------------------------------- bad losses, bad arguments


def test_loss_returning_per_point_values_is_rejected():
    with pytest.raises(LossFunctionError, match="scalar"):
        check_gaussian_vae_loss(lambda x, mu, lv, mz, lz: ((x - mu) ** 2).sum(dim=1))


def test_loss_that_raises_is_reported():
    def loss_fn(x, mu, lv, mz, lz):
        raise RuntimeError("boom")

    with pytest.raises(LossFunctionError, match="raised RuntimeError: boom"):
        check_gaussian_vae_loss(loss_fn)


def test_loss_returning_nan_or_a_string_is_rejected():
    with pytest.raises(LossFunctionError, match="non-finite"):
        check_gaussian_vae_loss(lambda *a: torch.tensor(float("nan")))
    with pytest.raises(LossFunctionError, match="scalar tensor"):
        check_gaussian_vae_loss(lambda *a: "loss")


def test_random_loss_is_rejected_as_not_deterministic():
    gen = torch.Generator().manual_seed(0)
    with pytest.raises(LossFunctionError, match="not deterministic"):
        check_gaussian_vae_loss(lambda *a: true_elbo(*a) + torch.rand((), generator=gen,
                                                                         dtype=torch.float64))


def test_loss_function_errors_are_package_errors():
    assert issubclass(LossFunctionError, VaeproofsError)
    assert issubclass(NotAnElboError, VaeproofsError)
    assert issubclass(NotAnElboError, AssertionError)


@pytest.mark.parametrize("kwargs, argument", [
    ({"data_shape": 0}, "data_shape"),
    ({"data_shape": (2, -1)}, "data_shape"),
    ({"data_shape": ()}, "data_shape"),
    ({"latent_dim": 0}, "latent_dim"),
    ({"latent_dim": 2.5}, "latent_dim"),
    ({"batch_size": True}, "batch_size"),
    ({"batch_size": 1000, "data_shape": (1, 28, 28)}, "batch_size"),
    ({"dtype": torch.int64}, "dtype"),
    ({"seed": -1}, "seed"),
])
def test_bad_arguments_raise_invalid_argument(kwargs, argument):
    with pytest.raises(InvalidArgumentError) as info:
        check_gaussian_vae_loss(true_elbo, **kwargs)
    assert info.value.argument == argument


def test_non_callable_loss_and_bad_beta_raise_invalid_argument():
    with pytest.raises(InvalidArgumentError, match="loss_fn"):
        check_gaussian_vae_loss(np.float64(1.0))  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="beta"):
        assert_gaussian_vae_loss(true_elbo, beta=-1.0)
