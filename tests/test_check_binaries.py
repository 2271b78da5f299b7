"""The CI check that keeps large and binary files out of git (.ci/check_binaries.py)."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("check_binaries", ROOT / ".ci" / "check_binaries.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


check = _load()


def _repo(tmp_path: Path, files: dict[str, bytes]) -> Path:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    for rel, data in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(data)
    subprocess.run(["git", "-C", str(tmp_path), "add", "."], check=True)
    return tmp_path


def test_flags_large_and_binary_files_with_their_size(tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    root = _repo(tmp_path, {
        "ok.py": b"print('hi')\n",
        "big.txt": b"a" * (513 * 1024),                    # text, but over 512 KiB
        "tool.whl": b"PK\x03\x04\x00\x00" + b"x" * 100,      # binary outside the allow-list
        "docs/figures/f.png": b"\x89PNG\r\n\x1a\n\x00\x00",  # binary, allowed (docs figure)
        "untracked.bin": b"\x00",
    })
    (root / "untracked.bin").unlink()  # a file deleted in the work tree is skipped
    found = {rel: (size, reason) for rel, size, reason in check.offenders(
        root, check.tracked_files(root), max_bytes=512 * 1024)}
    assert set(found) == {"big.txt", "tool.whl"}
    assert found["big.txt"] == (513 * 1024, "larger than 512 KiB")
    assert found["tool.whl"][1].startswith("binary content outside the allow-list")
    assert check.main(["--root", str(root)]) == 1
    err = capsys.readouterr().err
    assert "big.txt: 513.0 KiB, larger than 512 KiB" in err
    assert "tool.whl: 0.1 KiB, binary content" in err


def test_a_clean_repository_passes(tmp_path: Path) -> None:
    root = _repo(tmp_path, {"a.py": b"x = 1\n", "docs/f.png": b"\x89PNG\x00"})
    assert check.main(["--root", str(root)]) == 0
    # A limit below the text file's size fails it.
    assert check.main(["--root", str(root), "--max-kib", "0"]) == 1


@pytest.mark.skipif(not (ROOT / ".git").exists(), reason="not a git checkout")
def test_this_repository_passes() -> None:
    assert check.main(["--root", str(ROOT)]) == 0
