"""Divergence, rates and caps of the explicit constructions (mpmath and sympy side)."""

from __future__ import annotations

import itertools

import mpmath
import pytest
import sympy as sp

from vaeproofs.constructions import all_constructions, get, names
from vaeproofs.constructions.base import U
from vaeproofs.errors import InvalidArgumentError

DIVERGENT = ["exact_likelihood", "memorising_elbo", "degenerate_linear", "manifold",
             "student_t_elbo"]
BOUNDED = ["floored_exact_likelihood", "floored_elbo", "bernoulli_elbo"]
# Beyond the thread (tested in test_constructions_beyond.py): the continuous Bernoulli
# diverges only like log log(1/eps), so no bound of 1e3 is reached at a representable eps.
BEYOND_DIVERGENT = ["gmm_likelihood", "static_dequantisation_elbo", "continuous_bernoulli_elbo",
                    "half_space_elbo"]
BEYOND_BOUNDED = ["fresh_dequantisation_elbo", "softclip_likelihood",
                  "floored_student_t_likelihood", "gaussian_nll_eps"]
# The KL's price (tested in test_constructions_kl_price.py).
KL_PRICE_DIVERGENT = ["population_beta_half", "fixed_encoder_d2", "fixed_encoder_d3",
                      "single_point_collapse", "single_point_floor_encoder"]
KL_PRICE_BOUNDED = ["population_beta_one", "fixed_encoder_d1"]
# Rounding of a 30-digit evaluation of a value of size <= 1e4 (values reach ~7e3).
ROUND = mpmath.mpf("1e-24")


def test_registry_names_are_unique_and_complete() -> None:
    assert sorted(names()) == sorted(DIVERGENT + BOUNDED + BEYOND_DIVERGENT + BEYOND_BOUNDED
                                     + KL_PRICE_DIVERGENT + KL_PRICE_BOUNDED)
    assert [get(n).bounded() for n in BEYOND_DIVERGENT + BEYOND_BOUNDED] == [
        False] * len(BEYOND_DIVERGENT) + [True] * len(BEYOND_BOUNDED)
    assert [get(n).bounded() for n in KL_PRICE_DIVERGENT + KL_PRICE_BOUNDED] == [
        False] * len(KL_PRICE_DIVERGENT) + [True] * len(KL_PRICE_BOUNDED)
    assert len(set(names())) == len(all_constructions())
    with pytest.raises(InvalidArgumentError, match="name"):
        get("no_such_construction")


@pytest.mark.slow
@pytest.mark.parametrize("name", DIVERGENT)
def test_divergent_verdict_and_strict_growth(name: str) -> None:
    c = get(name)
    assert c.bounded() is False
    assert c.limit() == sp.oo
    vals = [c.objective(t) for t in c.default_values()]
    assert all(b > a for a, b in itertools.pairwise(vals)), vals


@pytest.mark.parametrize("name", DIVERGENT)
@pytest.mark.parametrize("bound", [1e3, 2e4])
def test_exceeds_any_given_bound(name: str, bound: float) -> None:
    # The parameter is predicted from the sympy asymptote; the exact objective confirms it.
    c = get(name)
    t = c.parameter_exceeding(bound)
    assert c.objective(t) > bound


@pytest.mark.parametrize("name", ["memorising_elbo", "degenerate_linear", "manifold"])
def test_objective_within_proven_remainder_of_asymptote(name: str) -> None:
    # remainder_bound is a proven bound (Mills ratio / Taylor), so this is exact up to
    # the rounding of a 30-digit evaluation.
    c = get(name)
    for t in c.default_values():
        gap = abs(c.objective(t) - c.asymptote(t))
        assert gap <= c.remainder_bound(t) + ROUND, (t, gap)


