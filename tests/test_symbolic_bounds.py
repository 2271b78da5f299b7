"""Tests of the caps and decoder-variance equivalences: vaeproofs.symbolic.floor_cap,
.bernoulli_cap, .fixed_variance_beta and .shared_variance.

Each derived expression is lambdified and compared in float64 with scipy.stats
densities at random points (hypothesis, derandomised in CI); symbolic facts are
cross-checked against numeric evidence computed here.
"""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st
from scipy import optimize, stats

from vaeproofs.errors import InvalidArgumentError
from vaeproofs.symbolic.bernoulli_cap import derive_bernoulli_cap
from vaeproofs.symbolic.fixed_variance_beta import derive_fixed_variance_beta
from vaeproofs.symbolic.floor_cap import derive_floor_cap, gaussian_floor_cap
from vaeproofs.symbolic.shared_variance import derive_shared_variance

REPO = Path(__file__).resolve().parents[1]
EPS = np.finfo(np.float64).eps


def _syms(expr: sp.Expr) -> dict[str, sp.Symbol]:
    return {s.name: s for s in expr.free_symbols}


@pytest.fixture(scope="module")
def floor():
    return derive_floor_cap()


@pytest.fixture(scope="module")
def bern():
    return derive_bernoulli_cap()


@pytest.fixture(scope="module")
def fixed():
    return derive_fixed_variance_beta()


@pytest.fixture(scope="module")
def shared():
    return derive_shared_variance()


def _random_rotation(rng: np.random.Generator, dim: int) -> np.ndarray:
    q, r = np.linalg.qr(rng.standard_normal((dim, dim)))
    return q * np.sign(np.diag(r))


# ----------------------------------------------------------------------------- floor cap


def test_floor_cap_facts(floor):
    for key in ("argmax_is_mean", "max_is_strict", "max_decreasing_in_variance",
                "softplus_positive", "cap_total_matches_mattei_frellsen",
                "floored_factor_below_cap", "supremum_approached",
                "logdet_is_sum_of_log_eigenvalues"):
        assert getattr(floor.facts, key) is True, key
    assert floor.facts.supremum_attained is False
    assert floor.results.softplus_zero_set == sp.S.EmptySet


@pytest.mark.parametrize(("D", "xi"), [(1, 1.0), (3, 0.01), (64, 1e-4), (100, 0.5)])
def test_floor_cap_equals_scipy_density_at_its_peak(floor, D, xi):
    # The cap is attained by N(mu, xi I) at x = mu: reference value from
    # scipy.stats.multivariate_normal.logpdf.  Tolerance: 50 ulp of the value (a sum of
    # D equal log terms in scipy versus one product in the closed form).
    cap = gaussian_floor_cap(D, xi)
    mu = np.linspace(-1.0, 1.0, D)
    ref = stats.multivariate_normal.logpdf(mu, mean=mu, cov=xi * np.eye(D))
    assert abs(cap - ref) <= 50 * EPS * max(1.0, abs(ref))
    n = _syms(floor.results.cap_per_point)
    sym = float(floor.results.cap_per_point.subs({n["D"]: D, n["xi"]: xi}))
    assert abs(cap - sym) <= 4 * EPS * max(1.0, abs(sym))


@given(seed=st.integers(0, 2**32 - 1), D=st.integers(1, 6),
       log_xi=st.floats(-6.0, 2.0), scale=st.floats(0.0, 3.0))
def test_floored_gaussians_stay_below_cap(seed, D, log_xi, scale):
    rng = np.random.default_rng(seed)
    xi = math.exp(log_xi)
    rho = rng.normal(0.0, 3.0, size=D)
    eig = xi + np.logaddexp(0.0, rho)          # xi + softplus(rho) > xi
    rot = _random_rotation(rng, D)
    cov = rot @ np.diag(eig) @ rot.T
    cov = (cov + cov.T) / 2
    mu = rng.normal(size=D)
    x = mu + scale * rng.normal(size=D)
    cap = gaussian_floor_cap(D, xi)
    full = stats.multivariate_normal.logpdf(x, mean=mu, cov=cov)
    diag = float(np.sum(stats.norm.logpdf(x, mu, np.sqrt(eig))))
    # Strictly below the cap in exact arithmetic; allow 50 ulp of round-off in scipy's
    # log-determinant (eigen-decomposition) before calling it a violation.
    slack = 50 * EPS * max(1.0, abs(cap))
    assert full <= cap + slack
    assert diag <= cap + slack


