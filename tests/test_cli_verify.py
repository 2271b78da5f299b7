"""``vaeproofs verify`` and ``vaeproofs derive`` end to end, and the report files."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from vaeproofs.claims import claim_ids
from vaeproofs.cli import main

QuickRun = tuple[subprocess.CompletedProcess, Path]
EVIDENCE_KEYS = {"kind", "summary", "passed", "figures"}
CLAIM_KEYS = {"id", "statement", "source", "verdict", "conditions", "evidence"}


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> QuickRun:
    """One real `vaeproofs verify --quick --json --report` in a subprocess (as a user runs it)."""
    out = tmp_path_factory.mktemp("verify")
    proc = subprocess.run(
        [sys.executable, "-m", "vaeproofs", "verify", "--quick", "--json", str(out / "v.json"),
         "--report", str(out / "report")],
        capture_output=True, text=True, timeout=600, check=False)
    return proc, out


@pytest.mark.slow
def test_quick_verify_json_schema_and_every_claim(quick_run: QuickRun) -> None:
    proc, out = quick_run
    assert proc.returncode == 0, proc.stdout + proc.stderr
    doc = json.loads((out / "v.json").read_text())
    assert {"claims", "elapsed_s", "versions"} <= doc.keys()
    assert isinstance(doc["elapsed_s"], float) and doc["elapsed_s"] > 0
    assert {"python", "sympy", "mpmath", "numpy", "torch"} <= doc["versions"].keys()
    assert [c["id"] for c in doc["claims"]] == claim_ids()
    for claim in doc["claims"]:
        assert CLAIM_KEYS <= claim.keys()
        assert claim["verdict"] in ("holds", "fails"), claim
        assert claim["evidence"], claim["id"]
        for ev in claim["evidence"]:
            assert EVIDENCE_KEYS <= ev.keys()
            assert ev["kind"] in ("symbolic", "high-precision", "numeric")
            assert isinstance(ev["passed"], bool) and isinstance(ev["figures"], list)
    # The printed table has one row per claim, with its verdict.
    for claim in doc["claims"]:
        assert re.search(rf"^{re.escape(claim['id'])}\s+{claim['verdict']}\s", proc.stdout, re.M)


@pytest.mark.slow
def test_quick_verify_report_is_self_contained(quick_run: QuickRun) -> None:
    _, out = quick_run
    page = (out / "report" / "report.html").read_text(encoding="utf-8")
    assert page.count("<math") >= 5  # derivations rendered as MathML
    assert page.count('src="data:image/png;base64,') >= 3  # constructions, training, landscape
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)  # nothing from the network
    for cid in claim_ids():
        assert f'id="{cid}"' in page
    md = (out / "report" / "report.md").read_text(encoding="utf-8")
    assert "$$" in md and "figures/constructions.png" in md
    for name in ("constructions", "training", "answer2-landscape"):
        png = out / "report" / "figures" / f"{name}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_unknown_claim_id_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["verify", "--only", "no.such-claim"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--only" in err[0] and "no.such-claim" in err[0]


def test_unknown_option_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["verify", "--frobnicate"])
    assert exc.value.code == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


def test_only_runs_the_named_claim(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["verify", "--only", "answer2.critical-point", "--json",
                 str(tmp_path / "v.json"), "--no-progress"]) == 0
    doc = json.loads((tmp_path / "v.json").read_text())
    assert [c["id"] for c in doc["claims"]] == ["answer2.critical-point"]


def test_derive_list_and_one_derivation(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    from vaeproofs.symbolic.catalog import names

    assert main(["derive", "--list"]) == 0
    listed = capsys.readouterr().out
    assert all(name in listed for name in names())
    assert main(["derive", "bernoulli-cap", "--markdown", str(tmp_path / "b.md")]) == 0
    assert "Bernoulli" in capsys.readouterr().out
    assert "$$" in (tmp_path / "b.md").read_text()


def test_derive_unknown_name_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["derive", "no-such-derivation"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no-such-derivation" in err[0]
