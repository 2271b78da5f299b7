"""The explicit torch networks agree with mpmath; float32/float64 limits are where stated."""

from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path

import mpmath
import numpy as np
import pytest
import torch
from torch import nn

from vaeproofs.constructions import evaluate_construction, get, names, networks
from vaeproofs.constructions.precision import relative_error, unit_roundoff
from vaeproofs.errors import InvalidArgumentError

# Agreement of a float64 evaluation (quadrature sums of <= ~2000 terms, each exact to a
# few ulp, with cancellation < 10x) with mpmath: 1e-13 = ~450 ulp of float64.
FLOAT64_RTOL = 1e-13
# Where the float64 error is driven by mean resolution (precision.py), it grows like
# (limit / t)^p, p = 1 (linear: (u x)^2 / sigma^2) or 1/2 (curve: u / s).
RESOLUTION_POWER = {"degenerate_linear": 1.0, "manifold": 0.5,
                    "population_beta_half": 0.5, "population_beta_one": 0.5}


@pytest.mark.parametrize("name", names())
def test_float64_network_agrees_with_mpmath(name: str) -> None:
    c = get(name)
    lim = mpmath.mpf(c.float_limit("float64")["value"])
    checked = 0
    for t in c.default_values():
        value = c.torch_objective(t)
        if value is None:
            assert not c.follows(t), (name, t)
            continue
        tol = FLOAT64_RTOL
        if name in RESOLUTION_POWER:
            tol += float((lim / t) ** RESOLUTION_POWER[name])
        assert relative_error(value, c.objective(t)) <= tol, (name, t)
        checked += 1
    assert checked >= 2


def test_float64_limit_of_half_space_network() -> None:
    # exp(2 alpha) overflows float64 at alpha = log(DBL_MAX)/2 = 354.89.
    c = get("exact_likelihood")
    lim = float(c.float_limit("float64")["value"])   # 6 significant digits
    assert lim == pytest.approx(np.log(np.finfo(np.float64).max) / 2, rel=5e-6)
    assert c.torch_objective(354.0) is not None
    assert c.torch_objective(356.0, force=True) is None      # nan from 0 * inf
    assert c.torch_objective(356.0) is None


def test_float32_follows_then_stops() -> None:
    # float32: exp(2 alpha) overflows at alpha = 44.36; before that the network agrees with
    # mpmath to float32 accuracy (1e-5 = ~170 ulp of float32 for the quadrature sum).
    c = get("exact_likelihood")
    assert float(c.float_limit("float32")["value"]) == pytest.approx(
        np.log(np.finfo(np.float32).max) / 2, rel=5e-6)
    v = c.torch_objective(20, dtype="float32")
    assert relative_error(v, c.objective(20)) < 1e-5
    assert c.torch_objective(45, dtype="float32", force=True) is None
    s = get("student_t_elbo")
    assert s.torch_objective("1e-30", dtype="float32") is not None
    assert s.torch_objective("1e-40", dtype="float32", force=True) is None


def test_manifold_float32_loses_the_sequence_at_mean_resolution() -> None:
    # Past gamma = 5 u^2 the float32 reconstruction term is rounding noise: the error is
    # no longer small (> 1e-3 relative at gamma = 1e-16, limit 1.8e-14).
    c = get("manifold")
    assert float(c.float_limit("float32")["value"]) == pytest.approx(
        5 * float(unit_roundoff("float32")) ** 2, rel=5e-6)    # 6 significant digits
    good = c.torch_objective("1e-6", dtype="float32")
    assert relative_error(good, c.objective("1e-6")) < 1e-4
    bad = c.torch_objective("1e-16", dtype="float32", force=True)
    assert bad is None or relative_error(bad, c.objective("1e-16")) > 1e-3


def test_networks_are_real_layers() -> None:
    c = get("memorising_elbo")
    net = networks.CellStepDecoder(c.array, boundaries=[float(b) for b in c.boundaries()])
    kinds = {type(m) for m in net.modules()}
    assert nn.Linear in kinds and nn.Sigmoid in kinds
    centres = torch.tensor([[float(x)] for x in c.centres()], dtype=torch.float64)
    # At the cell centres the network outputs the training points exactly.
    assert torch.equal(net(centres), torch.as_tensor(c.array))
    mf = networks.HalfSpaceVarianceDecoder(np.array([0.5, -1.0]), alpha=10.0)
    mean, log_var = mf(torch.tensor([[-1.0], [1.0]], dtype=torch.float64))
    assert torch.equal(mean[0], torch.tensor([0.5, -1.0], dtype=torch.float64))
    # log v(z) = alpha tanh(alpha z) - alpha: about -2 alpha for z < 0, about 0 for z > 0.
    # Reference: the same formula with Python's math.tanh (float64), to 4 ulp of 20.
    assert float(log_var[0, 0]) == pytest.approx(10 * math.tanh(-10.0) - 10, abs=2e-14)
    assert float(log_var[1, 0]) == pytest.approx(10 * math.tanh(10.0) - 10, abs=2e-14)


def test_bad_dtype() -> None:
    with pytest.raises(InvalidArgumentError, match=r"^dtype:"):
        get("manifold").torch_objective("0.1", dtype="float16")


def test_evaluate_row_keys() -> None:
    row = evaluate_construction(get("degenerate_linear"), ["0.1", "1e-1000"])
    for key in ("name", "bounded", "parameter", "parameter_values", "values",
                "torch_float64", "rate", "cap", "correct_digits", "torch_rel_error",
                "float64_limit", "float32_limit", "sources"):
        assert key in row.to_json()
    assert row.torch_float64[1] is None
    assert row.limit == "oo" and row.limit_value is None and row.diverges
    assert row.values[1].startswith("9188.86")   # 4 log(1e1000) + constant, exact form


@pytest.mark.slow
def test_script_writes_json_and_png(tmp_path: Path) -> None:
    """The script's ``main`` in this process (the rows come from this worker's memo of
    ``evaluate_named`` when other tests computed them: tests/conftest.py)."""
    script = Path(__file__).resolve().parents[1] / "derivations" / "constructions.py"
    spec = importlib.util.spec_from_file_location("constructions_script", script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main(["--out", str(tmp_path), "--quick"]) == 0
    rows = json.loads((tmp_path / "constructions.json").read_text())
    assert [r["name"] for r in rows] == names()
    assert (tmp_path / "constructions.png").stat().st_size > 10_000
    for r in rows:
        assert isinstance(r["bounded"], bool)
        assert len(r["values"]) == len(r["parameter_values"]) == len(r["torch_float64"])
        assert (r["cap"] is None) != r["bounded"]
