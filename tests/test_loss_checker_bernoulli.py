"""Tests of the Bernoulli-decoder check and of the data-range option (vaeproofs.testing).

Reference form (natural log; Kingma & Welling 2013, arXiv 1312.6114, appendix C.1 and B):
-log Bernoulli(x | p) = -x log p - (1 - x) log(1 - p), p = sigmoid(logits), which is what
``F.binary_cross_entropy_with_logits`` computes; KL(N(m, s2) || N(0, 1)) = 1/2 [m^2 + s2 -
1 - log s2].  Planted betas, scales and reductions are compared within the checker's own
round-off bounds.
"""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from vaeproofs.errors import InvalidArgumentError
from vaeproofs.testing import (
    BERNOULLI_FEATURE_NAMES,
    LossFunctionError,
    NotAnElboError,
    assert_bernoulli_vae_loss,
    check_bernoulli_vae_loss,
    check_gaussian_vae_loss,
)

LOG_2PI = math.log(2.0 * math.pi)


def kl(mz, lz):
    return 0.5 * (mz ** 2 + torch.exp(lz) - 1.0 - lz).sum()


def bce_logits(x, logits):
    return F.binary_cross_entropy_with_logits(logits, x, reduction="sum")


# --------------------------------------------------------------------- legitimate losses


@pytest.mark.parametrize("loss_fn, beta, recon_reduction", [
    (lambda x, lg, mz, lz: bce_logits(x, lg) + kl(mz, lz), 1.0, "sum over batch"),
    (lambda x, lg, mz, lz: (bce_logits(x, lg) + kl(mz, lz)) / x.shape[0], 1.0, "mean over batch"),
    (lambda x, lg, mz, lz: -(x * F.logsigmoid(lg) + (1 - x) * F.logsigmoid(-lg)).sum()
     + 4.0 * kl(mz, lz), 4.0, "sum over batch"),
    (lambda x, lg, mz, lz: 3.0 * (bce_logits(x, lg) + 0.25 * kl(mz, lz)) - 5.0, 0.25,
     "sum over batch"),
], ids=["sum", "mean over batch", "logsigmoid form, beta 4", "scaled, beta 1/4"])
def test_bernoulli_elbo_and_beta_vae_are_recognised(loss_fn, beta, recon_reduction):
    report = check_bernoulli_vae_loss(loss_fn)
    assert report.is_elbo, report.diagnosis
    assert report.likelihood == "bernoulli" and report.fixed_variance is None
    assert abs(report.beta - beta) <= report.beta_bound
    assert report.beta_depends_on == ()
    assert f"reconstruction: {recon_reduction}" in report.reduction
    assert tuple(report.coefficients) == BERNOULLI_FEATURE_NAMES
    assert_bernoulli_vae_loss(loss_fn, beta=beta)


def test_bernoulli_scale_and_constant_are_recovered():
    # loss = 3 * (BCE + beta KL) - 5 with beta = 1/4: the planted scale and constant.
    report = check_bernoulli_vae_loss(lambda x, lg, mz, lz: 3.0 * (bce_logits(x, lg)
                                                                   + 0.25 * kl(mz, lz)) - 5.0)
    bound = report.coefficient_bounds
    b, _, k = report.reference_shape
    assert report.scale == pytest.approx(3.0, abs=bound["-x log p"])
    assert report.constant == pytest.approx(-5.0, abs=bound["const"] + bound["mu_z^2"] * b * k)


def test_mean_over_pixels_gives_beta_equal_to_data_dim():
    def loss_fn(x, lg, mz, lz):  # F.binary_cross_entropy_with_logits default: mean over B D
        return F.binary_cross_entropy_with_logits(lg, x) + kl(mz, lz) / x.shape[0]

    report = check_bernoulli_vae_loss(loss_fn, data_shape=(1, 3, 3))
    assert report.is_elbo and abs(report.beta - 9.0) <= report.beta_bound
    free = check_bernoulli_vae_loss(loss_fn)
    assert free.beta_depends_on == ("data_dim",) and "mean over pixels" in free.reduction
    with pytest.raises(NotAnElboError, match="beta is not a constant"):
        assert_bernoulli_vae_loss(loss_fn, beta=1.0)


def test_probabilities_parameterization():
    def loss_fn(x, p, mz, lz):
        assert float(p.min()) > 0.0 and float(p.max()) < 1.0
        return F.binary_cross_entropy(p, x, reduction="sum") + kl(mz, lz)

    report = check_bernoulli_vae_loss(loss_fn, parameterization="probs")
    assert report.is_elbo and abs(report.beta - 1.0) <= report.beta_bound


