"""Construction 6: a Student-t decoder with a learned scale, on the cells of construction 2.

Decoder ``p(x | z) = prod_pixels t_nu(x_p; mu_p(z), sigma)``, nu fixed, with the squared
scale ``sigma^2 = epsilon`` shared by all pixels and points and the mean equal to x_j on
cell j (Takahashi, Iwata, Yamanaka, Yamada & Yagi, "Student-t variational autoencoder for
robust density estimation", IJCAI 2018, use this decoder family to make learning robust).
Log-density (natural log, sigma a scale, not a variance):

    log t_nu(x; mu, sigma) = lgamma((nu+1)/2) - lgamma(nu/2) - log(nu pi)/2 - log sigma
                             - (nu+1)/2 log(1 + (x - mu)^2 / (nu sigma^2)).

At ``x = mu`` the density is proportional to ``1/sigma``, so nothing stops
``sigma -> 0`` on a memorised point; a wrong cell costs only ``O(log(1/epsilon))``
(heavy tails), which the exact normal-CDF masses make vanish.  The rate of this sequence
is a *lower bound* on the growth of the supremum: since a wrong cell costs only
O(log(1/epsilon)), encoders that leak o(1/log(1/epsilon)) suffice, at a KL price of
(1/2) log log log(1/epsilon) instead of the cells' (1/2) log log(1/epsilon).  Whether the objective is
bounded is decided by :meth:`StudentTElbo.bounded` from the sympy limit and from the
(absent) cap: ``sup_sigma`` of the density at its mode is computed, not assumed.
"""

from __future__ import annotations

from typing import Any

import mpmath
import sympy as sp

from vaeproofs.constructions.base import FloatLimit, U
from vaeproofs.constructions.cells import CellElbo
from vaeproofs.constructions.exact_likelihood import DEFAULT_POINTS
from vaeproofs.constructions.precision import log_max
from vaeproofs.validation import check_positive

__all__ = ["StudentTElbo", "student_t_log_density"]


def student_t_log_density(delta: sp.Expr, scale2: sp.Expr, nu: sp.Expr) -> sp.Expr:
    """``log t_nu(mu + delta; mu, sqrt(scale2))`` for one pixel (scale2 = squared scale)."""
    return (sp.loggamma((nu + 1) / 2) - sp.loggamma(nu / 2) - sp.log(nu * sp.pi) / 2
            - sp.log(scale2) / 2 - (nu + 1) / 2 * sp.log(1 + delta**2 / (nu * scale2)))


class StudentTElbo(CellElbo):
    """Construction 6 (see module docstring).  ``nu > 0`` degrees of freedom, fixed."""

    name = "student_t_elbo"
    rate_note = ("this sequence's rate, a lower bound on the supremum's growth: a wrong cell costs "
                 "only O(log(1/epsilon)), so the encoders' KL price can be (1/2) log log log(1/epsilon)")
    title = "Student-t decoder with learned scale on the same cells"
    sources = (
        "Takahashi, Iwata, Yamanaka, Yamada & Yagi, Student-t variational autoencoder for "
        "robust density estimation, IJCAI 2018 (the decoder family)",
        "Kingma & Welling, arXiv 1312.6114, appendix B (Gaussian KL)",
    )

    def __init__(self, points: Any = DEFAULT_POINTS, *, nu: Any = 3, half_width: Any = 1
                 ) -> None:
        super().__init__(points, half_width=half_width)
        self.nu = sp.nsimplify(check_positive("nu", nu), rational=True)

    def _decoder_parameters(self, eps: mpmath.mpf) -> dict[str, Any]:
        return {"squared_scale": eps, "nu": mpmath.mpf(sp.N(self.nu, 30))}

    def ell(self, i: int, j: int) -> sp.Expr:
        """``sum_pixels log t_nu(x_i | x_j, sqrt(epsilon))`` with ``epsilon = exp(-u)``."""
        return sum((student_t_log_density(a - b, sp.exp(-U), self.nu)
                    for a, b in zip(self.points[i], self.points[j], strict=True)),
                   sp.Integer(0))

    def symbolic_cap(self) -> sp.Expr | None:
        """The sup over the scale of the density at its mode, if finite (it is not).

        ``log t_nu(mu; mu, sigma) = const - log sigma``; sympy's limit at sigma -> 0+ decides
        whether a cap exists (a finite limit would cap every pixel).
        """
        sigma2 = sp.Symbol("sigma2", positive=True)
        sup = sp.limit(student_t_log_density(0, sigma2, self.nu), sigma2, 0, "+")
        return None if not sup.is_finite else self.n * self.dim * sup

    def float_limit(self, dtype: str = "float64") -> FloatLimit:
        """``(x - mu)^2 exp(-log sigma^2)`` overflows once sigma^2 < 1/finfo.max."""
        return FloatLimit(mpmath.exp(-log_max(dtype)),
                          f"the inverse squared scale 1/eps overflows {dtype}")

    def _torch_likelihood(self, t: mpmath.mpf) -> dict[str, Any]:
        return {"kind": "student_t", "log_scale2": float(mpmath.log(t)),
                "nu": float(sp.N(self.nu))}
