"""Single-point collapse of the ELBO: a constant mean x_1 and a variance that vanishes on a half-space.

Decoder (Mattei & Frellsen, NeurIPS 2018, section 2.1, made a step): mean x_1 for every z,
variance epsilon on A = {z < b} and 1 elsewhere (a steep sigmoid in the network).  Data:
the n = 3 points of construction 1 in R^2; prior N(0, 1), k = 1.  With u = log(1/epsilon),
d_i = ||x_i - x_1|| and q_i(A) the posterior mass of A, the total ELBO is exactly

    sum_i [-(D/2) log 2 pi + q_i(A) ((D/2) u - d_i^2 e^u/2) - (1 - q_i(A)) d_i^2/2 - KL_i]

(:mod:`vaeproofs.symbolic.single_point_collapse`).  Two encoder families:

- :class:`SinglePointCollapse`: q_1 = N(0, 1), the prior itself (KL 0, q_1(A) = 1/2); the
  others q_j = N(h, h^2/(2u)), h = 1, so q_j(A) = Phi(-sqrt(2u)) and their KL grows like
  (1/2) log u.  The ELBO diverges like (D/2) q_1(A) log(1/eps) - ((n - 1)/2) log log(1/eps).
- :class:`SinglePointFloorEncoder`: every encoder variance fixed at s^2 = 1 (bounded below);
  point 1 two standard deviations inside A, the others sqrt(2u) outside, the means placed at
  the least KL.  The ELBO still diverges, like ((D/2) Phi(2) - (n - 1)/n) log(1/eps) for
  D = 2 > 2 s^2 (n - 1)/n = 4/3.

Conventions: natural log; epsilon, s^2 variances; totals over the n points.
"""

from __future__ import annotations

import functools
from typing import Any

import mpmath
import sympy as sp

from vaeproofs.constructions.base import Construction, FloatLimit, U, asymptotic_split
from vaeproofs.constructions.exact_likelihood import DEFAULT_POINTS
from vaeproofs.constructions.precision import log_max, tail_underflow_epsilon
from vaeproofs.symbolic.gaussian import kl_normal_standard

__all__ = ["HalfSpaceCollapseElbo", "SinglePointCollapse", "SinglePointFloorEncoder"]


def _normal_cdf(x: sp.Expr) -> sp.Expr:
    return sp.erfc(-x / sp.sqrt(2)) / 2


