"""Explicit parameter sequences along which the VAE objective provably diverges, or not.

Each construction (a :class:`~vaeproofs.constructions.base.Construction`) gives its
parameters as a function of a collapse parameter, the exact objective (closed form,
normal-CDF terms or 1-D integrals) evaluated with mpmath at any precision, its asymptotic
rate derived with sympy, whether the objective is bounded (computed), its cap, and a real
torch network computing its decoder (:mod:`vaeproofs.constructions.networks`, the only
module here that imports torch, loaded lazily).

Registry: :func:`all_constructions`, :func:`get`; evaluation rows for the JSON, the figure
and ``vaeproofs verify``: :func:`evaluate`, :func:`run_all`.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import mpmath
import sympy as sp

from vaeproofs.constructions.base import Construction, as_mpf_list
from vaeproofs.constructions.bernoulli import BernoulliElbo
from vaeproofs.constructions.continuous_bernoulli import ContinuousBernoulliElbo
from vaeproofs.constructions.degenerate_linear import DegenerateLinear
from vaeproofs.constructions.dequantisation import FreshDequantisedElbo, StaticDequantisedElbo
from vaeproofs.constructions.exact_likelihood import ExactLikelihood
from vaeproofs.constructions.floored import FlooredElbo, FlooredExactLikelihood
from vaeproofs.constructions.gaussian_nll_eps import GaussianNllEps
from vaeproofs.constructions.manifold import ClosedCurve
from vaeproofs.constructions.memorising_elbo import MemorisingElbo
from vaeproofs.constructions.mixture_analogy import GmmLikelihood
from vaeproofs.constructions.precision import correct_digits, relative_error
from vaeproofs.constructions.remedies import FlooredStudentTLikelihood, SoftclipLikelihood
from vaeproofs.constructions.student_t import StudentTElbo
from vaeproofs.errors import InvalidArgumentError

__all__ = [
    "Construction",
    "all_constructions",
    "evaluate",
    "get",
    "names",
    "run_all",
]

_FACTORIES = (ExactLikelihood, MemorisingElbo, DegenerateLinear, ClosedCurve,
              FlooredExactLikelihood, FlooredElbo, BernoulliElbo, StudentTElbo,
              # -- beyond the thread (remedies, dequantisation, the mixture analogy)
              GmmLikelihood, StaticDequantisedElbo, FreshDequantisedElbo,
              ContinuousBernoulliElbo, SoftclipLikelihood, FlooredStudentTLikelihood,
              GaussianNllEps)
_CACHE: dict[str, Construction] = {}


def all_constructions() -> list[Construction]:
    """Every construction with its default data, in issue order (instances are shared)."""
    if not _CACHE:
        for factory in _FACTORIES:
            c = factory()
            _CACHE[c.name] = c
    return list(_CACHE.values())


def names() -> list[str]:
    """The constructions' names."""
    return [c.name for c in all_constructions()]


def get(name: str) -> Construction:
    """The construction called ``name``; :class:`InvalidArgumentError` if unknown."""
    for c in all_constructions():
        if c.name == name:
            return c
    raise InvalidArgumentError("name", f"unknown construction {name!r}; valid names: "
                               f"{', '.join(names())}")


def evaluate(construction: Construction, values: Sequence[Any] | None = None, *,
             dps: int = 30, digits: bool = True) -> dict[str, Any]:
    """The JSON row of one construction.

    Keys: ``name``, ``title``, ``objective`` (what is evaluated), ``bounded`` (computed),
    ``parameter``, ``parameter_values`` and ``values`` (decimal strings, mpmath at ``dps``),
    ``torch_float64`` (the network's float64 values; ``None`` where float64 cannot follow),
    ``torch_rel_error`` (relative error of each float64 value against mpmath),
    ``correct_digits`` (agreement of each mpmath value with a run at dps + 10),
    ``asymptote`` (the sympy asymptote evaluated there), ``remainder_bound`` (a proven bound
    on ``|value - asymptote|`` where derived), ``rate`` (text from sympy), ``cap``,
    ``limit`` (sympy limit along the sequence), ``float64_limit``/``float32_limit``
    (``{"value", "reason"}``), ``sources``, ``diagnostics`` (construction-specific numbers,
    see :meth:`Construction.diagnostics`), ``seconds`` (wall time of this row).
    """
    start = time.perf_counter()
    vals = as_mpf_list(values, construction.default_values())
    for v in vals:
        construction.check_parameter(v)
    exact = [construction.objective(v, dps=dps) for v in vals]
    torch64 = [construction.torch_objective(v) for v in vals]
    rel = [None if t is None else relative_error(t, e) for t, e in zip(torch64, exact,
                                                                       strict=True)]
    asym = [construction.asymptote(v, dps=dps) for v in vals]
    bounds = [construction.remainder_bound(v) for v in vals]
    cap = construction.cap()
    row: dict[str, Any] = {
        "name": construction.name,
        "title": construction.title,
        "objective": construction.objective_kind,
        "bounded": construction.bounded(),
        "parameter": construction.parameter,
        "parameter_values": [mpmath.nstr(v, 6) for v in vals],
        "values": [mpmath.nstr(e, dps) for e in exact],
        "torch_float64": torch64,
        "torch_rel_error": rel,
        "correct_digits": ([construction.correct_digits(v, dps=dps, value=e)
                            for v, e in zip(vals, exact, strict=True)] if digits else None),
        "asymptote": [mpmath.nstr(a, 20) for a in asym],
        "asymptote_digits": [correct_digits(a, e) if a != 0 else 0
                             for a, e in zip(asym, exact, strict=True)],
        "remainder_bound": [None if b is None else mpmath.nstr(b, 6) for b in bounds],
        "rate": construction.rate_text(),
        "cap": None if cap is None else mpmath.nstr(cap, 20),
        "limit": sp.sstr(construction.limit()),
        "float64_limit": dict(construction.float_limit("float64")),
        "float32_limit": dict(construction.float_limit("float32")),
        "sources": list(construction.sources),
        "diagnostics": construction.diagnostics(vals),
    }
    row["seconds"] = round(time.perf_counter() - start, 3)
    return row


def run_all(quick: bool = False, *, dps: int | None = None) -> list[dict[str, Any]]:
    """:func:`evaluate` for every construction.

    ``quick``: :meth:`~Construction.quick_values` only, 20 digits, no digit check (a few
    seconds); otherwise the default sequences at 30 digits with digit checks.
    """
    dps = (20 if quick else 30) if dps is None else dps
    rows = []
    for c in all_constructions():
        vals = c.quick_values() if quick else None
        rows.append(evaluate(c, vals, dps=dps, digits=not quick))
    return rows
