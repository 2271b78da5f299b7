"""Output files that never clobber what the user had.

Every command validates *all* of its output paths before any computation starts
(:func:`plan_outputs`), then writes each file atomically (:func:`write_atomic`):
a temporary file in the target's folder, ``fsync``, then :func:`os.replace`, so a
reader never sees a half-written file and an interrupted write leaves the old file.

Policy (documented in the README):

- a file output must be absent or an existing *regular* file; a directory, device,
  FIFO or socket is refused (``--json /dev/full`` is an error, not a replaced device);
- a symbolic link is followed: the file it resolves to is checked and written, the
  link itself is kept;
- an output may not be the same file as an input or as another output (compared on
  resolved paths and, for existing files, on device and inode, so hard links count);
- the output's folder must exist and be writable; nothing is created except the
  report folders that a command documents (``--report DIR``);
- files are written with mode 0644 (results are meant to be shared).

JSON is strict (:func:`to_strict_json`): a non-finite float becomes ``null`` and the
document lists each one under ``"non_finite"`` with its path and value, so a diverged
run keeps its record and says why a number is missing.
"""

from __future__ import annotations

import json
import math
import os
import stat
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from vaeproofs.errors import InvalidArgumentError

__all__ = ["check_output_dir", "check_output_file", "plan_outputs", "to_strict_json",
           "write_atomic", "write_json"]

PathLike = str | os.PathLike[str]

#: Suffix -> what writes it; used to refuse a figure path whose format we cannot write.
FIGURE_SUFFIXES: tuple[str, ...] = (".png", ".svg", ".pdf")


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def check_output_file(option: str, path: PathLike | None, *, suffixes: tuple[str, ...] | None = None
                      ) -> Path:
    """Return the resolved target of output ``path``, or raise naming ``option``.

    Args:
        option: the argument or command-line option the path came from (e.g. ``"--json"``).
        path: the requested path; a symbolic link is followed to its target.
        suffixes: if given, the allowed (lower-case) file suffixes.

    Raises:
        InvalidArgumentError: empty path; an existing target that is not a regular file;
            a missing or non-writable folder; a suffix outside ``suffixes``.
    """
    if path is None or str(path) == "":
        raise InvalidArgumentError(option, "must be a file path, got an empty path")
    target = Path(os.path.realpath(os.fspath(path)))
    if suffixes is not None and target.suffix.lower() not in suffixes:
        raise InvalidArgumentError(option, f"must end in one of {', '.join(suffixes)}, got {str(path)!r}")
    try:
        st = os.stat(target)
    except (FileNotFoundError, NotADirectoryError):
        st = None
    except OSError as exc:
        raise InvalidArgumentError(option, f"cannot inspect {str(path)!r}: {exc.strerror}") from None
    if st is not None and not stat.S_ISREG(st.st_mode):
        raise InvalidArgumentError(
            option, f"must be a regular file or a new path, got {str(path)!r}, which is {_kind(st.st_mode)}")
    folder = target.parent
    if not folder.is_dir():
        raise InvalidArgumentError(option, f"the folder of {str(path)!r} does not exist or is not a folder")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise InvalidArgumentError(option, f"the folder of {str(path)!r} is not writable")
    return target


