"""Evidence and the readable paragraph of :func:`vaeproofs.audit.objective.audit_objective`.

The statement judged is "the user's objective is bounded below on the batch analysed", in
the setting :attr:`Condition.AUDIT` (the parameters that train free, the rest constant).
The votes follow the audit's rule (:mod:`vaeproofs.audit.verdict`):

- the static lower bound votes ``True`` when it is proven finite;
- the probe votes ``False`` only next to static proofs that the model's variance output has
  floor 0 along a trainable path and that no finite lower bound of the loss exists, *and*
  with a witness that the mean reproduces a training row (its log-density passed the cap of
  the witness floor); or when it passed a proven finite bound (a conflict);
- everything else (an undecided bound, a probe on a model the analysis could not read, the
  variance output's floor) is information and does not vote.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from vaeproofs.audit.floor import VarianceFloor
    from vaeproofs.audit.loss_bound import LossBound
    from vaeproofs.audit.objective_probe import ObjectiveProbe
    from vaeproofs.claims.verdict import Evidence, Verdict

__all__ = ["objective_evidence", "objective_paragraph", "probe_sentence", "witness_sentence"]


def _bound_summary(bound: LossBound) -> str:
    if not bound.decided:
        return f"Static lower bound of the objective: undecided ({bound.reason})."
    if bound.lower is None or bound.lower == -math.inf:
        paths = "; ".join(bound.unbounded_paths) or "see the expression"
        return (f"Static lower bound of the objective: none: it can decrease without limit as the "
                f"trainable parameters vary ({paths}).")
    return (f"Static lower bound of the objective on this batch: {bound.lower:.6g}, for every value of "
            f"the trainable parameters ({bound.reason}).")


def witness_sentence(probe: ObjectiveProbe) -> str:
    """The probe's witness, in words (empty without one)."""
    if probe.witness == "density":
        return (f"at step {probe.witness_at_step} a training row's log-density "
                f"{probe.best_log_density_per_row:.6g} passed {probe.witness_cap_per_row:.6g}, the most "
                f"any model whose variance stays >= {probe.witness_floor:.3g} (1e-3 of the data's "
                "per-element variance) can reach: the mean reproduces that row with a smaller variance")
    if probe.witness == "loss":
        return (f"at step {probe.witness_at_step} the loss {probe.best_loss:.6g} fell below "
                f"{probe.loss_threshold:.6g}, the least a sum or mean of Gaussian NLLs with every "
                f"variance >= {probe.witness_floor:.3g} has (this reading assumes no negative terms "
                "besides the NLL)")
    return ""


def probe_sentence(probe: ObjectiveProbe) -> str:
    """What the probe did, in one sentence (information)."""
    text = (f"The probe ({probe.steps} steps of Adam on {probe.n_rows} rows, {probe.dtype}, stopped: "
            f"{probe.stopped}) took the loss from {probe.initial_loss:.6g} to {probe.best_loss:.6g}")
    if probe.min_variance is not None and probe.initial_min_variance is not None:
        text += (f" and the smallest variance from {probe.initial_min_variance:.3g} to "
                 f"{probe.min_variance:.3g}")
    if probe.witness is None and probe.steps >= 20:
        text += "; the loss plateaued" if probe.plateaued else "; the loss was still falling"
    return text + "."


def objective_evidence(*, bound: LossBound, floor: VarianceFloor, probe: ObjectiveProbe | None,
                       frozen: list[str]) -> list[Evidence]:
    """The evidence list (module docstring)."""
    from vaeproofs.claims.conditions import Condition
    from vaeproofs.claims.verdict import Evidence

    finite = bound.decided and bound.lower is not None and math.isfinite(bound.lower)
    unbounded = bound.decided and not finite
    ev = [Evidence("symbolic", _bound_summary(bound), True if finite else None, Condition.AUDIT,
                   data={"lower": bound.lower, "decided": bound.decided,
                         "expression": bound.expression, "trainable": list(bound.trainable),
                         "frozen": list(bound.frozen), "unbounded_paths": list(bound.unbounded_paths)})]
    if frozen:
        ev.append(Evidence("symbolic", f"Parameters held constant (not in the optimiser): "
                           f"{', '.join(frozen)}.", None, Condition.AUDIT, data={"frozen": frozen}))
    ev.append(Evidence("symbolic", f"The model's variance output (information): {floor.explanation}",
                       None, Condition.AUDIT, data={"floor": floor.floor}))
    if probe is not None:
        data = probe.to_json()
        for key in ("trace_step", "trace_loss", "trace_min_variance"):
            data.pop(key)
        text = probe_sentence(probe)
        vote = None
        if probe.passed_bound:
            text += (f" It PASSED the proven bound {bound.lower:.6g} (step {probe.passed_bound_at_step}): "
                     "the analysed graph differs from what runs.")
            vote = False
        elif probe.witness is not None:
            text += " Witness: " + witness_sentence(probe) + "."
            if unbounded and probe.witness == "density" and floor.floor == 0.0 and floor.trainable:
                vote = False
            else:
                text += (" (Information: without static proofs that the variance has floor 0 on a "
                         "trainable path and that the loss has no finite bound, a witness decides "
                         "nothing.)")
        else:
            text += " Not decisive: a probe proves no bound."
        ev.append(Evidence("numeric", text, vote, Condition.AUDIT, data=data))
    return ev


def objective_paragraph(*, decision: Verdict, bound: LossBound, floor: VarianceFloor,
                        probe: ObjectiveProbe | None, frozen: list[str], unread: str,
                        advice: list[Any]) -> str:
    """One readable paragraph: the answer first, then the numbers behind it."""
    parts: list[str] = []
    if decision == "holds":
        parts.append(f"Bounded: on this batch your loss is at least {bound.lower:.6g} for every value of "
                     "the parameters that train.")
    elif decision == "fails":
        parts.append("NOT bounded: nothing bounds your loss from below "
                     f"({'; '.join(bound.unbounded_paths) or 'see the expression'}), and the probe "
                     f"shows it running off: {witness_sentence(probe) if probe else ''}.")
    elif decision == "conflict":
        parts.append("CONFLICT: the probe passed the proven lower bound; the traced graph may differ "
                     "from what the model runs. Please report it.")
    else:
        parts.append("Undecided. " + (_bound_summary(bound) if bound.decided else
                                      f"The static analysis could not decide: {bound.reason}."))
    if probe is not None and decision != "fails":
        parts.append(probe_sentence(probe))
        if probe.witness is not None and decision == "undecided":
            parts.append("It found a witness (" + witness_sentence(probe) + "), which is information "
                         "only without a static proof.")
    if frozen:
        parts.append(f"Held constant (left out of the optimiser): {', '.join(frozen)}.")
    if floor.floor is not None:
        parts.append(f"The model's variance output: {floor.explanation}")
    return " ".join(p for p in parts if p)
