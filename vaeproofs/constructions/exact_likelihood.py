"""Construction 1: the exact log-likelihood diverges (Mattei & Frellsen's half-space collapse).

Model: latent ``z`` in R (k = 1), prior N(0, 1); decoder ``p(x | z) = N(x | x_1, v(z) I_D)``
with the mean fixed to the first training point and the variance

    v_alpha(z) = exp(alpha * tanh(alpha * w z) - alpha),   w = 1,

which tends to ``exp(-2 alpha) -> 0`` on the half-space ``z < 0`` and to 1 on ``z > 0``
(Mattei & Frellsen, "Leveraging the exact likelihood of deep latent variable models",
NeurIPS 2018, arXiv 1802.04826, section 2.1, proof of their Proposition 1).

Objective: the exact log-likelihood of the data set, natural log, **summed over the n
points**: ``sum_i log INT N(x_i | x_1, v(z) I) phi(z) dz``, each term a one-dimensional
integral evaluated with mpmath quadrature (tanh-sinh, split where the variance switches).

Rate (derived in :meth:`ExactLikelihood._asymptote_parts_u` from sympy limits of the
log-variance on each half-line plus dominated convergence):
``D alpha - (n D / 2) log(2 pi) - n log 2 - sum_{i>=2} ||x_i - x_1||^2 / 2 + o(1)``:
only x_1's term diverges, every other point keeps a likelihood bounded below by half
its density under N(x_1, I).
"""

from __future__ import annotations

from typing import Any

import mpmath
import numpy as np
import sympy as sp

from vaeproofs.constructions.base import Construction, FloatLimit, U
from vaeproofs.constructions.precision import log_max

__all__ = ["DEFAULT_POINTS", "ExactLikelihood", "mf_log_variance"]

#: A data set of n = 3 distinct points in R^2 (dyadic, so exact in float32 and float64).
DEFAULT_POINTS: tuple[tuple[float, ...], ...] = ((0.5, -1.0), (1.5, 0.25), (-1.0, 0.75))

_Z = sp.Symbol("z", real=True)
_W = sp.Symbol("w", positive=True)  # a distance from the switching hyperplane


def mf_log_variance(z: sp.Expr, alpha: sp.Expr) -> sp.Expr:
    """``log v_alpha(z) = alpha tanh(alpha z) - alpha`` (Mattei & Frellsen 2018, sec. 2.1)."""
    return alpha * sp.tanh(alpha * z) - alpha


def _normal_pdf(z: sp.Expr) -> sp.Expr:
    return sp.exp(-z**2 / 2) / sp.sqrt(2 * sp.pi)