class HalfSpaceCollapseElbo(Construction):
    """The ELBO of the half-space step decoder for given Gaussian encoders (abstract)."""

    parameter = "epsilon"
    objective_kind = "ELBO, total over the n points"
    sources = ("Mattei & Frellsen, NeurIPS 2018, arXiv 1802.04826, section 2.1 (constant mean "
               "x_i, variance vanishing on a half-space)",
               "Kingma & Welling, arXiv 1312.6114, appendix B (Gaussian KL)")

    def __init__(self, points: Any = DEFAULT_POINTS) -> None:
        from vaeproofs.validation import as_distinct_points

        arr = as_distinct_points("points", points, min_points=2)
        self.array = arr
        self.points = [[sp.nsimplify(float(v), rational=True) for v in row] for row in arr]
        self.n, self.dim = arr.shape

    # ---------------------------------------------------------- subclass hooks ---
    def encoder_means(self) -> list[sp.Expr]:
        """Posterior means in ``U``."""
        raise NotImplementedError

    def encoder_variances(self) -> list[sp.Expr]:
        """Posterior variances in ``U``."""
        raise NotImplementedError

    def boundary(self) -> sp.Expr:
        """The boundary b of A = {z < b}, in ``U``."""
        raise NotImplementedError

    # ------------------------------------------------------------------ pieces ---
    def sq_dist(self, i: int) -> sp.Expr:
        """``||x_i - x_1||^2`` (exact rational)."""
        return sum(((a - b) ** 2 for a, b in zip(self.points[i], self.points[0], strict=True)),
                   sp.Integer(0))

    def masses(self) -> list[sp.Expr]:
        """``q_i(A) = Phi((b - m_i)/s_i)`` in ``U``."""
        return list(self._masses)

    @functools.cached_property
    def _masses(self) -> tuple[sp.Expr, ...]:
        b = self.boundary()
        return tuple(sp.simplify(_normal_cdf((b - m) / sp.sqrt(v)))
                     for m, v in zip(self.encoder_means(), self.encoder_variances(), strict=True))

    def _terms(self, masses: list[sp.Expr]) -> sp.Expr:
        half_d = sp.Rational(self.dim, 2)
        total = sp.Integer(0)
        for i, (q, m, v) in enumerate(zip(masses, self.encoder_means(), self.encoder_variances(),
                                          strict=True)):
            d2 = self.sq_dist(i)
            total += (-half_d * sp.log(2 * sp.pi) + q * (half_d * U - d2 * sp.exp(U) / 2)
                      - (1 - q) * d2 / 2 - kl_normal_standard(m, v))
        return total

    def _symbolic_objective_u(self) -> sp.Expr:
        return self._terms(self.masses())

    def _asymptote_parts_u(self) -> tuple[sp.Expr, sp.Expr]:
        """Drop the other points' masses of A (each <= e^(-u)/(2 sqrt(pi u)) times terms of
        size u + e^u: they vanish, see :meth:`remainder_bound`), then split with sympy."""
        masses = self.masses()
        return asymptotic_split(self._terms([masses[0]] + [sp.Integer(0)] * (self.n - 1)))

    def parameters(self, t: Any) -> dict[str, Any]:
        """Encoder means and variances, the boundary b, the decoder's mean x_1 and epsilon."""
        eps = self.check_parameter(t)
        u = -mpmath.log(eps)

        def ev(e: sp.Expr) -> mpmath.mpf:
            return mpmath.mpf(sp.lambdify(U, e, modules="mpmath")(u))

        return {"epsilon": eps, "encoder_means": [ev(m) for m in self.encoder_means()],
                "encoder_variances": [ev(v) for v in self.encoder_variances()],
                "boundary": ev(self.boundary()),
                "decoder_mean": [mpmath.mpf(sp.N(v, 30)) for v in self.points[0]]}

    @functools.cached_property
    def _mp_objective(self) -> Any:
        return sp.lambdify(U, self._symbolic_objective_u(), modules="mpmath")

    def _objective(self, u: mpmath.mpf) -> mpmath.mpf:
        return mpmath.mpf(self._mp_objective(u))

    def remainder_bound(self, t: Any) -> mpmath.mpf:
        """``sum_{j != 1} [e^-u ((D/2) u + d_j^2/2) + d_j^2] / (4 sqrt(pi u))`` plus the
        encoders' vanishing KL terms (:meth:`_kl_remainder`); erfc(x) <= e^(-x^2)/(x sqrt pi)."""
        u = self.to_u(t)
        total = mpmath.mpf(0)
        for j in range(1, self.n):
            d2 = mpmath.mpf(sp.N(self.sq_dist(j), 30))
            total += (mpmath.exp(-u) * (mpmath.mpf(self.dim) / 2 * u + d2 / 2) + d2) / (
                4 * mpmath.sqrt(mpmath.pi * u))
        return total + self._kl_remainder(u)

    def _kl_remainder(self, u: mpmath.mpf) -> mpmath.mpf:
        return mpmath.mpf(0)

    # ------------------------------------------------------------------- torch ---
    def float_limit(self, dtype: str = "float64") -> FloatLimit:
        """The first of: an other point's mass Phi(-sqrt(2u)) of A leaves the normal range;
        the precision 1/epsilon overflows."""
        overflow = mpmath.exp(-log_max(dtype))
        tail = tail_underflow_epsilon(dtype)
        if tail > overflow:
            return FloatLimit(tail, f"the other points' posterior mass of A, Phi(-sqrt(2 log "
                                    f"1/eps)), drops below the smallest normal {dtype}")
        return FloatLimit(overflow, f"the precision 1/eps overflows {dtype}")

    def _torch_objective(self, t: mpmath.mpf, dtype: str) -> float:
        from vaeproofs.constructions import encoder_networks

        p = self.parameters(t)
        return encoder_networks.half_space_step_elbo(
            self.array, means=[float(m) for m in p["encoder_means"]],
            variances=[float(v) for v in p["encoder_variances"]], boundary=float(p["boundary"]),
            log_epsilon=float(mpmath.log(t)), dtype=dtype)


