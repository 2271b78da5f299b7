"""Every operation the static floor covers, as function, method and module.

Each case is a head on a trainable ``Linear`` (whose output r ranges over all reals);
the expected floor is the closed-form infimum of the head over r, written here with
``math`` (not with the interval code).  Tolerance: each floor is at most a handful of
correctly rounded float64 operations away from the closed form, so a relative error of
16 ulp (16 * 2^-52) is a generous bound; a wrong rule is off by far more.
"""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from vaeproofs.audit import variance_floor
from vaeproofs.constants import gaussian_floor_cap

REL = 16 * 2.0**-52
#: The float32 buffer's smallest entry, exactly (0.1 rounded to float32).
BUF_MIN = float(torch.tensor(0.1, dtype=torch.float32))
#: The frozen float32 parameter, exactly.
FIXED = float(torch.tensor(0.7, dtype=torch.float32))


class Head(nn.Module):
    """z (B, 2) -> r = Linear(z) (B, 3), trainable; returns (r, fn(self, r))."""

    def __init__(self, fn, **modules: nn.Module) -> None:
        super().__init__()
        self.lin = nn.Linear(2, 3)
        self.fn = fn
        for name, m in modules.items():
            setattr(self, name, m)
        self.register_buffer("buf", torch.tensor([0.1, 0.2, 0.3]))
        self.fixed = nn.Parameter(torch.tensor(0.7), requires_grad=False)

    def forward(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        r = self.lin(z)
        return r, self.fn(self, r)


def _frozen_linear() -> nn.Linear:
    lin = nn.Linear(3, 3)
    with torch.no_grad():
        lin.weight.copy_(torch.tensor([[1.0, -1.0, 0.0], [0.0, 0.0, 1.0], [-2.0, 0.0, 0.0]]))
        lin.bias.copy_(torch.tensor([2.0, 3.0, 4.0]))
    lin.requires_grad_(False)
    return lin


CASES = {
    # exp / log
    "exp": (lambda m, r: torch.exp(r), 0.0),
    "exp of tanh": (lambda m, r: torch.exp(torch.tanh(r)), math.exp(-1)),
    "method exp": (lambda m, r: r.tanh().exp(), math.exp(-1)),
    "log": (lambda m, r: torch.log(torch.exp(torch.tanh(r)) + 1.0), math.log(math.exp(-1) + 1)),
    # softplus with beta and threshold
    "softplus": (lambda m, r: F.softplus(r), 0.0),
    "softplus + c": (lambda m, r: F.softplus(r) + 0.5, 0.5),
    "softplus beta": (lambda m, r: F.softplus(torch.clamp(r, -1.0, 1.0), beta=2.0),
                      math.log1p(math.exp(-2.0)) / 2.0),
    "softplus threshold": (lambda m, r: F.softplus(torch.clamp(r, 6.0, 7.0), threshold=5.0), 6.0),
    "module softplus": (lambda m, r: m.sp(torch.clamp(r, -1.0, 1.0)),
                        math.log1p(math.exp(-2.0)) / 2.0),
    # sigmoid, tanh, relu, elu, abs
    "sigmoid": (lambda m, r: torch.sigmoid(r), 0.0),
    "sigmoid clamped": (lambda m, r: torch.sigmoid(torch.clamp(r, -2.0, 2.0)), 1 / (1 + math.exp(2))),
    "module sigmoid": (lambda m, r: m.sig(torch.clamp(r, -2.0, 2.0)), 1 / (1 + math.exp(2))),
    "tanh": (lambda m, r: torch.tanh(r) + 1.0, 0.0),
    "tanh clamped": (lambda m, r: m.th(torch.clamp(r, min=-1.0)) + 1.0, math.tanh(-1.0) + 1.0),
    "relu": (lambda m, r: F.relu(r), 0.0),
    "relu + c": (lambda m, r: m.relu(r) + 0.3, 0.3),
    "method relu": (lambda m, r: r.relu() + 0.3, 0.3),
    "elu": (lambda m, r: F.elu(r, alpha=0.5) + 1.0, 0.5),
    "module elu": (lambda m, r: m.elu(r) + 1.0, 0.5),
    "abs": (lambda m, r: torch.abs(r), 0.0),
    "abs positive": (lambda m, r: torch.abs(torch.clamp(r, 2.0, 3.0)), 2.0),
    "abs negative": (lambda m, r: torch.clamp(r, -3.0, -2.0).abs(), 2.0),
    # square and pow
    "square": (lambda m, r: torch.square(r), 0.0),
    "square + c": (lambda m, r: r.square() + 1e-3, 1e-3),
    "pow 2": (lambda m, r: r ** 2, 0.0),
    "pow 2 negative": (lambda m, r: torch.pow(torch.clamp(r, -3.0, -2.0), 2), 4.0),
    "pow 0.5": (lambda m, r: torch.clamp(r, 1.0, 2.0).pow(0.5), 1.0),
    "pow -1": (lambda m, r: torch.clamp(r, 1.0, 2.0) ** -1, 0.5),
    "constant base": (lambda m, r: 2.0 ** torch.clamp(r, 1.0, 2.0), 2.0),
    # clamp / clip
    "clamp min": (lambda m, r: torch.clamp(r, min=1e-3), 1e-3),
    "clamp max": (lambda m, r: -torch.clamp(r, max=-0.2), 0.2),
    "clamp both": (lambda m, r: r.clamp(0.1, 1.0), 0.1),
    "clip": (lambda m, r: torch.clip(r, 0.2, 1.0), 0.2),
    "clamp_min": (lambda m, r: r.clamp_min(0.3), 0.3),
    "clamp_max": (lambda m, r: -r.clamp_max(-0.4), 0.4),
    "hardtanh": (lambda m, r: m.ht(r) + 2.0, 1.0),
    # maximum / minimum against constants
    "maximum full_like": (lambda m, r: torch.maximum(r, torch.full_like(r, 0.25)), 0.25),
    "maximum buffer": (lambda m, r: torch.maximum(r, m.buf), BUF_MIN),
    "minimum": (lambda m, r: torch.minimum(torch.exp(r), torch.ones_like(r)) + 0.1, 0.1),
    "minimum clamped": (lambda m, r: torch.minimum(torch.clamp(r, 2.0, 5.0), torch.tensor(3.0)), 2.0),
    # affine maps with constant coefficients
    "affine": (lambda m, r: 3.0 * torch.sigmoid(r) + 0.2, 0.2),
    "affine negative": (lambda m, r: (torch.sigmoid(r) - 2.0) * -0.5, 0.5),
    "division": (lambda m, r: torch.clamp(r, 1.0, 2.0) / 4.0, 0.25),
    "frozen linear": (lambda m, r: m.frozen_lin(torch.sigmoid(r)), 1.0),
    "F.linear frozen": (lambda m, r: F.linear(torch.sigmoid(r), m.frozen_lin.weight,
                                              m.frozen_lin.bias), 1.0),
    # sums of terms, means
    "sum": (lambda m, r: torch.sigmoid(torch.clamp(r, 0.0, 1.0)).sum(-1, keepdim=True), 1.5),
    "torch.sum": (lambda m, r: torch.sum(torch.clamp(r, 1.0, 2.0), dim=-1, keepdim=True), 3.0),
    "mean": (lambda m, r: torch.clamp(r, 0.5, 1.0).mean(-1, keepdim=True), 0.5),
    "sum of terms": (lambda m, r: F.softplus(r) + torch.clamp(r, 0.1, 2.0) + m.buf, 0.1 + BUF_MIN),
    # shape-only operations, chunk and getitem on tuples
    "reshape view": (lambda m, r: torch.clamp(r, 1.0, 2.0).reshape(-1, 3).view(-1, 3), 1.0),
    "expand indexing": (lambda m, r: torch.clamp(r, 1.0, 2.0)[:, 0:1].expand(-1, 3), 1.0),
    "chunk getitem": (lambda m, r: torch.cat(torch.clamp(r, 1.0, 2.0).chunk(3, dim=-1), dim=-1), 1.0),
    "unsqueeze squeeze": (lambda m, r: torch.clamp(r, 1.0, 2.0).unsqueeze(1).squeeze(1), 1.0),
    # full_like and constants
    "full_like": (lambda m, r: torch.full_like(r, 0.05), 0.05),
    "full of a shape": (lambda m, r: torch.full(r.shape, 0.05), 0.05),
    "new_full": (lambda m, r: r.new_full((r.size(0), 3), 0.05), 0.05),
    "buffer": (lambda m, r: m.buf.expand_as(r), BUF_MIN),
    "frozen parameter": (lambda m, r: m.fixed.expand_as(r), FIXED),
    "literal tensor": (lambda m, r: torch.tensor(0.5) * torch.ones_like(r), 0.5),
}

MODULES = dict(sp=nn.Softplus(beta=2.0, threshold=10.0), sig=nn.Sigmoid(), th=nn.Tanh(),
               relu=nn.ReLU(), elu=nn.ELU(alpha=0.5), ht=nn.Hardtanh(-1.0, 1.0),
               frozen_lin=_frozen_linear())


@pytest.mark.parametrize("name", list(CASES))
def test_floor_of_each_operation(name: str) -> None:
    fn, expected = CASES[name]
    vf = variance_floor(Head(fn, **MODULES), latent_dim=2, variance="var")
    assert vf.floor is not None, vf.explanation
    assert math.isclose(vf.floor, expected, rel_tol=REL, abs_tol=0.0), (vf.floor, expected)
    assert vf.bounded is (expected > 0)
    if expected > 0:
        assert math.isclose(vf.cap_per_dim, gaussian_floor_cap(1, expected), rel_tol=1e-12)
        assert vf.set_by or "constants" in vf.explanation
    else:
        assert vf.cap_per_dim == math.inf


@pytest.mark.parametrize(("kind", "fn", "expected"), [
    ("logvar", lambda m, r: torch.clamp(r, -3.0, 1.0), math.exp(-3.0)),
    ("logstd", lambda m, r: torch.clamp(r, -3.0, 1.0), math.exp(-6.0)),
    ("std", lambda m, r: torch.tanh(r), 0.0),  # holds 0: the square's lower end is 0
    ("std", lambda m, r: torch.tanh(r) + 2.0, 1.0),
    ("std", lambda m, r: torch.tanh(r) - 2.0, 1.0),
    ("var", lambda m, r: torch.tanh(r), 0.0),  # negative values are no variance
    ("logvar", lambda m, r: r, 0.0),
])
def test_variance_kinds(kind: str, fn, expected: float) -> None:
    vf = variance_floor(Head(fn), latent_dim=2, variance=kind)
    assert math.isclose(vf.floor, expected, rel_tol=REL), (vf.floor, expected)


def test_trainable_parameter_ranges_over_reals_unless_frozen() -> None:
    class Scalar(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.lin = nn.Linear(2, 3)
            self.raw = nn.Parameter(torch.zeros(()))

        def forward(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            mu = self.lin(z)
            return mu, self.raw.expand_as(mu)

    m = Scalar()
    assert variance_floor(m, latent_dim=2, variance="logvar").floor == 0.0
    held = variance_floor(m, latent_dim=2, variance="logvar", frozen=["raw"])
    assert held.floor == 1.0 and held.frozen == ("raw",)
    assert variance_floor(m, latent_dim=2, variance="logvar", frozen=[m.raw]).floor == 1.0


def test_explanation_names_the_operation() -> None:
    vf = variance_floor(Head(lambda m, r: F.softplus(r) + 0.01), latent_dim=2, variance="var")
    assert "softplus" in vf.explanation and "0.01" in vf.explanation
    assert set(vf.set_by) == {"softplus", "add"}
    zero = variance_floor(Head(lambda m, r: torch.exp(r)), latent_dim=2, variance="var")
    assert "lin" in zero.explanation and zero.trainable == ("lin",)


def test_data_dependent_control_flow_is_not_guessed() -> None:
    class Branchy(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.lin = nn.Linear(2, 3)

        def forward(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            r = self.lin(z)
            if r.sum() > 0:
                return r, torch.exp(r)
            return r, F.softplus(r) + 1.0

    vf = variance_floor(Branchy(), latent_dim=2, variance="var")
    assert vf.bounded is None and vf.floor is None and vf.cap_per_dim is None
    assert "control flow" in vf.explanation


def test_unknown_operation_is_not_guessed() -> None:
    vf = variance_floor(Head(lambda m, r: torch.digamma(r) + 2.0), latent_dim=2, variance="var")
    assert vf.bounded is None and "aten.digamma" in vf.explanation
    assert "test_audit_floor_ops.py:" in vf.explanation  # the user's source line


def test_unknown_operation_off_the_variance_path_is_ignored() -> None:
    class Odd(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.lin = nn.Linear(2, 3)

        def forward(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            r = self.lin(z)
            return torch.digamma(r), F.softplus(r) + 0.5

    assert variance_floor(Odd(), latent_dim=2, variance="var").floor == 0.5


def test_bad_arguments() -> None:
    from vaeproofs.errors import InvalidArgumentError

    with pytest.raises(InvalidArgumentError, match="variance"):
        variance_floor(Head(lambda m, r: r), latent_dim=2, variance="sigma")
    with pytest.raises(InvalidArgumentError, match="latent_dim"):
        variance_floor(Head(lambda m, r: r), latent_dim=0, variance="var")
    with pytest.raises(InvalidArgumentError, match="output"):
        variance_floor(Head(lambda m, r: r), latent_dim=2, variance="var", output=5)
    # a latent_dim the decoder cannot take is bad input (not an undecidable floor) ...
    with pytest.raises(InvalidArgumentError, match=r"latent_dim.*input size"):
        variance_floor(Head(lambda m, r: r), latent_dim=3, variance="var")
    # ... and one whose example input alone would take gigabytes is refused before allocating
    with pytest.raises(InvalidArgumentError, match="latent_dim"):
        variance_floor(Head(lambda m, r: r), latent_dim=10**9, variance="var")


def test_importing_the_audit_does_not_load_sympy() -> None:
    import subprocess
    import sys

    code = ("import sys, vaeproofs.audit, vaeproofs.audit.report, vaeproofs.cli.audit; "
            "print('sympy' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
