"""The remedy heads against references: scipy densities, mpmath closed forms, quadrature.

Every reference is an independent computation (scipy.stats, mpmath at 50 digits, scipy
quadrature); tolerances are stated where they are set.  float64 throughout.
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from scipy import integrate, stats

from vaeproofs.errors import InvalidArgumentError
from vaeproofs.numeric.heads import (
    BetaNLLGaussian,
    ContinuousBernoulli,
    DiscretisedGaussian,
    DiscretisedLogistic,
    FlooredStudentT,
    GaussianNLLEps,
    HeadOptions,
    SoftClipGaussian,
    cap_relative_to_data,
    continuous_bernoulli_log_normaliser,
    continuous_bernoulli_sup_log_density,
    equivalent_variance_floor,
    gaussian_log_density_cap,
    make_head,
    student_t_log_density_cap,
)

D = 7
LEVELS = 17
GRID = np.arange(LEVELS) / (LEVELS - 1)


def _rng() -> np.random.Generator:
    return np.random.default_rng(20261129)


def _t(a: np.ndarray | float) -> torch.Tensor:
    return torch.as_tensor(np.asarray(a, dtype=np.float64))


def _softplus(a: np.ndarray) -> np.ndarray:
    return np.logaddexp(0.0, a)


# -- discretised heads -----------------------------------------------------------------
def _bin_log_mass_mpmath(x: float, mu: float, s: float, cdf) -> float:  # type: ignore[no-untyped-def]
    """log of the CDF difference over x's bin (edges +-inf at the extreme levels), 40 digits."""
    with mpmath.workdps(40):
        h = mpmath.mpf(1) / (2 * (LEVELS - 1))
        xm, m, sm = mpmath.mpf(x), mpmath.mpf(mu), mpmath.mpf(s)
        zu = mpmath.inf if x > 1 - h else (xm + h - m) / sm
        zl = -mpmath.inf if x < h else (xm - h - m) / sm
        if zl > 0:  # upper tail: F(u) - F(l) = F(-l) - F(-u) avoids 1 - 1 at 40 digits
            zu, zl = -zl, -zu
        upper = mpmath.mpf(1) if zu == mpmath.inf else cdf(zu)
        lower = mpmath.mpf(0) if zl == -mpmath.inf else cdf(zl)
        return float(mpmath.log(upper - lower))


def _logistic_cdf(z):  # type: ignore[no-untyped-def]
    return 1 / (1 + mpmath.exp(-z))


@pytest.mark.parametrize(("head", "cdf"), [(DiscretisedGaussian(LEVELS), mpmath.ncdf),
                                          (DiscretisedLogistic(LEVELS), _logistic_cdf)])
def test_discretised_masses_match_mpmath_cdf_differences(head, cdf) -> None:  # type: ignore[no-untyped-def]
    rng = _rng()
    x = rng.choice(GRID, size=(6, D))
    mu = rng.uniform(-0.2, 1.2, size=(6, D))
    log_s = rng.uniform(-6.0, 0.5, size=(6, D))
    s = np.exp(log_s)
    ref = np.array([[_bin_log_mass_mpmath(x[i, j], mu[i, j], s[i, j], cdf) for j in range(D)]
                    for i in range(6)]).sum(-1)
    got = head.log_prob(_t(x), _t(np.concatenate([mu, log_s], -1))).numpy()
    # float64 log-CDFs (accurate to a few ulp in the lower tail) against 40 digits; the
    # log-masses reach -1e5 here, so the tolerance is relative.
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-12)
    assert head.cap(D) == 0.0
    np.testing.assert_allclose(head.variance(_t(np.concatenate([mu, log_s], -1))).numpy(),
                               s**2, rtol=1e-14)


@given(mu=st.floats(-3.0, 4.0), log_s=st.floats(-40.0, 12.0),
       kind=st.sampled_from(["discretised-gaussian", "discretised-logistic"]))
