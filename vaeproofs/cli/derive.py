"""``vaeproofs derive NAME``: print a derivation step by step; ``--list`` lists them.

The one implementation behind both ``vaeproofs derive NAME [--markdown FILE] [--out DIR]``
and the scripts ``python derivations/NAME.py [--out DIR] [--quiet]`` (each script calls
:func:`script_main`, which runs this sub-command).  For the derivation ``NAME`` of
:mod:`vaeproofs.symbolic.catalog` it prints the steps (:meth:`Derivation.to_text`) and
the computed facts (one line per field of the derivation's typed facts record), and
writes Markdown with LaTeX (:meth:`Derivation.to_markdown`):

- ``--markdown FILE``: to ``FILE``;
- ``--out DIR``: to ``DIR/NAME.md`` (``DIR`` is created if its parent exists).

Every output path is validated before the derivation runs (:func:`vaeproofs.outputs.plan_outputs`:
a folder given to ``--markdown`` is one line on stderr and exit code 2) and each file is
written atomically (:func:`vaeproofs.outputs.write_atomic`).  Exit codes are those of
:mod:`vaeproofs.cli`: 0 success, 2 bad arguments (an unknown name, a bad path), 4 a bug.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

__all__ = ["add_parser", "run", "script_main"]


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register the ``derive`` sub-command."""
    p = subparsers.add_parser(
        "derive",
        help="print a symbolic derivation step by step",
        description="Print one of the toolkit's sympy derivations step by step, with its "
        "computed facts. Use --list to see the names.",
    )
    p.add_argument("name", nargs="?", help="the derivation's name (see --list)")
    p.add_argument("--list", action="store_true", help="list the derivations and exit")
    p.add_argument("--markdown", type=Path, metavar="FILE",
                   help="also write the derivation as Markdown with LaTeX to FILE")
    p.add_argument("--out", type=Path, metavar="DIR",
                   help="also write the derivation as Markdown with LaTeX to DIR/NAME.md")
    p.add_argument("--quiet", action="store_true",
                   help="do not print the derivation, only the files written")
    p.set_defaults(run=run)


def _plan(args: argparse.Namespace) -> list[Path]:
    """Validate every output before any work; return the files to write."""
    from vaeproofs.errors import InvalidArgumentError
    from vaeproofs.outputs import check_output_file, plan_outputs

    planned = plan_outputs(files={"--markdown": args.markdown}, dirs={"--out": args.out})
    targets = [planned["--markdown"]] if "--markdown" in planned else []
    if "--out" in planned:
        folder = planned["--out"]
        folder.mkdir(exist_ok=True)  # documented: --out DIR is created if missing
        target = check_output_file("--out", folder / f"{args.name}.md")
        if targets and target == targets[0]:
            raise InvalidArgumentError("--out", f"must not name the same file as --markdown ({target})")
        targets.append(target)
    return targets


def run(args: argparse.Namespace) -> int:
    """Print the derivation (or the list) and write its Markdown; return the exit code."""
    from vaeproofs.errors import InvalidArgumentError
    from vaeproofs.symbolic import catalog

    if args.list or args.name is None:
        width = max(len(n) for n in catalog.CATALOG)
        for name, (_, description) in catalog.CATALOG.items():
            print(f"{name:<{width}}  {description}")
        return 0
    if args.name not in catalog.CATALOG:
        raise InvalidArgumentError(
            "name", f"unknown derivation {args.name!r}; valid names: {', '.join(catalog.CATALOG)}")
    targets = _plan(args)
    start = time.perf_counter()
    derivation = catalog.derive(args.name)
    elapsed = time.perf_counter() - start
    if not args.quiet:
        print(derivation.to_text(), end="")
        print("\nFacts (computed):")
        for line in derivation.fact_lines():
            print(f"  {line}")
    if targets:
        from vaeproofs.outputs import write_atomic

        markdown = derivation.to_markdown()
        for target in targets:
            write_atomic(target, markdown)
            print(f"wrote {target} ({args.name}: derived in {elapsed:.2f} s)")
    return 0


def script_main(name: str, default_out: Path, argv: Sequence[str] | None = None) -> int:
    """Entry point of ``derivations/NAME.py``: ``vaeproofs derive NAME --out DIR [--quiet]``.

    ``default_out`` is the folder written when ``--out`` is not given; ``argv`` defaults
    to ``sys.argv[1:]``.  Returns the process exit code.
    """
    from vaeproofs.cli import main

    parser = argparse.ArgumentParser(
        prog=f"derivations/{name.replace('-', '_')}.py",
        description=f"Run the derivation {name!r}: print it step by step with its facts and "
                    "write it as Markdown with LaTeX to DIR/" + f"{name}.md.")
    parser.add_argument("--out", type=Path, default=default_out, metavar="DIR",
                        help=f"output folder (default: {default_out})")
    parser.add_argument("--quiet", action="store_true",
                        help="do not print the derivation, only the file written")
    args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    return main(["derive", name, "--out", str(args.out), *(["--quiet"] if args.quiet else [])])
