"""Losses that are not Gaussian/Bernoulli ELBOs but are known objectives: fitted, not guessed.

When no ELBO or planted-mistake term explains a loss, these alternative models are fitted
to the same evaluations with the same round-off bounds; one that leaves a residual within
its bound at every shape names the loss:

- ``sigma_vae``: c log(sum_{b,d} (x - mu_x)^2) + KL, logvar_x ignored.  The Gaussian NLL
  with ONE variance shared by all pixels and points, set to its optimum sigma^2 = MSE, is
  (B D / 2) log MSE + (B D / 2)(1 + log 2 pi): the "optimal sigma" sigma-VAE of Rybkin,
  Daniilidis & Levine, "Simple and Effective VAE Training with Calibrated Decoders", ICML
  2021.  ``sigma_vae_per_point``: one optimal variance per data point,
  sum_b (D / 2) log MSE_b.
- ``capacity``: an ELBO reconstruction + gamma |KL - C|: the controlled-capacity beta-VAE
  of Burgess et al. 2018, "Understanding disentangling in beta-VAE", arXiv 1804.03599.
  C is found exactly: for C between two consecutive designed KL values the signs of
  KL_i - C are fixed and the model is linear in (weights, gamma, gamma C).  A capacity
  outside the designed KL values is, on these inputs, a beta-VAE (|KL - C| is then linear).
- ``laplace`` variants: sum |x - mu_x| (fixed scale), or |x - mu_x| / b + log b with
  b = exp(logvar_x) or b = exp(logvar_x / 2): a Laplace (L1) reconstruction.
- ``bernoulli`` (only when x and mu_x lie in (0, 1)): binary cross-entropy of mu_x as a
  probability, -x log mu_x - (1 - x) log(1 - mu_x).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from vaeproofs.testing.design import Design
from vaeproofs.testing.features import KL_FAMILY, KL_TERMS, Likelihood, term_sums
from vaeproofs.testing.least_squares import BoundedFit, IllConditionedError, bounded_fit

__all__ = ["AltFit", "fit_alternatives"]

Columns = tuple[list[NDArray[np.float64]], list[NDArray[np.float64]], list[str]]


@dataclass(frozen=True)
class AltFit:
    """An alternative model's fit at one shape: coefficients by name, residual vs bound."""

    name: str
    coef: Mapping[str, float]
    bound: Mapping[str, float]
    explains: bool
    capacity: float | None = None   # C on sum(m^2 + s2 - log s2), for ``capacity``


def _log_total(des: Design) -> Columns:
    s = ((des.arrays["x"] - des.arrays["mu_x"]) ** 2).sum(axis=(1, 2))
    return [np.log(s)], [1.0 + np.abs(np.log(s))], ["log sum sq_err"]


def _log_per_point(des: Design) -> Columns:
    s = ((des.arrays["x"] - des.arrays["mu_x"]) ** 2).sum(axis=2)
    return [np.log(s).sum(axis=1)], [(1.0 + np.abs(np.log(s))).sum(axis=1)], \
        ["sum_b log sum_d sq_err"]


def _laplace(scale_power: float | None) -> Callable[[Design], Columns]:
    def columns(des: Design) -> Columns:
        e = np.abs(des.arrays["x"] - des.arrays["mu_x"])
        lv = des.arrays["logvar_x"]
        if scale_power is None:
            return [e.sum(axis=(1, 2))], [e.sum(axis=(1, 2))], ["abs_err"]
        v = e * np.exp(-scale_power * lv)
        return ([v.sum(axis=(1, 2)), lv.sum(axis=(1, 2))],
                [v.sum(axis=(1, 2)), np.abs(lv).sum(axis=(1, 2))], ["abs_err/scale", "logvar_x"])
    return columns


def _bce_of_mean(des: Design) -> Columns:
    x, mu = des.arrays["x"], des.arrays["mu_x"]
    v = -x * np.log(mu) - (1.0 - x) * np.log1p(-mu)
    return [v.sum(axis=(1, 2))], [np.abs(v).sum(axis=(1, 2))], ["bce(mu_x)"]


_GAUSSIAN_ALTERNATIVES: dict[str, Callable[[Design], Columns]] = {
    "sigma_vae": _log_total,
    "sigma_vae_per_point": _log_per_point,
    "laplace_fixed_scale": _laplace(None),
    "laplace_logvar_as_log_scale": _laplace(1.0),
    "laplace_scale_from_variance": _laplace(0.5),
}


