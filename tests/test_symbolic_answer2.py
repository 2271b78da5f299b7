"""Tests of the answer-2 derivations (vaeproofs.symbolic.answer2, .answer2_learnable_mean).

Symbolic identities are checked exactly (a difference simplifies to 0); numeric ones in
float64 against an independent evaluation: scipy.integrate.quad of the defining
expectation with the normal log-density written out in float64 (:func:`_norm_logpdf`,
checked against scipy.stats.norm; 100x faster inside quad than scipy's frozen
distributions), and scipy.optimize for the maximisers.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st
from scipy import integrate, optimize, stats

from vaeproofs.errors import InvalidArgumentError
from vaeproofs.symbolic.answer2 import answer2_elbo, answer2_elbo_grid, derive_answer2
from vaeproofs.symbolic.answer2_learnable_mean import derive_answer2_learnable_mean

EPS = np.finfo(np.float64).eps


@pytest.fixture(scope="module")
def d2():
    return derive_answer2()


@pytest.fixture(scope="module")
def dl():
    return derive_answer2_learnable_mean()


def _syms(expr: sp.Expr) -> dict[str, sp.Symbol]:
    return {s.name: s for s in expr.free_symbols}


_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)


def _norm_logpdf(x: float, mean: float, sd: float) -> float:
    """log N(x | mean, sd^2) in float64, natural log, ``sd`` a standard deviation."""
    return -0.5 * ((x - mean) / sd) ** 2 - math.log(sd) - _LOG_SQRT_2PI


def _quad_elbo(s: float, tau: float, a: float = 1.0) -> tuple[float, float]:
    """ELBO(s, tau) for x = 0, q = N(0, s^2), p(x|z) = N(a z, 1/tau), by quadrature.

    Returns (value, error estimate): E_q[log p(0|z)] and KL(q || N(0,1)) are each one
    quad over the real line of the normal densities written out (independent of sympy).
    """
    sd = 1.0 / math.sqrt(tau)
    elog, e1 = integrate.quad(lambda z: math.exp(_norm_logpdf(z, 0.0, s))
                              * _norm_logpdf(0.0, a * z, sd),
                              -np.inf, np.inf, epsabs=1e-13, epsrel=1e-13)
    kl, e2 = integrate.quad(lambda z: math.exp(_norm_logpdf(z, 0.0, s))
                            * (_norm_logpdf(z, 0.0, s) - _norm_logpdf(z, 0.0, 1.0)),
                            -np.inf, np.inf, epsabs=1e-13, epsrel=1e-13)
    return elog - kl, e1 + e2


def test_written_out_density_is_scipys() -> None:
    # The reference density of the quadratures is scipy's normal, to a few ulp.
    for x, mean, sd in [(0.0, 0.0, 1.0), (1.5, -0.3, 0.05), (-40.0, 2.0, 10.0), (3.0, 3.0, 1e-3)]:
        ref = stats.norm.logpdf(x, mean, sd)
        assert abs(_norm_logpdf(x, mean, sd) - ref) <= 4 * EPS * max(1.0, abs(ref))


# ----------------------------------------------------------------------------- symbolic


def test_elbo_matches_textbook_form(d2):
    # Reference: docs/theory.md section 3 with D = k = 1, x = 0, W = 1, b = 0, sigma^2 = 1/tau,
    # m = 0, S = s^2; KL from Kingma & Welling appendix B.
    n = _syms(d2.results.elbo)
    s, tau = n["s"], n["tau"]
    textbook = (-sp.log(2 * sp.pi / tau) / 2 - tau * s**2 / 2
                - (s**2 - 1 - sp.log(s**2)) / 2)
    assert sp.simplify(sp.expand_log(d2.results.elbo - textbook, force=True)) == 0


def test_critical_point_is_stationary_and_maximum(d2):
    elbo, s_star = d2.results.elbo, d2.results.s_star
    n = _syms(elbo)
    s = n["s"]
    assert sp.simplify(sp.diff(elbo, s).subs(s, s_star)) == 0
    assert sp.simplify(sp.diff(elbo, s, 2).subs(s, s_star)
                       - d2.results.second_derivative_at_s_star) == 0
    assert d2.facts.critical_point_is_maximum is True


def test_answer_rewrite_and_stated_point(d2):
    # The answer's second line has its stated s* as a stationary point (so the answer's
    # calculus is right given its second line), but the second line differs from the
    # first by -2 log s (the slip -log(1/s) -> -log s).
    line2 = d2.results.answer.objective_rewritten
    n = _syms(line2)
    s, lam = n["s"], n["lambda"]
    assert sp.simplify(sp.diff(line2, s).subs(s, d2.results.answer.s_star)) == 0
    assert sp.simplify(d2.results.answer.rewrite_difference + 2 * sp.log(s)) == 0
    assert d2.facts.answer_rewrite_consistent is False
    # The stated s* is real exactly for lambda > 1/2 (answer's condition).
    assert d2.results.answer.s_star.subs(lam, 1).is_real
    assert d2.facts.answer_objective_critical_condition == str(lam < sp.Rational(1, 2))


def test_agreement_precision_solves_the_equation(d2):
    # At tau = 2/(2c - 1) (c > 1/2) the derived s* equals the answer's formula with
    # lambda = c tau; elsewhere it does not (checked at c = 1: tau = 2 agrees, tau = 3
    # does not, values from the two closed forms).
    s_star, ans = d2.results.s_star, d2.results.answer.s_star
    n = {**_syms(s_star), **_syms(ans)}
    tau, lam = n["tau"], n["lambda"]
    (t_agree,) = d2.results.answer.agreement_precisions
    c = next(iter(t_agree.free_symbols))
    for cval in (sp.Rational(3, 4), sp.Integer(1), sp.Integer(5)):
        tv = t_agree.subs(c, cval)
        assert sp.simplify(s_star.subs(tau, tv) - ans.subs(lam, cval * tv)) == 0
    assert sp.simplify(s_star.subs(tau, 3) - ans.subs(lam, 3)) != 0
    (l_agree,) = d2.results.answer.agreement_lambdas
    assert sp.simplify(l_agree - c * t_agree) == 0
    # With the implied c (lambda = c tau matching the derived s^2 term), 2 lambda' < 0
    # for every tau > 0, so the answer's formula is never real there.
    c_imp = d2.results.answer.implied_proportionality_constant
    for tv in (sp.Rational(1, 10), sp.Integer(1), sp.Integer(50)):
        assert 2 * (c_imp * tv - sp.Rational(1, 2)) < 0
    assert d2.facts.critical_point_matches_answer_with_implied_c_anywhere is False


def test_learnable_mean_identity_case_and_tightness(dl):
    assert dl.facts.identity_case_recovered is True
    assert dl.facts.elbo_tight_at_optimum is True
    n = _syms(dl.results.profiled_at_best_a)
    tau = n["tau"]
    # Reference: log N(0 | 0, 1/tau) = log(tau / (2 pi)) / 2 (the a = 0 decoder's density).
    assert sp.simplify(sp.expand_log(dl.results.profiled_at_best_a
                                     - sp.log(tau / (2 * sp.pi)) / 2, force=True)) == 0


# ------------------------------------------------------------ numeric: quad and optimise


@given(s=st.floats(0.05, 5.0), tau=st.floats(0.01, 100.0))
def test_elbo_matches_quadrature(s, tau):
    got = answer2_elbo(s, tau)
    ref, err = _quad_elbo(s, tau)
    # Tolerance: quad's own error estimate (x10 safety, it is an estimate, not a bound)
    # plus 64 ulp of the largest term (~tau s^2, |log tau|, |log s|) for the lambdified
    # sum of a handful of float64 terms.
    scale = max(1.0, abs(ref), tau * s * s, abs(math.log(tau)), abs(math.log(s)))
    assert abs(got - ref) <= 10 * err + 64 * EPS * scale


@pytest.mark.parametrize("tau", [0.1, 0.5, 1.0, 3.0, 40.0])
def test_numeric_argmax_is_derived_critical_point_not_answer(d2, tau):
    res = optimize.minimize_scalar(lambda s: -answer2_elbo(s, tau), bounds=(1e-4, 10.0),
                                   method="bounded", options={"xatol": 1e-10})
    n = _syms(d2.results.s_star)
    derived = float(d2.results.s_star.subs(n["tau"], tau))
    # xatol 1e-10 is the optimiser's bracket width; 1e-7 allows for the flat top (the
    # objective is quadratic near the maximum, so s is resolved to ~sqrt(eps) ~ 1e-8).
    assert res.x == pytest.approx(derived, abs=1e-7)
    # The answer's formula with lambda = tau (c = 1) exists only for tau > 1/2 and then
    # differs from the numeric maximiser except at tau = 2/(2c - 1) = 2.
    if tau > 0.5:
        answer = (2 * (tau - 0.5)) ** -0.5
        assert abs(answer - res.x) > 1e-3
    # The optimised value is the lambdified elbo_at_s_star.
    opt = float(d2.results.elbo_at_s_star.subs(n["tau"], tau))
    assert -res.fun == pytest.approx(opt, abs=1e-12)


def test_facts_agree_with_numeric_evidence(d2):
    # critical point exists (numeric maximiser strictly inside (0, oo)) even for tau
    # well below the answer's lambda > 1/2 regime.
    for tau in (1e-3, 0.25):
        res = optimize.minimize_scalar(lambda s, t=tau: -answer2_elbo(s, t),
                                       bounds=(1e-4, 10.0), method="bounded")
        assert 1e-3 < res.x < 9.9
    assert d2.facts.critical_point_exists_for_all_precisions is True
    assert d2.facts.answer_validity_condition_needed is False
    assert d2.facts.critical_point_matches_answer is False
    # Fixed s, tau -> oo: the derived ELBO goes down without bound (decreasing and below
    # -tau s^2 / 2 + log(tau)/2 + 1 for large tau).
    vals = [answer2_elbo(0.3, t) for t in (1e2, 1e4, 1e6, 1e8)]
    assert all(b < a for a, b in itertools.pairwise(vals))
    assert vals[-1] < -1e6
    assert d2.facts.fixed_s_large_precision_limit == "-oo"
    # The answer's objective as written goes UP with lambda at fixed s (the comment).
    obj = d2.results.answer.objective
    n = _syms(obj)
    f = sp.lambdify((n["s"], n["lambda"], n["C"]), obj)
    assert f(0.3, 1e8, 0.0) > f(0.3, 1e4, 0.0) > 1e2
    assert d2.facts.fixed_s_large_precision_limit_answer_objective == "+oo"
    assert d2.facts.comment_objection_holds_for_answer_objective is True
    assert d2.facts.comment_objection_holds_for_derived_elbo is False


def test_sup_over_precision_is_finite_and_approached(d2):
    sup = float(d2.results.sup_over_precision_identity_mean)
    # Reference: the evidence x = 0 under N(0, 1 + 1/tau) tends to log N(0 | 0, 1).
    assert sup == pytest.approx(stats.norm.logpdf(0.0), abs=4 * EPS)
    assert d2.facts.sup_over_precision_finite_identity_mean is True
    assert d2.facts.sup_over_precision_attained is False
    # max over s of the ELBO, numerically, stays below sup and approaches it.
    best = []
    for tau in (1.0, 1e2, 1e4):
        res = optimize.minimize_scalar(lambda s, t=tau: -answer2_elbo(s, t),
                                       bounds=(1e-5, 10.0), method="bounded",
                                       options={"xatol": 1e-12})
        best.append(-res.fun)
    assert all(b < sup for b in best)
    assert best[0] < best[1] < best[2]
    assert sup - best[2] < 1e-4  # log(1 + 1/tau)/2 ~ 5e-5 at tau = 1e4


def test_learnable_mean_unbounded_numerically(dl):
    # a = 0, s = 1: ELBO by quadrature grows by (1/2) log(ratio) per step in tau.
    vals = []
    for tau in (1e2, 1e4, 1e8):
        v, err = _quad_elbo(1.0, tau, a=0.0)
        vals.append(v)
        # Reference: log N(0 | 0, 1/tau) from scipy.stats.norm (tolerance: quad estimate
        # x10 plus 64 ulp of the value).
        ref = stats.norm.logpdf(0.0, 0.0, 1 / math.sqrt(tau))
        assert abs(v - ref) <= 10 * err + 64 * EPS * max(1.0, abs(ref))
    rate = (vals[2] - vals[1]) / math.log(1e4)
    assert rate == pytest.approx(float(dl.results.learnable_mean_rate), abs=1e-9)
    assert dl.facts.learnable_mean_sup_infinite is True
    assert dl.facts.best_a_is_zero is True
    assert dl.facts.kl_at_optimum_zero_at_a_zero is True


# ------------------------------------------------ the two slips corrected (issue A4/A5)


def test_corrected_formula_facts(d2):
    f = d2.facts
    assert f.corrected_lambda_is_half_precision is True
    assert f.sign_corrected_objective_equals_elbo is True
    assert f.minus_log_inverse_is_plus_log is True
    assert f.corrected_lambda_prime_is_lambda_plus_half is True
    assert f.answer_lambda_prime_matches_corrected is False
    assert f.critical_point_matches_corrected_formula is True
    assert f.corrected_formula_needs_no_condition is True
    c = d2.results.corrected
    tau = _syms(d2.results.s_star)["tau"]
    assert sp.simplify(c.lam - tau / 2) == 0
    lam = _syms(c.lambda_prime)["lambda"]
    assert sp.simplify(c.lambda_prime - lam - sp.Rational(1, 2)) == 0


@pytest.mark.parametrize("tau", [0.01, 0.3, 1.0, 7.0, 30.0])
def test_corrected_formula_is_the_numeric_maximiser_for_every_lambda(d2, tau):
    # s* = (2 lambda + 1)^(-1/2) with lambda = tau/2, also for lambda <= 1/2 (tau <= 1),
    # where the answer's (2 lambda - 1)^(-1/2) is not even real.  Reference: scipy's
    # bounded scalar optimiser on the float64 ELBO (tolerance as in the test above).
    res = optimize.minimize_scalar(lambda s: -answer2_elbo(s, tau), bounds=(1e-4, 10.0),
                                   method="bounded", options={"xatol": 1e-10})
    lam_value = float(d2.results.corrected.lam.subs(_syms(d2.results.corrected.lam)["tau"], tau))
    corrected = float(d2.results.corrected.s_star_in_lambda.subs(
        _syms(d2.results.corrected.s_star_in_lambda)["lambda"], lam_value))
    assert res.x == pytest.approx(corrected, abs=1e-7)
    stated = complex(d2.results.answer.s_star.subs(
        _syms(d2.results.answer.s_star)["lambda"], lam_value).evalf())
    assert stated.imag != 0 or abs(stated.real - res.x) > 1e-3


def test_learnable_mean_fixed_slope_uses_abs_a0(dl):
    # sup over tau at a fixed slope a0 is -log|a0| - log(2 pi)/2 for either sign of a0.
    # Reference: log N(0 | 0, a0^2 + 1/tau) at tau = 1e12 (scipy.stats.norm), which is
    # within 1/(2 a0^2 tau) < 1e-10 of the supremum.
    assert dl.facts.fixed_a_sup_is_minus_log_abs_a0 is True
    expr = dl.results.fixed_a_sup_over_precision
    a0 = _syms(expr)["a0"]
    assert expr.has(sp.Abs(a0))
    for value in (-2.0, -0.3, 0.3, 2.0):
        ref = stats.norm.logpdf(0.0, 0.0, math.sqrt(value**2 + 1e-12))
        assert float(expr.subs(a0, value)) == pytest.approx(ref, abs=1e-10)


def test_kl_at_optimum_is_zero_only_at_a_zero(dl):
    # Along a^2 tau = kappa the optimal s is (1 + kappa)^(-1/2) and the KL there is a
    # positive constant: check against scipy's optimiser and a quadrature KL.
    assert dl.facts.kl_at_optimum_zero_at_a_zero is True
    assert dl.facts.kl_at_optimum_positive_along_bounded_a2_tau is True
    expr = dl.results.kl_at_optimum_along_bounded_a2_tau
    kappa = _syms(expr)["kappa"]
    for kv in (0.5, 3.0):
        klv = []
        for tau in (10.0, 1e4):
            a = math.sqrt(kv / tau)
            res = optimize.minimize_scalar(lambda s, a=a, t=tau: -_quad_elbo(s, t, a=a)[0],
                                           bounds=(1e-3, 3.0), method="bounded",
                                           options={"xatol": 1e-9})
            sq = float(res.x)
            kl, _ = integrate.quad(lambda z, sq=sq: math.exp(_norm_logpdf(z, 0.0, sq))
                                   * (_norm_logpdf(z, 0.0, sq) - _norm_logpdf(z, 0.0, 1.0)),
                                   -np.inf, np.inf, epsabs=1e-13, epsrel=1e-13)
            klv.append(kl)
        # The KL is stationary in s at the optimum, so an s error of ~1e-8 moves it by
        # ~1e-16; 1e-7 covers the quadrature and the optimiser's flat top.
        assert klv[0] == pytest.approx(float(expr.subs(kappa, kv)), abs=1e-7)
        assert klv[1] == pytest.approx(klv[0], abs=1e-7)
        assert klv[0] > 1e-3


def test_comment_limit_holds_once_the_mean_is_learnable(dl):
    # a = 0, fixed s = 0.3: the quadrature ELBO grows without bound as tau grows.
    vals = [_quad_elbo(0.3, t, a=0.0)[0] for t in (1e2, 1e6, 1e10)]
    assert vals[0] < vals[1] < vals[2]
    assert vals[2] - vals[1] == pytest.approx(math.log(1e4) / 2, abs=1e-8)
    assert dl.facts.fixed_s_limit_a_zero == "+oo"
    assert dl.facts.comment_objection_holds_with_learnable_mean is True


# ----------------------------------------------------------------------------- grid, errors


def test_grid_matches_pointwise():
    s_vals = np.array([0.1, 0.5, 1.0, 2.0])
    t_vals = np.array([0.2, 1.0, 10.0])
    grid = answer2_elbo_grid(s_vals, t_vals)
    assert grid.shape == (4, 3) and grid.dtype == np.float64
    pointwise = np.array([[answer2_elbo(s, t) for t in t_vals] for s in s_vals])
    # Same lambdified expression on arrays and scalars; numpy's vectorised log may
    # differ from the scalar loop by 1 ulp per log, 3 logs summed: allow 8 ulp.
    np.testing.assert_array_max_ulp(grid, pointwise, maxulp=8)


@pytest.mark.parametrize(("kwargs", "arg"), [
    ({"s": 0.0, "tau": 1.0}, "s"), ({"s": -1.0, "tau": 1.0}, "s"),
    ({"s": float("nan"), "tau": 1.0}, "s"), ({"s": 1.0, "tau": 0.0}, "tau"),
    ({"s": 1.0, "tau": float("inf")}, "tau"), ({"s": 1.0, "tau": "x"}, "tau"),
])
def test_elbo_rejects_bad_arguments(kwargs, arg):
    with pytest.raises(InvalidArgumentError) as info:
        answer2_elbo(**kwargs)
    assert info.value.argument == arg


@pytest.mark.parametrize(("s_values", "tau_values", "arg"), [
    ([[0.1, 0.2]], [1.0], "s_values"), ([0.1, -0.2], [1.0], "s_values"),
    ([0.1], [0.0], "tau_values"), ([0.1], [np.nan], "tau_values"),
    ([0.1], 1.0, "tau_values"),
])
def test_grid_rejects_bad_arguments(s_values, tau_values, arg):
    with pytest.raises(InvalidArgumentError) as info:
        answer2_elbo_grid(s_values, tau_values)
    assert info.value.argument == arg
