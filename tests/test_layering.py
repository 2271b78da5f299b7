"""The layers keep to themselves: sympy/mpmath code never loads torch, torch code never
loads sympy at import.

Two kinds of check.  A static one over the source: every ``import`` statement anywhere in
a module (top level or inside a function: an over-approximation of what running it can
load), and every string naming a ``vaeproofs`` module (``importlib`` targets such as the
derivation catalog's ``"vaeproofs.symbolic.ppca:derive_ppca"``), followed transitively
through the package, importing a module also running its parents' ``__init__``.  If no
path reaches torch, no call can load it (short of an import built from pieces at run time).
And cheap runtime checks in a fresh interpreter, so that earlier imports in the test
session cannot hide a violation.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

PACKAGE_ROOT = Path(__file__).resolve().parents[1]
_MODULE_STRING = re.compile(r"^(\w+(?:\.\w+)+)(?::\w+)?$")


def _module_file(name: str, root: Path) -> Path | None:
    base = root.joinpath(*name.split("."))
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path
    return None


def _imports_of(path: Path, name: str, package: str) -> set[str]:
    """Every module ``path`` (module ``name``) may import: absolute names, relative ones
    resolved, ``from X import y`` also as ``X.y`` (y may be a submodule)."""
    is_package = path.name == "__init__.py"
    here = name if is_package else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = here.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1])
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module or ""
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            match = _MODULE_STRING.match(node.value)
            if match and match.group(1).split(".")[0] == package:
                found.add(match.group(1))
    return found


def reachable(roots: list[str], root: Path = PACKAGE_ROOT, package: str = "vaeproofs"
              ) -> tuple[set[str], set[str]]:
    """The package modules reachable from ``roots`` and the top-level names of the
    third-party modules they may import."""
    seen: set[str] = set()
    external: set[str] = set()
    todo = list(roots)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        if name.split(".")[0] != package:
            external.add(name.split(".")[0])
            continue
        path = _module_file(name, root)
        if path is None:  # ``from pkg import function``: not a module
            continue
        seen.add(name)
        parts = name.split(".")
        todo += [".".join(parts[:i]) for i in range(1, len(parts))]  # the parents' __init__
        todo += sorted(_imports_of(path, name, package))
    return seen, external


def _symbolic_roots() -> list[str]:
    return ["vaeproofs.symbolic.catalog", "vaeproofs.linear",
            *(f"vaeproofs.symbolic.{p.stem}" for p in (PACKAGE_ROOT / "vaeproofs/symbolic").glob("*.py"))]


def test_symbolic_layer_and_numpy_api_never_reach_torch() -> None:
    modules, external = reachable(_symbolic_roots())
    # the walk really covers the catalog's derivations, reached through its strings
    assert {"vaeproofs.symbolic.ppca", "vaeproofs.symbolic.population_beta"} <= modules
    assert "sympy" in external and "torch" not in external


def test_constructions_math_never_reaches_torch_at_import() -> None:
    """The mpmath side of the constructions imports no torch at module level (their torch
    networks are imported inside the methods that build them)."""
    loaded = _modules_after("import vaeproofs.constructions as c\n"
                            "c.get('memorising_elbo').objective(1e-50)")
    assert "mpmath" in loaded and "torch" not in loaded


def test_the_static_walk_finds_a_forbidden_import_anywhere(tmp_path: Path) -> None:
    """The check can fail: a function-level import, a relative import and an importlib
    string each make torch reachable in a synthetic package."""
    pkg = tmp_path / "toy"
    (pkg / "sym").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sym" / "__init__.py").write_text("")
    (pkg / "sym" / "clean.py").write_text("import sympy\n")
    (pkg / "heavy.py").write_text("def f():\n    import torch.nn\n")
    cases = {
        "in_function.py": "def g():\n    from toy import heavy\n",
        "relative.py": "from .. import heavy\n",
        "by_string.py": "TARGET = 'toy.heavy:f'\n",
    }
    assert "torch" not in reachable(["toy.sym.clean"], tmp_path, "toy")[1]
    for filename, source in cases.items():
        (pkg / "sym" / filename).write_text(source)
        modules, external = reachable([f"toy.sym.{Path(filename).stem}"], tmp_path, "toy")
        assert "toy.heavy" in modules and "torch" in external, filename


def _modules_after(code: str) -> set[str]:
    out = subprocess.run([sys.executable, "-c", code + "\nimport sys\nprint(' '.join(sys.modules))"],
                         capture_output=True, text=True, check=True, timeout=300)
    return {name.split(".")[0] for name in out.stdout.split()}


def test_a_derivation_and_the_numpy_api_run_without_torch() -> None:
    """The runtime counterpart of the static walk, on one cheap derivation."""
    loaded = _modules_after("from vaeproofs.symbolic import catalog\n"
                            "catalog.derive('bernoulli-cap')\n"
                            "import vaeproofs.linear")
    assert "sympy" in loaded and "torch" not in loaded


def test_numeric_layer_does_not_load_sympy_at_import() -> None:
    loaded = _modules_after("import vaeproofs.numeric, vaeproofs.numeric.linear, vaeproofs.testing")
    assert "torch" in loaded and "sympy" not in loaded
