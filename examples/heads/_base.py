"""Shared trunk of the example heads: z -> tanh(Linear(z)) -> (mean, raw), both trainable.

Each head module in this folder applies one variance head, as popular code writes it
(docs/theory.md section 7), to ``raw``, and defines NAME, SOURCE, VARIANCE (the kind of
the output), WRITTEN (the head's formula) and ``make()``; some define ``optimizer(decoder)``
when the code they copy leaves a parameter out of the optimiser.
"""

from __future__ import annotations

import torch
from torch import nn

LATENT_DIM = 2
DATA_DIM = 3


class Trunk(nn.Module):
    """z (B, 2) -> hidden (B, 8) -> mean (B, 3) and raw (B, 3), all layers trainable."""

    def __init__(self) -> None:
        super().__init__()
        self.hidden = nn.Linear(LATENT_DIM, 8)
        self.to_mean = nn.Linear(8, DATA_DIM)
        self.to_raw = nn.Linear(8, DATA_DIM)

    def trunk(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = torch.tanh(self.hidden(z))
        return self.to_mean(h), self.to_raw(h)