def test_float32_bernoulli_loss_is_accepted():
    report = check_bernoulli_vae_loss(
        lambda x, lg, mz, lz: (bce_logits(x.float(), lg.float()) + kl(mz.float(), lz.float()))
        .item())
    assert report.is_elbo and abs(report.beta - 1.0) <= report.beta_bound


# ---------------------------------------------------------------------- planted mistakes


@pytest.mark.parametrize("loss_fn, parameterization, keyword", [
    (lambda x, lg, mz, lz: bce_logits(x, torch.sigmoid(lg)) + kl(mz, lz), "logits",
     "sigmoid is applied twice"),
    (lambda x, p, mz, lz: bce_logits(x, p) + kl(mz, lz), "probs", "sigmoid is applied twice"),
    (lambda x, lg, mz, lz: -(x * F.logsigmoid(lg)).sum() + kl(mz, lz), "logits",
     "-(1 - x) log(1 - p) term is missing"),
    (lambda x, lg, mz, lz: ((x - torch.sigmoid(lg)) ** 2).sum() + kl(mz, lz), "logits",
     "squared error on the probabilities"),
    (lambda x, lg, mz, lz: bce_logits(x, lg) + 0.5 * (1 + lz - mz ** 2 - lz.exp()).sum(),
     "logits", "sign error in the KL"),
    (lambda x, lg, mz, lz: -bce_logits(x, lg) - kl(mz, lz), "logits", "loss is +ELBO"),
    (lambda x, lg, mz, lz: bce_logits(x, lg) / x.shape[0] + 10.0 * (kl(mz, lz) / x.shape[0]
                                                                   - 2.0).abs(), "logits",
     "Burgess et al. 2018"),
], ids=["sigmoid twice", "probs as logits", "positive class only", "MSE on probabilities",
        "KL sign", "+ELBO", "capacity"])
def test_bernoulli_mistakes_are_named(loss_fn, parameterization, keyword):
    report = check_bernoulli_vae_loss(loss_fn, parameterization=parameterization)
    assert not report.is_elbo
    assert keyword in report.diagnosis, report.diagnosis
    with pytest.raises(NotAnElboError, match="not a Bernoulli-VAE negative ELBO"):
        assert_bernoulli_vae_loss(loss_fn, parameterization=parameterization)


def test_bad_parameterization_is_refused_by_name():
    with pytest.raises(InvalidArgumentError) as info:
        check_bernoulli_vae_loss(lambda *a: bce_logits(*a[:2]), parameterization="sigmoid")
    assert info.value.argument == "parameterization"


# --------------------------------------------------------------- data range (Gaussian)


def test_bce_loss_cannot_be_evaluated_on_unbounded_data():
    # x ~ N(0, 1) is no target for a binary cross-entropy: the loss raises.
    with pytest.raises(LossFunctionError):
        check_gaussian_vae_loss(lambda x, mu, lv, mz, lz:
                                F.binary_cross_entropy(mu, x, reduction="sum") + kl(mz, lz))


def test_unit_data_range_names_a_bce_reconstruction_as_bernoulli():
    report = check_gaussian_vae_loss(
        lambda x, mu, lv, mz, lz: F.binary_cross_entropy(mu, x, reduction="sum") + kl(mz, lz),
        data_range="unit")
    assert not report.is_elbo and report.explained_by == "bernoulli"
    assert "check_bernoulli_vae_loss" in report.diagnosis


@pytest.mark.parametrize("data_range", ["unit", (0, 1), (-1.0, 3.0)])
def test_gaussian_elbo_with_data_in_a_range(data_range):
    lo, hi = (0.0, 1.0) if data_range == "unit" else data_range

    def loss_fn(x, mu, lv, mz, lz):
        assert lo < float(x.min()) and float(x.max()) < hi
        assert lo < float(mu.min()) and float(mu.max()) < hi
        return 0.5 * ((x - mu) ** 2 / lv.exp() + lv + LOG_2PI).sum() + kl(mz, lz)

    report = check_gaussian_vae_loss(loss_fn, data_range=data_range)
    assert report.is_elbo and abs(report.beta - 1.0) <= report.beta_bound


@pytest.mark.parametrize("data_range", ["0..1", (1.0, 0.0), (0.0,), (0.0, float("inf")),
                                        ("0", "1"), (False, True)])
def test_bad_data_range_is_refused_by_name(data_range):
    with pytest.raises(InvalidArgumentError) as info:
        check_gaussian_vae_loss(lambda *a: a[0].sum(), data_range=data_range)
    assert info.value.argument == "data_range"
