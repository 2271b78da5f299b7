"""Closed intervals of float64 numbers, rounded outward, and the maps the audit's rules use.

Conventions: an :class:`Interval` ``[lo, hi]`` holds every value one element of a
tensor can take, in real arithmetic; ``lo`` may be ``-inf`` and ``hi`` ``+inf`` (an
endpoint at infinity is a limit, never attained).  Natural log throughout.  Products
follow the limit convention ``0 * inf = 0``.

Outward rounding (so that a bound is a bound of the real-number function, not of one
rounded evaluation):

- ``+ - * /`` are computed exactly (``fractions.Fraction`` of the float64 operands) and
  rounded down for ``lo``, up for ``hi``: an exact result, such as ``0 + 1e-4``, stays
  exact, so a floor the code writes as a constant comes out as that constant;
- each elementary function (exp, log, log1p, expm1, tanh, ...) is evaluated once per
  endpoint with the C library and widened by :data:`LIBM_ULPS` units in the last place,
  the largest error glibc documents for these functions on x86-64; values known exactly
  (exp(0) = 1, the limits at +-inf, softplus's identity branch) are not widened.

Every map is evaluated at the endpoints, using that it is monotone on the interval or
on each of a few pieces (softplus's threshold, the even powers' turn at 0, lgamma's
minimum).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

__all__ = ["LIBM_ULPS", "REALS", "Interval"]

_INF = math.inf
#: Units in the last place an elementary function's result is widened by (glibc's
#: documented maximum error for exp, log, log1p, expm1, tanh, pow on x86-64 is <= 2 ulp).
LIBM_ULPS = 2
#: lgamma's minimum on (0, inf): x0 = 1.4616321449683623..., lgamma(x0) = -0.1214862905358496...
_LGAMMA_X0_LO, _LGAMMA_X0_HI = 1.4616321449683622, 1.4616321449683624
_LGAMMA_MIN = -0.12148629053584962


def _step(x: float, direction: float, n: int = 1) -> float:
    for _ in range(n):
        x = math.nextafter(x, direction)
    return x


def _down(x: float, n: int = LIBM_ULPS) -> float:
    """A float64 at most the real value whose libm evaluation gave ``x`` (n ulp below)."""
    return x if math.isinf(x) else _step(x, -_INF, n)


def _up(x: float, n: int = LIBM_ULPS) -> float:
    return x if math.isinf(x) else _step(x, _INF, n)


def _round(exact: Fraction, up: bool) -> float:
    """``exact`` rounded to float64 toward +inf (``up``) or -inf."""
    try:
        x = float(exact)
    except OverflowError:  # beyond the largest float: that float on the inner side, else infinity
        big = math.nextafter(_INF, 0.0)
        if exact > 0:
            return _INF if up else big
        return -big if up else -_INF
    if Fraction(x) == exact:
        return x
    if up:
        return x if Fraction(x) > exact else math.nextafter(x, _INF)
    return x if Fraction(x) < exact else math.nextafter(x, -_INF)


def _add(a: float, b: float, up: bool) -> float:
    if math.isinf(a) or math.isinf(b):
        if math.isinf(a) and math.isinf(b) and a != b:
            return _INF if up else -_INF
        return a if math.isinf(a) else b
    return _round(Fraction(a) + Fraction(b), up)


def _mul(a: float, b: float, up: bool) -> float:
    """a * b rounded outward, with the interval convention 0 * (+-inf) = 0."""
    if a == 0.0 or b == 0.0:
        return 0.0
    if math.isinf(a) or math.isinf(b):
        return math.copysign(_INF, a) * math.copysign(1.0, b)
    return _round(Fraction(a) * Fraction(b), up)


def _exp(x: float) -> float:
    try:
        return math.exp(x)
    except OverflowError:
        return _INF


def _exp_lo(x: float) -> float:
    if x == -_INF:
        return 0.0
    if x == _INF:
        return _INF
    y = _exp(x)
    if math.isinf(y):  # e^x overflows a float but is finite: the largest float is below it
        return math.nextafter(_INF, 0.0)
    return 1.0 if x == 0.0 else max(0.0, _down(y))


def _exp_hi(x: float) -> float:
    if x == -_INF:
        return 0.0
    return 1.0 if x == 0.0 else _up(_exp(x))


def _softplus_raw(x: float, beta: float, threshold: float) -> tuple[float, bool]:
    """torch's softplus at x and whether the value is exact (the identity branch, the limits)."""
    if beta * x > threshold:
        return x, True
    if x == -_INF:
        return 0.0, True
    return math.log1p(_exp(beta * x)) / beta, False


def _sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + _exp(-x))
    e = _exp(x)
    return e / (1.0 + e)


def _elu(x: float, alpha: float) -> float:
    return x if x > 0 else alpha * math.expm1(x) if x > -_INF else -alpha


