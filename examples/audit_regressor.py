"""Audit a heteroscedastic regressor: ``model(x) -> (mean, var)`` trained on a Gaussian NLL.

Data: scikit-learn's diabetes set (442 patients, 10 features, shipped inside scikit-learn,
no download), features and target standardised.  Three objectives on the same network:

- ``nll``: a hand-written Gaussian NLL with ``var = softplus(raw)``: nothing bounds it below
  (the variance reaches 0), and the probe shows a patient's target reproduced with a variance
  below 1e-3 of the data's: NOT bounded (the audit's rule needs both);
- ``nll`` on ``make_floored()`` (``var = softplus(raw) + 1e-2``): bounded, with the proven
  lower bound of the loss;
- ``gaussian_nll``: ``nn.GaussianNLLLoss()`` on the unfloored network: its ``eps`` clamps the
  variance's *value* (so the loss value has a floor) but not the model's variance, which the
  probe drives far below eps; the advice says so.  (Its ``torch.any(var < 0)`` check is
  data-dependent control flow, which a static trace cannot follow: what the audit decides
  then is in its verdict.)

Run: ``python examples/audit_regressor.py`` (or ``vaeproofs audit
examples/audit_regressor.py:make --data diabetes.npz --objective examples/audit_regressor.py:nll``
with ``np.savez("diabetes.npz", x=X, y=y)``).
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


class Regressor(nn.Module):
    """x (n, 10) -> (mean (n, 1), var (n, 1)); ``var = softplus(raw) [+ floor]``."""

    def __init__(self, floor: float | None = None, hidden: int = 32) -> None:
        super().__init__()
        self.floor = floor
        self.body = nn.Sequential(nn.Linear(10, hidden), nn.Tanh())
        self.to_mean = nn.Linear(hidden, 1)
        self.to_raw = nn.Linear(hidden, 1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.body(x)
        var = F.softplus(self.to_raw(h))
        return self.to_mean(h), var if self.floor is None else var + self.floor


def make() -> Regressor:
    torch.manual_seed(0)
    return Regressor()


def make_floored() -> Regressor:
    torch.manual_seed(0)
    return Regressor(floor=1e-2)


def load() -> tuple[np.ndarray, np.ndarray]:
    """Standardised diabetes features (442, 10) and target (442,), float32."""
    from sklearn.datasets import load_diabetes

    d = load_diabetes()
    x = (d.data - d.data.mean(0)) / d.data.std(0)
    y = (d.target - d.target.mean()) / d.target.std()
    return x.astype(np.float32), y.astype(np.float32)


def nll(model: nn.Module, batch: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
    """Gaussian NLL, natural log, averaged over the batch (one target per row)."""
    x, y = batch
    mean, var = model(x)
    return 0.5 * (math.log(2 * math.pi) + torch.log(var) + (y[:, None] - mean) ** 2 / var).mean()


criterion = nn.GaussianNLLLoss()


def gaussian_nll(model: nn.Module, batch: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
    """PyTorch's GaussianNLLLoss (eps=1e-6 clamps the variance's value; reduction='mean')."""
    x, y = batch
    mean, var = model(x)
    return criterion(mean, y[:, None], var)


def main(steps: int | None = None) -> dict[str, object]:
    from vaeproofs.audit import audit_objective

    data = load()
    runs = {"unfloored, hand-written NLL": (make(), nll),
            "floored (softplus + 1e-2), hand-written NLL": (make_floored(), nll),
            "unfloored, nn.GaussianNLLLoss": (make(), gaussian_nll)}
    reports = {}
    for name, (model, objective) in runs.items():
        # (mean, var) does not say its second element is a variance: variance="var" says it, so
        # the probe can read it (GaussianNLLLoss's var argument says it by itself).
        rep = audit_objective(model, data, objective, steps=steps, progress=False, variance="var")
        reports[name] = rep
        print(f"== {name}: {rep.decision} (loss lower bound {rep.loss_lower_bound}; variance floor "
              f"{rep.variance_floor.floor}, cap per point {rep.cap_per_point})")
        print(rep.verdict)
        for item in rep.advice:
            print(f"  - {item.text}")
    return reports


if __name__ == "__main__":
    main()
