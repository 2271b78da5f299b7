"""``vaeproofs train`` and TrainConfig on hostile input: each case one line, exit 2, nothing
written, and the option the user typed named; records that stay truthful when values
overflow."""

from __future__ import annotations

import math
import os
import stat
from pathlib import Path

import numpy as np
import pytest
import torch

import vaeproofs.numeric.training as training
from vaeproofs.cli import main
from vaeproofs.errors import InvalidArgumentError
from vaeproofs.numeric import Dataset, from_array, read_json, write_json
from vaeproofs.numeric.training import (
    DEFAULT_MEMORY_BUDGET_GB,
    HistoryRow,
    TrainConfig,
    TrainResult,
    check_memory,
    estimate_memory,
    max_threads,
    train,
)

TINY = ["--n-train", "8", "--steps", "10", "--hidden", "16", "--latent-dim", "2",
        "--n-test", "8", "--iwae-samples", "4", "--elbo-samples", "2", "--log-every", "5",
        "--no-progress"]
TINY_CONFIG = TrainConfig(n_train=8, steps=10, hidden=16, latent_dim=2, n_test=8,
                          iwae_samples=4, elbo_samples=2, log_every=5)


def _refused(capsys: pytest.CaptureFixture[str], argv: list[str], option: str) -> str:
    """Run the CLI; require exit code 2 and one line on stderr starting with ``option``."""
    try:
        code = main(["train", *argv])
    except SystemExit as exc:
        code = exc.code  # type: ignore[assignment]
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(f"vaeproofs train: error: {option}: "), err
    return err


