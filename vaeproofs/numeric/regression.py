"""Heteroscedastic regression on scikit-learn's diabetes data, in torch float64.

Claim ``regression.heteroscedastic-unbounded`` (docs/theory.md section 6; derivation
"heteroscedastic").  The data: the 442 patients of scikit-learn's diabetes set (Efron,
Hastie, Johnstone & Tibshirani, 'Least angle regression', Annals of Statistics 2004; shipped
inside scikit-learn, no download), ten raw features, the disease-progression target
standardised to mean 0 and variance 1 (so a floor xi is relative to the target's variance).

- :func:`closed_form_sup`: sum over distinct inputs of the per-input supremum
  (the derivation's formula, evaluated in numpy): +inf when some input's targets are all
  equal and there is no floor.
- :func:`grouped_fit`: a flexible regressor idealised, one free (mu, log v) per distinct
  input, maximised by L-BFGS; with every input's targets spread it must reach the closed form
  (relative gap <= sqrt(FTOL)) and never exceed it (beyond n eps |value| of round-off).
- :func:`train_regressor`: a small MLP with a mean head and a variance head
  (v = xi + exp(raw)), trained by Adam on the Gaussian NLL; its best mean training
  log-likelihood per point is compared with the floor's cap -(1/2) log(2 pi xi).

Conventions: natural log; v and xi are variances; log-likelihoods are means over the points
(nats per point) unless a total is said.
"""

from __future__ import annotations

import functools
import gzip
import importlib.util
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from numpy.typing import NDArray

from vaeproofs.numeric.threads import one_thread
from vaeproofs.validation import check_int_range

__all__ = ["FTOL", "GroupedFit", "RegressorRun", "closed_form_sup", "diabetes", "group_targets",
           "grouped_fit", "train_regressor"]

#: L-BFGS's relative stopping tolerance on the objective.
FTOL = 1e-14
_EPS = float(np.finfo(np.float64).eps)
_LOG_2PI = math.log(2.0 * math.pi)


@functools.lru_cache(maxsize=1)
def diabetes() -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """(inputs (442, 10), raw features; targets (442,), standardised), read-only.

    Read from the files scikit-learn ships (``sklearn/datasets/data/diabetes_*.csv.gz``),
    avoiding the import of ``sklearn.datasets``; :func:`sklearn.datasets.load_diabetes`
    (``scaled=False``) if they are not where this version keeps them.
    """
    spec = importlib.util.find_spec("sklearn")
    folder = Path(spec.origin).parent / "datasets" / "data" if spec and spec.origin else None
    x = y = None
    if folder is not None and (folder / "diabetes_data_raw.csv.gz").is_file():
        with gzip.open(folder / "diabetes_data_raw.csv.gz", "rt") as fh:
            x = np.loadtxt(fh)
        with gzip.open(folder / "diabetes_target.csv.gz", "rt") as fh:
            y = np.loadtxt(fh)
    if x is None or y is None or x.shape != (442, 10) or y.shape != (442,):
        from sklearn.datasets import load_diabetes

        data = load_diabetes(scaled=False)
        x, y = np.asarray(data.data, dtype=np.float64), np.asarray(data.target, dtype=np.float64)
    y = (y - y.mean()) / y.std()
    x.setflags(write=False)
    y.setflags(write=False)
    return x, y