def test_discretised_masses_sum_to_one_and_never_exceed_one(mu: float, log_s: float,
                                                            kind: str) -> None:
    head = make_head(kind, HeadOptions(levels=LEVELS))
    out = _t(np.tile([mu, log_s], (LEVELS, 1)))
    lp = head.log_prob_per_pixel(_t(GRID[:, None]), out).squeeze(-1)  # type: ignore[attr-defined]
    # A sum of 17 masses in float64: a few ulp of 1.
    assert abs(float(torch.logsumexp(lp, 0))) <= 1e-14
    assert float(lp.max()) <= 0.0
    assert bool(torch.isfinite(lp).all())


def test_discretised_gradients_stay_finite_when_the_scale_collapses() -> None:
    head = DiscretisedGaussian(LEVELS)
    x = _t(GRID[None, :])
    mu = (x + 1e-3).clone().requires_grad_(True)
    log_s = torch.full_like(x, -30.0, requires_grad=True)
    lp = head.log_prob(x, torch.cat([mu, log_s], -1))
    lp.sum().backward()
    assert bool(torch.isfinite(lp).all()) and float(lp.detach()) <= 0.0
    assert bool(torch.isfinite(mu.grad).all() and torch.isfinite(log_s.grad).all())


# -- continuous Bernoulli --------------------------------------------------------------
def _cb_log_density_mpmath(x: float, eta: float) -> float:
    """log [C(l) l^x (1 - l)^(1 - x)], C(l) = 2 artanh(1 - 2l)/(1 - 2l), l = sigmoid(eta)
    (Loaiza-Ganem & Cunningham 2019, eq. 7), at 50 digits."""
    with mpmath.workdps(50):
        e = mpmath.mpf(eta)
        l = 1 / (1 + mpmath.exp(-e))  # noqa: E741
        # artanh(1 - 2l) = (1/2) log((1 - l)/l), written so that 1 - 2l ~ 1 loses nothing.
        c = mpmath.mpf(2) if e == 0 else mpmath.log((1 - l) / l) / (1 - 2 * l)
        return float(mpmath.log(c) + x * mpmath.log(l) + (1 - x) * mpmath.log(1 - l))


@pytest.mark.parametrize("eta", [0.0, 1e-12, -3e-6, 1.9e-3, -2.1e-3, 0.7, -5.0, 40.0, -300.0])
def test_continuous_bernoulli_matches_the_closed_form_in_mpmath(eta: float) -> None:
    head = ContinuousBernoulli()
    for x in (0.0, 0.3, 0.999, 1.0):
        got = float(head.log_prob(_t([[x]]), _t([[eta]])))
        # float64 path vs 50-digit reference: a few ulp of values of order 1..300.
        assert got == pytest.approx(_cb_log_density_mpmath(x, eta), rel=1e-14, abs=1e-14)


@pytest.mark.parametrize("eta", [0.0, 1e-4, 0.3, -7.0, 60.0])
def test_continuous_bernoulli_integrates_to_one_with_its_mean_and_variance(eta: float) -> None:
    head = ContinuousBernoulli()
    o = _t([[eta]])

    def dens(x: float) -> float:
        return math.exp(float(head.log_prob(_t([[x]]), o)))

    z, z_err = integrate.quad(dens, 0.0, 1.0, epsabs=1e-13, limit=200)
    m, _ = integrate.quad(lambda x: x * dens(x), 0.0, 1.0, epsabs=1e-13, limit=200)
    v, _ = integrate.quad(lambda x: (x - m) ** 2 * dens(x), 0.0, 1.0, epsabs=1e-13, limit=200)
    # quad's own error estimate, plus the float64 rounding of the integrand (~1e-15).
    assert abs(z - 1.0) <= 10 * z_err + 1e-12
    assert float(head.mean(o)) == pytest.approx(m, abs=1e-11)
    assert float(head.variance(o)) == pytest.approx(v, abs=1e-11)


