"""Evidence from the sympy derivations (:mod:`vaeproofs.symbolic`).

Each gatherer reads the typed ``facts`` and ``results`` of a catalog derivation (frozen
dataclasses, read as attributes: a renamed fact is an ``AttributeError`` here and an
error in the type checker, never a silently weaker piece of evidence) and states what
they mean for one claim.  No mathematics happens here: every comparison is a computed
fact of the derivation.  The ``supports`` values are expressions of those facts, so a
different derivation gives a different verdict.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from vaeproofs.claims.conditions import Condition
from vaeproofs.claims.context import EvidenceContext
from vaeproofs.claims.verdict import Evidence

if TYPE_CHECKING:
    from vaeproofs.symbolic.answer2 import Answer2Facts, Answer2Results
    from vaeproofs.symbolic.answer2_learnable_mean import (
        LearnableMeanFacts,
        LearnableMeanResults,
    )
    from vaeproofs.symbolic.bernoulli_cap import BernoulliCapFacts
    from vaeproofs.symbolic.fixed_variance_beta import (
        FixedVarianceBetaFacts,
        FixedVarianceBetaResults,
    )
    from vaeproofs.symbolic.floor_cap import FloorCapFacts, FloorCapResults
    from vaeproofs.symbolic.ppca import PpcaFacts
    from vaeproofs.symbolic.ppca_degenerate import PpcaDegenerateFacts, PpcaDegenerateResults
    from vaeproofs.symbolic.shared_variance import SharedVarianceFacts, SharedVarianceResults


def answer2_critical_point(ctx: EvidenceContext) -> list[Evidence]:
    """Is the answer's s* = (2 lambda')^(-1/2), lambda' = lambda - 1/2, the optimum?"""
    d = ctx.derivation("answer2")
    f: Answer2Facts = d.facts
    r: Answer2Results = d.results
    matches = bool(f.critical_point_matches_answer or f.critical_point_matches_answer_for_some_c)
    summary = (
        f"Derived from the definitions: ELBO(s, tau) = {r.elbo}; dELBO/ds = 0 has the single "
        f"positive root s* = {r.s_star} (a maximum: {f.critical_point_is_maximum}), real for "
        f"every tau > 0 ({f.critical_point_exists_for_all_precisions}). The answer's "
        f"s* = {r.answer.s_star} (lambda' = lambda - 1/2) equals it identically for some "
        f"proportionality lambda = c tau: {f.critical_point_matches_answer_for_some_c}; the two "
        f"meet only at tau = {list(r.answer.agreement_precisions)}. Correcting exactly two slips "
        f"gives the derived optimum. (1) The sign of the s^2 coefficient: the expected "
        f"log-likelihood carries -lambda s^2 with lambda = {r.corrected.lam} "
        f"({f.corrected_lambda_is_half_precision}), and the answer's first line with that sign is "
        f"the derived ELBO ({f.sign_corrected_objective_equals_elbo}). (2) -log(1/s) = +log s "
        f"({f.minus_log_inverse_is_plus_log}), so the objective is -lambda' s^2 + log s + c' with "
        f"lambda' = {r.corrected.lambda_prime} ({f.corrected_lambda_prime_is_lambda_plus_half}), "
        f"not lambda - 1/2. Then s* = (2 lambda')^(-1/2) = {r.corrected.s_star_in_lambda} is the "
        f"derived optimum ({f.critical_point_matches_corrected_formula}), real for every "
        f"lambda > 0 ({f.corrected_formula_needs_no_condition}): no condition lambda > 1/2 is "
        f"needed.")
    return [Evidence("symbolic", summary, matches, Condition.ANSWER2_EXAMPLE,
                     figures=("answer2-landscape",),
                     data={"s_star": str(r.s_star), "answer_s_star": str(r.answer.s_star),
                           "corrected_s_star": str(r.corrected.s_star_in_lambda),
                           "corrected_lambda": str(r.corrected.lam)})]


