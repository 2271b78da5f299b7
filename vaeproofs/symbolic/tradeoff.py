"""The discussion's second answer: the KL-versus-precision trade-off, re-derived.

The answer (public Q&A thread, /work/shared/seed/, "answer 2") argues that the KL term
keeps the Gaussian VAE well-posed, using a one-dimensional example:

- one data point x = 0, a 1-D latent z with prior N(0, 1);
- encoder q(z) = N(0, s^2), s > 0 a STANDARD DEVIATION (so s^2 is the variance);
- decoder p(x | z) = N(x | z, 1/tau): identity mean map, precision tau > 0 (the
  answer's lambda is "proportional to the precision"; we write lambda = c * tau).

It states the objective lambda s^2 - (log(1/s) + s^2/2 - 1/2) + c, rewrites it as
lambda' s^2 - log s + c' with lambda' = lambda - 1/2, and concludes
s* = (2 lambda')^(-1/2), valid for lambda > 1/2.  A comment objects that fixing s*
and letting lambda -> oo makes the objective unbounded.

This module rebuilds the example from its definitions with sympy (the Gaussian pieces
come from :mod:`vaeproofs.symbolic.gaussian`, derived there by integration) and
compares, line by line, with the answer and the comment.  Nothing here is typed in:
every fact is a sympy comparison, ``solve`` or ``limit``.

Conventions: natural logarithms; per data point (there is one); ``tau`` is a
precision (inverse variance) > 0; ``s`` is the encoder standard deviation > 0.

References:
    Kingma & Welling, arXiv 1312.6114 (2013), appendix B (Gaussian KL).
    THEORY.md section 2 (claims ``answer2.*``, ``comment.*``) and section 3.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np
import sympy as sp
from numpy.typing import ArrayLike, NDArray

from vaeproofs.errors import InvalidArgumentError
from vaeproofs.symbolic.derivation import Derivation
from vaeproofs.symbolic.gaussian import (
    expected_gaussian_log_density,
    kl_normal_standard,
    normal_log_density,
)
from vaeproofs.symbolic.sources import KINGMA_WELLING_KL, SEED_ANSWER2
from vaeproofs.validation import as_float_array, check_positive

__all__ = [
    "answer2_elbo",
    "answer2_elbo_grid",
    "derive_answer2",
    "derive_learnable_mean",
]

THEORY = "vaeproofs THEORY.md sections 2-3 (claims answer2.*, comment.*; closed forms)"

# Symbols.  s: encoder standard deviation; tau: decoder precision; c: the
# proportionality constant lambda = c * tau; lam: the answer's lambda (sign unknown a
# priori, hence only real); C: the answer's additive constant; a: decoder mean slope.
_S = sp.Symbol("s", positive=True)
_TAU = sp.Symbol("tau", positive=True)
_C = sp.Symbol("c", positive=True)
_C_REAL = sp.Symbol("c", real=True)
_LAM = sp.Symbol("lambda", real=True)
_CONST = sp.Symbol("C", real=True)
_A = sp.Symbol("a", real=True)
_KAPPA = sp.Symbol("kappa", positive=True)

_HALF = sp.Rational(1, 2)


def _clean(expr: sp.Expr) -> sp.Expr:
    """Expand logarithms (all symbols are positive where logs appear) and expand."""
    return sp.expand(sp.expand_log(sp.expand(expr), force=True))


def _limit_str(value: sp.Expr) -> str:
    """'+oo', '-oo' or sympy's string for a limit value."""
    if value == sp.oo:
        return "+oo"
    if value == -sp.oo:
        return "-oo"
    return str(value)


def _positive_roots(expr: sp.Expr, var: sp.Symbol) -> list[sp.Expr]:
    """Roots of ``expr`` in ``var`` that are not manifestly negative."""
    return [r for r in sp.solve(expr, var) if not r.could_extract_minus_sign()]


