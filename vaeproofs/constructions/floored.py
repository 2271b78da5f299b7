"""Bounded counterparts under a variance floor xi > 0 (decoder variance ``xi + v``).

- :class:`FlooredExactLikelihood`: construction 1 (Mattei & Frellsen's half-space collapse)
  with variance ``xi + exp(alpha tanh(alpha z) - alpha)``.  The log-likelihood converges
  (sympy limit) and stays below the cap ``-(n D / 2) log(2 pi xi)`` (Mattei & Frellsen,
  NeurIPS 2018, arXiv 1802.04826, section 2.1).
- :class:`FlooredElbo`: construction 2 with decoder variance ``xi + epsilon``.  The
  reconstruction is capped by ``-(D/2) log(2 pi xi)`` per point while the KL still grows,
  so the ELBO tends to -infinity; the same cap holds.

Is the supremum attained?  Not along these sequences at the cap: the cap needs every
point's density to peak at its own value for (almost) every z, impossible for n >= 2
distinct points with a mean that is a function of z; the computed limit of the floored
log-likelihood is strictly below the cap (:meth:`FlooredExactLikelihood.cap_gap`).
"""

from __future__ import annotations

from typing import Any

import mpmath
import sympy as sp

from vaeproofs.constructions.base import FloatLimit, U
from vaeproofs.constructions.exact_likelihood import DEFAULT_POINTS, ExactLikelihood
from vaeproofs.constructions.memorising_elbo import MemorisingElbo

__all__ = ["DEFAULT_FLOOR", "FlooredElbo", "FlooredExactLikelihood"]

#: The default floor xi (variance units).
DEFAULT_FLOOR = sp.Rational(1, 100)


class FlooredExactLikelihood(ExactLikelihood):
    """Construction 1 with a variance floor xi > 0 (bounded)."""

    name = "floored_exact_likelihood"
    title = "Exact log-likelihood under a variance floor xi (Mattei & Frellsen cap)"

    def __init__(self, points: Any = DEFAULT_POINTS, *, floor: Any = DEFAULT_FLOOR) -> None:
        from vaeproofs.validation import check_positive

        check_positive("floor", floor)
        super().__init__(points, floor=floor)

    def cap_gap(self) -> sp.Expr:
        """``cap - limit`` of the log-likelihood along the sequence (> 0: cap not attained)."""
        return sp.simplify(self.symbolic_cap() - self.limit())


class FlooredElbo(MemorisingElbo):
    """Construction 2 with decoder variance ``xi + epsilon`` (bounded)."""

    name = "floored_elbo"
    title = "ELBO of the cell construction under a variance floor xi"

    def __init__(self, points: Any = DEFAULT_POINTS, *, floor: Any = DEFAULT_FLOOR,
                 half_width: Any = 1) -> None:
        from vaeproofs.validation import check_positive

        check_positive("floor", floor)
        super().__init__(points, half_width=half_width)
        self.floor = sp.nsimplify(floor, rational=True)

    def ell(self, i: int, j: int) -> sp.Expr:
        """``log N(x_i | x_j, (xi + epsilon) I_D)``."""
        var = self.floor + sp.exp(-U)
        return (-sp.Rational(self.dim, 2) * sp.log(2 * sp.pi * var)
                - self.sq_dist(i, j) / (2 * var))

    def remainder_bound(self, t: Any) -> None:
        return None

    def symbolic_cap(self) -> sp.Expr | None:
        """``-(n D / 2) log(2 pi xi)``: the Gaussian density cap under eigenvalues >= xi.

        ``-(D/2) log(2 pi v)`` is decreasing in v (sympy derivative), so its maximum over
        ``v >= xi`` is at xi; the KL only lowers the ELBO.
        """
        from vaeproofs.symbolic.floor_cap import floor_cap_total

        return floor_cap_total(self.n, self.dim, self.floor)

    def float_limit(self, dtype: str = "float64") -> FloatLimit:
        """None: the variance stays >= xi, every term stays in range."""
        return FloatLimit(0, "none: the variance stays >= xi")

    def _torch_likelihood(self, t: mpmath.mpf) -> dict[str, Any]:
        return {"kind": "gaussian", "log_var": float(mpmath.log(t)),
                "floor": float(self.floor)}
