"""diffusers DiagonalGaussianDistribution: logvar = clamp(logvar, -30, 20)."""
from __future__ import annotations

import torch
from _base import Trunk

NAME = "diffusers clamp"
SOURCE = "diffusers DiagonalGaussianDistribution (an encoder head)"
VARIANCE = "logvar"
WRITTEN = "logvar = clamp(logvar, -30, 20)"


class Decoder(Trunk):
    def forward(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mean, logvar = self.trunk(z)
        return mean, torch.clamp(logvar, -30.0, 20.0)


def make() -> Decoder:
    return Decoder()
