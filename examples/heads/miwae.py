"""MIWAE notebooks (Student-t decoder): scale = softplus(.) + 1e-3."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from _base import Trunk

NAME = "MIWAE"
SOURCE = "MIWAE notebooks (Mattei & Frellsen 2019), Student-t scale"
VARIANCE = "std"
WRITTEN = "scale = softplus(Linear(h)) + 1e-3"


class Decoder(Trunk):
    def forward(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mean, raw = self.trunk(z)
        return mean, F.softplus(raw) + 0.001


def make() -> Decoder:
    return Decoder()
