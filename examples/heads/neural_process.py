"""Neural processes (DeepMind notebooks): sigma = 0.1 + 0.9 softplus(Linear(h))."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from _base import Trunk

NAME = "neural process"
SOURCE = "neural processes (DeepMind notebooks)"
VARIANCE = "std"
WRITTEN = "sigma = 0.1 + 0.9 softplus(Linear(h))"


class Decoder(Trunk):
    def forward(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mean, raw = self.trunk(z)
        return mean, 0.1 + 0.9 * F.softplus(raw)


def make() -> Decoder:
    return Decoder()
