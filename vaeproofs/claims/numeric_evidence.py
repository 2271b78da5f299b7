"""Evidence from float computations that need no training: the loss checker and pPCA.

These run in a second or so; the training runs are in
:mod:`vaeproofs.claims.training_evidence`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from vaeproofs.claims.conditions import Condition
from vaeproofs.claims.context import EvidenceContext
from vaeproofs.claims.verdict import Evidence

if TYPE_CHECKING:
    from torch import Tensor

    from vaeproofs.testing import LossCheckReport


def _kl(mu_z: Tensor, logvar_z: Tensor) -> Tensor:
    """The KL term as a user's loss writes it (summed over the batch): the numeric layer's."""
    from vaeproofs.numeric.networks import gaussian_kl_standard

    return gaussian_kl_standard(mu_z, logvar_z).sum()


def _fixed_variance_matches(report: LossCheckReport, expected: float) -> bool:
    """Whether the checker's fixed variance equals ``expected`` within its round-off bound.

    s0^2 is a ratio of the fitted weights of sum (x - mu)^2 and of sum mu_z^2, so its
    relative error is at most the sum of theirs (first-order propagation of the
    checker's own coefficient bounds).
    """
    if not report.is_elbo or report.fixed_variance is None:
        return False
    c, cb = report.coefficients, report.coefficient_bounds
    rel = cb["sq_err"] / abs(c["sq_err"]) + cb["mu_z^2"] / abs(c["mu_z^2"])
    return abs(report.fixed_variance - expected) <= rel * abs(expected)


def squared_error_losses(ctx: EvidenceContext) -> list[Evidence]:
    """Run the loss checker on the two ways people write a mean-only VAE loss."""
    from vaeproofs.testing import check_gaussian_vae_loss

    def halved(x: Tensor, mu_x: Tensor, logvar_x: Tensor, mu_z: Tensor, logvar_z: Tensor
               ) -> Tensor:
        return 0.5 * ((x - mu_x) ** 2).sum() + _kl(mu_z, logvar_z)

    def plain(x: Tensor, mu_x: Tensor, logvar_x: Tensor, mu_z: Tensor, logvar_z: Tensor
               ) -> Tensor:
        return ((x - mu_x) ** 2).sum() + _kl(mu_z, logvar_z)

    r_half = check_gaussian_vae_loss(halved)
    r_plain = check_gaussian_vae_loss(plain)
    ok_half = bool(r_half.is_elbo and r_half.fixed_variance is not None)
    identity_half = _fixed_variance_matches(r_half, 1.0)
    identity_plain = _fixed_variance_matches(r_plain, 1.0)
    return [
        Evidence("numeric",
                 f"Loss checker on 0.5*sum((x - mu)^2) + KL: is an ELBO: {r_half.is_elbo}, fixed "
                 f"decoder variance s0^2 = {r_half.fixed_variance:.6g} (identity covariance: "
                 f"{identity_half}); residual {r_half.residual:.1e} (round-off bound "
                 f"{r_half.tolerance:.1e}).",
                 ok_half, Condition.MEAN_ONLY_SQUARED_ERROR,
                 data={"fixed_variance": r_half.fixed_variance, "residual": r_half.residual}),
        Evidence("numeric",
                 f"Loss checker on sum((x - mu)^2) + KL: is an ELBO: {r_plain.is_elbo}, fixed decoder "
                 f"variance s0^2 = {r_plain.fixed_variance:.6g}: identity covariance: {identity_plain}.",
                 identity_plain, Condition.PLAIN_SQUARED_ERROR_AS_IDENTITY,
                 data={"fixed_variance": r_plain.fixed_variance}),
    ]


def beta_vae_losses(ctx: EvidenceContext) -> list[Evidence]:
    """A beta-VAE on squared error with beta = 2 s0^2 is the fixed-variance ELBO with s0^2."""
    from vaeproofs.testing import check_gaussian_vae_loss

    out = []
    for s0_squared in (0.05, 0.5, 2.0):
        beta = 2.0 * s0_squared

        def loss(x: Tensor, mu_x: Tensor, logvar_x: Tensor, mu_z: Tensor, logvar_z: Tensor,
                 beta: float = beta) -> Tensor:
            return ((x - mu_x) ** 2).sum() + beta * _kl(mu_z, logvar_z)

        report = check_gaussian_vae_loss(loss)
        found = report.fixed_variance
        agrees = _fixed_variance_matches(report, s0_squared)
        out.append(Evidence(
            "numeric",
            f"Loss checker on sum((x - mu)^2) + {beta:g} * KL: an ELBO ({report.is_elbo}) of a "
            f"decoder with fixed variance s0^2 = {found:.6g} (expected beta/2 = {s0_squared:g}).",
            agrees, Condition.FIXED_VARIANCE, data={"beta": beta, "fixed_variance": found}))
    return out


def ppca_bounded_when_rank_exceeds_k(ctx: EvidenceContext) -> list[Evidence]:
    """Full-rank data: the linear VAE's ELBO never exceeds the pPCA maximum (finite)."""
    from vaeproofs.ppca_optimality import ppca_optimality

    r = ppca_optimality(draws=50 if ctx.quick else 200)
    return [Evidence(
        "numeric",
        f"Random rank-{r.dim} data (n = {r.n}, D = {r.dim}, k = {r.k}): pPCA gives sigma^2_ML = "
        f"{r.sigma2_ml:.4g} > 0 and L_max = {r.loglik:.6f}; the linear VAE's ELBO at the pPCA "
        f"solution with the exact posterior is {r.elbo_at_mle:.6f} (tight: {r.attained}), and the "
        f"best of {r.draws} random parameter sets reaches {r.best_random:.3f} <= L_max: "
        f"{r.never_exceeded}.",
        r.holds, Condition.LINEAR_SHARED, data={"loglik": r.loglik, "best_random": r.best_random})]


def ppca_wide_plateau(ctx: EvidenceContext) -> list[Evidence]:
    """k >= D, full-rank data (numeric): the value plateaus at the Gaussian maximum."""
    from vaeproofs.claims.symbolic_evidence import linear_rank_threshold_predicts_bounded
    from vaeproofs.ppca_optimality import wide_plateau

    r = wide_plateau(draws=50 if ctx.quick else 200)
    bounded = r.plateaus and r.never_exceeded
    values = ", ".join(f"{v:.6f} at sigma^2 = {s:.2e}" for s, v in zip(r.sigma2, r.loglik, strict=True))
    return [Evidence(
        "numeric",
        f"Random full-rank data, D = k = {r.dim}, n = {r.n}: with W = U (L - sigma^2 I)^(1/2) the "
        f"total log-likelihood (= the tight ELBO) is {values}: the Gaussian maximum "
        f"{r.gaussian_ml:.6f} (plateau: {r.plateaus}); the best of {r.draws} random parameter "
        f"sets reaches {r.best_random:.3f} (never above: {r.never_exceeded}). Bounded although "
        f"rank = D <= k.",
        bounded == linear_rank_threshold_predicts_bounded(r.dim, r.dim, r.k), Condition.LINEAR_SHARED,
        data={"gaussian_ml": r.gaussian_ml, "loglik": list(r.loglik), "best_random": r.best_random})]
