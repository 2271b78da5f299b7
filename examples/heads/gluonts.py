"""GluonTS NormalOutput / TFP IndependentNormal: scale = softplus(raw)."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from _base import Trunk

NAME = "GluonTS NormalOutput"
SOURCE = "GluonTS NormalOutput / TFP IndependentNormal"
VARIANCE = "std"
WRITTEN = "scale = softplus(raw)"


class Decoder(Trunk):
    def forward(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mean, raw = self.trunk(z)
        return mean, F.softplus(raw)


def make() -> Decoder:
    return Decoder()
