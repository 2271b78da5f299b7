"""Advice that follows from the audit's numbers and never contradicts its proof.

Each item is computed from the verdict, the static floor or bound, the probe and the loss
calls recorded (:mod:`vaeproofs.audit.loss_calls`):

- **floor** (only when the audit proved the objective NOT bounded): a floor xi, the largest
  power of ten at or below :data:`FLOOR_FRACTION` of the data's mean per-element variance v,
  with the cap it gives, -(D/2) log(2 pi xi) nats per point (Mattei & Frellsen, NeurIPS 2018,
  section 2.1), its ratio to v, and the patch of the expression the audit found, e.g.
  ``exp(logvar) -> softplus(logvar) + 1e-3``; heads that people write with such a floor come
  from the shipped remedies table (:func:`vaeproofs.audit.remedies.shipped_table`);
- **memorisation** (only when bounded): a bound still lets memorisation climb to the cap; how
  close the probe came;
- **gaussian-nll-eps**: ``GaussianNLLLoss(eps)`` clamps the variance's value inside no_grad:
  the loss value has a floor, the model's variance output does not;
- **beta = D**: a loss averaging the reconstruction over the D pixels (``reduction="mean"``,
  or the loss checker's beta equal to D) weighs any per-point term (a KL) D times more than
  the ELBO does;
- **undecided**: no advice on the floor (the audit does not know it), only what to change so
  that it can decide.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from vaeproofs.constants import LOG_2PI

if TYPE_CHECKING:
    from vaeproofs.audit.floor import VarianceFloor
    from vaeproofs.audit.loss_calls import LossCall

__all__ = ["FLOOR_FRACTION", "Advice", "floor_patch", "objective_advice", "output_note", "suggested_floor",
           "vae_advice"]

#: The suggested floor is at most this fraction of the data's per-element variance (a noise
#: standard deviation about a third of the data's): far enough below it not to bind the
#: fit, high enough that the cap stays close to the data's own log-density scale.
FLOOR_FRACTION = 0.1


@dataclass(frozen=True)
class Advice:
    """One piece of advice: ``topic`` (floor, memorisation, gaussian-nll-eps, beta-d, undecided)."""

    topic: str
    text: str

    def to_json(self) -> dict[str, str]:
        return {"topic": self.topic, "text": self.text}


def output_note(outs: Any) -> list[Advice]:
    """The caveat the model's output form carries (StudentT, LowRankMultivariateNormal), if any."""
    note = getattr(outs, "note", "") if outs is not None else ""
    return [Advice("output", note)] if note else []


def suggested_floor(data_variance: float) -> float | None:
    """The largest power of ten <= FLOOR_FRACTION x ``data_variance`` (None for no variance)."""
    if not data_variance > 0 or not math.isfinite(data_variance):
        return None
    return 10.0 ** math.floor(math.log10(FLOOR_FRACTION * data_variance) + 1e-12)


def _strip(expression: str, prefix: str, suffix: str) -> str | None:
    if expression.startswith(prefix) and expression.endswith(suffix) and len(expression) > len(
            prefix + suffix):
        return expression[len(prefix):len(expression) - len(suffix)]
    return None


def _nonnegative(inner: str) -> bool:
    return inner.startswith(("softplus(", "exp(", "sigmoid(", "relu(")) or inner.endswith("^2")


def floor_patch(kind: str, expression: str, xi: float) -> str:
    """The patch ``variance = <expression> -> <floored>`` for a head of kind ``kind``."""
    x = f"{xi:.3g}"
    if kind == "logvar":
        inner = _strip(expression, "exp(", ")") or "logvar"
        return (f"exp({inner}) -> softplus({inner}) + {x}  (code returning a log-variance: "
                f"logvar = torch.log(F.softplus(raw) + {x}))")
    if kind == "var":
        inner = expression or "var"
        floored = f"{inner} + {x}" if _nonnegative(inner) else f"softplus({inner}) + {x}"
        return f"{inner} -> {floored}"
    if kind == "std":
        inner = _strip(expression, "(", ")^2") or "std"
        s = f"{math.sqrt(xi):.3g}"
        floored = f"({inner} + {s})^2" if _nonnegative(inner) else f"(softplus({inner}) + {s})^2"
        return f"({inner})^2 -> {floored}  (a standard deviation floored at sqrt(xi) = {s})"
    inner = _strip(expression, "exp(2 * ", ")") or "log_sigma"
    m = 0.5 * math.log(xi)
    return (f"exp(2 * {inner}) -> exp(2 * ({m:.4g} + softplus({inner} - ({m:.4g}))))  (sigma-VAE's "
            f"soft clip of log sigma at 0.5 log xi = {m:.4g})")


def _cap(dim: int, xi: float) -> float:
    return -0.5 * dim * (LOG_2PI + math.log(xi))


