"""One name per derivation, one implementation behind ``vaeproofs derive`` and the scripts.

- every catalog name NAME has its module ``vaeproofs/symbolic/NAME.py`` (hyphens as
  underscores; the two Gaussian building blocks share ``gaussian.py``) and its script
  ``derivations/NAME.py``, and the derivation reports NAME as its own name;
- ``python derivations/NAME.py --out DIR`` runs ``vaeproofs derive NAME --out DIR`` and
  writes ``DIR/NAME.md`` (Markdown with LaTeX);
- output paths are validated before any work and written atomically: a folder given to
  ``--markdown`` is one line on stderr and exit code 2.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from vaeproofs.cli import main
from vaeproofs.symbolic import catalog

ROOT = Path(__file__).resolve().parents[1]
#: derivations whose module is shared with a sibling (the Gaussian building blocks)
SHARED_MODULE = {"gaussian-kl": "gaussian", "gaussian-expected-loglik": "gaussian"}


@pytest.mark.parametrize("name", catalog.names())
def test_one_name_for_module_script_and_catalog(name: str) -> None:
    stem = name.replace("-", "_")
    module, _ = catalog.CATALOG[name][0].split(":")
    assert module == f"vaeproofs.symbolic.{SHARED_MODULE.get(name, stem)}"
    assert (ROOT / "vaeproofs" / "symbolic" / f"{SHARED_MODULE.get(name, stem)}.py").is_file()
    script = (ROOT / "derivations" / f"{stem}.py").read_text(encoding="utf-8")
    assert f'script_main("{name}"' in script


def test_every_script_is_a_catalog_derivation_or_the_constructions() -> None:
    stems = {p.stem for p in (ROOT / "derivations").glob("*.py")}
    assert stems == {n.replace("-", "_") for n in catalog.names()} | {"constructions"}


def test_derivation_names_itself_and_renders_its_facts() -> None:
    d = catalog.derive("bernoulli-cap")
    assert d.name == "bernoulli-cap"
    lines = d.fact_lines()
    assert [line.split(" = ")[0] for line in lines] == [k for k, _ in d.facts.items()]
    assert d.to_json()["facts"]["supremum_attained"] is False
    with pytest.raises(AttributeError):
        d.facts.no_such_fact  # noqa: B018 - a renamed fact fails loudly


@pytest.mark.slow
@pytest.mark.parametrize("name", ["bernoulli-cap", "ppca"])
def test_script_writes_markdown(tmp_path: Path, name: str) -> None:
    script = ROOT / "derivations" / f"{name.replace('-', '_')}.py"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])}
    proc = subprocess.run([sys.executable, str(script), "--out", str(tmp_path / "new")],
                          capture_output=True, text=True, timeout=300, check=False, env=env)
    assert proc.returncode == 0, proc.stderr
    text = (tmp_path / "new" / f"{name}.md").read_text(encoding="utf-8")
    assert text.startswith("# ")
    assert "$$" in text and "\\" in text  # display LaTeX from sympy's printer
    assert f"{name}.md" in proc.stdout and "Facts (computed):" in proc.stdout
    assert not [p for p in (tmp_path / "new").iterdir() if p.name.startswith(".")]  # no temp


def test_derive_markdown_to_a_folder_is_one_line_and_exit_2(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["derive", "bernoulli-cap", "--markdown", str(tmp_path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""  # refused before the derivation ran
    err = captured.err.strip().splitlines()
    assert len(err) == 1 and "--markdown" in err[0] and "directory" in err[0]


def test_derive_out_writes_name_md_and_keeps_other_files(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "keep.txt").write_text("x")
    assert main(["derive", "bernoulli-cap", "--out", str(tmp_path), "--quiet"]) == 0
    assert "$$" in (tmp_path / "bernoulli-cap.md").read_text(encoding="utf-8")
    assert (tmp_path / "keep.txt").read_text() == "x"
    assert "wrote" in capsys.readouterr().out


def test_derive_out_with_a_missing_parent_is_exit_2(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["derive", "bernoulli-cap", "--out", str(tmp_path / "a" / "b")]) == 2
    assert "--out" in capsys.readouterr().err


def test_script_main_rejects_unknown_names(capsys: pytest.CaptureFixture[str],
                                           tmp_path: Path) -> None:
    from vaeproofs.cli.derive import script_main

    assert script_main("no-such-derivation", tmp_path, []) == 2
    assert "unknown derivation" in capsys.readouterr().err


def test_constructions_script_refuses_a_file_as_out_before_evaluating(tmp_path: Path) -> None:
    not_a_folder = tmp_path / "f.json"
    not_a_folder.write_text("{}")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])}
    proc = subprocess.run([sys.executable, str(ROOT / "derivations" / "constructions.py"),
                           "--out", str(not_a_folder)], capture_output=True, text=True,
                          timeout=300, check=False, env=env)
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1 and "--out" in proc.stderr
    assert not_a_folder.read_text() == "{}"


@pytest.mark.slow
@pytest.mark.parametrize("name", catalog.names())
def test_every_derivation_has_typed_records_that_serialise(name: str) -> None:
    import dataclasses
    import json

    from vaeproofs.symbolic.derivation import NamedResults

    d = catalog.derive(name)
    assert d.name == name
    assert dataclasses.is_dataclass(d.facts)
    with pytest.raises(dataclasses.FrozenInstanceError):
        d.facts.__setattr__(dataclasses.fields(d.facts)[0].name, None)
    if isinstance(d.results, NamedResults):  # results recorded by name while derived
        assert d.results.items()
        with pytest.raises(dataclasses.FrozenInstanceError):
            d.results.__setattr__(d.results.items()[0][0], None)
    else:
        with pytest.raises(dataclasses.FrozenInstanceError):
            d.results.__setattr__(dataclasses.fields(d.results)[0].name, None)
    doc = json.loads(json.dumps(d.to_json()))
    assert list(doc["facts"]) == [f.name for f in dataclasses.fields(d.facts)]
    # every boolean fact stays a JSON boolean (never a string that reads as true)
    for f in dataclasses.fields(d.facts):
        if isinstance(getattr(d.facts, f.name), bool):
            assert isinstance(doc["facts"][f.name], bool), f.name
