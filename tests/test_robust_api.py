"""Hypothesis drives the public numeric and mpmath APIs with hostile arguments.

Every attempt must end in one of two ways: an :class:`InvalidArgumentError` (a
ValueError) whose message starts with the argument's name, or, for finite accepted
inputs, an output with no NaN or infinity.  Any other exception (a bare numpy, torch,
mpmath or Python error) or a numpy RuntimeWarning (turned into an error here) fails
the test.  Hostile means: non-real dtypes, NaN/inf entries, wrong ndim or shapes,
strings, bools, None, complex scalars, sizes up to the memory budget and beyond, and
finite values from 1e-300 to 1e300.

Runs under the project's hypothesis profile (``ci``: derandomised, 40 examples per
test); the attempts per API are counted in ``ATTEMPTS`` and printed at the end of the
module (``pytest -s``).
"""

from __future__ import annotations

import math
import warnings
from collections import Counter
from collections.abc import Callable, Iterator

import mpmath
import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from vaeproofs import InvalidArgumentError, linear
from vaeproofs import constructions as C
from vaeproofs import validation as v
from vaeproofs.numeric.data import from_array
from vaeproofs.numeric.linear import linear_elbo
from vaeproofs.strategies import linear_vae_params

ATTEMPTS: Counter[str] = Counter()
LINEAR_ARGS = ("x", "W", "b", "sigma2", "m", "S")
BAD_DTYPES = ("complex128", "complex64", "<U8", "|S8", "datetime64[s]", "timedelta64[s]",
              "object", "bool")
JUNK_SCALARS = (True, False, np.bool_(True), "1e-3", "abc", "", None, 1j, np.complex128(1),
                math.nan, math.inf, -math.inf, [1.0], np.array([1.0, 2.0]), 10**400,
                object())
#: The mpmath side accepts decimal strings on purpose ("1e-1000" is beyond float64).
#: Python ints of any size are exact there too (10**400 is a valid bound).
MPMATH_JUNK = tuple(j for j in JUNK_SCALARS
                    if not (isinstance(j, str) and j == "1e-3") and not isinstance(j, int))


@pytest.fixture(scope="module", autouse=True)
def _report() -> Iterator[None]:
    yield
    print(f"\nhostile attempts: {sum(ATTEMPTS.values())} {dict(sorted(ATTEMPTS.items()))}")


def _attempt(api: str, call: Callable[[], object], names: tuple[str, ...],
             expect: str | None = None) -> object | None:
    """Run ``call``; allow only InvalidArgumentError naming one of ``names`` (exactly
    ``expect`` when given); return the result or None when refused."""
    ATTEMPTS[api] += 1
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        try:
            return call()
        except InvalidArgumentError as exc:
            assert isinstance(exc, ValueError)
            assert exc.argument in names, (exc.argument, names, str(exc))
            assert str(exc).startswith(f"{exc.argument}: "), str(exc)
            if expect is not None:
                assert exc.argument == expect, (expect, str(exc))
            return None


def _as_dtype(arr: np.ndarray, dtype: str) -> np.ndarray:
    if dtype.startswith(("datetime", "timedelta")):
        return np.zeros(arr.shape, dtype=dtype)
    if dtype == "bool":
        return arr > 0
    return arr.astype(dtype)


@st.composite
def linear_problems(draw: st.DrawFn) -> dict[str, object]:
    """A valid linear-Gaussian problem of small size, values from a drawn seed."""
    n, d, k = draw(st.integers(1, 4)), draw(st.integers(1, 4)), draw(st.integers(1, 3))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    a = rng.normal(size=(k, k))
    return {"x": rng.normal(size=(n, d)), "W": rng.normal(size=(d, k)),
            "b": rng.normal(size=d), "sigma2": float(rng.uniform(0.1, 2.0)),
            "m": rng.normal(size=(n, k)), "S": a @ a.T + 0.5 * np.eye(k)}


