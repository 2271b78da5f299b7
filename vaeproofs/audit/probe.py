"""The memorisation probe: train a deep copy of the user's model on a few of their points.

Conventions: natural log; per point means summed over the D pixels (never averaged).
The probe measures, at every step and on the ``n_points`` training points, the
single-sample Gaussian ELBO per point

    log N(x | mu_x, diag sigma^2) - KL(N(mu_z, diag exp(logvar_z)) || N(0, I))

(Kingma & Welling 2014, arXiv 1312.6114, appendix B), the log-density term alone (which
no floor xi lets exceed -(D/2) log(2 pi xi), for any z: Mattei & Frellsen 2018,
section 2.1) and the smallest variance.  It trains with the user's loss (or the mean
negative ELBO) by Adam (lr 1e-3) on the parameters that actually train: those in the
user's optimiser when one is given, else every parameter with ``requires_grad``.

It stops early (checked every :data:`CHECK_EVERY` steps) once it has shown what it can:
without a proven floor, when the variance is running off (see :func:`_running_off`); with
one, when the objective has plateaued below the cap (only passing the cap could matter).

Nothing the user owns changes: the model is deep-copied (then cast to float64 where
possible), a fresh optimiser is built on the copy, the user's optimiser is only read
(its parameter groups), and torch's global random state is restored afterwards.
"""

from __future__ import annotations

import copy
import math
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from vaeproofs.audit.kinds import log_variance, variance
from vaeproofs.audit.model_outputs import ModelOutputs, normalise_outputs
from vaeproofs.constants import LOG_2PI
from vaeproofs.errors import InvalidArgumentError

__all__ = ["ProbeResult", "call_model", "read_model", "require_posterior", "run_probe",
           "trained_parameter_names"]

LossFn = Callable[..., torch.Tensor]
ForwardFn = Callable[[nn.Module, torch.Tensor], Sequence[torch.Tensor]]

#: Adam's learning rate in the probe (the common default).
PROBE_LR = 1e-3
#: Default step budget and wall-clock budget of the probe.
DEFAULT_STEPS = 2000
DEFAULT_TIME_BUDGET_S = 50.0
#: "Running off": the smallest variance fell by this factor while the objective still rose.
RUN_OFF_FACTOR = 1e-3
#: The probe checks, every this many steps from twice that many on, whether it can stop: running
#: off without a proven floor (shown), or a plateau below a proven cap (only passing it mattered).
CHECK_EVERY = 100
#: Plateau: the objective rose by less than this fraction of its total rise over the last quarter.
PLATEAU_FRACTION = 0.01


