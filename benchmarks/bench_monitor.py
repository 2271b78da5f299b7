"""The collapse monitor: its overhead on a training step, and what it says on the onset study's runs.

(g) Overhead.  The same hand-written PyTorch loop with and without
``monitor.update(logvar_x, objective=elbo)`` (and with the monitor catching the variance
by a forward hook instead), side by side in one run: each repeat times ``steps`` steps of
each side in alternating order, from identical weights; the table gives per-step medians
(process CPU time, steadier on a shared machine; the loops use one thread), their ratio
to the plain loop and the median of the ratios paired within each repeat, with its 95 %
percentile-bootstrap interval.  Two models on dequantised digits, batch 128, float32,
Adam lr 3e-3: the digits MLP (the package's per-pixel VAE, width 64) and a small conv VAE
(two conv layers each way, 8 x 8 images).
The monitor's own time is measured directly on a fourth side, ``monitor (timed)``, whose
``update`` calls (checks included) are timed one by one, as a share of the plain step;
the ratio's sides read no clock inside the loop.

(h) Onset settings.  :func:`benchmarks.monitor_onset.run_onset` on a subset of the onset
grid (``vaeproofs/presets/onset.toml``; the subset and step counts are printed): per run,
the step of each monitor event against the step the run passed the floor's cap.

Run ``python -m benchmarks.bench_monitor [--part overhead|onset] [--quick]`` (overhead options:
``--check-every N``, ``--mlp-only`` or ``--conv-only``, ``--repeats N``, default 21); ``--part
onset-collapsing`` and ``--part onset-controls`` split the onset table in two halves that
can run side by side.
"""

from __future__ import annotations

import copy
import math
import statistics
import sys
import time
import warnings
from collections.abc import Callable

import numpy as np
import torch
from torch import nn

from benchmarks.monitor_onset import OnsetRun, run_onset
from vaeproofs.monitor import CollapseMonitor
from vaeproofs.numeric.data import DIGITS_LEVELS, digits_dataset

_LOG_2PI = math.log(2.0 * math.pi)


class MLPVAE(nn.Module):
    def __init__(self, dim: int = 64, latent: int = 4, hidden: int = 64) -> None:
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(dim, hidden), nn.Tanh(), nn.Linear(hidden, hidden), nn.Tanh(),
                                     nn.Linear(hidden, 2 * latent))
        self.decoder = nn.Sequential(nn.Linear(latent, hidden), nn.Tanh(), nn.Linear(hidden, hidden),
                                     nn.Tanh(), nn.Linear(hidden, 2 * dim))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        mu_z, logvar_z = self.encoder(x).chunk(2, dim=-1)
        z = mu_z + torch.exp(0.5 * logvar_z) * torch.randn_like(mu_z)
        mu_x, logvar_x = self.decoder(z).chunk(2, dim=-1)
        return mu_x, logvar_x, mu_z, logvar_z


class _ConvDecoder(nn.Module):
    def __init__(self, latent: int) -> None:
        super().__init__()
        self.fc = nn.Linear(latent, 32 * 4 * 4)
        self.up = nn.ConvTranspose2d(32, 16, 4, stride=2, padding=1)
        self.out = nn.Conv2d(16, 2, 3, padding=1)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = torch.relu(self.up(torch.relu(self.fc(z)).view(-1, 32, 4, 4)))
        return self.out(h)  # (B, 2, 8, 8): mean and log-variance channels


class ConvVAE(nn.Module):
    def __init__(self, latent: int = 4) -> None:
        super().__init__()
        self.encoder = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(),
                                     nn.Conv2d(16, 32, 3, stride=2, padding=1), nn.ReLU(), nn.Flatten(),
                                     nn.Linear(32 * 4 * 4, 2 * latent))
        self.decoder = _ConvDecoder(latent)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        mu_z, logvar_z = self.encoder(x.view(-1, 1, 8, 8)).chunk(2, dim=-1)
        z = mu_z + torch.exp(0.5 * logvar_z) * torch.randn_like(mu_z)
        out = self.decoder(z)
        return out[:, 0].flatten(1), out[:, 1].flatten(1), mu_z, logvar_z


def _loop(model: nn.Module, x: torch.Tensor, monitor: CollapseMonitor | None, hooked: bool,
          spent: list[float] | None, keep_every: int | None = None) -> Callable[[int], None]:
    """``steps(k)`` runs k training steps; ``spent`` (when given) gets the CPU time of each
    ``monitor.update`` call (two clock reads a step, so a timed loop is not a ratio's side);
    ``keep_every`` (no monitor): keep each step's detached variance and objective, dropped
    every ``keep_every`` steps, and nothing else."""
    gen = torch.Generator().manual_seed(0)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    n = x.shape[0]
    kept: list[tuple[torch.Tensor, torch.Tensor]] = []

    def steps(k: int) -> None:
        for _ in range(k):
            xb = x[torch.randint(n, (128,), generator=gen)]
            mu_x, logvar_x, mu_z, logvar_z = model(xb)
            rec = -0.5 * (_LOG_2PI + logvar_x + (xb - mu_x) ** 2 * torch.exp(-logvar_x)).sum(-1)
            elbo = rec - 0.5 * (mu_z**2 + torch.exp(logvar_z) - 1 - logvar_z).sum(-1)
            loss = -elbo.mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            if keep_every is not None:
                kept.append((logvar_x.detach(), elbo.detach()))
                if len(kept) >= keep_every:
                    kept.clear()
            if monitor is None:
                continue
            if spent is None:
                monitor.update(None if hooked else logvar_x, objective=elbo)
            else:
                t0 = time.process_time()
                monitor.update(None if hooked else logvar_x, objective=elbo)
                spent.append(time.process_time() - t0)

    return steps


