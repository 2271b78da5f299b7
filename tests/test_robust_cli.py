"""The command line's contract under hostile input, for every entry point.

For each bad invocation: exit code 2, exactly one line on stderr that names the
offending option, nothing written, nothing overwritten.  Invocations are generated
by hypothesis (derandomised in CI) from bad values, bad paths and bad numbers; the
commands run in-process through :func:`vaeproofs.cli.main`, and any computation
that starts is a failure (the validation must come first).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vaeproofs.cli import main

#: Bad path kinds, made inside a fresh folder: (label, factory(tmp) -> path string).
PathFactory = Callable[[Path], str]
BAD_FILE_PATHS: dict[str, PathFactory] = {
    "empty": lambda tmp: "",
    "folder": lambda tmp: str(tmp),
    "missing folder": lambda tmp: str(tmp / "no" / "such" / "out.json"),
    "file as folder": lambda tmp: str(tmp / "keep.txt" / "out.json"),
    "device": lambda tmp: "/dev/null",
    "fifo": lambda tmp: str(tmp / "fifo"),
}
BAD_DIR_PATHS: dict[str, PathFactory] = {
    "file": lambda tmp: str(tmp / "keep.txt"),
    "missing parent": lambda tmp: str(tmp / "no" / "such" / "dir"),
    "device": lambda tmp: "/dev/null",
}


def _fixture_folder(tmp: Path) -> dict[str, str]:
    """A folder with a file and a FIFO the command must leave as they are; their fingerprints."""
    (tmp / "keep.txt").write_text("the user's data\n")
    if not (tmp / "fifo").exists():
        os.mkfifo(tmp / "fifo")
    return _fingerprint(tmp)


def _fingerprint(tmp: Path) -> dict[str, str]:
    out = {}
    for p in sorted(tmp.rglob("*")):
        if p.is_fifo():
            out[str(p)] = "fifo"
        elif p.is_file():
            out[str(p)] = hashlib.sha256(p.read_bytes()).hexdigest()
        else:
            out[str(p)] = "dir"
    return out


@pytest.fixture
def no_work(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail loudly if any claim, derivation or training starts."""
    import vaeproofs.claims
    import vaeproofs.symbolic.catalog

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("work started before the arguments were validated")

    import vaeproofs.audit
    import vaeproofs.numeric.training
    import vaeproofs.sweep.runner

    monkeypatch.setattr(vaeproofs.claims, "evaluate_claim", refuse)
    monkeypatch.setattr(vaeproofs.symbolic.catalog, "derive", refuse)
    monkeypatch.setattr(vaeproofs.numeric.training, "train", refuse)
    monkeypatch.setattr(vaeproofs.audit, "audit_vae", refuse)
    monkeypatch.setattr(vaeproofs.sweep.runner, "run_sweep", refuse)


def _assert_refused(argv: list[str], option: str, tmp: Path, before: dict[str, str],
                    capsys: pytest.CaptureFixture[str]) -> None:
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's own one-line errors
        code = exc.code
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2, (argv, err)
    assert len(err) == 1, (argv, err)
    assert option in err[0], (argv, err)
    assert _fingerprint(tmp) == before, argv  # nothing written, nothing overwritten


_SETTINGS = settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])