def _clip(lo: float, hi: float, low: float, high: float) -> Interval:
    return Interval(min(max(lo, low), high), max(min(hi, high), low))


def _lgamma(x: float) -> float:
    return _INF if math.isinf(x) else math.lgamma(x)


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

    # -- the field operations, rounded outward ------------------------------------------------
    def __add__(self, other: Interval) -> Interval:
        lo = -_INF if -_INF in (self.lo, other.lo) else _add(self.lo, other.lo, False)
        hi = _INF if _INF in (self.hi, other.hi) else _add(self.hi, other.hi, True)
        return Interval(lo, hi)

    def __neg__(self) -> Interval:
        return Interval(-self.hi, -self.lo)

    def __sub__(self, other: Interval) -> Interval:
        return self + (-other)

    def __mul__(self, other: Interval) -> Interval:
        pairs = [(a, b) for a in (self.lo, self.hi) for b in (other.lo, other.hi)]
        return Interval(min(_mul(a, b, False) for a, b in pairs),
                        max(_mul(a, b, True) for a, b in pairs))

    def scale(self, n: float) -> Interval:
        """``n * x`` for a number ``n`` (the sum of ``n`` elements each in the interval)."""
        return self * Interval.point(n)

    def reciprocal(self) -> Interval:
        """``1 / x``; an interval with 0 inside maps to the reals (1/0 is a pole)."""
        lo, hi = self.lo, self.hi

        def inv(x: float, up: bool) -> float:
            return 0.0 if math.isinf(x) else _round(1 / Fraction(x), up)
        if lo > 0 or hi < 0:
            return Interval(inv(hi, False), inv(lo, True))
        if lo == 0.0 and hi > 0:
            return Interval(inv(hi, False), _INF)
        if hi == 0.0 and lo < 0:
            return Interval(-_INF, inv(lo, True))
        return REALS

    def __truediv__(self, other: Interval) -> Interval:
        if other.lo == other.hi and other.lo != 0 and math.isfinite(other.lo):
            d = Fraction(other.lo)

            def q(x: float, up: bool) -> float:
                return x / other.lo if math.isinf(x) else _round(Fraction(x) / d, up)
            ends = [q(self.lo, False), q(self.lo, True), q(self.hi, False), q(self.hi, True)]
            return Interval(min(ends), max(ends))
        return self * other.reciprocal()

    def hull(self, other: Interval) -> Interval:
        """The smallest interval holding both."""
        return Interval(min(self.lo, other.lo), max(self.hi, other.hi))

    # -- elementary maps (monotone, or monotone on pieces) ------------------------------------
    def exp(self) -> Interval:
        return Interval(_exp_lo(self.lo), _exp_hi(self.hi))

    def expm1(self) -> Interval:
        lo = -1.0 if self.lo == -_INF else 0.0 if self.lo == 0 else max(-1.0, _down(math.expm1(self.lo)))
        hi = _exp_hi(self.hi) - 1.0 if self.hi > 700 else 0.0 if self.hi == 0 else \
            _up(math.expm1(self.hi)) if self.hi > -_INF else -1.0
        return Interval(lo, hi)

    @staticmethod
    def _log_at(x: float, up: bool) -> float:
        if x <= 0:
            return -_INF
        if x == 1.0 or math.isinf(x):
            return 0.0 if x == 1.0 else _INF
        y = math.log(x)
        return _up(y) if up else _down(y)

    def log(self) -> Interval:
        """Natural log on (0, inf); values <= 0 (outside the domain) are dropped, log 0 = -inf."""
        return Interval(self._log_at(self.lo, False), self._log_at(max(self.hi, 0.0), True))

    def log1p(self) -> Interval:
        def at(x: float, up: bool) -> float:
            if x <= -1:
                return -_INF
            if x == 0.0 or math.isinf(x):
                return x
            y = math.log1p(x)
            return _up(y) if up else _down(y)
        return Interval(at(self.lo, False), at(max(self.hi, -1.0), True))

    def sqrt(self) -> Interval:
        def at(x: float, up: bool) -> float:
            x = max(x, 0.0)
            y = math.sqrt(x)  # correctly rounded (IEEE 754): exact when y * y == x
            if math.isinf(y) or Fraction(y) ** 2 == Fraction(x):
                return y
            return math.nextafter(y, _INF if up else 0.0)
        return Interval(at(self.lo, False), at(self.hi, True))

    def rsqrt(self) -> Interval:
        return self.sqrt().reciprocal()

    def softplus(self, beta: float = 1.0, threshold: float = 20.0) -> Interval:
        """``torch.nn.functional.softplus``: increasing on each side of x = threshold / beta.

        At the switch to the identity the function steps down by log1p(exp(-threshold)) / beta
        (about 2e-9 for the defaults), so the switch point is checked as a candidate extreme.
        """
        if beta <= 0:
            raise ValueError(f"softplus: beta must be > 0, got {beta}")
        v, exact = _softplus_raw(self.lo, beta, threshold)
        lo = v if exact else max(0.0, _down(v))
        v, exact = _softplus_raw(self.hi, beta, threshold)
        hi = v if exact else _up(v)
        t = threshold / beta
        if self.lo <= t < self.hi:
            lo = min(lo, math.nextafter(t, _INF))
            hi = max(hi, _up(_softplus_raw(t, beta, threshold)[0]))
        return Interval(lo, hi)

    def sigmoid(self) -> Interval:
        lo = 0.0 if self.lo == -_INF else 0.5 if self.lo == 0 else _down(_sigmoid(self.lo))
        hi = 1.0 if self.hi == _INF else 0.5 if self.hi == 0 else _up(_sigmoid(self.hi))
        return _clip(lo, hi, 0.0, 1.0)

    def log_sigmoid(self) -> Interval:
        """log sigmoid(x) = -softplus(-x)."""
        return -((-self).softplus())

    def tanh(self) -> Interval:
        lo = -1.0 if self.lo == -_INF else 0.0 if self.lo == 0 else _down(math.tanh(self.lo))
        hi = 1.0 if self.hi == _INF else 0.0 if self.hi == 0 else _up(math.tanh(self.hi))
        return _clip(lo, hi, -1.0, 1.0)

    def relu(self) -> Interval:
        return Interval(max(self.lo, 0.0), max(self.hi, 0.0))

    def elu(self, alpha: float = 1.0) -> Interval:
        if alpha < 0:
            raise ValueError(f"elu: alpha must be >= 0, got {alpha}")
        lo = self.lo if self.lo >= 0 else -alpha if self.lo == -_INF else \
            max(-alpha, _down(_elu(self.lo, alpha)))
        hi = self.hi if self.hi >= 0 else -alpha if self.hi == -_INF else _up(_elu(self.hi, alpha))
        return Interval(lo, hi)

    def leaky_relu(self, slope: float) -> Interval:
        if slope < 0:
            raise ValueError(f"leaky_relu: negative_slope must be >= 0, got {slope}")
        return Interval(self.lo if self.lo >= 0 else _mul(slope, self.lo, False),
                        self.hi if self.hi >= 0 else _mul(slope, self.hi, True))

    def abs(self) -> Interval:
        if self.lo >= 0:
            return self
        if self.hi <= 0:
            return -self
        return Interval(0.0, max(-self.lo, self.hi))

    def square(self) -> Interval:
        """``x ** 2``: the lower end is 0 when the interval holds 0."""
        a = self.abs()
        return Interval(_mul(a.lo, a.lo, False), _mul(a.hi, a.hi, True))

    def pow(self, p: float) -> Interval:
        """``x ** p`` for a constant exponent (integer p on the reals, other p on [0, inf))."""
        p = float(p)
        if p == 0:
            return Interval.point(1.0)
        if p == 1:
            return self
        if p.is_integer() and abs(p) <= 64:
            n = int(p)
            if n < 0:
                return self.pow(-p).reciprocal()
            base = self.abs() if n % 2 == 0 else self

            def at(x: float, up: bool) -> float:
                return _round(Fraction(x) ** n, up) if math.isfinite(x) else math.copysign(_INF, x)
            return Interval(at(base.lo, False), at(base.hi, True))

        def real(x: float, up: bool) -> float:
            if x == 0.0:
                return 0.0 if p > 0 else _INF
            if math.isinf(x) or x == 1.0:
                return 1.0 if x == 1.0 else (_INF if p > 0 else 0.0)
            y = x ** p
            return _up(y) if up else max(0.0, _down(y))
        lo, hi = max(self.lo, 0.0), max(self.hi, 0.0)
        if p > 0:
            return Interval(real(lo, False), real(hi, True))
        return Interval(real(hi, False), real(lo, True))

    def rpow(self, base: float) -> Interval:
        """``base ** x`` for a constant base > 0."""
        if base <= 0:
            raise ValueError(f"pow: a constant base must be > 0, got {base}")
        return (self * Interval(_down(math.log(base)), _up(math.log(base)))).exp() \
            if base != 1.0 else Interval.point(1.0)

    def lgamma(self) -> Interval:
        """log |Gamma(x)| on [lo, hi] with lo > 0 (decreasing to x0 ~ 1.4616, then increasing)."""
        if self.lo <= 0:
            raise ValueError("lgamma: only intervals inside (0, inf) are covered")
        ends = [_lgamma(self.lo), _lgamma(self.hi)]
        hi = _up(max(ends))
        if self.lo <= _LGAMMA_X0_HI and self.hi >= _LGAMMA_X0_LO:
            lo = _down(_LGAMMA_MIN, 4)
        elif self.hi < _LGAMMA_X0_LO:
            lo = _down(_lgamma(self.hi))
        else:
            lo = _down(_lgamma(self.lo))
        return Interval(lo, hi)

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
