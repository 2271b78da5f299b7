"""A Student-t decoder with a floored scale: capped at c(nu)/s_min per pixel, for every nu.

The Student-t density with nu degrees of freedom, location mu and scale s (Takahashi et al.,
IJCAI 2018, use it as a decoder) is largest at x = mu, where it equals c(nu)/s with
c(nu) = Gamma((nu + 1)/2) / (Gamma(nu/2) sqrt(nu pi)).  With s >= s_min > 0 the
log-density per pixel is <= log c(nu) - log s_min; c increases in nu to 1/sqrt(2 pi) (the
Gaussian limit), so -log(2 pi)/2 - log s_min caps every nu at once.  Without the floor the
same expression diverges as s -> 0 (construction ``student_t_elbo``).

Conventions: natural log; s a scale (not a variance); per pixel; the examples are the
MIWAE notebooks' floor (s >= 1e-3, nu = 3) and a floor on the squared scale
(s^2 >= 1e-3, nu = 3, D = 64: the training figure's cap).
"""

from __future__ import annotations

from dataclasses import dataclass

import mpmath
import sympy as sp

from vaeproofs.symbolic.derivation import Derivation, DerivationBuilder, equation
from vaeproofs.symbolic.facts import FactRecord
from vaeproofs.symbolic.sources import TAKAHASHI

__all__ = ["StudentTFlooredFacts", "derive_student_t_floored", "student_t_centre_constant"]


def student_t_centre_constant(nu: sp.Expr) -> sp.Expr:
    """``c(nu) = Gamma((nu+1)/2) / (Gamma(nu/2) sqrt(nu pi))``: the density at the centre times s."""
    nu = sp.sympify(nu)
    return sp.gamma((nu + 1) / 2) / (sp.gamma(nu / 2) * sp.sqrt(nu * sp.pi))


@dataclass(frozen=True)
class StudentTFlooredFacts(FactRecord):
    """Facts of :func:`derive_student_t_floored`.

    Attributes:
        argmax_is_centre: the log-density's only critical point in x is x = mu (a maximum).
        max_decreasing_in_scale: d/ds of log(c/s) < 0.
        c_limit: lim_{nu -> oo} c(nu), as text ("sqrt(2)/(2*sqrt(pi))").
        c_increasing_on_grid: d log c / d nu > 0 at every point of a log-spaced grid
            nu in [0.05, 2000] (mpmath digamma; a check, not a proof).
        unfloored_limit: log(c/s) as s -> 0 ("oo").
        cap_nu3_scale_1e3: log c(3) - log 1e-3 (nats per pixel).
        cap_nu3_scale2_1e3_d64: 64 (log c(3) - log(1e-3)/2) (nats per point).
        cap_any_nu_scale_1e3: -log(2 pi)/2 - log 1e-3 (nats per pixel).
    """

    argmax_is_centre: bool
    max_decreasing_in_scale: bool
    c_limit: str
    c_increasing_on_grid: bool
    unfloored_limit: str
    cap_nu3_scale_1e3: float
    cap_nu3_scale2_1e3_d64: float
    cap_any_nu_scale_1e3: float

    @property
    def bounded(self) -> bool:
        """The floored density is capped by c(nu)/s_min <= 1/(sqrt(2 pi) s_min)."""
        return (self.argmax_is_centre and self.max_decreasing_in_scale
                and self.c_limit == "sqrt(2)/(2*sqrt(pi))" and self.c_increasing_on_grid)


