"""`vaeproofs sweep` end to end: backends agree, resumption, bad specs, failing runs, Ctrl-C."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from vaeproofs.cli import main
from vaeproofs.sweep.runner import run_sweep
from vaeproofs.sweep.spec import parse_spec
from vaeproofs.sweep.store import COLUMNS, RunStore

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow  # real sweeps on worker processes and Dask: seconds each

# 6 runs of a few dozen steps; the per-pixel runs on 16 points are the ones that move fastest.
SMALL = """
[fixed]
data = "digits"
dequantize = true
steps = 30
log_every = 10
n_test = 40
iwae_samples = 8
elbo_samples = 4
hidden = 16
[grid]
likelihood = ["per-pixel", "floor", "shared"]
n_train = [16, 48]
"""


def _rows(folder: Path) -> list[dict[str, str]]:
    with (folder / "results.csv").open(newline="") as fh:
        return list(csv.DictReader(fh))


def _mtimes(folder: Path) -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in sorted((folder / "runs").iterdir())} | {
        "results.csv": (folder / "results.csv").stat().st_mtime_ns}


@pytest.fixture(scope="module")
def local_sweep(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("sweep")
    spec = base / "small.toml"
    spec.write_text(SMALL)
    out = base / "local"
    assert main(["sweep", str(spec), "--out", str(out), "--workers", "2", "--no-progress"]) == 0
    return spec, out


def test_local_sweep_writes_one_record_per_run_a_tidy_table_and_figures(
        local_sweep: tuple[Path, Path]) -> None:
    _, out = local_sweep
    rows = _rows(out)
    assert len(rows) == 6 and list(rows[0]) == list(COLUMNS)
    assert sorted(p.stem for p in (out / "runs").iterdir()) == sorted(r["id"] for r in rows)
    assert [(r["likelihood"], r["n_train"]) for r in rows] == [
        (f, n) for f in ("per-pixel", "floor", "shared") for n in ("16", "48")]
    for row in rows:
        record = json.loads((out / "runs" / f"{row['id']}.json").read_text())
        assert record["outcome"] == row["outcome"] and row["outcome"] in ("completed", "diverged")
        assert record["config"]["steps"] == 30 and record["history"]
        assert float(row["final_test_iwae"]) == record["test_iwae"]
        assert float(row["best_train_elbo_mean"]) == record["best"]["train_elbo_mean"]
        assert row["error"] == ""
    assert {p.name for p in (out / "figures").iterdir()} >= {
        "best_train_elbo_mean.png", "final_test_iwae.png", "min_decoder_variance.png",
        "passed_cap_at_step.png"}


def test_dask_local_cluster_gives_exactly_the_rows_of_the_local_backend(
        local_sweep: tuple[Path, Path], tmp_path: Path) -> None:
    pytest.importorskip("distributed")
    spec, local = local_sweep
    out = tmp_path / "dask"
    # One LocalCluster worker: the rows depend only on the seeds, not on which worker ran
    # them (the local sweep above used two); each worker process costs seconds of imports.
    assert main(["sweep", str(spec), "--out", str(out), "--backend", "dask", "--workers", "1",
                 "--no-progress"]) == 0
    a, b = _rows(local), _rows(out)
    assert len(a) == len(b) == 6
    for ra, rb in zip(a, b, strict=True):  # same seeds, same numbers, bit for bit
        assert {k: v for k, v in ra.items() if k != "elapsed_s"} == {
            k: v for k, v in rb.items() if k != "elapsed_s"}
    for row in a:
        ja = json.loads((local / "runs" / f"{row['id']}.json").read_text())
        jb = json.loads((out / "runs" / f"{row['id']}.json").read_text())
        ja.pop("elapsed_s"), jb.pop("elapsed_s")
        assert ja == jb


def test_rerunning_repeats_no_run_and_touches_no_file(local_sweep: tuple[Path, Path],
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    spec, out = local_sweep
    before = _mtimes(out)
    capsys.readouterr()
    assert main(["sweep", str(spec), "--out", str(out), "--no-progress"]) == 0
    assert "6 runs: 0 new, 6 already done" in capsys.readouterr().out
    assert _mtimes(out) == before


def test_an_interrupted_sweep_resumes_with_the_missing_runs_only(
        local_sweep: tuple[Path, Path], tmp_path: Path) -> None:
    spec, out = local_sweep
    partial = tmp_path / "partial"
    (partial / "runs").mkdir(parents=True)
    kept = sorted((out / "runs").iterdir())[:4]
    for p in kept:
        (partial / "runs" / p.name).write_bytes(p.read_bytes())
    before = {p.name: (partial / "runs" / p.name).stat().st_mtime_ns for p in kept}
    report = run_sweep(parse_spec(spec.read_text()).configs(), RunStore(partial), backend="serial")
    assert (report.new, report.skipped) == (2, 4)
    assert {p.name: (partial / "runs" / p.name).stat().st_mtime_ns for p in kept} == before
    strip = [{k: v for k, v in r.items() if k != "elapsed_s"} for r in _rows(partial)]
    assert strip == [{k: v for k, v in r.items() if k != "elapsed_s"} for r in _rows(out)]


@pytest.mark.parametrize(("spec_text", "fragment"), [
    ("[grid]\nlikelihood = ['per-pixel', 'laplace']", "likelihood"),
    ("[grid]\n", "grid"),
    ("[grid]\nwidth = [64]", "grid.width"),
    ("[grid]\nn_train = [16, 5000]", "n_train"),
    # train's memory estimate, checked before anything runs (it was only met inside a worker)
    ("[fixed]\nsteps = 5\n[grid]\nhidden = [64, 1000000000]", "--memory-budget-gb"),
])
def test_a_bad_spec_is_one_line_exit_2_and_nothing_runs(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], spec_text: str, fragment: str) -> None:
    spec = tmp_path / "bad.toml"
    spec.write_text(spec_text)
    out = tmp_path / "out"
    assert main(["sweep", str(spec), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("vaeproofs sweep: error: ") and fragment in err
    assert not out.exists()


@pytest.mark.parametrize("argv", [
    ["--backend", "local", "--scheduler", "tcp://localhost:8786"],
    ["--backend", "dask", "--scheduler", "tcp://localhost:8786", "--workers", "2"],
    ["--preset", "smoke"],  # a spec file and a preset
])
def test_bad_backend_options_are_refused_before_anything_runs(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    spec = tmp_path / "s.toml"
    spec.write_text(SMALL)
    out = tmp_path / "out"
    assert main(["sweep", str(spec), "--out", str(out), *argv]) == 2
    assert capsys.readouterr().err.count("\n") == 1
    assert not out.exists()


def test_the_memory_budget_option_is_checked_and_reaches_the_check(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = tmp_path / "s.toml"
    spec.write_text("[fixed]\nsteps = 5\n[grid]\nseed = [0]\n")
    out = tmp_path / "out"
    assert main(["sweep", str(spec), "--out", str(out), "--memory-budget-gb", "nan"]) == 2
    assert "--memory-budget-gb: must be a finite number > 0" in capsys.readouterr().err
    # a budget below what even the default run needs refuses it, naming the option to raise
    assert main(["sweep", str(spec), "--out", str(out), "--memory-budget-gb", "1e-6"]) == 2
    assert "over the budget of 1e-06 GiB" in capsys.readouterr().err
    assert not out.exists()


def test_an_output_folder_that_is_a_file_is_refused(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "file").write_text("")
    assert main(["sweep", "--preset", "smoke", "--out", str(tmp_path / "file")]) == 2
    assert "--out" in capsys.readouterr().err


def test_a_failing_run_is_recorded_and_the_sweep_carries_on(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import vaeproofs.numeric.training as training

    real_train = training.train

    def flaky_train(config: training.TrainConfig, **kw: object) -> training.TrainResult:
        if config.likelihood == "floor" and config.n_train == 48:
            raise RuntimeError("simulated failure of one run")
        return real_train(config, **kw)  # type: ignore[arg-type]

    configs = parse_spec(SMALL).configs()
    store = RunStore(tmp_path / "out")
    monkeypatch.setattr(training, "train", flaky_train)
    report = run_sweep(configs, store, backend="serial")
    assert (report.new, report.skipped, len(report.errors)) == (6, 0, 1)
    rows = _rows(store.root)
    failed = [r for r in rows if r["outcome"] == "error"]
    assert len(rows) == 6 and len(failed) == 1
    assert (failed[0]["likelihood"], failed[0]["n_train"]) == ("floor", "48")
    assert failed[0]["error"] == "RuntimeError: simulated failure of one run"
    assert failed[0]["final_test_iwae"] == ""
    record = json.loads(store.path(failed[0]["id"]).read_text())
    assert record["outcome"] == "error" and "simulated" in record["error"]
    # a rerun retries the failed run only
    monkeypatch.setattr(training, "train", real_train)
    again = run_sweep(configs, store, backend="serial")
    assert (again.new, again.skipped, again.errors) == (1, 5, [])
    assert all(r["outcome"] in ("completed", "diverged") for r in _rows(store.root))


def test_a_diverging_run_is_a_recorded_outcome_not_a_crash(tmp_path: Path) -> None:
    spec = parse_spec("[fixed]\nsteps = 20\nlog_every = 5\nn_test = 20\niwae_samples = 4\n"
                      "dtype = 'float32'\nhidden = 8\n[grid]\nlr = [1000.0, 1e6]")
    report = run_sweep(spec.configs(), RunStore(tmp_path), backend="serial")
    assert report.errors == [] and report.new == 2
    rows = _rows(tmp_path)
    assert {r["outcome"] for r in rows} == {"diverged"}
    assert all(r["diverged_at_step"] != "" for r in rows)


def _sigint_as_python_expects() -> None:
    """Run in the child before exec: SIGINT's default action, so Python installs its handler.

    A process started with SIGINT ignored (pytest run as a background job of a
    non-interactive shell, as some CI runners do) passes that on, and the child would then
    ignore the very Ctrl-C this test sends.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_ctrl_c_stops_cleanly_and_keeps_the_finished_runs(tmp_path: Path) -> None:
    spec = tmp_path / "long.toml"
    # 600 steps: a run takes about 0.5 s, so the seven runs after the first outlast the
    # 0.1 s poll and the signal by seconds.
    spec.write_text("[fixed]\nsteps = 600\nlog_every = 200\nn_test = 20\niwae_samples = 4\n"
                    "hidden = 8\n[grid]\nseed = [0, 1, 2, 3, 4, 5, 6, 7]")
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "vaeproofs", "sweep", str(spec), "--out", str(out),
                             "--workers", "1", "--no-progress"], env=env, cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=_sigint_as_python_expects)
    deadline = time.monotonic() + 120
    # Wait for a finished record (<id>.json), not the temporary file an atomic write starts with.
    while not (out / "runs").is_dir() or not any(p.suffix == ".json" for p in (out / "runs").iterdir()):
        assert proc.poll() is None and time.monotonic() < deadline
        time.sleep(0.1)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert any(line.startswith("vaeproofs sweep: interrupted") for line in stderr.splitlines())
    assert "Traceback" not in stderr
    runs = sorted(p.stem for p in (out / "runs").iterdir())
    assert 1 <= len(runs) < 8
    assert sorted(r["id"] for r in _rows(out)) == runs


def test_a_dry_run_counts_the_runs_to_do_and_writes_nothing(
        local_sweep: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec, out = local_sweep
    capsys.readouterr()
    assert main(["sweep", str(spec), "--out", str(tmp_path / "new"), "--dry-run"]) == 0
    assert "6 runs, 0 already done, 6 to run" in capsys.readouterr().out
    assert not (tmp_path / "new").exists()
    assert main(["sweep", str(spec), "--out", str(out), "--dry-run"]) == 0
    assert "6 runs, 6 already done, 0 to run" in capsys.readouterr().out