def test_remainder_bound_is_not_vacuous() -> None:
    # The Mills-ratio bound decays like 1/sqrt(log(1/eps)): from u = 2302.6 (1e-1000)
    # to u = 1e6 it shrinks by sqrt(1e6 / 2302.6) = 20.8 > 20.  The manifold bound is O(gamma).
    c = get("memorising_elbo")
    bounds = [c.remainder_bound(t) for t in c.default_values()]
    assert all(b2 < b1 for b1, b2 in itertools.pairwise(bounds))
    assert c.remainder_bound(mpmath.exp(-10**6)) < bounds[-1] / 20
    assert get("manifold").remainder_bound("1e-1000") < mpmath.mpf("1e-999")


@pytest.mark.slow
def test_exact_likelihood_rate_is_d_alpha() -> None:
    # No proven remainder bound here: the gap to the sympy asymptote must shrink
    # monotonically, and the slope between the last two alphas equals D = 2 within the
    # two gaps divided by the alpha step (what a shrinking o(1) term allows).
    c = get("exact_likelihood")
    alphas = [a for a in c.default_values() if a >= 10]
    gaps = [abs(c.objective(a) - c.asymptote(a)) for a in alphas]
    assert all(g2 < g1 for g1, g2 in itertools.pairwise(gaps)), gaps
    a1, a2 = alphas[-2], alphas[-1]
    slope = (c.objective(a2) - c.objective(a1)) / (a2 - a1)
    assert abs(slope - c.dim) <= (gaps[-1] + gaps[-2]) / (a2 - a1)
    assert sp.simplify(c.symbolic_rate() - c.dim * sp.Symbol("alpha", positive=True)) == 0


def test_degenerate_linear_matches_tipping_bishop_closed_form() -> None:
    # Tipping & Bishop 1999, maximised pPCA likelihood with sigma^2 free and r = k:
    # -(n/2)[D log 2 pi + sum log l_j + (D - r) log sigma^2 + r]  (docs/theory.md section 3).
    c = get("degenerate_linear")
    s2 = sp.Symbol("s2", positive=True)
    expected = -sp.Rational(c.n, 2) * (c.dim * sp.log(2 * sp.pi) + sum(
        sp.log(lv) for lv in c.eigenvalues) + (c.dim - c.r) * sp.log(s2) + c.r)
    assert sp.simplify(sp.expand_log(c.elbo_expression(s2) - expected, force=True)) == 0
    eps = sp.Symbol("epsilon", positive=True)
    slope = sp.diff(c.symbolic_rate(), eps) * (-eps)   # d/d log(1/eps)
    assert sp.simplify(slope - sp.Rational(c.n * (c.dim - c.r), 2)) == 0


def test_manifold_rate_is_half_codimension() -> None:
    c = get("manifold")
    eps = sp.Symbol("epsilon", positive=True)
    slope = sp.simplify(sp.diff(c.symbolic_rate(), eps) * (-eps))
    assert slope == sp.Rational(c.dim - c.manifold_dim, 2)


def test_manifold_expm1_path_matches_sympy_expression() -> None:
    # _objective uses expm1; the sympy expression uses 1 - exp.  At 80 digits the
    # cancellation in 1 - exp(-s^2/2) at gamma = 1e-20 costs ~20 digits, leaving ~60.
    c = get("manifold")
    f = sp.lambdify(U, c._symbolic_objective_u(), modules="mpmath")
    with mpmath.workdps(80):
        for t in ("0.1", "1e-20"):
            a = c.objective(t, dps=50)
            b = f(-mpmath.log(mpmath.mpf(t)))
            assert abs(a - b) <= mpmath.mpf("1e-45") * abs(b)


@pytest.mark.parametrize("name", ["memorising_elbo", "student_t_elbo", "bernoulli_elbo"])
def test_cell_kl_grows_like_half_log_log(name: str) -> None:
    # The only log log term of the rate is the KL's -(n/2) log log(1/eps).
    c = get(name)
    eps = sp.Symbol("epsilon", positive=True)
    loglog = sp.log(sp.log(1 / eps))
    assert sp.simplify(c.symbolic_rate().coeff(loglog) + sp.Rational(c.n, 2)) == 0