def _floor_item(floor: VarianceFloor | None, dim: int, data_variance: float) -> Advice | None:
    xi = suggested_floor(data_variance)
    if xi is None:
        return None
    from vaeproofs.audit.remedies import shipped_table

    examples = [f"{r['head']} (floor {r['floor']:.3g})" for r in shipped_table()
                if r["floor"] is not None and r["floor"] > 0][:4]
    kind = floor.variance if floor is not None else "var"
    patch = floor_patch(kind, floor.expression if floor is not None else "", xi)
    return Advice("floor", f"Floor the variance at xi = {xi:.3g}: {patch}. That is {xi / data_variance:.3g} "
                  f"times your data's mean per-element variance {data_variance:.3g}; it caps the "
                  f"objective at {_cap(dim, xi):.6g} nats per point ({dim} elements x "
                  f"{_cap(1, xi):.4g}). Heads written with a floor: {', '.join(examples)} "
                  "(the shipped remedies table).")


def _loss_call_items(calls: list[LossCall]) -> list[Advice]:
    items: list[Advice] = []
    seen: set[tuple[str, str, float | None]] = set()
    for c in calls:
        if c.function != "gaussian_nll_loss" or (c.function, c.reduction, c.eps) in seen:
            continue
        seen.add((c.function, c.reduction, c.eps))
        items.append(Advice("gaussian-nll-eps", f"GaussianNLLLoss(eps={c.eps:g}) clamps the variance's "
                            "value inside torch.no_grad: the loss value is floored at eps, but the gradient "
                            "passes through the clamp as if it were not there, so your model's variance "
                            "output has no floor and can keep falling below eps (and whatever else uses "
                            "it, sampling included, sees that). Floor the variance in the model "
                            "instead: var = F.softplus(raw) + xi."))
        if c.reduction == "mean" and c.per_row > 1:
            items.append(Advice("beta-d", f"GaussianNLLLoss(reduction='mean') averages over every element, "
                                f"the D = {c.per_row} elements of a point included: next to a per-point term "
                                f"such as a KL, that term weighs D = {c.per_row} times more than in the "
                                f"ELBO (a beta-VAE with beta = {c.per_row}). Use reduction='sum' and divide "
                                "by the batch size for the ELBO's weighting."))
    return items


def vae_advice(*, decision: str, floor: VarianceFloor, probe: Any, loss_check: Any, dim: int,
               pixel_variance: float, cap_per_point: float | None,
               calls: list[LossCall] | None = None) -> list[Advice]:
    """Advice for :func:`vaeproofs.audit.audit_vae` (module docstring)."""
    items: list[Advice] = []
    if decision == "fails":
        item = _floor_item(floor if floor.bounded is False else None, dim, pixel_variance)
        if item is not None:
            items.append(item)
    elif decision == "holds" and cap_per_point is not None and math.isfinite(cap_per_point):
        text = (f"Bounded, yet memorisation can still raise the objective up to the cap "
                f"{cap_per_point:.6g} nats per point.")
        best = getattr(probe, "best_log_density_per_point", None)
        if best is not None and math.isfinite(best):
            text += (f" The probe's best log-density per point, {best:.6g}, is {cap_per_point - best:.4g} "
                     "below it.")
        items.append(Advice("memorisation", text))
    elif decision == "undecided":
        items.append(_undecided(floor.explanation))
    beta = getattr(loss_check, "beta", None)
    if loss_check is not None and getattr(loss_check, "is_elbo", False) and beta is not None and dim > 1:
        tol = max(float(getattr(loss_check, "beta_bound", 0.0) or 0.0), 1e-9 * dim)
        if abs(float(beta) - dim) <= tol:
            items.append(Advice("beta-d", f"Your loss averages the reconstruction over the D = {dim} "
                                f"pixels (beta = {float(beta):.6g} = D): its KL weighs D times more than "
                                "the ELBO's; sum over pixels for the ELBO."))
    items += _loss_call_items(calls or [])
    return items


def _undecided(reason: str) -> Advice:
    hint = ("move the data-dependent branch out of the traced code, or pass forward= (audit_vae) or "
            "an objective that skips it" if "control flow" in reason else
            "simplify the part named above, or audit a smaller part (the decoder with forward=)")
    return Advice("undecided", f"The audit could not decide, so it gives no advice on the floor. To let "
                  f"it decide: {hint}.")


def objective_advice(*, decision: str, bound: Any, floor: VarianceFloor, probe: Any,
                     calls: list[LossCall], data_variance: float, outs: Any) -> list[Advice]:
    """Advice for :func:`vaeproofs.audit.audit_objective` (module docstring)."""
    items: list[Advice] = []
    dim = int(outs.mean[0].numel()) if outs is not None else 1
    if decision == "fails":
        item = _floor_item(floor if floor.bounded is False else None, dim, data_variance)
        if item is not None:
            items.append(item)
    elif decision == "holds":
        text = (f"Bounded, yet memorisation can still lower the loss down to the bound {bound.lower:.6g} "
                "on this batch.")
        if probe is not None and math.isfinite(probe.best_loss):
            text += f" The probe reached {probe.best_loss:.6g}, {probe.best_loss - bound.lower:.4g} above it."
        items.append(Advice("memorisation", text))
    elif decision == "undecided":
        items.append(_undecided(bound.reason))
    return items + _loss_call_items(calls)
