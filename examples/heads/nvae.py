"""NVAE Normal head: log sigma = 5 tanh(log sigma / 5); sigma = exp(log sigma) + 1e-2."""
from __future__ import annotations

import torch
from _base import Trunk

NAME = "NVAE"
SOURCE = "NVAE Normal head (Vahdat & Kautz 2020)"
VARIANCE = "std"
WRITTEN = "sigma = exp(5 tanh(log sigma / 5)) + 1e-2"


class Decoder(Trunk):
    def forward(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mean, log_sigma = self.trunk(z)
        log_sigma = 5.0 * torch.tanh(log_sigma / 5.0)
        return mean, torch.exp(log_sigma) + 1e-2


def make() -> Decoder:
    return Decoder()
