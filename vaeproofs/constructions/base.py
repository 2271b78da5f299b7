"""The :class:`Construction` interface: an explicit parameter sequence and its exact objective.

A construction is a family of decoder (and encoder) parameters indexed by a collapse
parameter ``t``: either ``epsilon -> 0`` (a variance, squared scale or probability) or
``alpha -> infinity`` (a steepness).  Every construction provides

- ``parameters(t)``: the model's parameters at ``t``;
- ``objective(t, dps=...)``: the exact objective (log-likelihood or ELBO, always the
  **total over the data set**, natural log) evaluated with mpmath at ``dps`` digits;
- ``symbolic_objective()``: the same objective as a sympy expression (closed form,
  normal-CDF/erfc terms, or unevaluated one-dimensional integrals);
- ``symbolic_rate()`` / ``symbolic_asymptote()``: the divergent part of the objective and
  the divergent part plus its constant, both derived with sympy limits;
- ``bounded()``: computed from the symbolic limit and the cap (never typed in);
- ``cap()``: an upper bound valid for the whole model family, where one exists;
- ``torch_objective(t)``: the same objective computed in float64 from a real torch
  network whose weights are set explicitly (``None`` where float64 cannot follow).

Internally, limits are taken in a variable ``u -> +infinity``: ``u = alpha`` for alpha
sequences and ``u = log(1/epsilon)`` for epsilon sequences (so that ``epsilon = exp(-u)``
reaches 1e-1000 without underflow).  Public expressions are written in the collapse
parameter itself.

This module uses sympy and mpmath only; torch is imported lazily by ``torch_objective``.
"""

from __future__ import annotations

import functools
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any

import mpmath
import sympy as sp

from vaeproofs.constructions.values import as_mpf
from vaeproofs.errors import EvidenceConflictError, InvalidArgumentError

__all__ = [
    "ALPHA",
    "EPSILON",
    "Construction",
    "FloatLimit",
    "U",
    "asymptotic_split",
]

#: The collapse parameters as sympy symbols (both positive).
EPSILON = sp.Symbol("epsilon", positive=True)
ALPHA = sp.Symbol("alpha", positive=True)
#: The internal variable that goes to +infinity: alpha, or log(1/epsilon).
U = sp.Symbol("u", positive=True)

#: Largest dps accepted by :meth:`Construction.objective` (keeps a typo from hanging).
MAX_DPS = 5000
#: Most doublings :meth:`Construction.parameter_exceeding` tries (u up to 2**4096).
MAX_DOUBLINGS = 4096


def asymptotic_split(expr: sp.Expr, u: sp.Symbol = U) -> tuple[sp.Expr, sp.Expr]:
    """Split ``expr(u)`` as ``divergent(u) + constant + o(1)`` for ``u -> +oo``.

    Logarithms are expanded (every symbol is positive) and the expression is taken apart
    into its additive terms.  A term whose limit is finite contributes that limit to
    ``constant``; a divergent term is expanded one level further (products distributed)
    and its parts treated the same way, so that a convergent combination such as
    ``(1 - exp(-u^-1)) u`` is never torn into divergent pieces; a term that cannot be
    split further is kept in ``divergent``.  The remainder ``expr - divergent - constant``
    tends to 0 by construction (each term's limit was taken).

    Returns:
        ``(divergent, constant)`` as sympy expressions.
    """
    divergent = sp.Integer(0)
    constant = sp.Integer(0)
    pending = list(sp.Add.make_args(sp.expand_log(expr, force=True)))
    limits: dict[sp.Expr, sp.Expr] = {}   # limit of each term's non-numeric factor
    while pending:
        term = pending.pop()
        if not term.has(u):
            constant += term
            continue
        coeff, factor = term.as_coeff_Mul()
        if factor not in limits:
            limits[factor] = sp.limit(factor, u, sp.oo)
        lim = coeff * limits[factor]
        if lim.is_finite:
            constant += lim
            continue
        parts = sp.Add.make_args(sp.expand(sp.expand_log(term, force=True)))
        if len(parts) > 1:
            pending.extend(parts)
        else:
            divergent += term
    return sp.simplify(divergent), sp.simplify(constant)


