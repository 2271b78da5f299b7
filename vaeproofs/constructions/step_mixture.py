"""Step-decoder mixtures: exact marginal likelihoods of decoders constant on latent cells.

A decoder that is constant on K cells of the latent space (prior masses w_j; output o_j and
likelihood parameters theta_j(epsilon) on cell j) has the K-component mixture
p(x) = sum_j w_j f(x | o_j, theta_j) as its exact marginal likelihood: the VAE's continuous
mixture with the latent variable supplying the components (the question's Gaussian-mixture
analogy; McLachlan & Peel 2000, section 3.8).  A subclass gives the components' per-pixel
log-densities ``component(i, j)`` as sympy expressions in ``u = log(1/epsilon)`` and the
component that dominates point i (``own(i)``); the objective is written as

    sum_i [ log w_own + component(i, own) + log(1 + sum_{j != own} (w_j/w_own) e^(c_ij - c_i,own)) ]

so that :func:`~vaeproofs.constructions.base.asymptotic_split` separates the divergent part
from terms with finite limits.  Conventions: natural log; totals over the n points.
"""

from __future__ import annotations

import functools
from typing import Any

import mpmath
import sympy as sp

from vaeproofs.constructions.base import Construction, U

__all__ = ["StepMixture", "W"]

#: ``w = exp(-u/2) = sqrt(epsilon)``: bounded constructions write their components in w.
W = sp.Symbol("w", positive=True)


class StepMixture(Construction):
    """The exact log-likelihood of a step decoder (abstract; see the module docstring).

    Args:
        points: the data (n >= 2 distinct points of dimension D), exact binary floats.
    """

    parameter = "epsilon"
    objective_kind = "log-likelihood (exact marginal of a step decoder), total over the n points"
    #: True when every component is a function of ``W`` alone, analytic at w = 0 with a
    #: finite value there: the limit epsilon -> 0 is then the value at w = 0 (no sympy
    #: limit needed).
    continuous_at_limit = False

    def __init__(self, points: Any) -> None:
        from vaeproofs.validation import as_distinct_points

        arr = as_distinct_points("points", points, min_points=2)
        self.array = arr
        self.points = [[sp.nsimplify(float(v), rational=True) for v in row] for row in arr]
        self.n, self.dim = arr.shape

    # ------------------------------------------------------------ subclass hooks ---
    def outputs(self) -> list[list[sp.Expr]]:
        """The decoder output on each cell (default: the data points, memorised)."""
        return self.points

    def weights(self) -> list[sp.Expr]:
        """Prior masses of the cells (default: 1/K each, cells at normal quantiles)."""
        k = len(self.outputs())
        return [sp.Rational(1, k)] * k

    def own(self, i: int) -> int:
        """The component that dominates point i as epsilon -> 0 (default: i)."""
        return i

    def component(self, i: int, j: int) -> sp.Expr:
        """``log f(x_i | o_j, theta_j)`` summed over pixels, in ``U`` or ``W``."""
        raise NotImplementedError

    def torch_likelihoods(self, t: mpmath.mpf) -> list[dict[str, Any]]:
        """The per-cell likelihood parameters for the float evaluation (see networks)."""
        raise NotImplementedError

    # ------------------------------------------------------------------ objective ---
    def parameters(self, t: Any) -> dict[str, Any]:
        """Cell masses, outputs and epsilon."""
        eps = self.check_parameter(t)
        return {"epsilon": eps,
                "weights": [mpmath.mpf(sp.N(w, 30)) for w in self.weights()],
                "outputs": [[mpmath.mpf(sp.N(v, 30)) for v in r] for r in self.outputs()]}

    def _symbolic_objective_u(self) -> sp.Expr:
        return self._objective_expr().subs(W, sp.exp(-U / 2))

    def _asymptote_parts_u(self) -> tuple[sp.Expr, sp.Expr]:
        """For a continuous construction, ``(0, value at w = 0)``; else the generic split."""
        if not self.continuous_at_limit:
            return super()._asymptote_parts_u()
        expr = self._objective_expr()
        if expr.has(U):
            raise ValueError(f"{self.name}: continuous_at_limit needs components in w only")
        return sp.Integer(0), expr.subs(W, 0)

    def _objective_expr(self) -> sp.Expr:
        w = self.weights()
        total = sp.Integer(0)
        for i in range(self.n):
            o = self.own(i)
            own = self.component(i, o)
            rest = sum((w[j] / w[o] * sp.exp(self.component(i, j) - own)
                        for j in range(len(w)) if j != o), sp.Integer(0))
            total += sp.log(w[o]) + own + sp.log(1 + rest)
        return total

    @functools.cached_property
    def _mp_objective(self) -> Any:
        return sp.lambdify(U, self._symbolic_objective_u(), modules="mpmath")

    def _objective(self, u: mpmath.mpf) -> mpmath.mpf:
        return mpmath.mpf(self._mp_objective(u))

    def _torch_objective(self, t: mpmath.mpf, dtype: str) -> float:
        from vaeproofs.constructions import networks

        outs = [[float(v) for v in r] for r in self.outputs()]
        log_w = [float(sp.log(w)) for w in self.weights()]
        return networks.step_mixture_log_likelihood(self.array, outs, log_w,
                                                    self.torch_likelihoods(t), dtype=dtype)
