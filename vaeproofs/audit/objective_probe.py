"""The objective probe: train private copies on one batch with the user's own objective.

Conventions: natural log; variances sigma^2 per element; D = elements per row of the target.
The probe minimises ``objective(model, batch)`` by Adam (lr :data:`PROBE_LR`) on copies
(:mod:`vaeproofs.audit.objective_copy`, cast to float64 where possible) and stops *as soon
as* it has one of these:

- a **witness** that the objective runs off on this batch.  With the model's output read
  (:mod:`vaeproofs.audit.model_outputs`) and a target row of the mean's shape: some row's
  Gaussian log-density log N(t | mean, diag sigma^2) passes the *witness cap*
  -(D/2) log(2 pi xi_w), xi_w = :data:`WITNESS_FRACTION` times the target's mean per-element
  variance.  No model whose variance stays >= xi_w can pass it (Mattei & Frellsen, NeurIPS
  2018, section 2.1): the mean reproduces that training row to within a standard deviation
  below sqrt(xi_w).  Without a readable output: the loss falling below the loss any sum or
  mean of per-element Gaussian NLLs (with or without the 0.5 log 2 pi constant) has while
  every variance is >= xi_w, plus non-negative terms (a KL); an objective with negative
  extra terms can fool that one, so it is labelled as such;
- a **pass** of the proven lower bound (minus a round-off allowance): a conflict;

or when its step or time budget runs out, or, with a proven finite bound (the probe can then
only find a conflict), once the loss has plateaued.  It reports how far the loss and the smallest
variance fell and whether the loss plateaued (information: a probe proves no bound).
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from vaeproofs.audit.batches import Batch
from vaeproofs.audit.kinds import variance
from vaeproofs.audit.model_outputs import normalise_outputs
from vaeproofs.constants import LOG_2PI
from vaeproofs.errors import InvalidArgumentError

__all__ = [
    "DEFAULT_STEPS",
    "DEFAULT_TIME_BUDGET_S",
    "WITNESS_FRACTION",
    "ObjectiveProbe",
    "run_objective_probe",
]

#: Adam's learning rate: ten times the common default, so that a run-off shows in seconds.
PROBE_LR = 1e-2
DEFAULT_STEPS = 3000
#: Wall-clock budget of the probe (the audit's decision goal is 10 s on 2 cores, static part included).
DEFAULT_TIME_BUDGET_S = 5.0
#: With a proven finite bound the probe only looks for a conflict: it stops once the loss plateaus
#: (checked every this many steps, from twice that many on).
PLATEAU_CHECK = 100
#: xi_w / (the target's mean per-element variance): the witness floor.
WITNESS_FRACTION = 1e-3
#: Plateau: the loss fell by less than this fraction of its total fall over the last quarter.
PLATEAU_FRACTION = 0.01


@dataclass
class ObjectiveProbe:
    """What the objective probe recorded (see the module docstring)."""

    steps: int
    requested_steps: int
    n_rows: int
    initial_loss: float
    best_loss: float
    final_loss: float
    witness: str | None
    witness_at_step: int | None
    witness_floor: float
    witness_cap_per_row: float | None
    loss_threshold: float
    best_log_density_per_row: float | None
    initial_min_variance: float | None
    min_variance: float | None
    variance_source: str | None
    passed_bound: bool | None
    passed_bound_at_step: int | None
    plateaued: bool
    stopped: str
    trained_parameters: list[str]
    elapsed_s: float
    dtype: str
    trace_step: list[int] = field(default_factory=list, repr=False)
    trace_loss: list[float] = field(default_factory=list, repr=False)
    trace_min_variance: list[float] = field(default_factory=list, repr=False)

    def to_json(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass
class ProbeSetup:
    """Everything the loop needs, prepared by :func:`vaeproofs.audit.objective.audit_objective`."""

    objective: Callable[..., Any]
    model: nn.Module
    params: list[tuple[str, torch.Tensor]]
    batch: Batch
    target: Callable[[Batch, Any], torch.Tensor | None]
    kind: str | None
    data_variance: float
    lower_bound: float | None
    dtype: str


def objective_value(objective: Callable[..., Any], model: nn.Module, batch: Batch, step: int
                    ) -> torch.Tensor:
    """``objective(model, batch)`` as a 0-d tensor, or InvalidArgumentError naming ``objective``."""
    try:
        loss = objective(model, batch)
    except Exception as exc:
        raise InvalidArgumentError("objective", f"raised {type(exc).__name__} at probe step {step}: "
                                                f"{exc}") from None
    if not isinstance(loss, torch.Tensor) or loss.numel() != 1:
        got = f"shape {tuple(loss.shape)}" if isinstance(loss, torch.Tensor) else type(loss).__name__
        raise InvalidArgumentError("objective", f"must return a one-element tensor (the loss to "
                                                f"minimise), got {got}")
    return loss.reshape(())


def _density(t: torch.Tensor, mean: torch.Tensor, var: torch.Tensor) -> torch.Tensor:
    """log N(t | mean, diag var) per row (shape (n,))."""
    var = torch.broadcast_to(var, mean.shape)
    return -0.5 * (LOG_2PI + torch.log(var) + (t - mean).square() / var).flatten(1).sum(1)


def run_objective_probe(setup: ProbeSetup, *, steps: int, seed: int, time_budget_s: float,
                        progress: bool | None) -> ObjectiveProbe:
    """Run the probe (module docstring); torch's global random state and threads are restored."""
    show = sys.stderr.isatty() if progress is None else progress
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a small model gains nothing from threads
    try:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            return _loop(setup, steps, time_budget_s, show)
    finally:
        torch.set_num_threads(threads)