@lru_cache(maxsize=1)
def _identity_mean_pieces() -> dict[str, sp.Expr]:
    """Expected log-likelihood, KL and ELBO of the identity-mean example (cached)."""
    s, tau = _S, _TAU
    # E_{z~N(0, s^2)} log N(0 | 1*z + 0, 1/tau): x = 0, w = 1, b = 0, sigma2 = 1/tau,
    # encoder mean 0 and variance s^2 (gaussian.py, THEORY.md section 3, D = k = 1).
    elog = _clean(expected_gaussian_log_density(0, 1, 0, 1 / tau, 0, s**2))
    # KL(N(0, s^2) || N(0, 1)) (Kingma & Welling appendix B, via gaussian.py).
    kl = _clean(kl_normal_standard(0, s**2))
    return {"elog": elog, "kl": kl, "elbo": elog - kl}


@lru_cache(maxsize=1)
def _elbo_function() -> Any:
    return sp.lambdify((_S, _TAU), _identity_mean_pieces()["elbo"], modules="numpy")


def derive_answer2() -> Derivation:
    """Re-derive the answer's 1-D example and compare with the answer and the comment.

    Model: x = 0, prior N(0, 1), q = N(0, s^2), p(x|z) = N(z, 1/tau), s, tau > 0;
    ELBO(s, tau) = E_q log p(0|z) - KL(q || prior), natural log, one data point.

    results (sympy):
        ``expected_loglik``, ``kl``, ``elbo``: the derived pieces, in s and tau;
        ``critical_points``: positive roots in s of dELBO/ds;
        ``s_star``: the (unique) critical point;
        ``second_derivative_at_s_star``: d^2 ELBO/ds^2 at s_star;
        ``elbo_at_s_star``: the optimised value, a function of tau;
        ``log_marginal``: log N(0 | 0, 1 + 1/tau), the exact log-evidence;
        ``sup_over_precision_identity_mean``: lim_{tau->oo} of ``elbo_at_s_star``;
        ``fixed_s_large_precision_limit``: lim_{tau->oo} ELBO(s, tau) at fixed s;
        ``fixed_s_best_precision``, ``fixed_s_sup_over_precision``: argmax over tau at
        fixed s and the value there;
        ``answer_objective``: the answer's first line, lambda s^2 - (log(1/s) + s^2/2
        - 1/2) + C; ``answer_objective_rewritten``: its second line,
        lambda' s^2 - log s + C + 1/2; ``answer_rewrite_difference``: second - first;
        ``answer_s_star``: the answer's (2 lambda')^(-1/2), lambda' = lambda - 1/2;
        ``implied_proportionality_constant``: the c in lambda = c tau that makes the
        answer's lambda s^2 equal the derived s^2 term;
        ``answer_agreement_precisions``: the tau > 0 at which the derived s* equals
        the answer's formula with lambda = c tau (c > 0 a symbol), a list;
        ``answer_agreement_lambdas``: the same as values of lambda = c tau;
        ``answer_agreement_precisions_implied_c``: the set of tau > 0 where they agree
        when c is the implied constant (sympy solveset);
        ``answer_objective_critical_point``, ``answer_objective_critical_condition``:
        the positive critical point of the answer's first line and where it is real;
        ``answer_rewritten_second_derivative_at_answer_s_star``;
        ``answer_fixed_s_large_lambda_limit``: lim_{lambda->oo} of the answer's first
        line at fixed s.
    facts:
        ``kl_matches_answer`` (bool): the answer's KL term equals the derived KL;
        ``answer_loglik_sign_matches`` (bool): the derived s^2 coefficient of the
        expected log-likelihood is positive, as the answer's lambda > 1/2 needs;
        ``answer_constant_depends_on_precision`` (bool): the s-free part of the
        expected log-likelihood (the answer's "c") varies with tau;
        ``answer_rewrite_consistent`` (bool): the answer's second line equals its first;
        ``critical_point_matches_answer`` (bool): derived s* equals (2 lambda')^(-1/2)
        with lambda = c tau identically in tau (c > 0 a free symbol);
        ``critical_point_matches_answer_for_some_c`` (bool): some constant c makes them
        agree for every tau;
        ``critical_point_matches_answer_with_implied_c_anywhere`` (bool): with the
        implied c, some tau > 0 makes them equal;
        ``critical_point_matches_with_implied_c_flipped_sign`` (bool): derived s*
        equals (-2 lambda')^(-1/2) with lambda = (implied c) * tau;
        ``critical_point_exists_for_all_precisions`` (bool): s* is real and positive
        for every tau > 0;
        ``critical_point_is_maximum`` (bool): second derivative at s* negative for all
        tau > 0;
        ``answer_validity_condition_needed`` (bool): some tau > 0 has no critical point
        in the derived ELBO (i.e. a condition like lambda > 1/2 is needed);
        ``answer_objective_critical_condition`` (str): where the answer's first line
        has a positive critical point;
        ``answer_objective_critical_point_is_maximum`` (bool): that point is a local
        maximum of the first line (for lambda < 1/2);
        ``answer_stated_point_is_minimum_of_rewrite`` (bool): (2 lambda')^(-1/2) is a
        local minimum of the answer's second line (lambda > 1/2);
        ``elbo_tight_at_optimum`` (bool): ELBO at s* equals the exact log-evidence;
        ``optimised_elbo_increasing_in_precision`` (bool);
        ``sup_over_precision_finite_identity_mean`` (bool);
        ``sup_over_precision_attained`` (bool): some finite tau reaches the supremum;
        ``fixed_s_large_precision_limit`` (str "+oo"/"-oo"/value): correct ELBO;
        ``fixed_s_large_precision_limit_answer_objective`` (str): answer's first line;
        ``comment_objection_holds_for_answer_objective`` (bool);
        ``comment_objection_holds_for_derived_elbo`` (bool);
        ``expected_loglik_alone_unbounded`` (bool): without the KL term, the expected
        log-likelihood is unbounded along s = 1/tau, tau -> oo (so here the KL, via its
        -log s, is what bounds the objective).
    """
    s, tau, c, lam, C = _S, _TAU, _C, _LAM, _CONST
    d = Derivation(
        name="answer2-tradeoff",
        title="The second answer's 1-D KL-versus-precision example, re-derived",
        sources=[SEED_ANSWER2, KINGMA_WELLING_KL, THEORY],
    )
    pieces = _identity_mean_pieces()
    elog, kl, elbo = pieces["elog"], pieces["kl"], pieces["elbo"]
    ELBO = sp.Function("ELBO")(s, tau)

    d.step("Setting: one point x = 0, prior p(z) = N(0, 1), encoder q(z) = N(0, s²) "
           "(s > 0 a standard deviation), decoder p(x|z) = N(x | z, 1/τ) with identity "
           "mean and precision τ > 0.")
    d.step("Expected log-likelihood E_q[log N(0 | z, 1/τ)] (Gaussian integral, "
           "vaeproofs.symbolic.gaussian):", sp.Eq(sp.Symbol("E_q[log p(0|z)]"), elog))
    d.step("KL(N(0, s²) ‖ N(0, 1)) (Kingma & Welling 2013, appendix B):",
           sp.Eq(sp.Symbol("KL"), kl))
    d.step("ELBO = expected log-likelihood − KL:", sp.Eq(ELBO, elbo))

    # --- critical point in s -------------------------------------------------------
    delbo = sp.simplify(sp.diff(elbo, s))
    d.step("Derivative in s:", sp.Eq(sp.Derivative(ELBO, s), delbo))
    roots = _positive_roots(delbo, s)
    s_star = roots[0] if len(roots) == 1 else None
    if s_star is None:  # pragma: no cover - would mean the algebra changed
        raise ArithmeticError(f"expected one positive critical point, got {roots}")
    d.step("Positive root(s) of the derivative (sympy solve, s > 0):",
           sp.Eq(sp.Symbol("s*"), s_star))
    exists_set = sp.solve_univariate_inequality(s_star**2 > 0, tau, relational=False)
    exists_all = bool(s_star.is_positive) and exists_set.is_superset(sp.Interval.open(0, sp.oo))
    second = sp.simplify(sp.diff(elbo, s, 2).subs(s, s_star))
    d.step("Second derivative at s*: negative for every τ > 0, so s* is the maximum "
           "(the ELBO → −∞ as s → 0 and as s → ∞).",
           sp.Eq(sp.Subs(sp.Derivative(ELBO, (s, 2)), s, sp.Symbol("s*")), second))
    value = sp.simplify(_clean(elbo.subs(s, s_star)))
    d.step("Value at the optimum:", sp.Eq(sp.Symbol("ELBO_opt"), value))
    log_marginal = _clean(normal_log_density(0, 0, 1 + 1 / tau))
    tight_diff = sp.simplify(_clean(value - log_marginal))
    d.step("The exact evidence is x ~ N(0, 1 + 1/τ); the optimised ELBO equals it "
           "(q = N(0, 1/(1+τ)) is the exact posterior). Difference:",
           sp.Eq(sp.Symbol("ELBO_opt - log p(0)"), tight_diff))
    dvalue = sp.simplify(sp.diff(value, tau))
    sup_value = sp.limit(value, tau, sp.oo)
    d.step("The optimised ELBO increases with τ (derivative below), so its supremum over "
           "the precision is the limit τ → ∞ — finite, and not attained:",
           sp.Eq(sp.Derivative(sp.Symbol("ELBO_opt"), tau), dvalue))
    d.step("Supremum over the precision (sympy limit τ → ∞):",
           sp.Eq(sp.Symbol("sup_τ ELBO_opt"), sup_value))
    attained_set = sp.solveset(sp.logcombine(value - sup_value, force=True), tau,
                               sp.Interval.open(0, sp.oo))
    d.step("Precisions τ > 0 at which the supremum is reached (sympy solveset):",
           attained_set)
    fixed_s_limit = sp.limit(elbo, tau, sp.oo)
    d.step("At a fixed s, letting τ → ∞ (the comment's limit) in the derived ELBO:",
           sp.Eq(sp.Limit(ELBO, tau, sp.oo), fixed_s_limit))
    tau_roots = _positive_roots(sp.diff(elbo, tau), tau)
    best_tau = tau_roots[0]
    fixed_s_sup = sp.simplify(_clean(elbo.subs(tau, best_tau)))
    d.step("At fixed s the best precision is finite, and so is the value:",
           sp.Eq(sp.Symbol("argmax_τ ELBO"), best_tau))
    d.step("and the value there:", sp.Eq(sp.Symbol("ELBO_opt(s)"), fixed_s_sup))
    elog_alone_limit = sp.limit(elog.subs(s, 1 / tau), tau, sp.oo)
    d.step("Without the KL term the expected log-likelihood alone is unbounded, e.g. along "
           "s = 1/τ: the −log s inside −KL is what bounds this example.",
           sp.Eq(sp.Limit(elog.subs(s, 1 / tau), tau, sp.oo), elog_alone_limit))

    # --- the answer, as written -----------------------------------------------------
    answer_kl = sp.log(1 / s) + s**2 / 2 - _HALF
    kl_diff = sp.simplify(_clean(answer_kl - kl))
    d.step("The answer's KL term log(1/s) + s²/2 − 1/2 minus the derived KL:",
           sp.Eq(sp.Symbol("KL_answer - KL"), kl_diff))
    coeff = elog.coeff(s, 2)
    const_part = sp.expand(elog - coeff * s**2)
    const_varies = sp.simplify(sp.diff(const_part, tau)) != 0
    d.step("The derived expected log-likelihood is (coefficient)·s² + (s-free part); "
           "the s² coefficient is NEGATIVE, while the answer writes +λ s² with λ > 1/2:",
           sp.Eq(sp.Symbol("coefficient of s^2"), coeff))
    d.step("The s-free part (the answer's c) depends on τ, which matters for any limit in "
           "the precision:", sp.Eq(sp.Symbol("c(τ)"), const_part))
    implied = sp.solve(sp.Eq(_C_REAL * tau, coeff), _C_REAL)
    implied_c = implied[0]
    d.step("Matching λ s² = c τ s² with the derived term forces c:",
           sp.Eq(sp.Symbol("c_implied"), implied_c))
    answer_line1 = lam * s**2 - answer_kl + C
    answer_line2 = (lam - _HALF) * s**2 - sp.log(s) + C + _HALF
    rewrite_diff = sp.simplify(_clean(answer_line2 - answer_line1))
    d.step("The answer's objective (first line), with its constant C:",
           sp.Eq(sp.Symbol("L_answer"), answer_line1))
    d.step("Its rewrite λ' s² − log s + c' minus the first line: not zero, because "
           "−log(1/s) = +log s, not −log s.",
           sp.Eq(sp.Symbol("L_answer_rewritten - L_answer"), rewrite_diff))
    answer_s_star = (2 * (lam - _HALF)) ** (-_HALF)
    d.step("The answer's stated critical point, λ' = λ − 1/2:",
           sp.Eq(sp.Symbol("s*_answer"), answer_s_star))
    with_c = answer_s_star.subs(lam, c * tau)
    matches_identically = sp.simplify(s_star - with_c) == 0
    agree_taus = [t for t in sp.solve(sp.Eq(s_star**2, with_c**2), tau)]
    d.step("With λ = c τ (c > 0), derived s* and the answer's formula agree only at "
           "the precision(s) τ in (sympy solve of s*² = s*_answer²; real and positive only "
           "when c > 1/2):", sp.FiniteSet(*agree_taus))
    agree_lams = [sp.simplify(c * t) for t in agree_taus]
    d.step("equivalently at λ = c τ:", sp.FiniteSet(*agree_lams))
    implied_agree = sp.solveset(
        sp.together(s_star**2 - answer_s_star.subs(lam, implied_c * tau) ** 2), tau,
        sp.Interval.open(0, sp.oo))
    d.step("With the implied c (λ = c_implied τ) the answer's formula is never real, and "
           "the precisions τ > 0 where it equals the derived s* are", implied_agree)
    # Some constant c making them agree for every tau: all coefficients (in tau) of the
    # numerator of s*^2 - answer^2 must vanish.
    num = sp.numer(sp.together(s_star**2 - answer_s_star.subs(lam, _C_REAL * tau) ** 2))
    coeffs = sp.Poly(sp.expand(num), tau).coeffs()
    some_c = sp.solve(coeffs, _C_REAL, dict=True)
    d.step("A constant c making them agree for every τ must zero every coefficient (in τ) "
           "of the numerator of s*² − s*_answer²; the coefficients are", sp.Tuple(*coeffs))
    d.step("and sympy's solutions for c (empty: no such c):",
           sp.FiniteSet(*[sol[_C_REAL] for sol in some_c]))
    lam_prime_implied = (implied_c * tau - _HALF)
    flipped = sp.simplify(s_star - (-2 * lam_prime_implied) ** (-_HALF))
    d.step("With the implied λ = c_implied τ, λ' < 0 and the derived s* is "
           "(−2λ')^(−1/2): the answer's formula up to the sign of λ'. Difference:",
           sp.Eq(sp.Symbol("s* - (-2 λ')^(-1/2)"), flipped))
    line1_roots = _positive_roots(sp.diff(answer_line1, s), s)
    line1_root = line1_roots[0]
    line1_cond = sp.solve_univariate_inequality(line1_root**2 > 0, lam)
    line1_second = sp.simplify(sp.diff(answer_line1, s, 2).subs(s, line1_root))
    d.step("The answer's first line, differentiated honestly, has its positive critical "
           "point at", sp.Eq(sp.Symbol("s*_L_answer"), line1_root))
    d.step("which is real only when", line1_cond)
    line1_is_max = sp.ask(sp.Q.negative(line1_second), sp.Q.negative(lam - _HALF))
    d.step("and there the second derivative is (negative for λ < 1/2: a maximum)",
           sp.Eq(sp.Symbol("L''"), line1_second))
    line2_second = sp.simplify(sp.diff(answer_line2, s, 2).subs(s, answer_s_star))
    line2_is_min = sp.ask(sp.Q.positive(line2_second), sp.Q.positive(lam - _HALF))
    d.step("The answer's stated s* is a critical point of its (mis-)rewritten second line, "
           "where the second derivative is (positive for λ > 1/2: a minimum):",
           sp.Eq(sp.Symbol("L_rewritten''"), line2_second))
    answer_fixed_s = sp.limit(answer_line1, lam, sp.oo)
    d.step("The comment's limit in the answer's objective: fix s, λ → ∞:",
           sp.Eq(sp.Limit(sp.Symbol("L_answer"), lam, sp.oo), answer_fixed_s))
    d.step(f"Summary (computed above): derived s* = {sp.sstr(s_star)}, real for every "
           f"τ > 0: {exists_all}; equal to the answer's formula identically: "
           f"{matches_identically}; comment's fixed-s limit τ → ∞: derived "
           f"{_limit_str(fixed_s_limit)}, answer's objective {_limit_str(answer_fixed_s)}; "
           f"supremum over the precision (identity mean): {sp.sstr(sup_value)}. "
           "See answer2-learnable-mean for a learnable mean.")

    d.results.update(
        expected_loglik=elog, kl=kl, elbo=elbo, critical_points=roots, s_star=s_star,
        second_derivative_at_s_star=second, elbo_at_s_star=value, log_marginal=log_marginal,
        sup_over_precision_identity_mean=sup_value,
        fixed_s_large_precision_limit=fixed_s_limit,
        fixed_s_best_precision=best_tau, fixed_s_sup_over_precision=fixed_s_sup,
        answer_objective=answer_line1, answer_objective_rewritten=answer_line2,
        answer_rewrite_difference=rewrite_diff, answer_s_star=answer_s_star,
        implied_proportionality_constant=implied_c,
        answer_agreement_precisions=agree_taus, answer_agreement_lambdas=agree_lams,
        answer_agreement_precisions_implied_c=implied_agree,
        answer_objective_critical_point=line1_root,
        answer_objective_critical_condition=line1_cond,
        answer_rewritten_second_derivative_at_answer_s_star=line2_second,
        answer_fixed_s_large_lambda_limit=answer_fixed_s,
    )
    d.facts.update(
        kl_matches_answer=bool(kl_diff == 0),
        answer_loglik_sign_matches=bool(coeff.is_positive),
        answer_constant_depends_on_precision=bool(const_varies),
        answer_rewrite_consistent=bool(rewrite_diff == 0),
        critical_point_matches_answer=bool(matches_identically),
        critical_point_matches_answer_for_some_c=bool(some_c),
        critical_point_matches_answer_with_implied_c_anywhere=(
            implied_agree != sp.S.EmptySet),
        critical_point_matches_with_implied_c_flipped_sign=bool(flipped == 0),
        critical_point_exists_for_all_precisions=bool(exists_all),
        critical_point_is_maximum=bool(second.is_negative),
        answer_validity_condition_needed=not exists_all,
        answer_objective_critical_condition=str(line1_cond),
        answer_objective_critical_point_is_maximum=bool(line1_is_max),
        answer_stated_point_is_minimum_of_rewrite=bool(line2_is_min),
        elbo_tight_at_optimum=bool(tight_diff == 0),
        optimised_elbo_increasing_in_precision=bool(dvalue.is_positive),
        sup_over_precision_finite_identity_mean=bool(sup_value.is_finite),
        sup_over_precision_attained=attained_set != sp.S.EmptySet,
        fixed_s_large_precision_limit=_limit_str(fixed_s_limit),
        fixed_s_large_precision_limit_answer_objective=_limit_str(answer_fixed_s),
        comment_objection_holds_for_answer_objective=bool(answer_fixed_s == sp.oo),
        comment_objection_holds_for_derived_elbo=bool(fixed_s_limit == sp.oo),
        expected_loglik_alone_unbounded=bool(elog_alone_limit == sp.oo),
    )
    return d


