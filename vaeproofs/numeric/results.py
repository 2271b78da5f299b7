"""Write and read training results as JSON, atomically.

The document is :meth:`TrainResult.to_dict` (or a list of them for a suite); it is
strict JSON: non-finite numbers are written as ``null``, never as ``NaN``.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from vaeproofs.numeric.training import TrainResult

__all__ = ["read_json", "write_json"]


def write_json(result: TrainResult | Sequence[TrainResult] | dict[str, Any],
               path: str | os.PathLike[str]) -> Path:
    """Write ``result`` to ``path`` atomically: a temporary file in the same folder, then
    :func:`os.replace`, so a reader never sees a half-written file.  Returns the path."""
    if isinstance(result, TrainResult):
        doc: Any = result.to_dict()
    elif isinstance(result, dict):
        doc = result
    else:
        doc = [r.to_dict() for r in result]
    text = json.dumps(doc, indent=1, allow_nan=False) + "\n"
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    try:
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; results are meant to be shared
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        _remove_quietly(tmp)
        raise
    return target


def _remove_quietly(path: str) -> None:
    """Remove a leftover temporary file, ignoring a missing one."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def read_json(path: str | os.PathLike[str]) -> Any:
    """Read a document written by :func:`write_json`."""
    return json.loads(Path(path).read_text(encoding="utf-8"))
