"""Softplus head without a constant: var = softplus(Linear(h))."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from _base import Trunk

NAME = "softplus"
SOURCE = "softplus heads"
VARIANCE = "var"
WRITTEN = "var = softplus(Linear(h))"


class Decoder(Trunk):
    def forward(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mean, raw = self.trunk(z)
        return mean, F.softplus(raw)


def make() -> Decoder:
    return Decoder()
