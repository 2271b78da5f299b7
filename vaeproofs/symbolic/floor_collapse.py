"""What a variance floor costs: in the linear VAE it causes posterior collapse ("floor-collapse").

Model (docs/theory.md section 3; Tipping & Bishop 1999; Lucas, Tucker, Grosse & Norouzi 2019):
prior N(0, I_k), decoder N(W z + b, sigma^2 I_D) with ONE shared variance constrained to
sigma^2 >= xi >= 0, encoder N(m(x), S) with a linear mean, on n points whose 1/n sample
covariance has eigenvalues l_1 >= ... >= l_D (eigenvectors u_j).  The linear VAE with the
exact posterior has ELBO = log-likelihood (derivation "ppca"), so its maximiser is the
constrained pPCA maximiser.

Derived:

- at a fixed sigma^2, Tipping & Bishop's stationary points (their section 3.2 and appendix A)
  put column j of W along u_j with squared length a_j; the direction contributes
  phi(a_j) = log(sigma^2 + a_j) + l_j/(sigma^2 + a_j) to -(2/n) L, which is smallest at
  a_j = max(0, l_j - sigma^2): direction j is *active* iff l_j > sigma^2;
- in the precision t = 1/sigma^2 every direction's profiled term is convex (and C^1 where
  it switches), so the profiled log-likelihood is concave in t; its unconstrained maximiser
  is Tipping & Bishop's sigma^2_ML (the mean of the D - k smallest eigenvalues), hence with
  the floor the maximiser is sigma^2 = max(xi, sigma^2_ML) (KKT, checked on examples);
- with q the exact posterior, an active direction has encoder variance sigma^2/l_j and
  average KL exactly (1/2) log(l_j/sigma^2); an inactive one has encoder variance 1, mean 0
  and KL 0: a floor above l_j forces the posterior collapse of direction j;
- without a floor, on rank-r data (l_{r+1..D} = 0) with r < k, sigma^2_ML = 0 (no
  maximiser, derivation "ppca-degenerate"); along sigma^2 -> 0 exactly k - r directions
  stay collapsed while the r active encoder variances sigma^2/l_j -> 0 and the KL grows
  like (r/2) log(1/sigma^2): the (r/2) that turns the reconstruction's D/2 into the
  likelihood's (D - r)/2 (Dai & Wipf 2019).

Conventions: natural log; sigma^2, xi, l_j are VARIANCES; L is a total over the n points,
KL an average per point.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from vaeproofs.symbolic.derivation import Derivation, DerivationBuilder, equation
from vaeproofs.symbolic.facts import FactRecord
from vaeproofs.symbolic.linear import cancel_logs, gaussian_kl, posterior_formula
from vaeproofs.symbolic.ppca import sum_over_data, total_loglik
from vaeproofs.symbolic.sources import DAI_WIPF, LUCAS, TIPPING_BISHOP, theory

__all__ = ["EXAMPLE_EIGENVALUES", "EXAMPLE_FLOORS", "FloorCollapseFacts", "derive_floor_collapse",
           "floored_optimum"]

#: The worked example: sample eigenvalues, latent dimension k = 2, and three floors.
EXAMPLE_EIGENVALUES = (sp.Integer(4), sp.Integer(2), sp.Rational(1, 2), sp.Rational(1, 10))
EXAMPLE_FLOORS = (sp.Rational(1, 10**6), sp.Integer(3), sp.Integer(5))
#: Rank-deficient example without a floor: D = 4, k = 3, rank r = 2.
RANK_EXAMPLE = ((sp.Integer(4), sp.Integer(1), sp.Integer(0), sp.Integer(0)), 3)


def floored_optimum(eigenvalues: tuple[sp.Expr, ...], k: int, xi: sp.Expr
                    ) -> tuple[sp.Expr, tuple[sp.Expr, ...]]:
    """``(sigma^2, singular values of W)`` at the maximiser with sigma^2 >= xi (exact).

    sigma^2 = max(xi, mean of the D - k smallest eigenvalues); singular value j <= k is
    sqrt(max(0, l_j - sigma^2)).  Eigenvalues in descending order.
    """
    tail = eigenvalues[k:]
    s2 = sp.Max(xi, sp.Add(*tail) / len(tail))
    return s2, tuple(sp.sqrt(sp.Max(0, lam - s2)) for lam in eigenvalues[:k])


def _profile(eigenvalues: tuple[sp.Expr, ...], k: int, s: sp.Symbol) -> sp.Expr:
    """-(2/n) L - D log 2 pi at the best W for sigma^2 = s (Piecewise in s)."""
    out = sp.S.Zero
    for j, lam in enumerate(eigenvalues):
        inactive = sp.log(s) + lam / s
        out += sp.Piecewise((sp.log(lam) + 1, s < lam), (inactive, True)) if j < k else inactive
    return out


@dataclass(frozen=True)
class FloorCollapseFacts(FactRecord):
    """Facts of :func:`derive_floor_collapse`.

    Attributes:
        column_optimum_clipped: at fixed sigma^2 the best squared column length is
            l - sigma^2 when l > sigma^2 (the only stationary point) and 0 otherwise
            (phi increasing on a >= 0).
        profile_concave_in_precision: each profiled term is convex in t = 1/sigma^2 and C^1
            at its switch t = 1/l (value and slope match).
        unfloored_optimum_is_tipping_bishop: the profile's stationary sigma^2 is T/(D - k).
        floored_optimum_kkt: on the example, sigma^2 = max(xi, sigma^2_ML) satisfies the KKT
            condition for each floor (zero slope, or slope pointing into the floor).
        posterior_decouples: D = 3, k = 2, eigen-aligned W: the exact posterior covariance
            is diag(sigma^2/(sigma^2 + a_j)).
        active_kl: the average KL of an active direction, as text.
        active_kl_exact: it equals (1/2) log(l/sigma^2) exactly.
        inactive_kl_zero: an inactive direction has KL 0 (encoder variance 1, mean 0).
        elbo_matches_profile: D = 3, k = 2, l_2 < sigma^2 < l_1: the total log-likelihood at
            the clipped W (the ELBO with the exact posterior, derivation "ppca") equals the
            profiled value.
        collapsed_without_floor: rank example (4, 1, 0, 0), k = 3: directions collapsed
            for 0 < sigma^2 < l_r.
        rank_deficient_k_minus_r: that count equals k - r.
        encoder_variance_limit: lim sigma^2/l_j as sigma^2 -> 0, as text.
        kl_slope: lim of the total KL / log(1/sigma^2) on rank-r data, as text ("r/2").
        example_sigma2: the example's optimal sigma^2 for its three floors, as text.
        example_singular_values: the example's singular values of W per floor, as text.
        example_active: the number of active directions per floor, as text.
    """

    column_optimum_clipped: bool
    profile_concave_in_precision: bool
    unfloored_optimum_is_tipping_bishop: bool
    floored_optimum_kkt: bool
    posterior_decouples: bool
    active_kl: str
    active_kl_exact: bool
    inactive_kl_zero: bool
    elbo_matches_profile: bool
    collapsed_without_floor: int
    rank_deficient_k_minus_r: bool
    encoder_variance_limit: str
    kl_slope: str
    example_sigma2: str
    example_singular_values: str
    example_active: str

    @property
    def holds(self) -> bool:
        """sigma^2 = max(xi, sigma^2_ML), active iff l_j > sigma^2, k - r collapse without a floor."""
        return (self.column_optimum_clipped and self.profile_concave_in_precision
                and self.unfloored_optimum_is_tipping_bishop and self.floored_optimum_kkt
                and self.posterior_decouples and self.active_kl_exact and self.inactive_kl_zero
                and self.elbo_matches_profile and self.rank_deficient_k_minus_r
                and self.encoder_variance_limit == "0" and self.kl_slope == "r/2")


def _column_and_profile(d: DerivationBuilder, lam: sp.Symbol, s2: sp.Symbol) -> tuple[bool, bool]:
    a, dd = sp.symbols("a d", nonnegative=True)
    phi = sp.log(s2 + a) + lam / (s2 + a)
    d.step("At a fixed σ², Tipping & Bishop's stationary points put column j of W along the "
           "eigenvector u_j with squared length a_j ≥ 0; the direction contributes to −(2/n)·L",
           equation(sp.Symbol("φ(a)"), phi))
    dphi = sp.factor(sp.diff(phi, a))
    roots = sp.solve(sp.Eq(dphi, 0), a)
    # l <= sigma^2: write l = sigma^2 - d with d >= 0; then phi' >= 0 for every a >= 0.
    below = sp.factor(dphi.subs(lam, s2 - dd))
    d.step("Its derivative vanishes only at a = l − σ²; when l ≤ σ² (l = σ² − d, d ≥ 0) it "
           "is ≥ 0 on a ≥ 0, so the best length is a = max(0, l − σ²): direction j is active "
           "iff l_j > σ²", sp.Tuple(equation(sp.Symbol("φ'(a)"), dphi),
                                     equation(sp.Symbol("φ'(a) at l = σ² − d"), below)))
    clipped = roots == [lam - s2] and bool(below.is_nonnegative)
    t = sp.Symbol("t", positive=True)
    psi = -sp.log(t) + lam * t          # log(sigma^2) + l/sigma^2 with t = 1/sigma^2
    second = sp.diff(psi, t, 2)
    value_join = sp.simplify(psi.subs(t, 1 / lam) - (sp.log(lam) + 1))
    slope_join = sp.simplify(sp.diff(psi, t).subs(t, 1 / lam))
    d.step("In the precision t = 1/σ² an inactive term is −log t + l·t (convex: second "
           "derivative 1/t²) and an active one the constant log l + 1; at the switch t = 1/l "
           "value and slope agree, so every term is convex and C¹, and L is concave in t",
           sp.Tuple(equation(sp.Symbol("ψ''(t)"), second),
                    equation(sp.Symbol("ψ(1/l) − (log l + 1)"), value_join),
                    equation(sp.Symbol("ψ'(1/l)"), slope_join)))
    concave = bool(second.is_positive) and value_join == 0 and slope_join == 0
    return clipped, concave


def _posterior_checks(d: DerivationBuilder, s2: sp.Symbol) -> tuple[bool, bool, bool, bool, str]:
    lam = sp.Symbol("l", positive=True)
    a = sp.Symbol("a", nonnegative=True)
    v = s2 / (s2 + a)                          # posterior variance of z_j
    mean2 = a * lam / (s2 + a) ** 2            # E over the data of its squared mean
    kl = (v + mean2 - 1 - sp.log(v)) / 2
    active = sp.simplify(sp.expand_log(kl.subs(a, lam - s2), force=True))
    inactive = sp.simplify(kl.subs(a, 0))
    d.step("With q the exact posterior, direction j has variance σ²/(σ² + a_j) and mean "
           "√a_j/(σ² + a_j)·u_jᵀ(x − x̄), whose square averages a_j l_j/(σ² + a_j)²; its "
           "average KL, active (a = l − σ²) and inactive (a = 0):",
           sp.Tuple(equation(sp.Symbol("KL_active"), active),
                    equation(sp.Symbol("KL_inactive"), inactive)))
    active_exact = cancel_logs(active - (sp.log(lam) - sp.log(s2)) / 2) == 0
    # The same from the matrix formulas (symbolic/linear.py, ppca.py) at D = 3, k = 2.
    ls = [sp.Symbol(f"l_{j}", positive=True) for j in (1, 2, 3)]
    a1, a2 = sp.symbols("a_1 a_2", nonnegative=True)
    W = sp.Matrix([[sp.sqrt(a1), 0], [0, sp.sqrt(a2)], [0, 0]])
    r = sp.Matrix(3, 1, lambda i, _: sp.Dummy(f"r{i + 1}", real=True))
    mean, cov = posterior_formula(r, W, sp.zeros(3, 1), s2)
    decouples = (cov - sp.diag(s2 / (s2 + a1), s2 / (s2 + a2))).applyfunc(sp.simplify) == sp.zeros(2, 2)
    Lam = sp.diag(*ls)
    kl_total = sum_over_data(gaussian_kl(mean, cov, sp.zeros(2, 1), sp.eye(2)), r, Lam, sp.Integer(1))
    kl_expected = kl.subs({a: a1, lam: ls[0]}) + kl.subs({a: a2, lam: ls[1]})
    decouples = decouples and cancel_logs(kl_total - kl_expected) == 0
    # l_2 < sigma^2 < l_1: W = (sqrt(l_1 - sigma^2) u_1, 0); the total log-likelihood (the
    # ELBO with q = the exact posterior, derivation "ppca") equals the profile.
    W_opt = sp.Matrix([[sp.sqrt(ls[0] - s2), 0], [0, 0], [0, 0]])
    n = sp.Symbol("n", positive=True, integer=True)
    elbo = total_loglik(W_opt, s2, Lam, n)
    profile = -n / 2 * (3 * sp.log(2 * sp.pi) + sp.log(ls[0]) + 1 + 2 * sp.log(s2)
                        + (ls[1] + ls[2]) / s2)
    matches = cancel_logs(elbo - profile) == 0
    d.step("Checked with the matrix formulas at D = 3, k = 2 (W eigen-aligned): the posterior "
           "covariance is diag(σ²/(σ² + a_j)), the data-summed KL is the sum of the directions' "
           "KLs, and with l₂ < σ² < l₁ the total log-likelihood (= the ELBO at the exact posterior, "
           "derivation ppca) at W = (√(l₁ − σ²) u₁, 0) is",
           equation(sp.Symbol("ELBO"), profile))
    return bool(decouples), bool(active_exact), inactive == 0, matches, sp.sstr(active)


def derive_floor_collapse() -> Derivation:
    """Derive sigma^2 = max(xi, sigma^2_ML), the active set, and the collapse without a floor.

    results: ``active_kl``, ``example``.  facts: :class:`FloorCollapseFacts`.
    """
    lam = sp.Symbol("l", positive=True)
    s2 = sp.Symbol("sigma^2", positive=True)
    d = DerivationBuilder(name="floor-collapse", title="A floor on the shared variance of the "
                          "linear VAE: σ² = max(ξ, σ²_ML), posterior collapse of every l_j ≤ σ²",
                          sources=[TIPPING_BISHOP, LUCAS, DAI_WIPF, theory("section 3")])
    clipped, concave = _column_and_profile(d, lam, s2)
    c, T, s = sp.Symbol("c", positive=True, integer=True), sp.Symbol("T", positive=True), \
        sp.Symbol("s", positive=True)
    stationary = sp.solve(sp.Eq(c * s - T, 0), s)
    d.step("The profile's slope is s²·d/ds[−(2/n)L] = Σ_{j>k}(s − l_j) + Σ_{j≤k} max(0, s − l_j) "
           "with s = σ², c = D − k, T = Σ_{j>k} l_j; at s = T/c ≤ l_{k+1} the second sum is 0, "
           "so the unconstrained maximiser is Tipping & Bishop's σ²_ML, and by concavity in "
           "1/σ² the floored one is max(ξ, σ²_ML)", equation(s, stationary[0] if stationary else sp.nan))
    tb = stationary == [T / c]
    kkt, sig, svs, act = True, [], [], []
    sv = sp.Symbol("s", positive=True)
    k = 2
    for xi in EXAMPLE_FLOORS:
        opt, singular = floored_optimum(EXAMPLE_EIGENVALUES, k, xi)
        slope = sp.diff(_profile(EXAMPLE_EIGENVALUES, k, sv), sv).subs(sv, opt)
        slope = sp.nsimplify(sp.simplify(slope))
        # KKT for minimising the profile on s >= xi: slope 0 inside, slope >= 0 at the floor.
        kkt = kkt and (slope == 0 if opt != xi else bool(slope >= 0))
        sig.append(opt)
        svs.append(sp.Tuple(*singular))
        act.append(sum(1 for value in singular if value != 0))
    d.step("Example l = (4, 2, 1/2, 1/10), k = 2, floors ξ = 10⁻⁶, 3, 5: optimal σ² and "
           "singular values of W (KKT holds for each)",
           sp.Tuple(sp.Tuple(*sig), sp.Tuple(*svs)))
    decouples, kl_exact, kl_zero, matches, kl_text = _posterior_checks(d, s2)
    ranked, k_rank = RANK_EXAMPLE
    rank = sum(1 for value in ranked if value != 0)
    s_small = sp.Rational(1, 10**9)    # any 0 < sigma^2 < l_r
    _, singular = floored_optimum(ranked, k_rank, s_small)
    collapsed = sum(1 for value in singular if value == 0)
    enc_limit = sp.limit(s2 / lam, s2, 0, "+")
    r_sym, S_r = sp.Symbol("r", positive=True, integer=True), sp.Symbol("S_r", real=True)
    kl_total = (S_r - r_sym * sp.log(s2)) / 2         # sum_{j<=r} (1/2) log(l_j/sigma^2)
    slope_kl = sp.limit(kl_total / sp.log(1 / s2), s2, 0, "+")
    d.step("Without a floor on rank-r data (l_{r+1..D} = 0, r < k), σ²_ML = 0: along σ² → 0 "
           "the directions r + 1..k stay collapsed (example l = (4, 1, 0, 0), k = 3: "
           f"{collapsed} collapsed), the active encoder variances σ²/l_j → {enc_limit}, and the "
           "total KL Σ_{j≤r} ½ log(l_j/σ²) (S_r = Σ_{j≤r} log l_j) grows like",
           equation(sp.Limit(sp.Symbol("KL/log(1/σ²)"), s2, 0, "+"), slope_kl))
    d.results.update(active_kl=sp.sympify(kl_text),
                     example=sp.Tuple(sp.Tuple(*sig), sp.Tuple(*svs)))
    facts = FloorCollapseFacts(
        column_optimum_clipped=bool(clipped),
        profile_concave_in_precision=bool(concave),
        unfloored_optimum_is_tipping_bishop=bool(tb),
        floored_optimum_kkt=bool(kkt),
        posterior_decouples=decouples,
        active_kl=kl_text,
        active_kl_exact=kl_exact,
        inactive_kl_zero=bool(kl_zero),
        elbo_matches_profile=bool(matches),
        collapsed_without_floor=collapsed,
        rank_deficient_k_minus_r=collapsed == k_rank - rank,
        encoder_variance_limit=sp.sstr(enc_limit),
        kl_slope=sp.sstr(slope_kl),
        example_sigma2=sp.sstr(sp.Tuple(*sig)),
        example_singular_values=sp.sstr(sp.Tuple(*svs)),
        example_active=sp.sstr(sp.Tuple(*act)),
    )
    return d.build(facts)
