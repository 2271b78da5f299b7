"""Bounded remedies on memorised points: the soft clip and the floored Student-t.

Both use a step decoder that memorises the n points (cell j of prior mass 1/n outputs x_j,
:mod:`vaeproofs.constructions.step_mixture`) and let the raw scale output go to 0 with
epsilon:

- :class:`SoftclipLikelihood`: Gaussian decoder with the sigma-VAE soft clip (Rybkin,
  Daniilidis & Levine 2021, reference code): raw log sigma = log(epsilon)/2, clipped to
  -6 + softplus(log sigma + 6).  The log-likelihood converges, under the cap
  n D (6 - log(2 pi)/2).
- :class:`FlooredStudentTLikelihood`: Student-t decoder (nu = 3) with squared scale
  s_min^2 + epsilon, s_min = 1/10.  It converges, under the cap n D (log c(nu) - log s_min)
  (Takahashi et al., IJCAI 2018, for the family; the cap from
  :mod:`vaeproofs.symbolic.student_t_floored`).

Each component's density is capped per pixel; the mixture p(x_i) = sum_j w_j f_ij is at
most the largest f_ij, so the total is capped by n D times the per-pixel cap.
"""

from __future__ import annotations

from typing import Any

import mpmath
import sympy as sp

from vaeproofs.constructions.base import FloatLimit
from vaeproofs.constructions.exact_likelihood import DEFAULT_POINTS
from vaeproofs.constructions.step_mixture import StepMixture, W
from vaeproofs.constructions.student_t import student_t_log_density
from vaeproofs.validation import check_positive

__all__ = ["DEFAULT_SCALE_FLOOR", "FlooredStudentTLikelihood", "SoftclipLikelihood"]

#: The default scale floor s_min of :class:`FlooredStudentTLikelihood`.
DEFAULT_SCALE_FLOOR = sp.Rational(1, 10)


class SoftclipLikelihood(StepMixture):
    """Memorised means, per-pixel Gaussian with a soft-clipped log sigma (bounded)."""

    name = "softclip_likelihood"
    title = "Soft-clipped log sigma (sigma-VAE code) on memorised points: capped"
    sources = ("Rybkin, Daniilidis & Levine, sigma-VAE, ICML 2021; reference code "
               "orybkin/sigma-vae-pytorch, model.py (softclip with min = -6)",)

    def __init__(self, points: Any = DEFAULT_POINTS, *, minimum: int = -6) -> None:
        super().__init__(points)
        self.minimum = sp.Integer(minimum)

    continuous_at_limit = True

    def log_sigma(self) -> sp.Expr:
        """The clipped log sigma ``m + softplus(-u/2 - m) = m + log(1 + w e^-m)``.

        The raw log sigma is ``log(epsilon)/2 = -u/2``, i.e. ``w = e^(-u/2)`` is the raw sigma.
        """
        return self.minimum + sp.log(1 + W * sp.exp(-self.minimum))

    def component(self, i: int, j: int) -> sp.Expr:
        d2 = sum(((a - b) ** 2 for a, b in zip(self.points[i], self.points[j], strict=True)),
                 sp.Integer(0))
        ls = self.log_sigma()
        return (-sp.Rational(self.dim, 2) * sp.log(2 * sp.pi) - self.dim * ls
                - d2 * sp.exp(-2 * ls) / 2)

    def symbolic_cap(self) -> sp.Expr:
        """``n D (-log(2 pi)/2 - m)`` (:func:`vaeproofs.symbolic.softclip.softclip_cap`)."""
        from vaeproofs.symbolic.softclip import softclip_cap

        return self.n * self.dim * softclip_cap(self.minimum)

    def float_limit(self, dtype: str = "float64") -> FloatLimit:
        """None: the clipped log sigma stays above the minimum."""
        return FloatLimit(0, "none: the clipped log sigma stays above -6")

    def torch_likelihoods(self, t: mpmath.mpf) -> list[dict[str, Any]]:
        ls = self.minimum + mpmath.log1p(mpmath.exp(mpmath.log(t) / 2 - self.minimum))
        return [{"kind": "gaussian", "log_var": float(2 * ls)}] * self.n


class FlooredStudentTLikelihood(StepMixture):
    """Memorised means, Student-t with squared scale s_min^2 + epsilon (bounded)."""

    name = "floored_student_t_likelihood"
    title = "Student-t with a floored scale on memorised points: capped by c(nu)/s_min"
    sources = ("Takahashi, Iwata, Yamanaka, Yamada & Yagi, Student-t variational autoencoder "
               "for robust density estimation, IJCAI 2018 (the decoder family)",)

    def __init__(self, points: Any = DEFAULT_POINTS, *, nu: Any = 3,
                 scale_floor: Any = DEFAULT_SCALE_FLOOR) -> None:
        super().__init__(points)
        self.nu = sp.nsimplify(check_positive("nu", nu), rational=True)
        self.scale_floor = sp.nsimplify(check_positive("scale_floor", scale_floor), rational=True)

    continuous_at_limit = True

    def component(self, i: int, j: int) -> sp.Expr:
        scale2 = self.scale_floor**2 + W**2          # s_min^2 + epsilon
        return sum((student_t_log_density(a - b, scale2, self.nu)
                    for a, b in zip(self.points[i], self.points[j], strict=True)), sp.Integer(0))

    def symbolic_cap(self) -> sp.Expr:
        """``n D (log c(nu) - log s_min)``: the density at the centre, largest scale-wise at s_min."""
        from vaeproofs.symbolic.student_t_floored import student_t_centre_constant

        c = student_t_centre_constant(self.nu)
        return self.n * self.dim * (sp.log(c) - sp.log(self.scale_floor))

    def float_limit(self, dtype: str = "float64") -> FloatLimit:
        """None: the squared scale stays >= s_min^2."""
        return FloatLimit(0, "none: the squared scale stays >= s_min^2")

    def torch_likelihoods(self, t: mpmath.mpf) -> list[dict[str, Any]]:
        s2 = mpmath.mpf(sp.N(self.scale_floor**2, 30)) + t
        return [{"kind": "student_t", "log_scale2": float(mpmath.log(s2)),
                 "nu": float(sp.N(self.nu))}] * self.n