@st.composite
def corrupted(draw: st.DrawFn) -> tuple[dict[str, object], str]:
    """A valid problem with exactly one argument made invalid; returns (args, its name)."""
    args = draw(linear_problems())
    name = draw(st.sampled_from(LINEAR_ARGS))
    value = args[name]
    if name == "sigma2":
        args[name] = draw(st.sampled_from(JUNK_SCALARS) | st.sampled_from(
            [0.0, -1.0, 1e-320, 5e-324, -1e-300]) | st.floats(max_value=0.0))
        return args, name
    arr = np.asarray(value)
    kind = draw(st.sampled_from(["dtype", "nonfinite", "ndim", "junk", "extra"]))
    if kind == "dtype":
        args[name] = _as_dtype(arr, draw(st.sampled_from(BAD_DTYPES)))
    elif kind == "nonfinite":
        bad = arr.copy()
        bad.flat[draw(st.integers(0, bad.size - 1))] = draw(
            st.sampled_from([math.nan, math.inf, -math.inf]))
        args[name] = bad
    elif kind == "ndim":
        args[name] = draw(st.sampled_from([arr[None, None], np.float64(1.0), arr.ravel()[:0]]))
        if name == "S":  # S may be (k, k) or (n, k, k): a 1-D or 4-D array is wrong for sure
            args[name] = draw(st.sampled_from([arr.ravel(), arr[None, None]]))
    elif kind == "junk":
        args[name] = draw(st.sampled_from(["abc", None, True, object(), [[1.0], [2.0, 3.0]]]))
    else:  # one entry too many along D (W, b) or k (m, S); x gets no rows (x sets n, D)
        if name == "x":
            args[name] = np.zeros((0, arr.shape[1]))
        elif name == "W":
            args[name] = np.concatenate([arr, arr[:1]], axis=0)
        else:
            args[name] = np.concatenate([arr, arr[..., :1]], axis=-1)
    return args, name


def _linear_calls(a: dict[str, object]) -> dict[str, tuple[Callable[[], object], tuple]]:
    x, W, b, s2, m, S = (a[n] for n in LINEAR_ARGS)
    return {
        "linear.elbo": (lambda: linear.elbo(x, W, b, s2, m, S), LINEAR_ARGS),
        "linear.kl_to_posterior": (lambda: linear.kl_to_posterior(x, W, b, s2, m, S),
                                   LINEAR_ARGS),
        "linear.posterior": (lambda: linear.posterior(x, W, b, s2), LINEAR_ARGS[:4]),
        "linear.log_marginal": (lambda: linear.log_marginal(x, W, b, s2), LINEAR_ARGS[:4]),
        "numeric.linear_elbo": (lambda: linear_elbo(x, W, b, s2, m, S), LINEAR_ARGS),
    }


@given(corrupted())
def test_one_bad_argument_is_named(case) -> None:
    args, name = case
    for api, (call, names) in _linear_calls(args).items():
        if name not in names:
            continue
        out = _attempt(api, call, names, expect=name)
        assert out is None, f"{api} accepted a bad {name}: {args[name]!r:.80}"


def _finite(out: object) -> bool:
    parts = out if isinstance(out, tuple) else (out,)
    return all(bool(np.all(np.isfinite(np.asarray(p)))) for p in parts)


EXPONENTS = st.integers(-30, 30) | st.integers(-300, 300)


@given(linear_problems(), st.lists(EXPONENTS, min_size=5, max_size=5),
       st.integers(-30, 30) | st.integers(-307, 307))
def test_finite_inputs_never_give_nan(args, exponents, s2_exponent) -> None:
    # Every argument scaled by its own power of ten: accepted results must be finite.
    for name, e in zip(("x", "W", "b", "m", "S"), exponents, strict=False):
        args[name] = np.asarray(args[name]) * 10.0**e
    args["sigma2"] = 10.0**s2_exponent
    for api, (call, names) in _linear_calls(args).items():
        out = _attempt(api, call, names)
        if out is not None:
            out = out.detach().numpy() if isinstance(out, torch.Tensor) else out
            assert _finite(out), f"{api} returned a non-finite value for finite inputs"


@given(st.integers(2, 12), st.integers(2, 6), st.integers(-300, 300),
       st.integers(0, 2**32 - 1), st.sampled_from(["normal", "repeat", "constant", "rank1"]))
def test_ppca_scaled_and_degenerate_data(n, d, e, seed, shape) -> None:
    rng = np.random.default_rng(seed)
    data = rng.normal(size=(n, d))
    if shape == "repeat":
        data[1:] = data[0]
    elif shape == "constant":
        data[:, 0] = 7.0
    elif shape == "rank1":
        data = np.outer(rng.normal(size=n), rng.normal(size=d))
    k = int(rng.integers(1, d))
    fit = _attempt("linear.ppca_mle", lambda: linear.ppca_mle(data * 10.0**e, k), ("X",))
    if fit is not None:
        assert _finite((fit.W, fit.b, fit.sigma2, fit.loglik, fit.eigenvalues))
        assert fit.sigma2 > 0


@given(st.sampled_from((*BAD_DTYPES, "nonfinite", "1d", "3d", "one_row", "junk")),
       st.sampled_from(["X", "k", "memory_budget"]), st.sampled_from(JUNK_SCALARS))
