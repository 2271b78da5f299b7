"""TFP tutorials: scale = 1e-3 + softplus(0.05 t)."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from _base import Trunk

NAME = "TFP tutorial"
SOURCE = "TensorFlow Probability tutorials"
VARIANCE = "std"
WRITTEN = "scale = 1e-3 + softplus(0.05 t)"


class Decoder(Trunk):
    def forward(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mean, t = self.trunk(z)
        return mean, 1e-3 + F.softplus(0.05 * t)


def make() -> Decoder:
    return Decoder()
