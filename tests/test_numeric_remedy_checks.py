"""The remedy measurements of the numeric layer: records, their decisions, planted failures.

Every record is checked on the real computation and on a planted violation that must flip
its decision; tolerances are the records' own derived ones (float64 eps = 2^-52).
"""

from __future__ import annotations

import math
from dataclasses import replace
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from vaeproofs.errors import InvalidArgumentError
from vaeproofs.numeric import TrainConfig
from vaeproofs.numeric.collapse import best_logged
from vaeproofs.numeric.data import DIGITS_LEVELS, digits_dataset
from vaeproofs.numeric.heads import ContinuousBernoulli, DiscretisedLogistic
from vaeproofs.numeric.remedy_checks import (
    EPS64,
    BetaNllStationary,
    DensityAtZero,
    GradientBelowEps,
    beta_nll_stationary_point,
    continuous_bernoulli_density_at_zero,
    discretised_mass_normalisation,
    gaussian_nll_eps_gradient,
)
from vaeproofs.numeric.remedy_runs import (
    CappedRun,
    DequantisationBound,
    GaussianNllEpsRun,
    capped_run,
    continuous_bernoulli_data_cap,
    data_variance,
    dequantisation_bound,
    distinct_grid_points,
    gaussian_nll_eps_run,
    mass_cap_as_density,
    variance_fall,
)

TINY = TrainConfig(n_train=8, steps=20, hidden=16, latent_dim=2, n_test=20, iwae_samples=8,
                   elbo_samples=2, log_every=10, xi=1e-2)


def _row(**values: float | None) -> SimpleNamespace:
    base = {"train_elbo_mean": 0.0, "train_elbo_max": 0.0, "min_decoder_variance": 1.0,
            "train_objective_max": None, "fraction_variance_below_eps": None}
    return SimpleNamespace(**{**base, **values})


def _fake_run(config: TrainConfig, rows: list[SimpleNamespace], cap: float | None = None
              ) -> SimpleNamespace:
    """A result-shaped object: the measurements read only config, dim, cap and history."""
    return SimpleNamespace(config=config, dim=64, cap=cap, history=rows)


# -- run records -----------------------------------------------------------------------
def test_best_logged_skips_missing_and_non_finite_values_and_names_bad_keys() -> None:
    run = _fake_run(TINY, [_row(train_elbo_max=v, train_objective_max=o) for v, o in
                           ((1.0, None), (math.nan, 5.0), (math.inf, None), (3.0, -2.0))])
    assert best_logged(run, "train_elbo_max") == 3.0
    assert best_logged(run, "train_objective_max") == 5.0
    assert best_logged(_fake_run(TINY, [_row()]), "train_objective_max") == -math.inf
    with pytest.raises(InvalidArgumentError) as info:
        best_logged(run, "train_elbo_maximum")
    assert info.value.argument == "key"


def test_capped_run_compares_the_best_elbo_with_the_cap_on_the_data_scale() -> None:
    run = _fake_run(TINY, [_row(train_elbo_max=10.0), _row(train_elbo_max=20.0)], cap=64.0)
    rec = capped_run(run)
    x = digits_dataset().train[:TINY.n_train]
    assert rec.data_variance == pytest.approx(float(np.var(x, axis=0).mean()), rel=1e-15)
    assert (rec.best, rec.cap, rec.cap_per_pixel, rec.under_cap) == (20.0, 64.0, 1.0, True)
    # A cap of 1 nat per pixel is the Gaussian floor exp(-2)/(2 pi).
    assert rec.equivalent_floor == pytest.approx(math.exp(-2.0) / (2 * math.pi), rel=4 * EPS64)
    assert rec.floor_relative_to_data == pytest.approx(rec.equivalent_floor / rec.data_variance,
                                                       rel=4 * EPS64)
    assert capped_run(run, cap=19.0).under_cap is False            # planted: the cap is passed
    with pytest.raises(InvalidArgumentError, match=r"^cap:"):
        capped_run(_fake_run(TINY, [_row()]))


def test_data_variance_is_the_mean_per_pixel_variance() -> None:
    x = np.array([[0.0, 1.0], [2.0, 1.0]])
    assert data_variance(x) == 0.5  # pixel variances 1 and 0
    with pytest.raises(InvalidArgumentError, match=r"^x:"):
        data_variance(np.ones(3))


