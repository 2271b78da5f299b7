"""Interval maps: exact endpoints on hand-picked cases, and soundness on random intervals.

Soundness: for random finite intervals (fixed seed) every sampled point's image under the
torch float64 function lies in the computed interval, up to 4 ulp of the value (the
endpoint and the sample are each one rounded evaluation of the same function).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from vaeproofs.audit.intervals import REALS, Interval

MAPS = {
    "exp": (Interval.exp, torch.exp),
    "log": (Interval.log, torch.log),
    "sqrt": (Interval.sqrt, torch.sqrt),
    "softplus": (Interval.softplus, F.softplus),
    "softplus b2 t3": (lambda i: i.softplus(2.0, 3.0), lambda t: F.softplus(t, beta=2.0, threshold=3.0)),
    "sigmoid": (Interval.sigmoid, torch.sigmoid),
    "tanh": (Interval.tanh, torch.tanh),
    "relu": (Interval.relu, torch.relu),
    "elu": (lambda i: i.elu(0.7), lambda t: F.elu(t, alpha=0.7)),
    "abs": (Interval.abs, torch.abs),
    "square": (Interval.square, torch.square),
    "pow 3": (lambda i: i.pow(3), lambda t: t ** 3),
    "pow -2": (lambda i: i.pow(-2), lambda t: t ** -2),
    "reciprocal": (Interval.reciprocal, torch.reciprocal),
    "clamp": (lambda i: i.clamp(Interval.point(-0.5), Interval.point(1.5)),
              lambda t: torch.clamp(t, -0.5, 1.5)),
}


@pytest.mark.parametrize("name", list(MAPS))
def test_sound_on_random_intervals(name: str) -> None:
    interval_map, torch_map = MAPS[name]
    rng = np.random.default_rng(1)
    for _ in range(200):
        a, b = np.sort(rng.uniform(-8, 8, size=2))
        if name in ("log", "sqrt"):
            a, b = abs(a) + 1e-3, abs(a) + abs(b) + 1e-3
        if name in ("pow -2", "reciprocal") and a <= 0 <= b:
            continue
        out = interval_map(Interval(float(a), float(b)))
        xs = torch.from_numpy(np.concatenate([[a, b], rng.uniform(a, b, size=50)]))
        ys = torch_map(xs).numpy()
        tol = 4 * np.finfo(np.float64).eps * np.abs(ys)
        assert np.all(ys >= out.lo - tol) and np.all(ys <= out.hi + tol), (name, a, b, out)


def test_limits_at_infinity() -> None:
    assert REALS.exp() == Interval(0.0, math.inf)
    assert REALS.softplus() == Interval(0.0, math.inf)
    assert REALS.sigmoid() == Interval(0.0, 1.0)
    assert REALS.tanh() == Interval(-1.0, 1.0)
    assert REALS.elu(0.5) == Interval(-0.5, math.inf)
    assert REALS.square() == Interval(0.0, math.inf)
    assert Interval(0.0, math.inf).log() == REALS


def test_zero_times_infinity_is_zero() -> None:
    assert Interval.point(0.0) * REALS == Interval.point(0.0)
    assert Interval(0.0, 1.0) * Interval(0.0, math.inf) == Interval(0.0, math.inf)


def test_softplus_threshold_step_is_a_candidate() -> None:
    # softplus(x) = x for beta x > threshold: just above the switch the value drops from
    # log1p(exp(t)) to t, so the minimum over [t - 1e-12, t + 1] is the switch itself.
    t = 5.0
    out = Interval(t - 1e-12, t + 1.0).softplus(1.0, t)
    assert out.lo == math.nextafter(t, math.inf)
    assert out.hi == t + 1.0


def test_reciprocal_and_division() -> None:
    assert Interval(2.0, 4.0).reciprocal() == Interval(0.25, 0.5)
    assert Interval(0.0, 2.0).reciprocal() == Interval(0.5, math.inf)
    assert Interval(-1.0, 1.0).reciprocal() == REALS
    assert Interval(1.0, 2.0) / Interval.point(4.0) == Interval(0.25, 0.5)


def test_bad_interval() -> None:
    with pytest.raises(ValueError):
        Interval(1.0, 0.0)
    with pytest.raises(ValueError):
        Interval(math.nan, 0.0)


def test_outward_rounding_beyond_the_largest_float() -> None:
    big = math.nextafter(math.inf, 0.0)
    # e^1000 is finite but not a float: its lower end is the largest float, never +inf
    assert Interval.point(1000.0).exp() == Interval(big, math.inf)
    assert (Interval.point(big) + Interval.point(big)) == Interval(big, math.inf)
    assert (Interval.point(-big) * Interval.point(2.0)) == Interval(-math.inf, -big)


def test_exact_results_stay_exact_and_inexact_ones_round_outward() -> None:
    assert Interval.point(0.0) + Interval.point(1e-4) == Interval.point(1e-4)
    from fractions import Fraction

    third = Interval.point(1.0) / Interval.point(3.0)  # 1/3 is no float: the two around it
    assert Fraction(third.lo) < Fraction(1, 3) < Fraction(third.hi)
    assert math.nextafter(third.lo, math.inf) == third.hi
    e = Interval.point(1.0).exp()
    assert e.lo < math.e < e.hi and Interval.point(0.0).exp() == Interval.point(1.0)