def answer2_sign_slip(ctx: EvidenceContext) -> list[Evidence]:
    """Where the answer's objective departs from the derived ELBO."""
    d = ctx.derivation("answer2")
    f: Answer2Facts = d.facts
    r: Answer2Results = d.results
    summary = (
        f"The answer's KL term matches the derived KL: {f.kl_matches_answer}. Its expected "
        f"log-likelihood term has the derived sign: {f.answer_loglik_sign_matches} (derived: "
        f"{r.expected_loglik}). Its own rewrite lambda' s^2 - log s is consistent with its first "
        f"line: {f.answer_rewrite_consistent}.")
    return [Evidence("symbolic", summary, None, Condition.ANSWER2_OBJECTIVE)]


def answer2_identity_mean_bounded(ctx: EvidenceContext) -> list[Evidence]:
    """In the 1-D example with the identity mean, is the optimised ELBO bounded in tau?"""
    d = ctx.derivation("answer2")
    f: Answer2Facts = d.facts
    r: Answer2Results = d.results
    bounded = bool(f.sup_over_precision_finite_identity_mean)
    summary = (
        f"With the decoder mean fixed to the identity, the ELBO maximised over s is "
        f"{r.elbo_at_s_star}, increasing in tau, with supremum "
        f"{r.sup_over_precision_identity_mean} as tau -> oo (finite: {bounded}; attained: "
        f"{f.sup_over_precision_attained}). The KL term does bound this example.")
    return [Evidence("symbolic", summary, bounded, Condition.ANSWER2_EXAMPLE,
                     figures=("answer2-landscape",))]


def answer2_learnable_mean_unbounded(ctx: EvidenceContext) -> list[Evidence]:
    """With a learnable mean a*z, is the ELBO still bounded? (supports = bounded)."""
    d = ctx.derivation("answer2-learnable-mean")
    f: LearnableMeanFacts = d.facts
    r: LearnableMeanResults = d.results
    unbounded = bool(f.learnable_mean_sup_infinite)
    summary = (
        f"With decoder mean a*z, the best a is 0 ({f.best_a_is_zero}) and the ELBO optimised over "
        f"s and a is {r.profiled_at_best_a}, which tends to {r.learnable_mean_sup} as tau -> oo "
        f"at rate {r.learnable_mean_rate} log tau. The KL at the optimum is 0 at a = 0 "
        f"({f.kl_at_optimum_zero_at_a_zero}); along a^2 tau = kappa > 0 it is the positive "
        f"constant {r.kl_at_optimum_along_bounded_a2_tau} "
        f"({f.kl_at_optimum_positive_along_bounded_a2_tau}) while the ELBO still diverges "
        f"({f.bounded_a2_tau_diverges}). The coding cost stays finite and does not stop it.")
    return [Evidence("symbolic", summary, not unbounded, Condition.LEARNABLE_MEAN,
                     figures=("answer2-landscape",))]


def comment_fixed_s_limit(ctx: EvidenceContext) -> list[Evidence]:
    """The comment: fix s, send the precision to infinity: does the objective go to +oo?"""
    d = ctx.derivation("answer2")
    f: Answer2Facts = d.facts
    derived = bool(f.comment_objection_holds_for_derived_elbo)
    as_written = bool(f.comment_objection_holds_for_answer_objective)
    return [
        Evidence("symbolic",
                 f"In the ELBO derived from the example's definitions, fixing s > 0 and letting "
                 f"tau -> oo gives {f.fixed_s_large_precision_limit}: the expected "
                 f"log-likelihood -tau s^2/2 wins over log(tau)/2.",
                 derived, Condition.ANSWER2_EXAMPLE, figures=("answer2-landscape",)),
        Evidence("symbolic",
                 f"In the answer's objective as written (with +lambda s^2), the same limit is "
                 f"{f.fixed_s_large_precision_limit_answer_objective}: this specific limit follows "
                 f"from the answer's sign slip, not from the identity-mean model.",
                 as_written, Condition.ANSWER2_OBJECTIVE),
    ]


def comment_fixed_s_limit_learnable_mean(ctx: EvidenceContext) -> list[Evidence]:
    """The comment's conclusion for the model once the mean map is learnable (a = 0)."""
    d = ctx.derivation("answer2-learnable-mean")
    f: LearnableMeanFacts = d.facts
    holds = bool(f.comment_objection_holds_with_learnable_mean)
    return [Evidence(
        "symbolic",
        f"Once the decoder mean a*z is learnable, a = 0 reproduces x = 0 for every z; at any "
        f"fixed s > 0 the ELBO then tends to {f.fixed_s_limit_a_zero} as tau -> oo (the "
        f"reconstruction term log(tau)/2 grows, the KL is fixed): the commenter's conclusion "
        f"holds for the model, though the specific limit in the thread came from the slip.",
        holds, Condition.LEARNABLE_MEAN_FIXED_S, figures=("answer2-landscape",))]


