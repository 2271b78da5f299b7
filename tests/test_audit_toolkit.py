"""The static floor on the toolkit's own VAE (a ``forward`` adapter) and the decoder fallback."""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from vaeproofs.audit import audit_vae, static_variance_floor
from vaeproofs.numeric.heads import HEADS
from vaeproofs.numeric.networks import VAE


def _forward(kind_of: str):
    def forward(m: VAE, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        mu_z, logvar_z = m.encode(x)
        z = mu_z + torch.exp(0.5 * logvar_z) * torch.randn_like(mu_z)
        out = m.decoder(z)
        var_like = m.head.split(out)[1] if kind_of == "logvar" else m.head.variance(out)
        return m.head.split(out)[0], var_like, mu_z, logvar_z
    return forward


def test_toolkit_per_pixel_head_has_no_floor() -> None:
    model = VAE(8, 2, HEADS["per-pixel"](), hidden=16, depth=2)
    vf = static_variance_floor(model, torch.zeros(2, 8), variance="logvar", forward=_forward("logvar"))
    assert vf.floor == 0.0 and vf.trainable == ("decoder.4",)


def test_toolkit_floored_head_has_its_xi() -> None:
    xi = 1e-3
    model = VAE(8, 2, HEADS["floor"](xi=xi), hidden=16, depth=2)
    vf = static_variance_floor(model, torch.zeros(2, 8), variance="var", forward=_forward("var"))
    assert vf.floor == xi  # xi + softplus(r): softplus's infimum is exactly 0
    assert math.isclose(vf.cap_per_dim, -0.5 * math.log(2 * math.pi * xi), rel_tol=1e-15)


class BranchyEncoder(nn.Module):
    """The encoder branches on the data (untraceable); the decoder is a plain softplus head."""

    def __init__(self) -> None:
        super().__init__()
        self.enc = nn.Linear(6, 4)
        self.decoder = Decoder()

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        h = self.enc(x)
        if h.mean() > 100:  # data-dependent control flow
            h = h / 2
        mu_z, logvar_z = h.chunk(2, dim=-1)
        mu_x, var_x = self.decoder(mu_z)
        return mu_x, var_x, mu_z, logvar_z


class Decoder(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.lin = nn.Linear(2, 12)

    def forward(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mu, raw = self.lin(z).chunk(2, dim=-1)
        return mu, F.softplus(raw) + 0.02


def test_untraceable_model_falls_back_to_its_decoder() -> None:
    data = np.random.default_rng(0).normal(size=(10, 6))
    rep = audit_vae(BranchyEncoder(), data, variance="var", steps=0)
    assert rep.variance_floor.floor == 0.02 and rep.bounded is True
    # the whole model branches on the data: the floor comes from the decoder alone, and says so
    whole = static_variance_floor(BranchyEncoder(), torch.zeros(2, 6), variance="var")
    assert whole.floor == 0.02 and whole.analysed == "model.decoder (its inputs free)"
    assert "control flow" in whole.explanation and "test_audit_toolkit.py:" in whole.explanation
