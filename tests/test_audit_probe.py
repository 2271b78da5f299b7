"""audit_vae on small models: untouched user objects, untrained variance parameters,
a fixed sigma = 0.05 (very negative loss, yet bounded), a floor-free head, the verdict rule."""

from __future__ import annotations

import copy
import importlib.util
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from vaeproofs.audit import audit_vae
from vaeproofs.audit.floor import variance_floor
from vaeproofs.audit.probe import ProbeResult
from vaeproofs.audit.verdict import build_evidence, decide_audit
from vaeproofs.errors import InvalidArgumentError

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("audit_example", ROOT / "examples" / "audit_example.py")
example = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(example)


def _data(n: int = 40, d: int = 64, scale: float = 1.0) -> np.ndarray:
    rng = np.random.default_rng(0)
    return scale * rng.uniform(0.0, 1.0, size=(n, d))


class HeadVAE(nn.Module):
    """Encoder and decoder mean as in the example; the variance output set by ``kind``."""

    def __init__(self, kind: str, d: int = 8, k: int = 2) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.kind = kind
        self.enc = nn.Linear(d, 2 * k)
        self.dec = nn.Linear(k, d)
        self.logvar = nn.Parameter(torch.zeros(()))
        if kind == "fixed":  # start the mean at 0: on data near 0 the objective is large at once
            with torch.no_grad():
                self.dec.weight.zero_()
                self.dec.bias.zero_()

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        mu_z, lv_z = self.enc(x).chunk(2, dim=-1)
        z = mu_z + torch.exp(0.5 * lv_z) * torch.randn_like(mu_z)
        mu = self.dec(z)
        if self.kind == "fixed":  # alibi-detect: sigma = 0.05
            return mu, torch.full_like(mu, 0.05), mu_z, lv_z
        return mu, self.logvar * torch.ones_like(mu), mu_z, lv_z


def test_probe_leaves_model_and_optimizer_untouched() -> None:
    model, opt = example.make_with_optimizer()
    x = torch.from_numpy(_data()).float()
    for _ in range(3):  # give the optimiser a state (Adam moments)
        loss = example.loss(x, *model(x))
        opt.zero_grad()
        loss.backward()
        opt.step()
    params = copy.deepcopy(model.state_dict())
    state = copy.deepcopy(opt.state_dict())
    grads = [None if p.grad is None else p.grad.clone() for p in model.parameters()]
    rng = torch.get_rng_state()
    threads = torch.get_num_threads()
    audit_vae(model, x.numpy(), variance="logvar", loss_fn=example.loss, optimizer=opt, steps=20,
              progress=False)
    assert all(torch.equal(params[k], v) for k, v in model.state_dict().items())
    after = opt.state_dict()
    assert after["param_groups"] == state["param_groups"]
    for key, s in state["state"].items():
        for name, value in s.items():
            assert torch.equal(torch.as_tensor(after["state"][key][name]), torch.as_tensor(value))
    assert all((g is None and p.grad is None) or torch.equal(g, p.grad)
               for g, p in zip(grads, model.parameters(), strict=True))
    assert torch.equal(torch.get_rng_state(), rng)
    assert torch.get_num_threads() == threads
    assert next(model.parameters()).dtype == torch.float32


def test_logvar_left_out_of_the_optimizer_is_fixed_in_practice() -> None:
    model = HeadVAE("scalar")
    opt = torch.optim.Adam([p for n, p in model.named_parameters() if n != "logvar"], lr=1e-3)
    rep = audit_vae(model, _data(d=8), variance="logvar", optimizer=opt, steps=30, progress=False)
    assert rep.untrained_parameters == ["logvar"]
    assert rep.variance_floor.floor == 1.0 and rep.variance_floor.frozen == ("logvar",)
    assert rep.as_written_floor is not None and rep.as_written_floor.floor == 0.0
    assert rep.min_variance == 1.0  # exp(0): the parameter never moved
    assert rep.bounded is True and "logvar" in rep.verdict
    # Without the optimiser the same parameter trains: no floor.
    # Without the optimiser the same parameter trains: floor 0, but with no probe nothing shows
    # that the mean can reproduce a training point, so the verdict stays undecided.
    free = audit_vae(model, _data(d=8), variance="logvar", steps=0)
    assert free.variance_floor.floor == 0.0 and free.bounded is None
    assert free.decision == "undecided"


