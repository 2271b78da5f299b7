"""Encoders with a fixed variance: the shared-variance ELBO is unbounded iff D >= 4 s0^2 (n-1)/n.

Setting: n distinct points x_i in R^D, Gaussian encoders q_i = N(m_i, s0^2 I_k) with s0 fixed
and free means, any decoder mean mu(z), one decoder variance gamma shared by all pixels and
points.  With R = sum_i E_{q_i} ||x_i - mu(z)||^2 the best gamma is R/(n D) and

    ELBO = -(n D/2) log(2 pi e R/(n D)) - sum_i (||m_i||^2 + k (s0^2 - 1 - log s0^2))/2

(:mod:`vaeproofs.symbolic.shared_variance`).  Let L be the smallest distance between two
encoder means and t = L/(2 s0).

- Upper bound, every decoder and k: ||x_a - mu||^2 + ||x_b - mu||^2 >= d_ab^2/2, so
  R >= d_min^2 INT min(q_a, q_b) = d_min^2 Phi(-t); Phi(-t) >= phi(t)/(1 + t) (Birnbaum's
  Mills-ratio bound); and sum ||m_i||^2 >= (n - 1) L^2/2 (the regular simplex is the
  tightest).  Hence ELBO <= B(t) with B's t^2 coefficient n D/4 - (n - 1) s0^2: bounded,
  by max_t B(t) in closed form, when D < D* = 4 s0^2 (n - 1)/n.
- Lower bound, k >= n - 1: means on a regular simplex with edge L, decoder mean x_j on the
  Voronoi cell of m_j: R <= n (n - 1) d_max^2 Phi(-t) <= n (n - 1) d_max^2 phi(t)/t, so
  ELBO >= A(t) with the same t^2 coefficient plus (n D/2) log t: unbounded when D >= D*
  (at D = D* it grows like (n D/2) log t, i.e. (n D/4) log log(1/gamma)).

The exact log-likelihood of the same decoder family involves no encoder and is unbounded
for every D (the decoder x_j on half the prior: p(x_i) >= (1/2) (2 pi gamma)^(-D/2)).
So the encoder family decides: with a free encoder variance the ELBO is unbounded too
(construction ``memorising_elbo``); with a fixed one only when D >= D*.

Conventions: natural log; s0^2, gamma variances; sums over pixels and points.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from vaeproofs.symbolic.derivation import Derivation, DerivationBuilder, equation
from vaeproofs.symbolic.facts import FactRecord
from vaeproofs.symbolic.sources import ANSWER2, KINGMA_WELLING_KL, MATTEI_FRELLSEN, RYBKIN

__all__ = ["FixedEncoderVarianceFacts", "derive_fixed_encoder_variance", "fixed_encoder_cap",
           "fixed_encoder_threshold"]

_T = sp.Symbol("t", positive=True)


def _phi(t: sp.Expr) -> sp.Expr:
    return sp.exp(-t**2 / 2) / sp.sqrt(2 * sp.pi)


def _t_terms(expr: sp.Expr, t: sp.Symbol) -> sp.Expr:
    """The terms of ``expr`` (logs expanded) that depend on ``t``: the rest is a finite
    constant (every other symbol is a positive parameter), which no limit in t changes."""
    terms = sp.Add.make_args(sp.expand(sp.expand_log(expr, force=True)))
    return sp.Add(*[term for term in terms if term.has(t)])


def fixed_encoder_threshold(n: sp.Expr, s0_squared: sp.Expr) -> sp.Expr:
    """``D* = 4 s0^2 (n - 1)/n``: the ELBO is unbounded iff D >= D* (k >= n - 1)."""
    n, s0_squared = sp.sympify(n), sp.sympify(s0_squared)
    return 4 * s0_squared * (n - 1) / n


def _upper(n: sp.Expr, dim: sp.Expr, s0_squared: sp.Expr, k: sp.Expr, d2_min: sp.Expr,
           t: sp.Expr = _T) -> sp.Expr:
    """B(t): the bound on the ELBO of any decoder when the closest means are 2 s0 t apart."""
    c0 = s0_squared - 1 - sp.log(s0_squared)
    neg_log_r = -sp.log(d2_min) + t**2 / 2 + sp.log(1 + t) + sp.log(2 * sp.pi) / 2
    return (-(n * dim / 2) * sp.log(2 * sp.pi * sp.E / (n * dim)) + (n * dim / 2) * neg_log_r
            - (n - 1) * s0_squared * t**2 - n * k * c0 / 2)


def fixed_encoder_cap(n: int, dim: int, s0_squared: sp.Expr, k: int, d2_min: sp.Expr) -> sp.Expr:
    """``max_t B(t)`` for D < D* (closed form, at t* = (sqrt(1 + n D/a) - 1)/2 with
    a = (n - 1) s0^2 - n D/4 > 0): an upper bound on the total ELBO of every decoder."""
    s0_squared, d2_min = sp.nsimplify(s0_squared), sp.nsimplify(d2_min)
    n, dim, k = sp.Integer(n), sp.Integer(dim), sp.Integer(k)
    a = (n - 1) * s0_squared - n * dim / 4
    if not a > 0:
        raise ValueError(f"dim: the cap needs D < 4 s0^2 (n - 1)/n, got D = {dim}")
    t_star = (sp.sqrt(1 + n * dim / a) - 1) / 2
    return sp.simplify(_upper(n, dim, s0_squared, k, d2_min, t_star))


@dataclass(frozen=True)
class FixedEncoderVarianceFacts(FactRecord):
    """Facts of :func:`derive_fixed_encoder_variance`.

    Attributes:
        profiled_gamma_is_r_over_nd: the best shared gamma is R/(n D), a maximum.
        pair_inequality: ||u||^2 + ||v||^2 - ||u - v||^2/2 = ||u + v||^2/2 >= 0.
        overlap_is_two_phi: INT min(q_a, q_b) = 2 Phi(-L/(2 s0)) (integrated).
        simplex_identity: sum_{i<j} ||m_i - m_j||^2 = n sum ||m_i||^2 - ||sum m_i||^2.
        simplex_attains: the regular simplex (edge L) has sum ||m_i||^2 = (n - 1) L^2/2.
        mills_lower: Phi(-t) >= phi(t)/(1 + t) for t >= 0 (decreasing difference, limit 0).
        mills_upper: Phi(-t) <= phi(t)/t for t > 0.
        threshold: D* as text, ``4*s0**2*(n - 1)/n``.
        bounded_below_threshold: B(t) -> -oo as t -> oo for D = D* - delta (delta > 0).
        unbounded_above_threshold: A(t) -> oo for D = D* + delta.
        unbounded_at_threshold: A(t) -> oo at D = D* (like (n D/2) log t).
        cap_n2_d1: max_t B(t) for n = 2, D = 1, s0 = 1, k = 1, d_min = 1 (nats).
        likelihood_limit: the same decoder's exact log-likelihood bound as gamma -> 0 ("oo").
    """

    profiled_gamma_is_r_over_nd: bool
    pair_inequality: bool
    overlap_is_two_phi: bool
    simplex_identity: bool
    simplex_attains: bool
    mills_lower: bool
    mills_upper: bool
    threshold: str
    bounded_below_threshold: bool
    unbounded_above_threshold: bool
    unbounded_at_threshold: bool
    cap_n2_d1: float
    likelihood_limit: str

    @property
    def decided(self) -> bool:
        """Both directions proven: unbounded iff D >= D*."""
        return (self.profiled_gamma_is_r_over_nd and self.pair_inequality
                and self.overlap_is_two_phi and self.simplex_identity and self.simplex_attains
                and self.mills_lower and self.mills_upper and self.bounded_below_threshold
                and self.unbounded_above_threshold and self.unbounded_at_threshold)


def derive_fixed_encoder_variance() -> Derivation:
    """Derive the dimension threshold D* = 4 s0^2 (n - 1)/n of the fixed-encoder-variance ELBO.

    results: ``upper`` B(t), ``lower`` A(t), ``threshold``, ``cap_n2_d1``.
    facts: :class:`FixedEncoderVarianceFacts`.
    """
    dim, k, m = sp.symbols("D k m", positive=True)
    n = m + 1   # n >= 2 points: m = n - 1 > 0
    s0, gamma, r_total, big_l, delta = sp.symbols("s0 gamma R L delta", positive=True)
    d2min, d2max = sp.symbols("d2_min d2_max", positive=True)
    t, z = _T, sp.Symbol("z", real=True)
    d = DerivationBuilder(
        name="fixed-encoder-variance",
        title="Fixed encoder variance s0^2: the shared-variance ELBO is unbounded iff "
              "D >= 4 s0^2 (n - 1)/n",
        sources=[ANSWER2, MATTEI_FRELLSEN, RYBKIN, KINGMA_WELLING_KL])
    elbo_gamma = -(n * dim / 2) * sp.log(2 * sp.pi * gamma) - r_total / (2 * gamma)
    roots = sp.solve(sp.diff(elbo_gamma, gamma), gamma)
    profiled_ok = (roots == [r_total / (n * dim)] and bool(
        sp.simplify(sp.diff(elbo_gamma, gamma, 2).subs(gamma, roots[0])).is_negative))
    d.step("The shared variance's best value is R/(nD), R = Σ_i E_qi‖x_i − μ(z)‖² (a maximum), "
           "so ELBO = −(nD/2) log(2πe R/(nD)) − Σ KL_i:", equation(sp.Symbol("gamma*"), roots[0]))
    a, b = sp.symbols("a b", real=True)
    pair = sp.expand(a**2 + b**2 - (a - b) ** 2 / 2 - (a + b) ** 2 / 2) == 0
    d.step("Per pixel a² + b² − (a − b)²/2 = (a + b)²/2 ≥ 0 (a = x_a − μ, b = x_b − μ), so "
           "R ≥ ∫ min(q_a, q_b) d_ab²/2 for the two closest encoder means, L apart:")
    q_a = sp.exp(-(z + big_l / 2) ** 2 / (2 * s0**2)) / sp.sqrt(2 * sp.pi * s0**2)
    overlap = 2 * sp.integrate(q_a, (z, 0, sp.oo))
    overlap_ok = sp.simplify(overlap - sp.erfc(big_l / (2 * sp.sqrt(2) * s0))) == 0
    d.step("the overlap of two N(·, s0² I) at distance L (the bisector reduces it to 1-D) is "
           "2Φ(−L/(2 s0)); with t = L/(2 s0):", equation(sp.Symbol("∫min(q_a, q_b)"), overlap))
    ms = sp.Matrix(3, 2, sp.symbols("m1:7", real=True))
    rows = [ms.row(i) for i in range(3)]
    pairs = sum(((rows[i] - rows[j]).dot(rows[i] - rows[j]) for i in range(3)
                 for j in range(i + 1, 3)), sp.Integer(0))
    total = sum((r_.dot(r_) for r_ in rows), sp.Integer(0))
    mean_sum = rows[0] + rows[1] + rows[2]
    identity_ok = sp.expand(pairs - (3 * total - mean_sum.dot(mean_sum))) == 0
    d.step("Σ_{i<j}‖m_i − m_j‖² = n Σ‖m_i‖² − ‖Σ m_i‖² (checked for n = 3 in the plane), so "
           "Σ KL_i ≥ (n − 1)L²/4 + n k (s0² − 1 − log s0²)/2 = (n − 1) s0² t² + const.")
    # Regular simplex: vertices L/sqrt(2) (e_i - (1/n) sum e_j): pair distance L, radius^2 below.
    radius2 = sp.simplify((big_l**2 / 2) * ((1 - 1 / n) ** 2 + (n - 1) / n**2))
    attains = sp.simplify(n * radius2 - (n - 1) * big_l**2 / 2) == 0
    d.step("The regular simplex (k ≥ n − 1) attains it: circumradius² =",
           equation(sp.Symbol("r^2"), radius2))
    h_low = sp.erfc(t / sp.sqrt(2)) / 2 - _phi(t) / (1 + t)
    dh = sp.simplify(sp.diff(h_low, t))
    ends_low = [sp.limit(part, t, sp.oo) for part in (sp.erfc(t / sp.sqrt(2)), _phi(t) / (1 + t))]
    mills_low = bool(sp.simplify(dh * (1 + t) ** 2 / _phi(t) + t) == 0 and ends_low == [0, 0])
    d.step("Birnbaum's bound Φ(−t) ≥ φ(t)/(1 + t): the difference decreases to 0,",
           equation(sp.Derivative(sp.Symbol("h"), t), dh))
    h_up = _phi(t) / t - sp.erfc(t / sp.sqrt(2)) / 2
    mills_up = bool(sp.simplify(sp.diff(h_up, t) + _phi(t) / t**2) == 0
                    and sp.limit(_phi(t) / t, t, sp.oo) == 0 and ends_low[0] == 0)
    d.step("and Φ(−t) ≤ φ(t)/t (the difference also decreases to 0).")
    upper = _upper(n, dim, s0**2, k, d2min)
    d.step("Hence, for every decoder mean and shared variance (any k):",
           sp.Le(sp.Symbol("ELBO"), upper, evaluate=False))
    coeff = sp.expand(upper).coeff(t, 2)
    threshold = sp.factor(sp.solve(sp.Eq(coeff, 0), dim)[0])
    d.step("Its t² coefficient vanishes at the threshold", equation(sp.Symbol("D*"), threshold))
    lim_below = sp.limit(_t_terms(upper.subs(dim, threshold - delta), t), t, sp.oo)
    d.step("Below it (D = D* − δ) the bound tends to −∞ in t, so its maximum over t bounds the "
           "ELBO:", equation(sp.Limit(sp.Symbol("B"), t, sp.oo), lim_below))
    c0 = s0**2 - 1 - sp.log(s0**2)
    lower = (-(n * dim / 2) * sp.log(2 * sp.pi * sp.E * n * (n - 1) * d2max * _phi(t) / (t * n * dim))
             - (n - 1) * s0**2 * t**2 - n * k * c0 / 2)

    def at(dimension: sp.Expr) -> sp.Expr:
        """A(t) at D = dimension, its t-free terms (a finite constant) dropped for the limit;
        substituted first, so that n D cancels exactly."""
        return _t_terms(lower.subs(dim, dimension), t)

    d.step("Above: k ≥ n − 1, means on the regular simplex, decoder x_j on m_j's Voronoi cell "
           "(inside the half-space beyond the bisector): R ≤ n(n − 1) d_max² φ(t)/t, so",
           sp.Ge(sp.Symbol("ELBO"), lower, evaluate=False))
    lim_above = sp.limit(at(threshold + delta), t, sp.oo)
    lim_at = sp.limit(at(threshold), t, sp.oo)
    d.step("which diverges for D = D* + δ and at D = D* itself ((nD/2) log t):",
           sp.Tuple(lim_above, lim_at))
    cap = fixed_encoder_cap(2, 1, 1, 1, 1)
    d.step("Example n = 2, D = 1 < D* = 2, s0 = k = d = 1: every ELBO is at most",
           equation(sp.Symbol("cap"), cap))
    lik = sp.limit(sp.expand_log(sp.log(sp.Rational(1, 2) * (2 * sp.pi * gamma) ** (-dim / 2)),
                                 force=True), gamma, 0, "+")
    d.step("The exact likelihood of the same decoder family (x_j on half of the prior) needs "
           "no encoder: log p(x_i) ≥ log((1/2)(2πγ)^(−D/2)), whose limit as γ → 0 is", lik)
    d.results.update(upper=upper, lower=lower, threshold=threshold, cap_n2_d1=cap)
    facts = FixedEncoderVarianceFacts(
        profiled_gamma_is_r_over_nd=bool(profiled_ok),
        pair_inequality=bool(pair),
        overlap_is_two_phi=bool(overlap_ok),
        simplex_identity=bool(identity_ok),
        simplex_attains=bool(attains),
        mills_lower=mills_low,
        mills_upper=mills_up,
        threshold=sp.sstr(sp.factor(threshold.subs(m, sp.Symbol("n") - 1))),
        bounded_below_threshold=lim_below == -sp.oo,
        unbounded_above_threshold=lim_above == sp.oo,
        unbounded_at_threshold=lim_at == sp.oo,
        cap_n2_d1=float(cap),
        likelihood_limit=sp.sstr(lik),
    )
    return d.build(facts)