class ExactLikelihood(Construction):
    """Construction 1 (see module docstring); ``floor`` > 0 gives the bounded counterpart.

    Args:
        points: the data set, n distinct points of the same dimension D (n >= 1); the
            first one is memorised.
        floor: a variance floor ``xi >= 0`` added to ``v_alpha`` (0: the divergent case).
    """

    name = "exact_likelihood"
    title = "Exact log-likelihood, half-space variance collapse (Mattei & Frellsen)"
    parameter = "alpha"
    objective_kind = "log-likelihood, total over the n points"
    sources = (
        "Mattei & Frellsen, Leveraging the exact likelihood of deep latent variable "
        "models, NeurIPS 2018, arXiv 1802.04826, section 2.1 (variance "
        "exp(alpha tanh(alpha w^T z) - alpha))",
    )

    def __init__(self, points: Any = DEFAULT_POINTS, *, floor: Any = 0) -> None:
        from vaeproofs.validation import as_distinct_points, check_positive

        arr = as_distinct_points("points", points, min_points=1)
        check_positive("floor", floor, strict=False)
        self.points = [[sp.nsimplify(float(v), rational=True) for v in row] for row in arr]
        self.n, self.dim = arr.shape
        self.floor = sp.nsimplify(floor, rational=True)

    # ------------------------------------------------------------ parameters ---
    def _sq_dists(self) -> list[sp.Expr]:
        x1 = self.points[0]
        return [sum((a - b) ** 2 for a, b in zip(x, x1, strict=True)) for x in self.points]

    def parameters(self, t: Any) -> dict[str, Any]:
        """Decoder mean x_1, the log-variance map's weights (alpha w, alpha, -alpha), floor."""
        a = self.check_parameter(t)
        return {"mean": [mpmath.mpf(sp.N(v, 30)) for v in self.points[0]],
                "gate_weight": a, "logvar_weight": a, "logvar_bias": -a,
                "floor": mpmath.mpf(sp.N(self.floor, 30)), "prior": "N(0, 1), k = 1"}

    # ------------------------------------------------------------- objective ---
    def _variance(self, z: sp.Expr, alpha: sp.Expr) -> sp.Expr:
        return self.floor + sp.exp(mf_log_variance(z, alpha))

    def _symbolic_objective_u(self) -> sp.Expr:
        total = sp.Integer(0)
        for d2 in self._sq_dists():
            v = self._variance(_Z, U)
            integrand = (2 * sp.pi * v) ** (-sp.Rational(self.dim, 2)) * sp.exp(
                -d2 / (2 * v)) * _normal_pdf(_Z)
            total += sp.log(sp.Integral(integrand, (_Z, -sp.oo, sp.oo)))
        return total

    def _objective(self, u: mpmath.mpf) -> mpmath.mpf:
        alpha = u
        xi = mpmath.mpf(sp.N(self.floor, mpmath.mp.dps + 5))
        half_d = mpmath.mpf(self.dim) / 2
        c = 1 / mpmath.sqrt(2 * mpmath.pi)
        # Split where the variance switches (width ~1/alpha around z = 0) and, for a point
        # at squared distance d2 > 0, where its density switches on: v(z) ~ d2 at
        # z_d ~ log(2 alpha / |log d2|) / (2 alpha), over a width ~1/(2 alpha).
        total = mpmath.mpf(0)
        for d2s in self._sq_dists():
            d2 = mpmath.mpf(sp.N(d2s, mpmath.mp.dps + 5))
            edges = [-mpmath.inf, -40 / alpha, -2 / alpha, mpmath.mpf(0)]
            if d2 > 0:
                zd = mpmath.log(2 * alpha / max(abs(mpmath.log(d2)), 1)) / (2 * alpha)
                edges += [max(zd + mpmath.mpf(k) / (2 * alpha), 1 / (4 * alpha))
                          for k in range(-3, 6)]
            edges += [20 / alpha, mpmath.inf]

            def f(z: mpmath.mpf, d2: mpmath.mpf = d2) -> mpmath.mpf:
                v = xi + mpmath.exp(alpha * mpmath.tanh(alpha * z) - alpha)
                return (2 * mpmath.pi * v) ** (-half_d) * mpmath.exp(
                    -d2 / (2 * v) - z * z / 2) * c

            total += mpmath.log(mpmath.quad(f, sorted(set(edges))))
        return total

    # -------------------------------------------------------------- symbolic ---
    def _asymptote_parts_u(self) -> tuple[sp.Expr, sp.Expr]:
        """Pointwise limits of the log-variance on each half-line, then dominated convergence.

        sympy gives ``log v(-w) + 2 alpha -> 0`` and ``log v(w) -> 0`` for w > 0 (no floor),
        so the integrand of x_1's term times ``exp(-D alpha)`` tends to
        ``(2 pi)^(-D/2) phi(z) 1[z < 0]`` and every other point's integrand tends to
        ``N(x_i | x_1, I) phi(z) 1[z > 0]`` (its z < 0 part vanishes, also by sympy limit);
        all are dominated by ``(2 pi)^(-D/2) phi(z)`` after the same normalisation.
        With a floor xi the limits are ``v -> xi`` (z < 0) and ``v -> 1 + xi`` (z > 0).
        """
        half = sp.Rational(self.dim, 2)
        neg_lim = sp.limit(sp.log(self._variance(-_W, U)) + (2 * U if self.floor == 0 else 0),
                           U, sp.oo)
        pos_lim = sp.limit(sp.log(self._variance(_W, U)), U, sp.oo)
        mass_neg = sp.integrate(_normal_pdf(_Z), (_Z, -sp.oo, 0))
        mass_pos = sp.integrate(_normal_pdf(_Z), (_Z, 0, sp.oo))
        divergent = sp.Integer(0)
        constant = sp.Integer(0)
        for d2 in self._sq_dists():
            v_pos = sp.exp(pos_lim)
            pos = mass_pos * (2 * sp.pi * v_pos) ** (-half) * sp.exp(-d2 / (2 * v_pos))
            if self.floor == 0:
                if d2 == 0:   # the memorised point: the z < 0 half dominates
                    divergent += self.dim * U
                    constant += sp.log(mass_neg * (2 * sp.pi * sp.exp(neg_lim)) ** (-half))
                else:        # z < 0 half: density of a far point under a vanishing variance
                    neg = sp.limit((2 * sp.pi * sp.exp(-2 * U)) ** (-half)
                                   * sp.exp(-d2 * sp.exp(2 * U) / 2), U, sp.oo)
                    constant += sp.log(pos + mass_neg * neg)
            else:
                v_neg = sp.exp(neg_lim)
                neg = mass_neg * (2 * sp.pi * v_neg) ** (-half) * sp.exp(-d2 / (2 * v_neg))
                constant += sp.log(pos + neg)
        return sp.simplify(divergent), sp.expand_log(sp.simplify(constant), force=True)

    def symbolic_cap(self) -> sp.Expr | None:
        """With a floor xi > 0: ``-(n D / 2) log(2 pi xi)`` (Mattei & Frellsen, sec. 2.1).

        Derived: ``log N(x | mu, v I)`` is largest at ``mu = x`` where it equals
        ``-(D/2) log(2 pi v)``, decreasing in ``v`` (sympy: its derivative is negative),
        so over ``v >= xi`` it is at most the value at ``v = xi``; integrating against the
        prior keeps the bound.  No floor: no cap.
        """
        if self.floor == 0:
            return None
        from vaeproofs.symbolic.floor_cap import floor_cap_total

        return floor_cap_total(self.n, self.dim, self.floor)

    # ------------------------------------------------------------------ torch ---
    def float_limit(self, dtype: str = "float64") -> FloatLimit:
        """The precision ``exp(-log v) = exp(2 alpha)`` overflows at ``alpha = log(max)/2``.

        The network outputs the log-variance ``alpha tanh(alpha z) - alpha``, in
        ``[-2 alpha, 0]``; the Gaussian log-density multiplies ``(x - mu)^2`` by
        ``exp(-log v)``, which is ``inf`` once ``2 alpha > log(finfo.max)``, and
        ``0 * inf = nan`` at the memorised point.  (With a floor the variance never goes
        below xi and the network follows every alpha.)
        """
        if self.floor != 0:
            return FloatLimit(mpmath.inf, "none: the variance stays >= xi")
        return FloatLimit(log_max(dtype) / 2,
                          f"exp(-log variance) = exp(2 alpha) overflows {dtype} at "
                          f"alpha = log(finfo.max)/2")

    def _torch_objective(self, t: mpmath.mpf, dtype: str) -> float:
        from vaeproofs.constructions import networks

        net = networks.HalfSpaceVarianceDecoder(
            np.array([[float(v) for v in self.points[0]]]), alpha=float(t), dtype=dtype)
        data = np.array([[float(v) for v in row] for row in self.points])
        return networks.log_likelihood_1d(net, data, floor=float(self.floor),
                                          transition=1.0 / float(t), dtype=dtype)
