"""Dequantisation: fresh uniform noise bounds the expected objective, static noise does not.

Data: n distinct points x_1..x_n on the grid Delta Z^D.  Fresh noise u ~ U([0, Delta)^D),
drawn anew at every step, turns the training objective into an expectation over the
population p = (1/n) sum_i U(x_i + [0, Delta)^D), a density of value 1/(n Delta^D) on n
disjoint cells, so h(p) = log n + D log Delta and, by Gibbs' inequality
(:mod:`vaeproofs.symbolic.population`; Theis, van den Oord & Bethge, ICLR 2016, section
3.1), for every model density q

    (1/n) sum_i E_u[log q(x_i + u)] <= D log(1/Delta) - log n      (per point),

attained by q = p.  Noise drawn once and kept gives a fixed finite set of n points: no
density, and the memorising constructions diverge on it.

Conventions: natural log; per point averages (multiply by n for totals); Delta the grid
spacing in data units (the toolkit's digits use x -> (x + u)/17, so Delta = 1/17, D = 64).
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from vaeproofs.symbolic.derivation import Derivation, DerivationBuilder, equation
from vaeproofs.symbolic.facts import FactRecord
from vaeproofs.symbolic.sources import COVER_THOMAS, THEIS

__all__ = ["DequantisationFacts", "dequantisation_bound", "derive_dequantisation"]

_N = sp.Symbol("n", integer=True, positive=True)
_D = sp.Symbol("D", integer=True, positive=True)
_DELTA = sp.Symbol("Delta", positive=True)


def dequantisation_bound(n: int | sp.Expr, dim: int | sp.Expr, delta: sp.Expr) -> sp.Expr:
    """``D log(1/Delta) - log n``: the per-point bound on the fresh-noise objective."""
    return dim * sp.log(1 / sp.sympify(delta)) - sp.log(n)


@dataclass(frozen=True)
class DequantisationFacts(FactRecord):
    """Facts of :func:`derive_dequantisation`.

    Attributes:
        entropy_matches: -h(p) computed from the cell density equals D log(1/Delta) - log n
            (so the bound is attained by q = p).
        best_gaussian_gap_per_pixel: bound minus the best single Gaussian's expected
            log-density on one uniform cell, per pixel (= log(pi e / 6)/2 > 0).
        collapse_limit_fresh: E_u[log N(x + u | centre, v)] as v -> 0 ("-oo").
        collapse_limit_static: log N(x | x, v) as v -> 0 on a fixed point ("oo").
        digits_bound_per_point: the bound for D = 64, Delta = 1/17, n = 16 (nats).
        digits_bound_without_log_n: 64 log 17 (nats), the bound for n = 1.
    """

    entropy_matches: bool
    best_gaussian_gap_per_pixel: float
    collapse_limit_fresh: str
    collapse_limit_static: str
    digits_bound_per_point: float
    digits_bound_without_log_n: float

    @property
    def fresh_bounded_static_unbounded(self) -> bool:
        """The bound holds for fresh noise and the static set diverges."""
        return (self.entropy_matches and self.collapse_limit_fresh == "-oo"
                and self.collapse_limit_static == "oo")


def derive_dequantisation() -> Derivation:
    """Derive the fresh-noise bound D log(1/Delta) - log n and the static-noise failure.

    results: ``density`` 1/(n Delta^D); ``minus_entropy``; ``bound``;
    ``gaussian_on_cell`` E_u[log N(c + w, v)], w ~ U(-Delta/2, Delta/2) per pixel;
    ``best_gaussian_variance``.  facts: :class:`DequantisationFacts`.
    """
    n, D, delta = _N, _D, _DELTA
    v = sp.Symbol("v", positive=True)
    d = DerivationBuilder(name="dequantisation",
                   title="Fresh dequantisation noise: E[log q] <= D log(1/Δ) - log n",
                   sources=[THEIS, COVER_THOMAS])
    density = 1 / (n * delta**D)
    minus_h = sp.expand_log(n * delta**D * density * sp.log(density), force=True)
    bound = dequantisation_bound(n, D, delta)
    d.step("Fresh noise makes the data a density: p = (1/n) sum_i U(x_i + [0, Δ)^D), of "
           "value 1/(n Δ^D) on the union of n disjoint cells of volume Δ^D:",
           equation(sp.Symbol("p"), density))
    d.step("Its negative entropy, -h(p) = (n Δ^D) p log p:", equation(sp.Symbol("-h(p)"), minus_h))
    d.step("By Gibbs' inequality every model density q (and every ELBO <= log q) has "
           "E_p[log q] <= -h(p), attained at q = p:", equation(sp.Symbol("bound"), bound))
    # One pixel, the best Gaussian on a uniform cell of width Delta (residual w, E w^2 = D^2/12).
    gauss = -sp.log(2 * sp.pi * v) / 2 - delta**2 / (24 * v)
    v_best = sp.solve(sp.diff(gauss, v), v)
    gap = sp.simplify(sp.expand_log(sp.log(1 / delta) - gauss.subs(v, v_best[0]), force=True))
    d.step("A Gaussian decoder on one uniform cell (mean at the centre, variance v): "
           "E_u[log N] per pixel is", equation(sp.Symbol("E_u log N"), gauss))
    d.step("best at v = Δ^2/12, where it falls short of the per-pixel bound log(1/Δ) by",
           equation(sp.Symbol("gap"), gap))
    fresh = sp.limit(gauss, v, 0, "+")
    static = sp.limit(-sp.log(2 * sp.pi * v) / 2, v, 0, "+")
    d.step("Letting the variance collapse under fresh noise lowers the objective:",
           equation(sp.Limit(sp.Symbol("E_u log N"), v, 0, "+"), fresh))
    d.step("Noise drawn once is a fixed finite set: with the mean at each point the "
           "log-density -log(2 pi v)/2 per pixel has limit",
           equation(sp.Limit(sp.Symbol("log N(x | x, v)"), v, 0, "+"), static))
    digits = bound.subs({n: 16, D: 64, delta: sp.Rational(1, 17)})
    d.step("The toolkit's digits (D = 64, Δ = 1/17, n = 16 training points): the bound per "
           "point is", equation(sp.Symbol("bound_digits"), digits))
    d.results.update(density=density, minus_entropy=minus_h, bound=bound, gaussian_on_cell=gauss,
                     best_gaussian_variance=v_best[0])
    facts = DequantisationFacts(
        entropy_matches=bool(sp.simplify(minus_h - sp.expand_log(bound, force=True)) == 0),
        best_gaussian_gap_per_pixel=float(gap),
        collapse_limit_fresh=sp.sstr(fresh),
        collapse_limit_static=sp.sstr(static),
        digits_bound_per_point=float(digits),
        digits_bound_without_log_n=float(bound.subs({n: 1, D: 64, delta: sp.Rational(1, 17)})),
    )
    return d.build(facts)
