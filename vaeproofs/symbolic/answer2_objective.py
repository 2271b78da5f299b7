"""The second answer's objective as written, and with its two slips corrected.

Steps of the "answer2" derivation (:func:`vaeproofs.symbolic.answer2.derive_answer2`).
The answer writes lambda s^2 - (log(1/s) + s^2/2 - 1/2) + c, rewrites it as
lambda' s^2 - log s + c' with lambda' = lambda - 1/2 and states s* = (2 lambda')^(-1/2)
for lambda > 1/2.  :func:`answer_objective_steps` compares that, line by line, with the
derived ELBO; :func:`corrected_formula_steps` corrects exactly two slips:

1. the sign of the s^2 coefficient: the expected log-likelihood carries -lambda s^2
   (solving gives lambda = tau/2), not +lambda s^2;
2. -log(1/s) = +log s, not -log s.

Corrected, the objective is -lambda' s^2 + log s + c' with lambda' = lambda + 1/2, so
s* = (2 lambda')^(-1/2) = (2 lambda + 1)^(-1/2), real for every lambda > 0: no condition
lambda > 1/2 is needed (docs/theory.md section 3.6).  Natural logarithms.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from vaeproofs.symbolic.answer2_setting import HALF, LAM, TAU, S, clean, positive_roots
from vaeproofs.symbolic.derivation import Record, StepLog

__all__ = ["AnswerObjective", "CorrectedFormula", "answer_objective_steps",
           "corrected_formula_steps"]

_C = sp.Symbol("c", positive=True)       # lambda = c tau, c > 0
_C_REAL = sp.Symbol("c", real=True)      # lambda = c tau, sign not assumed
_CONST = sp.Symbol("C", real=True)       # the answer's additive constant
_LAM_PRIME = sp.Symbol("lambda'", positive=True)


@dataclass(frozen=True)
class AnswerObjective(Record):
    """The answer's objective as written, compared with the derived ELBO (sympy)."""

    kl_difference: sp.Expr          #: the answer's KL term minus the derived KL
    s2_coefficient: sp.Expr         #: coefficient of s^2 in the derived E_q log p
    constant_part: sp.Expr          #: the s-free part of E_q log p (the answer's c)
    constant_depends_on_precision: bool
    implied_proportionality_constant: sp.Expr  #: c with +c tau s^2 = the derived s^2 term
    objective: sp.Expr              #: first line, lambda s^2 - (log(1/s) + s^2/2 - 1/2) + C
    objective_rewritten: sp.Expr    #: second line, (lambda - 1/2) s^2 - log s + C + 1/2
    rewrite_difference: sp.Expr     #: second line minus first
    s_star: sp.Expr                 #: the stated (2 lambda')^(-1/2), lambda' = lambda - 1/2
    matches_identically: bool       #: derived s* = s_star with lambda = c tau, every tau
    agreement_precisions: tuple[sp.Expr, ...]  #: the tau where they agree (c a symbol)
    agreement_lambdas: tuple[sp.Expr, ...]     #: the same as lambda = c tau
    agreement_precisions_implied_c: sp.Set     #: tau > 0 where they agree, implied c
    matches_for_some_c: bool        #: some constant c makes them agree for every tau
    critical_point: sp.Expr         #: the first line's positive critical point
    critical_condition: sp.Basic    #: where that point is real
    critical_point_is_maximum: bool  #: a local maximum of the first line (lambda < 1/2)
    rewritten_second_derivative_at_s_star: sp.Expr
    stated_point_is_minimum_of_rewrite: bool  #: s_star minimises the second line
    fixed_s_limit: sp.Expr          #: lim_{lambda->oo} of the first line at fixed s


@dataclass(frozen=True)
class CorrectedFormula(Record):
    """The answer's objective with its two slips corrected (sympy)."""

    lam: sp.Expr                    #: lambda solving -lambda s^2 = the derived term: tau/2
    lambda_is_half_precision: bool
    objective: sp.Expr              #: -lambda s^2 - (log(1/s) + s^2/2 - 1/2) + c, in lambda
    objective_difference: sp.Expr   #: that objective at lambda = tau/2 minus the ELBO
    minus_log_inverse_is_plus_log: bool  #: -log(1/s) = +log s
    lambda_prime: sp.Expr           #: minus the s^2 coefficient of the objective
    lambda_prime_is_lambda_plus_half: bool
    answer_lambda_prime_matches: bool  #: the answer's lambda - 1/2 equals lambda_prime
    s_star_in_lambda: sp.Expr       #: (2 lambda')^(-1/2) at lambda' = lambda_prime
    s_star_difference: sp.Expr      #: derived s* minus s_star_in_lambda at lambda = tau/2
    real_for_every_positive_lambda: bool