@_SETTINGS
@given(kind=st.sampled_from(sorted(BAD_FILE_PATHS)), quick=st.booleans())
def test_verify_refuses_bad_json_paths(kind: str, quick: bool, tmp_path: Path, no_work: None,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    before = _fixture_folder(tmp_path)
    argv = ["verify", "--no-progress", "--json", BAD_FILE_PATHS[kind](tmp_path)]
    _assert_refused(argv + (["--quick"] if quick else []), "--json", tmp_path, before, capsys)


@_SETTINGS
@given(kind=st.sampled_from(sorted(BAD_DIR_PATHS)))
def test_verify_refuses_bad_report_folders(kind: str, tmp_path: Path, no_work: None,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    before = _fixture_folder(tmp_path)
    _assert_refused(["verify", "--report", BAD_DIR_PATHS[kind](tmp_path)], "--report", tmp_path,
                    before, capsys)


@_SETTINGS
@given(workers=st.one_of(st.integers(max_value=0), st.integers(min_value=(os.cpu_count() or 1) + 1)))
def test_verify_refuses_a_worker_count_beyond_the_machine(workers: int, tmp_path: Path, no_work: None,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    before = _fixture_folder(tmp_path)
    _assert_refused(["verify", "--workers", str(workers)], "--workers", tmp_path, before, capsys)


@_SETTINGS
@given(claim=st.text(alphabet="abcdefghijklmnopqrstuvwxyz.-_ ", min_size=1, max_size=30))
def test_verify_refuses_unknown_claim_ids(claim: str, tmp_path: Path, no_work: None,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    from vaeproofs.claims import claim_ids

    if claim in claim_ids():
        return
    before = _fixture_folder(tmp_path)
    _assert_refused(["verify", "--only", claim], "--only", tmp_path, before, capsys)


@_SETTINGS
@given(kind=st.sampled_from(sorted(BAD_FILE_PATHS)))
def test_derive_refuses_bad_markdown_paths(kind: str, tmp_path: Path, no_work: None,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    from vaeproofs.symbolic.catalog import names

    before = _fixture_folder(tmp_path)
    _assert_refused(["derive", names()[0], "--markdown", BAD_FILE_PATHS[kind](tmp_path)],
                    "--markdown", tmp_path, before, capsys)


@_SETTINGS
@given(kind=st.sampled_from(sorted(BAD_FILE_PATHS)), option=st.sampled_from(["--json", "--plot"]))
def test_train_refuses_bad_output_paths(kind: str, option: str, tmp_path: Path, no_work: None,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    before = _fixture_folder(tmp_path)
    path = BAD_FILE_PATHS[kind](tmp_path)
    if option == "--plot" and kind in ("missing folder", "file as folder"):
        path = path.replace(".json", ".png")
    good_json = [] if option == "--json" else ["--json", str(tmp_path / "ok.json")]
    _assert_refused(["train", "--steps", "1", "--no-progress", *good_json, option, path], option,
                    tmp_path, before, capsys)


@_SETTINGS
@given(same=st.sampled_from(["data", "plot"]))
def test_train_refuses_an_output_equal_to_an_input_or_another_output(
        same: str, tmp_path: Path, no_work: None, capsys: pytest.CaptureFixture[str]) -> None:
    import numpy as np

    np.save(tmp_path / "x.npy", np.random.default_rng(0).normal(size=(20, 3)))
    before = _fixture_folder(tmp_path)
    if same == "data":
        argv = ["train", "--data", str(tmp_path / "x.npy"), "--json", str(tmp_path / "x.npy")]
    else:
        argv = ["train", "--plot", str(tmp_path / "o.png"), "--json", str(tmp_path / "o.png")]
    _assert_refused(argv, "--json", tmp_path, before, capsys)


@_SETTINGS
@given(kind=st.sampled_from(sorted(BAD_FILE_PATHS)))
def test_audit_refuses_bad_json_paths(kind: str, tmp_path: Path, no_work: None,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    import numpy as np

    root = Path(__file__).resolve().parents[1]
    np.save(tmp_path / "x.npy", np.random.default_rng(0).uniform(size=(20, 64)))
    before = _fixture_folder(tmp_path)
    argv = ["audit", f"{root / 'examples' / 'audit_example.py'}:make", "--data",
            str(tmp_path / "x.npy"), "--variance", "logvar", "--json", BAD_FILE_PATHS[kind](tmp_path)]
    _assert_refused(argv, "--json", tmp_path, before, capsys)


@_SETTINGS
@given(kind=st.sampled_from(sorted(BAD_DIR_PATHS)))
def test_sweep_refuses_bad_output_folders(kind: str, tmp_path: Path, no_work: None,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    before = _fixture_folder(tmp_path)
    _assert_refused(["sweep", "--preset", "smoke", "--out", BAD_DIR_PATHS[kind](tmp_path)], "--out",
                    tmp_path, before, capsys)
