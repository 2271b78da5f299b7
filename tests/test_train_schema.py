"""Real ``vaeproofs train --json`` outputs validate against the shipped JSON Schema.

Runs: a normal run, a run that diverges in its loss, and a run whose metrics overflow
(non-finite numbers written as null and listed under ``non_finite``).  The interrupted
run is validated in ``test_train_interrupt.py``.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import numpy as np
import pytest

from vaeproofs.cli import main
from vaeproofs.numeric.training import TrainConfig
from vaeproofs.schemas import load_schema

TINY = ["--n-train", "8", "--steps", "20", "--hidden", "16", "--latent-dim", "2",
        "--n-test", "20", "--iwae-samples", "8", "--elbo-samples", "2", "--log-every", "10",
        "--no-progress"]


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = load_schema("train")
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def _run(tmp_path: Path, *extra: str) -> dict[str, Any]:
    out = tmp_path / "run.json"
    assert main(["train", *TINY, *extra, "--json", str(out)]) == 0
    return json.loads(out.read_text())


def test_normal_run_validates(tmp_path: Path, validator: jsonschema.Draft202012Validator) -> None:
    doc = _run(tmp_path, "--likelihood", "floor")
    validator.validate(doc)
    assert doc["outcome"] == "completed" and "non_finite" not in doc
    # The schema lists every TrainConfig option: a new option must be added to it.
    assert set(validator.schema["properties"]["config"]["required"]) == set(
        TrainConfig.__dataclass_fields__)


@pytest.mark.parametrize("extra", [["--likelihood", "gaussian-nll-eps", "--nll-eps", "1e-3"],
                                   ["--likelihood", "beta-nll"], ["--dequantize", "fresh"]])
def test_runs_with_optional_metrics_validate(tmp_path: Path, extra: list[str],
                                             validator: jsonschema.Draft202012Validator) -> None:
    doc = _run(tmp_path, *extra)
    validator.validate(doc)
    has_objective = "--likelihood" in extra
    assert ("train_objective_max" in doc["history"][0]) == has_objective


def test_loss_divergence_validates(tmp_path: Path, validator: jsonschema.Draft202012Validator
                                   ) -> None:
    doc = _run(tmp_path, "--dtype", "float32", "--lr", "1000")
    validator.validate(doc)
    assert doc["outcome"] == "diverged" and doc["diverged_at_step"] == 2


def test_non_finite_metrics_are_null_listed_and_valid(
        tmp_path: Path, validator: jsonschema.Draft202012Validator) -> None:
    # Data of size 1e200: the squared error of the fixed head overflows float64 at step 0.
    data = tmp_path / "huge.npy"
    np.save(data, np.full((30, 4), 1e200))
    doc = _run(tmp_path, "--likelihood", "fixed", "--data", str(data))
    validator.validate(doc)
    assert doc["outcome"] == "diverged" and doc["diverged_at_step"] == 0
    assert doc["history"][0]["train_elbo_mean"] is None
    assert {"path": "history[0].train_elbo_mean", "value": "-inf"} in doc["non_finite"]
    assert doc["final"] == {} and all(v is None for v in doc["best"].values())


def test_the_schema_has_teeth(tmp_path: Path, validator: jsonschema.Draft202012Validator
                              ) -> None:
    doc = _run(tmp_path)
    validator.validate(doc)
    broken: list[dict[str, Any]] = []
    for mutate in (lambda d: d.pop("history"), lambda d: d.update(outcome="crashed"),
                   lambda d: d["history"][0].update(test_iwae="nan"),
                   lambda d: d["config"].update(unknown=1),
                   lambda d: d["best"].update(test_iwae_step=1.5),
                   lambda d: d.update(non_finite=[{"path": "x", "value": "NaN"}])):
        bad = copy.deepcopy(doc)
        mutate(bad)
        broken.append(bad)
    for bad in broken:
        assert not validator.is_valid(bad)
