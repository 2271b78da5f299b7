"""Properties of the explicit construction sequences (vaeproofs.constructions).

- Along each divergent sequence the exact objective (mpmath) increases and passes any
  given bound: ``parameter_exceeding(bound)`` predicts a parameter from the sympy
  asymptote, and the exact objective there, an independent mpmath evaluation, must exceed
  the bound.  Along each bounded sequence it stays <= the family's cap.
- The torch float64 network equals mpmath wherever float64 can follow the sequence (the
  construction's ``float_limit``).  Tolerance: 64 ulp of the objective's scale,
  64 u (1 + |objective|), u = 2^-53 (the networks are a few dozen float64 operations deep,
  each rounding by at most u relative; |objective| is replaced by the largest summed term
  where a construction states one, ``float_scale``: a small difference of large terms),
  plus, for epsilon sequences, the degradation the constructions document near their
  float limit L: there the critical quantity's relative error is ~1 and, farther in,
  ~(L / epsilon)^(1/2) (the slowest documented model, the manifold's u / s with
  s ~ epsilon^(1/2)); hence the allowance (L / epsilon)^(1/2) (1 + |objective|).
The examples drawn scale with the hypothesis profile (a tenth of its max_examples), since
some exact objectives take about a second in mpmath.
"""

from __future__ import annotations

import functools
import itertools
import math

import mpmath
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vaeproofs import constructions
from vaeproofs.strategies import bounded_floats

ALL = constructions.all_constructions()
# The continuous Bernoulli diverges like log log(1/eps): a bound of 5000 needs
# u = log(1/eps) ~ e^1000, past what mpmath's erfc accepts (tested in
# test_constructions_beyond.py instead).
SLOW_DIVERGENCE = {"continuous_bernoulli_elbo"}


@functools.cache
def divergent() -> list[constructions.Construction]:
    """The divergent constructions; computed on first use, not at collection: deciding
    ``bounded()`` takes each construction's sympy limit (about 12 s in all), which every
    xdist worker would otherwise pay while collecting, whichever tests it runs."""
    return [c for c in ALL if not c.bounded() and c.name not in SLOW_DIVERGENCE]


@functools.cache
def bounded() -> list[constructions.Construction]:
    return [c for c in ALL if c.bounded()]

U64 = 2.0 ** -53
FEW = max(2, settings().max_examples // 10)


def test_both_kinds_of_construction_exist():
    assert divergent() and bounded()


@settings(max_examples=FEW)
@given(st.deferred(lambda: st.sampled_from(divergent())), bounded_floats(-20.0, 5000.0))
def test_divergent_objective_passes_any_bound(c, bound):
    t = c.parameter_exceeding(bound)
    assert c.objective(t, dps=40) > bound


def _followed_parameter(c, fraction: float) -> mpmath.mpf:
    """A parameter between the first default value and the float64 limit (log scale)."""
    first = c.default_values()[0]
    lim = mpmath.mpf(c.float_limit("float64")["value"])
    if c.parameter == "epsilon":
        # one decade inside the limit; the end of the default sequence if float64
        # follows all the way (limit 0)
        lo = mpmath.log10(lim) + 1 if lim > 0 else mpmath.log10(c.default_values()[-1])
        hi = mpmath.log10(first)
        return mpmath.mpf(10) ** (hi + fraction * (lo - hi))
    top = min(lim / 2, mpmath.mpf(1000)) if mpmath.isfinite(lim) else mpmath.mpf(1000)
    return first * (top / first) ** fraction


@settings(max_examples=FEW)
@given(st.sampled_from(ALL), bounded_floats(0.0, 1.0))
def test_torch_float64_equals_mpmath_where_float64_follows(c, fraction):
    t = _followed_parameter(c, fraction)
    assert c.follows(t, "float64")
    torch_value = c.torch_objective(t)
    exact = float(c.objective(t, dps=30))
    assert torch_value is not None
    assert abs(torch_value - exact) <= _allowance(c, t) * (1 + _scale(c, t, exact)), (c.name, t)


def _scale(c, t, exact) -> float:
    """The objective's size, or the largest term it sums where the construction states one."""
    return max(abs(float(exact)), float(c.float_scale(t)))


def _allowance(c, t) -> float:
    """Relative tolerance of torch float64 against mpmath at ``t`` (module docstring)."""
    allowance = 64 * U64
    if c.parameter == "epsilon":
        lim = mpmath.mpf(c.float_limit("float64")["value"])
        allowance += float(mpmath.sqrt(lim / t)) if lim > 0 else 0.0
    return allowance


SLOW = {"exact_likelihood", "floored_exact_likelihood"}  # ~1 s per mpmath objective


@pytest.mark.parametrize("c", [pytest.param(c, marks=pytest.mark.slow) if c.name in SLOW
                               else c for c in ALL], ids=lambda c: c.name)
def test_default_sequence_increases_or_stays_capped_and_torch_equals_mpmath(c):
    values = c.default_values()
    exact = [c.objective(t) for t in values]
    if c.bounded():
        cap = c.cap()
        assert cap is not None and all(v <= cap for v in exact)
    else:
        assert all(b > a for a, b in itertools.pairwise(exact)), exact
    followed = 0
    for t, v in zip(values, exact, strict=True):
        torch_value = c.torch_objective(t)
        if torch_value is None:
            assert not c.follows(t, "float64")
            continue
        followed += 1
        assert math.isfinite(torch_value)
        assert abs(torch_value - float(v)) <= _allowance(c, t) * (1 + _scale(c, t, v)), (c.name, t)
    assert followed >= 3
