"""The checker's report, and how it is read off the fits of all shapes.

Weights of the two parts at a shape.  For an ELBO they come from the ELBO-form fit;
otherwise from the full fit, and only where that part alone has an ELBO pattern (possibly
with the wrong sign), else nan.  With the KL column sum(m^2 + s2 - log s2) = 2 KL + B K::

    learned Gaussian: loss = c_R sum[(x-mu)^2/v + log v] + c_K column + c0
                      scale = 2 c_R, beta = c_K / c_R
    fixed variance:   loss = c_R sum (x-mu)^2 + c_K column + c0
                      scale = 2 c_K, beta = 1, s0^2 = c_K / c_R
    Bernoulli:        loss = c_R sum[-x log p - (1-x) log(1-p)] + c_K column + c0
                      scale = c_R, beta = 2 c_K / c_R
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

from vaeproofs.testing.describe import describe_elbo, describe_failure
from vaeproofs.testing.diagnosis import Coefs, family_sign
from vaeproofs.testing.features import KL_FAMILY, KL_TERMS, Likelihood
from vaeproofs.testing.fit import Fit
from vaeproofs.testing.reductions import AXIS_PARAMS, exponents, leading_term, reduction_text

__all__ = ["LossCheckReport", "build_report"]


@dataclass(frozen=True)
class LossCheckReport:
    """What :func:`~vaeproofs.testing.check_gaussian_vae_loss` (or the Bernoulli check) found.

    Attributes:
        is_elbo: the loss equals scale * (negative beta-ELBO) + constant with scale > 0
            and beta > 0 at every tested shape (a fixed-variance decoder counts, see
            ``fixed_variance``).  ``beta`` says whether it is the plain ELBO (1) or a
            KL-weighted one (a beta-VAE, Higgins et al., ICLR 2017).
        beta: weight of the KL relative to the negative log-likelihood at the reference
            shape (1.0 for a true ELBO; 0 when the KL is missing; negative for a sign error
            in the KL; nan when the parts do not have the ELBO pattern).  For a
            fixed-variance decoder beta = 1 and the weight goes into ``fixed_variance``.
        beta_bound: round-off bound of ``beta`` (from the coefficients' bounds).
        scale: the loss's multiple of the negative ELBO (summed over the batch, with all
            constants, natural log) at the reference shape.
        constant: the additive constant at the reference shape (loss minus scale times the
            full negative beta-ELBO, including log(2 pi) and the KL's -1/2 per latent).
        residual: size of what no ELBO form explains, relative: ||r||_2 / ||y - mean y||_2
            of the ELBO-form fit, worst (relative to its bound) over the tested shapes.
            The diagnosis quotes this same number.
        tolerance: the round-off bound on ``residual`` at that shape.
        diagnosis: a short text naming the likely mistake or the objective found, or
            describing the ELBO found.
        reduction: how the reconstruction and the KL are reduced over batch, pixels and
            latents (sum or mean), as seen from the weights' scaling across shapes.
        beta_depends_on: the shape parameters ("batch_size", "data_dim", "latent_dim")
            across which beta (or the fixed variance) changes beyond its round-off bound;
            empty when it is a constant or when beta is undefined (nan).
        fixed_variance: s0^2 of a loss that ignores ``logvar_x`` (plain squared error),
            at the reference shape; ``None`` when the loss uses ``logvar_x``.
        reference_shape: (batch size, data dimension D, latent dimension K) at which
            ``beta``, ``scale``, ``constant``, ``fixed_variance`` and ``coefficients``
            are reported.
        coefficients: the fitted weight of every term in :data:`FEATURE_NAMES` (or
            :data:`BERNOULLI_FEATURE_NAMES`) at the reference shape.
        coefficient_bounds: the round-off bound of each of those weights.
        likelihood: ``"gaussian"`` or ``"bernoulli"``: the decoder family checked.
        explained_by: for a loss that is no ELBO but a known other objective, its key:
            ``"sigma_vae"``, ``"sigma_vae_per_point"``, ``"capacity"``, ``"laplace"`` or
            ``"bernoulli"``; else ``None``.
    """

    is_elbo: bool
    beta: float
    beta_bound: float
    scale: float
    constant: float
    residual: float
    tolerance: float
    diagnosis: str
    reduction: str
    beta_depends_on: tuple[str, ...]
    fixed_variance: float | None
    reference_shape: tuple[int, int, int]
    coefficients: Mapping[str, float] = field(repr=False)
    coefficient_bounds: Mapping[str, float] = field(repr=False)
    likelihood: str = "gaussian"
    explained_by: str | None = None

    def __str__(self) -> str:
        verdict = "negative ELBO" if self.is_elbo else "NOT a negative ELBO"
        return (f"{verdict} (beta = {self.beta:.6g}, scale = {self.scale:.6g}, residual "
                f"{self.residual:.3g} vs tolerance {self.tolerance:.3g}); {self.diagnosis}; "
                f"{self.reduction}")


@dataclass(frozen=True)
class _Reading:
    """beta, scale, s0^2 and constant of one shape, with round-off bounds."""

    fixed: bool
    beta: float
    beta_bound: float
    scale: float
    constant: float
    fixed_variance: float | None
    fixed_variance_bound: float


def _pattern_weight(q: Coefs, weights: Mapping[str, float], others: Sequence[str]
                    ) -> tuple[float, float] | None:
    """(weight, bound) when the terms have the ``weights`` pattern and ``others`` are zero;
    (0, 0) when every term is zero; None otherwise."""
    if any(q.nz(nm) for nm in others):
        return None
    first = next(iter(weights))
    if family_sign(q, weights) != 0:
        w = weights[first]
        return q.c[first] / w, q.b[first] / abs(w)
    if not any(q.nz(nm) for nm in weights):
        return 0.0, 0.0
    return None


def _read(fit: Fit, lik: Likelihood, elbo: bool) -> _Reading:
    b, d, k = fit.shape
    nan = math.nan
    family: str | None = fit.family
    if elbo:
        c_r, c_r_bd, c_k, c_k_bd, c0 = (fit.recon_weight, fit.recon_bound, fit.kl_weight,
                                        fit.kl_bound, fit.const)
    elif not fit.full_explains:
        return _Reading(False, nan, nan, nan, nan, None, nan)
    else:
        q = Coefs(fit.coef, fit.coef_bound)
        c0 = fit.coef["const"]
        c_r, c_r_bd, family = nan, nan, None
        for fam, fam_spec in lik.families.items():
            got = _pattern_weight(q, fam_spec.weights, [nm for nm in lik.recon
                                                        if nm not in fam_spec.weights])
            if got is not None and got != (0.0, 0.0):
                (c_r, c_r_bd), family = got, fam
                break
            if got == (0.0, 0.0):
                c_r, c_r_bd = got
        kl = _pattern_weight(q, KL_FAMILY, [nm for nm in KL_TERMS if nm not in KL_FAMILY])
        c_k, c_k_bd = kl if kl is not None else (nan, nan)
    spec = lik.families[family] if family is not None else None
    if spec is not None and spec.fixed_variance:
        fv = c_k / c_r if (c_k != 0.0 and math.isfinite(c_k) and c_r != 0.0) else None
        fv_bound = (abs(fv) * (c_r_bd / abs(c_r) + c_k_bd / abs(c_k))
                    if fv is not None else nan)
        beta = (1.0 if c_k != 0.0 else 0.0) if math.isfinite(c_k) else nan
        recon_const = (0.5 * b * d * math.log(2.0 * math.pi * fv)
                       if fv is not None and fv > 0 else nan)
        scale = 2.0 * c_k
        return _Reading(True, beta, 0.0, scale, c0 - scale * (recon_const - 0.5 * b * k * beta),
                        fv, fv_bound)
    learned = next(s for s in lik.families.values() if not s.fixed_variance)
    alpha = learned.nll_per_column
    scale = c_r / alpha
    beta = 2.0 * alpha * c_k / c_r if c_r != 0.0 else nan
    beta_bound = (abs(beta) * (c_r_bd / abs(c_r) + (c_k_bd / abs(c_k) if c_k else 0.0))
                  if c_r != 0.0 else nan)
    recon_const = learned.const_per_element * b * d
    return _Reading(False, beta, beta_bound, scale,
                    c0 - scale * (recon_const - 0.5 * b * k * beta), None, nan)


def _changes(a: _Reading, b: _Reading) -> bool:
    """Whether beta (or s0^2) differs between two shapes beyond both round-off bounds."""
    if a.fixed != b.fixed:
        return False
    if a.fixed:
        if a.fixed_variance is None or b.fixed_variance is None:
            return False
        return (abs(a.fixed_variance - b.fixed_variance)
                > a.fixed_variance_bound + b.fixed_variance_bound)
    if not (math.isfinite(a.beta) and math.isfinite(b.beta)):
        return False
    return abs(a.beta - b.beta) > a.beta_bound + b.beta_bound


def _depends(fits: Sequence[Fit], readings: Sequence[_Reading]) -> tuple[str, ...]:
    """Shape parameters whose change alone (from the reference shape) changes beta."""
    ref_shape, ref = fits[0].shape, readings[0]
    if not math.isfinite(ref.beta):
        return ()
    out = []
    for j, param in enumerate(AXIS_PARAMS):
        for fit, reading in zip(fits[1:], readings[1:], strict=True):
            differ = [i for i in range(3) if fit.shape[i] != ref_shape[i]]
            if differ == [j] and _changes(ref, reading):
                out.append(param)
                break
    return tuple(out)


def _reduction(fits: Sequence[Fit], lik: Likelihood) -> str:
    ref = fits[0]
    shapes = [f.shape for f in fits]
    parts = []
    for names, term, axes in ((list(lik.recon), "reconstruction", (0, 1)),
                              (list(KL_TERMS), "KL", (0, 2))):
        lead = leading_term(ref.coef, ref.coef_bound, names)
        expo = ({} if lead is None else
                exponents(shapes, [f.coef[lead] for f in fits],
                          [f.coef_bound[lead] for f in fits]))
        parts.append(reduction_text(expo, term, axes))
    return "; ".join(parts)


def build_report(fits: Sequence[Fit], lik: Likelihood) -> LossCheckReport:
    """Combine the fits of all shapes (the first is the reference shape) into a report."""
    ref = fits[0]
    worst = max(fits, key=lambda f: f.residual / f.tolerance)
    weights_positive = all(f.recon_weight > f.recon_bound and f.kl_weight > f.kl_bound
                           for f in fits)
    same_family = len({f.family for f in fits}) == 1
    is_elbo = all(f.residual <= f.tolerance for f in fits) and weights_positive and same_family
    readings = [_read(f, lik, is_elbo) for f in fits]
    r = readings[0]
    depends = _depends(fits, readings)
    explained_by = None
    if is_elbo:
        diagnosis = describe_elbo(lik, r.beta, r.beta_bound, r.fixed_variance, depends)
    else:
        diagnosis, explained_by = describe_failure(fits, worst, lik,
                                                   weights_positive=weights_positive,
                                                   same_family=same_family)
    return LossCheckReport(
        is_elbo=is_elbo, beta=r.beta, beta_bound=r.beta_bound, scale=r.scale,
        constant=r.constant, residual=worst.residual, tolerance=worst.tolerance,
        diagnosis=diagnosis, reduction=_reduction(fits, lik), beta_depends_on=depends,
        fixed_variance=r.fixed_variance, reference_shape=ref.shape,
        coefficients=MappingProxyType(dict(ref.coef)),
        coefficient_bounds=MappingProxyType(dict(ref.coef_bound)),
        likelihood=lik.name, explained_by=explained_by)
