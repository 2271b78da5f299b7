"""Caps on the decoder log-likelihood and equivalences between decoder choices.

Four derivations, each a :class:`~vaeproofs.symbolic.derivation.Derivation` whose
``facts`` are computed by sympy (comparisons, ``solve``, ``solveset``, ``limit``):

- :func:`derive_floor_cap` ("floor-cap"): with every variance >= xi > 0 the Gaussian
  log-density is <= -(D/2) log(2 pi xi) per point, -(n D/2) log(2 pi xi) over n points
  (Mattei & Frellsen 2018, arXiv 1802.04826, section 2.1); for the floored decoder
  sigma^2 = xi + softplus(rho) the cap is a supremum that is never attained.
- :func:`derive_bernoulli_cap` ("bernoulli-cap"): a Bernoulli log-likelihood is <= 0,
  with supremum 0 not attained for pi in (0, 1) (same source).
- :func:`derive_fixed_variance_beta` ("fixed-variance-beta"): a fixed decoder variance
  s0^2 is squared error plus constants, i.e. a beta-VAE with beta = 2 s0^2.
- :func:`derive_shared_variance` ("shared-variance"): the ELBO-optimal shared variance
  gamma* and the profiled objective (Rybkin, Daniilidis & Levine 2021, "sigma-VAE",
  arXiv 2006.13202), which is unbounded as the residual goes to 0.

Conventions: natural logarithms; variances (not standard deviations) unless said
otherwise; D pixels per point, n points; sums (not means) over pixels and points unless
said otherwise.  :func:`gaussian_floor_cap` is the numeric (float64) cap.
"""

from __future__ import annotations

import sys
from functools import lru_cache

import sympy as sp

from vaeproofs.symbolic.derivation import Derivation
from vaeproofs.symbolic.gaussian import normal_log_density
from vaeproofs.symbolic.sources import HIGGINS, KINGMA_WELLING_DECODER, MATTEI_FRELLSEN, RYBKIN
from vaeproofs.validation import check_int_range, check_positive

__all__ = [
    "derive_bernoulli_cap",
    "derive_fixed_variance_beta",
    "derive_floor_cap",
    "derive_shared_variance",
    "floor_cap_total",
    "gaussian_floor_cap",
]

THEORY = "vaeproofs THEORY.md sections 1-4"

_X = sp.Symbol("x", real=True)
_MU = sp.Symbol("mu", real=True)
_V = sp.Symbol("v", positive=True)        # a variance
_XI = sp.Symbol("xi", positive=True)      # the variance floor
_RHO = sp.Symbol("rho", real=True)
_D = sp.Symbol("D", integer=True, positive=True)
_N = sp.Symbol("n", integer=True, positive=True)
_J = sp.Symbol("j", integer=True, positive=True)


def _softplus(x: sp.Expr) -> sp.Expr:
    return sp.log(1 + sp.exp(x))


@lru_cache(maxsize=1)
def _floor_cap_per_point() -> sp.Expr:
    """-(D/2) log(2 pi xi): the per-point cap, as the sum over D coordinates of the
    per-coordinate maximum -log(2 pi xi)/2 (derived in :func:`derive_floor_cap`)."""
    per_factor_max = normal_log_density(_MU, _MU, _V)  # value at x = mu
    return sp.Sum(per_factor_max.subs(_V, _XI), (_J, 1, _D)).doit()


def floor_cap_total(n: int | sp.Expr, dim: int | sp.Expr, xi: sp.Expr) -> sp.Expr:
    """The cap -(n D/2) log(2 pi xi) on the log-density of n points, as a sympy value.

    The per-point cap is derived in :func:`derive_floor_cap` (each Gaussian factor is
    largest at x = mu, and that maximum decreases in the variance); this sums it over
    n points.  Used by the floored constructions (:mod:`vaeproofs.constructions`).
    """
    return n * _floor_cap_per_point().subs({_D: dim, _XI: xi})


@lru_cache(maxsize=1)
def _floor_cap_function():  # type: ignore[no-untyped-def]
    return sp.lambdify((_D, _XI), _floor_cap_per_point(), modules="math")