def derive_learnable_mean() -> Derivation:
    """The same example with a learnable decoder mean a*z: the supremum is +infinity.

    Model: x = 0, prior N(0, 1), q = N(0, s^2), p(x|z) = N(a z, 1/tau), a real,
    s, tau > 0; natural log, one data point.  With a = 0 the mean reconstructs x = 0
    exactly for every z (the question's mechanism), the KL can be 0 (s = 1), and the
    ELBO is log N(0 | 0, 1/tau) = log(tau / 2 pi) / 2 -> +oo.

    results (sympy):
        ``elbo``: ELBO(a, s, tau); ``s_star``: argmax over s; ``profiled``: max over s;
        ``best_a``: argmax over a of ``profiled`` (at fixed tau);
        ``profiled_at_best_a``: its value; ``log_marginal``: log N(0 | 0, a^2 + 1/tau);
        ``fixed_a_sup_over_precision``: lim_{tau->oo} profiled at a fixed a != 0;
        ``along_bounded_a2_tau``: profiled along a^2 tau = kappa (kappa > 0 fixed);
        ``learnable_mean_sup``: lim_{tau->oo} of ``profiled_at_best_a``;
        ``learnable_mean_rate``: lim_{tau->oo} profiled_at_best_a / log(tau) (the
        coefficient of log tau);
        ``kl_at_best``: KL at the optimum along a = 0.
    facts:
        ``identity_case_recovered`` (bool): a = 1 gives the answer2-tradeoff ELBO;
        ``elbo_tight_at_optimum`` (bool): profiled equals the exact log-evidence;
        ``best_a_is_zero`` (bool);
        ``fixed_a_sup_finite`` (bool): for each fixed a != 0 the sup over tau is finite;
        ``fixed_a_sup_diverges_as_a_to_0`` (bool);
        ``bounded_a2_tau_diverges`` (bool): along a^2 tau = kappa the value -> +oo;
        ``learnable_mean_sup_infinite`` (bool);
        ``kl_vanishes_on_divergent_path`` (bool): the KL does not grow along a = 0.
    """
    a, s, tau, kappa = _A, _S, _TAU, _KAPPA
    d = Derivation(
        name="answer2-learnable-mean",
        title="The 1-D example with a learnable decoder mean a·z: the ELBO is unbounded",
        sources=[SEED_ANSWER2, KINGMA_WELLING_KL, THEORY],
    )
    ELBO = sp.Function("ELBO")(a, s, tau)
    elog = _clean(expected_gaussian_log_density(0, a, 0, 1 / tau, 0, s**2))
    kl = _clean(kl_normal_standard(0, s**2))
    elbo = elog - kl
    d.step("Same setting as answer2-tradeoff but the decoder mean is a·z, a ∈ ℝ learnable:",
           sp.Eq(ELBO, elbo))
    identity_diff = sp.simplify(elbo.subs(a, 1) - _identity_mean_pieces()["elbo"])
    d.step("a = 1 recovers the identity-mean ELBO (difference):",
           sp.Eq(sp.Symbol("ELBO(1, s, τ) - ELBO_identity"), identity_diff))
    roots = _positive_roots(sp.diff(elbo, s), s)
    s_star = roots[0]
    d.step("Optimal encoder scale (positive root of ∂ELBO/∂s):", sp.Eq(sp.Symbol("s*"), s_star))
    profiled = sp.simplify(_clean(elbo.subs(s, s_star)))
    d.step("Profiled objective:", sp.Eq(sp.Symbol("ELBO_opt"), profiled))
    log_marginal = _clean(normal_log_density(0, 0, a**2 + 1 / tau))
    tight_diff = sp.simplify(_clean(profiled - log_marginal))
    d.step("It equals the exact log-evidence log N(0 | 0, a² + 1/τ) (difference):",
           sp.Eq(sp.Symbol("ELBO_opt - log p(0)"), tight_diff))
    a_roots = sp.solve(sp.diff(profiled, a), a)
    best_a = a_roots[0] if len(a_roots) == 1 else None
    if best_a is None:  # pragma: no cover - would mean the algebra changed
        raise ArithmeticError(f"expected one critical a, got {a_roots}")
    a_second = sp.simplify(sp.diff(profiled, a, 2).subs(a, best_a))
    d.step("Over a, the only critical point is", sp.Eq(sp.Symbol("a*"), best_a))
    d.step("a maximum (second derivative):", sp.Eq(sp.Symbol("∂²/∂a² at a*"), a_second))
    at_best = sp.simplify(_clean(profiled.subs(a, best_a)))
    d.step("Value with the mean map a = 0 (which reproduces x = 0 exactly):",
           sp.Eq(sp.Symbol("max_{s,a} ELBO"), at_best))
    fixed_a = sp.simplify(sp.limit(profiled.subs(a, sp.Symbol("a0", positive=True)),
                                   tau, sp.oo))
    a0 = sp.Symbol("a0", positive=True)
    fixed_a_to0 = sp.limit(fixed_a, a0, 0, dir="+")
    d.step("At a fixed slope a0 ≠ 0, the supremum over τ is finite ...",
           sp.Eq(sp.Limit(sp.Symbol("ELBO_opt"), tau, sp.oo), fixed_a))
    d.step("... but it diverges as a0 → 0:", sp.Eq(sp.Limit(sp.Symbol("sup_τ"), a0, 0),
                                                  fixed_a_to0))
    along = sp.simplify(_clean(profiled.subs(a, sp.sqrt(kappa / tau))))
    along_limit = sp.limit(along, tau, sp.oo)
    d.step("Along a² τ = κ (κ > 0 fixed) the objective is", sp.Eq(sp.Symbol("value"), along))
    d.step("and tends to", sp.Eq(sp.Limit(sp.Symbol("value"), tau, sp.oo), along_limit))
    sup = sp.limit(at_best, tau, sp.oo)
    rate = sp.limit(at_best / sp.log(tau), tau, sp.oo)
    d.step("Supremum over (a, s, τ):", sp.Eq(sp.Symbol("sup ELBO"), sup))
    d.step("Rate: the objective grows like (rate)·log τ with",
           sp.Eq(sp.Symbol("rate"), rate))
    kl_at_best = sp.simplify(kl.subs(s, s_star.subs(a, best_a)))
    d.step("The KL along that path (it does not grow; the coding cost cannot stop it):",
           sp.Eq(sp.Symbol("KL at optimum"), kl_at_best))

    d.results.update(
        elbo=elbo, s_star=s_star, profiled=profiled, best_a=best_a,
        profiled_at_best_a=at_best, log_marginal=log_marginal,
        fixed_a_sup_over_precision=fixed_a, along_bounded_a2_tau=along,
        learnable_mean_sup=sup, learnable_mean_rate=rate, kl_at_best=kl_at_best,
    )
    d.facts.update(
        identity_case_recovered=bool(identity_diff == 0),
        elbo_tight_at_optimum=bool(tight_diff == 0),
        best_a_is_zero=bool(best_a == 0),
        fixed_a_sup_finite=bool(fixed_a.is_finite),
        fixed_a_sup_diverges_as_a_to_0=bool(fixed_a_to0 == sp.oo),
        bounded_a2_tau_diverges=bool(along_limit == sp.oo),
        learnable_mean_sup_infinite=bool(sup == sp.oo),
        kl_vanishes_on_divergent_path=bool(kl_at_best == 0),
    )
    return d


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
