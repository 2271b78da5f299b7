"""Explicit parameter sequences along which the VAE objective provably diverges, or not.

Each construction (a :class:`~vaeproofs.constructions.base.Construction`) gives its
parameters as a function of a collapse parameter, the exact objective (closed form,
normal-CDF terms or 1-D integrals) evaluated with mpmath at any precision, its asymptotic
rate derived with sympy, whether the objective is bounded (computed), its cap, and a real
torch network computing its decoder (:mod:`vaeproofs.constructions.networks` and
:mod:`~vaeproofs.constructions.encoder_networks`, the only modules here that import torch,
loaded lazily).

Registry: :func:`all_constructions`, :func:`get`; evaluation rows for the JSON, the figure
and ``vaeproofs verify``: :func:`evaluate_construction` (a typed
:class:`~vaeproofs.constructions.row.ConstructionRow`), :func:`run_all`.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import mpmath
import sympy as sp

from vaeproofs.constructions.base import Construction
from vaeproofs.constructions.bernoulli import BernoulliElbo
from vaeproofs.constructions.continuous_bernoulli import ContinuousBernoulliElbo
from vaeproofs.constructions.degenerate_linear import DegenerateLinear
from vaeproofs.constructions.dequantisation import FreshDequantisedElbo, StaticDequantisedElbo
from vaeproofs.constructions.exact_likelihood import ExactLikelihood
from vaeproofs.constructions.fixed_encoder import FixedEncoderD1, FixedEncoderD2, FixedEncoderD3
from vaeproofs.constructions.floored import FlooredElbo, FlooredExactLikelihood
from vaeproofs.constructions.gaussian_nll_eps import GaussianNllEps
from vaeproofs.constructions.half_space_elbo import HalfSpaceElbo
from vaeproofs.constructions.manifold import ClosedCurve
from vaeproofs.constructions.memorising_elbo import MemorisingElbo
from vaeproofs.constructions.mixture_analogy import GmmLikelihood
from vaeproofs.constructions.population_beta import PopulationBetaHalf, PopulationBetaOne
from vaeproofs.constructions.precision import correct_digits, relative_error
from vaeproofs.constructions.remedies import FlooredStudentTLikelihood, SoftclipLikelihood
from vaeproofs.constructions.row import ConstructionRow, FloatLimitRecord
from vaeproofs.constructions.single_point import SinglePointCollapse, SinglePointFloorEncoder
from vaeproofs.constructions.student_t import StudentTElbo
from vaeproofs.constructions.values import as_mpf_list
from vaeproofs.errors import InvalidArgumentError

__all__ = [
    "Construction",
    "ConstructionRow",
    "all_constructions",
    "evaluate_construction",
    "evaluate_named",
    "get",
    "names",
    "run_all",
]

_FACTORIES = (ExactLikelihood, MemorisingElbo, DegenerateLinear, ClosedCurve,
              FlooredExactLikelihood, FlooredElbo, BernoulliElbo, StudentTElbo,
              # -- beyond the thread (remedies, dequantisation, the mixture analogy)
              GmmLikelihood, StaticDequantisedElbo, FreshDequantisedElbo,
              ContinuousBernoulliElbo, SoftclipLikelihood, FlooredStudentTLikelihood,
              GaussianNllEps,
              # -- the collapse mechanism's ELBO conditions (docs/theory.md section 1)
              HalfSpaceElbo,
              # -- the KL's price: single-point collapse, fixed encoder variance, beta < 1
              SinglePointCollapse, SinglePointFloorEncoder, FixedEncoderD1, FixedEncoderD2,
              FixedEncoderD3, PopulationBetaHalf, PopulationBetaOne)
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


def _float_limit(construction: Construction, dtype: str) -> FloatLimitRecord:
    lim = construction.float_limit(dtype)
    return FloatLimitRecord(value=str(lim["value"]), reason=str(lim["reason"]))


def _limit_value(limit: sp.Expr) -> str | None:
    return sp.sstr(sp.N(limit, 10)) if limit.is_finite else None


def evaluate_construction(construction: Construction | str, values: Sequence[Any] | None = None, *,
                          dps: int = 30, digits: bool = True) -> ConstructionRow:
    """Evaluate one construction (a :class:`Construction` or its name) along its sequence.

    ``values``: the collapse parameter's values (see
    :func:`vaeproofs.constructions.values.as_mpf`; default: the construction's own);
    ``dps``: mpmath digits; ``digits``: also check each value at ``dps + 10`` digits.
    Bad ``construction``, ``values`` or ``digits`` raise :class:`InvalidArgumentError`.
    Returns a :class:`ConstructionRow`.
    """
    start = time.perf_counter()
    if isinstance(construction, str):
        construction = get(construction)
    elif not isinstance(construction, Construction):
        raise InvalidArgumentError("construction", f"must be a Construction or one of "
                                   f"{', '.join(names())}, got {construction!r:.60}")
    if not isinstance(digits, bool):
        raise InvalidArgumentError("digits", f"must be True or False, got {digits!r}")
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
    limit = construction.limit()
    return ConstructionRow(
        name=construction.name,
        title=construction.title,
        objective=construction.objective_kind,
        bounded=bool(construction.bounded()),
        parameter=construction.parameter,
        parameter_values=tuple(mpmath.nstr(v, 6) for v in vals),
        values=tuple(mpmath.nstr(e, dps) for e in exact),
        torch_float64=tuple(torch64),
        torch_rel_error=tuple(rel),
        correct_digits=(tuple(construction.correct_digits(v, dps=dps, value=e)
                              for v, e in zip(vals, exact, strict=True)) if digits else None),
        asymptote=tuple(mpmath.nstr(a, 20) for a in asym),
        asymptote_digits=tuple(correct_digits(a, e) if a != 0 else 0
                               for a, e in zip(asym, exact, strict=True)),
        remainder_bound=tuple(None if b is None else mpmath.nstr(b, 6) for b in bounds),
        rate=construction.rate_text(),
        cap=None if cap is None else mpmath.nstr(cap, 20),
        limit=sp.sstr(limit),
        limit_value=_limit_value(limit),
        diagnostics=construction.diagnostics(vals),
        float64_limit=_float_limit(construction, "float64"),
        float32_limit=_float_limit(construction, "float32"),
        sources=tuple(construction.sources),
        rate_note=construction.rate_note,
        seconds=round(time.perf_counter() - start, 3),
    )


def run_all(quick: bool = False, *, dps: int | None = None) -> list[ConstructionRow]:
    """:func:`evaluate_construction` for every construction.

    ``quick``: :meth:`~Construction.quick_values` only, 20 digits, no digit check (a few
    seconds); otherwise the default sequences at 30 digits with digit checks.
    """
    return [evaluate_named(name, quick=quick, dps=dps) for name in names()]


def evaluate_named(name: str, *, quick: bool = False, dps: int | None = None) -> ConstructionRow:
    """:func:`evaluate_construction` of the construction called ``name``, with the settings
    of :func:`run_all` (one row of it; used to evaluate constructions in parallel)."""
    c = get(name)
    dps = (20 if quick else 30) if dps is None else dps
    vals = c.quick_values() if quick else None
    return evaluate_construction(c, vals, dps=dps, digits=not quick)
