"""Shared command line of the derivation scripts in ``derivations/``.

Each script is a thin wrapper::

    from _runner import run_derivations
    raise SystemExit(run_derivations(["linear-elbo"]))

and runs as ``python derivations/NAME.py [--out DIR] [--quiet]``.  For every
catalog name it is given, the runner calls
:func:`vaeproofs.symbolic.catalog.derive`, prints the step-by-step derivation
(:meth:`Derivation.to_text`) followed by its computed ``facts``, and writes
``DIR/<derivation name>.md`` (:meth:`Derivation.to_markdown`, LaTeX in ``$$``).
One Markdown file per derivation, named by its catalog name (e.g.
``linear-elbo.md``, ``ppca.md``, ``ppca-degenerate.md``), so a script that covers
several derivations writes several files.

``DIR`` defaults to ``derivations/out`` next to this file (created if missing).

Exit codes: 0 on success; 2 when a :class:`~vaeproofs.errors.VaeproofsError` is
raised (e.g. an unknown name), with a one-line message on stderr.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from vaeproofs.errors import VaeproofsError
from vaeproofs.symbolic.catalog import derive

__all__ = ["DEFAULT_OUT", "run_derivations"]

DEFAULT_OUT = Path(__file__).resolve().parent / "out"


def _parser(names: Sequence[str]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=f"Run the derivation(s) {', '.join(names)}: print them step by step and "
                    "write each as Markdown with LaTeX to DIR/<name>.md.")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, metavar="DIR",
                        help=f"output folder for the Markdown files (default: {DEFAULT_OUT})")
    parser.add_argument("--quiet", action="store_true",
                        help="do not print the derivations, only the files written")
    return parser


def run_derivations(names: list[str], argv: Sequence[str] | None = None) -> int:
    """Run the catalog derivations ``names`` with command-line arguments ``argv``.

    ``argv`` defaults to ``sys.argv[1:]``.  Returns the process exit code.
    """
    args = _parser(names).parse_args(argv)
    try:
        args.out.mkdir(parents=True, exist_ok=True)
        for name in names:
            start = time.perf_counter()
            derivation = derive(name)
            elapsed = time.perf_counter() - start
            path = args.out / f"{name}.md"
            path.write_text(derivation.to_markdown(), encoding="utf-8")
            if not args.quiet:
                print(derivation.to_text())
                for key, value in derivation.facts.items():
                    print(f"  fact {key} = {value}")
                print()
            print(f"wrote {path} ({name}: derived in {elapsed:.2f} s)")
    except VaeproofsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0
