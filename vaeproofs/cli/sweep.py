"""``vaeproofs sweep``: run a grid of training runs, locally or on a Dask cluster.

``vaeproofs sweep SPEC.toml --out DIR`` (or ``--preset NAME``) validates the whole spec
(see :mod:`vaeproofs.sweep.spec`) and the output folder before anything runs, then
trains every run not yet recorded in ``DIR/runs/`` and writes ``DIR/results.csv`` and
``DIR/figures/*.png`` (see :mod:`vaeproofs.sweep.store` and :mod:`vaeproofs.sweep.figures`).
Exit codes: 0 every run trained (a diverged run is a recorded outcome); 3 some run
raised (recorded with its error; the others carried on; rerun to retry it); 2 bad
input; 130 Ctrl-C (the finished runs are kept; rerun to resume).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from vaeproofs.cli.exit_codes import EXIT_INTERRUPTED, EXIT_OK, EXIT_UNDECIDED
from vaeproofs.errors import InvalidArgumentError


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1, got {text!r}")
    return value


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``sweep`` sub-command."""
    p = subparsers.add_parser(
        "sweep",
        help="run a grid of training runs (locally or on Dask) into a resumable folder",
        description="Run every combination of a spec's [grid] values with its [fixed] "
        "options (keys: the options of `vaeproofs train` with dashes as underscores). "
        "Each run is recorded in DIR/runs/<id>.json (the `vaeproofs train --json` record; "
        "id: a hash of the full configuration), so rerunning the command skips finished "
        "runs.  DIR/results.csv has one row per run; DIR/figures/ one PNG per metric.",
    )
    p.add_argument("spec", nargs="?", metavar="SPEC.toml", help="the sweep spec (or use --preset)")
    p.add_argument("--preset", metavar="NAME", help="a spec shipped with vaeproofs "
                   "(e.g. 'smoke', 'onset'); instead of SPEC.toml")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder (created if missing; "
                   "its finished runs are reused)")
    p.add_argument("--backend", choices=("local", "dask"), default="local",
                   help="local worker processes (default) or Dask distributed")
    p.add_argument("--workers", type=_positive_int, default=None, metavar="N",
                   help="worker processes of the local backend or of the Dask LocalCluster "
                   "(1 to the number of cores, the default); not with --scheduler")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="with --backend dask: a running scheduler such as tcp://host:8786")
    p.add_argument("--memory-budget-gb", type=float, default=None, metavar="GB",
                   help="as vaeproofs train's: refuse (before anything runs) a run whose "
                   "estimated memory exceeds GB gibibytes (default: train's, 4); every run "
                   "gets this budget")
    p.add_argument("--dry-run", action="store_true",
                   help="validate the spec and list the runs to do, run nothing")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="progress bar (runs done / total) on standard error (default: when "
                   "standard error is a terminal)")
    p.set_defaults(run=run)
    return p


def run(args: argparse.Namespace) -> int:
    """Run ``vaeproofs sweep``; returns the exit code."""
    from vaeproofs.outputs import check_output_dir
    from vaeproofs.sweep.backends import check_backend
    from vaeproofs.sweep.spec import load_preset, load_spec, run_id

    if (args.spec is None) == (args.preset is None):
        raise InvalidArgumentError("SPEC", "give either a spec file or --preset NAME (exactly one)")
    out = check_output_dir("--out", args.out)
    check_backend(args.backend, args.workers, args.scheduler)
    spec = load_spec(args.spec) if args.spec is not None else load_preset(args.preset)
    from vaeproofs.numeric.training.budget import check_budget

    check_budget(args.memory_budget_gb, argument="--memory-budget-gb")
    try:  # every run validated before anything runs
        configs = spec.configs(memory_budget_gb=args.memory_budget_gb)
    except InvalidArgumentError as exc:
        raise InvalidArgumentError(exc.argument, exc.problem.replace(
            "(memory_budget_gb)", "(--memory-budget-gb)")) from None

    from vaeproofs.sweep.store import RunStore

    store = RunStore(out)
    if args.dry_run:
        todo = [c for c in configs if store.done(run_id(c.to_dict()), c.to_dict()) is None]
        print(f"{spec.source}: {len(configs)} runs, {len(configs) - len(todo)} already done, "
              f"{len(todo)} to run")
        return EXIT_OK
    from vaeproofs.sweep.runner import run_sweep

    progress = sys.stderr.isatty() if args.progress is None else args.progress
    report = run_sweep(configs, store, backend=args.backend, workers=args.workers,
                       scheduler=args.scheduler, progress=progress,
                       memory_budget_gb=args.memory_budget_gb)
    figures: list[Any] = []
    if report.rows and (report.csv_written or not store.figures.is_dir()):
        from vaeproofs.sweep.figures import write_figures

        figures = write_figures(report.rows, spec.grid, store.figures)
    diverged = sum(r["outcome"] == "diverged" for r in report.rows)
    print(f"{spec.source}: {report.total} runs: {report.new} new, {report.skipped} already done, "
          f"{diverged} diverged, {len(report.errors)} error(s)")
    for rid, error in report.errors:
        print(f"  run {rid} failed: {error}")
    if report.csv_written:
        print(f"  wrote {store.csv}" + (f" and {len(figures)} figure(s) in {store.figures}" if figures
                                        else ""))
    if report.interrupted:
        print(f"vaeproofs sweep: interrupted; {report.skipped + report.new} of {report.total} runs "
              "are recorded, rerun the same command to resume", file=sys.stderr)
        return EXIT_INTERRUPTED
    return EXIT_UNDECIDED if report.errors else EXIT_OK
