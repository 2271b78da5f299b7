"""The fits of one shape (B, D, K): ELBO forms only, every term, and the alternatives.

For each shape the loss's values are fitted by least squares:

1. with the ELBO forms only: span{family column, KL column, 1} for each ELBO family of the
   likelihood (Gaussian: learned variance sum[(x-mu)^2/v + log v], or fixed variance
   sum (x-mu)^2; Bernoulli: the binary cross-entropy).  Its residual is what no ELBO form
   explains; the loss is an ELBO (at that shape) when this residual is within the
   round-off bound and both weights are > 0.
2. with every term separately, planted mistakes included
   (:mod:`vaeproofs.testing.features`): the coefficients name the mistake.
3. when 2 leaves a residual beyond its bound: the alternative objectives of
   :mod:`vaeproofs.testing.alternatives`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import torch

from vaeproofs.testing.alternatives import AltFit, fit_alternatives
from vaeproofs.testing.design import (
    Design,
    LossFn,
    LossFunctionError,
    computed_in_float32,
    evaluate,
)
from vaeproofs.testing.features import KL_FAMILY, KL_TERMS, Likelihood, term_sums
from vaeproofs.testing.least_squares import OPS_PER_TERM, bounded_fit

__all__ = ["Fit", "fit_shape"]

_U32 = float(torch.finfo(torch.float32).eps) / 2.0


@dataclass(frozen=True)
class Fit:
    """The fits of one shape.  Residuals and tolerances are relative to ||y - mean y||_2."""

    shape: tuple[int, int, int]           # (B, D, K)
    coef: Mapping[str, float]             # full fit, per term
    coef_bound: Mapping[str, float]       # round-off bound on each coefficient
    family: str                           # the ELBO family with the smallest residual
    recon_weight: float                   # that family's weight on its column
    kl_weight: float                      # weight of sum(m^2 + s2 - log s2)
    recon_bound: float
    kl_bound: float
    const: float
    residual: float                       # of the ELBO-form fit
    tolerance: float                      # its round-off bound
    full_residual: float                  # of the fit with every term
    full_tolerance: float
    unit_roundoff: float                  # of the precision the loss computes in
    alternatives: Mapping[str, AltFit] = field(default_factory=dict)

    @property
    def full_explains(self) -> bool:
        return self.full_residual <= self.full_tolerance


def fit_shape(loss_fn: LossFn, des: Design, lik: Likelihood, dtype: torch.dtype) -> Fit:
    """Evaluate ``loss_fn`` on the design and fit it (module docstring)."""
    n = des.n
    evals = [evaluate(loss_fn, des, i, dtype) for i in range(n)]
    y = np.array([e.value for e in evals])
    again = evaluate(loss_fn, des, 0, dtype).value
    if again != y[0]:
        raise LossFunctionError(
            f"loss_fn is not deterministic: two calls on the same inputs gave {y[0]!r} and "
            f"{again!r}; pass a loss of fixed decoder/encoder outputs (no sampling inside)")
    u = max(e.unit_roundoff for e in evals)
    if u < _U32 and computed_in_float32(loss_fn, des):
        u = _U32
    b, d, k = des.batch_size, des.data_dim, des.latent_dim
    n_terms = b * (d + k) + OPS_PER_TERM

    rec_cols, rec_abs = term_sums(lik.recon, des.arrays)
    kl_cols, kl_abs = term_sums(KL_TERMS, des.arrays)
    ones = np.ones(n)
    F = np.column_stack([*rec_cols, *kl_cols, ones])
    A = np.column_stack([*rec_abs, *kl_abs, ones])
    names = lik.feature_names
    full = bounded_fit(F, A, y, n_terms=n_terms, unit_roundoff=u)
    idx = {nm: j for j, nm in enumerate(names)}

    def combo(weights: Mapping[str, float]) -> tuple[np.ndarray, np.ndarray]:
        col = sum(w * F[:, idx[nm]] for nm, w in weights.items())
        mag = sum(A[:, idx[nm]] for nm in weights)
        return np.asarray(col), np.asarray(mag)

    kl_col, kl_mag = combo(KL_FAMILY)
    elbo_fits = {}
    for fam, spec in lik.families.items():
        rec, rec_mag = combo(spec.weights)
        G = np.column_stack([rec, kl_col, ones])
        GA = np.column_stack([rec_mag, kl_mag, ones])
        elbo_fits[fam] = bounded_fit(G, GA, y, n_terms=n_terms, unit_roundoff=u,
                                     roundoff=full.roundoff)
    family = min(elbo_fits, key=lambda f: elbo_fits[f].residual)
    g = elbo_fits[family]
    spread = float(np.linalg.norm(y - y.mean()))
    spread = spread if spread > 0.0 else 1.0
    alternatives = {}
    if full.residual > full.tolerance:
        alternatives = fit_alternatives(des, lik, y, n_terms=n_terms, unit_roundoff=u)
    return Fit(shape=(b, d, k), coef=dict(zip(names, full.coef.tolist(), strict=True)),
               coef_bound=dict(zip(names, full.bound.tolist(), strict=True)), family=family,
               recon_weight=float(g.coef[0]), kl_weight=float(g.coef[1]),
               recon_bound=float(g.bound[0]), kl_bound=float(g.bound[1]),
               const=float(g.coef[2]), residual=g.residual / spread,
               tolerance=g.tolerance / spread, full_residual=full.residual / spread,
               full_tolerance=full.tolerance / spread, unit_roundoff=u,
               alternatives=alternatives)