def test_floored_supremum_approached_not_attained(floor):
    # softplus(rho) -> 0 only as rho -> -oo: the per-factor maximum at x = mu climbs to
    # the cap and stays below it (reference density: scipy.stats.norm.logpdf).
    xi = 0.1
    cap = gaussian_floor_cap(1, xi)
    vals = [stats.norm.logpdf(0.0, 0.0, math.sqrt(xi + np.logaddexp(0.0, r)))
            for r in (-1.0, -10.0, -30.0)]
    assert vals[0] < vals[1] < vals[2] <= cap
    assert cap - vals[2] < 1e-12  # softplus(-30)/(2 xi) ~ 5e-13


@pytest.mark.parametrize(("kwargs", "arg"), [
    ({"D": 0, "xi": 1.0}, "D"), ({"D": -3, "xi": 1.0}, "D"), ({"D": 1.5, "xi": 1.0}, "D"),
    ({"D": True, "xi": 1.0}, "D"), ({"D": 2, "xi": 0.0}, "xi"), ({"D": 2, "xi": -1.0}, "xi"),
    ({"D": 2, "xi": float("nan")}, "xi"), ({"D": 2, "xi": float("inf")}, "xi"),
])
def test_floor_cap_rejects_bad_arguments(kwargs, arg):
    with pytest.raises(InvalidArgumentError) as info:
        gaussian_floor_cap(**kwargs)
    assert info.value.argument == arg


# ----------------------------------------------------------------------------- Bernoulli


@given(p=st.floats(1e-6, 1 - 1e-6), x=st.integers(0, 1))
def test_bernoulli_log_pmf_matches_scipy_and_is_negative(bern, p, x):
    expr = bern.results.log_pmf
    n = _syms(expr)
    got = float(expr.subs({n["x"]: x, n["pi"]: p}).evalf(30))
    ref = stats.bernoulli.logpmf(x, p)
    # Evaluated by sympy at 30 digits, so the only float64 error is scipy's: rounding of
    # 1 - p (<= eps/2 absolute in the log) plus one ulp of the log: 4 eps absolute.
    assert abs(got - ref) <= 4 * EPS * max(1.0, abs(ref))
    assert ref < 0 and got < 0


def test_bernoulli_facts(bern):
    assert bern.facts.log_pmf_x1_negative is True
    assert bern.facts.log_pmf_x0_negative is True
    assert bern.facts.supremum == 0
    assert bern.facts.supremum_attained is False
    # The logit forms equal scipy's log pmf at sigmoid(t) (exact check at t = 0.7 with
    # mpmath-backed evalf, reference scipy.stats.bernoulli).
    t = next(iter(bern.results.log_pmf_x1.free_symbols))
    p = 1 / (1 + math.exp(-0.7))
    assert float(bern.results.log_pmf_x1.subs(t, 0.7)) == pytest.approx(
        stats.bernoulli.logpmf(1, p), abs=4 * EPS)
    assert float(bern.results.log_pmf_x0.subs(t, 0.7)) == pytest.approx(
        stats.bernoulli.logpmf(0, p), abs=4 * EPS)


# --------------------------------------------------------------------- fixed variance, beta


