"""The beta-weighted population objective: bounded for beta >= 1, unbounded for beta < 1.

The population bound of :mod:`vaeproofs.symbolic.population` is about the ELBO, whose KL
weight is 1.  A KL weight beta (beta-VAE: Higgins et al., ICLR 2017; KL annealing, where
beta rises from 0 to 1: Bowman et al., CoNLL 2016, section 3.1) gives

    J_beta = E_p[ E_q log p(x|z) - beta KL(q(z|x) || p(z)) ] = E_p[ELBO] + (1 - beta) E_p[KL].

- beta >= 1: J_beta = J_1 - (beta - 1) E_p[KL] <= J_1 <= -h(p) (KL >= 0, then Gibbs).
- beta < 1: on p = N(0, I_D) with k = D, encoder q(z|x) = N(x, s2 I) and decoder
  N(z, v I) (identity mean, one learned variance v), the best v is s2 and

      J_beta(s2) = -(D/2) log(2 pi s2) - D/2 - beta D (s2 - log s2)/2,

  which grows like (1 - beta)(D/2) log(1/s2) as s2 -> 0: unbounded although the data have a
  density.  At beta = 1 it tends to -(D/2) log(2 pi e) = -h(p), the Gibbs bound, approached
  and not attained; for beta > 1 it tends to -oo.

Conventions: natural log; s2, v variances; sums over the D coordinates; one data point's
expected objective (the population average).
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from vaeproofs.symbolic.derivation import Derivation, DerivationBuilder, equation
from vaeproofs.symbolic.facts import FactRecord
from vaeproofs.symbolic.gaussian import (
    gaussian_expectation_by_moments,
    kl_normal_standard,
    normal_log_density,
)
from vaeproofs.symbolic.sources import BOWMAN, COVER_THOMAS, HIGGINS, KINGMA_WELLING_KL

__all__ = ["PopulationBetaFacts", "beta_objective", "derive_population_beta"]

_X, _Z = sp.symbols("x z", real=True)


def beta_objective(dim: sp.Expr, beta: sp.Expr, s2: sp.Expr, v: sp.Expr) -> sp.Expr:
    """``J_beta`` on p = N(0, I_D), q(z|x) = N(x, s2 I), decoder N(z, v I) (sum over D coordinates).

    Per coordinate: E_q log N(x | z, v) = -log(2 pi v)/2 - s2/(2 v) (the residual x - z has
    variance s2), and E_p KL(N(x, s2) || N(0, 1)) = (E x^2 + s2 - 1 - log s2)/2 with E x^2 = 1
    (Kingma & Welling, appendix B).
    """
    recon = -sp.log(2 * sp.pi * v) / 2 - s2 / (2 * v)
    kl = (1 + s2 - 1 - sp.log(s2)) / 2
    return dim * (recon - beta * kl)


@dataclass(frozen=True)
class PopulationBetaFacts(FactRecord):
    """Facts of :func:`derive_population_beta`.

    Attributes:
        reconstruction_matches_integral: the per-coordinate E_q log N(x | z, v) used equals
            the Gaussian integral (computed exactly from the standard normal's moments,
            :func:`~vaeproofs.symbolic.gaussian.gaussian_expectation_by_moments`), and so does
            the KL.
        best_decoder_variance_is_s2: dJ/dv = 0 only at v = s2, a maximum.
        rate_coefficient: lim J_beta / log(1/s2) as s2 -> 0: ``D*(1 - beta)/2``.
        limit_beta_half: J at beta = 1/2 as s2 -> 0 ("oo").
        limit_beta_zero: J at beta = 0 (no KL term) as s2 -> 0 ("oo").
        limit_beta_below_one: J at beta = 1 - delta, delta > 0, as s2 -> 0 ("oo").
        limit_beta_one_is_minus_entropy: at beta = 1 the limit is -(D/2) log(2 pi e) = -h(p).
        beta_one_sup_attained: some s2 > 0 attains that limit (False: J_1 decreases in s2).
        limit_beta_two: J at beta = 2 as s2 -> 0 ("-oo").
        beta_weight_lowers_objective: J_beta - J_1 = -(beta - 1) KL with KL >= 0 (t - 1 - log t
            >= 0), so for beta >= 1 every J_beta <= J_1 <= -h(p).
        minus_entropy_per_coordinate: -h(N(0, 1)) = -log(2 pi e)/2, by integration.
    """

    reconstruction_matches_integral: bool
    best_decoder_variance_is_s2: bool
    rate_coefficient: str
    limit_beta_half: str
    limit_beta_zero: str
    limit_beta_below_one: str
    limit_beta_one_is_minus_entropy: bool
    beta_one_sup_attained: bool
    limit_beta_two: str
    beta_weight_lowers_objective: bool
    minus_entropy_per_coordinate: float

    @property
    def unbounded_below_one(self) -> bool:
        """Every beta < 1 (and beta = 0, 1/2 in particular) gives +oo on a density."""
        return (self.limit_beta_below_one == "oo" and self.limit_beta_half == "oo"
                and self.limit_beta_zero == "oo" and self.best_decoder_variance_is_s2
                and self.reconstruction_matches_integral)

    @property
    def bounded_from_one(self) -> bool:
        """beta >= 1: capped by -h(p), the cap approached at beta = 1, -oo beyond."""
        return (self.beta_weight_lowers_objective and self.limit_beta_one_is_minus_entropy
                and self.limit_beta_two == "-oo")


def derive_population_beta() -> Derivation:
    """Derive the beta-weighted population objective's supremum on a Gaussian population.

    results: ``objective`` J_beta(s2, v); ``profiled`` J_beta(s2, s2); ``rate``; the limits.
    facts: :class:`PopulationBetaFacts`.
    """
    dim = sp.Symbol("D", integer=True, positive=True)
    beta = sp.Symbol("beta", nonnegative=True)
    delta = sp.Symbol("delta", positive=True)
    s2, v = sp.symbols("s2 v", positive=True)
    d = DerivationBuilder(
        name="population-beta",
        title="beta-weighted population objective: <= -h(p) for beta >= 1, unbounded for beta < 1",
        sources=[HIGGINS, BOWMAN, COVER_THOMAS, KINGMA_WELLING_KL])
    # The two expectations (x ~ N(0, 1), z ~ N(x, s2)): both integrands are polynomials in the
    # variable integrated, so each Gaussian integral is exact from the standard normal's moments.
    recon_int = gaussian_expectation_by_moments(normal_log_density(_X, _Z, v), _Z, _X, s2)
    kl_pop = gaussian_expectation_by_moments(kl_normal_standard(_X, s2), _X, 0, sp.Integer(1))
    obj = beta_objective(dim, beta, s2, v)
    per_coord = recon_int - beta * kl_pop
    matches = sp.expand(sp.expand_log(per_coord - obj / dim, force=True)) == 0
    d.step("J_beta = E_p[E_q log p(x|z) - beta KL] on p = N(0, I_D), q(z|x) = N(x, s2 I), decoder "
           "N(z, v I); each expectation computed exactly (sympy, from the standard normal's moments), "
           "summed over the D coordinates:",
           equation(sp.Symbol("J_beta"), obj))
    d.step("It is the ELBO plus (1 - beta) times the KL: for beta >= 1, J_beta = J_1 - (beta - 1) KL "
           "<= J_1 <= -h(p) (KL >= 0, then Gibbs' inequality).")
    # E_p KL = D (s2 - log s2)/2 = D [(s2 - 1 - log s2) + 1]/2, and s2 - 1 - log s2 >= 0.
    kl_gap = s2 - 1 - sp.log(s2)
    crit_kl = sp.solve(sp.diff(kl_gap, s2), s2)
    kl_nonneg = crit_kl == [1] and kl_gap.subs(s2, 1) == 0 and bool(sp.diff(kl_gap, s2, 2).is_positive)
    expected_kl = dim * (kl_gap + 1) / 2
    lowers = bool(kl_nonneg and (sp.expand(
        beta_objective(dim, beta, s2, v) - beta_objective(dim, 1, s2, v)
        + (beta - 1) * expected_kl)) == 0)
    d.step("J_beta - J_1 = -(beta - 1) E_p[KL] with E_p[KL] = D [(s2 - 1 - log s2) + 1]/2 >= 0 "
           "(s2 - 1 - log s2 is convex, 0 at its only critical point s2 = 1):",
           equation(sp.Symbol("J_beta - J_1"), -(beta - 1) * expected_kl))
    roots = sp.solve(sp.diff(obj, v), v)
    second = sp.factor(sp.diff(obj, v, 2).subs(v, s2))
    best_v = roots == [s2] and bool(second.is_negative)
    profiled = sp.expand(sp.expand_log(obj.subs(v, s2), force=True))
    d.step("The best decoder variance is v = s2 (the only root of dJ/dv, a maximum); profiled:",
           equation(sp.Symbol("J_beta(s2)"), profiled))
    rate = sp.simplify(sp.limit(profiled / sp.log(1 / s2), s2, 0, "+"))
    d.step("Its growth as the encoder variance s2 -> 0:",
           equation(sp.Limit(sp.Symbol("J_beta") / sp.log(1 / s2), s2, 0, "+"), rate))
    lim_below = sp.limit(profiled.subs(beta, 1 - delta), s2, 0, "+")
    lim_half = sp.limit(profiled.subs(beta, sp.Rational(1, 2)), s2, 0, "+")
    lim_zero = sp.limit(profiled.subs(beta, 0), s2, 0, "+")
    lim_one = sp.limit(profiled.subs(beta, 1), s2, 0, "+")
    lim_two = sp.limit(profiled.subs(beta, 2), s2, 0, "+")
    d.step("beta = 1 - delta < 1 (delta > 0), e.g. KL annealing before beta reaches 1: unbounded",
           equation(sp.Limit(sp.Symbol("J_{1-delta}"), s2, 0, "+"), lim_below))
    d.step("beta = 1/2 and beta = 0 (no KL term):", sp.Tuple(lim_half, lim_zero))
    minus_h = gaussian_expectation_by_moments(normal_log_density(_X, 0, sp.Integer(1)), _X, 0, sp.Integer(1))
    one_is_h = sp.expand(sp.expand_log(lim_one - dim * minus_h, force=True)) == 0
    d.step("beta = 1: the limit is -h(N(0, I_D)) = D E_p[log p] (computed as above): the Gibbs bound",
           equation(sp.Limit(sp.Symbol("J_1"), s2, 0, "+"), lim_one))
    j1_slope = sp.expand(sp.diff(profiled.subs(beta, 1), s2))
    d.step("approached and never attained: dJ_1/ds2 < 0 for every s2 > 0,",
           equation(sp.Derivative(sp.Symbol("J_1"), s2), j1_slope))
    d.step("beta = 2: the KL weight wins and the objective falls,",
           equation(sp.Limit(sp.Symbol("J_2"), s2, 0, "+"), lim_two))
    d.results.update(objective=obj, profiled=profiled, rate=rate, limit_below_one=lim_below,
                     limit_beta_one=lim_one, minus_entropy=minus_h)
    facts = PopulationBetaFacts(
        reconstruction_matches_integral=bool(matches),
        best_decoder_variance_is_s2=bool(best_v),
        rate_coefficient=sp.sstr(rate),
        limit_beta_half=sp.sstr(lim_half),
        limit_beta_zero=sp.sstr(lim_zero),
        limit_beta_below_one=sp.sstr(lim_below),
        limit_beta_one_is_minus_entropy=bool(one_is_h),
        beta_one_sup_attained=not bool(j1_slope.is_negative),
        limit_beta_two=sp.sstr(lim_two),
        beta_weight_lowers_objective=lowers,
        minus_entropy_per_coordinate=float(minus_h),
    )
    return d.build(facts)
