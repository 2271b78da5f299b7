"""audit_objective: proofs on a regressor, a loss module and sigma-VAE's soft clip; the witness
rule; the user's objects untouched; data forms and errors.

Closed-form bounds are compared with a tolerance of one rounding per operation for up to 1000
float64 operations (outward-rounded interval arithmetic widens each by at most one ulp), and the
proven bound must never be above the closed form (it is a valid lower bound).
"""

from __future__ import annotations

import copy
import importlib.util
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from vaeproofs.audit import audit_objective
from vaeproofs.audit.floor import VarianceFloor
from vaeproofs.audit.loss_bound import LossBound
from vaeproofs.audit.objective_probe import ObjectiveProbe
from vaeproofs.audit.objective_verdict import objective_evidence
from vaeproofs.audit.verdict import decide_audit
from vaeproofs.errors import InvalidArgumentError

ROOT = Path(__file__).resolve().parents[1]
LOG_2PI = math.log(2 * math.pi)
REL = 1000 * 2.0**-52


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"example_{name}", ROOT / "examples" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


reg = _load("audit_regressor")
lm = _load("audit_loss_module")


@pytest.fixture(scope="module")
def diabetes() -> tuple[np.ndarray, np.ndarray]:
    return reg.load()


@pytest.fixture(scope="module")
def digits() -> np.ndarray:
    return lm.load()


def _close_below(bound: float, closed: float) -> bool:
    return bound <= closed and closed - bound <= REL * abs(closed)


def test_unfloored_regressor_is_not_bounded_with_a_witness(diabetes) -> None:
    rep = audit_objective(reg.make(), diabetes, reg.nll, variance="var", progress=False)
    assert rep.decision == "fails" and rep.bounded is False
    assert rep.loss_lower_bound == -math.inf
    probe = rep.objective_probe
    assert probe.witness == "density" and probe.stopped == "witness"
    assert probe.best_log_density_per_row > probe.witness_cap_per_row
    assert probe.witness_cap_per_row == -0.5 * (LOG_2PI + math.log(1e-3 * rep.data["pixel_variance_mean"]))
    assert rep.variance_floor.floor == 0.0
    assert rep.advice[0].topic == "floor"


def test_same_regressor_without_a_witness_is_undecided(diabetes) -> None:
    # steps=0: the static proofs alone (floor 0, no finite bound) do not make it "not bounded".
    rep = audit_objective(reg.make(), diabetes, reg.nll, variance="var", steps=0)
    assert rep.decision == "undecided" and rep.loss_lower_bound == -math.inf
    assert not [a for a in rep.advice if a.topic == "floor"]


def test_floored_regressor_is_bounded_at_the_closed_form(diabetes) -> None:
    rep = audit_objective(reg.make_floored(), diabetes, reg.nll, variance="var", steps=50, progress=False)
    assert rep.decision == "holds" and rep.bounded is True
    closed = 0.5 * (LOG_2PI + math.log(1e-2))  # mean NLL at var = 0.01, residual 0
    assert _close_below(rep.loss_lower_bound, closed)
    assert rep.objective_probe.best_loss >= rep.loss_lower_bound
    assert rep.variance_floor.floor == pytest.approx(1e-2, rel=16 * 2.0**-52)


def test_loss_module_variance(digits) -> None:
    x = digits
    # Soft-clipped log-variance: bounded; logvar left out of the optimiser: a constant, bounded;
    # logvar trained: no finite bound (and no witness the rule accepts: the output has no variance).
    clip = math.log(1e-3)
    model = lm.make()
    loss = lm.LearnedVarianceLoss(floor=clip)
    before_model, before_loss = copy.deepcopy(model.state_dict()), loss.logvar.detach().clone()
    opt = torch.optim.Adam([*model.parameters(), loss.logvar], lr=1e-3)
    rep = audit_objective(model, x, loss, optimizer=opt, steps=20, progress=False)
    assert rep.decision == "holds"
    closed = x.shape[1] * 0.5 * (LOG_2PI + clip)  # per point: 64 pixels at the clipped variance, KL >= 0
    assert _close_below(rep.loss_lower_bound, closed)
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in before_model.items())
    assert torch.equal(loss.logvar.detach(), before_loss) and loss.logvar.grad is None

    # In float64, so that the frozen constants are float64 numbers (the model's dtype is kept).
    model = lm.make().double()
    loss = lm.LearnedVarianceLoss().double()
    left_out = audit_objective(model, x.astype(np.float64), loss, steps=20, progress=False,
                               optimizer=torch.optim.Adam(model.parameters()))
    assert left_out.decision == "holds" and left_out.untrained_parameters == ["objective.logvar"]
    assert _close_below(left_out.loss_lower_bound, x.shape[1] * 0.5 * LOG_2PI)  # logvar stays 0

    trained = audit_objective(model, x, loss, steps=20, progress=False)
    assert trained.decision == "undecided" and trained.loss_lower_bound == -math.inf