def derive_floor_cap() -> Derivation:
    """Derive the Gaussian density cap under a variance floor xi > 0.

    Per coordinate, log N(x | mu, v) (natural log, v a variance) is maximised over x at
    x = mu, where it equals -log(2 pi v)/2, which decreases in v; with
    v = xi + softplus(rho) > xi every factor is < -log(2 pi xi)/2.  Summing over D
    coordinates and n points gives -(n D/2) log(2 pi xi) (Mattei & Frellsen 2018,
    section 2.1; for a full covariance, the eigenvalue form of the same argument).

    results:
        ``per_factor``: log N(x | mu, v); ``argmax_x``: the maximiser in x;
        ``per_factor_max``: -log(2 pi v)/2; ``d_max_dv``: its derivative in v;
        ``cap_per_point``: -(D/2) log(2 pi xi); ``cap_total``: times n;
        ``gap_floored``: cap minus the per-factor maximum at v = xi + softplus(rho);
        ``limit_rho_to_minus_oo``: per-factor maximum as rho -> -oo;
        ``softplus_zero_set``: real solutions of softplus(rho) = 0;
        ``rotated_2x2_logdet``: log det of R(theta) diag(l1, l2) R(theta)^T.
    facts:
        ``argmax_is_mean`` (bool); ``max_is_strict`` (bool: second derivative < 0);
        ``max_decreasing_in_variance`` (bool); ``softplus_positive`` (bool);
        ``cap_total_matches_mattei_frellsen`` (bool: equals -(n D/2) log(2 pi xi));
        ``floored_factor_below_cap`` (bool: the gap is > 0 for every real rho);
        ``supremum_approached`` (bool: the limit rho -> -oo, residual 0, is the cap);
        ``supremum_attained`` (bool: some real rho has softplus(rho) = 0);
        ``logdet_is_sum_of_log_eigenvalues`` (bool, 2x2 rotation check).
    """
    x, mu, v, xi, rho, D, n = _X, _MU, _V, _XI, _RHO, _D, _N
    d = Derivation(
        name="floor-cap",
        title="Gaussian log-density cap under a variance floor ξ",
        sources=[MATTEI_FRELLSEN, THEORY],
    )
    f = normal_log_density(x, mu, v)
    d.step("One coordinate of a diagonal Gaussian decoder, natural log, v > 0 a variance:",
           sp.Eq(sp.Symbol("log N(x | mu, v)"), f))
    argmax = sp.solve(sp.diff(f, x), x)
    second = sp.diff(f, x, 2)
    d.step("Maximiser in x (root of the derivative):",
           sp.Eq(sp.Symbol("x*"), argmax[0]))
    d.step("Second derivative in x (negative: a strict maximum):",
           sp.Eq(sp.Derivative(sp.Symbol("f"), (x, 2)), second))
    fmax = sp.simplify(f.subs(x, argmax[0]))
    dmax = sp.diff(fmax, v)
    d.step("The maximum over x (reached at zero residual):", sp.Eq(sp.Symbol("f_max(v)"), fmax))
    d.step("It decreases in the variance:", sp.Eq(sp.Derivative(sp.Symbol("f_max"), v), dmax))
    softplus = _softplus(rho)
    d.step("Floored decoder variance v = ξ + softplus(ρ), softplus(ρ) = log(1 + e^ρ) > 0 "
           "for real ρ:", sp.Eq(sp.Symbol("v"), xi + softplus))
    gap = sp.expand_log(fmax.subs(v, xi) - fmax.subs(v, xi + softplus), force=True)
    # The gap equals log(1 + softplus/xi)/2 (checked), which sympy signs as positive
    # (log of 1 + a positive number) for every real rho.
    gap_form = sp.log(1 + softplus / xi) / 2
    gap_positive = (sp.simplify(sp.expand_log(gap - gap_form, force=True)) == 0
                    and bool(gap_form.is_positive))
    d.step("Cap per factor minus the floored factor's maximum (> 0 for every real ρ):",
           sp.Eq(sp.Symbol("gap"), gap))
    cap_point = _floor_cap_per_point()
    d.step("Summing the per-coordinate cap over j = 1..D:",
           sp.Eq(sp.Symbol("cap per point"), cap_point))
    cap_total = sp.expand(n * cap_point)
    target = -(n * D / 2) * sp.log(2 * sp.pi * xi)
    total_diff = sp.simplify(cap_total - target)
    d.step("and over n points:",
           sp.Eq(sp.Symbol("cap total"), cap_total))
    d.step("Difference to Mattei & Frellsen's −(nD/2) log(2πξ):",
           sp.Eq(sp.Symbol("cap total - target"), total_diff))
    lim = sp.limit(fmax.subs(v, xi + softplus), rho, -sp.oo)
    d.step("The supremum is approached with zero residual and ρ → −∞:",
           sp.Eq(sp.Limit(sp.Symbol("f_max(ξ + softplus(ρ))"), rho, -sp.oo), lim))
    zero_set = sp.solveset(softplus, rho, sp.S.Reals)
    d.step("but not attained: the real solutions of softplus(ρ) = 0 are", zero_set)
    # Full covariance: log det is the sum of log eigenvalues, so the same per-eigenvalue
    # argument applies.  Checked on a rotated 2x2 covariance.
    theta = sp.Symbol("theta", real=True)
    l1, l2 = sp.symbols("l1 l2", positive=True)
    rot = sp.Matrix([[sp.cos(theta), -sp.sin(theta)], [sp.sin(theta), sp.cos(theta)]])
    sigma = rot * sp.diag(l1, l2) * rot.T
    logdet = sp.simplify(sp.log(sp.simplify(sigma.det())))
    logdet_diff = sp.simplify(sp.expand_log(logdet - sp.log(l1) - sp.log(l2), force=True))
    d.step("Full covariance: log det Σ is the sum of the log eigenvalues (2×2 rotation "
           "check), so −½ log det(2πΣ) ≤ −(D/2) log(2πξ) when all eigenvalues ≥ ξ:",
           sp.Eq(sp.Symbol("log det Σ"), logdet))

    d.results.update(
        per_factor=f, argmax_x=argmax[0], per_factor_max=fmax, d_max_dv=dmax,
        cap_per_point=cap_point, cap_total=cap_total, gap_floored=gap,
        limit_rho_to_minus_oo=lim, softplus_zero_set=zero_set, rotated_2x2_logdet=logdet,
    )
    d.facts.update(
        argmax_is_mean=bool(argmax == [mu]),
        max_is_strict=bool(second.is_negative),
        max_decreasing_in_variance=bool(dmax.is_negative),
        softplus_positive=bool(softplus.is_positive),
        cap_total_matches_mattei_frellsen=bool(total_diff == 0),
        floored_factor_below_cap=gap_positive,
        supremum_approached=bool(sp.simplify(lim - fmax.subs(v, xi)) == 0),
        supremum_attained=zero_set != sp.S.EmptySet,
        logdet_is_sum_of_log_eigenvalues=bool(logdet_diff == 0),
    )
    return d