def _kl_column(des: Design) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    cols, abs_cols = term_sums({nm: KL_TERMS[nm] for nm in KL_FAMILY}, des.arrays)
    w = list(KL_FAMILY.values())
    return (np.asarray(sum(wj * c for wj, c in zip(w, cols, strict=True)), dtype=np.float64),
            np.asarray(sum(abs_cols), dtype=np.float64))


def _family_columns(des: Design, lik: Likelihood) -> dict[str, tuple[NDArray[np.float64],
                                                                      NDArray[np.float64]]]:
    out = {}
    for fam, spec in lik.families.items():
        cols, abs_cols = term_sums({nm: lik.recon[nm] for nm in spec.weights}, des.arrays)
        w = list(spec.weights.values())
        out[fam] = (np.asarray(sum(wj * c for wj, c in zip(w, cols, strict=True)), dtype=np.float64),
                    np.asarray(sum(abs_cols), dtype=np.float64))
    return out


def _fit(name: str, cols: list[NDArray[np.float64]], abs_cols: list[NDArray[np.float64]],
         names: list[str], y: NDArray[np.float64], n_terms: int, u: float,
         capacity: float | None = None) -> AltFit | None:
    F = np.column_stack([*cols, np.ones_like(y)])
    A = np.column_stack([*abs_cols, np.ones_like(y)])
    try:
        fit: BoundedFit = bounded_fit(F, A, y, n_terms=n_terms, unit_roundoff=u)
    except IllConditionedError:
        return None
    keys = [*names, "const"]
    return AltFit(name, dict(zip(keys, fit.coef.tolist(), strict=True)),
                  dict(zip(keys, fit.bound.tolist(), strict=True)), fit.explains, capacity)


def _best_capacity(R: NDArray[np.float64], K: NDArray[np.float64], y: NDArray[np.float64]
                   ) -> float | None:
    """The C minimising ||y - [R, |K - C|, 1] w||, over C strictly inside K's range."""
    ks = np.sort(K)
    best, best_c = np.inf, None
    ones = np.ones_like(y)
    candidates: list[float] = list(ks[1:-1])
    for j in range(1, len(ks)):
        s = np.where(K >= ks[j], 1.0, -1.0)
        G = np.column_stack([R, s * K, s, ones])
        w, *_ = np.linalg.lstsq(G / np.linalg.norm(G, axis=0), y, rcond=None)
        w = w / np.linalg.norm(G, axis=0)
        g, h = w[-3], w[-2]
        if g != 0.0 and ks[j - 1] < -h / g < ks[j]:
            candidates.append(float(-h / g))
    for c in candidates:
        G = np.column_stack([R, np.abs(K - c), ones])
        w, *_ = np.linalg.lstsq(G, y, rcond=None)
        r = float(np.linalg.norm(y - G @ w))
        if r < best:
            best, best_c = r, c
    return best_c


def fit_alternatives(des: Design, lik: Likelihood, y: NDArray[np.float64], *, n_terms: int,
                     unit_roundoff: float) -> dict[str, AltFit]:
    """Fit every alternative model that applies to ``lik`` and the design's data range."""
    kl, kl_abs = _kl_column(des)
    out: dict[str, AltFit] = {}
    models = dict(_GAUSSIAN_ALTERNATIVES) if lik.name == "gaussian" else {}
    if lik.name == "gaussian":
        mu = des.arrays["mu_x"]
        x = des.arrays["x"]
        if np.all((mu > 0.0) & (mu < 1.0)) and np.all((x >= 0.0) & (x <= 1.0)):
            models["bernoulli"] = _bce_of_mean
    for name, columns in models.items():
        cols, abs_cols, names = columns(des)
        fit = _fit(name, [*cols, kl], [*abs_cols, kl_abs], [*names, "kl"], y, n_terms,
                   unit_roundoff)
        if fit is not None:
            out[name] = fit
    for fam, (rec, rec_abs) in _family_columns(des, lik).items():
        c = _best_capacity(rec[:, None], kl, y)
        if c is None:
            continue
        fit = _fit(f"capacity_{fam}", [rec, np.abs(kl - c)], [rec_abs, kl_abs + abs(c)],
                   ["recon", "|kl - C|"], y, n_terms, unit_roundoff, capacity=c)
        if fit is not None:
            out[fit.name] = fit
    return out
