"""Where a sweep keeps its runs: ``DIR/runs/<id>.json`` and the tidy ``DIR/results.csv``.

- ``DIR/runs/<id>.json``: the record of one run.  A run that trained (outcome
  ``"completed"`` or ``"diverged"``) has exactly the document of ``vaeproofs train
  --json``, written by the same writer (:func:`vaeproofs.numeric.results.write_json`).
  A run that raised has ``{"config", "outcome": "error", "error", "elapsed_s"}``.  Both
  forms are described by ``vaeproofs/schemas/sweep-run.schema.json``.  ``<id>`` is
  :func:`vaeproofs.sweep.spec.run_id` of the full configuration.
- A record counts as done when it trained and its ``config`` equals the run's: rerunning
  a sweep skips those (resumption); a run that raised, or whose file cannot be read, is
  run again.
- ``DIR/results.csv``: one row per run of the spec, in grid order; the columns are
  :data:`COLUMNS`.  Options are written as the spec writes them (``"all"`` for ``None``
  counts, an empty cell for ``binarize`` left to the likelihood); numbers with Python's
  shortest round-trip ``repr``; a missing or non-finite number is an empty cell.
  Metrics are in nats per point (natural log, summed over pixels); ``best_*`` is the
  best logged value (largest ELBO), ``final_*`` the last logged finite one,
  ``min_decoder_variance`` the smallest logged decoder variance (a variance, not a
  standard deviation), ``floor_cap_threshold`` -(D/2) log(2 pi xi) (Mattei & Frellsen
  2018, section 2.1), ``passed_cap_at_step`` the first logged step whose largest
  per-point training ELBO exceeded it (empty: never within the budget).
"""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path
from typing import Any

from vaeproofs.outputs import write_atomic
from vaeproofs.sweep.spec import FIELD

__all__ = ["COLUMNS", "DONE_OUTCOMES", "RunStore", "csv_row"]

#: Outcomes of a run that trained (its record is kept and skipped on a rerun).
DONE_OUTCOMES: frozenset[str] = frozenset({"completed", "diverged"})

_METRICS: tuple[str, ...] = (
    "n_train_used", "n_test_used", "dim", "outcome", "diverged_at_step", "divergence",
    "best_train_elbo_mean", "best_train_elbo_max", "final_train_elbo_mean", "final_test_elbo",
    "final_test_iwae", "final_test_iwae_se", "min_decoder_variance", "floor_cap_threshold",
    "passed_cap_at_step", "mean_passed_cap_at_step", "elapsed_s", "error",
)
#: The columns of ``results.csv``: the run id, every option (spec key names), the outcome
#: and the metrics.
COLUMNS: tuple[str, ...] = ("id", *FIELD, *_METRICS)


def _option_cell(key: str, value: Any) -> Any:
    if value is None:
        return "all" if FIELD[key][1] == "count" else ""
    return value


def csv_row(run_id: str, record: dict[str, Any]) -> dict[str, Any]:
    """The ``results.csv`` row of one run record (values not yet formatted)."""
    config = record["config"]
    row: dict[str, Any] = {"id": run_id}
    for key, (name, _) in FIELD.items():
        row[key] = _option_cell(key, config.get(name))
    data = record.get("data") or {}
    best = record.get("best") or {}
    final = record.get("final") or {}
    row.update({
        "n_train_used": data.get("n_train"), "n_test_used": data.get("n_test"),
        "dim": data.get("dim"), "outcome": record["outcome"],
        "diverged_at_step": record.get("diverged_at_step"), "divergence": record.get("divergence"),
        "best_train_elbo_mean": best.get("train_elbo_mean"),
        "best_train_elbo_max": best.get("train_elbo_max"),
        "final_train_elbo_mean": final.get("train_elbo_mean"),
        "final_test_elbo": final.get("test_elbo"), "final_test_iwae": final.get("test_iwae"),
        "final_test_iwae_se": final.get("test_iwae_se"),
        "min_decoder_variance": best.get("min_decoder_variance"),
        "floor_cap_threshold": record.get("floor_cap_threshold"),
        "passed_cap_at_step": record.get("passed_cap_at_step"),
        "mean_passed_cap_at_step": record.get("mean_passed_cap_at_step"),
        "elapsed_s": record.get("elapsed_s"), "error": record.get("error"),
    })
    return row


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else ""
    return str(value)


class RunStore:
    """The files of one sweep folder ``root`` (created on the first write)."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.runs = self.root / "runs"
        self.csv = self.root / "results.csv"
        self.figures = self.root / "figures"

    def path(self, run_id: str) -> Path:
        """The record file of run ``run_id``."""
        return self.runs / f"{run_id}.json"

    def read(self, run_id: str) -> dict[str, Any] | None:
        """The stored record of ``run_id``, or ``None`` if absent or unreadable."""
        from vaeproofs.numeric.results import read_json

        try:
            doc = read_json(self.path(run_id))
        except (OSError, ValueError):
            return None
        return doc if isinstance(doc, dict) and "config" in doc and "outcome" in doc else None

    def done(self, run_id: str, config: dict[str, Any]) -> dict[str, Any] | None:
        """The stored record if run ``run_id`` already trained with exactly ``config``."""
        doc = self.read(run_id)
        if doc is not None and doc["outcome"] in DONE_OUTCOMES and doc["config"] == config:
            return doc
        return None

    def write(self, run_id: str, record: dict[str, Any]) -> Path:
        """Write one run's record atomically with the training JSON writer."""
        from vaeproofs.numeric.results import write_json

        self.runs.mkdir(parents=True, exist_ok=True)
        return write_json(record, self.path(run_id))

    def write_csv(self, rows: list[dict[str, Any]]) -> bool:
        """Write ``results.csv`` (atomically) unless it already holds exactly these rows.

        Returns whether the file was (re)written.
        """
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(COLUMNS)
        for row in rows:
            writer.writerow([_cell(row.get(c)) for c in COLUMNS])
        text = buffer.getvalue()
        if self.csv.is_file() and self.csv.read_text(encoding="utf-8") == text:
            return False
        self.root.mkdir(parents=True, exist_ok=True)
        write_atomic(self.csv, text)
        return True
