"""The constructions beyond the thread: exact objectives against direct mpmath/scipy sums,
computed boundedness, limits and rates, and the float64 torch evaluations.

Reference values are written out independently here (logsumexp of the component
log-densities, the closed-form Gaussian or continuous-Bernoulli terms); mpmath runs at
raised precision and restores ``mp.dps`` afterwards.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import mpmath
import numpy as np
import pytest
import sympy as sp
from scipy import special, stats

from vaeproofs import constructions
from vaeproofs.constructions.continuous_bernoulli import ContinuousBernoulliElbo
from vaeproofs.constructions.gaussian_nll_eps import GaussianNllEps
from vaeproofs.constructions.mixture_analogy import GmmLikelihood
from vaeproofs.errors import InvalidArgumentError

NEW = ("gmm_likelihood", "static_dequantisation_elbo", "fresh_dequantisation_elbo",
       "continuous_bernoulli_elbo", "softclip_likelihood", "floored_student_t_likelihood",
       "gaussian_nll_eps")


@pytest.fixture(scope="module")
def rows(quick_row: Callable[[str], Any]) -> dict[str, Any]:
    return {n: quick_row(n) for n in NEW}


def test_new_constructions_are_registered() -> None:
    assert set(NEW) <= set(constructions.names())


@pytest.mark.parametrize(("name", "bounded", "limit"), [
    ("gmm_likelihood", False, "oo"), ("static_dequantisation_elbo", False, "oo"),
    ("fresh_dequantisation_elbo", True, "-oo"), ("continuous_bernoulli_elbo", False, "oo"),
    ("softclip_likelihood", True, None), ("floored_student_t_likelihood", True, None),
    ("gaussian_nll_eps", True, None)])
def test_boundedness_and_limits(rows: dict[str, dict], name: str, bounded: bool,
                                limit: str | None) -> None:
    row = rows[name]
    assert row.bounded is bounded
    if limit is not None:
        assert row.limit == limit
    if bounded:
        assert all(float(v) <= float(row.cap) for v in row.values)
    rel = [r for r in row.torch_rel_error if r is not None]
    assert rel and max(rel) < 1e-13          # float64 network against mpmath


def test_rates_are_the_derived_ones() -> None:
    e = sp.Symbol("epsilon", positive=True)
    gmm = constructions.get("gmm_likelihood").symbolic_rate()
    assert sp.simplify(gmm - sp.log(1 / e) / 2) == 0
    cb = constructions.get("continuous_bernoulli_elbo")   # n (D - 1/2) log log(1/eps)
    assert sp.simplify(cb.symbolic_rate() - (cb.n * (cb.dim - sp.Rational(1, 2)))
                       * sp.log(sp.log(1 / e))) == 0


def test_gmm_objective_against_a_direct_sum() -> None:
    c = GmmLikelihood()
    x = np.array([0.0, 1.0, 3.0])
    for eps in (0.1, 1e-3):
        direct = special.logsumexp(np.stack([
            np.log(0.5) + stats.norm.logpdf(x, 0.0, math.sqrt(eps)),
            np.log(0.5) + stats.norm.logpdf(x, 4 / 3, math.sqrt(14 / 9))]), axis=0).sum()
        assert float(c.objective(eps)) == pytest.approx(direct, rel=1e-13)
    assert float(c.objective("1e-1000")) > 1000   # far beyond float64


def test_continuous_bernoulli_own_cell_against_the_density() -> None:
    c = ContinuousBernoulliElbo()
    # 1 - 2 eps must be resolved: 540 digits for eps = 1e-500 (the construction avoids it).
    with mpmath.workdps(540):
        for eps in (mpmath.mpf("0.01"), mpmath.mpf("1e-500")):
            u = -mpmath.log(eps)
            ell = sp.lambdify(sp.Symbol("u", positive=True), c.ell(0, 0), "mpmath")(u)
            cnorm = 2 * mpmath.atanh(1 - 2 * eps) / (1 - 2 * eps)
            direct = c.dim * (mpmath.log(cnorm) + mpmath.log(1 - eps))
            assert abs(ell - direct) < mpmath.mpf(10) ** -30 * abs(direct)
    with pytest.raises(InvalidArgumentError, match="epsilon"):
        c.objective(0.7)


def test_static_passes_the_fresh_bound_which_the_fresh_objective_respects(rows: dict[str, dict]
                                                                           ) -> None:
    cap = float(rows["fresh_dequantisation_elbo"].cap)
    fresh = constructions.get("fresh_dequantisation_elbo")
    assert cap == pytest.approx(fresh.n * (fresh.dim * math.log(16) - math.log(fresh.n)), rel=1e-15)
    assert max(float(v) for v in rows["static_dequantisation_elbo"].values) > cap
    assert max(float(v) for v in rows["fresh_dequantisation_elbo"].values) < cap


def test_gaussian_nll_eps_value_is_frozen_and_torch_gradient_matches(rows: dict[str, dict]) -> None:
    row = rows["gaussian_nll_eps"]
    frozen = [float(v) for v in row.values[1:]]          # variances 1e-50 and 1e-1000 < eps
    assert frozen[0] == frozen[1] == pytest.approx(float(row.cap), rel=1e-15)
    diag = row.diagnostics
    c = GaussianNllEps()
    assert float(diag["derived_gradient_in_variance"][-1]) == pytest.approx(
        c.n * c.dim / (2 * 1e-6), rel=1e-14)                  # n D / (2 eps), r = 0
    pairs = [(t, float(d)) for t, d in zip(diag["torch_gradient_in_variance"],
                                           diag["derived_gradient_in_variance"], strict=True)
             if t is not None]
    assert len(pairs) == 2 and all(t == pytest.approx(d, rel=1e-12) and d > 0 for t, d in pairs)
    loglik = [float(v) for v in diag["model_log_likelihood_at_variance"]]
    assert loglik == sorted(loglik) and loglik[-1] > 6000


def test_invalid_gmm_data_is_refused() -> None:
    with pytest.raises(InvalidArgumentError, match="points"):
        GmmLikelihood(((0.0, 1.0), (1.0, 2.0)))


def test_softclip_and_floored_t_converge_below_their_caps(rows: dict[str, dict]) -> None:
    for name in ("softclip_likelihood", "floored_student_t_likelihood"):
        c = constructions.get(name)
        limit = float(sp.N(c.limit()))
        assert limit < float(c.cap())
        assert float(rows[name].values[-1]) == pytest.approx(limit, rel=1e-15)
