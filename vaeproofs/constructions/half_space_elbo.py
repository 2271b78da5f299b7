"""Construction 1 for the ELBO: Mattei & Frellsen's half-space collapse under Gaussian encoders.

Model as in :mod:`vaeproofs.constructions.exact_likelihood`: latent z in R (k = 1), prior
N(0, 1), decoder ``N(x | x_1, v(z) I_D)`` with a **constant** mean x_1 and the
z-dependent variance ``log v(z) = alpha tanh(alpha z) - alpha`` (-> -2 alpha on the
collapse region A = {z < 0}, -> 0 on z > 0).  Encoders ``q_i = N(c_i, s_i^2)``:
x_1 gets ``N(-3, 0.1^2)`` (a fixed posterior: q_1(A) = Phi(30), a fixed fraction), every
other point ``N(3, s^2)``, either

- *fixed* (``s = 0.1``): the other points' terms contain ``-(d_j^2/2) E_q[1/v]`` with
  ``E_q[1/v] >= q_j(A) e^alpha``, so the total ELBO is at most
  ``n D alpha - (n D/2) log(2 pi) - sum_j (d_j^2/2) q_j(A) e^alpha -> -infinity``: a
  sequence that first climbs (+372 at alpha = 200 on the default points) and then
  collapses (about -3e27 at alpha = 260); or
- *concentrating* (``s^2 = 9 / (4 alpha + 2 log alpha)``): then
  ``q_j(A) e^{2 alpha} = O(alpha^(-3/2)) -> 0`` (Mills ratio), the other points keep
  ``-(D/2) log(2 pi) - d_j^2/2 - KL_j + o(1)`` and pay ``KL_j = (1/2) log alpha + O(1)``:
  the total ELBO tends to +infinity like ``D q_1(A) alpha - ((n - 1)/2) log alpha``.

Objective: the ELBO, natural log, summed over the D pixels and the n points:
``ELBO_i = -(D/2) log(2 pi) - (D/2) E_qi[log v] - (d_i^2/2) E_qi[1/v] - KL(q_i || N(0, 1))``
with ``d_i = ||x_i - x_1||``; each expectation is a one-dimensional integral (mpmath
quadrature, split where v switches and around the posterior).  docs/theory.md section 1
("the collapse mechanism, precisely") states the conditions this illustrates.

Sources: Mattei & Frellsen, NeurIPS 2018, arXiv 1802.04826, section 2.1 (the decoder);
Kingma & Welling, arXiv 1312.6114, appendix B (Gaussian KL).
"""

from __future__ import annotations

from typing import Any

import mpmath
import sympy as sp

from vaeproofs.constructions.base import Construction, FloatLimit, U
from vaeproofs.constructions.exact_likelihood import DEFAULT_POINTS
from vaeproofs.constructions.precision import log_max

__all__ = ["FIXED_ENCODER_ALPHAS", "HalfSpaceElbo"]

#: Where the fixed-encoder sequence is evaluated (it peaks, then falls to -infinity).
FIXED_ENCODER_ALPHAS = (200, 260)

_Z = sp.Symbol("z", real=True)
_C1, _S1 = sp.Integer(-3), sp.Rational(1, 10)   # x_1's posterior N(-3, 0.1^2)
_C = sp.Integer(3)                             # the other points' posterior means
_S_FIXED = sp.Rational(1, 10)


def _q_mass_below_zero(c: sp.Expr, s: sp.Expr) -> sp.Expr:
    """``Phi(-c/s)``: the posterior mass on the collapse region z < 0."""
    return sp.erfc(c / (s * sp.sqrt(2))) / 2


