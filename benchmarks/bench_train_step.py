"""Time one training step of the toolkit against a plain PyTorch loop on the same model.

Both sides train the same per-pixel Gaussian VAE of the confirming experiment (same
architecture, same initial weights, same 16 digits, full batch, float64, one torch
thread, deterministic algorithms on) with Adam:

- ``toolkit``: :meth:`vaeproofs.numeric.training.Trainer.step`, which also draws from
  its own generator, checks the loss and every parameter for non-finite values, and
  uses Adam's fused CPU kernel where torch has one;
- ``plain``: the loop a user would write by hand: encoder, reparameterisation, the
  per-pixel Gaussian log-density and analytic KL written out, ``loss.backward()``,
  ``torch.optim.Adam(model.parameters(), lr)`` with torch's default implementation;
- ``plain-fused``: the same hand-written loop with the toolkit's Adam options (fused
  where available), so that the toolkit's own overhead (generator, checks) shows
  apart from the choice of Adam kernel.

The two are measured side by side: each repeat times ``steps`` steps of one, then of
the other (alternating which goes first), and reports seconds per step.  The ratio is
median(toolkit) / median(plain) over the repeats.

Run ``python benchmarks/bench_train_step.py`` (prints a table); ``run()`` returns the
rows for a benchmarks runner.
"""

from __future__ import annotations

import copy
import math
import statistics
import time
from collections.abc import Callable

import torch

from vaeproofs.numeric.training import (
    TrainConfig,
    Trainer,
    _adam_options,
    _torch_settings,
    build_model,
    prepare_data,
)

_LOG_2PI = math.log(2.0 * math.pi)


def _plain_step_factory(model: torch.nn.Module, x: torch.Tensor, lr: float, seed: int,
                        **adam: bool) -> Callable[[], float]:
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr, **adam)

    def step() -> float:
        mean, log_var = model.encoder(x).chunk(2, dim=-1)
        eps = torch.randn(mean.shape, generator=gen, dtype=x.dtype)
        z = mean + torch.exp(0.5 * log_var) * eps
        mu, log_var_x = model.decoder(z).chunk(2, dim=-1)
        rec = -0.5 * (_LOG_2PI + log_var_x + (x - mu) ** 2 * torch.exp(-log_var_x)).sum(-1)
        kl = 0.5 * (mean**2 + torch.exp(log_var) - 1.0 - log_var).sum(-1)
        loss = (kl - rec).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss.item()

    return step


def _time(step: Callable[[], object], steps: int) -> float:
    start = time.perf_counter()
    for _ in range(steps):
        step()
    return (time.perf_counter() - start) / steps


def run(repeats: int = 9, steps: int = 200, warmup: int = 50) -> list[dict[str, object]]:
    """Rows ``{"name", "median_s", "min_s", "max_s", "repeats", "steps", "ratio"}`` (seconds
    per training step; ``ratio`` = median / the plain loop's median)."""
    config = TrainConfig()  # the per-pixel run of the confirming experiment
    _, train_np, _ = prepare_data(config)
    times: dict[str, list[float]] = {"toolkit": [], "plain": [], "plain-fused": []}
    with _torch_settings(config.num_threads):
        x = torch.as_tensor(train_np, dtype=torch.float64)
        model = build_model(config, x.shape[1])
        # identical weights for the plain loops
        twin, triplet = copy.deepcopy(model), copy.deepcopy(model)
        trainer = Trainer(model, x, lr=config.lr, batch_size=None, train_samples=1,
                          generator=torch.Generator().manual_seed(config.seed))
        steps_of = {
            "toolkit": trainer.step,
            "plain": _plain_step_factory(twin, x, config.lr, config.seed),
            "plain-fused": _plain_step_factory(triplet, x, config.lr, config.seed,
                                               **_adam_options()),
        }
        for name in steps_of:
            _time(steps_of[name], warmup)
        names = list(steps_of)
        for r in range(repeats):
            order = names if r % 2 == 0 else names[::-1]
            for name in order:
                times[name].append(_time(steps_of[name], steps))
    plain_median = statistics.median(times["plain"])
    return [{"name": name, "median_s": statistics.median(ts), "min_s": min(ts),
             "max_s": max(ts), "repeats": repeats, "steps": steps,
             "ratio": statistics.median(ts) / plain_median} for name, ts in times.items()]


def main() -> None:
    rows = run()
    print(f"one training step, per-pixel VAE of the confirming run (n=16, D=64, float64, "
          f"1 thread); median over {rows[0]['repeats']} repeats of {rows[0]['steps']} steps")
    print(f"{'loop':<10}{'median ms':>11}{'min ms':>9}{'max ms':>9}{'ratio':>8}")
    for row in rows:
        print(f"{row['name']:<10}{1e3 * row['median_s']:>11.3f}{1e3 * row['min_s']:>9.3f}"
              f"{1e3 * row['max_s']:>9.3f}{row['ratio']:>8.3f}")


if __name__ == "__main__":
    main()
