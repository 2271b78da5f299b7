"""Time training steps of the toolkit against a plain PyTorch loop on the same model.

All sides train the same per-pixel Gaussian VAE of the confirming experiment (same
architecture, same initial weights, same 16 digits, full batch, float64, one torch
thread, deterministic algorithms on) with Adam:

- ``toolkit``: :meth:`vaeproofs.numeric.training.Trainer.run`, the loop of
  ``vaeproofs train``: it draws from its own generator, uses Adam's fused CPU kernel
  where torch has one, and checks every loss and every parameter for non-finite values
  (once per window of updates, with a snapshot to replay from);
- ``plain``: the loop a user would write by hand: encoder, reparameterisation, the
  per-pixel Gaussian log-density and analytic KL written out, ``loss.backward()``,
  ``torch.optim.Adam(model.parameters(), lr)`` with torch's default implementation;
- ``plain-fused``: the same hand-written loop with the toolkit's Adam options (fused
  where available), so that the toolkit's own overhead (generator, checks) shows
  apart from the choice of Adam kernel.

Before timing, the toolkit and ``plain-fused`` take the same steps from the same
weights and must reach bit-identical parameters (they compute the same thing).

Timing uses :mod:`timeit` (garbage collection off while timing).  The sides are
measured side by side: each repeat times ``steps`` steps of each side, alternating the
order; the table gives per-step medians over the repeats and the ratios of medians to
``plain`` and to ``plain-fused``.

Run ``python -m benchmarks.bench_train_step [--cpu-time]`` or
``python benchmarks/bench_train_step.py [--cpu-time]`` (prints a table; ``--cpu-time``
times with the process's CPU time instead of wall time); :func:`run` returns the rows
for ``benchmarks/run.py``.
"""

from __future__ import annotations

import copy
import math
import os
import statistics
import sys
import time
import timeit
from collections.abc import Callable

import torch

from vaeproofs.numeric.training import (
    TrainConfig,
    Trainer,
    adam_options,
    build_model,
    prepare_data,
    torch_settings,
)

_LOG_2PI = math.log(2.0 * math.pi)


def _plain_steps(model: torch.nn.Module, x: torch.Tensor, lr: float, seed: int,
                 **adam: bool) -> Callable[[int], float]:
    """The hand-written loop: ``steps(n)`` takes n Adam updates and returns the last loss."""
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr, **adam)

    def steps(n: int) -> float:
        for _ in range(n):
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

    return steps


def _check_same_computation(config: TrainConfig, x: torch.Tensor) -> None:
    """The toolkit and the fused plain loop reach bit-identical weights after 5 steps."""
    a, b = build_model(config, x.shape[1]), build_model(config, x.shape[1])
    trainer = Trainer(a, x, lr=config.lr, batch_size=None, train_samples=1,
                      generator=torch.Generator().manual_seed(config.seed), check_every=5)
    if trainer.run(5) != 5:
        raise AssertionError(f"the toolkit's steps failed: {trainer.problem}")
    _plain_steps(b, x, config.lr, config.seed, **adam_options())(5)
    for (name, p), q in zip(a.named_parameters(), b.parameters(), strict=True):
        if not torch.equal(p, q):
            raise AssertionError(f"toolkit and plain loop differ in {name}")


def run(repeats: int = 15, steps: int = 200, warmup: int = 100,
        timer: Callable[[], float] = timeit.default_timer) -> list[dict[str, object]]:
    """Rows ``{"name", "median_s", "min_s", "max_s", "repeats", "steps", "ratio",
    "ratio_fused"}``: seconds per training step; ``ratio`` = median / the plain loop's
    median, ``ratio_fused`` = median / the fused plain loop's median.

    ``timer``: wall time by default; :func:`time.process_time` (CPU time of this
    process) is steadier on a machine shared with other work, since the run uses one
    thread."""
    config = TrainConfig()  # the per-pixel run of the confirming experiment
    _, train_np, _ = prepare_data(config)
    times: dict[str, list[float]] = {"toolkit": [], "plain": [], "plain-fused": []}
    with torch_settings(config.num_threads):
        x = torch.as_tensor(train_np, dtype=torch.float64)
        _check_same_computation(config, x)
        model = build_model(config, x.shape[1])
        twin, triplet = copy.deepcopy(model), copy.deepcopy(model)  # identical weights
        trainer = Trainer(model, x, lr=config.lr, batch_size=None, train_samples=1,
                          generator=torch.Generator().manual_seed(config.seed))
        sides: dict[str, Callable[[int], object]] = {
            "toolkit": trainer.run,
            "plain": _plain_steps(twin, x, config.lr, config.seed),
            "plain-fused": _plain_steps(triplet, x, config.lr, config.seed, **adam_options()),
        }
        timers = {name: timeit.Timer(lambda f=f: f(steps), timer=timer) for name, f in sides.items()}
        for f in sides.values():
            f(warmup)
        names = list(sides)
        for r in range(repeats):
            for name in names if r % 2 == 0 else names[::-1]:
                times[name].append(timers[name].timeit(number=1) / steps)
        if trainer.problem is not None:
            raise AssertionError(f"the toolkit's run stopped: {trainer.problem}")
    medians = {name: statistics.median(ts) for name, ts in times.items()}
    return [{"name": name, "median_s": medians[name], "min_s": min(ts), "max_s": max(ts),
             "repeats": repeats, "steps": steps, "ratio": medians[name] / medians["plain"],
             "ratio_fused": medians[name] / medians["plain-fused"]}
            for name, ts in times.items()]


def main(argv: list[str]) -> None:
    cpu = "--cpu-time" in argv
    rows = run(timer=time.process_time if cpu else timeit.default_timer)
    print(f"one training step, per-pixel VAE of the confirming run (n=16, D=64, float64, "
          f"1 thread); median {'CPU' if cpu else 'wall'} time over {rows[0]['repeats']} "
          f"repeats of {rows[0]['steps']} steps; load average {os.getloadavg()[0]:.1f}")
    print(f"{'loop':<12}{'median ms':>11}{'min ms':>9}{'max ms':>9}{'vs plain':>10}"
          f"{'vs fused':>10}")
    for row in rows:
        print(f"{row['name']:<12}{1e3 * row['median_s']:>11.3f}{1e3 * row['min_s']:>9.3f}"
              f"{1e3 * row['max_s']:>9.3f}{row['ratio']:>10.3f}{row['ratio_fused']:>10.3f}")


if __name__ == "__main__":
    main(sys.argv[1:])
