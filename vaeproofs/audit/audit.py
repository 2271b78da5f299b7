"""``audit_vae``: is the user's own VAE objective bounded on their training set?

It combines (see :mod:`vaeproofs.audit.verdict` for the rule):

1. the static floor of the decoder's variance output (:func:`static_variance_floor` on the
   whole model, or on ``model.decoder`` when the whole model cannot be traced), with the
   parameters the user's optimiser leaves out held constant;
2. the loss check (:func:`vaeproofs.testing.check_gaussian_vae_loss`) of the user's loss, and
   a static lower bound of that loss on the whole training set taken as one batch
   (:func:`vaeproofs.audit.loss_bound.static_loss_bound`, up to 10,000 rows);
3. the memorisation probe (:mod:`vaeproofs.audit.probe`) on a deep copy.

Conventions: natural log; variances (sigma^2) per pixel; objectives per point, summed
over the D pixels of a point.  The cap per point is -(D/2) log(2 pi floor)
(Mattei & Frellsen, NeurIPS 2018, section 2.1).
"""

from __future__ import annotations

import contextlib
import copy
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import nn

from vaeproofs.audit.advice import Advice, output_note, vae_advice
from vaeproofs.audit.batches import collect, first_array
from vaeproofs.audit.floor import VarianceFloor, static_variance_floor
from vaeproofs.audit.kinds import check_kind
from vaeproofs.audit.loss_bound import LossBound, static_loss_bound
from vaeproofs.audit.loss_calls import LossCall, record_loss_calls
from vaeproofs.audit.model_outputs import ModelOutputs, check_kind_against_values, variance_selector
from vaeproofs.audit.probe import (
    DEFAULT_TIME_BUDGET_S,
    ProbeResult,
    call_model,
    read_model,
    require_posterior,
    run_probe,
    trained_parameter_names,
)
from vaeproofs.audit.verdict import build_evidence, decide_audit, verdict_paragraph
from vaeproofs.errors import InvalidArgumentError

if TYPE_CHECKING:
    from vaeproofs.claims.verdict import Evidence, Verdict

__all__ = ["AuditInterrupted", "AuditReport", "audit_vae"]

#: The static loss bound is computed on the whole training set, as one batch, up to this many
#: rows (a bound on a sample would not cover the rest); above it the bound is skipped.
MAX_LOSS_BOUND_ROWS = 10_000


@dataclass
class AuditReport:
    """The result of :func:`audit_vae`.

    Attributes:
        bounded: True / False, or None when the evidence cannot decide (or conflicts).
        decision: the rule's verdict: ``holds`` (bounded), ``fails``, ``conflict``, ``undecided``.
        variance_floor: the static floor in practice (parameters outside the optimiser constant).
        as_written_floor: the floor with every parameter free, when that differs in setting.
        cap_per_point: -(D/2) log(2 pi floor), +inf for a floor of 0, None when undecided.
        best_objective_per_point: the probe's best mean per-point ELBO (nats).
        min_variance: the probe's smallest variance.
        loss_check: the loss checker's report, or None.
        verdict: one readable paragraph.
        evidence: the evidence, in the claims' Evidence form.
        loss_lower_bound: the proven lower bound of the loss on the batch analysed (audit_objective's
            objective; audit_vae's ``loss_fn`` on the training set); -inf when none exists; None
            when undecided or without a loss.
        loss_bound: the static analysis of that loss (a ``LossBound``), or None.
        objective_probe: (audit_objective) the probe on the objective.
        advice: concrete advice that follows from the numbers (:mod:`vaeproofs.audit.advice`).
        audited: ``"vae"`` (audit_vae) or ``"objective"`` (audit_objective).
    """

    bounded: bool | None
    decision: Verdict
    variance_floor: VarianceFloor
    as_written_floor: VarianceFloor | None
    cap_per_point: float | None
    best_objective_per_point: float | None
    min_variance: float | None
    loss_check: Any
    loss_check_error: str | None
    verdict: str
    evidence: list[Evidence]
    probe: ProbeResult | None
    data: dict[str, Any]
    untrained_parameters: list[str]
    timings: dict[str, float] = field(default_factory=dict)
    outcome: str = "decided"
    loss_lower_bound: float | None = None
    loss_bound: Any = None
    objective_probe: Any = None
    advice: list[Advice] = field(default_factory=list)
    audited: str = "vae"

    def to_json(self) -> dict[str, Any]:
        """The report as JSON-ready values (non-finite floats are nulled by the writer)."""
        lc = self.loss_check
        return {
            "bounded": self.bounded, "decision": self.decision, "outcome": self.outcome,
            "variance_floor": self.variance_floor.to_json(),
            "as_written_floor": None if self.as_written_floor is None else
            self.as_written_floor.to_json(),
            "cap_per_point": self.cap_per_point,
            "best_objective_per_point": self.best_objective_per_point,
            "min_variance": self.min_variance,
            "loss_check": None if lc is None else {
                "is_elbo": bool(lc.is_elbo), "beta": float(lc.beta), "diagnosis": lc.diagnosis,
                "residual": float(lc.residual), "fixed_variance": lc.fixed_variance},
            "loss_check_error": self.loss_check_error,
            "verdict": self.verdict,
            "evidence": [{"kind": e.kind, "condition": e.condition.value, "supports": e.supports,
                          "summary": e.summary, "figures": list(e.figures), "data": e.data}
                         for e in self.evidence],
            "probe": None if self.probe is None else self.probe.to_json(),
            "data": self.data, "untrained_parameters": self.untrained_parameters,
            "timings": self.timings, "audited": self.audited,
            "loss_lower_bound": self.loss_lower_bound,
            "loss_bound": None if self.loss_bound is None else self.loss_bound.to_json(),
            "objective_probe": None if self.objective_probe is None else self.objective_probe.to_json(),
            "advice": [a.to_json() for a in self.advice],
            "notes": ({"cap_per_point": "+inf (written as null): the variance floor is 0, so the "
                                        "objective has no cap"}
                      if self.cap_per_point == math.inf else {}),
        }