def _median_interval(values: list[float], level: float = 0.95, resamples: int = 4000) -> tuple[float, float]:
    """Percentile bootstrap interval of the median (Efron & Tibshirani, An Introduction to
    the Bootstrap, 1993, ch. 13), seeded so that a rerun on the same times prints the same."""
    rng = np.random.default_rng(0)
    arr = np.asarray(values, dtype=np.float64)
    medians = np.median(rng.choice(arr, size=(resamples, arr.size)), axis=1)
    tail = 100 * (1 - level) / 2
    return float(np.percentile(medians, tail)), float(np.percentile(medians, 100 - tail))


#: The sides of (g): the ratio's loops (untimed inside), the loop whose update calls are
#: timed one by one for the monitor's own time, and the forward hook alone (registered by
#: ``watch``, with the benchmark's selector, but no update calls): what catching the
#: variance by a hook costs before the monitor does anything; and "keep alone", which keeps
#: each step's detached variance and objective and drops them every ``check_every`` steps:
#: the least a monitor that reads the values at its checks does each step.
SIDES = ("plain", "monitor", "monitor (hook)", "monitor (timed)", "hook alone", "keep alone")


def overhead(repeats: int = 21, steps: int = 200, check_every: int | None = None,
             models: tuple[str, ...] = ("digits MLP", "conv VAE")) -> list[dict[str, object]]:
    """Rows: model, side, median CPU seconds per step, ratio of medians to the plain loop,
    median of the per-repeat ratios, and (timed side) the monitor's own share of a plain
    step (``check_every``: the monitor's, default its own)."""
    torch.set_num_threads(1)
    data = digits_dataset(dequantize=True, seed=0).train
    x = torch.as_tensor(data, dtype=torch.float32)
    rows: list[dict[str, object]] = []
    every = {} if check_every is None else {"check_every": check_every}
    default_every = CollapseMonitor().check_every
    for name, make in (("digits MLP", MLPVAE), ("conv VAE", ConvVAE)):
        if name not in models:
            continue
        torch.manual_seed(0)
        base = make()
        sides: dict[str, Callable[[int], None]] = {}
        spent: list[float] = []
        for side in SIDES:
            model = copy.deepcopy(base)
            monitor = None
            if side not in ("plain", "keep alone"):
                monitor = CollapseMonitor(data, variance="logvar", lr=3e-3, quantization=1 / DIGITS_LEVELS,
                                          emit=False, **every)
                if side in ("monitor (hook)", "hook alone"):
                    if name == "conv VAE":
                        monitor.watch(model.decoder, output=lambda out: out[:, 1])
                    else:
                        monitor.watch(model.decoder, output=lambda out: out[:, 64:])
            sides[side] = _loop(model, x, None if side == "hook alone" else monitor, side == "monitor (hook)",
                                spent if side == "monitor (timed)" else None,
                                keep_every=check_every or default_every if side == "keep alone" else None)
        for f in sides.values():
            f(50)  # warm-up
        spent.clear()
        times: dict[str, list[float]] = {side: [] for side in sides}
        names = list(sides)
        for r in range(repeats):
            for side in names if r % 2 == 0 else names[::-1]:
                t0 = time.process_time()
                sides[side](steps)
                times[side].append((time.process_time() - t0) / steps)
        plain = statistics.median(times["plain"])
        for side, ts in times.items():
            med = statistics.median(ts)
            ratios = [t / p for t, p in zip(ts, times["plain"], strict=True)]
            paired = statistics.median(ratios)
            low, high = _median_interval(ratios)
            direct = sum(spent) / len(spent) / plain if side == "monitor (timed)" else None
            rows.append({"model": name, "side": side, "median_s": med, "ratio": med / plain,
                         "paired_ratio": paired, "paired_interval": (low, high), "direct_share": direct,
                         "repeats": repeats, "steps": steps})
    return rows