def gaussian_floor_cap(D: int, xi: float) -> float:
    """The per-point cap -(D/2) log(2 pi xi) on a Gaussian log-density, float64.

    Holds for any Gaussian N(mu, Sigma) on R^D whose covariance eigenvalues are all
    >= ``xi`` (Mattei & Frellsen 2018, arXiv 1802.04826, section 2.1); natural log,
    ``xi`` a variance.  Over n points multiply by n.  Lambdified from the expression
    :func:`derive_floor_cap` derives.

    Raises:
        InvalidArgumentError: ``D`` not an integer >= 1, or ``xi`` not finite and > 0.
    """
    D_ = check_int_range("D", D, low=1, high=sys.maxsize)
    xi_ = check_positive("xi", xi)
    return float(_floor_cap_function()(D_, xi_))


def derive_bernoulli_cap() -> Derivation:
    """Derive log Bern(x | pi) <= 0 for x in {0, 1}, pi in (0, 1); sup 0 not attained.

    With pi = sigmoid(t), t real (every pi in (0, 1) is one), log pi = -log(1 + e^-t)
    and log(1 - pi) = -log(1 + e^t), both < 0.  A sum over D pixels and n points is
    therefore < 0, and since the model's p(x) is a probability of a discrete outcome,
    ELBO <= log p(x) <= 0 (Mattei & Frellsen 2018, section 2.1).

    results:
        ``log_pmf``: x log pi + (1 - x) log(1 - pi); ``log_pmf_x1``, ``log_pmf_x0``: in
        the logit t; ``sup_x1``: lim_{pi -> 1-} log pi; ``sup_x0``: lim_{pi -> 0+}
        log(1 - pi); ``attain_x1``: solutions of log pi = 0 in (0, 1);
        ``attain_logit``: real t with sigmoid(t) = 1.
    facts:
        ``log_pmf_x1_negative``, ``log_pmf_x0_negative`` (bool);
        ``log_pmf_increasing_toward_x`` (bool: d/dpi log pi > 0 on (0, 1));
        ``supremum`` (sympy, 0); ``supremum_attained`` (bool).
    """
    x = sp.Symbol("x", integer=True, nonnegative=True)
    p = sp.Symbol("pi", positive=True)
    t = sp.Symbol("t", real=True)
    d = Derivation(
        name="bernoulli-cap",
        title="The Bernoulli log-likelihood is at most 0",
        sources=[MATTEI_FRELLSEN, THEORY],
    )
    log_pmf = x * sp.log(p) + (1 - x) * sp.log(1 - p)
    d.step("One pixel x ∈ {0, 1} with success probability π ∈ (0, 1), natural log:",
           sp.Eq(sp.Symbol("log Bern(x | pi)"), log_pmf))
    sigmoid = 1 / (1 + sp.exp(-t))
    l1 = sp.expand_log(sp.log(sigmoid), force=True)
    l0 = sp.expand_log(sp.log(sp.simplify(1 - sigmoid)), force=True)
    d.step("Write π = sigmoid(t) = 1/(1 + e^(−t)), t ∈ ℝ (this covers all of (0, 1)). "
           "For x = 1:", sp.Eq(sp.Symbol("log pi"), l1))
    d.step("For x = 0:", sp.Eq(sp.Symbol("log(1 - pi)"), l0))
    d.step("Both are −log(1 + positive) < 0, so every pixel's, every point's and the "
           "data set's Bernoulli log-likelihood is < 0; for the model, p(x) is a "
           "probability of a discrete outcome, so ELBO ≤ log p(x) ≤ 0.")
    dlog = sp.diff(sp.log(p), p)
    sup1 = sp.limit(sp.log(p), p, 1, dir="-")
    sup0 = sp.limit(sp.log(1 - p), p, 0, dir="+")
    d.step("log π increases in π (derivative):",
           sp.Eq(sp.Derivative(sp.log(p), p), dlog))
    d.step("so its supremum over (0, 1) is the limit at π → 1⁻:",
           sp.Eq(sp.Limit(sp.log(p), p, 1, "-"), sup1))
    d.step("and symmetrically for x = 0 as π → 0⁺:", sp.Eq(sp.Limit(sp.log(1 - p), p, 0, "+"),
                                                         sup0))
    attain = sp.solveset(sp.log(p), p, sp.Interval.open(0, 1))
    attain_t = sp.solveset(sigmoid - 1, t, sp.S.Reals)
    d.step("The supremum 0 is not attained: solutions of log π = 0 in (0, 1):", attain)
    d.step("and real t with sigmoid(t) = 1:", attain_t)
    d.results.update(log_pmf=log_pmf, log_pmf_x1=l1, log_pmf_x0=l0, sup_x1=sup1,
                     sup_x0=sup0, attain_x1=attain, attain_logit=attain_t)
    d.facts.update(
        log_pmf_x1_negative=bool(l1.is_negative),
        log_pmf_x0_negative=bool(l0.is_negative),
        log_pmf_increasing_toward_x=bool(dlog.is_positive),
        supremum=sup1 if sup1 == sup0 else sp.Max(sup1, sup0),
        supremum_attained=bool(attain != sp.S.EmptySet or attain_t != sp.S.EmptySet),
    )
    return d


