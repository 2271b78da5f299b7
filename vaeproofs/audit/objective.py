"""``audit_objective``: is the loss *you* minimise bounded below on your training batch?

The objective is any ``objective(model, batch) -> scalar`` (the criterion included): a
VAE's negative ELBO, ``nn.GaussianNLLLoss`` on a regressor's ``(mean, var)``, sigma-VAE's
loss with its optimal sigma, a loss module with its own learned ``logvar``.  The audit
combines, by the rule of :mod:`vaeproofs.audit.verdict` (bounded only from a static proof;
not bounded only from a static proof that nothing bounds it plus a probe witness; else
undecided):

1. the static lower bound of the objective on the batch with every parameter that trains
   free and the rest constant (:func:`vaeproofs.audit.loss_bound.static_loss_bound`);
2. the probe (:mod:`vaeproofs.audit.objective_probe`) on private copies of the model and
   of the modules the objective closes over (:mod:`vaeproofs.audit.objective_copy`);
3. when the model's output names a variance (:mod:`vaeproofs.audit.model_outputs`), its
   static floor, as information and for the advice (:mod:`vaeproofs.audit.advice`).

Conventions: natural log; variances sigma^2 per element; the loss in the user's own units
(whatever reduction the objective applies).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import nn

from vaeproofs.audit.audit import AuditReport, _check_int
from vaeproofs.audit.batches import Batch, collect, n_rows, take_rows, to_dtype
from vaeproofs.audit.loss_calls import LossCall, record_loss_calls
from vaeproofs.audit.model_outputs import ModelOutputs, check_kind_against_values, normalise_outputs
from vaeproofs.audit.objective_copy import CopiedObjective, copy_objective
from vaeproofs.audit.objective_probe import (
    DEFAULT_STEPS,
    DEFAULT_TIME_BUDGET_S,
    ObjectiveProbe,
    ProbeSetup,
    objective_value,
    run_objective_probe,
)
from vaeproofs.audit.objective_static import output_floor, static_bound
from vaeproofs.audit.objective_verdict import objective_evidence, objective_paragraph
from vaeproofs.errors import InvalidArgumentError

__all__ = ["audit_objective"]


def _check_args(model: Any, objective: Any, optimizer: Any, time_budget_s: Any) -> None:
    if not isinstance(model, nn.Module):
        raise InvalidArgumentError("model", f"must be a torch.nn.Module, got {type(model).__name__}")
    if not callable(objective):
        raise InvalidArgumentError("objective", f"must be callable as objective(model, batch), got "
                                                f"{type(objective).__name__}")
    if optimizer is not None and not isinstance(optimizer, torch.optim.Optimizer):
        raise InvalidArgumentError("optimizer", f"must be a torch.optim.Optimizer, got "
                                                f"{type(optimizer).__name__}")
    if time_budget_s is not None and (isinstance(time_budget_s, bool) or not isinstance(
            time_budget_s, int | float) or not 0 < time_budget_s < math.inf):
        raise InvalidArgumentError("time_budget_s", f"must be a finite number of seconds > 0, got "
                                                    f"{time_budget_s!r}")


def _pick(data: Any, n_points: int, seed: int) -> tuple[Batch, Batch]:
    """(every row read, the n_points analysed): a seeded choice from arrays, the first from a loader."""
    rows = collect(data, limit=None if _is_array_like(data) else n_points)
    n = n_rows(rows)
    pick = np.sort(np.random.default_rng(seed).permutation(n)[:n_points])
    return rows, take_rows(rows, torch.from_numpy(pick))


def _is_array_like(data: Any) -> bool:
    return isinstance(data, torch.Tensor | np.ndarray | tuple | list | dict)


class _Capture:
    """The model's first call during one objective evaluation: its positional inputs and output."""

    def __init__(self, model: nn.Module) -> None:
        self.inputs: tuple[Any, ...] | None = None
        self.output: Any = None
        self._handle = model.register_forward_hook(self._hook)

    def _hook(self, _m: nn.Module, args: tuple[Any, ...], out: Any) -> None:
        if self.inputs is None:
            self.inputs, self.output = args, out

    def remove(self) -> None:
        self._handle.remove()


def _read_output(out: Any, calls: list[LossCall], variance: str | None) -> tuple[ModelOutputs | None, str]:
    """The model's output read, or None with the reason; GaussianNLLLoss's ``var`` names the kind."""
    try:
        return normalise_outputs(out, variance=variance, argument="objective"), ""
    except InvalidArgumentError as exc:
        reason = exc.problem
    if variance is None and isinstance(out, tuple | list):
        for call in calls:
            if call.var is not None and any(v is call.var for v in out):
                i = next(i for i, v in enumerate(out) if v is call.var)
                if i == 1:
                    return normalise_outputs(out, variance="var", argument="objective"), ""
    return None, reason


