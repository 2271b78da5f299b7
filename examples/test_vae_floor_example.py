"""A user's own pytest checks on their VAE, with vaeproofs.testing (run: pytest examples/).

The tests pass for the floored decoder of ``monitor_plain_loop.py``: its variance
head floor + softplus(raw) has the static floor 1e-3 the audit proves.  For the plain
log-variance head the same assertion fails, and the failure message is the audit's
explanation (the variance gets arbitrarily close to 0: no cap).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import torch

from vaeproofs.testing import assert_audit_bounded, assert_objective_bounded, assert_variance_floor


def _example(name: str) -> object:
    spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name(f"{name}.py"))
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


example = _example("monitor_plain_loop")


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


def test_my_regression_loss_is_bounded_below() -> None:
    # any objective(model, batch) you minimise: here a Gaussian NLL with a floored variance
    reg = _example("audit_regressor")
    assert_objective_bounded(reg.make_floored(), reg.load(), reg.nll, variance="var", steps=0,
                             progress=False)
