"""From the audit's measurements to Evidence, a verdict and one readable paragraph.

The statement judged is "the user's objective is bounded above on its training set" (the
loss bounded below), in the setting :attr:`Condition.AUDIT` (the parameters that
actually train, the user's loss).  The votes are combined by
:func:`vaeproofs.claims.verdict.decide`, the rule ``verify`` uses; what may vote:

- **bounded** only from a static proof: a floor > 0 on the variance (the objective is
  then at most D times -1/2 log(2 pi floor)), a finite lower bound of the loss on the
  batch (:func:`vaeproofs.audit.loss_bound.static_loss_bound`), or a loss that provably
  ignores the variance output (the loss checker's ``fixed_variance``: the ELBO of a
  fixed-variance decoder);
- **not bounded** only from a static proof that the floor is exactly 0 along a
  trainable path (some trainable parameter takes the variance to any small value)
  together with evidence that the mean can reproduce a training point: the probe's
  variance fell by more than 1/RUN_OFF_FACTOR while its objective kept rising, which at
  a Gaussian likelihood needs squared residuals below the variance (the log-density
  -1/2 (log 2 pi s + r^2 / s) rises as s falls only while r^2 < s);
- the probe passing a cap that a static floor proves votes **not bounded**, so with the
  floor's vote it is a **conflict** (the traced graph and the model disagree);
- everything else is **undecided**: a variance that falls on a model the analysis cannot
  decide is reported as information (how far it fell, whether it levelled off), never
  as a vote, because a bounded model fitting its data also lowers its variance;
- the floor with every parameter free (when an optimiser leaves some out) is judged
  under :attr:`Condition.AUDIT_ALL_TRAINABLE` and does not vote here.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from vaeproofs.audit.probe import RUN_OFF_FACTOR, ProbeResult

if TYPE_CHECKING:
    from vaeproofs.audit.floor import VarianceFloor
    from vaeproofs.audit.loss_bound import LossBound
    from vaeproofs.claims.verdict import Evidence, Verdict

# The claims package loads its catalog (and sympy) on import: it is imported inside the
# functions below, so that importing the audit never loads sympy (the layering rule).

__all__ = ["build_evidence", "decide_audit", "mean_fits", "probe_summary", "verdict_paragraph"]


def mean_fits(probe: ProbeResult | None) -> bool:
    """Whether the probe shows the mean reproducing its training points (see the module doc)."""
    return probe is not None and bool(probe.running_off) and not probe.passed_cap


def _floor_zero_on_trainable_path(floor: VarianceFloor) -> bool:
    return floor.floor == 0.0 and bool(floor.trainable)


def probe_summary(probe: ProbeResult) -> str:
    """How far the probe's smallest variance fell and whether it levelled off (information)."""
    start, low = probe.initial_min_variance, probe.min_variance
    fall = start / low if low > 0 and math.isfinite(start) else math.inf
    trace = probe.trace_min_variance
    levelled = None
    if len(trace) >= 10 and fall >= 10 and min(trace) > 0:
        # levelled off: the last fifth of the run added under 5% of the total fall (log scale)
        cut = len(trace) * 4 // 5
        recent = max(0.0, math.log(min(trace[:cut]) / min(trace[cut:])))
        levelled = recent < 0.05 * math.log(fall)
    shape = ("" if levelled is None else "; it levelled off over the last fifth of the run"
             if levelled else "; it was still falling at the end")
    return (f"the smallest variance went from {start:.3g} to {low:.3g} ({fall:.3g}-fold) in "
            f"{probe.steps} steps{shape}")


