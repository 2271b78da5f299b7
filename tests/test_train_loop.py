"""The windowed loop (checks once per window, snapshot and replay) equals checking every step.

Two trainers start from the same weights and generator seed: one takes checked single
steps (:meth:`Trainer.step`), the other :meth:`Trainer.run` with windows of several
updates.  They must agree bit for bit: parameters, Adam state, loss, number of good
updates and the reason for stopping, also when the run goes bad inside a window.
"""

from __future__ import annotations

import math
from dataclasses import replace

import pytest
import torch

from vaeproofs.numeric.training import TrainConfig, Trainer, build_model, prepare_data

CFG = TrainConfig(n_train=8, hidden=16, latent_dim=2, n_test=4)


def _pair(config: TrainConfig, *, lr: float, batch_size: int | None, check_every: int,
          samples: int = 2) -> tuple[Trainer, Trainer]:
    _, train_np, _ = prepare_data(config)
    x = torch.as_tensor(train_np, dtype=torch.float64 if config.dtype == "float64"
                        else torch.float32)
    return tuple(  # type: ignore[return-value]
        Trainer(build_model(config, x.shape[1]), x, lr=lr, batch_size=batch_size,
                train_samples=samples, generator=torch.Generator().manual_seed(5),
                check_every=check_every) for _ in range(2))


def _strict(trainer: Trainer, updates: int) -> int:
    for i in range(updates):
        if trainer.step() is None:
            return i
    return updates


def _same_state(a: Trainer, b: Trainer) -> None:
    for p, q in zip(a.params, b.params, strict=True):
        torch.testing.assert_close(p, q, rtol=0, atol=0, equal_nan=True)
    for p, q in zip(a.params, b.params, strict=True):
        sa, sb = a.optimizer.state.get(p, {}), b.optimizer.state.get(q, {})
        assert sa.keys() == sb.keys()
        for key in sa:
            torch.testing.assert_close(sa[key], sb[key], rtol=0, atol=0, equal_nan=True)
    assert a.problem == b.problem
    assert a.last_loss == b.last_loss or (math.isnan(a.last_loss) and math.isnan(b.last_loss))


@pytest.mark.parametrize("samples", [1, 2])
def test_windows_follow_the_checked_trajectory_exactly(samples: int) -> None:
    strict, windowed = _pair(CFG, lr=3e-3, batch_size=3, check_every=7,  # minibatches
                             samples=samples)
    assert _strict(strict, 30) == 30
    assert windowed.run(30) == 30
    _same_state(strict, windowed)
    assert windowed.last_loss is not None and math.isfinite(windowed.last_loss)


def test_a_bad_loss_inside_a_window_is_found_at_its_exact_update() -> None:
    # lr = 1e3 in float32: the second update's loss overflows (no update is taken).
    cfg = replace(CFG, dtype="float32")
    strict, windowed = _pair(cfg, lr=1e3, batch_size=None, check_every=10)
    good = _strict(strict, 10)
    assert good == 1 and strict.problem is not None and strict.problem.startswith("loss is")
    assert windowed.run(10) == good
    _same_state(strict, windowed)


def test_a_bad_parameter_inside_a_window_is_found_at_its_exact_update() -> None:
    strict, windowed = _pair(CFG, lr=1e-3, batch_size=None, check_every=10)
    for trainer in (strict, windowed):
        assert trainer.run(3) == 3
        # from now on a NaN gradient reaches Adam's update of this bias
        trainer.model.decoder[-1].bias.register_hook(lambda g: g * math.nan)
    assert _strict(strict, 10) == 0
    assert windowed.run(10) == 0
    assert windowed.problem == "non-finite parameter(s): decoder.4.bias"
    _same_state(strict, windowed)


def test_the_one_draw_loss_is_the_models_elbo() -> None:
    # Trainer's one-draw path drops the draws axis of VAE.elbo_terms; from the same
    # generator state it must give minus the mean of VAE.elbo to round-off (float64:
    # a few ulps of the loss, here bounded by 1e-12 relative).
    trainer, _ = _pair(CFG, lr=1e-3, batch_size=None, check_every=1, samples=1)
    state = trainer.generator.get_state()
    loss = float(trainer._loss().detach())
    trainer.generator.set_state(state)
    with torch.no_grad():
        elbo = trainer.model.elbo(trainer.x, samples=1, generator=trainer.generator)
    assert loss == pytest.approx(-float(elbo.mean()), rel=1e-12, abs=0)
    assert not trainer.generator.get_state().equal(state)  # draws were taken