def test_fixed_variance_facts(fixed):
    s0 = sp.Symbol("s_0", positive=True)
    # Reference: docs/theory.md section 2, remedy.fixed-variance-is-beta-vae: beta = 2 s0^2.
    assert sp.simplify(fixed.facts.beta - 2 * s0**2) == 0
    # The derivation computes the same comparison itself, so the claims layer only reads it.
    assert fixed.facts.beta_equals_two_s0_squared is True
    assert fixed.facts.concrete_D_matches is True
    assert fixed.facts.constant_free_of_model is True
    assert fixed.facts.constant_matches is True
    assert fixed.facts.s0_squared_for_plain_squared_error == sp.Rational(1, 2)
    assert fixed.facts.beta_identity_covariance == 2
    assert fixed.facts.squared_error_weight_identity_covariance == sp.Rational(1, 2)
    assert fixed.facts.identity_covariance_is_plain_squared_error is False


@given(seed=st.integers(0, 2**32 - 1), D=st.integers(1, 8), log_s0=st.floats(-3.0, 2.0))
def test_fixed_variance_neg_loglik_matches_scipy(fixed, seed, D, log_s0):
    rng = np.random.default_rng(seed)
    s0 = math.exp(log_s0)
    x, mu = rng.normal(size=D), rng.normal(size=D)
    neg = fixed.results.neg_elbo
    n = _syms(neg)
    f = sp.lambdify((n["R"], n["KL"], n["D"], n["s_0"]), neg, modules="math")
    r2 = float(np.sum((x - mu) ** 2))
    got = f(r2, 0.0, D, s0)  # KL = 0: the decoder term alone
    ref = -float(np.sum(stats.norm.logpdf(x, mu, s0)))
    # 50 ulp of the largest term: a sum of D float64 terms either way.
    scale = max(1.0, abs(ref), r2 / (2 * s0 * s0), D * abs(math.log(2 * math.pi * s0 * s0)))
    assert abs(got - ref) <= 50 * EPS * scale


def test_fixed_variance_beta_numeric_ratio(fixed):
    # The KL-to-squared-error weight ratio of -ELBO, read off numerically by unit
    # increments (the objective is affine in R and KL), equals the beta fact.
    neg = fixed.results.neg_elbo
    n = _syms(neg)
    f = sp.lambdify((n["R"], n["KL"], n["D"], n["s_0"]), neg, modules="math")
    for s0 in (0.3, 1 / math.sqrt(2), 1.0, 2.5):
        w_r = f(2.0, 1.0, 5, s0) - f(1.0, 1.0, 5, s0)
        w_kl = f(1.0, 2.0, 5, s0) - f(1.0, 1.0, 5, s0)
        beta = float(fixed.facts.beta.subs(n["s_0"], s0))
        assert w_kl / w_r == pytest.approx(beta, rel=1e-12)
    # s0^2 = 1/2 gives equal weights ("plain squared error + KL").
    s0 = math.sqrt(float(fixed.facts.s0_squared_for_plain_squared_error))
    assert f(2.0, 1.0, 5, s0) - f(1.0, 1.0, 5, s0) == pytest.approx(1.0, rel=1e-12)


# ----------------------------------------------------------------------------- shared variance


def test_shared_variance_facts(shared):
    for key in ("unique_critical_point", "gamma_star_matches_theory", "is_maximum",
                "global_maximum", "profiled_matches_theory",
                "profiled_unbounded_when_residual_can_vanish"):
        assert getattr(shared.facts, key) is True, key
    assert shared.facts.profiled_sup_as_residual_to_0 == "+oo"


@pytest.mark.parametrize(("n_pts", "D", "resid"), [(1, 1, 0.3), (5, 4, 12.0), (50, 64, 1e-3)])
def test_shared_variance_numeric_optimum(shared, n_pts, D, resid):
    elbo = shared.results.elbo
    sy = _syms(elbo)
    f = sp.lambdify((sy["gamma"], sy["R"], sy["n"], sy["D"], sy["K"]), elbo, modules="math")
    res = optimize.minimize_scalar(lambda lg: -f(math.exp(lg), resid, n_pts, D, 0.0),
                                   bounds=(-30.0, 30.0), method="bounded",
                                   options={"xatol": 1e-10})
    gstar = float(shared.results.gamma_star.subs({sy["R"]: resid, sy["n"]: n_pts,
                                                     sy["D"]: D}))
    # Optimiser bracket 1e-10 in log gamma; the flat top resolves log gamma to ~1e-7.
    assert res.x == pytest.approx(math.log(gstar), abs=1e-6)
    prof = float(shared.results.profiled.subs({sy["R"]: resid, sy["n"]: n_pts,
                                                  sy["D"]: D, sy["K"]: 0}))
    assert -res.fun == pytest.approx(prof, rel=1e-12, abs=1e-12)