def _target_picker() -> Callable[[Batch, Any], torch.Tensor | None]:
    """The batch array a mean is compared with: one of the mean's per-row shape (or size), the
    last such ((inputs, targets) puts the target last; a VAE's batch is its input)."""
    def target(batch: Batch, mean: torch.Tensor) -> torch.Tensor | None:
        leaves = [batch] if isinstance(batch, torch.Tensor) else list(
            batch.values() if isinstance(batch, dict) else batch)
        row = tuple(mean.shape[1:])
        same = [t for t in leaves if t.is_floating_point() and tuple(t.shape[1:]) == row]
        if not same:  # a target (n,) next to a mean (n, 1)
            per_row = max(1, math.prod(row))
            same = [t.reshape(t.shape[0], *row) for t in leaves if t.is_floating_point()
                    and t.dim() >= 1 and t[0].numel() == per_row]
        if len(same) > 1:  # the last one: (inputs, targets) puts the target last
            return same[-1]
        return same[0] if same else None
    return target


def _params(copied: CopiedObjective, model: nn.Module, optimizer: torch.optim.Optimizer | None
            ) -> tuple[list[tuple[str, torch.Tensor]], list[str], list[tuple[torch.Tensor, torch.Tensor]]]:
    """(trained tensors of the copies, with names; model parameters that never train; originals
    outside every copy that the optimiser trains: trained in place, with their saved values)."""
    originals: list[tuple[str, torch.Tensor]] = list(model.named_parameters())
    for label, src in copied.originals.items():
        if isinstance(src, nn.Module):
            originals += [(f"{label}.{n}", p) for n, p in src.named_parameters()]
        elif isinstance(src, torch.Tensor):
            originals.append((label, src))
    if optimizer is None:
        twins = [(n, copied.copy_of(p)) for n, p in originals if p.requires_grad]
        return [(n, t) for n, t in twins if t is not None], [], []
    in_opt = [p for g in optimizer.param_groups for p in g["params"]]
    ids = {id(p) for p in in_opt}
    if not ids & {id(p) for _, p in originals}:
        raise InvalidArgumentError("optimizer", "holds none of the model's parameters nor of the "
                                                "modules the objective uses (another model's optimiser?)")
    name_of = {id(p): n for n, p in originals}
    params: list[tuple[str, torch.Tensor]] = []
    in_place: list[tuple[torch.Tensor, torch.Tensor]] = []
    for p in in_opt:
        twin = copied.copy_of(p)
        if twin is not None:
            params.append((name_of.get(id(p), "objective tensor"), twin))
        else:  # reached by no copy: trained in place, restored bit for bit afterwards
            params.append((f"in place: tensor {tuple(p.shape)}", p))
            in_place.append((p, p.detach().clone()))
    frozen = [n for n, p in originals if p.requires_grad and id(p) not in ids]
    return params, frozen, in_place



def _to_float64(copied: CopiedObjective, batch: Batch) -> tuple[Batch, str]:
    """Cast the copies and the batch to float64 where possible (the probe's precision)."""
    try:
        copied.model.double()
        for obj in copied.copied.values():
            if isinstance(obj, nn.Module):
                obj.double()
            elif obj.is_floating_point():
                obj.data = obj.data.double()
        return to_dtype(batch, torch.float64), "float64"
    except Exception:  # a model that cannot be cast keeps its dtype
        return batch, "as given"


