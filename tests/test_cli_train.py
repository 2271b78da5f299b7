"""``vaeproofs train``: options, output files and one-line errors with exit code 2."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from vaeproofs.cli import build_parser, main
from vaeproofs.cli import train as train_cli
from vaeproofs.numeric.heads import HEADS
from vaeproofs.numeric.training import DEFAULT_MEMORY_BUDGET_GB, TrainConfig

TINY = ["--n-train", "8", "--steps", "20", "--hidden", "16", "--latent-dim", "2",
        "--n-test", "20", "--iwae-samples", "8", "--elbo-samples", "2", "--log-every", "10",
        "--no-progress"]


def _one_line_error(capsys: pytest.CaptureFixture[str], argv: list[str], option: str) -> str:
    """Run the CLI; require exit code 2 and exactly one line on stderr naming ``option``."""
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's own errors exit from inside parse_args
        code = exc.code  # type: ignore[assignment]
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "Traceback" not in err
    assert option in err
    return err


def test_likelihood_choices_match_the_heads() -> None:
    assert set(train_cli.LIKELIHOODS) == set(HEADS)


def test_memory_budget_default_matches_the_library() -> None:
    # Kept as a literal in the CLI so that `--help` does not import torch.
    assert train_cli._DEFAULT_BUDGET_GB == DEFAULT_MEMORY_BUDGET_GB


def test_help_explains_every_option() -> None:
    parser = build_parser(["train"])
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    train_parser = sub.choices["train"]
    options = [a for a in train_parser._actions if a.option_strings and a.dest != "help"]
    assert len(options) >= 25
    for action in options:
        assert action.help and len(action.help) > 10, action.option_strings
    # Every TrainConfig option is reachable from the command line.
    assert set(train_cli._OPTION) == set(TrainConfig.__dataclass_fields__)


def test_defaults_are_the_confirming_per_pixel_run() -> None:
    args = build_parser(["train"]).parse_args(["train", "--json", "x.json"])
    assert TrainConfig(**train_cli._config_values(args)) == TrainConfig()


def test_a_run_writes_json_and_png(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out, png = tmp_path / "run.json", tmp_path / "run.png"
    code = main(["train", "--likelihood", "floor", "--floor", "0.05", *TINY,
                 "--json", str(out), "--plot", str(png)])
    assert code == 0
    doc = json.loads(out.read_text())
    assert doc["outcome"] == "completed" and doc["config"]["xi"] == 0.05
    assert doc["cap"] == doc["floor_cap_threshold"]
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.json", "run.png"]
    assert "completed" in capsys.readouterr().out


def test_diverged_run_is_recorded_with_exit_code_zero(tmp_path: Path) -> None:
    out = tmp_path / "d.json"
    assert main(["train", *TINY, "--dtype", "float32", "--lr", "1000", "--json", str(out)]) == 0
    doc = json.loads(out.read_text())
    assert doc["outcome"] == "diverged" and doc["diverged_at_step"] == 2


def test_unknown_likelihood(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    _one_line_error(capsys, ["train", "--likelihood", "laplace", "--json",
                             str(tmp_path / "x.json")], "--likelihood")


def test_n_larger_than_the_data(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    err = _one_line_error(capsys, ["train", "--n-train", "5000", "--json",
                                   str(tmp_path / "x.json")], "--n-train")
    assert "[1, 1438]" in err
    assert not (tmp_path / "x.json").exists()


@pytest.mark.parametrize("floor", ["0", "-1e-3", "nan"])
def test_non_positive_floor(capsys: pytest.CaptureFixture[str], tmp_path: Path, floor: str
                            ) -> None:
    _one_line_error(capsys, ["train", "--floor", floor, "--json", str(tmp_path / "x.json")],
                    "--floor")


def test_nan_in_a_user_array(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    arr = np.random.default_rng(0).random((30, 4))
    arr[5, 1] = np.nan
    np.save(tmp_path / "nan.npy", arr)
    err = _one_line_error(capsys, ["train", "--data", str(tmp_path / "nan.npy"), "--json",
                                   str(tmp_path / "x.json")], "--data")
    assert "finite" in err


@pytest.mark.parametrize("shape", [(30,), (5, 4, 3), (1, 4)])
def test_wrong_shape(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                     shape: tuple[int, ...]) -> None:
    np.save(tmp_path / "bad.npy", np.zeros(shape))
    err = _one_line_error(capsys, ["train", "--data", str(tmp_path / "bad.npy"), "--json",
                                   str(tmp_path / "x.json")], "--data")
    assert "shape" in err


def test_user_array_trains(tmp_path: Path) -> None:
    np.save(tmp_path / "mine.npy", np.random.default_rng(0).random((40, 5)))
    out = tmp_path / "r.json"
    assert main(["train", "--data", str(tmp_path / "mine.npy"), *TINY, "--json", str(out)]) == 0
    assert json.loads(out.read_text())["data"]["dim"] == 5


def test_module_entry_point_prints_one_line(tmp_path: Path) -> None:
    # The installed command path, through a real interpreter.
    proc = subprocess.run([sys.executable, "-m", "vaeproofs", "train", "--floor", "0",
                           "--json", str(tmp_path / "x.json")],
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 2
    assert proc.stderr == "vaeproofs train: error: --floor: must be > 0, got 0.0\n"
