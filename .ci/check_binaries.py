"""Reject large or binary files tracked by git (CI runs it from the README's test command).

Usage, from the repository root: ``python .ci/check_binaries.py [--max-kib N]``.

A tracked file fails when it is larger than ``--max-kib`` KiB (default 512), or when it
holds binary content (a NUL byte in its first 8 KiB, git's own test) and its path matches
none of :data:`ALLOWED_BINARIES`.  Each offender is printed with its size; exit code 1 if
there is any, 0 otherwise, 2 when git cannot list the files.  Standard library only.
"""

from __future__ import annotations

import argparse
import fnmatch
import subprocess
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

#: Binary files allowed in git (the size limit still applies): the documentation's figures.
ALLOWED_BINARIES: tuple[str, ...] = ("docs/*.png", "docs/*.svg", "docs/*.ico")

DEFAULT_MAX_KIB = 512
_SNIFF_BYTES = 8192


def tracked_files(root: Path) -> list[str]:
    """Paths (relative, POSIX) of the files git tracks under ``root``."""
    out = subprocess.run(["git", "-C", str(root), "ls-files", "-z"], capture_output=True,
                         check=True).stdout
    return [p for p in out.decode("utf-8", "surrogateescape").split("\0") if p]


def is_binary(path: Path) -> bool:
    """True when the first 8 KiB hold a NUL byte (the heuristic git uses)."""
    with path.open("rb") as fh:
        return b"\0" in fh.read(_SNIFF_BYTES)


def offenders(root: Path, paths: Iterable[str], *, max_bytes: int,
              allowed: Sequence[str] = ALLOWED_BINARIES) -> list[tuple[str, int, str]]:
    """``(path, size in bytes, reason)`` for every file too large or binary and not allowed."""
    found = []
    for rel in paths:
        path = root / rel
        if path.is_symlink() or not path.is_file():  # a link, or deleted in the work tree
            continue
        size = path.stat().st_size
        if size > max_bytes:
            found.append((rel, size, f"larger than {max_bytes // 1024} KiB"))
        elif is_binary(path) and not any(fnmatch.fnmatch(rel, pat) for pat in allowed):
            found.append((rel, size, "binary content outside the allow-list "
                                     f"({', '.join(allowed)})"))
    return found


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-kib", type=int, default=DEFAULT_MAX_KIB,
                        help=f"largest file size allowed, KiB (default {DEFAULT_MAX_KIB})")
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parent.parent,
                        help="repository root (default: the one holding this script)")
    args = parser.parse_args(argv)
    try:
        paths = tracked_files(args.root)
    except (OSError, subprocess.CalledProcessError) as exc:
        print(f"check_binaries: cannot list the tracked files with git: {exc}", file=sys.stderr)
        return 2
    bad = offenders(args.root, paths, max_bytes=args.max_kib * 1024)
    for rel, size, reason in bad:
        print(f"check_binaries: {rel}: {size / 1024:.1f} KiB, {reason}", file=sys.stderr)
    if bad:
        print(f"check_binaries: {len(bad)} file(s) must not be in git (see above)", file=sys.stderr)
        return 1
    print(f"check_binaries: {len(paths)} tracked files, none binary (outside the allow-list) "
          f"or over {args.max_kib} KiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