def test_continuous_bernoulli_normaliser_is_smooth_across_its_series_branch() -> None:
    eta = _t(np.array([1.999e-3, 2.001e-3, 0.0]))  # the branch switches at |eta|/2 = 1e-3
    with mpmath.workdps(50):
        ref = [float(mpmath.log(e / mpmath.tanh(e / 2))) if e else math.log(2.0)
               for e in (mpmath.mpf(1.999e-3), mpmath.mpf(2.001e-3))] + [math.log(2.0)]
    np.testing.assert_allclose(continuous_bernoulli_log_normaliser(eta).numpy(), ref,
                               rtol=0, atol=1e-15)


def test_continuous_bernoulli_at_zero_grows_like_log_log_one_over_l() -> None:
    # log p(0 | l) = log(C(l)(1 - l)) = log(|eta| / (1 - e^eta)) for eta < 0, and
    # |eta| = log(1/l) + log(1 - l): the density at 0 grows like log(1/l) -- unbounded,
    # but its log only like log log(1/l).
    head = ContinuousBernoulli()
    etas = [-(10.0**k) for k in (2, 8, 32, 300)]
    got = [float(head.log_prob(_t([[0.0]]), _t([[e]]))) for e in etas]
    assert got == pytest.approx([math.log(-e) for e in etas], rel=1e-15)
    assert got == sorted(got)


@given(x=st.floats(1e-6, 1 - 1e-6), eta=st.floats(-1e4, 1e4))
def test_continuous_bernoulli_interior_supremum_is_an_upper_bound(x: float, eta: float) -> None:
    m = float(continuous_bernoulli_sup_log_density(np.array([x]))[0])
    value = float(ContinuousBernoulli().log_prob(_t([[x]]), _t([[eta]])))
    # m is the maximum over eta to within bisection and rounding (~1e-12 absolute).
    assert math.isfinite(m) and value <= m + 1e-10


def test_continuous_bernoulli_supremum_rejects_the_boundary() -> None:
    with pytest.raises(InvalidArgumentError, match=r"^x:"):
        continuous_bernoulli_sup_log_density(np.array([0.2, 0.0]))


# -- soft clip, floored Student-t ------------------------------------------------------
def test_softclip_matches_scipy_norm_and_its_cap() -> None:
    rng = _rng()
    x, mu = rng.uniform(0, 1, size=(5, D)), rng.uniform(0, 1, size=(5, D))
    raw = rng.uniform(-20.0, 2.0, size=(5, D))
    head = SoftClipGaussian(-6.0)
    log_s = -6.0 + _softplus(raw + 6.0)  # sigma-VAE: softclip(t, -6) = -6 + softplus(t + 6)
    ref = stats.norm.logpdf(x, loc=mu, scale=np.exp(log_s)).sum(-1)
    got = head.log_prob(_t(x), _t(np.concatenate([mu, raw], -1))).numpy()
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-10)
    # cap per pixel = log N(0 | 0, e^-12) = -1/2 log(2 pi) + 6 (scipy reference).
    assert head.cap(1) == pytest.approx(stats.norm.logpdf(0.0, scale=math.exp(-6.0)), abs=1e-14)


@given(raw=st.floats(-700.0, 30.0), diff=st.floats(-1.0, 1.0), m=st.floats(-10.0, -1.0))
def test_softclip_never_exceeds_its_cap(raw: float, diff: float, m: float) -> None:
    head = SoftClipGaussian(m)
    value = float(head.log_prob(_t([[diff]]), _t([[0.0, raw]])))
    assert value <= head.cap(1) + 1e-12 * abs(head.cap(1))  # type: ignore[operator]


