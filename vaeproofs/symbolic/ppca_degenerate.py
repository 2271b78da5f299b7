"""Degenerate data for the linear-Gaussian model ("ppca-degenerate").

For data whose 1/n sample covariance has rank r <= k (eigenvalues l_{r+1..D} = 0),
fitting the r non-zero directions (c_j = l_j, which needs sigma^2 < l_j) and letting
sigma^2 -> 0, the total log-likelihood is -(n (D - r)/2) log sigma^2 + O(1) -> +oo, a
slope of (D - r)/2 per point in log(1/sigma^2) (Tipping & Bishop 1999, section 3;
Dai & Wipf 2019 state the same rate for the ELBO; docs/theory.md section 3).  With q
the exact posterior the ELBO equals the log-likelihood and diverges too.

Conventions: natural log; sigma^2 a VARIANCE; totals over the n points.  The model's
building blocks are in :mod:`vaeproofs.symbolic.ppca`.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import sympy as sp

from vaeproofs.symbolic.derivation import Derivation, Record, StepLog
from vaeproofs.symbolic.linear import cancel_logs
from vaeproofs.symbolic.ppca import (
    CLOSED_FORMS_SOURCE,
    SIGMA2,
    N,
    _eigenvalues,
    total_elbo_at_posterior,
    total_loglik,
)
from vaeproofs.symbolic.sources import DAI_WIPF, LUCAS, TIPPING_BISHOP

__all__ = ["DEGENERATE_CASES", "FULL_RANK_WIDE_CASES", "DegenerateCaseResults", "PpcaDegenerateFacts",
           "PpcaDegenerateResults", "derive_ppca_degenerate"]

#: (D, k, r) of the explicit degenerate checks (rank r <= k).
DEGENERATE_CASES: tuple[tuple[int, int, int], ...] = ((2, 1, 1), (3, 1, 1), (3, 2, 1),
                                                      (3, 2, 2))
#: (D, k) with k >= D and full-rank data (rank D <= k, yet bounded: C can equal S_hat).
FULL_RANK_WIDE_CASES: tuple[tuple[int, int], ...] = ((2, 2), (2, 3))


@dataclass(frozen=True)
class DegenerateCaseResults(Record):
    """One explicit case (D, k, r), computed from the matrices W and C = WW^T + s^2 I."""

    D: int
    k: int
    r: int
    limit: sp.Expr              #: lim_{sigma^2 -> 0+} of the total log-likelihood
    remainder: sp.Expr          #: loglik + n (D - r)/2 log sigma^2 (free of sigma^2)
    elbo_limit: sp.Expr         #: the limit of the total ELBO with q = exact posterior
    elbo_minus_loglik: sp.Expr  #: 0: the ELBO is tight


@dataclass(frozen=True)
class PpcaDegenerateResults(Record):
    """Results of :func:`derive_ppca_degenerate` (sympy; symbolic D, r, n)."""

    loglik: sp.Expr             #: the total log-likelihood along the path
    degenerate_rate: sp.Expr    #: -(n (D - r)/2) log sigma^2, the divergent part
    remainder: sp.Expr          #: loglik - rate (free of sigma^2: the O(1) part)
    limit: sp.Expr              #: sympy.limit of loglik as sigma^2 -> 0+
    slope_per_point: sp.Expr    #: limit of loglik / (n log(1/sigma^2)): (D - r)/2
    cases: tuple[DegenerateCaseResults, ...]
    #: (D, k, L along sigma^2 -> 0 with W W^T = S_hat - sigma^2 I, its limit) for k >= D
    wide_cases: tuple[tuple[int, int, sp.Expr, sp.Expr], ...] = ()


@dataclass(frozen=True)
class PpcaDegenerateFacts(Record):
    """Facts of :func:`derive_ppca_degenerate`."""

    degenerate_sup_infinite: bool  #: the limit is +oo (general and every explicit case)
    rate_exact: bool               #: the remainder is free of sigma^2 in every case
    elbo_also_unbounded: bool      #: ELBO = log-likelihood with q = posterior, -> +oo
    #: k >= D, full-rank data: along W W^T = S_hat - sigma^2 I the log-likelihood is the
    #: Gaussian maximum -(n/2)(D log 2 pi + log det S_hat + D) for every small sigma^2 ...
    wide_plateau_is_gaussian_ml: bool = False
    #: ... and t - 1 - log t >= 0 (minimum 0 at t = 1) makes that maximum an upper bound over
    #: every C: the supremum is finite although rank = D <= k
    wide_sup_finite: bool = False


@functools.lru_cache(maxsize=8)
def _degenerate_case(D: int, k: int, r: int) -> dict[str, object]:
    ls = _eigenvalues(D)
    Lambda = sp.diag(*ls[:r], *([0] * (D - r)))
    W = sp.zeros(D, k)
    for j in range(r):
        W[j, j] = sp.sqrt(ls[j] - SIGMA2)
    L = total_loglik(W, SIGMA2, Lambda)
    elbo = total_elbo_at_posterior(W, SIGMA2, Lambda)
    rate = -N * sp.Rational(D - r, 2) * sp.log(SIGMA2)
    return {
        "loglik": L,
        "limit": sp.limit(L, SIGMA2, 0, "+"),
        "remainder": cancel_logs(L - rate),
        "elbo_limit": sp.limit(elbo, SIGMA2, 0, "+"),
        "elbo_minus_loglik": cancel_logs(elbo - L),
    }


@functools.lru_cache(maxsize=8)
def _wide_case(D: int, k: int) -> tuple[sp.Expr, sp.Expr, bool]:
    """k >= D, full-rank S_hat = diag(l): W = [diag(sqrt(l - sigma^2)), 0] gives C = S_hat."""
    ls = _eigenvalues(D)
    W = sp.zeros(D, k)
    for j in range(D):
        W[j, j] = sp.sqrt(ls[j] - SIGMA2)
    L = cancel_logs(total_loglik(W, SIGMA2, sp.diag(*ls)))
    gaussian_ml = -N / 2 * (D * sp.log(2 * sp.pi) + sum(sp.log(v) for v in ls) + D)
    return L, sp.limit(L, SIGMA2, 0, "+"), sp.simplify(sp.expand_log(L - gaussian_ml, force=True)) == 0


def derive_ppca_degenerate() -> Derivation[PpcaDegenerateFacts, PpcaDegenerateResults]:
    """Rank r <= k data: the pPCA likelihood (and the tight ELBO) has supremum +infinity.

    For r <= k the eigenvalues l_{r+1..D} are 0; fitting the r non-zero directions
    (c_j = l_j, which needs sigma^2 < l_j) and letting sigma^2 -> 0, the total
    log-likelihood is -(n (D - r)/2) log sigma^2 + O(1), i.e. a slope of (D - r)/2 per
    point in log(1/sigma^2) (Dai & Wipf 2019 state the same rate for the ELBO).

    Results and facts: :class:`PpcaDegenerateResults`, :class:`PpcaDegenerateFacts`.
    """
    step = StepLog()
    D, r = sp.symbols("D r", positive=True, integer=True)
    c = sp.Symbol("c", positive=True, integer=True)  # c = D - r >= 1
    S_r = sp.Symbol("S_r", real=True)  # sum_{j<=r} log l_j
    step("Rank r ≤ k: l_{r+1} = … = l_D = 0. Fit the r non-zero directions (c_j = l_j, "
         "possible while σ² < l_j) and leave the other D − r at c_j = σ²; each contributes "
         "log σ² + 0/σ² to −2/n · L.")
    L = -N / 2 * (D * sp.log(2 * sp.pi) + S_r + r + (D - r) * sp.log(SIGMA2))
    step("Total log-likelihood along this path (S_r = Σ_{j≤r} log l_j):",
         sp.Eq(sp.Symbol("L(σ²)"), L))
    Lc = L.subs(D, r + c)
    limit = sp.limit(Lc, SIGMA2, 0, "+")
    step("Limit as σ² → 0⁺ (sympy.limit, D − r ≥ 1):", sp.Eq(sp.Symbol("lim L"), limit))
    rate = -N * (D - r) / 2 * sp.log(SIGMA2)
    remainder = sp.simplify(sp.expand(L - rate))
    slope = sp.limit(Lc / (N * sp.log(1 / SIGMA2)), SIGMA2, 0, "+").subs(c, D - r)
    step("Divergent part and remainder (free of σ²):",
         sp.Tuple(sp.Eq(sp.Symbol("rate"), rate), sp.Eq(sp.Symbol("L - rate"), remainder)))
    step("Slope per point in log(1/σ²):", sp.Eq(sp.Symbol("slope"), slope))
    sup_inf = limit == sp.oo
    rate_exact = not remainder.has(SIGMA2)
    elbo_unbounded = True
    cases: list[DegenerateCaseResults] = []
    for Dc, kc, rc in DEGENERATE_CASES:
        res = _degenerate_case(Dc, kc, rc)
        cases.append(DegenerateCaseResults(
            D=Dc, k=kc, r=rc, **{key: res[key] for key in (
                "limit", "remainder", "elbo_limit", "elbo_minus_loglik")}))
        sup_inf = sup_inf and res["limit"] == sp.oo
        rate_exact = rate_exact and not res["remainder"].has(SIGMA2)
        elbo_unbounded = (elbo_unbounded and res["elbo_limit"] == sp.oo
                          and res["elbo_minus_loglik"] == 0)
        step(f"Explicit check D = {Dc}, k = {kc}, r = {rc} (C = WWᵀ + σ²I from matrices): "
             "limit of L, L + n(D − r)/2 · log σ², limit of the total ELBO with q = exact "
             "posterior, ELBO − L:",
             sp.Tuple(res["limit"], res["remainder"], res["elbo_limit"],
                      res["elbo_minus_loglik"]))
    step("k ≥ D is different: with full-rank data (rank D ≤ k) W Wᵀ can be Ŝ − σ²I for every "
         "σ² < l_min, so C = Ŝ and the log-likelihood is the Gaussian maximum "
         "−(n/2)(D log 2π + log det Ŝ + D) however small σ² is. It is an upper bound over "
         "every C: in the eigenvalues t of C^(-1/2) Ŝ C^(-1/2), −(2/n) L − that value = "
         "Σ (t − 1 − log t) ≥ 0.")
    t = sp.Symbol("t", positive=True)
    g = t - 1 - sp.log(t)
    crit = sp.solve(sp.diff(g, t), t)
    upper_bound = crit == [1] and g.subs(t, 1) == 0 and sp.diff(g, t, 2).subs(t, 1) > 0
    step("t − 1 − log t: critical points, value and curvature there:",
         sp.Tuple(sp.Tuple(*crit), g.subs(t, 1), sp.diff(g, t, 2).subs(t, 1)))
    wide: list[tuple[int, int, sp.Expr, sp.Expr]] = []
    plateau = True
    for Dc, kc in FULL_RANK_WIDE_CASES:
        Lw, lim_w, is_ml = _wide_case(Dc, kc)
        wide.append((Dc, kc, Lw, lim_w))
        plateau = plateau and is_ml and not Lw.has(SIGMA2)
        step(f"Explicit check D = {Dc}, k = {kc}, full rank: L along W Wᵀ = Ŝ − σ²I and its "
             "limit as σ² → 0⁺:", sp.Tuple(Lw, lim_w))
    wide_finite = plateau and upper_bound and all(not lim.has(sp.oo, -sp.oo, sp.zoo)
                                                  for *_, lim in wide)
    results = PpcaDegenerateResults(loglik=L, degenerate_rate=rate, remainder=remainder,
                                    limit=limit, slope_per_point=slope, cases=tuple(cases),
                                    wide_cases=tuple(wide))
    facts = PpcaDegenerateFacts(degenerate_sup_infinite=bool(sup_inf),
                                rate_exact=bool(rate_exact),
                                elbo_also_unbounded=bool(elbo_unbounded),
                                wide_plateau_is_gaussian_ml=bool(plateau),
                                wide_sup_finite=bool(wide_finite))
    return Derivation(
        name="ppca-degenerate",
        title="Degenerate data (rank r ≤ k): the linear-Gaussian likelihood is unbounded",
        sources=(TIPPING_BISHOP, DAI_WIPF, LUCAS, CLOSED_FORMS_SOURCE), steps=tuple(step.steps),
        results=results, facts=facts)
