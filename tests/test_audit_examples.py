"""The audit examples run (few probe steps) and say what their docstrings say."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
REL = 16 * 2.0**-52


def _run(name: str, steps: int) -> dict:
    spec = importlib.util.spec_from_file_location(f"example_{name}", ROOT / "examples" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.main(steps=steps)


def test_regressor_example(capsys: pytest.CaptureFixture[str]) -> None:
    reps = _run("audit_regressor", steps=100)
    unfloored, floored, gaussian = reps.values()
    assert unfloored.decision == "fails" and floored.decision == "holds"
    assert floored.loss_lower_bound <= 0.5 * (math.log(2 * math.pi) + math.log(1e-2))
    assert gaussian.decision != "fails"  # the eps clamp floors the loss value
    assert "gaussian-nll-eps" in [a.topic for a in gaussian.advice]
    assert "NOT bounded" in capsys.readouterr().out


def test_loss_module_example() -> None:
    reps = _run("audit_loss_module", steps=10)
    assert [r.decision for r in reps.values()] == ["undecided", "holds", "holds", "holds"]


def test_distributions_example() -> None:
    reps = _run("audit_distributions", steps=10)
    vae, obj, vae_floored, obj_floored = reps.values()
    assert vae.variance_floor.floor == 0.0 and vae.decision != "holds" and obj.decision != "holds"
    assert math.isclose(vae_floored.variance_floor.floor, 0.05**2, rel_tol=REL)
    assert vae_floored.decision == "holds" and obj_floored.decision == "holds"
    closed = 0.5 * 64 * math.log(2 * math.pi * 0.05**2)  # -log N at the floor, residual 0, KL >= 0
    assert closed - 1000 * 2.0**-52 * abs(closed) <= obj_floored.loss_lower_bound <= closed
