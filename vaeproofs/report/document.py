"""The content of a verification report, independent of its output format."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from vaeproofs.claims.claim import ClaimResult
from vaeproofs.symbolic.derivation import Derivation

__all__ = ["DISCUSSION_URL", "ReportDocument"]

#: The public discussion whose claims the report decides (Cross Validated, question 373858).
DISCUSSION_URL = "https://stats.stackexchange.com/questions/373858/is-the-optimization-of-the-gaussian-vae-well-posed"


@dataclass
class ReportDocument:
    """Everything a report shows.

    Attributes:
        results: one evaluated claim each, in catalog order.
        derivations: the symbolic derivations the evidence used.
        figures: PNG bytes by figure name (names are what evidence refers to).
        captions: one caption per figure name.
        elapsed_s: wall time of the whole verification.
        versions: package versions that produced the numbers.
        quick: whether the reduced (``--quick``) settings were used.
        timings: seconds spent in each shared computation (training suite,
            constructions, derivations), timed once each and in no claim's own time.
        command: the command line that produced the report (recorded in it).
    """

    results: list[ClaimResult]
    derivations: list[Derivation] = field(default_factory=list)
    figures: dict[str, bytes] = field(default_factory=dict)
    captions: dict[str, str] = field(default_factory=dict)
    elapsed_s: float = 0.0
    versions: dict[str, str] = field(default_factory=dict)
    quick: bool = False
    timings: dict[str, float] = field(default_factory=dict)
    command: str = ""

    def to_json(self) -> dict[str, Any]:
        """The JSON object written by ``vaeproofs verify --json``."""
        return {
            "claims": [r.to_dict() for r in self.results],
            "elapsed_s": round(self.elapsed_s, 3),
            "versions": self.versions,
            "quick": self.quick,
            "shared_computations_s": {k: round(v, 3) for k, v in self.timings.items()},
        }
