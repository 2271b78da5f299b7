"""vaeproofs.linear refuses what it cannot compute and computes what float64 can hold.

Defects checked (each test failed before the fix): non-real dtypes converted silently;
D x D allocations (ppca_mle at D = 200000 asked for 298 GiB, log_marginal at D = 1e5 for
75 GiB); ppca_mle depending on the scale of X; NaN from finite inputs (W * 1e200,
sigma2 = 1e-320).

Scale checks use powers of two c = 2**j: multiplying by c is exact in float64, so the
equivariances hold exactly for W, sigma2, the posterior, and to the round-off of one
added term (n D log c, D log c) for log-likelihoods.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from vaeproofs import InvalidArgumentError, linear
from vaeproofs.validation import GIB, MEMORY_BUDGET_ENV

EPS = np.finfo(np.float64).eps
RNG = np.random.default_rng(11)
N, D, K = 5, 4, 2
X = RNG.normal(size=(N, D))
W = RNG.normal(size=(D, K))
B = RNG.normal(size=D)
M = RNG.normal(size=(N, K))
S = np.array([[1.0, 0.3], [0.3, 0.5]])


def _calls(x=X, W=W, b=B, sigma2=0.3, m=M, S=S, **kw):
    return {
        "elbo": lambda: linear.elbo(x, W, b, sigma2, m, S, **kw),
        "kl_to_posterior": lambda: linear.kl_to_posterior(x, W, b, sigma2, m, S, **kw),
        "posterior": lambda: linear.posterior(x, W, b, sigma2, **kw),
        "log_marginal": lambda: linear.log_marginal(x, W, b, sigma2, **kw),
    }


BAD_DTYPES = {
    "complex128": X.astype(np.complex128),
    "<U32": X.astype(str),                     # numeric strings np.asarray would parse
    "datetime64[s]": np.zeros(X.shape, dtype="datetime64[s]"),
    "object": X.astype(object),
    "bool": X > 0,
}


@pytest.mark.parametrize("dtype", sorted(BAD_DTYPES))
@pytest.mark.parametrize("func", sorted(_calls()))
def test_non_real_dtypes_are_refused_by_name(func: str, dtype: str) -> None:
    with pytest.raises(InvalidArgumentError) as exc:
        _calls(x=BAD_DTYPES[dtype])[func]()
    assert str(exc.value) == f"x: must be a real floating or integer array, got dtype {dtype}"


@pytest.mark.parametrize("dtype", sorted(BAD_DTYPES))
def test_ppca_refuses_non_real_dtypes(dtype: str) -> None:
    data = np.resize(BAD_DTYPES[dtype], (6, D))
    with pytest.raises(InvalidArgumentError, match=rf"^X: .*got dtype {re.escape(dtype)}$"):
        linear.ppca_mle(data, 1)


def test_parameters_refuse_complex_too() -> None:
    with pytest.raises(InvalidArgumentError, match=r"^W: .*complex128"):
        linear.elbo(X, W + 0j, B, 0.3, M, S)
    with pytest.raises(InvalidArgumentError, match=r"^sigma2: .*complex"):
        linear.posterior(X, W, B, np.complex128(0.3))
    with pytest.raises(InvalidArgumentError, match=r"^sigma2: .*bool"):
        linear.posterior(X, W, B, True)


def test_integer_and_float32_arrays_are_accepted() -> None:
    ref = linear.log_marginal(np.round(X), W.astype(np.float32), B, 0.5)
    got = linear.log_marginal(np.round(X).astype(np.int64), W.astype(np.float32),
                              B, np.float32(0.5))
    np.testing.assert_array_equal(got, ref)  # the same float64 values after conversion


def test_log_marginal_and_ppca_need_no_d_by_d_matrix() -> None:
    # Before: log_marginal formed the 1e5 x 1e5 covariance (75 GiB), ppca_mle the
    # 2e5 x 2e5 one (298 GiB).  Now both use O(n D + D k) memory.
    big = 100_000
    x = np.zeros((1, big))
    w = np.ones((big, 1))
    # x = b: quadratic form 0; log det (w w^T + I) = log(1 + ||w||^2) (determinant lemma).
    want = -0.5 * (big * math.log(2 * math.pi) + math.log1p(big))
    got = linear.log_marginal(x, w, np.zeros(big), 1.0)
    assert abs(got[0] - want) <= 10 * big * EPS * abs(want)
    fit = linear.ppca_mle(RNG.normal(size=(3, 200_000)), 1)
    assert fit.W.shape == (200_000, 1) and fit.eigenvalues.shape == (200_000,)
    assert np.isfinite(fit.loglik) and fit.sigma2 > 0


def test_memory_budget_is_enforced_by_keyword_and_environment(monkeypatch) -> None:
    with pytest.raises(InvalidArgumentError, match=r"^X: needs about .* over the memory budget"):
        linear.ppca_mle(RNG.normal(size=(50, 40)), 2, memory_budget=1000)
    for func in _calls(memory_budget=1000).values():
        with pytest.raises(InvalidArgumentError, match=r"^x: needs about .* budget of 1000 B"):
            func()
    monkeypatch.setenv(MEMORY_BUDGET_ENV, str(1000 / GIB))
    with pytest.raises(InvalidArgumentError, match=r"^x: needs about .* budget of 1000 B"):
        linear.log_marginal(X, W, B, 0.3)
    monkeypatch.setenv(MEMORY_BUDGET_ENV, "lots")
    with pytest.raises(InvalidArgumentError, match=rf"^{MEMORY_BUDGET_ENV}: "):
        linear.log_marginal(X, W, B, 0.3)


@pytest.mark.parametrize("j", [-480, -100, 7, 300, 510])
def test_ppca_is_scale_equivariant(j: int) -> None:
    # j = 510: n * variance exceeds float64's maximum (before: LinAlgError).
    data = RNG.normal(size=(200, 3)) * np.array([3.0, 1.0, 0.5])
    c = 2.0**j
    ref, fit = linear.ppca_mle(data, 1), linear.ppca_mle(data * c, 1)
    np.testing.assert_array_equal(fit.W, ref.W * c)
    np.testing.assert_array_equal(fit.b, ref.b * c)
    assert fit.sigma2 == ref.sigma2 * c * c
    np.testing.assert_array_equal(fit.eigenvalues, ref.eigenvalues * c * c)
    shift = 200 * 3 * j * math.log(2.0)
    assert abs(fit.loglik - (ref.loglik - shift)) <= 8 * EPS * (abs(ref.loglik) + abs(shift))


def test_ppca_rank_decision_does_not_depend_on_scale() -> None:
    rank_one = np.outer(RNG.normal(size=8), RNG.normal(size=3))
    full = rank_one + RNG.normal(size=rank_one.shape)
    for c in (2.0**-480, 1e-150, 1.0, 1e150, 2.0**500):
        with pytest.raises(InvalidArgumentError, match="rank <= k = 1"):
            linear.ppca_mle(rank_one * c, 1)
        assert linear.ppca_mle(full * c, 1).sigma2 > 0


@pytest.mark.parametrize("c", [1e200, 1e-170])
def test_ppca_refuses_unrepresentable_variances_by_their_reason(c: float) -> None:
    # Variances ~ c^2 = 1e400 or 1e-340 have no float64; before: LinAlgError, or a
    # false "rank <= k" for full-rank data.
    data = RNG.normal(size=(20, 3))
    with pytest.raises(InvalidArgumentError) as exc:
        linear.ppca_mle(data * c, 1)
    assert str(exc.value).startswith("X: its variances")
    assert "rank" not in str(exc.value)


@pytest.mark.parametrize("j", [-500, 300, 511])
def test_linear_gaussian_functions_are_scale_equivariant(j: int) -> None:
    # (x, W, b, sigma2) -> (c x, c W, c b, c^2 sigma2): the posterior is unchanged and
    # every log-density shifts by -D log c.  j = 511: before, ELBO = -inf (squares overflow).
    c = 2.0**j
    args, scaled = (X, W, B, 0.3), (X * c, W * c, B * c, 0.3 * c * c)
    shift = D * j * math.log(2.0)
    for f in (linear.elbo, linear.kl_to_posterior):
        ref, got = f(*args, M, S), f(*scaled, M, S)
        offset = shift if f is linear.elbo else 0.0
        np.testing.assert_allclose(got, ref - offset, rtol=0,
                                   atol=64 * EPS * (np.abs(ref) + abs(offset)).max())
    ref, got = linear.log_marginal(*args), linear.log_marginal(*scaled)
    np.testing.assert_allclose(got, ref - shift, rtol=0,
                               atol=64 * EPS * (np.abs(ref) + abs(shift)).max())
    for r, g in zip(linear.posterior(*args), linear.posterior(*scaled), strict=True):
        np.testing.assert_allclose(g, r, rtol=64 * EPS, atol=0)


def test_log_marginal_holds_where_the_covariance_overflows() -> None:
    # W * 1e200: C = W W^T + sigma2 I has entries ~1e400, yet log p(x) ~ -1e3 is a
    # float64.  Reference: the determinant lemma and the projection form, each term
    # computed separately in log space (d = singular values of W * 1e200).
    big = W * 1e200
    U, d, _ = np.linalg.svd(W, full_matrices=False)
    r = X - B
    p = r @ U
    e = r - p @ U.T
    logdet = 2 * np.log(d).sum() + 2 * K * math.log(1e200) + (D - K) * math.log(0.3)
    quad = (e * e).sum(axis=1) / 0.3  # p^2 / (d^2 1e400 + 0.3) is below 1e-390: 0
    want = -0.5 * (D * math.log(2 * math.pi) + logdet + quad)
    np.testing.assert_allclose(linear.log_marginal(X, big, B, 0.3), want, rtol=1e-12)


@pytest.mark.parametrize("func", ["elbo", "kl_to_posterior", "posterior"])
def test_overflowing_results_are_refused_not_nan(func: str) -> None:
    # Before: NaN.  The true values (~ -1e400 nats, a covariance ~1e-401) have no float64.
    with pytest.raises(InvalidArgumentError, match=r"^sigma2: .*float64"):
        _calls(W=W * 1e200)[func]()


@pytest.mark.parametrize("func", sorted(_calls()))
def test_subnormal_sigma2_is_refused_with_the_range(func: str) -> None:
    with pytest.raises(InvalidArgumentError, match=r"^sigma2: must be >= 2\.2250738585072014e-308"):
        _calls(sigma2=1e-320)[func]()