def _agreement(step: StepLog, s_star: sp.Expr, stated: sp.Expr, implied_c: sp.Expr
               ) -> tuple[bool, list[sp.Expr], list[sp.Expr], sp.Set, bool]:
    """Where the derived s* and the stated formula agree, with lambda = c tau."""
    tau, c = TAU, _C
    with_c = stated.subs(LAM, c * tau)
    identical = sp.simplify(s_star - with_c) == 0
    taus = list(sp.solve(sp.Eq(s_star**2, with_c**2), tau))
    step("With λ = c τ (c > 0), derived s* and the answer's formula agree only at "
         "the precision(s) τ in (sympy solve of s*² = s*_answer²; real and positive only "
         "when c > 1/2):", sp.FiniteSet(*taus))
    lams = [sp.simplify(c * t) for t in taus]
    step("equivalently at λ = c τ:", sp.FiniteSet(*lams))
    implied_agree = sp.solveset(sp.together(s_star**2 - stated.subs(LAM, implied_c * tau) ** 2),
                                tau, sp.Interval.open(0, sp.oo))
    step("With the implied c (λ = c_implied τ) the answer's formula is never real, and "
         "the precisions τ > 0 where it equals the derived s* are", implied_agree)
    # A constant c making them agree for every tau zeroes every coefficient (in tau) of
    # the numerator of s*^2 - answer^2.
    num = sp.numer(sp.together(s_star**2 - stated.subs(LAM, _C_REAL * tau) ** 2))
    coeffs = sp.Poly(sp.expand(num), tau).coeffs()
    some_c = sp.solve(coeffs, _C_REAL, dict=True)
    step("A constant c making them agree for every τ must zero every coefficient (in τ) "
         "of the numerator of s*² − s*_answer²; the coefficients are", sp.Tuple(*coeffs))
    step("and sympy's solutions for c (empty: no such c):",
         sp.FiniteSet(*[sol[_C_REAL] for sol in some_c]))
    return bool(identical), taus, lams, implied_agree, bool(some_c)


def answer_objective_steps(step: StepLog, elog: sp.Expr, kl: sp.Expr, s_star: sp.Expr
                           ) -> AnswerObjective:
    """Compare the answer's objective, as written, with the derived pieces."""
    s, tau, lam = S, TAU, LAM
    answer_kl = sp.log(1 / s) + s**2 / 2 - HALF
    kl_diff = sp.simplify(clean(answer_kl - kl))
    step("The answer's KL term log(1/s) + s²/2 − 1/2 minus the derived KL:",
         sp.Eq(sp.Symbol("KL_answer - KL"), kl_diff))
    coeff = elog.coeff(s, 2)
    const_part = sp.expand(elog - coeff * s**2)
    step("The derived expected log-likelihood is (coefficient)·s² + (s-free part); "
         "the s² coefficient is NEGATIVE, while the answer writes +λ s² with λ > 1/2:",
         sp.Eq(sp.Symbol("coefficient of s^2"), coeff))
    step("The s-free part (the answer's c) depends on τ, which matters for any limit in "
         "the precision:", sp.Eq(sp.Symbol("c(τ)"), const_part))
    implied_c = sp.solve(sp.Eq(_C_REAL * tau, coeff), _C_REAL)[0]
    step("Matching +λ s² = c τ s² with the derived term forces c:",
         sp.Eq(sp.Symbol("c_implied"), implied_c))
    line1 = lam * s**2 - answer_kl + _CONST
    line2 = (lam - HALF) * s**2 - sp.log(s) + _CONST + HALF
    rewrite_diff = sp.simplify(clean(line2 - line1))
    step("The answer's objective (first line), with its constant C:",
         sp.Eq(sp.Symbol("L_answer"), line1))
    step("Its rewrite λ' s² − log s + c' minus the first line: not zero, because "
         "−log(1/s) = +log s, not −log s.",
         sp.Eq(sp.Symbol("L_answer_rewritten - L_answer"), rewrite_diff))
    stated = (2 * (lam - HALF)) ** (-HALF)
    step("The answer's stated critical point, λ' = λ − 1/2:",
         sp.Eq(sp.Symbol("s*_answer"), stated))
    identical, taus, lams, implied_agree, some_c = _agreement(step, s_star, stated, implied_c)
    root = positive_roots(sp.diff(line1, s), s)[0]
    cond = sp.solve_univariate_inequality(root**2 > 0, lam)
    line1_second = sp.simplify(sp.diff(line1, s, 2).subs(s, root))
    step("The answer's first line, differentiated honestly, has its positive critical "
         "point at", sp.Eq(sp.Symbol("s*_L_answer"), root))
    step("which is real only when", cond)
    step("and there the second derivative is (negative for λ < 1/2: a maximum)",
         sp.Eq(sp.Symbol("L''"), line1_second))
    line2_second = sp.simplify(sp.diff(line2, s, 2).subs(s, stated))
    step("The answer's stated s* is a critical point of its (mis-)rewritten second line, "
         "where the second derivative is (positive for λ > 1/2: a minimum):",
         sp.Eq(sp.Symbol("L_rewritten''"), line2_second))
    fixed_s = sp.limit(line1, lam, sp.oo)
    step("The comment's limit in the answer's objective: fix s, λ → ∞:",
         sp.Eq(sp.Limit(sp.Symbol("L_answer"), lam, sp.oo), fixed_s))
    return AnswerObjective(
        kl_difference=kl_diff, s2_coefficient=coeff, constant_part=const_part,
        constant_depends_on_precision=sp.simplify(sp.diff(const_part, tau)) != 0,
        implied_proportionality_constant=implied_c, objective=line1,
        objective_rewritten=line2, rewrite_difference=rewrite_diff, s_star=stated,
        matches_identically=identical, agreement_precisions=tuple(taus),
        agreement_lambdas=tuple(lams), agreement_precisions_implied_c=implied_agree,
        matches_for_some_c=some_c, critical_point=root, critical_condition=cond,
        critical_point_is_maximum=bool(sp.ask(sp.Q.negative(line1_second),
                                              sp.Q.negative(lam - HALF))),
        rewritten_second_derivative_at_s_star=line2_second,
        stated_point_is_minimum_of_rewrite=bool(sp.ask(sp.Q.positive(line2_second),
                                                       sp.Q.positive(lam - HALF))),
        fixed_s_limit=fixed_s,
    )