class HalfSpaceElbo(Construction):
    """The total ELBO along Mattei & Frellsen's decoder with Gaussian encoders.

    Args:
        points: n >= 2 distinct points (the first is memorised).
        concentrating: the other points' encoder variance ``9 / (4 alpha + 2 log alpha)``
            (True, the registered, divergent sequence) or fixed at ``0.1^2`` (False).
    """

    name = "half_space_elbo"
    title = "ELBO, half-space variance collapse with constant mean, concentrating encoders"
    parameter = "alpha"
    objective_kind = "ELBO, total over the n points"
    sources = (
        "Mattei & Frellsen, NeurIPS 2018, arXiv 1802.04826, section 2.1 (the decoder)",
        "Kingma & Welling, arXiv 1312.6114, appendix B (Gaussian KL)",
    )

    def __init__(self, points: Any = DEFAULT_POINTS, *, concentrating: bool = True) -> None:
        from vaeproofs.validation import as_distinct_points

        arr = as_distinct_points("points", points, min_points=2)
        self.array = arr
        self.points = [[sp.nsimplify(float(v), rational=True) for v in row] for row in arr]
        self.n, self.dim = arr.shape
        self.concentrating = bool(concentrating)

    # ------------------------------------------------------------ parameters ---
    def default_values(self) -> list[mpmath.mpf]:
        """alpha = 1, 10, 100, 1000 (each value is three quadratures; fewer than the default)."""
        return [mpmath.mpf(a) for a in (1, 10, 100, 1000)]

    def sq_dists(self) -> list[sp.Expr]:
        """``||x_i - x_1||^2`` (exact rationals)."""
        return [sum((a - b) ** 2 for a, b in zip(x, self.points[0], strict=True)) for x in self.points]

    def posterior(self, i: int, alpha: sp.Expr = U) -> tuple[sp.Expr, sp.Expr]:
        """``(c_i, s_i^2)`` of point i's encoder at ``alpha``."""
        if i == 0:
            return _C1, _S1**2
        if self.concentrating:
            return _C, _C**2 / (4 * alpha + 2 * sp.log(alpha))
        return _C, _S_FIXED**2

    def parameters(self, t: Any) -> dict[str, Any]:
        """Decoder mean x_1 and log-variance weights (alpha, alpha, -alpha); posteriors."""
        a = self.check_parameter(t)
        with mpmath.workdps(30):
            post = [self.posterior_mp(i, a) for i in range(self.n)]
        return {"mean": [mpmath.mpf(sp.N(v, 30)) for v in self.points[0]],
                "gate_weight": a, "logvar_weight": a, "logvar_bias": -a,
                "posterior_means": [c for c, _ in post], "posterior_variances": [s for _, s in post]}

    # ------------------------------------------------------------- objective ---
    def _symbolic_objective_u(self) -> sp.Expr:
        log_v = U * sp.tanh(U * _Z) - U
        total = sp.Integer(0)
        for i, d2 in enumerate(self.sq_dists()):
            c, s2 = self.posterior(i)
            q = sp.exp(-(_Z - c) ** 2 / (2 * s2)) / sp.sqrt(2 * sp.pi * s2)
            expected = sp.Integral((-self.dim * log_v / 2 - d2 * sp.exp(-log_v) / 2) * q,
                                   (_Z, -sp.oo, sp.oo))
            total += (-sp.Rational(self.dim, 2) * sp.log(2 * sp.pi) + expected
                      - (c**2 + s2 - 1 - sp.log(s2)) / 2)
        return total

    def posterior_mp(self, i: int, alpha: mpmath.mpf) -> tuple[mpmath.mpf, mpmath.mpf]:
        """:meth:`posterior` in mpmath at the working precision."""
        if i == 0:
            return mpmath.mpf(-3), mpmath.mpf("0.01")
        if self.concentrating:
            return mpmath.mpf(3), 9 / (4 * alpha + 2 * mpmath.log(alpha))
        return mpmath.mpf(3), mpmath.mpf("0.01")

    def _expectation(self, alpha: mpmath.mpf, c: mpmath.mpf, s2: mpmath.mpf, d2: mpmath.mpf
                     ) -> mpmath.mpf:
        """``E_q[-(D/2) log v - (d2/2)/v]`` for q = N(c, s2): quadrature on c +- 40 s (the
        mass outside is below e^-800) and on the switch of v near 0, split where v and q
        change fastest."""
        s = mpmath.sqrt(s2)
        lo = min(c - 40 * s, mpmath.mpf(-40) / alpha)
        hi = max(c + 40 * s, mpmath.mpf(20) / alpha)
        edges = {lo, hi, c, c - 12 * s, c + 12 * s}
        if d2:  # where 1/v switches on (width 1/alpha near 0), weighted by q's tail
            edges |= {mpmath.mpf(k) / alpha for k in (-8, 0, 8)}
        half_d = mpmath.mpf(self.dim) / 2
        norm = 1 / mpmath.sqrt(2 * mpmath.pi * s2)

        def f(z: mpmath.mpf) -> mpmath.mpf:
            log_v = alpha * mpmath.tanh(alpha * z) - alpha
            q = mpmath.exp(-(z - c) ** 2 / (2 * s2)) * norm
            return (-half_d * log_v - (d2 / 2 * mpmath.exp(-log_v) if d2 else 0)) * q

        return mpmath.quad(f, sorted(e for e in edges if lo <= e <= hi))

    def _objective(self, u: mpmath.mpf) -> mpmath.mpf:
        total = mpmath.mpf(0)
        for i, d2s in enumerate(self.sq_dists()):
            c, s2 = self.posterior_mp(i, u)
            d2 = mpmath.mpf(sp.N(d2s, mpmath.mp.dps + 5))
            total += (-mpmath.mpf(self.dim) / 2 * mpmath.log(2 * mpmath.pi)
                      + self._expectation(u, c, s2, d2) - (c**2 + s2 - 1 - mpmath.log(s2)) / 2)
        return total

    # -------------------------------------------------------------- symbolic ---
    def _asymptote_parts_u(self) -> tuple[sp.Expr, sp.Expr]:
        """Limits of the three parts of each point's ELBO (concentrating encoders only).

        Reconstruction: ``tanh(alpha z) -> sign z`` with ``alpha E_q[tanh(alpha z) - sign z]
        -> 0`` (odd integrand, smooth q), so ``-(D/2) E_q1[log v] = D q_1(A) alpha + o(1)``;
        for j >= 2, ``E_qj[1/v] -> 1`` and ``E_qj[log v] -> 0`` because ``q_j(A) e^{2 alpha}``
        -> 0 (sympy limit of the Mills bound below).  KL: split with sympy limits.
        """
        if not self.concentrating:
            raise NotImplementedError("the fixed-encoder sequence falls to -oo: see "
                                      "fixed_encoder_upper_bound")
        c, s2 = self.posterior(1)
        # Mills: q_j(A) <= exp(-c^2/(2 s^2)) s / (c sqrt(2 pi)); the exponent is expanded first
        mills = sp.exp(sp.expand(2 * U - c**2 / (2 * s2))) * sp.sqrt(s2) / (c * sp.sqrt(2 * sp.pi))
        if sp.limit(mills, U, sp.oo) != 0:   # pragma: no cover - guards the derivation
            raise ArithmeticError("the other points' leak q_j(A) e^{2 alpha} does not vanish")
        divergent = self.dim * U * (sp.erfc(_C1 / (_S1 * sp.sqrt(2))) / 2)
        constant = -sp.Rational(self.n * self.dim, 2) * sp.log(2 * sp.pi)
        constant -= sum(self.sq_dists()) / 2
        constant -= (_C1**2 + _S1**2 - 1 - sp.log(_S1**2)) / 2
        kl_j = (c**2 + s2 - 1 - sp.log(s2)) / 2
        kl_rate = sp.log(U) / 2
        kl_const = sp.limit(kl_j - kl_rate, U, sp.oo)
        divergent -= (self.n - 1) * kl_rate
        constant -= (self.n - 1) * kl_const
        return sp.expand(divergent), sp.expand_log(constant, force=True)

    def fixed_encoder_upper_bound(self) -> sp.Expr:
        """For fixed encoders: ``n D alpha - (n D/2) log(2 pi) - sum_j (d_j^2/2) q_j(A) e^alpha``.

        Each ``-(D/2) E[log v] <= D alpha`` (log v >= -2 alpha), each KL >= 0, and for
        z < 0 ``1/v = exp(alpha (1 - tanh(alpha z))) >= e^alpha``.  In ``U = alpha``.
        """
        bound = self.n * self.dim * U - sp.Rational(self.n * self.dim, 2) * sp.log(2 * sp.pi)
        for d2 in self.sq_dists()[1:]:
            bound -= d2 / 2 * _q_mass_below_zero(_C, _S_FIXED) * sp.exp(U)
        return bound

    def diagnostics(self, values: Any) -> dict[str, Any]:
        """The fixed-encoder counterpart: mpmath and float64 values, and its proven limit."""
        fixed = HalfSpaceElbo(self.array, concentrating=False)
        exact = [fixed.objective(a, dps=15) for a in FIXED_ENCODER_ALPHAS]
        torch64 = [fixed.torch_objective(a) for a in FIXED_ENCODER_ALPHAS]
        bound = fixed.fixed_encoder_upper_bound()
        return {"fixed_encoder_alphas": list(FIXED_ENCODER_ALPHAS),
                "fixed_encoder_values": [mpmath.nstr(v, 12) for v in exact],
                "fixed_encoder_torch_float64": torch64,
                "fixed_encoder_upper_bound": sp.sstr(bound.subs(U, sp.Symbol("alpha"))),
                "fixed_encoder_limit": sp.sstr(sp.limit(bound, U, sp.oo))}

    # ------------------------------------------------------------------ torch ---
    def float_limit(self, dtype: str = "float64") -> FloatLimit:
        """The precision ``1/v`` reaches ``exp(2 alpha)``, which overflows at log(max)/2."""
        return FloatLimit(log_max(dtype) / 2, f"1/v = exp(2 alpha) overflows {dtype}")

    def _torch_objective(self, t: mpmath.mpf, dtype: str) -> float:
        from vaeproofs.constructions import networks

        alpha = float(t)
        net = networks.HalfSpaceVarianceDecoder(self.array[:1], alpha=alpha, dtype=dtype)
        post = [(float(c), float(s2)) for c, s2 in (self.posterior_mp(i, t) for i in range(self.n))]
        return networks.encoder_elbo_1d(net, self.array, centres=[c for c, _ in post],
                                        variances=[s for _, s in post], transition=1.0 / alpha,
                                        dtype=dtype)
