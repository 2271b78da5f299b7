"""The layers keep to themselves: sympy/mpmath code never loads torch, torch code never
loads sympy at import.  Each check runs in a fresh interpreter so earlier imports in the
test session cannot hide a violation."""

from __future__ import annotations

import subprocess
import sys

import pytest


def _modules_after(code: str) -> set[str]:
    out = subprocess.run([sys.executable, "-c", code + "\nimport sys\nprint(' '.join(sys.modules))"],
                         capture_output=True, text=True, check=True, timeout=300)
    return {name.split(".")[0] for name in out.stdout.split()}


@pytest.mark.slow
def test_symbolic_layer_and_numpy_api_never_load_torch() -> None:
    loaded = _modules_after(
        "from vaeproofs.symbolic import catalog\n"
        "for name in catalog.names(): catalog.derive(name)\n"
        "import vaeproofs.linear")
    assert "sympy" in loaded and "torch" not in loaded


def test_constructions_evaluate_in_mpmath_without_torch() -> None:
    loaded = _modules_after(
        "import vaeproofs.constructions as c\n"
        "c.get('memorising_elbo').objective(1e-50)")
    assert "mpmath" in loaded and "torch" not in loaded


def test_numeric_layer_does_not_load_sympy_at_import() -> None:
    loaded = _modules_after("import vaeproofs.numeric, vaeproofs.numeric.linear, vaeproofs.testing")
    assert "torch" in loaded and "sympy" not in loaded
