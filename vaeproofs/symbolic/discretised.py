"""Discretised likelihoods: a probability mass function per pixel caps the objective at 0.

A decoder that gives each pixel a probability mass function (categorical; the discretised
logistic of Salimans et al., ICLR 2017, section 2.1; a Gaussian integrated over the
quantisation bins) has log P <= 0 per pixel, so log p(x | z) <= 0, the marginal
p(x) = E_z[p(x | z)] <= 1 and the ELBO <= log p(x) <= 0, whatever the learned scale.

Sharper: the marginal of a latent-variable model with such a decoder is itself a pmf on the
data space, so for n *distinct* training points sum_i p(x_i) <= 1 and the total
log-likelihood is at most -n log n (equality only at p(x_i) = 1/n, which needs cells of
prior mass 1/n and decoder masses exactly 1: a supremum, not attained with a sigmoid,
softmax or a bin-integrated density of positive scale).

The supremum is approached at memorised points (cells of prior mass 1/n, masses -> 1): it
equals the NPMLE value of Mattei & Frellsen (NeurIPS 2018, section 2.2), whose
nonparametric maximum for a mixture of discrete kernels on n distinct points is the
empirical distribution.  Bounded removes the infinite reward, not the memorising
direction; what makes bin-integrated Gaussians stable in practice is that the gradient
along that direction vanishes like exp(-Delta^2 / (8 s^2)).

Conventions: natural log; bins of width 1 on integer data (the bin edges at k +- 1/2);
totals over the n points.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from vaeproofs.symbolic.derivation import Derivation, DerivationBuilder, equation
from vaeproofs.symbolic.facts import FactRecord
from vaeproofs.symbolic.sources import MATTEI_FRELLSEN, SALIMANS

__all__ = ["DiscretisedFacts", "derive_discretised"]


@dataclass(frozen=True)
class DiscretisedFacts(FactRecord):
    """Facts of :func:`derive_discretised`.

    Attributes:
        pmf_log_nonpositive: log P <= 0 for P in (0, 1] (log is increasing, log 1 = 0).
        gaussian_bin_mass_limit: mass of the bin [k - 1/2, k + 1/2] under N(k, s^2) as
            s -> 0 ("1": the supremum of the per-pixel log-mass is 0).
        gaussian_bin_mass_below_one: that mass is < 1 for every s > 0 (not attained).
        logistic_bin_mass_limit: the same for the logistic of scale s ("1").
        marginal_optimum_equal_masses: maximising sum log p_i under sum p_i <= 1 gives
            p_i = 1/n.
        marginal_sup_total: that maximum, as text ("-n*log(n)").
        marginal_sup_n16: its value for n = 16 (nats, total).
        gaussian_bin_gradient_exponent: lim_{s -> 0} log|d log P_gauss / d log s| * 8 s^2
            (bins of width Delta = 1), as text ("-1": the gradient that drives the scale to 0
            vanishes like exp(-Delta^2/(8 s^2)), which is why such decoders stall in practice).
    """

    pmf_log_nonpositive: bool
    gaussian_bin_mass_limit: str
    gaussian_bin_mass_below_one: bool
    logistic_bin_mass_limit: str
    marginal_optimum_equal_masses: bool
    marginal_sup_total: str
    marginal_sup_n16: float
    gaussian_bin_gradient_exponent: str = ""

    @property
    def bounded_by_zero(self) -> bool:
        """Every per-pixel log-mass is <= 0, with supremum 0 not attained."""
        return (self.pmf_log_nonpositive and self.gaussian_bin_mass_limit == "1"
                and self.gaussian_bin_mass_below_one and self.logistic_bin_mass_limit == "1")


def derive_discretised() -> Derivation:
    """Derive the cap 0 per pixel and the supremum -n log n of the marginal over n points.

    results: ``gaussian_bin_mass``, ``logistic_bin_mass`` (as functions of the scale s),
    ``lagrange_solution``.  facts: :class:`DiscretisedFacts`.
    """
    P = sp.Symbol("P", positive=True)
    s = sp.Symbol("s", positive=True)
    n = sp.Symbol("n", integer=True, positive=True)
    p, lam = sp.symbols("p lambda", positive=True)
    d = DerivationBuilder(name="discretised",
                   title="Discretised likelihoods: log P <= 0 per pixel, sup -n log n over "
                         "n distinct points", sources=[SALIMANS, MATTEI_FRELLSEN])
    dlog = sp.diff(sp.log(P), P)
    nonpos = bool(dlog.is_positive) and sp.log(1) == 0
    d.step("log P is increasing in P (derivative 1/P > 0) and log 1 = 0, so a mass P in (0, 1] "
           "has log P <= 0; summed over pixels, log p(x | z) <= 0, p(x) = E_z p(x | z) <= 1 "
           "and ELBO <= log p(x) <= 0.", equation(sp.Derivative(sp.log(P), P), dlog))
    half = sp.Rational(1, 2)
    # Bin [k - 1/2, k + 1/2] under N(k, s^2): Phi(1/(2s)) - Phi(-1/(2s)) = erf(1/(2 sqrt 2 s)).
    g_mass = sp.erf(half / (sp.sqrt(2) * s))
    g_lim = sp.limit(g_mass, s, 0, "+")
    tt = sp.Symbol("t", real=True)
    tail_integrand = 2 * sp.exp(-tt**2) / sp.sqrt(sp.pi)   # 1 - erf(a) = int_a^oo of this
    d.step("A Gaussian N(k, s^2) integrated over the bin of its own integer k has mass",
           equation(sp.Symbol("P_gauss(s)"), g_mass))
    d.step("tending to 1 as s -> 0 (log-mass -> 0 from below), and < 1 for every s > 0: "
           "1 - erf(a) is the integral over (a, oo) of 2 exp(-t^2)/sqrt(pi) > 0.",
           equation(sp.Limit(sp.Symbol("P_gauss"), s, 0, "+"), g_lim))
    sig = lambda y: 1 / (1 + sp.exp(-y))  # noqa: E731 - the logistic CDF
    l_mass = sig(half / s) - sig(-half / s)
    l_lim = sp.limit(l_mass, s, 0, "+")
    d.step("The discretised logistic of scale s (Salimans et al.) on its own bin:",
           equation(sp.Symbol("P_logistic(s)"), l_mass))
    d.step("also tends to 1:", equation(sp.Limit(sp.Symbol("P_logistic"), s, 0, "+"), l_lim))
    # The marginal is a pmf: maximise n log p subject to n p = 1 (symmetric optimum), via
    # the Lagrangian of sum_i log p_i - lambda (sum_i p_i - 1) at equal p_i.
    lagr = n * sp.log(p) - lam * (n * p - 1)
    sol = sp.solve([sp.diff(lagr, p), n * p - 1], [p, lam], dict=True)
    sup_total = sp.simplify(sp.expand_log(n * sp.log(sol[0][p]), force=True))
    d.step("The marginal p(x) of a latent-variable model with a pmf decoder is a pmf, so for "
           "n distinct points sum_i p(x_i) <= 1. Maximising the concave sum_i log p_i under "
           "sum_i p_i = 1 (Lagrange) gives p_i =", equation(sp.Symbol("p_i"), sol[0][p]))
    d.step("so the total log-likelihood (and the ELBO) is at most",
           equation(sp.Symbol("sup sum_i log p(x_i)"), sup_total))
    # Why bin-integrated Gaussians stall: in t = 1/s the log-derivative of the own-bin mass is
    # -t d/dt log erf(t/(2 sqrt 2)), whose size decays like exp(-t^2/8) = exp(-Delta^2/(8 s^2)).
    t = sp.Symbol("t", positive=True)
    mass_t = sp.erf(t / (2 * sp.sqrt(2)))
    grad = -t * sp.diff(sp.log(mass_t), t)
    # log|g| = log t - t^2/8 - log(erf(.)) + const; erf(.) -> 1 (a finite positive limit), so
    # that term is o(t^2) and is replaced by its limit before the (elementary) limit is taken.
    log_g = sp.expand_log(sp.log(-grad), force=True)
    exponent = sp.limit(log_g.subs(mass_t, sp.limit(mass_t, t, sp.oo)) / (t**2 / 8), t, sp.oo)
    d.step("The collapse direction remains (the supremum is approached as s -> 0), but the "
           "force along it vanishes: d log P_gauss / d log s, in t = 1/s,",
           equation(sp.Symbol("g(t)"), sp.simplify(grad)))
    d.step("has log|g| / (t^2/8) ->", equation(sp.Symbol("limit"), exponent))
    d.results.update(gaussian_bin_mass=g_mass, logistic_bin_mass=l_mass, lagrange_solution=sol[0],
                     gaussian_bin_gradient=grad)
    facts = DiscretisedFacts(
        pmf_log_nonpositive=bool(nonpos),
        gaussian_bin_mass_limit=sp.sstr(g_lim),
        gaussian_bin_mass_below_one=bool(tail_integrand.is_positive),
        logistic_bin_mass_limit=sp.sstr(sp.simplify(l_lim)),
        marginal_optimum_equal_masses=bool(sp.simplify(sol[0][p] - 1 / n) == 0),
        marginal_sup_total=sp.sstr(sup_total),
        marginal_sup_n16=float(sup_total.subs(n, 16)),
        gaussian_bin_gradient_exponent=sp.sstr(exponent),
    )
    return d.build(facts)