def shared_variance_profile(ctx: EvidenceContext) -> list[Evidence]:
    """Profiled shared-variance objective: bounded only if the residual cannot vanish."""
    d = ctx.derivation("shared-variance")
    f: SharedVarianceFacts = d.facts
    r: SharedVarianceResults = d.results
    unbounded = bool(f.profiled_unbounded_when_residual_can_vanish)
    summary = (
        f"The ELBO-optimal shared variance is gamma* = {r.gamma_star} (unique maximum: "
        f"{f.global_maximum}); the profiled objective tends to {f.profiled_sup_as_residual_to_0} "
        f"as the total squared residual R -> 0, with coefficient {r.rate_in_log_residual} of "
        f"log R. A decoder mean that can reproduce every training point drives R to 0.")
    return [Evidence("symbolic", summary, not unbounded, Condition.SHARED_FLEXIBLE)]


def floor_cap(ctx: EvidenceContext) -> list[Evidence]:
    """The Gaussian density cap under a variance floor."""
    d = ctx.derivation("floor-cap")
    f: FloorCapFacts = d.facts
    r: FloorCapResults = d.results
    bounded = bool(f.floored_factor_below_cap and f.max_decreasing_in_variance)
    summary = (
        f"Each Gaussian factor is largest at x = mu ({f.argmax_is_mean}) with a maximum "
        f"decreasing in the variance ({f.max_decreasing_in_variance}), so with every variance "
        f">= xi the log-density per point is <= {r.cap_per_point} and the total over n points "
        f"<= {r.cap_total} (as in Mattei & Frellsen: {f.cap_total_matches_mattei_frellsen}). "
        f"The cap is approached ({f.supremum_approached}) but not attained with "
        f"xi + softplus(rho) (attained: {f.supremum_attained}).")
    return [Evidence("symbolic", summary, bounded, Condition.FLOORED)]


def bernoulli_cap(ctx: EvidenceContext) -> list[Evidence]:
    """The Bernoulli log-likelihood is <= 0."""
    d = ctx.derivation("bernoulli-cap")
    f: BernoulliCapFacts = d.facts
    bounded = bool(f.log_pmf_x1_negative and f.log_pmf_x0_negative)
    summary = (
        f"For x in {{0, 1}} and pi in (0, 1), log Bern(x; pi) < 0 for both values of x ({bounded}); "
        f"the supremum is {f.supremum}, not attained ({not f.supremum_attained}). The ELBO "
        f"<= log p(x) <= 0.")
    return [Evidence("symbolic", summary, bounded, Condition.BERNOULLI)]


def fixed_variance_beta(ctx: EvidenceContext) -> list[Evidence]:
    """A fixed variance s0^2 is a beta-VAE on squared error with beta = 2 s0^2."""
    d = ctx.derivation("fixed-variance-beta")
    f: FixedVarianceBetaFacts = d.facts
    r: FixedVarianceBetaResults = d.results
    holds = bool(f.constant_free_of_model and f.beta_equals_two_s0_squared)
    summary = (
        f"-ELBO with p(x|z) = N(mu, s0^2 I), multiplied by 2 s0^2, is {r.scaled}: squared error "
        f"R plus beta * KL with beta = {f.beta}, plus a constant free of the model "
        f"({f.constant_free_of_model}).")
    return [Evidence("symbolic", summary, holds, Condition.FIXED_VARIANCE)]


