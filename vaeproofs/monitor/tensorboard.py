"""The monitor's rows and events to a TensorBoard ``SummaryWriter`` (any object with its methods).

    from torch.utils.tensorboard import SummaryWriter
    writer = SummaryWriter("runs/vae")
    ...
    write_rows(writer, monitor.update(logvar_x, objective=elbo))
    ...
    write_events(writer, monitor.events)

This module imports nothing from tensorboard: the writer is the caller's.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from vaeproofs.monitor.events import MonitorEvent

__all__ = ["write_events", "write_rows"]


def write_rows(writer: Any, rows: Iterable[dict[str, Any]], *, prefix: str = "collapse/") -> int:
    """``writer.add_scalar(prefix + key, value, step)`` for every finite number of every row;
    returns how many scalars were written."""
    count = 0
    for row in rows:
        step = int(row["step"])
        for key, value in row.items():
            if key != "step" and isinstance(value, int | float) and not isinstance(value, bool) \
                    and math.isfinite(value):
                writer.add_scalar(prefix + key, float(value), step)
                count += 1
    return count


def write_events(writer: Any, events: Iterable[MonitorEvent], *, tag: str = "collapse/events") -> int:
    """``writer.add_text(tag, message, step)`` for each event; returns how many."""
    count = 0
    for event in events:
        writer.add_text(tag, event.message, event.step)
        count += 1
    return count
