"""Evidence for the cost side of a variance floor: posterior collapse in the linear VAE.

Claim ``remedy.floor-causes-posterior-collapse`` (docs/theory.md section 6).  Two sources:
the derivation "floor-collapse" (:mod:`vaeproofs.symbolic.floor_collapse`) and float64
L-BFGS maximisations of the floored linear VAE against the closed form
(:mod:`vaeproofs.numeric.floor_collapse`).  The gatherers only read their records.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from vaeproofs.claims.conditions import Condition
from vaeproofs.claims.context import EvidenceContext
from vaeproofs.claims.verdict import Evidence
from vaeproofs.symbolic.floor_collapse import FloorCollapseFacts

if TYPE_CHECKING:
    from vaeproofs.numeric.floor_collapse import FloorFit

__all__ = ["FULL_RANK", "RANK_DEFICIENT", "floor_collapse_derived", "floor_collapse_optimised",
           "floor_fits"]

#: (eigenvalues, k, floors): the derivation's example, every floor in both runs.
FULL_RANK = ((4.0, 2.0, 0.5, 0.1), 2, (1e-6, 3.0, 5.0))
#: Rank 2 < k = 3 data: decreasing floors standing in for "no floor" (sigma^2_ML = 0), in
#: the full run only (about 0.5 s of CPU; ``--quick`` keeps the derivation's proof of it).
RANK_DEFICIENT = ((4.0, 1.0, 0.0, 0.0), 3, (1e-1, 1e-2, 1e-3))


def floor_collapse_derived(ctx: EvidenceContext) -> list[Evidence]:
    """sigma^2 = max(xi, sigma^2_ML); active iff l_j > sigma^2; k - r collapse without a floor."""
    f = FloorCollapseFacts.of(ctx.derivation("floor-collapse"))
    return [Evidence(
        "symbolic",
        f"At fixed sigma^2 the best squared column length is max(0, l_j - sigma^2) "
        f"({f.column_optimum_clipped}); the profile is concave in 1/sigma^2 "
        f"({f.profile_concave_in_precision}) with unconstrained maximiser Tipping & Bishop's "
        f"sigma^2_ML ({f.unfloored_optimum_is_tipping_bishop}), so the floored maximiser is "
        f"max(xi, sigma^2_ML) (KKT on the example: {f.floored_optimum_kkt}). With the exact "
        f"posterior an active direction's average KL is {f.active_kl} "
        f"(exact: {f.active_kl_exact}), an inactive one's 0 ({f.inactive_kl_zero}). Example "
        f"l = (4, 2, 1/2, 1/10), k = 2, xi = 1e-6, 3, 5: sigma^2 = {f.example_sigma2}, "
        f"singular values {f.example_singular_values}, active directions {f.example_active}. "
        f"Rank 2 < k = 3 without a floor: {f.collapsed_without_floor} collapsed "
        f"(= k - r: {f.rank_deficient_k_minus_r}), encoder variances sigma^2/l_j -> "
        f"{f.encoder_variance_limit}, KL ~ ({f.kl_slope}) log(1/sigma^2).",
        f.holds, Condition.LINEAR_FLOORED,
        data={"example_sigma2": f.example_sigma2, "example_active": f.example_active})]


def floor_fits(quick: bool) -> list[FloorFit]:
    """The L-BFGS fits of :mod:`vaeproofs.numeric.floor_collapse` this verify runs."""
    from vaeproofs.numeric.floor_collapse import floor_fit

    fits = [floor_fit(FULL_RANK[0], FULL_RANK[1], xi) for xi in FULL_RANK[2]]
    if quick:
        return fits
    return fits + [floor_fit(RANK_DEFICIENT[0], RANK_DEFICIENT[1], xi) for xi in RANK_DEFICIENT[2]]


def floor_collapse_optimised(ctx: EvidenceContext) -> list[Evidence]:
    """L-BFGS on the floored linear VAE lands where the closed form says, within its gap."""
    fits = ctx.source("floor-fits")
    parts = []
    for f in fits:
        enc = ", ".join(f"{v:.3g}" for v in f.encoder_variances)
        parts.append(
            f"l = ({', '.join(f'{v:.3g}' for v in f.eigenvalues)}), k = {f.k}, xi = {f.xi:g}: "
            f"sigma^2 {f.sigma2:.6g} (closed form {f.closed_sigma2:.6g}), singular values "
            f"{', '.join(f'{v:.4g}' for v in f.singular_values)} "
            f"(closed form {', '.join(f'{v:.4g}' for v in f.closed_singular_values)}), "
            f"{f.active} active (closed form {f.closed_active}), encoder variances {enc}, "
            f"ELBO gap {f.closed_elbo - f.elbo:.1e} nats: agrees {f.agrees}")
    agree = bool(fits) and all(f.agrees for f in fits)
    return [Evidence(
        "numeric",
        "L-BFGS (float64) on the linear VAE's closed-form ELBO with sigma^2 = xi + exp(rho), a "
        "linear encoder with diagonal variances, n = 40 points of exactly these sample "
        "eigenvalues (random rotation): " + "; ".join(parts) + ". Tolerances follow from the "
        "gap each run leaves (docstring of vaeproofs.numeric.floor_collapse).",
        agree, Condition.LINEAR_FLOORED,
        data={"fits": [{"xi": f.xi, "sigma2": f.sigma2, "closed_sigma2": f.closed_sigma2,
                        "active": f.active, "closed_active": f.closed_active,
                        "agrees": f.agrees} for f in fits]})]
