"""Stable Diffusion LPIPSWithDiscriminator: a scalar logvar Parameter left out of the optimiser."""
from __future__ import annotations

import torch
from _base import Trunk
from torch import nn

NAME = "Stable Diffusion"
SOURCE = "Stable Diffusion LPIPSWithDiscriminator (logvar not in the optimiser)"
VARIANCE = "logvar"
WRITTEN = "logvar: scalar Parameter, initial 0, left out of the optimiser"


class Decoder(Trunk):
    def __init__(self) -> None:
        super().__init__()
        self.logvar = nn.Parameter(torch.zeros(()))

    def forward(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mean, _ = self.trunk(z)
        return mean, self.logvar * torch.ones_like(mean)


def make() -> Decoder:
    return Decoder()


def optimizer(decoder: Decoder) -> torch.optim.Optimizer:
    """As in the original: the optimiser gets the network's parameters, not ``logvar``."""
    return torch.optim.Adam([p for n, p in decoder.named_parameters() if n != "logvar"], lr=1e-3)