def derive_fixed_variance_beta() -> Derivation:
    """A fixed decoder variance s0^2 is squared error plus constants: beta = 2 s0^2.

    -E_q log N(x | mu(z), s0^2 I) = E_q||x - mu(z)||^2 / (2 s0^2) + (D/2) log(2 pi s0^2)
    (natural log, s0^2 a variance, sum over D pixels, one point; Kingma & Welling 2013,
    appendix C.2).  So -ELBO * 2 s0^2 = E_q||x - mu||^2 + 2 s0^2 KL + D s0^2 log(2 pi
    s0^2): the beta-VAE objective (Higgins et al. 2017) on summed squared error with
    beta = 2 s0^2.  Checked on concrete D = 3 coordinates, then for symbolic D.

    results:
        ``neg_elbo``: R/(2 s0^2) + (D/2) log(2 pi s0^2) + KL, with R = E_q||x - mu||^2
        (summed over pixels) and KL the encoder KL;
        ``scaled``: 2 s0^2 * neg_elbo; ``constant``: its part free of R and KL;
        ``squared_error_weight``: coefficient of R when KL has coefficient 1;
        ``concrete_difference``: D = 3 check, should be 0.
    facts:
        ``concrete_D_matches`` (bool);
        ``beta`` (sympy): ratio of the KL coefficient to the R coefficient in
        ``results['scaled']``, 2*s0**2;
        ``constant_free_of_model`` (bool): the constant holds no R or KL;
        ``constant_matches`` (bool): the constant equals D s0^2 log(2 pi s0^2);
        ``s0_squared_for_plain_squared_error`` (sympy): s0^2 at which -ELBO is
        proportional to R + KL (summed squared error), 1/2;
        ``s0_squared_for_plain_mean_squared_error`` (sympy): same for the per-pixel
        MEAN squared error R/D (e.g. PyTorch MSELoss(reduction='mean')), D/2;
        ``beta_identity_covariance`` (sympy): beta at s0^2 = 1, 2;
        ``squared_error_weight_identity_covariance`` (sympy): 1/2 (identity covariance
        is 1/2 SE + KL, not SE + KL);
        ``identity_covariance_is_plain_squared_error`` (bool).
    """
    s0 = sp.Symbol("s_0", positive=True)
    D = _D
    R = sp.Symbol("R", nonnegative=True)
    KL = sp.Symbol("KL", nonnegative=True)
    d = Derivation(
        name="fixed-variance-beta",
        title="A fixed decoder variance is squared error plus constants: β = 2 s₀²",
        sources=[KINGMA_WELLING_DECODER, HIGGINS, THEORY],
    )
    xs = sp.symbols("x1:4", real=True)
    mus = sp.symbols("mu1:4", real=True)
    neg_log = -sp.Add(*(normal_log_density(xj, mj, s0**2) for xj, mj in zip(xs, mus,
                                                                             strict=True)))
    se3 = sp.Add(*((xj - mj) ** 2 for xj, mj in zip(xs, mus, strict=True)))
    form3 = se3 / (2 * s0**2) + sp.Rational(3, 2) * sp.log(2 * sp.pi * s0**2)
    concrete_diff = sp.simplify(sp.expand_log(neg_log - form3, force=True))
    d.step("Concrete check with D = 3 pixels: −log N(x | μ, s₀² I) minus "
           "‖x − μ‖²/(2 s₀²) + (3/2) log(2π s₀²):",
           sp.Eq(sp.Symbol("difference"), concrete_diff))
    per_pixel = -normal_log_density(_X, _MU, s0**2)
    d.step("For general D, each pixel contributes (x_j − μ_j)²/(2 s₀²) + log(2π s₀²)/2; "
           "the expectation over q passes through the sum, so with "
           "R = E_q‖x − μ(z)‖² (summed over pixels):",
           sp.Eq(sp.Symbol("-log N(x_j | mu_j, s0^2)"), per_pixel))
    const_sum = sp.Sum(per_pixel.subs(_X, _MU), (_J, 1, D)).doit()
    neg_elbo = R / (2 * s0**2) + const_sum + KL
    d.step("Negative ELBO:", sp.Eq(sp.Symbol("-ELBO"), neg_elbo))
    scaled = sp.expand(2 * s0**2 * neg_elbo)
    coeff_r = scaled.coeff(R)
    coeff_kl = scaled.coeff(KL)
    beta = sp.simplify(coeff_kl / coeff_r)
    constant = sp.expand(scaled - coeff_r * R - coeff_kl * KL)
    constant_diff = sp.simplify(
        sp.expand_log(constant - D * s0**2 * sp.log(2 * sp.pi * s0**2), force=True))
    d.step("Times 2 s₀²:", sp.Eq(sp.Symbol("-2 s0^2 ELBO"), scaled))
    d.step("β = (coefficient of KL)/(coefficient of R):", sp.Eq(sp.Symbol("beta"), beta))
    d.step("The rest depends only on the fixed s₀ and D (same minimisers):",
           sp.Eq(sp.Symbol("constant"), constant))
    d.step("that is D s₀² log(2π s₀²) (difference):",
           sp.Eq(sp.Symbol("constant - D s0^2 log(2 pi s0^2)"), constant_diff))
    s2 = sp.Symbol("s_0^2", positive=True)
    weight = sp.simplify((neg_elbo.coeff(R) / neg_elbo.coeff(KL)).subs(s0, sp.sqrt(s2)))
    d.step("With the KL at weight 1, the squared error's weight is",
           sp.Eq(sp.Symbol("w_SE"), weight))
    plain = sp.solve(sp.Eq(weight, 1), s2)
    plain_mean = sp.solve(sp.Eq(weight * D, 1), s2)  # R = D * (mean squared error)
    d.step("Plain 'summed squared error + KL' (w_SE = 1) needs", sp.Eq(s2, plain[0]))
    d.step("Plain 'per-pixel mean squared error + KL' (R = D·MSE) needs",
           sp.Eq(s2, plain_mean[0]))
    beta_id = beta.subs(s0, 1)
    weight_id = weight.subs(s2, 1)
    d.step("Identity covariance (s₀² = 1): β and the squared-error weight are",
           sp.Tuple(beta_id, weight_id))
    d.results.update(neg_elbo=neg_elbo, scaled=scaled, constant=constant,
                     squared_error_weight=weight, concrete_difference=concrete_diff)
    d.facts.update(
        concrete_D_matches=bool(concrete_diff == 0),
        beta=beta,
        constant_free_of_model=not constant.has(R) and not constant.has(KL),
        constant_matches=bool(constant_diff == 0),
        s0_squared_for_plain_squared_error=plain[0],
        s0_squared_for_plain_mean_squared_error=plain_mean[0],
        beta_identity_covariance=beta_id,
        squared_error_weight_identity_covariance=weight_id,
        identity_covariance_is_plain_squared_error=bool(sp.simplify(weight_id - 1) == 0),
    )
    return d


