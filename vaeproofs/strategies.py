"""Hypothesis strategies for testing VAE code: linear-Gaussian problems, data, decoders.

Import them in your own tests::

    from hypothesis import given
    from vaeproofs.strategies import linear_vae_cases, point_sets

    @given(linear_vae_cases())
    def test_my_elbo(case):
        ...

Every float is drawn from an explicit closed interval, finite, never NaN or infinite and
never subnormal (``allow_subnormal=False``), so values like 1e308 or 5e-324 never reach
the code under test; every covariance is symmetric positive definite with a stated bound on
its condition number; every data set has distinct points a stated distance apart.

This module imports :mod:`hypothesis` (``pip install "vaeproofs[strategies]"``; also in the
test extra); ``import vaeproofs`` does not.  Without hypothesis, importing this module
raises an :class:`ImportError` that says what to install.
Conventions: ``sigma2``, ``gamma``, ``xi`` and ``s0^2`` are VARIANCES (not standard
deviations); covariance matrices are full (k, k) arrays.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np
from numpy.typing import NDArray

from vaeproofs.constants import DECODER_FAMILIES
from vaeproofs.errors import InvalidArgumentError
from vaeproofs.validation import as_real, check_int_range, check_positive

#: What to install when hypothesis is missing (the message of the ImportError below).
INSTALL_HINT = ('vaeproofs.strategies needs hypothesis, which is not installed: '
                'pip install "vaeproofs[strategies]"')

try:
    from hypothesis import strategies as st
    from hypothesis.extra import numpy as hnp
except ImportError as exc:
    raise ImportError(INSTALL_HINT, name="hypothesis") from exc

__all__ = [
    "DECODER_FAMILIES",
    "DecoderFamily",
    "GaussianVaeLossInputs",
    "LinearVaeCase",
    "bounded_floats",
    "decoder_families",
    "float_arrays",
    "gaussian_vae_loss_inputs",
    "linear_vae_cases",
    "linear_vae_params",
    "point_sets",
    "spd_matrices",
]



#: Largest size (points, dimensions, batch) a strategy here accepts: they draw small
#: test problems, and a typo such as data_dim=10**9 should fail at once, not in a draw.
MAX_SIZE = 10_000


def _check_interval(low: float, high: float, name: str = "low, high") -> None:
    try:
        lo, hi = as_real(name, low), as_real(name, high)
    except InvalidArgumentError as exc:
        raise InvalidArgumentError(name, f"must be finite real numbers with low < high, got "
                                         f"[{low!r}, {high!r}]") from exc
    if not lo < hi:
        raise InvalidArgumentError(name, f"must be finite with low < high, got [{low}, {high}]")


def _check_size(name: str, value: int, low: int = 1) -> int:
    return check_int_range(name, value, low=low, high=MAX_SIZE)


def _check_range_pair(name: str, value: object, *, positive: bool) -> tuple[float, float]:
    """A (low, high) pair of finite reals with low < high (and low > 0 if ``positive``)."""
    if isinstance(value, (str, bytes)) or not hasattr(value, "__len__") or len(value) != 2:
        raise InvalidArgumentError(name, f"must be a pair (low, high), got {value!r:.60}")
    lo_raw, hi_raw = value[0], value[1]  # type: ignore[index]
    _check_interval(lo_raw, hi_raw, name)
    lo, hi = float(lo_raw), float(hi_raw)
    if positive and lo <= 0:
        raise InvalidArgumentError(name, f"must lie in (0, oo) (a variance), got ({lo}, {hi})")
    return lo, hi


def bounded_floats(low: float, high: float) -> st.SearchStrategy[float]:
    """Finite float64 values in the closed interval [low, high], no NaN, inf or subnormal."""
    _check_interval(low, high)
    return st.floats(min_value=low, max_value=high, allow_nan=False, allow_infinity=False,
                     allow_subnormal=False, width=64)


def float_arrays(shape: tuple[int, ...], low: float, high: float
                 ) -> st.SearchStrategy[NDArray[np.float64]]:
    """float64 arrays of a fixed shape with elements from :func:`bounded_floats`.

    ``shape``: a tuple of integers in [0, MAX_SIZE].
    """
    if not isinstance(shape, tuple):
        raise InvalidArgumentError("shape", f"must be a tuple of sizes, got {shape!r:.60}")
    for size in shape:
        _check_size("shape", size, low=0)
    _check_interval(low, high)
    return hnp.arrays(np.float64, shape, elements=bounded_floats(low, high))


@st.composite
def spd_matrices(draw: st.DrawFn, dim: int, *, entry_bound: float = 1.0,
                 jitter: float = 0.1) -> NDArray[np.float64]:
    """Symmetric positive definite (dim, dim) matrices S = L L^T + delta I.

    L has entries in [-entry_bound, entry_bound] and delta in [jitter, 1], so the
    eigenvalues of S lie in [jitter, 1 + dim^2 * entry_bound^2] (the largest eigenvalue
    of L L^T is ||L||_2^2 <= ||L||_F^2 <= dim^2 entry_bound^2) and
    cond(S) <= (1 + dim^2 * entry_bound^2) / jitter: for the defaults and dim <= 3,
    cond(S) <= 100.
    """
    if dim < 1:
        raise InvalidArgumentError("dim", f"must be >= 1, got {dim}")
    if not (math.isfinite(entry_bound) and entry_bound > 0):
        raise InvalidArgumentError("entry_bound", f"must be finite and > 0, got {entry_bound}")
    if not (0 < jitter < 1):
        raise InvalidArgumentError("jitter", f"must be in (0, 1), got {jitter}")
    lower = draw(float_arrays((dim, dim), -entry_bound, entry_bound))
    delta = draw(bounded_floats(jitter, 1.0))
    s = lower @ lower.T + delta * np.eye(dim)
    return 0.5 * (s + s.T)


@dataclass(frozen=True)
class LinearVaeCase:
    """One linear-Gaussian VAE problem: data and every parameter of model and posterior.

    Model p(z) = N(0, I_k), p(x | z) = N(W z + b, sigma2 I_D); variational posterior
    q(z | x_i) = N(m[i], S), one covariance S shared by all points.

    Attributes:
        x: data, shape (n, D), distinct rows.
        W: (D, k) decoder weights.  b: (D,) decoder bias.
        sigma2: decoder noise variance (> 0).
        m: (n, k) posterior means.  S: (k, k) SPD posterior covariance.
    """

    x: NDArray[np.float64]
    W: NDArray[np.float64]
    b: NDArray[np.float64]
    sigma2: float
    m: NDArray[np.float64]
    S: NDArray[np.float64]

    @property
    def data_dim(self) -> int:
        return int(self.x.shape[1])

    @property
    def latent_dim(self) -> int:
        return int(self.W.shape[1])


@st.composite
def point_sets(draw: st.DrawFn, n: int | st.SearchStrategy[int] | None = None,
               dim: int | st.SearchStrategy[int] | None = None, *, low: float = -3.0,
               high: float = 3.0, min_separation: float = 0.05) -> NDArray[np.float64]:
    """Data sets of ``n`` distinct points in R^dim, pairwise at least ``min_separation`` apart.

    Construction: the first coordinates are a start value plus cumulative gaps, each gap
    >= min_separation (so any two points differ by at least that much in the first
    coordinate alone), then the rows are put in a random order; other coordinates lie in
    [low, high].  The first coordinate may extend past ``high`` by at most
    (n - 1) * 2 * min_separation.  Defaults: n in [2, 8], dim in [1, 5].
    """
    n_val = draw(n if isinstance(n, st.SearchStrategy) else
                 st.just(n) if n is not None else st.integers(2, 8))
    d_val = draw(dim if isinstance(dim, st.SearchStrategy) else
                 st.just(dim) if dim is not None else st.integers(1, 5))
    if n_val < 1 or d_val < 1:
        raise InvalidArgumentError("n, dim", f"must be >= 1, got n={n_val}, dim={d_val}")
    if not (math.isfinite(min_separation) and min_separation > 0):
        raise InvalidArgumentError("min_separation", f"must be finite and > 0, got "
                                                     f"{min_separation}")
    _check_interval(low, high)
    start = draw(bounded_floats(low, high))
    gaps = draw(float_arrays((max(n_val - 1, 0),), min_separation, 2.0 * min_separation))
    first = start + np.concatenate([[0.0], np.cumsum(gaps)])
    rest = draw(float_arrays((n_val, d_val - 1), low, high))
    order = draw(st.permutations(range(n_val)))
    return np.column_stack([first[list(order)], rest])


def linear_vae_params(data_dim: int, latent_dim: int, n: int, *, weight_bound: float = 2.0,
                      sigma2_range: tuple[float, float] = (0.05, 5.0), mean_bound: float = 2.0
                      ) -> st.SearchStrategy[tuple[NDArray[np.float64], NDArray[np.float64],
                                                   float, NDArray[np.float64],
                                                   NDArray[np.float64]]]:
    """Parameters (W, b, sigma2, m, S) of a linear-Gaussian VAE for given dimensions.

    W and b have entries in [-weight_bound, weight_bound]; sigma2 (a variance) in
    ``sigma2_range``; m (n, k) in [-mean_bound, mean_bound]; S from :func:`spd_matrices`
    (cond(S) <= (1 + k^2) / 0.1).  Draws the tuple (W, b, sigma2, m, S).

    The arguments are checked when the strategy is made (InvalidArgumentError naming the
    argument): sizes are integers in [1, MAX_SIZE], bounds finite and > 0,
    ``sigma2_range`` a pair 0 < low < high.
    """
    _check_size("data_dim", data_dim)
    _check_size("latent_dim", latent_dim)
    _check_size("n", n)
    check_positive("weight_bound", weight_bound)
    check_positive("mean_bound", mean_bound)
    sigma2_range = _check_range_pair("sigma2_range", sigma2_range, positive=True)
    return _linear_vae_params(int(data_dim), int(latent_dim), int(n),
                              weight_bound=float(weight_bound), sigma2_range=sigma2_range,
                              mean_bound=float(mean_bound))


@st.composite
def _linear_vae_params(draw: st.DrawFn, data_dim: int, latent_dim: int, n: int, *,
                       weight_bound: float, sigma2_range: tuple[float, float],
                       mean_bound: float
                       ) -> tuple[NDArray[np.float64], NDArray[np.float64], float,
                                  NDArray[np.float64], NDArray[np.float64]]:
    W = draw(float_arrays((data_dim, latent_dim), -weight_bound, weight_bound))
    b = draw(float_arrays((data_dim,), -weight_bound, weight_bound))
    sigma2 = draw(bounded_floats(*sigma2_range))
    m = draw(float_arrays((n, latent_dim), -mean_bound, mean_bound))
    S = draw(spd_matrices(latent_dim))
    return W, b, float(sigma2), m, S


def linear_vae_cases(*, max_points: int = 6, max_data_dim: int = 5, max_latent_dim: int = 3,
                     sigma2_range: tuple[float, float] = (0.05, 5.0)
                     ) -> st.SearchStrategy[LinearVaeCase]:
    """A :class:`LinearVaeCase` of random small dimensions.

    n in [1, max_points], D in [1, max_data_dim], k in [1, max_latent_dim] (k <= D is not
    required); data from :func:`point_sets` (distinct, |x| <= about 3); parameters from
    :func:`linear_vae_params`.  Arguments are checked when the strategy is made.
    """
    _check_size("max_points", max_points)
    _check_size("max_data_dim", max_data_dim)
    _check_size("max_latent_dim", max_latent_dim)
    sigma2_range = _check_range_pair("sigma2_range", sigma2_range, positive=True)
    return _linear_vae_cases(max_points=int(max_points), max_data_dim=int(max_data_dim),
                             max_latent_dim=int(max_latent_dim), sigma2_range=sigma2_range)


@st.composite
def _linear_vae_cases(draw: st.DrawFn, *, max_points: int, max_data_dim: int,
                      max_latent_dim: int, sigma2_range: tuple[float, float]) -> LinearVaeCase:
    n = draw(st.integers(1, max_points))
    d = draw(st.integers(1, max_data_dim))
    k = draw(st.integers(1, max_latent_dim))
    x = draw(point_sets(n, d))
    W, b, sigma2, m, S = draw(_linear_vae_params(d, k, n, weight_bound=2.0,
                                                 sigma2_range=sigma2_range, mean_bound=2.0))
    return LinearVaeCase(x=x, W=W, b=b, sigma2=float(sigma2), m=m, S=S)


@dataclass(frozen=True)
class DecoderFamily:
    """A decoder family of docs/theory.md section 1 and its fixed hyper-parameters.

    ``name`` is one of :data:`DECODER_FAMILIES`; ``params`` holds, by family:
    fixed: ``s0_squared`` (variance); shared: ``gamma`` (initial shared variance);
    per-pixel: none; floor: ``xi`` (variance floor > 0); bernoulli: none;
    student-t: ``nu`` (degrees of freedom > 0); softclip: ``softclip_min`` (lower soft
    bound on log sigma); student-t-floored: ``nu`` and ``s_min`` (scale floor > 0);
    discretised-gaussian, discretised-logistic, continuous-bernoulli: none;
    gaussian-nll-eps: ``nll_eps`` (> 0); beta-nll: ``beta_nll`` (>= 0).
    """

    name: str
    params: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))


def decoder_families(names: tuple[str, ...] = DECODER_FAMILIES
                     ) -> st.SearchStrategy[DecoderFamily]:
    """A decoder family with bounded hyper-parameters.

    Ranges: s0^2 in [0.01, 10]; gamma in [0.01, 10]; xi in [1e-3, 1]; nu in [1, 30];
    softclip_min in [-8, -2]; s_min in [1e-4, 1]; nll_eps in [1e-8, 1e-2]; beta_nll in [0, 1].
    """
    unknown = [nm for nm in names if nm not in DECODER_FAMILIES]
    if unknown or not names:
        raise InvalidArgumentError("names", f"must be a non-empty subset of "
                                            f"{DECODER_FAMILIES}, got {names!r}")
    params: dict[str, st.SearchStrategy[dict[str, float]]] = {
        "fixed": st.fixed_dictionaries({"s0_squared": bounded_floats(0.01, 10.0)}),
        "shared": st.fixed_dictionaries({"gamma": bounded_floats(0.01, 10.0)}),
        "per-pixel": st.just({}),
        "floor": st.fixed_dictionaries({"xi": bounded_floats(1e-3, 1.0)}),
        "bernoulli": st.just({}),
        "student-t": st.fixed_dictionaries({"nu": bounded_floats(1.0, 30.0)}),
        "softclip": st.fixed_dictionaries({"softclip_min": bounded_floats(-8.0, -2.0)}),
        "student-t-floored": st.fixed_dictionaries({"nu": bounded_floats(1.0, 30.0),
                                                    "s_min": bounded_floats(1e-4, 1.0)}),
        "discretised-gaussian": st.just({}),
        "discretised-logistic": st.just({}),
        "continuous-bernoulli": st.just({}),
        "gaussian-nll-eps": st.fixed_dictionaries({"nll_eps": bounded_floats(1e-8, 1e-2)}),
        "beta-nll": st.fixed_dictionaries({"beta_nll": bounded_floats(0.0, 1.0)}),
    }
    return st.sampled_from(names).flatmap(
        lambda nm: params[nm].map(lambda p: DecoderFamily(nm, MappingProxyType(dict(p)))))


@dataclass(frozen=True)
class GaussianVaeLossInputs:
    """Arguments of a Gaussian-VAE loss ``loss_fn(x, mu_x, logvar_x, mu_z, logvar_z)``.

    Numpy float64 arrays, batch first: x, mu_x, logvar_x of shape (B, D); mu_z, logvar_z
    of shape (B, K); log-variances (natural log).
    """

    x: NDArray[np.float64]
    mu_x: NDArray[np.float64]
    logvar_x: NDArray[np.float64]
    mu_z: NDArray[np.float64]
    logvar_z: NDArray[np.float64]


def gaussian_vae_loss_inputs(*, max_batch: int = 8, max_data_dim: int = 6,
                             max_latent_dim: int = 4, logvar_bound: float = 3.0
                             ) -> st.SearchStrategy[GaussianVaeLossInputs]:
    """Inputs for a user's Gaussian-VAE loss: values in [-3, 3], |log-variances| <= bound.

    Arguments are checked when the strategy is made (sizes in [1, MAX_SIZE], bound > 0).
    """
    _check_size("max_batch", max_batch)
    _check_size("max_data_dim", max_data_dim)
    _check_size("max_latent_dim", max_latent_dim)
    check_positive("logvar_bound", logvar_bound)
    return _gaussian_vae_loss_inputs(max_batch=int(max_batch), max_data_dim=int(max_data_dim),
                                     max_latent_dim=int(max_latent_dim),
                                     logvar_bound=float(logvar_bound))


@st.composite
def _gaussian_vae_loss_inputs(draw: st.DrawFn, *, max_batch: int, max_data_dim: int,
                              max_latent_dim: int, logvar_bound: float
                              ) -> GaussianVaeLossInputs:
    b = draw(st.integers(1, max_batch))
    d = draw(st.integers(1, max_data_dim))
    k = draw(st.integers(1, max_latent_dim))
    return GaussianVaeLossInputs(
        x=draw(float_arrays((b, d), -3.0, 3.0)),
        mu_x=draw(float_arrays((b, d), -3.0, 3.0)),
        logvar_x=draw(float_arrays((b, d), -logvar_bound, logvar_bound)),
        mu_z=draw(float_arrays((b, k), -3.0, 3.0)),
        logvar_z=draw(float_arrays((b, k), -logvar_bound, logvar_bound)))
