"""Evidence from the explicit constructions (:mod:`vaeproofs.constructions`).

A divergent construction is a proof of unboundedness: its exact objective, evaluated
in mpmath, tends to +infinity along the sequence (the sympy limit is ``oo``).  A
bounded one comes with a derived cap that every evaluated value stays under.
"""

from __future__ import annotations

import itertools
from decimal import Decimal
from typing import Any

from vaeproofs.claims.conditions import Condition
from vaeproofs.claims.context import EvidenceContext
from vaeproofs.claims.verdict import Evidence


def _num(text: str) -> Decimal:
    return Decimal(text)


def _short(text: str) -> str:
    d = _num(text)
    return f"{d:.6g}" if abs(d) < Decimal("1e7") else f"{d:.4e}"


def _describe(row: dict[str, Any]) -> tuple[str, bool, bool]:
    """(summary, increasing, under_cap) for one construction row."""
    vals = [_num(v) for v in row["values"]]
    increasing = all(b > a for a, b in itertools.pairwise(vals))
    cap = None if row["cap"] is None else _num(row["cap"])
    under_cap = cap is None or all(v <= cap for v in vals)
    p = row["parameter"]
    text = (f"{row['title']}: the {row['objective']} goes from {_short(row['values'][0])} at "
            f"{p} = {row['parameter_values'][0]} to {_short(row['values'][-1])} at {p} = "
            f"{row['parameter_values'][-1]} (mpmath); sympy limit along the sequence: "
            f"{row['limit'] if len(row['limit']) < 40 else 'finite'}; rate {row['rate']}.")
    if cap is not None:
        text += f" Cap {_short(row['cap'])}: every value under it: {under_cap}."
    rel = [r for r in row["torch_rel_error"] if r is not None]
    if rel:
        text += (f" The explicit float64 torch network agrees with mpmath to a relative "
                 f"{max(rel):.1e} at the {len(rel)} of {len(vals)} values float64 can follow")
        lim = row["float64_limit"]
        text += (f"; float64 stops at {p} = {lim['value']} ({lim['reason']})."
                 if "none" not in lim["reason"] else ".")
    digits = [d for d in (row.get("correct_digits") or []) if d is not None]
    if digits:
        text += f" At least {min(digits)} correct digits (checked at raised precision)."
    return text, increasing, under_cap


def _unbounded(ctx: EvidenceContext, name: str, condition: str, *, supports_if_unbounded: bool
               ) -> Evidence:
    row = ctx.construction(name)
    text, increasing, _ = _describe(row)
    unbounded = (not row["bounded"]) and increasing
    # The claim is either "unbounded" (supported by divergence) or "bounded" (supported
    # only if the construction is bounded).
    supports = unbounded if supports_if_unbounded else bool(row["bounded"])
    return Evidence("high-precision", text, supports, condition, figures=("constructions",),
                    data={k: row[k] for k in ("name", "bounded", "rate", "limit")})


def _bounded(ctx: EvidenceContext, name: str, condition: str) -> Evidence:
    row = ctx.construction(name)
    text, _, under_cap = _describe(row)
    return Evidence("high-precision", text, bool(row["bounded"] and under_cap), condition,
                    figures=("constructions",),
                    data={k: row[k] for k in ("name", "bounded", "cap", "limit")})


def likelihood_diverges(ctx: EvidenceContext) -> list[Evidence]:
    """Mattei & Frellsen's sequence: the exact log-likelihood goes to +oo."""
    return [_unbounded(ctx, "exact_likelihood", Condition.FLEXIBLE_LEARNED_VARIANCE,
                       supports_if_unbounded=True)]


def elbo_diverges(ctx: EvidenceContext) -> list[Evidence]:
    """All-points ELBO sequences (flexible decoder, KL included) go to +oo."""
    return [_unbounded(ctx, n, Condition.FLEXIBLE_LEARNED_VARIANCE, supports_if_unbounded=True)
            for n in ("memorising_elbo", "manifold")]


def elbo_bounded_claim_refuted(ctx: EvidenceContext) -> list[Evidence]:
    """For a claim that the ELBO is bounded: the divergent sequences contradict it."""
    return [_unbounded(ctx, "memorising_elbo", Condition.FLEXIBLE_LEARNED_VARIANCE,
                       supports_if_unbounded=False)]


def shared_variance_diverges(ctx: EvidenceContext) -> list[Evidence]:
    """One variance for all pixels and points: the cell and curve sequences still diverge."""
    return [_unbounded(ctx, n, Condition.SHARED_FLEXIBLE, supports_if_unbounded=False)
            for n in ("memorising_elbo", "manifold")]


def linear_degenerate(ctx: EvidenceContext) -> list[Evidence]:
    """Linear VAE, rank r <= k data: unbounded (consistent with 'bounded iff rank > k')."""
    return [_unbounded(ctx, "degenerate_linear", Condition.LINEAR_SHARED, supports_if_unbounded=True)]


def floored_bounded(ctx: EvidenceContext) -> list[Evidence]:
    """Under a floor xi the same sequences stay under the cap."""
    return [_bounded(ctx, n, Condition.FLOORED) for n in ("floored_exact_likelihood", "floored_elbo")]


def bernoulli_bounded(ctx: EvidenceContext) -> list[Evidence]:
    """Bernoulli outputs on the same cells stay under 0."""
    return [_bounded(ctx, "bernoulli_elbo", Condition.BERNOULLI)]


def student_t(ctx: EvidenceContext) -> list[Evidence]:
    """Student-t with learned scale on the same cells: bounded or not (supports = bounded)."""
    return [_bounded(ctx, "student_t_elbo", Condition.STUDENT_T)]
