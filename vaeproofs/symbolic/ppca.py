"""Probabilistic PCA: the maximum-likelihood solution, its value, and degenerate data.

Model (Tipping & Bishop 1999, JRSS-B 61(3), section 3; docs/theory.md section 3): the
linear-Gaussian model x ~ N(b, C), C = W W^T + sigma^2 I, fitted to n points with
mean xbar and 1/n sample covariance with eigenvalues l_1 >= ... >= l_D.
Conventions: natural log; sigma^2 is a VARIANCE (> 0); log-likelihoods and ELBOs
here are TOTALS over the n points.

How the data enter.  Every per-point quantity of the model (log p(x), the ELBO
with q = the exact posterior) is a quadratic polynomial in r = x - b, plus r-free
terms.  Summed over the data with b = xbar, sum_i 1 = n, sum_i r_i = 0 and
sum_i r_i r_i^T = n Lambda, with Lambda the sample covariance.  The totals below are
computed by exactly this replacement applied to the per-point sympy expressions of
:mod:`vaeproofs.symbolic.linear`.  By rotation invariance (x - b -> U^T (x - b),
W -> U^T W, with U the sample covariance's eigenvectors) Lambda = diag(l_1..l_D)
and W_ML = [diag(sqrt(l_j - sigma^2_ML)), 0]^T (the rotation R = I) lose no
generality.

Derived:

- the profiled log-likelihood in the eigen-coordinates, its stationary sigma^2
  (the mean of the D - k smallest eigenvalues) and the maximised value L_max, for
  symbolic D, k, n (Tipping & Bishop 1999, section 3.2);
- at concrete sizes (D, k) in :data:`CONCRETE_SIZES`, every eigenvalue a symbol:
  the log-likelihood of W_ML, sigma^2_ML equals L_max; the gradient in every entry of
  W and in sigma^2 vanishes there; and the linear VAE with q = the exact posterior has
  total ELBO = L_max (tight), as Lucas, Tucker, Grosse & Norouzi (NeurIPS 2019,
  section 4) state;
- degenerate data (rank r <= k, so l_{r+1} = ... = l_D = 0), in the derivation
  "ppca-degenerate" (:mod:`vaeproofs.symbolic.ppca_degenerate`): along W = the top-r
  directions and sigma^2 -> 0 the total log-likelihood is
  -(n (D - r) / 2) log sigma^2 + O(1) -> +infinity (sympy ``limit``).

References:
    Tipping & Bishop, "Probabilistic principal component analysis", JRSS-B 61(3),
    611-622 (1999), section 3.2 (W_ML, sigma^2_ML, the maximised likelihood).
    Lucas, Tucker, Grosse & Norouzi, "Don't blame the ELBO! A linear VAE perspective
    on posterior collapse", NeurIPS 2019, section 4.
    Dai & Wipf, "Diagnosing and enhancing VAE models", ICLR 2019 (the (D - r) log gamma
    rate for data on an r-dimensional subspace).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import sympy as sp

from vaeproofs.symbolic.derivation import Derivation, Record, StepLog
from vaeproofs.symbolic.linear import (
    cancel_logs,
    linear_elbo,
    log_marginal,
    posterior_formula,
)
from vaeproofs.symbolic.sources import LUCAS, TIPPING_BISHOP, theory

__all__ = [
    "CONCRETE_SIZES",
    "PpcaFacts",
    "PpcaResults",
    "PpcaSizeResults",
    "derive_ppca",
    "lmax_formula",
    "ml_parameters",
    "profiled_loglik",
    "sum_over_data",
    "total_elbo_at_posterior",
    "total_loglik",
]

#: (D, k) at which the ML solution is substituted with every eigenvalue a symbol.
#: (4, 2) also holds but its gradient substitution takes ~50 s (measured), so it is not run.
CONCRETE_SIZES: tuple[tuple[int, int], ...] = ((2, 1), (3, 1), (3, 2))

#: (D, k, r) of the explicit degenerate checks (rank r <= k).
DEGENERATE_CASES: tuple[tuple[int, int, int], ...] = ((2, 1, 1), (3, 1, 1), (3, 2, 1),
                                                  (3, 2, 2))

CLOSED_FORMS_SOURCE = theory("section 3")

N = sp.Symbol("n", positive=True, integer=True)
SIGMA2 = sp.Symbol("sigma^2", positive=True)


def _eigenvalues(D: int) -> list[sp.Symbol]:
    return [sp.Symbol(f"l_{j + 1}", positive=True) for j in range(D)]


def sum_over_data(per_point: sp.Expr, r: sp.Matrix, Lambda: sp.Matrix, n: sp.Expr = N
              ) -> sp.Expr:
    """Sum a per-point expression, quadratic in r = x - xbar, over n data points.

    Uses sum_i 1 = n, sum_i r_i = 0, sum_i r_i r_i^T = n Lambda (the 1/n sample
    covariance).  Raises ``ValueError`` if the expression is not a polynomial of
    degree <= 2 in r.
    """
    rs = list(r)
    poly = sp.Poly(sp.expand(per_point), *rs)
    if poly.total_degree() > 2:
        raise ValueError("sum_over_data: expression has degree > 2 in r")
    total = sp.S.Zero
    for monom, coeff in poly.terms():
        idx = [i for i, e in enumerate(monom) for _ in range(e)]
        if len(idx) == 0:
          total += n * coeff
        elif len(idx) == 2:
          total += n * coeff * Lambda[idx[0], idx[1]]
        # degree 1: sum_i r_i = 0
    return total


def ml_parameters(eigenvalues: list[sp.Expr], k: int) -> tuple[sp.Matrix, sp.Expr]:
    """W_ML (eigenbasis, R = I) and sigma^2_ML (Tipping & Bishop 1999, section 3.2).

    sigma^2_ML = mean of the D - k smallest eigenvalues; W_ML has column j equal to
    sqrt(l_j - sigma^2_ML) e_j for j <= k.  ``eigenvalues`` in descending order.
    """
    D = len(eigenvalues)
    s2 = sp.Add(*eigenvalues[k:]) / (D - k)
    W = sp.zeros(D, k)
    for j in range(k):
        W[j, j] = sp.sqrt(eigenvalues[j] - s2)
    return W, s2


def total_loglik(W: sp.Matrix, sigma2: sp.Expr, Lambda: sp.Matrix, n: sp.Expr = N) -> sp.Expr:
    """sum_i log N(x_i | xbar, W W^T + sigma2 I) from the per-point log-density."""
    D = W.shape[0]
    r = sp.Matrix(D, 1, lambda i, _: sp.Dummy(f"r{i + 1}", real=True))
    return sum_over_data(log_marginal(r, W, sp.zeros(D, 1), sigma2), r, Lambda, n)


def total_elbo_at_posterior(W: sp.Matrix, sigma2: sp.Expr, Lambda: sp.Matrix,
                        n: sp.Expr = N) -> sp.Expr:
    """sum_i ELBO(x_i) of the linear VAE with q(z | x_i) = the exact posterior.

    The encoder mean M^{-1} W^T (x - b) is linear in x (an amortised linear encoder),
    the covariance sigma2 M^{-1} is shared; the per-point ELBO is
    :func:`vaeproofs.symbolic.linear.linear_elbo`.
    """
    D = W.shape[0]
    r = sp.Matrix(D, 1, lambda i, _: sp.Dummy(f"r{i + 1}", real=True))
    zero = sp.zeros(D, 1)
    mean, cov = posterior_formula(r, W, zero, sigma2)
    return sum_over_data(linear_elbo(r, W, zero, sigma2, mean, cov), r, Lambda, n)


def profiled_loglik(D: sp.Expr, k: sp.Expr, n: sp.Expr, sigma2: sp.Expr) -> sp.Expr:
    """Total log-likelihood with the top-k directions fitted (c_j = l_j), sigma^2 free.

    In the sample covariance's eigenbasis C has eigenvalues c_j, and the total
    log-likelihood is -n/2 sum_j (log 2 pi + log c_j + l_j / c_j); with c_j = l_j
    (j <= k, the stationary value of log c + l / c) and c_j = sigma^2 (j > k) it is
    -n/2 [D log 2 pi + S_k + k + (D - k) log sigma^2 + T / sigma^2], with the symbols
    S_k = sum_{j<=k} log l_j and T = sum_{j>k} l_j.
    """
    S_k, T = sp.symbols("S_k T", positive=True)
    return -n / 2 * (D * sp.log(2 * sp.pi) + S_k + k + (D - k) * sp.log(sigma2) + T / sigma2)


def lmax_formula(eigenvalues: list[sp.Expr], k: int, n: sp.Expr = N) -> sp.Expr:
    """L_max = -n/2 [D log 2 pi + sum_{j<=k} log l_j + (D - k) log sigma^2_ML + D].

    Tipping & Bishop 1999, section 3.2 (typed in: the reference the derived value is
    compared with).
    """
    D = len(eigenvalues)
    _, s2 = ml_parameters(eigenvalues, k)
    return -n / 2 * (D * sp.log(2 * sp.pi) + sp.Add(*[sp.log(lj) for lj in eigenvalues[:k]])
                 + (D - k) * sp.log(s2) + D)


def _gradient_at(W: sp.Matrix, sigma2: sp.Symbol, Lambda: sp.Matrix,
                 point: dict[sp.Symbol, sp.Expr]) -> list[sp.Expr]:
    """dL/dv at ``point`` for every entry v of W and for sigma2, L = :func:`total_loglik`.

    For each v the other variables are substituted first and L is built and differentiated
    in v alone: a partial derivative holds the others fixed, so this is the same value as
    differentiating the full L and substituting everything (tested), while the matrix
    algebra (the inverse and determinant of W W^T + sigma2 I) runs with one symbol instead
    of D k + 1 (the (3, 2) gradient about 4x faster).
    """
    out = []
    for v in [*list(W), sigma2]:
        others = {u: val for u, val in point.items() if u != v}
        L = total_loglik(W.xreplace(others), sigma2.xreplace(others), Lambda)
        out.append(sp.cancel(sp.diff(L, v).xreplace({v: point[v]})))
    return out


@functools.lru_cache(maxsize=8)
def _check_size(D: int, k: int) -> dict[str, object]:
    ls = _eigenvalues(D)
    Lambda = sp.diag(*ls)
    W_ml, s2_ml = ml_parameters(ls, k)
    L_ml = total_loglik(W_ml, s2_ml, Lambda)
    lmax = lmax_formula(ls, k)
    out: dict[str, object] = {"lmax_difference": cancel_logs(L_ml - lmax)}
    # Stationarity in every entry of W and in sigma^2, at (W_ML, sigma^2_ML).
    W = sp.Matrix(D, k, lambda i, j: sp.Symbol(f"w_{i + 1}{j + 1}", real=True))
    at_ml = {**{W[i, j]: W_ml[i, j] for i in range(D) for j in range(k)}, SIGMA2: s2_ml}
    out["gradient_at_ml"] = _gradient_at(W, SIGMA2, Lambda, at_ml)
    elbo_total = total_elbo_at_posterior(W_ml, s2_ml, Lambda)
    out["elbo_minus_lmax"] = cancel_logs(elbo_total - lmax)
    return out


@dataclass(frozen=True)
class PpcaSizeResults(Record):
    """Checks at one concrete size (D, k), every eigenvalue a symbol."""

    D: int
    k: int
    lmax_difference: sp.Expr               #: log-likelihood of W_ML, sigma^2_ML minus L_max
    gradient_at_ml: tuple[sp.Expr, ...]    #: all 0 when stationary
    elbo_minus_lmax: sp.Expr               #: total ELBO, q = posterior, at the ML solution


@dataclass(frozen=True)
class PpcaResults(Record):
    """Results of :func:`derive_ppca` (sympy; symbolic D, k, n, S_k, T)."""

    profiled: sp.Expr                          #: the profiled total log-likelihood
    sigma2_stationary: sp.Expr                 #: T / (D - k)
    second_derivative_at_stationary: sp.Expr   #: negative: a maximum
    lmax_general: sp.Expr                      #: the profiled value there
    lmax_general_difference: sp.Expr           #: minus Tipping & Bishop's L_max (0)
    sizes: tuple[PpcaSizeResults, ...]

    def size(self, D: int, k: int) -> PpcaSizeResults:
        """The checks at size (D, k) (``KeyError`` if it was not run)."""
        for r in self.sizes:
          if (r.D, r.k) == (D, k):
              return r
        raise KeyError((D, k))


@dataclass(frozen=True)
class PpcaFacts(Record):
    """Facts of :func:`derive_ppca` (all sizes and the general case together)."""

    ml_solution_stationary: bool
    lmax_matches_tipping_bishop: bool
    vae_attains_lmax: bool
    elbo_tight_at_optimum: bool
    concrete_sizes: tuple[tuple[int, int], ...]


def derive_ppca() -> Derivation[PpcaFacts, PpcaResults]:
    """pPCA maximum likelihood and the linear VAE that attains it with a tight ELBO.

    Results and facts: :class:`PpcaResults`, :class:`PpcaFacts`.
    """
    step = StepLog()
    D, k = sp.symbols("D k", positive=True, integer=True)
    step("Model x ~ N(b, C), C = WWᵀ + σ²I, on n points with mean x̄ and 1/n sample covariance "
         "of eigenvalues l₁ ≥ … ≥ l_D; b_ML = x̄. A per-point quadratic in r = x − x̄ sums "
         "to n·(constant) + n·tr(coefficient · Λ); rotating to the eigenbasis, Λ = diag(l).")
    L = profiled_loglik(D, k, N, SIGMA2)
    step("Fitting the top-k directions (c_j = l_j, the stationary point of log c + l/c) "
         "leaves the profiled total log-likelihood, S_k = Σ_{j≤k} log l_j, "
         "T = Σ_{j>k} l_j:", sp.Eq(sp.Symbol("L(σ²)"), L))
    dL = sp.diff(L, SIGMA2)
    sols = sp.solve(sp.Eq(dL, 0), SIGMA2)
    s2_star = sols[0] if len(sols) == 1 else None
    T = sp.Symbol("T", positive=True)
    S_k = sp.Symbol("S_k", positive=True)
    step("Stationarity dL/dσ² = 0 has the single solution (the mean of the D − k smallest "
         "eigenvalues):", sp.Eq(SIGMA2, s2_star if s2_star is not None else sp.nan))
    second = sp.simplify(sp.diff(L, SIGMA2, 2).subs(SIGMA2, s2_star))
    step("Second derivative there (negative for D > k: a maximum):",
         sp.Eq(sp.Symbol("L''(σ²_ML)"), second))
    lmax_general = sp.expand_log(sp.expand(L.subs(SIGMA2, s2_star)), force=True)
    s2_ml = sp.Symbol("sigma^2_ML", positive=True)
    tb = -N / 2 * (D * sp.log(2 * sp.pi) + S_k + (D - k) * sp.log(s2_ml) + D)
    general_diff = sp.simplify(sp.expand_log(
        sp.expand(lmax_general - tb.subs(s2_ml, T / (D - k))), force=True))
    step("Substituting gives L_max; minus Tipping & Bishop's "
         "−n/2 [D log 2π + Σ_{j≤k} log l_j + (D − k) log σ²_ML + D]:",
         sp.Eq(sp.Symbol("L_max - L_TB"), general_diff))
    second_negative = bool(sp.simplify(second.subs(D, k + sp.Symbol("c", positive=True)) < 0))
    facts = {"ml_solution_stationary": s2_star is not None and second_negative,
             "lmax_matches_tipping_bishop": general_diff == 0,
             "vae_attains_lmax": True, "elbo_tight_at_optimum": True}
    sizes: list[PpcaSizeResults] = []
    for Dc, kc in CONCRETE_SIZES:
        res = _check_size(Dc, kc)
        sizes.append(PpcaSizeResults(D=Dc, k=kc, lmax_difference=res["lmax_difference"],
                                     gradient_at_ml=tuple(res["gradient_at_ml"]),
                                     elbo_minus_lmax=res["elbo_minus_lmax"]))
        stationary = all(g == 0 for g in res["gradient_at_ml"])
        facts["ml_solution_stationary"] = facts["ml_solution_stationary"] and stationary
        facts["lmax_matches_tipping_bishop"] = (facts["lmax_matches_tipping_bishop"]
                                                and res["lmax_difference"] == 0)
        tight = res["elbo_minus_lmax"] == 0
        facts["vae_attains_lmax"] = facts["vae_attains_lmax"] and tight
        facts["elbo_tight_at_optimum"] = facts["elbo_tight_at_optimum"] and tight
        step(f"D = {Dc}, k = {kc}, eigenvalues l₁…l_{Dc} symbols, W_ML and σ²_ML substituted: "
             "log-likelihood minus L_max; gradient in every W entry and σ² "
             f"({'all zero' if stationary else 'NOT all zero'}); total ELBO with "
             "q = exact posterior (linear encoder) minus L_max:",
             sp.Tuple(res["lmax_difference"], sp.Tuple(*res["gradient_at_ml"]),
                      res["elbo_minus_lmax"]))
    step("So the linear VAE at the pPCA solution, with q the exact posterior, reaches "
         "L_max with ELBO = log-likelihood (Lucas et al. 2019).")
    results = PpcaResults(profiled=L, sigma2_stationary=s2_star,
                          second_derivative_at_stationary=second, lmax_general=lmax_general,
                          lmax_general_difference=general_diff, sizes=tuple(sizes))
    return Derivation(
        name="ppca",
        title="Probabilistic PCA: maximum likelihood, L_max, and the linear VAE that attains it",
        sources=(TIPPING_BISHOP, LUCAS, CLOSED_FORMS_SOURCE), steps=tuple(step.steps), results=results,
        facts=PpcaFacts(**{key: bool(v) for key, v in facts.items()},
                        concrete_sizes=CONCRETE_SIZES))
