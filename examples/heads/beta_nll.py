"""beta-NLL reference head: var = softplus(raw + offset) + 1e-8, clamped to [1e-8, 100]."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from _base import Trunk

NAME = "beta-NLL"
SOURCE = "beta-NLL reference head (Seitzer et al. 2022)"
VARIANCE = "var"
WRITTEN = "var = clamp(softplus(raw + offset) + 1e-8, 1e-8, 100)"

#: softplus^-1(1): the initial variance is about 1.
OFFSET = math.log(math.e - 1.0)


class Decoder(Trunk):
    def forward(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mean, raw = self.trunk(z)
        var = F.softplus(raw + OFFSET) + 1e-8
        return mean, torch.clamp(var, min=1e-8, max=100.0)


def make() -> Decoder:
    return Decoder()
