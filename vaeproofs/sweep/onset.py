"""The onset-of-collapse study, summarised: when does gradient training pass the floor's cap?

The study is the sweep preset ``onset`` (``vaeproofs sweep --preset onset --out DIR``).
:func:`summarise` reads its ``DIR/results.csv`` and groups the runs by decoder family,
width and training-set size; :func:`write_summary` writes that summary as JSON.  The
package ships the summary of the recorded run (``vaeproofs/data/onset_study.json``,
loaded by :func:`load_shipped_summary`), which the claims layer reads as evidence
with its own stated setting; ``docs/results.md`` gives the command that reproduces it.

Conventions: ELBOs and log-likelihoods in nats per point (natural log, summed over the
64 pixels); variances are variances; "passed the cap" means the largest per-point
training ELBO at a logged step exceeded -(D/2) log(2 pi xi) (Mattei & Frellsen 2018,
section 2.1), a value no model with every variance >= xi can exceed.
"""

from __future__ import annotations

import csv
import json
import statistics
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from vaeproofs.errors import InvalidArgumentError
from vaeproofs.outputs import write_json

__all__ = ["OnsetCell", "OnsetSummary", "load_shipped_summary", "summarise", "write_summary"]

_NEEDED = ("likelihood", "hidden", "n_train_used", "seed", "steps", "outcome", "passed_cap_at_step",
           "min_decoder_variance", "best_train_elbo_mean", "final_test_iwae", "floor_cap_threshold",
           "floor")


def _num(text: str) -> float | None:
    return None if text in ("", None) else float(text)


def _median(values: Iterable[float | None]) -> float | None:
    finite = [v for v in values if v is not None]
    return statistics.median(finite) if finite else None


@dataclass(frozen=True)
class OnsetCell:
    """The runs of one (family, width, training-set size) cell, over seeds."""

    likelihood: str
    hidden: int
    n_train: int
    runs: int
    passed: int
    median_passed_step: float | None
    median_min_variance: float | None
    median_best_train_elbo: float | None
    median_final_test_iwae: float | None


@dataclass(frozen=True)
class OnsetSummary:
    """The study's summary: its budget, the cap it compares with, and one cell per group."""

    steps: int
    xi: float
    cap_per_point: float
    cells: tuple[OnsetCell, ...]

    def cell(self, likelihood: str, hidden: int, n_train: int) -> OnsetCell:
        """The cell of one family, width and training-set size."""
        for c in self.cells:
            if (c.likelihood, c.hidden, c.n_train) == (likelihood, hidden, n_train):
                return c
        raise InvalidArgumentError("cell", f"no runs for {likelihood}, width {hidden}, n = {n_train}")

    def sizes(self, likelihood: str) -> list[int]:
        """The training-set sizes of one family, ascending."""
        return sorted({c.n_train for c in self.cells if c.likelihood == likelihood})

    def widths(self, likelihood: str) -> list[int]:
        """The widths of one family, ascending."""
        return sorted({c.hidden for c in self.cells if c.likelihood == likelihood})

    def largest_size_passing(self, likelihood: str) -> int | None:
        """The largest training-set size at which some run of the family passed the cap."""
        passing = [c.n_train for c in self.cells if c.likelihood == likelihood and c.passed]
        return max(passing) if passing else None

    def to_json(self) -> dict[str, Any]:
        """The JSON form (``vaeproofs/data/onset_study.json``)."""
        return {"steps": self.steps, "xi": self.xi, "cap_per_point": self.cap_per_point,
                "cells": [asdict(c) for c in self.cells]}

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> OnsetSummary:
        """Read the JSON form back."""
        return cls(steps=int(doc["steps"]), xi=float(doc["xi"]), cap_per_point=float(doc["cap_per_point"]),
                   cells=tuple(OnsetCell(**c) for c in doc["cells"]))


def summarise(results_csv: str | Path) -> OnsetSummary:
    """Group the rows of a sweep's ``results.csv`` into cells (errored runs are left out).

    Raises:
        InvalidArgumentError: a missing column, mixed budgets or floors, or no trained run.
    """
    path = Path(results_csv)
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    if not rows:
        raise InvalidArgumentError("results_csv", f"{path} has no rows")
    missing = [c for c in _NEEDED if c not in rows[0]]
    if missing:
        raise InvalidArgumentError("results_csv", f"{path} lacks the columns {', '.join(missing)}")
    trained = [r for r in rows if r["outcome"] in ("completed", "diverged")]
    if not trained:
        raise InvalidArgumentError("results_csv", f"{path} has no trained run")
    budgets = {(r["steps"], r["floor"], r["floor_cap_threshold"]) for r in trained}
    if len(budgets) != 1:
        raise InvalidArgumentError("results_csv", "mixes step budgets or floors; summarise one study")
    steps, xi, cap = next(iter(budgets))
    groups: dict[tuple[str, int, int], list[dict[str, str]]] = {}
    for r in trained:
        groups.setdefault((r["likelihood"], int(r["hidden"]), int(r["n_train_used"])), []).append(r)
    cells = []
    for (likelihood, hidden, n), runs in sorted(groups.items()):
        passed = [_num(r["passed_cap_at_step"]) for r in runs]
        cells.append(OnsetCell(
            likelihood=likelihood, hidden=hidden, n_train=n, runs=len(runs),
            passed=sum(p is not None for p in passed),
            median_passed_step=_median(passed),
            median_min_variance=_median(_num(r["min_decoder_variance"]) for r in runs),
            median_best_train_elbo=_median(_num(r["best_train_elbo_mean"]) for r in runs),
            median_final_test_iwae=_median(_num(r["final_test_iwae"]) for r in runs)))
    return OnsetSummary(steps=int(steps), xi=float(xi), cap_per_point=float(cap), cells=tuple(cells))


def write_summary(summary: OnsetSummary, path: str | Path) -> Path:
    """Write ``summary`` as strict JSON, atomically."""
    return write_json(path, summary.to_json())


def load_shipped_summary() -> OnsetSummary | None:
    """The summary of the recorded study shipped with the package (``None`` if absent)."""
    res = resources.files("vaeproofs") / "data" / "onset_study.json"
    if not res.is_file():
        return None
    return OnsetSummary.from_json(json.loads(res.read_text(encoding="utf-8")))


def main(argv: list[str] | None = None) -> int:
    """``python -m vaeproofs.sweep.onset DIR/results.csv --out SUMMARY.json``."""
    import argparse

    parser = argparse.ArgumentParser(description="Summarise the onset-of-collapse sweep.")
    parser.add_argument("results_csv", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    from vaeproofs.outputs import plan_outputs

    out = plan_outputs(files={"--out": args.out}, inputs={"results_csv": args.results_csv})["--out"]
    write_summary(summarise(args.results_csv), out)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
