"""static_loss_bound on whole objectives: floored and unfloored Gaussian likelihoods.

Expected bounds are the closed forms of the written constants: sigma-VAE's soft clip
keeps log sigma >= -6, so each of the N x D Gaussian terms is >= -6 + 1/2 log(2 pi) and
the KL >= 0; a latent-diffusion loss rec / exp(logvar) + logvar with rec >= 0 and logvar
clamped to [-10, 10] is >= -10 per element.  Tolerance 16 ulp relative, as in the floor
tests (a few outward-rounded operations; the sum over elements is an exact scaling).
"""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from vaeproofs.audit.loss_bound import LossBound, static_loss_bound
from vaeproofs.errors import InvalidArgumentError

REL = 16 * 2.0**-52
N, D, K = 4, 6, 2
LOG_2PI = math.log(2 * math.pi)


class VAE(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.enc = nn.Linear(D, 2 * K)
        self.dec = nn.Linear(K, D)
        self.dec_logvar = nn.Linear(K, D)

    def forward(self, x: torch.Tensor):
        mu, lv = self.enc(x).chunk(2, dim=-1)
        z = mu + torch.exp(0.5 * lv) * torch.randn_like(mu)
        return self.dec(z), self.dec_logvar(z), mu, lv


def kl(mu: torch.Tensor, lv: torch.Tensor) -> torch.Tensor:
    return 0.5 * (mu.pow(2) + lv.exp() - 1 - lv).sum()


def sigma_vae(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """sigma-VAE's optimal sigma with the soft clip (Rybkin et al. 2021, their code)."""
    x_hat, _, mu, lv = model(x)
    log_sigma = ((x - x_hat) ** 2).mean([0, 1], keepdim=True).sqrt().log()
    log_sigma = -6 + F.softplus(log_sigma + 6)
    nll = 0.5 * torch.pow((x - x_hat) / log_sigma.exp(), 2) + log_sigma + 0.5 * math.log(2 * math.pi)
    return nll.sum() + kl(mu, lv)


def plain_nll(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    x_hat, logvar, mu, lv = model(x)
    return (0.5 * (x - x_hat) ** 2 / torch.exp(logvar) + 0.5 * logvar).sum() + kl(mu, lv)


def floored_nll(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    x_hat, raw, mu, lv = model(x)
    var = F.softplus(raw) + 1e-3
    return (0.5 * (x - x_hat) ** 2 / var + 0.5 * torch.log(var)).sum() + kl(mu, lv)


class LatentDiffusionLoss(nn.Module):
    """LPIPSWithDiscriminator's likelihood: a scalar logvar Parameter of the loss module."""

    def __init__(self, clamp: bool = False) -> None:
        super().__init__()
        self.logvar = nn.Parameter(torch.zeros(()))
        self.clamp = clamp

    def forward(self, model: nn.Module, x: torch.Tensor) -> torch.Tensor:
        x_hat, _, mu, lv = model(x)
        logvar = self.logvar.clamp(-10.0, 10.0) if self.clamp else self.logvar
        nll = torch.abs(x - x_hat) / torch.exp(logvar) + logvar
        return nll.sum() / nll.shape[0] + 1e-6 * kl(mu, lv)


@pytest.fixture(scope="module")
def batch() -> torch.Tensor:
    return torch.rand(N, D, generator=torch.Generator().manual_seed(0))


def test_sigma_vae_soft_clip_is_bounded(batch: torch.Tensor) -> None:
    lb = static_loss_bound(sigma_vae, VAE(), batch)
    expected = N * D * (-6.0 + 0.5 * LOG_2PI)
    assert lb.decided and lb.reason == "" and lb.unbounded_paths == ()
    assert lb.lower <= expected and math.isclose(lb.lower, expected, rel_tol=REL), (lb.lower, expected)
    assert lb.bounded is True and lb.analysed == "the whole objective"


def test_floored_head_in_the_loss_is_bounded(batch: torch.Tensor) -> None:
    lb = static_loss_bound(floored_nll, VAE(), batch)
    expected = N * D * 0.5 * math.log(1e-3)  # 0.5 r^2 / var >= 0, 0.5 log var >= 0.5 log 1e-3
    assert math.isclose(lb.lower, expected, rel_tol=REL), (lb.lower, expected)


def test_unfloored_gaussian_nll_names_its_path(batch: torch.Tensor) -> None:
    lb = static_loss_bound(plain_nll, VAE(), batch)
    assert lb.decided and lb.lower == -math.inf and lb.bounded is None
    assert any("dec_logvar" in p and "test_audit_loss_bound.py:" in p for p in lb.unbounded_paths), \
        lb.unbounded_paths


def test_latent_diffusion_logvar_trainable_vs_frozen(batch: torch.Tensor) -> None:
    free = static_loss_bound(LatentDiffusionLoss(), VAE(), batch)
    assert free.lower == -math.inf and "objective.logvar" in free.trainable
    assert any("objective.logvar" in p for p in free.unbounded_paths), free.unbounded_paths
    held = static_loss_bound(LatentDiffusionLoss(), VAE(), batch, frozen=["objective.logvar"])
    assert held.lower == 0.0 and held.frozen == ("objective.logvar",)  # |r| e^0 + 0 >= 0, KL >= 0
    loss = LatentDiffusionLoss()
    assert static_loss_bound(loss, VAE(), batch, frozen=[loss.logvar]).lower == 0.0
    clamped = static_loss_bound(LatentDiffusionLoss(clamp=True), VAE(), batch)
    assert clamped.lower == D * -10.0  # N rows of D elements >= -10 each, divided by N


def test_closure_parameter_is_free(batch: torch.Tensor) -> None:
    logvar = nn.Parameter(torch.zeros(()))  # held by the loss's closure, not by the model

    def objective(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
        x_hat = model(x)[0]
        return ((x - x_hat).abs() / logvar.exp() + logvar).sum()
    assert static_loss_bound(objective, VAE(), batch).lower == -math.inf


def test_data_dependent_branch_is_undecided_with_the_source_line(batch: torch.Tensor) -> None:
    def objective(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
        loss = plain_nll(model, x)
        if loss.item() > 1e6:  # a guard read from the loss's value
            loss = loss / 2
        return loss
    lb = static_loss_bound(objective, VAE(), batch)
    assert not lb.decided and lb.lower is None and lb.bounded is None
    assert "data-dependent control flow" in lb.reason and "test_audit_loss_bound.py:" in lb.reason


def test_operation_without_a_rule_is_undecided(batch: torch.Tensor) -> None:
    lb = static_loss_bound(lambda m, x: torch.special.i0e(m(x)[1]).sum(), VAE(), batch)
    assert not lb.decided and "aten.special_i0e" in lb.reason


def test_bad_arguments(batch: torch.Tensor) -> None:
    with pytest.raises(InvalidArgumentError, match="model"):
        static_loss_bound(plain_nll, "vae", batch)
    with pytest.raises(InvalidArgumentError, match="batch"):
        static_loss_bound(plain_nll, VAE(), "x")
    with pytest.raises(InvalidArgumentError, match="objective"):
        static_loss_bound(lambda m, x: m(x)[0], VAE(), batch)  # not a scalar


def test_to_json() -> None:
    lb = LossBound(lower=-1.0, decided=True, reason="", unbounded_paths=(), trainable=("a",),
                   frozen=(), analysed="the whole objective", expression="")
    assert lb.to_json()["lower"] == -1.0 and lb.to_json()["trainable"] == ["a"]


def test_audit_uses_the_loss_bound_when_the_head_has_no_floor() -> None:
    # The head's logvar is free (floor 0), but the user's loss clamps it: bounded by the loss.
    import numpy as np

    from vaeproofs.audit import audit_vae

    class Free(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.enc = nn.Linear(D, 2 * K)
            self.dec = nn.Linear(K, D)
            self.logvar = nn.Parameter(torch.zeros(()))

        def forward(self, x: torch.Tensor):
            mu, lv = self.enc(x).chunk(2, dim=-1)
            mean = self.dec(mu)
            return mean, self.logvar * torch.ones_like(mean), mu, lv

    def clamped(x, mu_x, logvar_x, mu_z, logvar_z):
        s = logvar_x.clamp(-5.0, 5.0)
        return (0.5 * (x - mu_x) ** 2 / s.exp() + 0.5 * s).sum() + kl(mu_z, logvar_z)

    data = np.random.default_rng(0).uniform(size=(10, D))
    rep = audit_vae(Free(), data, variance="logvar", loss_fn=clamped, steps=0)
    assert rep.variance_floor.floor == 0.0
    assert rep.decision == "holds" and rep.bounded is True
    assert any("Static loss bound" in e.summary and e.supports for e in rep.evidence)
    assert math.isclose(rep.evidence[1].data["lower"], 10 * D * 0.5 * -5.0, rel_tol=REL)


def test_kl_written_as_minus_half_sum_is_bounded(batch: torch.Tensor) -> None:
    # the PyTorch VAE example's KLD = -0.5 * sum(1 + logvar - mu^2 - exp(logvar)) >= 0: the
    # upper end of the sum comes from the negated form
    def objective(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
        x_hat, _, mu, lv = model(x)
        kld = -0.5 * torch.sum(1 + lv - mu.pow(2) - lv.exp())
        return F.mse_loss(x_hat, x, reduction="sum") + kld
    assert static_loss_bound(objective, VAE(), batch).lower == 0.0


def _normal_nll(scale_of):
    import torch.distributions as td

    def objective(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
        x_hat, raw, mu, lv = model(x)
        dist = td.Independent(td.Normal(x_hat, scale_of(raw)), 1)
        return -dist.log_prob(x).sum() + kl(mu, lv)
    return objective


def test_distribution_log_prob_losses(batch: torch.Tensor) -> None:
    floored = static_loss_bound(_normal_nll(lambda r: F.softplus(r) + 1e-3), VAE(), batch)
    expected = N * D * (math.log(1e-3) + 0.5 * LOG_2PI)  # -log N >= log scale + 1/2 log 2 pi
    assert math.isclose(floored.lower, expected, rel_tol=REL) and floored.lower <= expected
    free = static_loss_bound(_normal_nll(lambda r: torch.exp(0.5 * r)), VAE(), batch)
    assert free.lower == -math.inf and free.unbounded_paths


def test_low_rank_normal_log_prob_is_undecided_at_the_cholesky(batch: torch.Tensor) -> None:
    import torch.distributions as td

    def objective(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
        x_hat, raw, _, _ = model(x)
        factor = torch.zeros(*x_hat.shape, 1)
        return -td.LowRankMultivariateNormal(x_hat, factor, F.softplus(raw) + 1e-3).log_prob(x).sum()
    lb = static_loss_bound(objective, VAE(), batch)
    assert not lb.decided and "aten.linalg_cholesky_ex" in lb.reason


@pytest.mark.parametrize("scale_of", [lambda lv: torch.exp(0.5 * lv), lambda lv: F.softplus(lv) + 1e-3],
                         ids=["exp", "softplus"])
def test_kl_divergence_of_normals_is_bounded(scale_of, batch: torch.Tensor) -> None:
    # KL(N(mu, s) || N(0, 1)) = -log s + (s^2 + mu^2) / 2 - 1/2 >= 0: log s and s^2 pair in the
    # base u = log s (s > 0), or in lv when s = exp(lv / 2)
    import torch.distributions as td

    def objective(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
        x_hat, _, mu, lv = model(x)
        q = td.Normal(mu, scale_of(lv))
        prior = td.Normal(torch.zeros_like(mu), torch.ones_like(mu))
        return td.kl_divergence(q, prior).sum() + (x - x_hat).abs().sum()
    lb = static_loss_bound(objective, VAE(), batch)
    # exact minimum 0; outward rounding costs a few ulp of the O(1) terms per element: 16 ulp each
    assert lb.decided and 0.0 >= lb.lower >= -N * K * 16 * 2.0**-52, lb.lower
