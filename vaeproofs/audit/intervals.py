"""Closed intervals of float64 numbers and the monotone maps the variance heads use.

Conventions: an :class:`Interval` ``[lo, hi]`` holds every value one element of a
tensor can take; ``lo`` may be ``-inf`` and ``hi`` ``+inf`` (an endpoint at infinity
is a limit, never attained).  Every map below is evaluated at the endpoints in
float64 (natural log throughout), using that the map is monotone on the interval or
on each of a few pieces (softplus's threshold, the even powers' turn at 0).  Products
follow the limit convention ``0 * inf = 0``.  The result of each map is the exact
image of the interval up to the rounding of one float64 evaluation per endpoint.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["REALS", "Interval"]

_INF = math.inf


def _exp(x: float) -> float:
    try:
        return math.exp(x)
    except OverflowError:
        return _INF


def _mul(a: float, b: float) -> float:
    """a * b with the interval convention 0 * (+-inf) = 0."""
    if a == 0.0 or b == 0.0:
        return 0.0
    return a * b


def _softplus(x: float, beta: float, threshold: float) -> float:
    # torch.nn.functional.softplus: x when beta * x > threshold, else log1p(exp(beta x)) / beta.
    if beta * x > threshold:
        return x
    return math.log1p(_exp(beta * x)) / beta


def _sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + _exp(-x))
    e = _exp(x)
    return e / (1.0 + e)


def _elu(x: float, alpha: float) -> float:
    return x if x > 0 else alpha * math.expm1(x) if x > -_INF else -alpha


@dataclass(frozen=True)
class Interval:
    """The closed interval ``[lo, hi]`` of float64 values (``lo <= hi``; endpoints may be infinite)."""

    lo: float
    hi: float

    def __post_init__(self) -> None:
        if math.isnan(self.lo) or math.isnan(self.hi) or self.lo > self.hi:
            raise ValueError(f"Interval: need lo <= hi and no nan, got [{self.lo}, {self.hi}]")

    @staticmethod
    def point(value: float) -> Interval:
        """The degenerate interval ``[value, value]``."""
        return Interval(float(value), float(value))

    @property
    def is_reals(self) -> bool:
        """True when the interval is the whole real line."""
        return self.lo == -_INF and self.hi == _INF

    def __str__(self) -> str:
        return f"[{self.lo:.6g}, {self.hi:.6g}]"

    # -- affine maps and the field operations ----------------------------------------------
    def __add__(self, other: Interval) -> Interval:
        lo = self.lo + other.lo if not (self.lo == -_INF and other.lo == _INF) else -_INF
        hi = self.hi + other.hi if not (self.hi == _INF and other.hi == -_INF) else _INF
        return Interval(lo, hi)

    def __neg__(self) -> Interval:
        return Interval(-self.hi, -self.lo)

    def __sub__(self, other: Interval) -> Interval:
        return self + (-other)

    def __mul__(self, other: Interval) -> Interval:
        products = [_mul(a, b) for a in (self.lo, self.hi) for b in (other.lo, other.hi)]
        return Interval(min(products), max(products))

    def scale(self, n: float) -> Interval:
        """``n * x`` for a number ``n`` (the sum of ``n`` elements each in the interval)."""
        return self * Interval.point(n)

    def reciprocal(self) -> Interval:
        """``1 / x``; an interval with 0 inside maps to the reals (1/0 is a pole)."""
        lo, hi = self.lo, self.hi
        if lo > 0 or hi < 0:
            return Interval(1.0 / hi if hi != _INF and hi != -_INF else 0.0,
                            1.0 / lo if lo != -_INF and lo != _INF else 0.0)
        if lo == 0.0 and hi > 0:
            return Interval(1.0 / hi if hi != _INF else 0.0, _INF)
        if hi == 0.0 and lo < 0:
            return Interval(-_INF, 1.0 / lo if lo != -_INF else 0.0)
        return REALS

    def __truediv__(self, other: Interval) -> Interval:
        return self * other.reciprocal()

    def hull(self, other: Interval) -> Interval:
        """The smallest interval holding both."""
        return Interval(min(self.lo, other.lo), max(self.hi, other.hi))

    # -- monotone elementary maps ------------------------------------------------------------
    def exp(self) -> Interval:
        return Interval(_exp(self.lo), _exp(self.hi))

    def expm1(self) -> Interval:
        return Interval(math.expm1(self.lo) if self.lo > -_INF else -1.0,
                        _exp(self.hi) - 1.0 if self.hi > 700 else math.expm1(self.hi))

    def log(self) -> Interval:
        """Natural log on (0, inf); values <= 0 (outside the domain) are dropped, log 0 = -inf."""
        lo, hi = max(self.lo, 0.0), max(self.hi, 0.0)
        return Interval(math.log(lo) if lo > 0 else -_INF, math.log(hi) if hi > 0 else -_INF)

    def log1p(self) -> Interval:
        return (self + Interval.point(1.0)).log()

    def sqrt(self) -> Interval:
        lo, hi = max(self.lo, 0.0), max(self.hi, 0.0)
        return Interval(math.sqrt(lo), math.sqrt(hi))

    def softplus(self, beta: float = 1.0, threshold: float = 20.0) -> Interval:
        """``torch.nn.functional.softplus``: increasing on each side of x = threshold / beta.

        At the switch to the identity the function steps down by log1p(exp(-threshold)) / beta
        (about 2e-9 for the defaults), so the switch point is checked as a candidate extreme.
        """
        if beta <= 0:
            raise ValueError(f"softplus: beta must be > 0, got {beta}")
        lo = _softplus(self.lo, beta, threshold)
        hi = _softplus(self.hi, beta, threshold)
        t = threshold / beta
        if self.lo <= t < self.hi:
            lo = min(lo, math.nextafter(t, _INF))
            hi = max(hi, _softplus(t, beta, threshold))
        return Interval(lo, hi)

    def sigmoid(self) -> Interval:
        return Interval(_sigmoid(self.lo), _sigmoid(self.hi))

    def tanh(self) -> Interval:
        return Interval(math.tanh(self.lo), math.tanh(self.hi))

    def relu(self) -> Interval:
        return Interval(max(self.lo, 0.0), max(self.hi, 0.0))

    def elu(self, alpha: float = 1.0) -> Interval:
        if alpha < 0:
            raise ValueError(f"elu: alpha must be >= 0, got {alpha}")
        return Interval(_elu(self.lo, alpha), _elu(self.hi, alpha))

    def leaky_relu(self, slope: float) -> Interval:
        if slope < 0:
            raise ValueError(f"leaky_relu: negative_slope must be >= 0, got {slope}")
        return Interval(self.lo if self.lo >= 0 else _mul(slope, self.lo),
                        self.hi if self.hi >= 0 else _mul(slope, self.hi))

    def abs(self) -> Interval:
        if self.lo >= 0:
            return self
        if self.hi <= 0:
            return -self
        return Interval(0.0, max(-self.lo, self.hi))

    def square(self) -> Interval:
        """``x ** 2``: the lower end is 0 when the interval holds 0."""
        a = self.abs()
        return Interval(_mul(a.lo, a.lo), _mul(a.hi, a.hi))

    def pow(self, p: float) -> Interval:
        """``x ** p`` for a constant exponent (integer p on the reals, other p on [0, inf))."""
        p = float(p)
        if p == 0:
            return Interval.point(1.0)
        if p.is_integer():
            n = int(p)
            base = self.abs() if n % 2 == 0 else self
            if n > 0:
                return Interval(math.copysign(abs(base.lo) ** n, base.lo) if base.lo != 0 else 0.0,
                                math.copysign(abs(base.hi) ** n, base.hi) if base.hi != 0 else 0.0)
            return base.pow(-p).reciprocal()
        lo, hi = max(self.lo, 0.0), max(self.hi, 0.0)
        if p > 0:
            return Interval(lo ** p, hi ** p)
        return Interval(hi ** p if hi > 0 else _INF, lo ** p if lo > 0 else _INF)

    def rpow(self, base: float) -> Interval:
        """``base ** x`` for a constant base > 0."""
        if base <= 0:
            raise ValueError(f"pow: a constant base must be > 0, got {base}")
        return (self * Interval.point(math.log(base))).exp()

    def clamp(self, low: Interval | None = None, high: Interval | None = None) -> Interval:
        """``torch.clamp(x, min, max)`` with elementwise bounds ranging over ``low`` / ``high``."""
        out = self
        if low is not None:
            out = out.maximum(low)
        if high is not None:
            out = out.minimum(high)
        return out

    def maximum(self, other: Interval) -> Interval:
        return Interval(max(self.lo, other.lo), max(self.hi, other.hi))

    def minimum(self, other: Interval) -> Interval:
        return Interval(min(self.lo, other.lo), min(self.hi, other.hi))


#: The whole real line: the range of a trainable affine output or of an input.
REALS = Interval(-_INF, _INF)