def check_output_dir(option: str, path: PathLike | None) -> Path:
    """Return the resolved output folder ``path`` (absent, or an existing writable folder).

    A missing folder is allowed when its parent exists and is writable (the command
    creates it); nothing inside an existing folder is removed.
    """
    if path is None or str(path) == "":
        raise InvalidArgumentError(option, "must be a folder path, got an empty path")
    target = Path(os.path.realpath(os.fspath(path)))
    if target.exists():
        if not target.is_dir():
            raise InvalidArgumentError(option, f"must be a folder, got {str(path)!r}, which is a file")
        if not os.access(target, os.W_OK | os.X_OK):
            raise InvalidArgumentError(option, f"the folder {str(path)!r} is not writable")
        return target
    parent = target.parent
    if not parent.is_dir():
        raise InvalidArgumentError(option, f"the parent of {str(path)!r} does not exist or is not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise InvalidArgumentError(option, f"the parent of {str(path)!r} is not writable")
    return target


def _same(a: Path, b: Path) -> bool:
    if a == b:
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def plan_outputs(*, files: Mapping[str, PathLike | None] | None = None,
                 dirs: Mapping[str, PathLike | None] | None = None,
                 inputs: Mapping[str, PathLike | None] | None = None,
                 suffixes: Mapping[str, tuple[str, ...]] | None = None) -> dict[str, Path]:
    """Validate every output of one command before any work starts.

    Args:
        files: option -> requested output file (``None`` entries are skipped).
        dirs: option -> requested output folder.
        inputs: option -> input file the outputs must not overwrite.
        suffixes: option -> allowed suffixes for that output file.

    Returns:
        option -> resolved output path, for the outputs that were given.

    Raises:
        InvalidArgumentError: naming the first offending option.
    """
    planned: dict[str, Path] = {}
    for option, path in (files or {}).items():
        if path is not None:
            planned[option] = check_output_file(option, path, suffixes=(suffixes or {}).get(option))
    for option, path in (dirs or {}).items():
        if path is not None:
            planned[option] = check_output_dir(option, path)
    resolved_inputs = {opt: Path(os.path.realpath(os.fspath(p)))
                       for opt, p in (inputs or {}).items() if p is not None and str(p) != ""}
    for option, out in planned.items():
        for in_opt, src in resolved_inputs.items():
            if _same(out, src):
                raise InvalidArgumentError(option, f"must not be the input file given to {in_opt} ({src})")
    names = list(planned)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            if _same(planned[a], planned[b]):
                raise InvalidArgumentError(b, f"must differ from the path given to {a} ({planned[a]})")
    return planned


def write_atomic(path: PathLike, data: bytes | str, *, mode: int = 0o644) -> Path:
    """Write ``data`` to ``path`` atomically (temporary file, fsync, rename); return the path.

    ``path`` should come from :func:`check_output_file` (already resolved); a symbolic
    link is resolved again here so the link itself survives.
    """
    target = Path(os.path.realpath(os.fspath(path)))
    payload = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return target


def to_strict_json(doc: Any) -> Any:
    """Return a copy of ``doc`` that strict JSON accepts, listing each non-finite float.

    Every ``nan``, ``inf`` or ``-inf`` becomes ``None``; if any were found and ``doc`` is a
    dict, a key ``"non_finite"`` lists ``{"path": "a.b[2]", "value": "+inf"}`` for each (the
    reason the value is null).  Tuples become lists; numpy scalars become Python numbers.
    """
    found: list[dict[str, str]] = []

    def walk(value: Any, where: str) -> Any:
        if isinstance(value, bool) or value is None or isinstance(value, str | int):
            return value
        if isinstance(value, float):
            if math.isfinite(value):
                return value
            found.append({"path": where, "value": "nan" if math.isnan(value) else
                          ("+inf" if value > 0 else "-inf")})
            return None
        if isinstance(value, Mapping):
            return {str(k): walk(v, f"{where}.{k}" if where else str(k)) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [walk(v, f"{where}[{i}]") for i, v in enumerate(value)]
        if hasattr(value, "item") and callable(value.item):  # numpy / torch scalars
            return walk(value.item(), where)
        if hasattr(value, "to_json") and callable(value.to_json):
            return walk(value.to_json(), where)
        raise TypeError(f"{where or 'document'}: {type(value).__name__} is not JSON-serialisable")

    out = walk(doc, "")
    if found and isinstance(out, dict):
        out["non_finite"] = [*out.get("non_finite", []), *found]
    return out


def write_json(path: PathLike, doc: Any) -> Path:
    """Write ``doc`` as strict, indented JSON (see :func:`to_strict_json`), atomically."""
    text = json.dumps(to_strict_json(doc), indent=1, allow_nan=False) + "\n"
    return write_atomic(path, text)
