"""One-variable forms ``a exp(b s) + c s + d``: the terms interval arithmetic cannot pair.

Interval arithmetic bounds ``exp(s) - s`` on the reals by ``[0, inf) - (-inf, inf)``,
i.e. not at all, although exp(s) - s >= 1: the two terms share s.  The ELBO's KL term
``0.5 (mu^2 + exp(lv) - 1 - lv)`` and the Gaussian likelihood ``0.5 r^2 exp(-s) + 0.5 s``
are of this kind.  A :class:`Form` records that a value is, element by element,

    a * exp(b * s) + c * s + d

for one node s of the graph (the *base*; or u = log x for a node x > 0, so that x, x^2,
1/x and log x are all of this form in u), exact rational b and c, and intervals a and d
that may depend on anything else: treating them as independent of s only enlarges the
set of values, so the bound stays valid.  Its lower end over s in the base's interval
(:func:`form_lower`) is a closed form: for a = a_lo > 0 the function is convex, with
minimum -c/b + (c/b) log(-c/(a b)) where the derivative a b e^(b s) + c vanishes;
otherwise the minimum is at an end of the interval (a limit at an infinite end).  The
upper end is minus the lower end of the negated form.  The engine intersects both with
the interval rule's result, so a form can only tighten a bound.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from torch import fx

from vaeproofs.audit.intervals import Interval, _round

__all__ = ["ELEMENTWISE_OPS", "Form", "LogOf", "combine", "form_lower", "identity", "negated",
           "positive"]

#: The operations a form passes through (elementwise, so element i stays a function of s_i).
ELEMENTWISE_OPS = frozenset({"add", "sub", "mul", "div", "neg", "exp", "pow", "square", "log",
                             "sqrt", "rsqrt", "reciprocal"})


@dataclass(frozen=True)
class LogOf:
    """The base u = log x of a node x whose values are all > 0, so that x = e^u exactly."""

    node: fx.Node

_ZERO = Interval.point(0.0)


@dataclass(frozen=True)
class Form:
    """``a * exp(b * s) + c * s + d`` elementwise, s the value of ``base`` (a node, or the log
    of a positive node)."""

    base: fx.Node | LogOf
    a: Interval
    b: Fraction
    c: Fraction
    d: Interval

    @property
    def is_exp_only(self) -> bool:
        return self.c == 0 and self.d == _ZERO

    @property
    def score(self) -> int:
        """2 with both an exponential and a linear term, 1 with an exponential, else 0."""
        has_exp = self.a != _ZERO and self.b != 0
        return 2 if has_exp and self.c != 0 else 1 if has_exp else 0


def identity(node: fx.Node) -> Form:
    """x = 0 e^0 + 1 x + 0, in the base x itself."""
    return Form(node, _ZERO, Fraction(0), Fraction(1), _ZERO)


def positive(node: fx.Node) -> Form:
    """x = 1 e^(1 u) with u = log x, for a node whose values are all > 0."""
    return Form(LogOf(node), Interval.point(1.0), Fraction(1), Fraction(0), _ZERO)


def _frac(x: Fraction) -> Interval:
    return Interval(_round(x, False), _round(x, True))


def _scale(f: Form, k: float) -> Form:
    kf = Fraction(k)
    return Form(f.base, f.a.scale(k), f.b, f.c * kf, f.d.scale(k))


def _add(f: Form, g: Form) -> Form | None:
    if f.base != g.base:
        return None
    if f.a == _ZERO or f.b == 0:
        exp_part = (g.a, g.b)
        extra = f.a if f.b == 0 else _ZERO
    elif g.a == _ZERO or g.b == 0:
        exp_part = (f.a, f.b)
        extra = g.a if g.b == 0 else _ZERO
    elif f.b == g.b:
        exp_part, extra = (f.a + g.a, f.b), _ZERO
    else:
        return None
    return Form(f.base, exp_part[0], exp_part[1], f.c + g.c, f.d + g.d + extra)


def negated(f: Form) -> Form:
    """The form of minus the value (its lower end is minus the value's upper end)."""
    return _scale(f, -1.0)


def _plus_interval(f: Form, k: Interval) -> Form:
    return Form(f.base, f.a, f.b, f.c, f.d + k)


def _number(v: Any) -> float | None:
    if isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v):
        return float(v)
    if isinstance(v, Interval) and v.lo == v.hi and math.isfinite(v.lo):
        return v.lo
    return None


