"""``vaeproofs derive NAME``: print a derivation step by step; ``--list`` lists them."""

from __future__ import annotations

import argparse
from pathlib import Path

from vaeproofs.symbolic import catalog


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register the ``derive`` sub-command."""
    p = subparsers.add_parser(
        "derive",
        help="print a symbolic derivation step by step",
        description="Print one of the toolkit's sympy derivations step by step. "
        "Use --list to see the names.",
    )
    p.add_argument("name", nargs="?", help="the derivation's name (see --list)")
    p.add_argument("--list", action="store_true", help="list the derivations and exit")
    p.add_argument("--markdown", type=Path, metavar="PATH",
                   help="also write the derivation as Markdown with LaTeX to PATH")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Print the derivation (or the list); return the exit code."""
    if args.list or args.name is None:
        width = max(len(n) for n in catalog.CATALOG)
        for name, (_, description) in catalog.CATALOG.items():
            print(f"{name:<{width}}  {description}")
        return 0
    derivation = catalog.derive(args.name)
    print(derivation.to_text(), end="")
    if args.markdown is not None:
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        args.markdown.write_text(derivation.to_markdown(), encoding="utf-8")
    return 0
