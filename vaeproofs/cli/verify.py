"""``vaeproofs verify``: decide every claim from computed evidence; print, JSON, report.

Exit codes (:mod:`vaeproofs.cli.exit_codes`): 0 when every claim was decided
(``holds`` or ``fails``); 1 when the evidence for some claim contradicts itself
(``conflict``); 3 when some claim could not be decided (an evidence computation failed
or gave no decisive result); 2 for bad arguments, found before any computation
starts (every output path is validated first); 4 for an internal error; 130 when
interrupted.
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from vaeproofs.cli.exit_codes import EXIT_CONFLICT, EXIT_OK, EXIT_UNDECIDED
from vaeproofs.errors import InvalidArgumentError
from vaeproofs.outputs import check_output_file, plan_outputs, write_atomic, write_json

if TYPE_CHECKING:
    from vaeproofs.claims.claim import ClaimResult

#: The files ``--report DIR`` writes, relative to DIR (figures go to DIR/figures/).
REPORT_FILES = ("report.md", "report.html")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register the ``verify`` sub-command."""
    p = subparsers.add_parser(
        "verify",
        help="decide every claim from computed evidence and write a report",
        description="Decide every claim of the VAE well-posedness discussion from symbolic, "
        "high-precision and numeric evidence. Prints a table; optionally writes JSON and "
        "a Markdown + self-contained HTML report.",
    )
    p.add_argument("--quick", action="store_true",
                   help="reduced settings (shorter training, fewer parameter values): "
                   "about 13 s on an idle 2-core CPU once warm, against about 40 s for "
                   "the full run (measured times: README)")
    p.add_argument("--only", metavar="ID", action="append",
                   help="decide only this claim (repeatable); ids as in docs/theory.md sections 2 and 6")
    p.add_argument("--json", metavar="PATH", type=Path,
                   help="write the verdicts and evidence as JSON to PATH")
    p.add_argument("--report", metavar="DIR", type=Path,
                   help="write DIR/report.md, DIR/report.html and DIR/figures/*.png")
    p.add_argument("--workers", metavar="N", type=int, default=None,
                   help="processes for the independent computations (default: the cores, at most "
                   "8). Results are identical for every N")
    p.add_argument("--no-progress", action="store_true", help="don't show progress bars")
    p.set_defaults(run=run)


def _versions() -> dict[str, str]:
    import mpmath
    import numpy
    import sympy

    import vaeproofs

    versions = {"python": platform.python_version(), "vaeproofs": vaeproofs.__version__,
                "sympy": sympy.__version__, "mpmath": mpmath.__version__,
                "numpy": numpy.__version__}
    if "torch" in sys.modules:
        versions["torch"] = sys.modules["torch"].__version__
    return versions


def _workers(requested: int | None) -> int:
    """The number of worker processes: 1..cpu count; by default the cores, at most 8.

    Parallel is the faster default on 2 cores for both runs (``python -m
    benchmarks.bench_verify``; numbers in benchmarks/README.md).
    """
    cores = os.cpu_count() or 1
    if requested is None:
        return min(cores, 8)
    if isinstance(requested, bool) or not 1 <= requested <= cores:
        raise InvalidArgumentError("--workers", f"must be an integer from 1 to {cores} (the cores of "
                                   f"this machine), got {requested}")
    return requested


def _plan(args: argparse.Namespace) -> dict[str, Path]:
    """Validate every output before any computation (one line and exit 2 on failure)."""
    planned = plan_outputs(files={"--json": args.json}, dirs={"--report": args.report})
    report = planned.get("--report")
    if report is not None and report.exists():
        for name in REPORT_FILES:
            check_output_file("--report", report / name)
        figures = report / "figures"
        if figures.exists() and not figures.is_dir():
            raise InvalidArgumentError("--report", f"{figures} exists and is not a folder")
        if "--json" in planned and planned["--json"] in {report / n for n in REPORT_FILES}:
            raise InvalidArgumentError("--json", "must differ from the report files written to --report")
    return planned


_SHORT = {"symbolic proof": "proof", "high-precision construction": "construction",
          "numeric check": "numeric", "training run": "training"}


def _counts(counts: tuple[int, int, int]) -> str:
    pro, con, info = counts
    text = f"{pro} for, {con} against"
    return text + (f", {info} info" if info else "")


def _evidence_summary(result: ClaimResult) -> str:
    """How the verdict was decided, then the votes in this setting and the other settings.

    Evidence under another setting never votes: "against" there does not contradict a
    verdict here (docs/theory.md, the verdict rule).
    """
    how = " + ".join(_SHORT.get(m, m) for m in result.decided_by) or "nothing voted"
    counts = result.tally
    text = (f"by {how}; this setting: {_counts(counts['this setting'])}; "
            f"other settings: {_counts(counts['other settings'])}")
    if result.errors:
        text += f"; {len(result.errors)} error(s)"
    return text


