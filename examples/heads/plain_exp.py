"""Plain head: logvar = Linear(h), var = exp(logvar)."""
from __future__ import annotations

import torch
from _base import Trunk

NAME = "plain exp"
SOURCE = "plain heads (most VAE tutorials)"
VARIANCE = "logvar"
WRITTEN = "logvar = Linear(h)"


class Decoder(Trunk):
    def forward(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.trunk(z)


def make() -> Decoder:
    return Decoder()
