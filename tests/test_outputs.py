"""Output paths: validated before work, never replacing a device, a FIFO, a folder or an input."""

from __future__ import annotations

import json
import math
import os
import stat
from pathlib import Path

import pytest

from vaeproofs.errors import InvalidArgumentError
from vaeproofs.outputs import plan_outputs, to_strict_json, write_atomic, write_json


def test_refuses_a_device_a_fifo_and_a_directory(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    for bad, what in [("/dev/null", "device"), (fifo, "FIFO"), (tmp_path, "directory")]:
        with pytest.raises(InvalidArgumentError, match=rf"^--json: .*{what}"):
            plan_outputs(files={"--json": bad})
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)  # untouched


def test_refuses_empty_missing_folder_and_wrong_suffix(tmp_path: Path) -> None:
    with pytest.raises(InvalidArgumentError, match=r"^--json: must be a file path"):
        plan_outputs(files={"--json": ""})
    with pytest.raises(InvalidArgumentError, match=r"^--json: the folder"):
        plan_outputs(files={"--json": tmp_path / "nope" / "o.json"})
    (tmp_path / "afile").write_text("x")
    with pytest.raises(InvalidArgumentError, match=r"^--json: the folder"):
        plan_outputs(files={"--json": tmp_path / "afile" / "v.json"})
    with pytest.raises(InvalidArgumentError, match=r"^--plot: must end in one of"):
        plan_outputs(files={"--plot": tmp_path / "p.gif"}, suffixes={"--plot": (".png", ".svg")})
    with pytest.raises(InvalidArgumentError, match=r"^--report: must be a folder"):
        plan_outputs(dirs={"--report": tmp_path / "afile"})


def test_refuses_an_output_equal_to_an_input_or_another_output(tmp_path: Path) -> None:
    data = tmp_path / "x.npy"
    data.write_bytes(b"data")
    (tmp_path / "hard.npy").hardlink_to(data)
    with pytest.raises(InvalidArgumentError, match=r"^--json: must not be the input file given to --data"):
        plan_outputs(files={"--json": data}, inputs={"--data": data})
    with pytest.raises(InvalidArgumentError, match=r"^--json: must not be the input"):
        plan_outputs(files={"--json": tmp_path / "hard.npy"}, inputs={"--data": data})
    with pytest.raises(InvalidArgumentError, match=r"^--json: must differ from the path given to --plot"):
        plan_outputs(files={"--plot": tmp_path / "o.json", "--json": tmp_path / "o.json"})
    assert data.read_bytes() == b"data"


def test_a_symlink_is_followed_and_kept(tmp_path: Path) -> None:
    real = tmp_path / "real.json"
    real.write_text("old")
    link = tmp_path / "link.json"
    link.symlink_to(real)
    planned = plan_outputs(files={"--json": link})
    assert planned["--json"] == real.resolve()
    write_atomic(link, "new")
    assert link.is_symlink() and real.read_text() == "new"
    assert stat.S_IMODE(os.stat(real).st_mode) == 0o644


def test_strict_json_nulls_non_finite_values_with_a_reason(tmp_path: Path) -> None:
    doc = {"a": 1.0, "b": [math.inf, 2], "c": {"d": math.nan, "e": -math.inf}, "f": (1, 2)}
    out = to_strict_json(doc)
    assert out["b"] == [None, 2] and out["c"] == {"d": None, "e": None} and out["f"] == [1, 2]
    assert out["non_finite"] == [{"path": "b[0]", "value": "+inf"}, {"path": "c.d", "value": "nan"},
                                 {"path": "c.e", "value": "-inf"}]
    write_json(tmp_path / "o.json", doc)
    assert json.loads((tmp_path / "o.json").read_text())["non_finite"][0]["value"] == "+inf"
