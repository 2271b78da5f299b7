"""Softplus head with a constant: var = softplus(Linear(h)) + c, c = 1e-4."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from _base import Trunk

NAME = "softplus + c"
SOURCE = "softplus heads with a constant (c = 1e-4 here)"
VARIANCE = "var"
WRITTEN = "var = softplus(Linear(h)) + 1e-4"


class Decoder(Trunk):
    def forward(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mean, raw = self.trunk(z)
        return mean, F.softplus(raw) + 1e-4


def make() -> Decoder:
    return Decoder()