def derive_student_t_floored() -> Derivation:
    """Derive the floored Student-t cap log c(nu) - log s_min and its uniformity in nu.

    results: ``log_density``, ``centre_constant``.  facts: :class:`StudentTFlooredFacts`.
    """
    x, mu = sp.symbols("x mu", real=True)
    s, nu = sp.symbols("s nu", positive=True)
    d = DerivationBuilder(name="student-t-floored", title="Floored Student-t: log-density <= log c(ν) "
                   "- log s_min <= -log(2π)/2 - log s_min", sources=[TAKAHASHI])
    c = student_t_centre_constant(nu)
    logt = sp.log(c) - sp.log(s) - (nu + 1) / 2 * sp.log(1 + (x - mu)**2 / (nu * s**2))
    d.step("Student-t log-density (natural log, s a scale):", equation(sp.Symbol("log t_ν"), logt))
    crit = sp.solve(sp.diff(logt, x), x)
    second = sp.simplify(sp.diff(logt, x, 2).subs(x, mu))
    d.step("Its only critical point in x is x = μ, a maximum (second derivative there):",
           equation(sp.Symbol("∂²/∂x² at μ"), second))
    at_centre = sp.log(c) - sp.log(s)
    dmax = sp.diff(at_centre, s)
    d.step("The maximum log(c(ν)/s) decreases in s, so s >= s_min caps it at log c(ν) - log s_min:",
           equation(sp.Derivative(sp.Symbol("log(c/s)"), s), dmax))
    # Stirling: log Gamma(z) = (z - 1/2) log z - z + log(2 pi)/2 + R(z), 0 < R(z) < 1/(12 z)
    # (Abramowitz & Stegun 6.1.42 with its remainder bound).  With z = nu/2,
    # log c = [log Gamma(z + 1/2) - log Gamma(z) - log(z)/2] + log(z)/2 - log(nu pi)/2, and the
    # bracket is z log(1 + 1/(2z)) - 1/2 + R(z + 1/2) - R(z), whose remainder part -> 0.
    z = sp.Symbol("z", positive=True)
    bracket = z * sp.log(1 + 1 / (2 * z)) - sp.Rational(1, 2)
    bracket_lim = sp.limit(bracket, z, sp.oo)
    rest = sp.expand_log(sp.log(z) / 2 - sp.log(2 * z * sp.pi) / 2, force=True)
    log_c_lim = bracket_lim + rest
    c_lim = sp.simplify(sp.exp(log_c_lim))
    d.step("c(ν) tends to the Gaussian constant as ν -> oo (Stirling with z = ν/2: the ratio "
           "Γ(z + 1/2)/(Γ(z) sqrt z) -> exp of the limit of z log(1 + 1/(2z)) - 1/2 = "
           f"{sp.sstr(bracket_lim)}):", equation(sp.Limit(sp.Symbol("c(ν)"), nu, sp.oo), c_lim))
    dlogc = sp.lambdify(nu, sp.diff(sp.expand_log(sp.log(c), force=True), nu), modules="mpmath")
    with mpmath.workdps(30):
        grid = [mpmath.mpf(10) ** (k / 10) for k in range(-13, 34)]
        increasing = all(dlogc(q) > 0 for q in grid)
    d.step("and increases in ν (d log c/dν > 0 checked with mpmath on ν = 10^(k/10), "
           "k = -13..33), so -log(2π)/2 - log s_min caps every ν.")
    unfloored = sp.limit(at_centre, s, 0, "+")
    d.step("Without a floor the maximum is unbounded:",
           equation(sp.Limit(sp.Symbol("log(c/s)"), s, 0, "+"), unfloored))
    c3 = sp.log(student_t_centre_constant(3))
    cap_a = c3 - sp.log(sp.Rational(1, 1000))
    cap_b = 64 * (c3 - sp.log(sp.Rational(1, 1000)) / 2)
    cap_c = -sp.log(2 * sp.pi) / 2 - sp.log(sp.Rational(1, 1000))
    d.step("Examples: ν = 3, s >= 1e-3 (per pixel); ν = 3, s² >= 1e-3, D = 64 (per point); "
           "any ν, s >= 1e-3 (per pixel):",
           equation(sp.Symbol("caps"), sp.Tuple(sp.N(cap_a, 6), sp.N(cap_b, 6), sp.N(cap_c, 6))))
    d.results.update(log_density=logt, centre_constant=c)
    facts = StudentTFlooredFacts(
        argmax_is_centre=bool(crit == [mu] and second.is_negative),
        max_decreasing_in_scale=bool(dmax.is_negative),
        c_limit=sp.sstr(c_lim),
        c_increasing_on_grid=bool(increasing),
        unfloored_limit=sp.sstr(unfloored),
        cap_nu3_scale_1e3=float(cap_a),
        cap_nu3_scale2_1e3_d64=float(cap_b),
        cap_any_nu_scale_1e3=float(cap_c),
    )
    return d.build(facts)