def build_evidence(*, floor: VarianceFloor, as_written: VarianceFloor | None,
                   probe: ProbeResult | None, loss_check: Any, loss_error: str | None,
                   dim: int, untrained_on_path: list[str],
                   loss_bound: LossBound | None = None) -> list[Evidence]:
    """The audit's evidence list (see the module docstring for what votes)."""
    from vaeproofs.claims.conditions import Condition
    from vaeproofs.claims.verdict import Evidence
    ev: list[Evidence] = []
    fixed = getattr(loss_check, "fixed_variance", None) if loss_check is not None else None
    cap = dim * floor.cap_per_dim if floor.cap_per_dim is not None else None
    summary = f"Static floor of the variance output ({floor.analysed}): {floor.explanation}"
    if floor.bounded:
        summary += f" Cap per point: {dim} x {floor.cap_per_dim:.6g} = {cap:.6g} nats."
    votes = True if floor.bounded and fixed is None else None
    if fixed is not None:
        summary += " (Informative: the loss ignores the variance output.)"
    ev.append(Evidence("symbolic", summary, votes, Condition.AUDIT,
                       data={"floor": floor.floor, "cap_per_point": cap, "analysed": floor.analysed}))
    if loss_bound is not None:
        ev.append(_loss_bound_evidence(loss_bound))
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
        if fixed is None and _floor_zero_on_trainable_path(floor) and mean_fits(probe):
            ev.append(Evidence(
                "symbolic", f"Not bounded: the static floor is 0 along a trainable path "
                f"({', '.join(floor.trainable)}), and the probe's mean reproduced its training "
                f"points ({probe_summary(probe)} while the objective kept rising, so the squared "
                "residuals fell below the variance).", False, Condition.AUDIT,
                data={"floor": floor.floor, "trainable": list(floor.trainable)}))
    return ev


def _loss_bound_evidence(lb: LossBound) -> Evidence:
    from vaeproofs.claims.conditions import Condition
    from vaeproofs.claims.verdict import Evidence

    data = lb.to_json()
    if not lb.decided:
        return Evidence("symbolic", f"Static loss bound ({lb.analysed}): undecided, because "
                        f"{lb.reason}.", None, Condition.AUDIT, data=data)
    assert lb.lower is not None
    if math.isfinite(lb.lower):
        return Evidence("symbolic", f"Static loss bound ({lb.analysed}): the loss is at least "
                        f"{lb.lower:.6g} on this batch for every value of the trainable "
                        "parameters (a valid bound, not necessarily the greatest).", True,
                        Condition.AUDIT, data=data)
    return Evidence("symbolic", f"Static loss bound ({lb.analysed}): no finite lower bound found; "
                    f"the -inf enters at {'; '.join(lb.unbounded_paths) or 'an unnamed place'} "
                    "(not a proof of unboundedness by itself).", None, Condition.AUDIT, data=data)


def _probe_evidence(probe: ProbeResult, floor: VarianceFloor, cap: float | None) -> Evidence:
    from vaeproofs.claims.conditions import Condition
    from vaeproofs.claims.verdict import Evidence

    text = (f"Memorisation probe ({probe.steps} steps on {probe.n_points} points, {probe.dtype}, "
            f"stopped: {probe.stopped}): best per-point objective {probe.best_objective_per_point:.6g}, "
            f"best log-density {probe.best_log_density_per_point:.6g}; {probe_summary(probe)}.")
    data = probe.to_json()
    for key in ("trace_step", "trace_objective", "trace_min_variance"):
        data.pop(key, None)
    if probe.passed_cap:
        return Evidence("numeric", text + f" It PASSED the cap {cap:.6g} that the static floor "
                        f"implies (step {probe.passed_cap_at_step}).", False, Condition.AUDIT,
                        figures=("probe",), data=data)
    if probe.running_off and floor.bounded:
        text += " The variance ran down toward the floor: the floor binds on this data."
    elif probe.running_off:
        text += (f" The variance fell by more than {1 / RUN_OFF_FACTOR:g}x while the objective "
                 "still rose (information: a probe alone proves no bound and no unboundedness).")
    return Evidence("numeric", text, None, Condition.AUDIT, figures=("probe",), data=data)


def decide_audit(evidence: list[Evidence]) -> tuple[Verdict, bool | None]:
    """The verdict under :attr:`Condition.AUDIT` and the ``bounded`` it means."""
    from vaeproofs.claims.conditions import Condition
    from vaeproofs.claims.verdict import decide

    verdict, _ = decide(Condition.AUDIT, evidence)
    return verdict, {"holds": True, "fails": False}.get(verdict)


