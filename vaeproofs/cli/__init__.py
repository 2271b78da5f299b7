"""The ``vaeproofs`` command line.

Each sub-command lives in its own module of this package and provides
``add_parser(subparsers)`` and ``run(args) -> int``.  Exit codes are those of
:mod:`vaeproofs.cli.exit_codes`: bad input ends with one line on standard error and
exit code 2 (the argparse convention), an unexpected exception with one line saying
it is a bug and exit code 4, Ctrl-C with one line and exit code 130; never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from vaeproofs import __version__
from vaeproofs.cli.exit_codes import EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_USAGE
from vaeproofs.errors import InvalidArgumentError

# Sub-command name -> module (imported lazily so `vaeproofs derive` never loads torch).
_COMMANDS = {
    "verify": "vaeproofs.cli.verify",
    "train": "vaeproofs.cli.train",
    "derive": "vaeproofs.cli.derive",
    "audit": "vaeproofs.cli.audit",
    "sweep": "vaeproofs.cli.sweep",
}


class _OneLineParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line: ``vaeproofs: error: ...``."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def build_parser(commands: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """Build the top-level parser with the given sub-commands (default, ``None``: all)."""
    parser = _OneLineParser(
        prog="vaeproofs",
        description="Decide, from computed evidence, whether the Gaussian VAE objective "
        "with a learned decoder variance is well-posed.",
    )
    parser.add_argument("--version", action="version", version=f"vaeproofs {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_OneLineParser)
    sub.required = True
    for name in _COMMANDS if commands is None else commands:
        module = importlib.import_module(_COMMANDS[name])
        module.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``vaeproofs`` script; returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    # Build only the parser that is needed, so `derive`, `--help` and `--version` stay light.
    chosen: list[str] | None = None
    if argv and argv[0] in _COMMANDS:
        chosen = [argv[0]]
    elif argv == ["--version"]:
        chosen = []
    parser = build_parser(chosen)
    args = parser.parse_args(argv)
    args.argv = argv  # recorded by outputs that say how they were made
    try:
        return int(args.run(args))
    except InvalidArgumentError as exc:
        print(f"vaeproofs {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(f"vaeproofs {args.command}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:  # one line, never a traceback that reads like a verdict
        message = " ".join(str(exc).split())[:300]
        print(f"vaeproofs {args.command}: internal error (a bug in vaeproofs, please report it): "
              f"{type(exc).__name__}: {message}", file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