class AuditInterrupted(KeyboardInterrupt):
    """Ctrl-C during the probe; ``report`` holds the audit so far (outcome "interrupted")."""

    def __init__(self, report: AuditReport) -> None:
        super().__init__("audit interrupted")
        self.report = report

    def __reduce__(self) -> tuple[type[AuditInterrupted], tuple[AuditReport]]:
        # Pickle by the constructor's argument (a record crossing from a worker process).
        return (type(self), (self.report,))


#: The probe's default budget (s) when the static floor is proven > 0 (a conflict check only).
CONFLICT_CHECK_BUDGET_S = 5.0

#: Rows read from a DataLoader (or any iterable of batches) given as ``data``.
MAX_ITERABLE_ROWS = 4096


def _as_tensor(data: Any) -> torch.Tensor:
    """The inputs as one float64 tensor (n, ...): an array, (inputs, labels), or a DataLoader."""
    x = first_array(collect(data, limit=MAX_ITERABLE_ROWS)).to(torch.float64)
    if x.dim() < 2 or x.shape[0] < 1 or x[0].numel() < 1:
        raise InvalidArgumentError("data", f"must have shape (n, ...) with n >= 1 points, got "
                                           f"shape {tuple(x.shape)}")
    return x


def _check_int(name: str, value: Any, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or not low <= value <= high:
        raise InvalidArgumentError(name, f"must be an integer in [{low}, {high}], got {value!r}")
    return int(value)


def _static(model: nn.Module, x: torch.Tensor, outs: ModelOutputs, forward: Any,
            frozen: Sequence[str]) -> VarianceFloor:
    """The floor of the tensor at ``outs.path`` in the model's output (whatever its form)."""
    return static_variance_floor(model, x[:2], variance=outs.kind, frozen=frozen, forward=forward,
                                 select=variance_selector(outs.path))


def _loss_bound(model: nn.Module, x: torch.Tensor, kind: str, forward: Any, loss_fn: Any,
                untrained: Sequence[str]) -> LossBound | None:
    """The static lower bound of the user's loss on ``x`` (None if the loss has the wrong form)."""
    from vaeproofs.audit.kinds import log_variance

    def objective(m: nn.Module, xb: torch.Tensor) -> torch.Tensor:
        mu_x, var_like, mu_z, logvar_z = call_model(m, xb, forward, kind)
        return loss_fn(xb, mu_x, log_variance(kind, var_like), mu_z, logvar_z)
    try:
        return static_loss_bound(objective, model, x, frozen=untrained)
    except InvalidArgumentError:  # a loss of the wrong form: the probe reports it, naming loss_fn
        return None


def audit_vae(model: nn.Module, data: Any, *, variance: str | None = None,
              forward: Callable[[nn.Module, torch.Tensor], Sequence[torch.Tensor]] | None = None,
              loss_fn: Callable[..., torch.Tensor] | None = None,
              optimizer: torch.optim.Optimizer | None = None, n_points: int = 16,
              steps: int | None = None, seed: int = 0, progress: bool | None = None,
              time_budget_s: float | None = None) -> AuditReport:
    """Audit ``model`` on ``data`` (see the module docstring); the user's objects never change.

    Args:
        model: ``model(x)`` returns ``(mu_x, var_like_x, mu_z, logvar_z)``, or a dict, dataclass,
            namedtuple or distribution that names them
            (:mod:`vaeproofs.audit.model_outputs`).
        data: the training data, shape (n, ...) (numpy array or tensor), a tuple whose first
            element is it ((x, labels)), or a DataLoader of those (its first 4096 rows).
        variance: what ``var_like_x`` is: ``logvar``, ``var``, ``std`` or ``logstd``; optional
            when the output says it (a key ``logvar``, a Normal's scale...).
        forward: ``forward(model, x)`` returning one of those forms, for any other signature.
        loss_fn: the user's loss ``loss_fn(x, mu_x, logvar_x, mu_z, logvar_z)`` (log-variances).
        optimizer: the user's optimiser: its parameter groups say what trains (only read).
        n_points: how many training points the probe memorises (the first after a seeded shuffle; all
            of them when the data has fewer rows, and the evidence says how many).
        steps: probe steps (default 2000, within a 50 s budget); 0 skips the probe.
        seed: seed of the point choice and the probe.
        progress: show a progress bar (default: when standard error is a terminal).
        time_budget_s: wall-clock budget of the probe in seconds (default 50; 5 when the static
            floor is proven > 0: the probe can then only look for a conflict).

    Raises:
        InvalidArgumentError: bad arguments, data the model cannot take, a bad output form.
        AuditInterrupted: Ctrl-C during the probe, carrying the report so far.
    """
    if variance is not None:
        check_kind(variance)
    if not isinstance(model, nn.Module):
        raise InvalidArgumentError("model", f"must be a torch.nn.Module, got {type(model).__name__}")
    for name, fn in (("forward", forward), ("loss_fn", loss_fn)):
        if fn is not None and not callable(fn):
            raise InvalidArgumentError(name, f"must be callable, got {type(fn).__name__}")
    if optimizer is not None and not isinstance(optimizer, torch.optim.Optimizer):
        raise InvalidArgumentError("optimizer", f"must be a torch.optim.Optimizer, got "
                                                f"{type(optimizer).__name__}")
    x_all = _as_tensor(data)
    n_points = _check_int("n_points", n_points, 1, 100_000)
    steps_n = None if steps is None else _check_int("steps", steps, 0, 10_000_000)
    seed = _check_int("seed", seed, 0, 2**63 - 1)
    rng = np.random.default_rng(seed)
    pick = np.sort(rng.permutation(x_all.shape[0])[:n_points])
    x = x_all[torch.from_numpy(pick)]
    dtype = next((p.dtype for p in model.parameters() if p.dtype.is_floating_point), torch.float32)
    device = next((p.device for p in model.parameters()), torch.device("cpu"))
    x_model = x.to(device=device, dtype=dtype)
    timings: dict[str, float] = {}

    with torch.random.fork_rng(devices=[]), torch.no_grad():  # checks form and shapes on a copy
        outs = read_model(copy.deepcopy(model), x_model, forward, variance)
    _, _, mu_z, _ = require_posterior(outs, forward)
    kind = outs.kind
    check_kind_against_values(kind, outs.var_like, source=f"the variance output ({outs.source})")
    latent_dim = int(mu_z[0].numel())
    dim = int(x[0].numel())
    if optimizer is not None:
        mine = {id(p) for p in model.parameters()}
        if not any(id(p) in mine for g in optimizer.param_groups for p in g["params"]):
            raise InvalidArgumentError("optimizer", "holds none of the model's parameters (the "
                                                    "optimiser of another model, or of a copy?)")
    trained = set(trained_parameter_names(model, optimizer))
    untrained = [n for n, p in model.named_parameters() if p.requires_grad and n not in trained]

    t0 = time.perf_counter()
    floor = _static(model, x_model, outs, forward, untrained)
    as_written = _static(model, x_model, outs, forward, []) if untrained else None
    timings["static_s"] = time.perf_counter() - t0
    on_path = [n for n in untrained if as_written is not None and any(
        n == t or n.endswith("." + t) or t.endswith("." + n) or n.startswith(t + ".")
        for t in as_written.trainable)]
    cap = None if floor.cap_per_dim is None else dim * floor.cap_per_dim

    loss_check, loss_error, loss_bound = None, None, None
    if loss_fn is not None:
        from vaeproofs.testing import LossFunctionError, check_gaussian_vae_loss

        t0 = time.perf_counter()
        try:
            try:
                loss_check = check_gaussian_vae_loss(loss_fn, data_shape=tuple(x.shape[1:]),
                                                     latent_dim=latent_dim)
            except InvalidArgumentError:  # data too large for the designed batches
                loss_check = check_gaussian_vae_loss(loss_fn, latent_dim=latent_dim)
        except (LossFunctionError, InvalidArgumentError) as exc:
            loss_error = str(exc)
        timings["loss_check_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        if x_all.shape[0] <= MAX_LOSS_BOUND_ROWS:  # the whole training set, one fixed batch
            loss_bound = _loss_bound(model, x_all.to(device=device, dtype=dtype), kind, forward,
                                     loss_fn, untrained)
        timings["loss_bound_s"] = time.perf_counter() - t0

    calls: list[LossCall] = []
    if loss_fn is not None:
        from vaeproofs.audit.kinds import log_variance

        with torch.random.fork_rng(devices=[]), contextlib.suppress(Exception):  # the probe names errors
            _, calls = record_loss_calls(loss_fn, x_model, outs.mean, log_variance(kind, outs.var_like),
                                         outs.mu_z, outs.logvar_z)

    probe = None
    if steps_n != 0:
        t0 = time.perf_counter()
        probe = run_probe(model, x.to(device), variance_kind=kind, forward=forward, loss_fn=loss_fn,
                          optimizer=optimizer, steps=steps_n, seed=seed,
                          cap_per_point=math.inf if cap is None else cap, progress=progress,
                          time_budget_s=time_budget_s if time_budget_s is not None else
                          CONFLICT_CHECK_BUDGET_S if floor.bounded else DEFAULT_TIME_BUDGET_S)
        timings["probe_s"] = time.perf_counter() - t0

    pixel_var = float(x_all.flatten(1).var(dim=0, unbiased=False).mean()) if x_all.shape[0] > 1 else 0.0
    evidence = build_evidence(floor=floor, as_written=as_written, probe=probe, loss_check=loss_check,
                              loss_error=loss_error, dim=dim, untrained_on_path=on_path,
                              loss_bound=loss_bound)
    decision, bounded = decide_audit(evidence)
    text = verdict_paragraph(verdict=decision, floor=floor, probe=probe, loss_check=loss_check,
                             loss_error=loss_error, dim=dim, pixel_variance=pixel_var,
                             untrained_on_path=on_path, loss_bound=loss_bound)
    report = AuditReport(
        bounded=bounded, decision=decision, variance_floor=floor, as_written_floor=as_written,
        cap_per_point=cap, best_objective_per_point=None if probe is None else
        probe.best_objective_per_point, min_variance=None if probe is None else probe.min_variance,
        loss_check=loss_check, loss_check_error=loss_error, verdict=text, evidence=evidence,
        probe=probe, untrained_parameters=untrained, timings=timings,
        data={"n": int(x_all.shape[0]), "n_points": int(x.shape[0]), "dim": dim,
              "latent_dim": latent_dim, "pixel_variance_mean": pixel_var,
              "relative_floor": None if floor.floor is None or pixel_var <= 0 else
              floor.floor / pixel_var, "model_output": outs.source},
        loss_bound=loss_bound, loss_lower_bound=None if loss_bound is None or not loss_bound.decided else
        -math.inf if loss_bound.lower is None else loss_bound.lower,
        advice=output_note(outs) + vae_advice(decision=decision, floor=floor, probe=probe,
                                              loss_check=loss_check, dim=dim, pixel_variance=pixel_var,
                                              cap_per_point=cap, calls=calls))
    if probe is not None and probe.stopped == "interrupted":
        report.outcome = "interrupted"
        raise AuditInterrupted(report)
    return report