def audit_objective(model: nn.Module, X: Any, objective: Callable[[nn.Module, Any], torch.Tensor], *,
                    optimizer: torch.optim.Optimizer | None = None, n_points: int = 16,
                    steps: int | None = None, seed: int = 0, progress: bool | None = None,
                    time_budget_s: float | None = None, variance: str | None = None) -> AuditReport:
    """Audit the objective you minimise (module docstring); your objects never change.

    Args:
        model: the model the objective trains.
        X: one row per example: an array or tensor, a tuple / list / dict of them with the same
            number of rows (e.g. ``(inputs, targets)``), or a DataLoader (any iterable) of such
            batches, read until ``n_points`` rows.
        objective: ``objective(model, batch) -> scalar`` (the loss, criterion included); ``batch``
            has the structure of ``X``.  Modules and grad-requiring tensors it reaches
            (closure, defaults, globals it names, a bound method's object) are copied with the
            model; see :mod:`vaeproofs.audit.objective_copy`.
        optimizer: your optimiser: its parameter groups say what trains (only read); parameters
            of the model (and of an ``nn.Module`` objective, named ``objective.<name>``) outside
            it are held constant, and the report lists them.
        n_points: rows analysed (a seeded choice from arrays; the first rows of a loader).
        steps: probe steps (default 3000, within a 5 s budget); 0 skips the probe.
        seed: seed of the row choice and of the probe.
        progress: show a progress bar (default: when standard error is a terminal).
        time_budget_s: the probe's wall-clock budget in seconds (default 5).
        variance: the kind of the model's variance-like output (``logvar``, ``var``, ``std``,
            ``logstd``) where its form does not say it; only the probe's witness reads it.

    Returns:
        an :class:`AuditReport` whose ``loss_lower_bound`` is the proven lower bound of the loss
        on the batch (-inf: none exists; None: undecided).

    Raises:
        InvalidArgumentError: bad arguments, an objective that raises or returns no scalar.
        AuditInterrupted: Ctrl-C during the probe, carrying the report so far.
    """
    from vaeproofs.audit.advice import objective_advice, output_note
    from vaeproofs.audit.audit import AuditInterrupted
    from vaeproofs.audit.kinds import check_kind

    _check_args(model, objective, optimizer, time_budget_s)
    if variance is not None:
        check_kind(variance)
    n_points = _check_int("n_points", n_points, 1, 100_000)
    steps_n = DEFAULT_STEPS if steps is None else _check_int("steps", steps, 0, 10_000_000)
    seed = _check_int("seed", seed, 0, 2**63 - 1)
    rows, picked = _pick(X, n_points, seed)
    dtype = next((p.dtype for p in model.parameters() if p.dtype.is_floating_point), torch.float32)
    device = next((p.device for p in model.parameters()), torch.device("cpu"))
    batch = to_dtype(picked, dtype, device)
    timings: dict[str, float] = {}

    # One evaluation on copies: the objective's form, the model's output, the losses it calls.
    check = copy_objective(objective, model)
    capture = _Capture(check.model)
    try:
        with torch.random.fork_rng(devices=[]):
            _, calls = record_loss_calls(objective_value, check.objective, check.model, batch, 0)
    finally:
        capture.remove()
    outs, unread = (None, "the objective never called the model") if capture.inputs is None else \
        _read_output(capture.output, calls, variance)
    if outs is not None:
        check_kind_against_values(outs.kind, outs.var_like, source=f"the model's {outs.source}")
    copied = copy_objective(objective, model)
    params, frozen, in_place = _params(copied, model, optimizer)

    t0 = time.perf_counter()
    bound = static_bound(objective, model, batch, frozen)
    floor = output_floor(model, capture.inputs, outs, unread, frozen)
    timings["static_s"] = time.perf_counter() - t0
    lower = bound.lower if bound.decided else None
    target = _target_picker()
    target_rows = target(rows, outs.mean) if outs is not None else None
    ref = (target_rows if target_rows is not None else _last_float(rows)).double()
    ref = ref.reshape(ref.shape[0], -1)
    data_var = float(ref.var(dim=0, unbiased=False).mean()) if ref.shape[0] > 1 else 0.0

    probe: ObjectiveProbe | None = None
    if steps_n:
        probe_batch, dtype_name = _to_float64(copied, batch)
        setup = ProbeSetup(objective=copied.objective, model=copied.model, params=params,
                           batch=probe_batch, target=target, kind=None if outs is None else outs.kind,
                           data_variance=data_var if data_var > 0 else 1.0, lower_bound=lower,
                           dtype=dtype_name)
        t0 = time.perf_counter()
        try:
            probe = run_objective_probe(setup, steps=steps_n, seed=seed, progress=progress,
                                        time_budget_s=DEFAULT_TIME_BUDGET_S if time_budget_s is None
                                        else float(time_budget_s))
        finally:
            with torch.no_grad():
                for p, saved in in_place:
                    p.copy_(saved)
                    p.grad = None
        timings["probe_s"] = time.perf_counter() - t0

    evidence = objective_evidence(bound=bound, floor=floor, probe=probe, frozen=frozen)
    from vaeproofs.audit.verdict import decide_audit

    decision, bounded = decide_audit(evidence)
    advice = output_note(outs) + objective_advice(decision=decision, bound=bound, floor=floor, probe=probe,
                                                  calls=calls, data_variance=data_var, outs=outs)
    text = objective_paragraph(decision=decision, bound=bound, floor=floor, probe=probe,
                               frozen=frozen, unread=unread, advice=advice)
    dim = int(ref[0].numel())
    report = AuditReport(
        bounded=bounded, decision=decision, variance_floor=floor, as_written_floor=None,
        cap_per_point=None if floor.cap_per_dim is None or outs is None else dim * floor.cap_per_dim,
        best_objective_per_point=None, min_variance=None if probe is None else probe.min_variance,
        loss_check=None, loss_check_error=None, verdict=text, evidence=evidence, probe=None,
        untrained_parameters=frozen, timings=timings,
        data={"n": n_rows(rows), "n_points": n_rows(picked), "dim": dim,
              "pixel_variance_mean": data_var,
              "relative_floor": None if floor.floor is None or data_var <= 0 else floor.floor / data_var,
              "model_output": outs.source if outs is not None else unread},
        loss_lower_bound=None if not bound.decided else -math.inf if bound.lower is None else bound.lower,
        loss_bound=bound, objective_probe=probe, advice=advice, audited="objective")
    if probe is not None and probe.stopped == "interrupted":
        report.outcome = "interrupted"
        raise AuditInterrupted(report)
    return report


def _last_float(batch: Batch) -> torch.Tensor:
    leaves = [batch] if isinstance(batch, torch.Tensor) else list(
        batch.values() if isinstance(batch, dict) else batch)
    floats = [t for t in leaves if t.is_floating_point()]
    return (floats or leaves)[-1].to(torch.float64)
