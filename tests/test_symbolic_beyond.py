"""The derivations beyond the thread, each fact checked against independent numerics.

Reference values are computed here with mpmath quadrature, scipy (stats, optimize,
integrate) or PyTorch itself; tolerances are those of closed form against closed form
(near machine precision) or of the stated quadrature/optimiser accuracy.
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
from scipy import integrate, optimize, special, stats

from vaeproofs.symbolic import catalog
from vaeproofs.symbolic.beta_nll import BetaNllFacts
from vaeproofs.symbolic.continuous_bernoulli import ContinuousBernoulliFacts
from vaeproofs.symbolic.dequantisation import DequantisationFacts
from vaeproofs.symbolic.discretised import DiscretisedFacts
from vaeproofs.symbolic.facts import FactRecord
from vaeproofs.symbolic.gaussian_nll_eps import GaussianNllEpsFacts
from vaeproofs.symbolic.mixture import MixtureFacts
from vaeproofs.symbolic.population import PopulationFacts
from vaeproofs.symbolic.softclip import SoftclipFacts
from vaeproofs.symbolic.student_t_floored import StudentTFlooredFacts

RECORDS: dict[str, type[FactRecord]] = {
    "population": PopulationFacts, "dequantisation": DequantisationFacts,
    "discretised": DiscretisedFacts, "continuous-bernoulli": ContinuousBernoulliFacts,
    "gaussian-nll-eps": GaussianNllEpsFacts, "softclip": SoftclipFacts, "beta-nll": BetaNllFacts,
    "student-t-floored": StudentTFlooredFacts, "mixture": MixtureFacts,
}


@pytest.fixture(scope="module")
def facts() -> dict[str, FactRecord]:
    return {name: rec.of(catalog.derive(name)) for name, rec in RECORDS.items()}


def test_every_new_derivation_is_registered_and_renders(facts: dict[str, FactRecord]) -> None:
    for name in RECORDS:
        d = catalog.derive(name)
        assert d.name == name and d.sources and d.steps
        assert d.to_text() and d.to_markdown()
        assert RECORDS[name].of(d) is d.facts and d.to_json()["facts"] == d.facts.to_json()


def test_facts_of_another_type_are_refused() -> None:
    """A derivation whose facts are not the expected record type is refused at once."""
    d = catalog.derive("population")
    with pytest.raises(TypeError, match="expected SoftclipFacts"):
        SoftclipFacts.of(d)


def test_population_gibbs_against_quadrature(facts: dict[str, FactRecord]) -> None:
    f = facts["population"]
    assert isinstance(f, PopulationFacts) and f.bounded_for_densities
    minus_h = -0.5 * math.log(2 * math.pi * math.e)
    for m, v in [(0.0, 1.0), (0.3, 0.5), (-1.0, 2.0), (0.0, 1e-3)]:
        val, _ = integrate.quad(lambda x, m=m, v=v: stats.norm.pdf(x) * stats.norm.logpdf(x, m, math.sqrt(v)),
                                -12, 12, limit=200)
        assert val <= minus_h + 1e-9
    # the heavy density: mass 1 and E_p[log p] growing like log T (t = -log x, up to T)
    mass, _ = integrate.quad(lambda t: 1 / t**2, 1, np.inf)
    assert mass == pytest.approx(1.0, abs=1e-10) and f.heavy_density_normalised
    partial = [integrate.quad(lambda t: (t - 2 * math.log(t)) / t**2, 1, T, limit=200)[0]
               for T in (1e3, 1e6)]
    assert partial[1] - partial[0] == pytest.approx(math.log(1e3), abs=0.02)
    assert f.heavy_density_negentropy == "oo" and f.empirical_collapse_limit == "oo"


def test_dequantisation_bound_against_numerics(facts: dict[str, FactRecord]) -> None:
    f = facts["dequantisation"]
    assert isinstance(f, DequantisationFacts) and f.fresh_bounded_static_unbounded
    assert f.digits_bound_per_point == pytest.approx(64 * math.log(17) - math.log(16), rel=1e-14)
    assert f.digits_bound_without_log_n == pytest.approx(64 * math.log(17), rel=1e-14)
    # best Gaussian on a uniform cell of width 1: numeric maximisation over v
    res = optimize.minimize_scalar(lambda lv: 0.5 * math.log(2 * math.pi) + lv / 2
                                   + 1 / (24 * math.exp(lv)), bounds=(-10, 5), method="bounded",
                                   options={"xatol": 1e-10})
    assert 0 - (-res.fun) == pytest.approx(f.best_gaussian_gap_per_pixel, abs=1e-8)


def test_discretised_masses_against_scipy(facts: dict[str, FactRecord]) -> None:
    f = facts["discretised"]
    assert isinstance(f, DiscretisedFacts) and f.bounded_by_zero
    for s in (1.0, 0.3, 0.1):
        mass = stats.norm.cdf(0.5, scale=s) - stats.norm.cdf(-0.5, scale=s)
        logistic = stats.logistic.cdf(0.5, scale=s) - stats.logistic.cdf(-0.5, scale=s)
        assert 0 < mass < 1 and 0 < logistic < 1
    assert stats.norm.cdf(0.5, scale=0.01) - stats.norm.cdf(-0.5, scale=0.01) == 1.0  # rounds
    rng = np.random.default_rng(0)
    for n in (2, 5, 16):
        p = rng.dirichlet(np.ones(n + 1), size=200)[:, :n]     # sum_i p_i <= 1
        assert np.all(np.log(p).sum(axis=1) <= -n * math.log(n) + 1e-12)
    assert f.marginal_sup_n16 == pytest.approx(-16 * math.log(16), rel=1e-14)


def test_continuous_bernoulli_against_quadrature(facts: dict[str, FactRecord]) -> None:
    f = facts["continuous-bernoulli"]
    assert isinstance(f, ContinuousBernoulliFacts) and f.unbounded_on_exact_endpoints
    with mpmath.workdps(30):
        for lam in (mpmath.mpf("0.1"), mpmath.mpf("0.3"), mpmath.mpf("0.9")):
            z = mpmath.quad(lambda x, lam=lam: lam**x * (1 - lam) ** (1 - x), [0, 1])
            c = 2 * mpmath.atanh(1 - 2 * lam) / (1 - 2 * lam)
            assert abs(1 / z - c) < mpmath.mpf(10) ** -25
        # the rate: log p(0 | l) - log log(1/l) is small at l = 1e-300
        lam = mpmath.mpf("1e-300")
        logp0 = mpmath.log(mpmath.log((1 - lam) / lam) / (1 - 2 * lam)) + mpmath.log(1 - lam)
        assert abs(logp0 - mpmath.log(mpmath.log(1 / lam))) < 1e-6
        # interior sup at delta = 1/512: brute-force grid in u = log(1/l)
        d = mpmath.mpf(1) / 512

        def g(u: mpmath.mpf) -> mpmath.mpf:
            lam = mpmath.exp(-u)
            return (mpmath.log(mpmath.log((1 - lam) / lam) / (1 - 2 * lam)) + d * mpmath.log(lam)
                    + (1 - d) * mpmath.log(1 - lam))
        best = max(g(mpmath.mpf(k) / 8) for k in range(8, 8 * 2000))
        assert float(best) == pytest.approx(f.interior_sup_per_pixel, abs=1e-5)
        assert float(best) <= f.interior_sup_per_pixel + 1e-12
    for dtype, cap in (("float32", f.torch_cap_float32), ("float64", f.torch_cap_float64)):
        e = float(np.finfo(dtype).eps)
        assert cap == pytest.approx(math.log(math.log((1 - e) / e) / (1 - 2 * e)), rel=1e-12)


def test_continuous_bernoulli_torch_cap_is_what_torch_computes(facts: dict[str, FactRecord]) -> None:
    torch = pytest.importorskip("torch")
    f = facts["continuous-bernoulli"]
    dist = torch.distributions.ContinuousBernoulli(logits=torch.tensor(-800.0, dtype=torch.float64))
    assert float(dist.log_prob(torch.tensor(0.0, dtype=torch.float64))) == pytest.approx(
        f.torch_cap_float64, rel=1e-9)


def test_gaussian_nll_eps_gradient_is_what_torch_computes(facts: dict[str, FactRecord]) -> None:
    torch = pytest.importorskip("torch")
    f = facts["gaussian-nll-eps"]
    assert isinstance(f, GaussianNllEpsFacts) and not f.variance_floored
    eps = 1e-6
    for r in (0.0, 3e-4):
        var = torch.tensor([1e-9], dtype=torch.float64, requires_grad=True)
        x = torch.tensor([r], dtype=torch.float64)
        loss = torch.nn.functional.gaussian_nll_loss(torch.zeros(1, dtype=torch.float64), x, var,
                                                     eps=eps, reduction="sum")
        loss.backward()
        assert float(var.grad) == pytest.approx((eps - r**2) / (2 * eps**2), rel=1e-12)
        assert float(var.grad) > 0
        if r == 0:
            assert float(loss.detach()) == pytest.approx(f.loss_floor_eps_1e6, rel=1e-14)


def test_softclip_cap_against_numerics(facts: dict[str, FactRecord]) -> None:
    f = facts["softclip"]
    assert isinstance(f, SoftclipFacts) and f.bounded and not f.cap_attained
    assert f.cap_per_pixel == pytest.approx(6 - 0.5 * math.log(2 * math.pi), rel=1e-15)
    for t in (-40.0, -6.0, 0.0, 3.0):
        ls = -6 + np.logaddexp(0.0, t + 6)
        assert ls > -6 and stats.norm.logpdf(0, scale=math.exp(ls)) < f.cap_per_pixel
    assert f.floor_variance == pytest.approx(math.exp(-12), rel=1e-15)


def test_beta_nll_flow_against_an_ode_solver(facts: dict[str, FactRecord]) -> None:
    f = facts["beta-nll"]
    assert isinstance(f, BetaNllFacts) and not f.prevents_collapse and f.same_as_nll
    beta, v0 = 0.5, 1.0
    sol = integrate.solve_ivp(lambda t, v: -(v ** (1 + beta)) / 2, (0, 1e4), [v0], rtol=1e-10,
                              atol=1e-14, t_eval=[10.0, 1e4])
    closed = (v0 ** -beta + beta * sol.t / 2) ** (-1 / beta)
    np.testing.assert_allclose(sol.y[0], closed, rtol=1e-6)
    # stationary variance: root of the reweighted gradient is r^2
    r2 = 0.37
    root = optimize.brentq(lambda v: v**beta * (v - r2) / (2 * v * v), 1e-3, 10, xtol=1e-14)
    assert root == pytest.approx(r2, rel=1e-12)


def test_student_t_floored_caps_against_scipy(facts: dict[str, FactRecord]) -> None:
    f = facts["student-t-floored"]
    assert isinstance(f, StudentTFlooredFacts) and f.bounded
    assert f.cap_nu3_scale_1e3 == pytest.approx(stats.t.logpdf(0, 3, scale=1e-3), rel=1e-13)
    assert f.cap_nu3_scale2_1e3_d64 == pytest.approx(
        64 * stats.t.logpdf(0, 3, scale=math.sqrt(1e-3)), rel=1e-13)
    assert f.cap_any_nu_scale_1e3 == pytest.approx(stats.norm.logpdf(0, scale=1e-3), rel=1e-13)
    nus = np.logspace(-1.5, 6, 200)
    logc = special.gammaln((nus + 1) / 2) - special.gammaln(nus / 2) - 0.5 * np.log(nus * math.pi)
    assert np.all(np.diff(logc) > 0) and logc[-1] < -0.5 * math.log(2 * math.pi)


def test_mixture_single_gaussian_max_against_an_optimiser(facts: dict[str, FactRecord]) -> None:
    f = facts["mixture"]
    assert isinstance(f, MixtureFacts) and f.single_bounded_mixture_unbounded
    x = np.array([0.0, 1.0, 3.0])
    res = optimize.minimize(lambda p: -stats.norm.logpdf(x, p[0], math.exp(p[1])).sum(), [0.0, 0.0],
                            method="Nelder-Mead", options={"xatol": 1e-10, "fatol": 1e-12})
    spread = float(((x - x.mean()) ** 2).sum())
    assert -res.fun == pytest.approx(-1.5 * (math.log(2 * math.pi * spread / 3) + 1), abs=1e-8)
