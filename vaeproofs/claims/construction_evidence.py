"""Evidence from the explicit constructions (:mod:`vaeproofs.constructions`).

A divergent construction is a proof of unboundedness: its exact objective, evaluated
in mpmath, tends to +infinity along the sequence (the sympy limit is ``oo``).  A
bounded one comes with a derived cap that every evaluated value stays under.
"""

from __future__ import annotations

from decimal import Decimal

from vaeproofs.claims.conditions import Condition
from vaeproofs.claims.context import EvidenceContext
from vaeproofs.claims.verdict import Evidence
from vaeproofs.constructions.row import ConstructionRow


def _short(text: str) -> str:
    d = Decimal(text)
    return f"{d:.6g}" if abs(d) < Decimal("1e7") else f"{d:.4e}"


def describe_row(row: ConstructionRow) -> str:
    """The evidence text of one construction row (reads the row's computed properties)."""
    p = row.parameter
    limit = row.limit if row.limit_value is None else row.limit_value
    text = (f"{row.title}: the {row.objective} goes from {_short(row.values[0])} at "
            f"{p} = {row.parameter_values[0]} to {_short(row.values[-1])} at {p} = "
            f"{row.parameter_values[-1]} (mpmath); sympy limit along the sequence: "
            f"{limit}; rate {row.rate}" + (f" ({row.rate_note})." if row.rate_note else "."))
    if row.cap is not None:
        text += f" Cap {_short(row.cap)}: every value under it: {row.under_cap}."
    rel = row.max_torch_rel_error
    if rel is not None:
        n_follow = sum(r is not None for r in row.torch_rel_error)
        text += (f" The explicit float64 torch network agrees with mpmath to a relative "
                 f"{rel:.1e} at the {n_follow} of {len(row.values)} values float64 can follow")
        lim = row.float64_limit
        text += f"; float64 stops at {p} = {lim.value} ({lim.reason})." if lim.reached else "."
    if row.min_correct_digits is not None:
        text += f" At least {row.min_correct_digits} correct digits (checked at raised precision)."
    return text


def unbounded_evidence(ctx: EvidenceContext, name: str, condition: Condition, *, supports_if_unbounded: bool
               ) -> Evidence:
    row = ctx.construction(name)
    # The claim is either "unbounded" (supported by divergence) or "bounded" (supported
    # only if the construction is bounded).
    supports = row.diverges if supports_if_unbounded else row.bounded
    return Evidence("high-precision", describe_row(row), supports, condition, figures=("constructions",),
                    data={"name": row.name, "bounded": row.bounded, "rate": row.rate,
                          "limit": row.limit})


def bounded_evidence(ctx: EvidenceContext, name: str, condition: Condition) -> Evidence:
    row = ctx.construction(name)
    return Evidence("high-precision", describe_row(row), row.bounded and row.under_cap, condition,
                    figures=("constructions",),
                    data={"name": row.name, "bounded": row.bounded, "cap": row.cap,
                          "limit": row.limit})


def likelihood_diverges(ctx: EvidenceContext) -> list[Evidence]:
    """Mattei & Frellsen's sequence: the exact log-likelihood goes to +oo."""
    return [unbounded_evidence(ctx, "exact_likelihood", Condition.FLEXIBLE_LEARNED_VARIANCE,
                       supports_if_unbounded=True)]


def elbo_diverges(ctx: EvidenceContext) -> list[Evidence]:
    """ELBO sequences (KL included) that go to +oo, each filed under the setting it is about:
    constant mean with a z-dependent variance; one shared variance with an interpolating
    mean; a population on a curve."""
    return [unbounded_evidence(ctx, "half_space_elbo", Condition.FLEXIBLE_LEARNED_VARIANCE,
                               supports_if_unbounded=True),
            unbounded_evidence(ctx, "memorising_elbo", Condition.SHARED_FLEXIBLE, supports_if_unbounded=True),
            unbounded_evidence(ctx, "manifold", Condition.LOWER_DIMENSIONAL_POPULATION,
                               supports_if_unbounded=True)]


def elbo_bounded_claim_refuted(ctx: EvidenceContext) -> list[Evidence]:
    """For a claim that the ELBO is bounded: the divergent sequences contradict it."""
    return [unbounded_evidence(ctx, "half_space_elbo", Condition.FLEXIBLE_LEARNED_VARIANCE,
                               supports_if_unbounded=False),
            unbounded_evidence(ctx, "memorising_elbo", Condition.SHARED_FLEXIBLE,
                               supports_if_unbounded=False)]


def encoders_must_concentrate(ctx: EvidenceContext) -> list[Evidence]:
    """The same decoder with fixed encoders: the ELBO peaks, then falls to -oo (no vote)."""
    row = ctx.construction("half_space_elbo")
    d = row.diagnostics
    pairs = ", ".join(f"{_short(v)} at alpha = {a}" for a, v in
                      zip(d["fixed_encoder_alphas"], d["fixed_encoder_values"], strict=True))
    torch64 = ", ".join("-" if t is None else f"{t:.6g}" for t in d["fixed_encoder_torch_float64"])
    text = (f"The same decoder with the encoders held fixed (x_1: N(-3, 0.1^2), the others "
            f"N(3, 0.1^2)): total ELBO {pairs} (mpmath; float64 network: {torch64}). Each other "
            f"point's leak onto the collapse region costs its q_j(A) e^alpha at least, so the "
            f"total is <= {d['fixed_encoder_upper_bound']} -> {d['fixed_encoder_limit']} (sympy)"
            + (": without concentrating encoders this sequence is lost" if d["fixed_encoder_limit"] == "-oo"
               else ": the bound does not show the sequence lost")
            + f"; with concentrating encoders the rate is {row.rate}.")
    return [Evidence("high-precision", text, None, Condition.FIXED_ENCODERS, figures=("constructions",),
                     data={"alphas": d["fixed_encoder_alphas"], "values": d["fixed_encoder_values"],
                           "limit": d["fixed_encoder_limit"]})]


def shared_variance_diverges(ctx: EvidenceContext) -> list[Evidence]:
    """One variance for all pixels and points: the cell sequence diverges on a finite set, the
    curve sequence on a population on a curve."""
    return [unbounded_evidence(ctx, "memorising_elbo", Condition.SHARED_FLEXIBLE,
                               supports_if_unbounded=False),
            unbounded_evidence(ctx, "manifold", Condition.LOWER_DIMENSIONAL_POPULATION,
                               supports_if_unbounded=False)]


def linear_degenerate(ctx: EvidenceContext) -> list[Evidence]:
    """Linear VAE, rank r <= k data: unbounded (consistent with 'bounded iff rank > k')."""
    return [unbounded_evidence(ctx, "degenerate_linear", Condition.LINEAR_SHARED, supports_if_unbounded=True)]


def floored_bounded(ctx: EvidenceContext) -> list[Evidence]:
    """Under a floor xi the same sequences stay under the cap."""
    return [bounded_evidence(ctx, n, Condition.FLOORED) for n in ("floored_exact_likelihood", "floored_elbo")]


def bernoulli_bounded(ctx: EvidenceContext) -> list[Evidence]:
    """Bernoulli outputs on the same cells stay under 0."""
    return [bounded_evidence(ctx, "bernoulli_elbo", Condition.BERNOULLI)]


def student_t(ctx: EvidenceContext) -> list[Evidence]:
    """Student-t with learned scale on the same cells: bounded or not (supports = bounded)."""
    return [bounded_evidence(ctx, "student_t_elbo", Condition.STUDENT_T)]
