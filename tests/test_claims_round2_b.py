"""The second round's claims beyond the thread: a floor's cost (posterior collapse) and the
heteroscedastic-regression analogue.  Each claim's computed facts are checked against
independent numerics, and flipping a computed fact under the claim flips its verdict.

Tolerances: closed form against closed form to round-off (a few ulp times the number of
terms); optimisers against closed forms through the gap they leave (see
:mod:`vaeproofs.numeric.floor_collapse`).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import optimize

from vaeproofs import linear
from vaeproofs.claims import CLAIMS, EvidenceContext, evaluate_claim
from vaeproofs.claims import floor_cost_evidence as fcost
from vaeproofs.numeric.floor_collapse import FloorFit, closed_form_optimum
from vaeproofs.symbolic import catalog
from vaeproofs.symbolic.floor_collapse import (
    EXAMPLE_EIGENVALUES,
    EXAMPLE_FLOORS,
    FloorCollapseFacts,
    floored_optimum,
)

U64 = 2.0 ** -53
LOG_2PI = math.log(2 * math.pi)


def _claim(cid: str) -> Any:
    return next(c for c in CLAIMS if c.id == cid)


# -- remedy.floor-causes-posterior-collapse ------------------------------------------
@pytest.fixture(scope="module")
def floor_ctx() -> EvidenceContext:
    ctx = EvidenceContext(quick=True)
    ctx.derivation("floor-collapse")
    ctx._cache["source:floor-fits"] = fcost.floor_fits(quick=False)
    return ctx


def _floor_patched(base: EvidenceContext, monkeypatch: pytest.MonkeyPatch, *,
                   facts: dict[str, Any] | None = None, fits: dict[str, Any] | None = None
                   ) -> EvidenceContext:
    ctx = EvidenceContext(quick=True)
    ctx._cache = dict(base._cache)
    if facts:
        d = base.derivation("floor-collapse")
        ctx._cache["derivation:floor-collapse"] = dataclasses.replace(
            d, facts=dataclasses.replace(d.facts, **facts))
    if fits:
        ctx._cache["source:floor-fits"] = [dataclasses.replace(f, **fits)
                                           for f in base._cache["source:floor-fits"]]
    return ctx


def test_the_floor_collapse_derivation_matches_an_independent_optimum() -> None:
    """The sympy example against numpy's closed form and scipy's bounded minimiser of the
    profile -(2/n) L(sigma^2) (computed here from its definition)."""
    f = FloorCollapseFacts.of(catalog.derive("floor-collapse"))
    assert f.holds and f.example_active == "(2, 1, 0)"
    lam = [float(v) for v in EXAMPLE_EIGENVALUES]
    for xi in EXAMPLE_FLOORS:
        s2_sym, sv_sym = floored_optimum(EXAMPLE_EIGENVALUES, 2, xi)
        s2, sv, _ = closed_form_optimum(tuple(lam), 2, float(xi))
        assert float(s2_sym) == pytest.approx(s2, rel=4 * U64)
        assert [float(v) for v in sv_sym] == pytest.approx(list(sv), rel=4 * U64, abs=0)

        def profile(s: float) -> float:
            return (sum(math.log(max(v, s)) + v / max(v, s) for v in lam[:2])
                    + sum(math.log(s) + v / s for v in lam[2:]))

        best = optimize.minimize_scalar(profile, bounds=(float(xi), 50.0), method="bounded",
                                        options={"xatol": 1e-10})
        # the closed form is at least as good as scipy's point (to round-off), and scipy's
        # bounded Brent stops within 2 (sqrt(eps) |x| + xatol/3) of the minimiser
        assert profile(s2) <= profile(best.x) + 8 * U64 * abs(profile(s2))
        assert best.x == pytest.approx(s2, abs=2 * (math.sqrt(2 * U64) * s2 + 1e-10 / 3))


@given(eig=st.lists(st.floats(0.05, 10.0), min_size=3, max_size=5),
       k=st.integers(1, 2), xi=st.floats(1e-3, 12.0), seed=st.integers(0, 2**16))
def test_the_closed_form_maximiser_is_attained_and_never_beaten(eig: list[float], k: int, xi: float,
                                                                 seed: int) -> None:
    """The numpy linear-VAE API (vaeproofs.linear) at the closed-form parameters with the exact
    posterior gives the closed-form ELBO, and no random parameters with sigma^2 >= xi beat it."""
    lam = sorted(eig, reverse=True)
    dim = len(lam)
    rng = np.random.default_rng(seed)
    n = 3 * dim
    q, _ = np.linalg.qr(rng.normal(size=(n, dim)) - 0.0)
    q -= q.mean(axis=0)
    q, _ = np.linalg.qr(q)
    x = math.sqrt(n) * q * np.sqrt(lam)                       # 1/n covariance diag(lam)
    computed = sorted(np.linalg.eigvalsh(x.T @ x / n - np.outer(x.mean(0), x.mean(0))),
                      reverse=True)
    s2, sv, best = closed_form_optimum(tuple(computed), k, xi)
    W = np.zeros((dim, k))
    order = np.argsort(-np.diag(x.T @ x / n))[:k]
    for j, col in enumerate(order):
        W[col, j] = sv[j]
    b = x.mean(0)
    m, cov = linear.posterior(x, W, b, s2)
    attained = float(linear.elbo(x, W, b, s2, m, cov).mean())
    tol = 64 * n * dim * U64 * (abs(best) + max(lam) / s2)
    assert attained == pytest.approx(best, abs=tol)
    for _ in range(20):
        Wr = rng.normal(size=(dim, k)) * rng.uniform(0.1, 3.0)
        s2r = xi + float(np.exp(rng.uniform(-8.0, 3.0)))
        mr, cr = linear.posterior(x, Wr, b + rng.normal(size=dim) * 0.1, s2r)
        value = float(linear.elbo(x, Wr, b, s2r, mr, cr).mean())
        assert value <= best + tol


def test_a_fit_whose_closed_form_is_wrong_does_not_agree(floor_ctx: EvidenceContext) -> None:
    fits: list[FloorFit] = floor_ctx._cache["source:floor-fits"]
    assert all(f.agrees for f in fits)
    assert [f.closed_active for f in fits] == [2, 1, 0, 2, 2, 2]
    wrong = dataclasses.replace(fits[1], closed_sigma2=fits[1].closed_sigma2 * (1 + 1e-6))
    assert not wrong.agrees
    too_low = dataclasses.replace(fits[0], closed_elbo=fits[0].closed_elbo - 1e-6)
    assert not too_low.never_exceeds and not too_low.agrees
    collapsed_wrong = dataclasses.replace(fits[1], closed_singular_values=(1.0, 0.5))
    assert not collapsed_wrong.agrees


def test_floor_collapse_verdict_follows_the_facts(floor_ctx: EvidenceContext,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    claim = _claim("remedy.floor-causes-posterior-collapse")
    real = evaluate_claim(claim, _floor_patched(floor_ctx, monkeypatch))
    assert real.verdict == "holds" and not real.errors
    assert {e.kind for e in real.evidence if e.supports is not None} == {"symbolic", "numeric"}
    wrong_facts = {"floored_optimum_kkt": False}
    wrong_fits = {"closed_sigma2": 0.123}
    assert evaluate_claim(claim, _floor_patched(floor_ctx, monkeypatch, facts=wrong_facts)
                          ).verdict == "conflict"
    assert evaluate_claim(claim, _floor_patched(floor_ctx, monkeypatch, fits=wrong_fits)
                          ).verdict == "conflict"
    assert evaluate_claim(claim, _floor_patched(floor_ctx, monkeypatch, facts=wrong_facts,
                                                fits=wrong_fits)).verdict == "fails"


def test_the_averaged_elbo_is_the_mean_of_the_per_point_closed_form() -> None:
    """_mean_elbo (data summarised by mean and covariance) against numeric.linear.linear_elbo."""
    import torch

    from vaeproofs.numeric.floor_collapse import _data, _mean_elbo
    from vaeproofs.numeric.linear import linear_elbo

    gen = torch.Generator().manual_seed(3)
    x = torch.from_numpy(_data((3.0, 1.0, 0.2, 0.05), 30, 1))
    n, dim, k = 30, 4, 2
    W, V = torch.randn(dim, k, generator=gen, dtype=torch.float64), torch.randn(k, dim, generator=gen,
                                                                                 dtype=torch.float64)
    b, c = torch.randn(dim, generator=gen, dtype=torch.float64), torch.randn(k, generator=gen,
                                                                             dtype=torch.float64)
    log_s, s2 = torch.randn(k, generator=gen, dtype=torch.float64), torch.tensor(0.7, dtype=torch.float64)
    mean = x.mean(0)
    cov = (x - mean).T @ (x - mean) / n
    ours = float(_mean_elbo(mean, cov, torch.eye(dim, dtype=torch.float64), W, V, b, c, log_s, s2))
    per_point = linear_elbo(x, W, b, s2, (x - mean) @ V.T + c, torch.diag(torch.exp(log_s)))
    # two float64 evaluations of the same sum of n D-term quadratics: a few ulp per term
    scale = float(per_point.abs().max())
    assert ours == pytest.approx(float(per_point.mean()), abs=64 * n * dim * U64 * scale)


# -- regression.heteroscedastic-unbounded --------------------------------------------
def _loglik(targets: np.ndarray, mu: float, v: float) -> float:
    """sum_j log N(y_j; mu, v), numpy float64, from its definition."""
    return float(np.sum(-0.5 * np.log(2 * np.pi * v) - (targets - mu) ** 2 / (2 * v)))


def test_the_heteroscedastic_facts_against_scipy() -> None:
    from vaeproofs.symbolic.heteroscedastic import HeteroscedasticFacts, group_sup

    f = HeteroscedasticFacts.of(catalog.derive("heteroscedastic"))
    assert f.holds and f.distinct_inputs_sup == "oo"
    assert f.floor_cap_xi_1e2 == pytest.approx(-0.5 * math.log(2 * math.pi * 1e-2), rel=4 * U64)
    # the example's finite supremum against scipy's unconstrained maximiser per input
    total = 0.0
    for ys in (np.array([1.0, 2.0, 4.0]), np.array([0.0, 3.0])):
        best = optimize.minimize(lambda p, ys=ys: -_loglik(ys, p[0], math.exp(p[1])), x0=[0.0, 0.0],
                                 method="BFGS", options={"gtol": 1e-10})
        total += -best.fun
    sup = float(group_sup(3, sp_rational(14, 3)) + group_sup(2, sp_rational(9, 2)))
    # BFGS to gradient 1e-10 on a quadratic-near-the-maximum objective: value error ~ 1e-20
    assert total <= sup + 8 * U64 * abs(sup)
    assert total == pytest.approx(sup, rel=1e-12)


def _exact_spread(g: list[int]) -> Any:
    """S = sum_j (g_j/4 - mean)^2 as an exact rational."""
    from fractions import Fraction

    values = [Fraction(v, 4) for v in g]
    mean = sum(values, Fraction(0)) / len(values)
    spread = sum(((v - mean) ** 2 for v in values), Fraction(0))
    return sp_rational(spread.numerator, spread.denominator)


def sp_rational(p: int, q: int) -> Any:
    import sympy as sp

    return sp.Rational(p, q)


@given(groups=st.lists(st.lists(st.integers(-20, 20), min_size=1, max_size=5), min_size=1,
                       max_size=5),
       xi=st.sampled_from([0.0, 1e-2, 0.5]), seed=st.integers(0, 2**16))
def test_the_closed_form_supremum_bounds_and_is_reached_by_optimisation(
        groups: list[list[int]], xi: float, seed: int) -> None:
    """The symbolic per-input supremum, the numpy closed form, and L-BFGS on one (mu, v) per
    input agree: finite iff every input has spread (or a floor), reached, never exceeded."""
    from vaeproofs.numeric.regression import closed_form_sup, grouped_fit
    from vaeproofs.symbolic.heteroscedastic import group_sup

    arrays = [np.asarray(g, dtype=np.float64) / 4 for g in groups]
    n = sum(len(a) for a in arrays)
    closed = closed_form_sup(arrays, xi)
    exact_xi = {0.0: sp_rational(0, 1), 1e-2: sp_rational(1, 100), 0.5: sp_rational(1, 2)}[xi]
    symbolic = sum(group_sup(len(g), _exact_spread(g), exact_xi) for g in groups)
    spread_everywhere = all(np.ptp(a) > 0 for a in arrays)
    assert math.isfinite(closed) == (spread_everywhere or xi > 0)
    if math.isfinite(closed):
        assert float(symbolic) / n == pytest.approx(closed, rel=64 * U64 * n)
        fit = grouped_fit(arrays, xi=xi, seed=seed)
        assert fit.never_exceeds and fit.reaches
    else:
        assert symbolic == float("inf") or str(symbolic) == "oo"


@pytest.fixture(scope="module")
def regression_ctx() -> EvidenceContext:
    from vaeproofs.claims import regression_evidence as reg

    ctx = EvidenceContext(quick=True)
    ctx.derivation("heteroscedastic")
    from vaeproofs.numeric.regression import train_regressor

    # --quick's fits and the full run's floored MLP run (the one that votes), shared
    ctx._cache["source:regression-fits"] = reg.regression_fits(quick=True)
    ctx._cache["source:regression-runs"] = [train_regressor(xi=reg.FLOOR)]
    return ctx


def _regression_patched(base: EvidenceContext, monkeypatch: pytest.MonkeyPatch, *,
                        facts: dict[str, Any] | None = None, sequences: bool = False,
                        fits: bool = False, runs: bool = False) -> EvidenceContext:
    from vaeproofs.constructions import regression_sequences as rs

    ctx = EvidenceContext(quick=True)
    ctx._cache = dict(base._cache)
    if facts:
        d = base.derivation("heteroscedastic")
        ctx._cache["derivation:heteroscedastic"] = dataclasses.replace(
            d, facts=dataclasses.replace(d.facts, **facts))
    if fits:   # a closed form below what the optimiser reaches
        ctx._cache["source:regression-fits"] = {
            k: dataclasses.replace(v, closed_form=v.closed_form - 1e-3)
            if hasattr(v, "closed_form") and math.isfinite(v.closed_form) else v
            for k, v in base._cache["source:regression-fits"].items()}
    if runs:
        ctx._cache["source:regression-runs"] = [
            dataclasses.replace(r, best_loglik=r.cap + 1.0) if r.xi > 0 else r
            for r in base._cache["source:regression-runs"]]
    real_sequences = rs.regression_sequences()
    seq = (dataclasses.replace(real_sequences, spread_max_excess="1e-3") if sequences
           else real_sequences)
    monkeypatch.setattr(rs, "regression_sequences", lambda: seq)
    return ctx


def test_regression_verdict_follows_each_kind_of_evidence(regression_ctx: EvidenceContext,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    claim = _claim("regression.heteroscedastic-unbounded")
    real = evaluate_claim(claim, _regression_patched(regression_ctx, monkeypatch))
    assert real.verdict == "holds" and not real.errors
    assert {e.kind for e in real.evidence if e.supports is not None} == {
        "symbolic", "high-precision", "numeric"}
    flips = ({"facts": {"methods_share_stationary_point": False}}, {"sequences": True},
             {"fits": True}, {"runs": True})
    for flip in flips:
        assert evaluate_claim(claim, _regression_patched(regression_ctx, monkeypatch, **flip)
                              ).verdict == "conflict", flip
    every = {k: v for flip in flips for k, v in flip.items()}
    assert evaluate_claim(claim, _regression_patched(regression_ctx, monkeypatch, **every)
                          ).verdict == "fails"


def test_diabetes_is_loaded_without_a_download_and_its_inputs_are_distinct() -> None:
    from vaeproofs.numeric.regression import diabetes, group_targets

    x, y = diabetes()
    assert x.shape == (442, 10) and y.shape == (442,)
    assert abs(float(y.mean())) < 1e-12 and float(y.std()) == pytest.approx(1.0, rel=1e-12)
    assert len(group_targets(x, y)) == 442
    ages = group_targets(x[:, :1], y)
    assert sum(1 for g in ages if len(g) == 1) == 4
