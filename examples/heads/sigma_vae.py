"""sigma-VAE soft clip: log sigma = -6 + softplus(log sigma + 6)."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from _base import Trunk

NAME = "sigma-VAE softclip"
SOURCE = "sigma-VAE (Rybkin et al. 2021), softclip"
VARIANCE = "logstd"
WRITTEN = "log sigma = -6 + softplus(log sigma + 6)"


class Decoder(Trunk):
    def forward(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mean, log_sigma = self.trunk(z)
        return mean, -6.0 + F.softplus(log_sigma + 6.0)


def make() -> Decoder:
    return Decoder()
