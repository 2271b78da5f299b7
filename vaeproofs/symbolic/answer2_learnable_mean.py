"""The answer-2 example with a learnable decoder mean a z ("answer2-learnable-mean").

Model: x = 0, prior N(0, 1), q = N(0, s^2), p(x|z) = N(a z, 1/tau), a real, s, tau > 0;
natural log, one data point (docs/theory.md section 3.6).  With a = 0 the decoder mean
reproduces x = 0 exactly for every z (the question's mechanism) and the ELBO is
log N(0 | 0, 1/tau) - KL(s), which tends to +oo as tau -> oo for ANY fixed s: the
comment's conclusion holds for this model, though not for the identity mean of
"answer2".  The KL at the optimum is 0 only at a = 0; along a^2 tau = kappa > 0 it is
the positive constant (1/2)[log(1 + kappa) - kappa/(1 + kappa)] while the ELBO still
diverges: the coding cost stays finite while the reconstruction term grows.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from vaeproofs.symbolic.answer2_setting import (
    A2_SOURCES,
    TAU,
    A,
    S,
    clean,
    identity_mean_pieces,
    pieces,
    positive_roots,
)
from vaeproofs.symbolic.derivation import Derivation, Record, StepLog, limit_str
from vaeproofs.symbolic.gaussian import normal_log_density

__all__ = ["LearnableMeanFacts", "LearnableMeanResults", "derive_answer2_learnable_mean"]

_KAPPA = sp.Symbol("kappa", positive=True)
_A0 = sp.Symbol("a0", real=True, nonzero=True)
_ABS = sp.Symbol("|a0|", positive=True)


@dataclass(frozen=True)
class LearnableMeanResults(Record):
    """Results of :func:`derive_answer2_learnable_mean` (sympy)."""

    elbo: sp.Expr                   #: ELBO(a, s, tau)
    s_star: sp.Expr                 #: argmax over s
    profiled: sp.Expr               #: max over s
    best_a: sp.Expr                 #: argmax over a of profiled, at fixed tau
    profiled_at_best_a: sp.Expr     #: its value (the a = 0 ridge)
    log_marginal: sp.Expr           #: log N(0 | 0, a^2 + 1/tau)
    fixed_a_sup_over_precision: sp.Expr  #: lim_{tau->oo} profiled at fixed a0 != 0
    along_bounded_a2_tau: sp.Expr   #: profiled along a^2 tau = kappa
    learnable_mean_sup: sp.Expr     #: lim_{tau->oo} of profiled_at_best_a
    learnable_mean_rate: sp.Expr    #: lim_{tau->oo} profiled_at_best_a / log tau
    kl_at_optimum_a_zero: sp.Expr   #: KL(s*) at a = 0
    kl_at_optimum_along_bounded_a2_tau: sp.Expr  #: KL(s*) along a^2 tau = kappa
    fixed_s_limit_a_zero: sp.Expr   #: lim_{tau->oo} ELBO(0, s, tau) at fixed s


@dataclass(frozen=True)
class LearnableMeanFacts(Record):
    """Facts of :func:`derive_answer2_learnable_mean`, computed from its results."""

    identity_case_recovered: bool   #: a = 1 gives the "answer2" ELBO
    elbo_tight_at_optimum: bool     #: profiled equals the exact log-evidence
    best_a_is_zero: bool
    fixed_a_sup_finite: bool        #: for each fixed a0 != 0 the sup over tau is finite
    fixed_a_sup_is_minus_log_abs_a0: bool  #: it is -log|a0| - log(2 pi)/2
    fixed_a_sup_diverges_as_a_to_0: bool
    bounded_a2_tau_diverges: bool   #: along a^2 tau = kappa the value -> +oo
    learnable_mean_sup_infinite: bool
    kl_at_optimum_zero_at_a_zero: bool
    #: along a^2 tau = kappa > 0 the KL at the optimum is > 0 and constant in tau
    kl_at_optimum_positive_along_bounded_a2_tau: bool
    fixed_s_limit_a_zero: str       #: "+oo", "-oo" or the value
    #: a = 0, any fixed s: ELBO -> +oo as tau -> oo (the comment's conclusion, this model)
    comment_objection_holds_with_learnable_mean: bool


def _step_profile(step: StepLog, elbo: sp.Expr) -> tuple[sp.Expr, sp.Expr, bool]:
    s_star = positive_roots(sp.diff(elbo, S), S)[0]
    step("Optimal encoder scale (positive root of ∂ELBO/∂s):", sp.Eq(sp.Symbol("s*"), s_star))
    profiled = sp.simplify(clean(elbo.subs(S, s_star)))
    step("Profiled objective:", sp.Eq(sp.Symbol("ELBO_opt"), profiled))
    log_marginal = clean(normal_log_density(0, 0, A**2 + 1 / TAU))
    tight = sp.simplify(clean(profiled - log_marginal))
    step("It equals the exact log-evidence log N(0 | 0, a² + 1/τ) (difference):",
         sp.Eq(sp.Symbol("ELBO_opt - log p(0)"), tight))
    return s_star, profiled, bool(tight == 0)


def _step_best_a(step: StepLog, profiled: sp.Expr) -> tuple[sp.Expr, sp.Expr]:
    roots = sp.solve(sp.diff(profiled, A), A)
    if len(roots) != 1:  # pragma: no cover - would mean the algebra changed
        raise ArithmeticError(f"expected one critical a, got {roots}")
    best_a = roots[0]
    second = sp.simplify(sp.diff(profiled, A, 2).subs(A, best_a))
    step("Over a, the only critical point is", sp.Eq(sp.Symbol("a*"), best_a))
    step("a maximum (second derivative):", sp.Eq(sp.Symbol("∂²/∂a² at a*"), second))
    at_best = sp.simplify(clean(profiled.subs(A, best_a)))
    step("Value with the mean map a = 0 (which reproduces x = 0 exactly):",
         sp.Eq(sp.Symbol("max_{s,a} ELBO"), at_best))
    return best_a, at_best


def _step_fixed_slope(step: StepLog, profiled: sp.Expr) -> tuple[sp.Expr, bool, bool]:
    fixed = sp.limit(profiled.subs(A, _A0), TAU, sp.oo)
    # profiled depends on a only through a^2 = |a0|^2: write the limit with log|a0|.
    shown = sp.expand_log(fixed.subs(_A0**2, _ABS**2), force=True).subs(_ABS, sp.Abs(_A0))
    is_log_abs = (sp.simplify(fixed - shown) == 0
                  and sp.simplify(shown + sp.log(sp.Abs(_A0)) + sp.log(2 * sp.pi) / 2) == 0)
    to0 = [sp.limit(shown, _A0, 0, dir=side) for side in ("+", "-")]
    step("At a fixed slope a0 ≠ 0, the supremum over τ is finite ...",
         sp.Eq(sp.Limit(sp.Symbol("ELBO_opt"), TAU, sp.oo), shown))
    step("... but it diverges as a0 → 0 (from either side):",
         sp.Eq(sp.Limit(sp.Symbol("sup_τ"), _A0, 0), to0[0]))
    return shown, bool(is_log_abs), all(v == sp.oo for v in to0)


def _step_bounded_a2_tau(step: StepLog, profiled: sp.Expr, kl: sp.Expr, s_star: sp.Expr
                         ) -> tuple[sp.Expr, sp.Expr, sp.Expr]:
    along = sp.simplify(clean(profiled.subs(A, sp.sqrt(_KAPPA / TAU))))
    limit = sp.limit(along, TAU, sp.oo)
    step("Along a² τ = κ (κ > 0 fixed) the objective is", sp.Eq(sp.Symbol("value"), along))
    step("and tends to", sp.Eq(sp.Limit(sp.Symbol("value"), TAU, sp.oo), limit))
    kl_along = sp.simplify(clean(kl.subs(S, s_star.subs(A, sp.sqrt(_KAPPA / TAU)))))
    step("while the KL at the optimal s along that path is a constant in τ, > 0 for κ > 0 "
         "(so 'KL = 0 at the optimum' holds only at a = 0):",
         sp.Eq(sp.Symbol("KL(s*) along a²τ = κ"), kl_along))
    return along, limit, kl_along


def _kl_positive_constant(kl_along: sp.Expr) -> bool:
    """> 0 for every kappa > 0 and free of tau: 0 at kappa = 0 with a positive derivative."""
    at0 = sp.limit(kl_along, _KAPPA, 0, dir="+")
    slope = sp.simplify(sp.diff(kl_along, _KAPPA))
    return bool(not kl_along.has(TAU) and at0 == 0 and slope.is_positive)


def derive_answer2_learnable_mean() -> Derivation[LearnableMeanFacts, LearnableMeanResults]:
    """The answer-2 example with a learnable decoder mean a z: the supremum is +infinity.

    Results and facts: :class:`LearnableMeanResults`, :class:`LearnableMeanFacts`.
    """
    step = StepLog()
    p = pieces(A)
    elbo, kl = p["elbo"], p["kl"]
    step("Same setting as answer2 but the decoder mean is a·z, a ∈ ℝ learnable:",
         sp.Eq(sp.Function("ELBO")(A, S, TAU), elbo))
    identity_diff = sp.simplify(elbo.subs(A, 1) - identity_mean_pieces()["elbo"])
    step("a = 1 recovers the identity-mean ELBO (difference):",
         sp.Eq(sp.Symbol("ELBO(1, s, τ) - ELBO_identity"), identity_diff))
    s_star, profiled, tight = _step_profile(step, elbo)
    best_a, at_best = _step_best_a(step, profiled)
    fixed_a, fixed_a_is_log_abs, fixed_a_to0 = _step_fixed_slope(step, profiled)
    along, along_limit, kl_along = _step_bounded_a2_tau(step, profiled, kl, s_star)
    sup = sp.limit(at_best, TAU, sp.oo)
    rate = sp.limit(at_best / sp.log(TAU), TAU, sp.oo)
    step("Supremum over (a, s, τ):", sp.Eq(sp.Symbol("sup ELBO"), sup))
    step("Rate: the objective grows like (rate)·log τ with", sp.Eq(sp.Symbol("rate"), rate))
    kl_a0 = sp.simplify(kl.subs(S, s_star.subs(A, best_a)))
    step("The KL at the optimum along a = 0 (it does not grow; the coding cost cannot stop "
         "the divergence):", sp.Eq(sp.Symbol("KL at optimum, a = 0"), kl_a0))
    elbo_a0 = elbo.subs(A, 0)
    fixed_s = sp.limit(elbo_a0, TAU, sp.oo)
    step("The comment's limit once the mean is learnable: a = 0, any fixed s > 0, τ → ∞:",
         sp.Eq(sp.Limit(sp.Function("ELBO")(0, S, TAU), TAU, sp.oo), fixed_s))
    results = LearnableMeanResults(
        elbo=elbo, s_star=s_star, profiled=profiled, best_a=best_a,
        profiled_at_best_a=at_best, log_marginal=clean(normal_log_density(0, 0, A**2 + 1 / TAU)),
        fixed_a_sup_over_precision=fixed_a, along_bounded_a2_tau=along,
        learnable_mean_sup=sup, learnable_mean_rate=rate, kl_at_optimum_a_zero=kl_a0,
        kl_at_optimum_along_bounded_a2_tau=kl_along, fixed_s_limit_a_zero=fixed_s,
    )
    facts = LearnableMeanFacts(
        identity_case_recovered=bool(identity_diff == 0),
        elbo_tight_at_optimum=tight,
        best_a_is_zero=bool(best_a == 0),
        fixed_a_sup_finite=bool(fixed_a.is_finite),
        fixed_a_sup_is_minus_log_abs_a0=fixed_a_is_log_abs,
        fixed_a_sup_diverges_as_a_to_0=fixed_a_to0,
        bounded_a2_tau_diverges=bool(along_limit == sp.oo),
        learnable_mean_sup_infinite=bool(sup == sp.oo),
        kl_at_optimum_zero_at_a_zero=bool(kl_a0 == 0),
        kl_at_optimum_positive_along_bounded_a2_tau=_kl_positive_constant(kl_along),
        fixed_s_limit_a_zero=limit_str(fixed_s),
        comment_objection_holds_with_learnable_mean=bool(fixed_s == sp.oo),
    )
    return Derivation(
        name="answer2-learnable-mean",
        title="The 1-D example with a learnable decoder mean a·z: the ELBO is unbounded",
        sources=A2_SOURCES, steps=tuple(step.steps), results=results, facts=facts)
