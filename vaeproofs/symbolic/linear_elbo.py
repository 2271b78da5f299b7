"""The linear-Gaussian VAE derivation ("linear-elbo"): closed-form ELBO, exact posterior,
and log p(x) - ELBO = KL(q || p(z | x)).

Proved with every parameter a symbol at the sizes
:data:`~vaeproofs.symbolic.linear.PROVED_SIZES` ((D, k) = (2, 1) and (3, 2), S a full
symmetric matrix), from the building blocks of :mod:`vaeproofs.symbolic.linear` (see
there for the model, the conventions and the references; docs/theory.md section 3).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

import sympy as sp

from vaeproofs.symbolic.derivation import Derivation, Record, StepLog
from vaeproofs.symbolic.gaussian import kl_diagonal_standard
from vaeproofs.symbolic.linear import (
    PROVED_SIZES,
    QR_REDUCED_SIZES,
    SOURCES,
    _inverse,
    _matrix_form_at,
    cancel_logs,
    gaussian_kl,
    linear_elbo,
    linear_elbo_matrix_form,
    linear_elbo_textbook,
    linear_gaussian_symbols,
    log_marginal,
    posterior_by_bayes,
    posterior_formula,
    qr_reduced,
)

__all__ = ["LinearElboFacts", "LinearElboResults", "LinearElboSizeResults",
           "derive_linear_elbo"]


@dataclass(frozen=True)
class LinearElboSizeResults(Record):
    """The residuals at one size (D, k); each is 0 when its identity holds."""

    D: int
    k: int
    elbo_minus_textbook: sp.Expr         #: ELBO from the 1-D pieces minus the textbook form
    elbo_minus_matrix_form: sp.Expr      #: minus the MatrixSymbol form at that size
    kl_minus_diagonal_kl: sp.Expr        #: moment KL minus gaussian.py's diagonal KL
    completing_square_residual: sp.Expr  #: f(z) minus its completed-square quadratic
    evidence_minus_marginal: sp.Expr     #: Bayes normaliser minus log N(x | b, WW^T + s^2 I)
    gap_minus_kl: sp.Expr                #: log p(x) - ELBO - KL(q || p(z | x))
    gap_at_posterior: sp.Expr            #: log p(x) - ELBO with q = the exact posterior
    #: admissible stationary points of KL(q || N(mu, P^{-1})) in (m, S)
    stationary_points: tuple[dict[sp.Symbol, sp.Expr], ...]


@dataclass(frozen=True)
class LinearElboResults(Record):
    """Results of :func:`derive_linear_elbo`."""

    matrix_form: sp.Expr                 #: the general ELBO with MatrixSymbols
    elbo_D2k1: sp.Expr                   #: the (2, 1) ELBO, all symbols
    log_marginal_D2k1: sp.Expr           #: its exact log p(x)
    sizes: tuple[LinearElboSizeResults, ...]

    def size(self, D: int, k: int) -> LinearElboSizeResults:
        """The residuals at size (D, k) (``KeyError`` if that size was not proved)."""
        for r in self.sizes:
            if (r.D, r.k) == (D, k):
                return r
        raise KeyError((D, k))


@dataclass(frozen=True)
class LinearElboFacts(Record):
    """Facts of :func:`derive_linear_elbo`, each over all proved sizes together."""

    elbo_matches_textbook: bool
    kl_matches_diagonal: bool
    marginal_matches_bayes: bool
    posterior_matches_formula: bool
    gap_equals_kl: bool
    gap_zero_at_posterior: bool
    gap_zero_only_at_posterior: bool  #: unique stationary point = posterior (convexity)
    proved_sizes: tuple[tuple[int, int], ...]


def _all_zero(exprs: Sequence[sp.Expr]) -> bool:
    return all(sp.cancel(sp.together(e)) == 0 for e in exprs)


@functools.lru_cache(maxsize=4)
def _prove_size(D: int, k: int) -> dict[str, sp.Basic | bool]:
    """Run every check at size (D, k) with all-symbol matrices; return the residuals."""
    sym = linear_gaussian_symbols(D, k)
    x, W, b, s2, m, S = sym.x, sym.W, sym.b, sym.sigma2, sym.m, sym.S
    out: dict[str, sp.Basic | bool] = {}
    elbo = linear_elbo(x, W, b, s2, m, S)
    out["elbo"] = elbo
    out["elbo_minus_textbook"] = cancel_logs(elbo - linear_elbo_textbook(x, W, b, s2, m, S))
    out["elbo_minus_matrix_form"] = cancel_logs(elbo - _matrix_form_at(sym))
    diag = linear_gaussian_symbols(D, k, diagonal_S=True)
    kl_diag = gaussian_kl(diag.m, diag.S, sp.zeros(k, 1), sp.eye(k))
    out["kl_minus_diagonal_kl"] = cancel_logs(
        kl_diag - kl_diagonal_standard(list(diag.m), [diag.S[j, j] for j in range(k)]))

    bayes = posterior_by_bayes(x, W, b, s2)
    mean_f, cov_f = posterior_formula(x, W, b, s2)
    out["completing_square_residual"] = bayes.quadratic_residual
    out["posterior_matches_formula"] = (
        _all_zero(list(bayes.mean - mean_f)) and _all_zero(list(bayes.cov - cov_f)))

    # From here on W may be replaced by its QR-reduced form (see module docstring).
    if (D, k) in QR_REDUCED_SIZES:
        W = qr_reduced(W)
        bayes = posterior_by_bayes(x, W, b, s2)
        elbo = linear_elbo(x, W, b, s2, m, S)
    log_px = log_marginal(x, W, b, s2)
    out["log_marginal"] = log_px
    out["evidence_minus_marginal"] = cancel_logs(bayes.log_evidence - log_px)

    kl_post = gaussian_kl(m, S, bayes.mean, precision=bayes.precision)
    out["gap_minus_kl"] = cancel_logs(log_px - elbo - kl_post)
    at_post = {**{m[j]: bayes.mean[j] for j in range(k)},
               **{S[i, j]: bayes.cov[i, j] for i in range(k) for j in range(i, k)}}
    out["gap_at_posterior"] = cancel_logs((log_px - elbo).xreplace(at_post))

    # Uniqueness: the gap KL(q || posterior) is convex in (m, S) (a positive definite
    # quadratic in m plus tr(A S)/2 - log det(S)/2, strictly convex on SPD S), so a
    # stationary point is the unique minimiser.  Solve the stationarity equations with
    # generic posterior parameters (mu, P = posterior precision) to find it.
    mu = sp.Matrix(k, 1, lambda j, _: sp.Symbol(f"mu_{j + 1}", real=True))
    P = sp.Matrix(k, k, lambda i, j: sp.Symbol(f"p_{min(i, j) + 1}{max(i, j) + 1}",
                                               positive=(i == j), real=True))
    gap = gaussian_kl(m, S, mu, precision=P)
    unknowns = [*list(m), *[S[i, j] for i in range(k) for j in range(i, k)]]
    grad = [sp.cancel(sp.together(sp.diff(gap, u))) for u in unknowns]
    numerators = [sp.fraction(g)[0] for g in grad]
    solutions = sp.solve(numerators, unknowns, dict=True)
    P_inv = _inverse(P).applyfunc(sp.cancel)
    want = {**{m[j]: mu[j] for j in range(k)},
            **{S[i, j]: P_inv[i, j] for i in range(k) for j in range(i, k)}}
    # Discard spurious roots of the numerators where S is singular (det S = 0).
    admissible = [sol for sol in solutions
                  if sp.cancel(S.det().xreplace(sol)) != 0]
    out["stationary_points"] = admissible
    out["unique_stationary_point_is_posterior"] = len(admissible) == 1 and all(
        sp.cancel(admissible[0][u] - want[u]) == 0 for u in unknowns)
    return out


def derive_linear_elbo() -> Derivation[LinearElboFacts, LinearElboResults]:
    """Closed-form linear-Gaussian ELBO, exact marginal and posterior, and the gap = KL.

    Proved with every parameter a symbol at the sizes in :data:`PROVED_SIZES`
    ((D, k) = (2, 1) and (3, 2), S a full symmetric matrix).

    Results and facts: :class:`LinearElboResults`, :class:`LinearElboFacts`.
    """
    step = StepLog()
    matrix_form, _ = linear_elbo_matrix_form()
    step("Model: p(z) = N(0, I_k), p(x|z) = N(Wz + b, σ² I_D), q(z|x) = N(m, S); "
         "natural log, σ² > 0 and S ≻ 0 are (co)variances, one data point.")
    step("Per coordinate, x_i sees u_i = (Wz)_i ~ N((Wm)_i, (W S Wᵀ)_ii) under q, so "
         "E_q[log p(x|z)] is a sum of the 1-D expected log-densities of gaussian.py; "
         "the KL follows from E[(z − c)(z − c)ᵀ] = S + (m − c)(m − c)ᵀ. "
         "Assembled for symbolic sizes D, k:",
         sp.Eq(sp.Symbol("ELBO"), matrix_form))
    facts: dict[str, bool] = {}
    sizes: list[LinearElboSizeResults] = []

    def conj(key: str, value: bool) -> None:
        facts[key] = facts.get(key, True) and bool(value)

    for D, k in PROVED_SIZES:
        res = _prove_size(D, k)
        sizes.append(LinearElboSizeResults(
            D=D, k=k, stationary_points=tuple(res["stationary_points"]),
            **{key: res[key] for key in (
                "elbo_minus_textbook", "elbo_minus_matrix_form", "kl_minus_diagonal_kl",
                "completing_square_residual", "evidence_minus_marginal", "gap_minus_kl",
                "gap_at_posterior")}))
        conj("elbo_matches_textbook", res["elbo_minus_textbook"] == 0
             and res["elbo_minus_matrix_form"] == 0)
        conj("kl_matches_diagonal", res["kl_minus_diagonal_kl"] == 0)
        conj("marginal_matches_bayes", res["completing_square_residual"] == 0
             and res["evidence_minus_marginal"] == 0)
        conj("posterior_matches_formula", bool(res["posterior_matches_formula"]))
        conj("gap_equals_kl", res["gap_minus_kl"] == 0)
        conj("gap_zero_at_posterior", res["gap_at_posterior"] == 0)
        conj("gap_zero_only_at_posterior", bool(res["unique_stationary_point_is_posterior"]))
        step(f"Size D = {D}, k = {k}, every entry of x, W, b, m, S and σ² a symbol. "
             "ELBO from the pieces minus the textbook form (docs/theory.md §3), and minus the "
             "matrix form above:",
             sp.Tuple(res["elbo_minus_textbook"], res["elbo_minus_matrix_form"]))
        step("Diagonal S: moment KL minus Σ_j KL(N(m_j, s_jj) ‖ N(0, 1)) from gaussian.py:",
             res["kl_minus_diagonal_kl"])
        step("Bayes: log p(x|z) + log p(z) = f(0) + hᵀz − zᵀAz/2 exactly (residual), "
             "so p(z|x) = N(A⁻¹h, A⁻¹); compared with N(M⁻¹Wᵀ(x − b), σ²M⁻¹), "
             "M = WᵀW + σ²I: " + ("identical" if res["posterior_matches_formula"]
                                  else "DIFFERENT"),
             res["completing_square_residual"])
        step("log p(x) from the completed square minus log N(x | b, WWᵀ + σ²I):",
             res["evidence_minus_marginal"])
        step("log p(x) − ELBO − KL(q ‖ p(z|x)), simplified:",
             sp.Eq(sp.Symbol("gap - KL"), res["gap_minus_kl"]))
        step("log p(x) − ELBO with m, S set to the exact posterior:",
             sp.Eq(sp.Symbol("gap at posterior"), res["gap_at_posterior"]))
        step("Stationary points of KL(q ‖ N(μ, P⁻¹)) in (m, S); the KL is convex in (m, S), "
             "so the single stationary point, q = posterior, is the only zero of the gap:",
             sp.Tuple(*[sp.Tuple(*[sp.Eq(u, v) for u, v in sol.items()])
                        for sol in res["stationary_points"]]))
    sym = linear_gaussian_symbols(2, 1)
    results = LinearElboResults(
        matrix_form=matrix_form, elbo_D2k1=_prove_size(2, 1)["elbo"],
        log_marginal_D2k1=log_marginal(sym.x, sym.W, sym.b, sym.sigma2), sizes=tuple(sizes))
    return Derivation(
        name="linear-elbo",
        title="Linear-Gaussian VAE: closed-form ELBO, exact posterior, and log p(x) − ELBO = KL",
        sources=tuple(SOURCES), steps=tuple(step.steps), results=results,
        facts=LinearElboFacts(**facts, proved_sizes=PROVED_SIZES))
