"""The Gaussian-mixture analogy, computed: a two-component mixture's likelihood diverges.

Data: n = 3 points on the line, x = (0, 1, 3).  Component 1 sits on x_1 = 0 with variance
epsilon; component 2 is the single-Gaussian maximum-likelihood fit (mean xbar = 4/3,
variance S/n = 14/9); weights 1/2 each, i.e. a step decoder on z < 0 and z >= 0 under the
N(0, 1) prior (:mod:`vaeproofs.symbolic.mixture`).  The exact log-likelihood tends to
+infinity like (1/2) log(1/epsilon) (McLachlan & Peel 2000, section 3.8; Bishop, PRML
section 9.2.1), while one Gaussian on the same points is capped by its maximum
-(n/2)(log(2 pi S/n) + 1) (reported in :meth:`GmmLikelihood.diagnostics`).
"""

from __future__ import annotations

from typing import Any

import mpmath
import sympy as sp

from vaeproofs.constructions.base import FloatLimit, U
from vaeproofs.constructions.precision import log_max
from vaeproofs.constructions.step_mixture import StepMixture

__all__ = ["GmmLikelihood"]


class GmmLikelihood(StepMixture):
    """Two-component Gaussian mixture, one component collapsing onto x_1."""

    name = "gmm_likelihood"
    title = "Two-component Gaussian mixture: one variance -> 0 on a data point"
    sources = ("McLachlan & Peel, Finite Mixture Models (2000), section 3.8",
               "Bishop, Pattern Recognition and Machine Learning (2006), section 9.2.1")

    def __init__(self, points: Any = ((0.0,), (1.0,), (3.0,))) -> None:
        super().__init__(points)
        if self.dim != 1:
            from vaeproofs.errors import InvalidArgumentError

            raise InvalidArgumentError("points", f"must be one-dimensional, got D = {self.dim}")
        xs = [r[0] for r in self.points]
        self.mean = sum(xs, sp.Integer(0)) / self.n
        self.spread = sum(((x - self.mean) ** 2 for x in xs), sp.Integer(0))

    def outputs(self) -> list[list[sp.Expr]]:
        return [self.points[0], [self.mean]]

    def own(self, i: int) -> int:
        return 0 if i == 0 else 1

    def component(self, i: int, j: int) -> sp.Expr:
        """``log N(x_i | o_j, v_j)`` with v_0 = epsilon = e^-u and v_1 = S/n."""
        d2 = (self.points[i][0] - self.outputs()[j][0]) ** 2
        if j == 0:
            return -(sp.log(2 * sp.pi) - U) / 2 - d2 * sp.exp(U) / 2
        v = self.spread / self.n
        return -sp.log(2 * sp.pi * v) / 2 - d2 / (2 * v)

    def single_gaussian_max(self) -> sp.Expr:
        """The maximum log-likelihood of one Gaussian on the same points (finite)."""
        from vaeproofs.symbolic.mixture import single_gaussian_max

        return single_gaussian_max(self.n, self.spread)

    def diagnostics(self, values: list[mpmath.mpf]) -> dict[str, Any]:
        """The single Gaussian's maximum, for comparison with the diverging mixture."""
        return {"single_gaussian_max": mpmath.nstr(mpmath.mpf(sp.N(self.single_gaussian_max(), 30)),
                                                   15)}

    def float_limit(self, dtype: str = "float64") -> FloatLimit:
        """The precision 1/epsilon of component 1 overflows ``dtype``."""
        return FloatLimit(mpmath.exp(-log_max(dtype)), f"the precision 1/eps overflows {dtype}")

    def torch_likelihoods(self, t: mpmath.mpf) -> list[dict[str, Any]]:
        return [{"kind": "gaussian", "log_var": float(mpmath.log(t))},
                {"kind": "gaussian", "log_var": float(sp.log(self.spread / self.n))}]
