"""Encoders with a fixed variance s0^2: the shared-variance ELBO of two points, by dimension D.

Two points x_1 = 0 and x_2 = e_1 in R^D (d^2 = 1), latent k = 1, prior N(0, 1); encoders
q_i = N(-/+ s0 t, s0^2) with s0 = 1 fixed, so the means are L = 2 s0 t apart; decoder mean
x_1 on z < 0 and x_2 on z > 0 (the bisector; steep sigmoids in the network) and one decoder
variance gamma shared by all pixels and points, at its best value R/(n D)
(:mod:`vaeproofs.symbolic.fixed_encoder_variance`).  With R = d^2 erfc(t/sqrt 2) (each
point's posterior mass across the bisector, Phi(-t), times d^2), the total ELBO is

    ELBO(t) = -(n D/2) log(2 pi e R/(n D)) - n (s0^2 t^2 + s0^2 - 1 - log s0^2)/2,

and -log Phi(-t) = t^2/2 + log t + log(2 pi)/2 + r(t), 0 <= r(t) <= log(1 + 1/t)
(Birnbaum's and Gordon's Mills-ratio bounds, derived there), so ELBO = (D/2 - 1) t^2 +
D log t + O(1) for n = 2, s0 = 1:

- :class:`FixedEncoderD1`: D = 1 < D* = 4 s0^2 (n - 1)/n = 2: tends to -oo and stays under
  the family-wide cap (every decoder, every gamma);
- :class:`FixedEncoderD2`: D = D* = 2: diverges, like 2 log t;
- :class:`FixedEncoderD3`: D = 3 > D*: diverges like t^2/2.

Conventions: natural log; gamma, s0^2 variances; the parameter alpha is t = L/(2 s0);
objective summed over the two points.  The exact log-likelihood of the same decoder (no
encoder in it) is reported alongside: it diverges for every D.
"""

from __future__ import annotations

from typing import Any

import mpmath
import sympy as sp

from vaeproofs.constructions.base import Construction, FloatLimit, U
from vaeproofs.constructions.precision import dtype_info

__all__ = ["FixedEncoderD1", "FixedEncoderD2", "FixedEncoderD3", "FixedEncoderVarianceElbo"]

N_POINTS = 2
S0_SQUARED = sp.Integer(1)


def _log_erfc_plus_square(x: mpmath.mpf) -> mpmath.mpf:
    """``log erfc(x) + x^2`` for x > 0 at the working precision, for x of any size.

    Below x^2 = 4 prec, mpmath's erfc directly; beyond it the alternating asymptotic series
    erfc(x) e^(x^2) x sqrt(pi) = sum_k (-1)^k (2k - 1)!! / (2 x^2)^k, whose error is below the
    first omitted term (its terms shrink by (2k - 1)/(2 x^2) < 1/2 until k > x^2/2, long after
    they pass 2^-prec).
    """
    x2 = x * x
    if x2 < 4 * mpmath.mp.prec:
        return mpmath.log(mpmath.erfc(x)) + x2
    tiny = mpmath.mpf(2) ** (-mpmath.mp.prec - 10)
    total, term, k = mpmath.mpf(1), mpmath.mpf(1), 0
    while abs(term) > tiny:
        k += 1
        term *= -(2 * k - 1) / (2 * x2)
        total += term
    return mpmath.log(total) - mpmath.log(x * mpmath.sqrt(mpmath.pi))