class SinglePointCollapse(HalfSpaceCollapseElbo):
    """q_1 = the prior (q_1(A) = 1/2, KL 0); the others concentrate at (1/2) log u each."""

    name = "single_point_collapse"
    title = ("Constant mean x_1, variance epsilon on a half-space: ELBO ~ (D/2) q_1(A) log(1/eps) "
             "- ((n-1)/2) log log(1/eps)")
    half_width = sp.Integer(1)

    def encoder_means(self) -> list[sp.Expr]:
        return [sp.Integer(0)] + [self.half_width] * (self.n - 1)

    def encoder_variances(self) -> list[sp.Expr]:
        return [sp.Integer(1)] + [self.half_width**2 / (2 * U)] * (self.n - 1)

    def boundary(self) -> sp.Expr:
        return sp.Integer(0)

    def _kl_remainder(self, u: mpmath.mpf) -> mpmath.mpf:
        """The others' KL terms s^2/2 = h^2/(4u), which vanish."""
        return (self.n - 1) * mpmath.mpf(sp.N(self.half_width**2, 30)) / (4 * u)

    def diagnostics(self, values: Any) -> dict[str, Any]:
        """Whether the derived rate is the statement's (D/2) q_1(A) log(1/eps) - ((n-1)/2) log
        log(1/eps), and q_1(A)."""
        eps = sp.Symbol("epsilon", positive=True)
        q1 = self.masses()[0]
        stated = (sp.Rational(self.dim, 2) * q1 * sp.log(1 / eps)
                  - sp.Rational(self.n - 1, 2) * sp.log(sp.log(1 / eps)))
        same = sp.simplify(sp.expand_log(self.symbolic_rate() - stated, force=True)) == 0
        return {"rate_matches_statement": bool(same), "q1_of_A": sp.sstr(q1)}


class SinglePointFloorEncoder(HalfSpaceCollapseElbo):
    """Every encoder variance fixed at 1: point 1 t_1 = 2 inside A, the others sqrt(2u) outside."""

    name = "single_point_floor_encoder"
    title = ("Encoder variances fixed at 1 (bounded below), D = 2 > 2 s^2 (n-1)/n: the "
             "single-point collapse still diverges")
    inside = sp.Integer(2)

    def default_values(self) -> list[mpmath.mpf]:
        """From 1e-5: the -(4 sqrt 2/3) sqrt(log 1/eps) of the KL makes the first values
        dip before the log(1/eps) term takes over (the sequence increases from there)."""
        return [mpmath.mpf(f"1e-{e}") for e in (5, 10, 20, 50, 100, 200, 300, 500, 1000)]

    def _separation(self) -> sp.Expr:
        return self.inside + sp.sqrt(2 * U)

    def encoder_means(self) -> list[sp.Expr]:
        # least KL for a separation L between point 1 and the others (at one place):
        # m_1 = -(n - 1) L/n, M = L/n (single_point_collapse derivation)
        sep = self._separation()
        return [-(self.n - 1) * sep / self.n] + [sep / self.n] * (self.n - 1)

    def encoder_variances(self) -> list[sp.Expr]:
        return [sp.Integer(1)] * self.n

    def boundary(self) -> sp.Expr:
        return -(self.n - 1) * self._separation() / self.n + self.inside

    def diagnostics(self, values: Any) -> dict[str, Any]:
        """The coefficient of log(1/eps) in the rate, and the threshold 2 s^2 (n - 1)/n."""
        eps = sp.Symbol("epsilon", positive=True)
        coefficient = sp.limit(self.symbolic_rate() / sp.log(1 / eps), eps, 0, "+")
        return {"rate_coefficient": sp.sstr(sp.N(coefficient, 15)),
                "threshold_dimension": sp.sstr(sp.Rational(2 * (self.n - 1), self.n)),
                "dimension": self.dim}
