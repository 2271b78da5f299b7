"""The Bernoulli log-likelihood is at most 0 ("bernoulli-cap").

For x in {0, 1} and pi in (0, 1), log Bern(x | pi) < 0, with supremum 0 approached as
pi -> x and never attained; a sum over D pixels and n points is < 0, and since the
model's p(x) is a probability of a discrete outcome, ELBO <= log p(x) <= 0 (Mattei &
Frellsen 2018, arXiv 1802.04826, section 2.1; docs/theory.md section 3.8).

Conventions: natural logarithms; pi is the success probability, t its logit.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from vaeproofs.symbolic.derivation import Derivation, Record, StepLog
from vaeproofs.symbolic.sources import MATTEI_FRELLSEN, theory

__all__ = ["BernoulliCapFacts", "BernoulliCapResults", "derive_bernoulli_cap"]


@dataclass(frozen=True)
class BernoulliCapResults(Record):
    """Results of :func:`derive_bernoulli_cap` (sympy)."""

    log_pmf: sp.Expr       #: x log pi + (1 - x) log(1 - pi)
    log_pmf_x1: sp.Expr    #: log pi in the logit t
    log_pmf_x0: sp.Expr    #: log(1 - pi) in the logit t
    sup_x1: sp.Expr        #: lim_{pi -> 1-} log pi
    sup_x0: sp.Expr        #: lim_{pi -> 0+} log(1 - pi)
    attain_x1: sp.Set      #: solutions of log pi = 0 in (0, 1)
    attain_logit: sp.Set   #: real t with sigmoid(t) = 1


@dataclass(frozen=True)
class BernoulliCapFacts(Record):
    """Facts of :func:`derive_bernoulli_cap`, computed from its results."""

    log_pmf_x1_negative: bool
    log_pmf_x0_negative: bool
    log_pmf_increasing_toward_x: bool  #: d/dpi log pi > 0 on (0, 1)
    supremum: sp.Expr                  #: the supremum over pi (0)
    supremum_attained: bool


def derive_bernoulli_cap() -> Derivation[BernoulliCapFacts, BernoulliCapResults]:
    """Derive log Bern(x | pi) <= 0 for x in {0, 1}, pi in (0, 1); sup 0 not attained.

    With pi = sigmoid(t), t real (every pi in (0, 1) is one), log pi = -log(1 + e^-t)
    and log(1 - pi) = -log(1 + e^t), both < 0.

    Results and facts: :class:`BernoulliCapResults`, :class:`BernoulliCapFacts`.
    """
    x = sp.Symbol("x", integer=True, nonnegative=True)
    p = sp.Symbol("pi", positive=True)
    t = sp.Symbol("t", real=True)
    step = StepLog()
    log_pmf = x * sp.log(p) + (1 - x) * sp.log(1 - p)
    step("One pixel x ∈ {0, 1} with success probability π ∈ (0, 1), natural log:",
         sp.Eq(sp.Symbol("log Bern(x | pi)"), log_pmf))
    sigmoid = 1 / (1 + sp.exp(-t))
    l1 = sp.expand_log(sp.log(sigmoid), force=True)
    l0 = sp.expand_log(sp.log(sp.simplify(1 - sigmoid)), force=True)
    step("Write π = sigmoid(t) = 1/(1 + e^(−t)), t ∈ ℝ (this covers all of (0, 1)). "
         "For x = 1:", sp.Eq(sp.Symbol("log pi"), l1))
    step("For x = 0:", sp.Eq(sp.Symbol("log(1 - pi)"), l0))
    step("Both are −log(1 + positive) < 0, so every pixel's, every point's and the "
         "data set's Bernoulli log-likelihood is < 0; for the model, p(x) is a "
         "probability of a discrete outcome, so ELBO ≤ log p(x) ≤ 0.")
    dlog = sp.diff(sp.log(p), p)
    sup1 = sp.limit(sp.log(p), p, 1, dir="-")
    sup0 = sp.limit(sp.log(1 - p), p, 0, dir="+")
    step("log π increases in π (derivative):", sp.Eq(sp.Derivative(sp.log(p), p), dlog))
    step("so its supremum over (0, 1) is the limit at π → 1⁻:",
         sp.Eq(sp.Limit(sp.log(p), p, 1, "-"), sup1))
    step("and symmetrically for x = 0 as π → 0⁺:",
         sp.Eq(sp.Limit(sp.log(1 - p), p, 0, "+"), sup0))
    attain = sp.solveset(sp.log(p), p, sp.Interval.open(0, 1))
    attain_t = sp.solveset(sigmoid - 1, t, sp.S.Reals)
    step("The supremum 0 is not attained: solutions of log π = 0 in (0, 1):", attain)
    step("and real t with sigmoid(t) = 1:", attain_t)
    results = BernoulliCapResults(log_pmf=log_pmf, log_pmf_x1=l1, log_pmf_x0=l0, sup_x1=sup1,
                                  sup_x0=sup0, attain_x1=attain, attain_logit=attain_t)
    facts = BernoulliCapFacts(
        log_pmf_x1_negative=bool(l1.is_negative),
        log_pmf_x0_negative=bool(l0.is_negative),
        log_pmf_increasing_toward_x=bool(dlog.is_positive),
        supremum=sup1 if sup1 == sup0 else sp.Max(sup1, sup0),
        supremum_attained=bool(attain != sp.S.EmptySet or attain_t != sp.S.EmptySet),
    )
    return Derivation(
        name="bernoulli-cap", title="The Bernoulli log-likelihood is at most 0",
        sources=(MATTEI_FRELLSEN, theory("section 3.8")), steps=tuple(step.steps),
        results=results, facts=facts)