def test_fixed_sigma_is_bounded_although_the_loss_is_very_negative() -> None:
    model = HeadVAE("fixed")
    data = _data(d=8, scale=1e-3)  # tiny per-pixel variance: the ELBO per point is large
    rep = audit_vae(model, data, variance="std", steps=300, progress=False, n_points=8)
    cap = -0.5 * 8 * math.log(2 * math.pi * 0.05**2)
    assert rep.bounded is True and rep.decision == "holds"
    assert math.isclose(rep.cap_per_point, cap, rel_tol=1e-12)
    assert rep.min_variance == pytest.approx(0.05**2, rel=1e-12)
    # Very negative loss (large objective), still below the cap: the probe's log-density
    # per point can never pass it.
    assert rep.best_objective_per_point > 0
    assert rep.probe.best_log_density_per_point <= cap
    assert rep.probe.passed_cap is False
    assert "Bounded" in rep.verdict


def test_floor_free_head_without_a_probe_is_undecided() -> None:
    # Floor 0 alone is not unboundedness: the mean must also reach a training point.
    model = HeadVAE("scalar")
    rep = audit_vae(model, _data(d=8), variance="logvar", steps=0)
    assert rep.bounded is None and rep.decision == "undecided" and rep.probe is None
    assert rep.cap_per_point == math.inf
    assert "Shown: the static floor is 0" in rep.verdict and "Not shown" in rep.verdict


def test_loss_ignoring_the_variance_is_bounded() -> None:
    def mse(x, mu_x, logvar_x, mu_z, logvar_z):
        kl = 0.5 * (mu_z**2 + torch.exp(logvar_z) - 1 - logvar_z).sum(-1)
        return (0.5 * ((x - mu_x) ** 2).sum(-1) + kl).sum()

    rep = audit_vae(HeadVAE("scalar"), _data(d=8), variance="logvar", loss_fn=mse, steps=0)
    assert rep.loss_check.fixed_variance is not None
    assert rep.bounded is True


def test_probe_passing_the_cap_is_a_conflict() -> None:
    class Bounded(nn.Module):
        def forward(self, z):
            return z, torch.full_like(z, 0.5)

    floor = variance_floor(Bounded(), latent_dim=2, variance="var")
    probe = ProbeResult(steps=5, requested_steps=5, n_points=2, best_objective_per_point=10.0,
                        best_log_density_per_point=10.0, min_variance=1e-9,
                        initial_min_variance=1.0, passed_cap=True, passed_cap_at_step=3,
                        running_off=True, stopped="steps", trained_parameters=[],
                        elapsed_s=0.0, dtype="float64")
    ev = build_evidence(floor=floor, as_written=None, probe=probe, loss_check=None,
                        loss_error=None, dim=2, untrained_on_path=[])
    assert decide_audit(ev) == ("conflict", None)


@pytest.mark.parametrize(("kwargs", "argument"), [
    ({"variance": "sigma"}, "variance"),
    ({"variance": "logvar", "n_points": 0}, "n_points"),
    ({"variance": "logvar", "steps": -1}, "steps"),
    ({"variance": "logvar", "optimizer": "adam"}, "optimizer"),
    # an optimiser of another model says nothing about this one's parameters
    ({"variance": "logvar", "optimizer": torch.optim.SGD(nn.Linear(2, 2).parameters(), lr=0.1)},
     "optimizer"),
    # the user's loss failing is the user's error, named, not an internal one
    ({"variance": "logvar", "steps": 3, "loss_fn": lambda *a: 1 / 0}, "loss_fn"),
    ({"variance": "logvar", "steps": 3, "loss_fn": lambda *a: "0.5"}, "loss_fn"),
    ({"variance": "logvar", "steps": 3, "loss_fn": lambda x, *a: x.sum(dim=1)}, "loss_fn"),
    ({"variance": "logvar", "steps": 3, "loss_fn": lambda x, *a: x.sum()}, "loss_fn"),  # no grad
])
def test_bad_arguments(kwargs: dict, argument: str) -> None:
    with pytest.raises(InvalidArgumentError) as info:
        audit_vae(HeadVAE("scalar"), _data(d=8), **kwargs)
    assert info.value.argument == argument


def test_wrong_data_shape() -> None:
    with pytest.raises(InvalidArgumentError, match="data"):
        audit_vae(HeadVAE("scalar"), _data(d=5), variance="logvar", steps=0)
    with pytest.raises(InvalidArgumentError, match="data"):
        audit_vae(HeadVAE("scalar"), np.zeros(8), variance="logvar", steps=0)
