"""The Gaussian log-density cap under a variance floor xi > 0 ("floor-cap").

With every decoder variance >= xi > 0, the Gaussian log-density is <= -(D/2) log(2 pi xi)
per point and <= -(n D/2) log(2 pi xi) over n points (Mattei & Frellsen 2018, arXiv
1802.04826, section 2.1; docs/theory.md section 3.8).  For the floored decoder
sigma^2 = xi + softplus(rho) the cap is a supremum that is never attained.

:func:`derive_floor_cap` derives it; :func:`floor_cap_total` gives the sympy cap over n
points (used by the floored constructions) and :func:`gaussian_floor_cap` the float64
per-point cap lambdified from the derived expression (the tests compare it with
:func:`vaeproofs.constants.gaussian_floor_cap`).

Conventions: natural logarithms; xi and v are variances (not standard deviations); D
pixels per point, n points; sums (not means) over pixels and points.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from functools import lru_cache

import sympy as sp

from vaeproofs.symbolic.derivation import Derivation, Record, StepLog
from vaeproofs.symbolic.gaussian import normal_log_density
from vaeproofs.symbolic.sources import MATTEI_FRELLSEN, theory
from vaeproofs.validation import check_int_range, check_positive

__all__ = [
    "FloorCapFacts",
    "FloorCapResults",
    "derive_floor_cap",
    "floor_cap_total",
    "gaussian_floor_cap",
]

_X = sp.Symbol("x", real=True)
_MU = sp.Symbol("mu", real=True)
_V = sp.Symbol("v", positive=True)        # a variance
_XI = sp.Symbol("xi", positive=True)      # the variance floor
_RHO = sp.Symbol("rho", real=True)
_D = sp.Symbol("D", integer=True, positive=True)
_N = sp.Symbol("n", integer=True, positive=True)
_J = sp.Symbol("j", integer=True, positive=True)


@dataclass(frozen=True)
class FloorCapResults(Record):
    """Results of :func:`derive_floor_cap` (sympy)."""

    per_factor: sp.Expr             #: log N(x | mu, v)
    argmax_x: sp.Expr               #: the maximiser in x
    per_factor_max: sp.Expr         #: -log(2 pi v)/2
    d_max_dv: sp.Expr               #: its derivative in v
    cap_per_point: sp.Expr          #: -(D/2) log(2 pi xi)
    cap_total: sp.Expr              #: times n
    gap_floored: sp.Expr            #: cap minus the per-factor maximum at v = xi + softplus(rho)
    limit_rho_to_minus_oo: sp.Expr  #: per-factor maximum as rho -> -oo
    softplus_zero_set: sp.Set       #: real solutions of softplus(rho) = 0
    rotated_2x2_logdet: sp.Expr     #: log det of R(theta) diag(l1, l2) R(theta)^T


@dataclass(frozen=True)
class FloorCapFacts(Record):
    """Facts of :func:`derive_floor_cap`, computed from its results."""

    argmax_is_mean: bool
    max_is_strict: bool                      #: second derivative in x < 0
    max_decreasing_in_variance: bool
    softplus_positive: bool
    cap_total_matches_mattei_frellsen: bool  #: equals -(n D/2) log(2 pi xi)
    floored_factor_below_cap: bool           #: the gap is > 0 for every real rho
    supremum_approached: bool                #: the limit rho -> -oo, residual 0, is the cap
    supremum_attained: bool                  #: some real rho has softplus(rho) = 0
    logdet_is_sum_of_log_eigenvalues: bool   #: 2x2 rotation check


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


def derive_floor_cap() -> Derivation[FloorCapFacts, FloorCapResults]:
    """Derive the Gaussian density cap under a variance floor xi > 0.

    Per coordinate, log N(x | mu, v) (natural log, v a variance) is maximised over x at
    x = mu, where it equals -log(2 pi v)/2, which decreases in v; with
    v = xi + softplus(rho) > xi every factor is < -log(2 pi xi)/2.  Summing over D
    coordinates and n points gives -(n D/2) log(2 pi xi) (Mattei & Frellsen 2018,
    section 2.1; for a full covariance, the eigenvalue form of the same argument).

    Results and facts: :class:`FloorCapResults`, :class:`FloorCapFacts`.
    """
    x, mu, v, xi, rho, D, n = _X, _MU, _V, _XI, _RHO, _D, _N
    step = StepLog()
    f = normal_log_density(x, mu, v)
    step("One coordinate of a diagonal Gaussian decoder, natural log, v > 0 a variance:",
         sp.Eq(sp.Symbol("log N(x | mu, v)"), f))
    argmax = sp.solve(sp.diff(f, x), x)
    second = sp.diff(f, x, 2)
    step("Maximiser in x (root of the derivative):",
         sp.Eq(sp.Symbol("x*"), argmax[0]))
    step("Second derivative in x (negative: a strict maximum):",
         sp.Eq(sp.Derivative(sp.Symbol("f"), (x, 2)), second))
    fmax = sp.simplify(f.subs(x, argmax[0]))
    dmax = sp.diff(fmax, v)
    step("The maximum over x (reached at zero residual):", sp.Eq(sp.Symbol("f_max(v)"), fmax))
    step("It decreases in the variance:", sp.Eq(sp.Derivative(sp.Symbol("f_max"), v), dmax))
    softplus = _softplus(rho)
    step("Floored decoder variance v = ξ + softplus(ρ), softplus(ρ) = log(1 + e^ρ) > 0 "
         "for real ρ:", sp.Eq(sp.Symbol("v"), xi + softplus))
    gap = sp.expand_log(fmax.subs(v, xi) - fmax.subs(v, xi + softplus), force=True)
    # The gap equals log(1 + softplus/xi)/2 (checked), which sympy signs as positive
    # (log of 1 + a positive number) for every real rho.
    gap_form = sp.log(1 + softplus / xi) / 2
    gap_positive = (sp.simplify(sp.expand_log(gap - gap_form, force=True)) == 0
                    and bool(gap_form.is_positive))
    step("Cap per factor minus the floored factor's maximum (> 0 for every real ρ):",
         sp.Eq(sp.Symbol("gap"), gap))
    cap_point = _floor_cap_per_point()
    step("Summing the per-coordinate cap over j = 1..D:",
         sp.Eq(sp.Symbol("cap per point"), cap_point))
    cap_total = sp.expand(n * cap_point)
    target = -(n * D / 2) * sp.log(2 * sp.pi * xi)
    total_diff = sp.simplify(cap_total - target)
    step("and over n points:",
         sp.Eq(sp.Symbol("cap total"), cap_total))
    step("Difference to Mattei & Frellsen's −(nD/2) log(2πξ):",
         sp.Eq(sp.Symbol("cap total - target"), total_diff))
    lim = sp.limit(fmax.subs(v, xi + softplus), rho, -sp.oo)
    step("The supremum is approached with zero residual and ρ → −∞:",
         sp.Eq(sp.Limit(sp.Symbol("f_max(ξ + softplus(ρ))"), rho, -sp.oo), lim))
    zero_set = sp.solveset(softplus, rho, sp.S.Reals)
    step("but not attained: the real solutions of softplus(ρ) = 0 are", zero_set)
    # Full covariance: log det is the sum of log eigenvalues, so the same per-eigenvalue
    # argument applies.  Checked on a rotated 2x2 covariance.
    theta = sp.Symbol("theta", real=True)
    l1, l2 = sp.symbols("l1 l2", positive=True)
    rot = sp.Matrix([[sp.cos(theta), -sp.sin(theta)], [sp.sin(theta), sp.cos(theta)]])
    sigma = rot * sp.diag(l1, l2) * rot.T
    logdet = sp.simplify(sp.log(sp.simplify(sigma.det())))
    logdet_diff = sp.simplify(sp.expand_log(logdet - sp.log(l1) - sp.log(l2), force=True))
    step("Full covariance: log det Σ is the sum of the log eigenvalues (2×2 rotation "
         "check), so −½ log det(2πΣ) ≤ −(D/2) log(2πξ) when all eigenvalues ≥ ξ:",
         sp.Eq(sp.Symbol("log det Σ"), logdet))

    results = FloorCapResults(
        per_factor=f, argmax_x=argmax[0], per_factor_max=fmax, d_max_dv=dmax,
        cap_per_point=cap_point, cap_total=cap_total, gap_floored=gap,
        limit_rho_to_minus_oo=lim, softplus_zero_set=zero_set, rotated_2x2_logdet=logdet,
    )
    facts = FloorCapFacts(
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
    return Derivation(
        name="floor-cap", title="Gaussian log-density cap under a variance floor ξ",
        sources=(MATTEI_FRELLSEN, theory("section 3.8")), steps=tuple(step.steps),
        results=results, facts=facts)


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
