"""The population objective: Gibbs' inequality bounds it when the data have a density.

For densities p (the data distribution) and q (any model density, e.g. the marginal
p_theta of a VAE), Gibbs' inequality E_p[log q] <= E_p[log p] = -h(p) (Cover & Thomas,
theorem 2.6.3) bounds the population log-likelihood by minus the differential entropy,
and the ELBO is <= log p_theta(x) pointwise (the gap is a KL divergence), so the
population ELBO is <= -h(p) for *every* decoder family, a per-pixel learned variance
included.  Both hypotheses matter, and the derivation exhibits each failure:

- a finite training set has no density (its empirical distribution is atomic), and the
  same Gaussian family's objective on it tends to +infinity;
- a density with h(p) = -infinity (p(x) = 1/(x log^2 x) on (0, 1/e)) makes E_p[log p]
  itself +infinity.

Conventions: natural log; v is a variance; one-dimensional examples (the inequality
holds in any dimension).  Theis, van den Oord & Bethge (ICLR 2016, section 3.1) use the
same bound for dequantised data (:mod:`vaeproofs.symbolic.dequantisation`).
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from vaeproofs.symbolic.derivation import Derivation, DerivationBuilder, equation
from vaeproofs.symbolic.facts import FactRecord
from vaeproofs.symbolic.sources import COVER_THOMAS, KINGMA_WELLING_KL, THEIS

__all__ = ["PopulationFacts", "derive_population"]


@dataclass(frozen=True)
class PopulationFacts(FactRecord):
    """Facts of :func:`derive_population`.

    Attributes:
        log_inequality: ``t - 1 - log t >= 0`` with its minimum 0 at t = 1 (the step behind
            Gibbs' inequality).
        gaussian_sup_is_minus_entropy: for p = N(0, 1), the supremum of E_p[log N(m, v)]
            over (m, v) equals -h(p) computed by integration.
        elbo_gap_nonnegative: log p(x) - ELBO >= 0 in the linear-Gaussian check, with
            equality at the exact posterior (``elbo_gap_zero_at_posterior``).
        density_collapse_limit: E_p[log N(0, v)] as v -> 0 for p = N(0, 1) ("-oo").
        empirical_collapse_limit: the same family on a finite set, mean at each point ("oo").
        heavy_density_normalised: p(x) = 1/(x log^2 x) on (0, 1/e) integrates to 1.
        heavy_density_negentropy: E_p[log p] for that density ("oo": h(p) = -oo).
    """

    log_inequality: bool
    gaussian_sup_is_minus_entropy: bool
    elbo_gap_nonnegative: bool
    elbo_gap_zero_at_posterior: bool
    density_collapse_limit: str
    empirical_collapse_limit: str
    heavy_density_normalised: bool
    heavy_density_negentropy: str

    @property
    def bounded_for_densities(self) -> bool:
        """Gibbs' step, the ELBO gap and the collapse limit all agree on a bound."""
        return (self.log_inequality and self.gaussian_sup_is_minus_entropy
                and self.elbo_gap_nonnegative and self.density_collapse_limit == "-oo")


def derive_population() -> Derivation:
    """Derive Gibbs' bound on the population objective and where its hypotheses fail.

    results:
        ``gibbs_gap``: t - 1 - log t; ``population_loglik``: E_{N(0,1)}[log N(x | m, v)];
        ``best_m``, ``best_v``; ``minus_entropy``: -h(N(0, 1)); ``elbo_gap``:
        log p(x) - ELBO in the model z ~ N(0,1), x | z ~ N(z, 1), q = N(a, s2);
        ``heavy_negentropy_integrand`` (in t = -log x).
    facts: :class:`PopulationFacts`.
    """
    t = sp.Symbol("t", positive=True)
    x = sp.Symbol("x", real=True)
    m, a = sp.symbols("m a", real=True)
    v, s2 = sp.symbols("v s2", positive=True)
    d = DerivationBuilder(name="population",
                   title="Population objective: E_p[log q] <= -h(p) (Gibbs)",
                   sources=[COVER_THOMAS, THEIS, KINGMA_WELLING_KL])
    gap = t - 1 - sp.log(t)
    crit = sp.solve(sp.diff(gap, t), t)
    log_ineq = (crit == [1] and gap.subs(t, 1) == 0
                and bool(sp.diff(gap, t, 2).is_positive))
    d.step("log t <= t - 1 for t > 0: the gap t - 1 - log t is convex with its only "
           "critical point at t = 1, where it is 0:", equation(sp.Symbol("g(t)"), gap))
    d.step("With t = q(x)/p(x): E_p[log q - log p] <= E_p[q/p] - 1 = int q - 1 <= 0, i.e. "
           "E_p[log q] <= E_p[log p] = -h(p) (Gibbs' inequality).")
    # A concrete check: p = N(0, 1), q = N(m, v); E_p[(x - m)^2] = 1 + m^2.
    pop = -sp.log(2 * sp.pi * v) / 2 - (1 + m**2) / (2 * v)
    best_m = sp.solve(sp.diff(pop, m), m)
    best_v = sp.solve(sp.diff(pop.subs(m, 0), v), v)
    best = pop.subs({m: 0, v: 1})
    minus_h = -sp.log(2 * sp.pi * sp.E) / 2      # -h(N(0, 1)) (Cover & Thomas, ch. 8)
    d.step("Check on p = N(0, 1), q = N(m, v): E_p[log q] (natural log, v a variance) is",
           equation(sp.Symbol("E_p log q"), pop))
    d.step("Its only critical point is q = p (m = 0, v = 1), where it equals -h(p) = "
           "-log(2 pi e)/2:", equation(best, minus_h))
    # ELBO <= log p(x): z ~ N(0,1), x | z ~ N(z, 1), q(z) = N(a, s2).
    elbo = (-sp.log(2 * sp.pi) / 2 - ((x - a)**2 + s2) / 2
            - (a**2 + s2 - 1 - sp.log(s2)) / 2)
    log_marginal = -sp.log(2 * sp.pi * 2) / 2 - x**2 / 4
    elbo_gap = sp.simplify(log_marginal - elbo)
    at_post = sp.simplify(elbo_gap.subs({a: x / 2, s2: sp.Rational(1, 2)}))
    hess = sp.hessian(elbo_gap, (a, s2)).subs({a: x / 2, s2: sp.Rational(1, 2)})
    gap_min = bool(at_post == 0 and all(e.is_positive for e in hess.eigenvals()))
    d.step("The ELBO is <= log p(x): in z ~ N(0,1), x | z ~ N(z, 1), q = N(a, s2) the gap "
           "log p(x) - ELBO = KL(q || p(z|x)) is", equation(sp.Symbol("gap"), elbo_gap))
    d.step("It is 0 at the exact posterior a = x/2, s2 = 1/2, a strict minimum:",
           equation(sp.Symbol("gap(x/2, 1/2)"), at_post))
    collapse = sp.limit(pop.subs(m, 0), v, 0, "+")
    d.step("Hence, for a population with a density, letting a per-pixel variance collapse "
           "lowers the objective (p = N(0,1), q = N(0, v)):",
           equation(sp.Limit(sp.Symbol("E_p log N(0, v)"), v, 0, "+"), collapse))
    empirical = sp.limit(-sp.log(2 * sp.pi * v) / 2, v, 0, "+")
    d.step("A finite training set has no density: its empirical distribution is atomic, and "
           "with the mean at each point the same family's average log-density is "
           "-log(2 pi v)/2, whose limit is", equation(sp.Limit(sp.Symbol("(1/n) sum log N(x_i | x_i, v)"),
                                                          v, 0, "+"), empirical))
    # Finite entropy matters: p(x) = 1/(x log^2 x) on (0, 1/e); with t = -log x, dx = -e^-t dt,
    # p dx = dt / t^2 on t in (1, oo) and log p = t - 2 log t.
    mass_anti, neg_anti = -1 / t, sp.log(t) + 2 * (sp.log(t) + 1) / t
    mass_ok = sp.simplify(sp.diff(mass_anti, t) - 1 / t**2) == 0
    integrand = (t - 2 * sp.log(t)) / t**2
    neg_ok = sp.simplify(sp.diff(neg_anti, t) - integrand) == 0
    mass = sp.limit(mass_anti, t, sp.oo) - mass_anti.subs(t, 1) if mass_ok else sp.nan
    negentropy = sp.limit(neg_anti, t, sp.oo) - neg_anti.subs(t, 1) if neg_ok else sp.nan
    d.step("Finite entropy is needed: p(x) = 1/(x log^2 x) on (0, 1/e) has mass (t = -log x; "
           "antiderivative -1/t, checked by differentiation)",
           equation(sp.Integral(1 / t**2, (t, 1, sp.oo)), mass))
    d.step("and E_p[log p] = -h(p) is (antiderivative log t + 2 (log t + 1)/t):",
           equation(sp.Integral(integrand, (t, 1, sp.oo)), negentropy))
    d.results.update(gibbs_gap=gap, population_loglik=pop, best_m=best_m, best_v=best_v,
                     minus_entropy=minus_h, elbo_gap=elbo_gap, heavy_negentropy_integrand=integrand)
    facts = PopulationFacts(
        log_inequality=bool(log_ineq),
        gaussian_sup_is_minus_entropy=bool(best_m == [0] and best_v == [1]
                                           and sp.simplify(sp.expand_log(best - minus_h)) == 0),
        elbo_gap_nonnegative=gap_min,
        elbo_gap_zero_at_posterior=bool(at_post == 0),
        density_collapse_limit=sp.sstr(collapse),
        empirical_collapse_limit=sp.sstr(empirical),
        heavy_density_normalised=bool(mass == 1),
        heavy_density_negentropy=sp.sstr(negentropy),
    )
    return d.build(facts)
