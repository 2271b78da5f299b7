"""The Gaussian-mixture analogy: a mixture's likelihood is unbounded, one Gaussian's is not.

The question compares the VAE with Gaussian-mixture maximum likelihood (McLachlan & Peel,
section 3.8; Bishop, PRML section 9.2.1).  Derived here:

- one Gaussian on n points: the log-likelihood -(n/2) log(2 pi v) - (S + n (mu - xbar)^2)/(2 v)
  (S the sum of squared deviations) has its maximum at mu = xbar, v = S/n, of value
  -(n/2)(log(2 pi S/n) + 1): finite exactly when S > 0, i.e. n >= 2 points not all equal;
- two components, one centred on x_1 with variance eps: the log-likelihood is at least
  log(w N(x_1 | x_1, eps)) + sum_{i >= 2} log((1 - w) N(x_i | m, v)), which tends to
  +infinity like (1/2) log(1/eps);
- K components with one *shared* variance v on n distinct points: bounded iff n > K.
  If K < n, some point is at distance >= delta/2 from every mean (pigeonhole, delta the
  smallest gap), so the total is <= -(n/2) log(2 pi v) - delta^2/(8 v), whose maximum over
  v is finite; if K >= n, one component on each point gives (n/2) log(1/v) + O(1) -> oo.
  A VAE is an infinite mixture (K = oo > n), consistent with Dai et al. 2018, Theorem 5;
- a VAE's marginal p(x) = int N(x | mu(z), sigma^2(z)) N(z | 0, 1) dz is a continuous
  mixture: a decoder that is constant on the half-lines z < 0 and z >= 0 gives exactly the
  two-component mixture with weights Phi(0) = 1/2 each, so the latent variable supplies the
  components and the mixture's degeneracy carries over (construction ``gmm_likelihood``).

Conventions: natural log; one-dimensional data (or isotropic components: a full-covariance
Gaussian in R^D is bounded only when the points affinely span R^D); v, eps variances;
totals over n points.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from vaeproofs.symbolic.derivation import Derivation, DerivationBuilder, equation
from vaeproofs.symbolic.facts import FactRecord
from vaeproofs.symbolic.sources import MATTEI_FRELLSEN, MCLACHLAN_PEEL, MIXTURE_DEGENERACY

__all__ = ["MixtureFacts", "derive_mixture", "single_gaussian_max"]

_N = sp.Symbol("n", integer=True, positive=True)
_S = sp.Symbol("S", positive=True)


def single_gaussian_max(n: int | sp.Expr, spread: sp.Expr) -> sp.Expr:
    """``-(n/2)(log(2 pi S/n) + 1)``: the maximum log-likelihood of one Gaussian on n points.

    ``spread`` is S = sum_i (x_i - xbar)^2 > 0 (derived in :func:`derive_mixture`).
    """
    return -sp.sympify(n) / 2 * (sp.log(2 * sp.pi * sp.sympify(spread) / n) + 1)


@dataclass(frozen=True)
class MixtureFacts(FactRecord):
    """Facts of :func:`derive_mixture`.

    Attributes:
        mle_is_mean_and_spread: the only critical point is mu = xbar, v = S/n.
        mle_is_maximum: the Hessian there is negative definite.
        single_gaussian_max: the maximum, as text.
        single_gaussian_max_matches: it equals -(n/2)(log(2 pi S/n) + 1).
        single_gaussian_collapse_limit: the log-likelihood as v -> 0 with S > 0 ("-oo").
        mixture_rate: the coefficient of log(1/eps) in the mixture's lower bound ("1/2").
        mixture_limit: the lower bound's limit as eps -> 0 ("oo").
        step_decoder_weights: the prior masses of z < 0 and z >= 0, as text ("(1/2, 1/2)").
        shared_k_below_n_max: the maximum over v of the pigeonhole bound (K < n), as text.
        shared_k_below_n_bounded: that maximum is finite (bounded iff n > K, first half).
        shared_k_equals_n_limit: the K = n mixture's log-likelihood as v -> 0 ("oo").
        shared_k_equals_n_values: that log-likelihood on x = (0, 1, 3) at v = 1e-10, 1e-100,
            1e-1000 (mpmath), as comma-separated text.
    """

    mle_is_mean_and_spread: bool
    mle_is_maximum: bool
    single_gaussian_max: str
    single_gaussian_max_matches: bool
    single_gaussian_collapse_limit: str
    mixture_rate: str
    mixture_limit: str
    step_decoder_weights: str
    shared_k_below_n_max: str = ""
    shared_k_below_n_bounded: bool = False
    shared_k_equals_n_limit: str = ""
    shared_k_equals_n_values: str = ""

    @property
    def shared_bounded_iff_n_above_k(self) -> bool:
        """K < n bounded, K = n unbounded: the finite analogue of the shared-variance claims."""
        return self.shared_k_below_n_bounded and self.shared_k_equals_n_limit == "oo"

    @property
    def single_bounded_mixture_unbounded(self) -> bool:
        """One Gaussian has a finite maximum; the mixture diverges."""
        return (self.mle_is_mean_and_spread and self.mle_is_maximum
                and self.single_gaussian_max_matches and self.mixture_limit == "oo")


def derive_mixture() -> Derivation:
    """Derive the single-Gaussian maximum, the mixture's divergence and the VAE as a mixture.

    results: ``single_loglik``, ``single_max``, ``mixture_lower_bound`` (in u = log(1/eps)).
    facts: :class:`MixtureFacts`.
    """
    n, S = _N, _S
    mu, xbar = sp.symbols("mu xbar", real=True)
    v, w, u, C = sp.symbols("v w u C", positive=True)
    z = sp.Symbol("z", real=True)
    d = DerivationBuilder(name="mixture", title="Gaussian mixture vs one Gaussian: the VAE is a "
                   "continuous mixture", sources=[MIXTURE_DEGENERACY, MCLACHLAN_PEEL, MATTEI_FRELLSEN])
    ll = -n / 2 * sp.log(2 * sp.pi * v) - (S + n * (mu - xbar)**2) / (2 * v)
    d.step("One Gaussian N(μ, v) on n points, S = sum_i (x_i - x̄)^2:",
           equation(sp.Symbol("ℓ(μ, v)"), ll))
    mu_star = sp.solve(sp.diff(ll, mu), mu)
    v_star = sp.solve(sp.diff(ll.subs(mu, xbar), v), v)
    point = {mu: xbar, v: S / n}
    hess = sp.simplify(sp.hessian(ll, (mu, v)).subs(point))
    neg_def = bool(hess[0, 0].is_negative) and bool(sp.simplify(hess.det()).is_positive)
    best = sp.simplify(ll.subs(point))
    d.step("Its only critical point is μ = x̄, v = S/n, a maximum (Hessian there):",
           equation(sp.Symbol("H"), hess))
    d.step("of value (finite exactly when S > 0: n >= 2 points, not all equal)",
           equation(sp.Symbol("max ℓ"), best))
    collapse = sp.limit(ll.subs(mu, xbar), v, 0, "+")
    d.step("and the collapse v -> 0 is penalised:", equation(sp.Limit(sp.Symbol("ℓ(x̄, v)"), v, 0, "+"),
                                                            collapse))
    # Mixture lower bound with eps = e^-u; C = sum_{i >= 2} log((1 - w) N(x_i | m, v)), finite.
    lower = sp.log(w) - sp.log(2 * sp.pi) / 2 + u / 2 + C
    split = sp.Poly(sp.expand(lower), u)
    rate = split.coeff_monomial(u)
    lim = sp.limit(lower, u, sp.oo)
    d.step("Two components w N(x_1, ε) + (1 - w) N(m, v): keeping only the first term for x_1 "
           "and the second for the others, with ε = e^(-u),",
           equation(sp.Symbol("ℓ_mix >="), lower))
    d.step("which diverges at rate (1/2) log(1/ε):", equation(sp.Limit(sp.Symbol("ℓ_mix"), u, sp.oo), lim))
    phi = sp.exp(-z**2 / 2) / sp.sqrt(2 * sp.pi)
    w_neg = sp.integrate(phi, (z, -sp.oo, 0))
    w_pos = sp.integrate(phi, (z, 0, sp.oo))
    d.step("A VAE's marginal is the continuous mixture ∫ N(x | μ(z), σ²(z)) N(z | 0, 1) dz; a "
           "decoder constant on z < 0 and on z >= 0 gives the two-component mixture with "
           "weights", equation(sp.Tuple(sp.Symbol("w_-"), sp.Symbol("w_+")), sp.Tuple(w_neg, w_pos)))
    delta = sp.Symbol("delta", positive=True)
    pigeon = -n / 2 * sp.log(2 * sp.pi * v) - delta**2 / (8 * v)
    v_opt = sp.solve(sp.diff(pigeon, v), v)
    pigeon_max = sp.simplify(pigeon.subs(v, v_opt[0])) if len(v_opt) == 1 else sp.oo
    pigeon_concave = bool(len(v_opt) == 1
                          and sp.simplify(sp.diff(pigeon, v, 2).subs(v, v_opt[0])).is_negative)
    d.step("K < n components with one shared variance v: some point is >= δ/2 from every mean "
           "(pigeonhole), so ℓ <= -(n/2) log(2πv) - δ²/(8v), whose maximum over v is",
           equation(sp.Symbol("max_v bound"), pigeon_max))
    # K = n: one component on each point, equal weights; each mixture term is at least its own
    # component's, so l >= n (-log n - (1/2) log(2 pi) + u/2) with v = e^(-u).
    k_eq_n_lower = n * (-sp.log(n) - sp.log(2 * sp.pi) / 2 + u / 2)
    k_eq_n_limit = sp.limit(k_eq_n_lower, u, sp.oo)
    d.step("K = n components, one on each point, shared v = e^(-u), weights 1/n: each term is at "
           "least its own component's, so", equation(sp.Symbol("ℓ >="), k_eq_n_lower))
    import mpmath

    xs = (0, 1, 3)

    def k_eq_n_loglik(e: int) -> str:   # the exact K = n = 3 log-likelihood at v = 10^(-e)
        v_ = mpmath.mpf(10) ** (-e)
        return mpmath.nstr(sum(mpmath.log(sum(mpmath.exp(-(xi - m) ** 2 / (2 * v_)) for m in xs)
                                          / len(xs) / mpmath.sqrt(2 * mpmath.pi * v_)) for xi in xs), 8)

    with mpmath.workdps(30):
        values = ", ".join(k_eq_n_loglik(e) for e in (10, 100, 1000))
    d.results.update(single_loglik=ll, single_max=best, mixture_lower_bound=lower,
                     shared_pigeonhole_bound=pigeon, shared_k_equals_n_lower=k_eq_n_lower)
    facts = MixtureFacts(
        mle_is_mean_and_spread=bool(mu_star == [xbar] and v_star == [S / n]),
        mle_is_maximum=neg_def,
        single_gaussian_max=sp.sstr(best),
        single_gaussian_max_matches=bool(sp.simplify(sp.expand_log(best - single_gaussian_max(n, S),
                                                                    force=True)) == 0),
        single_gaussian_collapse_limit=sp.sstr(collapse),
        mixture_rate=sp.sstr(rate),
        mixture_limit=sp.sstr(lim),
        step_decoder_weights=sp.sstr(sp.Tuple(w_neg, w_pos)),
        shared_k_below_n_max=sp.sstr(pigeon_max),
        shared_k_below_n_bounded=bool(pigeon_concave and not pigeon_max.has(sp.oo, sp.zoo)),
        shared_k_equals_n_limit=sp.sstr(k_eq_n_limit),
        shared_k_equals_n_values=values,
    )
    return d.build(facts)
