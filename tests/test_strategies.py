"""Tests of vaeproofs.strategies: every drawn value honours the documented guarantees."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from vaeproofs.errors import InvalidArgumentError
from vaeproofs.strategies import (
    DECODER_FAMILIES,
    DecoderFamily,
    GaussianVaeLossInputs,
    LinearVaeCase,
    bounded_floats,
    decoder_families,
    float_arrays,
    gaussian_vae_loss_inputs,
    linear_vae_cases,
    linear_vae_params,
    point_sets,
    spd_matrices,
)

TINY = np.finfo(np.float64).tiny  # smallest normal float64; below it are the subnormals


def _normal_and_bounded(a: np.ndarray, low: float, high: float) -> bool:
    a = np.asarray(a, dtype=np.float64)
    return bool(np.all(np.isfinite(a)) and np.all((a == 0) | (np.abs(a) >= TINY))
                and np.all(a >= low) and np.all(a <= high))


@given(bounded_floats(-2.0, 3.0))
def test_bounded_floats_are_finite_normal_and_in_range(v):
    assert _normal_and_bounded(np.array([v]), -2.0, 3.0)


@given(float_arrays((3, 2), -1.0, 1.0))
def test_float_arrays_have_shape_and_bounds(a):
    assert a.shape == (3, 2) and a.dtype == np.float64
    assert _normal_and_bounded(a, -1.0, 1.0)


@given(st.integers(1, 4).flatmap(lambda d: spd_matrices(d).map(lambda s: (d, s))))
def test_spd_matrices_are_symmetric_with_the_stated_condition_bound(ds):
    d, s = ds
    assert s.shape == (d, d)
    assert np.array_equal(s, s.T)
    eig = np.linalg.eigvalsh(s)  # reference: numpy.linalg.eigvalsh
    # Stated: eigenvalues in [jitter, 1 + d^2 entry_bound^2] (defaults 0.1, 1); the
    # 1e-12 slack covers eigvalsh's round-off on matrices of norm <= d^2 + 1 <= 17.
    assert eig.min() >= 0.1 - 1e-12
    assert eig.max() <= 1 + d * d + 1e-12
    np.linalg.cholesky(s)


@given(point_sets(min_separation=0.05))
def test_point_sets_are_distinct_and_separated(x):
    n, d = x.shape
    assert 2 <= n <= 8 and 1 <= d <= 5
    assert np.all(np.isfinite(x))
    dist = np.linalg.norm(x[:, None, :] - x[None, :, :], axis=-1)
    off = dist[~np.eye(n, dtype=bool)]
    # Separation holds up to the round-off of the cumulative sum of gaps (few ulp of 3).
    assert off.size == 0 or off.min() >= 0.05 - 1e-12
    assert np.all(x[:, 1:] >= -3.0) and np.all(x[:, 1:] <= 3.0)


@given(point_sets(st.just(3), st.just(2), low=0.0, high=1.0, min_separation=0.2))
def test_point_sets_respect_given_sizes(x):
    assert x.shape == (3, 2)
    assert x[:, 0].max() <= 1.0 + 2 * 2 * 0.2  # documented overshoot (n - 1) * 2 * sep


@given(linear_vae_cases())
def test_linear_vae_cases_are_consistent(case):
    assert isinstance(case, LinearVaeCase)
    n, d = case.x.shape
    k = case.latent_dim
    assert case.W.shape == (d, k) and case.b.shape == (d,)
    assert case.m.shape == (n, k) and case.S.shape == (k, k)
    assert 0.05 <= case.sigma2 <= 5.0
    assert _normal_and_bounded(case.W, -2.0, 2.0) and _normal_and_bounded(case.m, -2.0, 2.0)
    assert np.linalg.eigvalsh(case.S).min() > 0


@given(linear_vae_params(3, 2, 4, sigma2_range=(0.5, 0.6)))
def test_linear_vae_params_honour_ranges(params):
    W, b, sigma2, m, S = params
    assert W.shape == (3, 2) and b.shape == (3,) and m.shape == (4, 2) and S.shape == (2, 2)
    assert 0.5 <= sigma2 <= 0.6


PARAM_RANGES = {"fixed": {"s0_squared": (0.01, 10.0)}, "shared": {"gamma": (0.01, 10.0)},
                "per-pixel": {}, "floor": {"xi": (1e-3, 1.0)}, "bernoulli": {},
                "student-t": {"nu": (1.0, 30.0)}, "softclip": {"softclip_min": (-8.0, -2.0)},
                "student-t-floored": {"nu": (1.0, 30.0), "s_min": (1e-4, 1.0)},
                "discretised-gaussian": {}, "discretised-logistic": {},
                "continuous-bernoulli": {}, "gaussian-nll-eps": {"nll_eps": (1e-8, 1e-2)},
                "beta-nll": {"beta_nll": (0.0, 1.0)}}


@given(decoder_families())
def test_decoder_families_have_documented_parameters(fam):
    assert isinstance(fam, DecoderFamily) and fam.name in DECODER_FAMILIES
    ranges = PARAM_RANGES[fam.name]
    assert set(fam.params) == set(ranges)
    for key, (lo, hi) in ranges.items():
        assert lo <= fam.params[key] <= hi and math.isfinite(fam.params[key])


@given(decoder_families(("floor",)))
def test_decoder_families_can_be_restricted(fam):
    assert fam.name == "floor"


def test_every_family_name_is_reachable():
    seen: set[str] = set()

    @given(decoder_families())
    def collect(fam):
        seen.add(fam.name)

    collect()
    assert seen == set(DECODER_FAMILIES)


@given(gaussian_vae_loss_inputs())
def test_loss_inputs_shapes_and_bounds(inp):
    assert isinstance(inp, GaussianVaeLossInputs)
    b, d = inp.x.shape
    assert inp.mu_x.shape == inp.logvar_x.shape == (b, d)
    assert inp.mu_z.shape == inp.logvar_z.shape and inp.mu_z.shape[0] == b
    assert _normal_and_bounded(inp.logvar_x, -3.0, 3.0)


@pytest.mark.parametrize("make, argument", [
    (lambda: bounded_floats(1.0, 1.0), "low, high"),
    (lambda: bounded_floats(0.0, math.inf), "low, high"),
    (lambda: float_arrays((2,), 2.0, 1.0), "low, high"),
    (lambda: decoder_families(("gaussian",)), "names"),
    (lambda: decoder_families(()), "names"),
])
def test_bad_arguments_raise_at_construction(make, argument):
    with pytest.raises(InvalidArgumentError) as info:
        make()
    assert info.value.argument == argument


@pytest.mark.parametrize("strategy, argument", [
    (spd_matrices(0), "dim"),
    (spd_matrices(2, jitter=0.0), "jitter"),
    (spd_matrices(2, entry_bound=-1.0), "entry_bound"),
    (point_sets(3, 2, min_separation=0.0), "min_separation"),
    (point_sets(0, 2), "n, dim"),
])
def test_bad_arguments_raise_when_drawn(strategy, argument):
    @given(strategy)
    def draw(_):
        pass

    with pytest.raises(InvalidArgumentError) as info:
        draw()
    assert info.value.argument == argument


@pytest.mark.slow
def test_importing_the_package_does_not_import_hypothesis():
    code = ("import sys, vaeproofs, vaeproofs.testing; "
            "print('hypothesis' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"
