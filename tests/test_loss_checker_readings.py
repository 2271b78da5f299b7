"""Tests of the loss checker's readings of real-world losses (vaeproofs.testing).

Each test plants a loss people actually write and checks what the report says about it:
the fixed-variance beta in both conventions, beta's shape dependence, the named
alternative objectives (sigma-VAE, capacity, Laplace), the quoted residual, and the
precision a loss computes in.  Reference forms (natural log): -log N(x | mu, v) =
1/2 [(x - mu)^2 / v + log v + log 2 pi]; KL(N(m, s2) || N(0, 1)) = 1/2 [m^2 + s2 - 1 -
log s2] (Kingma & Welling 2013, arXiv 1312.6114, appendix B).  Numbers are compared within
the checker's own round-off bounds or, for numbers quoted in text, at their printed digits.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from vaeproofs.errors import InvalidArgumentError
from vaeproofs.testing import (
    NotAnElboError,
    assert_gaussian_vae_loss,
    check_gaussian_vae_loss,
)

LOG_2PI = math.log(2.0 * math.pi)


def nll(x, mu, lv):
    return 0.5 * ((x - mu) ** 2 * torch.exp(-lv) + lv + LOG_2PI).sum()


def kl(mz, lz):
    return 0.5 * (mz ** 2 + torch.exp(lz) - 1.0 - lz).sum()


def true_elbo(x, mu, lv, mz, lz):
    return nll(x, mu, lv) + kl(mz, lz)


def _number_after(pattern: str, text: str) -> float:
    match = re.search(pattern + r"\s*(-?[0-9.]+(?:e[-+]?\d+)?)", text)
    assert match is not None, f"{pattern!r} not in: {text}"
    return float(match.group(1))


# ------------------------------------------------------ fixed variance: both beta readings


@pytest.mark.parametrize("s0_squared", [0.05, 3.0])
def test_fixed_variance_is_a_beta_vae_with_beta_s0_squared_on_half_squared_error(s0_squared):
    # s0^2 * (-ELBO) = sum (x - mu)^2 / 2 + s0^2 KL + const: beta = s0^2 on the halved error.
    def loss_fn(x, mu, lv, mz, lz):
        return 0.5 * ((x - mu) ** 2).sum() + s0_squared * kl(mz, lz)

    report = check_gaussian_vae_loss(loss_fn)
    assert report.is_elbo and report.fixed_variance == pytest.approx(s0_squared, rel=1e-9)
    text = report.diagnosis
    half = _number_after(r"beta = s0\^2 =", text)
    unhalved = _number_after(r"beta = 2 s0\^2 =", text)
    assert half == pytest.approx(s0_squared, rel=1e-5)          # printed with 6 digits
    assert unhalved == pytest.approx(2.0 * s0_squared, rel=1e-5)
    assert "(x - mu)^2 / 2" in text.split("beta = 2 s0^2")[0]
    assert "unhalved" in text.split("beta = 2 s0^2")[1]


def test_both_readings_of_the_fixed_variance_loss_are_the_same_loss():
    # The two losses the diagnosis names must give the checker's own s0^2 back.
    report = check_gaussian_vae_loss(lambda x, mu, lv, mz, lz: 0.5 * ((x - mu) ** 2).sum()
                                     + 0.7 * kl(mz, lz))
    v = report.fixed_variance
    halved = check_gaussian_vae_loss(lambda x, mu, lv, mz, lz: 0.5 * ((x - mu) ** 2).sum()
                                     + v * kl(mz, lz))
    unhalved = check_gaussian_vae_loss(lambda x, mu, lv, mz, lz: ((x - mu) ** 2).sum()
                                       + 2.0 * v * kl(mz, lz))
    assert halved.fixed_variance == pytest.approx(v, rel=1e-9)
    assert unhalved.fixed_variance == pytest.approx(v, rel=1e-9)


# ----------------------------------------------------------- beta's shape dependence


@pytest.mark.parametrize("loss_fn", [
    lambda x, mu, lv, mz, lz: (x - mu).abs().sum() + kl(mz, lz),
    lambda x, mu, lv, mz, lz: nll(x, mu, lv) / x.numel()
    + 0.5 * (mz ** 2 + (2 * lz).exp() - 1 - 2 * lz).sum(),
], ids=["L1", "mean NLL with a log-std KL"])
def test_beta_depends_on_nothing_when_beta_is_undefined(loss_fn):
    report = check_gaussian_vae_loss(loss_fn)
    assert not report.is_elbo and math.isnan(report.beta)
    assert report.beta_depends_on == ()


def test_beta_depends_on_lists_only_the_axis_that_changes_beta():
    # NLL averaged over the batch, KL summed: beta = B (batch only, not D or K).
    report = check_gaussian_vae_loss(lambda x, mu, lv, mz, lz: nll(x, mu, lv) / x.shape[0]
                                     + kl(mz, lz))
    assert report.is_elbo and report.beta_depends_on == ("batch_size",)
    assert abs(report.beta - report.reference_shape[0]) <= report.beta_bound


# ------------------------------------------------- named alternatives to a Gaussian ELBO


def sigma_vae_shared(x, mu, lv, mz, lz):
    # Rybkin et al. 2021: one variance for the whole batch, set to sigma^2 = MSE, gives
    # (B D / 2) log MSE + const: the loss ignores logvar_x.
    n = x.numel()
    return 0.5 * n * torch.log(((x - mu) ** 2).mean()) + kl(mz, lz)


def sigma_vae_per_point(x, mu, lv, mz, lz):
    d = x[0].numel()
    mse = ((x - mu) ** 2).flatten(1).mean(dim=1)
    return (0.5 * d * torch.log(mse)).sum() + kl(mz, lz)


@pytest.mark.parametrize("loss_fn, key", [(sigma_vae_shared, "sigma_vae"),
                                          (sigma_vae_per_point, "sigma_vae_per_point")])
def test_profiled_sigma_vae_loss_is_named_with_its_beta(loss_fn, key):
    report = check_gaussian_vae_loss(loss_fn)
    assert not report.is_elbo and report.explained_by == key
    text = report.diagnosis
    assert "sigma-VAE" in text and "Rybkin et al. 2021" in text
    assert "profiled objective" in text and "not a fixed-parameter Gaussian ELBO" in text
    assert _number_after("beta =", text) == pytest.approx(1.0, rel=1e-3)   # planted beta 1


def test_capacity_objective_is_named_with_gamma_and_capacity():
    # Burgess et al. 2018 (arXiv 1804.03599): recon + gamma |KL - C|, KL averaged over the
    # batch; gamma = 4, C = 2 nats per point (inside the designed KL values).
    def loss_fn(x, mu, lv, mz, lz):
        b = x.shape[0]
        return nll(x, mu, lv) / b + 4.0 * (kl(mz, lz) / b - 2.0).abs()

    report = check_gaussian_vae_loss(loss_fn)
    assert not report.is_elbo and report.explained_by == "capacity"
    text = report.diagnosis
    assert "Burgess et al. 2018" in text and "1804.03599" in text
    assert _number_after("gamma =", text) == pytest.approx(4.0, rel=1e-3)
    assert _number_after(r"\(", text.split("summed over the batch")[1]) == pytest.approx(
        2.0, rel=1e-3)


@pytest.mark.parametrize("loss_fn", [
    lambda x, mu, lv, mz, lz: (x - mu).abs().sum() + kl(mz, lz),
    lambda x, mu, lv, mz, lz: F.l1_loss(mu, x) + kl(mz, lz) / x.shape[0],
    lambda x, mu, lv, mz, lz: ((x - mu).abs() * (-lv).exp() + lv).sum() + kl(mz, lz),
], ids=["L1 sum", "F.l1_loss mean", "Laplace with log-scale logvar_x"])
def test_laplace_reconstruction_is_named(loss_fn):
    report = check_gaussian_vae_loss(loss_fn)
    assert not report.is_elbo and report.explained_by == "laplace"
    assert "Laplace (L1)" in report.diagnosis


def test_a_loss_no_alternative_explains_keeps_the_generic_message():
    def loss_fn(x, mu, lv, mz, lz):  # a softplus variance: outside every fitted family
        v = F.softplus(lv)
        return 0.5 * ((x - mu) ** 2 / v + v.log()).sum() + kl(mz, lz)

    report = check_gaussian_vae_loss(loss_fn)
    assert not report.is_elbo and report.explained_by is None
    assert "explained by no Gaussian-VAE term" in report.diagnosis


# ------------------------------------------------------- one residual, report and text


@pytest.mark.parametrize("loss_fn", [
    lambda x, mu, lv, mz, lz: 0.5 * ((x - mu) ** 2 / F.softplus(lv)
                                     + F.softplus(lv).log()).sum() + kl(mz, lz),
    lambda x, mu, lv, mz, lz: (x - mu).abs().sum() + kl(mz, lz),
], ids=["softplus variance", "L1"])
def test_the_quoted_residual_is_the_reports_residual(loss_fn):
    report = check_gaussian_vae_loss(loss_fn)
    quoted = re.findall(r"residual ([0-9.e+-]+)", report.diagnosis + " " + str(report))
    assert quoted, report.diagnosis
    assert set(quoted) == {f"{report.residual:.3g}"}
    # and the text quotes no other "of the loss's variation" figure
    assert "of the loss's variation" not in report.diagnosis


# ------------------------------------------------------------- precision of the loss


def _elbo32(*args):
    return true_elbo(*(a.float() for a in args))


@pytest.mark.parametrize("wrap", [
    lambda f: lambda *a: f(*a).item(),                       # Python float
    lambda f: lambda *a: np.float32(f(*a).item()),           # numpy float32
    lambda f: lambda *a: f(*a).numpy(),                      # 0-d numpy array
    lambda f: lambda *a: f(*a).double(),                     # cast back to float64 inside
], ids=["python float", "np.float32", "0-d ndarray", "float64 tensor"])
def test_correct_float32_loss_is_accepted_whatever_it_returns(wrap):
    report = check_gaussian_vae_loss(wrap(_elbo32))
    assert report.is_elbo, report.diagnosis
    assert abs(report.beta - 1.0) <= report.beta_bound


def test_float64_loss_returning_a_python_float_keeps_the_float64_bound():
    tensor = check_gaussian_vae_loss(true_elbo)
    scalar = check_gaussian_vae_loss(lambda *a: true_elbo(*a).item())
    assert scalar.is_elbo and scalar.tolerance == tensor.tolerance
    # a planted 2:1 mistake of size ~1e-6 relative is still caught in float64
    caught = check_gaussian_vae_loss(lambda *a: (true_elbo(*a) + 1e-6 * kl(*a[3:])
                                                 + 1e-6 * ((a[0] - a[1]) ** 2).sum()).item())
    assert not caught.is_elbo


def test_numpy_numbers_are_accepted_for_beta():
    assert_gaussian_vae_loss(true_elbo, beta=np.float32(1.0))
    assert_gaussian_vae_loss(true_elbo, beta=np.int64(1))
    with pytest.raises(NotAnElboError, match="expected 2"):
        assert_gaussian_vae_loss(true_elbo, beta=np.float64(2.0))


@pytest.mark.parametrize("beta", ["1", True, np.bool_(True), float("nan"), 0.0, [1.0]])
def test_strings_bools_and_non_positive_beta_are_refused_by_name(beta):
    with pytest.raises(InvalidArgumentError) as info:
        assert_gaussian_vae_loss(true_elbo, beta=beta)
    assert info.value.argument == "beta"


# ------------------------------------------------------------ the diagnosis tables


def test_every_diagnosis_row_has_a_unique_name_and_its_own_message():
    from vaeproofs.testing.diagnosis import (
        BERNOULLI_RECON_TABLE,
        GAUSSIAN_RECON_TABLE,
        KL_TABLE,
    )

    for table in (GAUSSIAN_RECON_TABLE, BERNOULLI_RECON_TABLE, KL_TABLE):
        rows = [row for stage in table for row in stage.rows]
        assert len({row.name for row in rows}) == len(rows)
        static = [row.message for row in rows if isinstance(row.message, str)]
        assert len(set(static)) == len(static) and all(static)


def test_a_row_speaks_only_when_its_predicate_holds():
    from vaeproofs.testing.diagnosis import GAUSSIAN_RECON_TABLE, Coefs, run_table

    names = ["sq_err/var", "logvar_x", "sq_err/var^2", "sq_err/std", "sq_err*var", "sq_err"]
    bounds = dict.fromkeys(names, 1e-9)
    exact = dict(zip(names, [0.5, 0.5, 0.0, 0.0, 0.0, 0.0], strict=True))
    assert run_table(GAUSSIAN_RECON_TABLE, Coefs(exact, bounds)) == []
    doubled = {**exact, "sq_err/var": 1.0}
    (message,) = run_table(GAUSSIAN_RECON_TABLE, Coefs(doubled, bounds))
    assert message.startswith("missing 1/2")