@pytest.fixture
def no_training(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if training starts: outputs must be refused before any work."""
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("training started before the outputs were validated")

    monkeypatch.setattr(training, "train", refuse)


# -- a, d: overflow refused up front, naming the option; a diverged record survives ------------

@pytest.mark.parametrize(("argv", "option"), [
    (["--likelihood", "fixed", "--fixed-std", "1e-300"], "--fixed-std"),  # s0^2 underflows to 0
    (["--likelihood", "fixed", "--fixed-std", "1e200"], "--fixed-std"),   # s0^2 overflows
    (["--likelihood", "fixed", "--fixed-std", "1e-30", "--dtype", "float32"], "--fixed-std"),
    (["--floor", "1e308"], "--floor"),                                     # 2 pi xi overflows
    (["--likelihood", "floor", "--floor", "1e38", "--dtype", "float32"], "--floor"),
    (["--likelihood", "student-t", "--nu", "1e306"], "--nu"),              # lgamma overflows
])
def test_settings_that_can_only_overflow_are_refused(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, argv: list[str], option: str) -> None:
    _refused(capsys, [*argv, "--json", str(tmp_path / "r.json")], option)
    assert list(tmp_path.iterdir()) == []


def test_tiny_fixed_std_is_recorded_not_lost(tmp_path: Path) -> None:
    # s0 = 1e-80: squared errors / s0^2 of order 1e160, finite in float64.  The record is
    # written and every number in it is finite (the IWAE standard error, whose squares
    # would overflow, included).
    out = tmp_path / "r.json"
    assert main(["train", "--likelihood", "fixed", "--fixed-std", "1e-80", "--steps", "5",
                 "--log-every", "1", "--n-train", "8", "--n-test", "8", "--no-progress",
                 "--json", str(out)]) == 0
    doc = read_json(out)
    assert doc["outcome"] == "completed" and "non_finite" not in doc
    assert all(math.isfinite(row["test_iwae_se"]) for row in doc["history"])


def test_config_errors_blame_the_right_field() -> None:
    with pytest.raises(InvalidArgumentError) as info:
        TrainConfig(likelihood="fixed", fixed_std=1e-300)
    assert info.value.argument == "fixed_std"
    TrainConfig(likelihood="per-pixel", fixed_std=1e-300)  # unused by this head: allowed


# -- c: threads bounded by the machine ------------------------------------------------------

def test_threads_are_bounded_by_the_machine(capsys: pytest.CaptureFixture[str],
                                            tmp_path: Path) -> None:
    err = _refused(capsys, ["--threads", "100000", "--json", str(tmp_path / "r.json")],
                   "--threads")
    assert f"[1, {os.cpu_count()}]" in err
    assert TrainConfig(num_threads=max_threads()).num_threads == max_threads()


# -- e: memory estimated before allocating --------------------------------------------------

@pytest.mark.parametrize("option", ["--hidden", "--iwae-samples", "--latent-dim",
                                    "--train-samples", "--elbo-samples"])
def test_huge_sizes_are_refused_by_the_memory_estimate(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, option: str) -> None:
    err = _refused(capsys, [*TINY, option, "1000000000", "--json", str(tmp_path / "r.json")],
                   option)
    assert "GiB" in err and "--memory-budget-gb" in err
    assert list(tmp_path.iterdir()) == []


def test_memory_budget_can_be_raised_and_must_be_positive(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    big = TrainConfig(hidden=4096)
    est = estimate_memory(big, dim=64, n_train=16, n_test=200)
    # 2 x 4096^2 hidden weights (float64), 7 copies each, dominate: within 10% of that.
    assert est.parameters == pytest.approx(7 * 2 * 4096**2 * 8, rel=0.1)
    budget = 1.01 * est.total / 2**30
    with pytest.raises(InvalidArgumentError, match=r"^hidden: 4096 would need"):
        check_memory(big, dim=64, n_train=16, n_test=200, budget_gb=0.5 * budget)
    assert check_memory(big, dim=64, n_train=16, n_test=200, budget_gb=budget) == est
    check_memory(TrainConfig(), dim=64, n_train=16, n_test=200)
    assert DEFAULT_MEMORY_BUDGET_GB > 0
    _refused(capsys, [*TINY, "--memory-budget-gb", "0", "--json", str(tmp_path / "r.json")],
             "--memory-budget-gb")


# -- b: every output path validated before any work -----------------------------------------

def test_bad_output_paths_are_refused_before_training(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, no_training: None) -> None:
    folder = tmp_path / "folder"
    folder.mkdir()
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    data = tmp_path / "x.npy"
    np.save(data, np.random.default_rng(0).random((20, 3)))
    cases = [
        (["--json", str(folder)], "--json"),
        (["--json", ""], "--json"),
        (["--json", "/dev/full"], "--json"),
        (["--json", str(fifo)], "--json"),
        (["--json", str(tmp_path / "missing" / "o.json")], "--json"),
        (["--data", str(data), "--json", str(data)], "--json"),
        (["--json", str(tmp_path / "o.json"), "--plot", str(folder)], "--plot"),
        (["--json", str(tmp_path / "o.json"), "--plot", str(tmp_path / "o.gif")], "--plot"),
        (["--plot", str(tmp_path / "o.json"), "--json", str(tmp_path / "o.json")], "--plot"),
        (["--plot", str(tmp_path / "o.png"), "--json", str(tmp_path / "o.png")], "--plot"),
    ]
    before = sorted(p.name for p in tmp_path.iterdir())
    for argv, option in cases:
        _refused(capsys, [*TINY, *argv], option)
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert list(folder.iterdir()) == []
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write into a read-only folder")
def test_read_only_folder_is_refused(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                     no_training: None) -> None:
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        _refused(capsys, [*TINY, "--json", str(ro / "o.json")], "--json")
    finally:
        ro.chmod(0o755)


# -- g: plotting ----------------------------------------------------------------------------

@pytest.mark.parametrize(("suffix", "magic"), [(".png", b"\x89PNG"), (".svg", b"<?xml"),
                                               (".pdf", b"%PDF")])
def test_plot_is_written_in_the_format_of_its_suffix(tmp_path: Path, suffix: str,
                                                     magic: bytes) -> None:
    out, fig = tmp_path / "r.json", tmp_path / f"p{suffix}"
    label = r"$\frac{$ 50% _x_ ^y"  # unbalanced mathtext: must be shown as text
    assert main(["train", *TINY, "--label", label, "--json", str(out), "--plot", str(fig)]) == 0
    assert fig.read_bytes().startswith(magic)
    assert read_json(out)["config"]["label"] == label
    assert stat.S_IMODE(os.stat(out).st_mode) == stat.S_IMODE(os.stat(fig).st_mode) == 0o644


# -- h: types ---------------------------------------------------------------------------------

def test_numpy_integers_are_normalised() -> None:
    cfg = TrainConfig(seed=np.int64(3), n_train=np.int64(8), hidden=np.int32(16))
    assert cfg == TrainConfig(seed=3, n_train=8, hidden=16)
    assert type(cfg.seed) is int and type(cfg.n_train) is int
    assert type(TrainConfig(lr=np.float32(0.5)).lr) is float


@pytest.mark.parametrize(("field", "value"), [
    ("lr", "1e-3"), ("xi", "0.1"), ("seed", 1.0), ("seed", True), ("dequantize", "no"),
    ("dequantize", 1), ("binarize", "yes"), ("lr", torch.tensor(1e-3, requires_grad=True)),
    ("label", 3), ("test_fraction", "0.2"),
])
def test_wrong_types_are_refused_by_name(field: str, value: object) -> None:
    with pytest.raises(InvalidArgumentError) as info:
        TrainConfig(**{field: value})
    assert info.value.argument == field


def test_tensors_that_require_grad_are_read_as_values() -> None:
    t = torch.rand(20, 3, dtype=torch.float64, requires_grad=True)
    cfg = TrainConfig(data="mine.npy", n_train=8, n_test=4, steps=2, hidden=8, latent_dim=1,
                      iwae_samples=2, elbo_samples=1, log_every=1)
    a = train(cfg, progress=False, dataset=from_array(t))
    held = Dataset("mine", t[:16], t[16:])  # a Dataset built from tensors directly
    b = train(cfg, progress=False, dataset=held)
    assert a.outcome == b.outcome == "completed"


# -- i: best and final over finite rows only -----------------------------------------------------

def _row(step: int, value: float, **changes: float) -> HistoryRow:
    fields = dict(step=step, loss=None if step == 0 else 1.0, train_elbo_mean=value,
                  train_elbo_max=value, train_rec_mean=value, kl=1.0,
                  min_decoder_variance=1.0 / (1 + step), median_decoder_variance=1.0,
                  median_variance_constant_pixels=None, median_variance_varying_pixels=1.0,
                  test_elbo=value, test_iwae=value, test_iwae_se=0.5)
    fields.update(changes)
    return HistoryRow(**fields)  # type: ignore[arg-type]


def test_best_and_final_skip_the_diverged_row(tmp_path: Path) -> None:
    # The diverged row has a smaller (but finite) decoder variance and a larger ELBO, next
    # to a NaN: none of its numbers may become a "best".
    rows = [_row(0, -10.0), _row(5, -5.0),
            _row(10, 99.0, min_decoder_variance=1e-300, test_iwae_se=math.inf,
                 kl=math.nan)]
    res = TrainResult(config=TINY_CONFIG, outcome="diverged", diverged_at_step=10,
                      divergence="non-finite metric(s): kl, test_iwae_se", dim=64, n_train=8,
                      n_test=8, constant_pixels=0, data_description="test", cap=None,
                      floor_cap_threshold=162.0, history=rows)
    assert res.final == rows[1]
    best = res.best
    assert (best.min_decoder_variance, best.min_decoder_variance_step) == (1.0 / 6, 5)
    assert (best.test_iwae, best.test_iwae_se, best.test_iwae_step) == (-5.0, 0.5, 5)
    doc = read_json(write_json(res, tmp_path / "r.json"))
    assert doc["best"]["min_decoder_variance"] == 1.0 / 6
    assert doc["history"][2]["kl"] is None and doc["history"][2]["test_iwae_se"] is None
    assert {e["path"] for e in doc["non_finite"]} == {"history[2].kl", "history[2].test_iwae_se"}
