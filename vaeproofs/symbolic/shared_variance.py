"""The ELBO-optimal shared decoder variance and the profiled objective ("shared-variance").

Decoder N(mu(z), gamma I) with one gamma > 0 for all D pixels and n points; with
R = sum_i E_q||x_i - mu(z)||^2 > 0 (sum over pixels and points) and K the summed KL, the
ELBO is -(n D/2) log(2 pi gamma) - R/(2 gamma) - K.  Its unique maximiser is
gamma* = R/(n D) and the profiled objective is -(n D/2) log(2 pi e gamma*) - K (Rybkin,
Daniilidis & Levine 2021, "sigma-VAE", arXiv 2006.13202, section 3; docs/theory.md
section 3).  As R -> 0 it tends to +oo: unbounded whenever the decoder mean can drive
the residual to 0.

Conventions: natural logarithms; gamma a variance; sums (not means) over pixels and
points.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from vaeproofs.symbolic.derivation import Derivation, Record, StepLog, limit_str
from vaeproofs.symbolic.gaussian import normal_log_density
from vaeproofs.symbolic.sources import RYBKIN, theory

__all__ = ["SharedVarianceFacts", "SharedVarianceResults", "derive_shared_variance"]

_MU = sp.Symbol("mu", real=True)
_D = sp.Symbol("D", integer=True, positive=True)
_N = sp.Symbol("n", integer=True, positive=True)


@dataclass(frozen=True)
class SharedVarianceResults(Record):
    """Results of :func:`derive_shared_variance` (sympy)."""

    elbo: sp.Expr                             #: the ELBO in gamma
    critical_points: tuple[sp.Expr, ...]      #: roots of dELBO/dgamma
    gamma_star: sp.Expr
    second_derivative_at_gamma_star: sp.Expr
    limits_gamma_edges: tuple[sp.Expr, sp.Expr]  #: ELBO as gamma -> 0+ and gamma -> oo
    profiled: sp.Expr
    profiled_per_point: sp.Expr
    profiled_difference: sp.Expr              #: profiled minus the sigma-VAE form (0)
    profiled_limit_residual_to_0: sp.Expr
    rate_in_log_residual: sp.Expr             #: lim_{R->0+} profiled / log R: -(n D)/2
    zero_residual_limit: sp.Expr              #: the ELBO with R = 0 as gamma -> 0+


@dataclass(frozen=True)
class SharedVarianceFacts(Record):
    """Facts of :func:`derive_shared_variance`, computed from its results."""

    unique_critical_point: bool
    gamma_star_matches_theory: bool  #: gamma* equals R/(n D)
    is_maximum: bool
    global_maximum: bool             #: unique critical point and ELBO -> -oo at both ends
    profiled_matches_theory: bool    #: equals the sigma-VAE form
    profiled_sup_as_residual_to_0: str  #: "+oo", "-oo" or the value
    profiled_unbounded_when_residual_can_vanish: bool


def derive_shared_variance() -> Derivation[SharedVarianceFacts, SharedVarianceResults]:
    """The ELBO-optimal shared decoder variance gamma* and the profiled objective.

    Results and facts: :class:`SharedVarianceResults`, :class:`SharedVarianceFacts`.
    """
    n, D = _N, _D
    gamma = sp.Symbol("gamma", positive=True)
    R = sp.Symbol("R", positive=True)
    K = sp.Symbol("K", nonnegative=True)
    step = StepLog()
    # Sum over n points and D pixels of E_q log N(x_ij | mu_j(z), gamma): per pixel
    # -log(2 pi gamma)/2 - E(x - mu)^2/(2 gamma) (docs/theory.md section 3).
    per_pixel_const = normal_log_density(_MU, _MU, gamma)
    elbo = n * D * per_pixel_const - R / (2 * gamma) - K
    L = sp.Function("ELBO")(gamma)
    step("Shared variance γ > 0, R = Σ_i E_q‖x_i − μ(z)‖² > 0 (over n points and D "
         "pixels), K the summed KL:", sp.Eq(L, elbo))
    dl = sp.simplify(sp.diff(elbo, gamma))
    step("Derivative in γ:", sp.Eq(sp.Derivative(L, gamma), dl))
    roots = sp.solve(dl, gamma)
    gstar = roots[0]
    step("Its only positive root:", sp.Eq(sp.Symbol("gamma*"), gstar))
    second = sp.simplify(sp.diff(elbo, gamma, 2).subs(gamma, gstar))
    step("Second derivative there (negative: a maximum):",
         sp.Eq(sp.Symbol("ELBO''(gamma*)"), second))
    lim0 = sp.limit(elbo, gamma, 0, dir="+")
    lim_inf = sp.limit(elbo, gamma, sp.oo)
    step("At the ends of (0, ∞) the ELBO tends to (so the critical point is the global "
         "maximum):", sp.Tuple(lim0, lim_inf))
    profiled = sp.expand(sp.expand_log(elbo.subs(gamma, gstar), force=True))
    sigma_vae_form = -(n * D / 2) * sp.log(2 * sp.pi * sp.E * gstar) - K
    pdiff = sp.simplify(sp.expand_log(profiled - sigma_vae_form, force=True))
    step("Profiled objective:", sp.Eq(sp.Symbol("ELBO(gamma*)"), profiled))
    step("minus the σ-VAE form −(nD/2) log(2πe γ*) − K:",
         sp.Eq(sp.Symbol("difference"), pdiff))
    per_point = sp.expand(profiled / n)
    step("Per point:", sp.Eq(sp.Symbol("ELBO(gamma*)/n"), per_point))
    lim_r0 = sp.limit(profiled, R, 0, dir="+")
    rate = sp.limit(profiled / sp.log(R), R, 0, dir="+")
    step("As the residual R → 0⁺ the profiled objective diverges:",
         sp.Eq(sp.Limit(sp.Symbol("ELBO(gamma*)"), R, 0, "+"), lim_r0))
    step("like (rate)·log R with", sp.Eq(sp.Symbol("rate"), rate))
    zero_res = sp.limit(elbo.subs(R, 0), gamma, 0, dir="+")
    step("With R = 0 exactly, the ELBO in γ has no maximiser: as γ → 0⁺ it tends to",
         zero_res)
    results = SharedVarianceResults(
        elbo=elbo, critical_points=tuple(roots), gamma_star=gstar,
        second_derivative_at_gamma_star=second, limits_gamma_edges=(lim0, lim_inf),
        profiled=profiled, profiled_per_point=per_point, profiled_difference=pdiff,
        profiled_limit_residual_to_0=lim_r0, rate_in_log_residual=rate,
        zero_residual_limit=zero_res,
    )
    facts = SharedVarianceFacts(
        unique_critical_point=len(roots) == 1,
        gamma_star_matches_theory=bool(sp.simplify(gstar - R / (n * D)) == 0),
        is_maximum=bool(second.is_negative),
        global_maximum=bool(len(roots) == 1 and lim0 == -sp.oo and lim_inf == -sp.oo),
        profiled_matches_theory=bool(pdiff == 0),
        profiled_sup_as_residual_to_0=limit_str(lim_r0),
        profiled_unbounded_when_residual_can_vanish=bool(lim_r0 == sp.oo and zero_res == sp.oo),
    )
    return Derivation(
        name="shared-variance",
        title="ELBO-optimal shared decoder variance and the profiled objective",
        sources=(RYBKIN, theory("section 3")), steps=tuple(step.steps),
        results=results, facts=facts)