@dataclass
class ProbeResult:
    """What the probe recorded (see the module docstring for the quantities)."""

    steps: int
    requested_steps: int
    n_points: int
    best_objective_per_point: float
    best_log_density_per_point: float
    min_variance: float
    initial_min_variance: float
    passed_cap: bool | None
    passed_cap_at_step: int | None
    running_off: bool
    stopped: str
    trained_parameters: list[str]
    elapsed_s: float
    dtype: str
    trace_step: list[int] = field(default_factory=list, repr=False)
    trace_objective: list[float] = field(default_factory=list, repr=False)
    trace_min_variance: list[float] = field(default_factory=list, repr=False)
    #: The smallest variance of each output dimension (pixel), over the probe's points and
    #: steps, flat in the model's output order (its minimum is ``min_variance``).
    pixel_min_variance: list[float] = field(default_factory=list, repr=False)

    def to_json(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def call_model(model: nn.Module, x: torch.Tensor, forward: ForwardFn | None,
               variance: str | None = None
               ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(mu_x, var_like_x, mu_z, logvar_z)`` from ``model(x)`` or ``forward(model, x)``.

    The output is read by :func:`vaeproofs.audit.model_outputs.normalise_outputs` (a tuple,
    a dict, a dataclass, a distribution...); ``variance`` is the kind of the variance-like
    output where the form does not say it.

    Raises:
        InvalidArgumentError: when the call raises or returns something of the wrong form.
    """
    return require_posterior(read_model(model, x, forward, variance), forward)


def require_posterior(outs: ModelOutputs, forward: ForwardFn | None
                      ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(mu_x, var_like_x, mu_z, logvar_z)``, refusing an output without a posterior."""
    if outs.mu_z is None or outs.logvar_z is None:
        what = "forward(model, x)" if forward is not None else "model(x)"
        raise InvalidArgumentError("forward" if forward is not None else "model",
                                   f"{what} returned no posterior (mu_z, logvar_z): {outs.source} is "
                                   "the decoder variance, but a VAE audit needs the encoder's output "
                                   "too; for a model without a latent (a regressor) use "
                                   "audit_objective(model, X, objective)")
    return outs.mean, outs.var_like, outs.mu_z, outs.logvar_z


def read_model(model: nn.Module, x: torch.Tensor, forward: ForwardFn | None,
               variance: str | None = None) -> ModelOutputs:
    """Call the model on ``x`` and read its output (see :func:`call_model`); shapes checked."""
    what = "forward(model, x)" if forward is not None else "model(x)"
    try:
        out = forward(model, x) if forward is not None else model(x)
    except Exception as exc:
        raise InvalidArgumentError("data", f"{what} raised {type(exc).__name__} on data of shape "
                                           f"{tuple(x.shape)}: {exc}") from None
    outs = normalise_outputs(out, variance=variance, data_shape=tuple(x.shape), what=what,
                             argument="forward" if forward is not None else "model")
    if tuple(outs.mean.shape) != tuple(x.shape):
        raise InvalidArgumentError("data", f"mu_x has shape {tuple(outs.mean.shape)}, the data "
                                           f"{tuple(x.shape)}: wrong data shape for this model")
    try:
        torch.broadcast_shapes(outs.var_like.shape, x.shape)
    except RuntimeError:
        raise InvalidArgumentError("forward", f"the variance output's shape "
                                              f"{tuple(outs.var_like.shape)} does not broadcast to "
                                              f"the data's {tuple(x.shape)}") from None
    return outs


def trained_parameter_names(model: nn.Module, optimizer: torch.optim.Optimizer | None) -> list[str]:
    """Names of the parameters that train: in ``optimizer``'s groups, or all with requires_grad."""
    if optimizer is None:
        return [n for n, p in model.named_parameters() if p.requires_grad]
    ids = {id(p) for group in optimizer.param_groups for p in group["params"]}
    return [n for n, p in model.named_parameters() if id(p) in ids and p.requires_grad]


def gaussian_terms(x: torch.Tensor, mu_x: torch.Tensor, var: torch.Tensor, mu_z: torch.Tensor,
                   logvar_z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per point: log N(x | mu_x, diag var) and KL(q || N(0, I)), each shape (n,)."""
    var = torch.broadcast_to(var, x.shape)
    log_density = -0.5 * (LOG_2PI + torch.log(var) + (x - mu_x).square() / var).flatten(1).sum(1)
    kl = 0.5 * (mu_z.square() + torch.exp(logvar_z) - 1.0 - logvar_z).flatten(1).sum(1)
    return log_density, kl


def run_probe(model: nn.Module, x: torch.Tensor, *, variance_kind: str,
              forward: ForwardFn | None = None, loss_fn: LossFn | None = None,
              optimizer: torch.optim.Optimizer | None = None, steps: int | None = None,
              seed: int = 0, cap_per_point: float = math.inf,
              time_budget_s: float = DEFAULT_TIME_BUDGET_S, progress: bool | None = None
              ) -> ProbeResult:
    """Train a deep copy of ``model`` on the points ``x`` and record the objective (see module doc)."""
    requested = DEFAULT_STEPS if steps is None else steps
    trained = set(trained_parameter_names(model, optimizer))
    show = sys.stderr.isatty() if progress is None else progress
    start = time.perf_counter()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a small model gains nothing from threads; restored below
    try:
        return _run(model, x, variance_kind, forward, loss_fn, trained, requested, seed,
                    cap_per_point, time_budget_s, show, start)
    finally:
        torch.set_num_threads(threads)


def _run(model: nn.Module, x: torch.Tensor, variance_kind: str, forward: ForwardFn | None,
         loss_fn: LossFn | None, trained: set[str], requested: int, seed: int,
         cap_per_point: float, time_budget_s: float, show: bool, start: float) -> ProbeResult:
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        work = copy.deepcopy(model)
        try:
            work = work.double()
            xs = x.to(torch.float64)
            dtype = "float64"
        except Exception:  # a model that cannot be cast keeps its dtype
            xs = x
            dtype = str(x.dtype).removeprefix("torch.")
        params = [p for n, p in work.named_parameters() if n in trained]
        opt = torch.optim.Adam(params, lr=PROBE_LR) if params else None
        result = _loop(work, xs, opt, variance_kind, forward, loss_fn, requested, cap_per_point,
                       time_budget_s, show, start)
    result.trained_parameters = sorted(trained)
    result.dtype = dtype
    return result


def _user_loss(loss_fn: LossFn, step: int, *args: torch.Tensor) -> torch.Tensor:
    """The user's loss at probe ``step``, as a one-element tensor.

    Raises:
        InvalidArgumentError: naming ``loss_fn``, when it raises or returns anything else (its
            failure is the user's to fix, not an internal error of the audit).
    """
    try:
        loss = loss_fn(*args)
    except Exception as exc:
        raise InvalidArgumentError("loss_fn", f"raised {type(exc).__name__} at probe step {step}: "
                                              f"{exc}") from None
    if not isinstance(loss, torch.Tensor) or loss.numel() != 1:
        got = f"shape {tuple(loss.shape)}" if isinstance(loss, torch.Tensor) else type(loss).__name__
        raise InvalidArgumentError("loss_fn", f"must return a one-element tensor (the loss to "
                                              f"minimise), got {got}")
    return loss.reshape(())


def _loop(work: nn.Module, x: torch.Tensor, opt: torch.optim.Optimizer | None, kind: str,
          forward: ForwardFn | None, loss_fn: LossFn | None, steps: int, cap: float,
          budget: float, show: bool, start: float) -> ProbeResult:
    from tqdm.auto import tqdm

    objective: list[float] = []
    min_var: list[float] = []
    pixel_min: torch.Tensor | None = None
    best_density = -math.inf
    passed_at: int | None = None
    stopped = "steps"
    tol = 64 * torch.finfo(x.dtype).eps * (abs(cap) + x[0].numel()) if math.isfinite(cap) else 0.0
    bar = tqdm(total=steps, desc="audit probe", disable=not show, leave=False, file=sys.stderr)
    try:
        for step in range(steps):
            mu_x, v, mu_z, logvar_z = call_model(work, x, forward, kind)
            var = variance(kind, v)
            log_density, kl = gaussian_terms(x, mu_x, var, mu_z, logvar_z)
            elbo = log_density - kl
            objective.append(float(elbo.detach().mean()))
            min_var.append(float(var.detach().min()))
            density = float(log_density.detach().max())
            if not (math.isfinite(objective[-1]) and math.isfinite(density)):
                stopped = "non-finite"
                objective.pop()
                min_var.pop()
                break
            best_density = max(best_density, density)
            step_min = var.detach().flatten(1).amin(0)
            pixel_min = step_min if pixel_min is None else torch.minimum(pixel_min, step_min)
            if passed_at is None and density > cap + tol:
                passed_at = step
            if opt is None:
                stopped = "nothing trains"
                break
            if loss_fn is not None:
                loss = _user_loss(loss_fn, step, x, mu_x, log_variance(kind, v), mu_z, logvar_z)
            else:
                loss = -elbo.mean()
            if not torch.isfinite(loss):
                stopped = "non-finite"
                break
            opt.zero_grad(set_to_none=True)
            if not loss.requires_grad:
                raise InvalidArgumentError("loss_fn", "its value does not depend on the model's "
                                                      "outputs (no gradient): it cannot train the probe")
            loss.backward()
            opt.step()
            bar.update(1)
            if time.perf_counter() - start > budget:
                stopped = "time budget"
                break
            if step >= 2 * CHECK_EVERY and step % CHECK_EVERY == 0:
                if not math.isfinite(cap) and _running_off(objective, min_var):
                    stopped = "running off"  # what the probe can show without a floor: shown
                    break
                if math.isfinite(cap) and _plateaued(objective):
                    stopped = "plateau below the cap"  # only passing the cap could still matter
                    break
    except KeyboardInterrupt:
        stopped = "interrupted"
    finally:
        bar.close()
    result = _summarise(objective, min_var, best_density, passed_at, stopped, steps, cap,
                        x.shape[0], time.perf_counter() - start)
    if pixel_min is not None:
        result.pixel_min_variance = pixel_min.double().cpu().tolist()
    return result


def _running_off(objective: list[float], min_var: list[float]) -> bool:
    """The smallest variance fell by 1/RUN_OFF_FACTOR (last tenth) while the objective still rose
    (the last fifth above everything before)."""
    done = len(objective)
    if done < 10:
        return False
    tail = max(1, done // 10)
    late, early = objective[-max(1, done // 5):], objective[:done - max(1, done // 5)]
    fell = min(min_var[-tail:]) < RUN_OFF_FACTOR * min_var[0]
    return fell and bool(early) and max(late) > max(early)


def _plateaued(objective: list[float]) -> bool:
    """The objective rose by less than PLATEAU_FRACTION of its total rise over the last quarter."""
    done = len(objective)
    if done < 20:
        return False
    q = done - done // 4
    total = max(objective) - objective[0]
    return total > 0 and max(objective[q:]) - objective[q] < PLATEAU_FRACTION * total


def _summarise(objective: list[float], min_var: list[float], best_density: float,
               passed_at: int | None, stopped: str, steps: int, cap: float, n: int,
               elapsed: float) -> ProbeResult:
    done = len(objective)
    running_off = _running_off(objective, min_var)
    if stopped == "non-finite" and done >= 2 and min_var[-1] < min_var[0]:
        running_off = True
    every = max(1, done // 400)
    idx = list(range(0, done, every)) + ([done - 1] if done and (done - 1) % every else [])
    return ProbeResult(
        steps=done, requested_steps=steps, n_points=n,
        best_objective_per_point=max(objective) if objective else math.nan,
        best_log_density_per_point=best_density if objective else math.nan,
        min_variance=min(min_var) if min_var else math.nan,
        initial_min_variance=min_var[0] if min_var else math.nan,
        passed_cap=None if not math.isfinite(cap) else passed_at is not None,
        passed_cap_at_step=passed_at, running_off=running_off, stopped=stopped,
        trained_parameters=[], elapsed_s=elapsed, dtype="",
        trace_step=idx, trace_objective=[objective[i] for i in idx],
        trace_min_variance=[min_var[i] for i in idx])
