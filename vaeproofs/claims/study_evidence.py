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
from vaeproofs.sweep.onset import OnsetSummary, load_shipped_summary

__all__ = ["onset_study"]


def _fmt(value: float | None, spec: str) -> str:
    return "n/a" if value is None else format(value, spec)


def describe(summary: OnsetSummary) -> str:
    """One paragraph of the study's numbers, computed from the summary."""
    parts = []
    for family in ("per-pixel", "shared", "floor"):
        sizes = summary.sizes(family)
        if not sizes:
            continue
        cells = [[summary.cell(family, w, n) for w in summary.widths(family)] for n in sizes]
        per_size = ", ".join(
            f"{sum(c.passed for c in row)}/{sum(c.runs for c in row)} at n = {n}"
            for n, row in zip(sizes, cells, strict=True))
        parts.append(f"{family}: passed the cap in {per_size}")
    text = (f"Onset study ({summary.steps} Adam steps per run, floor cap "
            f"{summary.cap_per_point:.1f} nats per point at xi = {summary.xi:g}): "
            + "; ".join(parts) + ".")
    sizes = summary.sizes("per-pixel")
    if sizes:
        largest = sizes[-1]
        for w in summary.widths("per-pixel"):
            c = summary.cell("per-pixel", w, largest)
            text += (f" Per-pixel at n = {largest}, width {w}: median best training ELBO "
                     f"{_fmt(c.median_best_train_elbo, '.1f')} nats against a final test IWAE of "
                     f"{_fmt(c.median_final_test_iwae, '.1f')}, median smallest variance "
                     f"{_fmt(c.median_min_variance, '.1e')}.")
        onset = summary.largest_size_passing("per-pixel")
        text += (" Within this budget the collapse appears only up to n = "
                 f"{onset}." if onset is not None else " No per-pixel run passed the cap.")
    return text


def onset_study(ctx: EvidenceContext) -> list[Evidence]:
    """Where the collapse appears at realistic sizes (informative; no vote)."""
    summary = load_shipped_summary()
    if summary is None:
        return []
    return [Evidence("numeric", describe(summary), None, Condition.ONSET_STUDY,
                     data={"steps": summary.steps, "xi": summary.xi,
                           "largest_size_passing": summary.largest_size_passing("per-pixel")})]