def corrected_formula_steps(step: StepLog, elog: sp.Expr, kl: sp.Expr, elbo: sp.Expr,
                            s_star: sp.Expr, answer: AnswerObjective) -> CorrectedFormula:
    """Correct the answer's two slips and check the result against the derived s*."""
    s, tau, lam = S, TAU, LAM
    coeff = answer.s2_coefficient
    lam_value = sp.solve(sp.Eq(-lam * s**2, coeff * s**2), lam)[0]
    step("Slip 1, the sign of the s² coefficient: the expected log-likelihood carries "
         "−λ s², and matching −λ s² with the derived term gives", sp.Eq(lam, lam_value))
    answer_kl = sp.log(1 / s) + s**2 / 2 - HALF
    objective = -lam * s**2 - answer_kl + answer.constant_part
    difference = sp.simplify(clean(objective.subs(lam, lam_value) - elbo))
    step("The answer's first line with −λ s² and its c = the s-free part, minus the derived "
         "ELBO at that λ:", sp.Eq(sp.Symbol("L_corrected - ELBO"), difference))
    minus_log_inverse = -sp.log(1 / s)
    step("Slip 2: in the rewrite, −log(1/s) is +log s (not −log s):",
         sp.Eq(minus_log_inverse, sp.expand_log(minus_log_inverse, force=True)))
    expanded = clean(objective)
    lambda_prime = sp.expand(-expanded.coeff(s, 2))
    rest = sp.expand(expanded + lambda_prime * s**2 - sp.log(s))
    step("So the objective is −λ' s² + log s + c' with λ' and c' (free of s):",
         sp.Tuple(sp.Eq(sp.Symbol("lambda'"), lambda_prime), sp.Eq(sp.Symbol("c'"), rest)))
    root = positive_roots(sp.diff(-_LAM_PRIME * s**2 + sp.log(s), s), s)[0]
    s_star_lam = sp.simplify(root.subs(_LAM_PRIME, lambda_prime))
    step("Its critical point (2λ')^(−1/2) at λ' = λ + 1/2:",
         sp.Eq(sp.Symbol("s*_corrected"), s_star_lam))
    s_diff = sp.simplify(s_star - s_star_lam.subs(lam, lam_value))
    step("Derived s* minus the corrected formula at λ = τ/2:",
         sp.Eq(sp.Symbol("s* - s*_corrected"), s_diff))
    positive_set = sp.solve_univariate_inequality(lambda_prime > 0, lam, relational=False)
    no_condition = bool(positive_set.is_superset(sp.Interval.open(0, sp.oo)))
    step("λ' > 0, so s*_corrected is real, for every λ in", positive_set)
    return CorrectedFormula(
        lam=lam_value, lambda_is_half_precision=bool(sp.simplify(lam_value - tau / 2) == 0),
        objective=objective, objective_difference=difference,
        minus_log_inverse_is_plus_log=bool(sp.expand_log(minus_log_inverse, force=True)
                                           == sp.log(s) and not rest.has(s)),
        lambda_prime=lambda_prime,
        lambda_prime_is_lambda_plus_half=bool(sp.simplify(lambda_prime - (lam + HALF)) == 0),
        answer_lambda_prime_matches=bool(sp.simplify(lambda_prime - (lam - HALF)) == 0),
        s_star_in_lambda=s_star_lam, s_star_difference=s_diff,
        real_for_every_positive_lambda=no_condition,
    )
