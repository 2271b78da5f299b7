"""The beta-weighted population objective along a collapsing encoder and decoder variance.

Population p = N(0, 1) (a density, finite entropy; D = k = 1), encoder q(z|x) = N(x, epsilon),
decoder N(z, epsilon) (identity means, one learned variance, at its best value epsilon;
:mod:`vaeproofs.symbolic.population_beta`).  The objective, in expectation over p,

    J_beta(epsilon) = -(1/2) log(2 pi epsilon) - 1/2 - beta (epsilon - log epsilon)/2,

grows like (1 - beta)/2 log(1/epsilon):

- :class:`PopulationBetaHalf` (beta = 1/2, a KL weight during annealing or a beta-VAE with
  beta < 1): unbounded although the data have a density;
- :class:`PopulationBetaOne` (beta = 1, the ELBO): tends to -h(p) = -(1/2) log(2 pi e), the
  Gibbs cap (Cover & Thomas, theorem 2.6.3), approached and never attained.

Conventions: natural log; epsilon a variance; the objective is one data point's expectation
under p.  The torch side (:mod:`vaeproofs.constructions.encoder_networks`) computes it from
an identity encoder and decoder with set weights, by Gauss-Hermite quadrature over p and q.
"""

from __future__ import annotations

from typing import Any

import mpmath
import sympy as sp

from vaeproofs.constructions.base import Construction, FloatLimit, U
from vaeproofs.constructions.precision import unit_roundoff

__all__ = ["PopulationBetaHalf", "PopulationBetaObjective", "PopulationBetaOne"]

#: The largest |x| among the population's Gauss-Hermite nodes (40 nodes, scaled by sqrt 2).
X_MAX = 11.5


class PopulationBetaObjective(Construction):
    """J_beta along epsilon -> 0 (see the module docstring); ``beta`` >= 0 is the KL weight."""

    parameter = "epsilon"
    objective_kind = "beta-weighted population objective per point (expectation over p = N(0, 1))"
    sources = (
        "Higgins et al., beta-VAE, ICLR 2017, section 2 (the beta-weighted objective)",
        "Bowman et al., Generating sentences from a continuous space, CoNLL 2016, section 3.1 "
        "(KL cost annealing)",
        "Cover & Thomas, Elements of Information Theory, 2006, theorem 2.6.3 (Gibbs)",
    )
    beta: sp.Rational = sp.Rational(1, 2)

    def parameters(self, t: Any) -> dict[str, Any]:
        """Encoder and decoder variance epsilon, identity weights, the KL weight beta."""
        eps = self.check_parameter(t)
        return {"encoder_weight": 1, "encoder_variance": eps, "decoder_weight": 1,
                "decoder_variance": eps, "beta": mpmath.mpf(sp.N(self.beta, 30))}

    def _symbolic_objective_u(self) -> sp.Expr:
        from vaeproofs.symbolic.population_beta import beta_objective

        eps = sp.exp(-U)
        return sp.expand(sp.expand_log(beta_objective(1, self.beta, eps, eps), force=True))

    def _objective(self, u: mpmath.mpf) -> mpmath.mpf:
        beta = mpmath.mpf(sp.N(self.beta, mpmath.mp.dps + 5))
        eps = mpmath.exp(-u)
        return -(mpmath.log(2 * mpmath.pi) - u) / 2 - mpmath.mpf(1) / 2 - beta * (eps + u) / 2

    def remainder_bound(self, t: Any) -> mpmath.mpf:
        """``beta epsilon / 2``: the only term that vanishes (the KL's epsilon/2)."""
        return mpmath.mpf(sp.N(self.beta, 30)) * self.check_parameter(t) / 2

    def symbolic_cap(self) -> sp.Expr | None:
        """For beta >= 1: -h(N(0, 1)) = -(1/2) log(2 pi e) (Gibbs, then -beta KL <= -KL)."""
        if self.beta < 1:
            return None
        return -sp.log(2 * sp.pi * sp.E) / 2

    def float_limit(self, dtype: str = "float64") -> FloatLimit:
        """Mean resolution: the residual x - mu(z) ~ sqrt(epsilon) carries a rounding error
        ~u |x| (z = x + sqrt(epsilon) t is rounded), relative error ~1 at epsilon = (u X_MAX)^2."""
        limit = (unit_roundoff(dtype) * mpmath.mpf(X_MAX)) ** 2
        return FloatLimit(limit, f"mean resolution: x - mu(z) ~ sqrt(eps) is below the {dtype} "
                                 f"rounding of z = x + sqrt(eps) t (relative error ~1)")

    def _torch_objective(self, t: mpmath.mpf, dtype: str) -> float:
        from vaeproofs.constructions import encoder_networks

        net = encoder_networks.IdentityGaussianVae(log_var=float(mpmath.log(t)), dtype=dtype)
        return encoder_networks.population_beta_objective(net, beta=float(sp.N(self.beta)),
                                                          dtype=dtype)


class PopulationBetaHalf(PopulationBetaObjective):
    """beta = 1/2: unbounded on a density (rate log(1/epsilon)/4)."""

    name = "population_beta_half"
    title = "Population p = N(0, 1), KL weight beta = 1/2: unbounded although p has a density"
    beta = sp.Rational(1, 2)


class PopulationBetaOne(PopulationBetaObjective):
    """beta = 1 (the ELBO): tends to -h(p), under the Gibbs cap."""

    name = "population_beta_one"
    title = "Population p = N(0, 1), beta = 1 (the ELBO): tends to -h(p), the Gibbs cap"
    beta = sp.Integer(1)