def test_floored_student_t_matches_scipy_t_and_its_cap() -> None:
    rng = _rng()
    x, mu = rng.normal(size=(5, D)), rng.normal(size=(5, D))
    raw = rng.uniform(-30.0, 2.0, size=(5, D))
    head = FlooredStudentT(nu=3.0, s_min=1e-3)
    s = 1e-3 + _softplus(raw)
    ref = stats.t.logpdf(x, df=3.0, loc=mu, scale=s).sum(-1)  # scipy.stats.t
    got = head.log_prob(_t(x), _t(np.concatenate([mu, raw], -1))).numpy()
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-10)
    assert head.cap(D) == pytest.approx(D * stats.t.logpdf(0.0, df=3.0, scale=1e-3), rel=1e-14)
    # The unfloored Student-t compared with a squared-scale floor xi = 1e-3 (D = 64):
    assert student_t_log_density_cap(64, 3.0, math.sqrt(1e-3)) == pytest.approx(
        64 * stats.t.logpdf(0.0, df=3.0, scale=math.sqrt(1e-3)), rel=1e-14)


@given(raw=st.floats(-700.0, 30.0), diff=st.floats(-5.0, 5.0), nu=st.floats(0.2, 200.0),
       s_min=st.floats(1e-6, 1.0))
def test_floored_student_t_never_exceeds_its_cap(raw: float, diff: float, nu: float,
                                                  s_min: float) -> None:
    head = FlooredStudentT(nu, s_min)
    value = float(head.log_prob(_t([[diff]]), _t([[0.0, raw]])))
    assert value <= head.cap(1) + 1e-12 * max(1.0, abs(head.cap(1)))  # type: ignore[operator]


# -- GaussianNLLLoss(eps) --------------------------------------------------------------
def test_gaussian_nll_eps_objective_is_minus_torchs_loss_and_log_prob_the_true_density() -> None:
    rng = _rng()
    x, mu = rng.normal(size=(5, D)), rng.normal(size=(5, D))
    log_var = rng.uniform(-20.0, 1.0, size=(5, D))
    head = GaussianNLLEps(1e-6)
    out = _t(np.concatenate([mu, log_var], -1))
    clamped = np.maximum(np.exp(log_var), 1e-6)  # the loss's max(var, eps), by numpy
    ref_obj = stats.norm.logpdf(x, loc=mu, scale=np.sqrt(clamped)).sum(-1)
    np.testing.assert_allclose(head.objective(_t(x), out).numpy(), ref_obj, rtol=1e-12)
    ref_true = stats.norm.logpdf(x, loc=mu, scale=np.exp(0.5 * log_var)).sum(-1)
    np.testing.assert_allclose(head.log_prob(_t(x), out).numpy(), ref_true, rtol=1e-12)
    np.testing.assert_allclose(head.reported_variance(out).numpy(), clamped, rtol=1e-15)
    assert head.cap(D) is None
    assert head.objective_cap(D) == gaussian_log_density_cap(D, 1e-6)


def test_gaussian_nll_eps_is_flat_below_eps_but_still_pushes_the_variance_down() -> None:
    # torch: var = var.clone(); with no_grad: var.clamp_(min=eps).  The clamp is invisible
    # to autograd, so the gradient reaching var is the one evaluated at eps.
    eps, r = 1e-6, 3e-4  # r^2 = 9e-8 < eps
    head = GaussianNLLEps(eps)
    x = _t([[r]])
    values, grads = [], []
    for var in (1e-7, 1e-9):
        log_var = _t([[math.log(var)]]).requires_grad_(True)
        obj = head.objective(x, torch.cat([_t([[0.0]]), log_var], -1))
        (g,) = torch.autograd.grad(obj.sum(), log_var)
        values.append(float(obj.detach()))
        grads.append(float(g) / var)  # d obj / d var = (d obj / d log var) / var
    assert values[0] == values[1]  # the reported value no longer depends on var
    expected = -0.5 * (1.0 / eps - r**2 / eps**2)  # minus the loss gradient at var = eps
    assert grads == pytest.approx([expected, expected], rel=1e-9)
    assert expected < 0  # ascent on the objective lowers var further below eps


