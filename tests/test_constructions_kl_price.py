"""The constructions and derivations about the KL term's price, checked independently.

Exact objectives against closed forms written out here (scipy / mpmath), the sympy results
of the derivations against the mpmath evaluators (hypothesis), rates and caps.  mpmath runs
at raised precision inside ``workdps`` (restored afterwards).
"""

from __future__ import annotations

from pathlib import Path

import mpmath
import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from vaeproofs import constructions
from vaeproofs.constructions import encoder_networks
from vaeproofs.constructions.population_beta import PopulationBetaObjective
from vaeproofs.symbolic import catalog
from vaeproofs.symbolic.fixed_encoder_variance import (
    _upper,
    fixed_encoder_cap,
    fixed_encoder_threshold,
)

ROOT = Path(__file__).resolve().parents[1]
EPS = sp.Symbol("epsilon", positive=True)
ALPHA = sp.Symbol("alpha", positive=True)


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


# ------------------------------------------------------------ fixed encoder variance ---
def test_fixed_encoder_rows_by_dimension() -> None:
    d1, d2, d3 = (constructions.get(f"fixed_encoder_d{k}") for k in (1, 2, 3))
    assert d1.bounded() and d1.limit() == -sp.oo
    assert not d2.bounded() and not d3.bounded() and d2.limit() == d3.limit() == sp.oo
    assert sp.simplify(d2.symbolic_rate() - 2 * sp.log(ALPHA)) == 0        # (nD/2) log t at D*
    assert sp.simplify(d3.symbolic_rate() - ALPHA**2 / 2 - 3 * sp.log(ALPHA)) == 0
    assert fixed_encoder_threshold(2, 1) == 2 and fixed_encoder_threshold(3, 1) == sp.Rational(8, 3)


def test_fixed_encoder_objective_against_scipy() -> None:
    from scipy import stats

    for dim in (1, 2, 3):
        c = constructions.get(f"fixed_encoder_d{dim}")
        for t in (1.0, 2.5, 7.0):
            # R = 2 Phi(-t) (d = 1), best gamma R/(2D), KL total t^2 (s0 = 1)
            log_r = np.log(2.0) + stats.norm.logsf(t)
            direct = -dim * (np.log(2 * np.pi * np.e / (2 * dim)) + log_r) - t**2
            assert float(c.objective(t)) == pytest.approx(direct, rel=1e-13, abs=1e-13)


def _best_at_fixed_gamma(dim: int, log10_gamma: int) -> mpmath.mpf:
    """max over t of the bisector decoder's ELBO at a fixed gamma (n = 2, s0 = d = 1)."""
    with mpmath.workdps(30):
        g = mpmath.mpf(10) ** log10_gamma

        def elbo(t: mpmath.mpf) -> mpmath.mpf:
            return (-dim * mpmath.log(2 * mpmath.pi * g)
                    - mpmath.erfc(t / mpmath.sqrt(2)) / (2 * g) - t**2)

        t0 = 2 * mpmath.sqrt(-mpmath.log(g))
        a, b = t0 / 4, 2 * t0
        for _ in range(120):                        # golden section on a unimodal function
            m1, m2 = a + (b - a) * 0.382, b - (b - a) * 0.382
            a, b = (m1, b) if elbo(m1) < elbo(m2) else (a, m2)
        return elbo((a + b) / 2)


def test_the_fixed_gamma_table_of_the_theory_doc() -> None:
    text = (ROOT / "docs" / "theory.md").read_text(encoding="utf-8")
    table = {1: "-3.43, -19.92, -110.33, -454.31, -2294.77", 2: "-0.66, 1.26,\n  2.96, 4.37, 5.98",
             3: "2.11, 22.45, 116.25, 463.04, 2306.73"}
    for dim, listed in table.items():
        computed = ", ".join(f"{float(_best_at_fixed_gamma(dim, e)):.2f}"
                             for e in (-2, -10, -50, -200, -1000))
        assert listed in text
        assert computed == listed.replace("\n  ", " "), (dim, computed)


def test_the_cap_is_the_maximum_of_the_bound_and_above_every_decoder() -> None:
    t = sp.Symbol("t", positive=True)
    for n, dim, s02 in ((2, 1, 1), (3, 2, 1), (4, 1, sp.Rational(1, 2)), (2, 3, 2)):
        cap = float(fixed_encoder_cap(n, dim, s02, 1, 1))
        bound = sp.lambdify(t, _upper(sp.Integer(n), sp.Integer(dim), sp.sympify(s02), 1, 1, t))
        grid = np.linspace(0, 20, 4001)
        assert max(bound(grid)) <= cap + 1e-12 and max(bound(grid)) > cap - 1e-4
    # the best decoder for two fixed encoders (a network) stays under it, D = 1
    cap = float(constructions.get("fixed_encoder_d1").cap())
    assert max(encoder_networks.fixed_encoder_soft_profile(1, list(np.linspace(0, 6, 61)))) < cap
    with pytest.raises(ValueError, match="dim"):
        fixed_encoder_cap(2, 2, 1, 1, 1)                     # at D* there is no cap


@settings(max_examples=15)
@given(st.integers(min_value=2, max_value=8), st.integers(min_value=1, max_value=20),
       st.fractions(min_value=sp.Rational(1, 4), max_value=4, max_denominator=4))
def test_the_threshold_decides_the_bound(n: int, dim: int, s02: object) -> None:
    """B(t) -> -oo iff D < D* (checked numerically far out in t), as the derivation proves."""
    s02 = sp.Rational(s02.numerator, s02.denominator)
    t = sp.Symbol("t", positive=True)
    bound = sp.lambdify(t, _upper(sp.Integer(n), sp.Integer(dim), s02, 1, 1, t), "mpmath")
    below = dim < fixed_encoder_threshold(n, s02)
    with mpmath.workdps(30):
        far = bound(mpmath.mpf(10) ** 6)
    assert (far < -1e6) == below


def test_fixed_encoder_facts() -> None:
    f = catalog.derive("fixed-encoder-variance").facts
    assert f.decided and f.likelihood_limit == "oo"
    n, s0 = sp.symbols("n s0")
    assert sp.simplify(sp.sympify(f.threshold, locals={"n": n, "s0": s0}) - 4 * s0**2 * (n - 1) / n) == 0
    assert f.cap_n2_d1 == pytest.approx(float(constructions.get("fixed_encoder_d1").cap()), rel=1e-15)
