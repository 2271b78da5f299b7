"""The static floor on variance heads written the way public projects write them.

Each head below uses a construct symbolic torch.fx could not trace (sizes turned into
Python ints, ``torch.finfo``, ``device or torch.device(...)``, torch.distributions, a
module built inside ``forward``, ``buffer.expand(h.shape[0], D)``, ConvTranspose2d).  The
expected floor is computed from the constants the code writes (``math.exp(-30)``,
``1e-3 ** 2``); tolerance 16 ulp relative: the engine rounds each of a handful of
operations outward by at most 2 ulp (vaeproofs.audit.intervals), a wrong rule is off
by orders of magnitude.
"""

from __future__ import annotations

import math

import pytest
import torch
import torch.distributions as td
import torch.nn.functional as F
from torch import nn

from vaeproofs.audit import static_variance_floor, variance_floor

REL = 16 * 2.0**-52
EPS32 = float(torch.finfo(torch.float32).eps)
D = 4


class Attention(nn.Module):
    """Scaled by ``int(c) ** -0.5`` with ``c = int(x.size(1) // heads)``; var = softplus + 1e-4."""

    def __init__(self) -> None:
        super().__init__()
        self.qkv = nn.Linear(2, 3 * 8)
        self.out = nn.Linear(8, 2 * D)

    def forward(self, z: torch.Tensor, device: torch.device | None = None):
        device = device or torch.device("cpu")
        q, k, v = self.qkv(z).to(device).chunk(3, dim=-1)
        c = int(q.size(1) // 2)
        att = torch.softmax((q.unsqueeze(-1) * k.unsqueeze(-2)) * int(c) ** -0.5, dim=-1)
        h = (att @ v.unsqueeze(-1)).squeeze(-1)
        mean, raw = self.out(h).chunk(2, dim=-1)
        return mean, F.softplus(raw) + 1e-4


class DistributionHead(nn.Module):
    """Returns ``td.Independent(td.Normal(loc, scale), 1)``; scale = nn.Softplus()(h) + 1e-3."""

    def __init__(self) -> None:
        super().__init__()
        self.lin = nn.Linear(2, 2 * D)

    def forward(self, z: torch.Tensor) -> td.Distribution:
        loc, h = self.lin(z).chunk(2, dim=-1)
        scale = nn.Softplus()(h) + 1e-3  # a module built inside forward
        return td.Independent(td.Normal(loc, scale), 1)


class EpsClamp(nn.Module):
    """var = softplus(raw).clamp_min(torch.finfo(raw.dtype).eps)."""

    def __init__(self) -> None:
        super().__init__()
        self.lin = nn.Linear(2, 2 * D)

    def forward(self, z: torch.Tensor):
        mean, raw = self.lin(z).chunk(2, dim=-1)
        return mean, F.softplus(raw).clamp_min(torch.finfo(raw.dtype).eps)


class BufferLogvar(nn.Module):
    """A fixed per-pixel log-variance buffer expanded to the batch: ``buf.expand(h.shape[0], D)``."""

    def __init__(self) -> None:
        super().__init__()
        self.lin = nn.Linear(2, D)
        self.register_buffer("logvar", torch.tensor([-2.0, -1.0, 0.0, 1.0]))

    def forward(self, z: torch.Tensor):
        h = self.lin(z)
        return h, self.logvar.expand(h.shape[0], D)


class ConvDecoder(nn.Module):
    """ConvTranspose2d decoder; logvar = clamp(conv output, -30, 20) (diffusers-style)."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(2, 4 * 2 * 2)
        self.up = nn.ConvTranspose2d(4, 2, kernel_size=4, stride=2, padding=1)
        self.norm = nn.GroupNorm(1, 4)

    def forward(self, z: torch.Tensor):
        h = self.norm(F.silu(self.fc(z)).view(-1, 4, 2, 2))
        mean, logvar = self.up(torch.tanh(h)).chunk(2, dim=1)
        return mean, torch.clamp(logvar, -30.0, 20.0)


class Heads(nn.Module):
    """z -> (mean, raw); the head applied to raw is ``fn``."""

    def __init__(self, fn) -> None:
        super().__init__()
        self.lin = nn.Linear(2, 2 * D)
        self.fn = fn

    def forward(self, z: torch.Tensor):
        mean, raw = self.lin(z).chunk(2, dim=-1)
        return mean, self.fn(self, raw)


class TwoStage(nn.Module):
    """TwoStageVAE: one learned log-gamma shared by every pixel (free: floor 0)."""

    def __init__(self) -> None:
        super().__init__()
        self.lin = nn.Linear(2, D)
        self.loggamma = nn.Parameter(torch.zeros(()))

    def forward(self, z: torch.Tensor):
        mean = self.lin(z)
        return mean, self.loggamma.expand_as(mean)


class StudentTHead(nn.Module):
    """MIWAE: StudentT(df = softplus + 3, loc, scale = softplus + 1e-3)."""

    def __init__(self) -> None:
        super().__init__()
        self.lin = nn.Linear(2, 3 * D)

    def forward(self, z: torch.Tensor) -> td.Distribution:
        loc, s, d = self.lin(z).chunk(3, dim=-1)
        return td.StudentT(F.softplus(d) + 3, loc, F.softplus(s) + 1e-3)


CASES = {  # name -> (model factory, variance kind, select or None, expected floor of sigma^2)
    "int(c) ** -0.5 and device or": (Attention, "var", None, 1e-4),
    "Independent(Normal) scale": (DistributionHead, "std", lambda d: d.base_dist.scale, 1e-3**2),
    "Independent(Normal) variance": (DistributionHead, "var", lambda d: d.variance, 1e-3**2),
    "clamp_min(finfo.eps)": (EpsClamp, "var", None, EPS32),
    "buffer.expand(h.shape[0], D)": (BufferLogvar, "logvar", None, math.exp(-2.0)),
    "ConvTranspose2d + clamp(-30, 20)": (ConvDecoder, "logvar", None, math.exp(-30.0)),
    "softplus + 1e-4 (var)": (lambda: Heads(lambda m, r: F.softplus(r) + 1e-4), "var", None, 1e-4),
    "softplus + 1e-3 (std)": (lambda: Heads(lambda m, r: F.softplus(r) + 1e-3), "std", None, 1e-3**2),
    "clamp(-30, 20) (logvar)": (lambda: Heads(lambda m, r: r.clamp(-30, 20)), "logvar", None,
                                math.exp(-30.0)),
    "sigma-VAE soft clip -6 (logstd)": (lambda: Heads(lambda m, r: -6 + F.softplus(r + 6)), "logstd",
                                        None, math.exp(-12.0)),
    "GluonTS NormalOutput softplus": (lambda: Heads(lambda m, r: F.softplus(r)), "std", None, 0.0),
    "GluonTS scale clamp_min(finfo.eps)": (
        lambda: Heads(lambda m, r: F.softplus(r).clamp_min(torch.finfo(r.dtype).eps)), "std", None,
        EPS32**2),
    "TwoStageVAE shared loggamma": (TwoStage, "logstd", None, 0.0),
    "MIWAE StudentT scale": (StudentTHead, "std", lambda d: d.scale, 1e-3**2),
}


@pytest.mark.parametrize("name", list(CASES))
def test_real_code_floor(name: str) -> None:
    make, kind, select, expected = CASES[name]
    torch.manual_seed(0)
    vf = variance_floor(make(), latent_dim=2, variance=kind, select=select)
    assert vf.floor is not None, vf.explanation
    assert vf.analysed == "the whole model"
    assert math.isclose(vf.floor, expected, rel_tol=REL, abs_tol=0.0), (vf.floor, expected)
    assert vf.floor <= expected or expected == 0 or vf.floor == expected  # outward: never above
    assert vf.bounded is (expected > 0)


def test_exact_constants_come_out_exactly() -> None:
    # 0 + 1e-4 and max(0, eps) are exact: outward rounding leaves them as written
    assert variance_floor(CASES["softplus + 1e-4 (var)"][0](), latent_dim=2, variance="var").floor == 1e-4
    assert variance_floor(EpsClamp(), latent_dim=2, variance="var").floor == EPS32


def test_twostage_names_the_free_parameter() -> None:
    vf = variance_floor(TwoStage(), latent_dim=2, variance="logstd")
    assert vf.trainable == ("loggamma",)
    held = variance_floor(TwoStage(), latent_dim=2, variance="logstd", frozen=["loggamma"])
    assert held.floor == 1.0  # exp(2 * 0), the parameter at its value


class Branchy(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.lin = nn.Linear(2, 2 * D)

    def forward(self, z: torch.Tensor):
        mean, raw = self.lin(z).chunk(2, dim=-1)
        if raw.mean() > 0:  # data-dependent control flow
            return mean, torch.exp(raw)
        return mean, F.softplus(raw) + 1.0


def test_data_dependent_branch_is_undecided_with_the_source_line() -> None:
    vf = variance_floor(Branchy(), latent_dim=2, variance="var")
    assert vf.bounded is None and vf.floor is None
    assert "data-dependent control flow" in vf.explanation
    assert "test_audit_real_code.py:" in vf.explanation


def test_operation_without_a_rule_is_undecided_with_the_source_line() -> None:
    vf = variance_floor(Heads(lambda m, r: torch.special.i0e(r)), latent_dim=2, variance="var")
    assert vf.bounded is None and "aten.special_i0e" in vf.explanation
    assert "test_audit_real_code.py:" in vf.explanation


class EncoderBranch(nn.Module):
    """The encoder branches on the data; the decoder (softplus + 0.02) is analysed alone."""

    def __init__(self) -> None:
        super().__init__()
        self.enc = nn.Linear(6, 4)
        self.decoder = DistributionHead()

    def forward(self, x: torch.Tensor):
        h = self.enc(x)
        if h.mean() > 100:
            h = h / 2
        return self.decoder(h[:, :2])


def test_sub_module_fallback_says_what_was_analysed() -> None:
    vf = static_variance_floor(EncoderBranch(), torch.zeros(3, 6), variance="std",
                               select=lambda d: d.base_dist.scale)
    assert vf.analysed == "model.decoder (its inputs free)"
    assert math.isclose(vf.floor, 1e-3**2, rel_tol=REL)
    assert "control flow" in vf.explanation  # why the whole model was not analysed


def test_frozen_embedding_rows_bound_the_variance() -> None:
    emb = nn.Embedding(5, D)
    with torch.no_grad():
        emb.weight.copy_(torch.linspace(-2.0, 2.0, 5 * D, dtype=torch.float64).reshape(5, D))
    emb.requires_grad_(False)

    class Tokens(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.emb = emb

        def forward(self, idx: torch.Tensor):
            h = self.emb(idx)
            return h, F.softplus(h)

    vf = static_variance_floor(Tokens(), torch.tensor([[0, 3]]), variance="var")
    expected = math.log1p(math.exp(float(emb.weight.min())))  # every row may be picked
    assert math.isclose(vf.floor, expected, rel_tol=REL) and vf.floor <= expected


def test_low_rank_normal_variance_floor() -> None:
    class LowRank(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.lin = nn.Linear(2, 3 * D)

        def forward(self, z: torch.Tensor) -> td.Distribution:
            loc, f, d = self.lin(z).chunk(3, dim=-1)
            return td.LowRankMultivariateNormal(loc, f.unsqueeze(-1), F.softplus(d) + 1e-2)

    # variance = sum of squared factors (>= 0) + diag (>= 1e-2)
    vf = variance_floor(LowRank(), latent_dim=2, variance="var", select=lambda d: d.variance)
    assert math.isclose(vf.floor, 1e-2, rel_tol=REL) and vf.floor <= 1e-2


def test_clamped_free_parameter_is_set_by_the_clamp() -> None:
    class Clamped(TwoStage):
        def forward(self, z: torch.Tensor):
            mean = self.lin(z)
            return mean, self.loggamma.clamp(-30.0, 20.0).expand_as(mean)

    vf = variance_floor(Clamped(), latent_dim=2, variance="logvar")
    assert math.isclose(vf.floor, math.exp(-30.0), rel_tol=REL)
    assert vf.set_by == ("clamp",) and vf.trainable == ("loggamma",)
    assert "clamp(loggamma" in vf.expression