def test_gaussian_nll_eps_objective_never_exceeds_its_cap() -> None:
    rng = _rng()
    head = GaussianNLLEps(1e-4)
    out = _t(np.concatenate([rng.normal(size=(50, D)), rng.uniform(-60, 5, size=(50, D))], -1))
    obj = head.objective(_t(rng.normal(size=(50, D))), out)
    assert float(obj.max()) <= head.objective_cap(D)  # type: ignore[operator]


# -- beta-NLL ---------------------------------------------------------------------------
@pytest.mark.parametrize("beta", [0.0, 0.5, 1.0])
def test_beta_nll_weights_the_gradient_but_keeps_the_stationary_variance(beta: float) -> None:
    head = BetaNLLGaussian(beta)
    r = 0.02
    x = _t([[r]])
    for var in (r**2, 4 * r**2, r**2 / 4):
        mu = _t([[0.0]]).requires_grad_(True)
        log_var = _t([[math.log(var)]]).requires_grad_(True)
        obj = head.objective(x, torch.cat([mu, log_var], -1))
        g_mu, g_lv = torch.autograd.grad(obj.sum(), (mu, log_var))
        # d/d log var of var^beta_sg log N = var^beta (-1/2 + r^2/(2 var)); d/d mu = var^beta r/var.
        assert float(g_lv) == pytest.approx(var**beta * (-0.5 + r**2 / (2 * var)), abs=1e-12)
        assert float(g_mu) == pytest.approx(var**beta * r / var, rel=1e-12)
    log_prob = head.log_prob(x, _t([[0.0, math.log(0.3)]]))
    assert float(log_prob) == pytest.approx(stats.norm.logpdf(r, scale=math.sqrt(0.3)), rel=1e-14)


def test_beta_nll_rejects_negative_beta() -> None:
    with pytest.raises(InvalidArgumentError, match=r"^beta_nll:"):
        BetaNLLGaussian(-0.5)


# -- caps in absolute and relative units ----------------------------------------------------
def test_equivalent_variance_floor_inverts_the_gaussian_cap() -> None:
    for xi in (1e-12, 1e-3, 0.5, 7.0):
        per_pixel = gaussian_log_density_cap(1, xi)
        assert equivalent_variance_floor(per_pixel) == pytest.approx(xi, rel=1e-13)
        assert cap_relative_to_data(per_pixel, 4.0) == pytest.approx(xi / 4.0, rel=1e-13)
    assert equivalent_variance_floor(SoftClipGaussian(-6.0).cap(1)) == pytest.approx(  # type: ignore[arg-type]
        math.exp(-12.0), rel=1e-13)
    with pytest.raises(InvalidArgumentError, match=r"^data_variance:"):
        cap_relative_to_data(1.0, 0.0)
    with pytest.raises(InvalidArgumentError, match=r"^cap_per_pixel:"):
        equivalent_variance_floor(math.inf)


def test_new_options_reach_the_heads() -> None:
    opts = HeadOptions(s_min=0.02, softclip_min=-3.0, nll_eps=1e-5, beta_nll=0.25, nu=5.0,
                       levels=9)
    assert make_head("student-t-floored", opts).s_min == 0.02  # type: ignore[attr-defined]
    assert make_head("softclip", opts).softclip_min == -3.0  # type: ignore[attr-defined]
    assert make_head("gaussian-nll-eps", opts).eps == 1e-5  # type: ignore[attr-defined]
    assert make_head("beta-nll", opts).beta == 0.25  # type: ignore[attr-defined]
    assert make_head("discretised-logistic", opts).levels == 9  # type: ignore[attr-defined]
    with pytest.raises(InvalidArgumentError, match=r"^s_min:"):
        FlooredStudentT(3.0, 0.0)
    with pytest.raises(InvalidArgumentError, match=r"^nll_eps:"):
        GaussianNLLEps(-1.0)
    with pytest.raises(InvalidArgumentError, match=r"^softclip_min:"):
        SoftClipGaussian(math.nan)
    with pytest.raises(InvalidArgumentError, match=r"^levels:"):
        DiscretisedGaussian(1)
