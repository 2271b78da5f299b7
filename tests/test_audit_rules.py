"""Each rule of the ATen table on its own: sound on random intervals, and mutation tests.

Soundness: a function of one or two tensors is traced (make_fx), its inputs are given
random intervals (fixed seed), and torch's float64 values at 60 points inside each
interval (and at the ends) must lie in the interval the engine computes, up to 8 ulp of
the value (torch's own rounding of a few operations; the engine rounds outward).

Mutation: replacing one table entry by a rule that says nothing (the reals) or that
gives a wrong lower bound must change a floor or a loss bound the tests elsewhere fix,
so every rule family is seen to matter.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from vaeproofs.audit import forms, rules
from vaeproofs.audit.bound import Engine
from vaeproofs.audit.floor import variance_floor
from vaeproofs.audit.intervals import REALS, Interval
from vaeproofs.audit.loss_bound import static_loss_bound
from vaeproofs.audit.trace import trace_call
from vaeproofs.audit.values import Role

TOL_ULP = 8 * np.finfo(np.float64).eps
W = torch.tensor([[0.5, -1.0, 2.0, 0.0], [1.5, 0.25, -0.75, 1.0], [-2.0, 0.0, 0.5, 0.5]],
                 dtype=torch.float64)
CONV = torch.tensor([[[[0.5, -1.0], [0.25, 2.0]]], [[[-0.5, 0.0], [1.0, 1.0]]]], dtype=torch.float64)

UNARY = {  # name -> (function, domain of the random intervals)
    "exp": (torch.exp, (-5, 5)), "log": (torch.log, (1e-3, 10)), "log1p": (torch.log1p, (-0.9, 5)),
    "expm1": (torch.expm1, (-5, 5)), "sqrt": (torch.sqrt, (0, 10)), "rsqrt": (torch.rsqrt, (1e-2, 10)),
    "sigmoid": (torch.sigmoid, (-8, 8)), "tanh": (torch.tanh, (-4, 4)),
    "relu": (lambda x: F.relu(x), (-3, 3)),
    "abs": (torch.abs, (-3, 3)), "square": (torch.square, (-3, 3)),
    "reciprocal": (torch.reciprocal, (0.1, 4)), "neg": (torch.neg, (-3, 3)),
    "softplus": (F.softplus, (-30, 30)),
    "softplus beta threshold": (lambda x: F.softplus(x, beta=2.0, threshold=3.0), (-4, 4)),
    "elu": (lambda x: F.elu(x, alpha=0.7), (-4, 4)), "selu": (lambda x: F.selu(x), (-4, 4)),
    "leaky_relu": (lambda x: F.leaky_relu(x, 0.1), (-4, 4)),
    "hardtanh": (lambda x: F.hardtanh(x, -0.5, 0.5), (-2, 2)),
    "clamp": (lambda x: torch.clamp(x, -0.5, 1.5), (-3, 3)),
    "clamp_min": (lambda x: x.clamp_min(0.2), (-3, 3)), "clamp_max": (lambda x: x.clamp_max(0.2), (-3, 3)),
    "silu": (lambda x: F.silu(x), (-4, 4)), "gelu": (lambda x: F.gelu(x), (-3, 3)),
    "gelu tanh": (lambda x: F.gelu(x, approximate="tanh"), (-3, 3)),
    "erf": (torch.erf, (-3, 3)), "lgamma": (torch.lgamma, (0.05, 6)),
    "logsigmoid": (F.logsigmoid, (-8, 8)), "pow 3": (lambda x: x**3, (-2, 2)),
    "pow 0.5": (lambda x: x**0.5, (0, 4)), "pow -2": (lambda x: x**-2, (0.5, 3)),
    "constant base": (lambda x: 2.0**x, (-3, 3)), "add": (lambda x: x + 1e-4, (-3, 3)),
    "mul": (lambda x: -0.3 * x, (-3, 3)), "div": (lambda x: x / 3.0, (-3, 3)),
    "rsub": (lambda x: 1.0 - x, (-3, 3)), "floor": (torch.floor, (-3, 3)),
    "sign": (torch.sign, (-3, 3)), "where": (lambda x: torch.where(x > 0, x, 0.1 * x), (-3, 3)),
    "sum": (lambda x: x.sum(-1), (-3, 3)), "mean": (lambda x: x.mean(), (-3, 3)),
    "logsumexp": (lambda x: torch.logsumexp(x, -1), (-3, 3)),
    "amax": (lambda x: x.amax(-1), (-3, 3)),
    "softmax": (lambda x: torch.softmax(x, -1), (-3, 3)),
    "log_softmax": (lambda x: torch.log_softmax(x, -1), (-3, 3)),
    "layer_norm": (lambda x: F.layer_norm(x, (4,)), (-3, 3)),
    "layer_norm affine": (lambda x: F.layer_norm(x, (4,), torch.full((4,), 2.0, dtype=torch.float64),
                                                 torch.ones(4, dtype=torch.float64)), (-3, 3)),
    "group_norm": (lambda x: F.group_norm(x.reshape(3, 2, 2), 1), (-3, 3)),
    "batch_norm train": (lambda x: F.batch_norm(x, None, None, training=True), (-3, 3)),
    "batch_norm eval": (lambda x: F.batch_norm(x, torch.tensor([0.0, 1.0, 2.0, 3.0], dtype=torch.float64),
                                               torch.tensor([1.0, 4.0, 0.25, 1.0], dtype=torch.float64)),
                        (-3, 3)),
    "linear constant": (lambda x: F.linear(x, W, torch.tensor([0.1, -0.2, 0.3], dtype=torch.float64)),
                        (-3, 3)),
    "matmul constant": (lambda x: x @ W.T, (-3, 3)),
    "conv2d constant": (lambda x: F.conv2d(x.reshape(1, 1, 3, 4), CONV, padding=1), (-3, 3)),
    "conv_transpose2d constant": (lambda x: F.conv_transpose2d(x.reshape(1, 1, 3, 4), CONV.transpose(0, 1)),
                                  (-3, 3)),
    "views": (lambda x: x.t().reshape(2, 6).permute(1, 0)[1:4].unsqueeze(0).expand(2, 3, 2), (-3, 3)),
    "cat stack split": (lambda x: torch.cat([torch.stack(x.split(2, -1)).sum(0), x], -1), (-3, 3)),
}

BINARY = {
    "add": (lambda x, y: x + y, (-3, 3), (-3, 3)), "sub": (lambda x, y: x - y, (-3, 3), (-3, 3)),
    "mul": (lambda x, y: x * y, (-3, 3), (-3, 3)), "div": (lambda x, y: x / y, (-3, 3), (0.5, 3)),
    "maximum": (torch.maximum, (-3, 3), (-3, 3)), "minimum": (torch.minimum, (-3, 3), (-3, 3)),
    "bmm": (lambda x, y: x.reshape(1, 3, 4) @ y.reshape(1, 4, 3), (-3, 3), (-3, 3)),
    "pow tensor": (lambda x, y: torch.pow(x, 2.0 * torch.ones_like(y)), (-3, 3), (-3, 3)),
    "clamp tensor": (lambda x, y: torch.clamp(x, min=y), (-3, 3), (-1, 1)),
    "add alpha": (lambda x, y: torch.add(x, y, alpha=-2.0), (-3, 3), (-3, 3)),
    "rsub alpha": (lambda x, y: torch.rsub(x, y, alpha=2.0), (-3, 3), (-3, 3)),
    "div floor": (lambda x, y: torch.div(x, y, rounding_mode="floor"), (-3, 3), (0.5, 3)),
    "div trunc": (lambda x, y: torch.div(x, y, rounding_mode="trunc"), (-3, 3), (0.5, 3)),
    "sub alpha of a form": (lambda x, y: torch.sub(x.exp(), x, alpha=3.0) + 0 * y, (-2, 2), (0, 1)),
    "attention": (lambda x, y: F.scaled_dot_product_attention(
        x.reshape(1, 1, 3, 4), y.reshape(1, 1, 3, 4), y.reshape(1, 1, 3, 4)), (-3, 3), (-2, 1)),
    "mse_loss": (lambda x, y: F.mse_loss(x, y, reduction="sum"), (-3, 3), (-3, 3)),
    "l1_loss": (lambda x, y: F.l1_loss(x, y), (-3, 3), (-3, 3)),
    "huber_loss": (lambda x, y: F.huber_loss(x, y, reduction="none", delta=0.5), (-3, 3), (-3, 3)),
    "smooth_l1_loss": (lambda x, y: F.smooth_l1_loss(x, y, reduction="sum", beta=2.0), (-3, 3), (-3, 3)),
    "binary_cross_entropy": (lambda x, y: F.binary_cross_entropy(x, y), (0.01, 0.99), (0, 1)),
    "bce_with_logits": (lambda x, y: F.binary_cross_entropy_with_logits(x, y, reduction="sum"),
                        (-3, 3), (0, 1)),
    "slice_scatter": (lambda x, y: torch.slice_scatter(x, y[:, :2], dim=1, start=1, end=3),
                      (-3, 3), (5, 6)),
    "form after a constant": (lambda x, y: torch.ones(3, 4, dtype=torch.float64).add(x.exp())
                              - x + 0 * y, (-3, 3), (0, 1)),
    "kl form": (lambda x, y: 0.5 * (y**2 + x.exp() - 1 - x), (-6, 6), (-3, 3)),
    "nll form": (lambda x, y: 0.5 * y**2 / torch.exp(x) + 0.5 * x, (-6, 6), (-3, 3)),
}


def _bounds(traced, intervals: list[Interval]) -> Interval:
    engine = Engine(traced.gm, {p: Role("input", f"x{i}") for i, p in enumerate(traced.placeholders)})
    for p, interval in zip(traced.placeholders, intervals, strict=True):
        engine.memo[p] = interval
    out = traced.output[0] if isinstance(traced.output, list | tuple) else traced.output
    value = engine.value(out)
    return value[0] if isinstance(value, tuple) else value


def _check(fn, domains: list[tuple[float, float]], seed: int) -> None:
    rng = np.random.default_rng(seed)
    traced = trace_call(fn, [torch.rand(3, 4, dtype=torch.float64) for _ in domains])
    for _ in range(4):
        ends = [np.sort(rng.uniform(lo, hi, size=2)) for lo, hi in domains]
        intervals = [Interval(float(a), float(b)) for a, b in ends]
        points = [torch.from_numpy(np.concatenate([[a, b], rng.uniform(a, b, 58)]))
                  for a, b in ends]
        out = _bounds(traced, intervals)
        for k in range(3):  # three arrangements of the 60 points into the (3, 4) input
            xs = [p[torch.from_numpy(rng.permutation(60)[:12])].reshape(3, 4) for p in points]
            if k == 0:
                xs = [p[:12].reshape(3, 4) for p in points]
            ys = fn(*xs).detach().numpy().ravel()
            tol = TOL_ULP * np.maximum(np.abs(ys), 1.0)
            assert np.all(ys >= out.lo - tol) and np.all(ys <= out.hi + tol), (intervals, out, ys)


@pytest.mark.parametrize("name", list(UNARY))
def test_unary_rule_is_sound(name: str) -> None:
    fn, domain = UNARY[name]
    _check(fn, [domain], seed=sorted(UNARY).index(name))


@pytest.mark.parametrize("name", list(BINARY))
def test_binary_rule_is_sound(name: str) -> None:
    fn, d1, d2 = BINARY[name]
    _check(fn, [d1, d2], seed=100 + sorted(BINARY).index(name))


def test_every_rule_family_is_in_the_table() -> None:
    for name in ("aten.softplus", "aten.exp", "aten.clamp_min", "aten.add", "aten.pow.Tensor_Scalar",
                 "aten.where.self", "aten.expand", "aten.sum", "aten.addmm", "aten.convolution",
                 "aten.native_layer_norm", "aten.native_group_norm", "aten.native_batch_norm",
                 "aten._softmax", "aten.lgamma", "aten.full", "aten.lift_fresh_copy"):
        assert name in rules.TABLE


# -- mutation tests: break one rule, see the result change -------------------------------------
class Head(nn.Module):
    def __init__(self, fn) -> None:
        super().__init__()
        self.lin = nn.Linear(2, 3)
        self.fn = fn
        self.register_buffer("buf", torch.tensor([0.1, 0.2, 0.3]))
        self.frozen = nn.Linear(3, 3)
        with torch.no_grad():
            self.frozen.weight.copy_(torch.eye(3))
            self.frozen.bias.fill_(0.5)
        self.frozen.requires_grad_(False)
        self.norm = nn.LayerNorm(3, elementwise_affine=False)

    def forward(self, z: torch.Tensor):
        r = self.lin(z)
        return r, self.fn(self, r)


def _reals(call: rules.Call) -> Interval:
    return REALS


def _lower_by_one(key: str):
    original = rules.TABLE[key]

    def rule(call: rules.Call):
        out = original(call)
        return Interval(out.lo - 1.0, out.hi)
    return rule


MUTATIONS = {  # name -> (head, variance kind, table key, replacement)
    "softplus": (lambda m, r: F.softplus(r) + 1e-4, "var", "aten.softplus", _reals),
    "add": (lambda m, r: F.softplus(r) + 2.0, "var", "aten.add", _lower_by_one("aten.add")),
    "clamp": (lambda m, r: r.clamp(-30.0, 20.0), "logvar", "aten.clamp", _reals),
    "clamp_min": (lambda m, r: r.clamp_min(0.3), "var", "aten.clamp_min", _reals),
    "exp": (lambda m, r: torch.exp(torch.tanh(r)), "var", "aten.exp", _lower_by_one("aten.exp")),
    "pow": (lambda m, r: (torch.sigmoid(r) + 1.0) ** 2, "var", "aten.pow.Tensor_Scalar", _reals),
    "tanh": (lambda m, r: torch.tanh(r) + 1.5, "var", "aten.tanh", _reals),
    "sigmoid": (lambda m, r: torch.sigmoid(r) + 0.5, "var", "aten.sigmoid", _reals),
    "mul": (lambda m, r: 0.5 * (F.softplus(r) + 1.0), "var", "aten.mul", _lower_by_one("aten.mul")),
    "where": (lambda m, r: torch.where(r > 0, F.softplus(r) + 1, 2.0), "var", "aten.where.self",
              _reals),
    "maximum": (lambda m, r: torch.maximum(r, m.buf), "var", "aten.maximum", _reals),
    "expand": (lambda m, r: m.buf.expand(r.shape[0], 3) + F.softplus(r), "var", "aten.add",
               _lower_by_one("aten.add")),
    "addmm (frozen linear)": (lambda m, r: m.frozen(torch.sigmoid(r)), "var", "aten.addmm", _reals),
    "layer norm": (lambda m, r: m.norm(r) + 3.0, "var", "aten.native_layer_norm",
                   lambda call: (REALS, REALS, REALS)),
    "softmax": (lambda m, r: torch.softmax(r, -1) + 0.1, "var", "aten._softmax",
                _lower_by_one("aten._softmax")),
    "getitem split": (lambda m, r: F.softplus(r).split(1, -1)[0] + 0.1, "var", "getitem",
                      lambda call: REALS),
}


@pytest.mark.parametrize("name", list(MUTATIONS))
def test_breaking_a_rule_changes_the_floor(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    fn, kind, key, replacement = MUTATIONS[name]
    monkeypatch.setattr(forms, "combine", lambda *a: None)  # forms would restore add/mul/exp bounds
    before = variance_floor(Head(fn), latent_dim=2, variance=kind)
    assert before.floor is not None and before.floor > 0, before.explanation
    monkeypatch.setitem(rules.TABLE, key, replacement)
    after = variance_floor(Head(fn), latent_dim=2, variance=kind)
    assert after.floor is not None and after.floor < before.floor, (before.floor, after.floor)


def _kl_objective(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    mu, lv = model(x).chunk(2, dim=-1)
    return 0.5 * (mu.pow(2) + lv.exp() - 1 - lv).sum() + (x - mu).abs().mean()


def test_breaking_the_sum_rule_changes_the_loss_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    x = torch.zeros(3, 2)
    before = static_loss_bound(lambda m, b: (torch.tanh(m(b)) - 2.0).sum(), nn.Linear(2, 4), x)
    assert before.lower == 12 * -3.0  # 12 elements, each tanh - 2 > -3
    monkeypatch.setitem(rules.TABLE, "aten.sum", lambda call: call.iv(0, "self"))  # forgets n
    after = static_loss_bound(lambda m, b: (torch.tanh(m(b)) - 2.0).sum(), nn.Linear(2, 4), x)
    assert after.lower == -3.0


def test_without_forms_the_kl_term_has_no_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    x = torch.zeros(3, 2)
    before = static_loss_bound(_kl_objective, nn.Linear(2, 4), x)
    assert before.lower == 0.0  # exp(lv) - 1 - lv >= 0, mu^2 >= 0, |x - mu| >= 0
    monkeypatch.setattr(forms, "combine", lambda *a: None)
    assert static_loss_bound(_kl_objective, nn.Linear(2, 4), x).lower == -math.inf


def test_forms_closed_form_minimum() -> None:
    # 2 exp(-3 s) + 1.5 s + 0.25 on the reals: minimum at e^(-3 s) = 1.5 / 6 = 1/4
    form = forms.Form(base=None, a=Interval.point(2.0), b=forms.Fraction(-3), c=forms.Fraction(3, 2),
                      d=Interval.point(0.25))
    s_star = math.log(4.0) / 3.0
    exact = 2 * math.exp(-3 * s_star) + 1.5 * s_star + 0.25
    lower = forms.form_lower(form, REALS)
    assert lower <= exact and math.isclose(lower, exact, rel_tol=1e-14)
    # on [1, 2] (right of s*) the function increases: the minimum is at s = 1
    at_one = 2 * math.exp(-3.0) + 1.5 + 0.25
    assert math.isclose(forms.form_lower(form, Interval(1.0, 2.0)), at_one, rel_tol=1e-14)
    assert forms.form_lower(form, Interval(1.0, 2.0)) <= at_one