class FloatLimit(dict):
    """Where a floating-point type stops following a sequence: ``{"value", "reason"}``.

    ``value`` is the collapse parameter past which the float evaluation is no longer
    meaningful (a decimal string), ``reason`` says which quantity over/underflows or
    which rounding error dominates.  A ``dict`` so it goes into JSON unchanged.
    """

    def __init__(self, value: mpmath.mpf | float, reason: str) -> None:
        super().__init__(value=mpmath.nstr(mpmath.mpf(value), 6), reason=reason)


class Construction(ABC):
    """An explicit parameter sequence with its exact objective (see module docstring).

    Subclasses set ``name``, ``title``, ``parameter`` (``"epsilon"`` or ``"alpha"``),
    ``sources`` and ``objective_kind`` and implement the abstract methods.
    """

    name: str
    title: str
    parameter: str
    sources: tuple[str, ...] = ()
    #: what the objective is, e.g. "log-likelihood (total over n points)".
    objective_kind: str = ""
    #: what the rate of this sequence says about the supremum (e.g. "a lower bound on the
    #: supremum's growth" or why it is sharp); empty when nothing is claimed.
    rate_note: str = ""

    # ----------------------------------------------------------------- parameter ---
    @property
    def symbol(self) -> sp.Symbol:
        """The collapse parameter as a sympy symbol."""
        return EPSILON if self.parameter == "epsilon" else ALPHA

    def to_u(self, t: Any) -> mpmath.mpf:
        """The internal variable ``u`` (alpha, or log(1/epsilon)) at ``t``, in mpmath."""
        t = self.check_parameter(t)
        return t if self.parameter == "alpha" else -mpmath.log(t)

    def u_expr(self) -> sp.Expr:
        """``u`` written in the collapse parameter (for turning u-expressions public)."""
        return ALPHA if self.parameter == "alpha" else sp.log(1 / EPSILON)

    def public(self, expr: sp.Expr) -> sp.Expr:
        """Rewrite an expression in ``u`` in terms of the collapse parameter."""
        return expr.subs(U, self.u_expr())

    def check_parameter(self, t: Any) -> mpmath.mpf:
        """Return ``t`` as an mpf, requiring 0 < epsilon < 1 or alpha >= 1.

        Accepts what :func:`as_mpf` accepts: floats, ints (numpy's too), strings
        (``"1e-1000"``: use strings or mpf for values below float64's range) and mpf;
        refuses bools.
        """
        v = as_mpf(self.parameter, t)
        if not mpmath.isfinite(v):
            raise InvalidArgumentError(self.parameter, f"must be finite, got {t!r}")
        if self.parameter == "epsilon":
            if not 0 < v < 1:
                raise InvalidArgumentError("epsilon", f"must be in (0, 1), got {t!r}")
        elif v < 1:
            raise InvalidArgumentError("alpha", f"must be >= 1, got {t!r}")
        return v

    def default_values(self) -> list[mpmath.mpf]:
        """The sequence used in the JSON and the figure (down to 1e-1000 or up to 1e3)."""
        if self.parameter == "epsilon":
            exps = [1, 2, 3, 5, 10, 20, 50, 100, 200, 300, 500, 1000]
            return [mpmath.mpf(f"1e-{e}") for e in exps]
        return [mpmath.mpf(a) for a in (1, 3, 10, 30, 100, 300, 1000)]

    def quick_values(self) -> list[mpmath.mpf]:
        """A short sequence for quick checks (still spanning float64's range and beyond).

        Epsilon sequences (closed forms, cheap): first, middle, last value; alpha sequences
        (quadrature, ~0.3 s per value): the two ends.
        """
        vals = self.default_values()
        if self.parameter == "alpha":
            return [vals[0], vals[-1]]
        return [vals[0], vals[len(vals) // 2], vals[-1]]

    @abstractmethod
    def parameters(self, t: Any) -> dict[str, Any]:
        """The construction's parameters at ``t`` (mpf scalars, lists of mpf)."""

    # ------------------------------------------------------------------ objective ---
    @abstractmethod
    def _objective(self, u: mpmath.mpf) -> mpmath.mpf:
        """The objective at internal variable ``u``; runs inside ``mp.workdps``."""

    def objective(self, t: Any, *, dps: int = 30) -> mpmath.mpf:
        """The exact objective at ``t`` (total over the data set, natural log) in mpmath.

        Evaluated with ``dps`` decimal digits of working precision; the global
        ``mpmath.mp.dps`` is restored afterwards.
        """
        if isinstance(dps, bool) or not isinstance(dps, int) or not 10 <= dps <= MAX_DPS:
            raise InvalidArgumentError("dps", f"must be an integer in [10, {MAX_DPS}], "
                                       f"got {dps!r}")
        with mpmath.workdps(dps + 10):
            u = self.to_u(t)
            value = self._objective(u)
        with mpmath.workdps(dps):
            return +value  # rounded to dps digits (kept at that precision)

    def correct_digits(self, t: Any, *, dps: int = 30, value: mpmath.mpf | None = None
                       ) -> int:
        """Decimal digits of ``objective(t, dps=dps)`` that agree with a run at dps + 10.

        The reference run uses 10 more digits of working precision; the count is capped at
        ``dps``.  (Formulas avoid catastrophic cancellation, e.g. with expm1, so this
        estimate is not fooled by an error both runs share.)  ``value``: the objective at
        ``dps`` if already computed.
        """
        a = self.objective(t, dps=dps) if value is None else value
        with mpmath.workdps(dps + 20):
            b = self.objective(t, dps=dps + 10)
            if b == a:
                return dps
            err = abs(a - b) / max(abs(b), mpmath.mpf(10) ** (-dps))
            return max(0, min(dps, int(mpmath.floor(-mpmath.log10(err)))))

    # ------------------------------------------------------------------- symbolic ---
    @abstractmethod
    def _symbolic_objective_u(self) -> sp.Expr:
        """The objective as a sympy expression in ``U``."""

    def symbolic_objective(self) -> sp.Expr:
        """The exact objective as a sympy expression in the collapse parameter."""
        return self.public(self._symbolic_objective_u())

    def _asymptote_parts_u(self) -> tuple[sp.Expr, sp.Expr]:
        """``(divergent, constant)`` in ``U``; default: :func:`asymptotic_split`."""
        return asymptotic_split(self._symbolic_objective_u())

    @functools.cached_property
    def _parts(self) -> tuple[sp.Expr, sp.Expr]:
        return self._asymptote_parts_u()

    def symbolic_rate(self) -> sp.Expr:
        """The divergent part of the objective (0 if it converges), in the parameter."""
        return self.public(self._parts[0])

    def symbolic_asymptote(self) -> sp.Expr:
        """Divergent part plus constant: ``objective = asymptote + o(1)``."""
        return self.public(self._parts[0] + self._parts[1])

    def asymptote(self, t: Any, *, dps: int = 30) -> mpmath.mpf:
        """The asymptote evaluated with mpmath at ``t``."""
        with mpmath.workdps(dps + 10):
            u = self.to_u(t)
            expr = self._parts[0] + self._parts[1]
            value = sp.lambdify(U, expr, modules="mpmath")(u)
        with mpmath.workdps(dps):
            return +mpmath.mpf(value)

    def remainder_bound(self, t: Any) -> mpmath.mpf | None:
        """A proven bound on ``|objective(t) - asymptote(t)|``, where one is derived."""
        return None

    def diagnostics(self, values: Sequence[mpmath.mpf]) -> dict[str, Any]:
        """Further computed numbers for the row at the parameter ``values`` (JSON-ready).

        Default: none.  A construction whose point is not the objective alone (e.g. a loss
        that is floored while its variance is not) reports the rest here.
        """
        return {}

    def rate_text(self) -> str:
        """The asymptotic rate as text, printed from the sympy expression."""
        rate = self.symbolic_rate()
        if rate == 0:
            const = sp.N(self.public(self._parts[1]), 15)
            return f"converges to {const}"
        return f"{sp.sstr(rate)} + O(1)"

    @functools.cached_property
    def _limit(self) -> sp.Expr:
        divergent, constant = self._parts
        if divergent == 0:
            return constant
        return sp.limit(divergent, U, sp.oo)

    def limit(self) -> sp.Expr:
        """The sympy limit of the objective along the sequence (``oo``, ``-oo`` or finite)."""
        return self._limit

    # -------------------------------------------------------------------- bounds ---
    def symbolic_cap(self) -> sp.Expr | None:
        """A bound on the objective valid for the whole model family, or ``None``."""
        return None

    def cap(self) -> mpmath.mpf | None:
        """:meth:`symbolic_cap` evaluated with mpmath (30 digits), or ``None``."""
        cap = self.symbolic_cap()
        if cap is None:
            return None
        with mpmath.workdps(30):
            return mpmath.mpf(sp.N(cap, 40))

    def bounded(self) -> bool:
        """Whether the objective is bounded above over the model family (computed).

        ``False`` when the exact objective tends to ``+oo`` along the sequence (the
        sequence is the proof); ``True`` when a finite cap is derived.  Both at once is a
        contradiction and raises :class:`EvidenceConflictError`; neither decides nothing
        and raises too.
        """
        diverges = self.limit() == sp.oo
        cap = self.symbolic_cap()
        capped = cap is not None and bool(sp.N(cap).is_finite)
        if diverges and capped:
            raise EvidenceConflictError(f"{self.name}: diverges along the sequence but "
                                        f"is capped by {cap}")
        if not diverges and not capped:
            raise EvidenceConflictError(f"{self.name}: neither divergence nor a cap shown")
        return capped

    def parameter_exceeding(self, bound: Any) -> mpmath.mpf:
        """A parameter value at which the objective is predicted to exceed ``bound``.

        Found by bisection on the asymptote (in ``u``) with a margin of 1 + the remainder
        bound; the prediction is checked by the caller with :meth:`objective`.  Only for
        divergent constructions.  ``bound``: a finite real (see :func:`as_mpf`); the
        search doubles ``u`` at most :data:`MAX_DOUBLINGS` times (u <= 2**4096).
        """
        target = as_mpf("bound", bound)
        if not mpmath.isfinite(target):
            raise InvalidArgumentError("bound", f"must be finite, got {bound!r}")
        if self.limit() != sp.oo:
            raise InvalidArgumentError("bound", f"{self.name} does not diverge to +oo")
        f = sp.lambdify(U, self._parts[0] + self._parts[1], modules="mpmath")
        target += 1
        lo, hi = mpmath.mpf(1), mpmath.mpf(2)
        with mpmath.workdps(30):
            for _ in range(MAX_DOUBLINGS):
                if f(hi) > target + self._margin(hi):
                    break
                lo, hi = hi, hi * 2
            else:
                raise InvalidArgumentError(
                    "bound", f"too large: the asymptote of {self.name} stays below "
                             f"{mpmath.nstr(target, 6)} up to u = 2**{MAX_DOUBLINGS}")
            for _ in range(200):
                mid = (lo + hi) / 2
                if f(mid) > target + self._margin(mid):
                    hi = mid
                else:
                    lo = mid
            return hi if self.parameter == "alpha" else mpmath.exp(-hi)

    def _margin(self, u: mpmath.mpf) -> mpmath.mpf:
        t = u if self.parameter == "alpha" else mpmath.exp(-u)
        rb = self.remainder_bound(t)
        return mpmath.mpf(1) if rb is None else rb

    # --------------------------------------------------------------------- torch ---
    @abstractmethod
    def float_limit(self, dtype: str = "float64") -> FloatLimit:
        """Where ``dtype`` ("float64" or "float32") stops following the sequence, and why."""

    def float_scale(self, t: Any) -> mpmath.mpf:
        """The size of the largest term a float evaluation sums at ``t`` (0: the objective's
        own size is the scale).  A construction whose objective is a small difference of
        large terms (e.g. KL and reconstruction both ~alpha^2) states it, so a float
        evaluation's error is judged against u times that size, not the small result."""
        return mpmath.mpf(0)

    def follows(self, t: Any, dtype: str = "float64") -> bool:
        """Whether ``t`` lies on the side of :meth:`float_limit` that ``dtype`` follows."""
        t = self.check_parameter(t)
        lim = mpmath.mpf(self.float_limit(dtype)["value"])
        return t > lim if self.parameter == "epsilon" else t < lim

    def torch_objective(self, t: Any, *, dtype: str = "float64",
                        force: bool = False) -> float | None:
        """The objective computed by the explicit torch network in ``dtype``.

        Returns ``None`` where ``dtype`` cannot follow the sequence (see
        :meth:`float_limit`) or the network's result is not finite; ``force=True``
        computes anyway (to show what goes wrong past the limit).
        """
        if dtype not in ("float64", "float32"):
            raise InvalidArgumentError("dtype", f"must be 'float64' or 'float32', got {dtype!r}")
        t = self.check_parameter(t)
        if not force and not self.follows(t, dtype):
            return None
        value = self._torch_objective(t, dtype)
        return value if value == value and abs(value) != float("inf") else None

    @abstractmethod
    def _torch_objective(self, t: mpmath.mpf, dtype: str) -> float:
        """Build the network at ``t`` and evaluate the objective in ``dtype``."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"