def combine(op: str, args: list[Any], forms: list[Form | None], values: list[Any]) -> Form | None:
    """The form of ``op(args)`` from the arguments' forms (None when none applies).

    ``args`` are the raw node arguments, ``forms`` their forms (None for non-nodes) and
    ``values`` their intervals (or numbers).
    """
    f0 = forms[0] if forms else None
    f1 = forms[1] if len(forms) > 1 else None
    v1 = values[1] if len(values) > 1 else None
    if op in ("add", "sub"):
        sign = -1.0 if op == "sub" else 1.0
        if f0 is not None and f1 is not None:
            g = _scale(f1, sign) if sign < 0 else f1
            both = _add(f0, g)
            if both is not None:
                return both
            if f0.score >= g.score:
                return _plus_interval(f0, values[1] if sign > 0 else -values[1])
            return _plus_interval(g, values[0])
        if f0 is not None and isinstance(v1, Interval | int | float):
            k = Interval.point(float(v1)) if not isinstance(v1, Interval) else v1
            return _plus_interval(f0, k.scale(sign))
        v0 = values[0] if values else None
        if f1 is not None and isinstance(v0, Interval | int | float):  # constant first
            k = Interval.point(float(v0)) if not isinstance(v0, Interval) else v0
            return _plus_interval(_scale(f1, sign), k)
        return None
    if op in ("mul", "div") and f0 is not None and f1 is not None and f0.base == f1.base \
            and f0.is_exp_only and f1.is_exp_only:  # a0 e^(b0 s) times or over a1 e^(b1 s)
        if op == "mul":
            return Form(f0.base, f0.a * f1.a, f0.b + f1.b, Fraction(0), _ZERO)
        if f1.a.lo > 0 or f1.a.hi < 0:
            return Form(f0.base, f0.a / f1.a, f0.b - f1.b, Fraction(0), _ZERO)
        return None
    if op == "mul":
        k0, k1 = _number(values[0]), _number(v1)
        if f0 is not None and k1 is not None:
            return _scale(f0, k1)
        if f1 is not None and k0 is not None:
            return _scale(f1, k0)
        if f0 is not None and f0.is_exp_only and isinstance(v1, Interval) and (
                f1 is None or f1.base != f0.base):
            return Form(f0.base, f0.a * v1, f0.b, Fraction(0), _ZERO)
        if f1 is not None and f1.is_exp_only and isinstance(values[0], Interval) and (
                f0 is None or f0.base != f1.base):
            return Form(f1.base, f1.a * values[0], f1.b, Fraction(0), _ZERO)
        return None
    if op == "div":
        k1 = _number(v1)
        if f0 is not None and k1 is not None and k1 != 0:
            inv = 1.0 / k1
            return _scale(f0, inv) if Fraction(inv) * Fraction(k1) == 1 else None
        if f0 is not None and f0.is_exp_only and isinstance(v1, Interval) and (
                f1 is None or f1.base != f0.base):
            return Form(f0.base, f0.a / v1, f0.b, Fraction(0), _ZERO)
        num = values[0]
        if isinstance(num, int | float):
            num = Interval.point(float(num))
        if f1 is not None and f1.is_exp_only and isinstance(num, Interval) and (
                f0 is None or f0.base != f1.base) and (f1.a.lo > 0 or f1.a.hi < 0):
            return Form(f1.base, num / f1.a, -f1.b, Fraction(0), _ZERO)
        return None
    if op == "neg" and f0 is not None:
        return _scale(f0, -1.0)
    if op == "exp" and f0 is not None and (f0.a == _ZERO or f0.b == 0):
        offset = f0.d + (f0.a if f0.b == 0 else _ZERO)
        return Form(f0.base, offset.exp(), f0.c, Fraction(0), _ZERO)
    if f0 is None or not f0.is_exp_only or f0.b == 0:
        return None
    # powers of a e^(b s): a^p e^(p b s), for a > 0 (or an integer p, a != 0 when p < 0)
    p = {"square": 2.0, "sqrt": 0.5, "rsqrt": -0.5, "reciprocal": -1.0}.get(op)
    if op == "pow":
        p = _number(v1)
    if p is not None and p != 0 and abs(p) <= 64:
        whole = float(p).is_integer()
        if f0.a.lo > 0 or (whole and (p > 0 or f0.a.hi < 0)):
            return Form(f0.base, f0.a.pow(p), f0.b * Fraction(p), Fraction(0), _ZERO)
        return None
    if op == "log" and f0.a.lo > 0:  # log(a e^(b s)) = b s + log a
        return Form(f0.base, _ZERO, Fraction(0), f0.b, f0.a.log())
    return None


def _at(form: Form, alpha: float, s: float) -> float:
    """Lower end of alpha e^(b s) + c s at s (a limit when s is infinite)."""
    b, c = form.b, form.c
    if math.isinf(s):
        bs = b * (1 if s > 0 else -1)
        if alpha != 0 and bs > 0:
            return math.copysign(math.inf, alpha)
        lin = c * (1 if s > 0 else -1)
        return 0.0 if lin == 0 else math.copysign(math.inf, float(lin))
    x = Interval.point(s)
    exp_part = (x * _frac(b)).exp() * Interval.point(alpha)
    return (exp_part + x * _frac(c)).lo


def form_lower(form: Form, s: Interval) -> float:
    """A lower bound of ``a exp(b s) + c s + d`` over s in ``s`` and a, d in their intervals."""
    alpha = form.a.lo
    if form.b == 0 or form.a == _ZERO:
        return (s * _frac(form.c) + form.d + (form.a if form.b == 0 else _ZERO)).lo
    if alpha == -math.inf or form.d.lo == -math.inf:
        return -math.inf
    ends = min(_at(form, alpha, s.lo), _at(form, alpha, s.hi))
    if alpha > 0 and form.c != 0 and (form.c > 0) != (form.b > 0):
        # convex with a stationary point s* = log(-c / (alpha b)) / b; minimum value
        # -c/b + (c/b) log(-c/(alpha b))
        ratio = _frac(-form.c) / (Interval.point(alpha) * _frac(form.b))
        log_ratio = ratio.log()
        star = log_ratio / _frac(form.b)
        if star.hi >= s.lo and star.lo <= s.hi:
            cb = _frac(form.c / form.b)
            ends = min(ends, (-cb + cb * log_ratio).lo)
    return _add_lo(ends, form.d.lo)


def _add_lo(a: float, b: float) -> float:
    return (Interval.point(a) + Interval.point(b)).lo if math.isfinite(a) and math.isfinite(b) \
        else a + b if not (math.isinf(a) and math.isinf(b) and a != b) else -math.inf