def test_sigma_vae_soft_clip_is_bounded(digits) -> None:
    rep = audit_objective(lm.make(), digits, lm.sigma_vae_loss, steps=20, progress=False)
    assert rep.decision == "holds"
    closed = digits.shape[1] * (-6.0 + 0.5 * LOG_2PI)  # log sigma >= -6, residual term >= 0, KL >= 0
    assert _close_below(rep.loss_lower_bound, closed)


def _floor(value: float | None, trainable: tuple[str, ...] = ("raw",)) -> VarianceFloor:
    return VarianceFloor(variance="var", floor=value, bounded=None if value is None else value > 0,
                         cap_per_dim=None, sup=None, expression="softplus(raw)", set_by=(),
                         trainable=trainable, frozen=(), explanation="test floor")


def _probe(**kw) -> ObjectiveProbe:
    base = dict(steps=10, requested_steps=10, n_rows=4, initial_loss=1.0, best_loss=-5.0, final_loss=-5.0,
                witness=None, witness_at_step=None, witness_floor=1e-3, witness_cap_per_row=2.5,
                loss_threshold=-50.0, best_log_density_per_row=3.0, initial_min_variance=1.0,
                min_variance=1e-4, variance_source="test", passed_bound=None, passed_bound_at_step=None,
                plateaued=False, stopped="steps", trained_parameters=[], elapsed_s=0.0, dtype="float64")
    base.update(kw)
    return ObjectiveProbe(**base)


def _bound(lower: float | None, decided: bool = True) -> LossBound:
    return LossBound(lower=lower, decided=decided, reason="" if decided else "an op without a rule",
                     unbounded_paths=("log at x.py:1",) if lower == -math.inf else (), trainable=("raw",),
                     frozen=(), analysed="the whole objective", expression="")


@pytest.mark.parametrize(("bound", "floor", "probe", "expected"), [
    (_bound(-math.inf), _floor(0.0), _probe(witness="density", witness_at_step=3), "fails"),
    (_bound(-math.inf), _floor(0.0), _probe(), "undecided"),                       # no witness
    (_bound(-math.inf), _floor(0.0), _probe(witness="loss", witness_at_step=3), "undecided"),
    (_bound(-math.inf), _floor(None), _probe(witness="density", witness_at_step=3), "undecided"),
    (_bound(-math.inf), _floor(0.0, ()), _probe(witness="density", witness_at_step=3), "undecided"),
    (_bound(None, decided=False), _floor(0.0), _probe(witness="density", witness_at_step=3), "undecided"),
    (_bound(-1.0), _floor(0.0), _probe(witness="density", witness_at_step=3), "holds"),  # eps clamp
    (_bound(-1.0), _floor(1e-2), _probe(passed_bound=True, passed_bound_at_step=4), "conflict"),
])
def test_the_rule(bound, floor, probe, expected) -> None:
    assert decide_audit(objective_evidence(bound=bound, floor=floor, probe=probe, frozen=[]))[0] == expected


def test_dataloader_and_errors(diabetes) -> None:
    x, y = diabetes
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.from_numpy(x),
                                                                        torch.from_numpy(y)), batch_size=10)
    rep = audit_objective(reg.make_floored(), loader, reg.nll, variance="var", steps=0, n_points=12)
    assert rep.decision == "holds" and rep.data["n_points"] == 12
    with pytest.raises(InvalidArgumentError) as info:
        audit_objective(reg.make(), diabetes, lambda m, b: 1 / 0, steps=0)
    assert info.value.argument == "objective" and "ZeroDivisionError" in str(info.value)
    with pytest.raises(InvalidArgumentError, match="one-element"):
        audit_objective(reg.make(), diabetes, lambda m, b: m(b[0])[0], steps=0)
    with pytest.raises(InvalidArgumentError) as info:
        audit_objective(reg.make(), diabetes, reg.nll, optimizer=torch.optim.SGD(nn.Linear(1, 1).parameters(),
                                                                                  lr=0.1))
    assert info.value.argument == "optimizer"


def test_a_tensor_no_copy_reaches_is_trained_in_place_and_restored(diabetes) -> None:
    import types

    holder = types.SimpleNamespace(shift=torch.zeros((), requires_grad=True))  # not a Module: not copied

    def objective(model, batch):
        x, y = batch
        mean, var = model(x)
        return (0.5 * (torch.log(var) + (y[:, None] - mean - holder.shift) ** 2 / var)).mean()

    model = reg.make_floored()
    opt = torch.optim.Adam([*model.parameters(), holder.shift], lr=1e-2)
    rep = audit_objective(model, diabetes, objective, optimizer=opt, steps=30, progress=False)
    assert rep.objective_probe.steps == 30 and "in place: tensor ()" in rep.objective_probe.trained_parameters
    assert holder.shift.item() == 0.0 and holder.shift.grad is None


def test_a_dict_batch_is_probed_but_not_traced(diabetes) -> None:
    x, y = diabetes

    def objective(model, batch):
        return reg.nll(model, (batch["x"], batch["y"]))

    rep = audit_objective(reg.make_floored(), {"x": x, "y": y}, objective, variance="var", steps=5)
    assert rep.decision == "undecided" and rep.loss_lower_bound is None
    assert "pass X as a tuple" in rep.verdict and rep.objective_probe.steps == 5