def squared_error_is_fixed_gaussian(ctx: EvidenceContext) -> list[Evidence]:
    """Squared error is a fixed-variance Gaussian; identity covariance needs the 1/2."""
    d = ctx.derivation("fixed-variance-beta")
    f: FixedVarianceBetaFacts = d.facts
    is_fixed_gaussian = bool(f.constant_free_of_model and f.concrete_D_matches)
    identity_plain = bool(f.identity_covariance_is_plain_squared_error)
    return [
        Evidence("symbolic",
                 "A mean-only decoder trained with squared error minimises -log N(x | mu, s0^2 I) "
                 "up to a positive factor and a constant free of the model "
                 f"({is_fixed_gaussian}): a Gaussian decoder whose covariance is fixed.",
                 is_fixed_gaussian, Condition.MEAN_ONLY_SQUARED_ERROR),
        Evidence("symbolic",
                 f"Plain squared error + KL is the ELBO with s0^2 = "
                 f"{f.s0_squared_for_plain_squared_error}; the identity covariance gives "
                 f"{f.squared_error_weight_identity_covariance} * squared error + KL (equivalently "
                 f"beta = {f.beta_identity_covariance} on plain squared error); a per-pixel mean "
                 f"squared error corresponds to s0^2 = {f.s0_squared_for_plain_mean_squared_error}.",
                 identity_plain, Condition.PLAIN_SQUARED_ERROR_AS_IDENTITY),
    ]


def ppca_degenerate(ctx: EvidenceContext) -> list[Evidence]:
    """Linear decoder, rank r <= k data: the supremum is +oo (pPCA with sigma^2 -> 0)."""
    d = ctx.derivation("ppca-degenerate")
    f: PpcaDegenerateFacts = d.facts
    r: PpcaDegenerateResults = d.results
    unbounded = bool(f.degenerate_sup_infinite)
    summary = (
        f"For data whose sample covariance has rank r <= k, the linear model can match the "
        f"data subspace and send sigma^2 -> 0: the log-likelihood (= the tight ELBO) behaves "
        f"like {r.degenerate_rate} and its supremum is infinite: {unbounded}.")
    return [Evidence("symbolic", summary, unbounded, Condition.LINEAR_SHARED)]


def ppca_attained(ctx: EvidenceContext) -> list[Evidence]:
    """Rank > k data: pPCA's maximum is finite and the linear VAE attains it (tight ELBO)."""
    d = ctx.derivation("ppca")
    f: PpcaFacts = d.facts
    checks = {"ml_solution_stationary": f.ml_solution_stationary,
              "lmax_matches_tipping_bishop": f.lmax_matches_tipping_bishop,
              "vae_attains_lmax": f.vae_attains_lmax,
              "elbo_tight_at_optimum": f.elbo_tight_at_optimum}
    ok = all(bool(v) for v in checks.values())
    summary = ("pPCA (Tipping & Bishop 1999) with sigma^2_ML = mean of the D - k smallest "
               "eigenvalues > 0 when rank > k: "
               + ", ".join(f"{k}: {v}" for k, v in checks.items()) + ".")
    return [Evidence("symbolic", summary, ok, Condition.LINEAR_SHARED)]


def linear_rank_threshold_predicts_bounded(rank: int, dim: int, k: int) -> bool:
    """The statement of ``remedy.shared-variance-linear``: bounded iff rank > min(k, D - 1)."""
    return rank > min(k, dim - 1)


def ppca_wide_bounded(ctx: EvidenceContext) -> list[Evidence]:
    """k >= D on full-rank data: rank D <= k, yet the supremum is the finite Gaussian maximum."""
    d = ctx.derivation("ppca-degenerate")
    f: PpcaDegenerateFacts = d.facts
    r: PpcaDegenerateResults = d.results
    agree = all(bool(f.wide_sup_finite) == linear_rank_threshold_predicts_bounded(D, D, k)
                for D, k, *_ in r.wide_cases)
    cases = "; ".join(f"D = {D}, k = {k}: L = {lw} for every sigma^2 < l_min" for D, k, lw, _ in r.wide_cases)
    summary = (f"Full-rank data with k >= D (rank D <= k): W W^T = S_hat - sigma^2 I makes C = S_hat, "
               f"so the log-likelihood (= the tight ELBO) plateaus at the Gaussian maximum "
               f"({f.wide_plateau_is_gaussian_ml}): {cases}; t - 1 - log t >= 0 makes it the "
               f"supremum over every C (finite: {f.wide_sup_finite}). Rank <= k alone does not "
               f"make the model unbounded: it needs rank < D too (bounded iff rank > min(k, D - 1)).")
    return [Evidence("symbolic", summary, agree, Condition.LINEAR_SHARED,
                     data={"wide_sup_finite": f.wide_sup_finite})]
