"""Memory a training run needs, estimated before anything is allocated.

A size option such as ``hidden``, ``iwae_samples`` or ``train_samples`` set to 1e9 would
otherwise fail deep inside torch (or make the machine swap).  :func:`estimate_memory`
counts the bytes of the largest tensors a run holds at once, from the shapes alone;
:func:`check_memory` refuses a run whose estimate exceeds a budget, naming the option
that contributes most (the one whose reset to its default shrinks the estimate most).

The estimate is an upper-bound style count, not a measurement: it adds

- the parameters and what Adam and the divergence snapshot keep per parameter
  (parameter, gradient, two moments, a snapshot of the parameter and both moments:
  7 copies);
- the data (training and test tensors in the run's dtype);
- the larger of one training step (forward activations of ``train_samples`` x batch
  points, kept for the backward pass, counted twice for their gradients) and one
  evaluation chunk (``max(elbo_samples, iwae_samples)`` draws for up to 256 points,
  no gradients: two adjacent layers alive at once), with a few temporaries per pixel
  for the log-density.

For the digits (D = 64) a test log-likelihood with K = 5000 importance samples needs
about 5 GiB this way (256 points x 5000 draws x ~650 numbers x 8 bytes): raise the
budget for such runs.

Sizes are in bytes; budgets in GiB (2^30 bytes).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

from vaeproofs.errors import InvalidArgumentError
from vaeproofs.numeric.heads import HEADS
from vaeproofs.numeric.training.config import TrainConfig

__all__ = ["DEFAULT_MEMORY_BUDGET_GB", "MemoryEstimate", "check_budget", "check_memory",
           "estimate_memory"]

#: Memory a run may use unless the caller raises it (GiB).
DEFAULT_MEMORY_BUDGET_GB = 4.0
_GIB = 2.0**30
#: Points per evaluation chunk (:class:`vaeproofs.numeric.metrics.EvalSettings`).
_EVAL_CHUNK = 256
#: Temporaries per element of the decoder output (log-density terms, masks, exp).
_TEMPORARIES = 6
#: Options whose size drives the estimate, in the order they are blamed on a tie.
_SIZE_OPTIONS = ("iwae_samples", "elbo_samples", "train_samples", "hidden", "latent_dim",
                 "depth", "batch_size")


@dataclass(frozen=True)
class MemoryEstimate:
    """Estimated bytes by part; ``total`` is what is compared with the budget."""

    parameters: float
    data: float
    step: float
    evaluation: float

    @property
    def total(self) -> float:
        return self.parameters + self.data + max(self.step, self.evaluation)


def _mlp_weights(n_in: float, n_out: float, hidden: float, depth: int) -> float:
    if depth == 0:
        return n_in * n_out + n_out
    return n_in * hidden + hidden + (depth - 1) * (hidden * hidden + hidden) + hidden * n_out + n_out


def _forward_elements(points: float, dim: int, config: TrainConfig, draws: float) -> float:
    """Elements of the activations one forward pass over ``points`` with ``draws`` draws
    keeps for its backward pass (every layer's input and output)."""
    k, h, depth = config.latent_dim, config.hidden, config.depth
    out = HEADS[config.likelihood].params_per_pixel * dim
    encoder = points * (dim + 2 * depth * h + 2 * k)
    decoder = draws * points * (3 * k + 2 * depth * h + out + _TEMPORARIES * dim)
    return encoder + decoder


def _no_grad_elements(points: float, dim: int, config: TrainConfig, draws: float) -> float:
    """Elements alive at once in a forward pass without gradients: two adjacent layers
    and the log-density temporaries of the largest (decoder) end."""
    k, h = config.latent_dim, config.hidden
    out = HEADS[config.likelihood].params_per_pixel * dim
    encoder = points * (dim + 2 * h + 2 * k)
    decoder = draws * points * (3 * k + 2 * h + out + _TEMPORARIES * dim)
    return encoder + decoder


def estimate_memory(config: TrainConfig, *, dim: int, n_train: int, n_test: int) -> MemoryEstimate:
    """Estimate the memory of training ``config`` on ``n_train`` points of dimension ``dim``.

    ``n_test`` is the number of test points actually used.  See the module docstring.
    """
    size = 4 if config.dtype == "float32" else 8
    k, h, depth = config.latent_dim, config.hidden, config.depth
    out = HEADS[config.likelihood].params_per_pixel * dim
    weights = _mlp_weights(dim, 2 * k, h, depth) + _mlp_weights(k, out, h, depth)
    batch = n_train if config.batch_size is None else min(config.batch_size, n_train)
    chunk = min(_EVAL_CHUNK, max(n_train, n_test))
    draws = max(config.elbo_samples, config.iwae_samples)
    return MemoryEstimate(
        parameters=7.0 * weights * size,
        data=float(n_train + n_test) * dim * size,
        step=2.0 * _forward_elements(batch, dim, config, config.train_samples) * size,
        # the decoder variances of every training point are kept for their medians
        evaluation=(_no_grad_elements(chunk, dim, config, draws) + n_train * dim) * size)


def check_budget(budget_gb: float | None, *, argument: str = "memory_budget_gb") -> float:
    """The budget in GiB (None: :data:`DEFAULT_MEMORY_BUDGET_GB`); refuse anything but a
    finite number > 0, naming ``argument``."""
    if budget_gb is None:
        return DEFAULT_MEMORY_BUDGET_GB
    if isinstance(budget_gb, bool) or not isinstance(budget_gb, int | float) \
            or not math.isfinite(budget_gb) or budget_gb <= 0:
        raise InvalidArgumentError(argument, f"must be a finite number > 0, got {budget_gb!r}")
    return float(budget_gb)


def check_memory(config: TrainConfig, *, dim: int, n_train: int, n_test: int,
                 budget_gb: float | None = None) -> MemoryEstimate:
    """Return the estimate, or raise naming the option that drives it past ``budget_gb``.

    ``budget_gb`` None means :data:`DEFAULT_MEMORY_BUDGET_GB`.

    Raises:
        InvalidArgumentError: ``budget_gb`` not a finite number > 0 (argument
            ``memory_budget_gb``), or the estimate exceeds it (argument: the size option
            whose reset to its default lowers the estimate most).
    """
    budget_gb = check_budget(budget_gb)
    est = estimate_memory(config, dim=dim, n_train=n_train, n_test=n_test)
    if est.total <= budget_gb * _GIB:
        return est
    defaults = TrainConfig()
    # Nothing but the data set's size differs from the defaults: blame the training points.
    blame, value, lowest = "n_train", n_train, math.inf
    for name in _SIZE_OPTIONS:
        if getattr(config, name) == getattr(defaults, name):
            continue
        trial = dataclasses.replace(config, **{name: getattr(defaults, name)})
        total = estimate_memory(trial, dim=dim, n_train=n_train, n_test=n_test).total
        if total < lowest:
            blame, value, lowest = name, getattr(config, name), total
    raise InvalidArgumentError(
        blame, f"{value} would need about {est.total / _GIB:.3g} GiB of memory "
        f"for this run, over the budget of {budget_gb:g} GiB; lower it or raise the budget "
        f"(memory_budget_gb)")
