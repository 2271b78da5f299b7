"""Evidence about the KL term's price: single-point collapse, fixed encoder variance, beta < 1.

Each gatherer reads a derivation's typed fact record (:mod:`vaeproofs.symbolic.facts`) or
evaluated construction rows and states what they mean for one claim; ``supports`` is an
expression of those computed values, so a different derivation or construction gives a
different verdict.  No mathematics happens here.
"""

from __future__ import annotations

from decimal import Decimal

from vaeproofs.claims.conditions import Condition
from vaeproofs.claims.construction_evidence import bounded_evidence, unbounded_evidence
from vaeproofs.claims.context import EvidenceContext
from vaeproofs.claims.verdict import Evidence
from vaeproofs.symbolic.population_beta import PopulationBetaFacts

__all__ = ["population_beta_constructions", "population_beta_symbolic"]


def population_beta_symbolic(ctx: EvidenceContext) -> list[Evidence]:
    """beta < 1: the profiled objective on N(0, I_D) diverges; beta >= 1: capped by -h(p)."""
    f = PopulationBetaFacts.of(ctx.derivation("population-beta"))
    return [
        Evidence("symbolic",
                 f"On p = N(0, I_D) (a density) with q(z|x) = N(x, s2 I), k = D, and decoder "
                 f"N(z, v I), every expectation integrated by sympy "
                 f"({f.reconstruction_matches_integral}), the best v is s2 "
                 f"({f.best_decoder_variance_is_s2}) and the beta-weighted objective grows like "
                 f"{f.rate_coefficient} log(1/s2): as s2 -> 0 it tends to {f.limit_beta_below_one} "
                 f"for every beta = 1 - delta < 1, {f.limit_beta_half} at beta = 1/2 and "
                 f"{f.limit_beta_zero} without the KL term (beta = 0).",
                 f.unbounded_below_one, Condition.POPULATION_BETA_BELOW_ONE),
        Evidence("symbolic",
                 f"For beta >= 1, J_beta = J_1 - (beta - 1) E_p[KL] with E_p[KL] >= 0 "
                 f"({f.beta_weight_lowers_objective}), so J_beta <= J_1 <= -h(p) (Gibbs). At "
                 f"beta = 1 the same sequence tends to -h(p) = {f.minus_entropy_per_coordinate:.6f} "
                 f"nats per coordinate ({f.limit_beta_one_is_minus_entropy}; attained: "
                 f"{f.beta_one_sup_attained}); at beta = 2 to {f.limit_beta_two}.",
                 f.bounded_from_one, Condition.POPULATION_BETA_AT_LEAST_ONE),
    ]


def population_beta_constructions(ctx: EvidenceContext) -> list[Evidence]:
    """The same sequence in mpmath: beta = 1/2 diverges, beta = 1 stays under -h(p)."""
    half = unbounded_evidence(ctx, "population_beta_half", Condition.POPULATION_BETA_BELOW_ONE,
                              supports_if_unbounded=True)
    one = bounded_evidence(ctx, "population_beta_one", Condition.POPULATION_BETA_AT_LEAST_ONE)
    last = Decimal(ctx.construction("population_beta_half").values[-1])
    cap = Decimal(ctx.construction("population_beta_one").cap or "NaN")
    return [Evidence(half.kind, half.summary + f" The last value exceeds the beta = 1 cap -h(p) "
                     f"by {last - cap:.6g} nats: past every ELBO on this population.",
                     half.supports, half.condition, half.figures, half.data), one]
