"""(b) The closed-form linear ELBO against a Monte Carlo estimate of equal accuracy.

Model: D = 16, k = 4, n = 100 points, random parameters (seed 0).  Both sides are the
torch float64 implementations in :mod:`vaeproofs.numeric.linear`.  A pilot run of 1000
reparameterised samples measures the per-sample standard deviation sd of each point's
ELBO; the number of samples that gives a standard error of ``target`` nats for every
point is N = ceil((max sd / target)^2).  The Monte Carlo side is timed at that N and
checked to land within 4 standard errors of the closed form.

"Equal accuracy" to the closed form itself (its float64 round-off, ~1e-13 nats here)
would need ~1e25 samples; that time is extrapolated from the measured time per sample
and reported as such.

Run from the repository root: ``python -m benchmarks.bench_montecarlo``
"""

from __future__ import annotations

import math

import torch

from benchmarks.timing import interleaved_medians
from vaeproofs.numeric.linear import linear_elbo, linear_elbo_monte_carlo

D, K, N_POINTS = 8, 2, 10


def _problem() -> tuple[torch.Tensor, ...]:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(N_POINTS, D, generator=g, dtype=torch.float64)
    W = torch.randn(D, K, generator=g, dtype=torch.float64) / 2
    b = torch.randn(D, generator=g, dtype=torch.float64) / 10
    m = torch.randn(N_POINTS, K, generator=g, dtype=torch.float64) / 2
    A = torch.randn(K, K, generator=g, dtype=torch.float64) / 4
    S = A @ A.T + 0.1 * torch.eye(K, dtype=torch.float64)
    return x, W, b, torch.tensor(0.5, dtype=torch.float64), m, S


def run(target: float = 0.05, repeats: int = 7) -> list[dict[str, object]]:
    """Time closed form vs Monte Carlo at standard error ``target`` nats; return rows."""
    x, W, b, sigma2, m, S = _problem()
    exact = linear_elbo(x, W, b, sigma2, m, S)
    pilot = linear_elbo_monte_carlo(x, W, b, sigma2, m, S, num_samples=1000,
                                    generator=torch.Generator().manual_seed(1))
    sd = float((pilot.stderr * math.sqrt(1000)).max())
    n_samples = math.ceil((sd / target) ** 2)
    est = linear_elbo_monte_carlo(x, W, b, sigma2, m, S, num_samples=n_samples,
                                  generator=torch.Generator().manual_seed(2))
    z = float(((est.mean - exact).abs() / est.stderr).max())
    if z > 4.0:
        raise AssertionError(f"Monte Carlo is {z:.1f} standard errors from the closed form")
    gen = torch.Generator()
    times = interleaved_medians(
        {"closed form": lambda: linear_elbo(x, W, b, sigma2, m, S),
         "Monte Carlo": lambda: linear_elbo_monte_carlo(x, W, b, sigma2, m, S,
                                                        num_samples=n_samples, generator=gen)},
        repeats=repeats)
    per_sample = times["Monte Carlo"] / n_samples
    roundoff = float(exact.abs().max()) * 2.0**-52 * D  # float64 round-off scale of the sum
    n_equal = (sd / roundoff) ** 2
    return [
        {"benchmark": f"(b) ELBO, D={D} k={K} n={N_POINTS}", "variant": "closed form",
         "median_s": times["closed form"], "ratio": 1.0, "note": "exact up to round-off"},
        {"benchmark": f"(b) ELBO, D={D} k={K} n={N_POINTS}",
         "variant": f"Monte Carlo, SE {target:g} nats",
         "median_s": times["Monte Carlo"], "ratio": times["Monte Carlo"] / times["closed form"],
         "note": f"N = {n_samples} samples/point, max |MC - exact| = {z:.2f} SE; slowdown"},
        {"benchmark": f"(b) ELBO, D={D} k={K} n={N_POINTS}",
         "variant": "Monte Carlo, SE = round-off (extrapolated)",
         "median_s": per_sample * n_equal, "ratio": per_sample * n_equal / times["closed form"],
         "note": f"N = {n_equal:.1e} samples/point, time extrapolated per sample"},
    ]


if __name__ == "__main__":
    for row in run():
        print(f"{row['variant']:<44} {row['median_s']:12.4g} s   x{row['ratio']:.3g}  {row['note']}")
