"""JSON Schemas (draft 2020-12) of every JSON document vaeproofs writes.

One file per document, shipped inside the package: ``verify.schema.json``
(``vaeproofs verify --json``), ``train.schema.json`` (``vaeproofs train --json``),
``audit.schema.json`` and ``sweep-run.schema.json`` when those commands exist.
:func:`schema_path` gives the file, :func:`load_schema` the parsed schema; the test
suite validates real outputs against them with ``jsonschema``.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

from vaeproofs.errors import InvalidArgumentError

__all__ = ["load_schema", "schema_names", "schema_path"]


def schema_names() -> list[str]:
    """The documents that have a schema (e.g. ``["train", "verify"]``)."""
    folder = resources.files(__name__)
    return sorted(p.name.removesuffix(".schema.json") for p in folder.iterdir()
                  if p.name.endswith(".schema.json"))


def schema_path(name: str) -> Path:
    """The installed schema file of document ``name``."""
    if name not in schema_names():
        raise InvalidArgumentError("name", f"must be one of {schema_names()}, got {name!r}")
    return Path(str(resources.files(__name__) / f"{name}.schema.json"))


def load_schema(name: str) -> dict[str, Any]:
    """The parsed JSON Schema of document ``name``."""
    return json.loads(schema_path(name).read_text(encoding="utf-8"))