def run(args: argparse.Namespace) -> int:
    """Decide the claims, print the table, write the outputs; return the exit code."""
    planned = _plan(args)
    if _workers(args.workers) > 1 and not args.only:  # refuses a bad --workers before any work
        # The pool's server imports its layers while this process imports its own, below.
        from vaeproofs import forkserver

        forkserver.start()
    from vaeproofs.claims import CLAIMS, EvidenceContext, evaluate_claim
    from vaeproofs.report import ReportDocument, render_html, render_markdown
    from vaeproofs.report.figures import build_figures

    claims = list(CLAIMS)
    if args.only:
        known = {c.id for c in claims}
        for cid in args.only:
            if cid not in known:
                raise InvalidArgumentError(
                    "--only", f"unknown claim id {cid!r}; valid ids: {', '.join(sorted(known))}")
        claims = [c for c in claims if c.id in args.only]

    workers = _workers(args.workers)
    progress = not args.no_progress and sys.stderr.isatty()
    context = EvidenceContext(quick=args.quick, progress=progress)
    start = time.perf_counter()
    if workers > 1 and not args.only:
        def on_done(done: int, total: int) -> None:
            if progress:
                print(f"\r[{done}/{total}] shared computations on {workers} processes",
                      end="" if done < total else "\n", file=sys.stderr, flush=True)

        context.prefetch(workers, on_done)
    width = max(len(c.id) for c in claims)
    print(f"{'claim':<{width}}  {'verdict':<9}  {'own':>6}  how it was decided, and the evidence")
    results = []
    live = sys.stderr.isatty()
    for i, claim in enumerate(claims, 1):
        status = f"[{i}/{len(claims)}] deciding {claim.id} ..."
        print(f"\r{status}" if live else status, end="" if live else "\n", file=sys.stderr,
              flush=True)
        result = evaluate_claim(claim, context)
        results.append(result)
        if live:
            print("\r\033[K", end="", file=sys.stderr, flush=True)
        print(f"{result.id:<{width}}  {result.verdict:<9}  {result.elapsed_s:5.1f}s  "
              f"{_evidence_summary(result)}", flush=True)
        for err in result.errors:
            print(f"    error: {err}", flush=True)

    doc = ReportDocument(results=results, derivations=context.derivations(),
                         elapsed_s=time.perf_counter() - start, versions=_versions(),
                         quick=args.quick, timings=dict(context.timings),
                         command=shlex.join(["vaeproofs", *getattr(args, "argv", ["verify"])]))
    # The verdicts are written first, so a failure while drawing cannot lose them.
    if "--json" in planned:
        write_json(planned["--json"], doc.to_json())
    if "--report" in planned:
        report = planned["--report"]
        doc.figures, doc.captions = build_figures(context, results)
        (report / "figures").mkdir(parents=True, exist_ok=True)
        for name, png in doc.figures.items():
            write_atomic(check_output_file("--report", report / "figures" / f"{name}.png"), png)
        write_atomic(report / "report.md", render_markdown(doc))
        write_atomic(report / "report.html", render_html(doc))

    n_decided = sum(r.decided for r in results)
    shared = sorted(context.timings.items(), key=lambda kv: -kv[1])
    own, common = sum(r.elapsed_s for r in results), sum(context.timings.values())
    print("\nshared computations (timed once each, not in any claim's own time): "
          + ", ".join(f"{k} {v:.1f} s" for k, v in shared if v >= 0.05))
    print(f"compute: claims' own {own:.1f} s + shared {common:.1f} s = {own + common:.1f} s, in "
          f"{doc.elapsed_s:.1f} s of wall time on {workers if not args.only else 1} process(es)")
    print(f"{n_decided}/{len(results)} claims decided in {doc.elapsed_s:.1f} s: "
          f"{sum(r.verdict == 'holds' for r in results)} hold, "
          f"{sum(r.verdict == 'fails' for r in results)} fail.")
    if args.report is not None:
        print(f"report: {args.report / 'report.html'}")
    if any(r.verdict == "conflict" for r in results):
        for r in results:
            if r.verdict == "conflict":
                print(f"vaeproofs verify: evidence for {r.id} contradicts itself: {r.conditions}",
                      file=sys.stderr)
        return EXIT_CONFLICT
    return EXIT_OK if n_decided == len(results) else EXIT_UNDECIDED
