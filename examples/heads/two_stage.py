"""TwoStageVAE / learned sigma-VAE: one learned scalar log gamma shared by every pixel."""
from __future__ import annotations

import torch
from _base import Trunk
from torch import nn

NAME = "TwoStageVAE"
SOURCE = "TwoStageVAE (Dai & Wipf 2019), sigma-VAE learned"
VARIANCE = "logstd"
WRITTEN = "log gamma: one learned scalar"


class Decoder(Trunk):
    def __init__(self) -> None:
        super().__init__()
        self.log_gamma = nn.Parameter(torch.zeros(()))

    def forward(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mean, _ = self.trunk(z)
        return mean, self.log_gamma.expand_as(mean)


def make() -> Decoder:
    return Decoder()