def test_distinct_grid_points_counts_rows_per_bin() -> None:
    corners = np.arange(DIGITS_LEVELS, dtype=np.float64)[:, None] / DIGITS_LEVELS
    assert distinct_grid_points(corners, DIGITS_LEVELS) == DIGITS_LEVELS
    noisy = (np.arange(DIGITS_LEVELS)[:, None] + np.full((DIGITS_LEVELS, 1), 0.999)) / DIGITS_LEVELS
    same_bins = np.vstack([corners, noisy])
    assert distinct_grid_points(same_bins, DIGITS_LEVELS) == DIGITS_LEVELS
    assert distinct_grid_points(np.array([[0.0, 0.5], [0.0, 0.8]]), 4) == 2
    with pytest.raises(InvalidArgumentError, match=r"^levels:"):
        distinct_grid_points(corners, 1)


def test_dequantisation_bound_is_theis_bound_of_the_distinct_points() -> None:
    fresh = replace(TINY, dequantize="fresh")
    run = _fake_run(fresh, [_row(train_elbo_mean=100.0, train_elbo_max=120.0)])
    b = dequantisation_bound(run)
    x = digits_dataset(dequantize="fresh").train[:TINY.n_train]
    n = len({tuple(np.rint(row * DIGITS_LEVELS).astype(int)) for row in x})
    assert (b.n_distinct, b.levels, b.best_mean, b.best_max) == (n, 17, 100.0, 120.0)
    assert b.value == pytest.approx(64 * math.log(17) - math.log(n), rel=1e-15)
    assert b.respected is True
    assert replace(b, best_mean=b.value + 1e-9).respected is False  # planted: the bound passed
    assert DequantisationBound(1, 2, 2, 0.0, 0.0).value == 0.0       # log 2 - log 2


def test_continuous_bernoulli_data_cap_against_a_brute_force_maximum() -> None:
    x = np.array([[0.05, 0.3], [0.5, 0.9]])
    c = continuous_bernoulli_data_cap(x, best=0.0)
    # M(x) by a grid over the logit, step h: the log-density's curvature in eta is the
    # variance of x under the head, <= 1/4, so the grid misses M by <= (1/8)(h/2)^2 per
    # pixel; the grid maximum can exceed the supremum M only by rounding (4 eps |M|).
    h = 5e-3
    eta = torch.arange(-60.0, 60.0 + h, h, dtype=torch.float64)[:, None]
    head = ContinuousBernoulli()
    brute = [[float(head.log_prob(torch.full_like(eta, v), eta).max()) for v in row] for row in x]
    expected = max(sum(row) for row in brute)
    assert c.interior and c.n_exact_binary == 0 and c.cap_per_pixel == c.cap / 2
    assert -4 * EPS64 * abs(c.cap) <= c.cap - expected <= 2 * (h / 2) ** 2 / 8 + 1e-12
    assert c.under_cap is True
    assert replace(c, best=c.cap + 1e-9).under_cap is False  # planted: the cap passed
    edge = continuous_bernoulli_data_cap(np.array([[0.0, 0.5], [1.0, 1.0]]), best=3.0)
    assert (edge.interior, edge.cap, edge.n_exact_binary, edge.under_cap) == (False, None, 3, None)
    assert edge.cap_per_pixel is None


def test_a_mass_cap_is_a_density_cap_of_the_inverse_bin_width() -> None:
    d = mass_cap_as_density(64)
    assert (d.levels, d.bins) == (17, 16)
    assert d.value == pytest.approx(64 * 4 * math.log(2.0), rel=4 * EPS64)  # log 16 = 4 log 2
    assert mass_cap_as_density(3, levels=2).value == 0.0  # one bin of width 1: density = mass
    with pytest.raises(InvalidArgumentError, match=r"^levels:"):
        mass_cap_as_density(3, levels=1)


def test_gaussian_nll_eps_run_reads_the_smallest_variance_and_the_reported_objective() -> None:
    cfg = replace(TINY, likelihood="gaussian-nll-eps", nll_eps=1e-2)
    rows = [_row(min_decoder_variance=0.5, fraction_variance_below_eps=None,
                 train_objective_max=10.0, train_elbo_max=11.0),
            _row(min_decoder_variance=1e-3, fraction_variance_below_eps=0.25,
                 train_objective_max=40.0, train_elbo_max=60.0),
            _row(min_decoder_variance=0.2, fraction_variance_below_eps=0.0,
                 train_objective_max=30.0, train_elbo_max=50.0)]
    g = gaussian_nll_eps_run(_fake_run(cfg, rows))
    assert (g.min_variance, g.fraction_below_eps, g.best_reported, g.best_true) == (
        1e-3, 0.25, 40.0, 60.0)
    assert g.crossed is True
    assert g.cap == pytest.approx(-32 * math.log(2 * math.pi * 1e-2), rel=4 * EPS64)
    assert g.reported_under_cap is True
    assert g.eps_relative_to_data == pytest.approx(1e-2 / g.data_variance, rel=EPS64)
    assert replace(g, min_variance=1e-2).crossed is False            # at eps is not below it
    assert replace(g, best_reported=g.cap + 1e-9).reported_under_cap is False
    assert GaussianNllEpsRun(1.0, 2, 1.0, 0.0, 0.0, 0.0, 1.0).cap == pytest.approx(
        -math.log(2 * math.pi), rel=EPS64)


