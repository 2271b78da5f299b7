"""The derivation scripts run as programs and write Markdown with LaTeX.

Each script runs in a subprocess with ``--out tmp_path --quiet``; measured wall times
on the 2-core CI machine: linear_elbo.py ~5-10 s, ppca.py ~3-4 s (see the report).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
@pytest.mark.parametrize(("script", "names"), [
    ("linear_elbo.py", ["linear-elbo"]),
    ("ppca.py", ["ppca", "ppca-degenerate"]),
])
def test_script_writes_markdown(tmp_path: Path, script: str, names: list[str]) -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "derivations" / script), "--out", str(tmp_path), "--quiet"],
        capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    for name in names:
        text = (tmp_path / f"{name}.md").read_text(encoding="utf-8")
        assert text.startswith("# ")
        assert "$$" in text and "\\" in text  # display LaTeX from sympy's printer
        assert f"{name}.md" in proc.stdout


def test_runner_rejects_unknown_names(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                      ) -> None:
    sys.path.insert(0, str(ROOT / "derivations"))
    try:
        from _runner import run_derivations
    finally:
        sys.path.remove(str(ROOT / "derivations"))
    assert run_derivations(["no-such-derivation"], ["--out", str(tmp_path)]) == 2
    assert "unknown derivation" in capsys.readouterr().err
