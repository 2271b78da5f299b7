"""The onset-study summary and the evidence it feeds to the ledger."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from vaeproofs.claims.conditions import Condition
from vaeproofs.errors import InvalidArgumentError
from vaeproofs.sweep.onset import OnsetSummary, describe, main, render_markdown, summarise

COLUMNS = ["likelihood", "hidden", "n_train_used", "seed", "steps", "outcome", "passed_cap_at_step",
           "min_decoder_variance", "best_train_elbo_mean", "final_test_iwae", "floor_cap_threshold",
           "floor", "elapsed_s"]


def _write(path: Path, rows: list[dict[str, object]]) -> Path:
    with path.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=COLUMNS)
        w.writeheader()
        for r in rows:
            w.writerow({"steps": 100, "floor": 0.001, "floor_cap_threshold": 162.2, "outcome": "completed",
                        "min_decoder_variance": 1e-4, "best_train_elbo_mean": 50.0,
                        "final_test_iwae": 40.0, "passed_cap_at_step": "", "elapsed_s": 2.5, **r})
    return path


def _rows(passed_at_1438: str) -> list[dict[str, object]]:
    rows = []
    for seed in (0, 1):
        rows.append({"likelihood": "per-pixel", "hidden": 64, "n_train_used": 16, "seed": seed,
                     "passed_cap_at_step": 200 + 100 * seed})
        rows.append({"likelihood": "per-pixel", "hidden": 64, "n_train_used": 1438, "seed": seed,
                     "passed_cap_at_step": passed_at_1438})
        rows.append({"likelihood": "floor", "hidden": 64, "n_train_used": 16, "seed": seed})
    rows.append({"likelihood": "floor", "hidden": 64, "n_train_used": 16, "seed": 9, "outcome": "error"})
    return rows


def test_summary_groups_runs_and_counts_passes(tmp_path: Path) -> None:
    s = summarise(_write(tmp_path / "r.csv", _rows("")))
    assert (s.steps, s.xi, s.cap_per_point) == (100, 0.001, 162.2)
    small = s.cell("per-pixel", 64, 16)
    assert (small.runs, small.passed, small.median_passed_step) == (2, 2, 250.0)
    assert s.cell("per-pixel", 64, 1438).passed == 0
    assert s.cell("floor", 64, 16).runs == 2  # the errored run is left out
    assert s.largest_size_passing("per-pixel") == 16
    assert OnsetSummary.from_json(json.loads(json.dumps(s.to_json()))) == s
    assert (s.total_run_seconds, s.longest_run_seconds) == (2.5 * 6, 2.5)


def test_the_results_page_is_rendered_from_the_summary(tmp_path: Path) -> None:
    s = summarise(_write(tmp_path / "r.csv", _rows("")))
    page = render_markdown(s, figures=("figures/x.png",))
    assert "| per-pixel | 64 | 16 | 2/2 | 250 |" in page and "![x](figures/x.png)" in page
    assert describe(s) in page


def test_the_evidence_text_follows_the_results(tmp_path: Path) -> None:
    never = describe(summarise(_write(tmp_path / "a.csv", _rows(""))))
    always = describe(summarise(_write(tmp_path / "b.csv", _rows("900"))))
    assert "2/2 at n = 16, 0/2 at n = 1438" in never and "only up to n = 16" in never
    assert "2/2 at n = 1438" in always and "only up to n = 1438" in always


def test_the_study_evidence_is_informative_under_its_own_setting() -> None:
    from vaeproofs.claims import EvidenceContext
    from vaeproofs.claims.study_evidence import onset_study
    from vaeproofs.sweep.onset import load_shipped_summary

    evidence = onset_study(EvidenceContext(quick=True))
    if load_shipped_summary() is None:
        assert evidence == []
    else:
        assert [(e.supports, e.condition) for e in evidence] == [(None, Condition.ONSET_STUDY)]


def test_bad_results_files_are_refused(tmp_path: Path) -> None:
    (tmp_path / "empty.csv").write_text("likelihood\n")
    with pytest.raises(InvalidArgumentError, match=r"^results_csv: .* no rows"):
        summarise(tmp_path / "empty.csv")
    rows = _rows("")
    rows[0]["steps"] = 200
    with pytest.raises(InvalidArgumentError, match="mixes step budgets"):
        summarise(_write(tmp_path / "mixed.csv", rows))


def test_the_command_writes_the_summary(tmp_path: Path) -> None:
    src = _write(tmp_path / "r.csv", _rows(""))
    assert main([str(src), "--out", str(tmp_path / "s.json")]) == 0
    assert json.loads((tmp_path / "s.json").read_text())["steps"] == 100


def test_the_committed_results_page_is_the_rendering_of_the_shipped_summary() -> None:
    """docs/results.md is generated (python -m vaeproofs.sweep.onset --markdown docs/results.md)."""
    from vaeproofs.sweep.onset import RESULT_FIGURES, load_shipped_summary

    root = Path(__file__).resolve().parents[1]
    summary = load_shipped_summary()
    assert summary is not None, "vaeproofs/data/onset_study.json is shipped with the package"
    page = (root / "docs" / "results.md").read_text(encoding="utf-8")
    assert page == render_markdown(summary, figures=RESULT_FIGURES)
    for fig in RESULT_FIGURES:
        assert (root / "docs" / fig).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # the study's design: three families, two widths, five sizes, three seeds each
    assert len(summary.cells) == 30 and all(c.runs == 3 for c in summary.cells)
