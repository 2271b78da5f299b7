"""Static against fresh dequantisation noise, on the same cells and decoder.

Integer-grid data: n = 2 points on the grid Delta Z^D (Delta = 1/16, D = 2, exact in
binary).  Both constructions use the cells of :mod:`vaeproofs.constructions.cells` and a
Gaussian decoder with variance epsilon shared by all pixels:

- :class:`StaticDequantisedElbo`: the noise u_i in [0, Delta)^D is drawn once and kept, so
  the data are the fixed points x_i + u_i; the decoder memorises them and the ELBO diverges
  like (n D / 2) log(1/epsilon) (construction ``memorising_elbo`` on these points).
- :class:`FreshDequantisedElbo`: the noise is drawn afresh, so the objective is the
  expectation over u; the decoder outputs the cell centre c_j = x_j + Delta/2 on cell j, and
  E_u ||x_i + u - c_j||^2 = ||x_i - x_j||^2 + D Delta^2 / 12.  The expected ELBO tends to
  -infinity and stays under n (D log(1/Delta) - log n) (Theis, van den Oord & Bethge, ICLR
  2016, section 3.1; :mod:`vaeproofs.symbolic.dequantisation`).
"""

from __future__ import annotations

from typing import Any

import mpmath
import sympy as sp

from vaeproofs.constructions.base import FloatLimit, U
from vaeproofs.constructions.cells import CellElbo
from vaeproofs.constructions.memorising_elbo import MemorisingElbo
from vaeproofs.constructions.precision import log_max

__all__ = ["GRID_POINTS", "GRID_SPACING", "STATIC_OFFSETS", "FreshDequantisedElbo",
           "StaticDequantisedElbo"]

#: The grid spacing Delta (exact in binary floating point).
GRID_SPACING = 1 / 16
#: Two distinct grid points (multiples of Delta).
GRID_POINTS = ((3 / 16, 7 / 16), (5 / 16, 7 / 16))
#: The noise drawn once, as fractions of Delta (exact in binary).
STATIC_OFFSETS = ((0.25, 0.75), (0.5, 0.125))


def _static_points() -> tuple[tuple[float, ...], ...]:
    return tuple(tuple(x + o * GRID_SPACING for x, o in zip(p, off, strict=True))
                 for p, off in zip(GRID_POINTS, STATIC_OFFSETS, strict=True))


class StaticDequantisedElbo(MemorisingElbo):
    """Noise drawn once: the memorising ELBO on the fixed dequantised points (diverges)."""

    name = "static_dequantisation_elbo"
    title = "Dequantisation noise drawn once: the ELBO on the fixed points diverges"
    sources = ("Theis, van den Oord & Bethge, A note on the evaluation of generative models, "
               "ICLR 2016, section 3.1", *MemorisingElbo.sources)

    def __init__(self) -> None:
        super().__init__(_static_points())

    def _asymptote_parts_u(self) -> tuple[sp.Expr, sp.Expr]:
        return self.own_cell_asymptote_parts()


class FreshDequantisedElbo(CellElbo):
    """Noise drawn afresh: the expected ELBO of the same cells (capped)."""

    name = "fresh_dequantisation_elbo"
    title = "Fresh dequantisation noise: the expected ELBO stays under D log(1/Delta) - log n"
    sources = StaticDequantisedElbo.sources

    def __init__(self) -> None:
        super().__init__(GRID_POINTS)
        self.delta = sp.nsimplify(GRID_SPACING, rational=True)

    def ell(self, i: int, j: int) -> sp.Expr:
        """``E_u log N(x_i + u | x_j + Delta/2, epsilon I)``: the noise adds D Delta^2/12."""
        d2 = sum(((a - b) ** 2 for a, b in zip(self.points[i], self.points[j], strict=True)),
                 sp.Integer(0)) + self.dim * self.delta**2 / 12
        return -sp.Rational(self.dim, 2) * (sp.log(2 * sp.pi) - U) - d2 * sp.exp(U) / 2

    def _asymptote_parts_u(self) -> tuple[sp.Expr, sp.Expr]:
        return self.own_cell_asymptote_parts()

    def symbolic_cap(self) -> sp.Expr:
        """``n (D log(1/Delta) - log n)``: Gibbs against the uniform-cell population."""
        from vaeproofs.symbolic.dequantisation import dequantisation_bound

        return self.n * dequantisation_bound(self.n, self.dim, self.delta)

    def float_limit(self, dtype: str = "float64") -> FloatLimit:
        """The precision 1/epsilon overflows ``dtype``."""
        return FloatLimit(mpmath.exp(-log_max(dtype)), f"the precision 1/eps overflows {dtype}")

    def _torch_objective(self, t: mpmath.mpf, dtype: str) -> float:
        """The network's ELBO on the points (decoder outputs x_j) minus n D Delta^2/(24 eps):
        the noise term, the same on every cell."""
        base = super()._torch_objective(t, dtype)
        return base - self.n * self.dim * float(self.delta) ** 2 / (24 * float(t))

    def _torch_likelihood(self, t: mpmath.mpf) -> dict[str, Any]:
        return {"kind": "gaussian", "log_var": float(mpmath.log(t))}
