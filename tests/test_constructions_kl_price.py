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


# ------------------------------------------------------------- single-point collapse ---
def test_single_point_objective_against_a_direct_sum() -> None:
    """The closed form, written out: masses from mpmath's ncdf, KL of each Gaussian."""
    c = constructions.get("single_point_collapse")
    pts = [[mpmath.mpf(v) for v in row] for row in c.array]
    for eps in ("1e-3", "1e-40"):
        with mpmath.workdps(40):
            u = -mpmath.log(mpmath.mpf(eps))
            s2 = mpmath.mpf(1) / (2 * u)
            total = mpmath.mpf(0)
            for i, x in enumerate(pts):
                d2 = sum((a - b) ** 2 for a, b in zip(x, pts[0], strict=True))
                mean, var = (0, 1) if i == 0 else (1, s2)
                q = mpmath.ncdf(-mean / mpmath.sqrt(var))
                total += (-mpmath.log(2 * mpmath.pi) + q * (u - d2 * mpmath.exp(u) / 2)
                          - (1 - q) * d2 / 2 - (mean**2 + var - 1 - mpmath.log(var)) / 2)
            assert abs(c.objective(eps, dps=30) - total) < mpmath.mpf(10) ** -25 * abs(total)


def test_single_point_rates() -> None:
    free, floor = constructions.get("single_point_collapse"), constructions.get("single_point_floor_encoder")
    u = sp.log(1 / EPS)
    assert sp.simplify(free.symbolic_rate() - (u / 2 - sp.log(u))) == 0   # D q_1(A)/2 = 1/2, n - 1 = 2
    coefficient = sp.limit(floor.symbolic_rate() / u, EPS, 0, "+")
    assert abs(float(coefficient) - (1 - float(sp.erfc(sp.sqrt(2))) / 2 - 2 / 3)) < 1e-15
    assert not free.bounded() and not floor.bounded()
    # the remainder bound holds: |objective - asymptote| <= bound, far along the sequence
    for c in (free, floor):
        for t in ("1e-50", "1e-500"):
            gap = abs(c.objective(t, dps=40) - c.asymptote(t, dps=40))
            assert gap <= c.remainder_bound(t)


@pytest.fixture(scope="module")
def single_point() -> object:
    return catalog.derive("single-point-collapse")


@settings(max_examples=10)
@given(st.floats(min_value=3.0, max_value=2000.0))
def test_derived_point_term_equals_the_construction(single_point: object, u: float) -> None:
    """The derivation's per-point expression, summed with the construction's masses and KLs,
    is the construction's mpmath objective (the symbolic and the mpmath sides tied)."""
    c = constructions.get("single_point_collapse")
    term = single_point.results.point_term
    syms = {s.name: s for s in term.free_symbols}
    total = sp.Integer(0)
    for i, (q, m, v) in enumerate(zip(c.masses(), c.encoder_means(), c.encoder_variances(),
                                      strict=True)):
        total += term.subs({syms["D"]: c.dim, syms["d2"]: c.sq_dist(i), syms["q"]: q,
                            syms["u"]: sp.Symbol("u", positive=True)}) - (m**2 + v - 1 - sp.log(v)) / 2
    u_sym = next(s for s in total.free_symbols if s.name == "u")
    with mpmath.workdps(40):
        symbolic = sp.lambdify(u_sym, total, modules="mpmath")(mpmath.mpf(u))
        exact = c.objective(mpmath.exp(-mpmath.mpf(u)), dps=30)
        assert abs(symbolic - exact) <= mpmath.mpf(10) ** -25 * (1 + abs(exact))


def test_single_point_facts(single_point: object) -> None:
    f = single_point.facts
    assert f.unbounded_at_the_stated_price and f.fixed_encoders_limit == "-oo"
    assert f.least_kl_at_ratio == "log(t**2 + 1)/2" and f.collapsing_point_price_rate == "1/2"
    n, s = sp.symbols("n s")
    assert sp.simplify(sp.sympify(f.fixed_variance_threshold, locals={"n": n, "s": s})
                       - 2 * s**2 * (n - 1) / n) == 0