def derive_shared_variance() -> Derivation:
    """The ELBO-optimal shared decoder variance gamma* and the profiled objective.

    Decoder N(mu(z), gamma I) with one gamma > 0 for all D pixels and n points; with
    R = sum_i E_q||x_i - mu(z)||^2 > 0 (sum over pixels and points) and K the summed
    KL, the ELBO is -(n D/2) log(2 pi gamma) - R/(2 gamma) - K.  Its unique maximiser
    is gamma* = R/(n D) and the profiled objective -(n D/2) log(2 pi e gamma*) - K,
    i.e. -(D/2) log(2 pi e gamma*) - K/n per point (Rybkin, Daniilidis & Levine 2021,
    section 3).  As R -> 0 it tends to +oo: unbounded whenever the decoder mean can
    drive the residual to 0.

    results:
        ``elbo``: in gamma; ``critical_points``; ``gamma_star``;
        ``second_derivative_at_gamma_star``; ``limits_gamma_edges``: ELBO as
        gamma -> 0+ and gamma -> oo; ``profiled``; ``profiled_per_point``;
        ``profiled_difference``: profiled minus the sigma-VAE form (0);
        ``profiled_limit_residual_to_0``; ``rate_in_log_residual``:
        lim_{R->0+} profiled / log R (-(n D)/2); ``zero_residual_limit``: the ELBO with
        R = 0 as gamma -> 0+.
    facts:
        ``unique_critical_point`` (bool); ``gamma_star_matches_theory`` (bool: equals
        R/(n D)); ``is_maximum`` (bool); ``global_maximum`` (bool: unique critical
        point and ELBO -> -oo at both ends); ``profiled_matches_theory`` (bool);
        ``profiled_sup_as_residual_to_0`` (str "+oo"/...);
        ``profiled_unbounded_when_residual_can_vanish`` (bool).
    """
    n, D = _N, _D
    gamma = sp.Symbol("gamma", positive=True)
    R = sp.Symbol("R", positive=True)
    K = sp.Symbol("K", nonnegative=True)
    d = Derivation(
        name="shared-variance",
        title="ELBO-optimal shared decoder variance and the profiled objective",
        sources=[RYBKIN, THEORY],
    )
    # Sum over n points and D pixels of E_q log N(x_ij | mu_j(z), gamma): per pixel
    # -log(2 pi gamma)/2 - E(x - mu)^2/(2 gamma) (THEORY.md section 3).
    per_pixel_const = normal_log_density(_MU, _MU, gamma)
    elbo = n * D * per_pixel_const - R / (2 * gamma) - K
    L = sp.Function("ELBO")(gamma)
    d.step("Shared variance γ > 0, R = Σ_i E_q‖x_i − μ(z)‖² > 0 (over n points and D "
           "pixels), K the summed KL:", sp.Eq(L, elbo))
    dl = sp.simplify(sp.diff(elbo, gamma))
    d.step("Derivative in γ:", sp.Eq(sp.Derivative(L, gamma), dl))
    roots = sp.solve(dl, gamma)
    gstar = roots[0]
    d.step("Its only positive root:", sp.Eq(sp.Symbol("gamma*"), gstar))
    second = sp.simplify(sp.diff(elbo, gamma, 2).subs(gamma, gstar))
    d.step("Second derivative there (negative: a maximum):",
           sp.Eq(sp.Symbol("ELBO''(gamma*)"), second))
    lim0 = sp.limit(elbo, gamma, 0, dir="+")
    lim_inf = sp.limit(elbo, gamma, sp.oo)
    d.step("At the ends of (0, ∞) the ELBO tends to (so the critical point is the global "
           "maximum):", sp.Tuple(lim0, lim_inf))
    profiled = sp.expand(sp.expand_log(elbo.subs(gamma, gstar), force=True))
    theory = -(n * D / 2) * sp.log(2 * sp.pi * sp.E * gstar) - K
    pdiff = sp.simplify(sp.expand_log(profiled - theory, force=True))
    d.step("Profiled objective:", sp.Eq(sp.Symbol("ELBO(gamma*)"), profiled))
    d.step("minus the σ-VAE form −(nD/2) log(2πe γ*) − K:",
           sp.Eq(sp.Symbol("difference"), pdiff))
    per_point = sp.expand(profiled / n)
    d.step("Per point:", sp.Eq(sp.Symbol("ELBO(gamma*)/n"), per_point))
    lim_r0 = sp.limit(profiled, R, 0, dir="+")
    rate = sp.limit(profiled / sp.log(R), R, 0, dir="+")
    d.step("As the residual R → 0⁺ the profiled objective diverges:",
           sp.Eq(sp.Limit(sp.Symbol("ELBO(gamma*)"), R, 0, "+"), lim_r0))
    d.step("like (rate)·log R with", sp.Eq(sp.Symbol("rate"), rate))
    zero_res = sp.limit(elbo.subs(R, 0), gamma, 0, dir="+")
    d.step("With R = 0 exactly, the ELBO in γ has no maximiser: as γ → 0⁺ it tends to",
           zero_res)
    d.results.update(
        elbo=elbo, critical_points=roots, gamma_star=gstar,
        second_derivative_at_gamma_star=second, limits_gamma_edges=(lim0, lim_inf),
        profiled=profiled, profiled_per_point=per_point, profiled_difference=pdiff,
        profiled_limit_residual_to_0=lim_r0, rate_in_log_residual=rate,
        zero_residual_limit=zero_res,
    )
    d.facts.update(
        unique_critical_point=len(roots) == 1,
        gamma_star_matches_theory=bool(sp.simplify(gstar - R / (n * D)) == 0),
        is_maximum=bool(second.is_negative),
        global_maximum=bool(len(roots) == 1 and lim0 == -sp.oo and lim_inf == -sp.oo),
        profiled_matches_theory=bool(pdiff == 0),
        profiled_sup_as_residual_to_0=("+oo" if lim_r0 == sp.oo else
                                       "-oo" if lim_r0 == -sp.oo else str(lim_r0)),
        profiled_unbounded_when_residual_can_vanish=bool(lim_r0 == sp.oo
                                                         and zero_res == sp.oo),
    )
    return d
