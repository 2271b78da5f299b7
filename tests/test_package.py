"""Packaging: one version (pyproject.toml), --version, py.typed, the license, the strategies extra."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

import vaeproofs
from vaeproofs.cli import main

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_version_has_one_source() -> None:
    # pyproject.toml holds the version; the package reads it from the installed metadata.
    assert vaeproofs.__version__ == version("vaeproofs") == PYPROJECT["project"]["version"]


def test_cli_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"vaeproofs {vaeproofs.__version__}"


def test_python_m_version_in_a_fresh_process() -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])}
    proc = subprocess.run([sys.executable, "-m", "vaeproofs", "--version"], capture_output=True,
                          text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"vaeproofs {vaeproofs.__version__}"
    assert proc.stderr == ""


def test_py_typed_and_license_ship() -> None:
    assert (ROOT / "vaeproofs" / "py.typed").is_file()
    assert "py.typed" in PYPROJECT["tool"]["setuptools"]["package-data"]["vaeproofs"]
    license_text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert license_text.startswith("MIT License") and "vaeproofs developers" in license_text
    assert "License :: OSI Approved :: MIT License" in PYPROJECT["project"]["classifiers"]


def test_strategies_extra_is_hypothesis_only() -> None:
    extra = PYPROJECT["project"]["optional-dependencies"]["strategies"]
    assert [req.split(">")[0].split("=")[0] for req in extra] == ["hypothesis"]


def test_strategies_without_hypothesis_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    # Simulate an environment without hypothesis: a None entry makes `import hypothesis` fail.
    for name in [m for m in sys.modules if m == "hypothesis" or m.startswith("hypothesis.")]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.delitem(sys.modules, "vaeproofs.strategies", raising=False)
    with pytest.raises(ImportError) as exc:
        importlib.import_module("vaeproofs.strategies")
    assert str(exc.value) == ('vaeproofs.strategies needs hypothesis, which is not installed: '
                              'pip install "vaeproofs[strategies]"')
    assert exc.value.name == "hypothesis"
    assert isinstance(exc.value.__cause__, ImportError)
