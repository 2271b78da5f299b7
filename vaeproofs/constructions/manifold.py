"""Construction 4: data on a closed curve in R^4, one shared variance gamma (Dai & Wipf).

Data distribution: uniform on the closed curve
``g(theta) = (cos theta, sin theta, cos 2 theta, sin 2 theta)``, theta ~ U(-pi, pi]
(a curve on a torus; manifold dimension r = 1, ambient D = 4).  Latent k = 1, prior N(0, 1).
Decoder mean ``mu(z) = g(z)`` (a Linear(1, 4) layer followed by cos), shared variance gamma;
encoder ``q(z | x) = N(atan2(x_2, x_1), s^2)`` with ``s^2 = gamma / |g'|^2 = gamma / 5``.

Exact population ELBO (expectation over the data distribution; natural log; gamma a
variance; sum over the D coordinates).  For z ~ N(theta, s^2),
``E ||g(theta) - g(z)||^2 = 2 (1 - exp(-s^2/2)) + 2 (1 - exp(-2 s^2))`` (from
``E cos(w z') = exp(-w^2 s^2 / 2)`` for ``z' ~ N(0, s^2)``), independent of theta, and
``E theta^2 = pi^2 / 3``, so

    ELBO(gamma) = -(D/2) log(2 pi gamma) - [2(1 - e^{-s^2/2}) + 2(1 - e^{-2 s^2})] / (2 gamma)
                  - (pi^2/3 + s^2 - 1 - log s^2) / 2
                = ((D - r)/2) log(1/gamma) + O(1).

Dai & Wipf ("Diagnosing and enhancing VAE models", ICLR 2019, Theorem 2 and section 3)
state that with data on an r-dimensional manifold the optimal gamma tends to 0 and the
loss behaves like ``(d - r) log gamma``; here the exact computation on a concrete curve
gives ``(D - r)/2 log(1/gamma)`` for the ELBO with gamma a variance (their statement is
up to the constant factor fixed by how the loss is scaled and whether gamma is a variance
or a scale).

Scope: this is a population on a curve (no density in R^4), not a finite training set.
The circle is outside Dai & Wipf's hypothesis (a manifold diffeomorphic to R^r), so the
construction extends their rate rather than instantiating their theorem.  The encoder
mean atan2 is discontinuous at theta = pi; a continuous encoder errs on an arc of length
delta, where the squared reconstruction error is O(1) and is divided by 2 gamma: a cost of
O(delta / gamma), so delta = o(gamma) keeps the rate (docs/theory.md section 4.3).
"""

from __future__ import annotations

from typing import Any

import mpmath
import sympy as sp

from vaeproofs.constructions.base import Construction, FloatLimit, U
from vaeproofs.constructions.precision import unit_roundoff

__all__ = ["ClosedCurve"]

#: Angular frequencies of the (cos, sin) pairs of the curve.
FREQUENCIES = (1, 2)


class ClosedCurve(Construction):
    """Construction 4 (see module docstring); collapse parameter ``epsilon = gamma``."""

    name = "manifold"
    title = "Closed curve in R^4 (r = 1), shared variance gamma: rate (D - r)/2 log(1/gamma)"
    parameter = "epsilon"
    objective_kind = "population ELBO per data point (expectation over the curve)"
    sources = (
        "Dai & Wipf, Diagnosing and enhancing VAE models, ICLR 2019, Theorem 2, section 3",
        "Kingma & Welling, arXiv 1312.6114, appendix B (Gaussian KL)",
    )

    dim = 2 * len(FREQUENCIES)
    manifold_dim = 1

    def speed2(self) -> sp.Expr:
        """``|g'(z)|^2 = sum of squared frequencies`` (constant along the curve)."""
        return sum(sp.Integer(w) ** 2 for w in FREQUENCIES)

    def _posterior_var(self, gamma: sp.Expr) -> sp.Expr:
        return gamma / self.speed2()

    def parameters(self, t: Any) -> dict[str, Any]:
        """gamma, the posterior variance s^2 and the decoder layer's weights and biases."""
        gamma = self.check_parameter(t)
        return {"gamma": gamma, "posterior_variance": gamma / mpmath.mpf(int(self.speed2())),
                "decoder_weight": [w for w in FREQUENCIES for _ in (0, 1)],
                "decoder_bias": [b for _ in FREQUENCIES for b in (0, -mpmath.pi / 2)]}

    def _symbolic_objective_u(self) -> sp.Expr:
        gamma = sp.exp(-U)
        s2 = self._posterior_var(gamma)
        recon = sum(2 * (1 - sp.exp(-sp.Integer(w) ** 2 * s2 / 2)) for w in FREQUENCIES)
        return (-sp.Rational(self.dim, 2) * sp.log(2 * sp.pi * gamma) - recon / (2 * gamma)
                - (sp.pi**2 / 3 + s2 - 1 - sp.log(s2)) / 2)

    def _objective(self, u: mpmath.mpf) -> mpmath.mpf:
        # The same closed form, written with expm1 so that 1 - exp(-s^2/2) keeps its
        # digits when s^2 ~ 1e-1000 (a test checks it against the sympy expression).
        gamma = mpmath.exp(-u)
        s2 = gamma / int(self.speed2())
        recon = sum(-2 * mpmath.expm1(-(w**2) * s2 / 2) for w in FREQUENCIES)
        return (-mpmath.mpf(self.dim) / 2 * (mpmath.log(2 * mpmath.pi) - u) - recon / (2 * gamma)
                - (mpmath.pi**2 / 3 + s2 - 1 - mpmath.log(s2)) / 2)

    def remainder_bound(self, t: Any) -> mpmath.mpf:
        """``|objective - asymptote| <= (sum w^4 / 8) s^4 / gamma + s^2 / 2``.

        From ``0 <= x - (1 - e^{-x}) <= x^2/2`` with ``x = w^2 s^2 / 2``: the reconstruction
        term differs from its limit ``speed2 s^2 / (2 gamma) = 1/2`` by at most
        ``sum_w (w^2 s^2 / 2)^2 / (2 gamma)``; the KL's ``s^2/2`` is the other o(1) term.
        """
        gamma = self.check_parameter(t)
        s2 = gamma / int(self.speed2())
        w4 = sum(w**4 for w in FREQUENCIES)
        return mpmath.mpf(w4) / 8 * s2**2 / gamma + s2 / 2

    def float_limit(self, dtype: str = "float64") -> FloatLimit:
        """Mean resolution: ``cos(z)`` near the data point is known to ~u only.

        The reconstruction difference ``g(theta) - g(z)`` is O(s) in exact arithmetic but
        carries a rounding error of ~u (unit roundoff) per coordinate; its relative error
        ``u / s`` reaches 1 when ``s^2 = gamma / 5 = u^2``, i.e. at ``gamma = 5 u^2``.
        """
        limit = int(self.speed2()) * unit_roundoff(dtype) ** 2
        return FloatLimit(limit, f"mean resolution: g(z) - g(theta) ~ s is below the "
                                 f"{dtype} rounding of cos (relative error u/s ~ 1)")

    def _torch_objective(self, t: mpmath.mpf, dtype: str) -> float:
        from vaeproofs.constructions import networks

        net = networks.CurveDecoder(FREQUENCIES, dtype=dtype)
        return networks.curve_elbo(net, log_gamma=float(mpmath.log(t)),
                                   posterior_var=float(t / int(self.speed2())), dtype=dtype)
