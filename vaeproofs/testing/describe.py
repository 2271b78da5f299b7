"""The diagnosis text: an ELBO described, or a failure named from the fits.

A failure is named, in order, by: the alternative objective that the fits single out
(:mod:`vaeproofs.testing.alternatives`; rows of :data:`ALTERNATIVE_ROWS`), the whole-loss
sign error, then the reconstruction and KL tables of :mod:`vaeproofs.testing.diagnosis`.
Every number quoted is the report's own (the residual quoted is the report's
``residual``, against its ``tolerance``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from vaeproofs.testing.alternatives import AltFit
from vaeproofs.testing.diagnosis import (
    BERNOULLI_RECON_TABLE,
    GAUSSIAN_RECON_TABLE,
    KL_TABLE,
    Coefs,
    family_sign,
    run_table,
)
from vaeproofs.testing.features import KL_FAMILY, Likelihood
from vaeproofs.testing.fit import Fit

__all__ = ["ALTERNATIVE_ROWS", "describe_elbo", "describe_failure"]

Shape = tuple[int, int, int]


def _sigma_vae(per_point: bool) -> Callable[[AltFit, Shape, Likelihood], str]:
    def message(a: AltFit, shape: Shape, lik: Likelihood) -> str:
        b, d, _ = shape
        w = a.coef["sum_b log sum_d sq_err" if per_point else "log sum sq_err"]
        # Profiled NLL: (n/2) log(sum sq_err) + const with n = D (per point) or B D.
        beta = a.coef["kl"] * (d if per_point else b * d) / w
        who = "each data point" if per_point else "all pixels and points"
        return (f"the reconstruction is {w:.4g} log(sum (x - mu_x)^2"
                f"{' over each point' if per_point else ''}) at shape (B, D, K) = {shape} "
                f"and ignores logvar_x: the "
                f"sigma-VAE's optimal-sigma loss (Rybkin et al. 2021, 'Simple and Effective "
                f"VAE Training with Calibrated Decoders'), the Gaussian NLL with one variance "
                f"for {who} set to its optimum sigma^2 = MSE, (D/2) log MSE per point; "
                f"legitimate as a profiled objective, but not a fixed-parameter Gaussian ELBO, "
                f"so it is explained by no Gaussian-VAE term of fixed parameters (read as "
                f"one, the KL weight is beta = {beta:.4g})")
    return message


def _capacity(a: AltFit, shape: Shape, lik: Likelihood) -> str:
    b, _, k = shape
    fam = lik.families[a.name.removeprefix("capacity_")]
    alpha = 1.0 if fam.fixed_variance else fam.nll_per_column
    # g |sum(m^2 + s2 - log s2) - C| = 2 g |KL - C_kl| with C_kl = (C - B K) / 2.
    gamma = 2.0 * a.coef["|kl - C|"] * alpha / a.coef["recon"]
    assert a.capacity is not None, "a capacity reading always carries its fitted C"
    c_kl = (float(a.capacity) - b * k) / 2.0
    against = "sum (x - mu_x)^2" if fam.fixed_variance else "the negative log-likelihood"
    return (f"at shape (B, D, K) = {shape} the KL enters as gamma |KL - C| with "
            f"gamma = {gamma:.4g} (relative to "
            f"{against}) and C = {c_kl:.4g} nats on the KL summed over the batch "
            f"({c_kl / b:.4g} per point): the capacity-annealed beta-VAE objective of "
            f"Burgess et al. 2018 (arXiv 1804.03599, controlled capacity increase); it is explained by no "
            f"{lik.name.capitalize()}-VAE term: below the capacity it rewards a larger KL, "
            f"so for a fixed C it is not an ELBO")


def _laplace(scale: str) -> Callable[[AltFit, Shape, Likelihood], str]:
    def message(a: AltFit, shape: Shape, lik: Likelihood) -> str:
        return (f"the reconstruction is a Laplace (L1) negative log-likelihood, "
                f"|x - mu_x|{scale}: explained by no Gaussian-VAE term (a Laplace decoder's "
                f"ELBO, not a Gaussian one)")
    return message


def _bernoulli(a: AltFit, shape: Shape, lik: Likelihood) -> str:
    return ("the reconstruction is the binary cross-entropy of mu_x, -x log mu_x - (1 - x) "
            "log(1 - mu_x): explained by no Gaussian-VAE term; it is a Bernoulli decoder, "
            "check it with check_bernoulli_vae_loss(loss_fn, parameterization='probs')")


@dataclass(frozen=True)
class AltRow:
    """An alternative objective: the fit names it matches and its message."""

    key: str
    fit_names: tuple[str, ...]
    message: Callable[[AltFit, Shape, Likelihood], str]


ALTERNATIVE_ROWS: tuple[AltRow, ...] = (
    AltRow("sigma_vae", ("sigma_vae",), _sigma_vae(per_point=False)),
    AltRow("sigma_vae_per_point", ("sigma_vae_per_point",), _sigma_vae(per_point=True)),
    AltRow("capacity", ("capacity_learned", "capacity_fixed", "capacity_bernoulli"),
           _capacity),
    AltRow("laplace", ("laplace_fixed_scale",), _laplace(" with a fixed scale")),
    AltRow("laplace", ("laplace_logvar_as_log_scale",), _laplace(" / b + log b, b = exp(logvar_x)")),
    AltRow("laplace", ("laplace_scale_from_variance",),
           _laplace(" / b + log b, b proportional to exp(logvar_x / 2)")),
    AltRow("bernoulli", ("bernoulli",), _bernoulli),
)


def _alternative(failing: Sequence[Fit], src: Fit, lik: Likelihood) -> tuple[str, str] | None:
    """The first alternative that explains the loss at every shape the terms do not."""
    for row in ALTERNATIVE_ROWS:
        for name in row.fit_names:
            if all(name in f.alternatives and f.alternatives[name].explains for f in failing):
                return row.key, row.message(src.alternatives[name], src.shape, lik)
    return None


def describe_failure(fits: Sequence[Fit], worst: Fit, lik: Likelihood, *,
                     weights_positive: bool, same_family: bool) -> tuple[str, str | None]:
    """(diagnosis, key of the alternative objective found or None) of a non-ELBO loss."""
    who = f"{lik.name.capitalize()}-VAE"
    where = f"at shape (B, D, K) = {worst.shape}"
    failing = [f for f in fits if not f.full_explains]
    if failing:
        found = _alternative(failing, worst if worst in failing else failing[0], lik)
        if found is not None:
            return found[1], found[0]
        return (f"explained by no {who} term {where}: residual {worst.residual:.3g} vs "
                f"round-off bound {worst.tolerance:.3g}, and no planted-mistake term nor a "
                f"known alternative (sigma-VAE, capacity, Laplace) fits either (e.g. a "
                f"variance such as softplus(logvar_x), or another likelihood)"), None
    q = Coefs(worst.coef, worst.coef_bound)
    recon_signs = [family_sign(q, fam.weights) for fam in lik.families.values()]
    if -1 in recon_signs and family_sign(q, KL_FAMILY) == -1:
        return ("sign error: the loss is +ELBO (scale < 0); minimising it maximises the "
                "negative ELBO; return the negative ELBO"), None
    table = GAUSSIAN_RECON_TABLE if lik.name == "gaussian" else BERNOULLI_RECON_TABLE
    issues = run_table(table, q) + run_table(KL_TABLE, q)
    if not issues and not same_family:
        issues.append("the loss uses logvar_x at some shapes and ignores it at others")
    if not issues and not weights_positive:
        issues.append("a term's weight is not positive")
    if not issues:
        issues.append(f"residual {worst.residual:.3g} exceeds the round-off bound "
                      f"{worst.tolerance:.3g} {where}")
    return "; ".join(issues), None


def describe_elbo(lik: Likelihood, beta: float, beta_bound: float,
                  fixed_variance: float | None, depends: tuple[str, ...]) -> str:
    """Describe a loss found to be a negative (beta-)ELBO."""
    if fixed_variance is not None:
        # -ELBO = sum (x - mu)^2 / (2 s0^2) + KL + const; times s0^2 it is
        # sum (x - mu)^2 / 2 + s0^2 KL, times 2 s0^2 it is sum (x - mu)^2 + 2 s0^2 KL.
        v = fixed_variance
        text = (f"fixed-variance decoder: logvar_x is ignored; the loss is the negative ELBO "
                f"of N(mu_x, s0^2 I) with s0^2 = {v:.6g}; equivalently a beta-VAE with "
                f"beta = s0^2 = {v:.6g} on (x - mu)^2 / 2, i.e. beta = 2 s0^2 = {2.0 * v:.6g} "
                f"on the unhalved squared error (x - mu)^2")
        what = "the implied variance s0^2"
    elif abs(beta - 1.0) <= beta_bound:
        text = ("negative ELBO of a Gaussian VAE with a learned diagonal decoder variance"
                if lik.name == "gaussian" else
                "negative ELBO of a Bernoulli VAE (binary cross-entropy plus the Gaussian KL)")
        what = "beta"
    else:
        text = (f"beta-VAE: the KL is weighted by beta = {beta:.6g} relative to the "
                f"reconstruction term")
        what = "beta"
        if abs(beta - 2.0) <= beta_bound:
            text += (" (if a plain VAE was meant: beta = 2 is what a KL missing its 1/2 "
                     "gives)")
        elif abs(beta - 0.5) <= beta_bound and lik.name == "gaussian":
            text += (" (if a plain VAE was meant: beta = 1/2 is what a Gaussian negative "
                     "log-likelihood missing its 1/2 gives)")
    if depends:
        text += (f"; {what} changes with {', '.join(depends)} because the reconstruction "
                 f"and the KL are reduced differently (see reduction)")
    return text
