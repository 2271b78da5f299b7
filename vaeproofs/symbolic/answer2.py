"""The discussion's second answer: its 1-D KL-versus-precision example, re-derived ("answer2").

The second answer of the public Cross Validated question (docs/theory.md sections 2 and
3.6) argues that the KL term keeps the Gaussian VAE well-posed, with an example:

- one data point x = 0, a 1-D latent z with prior N(0, 1);
- encoder q(z) = N(0, s^2), s > 0 a STANDARD DEVIATION (so s^2 is the variance);
- decoder p(x | z) = N(x | z, 1/tau): identity mean map, precision tau > 0 (the
  answer's lambda is "proportional to the precision").

It states the objective lambda s^2 - (log(1/s) + s^2/2 - 1/2) + c, rewrites it as
lambda' s^2 - log s + c' with lambda' = lambda - 1/2, and concludes
s* = (2 lambda')^(-1/2), valid for lambda > 1/2.  Two slips separate this from the
ELBO: the s^2 term has a minus sign (-lambda s^2, with lambda = tau/2), and
-log(1/s) = +log s, not -log s.  Corrected, the ELBO is -lambda' s^2 + log s + c' with
lambda' = lambda + 1/2, so s* = (2 lambda + 1)^(-1/2) for every lambda > 0 (no
condition lambda > 1/2).  :func:`derive_answer2` computes all of this; the learnable
mean is :mod:`vaeproofs.symbolic.answer2_learnable_mean`.

:func:`derive_answer2` runs as a sequence of small steps (the functions ``_step_*``),
each appending its explained lines to the derivation and returning what it computed.
Nothing is typed in: every fact is a sympy comparison, ``solve`` or ``limit``.

Conventions: natural logarithms; one data point; ``tau`` is a precision (inverse
variance) > 0; ``s`` is the encoder standard deviation > 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import sympy as sp
from numpy.typing import ArrayLike, NDArray

from vaeproofs.errors import InvalidArgumentError
from vaeproofs.symbolic.answer2_objective import (
    AnswerObjective,
    CorrectedFormula,
    answer_objective_steps,
    corrected_formula_steps,
)
from vaeproofs.symbolic.answer2_setting import (
    A2_SOURCES,
    TAU,
    S,
    clean,
    identity_mean_pieces,
    positive_roots,
)
from vaeproofs.symbolic.derivation import Derivation, Record, StepLog, limit_str
from vaeproofs.symbolic.gaussian import normal_log_density
from vaeproofs.validation import as_float_array, check_positive

__all__ = [
    "Answer2Facts",
    "Answer2Results",
    "answer2_elbo",
    "answer2_elbo_grid",
    "derive_answer2",
]


@dataclass(frozen=True)
class Answer2Results(Record):
    """Results of :func:`derive_answer2` (sympy, in s, tau and the answer's lambda)."""

    expected_loglik: sp.Expr
    kl: sp.Expr
    elbo: sp.Expr
    critical_points: tuple[sp.Expr, ...]   #: positive roots in s of dELBO/ds
    s_star: sp.Expr                        #: the unique critical point, in tau
    second_derivative_at_s_star: sp.Expr
    elbo_at_s_star: sp.Expr                #: the optimised value, in tau
    log_marginal: sp.Expr                  #: log N(0 | 0, 1 + 1/tau), the exact evidence
    sup_over_precision_identity_mean: sp.Expr  #: lim_{tau->oo} of elbo_at_s_star
    fixed_s_large_precision_limit: sp.Expr     #: lim_{tau->oo} ELBO(s, tau) at fixed s
    fixed_s_best_precision: sp.Expr            #: argmax over tau at fixed s
    fixed_s_sup_over_precision: sp.Expr        #: the value there
    answer: AnswerObjective                #: the answer's objective, as written
    corrected: CorrectedFormula            #: the answer with its two slips corrected


@dataclass(frozen=True)
class Answer2Facts(Record):
    """Facts of :func:`derive_answer2`, computed from its results."""

    # -- the derived ELBO ----------------------------------------------------------
    critical_point_exists_for_all_precisions: bool  #: s* real and > 0 for every tau > 0
    critical_point_is_maximum: bool                 #: second derivative < 0 for all tau
    #: some tau > 0 has no critical point (a condition like lambda > 1/2 would be needed)
    answer_validity_condition_needed: bool
    elbo_tight_at_optimum: bool                     #: ELBO(s*) = the exact log-evidence
    optimised_elbo_increasing_in_precision: bool
    sup_over_precision_finite_identity_mean: bool
    sup_over_precision_attained: bool               #: some finite tau reaches it
    fixed_s_large_precision_limit: str              #: "+oo", "-oo" or the value
    comment_objection_holds_for_derived_elbo: bool
    #: without the KL, E_q log p alone -> +oo along s = 1/tau (the KL's -log s bounds it)
    expected_loglik_alone_unbounded: bool
    # -- the answer as written -----------------------------------------------------
    kl_matches_answer: bool
    answer_loglik_sign_matches: bool      #: the derived s^2 coefficient is positive
    answer_constant_depends_on_precision: bool  #: the s-free part (the answer's c) varies
    answer_rewrite_consistent: bool       #: the answer's second line equals its first
    #: derived s* equals (2 lambda')^(-1/2), lambda' = lambda - 1/2, lambda = c tau, for
    #: every tau (c > 0 a free symbol)
    critical_point_matches_answer: bool
    critical_point_matches_answer_for_some_c: bool   #: some constant c makes them agree
    #: with the implied c (making +lambda s^2 equal the derived term), some tau agrees
    critical_point_matches_answer_with_implied_c_anywhere: bool
    answer_objective_critical_condition: str  #: where the first line has a critical point
    answer_objective_critical_point_is_maximum: bool  #: ... a maximum (lambda < 1/2)
    answer_stated_point_is_minimum_of_rewrite: bool   #: (2 lambda')^(-1/2): a minimum
    fixed_s_large_precision_limit_answer_objective: str
    comment_objection_holds_for_answer_objective: bool
    # -- the two slips corrected (docs/theory.md section 3.6) ----------------------
    corrected_lambda_is_half_precision: bool  #: -lambda s^2 = derived term gives tau/2
    sign_corrected_objective_equals_elbo: bool  #: first line with -lambda s^2 = the ELBO
    minus_log_inverse_is_plus_log: bool       #: -log(1/s) = +log s
    corrected_lambda_prime_is_lambda_plus_half: bool  #: ELBO = -lambda' s^2 + log s + c'
    answer_lambda_prime_matches_corrected: bool  #: lambda - 1/2 = lambda + 1/2 (False)
    #: derived s* = (2 lambda')^(-1/2) with lambda' = lambda + 1/2, lambda = tau/2
    critical_point_matches_corrected_formula: bool
    corrected_formula_needs_no_condition: bool   #: 2 lambda + 1 > 0 for every lambda > 0


@lru_cache(maxsize=1)
def _elbo_function() -> Any:
    return sp.lambdify((S, TAU), identity_mean_pieces()["elbo"], modules="numpy")


@dataclass(frozen=True)
class _Optimum:
    roots: list[sp.Expr]
    s_star: sp.Expr
    second: sp.Expr
    exists_all: bool


def _step_setting(step: StepLog) -> dict[str, sp.Expr]:
    pieces = identity_mean_pieces()
    step("Setting: one point x = 0, prior p(z) = N(0, 1), encoder q(z) = N(0, s²) "
         "(s > 0 a standard deviation), decoder p(x|z) = N(x | z, 1/τ) with identity "
         "mean and precision τ > 0.")
    step("Expected log-likelihood E_q[log N(0 | z, 1/τ)] (Gaussian integral, "
         "vaeproofs.symbolic.gaussian):", sp.Eq(sp.Symbol("E_q[log p(0|z)]"), pieces["elog"]))
    step("KL(N(0, s²) ‖ N(0, 1)) (Kingma & Welling 2013, appendix B):",
         sp.Eq(sp.Symbol("KL"), pieces["kl"]))
    step("ELBO = expected log-likelihood − KL:",
         sp.Eq(sp.Function("ELBO")(S, TAU), pieces["elbo"]))
    return pieces


def _step_critical_point(step: StepLog, elbo: sp.Expr) -> _Optimum:
    s, tau = S, TAU
    ELBO = sp.Function("ELBO")(s, tau)
    delbo = sp.simplify(sp.diff(elbo, s))
    step("Derivative in s:", sp.Eq(sp.Derivative(ELBO, s), delbo))
    roots = positive_roots(delbo, s)
    if len(roots) != 1:  # pragma: no cover - would mean the algebra changed
        raise ArithmeticError(f"expected one positive critical point, got {roots}")
    s_star = roots[0]
    step("Positive root(s) of the derivative (sympy solve, s > 0):",
         sp.Eq(sp.Symbol("s*"), s_star))
    exists_set = sp.solve_univariate_inequality(s_star**2 > 0, tau, relational=False)
    exists_all = bool(s_star.is_positive) and exists_set.is_superset(sp.Interval.open(0, sp.oo))
    second = sp.simplify(sp.diff(elbo, s, 2).subs(s, s_star))
    step("Second derivative at s*: negative for every τ > 0, so s* is the maximum "
         "(the ELBO → −∞ as s → 0 and as s → ∞).",
         sp.Eq(sp.Subs(sp.Derivative(ELBO, (s, 2)), s, sp.Symbol("s*")), second))
    return _Optimum(roots, s_star, second, exists_all)


def _step_optimised_value(step: StepLog, elbo: sp.Expr, s_star: sp.Expr) -> dict[str, Any]:
    tau = TAU
    value = sp.simplify(clean(elbo.subs(S, s_star)))
    step("Value at the optimum:", sp.Eq(sp.Symbol("ELBO_opt"), value))
    log_marginal = clean(normal_log_density(0, 0, 1 + 1 / tau))
    tight_diff = sp.simplify(clean(value - log_marginal))
    step("The exact evidence is x ~ N(0, 1 + 1/τ); the optimised ELBO equals it "
         "(q = N(0, 1/(1+τ)) is the exact posterior). Difference:",
         sp.Eq(sp.Symbol("ELBO_opt - log p(0)"), tight_diff))
    dvalue = sp.simplify(sp.diff(value, tau))
    sup_value = sp.limit(value, tau, sp.oo)
    step("The optimised ELBO increases with τ (derivative below), so its supremum over "
         "the precision is the limit τ → ∞ — finite, and not attained:",
         sp.Eq(sp.Derivative(sp.Symbol("ELBO_opt"), tau), dvalue))
    step("Supremum over the precision (sympy limit τ → ∞):",
         sp.Eq(sp.Symbol("sup_τ ELBO_opt"), sup_value))
    attained = sp.solveset(sp.logcombine(value - sup_value, force=True), tau,
                           sp.Interval.open(0, sp.oo))
    step("Precisions τ > 0 at which the supremum is reached (sympy solveset):", attained)
    return {"value": value, "log_marginal": log_marginal, "tight": tight_diff == 0,
            "increasing": bool(dvalue.is_positive), "sup": sup_value,
            "attained": attained != sp.S.EmptySet}


def _step_fixed_s(step: StepLog, elbo: sp.Expr, elog: sp.Expr) -> dict[str, sp.Expr]:
    s, tau = S, TAU
    ELBO = sp.Function("ELBO")(s, tau)
    limit = sp.limit(elbo, tau, sp.oo)
    step("At a fixed s, letting τ → ∞ (the comment's limit) in the derived ELBO:",
         sp.Eq(sp.Limit(ELBO, tau, sp.oo), limit))
    best_tau = positive_roots(sp.diff(elbo, tau), tau)[0]
    best_value = sp.simplify(clean(elbo.subs(tau, best_tau)))
    step("At fixed s the best precision is finite, and so is the value:",
         sp.Eq(sp.Symbol("argmax_τ ELBO"), best_tau))
    step("and the value there:", sp.Eq(sp.Symbol("ELBO_opt(s)"), best_value))
    elog_alone = sp.limit(elog.subs(s, 1 / tau), tau, sp.oo)
    step("Without the KL term the expected log-likelihood alone is unbounded, e.g. along "
         "s = 1/τ: the −log s inside −KL is what bounds this example.",
         sp.Eq(sp.Limit(elog.subs(s, 1 / tau), tau, sp.oo), elog_alone))
    return {"limit": limit, "best_tau": best_tau, "best_value": best_value,
            "elog_alone": elog_alone}


def derive_answer2() -> Derivation[Answer2Facts, Answer2Results]:
    """Re-derive the answer's 1-D example and compare with the answer and the comment.

    Model: x = 0, prior N(0, 1), q = N(0, s^2), p(x|z) = N(z, 1/tau), s, tau > 0;
    ELBO(s, tau) = E_q log p(0|z) - KL(q || prior), natural log, one data point.

    Results and facts: :class:`Answer2Results`, :class:`Answer2Facts`.
    """
    step = StepLog()
    pieces = _step_setting(step)
    elog, kl, elbo = pieces["elog"], pieces["kl"], pieces["elbo"]
    opt = _step_critical_point(step, elbo)
    val = _step_optimised_value(step, elbo, opt.s_star)
    fixed = _step_fixed_s(step, elbo, elog)
    answer = answer_objective_steps(step, elog, kl, opt.s_star)
    corrected = corrected_formula_steps(step, elog, kl, elbo, opt.s_star, answer)
    step(f"Summary (computed above): derived s* = {sp.sstr(opt.s_star)} = "
         f"{sp.sstr(corrected.s_star_in_lambda)} with λ = {sp.sstr(corrected.lam)}, real for "
         f"every τ > 0: {opt.exists_all}; the answer's formula agrees identically: "
         f"{answer.matches_identically}; comment's fixed-s limit τ → ∞: derived "
         f"{limit_str(fixed['limit'])}, answer's objective {limit_str(answer.fixed_s_limit)}; "
         f"supremum over the precision (identity mean): {sp.sstr(val['sup'])}. "
         "See answer2-learnable-mean for a learnable mean.")
    results = Answer2Results(
        expected_loglik=elog, kl=kl, elbo=elbo, critical_points=tuple(opt.roots),
        s_star=opt.s_star, second_derivative_at_s_star=opt.second,
        elbo_at_s_star=val["value"], log_marginal=val["log_marginal"],
        sup_over_precision_identity_mean=val["sup"],
        fixed_s_large_precision_limit=fixed["limit"],
        fixed_s_best_precision=fixed["best_tau"], fixed_s_sup_over_precision=fixed["best_value"],
        answer=answer, corrected=corrected,
    )
    facts = Answer2Facts(
        critical_point_exists_for_all_precisions=opt.exists_all,
        critical_point_is_maximum=bool(opt.second.is_negative),
        answer_validity_condition_needed=not opt.exists_all,
        elbo_tight_at_optimum=bool(val["tight"]),
        optimised_elbo_increasing_in_precision=val["increasing"],
        sup_over_precision_finite_identity_mean=bool(val["sup"].is_finite),
        sup_over_precision_attained=bool(val["attained"]),
        fixed_s_large_precision_limit=limit_str(fixed["limit"]),
        comment_objection_holds_for_derived_elbo=bool(fixed["limit"] == sp.oo),
        expected_loglik_alone_unbounded=bool(fixed["elog_alone"] == sp.oo),
        kl_matches_answer=bool(answer.kl_difference == 0),
        answer_loglik_sign_matches=bool(answer.s2_coefficient.is_positive),
        answer_constant_depends_on_precision=answer.constant_depends_on_precision,
        answer_rewrite_consistent=bool(answer.rewrite_difference == 0),
        critical_point_matches_answer=answer.matches_identically,
        critical_point_matches_answer_for_some_c=answer.matches_for_some_c,
        critical_point_matches_answer_with_implied_c_anywhere=(
            answer.agreement_precisions_implied_c != sp.S.EmptySet),
        answer_objective_critical_condition=str(answer.critical_condition),
        answer_objective_critical_point_is_maximum=answer.critical_point_is_maximum,
        answer_stated_point_is_minimum_of_rewrite=answer.stated_point_is_minimum_of_rewrite,
        fixed_s_large_precision_limit_answer_objective=limit_str(answer.fixed_s_limit),
        comment_objection_holds_for_answer_objective=bool(answer.fixed_s_limit == sp.oo),
        corrected_lambda_is_half_precision=corrected.lambda_is_half_precision,
        sign_corrected_objective_equals_elbo=bool(corrected.objective_difference == 0),
        minus_log_inverse_is_plus_log=corrected.minus_log_inverse_is_plus_log,
        corrected_lambda_prime_is_lambda_plus_half=corrected.lambda_prime_is_lambda_plus_half,
        answer_lambda_prime_matches_corrected=corrected.answer_lambda_prime_matches,
        critical_point_matches_corrected_formula=bool(corrected.s_star_difference == 0),
        corrected_formula_needs_no_condition=corrected.real_for_every_positive_lambda,
    )
    return Derivation(
        name="answer2",
        title="The second answer's 1-D KL-versus-precision example, re-derived",
        sources=A2_SOURCES, steps=tuple(step.steps), results=results, facts=facts)


def answer2_elbo(s: float, tau: float) -> float:
    """ELBO(s, tau) of the answer's identity-mean example, float64.

    x = 0, prior N(0, 1), q = N(0, s^2) with ``s`` > 0 the encoder STANDARD DEVIATION,
    decoder N(z, 1/tau) with ``tau`` > 0 the precision; natural log, one data point.
    The expression is the one :func:`derive_answer2` derives, lambdified.

    Raises:
        InvalidArgumentError: ``s`` or ``tau`` not finite and > 0.
    """
    s_ = check_positive("s", s)
    tau_ = check_positive("tau", tau)
    return float(_elbo_function()(s_, tau_))


def answer2_elbo_grid(s_values: ArrayLike, tau_values: ArrayLike) -> NDArray[np.float64]:
    """The derived ELBO on a grid: ``out[i, j] = ELBO(s_values[i], tau_values[j])``.

    A landscape over the encoder standard deviation s and the decoder precision tau
    (float64), for figures.  Both inputs are 1-D arrays of finite values > 0.

    Raises:
        InvalidArgumentError: an input is not 1-D, not finite, or has a value <= 0.
    """
    s_arr = as_float_array("s_values", s_values, ndim=1)
    tau_arr = as_float_array("tau_values", tau_values, ndim=1)
    for name, arr in (("s_values", s_arr), ("tau_values", tau_arr)):
        if arr.size and np.min(arr) <= 0:
            raise InvalidArgumentError(name, f"must be > 0, got minimum {np.min(arr)}")
    s_grid, tau_grid = np.meshgrid(s_arr, tau_arr, indexing="ij")
    out = np.asarray(_elbo_function()(s_grid, tau_grid), dtype=np.float64)
    return np.broadcast_to(out, s_grid.shape).copy()