def _loop(s: ProbeSetup, steps: int, budget: float, show: bool) -> ObjectiveProbe:
    from tqdm.auto import tqdm

    start = time.perf_counter()
    captured: list[Any] = []
    hook = s.model.register_forward_hook(lambda _m, _a, out: captured.append(out))
    opt = torch.optim.Adam([p for _, p in s.params], lr=PROBE_LR) if s.params else None
    xi_w = WITNESS_FRACTION * s.data_variance
    losses: list[float] = []
    min_var: list[float] = []
    best_density: float | None = None
    witness: tuple[str, int] | None = None
    passed_at: int | None = None
    cap_row: float | None = None
    loss_threshold = math.nan
    source: str | None = None
    stopped = "steps"
    bar = tqdm(total=steps, desc="audit probe", disable=not show, leave=False, file=sys.stderr)
    try:
        for step in range(steps):
            captured.clear()
            loss = objective_value(s.objective, s.model, s.batch, step)
            value = float(loss.detach())
            if not math.isfinite(value):
                stopped = "non-finite"
                break
            losses.append(value)
            density, var_min, t, src = _read(s, captured)
            source = source or src
            if var_min is not None:
                min_var.append(var_min)
            if density is not None and t is not None:
                d = t[0].numel()
                cap_row = -0.5 * d * (LOG_2PI + math.log(xi_w))
                best_density = density if best_density is None else max(best_density, density)
                if density > cap_row:
                    witness = ("density", step)
            if step == 0:
                loss_threshold = _loss_threshold(s.batch, t, xi_w)
            if witness is None and density is None and value < loss_threshold:
                witness = ("loss", step)
            if s.lower_bound is not None and math.isfinite(s.lower_bound) and \
                    value < s.lower_bound - _roundoff(s.batch, loss.dtype, s.lower_bound, value):
                passed_at = step
                stopped = "passed the proven bound"
                break
            if witness is not None:
                stopped = "witness"
                break
            if opt is None:
                stopped = "nothing trains"
                break
            if not loss.requires_grad:
                raise InvalidArgumentError("objective", "its value does not depend on any trained "
                                                        "parameter (no gradient): it cannot train the probe")
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            bar.update(1)
            if time.perf_counter() - start > budget:
                stopped = "time budget"
                break
            if s.lower_bound is not None and math.isfinite(s.lower_bound) and step >= 2 * PLATEAU_CHECK \
                    and step % PLATEAU_CHECK == 0 and _plateaued(losses):
                stopped = "plateau above the proven bound"
                break
    except KeyboardInterrupt:
        stopped = "interrupted"
    finally:
        bar.close()
        hook.remove()
    return _summarise(s, losses, min_var, best_density, witness, passed_at, cap_row, loss_threshold,
                      source, stopped, steps, xi_w, time.perf_counter() - start)