@given(seed=st.integers(0, 2**32 - 1), n_pts=st.integers(1, 5), D=st.integers(1, 6),
       log_gamma=st.floats(-5.0, 3.0))
def test_shared_variance_elbo_matches_scipy(shared, seed, n_pts, D, log_gamma):
    # Decoder term of the ELBO for a point-mass q (deterministic mu): the sum of
    # scipy.stats.norm.logpdf over n points and D pixels.
    rng = np.random.default_rng(seed)
    x, mu = rng.normal(size=(n_pts, D)), rng.normal(size=(n_pts, D))
    gamma = math.exp(log_gamma)
    elbo = shared.results.elbo
    sy = _syms(elbo)
    f = sp.lambdify((sy["gamma"], sy["R"], sy["n"], sy["D"], sy["K"]), elbo, modules="math")
    r = float(np.sum((x - mu) ** 2))
    got = f(gamma, r, n_pts, D, 0.0)
    ref = float(np.sum(stats.norm.logpdf(x, mu, math.sqrt(gamma))))
    # 50 ulp of the largest term: sums of n*D float64 terms.
    scale = max(1.0, abs(ref), r / (2 * gamma),
                n_pts * D * abs(math.log(2 * math.pi * gamma)))
    assert abs(got - ref) <= 50 * EPS * scale


def test_profiled_objective_diverges_as_residual_vanishes(shared):
    prof = shared.results.profiled
    sy = _syms(prof)
    f = sp.lambdify((sy["R"], sy["n"], sy["D"], sy["K"]), prof, modules="math")
    vals = [f(r, 3, 4, 0.0) for r in (1.0, 1e-5, 1e-10)]
    assert vals[0] < vals[1] < vals[2]
    rate = float(shared.results.rate_in_log_residual.subs({sy["n"]: 3, sy["D"]: 4}))
    # Exactly affine in log R: the increment per decade is -rate * log(10) (tolerance:
    # 64 ulp of the values differenced).
    step = (vals[2] - vals[1]) / math.log(1e-5)
    assert step == pytest.approx(rate, abs=64 * EPS * abs(vals[2]) / math.log(1e5))


# ----------------------------------------------------------------------------- constants


@pytest.mark.slow
def test_shared_constants_match_the_sympy_derivation_and_the_heads_registry() -> None:
    """vaeproofs.constants holds the one float cap and family list; both agree with their sources."""

    from vaeproofs import constants

    for dim, xi in [(1, 0.5), (64, 1e-3), (7, 3.0), (100, 1e-12)]:
        expected = gaussian_floor_cap(dim, xi)  # lambdified from derive_floor_cap's expression
        # Two float64 evaluations of -(D/2)(log 2pi + log xi): each rounds a few times, so they
        # differ by at most a few ulps of the largest term.
        scale = 0.5 * dim * (constants.LOG_2PI + abs(math.log(xi)))
        assert abs(constants.gaussian_floor_cap(dim, xi) - expected) <= 8 * sys.float_info.epsilon * scale
    # libm log is faithfully rounded: within one ulp of the correctly rounded value.
    exact = float(sp.log(2 * sp.pi).evalf(30))
    assert abs(constants.LOG_2PI - exact) <= math.ulp(exact)
    heads = subprocess.run(
        [sys.executable, "-c", "from vaeproofs.numeric.heads import HEADS; print(' '.join(HEADS))"],
        capture_output=True, text=True, check=True).stdout.split()
    assert sorted(heads) == sorted(constants.DECODER_FAMILIES)
