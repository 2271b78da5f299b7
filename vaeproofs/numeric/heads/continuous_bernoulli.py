"""The continuous Bernoulli decoder (Loaiza-Ganem & Cunningham, NeurIPS 2019) for x in [0, 1].

p(x | l) = C(l) l^x (1 - l)^(1 - x) on [0, 1], with the normaliser
C(l) = 2 artanh(1 - 2l) / (1 - 2l) for l != 1/2 and C(1/2) = 2 (the paper, eq. 7).
With the logit eta = log(l / (1 - l)) -- the head's output -- this is the exponential
family p(x | eta) = exp(eta x - A(eta)) on [0, 1], A(eta) = log((e^eta - 1)/eta), since
1 - 2l = -tanh(eta/2) gives C = eta / tanh(eta/2), and l^x (1-l)^(1-x) = exp(eta x -
softplus(eta)).  Natural log; per point summed over pixels.

Boundedness, per pixel (computed by the tests and the claims, not assumed):

- at x = 0 (or 1) the density is C(l)(1 - l) = eta / (e^eta - 1) -> +inf as eta -> -inf
  (l -> 0): log p(0 | l) = log(log(1/l)) + o(1), i.e. log C(l) ~ log log(1/l) -- no cap
  on data that contain exact 0s or 1s, only an extremely slow divergence;
- for x strictly inside (0, 1) the log-density is concave in eta and tends to -inf at
  both ends, so it has a finite maximum M(x) (:func:`continuous_bernoulli_sup_log_density`),
  which grows like log(1/x) as x -> 0: the cap exists but depends on the data.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from numpy.typing import ArrayLike, NDArray
from torch import Tensor

from vaeproofs.errors import InvalidArgumentError
from vaeproofs.numeric.heads.base import LikelihoodHead
from vaeproofs.validation import as_float_array

__all__ = ["ContinuousBernoulli", "continuous_bernoulli_log_normaliser",
           "continuous_bernoulli_sup_log_density"]

# Below |eta|/2 = 1e-3 use the series log(y coth y) = y^2/3 - 7 y^4/90 + 62 y^6/2835 - ...
# (truncation error < 3e-20); above, log y - log tanh y is accurate to a few ulp.
_TAYLOR = 1e-3


def continuous_bernoulli_log_normaliser(logits: Tensor) -> Tensor:
    """log C = log(eta / tanh(eta/2)) elementwise, with C(eta = 0) = 2 (l = 1/2).

    Stable for every finite eta: a Taylor branch near eta = 0, and log tanh y =
    log(-expm1(-2y)) - log1p(exp(-2y)) for y = |eta|/2 > 0.
    """
    y = 0.5 * logits.abs()
    small = y < _TAYLOR
    y_safe = torch.where(small, torch.ones_like(y), y)
    log_tanh = torch.log(-torch.expm1(-2.0 * y_safe)) - F.softplus(-2.0 * y_safe)
    direct = torch.log(y_safe) - log_tanh
    y2 = y.square()
    series = y2 / 3.0 - 7.0 * y2.square() / 90.0
    return math.log(2.0) + torch.where(small, series, direct)


class ContinuousBernoulli(LikelihoodHead):
    """prod_j CB(x_j; l_j(z)) with logits eta = log(l/(1-l)) output by the decoder, x in [0, 1].

    log p = sum_j [x_j eta_j - softplus(eta_j) + log C(eta_j)].  No cap on [0, 1] (see the
    module docstring); :meth:`variance` reports the distribution's variance
    1/4 - 1/(4 t^2) + 1/(4 artanh(t)^2), t = 1 - 2l = -tanh(eta/2) (1/12 at l = 1/2, by
    its series 1/12 - t^2/60 - 8 t^4/945 for |t| < 1e-2), and :meth:`mean` its mean
    1/2 - 1/(2t) + 1/(2 artanh t) (series 1/2 - t/6 - 2 t^3/45).
    """

    name = "continuous-bernoulli"
    unit_interval_data = True

    def log_prob(self, x: Tensor, out: Tensor) -> Tensor:
        return (x * out - F.softplus(out) + continuous_bernoulli_log_normaliser(out)).sum(-1)

    def _t(self, out: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        t = -torch.tanh(0.5 * out)
        small = t.abs() < 1e-2
        t_safe = torch.where(small, torch.full_like(t, 0.5), t)
        return t, small, t_safe

    def mean(self, out: Tensor) -> Tensor:
        t, small, ts = self._t(out)
        direct = 0.5 - 0.5 / ts + 0.5 / (-0.5 * out).where(~small, torch.ones_like(out))
        # artanh(t) = -eta/2 exactly, so use it instead of recomputing artanh.
        return torch.where(small, 0.5 - t / 6.0 - 2.0 * t**3 / 45.0, direct)

    def variance(self, out: Tensor) -> Tensor:
        t, small, ts = self._t(out)
        a = (-0.5 * out).where(~small, torch.ones_like(out))  # artanh(t) = -eta/2
        direct = 0.25 - 0.25 / ts.square() + 0.25 / a.square()
        t2 = t.square()
        return torch.where(small, 1.0 / 12.0 - t2 / 60.0 - 8.0 * t2.square() / 945.0, direct)


def continuous_bernoulli_sup_log_density(x: ArrayLike) -> NDArray[np.float64]:
    """M(x) = max over eta of log CB(x | eta), elementwise, for x in (0, 1) (float64).

    The log-density is concave in eta (an exponential family), so its maximiser is where
    the derivative x - E[x | eta] changes sign; found by bisection (200 halvings of a
    bracket [-(2/x + 2), 2/(1 - x) + 2] that contains it, since E[x | eta] ~ -1/eta as
    eta -> -inf).  Summed over pixels and maximised over a training set it is the cap
    that a continuous Bernoulli decoder obeys on that (interior) data.

    Raises:
        InvalidArgumentError: some x is not strictly inside (0, 1) (there M is +inf).
    """
    arr = as_float_array("x", x)
    if not np.all((arr > 0.0) & (arr < 1.0)):
        raise InvalidArgumentError("x", "must lie strictly inside (0, 1) (at 0 and 1 the "
                                   "continuous Bernoulli density is unbounded)")
    xt = torch.as_tensor(arr, dtype=torch.float64)
    lo = -(2.0 / xt + 2.0)
    hi = 2.0 / (1.0 - xt) + 2.0
    head = ContinuousBernoulli()
    for _ in range(200):
        mid = (0.5 * (lo + hi)).requires_grad_(True)
        value = (xt * mid - F.softplus(mid) + continuous_bernoulli_log_normaliser(mid)).sum()
        (grad,) = torch.autograd.grad(value, mid)
        with torch.no_grad():
            up = grad > 0
            lo = torch.where(up, mid, lo)
            hi = torch.where(up, hi, mid)
    eta = 0.5 * (lo + hi)
    with torch.no_grad():
        per = head.log_prob(xt.unsqueeze(-1), eta.unsqueeze(-1))
    return per.numpy()
