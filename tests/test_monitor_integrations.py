"""The monitor in real loops: a plain PyTorch loop and a Lightning Trainer (the examples, run),
TensorBoard's SummaryWriter read back, the heat map, the testing assertions, and the import
rule (importing vaeproofs loads no optional integration)."""

from __future__ import annotations

import importlib.util
import math
import subprocess
import sys
import warnings
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
import torch

from vaeproofs.monitor import CollapseMonitor, CollapseWarning, VarianceNotice
from vaeproofs.testing import (
    ObjectiveNotBoundedError,
    assert_audit_bounded,
    assert_objective_bounded,
    assert_variance_floor,
)

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def test_importing_vaeproofs_and_the_monitor_loads_no_integration() -> None:
    code = ("import sys, vaeproofs, vaeproofs.monitor, vaeproofs.testing\n"
            "print(' '.join(sorted(m.split('.')[0] for m in sys.modules)))")
    loaded = set(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                check=True, timeout=300).stdout.split())
    assert "torch" in loaded
    assert not loaded & {"lightning", "pytorch_lightning", "tensorboard", "matplotlib", "sympy"}


@pytest.fixture(scope="module")
def plain_run() -> CollapseMonitor:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        monitor = _load("monitor_plain_loop").main(steps=3000)
    monitor.caught = caught  # type: ignore[attr-defined]
    return monitor


def test_plain_loop_warns_once_and_stops(plain_run: CollapseMonitor) -> None:
    warned = [w for w in plain_run.caught if issubclass(w.category, CollapseWarning)]
    assert len(warned) == 1 and "warning collapse" in str(warned[0].message)
    # the warning points at the user's update line, not inside the package
    assert Path(warned[0].filename).name == "monitor_plain_loop.py"
    assert plain_run.should_stop and plain_run.stop_reason.code == "collapse"
    step = plain_run.stop_reason.step
    assert plain_run.rows[-1]["step"] == step < 3000  # the loop stopped at the warning
    # the audit's static floor of the free log-variance head is 0, and the message says so
    assert plain_run.floor == 0.0 and "static floor is 0" in plain_run.stop_reason.message
    assert any(issubclass(w.category, VarianceNotice) for w in plain_run.caught)


def test_floored_decoder_in_the_same_loop_never_warns() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", CollapseWarning)
        monitor = _load("monitor_plain_loop").main(steps=1000, floor=1e-3)
    assert monitor.floor == pytest.approx(1e-3) and not monitor.should_stop
    assert np.nanmin(monitor.pixel_min_variance) >= 1e-3 * (1 - 1e-6)


def test_tensorboard_rows_and_events_read_back(plain_run: CollapseMonitor, tmp_path: Path) -> None:
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from torch.utils.tensorboard import SummaryWriter

    from vaeproofs.monitor.tensorboard import write_events, write_rows

    writer = SummaryWriter(str(tmp_path))
    written = write_rows(writer, plain_run.rows)
    write_events(writer, plain_run.events)
    writer.close()
    acc = EventAccumulator(str(tmp_path))
    acc.Reload()
    scalars = acc.Scalars("collapse/min_variance")
    assert [s.step for s in scalars] == [r["step"] for r in plain_run.rows]
    assert scalars[-1].value == pytest.approx(plain_run.rows[-1]["min_variance"], rel=1e-6)
    assert written == sum(1 for r in plain_run.rows for k, v in r.items()
                          if k != "step" and v is not None and math.isfinite(v))


def test_heat_map_outlines_the_pixels_below_the_noise_level(plain_run: CollapseMonitor,
                                                             tmp_path: Path) -> None:
    fig = plain_run.heatmap(str(tmp_path / "pixels.png"))
    below = int((plain_run.pixel_min_variance < plain_run.limits.noise_variance).sum())
    assert len(fig.axes[0].patches) == below > 0
    assert (tmp_path / "pixels.png").stat().st_size > 0


def test_lightning_trainer_logs_and_stops() -> None:
    pytest.importorskip("lightning")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        trainer, callback = _load("monitor_lightning").main(max_steps=3000)
    reason = callback.monitor.stop_reason
    assert reason is not None and reason.code == "collapse"
    assert trainer.global_step == reason.step < 3000
    assert sum(issubclass(w.category, CollapseWarning) for w in caught) == 1
    logged = trainer.callback_metrics
    assert float(logged["collapse/min_variance"]) == pytest.approx(
        callback.monitor.rows[-1]["min_variance"], rel=1e-6)
    assert "collapse/max_objective" in logged


def test_assertions_pass_for_a_floor_and_fail_with_the_audit_explanation() -> None:
    example = _load("test_vae_floor_example")
    example.test_decoder_variance_has_a_floor()
    example.test_objective_is_bounded_on_my_data()
    example.test_my_regression_loss_is_bounded_below()
    plain = example.make_model(floor=None)
    with pytest.raises(ObjectiveNotBoundedError, match=r"floor 0 < at_least.*arbitrarily close to 0"):
        assert_variance_floor(plain.decoder, at_least=1e-4, latent_dim=4, variance="logvar")
    # without the probe (steps=0) a floor of 0 does not show the objective unbounded: undecided,
    # which is not "bounded" either, and the message carries the audit's reason
    with pytest.raises(ObjectiveNotBoundedError, match=r"decision is 'undecided'.*floor is 0"):
        assert_audit_bounded(plain, np.random.default_rng(0).random((32, 64)), variance="logvar",
                             steps=0)
    floored = example.make_model(floor=1e-3).decoder
    with pytest.raises(ObjectiveNotBoundedError, match=r"floor 0\.001 < at_least = 0\.01"):
        assert_variance_floor(floored, at_least=1e-2, latent_dim=4, variance="logvar")
    # the floor is proven with outward-rounded float64 intervals: 1e-3 less a few ulps
    rounding = 16 * 2.0**-52
    record = assert_variance_floor(floored, at_least=1e-3 * (1 - rounding), example=torch.zeros(2, 4),
                                   variance="logvar")
    assert record.floor == pytest.approx(1e-3, rel=rounding)


def test_model_pixel_variance_for_the_audit_report() -> None:
    from vaeproofs.monitor import model_pixel_variance

    model = _load("test_vae_floor_example").make_model(floor=1e-3)
    x = np.random.default_rng(0).random((20, 64))
    torch.manual_seed(1)
    got = model_pixel_variance(model, x, variance="logvar")
    torch.manual_seed(1)
    with torch.no_grad():
        expected = model(torch.as_tensor(x, dtype=torch.float32))[1].exp().amin(0).double().numpy()
    assert got.shape == (64,)
    np.testing.assert_allclose(got, expected, rtol=1e-6)
    assert got.min() >= 1e-3 * (1 - 1e-6)  # the floor the audit proves for this head


def test_assert_objective_bounded_on_a_regressor_nll() -> None:
    # audit_objective on the Gaussian NLL of a regressor (examples/audit_regressor.py): its
    # floored variance head (1e-2) proves a lower bound of the loss; the free one proves none.
    reg = _load("audit_regressor")
    x, y = reg.load()
    report = assert_objective_bounded(reg.make_floored(), (x, y), reg.nll, variance="var", steps=0,
                                      progress=False)
    assert report.bounded is True and report.loss_lower_bound is not None
    assert math.isfinite(report.loss_lower_bound)
    with pytest.raises(ObjectiveNotBoundedError, match=r"decision is '(undecided|fails)'"):
        assert_objective_bounded(reg.make(), (x, y), reg.nll, variance="var", steps=0, progress=False)
