"""Run a sweep: every configuration not yet in the store, on a backend, recorded as it ends.

:func:`run_sweep` skips the runs whose record is already done (resumption), sends the
others to :func:`vaeproofs.sweep.backends.run_tasks` with :func:`execute_run` as the
task, writes each record the moment it comes back (so an interrupted sweep keeps every
finished run), records a run that raised with its error and carries on, and finally
writes ``results.csv``.  Ctrl-C stops the workers, keeps what finished and returns a
report with ``interrupted=True``.

Determinism: a run is a pure function of its configuration (see
:mod:`vaeproofs.numeric.training`); every worker runs it with one torch thread, so the
same configuration gives the same numbers on every backend.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

from vaeproofs.sweep.backends import run_tasks
from vaeproofs.sweep.spec import run_id
from vaeproofs.sweep.store import RunStore, csv_row

__all__ = ["SweepReport", "error_record", "execute_run", "run_sweep"]


def execute_run(config_values: dict[str, Any], *,
                memory_budget_gb: float | None = None) -> dict[str, Any]:
    """Train one configuration (TrainConfig fields) and return its JSON record.

    ``memory_budget_gb``: train's budget (None: train's default); the sweep checked every
    run against it up front.

    The task of every backend: module level and picklable, imports torch only when
    called.  The record is the result's JSON document made strict; a non-finite
    value ends the run as ``"diverged"``, it is never an exception.
    """
    from vaeproofs.numeric.training import TrainConfig, train
    from vaeproofs.outputs import to_strict_json

    result = train(TrainConfig(**config_values), progress=False, memory_budget_gb=memory_budget_gb)
    to_json = getattr(result, "to_json", None) or result.to_dict
    return to_strict_json(to_json())


def error_record(config_values: dict[str, Any], error: str) -> dict[str, Any]:
    """The record of a run that raised ``error`` (one line) instead of training."""
    return {"config": config_values, "outcome": "error", "error": error, "elapsed_s": None}


@dataclass
class SweepReport:
    """What one invocation did: ``skipped`` runs were already done, ``new`` ran now."""

    total: int
    skipped: int = 0
    new: int = 0
    errors: list[tuple[str, str]] = field(default_factory=list)
    interrupted: bool = False
    csv_written: bool = False
    rows: list[dict[str, Any]] = field(default_factory=list)


def run_sweep(configs: list[Any], store: RunStore, *, backend: str = "local",
              workers: int | None = None, scheduler: str | None = None,
              progress: bool = False,
              memory_budget_gb: float | None = None) -> SweepReport:
    """Run every configuration of ``configs`` (TrainConfig objects) not yet done in ``store``.

    The progress bar counts runs done (skipped ones included) out of ``len(configs)``.
    """
    values = [c.to_dict() for c in configs]
    ids = [run_id(v) for v in values]
    records: list[dict[str, Any] | None] = []
    todo: list[int] = []
    for i, (rid, v) in enumerate(zip(ids, values, strict=True)):
        done = store.done(rid, v)
        if done is None:
            todo.append(i)
            earlier = store.read(rid)  # an earlier error stays in the table until rerun
            records.append(earlier if earlier is not None and earlier["config"] == v else None)
        else:
            records.append(done)
    report = SweepReport(total=len(configs), skipped=len(configs) - len(todo))
    task = functools.partial(execute_run, memory_budget_gb=memory_budget_gb)  # picklable
    tasks = run_tasks(task, [values[i] for i in todo], backend=backend, workers=workers,
                      scheduler=scheduler)
    from tqdm.auto import tqdm

    bar = tqdm(total=len(configs), initial=report.skipped, desc="sweep", unit="run",
               disable=not progress, dynamic_ncols=True)
    try:
        for finished in tasks:
            i = todo[finished.index]
            record = (finished.value if finished.error is None
                      else error_record(values[i], finished.error))
            store.write(ids[i], record)
            records[i] = record
            report.new += 1
            if record["outcome"] == "error":
                report.errors.append((ids[i], record["error"]))
            bar.update(1)
            bar.set_postfix(errors=len(report.errors), refresh=False)
    except KeyboardInterrupt:
        report.interrupted = True
    finally:
        tasks.close()
        bar.close()
    report.rows = [csv_row(rid, rec) for rid, rec in zip(ids, records, strict=True) if rec is not None]
    if report.rows:
        report.csv_written = store.write_csv(report.rows)
    return report
