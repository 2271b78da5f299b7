"""Evidence from the recorded onset-of-collapse study (:mod:`vaeproofs.sweep.onset`).

The study trains per-pixel, floored and shared Gaussian decoders on 16 up to all 1438
dequantised digits (``vaeproofs sweep --preset onset``; about an hour on 2 cores, so
``verify`` reads its shipped summary instead of rerunning it; ``docs/results.md`` gives
the command).  A finite training run cannot prove or refute unboundedness, so this
evidence is informative (``supports=None``) under its own setting: it says at which
training-set sizes gradient training reaches the collapse within the budget.
"""

from __future__ import annotations

from vaeproofs.claims.conditions import Condition
from vaeproofs.claims.context import EvidenceContext
from vaeproofs.claims.verdict import Evidence
from vaeproofs.sweep.onset import describe, load_shipped_summary

__all__ = ["describe", "onset_study"]


def onset_study(ctx: EvidenceContext) -> list[Evidence]:
    """Where the collapse appears at realistic sizes (informative; no vote)."""
    summary = load_shipped_summary()
    if summary is None:
        return []
    return [Evidence("numeric", describe(summary), None, Condition.ONSET_STUDY,
                     data={"steps": summary.steps, "xi": summary.xi,
                           "largest_size_passing": summary.largest_size_passing("per-pixel")})]
