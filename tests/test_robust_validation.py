"""The shared argument checks (vaeproofs.validation) and the strategies' arguments.

Each test failed before the fix: numbers were checked with ``float()``, so
``sigma2=True`` and ``'1e-3'`` passed as 1.0 and 0.001 while ``k=True`` was refused;
arrays of complex, strings, datetimes, objects and bools were converted; there was no
memory budget; and ``linear_vae_params(sigma2_range=(-1, 1))`` or ``data_dim=0`` made a
strategy that drew invalid cases.
"""

from __future__ import annotations

import fractions

import numpy as np
import pytest
from hypothesis import given

from vaeproofs import InvalidArgumentError, linear
from vaeproofs import validation as v
from vaeproofs.strategies import gaussian_vae_loss_inputs, linear_vae_cases, linear_vae_params


@pytest.mark.parametrize("value", [True, False, np.bool_(True), "1e-3", b"1", 1j,
                                   np.complex64(1), np.array([1.0]), np.array(True), None,
                                   10**400])
def test_check_positive_refuses_non_numbers_by_name(value: object) -> None:
    with pytest.raises(InvalidArgumentError) as exc:
        v.check_positive("sigma2", value)
    assert str(exc.value).startswith("sigma2: must be ")


@pytest.mark.parametrize("value", [np.int64(3), np.float32(3), np.float16(3), np.uint8(3),
                                   np.array(3.0), fractions.Fraction(3), 3, 3.0])
def test_check_positive_accepts_numbers_of_every_kind(value: object) -> None:
    got = v.check_positive("sigma2", value)
    assert got == 3.0 and type(got) is float


def test_public_functions_inherit_the_checks() -> None:
    x, w, b = np.zeros((2, 3)), np.ones((3, 1)), np.zeros(3)
    for bad in (True, "0.5"):
        with pytest.raises(InvalidArgumentError, match=r"^sigma2: must be a real number"):
            linear.log_marginal(x, w, b, bad)
    ref = linear.log_marginal(x, w, b, 0.5)
    np.testing.assert_array_equal(linear.log_marginal(x, w, b, np.float32(0.5)), ref)


@pytest.mark.parametrize("value", [True, np.bool_(True), 3.0, "3", np.float64(3)])
def test_check_int_range_refuses_non_integers(value: object) -> None:
    with pytest.raises(InvalidArgumentError, match=r"^k: must be an integer"):
        v.check_int_range("k", value, low=1, high=5)


@pytest.mark.parametrize(("value", "dtype"), [
    (np.ones(3, dtype=np.complex128), "complex128"),
    (np.array(["1", "2"]), "<U1"),
    (np.array(["2020-01-01"], dtype="datetime64[D]"), "datetime64[D]"),
    (np.array([1.0, None]), "object"),
    (np.array([True, False]), "bool"),
    ([1.0, 2j], "complex128"),
    (["1.0", "2.0"], "<U3"),
])
def test_as_float_array_refuses_non_real_dtypes(value: object, dtype: str) -> None:
    with pytest.raises(InvalidArgumentError) as exc:
        v.as_float_array("x", value)
    assert str(exc.value) == f"x: must be a real floating or integer array, got dtype {dtype}"


def test_as_float_array_refuses_strings_and_ragged_input() -> None:
    for bad in ("1,2,3", [[1.0, 2.0], [3.0]]):
        with pytest.raises(InvalidArgumentError, match=r"^x: must be a real array"):
            v.as_float_array("x", bad)


