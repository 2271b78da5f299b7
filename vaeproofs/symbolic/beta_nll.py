"""beta-NLL: reweighting the Gaussian NLL by stopgrad(sigma^(2 beta)) keeps its fixed points.

Seitzer, Tavakoli, Antic & Martius (ICLR 2022, section 3) multiply each point's Gaussian
NLL, (log v + r^2/v)/2 with v = sigma^2 and r the residual, by stopgrad(v^beta).  The
weight rescales the gradient by a positive factor, so

- the stationary variance is v* = r^2, the same as the NLL's, for every beta: a decoder
  mean that memorises a point (r = 0) has no stationary variance;
- with a log-variance head (v = e^s) and r = 0 the gradient flow is
  ds/dt = -v^beta / 2, i.e. dv/dt = -v^(1 + beta)/2, solved by
  v(t) = (v0^(-beta) + beta t/2)^(-1/beta) -> 0 (a power law instead of the NLL's
  exponential decay) under plain gradient descent: the collapse is slowed, not
  prevented.  Under Adam (used by Seitzer et al. and by this project's runs) the
  gradient's scale v^beta is divided out, and s falls about linearly in steps until
  v^beta / 2 reaches Adam's eps (measured: :mod:`vaeproofs.numeric.beta_nll_dynamics`);
- the model being fitted is still the Gaussian, whose log-likelihood at r = 0 is
  unbounded as v -> 0; the reweighted loss value v^beta (log v)/2 itself tends to 0, so a
  reported beta-NLL near 0 can hide a collapsing variance.

Conventions: natural log; per element; v a variance; beta in (0, 1] (beta = 0 is the NLL).
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from vaeproofs.symbolic.derivation import Derivation, DerivationBuilder, equation
from vaeproofs.symbolic.facts import FactRecord
from vaeproofs.symbolic.sources import SEITZER

__all__ = ["BetaNllFacts", "derive_beta_nll"]


@dataclass(frozen=True)
class BetaNllFacts(FactRecord):
    """Facts of :func:`derive_beta_nll`.

    Attributes:
        stationary_variance: the root in v of the reweighted gradient, as text ("r2").
        same_as_nll: it equals the NLL's stationary variance for every beta.
        memorised_gradient_positive: at r = 0 the reweighted gradient in v is > 0 for all
            v > 0 (descent lowers v).
        flow_solves: v(t) = (v0^-beta + beta t/2)^(-1/beta) solves dv/dt = -v^(1+beta)/2.
        flow_limit: lim_{t -> oo} v(t) for beta = 1/2 ("0").
        loglik_limit: the Gaussian log-likelihood at r = 0 as v -> 0 ("oo").
        weighted_loss_limit: v^beta log(v)/2 as v -> 0 for beta = 1/2 ("0").
        prevents_collapse: the flow's limit is positive (False when it tends to 0).
    """

    stationary_variance: str
    same_as_nll: bool
    memorised_gradient_positive: bool
    flow_solves: bool
    flow_limit: str
    loglik_limit: str
    weighted_loss_limit: str
    prevents_collapse: bool


def derive_beta_nll() -> Derivation:
    """Derive beta-NLL's stationary variance and its gradient flow with a memorised mean.

    results: ``gradient`` (reweighted, in v), ``flow`` v(t).  facts: :class:`BetaNllFacts`.
    """
    v, v0, t, beta = sp.symbols("v v_0 t beta", positive=True)
    r2 = sp.Symbol("r2", nonnegative=True)
    d = DerivationBuilder(name="beta-nll", title="β-NLL: same stationary variance v* = r², collapse "
                   "slowed to a power law, not prevented", sources=[SEITZER])
    nll = (sp.log(v) + r2 / v) / 2
    weight = sp.Symbol("w", positive=True)      # stopgrad(v^beta): a constant for autograd
    grad = sp.factor(weight * sp.diff(nll, v)).subs(weight, v**beta)
    d.step("Gaussian NLL per element (v = σ², r the residual):", equation(sp.Symbol("NLL"), nll))
    d.step("β-NLL's gradient in v, the weight v^β held constant (stop-gradient):",
           equation(sp.Symbol("g_β(v)"), grad))
    roots = sp.solve(grad, v)
    nll_roots = sp.solve(sp.diff(nll, v), v)
    d.step("Its only root, the same as the NLL's for every β:", equation(sp.Symbol("v*"), roots[0]))
    at_zero = sp.simplify(grad.subs(r2, 0))
    d.step("With a memorised mean (r = 0) it is positive for every v > 0:",
           equation(sp.Symbol("g_β(v) at r = 0"), at_zero))
    flow = (v0**(-beta) + beta * t / 2)**(-1 / beta)
    solves = sp.simplify(sp.diff(flow, t) + flow**(1 + beta) / 2) == 0
    half = sp.Rational(1, 2)
    lim = sp.limit(flow.subs(beta, half), t, sp.oo)
    d.step("Log-variance head v = e^s: ds/dt = -v g_β(v), i.e. dv/dt = -v^(1+β)/2, solved by",
           equation(sp.Symbol("v(t)"), flow))
    d.step("which tends to 0 (β = 1/2 shown; a power law in t):",
           equation(sp.Limit(sp.Symbol("v(t)"), t, sp.oo), lim))
    loglik = sp.limit(-sp.log(2 * sp.pi * v) / 2, v, 0, "+")
    weighted = sp.limit(v**half * sp.log(v) / 2, v, 0, "+")
    d.step("The fitted model's log-likelihood at r = 0 is unbounded as v -> 0:",
           equation(sp.Limit(sp.Symbol("log N(x | x, v)"), v, 0, "+"), loglik))
    d.step("while the reported β-NLL value v^β log(v)/2 (β = 1/2) tends to",
           equation(sp.Limit(sp.Symbol("β-NLL(r = 0)"), v, 0, "+"), weighted))
    d.results.update(gradient=grad, flow=flow)
    facts = BetaNllFacts(
        stationary_variance=sp.sstr(roots[0]) if len(roots) == 1 else sp.sstr(roots),
        same_as_nll=roots == nll_roots,
        memorised_gradient_positive=bool(at_zero.is_positive),
        flow_solves=bool(solves),
        flow_limit=sp.sstr(lim),
        loglik_limit=sp.sstr(loglik),
        weighted_loss_limit=sp.sstr(weighted),
        prevents_collapse=bool(lim.is_positive) or not bool(at_zero.is_positive),
    )
    return d.build(facts)
