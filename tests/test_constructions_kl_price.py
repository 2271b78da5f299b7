"""The constructions and derivations about the KL term's price, checked independently.

Exact objectives against closed forms written out here (scipy / mpmath), the sympy results
of the derivations against the mpmath evaluators (hypothesis), rates and caps.  mpmath runs
at raised precision inside ``workdps`` (restored afterwards).
"""

from __future__ import annotations

import mpmath
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from vaeproofs import constructions
from vaeproofs.constructions.population_beta import PopulationBetaObjective
from vaeproofs.symbolic import catalog

EPS = sp.Symbol("epsilon", positive=True)


@pytest.fixture(scope="module")
def population_beta() -> object:
    return catalog.derive("population-beta")


# ----------------------------------------------------------------- population beta ---
def test_population_beta_rows_diverge_or_stay_capped() -> None:
    half, one = constructions.get("population_beta_half"), constructions.get("population_beta_one")
    assert not half.bounded() and half.limit() == sp.oo
    assert sp.simplify(half.symbolic_rate() - sp.log(1 / EPS) / 4) == 0
    assert one.bounded() and one.symbolic_rate() == 0
    # beta = 1 tends to -h(N(0, 1)) = -(1/2) log(2 pi e) from below
    assert sp.simplify(one.limit() + sp.log(2 * sp.pi * sp.E) / 2) == 0
    with mpmath.workdps(40):
        minus_h = -mpmath.log(2 * mpmath.pi * mpmath.e) / 2
        # strictly under the cap (not attained); at 30 digits eps/2 is visible down to 1e-20
        assert all(one.objective(t, dps=30) < minus_h for t in one.default_values()[:6])
        # J_1 = -h(p) - eps/2 exactly: the gap is the KL's eps/2 (30-digit rounding of ~1.4)
        gap = minus_h - one.objective("1e-10", dps=30)
        assert abs(gap - mpmath.mpf("1e-10") / 2) < mpmath.mpf("1e-28")


def test_population_beta_objective_is_the_gaussian_closed_form() -> None:
    # E_p E_q log N(x | z, eps) = -log(2 pi eps)/2 - 1/2 (residual variance eps);
    # E_p KL(N(x, eps) || N(0, 1)) = (1 + eps - 1 - log eps)/2, E x^2 = 1.
    half = constructions.get("population_beta_half")
    for eps in ("0.3", "1e-7", "1e-400"):
        with mpmath.workdps(50):
            e = mpmath.mpf(eps)
            direct = (-mpmath.log(2 * mpmath.pi * e) / 2 - mpmath.mpf(1) / 2
                      - (e - mpmath.log(e)) / 4)
            assert abs(half.objective(eps, dps=40) - direct) < mpmath.mpf(10) ** -35 * (1 + abs(direct))


@settings(max_examples=15)
@given(st.fractions(min_value=0, max_value=3, max_denominator=8),
       st.floats(min_value=1.0, max_value=800.0))
def test_derived_profile_equals_the_mpmath_objective(population_beta: object, beta: object,
                                                     u: float) -> None:
    """The sympy profile J_beta(s2) at D = 1 is the construction's mpmath objective."""
    c = PopulationBetaObjective()
    c.beta = sp.Rational(beta.numerator, beta.denominator)
    profiled = population_beta.results.profiled
    expr = profiled.subs({sp.Symbol("D", integer=True, positive=True): 1,
                          sp.Symbol("beta", nonnegative=True): c.beta})
    s2 = next(s for s in expr.free_symbols if s.name == "s2")
    t = mpmath.exp(-mpmath.mpf(u))
    with mpmath.workdps(40):
        symbolic = sp.lambdify(s2, expr, modules="mpmath")(t)
        exact = c.objective(t, dps=30)
        assert abs(symbolic - exact) <= mpmath.mpf(10) ** -25 * (1 + abs(exact))


def test_population_beta_facts(population_beta: object) -> None:
    f = population_beta.facts
    assert f.unbounded_below_one and f.bounded_from_one
    d, beta = sp.symbols("D beta")
    rate = sp.sympify(f.rate_coefficient, locals={"D": d, "beta": beta})
    assert sp.simplify(rate - d * (1 - beta) / 2) == 0
    assert f.minus_entropy_per_coordinate == pytest.approx(-0.5 * float(sp.log(2 * sp.pi * sp.E)),
                                                           rel=1e-15)
    assert f.beta_one_sup_attained is False
