"""From the audit's measurements to Evidence, a verdict and one readable paragraph.

The statement judged is "the user's objective is bounded above on its training set",
in the setting :attr:`Condition.AUDIT` (the parameters that actually train, the user's
loss).  The rule is :func:`vaeproofs.claims.verdict.decide`, the one ``verify`` uses:

- the static floor votes ``True`` (floor > 0) or ``False`` (floor 0);
- a loss that ignores the variance output (the loss checker's ``fixed_variance``) votes
  ``True``: it is the ELBO of a fixed-variance decoder, capped whatever the head does;
  the head's floor is then informative only;
- the probe votes ``False`` when its log-density passed the cap that the static floor
  implies (this contradicts the floor, so static ``True`` with it is a *conflict*), or
  when, with no static floor, the variance fell by more than 1e3 while the objective
  still rose; otherwise it is informative (a probe cannot prove a bound);
- the floor with every parameter free (when an optimiser leaves some out) is judged
  under :attr:`Condition.AUDIT_ALL_TRAINABLE` and does not vote.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from vaeproofs.audit.probe import RUN_OFF_FACTOR, ProbeResult

if TYPE_CHECKING:
    from vaeproofs.audit.floor import VarianceFloor
    from vaeproofs.claims.verdict import Evidence, Verdict

# The claims package loads its catalog (and sympy) on import: it is imported inside the
# functions below, so that importing the audit never loads sympy (the layering rule).

__all__ = ["build_evidence", "decide_audit", "verdict_paragraph"]


def build_evidence(*, floor: VarianceFloor, as_written: VarianceFloor | None,
                   probe: ProbeResult | None, loss_check: Any, loss_error: str | None,
                   dim: int, untrained_on_path: list[str]) -> list[Evidence]:
    """The audit's evidence list (see the module docstring)."""
    from vaeproofs.claims.conditions import Condition
    from vaeproofs.claims.verdict import Evidence
    ev: list[Evidence] = []
    fixed = getattr(loss_check, "fixed_variance", None) if loss_check is not None else None
    static_votes = floor.bounded if fixed is None else None
    cap = dim * floor.cap_per_dim if floor.cap_per_dim is not None else None
    summary = f"Static floor of the variance head: {floor.explanation}"
    if floor.bounded:
        summary += f" Cap per point: {dim} x {floor.cap_per_dim:.6g} = {cap:.6g} nats."
    if fixed is not None:
        summary += " (Informative: the loss ignores the variance output.)"
    ev.append(Evidence("symbolic", summary, static_votes, Condition.AUDIT,
                       data={"floor": floor.floor, "cap_per_point": cap}))
    if as_written is not None:
        ev.append(Evidence("symbolic", f"With every parameter free (as if the optimiser trained "
                           f"all of them): {as_written.explanation}", as_written.bounded,
                           Condition.AUDIT_ALL_TRAINABLE, data={"floor": as_written.floor}))
    if untrained_on_path:
        ev.append(Evidence("symbolic", "Variance parameters that never train (not in the "
                           f"optimiser): {', '.join(untrained_on_path)}; they stay at their "
                           "initial values, so they are constants in practice.", None,
                           Condition.AUDIT, data={"untrained": untrained_on_path}))
    if loss_error is not None:
        ev.append(Evidence("numeric", f"Loss check failed: {loss_error}", None,
                           Condition.AUDIT_LOSS))
    elif loss_check is not None:
        ev.append(Evidence("numeric", f"Loss check: {loss_check}", bool(loss_check.is_elbo),
                           Condition.AUDIT_LOSS, data={"beta": loss_check.beta}))
        if fixed is not None:
            ev.append(Evidence(
                "numeric", f"The loss ignores the variance output: it is the negative ELBO of a "
                f"decoder with fixed variance s0^2 = {fixed:.6g}, capped at "
                f"{-0.5 * dim * (math.log(2 * math.pi * fixed)):.6g} nats per point.",
                True, Condition.AUDIT, data={"fixed_variance": fixed}))
    if probe is not None:
        ev.append(_probe_evidence(probe, floor, cap))
    return ev


def _probe_evidence(probe: ProbeResult, floor: VarianceFloor, cap: float | None) -> Evidence:
    from vaeproofs.claims.conditions import Condition
    from vaeproofs.claims.verdict import Evidence

    text = (f"Memorisation probe ({probe.steps} steps on {probe.n_points} points, {probe.dtype}, "
            f"stopped: {probe.stopped}): best per-point objective {probe.best_objective_per_point:.6g}, "
            f"best log-density {probe.best_log_density_per_point:.6g}, smallest variance "
            f"{probe.min_variance:.3g} (from {probe.initial_min_variance:.3g}).")
    data = probe.to_json()
    for key in ("trace_step", "trace_objective", "trace_min_variance"):
        data.pop(key)
    if probe.passed_cap:
        return Evidence("numeric", text + f" It PASSED the cap {cap:.6g} that the static floor "
                        f"implies (step {probe.passed_cap_at_step}).", False, Condition.AUDIT,
                        figures=("probe",), data=data)
    if probe.running_off and not floor.bounded:
        return Evidence("numeric", text + f" The variance fell by more than {1 / RUN_OFF_FACTOR:g}x "
                        "while the objective still rose: it is running off.", False,
                        Condition.AUDIT, figures=("probe",), data=data)
    if probe.running_off:
        text += " The variance ran down toward the floor: the floor binds on this data."
    else:
        text += " Not decisive: it did not run off within its budget."
    return Evidence("numeric", text, None, Condition.AUDIT, figures=("probe",), data=data)


