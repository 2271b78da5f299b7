"""What the monitor says: its events, the warning categories and the one-line messages.

Each event is said once per run, as one line that starts with the step, says what was
seen and what to do, and names the section of docs/monitor.md that explains it.
Warnings (``level="warning"``) are issued with :class:`CollapseWarning`, notices with
:class:`VarianceNotice`; both are :class:`UserWarning` subclasses, so Python's warning
filters (and pytest's) select them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

__all__ = ["CODES", "CollapseWarning", "MonitorEvent", "VarianceNotice", "where_text"]


class CollapseWarning(UserWarning):
    """Training heads into the variance collapse, or contradicts the audited floor."""


class VarianceNotice(UserWarning):
    """Something worth knowing about the variance that is not a collapse."""


#: code -> (level, what to do).  The docs section is ``docs/monitor.md#<code>``.
CODES: dict[str, tuple[str, str]] = {
    "collapse": ("warning", "floor the variance (var = xi + softplus(raw), xi near the noise level), "
                            "use more data or a smaller decoder, or stop here"),
    "non-finite": ("warning", "stop: the run has diverged; lower the learning rate or floor the variance"),
    "below-floor": ("warning", "the head trained is not the one audited: audit the model you train"),
    "above-cap": ("warning", "the objective is not the head's log-density (or the floor is wrong): "
                             "check the loss with vaeproofs.testing.check_gaussian_vae_loss"),
    "passed-reference-cap": ("warning", "some variance is below the reference floor: floor the variance "
                                        "if that floor matters to you"),
    "below-noise": ("notice", "not a collapse by itself; watch for the collapse warning"),
    "constant-pixels": ("notice", "expected on pixels constant in the data (a degenerate direction, "
                                  "not memorisation); dequantise or drop them if it matters"),
}


@dataclass(frozen=True)
class MonitorEvent:
    """One thing the monitor said: at which step, how loudly, what and why."""

    step: int
    level: str
    code: str
    message: str
    data: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The event as JSON-ready values."""
        return {"step": self.step, "level": self.level, "code": self.code, "message": self.message,
                "data": {k: (None if isinstance(v, float) and not math.isfinite(v) else v)
                         for k, v in self.data.items()}}


def make_event(step: int, code: str, what: str, data: dict[str, Any]) -> MonitorEvent:
    """The event ``code`` at ``step`` with its one line: step, what was seen, what to do."""
    level, todo = CODES[code]
    message = (f"vaeproofs.monitor step {step}: {level} {code}: {what}; {todo} "
               f"(docs/monitor.md#{code}).")
    return MonitorEvent(step=step, level=level, code=code, message=message, data=data)


def where_text(pixel: int, shape: tuple[int, ...], point: int | None, from_index: bool) -> str:
    """'pixel 12 (row 1, col 4) of training point 7' (or 'of batch row 7')."""
    text = f"pixel {pixel}"
    if len(shape) == 2:
        text += f" (row {pixel // shape[1]}, col {pixel % shape[1]})"
    if point is not None:
        text += f" of training point {point}" if from_index else f" of batch row {point}"
    return text