def test_variance_fall_uses_the_lowest_logged_variance() -> None:
    rows = [_row(min_decoder_variance=v) for v in (1.0, 1e-4, 1e-2)]
    f = variance_fall(_fake_run(TINY, rows))
    assert (f.first, f.lowest) == (1.0, 1e-4) and f.decades == pytest.approx(4.0, rel=EPS64)
    assert replace(f, lowest=0.0).decades == math.inf


def test_capped_run_record_alone_decides() -> None:
    assert CappedRun(0.0, 0.0, 1, 1.0).under_cap is True
    assert CappedRun(math.nextafter(0.0, 1.0), 0.0, 1, 1.0).under_cap is False


# -- formula checks --------------------------------------------------------------------
def test_discretised_masses_are_normalised_and_a_planted_mass_is_caught(
        monkeypatch: pytest.MonkeyPatch) -> None:
    m = discretised_mass_normalisation()
    assert (m.levels, m.n_params, m.log_scale_range) == (17, 200, (-30.0, 10.0))
    assert m.tolerance == 17 * EPS64 and m.normalised
    assert m.max_abs_log_total <= m.tolerance and m.max_log_mass <= 0.0
    original = DiscretisedLogistic.log_prob_per_pixel
    monkeypatch.setattr(DiscretisedLogistic, "log_prob_per_pixel",
                        lambda self, x, out: original(self, x, out) + math.log1p(1e-13))
    planted = discretised_mass_normalisation()
    assert planted.max_abs_log_total > planted.tolerance and not planted.normalised
    assert not replace(m, max_log_mass=1e-15).normalised  # a mass above 1


def test_continuous_bernoulli_density_at_zero_exceeds_log_eta() -> None:
    d = continuous_bernoulli_density_at_zero()
    assert d.grows and d.at_least_log_eta
    # k = 1: the gap is -log(1 - e^-10), far above rounding.
    assert d.gaps[0] == pytest.approx(-math.log1p(-math.exp(-10.0)),
                                      abs=4 * EPS64 * math.log(10.0))
    assert all(0.0 < t < 1e-12 for t in d.tolerances)
    below = DensityAtZero(d.ks, (d.log_density[0] - 1e-4, *d.log_density[1:]))
    assert not below.at_least_log_eta and not below.grows          # planted: under log|eta|
    flat = DensityAtZero((1, 2), (10.0, 10.0))
    assert flat.at_least_log_eta and not flat.grows
    with pytest.raises(InvalidArgumentError, match=r"^ks:"):
        continuous_bernoulli_density_at_zero((1, 400))


def test_gaussian_nll_eps_gradient_pushes_the_variance_below_eps() -> None:
    g = gaussian_nll_eps_gradient()
    assert g.expected_grad == 5e5 and g.flat and g.gradient_is_eps_gradient
    assert g.final_variance < g.adam_start == 1e-7 and g.pushes_below_eps
    assert (g.adam_steps, g.lr, g.variances) == (200, 1e-2, (1e-7, 1e-9))
    planted = replace(g, grads=(g.grads[0], g.grads[1] * (1 + 1e-12)))
    assert not planted.gradient_is_eps_gradient and not planted.pushes_below_eps
    assert not replace(g, final_variance=g.adam_start).variance_keeps_falling
    assert not replace(g, loss_values=(1.0, 2.0)).flat
    assert isinstance(g, GradientBelowEps)
    with pytest.raises(InvalidArgumentError, match=r"^variances:"):
        gaussian_nll_eps_gradient(variances=(1e-5,))


def test_beta_nll_is_stationary_at_the_squared_residual() -> None:
    s = beta_nll_stationary_point()
    assert s.same_as_nll and s.max_abs_grad_at_stationary <= s.tolerance
    # beta = 0 (the NLL), r = 0.1, var = e r^2: d/d log var = -(1/2)(1 - 1/e) in closed form.
    one = beta_nll_stationary_point((0.0,), (0.1,))
    assert one.max_grad_above == pytest.approx(-0.5 * (1 - math.exp(-1.0)), rel=8 * EPS64)
    assert not replace(s, max_abs_grad_at_stationary=1e-10).stationary_at_residual  # planted
    assert not replace(s, max_grad_above=0.0).points_back
    assert isinstance(s, BetaNllStationary)
    with pytest.raises(InvalidArgumentError, match=r"^residuals:"):
        beta_nll_stationary_point(residuals=(2.0,))
