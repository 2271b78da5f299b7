"""A fixed decoder variance s0^2 is squared error plus constants: beta = 2 s0^2
("fixed-variance-beta").

-E_q log N(x | mu(z), s0^2 I) = E_q||x - mu(z)||^2 / (2 s0^2) + (D/2) log(2 pi s0^2)
(Kingma & Welling 2013, arXiv 1312.6114, appendix C.2), so -ELBO * 2 s0^2 =
E_q||x - mu||^2 + 2 s0^2 KL + D s0^2 log(2 pi s0^2): the beta-VAE objective (Higgins et
al. 2017) on the squared error summed over pixels, with beta = 2 s0^2 (docs/theory.md
section 3.7).

Conventions: natural logarithms; s0^2 a variance (s0 a standard deviation); sums over
the D pixels of one point.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from vaeproofs.symbolic.derivation import Derivation, Record, StepLog
from vaeproofs.symbolic.gaussian import normal_log_density
from vaeproofs.symbolic.sources import HIGGINS, KINGMA_WELLING_DECODER, theory

__all__ = ["FixedVarianceBetaFacts", "FixedVarianceBetaResults", "derive_fixed_variance_beta"]

_X = sp.Symbol("x", real=True)
_MU = sp.Symbol("mu", real=True)
_D = sp.Symbol("D", integer=True, positive=True)
_J = sp.Symbol("j", integer=True, positive=True)


@dataclass(frozen=True)
class FixedVarianceBetaResults(Record):
    """Results of :func:`derive_fixed_variance_beta` (sympy)."""

    #: R/(2 s0^2) + (D/2) log(2 pi s0^2) + KL, R = E_q||x - mu||^2 summed over pixels
    neg_elbo: sp.Expr
    scaled: sp.Expr                #: 2 s0^2 * neg_elbo
    constant: sp.Expr              #: its part free of R and KL
    squared_error_weight: sp.Expr  #: coefficient of R when KL has coefficient 1
    concrete_difference: sp.Expr   #: the D = 3 check, 0 when it holds


@dataclass(frozen=True)
class FixedVarianceBetaFacts(Record):
    """Facts of :func:`derive_fixed_variance_beta`, computed from its results."""

    concrete_D_matches: bool
    #: ratio of the KL coefficient to the R coefficient in ``scaled`` (2 s0^2)
    beta: sp.Expr
    #: beta minus 2 s0^2 simplifies to 0 (the equivalence in docs/theory.md section 3.7)
    beta_equals_two_s0_squared: bool
    constant_free_of_model: bool   #: the constant holds no R or KL
    constant_matches: bool         #: the constant equals D s0^2 log(2 pi s0^2)
    #: s0^2 at which -ELBO is proportional to R + KL (summed squared error): 1/2
    s0_squared_for_plain_squared_error: sp.Expr
    #: the same for the per-pixel MEAN squared error R/D (MSELoss(reduction='mean')): D/2
    s0_squared_for_plain_mean_squared_error: sp.Expr
    beta_identity_covariance: sp.Expr                  #: beta at s0^2 = 1
    squared_error_weight_identity_covariance: sp.Expr  #: 1/2: identity is 1/2 SE + KL
    identity_covariance_is_plain_squared_error: bool


def derive_fixed_variance_beta() -> Derivation[FixedVarianceBetaFacts, FixedVarianceBetaResults]:
    """A fixed decoder variance s0^2 is squared error plus constants: beta = 2 s0^2.

    Checked on concrete D = 3 coordinates, then for symbolic D; one point, natural log.

    Results and facts: :class:`FixedVarianceBetaResults`, :class:`FixedVarianceBetaFacts`.
    """
    s0 = sp.Symbol("s_0", positive=True)
    D = _D
    R = sp.Symbol("R", nonnegative=True)
    KL = sp.Symbol("KL", nonnegative=True)
    step = StepLog()
    xs = sp.symbols("x1:4", real=True)
    mus = sp.symbols("mu1:4", real=True)
    pairs = list(zip(xs, mus, strict=True))
    neg_log = -sp.Add(*(normal_log_density(xj, mj, s0**2) for xj, mj in pairs))
    se3 = sp.Add(*((xj - mj) ** 2 for xj, mj in pairs))
    form3 = se3 / (2 * s0**2) + sp.Rational(3, 2) * sp.log(2 * sp.pi * s0**2)
    concrete_diff = sp.simplify(sp.expand_log(neg_log - form3, force=True))
    step("Concrete check with D = 3 pixels: −log N(x | μ, s₀² I) minus "
         "‖x − μ‖²/(2 s₀²) + (3/2) log(2π s₀²):",
         sp.Eq(sp.Symbol("difference"), concrete_diff))
    per_pixel = -normal_log_density(_X, _MU, s0**2)
    step("For general D, each pixel contributes (x_j − μ_j)²/(2 s₀²) + log(2π s₀²)/2; "
         "the expectation over q passes through the sum, so with "
         "R = E_q‖x − μ(z)‖² (summed over pixels):",
         sp.Eq(sp.Symbol("-log N(x_j | mu_j, s0^2)"), per_pixel))
    const_sum = sp.Sum(per_pixel.subs(_X, _MU), (_J, 1, D)).doit()
    neg_elbo = R / (2 * s0**2) + const_sum + KL
    step("Negative ELBO:", sp.Eq(sp.Symbol("-ELBO"), neg_elbo))
    scaled = sp.expand(2 * s0**2 * neg_elbo)
    coeff_r = scaled.coeff(R)
    coeff_kl = scaled.coeff(KL)
    beta = sp.simplify(coeff_kl / coeff_r)
    beta_diff = sp.simplify(beta - 2 * s0**2)
    constant = sp.expand(scaled - coeff_r * R - coeff_kl * KL)
    constant_diff = sp.simplify(
        sp.expand_log(constant - D * s0**2 * sp.log(2 * sp.pi * s0**2), force=True))
    step("Times 2 s₀²:", sp.Eq(sp.Symbol("-2 s0^2 ELBO"), scaled))
    step("β = (coefficient of KL)/(coefficient of R):", sp.Eq(sp.Symbol("beta"), beta))
    step("β − 2 s₀²:", sp.Eq(sp.Symbol("beta - 2 s0^2"), beta_diff))
    step("The rest depends only on the fixed s₀ and D (same minimisers):",
         sp.Eq(sp.Symbol("constant"), constant))
    step("that is D s₀² log(2π s₀²) (difference):",
         sp.Eq(sp.Symbol("constant - D s0^2 log(2 pi s0^2)"), constant_diff))
    s2 = sp.Symbol("s_0^2", positive=True)
    weight = sp.simplify((neg_elbo.coeff(R) / neg_elbo.coeff(KL)).subs(s0, sp.sqrt(s2)))
    step("With the KL at weight 1, the squared error's weight is",
         sp.Eq(sp.Symbol("w_SE"), weight))
    plain = sp.solve(sp.Eq(weight, 1), s2)
    plain_mean = sp.solve(sp.Eq(weight * D, 1), s2)  # R = D * (mean squared error)
    step("Plain 'summed squared error + KL' (w_SE = 1) needs", sp.Eq(s2, plain[0]))
    step("Plain 'per-pixel mean squared error + KL' (R = D·MSE) needs",
         sp.Eq(s2, plain_mean[0]))
    beta_id = beta.subs(s0, 1)
    weight_id = weight.subs(s2, 1)
    step("Identity covariance (s₀² = 1): β and the squared-error weight are",
         sp.Tuple(beta_id, weight_id))
    results = FixedVarianceBetaResults(
        neg_elbo=neg_elbo, scaled=scaled, constant=constant, squared_error_weight=weight,
        concrete_difference=concrete_diff)
    facts = FixedVarianceBetaFacts(
        concrete_D_matches=bool(concrete_diff == 0),
        beta=beta,
        beta_equals_two_s0_squared=bool(beta_diff == 0),
        constant_free_of_model=not constant.has(R) and not constant.has(KL),
        constant_matches=bool(constant_diff == 0),
        s0_squared_for_plain_squared_error=plain[0],
        s0_squared_for_plain_mean_squared_error=plain_mean[0],
        beta_identity_covariance=beta_id,
        squared_error_weight_identity_covariance=weight_id,
        identity_covariance_is_plain_squared_error=bool(sp.simplify(weight_id - 1) == 0),
    )
    return Derivation(
        name="fixed-variance-beta",
        title="A fixed decoder variance is squared error plus constants: β = 2 s₀²",
        sources=(KINGMA_WELLING_DECODER, HIGGINS, theory("section 3.7")),
        steps=tuple(step.steps), results=results, facts=facts)