def decide_audit(evidence: list[Evidence]) -> tuple[Verdict, bool | None]:
    """The verdict under :attr:`Condition.AUDIT` and the ``bounded`` it means."""
    from vaeproofs.claims.conditions import Condition
    from vaeproofs.claims.verdict import decide

    verdict, _ = decide(Condition.AUDIT, evidence)
    return verdict, {"holds": True, "fails": False}.get(verdict)


def verdict_paragraph(*, verdict: Verdict, floor: VarianceFloor, probe: ProbeResult | None,
                      loss_check: Any, loss_error: str | None, dim: int,
                      pixel_variance: float, untrained_on_path: list[str]) -> str:
    """One readable paragraph: the answer first, then the numbers behind it."""
    fixed = getattr(loss_check, "fixed_variance", None) if loss_check is not None else None
    parts: list[str] = []
    if verdict == "holds":
        if fixed is not None:
            parts.append(f"Bounded: your loss ignores the variance output, so it trains a decoder "
                         f"of fixed variance {fixed:.3g}, whatever the head does.")
        else:
            # "holds" without a fixed variance rests on a proved floor > 0 with its cap.
            assert floor.floor is not None and floor.cap_per_dim is not None
            rel = floor.floor / pixel_variance if pixel_variance > 0 else math.inf
            parts.append(f"Bounded: the decoder variance is at least {floor.floor:.3g} "
                         f"({rel:.3g} times your data's mean per-pixel variance "
                         f"{pixel_variance:.3g}), so the objective is at most "
                         f"{dim * floor.cap_per_dim:.6g} nats per point ({dim} pixels x "
                         f"{floor.cap_per_dim:.4g}).")
            if rel > 10:
                parts.append("That floor is far above your data's per-pixel variance: the decoder "
                             "cannot express the data's noise level, and reconstructions pay for "
                             "it (a fixed or floored variance acts like a KL weight).")
            elif rel < 1e-2:
                parts.append("That floor is small next to your data's variance: memorisation can "
                             "still push the objective up to the cap; a floor that is a fraction "
                             "of the data's variance keeps it meaningful.")
        if probe is not None and probe.best_objective_per_point > 0:
            parts.append(f"A large objective (the probe reached {probe.best_objective_per_point:.4g}"
                         " per point, a very negative loss) is not collapse by itself: it stays "
                         "below the cap.")
    elif verdict == "fails":
        if floor.bounded is False:
            parts.append(f"NOT bounded: {floor.explanation}")
        else:
            parts.append(f"NOT bounded, by the probe alone. {floor.explanation}")
        if probe is not None:
            parts.append(f"The probe drove the smallest variance from {probe.initial_min_variance:.3g}"
                         f" to {probe.min_variance:.3g} and the objective to "
                         f"{probe.best_objective_per_point:.4g} per point in {probe.steps} steps.")
        parts.append("On a finite training set the objective can grow without limit. Remedy: "
                     "a variance floor xi (e.g. softplus(.) + xi) chosen relative to your data's "
                     f"per-pixel variance ({pixel_variance:.3g}); see docs/remedies.md.")
    elif verdict == "conflict":
        parts.append("CONFLICT: the static floor and the probe disagree (the probe passed the cap "
                     "the floor implies). The traced graph may differ from what the model runs; "
                     "please report it.")
    else:
        parts.append(f"Undecided. {floor.explanation}")
        if probe is not None:
            parts.append(f"The probe did not run off in {probe.steps} steps (smallest variance "
                         f"{probe.min_variance:.3g}); that alone proves no bound.")
    if untrained_on_path:
        parts.append(f"Never trained (left out of the optimiser): {', '.join(untrained_on_path)}; "
                     "the verdict treats these as the constants they are in practice.")
    if loss_error is not None:
        parts.append(f"Your loss could not be checked: {loss_error}.")
    elif loss_check is not None:
        if loss_check.is_elbo:
            parts.append(f"Your loss is a Gaussian negative ELBO (beta = {loss_check.beta:.4g}).")
        else:
            parts.append(f"Your loss is NOT a Gaussian negative ELBO: {loss_check.diagnosis}.")
    return " ".join(p for p in parts if p)