class FixedEncoderVarianceElbo(Construction):
    """Two points, encoder variance fixed at s0^2 = 1, shared decoder variance (see module)."""

    parameter = "alpha"
    objective_kind = "ELBO at the best shared variance, total over the n = 2 points"
    sources = ("the second answer's coding-cost argument, made exact for a fixed encoder "
               "variance (docs/theory.md section 6)",
               "Mattei & Frellsen, NeurIPS 2018, arXiv 1802.04826, section 2.1 (the exact "
               "likelihood, which has no encoder)",
               "Kingma & Welling, arXiv 1312.6114, appendix B (Gaussian KL)")
    dim: int = 1

    # --------------------------------------------------------------------- pieces ---
    def residual(self, t: sp.Expr) -> sp.Expr:
        """``R = d^2 erfc(t/sqrt 2)``: both posteriors' mass across the bisector, times d^2."""
        return sp.erfc(t / sp.sqrt(2))

    def _kl_total(self, t: sp.Expr) -> sp.Expr:
        c0 = S0_SQUARED - 1 - sp.log(S0_SQUARED)
        return N_POINTS * (S0_SQUARED * t**2 + c0) / 2

    def parameters(self, t: Any) -> dict[str, Any]:
        """Encoder means -/+ s0 t, s0^2, the decoder's bisector 0 and its best shared gamma."""
        a = self.check_parameter(t)
        gamma = mpmath.erfc(a / mpmath.sqrt(2)) / (N_POINTS * self.dim)
        return {"encoder_means": [-a, a], "encoder_variance": mpmath.mpf(1), "boundary": 0,
                "decoder_outputs": [[0] * self.dim, [1] + [0] * (self.dim - 1)],
                "decoder_variance": gamma}

    # ------------------------------------------------------------------ objective ---
    def _symbolic_objective_u(self) -> sp.Expr:
        nd = N_POINTS * self.dim
        return (-sp.Rational(nd, 2) * sp.log(2 * sp.pi * sp.E * self.residual(U) / nd)
                - self._kl_total(U))

    def _objective(self, u: mpmath.mpf) -> mpmath.mpf:
        # -(nD/2) log erfc(x) with x = t/sqrt 2 is (nD/2)(t^2/2 - g), g = log erfc(x) + x^2, and
        # the KL total is n t^2/2 (s0^2 = 1): the t^2 terms are combined exactly, so nothing
        # cancels at D = D* however large t is.
        nd = N_POINTS * self.dim
        g = _log_erfc_plus_square(u / mpmath.sqrt(2))
        t2_coefficient = mpmath.mpf(nd) / 4 - mpmath.mpf(N_POINTS) / 2
        return (-mpmath.mpf(nd) / 2 * (mpmath.log(2 * mpmath.pi * mpmath.e / nd) + g)
                + t2_coefficient * u**2)

    def _asymptote_parts_u(self) -> tuple[sp.Expr, sp.Expr]:
        """With R = 2 Phi(-t): -log R = t^2/2 + log t + log(2 pi)/2 - log 2 + r(t), r -> 0.

        The Mills-ratio bounds of :mod:`vaeproofs.symbolic.fixed_encoder_variance` give
        0 <= r(t) <= log(1 + 1/t); sympy's own limit of log erfc is not used (sympy 1.14
        returns +oo for lim log(erfc(u/sqrt 2)) + u^2/2 + log u, whose value is
        log(2/pi)/2).
        """
        nd = sp.Integer(N_POINTS * self.dim)
        neg_log_r = U**2 / 2 + sp.log(U) + sp.log(2 * sp.pi) / 2 - sp.log(2)
        full = -(nd / 2) * sp.log(2 * sp.pi * sp.E / nd) + (nd / 2) * neg_log_r - self._kl_total(U)
        divergent = sp.expand(sum((term for term in sp.Add.make_args(sp.expand(full))
                                   if term.has(U)), sp.Integer(0)))
        return sp.simplify(divergent), sp.simplify(sp.expand(full) - divergent)

    def remainder_bound(self, t: Any) -> mpmath.mpf:
        """``(n D/2) log(1 + 1/t)`` (the Mills-ratio remainder r(t), times n D/2)."""
        a = self.check_parameter(t)
        return mpmath.mpf(N_POINTS * self.dim) / 2 * mpmath.log1p(1 / a)

    def symbolic_cap(self) -> sp.Expr | None:
        """Below D* = 2: the bound on the ELBO of every decoder and gamma (closed form)."""
        from vaeproofs.symbolic.fixed_encoder_variance import (
            fixed_encoder_cap,
            fixed_encoder_threshold,
        )

        if self.dim >= fixed_encoder_threshold(N_POINTS, S0_SQUARED):
            return None
        return fixed_encoder_cap(N_POINTS, self.dim, S0_SQUARED, 1, 1)

    def diagnostics(self, values: Any) -> dict[str, Any]:
        """The same decoder's exact log-likelihood at each gamma: it has no encoder and
        diverges, sum_i log((1/2) N(x_i | x_i, gamma I) + (1/2) N(x_i | x_j, gamma I))."""
        out = []
        with mpmath.workdps(30):
            for t in values:
                gamma = mpmath.erfc(mpmath.mpf(t) / mpmath.sqrt(2)) / (N_POINTS * self.dim)
                # the other component: d^2/(2 gamma) = 1/(2 gamma); past 1e4 its e^(-a) is
                # below 1e-4000, far under 30 digits (and exp of e^500000 is slow to form)
                a = 1 / (2 * gamma)
                other = mpmath.log1p(mpmath.exp(-a)) if a < 10**4 else mpmath.mpf(0)
                one = (-mpmath.mpf(self.dim) / 2 * mpmath.log(2 * mpmath.pi * gamma)
                       - mpmath.log(2) + other)
                out.append(mpmath.nstr(N_POINTS * one, 20))
        return {"exact_log_likelihood": out}

    # ---------------------------------------------------------------------- torch ---
    def float_scale(self, t: Any) -> mpmath.mpf:
        """``n t^2``: the KL total and the reconstruction's (n D/2) log(1/gamma) are both of
        this size and cancel to O(t^2 (D/D* - 1) + log t)."""
        return N_POINTS * self.check_parameter(t) ** 2

    def float_limit(self, dtype: str = "float64") -> FloatLimit:
        """The cross-bisector mass Phi(-t) (and with it gamma) drops below the smallest
        normal ``dtype``; 1/gamma overflows just after."""
        log_tiny = mpmath.log(mpmath.mpf(float(dtype_info(dtype).tiny)))
        with mpmath.workdps(30):
            t = mpmath.findroot(lambda a: mpmath.log(mpmath.ncdf(-a)) - log_tiny,
                                mpmath.sqrt(-2 * log_tiny))
        return FloatLimit(t, f"the posterior mass Phi(-t) across the bisector drops below the "
                             f"smallest normal {dtype}")

    def _torch_objective(self, t: mpmath.mpf, dtype: str) -> float:
        from vaeproofs.constructions import encoder_networks

        gamma = self.parameters(t)["decoder_variance"]
        return encoder_networks.fixed_encoder_cell_elbo(
            dim=self.dim, half_distance=float(t), log_gamma=float(mpmath.log(gamma)), dtype=dtype)


class FixedEncoderD1(FixedEncoderVarianceElbo):
    """D = 1 < D* = 2: bounded (capped for every decoder)."""

    name = "fixed_encoder_d1"
    title = "Encoder variance fixed at 1, n = 2, D = 1 < 4 s0^2 (n-1)/n: capped"
    dim = 1


class FixedEncoderD2(FixedEncoderVarianceElbo):
    """D = D* = 2: diverges like 2 log t."""

    name = "fixed_encoder_d2"
    title = "Encoder variance fixed at 1, n = 2, D = 2 = 4 s0^2 (n-1)/n: diverges like 2 log t"
    dim = 2


class FixedEncoderD3(FixedEncoderVarianceElbo):
    """D = 3 > D*: diverges like t^2/2."""

    name = "fixed_encoder_d3"
    title = "Encoder variance fixed at 1, n = 2, D = 3 > 4 s0^2 (n-1)/n: diverges like t^2/2"
    dim = 3