def _bounded_text(floor: VarianceFloor, fixed: float | None, loss_bound: LossBound | None,
                  dim: int, pixel_variance: float) -> list[str]:
    if fixed is not None:
        return [f"Bounded: your loss ignores the variance output, so it trains a decoder of fixed "
                f"variance {fixed:.3g}, whatever the head does."]
    parts: list[str] = []
    if floor.bounded and floor.floor is not None and floor.cap_per_dim is not None:
        rel = floor.floor / pixel_variance if pixel_variance > 0 else math.inf
        parts.append(f"Bounded: the decoder variance is at least {floor.floor:.3g} "
                     f"({rel:.3g} times your data's mean per-pixel variance {pixel_variance:.3g}), "
                     f"so the objective is at most {dim * floor.cap_per_dim:.6g} nats per point "
                     f"({dim} pixels x {floor.cap_per_dim:.4g}).")
        if rel > 10:
            parts.append("That floor is far above your data's per-pixel variance: the decoder "
                         "cannot express the data's noise level, and reconstructions pay for it.")
        elif rel < 1e-2:
            parts.append("That floor is small next to your data's variance: memorisation can "
                         "still push the objective up to the cap.")
    if loss_bound is not None and loss_bound.bounded:
        parts.append(("Bounded: " if not parts else "") + f"your loss is at least "
                     f"{loss_bound.lower:.6g} on the audited batch for every value of the "
                     "trainable parameters (a static proof; a valid bound, not the best one).")
    return parts


def _undecided_text(floor: VarianceFloor, probe: ProbeResult | None,
                    loss_bound: LossBound | None) -> list[str]:
    parts = ["Undecided."]
    if floor.bounded is None:
        parts.append(f"The static floor was not decided: {floor.explanation}")
    elif _floor_zero_on_trainable_path(floor):
        parts.append(f"Shown: the static floor is 0 ({floor.explanation}) Not shown: that the "
                     "mean can reproduce a training point, which unboundedness also needs"
                     + (" (the probe did not show it within its budget)." if probe is not None
                        else " (no probe was run)."))
    else:
        parts.append(f"Static floor: {floor.explanation}")
    if loss_bound is not None:
        if not loss_bound.decided:
            parts.append(f"The loss bound was not decided: {loss_bound.reason}.")
        elif loss_bound.lower == -math.inf:
            parts.append("No finite lower bound of the loss was found (the -inf enters at "
                         f"{'; '.join(loss_bound.unbounded_paths) or 'an unnamed place'}).")
    if probe is not None:
        parts.append(f"Probe (information, not a vote): {probe_summary(probe)}.")
    return parts


def verdict_paragraph(*, verdict: Verdict, floor: VarianceFloor, probe: ProbeResult | None,
                      loss_check: Any, loss_error: str | None, dim: int,
                      pixel_variance: float, untrained_on_path: list[str],
                      loss_bound: LossBound | None = None) -> str:
    """One readable paragraph: the answer first, then what was and was not shown."""
    fixed = getattr(loss_check, "fixed_variance", None) if loss_check is not None else None
    parts: list[str] = []
    if verdict == "holds":
        parts.extend(_bounded_text(floor, fixed, loss_bound, dim, pixel_variance))
        if probe is not None and probe.best_objective_per_point > 0:
            parts.append(f"A large objective (the probe reached {probe.best_objective_per_point:.4g}"
                         " per point, a very negative loss) is not collapse by itself: it stays "
                         "below the cap.")
    elif verdict == "fails":
        parts.append(f"NOT bounded: {floor.explanation}")
        if probe is not None:
            parts.append(f"The probe's mean fit its training points: {probe_summary(probe)}, "
                         f"and the objective reached {probe.best_objective_per_point:.4g} per point.")
        parts.append("On a finite training set the objective can grow without limit. Remedy: "
                     "a variance floor xi (e.g. softplus(.) + xi) chosen relative to your data's "
                     f"per-pixel variance ({pixel_variance:.3g}); see docs/remedies.md.")
    elif verdict == "conflict":
        parts.append("CONFLICT: the static floor and the probe disagree (the probe passed the cap "
                     "the floor implies). The traced graph may differ from what the model runs; "
                     "please report it.")
    else:
        parts.extend(_undecided_text(floor, probe, loss_bound))
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