def test_ppca_bad_arguments(kind, target, junk) -> None:
    data = np.random.default_rng(3).normal(size=(6, 3))
    k: object = 1
    budget: object = None
    if target == "X":
        data = {"nonfinite": np.where(data > 1, math.inf, data), "1d": data.ravel(),
                "3d": data[None], "one_row": data[:1], "junk": junk}.get(kind)
        if data is None:
            data = _as_dtype(np.random.default_rng(3).normal(size=(6, 3)), kind)
    elif target == "k":
        k = junk
    else:
        budget = junk
    out = _attempt("linear.ppca_mle",
                   lambda: linear.ppca_mle(data, k, memory_budget=budget), (target,))
    assert out is None


@given(st.integers(1, 10**6), st.integers(1, 10**6))
def test_huge_sizes_are_refused_before_allocation(n, d) -> None:
    # Broadcast views cost no memory; the estimate is refused against a 1 MiB budget.
    x = np.broadcast_to(np.float64(0.5), (n, d)) if n * d <= 2**22 else None
    w = np.broadcast_to(np.float64(0.5), (d, 2))
    if x is None:
        estimate_only = v.check_memory
        out = _attempt("validation.check_memory",
                       lambda: estimate_only("x", 8 * 3 * n * d, 2**20), ("x",))
        assert out is None
        return
    out = _attempt("linear.log_marginal",
                   lambda: linear.log_marginal(x, w, np.zeros(d), 1.0, memory_budget=2**20),
                   ("x",))
    assert out is None or _finite(out)


@given(st.sampled_from((*BAD_DTYPES, "nonfinite", "1d", "3d", "one_row")),
       st.sampled_from((*JUNK_SCALARS, 0.0, 1.0, -0.5)),
       st.sampled_from(["data", "test_fraction", "seed", "binarized", "name"]))
def test_from_array_refuses_by_name(kind, junk, target) -> None:
    good = np.random.default_rng(4).normal(size=(6, 3))
    kwargs: dict[str, object] = {}
    data: object = good
    if target == "data":
        data = {"nonfinite": np.where(good > 1, math.nan, good), "1d": good.ravel(),
                "3d": good[None], "one_row": good[:1]}.get(kind)
        if data is None:
            data = _as_dtype(good, kind)
    else:
        kwargs[target] = junk
    out = _attempt("data.from_array", lambda: from_array(data, **kwargs), (target,))
    if out is not None:  # a junk value that happens to be valid (e.g. binarized=False)
        assert target != "data"
        assert np.all(np.isfinite(out.train)) and np.all(np.isfinite(out.test))


@given(st.sampled_from((*MPMATH_JUNK, "1e-3", "1e-1000", 0, 1, -1.0, 2.0, np.float32(0.5), np.int64(3))),
       st.sampled_from([c.name for c in C.all_constructions()]))
def test_constructions_refuse_by_name(value, name) -> None:
    c = C.get(name)
    out = _attempt("construction.check_parameter", lambda: c.check_parameter(value),
                   (c.parameter,))
    if out is not None:
        assert mpmath.isfinite(out)
        return
    # A refused value is refused by evaluate too (as "values" or by the parameter's name).
    row = _attempt("constructions.evaluate_construction",
                   lambda: C.evaluate_construction(c, [value], digits=False), ("values", c.parameter))
    assert row is None


@given(st.sampled_from((*MPMATH_JUNK, math.nan, "inf", "-inf", "nan", "1e5000")))
def test_parameter_exceeding_refuses_by_name(bound) -> None:
    c = C.get("degenerate_linear")
    out = _attempt("construction.parameter_exceeding", lambda: c.parameter_exceeding(bound),
                   ("bound",))
    assert out is None


@given(st.sampled_from((*JUNK_SCALARS, 0, -1, 0.0, 10 ** 9)),
       st.sampled_from(["data_dim", "latent_dim", "n", "weight_bound", "sigma2_range",
                        "mean_bound"]))
def test_strategy_arguments_refuse_by_name(junk, target) -> None:
    if isinstance(junk, int) and junk == 10**9 and target.endswith("bound"):
        junk = -(10**9)  # a huge bound is valid; a huge size is not
    kwargs: dict[str, object] = {"data_dim": 2, "latent_dim": 1, "n": 2}
    kwargs[target] = junk if target != "sigma2_range" else (junk, 1.0)
    out = _attempt("strategies.linear_vae_params", lambda: linear_vae_params(**kwargs),
                   (target,))
    assert out is None


@given(st.sampled_from((*JUNK_SCALARS, -1.0, 0.0)))
def test_validation_helpers_refuse_by_name(junk) -> None:
    assert _attempt("validation.check_positive",
                    lambda: v.check_positive("sigma2", junk), ("sigma2",)) is None
    assert _attempt("validation.check_int_range",
                    lambda: v.check_int_range("k", junk, low=1, high=5), ("k",)) is None