#: (likelihood, n, width, seeds, steps): the subset of the onset grid run by :func:`onset`.
ONSET_SUBSET: tuple[tuple[str, int | None, int, tuple[int, ...], int], ...] = (
    ("per-pixel", 16, 64, (0, 1, 2), 3000),
    ("per-pixel", 16, 256, (0, 1, 2), 3000),
    ("per-pixel", 64, 64, (0, 1, 2), 6000),
    ("per-pixel", 64, 256, (0, 1, 2), 6000),
    ("floor", 16, 64, (0,), 3000),
    ("floor", 64, 64, (0,), 3000),
    ("per-pixel", 256, 64, (0,), 6000),
    ("per-pixel", 1024, 64, (0,), 6000),
    ("floor", 16, 256, (0,), 3000),
    ("per-pixel", 256, 256, (0,), 6000),
)
QUICK_SUBSET = (("per-pixel", 16, 64, (0,), 2000), ("floor", 16, 64, (0,), 1000))
#: The one n >= 256 run the monitor warned of a collapse within the study's 6000 steps
#: (per-pixel, width 256, n = 256, seed 0, warned at 4850), continued to 30000 steps:
#: does it pass the cap after all (an early, right forecast), or level off (a false one)?
LONG_SUBSET = (("per-pixel", 256, 256, (0,), 30000),)


def onset(subset: tuple[tuple[str, int | None, int, tuple[int, ...], int], ...] = ONSET_SUBSET,
          report: Callable[[OnsetRun], None] | None = None) -> list[OnsetRun]:
    """Every run of ``subset`` (``report(run)`` as each ends); a per-pixel run at n <= 64 ends
    once it has passed the cap and the monitor has warned (nothing after both changes the
    comparison)."""
    runs = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for likelihood, n, width, seeds, steps in subset:
            for seed in seeds:
                small = (likelihood == "per-pixel" and n is not None and n <= 64) or subset == LONG_SUBSET
                # the runs that pass the cap are evaluated every 25 steps, so that the step of
                # passing is known to 25 steps; the others every 100, as in the study
                run = run_onset(likelihood, n, width, seed, steps, log_every=25 if small else 100,
                                until_both=small)
                runs.append(run)
                if report is not None:
                    report(run)
    return runs


def _print_overhead(rows: list[dict[str, object]]) -> None:
    r0 = rows[0]
    print(f"(g) monitor overhead: median CPU time per step over {r0['repeats']} alternating repeats of "
          f"{r0['steps']} steps (1 thread, batch 128, float32)\n")
    print("| model | loop | median per step | ratio to plain | median paired ratio (95 % interval) | "
          "monitor's own time (direct) |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        share = "-" if r["direct_share"] is None else f"{100 * r['direct_share']:.2f} %"
        print(f"| {r['model']} | {r['side']} | {1e3 * r['median_s']:.3f} ms | {r['ratio']:.4f} | "
              f"{r['paired_ratio']:.4f} ({r['paired_interval'][0]:.4f}-{r['paired_interval'][1]:.4f}) | "
              f"{share} |")


def _onset_header() -> None:
    print("\n(h) onset settings: monitor events against the step the run passed the floor's cap "
          "(162.2 nats, xi = 1e-3; the 8-sample training ELBO checked every 'cap check' steps)\n")
    print("| family | width | n | seed | steps run | cap check | passed cap at | collapse warning at | "
          "warning before cap | below-noise notice at | other events | best train ELBO |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|", flush=True)


def _onset_row(r: OnsetRun) -> None:
    warn, cap = r.first("collapse"), r.cap_step
    before = "-" if warn is None or cap is None else ("yes" if warn < cap else "NO")
    others = ", ".join(f"{c} @ {t}" for t, c, _ in r.events if c not in ("collapse", "below-noise"))
    print(f"| {r.likelihood} | {r.hidden} | {r.n} | {r.seed} | {r.steps} | {r.log_every} | {cap or '-'} | "
          f"{warn or '-'} | {before} | {r.first('below-noise') or '-'} | {others or '-'} | "
          f"{r.best_elbo:.1f} |", flush=True)


def main(argv: list[str]) -> None:
    quick = "--quick" in argv
    part = argv[argv.index("--part") + 1] if "--part" in argv else "all"
    every = int(argv[argv.index("--check-every") + 1]) if "--check-every" in argv else None
    models = ("digits MLP",) if "--mlp-only" in argv else ("conv VAE",) if "--conv-only" in argv else \
        ("digits MLP", "conv VAE")
    if part in ("all", "overhead"):
        repeats = int(argv[argv.index("--repeats") + 1]) if "--repeats" in argv else 5 if quick else 21
        _print_overhead(overhead(repeats=repeats, steps=50 if quick else 200,
                                 check_every=every, models=models))
    if part == "onset-long":  # not in "all": about the time of five 6000-step runs
        _onset_header()
        onset(LONG_SUBSET, report=_onset_row)
    if part in ("all", "onset", "onset-collapsing", "onset-controls"):
        subset = QUICK_SUBSET if quick else ONSET_SUBSET
        if part == "onset-collapsing":  # the per-pixel runs at n <= 64 (for two processes side by side)
            subset = tuple(r for r in subset if r[0] == "per-pixel" and r[1] is not None and r[1] <= 64)
        elif part == "onset-controls":  # the floored runs and n >= 256
            subset = tuple(r for r in subset if not (r[0] == "per-pixel" and r[1] is not None
                                                     and r[1] <= 64))
        _onset_header()
        onset(subset, report=_onset_row)


if __name__ == "__main__":
    main(sys.argv[1:])