def test_check_memory_budget_sources(monkeypatch) -> None:
    monkeypatch.delenv(v.MEMORY_BUDGET_ENV, raising=False)
    assert v.memory_budget() == v.DEFAULT_MEMORY_BUDGET == 4 * v.GIB
    v.check_memory("x", 4 * v.GIB)  # at the budget: fine
    with pytest.raises(InvalidArgumentError,
                       match=r"^X: needs about 298 GiB for the fit, over the memory budget of "
                             r"4 GiB \(raise it with memory_budget=<bytes> or the environment "
                             r"variable VAEPROOFS_MEMORY_BUDGET_GB=<GiB>\)$"):
        v.check_memory("X", 298 * v.GIB, what="the fit")
    v.check_memory("x", 298 * v.GIB, budget=300 * v.GIB)
    monkeypatch.setenv(v.MEMORY_BUDGET_ENV, "0.5")
    assert v.memory_budget() == v.GIB / 2
    for bad in ("-1", "nan", "inf", "half"):
        monkeypatch.setenv(v.MEMORY_BUDGET_ENV, bad)
        with pytest.raises(InvalidArgumentError, match=rf"^{v.MEMORY_BUDGET_ENV}: "):
            v.memory_budget()
    for bad in (0, -1.0, True, "4"):
        with pytest.raises(InvalidArgumentError, match=r"^memory_budget: "):
            v.check_memory("x", 1, budget=bad)
    with pytest.raises(InvalidArgumentError, match=r"^x: needs about"):
        v.check_memory("x", float("nan"), budget=v.GIB)


@pytest.mark.parametrize(("make", "argument"), [
    (lambda: linear_vae_params(3, 2, 4, sigma2_range=(-1.0, 1.0)), "sigma2_range"),
    (lambda: linear_vae_params(3, 2, 4, sigma2_range=(0.0, 1.0)), "sigma2_range"),
    (lambda: linear_vae_params(3, 2, 4, sigma2_range=(2.0, 1.0)), "sigma2_range"),
    (lambda: linear_vae_params(3, 2, 4, sigma2_range=(0.1, float("inf"))), "sigma2_range"),
    (lambda: linear_vae_params(3, 2, 4, sigma2_range=0.5), "sigma2_range"),
    (lambda: linear_vae_params(0, 2, 4), "data_dim"),
    (lambda: linear_vae_params(3, True, 4), "latent_dim"),
    (lambda: linear_vae_params(3, 2, -1), "n"),
    (lambda: linear_vae_params(3, 2, 4, weight_bound=-2.0), "weight_bound"),
    (lambda: linear_vae_params(3, 2, 4, mean_bound=float("nan")), "mean_bound"),
    (lambda: linear_vae_cases(max_points=0), "max_points"),
    (lambda: linear_vae_cases(max_data_dim=10**9), "max_data_dim"),
    (lambda: linear_vae_cases(sigma2_range=(-1.0, 1.0)), "sigma2_range"),
    (lambda: gaussian_vae_loss_inputs(max_batch=0), "max_batch"),
    (lambda: gaussian_vae_loss_inputs(logvar_bound="3"), "logvar_bound"),
])
def test_strategy_arguments_are_checked_when_the_strategy_is_made(make, argument) -> None:
    with pytest.raises(InvalidArgumentError) as exc:
        make()
    assert exc.value.argument == argument


@given(linear_vae_params(np.int64(3), 2, 4, sigma2_range=(np.float32(0.5), 0.75)))
def test_valid_strategy_arguments_still_draw_valid_cases(params) -> None:
    W, b, sigma2, m, S = params
    assert W.shape == (3, 2) and b.shape == (3,) and m.shape == (4, 2)
    assert 0.5 <= sigma2 <= 0.75
    np.linalg.cholesky(S)


def test_the_package_errors_survive_pickling() -> None:
    # They cross process boundaries (sweep workers, Dask): each must rebuild as itself.
    import pickle

    from vaeproofs.errors import InvalidArgumentError

    e = pickle.loads(pickle.dumps(InvalidArgumentError("hidden", "must be >= 1, got 0")))
    assert (type(e), e.argument, e.problem, str(e)) == (
        InvalidArgumentError, "hidden", "must be >= 1, got 0", "hidden: must be >= 1, got 0")
    from vaeproofs.audit.audit import AuditInterrupted
    from vaeproofs.numeric.training import TrainingInterrupted

    for cls, attr in ((TrainingInterrupted, "result"), (AuditInterrupted, "report")):
        back = pickle.loads(pickle.dumps(cls({"steps": 3})))  # type: ignore[arg-type]
        assert type(back) is cls and getattr(back, attr) == {"steps": 3}
