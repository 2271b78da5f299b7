"""``vaeproofs verify`` and ``vaeproofs derive`` end to end, and the report files."""

from __future__ import annotations

import json
import os
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
    # Nothing is loaded from the network (links a reader may follow are fine: the discussion).
    assert not re.search(r"""src=["']?(https?:)?//|<link[^>]*href=["']?(https?:)?//|url\(["']?(https?:)?//""",
                         page)
    assert re.search(r'<a href="https://stats\.stackexchange\.com/questions/373858/', page)
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


@pytest.mark.slow
def test_quick_verify_json_validates_against_the_shipped_schema(quick_run: QuickRun) -> None:
    import jsonschema

    from vaeproofs.schemas import load_schema

    _, out = quick_run
    doc = json.loads((out / "v.json").read_text())
    jsonschema.validate(doc, load_schema("verify"))
    assert oct((out / "v.json").stat().st_mode & 0o777) == "0o644"  # shared like train's output
    broken = json.loads(json.dumps(doc))
    broken["claims"][0]["verdict"] = "probably"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, load_schema("verify"))


@pytest.mark.slow
def test_report_opens_with_the_answer_in_both_formats(quick_run: QuickRun) -> None:
    """The headline answer is composed from the verdict and its setting, in HTML and Markdown."""
    _, out = quick_run
    doc = json.loads((out / "v.json").read_text())
    question = next(c for c in doc["claims"] if c["id"] == "question.ill-posed")
    expected = "Yes" if question["verdict"] == "holds" else "No"
    page = (out / "report" / "report.html").read_text(encoding="utf-8")
    md = (out / "report" / "report.md").read_text(encoding="utf-8")
    for text in (page, md):
        answer = text.index("The answer.")
        assert text[answer:answer + 200].count(expected) >= 1
        assert answer < text.index("The thread&#39;s claims" if text is page else "The thread's claims")
        assert question["scope"].replace("'", "&#39;" if text is page else "'") in text


@pytest.mark.parametrize("make_bad", [
    lambda tmp: ["--json", str(tmp)],                           # a folder
    lambda tmp: ["--json", ""],                                 # empty
    lambda tmp: ["--json", str(tmp / "missing" / "v.json")],    # no such folder
    lambda tmp: ["--json", str(tmp / "afile" / "v.json")],      # a file as folder
    lambda tmp: ["--report", str(tmp / "afile")],               # a file as report folder
    lambda tmp: ["--json", "/dev/null"],                        # a device
])
def test_bad_output_paths_fail_before_any_work(make_bad, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "afile").write_text("keep")
    import vaeproofs.claims

    def must_not_run(*args: object, **kwargs: object) -> None:
        raise AssertionError("a claim was evaluated before the outputs were validated")

    monkeypatch.setattr(vaeproofs.claims, "evaluate_claim", must_not_run)
    assert main(["verify", "--no-progress", *make_bad(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and ("--json" in err[0] or "--report" in err[0])
    assert (tmp_path / "afile").read_text() == "keep"


def test_an_internal_error_is_one_line_exit_4(monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    import vaeproofs.cli.verify as verify

    def broken(args: object) -> int:
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(verify, "run", broken)
    assert main(["verify", "--quick"]) == 4
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "internal error" in err[0] and "bug" in err[0]


@pytest.mark.slow
def test_parallel_and_serial_verify_give_identical_evidence(quick_run: QuickRun,
                                                            tmp_path: Path) -> None:
    """--workers N only changes where the computations run: same verdicts, same evidence."""
    _, out = quick_run  # run with the default workers: the cores, in parallel
    if (os.cpu_count() or 1) < 2:
        pytest.skip("one core: the default run is already serial")
    # The serial run in this process (its derivations and construction rows may come from
    # this worker's per-process memo, tests/conftest.py: pure functions of their names).
    assert main(["verify", "--quick", "--workers", "1", "--no-progress",
                 "--json", str(tmp_path / "serial.json")]) == 0

    def stable(path: Path) -> list[dict[str, object]]:
        claims = json.loads(path.read_text())["claims"]
        return [{k: v for k, v in c.items() if k != "elapsed_s"} for c in claims]

    assert stable(tmp_path / "serial.json") == stable(out / "v.json")
    # The parallel run prefetches exactly the derivations that a serial run's claims ask for.
    from vaeproofs.claims.prefetch import VERIFY_DERIVATIONS

    used = json.loads((tmp_path / "serial.json").read_text())["shared_computations_s"]
    assert sorted(k.removeprefix("derivation:") for k in used if k.startswith("derivation:")) \
        == sorted(VERIFY_DERIVATIONS)
    # ... and exactly the claims' own computations (vaeproofs.claims.sources) that they run.
    from vaeproofs.claims.sources import SOURCES

    assert sorted(k.removeprefix("source:") for k in used if k.startswith("source:")) == sorted(SOURCES)
