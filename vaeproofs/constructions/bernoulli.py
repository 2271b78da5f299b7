"""Bounded counterpart: the cell construction with Bernoulli outputs stays below 0.

Binary data x_i in {0, 1}^D; the same cells and posteriors as construction 2
(:mod:`vaeproofs.constructions.memorising_elbo`), decoder probabilities
``pi = 1 - epsilon`` where point j's pixel is 1 and ``epsilon`` where it is 0 on cell j
(logits ``+-log((1 - epsilon)/epsilon)`` in the network).  Then

    log p(x_i | cell j) = -H_ij log(1/epsilon) + (D - H_ij) log(1 - epsilon),

H_ij the Hamming distance.  Every Bernoulli log-probability is <= 0 and the KL is >= 0, so
the ELBO (and the log-likelihood) is <= 0 for every parameter (Mattei & Frellsen,
NeurIPS 2018, arXiv 1802.04826, section 2.1: discrete outputs are well-posed).  Along this
sequence the reconstruction tends to its cap 0 while the KL grows like
``(1/2) log log(1/epsilon)``, so the ELBO tends to -infinity: the supremum along the
sequence is attained at a finite epsilon, and the cap 0 is not attained (it would need
zero KL and exact reconstruction of distinct points at once).
"""

from __future__ import annotations

from typing import Any

import mpmath
import sympy as sp

from vaeproofs.constructions.base import FloatLimit, U
from vaeproofs.constructions.cells import CellElbo
from vaeproofs.errors import InvalidArgumentError

__all__ = ["DEFAULT_BINARY_POINTS", "BernoulliElbo"]

#: Three distinct binary points in {0, 1}^4.
DEFAULT_BINARY_POINTS = ((1, 0, 1, 1), (0, 1, 1, 0), (0, 0, 0, 1))


class BernoulliElbo(CellElbo):
    """Bernoulli decoder on the cells of construction 2; capped by 0."""

    name = "bernoulli_elbo"
    title = "Bernoulli outputs on the same cells: the ELBO stays below 0"
    sources = (
        "Mattei & Frellsen, NeurIPS 2018, arXiv 1802.04826, section 2.1 (discrete outputs: "
        "log p(x) <= 0)",
        "Kingma & Welling, arXiv 1312.6114, appendix B (Gaussian KL)",
    )

    def __init__(self, points: Any = DEFAULT_BINARY_POINTS, *, half_width: Any = 1) -> None:
        super().__init__(points, half_width=half_width)
        if not all(v in (0, 1) for row in self.points for v in row):
            raise InvalidArgumentError("points", "must be binary (0 or 1)")

    def hamming(self, i: int, j: int) -> int:
        return sum(int(a != b) for a, b in zip(self.points[i], self.points[j], strict=True))

    def _decoder_parameters(self, eps: mpmath.mpf) -> dict[str, Any]:
        return {"logit_magnitude": mpmath.log((1 - eps) / eps)}

    def ell(self, i: int, j: int) -> sp.Expr:
        """``sum_pixels log Bern(x_i | pi_j)`` with ``epsilon = exp(-u)``."""
        hd = self.hamming(i, j)
        return -hd * U + (self.dim - hd) * sp.log(1 - sp.exp(-U))

    def symbolic_cap(self) -> sp.Expr:
        """0: ``sup over pi in [0,1]`` of ``x log pi + (1-x) log(1-pi)`` is 0 for x in {0,1}.

        Computed with sympy as the limit at pi -> x of the Bernoulli log-probability,
        which is increasing in pi for x = 1 (derivative 1/pi > 0) and symmetric for x = 0;
        the KL term only lowers the ELBO.
        """
        p = sp.Symbol("pi", positive=True)
        at1 = sp.limit(sp.log(p), p, 1, "-")
        at0 = sp.limit(sp.log(1 - p), p, 0, "+")
        return self.n * sp.Max(at0, at1)

    def float_limit(self, dtype: str = "float64") -> FloatLimit:
        """None: the logits ``+-log((1-eps)/eps)`` are computed from log(1/eps) directly."""
        return FloatLimit(0, "none: logits are O(log 1/eps); masses that underflow carry "
                             "terms below the rounding of the result")

    def _torch_likelihood(self, t: mpmath.mpf) -> dict[str, Any]:
        u = -mpmath.log(t)
        return {"kind": "bernoulli", "logit": float(u + mpmath.log1p(-t))}
