"""A claim under test and the record of its evaluation."""

from __future__ import annotations

import dataclasses
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from vaeproofs.claims.conditions import Condition
from vaeproofs.claims.context import SUITES
from vaeproofs.claims.verdict import Evidence, Verdict, decide, decided_by, describe_conditions, tally

if TYPE_CHECKING:
    from vaeproofs.claims.context import EvidenceContext

__all__ = ["Claim", "ClaimResult", "evaluate_claim"]

Gatherer = Callable[["EvidenceContext"], Sequence[Evidence]]


@dataclass(frozen=True)
class Claim:
    """A claim (docs/theory.md sections 2 and 6), with the computations that decide it.

    Attributes:
        id: the stable id, exactly as in docs/theory.md (e.g. ``"answer2.critical-point"``).
        statement: the claim in the project's own paraphrase.
        source: who made the claim and what they cite.
        scope: the setting the statement is about; evidence under this condition
            decides the verdict (see :mod:`vaeproofs.claims.verdict`).
        gatherers: functions of the shared context returning evidence.
        hypotheses: the hypotheses of the cited result, when the claim rests on one
            (printed with the source; the conclusions alone can mislead).
    """

    id: str
    statement: str
    source: str
    scope: Condition
    gatherers: tuple[Gatherer, ...]
    hypotheses: str = ""


@dataclass
class ClaimResult:
    """The outcome of evaluating one claim.

    ``elapsed_s`` is the claim's *own* time: its gatherers' wall time less the shared
    computations (derivations, constructions, training suites) that ran while it waited;
    those are timed once each in the run's shared computations, so the claims' own times
    plus the shared times add up to the run's compute time.
    """

    id: str
    statement: str
    source: str
    scope: Condition
    verdict: Verdict
    conditions: str
    evidence: list[Evidence]
    elapsed_s: float
    conflicts: list[Evidence] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    hypotheses: str = ""

    @property
    def decided_by(self) -> list[str]:
        """How the votes in the claim's own setting were obtained, strongest first."""
        return decided_by(self.scope, self.evidence)

    @property
    def tally(self) -> dict[str, tuple[int, int, int]]:
        """(for, against, informative) counts in this setting and in other settings."""
        return tally(self.scope, self.evidence)

    @property
    def decided(self) -> bool:
        """True when the verdict is ``holds`` or ``fails`` and nothing errored."""
        return self.verdict in ("holds", "fails") and not self.errors

    def to_dict(self) -> dict[str, Any]:
        """The JSON form written by ``vaeproofs verify --json`` (schema: ``verify.schema.json``)."""
        from vaeproofs.claims.catalog import section_of

        return {
            "id": self.id,
            "statement": self.statement,
            "source": self.source,
            "scope": self.scope.value,
            "section": section_of(self.id),
            "hypotheses": self.hypotheses,
            "verdict": self.verdict,
            "conditions": self.conditions,
            "elapsed_s": round(self.elapsed_s, 3),
            "decided_by": self.decided_by,
            "counts": {k: dict(zip(("for", "against", "informative"), v, strict=True))
                       for k, v in self.tally.items()},
            "errors": self.errors,
            "evidence": [
                {
                    "kind": e.kind,
                    "method": e.how,
                    "summary": e.summary,
                    "passed": e.passed,
                    "supports": e.supports,
                    "condition": e.condition.value,
                    "figures": list(e.figures),
                    "data": e.data,
                }
                for e in self.evidence
            ],
        }


def evaluate_claim(claim: Claim, context: EvidenceContext) -> ClaimResult:
    """Run every gatherer of ``claim`` and compute its verdict.

    A gatherer that raises does not stop the others: its error is recorded, and the
    claim cannot be ``decided`` (the command line then exits non-zero).
    """
    start = time.perf_counter()
    shared_before = context.computed_seconds
    evidence: list[Evidence] = []
    errors: list[str] = []
    for gather in claim.gatherers:
        context.accessed.clear()
        try:
            gathered = list(gather(context))
            # Numeric evidence read from a training suite comes from training runs.
            trained = bool(context.accessed & set(SUITES))
            evidence.extend(dataclasses.replace(e, method="training run")
                            if trained and e.kind == "numeric" and not e.method else e
                            for e in gathered)
        except Exception as exc:  # recorded as an outcome, not lost
            last = traceback.extract_tb(exc.__traceback__)[-1]
            errors.append(f"{gather.__name__}: {type(exc).__name__}: {exc} "
                          f"({last.filename.rsplit('/', 1)[-1]}:{last.lineno})")
    verdict, conflicts = decide(claim.scope, evidence)
    if errors and verdict in ("holds", "fails"):
        verdict = "undecided"
    return ClaimResult(
        id=claim.id,
        statement=claim.statement,
        source=claim.source,
        scope=claim.scope,
        verdict=verdict,
        conditions=describe_conditions(claim.scope, verdict, evidence),
        evidence=evidence,
        # The claim's own time: shared sources computed meanwhile are timed in
        # context.timings instead (prefetched ones cost nothing here).
        elapsed_s=max(0.0, time.perf_counter() - start - (context.computed_seconds - shared_before)),
        conflicts=conflicts,
        errors=errors,
        hypotheses=claim.hypotheses,
    )
