"""Write and read training results as JSON, atomically.

The document is :meth:`TrainResult.to_json` (or a list of them for a suite), written by
:func:`vaeproofs.outputs.write_json`: strict JSON, where a non-finite number (a
diverged run's last metrics) is written as ``null`` and listed, with its path and
value, under the document's ``"non_finite"`` key, never as ``NaN``.  Files are written
atomically with mode 0644 (results are meant to be shared).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from vaeproofs import outputs
from vaeproofs.numeric.training import TrainResult

__all__ = ["read_json", "write_json"]


def write_json(result: TrainResult | Sequence[TrainResult] | dict[str, Any],
               path: str | os.PathLike[str]) -> Path:
    """Write ``result`` to ``path`` atomically (temporary file, fsync, rename); return the path."""
    if isinstance(result, TrainResult):
        doc: Any = result.to_json()
    elif isinstance(result, dict):
        doc = result
    else:
        doc = [r.to_json() for r in result]
    return outputs.write_json(path, doc)


def read_json(path: str | os.PathLike[str]) -> Any:
    """Read a document written by :func:`write_json`."""
    return json.loads(Path(path).read_text(encoding="utf-8"))