def group_targets(inputs: NDArray[np.float64], targets: NDArray[np.float64]
                  ) -> list[NDArray[np.float64]]:
    """The targets of each distinct input row, in the order of ``np.unique``."""
    rows = inputs.reshape(len(inputs), -1)
    _, inverse = np.unique(rows, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    return [targets[inverse == g] for g in range(int(inverse.max()) + 1)]


def closed_form_sup(groups: list[NDArray[np.float64]], xi: float = 0.0) -> float:
    """Mean over the points of the supremum of the log-likelihood, per distinct input
    (derivation "heteroscedastic"): -(m/2)(log(2 pi max(xi, s^2)) + s^2/max(xi, s^2)), +inf if
    some s^2 = 0 and xi = 0."""
    total, n = 0.0, 0
    for y in groups:
        m = len(y)
        s2 = float(np.mean((y - y.mean()) ** 2))
        n += m
        if s2 == 0.0 and xi == 0.0:
            return math.inf
        v = max(xi, s2)
        total += -0.5 * m * (_LOG_2PI + math.log(v) + s2 / v)
    return total / n


@dataclass(frozen=True)
class GroupedFit:
    """L-BFGS on free (mu, log v) per distinct input, against :func:`closed_form_sup`."""

    groups: int
    points: int
    xi: float
    value: float
    closed_form: float
    iterations: int

    @property
    def never_exceeds(self) -> bool:
        """value <= closed form + n eps |closed form| (a mean of n float64 terms)."""
        return self.value <= self.closed_form + self.points * _EPS * abs(self.closed_form)

    @property
    def reaches(self) -> bool:
        """The closed form is reached to sqrt(FTOL) relative (finite closed form only)."""
        return (math.isfinite(self.closed_form)
                and self.closed_form - self.value <= math.sqrt(FTOL) * abs(self.closed_form))


@one_thread()
def grouped_fit(groups: list[NDArray[np.float64]], *, xi: float = 0.0, seed: int = 0,
                max_iter: int = 500) -> GroupedFit:
    """Maximise the mean log-likelihood over one (mu, v = xi + exp(rho)) per distinct input."""
    sizes = torch.tensor([len(y) for y in groups], dtype=torch.float64)
    means = torch.tensor([float(np.mean(y)) for y in groups], dtype=torch.float64)
    spreads = torch.tensor([float(np.sum((y - y.mean()) ** 2)) for y in groups], dtype=torch.float64)
    gen = torch.Generator().manual_seed(seed)
    mu = (means + torch.randn(len(groups), generator=gen, dtype=torch.float64)).requires_grad_()
    rho = torch.zeros(len(groups), dtype=torch.float64, requires_grad=True)
    n = float(sizes.sum())
    opt = torch.optim.LBFGS([mu, rho], lr=1.0, max_iter=max_iter, tolerance_grad=0.0,
                            tolerance_change=FTOL, history_size=20, line_search_fn="strong_wolfe")
    calls = 0

    def mean_loglik() -> torch.Tensor:
        v = xi + torch.exp(rho)
        return (-0.5 * sizes * (_LOG_2PI + torch.log(v))
                - (spreads + sizes * (mu - means) ** 2) / (2 * v)).sum() / n

    def closure() -> torch.Tensor:
        nonlocal calls
        calls += 1
        opt.zero_grad()
        loss = -mean_loglik()
        loss.backward()
        return loss

    opt.step(closure)
    with torch.no_grad():
        value = float(mean_loglik())
    return GroupedFit(groups=len(groups), points=int(n), xi=xi, value=value,
                      closed_form=closed_form_sup(groups, xi), iterations=calls)


@dataclass(frozen=True)
class RegressorRun:
    """One MLP regressor trained on the Gaussian NLL (means over the n training points)."""

    n: int
    steps: int
    xi: float
    seed: int
    best_loglik: float
    final_loglik: float
    min_variance: float
    mean_first_steps: int

    @property
    def cap(self) -> float:
        """-(1/2) log(2 pi xi): the floor's cap per point (+inf without a floor)."""
        return -0.5 * math.log(2 * math.pi * self.xi) if self.xi > 0 else math.inf

    @property
    def under_cap(self) -> bool:
        """The best logged training log-likelihood stays <= the cap."""
        return self.best_loglik <= self.cap


@one_thread()
def train_regressor(*, n: int = 64, steps: int = 400, xi: float = 0.0, seed: int = 0,
                    width: int = 64, lr: float = 1e-2, mean_first_steps: int = 0) -> RegressorRun:
    """Train a 2-hidden-layer tanh MLP (mean and log-variance heads) on ``n`` diabetes patients.

    The first ``mean_first_steps`` steps fit the mean by squared error (Nix & Weigend 1994),
    the rest the Gaussian NLL with v = xi + exp(raw).  Full batch, Adam, float64, one thread's
    worth of work (seeded: the same arguments give the same run).
    """
    x_all, y_all = diabetes()
    n = check_int_range("n", n, low=2, high=len(x_all))
    steps = check_int_range("steps", steps, low=1, high=10**6)
    idx = np.random.default_rng(seed).permutation(len(x_all))[:n]
    chosen = x_all[idx]
    x = torch.from_numpy((chosen - chosen.mean(0)) / chosen.std(0))
    y = torch.from_numpy(y_all[idx].copy())
    gen = torch.Generator().manual_seed(seed)
    layers = [torch.nn.Linear(x.shape[1], width), torch.nn.Tanh(), torch.nn.Linear(width, width),
              torch.nn.Tanh(), torch.nn.Linear(width, 2)]
    net = torch.nn.Sequential(*layers).double()
    with torch.no_grad():
        for p in net.parameters():  # seeded initialisation, independent of the global RNG
            bound = 1.0 / math.sqrt(p.shape[-1])
            p.copy_((torch.rand(p.shape, generator=gen, dtype=torch.float64) * 2 - 1) * bound)
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    best, last, vmin = -math.inf, -math.inf, math.inf
    for step in range(steps):
        out = net(x)
        mu, v = out[:, 0], xi + torch.exp(out[:, 1])
        loglik = (-0.5 * (_LOG_2PI + torch.log(v)) - (y - mu) ** 2 / (2 * v)).mean()
        loss = ((y - mu) ** 2).mean() if step < mean_first_steps else -loglik
        opt.zero_grad()
        loss.backward()
        opt.step()
        last = float(loglik.detach())
        if step >= mean_first_steps:
            best = max(best, last)
            vmin = min(vmin, float(v.detach().min()))
    return RegressorRun(n=n, steps=steps, xi=xi, seed=seed, best_loglik=best, final_loglik=last,
                        min_variance=vmin, mean_first_steps=mean_first_steps)