def _read(s: ProbeSetup, captured: list[Any]) -> tuple[float | None, float | None,
                                                        torch.Tensor | None, str | None]:
    """(best row log-density, smallest variance, target, source) from the model's first output."""
    if not captured or s.kind is None:
        return None, None, None, None
    try:
        outs = normalise_outputs(captured[0], variance=s.kind)
    except InvalidArgumentError:
        return None, None, None, None
    with torch.no_grad():
        var = variance(outs.kind, outs.var_like.detach())
        var_min = float(var.min())
        t = s.target(s.batch, outs.mean)
        if t is None or var_min <= 0:
            return None, var_min, t, outs.source
        density = _density(t.to(outs.mean.dtype), outs.mean.detach(), var)
    return float(density.max()), var_min, t, outs.source


def _loss_threshold(batch: Batch, target: torch.Tensor | None, xi_w: float) -> float:
    """The loss-level witness threshold (module docstring): min over reductions of n D t, D t, t."""
    leaves = [batch] if isinstance(batch, torch.Tensor) else list(
        batch.values() if isinstance(batch, dict) else batch)
    ref = target if target is not None else leaves[-1]
    n, d = int(ref.shape[0]), max(1, int(ref[0].numel()))
    t_el = 0.5 * math.log(xi_w)  # per element, 0.5 log sigma^2 at sigma^2 = xi_w (no 2 pi term)
    return min(n * d * t_el, d * t_el, t_el)


def _roundoff(batch: Batch, dtype: torch.dtype, bound: float, value: float) -> float:
    """Allowance for the loss's own round-off before a value below the bound counts as passing it:
    a sum over N batch elements carries N eps relative error per term (Higham, Accuracy and
    Stability of Numerical Algorithms, 2002, section 4.2), here times 16 for the few operations
    per element and taken on |bound| + |value| + 1 (the terms' size is not known)."""
    leaves = [batch] if isinstance(batch, torch.Tensor) else list(
        batch.values() if isinstance(batch, dict) else batch)
    n = sum(int(t.numel()) for t in leaves)
    return 16 * n * torch.finfo(dtype).eps * (abs(bound) + abs(value) + 1.0)


def _plateaued(losses: list[float]) -> bool:
    """The loss fell by less than PLATEAU_FRACTION of its total fall over the last quarter."""
    done = len(losses)
    if done < 20:
        return False
    q = done - done // 4
    total = losses[0] - min(losses)
    late = losses[q] - min(losses[q:])
    return total > 0 and late < PLATEAU_FRACTION * total


def _summarise(s: ProbeSetup, losses: list[float], min_var: list[float], best_density: float | None,
               witness: tuple[str, int] | None, passed_at: int | None, cap_row: float | None,
               loss_threshold: float, source: str | None, stopped: str, steps: int, xi_w: float,
               elapsed: float) -> ObjectiveProbe:
    done = len(losses)
    plateaued = _plateaued(losses)
    every = max(1, done // 400)
    idx = list(range(0, done, every)) + ([done - 1] if done and (done - 1) % every else [])
    return ObjectiveProbe(
        steps=done, requested_steps=steps, n_rows=_rows(s.batch),
        initial_loss=losses[0] if losses else math.nan, best_loss=min(losses) if losses else math.nan,
        final_loss=losses[-1] if losses else math.nan,
        witness=None if witness is None else witness[0],
        witness_at_step=None if witness is None else witness[1], witness_floor=xi_w,
        witness_cap_per_row=cap_row, loss_threshold=loss_threshold,
        best_log_density_per_row=best_density,
        initial_min_variance=min_var[0] if min_var else None,
        min_variance=min(min_var) if min_var else None, variance_source=source,
        passed_bound=None if s.lower_bound is None or not math.isfinite(s.lower_bound) else
        passed_at is not None, passed_bound_at_step=passed_at, plateaued=plateaued, stopped=stopped,
        trained_parameters=[n for n, _ in s.params], elapsed_s=elapsed, dtype=s.dtype,
        trace_step=idx, trace_loss=[losses[i] for i in idx],
        trace_min_variance=[min_var[i] for i in idx if i < len(min_var)])


def _rows(batch: Batch) -> int:
    if isinstance(batch, torch.Tensor):
        return int(batch.shape[0])
    leaves = list(batch.values() if isinstance(batch, dict) else batch)
    return int(leaves[0].shape[0])
