"""A tiny training run of the beta-weighted population objective (docs/theory.md section 6).

Population p = N(0, 1), fresh samples at every step (a density, not a finite set); 1-D
linear encoder N(a x + c, exp(l_q)) and decoder N(w z + b, exp(l_p)), all six parameters
learned by Adam in float64 on J_beta = E_p[E_q log p(x|z) - beta KL(q || N(0, 1))] (one
reparameterised z per x; the KL in closed form, Kingma & Welling, appendix B).  At the end
J_beta is estimated on a fresh sample with its standard error.  For beta >= 1 every
J_beta <= -h(p) = -(1/2) log(2 pi e) (Gibbs), so a run is a real check of that cap; for
beta < 1 a run that passes it only shows the variances falling (the constructions decide).

Conventions: natural log; l_q, l_p log-variances; J per data point.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from vaeproofs.numeric.threads import one_thread

__all__ = ["BetaRun", "train_population_beta"]


@dataclass(frozen=True)
class BetaRun:
    """The end of a run: the estimate of J_beta, its standard error, the log-variances."""

    beta: float
    steps: int
    estimate: float
    standard_error: float
    encoder_log_variance: float
    decoder_log_variance: float

    @property
    def minus_entropy(self) -> float:
        """-h(N(0, 1)) = -(1/2) log(2 pi e), the Gibbs cap of every J_beta with beta >= 1."""
        return -0.5 * math.log(2 * math.pi * math.e)


def _objective(params: dict[str, torch.Tensor], x: torch.Tensor, noise: torch.Tensor,
               beta: float) -> torch.Tensor:
    """Per-sample J_beta with one reparameterised z (the KL in closed form)."""
    m = params["a"] * x + params["c"]
    z = m + torch.exp(params["l_q"] / 2) * noise
    mu = params["w"] * z + params["b"]
    log_lik = -0.5 * (math.log(2 * math.pi) + params["l_p"] + (x - mu) ** 2 * torch.exp(-params["l_p"]))
    kl = 0.5 * (m**2 + torch.exp(params["l_q"]) - 1 - params["l_q"])
    return log_lik - beta * kl


@one_thread()
def train_population_beta(beta: float, *, steps: int = 400, batch: int = 256, lr: float = 0.05,
                          eval_samples: int = 100_000, seed: int = 0) -> BetaRun:
    """Adam on J_beta from the identity encoder and decoder with unit variances (float64).

    Runs on one torch thread: a reduction over 1e5 samples split over several threads
    rounds differently, and verify's evidence must not depend on the calling process's
    thread setting (a serial run in-process and a parallel run in a subprocess agree).
    """
    gen = torch.Generator().manual_seed(seed)
    dt = torch.float64
    params = {k: torch.tensor(v, dtype=dt, requires_grad=True)
              for k, v in {"a": 1.0, "c": 0.0, "l_q": 0.0, "w": 1.0, "b": 0.0, "l_p": 0.0}.items()}
    opt = torch.optim.Adam(params.values(), lr=lr)
    for _ in range(steps):
        x = torch.randn(batch, generator=gen, dtype=dt)
        noise = torch.randn(batch, generator=gen, dtype=dt)
        loss = -_objective(params, x, noise, beta).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        x = torch.randn(eval_samples, generator=gen, dtype=dt)
        noise = torch.randn(eval_samples, generator=gen, dtype=dt)
        values = _objective(params, x, noise, beta)
        return BetaRun(beta=beta, steps=steps, estimate=float(values.mean()),
                       standard_error=float(values.std() / math.sqrt(eval_samples)),
                       encoder_log_variance=float(params["l_q"]),
                       decoder_log_variance=float(params["l_p"]))
