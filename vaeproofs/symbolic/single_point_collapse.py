"""Single-point collapse in the ELBO: the KL price of a half-space variance collapse.

Decoder: mean x_1 everywhere (a constant mean; Mattei & Frellsen 2018, section 2.1), variance
v(z) = epsilon = v_min on a half-space A = {z < b} of latent space and 1 elsewhere; Gaussian
encoders q_i.  With u = log(1/epsilon) and d_i = ||x_i - x_1||, each point's expected
log-density is, exactly (the variance is a step),

    E_{q_i} log N(x_i | x_1, v(z) I) = -(D/2) log 2 pi + q_i(A) ((D/2) u - d_i^2 e^u / 2)
                                       - (1 - q_i(A)) d_i^2 / 2.

- Point 1 (d_1 = 0) gains (D/2) u q_1(A): linear in q_1(A), with no KL needed
  (q_1 = the prior gives q_1(A) = 1/2 at KL = 0).
- Every other point pays q_j(A) d_j^2 e^u / 2: its encoder must put mass <~ e^(-u) on A.
  For a Gaussian q_j at t standard deviations from the boundary the least KL is
  (1/2) log(1 + t^2) (at s^2 = 1/(1 + t^2)); t = sqrt(2 u) makes the penalty vanish (Gordon's
  Mills bound), while t = sqrt(2 (1 - delta) u) lets it diverge (Birnbaum's): the price is
  (1/2) log u + O(1) = (1/2) log log(1/v_min) + O(1) per other point.
- Point 1 itself can push q_1(A) -> 1 at the price (1/2) log log u (t_1 = sqrt(2 log u)).
- With every encoder variance fixed at s^2 (a special case of "bounded below"), the other
  means must sit s sqrt(2u) past the boundary and point 1 on the other side: the least
  total KL is (n - 1) L^2 / (2 n) for a separation L, so the ELBO still grows like
  (D/2 - (n - 1) s^2/n) u: unbounded for D > 2 s^2 (n - 1)/n.  Conversely, maximising the
  integrand pointwise in v bounds the ELBO by const + (D/2) min_j KL(q_1 || q_j)
  - sum_i ||m_i||^2/2, i.e. const + (D/(4 s^2) - (n - 1)/(2 n)) L^2: bounded for
  D < 2 s^2 (n - 1)/n.  With the encoders held fixed the ELBO -> -oo as v_min -> 0.

Conventions: natural log; epsilon, v, s^2 variances; sums over pixels and points.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from vaeproofs.symbolic.derivation import Derivation, DerivationBuilder, equation
from vaeproofs.symbolic.facts import FactRecord
from vaeproofs.symbolic.gaussian import gaussian_expectation
from vaeproofs.symbolic.sources import KINGMA_WELLING_KL, MATTEI_FRELLSEN

__all__ = ["SinglePointCollapseFacts", "derive_single_point_collapse"]


def _phi(t: sp.Expr) -> sp.Expr:
    return sp.exp(-t**2 / 2) / sp.sqrt(2 * sp.pi)


@dataclass(frozen=True)
class SinglePointCollapseFacts(FactRecord):
    """Facts of :func:`derive_single_point_collapse`.

    Attributes:
        step_expectation_exact: the expected log-density of a step variance equals the
            mass-weighted sum of its two values (integrated against a Gaussian, sympy).
        gain_rate_in_mass: d/du of point 1's term divided by q_1(A): ``D/2``.
        least_kl_at_ratio: min over s of KL(N(t s, s^2) || N(0, 1)) as text ("log(t**2 + 1)/2").
        penalty_vanishes_at_sqrt_2u: the other point's penalty q_j(A) e^u -> 0 for t = sqrt(2u).
        penalty_diverges_below: it -> oo for t = sqrt(2 (1 - delta) u), delta in (0, 1).
        other_point_price_rate: lim (least KL at t = sqrt(2u)) / log u: ``1/2``.
        collapsing_point_price_rate: lim (least KL at t = sqrt(2 log u)) / log log u: ``1/2``.
        fixed_variance_threshold: 2 s^2 (n - 1)/n as text.
        fixed_variance_least_kl: min (m_1^2 + (n - 1) M^2)/2 with M - m_1 = L, as text.
        fixed_variance_kl_between: KL(N(a, s^2) || N(b, s^2)) = (a - b)^2/(2 s^2) (integrated).
        pointwise_best_variance: the variance maximising Q log(1/v)... is 2P/(D Q) (sympy).
        fixed_encoders_limit: the ELBO's limit as v_min -> 0 with every encoder fixed ("-oo").
    """

    step_expectation_exact: bool
    gain_rate_in_mass: str
    least_kl_at_ratio: str
    penalty_vanishes_at_sqrt_2u: bool
    penalty_diverges_below: bool
    other_point_price_rate: str
    collapsing_point_price_rate: str
    fixed_variance_threshold: str
    fixed_variance_least_kl: str
    fixed_variance_kl_between: bool
    pointwise_best_variance: bool
    fixed_encoders_limit: str

    @property
    def unbounded_at_the_stated_price(self) -> bool:
        """Point 1 gains (D/2) u q_1(A); each other point pays exactly (1/2) log u + O(1)."""
        return (self.step_expectation_exact and self.penalty_vanishes_at_sqrt_2u
                and self.penalty_diverges_below and self.other_point_price_rate == "1/2")


def derive_single_point_collapse() -> Derivation:
    """Derive the rate and the KL price of the single-point (half-space) ELBO collapse.

    results: ``point_term`` (the step expectation), ``least_kl``, ``penalty_at_sqrt_2u``,
    ``threshold``. facts: :class:`SinglePointCollapseFacts`.
    """
    u, t, s, dim, delta = sp.symbols("u t s D delta", positive=True)
    m_n = sp.Symbol("m", positive=True)          # n - 1 other points (n >= 2)
    d2, q_mass, big_l, a, b = sp.symbols("d2 q L a b", positive=True)
    z = sp.Symbol("z", real=True)
    mean = sp.Symbol("mu", real=True)
    d = DerivationBuilder(
        name="single-point-collapse",
        title="Single-point collapse in the ELBO: rate (D/2) log(1/v_min) q_i(A), price "
              "(1/2) log log(1/v_min) per other point",
        sources=[MATTEI_FRELLSEN, KINGMA_WELLING_KL])
    # E over N(mu, 1) of a step function of z: mass below 0 times one value, the rest the other.
    dens = sp.exp(-(z - mean) ** 2 / 2) / sp.sqrt(2 * sp.pi)
    mass_a = sp.integrate(dens, (z, -sp.oo, 0))
    step_ok = mass_a == sp.erfc(mean / sp.sqrt(2)) / 2          # Phi(-mu): the normal CDF
    d.step("For a step variance (epsilon on A, 1 elsewhere) the expected log-density is the "
           "mass-weighted sum of its two values; the Gaussian mass of A = {z < 0} is",
           equation(sp.Symbol("q(A)"), mass_a))
    term = (-(dim / 2) * sp.log(2 * sp.pi) + q_mass * ((dim / 2) * u - d2 * sp.exp(u) / 2)
            - (1 - q_mass) * d2 / 2)
    d.step("so point i's expected log-density, u = log(1/epsilon), d2 = ||x_i - x_1||^2, is",
           equation(sp.Symbol("E_qi log p"), term))
    gain = sp.simplify(sp.diff(term.subs(d2, 0), u) / q_mass)
    d.step("Point 1 (d2 = 0) gains, per unit of u and of q_1(A):", equation(sp.Symbol("rate"), gain))
    kl = (t**2 * s**2 + s**2 - 1 - sp.log(s**2)) / 2
    s2_best = sp.solve(sp.diff(kl, s), s)
    least = sp.simplify(sp.expand_log(kl.subs(s, s2_best[0]), force=True))
    d.step("An encoder N(m, s^2) whose mean is t standard deviations from the boundary (m = t s) "
           "has KL at least, at s^2 = 1/(1 + t^2):", equation(sp.Symbol("KL_min(t)"), least))
    upper = sp.exp(u) * _phi(t) / t                 # Gordon: Phi(-t) <= phi(t)/t
    lower = sp.exp(u) * _phi(t) / (1 + t)           # Birnbaum: Phi(-t) >= phi(t)/(1 + t)
    at_2u = sp.limit(upper.subs(t, sp.sqrt(2 * u)), u, sp.oo)
    below = sp.limit(lower.subs(t, sp.sqrt(2 * (1 - delta) * u)).subs(delta, sp.Rational(1, 10)),
                     u, sp.oo)
    below_general = sp.limit(sp.expand_log(sp.log(lower.subs(t, sp.sqrt(2 * (1 - delta) * u))),
                                           force=True), u, sp.oo)
    d.step("Another point pays q_j(A) d2 e^u/2 with q_j(A) = Phi(-t): with t = sqrt(2u) it "
           "vanishes (Phi(-t) <= phi(t)/t),", equation(sp.Symbol("lim e^u phi(t)/t"), at_2u))
    d.step("with t = sqrt(2(1 - delta)u) it diverges (Phi(-t) >= phi(t)/(1 + t); delta = 1/10 "
           "and, for the log, any delta in (0, 1)):", sp.Tuple(below, below_general))
    price = least.subs(t, sp.sqrt(2 * u))
    price_rate = sp.limit(price / sp.log(u), u, sp.oo)
    d.step("so each other point pays KL_min(sqrt(2u)) = (1/2) log(1 + 2u), i.e. per log u:",
           equation(sp.Symbol("rate"), price_rate))
    own = least.subs(t, sp.sqrt(2 * sp.log(u)))
    own_deficit = sp.limit(u * _phi(sp.sqrt(2 * sp.log(u))) / sp.sqrt(2 * sp.log(u)), u, sp.oo)
    own_rate = sp.limit(own / sp.log(sp.log(u)), u, sp.oo)
    d.step("Point 1 can push q_1(A) -> 1: t_1 = sqrt(2 log u) leaves a deficit (D/2) u Phi(-t_1) "
           "-> 0 and costs (1/2) log(1 + 2 log u), per log log u:",
           sp.Tuple(own_deficit, own_rate))
    # Fixed (hence bounded-below) encoder variance s^2: point 1 at m_1, the others at M.
    m1, big_m = sp.symbols("m_1 M", real=True)
    cost = (m1**2 + m_n * big_m**2) / 2
    m1_sol = sp.solve(sp.diff(cost.subs(big_m, m1 + big_l), m1), m1)[0]
    least_fixed = sp.factor(sp.simplify(cost.subs(big_m, m1 + big_l).subs(m1, m1_sol)))
    d.step("With every encoder variance fixed at s^2, the others must sit L >= s sqrt(2u) from "
           "point 1's mean; the least KL (n - 1 = m others at one place) is",
           equation(sp.Symbol("KL_min(L)"), least_fixed))
    gain_fixed = (dim / 2) * u - least_fixed.subs(big_l, s * sp.sqrt(2 * u))
    threshold = sp.solve(sp.Eq(sp.diff(gain_fixed, u), 0), dim)[0]
    d.step("so the ELBO still grows like (D/2) u - KL_min(s sqrt(2u)): unbounded above",
           equation(sp.Symbol("D_floor"), threshold))
    kl_between = gaussian_expectation((-(z - a) ** 2 + (z - b) ** 2) / (2 * s**2), z, a, s**2)
    kl_ok = sp.simplify(kl_between - (a - b) ** 2 / (2 * s**2)) == 0
    big_q, big_p, v = sp.symbols("Q P v", positive=True)
    pointwise = -(dim / 2) * big_q * sp.log(v) - big_p / v
    v_best = sp.solve(sp.diff(pointwise, v), v)
    pointwise_ok = v_best == [2 * big_p / (dim * big_q)]
    d.step("Conversely, maximising Q log(1/v) (D/2) - P/v pointwise (Q = sum q_i, P = sum_j q_j "
           "d_j^2/2) at v = 2P/(DQ), and KL(N(a, s^2) || N(b, s^2)) = (a - b)^2/(2 s^2), bound the "
           "ELBO by const + (D/(4 s^2) - (n - 1)/(2n)) L^2: bounded below that threshold.",
           equation(sp.Symbol("v*"), v_best[0] if v_best else sp.nan))
    fixed_mass = sp.Symbol("c", positive=True)       # q_j(A) > 0 held fixed
    fixed_limit = sp.limit(fixed_mass * ((dim / 2) * u - d2 * sp.exp(u) / 2) + (dim / 2) * u, u, sp.oo)
    d.step("With every encoder held fixed, q_j(A) = c > 0 and the penalty beats any gain:",
           equation(sp.Limit(sp.Symbol("ELBO"), u, sp.oo), fixed_limit))
    d.results.update(point_term=term, least_kl=least, penalty_at_sqrt_2u=at_2u,
                     threshold=threshold, least_fixed=least_fixed)
    facts = SinglePointCollapseFacts(
        step_expectation_exact=bool(step_ok),
        gain_rate_in_mass=sp.sstr(gain),
        least_kl_at_ratio=sp.sstr(least),
        penalty_vanishes_at_sqrt_2u=at_2u == 0,
        penalty_diverges_below=below == sp.oo and below_general == sp.oo,
        other_point_price_rate=sp.sstr(price_rate),
        collapsing_point_price_rate=sp.sstr(own_rate) if own_deficit == 0 else "deficit",
        fixed_variance_threshold=sp.sstr(sp.factor(threshold.subs(m_n, sp.Symbol("n") - 1))),
        fixed_variance_least_kl=sp.sstr(sp.factor(least_fixed.subs(m_n, sp.Symbol("n") - 1))),
        fixed_variance_kl_between=bool(kl_ok),
        pointwise_best_variance=bool(pointwise_ok),
        fixed_encoders_limit=sp.sstr(fixed_limit),
    )
    return d.build(facts)
