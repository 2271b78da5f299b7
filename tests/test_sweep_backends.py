"""run_tasks: every task reported once, errors per task, options checked up front; the figures;
the faces data set."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from vaeproofs.errors import InvalidArgumentError
from vaeproofs.sweep.backends import Done, run_tasks
from vaeproofs.sweep.figures import METRICS, axis_key, plot_metric, write_figures


@pytest.mark.parametrize("backend", ["serial", "local"])
def test_each_task_is_reported_once_and_a_raising_task_does_not_stop_the_others(backend: str) -> None:
    tasks = [4.0, -1.0, 9.0, 16.0]  # math.sqrt(-1.0) raises ValueError
    done = sorted(run_tasks(math.sqrt, tasks, backend=backend, workers=2), key=lambda d: d.index)
    assert done == [Done(0, 2.0), Done(1, error="ValueError: math domain error"), Done(2, 3.0),
                    Done(3, 4.0)]


def test_no_tasks_yield_nothing() -> None:
    assert list(run_tasks(math.sqrt, [], backend="local")) == []


def _refuse(x: float) -> float:
    raise InvalidArgumentError("hidden", f"{x} is too large")


@pytest.mark.slow
def test_a_package_error_raised_in_a_worker_process_is_recorded_not_a_broken_pool() -> None:
    # InvalidArgumentError must pickle (by its two arguments) to come back from a worker;
    # before, unpickling it failed and broke the pool, losing every run of the sweep.
    done = sorted(run_tasks(_refuse, [1.0, 2.0], backend="local", workers=2), key=lambda d: d.index)
    assert done == [Done(0, error="InvalidArgumentError: hidden: 1.0 is too large"),
                    Done(1, error="InvalidArgumentError: hidden: 2.0 is too large")]


@pytest.mark.parametrize(("kwargs", "argument"), [
    ({"backend": "slurm"}, "--backend"),
    ({"backend": "local", "workers": 0}, "--workers"),
    ({"backend": "local", "workers": True}, "--workers"),
    ({"backend": "local", "workers": 100_000}, "--workers"),  # more processes than cores
    ({"backend": "dask", "workers": 100_000}, "--workers"),
    ({"backend": "local", "scheduler": "tcp://h:8786"}, "--scheduler"),
    ({"backend": "dask", "scheduler": "tcp://h:8786", "workers": 2}, "--workers"),
    ({"backend": "dask", "scheduler": " "}, "--scheduler"),
])
def test_bad_options_are_refused_when_called_before_any_work(kwargs: dict[str, object],
                                                           argument: str) -> None:
    with pytest.raises(InvalidArgumentError) as info:
        run_tasks(math.sqrt, [1.0], **kwargs)  # type: ignore[arg-type]
    assert info.value.argument == argument


def _row(family: str, n: int | str, used: int, seed: int, hidden: int, **metrics: object
         ) -> dict[str, object]:
    base = {"likelihood": family, "n_train": n, "n_train_used": used, "seed": seed, "hidden": hidden,
            "outcome": "completed", "floor": 1e-3, "steps": 100, "floor_cap_threshold": 162.2}
    return {**base, **{m: None for m in METRICS}, **metrics}


def test_the_axis_is_n_train_when_the_grid_varies_it_else_the_first_numeric_key() -> None:
    assert axis_key({"likelihood": ["floor"], "hidden": [8, 16], "n_train": [16, "all"]}) == "n_train"
    assert axis_key({"seed": [0, 1], "likelihood": ["a"], "lr": [0.1, 0.2]}) == "lr"
    assert axis_key({"seed": [0, 1], "likelihood": ["a", "b"]}) is None


@pytest.mark.slow
def test_figures_have_a_panel_per_width_a_line_per_family_and_the_caps(tmp_path: Path) -> None:
    grid = {"likelihood": ["per-pixel", "floor"], "n_train": [16, "all"], "hidden": [8, 16],
            "seed": [0, 1]}
    rows = [_row(f, n, 16 if n == 16 else 1437, s, h, best_train_elbo_mean=float(10 * s + h),
                 min_decoder_variance=1e-4 * (s + 1),
                 passed_cap_at_step=50 if f == "per-pixel" and n == 16 else None)
            for f in grid["likelihood"] for n in grid["n_train"] for h in grid["hidden"]
            for s in grid["seed"]]
    rows.append({**rows[0], "outcome": "error", "best_train_elbo_mean": 1e9})  # left out
    fig = plot_metric(rows, grid, "best_train_elbo_mean")
    assert fig is not None
    axes = fig.axes
    assert len(axes) == 2  # one panel per width
    lines = [ln for ln in axes[0].get_lines() if ln.get_label() in grid["likelihood"]]
    assert [ln.get_label() for ln in lines] == ["per-pixel", "floor"]
    # mean over the two seeds at each size (hidden=8 panel): (0 + 8 + 10 + 8) / 2 = 13
    np.testing.assert_array_equal(lines[0].get_xdata(), [16, 1437])
    np.testing.assert_array_equal(lines[0].get_ydata(), [13.0, 13.0])
    var = plot_metric(rows, grid, "min_decoder_variance")
    assert var is not None
    var_lines = [ln for ln in var.axes[0].get_lines() if ln.get_label() == "per-pixel"]
    # geometric mean of 1e-4 and 2e-4 on the log axis
    np.testing.assert_allclose(var_lines[0].get_ydata(), [2 ** 0.5 * 1e-4] * 2, rtol=1e-14)
    caps = [ln for ln in axes[0].get_lines() if ln.get_linestyle() == "--"]
    assert [ln.get_ydata()[0] for ln in caps] == [162.2]
    legend = fig.legends[0]
    assert all(not ax.get_legend() for ax in axes) and legend is not None
    written = write_figures(rows, grid, tmp_path / "figs")
    assert {p.name for p in written} == {"best_train_elbo_mean.png", "min_decoder_variance.png",
                                         "passed_cap_at_step.png"}
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in written)


def test_faces_are_the_hundred_lfw_faces_of_scikit_image() -> None:
    skimage_data = pytest.importorskip("skimage.data")
    from vaeproofs.numeric.data import faces_dataset

    ds = faces_dataset(seed=3)
    assert ds.dim == 625 and ds.train.shape == (80, 625) and ds.test.shape == (20, 625)
    faces = skimage_data.lfw_subset()[:100].reshape(100, -1)
    # the split is a permutation of exactly the 100 face images
    together = np.concatenate([ds.train, ds.test])
    assert sorted(r.tobytes() for r in together) == sorted(r.tobytes() for r in faces)
    np.testing.assert_array_equal(faces_dataset(seed=3).train, ds.train)
    # and `--data faces` reaches it through train's configuration
    from vaeproofs.numeric.training import TrainConfig, load_dataset

    np.testing.assert_array_equal(load_dataset(TrainConfig(data="faces", data_seed=3)).test, ds.test)


def test_run_records_match_the_shipped_schema(tmp_path: Path) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    from vaeproofs.schemas import load_schema, schema_names
    from vaeproofs.sweep.runner import error_record, execute_run
    from vaeproofs.sweep.spec import parse_spec

    schema = load_schema("sweep-run")
    error_schema = {**schema["$defs"]["error_record"], "$schema": schema["$schema"]}
    config = parse_spec("[fixed]\nsteps = 3\nlog_every = 1\nn_test = 10\niwae_samples = 2\n"
                        "hidden = 4\n[grid]\nseed = [0]").configs()[0].to_dict()
    jsonschema.validate(error_record(config, "RuntimeError: boom"), error_schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"config": config, "outcome": "error", "error": "", "elapsed_s": None},
                            error_schema)
    if "train" not in schema_names():
        pytest.skip("the trained-run half of the schema refers to train.schema.json, not shipped yet")
    from referencing import Registry, Resource

    registry = Registry().with_resources(
        (load_schema(n)["$id"], Resource.from_contents(load_schema(n))) for n in ("train", "sweep-run"))
    validator = jsonschema.Draft202012Validator(schema, registry=registry)
    validator.validate(execute_run(config))
    validator.validate(error_record(config, "RuntimeError: boom"))