@pytest.mark.slow
@pytest.mark.parametrize("name", BOUNDED)
def test_bounded_ones_stay_under_their_cap(name: str) -> None:
    c = get(name)
    assert c.bounded() is True
    cap = c.cap()
    assert cap is not None
    values = [c.objective(t) for t in c.default_values()]
    assert all(v < cap for v in values), (values, cap)


def test_floored_likelihood_converges_below_cap() -> None:
    # The sympy limit is strictly below the cap: the cap is not attained.
    c = get("floored_exact_likelihood")
    assert sp.N(c.cap_gap()) > 0
    lim = mpmath.mpf(sp.N(c.limit(), 30))
    gaps = [abs(c.objective(a) - lim) for a in c.default_values()[-3:]]
    assert all(g2 < g1 for g1, g2 in itertools.pairwise(gaps)), gaps


@pytest.mark.parametrize("name", ["floored_elbo", "bernoulli_elbo"])
def test_cell_counterparts_peak_at_finite_epsilon(name: str) -> None:
    # Reconstruction capped, KL growing: the sequence's supremum is attained in the
    # interior (the maximum is not at the end of the sequence) and the limit is -oo.
    c = get(name)
    assert c.limit() == -sp.oo
    vals = [c.objective(t) for t in c.default_values()]
    assert max(vals) > vals[-1]


def test_student_t_has_no_cap_and_diverges() -> None:
    c = get("student_t_elbo")
    assert c.symbolic_cap() is None
    assert c.bounded() is False
    assert c.objective("1e-1000") > 6000


def test_correct_digits_and_precision_restored() -> None:
    c = get("memorising_elbo")
    before = mpmath.mp.dps
    assert c.correct_digits("1e-1000", dps=40) >= 35
    assert mpmath.mp.dps == before
    ex = get("exact_likelihood")
    assert ex.correct_digits(1000, dps=20) >= 18
    assert mpmath.mp.dps == before


@pytest.mark.parametrize(("name", "value", "argument"), [
    ("memorising_elbo", 2, "epsilon"),
    ("memorising_elbo", 0, "epsilon"),
    ("memorising_elbo", "nan", "epsilon"),
    ("exact_likelihood", 0.5, "alpha"),
    ("degenerate_linear", 1.0, "epsilon"),   # must be < the smallest eigenvalue 1
])
def test_bad_parameter_names_argument(name: str, value: object, argument: str) -> None:
    with pytest.raises(InvalidArgumentError, match=rf"^{argument}:"):
        get(name).objective(value)


def test_bad_dps_and_constructor_arguments() -> None:
    from vaeproofs.constructions.bernoulli import BernoulliElbo
    from vaeproofs.constructions.exact_likelihood import ExactLikelihood
    from vaeproofs.constructions.floored import FlooredExactLikelihood
    from vaeproofs.constructions.memorising_elbo import MemorisingElbo
    from vaeproofs.constructions.student_t import StudentTElbo

    with pytest.raises(InvalidArgumentError, match=r"^dps:"):
        get("manifold").objective("0.1", dps=5)
    with pytest.raises(InvalidArgumentError, match=r"^points:"):
        MemorisingElbo([[0.0, 1.0], [0.0, 1.0]])
    with pytest.raises(InvalidArgumentError, match=r"^points:"):
        MemorisingElbo([[0.0, 1.0]])
    with pytest.raises(InvalidArgumentError, match=r"^half_width:"):
        MemorisingElbo(half_width=0)
    with pytest.raises(InvalidArgumentError, match=r"^floor:"):
        ExactLikelihood(floor=-1)
    with pytest.raises(InvalidArgumentError, match=r"^floor:"):
        FlooredExactLikelihood(floor=0)
    with pytest.raises(InvalidArgumentError, match=r"^nu:"):
        StudentTElbo(nu=0)
    with pytest.raises(InvalidArgumentError, match=r"^points:"):
        BernoulliElbo([[0, 2], [1, 0]])
