"""PyTorch's ``GaussianNLLLoss(eps=...)``: it floors the loss value, not the variance.

``torch.nn.functional.gaussian_nll_loss`` computes (PyTorch documentation)::

    var = var.clone()
    with torch.no_grad():
        var.clamp_(min=eps)
    loss = 0.5 * (torch.log(var) + (input - target) ** 2 / var)   # (+ 0.5 log 2 pi if full)

The in-place clamp runs outside autograd, so the graph sees ``clone`` (an identity) and the
gradient with respect to the caller's variance v is the derivative of
l(w) = (log w + r^2/w)/2 evaluated at the clamped value w = max(v, eps), with Jacobian 1.
Consequences derived here (r = input - target, per element, natural log):

- the loss value is >= (log eps)/2 (full = False): the objective -loss is capped at
  -(log eps)/2 per element;
- below eps the gradient is the constant (eps - r^2)/(2 eps^2), positive when r^2 < eps,
  so gradient descent keeps lowering v: there is no stationary point in (0, eps) unless
  r^2 = eps exactly;
- with a log-variance head s (v = e^s) the gradient flow ds/dt = -v (eps - r^2)/(2 eps^2)
  gives v(t) = 1/(1/v0 + g t) -> 0; with a raw variance output v reaches 0 in finite time
  v0/g (and PyTorch then raises on a negative variance).

So the variance is not floored; only the reported loss is.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from vaeproofs.symbolic.derivation import Derivation, DerivationBuilder, equation
from vaeproofs.symbolic.facts import FactRecord
from vaeproofs.symbolic.sources import PYTORCH_GAUSSIAN_NLL

__all__ = ["GaussianNllEpsFacts", "derive_gaussian_nll_eps"]


@dataclass(frozen=True)
class GaussianNllEpsFacts(FactRecord):
    """Facts of :func:`derive_gaussian_nll_eps`.

    Attributes:
        loss_floor_per_element: min over v of the loss at r = 0, as text ("log(eps)/2").
        loss_floor_eps_1e6: its value for eps = 1e-6 (nats, full = False).
        gradient_below_eps: the gradient in v for v < eps, as text.
        gradient_below_eps_positive: it is > 0 whenever r^2 < eps.
        stationary_points_below_eps: real solutions in v of gradient = 0 with v < eps,
            r^2 < eps, as text ("EmptySet").
        log_variance_flow_solves: v(t) = 1/(1/v0 + g t) solves dv/dt = -g v^2 (the flow of
            a log-variance head below eps).
        log_variance_flow_limit: lim_{t -> oo} v(t) ("0").
        raw_variance_zero_time: the time v0/g at which a raw variance head reaches 0 (text).
        variance_floored: the variance stays >= eps under the gradient dynamics (False when
            the flow tends to 0).
    """

    loss_floor_per_element: str
    loss_floor_eps_1e6: float
    gradient_below_eps: str
    gradient_below_eps_positive: bool
    stationary_points_below_eps: str
    log_variance_flow_solves: bool
    log_variance_flow_limit: str
    raw_variance_zero_time: str
    variance_floored: bool


def derive_gaussian_nll_eps() -> Derivation:
    """Derive the loss floor and the gradient below eps of PyTorch's GaussianNLLLoss.

    results: ``loss`` l(w); ``gradient`` dl/dw; ``gradient_below_eps`` (at w = eps);
    ``flow`` v(t).  facts: :class:`GaussianNllEpsFacts`.
    """
    w, eps, v0, t = sp.symbols("w epsilon v_0 t", positive=True)
    r2 = sp.Symbol("r2", nonnegative=True)    # squared residual
    v = sp.Symbol("v", positive=True)
    d = DerivationBuilder(name="gaussian-nll-eps",
                   title="GaussianNLLLoss(eps): the loss is floored, the variance is not",
                   sources=[PYTORCH_GAUSSIAN_NLL])
    loss = (sp.log(w) + r2 / w) / 2
    d.step("PyTorch's loss per element at the clamped variance w = max(v, ε) (full=False):",
           equation(sp.Symbol("l(w)"), loss))
    floor = loss.subs({r2: 0, w: eps})
    d.step("For v < ε the value is frozen at l(ε); with a memorised mean (r = 0) it is the "
           "floor of the loss, so -loss <= -(log ε)/2:", equation(sp.Symbol("l_min"), floor))
    grad = sp.diff(loss, w)
    g_eps = sp.factor(grad.subs(w, eps))
    d.step("The clamp runs under no_grad on a clone, so dloss/dv = l'(max(v, ε)) with "
           "Jacobian 1; below ε:", equation(sp.Symbol("dloss/dv"), g_eps))
    a = sp.Symbol("a", positive=True)     # eps - r2 > 0
    positive = bool(sp.factor(g_eps.subs(r2, eps - a)).is_positive)
    stationary = sp.solveset(sp.Eq(g_eps.subs(r2, eps - a), 0), v, sp.Interval.open(0, eps))
    d.step("With r^2 = ε - a < ε (a > 0) it is positive for every v < ε, so descent lowers v; "
           "the stationary points in (0, ε) are", stationary)
    g = sp.Symbol("g", positive=True)
    flow = 1 / (1 / v0 + g * t)
    solves = sp.simplify(sp.diff(flow, t) + g * flow**2) == 0 and flow.subs(t, 0) == v0
    lim = sp.limit(flow, t, sp.oo)
    d.step("A log-variance head s (v = e^s): ds/dt = -v g, i.e. dv/dt = -g v^2 with "
           "g = (ε - r^2)/(2ε^2), solved by", equation(sp.Symbol("v(t)"), flow))
    d.step("which tends to", equation(sp.Limit(sp.Symbol("v(t)"), t, sp.oo), lim))
    t_zero = sp.solve(v0 - g * t, t)[0]
    d.step("A raw variance head (dv/dt = -g) reaches v = 0 at", equation(sp.Symbol("t_0"), t_zero))
    d.results.update(loss=loss, gradient=grad, gradient_below_eps=g_eps, flow=flow)
    facts = GaussianNllEpsFacts(
        loss_floor_per_element=sp.sstr(floor),
        loss_floor_eps_1e6=float(floor.subs(eps, sp.Rational(1, 10**6))),
        gradient_below_eps=sp.sstr(g_eps),
        gradient_below_eps_positive=positive,
        stationary_points_below_eps=sp.sstr(stationary),
        log_variance_flow_solves=bool(solves),
        log_variance_flow_limit=sp.sstr(lim),
        raw_variance_zero_time=sp.sstr(t_zero),
        variance_floored=bool(lim.is_positive) or not positive,
    )
    return d.build(facts)
