"""A user's own pytest checks on their VAE, with vaeproofs.testing (run: pytest examples/).

The first test passes for the floored decoder of ``monitor_plain_loop.py``: its variance
head floor + softplus(raw) has the static floor 1e-3 the audit proves.  For the plain
log-variance head the same assertion fails, and the failure message is the audit's
explanation (the variance gets arbitrarily close to 0: no cap).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import torch

from vaeproofs.testing import assert_audit_bounded, assert_variance_floor

_spec = importlib.util.spec_from_file_location("monitor_plain_loop",
                                               Path(__file__).with_name("monitor_plain_loop.py"))
example = importlib.util.module_from_spec(_spec)  # type: ignore[arg-type]
_spec.loader.exec_module(example)  # type: ignore[union-attr]


def make_model(floor: float | None = 1e-3) -> torch.nn.Module:
    torch.manual_seed(0)
    return example.VAE(floor=floor)


def test_decoder_variance_has_a_floor() -> None:
    # at least 1e-4 in the data's units squared: a cap of -1/2 log(2 pi 1e-4) nats per pixel
    assert_variance_floor(make_model().decoder, at_least=1e-4, latent_dim=4, variance="logvar")


def test_objective_is_bounded_on_my_data() -> None:
    x = np.random.default_rng(0).random((32, 64))
    # steps=0: the static floor and the loss check decide, without the memorisation probe
    assert_audit_bounded(make_model(), x, variance="logvar", steps=0)
