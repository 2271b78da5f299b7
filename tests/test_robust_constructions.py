"""The constructions' public entry points refuse bad values with InvalidArgumentError.

Each test failed before the fix: ``parameter_exceeding(inf)`` never returned,
``parameter_exceeding(nan)`` returned a number, ``evaluate(c, ['abc'])`` raised a bare
ValueError, and numpy scalars were refused while bools were accepted as parameters.
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest

from vaeproofs import InvalidArgumentError
from vaeproofs import constructions as C

LINEAR = "degenerate_linear"    # epsilon sequence, closed form (fast)
STEEP = "exact_likelihood"      # alpha sequence


@pytest.mark.parametrize("bound", [math.inf, -math.inf, math.nan, mpmath.inf, "nan"])
def test_parameter_exceeding_refuses_non_finite_bounds(bound: object) -> None:
    with pytest.raises(InvalidArgumentError, match=r"^bound: must be finite"):
        C.get(LINEAR).parameter_exceeding(bound)


@pytest.mark.parametrize("bound", [True, "abc", 1j, [1.0], None])
def test_parameter_exceeding_refuses_non_numbers(bound: object) -> None:
    with pytest.raises(InvalidArgumentError, match=r"^bound: must be a real number"):
        C.get(STEEP).parameter_exceeding(bound)


def test_parameter_exceeding_stops_for_unreachable_bounds() -> None:
    # exact_likelihood grows like 2 alpha: 1e2000 needs alpha ~ 5e1999 > 2**4096 ~ 1e1233.
    with pytest.raises(InvalidArgumentError, match=r"^bound: too large"):
        C.get(STEEP).parameter_exceeding("1e2000")


def test_parameter_exceeding_accepts_numpy_scalars() -> None:
    c = C.get(LINEAR)
    want = c.parameter_exceeding(12)
    assert c.parameter_exceeding(np.int64(12)) == want
    assert c.parameter_exceeding(np.float32(12)) == want
    assert c.objective(want) > 12  # the prediction holds (checked with the exact objective)


@pytest.mark.parametrize(("values", "message"), [
    (["abc"], "must be a real number"),
    ([True], "must be a real number, got the bool"),
    ([1j], "must be a real number"),
    (0.1, "must be a sequence of numbers"),
    ("0.1", "must be a sequence of numbers"),
])
def test_evaluate_refuses_bad_values_by_name(values: object, message: str) -> None:
    with pytest.raises(InvalidArgumentError, match=rf"^values: {message}"):
        C.evaluate_construction(C.get(LINEAR), values, digits=False)


def test_evaluate_refuses_bad_constructions_and_options() -> None:
    with pytest.raises(InvalidArgumentError, match=r"^name: unknown construction"):
        C.evaluate_construction("no_such_thing", [0.1])
    with pytest.raises(InvalidArgumentError, match=r"^construction: must be a Construction"):
        C.evaluate_construction(42, [0.1])  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match=r"^dps: "):
        C.evaluate_construction(LINEAR, [0.1], dps=True)


@pytest.mark.parametrize("value", [True, np.bool_(False)])
def test_parameters_refuse_bools(value: object) -> None:
    with pytest.raises(InvalidArgumentError, match=r"^alpha: must be a real number, got the bool"):
        C.get(STEEP).check_parameter(value)


def test_parameters_accept_numpy_scalars() -> None:
    c = C.get(LINEAR)
    assert c.check_parameter(np.float32(0.5)) == mpmath.mpf(0.5)
    assert C.get(STEEP).check_parameter(np.int64(3)) == 3
    assert c.check_parameter(np.array(0.25)) == mpmath.mpf(0.25)
    row = C.evaluate_construction(LINEAR, [np.float64(0.1)], digits=False)
    assert row.parameter_values == ("0.1",)
