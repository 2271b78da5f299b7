"""docs/theory.md, the project's theory document: complete, and the only reference cited.

1. Every claim id of the catalogue is stated in docs/theory.md (never skipped: the
   document ships with the repository).
2. No shipped file refers to a briefing file or to a machine path; the product cites
   docs/theory.md or the papers themselves.
"""

from __future__ import annotations

import re
from pathlib import Path

from vaeproofs.claims.catalog import CLAIMS

ROOT = Path(__file__).resolve().parents[1]
THEORY_DOC = ROOT / "docs" / "theory.md"

#: Section headings that code and tests cite as "docs/theory.md section N".
SECTIONS = (
    "1. Setting and conventions",
    "2. Claims of the discussion",
    "3. Closed forms",
    "4. What the literature proves",
    "5. Practical facts for the numeric side",
    "6. Claims beyond the thread",
    "7. Variance heads as popular code writes them",
)

#: Case-sensitive: "docs/theory.md" is the project's own document and is allowed.
FORBIDDEN = ("THEORY.md", "shared/seed", "/work/", "/tmp/")
SCANNED = ("vaeproofs", "derivations", "benchmarks", "docs", "README.md")
TEXT_SUFFIXES = {".py", ".md", ".txt", ".toml", ".cfg", ".ini", ".json", ".yaml", ".yml",
                 ".html", ".rst"}


def _theory_text() -> str:
    return THEORY_DOC.read_text(encoding="utf-8")


def test_theory_doc_has_the_numbered_sections_in_order() -> None:
    headings = re.findall(r"^## (.+)$", _theory_text(), flags=re.MULTILINE)
    assert [h for h in headings if h[:1].isdigit()] == list(SECTIONS)


def test_every_catalogued_claim_id_is_in_the_theory_doc() -> None:
    text = _theory_text()
    missing = [c.id for c in CLAIMS if f"`{c.id}`" not in text]
    assert CLAIMS, "the catalogue is empty"
    assert missing == [], f"claim ids absent from docs/theory.md: {missing}"


def _shipped_text_files() -> list[Path]:
    files: list[Path] = []
    for name in SCANNED:
        path = ROOT / name
        if path.is_file():
            files.append(path)
        elif path.is_dir():
            files.extend(p for p in sorted(path.rglob("*"))
                         if p.is_file() and p.suffix in TEXT_SUFFIXES
                         and "__pycache__" not in p.parts)
    return files


def test_the_scan_covers_the_shipped_files() -> None:
    """Guards the next test against passing because it scanned nothing."""
    scanned = {p.relative_to(ROOT).as_posix() for p in _shipped_text_files()}
    assert {"README.md", "docs/theory.md", "vaeproofs/claims/catalog.py"} <= scanned


def test_no_shipped_file_mentions_briefing_files_or_machine_paths() -> None:
    hits = []
    for path in _shipped_text_files():
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            hits += [f"{path.relative_to(ROOT).as_posix()}:{number}: {word!r}"
                     for word in FORBIDDEN if word in line]
    assert hits == [], "\n".join(hits)


def test_the_readme_table_names_every_claim_and_only_existing_files() -> None:
    """README's "Where things are": every claim id has a row, and every file it names exists."""
    import re

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme.split("## Where things are", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in table.splitlines() if line.startswith("| `")]
    assert [re.match(r"\| `([^`]+)`", r).group(1) for r in rows] == [c.id for c in CLAIMS]
    for row in rows:
        for cell in row.split("|")[2:]:
            folder = None
            for name in re.findall(r"`([^`]+)`", cell):
                if name.startswith("test_"):
                    assert list((ROOT / "tests").glob(name)), name
                    continue
                # "numeric/collapse.py", then "suite.py" in the same folder; "linear.py" alone
                # is a top-level module of the package.
                path = (ROOT / "vaeproofs" / name if "/" in name or folder is None else folder / name)
                assert path.exists() or list(path.parent.glob(path.name)), name
                folder = path.parent
